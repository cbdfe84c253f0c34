#!/usr/bin/python3
"""tls_client.py - the load client of bench/tls, the same for every
server: SESSIONS worker processes, each connecting again and again,
one message of exactly SIZE bytes (headers and body, CRLF lines) per
connection, until TOTAL messages are sent.

  starttls: EHLO, STARTTLS, handshake, EHLO, MAIL, RCPT, DATA, QUIT
  plain:    EHLO, MAIL, RCPT, DATA, QUIT

MAIL, RCPT and DATA go in one write (PIPELINING, which both servers
advertise).  Every connection is a full handshake: no session is
resumed.  No certificate check, as for opportunistic TLS on port 25.

usage: tls_client.py HOST PORT SIZE SESSIONS TOTAL starttls|plain

On success prints one line, "sent N wall SECONDS VERSION CIPHER" (the
protocol and cipher of the last session, "-" for plain), and exits 0.
Any unexpected reply or failed handshake: a message on stderr, exit 1.
The wall time runs from the first connection to the last reply, with
the worker processes already started.
"""
import ctypes
import multiprocessing
import signal
import socket
import ssl
import sys
import time

HELO = "client.bench.example"
SENDER = "sender@bench.example"
RECIPIENT = "rcpt@example.com"


class Refused(Exception):
    pass


def expect(f, code):
    """expect - read one (multi-line) reply; Refused unless it is code."""
    while True:
        line = f.readline()
        if not line.startswith(code):
            raise Refused(f"wanted {code.decode()}, got {line!r}")
        if line[3:4] != b"-":
            return


def message(size, n):
    """message - exactly size bytes: a header, then 78-byte lines of x
    (the last one shorter)."""
    pad = ""
    while True:
        head = (f"From: <{SENDER}>\r\nTo: <{RECIPIENT}>\r\nSubject: bench {n}{pad}\r\n"
                f"Message-ID: <{n}@client.bench.example>\r\n"
                "Date: Mon, 30 Nov 2026 07:00:00 +0000\r\n\r\n").encode()
        lines, rest = divmod(size - len(head), 78)
        if rest != 1:  # a line needs room for its CRLF
            break
        pad += "."
    data = head + (b"x" * 76 + b"\r\n") * lines + (b"x" * (rest - 2) + b"\r\n" if rest else b"")
    assert len(data) == size
    return data


def one(host, port, data, ctx):
    """one - one connection, one message; (version, cipher) of its TLS,
    or ("-", "-") for plain."""
    with socket.create_connection((host, port), timeout=30) as raw:
        f = raw.makefile("rb")
        expect(f, b"220")
        raw.sendall(f"EHLO {HELO}\r\n".encode())
        expect(f, b"250")
        conn, got = raw, ("-", "-")
        if ctx is not None:
            raw.sendall(b"STARTTLS\r\n")
            expect(f, b"220")
            conn = ctx.wrap_socket(raw, server_hostname="mx.bench.example")
            f = conn.makefile("rb")
            got = (conn.version(), conn.cipher()[0])
            conn.sendall(f"EHLO {HELO}\r\n".encode())
            expect(f, b"250")
        conn.sendall(f"MAIL FROM:<{SENDER}>\r\nRCPT TO:<{RECIPIENT}>\r\nDATA\r\n".encode())
        expect(f, b"250")
        expect(f, b"250")
        expect(f, b"354")
        conn.sendall(data + b".\r\n")
        expect(f, b"250")
        conn.sendall(b"QUIT\r\n")
        expect(f, b"221")
        if conn is not raw:
            conn.close()
        return got


def orphan_guard():
    """orphan_guard - a worker dies with its parent (PR_SET_PDEATHSIG),
    so a client killed at the bench's deadline sends no more."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL, 0, 0, 0)


def worker(args):
    """worker - count sessions in a row; the last one's (version, cipher)."""
    host, port, size, count, mode, first = args
    ctx = None
    if mode == "starttls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    got = ("-", "-")
    for i in range(count):
        got = one(host, port, message(size, first + i), ctx)
    return got


def main():
    if len(sys.argv) != 7 or sys.argv[6] not in ("starttls", "plain"):
        sys.exit(__doc__.split("\n\n")[2])
    host, (port, size, sessions, total), mode = sys.argv[1], map(int, sys.argv[2:6]), sys.argv[6]
    share = [total // sessions + (i < total % sessions) for i in range(sessions)]
    jobs, first = [], 0
    for n in share:
        jobs.append((host, port, size, n, mode, first))
        first += n
    with multiprocessing.get_context("fork").Pool(sessions, orphan_guard) as pool:
        pool.map(abs, range(sessions))  # every worker started before the clock
        t0 = time.monotonic()
        try:
            got = pool.map(worker, jobs, chunksize=1)
        except (Refused, OSError, ssl.SSLError) as e:
            print(f"tls_client.py: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        wall = time.monotonic() - t0
    version, cipher = got[-1]
    print(f"sent {total} wall {wall:.6f} {version} {cipher}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
