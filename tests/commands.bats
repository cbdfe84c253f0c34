#!/usr/bin/env bats
# Every command and its replies: the greeting, HELO/EHLO, the order of
# MAIL/RCPT/DATA, RSET, NOOP, VRFY, EXPN, HELP, QUIT, what is not a
# command, line length limits, the client going away, and pipelining.
#
# Each test is a transcript: the client's bytes go to ./smtpd in one
# piece, then every reply code is checked, in order, and then the rows.

load helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
}
teardown() { common_teardown; }

# assert_line N TEXT - line N of the replies (0 is the greeting) is
# exactly TEXT.
assert_line() {
	assert_equal "${lines[$1]}" "$2"
}

# --- the greeting ---------------------------------------------------------

@test "the greeting names the host, and a client that leaves at once is no error" {
	smtp ''
	assert_equal "$status" 0
	assert_codes 220
	assert_line 0 "220 mx.test ESMTP ready"
	assert_equal "${#lines[@]}" 1
	assert_nothing_stored
}

# --- HELO and EHLO --------------------------------------------------------

@test "HELO gets one line naming the server" {
	smtp 'HELO client.example\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "221 2.0.0"
	assert_line 1 "250 mx.test"
	assert_equal "$(reply 2)" "221 2.0.0 mx.test closing connection"
}

@test "EHLO lists exactly the extensions implemented" {
	smtp 'EHLO client.example\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "221 2.0.0"
	assert_line 1 "250-mx.test"
	assert_line 2 "250-PIPELINING"
	assert_line 3 "250-SIZE 26214400"
	assert_line 4 "250-8BITMIME"
	assert_line 5 "250-ENHANCEDSTATUSCODES"
	assert_line 6 "250-CHUNKING"
	assert_line 7 "250-SMTPUTF8"
	assert_line 8 "250 DSN"
	assert_line 9 "221 2.0.0 mx.test closing connection"
	assert_equal "${#lines[@]}" 10
}

@test "EHLO's SIZE is the --max-size limit" {
	smtp 'EHLO client.example\r\nQUIT\r\n' --max-size 1000
	assert_codes 220 250 "221 2.0.0"
	assert_line 3 "250-SIZE 1000"
}

@test "HELO and EHLO without a host name, or with two words, get 501 5.5.4" {
	smtp 'HELO\r\nHELO \r\nEHLO\r\nEHLO \r\nHELO client example\r\nEHLO client example\r\nMAIL FROM:<a@example.org>\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "503 5.5.1" "221 2.0.0"
}

@test "an EHLO name longer than a domain name may be is refused with 501" {
	smtp "EHLO $(pad 256 a)\r\nEHLO $(pad 255 a)\r\nQUIT\r\n"
	assert_codes 220 "501 5.5.4" 250 "221 2.0.0"
}

@test "EHLO takes an address literal, and trailing spaces are dropped" {
	smtp 'EHLO [192.0.2.1]\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nEHLO client.example  \r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\ny\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT id, helo FROM messages ORDER BY id')" "1|[192.0.2.1]
2|client.example"
	assert_body 1 'x\r\n'
	assert_body 2 'y\r\n'
}

# received_from ID - the first line of message ID's Received: header.
received_from() {
	q "SELECT writefile('$BATS_TEST_TMPDIR/m', body) FROM messages WHERE id = $1" >/dev/null
	grep -a -m1 '^Received: ' "$BATS_TEST_TMPDIR/m" | tr -d '\r'
}

# smtp_raw_ehlo NAME - a message after EHLO NAME, NAME taken literally.
smtp_raw_ehlo() {
	printf 'EHLO %s\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' \
		"$1" >"$BATS_TEST_TMPDIR/in"
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
}

# From-domain and TCP-info of RFC 5321 4.4, for the names tested here.
LDH='[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?'
LIT='\[(IPv6:[0-9A-Fa-f:.]+|[0-9.]+)\]'
FROM_DOMAIN="^Received: from ($LDH(\\.$LDH)*|$LIT)( \\($LIT\\))?$"

