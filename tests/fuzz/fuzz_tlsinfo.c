/*
 * fuzz_tlsinfo.c - libFuzzer harness for the one thing smtpd parses from
 * mailtls: the line after the handshake (tlsinfo.c).  Whatever the
 * bytes, the parser must stay in bounds, and a line it accepts must be
 * exactly what the formatter writes for the fields it found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tlsinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_info info;
	char line[TLS_INFO_LINE_MAX + 1];
	size_t n;

	if (tls_info_parse((const char *)data, size, &info) != TLS_LINE_OK)
		return 0;
	n = tls_info_format(&info, line, sizeof line);
	/* The round trip: the accepted bytes and a LF, or "-" for no SNI. */
	if (n != size + 1 || memcmp(line, data, size) != 0 || line[size] != '\n')
		abort();
	return 0;
}
