/*
 * mailbox.h - between the mailbox tool's command line (mailbox.c) and
 * its commands (mailbox_cmd.c): the options as parsed, and one function
 * per command.
 */
#ifndef SMTPD_MAILBOX_H
#define SMTPD_MAILBOX_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "store.h"

#define ADDRESS_ARGS_MAX 100 /* --address options on one command line */

/* Which options a command takes. */
enum {
	O_ADDRESS = 1 << 0,
	O_PASSWORD_STDIN = 1 << 1,
	O_GENERATE = 1 << 2,
	O_HASH = 1 << 3,
	O_USER = 1 << 4,
	O_MBOX = 1 << 5,
	O_MAILDIR = 1 << 6,
	O_OLDER = 1 << 7,
	O_DRY_RUN = 1 << 8,
	O_PASSWORD = O_PASSWORD_STDIN | O_GENERATE | O_HASH,
};

struct options {
	const char *db;
	unsigned given; /* the O_ bits of the options on the command line */
	char *addr[ADDRESS_ARGS_MAX];
	size_t naddr;
	const char *hash, *user, *mbox, *maildir;
	int days;   /* --older-than, or -1 */
	int64_t id; /* show's ID */
	enum log_target log;
};

/*
 * The commands.  Each gets the open store, the options and its
 * arguments, checked for number and form, and returns the exit status:
 * 0, or 1 with the reason on stderr.
 */
int cmd_user_add(struct store *st, const struct options *o, char **args);
int cmd_user_passwd(struct store *st, const struct options *o, char **args);
int cmd_user_del(struct store *st, const struct options *o, char **args);
int cmd_user_list(struct store *st, const struct options *o, char **args);
int cmd_address_add(struct store *st, const struct options *o, char **args);
int cmd_address_del(struct store *st, const struct options *o, char **args);
int cmd_list(struct store *st, const struct options *o, char **args);
int cmd_show(struct store *st, const struct options *o, char **args);
int cmd_export(struct store *st, const struct options *o, char **args);
int cmd_purge(struct store *st, const struct options *o, char **args);
int cmd_check(struct store *st, const struct options *o, char **args);

#endif
