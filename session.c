/*
 * session.c - the SMTP state machine (see session.h).
 *
 * One dispatch path: a command table gives each verb its handler, the
 * states it is allowed in and its longest line.  The table refuses what
 * is out of order (503), so handlers only validate their arguments and
 * act, sending exactly one reply.  A session holds at most one
 * transaction; RSET, HELO/EHLO, the end of a message (DATA or BDAT LAST)
 * and the session's end all clear it through tx_reset().
 */
#include "session.h"

#include <errno.h>
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

struct transaction {
	struct path from;
	struct mail_params mail;
	struct recipient *rcpt; /* each in one owned block (add_rcpt) */
	size_t nrcpt, cap;
	struct body_result body; /* the message text so far */
	bool chunk_cr;		 /* the last BDAT chunk ended in CR */
	enum reply failed;	 /* RP_OK, or the refusal of a BDAT chunk that
				    the rest get until LAST or RSET */
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
	struct spool spool;
	/* A command line: the longest allowed, its CR LF, and the NUL. */
	char line[SMTP_PARAM_LINE_MAX + 1];
};

/* say - send a reply and count it if it is an error. */
static void say(struct session *s, enum reply r, ...)
{
	va_list ap;

	va_start(ap, r);
	vreply(s->io, r, ap);
	va_end(ap);
	if (reply_is_error(r))
		s->errors++;
}

/* tx_reset - forget the transaction; the session stays. */
static void tx_reset(struct session *s)
{
	for (size_t i = 0; i < s->tx.nrcpt; i++)
		free((char *)s->tx.rcpt[i].addr);
	s->tx.nrcpt = 0;
	s->tx.from.addr[0] = '\0';
	memset(&s->tx.mail, 0, sizeof s->tx.mail);
	memset(&s->tx.body, 0, sizeof s->tx.body);
	s->tx.chunk_cr = false;
	s->tx.failed = RP_OK;
	spool_reset(&s->spool);
	if (s->state > S_READY)
		s->state = S_READY;
}

/* fault - our own failure: tell the client to come back, then end. */
static void fault(struct session *s, const char *why)
{
	struct log_field f[] = {{"CLIENT", s->client_addr}, {"REASON", why}};

	log_event(LOG_ERR, f, 2, "internal error");
	reply(s->io, RP_UNAVAILABLE, s->cfg->hostname);
	s->end = END_FAULT;
}

/* word - does arg start with the keyword kw (any case)?  Returns what
 * follows it, or NULL. */
static const char *word(const char *arg, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(arg, kw, n) == 0 ? arg + n : NULL;
}

/* hello - shared by HELO and EHLO: check the argument, start afresh. */
static bool hello(struct session *s, const char *arg, const char *usage)
{
	size_t n = strlen(arg);

	while (n > 0 && arg[n - 1] == ' ')
		n--;
	if (n == 0 || memchr(arg, ' ', n)) {
		say(s, RP_SYNTAX, usage);
		return false;
	}
	if (n > SMTP_DOMAIN_MAX) {
		say(s, RP_PARAM_BAD, "host name too long");
		return false;
	}
	/* RFC 6531 3.7.1: a UTF-8 name is for SMTPUTF8 transactions only;
	 * MAIL checks that once it knows. */
	if (!utf8_valid(arg, n)) {
		say(s, RP_PARAM_BAD, "host name is not valid UTF-8");
		return false;
	}
	s->helo_utf8 = false;
	for (size_t i = 0; i < n; i++)
		s->helo_utf8 |= (unsigned char)arg[i] >= 0x80;
	memcpy(s->helo, arg, n);
	s->helo[n] = '\0';
	tx_reset(s);
	s->state = S_READY;
	return true;
}

/* HELO domain (RFC 5321 4.1.1.1) */
static void cmd_helo(struct session *s, char *arg)
{
	if (!hello(s, arg, "HELO hostname"))
		return;
	s->esmtp = false;
	say(s, RP_HELO, s->cfg->hostname);
}

