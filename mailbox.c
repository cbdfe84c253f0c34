/*
 * mailbox.c - the administrator's tool over smtpd's database: accounts
 * and their addresses, reading and exporting the stored mail, purging
 * what no mailbox holds any more, and checking the file.
 *
 * This file parses the command line and prints; the queries are in
 * admin.c, the mail formats in mailfmt.c, passwords in newpass.c.
 * Exit status: 0 done, 1 the command failed (the reason on stderr),
 * 2 a bad command line or a database it cannot or must not open.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "limits.h"
#include "log.h"
#include "mailfmt.h"
#include "newpass.h"
#include "store.h"

#ifndef SMTPD_VERSION
#define SMTPD_VERSION "unknown"
#endif

#define DEFAULT_DB	 "/var/lib/smtpd/mail.db" /* smtpd's; tests/mailbox.bats compares */
#define EXIT_USAGE	 2
#define ADDRESS_ARGS_MAX 100   /* --address options on one command line */
#define LIST_HEAD	 65536 /* bytes of a message searched for its Subject */
#define DAYS_MAX	 100000

static const char usage_text[] =
	"usage: mailbox [--db PATH] COMMAND [ARGUMENTS]\n"
	"  user add NAME [--address A]... [--password-stdin | --generate | --hash H]\n"
	"  user passwd NAME [--password-stdin | --generate | --hash H]\n"
	"  user del NAME\n"
	"  user list\n"
	"  address add A NAME\n"
	"  address del A\n"
	"  list [--user NAME]\n"
	"  show ID\n"
	"  export [--user NAME] --mbox FILE | --maildir DIR\n"
	"  purge [--older-than DAYS] [--dry-run]\n"
	"  check\n"
	"options:\n"
	"  --db PATH               mailbox database (default " DEFAULT_DB ")\n"
	"  --address A             a recipient address of the new account; repeatable\n"
	"  --password-stdin        read the password from the first line of stdin\n"
	"  --generate              make a random password and print it once\n"
	"  --hash H                take a ready crypt(3) hash ($y$, $2b$, $6$)\n"
	"  --user NAME             only the messages in NAME's mailbox\n"
	"  --mbox FILE             export into a new mboxrd file\n"
	"  --maildir DIR           export into a maildir, made as needed\n"
	"  --older-than DAYS       purge also what arrived more than DAYS days ago\n"
	"  --dry-run               print what purge would remove, remove nothing\n"
	"  --log auto|journal|syslog|stderr  where the record of each change goes (default auto)\n"
	"  --help, --version\n";

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
	int days; /* --older-than, or -1 */
	enum log_target log;
};

/* usage_error - complain on stderr and exit 2. */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mailbox: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nTry 'mailbox --help'.\n", stderr);
	va_end(ap);
	exit(EXIT_USAGE);
}

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

/* number - a decimal from min to max, or exit 2 naming what. */
static int64_t number(const char *what, const char *s, int64_t min, int64_t max)
{
	char *end;
	long long v;

	errno = 0;
	v = (*s >= '0' && *s <= '9') ? strtoll(s, &end, 10) : -1;
	if (v < 0 || errno || *end || v < min || v > max)
		usage_error("%s: '%s' is not a number from %" PRId64 " to %" PRId64, what, s, min,
			    max);
	return v;
}

/* check_text - s is 1..max bytes with no space or control character
 * (and, for an address, no angle bracket), or exit 2. */
static void check_text(const char *what, const char *s, size_t max, bool address)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		usage_error("%s: '%s' is not 1 to %zu bytes", what, s, max);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == 0x7f)
			usage_error("%s: '%s' holds a space or a control character", what, s);
		if (address && (*p == '<' || *p == '>'))
			usage_error("%s: '%s' holds an angle bracket", what, s);
	}
}

