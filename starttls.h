/*
 * starttls.h - smtpd's side of STARTTLS: the TLS helper (mailtls) as a
 * process, kept ready outside the sandbox and started on the client's
 * STARTTLS.  The session sees only tls_helper_start(), through its
 * config; this file does the processes and sockets.
 */
#ifndef SMTPD_STARTTLS_H
#define SMTPD_STARTTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "io.h"
#include "log.h"
#include "session.h"

struct tls_helper {
	const char *path;	    /* mailtls */
	const char *cert, *key;	    /* --tls-cert, --tls-key */
	unsigned handshake_timeout; /* seconds, passed to mailtls */
	unsigned idle_timeout;	    /* seconds, passed to mailtls */
	enum log_target log;	    /* passed to mailtls */
	int ctl;		    /* our end of the socketpair to the standby, or -1 */
	pid_t pid;		    /* the standby, then mailtls */
};

/*
 * tls_helper_usable - can TLS be offered?  The helper must be
 * executable, the certificate readable and the key present.  smtpd
 * never opens the key: mailtls --check (tls_helper_check) reads it.
 * false with the reason in err.
 */
bool tls_helper_usable(const struct tls_helper *h, char *err, size_t cap);

/*
 * tls_helper_check - run "mailtls --check" on the certificate and key
 * (--check-config); its exit status, its words on stderr.
 */
int tls_helper_check(const struct tls_helper *h);

/*
 * tls_helper_standby - start mailtls --starttls --wait-start with the
 * network connection on net_in/net_out and a socketpair to us.  Called
 * before the sandbox: the child stays outside it, so that mailtls can
 * read the key while smtpd cannot.  mailtls loads its credentials, then
 * waits for one byte on the socketpair before the handshake; at the end
 * of the stream it exits.  false with the reason in err (mailtls could
 * not be started).
 */
bool tls_helper_standby(struct tls_helper *h, int net_in, int net_out, char *err, size_t cap);

/*
 * tls_helper_start - the session's starttls (session.h): wake the
 * standby, point io at the plaintext socket (keeping its deadlines),
 * and read mailtls's line into *info.
 */
enum starttls_result tls_helper_start(void *ctx, struct io *io, struct tls_info *info);

/* tls_helper_close - let the standby go if it was never woken. */
void tls_helper_close(struct tls_helper *h);

#endif
