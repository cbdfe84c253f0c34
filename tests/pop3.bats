#!/usr/bin/env bats
# pop3d: scripted sessions piped to ./pop3d, every reply checked exactly
# (+OK/-ERR and the RFC 2449 response code), every retrieved byte
# compared with the database.  Real clients over TCP: tests/pop3_clients.bats.

load helpers
load pop3_helpers

setup() {
	pop3_setup
	add_account alice 'open sesame' alice@example.com
}
teardown() {
	net_teardown
	common_teardown
}

GREETING='+OK pop.test POP3 ready'
LOGIN='USER alice\r\nPASS open sesame\r\n'
LOGGED=('+OK Send the password')

# --- AUTHORIZATION ------------------------------------------------------

@test "greeting and CAPA before login: TOP and UIDL already, USER and SASL PLAIN on a pipe, no STLS without TLS" {
	pop3 'CAPA\r\nQUIT\r\n'
	assert_equal "$status" 0
	assert_replies "$GREETING" '+OK Capability list follows' TOP UIDL RESP-CODES PIPELINING \
		AUTH-RESP-CODE USER 'SASL PLAIN' 'IMPLEMENTATION pop3d' . '+OK pop.test closing connection'
}

@test "--plaintext-login never: CAPA offers no login, and USER, PASS and AUTH answer -ERR [AUTH]" {
	pop3 "CAPA\r\n${LOGIN}AUTH PLAIN $(python3 "$POP3PY" authplain '' alice 'open sesame')\r\nSTAT\r\nQUIT\r\n" \
		--plaintext-login never
	assert_equal "$status" 0
	local no='-ERR [AUTH] Plaintext login is not allowed here: use STLS first'
	assert_replies "$GREETING" '+OK Capability list follows' TOP UIDL RESP-CODES PIPELINING \
		AUTH-RESP-CODE 'IMPLEMENTATION pop3d' . "$no" '-ERR Send USER first' "$no" \
		'-ERR Log in first' '+OK pop.test closing connection'
	! grep -q 'pop3d.*: login ' "$LOG"
}

@test "USER and PASS log in: the count and octets of the mailbox, CAPA after login without USER and SASL" {
	deliver alice@example.com 'Subject: one\r\n\r\nfirst\r\n'
	deliver alice@example.com 'Subject: two\r\n\r\nsecond\r\n'
	local s1 s2
	s1=$(q 'SELECT size FROM messages WHERE id = 1')
	s2=$(q 'SELECT size FROM messages WHERE id = 2')
	pop3 "${LOGIN}CAPA\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_replies "$GREETING" '+OK Send the password' "+OK Logged in, 2 messages ($((s1 + s2)) octets)" \
		'+OK Capability list follows' TOP UIDL RESP-CODES PIPELINING AUTH-RESP-CODE \
		'IMPLEMENTATION pop3d' . '+OK pop.test closing connection'
	grep -q 'pop3d\[[0-9]*\]: login client= user=alice tls=no$' "$LOG"
	grep -q 'pop3d\[[0-9]*\]: disconnect client= user=alice retr=0/0 top=0/0 dele=0 errors=0 tls=no end=quit$' "$LOG"
}

@test "a wrong password, an unknown user, a disabled account and one without a password get the same -ERR [AUTH]; the third failure ends the session" {
	add_account_hash nopass ''
	add_account carol secret
	q "UPDATE accounts SET disabled = 1 WHERE name = 'carol'"
	local fail='-ERR [AUTH] Authentication failed'
	pop3 'USER alice\r\nPASS wrong\r\nUSER nobody\r\nPASS open sesame\r\nUSER carol\r\nPASS secret\r\nUSER alice\r\nPASS open sesame\r\n'
	assert_equal "$status" 0
	assert_replies "$GREETING" '+OK Send the password' "$fail" '+OK Send the password' "$fail" \
		'+OK Send the password' '-ERR [AUTH] Authentication failed, closing connection'
	grep -q 'login failed client= user=alice reason=wrong password' "$LOG"
	grep -q 'login failed client= user=nobody reason=no such account' "$LOG"
	grep -q 'end=too many failed logins' "$LOG"
	# No password reaches the log.
	! grep -q 'sesame\|wrong\|secret' "$LOG"
	pop3 'USER nopass\r\nPASS \r\nUSER nopass\r\nPASS x\r\nQUIT\r\n'
	assert_replies "$GREETING" '+OK Send the password' "$fail" '+OK Send the password' "$fail" \
		'+OK pop.test closing connection'
}

