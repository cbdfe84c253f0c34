/*
 * transaction.h - one mail transaction (RFC 5321 3.3): the sender, the
 * recipients and the message text as it arrives.
 *
 * It lives from MAIL to the end of the message, RSET, HELO/EHLO or the
 * end of the session, and tx_reset() ends it every time.  Plain data and
 * the memory it owns: the session decides what goes in.
 */
#ifndef SMTPD_TRANSACTION_H
#define SMTPD_TRANSACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "body.h"
#include "envelope.h"
#include "esmtp.h"
#include "parse.h"
#include "reply.h"
#include "spool.h"
#include "store.h"

struct transaction {
	struct path from;	 /* MAIL's reverse path */
	struct mail_params mail; /* MAIL's parameters */
	struct recipient *rcpt;	 /* each in one block of its own */
	size_t nrcpt, cap;
	struct spool spool;	 /* the message text so far */
	struct body_result body; /* its size, and what is wrong with it */
	bool chunk_cr;		 /* the last BDAT chunk ended in CR */
	enum reply failed;	 /* RP_OK, or the refusal that the rest of
				    a BDAT message gets (RFC 3030 2) */
};

/* tx_init - an empty transaction; the spool's files go in spool_dir. */
void tx_init(struct transaction *tx, const char *spool_dir);

/* tx_reset - forget the transaction: recipients freed, text dropped. */
void tx_reset(struct transaction *tx);

/* tx_free - tx_reset, and free what an empty transaction keeps. */
void tx_free(struct transaction *tx);

/* tx_add_rcpt - keep a copy of addr and its DSN parameters; false when
 * out of memory (nothing added). */
bool tx_add_rcpt(struct transaction *tx, const char *addr, const struct rcpt_params *rp);

/* tx_verdict - what the text received so far allows, before any store:
 * RP_OK, or the refusal (bare CR/LF, over max_size, the spool failed)
 * with its reason in err. */
enum reply tx_verdict(const struct transaction *tx, uint64_t max_size, char *err, size_t cap);

/* Who sent a message: what the session knows that the envelope and the
 * log need. */
struct origin {
	const char *by;		 /* this server's name */
	const char *helo;	 /* as sent */
	const char *client_addr; /* "" when unknown */
	bool esmtp;		 /* EHLO, not HELO */
	const char *tls_version; /* "TLSv1.3", or NULL without TLS */
	const char *tls_cipher;	 /* the IANA cipher suite, or NULL */
};

/* tx_store - hand the message down to the store (store.h); RP_QUEUED
 * with *id set, or the refusal its answer maps to, with err set. */
enum reply tx_store(struct transaction *tx, struct store *st, const struct origin *o, int64_t *id,
		    char *err, size_t cap);

/* tx_log - the one log line for a message: accepted with id (r is
 * RP_QUEUED), or refused with r and why. */
void tx_log(const struct transaction *tx, const struct origin *o, enum reply r, int64_t id,
	    const char *why);

#endif
