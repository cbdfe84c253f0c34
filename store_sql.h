/*
 * store_sql.h - for the store layer's other files (the mailbox tool's
 * queries): the SQLite connection inside a struct store, and a write
 * transaction that queues like smtpd's deliveries.  Nothing outside the
 * store layer includes this.
 */
#ifndef SMTPD_STORE_SQL_H
#define SMTPD_STORE_SQL_H

#include <sqlite3.h>

#include "store.h"

/* store_sqlite - the connection store_open made; owned by st. */
sqlite3 *store_sqlite(struct store *st);

/*
 * store_begin - join the writers' queue, then BEGIN IMMEDIATE (which
 * waits out the busy timeout).  Returns an SQLite result code; after
 * SQLITE_OK, end with store_end.
 */
int store_begin(struct store *st);

/*
 * store_end - COMMIT when rc is SQLITE_OK, else ROLLBACK; leave the
 * queue.  Returns rc, or COMMIT's failure with its reason in err (a
 * caller that passes a failure has written its own reason already).
 */
int store_end(struct store *st, int rc, char *err, size_t errlen);

/* store_file_fd - a descriptor of the database file, for locks of an
 * open file description far beyond the bytes SQLite locks (pop3d's
 * maildrop lock); -1 if there is none.  Owned by st. */
int store_file_fd(const struct store *st);

#endif
