/*
 * mailtls.c - the TLS helper: the only program of the package that
 * links a TLS library or reads the private key.
 *
 * mailtls --starttls: exec'ed by smtpd after its "220 2.0.0" to
 * STARTTLS.  Descriptors: 0 and 1 read and write the network
 * connection, 3 is smtpd's end of a socketpair.  After the handshake it
 * writes one line on fd 3 (tlsinfo.h: protocol, cipher, SNI), then
 * relays plaintext both ways; when the client fails the handshake, the
 * line is "failed".  Exit 0 when the relay ended, 3 when the handshake
 * failed (the client's doing), 1 for our faults (certificate or key
 * unusable: no line at all), 2 for a bad command line.
 *
 * mailtls --implicit -- PROGRAM ARGS: port 465/995 style.  The
 * handshake comes first on stdin/stdout (or fd 3 passed by systemd with
 * LISTEN_FDS=1), then PROGRAM runs with a socketpair as its stdin and
 * stdout and TLS_PROTOCOL, TLS_CIPHER, TLS_SNI and REMOTE_ADDR in its
 * environment, while mailtls relays.  mailtls exits with PROGRAM's
 * status; 0 if the client failed the handshake, 1 for our faults.
 *
 * The certificate and key are read at every start, so a renewed
 * certificate is used from the next connection on.
 */
#include <arpa/inet.h>
#include <errno.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "tlsinfo.h"
#include "tlsserver.h"

#define APP_FD			  3   /* --starttls: the protocol process's socket */
#define LISTEN_FDS_START	  3   /* the first fd systemd passes */
#define HANDSHAKE_TIMEOUT_DEFAULT 30  /* seconds; a handshake is a few round trips */
#define IDLE_TIMEOUT_DEFAULT	  660 /* the protocol process times out first */

static const char usage_text[] =
	"usage: mailtls --starttls [options]\n"
	"       mailtls --implicit [options] -- PROGRAM [ARG...]\n"
	"  --starttls              TLS on fds 0/1, plaintext on fd 3 (started by smtpd)\n"
	"  --wait-start            with --starttls: load the credentials, then wait for\n"
	"                          the byte S on fd 3 before the handshake\n"
	"  --implicit              TLS first, then run PROGRAM on the plaintext side\n"
	"  --cert FILE             certificate chain, PEM; with --key, up to twice\n"
	"                          (ECDSA and RSA; default $CREDENTIALS_DIRECTORY/tls-cert)\n"
	"  --key FILE              private key of the --cert before it, PEM\n"
	"                          (default $CREDENTIALS_DIRECTORY/tls-key)\n"
	"  --handshake-timeout SECONDS  longest handshake (default 30)\n"
	"  --timeout SECONDS       longest time without a byte either way (default 660)\n"
	"  --log auto|journal|syslog|stderr  where log lines go (default auto)\n"
	"  --check                 load and match the certificates and keys, then exit\n"
	"  --help, --version\n";

enum mode { MODE_NONE, MODE_STARTTLS, MODE_IMPLICIT, MODE_CHECK };

struct options {
	enum mode mode;
	const char *certs[TLS_CERTS_MAX], *keys[TLS_CERTS_MAX];
	size_t ncerts, nkeys;
	unsigned handshake_timeout, idle_timeout;
	enum log_target log;
	char **program;	 /* --implicit: argv of PROGRAM */
	bool wait_start; /* --starttls: credentials first, then wait for the go */
};

/* set_mode - one mode per run. */
static void set_mode(struct options *o, enum mode m)
{
	if (o->mode != MODE_NONE && o->mode != m)
		cli_error("--starttls, --implicit and --check exclude each other");
	o->mode = m;
}

/* credential - $CREDENTIALS_DIRECTORY/name (systemd's LoadCredential=), or NULL. */
static const char *credential(const char *name)
{
	static char paths[2][4096];
	static int used;
	const char *dir = getenv("CREDENTIALS_DIRECTORY");

	if (!dir || used == 2 ||
	    (size_t)snprintf(paths[used], sizeof paths[used], "%s/%s", dir, name) >=
		    sizeof paths[used])
		return NULL;
	return paths[used++];
}

