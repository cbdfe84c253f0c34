/*
 * checkpointer.h - smtpd --checkpointer: the one long-lived process.
 */
#ifndef SMTPD_CHECKPOINTER_H
#define SMTPD_CHECKPOINTER_H

struct store;

/*
 * checkpointer_run - hold the open database st (at path, for the log)
 * and checkpoint its WAL every CHECKPOINT_INTERVAL_MS until SIGTERM or
 * SIGINT; then empty the WAL, close st and return 0.
 */
int checkpointer_run(struct store *st, const char *path);

#endif
