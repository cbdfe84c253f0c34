/*
 * parse.h - RFC 5321 grammar: paths, domains and ESMTP parameters.
 *
 * Pure functions over NUL-terminated strings; nothing here allocates.
 */
#ifndef SMTPD_PARSE_H
#define SMTPD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"

struct path {
	char addr[SMTP_PATH_MAX + 1]; /* mailbox as sent, no brackets */
	size_t at;		      /* index of the domain's '@', or 0 */
	bool literal;		      /* the domain is an address literal */
	bool utf8;		      /* it has non-ASCII (RFC 6531) */
};

/*
 * parse_path - parse "<" [ A-d-l ":" ] Mailbox ">" at s (RFC 5321 4.1.2);
 * "<>" too when null_ok.  A source route is checked and dropped (RFC
 * 5321 C).  A mailbox without a domain is accepted only when bare_ok.
 * UTF-8 is taken where RFC 6531 allows it and flagged in p->utf8; the
 * caller decides whether the transaction may carry it.
 * On success fills p, sets *rest to the byte after ">" and returns NULL;
 * otherwise returns a short reason.
 */
const char *parse_path(const char *s, struct path *p, const char **rest, bool null_ok,
		       bool bare_ok);

/* parse_domain - length of the Domain at s (RFC 5321 4.1.2), or 0. */
size_t parse_domain(const char *s);

/* parse_domain_utf8 - the same, with U-labels (RFC 6531 3.3) if utf8. */
size_t parse_domain_utf8(const char *s, bool utf8);

/* parse_address_literal - length of "[...]" at s (RFC 5321 4.1.3), or 0. */
size_t parse_address_literal(const char *s);

/* utf8_valid - is s[0..len) well-formed UTF-8 (RFC 3629)? */
bool utf8_valid(const char *s, size_t len);

/* xtext_valid - is s an xtext (RFC 3461 4)? */
bool xtext_valid(const char *s);

/*
 * utf8_addr_valid - is s the address of an RFC 6533 "utf-8" ORCPT, with
 * \x{HEX} escapes; raw UTF-8 only if unitext (the transaction uses
 * SMTPUTF8)?
 */
bool utf8_addr_valid(const char *s, bool unitext);

/*
 * parse_param - split the next " KEYWORD[=VALUE]" (RFC 5321 4.1.2
 * esmtp-param, with RFC 6531's UTF-8 in the value) off *s.  Returns 1
 * with key/value pointing into buf (value NULL when absent), 0 at the
 * end, -1 on bad syntax.  buf has room for strlen(*s) + 1 bytes.
 */
int parse_param(const char **s, char *buf, char **key, char **value);

/* parse_bdat - BDAT's arguments (RFC 3030 3), "SIZE" or "SIZE LAST" (any
 * case); false if they cannot be read. */
bool parse_bdat(const char *arg, uint64_t *size, bool *last);

/* parse_keyword - does arg start with keyword kw, in any case ("FROM:")?
 * Returns what follows it, or NULL. */
const char *parse_keyword(const char *arg, const char *kw);

/* parse_clean - is the command line printable US-ASCII and space only,
 * with bytes of 0x80 and up too where utf8 (RFC 6531; the command checks
 * the encoding)? */
bool parse_clean(const char *line, size_t len, bool utf8);

/*
 * parse_helo - the argument of HELO or EHLO: one word (trailing spaces
 * dropped) of at most SMTP_DOMAIN_MAX bytes of valid UTF-8.  NULL with
 * its length in *len and whether it has non-ASCII in *utf8; otherwise the
 * reason, with *len 0 when there is not exactly one word.
 */
const char *parse_helo(const char *arg, size_t *len, bool *utf8);

#endif
