#!/usr/bin/env bats
# Many smtpd processes meeting one database file at the same instant:
# creating it, switching it to WAL and writing to it must all be safe,
# since a super-server starts one process per connection.

load helpers
load net_helpers

setup() {
	common_setup
	RUN="$BATS_TEST_TMPDIR/run"
}
teardown() { net_teardown; }

# assert_all_exited N WANT - copies 1..N of at_once all exited with WANT
# and wrote nothing to stderr.
assert_all_exited() {
	local i bad=0
	for ((i = 1; i <= $1; i++)); do
		if [[ $(cat "$RUN/status.$i") != "$2" || -s $RUN/err.$i ]]; then
			echo "copy $i: status $(cat "$RUN/status.$i"), stderr:"
			cat "$RUN/err.$i"
			bad=1
		fi
	done
	return $bad
}

# The schema of version 3, as sqlite_master lists it.
SCHEMA='table|accounts
table|addresses
table|mailbox_state
index|mailbox_state_by_message
table|messages
table|meta
table|recipients
index|recipients_by_address
index|recipients_by_address_nocase
index|sqlite_autoindex_accounts_1
table|sqlite_sequence'

@test "20 smtpd --init-db at once on a new file: all exit 0, one schema, WAL" {
	[[ ! -e $DB ]]
	at_once 20 "$RUN" "$SMTPD" --init-db --db "$DB"
	assert_all_exited 20 0
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_equal "$(q 'SELECT type, name FROM sqlite_master ORDER BY name')" "$SCHEMA"
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
}

@test "20 sessions at once on a new database: each stores its message" {
	[[ ! -e $DB ]]
	local i
	for ((i = 1; i <= 20; i++)); do
		printf 'EHLO c%d.example\r\nMAIL FROM:<s%d@example.org>\r\nRCPT TO:<a%d@example.com>\r\nRCPT TO:<b%d@example.com>\r\nDATA\r\nSubject: %d\r\n\r\n.message %d\r\n.\r\nQUIT\r\n' \
			"$i" "$i" "$i" "$i" "$i" "$i" >"$BATS_TEST_TMPDIR/in.$i"
	done
	AT_ONCE_STDIN="$BATS_TEST_TMPDIR/in.{i}" at_once 20 "$RUN" \
		"$SMTPD" --db "$DB" --hostname mx.test --log stderr
	# Log lines go to stderr; only the exit status matters here.
	local bad=0
	for ((i = 1; i <= 20; i++)); do
		output=$(tr -d '\r' <"$RUN/out.$i")
		mapfile -t lines <<<"$output"
		if [[ $(cat "$RUN/status.$i") != 0 ]] ||
			! assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"; then
			echo "session $i: status $(cat "$RUN/status.$i")"
			cat "$RUN/err.$i"
			bad=1
		fi
	done
	[[ $bad == 0 ]]
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_equal "$(q 'SELECT type, name FROM sqlite_master ORDER BY name')" "$SCHEMA"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 20
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 40
	# Each row is whole and belongs to the session its EHLO names.
	local id
	for ((id = 1; id <= 20; id++)); do
		i=$(q "SELECT substr(helo, 2, length(helo) - 9) FROM messages WHERE id = $id")
		assert_equal "$(q "SELECT helo, mail_from FROM messages WHERE id = $id")" "c$i.example|s$i@example.org"
		assert_equal "$(rcpts_of "$id")" "a$i@example.com b$i@example.com"
		assert_body "$id" "Subject: $i\r\n\r\nmessage $i\r\n"
		# The reply named the id that the row got.
		grep -q "^250 2.0.0 Ok: queued as $id"$'\r'"\$" "$RUN/out.$i"
	done
}
