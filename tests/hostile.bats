#!/usr/bin/env bats
# Hostile input: bytes that do not belong in commands, lines of any
# length with and without an end, every malformed end of data with a
# forged transaction behind it, the error limit, sizes and recipient
# lists past the limits, addresses and HELO names built to break the
# store or the trace headers, clients that vanish at any point or drip
# one byte at a time, and clients that talk before the greeting.  Each
# case checks the exact replies and then what the database holds.

load helpers
load fault_helpers

setup() { fault_setup; }
teardown() { fault_teardown; }

# The envelope most tests use, up to and including DATA, and its replies.
ENV='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n'
ENV_CODES=(220 250 "250 2.1.0" "250 2.1.5" 354)

# A transaction hidden behind a malformed end of data.
FORGED='MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nFrom: forged@example.net\r\n\r\nforged\r\n.\r\n'

# make_input FILE PART... - write the parts into FILE: "%b:TEXT" is TEXT
# with printf %b escapes, "A:N" is N bytes of 'a'.
make_input() {
	local file=$1 part
	shift
	: >"$file"
	for part in "$@"; do
		case $part in
		%b:*) printf '%b' "${part#%b:}" >>"$file" ;;
		A:*) head -c "${part#A:}" /dev/zero | tr '\0' a >>"$file" ;;
		esac
	done
}

# --- bytes that do not belong in a command --------------------------------

@test "NUL, control bytes, DEL and a bare CR in commands get 500 5.5.2; the session goes on" {
	smtp 'EHLO client.example\r\nNO\0OP\r\nNOOP\001\r\nNOOP \033[2J\r\nNOOP \177\r\nNO\rOP\r\n\0\r\nMAIL FROM:<a@example.org>\0\r\nRCPT TO:<b@exa\x1bmple.com>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nafter the noise\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" \
		"500 5.5.2" "500 5.5.2" "500 5.5.2" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 2)" "500 5.5.2 Command contains invalid characters"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT mail_from, address FROM messages JOIN recipients ON message_id = id')" \
		"a@example.org|b@example.com"
	assert_body 1 'after the noise\r\n'
}

@test "8-bit bytes: 500 5.5.2 in commands without UTF-8 arguments, refused in EHLO, MAIL and RCPT" {
	# EHLO, MAIL and RCPT may carry UTF-8 (RFC 6531): invalid UTF-8 is a
	# bad argument, valid UTF-8 without SMTPUTF8 is 553 5.6.7.
	smtp 'EHLO client.example\r\nNOOP caf\xc3\xa9\r\n\xff\xfe\r\nRSET \xc3\xa9\r\nHELP \x80\r\nEHLO \xe9.example\r\nMAIL FROM:<caf\xe9@example.org>\r\nMAIL FROM:<caf\xc3\xa9@example.org>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<\xe2\x82\xac@example.com>\r\nRCPT TO:<\xff@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\xc3\xa9\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "500 5.5.2" "500 5.5.2" "500 5.5.2" "500 5.5.2" "501 5.5.4" \
		"501 5.1.7" "553 5.6.7" "250 2.1.0" "553 5.6.7" "501 5.1.3" "250 2.1.5" \
		"500 5.5.2" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 2)" "500 5.5.2 Command contains invalid characters"
	assert_equal "$(q 'SELECT helo, protocol, mail_from FROM messages')" "client.example|ESMTP|a@example.org"
	assert_equal "$(q 'SELECT address FROM recipients')" "b@example.com"
	assert_body 1 'x\r\n'
}

# --- command lines of any length ------------------------------------------

# long_line_case N - a NOOP line of N bytes with its CR LF, in the middle
# of a transaction: 500 5.5.2, then the transaction goes on.
long_line_case() {
	make_input "$BATS_TEST_TMPDIR/in" '%b:EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nNOOP ' \
		"A:$(($1 - 7))" '%b:\r\nNOOP\r\nRCPT TO:<b@example.com>\r\nDATA\r\nkept\r\n.\r\nQUIT\r\n'
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "500 5.5.2" "250 2.0.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 3)" "500 5.5.2 Command line too long"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_body 1 'kept\r\n'
}

# unended_line_case N - N bytes of a command line, then the input ends.
unended_line_case() {
	make_input "$BATS_TEST_TMPDIR/in" \
		'%b:EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nNOOP ' "A:$(($1 - 5))"
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5"
	assert_nothing_stored
}

