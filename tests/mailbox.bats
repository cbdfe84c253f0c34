#!/usr/bin/env bats
# The mailbox tool: every command's exact output and exit status, checked
# against the database with sqlite3; messages are stored by the real
# smtpd from scripted sessions.  Passwords: yescrypt hashes that Python's
# crypt verifies, and no password or hash ever printed.

bats_require_minimum_version 1.5.0
load helpers

MAILBOX="${MAILBOX:-$REPO/mailbox}" # a sanitizer or valgrind build can stand in

setup() {
	common_setup
	"$SMTPD" --init-db --db "$DB"
	NOBODY_DIR=""
}
teardown() {
	[[ -n $NOBODY_DIR ]] && rm -rf "$NOBODY_DIR"
	common_teardown
}

# mb ARG... - run the tool on the test's database; stdout in $output,
# stderr in $stderr, the status in $status.  A sanitizer's or valgrind's
# report on stderr fails the test.
mb() {
	run --separate-stderr "$MAILBOX" --db "$DB" "$@"
	if grep -qE '^==[0-9]+== |ERROR: [A-Za-z]+Sanitizer|runtime error:' <<<"$stderr"; then
		echo "memory error reported:"
		echo "$stderr"
		return 1
	fi
}

# mb_in INPUT ARG... - the same with INPUT (printf %b) on stdin.
mb_in() {
	local input=$1
	shift
	printf '%b' "$input" >"$BATS_TEST_TMPDIR/stdin"
	run --separate-stderr "$MAILBOX" --db "$DB" "$@" <"$BATS_TEST_TMPDIR/stdin"
	if grep -qE '^==[0-9]+== |ERROR: [A-Za-z]+Sanitizer|runtime error:' <<<"$stderr"; then
		echo "memory error reported:"
		echo "$stderr"
		return 1
	fi
}

# expect STATUS STDOUT STDERR - the last run, exactly.
expect() {
	assert_equal "$status" "$1"
	assert_equal "$output" "$2"
	assert_equal "$stderr" "$3"
}

# verifies PASSWORD HASH - crypt(3) of PASSWORD with HASH as the setting
# gives back HASH (Python's crypt module, on libxcrypt).
verifies() {
	python3 -W ignore -c 'import crypt, sys; sys.exit(crypt.crypt(sys.argv[1], sys.argv[2]) != sys.argv[2])' "$1" "$2"
}

# hash_of NAME - the account's password column.
hash_of() {
	q "SELECT password FROM accounts WHERE name = '$1'"
}

# deliver FROM TO... - one message from a scripted session with the real
# smtpd; its Subject is "msg N" for the Nth delivery of the test.
NMSG=0
deliver() {
	local from=$1 rcpt="" to
	shift
	NMSG=$((NMSG + 1))
	for to in "$@"; do rcpt+="RCPT TO:<$to>\r\n"; done
	smtp "EHLO client.example\r\nMAIL FROM:<$from>\r\n${rcpt}DATA\r\nSubject: msg $NMSG\r\n\r\nbody $NMSG\r\n.\r\nQUIT\r\n"
	assert_equal "$status" 0
}

# accounts - alice (alice@example.com, Al@Example.com) and bob
# (bob@example.com), with passwords.
accounts() {
	mb_in 'pw-alice\n' user add alice --address alice@example.com --address Al@Example.com --password-stdin
	expect 0 "" ""
	mb_in 'pw-bob\n' user add bob --address bob@example.com --password-stdin
	expect 0 "" ""
}

# try_usage WANT_STDERR_LINE ARG... - the tool refuses the command line
# with status 2, that first line on stderr and the hint, touching nothing.
try_usage() {
	local want=$1
	shift
	local before
	before=$(q .dump | md5sum)
	mb "$@" </dev/null
	assert_equal "$status" 2
	assert_equal "$output" ""
	assert_equal "$stderr" "mailbox: $want"$'\n'"Try 'mailbox --help'."
	assert_equal "$(q .dump | md5sum)" "$before"
}

@test "user add --password-stdin: silent, a yescrypt hash that verifies, the addresses" {
	mb_in 'correct horse\n' user add alice --address alice@example.com --address Al@Example.com --password-stdin
	expect 0 "" ""
	assert_equal "$(q 'SELECT id, name, disabled FROM accounts')" "1|alice|0"
	[[ $(q 'SELECT created_at FROM accounts') =~ ^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z$ ]]
	assert_equal "$(q 'SELECT address, account_id FROM addresses ORDER BY address')" \
		"Al@Example.com|1"$'\n'"alice@example.com|1"
	local h
	h=$(hash_of alice)
	[[ $h == '$y$j9T$'* ]]
	verifies 'correct horse' "$h"
	! verifies 'correct horsE' "$h"
}

@test "--password-stdin takes the first line only, without CR LF, and refuses an empty or long one" {
	mb_in 'pw one\r\nsecond line\n' user add alice --password-stdin
	expect 0 "" ""
	verifies 'pw one' "$(hash_of alice)"
	mb_in '\n' user add bob --password-stdin
	expect 1 "" "mailbox: password: empty password"
	mb_in "$(pad 512)\n" user add bob --password-stdin
	expect 1 "" "mailbox: password: the password is too long"
	assert_equal "$(q 'SELECT count(*) FROM accounts')" 1
}

@test "user add --generate prints the password once, 24 characters, and it verifies" {
	mb user add bob --address bob@example.com --generate
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 1
	[[ $output =~ ^[A-Za-z0-9_-]{24}$ ]]
	verifies "$output" "$(hash_of bob)"
	[[ $(hash_of bob) == '$y$'* ]]
	# Two runs never make the same password.
	local first=$output
	mb user passwd bob --generate
	assert_equal "$status" 0
	[[ $output != "$first" ]]
	verifies "$output" "$(hash_of bob)"
}

