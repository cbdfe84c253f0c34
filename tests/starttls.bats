#!/usr/bin/env bats
# STARTTLS in smtpd (RFC 3207) through mailtls: the commands' rules as
# scripted sessions, then real clients over loopback TCP through
# systemd-socket-activate (openssl s_client, gnutls-cli, swaks, curl,
# Python smtplib), every message checked byte for byte, and the
# refusals: bytes behind STARTTLS, garbage, old TLS versions, a stalled
# handshake, a second STARTTLS.

load helpers
load tls_helpers

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR"
	make_certs "$CERTS"
}

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP TLS_PROTOCOL TLS_CIPHER TLS_SNI
	TLSOPTS=(--tls-cert "$CERTS/ec.crt" --tls-key "$CERTS/ec.key" --tls-helper "$MAILTLS")
	printf 'Subject: over TLS\r\n\r\nline one\r\n..dot line\r\n' >"$BATS_TEST_TMPDIR/mail.txt"
	printf 'Subject: over TLS\r\n\r\nline one\r\n.dot line\r\n' >"$BATS_TEST_TMPDIR/stored.txt"
	"$SMTPD" --init-db --db "$DB"
}
teardown() { net_teardown; common_teardown; }

# serve_tls [OPTION...] - smtpd with STARTTLS on 127.0.0.1:$PORT.
serve_tls() {
	serve_cmd 127.0.0.1 "$SMTPD" --db "$DB" --hostname mx.test --log stderr "${TLSOPTS[@]}" "$@"
}

# assert_tls_message PROTOCOL HELO - exactly one message, received over
# TLS 1.2 or 1.3 with PROTOCOL, stored byte for byte (stored.txt).
assert_tls_message() {
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT client_addr, helo, protocol, mail_from FROM messages')" "127.0.0.1|$2|$1|a@b.test"
	[[ $(q 'SELECT tls_version FROM messages') =~ ^TLSv1\.[23]$ ]]
	[[ $(q 'SELECT tls_cipher FROM messages') =~ ^TLS_[A-Z0-9_]+$ ]]
	assert_equal "$(rcpts_of 1)" "c@d.test"
	assert_body_file 1 "$BATS_TEST_TMPDIR/stored.txt"
	grep -q "^	by mx.test with $1 (TLSv1\.[23] TLS_[A-Z0-9_]*) id 1" "$BATS_TEST_TMPDIR/got.1"
}

# session_after_tls - what a client sends once TLS is up.
session_after_tls() {
	printf 'EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n'
	cat "$BATS_TEST_TMPDIR/mail.txt"
	printf '.\r\nQUIT\r\n'
}

@test "without the TLS options: no STARTTLS in EHLO or HELP, and STARTTLS is an unknown command" {
	smtp 'EHLO client.test\r\nHELP\r\nSTARTTLS\r\nQUIT\r\n'
	assert_codes "220" "250" "214 2.0.0" "500 5.5.2" "221 2.0.0"
	[[ $output != *STARTTLS* ]]
}

# no_waiting_mailtls - no mailtls of this test waits for a STARTTLS.
no_waiting_mailtls() { ! pgrep -f -- "--cert $CERTS/.*--wait-start" >/dev/null; }

@test "with them, a session without STARTTLS: mailtls (started with the connection) ends with it, quietly" {
	smtp 'EHLO client.test\r\nQUIT\r\n' "${TLSOPTS[@]}"
	assert_codes "220" "250" "221 2.0.0"
	# smtpd has exited; mailtls learns it from its closed fd 3, and must
	# end on its own, saying nothing.
	wait_until "mailtls --wait-start has ended" no_waiting_mailtls
	! grep -q 'mailtls' "$LOG"
}

@test "with them: EHLO and HELP offer STARTTLS; before EHLO, with an argument, inside a transaction it is refused" {
	smtp 'STARTTLS\r\nEHLO client.test\r\nHELP\r\nSTARTTLS now\r\nMAIL FROM:<a@b.test>\r\nSTARTTLS\r\nRSET\r\nQUIT\r\n' "${TLSOPTS[@]}"
	assert_codes "220" "503 5.5.1" "250" "214 2.0.0" "501 5.5.4" "250 2.1.0" "503 5.5.1" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 1)" "503 5.5.1 Send HELO or EHLO first"
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '^250-STARTTLS$')" 1
	assert_equal "$(reply 3)" "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT STARTTLS"
	assert_equal "$(reply 4)" "501 5.5.4 Syntax: STARTTLS"
	assert_equal "$(reply 6)" "503 5.5.1 Finish or reset the transaction first"
}