/* parse_options - fill o from argv, or exit 2 with a message. */
static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"starttls", no_argument, NULL, 'S'},
		{"implicit", no_argument, NULL, 'I'},
		{"check", no_argument, NULL, 'C'},
		{"wait-start", no_argument, NULL, 'W'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"handshake-timeout", required_argument, NULL, 'H'},
		{"timeout", required_argument, NULL, 't'},
		{"log", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	/* '+': stop at the first non-option, PROGRAM's own options are its. */
	while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			set_mode(o, MODE_STARTTLS);
			break;
		case 'I':
			set_mode(o, MODE_IMPLICIT);
			break;
		case 'C':
			set_mode(o, MODE_CHECK);
			break;
		case 'W':
			o->wait_start = true;
			break;
		case 'c':
			if (o->ncerts == TLS_CERTS_MAX)
				cli_error("--cert: at most %d certificates", TLS_CERTS_MAX);
			o->certs[o->ncerts++] = optarg;
			break;
		case 'k':
			if (o->nkeys == TLS_CERTS_MAX)
				cli_error("--key: at most %d keys", TLS_CERTS_MAX);
			o->keys[o->nkeys++] = optarg;
			break;
		case 'H':
			o->handshake_timeout =
				(unsigned)cli_number("--handshake-timeout", optarg, 1, 86400);
			break;
		case 't':
			o->idle_timeout = (unsigned)cli_number("--timeout", optarg, 1, 86400);
			break;
		case 'l':
			o->log = cli_log_target(optarg);
			break;
		default:
			cli_other(c, argv, usage_text);
		}
	}
	if (o->mode == MODE_NONE)
		cli_error("say --starttls, --implicit or --check");
	if (o->wait_start && o->mode != MODE_STARTTLS)
		cli_error("--wait-start goes with --starttls");
	if (o->ncerts != o->nkeys)
		cli_error("give each --cert its --key");
	if (o->ncerts == 0) {
		o->certs[0] = credential("tls-cert");
		o->keys[0] = credential("tls-key");
		if (!o->certs[0] || !o->keys[0])
			cli_error("no --cert and --key, and no $CREDENTIALS_DIRECTORY");
		o->ncerts = o->nkeys = 1;
	}
	if (o->mode == MODE_IMPLICIT) {
		if (optind >= argc)
			cli_error("--implicit needs -- PROGRAM");
		o->program = argv + optind;
	} else if (optind < argc) {
		cli_error("unexpected argument '%s'", argv[optind]);
	}
}

/* peer - the client's IP address as text into buf, "" if unknown. */
static void peer(int fd, char *buf, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	buf[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, cap);
	} else if (ss.ss_family == AF_INET6) {
		struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], buf, cap);
		else
			inet_ntop(AF_INET6, a, buf, cap);
	}
}

/*
 * network_fd - the client's connection: fd 3 when systemd passes one
 * (LISTEN_FDS=1 for us), else stdin.  The variables are removed so
 * that PROGRAM does not take them for its own.
 */
static int network_fd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	bool ours = pid && fds && strtol(pid, NULL, 10) == getpid() && strcmp(fds, "1") == 0;

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return ours ? LISTEN_FDS_START : STDIN_FILENO;
}

/* start_program - fork PROGRAM with fd as its stdin and stdout and the
 * session's facts in its environment; its pid, or -1. */
static pid_t start_program(char **argv, int fd, int close_fd, const struct tls_info *info,
			   const char *addr)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* The child: only the plaintext socket and stderr stay open. */
	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(MAILTLS_EXIT_FAULT);
	close(close_fd);
	if (fd > STDOUT_FILENO)
		close(fd);
	setenv("TLS_PROTOCOL", info->protocol, 1);
	setenv("TLS_CIPHER", info->cipher, 1);
	setenv("TLS_SNI", info->sni, 1);
	if (addr[0])
		setenv("REMOTE_ADDR", addr, 1);
	signal(SIGPIPE, SIG_DFL);
	execvp(argv[0], argv);
	fprintf(stderr, "mailtls: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* exit_status - PROGRAM's exit status as ours; 1 if it was killed. */
static int exit_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return MAILTLS_EXIT_FAULT;
	return WIFEXITED(st) ? WEXITSTATUS(st) : MAILTLS_EXIT_FAULT;
}

/* log_ended - the relay's end, if the client's side did not end cleanly. */
static void log_ended(enum tls_status st, const char *addr, const char *err)
{
	struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};

	if (st == TLS_FAULT)
		log_event(LOG_ERR, f, 2, "TLS relay failed");
	else if (err[0])
		log_event(LOG_INFO, f, 2, "TLS connection ended");
}

