#!/usr/bin/env bats
# The in-process sandbox (sandbox.c).  tests/sandbox-probe applies the
# policy smtpd applies, from the same sandbox.c, then tries one thing it
# forbids and prints the errno, or is killed by SIGSYS (status 159).
# Then a real smtpd, over TCP through systemd-socket-activate and as the
# checkpointer, is looked at from /proc while it runs, and takes mail
# (a 25 MiB message through the spool, syslog over AF_UNIX).

load helpers

PROBE="$REPO/tests/sandbox-probe"
SIGSYS_STATUS=159

setup_file() {
	make -s -C "$REPO" tests/sandbox-probe >&2
}

setup() {
	common_setup
	KEEPER_PID=""
	mkdir -p "$BATS_TEST_TMPDIR/db" "$BATS_TEST_TMPDIR/spool" "$BATS_TEST_TMPDIR/elsewhere"
	DB="$BATS_TEST_TMPDIR/db/mail.db"
	export TMPDIR="$BATS_TEST_TMPDIR/spool"
	printf 'kept\n' >"$BATS_TEST_TMPDIR/db/file"
	printf 'secret\n' >"$BATS_TEST_TMPDIR/elsewhere/file"
}

teardown() {
	if [[ -n $KEEPER_PID ]]; then
		kill "$KEEPER_PID" 2>/dev/null || true
		wait "$KEEPER_PID" 2>/dev/null || true
	fi
	net_teardown
	common_teardown
}

# probe [--exec PROGRAM [--exec-read PATH]...] OP [ARG...] - run the
# probe with smtpd's policy for $DB and $TMPDIR.
probe() {
	run "$PROBE" --db "$DB" --spool "$TMPDIR" "$@"
}

# needs_landlock - skip, with the reason, on a kernel without Landlock.
needs_landlock() {
	local abi
	abi=$("$PROBE" landlock-abi)
	[[ $abi -gt 0 ]] || skip "this kernel has no Landlock"
}

# needs_sandboxed_smtpd - skip for builds made without the sandbox.
needs_sandboxed_smtpd() {
	[[ -z ${SANITIZED:-}${VALGRIND:-} ]] || skip "the sanitizer and valgrind builds have no sandbox"
}

# assert_killed - the probe was killed by the seccomp filter.
assert_killed() {
	if [[ $status != "$SIGSYS_STATUS" ]]; then
		printf 'expected death by SIGSYS (status %s), got status %s, output: %s\n' \
			"$SIGSYS_STATUS" "$status" "$output"
		return 1
	fi
}

# session_pid - the one smtpd that the server started for a connection.
session_pid() {
	local kids
	wait_until "the server started no smtpd" eval '[[ -n $(server_children) ]]' || true
	kids=$(server_children)
	[[ $kids =~ ^[0-9]+\ *$ ]] || { echo "expected one smtpd, found: '$kids'" >&2; return 1; }
	echo "${kids// /}"
}

@test "after the policy, /etc/passwd cannot be opened" {
	needs_landlock
	probe read /etc/passwd
	assert_equal "$status" 0
	assert_equal "$output" EACCES
}

@test "files outside the database's directory and the spool can be neither read nor written" {
	needs_landlock
	probe read "$BATS_TEST_TMPDIR/elsewhere/file"
	assert_equal "$output" EACCES
	probe write "$BATS_TEST_TMPDIR/elsewhere/new"
	assert_equal "$output" EACCES
	probe write "$BATS_TEST_TMPDIR/beside-the-db-dir"
	assert_equal "$output" EACCES
	probe tmpfile "$BATS_TEST_TMPDIR/elsewhere"
	assert_equal "$output" EACCES
	[[ ! -e $BATS_TEST_TMPDIR/elsewhere/new && ! -e $BATS_TEST_TMPDIR/beside-the-db-dir ]]
}

@test "the database's directory stays readable and writable, the spool takes unlinked files" {
	probe read "$BATS_TEST_TMPDIR/db/file"
	assert_equal "$output" ok
	probe write "$BATS_TEST_TMPDIR/db/new"
	assert_equal "$output" ok
	assert_equal "$(cat "$BATS_TEST_TMPDIR/db/new")" x
	probe tmpfile "$TMPDIR"
	assert_equal "$output" ok
}

@test "execve of any program kills the process" {
	probe exec /bin/true
	assert_killed
	probe exec "$SMTPD" --version
	assert_killed
}

@test "socket(AF_INET), AF_INET6 and AF_NETLINK fail with EPERM; AF_UNIX, for logging, works" {
	probe socket inet
	assert_equal "$output" EPERM
	probe socket inet6
	assert_equal "$output" EPERM
	probe socket netlink
	assert_equal "$output" EPERM
	probe socket unix
	assert_equal "$output" ok
}

@test "ptrace, fork, a thread, a new namespace, executable memory, kill and memfd_create each kill the process" {
	local op
	for op in ptrace fork thread unshare mmap-exec "kill 1" memfd; do
		probe $op
		echo "# $op" >&2
		assert_killed
	done
}

