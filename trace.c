/*
 * trace.c - the Return-Path: and Received: lines (see trace.h).
 *
 *   Return-path-line = "Return-Path:" FWS Reverse-path <CRLF>
 *   Time-stamp-line  = "Received:" FWS Stamp <CRLF>
 *   Stamp = From-domain By-domain Opt-info [CFWS] ";" FWS date-time
 *                                                  (RFC 5321 4.4)
 */
#include "trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

size_t trace_header(const struct envelope *env, int64_t id, char *buf, size_t cap)
{
	const char *addr = env->client_addr;
	char date[64], tcp[INET6_ADDRSTRLEN + 16] = "", forwho[SMTP_PATH_MAX + 16] = "";
	struct tm tm;
	int n;

	gmtime_r(&env->received, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	/* TCP-info is an address literal; IPv6 ones carry a tag. */
	if (*addr)
		snprintf(tcp, sizeof tcp, " ([%s%s])", strchr(addr, ':') ? "IPv6:" : "", addr);
	/* Name the recipient only when there is one: the header is seen by
	 * all of them. */
	if (env->nrcpt == 1)
		snprintf(forwho, sizeof forwho, "\r\n\tfor <%s>", env->rcpt[0].addr);
	n = snprintf(buf, cap,
		     "Return-Path: <%s>\r\n"
		     "Received: from %s%s\r\n"
		     "\tby %s with %s id %" PRId64 "%s;\r\n"
		     "\t%s\r\n",
		     env->mail_from, env->helo, tcp, env->by, env->protocol, id, forwho, date);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}
