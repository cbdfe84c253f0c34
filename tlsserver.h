/*
 * tlsserver.h - the server side of one TLS connection, over GnuTLS:
 * credentials, the handshake under a deadline, and the relay between
 * the encrypted network socket and a plaintext socket.  Only mailtls
 * links this file (and GnuTLS).
 */
#ifndef SMTPD_TLSSERVER_H
#define SMTPD_TLSSERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "tlsinfo.h"

#define TLS_CERTS_MAX	   2	 /* an ECDSA and an RSA certificate */
#define TLS_RELAY_BUF	   16384 /* one TLS record's worth of plaintext */
#define TLS_CLOSE_GRACE_MS 2000	 /* to send close_notify and hear the peer's */

enum tls_status {
	TLS_OK,
	TLS_CLIENT, /* the client failed, went away or timed out */
	TLS_FAULT,  /* our side failed */
};

struct tls_server;

/*
 * tls_server_new - load n certificate chains and their keys (PEM) for
 * a session on the network fds rfd/wfd.  check: also prove that each
 * key matches its certificate (a signature; slow for RSA, so left to
 * --check).  NULL on failure, with the reason in err.
 */
struct tls_server *tls_server_new(const char *const *certs, const char *const *keys, size_t n,
				  bool check, int rfd, int wfd, char *err, size_t cap);

/*
 * tls_handshake - do the server handshake within timeout_s seconds and
 * fill *info.  TLS_CLIENT with the reason in err when the client sent
 * something other than a good handshake, went away or was too slow.
 */
enum tls_status tls_handshake(struct tls_server *t, unsigned timeout_s, struct tls_info *info,
			      char *err, size_t cap);

/*
 * tls_relay - pass plaintext between the TLS session and app_fd until
 * the application closes its end (then send close_notify) or the
 * client is gone and the application has closed too; first deliver
 * the pre bytes to app_fd.  Ends also after idle_s seconds without a
 * byte either way.  err gets why the client side ended, if not cleanly.
 */
enum tls_status tls_relay(struct tls_server *t, int app_fd, const char *pre, size_t pre_len,
			  unsigned idle_s, char *err, size_t cap);

/* tls_server_free - release the session and credentials. */
void tls_server_free(struct tls_server *t);

#endif
