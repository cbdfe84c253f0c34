#!/usr/bin/env bats
# A real sending MTA: a private Postfix instance (in helpers.bash)
# relays what its sendmail is given to smtpd on a loopback port; and
# Postfix's smtp-source puts load on smtpd.  Each test checks what Postfix
# said it sent (its log has the whole conversation) against what smtpd
# stored, envelope and body byte for byte.

load helpers
load tls_helpers

setup() {
	common_setup
	pf_setup
}

teardown() {
	local rc=0
	pf_stop
	net_teardown
	pf_system_untouched || rc=1
	common_teardown || rc=1
	return $rc
}

# sent - the lines Postfix sent to smtpd, in order.
sent() {
	pf_conversation | sed -n 's/^> //p'
}

@test "Postfix relays a message for two recipients with dot lines: envelope, its Received header, the text as submitted" {
	start_server
	pf_start "$PORT"
	# Date and Message-ID given, so Postfix adds only its Received:.
	printf '%s\n' 'From: Alice <alice@sender.test>' 'To: carol@example.net, bob@example.com' \
		'Subject: via Postfix' 'Date: Thu, 26 Nov 2026 11:00:00 +0000' 'Message-ID: <pf1@sender.test>' \
		'' '.leading dot' '..two dots' '.' '. ' 'end .' '...' >"$BATS_TEST_TMPDIR/msg"
	# -i: a lone "." is text, not the end of the input.
	pf_sendmail -i -f alice@sender.test carol@example.net bob@example.com <"$BATS_TEST_TMPDIR/msg"
	pf_wait_messages 1
	pf_queue_empty
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from, body_type IS NULL, smtputf8, dsn_ret IS NULL, dsn_envid IS NULL FROM messages')" \
		"sender.test|127.0.0.1|ESMTP|alice@sender.test|1|0|1|1"
	# Recipients in the order Postfix sent them (its queue manager sorts
	# them), each with the ORCPT Postfix adds since smtpd offers DSN.
	sent >"$BATS_TEST_TMPDIR/sent"
	cat "$BATS_TEST_TMPDIR/sent"
	assert_equal "$(grep -c '^RCPT TO:' "$BATS_TEST_TMPDIR/sent")" 2
	assert_equal "$(sed -n 's/^RCPT TO:<\([^>]*\)>.*/\1/p' "$BATS_TEST_TMPDIR/sent" | tr '\n' ' ')" "$(rcpts_of 1) "
	assert_equal "$(q "SELECT group_concat(address || '|' || coalesce(dsn_notify, 'NULL') || '|' || dsn_orcpt, ' ') FROM (SELECT * FROM recipients ORDER BY position)")" \
		"bob@example.com|NULL|rfc822;bob@example.com carol@example.net|NULL|rfc822;carol@example.net"
	grep -qxE 'RCPT TO:<bob@example.com> ORCPT=rfc822;bob@example.com' "$BATS_TEST_TMPDIR/sent"
	pf_assert_body 1 "$(pf_queue_id alice@sender.test)" "$BATS_TEST_TMPDIR/msg"
	# What Postfix did: EHLO, then MAIL (with SIZE, no BODY for 7-bit
	# text), the RCPTs and DATA pipelined before any reply, DATA not BDAT.
	grep -qx 'EHLO sender.test' "$BATS_TEST_TMPDIR/sent"
	grep -qxE 'MAIL FROM:<alice@sender.test> SIZE=[0-9]+' "$BATS_TEST_TMPDIR/sent"
	pf_conversation | grep -A4 '^> MAIL FROM:' | head -5 >"$BATS_TEST_TMPDIR/pipelined"
	cat "$BATS_TEST_TMPDIR/pipelined"
	assert_equal "$(cut -c1-9 "$BATS_TEST_TMPDIR/pipelined" | tr '\n' '|')" "> MAIL FR|> RCPT TO|> RCPT TO|> DATA|< 250 2.1|"
	assert_equal "$(grep -c '^BDAT' "$BATS_TEST_TMPDIR/sent" || true)" 0
	grep -qF 'status=sent (250 2.0.0 Ok: queued as 1)' "$PF_LOG"
}

