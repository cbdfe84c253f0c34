/*
 * admin.c - the mailbox tool's SQL (see admin.h).
 *
 * A message is in an account's mailbox when one of its recipients is
 * one of the account's addresses (case aside) and the account has not
 * deleted it: the same query as pop3d's.  Writes go through store_begin
 * and store_end, so they wait in smtpd's writers' queue.
 */
#include "admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sql.h"

/* Message ids fetched per query while walking a mailbox. */
#define PAGE_IDS 256

/* Which recipient rows belong to which account. */
#define MAPPED                                                                                     \
	" FROM recipients AS r JOIN addresses AS ad"                                               \
	" ON ad.address = r.address COLLATE NOCASE WHERE r.message_id = m.id"

/* The message ids after ?2 in the mailbox of account ?1, oldest first:
 * pop3d's query (mailstore.c), addresses read first for the same reason. */
static const char mailbox_page_sql[] =
	"SELECT m.id FROM messages AS m WHERE m.id > ?2"
	" AND m.id IN (SELECT r.message_id FROM addresses AS ad CROSS JOIN recipients AS r"
	" ON r.address = ad.address COLLATE NOCASE WHERE ad.account_id = ?1)"
	" AND NOT EXISTS (SELECT 1 FROM mailbox_state AS s WHERE s.account_id = ?1"
	" AND s.message_id = m.id AND s.deleted_at IS NOT NULL)"
	" ORDER BY m.id LIMIT ?3";
static const char all_page_sql[] =
	"SELECT id FROM messages WHERE id > ?2 ORDER BY id LIMIT ?3"; /* ?1 unused */

/*
 * Purge candidates: old when received more than ?1 days ago (?1 NULL:
 * no age limit), gone when the message maps to some account and every
 * account it maps to has deleted it.
 */
static const char purge_sql[] =
	"SELECT id, size, gone FROM (SELECT m.id, m.size,"
	" ?1 IS NOT NULL AND m.received_at <"
	" strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || ?1 || ' days') AS old,"
	" EXISTS (SELECT 1" MAPPED ") AND NOT EXISTS (SELECT 1" MAPPED
	" AND NOT EXISTS (SELECT 1 FROM mailbox_state AS s"
	" WHERE s.account_id = ad.account_id AND s.message_id = m.id"
	" AND s.deleted_at IS NOT NULL)) AS gone"
	" FROM messages AS m) WHERE old OR gone ORDER BY id";

/* The check: counts, and whether a count above zero is a fault. */
static const struct {
	const char *what, *sql;
	bool problem;
} counts[] = {
	{"orphaned recipients",
	 "SELECT count(*) FROM recipients AS r"
	 " WHERE NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.id = r.message_id)",
	 true},
	{"orphaned addresses",
	 "SELECT count(*) FROM addresses AS ad"
	 " WHERE NOT EXISTS (SELECT 1 FROM accounts AS a WHERE a.id = ad.account_id)",
	 true},
	{"orphaned mailbox states",
	 "SELECT count(*) FROM mailbox_state AS s"
	 " WHERE NOT EXISTS (SELECT 1 FROM accounts AS a WHERE a.id = s.account_id)"
	 " OR NOT EXISTS (SELECT 1 FROM messages AS m WHERE m.id = s.message_id)",
	 true},
	{"sizes that differ from the body",
	 "SELECT count(*) FROM messages WHERE size != length(body)", true},
	{"messages in no mailbox",
	 "SELECT count(*) FROM messages AS m WHERE NOT EXISTS (SELECT 1" MAPPED ")", false},
	{"accounts without an address",
	 "SELECT count(*) FROM accounts AS a"
	 " WHERE NOT EXISTS (SELECT 1 FROM addresses AS ad WHERE ad.account_id = a.id)",
	 false},
};

/* fail - "what: SQLite's message" into err; returns rc. */
static int fail(sqlite3 *db, int rc, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return rc;
}

/* say - a message of our own into err; returns SQLITE_ERROR. */
static int __attribute__((format(printf, 3, 4))) say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SQLITE_ERROR;
}

/*
 * prepare - sql with its parameters bound in order from types: 't' a
 * string (NULL binds NULL), 'i' an int64.  NULL on failure (the
 * connection keeps the reason).
 */
