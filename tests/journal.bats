#!/usr/bin/env bats
# Logging to the journal: smtpd speaks journald's native protocol itself
# (one datagram per entry to /run/systemd/journal/socket).  A private
# mount namespace puts a listener of ours at that path, so the test
# needs no journald and touches nothing outside.

load helpers

setup() { common_setup; }
teardown() { common_teardown; }

# journal_session INPUT [OPTION...] - run a session with INPUT on stdin,
# as a systemd service would (INVOCATION_ID set, --log auto), and write
# the journal entries it sent, one JSON object a line, to $ENTRIES.
journal_session() {
	local input=$1
	shift
	ENTRIES="$BATS_TEST_TMPDIR/entries"
	printf '%b' "$input" >"$BATS_TEST_TMPDIR/input"
	status=0
	unshare -m sh -c '
		mount -t tmpfs tmpfs /run || exit 97
		mkdir -p /run/systemd/journal
		python3 "$1" journal-listen "$2" "$3" & listener=$!
		while [ ! -e "$3" ] && kill -0 $listener; do sleep 0.05; done
		shift 3
		INVOCATION_ID=0123456789abcdef "$@" <"$BATS_TEST_TMPDIR/input" >"$BATS_TEST_TMPDIR/replies"
		rc=$?
		wait $listener
		exit $rc' sh "$REPO/tests/smtpclient.py" "$ENTRIES" "$BATS_TEST_TMPDIR/ready" \
		"$SMTPD" --db "$DB" --hostname mx.test "$@" 2>>"$LOG" || status=$?
	[[ $status != 97 ]] || skip "this machine does not allow mounts in a namespace"
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
}

# entry N - the JSON of entry N (0 first).
entry() {
	sed -n "$(($1 + 1))p" "$ENTRIES"
}

# field N NAME - field NAME of entry N.
field() {
	entry "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], "<none>"))' "$2"
}

@test "under systemd, each log line is a journal entry with SMTPD_ fields" {
	REMOTE_ADDR=192.0.2.7 journal_session 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	cat "$ENTRIES"
	# connect, the sink-mode notice, the message, disconnect
	assert_equal "$(wc -l <"$ENTRIES")" 4
	assert_equal "$(field 0 MESSAGE)" "connect client=192.0.2.7"
	assert_equal "$(field 0 SMTPD_CLIENT)" 192.0.2.7
	assert_equal "$(field 0 SYSLOG_IDENTIFIER)" smtpd
	assert_equal "$(field 0 SYSLOG_FACILITY)" 2
	assert_equal "$(field 0 PRIORITY)" 6
	assert_equal "$(field 1 PRIORITY)" 5
	assert_equal "$(field 2 SMTPD_ID)" "$(q 'SELECT id FROM messages')"
	assert_equal "$(field 2 SMTPD_FROM)" a@example.org
	assert_equal "$(field 2 SMTPD_RCPT)" b@example.com
	assert_equal "$(field 2 SMTPD_HELO)" client.example
	assert_equal "$(field 2 SMTPD_REPLY)" 250
	assert_equal "$(field 2 SMTPD_DSN)" 2.0.0
	assert_equal "$(field 2 SMTPD_SIZE)" 7
	[[ $(field 2 MESSAGE) == "message accepted client=192.0.2.7 helo=client.example from=a@example.org "* ]]
	assert_equal "$(field 3 SMTPD_END)" quit
	assert_equal "$(field 3 SMTPD_MESSAGES)" 1
	# Nothing went to stderr.
	[[ ! -s $LOG ]] || {
		cat "$LOG"
		return 1
	}
}

@test "a refused message is a notice entry with the reply and the reason" {
	journal_session 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nbare\nlf\r\n.\r\nQUIT\r\n' --domain example.com
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "550 5.5.2" "221 2.0.0"
	# With --domain, no sink-mode notice: connect, the refusal, disconnect.
	assert_equal "$(wc -l <"$ENTRIES")" 3
	assert_equal "$(field 1 PRIORITY)" 5
	assert_equal "$(field 1 SMTPD_REPLY)" 550
	assert_equal "$(field 1 SMTPD_DSN)" 5.5.2
	assert_equal "$(field 1 SMTPD_REASON)" "bare CR or LF in message text"
	assert_equal "$(field 1 SMTPD_ID)" "<none>"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
}
