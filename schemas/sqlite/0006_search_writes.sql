-- ucsv schema, version 6: cheaper writes to the search indexes of version 4.
--
-- 1. FTS5 keeps the terms of the rows being indexed in memory and writes them out as a new
--    segment each time they pass `hashsize` (1 MiB by default); a level holding too many
--    segments is then merged. Indexing a million users wrote hundreds of segments and
--    merged them again and again. At 16 MiB a write of a million rows makes a few segments
--    and merges little; the memory is held only while a transaction writes to the index.
INSERT INTO user_search (user_search, rank) VALUES ('hashsize', 16777216);
INSERT INTO extension_search (extension_search, rank) VALUES ('hashsize', 16777216);
-- 2. ucsv's writer notes the rows it changes itself, in memory (temporary tables and
--    triggers of its own connection), and indexes them before it commits: noting each one
--    in the `_dirty` tables (two writes to the file and a sequence a row) cost a fifth of
--    an update. While its transaction runs, `quiet` is 1 in it, and the triggers below
--    stay still; every other program sees 0 (the writer sets it back before it commits,
--    and a transaction that fails takes it back), so their changes are noted as before.
ALTER TABLE search_state ADD COLUMN quiet INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER user_search_users_update;
DROP TRIGGER user_search_users_delete;
DROP TRIGGER extension_search_update;
DROP TRIGGER extension_search_delete;
DROP TRIGGER extension_search_line_update;
CREATE TRIGGER user_search_users_update
    AFTER UPDATE OF id, entity_id, firstname, lastname, email, username ON users
    WHEN (SELECT quiet FROM search_state) = 0 BEGIN
    DELETE FROM user_search_dirty WHERE user_id IN (old.id, new.id);
    INSERT INTO user_search_dirty (user_id) SELECT old.id UNION SELECT new.id;
END;
CREATE TRIGGER user_search_users_delete AFTER DELETE ON users
    WHEN (SELECT quiet FROM search_state) = 0 BEGIN
    DELETE FROM user_search_dirty WHERE user_id = old.id;
    INSERT INTO user_search_dirty (user_id) VALUES (old.id);
END;
CREATE TRIGGER extension_search_update AFTER UPDATE OF id, exten, line_id ON extensions
    WHEN (SELECT quiet FROM search_state) = 0 BEGIN
    DELETE FROM extension_search_dirty WHERE extension_id IN (old.id, new.id);
    INSERT INTO extension_search_dirty (extension_id) SELECT old.id UNION SELECT new.id;
END;
CREATE TRIGGER extension_search_delete AFTER DELETE ON extensions
    WHEN (SELECT quiet FROM search_state) = 0 BEGIN
    DELETE FROM extension_search_dirty WHERE extension_id = old.id;
    INSERT INTO extension_search_dirty (extension_id) VALUES (old.id);
END;
CREATE TRIGGER extension_search_line_update AFTER UPDATE OF id, user_id ON lines
    WHEN (SELECT quiet FROM search_state) = 0 BEGIN
    DELETE FROM extension_search_dirty
        WHERE extension_id IN (SELECT id FROM extensions WHERE line_id IN (old.id, new.id));
    INSERT INTO extension_search_dirty (extension_id)
        SELECT id FROM extensions WHERE line_id IN (old.id, new.id);
END;
