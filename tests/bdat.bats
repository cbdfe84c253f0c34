#!/usr/bin/env bats
# BDAT (RFC 3030 CHUNKING): the message in chunks of a stated size, the
# last marked LAST.  Chunks are taken as they are (no dot-stuffing), the
# bare CR/LF rule of DATA holds across chunk borders, and a BDAT that is
# refused still has its chunk read, so that its bytes never run as
# commands.  Scripted sessions on stdin, one over TCP in one write.

load helpers
load net_helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
	IN="$BATS_TEST_TMPDIR/in"
	: >"$IN"
}
teardown() { net_teardown; common_teardown; }

# The envelope of most tests, and its replies.
ENV='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n'
ENV_CODES=(220 250 "250 2.1.0" "250 2.1.5")

# put TEXT - append client bytes (printf %b escapes) to the session input.
put() {
	printf '%b' "$1" >>"$IN"
}

# chunk TEXT [LAST] - append "BDAT n[ LAST]" CR LF and then TEXT (printf
# %b escapes), n being TEXT's length in bytes once the escapes are done.
chunk() {
	local n
	n=$(printf '%b' "$1" | wc -c)
	printf 'BDAT %d%s\r\n' "$n" "${2:+ $2}" >>"$IN"
	printf '%b' "$1" >>"$IN"
}

# session [OPTION...] - run smtpd on the input built so far.
session() {
	smtp_file "$IN" "$@"
}

BARE='550 5.5.2 Message refused: lines must end with CR LF (bare CR or LF found)'
IN_BDAT='503 5.5.1 Send the rest of the message with BDAT, or RSET'

@test "a message in three chunks is stored exactly as the same text sent with DATA" {
	local text='Subject: chunks\r\n\r\nfirst line\r\nsecond line\r\n'
	put "$ENV"
	# Cut anywhere, not at line ends: 7 + 19 + 20 bytes.
	chunk 'Subject'
	chunk ': chunks\r\n\r\nfirst l'
	chunk 'ine\r\nsecond line\r\n' LAST
	put 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n'"$text"'.\r\nQUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "250 2.0.0" "250 2.0.0" \
		"250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 4)" "250 2.0.0 7 bytes received"
	assert_equal "$(reply 5)" "250 2.0.0 19 bytes received"
	assert_equal "$(reply 6)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(reply 10)" "250 2.0.0 Ok: queued as 2"
	# Same envelope columns, same recipients, same text after the same
	# trace headers (trace_of builds them from each row: ESMTP, the id).
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from, body_type, smtputf8 FROM messages WHERE id = 1')" \
		"client.example||ESMTP|a@example.org||0"
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from, body_type, smtputf8 FROM messages WHERE id = 2')" \
		"client.example||ESMTP|a@example.org||0"
	assert_equal "$(q 'SELECT message_id, position, address FROM recipients ORDER BY 1, 2' | tr '\n' ' ')" \
		"1|0|b@example.com 2|0|b@example.com "
	assert_body 1 "$text"
	assert_body 2 "$text"
	# The two bodies differ only in the id (and the date, if a second
	# passed): the Received header names BDAT nowhere.
	body_to 1 "$BATS_TEST_TMPDIR/b1"
	body_to 2 "$BATS_TEST_TMPDIR/b2"
	grep -q $'\tby mx.test with ESMTP id 1\r$' "$BATS_TEST_TMPDIR/b1"
	grep -q $'\tby mx.test with ESMTP id 2\r$' "$BATS_TEST_TMPDIR/b2"
}

@test "BDAT 0 LAST alone is an empty message; after chunks it just ends them" {
	put "$ENV"
	chunk '' LAST
	put 'MAIL FROM:<>\r\nRCPT TO:<c@example.com>\r\n'
	chunk 'ab\r\n'
	chunk ''
	chunk 'cd\r\n'
	chunk '' LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "250 2.1.0" "250 2.1.5" \
		"250 2.0.0" "250 2.0.0" "250 2.0.0" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 4)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(reply 7)" "250 2.0.0 4 bytes received"
	assert_equal "$(reply 8)" "250 2.0.0 0 bytes received"
	assert_equal "$(reply 10)" "250 2.0.0 Ok: queued as 2"
	assert_body 1 ''
	assert_equal "$(q 'SELECT size FROM messages WHERE id = 1')" "$(trace_of 1 | wc -c)"
	assert_equal "$(q 'SELECT mail_from FROM messages WHERE id = 2')" ""
	assert_body 2 'ab\r\ncd\r\n'
}

