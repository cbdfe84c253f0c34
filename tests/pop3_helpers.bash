# tests/pop3_helpers.bash - for the POP3 tests: accounts and messages in
# a real database, scripted pop3d sessions, pop3d served over TCP.
# Load after helpers.
#
# Scripted sessions run ./pop3d on a file, so every command arrives
# pipelined; replies land in $output/$lines (CR removed) and raw in
# $BATS_TEST_TMPDIR/pop3.out, pop3d's log lines in $LOG.

POP3D="${POP3D:-$REPO/pop3d}" # a sanitizer or valgrind build can stand in
POP3PY="$BATS_TEST_DIRNAME/pop3.py"

# pop3_setup - a fresh version 3 database, made by smtpd.
pop3_setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
	"$SMTPD" --init-db --db "$DB"
}

# hash_of PASSWORD [METHOD] - a crypt(3) string made by mkpasswd (whois),
# yescrypt unless METHOD (sha-512, bcrypt) says otherwise.  Under
# valgrind, where one yescrypt check takes seconds, the default is a
# SHA-256 crypt of 1000 rounds: the same call checks it.
hash_of() {
	if [[ -z ${2:-} && -n ${VALGRIND:-} ]]; then
		mkpasswd -m sha-256 -R 1000 "$1"
	else
		mkpasswd -m "${2:-yescrypt}" "$1"
	fi
}

# add_account NAME PASSWORD [ADDRESS...] - an account with a yescrypt
# hash of PASSWORD, receiving mail for the addresses.  Its id is printed
# nowhere; look it up by name.
add_account() {
	local name=$1 hash
	hash=$(hash_of "$2")
	shift 2
	add_account_hash "$name" "$hash" "$@"
}

# add_account_hash NAME HASH [ADDRESS...] - the same with a given hash
# ('' for none).
add_account_hash() {
	local name=$1 hash=$2 a
	shift 2
	if [[ -n $hash ]]; then
		q "INSERT INTO accounts (name, password, created_at) VALUES ('$name', '$hash', '2026-11-30T00:00:00Z')"
	else
		q "INSERT INTO accounts (name, created_at) VALUES ('$name', '2026-11-30T00:00:00Z')"
	fi
	for a in "$@"; do
		q "INSERT INTO addresses (address, account_id) SELECT '$a', id FROM accounts WHERE name = '$name'"
	done
}

# deliver 'RCPT...' DATA - one message through a real smtpd session to
# the recipients (space-separated), DATA in printf %b escapes (CR LF line
# ends, no final dot).  Asserts it was stored.
deliver() {
	local r rcpts="" ehlo='EHLO client.example\r\n'
	for r in $1; do rcpts+="RCPT TO:<$r>\r\n"; done
	printf '%b' "${ehlo}MAIL FROM:<sender@example.org>\r\n${rcpts}DATA\r\n$2.\r\nQUIT\r\n" \
		>"$BATS_TEST_TMPDIR/deliver.in"
	"$SMTPD" --db "$DB" --hostname mx.test --log stderr \
		<"$BATS_TEST_TMPDIR/deliver.in" >"$BATS_TEST_TMPDIR/deliver.out" 2>>"$LOG"
	grep -q '^250 2.0.0 Ok: queued as' "$BATS_TEST_TMPDIR/deliver.out"
}

# store_raw ID HEX RCPT... - a message whose body is exactly the bytes
# HEX (as BDAT can store them, without smtpd's trace headers), straight
# into the database.
store_raw() {
	local id=$1 hex=$2 r pos=0
	shift 2
	q "INSERT INTO messages (id, received_at, helo, client_addr, protocol, mail_from, size, body)
	   VALUES ($id, '2026-11-30T00:00:00Z', 'raw.example', '', 'ESMTP', 'raw@example.org',
	           length(X'$hex'), X'$hex')"
	for r in "$@"; do
		q "INSERT INTO recipients (message_id, position, address) VALUES ($id, $pos, '$r')"
		pos=$((pos + 1))
	done
}

# pop3 INPUT [OPTION...] - run pop3d on INPUT (printf %b escapes), with
# failed logins answered at once unless an OPTION says otherwise.
pop3() {
	local input=$1
	shift
	printf '%b' "$input" >"$BATS_TEST_TMPDIR/pop3.in"
	pop3_file "$BATS_TEST_TMPDIR/pop3.in" "$@"
}

# pop3_file FILE [OPTION...] - the same with the client's bytes in FILE.
pop3_file() {
	local file=$1
	shift
	status=0
	"$POP3D" --db "$DB" --hostname pop.test --log stderr --fail-delay 0 "$@" \
		<"$file" >"$BATS_TEST_TMPDIR/pop3.out" 2>>"$LOG" || status=$?
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/pop3.out")
	mapfile -t lines <<<"$output"
}

# assert_replies LINE... - the whole transcript is exactly these lines.
assert_replies() {
	local want
	want=$(printf '%s\n' "$@")
	if [[ $output != "${want%$'\n'}" ]]; then
		printf 'expected:\n%s\ngot:\n%s\n' "$want" "$output"
		return 1
	fi
}

# expect_octets ID retr|top [LINES] - what pop3d must send after the +OK
# line of RETR ID or TOP ID LINES (tests/pop3.py, written apart from
# pop3d), into $BATS_TEST_TMPDIR/want.
expect_octets() {
	python3 "$POP3PY" expect "$DB" "$@" >"$BATS_TEST_TMPDIR/want"
}

# assert_raw_equals_want FILE - FILE holds exactly the bytes in
# $BATS_TEST_TMPDIR/want.
assert_raw_equals_want() {
	if ! cmp -s "$1" "$BATS_TEST_TMPDIR/want"; then
		echo "bytes differ from what pop3d must send:"
		diff <(od -c "$BATS_TEST_TMPDIR/want") <(od -c "$1") | head -30
		return 1
	fi
}

# after_line N FILE - the raw bytes of FILE after its first N lines.
after_line() {
	tail -n +"$(($1 + 1))" "$2"
}

# serve_pop3 [OPTION...] - pop3d on 127.0.0.1:$PORT through
# systemd-socket-activate --accept --inetd; its log in $LOG.
serve_pop3() {
	serve_argv 127.0.0.1 inetd "$POP3D" --db "$DB" --hostname pop.test --log stderr "$@" || return 1
	# wait_port_on connected once: let that pop3d go.
	server_idle
}
