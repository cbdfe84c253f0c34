/*
 * log.c - logging (see log.h).
 */
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX   4096
#define LOG_FIELDS_MAX 16
#define JOURNAL_SOCKET "/run/systemd/journal/socket"
/* One journal entry: the fields, each with its name and framing. */
#define JOURNAL_ENTRY_MAX ((LOG_FIELDS_MAX + 4) * (LOG_LINE_MAX + 48))

static enum log_target target = LOG_TO_SYSLOG;
static const char *ident = "smtpd";
static char prefix[16] = "SMTPD_";
static int journal_fd = -1;

void log_name(const char *name)
{
	size_t i;

	ident = name;
	for (i = 0; name[i] && i < sizeof prefix - 2; i++)
		prefix[i] = (char)toupper((unsigned char)name[i]);
	prefix[i++] = '_';
	prefix[i] = '\0';
}

void log_open(enum log_target t)
{
	if (t == LOG_TO_AUTO)
		t = getenv("INVOCATION_ID") && access(JOURNAL_SOCKET, W_OK) == 0 ? LOG_TO_JOURNAL
										 : LOG_TO_SYSLOG;
	target = t;
	if (t == LOG_TO_SYSLOG) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
		/* syslog() stamps local time from the zone file, read once:
		 * read it now, before the sandbox puts it out of reach. */
		tzset();
	}
	if (t == LOG_TO_JOURNAL)
		journal_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* append - add " key=value" (key lower-cased) to line at *len. */
static void append(char *line, size_t *len, const struct log_field *f)
{
	char key[32];
	size_t i;

	for (i = 0; f->key[i] && i < sizeof key - 1; i++)
		key[i] = (char)tolower((unsigned char)f->key[i]);
	key[i] = '\0';
	int n = snprintf(line + *len, LOG_LINE_MAX - *len, " %s=%s", key, f->value);
	if (n > 0)
		*len = *len + (size_t)n < LOG_LINE_MAX ? *len + (size_t)n : LOG_LINE_MAX - 1;
}

/*
 * field - append one journal field to the entry at *len.  The journal's
 * native protocol: "NAME=value\n", or, for a value that holds a newline,
 * "NAME\n", the value's length as 64-bit little-endian, the value, "\n".
 */
static void field(char *entry, size_t *len, const char *name, const char *value)
{
	size_t n = strlen(name), v = strlen(value);

	if (*len + n + v + 10 > JOURNAL_ENTRY_MAX)
		return;
	memcpy(entry + *len, name, n);
	*len += n;
	if (!memchr(value, '\n', v)) {
		entry[(*len)++] = '=';
	} else {
		entry[(*len)++] = '\n';
		for (int i = 0; i < 8; i++)
			entry[(*len)++] = (char)((uint64_t)v >> (8 * i));
	}
	memcpy(entry + *len, value, v);
	*len += v;
	entry[(*len)++] = '\n';
}

/*
 * journal - one entry: the text, the priority and the fields as
 * SMTPD_<KEY>, in one datagram to journald's socket.  Written here
 * rather than through libsystemd, whose loading would cost every
 * session's exec more than all of this (bench/README.md).
 */
static void journal(int prio, const char *text, const struct log_field *f, size_t n)
{
	static char entry[JOURNAL_ENTRY_MAX];
	struct sockaddr_un sun = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
	char num[16], name[40];
	size_t len = 0;

	field(entry, &len, "MESSAGE", text);
	snprintf(num, sizeof num, "%d", prio);
	field(entry, &len, "PRIORITY", num);
	snprintf(num, sizeof num, "%d", LOG_MAIL >> 3);
	field(entry, &len, "SYSLOG_FACILITY", num);
	field(entry, &len, "SYSLOG_IDENTIFIER", ident);
	for (size_t i = 0; i < n && i < LOG_FIELDS_MAX; i++) {
		snprintf(name, sizeof name, "%s%s", prefix, f[i].key);
		field(entry, &len, name, f[i].value);
	}
	if (journal_fd >= 0)
		sendto(journal_fd, entry, len, MSG_NOSIGNAL, (struct sockaddr *)&sun, sizeof sun);
}

void log_event(int prio, const struct log_field *f, size_t n, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	len = strlen(line);
	for (size_t i = 0; i < n; i++)
		append(line, &len, &f[i]);
	if (target == LOG_TO_JOURNAL)
		journal(prio, line, f, n);
	else if (target == LOG_TO_STDERR)
		fprintf(stderr, "%s[%d]: %s\n", ident, (int)getpid(), line);
	else
		syslog(prio, "%s", line);
}
