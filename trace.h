/*
 * trace.h - the trace header smtpd writes before each message it stores
 * (RFC 5321 4.4): a Return-Path: line and a Received: line.
 *
 * A pure function of the envelope and the message's id: the store calls
 * it once it has the id, and nothing calls back up to the session.
 */
#ifndef SMTPD_TRACE_H
#define SMTPD_TRACE_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "limits.h"
#include "tlsinfo.h"

/*
 * The longest header: each variable part at its limit (paths of
 * SMTP_PATH_MAX, names of SMTP_DOMAIN_MAX, an IPv6 address, a 20-digit
 * id, a date, the TLS version and cipher twice) plus the fixed words,
 * with room to spare.  Nothing the client sends can make it longer;
 * trace_header() still checks.
 */
#define TRACE_MAX                                                                                  \
	(2 * SMTP_PATH_MAX + 3 * SMTP_DOMAIN_MAX + 2 * INET6_ADDRSTRLEN + 20 + 64 +                \
	 TLS_PROTOCOL_MAX + 2 * TLS_CIPHER_MAX + 256)

/*
 * trace_header - write the trace lines for message id, delivered with
 * env, into buf (cap bytes, NUL-terminated), each line ending in CR LF.
 * Returns their length, or 0 if they do not fit in cap (never with cap
 * of TRACE_MAX and the limits the session enforces).
 */
size_t trace_header(const struct envelope *env, int64_t id, char *buf, size_t cap);

#endif