@test "with exec_path, the helper (a dynamic program) runs through socketpair, fork, dup2, execve and wait4" {
	probe --exec /usr/bin/true spawn /usr/bin/true
	assert_equal "$output" "exit 0"
	probe --exec /usr/bin/false spawn /usr/bin/false
	assert_equal "$output" "exit 1"
}

@test "with exec_path, every other program fails with EACCES" {
	needs_landlock
	probe --exec /usr/bin/true spawn /usr/bin/false
	assert_equal "$output" EACCES
	probe --exec /usr/bin/true spawn /bin/sh -c true
	assert_equal "$output" EACCES
	probe --exec /usr/bin/true exec /bin/sh -c true
	assert_equal "$output" EACCES
	probe --exec /usr/bin/true spawn "$SMTPD" --version
	assert_equal "$output" EACCES
}

@test "with exec_path, the helper inherits the confinement; exec_read lets it read its files" {
	needs_landlock
	# head exits 1 when it cannot open the file, 0 when it could.
	probe --exec /usr/bin/head spawn /usr/bin/head -c 1 /etc/passwd
	assert_equal "$output" "/usr/bin/head: cannot open '/etc/passwd' for reading: Permission denied"$'\n'"exit 1"
	probe --exec /usr/bin/head spawn /usr/bin/head -c 1 "$BATS_TEST_TMPDIR/elsewhere/file"
	assert_equal "${lines[1]}" "exit 1"
	probe --exec /usr/bin/head --exec-read "$BATS_TEST_TMPDIR/elsewhere/file" \
		spawn /usr/bin/head -c 1 "$BATS_TEST_TMPDIR/elsewhere/file"
	assert_equal "$output" "exit 0"
	probe --exec /usr/bin/head spawn /usr/bin/head -c 1 "$BATS_TEST_TMPDIR/db/file"
	assert_equal "$output" "exit 0"
	# A missing file (a certificate not there yet) is skipped, not an error.
	probe --exec /usr/bin/head --exec-read "$BATS_TEST_TMPDIR/elsewhere/none" \
		spawn /usr/bin/head -c 1 "$BATS_TEST_TMPDIR/elsewhere/none"
	assert_equal "$status" 0
	assert_equal "${lines[1]}" "exit 1"
}

@test "with exec_path, sockets other than AF_UNIX, /etc/passwd, threads, namespaces and ptrace stay forbidden" {
	probe --exec /usr/bin/true socket inet
	assert_equal "$output" EPERM
	probe --exec /usr/bin/true socket unix
	assert_equal "$output" ok
	probe --exec /usr/bin/true thread
	assert_killed
	probe --exec /usr/bin/true unshare
	assert_killed
	probe --exec /usr/bin/true ptrace
	assert_killed
	needs_landlock
	probe --exec /usr/bin/true read /etc/passwd
	assert_equal "$output" EACCES
}

@test "a policy whose database directory does not exist is refused with the reason, and the caller stops" {
	run "$PROBE" --db "$BATS_TEST_TMPDIR/missing/mail.db" --spool "$TMPDIR" socket unix
	needs_landlock
	assert_equal "$status" 2
	assert_equal "$output" "sandbox-probe: $BATS_TEST_TMPDIR/missing: No such file or directory"
}

@test "an exec_path that is missing or not an ELF program is refused with the reason, and the caller stops" {
	needs_landlock
	printf '#!/bin/sh\necho hi\n' >"$BATS_TEST_TMPDIR/script"
	chmod 755 "$BATS_TEST_TMPDIR/script"
	run "$PROBE" --db "$DB" --spool "$TMPDIR" --exec "$BATS_TEST_TMPDIR/script" socket unix
	assert_equal "$status" 2
	assert_equal "$output" "sandbox-probe: $BATS_TEST_TMPDIR/script: Exec format error"
	run "$PROBE" --db "$DB" --spool "$TMPDIR" --exec "$BATS_TEST_TMPDIR/missing" socket unix
	assert_equal "$status" 2
	assert_equal "$output" "sandbox-probe: $BATS_TEST_TMPDIR/missing: No such file or directory"
}

@test "smtpd confines itself after it opens the database and before it reads the client's first byte" {
	needs_sandboxed_smtpd
	printf 'QUIT\r\n' >"$BATS_TEST_TMPDIR/in"
	strace -o "$BATS_TEST_TMPDIR/trace" -e trace=openat,read,prctl,landlock_restrict_self \
		"$SMTPD" --db "$DB" --hostname mx.test --log stderr \
		<"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/replies" 2>>"$LOG"
	assert_equal "$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")" $'220 mx.test ESMTP ready\n221 2.0.0 mx.test closing connection'
	local t="$BATS_TEST_TMPDIR/trace" db landlock seccomp first_read
	db=$(grep -n "openat(.*\"$DB\"" "$t" | head -1 | cut -d: -f1)
	landlock=$(grep -n '^landlock_restrict_self(' "$t" | cut -d: -f1)
	seccomp=$(grep -n '^prctl(PR_SET_SECCOMP' "$t" | cut -d: -f1)
	first_read=$(grep -n '^read(0,' "$t" | head -1 | cut -d: -f1)
	echo "database opened at line $db, Landlock $landlock, seccomp $seccomp, first read $first_read"
	[[ -n $db && -n $landlock && -n $seccomp && -n $first_read ]]
	((db < landlock && landlock < seccomp && seccomp < first_read))
}

