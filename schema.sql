-- The mailbox database, version 3 (kept in PRAGMA user_version).
-- Readers may rely on these tables and columns; later versions only add.
-- Older databases are upgraded in place (store.c, migrations[]).

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT    NOT NULL,  -- UTC, ISO 8601: 2026-11-26T11:30:08Z
    helo        TEXT    NOT NULL,  -- the EHLO/HELO argument as sent
    client_addr TEXT    NOT NULL,  -- peer IP address, '' when unknown
    protocol    TEXT    NOT NULL,  -- SMTP, ESMTP or UTF8SMTP (RFC 3848)
    mail_from   TEXT    NOT NULL,  -- reverse path, '' for <>
    size        INTEGER NOT NULL,  -- bytes of body
    body        BLOB    NOT NULL,  -- trace headers, then the data as sent
    -- version 2
    body_type   TEXT,              -- BODY=7BIT or 8BITMIME, NULL if not given
    smtputf8    INTEGER NOT NULL DEFAULT 0,  -- 1 if MAIL had SMTPUTF8
    dsn_ret     TEXT,              -- RET=FULL or HDRS (RFC 3461), or NULL
    dsn_envid   TEXT,              -- ENVID= as sent (xtext), or NULL
    -- version 3
    tls_version TEXT,              -- 'TLSv1.3' when received over TLS, else NULL
    tls_cipher  TEXT               -- 'TLS_AES_128_GCM_SHA256', or NULL
);

CREATE TABLE recipients (
    message_id  INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,  -- 0, 1, ... in RCPT order
    address     TEXT    NOT NULL,  -- forward path as sent
    -- version 2
    dsn_notify  TEXT,              -- NOTIFY= (RFC 3461), upper case, or NULL
    dsn_orcpt   TEXT,              -- ORCPT= as sent, or NULL
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;

CREATE INDEX recipients_by_address ON recipients (address);

-- version 3: mail access (pop3d, the mailbox tool)

-- name/value pairs about the database itself.  uidvalidity: a random
-- 32-bit number chosen when the file is made or upgraded to version 3; it
-- is part of every POP3 UIDL, so a recreated database is not mistaken for
-- the old one by clients that leave mail on the server.
CREATE TABLE meta (
    name        TEXT    PRIMARY KEY,
    value       TEXT    NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (name, value) VALUES ('uidvalidity', abs(random() % 4294967295) + 1);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,   -- login name, matched exactly
    password    TEXT,                      -- crypt(3) string ($y$, $2b$, $6$); NULL: no login
    created_at  TEXT    NOT NULL,          -- UTC, ISO 8601
    disabled    INTEGER NOT NULL DEFAULT 0
);

-- Which recipient addresses are whose mailbox; the case of the address
-- does not matter.
CREATE TABLE addresses (
    address     TEXT    PRIMARY KEY COLLATE NOCASE,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
) WITHOUT ROWID;

-- What one account did to one message; a row only once something did
-- happen, so the mailbox is the recipients' messages minus the deleted.
CREATE TABLE mailbox_state (
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message_id  INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    flags       INTEGER NOT NULL DEFAULT 0,  -- 1: seen (retrieved)
    deleted_at  TEXT,                        -- UTC, when a DELE was committed
    PRIMARY KEY (account_id, message_id)
) WITHOUT ROWID;

CREATE INDEX mailbox_state_by_message ON mailbox_state (message_id);
CREATE INDEX recipients_by_address_nocase ON recipients (address COLLATE NOCASE);
