/*
 * session.c - the SMTP state machine (see session.h).
 *
 * One dispatch path: a command table gives each verb its handler, the
 * states it is allowed in and its longest line.  The table refuses what
 * is out of order (503), so handlers only validate their arguments and
 * act, sending exactly one reply.  A session holds at most one
 * transaction (transaction.h); RSET, HELO/EHLO, the end of a message
 * (DATA or BDAT LAST) and the session's end all close it through
 * tx_end().
 */
#include "session.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "body.h"
#include "esmtp.h"
#include "limits.h"
#include "log.h"
#include "parse.h"
#include "reply.h"
#include "transaction.h"

enum state {
	S_CONNECTED = 1, /* greeted, waiting for HELO/EHLO */
	S_READY = 2,	 /* HELO/EHLO done, no transaction */
	S_MAIL = 4,	 /* MAIL accepted, no recipient yet */
	S_RCPT = 8,	 /* at least one recipient */
	S_BDAT = 16,	 /* BDAT chunks arriving (RFC 3030) */
};
#define S_ANY (S_CONNECTED | S_READY | S_MAIL | S_RCPT | S_BDAT)

enum end {
	END_NONE,
	END_QUIT,
	END_EOF,
	END_TIMEOUT,
	END_ERRORS,
	END_IO,
	END_FAULT,
	END_EARLY,
	END_DESYNC,
	END_INJECTION,
	END_TLS_FAILED,
};

static const char *const end_names[] = {
	[END_NONE] = "",
	[END_QUIT] = "quit",
	[END_EOF] = "eof",
	[END_TIMEOUT] = "timeout",
	[END_ERRORS] = "too many errors",
	[END_IO] = "i/o error",
	[END_FAULT] = "internal error",
	[END_EARLY] = "talked before the greeting",
	[END_DESYNC] = "unreadable BDAT size",
	[END_INJECTION] = "sent data after STARTTLS",
	[END_TLS_FAILED] = "TLS handshake failed",
};

struct session {
	const struct config *cfg;
	struct io *io;
	struct store *store;
	const char *client_addr;
	enum state state;
	enum end end;
	bool esmtp;
	bool helo_utf8; /* the EHLO argument is not ASCII */
	bool in_tls;	/* tls holds what was negotiated */
	struct tls_info tls;
	unsigned errors, accepted;
	unsigned overshoot; /* recipients refused as over the limit */
	char helo[SMTP_DOMAIN_MAX + 1];
	struct transaction tx;
	/* A command line: the longest allowed, its CR LF, and the NUL. */
	char line[SMTP_PARAM_LINE_MAX + 1];
};

/* send_reply - send a reply (by its RPL_ name); when counted, a 4xx or
 * 5xx one counts towards the session's error limit. */
static void __attribute__((format(printf, 6, 7)))
send_reply(struct session *s, bool counted, enum reply r, const char *code, const char *dsn,
	   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreply(s->io, r, false, code, dsn, fmt, ap);
	va_end(ap);
	if (counted && reply_is_error(r))
		s->errors++;
}

/* send_counted - the reply to a command: an error counts.  send_uncounted
 * - a reply that never counts: the session's own last words, and
 * refusals an RFC excuses. */
#define send_counted(s, ...)   send_reply(s, true, __VA_ARGS__)
#define send_uncounted(s, ...) send_reply(s, false, __VA_ARGS__)

/* refuse - send refusal r, named by its enum (its text takes no
 * arguments), counted as an error. */
static void refuse(struct session *s, enum reply r)
{
	reply_plain(s->io, r);
	s->errors++;
}

/* tx_end - the transaction is over: forget it; the session stays. */
static void tx_end(struct session *s)
{
	tx_reset(&s->tx);
	if (s->state > S_READY)
		s->state = S_READY;
}

/* session_reset - back to where the greeting left the client: no name,
 * no transaction.  At the start, and after a TLS handshake (RFC 3207
 * 4.2, which forgets all the client said before it). */
static void session_reset(struct session *s)
{
	tx_end(s);
	s->state = S_CONNECTED;
	s->esmtp = s->helo_utf8 = false;
	s->helo[0] = '\0';
}

/* fault - our own failure: tell the client to come back, then end. */
static void fault(struct session *s, const char *why)
{
	struct log_field f[] = {{"CLIENT", s->client_addr}, {"REASON", why}};

	log_event(LOG_ERR, f, 2, "internal error");
	send_uncounted(s, RPL_UNAVAILABLE, s->cfg->hostname);
	s->end = END_FAULT;
}

