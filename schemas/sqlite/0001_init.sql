-- ucsv schema, version 1. Table and column names marked (contract) are documented for users.

-- Reference data: tenants, dialplan contexts and their number ranges, permissions, profiles.
CREATE TABLE entities (                                  -- (contract)
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE contexts (                                  -- (contract)
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL UNIQUE,
    entity_id INTEGER NOT NULL REFERENCES entities(id),
    type      TEXT NOT NULL CHECK (type IN ('internal', 'incall', 'outcall'))
);

CREATE TABLE context_ranges (                            -- (contract)
    id         INTEGER PRIMARY KEY,
    context_id INTEGER NOT NULL REFERENCES contexts(id) ON DELETE CASCADE,
    start      TEXT NOT NULL,
    end        TEXT NOT NULL
);

CREATE TABLE call_permissions (                          -- (contract)
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    entity_id INTEGER NOT NULL REFERENCES entities(id),
    UNIQUE (entity_id, name)
);

CREATE TABLE cti_profiles (                              -- (contract)
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- Users and their resources. Column names of users match the CSV columns.
CREATE TABLE users (                                     -- (contract)
    id                                    INTEGER PRIMARY KEY,
    uuid                                  TEXT NOT NULL UNIQUE,
    entity_id                             INTEGER NOT NULL REFERENCES entities(id),
    subscription_type                     INTEGER NOT NULL,
    firstname                             TEXT NOT NULL,
    lastname                              TEXT,
    email                                 TEXT UNIQUE COLLATE NOCASE,
    mobile_phone_number                   TEXT,
    outgoing_caller_id                    TEXT,
    language                              TEXT,
    call_permission_password              TEXT,
    enabled                               INTEGER NOT NULL,
    ring_seconds                          INTEGER NOT NULL,
    simultaneous_calls                    INTEGER NOT NULL,
    supervision_enabled                   INTEGER NOT NULL,
    call_transfer_enabled                 INTEGER NOT NULL,
    dtmf_hangup_enabled                   INTEGER NOT NULL,
    call_record_outgoing_external_enabled INTEGER NOT NULL,
    call_record_outgoing_internal_enabled INTEGER NOT NULL,
    call_record_incoming_external_enabled INTEGER NOT NULL,
    call_record_incoming_internal_enabled INTEGER NOT NULL,
    online_call_record_enabled            INTEGER NOT NULL,
    userfield                             TEXT,
    username                              TEXT UNIQUE,
    password_hash                         TEXT,
    cti_profile_enabled                   INTEGER NOT NULL DEFAULT 0,
    cti_profile_id                        INTEGER REFERENCES cti_profiles(id)
);
CREATE INDEX users_entity ON users(entity_id);

CREATE TABLE lines (                                     -- (contract)
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    protocol          TEXT NOT NULL CHECK (protocol IN ('sip', 'sccp', 'webrtc')),
    context           TEXT NOT NULL REFERENCES contexts(name),
    sip_username      TEXT UNIQUE,
    sip_secret        TEXT,
    provisioning_code TEXT NOT NULL UNIQUE
);
CREATE INDEX lines_user ON lines(user_id);

-- Numbers in a context: a line's internal extension, or an incoming number (DID).
CREATE TABLE extensions (                                -- (contract)
    id      INTEGER PRIMARY KEY,
    exten   TEXT NOT NULL,
    context TEXT NOT NULL REFERENCES contexts(name),
    line_id INTEGER REFERENCES lines(id) ON DELETE SET NULL,
    UNIQUE (exten, context)
);
CREATE INDEX extensions_line ON extensions(line_id);

CREATE TABLE incalls (                                   -- (contract)
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    extension_id INTEGER NOT NULL UNIQUE REFERENCES extensions(id),
    ring_seconds INTEGER
);
CREATE INDEX incalls_user ON incalls(user_id);

CREATE TABLE voicemails (                                -- (contract)
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    number          TEXT NOT NULL,
    context         TEXT NOT NULL REFERENCES contexts(name),
    password        TEXT,
    email           TEXT,
    attach_audio    INTEGER NOT NULL DEFAULT 0,
    delete_messages INTEGER NOT NULL DEFAULT 0,
    ask_password    INTEGER NOT NULL DEFAULT 1,
    UNIQUE (number, context)
);

CREATE TABLE user_voicemails (                           -- (contract)
    user_id      INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    voicemail_id INTEGER NOT NULL REFERENCES voicemails(id)
);
CREATE INDEX user_voicemails_voicemail ON user_voicemails(voicemail_id);

CREATE TABLE user_call_permissions (                     -- (contract)
    user_id            INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    call_permission_id INTEGER NOT NULL REFERENCES call_permissions(id),
    PRIMARY KEY (user_id, call_permission_id)
) WITHOUT ROWID;
