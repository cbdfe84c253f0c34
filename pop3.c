/*
 * pop3.c - the POP3 state machine (see pop3.h).
 *
 * One dispatch path: the command table gives each verb its handler and
 * the states it is allowed in; what is out of order is refused there,
 * so handlers only check their arguments and act, sending one reply.
 * AUTHORIZATION is S_AUTH (or S_USER after USER), TRANSACTION S_TRANS;
 * UPDATE is the QUIT handler's commit (RFC 1939 6).  The mailbox is the
 * list taken at login; DELE only marks it, and nothing is deleted
 * unless QUIT commits, so a dropped connection deletes nothing.
 */
#include "pop3.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "limits.h"
#include "log.h"
#include "mailstore.h"
#include "password.h"
#include "sasl.h"
#include "stuff.h"

/* Bytes of a body read in one short transaction of its own. */
#define POP3_CHUNK 65536

/* Login names and passwords: as long as a SASL PLAIN part may be. */
#define CRED_MAX 256

enum state {
	S_AUTH = 1,  /* AUTHORIZATION, nothing given yet */
	S_USER = 2,  /* AUTHORIZATION, USER given, PASS expected */
	S_TRANS = 4, /* TRANSACTION: logged in, maildrop locked */
};
#define S_ANY (S_AUTH | S_USER | S_TRANS)

enum end {
	END_NONE,
	END_QUIT,
	END_EOF,
	END_TIMEOUT,
	END_ERRORS,
	END_FAILURES,
	END_IO,
	END_FAULT,
	END_INJECTION,
	END_TLS_FAILED,
};

static const char *const end_names[] = {
	[END_NONE] = "",
	[END_QUIT] = "quit",
	[END_EOF] = "eof",
	[END_TIMEOUT] = "timeout",
	[END_ERRORS] = "too many errors",
	[END_FAILURES] = "too many failed logins",
	[END_IO] = "i/o error",
	[END_FAULT] = "internal error",
	[END_INJECTION] = "sent data after STLS",
	[END_TLS_FAILED] = "TLS handshake failed",
};

/* Every reply text, in one place: each name is its printf format, so
 * the compiler checks every say() against the text's slots. */
#define R_GREETING	  "+OK %s POP3 ready"
#define R_OK		  "+OK"
#define R_BYE		  "+OK %s closing connection"
#define R_BYE_DELE	  "+OK %s closing connection, %zu deleted"
#define R_CAPA		  "+OK Capability list follows"
#define R_USER		  "+OK Send the password"
#define R_LOGGED_IN	  "+OK Logged in, %zu messages (%" PRIu64 " octets)"
#define R_STAT		  "+OK %zu %" PRIu64
#define R_LIST		  "+OK %zu messages (%" PRIu64 " octets)"
#define R_SCAN		  "+OK %zu %" PRIu64
#define R_UIDL_ALL	  "+OK Unique-id listing follows"
#define R_UIDL_ONE	  "+OK %zu %s"
#define R_RETR		  "+OK %" PRIu64 " octets"
#define R_TOP		  "+OK Top of message follows"
#define R_DELE		  "+OK Message %zu deleted"
#define R_RSET		  "+OK %zu messages (%" PRIu64 " octets)"
#define R_STLS		  "+OK Begin TLS negotiation"
#define R_SASL_GO	  "+ "
#define R_UNKNOWN	  "-ERR Unknown command"
#define R_BAD_CHARS	  "-ERR Control characters in the command"
#define R_TOO_LONG	  "-ERR Line too long"
#define R_SYNTAX	  "-ERR Syntax: %s"
#define R_NO_SUCH	  "-ERR No message %s"
#define R_DELETED	  "-ERR Message %zu is deleted"
#define R_LOG_IN_FIRST	  "-ERR Log in first"
#define R_USER_FIRST	  "-ERR Send USER first"
#define R_LOGGED	  "-ERR Already logged in"
#define R_NEED_TLS	  "-ERR [AUTH] Plaintext login is not allowed here: use STLS first"
#define R_AUTH_FAILED	  "-ERR [AUTH] Authentication failed"
#define R_AUTH_LAST	  "-ERR [AUTH] Authentication failed, closing connection"
#define R_MECHANISM	  "-ERR Unsupported mechanism: only PLAIN"
#define R_CANCELLED	  "-ERR Authentication cancelled"
#define R_IN_USE	  "-ERR [IN-USE] The mailbox is in use by another session"
#define R_SYS_TEMP	  "-ERR [SYS/TEMP] The mailbox is not available, try again later"
#define R_DELE_FAILED	  "-ERR [SYS/TEMP] Could not delete the messages; none was deleted"
#define R_NO_STLS	  "-ERR STLS is not available"
#define R_TLS_ALREADY	  "-ERR TLS is already active"
#define R_STLS_PIPELINED  "-ERR Commands sent after STLS before its reply; closing connection"
#define R_TOO_MANY_ERRORS "-ERR Too many errors, closing connection"

