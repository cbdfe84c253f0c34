#!/usr/bin/env bats
# The envelope: MAIL FROM and RCPT TO paths (RFC 5321 4.1.2), their
# parameters (SIZE, BODY), the domains mail is accepted for, and the
# recipient limit.  Addresses are stored exactly as sent.

load helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
}
teardown() { common_teardown; }

# smtp_raw INPUT [OPTION...] - like smtp, but INPUT is taken literally
# (no printf escapes), for addresses with backslashes in them.
smtp_raw() {
	local input=$1
	shift
	printf '%s' "$input" >"$BATS_TEST_TMPDIR/input.raw"
	smtp_file "$BATS_TEST_TMPDIR/input.raw" "$@"
}

# --- the sender -----------------------------------------------------------

@test "MAIL FROM:<> is the null sender, stored as ''" {
	smtp 'EHLO client.example\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nbounce\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q "SELECT count(*) FROM messages WHERE mail_from = ''")" 1
	assert_body 1 'bounce\r\n'
	[[ $(q 'SELECT CAST(body AS TEXT) FROM messages') == "Return-Path: <>"$'\r'* ]]
}

@test "a space after MAIL FROM: and RCPT TO:, and after the path, is tolerated" {
	smtp 'EHLO client.example\r\nMAIL FROM: <a@example.org> \r\nRCPT TO: <b@example.com>\r\nRCPT TO:<c@example.com> \r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@example.org"
	assert_equal "$(q 'SELECT address FROM recipients ORDER BY position')" "b@example.com
c@example.com"
	assert_body 1 'x\r\n'
}

@test "MAIL without FROM: and RCPT without TO: are syntax errors, 501 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL\r\nMAIL <a@example.org>\r\nMAIL FROM <a@example.org>\r\nMAIL TO:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nMAIL FROM:<a@example.org>\r\nRCPT\r\nRCPT <b@example.com>\r\nRCPT FROM:<b@example.com>\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "503 5.5.1" \
		"250 2.1.0" "501 5.5.4" "501 5.5.4" "501 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "a sender without angle brackets, or unterminated, is refused with 501 5.1.7" {
	smtp 'EHLO client.example\r\nMAIL FROM:a@example.org\r\nMAIL FROM:a@example.org>\r\nMAIL FROM:<a@example.org\r\nMAIL FROM:<\r\nMAIL FROM:<a@example.org SIZE=10\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "a sender with a bad domain, or a trailing dot, is refused with 501 5.1.7" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@>\r\nMAIL FROM:<a@-example.org>\r\nMAIL FROM:<a@example-.org>\r\nMAIL FROM:<a@exa_mple.org>\r\nMAIL FROM:<a@example..org>\r\nMAIL FROM:<a@.example.org>\r\nMAIL FROM:<a@b@example.org>\r\nMAIL FROM:<a@example.org.>\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "221 2.0.0"
}

@test "a sender with a bad local part, or without a domain, is refused with 501 5.1.7" {
	smtp 'EHLO client.example\r\nMAIL FROM:<.a@example.org>\r\nMAIL FROM:<a.@example.org>\r\nMAIL FROM:<a..b@example.org>\r\nMAIL FROM:<a b@example.org>\r\nMAIL FROM:<a(b)@example.org>\r\nMAIL FROM:<@example.org>\r\nMAIL FROM:<user>\r\nMAIL FROM:<postmaster>\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "221 2.0.0"
}

@test "a path of 256 bytes is accepted, 257 is refused: 501 5.1.7 and 501 5.1.3" {
	# <, 242 + 12 bytes of mailbox, > make 256 (RFC 5321 4.5.3.1.3).
	local from_ok from_bad to_ok to_bad
	from_ok="$(pad 242)@example.org" from_bad="$(pad 243)@example.org"
	to_ok="$(pad 242 b)@example.com" to_bad="$(pad 243 b)@example.com"
	smtp "EHLO client.example\r\nMAIL FROM:<$from_bad>\r\nMAIL FROM:<$from_ok>\r\nRCPT TO:<$to_bad>\r\nRCPT TO:<$to_ok>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n"
	assert_codes 220 250 "501 5.1.7" "250 2.1.0" "501 5.1.3" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "$from_ok"
	assert_equal "$(q 'SELECT position, address FROM recipients')" "0|$to_ok"
	assert_body 1 'x\r\n'
}

