//! `ucsv import`, `ucsv update` and `ucsv validate` (either, always rolled back).

use super::Context;
use crate::apply::run::{self, ApplyOptions, Mode};
use crate::cli::{ApplyArgs, InputArgs, ReportFormat};
use crate::error::{Error, Result};
use crate::read::Source;
use std::io::IsTerminal;

/// Runs an import or update (with `dry_run`, a validation); returns the exit status.
pub fn run(
    ctx: &Context,
    command: &'static str,
    mode: Mode,
    input: &InputArgs,
    apply: &ApplyArgs,
    dry_run: bool,
) -> Result<u8> {
    // The input and the output files first: a file that cannot be read or written creates
    // no database and writes nothing.
    let mut source = Source::open(&input.file, &input.options()?)?;
    let rejects = apply.rejects.as_deref().map(super::create).transpose()?;
    let errors = apply.errors.as_deref().map(super::create).transpose()?;
    let (mut store, created) = ctx.store_created()?;
    let opts = ApplyOptions {
        command,
        mode,
        dry_run,
        keep_going: apply.keep_going,
        entity: input.entity,
        keep_created: apply.format == ReportFormat::Json,
        progress: crate::progress::Progress::new(
            !apply.no_progress && !ctx.quiet,
            source.size,
            true,
        ),
    };
    let report = match run::run(&mut store, &mut source, &opts) {
        Ok(report) => report,
        Err(e) => {
            // A fatal error (e.g. a bad byte on line 5000) leaves no new database behind.
            if created {
                store.discard();
            }
            return Err(e);
        }
    };
    if let (Some(file), Some(path)) = (rejects, &apply.rejects) {
        report
            .write_rejects(file, &source.header, source.delimiter)
            .map_err(|e| output_error(path, e))?;
    }
    if let (Some(file), Some(path)) = (errors, &apply.errors) {
        report
            .write_errors(file)
            .map_err(|e| output_error(path, e))?;
    }
    match apply.format {
        ReportFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&report).map_err(|e| Error::Output {
                path: "<stdout>".into(),
                source: e.into(),
            })?;
            json.push(b'\n');
            super::stdout(&json)?;
        }
        ReportFormat::Human => {
            let color = std::io::stderr().is_terminal();
            let text = report.human(&source.name, &source.header, source.delimiter, color);
            if ctx.quiet {
                // Quiet keeps the errors, drops the rest.
                if report.summary.rejected > 0 {
                    eprint!("{text}");
                }
            } else {
                eprint!("{text}");
            }
        }
    }
    Ok(report.exit_code())
}

fn output_error(path: &std::path::Path, e: csv::Error) -> Error {
    Error::Output {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}
