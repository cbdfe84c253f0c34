/*
 * password.c - checking a password (see password.h), with libxcrypt's
 * crypt_rn(), the call Debian's pam_unix uses for /etc/shadow.
 */
#include "password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

bool password_matches(const char *password, const char *hash)
{
	/* struct crypt_data is 32 KiB: on the heap, not the stack. */
	struct crypt_data *cd = calloc(1, sizeof *cd);
	const char *out;
	bool ok = false;

	if (!cd)
		return false;
	out = crypt_rn(password, hash, cd, (int)sizeof *cd);
	/* On failure libxcrypt returns NULL or a string starting with '*',
	 * which no hash starts with. */
	if (out && out[0] != '*' && hash[0] != '\0')
		ok = strcmp(out, hash) == 0;
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}
