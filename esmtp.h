/*
 * esmtp.h - the parameters of MAIL and RCPT (RFC 5321 4.1.2 esmtp-param)
 * for the extensions this server implements: SIZE (RFC 1870), BODY (RFC
 * 6152), SMTPUTF8 (RFC 6531), and RET, ENVID, NOTIFY, ORCPT (RFC 3461).
 *
 * Pure functions: they parse and check, and the session decides.
 */
#ifndef SMTPD_ESMTP_H
#define SMTPD_ESMTP_H

#include <stdbool.h>
#include <stdint.h>

#include "limits.h"
#include "reply.h"

/* RFC 3461 4.4: an ENVID is at most 100 characters. */
#define DSN_ENVID_MAX 100
/* RFC 3461 4.2: ORCPT adds at most 500 characters to RCPT. */
#define DSN_ORCPT_MAX 500

struct mail_params {
	bool has_size;
	uint64_t size;
	const char *body; /* "7BIT", "8BITMIME", or NULL */
	bool smtputf8;
	const char *ret;	       /* "FULL", "HDRS", or NULL */
	char envid[DSN_ENVID_MAX + 1]; /* xtext as sent; "" when absent */
};

struct rcpt_params {
	bool smtputf8;		       /* in: the transaction uses SMTPUTF8 */
	char notify[32];	       /* "NEVER" or e.g. "SUCCESS,FAILURE" */
	char orcpt[DSN_ORCPT_MAX + 1]; /* addr-type ";" xtext as sent */
};

/*
 * esmtp_mail, esmtp_rcpt - parse the parameters after the path (s points
 * at the space before the first, or at the end).  Return RP_OK, or the
 * refusal with *why set for RP_PARAM_BAD.  Keywords are case-insensitive;
 * a repeated one is refused.  smtputf8: the transaction's MAIL had
 * SMTPUTF8, which lets ORCPT carry raw UTF-8 (RFC 6533 3).
 */
enum reply esmtp_mail(const char *s, struct mail_params *mp, const char **why);
enum reply esmtp_rcpt(const char *s, bool smtputf8, struct rcpt_params *rp, const char **why);

#endif
