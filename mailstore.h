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
 * A body being read, from the start, in pieces.  Each span of up to
 * MAILSTORE_SPAN bytes is read under one blob handle, that is one read
 * transaction, which ends before the next span; so a slow client holds
 * a snapshot (and the WAL's reset) for at most one span, and reopening,
 * which walks the body's page chain from its start, costs little
 * (25 MiB: 10 ms read whole, 2 s reopened every 64 KiB, 30 ms every 4
 * MiB, measured here).  Bodies never change, so the pieces fit.
 */
#define MAILSTORE_SPAN (4u << 20)

struct mail_reader {
	struct store *st;
	int64_t id;
	uint64_t off;	    /* the next byte */
	uint64_t span_left; /* bytes until the handle is closed */
	void *blob;	    /* the open handle, or NULL */
};

/* mailstore_open - start reading message id's body from its start. */
void mailstore_open(struct mail_reader *r, struct store *st, int64_t id);

/* mailstore_read - the next bytes, up to cap, into buf; *got is 0 at
 * the end.  STORE_TEMP if the body cannot be read (it went away). */
enum store_status mailstore_read(struct mail_reader *r, void *buf, size_t cap, size_t *got);

/* mailstore_close - end the reading (its transaction too). */
void mailstore_close(struct mail_reader *r);

/*
 * mailstore_delete - mark the n messages in ids deleted for account, in
 * one write transaction through the writers' queue.  All or nothing:
 * on failure err says why and no message is marked.
 */
enum store_status mailstore_delete(struct store *st, int64_t account, const int64_t *ids, size_t n,
				   char *err, size_t errlen);

#endif