@test "user add --hash keeps a pasted \$6\$ or \$y\$ hash as it is; a malformed one is refused" {
	local h6 hy
	h6=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("from-shadow", crypt.mksalt(crypt.METHOD_SHA512)))')
	hy=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("from-mkpasswd", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1"))')
	mb user add carol --hash "$h6"
	expect 0 "" ""
	assert_equal "$(hash_of carol)" "$h6"
	mb user passwd carol --hash "$hy"
	expect 0 "" ""
	assert_equal "$(hash_of carol)" "$hy"
	verifies from-mkpasswd "$(hash_of carol)"
	mb_in "$h6\n" user add erin --hash -
	expect 0 "" ""
	assert_equal "$(hash_of erin)" "$h6"
	mb_in '\n' user add fred --hash -
	expect 2 "" "mailbox: --hash -: empty password"$'\n'"Try 'mailbox --help'."
	mb_in 'x\n' user add fred --hash -
	expect 2 "" "mailbox: --hash: not a crypt(3) hash this system can verify"$'\n'"Try 'mailbox --help'."
	try_usage "--hash: not a crypt(3) hash this system can verify" user add dave --hash 'plaintext'
	try_usage "--hash: not a crypt(3) hash this system can verify" user add dave --hash '$6$salt$short'
	try_usage "--hash: not a crypt(3) hash this system can verify" user add dave --hash '$y$'
}

@test "a password is never printed: not on stdout, stderr, nor in any listing" {
	accounts
	local h all
	h=$(hash_of alice)
	mb user list
	all=$output$stderr
	mb list
	all+=$output$stderr
	mb check
	all+=$output$stderr
	mb_in 'pw-alice2\n' user passwd alice --password-stdin
	all+=$output$stderr
	mb_in 'pw-x\n' user add alice --password-stdin
	all+=$output$stderr
	[[ $all != *pw-alice* && $all != *pw-x* && $all != *'$y$'* && $all != *"${h:20}"* ]]
	# and never stored in the clear
	[[ $(q .dump) != *pw-alice* ]]
}

@test "a prompt on a terminal, twice, without echo; a mismatch stores nothing" {
	python3 - "$MAILBOX" "$DB" <<'PY'
import os, pty, select, signal, sys, crypt, sqlite3, warnings
warnings.simplefilter("ignore")
def read(fd):
    # The tool answers at once; a stuck one must not hang the suite.
    if not select.select([fd], [], [], 30)[0]:
        raise TimeoutError("the tool said nothing for 30 s")
    try:
        return os.read(fd, 100)
    except OSError:
        return b""
def run(answers):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.argv[1], [sys.argv[1], "--db", sys.argv[2], "user", "add", "tina"])
    seen = b""
    try:
        for a in answers:
            while not seen.endswith((b"New password: ", b"Again: ")):
                chunk = read(fd)
                assert chunk, seen
                seen += chunk
            os.write(fd, a + b"\n")
            seen += b"|"
        while chunk := read(fd):
            seen += chunk
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st), seen
code, seen = run([b"no-echo-1", b"no-echo-2"])
assert code == 1, code
assert b"no-echo" not in seen, seen
assert b"the passwords differ" in seen, seen
code, seen = run([b"tty-secret", b"tty-secret"])
assert code == 0, (code, seen)
assert b"tty-secret" not in seen, seen
h = sqlite3.connect(sys.argv[2]).execute("SELECT password FROM accounts WHERE name = 'tina'").fetchone()[0]
assert h.startswith("$y$") and crypt.crypt("tty-secret", h) == h
PY
	assert_equal "$(q 'SELECT count(*) FROM accounts')" 1
}

@test "without a password option and no terminal, user add refuses with status 2" {
	try_usage "user add: no terminal to ask for the password on: give --password-stdin, --generate or --hash" \
		user add alice
	try_usage "user passwd: no terminal to ask for the password on: give --password-stdin, --generate or --hash" \
		user passwd alice
}

@test "user add refuses an existing name, and an address someone has, storing nothing" {
	accounts
	local before
	before=$(q 'SELECT * FROM accounts; SELECT * FROM addresses')
	mb_in 'x\n' user add alice --password-stdin
	expect 1 "" "mailbox: user add: account alice exists"
	mb_in 'x\n' user add carol --address carol@example.com --address AL@EXAMPLE.COM --password-stdin
	expect 1 "" "mailbox: user add: address AL@EXAMPLE.COM already belongs to account alice"
	assert_equal "$(q 'SELECT * FROM accounts; SELECT * FROM addresses')" "$before"
}

@test "user passwd replaces the hash; an unknown account is an error" {
	accounts
	local old
	old=$(hash_of alice)
	mb_in 'new-pw\n' user passwd alice --password-stdin
	expect 0 "" ""
	[[ $(hash_of alice) != "$old" ]]
	verifies new-pw "$(hash_of alice)"
	verifies pw-bob "$(hash_of bob)"
	mb_in 'x\n' user passwd nobody --password-stdin
	expect 1 "" "mailbox: user passwd: no account nobody"
}

@test "user list: name, login, addresses, by name" {
	mb user list
	expect 0 "" ""
	accounts
	mb user add zed --generate
	mb user add carol --generate
	q "UPDATE accounts SET password = NULL WHERE name = 'carol'; UPDATE accounts SET disabled = 1 WHERE name = 'zed'"
	mb user list
	expect 0 $'alice\tpassword\tAl@Example.com alice@example.com\nbob\tpassword\tbob@example.com\ncarol\tno password\t\nzed\tdisabled\t' ""
}

