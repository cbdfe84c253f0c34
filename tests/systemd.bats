#!/usr/bin/env bats
# The units under a real systemd: one container (scripts/container) boots
# systemd as PID 1 for the whole file, make install puts smtpd and the
# units into it as the README says, and smtpd.socket is enabled and
# started with one drop-in that moves it from port 25 to a free loopback
# port.  The container shares the host's network, so the tests talk to it
# over real TCP; they look at the database, the journal and /proc inside.
#
# A machine that cannot boot a container (not root, no systemd-nspawn, a
# kernel without the namespaces) skips every test, saying why.

load helpers

# in_c CMD... - run CMD inside the container, as root.
in_c() {
	"$REPO/scripts/container" exec "$C_DIR" "$@"
}

# The container's state lives outside bats' own temporary directory,
# which bats removes when it is killed: a watcher started here takes the
# container down if bats dies before teardown_file runs.
setup_file() {
	MACHINE="smtpd-test-$$-$RANDOM"
	C_DIR=$(mktemp -d "/tmp/$MACHINE.XXXXXX")
	export C_DIR MACHINE
	local rc=0 reason
	reason=$("$REPO/scripts/container" up "$C_DIR" "$MACHINE" "$REPO" 2>&1) || rc=$?
	# This bats (1.8) cannot skip from setup_file: each test skips, in
	# setup, with the reason.
	if [[ $rc == 77 ]]; then
		rm -rf "$C_DIR"
		export CANNOT_BOOT="${reason#container: }"
		return 0
	fi
	if [[ $rc != 0 ]]; then
		rm -rf "$C_DIR"
		echo "$reason" >&2
		return 1
	fi
	setsid "$REPO/scripts/container" watch "$C_DIR" "$BATS_ROOT_PID" \
		</dev/null >/dev/null 2>&1 3>&- &
	# From here on a failure must still tear the container down, whether
	# or not this bats runs teardown_file after a failed setup_file.
	install_and_start || {
		"$REPO/scripts/container" down "$C_DIR" && rm -rf "$C_DIR"
		return 1
	}
}

# install_and_start - make install into the container, a drop-in for a
# free port, systemctl enable --now smtpd.socket.  Exports PORT.
install_and_start() {
	in_c sh -c 'cd /src && make -s install PREFIX=/opt/smtpd UNITDIR=/etc/systemd/system' \
		>&2 || return 1
	PORT=$(free_port_on 127.0.0.1)
	export PORT
	in_c mkdir -p /etc/systemd/system/smtpd.socket.d || return 1
	printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:%s\n' "$PORT" |
		in_c tee /etc/systemd/system/smtpd.socket.d/test-port.conf >/dev/null || return 1
	in_c systemctl daemon-reload || return 1
	in_c systemctl enable --now smtpd.socket >&2 || return 1
	wait_port_on 127.0.0.1 "$PORT" || {
		in_c systemctl status smtpd.socket >&2
		return 1
	}
	# wait_port_on's probe was a connection: let its instance end.
	no_instances
}

teardown_file() {
	[[ -n ${C_DIR:-} && -d $C_DIR ]] || return 0
	"$REPO/scripts/container" down "$C_DIR" && rm -rf "$C_DIR"
}

setup() {
	[[ -z ${CANNOT_BOOT:-} ]] || skip "$CANNOT_BOOT"
	common_setup
	CLIENTS_PID=""
}

teardown() {
	if [[ -n $CLIENTS_PID ]]; then
		kill "$CLIENTS_PID" 2>/dev/null || true
		wait "$CLIENTS_PID" 2>/dev/null || true
	fi
	common_teardown
}

# q SQL - query the database inside the container, as helpers' q does.
q() {
	in_c sqlite3 -batch -cmd '.timeout 5000' /var/lib/smtpd/mail.db "$@"
}

# body_to ID FILE - message ID's body, written inside the container and
# copied out through its root directory.
body_to() {
	q "SELECT writefile('/run/body.$1', body) FROM messages WHERE id = $1" >/dev/null
	cp "/proc/$("$REPO/scripts/container" leader "$C_DIR")/root/run/body.$1" "$2"
}

# instances - the smtpd@ instances loaded now, one a line.
instances() {
	in_c systemctl list-units --plain --no-legend --all 'smtpd@*.service' | awk '{ print $1 }'
}

# no_instances - wait until no session instance is left (10 s).
no_instances() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -z $(instances) ]] && return 0
		sleep 0.05
	done
	echo "instances still there after 10 s: $(instances)" >&2
	return 1
}

# hold N FILE - open N connections to $PORT in the background, one after
# another; for each, FILE gets the greeting line, or "closed" when the
# server closed it without one.  The connections stay open until the
# process is killed.  Sets CLIENTS_PID.
hold() {
	python3 - "$PORT" "$1" "$2" <<'PY' &
import os, socket, sys, time
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
held = []
with open(out + ".tmp", "w") as f:
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), 10)
        line = s.makefile("rb").readline().decode(errors="replace").rstrip("\r\n")
        f.write((line or "closed") + "\n")
        held.append(s)
