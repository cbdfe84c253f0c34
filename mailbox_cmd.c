/*
 * mailbox_cmd.c - the mailbox tool's commands (see mailbox.h): each asks
 * the store (admin.c) and prints the answer, or the reason it failed,
 * and records every change in the log.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"
#include "mailbox.h"
#include "mailfmt.h"
#include "newpass.h"

#define LIST_HEAD 65536 /* bytes of a message searched for its Subject */

/* failed - the command's failure on stderr; returns exit status 1. */
static int failed(const char *what, const char *err)
{
	if (*err)
		fprintf(stderr, "mailbox: %s%s%s\n", what, *what ? ": " : "", err);
	return EXIT_FAILURE;
}

/* audit - the record of a change made: one log line (the journal or
 * syslog, facility mail) with the account, address and who ran it. */
static void audit(const char *what, const char *account, const char *address)
{
	char uid[24];
	struct log_field f[3];
	size_t n = 0;

	snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
	if (account)
		f[n++] = (struct log_field){"ACCOUNT", account};
	if (address)
		f[n++] = (struct log_field){"ADDRESS", address};
	f[n++] = (struct log_field){"UID", uid};
	log_event(LOG_NOTICE, f, n, "%s", what);
}

/* password - the hash for user add and passwd, from the option given;
 * with --generate, the new password in shown.  Exit 1 on failure. */
static bool password(const struct options *o, char *hash, char *shown)
{
	char pass[NEWPASS_MAX], err[256];
	bool ok;

	if (o->hash) {
		snprintf(hash, NEWPASS_HASH_MAX, "%s", o->hash);
		return true;
	}
	if (o->given & O_GENERATE)
		ok = newpass_generate(pass, sizeof pass, err, sizeof err);
	else
		ok = newpass_read(o->given & O_PASSWORD_STDIN, pass, sizeof pass, err, sizeof err);
	ok = ok && newpass_hash(pass, hash, err, sizeof err);
	if (ok && (o->given & O_GENERATE))
		snprintf(shown, NEWPASS_MAX, "%s", pass);
	explicit_bzero(pass, sizeof pass);
	if (!ok)
		failed("password", err);
	return ok;
}

/* set_password - user add and user passwd: hash first, then write, and
 * show a generated password only once it is stored. */
static int set_password(struct store *st, const struct options *o, char **args, bool add)
{
	char hash[NEWPASS_HASH_MAX], shown[NEWPASS_MAX] = "", err[512];
	bool ok;

	if (!password(o, hash, shown))
		return EXIT_FAILURE;
	ok = add ? admin_user_add(st, args[0], hash, o->addr, o->naddr, err, sizeof err)
		 : admin_user_passwd(st, args[0], hash, err, sizeof err);
	explicit_bzero(hash, sizeof hash);
	if (ok && *shown)
		printf("%s\n", shown);
	explicit_bzero(shown, sizeof shown);
	if (!ok)
		return failed(add ? "user add" : "user passwd", err);
	audit(add ? "account added" : "password changed", args[0], NULL);
	for (size_t i = 0; add && i < o->naddr; i++)
		audit("address added", args[0], o->addr[i]);
	return 0;
}

/* cmd_user_add - user add NAME: the account, its addresses, a password. */
int cmd_user_add(struct store *st, const struct options *o, char **args)
{
	return set_password(st, o, args, true);
}

/* cmd_user_passwd - user passwd NAME: a new password. */
int cmd_user_passwd(struct store *st, const struct options *o, char **args)
{
	return set_password(st, o, args, false);
}

/* cmd_user_del - user del NAME. */
int cmd_user_del(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)o;
	if (!admin_user_del(st, args[0], err, sizeof err))
		return failed("user del", err);
	audit("account deleted", args[0], NULL);
	return 0;
}

/* print_user - one line of user list: name, login, addresses. */
static void print_user(const struct admin_user *u, void *arg)
{
	(void)arg;
	printf("%s\t%s\t%s\n", u->name,
	       u->disabled	 ? "disabled"
	       : u->has_password ? "password"
				 : "no password",
	       u->addresses);
}

/* cmd_user_list - user list. */
int cmd_user_list(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)o;
	(void)args;
	return admin_user_list(st, print_user, NULL, err, sizeof err) ? 0
								      : failed("user list", err);
}

/* cmd_address_add - address add A NAME. */
int cmd_address_add(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)o;
	if (!admin_address_add(st, args[0], args[1], err, sizeof err))
		return failed("address add", err);
	audit("address added", args[1], args[0]);
	return 0;
}

/* cmd_address_del - address del A. */
int cmd_address_del(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)o;
	if (!admin_address_del(st, args[0], err, sizeof err))
		return failed("address del", err);
	audit("address deleted", NULL, args[0]);
	return 0;
}

/* print_message - one line of list: id, date, sender, subject, size. */
static bool print_message(const struct admin_message *m, void *arg)
{
	char subject[MAILFMT_FIELD_MAX];

	(void)arg;
	mailfmt_field(m->body, m->len, "Subject", subject, sizeof subject);
	printf("%" PRId64 "\t%s\t<%s>\t%s\t%" PRId64 "\n", m->id, m->received_at, m->mail_from,
	       subject, m->size);
	return true;
}

/* cmd_list - list [--user NAME]. */
int cmd_list(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)args;
	return admin_messages(st, o->user, LIST_HEAD, print_message, NULL, err, sizeof err)
		       ? 0
		       : failed("list", err);
}

