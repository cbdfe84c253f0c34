/*
 * sandbox.c - confine a running smtpd process (see sandbox.h).
 *
 * smtpd reads hostile bytes from the network.  If a bug ever let a
 * client run code in it, the process should be able to do no more than
 * a session needs: read and write the database and its spool, log, and
 * talk on the connection it already has.  The sandbox is built from the
 * process itself, so it is the same under systemd, inetd, tcpserver
 * and systemd-socket-activate, and costs one call per connection.
 * Four layers, applied in this order by sandbox_apply(), each of them
 * for good:
 *
 *  1. Resource limits: no core dumps (they would hold mail), at most
 *     SANDBOX_NOFILE descriptors, a bound on memory, and, when no
 *     program may be started, no new processes at all.  RLIMIT_FSIZE is
 *     left alone: the database grows past any per-message bound.
 *  2. PR_SET_NO_NEW_PRIVS: no execve can gain privileges (set-user-ID
 *     files, file capabilities); the kernel also requires it for an
 *     unprivileged seccomp filter and Landlock domain.
 *  3. Landlock: every file system right the kernel knows is handled,
 *     and only the database's directory and the spool directory are
 *     granted (read, write, create and remove regular files).  Nothing
 *     else can be opened, written or executed.  The ABI is negotiated:
 *     rights, TCP bind/connect (ABI 4) and scopes (ABI 6) that the
 *     running kernel does not know are left out, and a kernel without
 *     Landlock gets the other layers and a line in the log.  Descriptors
 *     opened before (the connection, the database, the log socket) keep
 *     working; logging sends to a named AF_UNIX socket, which Landlock
 *     does not restrict.
 *  4. seccomp-bpf: an allow-list of the system calls smtpd makes after
 *     this point (found with strace over the test suite), as a BPF
 *     program that is a static const table: nothing is compiled per
 *     connection.  Anything else kills the process (SIGSYS); another
 *     architecture or the x32 ABI too.  socket() is allowed for AF_UNIX
 *     only (syslog reconnects) and fails with EPERM for any other family;
 *     mmap and mprotect may not make memory executable; ioctl fails with
 *     ENOTTY (stdio asks whether a stream is a terminal).
 *
 * The TLS helper.  STARTTLS is handed to one program (mailtls) that
 * smtpd starts on the connection: socketpair(AF_UNIX), fork, dup2 or
 * dup3, execve, wait4.  When the policy names that program (exec_path),
 * a second compiled-in filter is used that allows exactly those calls
 * (clone only with fork's flags: no threads, no namespaces; clone3 gets
 * ENOSYS so that the C library falls back to clone, whose flags a
 * filter can see), and executable mappings, which the dynamic loader of
 * the new program needs.  seccomp cannot look at the path execve is
 * given, so Landlock decides which file that is: it grants EXECUTE on
 * exec_path and on the ELF interpreter named in its PT_INTERP header,
 * and only READ_FILE on what the loader reads (/etc/ld.so.cache and the
 * library directories) and on the policy's exec_read paths.  Any other
 * program fails with EACCES.  The program inherits the filter, the
 * Landlock domain and the limits; the filter therefore also allows what
 * a dynamically linked program does while it starts.  Without Landlock
 * (kernels before 5.13) execve cannot be confined to one file; the log
 * line says so.  Because the domain is inherited, what the helper must
 * read (its key) is readable by smtpd too: keeping a key out of smtpd's
 * reach needs a process that is outside this domain.
 *
 * Built with -DSMTPD_NO_SANDBOX (the ASan/UBSan and valgrind builds,
 * whose runtimes read /proc, ptrace and map code), sandbox_apply() does
 * nothing: a build flag, so that nothing an attacker can reach turns it
 * off.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifdef SMTPD_NO_SANDBOX

enum sandbox_result sandbox_apply(const struct sandbox_policy *p, char *err, size_t errlen)
{
	(void)p;
	snprintf(err, errlen, "built without the sandbox (SMTPD_NO_SANDBOX)");
	return SANDBOX_OFF;
}

#else

#include <elf.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* The longest path handled: Linux's PATH_MAX (<limits.h> is not used:
 * limits.h in this directory is the SMTP limits). */
#define SANDBOX_PATH_MAX 4096

