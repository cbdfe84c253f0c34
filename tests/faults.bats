#!/usr/bin/env bats
# Faults: a database locked by another process for longer than the busy
# timeout, a disk that fills up, smtpd killed with SIGKILL anywhere in
# DATA or the commit, and 200 sessions at once.  Each checks the replies
# the client got against what the database holds afterwards: a message
# acknowledged with 250 is there exactly once and whole, nothing else is
# there half, and PRAGMA integrity_check is ok.

load helpers

setup() {
	fault_setup
	"$SMTPD" --init-db --db "$DB"
}
teardown() { fault_teardown; }

ENV='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n'
ENV_CODES=(220 250 "250 2.1.0" "250 2.1.5" 354)

# --- a busy database ------------------------------------------------------

# hold_lock FLAG RELEASE - in the background, take the database's write
# lock (BEGIN IMMEDIATE) with a row inserted, touch FLAG, and keep it
# until the file RELEASE appears (or WAIT_LIMIT passes); then roll back
# and touch RELEASE.done.  Returns once the lock is held.
hold_lock() {
	client hold-lock "$DB" "$1" "$2" 3>&- &
	track_pid $!
	wait_file "$1" $! # the lock is held
}

@test "a write lock held past the 10 s busy timeout: 451 4.3.0, nothing stored; then the next message is" {
	hold_lock "$BATS_TEST_TMPDIR/locked" "$BATS_TEST_TMPDIR/release"
	local result
	# One session: a message while the lock is held, then, once it is
	# released, a second one.
	result=$(client locked-session "$SMTPD" "$DB" "$LOG" "$BATS_TEST_TMPDIR/release" "$BATS_TEST_TMPDIR/replies")
	local waited pstatus between
	read -r waited pstatus between <<<"$result"
	echo "# 451 after ${waited} s of waiting for the lock" >&3
	replies_from "$BATS_TEST_TMPDIR/replies"
	assert_equal "$pstatus" 0
	assert_codes "${ENV_CODES[@]}" "451 4.3.0" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 5)" "451 4.3.0 Message could not be stored, try again later"
	assert_equal "$(reply_line 9)" "250 2.0.0 Ok: queued as 1"
	# The reply came when the busy timeout ran out, not before (the clock
	# started when the client had sent the end of data, before smtpd saw
	# it: only a lower bound holds on a loaded machine).
	python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 9.5 else 1)" "$waited"
	# While the lock was held and after it, nothing of the first message.
	assert_equal "${between:-}" "0 0"
	assert_equal "$(q 'SELECT id, helo, mail_from FROM messages')" "1|client.example|c@example.org"
	assert_equal "$(q 'SELECT message_id, address FROM recipients')" "1|d@example.com"
	assert_body 1 'Subject: second\r\n\r\nsecond\r\n'
	# A new session stores too.
	smtp "${ENV}Subject: third\r\n\r\nthird\r\n.\r\nQUIT\r\n"
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "221 2.0.0"
	assert_body 2 'Subject: third\r\n\r\nthird\r\n'
	assert_integrity
}

@test "a writer stuck in the writers' queue holds the others up for the busy timeout at most" {
	# store.c queues writers on a lock over one byte of the database file
	# (QUEUE_BYTE).  Hold that byte, as a stuck smtpd would, for longer
	# than the busy timeout: the session waits 10 s, then goes on without
	# its turn, and SQLite's own lock (free here) lets it commit.
	"$SMTPD" --init-db --db "$DB"
	client hold-queue "$DB" "$BATS_TEST_TMPDIR/queued" 3>&- &
	local holder=$!
	track_pid $holder
	wait_file "$BATS_TEST_TMPDIR/queued" "$holder"
	local start=$SECONDS
	smtp "${ENV}Subject: late\r\n\r\nlate\r\n.\r\nQUIT\r\n"
	echo "# stored after $((SECONDS - start)) s behind a stuck queue" >&3
	# The holder still holds its lock: the wait was cut short.
	alive "$holder"
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "221 2.0.0"
	assert_body 1 'Subject: late\r\n\r\nlate\r\n'
	assert_integrity
}

@test "both the writers' queue and the write lock held: 451 4.3.0 after one 10 s deadline, not two" {
	# store.c waits in the writers' queue, then on SQLite's lock.  Both
	# waits share one deadline (STORE_BUSY_TIMEOUT_MS): before issue 9
	# each had its own 10 s, and the client waited 20 s.  Both locks are
	# held here for 40 s, longer than either story.
	python3 - "$DB" "$BATS_TEST_TMPDIR/queue-held" <<'PY' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0x7fffffff00000000)
