/*
 * conn.c - the connection a super-server hands us (see conn.h).
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

#include "sandbox.h"

#define LISTEN_FDS_START 3     /* the first fd systemd passes */
#define LINGER_MAX	 65536 /* bytes read from a client after our last reply */

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
