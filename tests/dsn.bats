#!/usr/bin/env bats
# DSN parameters (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on
# RCPT, checked against the grammar and stored with the message; and the
# schema version 2 that holds them, reached from version 1 in place
# (tests/schema.bats: version 3).

load helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
}
teardown() { common_teardown; }

# one_message MAIL-PARAMS RCPT-PARAMS - a session with one message whose
# MAIL and RCPT carry these parameters; asserts it was stored as id 1.
one_message() {
	smtp "EHLO client.example\r\nMAIL FROM:<a@example.org>$1\r\nRCPT TO:<b@example.com>$2\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_body 1 'x\r\n'
}

ENVID_BAD='501 5.5.4 Bad parameter: ENVID=xtext of at most 100 characters'
RET_BAD='501 5.5.4 Bad parameter: RET=FULL or RET=HDRS'
NOTIFY_BAD='501 5.5.4 Bad parameter: NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY'
ORCPT_BAD='501 5.5.4 Bad parameter: ORCPT=addr-type;xtext'
SYNTAX_BAD='501 5.5.4 Bad parameter: parameter syntax'
TWICE='501 5.5.4 Bad parameter: parameter given twice'

# --- MAIL: RET and ENVID ------------------------------------------------

@test "RET=FULL and RET=HDRS in any case are stored upper case; ENVID is stored as sent, +XX escapes and all" {
	one_message ' RET=full ENVID=QQ+2B314159+3D' ''
	assert_equal "$(q 'SELECT dsn_ret, dsn_envid FROM messages')" "FULL|QQ+2B314159+3D"
	rm -f "$DB" "$DB-wal" "$DB-shm"
	one_message ' ret=Hdrs envid=<id@host.example>' ''
	assert_equal "$(q 'SELECT dsn_ret, dsn_envid FROM messages')" "HDRS|<id@host.example>"
	rm -f "$DB" "$DB-wal" "$DB-shm"
	# Every xchar (33 to 126 but "+" and "="), and exactly 100 of them.
	local xchars='!"#$%&'\''()*,-./0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
	local envid
	envid=$(printf '%b' "$xchars")
	envid+=$(pad $((100 - ${#envid})) Z)
	assert_equal "${#envid}" 100
	one_message " ENVID=${envid//\\/\\\\} RET=HDRS" ''
	assert_equal "$(q 'SELECT dsn_ret, dsn_envid FROM messages')" "HDRS|$envid"
	rm -f "$DB" "$DB-wal" "$DB-shm"
	# No DSN parameters: NULL, not empty.
	one_message '' ''
	assert_equal "$(q 'SELECT dsn_ret IS NULL, dsn_envid IS NULL, body_type IS NULL, smtputf8 FROM messages')" "1|1|1|0"
	assert_equal "$(q 'SELECT dsn_notify IS NULL, dsn_orcpt IS NULL FROM recipients')" "1|1"
}

@test "ENVID over 100 characters, with '=', a lower-case or short +XX escape, or empty: 501 5.5.4" {
	smtp 'EHLO client.example\r\n'`
		`'MAIL FROM:<a@example.org> ENVID='"$(pad 101)"'\r\n'`
		`'MAIL FROM:<a@example.org> ENVID=a=b\r\n'`
		`'MAIL FROM:<a@example.org> ENVID=a+2b\r\n'`
		`'MAIL FROM:<a@example.org> ENVID=a+2\r\n'`
		`'MAIL FROM:<a@example.org> ENVID=a+GG\r\n'`
		`'MAIL FROM:<a@example.org> ENVID=\r\n'`
		`'MAIL FROM:<a@example.org> ENVID\r\n'`
		`'MAIL FROM:<a@example.org> ENVID=caf\xc3\xa9\r\n'`
		`'RCPT TO:<b@example.com>\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" \
		"501 5.5.4" "501 5.5.4" "501 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_equal "$(reply 2)" "$ENVID_BAD"
	# "=" cannot be in an esmtp-value at all (RFC 5321 4.1.2).
	assert_equal "$(reply 3)" "$SYNTAX_BAD"
	assert_equal "$(reply 4)" "$ENVID_BAD"
	assert_equal "$(reply 5)" "$ENVID_BAD"
	assert_equal "$(reply 6)" "$ENVID_BAD"
	assert_equal "$(reply 7)" "$SYNTAX_BAD"
	assert_equal "$(reply 8)" "$ENVID_BAD"
	# UTF-8 may stand in an esmtp-value (RFC 6531 3.3), but not in xtext.
	assert_equal "$(reply 9)" "$ENVID_BAD"
	assert_nothing_stored
}

@test "a control character in ENVID: the whole line is refused, 500 5.5.2, as for any command" {
	# smtpd refuses a command line holding a control byte before it looks
	# at the verb (commands.bats, hostile.bats), so ENVID's own check
	# (501 5.5.4) is never reached: the line is not a command at all.
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> ENVID=a\001b\r\nMAIL FROM:<a@example.org> ENVID=a\tb\r\nMAIL FROM:<a@example.org> ENVID=a\177\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "500 5.5.2" "500 5.5.2" "500 5.5.2" "503 5.5.1" "221 2.0.0"
	assert_equal "$(reply 2)" "500 5.5.2 Command contains invalid characters"
	assert_nothing_stored
}

@test "RET other than FULL or HDRS, and RET, ENVID or any MAIL parameter given twice: 501 5.5.4" {
	smtp 'EHLO client.example\r\n'`
		`'MAIL FROM:<a@example.org> RET=foo\r\n'`
		`'MAIL FROM:<a@example.org> RET=FULLY\r\n'`
		`'MAIL FROM:<a@example.org> RET\r\n'`
		`'MAIL FROM:<a@example.org> RET=FULL RET=FULL\r\n'`
		`'MAIL FROM:<a@example.org> RET=FULL ret=HDRS\r\n'`
		`'MAIL FROM:<a@example.org> ENVID=a ENVID=a\r\n'`
		`'MAIL FROM:<a@example.org> BODY=7BIT SIZE=1 body=7bit\r\n'`
		`'MAIL FROM:<a@example.org> RET=HDRS\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" \
		"250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 2)" "$RET_BAD"
	assert_equal "$(reply 3)" "$RET_BAD"
	assert_equal "$(reply 4)" "$RET_BAD"
	assert_equal "$(reply 5)" "$TWICE"
	assert_equal "$(reply 6)" "$TWICE"
	assert_equal "$(reply 7)" "$TWICE"
	assert_equal "$(reply 8)" "$TWICE"
	# The refused MAILs left nothing behind: only the last one's RET.
	assert_equal "$(q 'SELECT dsn_ret, dsn_envid IS NULL, body_type IS NULL FROM messages')" "HDRS|1|1"
	assert_body 1 'x\r\n'
}

# --- RCPT: NOTIFY and ORCPT ---------------------------------------------

@test "NOTIFY=NEVER or a list in any case and order: stored upper case, as ordered" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n'`
		`'RCPT TO:<n1@example.com> NOTIFY=NEVER\r\n'`
		`'RCPT TO:<n2@example.com> NOTIFY=success,delay\r\n'`
		`'RCPT TO:<n3@example.com> notify=Delay,Failure,Success\r\n'`
		`'RCPT TO:<n4@example.com> NOTIFY=never\r\n'`
		`'RCPT TO:<n5@example.com> NOTIFY=FAILURE ORCPT=rfc822;n5+40example.com\r\n'`
		`'RCPT TO:<n6@example.com>\r\n'`
		`'DATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "250 2.1.5" "250 2.1.5" "250 2.1.5" "250 2.1.5" \
		354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q "SELECT position, address, coalesce(dsn_notify, 'NULL'), coalesce(dsn_orcpt, 'NULL') FROM recipients ORDER BY position" | tr '\n' ' ')" \
		"0|n1@example.com|NEVER|NULL 1|n2@example.com|SUCCESS,DELAY|NULL 2|n3@example.com|DELAY,FAILURE,SUCCESS|NULL 3|n4@example.com|NEVER|NULL 4|n5@example.com|FAILURE|rfc822;n5+40example.com 5|n6@example.com|NULL|NULL "
	assert_body 1 'x\r\n'
}

@test "NOTIFY=NEVER with others, an element twice, an unknown or empty element, or no value: 501 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=NEVER,SUCCESS\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=SUCCESS,NEVER\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=SUCCESS,SUCCESS\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=success,DELAY,Success\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=SOMETIMES\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=,SUCCESS\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=SUCCESS,,DELAY\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=SUCCESS NOTIFY=DELAY\r\n'`
		`'DATA\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" \
		"501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "503 5.5.1" "221 2.0.0"
	local i
	for i in 3 4 5 6 8 9 10 11; do
		assert_equal "$(reply $i)" "$NOTIFY_BAD"
	done
	assert_equal "$(reply 7)" "$SYNTAX_BAD"
	assert_equal "$(reply 12)" "$TWICE"
	assert_nothing_stored
}

@test "NOTIFY with a trailing comma (an empty last element) is refused like an empty first one" {
	# RFC 3461 4.1: a comma-separated list of one or more of SUCCESS,
	# FAILURE, DELAY.  ",SUCCESS" and "SUCCESS,,DELAY" are refused (above);
	# "SUCCESS," is the same mistake at the other end.
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com> NOTIFY=SUCCESS,\r\nRCPT TO:<c@example.com> NOTIFY=NEVER,\r\nDATA\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "501 5.5.4" "501 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_equal "$(reply 3)" "$NOTIFY_BAD"
	assert_nothing_stored
}

@test "ORCPT=addr-type;xtext is stored as sent (rfc822 with +40, RFC 6533 utf-8 as Postfix sends it)" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SMTPUTF8\r\n'`
		`'RCPT TO:<user@example.org> ORCPT=rfc822;user+40example.org\r\n'`
		`'RCPT TO:<j\xc3\xb6ran@example.org> ORCPT=utf-8;j\\x{F6}ran@example.org NOTIFY=SUCCESS\r\n'`
		`'RCPT TO:<c@example.org> orcpt=RFC822;C+2BD@example.org\r\n'`
		`'DATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q "SELECT dsn_orcpt || '|' || coalesce(dsn_notify, 'NULL') FROM recipients ORDER BY position" | tr '\n' ' ')" \
		'rfc822;user+40example.org|NULL utf-8;j\x{F6}ran@example.org|SUCCESS RFC822;C+2BD@example.org|NULL '
	assert_body 1 'x\r\n'
}

@test "ORCPT=utf-8; with raw UTF-8 and \x{HEX} escapes is stored as sent in an SMTPUTF8 transaction (RFC 6533)" {
	# The examples of RFC 6533 and issue 9, and an escape in each case.
	local jp=$'\xe3\x83\x89\xe3\x83\xa1\xe3\x82\xa4\xe3\x83\xb3\xe5\x90\x8d\xe4\xbe\x8b.jp' e=$'\xc3\xa9'
	printf '%s\r\n' 'EHLO client.example' \
		'MAIL FROM:<e=mc2@example.com> ENVID=e+3Dmc2 RET=HDRS SMTPUTF8' \
		"RCPT TO:<e=mc2@$jp> ORCPT=utf-8;e\\x{3D}mc2@$jp NOTIFY=SUCCESS" \
		"RCPT TO:<d@$e.example> ORCPT=utf-8;d@$e.example" \
		'RCPT TO:<f@example.com> ORCPT=UTF-8;f\x{1F600}\x{e9}@example.com' \
		'DATA' 'x' '.' 'QUIT' >"$BATS_TEST_TMPDIR/in"
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT dsn_envid, dsn_ret, smtputf8, protocol FROM messages')" "e+3Dmc2|HDRS|1|UTF8SMTP"
	assert_equal "$(q "SELECT position || ' ' || address || ' ' || dsn_orcpt || ' ' || coalesce(dsn_notify, '-') FROM recipients ORDER BY position")" \
		"0 e=mc2@$jp utf-8;e\\x{3D}mc2@$jp SUCCESS
1 d@$e.example utf-8;d@$e.example -
2 f@example.com UTF-8;f\\x{1F600}\\x{e9}@example.com -"
	assert_body 1 'x\r\n'
}

@test "ORCPT=utf-8; raw UTF-8 without SMTPUTF8, malformed \x{HEX} escapes, bad UTF-8: 501 5.5.4" {
	local e=$'\xc3\xa9' bad b
	# Without SMTPUTF8 raw UTF-8 is refused, the escaped form taken.
	printf '%s\r\n' 'EHLO client.example' 'MAIL FROM:<a@example.org>' \
		"RCPT TO:<d@example.com> ORCPT=utf-8;d@$e.example" \
		'RCPT TO:<d@example.com> ORCPT=utf-8;d@\x{E9}.example' 'QUIT' >"$BATS_TEST_TMPDIR/in"
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_codes 220 250 "250 2.1.0" "501 5.5.4" "250 2.1.5" "221 2.0.0"
	assert_equal "$(reply 3)" "501 5.5.4 Bad parameter: ORCPT=utf-8 with raw UTF-8 needs SMTPUTF8"
	# With SMTPUTF8: each malformed escape, a lone backslash, a bad UTF-8
	# byte, and raw UTF-8 in a type other than utf-8.
	{
		printf '%s\r\n' 'EHLO client.example' 'MAIL FROM:<a@example.org> SMTPUTF8'
		for b in '\x{}' '\x{ZZ}' '\x{3D' '\x3D' '\X{3D}' '\y{3D}' '\x{110000}' '\x{D800}' \
			'\x{0}' '\x{0000041}' 'a\' '\'; do
			printf 'RCPT TO:<d@example.com> ORCPT=utf-8;d%s@example.com\r\n' "$b"
		done
		printf 'RCPT TO:<d@example.com> ORCPT=utf-8;d\xc3@example.com\r\n'
		printf 'RCPT TO:<d@example.com> ORCPT=rfc822;d@%s.example\r\n' "$e"
		printf 'RCPT TO:<d@example.com> ORCPT=utf-8;\r\n'
		printf 'QUIT\r\n'
	} >"$BATS_TEST_TMPDIR/in"
	smtp_file "$BATS_TEST_TMPDIR/in"
	local want=(220 250 "250 2.1.0") i
	for ((i = 0; i < 15; i++)); do want+=("501 5.5.4"); done
	assert_codes "${want[@]}" "221 2.0.0"
	for ((i = 3; i < 16; i++)); do
		assert_equal "$(reply $i)" '501 5.5.4 Bad parameter: ORCPT=utf-8;address, non-ASCII as UTF-8 or \x{HEX}'
	done
	assert_equal "$(reply 16)" "$ORCPT_BAD"
	assert_equal "$(reply 17)" '501 5.5.4 Bad parameter: ORCPT=utf-8;address, non-ASCII as UTF-8 or \x{HEX}'
	assert_nothing_stored
}

@test "ORCPT without ';', with an empty or bad addr-type, with bad xtext, too long, or twice: 501 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=user@example.org\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=;user@example.org\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=rfc_822;user@example.org\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=rfc822;user+4example.org\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=rfc822;user+40example+2e\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=rfc822;'"$(pad 494)"'\r\n'`
		`'RCPT TO:<b@example.com> ORCPT\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=rfc822;a=b\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=rfc822;a@b ORCPT=rfc822;a@b\r\n'`
		`'RCPT TO:<b@example.com> ORCPT=rfc822;'"$(pad 493)"'\r\n'`
		`'DATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" \
		"501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	local i
	for i in 3 4 5 6 7 8 9; do
		assert_equal "$(reply $i)" "$ORCPT_BAD"
	done
	assert_equal "$(reply 10)" "$SYNTAX_BAD"
	assert_equal "$(reply 11)" "$TWICE"
	# 500 characters exactly are taken.
	assert_equal "$(q 'SELECT length(dsn_orcpt) FROM recipients')" 500
	assert_body 1 'x\r\n'
}

@test "unknown parameters get 555 5.5.4, DSN ones on the wrong command too" {
	smtp 'EHLO client.example\r\n'`
		`'MAIL FROM:<a@example.org> FOO=1\r\n'`
		`'MAIL FROM:<a@example.org> NOTIFY=NEVER\r\n'`
		`'MAIL FROM:<a@example.org> ORCPT=rfc822;a@b\r\n'`
		`'MAIL FROM:<a@example.org> RET=FULL X-DSN=1\r\n'`
		`'MAIL FROM:<a@example.org> RET=FULL\r\n'`
		`'RCPT TO:<b@example.com> RET=FULL\r\n'`
		`'RCPT TO:<b@example.com> ENVID=x\r\n'`
		`'RCPT TO:<b@example.com> NOTIFY=NEVER BAR\r\n'`
		`'DATA\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "555 5.5.4" "555 5.5.4" "555 5.5.4" "555 5.5.4" "250 2.1.0" \
		"555 5.5.4" "555 5.5.4" "555 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_equal "$(reply 2)" "555 5.5.4 Parameter not supported"
	assert_nothing_stored
}

@test "after HELO (no EHLO) the DSN parameters are still taken and stored, protocol SMTP" {
	# RFC 5321 2.2.1 and 4.1.1.1 bind the client: it may use an
	# extension only after EHLO advertised it.  Nothing obliges the
	# server to refuse a parameter it implements (555 is for parameters it
	# does not, 4.1.1.11), and this server parses MAIL and RCPT the same
	# way whatever the greeting was, so after HELO they are accepted.
	smtp 'HELO client.example\r\nMAIL FROM:<a@example.org> RET=HDRS ENVID=e+2B1\r\nRCPT TO:<b@example.com> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@example.com\r\nDATA\r\nx\r\n.\r\n'`
		`'MAIL FROM:<a@example.org> RET=bad\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "501 5.5.4" "221 2.0.0"
	assert_equal "$(q 'SELECT protocol, dsn_ret, dsn_envid FROM messages')" "SMTP|HDRS|e+2B1"
	assert_equal "$(q 'SELECT dsn_notify, dsn_orcpt FROM recipients')" "FAILURE,DELAY|rfc822;b@example.com"
	assert_body 1 'x\r\n'
}

@test "DSN parameters of a refused or reset transaction do not carry over" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> RET=FULL ENVID=first\r\nRSET\r\n'`
		`'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com> NOTIFY=NEVER\r\nRCPT TO:<c@example.com> NOTIFY=BAD\r\nRCPT TO:<c@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.0.0" "250 2.1.0" "250 2.1.5" "501 5.5.4" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT dsn_ret IS NULL, dsn_envid IS NULL FROM messages')" "1|1"
	assert_equal "$(q "SELECT address, coalesce(dsn_notify, 'NULL') FROM recipients ORDER BY position" | tr '\n' ' ')" \
		"b@example.com|NEVER c@example.com|NULL "
	assert_body 1 'x\r\n'
}

# --- the schema: version 1 upgraded in place -----------------------------

# v1_database FILE - a version 1 database as the first smtpd made it
# (tests/fixtures/schema-v1.sql), in WAL mode, with message 7 and its two
# recipients in it.
v1_database() {
	sqlite3 -batch "$1" <<-EOF >/dev/null
		PRAGMA journal_mode=WAL;
		$(cat "$BATS_TEST_DIRNAME/fixtures/schema-v1.sql")
		PRAGMA user_version=1;
		INSERT INTO messages (id, received_at, helo, client_addr, protocol, mail_from, size, body)
		VALUES (7, '2026-11-01T10:00:00Z', 'old.example', '192.0.2.1', 'ESMTP',
		        'old@example.org', 9, X'6F6C640D0A00FF0D0A');
		INSERT INTO recipients (message_id, position, address) VALUES (7, 0, 'r0@example.com');
		INSERT INTO recipients (message_id, position, address) VALUES (7, 1, 'r1@example.com');
	EOF
}

@test "the version 1 fixture is schema.sql as first committed" {
	git -C "$REPO" cat-file -e 37d58f8:schema.sql 2>/dev/null || skip "no git history here"
	diff <(git -C "$REPO" show 37d58f8:schema.sql) "$BATS_TEST_DIRNAME/fixtures/schema-v1.sql"
}

@test "a version 1 database is upgraded in place by the first session: old message intact, new one with its DSN columns, same tables as a new file" {
	v1_database "$DB"
	assert_equal "$(q 'PRAGMA user_version')" 1
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> RET=HDRS ENVID=up+2Bgrade BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<b@example.com> NOTIFY=SUCCESS ORCPT=rfc822;b+40example.com\r\nRCPT TO:<c@example.com>\r\nDATA\r\nnew\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	# AUTOINCREMENT goes on from the old rows.
	assert_equal "$(reply 6)" "250 2.0.0 Ok: queued as 8"
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	# The old message, every column, and its recipients.
	assert_equal "$(q "SELECT id, received_at, helo, client_addr, protocol, mail_from, size, hex(body),
		coalesce(body_type, 'NULL'), smtputf8, coalesce(dsn_ret, 'NULL'), coalesce(dsn_envid, 'NULL')
		FROM messages WHERE id = 7")" \
		"7|2026-11-01T10:00:00Z|old.example|192.0.2.1|ESMTP|old@example.org|9|6F6C640D0A00FF0D0A|NULL|0|NULL|NULL"
	assert_equal "$(q "SELECT position, address, coalesce(dsn_notify, 'NULL'), coalesce(dsn_orcpt, 'NULL')
		FROM recipients WHERE message_id = 7 ORDER BY position" | tr '\n' ' ')" \
		"0|r0@example.com|NULL|NULL 1|r1@example.com|NULL|NULL "
	# The new one, with the version 2 columns.
	assert_equal "$(q 'SELECT helo, protocol, mail_from, body_type, smtputf8, dsn_ret, dsn_envid FROM messages WHERE id = 8')" \
		"client.example|UTF8SMTP|a@example.org|8BITMIME|1|HDRS|up+2Bgrade"
	assert_equal "$(q "SELECT position, address, coalesce(dsn_notify, 'NULL'), coalesce(dsn_orcpt, 'NULL')
		FROM recipients WHERE message_id = 8 ORDER BY position" | tr '\n' ' ')" \
		"0|b@example.com|SUCCESS|rfc822;b+40example.com 1|c@example.com|NULL|NULL "
	assert_body 8 'new\r\n'
	assert_equal "$(q 'SELECT count(*) FROM messages')" 2
	# The upgraded tables are those of a file made new: migrations[] and
	# schema.sql have not drifted apart.
	"$SMTPD" --init-db --db "$BATS_TEST_TMPDIR/fresh.db"
	schema_of "$BATS_TEST_TMPDIR/fresh.db" >"$BATS_TEST_TMPDIR/fresh.schema"
	schema_of "$DB" >"$BATS_TEST_TMPDIR/upgraded.schema"
	grep -q '|dsn_orcpt|TEXT|0||0|0$' "$BATS_TEST_TMPDIR/fresh.schema"
	diff "$BATS_TEST_TMPDIR/fresh.schema" "$BATS_TEST_TMPDIR/upgraded.schema"
	assert_equal "$(sqlite3 "$BATS_TEST_TMPDIR/fresh.db" 'PRAGMA user_version')" 3
}

@test "--init-db upgrades a version 1 database too, and a second run changes nothing" {
	v1_database "$DB"
	"$SMTPD" --init-db --db "$DB"
	assert_equal "$(q 'PRAGMA user_version')" 3
	schema_of "$DB" >"$BATS_TEST_TMPDIR/once"
	"$SMTPD" --init-db --db "$DB"
	schema_of "$DB" >"$BATS_TEST_TMPDIR/twice"
	diff "$BATS_TEST_TMPDIR/once" "$BATS_TEST_TMPDIR/twice"
	assert_equal "$(q 'SELECT id, hex(body), smtputf8 FROM messages')" "7|6F6C640D0A00FF0D0A|0"
}

@test "a database of a newer version (4) is refused: 421 4.3.0, exit 1, the file untouched" {
	"$SMTPD" --init-db --db "$DB"
	q 'PRAGMA user_version=4' >/dev/null
	schema_of "$DB" >"$BATS_TEST_TMPDIR/before"
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 1
	assert_codes "421 4.3.0"
	assert_equal "${lines[0]}" "421 4.3.0 mx.test Service not available, try again later"
	assert_equal "${#lines[@]}" 1
	grep -q 'database schema version 4 is newer than this smtpd' "$LOG"
	assert_equal "$(q 'PRAGMA user_version')" 4
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
	schema_of "$DB" >"$BATS_TEST_TMPDIR/after"
	diff "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after"
	# --init-db will not touch it either (exit 2, the usage status).
	run "$SMTPD" --init-db --db "$DB"
	assert_equal "$status" 2
	[[ $output == *"database schema version 4 is newer than this smtpd's (3)"* ]]
}
