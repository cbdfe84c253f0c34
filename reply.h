/*
 * reply.h - every reply this server sends, in one list.
 *
 * Each has its basic code and its RFC 3463 enhanced code (none in 220,
 * the 250 to HELO/EHLO and 354, which RFC 2034 leaves without).  The
 * texts end up in bounce messages that strangers read, so they are plain
 * words.
 *
 * A reply is sent by its RPL_ name, which stands for all four parts:
 *     reply(io, RPL_QUEUED, (long long)id);
 * so the text is a literal at every call and the compiler checks the
 * arguments against it (format(printf)).
 */
#ifndef SMTPD_REPLY_H
#define SMTPD_REPLY_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>

#include "io.h"

enum reply {
	RP_GREETING,
	RP_BYE,
	RP_HELO,
	RP_EHLO_KEYWORD,
	RP_OK,
	RP_SENDER_OK,
	RP_RCPT_OK,
	RP_QUEUED,
	RP_CHUNK_OK,
	RP_VRFY,
	RP_HELP,
	RP_DATA_GO,
	RP_EARLY_TALKER,
	RP_TLS_GO,
	RP_TLS_PIPELINED,
	RP_UNAVAILABLE,
	RP_TIMEOUT,
	RP_TOO_MANY_ERRORS,
	RP_STORE_TEMP,
	RP_STORE_FULL,
	RP_TOO_MANY_RCPTS,
	RP_UNKNOWN,
	RP_BAD_CHARS,
	RP_LINE_TOO_LONG,
	RP_SYNTAX,
	RP_BAD_SENDER,
	RP_BAD_RCPT,
	RP_NOT_IMPLEMENTED,
	RP_BAD_SEQUENCE,
	RP_RELAY_DENIED,
	RP_NEEDS_UTF8,
	RP_BARE_EOL,
	RP_SIZE_DECLARED,
	RP_TOO_BIG,
	RP_STORE_PERM,
	RP_PARAM_UNKNOWN,
	RP_PARAM_BAD,
	RP_COUNT
};

/* name, code, enhanced code, text (a printf format: its arguments follow) */
#define RPL_GREETING	 RP_GREETING, "220", NULL, "%s ESMTP ready"
#define RPL_BYE		 RP_BYE, "221", "2.0.0", "%s closing connection"
#define RPL_HELO	 RP_HELO, "250", NULL, "%s"
#define RPL_EHLO_KEYWORD RP_EHLO_KEYWORD, "250", NULL, "%s"
#define RPL_EHLO_SIZE	 RP_EHLO_KEYWORD, "250", NULL, "SIZE %" PRIu64 /* RFC 1870 */
#define RPL_OK		 RP_OK, "250", "2.0.0", "Ok"
#define RPL_SENDER_OK	 RP_SENDER_OK, "250", "2.1.0", "Sender ok"
#define RPL_RCPT_OK	 RP_RCPT_OK, "250", "2.1.5", "Recipient ok"
#define RPL_QUEUED	 RP_QUEUED, "250", "2.0.0", "Ok: queued as %lld"
#define RPL_CHUNK_OK	 RP_CHUNK_OK, "250", "2.0.0", "%llu bytes received"
#define RPL_VRFY                                                                                   \
	RP_VRFY, "252", "2.5.0",                                                                   \
		"Addresses are not verified here; send the message and it will be tried"
#define RPL_HELP    RP_HELP, "214", "2.0.0", "Commands:%s"
#define RPL_DATA_GO RP_DATA_GO, "354", NULL, "End data with <CR><LF>.<CR><LF>"
#define RPL_EARLY_TALKER                                                                           \
	RP_EARLY_TALKER, "554", "5.5.0", "%s Protocol error: data sent before the greeting"
#define RPL_TLS_GO RP_TLS_GO, "220", "2.0.0", "Ready to start TLS" /* RFC 3207 4 */
/* CVE-2011-0411: bytes the client sent before it could read our 220. */
#define RPL_TLS_PIPELINED                                                                          \
	RP_TLS_PIPELINED, "554", "5.5.0", "%s Protocol error: data sent after STARTTLS"
