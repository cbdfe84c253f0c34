/*
 * store.c - the mailbox database in SQLite (see store.h).
 *
 * Durability: WAL with synchronous=FULL, so COMMIT returns only after the
 * WAL is fsynced; one transaction per message.  Concurrency: every
 * smtpd process is a separate connection; BEGIN IMMEDIATE takes the
 * write lock up front.  A writer waits its turn in the writers' queue,
 * then on SQLite's lock, both within one deadline.  What is there only
 * for speed (the queue, a file system layer, who checkpoints) lives in
 * store_perf.c.
 */
#include "store.h"
#include "store_sql.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_perf.h"
#include "trace.h"

#define SCHEMA_VERSION 3

/* How long a writer waits for another's transaction before giving up. */
#define STORE_BUSY_TIMEOUT_MS 10000

/* Body bytes moved per incremental blob write. */
#define COPY_CHUNK 65536

/* The latest schema, for a new file. */
static const char schema_sql[] =
#include "schema.h"
	;

/* migrations[v] brings a version v file to v + 1, in place.  Together
 * they must end where schema.sql starts (a test compares the two). */
static const char *const migrations[SCHEMA_VERSION] = {
	[1] = "ALTER TABLE messages ADD COLUMN body_type TEXT;"
	      "ALTER TABLE messages ADD COLUMN smtputf8 INTEGER NOT NULL DEFAULT 0;"
	      "ALTER TABLE messages ADD COLUMN dsn_ret TEXT;"
	      "ALTER TABLE messages ADD COLUMN dsn_envid TEXT;"
	      "ALTER TABLE recipients ADD COLUMN dsn_notify TEXT;"
	      "ALTER TABLE recipients ADD COLUMN dsn_orcpt TEXT;",
	[2] = "ALTER TABLE messages ADD COLUMN tls_version TEXT;"
	      "ALTER TABLE messages ADD COLUMN tls_cipher TEXT;"
	      "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	      "INSERT INTO meta (name, value)"
	      " VALUES ('uidvalidity', abs(random() % 4294967295) + 1);"
	      "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	      " password TEXT, created_at TEXT NOT NULL,"
	      " disabled INTEGER NOT NULL DEFAULT 0);"
	      "CREATE TABLE addresses (address TEXT PRIMARY KEY COLLATE NOCASE,"
	      " account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE)"
	      " WITHOUT ROWID;"
	      "CREATE TABLE mailbox_state ("
	      " account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
	      " message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,"
	      " flags INTEGER NOT NULL DEFAULT 0, deleted_at TEXT,"
	      " PRIMARY KEY (account_id, message_id)) WITHOUT ROWID;"
	      "CREATE INDEX mailbox_state_by_message ON mailbox_state (message_id);"
	      "CREATE INDEX recipients_by_address_nocase"
	      " ON recipients (address COLLATE NOCASE);",
};

enum stmt { S_NEXT_ID, S_MESSAGE, S_RECIPIENT, S_COUNT };

static const char *const stmt_sql[S_COUNT] = {
	[S_NEXT_ID] = "SELECT coalesce((SELECT seq FROM sqlite_sequence"
		      " WHERE name = 'messages'), 0) + 1",
	[S_MESSAGE] = "INSERT INTO messages (id, received_at, helo,"
		      " client_addr, protocol, mail_from, size, body, body_type,"
		      " smtputf8, dsn_ret, dsn_envid, tls_version, tls_cipher)"
		      " VALUES (?, ?, ?, ?, ?, ?, ?, zeroblob(?), ?, ?, ?, ?, ?, ?)",
	[S_RECIPIENT] = "INSERT INTO recipients (message_id, position, address,"
			" dsn_notify, dsn_orcpt) VALUES (?, ?, ?, ?, ?)",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	int queue_fd;	   /* the database file again, for the writers' queue */
	bool queued;	   /* begin_write got a place in the queue */
	int64_t waited_ms; /* how long the last begin_write waited in all */
};

/* now_ms - the monotonic clock in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* begin_write - wait for this process's turn in the writers' queue, then
 * BEGIN IMMEDIATE, both within one deadline: what the queue leaves of it
 * is SQLite's busy timeout (0: do not wait at all).  Returns SQLite's
 * code; end_write leaves the queue whatever happened. */
static int begin_write(struct store *st)
{
	int64_t start = now_ms(), deadline = start + STORE_BUSY_TIMEOUT_MS, left;
	int rc;

	st->queued = queue_enter(st->queue_fd, STORE_BUSY_TIMEOUT_MS);
	left = deadline - now_ms();
	sqlite3_busy_timeout(st->db, left > 0 ? (int)left : 0);
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	st->waited_ms = now_ms() - start;
	return rc;
}

/* end_write - give the next writer its turn */
static void end_write(struct store *st)
{
	if (st->queued)
		queue_leave(st->queue_fd);
	st->queued = false;
}

