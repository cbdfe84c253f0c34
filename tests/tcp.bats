#!/usr/bin/env bats
# Real clients over real TCP: Python's smtplib, curl, swaks and msmtp,
# through systemd-socket-activate as in production.  Each test checks
# what the client was told and then the stored rows, byte for byte.

load helpers

setup() { common_setup; }
teardown() { net_teardown; }

@test "smtplib: To, Cc and Bcc recipients; dot-stuffed data round-trips byte for byte" {
	start_server
	# Lines that start with dots, a lone dot and a dot with a space: the
	# client stuffs them, smtpd must unstuff them back to exactly this.
	local msg='From: Sender <s@example.org>\r\nTo: a@example.com\r\nCc: b@example.com\r\nSubject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n. \r\nend .\r\n'
	printf '%b' "$msg" >"$BATS_TEST_TMPDIR/msg"
	# The second message lacks its final CR LF: smtplib adds one.
	printf 'Subject: two\r\n\r\nno final CR LF' >"$BATS_TEST_TMPDIR/msg2"
	client sendmail-dots "$PORT" "$BATS_TEST_TMPDIR/msg" "$BATS_TEST_TMPDIR/msg2"
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM messages')" 2
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from FROM messages WHERE id = 1')" \
		"$(smtplib_helo)|127.0.0.1|ESMTP|s@example.org"
	assert_equal "$(rcpts_of 1)" "a@example.com b@example.com hidden@example.net"
	assert_body 1 "$msg"
	assert_equal "$(q 'SELECT mail_from FROM messages WHERE id = 2')" ""
	assert_equal "$(rcpts_of 2)" "c@example.com"
	assert_body 2 'Subject: two\r\n\r\nno final CR LF\r\n'
}

@test "smtplib send_message: Bcc is an envelope recipient, not a stored header" {
	start_server
	client send-message "$PORT" "$BATS_TEST_TMPDIR/want"
	server_idle
	assert_equal "$(q 'SELECT client_addr, protocol, mail_from FROM messages')" "127.0.0.1|ESMTP|s@example.org"
	# smtplib takes recipients from To, then Bcc, then Cc.
	assert_equal "$(rcpts_of 1)" "a@example.com b@example.com secret@example.net c@example.com"
	assert_body_file 1 "$BATS_TEST_TMPDIR/want"
}

@test "smtplib: greeting and EHLO extensions over TCP are exactly these" {
	start_server --max-size 1000000
	client ehlo-features "$PORT"
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
}

@test "smtplib with --domain: other domains get 550 5.7.1, the rest is stored" {
	start_server --domain example.com
	client domain-refusal "$PORT"
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(rcpts_of 1)" "a@example.com B@EXAMPLE.COM postmaster"
	assert_body 1 'Subject: yes\r\n\r\nyes\r\n'
}

@test "curl: two recipients, a CR LF file with leading dots is stored as is" {
	start_server
	local msg='Subject: curl\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n'
	printf '%b' "$msg" >"$BATS_TEST_TMPDIR/mail.txt"
	# The URL path is the EHLO domain (without one, curl uses the file name).
	curl -sS --max-time "$WAIT_LIMIT" "smtp://127.0.0.1:$PORT/client.example" \
		--mail-from s@example.org --mail-rcpt a@example.com --mail-rcpt b@example.com \
		-T "$BATS_TEST_TMPDIR/mail.txt"
	server_idle
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from FROM messages')" \
		"client.example|127.0.0.1|ESMTP|s@example.org"
	assert_equal "$(rcpts_of 1)" "a@example.com b@example.com"
	assert_body 1 "$msg"
}

@test "curl: a file without a final CR LF gets one; bare LF lines are refused" {
	start_server
	printf 'Subject: c\r\n\r\nlast line' >"$BATS_TEST_TMPDIR/nocrlf.txt"
	curl -sS --max-time "$WAIT_LIMIT" "smtp://127.0.0.1:$PORT/client.example" \
		--mail-from s@example.org --mail-rcpt a@example.com -T "$BATS_TEST_TMPDIR/nocrlf.txt"
	server_idle
	assert_body 1 'Subject: c\r\n\r\nlast line\r\n'
	# curl sends LF-only text unchanged without --crlf: 550, nothing stored.
	printf 'Subject: lf\n\nbare\n' >"$BATS_TEST_TMPDIR/lf.txt"
	run curl -sS --max-time "$WAIT_LIMIT" "smtp://127.0.0.1:$PORT/client.example" \
		--mail-from s@example.org --mail-rcpt a@example.com -T "$BATS_TEST_TMPDIR/lf.txt"
	server_idle
	[[ $status -ne 0 ]]
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	# With --crlf curl converts them, and the message is taken.
	curl -sS --max-time "$WAIT_LIMIT" --crlf "smtp://127.0.0.1:$PORT/client.example" \
		--mail-from s@example.org --mail-rcpt a@example.com -T "$BATS_TEST_TMPDIR/lf.txt"
	server_idle
	assert_body 2 'Subject: lf\r\n\r\nbare\r\n'
}

