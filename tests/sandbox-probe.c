/*
 * sandbox-probe - apply smtpd's sandbox, then try one operation and say
 * what happened.  For tests/sandbox.bats only; never installed.
 *
 *   sandbox-probe --db PATH --spool DIR [--exec PROGRAM [--exec-read PATH]...] OP [ARG...]
 *
 * The policy is built from the options exactly as smtpd builds it from
 * --db and $TMPDIR (and as the TLS helper's caller will, with --exec),
 * and applied with the same sandbox.c.  Then OP runs and one line is
 * printed: "ok", or the errno's name (EACCES, EPERM, ...).  An operation
 * the seccomp filter forbids kills the probe with SIGSYS instead, which
 * the caller sees as exit status 159.  Exit status 2: bad usage, or the
 * sandbox could not be applied.
 *
 *   read FILE        open FILE for reading and read a byte
 *   write FILE       create or truncate FILE and write a byte
 *   tmpfile DIR      an unlinked file in DIR (as the spool makes), 1 MiB written
 *   exec PROG ARG... execve PROG in this process
 *   spawn PROG ARG.. what smtpd does for STARTTLS: socketpair, fork, dup2
 *                    the socket onto the child's stdin and stdout, execve,
 *                    wait4; prints "exit N", or the child's execve errno
 *   socket FAMILY    socket(inet|inet6|unix|netlink, ...)
 *   ptrace           ptrace(PTRACE_TRACEME)
 *   fork             fork()
 *   thread           clone() with the flags of a new thread
 *   unshare          clone() into a new user namespace
 *   mmap-exec        map anonymous memory executable
 *   memfd            memfd_create() (a call numbered past the filter's split)
 *   kill PID         kill(PID, 0)
 *   landlock-abi     print the kernel's Landlock ABI (applies nothing)
 *   cost N           apply the policy in N forked children, one after the
 *                    other; print the mean CPU time and wall time that
 *                    sandbox_apply() took in each (what a connection pays)
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../sandbox.h"

#define EXEC_READ_MAX 8

extern char **environ;

/* errname - errno e's name, or its number. */
static const char *errname(int e)
{
	static char buf[16];
	const char *name = strerrorname_np(e);

	if (name)
		return name;
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

/* say - the outcome of a call that returned rc: "ok" or errno's name. */
static int say(long rc)
{
	puts(rc >= 0 ? "ok" : errname(errno));
	return 0;
}

/* op_write - create or truncate path and write one byte to it. */
static long op_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	long rc;

	if (fd < 0)
		return -1;
	rc = write(fd, "x", 1);
	close(fd);
	return rc;
}

/* op_read - open path and read a byte. */
static long op_read(const char *path)
{
	char c;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long rc;

	if (fd < 0)
		return -1;
	rc = read(fd, &c, 1);
	close(fd);
	return rc;
}

/* op_tmpfile - an unlinked 1 MiB file in dir, as spool.c makes. */
static long op_tmpfile(const char *dir)
{
	static char buf[1 << 20];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	long rc;

	if (fd < 0)
		return -1;
	rc = write(fd, buf, sizeof buf) == (ssize_t)sizeof buf ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * op_spawn - socketpair, fork, dup2 the socket onto the child's stdin
 * and stdout, execve, wait4; prints the result.  The child reports a
 * failed execve on a close-on-exec pipe, which a successful one closes.
 */
static int op_spawn(char **argv)
{
	int sv[2], ep[2], status, err = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    pipe2(ep, O_CLOEXEC) != 0)
		return say(-1);
	if ((pid = fork()) < 0)
		return say(-1);
	if (pid == 0) {
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(126);
		execve(argv[0], argv, environ);
		err = errno;
		if (write(ep[1], &err, sizeof err) != (ssize_t)sizeof err)
			_exit(126);
		_exit(127);
	}
	close(ep[1]);
	close(sv[1]);
	if (read(ep[0], &err, sizeof err) != (ssize_t)sizeof err)
		err = 0;
	if (wait4(pid, &status, 0, NULL) != pid)
		return say(-1);
	if (err)
		puts(errname(err));
	else if (WIFEXITED(status))
		printf("exit %d\n", WEXITSTATUS(status));
	else
		printf("signal %d\n", WTERMSIG(status));
	return 0;
}

/* op_socket - socket() of the named family. */
static long op_socket(const char *family)
{
	int f = strcmp(family, "inet") == 0	 ? AF_INET
		: strcmp(family, "inet6") == 0	 ? AF_INET6
		: strcmp(family, "unix") == 0	 ? AF_UNIX
		: strcmp(family, "netlink") == 0 ? AF_NETLINK
						 : -1;

	return socket(f, f == AF_NETLINK ? SOCK_RAW : SOCK_STREAM, 0);
}