struct session {
	const struct pop3_config *cfg;
	struct io *io;
	struct store *store;
	const char *client_addr;
	enum state state;
	enum end end;
	bool in_tls;
	struct tls_info tls; /* when in_tls */
	unsigned errors, failures;
	char user[CRED_MAX]; /* USER, or the account logged in */
	int64_t account;
	/* The mailbox, as listed at login. */
	struct mail *mail;
	bool *deleted;
	size_t n;
	uint32_t uidvalidity;
	/* For the log line at the end. */
	unsigned retr, top;
	uint64_t retr_bytes, top_bytes;
	size_t deleted_count; /* committed at QUIT */
	char chunk[POP3_CHUNK];
	/* A line: a SASL response is the longest, then its CR LF and NUL. */
	char line[POP3_SASL_LINE_MAX + 1];
};

/* say - send one reply line (an R_ format and its arguments); -ERR
 * counts as an error. */
static void __attribute__((format(printf, 2, 3))) say(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	io_vprintf(s->io, fmt, ap);
	va_end(ap);
	io_printf(s->io, "\r\n");
	if (fmt[0] == '-')
		s->errors++;
}

/* fault - our own failure: say so, then end. */
static void fault(struct session *s, const char *why)
{
	struct log_field f[] = {{"CLIENT", s->client_addr}, {"USER", s->user}, {"REASON", why}};

	log_event(LOG_ERR, f, 3, "internal error");
	say(s, R_SYS_TEMP);
	s->end = END_FAULT;
}

/* now_ms - the monotonic clock, in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sleep_until - wait until the monotonic clock reads at least t. */
static void sleep_until(int64_t t)
{
	int64_t left;

	while ((left = t - now_ms()) > 0) {
		struct timespec ts = {left / 1000, (long)(left % 1000) * 1000000};
		nanosleep(&ts, NULL);
	}
}

/* totals - messages not marked deleted, and their octets. */
static void totals(const struct session *s, size_t *count, uint64_t *octets)
{
	*count = 0;
	*octets = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!s->deleted[i]) {
			(*count)++;
			*octets += s->mail[i].size;
		}
	}
}

/* message - the message numbered by arg (RFC 1939: 1..n, not deleted),
 * as an index; -1 with the reply sent if there is none.  usage is for
 * a malformed argument. */
static long message(struct session *s, const char *arg, const char *usage)
{
	char *end;
	unsigned long long v;

	if (*arg < '0' || *arg > '9') {
		say(s, R_SYNTAX, usage);
		return -1;
	}
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*end != '\0' && *end != ' ') {
		say(s, R_SYNTAX, usage);
		return -1;
	}
	if (errno || v == 0 || v > s->n) {
		char num[24];
		snprintf(num, sizeof num, "%.20s", arg);
		num[strcspn(num, " ")] = '\0';
		say(s, R_NO_SUCH, num);
		return -1;
	}
	if (s->deleted[v - 1]) {
		say(s, R_DELETED, (size_t)v);
		return -1;
	}
	return (long)(v - 1);
}