@test "user del removes the account, its addresses and mailbox state, and keeps the mail" {
	accounts
	deliver x@example.org alice@example.com bob@example.com
	q "INSERT INTO mailbox_state (account_id, message_id, flags, deleted_at) VALUES (1, 1, 1, NULL), (2, 1, 1, '2026-11-30T00:00:00Z')"
	mb user del alice
	expect 0 "" ""
	assert_equal "$(q 'SELECT name FROM accounts')" bob
	assert_equal "$(q 'SELECT address FROM addresses')" bob@example.com
	assert_equal "$(q 'SELECT account_id, message_id FROM mailbox_state')" "2|1"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 2
	mb user del alice
	expect 1 "" "mailbox: user del: no account alice"
}

@test "address add and del, the case of an address aside" {
	accounts
	mb address add alice@example.org alice
	expect 0 "" ""
	assert_equal "$(q "SELECT account_id FROM addresses WHERE address = 'alice@example.org'")" 1
	mb address add ALICE@example.org bob
	expect 1 "" "mailbox: address add: address ALICE@example.org already belongs to account alice"
	mb address add someone@example.org nobody
	expect 1 "" "mailbox: address add: no account nobody"
	mb address del Alice@Example.ORG
	expect 0 "" ""
	assert_equal "$(q "SELECT count(*) FROM addresses WHERE account_id = 1")" 2
	mb address del alice@example.org
	expect 1 "" "mailbox: address del: no address alice@example.org"
	mb address add '@example.net' bob
	expect 0 "" ""
	mb user list
	expect 0 $'alice\tpassword\tAl@Example.com alice@example.com\nbob\tpassword\t@example.net bob@example.com' ""
}

@test "list: id, date, sender, subject, size; --user shows that mailbox minus what it deleted" {
	accounts
	deliver x@example.org alice@example.com bob@example.com
	deliver '' AL@example.COM
	deliver y@example.org carol@example.com
	local want="" id
	for id in 1 2 3; do
		want+=$(q "SELECT id, received_at, '<' || mail_from || '>', 'msg ' || id, size FROM messages WHERE id = $id" | tr '|' '\t')$'\n'
	done
	mb list
	expect 0 "${want%$'\n'}" ""
	mb list --user alice
	expect 0 "$(sed -n 1,2p <<<"$want")" ""
	mb list --user bob
	expect 0 "$(sed -n 1p <<<"$want")" ""
	q "INSERT INTO mailbox_state (account_id, message_id, flags, deleted_at) VALUES (1, 1, 1, '2026-11-30T00:00:00Z')"
	mb list --user alice
	expect 0 "$(sed -n 2p <<<"$want")" ""
	mb list --user bob
	expect 0 "$(sed -n 1p <<<"$want")" ""
	mb list --user nobody
	expect 1 "" "mailbox: list: no account nobody"
}

@test "list takes a folded Subject unfolded, control characters as '?', and none as empty" {
	smtp 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nX-A: 1\r\nsubject: one\r\n two\tthree\x01\r\nSubject: second\r\n\r\nSubject: in the body\r\n.\r\nQUIT\r\n'
	smtp 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nX-A: 1\r\n\r\nSubject: in the body\r\n.\r\nQUIT\r\n'
	mb list
	assert_equal "$status" 0
	assert_equal "${#lines[@]}" 2
	assert_equal "$(cut -f4 <<<"${lines[0]}")" "one two three?"
	assert_equal "$(cut -f4 <<<"${lines[1]}")" ""
}

@test "show writes the stored body byte for byte, NUL bytes and a missing last CR LF too" {
	deliver a@example.org b@example.com
	# BDAT keeps the bytes exactly: a NUL, a line ".", no CR LF at the end.
	smtp 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nBDAT 14 LAST\r\nA\0B\r\nC\r\n.\r\nxy\xffQUIT\r\n'
	assert_equal "$(q 'SELECT count(*) FROM messages')" 2
	local id
	for id in 1 2; do
		body_to "$id" "$BATS_TEST_TMPDIR/want.$id"
		"$MAILBOX" --db "$DB" show "$id" >"$BATS_TEST_TMPDIR/got.$id"
		cmp "$BATS_TEST_TMPDIR/want.$id" "$BATS_TEST_TMPDIR/got.$id"
	done
	assert_equal "$(tail -c 8 "$BATS_TEST_TMPDIR/got.2" | od -An -c | tr -s ' ')" ' \r \n . \r \n x y 377'
	assert_equal "$(head -c 1000 "$BATS_TEST_TMPDIR/got.2" | tr -cd '\0' | wc -c)" 1
	mb show 3
	expect 1 "" "mailbox: show: no message 3"
	try_usage "show: 'x1' is not a number from 1 to 9223372036854775807" show x1
	try_usage "show: '0' is not a number from 1 to 9223372036854775807" show 0
}

@test "a 20 MiB message: show streams it exactly; list reads only its head (memory stays small)" {
	python3 -c '
import sys
line = b"x" * 98 + b"\r\n"
sys.stdout.buffer.write(b"EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
    b"Subject: big\r\n\r\n" + line * (20 * 1024 * 1024 // 100) + b".\r\nQUIT\r\n")' >"$BATS_TEST_TMPDIR/big"
	smtp_file "$BATS_TEST_TMPDIR/big"
	assert_equal "$status" 0
	body_to 1 "$BATS_TEST_TMPDIR/want"
	"$MAILBOX" --db "$DB" show 1 >"$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	[[ -n ${SANITIZED:-} ]] && return 0 # RSS is the plain build's figure
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/rss" "$MAILBOX" --db "$DB" list >"$BATS_TEST_TMPDIR/list"
	assert_equal "$(cut -f4,5 "$BATS_TEST_TMPDIR/list")" "big	$(q 'SELECT size FROM messages')"
	local rss
	rss=$(cat "$BATS_TEST_TMPDIR/rss")
	((rss < 8192)) || {
		echo "list of one 20 MiB message peaked at $rss KiB"
		return 1
	}
}

# mboxrd - what the export must write for the messages SQL selects (id,
# received_at, mail_from, body), built independently in Python.
mboxrd() {
	python3 - "$DB" "$1" <<'PY'
import calendar, re, sqlite3, sys, time
out = bytearray()
for at, frm, body in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]):
    t = time.gmtime(calendar.timegm(time.strptime(at, "%Y-%m-%dT%H:%M:%SZ")))
    out += b"From " + (frm or "MAILER-DAEMON").encode() + b" " + time.strftime("%a %b %e %H:%M:%S %Y", t).encode() + b"\n"
    text = re.sub(rb"(?m)^(>*From )", rb">\1", body.replace(b"\r\n", b"\n"))
    out += text + (b"" if text.endswith(b"\n") else b"\n") + b"\n"
sys.stdout.buffer.write(out)
PY
}