/* run - perform op; what it printed, or 2 for an unknown op. */
static int run(char **argv)
{
	const char *op = argv[0];

	if (strcmp(op, "read") == 0 && argv[1])
		return say(op_read(argv[1]));
	if (strcmp(op, "write") == 0 && argv[1])
		return say(op_write(argv[1]));
	if (strcmp(op, "tmpfile") == 0 && argv[1])
		return say(op_tmpfile(argv[1]));
	if (strcmp(op, "exec") == 0 && argv[1])
		return say(execve(argv[1], argv + 1, environ));
	if (strcmp(op, "spawn") == 0 && argv[1])
		return op_spawn(argv + 1);
	if (strcmp(op, "socket") == 0 && argv[1])
		return say(op_socket(argv[1]));
	if (strcmp(op, "ptrace") == 0)
		return say(ptrace(PTRACE_TRACEME, 0, NULL, NULL));
	if (strcmp(op, "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		return say(pid < 0 ? -1 : waitpid(pid, NULL, 0));
	}
	if (strcmp(op, "thread") == 0)
		return say(syscall(SYS_clone,
				   CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
					   CLONE_THREAD | CLONE_SYSVSEM,
				   NULL, NULL, NULL, 0));
	if (strcmp(op, "unshare") == 0) {
		long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
		if (pid == 0)
			_exit(0);
		return say(pid < 0 ? -1 : waitpid((pid_t)pid, NULL, 0));
	}
	if (strcmp(op, "mmap-exec") == 0)
		return say(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
				0) == MAP_FAILED
				   ? -1
				   : 0);
	if (strcmp(op, "memfd") == 0)
		return say(memfd_create("probe", MFD_CLOEXEC));
	if (strcmp(op, "kill") == 0 && argv[1])
		return say(kill((pid_t)atoi(argv[1]), 0));
	fprintf(stderr, "sandbox-probe: unknown operation '%s'\n", op);
	return 2;
}

/* usec - clock c in microseconds. */
static double usec(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* cost - sandbox_apply() in n children: its mean CPU and wall time. */
static int cost(const struct sandbox_policy *p, int n)
{
	double sum[2] = {0, 0};
	int fds[2], status;

	if (n < 1 || pipe(fds) != 0)
		return 2;
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char err[512];
			double t[2] = {usec(CLOCK_THREAD_CPUTIME_ID), usec(CLOCK_MONOTONIC)};
			if (sandbox_apply(p, err, sizeof err) != SANDBOX_FULL)
				_exit(1);
			t[0] = usec(CLOCK_THREAD_CPUTIME_ID) - t[0];
			t[1] = usec(CLOCK_MONOTONIC) - t[1];
			_exit(write(fds[1], t, sizeof t) == (ssize_t)sizeof t ? 0 : 1);
		}
		double t[2];
		if (pid < 0 || read(fds[0], t, sizeof t) != (ssize_t)sizeof t ||
		    waitpid(pid, &status, 0) != pid || status != 0) {
			fputs("sandbox-probe: a child could not apply the policy\n", stderr);
			return 2;
		}
		sum[0] += t[0];
		sum[1] += t[1];
	}
	printf("sandbox_apply: %.1f us CPU, %.1f us wall (mean of %d)\n", sum[0] / n, sum[1] / n,
	       n);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *exec_read[EXEC_READ_MAX + 1];
	struct sandbox_policy p = {0};
	size_t nread = 0;
	char err[512];
	int i = 1;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			p.db_path = argv[i + 1];
		else if (strcmp(argv[i], "--spool") == 0)
			p.spool_dir = argv[i + 1];
		else if (strcmp(argv[i], "--exec") == 0)
			p.exec_path = argv[i + 1];
		else if (strcmp(argv[i], "--exec-read") == 0 && nread < EXEC_READ_MAX)
			exec_read[nread++] = argv[i + 1];
		else
			break;
	}
	if (i < argc && strcmp(argv[i], "landlock-abi") == 0) {
		printf("%ld\n", syscall(SYS_landlock_create_ruleset, NULL, 0, 1U) < 0
					? 0L
					: syscall(SYS_landlock_create_ruleset, NULL, 0, 1U));
		return 0;
	}
	if (i >= argc || !p.db_path || !p.spool_dir) {
		fputs("usage: sandbox-probe --db PATH --spool DIR [--exec PROGRAM"
		      " [--exec-read PATH]...] OP [ARG...]\n",
		      stderr);
		return 2;
	}
	p.exec_read = nread ? exec_read : NULL;
	if (strcmp(argv[i], "cost") == 0 && i + 1 < argc)
		return cost(&p, atoi(argv[i + 1]));
	switch (sandbox_apply(&p, err, sizeof err)) {
	case SANDBOX_FAILED:
	case SANDBOX_OFF:
		fprintf(stderr, "sandbox-probe: %s\n", err);
		return 2;
	case SANDBOX_PARTIAL:
		fprintf(stderr, "sandbox-probe: %s\n", err);
		break;
	case SANDBOX_FULL:
		break;
	}
	fflush(stdout);
	return run(argv + i);
}
