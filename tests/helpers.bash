# tests/helpers.bash - shared by every test file: run a scripted session,
# check reply codes exactly, look into the database, serve over TCP.
#
# Each test gets a fresh database in $BATS_TEST_TMPDIR.  Replies land in
# $output and $lines (CR removed) and raw in $BATS_TEST_TMPDIR/replies;
# smtpd's log lines (--log stderr) in $LOG.

REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
SMTPD="${SMTPD:-$REPO/smtpd}" # a sanitizer build can stand in
export LC_ALL=C

# The longest any test waits for something the server or a client must
# do (start, reply, exit).  It only turns a hang into a failure: no test
# passes or fails by how long something took, so it is generous enough
# for valgrind on a loaded machine.
export WAIT_LIMIT=${WAIT_LIMIT:-120}

common_setup() {
	DB="$BATS_TEST_TMPDIR/mail.db"
	LOG="$BATS_TEST_TMPDIR/smtpd.log"
	export TMPDIR="$BATS_TEST_TMPDIR"
	SERVER_PID=""
	LIVE_PID=""
	LIVE_FD=""
}

# common_teardown - stop servers; fail the test if a sanitizer (the
# ASan+UBSan build) or valgrind (tests/valgrind-smtpd) reported anything.
common_teardown() {
	if [[ -n ${LIVE_PID:-} ]]; then
		kill "$LIVE_PID" 2>/dev/null || true
		wait "$LIVE_PID" 2>/dev/null || true
		LIVE_PID=""
	fi
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

# body_to ID FILE - write message ID's body, byte for byte, into FILE.
body_to() {
	q "SELECT writefile('$2', body) FROM messages WHERE id = $1" >/dev/null
}

# trace_of ID - the trace headers smtpd should have written for message
# ID, built from its row (hostname mx.test).
trace_of() {
	local id=$1 from helo addr proto at n first date tcp="" for=""
	from=$(q "SELECT mail_from FROM messages WHERE id = $id")
	helo=$(q "SELECT helo FROM messages WHERE id = $id")
	addr=$(q "SELECT client_addr FROM messages WHERE id = $id")
	proto=$(q "SELECT protocol FROM messages WHERE id = $id")
	at=$(q "SELECT received_at FROM messages WHERE id = $id")
	n=$(q "SELECT count(*) FROM recipients WHERE message_id = $id")
	first=$(q "SELECT address FROM recipients WHERE message_id = $id AND position = 0")
	date=$(date -u -d "$at" '+%a, %d %b %Y %H:%M:%S +0000')
	if [[ -n $addr ]]; then
		[[ $addr == *:* ]] && tcp=" ([IPv6:$addr])" || tcp=" ([$addr])"
	fi
	[[ $n == 1 ]] && for=$'\r\n\t'"for <$first>"
	printf 'Return-Path: <%s>\r\nReceived: from %s%s\r\n\tby mx.test with %s id %s%s;\r\n\t%s\r\n' \
		"$from" "$helo" "$tcp" "$proto" "$id" "$for" "$date"
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

# wait_port PORT - true once something accepts on 127.0.0.1:PORT.
wait_port() {
	wait_port_on 127.0.0.1 "$1"
}

# wait_port_on HOST PORT - true once something accepts at HOST:PORT;
# false if the server (SERVER_PID) died first or after WAIT_LIMIT.
wait_port_on() {
	ACCEPTING=no
	wait_until "nothing accepts on $1 port $2" _accepting "$1" "$2" && [[ $ACCEPTING == yes ]]
}
_accepting() {
	if (exec 9<>"/dev/tcp/$1/$2") 2>/dev/null; then
		ACCEPTING=yes
		return 0
	fi
	[[ -n ${SERVER_PID:-} ]] && ! alive "$SERVER_PID"
}

# server_children - the process ids start_server's process has spawned
# and not yet reaped (the smtpd processes of open connections).
server_children() {
	[[ -n ${SERVER_PID:-} ]] || return 0
	cat "/proc/$SERVER_PID/task/$SERVER_PID/children" 2>/dev/null || true
}

# server_idle - wait until every smtpd the server spawned has exited.
# smtpd sends its last reply before it closes the database, and the last
# connection to close a WAL database checkpoints under an exclusive lock,
# which a reader without a busy timeout (q) sees as "database is locked".
# So look at the rows only after this.
server_idle() {
	wait_until "smtpd still running after its clients finished" \
		eval '[[ -z $(server_children) ]]' || {
		echo "still running: $(server_children)" >&2
		return 1
	}
}

# stop_server - stop what start_server started; safe to call twice.
stop_server() {
	if [[ -n ${SERVER_PID:-} ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=""
	fi
}

# client COMMAND ARG... - tests/smtpclient.py, the tests' one Python module:
# real protocol clients (smtplib, raw sockets), lock holders, load and
# kill runs, and inputs too big for printf.
client() {
	python3 "$REPO/tests/smtpclient.py" "$@"
}

# wait_until WHAT COMMAND... - run COMMAND every 50 ms until it succeeds;
# false, saying what did not happen (WHAT), after WAIT_LIMIT seconds.
# A deadline, not a count of tries: on a loaded machine each try can be
# slow.
wait_until() {
	local what=$1 end=$((SECONDS + WAIT_LIMIT))
	shift
	until "$@"; do
		if ((SECONDS >= end)); then
			echo "after ${WAIT_LIMIT} s: $what" >&2
			return 1
		fi
		sleep 0.05
	done
}

# wait_file FILE PID - wait until FILE exists; false at once if PID,
# which is to make it, has exited without.
wait_file() {
	wait_until "process $2 did not make $1" _made_or_gone "$1" "$2" && [[ -e $1 ]]
}
_made_or_gone() { [[ -e $1 ]] || ! alive "$2"; }

# --- a live session: the test talks, waits for smtpd, talks again -------
# A test of a timeout must not start its clock before smtpd has started:
# under valgrind or on a loaded machine, start-up alone can take seconds.
# So it waits for smtpd's replies (wait_replies) before any pause, and
# for smtpd to end (live_end) rather than for a guessed time.

# live_start [OPTION...] - run smtpd in the background, reading from a
# pipe that send writes to; its replies go to $BATS_TEST_TMPDIR/replies.
live_start() {
	mkfifo "$BATS_TEST_TMPDIR/client"
	"$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@" \
		<"$BATS_TEST_TMPDIR/client" >"$BATS_TEST_TMPDIR/replies" 2>>"$LOG" 3>&- &
	LIVE_PID=$!
	exec {LIVE_FD}>"$BATS_TEST_TMPDIR/client"
}

# send TEXT - write TEXT (printf %b escapes) to the live smtpd.  Writing
# after smtpd has gone is no error here: the replies say what happened.
send() {
	(printf '%b' "$1" >&"$LIVE_FD") 2>/dev/null || true
}

# replies_so_far - how many replies smtpd has sent (a multi-line reply
# counts once).
replies_so_far() {
	tr -d '\r' <"$BATS_TEST_TMPDIR/replies" | grep -cE '^[0-9]{3}( |$)'
}

# live_running - the live smtpd has not exited.
live_running() {
	alive "$LIVE_PID"
}

# alive PID - PID runs (a zombie, exited but not yet reaped, does not).
alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[[ ${st:0:1} != Z ]]
}

# wait_replies N - wait until smtpd has sent N replies, the greeting
# included; false if it ended before that.
wait_replies() {
	wait_until "smtpd has not sent $1 replies" _has_replies "$1" || return 1
	(($(replies_so_far) >= $1))
}
_has_replies() { (($(replies_so_far) >= $1)) || ! live_running; }

# live_exits - wait for the live smtpd to end by itself
# (the test's side of the pipe stays open, so only smtpd can end it).
live_exits() {
	wait_until "smtpd is still running" eval '! live_running'
}

# live_end - close the pipe, wait for smtpd; sets $status, $output and
# $lines like smtp does.
live_end() {
	if [[ -n ${LIVE_FD:-} ]]; then
		exec {LIVE_FD}>&-
		LIVE_FD=""
	fi
	status=0
	if [[ -n ${LIVE_PID:-} ]]; then
		wait_until "smtpd did not exit at the end of its input" eval '! live_running' ||
			kill "$LIVE_PID" 2>/dev/null
		wait "$LIVE_PID" || status=$?
		LIVE_PID=""
	fi
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
}