/*
 * wait_for_start - --wait-start: smtpd starts mailtls with the
 * connection, so that loading GnuTLS and the key happen while the client
 * says EHLO, not after its STARTTLS; the byte TLS_START_BYTE on fd 3 says
 * go.  False when fd 3 ends first: no STARTTLS in this session.
 */
static bool wait_for_start(void)
{
	char go;
	ssize_t n;

	while ((n = read(APP_FD, &go, 1)) < 0 && errno == EINTR)
		;
	return n == 1 && go == TLS_START_BYTE;
}

/*
 * run - one connection: credentials, handshake, then the mode's own
 * work.  Returns the exit status.
 */
static int run(const struct options *o)
{
	int net = o->mode == MODE_IMPLICIT ? network_fd() : STDIN_FILENO;
	int wnet = net == STDIN_FILENO ? STDOUT_FILENO : net;
	char addr[INET6_ADDRSTRLEN], err[512] = "", line[TLS_INFO_LINE_MAX + 1];
	struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};
	struct tls_info info;
	struct tls_server *t;
	enum tls_status st;
	int sp[2] = {-1, -1}, status = 0;
	size_t len;
	pid_t pid;

	peer(net, addr, sizeof addr);
	t = tls_server_new(o->certs, o->keys, o->ncerts, o->mode == MODE_CHECK, net, wnet, err,
			   sizeof err);
	if (!t) {
		if (o->mode == MODE_CHECK)
			fprintf(stderr, "mailtls: %s\n", err);
		else
			log_event(LOG_ERR, f, 2, "cannot load the TLS certificate or key");
		return MAILTLS_EXIT_FAULT;
	}
	if (o->mode == MODE_CHECK) {
		printf("mailtls: %zu certificate%s and key%s usable\n", o->ncerts,
		       o->ncerts > 1 ? "s" : "", o->ncerts > 1 ? "s" : "");
		goto out;
	}
	if (o->wait_start && !wait_for_start())
		goto out; /* the session ended without STARTTLS */
	st = tls_handshake(t, o->handshake_timeout, &info, err, sizeof err);
	if (st != TLS_OK) {
		log_event(st == TLS_FAULT ? LOG_ERR : LOG_INFO, f, 2, "TLS handshake failed");
		/* The protocol process learns whose failure it was. */
		if (st == TLS_CLIENT && o->mode == MODE_STARTTLS)
			(void)!write(APP_FD, TLS_FAILED_LINE, sizeof TLS_FAILED_LINE - 1);
		status = st == TLS_FAULT	    ? MAILTLS_EXIT_FAULT
			 : o->mode == MODE_STARTTLS ? MAILTLS_EXIT_CLIENT
						    : 0;
		goto out;
	}
	struct log_field ok[] = {{"CLIENT", addr},
				 {"TLS_PROTOCOL", info.protocol},
				 {"TLS_CIPHER", info.cipher},
				 {"TLS_SNI", info.sni}};
	log_event(LOG_INFO, ok, 4, "TLS established");
	if (o->mode == MODE_STARTTLS) {
		len = tls_info_format(&info, line, sizeof line);
		st = len ? tls_relay(t, APP_FD, line, len, o->idle_timeout, err, sizeof err)
			 : TLS_FAULT;
		log_ended(st, addr, err);
		status = st == TLS_FAULT ? MAILTLS_EXIT_FAULT : 0;
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0 ||
	    (pid = start_program(o->program, sp[1], sp[0], &info, addr)) < 0) {
		snprintf(err, sizeof err, "cannot start %s: %s", o->program[0], strerror(errno));
		log_event(LOG_ERR, f, 2, "TLS relay failed");
		status = MAILTLS_EXIT_FAULT;
		goto out;
	}
	close(sp[1]);
	sp[1] = -1;
	st = tls_relay(t, sp[0], "", 0, o->idle_timeout, err, sizeof err);
	log_ended(st, addr, err);
	/* PROGRAM learns of the end from its socket, then its status is ours. */
	close(sp[0]);
	sp[0] = -1;
	status = exit_status(pid);
out:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	tls_server_free(t);
	return status;
}

int main(int argc, char **argv)
{
	struct options o = {
		.handshake_timeout = HANDSHAKE_TIMEOUT_DEFAULT,
		.idle_timeout = IDLE_TIMEOUT_DEFAULT,
		.log = LOG_TO_AUTO,
	};

	cli_init("mailtls");
	parse_options(argc, argv, &o);
	signal(SIGPIPE, SIG_IGN);
	log_name("mailtls");
	log_open(o.log);
	return run(&o);
}