@test "at the default delay, a failed login is answered no sooner than 2 s after PASS, for a known and an unknown user alike" {
	local t0 t1
	for user in alice nobody; do
		printf 'USER %s\r\nPASS wrong\r\nQUIT\r\n' "$user" >"$BATS_TEST_TMPDIR/in"
		t0=$(date +%s%N)
		"$POP3D" --db "$DB" --hostname pop.test --log stderr <"$BATS_TEST_TMPDIR/in" \
			>"$BATS_TEST_TMPDIR/out" 2>>"$LOG"
		t1=$(date +%s%N)
		assert_equal "$(tr -d '\r' <"$BATS_TEST_TMPDIR/out" | sed -n 3p)" '-ERR [AUTH] Authentication failed'
		(((t1 - t0) >= 2000000000)) || {
			echo "$user: answered after $(((t1 - t0) / 1000000)) ms"
			return 1
		}
	done
}

@test "passwords hashed with yescrypt, SHA-512 (\$6\$) and bcrypt (\$2b\$) all log in; a hash is never accepted as the password" {
	add_account_hash six "$(hash_of 'pass six' sha-512)" six@example.com
	add_account_hash blow "$(hash_of 'pass blow' bcrypt)" blow@example.com
	[[ $(q "SELECT substr(password, 1, 3) FROM accounts WHERE name = 'six'") == '$6$' ]]
	[[ $(q "SELECT substr(password, 1, 4) FROM accounts WHERE name = 'blow'") == '$2b$' ]]
	local u p
	for u in six blow; do
		pop3 "USER $u\r\nPASS pass $u\r\nQUIT\r\n"
		assert_replies "$GREETING" '+OK Send the password' '+OK Logged in, 0 messages (0 octets)' \
			'+OK pop.test closing connection'
	done
	p=$(q "SELECT password FROM accounts WHERE name = 'six'")
	pop3 "USER six\r\nPASS $p\r\nQUIT\r\n"
	assert_equal "${lines[2]}" '-ERR [AUTH] Authentication failed'
}

@test "AUTH PLAIN with an initial response, and with the response on its own line" {
	local ir
	ir=$(python3 "$POP3PY" authplain '' alice 'open sesame')
	pop3 "AUTH PLAIN $ir\r\nQUIT\r\n"
	assert_replies "$GREETING" '+OK Logged in, 0 messages (0 octets)' '+OK pop.test closing connection'
	# authzid equal to authcid is the same login; the mechanism in any case.
	ir=$(python3 "$POP3PY" authplain alice alice 'open sesame')
	pop3 "auth plain\r\n$ir\r\nSTAT\r\nQUIT\r\n"
	assert_replies "$GREETING" '+ ' '+OK Logged in, 0 messages (0 octets)' '+OK 0 0' \
		'+OK pop.test closing connection'
}

@test "AUTH refusals: another mechanism, cancel, bad base64, empty, acting for another user, wrong password" {
	local other bad
	other=$(python3 "$POP3PY" authplain bob alice 'open sesame')
	bad=$(python3 "$POP3PY" authplain '' alice 'not it')
	pop3 "AUTH LOGIN\r\nAUTH\r\nAUTH PLAIN\r\n*\r\nAUTH PLAIN !!!!\r\nAUTH PLAIN =\r\n" --fail-delay 0
	assert_replies "$GREETING" '-ERR Unsupported mechanism: only PLAIN' \
		'-ERR Syntax: AUTH PLAIN [initial-response]' '+ ' '-ERR Authentication cancelled' \
		'-ERR [AUTH] Authentication failed' '-ERR [AUTH] Authentication failed'
	pop3 "AUTH PLAIN $other\r\nAUTH PLAIN $bad\r\nQUIT\r\n"
	assert_replies "$GREETING" '-ERR [AUTH] Authentication failed' '-ERR [AUTH] Authentication failed' \
		'+OK pop.test closing connection'
}

