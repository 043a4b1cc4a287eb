-- The export baseline: the sqlite3 shell writing the same join as ucsv's export (one row
-- per user, the 44 columns in export order) as CSV to ./export_baseline.csv. The ordered
-- lists use ordered subqueries, as sqlite3 shells before 3.44 have no ORDER BY in aggregates.
-- Run: sqlite3 ucsv.db < benches/export_baseline.sql
.headers on
.mode csv
.output export_baseline.csv
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
  (SELECT group_concat(x, ';') FROM (SELECT e.exten AS x FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id ORDER BY length(e.exten), e.exten, e.context)) AS incall_exten,
  (SELECT group_concat(x, ';') FROM (SELECT e.context AS x FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id ORDER BY length(e.exten), e.exten, e.context)) AS incall_context,
  (SELECT group_concat(x, ';') FROM (SELECT p.name AS x FROM user_call_permissions up JOIN call_permissions p ON p.id = up.call_permission_id WHERE up.user_id = u.id ORDER BY p.name)) AS call_permissions,
  u.username AS username,
  u.entity_id AS entity_id,
  u.cti_profile_enabled AS cti_profile_enabled,
  c.name AS cti_profile_name,
  (SELECT CASE WHEN count(r) = 0 AND count(*) <= 1 THEN NULL ELSE group_concat(coalesce(r, ''), ';') END FROM (SELECT i.ring_seconds AS r FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id ORDER BY length(e.exten), e.exten, e.context)) AS incall_ring_seconds,
  u.password_hash AS password_hash
FROM users u
LEFT JOIN lines l ON l.id = (SELECT min(id) FROM lines WHERE user_id = u.id)
LEFT JOIN user_voicemails uv ON uv.user_id = u.id
LEFT JOIN voicemails v ON v.id = uv.voicemail_id
LEFT JOIN cti_profiles c ON c.id = u.cti_profile_id
ORDER BY u.id;
.output stdout