@test "EHLO names that are neither a Domain nor an address literal: 250, kept as sent, never written into Received:" {
	# Each one would read as a comment, a forged address literal or a
	# mailbox in the trace header; the connection's literal stands in.
	local name i=0 names=('trusted.example([10.9.8.7])' 'a(b' 'a;b' 'a:b:c' 'a/z' 'a"b'
		'a\b' 'a)b' 'a@b' 'a[b]' 'my_pc' 'example.com.' '-a.example')
	export REMOTE_ADDR=192.0.2.66
	for name in "${names[@]}"; do
		i=$((i + 1))
		smtp_raw_ehlo "$name"
		assert_equal "$(q "SELECT helo FROM messages WHERE id = $i")" "$name"
		assert_equal "$(received_from $i)" "Received: from [192.0.2.66] ([192.0.2.66])"
		[[ $(received_from $i) =~ $FROM_DOMAIN ]]
		assert_body $i 'x\r\n'
	done
	# Without the connection's address: "unknown", and still no name.
	unset REMOTE_ADDR
	smtp_raw_ehlo 'a(b'
	assert_equal "$(received_from $((i + 1)))" "Received: from unknown"
	assert_body $((i + 1)) 'x\r\n'
}

@test "EHLO names that are a Domain or an address literal are written into Received: as sent" {
	local name i=0 names=(client.example A-1.b2.example x '[192.0.2.1]' '[IPv6:2001:db8::1]')
	export REMOTE_ADDR=2001:db8::66
	for name in "${names[@]}"; do
		i=$((i + 1))
		smtp_raw_ehlo "$name"
		assert_equal "$(q "SELECT helo FROM messages WHERE id = $i")" "$name"
		assert_equal "$(received_from $i)" "Received: from $name ([IPv6:2001:db8::66])"
		[[ $(received_from $i) =~ $FROM_DOMAIN ]]
		assert_body $i 'x\r\n'
	done
}

@test "HELO and EHLO may be repeated; the last one names the client" {
	smtp 'HELO one.example\r\nEHLO two.example\r\nHELO three.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 250 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT helo, protocol FROM messages')" "three.example|SMTP"
	assert_body 1 'x\r\n'
}

@test "a second EHLO drops the transaction in progress" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nEHLO client.example\r\nRCPT TO:<b@example.com>\r\nDATA\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" 250 "503 5.5.1" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "a HELO after RCPT drops the sender and the recipients" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nHELO client.example\r\nDATA\r\nMAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 250 "503 5.5.1" \
		"250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "c@example.org"
	assert_equal "$(q 'SELECT address FROM recipients')" "d@example.com"
	assert_body 1 'x\r\n'
}

# --- the order of MAIL, RCPT and DATA -------------------------------------

@test "MAIL, RCPT and DATA before HELO are out of sequence" {
	smtp 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 "503 5.5.1" "503 5.5.1" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "after out-of-sequence replies a proper transaction still works" {
	smtp 'MAIL FROM:<a@example.org>\r\nEHLO client.example\r\nRCPT TO:<b@example.com>\r\nDATA\r\nMAIL FROM:<a@example.org>\r\nDATA\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n'
	assert_codes 220 "503 5.5.1" 250 "503 5.5.1" "503 5.5.1" "250 2.1.0" "503 5.5.1" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT id, mail_from FROM messages')" "1|a@example.org"
	assert_body 1 'hi\r\n'
}

@test "RCPT before MAIL, DATA before MAIL and DATA before RCPT are out of sequence" {
	smtp 'EHLO client.example\r\nRCPT TO:<b@example.com>\r\nDATA\r\nMAIL FROM:<a@example.org>\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "503 5.5.1" "503 5.5.1" "250 2.1.0" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "DATA after only refused recipients is out of sequence, and its text is not taken as mail" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b>\r\nDATA\r\nSubject: x\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "501 5.1.3" "503 5.5.1" "500 5.5.2" "500 5.5.2" "221 2.0.0"
	assert_nothing_stored
}

@test "a second MAIL inside a transaction is refused and the first sender stays" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<b@example.com>\r\nMAIL FROM:<evil@example.net>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "503 5.5.1" "250 2.1.5" "503 5.5.1" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_equal "$(q 'SELECT address FROM recipients')" "b@example.com"
	assert_body 1 'x\r\n'
}

@test "DATA with an argument is refused with 501 and the transaction stays" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA now\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "501 5.5.4" 354 "250 2.0.0" "221 2.0.0"
	assert_body 1 'x\r\n'
}

# --- RSET -----------------------------------------------------------------

@test "RSET answers 250 2.0.0 and clears sender and recipients" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nRSET\r\nRCPT TO:<c@example.com>\r\nDATA\r\nMAIL FROM:<d@example.org>\r\nRCPT TO:<e@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.0.0" "503 5.5.1" "503 5.5.1" \
		"250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 4)" "250 2.0.0 Ok"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "d@example.org"
	assert_equal "$(q 'SELECT position, address FROM recipients')" "0|e@example.com"
	assert_body 1 'x\r\n'
}

