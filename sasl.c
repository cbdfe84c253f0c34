/*
 * sasl.c - the PLAIN mechanism (see sasl.h).
 */
#include "sasl.h"

#include <string.h>

#include "limits.h"

/* b64_value - the 6 bits of one base64 character (RFC 4648 4), or -1. */
static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* b64_decode - strict base64, padded to a multiple of 4, into out (cap
 * bytes); the decoded length, or -1. */
static long b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	size_t n = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4], pad = 0;
		for (int j = 0; j < 4; j++) {
			bool last = i + 4 == len;
			if (last && in[i + j] == '=' && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad || (v[j] = b64_value((unsigned char)in[i + j])) < 0)
				return -1;
		}
		unsigned long bits = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
				     (unsigned long)v[2] << 6 | (unsigned long)v[3];
		if (n + 3 - (size_t)pad > cap)
			return -1;
		out[n++] = (unsigned char)(bits >> 16);
		if (pad < 2)
			out[n++] = (unsigned char)(bits >> 8);
		if (pad < 1)
			out[n++] = (unsigned char)bits;
	}
	return (long)n;
}

bool sasl_plain(const char *b64, size_t len, char *authcid, char *passwd, size_t cap)
{
	unsigned char buf[POP3_SASL_MAX + 1];
	long n = b64_decode(b64, len, buf, POP3_SASL_MAX);
	bool ok = false;

	if (n < 0)
		goto out;
	buf[n] = '\0';
	/* authzid NUL authcid NUL passwd, none of them holding a NUL */
	const unsigned char *z = buf, *c, *p;
	if (!(c = memchr(z, '\0', (size_t)n)))
		goto out;
	c++;
	if (!(p = memchr(c, '\0', (size_t)(buf + n - c))))
		goto out;
	p++;
	size_t zlen = (size_t)(c - 1 - z), clen = (size_t)(p - 1 - c), plen = (size_t)(buf + n - p);
	if (memchr(p, '\0', plen) || clen == 0 || plen == 0 || clen >= cap || plen >= cap)
		goto out;
	if (zlen != 0 && (zlen != clen || memcmp(z, c, clen) != 0))
		goto out;
	memcpy(authcid, c, clen + 1);
	memcpy(passwd, p, plen + 1);
	ok = true;
out:
	explicit_bzero(buf, sizeof buf);
	return ok;
}
