/*
 * fuzz_pop3.c - libFuzzer harness: arbitrary client bytes through the
 * real POP3 session code into a real store.
 *
 * Each input is one whole session, read from a memory file; replies go
 * to /dev/null.  The database is a real SQLite file on tmpfs, made once
 * with the mailbox tool's own functions: account "alice", password
 * "pw" (a cheap SHA-256 crypt, so that logins do not dominate), and
 * messages that exercise the stuffing (after smtpd's trace header):
 * lines starting with ".", a body without a final CR LF, a NUL.  When the fuzzer has deleted
 * them all (DELE then QUIT), they are delivered again.  STLS succeeds at
 * once, without TLS, so that the session after it is fuzzed too.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../admin.h"
#include "../../io.h"
#include "../../log.h"
#include "../../mailstore.h"
#include "../../pop3.h"
#include "../../spool.h"
#include "../../store.h"

/* fake_starttls - TLS "comes up" at once on the same input, so that
 * the rest of it runs as the session after STLS does. */
static enum starttls_result fake_starttls(void *ctx, struct io *io, struct tls_info *info)
{
	(void)ctx, (void)io;
	*info = (struct tls_info){.protocol = "TLSv1.3", .cipher = "TLS_AES_128_GCM_SHA256"};
	return STARTTLS_OK;
}

static struct store *store;
static int devnull;
static int64_t alice;
static const struct pop3_config cfg = {
	.hostname = "pop.test",
	.plaintext_login = true,
	.fail_delay_ms = 0,
	.starttls = fake_starttls,
};

#define BODY(s)                                                                                    \
	{                                                                                          \
		s, sizeof s - 1                                                                    \
	} /* the length counts a NUL inside */
static const struct {
	const char *text;
	size_t len;
} bodies[] = {
	BODY(".first line\r\nSubject: x\r\n\r\n.\r\n..\r\nbody\r\n"),
	BODY("Subject: no end\r\n\r\nlast line without CR LF"),
	BODY("Subject: nul\r\n\r\na\0b\r\nbare\nlf\r\n"),
	BODY(""),
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* deliver_all - put the messages into alice's mailbox. */
static void deliver_all(void)
{
	struct recipient r = {.addr = "Alice@Example.com"};
	struct envelope env = {.helo = "fuzz.example",
			       .client_addr = "",
			       .protocol = "ESMTP",
			       .mail_from = "f@example.org",
			       .rcpt = &r,
			       .nrcpt = 1};
	struct spool sp;
	char err[256];
	int64_t id;

	for (size_t i = 0; i < sizeof bodies / sizeof *bodies; i++) {
		spool_init(&sp, "/dev/shm");
		spool_write(&sp, bodies[i].text, bodies[i].len);
		if (store_deliver(store, &env, &sp, &id, err, sizeof err) != STORE_OK) {
			fprintf(stderr, "store_deliver: %s\n", err);
			exit(1);
		}
		spool_reset(&sp);
	}
}

/* LLVMFuzzerInitialize - one store with one account and /dev/null. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/dev/shm/pop3-fuzz-XXXXXX", db[64], err[256];
	char *addr[] = {"alice@example.com"};
	char hash[MAILSTORE_HASH_MAX];

	(void)argc;
	(void)argv;
	if (!mkdtemp(path)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(db, sizeof db, "%s/mail.db", path);
	if (!(store = store_open(db, err, sizeof err)) ||
	    !admin_user_add(store, "alice",
			    "$5$rounds=1000$fuzzsaltfuzzsalt$"
			    "VSEAyiK9FbiUltUwbYEm0mzjE2i5UGp4WdvcrDLfL23",
			    addr, 1, err, sizeof err) ||
	    mailstore_account(store, "alice", &alice, hash, sizeof hash, err, sizeof err) !=
		    STORE_OK) {
		fprintf(stderr, "fixture: %s\n", err);
		exit(1);
	}
	deliver_all();
	devnull = open("/dev/null", O_WRONLY);
	log_name("pop3d");
	log_open(LOG_TO_SYSLOG);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in = memfd_create("client", 0);
	struct mail *m;
	size_t n;
	uint32_t uv;
	char err[256];
	struct io io;

	if (in < 0 || write(in, data, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) != 0)
		abort();
	if (mailstore_list(store, alice, &m, &n, &uv, err, sizeof err) != STORE_OK)
		abort();
	free(m);
	if (n == 0)
		deliver_all();
	io_init(&io, in, devnull, 5, 60);
	pop3_run(&cfg, &io, store, "192.0.2.1");
	close(in);
	return 0;
}
