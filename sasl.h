/*
 * sasl.h - the PLAIN mechanism (RFC 4616) as POP3's AUTH carries it
 * (RFC 5034): base64 of authzid NUL authcid NUL passwd.
 */
#ifndef SMTPD_SASL_H
#define SMTPD_SASL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * sasl_plain - decode the base64 text b64 (len bytes) and split it.  On
 * success the login name is in authcid and the password in passwd
 * (both NUL-terminated, cap bytes each).  False when the base64 is
 * malformed, a part is too long or empty, or authzid names someone
 * other than authcid (acting for another user is not offered).
 */
bool sasl_plain(const char *b64, size_t len, char *authcid, char *passwd, size_t cap);

#endif
