/*
 * body.h - the DATA reader: the message text up to CR LF "." CR LF.
 */
#ifndef SMTPD_BODY_H
#define SMTPD_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include "io.h"
#include "spool.h"

struct body_result {
	uint64_t size; /* bytes of message text after dot-unstuffing */
	bool bare_eol; /* a CR or LF that was not part of CR LF */
	bool too_big;  /* more than the limit; the excess was not kept */
};

/*
 * body_read - read message text from io into sp until the end-of-data
 * line, undoing dot-stuffing (RFC 5321 4.5.2).
 *
 * The end is only CR LF "." CR LF (the CR LF before the dot may be the
 * one that ended the DATA command).  A bare CR or LF never ends a line
 * for this purpose, so a client cannot hide a second transaction behind
 * an end-of-data sequence that another server would accept (SMTP
 * smuggling); such a message is marked bare_eol and is refused.  The text
 * is always read to its end so the session stays in step; past max bytes
 * nothing more is kept.  Returns IO_OK at the end of data, or why not.
 */
enum io_status body_read(struct io *io, struct spool *sp, uint64_t max, struct body_result *r);

/*
 * chunk_read - read the n bytes of one BDAT chunk (RFC 3030 2) into sp,
 * adding to r.  Chunks are taken as they are (no dot-stuffing), but a
 * bare CR or LF is marked as in DATA, with *cr carrying a CR that ended
 * the previous chunk so that a CR LF split between chunks is one line
 * end.  Returns IO_OK once all n bytes are read.
 */
enum io_status chunk_read(struct io *io, struct spool *sp, uint64_t n, uint64_t max, bool *cr,
			  struct body_result *r);

#endif
