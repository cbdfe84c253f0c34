/*
 * checkpointer.c - hold the mailbox database open and checkpoint it.
 *
 * Every session is a short-lived process.  When the last connection to
 * a WAL database closes, SQLite checkpoints and the next process starts
 * from a cold index; both cost fsyncs and reads on every connection.  A
 * process that keeps one connection open spares the sessions all of it:
 * their commit becomes their only fsync, and this process copies the
 * WAL into the database file in the background (PASSIVE, so it never
 * makes a session wait).  The sessions work without it; they are only
 * slower.
 */
#include "checkpointer.h"

#include <signal.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"

#define CHECKPOINT_INTERVAL_MS 1000

static volatile sig_atomic_t stopping;

/* on_signal - ask the loop to end. */
static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int checkpointer_run(struct store *st, const char *path)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
	struct timespec pause = {CHECKPOINT_INTERVAL_MS / 1000,
				 (CHECKPOINT_INTERVAL_MS % 1000) * 1000000L};
	struct log_field f[] = {{"DB", path}, {"REASON", ""}};
	char err[512];

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_event(LOG_INFO, f, 1, "checkpointer started");
	while (!stopping) {
		nanosleep(&pause, NULL);
		if (!stopping && store_checkpoint(st, 0, err, sizeof err) != STORE_OK) {
			f[1].value = err;
			log_event(LOG_WARNING, f, 2, "checkpoint failed");
		}
	}
	if (store_checkpoint(st, 1, err, sizeof err) != STORE_OK) {
		f[1].value = err;
		log_event(LOG_WARNING, f, 2, "final checkpoint failed");
	}
	store_close(st);
	log_event(LOG_INFO, f, 1, "checkpointer stopped");
	return 0;
}
