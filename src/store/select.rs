//! The export query: one row per user, every exported column as text, in registry order.
//! The same query reads a user's current row for `update`, so that the merge sees exactly
//! what an export would show.

use crate::columns::{Col, IncallField, Storage};
use rusqlite::types::ValueRef;

/// Which SQL the export query is written in. The expressions are the same; PostgreSQL's
/// are cast to text, so that every cell comes back as the text an export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

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
/// On PostgreSQL the incall lists come from the lateral join `ic` (see [`select_in`]).
pub(super) fn expr(dialect: Dialect, col: Col) -> String {
    match col.def().storage {
        Storage::User => format!("u.{}", col.name()),
        Storage::Line(column) => format!("l.{column}"),
        Storage::Voicemail(column) => format!("v.{column}"),
        Storage::LineExten => {
            "(SELECT e.exten FROM extensions e WHERE e.line_id = l.id ORDER BY e.id LIMIT 1)".into()
        }
        Storage::Incalls(field) => match dialect {
            Dialect::Sqlite => format!(
                "(SELECT {} FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id)",
                incall_aggregate(field)
            ),
            Dialect::Postgres => format!("ic.{}", incall_alias(field)),
        },
        Storage::PermissionNames => "(SELECT string_agg(p.name, ';' ORDER BY p.name) FROM user_call_permissions up JOIN call_permissions p ON p.id = up.call_permission_id WHERE up.user_id = u.id)".into(),
        Storage::CtiProfileName => "c.name".into(),
        Storage::Nothing => "NULL".into(),
    }
}

/// The aggregate over the user's incalls `i` (with their numbers `e`) giving one incall list:
/// sorted by number, the three lists aligned.
fn incall_aggregate(field: IncallField) -> &'static str {
    match field {
        IncallField::Exten => concat!("string_agg(e.exten, ';' ", incall_order!(), ")"),
        IncallField::Context => concat!("string_agg(e.context, ';' ", incall_order!(), ")"),
        // Empty when no incall has one (a single unset value stays empty, several keep
        // their places in the list).
        IncallField::RingSeconds => concat!(
            "CASE WHEN count(i.ring_seconds) = 0 AND count(*) <= 1 THEN NULL ELSE string_agg(coalesce(CAST(i.ring_seconds AS TEXT), ''), ';' ",
            incall_order!(),
            ") END"
        ),
    }
}

/// The column of the lateral join `ic` holding an incall list.
fn incall_alias(field: IncallField) -> &'static str {
    match field {
        IncallField::Exten => "exten",
        IncallField::Context => "context",
        IncallField::RingSeconds => "ring_seconds",
    }
}

/// On PostgreSQL, the aggregate giving an incall list over the user's incalls `x`, already in
/// number order (the lateral join sorts them once for the three lists; [`incall_aggregate`]'s
/// ordered aggregates would sort them once each).
fn incall_aggregate_sorted(field: IncallField) -> &'static str {
    match field {
        IncallField::Exten => "string_agg(x.exten, ';')",
        IncallField::Context => "string_agg(x.context, ';')",
        IncallField::RingSeconds => "CASE WHEN count(x.ring_seconds) = 0 AND count(*) <= 1 THEN NULL ELSE string_agg(coalesce(CAST(x.ring_seconds AS TEXT), ''), ';') END",
    }
}

/// The export query over `cols`, with `u.id` first; `filter` is a fixed SQL condition on `u`
/// whose parameters the caller binds.
pub fn select(cols: &[Col], filter: &str) -> String {
    select_with(cols, &[], filter)
}

/// The export query with `extra` expressions after the columns' (over the same joins: the
/// first line `l`, the voicemail link `uv`).
pub fn select_with(cols: &[Col], extra: &[&str], filter: &str) -> String {
    select_in(Dialect::Sqlite, cols, extra, filter)
}

