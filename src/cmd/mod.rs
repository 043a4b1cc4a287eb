//! Orchestration: one module per command, turning command-line values into library calls
//! and handing the outcome to the report.

pub mod account;
pub mod columns;
pub mod docs;
pub mod export;
pub mod history;
pub mod import;
pub mod init;
pub mod reference;
pub mod serve;
pub mod user;
pub mod user_target;
pub mod user_write;

use crate::cli::InputArgs;
use crate::error::{Error, Result};
use crate::outfile::{Output, Protected};
use crate::read::InputOptions;
use crate::store::Store;
use std::io::Write;
use std::path::Path;

/// The database when neither `--db` nor `UCSV_DB` (nor `ucsv serve`'s configuration) names
/// one.
pub const DEFAULT_DB: &str = "ucsv.db";

/// What every command gets besides its own options.
pub struct Context<'a> {
    /// The database path.
    pub db: &'a Path,
    /// Print only errors.
    pub quiet: bool,
}

impl Context<'_> {
    /// Opens the database, creating it (and saying so) if there is none.
    pub fn store(&self) -> Result<Store> {
        Ok(self.store_created()?.0)
    }

    /// Opens the database, creating it if there is none; says whether it was created.
    pub fn store_created(&self) -> Result<(Store, bool)> {
        let (store, created) = Store::open_or_create(self.db)?;
        if created && !self.quiet {
            eprintln!(
                "ucsv: created database {} with the default reference data",
                store.path.display()
            );
        }
        Ok((store, created))
    }

    /// Prints a line for people on stderr, unless quiet.
    pub fn say(&self, text: &str) {
        if !self.quiet {
            eprint!("{text}");
        }
    }
}

impl InputArgs {
    /// The reading options these arguments ask for.
    pub fn options(&self) -> Result<InputOptions> {
        Ok(InputOptions {
            encoding: self.encoding.clone(),
            delimiter: self.delimiter.as_deref().map(delimiter).transpose()?,
            strict: self.strict,
        })
    }
}

/// The history's record of a command (see [`crate::store::history`]): the operating
/// system's user runs it, from `source` (a file's name, or the command with its targets and
/// never the values it sets, which may be secrets).
pub fn cli_batch(kind: &str, source: String) -> crate::store::history::BatchInfo {
    crate::store::history::BatchInfo {
        kind: kind.to_string(),
        who: os_user(),
        door: "cli",
        source,
        sha256: None,
        undoes: None,
    }
}

/// The name of the operating system's user running ucsv (`USER`, else `LOGNAME`, else the
/// uid).
pub fn os_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| {
            // SAFETY: getuid has no preconditions and cannot fail.
            format!("uid {}", unsafe { libc::getuid() })
        })
}

/// Parses a `--delimiter` value: one ASCII character, or "tab".
pub fn delimiter(d: &str) -> Result<u8> {
    match d {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if d.len() == 1 && d != "\"" && d != "\n" && d != "\r" => Ok(d.as_bytes()[0]),
        _ => Err(Error::Usage {
            message: format!("--delimiter '{d}' is not a single ASCII character"),
            help: "use e.g. --delimiter ';' or --delimiter tab".into(),
        }),
    }
}

/// Writes to standard output; a closed pipe ends quietly.
pub fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Refuses outputs that are the input (unless `-`), the database or its WAL files, or each
/// other: checked before anything is opened for writing.
pub fn refuse_clobber(ctx: &Context, input: Option<&str>, outputs: &[Output]) -> Result<()> {
    // A PostgreSQL database has no file here to protect.
    let db = if crate::store::postgres::is_url(ctx.db) {
        Vec::new()
    } else {
        crate::outfile::database(ctx.db)
    };
    let mut protected: Vec<Protected> = db
        .iter()
        .map(|(what, path)| Protected { what, path })
        .collect();
    if let Some(file) = input.filter(|f| *f != "-") {
        protected.push(Protected {
            what: "the input file",
            path: Path::new(file),
        });
    }
    crate::outfile::refuse_clobber(&protected, outputs)
}