/* EHLO domain (RFC 5321 4.1.1.1): the extensions implemented here. */
static void cmd_ehlo(struct session *s, char *arg)
{
	if (!hello(s, arg, "EHLO hostname"))
		return;
	s->esmtp = true;
	io_printf(s->io, "250-%s\r\n", s->cfg->hostname);
	io_printf(s->io, "250-PIPELINING\r\n");				/* RFC 2920 */
	io_printf(s->io, "250-SIZE %" PRIu64 "\r\n", s->cfg->max_size); /* RFC 1870 */
	io_printf(s->io, "250-8BITMIME\r\n");				/* RFC 6152 */
	io_printf(s->io, "250-ENHANCEDSTATUSCODES\r\n");		/* RFC 2034 */
	io_printf(s->io, "250-CHUNKING\r\n");				/* RFC 3030 */
	if (s->cfg->starttls && !s->in_tls)
		io_printf(s->io, "250-STARTTLS\r\n"); /* RFC 3207 */
	io_printf(s->io, "250-SMTPUTF8\r\n");	      /* RFC 6531 */
	io_printf(s->io, "250 DSN\r\n");	      /* RFC 3461 */
}

/* MAIL FROM:<reverse-path> [SP Mail-parameters] (RFC 5321 4.1.1.2) */
static void cmd_mail(struct session *s, char *arg)
{
	const char *p = word(arg, "FROM:"), *why = NULL;
	enum reply r;

	if (!p) {
		say(s, RP_SYNTAX, "MAIL FROM:<address>");
		return;
	}
	while (*p == ' ') /* RFC 5321 forbids it; many clients do it */
		p++;
	if ((why = parse_path(p, &s->tx.from, &p, true, false))) {
		say(s, RP_BAD_SENDER, why);
		return;
	}
	if ((r = esmtp_mail(p, &s->tx.mail, &why)) != RP_OK) {
		say(s, r, why);
		return;
	}
	if ((s->tx.from.utf8 || s->helo_utf8) && !s->tx.mail.smtputf8) {
		say(s, RP_NEEDS_UTF8);
		return;
	}
	if (s->tx.mail.has_size && s->tx.mail.size > s->cfg->max_size) {
		say(s, RP_SIZE_DECLARED);
		return;
	}
	s->state = S_MAIL;
	say(s, RP_SENDER_OK);
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

/* add_rcpt - keep a copy of the address and its DSN parameters, in one
 * block that tx_reset() frees; false when out of memory. */
static bool add_rcpt(struct transaction *tx, const char *addr, const struct rcpt_params *rp)
{
	size_t a = strlen(addr) + 1, n = strlen(rp->notify) + 1, o = strlen(rp->orcpt) + 1;
	char *block;

	if (tx->nrcpt == tx->cap) {
		size_t cap = tx->cap ? tx->cap * 2 : 8;
		struct recipient *more = realloc(tx->rcpt, cap * sizeof *more);
		if (!more)
			return false;
		tx->rcpt = more;
		tx->cap = cap;
	}
	if (!(block = malloc(a + n + o)))
		return false;
	memcpy(block, addr, a);
	memcpy(block + a, rp->notify, n);
	memcpy(block + a + n, rp->orcpt, o);
	tx->rcpt[tx->nrcpt++] = (struct recipient){
		.addr = block,
		.notify = n > 1 ? block + a : NULL,
		.orcpt = o > 1 ? block + a + n : NULL,
	};
	return true;
}

/* RCPT TO:<forward-path> [SP Rcpt-parameters] (RFC 5321 4.1.1.3) */
static void cmd_rcpt(struct session *s, char *arg)
{
	const char *p = word(arg, "TO:"), *why = NULL;
	struct rcpt_params rp;
	struct path to;
	enum reply r;

	if (!p) {
		say(s, RP_SYNTAX, "RCPT TO:<address>");
		return;
	}
	while (*p == ' ')
		p++;
	if ((why = parse_path(p, &to, &p, false, true))) {
		say(s, RP_BAD_RCPT, why);
		return;
	}
	if (to.at == 0 && strcasecmp(to.addr, "postmaster") != 0) {
		say(s, RP_BAD_RCPT, "domain missing");
		return;
	}
	if ((r = esmtp_rcpt(p, s->tx.mail.smtputf8, &rp, &why)) != RP_OK) {
		say(s, r, why);
		return;
	}
	if (to.utf8 && !s->tx.mail.smtputf8) {
		say(s, RP_NEEDS_UTF8);
		return;
	}
	if (!accepted_domain(s, &to)) {
		struct log_field f[] = {{"CLIENT", s->client_addr}, {"RCPT", to.addr}};
		log_event(LOG_NOTICE, f, 2, "recipient refused: domain not served");
		say(s, RP_RELAY_DENIED);
		return;
	}
	if (s->tx.nrcpt >= s->cfg->max_recipients) {
		/* RFC 5321 4.5.3.1.10: a client that pipelines a long list
		 * takes the rest to another transaction; those 452s are
		 * not errors until the list is absurd. */
		if (++s->overshoot > SMTP_RCPT_OVERSHOOT)
			say(s, RP_TOO_MANY_RCPTS);
		else
			reply(s->io, RP_TOO_MANY_RCPTS);
		return;
	}
	if (!add_rcpt(&s->tx, to.addr, &rp)) {
		fault(s, "out of memory");
		return;
	}
	s->state = S_RCPT;
	say(s, RP_RCPT_OK);
}

/* protocol - the "with" of Received: (RFC 3848, RFC 6531 3.7.3). */
static const char *protocol(const struct session *s)
{
	if (s->tx.mail.smtputf8)
		return s->in_tls ? "UTF8SMTPS" : "UTF8SMTP";
	if (!s->esmtp)
		return "SMTP"; /* RFC 3848 names no HELO-with-TLS protocol */
	return s->in_tls ? "ESMTPS" : "ESMTP";
}

/* join_rcpts - the recipients, comma-separated, cut to fit buf. */
static void join_rcpts(const struct transaction *tx, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tx->nrcpt; i++) {
		int n = snprintf(buf + len, cap - len, "%s%s", i ? "," : "", tx->rcpt[i].addr);
		if (n < 0 || (size_t)n >= cap - len) {
			snprintf(buf + (cap > 4 ? cap - 4 : 0), cap > 4 ? 4 : cap, "...");
			return;
		}
		len += (size_t)n;
	}
}