static sqlite3_stmt *prepare(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int i = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	va_start(ap, types);
	for (; *types; types++, i++) {
		if (*types == 't')
			sqlite3_bind_text(s, i, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(s, i, va_arg(ap, int64_t));
	}
	va_end(ap);
	return s;
}

/* run - step s to its end and finalize it; SQLITE_OK or the failure. */
static int run(sqlite3_stmt *s)
{
	int rc;

	if (!s)
		return SQLITE_ERROR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* account_id - the id of account name into *id; SQLITE_NOTFOUND if none. */
static int account_id(sqlite3 *db, const char *name, int64_t *id)
{
	sqlite3_stmt *s = prepare(db, "SELECT id FROM accounts WHERE name = ?", "t", name);
	int rc;

	if (!s)
		return SQLITE_ERROR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? SQLITE_OK : rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc;
}

/* add_address - give address to account id, or say whose it is. */
static int add_address(sqlite3 *db, const char *address, int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc = run(prepare(db, "INSERT INTO addresses (address, account_id) VALUES (?, ?)", "ti",
			     address, id));

	if (rc == SQLITE_OK)
		return rc;
	if ((rc & 0xff) != SQLITE_CONSTRAINT)
		return fail(db, rc, err, errlen, "cannot add an address");
	s = prepare(db,
		    "SELECT a.name FROM addresses AS ad JOIN accounts AS a ON a.id = ad.account_id"
		    " WHERE ad.address = ?",
		    "t", address);
	if (s && sqlite3_step(s) == SQLITE_ROW)
		say(err, errlen, "address %s already belongs to account %s", address,
		    (const char *)sqlite3_column_text(s, 0));
	else
		say(err, errlen, "address %s cannot be added", address);
	sqlite3_finalize(s);
	return rc;
}

bool admin_user_add(struct store *st, const char *name, const char *hash, char *const *addr,
		    size_t naddr, char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	int rc = store_begin(st);
	int64_t id;

	if (rc != SQLITE_OK) {
		fail(db, rc, err, errlen, "cannot lock the database");
		return false;
	}
	rc = run(prepare(db,
			 "INSERT INTO accounts (name, password, created_at)"
			 " VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
			 "tt", name, hash));
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		say(err, errlen, "account %s exists", name);
	else if (rc != SQLITE_OK)
		fail(db, rc, err, errlen, "cannot add the account");
	id = sqlite3_last_insert_rowid(db);
	for (size_t i = 0; rc == SQLITE_OK && i < naddr; i++)
		rc = add_address(db, addr[i], id, err, errlen);
	return store_end(st, rc, err, errlen) == SQLITE_OK;
}

/* change - run a one-statement write on account name's row(s); a
 * statement that changed nothing means there is no such thing. */
static bool change(struct store *st, sqlite3_stmt *s, const char *missing, char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	int rc = store_begin(st);

	if (rc != SQLITE_OK) {
		sqlite3_finalize(s);
		fail(db, rc, err, errlen, "cannot lock the database");
		return false;
	}
	if ((rc = run(s)) != SQLITE_OK)
		fail(db, rc, err, errlen, "cannot change the database");
	else if (sqlite3_changes(db) == 0)
		rc = say(err, errlen, "%s", missing);
	return store_end(st, rc, err, errlen) == SQLITE_OK;
}

bool admin_user_passwd(struct store *st, const char *name, const char *hash, char *err,
		       size_t errlen)
{
	char missing[128];

	snprintf(missing, sizeof missing, "no account %s", name);
	return change(st,
		      prepare(store_sqlite(st), "UPDATE accounts SET password = ? WHERE name = ?",
			      "tt", hash, name),
		      missing, err, errlen);
}

bool admin_user_del(struct store *st, const char *name, char *err, size_t errlen)
{
	char missing[128];

	snprintf(missing, sizeof missing, "no account %s", name);
	return change(st,
		      prepare(store_sqlite(st), "DELETE FROM accounts WHERE name = ?", "t", name),
		      missing, err, errlen);
}

bool admin_address_del(struct store *st, const char *address, char *err, size_t errlen)
{
	char missing[400];

	snprintf(missing, sizeof missing, "no address %s", address);
	return change(
		st,
		prepare(store_sqlite(st), "DELETE FROM addresses WHERE address = ?", "t", address),
		missing, err, errlen);
}

bool admin_address_add(struct store *st, const char *address, const char *name, char *err,
		       size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	int rc = store_begin(st);
	int64_t id;

	if (rc != SQLITE_OK) {
		fail(db, rc, err, errlen, "cannot lock the database");
		return false;
	}
	rc = account_id(db, name, &id);
	if (rc == SQLITE_NOTFOUND)
		say(err, errlen, "no account %s", name);
	else if (rc != SQLITE_OK)
		fail(db, rc, err, errlen, "cannot read the accounts");
	else
		rc = add_address(db, address, id, err, errlen);
	return store_end(st, rc, err, errlen) == SQLITE_OK;
}

bool admin_user_list(struct store *st, admin_user_fn fn, void *arg, char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = prepare(
		db,
		"SELECT a.name, a.password IS NOT NULL, a.disabled,"
		" coalesce((SELECT group_concat(address, ' ') FROM (SELECT address FROM addresses"
		" WHERE account_id = a.id ORDER BY address)), '')"
		" FROM accounts AS a ORDER BY a.name",
		"");
	int rc;

	if (!s) {
		fail(db, SQLITE_ERROR, err, errlen, "cannot read the accounts");
		return false;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct admin_user u = {
			.name = (const char *)sqlite3_column_text(s, 0),
			.has_password = sqlite3_column_int(s, 1),
			.disabled = sqlite3_column_int(s, 2),
			.addresses = (const char *)sqlite3_column_text(s, 3),
		};
		fn(&u, arg);
	}
	if (rc != SQLITE_DONE)
		fail(db, rc, err, errlen, "cannot read the accounts");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE;
}

/* head_of - the first bytes of message id's body (at most *len, then
 * how many) in a new buffer, read from the blob so that a large body is
 * not loaded whole; NULL on failure. */
static char *head_of(sqlite3 *db, int64_t id, size_t *len)
{
	sqlite3_blob *b;
	char *buf = NULL;

	if (sqlite3_blob_open(db, "main", "messages", "body", id, 0, &b) != SQLITE_OK)
		return NULL;
	if ((size_t)sqlite3_blob_bytes(b) < *len)
		*len = (size_t)sqlite3_blob_bytes(b);
	buf = malloc(*len + 1);
	if (buf && sqlite3_blob_read(b, buf, (int)*len, 0) != SQLITE_OK) {
		free(buf);
		buf = NULL;
	}
	sqlite3_blob_close(b);
	return buf;
}

/* fetch - call fn with message id (its first head bytes, or all of it
 * when head is 0), in one read transaction; SQLITE_NOTFOUND when there
 * is no such message, and SQLITE_ABORT when fn stops. */
static int fetch(sqlite3 *db, int64_t id, size_t head, admin_message_fn fn, void *arg)
{
	sqlite3_stmt *s = prepare(db,
				  "SELECT id, received_at, mail_from, size, iif(?, NULL, body)"
				  " FROM messages WHERE id = ?",
				  "ii", (int64_t)(head > 0), id);
	char *buf = NULL;
	int rc;

	if (!s)
		return SQLITE_ERROR;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct admin_message m = {
			.id = sqlite3_column_int64(s, 0),
			.received_at = (const char *)sqlite3_column_text(s, 1),
			.mail_from = (const char *)sqlite3_column_text(s, 2),
			.size = sqlite3_column_int64(s, 3),
			.body = sqlite3_column_blob(s, 4),
			.len = head ? head : (size_t)sqlite3_column_bytes(s, 4),
		};
		if (!head && !m.body)
			m.body = ""; /* an empty blob */
		if (head && !(m.body = buf = head_of(db, id, &m.len)))
			rc = SQLITE_NOMEM;
		else
			rc = fn(&m, arg) ? SQLITE_OK : SQLITE_ABORT;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_NOTFOUND;
	}
	free(buf);
	sqlite3_finalize(s);
	return rc;
}

bool admin_message(struct store *st, int64_t id, admin_message_fn fn, void *arg, char *err,
		   size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	int rc = fetch(db, id, 0, fn, arg);

	if (rc == SQLITE_NOTFOUND)
		say(err, errlen, "no message %lld", (long long)id);
	else if (rc == SQLITE_ABORT)
		err[0] = '\0';
	else if (rc != SQLITE_OK)
		fail(db, rc, err, errlen, "cannot read the message");
	return rc == SQLITE_OK;
}

bool admin_messages(struct store *st, const char *user, size_t head, admin_message_fn fn, void *arg,
		    char *err, size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	int64_t ids[PAGE_IDS], last = 0, account = 0;
	int rc = SQLITE_OK, n;

	if (user && (rc = account_id(db, user, &account)) == SQLITE_NOTFOUND) {
		say(err, errlen, "no account %s", user);
		return false;
	}
	while (rc == SQLITE_OK) {
		sqlite3_stmt *s = prepare(db, user ? mailbox_page_sql : all_page_sql, "iii",
					  account, last, (int64_t)PAGE_IDS);
		if (!s) {
			rc = SQLITE_ERROR;
			break;
		}
		for (n = 0; (rc = sqlite3_step(s)) == SQLITE_ROW; n++)
			ids[n] = last = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			break;
		rc = SQLITE_OK;
		/* A message purged meanwhile is skipped, not an error. */
		for (int i = 0; i < n && rc == SQLITE_OK; i++)
			if ((rc = fetch(db, ids[i], head, fn, arg)) == SQLITE_NOTFOUND)
				rc = SQLITE_OK;
		if (n < PAGE_IDS)
			break;
	}
	if (rc == SQLITE_ABORT)
		err[0] = '\0';
	else if (rc != SQLITE_OK)
		fail(db, rc, err, errlen, "cannot read the messages");
	return rc == SQLITE_OK;
}

/* The purge's findings, kept until the commit has succeeded. */
struct doomed {
	struct admin_purged *v;
	size_t n, cap;
};

/* doomed_add - append one; false when memory runs out. */
static bool doomed_add(struct doomed *d, int64_t id, int64_t size, const char *reason)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 64;
		struct admin_purged *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return false;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = (struct admin_purged){id, size, reason};
	return true;
}

