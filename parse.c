/*
 * parse.c - RFC 5321 grammar (see parse.h).  Each function quotes the
 * ABNF it implements.
 */
#include "parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
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

/* is_8bit - a byte of a UTF-8 sequence; RFC 6531 3.3 lets these stand in
 * atext, qtextSMTP and sub-domain once the whole is valid UTF-8. */
static bool is_8bit(char c)
{
	return (unsigned char)c >= 0x80;
}

/* atext (RFC 5322 3.2.3), and UTF8-non-ascii (RFC 6531 3.3) */
static bool is_atext(char c)
{
	if (is_8bit(c))
		return true;
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* Let-dig, and with u8 a byte of a U-label (RFC 6531 3.3) */
static bool is_let_dig(char c, bool u8)
{
	return is_alpha(c) || is_digit(c) || (u8 && is_8bit(c));
}

/*
 * sub-domain = Let-dig [Ldh-str]
 * Ldh-str    = *( ALPHA / DIGIT / "-" ) Let-dig
 */
static size_t sub_domain(const char *s, bool u8)
{
	size_t n = 0;

	if (!is_let_dig(s[0], u8))
		return 0;
	while (is_let_dig(s[n], u8) || s[n] == '-')
		n++;
	if (s[n - 1] == '-')
		return 0;
	return n;
}

/* Domain = sub-domain *("." sub-domain) */
static size_t domain(const char *s, bool u8)
{
	size_t n = 0;

	for (;;) {
		size_t k = sub_domain(s + n, u8);
		if (k == 0)
			return 0;
		n += k;
		if (s[n] != '.' || !is_let_dig(s[n + 1], u8))
			break;
		n++;
	}
	return n <= SMTP_DOMAIN_MAX ? n : 0;
}

size_t parse_domain(const char *s)
{
	return domain(s, false);
}

size_t parse_domain_utf8(const char *s, bool utf8)
{
	return domain(s, utf8);
}

/*
 * UTF8-2 = %xC2-DF UTF8-tail
 * UTF8-3 = %xE0 %xA0-BF UTF8-tail / %xE1-EC 2( UTF8-tail ) /
 *          %xED %x80-9F UTF8-tail / %xEE-EF 2( UTF8-tail )
 * UTF8-4 = %xF0 %x90-BF 2( UTF8-tail ) / %xF1-F3 3( UTF8-tail ) /
 *          %xF4 %x80-8F 2( UTF8-tail )          (RFC 3629 4)
 */
bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned char c = *p++;
		unsigned char lo = 0x80, hi = 0xBF;
		int tail;

		if (c < 0x80)
			continue;
		if (c >= 0xC2 && c <= 0xDF)
			tail = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			tail = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			tail = 3;
		else
			return false;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
		else if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* past U+10FFFF */
		if (end - p < tail || *p < lo || *p > hi)
			return false;
		for (p++, tail--; tail > 0; tail--, p++)
			if (*p < 0x80 || *p > 0xBF)
				return false;
	}
	return true;
}

/*
 * xtext   = *( xchar / hexchar )
 * xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive,
 *           except for "+" and "=".
 * hexchar = ASCII "+" immediately followed by two upper case
 *           hexadecimal digits                    (RFC 3461 4)
 */
bool xtext_valid(const char *s)
{
	for (; *s; s++) {
		if (*s == '+') {
			for (int i = 1; i <= 2; i++)
				if (!is_digit(s[i]) && !(s[i] >= 'A' && s[i] <= 'F'))
					return false;
			s += 2;
		} else if (*s < 33 || *s > 126 || *s == '=') {
			return false;
		}
	}
	return true;
}