/* Memory a sandboxed process may map privately (RLIMIT_DATA).  A 25 MiB
 * message never sits in memory (spool.c); a session peaks at a few MiB,
 * the TLS helper at a few more. */
#define SANDBOX_DATA_MAX (256UL << 20)

/*
 * Landlock's interface, from the kernel's UAPI (include/uapi/linux/
 * landlock.h).  Debian 12's headers know only ABI 1 and 2, so what is
 * used is defined here, under names of our own.
 */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule	     445
#define __NR_landlock_restrict_self  446
#endif

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

struct ll_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH	  1

#define LL_FS_EXECUTE	  (1ULL << 0)
#define LL_FS_WRITE_FILE  (1ULL << 1)
#define LL_FS_READ_FILE	  (1ULL << 2)
#define LL_FS_READ_DIR	  (1ULL << 3)
#define LL_FS_REMOVE_DIR  (1ULL << 4)
#define LL_FS_REMOVE_FILE (1ULL << 5)
#define LL_FS_MAKE_CHAR	  (1ULL << 6)
#define LL_FS_MAKE_DIR	  (1ULL << 7)
#define LL_FS_MAKE_REG	  (1ULL << 8)
#define LL_FS_MAKE_SOCK	  (1ULL << 9)
#define LL_FS_MAKE_FIFO	  (1ULL << 10)
#define LL_FS_MAKE_BLOCK  (1ULL << 11)
#define LL_FS_MAKE_SYM	  (1ULL << 12)
#define LL_FS_REFER	  (1ULL << 13) /* ABI 2 */
#define LL_FS_TRUNCATE	  (1ULL << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV	  (1ULL << 15) /* ABI 5 */

#define LL_NET_BIND_TCP	   (1ULL << 0) /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)

#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL	       (1ULL << 1)

/* The rights each ABI knows; a newer kernel knows all of an older one's. */
#define LL_FS_ABI1	       ((LL_FS_MAKE_SYM << 1) - 1)
#define LL_FS_ABI2	       (LL_FS_ABI1 | LL_FS_REFER)
#define LL_FS_ABI3	       (LL_FS_ABI2 | LL_FS_TRUNCATE)
#define LL_FS_ABI5	       (LL_FS_ABI3 | LL_FS_IOCTL_DEV)

/* What the database's directory and the spool get: SQLite creates,
 * truncates and removes its -journal, -wal and -shm files, and syncs
 * the directory; the spool makes unlinked files. */
#define LL_FS_DATA                                                                                 \
	(LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_READ_DIR | LL_FS_MAKE_REG |                    \
	 LL_FS_REMOVE_FILE | LL_FS_TRUNCATE)
/* The rights a rule on a file (not a directory) may carry. */
#define LL_FS_FILE                                                                                 \
	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* What the dynamic loader of the helper reads; missing ones are skipped. */
static const char *const loader_paths[] = {
	"/etc/ld.so.cache", "/lib", "/lib64", "/usr/lib", "/usr/lib64", NULL,
};

/*
 * The seccomp filters.  Written for x86-64, whose system call numbers
 * the lists below are sorted by (checked at compile time); elsewhere
 * there is no filter, and the log says so.
 *
 * Cost.  When a filter is installed, the kernel checks it, compiles it
 * and then runs it once for every system call number, to find the calls
 * it always allows (those then skip the filter for good, so a session's
 * calls cost nothing more).  That run walked the whole list for each of
 * the ~400 calls not on it, and was most of what the filter costs each
 * connection: so the filter first splits at call 100, and each half is
 * searched alone.  Attaching it, measured on our loaded 2-core machine
 * over 1000 processes: one list 180-220 us of CPU, split 110-140 us, a
 * filter that allows everything 45-55 us.
 */
#ifdef __x86_64__
#define SANDBOX_ARCH AUDIT_ARCH_X86_64

#define SC_NR	 offsetof(struct seccomp_data, nr)
#define SC_ARCH	 offsetof(struct seccomp_data, arch)
#define SC_ARG0	 offsetof(struct seccomp_data, args[0]) /* low 32 bits on LE */
#define SC_ARG2	 offsetof(struct seccomp_data, args[2])
#define SC_ALLOW SECCOMP_RET_ALLOW
#define SC_KILL	 SECCOMP_RET_KILL_PROCESS

