/*
 * reply.c - the reply table (see reply.h).
 */
#include "reply.h"

#include <stdarg.h>

static const struct {
	const char *code; /* RFC 5321 reply code */
	const char *dsn;  /* RFC 3463 enhanced code; none in 220, 250 to
			     HELO and 354, which RFC 2034 leaves without */
	const char *text; /* printf format for the rest of the line */
} replies[RP_COUNT] = {
	[RP_GREETING] = {"220", NULL, "%s ESMTP ready"},
	[RP_BYE] = {"221", "2.0.0", "%s closing connection"},
	[RP_HELO] = {"250", NULL, "%s"},
	[RP_OK] = {"250", "2.0.0", "Ok"},
	[RP_SENDER_OK] = {"250", "2.1.0", "Sender ok"},
	[RP_RCPT_OK] = {"250", "2.1.5", "Recipient ok"},
	[RP_QUEUED] = {"250", "2.0.0", "Ok: queued as %lld"},
	[RP_CHUNK_OK] = {"250", "2.0.0", "%llu bytes received"},
	[RP_VRFY] = {"252", "2.5.0",
		     "Addresses are not verified here; send the message "
		     "and it will be tried"},
	[RP_HELP] = {"214", "2.0.0", "Commands:%s"},
	[RP_DATA_GO] = {"354", NULL, "End data with <CR><LF>.<CR><LF>"},
	[RP_EARLY_TALKER] = {"554", "5.5.0", "%s Protocol error: data sent before the greeting"},
	[RP_TLS_GO] = {"220", "2.0.0", "Ready to start TLS"},
	[RP_TLS_PIPELINED] = {"554", "5.5.0", "%s Protocol error: data sent after STARTTLS"},
	[RP_UNAVAILABLE] = {"421", "4.3.0", "%s Service not available, try again later"},
	[RP_TIMEOUT] = {"421", "4.4.2", "%s Timeout, closing connection"},
	[RP_TOO_MANY_ERRORS] = {"421", "4.7.0", "%s Too many errors, closing connection"},
	[RP_STORE_TEMP] = {"451", "4.3.0", "Message could not be stored, try again later"},
	[RP_STORE_FULL] = {"452", "4.3.1", "Insufficient storage, try again later"},
	[RP_TOO_MANY_RCPTS] = {"452", "4.5.3", "Too many recipients"},
	[RP_UNKNOWN] = {"500", "5.5.2", "Command not recognized"},
	[RP_BAD_CHARS] = {"500", "5.5.2", "Command contains invalid characters"},
	[RP_LINE_TOO_LONG] = {"500", "5.5.2", "Command line too long"}, /* 5.5.6 is AUTH's (RFC 4954) */
	[RP_SYNTAX] = {"501", "5.5.4", "Syntax: %s"},
	[RP_BAD_SENDER] = {"501", "5.1.7", "Bad sender address: %s"},
	[RP_BAD_RCPT] = {"501", "5.1.3", "Bad recipient address: %s"},
	[RP_NOT_IMPLEMENTED] = {"502", "5.5.1", "Command not implemented"},
	[RP_BAD_SEQUENCE] = {"503", "5.5.1", "%s"},
	[RP_RELAY_DENIED] = {"550", "5.7.1", "Recipient domain is not served here"},
	[RP_NEEDS_UTF8] = {"553", "5.6.7", "Non-ASCII address or host name needs SMTPUTF8"},
	[RP_BARE_EOL] = {"550", "5.5.2",
			 "Message refused: lines must end with CR LF "
			 "(bare CR or LF found)"},
	[RP_SIZE_DECLARED] = {"552", "5.3.4", "Declared message size exceeds the limit"},
	[RP_TOO_BIG] = {"552", "5.3.4", "Message size exceeds the limit"},
	[RP_STORE_PERM] = {"554", "5.3.4", "Message could not be stored"},
	[RP_PARAM_UNKNOWN] = {"555", "5.5.4", "Parameter not supported"},
	[RP_PARAM_BAD] = {"501", "5.5.4", "Bad parameter: %s"},
};

void vreply(struct io *io, enum reply r, va_list ap)
{
	if (replies[r].dsn)
		io_printf(io, "%s %s ", replies[r].code, replies[r].dsn);
	else
		io_printf(io, "%s ", replies[r].code);
		/* The format comes from the constant table above, whose entries
		 * each document their arguments in reply.h. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	io_vprintf(io, replies[r].text, ap);
#pragma GCC diagnostic pop
	io_printf(io, "\r\n");
}

void reply(struct io *io, enum reply r, ...)
{
	va_list ap;

	va_start(ap, r);
	vreply(io, r, ap);
	va_end(ap);
}

int reply_is_error(enum reply r)
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
