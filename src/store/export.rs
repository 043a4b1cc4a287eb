//! The export query: one row per user, every exported column as text, in registry order.
//! The same query reads a user's current row for `update`, so that the merge sees exactly
//! what an export would show.

use crate::columns::{Col, COLUMNS};
use rusqlite::types::ValueRef;

/// The order of a user's incoming numbers: by number (shorter first), then context. The
/// export's three incall lists and the update's current numbers all follow it.
#[macro_export]
#[doc(hidden)]
macro_rules! incall_order {
    () => {
        "ORDER BY length(e.exten), e.exten, e.context"
    };
}

/// The SQL expression giving a column's exported text for the user `u`.
fn expr(col: Col) -> &'static str {
    match col {
        Col::Uuid => "u.uuid",
        Col::SubscriptionType => "u.subscription_type",
        Col::Firstname => "u.firstname",
        Col::Lastname => "u.lastname",
        Col::Email => "u.email",
        Col::MobilePhoneNumber => "u.mobile_phone_number",
        Col::OutgoingCallerId => "u.outgoing_caller_id",
        Col::Language => "u.language",
        Col::CallPermissionPassword => "u.call_permission_password",
        Col::Enabled => "u.enabled",
        Col::RingSeconds => "u.ring_seconds",
        Col::SimultaneousCalls => "u.simultaneous_calls",
        Col::SupervisionEnabled => "u.supervision_enabled",
        Col::CallTransferEnabled => "u.call_transfer_enabled",
        Col::DtmfHangupEnabled => "u.dtmf_hangup_enabled",
        Col::CallRecordOutgoingExternalEnabled => "u.call_record_outgoing_external_enabled",
        Col::CallRecordOutgoingInternalEnabled => "u.call_record_outgoing_internal_enabled",
        Col::CallRecordIncomingExternalEnabled => "u.call_record_incoming_external_enabled",
        Col::CallRecordIncomingInternalEnabled => "u.call_record_incoming_internal_enabled",
        Col::OnlineCallRecordEnabled => "u.online_call_record_enabled",
        Col::Userfield => "u.userfield",
        Col::VoicemailName => "v.name",
        Col::VoicemailNumber => "v.number",
        Col::VoicemailContext => "v.context",
        Col::VoicemailPassword => "v.password",
        Col::VoicemailEmail => "v.email",
        Col::VoicemailAttachAudio => "v.attach_audio",
        Col::VoicemailDeleteMessages => "v.delete_messages",
        Col::VoicemailAskPassword => "v.ask_password",
        Col::LineProtocol => "l.protocol",
        Col::ProvisioningCode => "l.provisioning_code",
        Col::Context => "l.context",
        Col::SipUsername => "l.sip_username",
        Col::SipSecret => "l.sip_secret",
        Col::Exten => {
            "(SELECT e.exten FROM extensions e WHERE e.line_id = l.id ORDER BY e.id LIMIT 1)"
        }
        // Incoming numbers: sorted by number, the three lists aligned.
        Col::IncallExten => {
            concat!("(SELECT group_concat(e.exten, ';' ", incall_order!(), ") FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id)")
        }
        Col::IncallContext => {
            concat!("(SELECT group_concat(e.context, ';' ", incall_order!(), ") FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id)")
        }
        Col::IncallRingSeconds => {
            concat!("(SELECT CASE WHEN count(i.ring_seconds) = 0 AND count(*) <= 1 THEN NULL ELSE group_concat(coalesce(i.ring_seconds, ''), ';' ", incall_order!(), ") END FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id)")
        }
        Col::CallPermissions => {
            "(SELECT group_concat(p.name, ';' ORDER BY p.name) FROM user_call_permissions up JOIN call_permissions p ON p.id = up.call_permission_id WHERE up.user_id = u.id)"
        }
        Col::Username => "u.username",
        Col::EntityId => "u.entity_id",
        Col::CtiProfileEnabled => "u.cti_profile_enabled",
        Col::CtiProfileName => "c.name",
        Col::PasswordHash => "u.password_hash",
        Col::Password => "NULL",
    }
}

