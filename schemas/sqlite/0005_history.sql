-- ucsv schema, version 5: the history. Every write (import, update, user add, set and
-- delete, their HTTP routes, an undo) is a batch, recorded in the write's own transaction:
-- who, when, from what, its counts, and per user what it did. Created users are kept as
-- runs of ids (`user_id` to `last_id`), so that an import of a million rows writes a few
-- rows here; an updated or deleted user keeps its state before the batch (`before`: its
-- cells in the order of the batch's `columns`, separated by U+001F), secrets as stored
-- (hashes, SIP secrets), never a password in clear. An undo is a batch too (`undoes`),
-- and marks the batch it took back (`undone_by`).
CREATE TABLE batches (
    id        INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    at        TEXT NOT NULL,
    who       TEXT NOT NULL,
    door      TEXT NOT NULL CHECK (door IN ('cli', 'http')),
    source    TEXT NOT NULL,
    sha256    TEXT,
    columns   TEXT NOT NULL,
    created   INTEGER NOT NULL DEFAULT 0,
    updated   INTEGER NOT NULL DEFAULT 0,
    deleted   INTEGER NOT NULL DEFAULT 0,
    entities  TEXT NOT NULL DEFAULT '',
    undoes    INTEGER REFERENCES batches(id) ON DELETE SET NULL,
    undone_by INTEGER REFERENCES batches(id) ON DELETE SET NULL
);
CREATE INDEX batches_at ON batches(at);
CREATE TABLE batch_changes (
    batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    last_id  INTEGER NOT NULL,
    action   TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    uuid     TEXT,
    before   TEXT,
    PRIMARY KEY (batch_id, user_id)
) WITHOUT ROWID;
CREATE INDEX batch_changes_user ON batch_changes(user_id, last_id);