/* no_args - true if arg is empty; otherwise the syntax reply is sent. */
static bool no_args(struct session *s, const char *arg, const char *usage)
{
	if (*arg == '\0')
		return true;
	say(s, R_SYNTAX, usage);
	return false;
}

/* uid - the UIDL of message index i: message id and uidvalidity in hex,
 * a layout that must never change (clients keep these for ever). */
static void uid(const struct session *s, size_t i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%08" PRIx64 "%08" PRIx32, (uint64_t)s->mail[i].id, s->uidvalidity);
}

/* login_allowed - may a login be tried on this connection? */
static bool login_allowed(const struct session *s)
{
	return s->in_tls || s->cfg->plaintext_login;
}

/* CAPA (RFC 2449 5): TOP and UIDL before login too, as clients ask once. */
static void cmd_capa(struct session *s, char *arg)
{
	if (!no_args(s, arg, "CAPA"))
		return;
	say(s, R_CAPA);
	io_printf(s->io, "TOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\n");
	if (s->state != S_TRANS) {
		if (s->cfg->starttls && !s->in_tls)
			io_printf(s->io, "STLS\r\n");
		if (login_allowed(s))
			io_printf(s->io, "USER\r\nSASL PLAIN\r\n");
	}
	io_printf(s->io, "IMPLEMENTATION pop3d\r\n.\r\n");
}

/* login_failed - count a failure and answer it at the fixed time after
 * start, whatever failed; the last one allowed ends the session. */
static void login_failed(struct session *s, int64_t start, const char *why)
{
	struct log_field f[] = {{"CLIENT", s->client_addr}, {"USER", s->user}, {"REASON", why}};

	log_event(LOG_NOTICE, f, 3, "login failed");
	sleep_until(start + s->cfg->fail_delay_ms);
	s->state = S_AUTH;
	if (++s->failures >= POP3_LOGIN_FAILURES) {
		say(s, R_AUTH_LAST);
		s->end = END_FAILURES;
		return;
	}
	say(s, R_AUTH_FAILED);
}

/*
 * login - check name and password, lock the maildrop and list it: the
 * way into TRANSACTION for PASS and AUTH.  start is when the command
 * arrived.  The password is wiped by the caller.
 */
static void login(struct session *s, const char *name, const char *password, int64_t start)
{
	char hash[MAILSTORE_HASH_MAX], err[256];
	enum store_status st;
	size_t count;
	uint64_t octets;

	snprintf(s->user, sizeof s->user, "%s", name);
	st = mailstore_account(s->store, name, &s->account, hash, sizeof hash, err, sizeof err);
	if (st == STORE_TEMP) {
		fault(s, err);
		return;
	}
	if (st != STORE_OK) {
		login_failed(s, start, "no such account");
		return;
	}
	bool ok = password_matches(password, hash);
	explicit_bzero(hash, sizeof hash);
	if (!ok) {
		login_failed(s, start, "wrong password");
		return;
	}
	switch (mailstore_lock(s->store, s->account)) {
	case MAILSTORE_LOCKED:
		break;
	case MAILSTORE_IN_USE:
		s->state = S_AUTH;
		say(s, R_IN_USE);
		return;
	case MAILSTORE_LOCK_FAILED:
		fault(s, "cannot lock the maildrop");
		return;
	}
	if (mailstore_list(s->store, s->account, &s->mail, &s->n, &s->uidvalidity, err,
			   sizeof err) != STORE_OK) {
		fault(s, err);
		return;
	}
	if (s->n && !(s->deleted = calloc(s->n, sizeof *s->deleted))) {
		fault(s, "out of memory");
		return;
	}
	s->state = S_TRANS;
	totals(s, &count, &octets);
	struct log_field f[] = {{"CLIENT", s->client_addr},
				{"USER", s->user},
				{"TLS", s->in_tls ? s->tls.protocol : "no"}};
	log_event(LOG_INFO, f, 3, "login");
	say(s, R_LOGGED_IN, count, octets);
}

/* USER name (RFC 1939 7): any name is answered alike, so that nobody
 * learns which accounts exist. */
