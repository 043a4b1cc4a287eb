-- ucsv schema for PostgreSQL, version 5 (as schemas/sqlite/0005_history.sql): the history
-- of every write, as batches.
CREATE TABLE batches (
    id        bigserial PRIMARY KEY,
    kind      text NOT NULL,
    at        text NOT NULL,
    who       text NOT NULL,
    door      text NOT NULL CHECK (door IN ('cli', 'http')),
    source    text NOT NULL,
    sha256    text,
    columns   text NOT NULL,
    created   bigint NOT NULL DEFAULT 0,
    updated   bigint NOT NULL DEFAULT 0,
    deleted   bigint NOT NULL DEFAULT 0,
    entities  text NOT NULL DEFAULT '',
    undoes    bigint REFERENCES batches(id) ON DELETE SET NULL,
    undone_by bigint REFERENCES batches(id) ON DELETE SET NULL
);
CREATE INDEX batches_at ON batches(at);
CREATE TABLE batch_changes (
    batch_id bigint NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    user_id  bigint NOT NULL,
    last_id  bigint NOT NULL,
    action   text NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    uuid     text,
    before   text,
    PRIMARY KEY (batch_id, user_id)
);
CREATE INDEX batch_changes_user ON batch_changes(user_id, last_id);
