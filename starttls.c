/*
 * starttls.c - the TLS helper as a process (see starttls.h).
 *
 * Why a standby child: the sandbox (sandbox.c) is a Landlock domain
 * that every later child inherits, so a helper exec'ed by a sandboxed
 * smtpd could read only what smtpd can read, key included.  The child
 * spawned here before the sandbox is outside that domain.  It is
 * mailtls --starttls --wait-start from the start: GnuTLS's loading and
 * the key (most of mailtls's start) then overlap the client's EHLO
 * instead of following its STARTTLS, and mailtls waits for one byte
 * before the handshake, or ends quietly when smtpd closes its end.
 * smtpd itself needs neither fork nor execve once confined.  The price
 * is an exec of mailtls for every connection when TLS is configured
 * (most senders do STARTTLS when it is offered), and nothing otherwise.
 *
 * Descriptors for mailtls --starttls (mailtls.8): 0 and 1 the network
 * connection, 3 the plaintext socket whose other end smtpd reads.
 */
#include "starttls.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_FD	3 /* the plaintext socket, for mailtls */
#define LINE_GRACE_S	5 /* beyond the handshake deadline, for mailtls's line */
#define HELPER_ARGS_MAX 16

static const char *const log_names[] = {"auto", "journal", "syslog", "stderr"};

bool tls_helper_usable(const struct tls_helper *h, char *err, size_t cap)
{
	struct stat sb;
	int fd;

	if (access(h->path, X_OK) != 0) {
		snprintf(err, cap, "TLS helper %s: %s", h->path, strerror(errno));
		return false;
	}
	if ((fd = open(h->cert, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(err, cap, "certificate %s: %s", h->cert, strerror(errno));
		return false;
	}
	close(fd);
	/* Only whether it is there: reading it is mailtls's job alone. */
	if (stat(h->key, &sb) != 0) {
		snprintf(err, cap, "key %s: %s", h->key, strerror(errno));
		return false;
	}
	return true;
}

/* helper_argv - mailtls's command line for mode (--starttls, --check). */
static void helper_argv(const struct tls_helper *h, const char *mode, const char **argv, char *hs,
			char *idle, size_t cap)
{
	size_t n = 0;

	snprintf(hs, cap, "%u", h->handshake_timeout);
	snprintf(idle, cap, "%u", h->idle_timeout);
	argv[n++] = h->path;
	argv[n++] = mode;
	argv[n++] = "--cert";
	argv[n++] = h->cert;
	argv[n++] = "--key";
	argv[n++] = h->key;
	argv[n++] = "--handshake-timeout";
	argv[n++] = hs;
	argv[n++] = "--timeout";
	argv[n++] = idle;
	argv[n++] = "--log";
	argv[n++] = log_names[h->log];
	if (strcmp(mode, "--starttls") == 0)
		argv[n++] = "--wait-start";
	argv[n] = NULL;
}

int tls_helper_check(const struct tls_helper *h)
{
	const char *argv[HELPER_ARGS_MAX];
	char hs[16], idle[16];
	int st;
	pid_t pid;

	helper_argv(h, "--check", argv, hs, idle, sizeof hs);
	if ((pid = fork()) < 0)
		return 1;
	if (pid == 0) {
		execv(h->path, (char *const *)argv);
		fprintf(stderr, "smtpd: cannot run %s: %s\n", h->path, strerror(errno));
		_exit(1);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/*
 * tls_helper_standby - the standby is mailtls --starttls --wait-start at
 * once, so that its libraries and the key load while the client is still
 * saying EHLO; it waits for the go byte before the handshake.
 * posix_spawn, not fork: smtpd shares no pages with the child, so none
 * of its writes while opening the database is a copy-on-write fault.
 */
bool tls_helper_standby(struct tls_helper *h, int net_in, int net_out, char *err, size_t cap)
{
	const char *argv[HELPER_ARGS_MAX];
	char hs[16], idle[16];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl;
	int sp[2], r;

	h->ctl = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		snprintf(err, cap, "socketpair: %s", strerror(errno));
		return false;
	}
	helper_argv(h, "--starttls", argv, hs, idle, sizeof hs);
	/* dup2 clears close-on-exec.  A connection on fd 3 (systemd) is
	 * copied to 0 and 1 before the socket takes its place. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, net_in, STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, net_out, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, sp[1], HELPER_FD);
	posix_spawnattr_init(&attr);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&h->pid, h->path, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sp[1]);
	if (r != 0) {
		snprintf(err, cap, "cannot run %s: %s", h->path, strerror(r));
		close(sp[0]);
		return false;
	}
	h->ctl = sp[0];
	return true;
}

enum starttls_result tls_helper_start(void *ctx, struct io *io, struct tls_info *info)
{
	struct tls_helper *h = ctx;
	char go = TLS_START_BYTE, line[TLS_INFO_LINE_MAX + 1];
	int64_t deadline = io->deadline_ms;
	int idle = io->idle_ms;
	size_t len;
	enum io_status st;

	if (h->ctl < 0 || write(h->ctl, &go, 1) != 1)
		goto fault;
	/* From here the client is mailtls's; our copies of the network
	 * descriptors stay open, unused, until smtpd exits. */
	io_init(io, h->ctl, h->ctl, h->handshake_timeout + LINE_GRACE_S, 0);
	io->deadline_ms = deadline;
	st = io_getline(io, line, sizeof line, &len);
	io->idle_ms = idle;
	if (st == IO_OK) {
		switch (tls_info_parse(line, len, info)) {
		case TLS_LINE_OK:
			return STARTTLS_OK;
		case TLS_LINE_FAILED:
			io->out_failed = true;
			return STARTTLS_CLIENT;
		case TLS_LINE_BAD:
			break;
		}
	}
	/* No line, or a line mailtls never writes, or the session's own
	 * deadline: mailtls failed on our side (it logged why) or hangs (its
	 * own deadlines end it; the sandbox leaves us no kill()). */
fault:
	io->out_failed = true;
	return STARTTLS_FAULT;
}

void tls_helper_close(struct tls_helper *h)
{
	if (h->ctl >= 0)
		close(h->ctl);
	h->ctl = -1;
}
