/*
 * store_perf.h - the store's performance machinery, kept apart from the
 * plain logic of store.c (schema, insert, migration).  Used by store.c
 * only.  Each piece is here because a measurement asked for it
 * (bench/README.md, "Where the time goes"); without any of them the
 * store still works, only slower.
 */
#ifndef SMTPD_STORE_PERF_H
#define SMTPD_STORE_PERF_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

/* perf_vfs - the name of the file system layer to open the database
 * with, registered on first use; NULL (SQLite's own) if it cannot be. */
const char *perf_vfs(void);

/* perf_connection - the settings every connection needs to be fast: the
 * WAL kept, a small page cache, the WAL emptied after a checkpoint.
 * Returns SQLite's code. */
int perf_connection(sqlite3 *db);

/* perf_checkpoint - copy the WAL into the database (PASSIVE, never
 * waiting for a writer); with truncate, wait and empty the WAL too. */
int perf_checkpoint(sqlite3 *db, bool truncate);

/* queue_open - the database file opened again for the writers' queue;
 * -1 without a queue.  Close it only after SQLite's connection. */
int queue_open(const char *path);

/* queue_enter - wait for this process's turn to write, at most wait_ms;
 * false if it did not come (or fd is -1).  queue_leave lets the next
 * writer go. */
bool queue_enter(int fd, int64_t wait_ms);
void queue_leave(int fd);

#endif