/* fail - put "what: sqlite's message" in err. */
static void fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
}

/* user_version - the schema version in the file, or -1 on error. */
static int user_version(sqlite3 *db)
{
	sqlite3_stmt *s;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * set_wal - switch the file to WAL.  Changing the journal mode needs an
 * exclusive lock and can report SQLITE_BUSY without waiting when many
 * processes meet a fresh file at once, so retry until the busy timeout.
 */
static int set_wal(sqlite3 *db)
{
	int rc = SQLITE_BUSY;

	for (int waited = 0; waited < STORE_BUSY_TIMEOUT_MS; waited += 10) {
		rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		usleep(10000);
	}
	return rc;
}

/*
 * migrate - create the schema in a new file, or upgrade an older one.
 * Runs under BEGIN IMMEDIATE and looks at user_version again inside it,
 * so of many racing processes exactly one does the work.
 */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	char sql[64];
	int v, rc;

	if ((rc = set_wal(db)) != SQLITE_OK) {
		fail(db, err, errlen, "cannot switch to WAL");
		return rc;
	}
	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK) {
		fail(db, err, errlen, "cannot lock the database");
		return rc;
	}
	v = user_version(db);
	if (v > SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "database schema version %d is newer than"
			 " this smtpd's (%d)",
			 v, SCHEMA_VERSION);
		rc = SQLITE_ERROR;
		goto out;
	}
	if (v < SCHEMA_VERSION) {
		if (v == 0) {
			rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
			v = SCHEMA_VERSION;
		}
		for (; rc == SQLITE_OK && v < SCHEMA_VERSION; v++)
			rc = sqlite3_exec(db, migrations[v], NULL, NULL, NULL);
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			fail(db, err, errlen, "cannot create or upgrade the schema");
			goto out;
		}
	}
	if ((rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
		fail(db, err, errlen, "cannot commit the schema");
out:
	if (rc != SQLITE_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *st = calloc(1, sizeof *st);
	int v;

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->queue_fd = -1;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    perf_vfs()) != SQLITE_OK) {
		fail(st->db, err, errlen, path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	/* Durability first (see the top); the rest is for speed, and who
	 * checkpoints (store_perf.c). */
	if (sqlite3_exec(st->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    perf_connection(st->db) != SQLITE_OK) {
		fail(st->db, err, errlen, path);
		goto fail;
	}
	v = user_version(st->db);
	if (v < 0) {
		fail(st->db, err, errlen, path);
		goto fail;
	}
	if (v != SCHEMA_VERSION && migrate(st->db, err, errlen) != SQLITE_OK)
		goto fail;
	st->queue_fd = queue_open(path);
	/* Seed SQLite's generator (WAL salts) from /dev/urandom now: the
	 * sandbox that follows store_open() leaves it unreadable, and SQLite
	 * would fall back to the time and pid.  A first draw seeds it. */
	unsigned char draw;
	sqlite3_randomness(1, &draw);
	for (int i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st->stmt[i], NULL) != SQLITE_OK) {
			fail(st->db, err, errlen, "cannot prepare statements");
			goto fail;
		}
	}
	return st;
fail:
	store_close(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	if (st->queue_fd >= 0)
		close(st->queue_fd);
	free(st);
}

/* classify - what a failed SQLite call means for the client. */
static enum store_status classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_TOOBIG:
		return STORE_PERM;
	default:
		return STORE_TEMP;
	}
}

/* step - run a statement that returns no rows, then reset it. */
static int step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* next_id - the id AUTOINCREMENT would give; valid under the write lock. */
static int next_id(struct store *st, int64_t *id)
{
	sqlite3_stmt *s = st->stmt[S_NEXT_ID];
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_reset(s);
	return rc;
}

/*
 * copy_body - write header then spool into the message's body blob, which
 * was made hdrlen + body->size bytes long.  SQLITE_IOERR_SHORT_READ if the
 * spool could not be read, or did not give exactly body->size bytes.
 */
static int copy_body(struct store *st, int64_t id, const char *hdr, size_t hdrlen,
		     struct spool *body)
{
	static char buf[COPY_CHUNK];
	sqlite3_blob *blob;
	uint64_t copied = 0;
	int rc = sqlite3_blob_open(st->db, "main", "messages", "body", id, 1, &blob);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_blob_write(blob, hdr, (int)hdrlen, 0);
	if (rc == SQLITE_OK && !spool_rewind(body))
		rc = SQLITE_IOERR_SHORT_READ;
	while (rc == SQLITE_OK) {
		ssize_t n = spool_read(body, buf, sizeof buf);
		if (n < 0 || copied + (uint64_t)n > body->size)
			rc = SQLITE_IOERR_SHORT_READ;
		if (n <= 0 || rc != SQLITE_OK)
			break;
		/* Within INT32_MAX: store_deliver checked hdrlen + size. */
		rc = sqlite3_blob_write(blob, buf, (int)n, (int)(hdrlen + copied));
		copied += (uint64_t)n;
	}
	if (rc == SQLITE_OK && copied != body->size)
		rc = SQLITE_IOERR_SHORT_READ;
	int rc2 = sqlite3_blob_close(blob);
	return rc != SQLITE_OK ? rc : rc2;
}