@test "commands pipelined behind STARTTLS end the session with 554 5.5.0; none is executed, nothing stored" {
	smtp 'EHLO client.test\r\nSTARTTLS\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: x\r\n\r\ny\r\n.\r\nQUIT\r\n' "${TLSOPTS[@]}"
	assert_equal "$status" 0
	assert_codes "220" "250" "554 5.5.0"
	assert_equal "$(reply 2)" "554 5.5.0 mx.test Protocol error: data sent after STARTTLS"
	grep -q 'disconnect client= helo=client.test messages=0 errors=0 end=sent data after STARTTLS' "$LOG"
	assert_nothing_stored
}

@test "a configured certificate that is unusable: no STARTTLS, mail still received, the error logged each session" {
	TLSOPTS=(--tls-cert "$BATS_TEST_TMPDIR/missing.crt" --tls-key "$CERTS/ec.key" --tls-helper "$MAILTLS")
	smtp 'EHLO client.test\r\nSTARTTLS\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' "${TLSOPTS[@]}"
	assert_codes "220" "250" "500 5.5.2" "250 2.1.0" "250 2.1.5" "354" "250 2.0.0" "221 2.0.0"
	[[ $output != *STARTTLS* ]]
	assert_equal "$(grep -c "STARTTLS not offered client= reason=certificate $BATS_TEST_TMPDIR/missing.crt: No such file or directory" "$LOG")" 1
	assert_body 1 'x\r\n'
	smtp 'QUIT\r\n' "${TLSOPTS[@]}"
	assert_equal "$(grep -c 'STARTTLS not offered' "$LOG")" 2
	smtp 'QUIT\r\n' --tls-cert "$CERTS/ec.crt" --tls-key "$CERTS/ec.key" --tls-helper /nonexistent/mailtls
	grep -q 'STARTTLS not offered client= reason=TLS helper /nonexistent/mailtls: No such file or directory' "$LOG"
}

@test "--check-config: a usable pair is exit 0; a key of another certificate or a missing one exit 1 with the reason" {
	run "$SMTPD" --check-config "${TLSOPTS[@]}"
	assert_equal "$status" 0
	assert_equal "${lines[-1]}" "smtpd: TLS can be offered with $CERTS/ec.crt and $CERTS/ec.key"
	run "$SMTPD" --check-config --tls-cert "$CERTS/ec.crt" --tls-key "$CERTS/rsa.key" --tls-helper "$MAILTLS"
	assert_equal "$status" 1
	assert_equal "$output" "mailtls: certificate $CERTS/ec.crt, key $CERTS/rsa.key: The certificate and the given key do not match."$'\n'"smtpd: TLS cannot be offered (see above)"
	run "$SMTPD" --check-config --tls-cert "$CERTS/ec.crt" --tls-key "$CERTS/none.key" --tls-helper "$MAILTLS"
	assert_equal "$status" 1
	assert_equal "$output" "smtpd: TLS cannot be offered: key $CERTS/none.key: No such file or directory"
	run "$SMTPD" --check-config
	assert_equal "$status" 2
	run "$SMTPD" --tls-cert "$CERTS/ec.crt"
	assert_equal "$status" 2
	[[ ${lines[0]} == "smtpd: --tls-cert and --tls-key go together" ]]
}

@test "openssl s_client -starttls smtp: a message over TLS 1.3, stored byte for byte, ESMTPS with the cipher in Received:" {
	serve_tls
	session_after_tls | openssl s_client -quiet -starttls smtp -connect "127.0.0.1:$PORT" \
		-CAfile "$CERTS/ca.pem" -verify_return_error -tls1_3 >"$BATS_TEST_TMPDIR/replies" 2>/dev/null
	replies_from "$BATS_TEST_TMPDIR/replies"
	assert_codes "250" "250 2.1.0" "250 2.1.5" "354" "250 2.0.0" "221 2.0.0"
	[[ $output != *STARTTLS* ]]
	assert_tls_message ESMTPS client.test
	assert_equal "$(q 'SELECT tls_version FROM messages')" "TLSv1.3"
}

@test "gnutls-cli --starttls-proto=smtp over TLS 1.2: delivered, TLSv1.2 recorded" {
	serve_tls
	session_after_tls | gnutls-cli --logfile="$BATS_TEST_TMPDIR/cli.log" --starttls-proto=smtp --x509cafile="$CERTS/ca.pem" \
		--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2' -p "$PORT" 127.0.0.1 \
		>"$BATS_TEST_TMPDIR/replies" 2>/dev/null
	replies_from "$BATS_TEST_TMPDIR/replies"
	assert_codes "250" "250 2.1.0" "250 2.1.5" "354" "250 2.0.0" "221 2.0.0"
	assert_tls_message ESMTPS client.test
	assert_equal "$(q 'SELECT tls_version, tls_cipher FROM messages')" "TLSv1.2|TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
}