@test "commands out of order: TRANSACTION commands before login, PASS without USER, login commands after it" {
	pop3 "STAT\r\nLIST\r\nRETR 1\r\nNOOP\r\nPASS x\r\n${LOGIN}USER alice\r\nPASS x\r\nAUTH PLAIN\r\nSTLS\r\nQUIT\r\n"
	assert_replies "$GREETING" '-ERR Log in first' '-ERR Log in first' '-ERR Log in first' \
		'-ERR Log in first' '-ERR Send USER first' '+OK Send the password' \
		'+OK Logged in, 0 messages (0 octets)' '-ERR Already logged in' '-ERR Already logged in' \
		'-ERR Already logged in' '-ERR Already logged in' '+OK pop.test closing connection'
	grep -q 'errors=9 tls=no end=quit' "$LOG"
}

@test "unknown commands, control characters, and lines over RFC 2449's 255 octets are refused; 253 octets and CR LF pass" {
	local long253 long254
	long253="USER $(pad 248)"
	long254="USER $(pad 249)"
	pop3 "XTND XLST\r\nLAST\r\nAPOP alice 0123\r\nUS\x01ER alice\r\n$long254\r\n$long253\r\nQUIT\r\n"
	assert_replies "$GREETING" '-ERR Unknown command' '-ERR Unknown command' '-ERR Unknown command' \
		'-ERR Control characters in the command' '-ERR Line too long' '+OK Send the password' \
		'+OK pop.test closing connection'
	# Far longer than any buffer: read to its end, one reply, session goes on.
	pop3 "USER $(pad 100000)\r\nNOOP\r\nQUIT\r\n"
	assert_replies "$GREETING" '-ERR Line too long' '-ERR Log in first' '+OK pop.test closing connection'
}

@test "after 20 errors the 21st ends the session" {
	local i input=""
	for ((i = 0; i < 25; i++)); do input+='BOGUS\r\n'; done
	pop3 "$input"
	assert_equal "$status" 0
	assert_equal "${#lines[@]}" 23
	assert_equal "${lines[21]}" '-ERR Unknown command'
	assert_equal "${lines[22]}" '-ERR Too many errors, closing connection'
	grep -q 'end=too many errors' "$LOG"
}

# --- TRANSACTION ----------------------------------------------------------

@test "STAT, LIST, LIST n, UIDL, UIDL n, NOOP: sizes the octets RETR sends, UIDs from the message id and uidvalidity" {
	deliver alice@example.com 'Subject: a\r\n\r\nA\r\n'
	deliver 'bob@example.com alice@example.com' 'Subject: b\r\n\r\nBB\r\n'
	store_raw 7 2E6E6F2D63726C66 alice@example.com # ".no-crlf": 8 octets + CR LF
	local s1 s2 uv
	s1=$(q 'SELECT size FROM messages WHERE id = 1')
	s2=$(q 'SELECT size FROM messages WHERE id = 2')
	uv=$(printf '%08x' "$(q "SELECT value FROM meta WHERE name = 'uidvalidity'")")
	pop3 "${LOGIN}STAT\r\nLIST\r\nLIST 3\r\nUIDL\r\nUIDL 2\r\nNOOP\r\nQUIT\r\n"
	local total=$((s1 + s2 + 10))
	assert_replies "$GREETING" '+OK Send the password' "+OK Logged in, 3 messages ($total octets)" \
		"+OK 3 $total" "+OK 3 messages ($total octets)" "1 $s1" "2 $s2" '3 10' . '+OK 3 10' \
		'+OK Unique-id listing follows' "1 00000001$uv" "2 00000002$uv" "3 00000007$uv" . \
		"+OK 2 00000002$uv" '+OK' '+OK pop.test closing connection'
}

@test "message-number arguments: missing, not a number, 0, past the end, extra words" {
	deliver alice@example.com 'x\r\n'
	pop3 "${LOGIN}RETR\r\nRETR one\r\nRETR 0\r\nRETR 2\r\nRETR 99999999999999999999999\r\nRETR 1 2\r\nLIST 2\r\nLIST x\r\nLIST 1 2\r\nUIDL 0\r\nDELE\r\nTOP 1\r\nTOP 1 x\r\nTOP x 1\r\nTOP 2 0\r\nSTAT x\r\nQUIT\r\n"
	assert_replies "$GREETING" '+OK Send the password' "+OK Logged in, 1 messages ($(q 'SELECT size FROM messages') octets)" \
		'-ERR Syntax: RETR message-number' '-ERR Syntax: RETR message-number' '-ERR No message 0' \
		'-ERR No message 2' '-ERR No message 99999999999999999999' '-ERR Syntax: RETR message-number' \
		'-ERR No message 2' '-ERR Syntax: LIST [message-number]' '-ERR Syntax: LIST [message-number]' \
		'-ERR No message 0' '-ERR Syntax: DELE message-number' '-ERR Syntax: TOP message-number lines' \
		'-ERR Syntax: TOP message-number lines' '-ERR Syntax: TOP message-number lines' '-ERR No message 2' \
		'-ERR Syntax: STAT' '+OK pop.test closing connection'
}