/* param_refused - the reply to a parameter esmtp.c refused with r. */
static void param_refused(struct session *s, enum reply r, const char *why)
{
	if (r == RP_PARAM_BAD)
		send_counted(s, RPL_PARAM_BAD, why);
	else
		refuse(s, r);
}

/* hello - shared by HELO and EHLO: check the argument, start afresh.
 * Any one word is taken as the name (trace.c decides what of it goes
 * into Received:). */
static bool hello(struct session *s, const char *arg, const char *usage)
{
	size_t n;
	bool utf8;
	const char *why = parse_helo(arg, &n, &utf8);

	if (why) {
		if (n == 0)
			send_counted(s, RPL_SYNTAX, usage);
		else
			send_counted(s, RPL_PARAM_BAD, why);
		return false;
	}
	tx_end(s);
	/* RFC 6531 3.7.1: a UTF-8 name is for SMTPUTF8 transactions only;
	 * MAIL checks that once it knows. */
	s->helo_utf8 = utf8;
	memcpy(s->helo, arg, n);
	s->helo[n] = '\0';
	s->state = S_READY;
	return true;
}

/* HELO domain (RFC 5321 4.1.1.1) */
static void cmd_helo(struct session *s, char *arg)
{
	if (!hello(s, arg, "HELO hostname"))
		return;
	s->esmtp = false;
	send_counted(s, RPL_HELO, s->cfg->hostname);
}

/* What EHLO offers after its first line, PIPELINING (RFC 2920) and SIZE
 * (RFC 1870). */
static const char *const extensions[] = {
	"8BITMIME",	       /* RFC 6152 */
	"ENHANCEDSTATUSCODES", /* RFC 2034 */
	"CHUNKING",	       /* RFC 3030 */
	"SMTPUTF8",	       /* RFC 6531 */
	"DSN",		       /* RFC 3461 */
};

/* EHLO domain (RFC 5321 4.1.1.1): the extensions implemented here. */
static void cmd_ehlo(struct session *s, char *arg)
{
	size_t n = sizeof extensions / sizeof *extensions;

	if (!hello(s, arg, "EHLO hostname"))
		return;
	s->esmtp = true;
	reply_more(s->io, RPL_HELO, s->cfg->hostname);
	reply_more(s->io, RPL_EHLO_KEYWORD, "PIPELINING");
	reply_more(s->io, RPL_EHLO_SIZE, s->cfg->max_size);
	if (s->cfg->starttls && !s->in_tls)
		reply_more(s->io, RPL_EHLO_KEYWORD, "STARTTLS"); /* RFC 3207 */
	for (size_t i = 0; i + 1 < n; i++)
		reply_more(s->io, RPL_EHLO_KEYWORD, extensions[i]);
	send_counted(s, RPL_EHLO_KEYWORD, extensions[n - 1]);
}

/* MAIL FROM:<reverse-path> [SP Mail-parameters] (RFC 5321 4.1.1.2):
 * everything is checked before the transaction takes any of it. */
static void cmd_mail(struct session *s, char *arg)
{
	const char *p = parse_keyword(arg, "FROM:"), *why = NULL;
	struct path from;
	struct mail_params mp;
	enum reply r;

	if (!p) {
		send_counted(s, RPL_SYNTAX, "MAIL FROM:<address>");
		return;
	}
	while (*p == ' ') /* RFC 5321 forbids it; many clients do it */
		p++;
	if ((why = parse_path(p, &from, &p, true, false))) {
		send_counted(s, RPL_BAD_SENDER, why);
		return;
	}
	if ((r = esmtp_mail(p, &mp, &why)) != RP_OK) {
		param_refused(s, r, why);
		return;
	}
	if ((from.utf8 || s->helo_utf8) && !mp.smtputf8) {
		send_counted(s, RPL_NEEDS_UTF8);
		return;
	}
	if (mp.has_size && mp.size > s->cfg->max_size) {
		send_counted(s, RPL_SIZE_DECLARED);
		return;
	}
	s->tx.from = from;
	s->tx.mail = mp;
	s->state = S_MAIL;
	send_counted(s, RPL_SENDER_OK);
}

