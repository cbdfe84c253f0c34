#!/usr/bin/env bats
# Real clients over TCP, for what tcp.bats does not cover: SMTPUTF8 as
# smtplib's send_message and curl use it on their own when an address is
# not ASCII.  (tcp.bats has smtplib with several recipients and dot lines,
# swaks --pipeline with a body file of dot lines, curl and msmtp; swaks
# and smtplib cannot send BDAT, which bdat.bats covers with raw bytes.)

load helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
}
teardown() { net_teardown; common_teardown; }

@test "smtplib send_message with UTF-8 addresses in To, Cc and Bcc: SMTPUTF8 and BODY=8BITMIME, stored exactly" {
	start_server
	client send-message-utf8 "$PORT" "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/envelope"
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT client_addr, protocol, smtputf8, body_type FROM messages')" "127.0.0.1|UTF8SMTP|1|8BITMIME"
	assert_equal "$(q 'SELECT mail_from FROM messages')|$(rcpts_of 1)" "$(cat "$BATS_TEST_TMPDIR/envelope")"
	assert_body_file 1 "$BATS_TEST_TMPDIR/want"
}

# curl_utf8 LOCALE - send mail.txt with curl under LOCALE from jöran@exämple.org
# to 用户@例子.广告 and b@example.com; its protocol trace in curl.log.
curl_utf8() {
	LC_ALL=$1 curl -v -sS --max-time "$WAIT_LIMIT" "smtp://127.0.0.1:$PORT/client.example" \
		--mail-from $'j\xc3\xb6ran@ex\xc3\xa4mple.org' \
		--mail-rcpt $'\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a' \
		--mail-rcpt b@example.com \
		-T "$BATS_TEST_TMPDIR/mail.txt" 2>"$BATS_TEST_TMPDIR/curl.log"
	server_idle
	grep -E '^[<>] (MAIL|RCPT)' "$BATS_TEST_TMPDIR/curl.log"
}

@test "curl with UTF-8 addresses sends SMTPUTF8; in a UTF-8 locale the domains go as A-labels; all stored as sent" {
	start_server
	printf 'Subject: idn\r\n\r\n.dot\r\nhi\r\n' >"$BATS_TEST_TMPDIR/mail.txt"
	# In the C locale curl cannot read the names as UTF-8 and sends them
	# as they are.
	curl_utf8 C
	grep -qx $'> MAIL FROM:<j\xc3\xb6ran@ex\xc3\xa4mple.org> SIZE=26 SMTPUTF8\r' "$BATS_TEST_TMPDIR/curl.log"
	assert_equal "$(q 'SELECT helo, protocol, smtputf8, mail_from FROM messages WHERE id = 1')" \
		$'client.example|UTF8SMTP|1|j\xc3\xb6ran@ex\xc3\xa4mple.org'
	assert_equal "$(rcpts_of 1)" $'\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a b@example.com'
	assert_body 1 'Subject: idn\r\n\r\n.dot\r\nhi\r\n'
	# In a UTF-8 locale it converts the domains with IDNA (libidn2) and
	# keeps the local part, which still needs SMTPUTF8.
	curl_utf8 C.UTF-8
	grep -qx $'> MAIL FROM:<j\xc3\xb6ran@xn--exmple-cua.org> SIZE=26 SMTPUTF8\r' "$BATS_TEST_TMPDIR/curl.log"
	assert_equal "$(q 'SELECT helo, protocol, smtputf8, mail_from FROM messages WHERE id = 2')" \
		$'client.example|UTF8SMTP|1|j\xc3\xb6ran@xn--exmple-cua.org'
	assert_equal "$(rcpts_of 2)" $'\xe7\x94\xa8\xe6\x88\xb7@xn--fsqu00a.xn--4rr70v b@example.com'
	assert_body 2 'Subject: idn\r\n\r\n.dot\r\nhi\r\n'
}
