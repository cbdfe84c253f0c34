/*
 * transaction.c - one mail transaction's data and memory (see
 * transaction.h).
 */
#include "transaction.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void tx_rcpt_list(const struct transaction *tx, char *buf, size_t cap)
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

void tx_envelope(const struct transaction *tx, struct envelope *env)
{
	env->mail_from = tx->from.addr;
	env->body_type = tx->mail.body;
	env->smtputf8 = tx->mail.smtputf8;
	env->dsn_ret = tx->mail.ret;
	env->dsn_envid = tx->mail.envid[0] ? tx->mail.envid : NULL;
	env->rcpt = tx->rcpt;
	env->nrcpt = tx->nrcpt;
}
