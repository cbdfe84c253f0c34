/*
 * log.h - one line per event, to the journal, syslog or stderr.
 *
 * Never stderr unless asked: under inetd, stderr is the client's socket.
 */
#ifndef SMTPD_LOG_H
#define SMTPD_LOG_H

#include <stddef.h>
#include <syslog.h>

enum log_target { LOG_TO_AUTO, LOG_TO_JOURNAL, LOG_TO_SYSLOG, LOG_TO_STDERR };

/* A structured field: the journal gets SMTPD_<KEY>=value (POP3D_ for
 * pop3d), the text
 * forms get " key=value" appended to the message. */
struct log_field {
	const char *key; /* upper case; lower-cased in text */
	const char *value;
};

/* log_open - choose the target; AUTO means the journal when running as
 * a systemd service, syslog otherwise. */
void log_open(enum log_target target);

/* log_name - the program's name in log lines (default "smtpd"); journal
 * fields get its upper case and "_" as a prefix.  Call before log_open. */
void log_name(const char *name);

/* log_event - one line at priority prio (LOG_INFO, ...) with n fields. */
void log_event(int prio, const struct log_field *f, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
