#!/usr/bin/env bats
# The POP3 units: they load cleanly, listen where POP3 lives, and run
# pop3d in at least the sandbox of smtpd@.service; and the inetd line.

load helpers

setup() {
	common_setup
	UNITS="$BATS_TEST_TMPDIR/units"
	mkdir -p "$UNITS"
	cp "$REPO/pop3.socket" "$REPO/pop3@.service" "$REPO/smtpd-checkpointer.service" "$UNITS/"
	# verify checks that ExecStart's program exists: this build's.
	sed -i "s|^ExecStart=/usr/local/sbin/\([a-z0-9]*\) |ExecStart=$REPO/\1 |" \
		"$UNITS/pop3@.service" "$UNITS/smtpd-checkpointer.service"
}
teardown() { common_teardown; }

# settings FILE SECTION - the KEY=value lines of [SECTION], comments out.
settings() {
	awk -v sec="[$2]" '
		/^[ \t]*([#;]|$)/ { next }
		/^\[/ { here = ($0 == sec); next }
		here { print }' "$1"
}

@test "systemd-analyze verify accepts pop3.socket and pop3@.service without a word" {
	run systemd-analyze verify --man=no "$UNITS/pop3.socket" "$UNITS/pop3@.service"
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$output" ""
}

@test "pop3.socket: port 110, one pop3d per connection, a per-source limit, no trigger limit" {
	assert_equal "$(settings "$REPO/pop3.socket" Socket | grep -E '^(ListenStream|Accept|TriggerLimitBurst)=' | sort)" \
		"Accept=yes
ListenStream=110
TriggerLimitBurst=0"
	settings "$REPO/pop3.socket" Socket | grep -qE '^MaxConnectionsPerSource=[0-9]+$'
	assert_equal "$(settings "$REPO/pop3@.service" Service | grep ^ExecStart=)" \
		"ExecStart=/usr/local/sbin/pop3d --db /var/lib/smtpd/mail.db"
}

@test "pop3@.service has every setting of smtpd@.service's sandbox, with the same value" {
	local line missing=""
	while IFS= read -r line; do
		# Its own program and bounds; the calls only smtpd's in-process
		# sandbox (sandbox.c) makes.
		case $line in
		ExecStart=* | RuntimeMaxSec=* | MemoryMax=* | SystemCallFilter=landlock_*) continue ;;
		esac
		settings "$REPO/pop3@.service" Service | grep -qxF -- "$line" || missing+=$'\n  '"$line"
	done < <(settings "$REPO/smtpd@.service" Service)
	if [[ -n $missing ]]; then
		echo "in smtpd@.service, not in pop3@.service:$missing"
		return 1
	fi
}

@test "inetd.conf.example's pop3d line names the installed program and the database" {
	grep -qxF '#pop3	stream	tcp	nowait	smtpd	/usr/local/sbin/pop3d	pop3d --db /var/lib/smtpd/mail.db' \
		"$REPO/inetd.conf.example"
}
