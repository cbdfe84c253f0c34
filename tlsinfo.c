/*
 * tlsinfo.c - the line mailtls sends the protocol process (see
 * tlsinfo.h).  Strict on purpose: the parser accepts only what the
 * formatter can produce, so a confused or hostile peer on the socket
 * cannot slip anything into a Received: header or the database.
 */
#include "tlsinfo.h"

#include <string.h>

/* is_cipher_char - a byte of an IANA cipher suite name. */
static bool is_cipher_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* cipher_valid - 1 to TLS_CIPHER_MAX name characters. */
static bool cipher_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TLS_CIPHER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_cipher_char(s[i]))
			return false;
	return true;
}

/* protocol_valid - one of the two versions mailtls allows. */
static bool protocol_valid(const char *s)
{
	return strcmp(s, "TLSv1.2") == 0 || strcmp(s, "TLSv1.3") == 0;
}

bool tls_sni_valid(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0 || n > TLS_SNI_MAX)
		return false;
	/* Letters, digits, '-' and '_' in labels of 1 to 63, split by dots. */
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (is_cipher_char(c) || c == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

size_t tls_info_format(const struct tls_info *info, char *buf, size_t cap)
{
	const char *sni = tls_sni_valid(info->sni) ? info->sni : "-";
	size_t need = 4 + strlen(info->protocol) + 1 + strlen(info->cipher) + 1 + strlen(sni) + 1;

	if (!protocol_valid(info->protocol) || !cipher_valid(info->cipher) || need >= cap ||
	    need > TLS_INFO_LINE_MAX)
		return 0;
	strcpy(buf, "tls ");
	strcat(buf, info->protocol);
	strcat(buf, " ");
	strcat(buf, info->cipher);
	strcat(buf, " ");
	strcat(buf, sni);
	strcat(buf, "\n");
	return need;
}

/* field - copy the next space-ended field of [*p, end) into out (cap
 * bytes); false if it is empty or too long. */
static bool field(const char **p, const char *end, char *out, size_t cap)
{
	const char *sp = memchr(*p, ' ', (size_t)(end - *p));
	size_t n = (size_t)((sp ? sp : end) - *p);

	if (n == 0 || n >= cap || memchr(*p, '\0', n))
		return false;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n + (sp ? 1 : 0);
	return true;
}

enum tls_line tls_info_parse(const char *buf, size_t len, struct tls_info *info)
{
	const char *p = buf + 4, *end = buf + len;
	char sni[TLS_SNI_MAX + 1];

	memset(info, 0, sizeof *info);
	if (len == sizeof TLS_FAILED_LINE - 2 && memcmp(buf, TLS_FAILED_LINE, len) == 0)
		return TLS_LINE_FAILED;
	if (len >= TLS_INFO_LINE_MAX || len < 4 || memcmp(buf, "tls ", 4) != 0)
		goto bad;
	if (!field(&p, end, info->protocol, sizeof info->protocol) ||
	    !field(&p, end, info->cipher, sizeof info->cipher) || !field(&p, end, sni, sizeof sni))
		goto bad;
	/* Exactly three fields, and the last one not followed by a space. */
	if (p != end || buf[len - 1] == ' ')
		goto bad;
	if (!protocol_valid(info->protocol) || !cipher_valid(info->cipher))
		goto bad;
	if (strcmp(sni, "-") != 0) {
		if (!tls_sni_valid(sni))
			goto bad;
		strcpy(info->sni, sni);
	}
	return TLS_LINE_OK;
bad:
	memset(info, 0, sizeof *info);
	return TLS_LINE_BAD;
}
