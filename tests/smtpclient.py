#!/usr/bin/env python3
"""tests/smtpclient.py - the Python side of the bats tests, in one place.

The bats files stay transcripts: the commands they send and the replies
they expect.  What needs a real protocol client (smtplib, a raw socket
that waits for the greeting, 200 sessions at once), a process that holds
a lock, or bytes too many to write with printf, is a command here:

    python3 tests/smtpclient.py COMMAND ARG...

(the bats helper `client` runs it).  Each command takes its arguments in
the order its bats caller passes them, exits non-zero with a message when
something it checks is wrong, and writes what the test compares to
stdout or to the files named.

No command starts its clock before the server has answered: waits are
for replies, for end of file or for a file another process creates, each
bounded by WAIT_LIMIT (seconds, from the environment, as the bats
helpers set it) only to turn a hang into a failure.
"""

import os
import sys

# The longest wait for the other side; see WAIT_LIMIT in helpers.bash.
LIMIT = float(os.environ.get("WAIT_LIMIT", "120"))


def unescape(text):
    """TEXT with printf-%b style escapes (\\r, \\n, \\t, \\\\) as bytes."""
    return text.encode("utf-8").decode("unicode_escape").encode("latin-1")


# --- raw sessions -----------------------------------------------------------

def cmd_talk():
    """talk [--host H] [--early] [--sent FILE] [--how FILE] PORT TEXT

    Connect to H (default 127.0.0.1) port PORT, read the greeting (with
    --early, do not: send at once), send TEXT (printf %b escapes), touch
    FILE (--sent) once it is sent, and read until smtpd closes the
    connection.  Everything received, the greeting first, goes to stdout,
    byte for byte; how the connection ended ("closed (FIN)" or "reset
    (RST)") to the --how FILE."""
    import argparse
    import socket
    p = argparse.ArgumentParser(prog="smtpclient.py talk")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--early", action="store_true")
    p.add_argument("--sent")
    p.add_argument("--how")
    p.add_argument("port", type=int)
    p.add_argument("text")
    a = p.parse_args(sys.argv[1:])
    s = socket.create_connection((a.host, a.port), timeout=LIMIT)
    got = b""
    while not a.early and not got.endswith(b"\r\n"):
        chunk = s.recv(1)  # a client waits for the greeting (RFC 5321 3.1)
        if not chunk:
            break
        got += chunk
    s.sendall(unescape(a.text))
    if a.sent:
        open(a.sent, "w").close()
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            how = "reset (RST)"
            break
        except socket.timeout:
            sys.exit(f"smtpd did not close the connection within {LIMIT:g} s")
        if not chunk:
            how = "closed (FIN)"
            break
        got += chunk
    s.close()
    sys.stdout.buffer.write(got)
    if a.how:
        with open(a.how, "w") as f:
            print(how, file=f)


# --- smtplib as a real client -----------------------------------------------
def cmd_sendmail_dots():
    """sendmail-dots PORT MSG MSG2 - smtplib sendmail: MSG to three
    recipients, then MSG2 (no final CR LF) from <> to one."""
    import smtplib
    port = int(sys.argv[1])
    with smtplib.SMTP("127.0.0.1", port, timeout=LIMIT) as s:
        data = open(sys.argv[2], "rb").read()
        refused = s.sendmail("s@example.org", ["a@example.com", "b@example.com", "hidden@example.net"], data)
        assert refused == {}, refused
        data = open(sys.argv[3], "rb").read()
        refused = s.sendmail("", ["c@example.com"], data)
        assert refused == {}, refused


def _send_message(headers, body, utf8=False):
    """_send_message - smtplib send_message of a message with these
    headers and body to port argv[1]; the bytes it transmits: the message
    without Bcc, CR LF lines, headers in UTF-8 when utf8."""
    import copy, email.generator, io, smtplib
    from email.message import EmailMessage
    m = EmailMessage()
    for name, value in headers:
        m[name] = value
    m.set_content(body)
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=LIMIT) as s:
        refused = s.send_message(m)
    assert refused == {}, refused
    c = copy.copy(m)
    del c["Bcc"]
    policy = m.policy.clone(utf8=True) if utf8 else m.policy
    with io.BytesIO() as b:
        email.generator.BytesGenerator(b, policy=policy).flatten(c, linesep="\r\n")
        return b.getvalue()


def cmd_send_message():
    """send-message PORT WANT - smtplib send_message with To, Cc and
    Bcc; writes what it transmits to WANT."""
    data = _send_message([("From", "Sender <s@example.org>"),
                          ("To", "A <a@example.com>, b@example.com"),
                          ("Cc", "c@example.com"), ("Bcc", "secret@example.net"),
                          ("Subject", "send_message")], "Hello.\n.dot line\n")
    assert b"secret" not in data and b"\r\n.dot line\r\n" in data, data
    open(sys.argv[2], "wb").write(data)


