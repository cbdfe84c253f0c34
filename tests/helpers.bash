# tests/helpers.bash - shared by every test file: run a scripted session,
# check reply codes exactly, look into the database, serve over TCP.
#
# Each test gets a fresh database in $BATS_TEST_TMPDIR.  Replies land in
# $output and $lines (CR removed) and raw in $BATS_TEST_TMPDIR/replies;
# smtpd's log lines (--log stderr) in $LOG.

REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
SMTPD="${SMTPD:-$REPO/smtpd}" # a sanitizer build can stand in
export LC_ALL=C

common_setup() {
	DB="$BATS_TEST_TMPDIR/mail.db"
	LOG="$BATS_TEST_TMPDIR/smtpd.log"
	export TMPDIR="$BATS_TEST_TMPDIR"
	SERVER_PID=""
}

# common_teardown - stop servers; fail the test if a sanitizer (the
# ASan+UBSan build) or valgrind (tests/valgrind-smtpd) reported anything.
common_teardown() {
	stop_server
	if [[ -s ${LOG:-} ]] &&
		grep -qE '^==[0-9]+== |ERROR: [A-Za-z]+Sanitizer|runtime error:' "$LOG"; then
		echo "memory error reported in $LOG:"
		cat "$LOG"
		return 1
	fi
}

# smtp INPUT [OPTION...] - run smtpd with INPUT (printf %b escapes: \r\n)
# on stdin, as one file, so every command arrives pipelined.
smtp() {
	local input=$1
	shift
	printf '%b' "$input" >"$BATS_TEST_TMPDIR/input"
	smtp_file "$BATS_TEST_TMPDIR/input" "$@"
}

# smtp_file FILE [OPTION...] - the same with the client's bytes in FILE.
smtp_file() {
	local file=$1
	shift
	status=0
	"$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@" \
		<"$file" >"$BATS_TEST_TMPDIR/replies" 2>>"$LOG" || status=$?
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
}

# codes - the last line of each reply: "CODE" or "CODE X.Y.Z".
codes() {
	local l
	for l in "${lines[@]}"; do
		[[ -z $l || $l =~ ^[0-9]{3}- ]] && continue
		if [[ $l =~ ^([0-9]{3})\ ([245]\.[0-9]{1,3}\.[0-9]{1,3})(\ |$) ]]; then
			echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
		elif [[ $l =~ ^([0-9]{3})(\ |$) ]]; then
			echo "${BASH_REMATCH[1]}"
		else
			echo "?$l"
		fi
	done
}

# assert_codes CODE... - the replies, in order, are exactly these.
assert_codes() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(codes)
	if [[ $got != "$want" ]]; then
		printf 'expected codes:\n%s\ngot:\n%s\nreplies:\n%s\n' "$want" "$got" "$output"
		return 1
	fi
}

# reply N - the last line of reply N (0 is the greeting), CR removed.
reply() {
	local l n=0
	for l in "${lines[@]}"; do
		[[ -z $l || $l =~ ^[0-9]{3}- ]] && continue
		if ((n++ == $1)); then
			printf '%s' "$l"
			return 0
		fi
	done
	echo "there is no reply $1" >&2
	return 1
}

# assert_nothing_stored - no message and no recipient in the database.
assert_nothing_stored() {
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 0
}

# pad N [CHAR] - N copies of CHAR (default x), no newline.
pad() {
	local s
	printf -v s '%*s' "$1" ''
	printf '%s' "${s// /${2:-x}}"
}

# assert_equal GOT WANT
assert_equal() {
	if [[ $1 != "$2" ]]; then
		printf 'expected: %q\ngot:      %q\n' "$2" "$1"
		return 1
	fi
}

# q SQL - query the test's database.
q() {
	sqlite3 -batch -cmd '.timeout 5000' "$DB" "$@"
}