#define RPL_UNAVAILABLE RP_UNAVAILABLE, "421", "4.3.0", "%s Service not available, try again later"
#define RPL_TIMEOUT	RP_TIMEOUT, "421", "4.4.2", "%s Timeout, closing connection"
#define RPL_TOO_MANY_ERRORS                                                                        \
	RP_TOO_MANY_ERRORS, "421", "4.7.0", "%s Too many errors, closing connection"
#define RPL_STORE_TEMP	   RP_STORE_TEMP, "451", "4.3.0", "Message could not be stored, try again later"
#define RPL_STORE_FULL	   RP_STORE_FULL, "452", "4.3.1", "Insufficient storage, try again later"
#define RPL_TOO_MANY_RCPTS RP_TOO_MANY_RCPTS, "452", "4.5.3", "Too many recipients"
#define RPL_UNKNOWN	   RP_UNKNOWN, "500", "5.5.2", "Command not recognized"
#define RPL_BAD_CHARS	   RP_BAD_CHARS, "500", "5.5.2", "Command contains invalid characters"
/* Not 5.5.6: RFC 4954 registered that for an AUTH line too long. */
#define RPL_LINE_TOO_LONG   RP_LINE_TOO_LONG, "500", "5.5.2", "Command line too long"
#define RPL_SYNTAX	    RP_SYNTAX, "501", "5.5.4", "Syntax: %s"
#define RPL_BAD_SENDER	    RP_BAD_SENDER, "501", "5.1.7", "Bad sender address: %s"
#define RPL_BAD_RCPT	    RP_BAD_RCPT, "501", "5.1.3", "Bad recipient address: %s"
#define RPL_NOT_IMPLEMENTED RP_NOT_IMPLEMENTED, "502", "5.5.1", "Command not implemented"
#define RPL_BAD_SEQUENCE    RP_BAD_SEQUENCE, "503", "5.5.1", "%s"
#define RPL_RELAY_DENIED    RP_RELAY_DENIED, "550", "5.7.1", "Recipient domain is not served here"
#define RPL_NEEDS_UTF8                                                                             \
	RP_NEEDS_UTF8, "553", "5.6.7", "Non-ASCII address or host name needs SMTPUTF8"
#define RPL_BARE_EOL                                                                               \
	RP_BARE_EOL, "550", "5.5.2",                                                               \
		"Message refused: lines must end with CR LF (bare CR or LF found)"
#define RPL_SIZE_DECLARED                                                                          \
	RP_SIZE_DECLARED, "552", "5.3.4", "Declared message size exceeds the limit"
#define RPL_TOO_BIG	  RP_TOO_BIG, "552", "5.3.4", "Message size exceeds the limit"
#define RPL_STORE_PERM	  RP_STORE_PERM, "554", "5.3.4", "Message could not be stored"
#define RPL_PARAM_UNKNOWN RP_PARAM_UNKNOWN, "555", "5.5.4", "Parameter not supported"
#define RPL_PARAM_BAD	  RP_PARAM_BAD, "501", "5.5.4", "Bad parameter: %s"

/*
 * reply - queue one line, the last (or only) one of reply r, given by its
 * RPL_ name; reply_more queues a line that more follow ("250-...").  A line
 * is at most SMTP_REPLY_LINE_MAX bytes and always ends in CR LF: a longer
 * text is cut, never its line end.
 */
void reply(struct io *io, enum reply r, const char *code, const char *dsn, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void reply_more(struct io *io, enum reply r, const char *code, const char *dsn, const char *fmt,
		...) __attribute__((format(printf, 5, 6)));
void vreply(struct io *io, enum reply r, bool more, const char *code, const char *dsn,
	    const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/* reply_plain - send reply r named by its enum (a refusal the session
 * remembers); only for texts that take no arguments: the text is sent as
 * it stands. */
void reply_plain(struct io *io, enum reply r);

/* reply_code, reply_dsn - "250" and "2.0.0" of r, for the log. */
const char *reply_code(enum reply r);
const char *reply_dsn(enum reply r);

/* reply_is_error - 4xx and 5xx replies count towards the error limit. */
bool reply_is_error(enum reply r);

#endif
