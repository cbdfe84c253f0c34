#!/usr/bin/env bats
# The man pages: clean mdoc, and in step with each program's --help in
# both directions, down to the argument names and the defaults.  Each
# test runs for every program in PROGRAMS (smtpd.8, pop3d.8).

load helpers

POP3D="${POP3D:-$REPO/pop3d}"
PROGRAMS=(smtpd pop3d)

setup() {
	common_setup
}

# use PROGRAM - point PAGE and the help text at PROGRAM.
use() {
	local bin
	PROG=$1
	PAGE="$REPO/$1.8"
	case $1 in
	smtpd) bin=$SMTPD ;;
	pop3d) bin=$POP3D ;;
	esac
	"$bin" --help >"$BATS_TEST_TMPDIR/help"
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
@test "mandoc -Tlint finds no warning or error in the pages" {
	for p in "${PROGRAMS[@]}"; do
		use "$p"
		run mandoc -Tlint -W warning "$PAGE"
		echo "$output"
		assert_equal "$status" 0
		assert_equal "$output" ""
	done
}

@test "every option in --help has its entry in the page" {
	local opt missing="" p
	for p in "${PROGRAMS[@]}"; do
		use "$p"
		[[ $(help_options | wc -l) -ge 5 ]]
		for opt in $(help_options); do
			grep -qE "^\.It Fl ${opt#-}( |$)" "$PAGE" || missing+=" $PROG:$opt"
		done
	done
	if [[ -n $missing ]]; then
		echo "not documented in the page (.It Fl -name):$missing"
		return 1
	fi
}

@test "every option the page names exists in --help" {
	local opt unknown="" p
	for p in "${PROGRAMS[@]}"; do
		use "$p"
		[[ -n $(page_options) ]]
		for opt in $(page_options); do
			help_options | grep -qx -- "$opt" || unknown+=" $PROG:$opt"
		done
	done
	if [[ -n $unknown ]]; then
		echo "in the page but not in --help:$unknown"
		return 1
	fi
}

# For "  --max-size BYTES   message size limit (default 26214400)" the
# page's entry must read "--max-size bytes" and mention 26214400.
# options_agree - the check below for the program use chose.
options_agree() {
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
		echo "$PROG.8 and $PROG --help disagree:$bad"
		return 1
	fi
	[[ $checked -ge 5 ]]
}

@test "argument names and defaults agree between --help and the page" {
	local p
	for p in "${PROGRAMS[@]}"; do
		use "$p"
		options_agree
	done
}