/* accepted_domain - may mail for this recipient be taken? */
static bool accepted_domain(const struct session *s, const struct path *to)
{
	if (s->cfg->ndomains == 0)
		return true;
	/* RFC 5321 4.5.1: <postmaster> must always be accepted. */
	if (to->at == 0)
		return true;
	if (to->literal)
		return false;
	for (size_t i = 0; i < s->cfg->ndomains; i++)
		if (strcasecmp(to->addr + to->at + 1, s->cfg->domains[i]) == 0)
			return true;
	return false;
}

/* RCPT TO:<forward-path> [SP Rcpt-parameters] (RFC 5321 4.1.1.3) */
static void cmd_rcpt(struct session *s, char *arg)
{
	const char *p = parse_keyword(arg, "TO:"), *why = NULL;
	struct rcpt_params rp;
	struct path to;
	enum reply r;

	if (!p) {
		send_counted(s, RPL_SYNTAX, "RCPT TO:<address>");
		return;
	}
	while (*p == ' ')
		p++;
	if ((why = parse_path(p, &to, &p, false, true))) {
		send_counted(s, RPL_BAD_RCPT, why);
		return;
	}
	if (to.at == 0 && strcasecmp(to.addr, "postmaster") != 0) {
		send_counted(s, RPL_BAD_RCPT, "domain missing");
		return;
	}
	if ((r = esmtp_rcpt(p, s->tx.mail.smtputf8, &rp, &why)) != RP_OK) {
		param_refused(s, r, why);
		return;
	}
	if (to.utf8 && !s->tx.mail.smtputf8) {
		send_counted(s, RPL_NEEDS_UTF8);
		return;
	}
	if (!accepted_domain(s, &to)) {
		struct log_field f[] = {{"CLIENT", s->client_addr}, {"RCPT", to.addr}};
		log_event(LOG_NOTICE, f, 2, "recipient refused: domain not served");
		send_counted(s, RPL_RELAY_DENIED);
		return;
	}
	if (s->tx.nrcpt >= s->cfg->max_recipients) {
		/* RFC 5321 4.5.3.1.10: a client that pipelines a long list
		 * takes the rest to another transaction; those 452s are
		 * not errors until the list is absurd. */
		if (++s->overshoot > SMTP_RCPT_OVERSHOOT)
			send_counted(s, RPL_TOO_MANY_RCPTS);
		else
			send_uncounted(s, RPL_TOO_MANY_RCPTS);
		return;
	}
	if (!tx_add_rcpt(&s->tx, to.addr, &rp)) {
		fault(s, "out of memory");
		return;
	}
	s->state = S_RCPT;
	send_counted(s, RPL_RCPT_OK);
}

/* deliver - the message text has ended (DATA's end, BDAT LAST): store
 * it unless it is refused, send the one reply, end the transaction. */
static void deliver(struct session *s)
{
	struct origin o = {s->cfg->hostname,
			   s->helo,
			   s->client_addr,
			   s->esmtp,
			   s->in_tls ? s->tls.protocol : NULL,
			   s->in_tls ? s->tls.cipher : NULL};
	char err[512] = "";
	int64_t id = 0;
	enum reply r = tx_verdict(&s->tx, s->cfg->max_size, err, sizeof err);

	if (r == RP_OK)
		r = tx_store(&s->tx, s->store, &o, &id, err, sizeof err);
	tx_log(&s->tx, &o, r, id, err);
	if (r == RP_QUEUED) {
		s->accepted++;
		send_counted(s, RPL_QUEUED, (long long)id);
	} else {
		refuse(s, r);
	}
	tx_end(s);
}

/* read_status - turn an I/O failure while reading text into the end. */
static void read_status(struct session *s, enum io_status st)
{
	if (st == IO_TIMEOUT)
		s->end = END_TIMEOUT;
	else if (st == IO_EOF)
		s->end = END_EOF;
	else if (st != IO_OK)
		s->end = END_IO;
}

/* DATA (RFC 5321 4.1.1.4) */
static void cmd_data(struct session *s, char *arg)
{
	if (*arg) {
		send_counted(s, RPL_SYNTAX, "DATA");
		return;
	}
	send_counted(s, RPL_DATA_GO);
	read_status(s, body_read(s->io, &s->tx.spool, s->cfg->max_size, &s->tx.body));
	if (s->end == END_NONE)
		deliver(s);
}

/* bdat_refused - a BDAT the table refused still carries its chunk: read
 * it, so that its bytes are never taken for commands. */