# --- the recipient --------------------------------------------------------

@test "bad recipient addresses are refused with 501 5.1.3" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:b@example.com\r\nRCPT TO:<b@example.com\r\nRCPT TO:<>\r\nRCPT TO:<b@-example.com>\r\nRCPT TO:<b@example..com>\r\nRCPT TO:<b@example.com.>\r\nRCPT TO:<b..c@example.com>\r\nRCPT TO:<b@exa mple.com>\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "501 5.1.3" "501 5.1.3" "501 5.1.3" "501 5.1.3" "501 5.1.3" "501 5.1.3" "501 5.1.3" "501 5.1.3" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "a recipient without a domain is refused with 501 5.1.3, with or without --domain" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<user>\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "501 5.1.3" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<user>\r\nDATA\r\nQUIT\r\n' --domain example.com
	assert_codes 220 250 "250 2.1.0" "501 5.1.3" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "several recipients are stored in RCPT order; a refused one leaves the others alone" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<zed@example.com>\r\nRCPT TO:<bad@>\r\nRCPT TO:<amy@example.com>\r\nRCPT TO:<mid@example.net>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "501 5.1.3" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT message_id, position, address FROM recipients ORDER BY position')" "1|0|zed@example.com
1|1|amy@example.com
1|2|mid@example.net"
	assert_body 1 'x\r\n'
}

@test "addresses are stored exactly as sent: case kept, every atext character allowed" {
	smtp_raw $'EHLO client.example\r\nMAIL FROM:<John.Doe@Example.ORG>\r\nRCPT TO:<Jane+Tag@EXAMPLE.com>\r\nRCPT TO:<!#$%&\'*+-/=?^_`{|}~@sub-1.example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "John.Doe@Example.ORG"
	assert_equal "$(q 'SELECT address FROM recipients ORDER BY position')" "Jane+Tag@EXAMPLE.com
!#\$%&'*+-/=?^_\`{|}~@sub-1.example.com"
	assert_body 1 'x\r\n'
}

@test "a recipient domain may be an address literal" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@[192.0.2.1]>\r\nRCPT TO:<b@[192.0.2.1]>\r\nRCPT TO:<c@[IPv6:2001:db8::1]>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "a@[192.0.2.1]"
	assert_equal "$(q 'SELECT address FROM recipients ORDER BY position')" "b@[192.0.2.1]
c@[IPv6:2001:db8::1]"
	assert_body 1 'x\r\n'
}

