/*
 * spool.c - message body spool (see spool.h).
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

void spool_init(struct spool *sp, const char *dir)
{
	sp->dir = dir;
	sp->fd = -1;
	spool_reset(sp);
}

void spool_reset(struct spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	sp->failed = false;
	sp->err = 0;
	sp->size = sp->rpos = 0;
	sp->mem_len = 0;
}

/* open_tmp - an anonymous file in sp->dir, or -1 with errno set. */
static int open_tmp(const char *dir)
{
	char path[4096];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd;
	/* File systems without O_TMPFILE: create, then unlink at once. */
	if (snprintf(path, sizeof path, "%s/smtpd.XXXXXX", dir) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = mkostemp(path, O_CLOEXEC);
	if (fd >= 0)
		unlink(path);
	return fd;
}

/* write_all - write len bytes or fail. */
static bool write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* spill - move the buffered bytes to the file, opening it first if need
 * be; false (with sp->failed set) on error. */
static bool spill(struct spool *sp)
{
	if (sp->fd < 0 && (sp->fd = open_tmp(sp->dir)) < 0)
		goto fail;
	if (!write_all(sp->fd, sp->mem, sp->mem_len))
		goto fail;
	sp->mem_len = 0;
	return true;
fail:
	sp->failed = true;
	sp->err = errno;
	return false;
}

void spool_write(struct spool *sp, const char *buf, size_t len)
{
	if (sp->failed || len == 0)
		return;
	/* The buffer holds a small body whole; past that it batches the
	 * writes to the file (the DATA reader hands over a line at a time). */
	if (sp->mem_len + len > sizeof sp->mem) {
		if (!spill(sp))
			return;
		if (len >= sizeof sp->mem) {
			if (!write_all(sp->fd, buf, len)) {
				sp->failed = true;
				sp->err = errno;
				return;
			}
			sp->size += len;
			return;
		}
	}
	memcpy(sp->mem + sp->mem_len, buf, len);
	sp->mem_len += len;
	sp->size += len;
}

bool spool_rewind(struct spool *sp)
{
	sp->rpos = 0;
	if (sp->fd < 0)
		return true;
	return spill(sp) && lseek(sp->fd, 0, SEEK_SET) == 0;
}

ssize_t spool_read(struct spool *sp, char *buf, size_t cap)
{
	if (sp->fd < 0) {
		size_t n = sp->mem_len - sp->rpos;
		if (n > cap)
			n = cap;
		memcpy(buf, sp->mem + sp->rpos, n);
		sp->rpos += n;
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t n = read(sp->fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		return n;
	}
}