@test "swaks --pipeline: the body file with leading dots, every byte known" {
	start_server
	printf 'Line one\r\n.dot line\r\n..two dots\r\n.\r\nlast\r\n' >"$BATS_TEST_TMPDIR/body.txt"
	# Fix the headers swaks would otherwise fill with the date and an id.
	run swaks --server "127.0.0.1:$PORT" --timeout "$WAIT_LIMIT" --pipeline --helo client.example \
		--from s@example.org --to a@example.com,b@example.com \
		--header 'Date: Thu, 26 Nov 2026 11:00:00 +0000' --header 'Subject: swaks' \
		--header 'Message-Id: <swaks@example.org>' --header 'X-Mailer: swaks' \
		--body "@$BATS_TEST_TMPDIR/body.txt"
	server_idle
	echo "$output"
	assert_equal "$status" 0
	# Really pipelined: MAIL, both RCPTs and DATA went out before a reply.
	[[ $output == *" -> MAIL FROM:<s@example.org>"$'\n'" -> RCPT TO:<a@example.com>"$'\n'" -> RCPT TO:<b@example.com>"$'\n'" -> DATA"$'\n'"<-  250 2.1.0"* ]]
	[[ $output == *"<-  250 2.0.0 Ok: queued as 1"* ]]
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from FROM messages')" \
		"client.example|127.0.0.1|ESMTP|s@example.org"
	assert_equal "$(rcpts_of 1)" "a@example.com b@example.com"
	# swaks's template: its headers (ours replacing its own), a blank line,
	# the body file, a CR LF after %BODY%, and a CR LF before its final dot.
	assert_body 1 'Date: Thu, 26 Nov 2026 11:00:00 +0000\r\nTo: a@example.com,b@example.com\r\nFrom: s@example.org\r\nSubject: swaks\r\nMessage-Id: <swaks@example.org>\r\nX-Mailer: swaks\r\n\r\nLine one\r\n.dot line\r\n..two dots\r\n.\r\nlast\r\n\r\n\r\n'
}

@test "msmtp -t: recipients from To, Cc and Bcc; LF lines arrive as CR LF" {
	start_server
	cat >"$BATS_TEST_TMPDIR/msmtprc" <<-EOF
		defaults
		syslog off
		account test
		host 127.0.0.1
		port $PORT
		auth off
		tls off
		timeout $WAIT_LIMIT
		from s@example.org
		domain client.example
		account default : test
	EOF
	chmod 600 "$BATS_TEST_TMPDIR/msmtprc"
	# From, Date and Message-ID given, so msmtp adds no header of its own.
	printf 'From: s@example.org\nTo: a@example.com\nCc: c@example.com\nBcc: z@example.com\nDate: Thu, 26 Nov 2026 11:00:00 +0000\nMessage-ID: <msmtp@example.org>\nSubject: msmtp\n\n.dot\nbody\n' |
		msmtp -C "$BATS_TEST_TMPDIR/msmtprc" -t
	server_idle
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from FROM messages')" \
		"client.example|127.0.0.1|ESMTP|s@example.org"
	assert_equal "$(rcpts_of 1)" "a@example.com c@example.com z@example.com"
	assert_body 1 'From: s@example.org\r\nTo: a@example.com\r\nCc: c@example.com\r\nDate: Thu, 26 Nov 2026 11:00:00 +0000\r\nMessage-ID: <msmtp@example.org>\r\nSubject: msmtp\r\n\r\n.dot\r\nbody\r\n'
}

@test "IPv6: a client on ::1 is recorded as ::1 and [IPv6:::1] in Received" {
	have_ipv6_loopback || skip "::1 is not available here"
	serve ::1 inetd
	client send-ipv6 "$PORT"
	server_idle
	assert_equal "$(q 'SELECT client_addr, protocol FROM messages')" "::1|ESMTP"
	assert_body 1 'Subject: v6\r\n\r\nhi\r\n'
	# trace_of builds the same from the row; check the literal itself too.
	body_to 1 "$BATS_TEST_TMPDIR/v6"
	grep -qxF "Received: from $(smtplib_helo) ([IPv6:::1])"$'\r' "$BATS_TEST_TMPDIR/v6"
}

@test "LISTEN_FDS=1: the connection as fd 3, replies on the socket, not stdout" {
	serve 127.0.0.1 fds
	client send-fd3 "$PORT"
	server_idle
	assert_equal "$(q 'SELECT client_addr, protocol, mail_from FROM messages')" "127.0.0.1|ESMTP|s@example.org"
	assert_equal "$(rcpts_of 1)" "a@example.com b@example.com"
	assert_body 1 'Subject: fd3\r\n\r\nhi\r\n'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/server.out")" ""
}

@test "20 concurrent smtplib clients, 5 messages each: every 250 is one row" {
	start_server
	client concurrent-smtplib "$PORT" "$DB"
	server_idle
}
