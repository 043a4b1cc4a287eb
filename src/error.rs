//! Errors: a fatal [`Error`] stops the command (exit 2, nothing written); a [`RowError`] is
//! data about one bad row (exit 1) and travels in the report.

use miette::Diagnostic;
use serde::Serialize;
use std::path::PathBuf;
use thiserror::Error;

/// A failure of the whole command. Nothing is written when one is returned.
#[derive(Debug, Error, Diagnostic)]
pub enum Error {
    /// The input file cannot be opened or read.
    #[error("cannot read {path}: {source}")]
    #[diagnostic(
        code(input::unreadable),
        help("check the path and the file's permissions")
    )]
    Input {
        path: String,
        source: std::io::Error,
    },

    /// An output file cannot be written.
    #[error("cannot write {path}: {source}")]
    #[diagnostic(
        code(output::unwritable),
        help("check the path and the directory's permissions")
    )]
    Output {
        path: String,
        source: std::io::Error,
    },

    /// The CSV is malformed beyond one row (e.g. bad quoting at the byte level).
    #[error("{path}: line {line}: {message}")]
    #[diagnostic(code(input::csv), help("{help}"))]
    Csv {
        path: String,
        line: u64,
        message: String,
        help: String,
    },

    /// The header cannot be used.
    #[error("{path}: header: {message}")]
    #[diagnostic(code(header::invalid), help("{help}"))]
    Header {
        path: String,
        message: String,
        help: String,
    },

    /// The input is not valid in its encoding.
    #[error("{path}: line {line} is not valid UTF-8")]
    #[diagnostic(
        code(input::encoding),
        help("the file is probably in a legacy encoding: try --encoding windows-1252")
    )]
    Encoding { path: String, line: u64 },

    /// The input is not text in its encoding: a malformed sequence in a decoded encoding,
    /// NUL bytes, UTF-16 without a byte-order mark.
    #[error("{path}: line {line}: {message}")]
    #[diagnostic(code(input::encoding), help("{help}"))]
    Decode {
        path: String,
        line: u64,
        message: String,
        help: String,
    },

    /// An unknown `--encoding` label.
    #[error("unknown encoding '{0}'")]
    #[diagnostic(
        code(usage::encoding),
        help("use a WHATWG label such as utf-8, windows-1252, iso-8859-15, utf-16le")
    )]
    UnknownEncoding(String),

    /// A command-line value that cannot be used.
    #[error("{message}")]
    #[diagnostic(code(usage::invalid), help("{help}"))]
    Usage { message: String, help: String },

    /// The database cannot be opened, migrated or written.
    #[error("database {path}: {message}")]
    #[diagnostic(code(database::error), help("{help}"))]
    Database {
        path: PathBuf,
        message: String,
        help: String,
    },

    /// The database stayed locked by another writer past the busy timeout.
    #[error("database {path}: {message}")]
    #[diagnostic(
        code(database::busy),
        help("another ucsv (or program) is writing this database; retry when it has finished")
    )]
    Busy { path: PathBuf, message: String },

    /// The database server cannot be reached, or closed the connection (it stopped or
    /// restarted): nothing was written.
    #[error("database {path}: {message}")]
    #[diagnostic(
        code(database::unavailable),
        help("check that the PostgreSQL server runs at the URL's host and port and accepts connections; nothing was written: run it again when it is back")
    )]
    Unavailable { path: PathBuf, message: String },

    /// The disk holding the database is full: nothing was written.
    #[error("database {path}: {message}")]
    #[diagnostic(
        code(database::full),
        help("free space on the disk that holds the database, then run it again: nothing was written")
    )]
    Full { path: PathBuf, message: String },

    /// `init` on a file that exists.
    #[error("database {0} already exists")]
    #[diagnostic(
        code(database::exists),
        help(
            "choose another --db path, or use `ucsv reference apply` to change its reference data"
        )
    )]
    DatabaseExists(PathBuf),

    /// Reference data that cannot be read or applied.
    #[error("reference data {path}: {message}")]
    #[diagnostic(
        code(reference::invalid),
        help("see the reference data format in the README")
    )]
    Reference { path: String, message: String },
}

impl Error {
    /// A CSV writer that could not write `path` (its I/O error kept as the cause).
    pub fn csv_output(path: impl Into<String>, e: csv::Error) -> Self {
        Error::Output {
            path: path.into(),
            source: match e.into_kind() {
                csv::ErrorKind::Io(e) => e,
                other => std::io::Error::other(format!("{other:?}")),
            },
        }
    }

    /// A database error without a specific remedy.
    pub fn db(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        let message = e.to_string();
        if message.contains("disk is full") {
            return Error::Full {
                path: path.to_path_buf(),
                message,
            };
        }
        if message.contains("locked") || message.contains("busy") {
            return Error::Busy {
                path: path.to_path_buf(),
                message,
            };
        }
        Error::Database {
            path: path.to_path_buf(),
            message,
            help: "check that the file is a ucsv database and that it is writable".into(),
        }
    }
}

/// The result type of fatal operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem with one row: which column, a stable code and a message for people.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RowError {
    /// The column at fault, if one is.
    pub column: Option<&'static str>,
    /// A stable machine-readable code, `<column or group>.<kind>`.
    pub code: String,
    /// What is wrong, never echoing a secret value.
    pub message: String,
    /// What would be accepted, when the column's rule alone does not say (e.g. the contexts
    /// of the user's entity with their ranges). Shown by the human report.
    #[serde(skip)]
    pub help: Option<String>,
}

impl RowError {
    /// An error about a column; the code is `<column>.<kind>`.
    pub fn new(col: crate::columns::Col, kind: &str, message: impl Into<String>) -> Self {
        let column = col.name();
        RowError {
            column: Some(column),
            code: format!("{column}.{kind}"),
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// An error whose code does not start with the column's name.
    pub fn with_code(column: Option<&'static str>, code: &str, message: impl Into<String>) -> Self {
        RowError {
            column,
            code: code.to_string(),
            message: message.into(),
            help: None,
        }
    }
}
