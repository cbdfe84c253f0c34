/*
 * stuff.c - the octets RETR and TOP send (see stuff.h).
 *
 * Whole lines go to io in one write each; only the byte at the start of
 * a line is looked at, and the bytes before an LF.
 */
#include "stuff.h"

#include <string.h>

void stuff_init(struct stuffer *f, bool top, uint64_t lines)
{
	memset(f, 0, sizeof *f);
	f->top = top;
	f->header = true;
	f->bol = true;
	f->lines = lines;
}

/* remember - keep the last two octets of what was sent. */
static void remember(struct stuffer *f, const char *p, size_t len)
{
	if (len >= 2) {
		f->tail[0] = p[len - 2];
		f->tail[1] = p[len - 1];
	} else if (len == 1) {
		f->tail[0] = f->tail[1];
		f->tail[1] = p[0];
	}
}

/* line_ended - account for a line just completed, empty or not. */
static void line_ended(struct stuffer *f, bool empty)
{
	if (!f->top)
		return;
	if (f->header) {
		if (empty) {
			f->header = false;
			f->done = f->lines == 0;
		}
	} else if (--f->lines == 0) {
		f->done = true;
	}
}

bool stuff_feed(struct stuffer *f, struct io *io, const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n;

	while (p < end && !f->done) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = lf ? (size_t)(lf - p) + 1 : (size_t)(end - p);

		if (f->bol && *p == '.')
			io_write(io, ".", 1);
		io_write(io, p, len);
		f->sent += len;
		if (lf) {
			/* The byte before the LF: in this piece, or the last sent. */
			bool cr = len >= 2 ? lf[-1] == '\r' : f->tail[1] == '\r';
			uint64_t linelen = f->linelen + len - 1;
			line_ended(f, linelen == 0 || (linelen == 1 && cr));
			f->linelen = 0;
		} else {
			f->linelen += len;
		}
		f->bol = lf != NULL;
		remember(f, p, len);
		p += len;
	}
	return !f->done;
}

void stuff_end(struct stuffer *f, struct io *io)
{
	if (f->sent < 2 || f->tail[0] != '\r' || f->tail[1] != '\n')
		io_write(io, "\r\n", 2);
	io_write(io, ".\r\n", 3);
}
