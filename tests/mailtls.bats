#!/usr/bin/env bats
# mailtls, the TLS helper, on its own and with --implicit in front of
# smtpd (SMTP over TLS, port 465 style): real clients over loopback TCP
# through systemd-socket-activate, every message checked byte for byte.

load helpers
load tls_helpers

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR"
	make_certs "$CERTS"
}

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP CREDENTIALS_DIRECTORY
	printf 'Subject: over TLS\r\n\r\nline one\r\n..dot line\r\n' >"$BATS_TEST_TMPDIR/mail.txt"
	printf 'Subject: over TLS\r\n\r\nline one\r\n.dot line\r\n' >"$BATS_TEST_TMPDIR/stored.txt"
	"$SMTPD" --init-db --db "$DB"
}
teardown() { net_teardown; common_teardown; }

# smtp_script - a whole session for a TLS client that pipes its input.
smtp_script() {
	printf 'EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n'
	cat "$BATS_TEST_TMPDIR/mail.txt"
	printf '.\r\nQUIT\r\n'
}

# assert_one_message - exactly one message, from 127.0.0.1, received
# over TLS as smtpd learnt from mailtls's environment, byte for byte.
assert_one_message() {
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT client_addr, helo, mail_from, protocol FROM messages')" "127.0.0.1|client.test|a@b.test|ESMTPS"
	[[ $(q 'SELECT tls_version || " " || tls_cipher FROM messages') =~ ^TLSv1\.[23]\ TLS_[A-Z0-9_]+$ ]]
	assert_equal "$(rcpts_of 1)" "c@d.test"
	assert_body_file 1 "$BATS_TEST_TMPDIR/stored.txt"
}

@test "mailtls: mandoc -Tlint is clean and --help and mailtls.8 name the same options" {
	run mandoc -Tlint -W warning "$REPO/mailtls.8"
	assert_equal "$status" 0
	assert_equal "$output" ""
	"$MAILTLS" --help >"$BATS_TEST_TMPDIR/help"
	local help page
	help=$(grep -oE -- '--[a-z][a-z-]*' "$BATS_TEST_TMPDIR/help" | sort -u)
	page=$(grep -E '^\.It Fl -' "$REPO/mailtls.8" | sed -E 's/^\.It Fl -([a-z-]+).*/--\1/' | sort -u)
	assert_equal "$page" "$help"
}

@test "mailtls links GnuTLS; smtpd links no TLS library" {
	run ldd "$REPO/mailtls"
	[[ $output == *libgnutls.so* ]]
	run ldd "$REPO/smtpd"
	[[ $output != *gnutls* && $output != *libssl* && $output != *libcrypto* ]]
}

@test "mailtls: a bad command line is exit 2 with the reason" {
	run "$MAILTLS" --cert "$CERTS/ec.crt" --key "$CERTS/ec.key"
	assert_equal "$status" 2
	[[ ${lines[0]} == "mailtls: say --starttls, --implicit or --check" ]]
	run "$MAILTLS" --starttls --cert "$CERTS/ec.crt"
	assert_equal "$status" 2
	[[ ${lines[0]} == "mailtls: give each --cert its --key" ]]
	run "$MAILTLS" --implicit --cert "$CERTS/ec.crt" --key "$CERTS/ec.key"
	assert_equal "$status" 2
	[[ ${lines[0]} == "mailtls: --implicit needs -- PROGRAM" ]]
	run "$MAILTLS" --starttls --implicit
	assert_equal "$status" 2
	run "$MAILTLS" --starttls
	assert_equal "$status" 2
	[[ ${lines[0]} == "mailtls: no --cert and --key, and no \$CREDENTIALS_DIRECTORY" ]]
	run "$MAILTLS" --starttls --handshake-timeout 0 --cert "$CERTS/ec.crt" --key "$CERTS/ec.key"
	assert_equal "$status" 2
	run "$MAILTLS" --implicit --wait-start --cert "$CERTS/ec.crt" --key "$CERTS/ec.key" -- true
	assert_equal "$status" 2
	[[ ${lines[0]} == "mailtls: --wait-start goes with --starttls" ]]
}