@test "export --mbox: mboxrd, every '>*From ' line quoted once more, LF line ends" {
	accounts
	smtp 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.com>\r\nDATA\r\nSubject: froms\r\n\r\nFrom the start\r\n>From once\r\n>>From twice\r\nFrom\r\n From indented\r\nFromage\r\n.\r\nQUIT\r\n'
	smtp 'EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.com>\r\nBDAT 14 LAST\r\nFrom x\r\nno end'
	mb export --mbox "$BATS_TEST_TMPDIR/all.mbox"
	expect 0 "exported 2 messages to $BATS_TEST_TMPDIR/all.mbox" ""
	assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/all.mbox")" 600
	mboxrd 'SELECT received_at, mail_from, body FROM messages ORDER BY id' >"$BATS_TEST_TMPDIR/want.mbox"
	cmp "$BATS_TEST_TMPDIR/want.mbox" "$BATS_TEST_TMPDIR/all.mbox"
	grep -qx '>From the start' "$BATS_TEST_TMPDIR/all.mbox"
	grep -qx '>>From once' "$BATS_TEST_TMPDIR/all.mbox"
	grep -qx '>>>From twice' "$BATS_TEST_TMPDIR/all.mbox"
	grep -qx 'From' "$BATS_TEST_TMPDIR/all.mbox"
	grep -qx ' From indented' "$BATS_TEST_TMPDIR/all.mbox"
	grep -qx 'Fromage' "$BATS_TEST_TMPDIR/all.mbox"
	grep -q '^From MAILER-DAEMON ' "$BATS_TEST_TMPDIR/all.mbox"
	# Only bob's mailbox
	mb export --user bob --mbox "$BATS_TEST_TMPDIR/bob.mbox"
	expect 0 "exported 1 message to $BATS_TEST_TMPDIR/bob.mbox" ""
	mboxrd 'SELECT received_at, mail_from, body FROM messages WHERE id = 2' >"$BATS_TEST_TMPDIR/want-bob.mbox"
	cmp "$BATS_TEST_TMPDIR/want-bob.mbox" "$BATS_TEST_TMPDIR/bob.mbox"
}

@test "export --mbox never overwrites a file, and leaves none behind on failure" {
	deliver a@example.org b@example.com
	echo keep >"$BATS_TEST_TMPDIR/old.mbox"
	mb export --mbox "$BATS_TEST_TMPDIR/old.mbox"
	expect 1 "" "mailbox: $BATS_TEST_TMPDIR/old.mbox: File exists"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/old.mbox")" keep
	mb export --user nobody --mbox "$BATS_TEST_TMPDIR/new.mbox"
	expect 1 "" "mailbox: export: no account nobody"
	[[ ! -e $BATS_TEST_TMPDIR/new.mbox ]]
	mb export --mbox "$BATS_TEST_TMPDIR/no/such/dir.mbox"
	expect 1 "" "mailbox: $BATS_TEST_TMPDIR/no/such/dir.mbox: No such file or directory"
}

@test "export --maildir: one file in new/ per message, byte for byte the stored body" {
	accounts
	deliver a@example.org alice@example.com
	deliver b@example.org bob@example.com
	smtp 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.com>\r\nBDAT 6 LAST\r\nA\0B\r\nC'
	local md="$BATS_TEST_TMPDIR/Maildir" f id n=0
	mb export --maildir "$md"
	expect 0 "exported 3 messages to $md" ""
	[[ -d $md/tmp && -d $md/cur && -z $(ls -A "$md/tmp") && -z $(ls -A "$md/cur") ]]
	assert_equal "$(stat -c %a "$md" "$md/new" "$md"/new/* | sort -u | tr '\n' ' ')" "600 700 "
	assert_equal "$(ls "$md/new" | wc -l)" 3
	for f in "$md"/new/*; do
		[[ $f =~ \.M([0-9]+)\.[^/]+$ ]]
		id=${BASH_REMATCH[1]}
		body_to "$id" "$BATS_TEST_TMPDIR/want.$id"
		cmp "$BATS_TEST_TMPDIR/want.$id" "$f"
		n=$((n + 1))
	done
	assert_equal "$n" 3
	# alice's mailbox only, into a second maildir
	mb export --user alice --maildir "$BATS_TEST_TMPDIR/alice"
	expect 0 "exported 2 messages to $BATS_TEST_TMPDIR/alice" ""
	assert_equal "$(ls "$BATS_TEST_TMPDIR/alice/new" | sed 's/.*\.M\([0-9]*\)\..*/\1/' | sort -n | tr '\n' ' ')" "1 3 "
}

