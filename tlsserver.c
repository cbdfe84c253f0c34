/*
 * tlsserver.c - one TLS server connection over GnuTLS (see tlsserver.h).
 *
 * Everything is non-blocking and waits in poll() under a deadline, so a
 * client that stalls in the handshake, or stops reading, cannot hold
 * the process.  The relay is one loop over both directions with one
 * bounded buffer each: a side that does not read stops us reading from
 * the other side, and neither write can block the other.
 */
#include "tlsserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/*
 * TLS 1.2 and 1.3 only (RFC 8996 retires 1.0 and 1.1); otherwise
 * GnuTLS's NORMAL set.  With an ECDSA and an RSA certificate loaded,
 * GnuTLS picks the one the client's signature algorithms allow.
 */
#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct tls_server {
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_session_t session;
	int rfd, wfd;
};

/* now_ms - the monotonic clock in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* nonblocking - set O_NONBLOCK on fd. */
static void nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* check_dates - fail if a loaded certificate is expired or not yet valid. */
static bool check_dates(gnutls_certificate_credentials_t cred, size_t n, char *err, size_t cap)
{
	time_t now = time(NULL);
	bool ok = true;

	for (size_t i = 0; i < n && ok; i++) {
		gnutls_datum_t der;
		gnutls_x509_crt_t crt;

		if (gnutls_certificate_get_crt_raw(cred, (unsigned)i, 0, &der) < 0 ||
		    gnutls_x509_crt_init(&crt) < 0)
			continue;
		if (gnutls_x509_crt_import(crt, &der, GNUTLS_X509_FMT_DER) == 0) {
			if (gnutls_x509_crt_get_expiration_time(crt) < now) {
				snprintf(err, cap, "certificate %zu has expired", i + 1);
				ok = false;
			} else if (gnutls_x509_crt_get_activation_time(crt) > now) {
				snprintf(err, cap, "certificate %zu is not valid yet", i + 1);
				ok = false;
			}
		}
		gnutls_x509_crt_deinit(crt);
	}
	return ok;
}

