//! The header line: column names matched against the registry (trimmed, case-insensitive),
//! duplicates refused, unknown names kept with the closest known name for the warning.

use crate::columns::{self, Col, N};
use crate::error::{Error, Result};

/// The header of an input, resolved against the column registry.
#[derive(Clone, Debug)]
pub struct Header {
    /// The names as written.
    pub names: Vec<String>,
    /// For each registry column, the index of its field, if the header has it.
    index: [Option<usize>; N],
    /// Unknown names: field index, name as written, closest known name.
    pub unknown: Vec<(usize, String, Option<&'static str>)>,
}

/// A cell as the header and row give it: absent column, empty cell, or a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell<'a> {
    /// The header has no such column: "not given".
    Absent,
    /// The cell is empty: null.
    Empty,
    /// The cell's text, as written.
    Value(&'a str),
}

impl<'a> Cell<'a> {
    /// The value, if the cell holds one.
    pub fn value(self) -> Option<&'a str> {
        match self {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl Header {
    /// Resolves header names; a duplicate (or, with `strict`, an unknown) name is fatal.
    pub fn resolve(path: &str, names: Vec<String>, strict: bool) -> Result<Header> {
        if names.is_empty() {
            return Err(Error::Header {
                path: path.into(),
                message: "the file is empty: no header line".into(),
                help: "the first line must name the columns, e.g. firstname,lastname".into(),
            });
        }
        let mut index = [None; N];
        let mut unknown = Vec::new();
        for (i, raw) in names.iter().enumerate() {
            let name = raw.trim_start_matches('\u{feff}');
            if name.trim().is_empty() {
                continue; // a trailing delimiter in the header: no column
            }
            match columns::lookup(name) {
                Some(col) => {
                    if let Some(first) = index[col as usize] {
                        return Err(Error::Header {
                            path: path.into(),
                            message: format!(
                                "column '{}' appears twice (fields {} and {})",
                                col.name(),
                                first + 1,
                                i + 1
                            ),
                            help: "remove or rename one of the two columns".into(),
                        });
                    }
                    index[col as usize] = Some(i);
                }
                None => unknown.push((i, name.trim().to_string(), columns::closest(name))),
            }
        }
        if strict {
            if let Some((_, name, close)) = unknown.first() {
                return Err(Error::Header {
                    path: path.into(),
                    message: format!("unknown column '{}'", crate::escape::escape(name)),
                    help: match close {
                        Some(c) => {
                            format!("did you mean '{c}'? (--strict refuses unknown columns)")
                        }
                        None => "see `ucsv columns` for the known columns".into(),
                    },
                });
            }
        }
        Ok(Header {
            names,
            index,
            unknown,
        })
    }

    /// Whether the header has the column.
    pub fn has(&self, col: Col) -> bool {
        self.index[col as usize].is_some()
    }

    /// The field index of a column.
    pub fn position(&self, col: Col) -> Option<usize> {
        self.index[col as usize]
    }

    /// The registry column of a field, if the field names one.
    pub fn col_at(&self, field: usize) -> Option<Col> {
        columns::COLUMNS
            .iter()
            .map(|c| c.col)
            .find(|&col| self.index[col as usize] == Some(field))
    }

    /// How messages name a field: its column name as written, or its number past the
    /// header's width.
    pub fn describe(&self, field: usize) -> String {
        match self.names.get(field) {
            Some(name) if !name.trim().is_empty() => {
                format!("column '{}'", name.trim_start_matches('\u{feff}').trim())
            }
            _ => format!("field {}", field + 1),
        }
    }

    /// The number of fields the header has.
    pub fn width(&self) -> usize {
        self.names.len()
    }

    /// The cell of `col` in `record`.
    pub fn cell<'r>(&self, record: &'r csv::StringRecord, col: Col) -> Cell<'r> {
        match self.index[col as usize] {
            None => Cell::Absent,
            Some(i) => match record.get(i) {
                None | Some("") => Cell::Empty,
                Some(v) => Cell::Value(v),
            },
        }
    }
}
