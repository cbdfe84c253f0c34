/*
 * pop3.h - one POP3 session (RFC 1939, RFC 2449, RFC 5034, RFC 2595) as
 * a state machine.
 *
 * Like session.c for SMTP: commands in through an io, replies out, the
 * mailbox through the store layer, and no sockets, no SQL, no
 * environment and no exit(), so the server, the tests and the fuzzer
 * all drive this same code.
 */
#ifndef SMTPD_POP3_H
#define SMTPD_POP3_H

#include <stdbool.h>

#include "io.h"
#include "session.h" /* enum starttls_result, shared with SMTP's STARTTLS */
#include "store.h"
#include "tlsinfo.h"

struct pop3_config {
	const char *hostname;	/* in the greeting */
	bool plaintext_login;	/* a login without TLS is allowed (loopback, tests) */
	unsigned fail_delay_ms; /* a failed login is answered this long after it came */
	/*
	 * STLS (RFC 2595), or NULL when TLS is not offered: called once the
	 * +OK has been flushed; it does the handshake through the TLS
	 * helper (starttls.c), points io at the plaintext and fills *info.
	 */
	enum starttls_result (*starttls)(void *ctx, struct io *io, struct tls_info *info);
	void *starttls_ctx;
	const struct tls_info *tls; /* TLS already in front (mailtls --implicit), or NULL */
};

enum pop3_end {
	POP3_DONE,  /* the client ended it (QUIT, EOF, timeout, abuse) */
	POP3_FAULT, /* a fault of ours */
};

/*
 * pop3_run - greet, then run one session until QUIT, end of input,
 * timeout, the error or login failure limit.  client_addr is the peer's
 * IP address ("" when unknown), for the log.
 */
enum pop3_end pop3_run(const struct pop3_config *cfg, struct io *io, struct store *st,
		       const char *client_addr);

#endif