/* ALLOW(name): two instructions; the accumulator holds the number. */
#define ALLOW(name)                                                                                \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 1), BPF_STMT(BPF_RET | BPF_K, SC_ALLOW),

/* FAIL(name, e): the call returns -1 with errno e. */
#define FAIL(name, e)                                                                              \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 1),                                    \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e)),

/* UNIX_ONLY(name): allowed when the first argument (the address family)
 * is AF_UNIX, EPERM otherwise. */
#define UNIX_ONLY(name)                                                                            \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 4),                                    \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG0),                                       \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 1),                                \
		BPF_STMT(BPF_RET | BPF_K, SC_ALLOW),                                               \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),

/* NO_EXEC_MAP(name): allowed unless the protection (third argument)
 * asks for PROT_EXEC, which kills. */
#define NO_EXEC_MAP(name)                                                                          \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 4),                                    \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG2),                                       \
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 1, 0),                             \
		BPF_STMT(BPF_RET | BPF_K, SC_ALLOW), BPF_STMT(BPF_RET | BPF_K, SC_KILL),

/* FORK_ONLY(name): clone with nothing but fork's flags (the exit
 * signal, the thread-id bookkeeping, vfork's wait); a thread or a new
 * namespace kills. */
#define FORK_FLAGS                                                                                 \
	(CSIGNAL | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_PARENT_SETTID | CLONE_VFORK)
#define FORK_ONLY(name)                                                                            \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_##name, 0, 5),                                    \
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARG0),                                       \
		BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~(uint32_t)FORK_FLAGS),                        \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1), BPF_STMT(BPF_RET | BPF_K, SC_ALLOW), \
		BPF_STMT(BPF_RET | BPF_K, SC_KILL),

/* The head of both filters: this architecture and not the x32 ABI, then
 * the system call number in the accumulator. */
#define HEAD                                                                                       \
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_ARCH),                                               \
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0),                           \
		BPF_STMT(BPF_RET | BPF_K, SC_KILL), BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SC_NR),     \
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),                      \
		BPF_STMT(BPF_RET | BPF_K, SC_KILL),

/*
 * SPLIT(LOW, HIGH): calls numbered below SPLIT_NR are looked for in the
 * entries LOW only, the others in HIGH only; what neither allows kills.
 * X-macro lists: each names its calls once, for the filter and for the
 * compile-time check that every call is on its side of the split.
 */
#define SPLIT_NR     100
#define ENTRIES(...) ((sizeof(struct sock_filter[]){__VA_ARGS__}) / sizeof(struct sock_filter))
#define SPLIT(LOW, HIGH)                                                                           \
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SPLIT_NR, ENTRIES(LOW) + 1, 0),                        \
		LOW BPF_STMT(BPF_RET | BPF_K, SC_KILL), HIGH BPF_STMT(BPF_RET | BPF_K, SC_KILL)
#define BELOW(name, ...) _Static_assert(__NR_##name < SPLIT_NR, #name " belongs in a high list");
#define ABOVE(name, ...) _Static_assert(__NR_##name >= SPLIT_NR, #name " belongs in a low list");

/*
 * What every sandboxed smtpd does: the session (I/O on the connection,
 * the spool and SQLite's files and locks, logging, deadlines) and the
 * checkpointer.  Each list: X(name, kind[, errno]); the low lists hold
 * calls numbered below SPLIT_NR, the high ones the others.
 */
/* clang-format off */
#define SESSION_LOW(X)                                                                             \
	X(read, ALLOW) X(write, ALLOW) X(open, ALLOW) X(close, ALLOW) X(stat, ALLOW)               \
	X(fstat, ALLOW) X(lstat, ALLOW) X(poll, ALLOW) X(lseek, ALLOW) X(munmap, ALLOW)            \
	X(brk, ALLOW) X(rt_sigaction, ALLOW) X(rt_sigprocmask, ALLOW) X(rt_sigreturn, ALLOW)       \
	X(pread64, ALLOW) X(pwrite64, ALLOW) X(readv, ALLOW) X(writev, ALLOW) X(access, ALLOW)     \
	X(mremap, ALLOW) X(madvise, ALLOW) X(nanosleep, ALLOW) X(getitimer, ALLOW)                 \
	X(alarm, ALLOW) X(setitimer, ALLOW) X(getpid, ALLOW) X(connect, ALLOW) X(sendto, ALLOW)    \
	X(sendmsg, ALLOW) X(shutdown, ALLOW) X(exit, ALLOW) X(fcntl, ALLOW) X(fsync, ALLOW)        \
	X(fdatasync, ALLOW) X(ftruncate, ALLOW) X(unlink, ALLOW) X(fchown, ALLOW)                  \
	X(gettimeofday, ALLOW) X(socket, UNIX_ONLY) X(ioctl, FAIL, ENOTTY)
