/*
 * reply.c - sending replies (see reply.h), and the table of them by
 * enum for what needs to look one up: the log, a remembered refusal.
 */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "limits.h"

static const struct {
	const char *code; /* RFC 5321 reply code */
	const char *dsn;  /* RFC 3463 enhanced code, or NULL */
	const char *text; /* printf format for the rest of the line */
} replies[RP_COUNT] = {
/* ROW(RPL_X) - the table row of reply X from its RPL_ name in reply.h. */
#define ROW_OF(r, code, dsn, text) [r] = {code, dsn, text}
#define ROW(R)			   ROW_OF(R)
	ROW(RPL_GREETING),
	ROW(RPL_BYE),
	ROW(RPL_HELO),
	ROW(RPL_EHLO_KEYWORD),
	ROW(RPL_OK),
	ROW(RPL_SENDER_OK),
	ROW(RPL_RCPT_OK),
	ROW(RPL_QUEUED),
	ROW(RPL_CHUNK_OK),
	ROW(RPL_VRFY),
	ROW(RPL_HELP),
	ROW(RPL_DATA_GO),
	ROW(RPL_EARLY_TALKER),
	ROW(RPL_TLS_GO),
	ROW(RPL_TLS_PIPELINED),
	ROW(RPL_UNAVAILABLE),
	ROW(RPL_TIMEOUT),
	ROW(RPL_TOO_MANY_ERRORS),
	ROW(RPL_STORE_TEMP),
	ROW(RPL_STORE_FULL),
	ROW(RPL_TOO_MANY_RCPTS),
	ROW(RPL_UNKNOWN),
	ROW(RPL_BAD_CHARS),
	ROW(RPL_LINE_TOO_LONG),
	ROW(RPL_SYNTAX),
	ROW(RPL_BAD_SENDER),
	ROW(RPL_BAD_RCPT),
	ROW(RPL_NOT_IMPLEMENTED),
	ROW(RPL_BAD_SEQUENCE),
	ROW(RPL_RELAY_DENIED),
	ROW(RPL_NEEDS_UTF8),
	ROW(RPL_BARE_EOL),
	ROW(RPL_SIZE_DECLARED),
	ROW(RPL_TOO_BIG),
	ROW(RPL_STORE_PERM),
	ROW(RPL_PARAM_UNKNOWN),
	ROW(RPL_PARAM_BAD),
#undef ROW
#undef ROW_OF
};

void vreply(struct io *io, enum reply r, bool more, const char *code, const char *dsn,
	    const char *fmt, va_list ap)
{
	char line[SMTP_REPLY_LINE_MAX + 1];
	size_t room = SMTP_REPLY_LINE_MAX - 2; /* the CR LF always fits */
	int n;

	(void)r; /* named for the caller: the session counts errors by it */
	if (dsn)
		n = snprintf(line, room + 1, "%s%c%s ", code, more ? '-' : ' ', dsn);
	else
		n = snprintf(line, room + 1, "%s%c", code, more ? '-' : ' ');
	n += vsnprintf(line + n, room + 1 - (size_t)n, fmt, ap);
	if ((size_t)n > room)
		n = (int)room;
	memcpy(line + n, "\r\n", 2);
	io_write(io, line, (size_t)n + 2);
}

void reply(struct io *io, enum reply r, const char *code, const char *dsn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(io, r, false, code, dsn, fmt, ap);
	va_end(ap);
}

void reply_more(struct io *io, enum reply r, const char *code, const char *dsn, const char *fmt,
		...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(io, r, true, code, dsn, fmt, ap);
	va_end(ap);
}

void reply_plain(struct io *io, enum reply r)
{
	reply(io, r, replies[r].code, replies[r].dsn, "%s", replies[r].text);
}

bool reply_is_error(enum reply r)
{
	return replies[r].code[0] == '4' || replies[r].code[0] == '5';
}

const char *reply_code(enum reply r)
{
	return replies[r].code;
}

const char *reply_dsn(enum reply r)
{
	return replies[r].dsn ? replies[r].dsn : "";
}