@test "mailtls --check: good pairs pass; a key of another certificate, a missing key and an expired certificate fail" {
	run "$MAILTLS" --check --cert "$CERTS/ec.crt" --key "$CERTS/ec.key" \
		--cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key"
	assert_equal "$status" 0
	assert_equal "$output" "mailtls: 2 certificates and keys usable"
	run "$MAILTLS" --check --cert "$CERTS/ec.crt" --key "$CERTS/rsa.key"
	assert_equal "$status" 1
	[[ $output == *"The certificate and the given key do not match."* ]]
	run "$MAILTLS" --check --cert "$CERTS/ec.crt" --key "$CERTS/missing.key"
	assert_equal "$status" 1
	[[ $output == *"key $CERTS/missing.key: Error while reading file."* ]]
	run "$MAILTLS" --check --cert "$CERTS/old.crt" --key "$CERTS/old.key"
	assert_equal "$status" 1
	assert_equal "$output" "mailtls: certificate 1 has expired"
}

@test "mailtls --check takes the certificate and key from \$CREDENTIALS_DIRECTORY (LoadCredential=)" {
	mkdir "$BATS_TEST_TMPDIR/creds"
	cp "$CERTS/ec.crt" "$BATS_TEST_TMPDIR/creds/tls-cert"
	cp "$CERTS/ec.key" "$BATS_TEST_TMPDIR/creds/tls-key"
	CREDENTIALS_DIRECTORY="$BATS_TEST_TMPDIR/creds" run "$MAILTLS" --check
	assert_equal "$status" 0
	assert_equal "$output" "mailtls: 1 certificate and key usable"
}

@test "--implicit: openssl s_client (TLS 1.3) delivers a message through smtpd, stored byte for byte" {
	serve_implicit
	smtp_script | openssl s_client -quiet -connect "127.0.0.1:$PORT" -servername mx.test \
		-CAfile "$CERTS/ca.pem" -verify_return_error -tls1_3 \
		>"$BATS_TEST_TMPDIR/replies" 2>"$BATS_TEST_TMPDIR/s_client.err"
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
	assert_codes "220" "250" "250 2.1.0" "250 2.1.5" "354" "250 2.0.0" "221 2.0.0"
	assert_one_message
	grep -q 'mailtls\[[0-9]*\]: TLS established client=127.0.0.1 tls_protocol=TLSv1.3 tls_cipher=TLS_AES_[0-9A-Z_]* tls_sni=mx.test$' "$LOG"
}

@test "--implicit: Python smtplib SMTP_SSL verifies the certificate and delivers" {
	serve_implicit
	run python3 "$TLSCLIENT" smtps 127.0.0.1 "$PORT" "$CERTS/ca.pem" a@b.test c@d.test "$BATS_TEST_TMPDIR/stored.txt"
	echo "$output"
	assert_equal "$status" 0
	assert_equal "${lines[0]}" "refused 0"
	[[ ${lines[1]} =~ ^cipher\ TLSv1\.3\ TLS_AES_ ]]
	assert_one_message
}

@test "--implicit: gnutls-cli over TLS 1.2 delivers; the RSA certificate goes to a client that takes only RSA, the ECDSA one to the others" {
	serve_implicit --cert "$CERTS/ec.crt" --key "$CERTS/ec.key" --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key"
	smtp_script | gnutls-cli --logfile="$BATS_TEST_TMPDIR/cli.log" --x509cafile="$CERTS/ca.pem" \
		--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-SIGN-ALL:+SIGN-RSA-SHA256:+SIGN-RSA-PSS-RSAE-SHA256' \
		-p "$PORT" 127.0.0.1 >"$BATS_TEST_TMPDIR/replies" 2>/dev/null
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
	assert_codes "220" "250" "250 2.1.0" "250 2.1.5" "354" "250 2.0.0" "221 2.0.0"
	grep -q "subject \`CN=mx.test-rsa'" "$BATS_TEST_TMPDIR/cli.log"
	grep -qF '(TLS1.2-X.509)-(ECDHE-SECP256R1)-(RSA-' "$BATS_TEST_TMPDIR/cli.log"
	assert_one_message
	grep -q 'tls_protocol=TLSv1.2 tls_cipher=TLS_ECDHE_RSA_WITH_' "$LOG"

	printf 'QUIT\r\n' | gnutls-cli --logfile="$BATS_TEST_TMPDIR/cli2.log" --x509cafile="$CERTS/ca.pem" \
		-p "$PORT" 127.0.0.1 >/dev/null 2>&1
	grep -q "subject \`CN=mx.test-ecdsa'" "$BATS_TEST_TMPDIR/cli2.log"
}

