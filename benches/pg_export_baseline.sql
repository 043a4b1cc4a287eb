-- The PostgreSQL export baseline: psql writing the same join as ucsv's export (one row per
-- user, the 44 columns in export order, the ordered lists as ordered string_agg, as ucsv's
-- PostgreSQL query writes them) as CSV to its standard output. The twin of
-- export_baseline.sql (SQLite). COPY ... TO STDOUT run by psql is what \copy ... TO STDOUT
-- sends (\copy takes its query on one line only).
-- Run: psql -X -v ON_ERROR_STOP=1 -d URL -f benches/pg_export_baseline.sql > export_baseline.csv
COPY (
SELECT
  u.uuid AS uuid,
  u.subscription_type AS subscription_type,
  u.firstname AS firstname,
  u.lastname AS lastname,
  u.email AS email,
  u.mobile_phone_number AS mobile_phone_number,
  u.outgoing_caller_id AS outgoing_caller_id,
  u.language AS language,
  u.call_permission_password AS call_permission_password,
  u.enabled AS enabled,
  u.ring_seconds AS ring_seconds,
  u.simultaneous_calls AS simultaneous_calls,
  u.supervision_enabled AS supervision_enabled,
  u.call_transfer_enabled AS call_transfer_enabled,
  u.dtmf_hangup_enabled AS dtmf_hangup_enabled,
  u.call_record_outgoing_external_enabled AS call_record_outgoing_external_enabled,
  u.call_record_outgoing_internal_enabled AS call_record_outgoing_internal_enabled,
  u.call_record_incoming_external_enabled AS call_record_incoming_external_enabled,
  u.call_record_incoming_internal_enabled AS call_record_incoming_internal_enabled,
  u.online_call_record_enabled AS online_call_record_enabled,
  u.userfield AS userfield,
  v.name AS voicemail_name,
  v.number AS voicemail_number,
  v.context AS voicemail_context,
  v.password AS voicemail_password,
  v.email AS voicemail_email,
  v.attach_audio AS voicemail_attach_audio,
  v.delete_messages AS voicemail_delete_messages,
  v.ask_password AS voicemail_ask_password,
  l.protocol AS line_protocol,
  l.provisioning_code AS provisioning_code,
  l.context AS context,
  l.sip_username AS sip_username,
  l.sip_secret AS sip_secret,
  (SELECT e.exten FROM extensions e WHERE e.line_id = l.id ORDER BY e.id LIMIT 1) AS exten,
  (SELECT string_agg(e.exten, ';' ORDER BY length(e.exten), e.exten, e.context) FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id) AS incall_exten,
  (SELECT string_agg(e.context, ';' ORDER BY length(e.exten), e.exten, e.context) FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id) AS incall_context,
  (SELECT string_agg(p.name, ';' ORDER BY p.name) FROM user_call_permissions up JOIN call_permissions p ON p.id = up.call_permission_id WHERE up.user_id = u.id) AS call_permissions,
  u.username AS username,
  u.entity_id AS entity_id,
  u.cti_profile_enabled AS cti_profile_enabled,
  c.name AS cti_profile_name,
  (SELECT CASE WHEN count(i.ring_seconds) = 0 AND count(*) <= 1 THEN NULL ELSE string_agg(coalesce(CAST(i.ring_seconds AS TEXT), ''), ';' ORDER BY length(e.exten), e.exten, e.context) END FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id) AS incall_ring_seconds,
  u.password_hash AS password_hash
FROM users u
LEFT JOIN lines l ON l.id = (SELECT min(id) FROM lines WHERE user_id = u.id)
LEFT JOIN user_voicemails uv ON uv.user_id = u.id
LEFT JOIN voicemails v ON v.id = uv.voicemail_id
LEFT JOIN cti_profiles c ON c.id = u.cti_profile_id
ORDER BY u.id
) TO STDOUT WITH (FORMAT csv, HEADER true);
