/*
 * admin.h - the mailbox tool's queries on the store: accounts, their
 * addresses, messages as each account sees them, purge and check.
 *
 * Every function returns true on success; on failure, false with the
 * reason in err (an empty err: a callback stopped the walk and has
 * reported why).  Writes are one transaction each, queued like smtpd's
 * deliveries, so they never half happen.
 */
#ifndef SMTPD_ADMIN_H
#define SMTPD_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* admin_user_add - a new account name with password hash (NULL: no
 * login) and naddr recipient addresses, none of them anyone's yet. */
bool admin_user_add(struct store *st, const char *name, const char *hash, char *const *addr,
		    size_t naddr, char *err, size_t errlen);

/* admin_user_passwd - replace the password hash of account name. */
bool admin_user_passwd(struct store *st, const char *name, const char *hash, char *err,
		       size_t errlen);

/* admin_user_del - remove account name with its addresses and its
 * mailbox state; the messages stay until purge. */
bool admin_user_del(struct store *st, const char *name, char *err, size_t errlen);

struct admin_user {
	const char *name;
	bool has_password;
	bool disabled;
	const char *addresses; /* space-separated, sorted; "" for none */
};
typedef void (*admin_user_fn)(const struct admin_user *u, void *arg);

/* admin_user_list - call fn for every account, by name. */
bool admin_user_list(struct store *st, admin_user_fn fn, void *arg, char *err, size_t errlen);

/* admin_address_add - give address to account name. */
bool admin_address_add(struct store *st, const char *address, const char *name, char *err,
		       size_t errlen);

/* admin_address_del - take address from whichever account has it. */
bool admin_address_del(struct store *st, const char *address, char *err, size_t errlen);

/* One stored message.  body points at len bytes, valid only during the
 * callback: the whole body, or its first bytes when asked for less. */
struct admin_message {
	int64_t id;
	const char *received_at; /* 2026-11-26T11:30:08Z */
	const char *mail_from;	 /* "" for the null path */
	int64_t size;		 /* of the whole body */
	const char *body;
	size_t len;
};
/* A callback returns false to stop, having reported why. */
typedef bool (*admin_message_fn)(const struct admin_message *m, void *arg);

/*
 * admin_messages - call fn for each message, oldest first: every one,
 * or (user not NULL) those in account user's mailbox.  With head set,
 * body holds at most the first head bytes.  Each message is read in its
 * own short transaction, so a slow callback holds no snapshot.
 */
bool admin_messages(struct store *st, const char *user, size_t head, admin_message_fn fn, void *arg,
		    char *err, size_t errlen);

/* admin_message - call fn once with message id, whole. */
bool admin_message(struct store *st, int64_t id, admin_message_fn fn, void *arg, char *err,
		   size_t errlen);

struct admin_purged {
	int64_t id;
	int64_t size;
	const char *reason; /* "deleted from every mailbox", "older than N days" */
};
typedef void (*admin_purged_fn)(const struct admin_purged *p, void *arg);

/*
 * admin_purge - remove the messages that every account they map to has
 * deleted and, with days >= 0, those received more than days days ago;
 * call fn for each.  With dry_run, only call fn.
 */
bool admin_purge(struct store *st, int days, bool dry_run, admin_purged_fn fn, void *arg, char *err,
		 size_t errlen);

/* One line of the check: problem says whether it is a fault. */
typedef void (*admin_check_fn)(const char *line, bool problem, void *arg);

/* admin_check - SQLite's integrity check, then orphaned rows, then
 * counts worth knowing; *problems is the number of faults. */
bool admin_check(struct store *st, admin_check_fn fn, void *arg, int *problems, char *err,
		 size_t errlen);

#endif