/* verdict - what the text read so far allows before any store: RP_OK,
 * or the refusal with its reason in err. */
static enum reply verdict(const struct session *s, char *err, size_t cap)
{
	if (s->tx.body.bare_eol) {
		snprintf(err, cap, "bare CR or LF in message text");
		return RP_BARE_EOL;
	}
	if (s->tx.body.too_big) {
		snprintf(err, cap, "message larger than %" PRIu64 " bytes", s->cfg->max_size);
		return RP_TOO_BIG;
	}
	if (s->spool.failed) {
		snprintf(err, cap, "spool: %s", strerror(s->spool.err));
		return s->spool.err == ENOSPC || s->spool.err == EDQUOT ? RP_STORE_FULL
									: RP_STORE_TEMP;
	}
	return RP_OK;
}

/* store_message - hand the envelope and the text down to the store;
 * RP_QUEUED with *id set, or the refusal with its reason in err. */
static enum reply store_message(struct session *s, int64_t *id, char *err, size_t cap)
{
	struct envelope env = {
		.received = time(NULL),
		.by = s->cfg->hostname,
		.helo = s->helo,
		.client_addr = s->client_addr,
		.protocol = protocol(s),
		.tls_version = s->in_tls ? s->tls.protocol : NULL,
		.tls_cipher = s->in_tls ? s->tls.cipher : NULL,
		.mail_from = s->tx.from.addr,
		.body_type = s->tx.mail.body,
		.smtputf8 = s->tx.mail.smtputf8,
		.dsn_ret = s->tx.mail.ret,
		.dsn_envid = s->tx.mail.envid[0] ? s->tx.mail.envid : NULL,
		.rcpt = s->tx.rcpt,
		.nrcpt = s->tx.nrcpt,
	};

	switch (store_deliver(s->store, &env, &s->spool, id, err, cap)) {
	case STORE_OK:
		return RP_QUEUED;
	case STORE_FULL:
		return RP_STORE_FULL;
	case STORE_PERM:
		return RP_STORE_PERM;
	case STORE_TEMP:
		break;
	}
	return RP_STORE_TEMP;
}

/* log_outcome - the one log line for a message, accepted or refused. */
static void log_outcome(const struct session *s, enum reply r, int64_t id, const char *err)
{
	char size[24], nrcpt[24], idtext[24], rcpts[1024];

	snprintf(size, sizeof size, "%" PRIu64, s->tx.body.size);
	snprintf(nrcpt, sizeof nrcpt, "%zu", s->tx.nrcpt);
	snprintf(idtext, sizeof idtext, "%" PRId64, id);
	join_rcpts(&s->tx, rcpts, sizeof rcpts);
	struct log_field f[] = {
		{"CLIENT", s->client_addr},
		{"HELO", s->helo},
		{"FROM", s->tx.from.addr},
		{"NRCPT", nrcpt},
		{"RCPT", rcpts},
		{"SIZE", size},
		{"REPLY", reply_code(r)},
		{"DSN", reply_dsn(r)},
		{r == RP_QUEUED ? "ID" : "REASON", r == RP_QUEUED ? idtext : err},
	};
	log_event(r == RP_QUEUED ? LOG_INFO : LOG_NOTICE, f, sizeof f / sizeof *f,
		  r == RP_QUEUED ? "message accepted" : "message refused");
}

