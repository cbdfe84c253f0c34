/*
 * mailbox.c - the administrator's tool over smtpd's database: accounts
 * and their addresses, reading and exporting the stored mail, purging
 * what no mailbox holds any more, and checking the file.
 *
 * This file parses and checks the command line and picks the command;
 * the commands and their output are in mailbox_cmd.c, the queries in
 * admin.c, the mail formats in mailfmt.c, passwords in newpass.c.
 * Exit status: 0 done, 1 the command failed (the reason on stderr),
 * 2 a bad command line or a database it cannot or must not open.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "limits.h"
#include "cli.h"
#include "log.h"
#include "mailbox.h"
#include "newpass.h"
#include "store.h"

#define DEFAULT_DB "/var/lib/smtpd/mail.db" /* smtpd's; tests/mailbox.bats compares */
#define DAYS_MAX   100000

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
	"  --hash H                take a ready crypt(3) hash ($y$, $2b$, $6$); - reads it from "
	"stdin\n"
	"  --user NAME             only the messages in NAME's mailbox\n"
	"  --mbox FILE             export into a new mboxrd file\n"
	"  --maildir DIR           export into a maildir, made as needed\n"
	"  --older-than DAYS       purge also what arrived more than DAYS days ago\n"
	"  --dry-run               print what purge would remove, remove nothing\n"
	"  --log auto|journal|syslog|stderr  where the record of each change goes (default auto)\n"
	"  --help, --version\n";

/* check_text - s is 1..max bytes with no space or control character
 * (and, for an address, no angle bracket), or exit 2. */
static void check_text(const char *what, const char *s, size_t max, bool address)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		cli_error("%s: '%s' is not 1 to %zu bytes", what, s, max);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == 0x7f)
			cli_error("%s: '%s' holds a space or a control character", what, s);
		if (address && (*p == '<' || *p == '>'))
			cli_error("%s: '%s' holds an angle bracket", what, s);
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
	static char stdin_hash[NEWPASS_HASH_MAX];
	char err[128];
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!*optarg)
				cli_error("--db: empty path");
			o->db = optarg;
			break;
		case 'a':
			check_text("--address", optarg, ACCOUNT_ADDRESS_MAX, true);
			if (o->naddr == ADDRESS_ARGS_MAX)
				cli_error("--address: more than %d", ADDRESS_ARGS_MAX);
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
			/* "-": from stdin, out of other users' sight in ps. */
			if (!strcmp(optarg, "-") &&
			    !newpass_read(true, stdin_hash, sizeof stdin_hash, err, sizeof err))
				cli_error("--hash -: %s", err);
			o->hash = strcmp(optarg, "-") ? optarg : stdin_hash;
			if (!newpass_valid_hash(o->hash))
				cli_error("--hash: not a crypt(3) hash this system can verify");
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
			o->days = (int)cli_number("--older-than", optarg, 0, DAYS_MAX);
			o->given |= O_OLDER;
			break;
		case 'n':
			o->given |= O_DRY_RUN;
			break;
		case 'l':
			o->log = cli_log_target(optarg);
			break;
		default:
			cli_other(c, argv, usage_text);
		}
	}
	memmove(argv, argv + optind, (size_t)(argc - optind) * sizeof *argv);
	return argc - optind;
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
		cli_error("no command");
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
		cli_error("'%s' needs a subcommand", argv[0]);
	if (group)
		cli_error("unknown command '%s %s'", argv[0], argv[1]);
	cli_error("unknown command '%s'", argv[0]);
}

/* check_command - the arguments and options fit command c, or exit 2. */
static void check_command(const struct command *c, int nargs, char **args, struct options *o)
{
	char name[32];
	/* The options that go with a command, in the order of their O_ bits. */
	static const char *const names[] = {"--address", "--password-stdin", "--generate",
					    "--hash",	 "--user",	     "--mbox",
					    "--maildir", "--older-than",     "--dry-run"};

	snprintf(name, sizeof name, "%s%s%s", c->word1, c->word2 ? " " : "",
		 c->word2 ? c->word2 : "");
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((o->given & (1u << i)) && !(c->opts & (1u << i)))
			cli_error("%s: %s does not apply", name, names[i]);
	if (nargs < c->nargs)
		cli_error("%s needs %s", name, c->args);
	if (nargs > c->nargs)
		cli_error("%s: unexpected argument '%s'", name, args[c->nargs]);
	if (__builtin_popcount(o->given & O_PASSWORD) > 1)
		cli_error("%s: give one of --password-stdin, --generate and --hash", name);
	if ((c->opts & O_PASSWORD) && !(o->given & O_PASSWORD) && !isatty(STDIN_FILENO))
		cli_error("%s: no terminal to ask for the password on:"
			  " give --password-stdin, --generate or --hash",
			  name);
	if ((c->opts & O_MBOX) && __builtin_popcount(o->given & (O_MBOX | O_MAILDIR)) != 1)
		cli_error("%s: give one of --mbox FILE and --maildir DIR", name);
	/* Each argument is what its placeholder in the table names. */
	for (const char *p = c->args; *p; p += strcspn(p, " "), p += *p == ' ', args++) {
		if (!strncmp(p, "NAME", 4))
			check_text(name, args[0], ACCOUNT_NAME_MAX, false);
		else if (!strncmp(p, "ID", 2))
			o->id = cli_number(name, args[0], 1, INT64_MAX);
		else
			check_text(name, args[0], ACCOUNT_ADDRESS_MAX, true);
	}
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

	cli_init("mailbox");
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