struct tls_server *tls_server_new(const char *const *certs, const char *const *keys, size_t n,
				  bool check, int rfd, int wfd, char *err, size_t cap)
{
	struct tls_server *t = calloc(1, sizeof *t);
	int r = GNUTLS_E_MEMORY_ERROR;

	if (!t)
		goto fail;
	t->rfd = rfd;
	t->wfd = wfd;
	if ((r = gnutls_certificate_allocate_credentials(&t->cred)) < 0)
		goto fail;
	/* The match costs a signature (20 M instructions for RSA-2048) in
	 * every connection; --check makes it once. */
	if (!check)
		gnutls_certificate_set_flags(t->cred, GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
	for (size_t i = 0; i < n; i++) {
		r = gnutls_certificate_set_x509_key_file2(t->cred, certs[i], keys[i],
							  GNUTLS_X509_FMT_PEM, NULL, 0);
		if (r < 0) {
			snprintf(err, cap, "certificate %s, key %s: %s", certs[i], keys[i],
				 gnutls_strerror(r));
			goto fail_quiet;
		}
	}
	if (check && !check_dates(t->cred, n, err, cap))
		goto fail_quiet;
	if ((r = gnutls_priority_init(&t->prio, TLS_PRIORITY, NULL)) < 0 ||
	    (r = gnutls_init(&t->session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS)) <
		    0 ||
	    (r = gnutls_priority_set(t->session, t->prio)) < 0 ||
	    (r = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred)) < 0)
		goto fail;
	gnutls_certificate_server_set_request(t->session, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_int2(t->session, rfd, wfd);
	nonblocking(rfd);
	nonblocking(wfd);
	return t;
fail:
	snprintf(err, cap, "%s", gnutls_strerror(r));
fail_quiet:
	tls_server_free(t);
	return NULL;
}

void tls_server_free(struct tls_server *t)
{
	if (!t)
		return;
	if (t->session)
		gnutls_deinit(t->session);
	if (t->prio)
		gnutls_priority_deinit(t->prio);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

/* wait_io - wait until the session can go on in the direction GnuTLS
 * last wanted, until deadline; false when time is up. */
static bool wait_io(struct tls_server *t, int64_t deadline)
{
	bool out = gnutls_record_get_direction(t->session) == 1;
	struct pollfd p = {.fd = out ? t->wfd : t->rfd, .events = out ? POLLOUT : POLLIN};

	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return false;
		int r = poll(&p, 1, (int)left);
		if (r > 0 || (r < 0 && errno != EINTR))
			return true; /* an error shows in the next call */
	}
}

/* protocol_name - the version as Received: and the database spell it. */
static const char *protocol_name(gnutls_protocol_t v)
{
	return v == GNUTLS_TLS1_3 ? "TLSv1.3" : v == GNUTLS_TLS1_2 ? "TLSv1.2" : "";
}

/* session_info - fill info from the session just established. */
static void session_info(gnutls_session_t s, struct tls_info *info)
{
	const char *suite = gnutls_ciphersuite_get(s);
	char sni[TLS_SNI_MAX + 1];
	size_t len = sizeof sni;
	unsigned type;

	memset(info, 0, sizeof *info);
	snprintf(info->protocol, sizeof info->protocol, "%s",
		 protocol_name(gnutls_protocol_get_version(s)));
	snprintf(info->cipher, sizeof info->cipher, "%s", suite ? suite : "");
	if (gnutls_server_name_get(s, sni, &len, &type, 0) == 0 && type == GNUTLS_NAME_DNS &&
	    tls_sni_valid(sni))
		strcpy(info->sni, sni);
}

enum tls_status tls_handshake(struct tls_server *t, unsigned timeout_s, struct tls_info *info,
			      char *err, size_t cap)
{
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	int r;

	while ((r = gnutls_handshake(t->session)) < 0) {
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if (!wait_io(t, deadline)) {
				snprintf(err, cap, "handshake not done within %u s", timeout_s);
				return TLS_CLIENT;
			}
		} else if (gnutls_error_is_fatal(r)) {
			snprintf(err, cap, "%s", gnutls_strerror(r));
			if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
				snprintf(err, cap, "client sent alert: %s",
					 gnutls_alert_get_name(gnutls_alert_get(t->session)));
			return r == GNUTLS_E_MEMORY_ERROR ? TLS_FAULT : TLS_CLIENT;
		}
	}
	session_info(t->session, info);
	if (!info->protocol[0] || !info->cipher[0]) {
		snprintf(err, cap, "unexpected protocol version or cipher suite");
		return TLS_FAULT;
	}
	return TLS_OK;
}

/* One direction of the relay: bytes in buf[off, len) wait to be written. */
struct pipe_buf {
	char buf[TLS_RELAY_BUF];
	size_t off, len;
};

/* relay state: what has ended on which side. */
struct relay {
	struct tls_server *t;
	int app;
	struct pipe_buf down; /* client -> application */
	struct pipe_buf up;   /* application -> client */
	bool net_eof;	      /* no more from the client */
	bool net_dead;	      /* the client cannot be written to */
	bool app_eof;	      /* no more from the application */
	bool app_shut;	      /* the application was told: no more input */
	char *err;
	size_t cap;
};

/* net_failed - the client's side ended badly: remember why, stop both
 * ways with it. */
static void net_failed(struct relay *r, int code)
{
	if (!r->err[0])
		snprintf(r->err, r->cap, "%s", gnutls_strerror(code));
	r->net_eof = r->net_dead = true;
	r->down.len = r->down.off = 0;
	r->up.len = r->up.off = 0;
}

/* from_net - read one record's plaintext into the empty down buffer. */
static void from_net(struct relay *r)
{
	ssize_t n = gnutls_record_recv(r->t->session, r->down.buf, sizeof r->down.buf);

	if (n > 0) {
		r->down.off = 0;
		r->down.len = (size_t)n;
	} else if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
		r->net_eof = true; /* close_notify, or a plain TCP close */
	} else if (n == GNUTLS_E_REHANDSHAKE) {
		/* Renegotiation (TLS 1.2) is never needed here: decline. */
		gnutls_alert_send(r->t->session, GNUTLS_AL_WARNING, GNUTLS_A_NO_RENEGOTIATION);
	} else if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED &&
		   gnutls_error_is_fatal((int)n)) {
		net_failed(r, (int)n);
	}
}

