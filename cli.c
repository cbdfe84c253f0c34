/*
 * cli.c - the command-line pieces every program shares (see cli.h).
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "limits.h"
#include "parse.h"

#ifndef SMTPD_VERSION
#define SMTPD_VERSION "unknown" /* make sets it */
#endif

static const char *program = "smtpd";

void cli_init(const char *prog)
{
	program = prog;
}

void cli_error(const char *fmt, ...)
{
	struct stat sb;
	va_list ap;

	va_start(ap, fmt);
	if (fstat(STDERR_FILENO, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		openlog(program, LOG_PID, LOG_MAIL);
		vsyslog(LOG_ERR, fmt, ap);
	} else {
		fprintf(stderr, "%s: ", program);
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\nTry '%s --help'.\n", program);
	}
	va_end(ap);
	exit(EXIT_USAGE);
}

void cli_other(int c, char **argv, const char *usage)
{
	switch (c) {
	case 'h':
		fputs(usage, stdout);
		exit(0);
	case 'V':
		printf("%s %s\n", program, SMTPD_VERSION);
		exit(0);
	case ':':
		cli_error("%s needs a value", argv[optind - 1]);
	default:
		cli_error("unknown option '%s'", argv[optind - 1]);
	}
}

uint64_t cli_number(const char *what, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	uint64_t v = 0;

	errno = 0;
	if (*s >= '0' && *s <= '9')
		v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end || v < min || v > max)
		cli_error("%s: '%s' is not a number from %" PRIu64 " to %" PRIu64, what, s, min,
			  max);
	return v;
}

enum log_target cli_log_target(const char *s)
{
	static const char *const names[] = {
		[LOG_TO_AUTO] = "auto",
		[LOG_TO_JOURNAL] = "journal",
		[LOG_TO_SYSLOG] = "syslog",
		[LOG_TO_STDERR] = "stderr",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0)
			return (enum log_target)i;
	cli_error("--log: '%s' is not auto, journal, syslog or stderr", s);
}

bool cli_is_domain(const char *s)
{
	size_t n = parse_domain(s);

	return n > 0 && s[n] == '\0';
}

const char *cli_hostname(void)
{
	static char name[SMTP_DOMAIN_MAX + 1];

	if (gethostname(name, sizeof name) != 0 || !cli_is_domain(name))
		return "localhost";
	return name;
}
