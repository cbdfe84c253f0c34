/*
 * esmtp.c - MAIL and RCPT parameters (see esmtp.h).  Each check quotes
 * the grammar it implements.
 */
#include "esmtp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* A parameter: its keyword and the check that stores its value. */
struct param {
	const char *key;
	const char *(*check)(const char *value, void *out); /* NULL if ok */
};

/* size-value ::= 1*20DIGIT (RFC 1870 3) */
static const char *check_size(const char *v, void *out)
{
	struct mail_params *mp = out;
	char *end;

	if (!v || *v < '0' || *v > '9' || strlen(v) > 20)
		return "SIZE=number";
	errno = 0;
	mp->size = strtoull(v, &end, 10);
	if (*end)
		return "SIZE=number";
	/* Twenty digits may exceed 64 bits; that is only very large. */
	if (errno == ERANGE)
		mp->size = UINT64_MAX;
	mp->has_size = true;
	return NULL;
}

/* body-value ::= "7BIT" / "8BITMIME" (RFC 6152 2); BINARYMIME is not
 * offered, since it needs BINARYMIME-aware storage and reporting. */
static const char *check_body(const char *v, void *out)
{
	struct mail_params *mp = out;

	if (v && strcasecmp(v, "7BIT") == 0)
		mp->body = "7BIT";
	else if (v && strcasecmp(v, "8BITMIME") == 0)
		mp->body = "8BITMIME";
	else
		return "BODY=7BIT or BODY=8BITMIME";
	return NULL;
}

/* "SMTPUTF8", no value (RFC 6531 3.4) */
static const char *check_smtputf8(const char *v, void *out)
{
	if (v)
		return "SMTPUTF8 takes no value";
	((struct mail_params *)out)->smtputf8 = true;
	return NULL;
}

/* ret-value = "FULL" / "HDRS" (RFC 3461 4.3) */
static const char *check_ret(const char *v, void *out)
{
	struct mail_params *mp = out;

	if (v && strcasecmp(v, "FULL") == 0)
		mp->ret = "FULL";
	else if (v && strcasecmp(v, "HDRS") == 0)
		mp->ret = "HDRS";
	else
		return "RET=FULL or RET=HDRS";
	return NULL;
}

/* envid-value = xtext, at most 100 characters (RFC 3461 4.4) */
static const char *check_envid(const char *v, void *out)
{
	struct mail_params *mp = out;

	if (!v || strlen(v) > DSN_ENVID_MAX || !xtext_valid(v))
		return "ENVID=xtext of at most 100 characters";
	strcpy(mp->envid, v);
	return NULL;
}

/*
 * notify-esmtp-value = "NEVER" / 1#notify-list-element
 * notify-list-element = "SUCCESS" / "FAILURE" / "DELAY"   (RFC 3461 4.1)
 * Kept upper-cased, each element once.
 */
static const char *check_notify(const char *v, void *out)
{
	static const char *const words[] = {"SUCCESS", "FAILURE", "DELAY"};
	struct rcpt_params *rp = out;
	unsigned seen = 0;

	if (v && strcasecmp(v, "NEVER") == 0) {
		strcpy(rp->notify, "NEVER");
		return NULL;
	}
	rp->notify[0] = '\0';
	for (;;) {
		size_t n = v ? strcspn(v, ",") : 0, i;
		for (i = 0; i < 3; i++)
			if (n == strlen(words[i]) && strncasecmp(v, words[i], n) == 0)
				break;
		if (i == 3 || (seen & (1u << i)))
			return "NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY";
		seen |= 1u << i;
		if (rp->notify[0])
			strcat(rp->notify, ",");
		strcat(rp->notify, words[i]);
		v += n;
		if (*v == '\0')
			return NULL;
		v++; /* the comma: another element must follow */
	}
}

/*
 * orcpt-parameter = "ORCPT=" original-recipient-address
 * original-recipient-address = addr-type ";" xtext
 * addr-type = atom                                 (RFC 3461 4.2)
 * utf-8-type-addr = "utf-8;" utf-8-enc-addr          (RFC 6533 3)
 * Type "utf-8" has its own grammar, with raw UTF-8 (utf-8-addr-unitext)
 * only in an SMTPUTF8 transaction.  Kept as sent.
 */
static const char *check_orcpt(const char *v, void *out)
{
	struct rcpt_params *rp = out;
	const char *semi = v ? strchr(v, ';') : NULL;

	if (!semi || semi == v || strlen(v) > DSN_ORCPT_MAX)
		return "ORCPT=addr-type;xtext";
	for (const char *c = v; c < semi; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '-'))
			return "ORCPT=addr-type;xtext";
	if (semi - v == 5 && strncasecmp(v, "utf-8", 5) == 0) {
		if (!utf8_addr_valid(semi + 1, true))
			return "ORCPT=utf-8;address, non-ASCII as UTF-8 or \\x{HEX}";
		if (!rp->smtputf8 && !utf8_addr_valid(semi + 1, false))
			return "ORCPT=utf-8 with raw UTF-8 needs SMTPUTF8";
	} else if (!xtext_valid(semi + 1)) {
		return "ORCPT=addr-type;xtext";
	}
	strcpy(rp->orcpt, v);
	return NULL;
}

static const struct param mail_table[] = {
	{"SIZE", check_size}, {"BODY", check_body},   {"SMTPUTF8", check_smtputf8},
	{"RET", check_ret},   {"ENVID", check_envid},
};

static const struct param rcpt_table[] = {
	{"NOTIFY", check_notify},
	{"ORCPT", check_orcpt},
};

/* parse - run each parameter in s through its check in table. */
static enum reply parse(const char *s, const struct param *table, size_t n, void *out,
			const char **why)
{
	char buf[SMTP_PARAM_LINE_MAX + 1], *key, *value;
	unsigned seen = 0;
	int r;

	if (strlen(s) >= sizeof buf) {
		*why = "parameters too long";
		return RP_PARAM_BAD;
	}
	while ((r = parse_param(&s, buf, &key, &value)) > 0) {
		size_t i = 0;
		while (i < n && strcasecmp(key, table[i].key) != 0)
			i++;
		if (i == n)
			return RP_PARAM_UNKNOWN;
		if (seen & (1u << i)) {
			*why = "parameter given twice";
			return RP_PARAM_BAD;
		}
		seen |= 1u << i;
		if ((*why = table[i].check(value, out)))
			return RP_PARAM_BAD;
	}
	if (r < 0) {
		*why = "parameter syntax";
		return RP_PARAM_BAD;
	}
	return RP_OK;
}

enum reply esmtp_mail(const char *s, struct mail_params *mp, const char **why)
{
	memset(mp, 0, sizeof *mp);
	return parse(s, mail_table, sizeof mail_table / sizeof *mail_table, mp, why);
}

enum reply esmtp_rcpt(const char *s, bool smtputf8, struct rcpt_params *rp, const char **why)
{
	memset(rp, 0, sizeof *rp);
	rp->smtputf8 = smtputf8;
	return parse(s, rcpt_table, sizeof rcpt_table / sizeof *rcpt_table, rp, why);
}
