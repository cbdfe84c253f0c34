#!/usr/bin/env python3
"""pop3.py - the POP3 side of the tests: what pop3d should send for a
stored message, and real-client sessions (Python's poplib, raw sockets)
checked against the database byte for byte.

Used from tests/pop3.bats as `python3 tests/pop3.py COMMAND ARGS...`;
each command exits non-zero with a message on stderr when a check fails.

  expect DB ID top|retr [LINES]  print the octets RETR (or TOP ID LINES)
                                 must send for message ID, stuffed, ".",
                                 CR LF, written independently of pop3d
  poplib HOST PORT USER PASS DB [plain|stls|ssl CAFILE]
                                 log in with poplib and read everything:
                                 CAPA, STAT, LIST, UIDL, every RETR and
                                 TOP n 0, each compared with the database;
                                 over STLS, or TLS from the start, when told
  hold HOST PORT USER PASS FILE  log in, write "in" to FILE, then wait
                                 for stdin to close (a session that
                                 keeps its maildrop lock)
  tlsscript HOST PORT CAFILE BEFORE AFTER
                                 send the lines BEFORE (separated by "|"),
                                 then STLS, then the lines AFTER under
                                 TLS, one at a time; print every reply
  raw HOST PORT HEX              send these bytes in one write after the
                                 greeting; print every reply until close
  authplain AUTHZ USER PASS      the base64 of PLAIN's response
"""
import base64
import poplib
import socket
import sqlite3
import ssl
import sys


def fail(msg):
    sys.stderr.write("pop3.py: " + msg + "\n")
    sys.exit(1)


def body(db, mid):
    con = sqlite3.connect(db, timeout=10)
    try:
        row = con.execute("SELECT body FROM messages WHERE id = ?", (mid,)).fetchone()
    finally:
        con.close()
    if row is None:
        fail("no message %d" % mid)
    return bytes(row[0])


def lines_of(data):
    """Split at LF, keeping each line's ending; the last may have none."""
    out = []
    start = 0
    while True:
        i = data.find(b"\n", start)
        if i < 0:
            if start < len(data):
                out.append(data[start:])
            return out
        out.append(data[start:i + 1])
        start = i + 1


def message_part(data, top_lines=None):
    """The message octets RETR (top_lines None) or TOP sends, unstuffed."""
    if top_lines is None:
        return data
    out = []
    in_header = True
    left = top_lines
    for line in lines_of(data):
        if not in_header and left == 0:
            break
        out.append(line)
        if in_header:
            if line in (b"\r\n", b"\n"):
                in_header = False
        elif line.endswith(b"\n"):
            left -= 1
    return b"".join(out)


def on_the_wire(part):
    """Stuff every line that starts with ".", end with CR LF, then "."."""
    out = b"".join((b"." + l if l.startswith(b".") else l) for l in lines_of(part))
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out + b".\r\n"


def cmd_expect(db, mid, kind, lines=None):
    data = body(db, int(mid))
    part = message_part(data, int(lines) if kind == "top" else None)
    sys.stdout.buffer.write(on_the_wire(part))


def mailbox(db, user):
    """(id, body) of the account's messages, oldest first, by the
    schema's definition of a mailbox (not pop3d's query)."""
    con = sqlite3.connect(db, timeout=10)
    try:
        rows = con.execute(
            "SELECT m.id, m.body FROM messages m WHERE m.id IN ("
            " SELECT r.message_id FROM recipients r, addresses a, accounts c"
            " WHERE lower(r.address) = lower(a.address) AND a.account_id = c.id AND c.name = ?)"
            " AND m.id NOT IN (SELECT s.message_id FROM mailbox_state s, accounts c"
            " WHERE s.account_id = c.id AND c.name = ? AND s.deleted_at IS NOT NULL)"
            " ORDER BY m.id", (user, user)).fetchall()
        uv = int(con.execute("SELECT value FROM meta WHERE name = 'uidvalidity'").fetchone()[0])
    finally:
        con.close()
    return [(r[0], bytes(r[1])) for r in rows], uv


def retrieved(resp_lines):
    """poplib's lines (ending removed, unstuffed) back to octets."""
    return b"".join(l + b"\r\n" for l in resp_lines)