bool admin_purge(struct store *st, int days, bool dry_run, admin_purged_fn fn, void *arg, char *err,
		 size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	struct doomed d = {0};
	sqlite3_stmt *s = NULL;
	char older[64];
	int rc = dry_run ? SQLITE_OK : store_begin(st);

	snprintf(older, sizeof older, "older than %d days", days);
	if (rc != SQLITE_OK) {
		fail(db, rc, err, errlen, "cannot lock the database");
		return false;
	}
	if (days >= 0)
		s = prepare(db, purge_sql, "i", (int64_t)days);
	else
		s = prepare(db, purge_sql, "t", NULL);
	if (!s) {
		rc = fail(db, SQLITE_ERROR, err, errlen, "cannot find what to purge");
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!doomed_add(&d, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
				sqlite3_column_int(s, 2) ? "deleted from every mailbox" : older)) {
			rc = say(err, errlen, "out of memory");
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		rc = fail(db, rc, err, errlen, "cannot find what to purge");
		goto out;
	}
	rc = SQLITE_OK;
	for (size_t i = 0; !dry_run && rc == SQLITE_OK && i < d.n; i++)
		if ((rc = run(prepare(db, "DELETE FROM messages WHERE id = ?", "i", d.v[i].id))) !=
		    SQLITE_OK)
			fail(db, rc, err, errlen, "cannot delete a message");
out:
	sqlite3_finalize(s);
	if (!dry_run)
		rc = store_end(st, rc, err, errlen);
	for (size_t i = 0; rc == SQLITE_OK && i < d.n; i++)
		fn(&d.v[i], arg);
	free(d.v);
	return rc == SQLITE_OK;
}