#define SESSION_HIGH(X)                                                                            \
	X(geteuid, ALLOW) X(time, ALLOW) X(restart_syscall, ALLOW) X(clock_gettime, ALLOW)         \
	X(clock_nanosleep, ALLOW) X(exit_group, ALLOW) X(openat, ALLOW) X(newfstatat, ALLOW)       \
	X(unlinkat, ALLOW) X(faccessat, ALLOW) X(ppoll, ALLOW) X(fallocate, ALLOW)                 \
	X(getrandom, ALLOW) X(faccessat2, ALLOW)

/* With exec_path: starting the program (socketpair, fork, dup, execve,
 * wait, and killing it) and what a dynamically linked program does as
 * it starts; mmap and mprotect may then map code (the loader does). */
#define EXEC_LOW(X)                                                                                \
	X(pipe, ALLOW) X(sched_yield, ALLOW) X(dup, ALLOW) X(dup2, ALLOW) X(recvfrom, ALLOW)       \
	X(recvmsg, ALLOW) X(clone, FORK_ONLY) X(execve, ALLOW) X(wait4, ALLOW) X(kill, ALLOW)      \
	X(getsockname, ALLOW) X(getpeername, ALLOW) X(uname, ALLOW) X(readlink, ALLOW)            \
	X(socketpair, UNIX_ONLY) X(mmap, ALLOW)                                                    \
	X(mprotect, ALLOW)
#define EXEC_HIGH(X)                                                                               \
	X(getuid, ALLOW) X(getgid, ALLOW) X(getegid, ALLOW) X(sigaltstack, ALLOW)                  \
	X(arch_prctl, ALLOW) X(futex, ALLOW) X(sched_getaffinity, ALLOW)                           \
	X(set_tid_address, ALLOW) X(waitid, ALLOW) X(readlinkat, ALLOW)                            \
	X(set_robust_list, ALLOW) X(dup3, ALLOW) X(pipe2, ALLOW) X(prlimit64, ALLOW)               \
	X(rseq, ALLOW) X(clone3, FAIL, ENOSYS)

/* Without it: mmap and mprotect may not make memory executable. */
#define NO_EXEC_LOW(X) X(mmap, NO_EXEC_MAP) X(mprotect, NO_EXEC_MAP)
/* clang-format on */

#define RULE(name, kind, ...) kind(name __VA_OPT__(, ) __VA_ARGS__)

SESSION_LOW(BELOW)
SESSION_HIGH(ABOVE)
EXEC_LOW(BELOW)
EXEC_HIGH(ABOVE)
NO_EXEC_LOW(BELOW)

/* No program may be started: the default. */
static const struct sock_filter session_filter[] = {
	HEAD SPLIT(SESSION_LOW(RULE) NO_EXEC_LOW(RULE), SESSION_HIGH(RULE)),
};

/* The policy names one program. */
static const struct sock_filter exec_filter[] = {
	HEAD SPLIT(SESSION_LOW(RULE) EXEC_LOW(RULE), SESSION_HIGH(RULE) EXEC_HIGH(RULE)),
};

/* A jump reaches at most 255 instructions ahead. */
_Static_assert(ENTRIES(SESSION_LOW(RULE) EXEC_LOW(RULE)) < 255, "a low list is too long to jump");

#endif /* SANDBOX_ARCH */

/* limit - lower resource r to at most max (soft and hard); never raise. */
static int limit(int r, rlim_t max)
{
	struct rlimit rl;

	if (getrlimit(r, &rl) != 0)
		return -1;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < max)
		max = rl.rlim_max;
	rl.rlim_cur = rl.rlim_max = max;
	return setrlimit(r, &rl);
}

