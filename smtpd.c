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

#define DOMAINS_MAX 1000 /* --domain options; a longer list wants a table */

static const char usage_text[] =
	"usage: smtpd [options]  (one SMTP connection on stdin/stdout)\n"
	"  --db PATH               mailbox database (default " CONN_DEFAULT_DB ")\n"
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
	struct conn_options conn; /* --db, --hostname, --timeout, --log, --tls-* */
	bool init_db;
	bool checkpointer;
	bool check_config;
};

/* parse_options - fill o from argv, or exit 2 with a message. */
static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		CONN_LONGOPTS,
		{"max-size", required_argument, NULL, 's'},
		{"max-recipients", required_argument, NULL, 'r'},
		{"domain", required_argument, NULL, 'D'},
		{"init-db", no_argument, NULL, 'I'},
		{"checkpointer", no_argument, NULL, 'C'},
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
		if (conn_option(c, optarg, &o->conn))
			continue;
		switch (c) {
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
		case 'I':
			o->init_db = true;
			break;
		case 'C':
			o->checkpointer = true;
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
	conn_options_done(&o->conn);
	if (o->check_config && !o->conn.tls.cert)
		cli_error("--check-config: no --tls-cert and --tls-key to check");
	o->cfg.domains = domains;
	o->cfg.hostname = o->conn.hostname;
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
	struct log_field f[] = {{"DB", o->conn.db}, {"REASON", ""}};
	char err[512];
	struct store *st;

	log_open(o->conn.log);
	if (!(st = store_open(o->conn.db, err, sizeof err))) {
		fprintf(stderr, "smtpd: %s\n", err);
		f[1].value = err;
		log_event(LOG_ERR, f, 2, "checkpointer cannot open the database");
		return EXIT_USAGE;
	}
	if (!conn_confine(o->conn.db, o->cfg.spool_dir, f[0])) {
		store_close(st);
		return 1;
	}
	return checkpointer_run(st, o->conn.db);
}

/* check_config - --check-config: is TLS usable?  0 if so, else 1 with
 * the reason on stderr (mailtls says what is wrong with a key). */
static int check_config(const struct options *o)
{
	char err[512];

	if (!tls_helper_usable(&o->conn.tls, err, sizeof err)) {
		fprintf(stderr, "smtpd: TLS cannot be offered: %s\n", err);
		return 1;
	}
	if (tls_helper_check(&o->conn.tls) != 0) {
		fprintf(stderr, "smtpd: TLS cannot be offered (see above)\n");
		return 1;
	}
	printf("smtpd: TLS can be offered with %s and %s\n", o->conn.tls.cert, o->conn.tls.key);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.cfg = {.max_size = SMTP_MAX_SIZE_DEFAULT,
			.max_recipients = SMTP_RECIPIENTS_DEFAULT},
		.conn = {.db = CONN_DEFAULT_DB,
			 .timeout = SMTP_TIMEOUT_DEFAULT,
			 .session_timeout = SMTP_SESSION_TIMEOUT_DEFAULT,
			 .log = LOG_TO_AUTO,
			 .tls = {.handshake_timeout = CONN_TLS_HANDSHAKE_DEFAULT, .ctl = -1}},
	};
	char addr[INET6_ADDRSTRLEN], err[512];
	struct store *st;
	struct io io;
	int fd, status;
	bool network, loopback;

	cli_init("smtpd");
	conn_std_fds();
	parse_options(argc, argv, &o);
	o.cfg.spool_dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	if (o.init_db)
		return init_db(o.conn.db);
	if (o.check_config)
		return check_config(&o);
	if (o.checkpointer)
		return checkpointer(&o);
	if ((fd = conn_fd("smtpd", err, sizeof err)) < 0)
		cli_error("%s", err);
	signal(SIGPIPE, SIG_IGN);
	log_open(o.conn.log);
	conn_peer(fd, addr, sizeof addr, &network, &loopback);
	o.cfg.refuse_early_talkers = network;
	io_init(&io, fd, fd == STDIN_FILENO ? STDOUT_FILENO : fd, o.conn.timeout,
		o.conn.session_timeout);
	o.cfg.tls = conn_implicit_tls(network);
	if (!o.cfg.tls && conn_offer_tls(&o.conn, &io, addr, "STARTTLS")) {
		o.cfg.starttls = tls_helper_start;
		o.cfg.starttls_ctx = &o.conn.tls;
	}

	st = store_open(o.conn.db, err, sizeof err);
	if (!st) {
		struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};
		log_event(LOG_ERR, f, 2, "cannot open the mailbox database");
		reply(&io, RPL_UNAVAILABLE, o.cfg.hostname);
		io_flush(&io);
		return 1;
	}
	if (!conn_confine(o.conn.db, o.cfg.spool_dir, (struct log_field){"CLIENT", addr})) {
		store_close(st);
		reply(&io, RPL_UNAVAILABLE, o.cfg.hostname);
		io_flush(&io);
		return 1;
	}
	status = session_run(&o.cfg, &io, st, addr);
	store_close(st);
	tls_helper_close(&o.conn.tls);
	if (network)
		conn_linger(&io);
	return status;
}
