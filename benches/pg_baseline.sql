-- The PostgreSQL baseline: psql loading the generated CSV (./users.csv) with \copy into a
-- staging table and plain INSERT ... SELECT into the same normalized tables, unique indexes
-- and foreign keys as ucsv (schemas/postgres/0001_init.sql, applied first), in one
-- transaction, and no validation at all. The twin of baseline.sql (SQLite).
-- Run: psql -X -v ON_ERROR_STOP=1 -d URL -f schemas/postgres/0001_init.sql
--      psql -X -v ON_ERROR_STOP=1 -d URL -f benches/pg_baseline.sql   (in users.csv's directory)
BEGIN;
INSERT INTO entities (id, name) VALUES (1, 'default');
INSERT INTO contexts (id, name, entity_id, type) VALUES
  (1, 'default', 1, 'internal'), (2, 'from-extern', 1, 'incall');
INSERT INTO context_ranges (context_id, start, "end") VALUES
  (1, '10000000', '19999999'), (2, '20000000', '29999999');
INSERT INTO call_permissions (id, name, entity_id) VALUES (1, 'international', 1), (2, 'mobile', 1);
INSERT INTO cti_profiles (id, name) VALUES (1, 'Client');

-- Temporary, so not written to the WAL: the staging rows are not the data being stored.
CREATE TEMP TABLE staging (
  n bigint GENERATED ALWAYS AS IDENTITY,
  firstname text, lastname text, email text, mobile_phone_number text, language text,
  enabled bigint, ring_seconds bigint, simultaneous_calls bigint, username text,
  password_hash text, password text, line_protocol text, context text, exten text,
  sip_username text, provisioning_code text, incall_exten text, incall_context text,
  voicemail_name text, voicemail_number text, voicemail_context text, voicemail_email text,
  call_permissions text, cti_profile_enabled bigint, cti_profile_name text
) ON COMMIT DROP;
\copy staging (firstname, lastname, email, mobile_phone_number, language, enabled, ring_seconds, simultaneous_calls, username, password_hash, password, line_protocol, context, exten, sip_username, provisioning_code, incall_exten, incall_context, voicemail_name, voicemail_number, voicemail_context, voicemail_email, call_permissions, cti_profile_enabled, cti_profile_name) FROM 'users.csv' WITH (FORMAT csv, HEADER true)

INSERT INTO users (id, uuid, entity_id, subscription_type, firstname, lastname, email,
    mobile_phone_number, language, enabled, ring_seconds, simultaneous_calls,
    supervision_enabled, call_transfer_enabled, dtmf_hangup_enabled,
    call_record_outgoing_external_enabled, call_record_outgoing_internal_enabled,
    call_record_incoming_external_enabled, call_record_incoming_internal_enabled,
    online_call_record_enabled, username, password_hash, cti_profile_enabled, cti_profile_id)
  SELECT n, gen_random_uuid()::text, 1, 0, firstname, lastname, email,
    mobile_phone_number, language, enabled, ring_seconds, simultaneous_calls,
    1, 0, 0, 0, 0, 0, 0, 0, username, password_hash, cti_profile_enabled,
    (SELECT id FROM cti_profiles WHERE name = cti_profile_name)
  FROM staging;
INSERT INTO lines (id, user_id, protocol, context, sip_username, sip_secret, provisioning_code)
  SELECT n, n, line_protocol, context, sip_username,
    CASE WHEN line_protocol = 'sip' THEN substr(md5(random()::text), 1, 16) END,
    provisioning_code
  FROM staging WHERE line_protocol IS NOT NULL;
INSERT INTO extensions (exten, context, line_id)
  SELECT exten, context, n FROM staging WHERE line_protocol IS NOT NULL;
INSERT INTO extensions (exten, context) SELECT incall_exten, incall_context FROM staging;
INSERT INTO incalls (user_id, extension_id)
  SELECT s.n, e.id FROM staging s
  JOIN extensions e ON e.exten = s.incall_exten AND e.context = s.incall_context;
INSERT INTO voicemails (id, name, number, context, email)
  SELECT n, voicemail_name, voicemail_number, voicemail_context, voicemail_email FROM staging;
INSERT INTO user_voicemails (user_id, voicemail_id) SELECT n, n FROM staging;
INSERT INTO user_call_permissions (user_id, call_permission_id)
  SELECT s.n, p.id FROM staging s
  JOIN call_permissions p ON p.name = ANY (string_to_array(s.call_permissions, ';'));
-- The sequences go on from the ids given, as after ucsv's import.
SELECT setval('users_id_seq', max(id)) FROM users;
SELECT setval('lines_id_seq', max(id)) FROM lines;
SELECT setval('voicemails_id_seq', max(id)) FROM voicemails;
COMMIT;
