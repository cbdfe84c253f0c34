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
#include "store.h"

struct pop3_config {
	const char *hostname;	/* in the greeting */
	bool plaintext_login;	/* a login without TLS is allowed (loopback, tests) */
	bool tls;		/* the connection is already encrypted */
	bool stls;		/* STLS can be offered */
	unsigned fail_delay_ms; /* a failed login is answered this long after it came */
};

enum pop3_end {
	POP3_DONE,     /* the client ended it (QUIT, EOF, timeout, abuse) */
	POP3_FAULT,    /* a fault of ours */
	POP3_STARTTLS, /* +OK to STLS sent: start TLS, then run a new session */
};

/*
 * pop3_run - run one session until QUIT, end of input, timeout, the
 * error or login failure limit, or STLS.  greet: send the greeting (not
 * after STLS: RFC 2595 4, the client speaks first again).  client_addr
 * is the peer's IP address ("" when unknown), for the log.
 */
enum pop3_end pop3_run(const struct pop3_config *cfg, struct io *io, struct store *st,
		       const char *client_addr, bool greet);

#endif