@test "--implicit: a renewed certificate is used from the next connection on, without a restart" {
	cp "$CERTS/ec.crt" "$BATS_TEST_TMPDIR/cert.pem"
	cp "$CERTS/ec.key" "$BATS_TEST_TMPDIR/key.pem"
	serve_implicit --cert "$BATS_TEST_TMPDIR/cert.pem" --key "$BATS_TEST_TMPDIR/key.pem"
	printf 'QUIT\r\n' | gnutls-cli --logfile="$BATS_TEST_TMPDIR/1.log" --x509cafile="$CERTS/ca.pem" \
		-p "$PORT" 127.0.0.1 >/dev/null 2>&1
	grep -q "subject \`CN=mx.test-ecdsa'" "$BATS_TEST_TMPDIR/1.log"
	cp "$CERTS/rsa.crt" "$BATS_TEST_TMPDIR/cert.pem"
	cp "$CERTS/rsa.key" "$BATS_TEST_TMPDIR/key.pem"
	printf 'QUIT\r\n' | gnutls-cli --logfile="$BATS_TEST_TMPDIR/2.log" --x509cafile="$CERTS/ca.pem" \
		-p "$PORT" 127.0.0.1 >/dev/null 2>&1
	grep -q "subject \`CN=mx.test-rsa'" "$BATS_TEST_TMPDIR/2.log"
}

@test "--implicit: a client offering only TLS 1.0 and 1.1 is refused; smtpd never starts" {
	serve_implicit
	run gnutls-cli --x509cafile="$CERTS/ca.pem" --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0' \
		-p "$PORT" 127.0.0.1 </dev/null
	[[ $status != 0 ]]
	wait_log 'mailtls\[[0-9]+\]: TLS handshake failed client=127.0.0.1 reason='
	server_idle
	! grep -q 'smtpd\[' "$LOG"
	assert_nothing_stored
}

@test "--implicit: garbage instead of a ClientHello ends the connection; nothing reaches smtpd" {
	serve_implicit
	run python3 "$TLSCLIENT" garbage 127.0.0.1 "$PORT"
	assert_equal "$status" 0
	assert_equal "$output" "closed no smtp reply"
	wait_log 'TLS handshake failed client=127.0.0.1 reason='
	server_idle
	! grep -q 'smtpd\[' "$LOG"
	assert_nothing_stored
}

@test "--implicit: a client that stalls in the handshake is cut at --handshake-timeout" {
	serve_implicit --handshake-timeout 1 --cert "$CERTS/ec.crt" --key "$CERTS/ec.key"
	run python3 "$TLSCLIENT" stall 127.0.0.1 "$PORT"
	assert_equal "$status" 0
	assert_equal "$output" "closed True"
	wait_log 'TLS handshake failed client=127.0.0.1 reason=handshake not done within 1 s$'
	server_idle
	! grep -q 'smtpd\[' "$LOG"
}

@test "--implicit: an unreadable key is our fault, logged as an error; the client gets no session" {
	serve_implicit --cert "$CERTS/ec.crt" --key "$BATS_TEST_TMPDIR/no-such.key"
	run python3 "$TLSCLIENT" garbage 127.0.0.1 "$PORT"
	assert_equal "$output" "closed no smtp reply"
	wait_log "cannot load the TLS certificate or key client=127.0.0.1 reason=certificate $CERTS/ec.crt, key $BATS_TEST_TMPDIR/no-such.key: Error while reading file."
	server_idle
	grep -q 'exited with status 1\|died with code 1' "$LOG"
	! grep -q 'smtpd\[' "$LOG"
}

@test "--implicit: the client closing mid-session ends smtpd, whose status mailtls passes on" {
	serve_implicit
	printf 'EHLO client.test\r\nMAIL FROM:<a@b.test>\r\n' | openssl s_client -quiet -no_ign_eof \
		-connect "127.0.0.1:$PORT" -CAfile "$CERTS/ca.pem" >"$BATS_TEST_TMPDIR/replies" 2>/dev/null
	server_idle
	grep -q 'smtpd\[[0-9]*\]: disconnect client=127.0.0.1 helo=client.test messages=0 errors=0 end=eof' "$LOG"
	grep -q 'died with code 0' "$LOG"
	assert_nothing_stored
}