# purge_setup - alice and bob; message 1 to both, 2 to alice, 3 to no
# account, 4 to bob, 5 to alice twice (two of her addresses).  alice
# deleted 1, 2 and 5; bob deleted nothing.
purge_setup() {
	accounts
	deliver x@example.org alice@example.com bob@example.com
	deliver x@example.org alice@example.com
	deliver x@example.org carol@example.com
	deliver x@example.org bob@example.com
	deliver x@example.org alice@example.com al@example.com
	q "INSERT INTO mailbox_state (account_id, message_id, flags, deleted_at) VALUES
		(1, 1, 1, '2026-11-30T00:00:00Z'), (1, 2, 1, '2026-11-30T00:00:00Z'),
		(1, 5, 0, '2026-11-30T00:00:00Z'), (2, 4, 1, NULL)"
}

# size N - message N's size.
size() { q "SELECT size FROM messages WHERE id = $1"; }

@test "purge --dry-run lists what every mailbox deleted and removes nothing" {
	purge_setup
	local before
	before=$(q .dump | md5sum)
	mb purge --dry-run
	expect 0 "would purge 2 ($(size 2) bytes): deleted from every mailbox
would purge 5 ($(size 5) bytes): deleted from every mailbox
would purge 2 messages, $(($(size 2) + $(size 5))) bytes" ""
	assert_equal "$(q .dump | md5sum)" "$before"
}

@test "purge removes a message once no mailbox holds it, with its rows" {
	purge_setup
	local s2 s5
	s2=$(size 2)
	s5=$(size 5)
	mb purge
	expect 0 "purged 2 ($s2 bytes): deleted from every mailbox
purged 5 ($s5 bytes): deleted from every mailbox
purged 2 messages, $((s2 + s5)) bytes" ""
	assert_equal "$(q 'SELECT id FROM messages ORDER BY id' | tr '\n' ' ')" "1 3 4 "
	assert_equal "$(q 'SELECT DISTINCT message_id FROM recipients ORDER BY 1' | tr '\n' ' ')" "1 3 4 "
	assert_equal "$(q 'SELECT account_id, message_id FROM mailbox_state ORDER BY 1, 2' | tr '\n' ' ')" "1|1 2|4 "
	# Once bob deletes message 1 too, it goes.
	q "INSERT INTO mailbox_state (account_id, message_id, deleted_at) VALUES (2, 1, '2026-11-30T01:00:00Z')"
	local s1
	s1=$(size 1)
	mb purge
	expect 0 "purged 1 ($s1 bytes): deleted from every mailbox
purged 1 message, $s1 bytes" ""
	assert_equal "$(q 'SELECT id FROM messages ORDER BY id' | tr '\n' ' ')" "3 4 "
	mb purge
	expect 0 "purged 0 messages, 0 bytes" ""
	mb check
	assert_equal "$status" 0
}

@test "purge --older-than DAYS removes old mail, whoever holds it, and mail for no account" {
	purge_setup
	q "UPDATE messages SET received_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-31 days') WHERE id IN (3, 4)"
	q "UPDATE messages SET received_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-29 days') WHERE id = 1"
	local s2 s3 s4 s5
	s2=$(size 2) s3=$(size 3) s4=$(size 4) s5=$(size 5)
	mb purge --older-than 30 --dry-run
	expect 0 "would purge 2 ($s2 bytes): deleted from every mailbox
would purge 3 ($s3 bytes): older than 30 days
would purge 4 ($s4 bytes): older than 30 days
would purge 5 ($s5 bytes): deleted from every mailbox
would purge 4 messages, $((s2 + s3 + s4 + s5)) bytes" ""
	assert_equal "$(q 'SELECT count(*) FROM messages')" 5
	mb purge --older-than 30
	assert_equal "$status" 0
	assert_equal "${lines[4]}" "purged 4 messages, $((s2 + s3 + s4 + s5)) bytes"
	assert_equal "$(q 'SELECT id FROM messages')" 1
	assert_equal "$(q 'SELECT count(*) FROM recipients WHERE message_id != 1')" 0
	# Without --older-than, mail for no account stays however old.
	deliver x@example.org nobody@example.com
	q "UPDATE messages SET received_at = '2001-01-01T00:00:00Z' WHERE id = 6"
	mb purge
	expect 0 "purged 0 messages, 0 bytes" ""
	try_usage "--older-than: 'x' is not a number from 0 to 100000" purge --older-than x
	try_usage "--older-than: '-1' is not a number from 0 to 100000" purge --older-than -1
}