@test "RETR sends each message byte for byte as stored, dot-stuffed, with +OK and its LIST size" {
	deliver alice@example.com 'Subject: dots\r\n\r\n..starts with a dot\r\n..\r\n...\r\nend\r\n'
	deliver alice@example.com "Subject: big\r\n\r\n$(pad 70000 y)\r\n.$(pad 70000 z)\r\n"
	local id part
	for id in 1 2; do
		pop3 "${LOGIN}RETR $id\r\nQUIT\r\n"
		assert_equal "${lines[3]}" "+OK $(q "SELECT size FROM messages WHERE id = $id") octets"
		expect_octets "$id" retr
		after_line 4 "$BATS_TEST_TMPDIR/pop3.out" | head -c -"$(printf '+OK pop.test closing connection\r\n' | wc -c)" \
			>"$BATS_TEST_TMPDIR/got"
		assert_raw_equals_want "$BATS_TEST_TMPDIR/got"
	done
	# The stuffed lines really are on the wire.
	pop3 "${LOGIN}RETR 1\r\nQUIT\r\n"
	grep -q $'^\\.\\.starts with a dot\r$' "$BATS_TEST_TMPDIR/pop3.out"
	grep -q $'^\\.\\.\r$' "$BATS_TEST_TMPDIR/pop3.out"
	grep -q $'^\\.\\.\\.\r$' "$BATS_TEST_TMPDIR/pop3.out"
	grep -q 'retr=1/' "$LOG"
}

@test "RETR of bodies BDAT can store: a first line starting with '.', no final CR LF, a NUL, bare LF, CR LF . CR LF inside, empty" {
	store_raw 1 2E666972737420646F740D0A626F64790D0A alice@example.com   # ".first dot\r\nbody\r\n"
	store_raw 2 6E6F20656E64 alice@example.com                           # "no end"
	store_raw 3 610062000D0A alice@example.com                           # "a\0b\0\r\n"
	store_raw 4 6C660A2E6261726520646F740A6C617374 alice@example.com     # "lf\n.bare dot\nlast"
	store_raw 5 780D0A2E0D0A790D0A alice@example.com                     # "x\r\n.\r\ny\r\n"
	store_raw 6 "" alice@example.com                                     # empty
	pop3 "${LOGIN}LIST\r\nQUIT\r\n"
	assert_replies "$GREETING" '+OK Send the password' '+OK Logged in, 6 messages (62 octets)' \
		'+OK 6 messages (62 octets)' '1 18' '2 8' '3 6' '4 19' '5 9' '6 2' . '+OK pop.test closing connection'
	local id sizes=(0 18 8 6 19 9 2)
	for id in 1 2 3 4 5 6; do
		pop3 "${LOGIN}RETR $id\r\n"
		assert_equal "${lines[3]}" "+OK ${sizes[id]} octets"
		expect_octets "$id" retr
		after_line 4 "$BATS_TEST_TMPDIR/pop3.out" >"$BATS_TEST_TMPDIR/got"
		assert_raw_equals_want "$BATS_TEST_TMPDIR/got"
		# What arrives after unstuffing is the LIST size.
		assert_equal "$(head -c -3 "$BATS_TEST_TMPDIR/got" | sed 's/^\.\././' | wc -c)" "${sizes[id]}"
	done
	# Spot checks of the independent expectation itself.
	pop3 "${LOGIN}RETR 1\r\n"
	assert_equal "$(after_line 4 "$BATS_TEST_TMPDIR/pop3.out" | od -An -c | tr -s ' ' | tr -d '\n')" \
		' . . f i r s t d o t \r \n b o d y \r \n . \r \n'
	pop3 "${LOGIN}RETR 2\r\n"
	assert_equal "$(after_line 4 "$BATS_TEST_TMPDIR/pop3.out" | od -An -c | tr -s ' ' | tr -d '\n')" \
		' n o e n d \r \n . \r \n'
}

