# tests/helpers.bash - the one helper file every test file loads: run a
# scripted session and check its replies exactly, look into the database,
# run a live session whose client waits for smtpd, serve smtpd over TCP,
# start processes all at once, measure memory, inject faults, and run a
# private Postfix instance as a real client.  The Python side (smtplib,
# raw sockets, lock holders, load) is tests/smtpclient.py, run by client.
#
# Each test gets a fresh database in $BATS_TEST_TMPDIR.  Replies land in
# $output and $lines (CR removed) and raw in $BATS_TEST_TMPDIR/replies;
# smtpd's log lines (--log stderr) in $LOG.
#
# Everything a test starts, teardown stops, even when the test failed:
# common_teardown the live smtpd and the TCP server; net_teardown also
# the smtpd processes the server spawned; fault_teardown also what the
# test registered with track_pid and track_mount.

REPO="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
SMTPD="${SMTPD:-$REPO/smtpd}" # a sanitizer build can stand in
export LC_ALL=C

# The longest any test waits for something the server or a client must
# do (start, reply, exit).  It only turns a hang into a failure: no test
# passes or fails by how long something took, so it is generous enough
# for valgrind on a loaded machine.
export WAIT_LIMIT=${WAIT_LIMIT:-120}

# --- setup and teardown ---------------------------------------------------

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

# net_teardown - stop the server and any smtpd it spawned that is still
# running (a client that failed half-way), by process id.
net_teardown() {
	local kids="" pid
	if [[ -n ${SERVER_PID:-} && -r /proc/$SERVER_PID/task/$SERVER_PID/children ]]; then
		kids=$(cat "/proc/$SERVER_PID/task/$SERVER_PID/children")
	fi
	stop_server
	for pid in $kids; do
		kill "$pid" 2>/dev/null || true
	done
}

# fault_setup - common_setup, plus the lists fault_teardown works from.
fault_setup() {
	common_setup
	unset REMOTE_ADDR TCPREMOTEIP
	BG_PIDS=()
	MOUNTS=()
}

# fault_teardown - kill what the test left running, by process id:
# smtpd processes spawned by the server, the server, registered
# background processes; then unmount registered mounts.
fault_teardown() {
	local rc=0 pid m
	for pid in $(server_children); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	stop_server
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	BG_PIDS=()
	for m in "${MOUNTS[@]}"; do
		if mountpoint -q "$m"; then
			umount "$m" 2>/dev/null || umount -l "$m" || rc=1
		fi
	done
	MOUNTS=()
	common_teardown || rc=1
	return $rc
}

# track_pid PID - kill PID in teardown if it still runs.
track_pid() {
	BG_PIDS+=("$1")
}

# track_mount DIR - unmount DIR in teardown.
track_mount() {
	MOUNTS+=("$1")
}

# --- scripted sessions: input on stdin, replies checked exactly -----------

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

# replies_from FILE - load a raw reply transcript into $output and $lines.
replies_from() {
	output=$(tr -d '\r' <"$1")
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

# reply_line N - reply N (the older name, which hostile.bats and
# faults.bats use).
reply_line() {
	reply "$1" 2>/dev/null
}

# last_line - the last reply line.
last_line() {
	printf '%s' "${lines[${#lines[@]} - 1]}"
}

# assert_equal GOT WANT
assert_equal() {
	if [[ $1 != "$2" ]]; then
		printf 'expected: %q\ngot:      %q\n' "$2" "$1"
		return 1
	fi
}

# pad N [CHAR] - N copies of CHAR (default x), no newline.
pad() {
	local s
	printf -v s '%*s' "$1" ''
	printf '%s' "${s// /${2:-x}}"
}

# --- the database ---------------------------------------------------------

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

# qt SQL - like q, but waits (WAIT_LIMIT) for a lock held by a writer.
qt() {
	sqlite3 -batch -cmd ".timeout $((WAIT_LIMIT * 1000))" "$DB" "$@"
}

# assert_nothing_stored - no message and no recipient in the database.
assert_nothing_stored() {
	assert_equal "$(q 'SELECT count(*) FROM messages')" 0
	assert_equal "$(q 'SELECT count(*) FROM recipients')" 0
}

# assert_integrity - PRAGMA integrity_check is "ok", and every message has
# a recipient and every recipient a message.
assert_integrity() {
	assert_equal "$(qt 'PRAGMA integrity_check')" ok
	assert_equal "$(qt 'SELECT count(*) FROM messages m WHERE NOT EXISTS
		(SELECT 1 FROM recipients r WHERE r.message_id = m.id)')" 0
	assert_equal "$(qt 'SELECT count(*) FROM recipients r WHERE NOT EXISTS
		(SELECT 1 FROM messages m WHERE m.id = r.message_id)')" 0
	assert_equal "$(qt 'SELECT count(*) FROM messages WHERE size != length(body)')" 0
}

# rcpts_of ID - message ID's recipients in RCPT order, space-separated.
rcpts_of() {
	q "SELECT group_concat(address, ' ') FROM (SELECT address FROM recipients
	   WHERE message_id = $1 ORDER BY position)"
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

# --- waiting: for what happened, never for a guessed time -----------------

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

# alive PID - PID runs (a zombie, exited but not yet reaped, does not).
alive() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[[ ${st:0:1} != Z ]]
}

