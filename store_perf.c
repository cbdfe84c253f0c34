/*
 * store_perf.c - the writers' queue, a file system layer that spares a
 * directory fsync, and the settings that decide who checkpoints (see
 * store_perf.h).  Each section says why it exists and what it measured.
 */
#include "store_perf.h"

#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/time.h>
#include <unistd.h>

/*
 * The writers' queue.  Only one process writes at a time; SQLite makes
 * the others retry after sleeps of 1, 2, 5 ... 100 ms, while a commit
 * here takes well under one, so with many sessions the lock was mostly
 * free while they slept.  So writers first queue in the kernel, on a lock
 * of an open file description over one byte of the database file far
 * beyond the bytes SQLite locks; the kernel wakes the next one the moment
 * the last lets go.  Measured (ten messages per connection, twenty
 * sessions, A/B minutes apart): 1,318 messages/s before, 1,782 after.
 * Polling faster instead (a busy handler every 200 us) made it worse: on
 * two cores the waiting processes took the CPU the writer needed.  The
 * wait is bounded by the caller's deadline; after it, or without the
 * queue, SQLite's own locking still decides.  Other programs writing to
 * the database do not queue and are not needed to.
 */
#define QUEUE_BYTE 0x7fffffff00000000LL

/* The alarm repeats this often after the first, in case the first came
 * before fcntl() began to wait: the wait then overruns by this at most. */
#define QUEUE_ALARM_REPEAT_MS 10

/* on_alarm - only interrupts the wait below. */
static void on_alarm(int sig)
{
	(void)sig;
}

int queue_open(const char *path)
{
	/* Closing any descriptor of the file drops the process's POSIX
	 * locks on it, SQLite's too: so this one closes after SQLite's. */
	return open(path, O_RDWR | O_CLOEXEC);
}

bool queue_enter(int fd, int64_t wait_ms)
{
	struct flock fl = {
		.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = QUEUE_BYTE, .l_len = 1};
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	struct itimerval wait = {
		.it_value = {.tv_sec = wait_ms / 1000, .tv_usec = wait_ms % 1000 * 1000},
		.it_interval = {.tv_sec = 0, .tv_usec = QUEUE_ALARM_REPEAT_MS * 1000},
	};
	struct itimerval off = {0};
	int rc;

	if (fd < 0)
		return false;
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return true;
	if (wait_ms <= 0)
		return false;
	/* A zero it_value would disarm the timer: a wait without end. */
	assert(wait.it_value.tv_sec > 0 || wait.it_value.tv_usec > 0);
	sigaction(SIGALRM, &sa, &old); /* no SA_RESTART: the alarm ends the wait */
	setitimer(ITIMER_REAL, &wait, NULL);
	rc = fcntl(fd, F_OFD_SETLKW, &fl);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	return rc == 0;
}

void queue_leave(int fd)
{
	struct flock fl = {
		.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = QUEUE_BYTE, .l_len = 1};

	if (fd >= 0)
		fcntl(fd, F_OFD_SETLK, &fl);
}

/*
 * The file system layer: SQLite's own, but for one thing.  SQLite fsyncs
 * the directory the first time a process syncs a journal or WAL it
 * opened with the right to create it, so that a new file's name is on
 * disk too.  Every session opens the WAL that way, so every session
 * paid a second fsync.  The WAL is kept between processes (below), and a
 * WAL that already exists had its name made durable by whoever created
 * it: open it without the right to create, and the directory is left
 * alone.  A missing WAL is still created, and its directory synced.
 * Measured with strace: with this and the checkpointer, a session's one
 * fsync is its commit (tests/checkpointer.bats); before, there were five.
 */
static sqlite3_vfs vfs;

/* vfs_open - xOpen of the layer: SQLite's, with the rule above. */
static int vfs_open(sqlite3_vfs *self, const char *name, sqlite3_file *file, int flags,
		    int *outflags)
{
	sqlite3_vfs *base = self->pAppData;

	if ((flags & SQLITE_OPEN_WAL) && (flags & SQLITE_OPEN_CREATE) && name) {
		int rc = base->xOpen(base, name, file, flags & ~SQLITE_OPEN_CREATE, outflags);
		if (rc == SQLITE_OK)
			return rc;
	}
	return base->xOpen(base, name, file, flags, outflags);
}

const char *perf_vfs(void)
{
	sqlite3_vfs *base;

	if (vfs.zName)
		return vfs.zName;
	if (!(base = sqlite3_vfs_find(NULL)))
		return NULL;
	vfs = *base;
	vfs.zName = "smtpd";
	vfs.pAppData = base;
	vfs.xOpen = vfs_open;
	vfs.pNext = NULL;
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK) {
		vfs.zName = NULL;
		return NULL;
	}
	return vfs.zName;
}

/*
 * Who checkpoints.  The last connection to close copies the WAL into the
 * file and, with a journal_size_limit set, empties it, so that the next
 * process need not read it all again (3.4 ms a session instead of 5).
 * While another connection stays open (smtpd --checkpointer), a
 * session's close does nothing and its commit is its only fsync; the
 * checkpointer then does the copying, once a second (perf_checkpoint).
 * The WAL is cut back to 4 MiB whenever it starts over.
 *
 * The -wal and -shm files are kept when the last connection closes:
 * readers in group smtpd cannot create them in the state directory, a WAL
 * database cannot be read without them, and deleting and recreating them
 * cost every short-lived process file system work.  A small page cache
 * keeps a 25 MiB body from growing the process: past it, dirty pages
 * spill to the WAL (tests/memory.bats).  None of this is kept in the
 * file: every connection sets it.
 */
int perf_connection(sqlite3 *db)
{
	int persist = 1;

	sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
	return sqlite3_exec(db, "PRAGMA cache_size=-256; PRAGMA journal_size_limit=4194304", NULL,
			    NULL, NULL);
}

int perf_checkpoint(sqlite3 *db, bool truncate)
{
	return sqlite3_wal_checkpoint_v2(
		db, "main", truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, NULL,
		NULL);
}
