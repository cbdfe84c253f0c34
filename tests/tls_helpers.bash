# tests/tls_helpers.bash - certificates and TLS servers for mailtls.bats
# and starttls.bats.  Load after helpers.
#
# MAILTLS is the helper under test (a sanitizer build can stand in, as
# SMTPD can).  Certificates are made once per file, in setup_file.

MAILTLS="${MAILTLS:-$REPO/mailtls}"
TLSCLIENT="$REPO/tests/tlsclient.py"

# make_certs DIR - a self-signed ECDSA P-256 and RSA-2048 certificate
# for mx.test, 127.0.0.1 and ::1: DIR/{ec,rsa}.{crt,key}, the two
# certificates in DIR/ca.pem for the clients to trust, and an expired
# one in DIR/old.{crt,key}.
make_certs() {
	local dir=$1 san="subjectAltName=DNS:mx.test,IP:127.0.0.1,IP:::1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
		-subj /CN=mx.test-ecdsa -addext "$san" -keyout "$dir/ec.key" -out "$dir/ec.crt" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
		-subj /CN=mx.test-rsa -addext "$san" -keyout "$dir/rsa.key" -out "$dir/rsa.crt" 2>/dev/null
	# openssl req cannot back-date; certtool's template can.
	printf '%s\n' 'cn = mx.test-old' 'dns_name = mx.test' 'ip_address = 127.0.0.1' \
		'activation_date = "2020-01-01 00:00:00 UTC"' \
		'expiration_date = "2020-02-01 00:00:00 UTC"' >"$dir/old.tmpl"
	certtool --generate-privkey --key-type ecdsa --curve secp256r1 --outfile "$dir/old.key" 2>/dev/null
	certtool --generate-self-signed --load-privkey "$dir/old.key" --template "$dir/old.tmpl" \
		--outfile "$dir/old.crt" >/dev/null 2>&1
	cat "$dir/ec.crt" "$dir/rsa.crt" >"$dir/ca.pem"
}

# serve_cmd HOST COMMAND... - serve COMMAND on HOST:$PORT, one process per
# connection on stdin/stdout (serve_argv, --inetd); stderr (the log) to $LOG.
serve_cmd() {
	local host=$1
	shift
	serve_argv "$host" inetd "$@"
}

# serve_implicit [MAILTLS OPTION...] - smtpd behind mailtls --implicit
# on 127.0.0.1:$PORT (SMTP over TLS, port 465 style), ECDSA
# certificate unless options name others.
serve_implicit() {
	local opts=("$@")
	[[ ${#opts[@]} -gt 0 ]] || opts=(--cert "$CERTS/ec.crt" --key "$CERTS/ec.key")
	serve_cmd 127.0.0.1 "$MAILTLS" --implicit --log stderr "${opts[@]}" -- \
		"$SMTPD" --db "$DB" --hostname mx.test --log stderr
}

# wait_log PATTERN - wait until a line matching PATTERN (grep -E) is in
# $LOG (5 s): the server's own word that it did something.
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qE "$1" "$LOG" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line matching '$1' in the log:" >&2
	cat "$LOG" >&2
	return 1
}
