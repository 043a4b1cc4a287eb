//! `ucsv import`, `ucsv update` and `ucsv validate` (either, always rolled back).

use super::Context;
use crate::apply::run::{self, ApplyOptions, Mode};
use crate::cli::{ApplyArgs, InputArgs, ReportFormat};
use crate::error::Result;
use crate::outfile::AtomicFile;
use crate::read::Source;
use crate::report::Outputs;
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
    // No output may be the input or the database; then the input and the output files
    // first: a file that cannot be read or written creates no database and writes nothing.
    let outputs_asked: Vec<crate::outfile::Output> =
        [("--rejects", &apply.rejects), ("--errors", &apply.errors)]
            .into_iter()
            .filter_map(|(flag, p)| {
                p.as_deref()
                    .map(|path| crate::outfile::Output { flag, path })
            })
            .collect();
    super::refuse_clobber(ctx, Some(&input.file), &outputs_asked)?;
    let mut source = Source::open(&input.file, &input.options()?)?;
    let outputs = Outputs::new(
        apply
            .rejects
            .as_deref()
            .map(AtomicFile::create)
            .transpose()?,
        apply
            .errors
            .as_deref()
            .map(AtomicFile::create)
            .transpose()?,
        &source.header,
        source.delimiter,
    )?;
    let (mut store, created) = ctx.store_created()?;
    // A dry run works on a snapshot: it never holds the database's write lock.
    let mut copy = dry_run.then(|| store.snapshot()).transpose()?;
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
    let report = match run::run(
        copy.as_mut().unwrap_or(&mut store),
        &mut source,
        &opts,
        outputs,
    ) {
        Ok(report) => report,
        Err(e) => {
            // A fatal error (e.g. a bad byte on line 5000) leaves no new database behind.
            if created {
                store.discard();
            }
            return Err(e);
        }
    };
    match apply.format {
        ReportFormat::Json => super::json_to_stdout(&report)?,
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