@test "RSET before HELO is fine but does not stand in for HELO" {
	smtp 'RSET\r\nMAIL FROM:<a@example.org>\r\nQUIT\r\n'
	assert_codes 220 "250 2.0.0" "503 5.5.1" "221 2.0.0"
}

@test "RSET with an argument is refused with 501 and the transaction stays" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nRSET all\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "501 5.5.4" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_body 1 'x\r\n'
}

# --- NOOP, VRFY, EXPN, HELP -----------------------------------------------

@test "NOOP answers 250 2.0.0 with or without an argument, before HELO and inside a transaction" {
	smtp 'NOOP\r\nNOOP hello there\r\nEHLO client.example\r\nMAIL FROM:<a@example.org>\r\nNOOP\r\nRCPT TO:<b@example.com>\r\nNOOP x\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 "250 2.0.0" "250 2.0.0" 250 "250 2.1.0" "250 2.0.0" "250 2.1.5" "250 2.0.0" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "${lines[1]}" "250 2.0.0 Ok"
	assert_body 1 'x\r\n'
}

@test "VRFY answers 252 2.5.0 and verifies nothing; without an argument 501 5.5.4" {
	smtp 'EHLO client.example\r\nVRFY postmaster\r\nVRFY <nobody@example.com>\r\nVRFY\r\nQUIT\r\n'
	assert_codes 220 250 "252 2.5.0" "252 2.5.0" "501 5.5.4" "221 2.0.0"
}

@test "EXPN is not implemented: 502 5.5.1" {
	smtp 'EHLO client.example\r\nEXPN staff\r\nEXPN\r\nQUIT\r\n'
	assert_codes 220 250 "502 5.5.1" "502 5.5.1" "221 2.0.0"
}

@test "HELP answers 214 2.0.0 with the commands" {
	smtp 'HELP\r\nHELP MAIL\r\nQUIT\r\n'
	assert_codes 220 "214 2.0.0" "214 2.0.0" "221 2.0.0"
	local verb
	for verb in HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT; do
		[[ " ${lines[1]} " == *" $verb "* ]] || {
			echo "HELP does not list $verb: ${lines[1]}"
			return 1
		}
	done
}

# --- QUIT -----------------------------------------------------------------

@test "QUIT answers 221 2.0.0 and the exit status is 0" {
	smtp 'EHLO client.example\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "221 2.0.0"
	assert_equal "$(reply 2)" "221 2.0.0 mx.test closing connection"
	smtp 'QUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 "221 2.0.0"
}

@test "nothing after QUIT is processed" {
	smtp 'EHLO client.example\r\nQUIT\r\nNOOP\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "221 2.0.0"
	assert_nothing_stored
}

@test "QUIT in the middle of a transaction stores nothing" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "221 2.0.0"
	assert_nothing_stored
}

# --- what is not a command ------------------------------------------------

@test "an unknown command gets 500 5.5.2 and the session goes on" {
	smtp 'EHLO client.example\r\nXYZZY\r\nSTARTTLS\r\nAUTH PLAIN AGFAAGI=\r\nNOOP\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "500 5.5.2" "500 5.5.2" "500 5.5.2" "250 2.0.0" "221 2.0.0"
}

@test "a verb must be a whole word: MAILFROM, NOOPX, a leading space, an empty line are unknown" {
	smtp 'EHLO client.example\r\nMAILFROM:<a@example.org>\r\nNOOPX\r\n NOOP\r\n\r\nQUIT\r\n'
	assert_codes 220 250 "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" "221 2.0.0"
}

@test "commands are case-insensitive" {
	smtp 'ehlo client.example\r\nmail from:<a@example.org>\r\nRcpt To:<b@example.com>\r\ndata\r\nx\r\n.\r\nNoOp\r\nrSeT\r\nquit\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "250 2.0.0" "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_equal "$(q 'SELECT address FROM recipients')" "b@example.com"
	assert_body 1 'x\r\n'
}

@test "a command with a NUL byte is refused with 500 5.5.2 and not acted on" {
	smtp 'EHLO client\0.example\r\nMAIL FROM:<a@example.org>\r\nNOOP \0\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 "500 5.5.2" "503 5.5.1" "500 5.5.2" "221 2.0.0"
}

@test "a command with a control byte, or an 8-bit byte where no UTF-8 may be, gets 500 5.5.2" {
	smtp 'NOOP a\001b\r\nNOOP a\tb\r\nNOOP a\033[1m\r\nNOOP \177\r\nNOOP a\rb\r\nNOOP caf\xc3\xa9\r\nRSET \xff\r\nEHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA \xc3\xa9\r\nQUIT\r\n'
	assert_codes 220 "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" \
		250 "250 2.1.0" "250 2.1.5" "500 5.5.2" "221 2.0.0"
	assert_nothing_stored
}

