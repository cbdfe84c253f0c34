/*
 * tlsinfo.h - what mailtls tells the protocol process about a TLS
 * session it set up, and what its exit status means.
 *
 * Shared by mailtls (which writes) and smtpd (which reads); neither
 * side needs a TLS library for it.  The message is one line, the first
 * bytes mailtls writes on the plaintext socket after the handshake:
 *
 *     "tls" SP protocol SP cipher SP sni LF
 *
 * protocol is "TLSv1.2" or "TLSv1.3"; cipher is an IANA cipher suite
 * name (letters, digits, '_'); sni is the host name the client asked
 * for, or "-".  At most TLS_INFO_LINE_MAX bytes with the LF; anything
 * else is refused whole.  When the handshake fails, the line is
 * "failed" LF instead (the client's failure); no line at all before the
 * end of the stream means mailtls failed on our side (a key it could
 * not read, a crash).
 */
#ifndef SMTPD_TLSINFO_H
#define SMTPD_TLSINFO_H

#include <stdbool.h>
#include <stddef.h>

/* "tls " + protocol + cipher + a domain name (RFC 1035: 255) + spaces. */
#define TLS_PROTOCOL_MAX  16
#define TLS_CIPHER_MAX	  64
#define TLS_SNI_MAX	  255
#define TLS_INFO_LINE_MAX (4 + TLS_PROTOCOL_MAX + 1 + TLS_CIPHER_MAX + 1 + TLS_SNI_MAX + 1)

/* mailtls --starttls --wait-start: the byte on fd 3 that starts the
 * handshake. */
#define TLS_START_BYTE 'S'

/* mailtls's exit status: 0 when the relayed session ended, or: */
#define MAILTLS_EXIT_FAULT  1 /* our side: certificate, key, memory */
#define MAILTLS_EXIT_USAGE  2 /* a bad command line (cli.h's EXIT_USAGE) */
#define MAILTLS_EXIT_CLIENT 3 /* the handshake failed or timed out */

struct tls_info {
	char protocol[TLS_PROTOCOL_MAX + 1];
	char cipher[TLS_CIPHER_MAX + 1];
	char sni[TLS_SNI_MAX + 1]; /* "" when the client sent none */
};

/*
 * tls_info_format - the line for info into buf (cap bytes, NUL added),
 * without a valid SNI if info's is not a host name.  Returns its
 * length without the NUL, or 0 if a field is invalid or it does not fit.
 */
size_t tls_info_format(const struct tls_info *info, char *buf, size_t cap);

#define TLS_FAILED_LINE "failed\n"

enum tls_line {
	TLS_LINE_OK,	 /* TLS is up; *info is filled */
	TLS_LINE_FAILED, /* the client failed the handshake */
	TLS_LINE_BAD,	 /* anything else */
};

/*
 * tls_info_parse - read the line in buf (len bytes, the LF removed)
 * into *info.  TLS_LINE_OK only if every field is valid; *info is
 * cleared otherwise.
 */
enum tls_line tls_info_parse(const char *buf, size_t len, struct tls_info *info);

/* tls_sni_valid - s is a host name fit for the line and the log. */
bool tls_sni_valid(const char *s);

#endif
