/*
 * spool.h - where a message body waits between DATA and the store.
 *
 * Small bodies stay in a fixed buffer; a body that outgrows it moves to
 * an unlinked temporary file, with the buffer batching the writes, so
 * memory does not grow with message size and nothing is left on disk if
 * the process dies.
 */
#ifndef SMTPD_SPOOL_H
#define SMTPD_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_MEM 65536

struct spool {
	const char *dir; /* for the temporary file */
	int fd;		 /* -1 while the body fits in mem */
	bool failed;	 /* a write failed (disk full, I/O error) */
	int err;	 /* errno of that failure */
	uint64_t size;	 /* bytes written */
	uint64_t rpos;	 /* read position */
	size_t mem_len;
	char mem[SPOOL_MEM];
};

/* spool_init - an empty spool; dir is kept, not copied. */
void spool_init(struct spool *sp, const char *dir);

/* spool_reset - drop the contents and any file; ready for the next body. */
void spool_reset(struct spool *sp);

/* spool_write - append; on failure sets sp->failed and drops later writes. */
void spool_write(struct spool *sp, const char *buf, size_t len);

/* spool_rewind - start reading from the beginning (writing is over). */
bool spool_rewind(struct spool *sp);

/* spool_read - next bytes into buf; 0 at the end, -1 on error. */
ssize_t spool_read(struct spool *sp, char *buf, size_t cap);

#endif
