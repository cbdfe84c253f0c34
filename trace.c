/*
 * trace.c - the Return-Path: and Received: lines (see trace.h).
 *
 *   Return-path-line = "Return-Path:" FWS Reverse-path <CRLF>
 *   Time-stamp-line  = "Received:" FWS Stamp <CRLF>
 *   Stamp = From-domain By-domain Opt-info [CFWS] ";" FWS date-time
 *                                                  (RFC 5321 4.4)
 *
 * Over TLS the protocol is ESMTPS or UTF8SMTPS (RFC 3848, RFC 6531), a
 * comment after it names the TLS version and cipher suite, and the
 * "tls" clause of RFC 8314 7.4 gives the cipher suite to programs.
 */
#include "trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "parse.h"

/* name_ok - is the whole HELO name what RFC 5321 4.1.1.1 asks for, a
 * Domain (with U-labels in an SMTPUTF8 transaction) or an address
 * literal? */
static bool name_ok(const char *name, bool utf8)
{
	size_t n = parse_domain_utf8(name, utf8);

	if (n == 0)
		n = parse_address_literal(name);
	return n > 0 && name[n] == '\0';
}

/*
 * from_domain - the From-domain after "from " (RFC 5321 4.4):
 *   Extended-Domain = Domain / ( Domain FWS "(" TCP-info ")" ) /
 *                     ( address-literal FWS "(" TCP-info ")" )
 *   TCP-info        = address-literal / ( Domain FWS address-literal )
 * The client's name goes in only when it is a Domain or an address
 * literal: anything else (a "(", "[", ";", "@" ...) could pass for a
 * comment or a forged address in the reader's eyes.  In its place stand
 * the connection's own address literal, or "unknown" without one.  The
 * name as sent is kept in messages.helo.
 */
static void from_domain(const struct envelope *env, char *buf, size_t cap)
{
	const char *addr = env->client_addr, *tag = strchr(addr, ':') ? "IPv6:" : "";

	if (name_ok(env->helo, env->smtputf8)) {
		if (*addr)
			snprintf(buf, cap, "%s ([%s%s])", env->helo, tag, addr);
		else
			snprintf(buf, cap, "%s", env->helo);
	} else if (*addr) {
		snprintf(buf, cap, "[%s%s] ([%s%s])", tag, addr, tag, addr);
	} else {
		snprintf(buf, cap, "unknown");
	}
}

size_t trace_header(const struct envelope *env, int64_t id, char *buf, size_t cap)
{
	char date[64], from[SMTP_DOMAIN_MAX + 2 * INET6_ADDRSTRLEN + 32];
	char forwho[SMTP_PATH_MAX + 16] = "";
	char comment[TLS_PROTOCOL_MAX + TLS_CIPHER_MAX + 8] = "", clause[TLS_CIPHER_MAX + 8] = "";
	struct tm tm;
	int n;

	gmtime_r(&env->received, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	from_domain(env, from, sizeof from);
	/* Name the recipient only when there is one: the header is seen by
	 * all of them. */
	if (env->nrcpt == 1)
		snprintf(forwho, sizeof forwho, "\r\n\tfor <%s>", env->rcpt[0].addr);
	if (env->tls_version && env->tls_cipher) {
		snprintf(comment, sizeof comment, " (%s %s)", env->tls_version, env->tls_cipher);
		snprintf(clause, sizeof clause, "\r\n\ttls %s", env->tls_cipher);
	}
	n = snprintf(buf, cap,
		     "Return-Path: <%s>\r\n"
		     "Received: from %s\r\n"
		     "\tby %s with %s%s id %" PRId64 "%s%s;\r\n"
		     "\t%s\r\n",
		     env->mail_from, from, env->by, env->protocol, comment, id, forwho, clause,
		     date);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
