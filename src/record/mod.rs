//! Rows → typed per-resource records, with every row-local rule checked.
//!
//! [`Fields`] checks each cell against its column's rule once; the group modules then build
//! their typed record from it (or report the group incomplete). Everything here is pure and
//! runs in the parallel stage: it sees one row and never the database.

mod cell;
mod incall;
mod line;
mod user;
mod voicemail;

pub use cell::{bidi_warning, check, check_warn, parse_int, shown, IntError, Value};
pub use incall::Incall;
pub use line::{generate_provisioning_code, generate_sip_username, Line, Protocol};
pub use user::{hash_password, Cti, Login, User};
pub use voicemail::Voicemail;

use crate::columns::{Col, Group};
use crate::error::RowError;
use crate::read::{Cell, Header, RawRow};

/// The state of one cell after checking.
#[derive(Clone, Debug)]
enum State {
    Absent,
    Empty,
    Good(Value),
    Bad,
}

/// The cells of one row, each checked against its column's rule.
pub struct Fields {
    states: Vec<State>,
    /// Every problem found so far.
    pub errors: Vec<RowError>,
    /// What is worth a look but does not stop the row (e.g. a bidirectional control).
    pub warnings: Vec<RowError>,
}

impl Fields {
    /// Checks every cell of `record` that the header names.
    pub fn check(header: &Header, record: &csv::StringRecord) -> Fields {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let states = crate::columns::COLUMNS
            .iter()
            .map(|c| match header.cell(record, c.col) {
                Cell::Absent => State::Absent,
                Cell::Empty => State::Empty,
                Cell::Value(text) => {
                    let (checked, warning) = check_warn(c.col, text);
                    warnings.extend(warning);
                    match checked {
                        Ok(v) => State::Good(v),
                        Err(e) => {
                            errors.push(e);
                            State::Bad
                        }
                    }
                }
            })
            .collect();
        Fields {
            states,
            errors,
            warnings,
        }
    }

