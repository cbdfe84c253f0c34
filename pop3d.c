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
#include "log.h"
#include "parse.h"
#include "pop3.h"
#include "store.h"

#ifndef SMTPD_VERSION
#define SMTPD_VERSION "unknown"
#endif

#define DEFAULT_DB "/var/lib/smtpd/mail.db"
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: pop3d [options]  (one POP3 connection on stdin/stdout)\n"
	"  --db PATH               mailbox database (default " DEFAULT_DB ")\n"
	"  --hostname NAME         name in the greeting (default: host name)\n"
	"  --timeout SECONDS       wait for the client's next line (default 600)\n"
	"  --session-timeout SECONDS  longest session (default 7200)\n"
	"  --fail-delay MS         answer a failed login this long after it came (default 2000)\n"
	"  --plaintext-login WHEN  local: login without TLS from loopback or a pipe; never (default local)\n"
	"  --log auto|journal|syslog|stderr  where log lines go (default auto)\n"
	"  --help, --version\n";

/* usage_error - complain on stderr and exit 2: never half-configured. */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	struct stat sb;
	va_list ap;

	va_start(ap, fmt);
	/* Under inetd, stderr is the client's socket: tell the log instead. */
	if (fstat(STDERR_FILENO, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		openlog("pop3d", LOG_PID, LOG_MAIL);
		vsyslog(LOG_ERR, fmt, ap);
	} else {
		fputs("pop3d: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputs("\nTry 'pop3d --help'.\n", stderr);
	}
	va_end(ap);
	exit(EXIT_USAGE);
}

/* number - a decimal option value within [min, max], or exit 2. */
static uint64_t number(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	uint64_t v;

	if (*s < '0' || *s > '9')
		usage_error("--%s: '%s' is not a number", opt, s);
	v = strtoull(s, &end, 10);
	if (*end || v < min || v > max)
		usage_error("--%s: '%s' is not a number from %" PRIu64 " to %" PRIu64, opt, s, min,
			    max);
	return v;
}

/* is_domain - the whole of s is a domain name. */
static bool is_domain(const char *s)
{
	size_t n = parse_domain(s);

	return n > 0 && s[n] == '\0';
}

/* default_hostname - this machine's name, or "localhost". */
static const char *default_hostname(void)
{
	static char name[SMTP_DOMAIN_MAX + 1];

	if (gethostname(name, sizeof name) != 0 || !is_domain(name))
		return "localhost";
	return name;
}

struct options {
	struct pop3_config cfg;
	const char *db;
	unsigned timeout, session_timeout;
	enum log_target log;
	bool plaintext_never;
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
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static const char *const targets[] = {"auto", "journal", "syslog", "stderr"};
	int c;

	opterr = 0;
	/* The leading ':' makes a missing value ':' rather than '?'. */
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				usage_error("--db: empty path");
			o->db = optarg;
			break;
		case 'H':
			if (!is_domain(optarg))
				usage_error("--hostname: '%s' is not a domain name", optarg);
			o->cfg.hostname = optarg;
			break;
		case 't':
			o->timeout = (unsigned)number("timeout", optarg, 1, 86400);
			break;
		case 'T':
			o->session_timeout = (unsigned)number("session-timeout", optarg, 1, 86400);
			break;
		case 'F':
			o->cfg.fail_delay_ms = (unsigned)number("fail-delay", optarg, 0, 60000);
			break;
		case 'l': {
			size_t i = 0;
			while (i < 4 && strcmp(optarg, targets[i]) != 0)
				i++;
			if (i == 4)
				usage_error("--log: '%s' is not auto, journal, syslog or stderr",
					    optarg);
			o->log = (enum log_target)i;
			break;
		}
		case 'P':
			if (strcmp(optarg, "local") != 0 && strcmp(optarg, "never") != 0)
				usage_error("--plaintext-login: '%s' is not local or never", optarg);
			o->plaintext_never = strcmp(optarg, "never") == 0;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			puts("pop3d " SMTPD_VERSION);
			exit(0);
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

int main(int argc, char **argv)
{
	struct options o = {
		.cfg = {.fail_delay_ms = POP3_FAIL_DELAY_MS_DEFAULT},
		.db = DEFAULT_DB,
		.timeout = POP3_TIMEOUT_DEFAULT,
		.session_timeout = POP3_SESSION_TIMEOUT_DEFAULT,
		.log = LOG_TO_AUTO,
	};
	char addr[INET6_ADDRSTRLEN], err[512];
	struct store *st;
	struct io io;
	enum pop3_end end;
	int fd;
	bool network, loopback;

	conn_std_fds();
	log_name("pop3d");
	parse_options(argc, argv, &o);
	if (!o.cfg.hostname)
		o.cfg.hostname = default_hostname();
	if ((fd = conn_fd("pop3d", err, sizeof err)) < 0)
		usage_error("%s", err);
	signal(SIGPIPE, SIG_IGN);
	log_open(o.log);
	conn_peer(fd, addr, sizeof addr, &network, &loopback);
	/* No password crosses a network in the clear: a login without TLS
	 * only from this machine, or when the connection is not a socket
	 * (a pipe in tests, a TLS helper in front).  "never" is for a proxy
	 * on this machine, behind which every client looks local. */
	o.cfg.plaintext_login = !o.plaintext_never && (!network || loopback);
	io_init(&io, fd, fd == STDIN_FILENO ? STDOUT_FILENO : fd, o.timeout, o.session_timeout);

	st = store_open(o.db, err, sizeof err);
	if (!st) {
		struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};
		log_event(LOG_ERR, f, 2, "cannot open the mailbox database");
		io_printf(&io, "-ERR [SYS/TEMP] %s POP3 not available, try again later\r\n",
			  o.cfg.hostname);
		io_flush(&io);
		return 1;
	}
	end = pop3_run(&o.cfg, &io, st, addr, true);
	store_close(st);
	if (network)
		conn_linger(&io);
	return end == POP3_FAULT ? 1 : 0;
}