def cmd_send_message_utf8():
    """send-message-utf8 PORT WANT ENVELOPE - smtplib send_message of a
    message with UTF-8 addresses in To, Cc and Bcc; writes what it
    transmits to WANT and the envelope the test expects to ENVELOPE."""
    data = _send_message([("From", "Jöran <jöran@exämple.org>"),
                          ("To", "用户 <用户@例子.广告>, b@example.com"),
                          ("Cc", "zoë@example.net"), ("Bcc", "geheim@exämple.org"),
                          ("Subject", "grüße")], "Grüße.\n.dot line\n", utf8=True)
    assert b"geheim" not in data and "Subject: grüße\r\n".encode() in data, data
    open(sys.argv[2], "wb").write(data)
    # The envelope as the test expects it: sender, then To, Bcc, Cc.
    open(sys.argv[3], "w").write("jöran@exämple.org|用户@例子.广告 b@example.com geheim@exämple.org zoë@example.net")


def cmd_ehlo_features():
    """ehlo-features PORT - the greeting and EHLO keywords as smtplib
    sees them, against --max-size 1000000; a message over the size
    refused in MAIL."""
    import smtplib
    s = smtplib.SMTP(timeout=LIMIT)
    code, text = s.connect("127.0.0.1", int(sys.argv[1]))
    assert (code, text) == (220, b"mx.test ESMTP ready"), (code, text)
    code, text = s.ehlo("client.example")
    assert code == 250, code
    assert text == (b"mx.test\nPIPELINING\nSIZE 1000000\n8BITMIME\nENHANCEDSTATUSCODES\n"
                    b"CHUNKING\nSMTPUTF8\nDSN"), text
    want = {"pipelining": "", "size": "1000000", "8bitmime": "", "enhancedstatuscodes": "",
            "chunking": "", "smtputf8": "", "dsn": ""}
    assert s.esmtp_features == want, s.esmtp_features
    # smtplib declares the size in MAIL (SIZE=n); over the limit is refused there.
    try:
        s.sendmail("s@example.org", ["a@example.com"], b"x" * 1000001 + b"\r\n")
        sys.exit("a message over --max-size was accepted")
    except smtplib.SMTPSenderRefused as e:
        assert (e.smtp_code, e.smtp_error) == (552, b"5.3.4 Declared message size exceeds the limit"), e
    assert s.quit() == (221, b"2.0.0 mx.test closing connection")


def cmd_domain_refusal():
    """domain-refusal PORT - against --domain example.com: a recipient
    of another domain refused with 550 5.7.1, the others taken."""
    import smtplib
    refusal = (550, b"5.7.1 Recipient domain is not served here")
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=LIMIT) as s:
        try:
            s.sendmail("s@example.org", ["x@other.example"], b"Subject: no\r\n\r\nno\r\n")
            sys.exit("a message for another domain was accepted")
        except smtplib.SMTPRecipientsRefused as e:
            assert e.recipients == {"x@other.example": refusal}, e.recipients
        # Some refused, some accepted: the message goes to the accepted ones.
        refused = s.sendmail("s@example.org",
                             ["a@example.com", "x@other.example", "B@EXAMPLE.COM", "postmaster"],
                             b"Subject: yes\r\n\r\nyes\r\n")
        assert refused == {"x@other.example": refusal}, refused


def cmd_send_ipv6():
    """send-ipv6 PORT - one message over ::1."""
    import smtplib
    with smtplib.SMTP("::1", int(sys.argv[1]), timeout=LIMIT) as s:
        assert s.sock.family.name == "AF_INET6", s.sock.family
        assert s.sendmail("s@example.org", ["a@example.com"], b"Subject: v6\r\n\r\nhi\r\n") == {}


def cmd_send_fd3():
    """send-fd3 PORT - one message to two recipients."""
    import smtplib
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=LIMIT) as s:
        assert s.sendmail("s@example.org", ["a@example.com", "b@example.com"], b"Subject: fd3\r\n\r\nhi\r\n") == {}


def cmd_send_smtputf8():
    """send-smtputf8 PORT MSG - smtplib with SMTPUTF8: a UTF-8 sender
    and recipients; MSG gets the message; then the same without SMTPUTF8
    is refused."""
    import smtplib
    msg = ("From: Jöran <jöran@exämple.org>\r\nTo: 用户@例子.广告\r\n"
           "Subject: grüße\r\n\r\n你好\r\n.dot\r\n").encode()
    open(sys.argv[2], "wb").write(msg)
    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=LIMIT) as s:
        s.ehlo()
        assert s.has_extn("smtputf8"), s.esmtp_features
        refused = s.sendmail("jöran@exämple.org", ["用户@例子.广告", "b@example.com"], msg,
                             mail_options=["SMTPUTF8"])
        assert refused == {}, refused
        # Without SMTPUTF8 in MAIL (smtplib keeps encoding commands in UTF-8
        # once it has sent one), the server refuses the UTF-8 recipient.
        try:
            s.sendmail("a@example.org", ["用户@例子.广告"], b"x\r\n")
            sys.exit("accepted without SMTPUTF8")
        except smtplib.SMTPRecipientsRefused as e:
            want = (553, b"5.6.7 Non-ASCII address or host name needs SMTPUTF8")
            assert e.recipients == {"用户@例子.广告": want}, e.recipients