@test "a 512-byte command line (CR LF included) is still taken" {
	make_input "$BATS_TEST_TMPDIR/in" '%b:EHLO client.example\r\nNOOP ' A:505 '%b:\r\nQUIT\r\n'
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_codes 220 250 "250 2.0.0" "221 2.0.0"
}

@test "a 513-byte command line gets 500 5.5.2 and the session goes on" {
	long_line_case 513
}

@test "a 4096-byte command line gets 500 5.5.2 and the session goes on" {
	long_line_case 4096
}

@test "a 1 MiB command line gets 500 5.5.2 and the session goes on" {
	long_line_case 1048576
}

@test "a 513-byte command line without an end, then end of input: exit 0, nothing stored" {
	unended_line_case 513
}

@test "a 4096-byte command line without an end, then end of input: exit 0, nothing stored" {
	unended_line_case 4096
}

@test "a 1 MiB command line without an end, then end of input: exit 0, nothing stored" {
	unended_line_case 1048576
}

@test "a 1 MiB command line takes at most 1 MiB more memory than a tiny session" {
	make_input "$BATS_TEST_TMPDIR/tiny" '%b:EHLO client.example\r\nNOOP\r\nQUIT\r\n'
	make_input "$BATS_TEST_TMPDIR/long" '%b:EHLO client.example\r\nNOOP ' A:1048569 '%b:\r\nNOOP\r\nQUIT\r\n'
	make_input "$BATS_TEST_TMPDIR/unended" '%b:EHLO client.example\r\nNOOP ' A:1048571

	smtp_rss "$BATS_TEST_TMPDIR/tiny"
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.0.0" "221 2.0.0"
	local tiny=$PEAK_KIB

	smtp_rss "$BATS_TEST_TMPDIR/long"
	assert_equal "$status" 0
	assert_codes 220 250 "500 5.5.2" "250 2.0.0" "221 2.0.0"
	local long=$PEAK_KIB

	smtp_rss "$BATS_TEST_TMPDIR/unended"
	assert_equal "$status" 0
	assert_codes 220 250
	local unended=$PEAK_KIB

	echo "# peak RSS: tiny session $tiny KiB, 1 MiB line $long KiB, 1 MiB line without end $unended KiB" >&3
	assert_rss_within "$tiny" "$long" "a 1 MiB command line"
	assert_rss_within "$tiny" "$unended" "a 1 MiB command line without an end"
}

# --- malformed ends of data -----------------------------------------------

# Every near miss of CR LF "." CR LF, by name.
declare -gA SEQ=(
	[LF.LF]='\n.\n'
	[LF.CRLF]='\n.\r\n'
	[CRLF.LF]='\r\n.\n'
	[CR.CR]='\r.\r'
	[CRLF.CR]='\r\n.\r'
	[CR.CRLF]='\r.\r\n'
)
SEQ_NAMES=(LF.LF LF.CRLF CRLF.LF CR.CR CRLF.CR CR.CRLF)

# seq_case NAME INPUT CODE... - run INPUT; the replies are exactly CODE...,
# the exit status 0, and nothing is stored.
seq_case() {
	local name=$1 input=$2
	shift 2
	rm -f "$DB" "$DB-wal" "$DB-shm"
	smtp "$input"
	if [[ $status != 0 ]] || ! assert_codes "$@" || ! assert_nothing_stored; then
		echo "case $name: status $status"
		return 1
	fi
}

@test "each malformed end of data, then the real one: 550 5.5.2, nothing stored" {
	local n
	for n in "${SEQ_NAMES[@]}"; do
		seq_case "$n" "${ENV}Subject: s\r\n\r\ntext${SEQ[$n]}more text\r\n.\r\nNOOP\r\nQUIT\r\n" \
			"${ENV_CODES[@]}" "550 5.5.2" "250 2.0.0" "221 2.0.0"
	done
	# The CR LF of the DATA line itself as the start of the sequence.
	seq_case "DATA CRLF, .LF" "$ENV"'.\nmore\r\n.\r\nNOOP\r\nQUIT\r\n' \
		"${ENV_CODES[@]}" "550 5.5.2" "250 2.0.0" "221 2.0.0"
	seq_case "DATA CRLF, .CR" "$ENV"'.\rmore\r\n.\r\nNOOP\r\nQUIT\r\n' \
		"${ENV_CODES[@]}" "550 5.5.2" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 5)" "550 5.5.2 Message refused: lines must end with CR LF (bare CR or LF found)"
}