os.rename(out + ".tmp", out)
time.sleep(120)
PY
	CLIENTS_PID=$!
	local i
	for ((i = 0; i < 400; i++)); do
		[[ -e $2 ]] && return 0
		kill -0 "$CLIENTS_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "the clients did not finish connecting" >&2
	return 1
}

@test "a message sent over TCP to the installed socket is stored byte for byte" {
	printf 'Subject: under systemd\r\n\r\n.leading dot\r\nline two\r\n' >"$BATS_TEST_TMPDIR/data"
	run python3 - "$PORT" "$BATS_TEST_TMPDIR/data" <<'PY'
import smtplib, sys
s = smtplib.SMTP(local_hostname="client.example", timeout=10)
code, greeting = s.connect("127.0.0.1", int(sys.argv[1]))
assert code == 220, (code, greeting)
print(greeting.split()[0].decode())  # the server's name
s.sendmail("sender@example.org", ["rcpt@example.com"], open(sys.argv[2], "rb").read())
s.quit()
PY
	echo "$output"
	assert_equal "$status" 0
	local host=$output want="$BATS_TEST_TMPDIR/want" got="$BATS_TEST_TMPDIR/got"
	no_instances
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	assert_equal "$(q "SELECT helo || '|' || client_addr || '|' || protocol FROM messages")" \
		"client.example|127.0.0.1|ESMTP"
	assert_equal "$(q 'SELECT address FROM recipients WHERE message_id = 1')" rcpt@example.com
	# trace_of writes the headers of a server named mx.test; this one
	# calls itself what its greeting said.
	{
		trace_of 1 | sed "s/^\tby mx\.test with/\tby $host with/"
		cat "$BATS_TEST_TMPDIR/data"
	} >"$want"
	body_to 1 "$got"
	cmp "$want" "$got" || {
		diff <(od -c "$want") <(od -c "$got") | head -20
		return 1
	}
	assert_equal "$(q 'SELECT size FROM messages WHERE id = 1')" "$(stat -c %s "$want")"
}

@test "the session's lines are in the container's journal with their SMTPD_ fields" {
	run python3 - "$PORT" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="journal.example", timeout=10) as s:
    s.sendmail("j@example.org", ["k@example.com"], b"Subject: j\r\n\r\njournal\r\n")
PY
	assert_equal "$status" 0
	no_instances
	in_c journalctl --sync
	in_c journalctl -o json --no-pager SYSLOG_IDENTIFIER=smtpd SMTPD_HELO=journal.example \
		>"$BATS_TEST_TMPDIR/entries"
	python3 - "$BATS_TEST_TMPDIR/entries" <<'PY'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
for e in entries:
    print(e.get("_SYSTEMD_UNIT"), e.get("MESSAGE"))
msgs = [e for e in entries if e["MESSAGE"].startswith("message accepted ")]
ends = [e for e in entries if e["MESSAGE"].startswith("disconnect ")]
assert len(msgs) == 1 and len(ends) == 1, "one accepted message and one disconnect"
m, d = msgs[0], ends[0]
want = {"SMTPD_CLIENT": "127.0.0.1", "SMTPD_FROM": "j@example.org", "SMTPD_RCPT": "k@example.com",
        "SMTPD_REPLY": "250", "SMTPD_DSN": "2.0.0", "PRIORITY": "6", "SYSLOG_FACILITY": "2"}
for k, v in want.items():
    assert m.get(k) == v, f"{k} is {m.get(k)!r}, not {v!r}"
assert d.get("SMTPD_END") == "quit" and d.get("SMTPD_MESSAGES") == "1", d
# Both from the same instance of smtpd@.service, started by the socket.
assert m["_SYSTEMD_UNIT"].startswith("smtpd@") and m["_SYSTEMD_UNIT"] == d["_SYSTEMD_UNIT"]
assert m["_SYSTEMD_INVOCATION_ID"] == d["_SYSTEMD_INVOCATION_ID"]
PY
}

@test "smtpd-checkpointer.service is active, running smtpd --checkpointer" {
	assert_equal "$(in_c systemctl is-active smtpd-checkpointer.service)" active
	local pid
	pid=$(in_c systemctl show -p MainPID --value smtpd-checkpointer.service)
	((pid > 0))
	assert_equal "$(in_c cat "/proc/$pid/cmdline" | tr '\0' ' ')" \
		"/opt/smtpd/sbin/smtpd --checkpointer --db /var/lib/smtpd/mail.db "
}