/* deliver - the message text has ended (DATA's end, BDAT LAST): store
 * it unless it is refused, send the one reply, end the transaction. */
static void deliver(struct session *s)
{
	char err[512] = "";
	int64_t id = 0;
	enum reply r = verdict(s, err, sizeof err);

	if (r == RP_OK)
		r = store_message(s, &id, err, sizeof err);
	log_outcome(s, r, id, err);
	if (r == RP_QUEUED) {
		s->accepted++;
		say(s, RP_QUEUED, (long long)id);
	} else {
		say(s, r);
	}
	tx_reset(s);
}

/* fail_bdat - a chunk took the message over the limit: refuse it now, and
 * give every later chunk the same answer until LAST or RSET (cmd_bdat). */
static void fail_bdat(struct session *s)
{
	char err[512] = "";
	enum reply r = verdict(s, err, sizeof err);

	log_outcome(s, r, 0, err);
	say(s, r);
	s->tx.failed = r;
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
	enum io_status st;

	if (*arg) {
		say(s, RP_SYNTAX, "DATA");
		return;
	}
	say(s, RP_DATA_GO);
	st = body_read(s->io, &s->spool, s->cfg->max_size, &s->tx.body);
	read_status(s, st);
	if (st == IO_OK)
		deliver(s);
}

/*
 * bdat_size - "BDAT" SP chunk-size [ SP end-marker ] (RFC 3030 3):
 * chunk-size = 1*DIGIT, end-marker = "LAST".  False if unreadable.
 */
static bool bdat_size(const char *arg, uint64_t *size, bool *last)
{
	char *end;

	if (*arg < '0' || *arg > '9' || strspn(arg, "0123456789") > 20)
		return false;
	errno = 0;
	*size = strtoull(arg, &end, 10);
	if (errno == ERANGE)
		return false;
	*last = strcasecmp(end, " LAST") == 0;
	return *last || *end == '\0';
}

/* bdat_refused - a BDAT the table refused still carries its chunk: read
 * it, so that its bytes are never taken for commands. */
static void bdat_refused(struct session *s, char *arg)
{
	uint64_t size;
	bool last;

	if (!bdat_size(arg, &size, &last))
		s->end = END_DESYNC;
	else
		read_status(s, io_skip(s->io, size));
}

/* BDAT chunk-size [LAST] (RFC 3030 2) */
static void cmd_bdat(struct session *s, char *arg)
{
	uint64_t size;
	bool last;

	if (!bdat_size(arg, &size, &last)) {
		/* Without the size the stream cannot be followed. */
		say(s, RP_SYNTAX, "BDAT size [LAST]");
		s->end = END_DESYNC;
		return;
	}
	if (s->tx.failed != RP_OK) {
		/* RFC 3030 2: the chunks the client pipelined after a failed
		 * one are read and dropped; each gets the same failure, not
		 * counted again as an error, and LAST ends the transaction. */
		read_status(s, io_skip(s->io, size));
		if (s->end != END_NONE)
			return;
		reply(s->io, s->tx.failed);
		if (last)
			tx_reset(s);
		return;
	}
	s->state = S_BDAT;
	read_status(s, chunk_read(s->io, &s->spool, size, s->cfg->max_size, &s->tx.chunk_cr,
				  &s->tx.body));
	if (s->end != END_NONE)
		return;
	if (s->tx.body.too_big) { /* no use reading the rest first */
		fail_bdat(s);
		if (last)
			tx_reset(s);
		return;
	}
	if (!last) {
		say(s, RP_CHUNK_OK, (unsigned long long)size);
		return;
	}
	if (s->tx.chunk_cr) /* the text ended in a CR without its LF */
		s->tx.body.bare_eol = true;
	deliver(s);
}

/* RSET (RFC 5321 4.1.1.5) */
static void cmd_rset(struct session *s, char *arg)
{
	if (*arg) {
		say(s, RP_SYNTAX, "RSET");
		return;
	}
	tx_reset(s);
	say(s, RP_OK);
}

/* VRFY string (RFC 5321 4.1.1.6): 252, as 3.5.3 allows. */
static void cmd_vrfy(struct session *s, char *arg)
{
	if (!*arg) {
		say(s, RP_SYNTAX, "VRFY address");
		return;
	}
	say(s, RP_VRFY);
}