/* hex_digit - the value of a hexadecimal digit (any case), or -1. */
static int hex_digit(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * EmbeddedUnicodeChar = %x5C.78 "{" HEXPOINT "}"  ; "\x{...}" (RFC 6533 3)
 * HEXPOINT is the code point in hexadecimal; taken here as 1 to 6 digits
 * naming a Unicode scalar value other than NUL.  Returns the length of
 * the escape at s, or 0 if it is malformed.
 */
static size_t embedded_char(const char *s)
{
	unsigned long cp = 0;
	size_t n = 3;
	int d;

	if (s[0] != '\\' || s[1] != 'x' || s[2] != '{')
		return 0;
	while ((d = hex_digit(s[n])) >= 0 && n < 9) {
		cp = cp * 16 + (unsigned long)d;
		n++;
	}
	if (n == 3 || s[n] != '}' || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n + 1;
}

/*
 * utf-8-addr-xtext   = 1*(QCHAR / EmbeddedUnicodeChar)
 * utf-8-addr-unitext = 1*(QUCHAR / EmbeddedUnicodeChar)
 * QCHAR  = %x21-2a / %x2c-3c / %x3e-5b / %x5d-7e
 * QUCHAR = QCHAR / UTF8-2 / UTF8-3 / UTF8-4          (RFC 6533 3)
 * xtext's "+" hexchar (RFC 3461 4) is taken too, as older senders use it.
 */
bool utf8_addr_valid(const char *s, bool unitext)
{
	const char *start = s;

	if (!*s)
		return false;
	while (*s) {
		size_t n = 1;

		if (*s == '\\')
			n = embedded_char(s);
		else if (is_8bit(*s))
			n = unitext ? 1 : 0;
		else if (*s == '+')
			n = hex_digit(s[1]) >= 0 && hex_digit(s[2]) >= 0 ? 3 : 0;
		else if (*s < 0x21 || *s > 0x7e || *s == '=')
			n = 0;
		if (n == 0)
			return false;
		s += n;
	}
	return utf8_valid(start, (size_t)(s - start));
}

/*
 * address-literal  = "[" ( IPv4-address-literal /
 *                    IPv6-address-literal /
 *                    General-address-literal ) "]"
 * IPv6-address-literal = "IPv6:" IPv6-addr
 * General-address-literal = Standardized-tag ":" 1*dcontent
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
	/* General-address-literal needs a tag registered with IANA, and
	 * IPv6 is the only one. */
	if (strncasecmp(text, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, text + 5, bin) == 1 ? len + 2 : 0;
	return 0;
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
			else if (!is_8bit(s[n]) && (s[n] < 32 || s[n] > 126 || s[n] == '\\'))
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
		if (s[n] != '@' || (d = domain(s + n + 1, true)) == 0)
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
		p->literal = p->utf8 = false;
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
		d = domain(s + n + 1, true);
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
	if (!utf8_valid(s, n))
		return "invalid UTF-8";
	memcpy(p->addr, s, n);
	p->addr[n] = '\0';
	p->utf8 = false;
	for (size_t i = 0; i < n; i++)
		p->utf8 |= is_8bit(s[i]);
	*rest = s + n + 1;
	return NULL;
}

/* esmtp_char - a byte of esmtp-value: %d33-60 / %d62-126, and with RFC
 * 6531 3.3 UTF8-non-ascii (each parameter's check says where). */
static bool esmtp_char(char c)
{
	return (c >= 33 && c <= 126 && c != '=') || is_8bit(c);
}

/*
 * esmtp-param   = esmtp-keyword ["=" esmtp-value]
 * esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
 * esmtp-value   = 1*(%d33-60 / %d62-126 / UTF8-non-ascii)
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
		if (!esmtp_char(*p))
			return -1;
		while (esmtp_char(*p))
			buf[n++] = *p++;
		buf[n++] = '\0';
	}
	if (*p != ' ' && *p != '\0')
		return -1;
	*s = p;
	return 1;
}

/*
 * bdat-cmd   = "BDAT" SP chunk-size [ SP end-marker ] CR LF
 * chunk-size = 1*DIGIT
 * end-marker = "LAST"                                  (RFC 3030 3)
 */
bool parse_bdat(const char *arg, uint64_t *size, bool *last)
{
	char *end;

	if (!is_digit(*arg) || strspn(arg, "0123456789") > 20)
		return false;
	errno = 0;
	*size = strtoull(arg, &end, 10);
	if (errno == ERANGE)
		return false;
	*last = strcasecmp(end, " LAST") == 0;
	return *last || *end == '\0';
}

const char *parse_keyword(const char *arg, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(arg, kw, n) == 0 ? arg + n : NULL;
}

bool parse_clean(const char *line, size_t len, bool utf8)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f || (c > 0x7f && !utf8))
			return false;
	}
	return true;
}

const char *parse_helo(const char *arg, size_t *len, bool *utf8)
{
	size_t n = strlen(arg);

	while (n > 0 && arg[n - 1] == ' ')
		n--;
	*len = 0;
	*utf8 = false;
	if (n == 0 || memchr(arg, ' ', n))
		return "one host name";
	*len = n;
	if (n > SMTP_DOMAIN_MAX)
		return "host name too long";
	if (!utf8_valid(arg, n))
		return "host name is not valid UTF-8";
	for (size_t i = 0; i < n; i++)
		*utf8 |= is_8bit(arg[i]);
	return NULL;
}