@test "TOP n 0 sends the header and the empty line; TOP n k adds k body lines; k past the end sends it all" {
	deliver alice@example.com 'Subject: top\r\nX-Two: 2\r\n\r\nline 1\r\n..line 2\r\nline 3\r\n'
	local k
	for k in 0 1 2 3 10; do
		pop3 "${LOGIN}TOP 1 $k\r\n"
		assert_equal "${lines[3]}" '+OK Top of message follows'
		expect_octets 1 top "$k"
		after_line 4 "$BATS_TEST_TMPDIR/pop3.out" >"$BATS_TEST_TMPDIR/got"
		assert_raw_equals_want "$BATS_TEST_TMPDIR/got"
	done
	pop3 "${LOGIN}TOP 1 0\r\n"
	assert_equal "$(tail -n 4 <<<"$output")" $'Subject: top\nX-Two: 2\n\n.'
	pop3 "${LOGIN}TOP 1 2\r\n"
	assert_equal "$(tail -n 3 <<<"$output")" $'line 1\n..line 2\n.'
	# A message without an empty line is all header.
	store_raw 9 4F6E6C793A20686561646572 alice@example.com # "Only: header"
	pop3 "${LOGIN}TOP 2 0\r\n"
	assert_equal "$(tail -n 2 <<<"$output")" $'Only: header\n.'
	grep -q 'top=1/12 ' "$LOG"
}

@test "DELE hides a message from LIST, UIDL, STAT and refuses it to RETR, TOP, DELE, LIST n; RSET brings it back" {
	deliver alice@example.com 'one\r\n'
	deliver alice@example.com 'two\r\n'
	local s1 s2 uv
	s1=$(q 'SELECT size FROM messages WHERE id = 1')
	s2=$(q 'SELECT size FROM messages WHERE id = 2')
	uv=$(printf '%08x' "$(q "SELECT value FROM meta WHERE name = 'uidvalidity'")")
	pop3 "${LOGIN}DELE 1\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 1 0\r\nDELE 1\r\nLIST 1\r\nUIDL 1\r\nRSET\r\nSTAT\r\nQUIT\r\n"
	assert_replies "$GREETING" '+OK Send the password' "+OK Logged in, 2 messages ($((s1 + s2)) octets)" \
		'+OK Message 1 deleted' "+OK 1 $s2" "+OK 1 messages ($s2 octets)" "2 $s2" . \
		'+OK Unique-id listing follows' "2 00000002$uv" . '-ERR Message 1 is deleted' \
		'-ERR Message 1 is deleted' '-ERR Message 1 is deleted' '-ERR Message 1 is deleted' \
		'-ERR Message 1 is deleted' "+OK 2 messages ($((s1 + s2)) octets)" "+OK 2 $((s1 + s2))" \
		'+OK pop.test closing connection'
	# RSET undid it: nothing was deleted.
	assert_equal "$(q 'SELECT count(*) FROM mailbox_state')" 0
}

@test "DELE takes effect at QUIT, for this account only: a message shared with bob stays in his mailbox" {
	add_account bob 'bob pw' bob@example.com
	deliver 'alice@example.com bob@example.com' 'shared\r\n'
	deliver alice@example.com 'alice only\r\n'
	pop3 "${LOGIN}DELE 1\r\nQUIT\r\n"
	assert_equal "${lines[4]}" '+OK pop.test closing connection, 1 deleted'
	assert_equal "$(q "SELECT a.name, s.message_id, s.deleted_at IS NOT NULL FROM mailbox_state s JOIN accounts a ON a.id = s.account_id")" \
		"alice|1|1"
	grep -q 'user=alice retr=0/0 top=0/0 dele=1 ' "$LOG"
	# alice: message 2 only, now numbered 1; bob: the shared one.
	pop3 "${LOGIN}UIDL\r\nQUIT\r\n"
	[[ ${lines[4]} == "1 00000002"* && ${lines[5]} == . ]]
	pop3 'USER bob\r\nPASS bob pw\r\nUIDL\r\nRETR 1\r\nQUIT\r\n'
	[[ ${lines[2]} == '+OK Logged in, 1 messages ('* && ${lines[4]} == "1 00000001"* ]]
	expect_octets 1 retr
	after_line 7 "$BATS_TEST_TMPDIR/pop3.out" | head -c "$(stat -c %s "$BATS_TEST_TMPDIR/want")" >"$BATS_TEST_TMPDIR/got"
	assert_raw_equals_want "$BATS_TEST_TMPDIR/got"
	# The body is still in the database, once.
	assert_equal "$(q 'SELECT count(*) FROM messages')" 2
}

