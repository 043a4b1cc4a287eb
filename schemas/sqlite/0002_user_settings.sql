-- ucsv schema, version 2: the user's time zone, description and music on hold (XiVO users
-- API), and an entity's defaults for its new users' language and time zone (Quobis).
ALTER TABLE users ADD COLUMN timezone TEXT;
ALTER TABLE users ADD COLUMN description TEXT;
ALTER TABLE users ADD COLUMN music_on_hold TEXT;
ALTER TABLE entities ADD COLUMN default_language TEXT;
ALTER TABLE entities ADD COLUMN default_timezone TEXT;