/* write_message - show: the body to stdout as it is. */
static bool write_message(const struct admin_message *m, void *arg)
{
	(void)arg;
	return fwrite(m->body, 1, m->len, stdout) == m->len;
}

/* cmd_show - show ID. */
int cmd_show(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)args;
	if (!admin_message(st, o->id, write_message, NULL, err, sizeof err))
		return failed("show", *err ? err : strerror(errno));
	if (fflush(stdout) != 0)
		return failed("show", strerror(errno));
	return 0;
}

/* Where export writes, and how many it wrote. */
struct export
{
	FILE *mbox;
	const char *maildir;
	char host[256];
	long count;
	char err[512];
};

/* export_one - one message into the mbox or the maildir. */
static bool export_one(const struct admin_message *m, void *arg)
{
	struct export *x = arg;
	time_t when = mailfmt_time(m->received_at);

	if (x->mbox && !mailfmt_mbox(x->mbox, m->mail_from, when, m->body, m->len)) {
		snprintf(x->err, sizeof x->err, "%s", strerror(errno));
		return false;
	}
	if (x->maildir && !mailfmt_maildir(x->maildir, x->host, when, m->id, m->body, m->len,
					   x->err, sizeof x->err))
		return false;
	x->count++;
	return true;
}

/* maildir_host - this host's name for maildir file names: '/' and ':'
 * would break them (maildir(5)). */
static void maildir_host(char *host, size_t cap)
{
	if (gethostname(host, cap) != 0 || !*host)
		snprintf(host, cap, "localhost");
	host[cap - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ':')
			*p = '_';
}

/* new_file - create path for writing, readable by its owner only (it
 * holds other people's mail); never an existing file. */
static FILE *new_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (fd >= 0 && !f)
		close(fd);
	return f;
}

/* cmd_export - export [--user NAME] --mbox FILE | --maildir DIR.  A new
 * mbox file that could not be completed is removed again. */
int cmd_export(struct store *st, const struct options *o, char **args)
{
	struct export x = {.maildir = o->maildir};
	const char *dest = o->mbox ? o->mbox : o->maildir;
	char err[1024];
	bool ok;

	(void)args;
	if (o->mbox && !(x.mbox = new_file(o->mbox)))
		return failed(o->mbox, strerror(errno));
	if (o->maildir && !mailfmt_maildir_init(o->maildir, err, sizeof err))
		return failed("export", err);
	maildir_host(x.host, sizeof x.host);
	ok = admin_messages(st, o->user, 0, export_one, &x, err, sizeof err);
	if (!ok && !*err)
		snprintf(err, sizeof err, "%s: %s", dest, x.err);
	if (x.mbox) {
		if (ok && (fflush(x.mbox) != 0 || fsync(fileno(x.mbox)) != 0)) {
			snprintf(err, sizeof err, "%s: %s", dest, strerror(errno));
			ok = false;
		}
		if (fclose(x.mbox) != 0 && ok) {
			snprintf(err, sizeof err, "%s: %s", dest, strerror(errno));
			ok = false;
		}
		if (!ok)
			unlink(o->mbox);
	}
	if (!ok)
		return failed("export", err);
	printf("exported %ld message%s to %s\n", x.count, x.count == 1 ? "" : "s", dest);
	return 0;
}

/* What purge did, for its last line. */
struct purge {
	const char *verb; /* "purged", "would purge" */
	long count;
	int64_t bytes;
};

/* print_purged - one line per message purge removes (or would). */
static void print_purged(const struct admin_purged *p, void *arg)
{
	struct purge *pu = arg;

	printf("%s %" PRId64 " (%" PRId64 " bytes): %s\n", pu->verb, p->id, p->size, p->reason);
	pu->count++;
	pu->bytes += p->size;
}

/* cmd_purge - purge [--older-than DAYS] [--dry-run]. */
int cmd_purge(struct store *st, const struct options *o, char **args)
{
	bool dry = o->given & O_DRY_RUN;
	struct purge pu = {.verb = dry ? "would purge" : "purged"};
	char err[512];

	(void)args;
	if (!admin_purge(st, o->days, dry, print_purged, &pu, err, sizeof err))
		return failed("purge", err);
	printf("%s %ld message%s, %" PRId64 " bytes\n", pu.verb, pu.count, pu.count == 1 ? "" : "s",
	       pu.bytes);
	if (!dry) {
		char count[24], bytes[24], uid[24];
		snprintf(count, sizeof count, "%ld", pu.count);
		snprintf(bytes, sizeof bytes, "%" PRId64, pu.bytes);
		snprintf(uid, sizeof uid, "%u", (unsigned)getuid());
		struct log_field f[] = {{"COUNT", count}, {"BYTES", bytes}, {"UID", uid}};
		log_event(LOG_NOTICE, f, 3, "messages purged");
	}
	return 0;
}

/* print_check - one line of check. */
static void print_check(const char *line, bool problem, void *arg)
{
	(void)problem;
	(void)arg;
	printf("%s\n", line);
}

/* cmd_check - check: exit 1 when anything is wrong. */
int cmd_check(struct store *st, const struct options *o, char **args)
{
	char err[512];
	int problems;

	(void)o;
	(void)args;
	if (!admin_check(st, print_check, NULL, &problems, err, sizeof err))
		return failed("check", err);
	if (problems) {
		fflush(stdout);
		fprintf(stderr, "mailbox: check: %d problem%s\n", problems,
			problems == 1 ? "" : "s");
		return EXIT_FAILURE;
	}
	return 0;
}
