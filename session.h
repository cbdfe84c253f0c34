/*
 * session.h - one SMTP session (RFC 5321) as a state machine.
 *
 * The session reads commands and writes replies through an io, keeps
 * messages through an opaque store, and touches no sockets, no SQL, no
 * environment and never exits: the server, the tests and the fuzzer all
 * drive this same code.
 */
#ifndef SMTPD_SESSION_H
#define SMTPD_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"
#include "store.h"
#include "tlsinfo.h"

enum starttls_result {
	STARTTLS_OK,	 /* TLS is up; the io now carries the plaintext */
	STARTTLS_CLIENT, /* the client failed the handshake: end, quietly */
	STARTTLS_FAULT,	 /* our side failed: end, with status 1 */
};

struct config {
	const char *hostname;	    /* greeting, EHLO reply, Received: */
	uint64_t max_size;	    /* message size limit (RFC 1870) */
	unsigned max_recipients;    /* per message */
	const char *const *domains; /* accepted recipient domains */
	size_t ndomains;	    /* 0: accept every recipient */
	bool refuse_early_talkers;  /* 554 to a client that talks first */
	const char *spool_dir;	    /* for bodies too big for memory */
	/*
	 * STARTTLS (RFC 3207), or NULL when TLS is not offered.  Called
	 * once the "220 2.0.0" has been flushed; it does the handshake
	 * through the TLS helper, points io at the plaintext side and fills
	 * *info.  The session never sees a socket.
	 */
	enum starttls_result (*starttls)(void *ctx, struct io *io, struct tls_info *info);
	void *starttls_ctx;
	const struct tls_info *tls; /* TLS already in front (mailtls --implicit), or NULL */
};

/*
 * session_run - greet the client, run the dialogue until QUIT, end of
 * input, timeout or the error limit, and store each accepted message in
 * st.  client_addr is the peer's IP address ("" when unknown).
 * Returns 0 when the session ended for the client's reasons, 1 for a
 * fault of our own.
 */
int session_run(const struct config *cfg, struct io *io, struct store *st, const char *client_addr);

#endif
