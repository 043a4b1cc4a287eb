//! One cell checked against its column's rule: the typed value, or the row error saying why
//! not. Messages never echo the value of a secret column.
//!
//! Before its rule, a cell is scanned for control characters (`controls.rs`); the rules are
//! in `rules.rs`, with the integers they read in `int.rs` and the password hash in `phc.rs`.

mod controls;
mod int;
mod phc;
mod rules;

pub use int::{parse_int, IntError};

use crate::columns::{Col, Rule};
use crate::error::RowError;
use controls::{bidi_warning_at, control_error, scan};
use rules::check_rule;

/// A checked cell value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Text, kept as written.
    Text(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A `;`-list of texts, each checked against the rule.
    List(Vec<String>),
}

impl Value {
    /// The text, for text values.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Shows a value in a message, unless the column is a secret.
pub fn shown(col: Col, value: &str) -> String {
    if col.def().is_secret() {
        "(value not shown)".to_string()
    } else {
        format!("'{value}'")
    }
}

/// Checks one non-empty cell against the rule of its column.
pub fn check(col: Col, text: &str) -> Result<Value, RowError> {
    check_warn(col, text).0
}

/// Checks one non-empty cell, with the warning its text deserves (a bidirectional control).
pub fn check_warn(col: Col, text: &str) -> (Result<Value, RowError>, Option<RowError>) {
    let found = scan(text, col.def().is_multiline());
    let warning = found.bidi.map(|at| bidi_warning_at(col, text, at));
    match found.control {
        Some(at) => (Err(control_error(col, text, at)), warning),
        None => (check_rule(col, text), warning),
    }
}

/// The warning a cell deserves for a bidirectional control, if it holds one.
pub fn bidi_warning(col: Col, text: &str) -> Option<RowError> {
    scan(text, col.def().is_multiline())
        .bidi
        .map(|at| bidi_warning_at(col, text, at))
}

/// A stored value as the checks would have made it, without checking it again: it passed
/// its column's rule when it was written. A boolean or integer that does not read as one (a
/// database changed by hand) is checked after all, so that it is reported, not guessed.
pub fn stored(col: Col, text: &str) -> Result<Value, RowError> {
    let def = col.def();
    if def.is_list() {
        return Ok(Value::List(text.split(';').map(str::to_string).collect()));
    }
    match (def.rule, text) {
        (Rule::Bool { .. }, "0") => Ok(Value::Bool(false)),
        (Rule::Bool { .. }, "1") => Ok(Value::Bool(true)),
        (Rule::Bool { .. }, _) => check_rule(col, text),
        (Rule::Int { .. } | Rule::EntityId, _) => match text.parse() {
            Ok(n) => Ok(Value::Int(n)),
            Err(_) => check_rule(col, text),
        },
        _ => Ok(Value::Text(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code of the error a cell gets.
    pub(super) fn code(col: Col, text: &str) -> String {
        check(col, text).unwrap_err().code
    }

    #[test]
    fn secret_values_are_not_echoed() {
        let e = check(Col::CallPermissionPassword, "hunter2x").unwrap_err();
        assert!(!e.message.contains("hunter2x"), "{}", e.message);
        let e = check(Col::PasswordHash, "plainpassword").unwrap_err();
        assert!(!e.message.contains("plainpassword"), "{}", e.message);
    }
}