@test "each malformed end of data, then end of input: exit 0, nothing stored" {
	local n
	for n in "${SEQ_NAMES[@]}"; do
		seq_case "$n, end of input" "${ENV}text${SEQ[$n]}" "${ENV_CODES[@]}"
		seq_case "$n, more, end of input" "${ENV}text${SEQ[$n]}QUIT\r\n" "${ENV_CODES[@]}"
	done
}

@test "each malformed end of data followed by a pipelined forged transaction: one 550, nothing stored" {
	local n
	for n in "${SEQ_NAMES[@]}"; do
		seq_case "$n + forged, QUIT" "${ENV}Subject: s\r\n\r\ntext${SEQ[$n]}${FORGED}QUIT\r\n" \
			"${ENV_CODES[@]}" "550 5.5.2" "221 2.0.0"
		seq_case "$n + forged, end of input" "${ENV}text${SEQ[$n]}${FORGED}" \
			"${ENV_CODES[@]}" "550 5.5.2"
		# The forged message ended the same malformed way, then the input ends.
		seq_case "$n + forged ending in $n" \
			"${ENV}text${SEQ[$n]}MAIL FROM:<evil@example.net>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nforged${SEQ[$n]}QUIT\r\n" \
			"${ENV_CODES[@]}"
	done
}

# --- the error limit ------------------------------------------------------

@test "21 bad commands: the 21st error reply, 421 4.7.0, exit 0, nothing after is answered" {
	local input want
	input='MAIL FROM:<a@example.org>\r\nFOO\r\nEHLO client.example\r\nNO\0OP\r\nNOOP \xff\r\n'
	want=(220 "503 5.5.1" "500 5.5.2" 250 "500 5.5.2" "500 5.5.2")
	input+="NOOP $(head -c 600 /dev/zero | tr '\0' z)\r\n"
	want+=("500 5.5.2")
	input+='MAIL TO:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nVRFY\r\nEXPN list\r\n'
	want+=("501 5.5.4" "503 5.5.1" "503 5.5.1" "501 5.5.4" "502 5.5.1")
	local i
	for i in $(seq 11 21); do
		input+="BOGUS$i\r\n"
		want+=("500 5.5.2")
	done
	input+='NOOP\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nlate\r\n.\r\nQUIT\r\n'
	smtp "$input"
	assert_equal "$status" 0
	assert_codes "${want[@]}" "421 4.7.0"
	assert_equal "$(last_line)" "421 4.7.0 mx.test Too many errors, closing connection"
	assert_nothing_stored
}

# --- sizes ----------------------------------------------------------------

@test "a body over --max-size gets 552 5.3.4, nothing stored, the session goes on" {
	make_input "$BATS_TEST_TMPDIR/in" "%b:${ENV}" A:5000 '%b:\r\n.\r\nNOOP\r\nRSET\r\nQUIT\r\n'
	smtp_file "$BATS_TEST_TMPDIR/in" --max-size 1000
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "552 5.3.4" "250 2.0.0" "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 5)" "552 5.3.4 Message size exceeds the limit"
	assert_nothing_stored
}

@test "a 20 MiB body over --max-size 1000000: 552 5.3.4 in at most 1 MiB more memory than a tiny session" {
	make_input "$BATS_TEST_TMPDIR/tiny" "%b:${ENV}Subject: tiny\r\n\r\n" A:1000 '%b:\r\n.\r\nQUIT\r\n'
	{
		printf '%b' "${ENV}Subject: big\r\n\r\n"
		# 20 MiB of 64-byte lines, a few of them dot-stuffed.
		python3 -c '
import sys
line = b"b" * 62 + b"\r\n"
block = (line * 63 + b".." + line[2:]) * 256
for _ in range(20):
    sys.stdout.buffer.write(block)'
		printf '.\r\nNOOP\r\nQUIT\r\n'
	} >"$BATS_TEST_TMPDIR/big"
	(($(stat -c %s "$BATS_TEST_TMPDIR/big") > 20 * 1048576))

	smtp_rss "$BATS_TEST_TMPDIR/tiny" --max-size 1000000
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "221 2.0.0"
	local tiny=$PEAK_KIB

	smtp_rss "$BATS_TEST_TMPDIR/big" --max-size 1000000
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "552 5.3.4" "250 2.0.0" "221 2.0.0"
	local big=$PEAK_KIB

	echo "# peak RSS: 1 KiB message $tiny KiB, refused 20 MiB message $big KiB" >&3
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 1
	assert_body 1 "Subject: tiny\r\n\r\n$(head -c 1000 /dev/zero | tr '\0' a)\r\n"
	assert_rss_within "$tiny" "$big" "a refused 20 MiB body"
}

