# tests/fault_helpers.bash - for hostile.bats and faults.bats: a teardown
# that stops everything a test started (servers and the smtpd processes
# they spawned, background helpers, mounts), peak memory with GNU time,
# and database checks that tolerate a concurrent writer.  Load after
# helpers.
#
# A test that starts a background process registers it with track_pid;
# one that mounts a file system registers the mount point with
# track_mount.  fault_teardown undoes both even when the test failed.

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

# qt SQL - like q, but waits (WAIT_LIMIT) for a lock held by a writer.
qt() {
	sqlite3 -batch -cmd ".timeout $((WAIT_LIMIT * 1000))" "$DB" "$@"
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

# replies_from FILE - load a raw reply transcript into $output and $lines.
replies_from() {
	output=$(tr -d '\r' <"$1")
	mapfile -t lines <<<"$output"
}

# last_line - the last reply line.
last_line() {
	printf '%s' "${lines[${#lines[@]} - 1]}"
}

# reply_line N - the last line of the Nth reply (from 0), so that a
# multi-line reply such as EHLO's counts once.
reply_line() {
	local l n=0
	for l in "${lines[@]}"; do
		[[ $l =~ ^[0-9]{3}- ]] && continue
		if ((n == $1)); then
			printf '%s' "$l"
			return 0
		fi
		n=$((n + 1))
	done
	return 1
}