enum store_status store_deliver(struct store *st, const struct envelope *env, struct spool *body,
				int64_t *id, char *err, size_t errlen)
{
	char hdr[TRACE_MAX], when[32];
	sqlite3_stmt *m = st->stmt[S_MESSAGE], *r = st->stmt[S_RECIPIENT];
	const char *const begin = "cannot begin", *what = begin;
	size_t hdrlen;
	int rc;
	struct tm tm;

	gmtime_r(&env->received, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc = begin_write(st);
	if (rc != SQLITE_OK)
		goto out;
	what = "cannot insert the message";
	if ((rc = next_id(st, id)) != SQLITE_OK)
		goto out;
	what = "trace header too long";
	if ((hdrlen = trace_header(env, *id, hdr, sizeof hdr)) == 0) {
		rc = SQLITE_TOOBIG;
		goto out;
	}
	what = "message too big";
	if (body->size + hdrlen > INT32_MAX) {
		rc = SQLITE_TOOBIG;
		goto out;
	}
	what = "cannot insert the message";
	sqlite3_bind_int64(m, 1, *id);
	sqlite3_bind_text(m, 2, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 3, env->helo, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 4, env->client_addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 5, env->protocol, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 6, env->mail_from, -1, SQLITE_STATIC);
	sqlite3_bind_int64(m, 7, (int64_t)(body->size + hdrlen));
	sqlite3_bind_int64(m, 8, (int64_t)(body->size + hdrlen));
	sqlite3_bind_text(m, 9, env->body_type, -1, SQLITE_STATIC);
	sqlite3_bind_int(m, 10, env->smtputf8);
	sqlite3_bind_text(m, 11, env->dsn_ret, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 12, env->dsn_envid, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 13, env->tls_version, -1, SQLITE_STATIC);
	sqlite3_bind_text(m, 14, env->tls_cipher, -1, SQLITE_STATIC);
	if ((rc = step(m)) != SQLITE_OK)
		goto out;
	what = "cannot write the body";
	if ((rc = copy_body(st, *id, hdr, hdrlen, body)) != SQLITE_OK)
		goto out;
	what = "cannot insert a recipient";
	for (size_t i = 0; i < env->nrcpt; i++) {
		sqlite3_bind_int64(r, 1, *id);
		sqlite3_bind_int64(r, 2, (int64_t)i);
		sqlite3_bind_text(r, 3, env->rcpt[i].addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(r, 4, env->rcpt[i].notify, -1, SQLITE_STATIC);
		sqlite3_bind_text(r, 5, env->rcpt[i].orcpt, -1, SQLITE_STATIC);
		if ((rc = step(r)) != SQLITE_OK)
			goto out;
	}
	what = "cannot commit";
	rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
out:
	if (rc != SQLITE_OK) {
		/* SQLITE_TOOBIG comes from the checks above, or from SQLite
		 * for a body past its limit: what says which.  A short read
		 * is the spool's, which SQLite knows nothing of. */
		if (rc == SQLITE_TOOBIG)
			snprintf(err, errlen, "%s", what);
		else if (what == begin)
			/* How long the queue and the lock took together: the
			 * log shows the one deadline (STORE_BUSY_TIMEOUT_MS). */
			snprintf(err, errlen, "%s after %" PRId64 " ms: %s", what, st->waited_ms,
				 sqlite3_errmsg(st->db));
		else if (rc == SQLITE_IOERR_SHORT_READ)
			snprintf(err, errlen, "%s: the spool could not be read back whole", what);
		else
			snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
	end_write(st);
	return rc == SQLITE_OK ? STORE_OK : classify(rc);
}

enum store_status store_checkpoint(struct store *st, int truncate, char *err, size_t errlen)
{
	int rc = perf_checkpoint(st->db, truncate);

	if (rc == SQLITE_OK)
		return STORE_OK;
	snprintf(err, errlen, "checkpoint: %s", sqlite3_errmsg(st->db));
	return classify(rc);
}

sqlite3 *store_sqlite(struct store *st)
{
	return st->db;
}

int store_begin(struct store *st)
{
	int rc = begin_write(st);

	if (rc != SQLITE_OK)
		end_write(st);
	return rc;
}

int store_end(struct store *st, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_OK && (rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
		fail(st->db, err, errlen, "cannot commit");
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	end_write(st);
	return rc;
}

int store_file_fd(const struct store *st)
{
	return st->queue_fd;
}
