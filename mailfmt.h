/*
 * mailfmt.h - the message formats the mailbox tool reads and writes:
 * a header field for listings, mboxrd files and maildir directories.
 * No SQL here: it works on the bytes the store hands over.
 */
#ifndef SMTPD_MAILFMT_H
#define SMTPD_MAILFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Room for a header field's value in a listing. */
#define MAILFMT_FIELD_MAX 200

/*
 * mailfmt_field - the value of the first header field called name in
 * the message's header (text, len bytes; the header ends at the first
 * empty line), unfolded, with control characters as '?', cut to fit
 * out (cap bytes, NUL-terminated).  "" when there is none.
 */
void mailfmt_field(const char *text, size_t len, const char *name, char *out, size_t cap);

/* mailfmt_time - an ISO 8601 UTC time as stored ("2026-11-26T11:30:08Z")
 * as seconds since the epoch; 0 when it does not parse. */
time_t mailfmt_time(const char *iso);

/*
 * mailfmt_mbox - append one message to an mboxrd file: a "From " line
 * with the envelope sender and the time, the text with CR LF made LF
 * and every line matching ">*From " quoted with one more '>', ending in
 * a newline, then an empty line.  Returns false on a write error.
 */
bool mailfmt_mbox(FILE *f, const char *sender, time_t when, const char *text, size_t len);

/* mailfmt_maildir_init - make dir and its tmp, new and cur, as needed. */
bool mailfmt_maildir_init(const char *dir, char *err, size_t errlen);

/*
 * mailfmt_maildir - deliver the text, byte for byte, as a new message
 * in dir: written under tmp, synced, then linked into new under a name
 * made of the time, the message id and host.  Refuses to replace a file.
 */
bool mailfmt_maildir(const char *dir, const char *host, time_t when, int64_t id, const char *text,
		     size_t len, char *err, size_t errlen);

#endif