open(sys.argv[2], "w").close()
time.sleep(40)
PY
	local queue_holder=$!
	track_pid $queue_holder
	python3 - "$DB" "$BATS_TEST_TMPDIR/write-held" <<'PY' &
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
con.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(40)
PY
	local lock_holder=$!
	track_pid $lock_holder
	wait_file "$BATS_TEST_TMPDIR/queue-held" "$queue_holder"
	wait_file "$BATS_TEST_TMPDIR/write-held" "$lock_holder"
	smtp "${ENV}Subject: held\r\n\r\nheld\r\n.\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "451 4.3.0" "221 2.0.0"
	assert_equal "$(reply_line 5)" "451 4.3.0 Message could not be stored, try again later"
	# smtpd's own account of the wait, on its monotonic clock: one
	# deadline of 10 s, however long the machine made the session take
	# around it; two deadlines were 20 s.
	local waited
	waited=$(sed -n 's/.*cannot begin after \([0-9]*\) ms: database is locked.*/\1/p' "$LOG")
	echo "# 451 after smtpd waited $waited ms with both locks held" >&3
	[[ -n $waited ]]
	((waited >= 10000 && waited < 20000))
	assert_nothing_stored
}

# --- a full disk ----------------------------------------------------------

# small_fs SIZE - mount a tmpfs of SIZE at $SMALL and move the database
# and TMPDIR (the spool) there; skip the test if it cannot be mounted.
small_fs() {
	SMALL="$BATS_TEST_TMPDIR/small"
	mkdir -p "$SMALL"
	if ! mount -t tmpfs -o "size=$1,mode=0755" tmpfs "$SMALL" 2>"$BATS_TEST_TMPDIR/mount.err"; then
		skip "cannot mount a tmpfs: $(cat "$BATS_TEST_TMPDIR/mount.err")"
	fi
	track_mount "$SMALL"
	DB="$SMALL/mail.db"
	export TMPDIR="$SMALL"
	"$SMTPD" --init-db --db "$DB"
}

# three_small - store three small messages, one session each.
three_small() {
	local i
	for i in 1 2 3; do
		smtp "${ENV}Subject: small $i\r\n\r\nsmall message $i\r\n.\r\nQUIT\r\n"
		assert_codes "${ENV_CODES[@]}" "250 2.0.0" "221 2.0.0"
	done
}

# assert_three_small - the three small messages, byte for byte.
assert_three_small() {
	local i
	for i in 1 2 3; do
		assert_body "$i" "Subject: small $i\r\n\r\nsmall message $i\r\n"
	done
}

# assert_storage_refusal N - reply N, to the message that did not fit, is
# one of the two a full store may give, and the one smtpd gives.
assert_storage_refusal() {
	local got
	got=$(reply_line "$1")
	case $got in
	"452 4.3.1 "* | "451 4.3.0 "*) ;;
	*)
		echo "expected 452 4.3.1 or 451 4.3.0 for a message that does not fit, got: $got"
		return 1
		;;
	esac
	# What smtpd gives, of the two: 452 4.3.1, insufficient storage.
	assert_equal "$got" "452 4.3.1 Insufficient storage, try again later"
}

@test "disk full while spooling a 3 MiB body: 452 4.3.1, earlier messages intact, the session goes on" {
	small_fs 2m
	three_small
	{
		printf '%b' "$ENV"
		python3 -c 'import sys; sys.stdout.buffer.write((b"x" * 76 + b"\r\n") * 40330)'
		printf '.\r\nNOOP\r\nMAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.com>\r\nDATA\r\nafter\r\n.\r\nQUIT\r\n'
	} >"$BATS_TEST_TMPDIR/big"
	smtp_file "$BATS_TEST_TMPDIR/big"
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "452 4.3.1" "250 2.0.0" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_storage_refusal 5
	assert_equal "$(reply_line 10)" "250 2.0.0 Ok: queued as 4"
	grep -q 'spool: No space left on device' "$LOG"
	assert_integrity
	assert_equal "$(q 'SELECT count(*) FROM messages')" 4
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 4
	assert_three_small
	assert_body 4 'after\r\n'
	# The spool file went with the message.
	assert_equal "$(find "$SMALL" -name 'smtpd.??????' | wc -l)" 0
}

