-- The mailbox database, version 2 (kept in PRAGMA user_version).
-- Readers may rely on these tables and columns; later versions only add.
-- A version 1 database is upgraded in place (store.c, migrations[]).

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
    dsn_envid   TEXT               -- ENVID= as sent (xtext), or NULL
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
