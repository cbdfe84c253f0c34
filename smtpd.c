/*
 * smtpd.c - the program: options, environment, the peer's address,
 * logging, then one session on the connection it was started with.
 *
 * smtpd never listens, accepts or forks.  A super-server (systemd with
 * Accept=yes, inetd, tcpserver) hands it one connection on stdin/stdout,
 * or as fd 3 with LISTEN_FDS=1, and it exits when the session ends.
 * Everything a session needs is opened first (the log, the database);
 * then the process confines itself (sandbox.c) before it reads the
 * first byte from the client.  The checkpointer does the same.
 * Exit status: 0 when the client ended the session (QUIT, EOF, timeout,
 * abuse), 1 for a fault of ours, 2 for a bad command line or setup.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "checkpointer.h"
#include "cli.h"
#include "conn.h"
#include "io.h"
#include "limits.h"
#include "log.h"
#include "parse.h"
#include "reply.h"
#include "starttls.h"
#include "session.h"
#include "store.h"

#define DEFAULT_DB	      "/var/lib/smtpd/mail.db"
#define DOMAINS_MAX	      1000 /* --domain options; a longer list wants a table */
#define TLS_HANDSHAKE_DEFAULT 30   /* seconds: a handshake is a few round trips */
#define TLS_IDLE_SLACK	      60   /* mailtls idles longer than smtpd waits */

static const char usage_text[] =
	"usage: smtpd [options]  (one SMTP connection on stdin/stdout)\n"
	"  --db PATH               mailbox database (default " DEFAULT_DB ")\n"
	"  --hostname NAME         name in the greeting and Received: (default: host name)\n"
	"  --max-size BYTES        message size limit (default 26214400)\n"
	"  --max-recipients N      recipients per message (default 100)\n"
	"  --domain DOMAIN         accept mail for DOMAIN; repeatable (default: every domain)\n"
	"  --timeout SECONDS       wait for the client's next line (default 300)\n"
	"  --session-timeout SECONDS  longest session (default 600)\n"
	"  --log auto|journal|syslog|stderr  where log lines go (default auto)\n"
	"  --tls-cert FILE         certificate chain (PEM) for STARTTLS; with --tls-key\n"
	"  --tls-key FILE          its private key, read only by the TLS helper\n"
	"  --tls-helper PATH       the TLS helper (default: mailtls beside smtpd)\n"
	"  --tls-handshake-timeout SECONDS  longest TLS handshake (default 30)\n"
	"  --check-config          check the TLS certificate and key, then exit\n"
	"  --init-db               create or upgrade the database, then exit\n"
	"  --checkpointer          hold the database open and checkpoint it, until SIGTERM\n"
	"  --help, --version\n";

struct options {
	struct config cfg;
	const char *db;
	unsigned timeout, session_timeout;
	enum log_target log;
	bool init_db;
	bool checkpointer;
	bool check_config;
	struct tls_helper tls;
};

/* parse_options - fill o from argv, or exit 2 with a message. */
static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"hostname", required_argument, NULL, 'H'},
		{"max-size", required_argument, NULL, 's'},
		{"max-recipients", required_argument, NULL, 'r'},
		{"domain", required_argument, NULL, 'D'},
		{"timeout", required_argument, NULL, 't'},
		{"session-timeout", required_argument, NULL, 'T'},
		{"log", required_argument, NULL, 'l'},
		{"init-db", no_argument, NULL, 'I'},
		{"checkpointer", no_argument, NULL, 'C'},
		{"tls-cert", required_argument, NULL, 'c'},
		{"tls-key", required_argument, NULL, 'k'},
		{"tls-helper", required_argument, NULL, 'x'},
		{"tls-handshake-timeout", required_argument, NULL, 'w'},
		{"check-config", no_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static const char *domains[DOMAINS_MAX];
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
		case 's':
			o->cfg.max_size =
				cli_number("--max-size", optarg, 1, SMTP_MAX_SIZE_CEILING);
			break;
		case 'r':
			o->cfg.max_recipients =
				(unsigned)cli_number("--max-recipients", optarg, 1, 100000);
			break;
		case 'D':
			if (!cli_is_domain(optarg))
				cli_error("--domain: '%s' is not a domain name", optarg);
			if (o->cfg.ndomains == DOMAINS_MAX)
				cli_error("--domain: more than %d domains", DOMAINS_MAX);
			domains[o->cfg.ndomains++] = optarg;
			break;
		case 't':
			o->timeout = (unsigned)cli_number("--timeout", optarg, 1, 86400);
			break;
		case 'T':
			o->session_timeout =
				(unsigned)cli_number("--session-timeout", optarg, 1, 86400);
			break;
		case 'l':
			o->log = cli_log_target(optarg);
			break;
		case 'I':
			o->init_db = true;
			break;
		case 'C':
			o->checkpointer = true;
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
		case 'K':
			o->check_config = true;
			break;
		default:
			cli_other(c, argv, usage_text);
		}
	}
	if (optind < argc)
		cli_error("unexpected argument '%s'", argv[optind]);
	if (!o->tls.cert != !o->tls.key)
		cli_error("--tls-cert and --tls-key go together");
	if (o->check_config && !o->tls.cert)
		cli_error("--check-config: no --tls-cert and --tls-key to check");
	o->cfg.domains = domains;
}

