/*
 * fuzz_session.c - libFuzzer harness: arbitrary client bytes through the
 * real session code into a real store.
 *
 * Each input is one whole session: the bytes a client might send, read
 * from a memory file, so the session never waits.  Replies go to
 * /dev/null.  The database is a real SQLite file on tmpfs (fsync there
 * costs nothing), created once and shared by all runs, as the server's
 * processes share theirs.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../io.h"
#include "../../log.h"
#include "../../session.h"
#include "../../store.h"

static struct store *store;
static int devnull;

/* fake_starttls - TLS "established" without a helper: the session goes
 * on in the same stream as if inside TLS.  (A memory file always polls
 * readable, so the session refuses STARTTLS as pipelined input before
 * it gets here; its checks are what is fuzzed.) */
static enum starttls_result fake_starttls(void *ctx, struct io *io, struct tls_info *info)
{
	(void)ctx;
	(void)io;
	strcpy(info->protocol, "TLSv1.3");
	strcpy(info->cipher, "TLS_AES_128_GCM_SHA256");
	info->sni[0] = '\0';
	return STARTTLS_OK;
}

static const char *const domains[] = {"example.org", "example.com"};
static struct config cfg = {
	.hostname = "mx.test",
	.max_size = 100000, /* small, so the size limit is reached often */
	.max_recipients = 5,
	.domains = domains,
	.ndomains = 2,
	.spool_dir = "/dev/shm",
	.starttls = fake_starttls,
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerInitialize - one store and one /dev/null for every run. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/dev/shm/smtpd-fuzz-XXXXXX", db[64], err[256];

	(void)argc;
	(void)argv;
	if (!mkdtemp(path)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(db, sizeof db, "%s/mail.db", path);
	if (!(store = store_open(db, err, sizeof err))) {
		fprintf(stderr, "store_open: %s\n", err);
		exit(1);
	}
	devnull = open("/dev/null", O_WRONLY);
	log_open(LOG_TO_SYSLOG);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in = memfd_create("client", 0);
	struct io io;

	if (in < 0 || write(in, data, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) != 0)
		abort();
	io_init(&io, in, devnull, 5, 60);
	session_run(&cfg, &io, store, "192.0.2.1");
	close(in);
	return 0;
}
