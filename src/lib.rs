//! ucsv provisions IPBX users from CSV spreadsheets (in bulk, one at a time, or over a REST API)
//! into SQLite or PostgreSQL.
//!
//! One core, many doors. The core is [`domain`]: the rules across rows and the database
//! (uniqueness, numbers in use, shared voicemail boxes, context ranges, the update merge),
//! asking and writing through [`store`], the only place that speaks SQL. The batch door is
//! the [`pipeline`]: [`read`] streams the file, decoding it once into UTF-8 CSV records in
//! batches; [`validate`] turns each batch into typed per-resource records ([`record`]) on
//! all cores, checking every rule a row can check alone, in input order; the domain resolves
//! each row against the reference data and the database (which holds the earlier rows) and
//! writes it from one thread inside one transaction, handing each row's outcome
//! ([`report`]) to a [`sink`] as it comes, which renders it for people (stderr), for
//! machines (JSON on stdout, streamed) or into the rejects and errors files. The [`columns`]
//! registry is the single source of truth for every column, its storage binding included.

pub mod cli;
pub mod cmd;
pub mod columns;
pub mod domain;
pub mod error;
pub mod escape;
pub mod export;
pub mod outfile;
pub mod pipeline;
pub mod progress;
pub mod read;
pub mod record;
pub mod report;
pub mod serve;
pub mod sink;
pub mod store;
pub mod validate;
pub mod write;

use cli::{Cli, Command};
use error::Result;
use pipeline::Mode;

/// Runs a parsed command line; returns the exit status (0 or 1; fatal errors are `Err`, 2).
pub fn run(cli: Cli) -> Result<u8> {
    // `ucsv serve --config` may name the database when neither --db nor UCSV_DB does.
    let settings = match &cli.command {
        Command::Serve(a) => Some(cmd::serve::Settings::resolve(a, cli.db.as_deref())?),
        _ => None,
    };
    let db = match (&cli.db, &settings) {
        (Some(db), _) => db.clone(),
        (None, Some(s)) => s.database.clone(),
        (None, None) => std::path::PathBuf::from(cmd::DEFAULT_DB),
    };
    let ctx = cmd::Context {
        db: &db,
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
        Command::User(c) => cmd::user::run(&ctx, c),
        Command::Account(c) => cmd::account::run(&ctx, c),
        Command::Serve(_) => match settings {
            Some(s) => cmd::serve::run(&ctx, s),
            None => unreachable!("resolved above"),
        },
        Command::History(a) => cmd::history::run(&ctx, a),
        Command::Undo(a) => cmd::history::undo(&ctx, a),
        Command::Columns { format } => cmd::columns::run(*format),
        Command::Completions { shell } => cmd::docs::completions(*shell),
        Command::Man { dir } => cmd::docs::man(dir.as_deref()),
        Command::Openapi => {
            let mut text =
                serde_json::to_string_pretty(&serve::openapi::document()).unwrap_or_default();
            text.push('\n');
            cmd::stdout(text.as_bytes())?;
            Ok(0)
        }
    }
}