def cmd_concurrent_smtplib():
    """concurrent-smtplib PORT DB - 20 smtplib clients at once, 5
    messages each; every 250 is one whole row in DB."""
    import re, smtplib, sqlite3, threading
    port, db = int(sys.argv[1]), sys.argv[2]
    CLIENTS, MESSAGES = 20, 5
    queued, other, lock = {}, [], threading.Lock()
    start = threading.Barrier(CLIENTS, timeout=LIMIT)

    def data(c, m):
        return f"Subject: c{c}m{m}\r\n\r\n.client {c} message {m}\r\n".encode()

    def client(c):
        try:
            with smtplib.SMTP("127.0.0.1", port, local_hostname=f"c{c}.example", timeout=LIMIT) as s:
                start.wait()
                assert s.ehlo()[0] == 250
                for m in range(MESSAGES):
                    code, _ = s.mail(f"c{c}@example.org")
                    assert code == 250, code
                    for r in "ab":
                        code, _ = s.rcpt(f"c{c}m{m}{r}@example.com")
                        assert code == 250, code
                    code, text = s.data(data(c, m))
                    with lock:
                        if code == 250:
                            id = int(re.fullmatch(rb"2\.0\.0 Ok: queued as (\d+)", text)[1])
                            assert id not in queued, f"id {id} given twice"
                            queued[id] = (c, m)
                        else:
                            other.append((c, m, code, text))
        except Exception as e:
            with lock:
                other.append((c, repr(e)))

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * LIMIT)
    assert not any(t.is_alive() for t in threads), "a client hung"
    print(f"{len(queued)} queued, not queued: {other}")

    con = sqlite3.connect(db)
    rows = {id: (helo, frm, bytes(body)) for id, helo, frm, body in
            con.execute("SELECT id, helo, mail_from, body FROM messages")}
    assert len(rows) == len(queued), f"{len(rows)} rows for {len(queued)} replies of 250"
    assert set(rows) == set(queued), set(rows) ^ set(queued)
    for id, (c, m) in queued.items():
        helo, frm, body = rows[id]
        rcpts = [a for a, in con.execute(
            "SELECT address FROM recipients WHERE message_id = ? ORDER BY position", (id,))]
        assert (helo, frm) == (f"c{c}.example", f"c{c}@example.org"), (id, helo, frm)
        assert rcpts == [f"c{c}m{m}a@example.com", f"c{c}m{m}b@example.com"], (id, rcpts)
        assert body.startswith(f"Return-Path: <c{c}@example.org>\r\n".encode()), (id, body)
        assert f"with ESMTP id {id};\r\n".encode() in body, (id, body)
        assert body.endswith(b"\r\n" + data(c, m)), (id, body)
    assert con.execute("SELECT count(*) FROM recipients").fetchone()[0] == 2 * len(rows)
    # A correct server under this light load takes every message.
    assert not other and len(queued) == CLIENTS * MESSAGES, other


# --- faults: locks, kills, load, a full disk --------------------------------
def cmd_hold_lock():
    """hold-lock DB FLAG RELEASE - take DB's write lock with a row
    inserted, touch FLAG, hold it until RELEASE exists (WAIT_LIMIT s at
    most), roll back, touch RELEASE.done."""
    import sqlite3, time
    db, flag, release = sys.argv[1:]
    con = sqlite3.connect(db, isolation_level=None, timeout=LIMIT)
    con.execute("BEGIN IMMEDIATE")
    con.execute("INSERT INTO messages (received_at, helo, client_addr, protocol,"
                " mail_from, size, body) VALUES ('', 'lock holder', '', 'SMTP', '', 0, x'')")
    open(flag, "w").close()
    end = time.time() + LIMIT
    while time.time() < end and not os.path.exists(release):
        time.sleep(0.05)
    con.execute("ROLLBACK")
    con.close()
    open(release + ".done", "w").close()


def cmd_hold_queue():
    """hold-queue DB FLAG - hold the byte lock of smtpd's writers'
    queue on DB, touch FLAG, sleep WAIT_LIMIT s."""
    import fcntl, time
    fd = os.open(sys.argv[1], os.O_RDWR)
    fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0x7fffffff00000000)
    open(sys.argv[2], "w").close()
    time.sleep(LIMIT)