static void cmd_user(struct session *s, char *arg)
{
	if (!login_allowed(s)) {
		say(s, R_NEED_TLS);
		return;
	}
	if (*arg == '\0' || strlen(arg) >= sizeof s->user) {
		say(s, R_SYNTAX, "USER name");
		return;
	}
	snprintf(s->user, sizeof s->user, "%s", arg);
	s->state = S_USER;
	say(s, R_USER);
}

/* PASS string (RFC 1939 7): the rest of the line, spaces and all. */
static void cmd_pass(struct session *s, char *arg)
{
	int64_t start = now_ms();
	char name[CRED_MAX];

	if (!login_allowed(s)) {
		say(s, R_NEED_TLS);
		return;
	}
	memcpy(name, s->user, sizeof name);
	login(s, name, arg, start);
}

/* sasl_response - read the client's line after "+ " (RFC 5034 4) into
 * s->line; false, with the session's end or a reply set, if none came. */
static bool sasl_response(struct session *s, size_t *len)
{
	say(s, R_SASL_GO);
	switch (io_getline(s->io, s->line, sizeof s->line, len)) {
	case IO_OK:
		break;
	case IO_TOOLONG:
		say(s, R_TOO_LONG);
		return false;
	case IO_EOF:
		s->end = END_EOF;
		return false;
	case IO_TIMEOUT:
		s->end = END_TIMEOUT;
		return false;
	case IO_ERROR:
		s->end = END_IO;
		return false;
	}
	if (*len == 1 && s->line[0] == '*') {
		say(s, R_CANCELLED);
		return false;
	}
	return true;
}

/* AUTH PLAIN [initial-response] (RFC 5034, RFC 4616). */
static void cmd_auth(struct session *s, char *arg)
{
	int64_t start = now_ms();
	char name[CRED_MAX], password[CRED_MAX];
	const char *resp;
	size_t len;

	if (!login_allowed(s)) {
		say(s, R_NEED_TLS);
		return;
	}
	if (*arg == '\0') {
		say(s, R_SYNTAX, "AUTH PLAIN [initial-response]");
		return;
	}
	if (strncasecmp(arg, "PLAIN", 5) != 0 || (arg[5] != '\0' && arg[5] != ' ')) {
		say(s, R_MECHANISM);
		return;
	}
	s->state = S_AUTH;
	if (arg[5] == ' ') {
		resp = arg + 6;
		len = strlen(resp);
	} else {
		if (!sasl_response(s, &len))
			return;
		resp = s->line;
		start = now_ms();
	}
	/* "=" is an empty initial response (RFC 5034 4): no credentials. */
	if (!sasl_plain(resp, len, name, password, sizeof name)) {
		snprintf(s->user, sizeof s->user, "%s", "");
		login_failed(s, start, "malformed PLAIN response");
		return;
	}
	login(s, name, password, start);
	explicit_bzero(password, sizeof password);
}

/* STLS (RFC 2595 4): TLS on this connection, then AUTHORIZATION afresh. */
static void cmd_stls(struct session *s, char *arg)
{
	struct log_field f[] = {{"CLIENT", s->client_addr}, {"REASON", "the TLS helper failed"}};

	if (!no_args(s, arg, "STLS"))
		return;
	if (s->in_tls) {
		say(s, R_TLS_ALREADY);
		return;
	}
	if (!s->cfg->starttls) {
		say(s, R_NO_STLS);
		return;
	}
	/* Bytes behind STLS, sent before its reply, would be taken as if
	 * they came under TLS (CVE-2011-0411): refuse them and go. */
	if (io_pending(s->io)) {
		say(s, R_STLS_PIPELINED);
		s->end = END_INJECTION;
		return;
	}
	say(s, R_STLS);
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
	/* Forget all that was said before TLS (RFC 2595 4): the client
	 * asks CAPA again and logs in anew.  The counts stay: they are
	 * ours, not the client's. */
	s->in_tls = true;
	s->user[0] = '\0';
	s->state = S_AUTH;
}

