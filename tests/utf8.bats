#!/usr/bin/env bats
# SMTPUTF8 (RFC 6531): UTF-8 in addresses and in the EHLO name, only in a
# transaction whose MAIL carries SMTPUTF8 (553 5.6.7 otherwise), always
# well-formed (RFC 3629; 501 otherwise), stored exactly as sent, with
# protocol UTF8SMTP (RFC 6531 3.7.3) in the row and in Received:.

load helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
}
teardown() { net_teardown; common_teardown; }

# The addresses, as UTF-8 bytes: jöran@exämple.org, 用户@例子.广告 and a
# quoted local part "jö ran"@exämple.org.
JORAN='j\xc3\xb6ran@ex\xc3\xa4mple.org'
YONGHU='\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a'
QUOTED='"j\xc3\xb6 ran"@ex\xc3\xa4mple.org'
# bücher.例子, an EHLO name.
BUCHER='b\xc3\xbccher.\xe4\xbe\x8b\xe5\xad\x90'

NEEDS_UTF8='553 5.6.7 Non-ASCII address or host name needs SMTPUTF8'

# u TEXT - TEXT with its printf %b escapes done, as a shell string.
u() {
	printf '%b' "$1"
}

@test "MAIL with SMTPUTF8: UTF-8 local parts and domains stored as sent, protocol UTF8SMTP, Received with UTF8SMTP" {
	local text='Subject: gr\xc3\xbc\xc3\x9fe\r\nFrom: J\xc3\xb6ran <'"$JORAN"'>\r\n\r\n\xe4\xbd\xa0\xe5\xa5\xbd\r\n'
	smtp 'EHLO client.example\r\nMAIL FROM:<'"$JORAN"'> SMTPUTF8\r\nRCPT TO:<'"$YONGHU"'>\r\nRCPT TO:<'"$QUOTED"'>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n'"$text"'.\r\n'`
		`'MAIL FROM:<a@example.org> smtputf8 BODY=8BITMIME\r\nRCPT TO:<'"$YONGHU"'>\r\nBDAT 7 LAST\r\ncaf\xc3\xa9\r\n'`
		`'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nascii\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" \
		"250 2.1.0" "250 2.1.5" "250 2.0.0" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT protocol, smtputf8, mail_from FROM messages WHERE id = 1')" "UTF8SMTP|1|$(u "$JORAN")"
	assert_equal "$(q 'SELECT address FROM recipients WHERE message_id = 1 ORDER BY position' | tr '\n' ' ')" \
		"$(u "$YONGHU") $(u "$QUOTED") b@example.com "
	assert_body 1 "$text"
	# SMTPUTF8 is kept whatever its case; with one recipient, "for" names
	# it in UTF-8.
	assert_equal "$(q 'SELECT protocol, smtputf8, mail_from, body_type FROM messages WHERE id = 2')" \
		"UTF8SMTP|1|a@example.org|8BITMIME"
	assert_body 2 'caf\xc3\xa9\r\n'
	# It does not outlive its transaction.
	assert_equal "$(q 'SELECT protocol, smtputf8 FROM messages WHERE id = 3')" "ESMTP|0"
	assert_body 3 'ascii\r\n'
	# The Received: lines themselves, not only as trace_of builds them.
	body_to 1 "$BATS_TEST_TMPDIR/b1"
	body_to 2 "$BATS_TEST_TMPDIR/b2"
	grep -q $'^\tby mx.test with UTF8SMTP id 1;\r$' "$BATS_TEST_TMPDIR/b1"
	grep -q $'^\tby mx.test with UTF8SMTP id 2\r$' "$BATS_TEST_TMPDIR/b2"
	grep -qF "$(u '\tfor <'"$YONGHU"'>;\r')" "$BATS_TEST_TMPDIR/b2"
	grep -qF "Return-Path: <$(u "$JORAN")>" "$BATS_TEST_TMPDIR/b1"
}

@test "without SMTPUTF8, a UTF-8 address in MAIL or RCPT gets 553 5.6.7" {
	smtp 'EHLO client.example\r\nMAIL FROM:<'"$JORAN"'>\r\nMAIL FROM:<j\xc3\xb6ran@example.org>\r\nMAIL FROM:<a@ex\xc3\xa4mple.org> SIZE=10\r\n'`
		`'MAIL FROM:<a@example.org>\r\nRCPT TO:<'"$YONGHU"'>\r\nRCPT TO:<'"$QUOTED"'>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "553 5.6.7" "553 5.6.7" "553 5.6.7" "250 2.1.0" "553 5.6.7" "553 5.6.7" \
		"250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 2)" "$NEEDS_UTF8"
	assert_equal "$(reply 6)" "$NEEDS_UTF8"
	# Only the ASCII recipient; the message is plain ESMTP.
	assert_equal "$(q 'SELECT protocol, smtputf8, mail_from FROM messages')" "ESMTP|0|a@example.org"
	assert_equal "$(rcpts_of 1)" "b@example.com"
	assert_body 1 'x\r\n'
}