/* to_net - send what the up buffer holds, as far as the socket takes. */
static void to_net(struct relay *r)
{
	ssize_t n = gnutls_record_send(r->t->session, r->up.buf + r->up.off, r->up.len - r->up.off);

	if (n > 0) {
		r->up.off += (size_t)n;
		if (r->up.off == r->up.len)
			r->up.off = r->up.len = 0;
	} else if (n != GNUTLS_E_AGAIN && n != GNUTLS_E_INTERRUPTED) {
		net_failed(r, (int)n);
	}
}

/* from_app - read the application's next bytes into the empty up buffer. */
static void from_app(struct relay *r)
{
	ssize_t n = read(r->app, r->up.buf, sizeof r->up.buf);

	if (n > 0 && !r->net_dead) {
		r->up.off = 0;
		r->up.len = (size_t)n;
	} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		r->app_eof = true;
	}
}

/* to_app - write what the down buffer holds to the application. */
static void to_app(struct relay *r)
{
	ssize_t n =
		send(r->app, r->down.buf + r->down.off, r->down.len - r->down.off, MSG_NOSIGNAL);

	if (n > 0) {
		r->down.off += (size_t)n;
		if (r->down.off == r->down.len)
			r->down.off = r->down.len = 0;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		/* The application is gone: nothing more to deliver to it. */
		r->down.off = r->down.len = 0;
		r->net_eof = true;
		r->app_eof = true;
	}
}

/* close_notify - tell the client we are done, and give it a moment to
 * answer, so that closing with its reply unread does not reset the
 * connection under our last bytes. */
static void close_notify(struct relay *r)
{
	int64_t deadline = now_ms() + TLS_CLOSE_GRACE_MS;
	int n;

	if (r->net_dead)
		return;
	while ((n = gnutls_bye(r->t->session, GNUTLS_SHUT_WR)) == GNUTLS_E_AGAIN ||
	       n == GNUTLS_E_INTERRUPTED)
		if (!wait_io(r->t, deadline))
			return;
	shutdown(r->t->wfd, SHUT_WR);
	while (!r->net_eof && wait_io(r->t, deadline)) {
		r->down.len = 0;
		from_net(r);
	}
}

enum tls_status tls_relay(struct tls_server *t, int app_fd, const char *pre, size_t pre_len,
			  unsigned idle_s, char *err, size_t cap)
{
	static struct relay r; /* 32 KiB: off the stack */

	memset(&r, 0, sizeof r);
	r.t = t;
	r.app = app_fd;
	r.err = err;
	r.cap = cap;
	err[0] = '\0';
	if (pre_len > sizeof r.down.buf)
		return TLS_FAULT;
	memcpy(r.down.buf, pre, pre_len);
	r.down.len = pre_len;
	nonblocking(app_fd);

	while (!r.app_eof || r.up.len > 0) {
		/* Tell the application once the client's side is done. */
		if (r.net_eof && r.down.len == 0 && !r.app_shut) {
			shutdown(app_fd, SHUT_WR);
			r.app_shut = true;
		}
		bool want_net_in = !r.net_eof && r.down.len == 0;
		bool buffered = want_net_in && gnutls_record_check_pending(t->session) > 0;
		struct pollfd p[3] = {
			{.fd = want_net_in ? t->rfd : -1, .events = POLLIN},
			{.fd = r.up.len > 0 ? t->wfd : -1, .events = POLLOUT},
			{.fd = app_fd,
			 .events = (short)((!r.app_eof && r.up.len == 0 ? POLLIN : 0) |
					   (r.down.len > 0 ? POLLOUT : 0))},
		};
		if (!p[2].events)
			p[2].fd = -1;
		int n = poll(p, 3, buffered ? 0 : (int)idle_s * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return TLS_FAULT;
		if (n == 0 && !buffered) {
			snprintf(err, cap, "idle for %u s", idle_s);
			return TLS_CLIENT;
		}
		if (buffered || p[0].revents)
			from_net(&r);
		if (p[1].revents)
			to_net(&r);
		if (p[2].revents & (POLLOUT | POLLERR | POLLHUP) && r.down.len > 0)
			to_app(&r);
		if (p[2].revents & (POLLIN | POLLERR | POLLHUP) && !r.app_eof && r.up.len == 0)
			from_app(&r);
	}
	close_notify(&r);
	return err[0] ? TLS_CLIENT : TLS_OK;
}
