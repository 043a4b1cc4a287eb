//! ucsv bulk-provisions IPBX users from CSV spreadsheets into an embedded SQLite database.
//!
//! The pipeline runs one way: [`read`] streams the file, decoding it once into UTF-8 CSV
//! records in batches; [`validate`] turns each batch into typed per-resource records
//! ([`record`]) on all cores, checking every rule a row can check alone, in input order;
//! [`apply`] resolves each row against the reference data and the database (which holds the
//! earlier rows) and writes it from one thread inside one transaction, handing each row's
//! outcome ([`report`]) to a [`sink`] as it comes, which renders it for people (stderr), for
//! machines (JSON on stdout, streamed) or into the rejects and errors files. The [`columns`]
//! registry is the single source of truth for every column; [`store`] owns the SQLite schema
//! and reference data.

pub mod apply;
pub mod cli;
pub mod cmd;
pub mod columns;
pub mod error;
pub mod outfile;
pub mod progress;
pub mod read;
pub mod record;
pub mod report;
pub mod sink;
pub mod store;
pub mod validate;
pub mod write;

use apply::run::Mode;
use cli::{Cli, Command};
use error::Result;

/// Runs a parsed command line; returns the exit status (0 or 1; fatal errors are `Err`, 2).
pub fn run(cli: Cli) -> Result<u8> {
    let ctx = cmd::Context {
        db: &cli.db,
        quiet: cli.quiet,
    };
    match &cli.command {
        Command::Init { reference } => cmd::init::run(&ctx, reference.as_deref()),
        Command::Reference(c) => cmd::reference::run(&ctx, c),
        Command::Import(a) => {
            cmd::import::run(&ctx, "import", Mode::Import, &a.input, &a.apply, a.dry_run)
        }
        Command::Update(a) => {
            cmd::import::run(&ctx, "update", Mode::Update, &a.input, &a.apply, a.dry_run)
        }
        Command::Validate(a) => {
            let mode = if a.update { Mode::Update } else { Mode::Import };
            cmd::import::run(&ctx, "validate", mode, &a.input, &a.apply, true)
        }
        Command::Export(a) => cmd::export::run(&ctx, a),
        Command::Columns { format } => cmd::columns::run(*format),
    }
}
