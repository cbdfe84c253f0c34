/*
 * parse.c - RFC 5321 grammar (see parse.h).  Each function quotes the
 * ABNF it implements.
 */
#include "parse.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* atext (RFC 5322 3.2.3) */
static bool is_atext(char c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * sub-domain = Let-dig [Ldh-str]
 * Ldh-str    = *( ALPHA / DIGIT / "-" ) Let-dig
 */
static size_t sub_domain(const char *s)
{
	size_t n = 0;

	if (!is_alpha(s[0]) && !is_digit(s[0]))
		return 0;
	while (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '-')
		n++;
	if (s[n - 1] == '-')
		return 0;
	return n;
}

/* Domain = sub-domain *("." sub-domain) */
size_t parse_domain(const char *s)
{
	size_t n = 0;

	for (;;) {
		size_t k = sub_domain(s + n);
		if (k == 0)
			return 0;
		n += k;
		if (s[n] != '.' || !(is_alpha(s[n + 1]) || is_digit(s[n + 1])))
			break;
		n++;
	}
	return n <= SMTP_DOMAIN_MAX ? n : 0;
}

/*
 * address-literal  = "[" ( IPv4-address-literal /
 *                    IPv6-address-literal /
 *                    General-address-literal ) "]"
 * IPv6-address-literal = "IPv6:" IPv6-addr
 * General-address-literal = Standardized-tag ":" 1*dcontent
 * dcontent = %d33-90 / %d94-126
 */
size_t parse_address_literal(const char *s)
{
	char text[SMTP_DOMAIN_MAX + 1];
	unsigned char bin[16];
	const char *close;
	size_t len;

	if (s[0] != '[' || !(close = strchr(s, ']')))
		return 0;
	len = (size_t)(close - s - 1);
	if (len == 0 || len >= sizeof text)
		return 0;
	memcpy(text, s + 1, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, bin) == 1)
		return len + 2;
	if (strncasecmp(text, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, text + 5, bin) == 1 ? len + 2 : 0;
	/* A general literal: a tag (Ldh-str) then ":" and dcontent. */
	size_t tag = sub_domain(text);
	if (tag == 0 || text[tag] != ':' || text[tag + 1] == '\0')
		return 0;
	for (const char *c = text + tag + 1; *c; c++)
		if (*c < 33 || *c > 126 || (*c >= 91 && *c <= 93))
			return 0;
	return len + 2;
}

/*
 * Local-part = Dot-string / Quoted-string
 * Dot-string = Atom *("."  Atom)
 * Quoted-string = DQUOTE *QcontentSMTP DQUOTE
 * QcontentSMTP = qtextSMTP / quoted-pairSMTP
 * quoted-pairSMTP = %d92 %d32-126
 * qtextSMTP = %d32-33 / %d35-91 / %d93-126
 */
static size_t local_part(const char *s)
{
	size_t n = 0;

	if (s[0] == '"') {
		for (n = 1; s[n] != '"'; n++) {
			if (s[n] == '\\' && s[n + 1] >= 32 && s[n + 1] <= 126)
				n++;
			else if (s[n] < 32 || s[n] > 126 || s[n] == '\\')
				return 0;
		}
		return n + 1;
	}
	for (;;) {
		size_t start = n;
		while (is_atext(s[n]))
			n++;
		if (n == start)
			return 0;
		if (s[n] != '.')
			return n;
		n++;
	}
}

/* A-d-l = At-domain *( "," At-domain ); At-domain = "@" Domain */
static size_t source_route(const char *s)
{
	size_t n = 0;

	for (;;) {
		size_t d;
		if (s[n] != '@' || (d = parse_domain(s + n + 1)) == 0)
			return 0;
		n += 1 + d;
		if (s[n] != ',')
			return n;
		n++;
	}
}

const char *parse_path(const char *s, struct path *p, const char **rest, bool null_ok, bool bare_ok)
{
	const char *start = s;
	size_t n, d;

	if (*s != '<')
		return "address must be in angle brackets";
	s++;
	if (*s == '>') {
		if (!null_ok)
			return "empty address";
		p->addr[0] = '\0';
		p->at = 0;
		p->literal = false;
		*rest = s + 1;
		return NULL;
	}
	if (*s == '@') {
		if ((n = source_route(s)) == 0 || s[n] != ':')
			return "bad source route";
		s += n + 1;
	}
	if ((n = local_part(s)) == 0)
		return "bad local part";
	p->at = 0;
	p->literal = false;
	if (s[n] == '@') {
		p->at = n;
		d = parse_domain(s + n + 1);
		if (d == 0) {
			d = parse_address_literal(s + n + 1);
			p->literal = d > 0;
		}
		if (d == 0)
			return "bad domain";
		n += 1 + d;
	} else if (!bare_ok) {
		return "domain missing";
	}
	if (s[n] != '>')
		return "unexpected character in address";
	/* RFC 5321 4.5.3.1.3: 256 octets for the path, brackets included. */
	if ((size_t)(s + n + 1 - start) > SMTP_PATH_MAX)
		return "address too long";
	memcpy(p->addr, s, n);
	p->addr[n] = '\0';
	*rest = s + n + 1;
	return NULL;
}

/*
 * esmtp-param   = esmtp-keyword ["=" esmtp-value]
 * esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 * esmtp-value   = 1*(%d33-60 / %d62-126)
 */
int parse_param(const char **s, char *buf, char **key, char **value)
{
	const char *p = *s;
	size_t n = 0;

	if (*p == '\0')
		return 0;
	if (*p != ' ')
		return -1;
	while (*p == ' ')
		p++;
	if (*p == '\0')
		return 0;
	*key = buf;
	*value = NULL;
	if (!is_alpha(*p) && !is_digit(*p))
		return -1;
	while (is_alpha(*p) || is_digit(*p) || *p == '-')
		buf[n++] = *p++;
	buf[n++] = '\0';
	if (*p == '=') {
		p++;
		*value = buf + n;
		if (*p < 33 || *p > 126 || *p == '=')
			return -1;
		while (*p >= 33 && *p <= 126 && *p != '=')
			buf[n++] = *p++;
		buf[n++] = '\0';
	}
	if (*p != ' ' && *p != '\0')
		return -1;
	*s = p;
	return 1;
}