static void bdat_refused(struct session *s, char *arg)
{
	uint64_t size;
	bool last;

	if (!parse_bdat(arg, &size, &last))
		s->end = END_DESYNC;
	else
		read_status(s, io_skip(s->io, size));
}

/*
 * bdat_failed - a chunk of a message already refused.  RFC 3030 2: the
 * chunks a client pipelined after the failed one are read and dropped;
 * each gets the same refusal, not counted again, and LAST ends the
 * transaction.
 */
static void bdat_failed(struct session *s, uint64_t size, bool last)
{
	read_status(s, io_skip(s->io, size));
	if (s->end != END_NONE)
		return;
	reply_plain(s->io, s->tx.failed);
	if (last)
		tx_end(s);
}

/* BDAT chunk-size [LAST] (RFC 3030 2) */
static void cmd_bdat(struct session *s, char *arg)
{
	uint64_t size;
	bool last;

	if (!parse_bdat(arg, &size, &last)) {
		/* Without the size the stream cannot be followed. */
		send_counted(s, RPL_SYNTAX, "BDAT size [LAST]");
		s->end = END_DESYNC;
		return;
	}
	if (s->tx.failed != RP_OK) {
		bdat_failed(s, size, last);
		return;
	}
	s->state = S_BDAT;
	read_status(s, chunk_read(s->io, &s->tx.spool, size, s->cfg->max_size, &s->tx.chunk_cr,
				  &s->tx.body));
	if (s->end != END_NONE)
		return;
	if (s->tx.body.too_big) { /* refused now: no use waiting for LAST */
		char err[512];
		struct origin o = {s->cfg->hostname,
				   s->helo,
				   s->client_addr,
				   s->esmtp,
				   s->in_tls ? s->tls.protocol : NULL,
				   s->in_tls ? s->tls.cipher : NULL};
		s->tx.failed = tx_verdict(&s->tx, s->cfg->max_size, err, sizeof err);
		tx_log(&s->tx, &o, s->tx.failed, 0, err);
		refuse(s, s->tx.failed);
		if (last)
			tx_end(s);
	} else if (!last) {
		send_counted(s, RPL_CHUNK_OK, (unsigned long long)size);
	} else {
		if (s->tx.chunk_cr) /* the text ended in a CR without its LF */
			s->tx.body.bare_eol = true;
		deliver(s);
	}
}

/* RSET (RFC 5321 4.1.1.5) */
static void cmd_rset(struct session *s, char *arg)
{
	if (*arg) {
		send_counted(s, RPL_SYNTAX, "RSET");
		return;
	}
	tx_end(s);
	send_counted(s, RPL_OK);
}

/* VRFY string (RFC 5321 4.1.1.6): 252, as 3.5.3 allows. */
static void cmd_vrfy(struct session *s, char *arg)
{
	if (!*arg) {
		send_counted(s, RPL_SYNTAX, "VRFY address");
		return;
	}
	send_counted(s, RPL_VRFY);
}

/* EXPN (RFC 5321 4.1.1.7): lists are not expanded here. */
static void cmd_expn(struct session *s, char *arg)
{
	(void)arg;
	send_counted(s, RPL_NOT_IMPLEMENTED);
}

/* NOOP [SP String] (RFC 5321 4.1.1.9) */
static void cmd_noop(struct session *s, char *arg)
{
	(void)arg;
	send_counted(s, RPL_OK);
}

/* QUIT (RFC 5321 4.1.1.10) */
static void cmd_quit(struct session *s, char *arg)
{
	(void)arg;
	send_counted(s, RPL_BYE, s->cfg->hostname);
	s->end = END_QUIT;
}

/*
 * STARTTLS (RFC 3207 4): TLS on this connection, then a fresh start.
 * Whatever the client sent behind the command came before any
 * handshake, so it is not the client's to have sent: the session ends
 * (CVE-2011-0411), and no such byte is ever read as a command.
 */
