-- ucsv schema for PostgreSQL, version 3 (as schemas/sqlite/0003_accounts.sql): the
-- accounts that may use the server (SPEC §9, after Cloudify's user management). A role of
-- sys_admin manages everything; default only what its tenant roles allow, per entity:
-- manager, user or viewer. Passwords are argon2id hashes. Times are UTC, RFC 3339 text.
CREATE TABLE accounts (
    id             bigserial PRIMARY KEY,
    username       text NOT NULL UNIQUE,
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('sys_admin', 'default')),
    active         bigint NOT NULL DEFAULT 1,
    is_locked      bigint NOT NULL DEFAULT 0,
    failed_logins  bigint NOT NULL DEFAULT 0,
    created_at     text NOT NULL,
    first_login_at text,
    last_login_at  text
);

CREATE TABLE account_tenants (
    account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    entity_id  bigint NOT NULL REFERENCES entities(id),
    role       text NOT NULL CHECK (role IN ('manager', 'user', 'viewer')),
    PRIMARY KEY (account_id, entity_id)
);