def cmd_locked_session():
    """locked-session SMTPD DB LOG RELEASE OUT - one session: a
    message while a lock holder (hold-lock) keeps the database, then,
    once RELEASE is made and the holder is gone, a second; prints
    "WAITED STATUS BETWEEN" and writes the replies to OUT."""
    import select, sqlite3, subprocess, time
    smtpd, db, log, release, out = sys.argv[1:]
    limit = LIMIT
    p = subprocess.Popen([smtpd, "--db", db, "--hostname", "mx.test", "--log", "stderr"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(log, "ab"))
    got = b""

    def until_replies(n, timeout):
        """Read until got holds n final reply lines, or EOF, or timeout."""
        nonlocal got
        end = time.time() + timeout
        while sum(1 for l in got.split(b"\r\n") if l[3:4] == b" ") < n:
            left = end - time.time()
            if left <= 0 or not select.select([p.stdout], [], [], left)[0]:
                return False
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return False
            got += chunk
        return True

    try:
        p.stdin.write(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
                      b"RCPT TO:<b@example.com>\r\nDATA\r\nSubject: first\r\n\r\nfirst\r\n.\r\n")
        p.stdin.flush()
        t0 = time.time()
        until_replies(6, limit)
        waited = time.time() - t0
        open(release, "w").close()
        end = time.time() + limit
        while not os.path.exists(release + ".done") and time.time() < end:
            time.sleep(0.05)
        con = sqlite3.connect(db, timeout=limit)
        between = con.execute("SELECT (SELECT count(*) FROM messages) || ' ' ||"
                              " (SELECT count(*) FROM recipients)").fetchone()[0]
        con.close()
        p.stdin.write(b"MAIL FROM:<c@example.org>\r\nRCPT TO:<d@example.com>\r\n"
                      b"DATA\r\nSubject: second\r\n\r\nsecond\r\n.\r\nQUIT\r\n")
        p.stdin.flush()
        until_replies(11, limit)
        p.stdin.close()
        status = p.wait(timeout=limit)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    open(out, "wb").write(got)
    print(f"{waited:.1f} {status} {between}")


def cmd_kill_anywhere():
    """kill-anywhere SMTPD DB LOG OUT RUNS BUDGET SEED - sessions
    killed with SIGKILL in the body or the commit; prints a summary line
    and PROBLEM lines; OUT.acked and OUT.sent list the tokens."""
    import random, re, select, subprocess, time
    smtpd, db, log, out, runs, budget, seed = sys.argv[1:]
    runs, budget, rng, limit = int(runs), float(budget), random.Random(int(seed)), LIMIT
    logf = open(log, "ab")
    SIZES = [300, 20_000, 300_000, 2_000_000]

    def text_for(token, size):
        """The message text for token: about size bytes, no leading dots."""
        head = f"Subject: {token}\r\nX-Token: {token}\r\n\r\n".encode()
        tail = f"end {token}\r\n".encode()
        line = (token * 6)[:70].encode() + b"\r\n"
        return head + line * max(0, (size - len(head) - len(tail)) // len(line)) + tail

    class Smtpd:
        def __init__(self):
            self.p = subprocess.Popen([smtpd, "--db", db, "--hostname", "mx.test", "--log", "stderr"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logf)
            self.got = b""
            self.seen = 0  # final reply lines consumed

        def send(self, data):
            self.p.stdin.write(data)
            self.p.stdin.flush()

        def replies(self, n, timeout=limit):
            """The next n final reply lines; fewer at EOF or timeout."""
            end = time.time() + timeout
            while True:
                final = [l for l in self.got.split(b"\r\n") if l[3:4] == b" "]
                if len(final) >= self.seen + n:
                    break
                left = end - time.time()
                if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                    break
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.got += chunk
            new = final[self.seen:self.seen + n]
            self.seen += len(new)
            return [l.decode() for l in new]

        def kill(self):
            """SIGKILL, then everything it had written before dying."""
            self.p.kill()
            self.p.wait()
            rest = self.p.stdout.read()
            self.got += rest
            final = [l.decode() for l in self.got.split(b"\r\n") if l[3:4] == b" "]
            new, self.seen = final[self.seen:], len(final)
            return new

        def close(self):
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
            for f in (self.p.stdin, self.p.stdout):
                try:
                    f.close()
                except OSError:
                    pass

    acked, sent = {}, {}
    stats = dict(runs=0, messages=0, acked=0, kill_body=0, kill_commit=0,
                 commit_kill_acked=0, commit_kill_stored_unacked=0, clean=0)
    commit_time = {s: 0.005 for s in SIZES}  # seconds from the end of data to 250, learnt
    t_start = time.time()
    serial = 0

    def envelope(token):
        return (f"MAIL FROM:<k-{token}@example.org>\r\nRCPT TO:<a-{token}@example.com>\r\n"
                f"RCPT TO:<b-{token}@example.com>\r\nDATA\r\n").encode()

    def queued(lines):
        for l in lines:
            m = re.fullmatch(r"250 2\.0\.0 Ok: queued as (\d+)", l)
            if m:
                return int(m.group(1))
        return None

    def enough():
        """What the test needs to have seen of each kind (checked below)."""
        return stats["kill_body"] >= 5 and stats["kill_commit"] >= 10 and len(acked) >= 20

    # RUNS runs or BUDGET seconds, whichever ends first, but never before
    # enough() (a loaded machine gets through fewer runs a second); never
    # more than 4 * RUNS runs.
    for run in range(4 * runs):
        if (run >= runs or time.time() - t_start > budget) and enough():
            break
        stats["runs"] += 1
        s = Smtpd()
        try:
            s.send(b"EHLO killer.example\r\n")
            assert s.replies(2) == ["220 mx.test ESMTP ready", "250 DSN"], s.got
            nmsg = rng.randint(1, 3)
            final = rng.choice(["body", "commit", "commit", "clean"])
            for k in range(nmsg):
                mode = final if k == nmsg - 1 else "clean"
                serial += 1
                token = f"{seed}x{run:03d}x{k}x{serial:04d}"
                size = rng.choice(SIZES)
                text = text_for(token, size)
                sent[token] = size
                stats["messages"] += 1
                s.send(envelope(token))
                r = s.replies(4)
                assert [l[:9] for l in r] == ["250 2.1.0", "250 2.1.5", "250 2.1.5", "354 End d"], r
                if mode == "body":
                    # Part of the text, then the kill while smtpd reads it.
                    cut = rng.randrange(0, len(text) + 3)
                    s.send((text + b".\r\n")[:cut])
                    time.sleep(rng.random() * 0.002)
                    lines = s.kill()
                    stats["kill_body"] += 1
                    if queued(lines) is not None:
                        sys.exit(f"250 for a message whose end was never sent: {token} {lines}")
                    break
                s.send(text + b".\r\n")
                t0 = time.time()
                if mode == "commit":
                    # Right after the end of data, before the reply is read:
                    # some at once, the rest spread over the time a commit takes.
                    if rng.random() > 0.2:
                        time.sleep(rng.random() * 1.5 * commit_time[size])
                    lines = s.kill()
                    stats["kill_commit"] += 1
                    mid = queued(lines)
                    if mid is not None:
                        acked[token] = mid
                        stats["commit_kill_acked"] += 1
                    break
                r = s.replies(1)
                commit_time[size] = 0.8 * commit_time[size] + 0.2 * (time.time() - t0)
                mid = queued(r)
                assert mid is not None, (token, r)
                acked[token] = mid
                stats["clean"] += 1
            else:
                s.send(b"QUIT\r\n")
                assert s.replies(1) == ["221 2.0.0 mx.test closing connection"]
        finally:
            s.close()

    stats["acked"] = len(acked)
    stats["seconds"] = round(time.time() - t_start, 1)
    with open(out + ".acked", "w") as f:
        for token, mid in sorted(acked.items()):
            print(token, mid, file=f)
    with open(out + ".sent", "w") as f:
        for token, size in sorted(sent.items()):
            print(token, size, file=f)

    # Every stored message is one that was sent, whole, with both recipients.
    import sqlite3
    con = sqlite3.connect(db, timeout=limit)
    problems, stored = [], {}
    for mid, mail_from, size, body in con.execute("SELECT id, mail_from, size, body FROM messages"):
        token = mail_from[2:-len("@example.org")]
        if token not in sent:
            problems.append(f"message {mid}: unknown sender {mail_from}")
            continue
        stored.setdefault(token, []).append(mid)
        text = text_for(token, sent[token])
        if size != len(body) or not body.endswith(text) or not body.startswith(b"Return-Path: <k-"):
            problems.append(f"message {mid} ({token}): text not whole, {len(body)} bytes")
        rcpts = con.execute("SELECT position, address FROM recipients WHERE message_id = ?"
                            " ORDER BY position", (mid,)).fetchall()
        if rcpts != [(0, f"a-{token}@example.com"), (1, f"b-{token}@example.com")]:
            problems.append(f"message {mid} ({token}): recipients {rcpts}")
    for token, mid in acked.items():
        if stored.get(token) != [mid]:
            problems.append(f"acknowledged as {mid}, stored as {stored.get(token)}: {token}")
    for token, ids in stored.items():
        if len(ids) > 1:
            problems.append(f"stored {len(ids)} times: {token}")
    stats["stored"] = sum(len(v) for v in stored.values())
    stats["commit_kill_stored_unacked"] = sum(1 for t in stored if t not in acked)
    print(" ".join(f"{k}={v}" for k, v in stats.items()))
    for p in problems:
        print("PROBLEM", p)


def cmd_concurrent_sessions():
    """concurrent-sessions PORT N PER OUT - N raw sessions at
    once, PER messages each; prints a summary line and ERROR lines;
    OUT.acked lists what got 250."""
    import socket, threading, time
    port, n, per, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    limit = LIMIT
    barrier = threading.Barrier(n, timeout=limit)
    lock = threading.Lock()
    res = {"sessions_ok": 0, "r250": 0, "r4xx": 0, "r5xx": 0, "errors": [], "acked": []}

    def session(i):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=limit)
            f = s.makefile("rb")

            def reply():
                while True:
                    line = f.readline()
                    if not line:
                        raise EOFError("connection closed")
                    if line[3:4] != b"-":
                        return line.decode().rstrip("\r\n")

            assert reply().startswith("220 "), "greeting"
            barrier.wait()  # all n connections are open, n smtpd processes running
            s.sendall(b"EHLO c%d.example\r\n" % i)
            assert reply().startswith("250 "), "EHLO"
            for k in range(per):
                token = f"{i:03d}x{k}"
                s.sendall(f"MAIL FROM:<s-{token}@example.org>\r\nRCPT TO:<r-{token}@example.com>\r\nDATA\r\n".encode())
                r = [reply() for _ in range(3)]
                assert [l[:9] for l in r] == ["250 2.1.0", "250 2.1.5", "354 End d"], r
                s.sendall(f"Subject: {token}\r\n\r\nX-Token: {token}\r\n.\r\n".encode())
                r = reply()
                with lock:
                    if r.startswith("250 2.0.0 Ok: queued as "):
                        res["r250"] += 1
                        res["acked"].append((token, int(r.rsplit(" ", 1)[1])))
                    elif r[0] == "4":
                        res["r4xx"] += 1
                        res["errors"].append(f"{token}: {r}")
                    else:
                        res["r5xx"] += 1
                        res["errors"].append(f"{token}: {r}")
            s.sendall(b"QUIT\r\n")
            assert reply().startswith("221 "), "QUIT"
            s.close()
            with lock:
                res["sessions_ok"] += 1
        except Exception as e:
            with lock:
                res["errors"].append(f"session {i}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=session, args=(i,), daemon=True) for i in range(n)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:  # a stuck one is counted, not waited for
        t.join(max(0.0, t0 + 2 * limit - time.time()))
    res["seconds"] = round(time.time() - t0, 1)
    res["stuck"] = sum(t.is_alive() for t in threads)
    with open(out + ".acked", "w") as f:
        for token, mid in res.pop("acked"):
            print(token, mid, file=f)
    errors = res.pop("errors")
    print(" ".join(f"{k}={v}" for k, v in res.items()))
    for e in errors[:20]:
        print("ERROR", e)


def cmd_fill_disk():
    """fill-disk DIR - fill the file system of DIR up to 48 KiB."""
    st = os.statvfs(sys.argv[1])
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(sys.argv[1], "filler"), "wb") as f:
        f.write(b"f" * (free - 48 * 1024))


# --- inputs too big for printf ----------------------------------------------
def cmd_bdat_5mib():
    """bdat-5mib IN TEXT - a session sending 5 MiB in BDAT chunks of 100
    KiB into IN, the text into TEXT."""
    # 5 MiB of numbered CR LF lines of 16 bytes, every other one starting
    # with a dot (CR LF pairs fall across chunk borders), sent as BDAT chunks
    # of 102400 bytes, the last one shorter and LAST.
    text = b"".join((b".%013d\r\n" if i % 2 else b"%014d\r\n") % i for i in range(5 * 1024 * 1024 // 16))
    assert len(text) == 5 * 1024 * 1024
    open(sys.argv[2], "wb").write(text)
    with open(sys.argv[1], "wb") as f:
        f.write(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n")
        step = 100 * 1024
        for off in range(0, len(text), step):
            part = text[off:off + step]
            last = b" LAST" if off + step >= len(text) else b""
            f.write(b"BDAT %d%s\r\n" % (len(part), last) + part)
        f.write(b"QUIT\r\n")


def cmd_make_session():
    """make-session BYTES FILE - a session with one message of BYTES
    bytes of data into FILE, that data (unstuffed) into FILE.data."""
    size, path = int(sys.argv[1]), sys.argv[2]
    head = f"Subject: {size} bytes\r\n\r\n".encode()
    lines, left, i = [head], size - len(head), 0
    while left >= 78:
        lead = "." if i % 50 == 0 else "x"
        lines.append(f"{lead}{i:09d} {'abcdefghijklmnopqrstuvwxyz' * 3}"[:76].encode() + b"\r\n")
        left -= 78
        i += 1
    assert left != 1, "a size this generator cannot make"
    if left:
        lines.append(b"y" * (left - 2) + b"\r\n")
    data = b"".join(lines)
    assert len(data) == size
    open(path + ".data", "wb").write(data)
    with open(path, "wb") as f:
        f.write(b"EHLO client.example\r\nMAIL FROM:<s@example.org>\r\n"
                b"RCPT TO:<a@example.com>\r\nDATA\r\n")
        f.write(data.replace(b"\r\n.", b"\r\n.."))
        f.write(b".\r\nQUIT\r\n")


def cmd_big_session():
    """big-session BYTES - to stdout: a session with a body of about
    BYTES, then a small message."""
    line = b"x" * 98 + b"\r\n"
    body = line * (int(sys.argv[1]) // len(line))
    sys.stdout.buffer.write(b"EHLO client.example\r\nMAIL FROM:<a@example.org>\r\n"
        b"RCPT TO:<b@example.com>\r\nDATA\r\n" + body + b".\r\n"
        b"MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.com>\r\nDATA\r\nhi\r\n.\r\n"
        b"QUIT\r\n")


# --- checks of what was stored ----------------------------------------------
def cmd_source_rows():
    """source-rows DB N RCPTS - DB holds N messages as smtp-source sends
    them (see postfix.bats)."""
    import re, sqlite3
    db, n, rcpts = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    con = sqlite3.connect(db)
    count = con.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert count == n, f"{count} messages stored, {n} sent"
    # smtp-source's payload: lines of 78 bytes, the first byte a digit
    # counting lines, then the rest of 4096 bytes, then CR LF.
    payload = b"".join(b"%d" % ((k + 1) % 10) + b"X" * 77 + b"\r\n" for k in range(51))
    payload += b"X" * (4096 - 51 * 80) + b"\r\n"
    want = re.compile(rb"Return-Path: <a@example\.org>\r\nReceived: from source\.test \(\[127\.0\.0\.1\]\)\r\n"
                      rb"\tby mx\.test with SMTP id (\d+)(\r\n\tfor <([^>]*)>)?;\r\n\t[^\r\n]+ \+0000\r\n"
                      rb"From: <a@example\.org>\r\nTo: <b@example\.org>\r\nDate: [^\r\n]+\r\n"
                      rb"Message-Id: <[0-9a-f.]+@source\.test>\r\n\r\n" + re.escape(payload))
    rcpt = {}
    for id, addr in con.execute("SELECT message_id, address FROM recipients ORDER BY message_id, position"):
        rcpt.setdefault(id, []).append(addr)
    bad = []
    for id, helo, addr, proto, frm, size, body in con.execute(
            "SELECT id, helo, client_addr, protocol, mail_from, size, body FROM messages"):
        got = rcpt.get(id, [])
        m = want.fullmatch(body)
        # Received: names the recipient only when there is just one.
        if (not m or int(m[1]) != id or m[3] != (got[0].encode() if len(got) == 1 else None)
                or (helo, addr, proto, frm) != ("source.test", "127.0.0.1", "SMTP", "a@example.org")
                or " ".join(got) != rcpts or size != len(body)):
            bad.append((id, helo, addr, proto, frm, got, body[:300]))
    assert not bad, f"{len(bad)} rows differ, first: {bad[0]}"


def cmd_postfix_body():
    """postfix-body TRACE QID SUB GOT - GOT is TRACE, Postfix pickup's
    Received: for QID, then SUB with LF made CR LF."""
    import re
    trace, qid, sub, got = sys.argv[1:]
    trace = open(trace, "rb").read()
    want = open(sub, "rb").read().replace(b"\n", b"\r\n")
    got = open(got, "rb").read()
    assert got.startswith(trace), ("trace headers", trace, got[:400])
    rest = got[len(trace):]
    # Postfix's own: "Received: by sender.test (Postfix, from userid 0)
    # <CR LF TAB> id QID; Thu, 26 Nov 2026 12:00:16 +0000 (UTC)".
    m = re.match(rb"Received: by sender\.test \(Postfix, from userid 0\)\r\n"
                 rb"\tid " + re.escape(qid.encode()) + rb"; "
                 rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 0-9]?[0-9] "
                 rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
                 rb"[0-9]{2}:[0-9]{2}:[0-9]{2} [-+][0-9]{4} \([A-Za-z0-9+-]+\)\r\n", rest)
    assert m, ("Postfix's Received header", rest[:300])
    rest = rest[m.end():]
    assert rest == want, ("the message", want, rest)


def cmd_syscall_filter():
    """syscall-filter GROUPS SERVICE - the system calls SERVICE's
    SystemCallFilter= lines allow, with the @groups of GROUPS (systemd-
    analyze syscall-filter)."""
    import re
    groups, cur = {}, None
    for line in open(sys.argv[1]):
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())
    def expand(name):
        if not name.startswith("@"):
            return {name}
        return set().union(*(expand(n) for n in groups[name]))
    allow, deny = None, set()
    for line in open(sys.argv[2]):
        m = re.match(r"SystemCallFilter\s*=\s*(.*)", line)
        if not m:
            continue
        items = m.group(1).split()
        if items and items[0].startswith("~"):
            items[0] = items[0][1:]
            deny |= set().union(*(expand(i) for i in items))
        else:
            allow = (allow or set()) | set().union(*(expand(i) for i in items))
    if allow is None:
        sys.exit("no allow list in " + sys.argv[2])
    print("\n".join(sorted(allow - deny)))


# --- harness ----------------------------------------------------------------
def cmd_free_port():
    """free-port HOST - a TCP port nobody listens on right now at HOST."""
    import socket
    host = sys.argv[1]
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.bind((host, 0))
    print(s.getsockname()[1])


def cmd_at_once():
    """at-once N DIR STDIN COMMAND... - see at_once in helpers.bash."""
    import signal, time
    n, outdir, stdin, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    r, w = os.pipe()  # the barrier: children block reading r until w closes
    pids = {}
    for i in range(1, n + 1):
        sub = lambda s: s.replace("{i}", str(i))
        pid = os.fork()
        if pid == 0:
            try:
                os.close(w)
                fd = os.open(sub(stdin), os.O_RDONLY)
                os.dup2(fd, 0)
                os.dup2(os.open(f"{outdir}/out.{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 1)
                os.dup2(os.open(f"{outdir}/err.{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
                os.closerange(3, r)
                os.closerange(r + 1, 1024)
                os.read(r, 1)  # returns at EOF, when the parent closes w
                os.execvp(sub(argv[0]), [sub(a) for a in argv])
            finally:
                os._exit(127)
        pids[pid] = i
    os.close(w)  # go
    os.close(r)
    deadline = time.time() + LIMIT
    while pids and time.time() < deadline:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            time.sleep(0.01)
            continue
        with open(f"{outdir}/status.{pids.pop(pid)}", "w") as f:
            print(os.waitstatus_to_exitcode(status), file=f)
    for pid, i in pids.items():
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with open(f"{outdir}/status.{i}", "w") as f:
            print("timeout", file=f)


def cmd_journal_listen():
    """journal-listen OUT READY - receive journald native-protocol
    datagrams on /run/systemd/journal/socket, one JSON line each into
    OUT, until a disconnect entry (WAIT_LIMIT s of silence at
    most); touch
    READY once bound."""
    import json, socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("/run/systemd/journal/socket")
    open(sys.argv[2], "w").close()  # ready
    s.settimeout(LIMIT)  # only if smtpd never logs its disconnect
    out = open(sys.argv[1], "w")
    try:
        while True:
            data = s.recv(1 << 20)
            fields, i = {}, 0
            while i < len(data):
                nl = data.index(b"\n", i)
                line = data[i:nl]
                if b"=" in line:
                    k, v = line.split(b"=", 1)
                    i = nl + 1
                else:  # NAME \n le64 length, value, \n
                    k = line
                    n = int.from_bytes(data[nl + 1:nl + 9], "little")
                    v = data[nl + 9:nl + 9 + n]
                    assert data[nl + 9 + n:nl + 10 + n] == b"\n"
                    i = nl + 10 + n
                fields[k.decode()] = v.decode()
            out.write(json.dumps(fields) + "\n")
            out.flush()
            if fields.get("MESSAGE") == "disconnect" or fields.get("MESSAGE", "").startswith("disconnect "):
                break
    except socket.timeout:
        pass


def cmd_syslog_listen():
    """syslog-listen OUT READY - receive syslog datagrams on /dev/log,
    one line each into OUT, until smtpd logs its disconnect (WAIT_LIMIT
    s of silence at most); touch READY once bound."""
    import socket
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("/dev/log")
    open(sys.argv[2], "w").close()  # ready
    s.settimeout(LIMIT)
    with open(sys.argv[1], "w") as out:
        try:
            while True:
                line = s.recv(65536).decode()
                out.write(line + "\n")
                out.flush()
                if "disconnect" in line:
                    break
        except socket.timeout:
            pass


def main():
    commands = {n[4:].replace("_", "-"): f for n, f in globals().items() if n.startswith("cmd_")}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit("usage: smtpclient.py COMMAND ARG...\ncommands: " + " ".join(sorted(commands)))
    name = sys.argv.pop(1)
    sys.argv[0] = f"smtpclient.py {name}"
    commands[name]()


if __name__ == "__main__":
    main()
