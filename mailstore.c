/*
 * mailstore.c - the mailboxes in SQLite (see mailstore.h).
 *
 * Statements are prepared per call: a POP3 session makes a handful of
 * these calls, and reads go through blob handles, not statements.
 */
#include "mailstore.h"
#include "store_sql.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The maildrop locks: byte LOCK_BASE + account id of the database file.
 * SQLite locks bytes near 1 GiB, the writers' queue (store.c) one byte
 * at 0x7fffffff00000000; these sit between, one per account.
 */
#define LOCK_BASE 0x4000000000000000LL

/* The mailbox of account ?1, as schema.sql defines it.  CROSS JOIN
 * makes SQLite read the account's few addresses first, then recipients
 * through the case-blind index; left to itself, without statistics, it
 * scanned every recipient row (a test pins the plan). */
static const char list_sql[] =
	"SELECT m.id, length(m.body) FROM messages AS m"
	" WHERE m.id IN (SELECT r.message_id FROM addresses AS ad"
	"   CROSS JOIN recipients AS r ON r.address = ad.address COLLATE NOCASE"
	"   WHERE ad.account_id = ?1)"
	" AND NOT EXISTS (SELECT 1 FROM mailbox_state AS s WHERE s.account_id = ?1"
	"   AND s.message_id = m.id AND s.deleted_at IS NOT NULL)"
	" ORDER BY m.id";

/* db_fail - "what: SQLite's message" into err. */
static void db_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
}

enum store_status mailstore_account(struct store *st, const char *name, int64_t *id, char *hash,
				    size_t hashcap, char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	enum store_status status = STORE_TEMP;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT id, password FROM accounts WHERE name = ?"
				    " AND NOT disabled AND password IS NOT NULL",
				    -1, &s, NULL);

	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		status = STORE_PERM;
	} else if (rc == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(s, 1);
		*id = sqlite3_column_int64(s, 0);
		/* A hash that does not fit cannot be valid: no login. */
		status = h && strlen(h) < hashcap ? STORE_OK : STORE_PERM;
		if (status == STORE_OK)
			strcpy(hash, h);
	}
out:
	if (status == STORE_TEMP)
		db_fail(db, err, errlen, "cannot look up the account");
	sqlite3_finalize(s);
	return status;
}

enum mailstore_lock mailstore_lock(struct store *st, int64_t account)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 1};
	int fd = store_file_fd(st);

	if (fd < 0 || account < 0)
		return MAILSTORE_LOCK_FAILED;
	fl.l_start = LOCK_BASE + account;
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return MAILSTORE_LOCKED;
	return MAILSTORE_IN_USE;
}

/* ends_crlf - does the blob of message id (len bytes) end in CR LF?
 * Reads its last two bytes only. */
static int ends_crlf(sqlite3 *db, int64_t id, int len, int *yes)
{
	sqlite3_blob *b;
	char tail[2];
	int rc;

	*yes = 0;
	if (len < 2)
		return SQLITE_OK;
	if ((rc = sqlite3_blob_open(db, "main", "messages", "body", id, 0, &b)) != SQLITE_OK)
		return rc;
	rc = sqlite3_blob_read(b, tail, 2, len - 2);
	sqlite3_blob_close(b);
	*yes = rc == SQLITE_OK && tail[0] == '\r' && tail[1] == '\n';
	return rc;
}

/* uidvalidity - the database's, from meta. */
static int uidvalidity_of(sqlite3 *db, uint32_t *v)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name = 'uidvalidity'", -1, &s,
				    NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = (uint32_t)sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_CORRUPT;
	}
	sqlite3_finalize(s);
	return rc;
}

enum store_status mailstore_list(struct store *st, int64_t account, struct mail **mail, size_t *n,
				 uint32_t *uidvalidity, char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	struct mail *m = NULL;
	size_t cap = 0, count = 0;
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		goto out;
	if ((rc = uidvalidity_of(db, uidvalidity)) != SQLITE_OK)
		goto out;
	if ((rc = sqlite3_prepare_v2(db, list_sql, -1, &s, NULL)) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, account);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct mail *bigger = realloc(m, ncap * sizeof *m);
			if (!bigger) {
				rc = SQLITE_NOMEM;
				goto out;
			}
			m = bigger;
			cap = ncap;
		}
		int len = sqlite3_column_int(s, 1), crlf;
		m[count].id = sqlite3_column_int64(s, 0);
		m[count].stored = (uint64_t)len;
		if ((rc = ends_crlf(db, m[count].id, len, &crlf)) != SQLITE_OK)
			goto out;
		m[count].size = (uint64_t)len + (crlf ? 0 : 2);
		count++;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
out:
	if (rc != SQLITE_OK) {
		db_fail(db, err, errlen, "cannot list the mailbox");
		free(m);
		m = NULL;
		count = 0;
	}
	sqlite3_finalize(s);
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	*mail = m;
	*n = count;
	return rc == SQLITE_OK ? STORE_OK : STORE_TEMP;
}

void mailstore_open(struct mail_reader *r, struct store *st, int64_t id)
{
	*r = (struct mail_reader){.st = st, .id = id};
}

enum store_status mailstore_read(struct mail_reader *r, void *buf, size_t cap, size_t *got)
{
	sqlite3_blob *b = r->blob;
	uint64_t len;
	size_t want;
	int rc;

	*got = 0;
	if (!b) {
		rc = sqlite3_blob_open(store_sqlite(r->st), "main", "messages", "body", r->id, 0,
				       &b);
		if (rc != SQLITE_OK)
			return STORE_TEMP;
		r->blob = b;
		r->span_left = MAILSTORE_SPAN;
	}
	len = (uint64_t)sqlite3_blob_bytes(b);
	want = len - r->off < cap ? (size_t)(len - r->off) : cap;
	if (r->off >= len)
		want = 0;
	if (want > r->span_left)
		want = (size_t)r->span_left;
	if (want > 0 && sqlite3_blob_read(b, buf, (int)want, (int)r->off) != SQLITE_OK) {
		mailstore_close(r);
		return STORE_TEMP;
	}
	*got = want;
	r->off += want;
	r->span_left -= want;
	if (r->span_left == 0 || want == 0)
		mailstore_close(r);
	return STORE_OK;
}

void mailstore_close(struct mail_reader *r)
{
	if (r->blob)
		sqlite3_blob_close(r->blob);
	r->blob = NULL;
}

enum store_status mailstore_delete(struct store *st, int64_t account, const int64_t *ids, size_t n,
				   char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = NULL;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((rc = store_begin(st)) != SQLITE_OK) {
		db_fail(db, err, errlen, "cannot begin");
		return STORE_TEMP;
	}
	rc = sqlite3_prepare_v2(db,
				"INSERT INTO mailbox_state (account_id, message_id, deleted_at)"
				" VALUES (?1, ?2, ?3) ON CONFLICT (account_id, message_id)"
				" DO UPDATE SET deleted_at = excluded.deleted_at",
				-1, &s, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
		sqlite3_bind_int64(s, 1, account);
		sqlite3_bind_int64(s, 2, ids[i]);
		sqlite3_bind_text(s, 3, when, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(s);
	}
	if (rc != SQLITE_OK)
		db_fail(db, err, errlen, "cannot mark messages deleted");
	sqlite3_finalize(s);
	rc = store_end(st, rc, err, errlen);
	return rc == SQLITE_OK ? STORE_OK : STORE_TEMP;
}