static void cmd_starttls(struct session *s, char *arg)
{
	struct log_field f[] = {{"CLIENT", s->client_addr}, {"REASON", "the TLS helper failed"}};

	if (*arg) {
		send_counted(s, RPL_SYNTAX, "STARTTLS");
		return;
	}
	if (s->in_tls) {
		send_counted(s, RPL_BAD_SEQUENCE, "TLS already active");
		return;
	}
	if (io_pending(s->io)) {
		send_uncounted(s, RPL_TLS_PIPELINED, s->cfg->hostname);
		s->end = END_INJECTION;
		return;
	}
	send_uncounted(s, RPL_TLS_GO);
	if (!io_flush(s->io)) {
		s->end = END_IO;
		return;
	}
	switch (s->cfg->starttls(s->cfg->starttls_ctx, s->io, &s->tls)) {
	case STARTTLS_CLIENT:
		s->end = END_TLS_FAILED;
		return;
	case STARTTLS_FAULT:
		log_event(LOG_ERR, f, 2, "internal error");
		s->end = END_FAULT;
		return;
	case STARTTLS_OK:
		break;
	}
	s->in_tls = true;
	session_reset(s);
}

/* tls_offered - STARTTLS exists only when TLS is configured. */
static bool tls_offered(const struct session *s)
{
	return s->cfg->starttls != NULL;
}

static void cmd_help(struct session *s, char *arg);

static const struct command {
	const char *verb;
	void (*handler)(struct session *s, char *arg);
	unsigned states; /* where it is allowed */
	size_t line_max; /* longest line with CR LF */
	bool utf8;	 /* its argument may hold UTF-8 (RFC 6531) */
	/* When refused as out of order: */
	const char *refusal;			       /* the 503 text, if not "send X first" */
	void (*refused)(struct session *s, char *arg); /* keeps the stream in step */
	bool (*offered)(const struct session *s);      /* NULL: always */
} commands[] = {
	{"HELO", cmd_helo, S_ANY, SMTP_LINE_MAX, true, NULL, NULL, NULL},
	{"EHLO", cmd_ehlo, S_ANY, SMTP_LINE_MAX, true, NULL, NULL, NULL},
	{"MAIL", cmd_mail, S_READY, SMTP_PARAM_LINE_MAX, true, "Sender already given", NULL, NULL},
	{"RCPT", cmd_rcpt, S_MAIL | S_RCPT, SMTP_PARAM_LINE_MAX, true, NULL, NULL, NULL},
	{"DATA", cmd_data, S_RCPT, SMTP_LINE_MAX, false, NULL, NULL, NULL},
	{"BDAT", cmd_bdat, S_RCPT | S_BDAT, SMTP_LINE_MAX, false, NULL, bdat_refused, NULL},
	{"RSET", cmd_rset, S_ANY, SMTP_LINE_MAX, false, NULL, NULL, NULL},
	{"NOOP", cmd_noop, S_ANY, SMTP_LINE_MAX, false, NULL, NULL, NULL},
	{"VRFY", cmd_vrfy, S_ANY, SMTP_LINE_MAX, false, NULL, NULL, NULL},
	{"EXPN", cmd_expn, S_ANY, SMTP_LINE_MAX, false, NULL, NULL, NULL},
	{"HELP", cmd_help, S_ANY, SMTP_LINE_MAX, false, NULL, NULL, NULL},
	{"QUIT", cmd_quit, S_ANY, SMTP_LINE_MAX, false, NULL, NULL, NULL},
	{"STARTTLS", cmd_starttls, S_READY, SMTP_LINE_MAX, false,
	 "Finish or reset the transaction first", NULL, tls_offered},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* HELP [SP String] (RFC 5321 4.1.1.8): the commands in the table. */
static void cmd_help(struct session *s, char *arg)
{
	char list[SMTP_REPLY_LINE_MAX] = "";
	size_t len = 0;

	(void)arg;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (commands[i].handler == cmd_expn ||
		    (commands[i].offered && !commands[i].offered(s)))
			continue; /* known, but not implemented, or not offered */
		/* Bounded whatever the table holds: a reply is one line. */
		int n = snprintf(list + len, sizeof list - len, " %s", commands[i].verb);
		if (n < 0 || (size_t)n >= sizeof list - len)
			break;
		len += (size_t)n;
	}
	send_counted(s, RPL_HELP, list);
}

/* out_of_order - the 503 text for cmd in the session's state. */
static const char *out_of_order(const struct session *s, const struct command *cmd)
{
	if (s->state == S_CONNECTED)
		return "Send HELO or EHLO first";
	if (s->state == S_READY)
		return "Send MAIL first";
	if (s->state == S_BDAT)
		return "Send the rest of the message with BDAT, or RSET";
	if (cmd->refusal)
		return cmd->refusal;
	return "Send RCPT first";
}