/* STAT (RFC 1939 5) */
static void cmd_stat(struct session *s, char *arg)
{
	size_t count;
	uint64_t octets;

	if (!no_args(s, arg, "STAT"))
		return;
	totals(s, &count, &octets);
	say(s, R_STAT, count, octets);
}

/* LIST [msg] (RFC 1939 5): sizes are the octets RETR sends. */
static void cmd_list(struct session *s, char *arg)
{
	size_t count;
	uint64_t octets;
	long i;

	if (*arg) {
		if ((i = message(s, arg, "LIST [message-number]")) >= 0) {
			if (strchr(arg, ' ')) {
				say(s, R_SYNTAX, "LIST [message-number]");
				return;
			}
			say(s, R_SCAN, (size_t)i + 1, s->mail[i].size);
		}
		return;
	}
	totals(s, &count, &octets);
	say(s, R_LIST, count, octets);
	for (size_t j = 0; j < s->n; j++)
		if (!s->deleted[j])
			io_printf(s->io, "%zu %" PRIu64 "\r\n", j + 1, s->mail[j].size);
	io_printf(s->io, ".\r\n");
}

/* UIDL [msg] (RFC 1939 7) */
static void cmd_uidl(struct session *s, char *arg)
{
	char u[32];
	long i;

	if (*arg) {
		if ((i = message(s, arg, "UIDL [message-number]")) >= 0) {
			if (strchr(arg, ' ')) {
				say(s, R_SYNTAX, "UIDL [message-number]");
				return;
			}
			uid(s, (size_t)i, u, sizeof u);
			say(s, R_UIDL_ONE, (size_t)i + 1, u);
		}
		return;
	}
	say(s, R_UIDL_ALL);
	for (size_t j = 0; j < s->n; j++) {
		if (!s->deleted[j]) {
			uid(s, j, u, sizeof u);
			io_printf(s->io, "%zu %s\r\n", j + 1, u);
		}
	}
	io_printf(s->io, ".\r\n");
}

/*
 * send_message - the multi-line answer to RETR or TOP for message index
 * i: the first piece is read before the +OK, so that a store failure
 * can still be a -ERR; a failure after it ends the session without the
 * final ".", which the client sees as a broken transfer, not a message.
 * Returns the message octets sent.
 */
static uint64_t send_message(struct session *s, size_t i, bool top, uint64_t lines)
{
	const struct mail *m = &s->mail[i];
	struct mail_reader r;
	struct stuffer f;
	uint64_t off = 0;
	size_t got;

	mailstore_open(&r, s->store, m->id);
	if (mailstore_read(&r, s->chunk, sizeof s->chunk, &got) != STORE_OK ||
	    (got == 0 && m->stored > 0)) {
		mailstore_close(&r);
		say(s, R_SYS_TEMP);
		return 0;
	}
	if (top)
		say(s, R_TOP);
	else
		say(s, R_RETR, m->size);
	stuff_init(&f, top, lines);
	for (;;) {
		off += got;
		if (!stuff_feed(&f, s->io, s->chunk, got) || off >= m->stored)
			break;
		if (mailstore_read(&r, s->chunk, sizeof s->chunk, &got) != STORE_OK || got == 0) {
			struct log_field lf[] = {{"CLIENT", s->client_addr}, {"USER", s->user}};
			mailstore_close(&r);
			/* No reply fits inside a multi-line one: just end. */
			log_event(LOG_ERR, lf, 2, "message body unreadable in the middle");
			s->end = END_FAULT;
			return f.sent;
		}
	}
	mailstore_close(&r);
	stuff_end(&f, s->io);
	return f.sent;
}

/* RETR msg (RFC 1939 5) */
static void cmd_retr(struct session *s, char *arg)
{
	long i = message(s, arg, "RETR message-number");

	if (i < 0)
		return;
	if (strchr(arg, ' ')) {
		say(s, R_SYNTAX, "RETR message-number");
		return;
	}
	s->retr++;
	s->retr_bytes += send_message(s, (size_t)i, false, 0);
}

