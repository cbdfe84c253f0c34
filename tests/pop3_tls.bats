#!/usr/bin/env bats
# pop3d with TLS through mailtls: STLS on port 110 (RFC 2595) and TLS
# from the first byte on port 995 (mailtls --implicit), with poplib and
# curl over loopback TCP, every message compared with the database; the
# refusals: logins before TLS, bytes behind STLS, a second STLS.

load helpers
load tls_helpers
load pop3_helpers

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR"
	make_certs "$CERTS"
}

setup() {
	pop3_setup
	unset TLS_PROTOCOL TLS_CIPHER TLS_SNI
	TLSOPTS=(--tls-cert "$CERTS/ec.crt" --tls-key "$CERTS/ec.key" --tls-helper "$MAILTLS")
	add_account alice 'open sesame' alice@example.com
	deliver alice@example.com 'Subject: one\r\n\r\nfirst\r\n'
	deliver alice@example.com 'Subject: two\r\n\r\n..dot\r\nsecond\r\n'
}
teardown() {
	net_teardown
	common_teardown
}

CAPS=(TOP UIDL RESP-CODES PIPELINING AUTH-RESP-CODE)

@test "with the TLS options CAPA offers STLS; a login before TLS is refused where plaintext is not allowed" {
	pop3 "CAPA\r\nUSER alice\r\nAUTH PLAIN\r\nSTLS now\r\nQUIT\r\n" "${TLSOPTS[@]}" --plaintext-login never
	assert_replies '+OK pop.test POP3 ready' '+OK Capability list follows' "${CAPS[@]}" STLS \
		'IMPLEMENTATION pop3d' . \
		'-ERR [AUTH] Plaintext login is not allowed here: use STLS first' \
		'-ERR [AUTH] Plaintext login is not allowed here: use STLS first' \
		'-ERR Syntax: STLS' '+OK pop.test closing connection'
	# Without them, STLS is refused and not offered.
	pop3 'STLS\r\nQUIT\r\n'
	assert_replies '+OK pop.test POP3 ready' '-ERR STLS is not available' '+OK pop.test closing connection'
}

@test "commands pipelined behind STLS end the session: none is executed, no TLS, nothing deleted" {
	pop3 'STLS\r\nUSER alice\r\nPASS open sesame\r\nDELE 1\r\nQUIT\r\n' "${TLSOPTS[@]}"
	assert_equal "$status" 0
	assert_replies '+OK pop.test POP3 ready' \
		'-ERR Commands sent after STLS before its reply; closing connection'
	grep -q 'end=sent data after STLS' "$LOG"
	! grep -q ': login ' "$LOG"
	# Over TCP, in one write, the same.
	serve_pop3 "${TLSOPTS[@]}" --plaintext-login never
	run python3 "$POP3PY" raw 127.0.0.1 "$PORT" "$(printf 'STLS\r\nUSER alice\r\n' | od -An -tx1 | tr -d ' \n')"
	assert_equal "$(tr -d '\r' <<<"$output")" '+OK pop.test POP3 ready
-ERR Commands sent after STLS before its reply; closing connection'
}

@test "poplib stls(): CAPA before and after, login under TLS only, every message equal to the database" {
	serve_pop3 "${TLSOPTS[@]}" --plaintext-login never
	run python3 "$POP3PY" poplib 127.0.0.1 "$PORT" alice 'open sesame' "$DB" stls "$CERTS/ca.pem"
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$output" "2 messages, $(q 'SELECT sum(length(body)) FROM messages') octets, all equal"
	server_idle
	grep -qE 'login client=127.0.0.1 user=alice tls=TLSv1\.[23]$' "$LOG"
	grep -qE 'user=alice retr=2/[0-9]+ top=2/[0-9]+ dele=0 errors=0 tls=TLSv1\.[23] end=quit' "$LOG"
}

@test "curl with --ssl-reqd (STLS): LIST, RETR and DELE" {
	serve_pop3 "${TLSOPTS[@]}" --plaintext-login never
	local url="pop3://127.0.0.1:$PORT"
	run curl -sS --ssl-reqd --cacert "$CERTS/ca.pem" -u 'alice:open sesame' "$url/"
	assert_equal "$status" 0
	assert_equal "$(tr -d '\r' <<<"$output")" "1 $(q 'SELECT size FROM messages WHERE id = 1')
2 $(q 'SELECT size FROM messages WHERE id = 2')"
	curl -sS --ssl-reqd --cacert "$CERTS/ca.pem" -u 'alice:open sesame' "$url/2" -o "$BATS_TEST_TMPDIR/got"
	body_to 2 "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	run curl -sS --ssl-reqd --cacert "$CERTS/ca.pem" -u 'alice:open sesame' -X 'DELE 1' -I "$url/"
	assert_equal "$status" 0
	server_idle
	assert_equal "$(q 'SELECT message_id FROM mailbox_state')" 1
	# Without TLS, curl's login is refused.
	run curl -sS -u 'alice:open sesame' "$url/"
	[[ $status != 0 ]]
}

@test "port 995 style: pop3d behind mailtls --implicit, with poplib POP3_SSL and curl pop3s://; logins allowed, no STLS" {
	serve_cmd 127.0.0.1 "$MAILTLS" --implicit --log stderr --cert "$CERTS/ec.crt" --key "$CERTS/ec.key" -- \
		"$POP3D" --db "$DB" --hostname pop.test --log stderr --plaintext-login never
	run python3 "$POP3PY" poplib 127.0.0.1 "$PORT" alice 'open sesame' "$DB" ssl "$CERTS/ca.pem"
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$output" "2 messages, $(q 'SELECT sum(length(body)) FROM messages') octets, all equal"
	curl -sS --cacert "$CERTS/ca.pem" -u 'alice:open sesame' "pop3s://127.0.0.1:$PORT/1" -o "$BATS_TEST_TMPDIR/got"
	body_to 1 "$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	server_idle
	# The client's address comes through mailtls's environment.
	grep -qE 'login client=127.0.0.1 user=alice tls=TLSv1\.[23]$' "$LOG"
}

@test "after STLS the session starts afresh: USER given before is forgotten, CAPA offers no STLS, a second STLS is refused" {
	serve_pop3 "${TLSOPTS[@]}"
	run python3 "$POP3PY" tlsscript 127.0.0.1 "$PORT" "$CERTS/ca.pem" 'USER alice' \
		'PASS open sesame|CAPA|STLS|USER alice|PASS open sesame|STAT|QUIT'
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$(tr -d '\r' <<<"$output")" "+OK pop.test POP3 ready
+OK Send the password
+OK Begin TLS negotiation
-ERR Send USER first
+OK Capability list follows
TOP
UIDL
RESP-CODES
PIPELINING
AUTH-RESP-CODE
USER
SASL PLAIN
IMPLEMENTATION pop3d
.
-ERR TLS is already active
+OK Send the password
+OK Logged in, 2 messages ($(q 'SELECT sum(size) FROM messages') octets)
+OK 2 $(q 'SELECT sum(size) FROM messages')
+OK pop.test closing connection"
}
