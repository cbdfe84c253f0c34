/*
 * checkpointer.h - smtpd --checkpointer: the one long-lived process.
 */
#ifndef SMTPD_CHECKPOINTER_H
#define SMTPD_CHECKPOINTER_H

/*
 * checkpointer_run - open (or create) the database at path, hold it open
 * and checkpoint its WAL every CHECKPOINT_INTERVAL_MS until SIGTERM or
 * SIGINT; then empty the WAL and return 0.  Returns 2 if the database
 * cannot be opened (a setup error: the reason is on stderr and in the log).
 */
int checkpointer_run(const char *path);

#endif
