#!/usr/bin/env bats
# The man page: clean mdoc, and in step with 'smtpd --help' in both
# directions, down to the argument names and the defaults.

load helpers

setup() {
	common_setup
	PAGE="$REPO/smtpd.8"
	"$SMTPD" --help >"$BATS_TEST_TMPDIR/help"
}
teardown() { common_teardown; }

# help_options - every long option that --help names, one a line.
help_options() {
	grep -oE -- '--[a-z][a-z-]*' "$BATS_TEST_TMPDIR/help" | sort -u
}

# page_options - every option the page marks up with Fl, one a line.
page_options() {
	grep -E '^\.' "$PAGE" | grep -oE '(^\.| )Fl -[a-z][a-z-]*' |
		sed 's/.*Fl -/--/' | sort -u
}

# rendered - the page as text, one line per paragraph, no overstrike.
rendered() {
	mandoc -Tascii -O width=1000 "$PAGE" | sed 's/.\x08//g'
}

# Style messages are left out: "referenced manual not found" depends on
# which other pages the machine has.  Anything from a warning up is a
# fault in the page.
@test "mandoc -Tlint finds no warning or error in the page" {
	run mandoc -Tlint -W warning "$PAGE"
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$output" ""
}

@test "every option in --help has its entry in the page" {
	local opt missing=""
	[[ $(help_options | wc -l) -ge 5 ]]
	for opt in $(help_options); do
		grep -qE "^\.It Fl ${opt#-}( |$)" "$PAGE" || missing+=" $opt"
	done
	if [[ -n $missing ]]; then
		echo "not documented in smtpd.8 (.It Fl -name):$missing"
		return 1
	fi
}

@test "every option the page names exists in --help" {
	local opt unknown=""
	[[ -n $(page_options) ]]
	for opt in $(page_options); do
		help_options | grep -qx -- "$opt" || unknown+=" $opt"
	done
	if [[ -n $unknown ]]; then
		echo "in smtpd.8 but not in smtpd --help:$unknown"
		return 1
	fi
}

# For "  --max-size BYTES   message size limit (default 26214400)" the
# page's entry must read "--max-size bytes" and mention 26214400.
@test "argument names and defaults agree between --help and the page" {
	local line opt arg default entry text bad="" checked=0
	text=$(rendered)
	while IFS= read -r line; do
		[[ $line =~ ^\ +(--[a-z][a-z-]*)(\ ([^ ]+))?\ \ + ]] || continue
		opt=${BASH_REMATCH[1]}
		arg=${BASH_REMATCH[3]}
		# The entry: its tag line, then the indented lines up to the
		# next option's tag.
		entry=$(awk -v tag="$opt${arg:+ ${arg,,}}" '
			index($0, "     " tag) == 1 {
				rest = substr($0, length(tag) + 6)
				if (rest == "" || rest ~ /^  /) { on = 1; print; next }
			}
			on && /^     --/ { exit }
			on && /^     [^ ]/ { exit }
			on { print }' <<<"$text")
		if [[ -z $entry ]]; then
			bad+=$'\n'"  no entry headed '$opt${arg:+ ${arg,,}}'"
			continue
		fi
		if [[ $line =~ \(default\ ([^\):]+)\) ]]; then
			default=${BASH_REMATCH[1]}
			[[ $entry == *"$default"* ]] ||
				bad+=$'\n'"  $opt: the default '$default' is not in its entry"
		fi
		checked=$((checked + 1))
	done <"$BATS_TEST_TMPDIR/help"
	if [[ -n $bad ]]; then
		echo "smtpd.8 and smtpd --help disagree:$bad"
		return 1
	fi
	[[ $checked -ge 5 ]]
}
