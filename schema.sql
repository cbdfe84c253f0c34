-- The mailbox database, version 1 (kept in PRAGMA user_version).
-- Readers may rely on these tables and columns; later versions only add.

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT    NOT NULL,  -- UTC, ISO 8601: 2026-11-26T11:30:08Z
    helo        TEXT    NOT NULL,  -- the EHLO/HELO argument as sent
    client_addr TEXT    NOT NULL,  -- peer IP address, '' when unknown
    protocol    TEXT    NOT NULL,  -- SMTP or ESMTP (RFC 3848)
    mail_from   TEXT    NOT NULL,  -- reverse path, '' for <>
    size        INTEGER NOT NULL,  -- bytes of body
    body        BLOB    NOT NULL   -- trace headers, then the data as sent
);

CREATE TABLE recipients (
    message_id  INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,  -- 0, 1, ... in RCPT order
    address     TEXT    NOT NULL,  -- forward path as sent
    PRIMARY KEY (message_id, position)
) WITHOUT ROWID;

CREATE INDEX recipients_by_address ON recipients (address);
