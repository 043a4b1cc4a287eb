-- ucsv schema, version 3: the accounts that may use the server (SPEC §9, after Cloudify's
-- user management). A role of sys_admin manages everything; default only what its tenant
-- roles allow, per entity: manager, user or viewer. Passwords are argon2id hashes. Times are
-- UTC, RFC 3339 text.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('sys_admin', 'default')),
    active         INTEGER NOT NULL DEFAULT 1,
    is_locked      INTEGER NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL,
    first_login_at TEXT,
    last_login_at  TEXT
);

CREATE TABLE account_tenants (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    entity_id  INTEGER NOT NULL REFERENCES entities(id),
    role       TEXT NOT NULL CHECK (role IN ('manager', 'user', 'viewer')),
    PRIMARY KEY (account_id, entity_id)
);
