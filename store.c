/*
 * store.c - the mailbox database in SQLite (see store.h).
 *
 * Durability: WAL with synchronous=FULL, so COMMIT returns only after the
 * WAL is fsynced; one transaction per message.  Concurrency: every
 * smtpd process is a separate connection; BEGIN IMMEDIATE takes the
 * write lock up front and the busy timeout queues writers behind it.
 */
#include "store.h"
#include "store_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	int queue_fd; /* the database file again, for the writers' queue */
	bool queued;  /* store_begin got a place in the queue */
};

/*
 * The writers' queue.  Only one process writes at a time; SQLite makes
 * the others retry after sleeps of 1, 2, 5 ... 100 ms, while a commit
 * here takes well under one, so with many sessions the lock was mostly
 * free while they slept (and polling faster costs the CPU the writer
 * needs).  So writers first queue in the kernel, on a lock of an open
 * file description over one byte of the database file far beyond the
 * bytes SQLite locks; the kernel wakes the next one the moment the last
 * lets go.  The wait is bounded like SQLite's; after it, or without the
 * queue, SQLite's own locking still decides.  Other programs writing to
 * the database do not queue and are not needed to.
 */
#define QUEUE_BYTE 0x7fffffff00000000LL

/* on_alarm - only interrupts the wait below. */
static void on_alarm(int sig)
{
	(void)sig;
}

/* queue_enter - wait for this process's turn to write, at most the busy
 * timeout; false if it did not come (or there is no queue). */
static bool queue_enter(struct store *st)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = QUEUE_BYTE, .l_len = 1};
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct itimerval wait = {.it_value = {STORE_BUSY_TIMEOUT_MS / 1000, 0}}, off = {0};
	int rc;

	if (st->queue_fd < 0)
		return false;
	if (fcntl(st->queue_fd, F_OFD_SETLK, &fl) == 0)
		return true;
	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART: the alarm ends the wait */
	setitimer(ITIMER_REAL, &wait, NULL);
	rc = fcntl(st->queue_fd, F_OFD_SETLKW, &fl);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	return rc == 0;
}