@test "Postfix with smtp_tls_security_level = encrypt relays over STARTTLS: its log shows the TLS session, ESMTPS stored" {
	make_certs "$BATS_TEST_TMPDIR"
	start_server --tls-cert "$BATS_TEST_TMPDIR/ec.crt" --tls-key "$BATS_TEST_TMPDIR/ec.key" \
		--tls-helper "$MAILTLS"
	PF_TLS_LEVEL=encrypt pf_start "$PORT" "smtp_tls_loglevel = 1"
	printf '%s\n' 'From: alice@sender.test' 'To: bob@example.com' 'Subject: TLS' \
		'Date: Thu, 26 Nov 2026 11:00:00 +0000' 'Message-ID: <pftls@sender.test>' '' '.dot' 'body' >"$BATS_TEST_TMPDIR/msg"
	pf_sendmail -i -f alice@sender.test bob@example.com <"$BATS_TEST_TMPDIR/msg"
	pf_wait_messages 1
	pf_queue_empty
	grep -E 'TLS connection established to 127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]+: TLSv1\.3 with cipher TLS_' "$PF_LOG"
	sent | grep -qx 'STARTTLS'
	assert_equal "$(q 'SELECT helo, protocol, tls_version FROM messages')" "sender.test|ESMTPS|TLSv1.3"
	assert_equal "$(q 'SELECT tls_cipher FROM messages')" "$(grep -oE 'TLSv1\.3 with cipher TLS_[A-Z0-9_]+' "$PF_LOG" | head -1 | sed 's/.* //')"
	pf_assert_body 1 "$(pf_queue_id alice@sender.test)" "$BATS_TEST_TMPDIR/msg"
	grep -qF 'status=sent (250 2.0.0 Ok: queued as 1)' "$PF_LOG"
}

@test "Postfix sends 8-bit text with BODY=8BITMIME: body_type stored, bytes as submitted" {
	start_server
	pf_start "$PORT"
	printf 'From: alice@sender.test\nTo: bob@example.com\nSubject: 8bit\nDate: Thu, 26 Nov 2026 11:00:00 +0000\nMessage-ID: <pf2@sender.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9 \xe2\x82\xac\n\xff\x80 raw\n.\xc3\xa9\n' >"$BATS_TEST_TMPDIR/msg"
	pf_sendmail -i -f alice@sender.test bob@example.com <"$BATS_TEST_TMPDIR/msg"
	pf_wait_messages 1
	pf_queue_empty
	sent | grep -E '^MAIL FROM:'
	sent | grep -qxE 'MAIL FROM:<alice@sender.test> SIZE=[0-9]+ BODY=8BITMIME'
	assert_equal "$(q 'SELECT protocol, body_type, smtputf8 FROM messages')" "ESMTP|8BITMIME|0"
	assert_equal "$(rcpts_of 1)" "bob@example.com"
	pf_assert_body 1 "$(pf_queue_id alice@sender.test)" "$BATS_TEST_TMPDIR/msg"
}

@test "Postfix sends SMTPUTF8 for a UTF-8 recipient: stored as sent, protocol UTF8SMTP" {
	start_server
	pf_start "$PORT"
	local rcpt=$'j\xc3\xb6ran@ex\xc3\xa4mple.org'
	printf 'From: alice@sender.test\nTo: %s\nSubject: gr\xc3\xbc\xc3\x9fe\nDate: Thu, 26 Nov 2026 11:00:00 +0000\nMessage-ID: <pf3@sender.test>\n\nhallo\n' \
		"$rcpt" >"$BATS_TEST_TMPDIR/msg"
	pf_sendmail -i -f alice@sender.test "$rcpt" <"$BATS_TEST_TMPDIR/msg"
	pf_wait_messages 1
	pf_queue_empty
	sent | grep -E '^(MAIL|RCPT)'
	sent | grep -qxE 'MAIL FROM:<alice@sender.test> SIZE=[0-9]+ SMTPUTF8'
	assert_equal "$(q 'SELECT helo, protocol, smtputf8, mail_from FROM messages')" "sender.test|UTF8SMTP|1|alice@sender.test"
	# RFC 6533 utf-8-addr-xtext in ORCPT, as Postfix sends it.
	assert_equal "$(q 'SELECT address, dsn_orcpt FROM recipients')" "$rcpt|utf-8;j\\x{F6}ran@ex\\x{E4}mple.org"
	pf_assert_body 1 "$(pf_queue_id alice@sender.test)" "$BATS_TEST_TMPDIR/msg"
	body_to 1 "$BATS_TEST_TMPDIR/b1"
	grep -q $'^\tby mx.test with UTF8SMTP id 1$' <(tr -d '\r' <"$BATS_TEST_TMPDIR/b1")
}