@test "disk full at the commit of a 60 KB body held in memory: 452 4.3.1, nothing partial, then recovery" {
	small_fs 2m
	three_small
	# Let the WAL start from nothing, then leave 48 KiB: room for the
	# shared-memory index (32 KiB), not for the message's pages.
	q 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	client fill-disk "$SMALL"
	local text
	text=$(head -c 60000 /dev/zero | tr '\0' m)
	smtp "${ENV}${text}\r\n.\r\nNOOP\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "452 4.3.1" "250 2.0.0" "221 2.0.0"
	assert_storage_refusal 5
	grep -q 'database or disk is full' "$LOG"
	assert_integrity
	assert_equal "$(q 'SELECT count(*) FROM messages')" 3
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 3
	assert_three_small
	# Room again: the same message is stored, as id 4.
	rm "$SMALL/filler"
	smtp "${ENV}${text}\r\n.\r\nQUIT\r\n"
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 5)" "250 2.0.0 Ok: queued as 4"
	assert_body 4 "${text}\r\n"
	assert_integrity
}

# --- SIGKILL --------------------------------------------------------------

@test "SIGKILL anywhere in DATA or the commit: every 250 is stored once and whole, nothing half" {
	local seed=${KILL_SEED:-$RANDOM}
	client kill-anywhere "$SMTPD" "$DB" "$LOG" "$BATS_TEST_TMPDIR/kill" 120 25 "$seed" >"$BATS_TEST_TMPDIR/kill.summary"
	local summary
	summary=$(head -n 1 "$BATS_TEST_TMPDIR/kill.summary")
	echo "# SIGKILL (seed $seed): $summary" >&3
	if grep PROBLEM "$BATS_TEST_TMPDIR/kill.summary"; then
		return 1
	fi
	# At least something of each kind happened.
	[[ $summary =~ kill_body=([0-9]+) ]] && ((BASH_REMATCH[1] >= 5))
	[[ $summary =~ kill_commit=([0-9]+) ]] && ((BASH_REMATCH[1] >= 10))
	[[ $summary =~ acked=([0-9]+) ]] && ((BASH_REMATCH[1] >= 20))
	assert_integrity
	# Every acknowledged message, by its token, exactly once, under its id.
	local token id
	while read -r token id; do
		assert_equal "$(q "SELECT group_concat(id) FROM messages WHERE mail_from = 'k-$token@example.org'")" "$id"
	done <"$BATS_TEST_TMPDIR/kill.acked"
	assert_equal "$(q 'SELECT count(*) FROM (SELECT mail_from FROM messages GROUP BY mail_from HAVING count(*) > 1)')" 0
	assert_equal "$(q 'SELECT count(*) FROM recipients GROUP BY message_id HAVING count(*) != 2')" ""
	# The killed processes left no spool file behind.
	assert_equal "$(find "$TMPDIR" -maxdepth 1 -name 'smtpd.??????' | wc -l)" 0
}

# --- many sessions at once ------------------------------------------------

@test "200 sessions at once, 3 messages each: every 250 stored once, no 5xx" {
	start_server
	local t0=$SECONDS
	client concurrent-sessions "$PORT" 200 3 "$BATS_TEST_TMPDIR/conc" >"$BATS_TEST_TMPDIR/conc.summary"
	server_idle
	local summary
	summary=$(head -n 1 "$BATS_TEST_TMPDIR/conc.summary")
	echo "# 200 sessions x 3 messages: $summary, $((SECONDS - t0)) s in all" >&3
	if grep ERROR "$BATS_TEST_TMPDIR/conc.summary"; then
		# 4xx from store contention is reported above; any is a failure
		# here, as the whole run takes far less than the busy timeout.
		return 1
	fi
	[[ $summary == "sessions_ok=200 r250=600 r4xx=0 r5xx=0 seconds="*" stuck=0" ]]
	assert_integrity
	assert_equal "$(qt 'SELECT count(*) FROM messages')" 600
	assert_equal "$(qt 'SELECT count(*) FROM recipients')" 600
	assert_equal "$(qt 'SELECT count(DISTINCT mail_from) FROM messages')" 600
	# Each acknowledged token is stored once, under the id it was given,
	# with its own recipient and text.
	sort "$BATS_TEST_TMPDIR/conc.acked" >"$BATS_TEST_TMPDIR/conc.want"
	qt "SELECT substr(mail_from, 3, length(mail_from) - 14) || ' ' || id FROM messages
	    WHERE instr(CAST(body AS TEXT), 'X-Token: ' || substr(mail_from, 3, length(mail_from) - 14) || char(13, 10)) > 0
	      AND (SELECT address FROM recipients WHERE message_id = id)
	          = 'r-' || substr(mail_from, 3, length(mail_from) - 14) || '@example.com'" |
		sort >"$BATS_TEST_TMPDIR/conc.got"
	diff "$BATS_TEST_TMPDIR/conc.want" "$BATS_TEST_TMPDIR/conc.got"
}