/* ll_abi - the kernel's Landlock ABI version, or 0 without Landlock. */
static int ll_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

/*
 * ll_allow - grant access (within handled) beneath path.  A rule on a
 * file keeps only the rights a file can have.  Returns 0, or -1 with
 * errno (ENOENT when path does not exist).
 */
static int ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct ll_path_beneath_attr pb = {0};
	struct stat sb;
	int rc = -1, saved;

	pb.parent_fd = open(path, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0)
		return -1;
	if (fstat(pb.parent_fd, &sb) != 0)
		goto out;
	if (!S_ISDIR(sb.st_mode))
		access &= LL_FS_FILE;
	pb.allowed_access = access & handled;
	rc = (int)syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
out:
	saved = errno;
	close(pb.parent_fd);
	errno = saved;
	return rc;
}

/*
 * elf_interp - the ELF interpreter (dynamic loader) that path names in
 * its PT_INTERP header, into buf; "" for a static program.  -1 with
 * errno if path cannot be read or is not an ELF file of this machine.
 */
static int elf_interp(const char *path, char *buf, size_t cap)
{
#if UINTPTR_MAX > 0xffffffffU
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
#else
	Elf32_Ehdr eh;
	Elf32_Phdr ph;
#endif
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_phentsize != sizeof ph) {
		errno = ENOEXEC;
		goto out;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
		    (ssize_t)sizeof ph) {
			errno = ENOEXEC;
			goto out;
		}
		if (ph.p_type != PT_INTERP)
			continue;
		if (ph.p_filesz == 0 || ph.p_filesz > cap ||
		    pread(fd, buf, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz ||
		    buf[ph.p_filesz - 1] != '\0') {
			buf[0] = '\0';
			errno = ENOEXEC;
			goto out;
		}
		break;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/*
 * exec_rules - let execve reach exec_path (and its loader) only, and let
 * the loader and the program read what they need.  0, or -1 with a
 * message in err.
 */
static int exec_rules(int ruleset, const struct sandbox_policy *p, uint64_t handled, char *err,
		      size_t errlen)
{
	char interp[SANDBOX_PATH_MAX];

	if (elf_interp(p->exec_path, interp, sizeof interp) != 0 ||
	    ll_allow(ruleset, p->exec_path, LL_FS_EXECUTE | LL_FS_READ_FILE, handled) != 0) {
		snprintf(err, errlen, "%s: %s", p->exec_path, strerror(errno));
		return -1;
	}
	if (interp[0] && ll_allow(ruleset, interp, LL_FS_EXECUTE | LL_FS_READ_FILE, handled) != 0) {
		snprintf(err, errlen, "%s: %s", interp, strerror(errno));
		return -1;
	}
	for (size_t i = 0; loader_paths[i]; i++) {
		if (ll_allow(ruleset, loader_paths[i], LL_FS_READ_FILE, handled) != 0 &&
		    errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", loader_paths[i], strerror(errno));
			return -1;
		}
	}
	/* A file that is missing now stays out of reach; the program then
	 * reports it (smtpd goes on without TLS). */
	for (size_t i = 0; p->exec_read && p->exec_read[i]; i++) {
		const char *path = p->exec_read[i];
		if (ll_allow(ruleset, path, LL_FS_READ_FILE | LL_FS_READ_DIR, handled) == 0 ||
		    errno == ENOENT || errno == ENOTDIR)
			continue;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* dir_of - the directory part of path into buf ("." for a bare name). */
static void dir_of(const char *path, char *buf, size_t cap)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!slash)
		snprintf(buf, cap, ".");
	else if (n == 0)
		snprintf(buf, cap, "/");
	else
		snprintf(buf, cap, "%.*s", (int)n, path);
}

/*
 * landlock - build the domain and restrict this process to it.  Returns
 * SANDBOX_FULL, SANDBOX_PARTIAL (a kernel without it; err says so) or
 * SANDBOX_FAILED (err says why).
 */
static enum sandbox_result landlock(const struct sandbox_policy *p, char *err, size_t errlen)
{
	struct ll_ruleset_attr attr = {0};
	size_t attr_size = sizeof attr.handled_access_fs;
	char dir[SANDBOX_PATH_MAX];
	int abi = ll_abi(), ruleset, rc = -1;

	if (abi == 0) {
		snprintf(err, errlen,
			 "this kernel has no Landlock: the file system is not confined%s",
			 p->exec_path ? ", and execve is not confined to the TLS helper" : "");
		return SANDBOX_PARTIAL;
	}
	attr.handled_access_fs = abi >= 5   ? LL_FS_ABI5
				 : abi >= 3 ? LL_FS_ABI3
				 : abi >= 2 ? LL_FS_ABI2
					    : LL_FS_ABI1;
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attr_size = sizeof attr;
	}
	ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0) {
		snprintf(err, errlen, "landlock_create_ruleset: %s", strerror(errno));
		return SANDBOX_FAILED;
	}
	dir_of(p->db_path, dir, sizeof dir);
	if (ll_allow(ruleset, dir, LL_FS_DATA, attr.handled_access_fs) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	/* A spool directory that does not exist stays out of reach: the
	 * spool's own error (451 for a large message) says what is wrong. */
	if (ll_allow(ruleset, p->spool_dir, LL_FS_DATA, attr.handled_access_fs) != 0 &&
	    errno != ENOENT && errno != ENOTDIR) {
		snprintf(err, errlen, "%s: %s", p->spool_dir, strerror(errno));
		goto out;
	}
	if (p->exec_path && exec_rules(ruleset, p, attr.handled_access_fs, err, errlen) != 0)
		goto out;
	if ((rc = (int)syscall(__NR_landlock_restrict_self, ruleset, 0)) != 0)
		snprintf(err, errlen, "landlock_restrict_self: %s", strerror(errno));
out:
	close(ruleset);
	return rc == 0 ? SANDBOX_FULL : SANDBOX_FAILED;
}