@test "a CR LF split between chunks is one line end, not a bare CR" {
	put "$ENV"
	chunk 'ab\r'
	chunk '\nc\r\n' LAST
	# The CR is carried over an empty chunk too.
	put 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n'
	chunk 'x\r'
	chunk ''
	chunk '\ny\r'
	chunk '\n' LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "250 2.0.0" "250 2.1.0" "250 2.1.5" \
		"250 2.0.0" "250 2.0.0" "250 2.0.0" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 4)" "250 2.0.0 3 bytes received"
	assert_equal "$(reply 5)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(reply 11)" "250 2.0.0 Ok: queued as 2"
	assert_body 1 'ab\r\nc\r\n'
	assert_body 2 'x\r\ny\r\n'
}

@test "a bare LF or CR in a chunk, or at a chunk border: 550 5.5.2 at LAST, nothing stored, the session goes on" {
	local first second
	# Pairs of chunks; each pair holds one line end that is not CR LF.
	local -a cases=(
		'a\nb\r\n|c\r\n'     # LF alone inside a chunk
		'a\rb\r\n|c\r\n'     # CR alone inside a chunk
		'ab\r\n|\nc\r\n'     # an LF that starts a chunk after CR LF
		'ab\r|x\r\n'         # a chunk's last CR, then no LF
		'ab\r\n|c\r\r\n'     # CR CR LF
		'ab|\n'              # a chunk of one LF after no CR
	)
	for c in "${cases[@]}"; do
		first=${c%%|*} second=${c#*|}
		: >"$IN"
		rm -f "$DB" "$DB-wal" "$DB-shm"
		put "$ENV"
		chunk "$first"
		chunk "$second" LAST
		# The session goes on: a good message after it is stored.
		put 'MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.com>\r\n'
		chunk 'good\r\n' LAST
		put 'QUIT\r\n'
		session
		echo "case: $c"
		assert_equal "$status" 0
		assert_codes "${ENV_CODES[@]}" "250 2.0.0" "550 5.5.2" "250 2.1.0" "250 2.1.5" "250 2.0.0" "221 2.0.0"
		assert_equal "$(reply 5)" "$BARE"
		assert_equal "$(reply 8)" "250 2.0.0 Ok: queued as 1"
		assert_equal "$(q 'SELECT count(*) FROM messages')" 1
		assert_equal "$(q 'SELECT message_id, address FROM recipients')" "1|c@example.com"
		assert_body 1 'good\r\n'
	done
}

@test "a CR at the very end of the LAST chunk is a bare CR: 550 5.5.2" {
	put "$ENV"
	chunk 'ab\r\ncd\r' LAST
	# The same with the CR ending the text before BDAT 0 LAST.
	put 'MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n'
	chunk 'ab\r\ncd\r'
	chunk '' LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "550 5.5.2" "250 2.1.0" "250 2.1.5" "250 2.0.0" "550 5.5.2" "221 2.0.0"
	assert_equal "$(reply 4)" "$BARE"
	assert_equal "$(reply 8)" "$BARE"
	assert_nothing_stored
}

@test "no dot-unstuffing in BDAT: dot lines, a lone dot and what follows it are data" {
	# In DATA, "." ends the text and ".." loses a dot; in a chunk both
	# are plain bytes, and the MAIL after the dot is text too.
	local text='..x\r\n.\r\n.\r\nMAIL FROM:<evil@example.net>\r\n. \r\n...\r\nend\r\n'
	put "$ENV"
	chunk '.'
	chunk "${text#.}" LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 5)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_body 1 "$text"
}

