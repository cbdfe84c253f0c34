#!/usr/bin/env bats
# The POP3 units: they load cleanly, listen where POP3 lives (110 with
# STLS, 995 behind mailtls --implicit), and run pop3d in at least the
# sandbox of smtpd@.service; the STLS drop-in; and the inetd line.

load helpers

setup() {
	common_setup
	UNITS="$BATS_TEST_TMPDIR/units"
	mkdir -p "$UNITS"
	cp "$REPO/pop3.socket" "$REPO/pop3@.service" "$REPO/pop3s.socket" "$REPO/pop3s@.service" \
		"$REPO/smtpd-checkpointer.service" "$UNITS/"
	# verify checks that ExecStart's program exists: this build's.
	sed -i "s|/usr/local/sbin/\([a-z0-9]*\) |$REPO/\1 |g" \
		"$UNITS/pop3@.service" "$UNITS/pop3s@.service" "$UNITS/smtpd-checkpointer.service"
}
teardown() { common_teardown; }

# settings FILE SECTION - the KEY=value lines of [SECTION], comments out.
settings() {
	awk -v sec="[$2]" '
		/^[ \t]*([#;]|$)/ { next }
		/^\[/ { here = ($0 == sec); next }
		here { print }' "$1"
}

@test "systemd-analyze verify accepts the four units without a word" {
	run systemd-analyze verify --man=no "$UNITS/pop3.socket" "$UNITS/pop3@.service" \
		"$UNITS/pop3s.socket" "$UNITS/pop3s@.service"
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

@test "pop3s.socket: port 995; pop3s@.service runs pop3d behind mailtls --implicit with the key as a credential" {
	assert_equal "$(settings "$REPO/pop3s.socket" Socket | grep -E '^(ListenStream|Accept|TriggerLimitBurst)=' | sort)" \
		"Accept=yes
ListenStream=995
TriggerLimitBurst=0"
	assert_equal "$(settings "$REPO/pop3s@.service" Service | grep -E '^(ExecStart|LoadCredential)=')" \
		"LoadCredential=tls-cert:/etc/smtpd/tls/cert.pem
LoadCredential=tls-key:/etc/smtpd/tls/key.pem
ExecStart=/usr/local/sbin/mailtls --implicit -- /usr/local/sbin/pop3d --db /var/lib/smtpd/mail.db"
	# Apart from those, the same unit as pop3@.service.
	diff <(settings "$REPO/pop3@.service" Service | grep -v '^ExecStart=') \
		<(settings "$REPO/pop3s@.service" Service | grep -Ev '^(ExecStart|LoadCredential)=')
}

@test "the STLS drop-in passes the credentials to pop3d as --tls-cert and --tls-key" {
	assert_equal "$(settings "$REPO/pop3-tls.conf" Service | grep ^ExecStart=)" \
		"ExecStart=
ExecStart=/usr/local/sbin/pop3d --db /var/lib/smtpd/mail.db --tls-cert %d/tls-cert --tls-key %d/tls-key"
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