/* queue_leave - let the next writer go. */
static void queue_leave(struct store *st)
{
	struct flock fl = {
		.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = QUEUE_BYTE, .l_len = 1};

	fcntl(st->queue_fd, F_OFD_SETLK, &fl);
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

/*
 * The file system layer: SQLite's own, but for one thing.  SQLite fsyncs
 * the directory the first time a process syncs a journal or WAL it
 * opened with the right to create it, so that a new file's name is on
 * disk too.  Every session opens the WAL that way, so every session
 * paid a second fsync.  The WAL is kept between processes (store_open),
 * and a WAL that already exists had its name made durable by whoever
 * created it: open it without the right to create, and the directory is
 * left alone.  A missing WAL is still created, and its directory synced.
 */
static sqlite3_vfs vfs;

/* vfs_open - xOpen of the layer: SQLite's, with the rule above. */
static int vfs_open(sqlite3_vfs *self, const char *name, sqlite3_file *file, int flags,
		    int *outflags)
{
	sqlite3_vfs *base = self->pAppData;

	if ((flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name) {
		int rc = base->xOpen(base, name, file, flags & ~SQLITE_OPEN_CREATE, outflags);
		if (rc == SQLITE_OK)
			return rc;
	}
	return base->xOpen(base, name, file, flags, outflags);
}

/* vfs_name - register the layer once; its name for sqlite3_open_v2(). */
static const char *vfs_name(void)
{
	sqlite3_vfs *base;

	if (vfs.zName)
		return vfs.zName;
	if (!(base = sqlite3_vfs_find(NULL)))
		return NULL;
	vfs = *base;
	vfs.zName = "smtpd";
	vfs.pAppData = base;
	vfs.xOpen = vfs_open;
	vfs.pNext = NULL;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
		vfs.zName = NULL;
		return NULL;
	}
	return vfs.zName;
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
			    vfs_name()) != SQLITE_OK) {
		fail(st->db, err, errlen, path);
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/*
	 * Keep the -wal and -shm files when the last connection closes.
	 * Readers in group smtpd cannot create them in the state directory,
	 * and a WAL database cannot be read without them; and deleting and
	 * recreating them costs every short-lived process file system work.
	 */
	int persist = 1;
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	/*
	 * None of these is kept in the file: every connection sets them.  A
	 * small page cache keeps a 25 MiB body from growing the process:
	 * past it, dirty pages spill to the WAL.
	 *
	 * Who checkpoints: the last connection to close copies the WAL into
	 * the file and, with a journal_size_limit set, empties it, so that
	 * the next process need not read it all again.  While another
	 * connection stays open (smtpd --checkpointer), a session's close
	 * does nothing and its commit is its only fsync; the checkpointer
	 * then does the copying, once a second.  The WAL is cut back to 4
	 * MiB whenever it starts over.
	 */
	if (sqlite3_exec(st->db,
			 "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-256; "
			 "PRAGMA journal_size_limit=4194304",
			 NULL, NULL, NULL) != SQLITE_OK) {
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
	/* Closed only after SQLite's connection: closing any descriptor of
	 * the file would drop the process's POSIX locks on it. */
	st->queue_fd = open(path, O_RDWR | O_CLOEXEC);
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

/* copy_body - write header then spool into the message's body blob. */
static int copy_body(struct store *st, int64_t id, const char *hdr, size_t hdrlen,
		     struct spool *body)
{
	static char buf[COPY_CHUNK];
	sqlite3_blob *blob;
	int off = (int)hdrlen;
	int rc = sqlite3_blob_open(st->db, "main", "messages", "body", id, 1, &blob);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_blob_write(blob, hdr, (int)hdrlen, 0);
	if (rc == SQLITE_OK && !spool_rewind(body))
		rc = SQLITE_IOERR;
	while (rc == SQLITE_OK) {
		ssize_t n = spool_read(body, buf, sizeof buf);
		if (n < 0)
			rc = SQLITE_IOERR;
		if (n <= 0)
			break;
		rc = sqlite3_blob_write(blob, buf, (int)n, off);
		off += (int)n;
	}
	int rc2 = sqlite3_blob_close(blob);
	return rc != SQLITE_OK ? rc : rc2;
}

enum store_status store_deliver(struct store *st, const struct envelope *env, struct spool *body,
				int64_t *id, char *err, size_t errlen)
{
	char hdr[TRACE_MAX], when[32];
	sqlite3_stmt *m = st->stmt[S_MESSAGE], *r = st->stmt[S_RECIPIENT];
	const char *what = "cannot begin";
	size_t hdrlen;
	int rc;
	bool queued;
	struct tm tm;

	gmtime_r(&env->received, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	queued = queue_enter(st);
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
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
		 * for a body past its limit: what says which. */
		if (rc == SQLITE_TOOBIG)
			snprintf(err, errlen, "%s", what);
		else
			snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	}
	if (queued)
		queue_leave(st);
	return rc == SQLITE_OK ? STORE_OK : classify(rc);
}

enum store_status store_checkpoint(struct store *st, int truncate, char *err, size_t errlen)
{
	int rc = sqlite3_wal_checkpoint_v2(
		st->db, "main", truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE,
		NULL, NULL);

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
	int rc;

	st->queued = queue_enter(st);
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK && st->queued) {
		queue_leave(st);
		st->queued = false;
	}
	return rc;
}

int store_end(struct store *st, int rc, char *err, size_t errlen)
{
	if (rc == SQLITE_OK && (rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
		fail(st->db, err, errlen, "cannot commit");
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (st->queued)
		queue_leave(st);
	st->queued = false;
	return rc;
}

int store_file_fd(const struct store *st)
{
	return st->queue_fd;
}
