#!/usr/bin/env bats
# smtpd --checkpointer: the long-lived process that keeps the database
# open, so that a session's commit is its only fsync of the database.

load helpers

setup() {
	common_setup
	KEEPER_PID=""
	MSG='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: x\r\n\r\nhello\r\n.\r\nQUIT\r\n'
}

teardown() {
	if [[ -n $KEEPER_PID ]]; then
		kill "$KEEPER_PID" 2>/dev/null || true
		wait "$KEEPER_PID" 2>/dev/null || true
	fi
	common_teardown
}

# start_keeper - run the checkpointer on $DB in the background.
start_keeper() {
	"$SMTPD" --checkpointer --db "$DB" --log stderr 2>>"$LOG" &
	KEEPER_PID=$!
	local i
	for i in $(seq 50); do
		grep -q "checkpointer started" "$LOG" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "the checkpointer did not start"
	return 1
}

# syncs - run one session under strace; print each file it fsynced.
syncs() {
	printf '%b' "$MSG" >"$BATS_TEST_TMPDIR/in"
	strace -f -y -e trace=fsync,fdatasync -o "$BATS_TEST_TMPDIR/trace" \
		"$REPO/smtpd" --db "$DB" --hostname mx.test --log stderr \
		<"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/replies" 2>>"$LOG"
	grep -oE 'f(data)?sync\([0-9]+<[^>]*>' "$BATS_TEST_TMPDIR/trace" |
		sed -E 's/.*<(.*)>/\1/' | sed "s|^$BATS_TEST_TMPDIR|TMP|"
}

@test "it creates a missing database, holds it, and stops on SIGTERM with exit 0" {
	start_keeper
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	kill -TERM "$KEEPER_PID"
	wait "$KEEPER_PID"
	local rc=$?
	KEEPER_PID=""
	assert_equal "$rc" 0
	grep -q "checkpointer stopped" "$LOG"
}

@test "with it running, a session's one and only fsync is its commit to the WAL" {
	[[ -z ${SANITIZED:-}${VALGRIND:-} ]] || skip "traces the plain build only"
	start_keeper
	smtp "$MSG" # a first session, so the WAL exists
	run syncs
	echo "$output"
	# The commit syncs the WAL, and that is all: not mail.db, and not the
	# directory (the WAL already exists; store.c's file system layer).
	assert_equal "$output" "TMP/mail.db-wal"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 2
}

@test "without it, the last session to close checkpoints and empties the WAL" {
	[[ -z ${SANITIZED:-}${VALGRIND:-} ]] || skip "traces the plain build only"
	smtp "$MSG"
	run syncs
	echo "$output"
	# The checkpoint on close syncs the database file too.
	[[ $(grep -c 'mail.db$' <<<"$output") -ge 1 ]]
	assert_equal "$(stat -c %s "$DB-wal")" 0
	assert_equal "$(q 'SELECT count(*) FROM messages')" 2
}

@test "it copies the WAL into the database and empties it when stopped; nothing is lost" {
	start_keeper
	local i
	for i in 1 2 3 4 5; do
		smtp "$MSG"
		assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	done
	[[ $(stat -c %s "$DB-wal") -gt 0 ]]
	kill -TERM "$KEEPER_PID"
	wait "$KEEPER_PID"
	KEEPER_PID=""
	assert_equal "$(stat -c %s "$DB-wal")" 0
	assert_equal "$(q 'SELECT count(*) FROM messages')" 5
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 5
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	assert_body 5 'Subject: x\r\n\r\nhello\r\n'
}

@test "a database it cannot open: a message on stderr and exit 2" {
	run "$SMTPD" --checkpointer --db "$BATS_TEST_TMPDIR/missing/dir/mail.db" --log syslog
	assert_equal "$status" 2
	[[ $output == "smtpd: "*"unable to open database file"* ]]
}