@test "a dropped connection deletes nothing (RFC 1939 6): DELE then end of input, DELE then a timeout" {
	deliver alice@example.com 'keep me\r\n'
	pop3 "${LOGIN}DELE 1\r\n"
	assert_equal "$status" 0
	assert_equal "${lines[3]}" '+OK Message 1 deleted'
	grep -q 'end=eof' "$LOG"
	assert_equal "$(q 'SELECT count(*) FROM mailbox_state')" 0
	# The autologout timer ends the session without a reply (RFC 1939 3):
	# the input stays open until pop3d has gone.
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	"$POP3D" --db "$DB" --hostname pop.test --log stderr --timeout 1 \
		<"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/out" 2>>"$LOG" &
	local pid=$!
	exec 8>"$BATS_TEST_TMPDIR/fifo"
	printf 'USER alice\r\nPASS open sesame\r\nDELE 1\r\n' >&8
	local rc=0
	wait "$pid" || rc=$?
	exec 8>&-
	assert_equal "$rc" 0
	assert_equal "$(tr -d '\r' <"$BATS_TEST_TMPDIR/out")" "$GREETING
+OK Send the password
+OK Logged in, 1 messages ($(q 'SELECT size FROM messages') octets)
+OK Message 1 deleted"
	grep -q 'end=timeout' "$LOG"
	assert_equal "$(q 'SELECT count(*) FROM mailbox_state')" 0
}

@test "a commit that fails at QUIT answers -ERR [SYS/TEMP] and deletes nothing" {
	deliver alice@example.com 'one\r\n'
	deliver alice@example.com 'two\r\n'
	q "CREATE TRIGGER no_deletes BEFORE INSERT ON mailbox_state WHEN NEW.message_id = 2
	   BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
	pop3 "${LOGIN}DELE 1\r\nDELE 2\r\nQUIT\r\n"
	assert_equal "$status" 0
	assert_equal "${lines[5]}" '-ERR [SYS/TEMP] Could not delete the messages; none was deleted'
	assert_equal "${#lines[@]}" 6
	assert_equal "$(q 'SELECT count(*) FROM mailbox_state')" 0
	grep -q 'cannot delete client= user=alice reason=cannot mark messages deleted: refused by the test' "$LOG"
	q 'DROP TRIGGER no_deletes'
	pop3 "${LOGIN}STAT\r\nQUIT\r\n"
	[[ ${lines[3]} == '+OK 2 '* ]]
}

@test "a mailbox is the account's addresses in any case, a message with two of them listed once" {
	q "INSERT INTO addresses VALUES ('Alias@Example.COM', (SELECT id FROM accounts WHERE name = 'alice'))"
	deliver 'ALICE@example.com' 'upper\r\n'
	deliver 'alias@example.com alice@EXAMPLE.com' 'both\r\n'
	deliver 'someone@example.com' 'not hers\r\n'
	pop3 "${LOGIN}UIDL\r\nQUIT\r\n"
	[[ ${lines[2]} == '+OK Logged in, 2 messages ('* ]]
	[[ ${lines[4]} == "1 00000001"* && ${lines[5]} == "2 00000002"* && ${lines[6]} == . ]]
}

