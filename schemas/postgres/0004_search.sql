-- ucsv schema for PostgreSQL, version 4 (as schemas/sqlite/0004_search.sql): trigram
-- indexes (pg_trgm) for the listing's substring search, on the columns it searches, as it
-- folds them (ASCII case, in the C collation). PostgreSQL keeps them in every write's
-- transaction. ucsv runs this file only when `CREATE EXTENSION pg_trgm` succeeds (the
-- extension is in PostgreSQL's contrib, and trusted: a role that may create in the
-- database may add it); without it, the search scans, with the same answers.
CREATE INDEX users_search_firstname ON users USING gin (lower(firstname COLLATE "C") gin_trgm_ops);
CREATE INDEX users_search_lastname ON users USING gin (lower(lastname COLLATE "C") gin_trgm_ops);
CREATE INDEX users_search_email ON users USING gin (lower(email COLLATE "C") gin_trgm_ops);
CREATE INDEX users_search_username ON users USING gin (lower(username COLLATE "C") gin_trgm_ops);
CREATE INDEX extensions_search ON extensions USING gin (exten gin_trgm_ops);
