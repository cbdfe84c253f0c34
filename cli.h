/*
 * cli.h - what the programs' command lines share: one way to refuse a
 * bad option (exit 2, never half-configured), numbers within a range,
 * the log target, and this machine's name.
 */
#ifndef SMTPD_CLI_H
#define SMTPD_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

/* A bad command line or configuration: the process never starts. */
#define EXIT_USAGE 2

/* cli_init - name the program in the messages below (static string). */
void cli_init(const char *prog);

/*
 * cli_error - say what is wrong and exit EXIT_USAGE.  On stderr, with a
 * pointer to --help; under inetd stderr is the client's socket, so the
 * message goes to syslog instead.
 */
void cli_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/*
 * cli_other - the cases every option switch ends with, for getopt_long's
 * answer c ('h' for --help, 'V' for --version, ':' for a missing value):
 * print usage or the version and exit 0, or refuse the option.
 */
void cli_other(int c, char **argv, const char *usage) __attribute__((noreturn));

/* cli_number - the decimal s, from min to max, or cli_error naming what
 * (an option as written, "--timeout", or an argument's name). */
uint64_t cli_number(const char *what, const char *s, uint64_t min, uint64_t max);

/* cli_log_target - auto, journal, syslog or stderr, or cli_error. */
enum log_target cli_log_target(const char *s);

/* cli_is_domain - the whole of s is a domain name (RFC 5321 Domain). */
bool cli_is_domain(const char *s);

/* cli_hostname - this machine's name if it is a domain, or "localhost". */
const char *cli_hostname(void);

#endif