@test "MaxConnectionsPerSource: the connection over the limit is closed without a greeting" {
	local max
	max=$(in_c systemctl show -p MaxConnectionsPerSource --value smtpd.socket)
	((max > 0 && max < 50))
	hold $((max + 1)) "$BATS_TEST_TMPDIR/greetings"
	cat "$BATS_TEST_TMPDIR/greetings"
	assert_equal "$(grep -c '^220 .* ESMTP' "$BATS_TEST_TMPDIR/greetings")" "$max"
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/greetings")" closed
	assert_equal "$(instances | wc -l)" "$max"
	in_c journalctl --sync
	# systemd counts the connection it drops: "(11)" for a limit of 10.
	in_c journalctl -u smtpd.socket --no-pager >"$BATS_TEST_TMPDIR/socket.log"
	grep -qE "smtpd.socket: Too many incoming connections \($((max + 1))\) from source 127\.0\.0\.1, dropping" \
		"$BATS_TEST_TMPDIR/socket.log"
	kill "$CLIENTS_PID"
	wait "$CLIENTS_PID" || true
	CLIENTS_PID=""
	no_instances
}

# status_of PID FIELD - a field of /proc/PID/status inside the container.
status_of() {
	# (No awk inside: it is a link through /etc/alternatives.)
	in_c cat "/proc/$1/status" | awk -v f="$2:" '$1 == f { print $2 }'
}

# systemd-nspawn filters system calls for the whole container, so every
# process in it shows "Seccomp: 2": what tells smtpd's own filter apart
# is the count of filters stacked on the process.  An instance of the
# lean unit, which asks systemd for no filter (tests/units.bats keeps it
# so), starts with exactly PID 1's.
@test "the in-process sandbox is on in a session instance: no_new_privs and a filter of its own" {
	shopt -s extglob
	hold 1 "$BATS_TEST_TMPDIR/greetings"
	grep -q '^220 ' "$BATS_TEST_TMPDIR/greetings"
	local unit pid base own
	unit=$(instances)
	[[ -n $unit ]]
	pid=$(in_c systemctl show -p MainPID --value "$unit")
	((pid > 0))
	[[ $(in_c systemctl show -p SystemCallFilter --value "$unit") == ?(\~) ]]
	assert_equal "$(status_of "$pid" NoNewPrivs)" 1
	assert_equal "$(status_of "$pid" Seccomp)" 2
	base=$(status_of 1 Seccomp_filters)
	own=$(status_of "$pid" Seccomp_filters)
	[[ -n $base && -n $own ]]
	if ((own <= base)); then
		echo "smtpd ($unit, pid $pid) has $own seccomp filters, as many as PID 1 ($base):" \
			"it did not sandbox itself (is branch sandbox merged?)"
		return 1
	fi
}

# The drop-in's system-call filter and namespaces around smtpd's own
# sandbox: both must let a session through.
@test "with the documented smtpd-hardened.conf drop-in, a session still stores its message" {
	local dropin=/etc/systemd/system/smtpd@.service.d/hardened.conf
	in_c mkdir -p "${dropin%/*}"
	in_c cp /opt/smtpd/share/doc/smtpd/smtpd-hardened.conf "$dropin"
	in_c systemctl daemon-reload
	local before
	before=$(q 'SELECT count(*) FROM messages')
	run python3 - "$PORT" <<'PY'
import smtplib, sys
with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), local_hostname="hardened.example", timeout=10) as s:
    s.sendmail("h@example.org", ["i@example.com"], b"Subject: h\r\n\r\nhardened\r\n")
PY
	echo "$output"
	in_c rm -r "${dropin%/*}"
	in_c systemctl daemon-reload
	assert_equal "$status" 0
	no_instances
	assert_equal "$(q 'SELECT count(*) FROM messages')" $((before + 1))
	assert_equal "$(q "SELECT helo FROM messages ORDER BY id DESC LIMIT 1")" hardened.example
	# The instance ended cleanly: no failure (and no SIGSYS) logged.
	in_c journalctl --sync
	run in_c journalctl --no-pager -o cat -u 'smtpd@*' --grep 'SIGSYS|Failed with result|core-dump'
	assert_equal "$output" ""
}

@test "systemctl stop smtpd.socket ends every session and the checkpointer" {
	hold 1 "$BATS_TEST_TMPDIR/greetings"
	grep -q '^220 ' "$BATS_TEST_TMPDIR/greetings"
	[[ -n $(in_c pgrep -x smtpd) ]]
	in_c systemctl stop smtpd.socket
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -z $(in_c pgrep -x smtpd) ]] && break
		sleep 0.05
	done
	run in_c pgrep -a -x smtpd
	assert_equal "$output" ""
	assert_equal "$(in_c systemctl is-active smtpd.socket)" inactive
	# Nothing listens any more.
	run listening_on "$PORT"
	assert_equal "$status" 1
}

# listening_on PORT - whether a socket listens on 127.0.0.1:PORT (from
# /proc, without connecting).
listening_on() {
	grep -q "^ *[0-9]*: 0100007F:$(printf %04X "$1") 00000000:0000 0A " /proc/net/tcp
}
