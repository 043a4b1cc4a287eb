-- The baseline: the sqlite3 shell loading the generated CSV (./users.csv) with plain SQL into
-- the same normalized tables and unique indexes as ucsv (schemas/sqlite/0001_init.sql, applied
-- first), with the same durability settings, and no validation at all.
-- Run: sqlite3 base.db < schemas/sqlite/0001_init.sql && sqlite3 base.db < benches/baseline.sql
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;

INSERT INTO entities (id, name) VALUES (1, 'default');
INSERT INTO contexts (id, name, entity_id, type) VALUES
  (1, 'default', 1, 'internal'), (2, 'from-extern', 1, 'incall');
INSERT INTO context_ranges (context_id, start, end) VALUES
  (1, '10000000', '19999999'), (2, '20000000', '29999999');
INSERT INTO call_permissions (id, name, entity_id) VALUES (1, 'international', 1), (2, 'mobile', 1);
INSERT INTO cti_profiles (id, name) VALUES (1, 'Client');

.mode csv
.import users.csv staging

BEGIN;
INSERT INTO users (id, uuid, entity_id, subscription_type, firstname, lastname, email,
    mobile_phone_number, language, enabled, ring_seconds, simultaneous_calls,
    supervision_enabled, call_transfer_enabled, dtmf_hangup_enabled,
    call_record_outgoing_external_enabled, call_record_outgoing_internal_enabled,
    call_record_incoming_external_enabled, call_record_incoming_internal_enabled,
    online_call_record_enabled, username, password_hash, cti_profile_enabled, cti_profile_id)
  SELECT rowid, lower(hex(randomblob(16))), 1, 0, firstname, lastname, email,
    mobile_phone_number, language, enabled, ring_seconds, simultaneous_calls,
    1, 0, 0, 0, 0, 0, 0, 0, username, nullif(password_hash, ''), cti_profile_enabled,
    (SELECT id FROM cti_profiles WHERE name = cti_profile_name)
  FROM staging;
INSERT INTO lines (id, user_id, protocol, context, sip_username, sip_secret, provisioning_code)
  SELECT rowid, rowid, line_protocol, context, nullif(sip_username, ''),
    CASE WHEN line_protocol = 'sip' THEN lower(hex(randomblob(8))) END, provisioning_code
  FROM staging WHERE line_protocol != '';
INSERT INTO extensions (exten, context, line_id)
  SELECT exten, context, rowid FROM staging WHERE line_protocol != '';
INSERT INTO extensions (exten, context) SELECT incall_exten, incall_context FROM staging;
INSERT INTO incalls (user_id, extension_id)
  SELECT s.rowid, e.id FROM staging s
  JOIN extensions e ON e.exten = s.incall_exten AND e.context = s.incall_context;
INSERT INTO voicemails (id, name, number, context, email)
  SELECT rowid, voicemail_name, voicemail_number, voicemail_context, voicemail_email FROM staging;
INSERT INTO user_voicemails (user_id, voicemail_id) SELECT rowid, rowid FROM staging;
INSERT INTO user_call_permissions (user_id, call_permission_id)
  SELECT s.rowid, p.id FROM staging s
  JOIN call_permissions p ON instr(';' || s.call_permissions || ';', ';' || p.name || ';') > 0;
DROP TABLE staging;
COMMIT;
