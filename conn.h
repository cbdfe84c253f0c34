/*
 * conn.h - what smtpd and pop3d share around a session: the connection
 * a super-server hands them (which descriptor, who is at the other end,
 * closing it gently), the options both take, offering TLS, and entering
 * the sandbox.
 */
#ifndef SMTPD_CONN_H
#define SMTPD_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "io.h"
#include "log.h"
#include "starttls.h"
#include "tlsinfo.h"

/* conn_std_fds - make sure fds 0-2 exist, so that no file opened later
 * becomes fd 2 and receives a stray message. */
void conn_std_fds(void);

/*
 * conn_fd - the client's connection: fd 3 when systemd passes one
 * (LISTEN_FDS=1 for our pid, the protocol of sd_listen_fds(3)), else
 * stdin.  On a bad handover: -1, with the reason in err.
 */
int conn_fd(const char *prog, char *err, size_t errlen);

/*
 * conn_peer - the peer's IP address as text into buf ("" when unknown):
 * from the socket, or when fd is not an IP socket from the environment
 * of the super-server or relay (REMOTE_ADDR, TCPREMOTEIP).  *network: fd is an IP
 * socket; *loopback: the peer is 127.0.0.0/8 or ::1.
 */
void conn_peer(int fd, char *buf, size_t cap, bool *network, bool *loopback);

/* conn_linger - end our side of a network connection, then read and
 * drop what the client still sends for a moment, so that a reset does
 * not destroy our last reply. */
void conn_linger(struct io *io);

#define CONN_DEFAULT_DB		   "/var/lib/smtpd/mail.db"
#define CONN_TLS_HANDSHAKE_DEFAULT 30 /* seconds: a handshake is a few round trips */

/* What smtpd and pop3d are both told on their command line. */
struct conn_options {
	const char *db;			   /* --db */
	const char *hostname;		   /* --hostname; conn_options_done: the host's */
	unsigned timeout, session_timeout; /* --timeout, --session-timeout: seconds */
	enum log_target log;		   /* --log */
	struct tls_helper tls;		   /* --tls-cert, --tls-key, --tls-helper, ... */
};

/* CONN_LONGOPTS - the getopt_long(3) entries that conn_option takes,
 * for the program's own table. */
/* clang-format off */
#define CONN_LONGOPTS                                                                              \
	{"db", required_argument, NULL, 'd'},                                                      \
	{"hostname", required_argument, NULL, 'H'},                                                \
	{"timeout", required_argument, NULL, 't'},                                                 \
	{"session-timeout", required_argument, NULL, 'T'},                                         \
	{"log", required_argument, NULL, 'l'},                                                     \
	{"tls-cert", required_argument, NULL, 'c'},                                                \
	{"tls-key", required_argument, NULL, 'k'},                                                 \
	{"tls-helper", required_argument, NULL, 'x'},                                              \
	{"tls-handshake-timeout", required_argument, NULL, 'w'}
/* clang-format on */

/* conn_option - if c (getopt_long's value) is one of CONN_LONGOPTS, take
 * its argument into co and return true; false for any other.  A bad
 * value exits 2 with a message (cli_error). */
bool conn_option(int c, const char *arg, struct conn_options *co);

/* conn_options_done - after the last option: --tls-cert and --tls-key
 * go together (else exit 2), and the defaults that depend on the rest
 * (the host's name, mailtls beside this program, mailtls's log and idle
 * time). */
void conn_options_done(struct conn_options *co);

/*
 * conn_offer_tls - with --tls-cert and --tls-key, make STARTTLS (STLS)
 * possible: check the files and start the helper's standby (before the
 * sandbox).  true when it is ready; a certificate that is set but
 * unusable is logged ("<verb> not offered") and false returned, as
 * without the options: mail is then served without TLS.
 */
bool conn_offer_tls(struct conn_options *co, struct io *io, const char *addr, const char *verb);

/*
 * conn_implicit_tls - TLS that mailtls --implicit set up in front of us,
 * as it says in TLS_PROTOCOL and TLS_CIPHER; NULL without, or when the
 * connection is a network socket (then it cannot be so).
 */
const struct tls_info *conn_implicit_tls(bool network);

/*
 * conn_confine - confine this process to the database's directory and
 * spool_dir for good (sandbox.c), once the log, the database and the
 * connection are open and before the client's first byte is read.  A
 * kernel without Landlock is logged and accepted.  false if the sandbox
 * could not be applied (logged with field, e.g. the client): the
 * process must not go on.
 */
bool conn_confine(const char *db, const char *spool_dir, struct log_field field);

#endif