/* EXPN (RFC 5321 4.1.1.7): lists are not expanded here. */
static void cmd_expn(struct session *s, char *arg)
{
	(void)arg;
	say(s, RP_NOT_IMPLEMENTED);
}

/* NOOP [SP String] (RFC 5321 4.1.1.9) */
static void cmd_noop(struct session *s, char *arg)
{
	(void)arg;
	say(s, RP_OK);
}

/* QUIT (RFC 5321 4.1.1.10) */
static void cmd_quit(struct session *s, char *arg)
{
	(void)arg;
	say(s, RP_BYE, s->cfg->hostname);
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
		say(s, RP_SYNTAX, "STARTTLS");
		return;
	}
	if (s->in_tls) {
		say(s, RP_BAD_SEQUENCE, "TLS already active");
		return;
	}
	if (io_pending(s->io)) {
		reply(s->io, RP_TLS_PIPELINED, s->cfg->hostname);
		s->end = END_INJECTION;
		return;
	}
	reply(s->io, RP_TLS_GO);
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
	/* RFC 3207 4.2: forget all that was learnt before TLS. */
	s->in_tls = true;
	tx_reset(s);
	s->helo[0] = '\0';
	s->helo_utf8 = false;
	s->esmtp = false;
	s->state = S_CONNECTED;
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
	char list[NCOMMANDS * 9 + 1] = "";

	(void)arg;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (commands[i].handler == cmd_expn ||
		    (commands[i].offered && !commands[i].offered(s)))
			continue; /* known, but not implemented */
		strcat(list, " ");
		strcat(list, commands[i].verb);
	}
	say(s, RP_HELP, list);
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

/* clean - printable US-ASCII and space only; bytes of 0x80 and up too
 * where utf8 (the handler checks the encoding). */
static bool clean(const char *line, size_t len, bool utf8)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f || (c > 0x7f && !utf8))
			return false;
	}
	return true;
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
	if (!clean(line, len, cmd && cmd->utf8)) {
		say(s, RP_BAD_CHARS);
		return;
	}
	if (len + 2 > (cmd ? cmd->line_max : SMTP_LINE_MAX)) {
		say(s, RP_LINE_TOO_LONG);
		return;
	}
	if (!cmd) {
		say(s, RP_UNKNOWN);
		return;
	}
	if (!(cmd->states & s->state)) {
		say(s, RP_BAD_SEQUENCE, out_of_order(s, cmd));
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

int session_run(const struct config *cfg, struct io *io, struct store *st, const char *client_addr)
{
	struct session *s = calloc(1, sizeof *s);
	struct log_field f[] = {{"CLIENT", client_addr}};
	int status;

	if (!s) {
		reply(io, RP_UNAVAILABLE, cfg->hostname);
		io_flush(io);
		return 1;
	}
	s->cfg = cfg;
	s->io = io;
	s->store = st;
	s->client_addr = client_addr;
	s->state = S_CONNECTED;
	if (cfg->tls) {
		s->tls = *cfg->tls;
		s->in_tls = true;
	}
	spool_init(&s->spool, cfg->spool_dir);
	tx_reset(s); /* an empty transaction */
	log_event(LOG_INFO, f, 1, "connect");
	if (cfg->ndomains == 0)
		log_event(LOG_NOTICE, f, 1,
			  "no --domain given: accepting mail for every recipient");
	/*
	 * RFC 5321 3.1: the client waits for the greeting.  Bytes that are
	 * already here before it is sent come from a program that does not
	 * listen (spam engines blasting a whole transaction), and costs
	 * nothing to see.
	 */
	if (cfg->refuse_early_talkers && io_pending(io)) {
		reply(io, RP_EARLY_TALKER, cfg->hostname);
		s->end = END_EARLY;
	} else {
		reply(io, RP_GREETING, cfg->hostname);
	}
	while (s->end == END_NONE) {
		size_t len;

		switch (io_getline(io, s->line, sizeof s->line, &len)) {
		case IO_OK:
			dispatch(s, s->line, len);
			break;
		case IO_TOOLONG:
			say(s, RP_LINE_TOO_LONG);
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
			reply(io, RP_TOO_MANY_ERRORS, cfg->hostname);
			s->end = END_ERRORS;
		}
	}
	if (s->end == END_TIMEOUT)
		reply(io, RP_TIMEOUT, cfg->hostname);
	io_flush(io);
	session_end_log(s);
	status = s->end == END_FAULT ? 1 : 0;
	tx_reset(s);
	free(s->tx.rcpt);
	free(s);
	return status;
}
