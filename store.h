/*
 * store.h - the mailbox database.  Only store.c knows it is SQLite.
 */
#ifndef SMTPD_STORE_H
#define SMTPD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "spool.h"

struct store;

enum store_status {
	STORE_OK,
	STORE_TEMP, /* try again later: busy, I/O error (451 4.3.0) */
	STORE_FULL, /* disk full (452 4.3.1) */
	STORE_PERM, /* will never fit (554) */
};

/* One accepted recipient; the DSN fields (RFC 3461) are NULL when the
 * client gave none. */
struct recipient {
	const char *addr;
	const char *notify; /* NOTIFY=, upper case */
	const char *orcpt;  /* ORCPT=, as sent */
};

struct envelope {
	time_t received;
	const char *helo;
	const char *client_addr; /* "" when unknown */
	const char *protocol;	 /* "SMTP", "ESMTP", "UTF8SMTP" (RFC 3848) */
	const char *mail_from;	 /* "" for the null path */
	const char *body_type;	 /* BODY=: "7BIT", "8BITMIME", or NULL */
	int smtputf8;		 /* SMTPUTF8 was given (RFC 6531) */
	const char *dsn_ret;	 /* RET=: "FULL", "HDRS", or NULL */
	const char *dsn_envid;	 /* ENVID=, as sent, or NULL */
	const struct recipient *rcpt;
	size_t nrcpt;
};

/*
 * trace_fn - write the trace header lines for message id into buf (at
 * most cap bytes); returns their length.  The store calls it once it has
 * chosen the id, so the id can appear in the Received: header.
 */
typedef size_t (*trace_fn)(int64_t id, char *buf, size_t cap, void *arg);

/*
 * store_open - open or create the database at path and bring its schema
 * up to date; safe when many processes race on a missing file.  Returns
 * NULL with a reason in err on failure.  Free with store_close().
 */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st);

/*
 * store_deliver - in one transaction, insert the message (trace headers
 * then the spooled text) and its recipients, and commit durably.  On
 * STORE_OK *id is the new row's id; otherwise nothing was stored and err
 * holds the reason.
 */
enum store_status store_deliver(struct store *st, const struct envelope *env, trace_fn trace,
				void *arg, struct spool *body, int64_t *id, char *err,
				size_t errlen);

/*
 * store_checkpoint - copy what the WAL holds into the database file
 * (PASSIVE: never waits for a writer); with truncate, wait and empty the
 * WAL as well.  Returns STORE_OK, or the failure with err set.
 */
enum store_status store_checkpoint(struct store *st, int truncate, char *err, size_t errlen);

#endif
