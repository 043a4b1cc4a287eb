//! The export query: one row per user, every exported column as text, in registry order.
//! The same query reads a user's current row for `update`, so that the merge sees exactly
//! what an export would show.

use crate::columns::{Col, IncallField, Storage, COLUMNS};
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

/// The SQL expression giving a column's exported text for the user `u` (with its first line
/// `l`, voicemail box `v` and CTI profile `c` joined), from the registry's storage binding.
fn expr(col: Col) -> String {
    match col.def().storage {
        Storage::User => format!("u.{}", col.name()),
        Storage::Line(column) => format!("l.{column}"),
        Storage::Voicemail(column) => format!("v.{column}"),
        Storage::LineExten => {
            "(SELECT e.exten FROM extensions e WHERE e.line_id = l.id ORDER BY e.id LIMIT 1)".into()
        }
        // Incoming numbers: sorted by number, the three lists aligned.
        Storage::Incalls(IncallField::Exten) => incall_list("e.exten"),
        Storage::Incalls(IncallField::Context) => incall_list("e.context"),
        // Empty when no incall has one (a single unset value stays empty, several keep
        // their places in the list).
        Storage::Incalls(IncallField::RingSeconds) => concat!(
            "(SELECT CASE WHEN count(i.ring_seconds) = 0 AND count(*) <= 1 THEN NULL ELSE group_concat(coalesce(i.ring_seconds, ''), ';' ",
            incall_order!(),
            ") END FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id)"
        )
        .into(),
        Storage::PermissionNames => "(SELECT group_concat(p.name, ';' ORDER BY p.name) FROM user_call_permissions up JOIN call_permissions p ON p.id = up.call_permission_id WHERE up.user_id = u.id)".into(),
        Storage::CtiProfileName => "c.name".into(),
        Storage::Nothing => "NULL".into(),
    }
}

/// A `;`-list of one field of the user's incalls, in number order.
fn incall_list(field: &str) -> String {
    format!(
        concat!(
            "(SELECT group_concat({}, ';' ",
            incall_order!(),
            ") FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id)"
        ),
        field
    )
}

/// The exported columns, in export order.
pub fn exported() -> impl Iterator<Item = Col> {
    COLUMNS.iter().filter(|c| c.is_exported()).map(|c| c.col)
}

/// The export query over `cols`, with `u.id` first; `filter` is a fixed SQL condition on `u`
/// whose parameters the caller binds.
pub fn select(cols: &[Col], filter: &str) -> String {
    let exprs: Vec<String> = cols.iter().map(|c| expr(*c)).collect();
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
