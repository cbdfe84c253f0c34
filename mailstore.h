/*
 * mailstore.h - the mailboxes of schema version 3, for pop3d: accounts,
 * a mailbox as a list taken at login, bodies read in pieces, deletions
 * committed at the end.  Store layer: only this and store.c know SQL.
 *
 * A mailbox is a query (schema.sql): the messages with a recipient row
 * whose address belongs to the account, oldest first, minus those the
 * account has deleted.  No read transaction is held between calls, so a
 * session that stays connected never stops the checkpointer.
 */
#ifndef SMTPD_MAILSTORE_H
#define SMTPD_MAILSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* One message of the list taken at login. */
struct mail {
	int64_t id;	 /* messages.id: never reused (AUTOINCREMENT) */
	uint64_t stored; /* bytes of the stored body */
	uint64_t size;	 /* octets RETR sends before dot-stuffing: stored, + 2
			  * when the body does not end in CR LF */
};

/* The longest crypt(3) string kept (libxcrypt's CRYPT_OUTPUT_SIZE). */
#define MAILSTORE_HASH_MAX 384

/*
 * mailstore_account - the account called name (exact match), if it may
 * log in: not disabled, with a password.  STORE_OK with *id and its
 * crypt(3) hash in hash; STORE_PERM if there is no such account;
 * STORE_TEMP with err set if the database failed.
 */
enum store_status mailstore_account(struct store *st, const char *name, int64_t *id, char *hash,
				    size_t hashcap, char *err, size_t errlen);

enum mailstore_lock {
	MAILSTORE_LOCKED, /* ours until the process ends */
	MAILSTORE_IN_USE, /* another session holds it */
	MAILSTORE_LOCK_FAILED,
};

/*
 * mailstore_lock - take the maildrop lock of an account (RFC 1939 8):
 * an OFD lock on one byte of the database file, far from SQLite's, so
 * the kernel drops it when the process ends, however it ends.
 */
enum mailstore_lock mailstore_lock(struct store *st, int64_t account);

/*
 * mailstore_list - the account's mailbox, oldest first, and the
 * database's uidvalidity, in one short read transaction.  On STORE_OK
 * *mail is an array of *n (malloc'd, NULL when empty; the caller frees
 * it); otherwise err says why.
 */
enum store_status mailstore_list(struct store *st, int64_t account, struct mail **mail, size_t *n,
				 uint32_t *uidvalidity, char *err, size_t errlen);

/*
 * mailstore_read - up to cap bytes of message id's body from offset off
 * into buf, in a transaction of its own; *got is 0 at the end.  Bodies
 * never change, so reading in pieces is safe.
 */
enum store_status mailstore_read(struct store *st, int64_t id, uint64_t off, void *buf, size_t cap,
				 size_t *got);

/*
 * mailstore_delete - mark the n messages in ids deleted for account, in
 * one write transaction through the writers' queue.  All or nothing:
 * on failure err says why and no message is marked.
 */
enum store_status mailstore_delete(struct store *st, int64_t account, const int64_t *ids, size_t n,
				   char *err, size_t errlen);

#endif