@test "bad address literals are refused" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@[192.0.2.300]>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@[192.0.2.1>\r\nRCPT TO:<b@[IPv6:2001:db8::zz]>\r\nRCPT TO:<b@[IPv6:192.0.2.1]>\r\nRCPT TO:<b@[]>\r\nRCPT TO:<b@[192.0.2]>\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.1.7" "250 2.1.0" "501 5.1.3" "501 5.1.3" "501 5.1.3" "501 5.1.3" "501 5.1.3" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "an address literal with a tag other than IPv6 is refused" {
	# RFC 5321 4.1.3: a General-address-literal's tag must be registered
	# with IANA, and IPv6 is the only one.  [2001:db8::1] is an IPv6
	# address missing its tag, not a general literal tagged "2001".
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@[2001:db8::1]>\r\nRCPT TO:<b@[x-foo:bar]>\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "501 5.1.3" "501 5.1.3" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

# --- quoted local parts and source routes ---------------------------------

@test "a quoted local part, escapes and all, is stored exactly as sent" {
	smtp_raw $'EHLO client.example\r\nMAIL FROM:<"john doe"@example.org>\r\nRCPT TO:<"jane q. public"@example.com>\r\nRCPT TO:<"a\\"b\\\\c"@example.com>\r\nRCPT TO:<"x>y@z"@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" '"john doe"@example.org'
	assert_equal "$(q 'SELECT address FROM recipients ORDER BY position')" '"jane q. public"@example.com
"a\"b\\c"@example.com
"x>y@z"@example.com'
	assert_body 1 'x\r\n'
}

@test "a bad quoted local part is refused" {
	smtp_raw $'EHLO client.example\r\nMAIL FROM:<"john@example.org>\r\nMAIL FROM:<"a"b@example.org>\r\nMAIL FROM:<"a\\\x01"@example.org>\r\nMAIL FROM:<"a"@example.org>\r\nRCPT TO:<"unterminated@example.com>\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.1.7" "501 5.1.7" "500 5.5.2" "250 2.1.0" "501 5.1.3" "221 2.0.0"
}

@test "a source route is accepted and dropped" {
	smtp 'EHLO client.example\r\nMAIL FROM:<@a.example,@b.example:user@c.example>\r\nRCPT TO:<@relay.example:rcpt@d.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages')" "user@c.example"
	assert_equal "$(q 'SELECT address FROM recipients')" "rcpt@d.example"
	assert_body 1 'x\r\n'
}

@test "a bad source route is refused" {
	smtp 'EHLO client.example\r\nMAIL FROM:<@a.example>\r\nMAIL FROM:<@a.example:>\r\nMAIL FROM:<@:user@c.example>\r\nMAIL FROM:<@a.example;@b.example:user@c.example>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<@-x.example:b@example.com>\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.1.7" "501 5.1.7" "501 5.1.7" "501 5.1.7" "250 2.1.0" "501 5.1.3" "221 2.0.0"
}

# --- MAIL parameters ------------------------------------------------------

@test "SIZE= equal to --max-size is accepted, one more gets 552 5.3.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=1001\r\nRCPT TO:<b@example.com>\r\nMAIL FROM:<a@example.org> SIZE=1000\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' --max-size 1000
	assert_codes 220 250 "552 5.3.4" "503 5.5.1" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_body 1 'x\r\n'
	# The default limit is 26214400.
	DB="$BATS_TEST_TMPDIR/default.db"
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=26214401\r\nRCPT TO:<b@example.com>\r\nDATA\r\nMAIL FROM:<a@example.org> SIZE=26214400\r\nQUIT\r\n'
	assert_codes 220 250 "552 5.3.4" "503 5.5.1" "503 5.5.1" "250 2.1.0" "221 2.0.0"
	assert_nothing_stored
}

@test "a 20-digit SIZE= is valid syntax (RFC 1870) and is over the limit: 552 5.3.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=99999999999999999999\r\nQUIT\r\n'
	assert_codes 220 250 "552 5.3.4" "221 2.0.0"
}

@test "SIZE= that is not a number is refused with 501 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=abc\r\nMAIL FROM:<a@example.org> SIZE=12x\r\nMAIL FROM:<a@example.org> SIZE=-1\r\nMAIL FROM:<a@example.org> SIZE\r\nMAIL FROM:<a@example.org> SIZE=\r\nMAIL FROM:<a@example.org> SIZE=123456789012345678901\r\nMAIL FROM:<a@example.org> SIZE=10 SIZE=10\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "BODY=8BITMIME and BODY=7BIT are accepted, in any case" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> BODY=8BITMIME\r\nRSET\r\nMAIL FROM:<a@example.org> BODY=7BIT\r\nRSET\r\nMAIL FROM:<a@example.org> body=8bitmime\r\nRCPT TO:<b@example.com>\r\nDATA\r\ncaf\xc3\xa9\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.0.0" "250 2.1.0" "250 2.0.0" "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_body 1 'caf\xc3\xa9\r\n'
}

