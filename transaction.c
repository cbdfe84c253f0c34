/*
 * transaction.c - one mail transaction's data and memory (see
 * transaction.h).
 */
#include "transaction.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

void tx_init(struct transaction *tx, const char *spool_dir)
{
	memset(tx, 0, sizeof *tx);
	spool_init(&tx->spool, spool_dir);
	tx->failed = RP_OK;
}

void tx_reset(struct transaction *tx)
{
	for (size_t i = 0; i < tx->nrcpt; i++)
		free((char *)tx->rcpt[i].addr);
	tx->nrcpt = 0;
	tx->from.addr[0] = '\0';
	memset(&tx->mail, 0, sizeof tx->mail);
	memset(&tx->body, 0, sizeof tx->body);
	tx->chunk_cr = false;
	tx->failed = RP_OK;
	spool_reset(&tx->spool);
}

void tx_free(struct transaction *tx)
{
	tx_reset(tx);
	free(tx->rcpt);
	tx->rcpt = NULL;
	tx->cap = 0;
}

bool tx_add_rcpt(struct transaction *tx, const char *addr, const struct rcpt_params *rp)
{
	size_t a = strlen(addr) + 1, n = strlen(rp->notify) + 1, o = strlen(rp->orcpt) + 1;
	char *block;

	if (tx->nrcpt == tx->cap) {
		size_t cap = tx->cap ? tx->cap * 2 : 8;
		struct recipient *more = realloc(tx->rcpt, cap * sizeof *more);
		if (!more)
			return false;
		tx->rcpt = more;
		tx->cap = cap;
	}
	if (!(block = malloc(a + n + o)))
		return false;
	memcpy(block, addr, a);
	memcpy(block + a, rp->notify, n);
	memcpy(block + a + n, rp->orcpt, o);
	tx->rcpt[tx->nrcpt++] = (struct recipient){
		.addr = block,
		.notify = n > 1 ? block + a : NULL,
		.orcpt = o > 1 ? block + a + n : NULL,
	};
	return true;
}

/* rcpt_list - the recipients, comma-separated, cut with "..." to fit
 * buf (cap bytes, cap > 4), for the log. */
static void rcpt_list(const struct transaction *tx, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < tx->nrcpt; i++) {
		int n = snprintf(buf + len, cap - len, "%s%s", i ? "," : "", tx->rcpt[i].addr);
		if (n < 0 || (size_t)n >= cap - len) {
			snprintf(buf + cap - 4, 4, "...");
			return;
		}
		len += (size_t)n;
	}
}

enum reply tx_verdict(const struct transaction *tx, uint64_t max_size, char *err, size_t cap)
{
	if (tx->body.bare_eol) {
		snprintf(err, cap, "bare CR or LF in message text");
		return RP_BARE_EOL;
	}
	if (tx->body.too_big) {
		snprintf(err, cap, "message larger than %" PRIu64 " bytes", max_size);
		return RP_TOO_BIG;
	}
	if (tx->spool.failed) {
		snprintf(err, cap, "spool: %s", strerror(tx->spool.err));
		return tx->spool.err == ENOSPC || tx->spool.err == EDQUOT ? RP_STORE_FULL
									  : RP_STORE_TEMP;
	}
	return RP_OK;
}

void tx_log(const struct transaction *tx, const struct origin *o, enum reply r, int64_t id,
	    const char *why)
{
	char size[24], nrcpt[24], idtext[24], rcpts[1024];
	struct log_field f[] = {
		{"CLIENT", o->client_addr},
		{"HELO", o->helo},
		{"FROM", tx->from.addr},
		{"NRCPT", nrcpt},
		{"RCPT", rcpts},
		{"SIZE", size},
		{"REPLY", reply_code(r)},
		{"DSN", reply_dsn(r)},
		{r == RP_QUEUED ? "ID" : "REASON", r == RP_QUEUED ? idtext : why},
	};

	snprintf(size, sizeof size, "%" PRIu64, tx->body.size);
	snprintf(nrcpt, sizeof nrcpt, "%zu", tx->nrcpt);
	snprintf(idtext, sizeof idtext, "%" PRId64, id);
	rcpt_list(tx, rcpts, sizeof rcpts);
	log_event(r == RP_QUEUED ? LOG_INFO : LOG_NOTICE, f, sizeof f / sizeof *f,
		  r == RP_QUEUED ? "message accepted" : "message refused");
}

/* protocol - the "with" of Received: (RFC 3848, RFC 6531 3.7.3); RFC
 * 3848 names no protocol for HELO over TLS. */
static const char *protocol(const struct transaction *tx, const struct origin *o)
{
	bool tls = o->tls_version != NULL;

	if (tx->mail.smtputf8)
		return tls ? "UTF8SMTPS" : "UTF8SMTP";
	if (!o->esmtp)
		return "SMTP";
	return tls ? "ESMTPS" : "ESMTP";
}

enum reply tx_store(struct transaction *tx, struct store *st, const struct origin *o, int64_t *id,
		    char *err, size_t cap)
{
	struct envelope env = {
		.received = time(NULL),
		.by = o->by,
		.helo = o->helo,
		.client_addr = o->client_addr,
		.protocol = protocol(tx, o),
		.tls_version = o->tls_version,
		.tls_cipher = o->tls_cipher,
		.mail_from = tx->from.addr,
		.body_type = tx->mail.body,
		.smtputf8 = tx->mail.smtputf8,
		.dsn_ret = tx->mail.ret,
		.dsn_envid = tx->mail.envid[0] ? tx->mail.envid : NULL,
		.rcpt = tx->rcpt,
		.nrcpt = tx->nrcpt,
	};

	/* The store's answer maps to a reply class (RFC 3463 X.3.x). */
	switch (store_deliver(st, &env, &tx->spool, id, err, cap)) {
	case STORE_OK:
		return RP_QUEUED;
	case STORE_FULL:
		return RP_STORE_FULL;
	case STORE_PERM:
		return RP_STORE_PERM;
	case STORE_TEMP:
		break;
	}
	return RP_STORE_TEMP;
}