def cmd_poplib(host, port, user, password, db, mode="plain", cafile=None):
    want, uv = mailbox(db, user)
    ctx = ssl.create_default_context(cafile=cafile) if cafile else None
    if mode == "ssl":
        p = poplib.POP3_SSL(host, int(port), timeout=30, context=ctx)
    else:
        p = poplib.POP3(host, int(port), timeout=30)
    try:
        if mode == "stls":
            before = p.capa()
            if "STLS" not in before:
                fail("CAPA before TLS lacks STLS: %r" % before)
            p.stls(context=ctx)
        caps = p.capa()
        if "STLS" in caps:
            fail("CAPA under TLS still offers STLS")
        for c in ("TOP", "UIDL", "USER", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"):
            if c not in caps:
                fail("CAPA lacks %s: %r" % (c, caps))
        if caps.get("SASL") != ["PLAIN"]:
            fail("CAPA SASL is %r" % caps.get("SASL"))
        p.user(user)
        p.pass_(password)
        count, octets = p.stat()
        sizes = [len(b) + (0 if b.endswith(b"\r\n") else 2) for _, b in want]
        if count != len(want) or octets != sum(sizes):
            fail("STAT %d %d, want %d %d" % (count, octets, len(want), sum(sizes)))
        resp, listing, _ = p.list()
        got = [tuple(int(x) for x in l.split()) for l in listing]
        if got != [(i + 1, s) for i, s in enumerate(sizes)]:
            fail("LIST %r, want sizes %r" % (got, sizes))
        resp, uids, _ = p.uidl()
        wantu = [b"%d %08x%08x" % (i + 1, mid, uv) for i, (mid, _) in enumerate(want)]
        if uids != wantu:
            fail("UIDL %r, want %r" % (uids, wantu))
        total = 0
        for i, (mid, data) in enumerate(want):
            resp, msg, n = p.retr(i + 1)
            expect = data if data.endswith(b"\r\n") else data + b"\r\n"
            if retrieved(msg) != expect:
                fail("RETR %d differs from message %d" % (i + 1, mid))
            if resp != b"+OK %d octets" % sizes[i]:
                fail("RETR %d answered %r" % (i + 1, resp))
            resp, msg, n = p.top(i + 1, 0)
            head = message_part(data, 0)
            if not head.endswith(b"\r\n"):
                head += b"\r\n"
            if retrieved(msg) != head:
                fail("TOP %d 0 differs from the header of message %d" % (i + 1, mid))
            total += len(data)
        resp = p.quit()
        if not resp.startswith(b"+OK"):
            fail("QUIT answered %r" % resp)
    finally:
        p.close()
    print("%d messages, %d octets, all equal" % (len(want), total))


def cmd_hold(host, port, user, password, flag):
    p = poplib.POP3(host, int(port), timeout=30)
    p.user(user)
    p.pass_(password)
    with open(flag, "w") as f:
        f.write("in\n")
    sys.stdin.read()
    p.quit()


def cmd_raw(host, port, hexbytes):
    s = socket.create_connection((host, int(port)), timeout=10)
    f = s.makefile("rb")
    greeting = f.readline()
    sys.stdout.buffer.write(greeting)
    s.sendall(bytes.fromhex(hexbytes))
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()


def cmd_tlsscript(host, port, cafile, before, after):
    s = socket.create_connection((host, int(port)), timeout=10)
    f = s.makefile("rb")

    def reply(multi=False):
        out = [f.readline()]
        if multi and out[0].startswith(b"+OK"):
            while out[-1] != b".\r\n":
                out.append(f.readline())
        sys.stdout.buffer.write(b"".join(out))
        return out[0]

    def send(line):
        s.sendall(line.encode() + b"\r\n")
        reply(line.upper() in ("CAPA", "LIST", "UIDL"))

    reply()
    for line in filter(None, before.split("|")):
        send(line)
    s.sendall(b"STLS\r\n")
    if not reply().startswith(b"+OK"):
        sys.exit(1)
    f.close()
    s = ssl.create_default_context(cafile=cafile).wrap_socket(s, server_hostname="mx.test")
    f = s.makefile("rb")
    for line in filter(None, after.split("|")):
        send(line)
    s.close()


def cmd_authplain(authz, user, password):
    raw = authz.encode() + b"\0" + user.encode() + b"\0" + password.encode()
    print(base64.b64encode(raw).decode())


def main():
    cmds = {"expect": cmd_expect, "poplib": cmd_poplib, "hold": cmd_hold,
            "raw": cmd_raw, "authplain": cmd_authplain, "tlsscript": cmd_tlsscript}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        fail("usage: see the head of this file")
    try:
        cmds[sys.argv[1]](*sys.argv[2:])
    except poplib.error_proto as e:
        fail("server said %r" % (e.args,))


if __name__ == "__main__":
    main()