@test "SIZE is a hint: SIZE=100 with 2000 bytes under --max-size 100000 is stored" {
	local text
	text=$(head -c 2000 /dev/zero | tr '\0' s)
	smtp "EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=100\r\nRCPT TO:<b@example.com>\r\nDATA\r\n${text:0:1998}\r\n.\r\nQUIT\r\n" --max-size 100000
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "250 2.0.0" "221 2.0.0"
	assert_body 1 "${text:0:1998}\r\n"
}

@test "SIZE=100 with a body over --max-size gets 552 5.3.4 and nothing is stored" {
	make_input "$BATS_TEST_TMPDIR/in" '%b:EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=100\r\nRCPT TO:<b@example.com>\r\nDATA\r\n' \
		A:2000 '%b:\r\n.\r\nQUIT\r\n'
	smtp_file "$BATS_TEST_TMPDIR/in" --max-size 1000
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "552 5.3.4" "221 2.0.0"
	assert_nothing_stored
}

# --- recipients -----------------------------------------------------------

@test "1000 recipients: 100 taken, 900 get 452 4.5.3 without ending the session, 100 stored in order" {
	local i want=(220 250 "250 2.1.0")
	{
		printf 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n'
		for ((i = 1; i <= 1000; i++)); do
			printf 'RCPT TO:<r%d@example.com>\r\n' "$i"
		done
		printf 'DATA\r\nfor the first hundred\r\n.\r\nQUIT\r\n'
	} >"$BATS_TEST_TMPDIR/in"
	for ((i = 1; i <= 100; i++)); do want+=("250 2.1.5"); done
	for ((i = 101; i <= 1000; i++)); do want+=("452 4.5.3"); done
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_codes "${want[@]}" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 103)" "452 4.5.3 Too many recipients"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 100
	local expect=""
	for ((i = 1; i <= 100; i++)); do expect+="$((i - 1))|r$i@example.com"$'\n'; done
	assert_equal "$(q 'SELECT position, address FROM recipients ORDER BY position')" "${expect%$'\n'}"
	assert_body 1 'for the first hundred\r\n'
}

# --- addresses ------------------------------------------------------------

@test "addresses of 300 bytes and more: 501 5.1.7 for MAIL, 501 5.1.3 for RCPT" {
	local l300 l242 l243 l2000
	l300=$(head -c 300 /dev/zero | tr '\0' l)
	# <local@example.org> is the local part and 14 bytes: 242 + 14 = 256,
	# the longest path RFC 5321 4.5.3.1.3 allows.
	l242=$(head -c 242 /dev/zero | tr '\0' l)
	l243=$(head -c 243 /dev/zero | tr '\0' l)
	l2000=$(head -c 2000 /dev/zero | tr '\0' l)
	smtp "EHLO client.example\r\nMAIL FROM:<$l300@example.org>\r\nMAIL FROM:<$l243@example.org>\r\nMAIL FROM:<$l2000@example.org>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<$l300@example.com>\r\nRCPT TO:<$l243@example.com>\r\nRCPT TO:<$l2000@example.com>\r\nRCPT TO:<$l242@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_codes 220 250 "501 5.1.7" "501 5.1.7" "500 5.5.2" "250 2.1.0" \
		"501 5.1.3" "501 5.1.3" "500 5.5.2" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(reply_line 2)" "501 5.1.7 Bad sender address: address too long"
	assert_equal "$(reply_line 6)" "501 5.1.3 Bad recipient address: address too long"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_equal "$(q 'SELECT address FROM recipients')" "$l242@example.com"
	assert_body 1 'x\r\n'
}

@test "quoted local parts with spaces and escapes are stored exactly as sent" {
	local input
	input=$'EHLO client.example\r\n'
	input+=$'MAIL FROM:<"a b"@example.org>\r\n'
	input+=$'RCPT TO:<"a b"@example.com>\r\n'
	input+=$'RCPT TO:<"a\\"b"@example.com>\r\n'
	input+=$'RCPT TO:<"\\r"@example.com>\r\n'
	input+=$'RCPT TO:<"a\\\\b"@example.com>\r\n'
	input+=$'RCPT TO:<"a\rb"@example.com>\r\n'
	input+=$'RCPT TO:<"a\\\rb"@example.com>\r\n'
	input+=$'RCPT TO:<"a\\b@example.com>\r\n'
	input+=$'DATA\r\nquoted\r\n.\r\nQUIT\r\n'
	printf '%s' "$input" >"$BATS_TEST_TMPDIR/in"
	smtp_file "$BATS_TEST_TMPDIR/in"
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "250 2.1.5" "250 2.1.5" \
		"500 5.5.2" "500 5.5.2" "501 5.1.3" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" '"a b"@example.org'
	assert_equal "$(q 'SELECT position, address FROM recipients ORDER BY position')" \
		'0|"a b"@example.com
1|"a\"b"@example.com
2|"\r"@example.com
3|"a\\b"@example.com'
	assert_body 1 'quoted\r\n'
	[[ $(q 'SELECT CAST(body AS TEXT) FROM messages') == 'Return-Path: <"a b"@example.org>'$'\r\n'* ]]
}

