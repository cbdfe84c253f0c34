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

#define DEFAULT_DB	      "/var/lib/smtpd/mail.db"
#define TLS_HANDSHAKE_DEFAULT 30 /* seconds: a handshake is a few round trips */
#define TLS_IDLE_SLACK	      60 /* mailtls idles longer than pop3d waits */

static const char usage_text[] =
	"usage: pop3d [options]  (one POP3 connection on stdin/stdout)\n"
	"  --db PATH               mailbox database (default " DEFAULT_DB ")\n"
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
	const char *db;
	unsigned timeout, session_timeout;
	enum log_target log;
	bool plaintext_never;
	struct tls_helper tls;
};

/* parse_options - fill o from argv, or exit 2 with a message. */
static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"hostname", required_argument, NULL, 'H'},
		{"timeout", required_argument, NULL, 't'},
		{"session-timeout", required_argument, NULL, 'T'},
		{"fail-delay", required_argument, NULL, 'F'},
		{"log", required_argument, NULL, 'l'},
		{"plaintext-login", required_argument, NULL, 'P'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"tls-helper", required_argument, NULL, 'x'},
		{"tls-handshake-timeout", required_argument, NULL, 'w'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	/* The leading ':' makes a missing value ':' rather than '?'. */
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				cli_error("--db: empty path");
			o->db = optarg;
			break;
		case 'H':
			if (!cli_is_domain(optarg))
				cli_error("--hostname: '%s' is not a domain name", optarg);
			o->cfg.hostname = optarg;
			break;
		case 't':
			o->timeout = (unsigned)cli_number("--timeout", optarg, 1, 86400);
			break;
		case 'T':
			o->session_timeout =
				(unsigned)cli_number("--session-timeout", optarg, 1, 86400);
			break;
		case 'F':
			o->cfg.fail_delay_ms =
				(unsigned)cli_number("--fail-delay", optarg, 0, 60000);
			break;
		case 'l':
			o->log = cli_log_target(optarg);
			break;
		case 'P':
			if (strcmp(optarg, "local") != 0 && strcmp(optarg, "never") != 0)
				cli_error("--plaintext-login: '%s' is not local or never", optarg);
			o->plaintext_never = strcmp(optarg, "never") == 0;
			break;
		case 'c':
			o->tls.cert = optarg;
			break;
		case 'k':
			o->tls.key = optarg;
			break;
		case 'x':
			o->tls.path = optarg;
			break;
		case 'w':
			o->tls.handshake_timeout =
				(unsigned)cli_number("--tls-handshake-timeout", optarg, 1, 3600);
			break;
		default:
			cli_other(c, argv, usage_text);
		}
	}
	if (optind < argc)
		cli_error("unexpected argument '%s'", argv[optind]);
	if (!o->tls.cert != !o->tls.key)
		cli_error("--tls-cert and --tls-key go together");
}

/* default_helper - mailtls in the directory of pop3d's own executable. */
static const char *default_helper(void)
{
	static char path[4096];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - sizeof "/mailtls");
	char *slash;

	if (n <= 0)
		return "mailtls";
	path[n] = '\0';
	if (!(slash = strrchr(path, '/')))
		return "mailtls";
	strcpy(slash, "/mailtls");
	return path;
}

/*
 * implicit_tls - TLS that mailtls --implicit set up in front of us, as
 * it says in TLS_PROTOCOL and TLS_CIPHER; NULL without, or when the
 * connection is a network socket (then it cannot be so).
 */
static const struct tls_info *implicit_tls(bool network)
{
	static struct tls_info info;
	const char *p = getenv("TLS_PROTOCOL"), *c = getenv("TLS_CIPHER");
	char line[TLS_INFO_LINE_MAX + 1];
	int n;

	if (network || !p || !c)
		return NULL;
	n = snprintf(line, sizeof line, "tls %s %s -", p, c);
	if (n < 0 || (size_t)n >= sizeof line ||
	    tls_info_parse(line, (size_t)n, &info) != TLS_LINE_OK)
		return NULL;
	return &info;
}

/*
 * offer_tls - with --tls-cert and --tls-key, make STLS possible: check
 * the files and keep the helper ready.  A certificate that is set but
 * unusable is logged, and STLS is then not offered.
 */
static void offer_tls(struct options *o, struct io *io, const char *addr)
{
	char err[512];
	struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};

	if (!o->tls.cert)
		return;
	if (!tls_helper_usable(&o->tls, err, sizeof err) ||
	    !tls_helper_standby(&o->tls, io->in_fd, io->out_fd, err, sizeof err)) {
		log_event(LOG_ERR, f, 2, "STLS not offered");
		return;
	}
	o->cfg.starttls = tls_helper_start;
	o->cfg.starttls_ctx = &o->tls;
}

int main(int argc, char **argv)
{
	struct options o = {
		.cfg = {.fail_delay_ms = POP3_FAIL_DELAY_MS_DEFAULT},
		.db = DEFAULT_DB,
		.timeout = POP3_TIMEOUT_DEFAULT,
		.session_timeout = POP3_SESSION_TIMEOUT_DEFAULT,
		.log = LOG_TO_AUTO,
		.tls = {.handshake_timeout = TLS_HANDSHAKE_DEFAULT, .ctl = -1},
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
	if (!o.cfg.hostname)
		o.cfg.hostname = cli_hostname();
	if (!o.tls.path)
		o.tls.path = default_helper();
	o.tls.log = o.log;
	o.tls.idle_timeout = o.timeout + TLS_IDLE_SLACK;
	if ((fd = conn_fd("pop3d", err, sizeof err)) < 0)
		cli_error("%s", err);
	signal(SIGPIPE, SIG_IGN);
	log_open(o.log);
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
	io_init(&io, fd, fd == STDIN_FILENO ? STDOUT_FILENO : fd, o.timeout, o.session_timeout);
	o.cfg.tls = implicit_tls(network);
	if (!o.cfg.tls)
		offer_tls(&o, &io, addr);

	st = store_open(o.db, err, sizeof err);
	if (!st) {
		struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};
		log_event(LOG_ERR, f, 2, "cannot open the mailbox database");
	}
	/* The same sandbox as smtpd's: the database's directory and $TMPDIR
	 * (SQLite's temporary files), nothing to execute, no network. */
	if (!st || !conn_confine(o.db, getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
				 (struct log_field){"CLIENT", addr})) {
		io_printf(&io, "-ERR [SYS/TEMP] %s POP3 not available, try again later\r\n",
			  o.cfg.hostname);
		io_flush(&io);
		if (st)
			store_close(st);
		tls_helper_close(&o.tls);
		return 1;
	}
	end = pop3_run(&o.cfg, &io, st, addr);
	store_close(st);
	tls_helper_close(&o.tls);
	if (network)
		conn_linger(&io);
	return end == POP3_FAULT ? 1 : 0;
}