/// The exported columns, in export order.
pub fn exported() -> impl Iterator<Item = Col> {
    COLUMNS.iter().filter(|c| c.is_exported()).map(|c| c.col)
}

/// The export query over `cols`, with `u.id` first; `filter` is a fixed SQL condition on `u`
/// whose parameters the caller binds.
pub fn select(cols: &[Col], filter: &str) -> String {
    let exprs: Vec<&str> = cols.iter().map(|c| expr(*c)).collect();
    format!(
        "SELECT u.id, {} FROM users u
         LEFT JOIN lines l ON l.id = (SELECT min(id) FROM lines WHERE user_id = u.id)
         LEFT JOIN user_voicemails uv ON uv.user_id = u.id
         LEFT JOIN voicemails v ON v.id = uv.voicemail_id
         LEFT JOIN cti_profiles c ON c.id = u.cti_profile_id
         WHERE {filter} ORDER BY u.id",
        exprs.join(", ")
    )
}

/// A cell's exported text: integers in decimal, null as empty.
pub fn text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    }
}

/// What to export.
#[derive(Clone)]
pub struct ExportOptions {
    /// Only users of this entity.
    pub entity: Option<i64>,
    /// The columns, in order.
    pub columns: Vec<Col>,
    /// Where to show progress (users written).
    pub progress: crate::progress::Progress,
    /// Prefix cells that a spreadsheet would run as a formula with `'`.
    pub excel_safe: bool,
}

/// Whether a spreadsheet would take the cell for a formula (OWASP's CSV injection list):
/// it starts with `=`, `@`, TAB or CR, or with `+` or `-` not followed by a plain number
/// (`+33123456789` and `-5` are numbers and stay as they are).
pub fn formula_like(cell: &[u8]) -> bool {
    match cell.first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !plain_number(&cell[1..]),
        _ => false,
    }
}

/// Digits, optionally with one decimal point between digits.
fn plain_number(s: &[u8]) -> bool {
    let mut parts = s.splitn(2, |&b| b == b'.');
    let digits = |p: &[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    parts.next().is_some_and(digits) && parts.next().is_none_or(digits)
}

/// Streams the users as CSV records (header first) into `out`; returns the number of users.
/// Memory stays constant whatever the number of users.
pub fn write<W: std::io::Write>(
    store: &super::Store,
    opts: &ExportOptions,
    out: &mut csv::Writer<W>,
) -> crate::error::Result<u64> {
    let io = |e| crate::error::Error::csv_output("export", e);
    out.write_record(opts.columns.iter().map(|c| c.name()))
        .map_err(io)?;
    let sql = select(&opts.columns, "(?1 IS NULL OR u.entity_id = ?1)");
    let mut st = store.conn.prepare(&sql).map_err(|e| store.err(e))?;
    let mut rows = st.query([opts.entity]).map_err(|e| store.err(e))?;
    let mut n = 0;
    let mut record = csv::ByteRecord::new();
    while let Some(row) = rows.next().map_err(|e| store.err(e))? {
        record.clear();
        for i in 0..opts.columns.len() {
            let v = row.get_ref(i + 1).map_err(|e| store.err(e))?;
            match v {
                ValueRef::Text(t) if opts.excel_safe && formula_like(t) => {
                    record.push_field(&[b"'", t].concat())
                }
                ValueRef::Text(t) => record.push_field(t),
                other => record.push_field(text(other).as_bytes()),
            }
        }
        out.write_byte_record(&record).map_err(io)?;
        n += 1;
        if n % 4096 == 0 {
            opts.progress.set(n);
        }
    }
    opts.progress.finish();
    out.flush().map_err(|e| io(e.into()))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::formula_like;

    #[test]
    fn formula_like_cells_are_those_a_spreadsheet_would_run() {
        for cell in [
            "=1+1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "+",
            "-1.",
            "+.5",
        ] {
            assert!(formula_like(cell.as_bytes()), "{cell:?}");
        }
        for cell in ["+33123456789", "-5", "-1.25", "Ann", "a=b", "", "1000"] {
            assert!(!formula_like(cell.as_bytes()), "{cell:?}");
        }
    }
}
