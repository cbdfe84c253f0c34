#!/usr/bin/env python3
"""tlsclient.py - the TLS clients the bats tests need that are not a
command-line tool: Python's smtplib over implicit TLS and STARTTLS, and
raw misbehaving clients (a stalled handshake, garbage instead of a
ClientHello, plaintext pipelined behind STARTTLS).

usage: tlsclient.py COMMAND HOST PORT [ARG...]; prints what the server
did, one fact a line, for the test to compare exactly.
"""
import smtplib
import socket
import ssl
import sys

TIMEOUT = 30  # a guard against a hung server, never a synchronisation


def context(cafile):
    """A client context that trusts only the test's certificate (its
    names include the loopback addresses, so the host name is checked)."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    return ctx


def send(s, mail_from, rcpt, data_file):
    """Send one message from data_file (bytes as given) and print the result."""
    with open(data_file, "rb") as f:
        data = f.read()
    s.ehlo("client.test")
    refused = s.sendmail(mail_from, [rcpt], data)
    print("refused", len(refused))
    print("cipher", s.sock.version(), s.sock.cipher()[0])
    s.quit()


def cmd_smtps(host, port, cafile, mail_from, rcpt, data_file):
    """smtplib.SMTP_SSL: SMTP over implicit TLS (port 465 style)."""
    s = smtplib.SMTP_SSL(host, int(port), timeout=TIMEOUT, context=context(cafile))
    send(s, mail_from, rcpt, data_file)


def cmd_starttls(host, port, cafile, mail_from, rcpt, data_file):
    """smtplib.SMTP + starttls(): EHLO, STARTTLS, EHLO again, one message."""
    s = smtplib.SMTP(host, int(port), timeout=TIMEOUT)
    s.ehlo("client.test")
    print("starttls offered", s.has_extn("starttls"))
    code, _ = s.starttls(context=context(cafile))
    print("starttls", code)
    s.ehlo("client.test")
    print("starttls offered", s.has_extn("starttls"))
    send(s, mail_from, rcpt, data_file)


def read_to_eof(sock):
    """Everything the server sends until it closes; b"" if it says nothing."""
    got = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += chunk
    return got


def client_hello(tls_max=ssl.TLSVersion.TLSv1_3, tls_min=ssl.TLSVersion.TLSv1_2):
    """The bytes of a real ClientHello, made in memory."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version, ctx.maximum_version = tls_min, tls_max
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="mx.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def smtp_lines(sock, f):
    """Read one SMTP reply (all its lines) from the file f; print it."""
    while True:
        line = f.readline()
        if not line:
            print("eof")
            return False
        print(line.decode("ascii", "replace").rstrip("\r\n"))
        if line[3:4] != b"-":
            return True


def starttls_prelude(sock, f):
    """Greeting, EHLO, then the caller sends STARTTLS."""
    smtp_lines(sock, f)
    sock.sendall(b"EHLO client.test\r\n")
    smtp_lines(sock, f)


def cmd_stall(host, port, starttls="no"):
    """Send half a ClientHello and nothing more; print how the server
    ended it (it must close the connection at its handshake deadline)."""
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    if starttls == "starttls":
        f = sock.makefile("rb")
        starttls_prelude(sock, f)
        sock.sendall(b"STARTTLS\r\n")
        smtp_lines(sock, f)
    hello = client_hello()
    sock.sendall(hello[: len(hello) // 2])
    print("closed", len(read_to_eof(sock)) >= 0)


def cmd_garbage(host, port, starttls="no"):
    """Plain text where the ClientHello belongs; print how many bytes
    came back before the server closed."""
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    if starttls == "starttls":
        f = sock.makefile("rb")
        starttls_prelude(sock, f)
        sock.sendall(b"STARTTLS\r\n")
        smtp_lines(sock, f)
    sock.sendall(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\n" * 20)
    got = read_to_eof(sock)
    print("closed", "smtp reply" if b"250" in got or b"354" in got else "no smtp reply")


def cmd_pipelined(host, port, extra):
    """EHLO, then STARTTLS and more in one write (CVE-2011-0411); print
    every reply until the server closes."""
    sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    f = sock.makefile("rb")
    starttls_prelude(sock, f)
    sock.sendall(b"STARTTLS\r\n" + extra.encode().replace(b"\\r\\n", b"\r\n"))
    while smtp_lines(sock, f):
        pass


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"smtps": cmd_smtps, "starttls": cmd_starttls, "stall": cmd_stall,
     "garbage": cmd_garbage, "pipelined": cmd_pipelined}[cmd](*args)


if __name__ == "__main__":
    main()
