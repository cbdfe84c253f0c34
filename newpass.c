/*
 * newpass.c - reading, generating and hashing passwords (see newpass.h).
 */
#include "newpass.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

/* Random bytes in a generated password: 144 bits, 24 characters. */
#define GENERATED_BYTES 18

/*
 * read_line - one line from fd into buf without its line end; false if
 * it does not fit.  Byte by byte, so that nothing after the line is
 * taken from a pipe.
 */
static bool read_line(int fd, char *buf, size_t cap, size_t *len)
{
	char c;
	ssize_t n;

	*len = 0;
	while ((n = read(fd, &c, 1)) == 1 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		if (c == '\n')
			break;
		if (*len + 1 >= cap)
			return false;
		buf[(*len)++] = c;
	}
	if (*len > 0 && buf[*len - 1] == '\r')
		(*len)--;
	buf[*len] = '\0';
	return true;
}

/* ask - prompt on the terminal tty and read a line with echo off. */
static bool ask(int tty, const char *prompt, char *buf, size_t cap, size_t *len)
{
	struct termios old, quiet;
	bool ok;

	if (tcgetattr(tty, &old) != 0)
		return false;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo goes off before the prompt shows: what is typed after it is
	 * never echoed, and what was typed before it is dropped. */
	tcsetattr(tty, TCSAFLUSH, &quiet);
	(void)!write(tty, prompt, strlen(prompt));
	ok = read_line(tty, buf, cap, len);
	tcsetattr(tty, TCSANOW, &old);
	(void)!write(tty, "\n", 1);
	return ok;
}

bool newpass_read(bool from_stdin, char *buf, size_t cap, char *err, size_t errlen)
{
	char again[NEWPASS_MAX];
	size_t len = 0, len2 = 0;
	const char *why = NULL;
	int tty = -1;

	if (from_stdin) {
		if (!read_line(STDIN_FILENO, buf, cap, &len))
			why = "the password is too long";
	} else if (!isatty(STDIN_FILENO) ||
		   (tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		why = "no terminal to ask for the password on: give --password-stdin or --generate";
	} else {
		if (!ask(tty, "New password: ", buf, cap, &len) ||
		    !ask(tty, "Again: ", again, sizeof again, &len2))
			why = "cannot read the password from the terminal, or it is too long";
		else if (strcmp(buf, again) != 0)
			why = "the passwords differ";
		explicit_bzero(again, sizeof again);
		close(tty);
	}
	if (!why && len == 0)
		why = "empty password";
	if (!why && strlen(buf) != len)
		why = "the password holds a NUL byte";
	if (why) {
		snprintf(err, errlen, "%s", why);
		explicit_bzero(buf, cap);
	}
	return !why;
}

bool newpass_generate(char *buf, size_t cap, char *err, size_t errlen)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-_";
	unsigned char r[GENERATED_BYTES];
	size_t o = 0;

	if (cap < GENERATED_BYTES * 4 / 3 + 1 || getrandom(r, sizeof r, 0) != sizeof r) {
		snprintf(err, errlen, "cannot get random bytes: %s", strerror(errno));
		return false;
	}
	/* Every 3 bytes make 4 characters of 6 bits. */
	for (size_t i = 0; i < sizeof r; i += 3) {
		unsigned long v =
			(unsigned long)r[i] << 16 | (unsigned long)r[i + 1] << 8 | r[i + 2];
		for (int k = 18; k >= 0; k -= 6)
			buf[o++] = alphabet[(v >> k) & 63];
	}
	buf[o] = '\0';
	explicit_bzero(r, sizeof r);
	return true;
}

bool newpass_hash(const char *pass, char *out, char *err, size_t errlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof *cd);
	bool ok = false;

	if (!cd) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt)) {
		snprintf(err, errlen, "cannot make a salt: %s", strerror(errno));
		goto out;
	}
	if (!crypt_rn(pass, salt, cd, sizeof *cd) || cd->output[0] == '*') {
		snprintf(err, errlen, "cannot hash the password: %s", strerror(errno));
		goto out;
	}
	snprintf(out, NEWPASS_HASH_MAX, "%s", cd->output);
	ok = true;
out:
	explicit_bzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

bool newpass_valid_hash(const char *hash)
{
	struct crypt_data *cd;
	const char *tail = strrchr(hash, '$');
	bool ok;

	if (hash[0] != '$' || strlen(hash) >= NEWPASS_HASH_MAX || !tail || !tail[1])
		return false;
	if (!(cd = calloc(1, sizeof *cd)))
		return false;
	/*
	 * Hashing anything with the string as the setting reuses its method,
	 * cost and salt; a well-formed hash gives back a string of the same
	 * length with the same part up to the last '$'.
	 */
	ok = crypt_rn("", hash, cd, sizeof *cd) && cd->output[0] != '*' &&
	     strlen(cd->output) == strlen(hash) &&
	     strncmp(cd->output, hash, (size_t)(tail - hash) + 1) == 0;
	free(cd);
	return ok;
}