/* init_db - --init-db: create or upgrade the database ahead of the first
 * connection (make install, admins).  Exit 0, or 2 with the reason. */
static int init_db(const char *path)
{
	char err[512];
	struct store *st = store_open(path, err, sizeof err);

	if (!st) {
		fprintf(stderr, "smtpd: %s\n", err);
		return EXIT_USAGE;
	}
	store_close(st);
	return 0;
}

/* checkpointer - --checkpointer: open, confine, then run until SIGTERM.
 * A database that cannot be opened is a setup error (exit 2). */
static int checkpointer(const struct options *o)
{
	struct log_field f[] = {{"DB", o->db}, {"REASON", ""}};
	char err[512];
	struct store *st;

	log_open(o->log);
	if (!(st = store_open(o->db, err, sizeof err))) {
		fprintf(stderr, "smtpd: %s\n", err);
		f[1].value = err;
		log_event(LOG_ERR, f, 2, "checkpointer cannot open the database");
		return EXIT_USAGE;
	}
	if (!conn_confine(o->db, o->cfg.spool_dir, f[0])) {
		store_close(st);
		return 1;
	}
	return checkpointer_run(st, o->db);
}

/* default_helper - mailtls in the directory of smtpd's own executable. */
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

/* check_config - --check-config: is TLS usable?  0 if so, else 1 with
 * the reason on stderr (mailtls says what is wrong with a key). */
static int check_config(const struct options *o)
{
	char err[512];

	if (!tls_helper_usable(&o->tls, err, sizeof err)) {
		fprintf(stderr, "smtpd: TLS cannot be offered: %s\n", err);
		return 1;
	}
	if (tls_helper_check(&o->tls) != 0) {
		fprintf(stderr, "smtpd: TLS cannot be offered (see above)\n");
		return 1;
	}
	printf("smtpd: TLS can be offered with %s and %s\n", o->tls.cert, o->tls.key);
	return 0;
}

/*
 * offer_tls - with --tls-cert and --tls-key, make STARTTLS possible:
 * check the files and keep the helper ready (before the sandbox).  A
 * certificate that is configured but unusable is logged in every
 * session, and mail is then received without TLS.
 */
static void offer_tls(struct options *o, struct io *io, const char *addr)
{
	char err[512];
	struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};

	if (!o->tls.cert)
		return;
	if (!tls_helper_usable(&o->tls, err, sizeof err) ||
	    !tls_helper_standby(&o->tls, io->in_fd, io->out_fd, err, sizeof err)) {
		log_event(LOG_ERR, f, 2, "STARTTLS not offered");
		return;
	}
	o->cfg.starttls = tls_helper_start;
	o->cfg.starttls_ctx = &o->tls;
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

int main(int argc, char **argv)
{
	struct options o = {
		.cfg = {.max_size = SMTP_MAX_SIZE_DEFAULT,
			.max_recipients = SMTP_RECIPIENTS_DEFAULT},
		.db = DEFAULT_DB,
		.timeout = SMTP_TIMEOUT_DEFAULT,
		.session_timeout = SMTP_SESSION_TIMEOUT_DEFAULT,
		.log = LOG_TO_AUTO,
		.tls = {.handshake_timeout = TLS_HANDSHAKE_DEFAULT, .ctl = -1},
	};
	char addr[INET6_ADDRSTRLEN], err[512];
	struct store *st;
	struct io io;
	int fd, status;
	bool network, loopback;

	cli_init("smtpd");
	conn_std_fds();
	parse_options(argc, argv, &o);
	if (!o.cfg.hostname)
		o.cfg.hostname = cli_hostname();
	o.cfg.spool_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (o.init_db)
		return init_db(o.db);
	if (!o.tls.path)
		o.tls.path = default_helper();
	o.tls.log = o.log;
	o.tls.idle_timeout = o.timeout + TLS_IDLE_SLACK;
	if (o.check_config)
		return check_config(&o);
	if (o.checkpointer)
		return checkpointer(&o);
	if ((fd = conn_fd("smtpd", err, sizeof err)) < 0)
		cli_error("%s", err);
	signal(SIGPIPE, SIG_IGN);
	log_open(o.log);
	conn_peer(fd, addr, sizeof addr, &network, &loopback);
	o.cfg.refuse_early_talkers = network;
	io_init(&io, fd, fd == STDIN_FILENO ? STDOUT_FILENO : fd, o.timeout, o.session_timeout);
	o.cfg.tls = implicit_tls(network);
	if (!o.cfg.tls)
		offer_tls(&o, &io, addr);

	st = store_open(o.db, err, sizeof err);
	if (!st) {
		struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};
		log_event(LOG_ERR, f, 2, "cannot open the mailbox database");
		reply(&io, RPL_UNAVAILABLE, o.cfg.hostname);
		io_flush(&io);
		return 1;
	}
	if (!conn_confine(o.db, o.cfg.spool_dir, (struct log_field){"CLIENT", addr})) {
		store_close(st);
		reply(&io, RPL_UNAVAILABLE, o.cfg.hostname);
		io_flush(&io);
		return 1;
	}
	status = session_run(&o.cfg, &io, st, addr);
	store_close(st);
	tls_helper_close(&o.tls);
	if (network)
		conn_linger(&io);
	return status;
}
