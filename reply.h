/*
 * reply.h - every reply this server sends, in one table.
 *
 * Each has its basic code and its RFC 3463 enhanced code.  The texts end
 * up in bounce messages that strangers read, so they are plain words.
 */
#ifndef SMTPD_REPLY_H
#define SMTPD_REPLY_H

#include <stdarg.h>

#include "io.h"

enum reply {
	RP_GREETING, /* hostname */
	RP_BYE,	     /* hostname */
	RP_HELO,     /* hostname */
	RP_OK,
	RP_SENDER_OK,
	RP_RCPT_OK,
	RP_QUEUED,   /* message id */
	RP_CHUNK_OK, /* chunk size */
	RP_VRFY,
	RP_HELP, /* command list */
	RP_DATA_GO,
	RP_EARLY_TALKER, /* hostname */
	RP_TLS_GO,
	RP_TLS_PIPELINED,   /* hostname */
	RP_UNAVAILABLE,	    /* hostname */
	RP_TIMEOUT,	    /* hostname */
	RP_TOO_MANY_ERRORS, /* hostname */
	RP_STORE_TEMP,
	RP_STORE_FULL,
	RP_TOO_MANY_RCPTS,
	RP_UNKNOWN,
	RP_BAD_CHARS,
	RP_LINE_TOO_LONG,
	RP_SYNTAX,     /* usage */
	RP_BAD_SENDER, /* why */
	RP_BAD_RCPT,   /* why */
	RP_NOT_IMPLEMENTED,
	RP_BAD_SEQUENCE, /* what to do first */
	RP_RELAY_DENIED,
	RP_NEEDS_UTF8,
	RP_BARE_EOL,
	RP_SIZE_DECLARED,
	RP_TOO_BIG,
	RP_STORE_PERM,
	RP_PARAM_UNKNOWN,
	RP_PARAM_BAD, /* which */
	RP_COUNT
};

/* reply - queue one reply line; arguments as the comment above says. */
void reply(struct io *io, enum reply r, ...);
void vreply(struct io *io, enum reply r, va_list ap);

/* reply_code, reply_dsn - "250" and "2.0.0", for the log. */
const char *reply_code(enum reply r);
const char *reply_dsn(enum reply r);

/* reply_is_error - 4xx and 5xx replies count towards the error limit. */
int reply_is_error(enum reply r);

#endif
