/*
 * stuff.h - the octets RETR and TOP send (RFC 1939 3): a message made
 * safe for the multi-line response.
 *
 * Every line that starts with "." gets one more, the first line too; a
 * message that does not end in CR LF gets one, so that the final "."
 * stands on a line of its own.  Lines end at LF.  For TOP the header,
 * the empty line after it and then k lines of the body are sent.
 */
#ifndef SMTPD_STUFF_H
#define SMTPD_STUFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io.h"

struct stuffer {
	bool top;	  /* TOP: stop after the header and lines */
	bool header;	  /* still in the header */
	bool bol;	  /* the next byte starts a line */
	bool done;	  /* TOP has sent all it should */
	uint64_t lines;	  /* TOP: body lines still to send */
	uint64_t linelen; /* bytes of the current line so far */
	uint64_t sent;	  /* message octets sent, without the stuffing */
	char tail[2];	  /* the last two message octets sent */
};

/* stuff_init - for RETR (top false) or TOP with lines body lines. */
void stuff_init(struct stuffer *f, bool top, uint64_t lines);

/* stuff_feed - send the next n octets of the message to io; false once
 * TOP has sent what it should (the rest is not needed). */
bool stuff_feed(struct stuffer *f, struct io *io, const char *buf, size_t n);

/* stuff_end - a CR LF if the last line lacks one, then ".\r\n". */
void stuff_end(struct stuffer *f, struct io *io);

#endif
