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

#include "body.h"
#include "envelope.h"
#include "esmtp.h"
#include "parse.h"
#include "reply.h"
#include "spool.h"

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

/* tx_rcpt_list - the recipients, comma-separated, cut with "..." to fit
 * buf (cap bytes, cap > 4), for the log. */
void tx_rcpt_list(const struct transaction *tx, char *buf, size_t cap);

/* tx_envelope - fill env's sender, parameters and recipients; they point
 * into tx and are valid until tx changes. */
void tx_envelope(const struct transaction *tx, struct envelope *env);

#endif
