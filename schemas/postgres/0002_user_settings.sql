-- ucsv schema for PostgreSQL, version 2 (as schemas/sqlite/0002_user_settings.sql): the
-- user's time zone, description and music on hold, and an entity's defaults for its new
-- users' language and time zone.
ALTER TABLE users ADD COLUMN timezone text;
ALTER TABLE users ADD COLUMN description text;
ALTER TABLE users ADD COLUMN music_on_hold text;
ALTER TABLE entities ADD COLUMN default_language text;
ALTER TABLE entities ADD COLUMN default_timezone text;