/* parse_options - fill o; the words left over move to the front of argv
 * (getopt's permutation), their count returned.  Exits 2 on a fault. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"address", required_argument, NULL, 'a'},
		{"password-stdin", no_argument, NULL, 'p'},
		{"generate", no_argument, NULL, 'g'},
		{"hash", required_argument, NULL, 'H'},
		{"user", required_argument, NULL, 'u'},
		{"mbox", required_argument, NULL, 'm'},
		{"maildir", required_argument, NULL, 'M'},
		{"older-than", required_argument, NULL, 'o'},
		{"dry-run", no_argument, NULL, 'n'},
		{"log", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				usage_error("--db: empty path");
			o->db = optarg;
			break;
		case 'a':
			check_text("--address", optarg, ACCOUNT_ADDRESS_MAX, true);
			if (o->naddr == ADDRESS_ARGS_MAX)
				usage_error("--address: more than %d", ADDRESS_ARGS_MAX);
			o->addr[o->naddr++] = optarg;
			o->given |= O_ADDRESS;
			break;
		case 'p':
			o->given |= O_PASSWORD_STDIN;
			break;
		case 'g':
			o->given |= O_GENERATE;
			break;
		case 'H':
			if (!newpass_valid_hash(optarg))
				usage_error("--hash: not a crypt(3) hash this system can verify");
			o->hash = optarg;
			o->given |= O_HASH;
			break;
		case 'u':
			check_text("--user", optarg, ACCOUNT_NAME_MAX, false);
			o->user = optarg;
			o->given |= O_USER;
			break;
		case 'm':
			o->mbox = optarg;
			o->given |= O_MBOX;
			break;
		case 'M':
			o->maildir = optarg;
			o->given |= O_MAILDIR;
			break;
		case 'o':
			o->days = (int)number("--older-than", optarg, 0, DAYS_MAX);
			o->given |= O_OLDER;
			break;
		case 'n':
			o->given |= O_DRY_RUN;
			break;
		case 'l': {
			static const char *const targets[] = {"auto", "journal", "syslog",
							      "stderr"};
			size_t i = 0;
			while (i < 4 && strcmp(optarg, targets[i]) != 0)
				i++;
			if (i == 4)
				usage_error("--log: '%s' is not auto, journal, syslog or stderr",
					    optarg);
			o->log = (enum log_target)i;
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'V':
			puts("mailbox " SMTPD_VERSION);
			exit(0);
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	memmove(argv, argv + optind, (size_t)(argc - optind) * sizeof *argv);
	return argc - optind;
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

/* The commands.  Each gets the open store, the options and its
 * arguments (checked for number), and returns the exit status. */

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
static int cmd_user_add(struct store *st, const struct options *o, char **args)
{
	return set_password(st, o, args, true);
}

/* cmd_user_passwd - user passwd NAME: a new password. */
static int cmd_user_passwd(struct store *st, const struct options *o, char **args)
{
	return set_password(st, o, args, false);
}

/* cmd_user_del - user del NAME. */
static int cmd_user_del(struct store *st, const struct options *o, char **args)
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
static int cmd_user_list(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)o;
	(void)args;
	return admin_user_list(st, print_user, NULL, err, sizeof err) ? 0
								      : failed("user list", err);
}

/* cmd_address_add - address add A NAME. */
static int cmd_address_add(struct store *st, const struct options *o, char **args)
{
	char err[512];

	(void)o;
	if (!admin_address_add(st, args[0], args[1], err, sizeof err))
		return failed("address add", err);
	audit("address added", args[1], args[0]);
	return 0;
}

/* cmd_address_del - address del A. */
static int cmd_address_del(struct store *st, const struct options *o, char **args)
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
static int cmd_list(struct store *st, const struct options *o, char **args)
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
static int cmd_show(struct store *st, const struct options *o, char **args)
{
	char err[512];
	int64_t id = number("show", args[0], 1, INT64_MAX);

	(void)o;
	if (!admin_message(st, id, write_message, NULL, err, sizeof err))
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
static int cmd_export(struct store *st, const struct options *o, char **args)
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
static int cmd_purge(struct store *st, const struct options *o, char **args)
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
static int cmd_check(struct store *st, const struct options *o, char **args)
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

/* The one command table: words, arguments after them, options taken. */
static const struct command {
	const char *word1, *word2; /* word2 NULL: a one-word command */
	const char *args;	   /* for messages: "NAME", "A NAME" */
	int nargs;
	unsigned opts;
	int (*run)(struct store *st, const struct options *o, char **args);
} commands[] = {
	{"user", "add", "NAME", 1, O_ADDRESS | O_PASSWORD, cmd_user_add},
	{"user", "passwd", "NAME", 1, O_PASSWORD, cmd_user_passwd},
	{"user", "del", "NAME", 1, 0, cmd_user_del},
	{"user", "list", "", 0, 0, cmd_user_list},
	{"address", "add", "A NAME", 2, 0, cmd_address_add},
	{"address", "del", "A", 1, 0, cmd_address_del},
	{"list", NULL, "", 0, O_USER, cmd_list},
	{"show", NULL, "ID", 1, 0, cmd_show},
	{"export", NULL, "", 0, O_USER | O_MBOX | O_MAILDIR, cmd_export},
	{"purge", NULL, "", 0, O_OLDER | O_DRY_RUN, cmd_purge},
	{"check", NULL, "", 0, 0, cmd_check},
};

/* find_command - the entry for the words in argv, or exit 2. */
static const struct command *find_command(int argc, char **argv)
{
	bool group = false;

	if (argc == 0)
		usage_error("no command");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		const struct command *c = &commands[i];
		if (strcmp(argv[0], c->word1) != 0)
			continue;
		if (!c->word2)
			return c;
		group = true;
		if (argc >= 2 && strcmp(argv[1], c->word2) == 0)
			return c;
	}
	if (group && argc < 2)
		usage_error("'%s' needs a subcommand", argv[0]);
	if (group)
		usage_error("unknown command '%s %s'", argv[0], argv[1]);
	usage_error("unknown command '%s'", argv[0]);
}