@test "chunks carry any byte: NUL, 8-bit, a final line without CR LF" {
	put "$ENV"
	chunk 'a\0000b\r\n\377\200caf\303\251\r\n'
	chunk 'no line end' LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "250 2.0.0" "221 2.0.0"
	assert_body 1 'a\0000b\r\n\377\200caf\303\251\r\nno line end'
}

@test "BDAT with LAST in lower case is the last chunk (keywords are case-insensitive)" {
	put "$ENV"
	put 'BDAT 4 last\r\nab\r\nQUIT\r\n'
	session
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 4)" "250 2.0.0 Ok: queued as 1"
	assert_body 1 'ab\r\n'
}

@test "over TCP, EHLO, MAIL, RCPT, two BDATs with their chunks and QUIT in one write" {
	start_server
	python3 - "$PORT" "$BATS_TEST_TMPDIR/got" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
assert f.readline() == b"220 mx.test ESMTP ready\r\n"
s.sendall(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
          b"RCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\n"
          b"BDAT 14\r\nSubject: tcp\r\nBDAT 10 LAST\r\n\r\nbody\r\n\r\nQUIT\r\n")
got = b""
end = time.time() + 10
while time.time() < end:
    b = s.recv(65536)
    if not b:
        break
    got += b
open(sys.argv[2], "wb").write(got)
PY
	server_idle
	printf '%s\r\n' "250-mx.test" "250-PIPELINING" "250-SIZE 26214400" "250-8BITMIME" \
		"250-ENHANCEDSTATUSCODES" "250-CHUNKING" "250-SMTPUTF8" "250 DSN" \
		"250 2.1.0 Sender ok" "250 2.1.5 Recipient ok" "250 2.1.5 Recipient ok" \
		"250 2.0.0 14 bytes received" "250 2.0.0 Ok: queued as 1" \
		"221 2.0.0 mx.test closing connection" >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	assert_equal "$(q 'SELECT helo, client_addr, protocol, mail_from FROM messages')" \
		"client.example|127.0.0.1|ESMTP|a@example.org"
	assert_equal "$(rcpts_of 1)" "b@example.com c@example.com"
	assert_body 1 'Subject: tcp\r\n\r\nbody\r\n\r\n'
}

@test "BDAT before EHLO or MAIL: 503 5.5.1, and the commands inside its chunk are not run" {
	local evil='EHLO evil.example\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nevil\r\n.\r\nQUIT\r\n'
	chunk "$evil"
	put 'EHLO client.example\r\n'
	chunk "$evil" LAST
	chunk 'MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nBDAT 4 LAST\r\nabcd'
	put 'NOOP\r\nQUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes 220 "503 5.5.1" 250 "503 5.5.1" "503 5.5.1" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 1)" "503 5.5.1 Send HELO or EHLO first"
	assert_equal "$(reply 3)" "503 5.5.1 Send MAIL first"
	assert_equal "$(reply 4)" "503 5.5.1 Send MAIL first"
	assert_nothing_stored
}

@test "BDAT before RCPT: 503 5.5.1 Send RCPT first, its chunk is skipped, the transaction goes on" {
	put 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n'
	chunk 'RCPT TO:<v@y>\r\nBDAT 5 LAST\r\nevil\n' LAST
	put 'RCPT TO:<b@example.com>\r\n'
	chunk 'ok\r\n' LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "503 5.5.1" "250 2.1.5" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 3)" "503 5.5.1 Send RCPT first"
	assert_equal "$(reply 5)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(rcpts_of 1)" "b@example.com"
	assert_body 1 'ok\r\n'
}

@test "DATA, MAIL or RCPT between chunks: 503 5.5.1, the chunks so far are kept" {
	put "$ENV"
	chunk 'ab\r\n'
	put 'DATA\r\nMAIL FROM:<x@example.org>\r\nRCPT TO:<c@example.com>\r\n'
	chunk 'cd\r\n' LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "503 5.5.1" "503 5.5.1" "503 5.5.1" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 5)" "$IN_BDAT"
	assert_equal "$(reply 6)" "$IN_BDAT"
	assert_equal "$(reply 7)" "$IN_BDAT"
	assert_equal "$(reply 8)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_equal "$(rcpts_of 1)" "b@example.com"
	assert_body 1 'ab\r\ncd\r\n'
}