# --- HELO and EHLO arguments ----------------------------------------------

@test "SQL in EHLO, MAIL and RCPT is refused or stored literally, and the tables survive" {
	smtp "EHLO x');DROP TABLE messages;--\r\nEHLO x');DROP/**/TABLE/**/messages;--\r\nMAIL FROM:<\"x');DROP TABLE recipients;--\"@example.org>\r\nRCPT TO:<\"'; DELETE FROM messages; --\"@example.com>\r\nDATA\r\nsql\r\n.\r\nQUIT\r\n"
	assert_equal "$status" 0
	# The first EHLO has spaces in it: not a host name.
	assert_codes 220 "501 5.5.4" 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")" \
		"accounts
addresses
mailbox_state
messages
meta
recipients
sqlite_sequence"
	assert_equal "$(q 'SELECT helo FROM messages')" "x');DROP/**/TABLE/**/messages;--"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "\"x');DROP TABLE recipients;--\"@example.org"
	assert_equal "$(q 'SELECT address FROM recipients')" "\"'; DELETE FROM messages; --\"@example.com"
	assert_body 1 'sql\r\n'
	assert_equal "$(q 'PRAGMA integrity_check')" ok
}

@test "HELO and EHLO cannot add a header line: CR, tab, LF and long names are refused" {
	local long
	long=$(head -c 300 /dev/zero | tr '\0' h)
	smtp "HELO a\rb\r\nHELO a\tb\r\nEHLO $long\r\nEHLO a b\r\nEHLO x\nX-Injected: yes\r\nEHLO evil.example\r\n\tby forged.example\r\nReceived: from forged.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhelo\r\n.\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_codes 220 "500 5.5.2" "500 5.5.2" "501 5.5.4" "501 5.5.4" 250 "500 5.5.2" 250 \
		"500 5.5.2" "500 5.5.2" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT helo FROM messages')" "evil.example"
	# The trace headers are exactly the five lines the row implies.
	assert_body 1 'helo\r\n'
	local headers
	headers=$(q "SELECT substr(CAST(body AS TEXT), 1, instr(CAST(body AS TEXT), 'helo' || char(13)) - 1) FROM messages")
	assert_equal "$(printf '%s' "$headers" | grep -c $'\r$')" 5
	[[ $headers != *Injected* && $headers != *forged* ]]
}

# --- the client goes away -------------------------------------------------

@test "the client's end of input at every stage: exit 0, nothing stored" {
	local envelope='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n'
	seq_case "before HELO" '' 220
	seq_case "after HELO" 'EHLO client.example\r\n' 220 250
	seq_case "after MAIL" 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n' 220 250 "250 2.1.0"
	seq_case "after RCPT" "$envelope" 220 250 "250 2.1.0" "250 2.1.5"
	seq_case "after DATA" "${envelope}DATA\r\n" "${ENV_CODES[@]}"
	seq_case "in the body" "${envelope}DATA\r\nSubject: cut\r\n\r\nhalf a li" "${ENV_CODES[@]}"
	seq_case "after CR LF ." "${envelope}DATA\r\nSubject: cut\r\n\r\nline\r\n." "${ENV_CODES[@]}"
	seq_case "after CR LF . CR" "${envelope}DATA\r\nSubject: cut\r\n\r\nline\r\n.\r" "${ENV_CODES[@]}"
	seq_case "in the MAIL line" 'EHLO client.example\r\nMAIL FROM:<a@exa' 220 250
	seq_case "in the DATA line" "${envelope}DAT" 220 250 "250 2.1.0" "250 2.1.5"
	seq_case "DATA without its line end" "${envelope}DATA" 220 250 "250 2.1.0" "250 2.1.5"
	seq_case "in the QUIT line" "${envelope}QUI" 220 250 "250 2.1.0" "250 2.1.5"
}