/* TOP msg n (RFC 1939 7) */
static void cmd_top(struct session *s, char *arg)
{
	const char *usage = "TOP message-number lines";
	char *sp = strchr(arg, ' '), *end;
	unsigned long long lines;
	long i;

	if (!sp || sp[1] < '0' || sp[1] > '9') {
		say(s, R_SYNTAX, usage);
		return;
	}
	errno = 0;
	lines = strtoull(sp + 1, &end, 10);
	if (*end || errno) {
		say(s, R_SYNTAX, usage);
		return;
	}
	if ((i = message(s, arg, usage)) < 0)
		return;
	s->top++;
	s->top_bytes += send_message(s, (size_t)i, true, lines);
}

/* DELE msg (RFC 1939 5): marked now, deleted at QUIT. */
static void cmd_dele(struct session *s, char *arg)
{
	long i = message(s, arg, "DELE message-number");

	if (i < 0)
		return;
	if (strchr(arg, ' ')) {
		say(s, R_SYNTAX, "DELE message-number");
		return;
	}
	s->deleted[i] = true;
	say(s, R_DELE, (size_t)i + 1);
}

/* RSET (RFC 1939 5): unmark every message. */
static void cmd_rset(struct session *s, char *arg)
{
	size_t count;
	uint64_t octets;

	if (!no_args(s, arg, "RSET"))
		return;
	for (size_t i = 0; i < s->n; i++)
		s->deleted[i] = false;
	totals(s, &count, &octets);
	say(s, R_RSET, count, octets);
}

/* NOOP (RFC 1939 5) */
static void cmd_noop(struct session *s, char *arg)
{
	if (no_args(s, arg, "NOOP"))
		say(s, R_OK);
}

/* QUIT (RFC 1939 6): in TRANSACTION, the UPDATE state: the deletions
 * are committed, all or none, before +OK. */
static void cmd_quit(struct session *s, char *arg)
{
	int64_t *ids = NULL;
	size_t n = 0;
	char err[256];

	(void)arg; /* RFC 1939 gives QUIT no arguments; ignore any */
	s->end = END_QUIT;
	if (s->state != S_TRANS) {
		say(s, R_BYE, s->cfg->hostname);
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		n += s->deleted[i];
	if (n == 0) {
		say(s, R_BYE, s->cfg->hostname);
		return;
	}
	if (!(ids = malloc(n * sizeof *ids))) {
		fault(s, "out of memory");
		return;
	}
	n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->deleted[i])
			ids[n++] = s->mail[i].id;
	if (mailstore_delete(s->store, s->account, ids, n, err, sizeof err) != STORE_OK) {
		struct log_field f[] = {
			{"CLIENT", s->client_addr}, {"USER", s->user}, {"REASON", err}};
		log_event(LOG_ERR, f, 3, "cannot delete");
		say(s, R_DELE_FAILED);
	} else {
		s->deleted_count = n;
		say(s, R_BYE_DELE, s->cfg->hostname, n);
	}
	free(ids);
}