@test "Postfix passes sendmail's DSN requests on: RET, ENVID, NOTIFY and ORCPT stored" {
	start_server
	pf_start "$PORT"
	printf 'From: alice@sender.test\nTo: bob@example.com\nSubject: dsn\nDate: Thu, 26 Nov 2026 11:00:00 +0000\nMessage-ID: <pf4@sender.test>\n\nhi\n' >"$BATS_TEST_TMPDIR/msg"
	pf_sendmail -i -N success,delay -R hdrs -V 'env+id.1' -f alice@sender.test bob@example.com <"$BATS_TEST_TMPDIR/msg"
	pf_wait_messages 1
	pf_queue_empty
	sent | grep -E '^(MAIL|RCPT)'
	sent | grep -qxE 'MAIL FROM:<alice@sender.test> SIZE=[0-9]+ ENVID=env\+2Bid\.1 RET=HDRS'
	assert_equal "$(q 'SELECT dsn_ret, dsn_envid FROM messages')" "HDRS|env+2Bid.1"
	assert_equal "$(q 'SELECT address, dsn_notify, dsn_orcpt FROM recipients')" "bob@example.com|SUCCESS,DELAY|rfc822;bob@example.com"
	pf_assert_body 1 "$(pf_queue_id alice@sender.test)" "$BATS_TEST_TMPDIR/msg"
	# smtpd offers DSN, so Postfix owes no "relayed" notice: once the
	# queue manager has removed the message (any notice is queued before
	# that), nothing else is there or came.
	pf_wait_log "$(pf_queue_id alice@sender.test): removed"
	server_idle
	pf_queue_empty
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
}

# assert_source_rows N RCPTS - the database holds N messages, each as
# smtp-source sends it with -l 4096 -M source.test -f a@example.org: the
# recipients RCPTS (space-separated, in order), HELO, the trace headers,
# its four headers, and its 4096 bytes of payload, exactly.
assert_source_rows() {
	client source-rows "$DB" "$1" "$2"
}

@test "smtp-source: 20 parallel sessions, 2000 messages of 4 KiB, a connection each: 2000 rows, each exact" {
	start_server
	local start=$SECONDS
	smtp-source -c -s 20 -m 2000 -l 4096 -M source.test -f a@example.org -t b@example.org \
		"127.0.0.1:$PORT" >"$BATS_TEST_TMPDIR/count"
	echo "smtp-source took $((SECONDS - start)) s"
	server_idle
	# -c prints a running count of completed DATA commands.
	assert_equal "$(tr '\r' '\n' <"$BATS_TEST_TMPDIR/count" | grep . | tail -n 1)" 2000
	assert_source_rows 2000 "b@example.org"
	# One session per message: 2000 sessions ended by QUIT, each with one
	# message (start_server's probe is one more session, without any).
	assert_equal "$(grep -c ' disconnect .* messages=1 errors=0 end=quit$' "$LOG")" 2000
	assert_equal "$(grep -c ' disconnect .* end=quit$' "$LOG")" 2000
}

@test "smtp-source -d: 20 sessions share 2000 messages, each session on one connection, 3 recipients a message" {
	start_server
	local start=$SECONDS
	smtp-source -c -d -r 3 -s 20 -m 2000 -l 4096 -M source.test -f a@example.org -t b@example.org \
		"127.0.0.1:$PORT" >"$BATS_TEST_TMPDIR/count"
	echo "smtp-source -d took $((SECONDS - start)) s"
	server_idle
	assert_equal "$(tr '\r' '\n' <"$BATS_TEST_TMPDIR/count" | grep . | tail -n 1)" 2000
	# -r 3 puts a number in front of the address for all but one.
	assert_source_rows 2000 "3b@example.org 2b@example.org b@example.org"
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 6000
	# 20 sessions, 2000 messages between them.
	assert_equal "$(grep -c ' disconnect .* errors=0 end=quit$' "$LOG")" 20
	assert_equal "$(sed -n 's/.* disconnect .* messages=\([0-9]*\) .*/\1/p' "$LOG" | awk '{ n += $1 } END { print n }')" 2000
}