# --- line length ----------------------------------------------------------

@test "a command line may be 512 bytes with CRLF; 513 gets 500 5.5.2 and the session goes on" {
	# Only MAIL and RCPT get more room: a NOOP of 1024 is too long, and
	# an over-long HELO is not acted on.
	smtp "NOOP $(pad 505)\r\nNOOP $(pad 506)\r\nNOOP $(pad 1017)\r\nHELO $(pad 506 a)\r\nMAIL FROM:<a@example.org>\r\nNOOP\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_codes 220 "250 2.0.0" "500 5.5.2" "500 5.5.2" "500 5.5.2" "503 5.5.1" "250 2.0.0" "221 2.0.0"
}

@test "a MAIL line may be 1024 bytes with CRLF; 1025 gets 500 5.5.2 and starts no transaction" {
	local head='MAIL FROM:<a@example.org> SIZE=100' tail=' BODY=8BITMIME' long ok
	long="$head$(pad $((1023 - ${#head} - ${#tail})) ' ')$tail"
	ok="$head$(pad $((1022 - ${#head} - ${#tail})) ' ')$tail"
	smtp "EHLO client.example\r\n$long\r\nRCPT TO:<b@example.com>\r\n$ok\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"
	assert_codes 220 250 "500 5.5.2" "503 5.5.1" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_body 1 'x\r\n'
}

@test "a RCPT line may be 1024 bytes with CRLF, not 1025" {
	local r1='RCPT TO:<b@example.com>' r2='RCPT TO:<c@example.com>'
	smtp "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n$r1$(pad $((1022 - ${#r1})) ' ')\r\n$r2$(pad $((1023 - ${#r2})) ' ')\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "500 5.5.2" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT position, address FROM recipients')" "0|b@example.com"
	assert_body 1 'x\r\n'
}

@test "a 100 KB line gets one 500 5.5.2 and the session goes on" {
	smtp "EHLO client.example\r\nNOOP $(pad 100000)\r\nNOOP\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_codes 220 250 "500 5.5.2" "250 2.0.0" "221 2.0.0"
}

# --- the client going away ------------------------------------------------

@test "EOF after EHLO, or in the middle of a command: exit status 0, the command ignored" {
	smtp 'EHLO client.example\r\n'
	assert_equal "$status" 0
	assert_codes 220 250
	smtp 'EHLO client.example\r\nQUIT'
	assert_equal "$status" 0
	assert_codes 220 250
}

@test "EOF after RCPT: exit status 0 and nothing stored" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5"
	assert_nothing_stored
}

@test "EOF anywhere inside DATA: exit status 0 and nothing stored" {
	local cut i=0
	# Right after DATA, in a line, after a line, and one byte short of
	# the end of data.
	for cut in '' 'Subject: cut\r\n\r\nhalf a mess' 'Subject: cut\r\n' 'Subject: cut\r\n.\r'; do
		DB="$BATS_TEST_TMPDIR/eof$((i++)).db"
		echo "text before EOF: $cut"
		smtp "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n$cut"
		assert_equal "$status" 0
		assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354
		assert_nothing_stored
	done
}

@test "EOF after the end of data but before QUIT: the message is kept" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nkept\r\n.\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0"
	assert_body 1 'kept\r\n'
}

# --- pipelining -----------------------------------------------------------

@test "pipelined commands all get their replies, in order" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<bad>\r\nRCPT TO:<c@example.com>\r\nDATA\r\none\r\n.\r\nNOOP\r\nMAIL FROM:<>\r\nVRFY x\r\nRCPT TO:<d@example.com>\r\nFOO\r\nDATA\r\ntwo\r\n.\r\nRSET\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "501 5.1.3" "250 2.1.5" 354 "250 2.0.0" \
		"250 2.0.0" "250 2.1.0" "252 2.5.0" "250 2.1.5" "500 5.5.2" 354 "250 2.0.0" \
		"250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT id, mail_from FROM messages ORDER BY id')" "1|a@example.org
2|"
	assert_equal "$(q 'SELECT message_id, position, address FROM recipients ORDER BY 1, 2')" "1|0|b@example.com
1|1|c@example.com
2|0|d@example.com"
	assert_body 1 'one\r\n'
	assert_body 2 'two\r\n'
}

@test "a pipelined RSET after a refused transaction starts clean" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<bad>\r\nDATA\r\nRSET\r\nMAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.com>\r\nDATA\r\nok\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "501 5.1.3" "503 5.5.1" "250 2.0.0" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "c@example.org"
	assert_body 1 'ok\r\n'
}