    /// The fields of an update row merged into its stored user. `merged` holds every
    /// registry column's text after the merge. A column holding the row's own cell
    /// (`given`) takes its state, checked in the parallel stage, and its errors; any other
    /// holds the stored value (or what the merge put there: a new password hash, an emptied
    /// cell), taken as it is: it passed its rule when it was written.
    pub fn merged<'a>(
        row: Fields,
        given: impl Fn(Col) -> Option<&'a str>,
        merged: &[&str],
    ) -> Fields {
        let mut taken = [false; crate::columns::N];
        let mut stored_errors = Vec::new();
        // The row's states, changed in place where the merged record holds something else.
        let mut states = row.states;
        for ((c, &text), state) in crate::columns::COLUMNS
            .iter()
            .zip(merged)
            .zip(states.iter_mut())
        {
            if text.is_empty() {
                *state = State::Empty;
            } else if given(c.col) == Some(text) {
                taken[c.col as usize] = true;
            } else {
                *state = match cell::stored(c.col, text) {
                    Ok(v) => State::Good(v),
                    Err(e) => {
                        stored_errors.push(e);
                        State::Bad
                    }
                };
            }
        }
        let mut errors: Vec<RowError> = row
            .errors
            .into_iter()
            .filter(|e| {
                e.column
                    .and_then(crate::columns::lookup)
                    .is_some_and(|c| taken[c as usize])
            })
            .collect();
        errors.extend(stored_errors);
        Fields {
            states,
            errors,
            warnings: Vec::new(),
        }
    }

    /// Whether the column is in the header.
    pub fn present(&self, col: Col) -> bool {
        !matches!(self.states[col as usize], State::Absent)
    }

    /// Whether the cell holds something (valid or not).
    pub fn filled(&self, col: Col) -> bool {
        matches!(self.states[col as usize], State::Good(_) | State::Bad)
    }

    /// The checked value, if the cell holds a valid one.
    pub fn value(&self, col: Col) -> Option<&Value> {
        match &self.states[col as usize] {
            State::Good(v) => Some(v),
            _ => None,
        }
    }

    /// Takes the checked value out of a cell, for the one record built from it (each group
    /// builds its record from its own columns; others only ask whether they are filled):
    /// the cell still counts as filled, but its value is gone.
    pub fn take(&mut self, col: Col) -> Option<Value> {
        let state = &mut self.states[col as usize];
        if !matches!(state, State::Good(_)) {
            return None;
        }
        match std::mem::replace(state, State::Bad) {
            State::Good(v) => Some(v),
            _ => None,
        }
    }

    /// [`Fields::text`], taken out of the cell (see [`Fields::take`]).
    pub fn take_text(&mut self, col: Col) -> Option<String> {
        self.value(col).and_then(Value::as_text)?;
        match self.take(col) {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// [`Fields::list`], taken out of the cell (see [`Fields::take`]).
    pub fn take_list(&mut self, col: Col) -> Option<Vec<String>> {
        self.list(col)?;
        match self.take(col) {
            Some(Value::List(items)) => Some(items),
            _ => None,
        }
    }

    /// The text of a valid text cell.
    pub fn text(&self, col: Col) -> Option<String> {
        self.value(col).and_then(Value::as_text).map(str::to_string)
    }

    /// The integer of a valid int cell.
    pub fn int(&self, col: Col) -> Option<i64> {
        match self.value(col) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// The boolean of a valid bool cell.
    pub fn bool(&self, col: Col) -> Option<bool> {
        match self.value(col) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// The items of a valid list cell.
    pub fn list(&self, col: Col) -> Option<&[String]> {
        match self.value(col) {
            Some(Value::List(items)) => Some(items),
            _ => None,
        }
    }

    /// Whether any cell of the group holds something.
    pub fn group_filled(&self, group: Group) -> bool {
        group.columns().any(|c| self.filled(c.col))
    }

    /// Reports each required column of a partly filled group that is empty or absent.
    /// Returns whether the group is complete.
    pub fn require(&mut self, group: Group) -> bool {
        let given: Vec<&str> = group
            .columns()
            .filter(|c| self.filled(c.col))
            .map(|c| c.name)
            .collect();
        let mut complete = true;
        for c in group.columns().filter(|c| c.is_required()) {
            if !self.filled(c.col) {
                complete = false;
                self.errors.push(RowError::with_code(
                    Some(c.name),
                    &format!("{}.incomplete", group.name()),
                    format!(
                        "{} is required: the {} group is partly filled ({} given); fill it or empty the group",
                        c.name,
                        group.name(),
                        given.join(", ")
                    ),
                ));
            }
        }
        complete
    }

    /// Adds an error.
    pub fn push(&mut self, e: RowError) {
        self.errors.push(e);
    }
}

/// A row turned into typed records, ready to be planned against the database.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// 1-based data row index.
    pub row_number: u64,
    /// Physical line of the record.
    pub line: u64,
    /// The user.
    pub user: User,
    /// Login credentials, if given.
    pub login: Option<Login>,
    /// CTI client profile, if given.
    pub cti: Option<Cti>,
    /// The phone line, if given.
    pub phone: Option<Line>,
    /// The internal extension of the line, if given.
    pub exten: Option<String>,
    /// Incoming numbers (empty: none).
    pub incalls: Vec<Incall>,
    /// The voicemail box, if given.
    pub voicemail: Option<Voicemail>,
    /// Call permission names, if given.
    pub permissions: Option<Vec<String>>,
    /// The row-local errors; a row with any is checked against the database but not written.
    pub errors: Vec<RowError>,
    /// The row-local warnings, reported with the row if it is written.
    pub warnings: Vec<RowError>,
}

/// Parses and checks one row for import. A row with the wrong number of fields is refused
/// outright; otherwise the errors travel in [`Parsed::errors`].
pub fn parse_import(header: &Header, raw: &RawRow) -> Result<Parsed, Vec<RowError>> {
    if raw.record.len() != header.width() {
        return Err(vec![field_count_error(raw.record.len(), header.width())]);
    }
    Ok(build(
        Fields::check(header, &raw.record),
        raw.row_number,
        raw.line,
    ))
}

/// Builds the typed records of a row from its checked fields.
pub fn build(mut f: Fields, row_number: u64, line: u64) -> Parsed {
    let user = User::build(&mut f);
    let login = Login::build(&mut f);
    let cti = Cti::build(&mut f);
    let phone = Line::build(&mut f);
    let exten = line::build_exten(&mut f);
    let incalls = Incall::build(&mut f);
    let voicemail = Voicemail::build(&mut f);
    let permissions = voicemail::build_permissions(&mut f);
    // A row already rejected is not worth the password hash; it is still planned, so that
    // its errors against the database are reported too.
    let ok = f.errors.is_empty();
    Parsed {
        row_number,
        line,
        user,
        login: login.map(|l| if ok { l.hashed() } else { l }),
        cti,
        phone: phone.map(Line::with_generated),
        exten,
        incalls,
        voicemail,
        permissions,
        errors: f.errors,
        warnings: f.warnings,
    }
}

/// A row given as (column, text) pairs rather than read from a file: its header and cells
/// (a column given twice keeps its last text). Doors other than a CSV file (a command's
/// options, a request body) build their rows here.
pub fn row_of(cells: &[(Col, &str)], row_number: u64) -> (Header, RawRow) {
    let mut kept: Vec<(Col, &str)> = Vec::with_capacity(cells.len());
    for &(col, text) in cells {
        match kept.iter_mut().find(|(c, _)| *c == col) {
            Some(k) => k.1 = text,
            None => kept.push((col, text)),
        }
    }
    let names = kept.iter().map(|(c, _)| c.name().to_string()).collect();
    // Distinct registry names always resolve.
    let header = Header::resolve("row", names, true).unwrap_or_else(|e| unreachable!("{e}"));
    let record = csv::StringRecord::from(kept.iter().map(|(_, v)| *v).collect::<Vec<_>>());
    let raw = RawRow {
        row_number,
        line: row_number,
        record,
        errors: Vec::new(),
        warnings: Vec::new(),
        empty: false,
    };
    (header, raw)
}

/// A draft user for create, from (column, text) pairs, with every row-local rule checked
/// (the errors travel in [`Parsed::errors`]).
pub fn draft(cells: &[(Col, &str)], row_number: u64) -> Parsed {
    let (header, raw) = row_of(cells, row_number);
    // The record has exactly the header's width.
    parse_import(&header, &raw).unwrap_or_else(|e| unreachable!("{e:?}"))
}

/// What an update row says of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Given<'a> {
    /// The column is not in the header: leave the value as stored.
    Absent,
    /// The cell is empty: unset the value.
    Empty,
    /// The cell's text, as written.
    Text(&'a str),
}

/// An update row after the parallel stage, free of its file: what it says of each column,
/// its cells checked against their rules, its password hashed. Only the merge with the
/// stored user is left to the writer.
pub struct Patch {
    /// 1-based data row index.
    pub row_number: u64,
    /// Physical line of the record.
    pub line: u64,
    /// The row's fields, as read (one buffer, rather than a string a cell).
    record: csv::StringRecord,
    /// Every registry column, by index: its field in `record`, if the header has it.
    fields_at: [Option<usize>; crate::columns::N],
    /// The row's cells, each checked against its column's rule.
    pub fields: Fields,
    /// The argon2id hash of the row's password, if it gives a valid one.
    pub hash: Option<String>,
}

impl Patch {
    /// Takes the row's checked cells out of it (to be merged, see [`Fields::merged`]).
    pub fn take_fields(&mut self) -> Fields {
        std::mem::replace(
            &mut self.fields,
            Fields {
                states: Vec::new(),
                errors: Vec::new(),
                warnings: Vec::new(),
            },
        )
    }

    /// What the row says of `col`.
    pub fn cell(&self, col: Col) -> Given<'_> {
        match self.fields_at[col as usize].map(|i| self.record.get(i)) {
            None => Given::Absent,
            Some(None | Some("")) => Given::Empty,
            Some(Some(v)) => Given::Text(v),
        }
    }

    /// The row's text for `col`, if it gives one.
    pub fn text(&self, col: Col) -> Option<&str> {
        match self.cell(col) {
            Given::Text(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the row has the column (empty or not).
    pub fn has(&self, col: Col) -> bool {
        self.cell(col) != Given::Absent
    }
}

/// Parses and checks one row for update: its shape, every cell it gives, its password's
/// hash. A row with the wrong number of fields is refused outright.
pub fn parse_update(header: &Header, raw: &RawRow) -> Result<Patch, Vec<RowError>> {
    if raw.record.len() != header.width() {
        return Err(vec![field_count_error(raw.record.len(), header.width())]);
    }
    let mut fields_at = [None; crate::columns::N];
    for c in crate::columns::COLUMNS {
        fields_at[c.col as usize] = header.position(c.col);
    }
    let hash = match header.cell(&raw.record, Col::Password) {
        Cell::Value(p) if check(Col::Password, p).is_ok() => Some(hash_password(p)),
        _ => None,
    };
    Ok(Patch {
        row_number: raw.row_number,
        line: raw.line,
        record: raw.record.clone(),
        fields_at,
        fields: Fields::check(header, &raw.record),
        hash,
    })
}

/// The error of a row whose number of fields differs from the header's.
pub fn field_count_error(fields: usize, header: usize) -> RowError {
    RowError::with_code(
        None,
        "row.field_count",
        format!("the row has {fields} fields but the header has {header}"),
    )
}

/// The user-group columns stored as plain fields of `users` (all but uuid and entity_id).
pub fn user_fields() -> impl Iterator<Item = Col> {
    crate::columns::COLUMNS
        .iter()
        .filter(|c| c.group == Group::User && !matches!(c.col, Col::Uuid | Col::EntityId))
        .map(|c| c.col)
}
