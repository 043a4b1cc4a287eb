-- ucsv schema, version 4: indexes for the listing's substring search. `user_search` holds
-- one row per user (rowid = users.id): its firstname, lastname, email and username, in
-- trigrams; `extension_search` one row per extension (rowid = extensions.id). A listing
-- asks them for candidates and checks each one with the search's own condition, so the
-- answers are exactly those of a scan.
--
-- Inserts never fill them row by row, and no trigger runs on an insert (each would cost
-- a large part of an import): a row whose id is above `search_state`'s mark is not
-- indexed yet, and every search takes those rows as candidates, found by their id range.
-- (SQLite gives a new row an id above every other one; a program that chooses an id
-- itself, below the mark, must note the row in the `_dirty` table.) Updates and deletes,
-- by any program, are noted by the triggers below in the `_dirty` tables, whose rows are
-- candidates too. ucsv's writer indexes the new and noted rows at its commit, in the same
-- transaction, and moves the marks.
CREATE VIRTUAL TABLE user_search USING fts5(
    text, content = '', contentless_delete = 1, tokenize = 'trigram', detail = none
);
CREATE VIRTUAL TABLE extension_search USING fts5(
    exten, content = '', contentless_delete = 1, tokenize = 'trigram', detail = none
);
-- No merging of their segments as rows come (a quarter of the filling time of a large
-- import); SQLite still merges when a level holds too many segments (`crisismerge`).
INSERT INTO user_search (user_search, rank) VALUES ('automerge', 0);
INSERT INTO extension_search (extension_search, rank) VALUES ('automerge', 0);
-- A row is noted again with a new `seq` each time it changes, so that the highest `seq`
-- (in sqlite_sequence) and `generation`, which ucsv's writer moves at each commit, tell a
-- server that the data it counted has changed (see `Store::count_listed`).
CREATE TABLE user_search_dirty (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL UNIQUE
);
CREATE TABLE extension_search_dirty (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, extension_id INTEGER NOT NULL UNIQUE
);
CREATE TABLE search_state (
    users_upto INTEGER NOT NULL, extensions_upto INTEGER NOT NULL, generation INTEGER NOT NULL
);
CREATE TRIGGER user_search_users_update
    AFTER UPDATE OF id, entity_id, firstname, lastname, email, username ON users BEGIN
    DELETE FROM user_search_dirty WHERE user_id IN (old.id, new.id);
    INSERT INTO user_search_dirty (user_id) SELECT old.id UNION SELECT new.id;
END;
CREATE TRIGGER user_search_users_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_search_dirty WHERE user_id = old.id;
    INSERT INTO user_search_dirty (user_id) VALUES (old.id);
END;
CREATE TRIGGER extension_search_update AFTER UPDATE OF id, exten, line_id ON extensions BEGIN
    DELETE FROM extension_search_dirty WHERE extension_id IN (old.id, new.id);
    INSERT INTO extension_search_dirty (extension_id) SELECT old.id UNION SELECT new.id;
END;
CREATE TRIGGER extension_search_delete AFTER DELETE ON extensions BEGIN
    DELETE FROM extension_search_dirty WHERE extension_id = old.id;
    INSERT INTO extension_search_dirty (extension_id) VALUES (old.id);
END;
-- A line given to another user takes its extensions along.
CREATE TRIGGER extension_search_line_update AFTER UPDATE OF id, user_id ON lines BEGIN
    DELETE FROM extension_search_dirty
        WHERE extension_id IN (SELECT id FROM extensions WHERE line_id IN (old.id, new.id));
    INSERT INTO extension_search_dirty (extension_id)
        SELECT id FROM extensions WHERE line_id IN (old.id, new.id);
END;
-- The rows already there are indexed when ucsv applies this file (in the same transaction).
INSERT INTO search_state (users_upto, extensions_upto, generation) VALUES (0, 0, 0);