static const struct command {
	const char *verb;
	void (*handler)(struct session *s, char *arg);
	unsigned states; /* where it is allowed */
} commands[] = {
	{"CAPA", cmd_capa, S_ANY},	     {"USER", cmd_user, S_AUTH | S_USER},
	{"PASS", cmd_pass, S_USER},	     {"AUTH", cmd_auth, S_AUTH | S_USER},
	{"STLS", cmd_stls, S_AUTH | S_USER}, {"STAT", cmd_stat, S_TRANS},
	{"LIST", cmd_list, S_TRANS},	     {"UIDL", cmd_uidl, S_TRANS},
	{"RETR", cmd_retr, S_TRANS},	     {"TOP", cmd_top, S_TRANS},
	{"DELE", cmd_dele, S_TRANS},	     {"RSET", cmd_rset, S_TRANS},
	{"NOOP", cmd_noop, S_TRANS},	     {"QUIT", cmd_quit, S_ANY},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* refuse - the answer to a command out of order. */
static void refuse(struct session *s, const struct command *cmd)
{
	if (s->state == S_TRANS)
		say(s, R_LOGGED);
	else if (cmd->handler == cmd_pass)
		say(s, R_USER_FIRST);
	else
		say(s, R_LOG_IN_FIRST);
}

/* clean - no control characters (RFC 2449 4: printable ASCII; octets
 * above 127 pass, for UTF-8 passwords). */
static bool clean(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

/* dispatch - one command line: look the verb up, check the state, run. */
static void dispatch(struct session *s, char *line, size_t len)
{
	size_t vlen = strcspn(line, " ");
	const struct command *cmd = NULL;
	char *arg = line[vlen] ? line + vlen + 1 : line + vlen;

	if (len + 2 > POP3_LINE_MAX) {
		say(s, R_TOO_LONG);
		return;
	}
	if (!clean(line, len)) {
		say(s, R_BAD_CHARS);
		return;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (vlen == strlen(commands[i].verb) &&
		    strncasecmp(line, commands[i].verb, vlen) == 0)
			cmd = &commands[i];
	if (!cmd) {
		say(s, R_UNKNOWN);
		return;
	}
	if (!(cmd->states & s->state)) {
		refuse(s, cmd);
		return;
	}
	cmd->handler(s, arg);
}

/* end_log - the session's line: who, what was read and deleted. */
static void end_log(const struct session *s)
{
	char retr[48], top[48], dele[24], errors[16];
	struct log_field f[] = {
		{"CLIENT", s->client_addr},
		{"USER", s->user},
		{"RETR", retr},
		{"TOP", top},
		{"DELE", dele},
		{"ERRORS", errors},
		{"TLS", s->in_tls ? s->tls.protocol : "no"},
		{"END", end_names[s->end]},
	};

	snprintf(retr, sizeof retr, "%u/%" PRIu64, s->retr, s->retr_bytes);
	snprintf(top, sizeof top, "%u/%" PRIu64, s->top, s->top_bytes);
	snprintf(dele, sizeof dele, "%zu", s->deleted_count);
	snprintf(errors, sizeof errors, "%u", s->errors);
	log_event(LOG_INFO, f, sizeof f / sizeof *f, "disconnect");
}

enum pop3_end pop3_run(const struct pop3_config *cfg, struct io *io, struct store *st,
		       const char *client_addr)
{
	struct session *s = calloc(1, sizeof *s);
	struct log_field f[] = {{"CLIENT", client_addr}};
	enum pop3_end result;

	if (!s) {
		io_printf(io, R_SYS_TEMP "\r\n");
		io_flush(io);
		return POP3_FAULT;
	}
	s->cfg = cfg;
	s->io = io;
	s->store = st;
	s->client_addr = client_addr;
	s->state = S_AUTH;
	if (cfg->tls) {
		s->in_tls = true;
		s->tls = *cfg->tls;
	}
	log_event(LOG_INFO, f, 1, "connect");
	say(s, R_GREETING, cfg->hostname);
	while (s->end == END_NONE) {
		size_t len;

		switch (io_getline(io, s->line, sizeof s->line, &len)) {
		case IO_OK:
			dispatch(s, s->line, len);
			/* A password may have been in it, or in a SASL line. */
			explicit_bzero(s->line, sizeof s->line);
			break;
		case IO_TOOLONG:
			say(s, R_TOO_LONG);
			break;
		case IO_EOF:
			s->end = END_EOF;
			break;
		case IO_TIMEOUT:
			/* RFC 1939 3: the autologout closes without a reply. */
			s->end = END_TIMEOUT;
			break;
		case IO_ERROR:
			s->end = END_IO;
			break;
		}
		if (s->end == END_NONE && s->errors > POP3_ERROR_LIMIT) {
			say(s, R_TOO_MANY_ERRORS);
			s->end = END_ERRORS;
		}
	}
	io_flush(io);
	end_log(s);
	result = s->end == END_FAULT ? POP3_FAULT : POP3_DONE;
	free(s->mail);
	free(s->deleted);
	explicit_bzero(s, sizeof *s);
	free(s);
	return result;
}
