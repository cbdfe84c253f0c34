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

/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with CRLF. */
#define SMTP_REPLY_LINE_MAX 512

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

#endif