@test "a UTF-8 EHLO name: MAIL without SMTPUTF8 gets 553 5.6.7, with it the message is stored with the name as sent" {
	smtp 'EHLO '"$BUCHER"'\r\nMAIL FROM:<a@example.org>\r\nMAIL FROM:<a@example.org> SMTPUTF8\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\n'`
		`'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\ny\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "553 5.6.7" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" \
		250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 2)" "$NEEDS_UTF8"
	assert_equal "$(q 'SELECT helo, protocol, smtputf8 FROM messages WHERE id = 1')" "$(u "$BUCHER")|UTF8SMTP|1"
	assert_body 1 'x\r\n'
	body_to 1 "$BATS_TEST_TMPDIR/b1"
	grep -qF "$(u 'Received: from '"$BUCHER"'\r')" "$BATS_TEST_TMPDIR/b1"
	# A later ASCII EHLO clears it.
	assert_equal "$(q 'SELECT helo, protocol, smtputf8 FROM messages WHERE id = 2')" "client.example|ESMTP|0"
	assert_body 2 'y\r\n'
}

@test "malformed UTF-8 in MAIL, RCPT or EHLO is refused (501 5.1.7, 501 5.1.3, 501 5.5.4), SMTPUTF8 or not" {
	local bad
	# Overlong C0 80, a lone continuation byte, a surrogate (U+D800),
	# F5 (past U+10FFFF), a sequence cut short, overlong E0 80 80, F4 90.
	for bad in '\xc0\x80' '\x80' '\xed\xa0\x80' '\xf5\x80\x80\x80' '\xe4\xbd' '\xe0\x80\x80' '\xf4\x90\x80\x80'; do
		rm -f "$DB" "$DB-wal" "$DB-shm"
		smtp 'EHLO x'"$bad"'y.example\r\nEHLO client.example\r\n'`
			`'MAIL FROM:<a'"$bad"'@example.org> SMTPUTF8\r\nMAIL FROM:<a@ex'"$bad"'.org> SMTPUTF8\r\nMAIL FROM:<a'"$bad"'@example.org>\r\n'`
			`'MAIL FROM:<a@example.org> SMTPUTF8\r\nRCPT TO:<b'"$bad"'@example.com>\r\nRCPT TO:<b@example.com'"$bad"'>\r\nRCPT TO:<"b'"$bad"'"@example.com>\r\n'`
			`'DATA\r\nQUIT\r\n'
		echo "bytes: $bad"
		assert_equal "$status" 0
		assert_codes 220 "501 5.5.4" 250 "501 5.1.7" "501 5.1.7" "501 5.1.7" \
			"250 2.1.0" "501 5.1.3" "501 5.1.3" "501 5.1.3" "503 5.5.1" "221 2.0.0"
		assert_equal "$(reply 1)" "501 5.5.4 Bad parameter: host name is not valid UTF-8"
		assert_equal "$(reply 3)" "501 5.1.7 Bad sender address: invalid UTF-8"
		assert_equal "$(reply 7)" "501 5.1.3 Bad recipient address: invalid UTF-8"
		assert_nothing_stored
	done
}

@test "SMTPUTF8 takes no value, comes once, and belongs to MAIL only" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SMTPUTF8=yes\r\nMAIL FROM:<a@example.org> SMTPUTF8=\r\nMAIL FROM:<a@example.org> SMTPUTF8 SMTPUTF8\r\n'`
		`'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com> SMTPUTF8\r\nDATA\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "501 5.5.4" "501 5.5.4" "501 5.5.4" "250 2.1.0" "555 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_equal "$(reply 2)" "501 5.5.4 Bad parameter: SMTPUTF8 takes no value"
	assert_equal "$(reply 3)" "501 5.5.4 Bad parameter: parameter syntax"
	assert_equal "$(reply 4)" "501 5.5.4 Bad parameter: parameter given twice"
	assert_equal "$(reply 6)" "555 5.5.4 Parameter not supported"
	assert_nothing_stored
}

@test "8-bit bytes in NOOP, VRFY and other commands without UTF-8 arguments: 500 5.5.2, even in an SMTPUTF8 transaction" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SMTPUTF8\r\nNOOP caf\xc3\xa9\r\nVRFY <'"$JORAN"'>\r\nVRFY \xc0\x80\r\n'`
		`'HELP b\xc3\xbccher\r\nRCPT TO:<'"$JORAN"'>\r\nRSET \xc3\xa9\r\nQUIT \xc3\xa9\r\nDATA\r\nkept\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" "250 2.1.5" \
		"500 5.5.2" "500 5.5.2" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 3)" "500 5.5.2 Command contains invalid characters"
	assert_equal "$(reply 4)" "500 5.5.2 Command contains invalid characters"
	# Neither the RSET nor the QUIT with 8-bit bytes acted.
	assert_equal "$(q 'SELECT protocol, mail_from FROM messages')" "UTF8SMTP|a@example.org"
	assert_equal "$(rcpts_of 1)" "$(u "$JORAN")"
	assert_body 1 'kept\r\n'
}

@test "smtplib over TCP with SMTPUTF8: UTF-8 sender and recipients stored exactly" {
	start_server
	client send-smtputf8 "$PORT" "$BATS_TEST_TMPDIR/msg"
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT helo, client_addr, protocol, smtputf8, mail_from FROM messages')" \
		"$(smtplib_helo)|127.0.0.1|UTF8SMTP|1|$(u "$JORAN")"
	assert_equal "$(rcpts_of 1)" "$(u "$YONGHU") b@example.com"
	assert_body_file 1 "$BATS_TEST_TMPDIR/msg"
}
