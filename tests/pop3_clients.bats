#!/usr/bin/env bats
# pop3d over real TCP on loopback (systemd-socket-activate, one process
# per connection) with real clients: Python's poplib, curl, fetchmail,
# mpop and getmail6; and the maildrop lock between two connections.

load helpers
load pop3_helpers

setup() {
	pop3_setup
	add_account alice 'open sesame' alice@example.com
	add_account bob 'bob pw' bob@example.com
	deliver alice@example.com 'Subject: first\r\n\r\nhello alice\r\n'
	deliver 'alice@example.com bob@example.com' 'Subject: shared\r\n\r\n..a dot line\r\nfor both\r\n'
	# 100 kB in lines of 78 octets: RFC 5322's limit is 998, and fetchmail
	# breaks longer lines.
	local line i big=""
	line="$(pad 76 q)\r\n"
	for ((i = 0; i < 1300; i++)); do big+=$line; done
	deliver alice@example.com "Subject: large\r\n\r\n${big}..end\r\n"
	HOLDER_PID=""
}
teardown() {
	if [[ -n $HOLDER_PID ]]; then
		exec 7>&- 2>/dev/null || true
		kill "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	net_teardown
	common_teardown
}

# body_lf ID - message ID's body with CR LF as LF, as Unix tools keep it.
body_lf() {
	body_to "$1" "$BATS_TEST_TMPDIR/body.$1"
	sed 's/\r$//' "$BATS_TEST_TMPDIR/body.$1"
}