@test "RSET between chunks drops the transaction; the next BDAT is out of order" {
	put "$ENV"
	chunk 'dropped\r\n'
	put 'RSET\r\n'
	chunk 'late\r\n' LAST
	put 'MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.com>\r\n'
	chunk 'kept\r\n' LAST
	put 'QUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "250 2.0.0" "503 5.5.1" \
		"250 2.1.0" "250 2.1.5" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 5)" "250 2.0.0 Ok"
	assert_equal "$(reply 6)" "503 5.5.1 Send MAIL first"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT mail_from FROM messages')" "c@example.org"
	assert_equal "$(rcpts_of 1)" "d@example.com"
	assert_body 1 'kept\r\n'
}

@test "a chunk that takes the total over --max-size: 552 5.3.4 at once, and again for each later chunk up to LAST; the next transaction is stored" {
	local line60 line40
	line60="$(printf '%058d' 0)\r\n" # 60 bytes
	line40="$(printf '%038d' 1)\r\n" # 40 bytes
	put "$ENV"
	chunk "$line60"
	chunk "$line60"
	# The rest of that message: read and dropped, never run as commands.
	chunk 'MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\n'
	chunk '' LAST
	# Exactly the limit is taken.
	put 'MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.com>\r\n'
	chunk "$line60"
	chunk "$line40" LAST
	put 'QUIT\r\n'
	session --max-size 100
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "552 5.3.4" "552 5.3.4" "552 5.3.4" \
		"250 2.1.0" "250 2.1.5" "250 2.0.0" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 4)" "250 2.0.0 60 bytes received"
	assert_equal "$(reply 5)" "552 5.3.4 Message size exceeds the limit"
	assert_equal "$(reply 6)" "552 5.3.4 Message size exceeds the limit"
	assert_equal "$(reply 7)" "552 5.3.4 Message size exceeds the limit"
	assert_equal "$(reply 11)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(rcpts_of 1)" "c@example.com"
	assert_body 1 "$line60$line40"
	# The refusal is logged once, and counted as one error.
	assert_equal "$(grep -c 'message refused' "$LOG")" 1
	grep -q ' disconnect .* messages=1 errors=1 end=quit$' "$LOG"
}

@test "RFC 3030 2: 25 pipelined chunks of 20 bytes with --max-size 30: one 552 counted, the rest 552 uncounted, LAST ends it" {
	# The second chunk crosses the limit.  Before issue 9, each later
	# chunk got 503 and counted as an error, and the 21st error ended the
	# session with the rest unanswered.
	local i twenty='0123456789abcdefgh\r\n' want=("${ENV_CODES[@]}" "250 2.0.0")
	put "$ENV"
	for ((i = 0; i < 25; i++)); do chunk "$twenty"; done
	chunk '' LAST
	put 'MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.com>\r\n'
	chunk 'short\r\n' LAST
	put 'QUIT\r\n'
	session --max-size 30
	assert_equal "$status" 0
	for ((i = 1; i < 25; i++)); do want+=("552 5.3.4"); done
	want+=("552 5.3.4" "250 2.1.0" "250 2.1.5" "250 2.0.0" "221 2.0.0")
	assert_codes "${want[@]}"
	assert_equal "$(reply 4)" "250 2.0.0 20 bytes received"
	for ((i = 5; i <= 29; i++)); do
		assert_equal "$(reply $i)" "552 5.3.4 Message size exceeds the limit"
	done
	assert_equal "$(reply 32)" "250 2.0.0 Ok: queued as 1"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(rcpts_of 1)" "c@example.com"
	assert_body 1 'short\r\n'
	assert_equal "$(grep -c 'message refused' "$LOG")" 1
	grep -q ' disconnect .* messages=1 errors=1 end=quit$' "$LOG"
}

