//! `ucsv import`, `ucsv update` and `ucsv validate` (either, always rolled back).

use super::Context;
use crate::cli::{ApplyArgs, InputArgs, ReportFormat};
use crate::error::Result;
use crate::outfile::AtomicFile;
use crate::pipeline::{self, ApplyOptions, Mode};
use crate::read::Source;
use crate::sink::{Files, Human, Json, Sink};
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
    let files = Files::new(
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
        confine: false,
        command,
        mode,
        history: (!dry_run).then(|| super::cli_batch(command, source.name.clone())),
        dry_run,
        keep_going: apply.keep_going,
        entity: input.entity,
        progress: crate::progress::Progress::new(
            !apply.no_progress && !ctx.quiet,
            source.size,
            true,
        ),
    };
    let report: Box<dyn Sink> = match apply.format {
        ReportFormat::Json => Box::new(Json::stdout()),
        ReportFormat::Human => Box::new(
            Human::new(std::io::stderr(), &source)
                .color(std::io::stderr().is_terminal())
                .quiet(ctx.quiet),
        ),
    };
    // The output files and the report: the files are put in place before the run commits,
    // the report is written once it is over.
    let mut sink = (files, report);
    let outcome = match pipeline::run(
        copy.as_mut().unwrap_or(&mut store),
        &mut source,
        &opts,
        &mut sink,
    ) {
        Ok(outcome) => outcome,
        Err(e) => {
            // A fatal error (e.g. a bad byte on line 5000) leaves no new database behind.
            if created {
                store.discard();
            }
            return Err(e);
        }
    };
    sink.finish(&outcome)?;
    Ok(outcome.exit_code())
}