# --- a live session: the test talks, waits for smtpd, talks again ---------
# A test of a timeout must not start its clock before smtpd has started:
# under valgrind or on a loaded machine, start-up alone can take seconds.
# So it waits for smtpd's replies (wait_replies) before any pause, and
# for smtpd to end (live_exits, live_end) rather than for a guessed time.

# live_start [OPTION...] - run smtpd in the background, reading from a
# pipe that send writes to; its replies go to $BATS_TEST_TMPDIR/replies.
live_start() {
	rm -f "$BATS_TEST_TMPDIR/client"
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

# --- smtpd over TCP, and real clients -------------------------------------
# Every server started here sets SERVER_PID, so teardown stops it
# whatever the test did.

# free_port - a loopback TCP port nobody listens on right now.
free_port() {
	free_port_on 127.0.0.1
}

# free_port_on HOST - a TCP port nobody listens on right now at HOST.
free_port_on() {
	client free-port "$1"
}

# have_ipv6_loopback - can a socket be bound to ::1?
have_ipv6_loopback() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}

# start_server [OPTION...] - serve smtpd on 127.0.0.1:$PORT through
# systemd-socket-activate --accept --inetd, one process per connection.
start_server() {
	serve 127.0.0.1 inetd "$@"
}

# serve HOST MODE [OPTION...] - serve smtpd on HOST:$PORT (127.0.0.1 or
# ::1) through systemd-socket-activate --accept.  MODE "inetd" passes the
# connection as stdin/stdout (--inetd), "fds" as fd 3 with LISTEN_FDS=1.
# smtpd's stdout goes to $BATS_TEST_TMPDIR/server.out, its log to $LOG.
serve() {
	local host=$1 mode=$2
	shift 2
	serve_argv "$host" "$mode" "$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@"
}

# serve_argv HOST MODE COMMAND... - serve COMMAND on HOST:$PORT, one
# process per connection, through systemd-socket-activate --accept (MODE
# as for serve); its stdout to $BATS_TEST_TMPDIR/server.out, its stderr
# (the log) to $LOG.  A port someone takes meanwhile: the next one.
serve_argv() {
	local host=$1 mode=$2 try listen
	local inetd=()
	shift 2
	case $mode in
	inetd) inetd=(--inetd) ;;
	fds) ;;
	*) echo "serve: mode is inetd or fds, not '$mode'" >&2; return 2 ;;
	esac
	for try in 1 2 3 4 5; do
		PORT=$(free_port_on "$host")
		if [[ $host == *:* ]]; then listen="[$host]:$PORT"; else listen="$host:$PORT"; fi
		systemd-socket-activate --accept "${inetd[@]}" -l "$listen" "$@" \
			</dev/null >>"$BATS_TEST_TMPDIR/server.out" 2>>"$LOG" 3>&- &
		SERVER_PID=$!
		if wait_port_on "$host" "$PORT"; then
			return 0
		fi
		stop_server
	done
	echo "could not start systemd-socket-activate on $host" >&2
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

# allowed_syscalls SERVICE - the system calls the unit's SystemCallFilter=
# lines allow, one a line: the allow list, less every ~ deny list
# (units.bats, mailbox.bats).
allowed_syscalls() {
	systemd-analyze syscall-filter >"$BATS_TEST_TMPDIR/groups"
	client syscall-filter "$BATS_TEST_TMPDIR/groups" "$1"
}

