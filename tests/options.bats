#!/usr/bin/env bats
# The command line, the database it names, the log, and the client's
# address from the super-server's environment (REMOTE_ADDR, TCPREMOTEIP).

load helpers

setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
}
teardown() { common_teardown; }

# The shortest complete transaction.
MSG='EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n'
MSG_CODES=(220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0")

# run_smtpd ARG... - run smtpd with exactly these arguments and no input;
# sets $status, $stdout and $stderr.
run_smtpd() {
	status=0
	"$SMTPD" "$@" </dev/null >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" || status=$?
	stdout=$(cat "$BATS_TEST_TMPDIR/stdout")
	stderr=$(cat "$BATS_TEST_TMPDIR/stderr")
}

# assert_usage_error REGEX ARG... - smtpd ARG... exits 2, says nothing
# on stdout, and says something matching REGEX on stderr.
assert_usage_error() {
	local want=$1
	shift
	run_smtpd "$@"
	if [[ $status != 2 || -n $stdout || ! $stderr =~ $want ]]; then
		printf 'smtpd %s\nexpected status 2, nothing on stdout, /%s/ on stderr\n' "$*" "$want"
		printf 'status: %s\nstdout: %s\nstderr: %s\n' "$status" "$stdout" "$stderr"
		return 1
	fi
}

# message_text ID - the stored body as text (trailing newlines dropped).
message_text() {
	q "SELECT CAST(body AS TEXT) FROM messages WHERE id = $1"
}

# --- --help and --version -------------------------------------------------

@test "--help lists every option and exits 0" {
	run_smtpd --help
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	local opt
	for opt in --db --hostname --max-size --max-recipients --domain --timeout \
		--session-timeout --log --init-db --help --version; do
		[[ $stdout == *"$opt"* ]] || {
			echo "--help does not mention $opt"
			return 1
		}
	done
}

@test "--version prints 'smtpd 0.1.0' and exits 0" {
	run_smtpd --version
	assert_equal "$status" 0
	assert_equal "$stdout" "smtpd 0.1.0"
	assert_equal "$stderr" ""
}

# --- a bad command line ---------------------------------------------------

@test "an unknown option: exit 2, a message on stderr, nothing on stdout" {
	assert_usage_error "smtpd: .*--bogus" --bogus
	assert_usage_error "smtpd: .*-x" -x
	assert_usage_error "smtpd: .*--bogus" --db "$DB" --bogus=1
}

@test "an option without its value says the value is missing" {
	assert_usage_error "--max-size.*(value|argument)" --max-size
	[[ $stderr != *unknown* ]] || {
		echo "misleading message: $stderr"
		return 1
	}
	assert_usage_error "--db.*(value|argument)" --db
	assert_usage_error "--domain.*(value|argument)" --hostname mx.test --domain
}

@test "numeric options must be whole numbers within their range" {
	local v
	for v in 0 -1 12x x12 '' ' 5' 1e6 1000000001 99999999999999999999999; do
		assert_usage_error "smtpd: --max-size" --max-size "$v"
	done
	for v in 0 -1 12x '' 100001 99999999999999999999999; do
		assert_usage_error "smtpd: --max-recipients" --max-recipients "$v"
	done
	for v in 0 -1 12x '' 86401 99999999999999999999999; do
		assert_usage_error "smtpd: --timeout" --timeout "$v"
		assert_usage_error "smtpd: --session-timeout" --session-timeout "$v"
	done
}

@test "the largest values of the numeric options are accepted" {
	smtp 'EHLO client.example\r\nQUIT\r\n' --max-size 999000000 --max-recipients 100000 \
		--timeout 86400 --session-timeout 86400
	assert_equal "$status" 0
	assert_codes 220 250 "221 2.0.0"
	assert_equal "${lines[3]}" "250-SIZE 999000000"
}

@test "--hostname and --domain must be domain names" {
	local v
	for v in '' bad_host -mx.test mx-.test mx..test .mx.test mx.test. 'mx test' "$(printf 'a%.0s' {1..256})"; do
		assert_usage_error "smtpd: --hostname" --hostname "$v"
	done
	for v in '' exa_mple.com -example.com example..com example.com. '[192.0.2.1]' '@example.com'; do
		assert_usage_error "smtpd: --domain" --domain "$v"
	done
}

@test "--log must be auto, journal, syslog or stderr; --db must not be empty" {
	assert_usage_error "smtpd: --log" --log file
	assert_usage_error "smtpd: --log" --log STDERR
	assert_usage_error "smtpd: --log" --log ''
	assert_usage_error "smtpd: --db" --db ''
}

@test "an extra argument: exit 2; a bad command line never touches the database" {
	assert_usage_error "smtpd: .*extra" --db "$DB" extra
	assert_usage_error "smtpd: --max-size" --db "$DB" --max-size 0
	[[ ! -e $DB ]]
}

# --- the database ---------------------------------------------------------

@test "a database that cannot be opened: 421 4.3.0 to the client, exit 1, the reason logged" {
	DB="$BATS_TEST_TMPDIR/missing/mail.db"
	smtp "$MSG"
	assert_equal "$status" 1
	assert_codes "421 4.3.0"
	assert_equal "$output" "421 4.3.0 mx.test Service not available, try again later"
	grep -q "cannot open the mailbox database.*$BATS_TEST_TMPDIR/missing/mail.db" "$LOG"
	[[ ! -e $BATS_TEST_TMPDIR/missing ]]
	# A directory where the file should be.
	DB="$BATS_TEST_TMPDIR/dir.db"
	mkdir "$DB"
	: >"$LOG"
	smtp "$MSG"
	assert_equal "$status" 1
	assert_equal "$output" "421 4.3.0 mx.test Service not available, try again later"
	grep -q "cannot open the mailbox database.*dir.db" "$LOG"
}

@test "a file that is not a database: 421 4.3.0, exit 1, left as it was" {
	printf 'not a database, do not overwrite\n' >"$DB"
	cp "$DB" "$BATS_TEST_TMPDIR/orig"
	smtp "$MSG"
	assert_equal "$status" 1
	assert_equal "$output" "421 4.3.0 mx.test Service not available, try again later"
	grep -q "cannot open the mailbox database" "$LOG"
	cmp "$DB" "$BATS_TEST_TMPDIR/orig"
}

@test "a database from a newer smtpd: 421 4.3.0, exit 1, the log says why" {
	"$SMTPD" --init-db --db "$DB"
	q 'PRAGMA user_version = 99'
	smtp "$MSG"
	assert_equal "$status" 1
	assert_equal "$output" "421 4.3.0 mx.test Service not available, try again later"
	grep -q "cannot open the mailbox database.*newer" "$LOG"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
}

@test "--init-db creates the database: schema version 3, WAL, exit 0" {
	run_smtpd --init-db --db "$DB"
	assert_equal "$status" 0
	assert_equal "$stdout" ""
	assert_equal "$stderr" ""
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_equal "$(q "SELECT name FROM sqlite_master WHERE name IN ('messages', 'recipients', 'recipients_by_address') ORDER BY name")" "messages
recipients
recipients_by_address"
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
}

@test "--init-db on an existing database keeps its messages" {
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	run_smtpd --init-db --db "$DB"
	assert_equal "$status" 0
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_body 1 'hi\r\n'
}

@test "--init-db where no database can be, or on a newer one: exit 2 with a message" {
	run_smtpd --init-db --db "$BATS_TEST_TMPDIR/missing/mail.db"
	assert_equal "$status" 2
	assert_equal "$stdout" ""
	[[ $stderr == "smtpd: "*"missing/mail.db"* ]]
	mkdir "$BATS_TEST_TMPDIR/dir.db"
	run_smtpd --init-db --db "$BATS_TEST_TMPDIR/dir.db"
	assert_equal "$status" 2
	[[ $stderr == "smtpd: "* ]]
	"$SMTPD" --init-db --db "$DB"
	q 'PRAGMA user_version = 99'
	run_smtpd --init-db --db "$DB"
	assert_equal "$status" 2
	[[ $stderr == "smtpd: "*newer* ]]
	assert_equal "$(q 'PRAGMA user_version')" 99
}

@test "the first connection creates the database by itself" {
	[[ ! -e $DB ]]
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(q 'PRAGMA user_version')" 3
	assert_equal "$(q 'PRAGMA journal_mode')" wal
	assert_body 1 'hi\r\n'
}

# --- the host name --------------------------------------------------------

@test "without --hostname the machine's name is used" {
	local name
	name=$(hostname)
	[[ $name =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]] ||
		name=localhost
	printf '%b' "$MSG" >"$BATS_TEST_TMPDIR/input"
	"$SMTPD" --db "$DB" --log stderr <"$BATS_TEST_TMPDIR/input" >"$BATS_TEST_TMPDIR/replies" 2>>"$LOG"
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "${lines[0]}" "220 $name ESMTP ready"
	assert_equal "${lines[1]}" "250-$name"
	assert_equal "$(reply 6)" "221 2.0.0 $name closing connection"
	[[ $(message_text 1) == *$'\tby '"$name"' with ESMTP id 1'* ]]
}

# --- the log --------------------------------------------------------------

@test "--log stderr: connect, message accepted with its envelope, disconnect" {
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_body 1 'hi\r\n'
	local accepted
	grep -qE '^smtpd\[[0-9]+\]: connect( |$)' "$LOG"
	accepted=$(grep -E '^smtpd\[[0-9]+\]: message accepted ' "$LOG")
	[[ $accepted == *" id=1"* ]]
	[[ $accepted == *" from=a@example.org"* ]]
	[[ $accepted == *" rcpt=b@example.com"* ]]
	[[ $accepted =~ \ size=[0-9]+ ]]
	[[ $accepted == *" helo=client.example"* ]]
	grep -qE '^smtpd\[[0-9]+\]: disconnect .*end=quit' "$LOG"
	# connect, the no --domain notice, message accepted, disconnect
	assert_equal "$(grep -c "" "$LOG")" 4
}

@test "--log stderr: a refused message and a refused recipient are logged" {
	smtp 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<x@other.example>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n123456789\r\n.\r\nQUIT\r\n' --domain example.com --max-size 5
	assert_codes 220 250 "250 2.1.0" "550 5.7.1" "250 2.1.5" 354 "552 5.3.4" "221 2.0.0"
	grep -q 'recipient refused.*rcpt=x@other.example' "$LOG"
	grep -q 'message refused.*from=a@example.org' "$LOG"
	assert_equal "$(grep -c 'message accepted' "$LOG")" 0
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
}

@test "without --domain the log warns once per session that every recipient is accepted" {
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(grep -c 'accepting mail for every recipient' "$LOG")" 1
	: >"$LOG"
	smtp "$MSG" --domain example.com
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(grep -c 'accepting mail for every recipient' "$LOG")" 0
	grep -q 'message accepted' "$LOG"
	assert_body 1 'hi\r\n'
	assert_body 2 'hi\r\n'
}

# --- the client's address -------------------------------------------------

@test "REMOTE_ADDR gives the client's address: row, Received and log" {
	export REMOTE_ADDR=192.0.2.7
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(q 'SELECT client_addr FROM messages')" 192.0.2.7
	[[ $(message_text 1) == *$'\r\nReceived: from client.example ([192.0.2.7])\r\n'* ]]
	assert_body 1 'hi\r\n'
	grep -q 'connect client=192.0.2.7' "$LOG"
}

@test "without REMOTE_ADDR or TCPREMOTEIP the address is '' and Received has none" {
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(q "SELECT count(*) FROM messages WHERE client_addr = ''")" 1
	[[ $(message_text 1) == *$'\r\nReceived: from client.example\r\n\tby mx.test'* ]]
	assert_body 1 'hi\r\n'
}

@test "an invalid REMOTE_ADDR is ignored" {
	local v n=0
	for v in not-an-address 192.0.2.300 '192.0.2.7 ' '192.0.2.7;x' '[192.0.2.7]' '' \
		'fe80::1%eth0' 192.0.2.7/24; do
		export REMOTE_ADDR=$v
		smtp "$MSG"
		assert_codes "${MSG_CODES[@]}"
		n=$((n + 1))
		assert_equal "$(q "SELECT count(*) FROM messages WHERE client_addr = ''")" "$n"
		assert_body "$n" 'hi\r\n'
	done
}

@test "TCPREMOTEIP gives the client's address too; REMOTE_ADDR wins over it" {
	export TCPREMOTEIP=198.51.100.4
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(q 'SELECT client_addr FROM messages')" 198.51.100.4
	[[ $(message_text 1) == *$'\r\nReceived: from client.example ([198.51.100.4])\r\n'* ]]
	assert_body 1 'hi\r\n'
	export REMOTE_ADDR=192.0.2.7
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(q 'SELECT client_addr FROM messages WHERE id = 2')" 192.0.2.7
	assert_body 2 'hi\r\n'
}

@test "an IPv6 REMOTE_ADDR is tagged IPv6: in Received" {
	export REMOTE_ADDR=2001:db8::7
	smtp "$MSG"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(q 'SELECT client_addr FROM messages')" 2001:db8::7
	[[ $(message_text 1) == *$'\r\nReceived: from client.example ([IPv6:2001:db8::7])\r\n'* ]]
	assert_body 1 'hi\r\n'
}

@test "the HELO name with the address: Received from <helo> ([addr]) by HELO too" {
	export REMOTE_ADDR=203.0.113.9
	smtp 'HELO old.example\r\nMAIL FROM:<>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	[[ $(message_text 1) == "Return-Path: <>"$'\r\n'"Received: from old.example ([203.0.113.9])"$'\r\n\t'"by mx.test with SMTP id 1;"$'\r\n\t'* ]]
	assert_body 1 'hi\r\n'
}

@test "over TCP the socket's address is used, not the environment" {
	export REMOTE_ADDR=192.0.2.7
	start_server
	python3 - "$PORT" >"$BATS_TEST_TMPDIR/replies" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
f = s.makefile("rb")
greeting = f.readline()  # a client waits for the greeting (RFC 5321 3.1)
s.sendall(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
          b"RCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n")
sys.stdout.buffer.write(greeting + f.read())
PY
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
	assert_codes "${MSG_CODES[@]}"
	assert_equal "$(q 'SELECT client_addr FROM messages')" 127.0.0.1
	[[ $(message_text 1) == *'Received: from client.example ([127.0.0.1])'* ]]
	assert_body 1 'hi\r\n'
}
