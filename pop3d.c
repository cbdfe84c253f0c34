/*
 * pop3d.c - the POP3 program: options, environment, the peer's address,
 * logging, then one session on the connection it was started with.
 *
 * Like smtpd it never listens, accepts or forks: a super-server
 * (systemd with Accept=yes, inetd, tcpserver) hands it one connection
 * on stdin/stdout or as fd 3, and it exits when the session ends.
 * Exit status: 0 when the client ended the session (QUIT, EOF, timeout,
 * abuse), 1 for a fault of ours, 2 for a bad command line or setup.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "conn.h"
#include "io.h"
#include "limits.h"
#include "cli.h"
#include "log.h"
#include "parse.h"
#include "pop3.h"
#include "starttls.h"
#include "store.h"
#include "tlsinfo.h"

static const char usage_text[] =
	"usage: pop3d [options]  (one POP3 connection on stdin/stdout)\n"
	"  --db PATH               mailbox database (default " CONN_DEFAULT_DB ")\n"
	"  --hostname NAME         name in the greeting (default: host name)\n"
	"  --timeout SECONDS       wait for the client's next line (default 600)\n"
	"  --session-timeout SECONDS  longest session (default 7200)\n"
	"  --fail-delay MS         answer a failed login this long after it came (default 2000)\n"
	"  --plaintext-login WHEN  local: login without TLS from loopback or a pipe; never "
	"(default local)\n"
	"  --log auto|journal|syslog|stderr  where log lines go (default auto)\n"
	"  --tls-cert FILE         certificate chain (PEM) for STLS; with --tls-key\n"
	"  --tls-key FILE          its private key, read only by the TLS helper\n"
	"  --tls-helper PATH       the TLS helper (default: mailtls beside pop3d)\n"
	"  --tls-handshake-timeout SECONDS  longest TLS handshake (default 30)\n"
	"  --help, --version\n";

struct options {
	struct pop3_config cfg;
	struct conn_options conn; /* --db, --hostname, --timeout, --log, --tls-* */
	bool plaintext_never;
};

/* parse_options - fill o from argv, or exit 2 with a message. */
static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		CONN_LONGOPTS,
		{"fail-delay", required_argument, NULL, 'F'},
		{"plaintext-login", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	/* The leading ':' makes a missing value ':' rather than '?'. */
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (conn_option(c, optarg, &o->conn))
			continue;
		switch (c) {
		case 'F':
			o->cfg.fail_delay_ms =
				(unsigned)cli_number("--fail-delay", optarg, 0, 60000);
			break;
		case 'P':
			if (strcmp(optarg, "local") != 0 && strcmp(optarg, "never") != 0)
				cli_error("--plaintext-login: '%s' is not local or never", optarg);
			o->plaintext_never = strcmp(optarg, "never") == 0;
			break;
		default:
			cli_other(c, argv, usage_text);
		}
	}
	if (optind < argc)
		cli_error("unexpected argument '%s'", argv[optind]);
	conn_options_done(&o->conn);
	o->cfg.hostname = o->conn.hostname;
}

int main(int argc, char **argv)
{
	struct options o = {
		.cfg = {.fail_delay_ms = POP3_FAIL_DELAY_MS_DEFAULT},
		.conn = {.db = CONN_DEFAULT_DB,
			 .timeout = POP3_TIMEOUT_DEFAULT,
			 .session_timeout = POP3_SESSION_TIMEOUT_DEFAULT,
			 .log = LOG_TO_AUTO,
			 .tls = {.handshake_timeout = CONN_TLS_HANDSHAKE_DEFAULT, .ctl = -1}},
	};
	char addr[INET6_ADDRSTRLEN], err[512];
	struct store *st;
	struct io io;
	enum pop3_end end;
	int fd;
	bool network, loopback;

	cli_init("pop3d");
	conn_std_fds();
	log_name("pop3d");
	parse_options(argc, argv, &o);
	if ((fd = conn_fd("pop3d", err, sizeof err)) < 0)
		cli_error("%s", err);
	signal(SIGPIPE, SIG_IGN);
	log_open(o.conn.log);
	conn_peer(fd, addr, sizeof addr, &network, &loopback);
	/* Replies leave in whole buffers already (io.c); Nagle's algorithm
	 * would hold the tail of each RETR until the client's delayed ACK,
	 * 40 ms a message (bench/pop3 measured 22 RETR of 4 KiB a second). */
	if (network)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	/* No password crosses a network in the clear: a login without TLS
	 * only from this machine, or when the connection is not a socket
	 * (a pipe in tests, a TLS helper in front).  "never" is for a proxy
	 * on this machine, behind which every client looks local. */
	o.cfg.plaintext_login = !o.plaintext_never && (!network || loopback);
	io_init(&io, fd, fd == STDIN_FILENO ? STDOUT_FILENO : fd, o.conn.timeout,
		o.conn.session_timeout);
	o.cfg.tls = conn_implicit_tls(network);
	if (!o.cfg.tls && conn_offer_tls(&o.conn, &io, addr, "STLS")) {
		o.cfg.starttls = tls_helper_start;
		o.cfg.starttls_ctx = &o.conn.tls;
	}

	st = store_open(o.conn.db, err, sizeof err);
	if (!st) {
		struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};
		log_event(LOG_ERR, f, 2, "cannot open the mailbox database");
	}
	/* The same sandbox as smtpd's: the database's directory and $TMPDIR
	 * (SQLite's temporary files), nothing to execute, no network. */
	if (!st || !conn_confine(o.conn.db, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
				 (struct log_field){"CLIENT", addr})) {
		io_printf(&io, "-ERR [SYS/TEMP] %s POP3 not available, try again later\r\n",
			  o.cfg.hostname);
		io_flush(&io);
		if (st)
			store_close(st);
		tls_helper_close(&o.conn.tls);
		return 1;
	}
	end = pop3_run(&o.cfg, &io, st, addr);
	store_close(st);
	tls_helper_close(&o.conn.tls);
	if (network)
		conn_linger(&io);
	return end == POP3_FAULT ? 1 : 0;
}
