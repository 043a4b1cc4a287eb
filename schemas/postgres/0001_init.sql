-- ucsv schema for PostgreSQL, version 1: the tables and columns of the SQLite schema
-- (schemas/sqlite/0001_init.sql), so that the same queries give the same answers on both.
-- Differences, each for a reason:
--   * every integer is bigint (ids and counts alike), and flags are 0/1 integers as in SQLite:
--     a query written for one backend reads the same values on the other;
--   * text that exports sort on (numbers, contexts, permission names) compares byte-wise
--     (COLLATE "C"), as SQLite does, whatever the database's locale;
--   * users.email is unique without case through an index on lower(email) (SQLite: NOCASE);
--   * context_ranges.end is a reserved word here and is always written "end".
-- The version applied is kept in ucsv_schema; ucsv creates and touches only these tables.

CREATE TABLE entities (                                  -- (contract)
    id   bigint PRIMARY KEY,
    name text NOT NULL UNIQUE
);

CREATE TABLE contexts (                                  -- (contract)
    id        bigserial PRIMARY KEY,
    name      text COLLATE "C" NOT NULL UNIQUE,
    entity_id bigint NOT NULL REFERENCES entities(id),
    type      text NOT NULL CHECK (type IN ('internal', 'incall', 'outcall'))
);

CREATE TABLE context_ranges (                            -- (contract)
    id         bigserial PRIMARY KEY,
    context_id bigint NOT NULL REFERENCES contexts(id) ON DELETE CASCADE,
    start      text NOT NULL,
    "end"      text NOT NULL
);

CREATE TABLE call_permissions (                          -- (contract)
    id        bigserial PRIMARY KEY,
    name      text COLLATE "C" NOT NULL,
    entity_id bigint NOT NULL REFERENCES entities(id),
    UNIQUE (entity_id, name)
);

CREATE TABLE cti_profiles (                              -- (contract)
    id   bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- Users and their resources. Column names of users match the CSV columns.
CREATE TABLE users (                                     -- (contract)
    id                                    bigserial PRIMARY KEY,
    uuid                                  text NOT NULL UNIQUE,
    entity_id                             bigint NOT NULL REFERENCES entities(id),
    subscription_type                     bigint NOT NULL,
    firstname                             text NOT NULL,
    lastname                              text,
    email                                 text,
    mobile_phone_number                   text,
    outgoing_caller_id                    text,
    language                              text,
    call_permission_password              text,
    enabled                               bigint NOT NULL,
    ring_seconds                          bigint NOT NULL,
    simultaneous_calls                    bigint NOT NULL,
    supervision_enabled                   bigint NOT NULL,
    call_transfer_enabled                 bigint NOT NULL,
    dtmf_hangup_enabled                   bigint NOT NULL,
    call_record_outgoing_external_enabled bigint NOT NULL,
    call_record_outgoing_internal_enabled bigint NOT NULL,
    call_record_incoming_external_enabled bigint NOT NULL,
    call_record_incoming_internal_enabled bigint NOT NULL,
    online_call_record_enabled            bigint NOT NULL,
    userfield                             text,
    username                              text UNIQUE,
    password_hash                         text,
    cti_profile_enabled                   bigint NOT NULL DEFAULT 0,
    cti_profile_id                        bigint REFERENCES cti_profiles(id)
);
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_entity ON users(entity_id);

CREATE TABLE lines (                                     -- (contract)
    id                bigserial PRIMARY KEY,
    user_id           bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    protocol          text NOT NULL CHECK (protocol IN ('sip', 'sccp', 'webrtc')),
    context           text COLLATE "C" NOT NULL REFERENCES contexts(name),
    sip_username      text UNIQUE,
    sip_secret        text,
    provisioning_code text NOT NULL UNIQUE
);
CREATE INDEX lines_user ON lines(user_id);

-- Numbers in a context: a line's internal extension, or an incoming number (DID).
CREATE TABLE extensions (                                -- (contract)
    id      bigserial PRIMARY KEY,
    exten   text COLLATE "C" NOT NULL,
    context text COLLATE "C" NOT NULL REFERENCES contexts(name),
    line_id bigint REFERENCES lines(id) ON DELETE SET NULL,
    UNIQUE (exten, context)
);
CREATE INDEX extensions_line ON extensions(line_id);

CREATE TABLE incalls (                                   -- (contract)
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    extension_id bigint NOT NULL UNIQUE REFERENCES extensions(id),
    ring_seconds bigint
);
CREATE INDEX incalls_user ON incalls(user_id);

CREATE TABLE voicemails (                                -- (contract)
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    number          text NOT NULL,
    context         text COLLATE "C" NOT NULL REFERENCES contexts(name),
    password        text,
    email           text,
    attach_audio    bigint NOT NULL DEFAULT 0,
    delete_messages bigint NOT NULL DEFAULT 0,
    ask_password    bigint NOT NULL DEFAULT 1,
    UNIQUE (number, context)
);

CREATE TABLE user_voicemails (                           -- (contract)
    user_id      bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    voicemail_id bigint NOT NULL REFERENCES voicemails(id)
);
CREATE INDEX user_voicemails_voicemail ON user_voicemails(voicemail_id);

CREATE TABLE user_call_permissions (                     -- (contract)
    user_id            bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    call_permission_id bigint NOT NULL REFERENCES call_permissions(id),
    PRIMARY KEY (user_id, call_permission_id)
);