/* count - the single number sql yields into *n. */
static int count(sqlite3 *db, const char *sql, int64_t *n)
{
	sqlite3_stmt *s = prepare(db, sql, "");
	int rc;

	if (!s)
		return SQLITE_ERROR;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

bool admin_check(struct store *st, admin_check_fn fn, void *arg, int *problems, char *err,
		 size_t errlen)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *s = prepare(db, "PRAGMA integrity_check", "");
	char line[1024];
	int rc;
	int64_t n = 0;

	*problems = 0;
	if (!s) {
		fail(db, SQLITE_ERROR, err, errlen, "cannot check integrity");
		return false;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(s, 0);
		bool ok = row && strcmp(row, "ok") == 0;
		snprintf(line, sizeof line, "integrity: %s", row ? row : "?");
		fn(line, !ok, arg);
		*problems += !ok;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		fail(db, rc, err, errlen, "cannot check integrity");
		return false;
	}
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		if ((rc = count(db, counts[i].sql, &n)) != SQLITE_OK) {
			fail(db, rc, err, errlen, "cannot count");
			return false;
		}
		snprintf(line, sizeof line, "%s: %lld", counts[i].what, (long long)n);
		fn(line, counts[i].problem && n > 0, arg);
		*problems += counts[i].problem && n > 0;
	}
	return true;
}
