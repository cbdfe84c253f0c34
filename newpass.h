/*
 * newpass.h - new passwords for accounts: read, generated and hashed
 * with crypt(3) (libxcrypt), for the mailbox tool.  Passwords are never
 * printed here, and every buffer that held one is wiped by its owner.
 */
#ifndef SMTPD_NEWPASS_H
#define SMTPD_NEWPASS_H

#include <stdbool.h>
#include <stddef.h>

/* A password, with its NUL: libxcrypt's longest passphrase. */
#define NEWPASS_MAX 512
/* A crypt(3) string, with its NUL. */
#define NEWPASS_HASH_MAX 384

/*
 * newpass_read - a password into buf (cap bytes): the first line of
 * stdin when from_stdin, else asked twice on the terminal with echo
 * off.  False with the reason in err: no terminal, empty, too long,
 * mismatch.
 */
bool newpass_read(bool from_stdin, char *buf, size_t cap, char *err, size_t errlen);

/* newpass_generate - 24 random characters (144 bits) into buf. */
bool newpass_generate(char *buf, size_t cap, char *err, size_t errlen);

/* newpass_hash - a new yescrypt hash ($y$, libxcrypt's default cost)
 * of pass into out (NEWPASS_HASH_MAX bytes). */
bool newpass_hash(const char *pass, char *out, char *err, size_t errlen);

/* newpass_valid_hash - hash is a crypt(3) string that libxcrypt can
 * verify ($y$, $2b$, $6$, ...): what --hash accepts. */
bool newpass_valid_hash(const char *hash);

#endif