@test "the mailbox query reads addresses first, then recipients through the case-blind index" {
	local plan
	plan=$(q "EXPLAIN QUERY PLAN SELECT m.id, length(m.body) FROM messages AS m
		WHERE m.id IN (SELECT r.message_id FROM addresses AS ad
		  CROSS JOIN recipients AS r ON r.address = ad.address COLLATE NOCASE WHERE ad.account_id = 1)
		AND NOT EXISTS (SELECT 1 FROM mailbox_state AS s WHERE s.account_id = 1
		  AND s.message_id = m.id AND s.deleted_at IS NOT NULL) ORDER BY m.id")
	echo "$plan"
	grep -q 'SCAN ad' <<<"$plan"
	grep -q 'SEARCH r USING COVERING INDEX recipients_by_address_nocase (address=?)' <<<"$plan"
	# pop3d's own query is the one pinned here.
	grep -q 'CROSS JOIN recipients AS r ON r.address = ad.address COLLATE NOCASE' "$REPO/mailstore.c"
}

@test "UIDL is the same in every session and not reused: a new message after a deletion gets a new one" {
	deliver alice@example.com 'one\r\n'
	pop3 "${LOGIN}UIDL\r\nQUIT\r\n"
	local first=${lines[4]}
	pop3 "${LOGIN}UIDL\r\nDELE 1\r\nQUIT\r\n"
	assert_equal "${lines[4]}" "$first"
	deliver alice@example.com 'two\r\n'
	pop3 "${LOGIN}UIDL\r\nQUIT\r\n"
	[[ ${lines[4]} == "1 00000002"* && ${lines[4]} != "$first" ]]
	assert_equal "${lines[4]:10}" "${first:10}"
}

@test "RETR of a 25 MiB message: every byte as stored, and the peak memory within 1 MiB of a small message's" {
	[[ -z ${VALGRIND:-} && -z ${SANITIZED:-} ]] || skip "measures the plain build"
	python3 -c "
import sys
line = b'x' * 76 + b'\r\n'
sys.stdout.buffer.write(b'Subject: big\r\n\r\n' + line * (25 * 1024 * 1024 // 78))" >"$BATS_TEST_TMPDIR/big"
	q "INSERT INTO messages (id, received_at, helo, client_addr, protocol, mail_from, size, body)
	   VALUES (1, 'x', 'h', '', 'ESMTP', 'a@example.org', 0, readfile('$BATS_TEST_TMPDIR/big'))"
	q "INSERT INTO recipients VALUES (1, 0, 'alice@example.com', NULL, NULL)"
	store_raw 2 68690D0A alice@example.com
	local big small
	printf 'USER alice\r\nPASS open sesame\r\nRETR 1\r\nQUIT\r\n' >"$BATS_TEST_TMPDIR/in1"
	printf 'USER alice\r\nPASS open sesame\r\nRETR 2\r\nQUIT\r\n' >"$BATS_TEST_TMPDIR/in2"
	big=$( { /usr/bin/time -f %M "$POP3D" --db "$DB" --log stderr <"$BATS_TEST_TMPDIR/in1" \
		>"$BATS_TEST_TMPDIR/out1" 2>/dev/null; } 2>&1)
	small=$( { /usr/bin/time -f %M "$POP3D" --db "$DB" --log stderr <"$BATS_TEST_TMPDIR/in2" \
		>"$BATS_TEST_TMPDIR/out2" 2>/dev/null; } 2>&1)
	echo "peak RSS: 25 MiB RETR $big KiB, small RETR $small KiB"
	((big - small <= 1024))
	expect_octets 1 retr
	after_line 4 "$BATS_TEST_TMPDIR/out1" | head -c "$(stat -c %s "$BATS_TEST_TMPDIR/want")" >"$BATS_TEST_TMPDIR/got"
	assert_raw_equals_want "$BATS_TEST_TMPDIR/got"
}

@test "a database pop3d cannot open: -ERR [SYS/TEMP], exit 1, the log says why" {
	q 'PRAGMA user_version = 99'
	pop3 'USER alice\r\n'
	assert_equal "$status" 1
	assert_replies '-ERR [SYS/TEMP] pop.test POP3 not available, try again later'
	grep -q 'cannot open the mailbox database.*newer' "$LOG"
}

@test "bad options: exit 2 with a message on stderr" {
	run "$POP3D" --fail-delay x
	assert_equal "$status" 2
	[[ $output == "pop3d: --fail-delay: 'x' is not a number"* ]]
	run "$POP3D" --plaintext-login sometimes
	assert_equal "$status" 2
	[[ $output == "pop3d: --plaintext-login: 'sometimes' is not local or never"* ]]
	run "$POP3D" --bogus
	assert_equal "$status" 2
	run "$POP3D" --version
	assert_equal "$status" 0
	[[ $output == "pop3d "* ]]
}
