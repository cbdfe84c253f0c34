/*
 * log.c - logging (see log.h).
 */
#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#define LOG_LINE_MAX   4096
#define LOG_FIELDS_MAX 16

static enum log_target target = LOG_TO_SYSLOG;

void log_open(enum log_target t)
{
	if (t == LOG_TO_AUTO)
		t = getenv("INVOCATION_ID") && access("/run/systemd/journal/socket", W_OK) == 0
			    ? LOG_TO_JOURNAL
			    : LOG_TO_SYSLOG;
	target = t;
	if (t == LOG_TO_SYSLOG)
		openlog("smtpd", LOG_PID | LOG_NDELAY, LOG_MAIL);
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

/* journal - send the message and the fields as journal fields. */
static void journal(int prio, const char *text, const struct log_field *f, size_t n)
{
	struct iovec iov[LOG_FIELDS_MAX + 3];
	char buf[LOG_FIELDS_MAX + 3][LOG_LINE_MAX];
	size_t k = 0;

	snprintf(buf[k], LOG_LINE_MAX, "MESSAGE=%s", text);
	k++;
	snprintf(buf[k], LOG_LINE_MAX, "PRIORITY=%d", prio);
	k++;
	snprintf(buf[k], LOG_LINE_MAX, "SYSLOG_FACILITY=%d", LOG_MAIL >> 3);
	k++;
	for (size_t i = 0; i < n && i < LOG_FIELDS_MAX; i++, k++)
		snprintf(buf[k], LOG_LINE_MAX, "SMTPD_%s=%s", f[i].key, f[i].value);
	for (size_t i = 0; i < k; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = strlen(buf[i]);
	}
	sd_journal_sendv(iov, (int)k);
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
		fprintf(stderr, "smtpd[%d]: %s\n", (int)getpid(), line);
	else
		syslog(prio, "%s", line);
}