/*
 * seccomp - install the compiled-in filter for this policy.  Returns
 * SANDBOX_FULL, SANDBOX_PARTIAL on an architecture that has no filter
 * here, or SANDBOX_FAILED; err says why for the last two.
 */
static enum sandbox_result seccomp(const struct sandbox_policy *p, char *err, size_t errlen)
{
#ifdef SANDBOX_ARCH
	struct sock_fprog prog = {
		.len = p->exec_path ? sizeof exec_filter / sizeof exec_filter[0]
				    : sizeof session_filter / sizeof session_filter[0],
		.filter = (struct sock_filter *)(uintptr_t)(p->exec_path ? exec_filter
									 : session_filter),
	};

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(errno));
		return SANDBOX_FAILED;
	}
	return SANDBOX_FULL;
#else
	(void)p;
	snprintf(err, errlen, "no system-call filter is built for this architecture");
	return SANDBOX_PARTIAL;
#endif
}

enum sandbox_result sandbox_apply(const struct sandbox_policy *p, char *err, size_t errlen)
{
	char note[256] = "";
	enum sandbox_result ll, sc;

	err[0] = '\0';
	if (limit(RLIMIT_CORE, 0) != 0 || limit(RLIMIT_NOFILE, SANDBOX_NOFILE) != 0 ||
	    limit(RLIMIT_DATA, SANDBOX_DATA_MAX) != 0 ||
	    (!p->exec_path && limit(RLIMIT_NPROC, 0) != 0)) {
		snprintf(err, errlen, "setrlimit: %s", strerror(errno));
		return SANDBOX_FAILED;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return SANDBOX_FAILED;
	}
	if ((ll = landlock(p, err, errlen)) == SANDBOX_FAILED)
		return ll;
	snprintf(note, sizeof note, "%s", err); /* what Landlock could not do */
	if ((sc = seccomp(p, err, errlen)) == SANDBOX_FAILED)
		return sc;
	if (ll == SANDBOX_PARTIAL && sc == SANDBOX_PARTIAL)
		snprintf(err + strlen(err), errlen - strlen(err), "; %s", note);
	else if (ll == SANDBOX_PARTIAL)
		snprintf(err, errlen, "%s", note);
	return ll == SANDBOX_FULL && sc == SANDBOX_FULL ? SANDBOX_FULL : SANDBOX_PARTIAL;
}

#endif
