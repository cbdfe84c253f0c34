#!/usr/bin/env bats
# Schema version 3 (mail access: meta, accounts, addresses, mailbox_state,
# the case-blind recipient index, the TLS columns), and the in-place
# upgrade of a version 2 database to it, alone and with many sessions
# racing on the old file.  (Version 1 to 3: tests/dsn.bats.)

load helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
	RUN="$BATS_TEST_TMPDIR/run"
}
teardown() { net_teardown; }

# v2_database FILE - a version 2 database as smtpd 2 made it
# (tests/fixtures/schema-v2.sql), in WAL mode, with message 5 and its two
# recipients in it.
v2_database() {
	sqlite3 -batch "$1" <<-EOF >/dev/null
		PRAGMA journal_mode=WAL;
		$(cat "$BATS_TEST_DIRNAME/fixtures/schema-v2.sql")
		PRAGMA user_version=2;
		INSERT INTO messages (id, received_at, helo, client_addr, protocol, mail_from, size, body,
		                      body_type, smtputf8, dsn_ret, dsn_envid)
		VALUES (5, '2026-11-20T10:00:00Z', 'two.example', '192.0.2.2', 'ESMTP',
		        'two@example.org', 9, X'74776F0D0A00FF0D0A', '8BITMIME', 0, 'HDRS', 'e1');
		INSERT INTO recipients (message_id, position, address, dsn_notify)
		VALUES (5, 0, 'Alice@Example.COM', 'NEVER');
		INSERT INTO recipients (message_id, position, address) VALUES (5, 1, 'bob@example.com');
	EOF
}

# uidvalidity - the database's UIDVALIDITY, as stored.
uidvalidity() {
	q "SELECT value FROM meta WHERE name = 'uidvalidity'"
}

# assert_uidvalidity_sane - exactly one meta row, a number in 1..2^32-1.
assert_uidvalidity_sane() {
	assert_equal "$(q 'SELECT count(*) FROM meta')" 1
	local v
	v=$(uidvalidity)
	[[ $v =~ ^[1-9][0-9]{0,9}$ ]] && ((v <= 4294967295)) || {
		echo "uidvalidity '$v' is not a 32-bit number above 0"
		return 1
	}
}

@test "the version 2 fixture is schema.sql as version 2 committed it" {
	git -C "$REPO" cat-file -e bf05536:schema.sql 2>/dev/null || skip "no git history here"
	diff <(git -C "$REPO" show bf05536:schema.sql) "$BATS_TEST_DIRNAME/fixtures/schema-v2.sql"
}

@test "a new database is version 3: the mail access tables, a uidvalidity, the TLS columns empty" {
	"$SMTPD" --init-db --db "$DB"
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_uidvalidity_sane
	assert_equal "$(q "SELECT name FROM pragma_table_info('messages') WHERE name LIKE 'tls%' ORDER BY cid" | tr '\n' ' ')" \
		"tls_version tls_cipher "
	smtp 'EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_equal "$(q "SELECT coalesce(tls_version, 'NULL'), coalesce(tls_cipher, 'NULL') FROM messages")" "NULL|NULL"
	# Addresses match whatever their case; deleting an account takes its
	# addresses and mailbox state with it.
	q "INSERT INTO accounts (id, name, created_at) VALUES (1, 'b', '2026-11-30T00:00:00Z');
	   INSERT INTO addresses VALUES ('B@EXAMPLE.com', 1);
	   INSERT INTO mailbox_state (account_id, message_id, flags) VALUES (1, 1, 1)"
	assert_equal "$(q "SELECT account_id FROM addresses WHERE address = 'b@example.COM'")" 1
	run q "INSERT INTO addresses VALUES ('b@example.com', 1)"
	[[ $status != 0 && $output == *UNIQUE* ]]
	q 'PRAGMA foreign_keys=ON; DELETE FROM accounts'
	assert_equal "$(q 'SELECT count(*) FROM addresses') $(q 'SELECT count(*) FROM mailbox_state')" "0 0"
}

@test "two new databases get different uidvalidity values" {
	"$SMTPD" --init-db --db "$DB"
	"$SMTPD" --init-db --db "$BATS_TEST_TMPDIR/other.db"
	[[ $(uidvalidity) != $(sqlite3 "$BATS_TEST_TMPDIR/other.db" "SELECT value FROM meta") ]]
}

