# tests/postfix_helpers.bash - a private Postfix instance as a real SMTP
# client of smtpd.  Load after helpers and net_helpers.
#
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
# runs.
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
		smtp_tls_security_level = none
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