@test "Python smtplib starttls(): verified certificate, a second EHLO without STARTTLS, delivered" {
	serve_tls
	run python3 "$TLSCLIENT" starttls 127.0.0.1 "$PORT" "$CERTS/ca.pem" a@b.test c@d.test "$BATS_TEST_TMPDIR/stored.txt"
	echo "$output"
	assert_equal "$status" 0
	assert_equal "${lines[0]}" "starttls offered True"
	assert_equal "${lines[1]}" "starttls 220"
	assert_equal "${lines[2]}" "starttls offered False"
	assert_equal "${lines[3]}" "refused 0"
	assert_tls_message ESMTPS client.test
}

@test "curl --ssl-reqd: delivered over STARTTLS" {
	serve_tls
	curl -sS --max-time 10 --ssl-reqd --cacert "$CERTS/ca.pem" "smtp://127.0.0.1:$PORT/client.test" \
		--mail-from a@b.test --mail-rcpt c@d.test -T "$BATS_TEST_TMPDIR/stored.txt"
	assert_tls_message ESMTPS client.test
}

@test "swaks --tls: delivered over STARTTLS, every byte known" {
	serve_tls
	printf 'line one\r\n.dot line\r\n' >"$BATS_TEST_TMPDIR/body.txt"
	run swaks --server "127.0.0.1:$PORT" --timeout 10 --tls --helo client.test \
		--from a@b.test --to c@d.test \
		--header 'Date: Thu, 26 Nov 2026 11:00:00 +0000' --header 'Subject: swaks' \
		--header 'Message-Id: <swaks@b.test>' --header 'X-Mailer: swaks' \
		--body "@$BATS_TEST_TMPDIR/body.txt"
	echo "$output"
	assert_equal "$status" 0
	[[ $output == *"<-  220 2.0.0 Ready to start TLS"* ]]
	printf 'Date: Thu, 26 Nov 2026 11:00:00 +0000\r\nTo: c@d.test\r\nFrom: a@b.test\r\nSubject: swaks\r\nMessage-Id: <swaks@b.test>\r\nX-Mailer: swaks\r\n\r\nline one\r\n.dot line\r\n\r\n\r\n' >"$BATS_TEST_TMPDIR/stored.txt"
	assert_tls_message ESMTPS client.test
}

@test "SMTPUTF8 over STARTTLS is UTF8SMTPS" {
	serve_tls
	{
		printf 'EHLO client.test\r\nMAIL FROM:<a@b.test> SMTPUTF8\r\nRCPT TO:<c@d.test>\r\nDATA\r\n'
		cat "$BATS_TEST_TMPDIR/mail.txt"
		printf '.\r\nQUIT\r\n'
	} | openssl s_client -quiet -starttls smtp -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" \
		>"$BATS_TEST_TMPDIR/replies" 2>/dev/null
	replies_from "$BATS_TEST_TMPDIR/replies"
	assert_codes "250" "250 2.1.0" "250 2.1.5" "354" "250 2.0.0" "221 2.0.0"
	assert_tls_message UTF8SMTPS client.test
}

@test "inside TLS the session starts over: MAIL before EHLO is 503, EHLO has no STARTTLS, a second STARTTLS is 503 5.5.1" {
	serve_tls
	printf 'MAIL FROM:<a@b.test>\r\nEHLO again.test\r\nSTARTTLS\r\nQUIT\r\n' |
		openssl s_client -quiet -starttls smtp -connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" \
			>"$BATS_TEST_TMPDIR/replies" 2>/dev/null
	replies_from "$BATS_TEST_TMPDIR/replies"
	assert_codes "503 5.5.1" "250" "503 5.5.1" "221 2.0.0"
	assert_equal "$(reply 0)" "503 5.5.1 Send HELO or EHLO first"
	assert_equal "$(reply 2)" "503 5.5.1 TLS already active"
	[[ $output != *STARTTLS* ]]
	server_idle
	grep -q 'disconnect client=127.0.0.1 helo=again.test messages=0 errors=2 end=quit' "$LOG"
}

@test "over TCP: a command in the same write as STARTTLS gets 554 5.5.0 and is never executed" {
	serve_tls
	run python3 "$TLSCLIENT" pipelined 127.0.0.1 "$PORT" 'MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n'
	echo "$output"
	assert_equal "${lines[-2]}" "554 5.5.0 mx.test Protocol error: data sent after STARTTLS"
	assert_equal "${lines[-1]}" "eof"
	server_idle
	grep -q 'end=sent data after STARTTLS' "$LOG"
	! grep -q 'mailtls\[' "$LOG"
	assert_nothing_stored
}