/* check_command - the arguments and options fit command c, or exit 2. */
static void check_command(const struct command *c, int nargs, char **args, const struct options *o)
{
	char name[32];
	static const char *const names[] = {"--address", "--password-stdin", "--generate",
					    "--hash",	 "--user",	     "--mbox",
					    "--maildir", "--older-than",     "--dry-run"};

	snprintf(name, sizeof name, "%s%s%s", c->word1, c->word2 ? " " : "",
		 c->word2 ? c->word2 : "");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((o->given & (1u << i)) && !(c->opts & (1u << i)))
			usage_error("%s: %s does not apply", name, names[i]);
	if (nargs < c->nargs)
		usage_error("%s needs %s", name, c->args);
	if (nargs > c->nargs)
		usage_error("%s: unexpected argument '%s'", name, args[c->nargs]);
	if (__builtin_popcount(o->given & O_PASSWORD) > 1)
		usage_error("%s: give one of --password-stdin, --generate and --hash", name);
	if ((c->opts & O_PASSWORD) && !(o->given & O_PASSWORD) && !isatty(STDIN_FILENO))
		usage_error("%s: no terminal to ask for the password on:"
			    " give --password-stdin, --generate or --hash",
			    name);
	if ((c->opts & O_MBOX) && __builtin_popcount(o->given & (O_MBOX | O_MAILDIR)) != 1)
		usage_error("%s: give one of --mbox FILE and --maildir DIR", name);
	if (!strcmp(c->word1, "user") && nargs == 1)
		check_text(name, args[0], ACCOUNT_NAME_MAX, false);
	if (!strcmp(c->word1, "address"))
		check_text(name, args[0], ACCOUNT_ADDRESS_MAX, true);
	if (!strcmp(c->word1, "address") && nargs == 2)
		check_text(name, args[1], ACCOUNT_NAME_MAX, false);
}

/* open_store - the existing database at path, or exit 2: the tool
 * never makes a new one (a mistyped --db would), and store_open
 * refuses a schema newer than this build's. */
static struct store *open_store(const char *path)
{
	char err[512];
	struct stat sb;
	struct store *st;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "mailbox: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (smtpd --init-db makes the database)" : "");
		exit(EXIT_USAGE);
	}
	if (!(st = store_open(path, err, sizeof err))) {
		fprintf(stderr, "mailbox: %s\n", err);
		exit(EXIT_USAGE);
	}
	return st;
}

int main(int argc, char **argv)
{
	struct options o = {.db = DEFAULT_DB, .days = -1};
	const struct command *c;
	struct store *st;
	int n, status;

	n = parse_options(argc, argv, &o);
	c = find_command(n, argv);
	n -= c->word2 ? 2 : 1;
	argv += c->word2 ? 2 : 1;
	check_command(c, n, argv, &o);
	log_name("mailbox");
	log_open(o.log);
	st = open_store(o.db);
	status = c->run(st, &o, argv);
	store_close(st);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailbox: cannot write the output: %s\n", strerror(errno));
		status = EXIT_FAILURE;
	}
	return status;
}