@test "a version 2 database is upgraded in place by the first session: old message intact, same tables as a new file, uidvalidity set once" {
	v2_database "$DB"
	assert_equal "$(q 'PRAGMA user_version')" 2
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.com>\r\nDATA\r\nnew\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 5)" "250 2.0.0 Ok: queued as 6"
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	assert_equal "$(q 'PRAGMA foreign_key_check')" ""
	assert_equal "$(q "SELECT id, received_at, helo, client_addr, protocol, mail_from, size, hex(body),
		body_type, smtputf8, dsn_ret, dsn_envid, coalesce(tls_version, 'NULL'), coalesce(tls_cipher, 'NULL')
		FROM messages WHERE id = 5")" \
		"5|2026-11-20T10:00:00Z|two.example|192.0.2.2|ESMTP|two@example.org|9|74776F0D0A00FF0D0A|8BITMIME|0|HDRS|e1|NULL|NULL"
	assert_equal "$(q "SELECT position, address, coalesce(dsn_notify, 'NULL') FROM recipients
		WHERE message_id = 5 ORDER BY position" | tr '\n' ' ')" \
		"0|Alice@Example.COM|NEVER 1|bob@example.com|NULL "
	assert_body 6 'new\r\n'
	assert_uidvalidity_sane
	# The upgraded file has the tables of a file made new.
	"$SMTPD" --init-db --db "$BATS_TEST_TMPDIR/fresh.db"
	schema_of "$BATS_TEST_TMPDIR/fresh.db" >"$BATS_TEST_TMPDIR/fresh.schema"
	schema_of "$DB" >"$BATS_TEST_TMPDIR/upgraded.schema"
	grep -q '^== mailbox_state$' "$BATS_TEST_TMPDIR/fresh.schema"
	grep -q '|tls_cipher|TEXT|0||0|0$' "$BATS_TEST_TMPDIR/fresh.schema"
	diff "$BATS_TEST_TMPDIR/fresh.schema" "$BATS_TEST_TMPDIR/upgraded.schema"
	# The case-blind index finds the old recipient row.
	assert_equal "$(q "SELECT message_id FROM recipients WHERE address = 'alice@example.com' COLLATE NOCASE")" 5
	assert_equal "$(q "EXPLAIN QUERY PLAN SELECT message_id FROM recipients
		WHERE address = 'alice@example.com' COLLATE NOCASE" | grep -c recipients_by_address_nocase)" 1
	# A later open or --init-db changes nothing, uidvalidity included.
	local v
	v=$(uidvalidity)
	schema_of "$DB" >"$BATS_TEST_TMPDIR/once"
	"$SMTPD" --init-db --db "$DB"
	schema_of "$DB" >"$BATS_TEST_TMPDIR/twice"
	diff "$BATS_TEST_TMPDIR/once" "$BATS_TEST_TMPDIR/twice"
	assert_equal "$(uidvalidity)" "$v"
}

@test "20 sessions at once on a version 2 database: one upgrade, one uidvalidity, every message stored" {
	v2_database "$DB"
	local i
	for ((i = 1; i <= 20; i++)); do
		printf 'EHLO c%d.example\r\nMAIL FROM:<s%d@example.org>\r\nRCPT TO:<a%d@example.com>\r\nDATA\r\nm %d\r\n.\r\nQUIT\r\n' \
			"$i" "$i" "$i" "$i" >"$BATS_TEST_TMPDIR/in.$i"
	done
	AT_ONCE_STDIN="$BATS_TEST_TMPDIR/in.{i}" at_once 20 "$RUN" \
		"$SMTPD" --db "$DB" --hostname mx.test --log stderr
	local bad=0
	for ((i = 1; i <= 20; i++)); do
		output=$(tr -d '\r' <"$RUN/out.$i")
		mapfile -t lines <<<"$output"
		if [[ $(cat "$RUN/status.$i") != 0 ]] ||
			! assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"; then
			echo "session $i: status $(cat "$RUN/status.$i")"
			cat "$RUN/err.$i"
			bad=1
		fi
	done
	[[ $bad == 0 ]]
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	assert_uidvalidity_sane
	assert_equal "$(q 'SELECT count(*) FROM messages')" 21
	assert_equal "$(q 'SELECT hex(body) FROM messages WHERE id = 5')" 74776F0D0A00FF0D0A
	"$SMTPD" --init-db --db "$BATS_TEST_TMPDIR/fresh.db"
	diff <(schema_of "$BATS_TEST_TMPDIR/fresh.db") <(schema_of "$DB")
}