@test "any other BODY= is refused with 501 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> BODY=foo\r\nMAIL FROM:<a@example.org> BODY=BINARYMIME\r\nMAIL FROM:<a@example.org> BODY\r\nMAIL FROM:<a@example.org> BODY=7BIT BODY=7BIT\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.5.4" "501 5.5.4" "501 5.5.4" "501 5.5.4" "503 5.5.1" "221 2.0.0"
}

@test "SIZE= within the limit and BODY= together are accepted" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> SIZE=3 BODY=8BITMIME\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_body 1 'x\r\n'
}

@test "an unknown MAIL or RCPT parameter gets 555 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> FOO=bar\r\nMAIL FROM:<a@example.org> XYZZY\r\nMAIL FROM:<a@example.org> SIZE=10 X-OPT=1\r\nRCPT TO:<b@example.com>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com> FOO=bar\r\nRCPT TO:<c@example.com> XYZZY\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "555 5.5.4" "555 5.5.4" "555 5.5.4" "503 5.5.1" "250 2.1.0" "555 5.5.4" "555 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "non-ASCII addresses and host names need valid UTF-8 and SMTPUTF8" {
	# RFC 6531 3.4 and 3.7.1: without SMTPUTF8 on MAIL, 553 5.6.7.
	smtp 'EHLO caf\xe9.example\r\nEHLO caf\xc3\xa9.example\r\nMAIL FROM:<a@example.org>\r\nEHLO client.example\r\nMAIL FROM:<j\xf6rg@example.org>\r\nMAIL FROM:<j\xc3\xb6rg@example.org>\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<j\xc3\xb6rg@example.com>\r\nRCPT TO:<b@ex\xc3\xa4mple.com>\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 "501 5.5.4" 250 "553 5.6.7" 250 "501 5.1.7" "553 5.6.7" "250 2.1.0" "553 5.6.7" "553 5.6.7" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "AUTH is not offered: MAIL with AUTH= gets 555 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org> AUTH=<>\r\nRCPT TO:<b@example.com>\r\nQUIT\r\n'
	assert_codes 220 250 "555 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

@test "garbage after the path is a bad parameter, 501 5.5.4" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>SIZE=10\r\nMAIL FROM:<a@example.org> =10\r\nMAIL FROM:<a@example.org> SIZE=1=2\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>NOTIFY=NEVER\r\nDATA\r\nQUIT\r\n'
	assert_codes 220 250 "501 5.5.4" "501 5.5.4" "501 5.5.4" "250 2.1.0" "501 5.5.4" "503 5.5.1" "221 2.0.0"
	assert_nothing_stored
}

# --- the domains mail is accepted for --------------------------------------

@test "with --domain, recipients in other domains (subdomains too) get 550 5.7.1 and are not stored" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@other.example>\r\nRCPT TO:<c@example.com>\r\nRCPT TO:<d@example.com.evil.example>\r\nRCPT TO:<e@sub.example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' --domain example.com
	assert_codes 220 250 "250 2.1.0" "550 5.7.1" "250 2.1.5" "550 5.7.1" "550 5.7.1" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT position, address FROM recipients')" "0|c@example.com"
	assert_body 1 'x\r\n'
}

@test "with --domain, a message only for other domains is never taken" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@other.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' --domain example.com
	assert_codes 220 250 "250 2.1.0" "550 5.7.1" "503 5.5.1" "500 5.5.2" "500 5.5.2" "221 2.0.0"
	assert_nothing_stored
}

@test "--domain may be given several times, and is matched without regard to case" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@ONE.example>\r\nRCPT TO:<c@two.example>\r\nRCPT TO:<d@three.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' --domain one.example --domain Two.EXAMPLE
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "550 5.7.1" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT position, address FROM recipients ORDER BY position')" "0|b@ONE.example
1|c@two.example"
	assert_body 1 'x\r\n'
}

@test "without --domain every domain is accepted; with it, the sender's is not checked" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@one.example>\r\nRCPT TO:<c@two.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 2
	smtp 'EHLO client.example\r\nMAIL FROM:<a@elsewhere.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' --domain example.com
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT mail_from FROM messages WHERE id = 2')" "a@elsewhere.example"
	assert_body 1 'x\r\n'
	assert_body 2 'x\r\n'
}

