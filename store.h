/*
 * store.h - the mailbox database.  Only store.c knows it is SQLite.
 */
#ifndef SMTPD_STORE_H
#define SMTPD_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "envelope.h"
#include "spool.h"

struct store;

enum store_status {
	STORE_OK,
	STORE_TEMP, /* try again later: busy, I/O error (451 4.3.0) */
	STORE_FULL, /* disk full (452 4.3.1) */
	STORE_PERM, /* will never fit (554) */
};

/*
 * store_open - open or create the database at path and bring its schema
 * up to date; safe when many processes race on a missing file.  Returns
 * NULL with a reason in err on failure.  Free with store_close().
 */
struct store *store_open(const char *path, char *err, size_t errlen);
void store_close(struct store *st);

/*
 * store_deliver - in one transaction, insert the message and its
 * recipients, and commit durably.  The stored text is the trace header
 * (trace.h, built here from env once the message has its id) followed by
 * the spooled body.  On STORE_OK *id is the new row's id; otherwise
 * nothing was stored and err holds the reason.
 */
enum store_status store_deliver(struct store *st, const struct envelope *env, struct spool *body,
				int64_t *id, char *err, size_t errlen);

/*
 * store_checkpoint - copy what the WAL holds into the database file
 * (PASSIVE: never waits for a writer); with truncate, wait and empty the
 * WAL as well.  Returns STORE_OK, or the failure with err set.
 */
enum store_status store_checkpoint(struct store *st, int truncate, char *err, size_t errlen);

#endif