# pop3d INPUT - a scripted pop3d session (the real server) on the test's
# database; the replies, CR removed, in $output.
POP3D="${POP3D:-$REPO/pop3d}"
pop3d() {
	printf '%b' "$1" >"$BATS_TEST_TMPDIR/pop3.in"
	run --separate-stderr "$POP3D" --db "$DB" --hostname pop.test --log stderr --fail-delay 0 \
		<"$BATS_TEST_TMPDIR/pop3.in"
	output=${output//$'\r'/}
	mapfile -t lines <<<"$output"
	if grep -qE '^==[0-9]+== |ERROR: [A-Za-z]+Sanitizer|runtime error:' <<<"$stderr"; then
		echo "memory error reported by pop3d:"
		echo "$stderr"
		return 1
	fi
}

@test "end to end: accounts made by the tool log in to pop3d; what both DELE'd is purged" {
	[[ -x $POP3D ]] || skip "no pop3d in this tree"
	local pw s1 s2
	mb user add alice --address alice@example.com --generate
	pw=$output
	mb_in 'bob-secret\n' user add bob --address BOB@example.com --password-stdin
	deliver x@example.org alice@example.com bob@example.com
	deliver x@example.org alice@example.com
	s1=$(size 1) s2=$(size 2)
	pop3d "USER alice\r\nPASS $pw\r\nSTAT\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n"
	assert_equal "$status" 0
	echo "$output"
	[[ ${lines[2]} == "+OK"* && ${lines[3]} == "+OK 2 $((s1 + s2))" ]]
	[[ ${lines[6]} == "+OK"* ]]
	pop3d "USER alice\r\nPASS wrong\r\nQUIT\r\n"
	[[ ${lines[2]} == "-ERR [AUTH]"* ]]
	mb list --user alice
	expect 0 "" ""
	mb purge
	expect 0 "purged 2 ($s2 bytes): deleted from every mailbox
purged 1 message, $s2 bytes" ""
	# bob still has message 1; once he deletes it too, it goes.
	pop3d "USER bob\r\nPASS bob-secret\r\nSTAT\r\nDELE 1\r\nQUIT\r\n"
	[[ ${lines[3]} == "+OK 1 $s1" && ${lines[5]} == "+OK"* ]]
	mb purge
	expect 0 "purged 1 ($s1 bytes): deleted from every mailbox
purged 1 message, $s1 bytes" ""
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
	# A password changed by the tool is the one pop3d takes.
	mb_in 'new-secret\n' user passwd bob --password-stdin
	pop3d "USER bob\r\nPASS new-secret\r\nQUIT\r\n"
	[[ ${lines[2]} == "+OK"* ]]
	pop3d "USER bob\r\nPASS bob-secret\r\nQUIT\r\n"
	[[ ${lines[2]} == "-ERR [AUTH]"* ]]
}

@test "check: integrity and orphans; orphans and a wrong size make it fail" {
	accounts
	deliver x@example.org alice@example.com
	deliver x@example.org nobody@example.com
	mb user add empty --generate
	mb check
	expect 0 "integrity: ok
orphaned recipients: 0
orphaned addresses: 0
orphaned mailbox states: 0
sizes that differ from the body: 0
messages in no mailbox: 1
accounts without an address: 1" ""
	# sqlite3 does not enforce foreign keys unless asked: orphans.
	q "INSERT INTO recipients (message_id, position, address) VALUES (99, 0, 'x@y');
	   INSERT INTO addresses (address, account_id) VALUES ('lost@example.com', 77);
	   INSERT INTO mailbox_state (account_id, message_id) VALUES (1, 98);
	   UPDATE messages SET size = size + 1 WHERE id = 1"
	mb check
	expect 1 "integrity: ok
orphaned recipients: 1
orphaned addresses: 1
orphaned mailbox states: 1
sizes that differ from the body: 1
messages in no mailbox: 1
accounts without an address: 1" "mailbox: check: 4 problems"
}

@test "a database newer than the tool is refused with status 2 and left alone" {
	accounts
	q 'PRAGMA user_version = 4'
	local before cmd
	before=$(q .dump | md5sum)
	for cmd in "user list" "list" "check" "purge" "show 1"; do
		# shellcheck disable=SC2086
		mb $cmd
		expect 2 "" "mailbox: database schema version 4 is newer than this smtpd's (3)"
	done
	mb_in 'pw\n' user add zed --password-stdin
	expect 2 "" "mailbox: database schema version 4 is newer than this smtpd's (3)"
	assert_equal "$(q .dump | md5sum)" "$before"
	assert_equal "$(q 'PRAGMA user_version')" 4
}

@test "a missing database is an error with status 2, and is not created" {
	run --separate-stderr "$MAILBOX" --db "$BATS_TEST_TMPDIR/none.db" user list
	expect 2 "" "mailbox: $BATS_TEST_TMPDIR/none.db: No such file or directory (smtpd --init-db makes the database)"
	[[ ! -e $BATS_TEST_TMPDIR/none.db ]]
}

@test "a version 2 database is upgraded in place by store_open, as smtpd would" {
	rm -f "$DB"*
	sqlite3 -batch "$DB" <"$BATS_TEST_DIRNAME/fixtures/schema-v2.sql"
	q 'PRAGMA user_version = 2' 
	mb user add alice --address alice@example.com --generate
	assert_equal "$status" 0
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'SELECT name FROM accounts')" alice
}

@test "wrong usage: status 2, a message and the hint, nothing changed" {
	accounts
	try_usage "no command"
	try_usage "unknown command 'frobnicate'" frobnicate
	try_usage "unknown command 'user remove'" user remove alice
	try_usage "'user' needs a subcommand" user
	try_usage "user add needs NAME" user add --generate
	try_usage "user add: unexpected argument 'b'" user add a b --generate
	try_usage "address add needs A NAME" address add a@example.com
	try_usage "list: unexpected argument 'alice'" list alice
	try_usage "user del: --generate does not apply" user del alice --generate
	try_usage "list: --dry-run does not apply" list --dry-run
	try_usage "user add: give one of --password-stdin, --generate and --hash" user add x --generate --password-stdin
	try_usage "export: give one of --mbox FILE and --maildir DIR" export
	try_usage "export: give one of --mbox FILE and --maildir DIR" export --mbox a --maildir b
	try_usage "unknown option '--bogus'" list --bogus
	try_usage "--user needs a value" list --user
	try_usage "--db: empty path" --db '' list
	try_usage "user add: 'a b' holds a space or a control character" user add 'a b' --generate
	try_usage "--address: '<a@b>' holds an angle bracket" user add x --address '<a@b>' --generate
	try_usage "address del: 'a	b' holds a space or a control character" address del $'a\tb'
	try_usage "--address: '' is not 1 to 254 bytes" user add x --address '' --generate
	try_usage "user add: '$(pad 256)' is not 1 to 255 bytes" user add "$(pad 256)" --generate
}

