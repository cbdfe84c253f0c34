/*
 * body.c - the DATA reader (see body.h).
 *
 * A byte-at-a-time state machine, with a fast path through the middle
 * of lines.  Postfix's smtp-sink and RFC 5321 4.1.1.4 are the model: a
 * message ends on CR LF "." CR LF and on nothing else.
 */
#include "body.h"

enum state {
	AT_BOL, /* after CR LF: a dot here is special */
	AT_DOT, /* a dot at the start of a line */
	AT_DOT_CR,
	IN_TEXT,
	AT_CR, /* a CR inside a line: an LF must follow */
};

struct reader {
	struct spool *sp;
	uint64_t max;
	struct body_result *r;
};

/* keep - count text and spool it while under the limit. */
static void keep(struct reader *rd, const char *p, size_t n)
{
	if (n == 0)
		return;
	rd->r->size += n;
	if (rd->r->size > rd->max)
		rd->r->too_big = true;
	if (!rd->r->too_big)
		spool_write(rd->sp, p, n);
}

enum io_status body_read(struct io *io, struct spool *sp, uint64_t max, struct body_result *r)
{
	struct reader rd = {.sp = sp, .max = max, .r = r};
	enum state st = AT_BOL;

	for (;;) {
		enum io_status ios = io_fill(io);
		if (ios != IO_OK)
			return ios;
		const char *p = io->in + io->in_pos;
		const char *end = io->in + io->in_len;

		while (p < end) {
			const char *q;

			switch (st) {
			case IN_TEXT:
				for (q = p; q < end && *q != '\r' && *q != '\n';)
					q++;
				keep(&rd, p, (size_t)(q - p));
				p = q;
				if (p == end)
					break;
				if (*p == '\n') {
					r->bare_eol = true;
					keep(&rd, "\n", 1);
				} else {
					st = AT_CR;
				}
				p++;
				break;
			case AT_CR:
				if (*p == '\n') {
					keep(&rd, "\r\n", 2);
					st = AT_BOL;
					p++;
				} else { /* bare CR; look at *p again */
					r->bare_eol = true;
					keep(&rd, "\r", 1);
					st = IN_TEXT;
				}
				break;
			case AT_BOL:
				if (*p == '.') {
					st = AT_DOT;
					p++;
				} else {
					st = IN_TEXT;
				}
				break;
			case AT_DOT: /* the stuffed dot is dropped */
				if (*p == '\r') {
					st = AT_DOT_CR;
					p++;
				} else {
					st = IN_TEXT;
				}
				break;
			case AT_DOT_CR:
				if (*p == '\n') {
					io->in_pos = (size_t)(p + 1 - io->in);
					return IO_OK;
				}
				/* "." CR then not LF: a line starting with a
				 * bare CR once unstuffed. */
				r->bare_eol = true;
				keep(&rd, "\r", 1);
				st = IN_TEXT;
				break;
			}
		}
		io->in_pos = io->in_len;
	}
}

enum io_status chunk_read(struct io *io, struct spool *sp, uint64_t n, uint64_t max, bool *cr,
			  struct body_result *r)
{
	struct reader rd = {.sp = sp, .max = max, .r = r};

	while (n > 0) {
		enum io_status ios = io_fill(io);
		if (ios != IO_OK)
			return ios;
		const char *p = io->in + io->in_pos;
		size_t avail = io->in_len - io->in_pos;

		if (avail > n)
			avail = (size_t)n;
		for (size_t i = 0; i < avail; i++) {
			if ((*cr && p[i] != '\n') || (!*cr && p[i] == '\n'))
				r->bare_eol = true;
			*cr = p[i] == '\r';
		}
		keep(&rd, p, avail);
		io->in_pos += avail;
		n -= avail;
	}
	return IO_OK;
}
