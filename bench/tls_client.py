#!/usr/bin/python3
"""tls_client.py - the STARTTLS load client of bench/tls, the same for
every server: SESSIONS worker processes, each connecting again and
again, EHLO, STARTTLS, EHLO, one message of SIZE bytes of text, QUIT,
until TOTAL messages are sent.  No session reuse (each connection is a
full handshake), no certificate check (port 25 style: opportunistic).

usage: tls_client.py HOST PORT SIZE SESSIONS TOTAL
Prints "sent N" and exits 0 if every message got 250, else 1.
"""
import multiprocessing
import socket
import ssl
import sys

HELO = "client.bench.example"


def expect(f, code):
    """Read one reply; fail unless its code is code."""
    while True:
        line = f.readline()
        if not line.startswith(code):
            raise RuntimeError(f"wanted {code}, got {line!r}")
        if line[3:4] != b"-":
            return


def one(host, port, body, ctx):
    """One connection, one message over STARTTLS."""
    with socket.create_connection((host, port), timeout=30) as raw:
        f = raw.makefile("rb")
        expect(f, b"220")
        raw.sendall(f"EHLO {HELO}\r\n".encode())
        expect(f, b"250")
        raw.sendall(b"STARTTLS\r\n")
        expect(f, b"220")
        with ctx.wrap_socket(raw, server_hostname="mx.bench.example") as tls:
            g = tls.makefile("rb")
            tls.sendall(f"EHLO {HELO}\r\n".encode())
            expect(g, b"250")
            tls.sendall(b"MAIL FROM:<sender@bench.example>\r\nRCPT TO:<rcpt@example.com>\r\nDATA\r\n")
            expect(g, b"250")
            expect(g, b"250")
            expect(g, b"354")
            tls.sendall(body + b".\r\n")
            expect(g, b"250")
            tls.sendall(b"QUIT\r\n")
            expect(g, b"221")


def worker(args):
    host, port, size, count = args
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    line = b"x" * 76 + b"\r\n"
    body = b"Subject: bench\r\n\r\n" + line * max(1, (size - 18) // len(line))
    for _ in range(count):
        one(host, port, body, ctx)
    return count


def main():
    host, port, size, sessions, total = sys.argv[1], *map(int, sys.argv[2:6])
    share = [total // sessions + (i < total % sessions) for i in range(sessions)]
    with multiprocessing.Pool(sessions) as pool:
        sent = sum(pool.map(worker, [(host, port, size, n) for n in share]))
    print("sent", sent)
    return 0 if sent == total else 1


if __name__ == "__main__":
    sys.exit(main())
