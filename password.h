/*
 * password.h - checking a password against a crypt(3) hash.
 */
#ifndef SMTPD_PASSWORD_H
#define SMTPD_PASSWORD_H

#include <stdbool.h>

/*
 * password_matches - does password hash to hash?  hash is a whole
 * crypt(3) string as libxcrypt reads it: yescrypt ($y$), bcrypt ($2b$),
 * SHA-512 ($6$) and the rest it supports.  The work area is wiped.
 */
bool password_matches(const char *password, const char *hash);

#endif
