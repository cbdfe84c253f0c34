/*
 * conn.h - the connection a super-server hands a protocol program:
 * which descriptor it is, who is at the other end, and closing it
 * gently: what smtpd and pop3d share.
 */
#ifndef SMTPD_CONN_H
#define SMTPD_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include "io.h"
#include "log.h"

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