/* dispatch - look the verb up, check length and state, run it. */
static void dispatch(struct session *s, char *line, size_t len)
{
	size_t vlen = strcspn(line, " ");
	const struct command *cmd = NULL;

	char *arg = line[vlen] ? line + vlen + 1 : line + vlen;

	for (size_t i = 0; i < NCOMMANDS; i++)
		if (vlen == strlen(commands[i].verb) &&
		    strncasecmp(line, commands[i].verb, vlen) == 0 &&
		    (!commands[i].offered || commands[i].offered(s)))
			cmd = &commands[i];
	if (!parse_clean(line, len, cmd && cmd->utf8)) {
		send_counted(s, RPL_BAD_CHARS);
		return;
	}
	if (len + 2 > (cmd ? cmd->line_max : SMTP_LINE_MAX)) {
		send_counted(s, RPL_LINE_TOO_LONG);
		return;
	}
	if (!cmd) {
		send_counted(s, RPL_UNKNOWN);
		return;
	}
	if (!(cmd->states & s->state)) {
		send_counted(s, RPL_BAD_SEQUENCE, out_of_order(s, cmd));
		if (cmd->refused)
			cmd->refused(s, arg);
		return;
	}
	cmd->handler(s, arg);
}

/* session_end_log - the one line that closes the session's log. */
static void session_end_log(const struct session *s)
{
	char accepted[16], errors[16];
	struct log_field f[] = {
		{"CLIENT", s->client_addr}, {"HELO", s->helo},		{"MESSAGES", accepted},
		{"ERRORS", errors},	    {"END", end_names[s->end]},
	};

	snprintf(accepted, sizeof accepted, "%u", s->accepted);
	snprintf(errors, sizeof errors, "%u", s->errors);
	log_event(LOG_INFO, f, sizeof f / sizeof *f, "disconnect");
}

/*
 * greet - the first reply.  RFC 5321 3.1: the client waits for the
 * greeting.  Bytes that are already here before it is sent come from a
 * program that does not listen (spam engines blasting a whole
 * transaction), and cost nothing to see.
 */
static void greet(struct session *s)
{
	struct log_field f[] = {{"CLIENT", s->client_addr}};

	log_event(LOG_INFO, f, 1, "connect");
	if (s->cfg->ndomains == 0)
		log_event(LOG_NOTICE, f, 1,
			  "no --domain given: accepting mail for every recipient");
	if (s->cfg->refuse_early_talkers && io_pending(s->io)) {
		send_uncounted(s, RPL_EARLY_TALKER, s->cfg->hostname);
		s->end = END_EARLY;
	} else {
		send_uncounted(s, RPL_GREETING, s->cfg->hostname);
	}
}

int session_run(const struct config *cfg, struct io *io, struct store *st, const char *client_addr)
{
	struct session *s = calloc(1, sizeof *s);
	int status;

	if (!s) {
		reply(io, RPL_UNAVAILABLE, cfg->hostname);
		io_flush(io);
		return 1;
	}
	s->cfg = cfg;
	s->io = io;
	s->store = st;
	s->client_addr = client_addr;
	tx_init(&s->tx, cfg->spool_dir);
	session_reset(s);
	if (cfg->tls) {
		s->tls = *cfg->tls;
		s->in_tls = true;
	}
	greet(s);
	while (s->end == END_NONE) {
		size_t len;

		switch (io_getline(io, s->line, sizeof s->line, &len)) {
		case IO_OK:
			dispatch(s, s->line, len);
			break;
		case IO_TOOLONG:
			send_counted(s, RPL_LINE_TOO_LONG);
			break;
		case IO_EOF:
			s->end = END_EOF;
			break;
		case IO_TIMEOUT:
			s->end = END_TIMEOUT;
			break;
		case IO_ERROR:
			s->end = END_IO;
			break;
		}
		if (s->end == END_NONE && s->errors > SMTP_ERROR_LIMIT) {
			send_uncounted(s, RPL_TOO_MANY_ERRORS, cfg->hostname);
			s->end = END_ERRORS;
		}
	}
	if (s->end == END_TIMEOUT)
		send_uncounted(s, RPL_TIMEOUT, cfg->hostname);
	io_flush(io);
	session_end_log(s);
	status = s->end == END_FAULT ? 1 : 0;
	tx_free(&s->tx);
	free(s);
	return status;
}
