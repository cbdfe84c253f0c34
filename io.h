/*
 * io.h - buffered client I/O with deadlines.
 *
 * Input comes from one file descriptor and replies go to another (the
 * same socket under systemd, stdin/stdout under inetd, a file in the
 * fuzzer).  Replies are buffered and flushed only before a read would
 * block, which is what makes PIPELINING (RFC 2920) work: a batch of
 * pipelined commands gets one batch of replies.
 */
#ifndef SMTPD_IO_H
#define SMTPD_IO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IO_INBUF 16384
/* Replies are small, but pop3d streams whole messages through this
 * buffer: 4 KiB meant 2,560 writes for a 10 MiB RETR, and 64 KiB halved
 * pop3d's CPU per MB (bench/README.md, POP3). */
#define IO_OUTBUF	  65536
#define IO_WRITE_GRACE_MS 1000 /* to write once the deadline has passed */

enum io_status {
	IO_OK,
	IO_TOOLONG, /* the line did not fit; it was read and discarded */
	IO_EOF,	    /* the client closed the connection */
	IO_TIMEOUT, /* idle timeout or the session deadline passed */
	IO_ERROR,   /* read or write failed */
};

struct io {
	int in_fd, out_fd;
	int idle_ms;	     /* longest wait for the client's next bytes */
	int64_t deadline_ms; /* monotonic time at which the session ends */
	bool out_failed;     /* a write failed: the client is gone */
	bool out_socket;     /* out_fd is a (non-blocking) socket */
	size_t in_pos, in_len, out_len;
	char in[IO_INBUF];
	char out[IO_OUTBUF];
};

/* io_init - set up buffers; timeouts in seconds, the session's from now. */
void io_init(struct io *io, int in_fd, int out_fd, unsigned idle_s, unsigned session_s);

/*
 * io_getline - read one line ending in LF into buf (NUL-terminated, line
 * end removed, a CR before the LF too).  A line of cap-1 bytes or more
 * is consumed to its end and reported as IO_TOOLONG.  *len excludes the
 * NUL; buf may hold NUL bytes, so callers use *len.
 */
enum io_status io_getline(struct io *io, char *buf, size_t cap, size_t *len);

/*
 * io_fill - make sure unread input is buffered, waiting for it if not.
 * The caller then consumes io->in[in_pos .. in_len) and advances in_pos.
 */
enum io_status io_fill(struct io *io);

/* io_skip - read and drop n bytes (a refused BDAT chunk). */
enum io_status io_skip(struct io *io, uint64_t n);

/* io_pending - is input waiting that can be read without blocking? */
bool io_pending(struct io *io);

/* io_write - append len raw bytes (any value, NUL too) to the reply
 * buffer, all of them, flushing it whenever it is full. */
void io_write(struct io *io, const void *buf, size_t len);

/* io_printf - append one formatted piece of a reply to the buffer.  A
 * piece never comes near IO_OUTBUF; one that did would be a bug, and it
 * stops the process rather than send a cut line. */
void io_printf(struct io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void io_vprintf(struct io *io, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* io_flush - write out buffered replies; false once the client is gone. */
bool io_flush(struct io *io);

#endif
