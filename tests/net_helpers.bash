# tests/net_helpers.bash - for the TCP, memory and race tests: servers on
# any loopback address and in either socket-passing mode, processes
# started all at once, a child's peak memory.  Load after helpers.
#
# Every server started here sets SERVER_PID like start_server does, so
# net_teardown (or common_teardown) stops it whatever the test did.

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

# free_port_on HOST - a TCP port nobody listens on right now at HOST.
free_port_on() {
	client free-port "$1"
}

# have_ipv6_loopback - can a socket be bound to ::1?
have_ipv6_loopback() {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null
}

# serve HOST MODE [OPTION...] - serve smtpd on HOST:$PORT (127.0.0.1 or
# ::1) through systemd-socket-activate --accept.  MODE "inetd" passes the
# connection as stdin/stdout (--inetd), "fds" as fd 3 with LISTEN_FDS=1.
# smtpd's stdout goes to $BATS_TEST_TMPDIR/server.out, its log to $LOG.
serve() {
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
		systemd-socket-activate --accept "${inetd[@]}" -l "$listen" \
			"$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@" \
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

# smtplib_helo - what Python's smtplib sends in EHLO by default on this
# machine: the FQDN if it has a dot, else an address literal.
smtplib_helo() {
	python3 -c 'import smtplib; print(smtplib.SMTP().local_hostname)'
}

# rcpts_of ID - message ID's recipients in RCPT order, space-separated.
rcpts_of() {
	q "SELECT group_concat(address, ' ') FROM (SELECT address FROM recipients
	   WHERE message_id = $1 ORDER BY position)"
}

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
