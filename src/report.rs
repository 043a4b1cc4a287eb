//! The outcome of a run as data: the entries the pipeline hands to a [`crate::sink::Sink`] as
//! rows come ([`Issue`], [`Rejected`], and the apply stage's `Created` and `Updated`), and the
//! counts it keeps while they pass ([`Outcome`], whose [`Summary`] is the JSON report's
//! `summary`). Nothing here renders, and nothing here grows with the number of rows: the
//! sinks decide what to keep.

use crate::domain::update::Updated;
use crate::domain::Created;
use crate::error::RowError;
use crate::read::Header;
use serde::Serialize;
use std::collections::BTreeMap;

/// One error or warning, placed in the file.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Issue {
    /// The data row, or `null` for the header.
    pub row_number: Option<u64>,
    /// The physical line.
    pub line: u64,
    /// The column at fault, if one is.
    pub column: Option<String>,
    /// Stable code.
    pub code: String,
    /// For people.
    pub message: String,
}

impl Issue {
    /// Places a row error.
    pub fn at(row_number: u64, line: u64, e: &RowError) -> Issue {
        Issue {
            row_number: Some(row_number),
            line,
            column: e.column.map(str::to_string),
            code: e.code.clone(),
            message: e.message.clone(),
        }
    }

    /// The header's warnings: one per unknown column, with the closest known name if any.
    pub fn unknown_columns(header: &Header) -> Vec<Issue> {
        header
            .unknown
            .iter()
            .map(|(_, name, close)| {
                let hint = close.map_or_else(
                    || " (see `ucsv columns`)".to_string(),
                    |c| format!("; did you mean '{c}'?"),
                );
                Issue {
                    row_number: None,
                    line: 1,
                    column: Some(name.clone()),
                    code: "header.unknown_column".into(),
                    message: format!("unknown column '{name}' is ignored{hint}"),
                }
            })
            .collect()
    }
}

/// Counts of created resources.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Users created.
    pub users: u64,
    /// Lines created.
    pub lines: u64,
    /// Extensions created (a free existing one that a line claimed counts in `reused`).
    pub extensions: u64,
    /// Incoming numbers created.
    pub incalls: u64,
    /// Voicemail boxes created (a shared box is not).
    pub voicemails: u64,
    /// Call permissions granted.
    pub call_permissions: u64,
}

impl Counts {
    /// Adds what one row created.
    pub fn add(&mut self, c: &Created) {
        self.users += 1;
        self.lines += u64::from(c.line_id.is_some());
        self.extensions += u64::from(c.extension_id.is_some() && !c.extension_reused);
        self.incalls += c.incall_ids.len() as u64;
        self.voicemails += u64::from(c.voicemail_created);
        self.call_permissions += c.call_permission_ids.len() as u64;
    }
}

/// Counts of free existing resources that rows claimed instead of creating.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Reused {
    /// Free existing extensions given to lines.
    pub extensions: u64,
}

/// The summary block of the JSON report (its fields serialize in this order).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// What the rows created.
    pub created: Counts,
    /// Free existing resources claimed instead of created.
    pub reused: Reused,
    /// On update: changed and unchanged users.
    pub updated: BTreeMap<String, u64>,
    /// Rows rejected.
    pub rejected: u64,
}

/// A rejected row with its cells, as the sinks receive it.
#[derive(Clone, Debug)]
pub struct Rejected {
    /// 1-based data row index.
    pub row_number: u64,
    /// Physical line of the record.
    pub line: u64,
    /// The row's cells as read.
    pub record: csv::StringRecord,
    /// Every error found in the row.
    pub errors: Vec<RowError>,
}

/// What a run did, counted as its rows pass to the sink; handed to [`crate::sink::Sink::finish`]
/// at the end. Its size does not depend on the number of rows.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The command named in the report.
    pub command: &'static str,
    /// The field delimiter used (sniffed from the header unless given).
    pub delimiter: u8,
    /// Whether the run was to be rolled back whatever happened.
    pub dry_run: bool,
    /// Whether the rows were updates (for the summary's wording).
    pub is_update: bool,
    /// Whether the transaction was committed.
    pub committed: bool,
    /// Data rows seen.
    pub rows: u64,
    /// The counts of the JSON report's `summary`.
    pub summary: Summary,
    /// Errors over all rejected rows.
    pub errors: u64,
    /// Warnings, the header's included.
    pub warnings: u64,
}

impl Outcome {
    /// Nothing counted yet.
    pub fn new(command: &'static str, delimiter: u8, dry_run: bool, is_update: bool) -> Outcome {
        Outcome {
            command,
            delimiter,
            dry_run,
            is_update,
            committed: false,
            rows: 0,
            summary: Summary::default(),
            errors: 0,
            warnings: 0,
        }
    }

    /// Counts a warning.
    pub fn warned(&mut self) {
        self.warnings += 1;
    }

    /// Counts an imported row and what it created.
    pub fn created(&mut self, c: &Created) {
        self.rows += 1;
        self.summary.created.add(c);
        self.summary.reused.extensions += u64::from(c.extension_reused);
    }

    /// Counts an update row: changed (`Some`, with the resources it created) or unchanged.
    pub fn updated(&mut self, u: Option<&Updated>) {
        self.rows += 1;
        let Some(u) = u else {
            *self.summary.updated.entry("unchanged".into()).or_default() += 1;
            return;
        };
        *self.summary.updated.entry("users".into()).or_default() += 1;
        self.summary.reused.extensions += u64::from(u.extension_reused);
        for created in &u.created {
            let c = &mut self.summary.created;
            match *created {
                "line" => c.lines += 1,
                "extension" => c.extensions += 1,
                "incall" => c.incalls += 1,
                _ => c.voicemails += 1,
            }
        }
    }

    /// Counts a rejected row and its errors.
    pub fn rejected(&mut self, row: &Rejected) {
        self.rows += 1;
        self.summary.rejected += 1;
        self.errors += row.errors.len() as u64;
    }

    /// The exit status: 0 when every row was (or would be) applied, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.summary.rejected > 0)
    }
}