# schema_of FILE - every table's columns, indexes and foreign keys, and
# every index's columns, as SQLite reports them: two files made by
# different paths (new, upgraded) must print the same.
schema_of() {
	local t
	for t in $(sqlite3 -batch "$1" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"); do
		echo "== $t"
		sqlite3 -batch "$1" "PRAGMA table_xinfo($t)" "PRAGMA index_list($t)" "PRAGMA foreign_key_list($t)"
	done
	for t in $(sqlite3 -batch "$1" "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"); do
		echo "== $t"
		sqlite3 -batch "$1" "PRAGMA index_xinfo($t)"
	done
}

# body_to ID FILE - write message ID's body, byte for byte, into FILE.
body_to() {
	q "SELECT writefile('$2', body) FROM messages WHERE id = $1" >/dev/null
}

# trace_of ID - the trace headers smtpd should have written for message
# ID, built from its row (hostname mx.test).
trace_of() {
	local id=$1 from helo addr proto at n first date lit="" fromdom for="" tlsv cipher
	local comment="" clause=""
	from=$(q "SELECT mail_from FROM messages WHERE id = $id")
	helo=$(q "SELECT helo FROM messages WHERE id = $id")
	addr=$(q "SELECT client_addr FROM messages WHERE id = $id")
	proto=$(q "SELECT protocol FROM messages WHERE id = $id")
	at=$(q "SELECT received_at FROM messages WHERE id = $id")
	n=$(q "SELECT count(*) FROM recipients WHERE message_id = $id")
	first=$(q "SELECT address FROM recipients WHERE message_id = $id AND position = 0")
	date=$(date -u -d "$at" '+%a, %d %b %Y %H:%M:%S +0000')
	if [[ -n $addr ]]; then
		[[ $addr == *:* ]] && lit="[IPv6:$addr]" || lit="[$addr]"
	fi
	# The name goes in only if it is a Domain (U-labels too) or an
	# address literal; else the address literal stands in, or "unknown".
	local l=$'[A-Za-z0-9\x80-\xff]' ld=$'[A-Za-z0-9\x80-\xff-]'
	if [[ $helo =~ ^$l($ld*$l)?(\.$l($ld*$l)?)*$ ||
		$helo =~ ^\[(IPv6:[0-9A-Fa-f:.]+|[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)\]$ ]]; then
		[[ -n $lit ]] && fromdom="$helo ($lit)" || fromdom=$helo
	else
		[[ -n $lit ]] && fromdom="$lit ($lit)" || fromdom=unknown
	fi
	[[ $n == 1 ]] && for=$'\r\n\t'"for <$first>"
	# Over TLS: a comment with version and cipher, and RFC 8314's clause.
	tlsv=$(q "SELECT coalesce(tls_version, '') FROM messages WHERE id = $id")
	cipher=$(q "SELECT coalesce(tls_cipher, '') FROM messages WHERE id = $id")
	if [[ -n $tlsv ]]; then
		comment=" ($tlsv $cipher)"
		clause=$'\r\n\t'"tls $cipher"
	fi
	printf 'Return-Path: <%s>\r\nReceived: from %s\r\n\tby mx.test with %s%s id %s%s%s;\r\n\t%s\r\n' \
		"$from" "$fromdom" "$proto" "$comment" "$id" "$for" "$clause" "$date"
}

# assert_body ID DATA - message ID's body is its trace headers followed by
# exactly DATA (printf %b escapes), byte for byte.
assert_body() {
	printf '%b' "$2" >"$BATS_TEST_TMPDIR/data.$1"
	assert_body_file "$1" "$BATS_TEST_TMPDIR/data.$1"
}

# assert_body_file ID FILE - the same, with the data taken from FILE.
assert_body_file() {
	local id=$1 want="$BATS_TEST_TMPDIR/want.$1" got="$BATS_TEST_TMPDIR/got.$1"
	{
		trace_of "$id"
		cat "$2"
	} >"$want"
	body_to "$id" "$got"
	if ! cmp -s "$want" "$got"; then
		echo "body of message $id differs:"
		diff <(od -c "$want") <(od -c "$got") | head -40
		return 1
	fi
	assert_equal "$(q "SELECT size FROM messages WHERE id = $id")" "$(stat -c %s "$want")"
}

# free_port - a loopback TCP port nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server [OPTION...] - serve smtpd on 127.0.0.1:$PORT through
# systemd-socket-activate --accept --inetd, one process per connection.
start_server() {
	local try
	for try in 1 2 3 4 5; do
		PORT=$(free_port)
		systemd-socket-activate --accept --inetd -l "127.0.0.1:$PORT" \
			"$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@" \
			2>>"$LOG" 3>&- &
		SERVER_PID=$!
		if wait_port "$PORT"; then
			return 0
		fi
		stop_server
	done
	echo "could not start systemd-socket-activate" >&2
	return 1
}

# wait_port PORT - true once something accepts on 127.0.0.1:PORT (5 s).
wait_port() {
	python3 - "$1" <<'PY'
import socket, sys, time
end = time.time() + 5
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
}

# stop_server - stop what start_server started; safe to call twice.
stop_server() {
	if [[ -n ${SERVER_PID:-} ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}