@test "garbage instead of a ClientHello: mailtls refuses it, smtpd ends quietly (exit 0), nothing stored" {
	serve_tls
	run python3 "$TLSCLIENT" garbage 127.0.0.1 "$PORT" starttls
	echo "$output"
	assert_equal "${lines[-2]}" "220 2.0.0 Ready to start TLS"
	assert_equal "${lines[-1]}" "closed no smtp reply"
	server_idle
	grep -q 'mailtls\[[0-9]*\]: TLS handshake failed client=127.0.0.1 reason=' "$LOG"
	grep -q 'smtpd\[[0-9]*\]: disconnect client=127.0.0.1 helo=client.test messages=0 errors=0 end=TLS handshake failed' "$LOG"
	grep -q 'died with code 0' "$LOG"
	assert_nothing_stored
}

@test "a client offering only TLS 1.0 and 1.1 fails the handshake" {
	serve_tls
	run gnutls-cli --starttls-proto=smtp --x509cafile="$CERTS/ca.pem" \
		--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0' -p "$PORT" 127.0.0.1 </dev/null
	[[ $status != 0 ]]
	server_idle
	grep -q 'mailtls\[[0-9]*\]: TLS handshake failed client=127.0.0.1 reason=' "$LOG"
	grep -q 'end=TLS handshake failed' "$LOG"
	assert_nothing_stored
}

@test "a client that stalls in the handshake is cut at --tls-handshake-timeout" {
	serve_tls --tls-handshake-timeout 1
	run python3 "$TLSCLIENT" stall 127.0.0.1 "$PORT" starttls
	echo "$output"
	assert_equal "${lines[-2]}" "220 2.0.0 Ready to start TLS"
	assert_equal "${lines[-1]}" "closed True"
	server_idle
	grep -q 'TLS handshake failed client=127.0.0.1 reason=handshake not done within 1 s$' "$LOG"
	grep -q 'end=TLS handshake failed' "$LOG"
}

@test "a key mailtls cannot read is our fault: logged as errors, smtpd exits 1" {
	mkdir "$BATS_TEST_TMPDIR/key.pem"
	TLSOPTS=(--tls-cert "$CERTS/ec.crt" --tls-key "$BATS_TEST_TMPDIR/key.pem" --tls-helper "$MAILTLS")
	serve_tls
	run python3 "$TLSCLIENT" garbage 127.0.0.1 "$PORT" starttls
	assert_equal "${lines[-1]}" "closed no smtp reply"
	server_idle
	grep -q "mailtls\[[0-9]*\]: cannot load the TLS certificate or key client=127.0.0.1 reason=" "$LOG"
	grep -q 'smtpd\[[0-9]*\]: internal error client=127.0.0.1 reason=the TLS helper failed' "$LOG"
	grep -q 'died with code 1' "$LOG"
}

@test "STARTTLS with the connection as fd 3 (LISTEN_FDS=1), over IPv6 when ::1 exists" {
	local host=127.0.0.1
	have_ipv6_loopback && host=::1
	serve "$host" fds "${TLSOPTS[@]}"
	session_after_tls | openssl s_client -quiet -starttls smtp -connect "[$host]:$PORT" \
		-CAfile "$CERTS/ca.pem" >"$BATS_TEST_TMPDIR/replies" 2>/dev/null
	replies_from "$BATS_TEST_TMPDIR/replies"
	assert_codes "250" "250 2.1.0" "250 2.1.5" "354" "250 2.0.0" "221 2.0.0"
	server_idle
	assert_equal "$(q 'SELECT client_addr, protocol FROM messages')" "$host|ESMTPS"
}

@test "the key mailtls reads is out of smtpd's reach: its sandbox policy cannot open it" {
	[[ -z ${SANITIZED:-}${VALGRIND:-} ]] || skip "the sanitizer and valgrind builds have no sandbox"
	make -s -C "$REPO" tests/sandbox-probe >&2
	[[ $("$REPO/tests/sandbox-probe" landlock-abi) -gt 0 ]] || skip "this kernel has no Landlock"
	# smtpd's policy, as smtpd applies it: the database's directory and
	# the spool, no exec_path (the standby child runs mailtls).
	run "$REPO/tests/sandbox-probe" --db "$DB" --spool "$TMPDIR" read "$CERTS/ec.key"
	assert_equal "$output" EACCES
	# ... while the STARTTLS that smtpd hands to mailtls works with it.
	serve_tls
	run python3 "$TLSCLIENT" starttls 127.0.0.1 "$PORT" "$CERTS/ca.pem" a@b.test c@d.test "$BATS_TEST_TMPDIR/stored.txt"
	assert_equal "${lines[1]}" "starttls 220"
	assert_tls_message ESMTPS client.test
}