@test "each change is logged once, with account, address and uid; reads and --dry-run log nothing" {
	local uid
	uid=$(id -u)
	# logged - the log lines on stderr, without the pid.
	logged() { sed -E 's/^mailbox\[[0-9]+\]: //' <<<"$stderr"; }
	mb_in 'pw\n' --log stderr user add alice --address a@example.com --address b@example.com --password-stdin
	assert_equal "$status" 0
	assert_equal "$(logged)" "account added account=alice uid=$uid
address added account=alice address=a@example.com uid=$uid
address added account=alice address=b@example.com uid=$uid"
	mb --log stderr user passwd alice --generate
	assert_equal "$(logged)" "password changed account=alice uid=$uid"
	mb --log stderr address add c@example.com alice
	assert_equal "$(logged)" "address added account=alice address=c@example.com uid=$uid"
	mb --log stderr address del C@example.com
	assert_equal "$(logged)" "address deleted address=C@example.com uid=$uid"
	deliver x@example.org a@example.com
	q "INSERT INTO mailbox_state (account_id, message_id, deleted_at) VALUES (1, 1, '2026-11-30T00:00:00Z')"
	local size1
	size1=$(size 1)
	for cmd in "user list" "list" "show 1" "check" "purge --dry-run"; do
		# shellcheck disable=SC2086
		mb --log stderr $cmd
		assert_equal "$status" 0
		assert_equal "$stderr" ""
	done
	mb --log stderr purge
	assert_equal "$(logged)" "messages purged count=1 bytes=$size1 uid=$uid"
	mb --log stderr user del alice
	assert_equal "$(logged)" "account deleted account=alice uid=$uid"
	# A failed change logs nothing.
	mb --log stderr user del alice
	assert_equal "$stderr" "mailbox: user del: no account alice"
	try_usage "--log: 'loud' is not auto, journal, syslog or stderr" --log loud list
}

@test "--help names every command; --version; the default database is smtpd's" {
	mb --help
	assert_equal "$status" 0
	local c
	for c in 'user add' 'user passwd' 'user del' 'user list' 'address add' 'address del' \
		'list' 'show' 'export' 'purge' 'check'; do
		grep -qE "^  $c( |$)" <<<"$output"
	done
	local mine theirs
	mine=$(grep -oE -- '--db PATH .*\(default [^)]*\)' <<<"$output" | grep -oE 'default [^)]*')
	theirs=$("$SMTPD" --help | grep -oE -- '--db PATH .*\(default [^)]*\)' | grep -oE 'default [^)]*')
	assert_equal "$mine" "$theirs"
	mb --version
	expect 0 "mailbox $("$SMTPD" --version | cut -d' ' -f2)" ""
}

@test "a write waits in the writers' queue for another writer, then succeeds" {
	accounts
	# Another connection holds the write lock until told to let go.
	mkfifo "$BATS_TEST_TMPDIR/go"
	python3 - "$DB" "$BATS_TEST_TMPDIR/go" "$BATS_TEST_TMPDIR/locked" <<'PY' &
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[3], "w").close()
open(sys.argv[2]).read()
db.execute("COMMIT")
PY
	local holder=$!
	while [[ ! -e $BATS_TEST_TMPDIR/locked ]]; do sleep 0.01; done
	"$MAILBOX" --db "$DB" address add waited@example.com bob >"$BATS_TEST_TMPDIR/out" 2>&1 &
	local writer=$!
	# Once the tool has the database open, it can only be waiting.
	until ls -l "/proc/$writer/fd" 2>/dev/null | grep -q -- "-> $DB\$"; do
		kill -0 "$writer" 2>/dev/null || break
	done
	kill -0 "$writer"
	assert_equal "$(q "SELECT count(*) FROM addresses WHERE address = 'waited@example.com'")" 0
	echo go >"$BATS_TEST_TMPDIR/go"
	wait "$holder"
	wait "$writer"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" ""
	assert_equal "$(q "SELECT account_id FROM addresses WHERE address = 'waited@example.com'")" 2
}

# The man page: clean, and in step with --help both ways (tests/man.bats
# does the same for smtpd.8).
PAGE="$REPO/mailbox.8"

# help_options - every long option --help names, one a line.
help_options() {
	"$MAILBOX" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u
}

@test "mailbox.8: mandoc -Tlint finds no warning or error" {
	run mandoc -Tlint -W warning "$PAGE"
	assert_equal "$status" 0
	assert_equal "$output" ""
}

@test "mailbox.8: every option in --help has its entry, with the same argument name" {
	local line opt arg missing=""
	while IFS= read -r line; do
		[[ $line =~ ^\ +(--[a-z][a-z-]*)(\ ([A-Z]+))?\ \ + ]] || continue
		opt=${BASH_REMATCH[1]}
		arg=${BASH_REMATCH[3]}
		grep -qxE "\.It Fl ${opt#-}${arg:+ Ar ${arg,,}}" "$PAGE" || missing+=" $opt${arg:+ $arg}"
	done < <("$MAILBOX" --help)
	for opt in $(help_options); do
		grep -qE "^\.It Fl ${opt#-}( |$)" "$PAGE" || missing+=" $opt"
	done
	[[ -z $missing ]] || {
		echo "not documented in mailbox.8 (.It Fl -name Ar arg):$missing"
		return 1
	}
	[[ $(help_options | wc -l) -ge 12 ]]
}

@test "mailbox.8: every option the page names exists in --help" {
	local opt unknown=""
	for opt in $(grep -E '^\.' "$PAGE" | grep -oE '(^\.| )Fl -[a-z][a-z-]*' | sed 's/.*Fl -/--/' | sort -u); do
		help_options | grep -qx -- "$opt" || unknown+=" $opt"
	done
	[[ -z $unknown ]] || {
		echo "in mailbox.8 but not in mailbox --help:$unknown"
		return 1
	}
}

