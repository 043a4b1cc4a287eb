//! Statements both backends run alike: a plain value in ([`Param`]), a plain value out
//! ([`Cell`]) and [`Db`], the few calls the reference data, counts and listings need. The
//! SQL is written once, in the subset both dialects share (`ON CONFLICT`, `RETURNING`,
//! `string_agg`, quoted `"end"`), with SQLite's `?N` placeholders, which the PostgreSQL
//! backend turns into `$N`.

use crate::error::{Error, Result};
use std::path::Path;

/// A statement parameter.
#[derive(Clone, Copy, Debug)]
pub enum Param<'a> {
    Int(i64),
    Text(&'a str),
    Null,
}

impl From<i64> for Param<'_> {
    fn from(i: i64) -> Self {
        Param::Int(i)
    }
}

impl<'a> From<&'a str> for Param<'a> {
    fn from(s: &'a str) -> Self {
        Param::Text(s)
    }
}

impl<'a, T: Into<Param<'a>>> From<Option<T>> for Param<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Param::Null, Into::into)
    }
}

/// A result cell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    Null,
    Int(i64),
    Text(String),
}

impl Cell {
    /// The cell as an integer (0 for null or text).
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(i) => *i,
            _ => 0,
        }
    }

    /// The cell as an optional integer.
    pub fn opt_int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The cell as text (integers in decimal, null as `None`).
    pub fn opt_text(self) -> Option<String> {
        match self {
            Cell::Null => None,
            Cell::Int(i) => Some(i.to_string()),
            Cell::Text(s) => Some(s),
        }
    }

    /// The cell as text, null as empty.
    pub fn text(self) -> String {
        self.opt_text().unwrap_or_default()
    }
}

/// The statements the backend-neutral parts of the store run.
pub trait Db {
    /// Runs a statement; returns the number of rows it changed.
    fn exec(&self, sql: &str, params: &[Param<'_>]) -> Result<u64>;
    /// Runs a query; returns every row.
    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>>;
    /// Runs statements without parameters (BEGIN, COMMIT, a migration).
    fn batch(&self, sql: &str) -> Result<()>;
}

/// An SQLite connection as a [`Db`].
pub struct Sqlite<'a> {
    pub conn: &'a rusqlite::Connection,
    pub path: &'a Path,
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{Null, ToSqlOutput};
        Ok(match self {
            Param::Int(i) => ToSqlOutput::from(*i),
            Param::Text(s) => ToSqlOutput::from(*s),
            Param::Null => ToSqlOutput::from(Null),
        })
    }
}

/// An SQLite value as a cell.
pub fn sqlite_cell(v: rusqlite::types::ValueRef<'_>) -> Cell {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Text(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(String::from_utf8_lossy(t).into()),
    }
}

impl Db for Sqlite<'_> {
    fn exec(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut st| st.execute(rusqlite::params_from_iter(params)))
            .map(|n| n as u64)
            .map_err(|e| Error::db(self.path, e))
    }

    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut st| {
                let n = st.column_count();
                st.query_map(rusqlite::params_from_iter(params), |r| {
                    (0..n).map(|i| r.get_ref(i).map(sqlite_cell)).collect()
                })?
                .collect()
            })
            .map_err(|e| Error::db(self.path, e))
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| Error::db(self.path, e))
    }
}