@test "a running pop3d is confined as smtpd is: no_new_privs, the seccomp filter and the limits; RETR and DELE work" {
	[[ -z ${SANITIZED:-}${VALGRIND:-} ]] || skip "the sanitizer and valgrind builds have no sandbox"
	serve_pop3
	local c greeting pid size want
	size=$(q 'SELECT size FROM messages WHERE id = 1')
	want=$(body_lf 1)
	exec {c}<>"/dev/tcp/127.0.0.1/$PORT"
	read -r -t 10 greeting <&"$c"
	assert_equal "$greeting" $'+OK pop.test POP3 ready\r'
	# The greeting comes after the sandbox (pop3d.c): it is in place now.
	wait_until "the server started no pop3d" eval '[[ -n $(server_children) ]]'
	pid=$(server_children)
	pid=${pid// /}
	assert_equal "$(readlink "/proc/$pid/exe")" "$(readlink -f "$POP3D")"
	assert_confined "$pid"
	printf 'USER alice\r\nPASS open sesame\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n' >&"$c"
	output=$(timeout 10 cat <&"$c" | tr -d '\r')
	exec {c}>&-
	mapfile -t lines <<<"$output"
	assert_equal "${lines[0]}" "+OK Send the password"
	assert_equal "${lines[1]}" "+OK Logged in, 3 messages ($(q 'SELECT sum(size) FROM messages') octets)"
	assert_equal "${lines[2]}" "+OK $size octets"
	assert_equal "$(printf '%s\n' "${lines[@]:3:${#lines[@]}-6}")" "$want"
	assert_equal "${lines[-3]}" "."
	assert_equal "${lines[-2]}" "+OK Message 1 deleted"
	assert_equal "${lines[-1]}" "+OK pop.test closing connection, 1 deleted"
	server_idle
	assert_equal "$(q "SELECT s.message_id, s.deleted_at IS NOT NULL FROM mailbox_state s JOIN accounts a ON a.id = s.account_id WHERE a.name = 'alice'")" "1|1"
}

@test "poplib: CAPA, STAT, LIST, UIDL, RETR and TOP 0 of every message, equal to the database" {
	serve_pop3
	run python3 "$POP3PY" poplib 127.0.0.1 "$PORT" alice 'open sesame' "$DB"
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$output" "3 messages, $(q "SELECT sum(length(body)) FROM messages") octets, all equal"
	run python3 "$POP3PY" poplib 127.0.0.1 "$PORT" bob 'bob pw' "$DB"
	assert_equal "$status" 0
	assert_equal "$output" "1 messages, $(q "SELECT length(body) FROM messages WHERE id = 2") octets, all equal"
	server_idle
	grep -q 'pop3d\[[0-9]*\]: login client=127.0.0.1 user=alice tls=no$' "$LOG"
	grep -q "user=alice retr=3/$(q "SELECT sum(length(body)) FROM messages") top=3/" "$LOG"
}

@test "curl pop3://: LIST, RETR, UIDL, TOP 1 0 and DELE (AUTH PLAIN with the response on its own line)" {
	serve_pop3
	local url="pop3://127.0.0.1:$PORT" uv
	uv=$(printf '%08x' "$(q "SELECT value FROM meta WHERE name = 'uidvalidity'")")
	run curl -sS -u 'alice:open sesame' "$url/"
	assert_equal "$status" 0
	assert_equal "$(tr -d '\r' <<<"$output")" "1 $(q 'SELECT size FROM messages WHERE id = 1')
2 $(q 'SELECT size FROM messages WHERE id = 2')
3 $(q 'SELECT size FROM messages WHERE id = 3')"
	local id
	for id in 1 2 3; do
		curl -sS -u 'alice:open sesame' "$url/$id" -o "$BATS_TEST_TMPDIR/curl.$id"
		body_to "$id" "$BATS_TEST_TMPDIR/want.$id"
		cmp "$BATS_TEST_TMPDIR/want.$id" "$BATS_TEST_TMPDIR/curl.$id"
	done
	run curl -sS -u 'alice:open sesame' -X UIDL "$url/"
	assert_equal "$(tr -d '\r' <<<"$output")" "1 00000001$uv
2 00000002$uv
3 00000003$uv"
	run curl -sS -u 'alice:open sesame' -X 'TOP 1 0' "$url/"
	assert_equal "$(tr -d '\r' <<<"$output")" "$(body_lf 1 | sed '/^$/q')"
	run curl -sS -u 'alice:open sesame' -X 'DELE 1' -I "$url/"
	assert_equal "$status" 0
	server_idle
	assert_equal "$(q 'SELECT message_id FROM mailbox_state')" 1
	# A new session numbers what is left from 1.
	run curl -sS -u 'alice:open sesame' "$url/"
	assert_equal "$(tr -d '\r' <<<"$output")" "1 $(q 'SELECT size FROM messages WHERE id = 2')
2 $(q 'SELECT size FROM messages WHERE id = 3')"
	grep -q 'user=alice retr=0/0 top=0/0 dele=1 errors=0 tls=no end=quit' "$LOG"
	# A wrong password: curl fails with the server's refusal.
	run curl -sS -u 'alice:nope' "$url/"
	[[ $status != 0 ]]
	grep -q 'login failed client=127.0.0.1 user=alice reason=wrong password' "$LOG"
}

@test "fetchmail with keep and uidl, run twice: the first fetches every message whole, the second nothing" {
	serve_pop3
	local dir="$BATS_TEST_TMPDIR/fm"
	mkdir -p "$dir/out"
	cat >"$dir/rc" <<-EOF
		set no bouncemail
		set invisible
		poll 127.0.0.1 port $PORT protocol pop3 uidl auth password:
		  user "alice" there with password "open sesame" is "nobody" here
		  keep sslproto "" mda "/bin/sh -c 'cat > $dir/out/msg.\$\$'"
	EOF
	chmod 600 "$dir/rc"
	HOME=$dir run fetchmail -f "$dir/rc" --idfile "$dir/ids" --nodetach --nosyslog -v
	echo "$output"
	assert_equal "$status" 0
	[[ $output == *"3 messages for alice at 127.0.0.1"* ]]
	assert_equal "$(ls "$dir/out" | wc -l)" 3
	# Each delivered file is the stored body, line ends as LF.
	local id f found
	for id in 1 2 3; do
		found=0
		for f in "$dir"/out/msg.*; do
			cmp -s <(body_lf "$id") "$f" && found=1
		done
		[[ $found == 1 ]] || { echo "message $id not delivered whole"; return 1; }
	done
	rm "$dir"/out/msg.*
	HOME=$dir run fetchmail -f "$dir/rc" --idfile "$dir/ids" --nodetach --nosyslog -v
	echo "$output"
	assert_equal "$status" 1 # "no new mail"
	[[ $output == *"3 messages (3 seen) for alice at 127.0.0.1"* ]]
	assert_equal "$(ls "$dir/out" | wc -l)" 0
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM mailbox_state')" 0
}

@test "mpop: the server's capabilities, then keep with UIDLs, run twice: the second run fetches nothing" {
	serve_pop3
	local dir="$BATS_TEST_TMPDIR/mp" opts
	mkdir -p "$dir"
	: >"$dir/mbox"
	opts=(--host=127.0.0.1 --port="$PORT" --tls=off --auth=user --user=alice
		--passwordeval='echo open sesame' --uidls-file="$dir/uidls" --keep=on
		--delivery=mbox,"$dir/mbox")
	run mpop "${opts[@]}" --serverinfo
	echo "$output"
	assert_equal "$status" 0
	[[ $output == *"TOP"* && $output == *"UIDL"* && $output == *"PIPELINING"* && $output == *"USER"* ]]
	run mpop "${opts[@]}" --quiet
	echo "$output"
	assert_equal "$status" 0
	assert_equal "$(grep -c '^From ' "$dir/mbox")" 3
	grep -q '^hello alice$' "$dir/mbox"
	grep -q '^>\?\.a dot line$' "$dir/mbox"
	cp "$dir/mbox" "$dir/mbox.1"
	run mpop "${opts[@]}" --quiet
	assert_equal "$status" 0
	cmp "$dir/mbox" "$dir/mbox.1"
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM mailbox_state')" 0
}

@test "getmail6 with delete = false, run twice: every message once, whole, then nothing" {
	serve_pop3
	local dir="$BATS_TEST_TMPDIR/gm"
	mkdir -p "$dir/out"
	# getmail delivers to an mbox only as a user other than root; an
	# external command it runs as root when told, and that keeps the
	# message as it came.
	cat >"$dir/rc" <<-EOF
		[retriever]
		type = SimplePOP3Retriever
		server = 127.0.0.1
		port = $PORT
		username = alice
		password = open sesame
		[destination]
		type = MDA_external
		path = /bin/sh
		arguments = ("-c", "cat > $dir/out/msg.\$\$")
		allow_root_commands = true
		[options]
		delete = false
		read_all = false
		delivered_to = false
		received = false
	EOF
	run getmail --rcfile "$dir/rc" --getmaildir "$dir"
	echo "$output"
	assert_equal "$status" 0
	[[ $output == *"3 messages ("*") retrieved, 0 skipped"* ]]
	assert_equal "$(ls "$dir/out" | wc -l)" 3
	local id f found
	for id in 1 2 3; do
		found=0
		for f in "$dir"/out/msg.*; do
			cmp -s <(body_lf "$id") <(sed 's/\r$//' "$f") && found=1
		done
		[[ $found == 1 ]] || { echo "message $id not delivered whole"; return 1; }
	done
	rm "$dir"/out/msg.*
	run getmail --rcfile "$dir/rc" --getmaildir "$dir"
	echo "$output"
	assert_equal "$status" 0
	[[ $output == *"0 messages (0 bytes) retrieved, 3 skipped"* ]]
	assert_equal "$(ls "$dir/out" | wc -l)" 0
	server_idle
	assert_equal "$(q 'SELECT count(*) FROM mailbox_state')" 0
}

@test "two sessions for one account: the second gets -ERR [IN-USE], other accounts are free, and a killed session leaves no lock" {
	serve_pop3
	mkfifo "$BATS_TEST_TMPDIR/hold"
	python3 "$POP3PY" hold 127.0.0.1 "$PORT" alice 'open sesame' "$BATS_TEST_TMPDIR/holding" \
		<"$BATS_TEST_TMPDIR/hold" &
	HOLDER_PID=$!
	exec 7>"$BATS_TEST_TMPDIR/hold"
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $BATS_TEST_TMPDIR/holding ]] && break
		sleep 0.05
	done
	[[ -s $BATS_TEST_TMPDIR/holding ]]
	pop3 'USER alice\r\nPASS open sesame\r\nSTAT\r\nQUIT\r\n'
	assert_replies '+OK pop.test POP3 ready' '+OK Send the password' \
		'-ERR [IN-USE] The mailbox is in use by another session' '-ERR Log in first' \
		'+OK pop.test closing connection'
	pop3 'USER bob\r\nPASS bob pw\r\nQUIT\r\n'
	assert_equal "${lines[2]}" "+OK Logged in, 1 messages ($(q 'SELECT size FROM messages WHERE id = 2') octets)"
	# The holder's pop3d dies without a word: its lock goes with it.
	local kid
	kid=$(cat "/proc/$SERVER_PID/task/$SERVER_PID/children")
	[[ -n $kid ]]
	kill -KILL $kid
	server_idle
	pop3 'USER alice\r\nPASS open sesame\r\nQUIT\r\n'
	[[ ${lines[2]} == '+OK Logged in, 3 messages ('* ]]
}