@test "mailbox.8: every command in --help has its entry and its synopsis line" {
	local line cmd missing="" n=0
	while IFS= read -r line; do
		[[ $line =~ ^\ \ ([a-z]+( [a-z]+)?)( [A-Z\[]|$) ]] || continue
		cmd=${BASH_REMATCH[1]}
		n=$((n + 1))
		grep -qE "^\.It Cm $cmd( Ar |$)" "$PAGE" || missing+=" '$cmd' (entry)"
		grep -qx "\.Cm $cmd" "$PAGE" || missing+=" '$cmd' (synopsis)"
	done < <("$MAILBOX" --help)
	[[ -z $missing ]] || {
		echo "missing in mailbox.8:$missing"
		return 1
	}
	assert_equal "$n" 11
}

# The purge units.
PURGE="$REPO/mailbox-purge.service"
TIMER="$REPO/mailbox-purge.timer"

# unit_copies - the two units side by side in $UNITS, ExecStart on this
# build (systemd-analyze verify checks that the program exists).
unit_copies() {
	UNITS="$BATS_TEST_TMPDIR/units"
	mkdir -p "$UNITS"
	cp "$PURGE" "$TIMER" "$UNITS/"
	sed -i "s|^ExecStart=/usr/local/sbin/mailbox |ExecStart=$REPO/mailbox |" "$UNITS/mailbox-purge.service"
}

# unit_value FILE KEY - the last value of KEY in FILE.
unit_value() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

@test "the purge units: systemd-analyze verify says nothing, exposure 2.0 or less" {
	unit_copies
	run systemd-analyze verify --man=no "$UNITS/mailbox-purge.timer" "$UNITS/mailbox-purge.service"
	assert_equal "$status" 0
	assert_equal "$output" ""
	run systemd-analyze security --offline=true "$UNITS/mailbox-purge.service"
	assert_equal "$status" 0
	[[ $output =~ Overall\ exposure\ level\ for\ [^:]*:\ ([0-9.]+) ]]
	awk -v l="${BASH_REMATCH[1]}" 'BEGIN { exit !(l <= 2.0) }'
}

@test "the purge service runs 'mailbox purge' on smtpd's database as smtpd, daily" {
	assert_equal "$(unit_value "$PURGE" ExecStart)" "/usr/local/sbin/mailbox purge --db /var/lib/smtpd/mail.db"
	assert_equal "$(unit_value "$REPO/smtpd-checkpointer.service" ExecStart)" \
		"/usr/local/sbin/smtpd --checkpointer --db /var/lib/smtpd/mail.db"
	assert_equal "$(unit_value "$PURGE" Type)" oneshot
	assert_equal "$(unit_value "$PURGE" User)" smtpd
	assert_equal "$(unit_value "$PURGE" Group)" smtpd
	assert_equal "$(unit_value "$PURGE" ProtectSystem)" strict
	assert_equal "$(unit_value "$PURGE" PrivateNetwork)" yes
	assert_equal "$(unit_value "$TIMER" OnCalendar)" daily
	assert_equal "$(unit_value "$TIMER" Persistent)" true
	assert_equal "$(unit_value "$TIMER" WantedBy)" timers.target
	# The service's ExecStart, run as written on this database, works.
	purge_setup
	local -a cmd
	local bytes=$(($(size 2) + $(size 5)))
	read -ra cmd <<<"$(unit_value "$PURGE" ExecStart)"
	cmd[0]=$MAILBOX
	cmd[-1]=$DB
	run --separate-stderr "${cmd[@]}"
	echo "$stderr"
	assert_equal "$status" 0
	assert_equal "${lines[-1]}" "purged 2 messages, $bytes bytes"
}

@test "the purge service's system-call filter allows every call mailbox purge makes" {
	command -v strace >/dev/null || { echo "strace is not installed"; return 1; }
	purge_setup
	run allowed_syscalls "$PURGE"
	assert_equal "$status" 0
	printf '%s\n' "${lines[@]}" >"$BATS_TEST_TMPDIR/allowed"
	# As a user that is not root, like User=smtpd: SQLite calls fchown()
	# only as root.  /tmp, because bats' own directory is root's alone.
	NOBODY_DIR=$(mktemp -d /tmp/mailbox-units.XXXXXX)
	cp "$REPO/mailbox" "$DB"* "$NOBODY_DIR/"
	chown nobody "$NOBODY_DIR" "$NOBODY_DIR"/mail.db*
	chmod 755 "$NOBODY_DIR"
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		strace -f -qq -o "$NOBODY_DIR/trace" "$NOBODY_DIR/mailbox" --db "$NOBODY_DIR/mail.db" purge >/dev/null
	DB=$NOBODY_DIR/mail.db
	assert_equal "$(q 'SELECT count(*) FROM messages')" 3
	local calls
	calls=$(sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$NOBODY_DIR/trace" | sort -u)
	[[ -n $calls ]]
	run comm -23 <(echo "$calls") <(sort -u "$BATS_TEST_TMPDIR/allowed")
	if [[ -n $output ]]; then
		echo "calls the filter would kill: $output"
		return 1
	fi
}

@test "make install stages the tool, its page and the purge units, and uninstall removes them" {
	local root="$BATS_TEST_TMPDIR/root"
	run make -s -C "$REPO" install DESTDIR="$root" PREFIX=/usr
	assert_equal "$status" 0
	cmp "$REPO/mailbox" "$root/usr/sbin/mailbox"
	cmp "$REPO/mailbox.8" "$root/usr/share/man/man8/mailbox.8"
	cmp "$TIMER" "$root/usr/lib/systemd/system/mailbox-purge.timer"
	assert_equal "$(unit_value "$root/usr/lib/systemd/system/mailbox-purge.service" ExecStart)" \
		"/usr/sbin/mailbox purge --db /var/lib/smtpd/mail.db"
	run make -s -C "$REPO" uninstall DESTDIR="$root" PREFIX=/usr
	assert_equal "$status" 0
	assert_equal "$(find "$root" -type f | sed "s|^$root||" | grep -c mailbox)" 0
}