@test "after a refused chunk, RSET ends the failed transaction; chunks before it get the failure, after it 503" {
	local twenty='0123456789abcdefgh\r\n'
	put "$ENV"
	chunk "$twenty"
	chunk "$twenty"
	chunk "$twenty"
	put 'RSET\r\n'
	chunk "$twenty"
	put 'MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.com>\r\n'
	chunk 'ok\r\n' LAST
	put 'QUIT\r\n'
	session --max-size 30
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "552 5.3.4" "552 5.3.4" "250 2.0.0" "503 5.5.1" \
		"250 2.1.0" "250 2.1.5" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply 8)" "503 5.5.1 Send MAIL first"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_body 1 'ok\r\n'
	grep -q ' disconnect .* messages=1 errors=2 end=quit$' "$LOG"
}

@test "an unreadable BDAT size: 501 5.5.4, then the session ends (exit 0) with the rest unread" {
	local arg
	for arg in 'abc' '-1' '+5' '0x10' '123456789012345678901' '18446744073709551616' '' \
		'10 LASTX' '10  LAST' '10 LAST LAST' '10 MORE'; do
		: >"$IN"
		put "$ENV"
		put "BDAT $arg\r\n"
		put '0123456789MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nBDAT 2 LAST\r\nxy\r\nQUIT\r\n'
		: >"$LOG"
		session
		echo "BDAT '$arg'"
		assert_equal "$status" 0
		assert_codes "${ENV_CODES[@]}" "501 5.5.4"
		assert_equal "$(reply 4)" "501 5.5.4 Syntax: BDAT size [LAST]"
		assert_nothing_stored
		grep -q 'end=unreadable BDAT size' "$LOG"
	done
}

@test "an unreadable BDAT size out of order: 503 5.5.1, then the session ends" {
	put 'EHLO client.example\r\nBDAT abc\r\nNOOP\r\nQUIT\r\n'
	session
	assert_equal "$status" 0
	assert_codes 220 250 "503 5.5.1"
	assert_nothing_stored
}

@test "the input ends inside a chunk, or before LAST: nothing stored, exit 0" {
	put "$ENV"
	put 'BDAT 100\r\nonly ten b'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}"
	assert_nothing_stored
	: >"$IN"
	put "$ENV"
	chunk 'a whole chunk\r\n'
	session
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0"
	assert_nothing_stored
}

@test "a 5 MiB message in 100 KiB chunks is stored byte for byte" {
	python3 - "$IN" "$BATS_TEST_TMPDIR/text" <<'PY'
import sys
# 5 MiB of numbered CR LF lines of 16 bytes, every other one starting
# with a dot (CR LF pairs fall across chunk borders), sent as BDAT chunks
# of 102400 bytes, the last one shorter and LAST.
text = b"".join((b".%013d\r\n" if i % 2 else b"%014d\r\n") % i for i in range(5 * 1024 * 1024 // 16))
assert len(text) == 5 * 1024 * 1024
open(sys.argv[2], "wb").write(text)
with open(sys.argv[1], "wb") as f:
    f.write(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n")
    step = 100 * 1024
    for off in range(0, len(text), step):
        part = text[off:off + step]
        last = b" LAST" if off + step >= len(text) else b""
        f.write(b"BDAT %d%s\r\n" % (len(part), last) + part)
    f.write(b"QUIT\r\n")
PY
	session
	assert_equal "$status" 0
	local want=("${ENV_CODES[@]}") i
	for ((i = 0; i < 51; i++)); do want+=("250 2.0.0"); done
	want+=("250 2.0.0" "221 2.0.0")
	assert_codes "${want[@]}"
	assert_equal "$(reply 4)" "250 2.0.0 102400 bytes received"
	assert_equal "$(reply 54)" "250 2.0.0 102400 bytes received"
	assert_equal "$(reply 55)" "250 2.0.0 Ok: queued as 1"
	assert_body_file 1 "$BATS_TEST_TMPDIR/text"
}