@test "<postmaster> without a domain is always accepted, in any case, with --domain too" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<postmaster>\r\nRCPT TO:<PostMaster>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT address FROM recipients ORDER BY position')" "postmaster
PostMaster"
	assert_body 1 'x\r\n'
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<Postmaster>\r\nDATA\r\ny\r\n.\r\nQUIT\r\n' --domain example.com
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT address FROM recipients WHERE message_id = 2')" "Postmaster"
	assert_body 2 'y\r\n'
}

@test "postmaster@ an accepted domain is accepted, postmaster@ another is not" {
	smtp 'EHLO client.example\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster@example.com>\r\nRCPT TO:<postmaster@other.example>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' --domain example.com
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "550 5.7.1" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT address FROM recipients')" "postmaster@example.com"
	assert_body 1 'x\r\n'
}

@test "with --domain, an address literal recipient gets 550 5.7.1" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@[192.0.2.1]>\r\nQUIT\r\n' --domain example.com
	assert_codes 220 250 "250 2.1.0" "550 5.7.1" "221 2.0.0"
	assert_nothing_stored
}

# --- the recipient limit --------------------------------------------------

@test "--max-recipients 3: the fourth gets 452 4.5.3 and the message goes to three" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<r1@example.com>\r\nRCPT TO:<r2@example.com>\r\nRCPT TO:<r3@example.com>\r\nRCPT TO:<r4@example.com>\r\nRCPT TO:<r5@example.com>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n' --max-recipients 3
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" "250 2.1.5" "452 4.5.3" "452 4.5.3" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT message_id, position, address FROM recipients ORDER BY position')" "1|0|r1@example.com
1|1|r2@example.com
1|2|r3@example.com"
	assert_body 1 'x\r\n'
}

@test "the recipient limit is per message: the next transaction starts from zero" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<r1@example.com>\r\nRCPT TO:<r2@example.com>\r\nDATA\r\nx\r\n.\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<r3@example.com>\r\nRCPT TO:<r4@example.com>\r\nDATA\r\ny\r\n.\r\nQUIT\r\n' --max-recipients 2
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT message_id, position, address FROM recipients ORDER BY 1, 2')" "1|0|r1@example.com
1|1|r2@example.com
2|0|r3@example.com
2|1|r4@example.com"
	assert_body 1 'x\r\n'
	assert_body 2 'y\r\n'
}

@test "the default recipient limit is 100" {
	local input='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n' i want=(220 250 "250 2.1.0")
	for i in $(seq 1 101); do
		input+="RCPT TO:<r$i@example.com>\r\n"
		want+=("250 2.1.5")
	done
	want[-1]="452 4.5.3"
	smtp "${input}DATA\r\nx\r\n.\r\nQUIT\r\n"
	assert_codes "${want[@]}" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT count(*), min(position), max(position) FROM recipients')" "100|0|99"
	assert_equal "$(q 'SELECT address FROM recipients WHERE position = 99')" "r100@example.com"
	assert_body 1 'x\r\n'
}

@test "recipients over the limit do not count as errors: the message is still taken" {
	# RFC 5321 4.5.3.1.10: the client sends DATA for the recipients
	# accepted and tries the others later.  Ending the session over them
	# would keep such a message from ever being delivered.
	local input='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n' i want=(220 250 "250 2.1.0")
	for i in $(seq 1 30); do
		input+="RCPT TO:<r$i@example.com>\r\n"
		((i <= 2)) && want+=("250 2.1.5") || want+=("452 4.5.3")
	done
	smtp "${input}DATA\r\nx\r\n.\r\nQUIT\r\n" --max-recipients 2
	assert_equal "$status" 0
	assert_codes "${want[@]}" 354 "250 2.0.0" "221 2.0.0"
	assert_equal "$(q 'SELECT position, address FROM recipients ORDER BY position')" "0|r1@example.com
1|r2@example.com"
	assert_body 1 'x\r\n'
}
