/*
 * limits.h - the protocol's size limits, named after the RFC text that
 * motivates them.  Every buffer that holds client input is sized from
 * here, and every check happens before the bytes are copied.
 */
#ifndef SMTPD_LIMITS_H
#define SMTPD_LIMITS_H

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets with CRLF. */
#define SMTP_LINE_MAX 512

/*
 * RFC 5321 4.5.3.1.4 lets extensions raise the command line limit; MAIL
 * and RCPT carry the parameters, so they get this larger bound (room for
 * RFC 3461's ENVID/RET, +100, and NOTIFY/ORCPT, +500).
 */
#define SMTP_PARAM_LINE_MAX 1024

/* RFC 5321 4.5.3.1.3: a reverse or forward path, with its brackets. */
#define SMTP_PATH_MAX 256

/* RFC 5321 4.5.3.1.2: a domain name. */
#define SMTP_DOMAIN_MAX 255

/* RFC 5321 4.5.3.1.8: at least 100 recipients must be buffered. */
#define SMTP_RECIPIENTS_DEFAULT 100

/* RFC 5321 4.5.3.2: five minutes for the next command is the minimum. */
#define SMTP_TIMEOUT_DEFAULT 300

/* A whole session, however slow the client; RFC 5321 4.5.3.2 allows a
 * server to end a session that takes too long. */
#define SMTP_SESSION_TIMEOUT_DEFAULT 600

/* Postfix's smtpd_hard_error_limit: a client past this is not a mailer. */
#define SMTP_ERROR_LIMIT 20

/* Recipients over the limit that are answered 452 before each further
 * one counts as an error (Postfix's smtpd_recipient_overshoot_limit). */
#define SMTP_RCPT_OVERSHOOT 1000

/* 25 MiB, a common mailbox provider limit (RFC 1870 SIZE). */
#define SMTP_MAX_SIZE_DEFAULT 26214400ULL

/* SQLite holds blobs of up to 1e9 bytes; leave room for the trace
 * headers. */
#define SMTP_MAX_SIZE_CEILING 999000000ULL

/* Accounts (the mailbox tool, pop3d).  RFC 2449 section 4: a POP3
 * command argument, such as USER's name, is at most 255 octets. */
#define ACCOUNT_NAME_MAX 255

/* An address an account receives: a forward path without its angle
 * brackets (RFC 5321 4.5.3.1.3). */
#define ACCOUNT_ADDRESS_MAX (SMTP_PATH_MAX - 2)

/* --- POP3 (pop3d) --- */

/* RFC 2449 4: a command line is at most 255 octets with its CRLF. */
#define POP3_LINE_MAX 255

/*
 * RFC 5034 4: a SASL client response line is exempt from the command
 * line limit; PLAIN carries authzid, authcid and password (RFC 4616: up
 * to 255 octets each, plus two NULs), 768 octets as 1024 of base64.
 */
#define POP3_SASL_LINE_MAX 1026
#define POP3_SASL_MAX	   767

/* RFC 1939 3: the autologout timer is at least 10 minutes. */
#define POP3_TIMEOUT_DEFAULT 600

/* A whole session: a mailbox of 25 MiB messages to a slow client still
 * fits, a client that keeps the maildrop lock for ever does not. */
#define POP3_SESSION_TIMEOUT_DEFAULT 7200

/* As SMTP_ERROR_LIMIT: a client past this many -ERR is not a mail app. */
#define POP3_ERROR_LIMIT 20

/* RFC 1939 13 (security): limit password guesses; the connection ends
 * after this many failed logins. */
#define POP3_LOGIN_FAILURES 3

/* Each failed login is answered this long after it arrived, whether or
 * not the account exists (Dovecot's auth_failure_delay is also 2 s). */
#define POP3_FAIL_DELAY_MS_DEFAULT 2000

#endif