# --- slow clients ---------------------------------------------------------

# smtp_drip FAST SLOW [OPTION...] - send FAST (printf %b) at once, then
# SLOW one byte every half second (at most 40 bytes, 20 s), through a pipe;
# sets $status, $output, $lines and $ELAPSED (smtpd's run time, seconds).
smtp_drip() {
	local fast=$1 slow=$2 t0 t1
	shift 2
	printf '%b' "$slow" >"$BATS_TEST_TMPDIR/drip"
	t0=$(date +%s.%N)
	status=0
	{
		printf '%b' "$fast"
		# Bounded: one byte per step, 40 steps; stops when smtpd is gone.
		local i
		for ((i = 0; i < 40; i++)); do
			tail -c +$((i + 1)) "$BATS_TEST_TMPDIR/drip" | head -c 1 || break
			sleep 0.5
		done
	} 2>/dev/null | {
		"$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@" \
			>"$BATS_TEST_TMPDIR/replies" 2>>"$LOG"
		echo $? >"$BATS_TEST_TMPDIR/rc"
		date +%s.%N >"$BATS_TEST_TMPDIR/t1"
	}
	status=$(cat "$BATS_TEST_TMPDIR/rc")
	t1=$(cat "$BATS_TEST_TMPDIR/t1")
	ELAPSED=$(python3 -c "print(round($t1 - $t0, 2))")
	replies_from "$BATS_TEST_TMPDIR/replies"
}

@test "a client that sends one byte every half second is cut off by --session-timeout: 421 4.4.2" {
	smtp_drip '' 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n' --session-timeout 2 --timeout 10
	echo "# one byte per 0.5 s, commands: session ended after ${ELAPSED} s" >&3
	assert_equal "$status" 0
	assert_codes 220 "421 4.4.2"
	assert_equal "$(last_line)" "421 4.4.2 mx.test Timeout, closing connection"
	python3 -c "import sys; t = float(sys.argv[1]); sys.exit(0 if 1.9 <= t <= 5 else 1)" "$ELAPSED"
	assert_nothing_stored
}

@test "a body that arrives one byte every half second is cut off too: 421 4.4.2, nothing stored" {
	smtp_drip "$ENV" 'Subject: slow\r\n\r\nvery slow body\r\n.\r\n' --session-timeout 2 --timeout 10
	echo "# one byte per 0.5 s, body: session ended after ${ELAPSED} s" >&3
	assert_equal "$status" 0
	assert_codes "${ENV_CODES[@]}" "421 4.4.2"
	python3 -c "import sys; t = float(sys.argv[1]); sys.exit(0 if 1.9 <= t <= 5 else 1)" "$ELAPSED"
	assert_nothing_stored
}

# --- talking before the greeting ------------------------------------------

@test "over TCP, commands sent before the greeting get 554 5.5.0 and the connection closes" {
	"$SMTPD" --init-db --db "$DB"
	# smtpd looks for early bytes once, before it greets; start it half
	# a second late so that the client's bytes are surely there by then,
	# however loaded the machine.
	printf '#!/bin/sh\nsleep 0.5\nexec "%s" "$@"\n' "$SMTPD" >"$BATS_TEST_TMPDIR/late-smtpd"
	chmod +x "$BATS_TEST_TMPDIR/late-smtpd"
	SMTPD="$BATS_TEST_TMPDIR/late-smtpd" start_server
	local how
	how=$(python3 - "$PORT" "$BATS_TEST_TMPDIR/replies" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"EHLO x\r\nMAIL FROM:<a@b.c>\r\n")
got, end, how = b"", time.time() + 10, None
while time.time() < end:
    try:
        chunk = s.recv(4096)
    except ConnectionResetError:
        how = "reset (RST)"
        break
    if not chunk:
        how = "closed (FIN)"
        break
    got += chunk
else:
    sys.exit("the connection was not closed within 10 s")
s.close()
open(sys.argv[2], "wb").write(got)
print(how)
PY
	)
	echo "# early talker: connection $how after the 554" >&3
	server_idle
	assert_equal "$(cat "$BATS_TEST_TMPDIR/replies")" $'554 5.5.0 mx.test Protocol error: data sent before the greeting\r'
	assert_nothing_stored
}

@test "the same bytes from a file on stdin are taken: the early-talker check is for sockets" {
	smtp 'EHLO x\r\nMAIL FROM:<a@b.c>\r\n'
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0"
	assert_nothing_stored
}
