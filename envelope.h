/*
 * envelope.h - what the session hands down with a message: the SMTP
 * envelope and the facts about the connection that the store keeps and
 * the trace header records.  Plain data; the session owns every string.
 */
#ifndef SMTPD_ENVELOPE_H
#define SMTPD_ENVELOPE_H

#include <stddef.h>
#include <time.h>

/* One accepted recipient; the DSN fields (RFC 3461) are NULL when the
 * client gave none. */
struct recipient {
	const char *addr;
	const char *notify; /* NOTIFY=, upper case */
	const char *orcpt;  /* ORCPT=, as sent */
};

struct envelope {
	time_t received;	 /* when the message text ended */
	const char *by;		 /* this server's name (--hostname) */
	const char *helo;	 /* the HELO/EHLO argument, exactly as sent */
	const char *client_addr; /* the peer's IP address as text; "" when unknown */
	const char *protocol;	 /* "SMTP", "ESMTP", "UTF8SMTP", "ESMTPS", "UTF8SMTPS"
				    (RFC 3848, RFC 6531) */
	const char *tls_version; /* "TLSv1.2", "TLSv1.3", or NULL without TLS */
	const char *tls_cipher;	 /* the IANA cipher suite name, or NULL */
	const char *mail_from;	 /* "" for the null path */
	const char *body_type;	 /* BODY=: "7BIT", "8BITMIME", or NULL */
	int smtputf8;		 /* SMTPUTF8 was given (RFC 6531) */
	const char *dsn_ret;	 /* RET=: "FULL", "HDRS", or NULL */
	const char *dsn_envid;	 /* ENVID=, as sent, or NULL */
	const struct recipient *rcpt;
	size_t nrcpt;
};

#endif
