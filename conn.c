/*
 * conn.c - the connection, options, TLS set-up and sandbox that smtpd
 * and pop3d share (see conn.h).
 */
#include "conn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "sandbox.h"

#define LISTEN_FDS_START 3     /* the first fd systemd passes */
#define LINGER_MAX	 65536 /* bytes read from a client after our last reply */
#define TLS_IDLE_SLACK	 60    /* mailtls idles longer than we wait */

void conn_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int conn_fd(const char *prog, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int fd = LISTEN_FDS_START, listening = 0;
	socklen_t len = sizeof listening;
	char *end;

	if (!pid || !fds || strtol(pid, &end, 10) != getpid() || *end)
		return STDIN_FILENO;
	long n = strtol(fds, &end, 10);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (*end || n < 0) {
		snprintf(err, errlen, "LISTEN_FDS='%s' is not a number", fds);
		return -1;
	}
	if (n == 0)
		return STDIN_FILENO;
	if (n > 1) {
		snprintf(err, errlen, "systemd passed %ld sockets; %s takes one connection", n,
			 prog);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0) {
		snprintf(err, errlen, "fd 3 from systemd is not a socket");
		return -1;
	}
	if (listening) {
		snprintf(err, errlen,
			 "fd 3 is a listening socket: set Accept=yes in the socket unit");
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

void conn_peer(int fd, char *buf, size_t cap, bool *network, bool *loopback)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	unsigned char bin[16];
	const char *env;

	buf[0] = '\0';
	*network = *loopback = false;
	/* An AF_UNIX peer is a relay in front of us (mailtls --implicit),
	 * which passes the client's address in the environment. */
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family != AF_UNIX) {
		if (ss.ss_family == AF_INET) {
			struct in_addr *a = &((struct sockaddr_in *)&ss)->sin_addr;
			inet_ntop(AF_INET, a, buf, cap);
			*loopback = (ntohl(a->s_addr) >> 24) == 127;
		} else if (ss.ss_family == AF_INET6) {
			struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
			if (IN6_IS_ADDR_V4MAPPED(a)) {
				inet_ntop(AF_INET, &a->s6_addr[12], buf, cap);
				*loopback = a->s6_addr[12] == 127;
			} else {
				inet_ntop(AF_INET6, a, buf, cap);
				*loopback = IN6_IS_ADDR_LOOPBACK(a);
			}
		}
		*network = ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
		return;
	}
	env = getenv("REMOTE_ADDR");
	if (!env)
		env = getenv("TCPREMOTEIP");
	if (env && strlen(env) < cap &&
	    (inet_pton(AF_INET, env, bin) == 1 || inet_pton(AF_INET6, env, bin) == 1))
		strcpy(buf, env);
}

void conn_linger(struct io *io)
{
	size_t total = 0;

	if (!io_pending(io) || shutdown(io->out_fd, SHUT_WR) != 0)
		return;
	io_init(io, io->in_fd, io->out_fd, 1, 1);
	while (total < LINGER_MAX && io_fill(io) == IO_OK) {
		total += io->in_len - io->in_pos;
		io->in_pos = io->in_len;
	}
}

bool conn_confine(const char *db, const char *spool_dir, struct log_field field)
{
	struct sandbox_policy p = {.db_path = db, .spool_dir = spool_dir};
	char err[512];
	struct log_field f[] = {field, {"REASON", err}};

	switch (sandbox_apply(&p, err, sizeof err)) {
	case SANDBOX_FAILED:
		log_event(LOG_ERR, f, 2, "cannot enter the sandbox");
		return false;
	case SANDBOX_PARTIAL:
		log_event(LOG_WARNING, f, 2, "sandbox incomplete on this system");
		break;
	case SANDBOX_FULL:
	case SANDBOX_OFF:
		break;
	}
	return true;
}

bool conn_option(int c, const char *arg, struct conn_options *co)
{
	switch (c) {
	case 'd':
		if (!*arg)
			cli_error("--db: empty path");
		co->db = arg;
		return true;
	case 'H':
		if (!cli_is_domain(arg))
			cli_error("--hostname: '%s' is not a domain name", arg);
		co->hostname = arg;
		return true;
	case 't':
		co->timeout = (unsigned)cli_number("--timeout", arg, 1, 86400);
		return true;
	case 'T':
		co->session_timeout = (unsigned)cli_number("--session-timeout", arg, 1, 86400);
		return true;
	case 'l':
		co->log = cli_log_target(arg);
		return true;
	case 'c':
		co->tls.cert = arg;
		return true;
	case 'k':
		co->tls.key = arg;
		return true;
	case 'x':
		co->tls.path = arg;
		return true;
	case 'w':
		co->tls.handshake_timeout =
			(unsigned)cli_number("--tls-handshake-timeout", arg, 1, 3600);
		return true;
	default:
		return false;
	}
}

/* default_helper - mailtls in the directory of our own executable. */
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

void conn_options_done(struct conn_options *co)
{
	if (!co->tls.cert != !co->tls.key)
		cli_error("--tls-cert and --tls-key go together");
	if (!co->hostname)
		co->hostname = cli_hostname();
	if (co->tls.cert && !co->tls.path) /* a readlink only when TLS is set */
		co->tls.path = default_helper();
	co->tls.log = co->log;
	co->tls.idle_timeout = co->timeout + TLS_IDLE_SLACK;
}

bool conn_offer_tls(struct conn_options *co, struct io *io, const char *addr, const char *verb)
{
	char err[512];
	struct log_field f[] = {{"CLIENT", addr}, {"REASON", err}};

	if (!co->tls.cert)
		return false;
	if (!tls_helper_usable(&co->tls, err, sizeof err) ||
	    !tls_helper_standby(&co->tls, io->in_fd, io->out_fd, err, sizeof err)) {
		log_event(LOG_ERR, f, 2, "%s not offered", verb);
		return false;
	}
	return true;
}

const struct tls_info *conn_implicit_tls(bool network)
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