# assert_confined PID - no_new_privs, one seccomp filter, and the limits
# of sandbox.c (smtpd and pop3d).
assert_confined() {
	local st=/proc/$1/status lim=/proc/$1/limits
	assert_equal "$(awk '$1 == "NoNewPrivs:" {print $2}' "$st")" 1
	assert_equal "$(awk '$1 == "Seccomp:" {print $2}' "$st")" 2
	assert_equal "$(awk '$1 == "Seccomp_filters:" {print $2}' "$st")" 1
	assert_equal "$(grep '^Max core file size' "$lim" | awk '{print $5, $6}')" "0 0"
	assert_equal "$(grep '^Max open files' "$lim" | awk '{print $4, $5}')" "32 32"
	assert_equal "$(grep '^Max processes' "$lim" | awk '{print $3, $4}')" "0 0"
	assert_equal "$(grep '^Max data size' "$lim" | awk '{print $4, $5}')" "268435456 268435456"
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

# smtplib_helo - what Python's smtplib sends in EHLO by default on this
# machine: the FQDN if it has a dot, else an address literal.
smtplib_helo() {
	python3 -c 'import smtplib; print(smtplib.SMTP().local_hostname)'
}

# --- processes at once, peak memory ---------------------------------------

# at_once N DIR COMMAND... - start N copies of COMMAND at the same
# instant: each is forked, waits at a shared barrier, and all are
# released together.  In COMMAND and in $AT_ONCE_STDIN, {i} becomes the
# copy's number (1..N).  Copy i reads $AT_ONCE_STDIN (default /dev/null)
# and writes DIR/out.i and DIR/err.i; DIR/status.i gets its exit status,
# or "timeout" if it was still running after WAIT_LIMIT (then it is
# killed).
at_once() {
	local n=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	client at-once "$n" "$dir" "${AT_ONCE_STDIN:-/dev/null}" "$@"
}

# peak_rss_kib IN OUT COMMAND... - run COMMAND alone, stdin from IN,
# stdout to OUT, stderr appended to $LOG; print its peak resident set
# size in KiB, then its exit status.  GNU time takes the figure from
# wait4(), so it is the child's own.  (Python's getrusage(RUSAGE_CHILDREN)
# cannot be used from a Python parent: Linux carries the parent's peak
# into a child that execs after fork or vfork, so every child of Python
# looks at least as big as Python itself, about 10 MiB, which hides a
# few MiB of growth.)
peak_rss_kib() {
	local in=$1 out=$2 rc=0
	shift 2
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/peak" "$@" <"$in" >"$out" 2>>"$LOG" || rc=$?
	echo "$(tail -n 1 "$BATS_TEST_TMPDIR/peak") $rc"
}

# smtp_rss FILE [OPTION...] - smtp_file under GNU time: sets $status,
# $output and $lines like smtp_file, and $PEAK_KIB to smtpd's own peak
# resident set size (from wait4(), so no parent's pages are counted).
smtp_rss() {
	local file=$1
	shift
	status=0
	/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/peak" \
		"$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@" \
		<"$file" >"$BATS_TEST_TMPDIR/replies" 2>>"$LOG" || status=$?
	PEAK_KIB=$(tail -n 1 "$BATS_TEST_TMPDIR/peak")
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
}

# assert_rss_within BASE PEAK WHAT - PEAK (KiB) is at most 1 MiB over BASE.
# Sanitizer and valgrind runs have their own allocators: the figures mean
# nothing there, so the comparison is skipped (the rest of the test ran).
assert_rss_within() {
	[[ -z ${SANITIZED:-}${VALGRIND:-} ]] || skip "memory is measured on the plain build"
	if (($2 - $1 > 1024)); then
		echo "peak RSS for $3: $2 KiB, $(($2 - $1)) KiB over a tiny session's $1 KiB (limit 1024)"
		return 1
	fi
}

# --- a private Postfix instance as a real client of smtpd -----------------
# The instance lives under $BATS_TEST_TMPDIR/pf: its own config_directory
# (conf), queue_directory (queue), data_directory (data) and log file
# (maillog, written by postlogd, so no syslog is needed).  It relays
# everything to [127.0.0.1]:$PORT, where start_server put smtpd, and logs
# the whole SMTP conversation with that peer (debug_peer_list).  It
# listens on no port: the smtpd inet line of master.cf is commented out.
#
# The system's Postfix (/etc/postfix, no main.cf) is never started,
# stopped or configured: every postfix, postconf, postqueue and sendmail
# command here names this instance's directory.  pf_stop ends this
# instance and then, by process id, whatever still carries its
# MAIL_CONFIG; pf_system_untouched checks the system Postfix is as before.

PF_SYSTEM_CONF=/etc/postfix

# pf_pids - the live processes of this instance: those whose environment
# holds MAIL_CONFIG=$PF_CONF (postfix start exports it to master, and
# master's children inherit it).  Zombies have no readable environment.
pf_pids() {
	[[ -n ${PF_CONF:-} ]] || return 0
	grep -lzxF "MAIL_CONFIG=$PF_CONF" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3
}

# pf_system_state - what must not change about the system Postfix: its
# configuration directory (names, sizes, times) and whether a master
# without a private MAIL_CONFIG runs.
pf_system_state() {
	local d pid comm env
	ls -lA --time-style=full-iso "$PF_SYSTEM_CONF"
	[[ -e $PF_SYSTEM_CONF/main.cf ]] && echo "main.cf exists"
	for d in /proc/[0-9]*; do
		{ read -r comm <"$d/comm"; } 2>/dev/null || continue
		[[ $comm == master ]] || continue
		pid=${d#/proc/}
		[[ $(readlink "/proc/$pid/exe" 2>/dev/null) == */postfix/sbin/master ]] || continue
		env=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" | grep '^MAIL_CONFIG=' || true)
		if [[ -z $env || $env == "MAIL_CONFIG=$PF_SYSTEM_CONF" ]]; then
			echo "the system Postfix runs: master $pid"
		fi
	done
}

# pf_system_untouched - the system Postfix is as pf_setup found it.
pf_system_untouched() {
	local now
	now=$(pf_system_state)
	if [[ $now != "$PF_SYSTEM_BEFORE" ]]; then
		printf 'the system Postfix changed:\nbefore:\n%s\nnow:\n%s\n' "$PF_SYSTEM_BEFORE" "$now"
		return 1
	fi
	[[ ! -e $PF_SYSTEM_CONF/main.cf ]] || { echo "$PF_SYSTEM_CONF/main.cf exists"; return 1; }
	[[ $now != *"the system Postfix runs"* ]] || { echo "$now"; return 1; }
}

# pf_setup - note the system Postfix's state; call from setup().
pf_setup() {
	PF="$BATS_TEST_TMPDIR/pf"
	PF_CONF="$PF/conf"
	PF_LOG="$PF/maillog"
	PF_SYSTEM_BEFORE=$(pf_system_state)
}

# pf_start PORT [MAIN.CF LINE...] - write the instance's configuration,
# relaying to [127.0.0.1]:PORT, check it, start it, and wait until it
# runs.  PF_TLS_LEVEL sets smtp_tls_security_level (default none).
pf_start() {
	local port=$1 i
	shift
	# Postfix's master and postdrop need root for a private instance.
	[[ $(id -u) == 0 ]] || skip "a private Postfix instance needs root"
	mkdir -p "$PF_CONF" "$PF/queue" "$PF/data"
	chown postfix "$PF/data"
	# Postfix's daemons open files by absolute path as user postfix, so
	# it must be able to pass through bats's private (0700) run directory.
	local d=$PF
	while [[ -n ${BATS_RUN_TMPDIR:-} && -n $d && $d == "$BATS_RUN_TMPDIR"* ]]; do
		chmod o+x "$d"
		d=${d%/*}
	done
	sed 's/^smtp[[:space:]]\+inet[[:space:]]/#&/' "$PF_SYSTEM_CONF/master.cf" >"$PF_CONF/master.cf"
	cat >"$PF_CONF/main.cf" <<-EOF
		compatibility_level = 3.6
		myhostname = sender.test
		mydomain = sender.test
		myorigin = sender.test
		mydestination =
		inet_interfaces = loopback-only
		inet_protocols = ipv4
		relayhost = [127.0.0.1]:$port
		smtp_tls_security_level = ${PF_TLS_LEVEL:-none}
		smtputf8_enable = yes
		alias_maps =
		alias_database =
		queue_directory = $PF/queue
		data_directory = $PF/data
		mail_owner = postfix
		setgid_group = postdrop
		maillog_file = $PF_LOG
		maillog_file_prefixes = $PF
		debug_peer_list = 127.0.0.1
		debug_peer_level = 2
		queue_run_delay = 1s
		minimal_backoff_time = 1s
		maximal_backoff_time = 2s
	EOF
	printf '%s\n' "$@" >>"$PF_CONF/main.cf"
	# No chroot: the queue directory has no copy of /etc files.
	postconf -c "$PF_CONF" -F '*/*/chroot = n'
	# The smtpd listener is commented out, and nothing else listens.
	if postconf -c "$PF_CONF" -M | grep -qE '^[^ ]+ +inet '; then
		echo "the instance would listen:"
		postconf -c "$PF_CONF" -M | grep -E '^[^ ]+ +inet '
		return 1
	fi
	if ! postfix -c "$PF_CONF" check; then
		echo "postfix check failed:"
		cat "$PF_LOG" 2>/dev/null
		return 1
	fi
	if grep -E 'warning|fatal|error' "$PF_LOG" 2>/dev/null; then
		echo "postfix check complained"
		return 1
	fi
	postfix -c "$PF_CONF" start >/dev/null 2>&1 || {
		echo "postfix start failed:"
		cat "$PF_LOG" 2>/dev/null
		return 1
	}
	wait_until "the Postfix instance did not start" pf_running && return 0
	cat "$PF_LOG" 2>/dev/null
	return 1
}

pf_running() { postfix -c "$PF_CONF" status >/dev/null 2>&1; }

# pf_stop - stop the instance, wait for it, then kill by process id
# whatever of it is left.  Safe to call when it never started.
pf_stop() {
	local pid left
	[[ -n ${PF_CONF:-} && -e $PF_CONF/main.cf ]] || return 0
	postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
	wait_until "Postfix processes left after stop" eval '[[ -z $(pf_pids) ]]' && return 0
	left=$(pf_pids)
	echo "killed: $left" >&2
	for pid in $left; do
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# pf_sendmail ARG... - Postfix's sendmail for this instance; the message
# on stdin.
pf_sendmail() {
	sendmail -C "$PF_CONF" "$@"
}

# pf_wait_messages N - wait until the database holds N messages and every
# smtpd has exited, flushing the queue every 2 s.
pf_wait_messages() {
	local want=$1 n flushed=$SECONDS end=$((SECONDS + WAIT_LIMIT))
	while ((SECONDS < end)); do
		n=$(q 'SELECT count(*) FROM messages' 2>/dev/null || echo 0)
		if [[ $n == "$want" ]]; then
			server_idle
			return 0
		fi
		if ((SECONDS - flushed >= 2)); then
			postqueue -c "$PF_CONF" -f >/dev/null 2>&1
			flushed=$SECONDS
		fi
		sleep 0.2
	done
	echo "after $WAIT_LIMIT s the database holds $n messages, not $want; Postfix's log says:"
	grep -E 'status=|warning|fatal|error|reject|lost connection' "$PF_LOG" | tail -n 40
	return 1
}

# pf_wait_log TEXT - wait until the instance's log has a line ending in
# TEXT.
pf_wait_log() {
	wait_until "Postfix did not log '$1'" grep -q -- "$1\$" "$PF_LOG"
}

# pf_queue_empty - nothing is left in the instance's queue.
pf_queue_empty() {
	local out
	out=$(postqueue -c "$PF_CONF" -p 2>&1)
	if [[ $out != "Mail queue is empty" ]]; then
		echo "queue:"
		echo "$out"
		return 1
	fi
}

# pf_queue_id FROM - the queue id pickup gave the message from FROM.
pf_queue_id() {
	sed -n "s/.* postfix\/pickup\[[0-9]*\]: \([0-9A-F]*\): uid=0 from=<$1>\$/\1/p" "$PF_LOG" | tail -n 1
}

# pf_conversation - the SMTP conversation with smtpd as the instance
# logged it: "> LINE" sent, "< LINE" received, in order.
pf_conversation() {
	sed -n 's/.* postfix\/smtp\[[0-9]*\]: \([<>]\) 127\.0\.0\.1\[127\.0\.0\.1\]:[0-9]*: \(.*\)$/\1 \2/p' "$PF_LOG"
}

# pf_assert_body ID QID FILE - message ID's body is: smtpd's trace headers
# (trace_of), then the Received: header Postfix's pickup adds for queue
# id QID, then FILE (the message as submitted) with LF turned into CR LF.
pf_assert_body() {
	trace_of "$1" >"$BATS_TEST_TMPDIR/trace.$1"
	body_to "$1" "$BATS_TEST_TMPDIR/got.$1"
	client postfix-body "$BATS_TEST_TMPDIR/trace.$1" "$2" "$3" "$BATS_TEST_TMPDIR/got.$1"
}
