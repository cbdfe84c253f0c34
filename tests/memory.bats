#!/usr/bin/env bats
# Memory does not grow with the message: a 25 MiB body goes through the
# spool and into the database in bounded pieces, so smtpd's peak resident
# set size stays within 1 MiB of what a 1 KiB message needs.

load helpers

setup() {
	common_setup
	"$SMTPD" --init-db --db "$DB"
}
teardown() { net_teardown; }

# make_session BYTES FILE - a whole session delivering one message whose
# data is exactly BYTES long into FILE, and that data (as it must be
# stored, unstuffed) into FILE.data.  Lines are 76 characters and CR LF;
# every 50th starts with a dot, so the session carries stuffed dots.
make_session() {
	client make-session "$1" "$2"
}

# measure FILE [OPTION...] - run smtpd on the session in FILE; sets
# $status, $output and $lines as smtp_file does, and $peak (KiB).
measure() {
	local file=$1 result
	shift
	result=$(peak_rss_kib "$file" "$BATS_TEST_TMPDIR/replies" \
		"$SMTPD" --db "$DB" --hostname mx.test --log stderr "$@")
	read -r peak status <<<"$result"
	output=$(tr -d '\r' <"$BATS_TEST_TMPDIR/replies")
	mapfile -t lines <<<"$output"
}

# assert_stored ID FILE - message ID is the trace headers and FILE.data,
# compared by size and SHA-256.
assert_stored() {
	local want got
	want=$({ trace_of "$1"; cat "$2.data"; } | sha256sum)
	body_to "$1" "$BATS_TEST_TMPDIR/got.$1"
	got=$(sha256sum <"$BATS_TEST_TMPDIR/got.$1")
	assert_equal "$(q "SELECT size FROM messages WHERE id = $1")" \
		"$(($(trace_of "$1" | wc -c) + $(stat -c %s "$2.data")))"
	assert_equal "$got" "$want"
}

@test "a 25 MiB message is stored exactly, in at most 1 MiB more memory than 1 KiB" {
	make_session 1024 "$BATS_TEST_TMPDIR/small"
	make_session 26214400 "$BATS_TEST_TMPDIR/big"

	measure "$BATS_TEST_TMPDIR/small" --max-size 30000000
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	local small=$peak

	measure "$BATS_TEST_TMPDIR/big" --max-size 30000000
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "250 2.0.0" "221 2.0.0"
	local big=$peak

	echo "# peak RSS: 1 KiB message ${small} KiB, 25 MiB message ${big} KiB ($((big - small)) KiB more)" >&3
	assert_stored 1 "$BATS_TEST_TMPDIR/small"
	assert_stored 2 "$BATS_TEST_TMPDIR/big"
	if ((big - small > 1024)); then
		echo "peak RSS grew by $((big - small)) KiB for a 25 MiB message (limit 1024)"
		return 1
	fi
}

@test "a 25 MiB message over --max-size is refused without growing memory" {
	make_session 1024 "$BATS_TEST_TMPDIR/small"
	make_session 26214400 "$BATS_TEST_TMPDIR/big"

	measure "$BATS_TEST_TMPDIR/small" --max-size 1000000
	assert_equal "$status" 0
	local small=$peak

	measure "$BATS_TEST_TMPDIR/big" --max-size 1000000
	assert_equal "$status" 0
	assert_codes 220 250 "250 2.1.0" "250 2.1.5" 354 "552 5.3.4" "221 2.0.0"
	local big=$peak

	echo "# peak RSS, refused: 1 KiB message ${small} KiB, 25 MiB message ${big} KiB" >&3
	assert_equal "$(q 'SELECT count(*) FROM messages')" 1
	if ((big - small > 1024)); then
		echo "peak RSS grew by $((big - small)) KiB for a refused 25 MiB message (limit 1024)"
		return 1
	fi
}
