/*
 * io.c - buffered client I/O with deadlines (see io.h).
 *
 * Every wait goes through poll() with the smaller of the idle timeout
 * and what is left of the session deadline, so no read can hang and no
 * signal handler is needed.
 */
#include "io.h"

#include <assert.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* now_ms - the monotonic clock in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void io_init(struct io *io, int in_fd, int out_fd, unsigned idle_s, unsigned session_s)
{
	io->in_fd = in_fd;
	io->out_fd = out_fd;
	io->idle_ms = (int)idle_s * 1000;
	io->deadline_ms = now_ms() + (int64_t)session_s * 1000;
	io->out_failed = false;
	io->in_pos = io->in_len = io->out_len = 0;
	/* A socket is ours alone: make it non-blocking, so that a write
	 * poll() found room for cannot then block on a full buffer.  A pipe
	 * (inetd's tests, the fuzzer) may be shared, so it stays blocking,
	 * and io_flush writes at most PIPE_BUF to it at once: poll() promises
	 * that much room, and no more. */
	struct stat sb;
	io->out_socket = fstat(out_fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
	if (io->out_socket)
		fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
}

/* wait_ms - how long the next wait may last: the idle timeout, cut
 * short by the session deadline; 0 or less when time is up. */
static int wait_ms(const struct io *io)
{
	int64_t left = io->deadline_ms - now_ms();

	return left < io->idle_ms ? (int)left : io->idle_ms;
}

bool io_flush(struct io *io)
{
	size_t done = 0;

	/* A client that does not read its replies must not hold the
	 * process either: writes wait under the same deadlines as reads. */
	while (!io->out_failed && done < io->out_len) {
		struct pollfd p = {.fd = io->out_fd, .events = POLLOUT};
		int wait = wait_ms(io), r;

		/* Past the deadline, the last reply (421) still gets a moment. */
		if (wait < IO_WRITE_GRACE_MS)
			wait = IO_WRITE_GRACE_MS;
		if ((r = poll(&p, 1, wait)) == 0) {
			io->out_failed = true;
			break;
		}
		if (r < 0) {
			if (errno != EINTR)
				io->out_failed = true;
			continue;
		}
		size_t len = io->out_len - done;
		if (!io->out_socket && len > PIPE_BUF)
			len = PIPE_BUF;
		ssize_t n = write(io->out_fd, io->out + done, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			io->out_failed = true;
		else
			done += (size_t)n;
	}
	io->out_len = 0;
	return !io->out_failed;
}

enum io_status io_fill(struct io *io)
{
	if (io->in_pos < io->in_len)
		return IO_OK;
	/* About to block: the client may be waiting for our replies. */
	if (!io_flush(io))
		return IO_ERROR;
	io->in_pos = io->in_len = 0;
	for (;;) {
		int wait = wait_ms(io);
		struct pollfd p = {.fd = io->in_fd, .events = POLLIN};

		if (wait <= 0)
			return IO_TIMEOUT;
		int r = poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return IO_ERROR;
		if (r == 0)
			return IO_TIMEOUT;
		ssize_t n = read(io->in_fd, io->in, sizeof io->in);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? IO_EOF : IO_ERROR;
		if (n == 0)
			return IO_EOF;
		io->in_len = (size_t)n;
		return IO_OK;
	}
}

enum io_status io_skip(struct io *io, uint64_t n)
{
	while (n > 0) {
		enum io_status st = io_fill(io);
		if (st != IO_OK)
			return st;
		size_t avail = io->in_len - io->in_pos;
		if (avail > n)
			avail = (size_t)n;
		io->in_pos += avail;
		n -= avail;
	}
	return IO_OK;
}

bool io_pending(struct io *io)
{
	struct pollfd p = {.fd = io->in_fd, .events = POLLIN};

	return io->in_pos < io->in_len || poll(&p, 1, 0) > 0;
}

enum io_status io_getline(struct io *io, char *buf, size_t cap, size_t *len)
{
	size_t have = 0;
	bool toolong = false;

	for (;;) {
		enum io_status st = io_fill(io);
		if (st != IO_OK)
			return st;
		char *start = io->in + io->in_pos;
		size_t avail = io->in_len - io->in_pos;
		char *lf = memchr(start, '\n', avail);
		size_t take = lf ? (size_t)(lf - start) + 1 : avail;

		/* Copy only what fits; the rest of an over-long line is
		 * dropped as it arrives, so memory stays bounded. */
		if (!toolong && have + take < cap) {
			memcpy(buf + have, start, take);
			have += take;
		} else {
			toolong = true;
		}
		io->in_pos += take;
		if (lf)
			break;
	}
	if (toolong) {
		*len = 0;
		buf[0] = '\0';
		return IO_TOOLONG;
	}
	have--; /* the LF */
	if (have > 0 && buf[have - 1] == '\r')
		have--;
	buf[have] = '\0';
	*len = have;
	return IO_OK;
}

void io_vprintf(struct io *io, const char *fmt, va_list ap)
{
	size_t room = sizeof io->out - io->out_len;
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(io->out + io->out_len, room, fmt, ap);
	if (n >= 0 && (size_t)n >= room) {
		io_flush(io);
		n = vsnprintf(io->out, sizeof io->out, fmt, again);
		assert(n >= 0 && (size_t)n < sizeof io->out);
	}
	va_end(again);
	if (n > 0)
		io->out_len += (size_t)n;
}

void io_printf(struct io *io, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	io_vprintf(io, fmt, ap);
	va_end(ap);
}

void io_write(struct io *io, const void *data, size_t len)
{
	const char *buf = data;

	while (len > 0) {
		size_t room = sizeof io->out - io->out_len, n = len < room ? len : room;

		memcpy(io->out + io->out_len, buf, n);
		io->out_len += n;
		buf += n;
		len -= n;
		if (len > 0)
			io_flush(io);
	}
}
