/*
 * sandbox.h - what smtpd may still do once it has opened what it needs.
 *
 * One call, made after the database, the log and the connection are
 * open and before the first client byte is read.  It cannot be undone.
 * The design (layers, the two filters, the TLS helper) is in sandbox.c.
 */
#ifndef SMTPD_SANDBOX_H
#define SMTPD_SANDBOX_H

#include <stddef.h>

/* Descriptors a process may hold once sandboxed (RLIMIT_NOFILE): the
 * connection, the database and its WAL, index and queue descriptors, a
 * spool file, a log socket, a socketpair and a child's pipe, with room. */
#define SANDBOX_NOFILE 32

struct sandbox_policy {
	const char *db_path;   /* the database; its directory stays read-write */
	const char *spool_dir; /* $TMPDIR, where large bodies spool; read-write */
	/*
	 * The one program that may be started (the TLS helper), or NULL for
	 * none.  An ELF program, by absolute path.  When set, the process
	 * may socketpair(AF_UNIX), fork (not threads), dup2/dup3, execve,
	 * wait4 and kill, and map code; Landlock lets execve reach only this
	 * file (and its ELF interpreter), and RLIMIT_NPROC is left alone.
	 * The program inherits the filter: what it calls must be on the
	 * exec lists in sandbox.c.
	 */
	const char *exec_path;
	/*
	 * With exec_path: more paths the program must read (its certificate
	 * and key, a configuration file), NULL-terminated, or NULL; one that
	 * does not exist is skipped.  The program inherits this process's
	 * Landlock domain, so whatever it reads, this process can read too.
	 */
	const char *const *exec_read;
};

enum sandbox_result {
	SANDBOX_FAILED = -1, /* err says why; the process must not go on */
	SANDBOX_FULL = 0,    /* every layer is in place */
	SANDBOX_PARTIAL,     /* a layer this system lacks is left out; err says which */
	SANDBOX_OFF,	     /* built with -DSMTPD_NO_SANDBOX: nothing was done */
};

/*
 * sandbox_apply - lower the resource limits, set no_new_privs, confine
 * the file system with Landlock and install the compiled-in seccomp
 * filter, in that order.  p and its strings are only read during the
 * call.  On SANDBOX_FAILED some layers may already be in place, and the
 * caller must stop (the process is in an unknown state).  err gets a
 * message for SANDBOX_FAILED and SANDBOX_PARTIAL, "" otherwise.
 * Built with -DSMTPD_NO_SANDBOX (sanitizer and valgrind builds), it does
 * nothing and returns SANDBOX_OFF.
 */
enum sandbox_result sandbox_apply(const struct sandbox_policy *p, char *err, size_t errlen);

#endif