/// [`select_with`] in a dialect.
///
/// PostgreSQL gets the same answers from a shape that costs its executor less (measured on
/// 100,000 users: 1.3 s of server CPU instead of 2.3 s): the first line as a lateral `LIMIT
/// 1` (one index probe a user; SQLite's `l.id = (SELECT min(id) ...)` join condition became
/// a hash key computed per row, and a plan that scans the whole table per user when the
/// statistics are missing) and the three incall lists from one lateral aggregate (one join
/// of incalls and numbers, sorted once, a user instead of three).
pub fn select_in(dialect: Dialect, cols: &[Col], extra: &[&str], filter: &str) -> String {
    let exprs: Vec<String> = cols
        .iter()
        .map(|c| match dialect {
            Dialect::Sqlite => expr(dialect, *c),
            Dialect::Postgres => format!("CAST({} AS TEXT)", expr(dialect, *c)),
        })
        .chain(extra.iter().map(|e| e.to_string()))
        .collect();
    let (line, incalls) = match dialect {
        Dialect::Sqlite => (
            "LEFT JOIN lines l ON l.id = (SELECT min(id) FROM lines WHERE user_id = u.id)".into(),
            String::new(),
        ),
        Dialect::Postgres => {
            let fields: Vec<IncallField> = cols
                .iter()
                .filter_map(|c| match c.def().storage {
                    Storage::Incalls(f) => Some(f),
                    _ => None,
                })
                .collect();
            let incalls = if fields.is_empty() {
                String::new()
            } else {
                let aggregates: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{} AS {}", incall_aggregate_sorted(*f), incall_alias(*f)))
                    .collect();
                // A plain aggregate over a sorted subquery takes its rows in that order.
                format!(
                    concat!(
                        "CROSS JOIN LATERAL (SELECT {} FROM (SELECT e.exten, e.context, i.ring_seconds FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = u.id ",
                        incall_order!(),
                        ") x) ic"
                    ),
                    aggregates.join(", ")
                )
            };
            (
                "LEFT JOIN LATERAL (SELECT * FROM lines WHERE user_id = u.id ORDER BY id LIMIT 1) l ON true"
                    .to_string(),
                incalls,
            )
        }
    };
    format!(
        "SELECT u.id, {} FROM users u
         {line}
         LEFT JOIN user_voicemails uv ON uv.user_id = u.id
         LEFT JOIN voicemails v ON v.id = uv.voicemail_id
         LEFT JOIN cti_profiles c ON c.id = u.cti_profile_id
         {incalls}
         WHERE {filter} ORDER BY u.id",
        exprs.join(", ")
    )
}

/// Whether a column's text is a list of the user's incalls or call permissions.
pub fn is_list(col: Col) -> bool {
    matches!(
        col.def().storage,
        Storage::Incalls(_) | Storage::PermissionNames
    )
}

/// [`select_with`] with NULL for the lists ([`is_list`]), in no particular order: for users
/// whose incalls and call permissions are read apart, a batch at a time, and laid out by
/// [`IncallLists`] and [`GroupConcat`].
pub fn select_without_lists(cols: &[Col], extra: &[&str], filter: &str) -> String {
    let exprs = cols.iter().map(|c| match is_list(*c) {
        true => "NULL".to_string(),
        false => expr(Dialect::Sqlite, *c),
    });
    select_exprs(exprs, extra, filter)
}

fn select_exprs(cols: impl Iterator<Item = String>, extra: &[&str], filter: &str) -> String {
    let exprs: Vec<String> = cols.chain(extra.iter().map(|e| e.to_string())).collect();
    format!(
        "SELECT u.id, {} FROM users u
         LEFT JOIN lines l ON l.id = (SELECT min(id) FROM lines WHERE user_id = u.id)
         LEFT JOIN user_voicemails uv ON uv.user_id = u.id
         LEFT JOIN voicemails v ON v.id = uv.voicemail_id
         LEFT JOIN cti_profiles c ON c.id = u.cti_profile_id
         WHERE {filter}",
        exprs.join(", ")
    )
}

/// A `;`-list as `group_concat(x, ';')` writes it, built an item at a time: a `NULL` item
/// (`None`) is left out, an empty one kept.
#[derive(Debug, Default)]
pub struct GroupConcat {
    text: String,
    items: usize,
}

impl GroupConcat {
    /// Adds the next item.
    pub fn push(&mut self, item: Option<&str>) {
        if let Some(item) = item {
            if self.items > 0 {
                self.text.push(';');
            }
            self.text.push_str(item);
            self.items += 1;
        }
    }

    /// The list's text (empty for no items, as the export writes `NULL`).
    pub fn finish(self) -> String {
        self.text
    }
}

/// A user's three incall lists as the export query writes them, built from the incalls read
/// one by one in number order ([`incall_order!`]), each field as SQL text (`NULL` as
/// `None`): an unset ring time is an empty item (so the list of a single incall without
/// one is empty, as the query's `CASE` has it). A user's call permissions are a
/// [`GroupConcat`] of their names in name order.
#[derive(Debug, Default)]
pub struct IncallLists {
    exten: GroupConcat,
    context: GroupConcat,
    ring: GroupConcat,
}

impl IncallLists {
    /// Adds the next incall.
    pub fn push(&mut self, exten: Option<&str>, context: Option<&str>, ring: Option<&str>) {
        self.exten.push(exten);
        self.context.push(context);
        self.ring.push(Some(ring.unwrap_or_default()));
    }

    /// The texts of `incall_exten`, `incall_context` and `incall_ring_seconds`.
    pub fn cells(self) -> [String; 3] {
        [
            self.exten.finish(),
            self.context.finish(),
            self.ring.finish(),
        ]
    }
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