@test "a running smtpd over TCP has no_new_privs, the seccomp filter and the limits, and takes mail" {
	needs_sandboxed_smtpd
	serve 127.0.0.1 inetd
	local c greeting reply pid
	exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
	read -r -t 10 greeting <&"$c"
	assert_equal "$greeting" $'220 mx.test ESMTP ready\r'
	pid=$(session_pid)
	assert_equal "$(readlink "/proc/$pid/exe")" "$SMTPD"
	assert_confined "$pid"
	printf 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nSubject: s\r\n\r\nsandboxed\r\n.\r\nQUIT\r\n' >&"$c"
	output=$(timeout 10 cat <&"$c" | tr -d '\r')
	exec {c}>&-
	mapfile -t lines <<<"$output"
	assert_codes 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	server_idle
	assert_body 1 'Subject: s\r\n\r\nsandboxed\r\n'
}

@test "a 25 MiB message goes through the spool and is stored byte for byte with the sandbox on" {
	serve 127.0.0.1 inetd
	local c greeting data="$BATS_TEST_TMPDIR/data"
	# 25,000,000 bytes of 77-byte lines: no dots, CR LF ends.
	base64 -w 75 </dev/urandom | head -n 324676 | sed 's/$/\r/' >"$data"
	exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
	read -r -t 10 greeting <&"$c"
	assert_equal "$greeting" $'220 mx.test ESMTP ready\r'
	{
		printf 'EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n'
		cat "$data"
		printf '.\r\nQUIT\r\n'
	} >&"$c"
	output=$(timeout 60 cat <&"$c" | tr -d '\r')
	exec {c}>&-
	mapfile -t lines <<<"$output"
	assert_codes 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	server_idle
	assert_body_file 1 "$data"
}

@test "the checkpointer runs confined, checkpoints a session's commit, and stops on SIGTERM" {
	needs_sandboxed_smtpd
	"$SMTPD" --checkpointer --db "$DB" --log stderr 2>>"$LOG" &
	KEEPER_PID=$!
	wait_until "the checkpointer did not start" grep -q "checkpointer started" "$LOG"
	assert_confined "$KEEPER_PID"
	smtp 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n'
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	kill -TERM "$KEEPER_PID"
	wait "$KEEPER_PID" || status=$?
	KEEPER_PID=""
	assert_equal "${status:-0}" 0
	grep -q "checkpointer stopped" "$LOG"
	! grep -q "checkpoint failed" "$LOG"
	# The final checkpoint emptied the WAL into the database file.
	assert_equal "$(stat -c %s "$DB-wal")" 0
	assert_body 1 'hi\r\n'
}

@test "syslog over AF_UNIX works from inside the sandbox" {
	printf 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n' \
		>"$BATS_TEST_TMPDIR/input"
	status=0
	# A private /dev with our listener at /dev/log; nothing outside changes.
	unshare -m sh -c '
		mount -t tmpfs tmpfs /dev || exit 97
		mknod -m 666 /dev/null c 1 3 || exit 97
		python3 "$1" syslog-listen "$2" "$3" & listener=$!
		while [ ! -e "$3" ] && kill -0 $listener; do sleep 0.05; done
		shift 3
		"$@" <"$BATS_TEST_TMPDIR/input" >"$BATS_TEST_TMPDIR/replies"
		rc=$?
		wait $listener
		exit $rc' sh "$REPO/tests/smtpclient.py" "$BATS_TEST_TMPDIR/syslog" "$BATS_TEST_TMPDIR/ready" \
		"$SMTPD" --db "$DB" --hostname mx.test --log syslog 2>>"$LOG" || status=$?
	[[ $status != 97 ]] || skip "this machine does not allow mounts in a namespace"
	assert_equal "$status" 0
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	grep -q 'smtpd\[[0-9]*\]: message accepted .* id=1' "$BATS_TEST_TMPDIR/syslog"
	grep -q 'smtpd\[[0-9]*\]: disconnect ' "$BATS_TEST_TMPDIR/syslog"
	assert_body 1 'hi\r\n'
}

@test "with --log syslog and no syslog daemon, glibc reconnecting for each line (socket, connect) is allowed" {
	smtp 'EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n' --log syslog
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	assert_body 1 'hi\r\n'
}
