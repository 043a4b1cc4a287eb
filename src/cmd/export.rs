//! `ucsv export`: the users as CSV, streamed.

use super::Context;
use crate::cli::ExportArgs;
use crate::columns::Col;
use crate::error::{Error, Result};
use crate::export::{self, ExportOptions};
use crate::outfile::AtomicFile;
use crate::write::{Encoder, Target};
use std::io::Write;

/// Exports the users; returns the exit status.
pub fn run(ctx: &Context, args: &ExportArgs) -> Result<u8> {
    let columns = columns_of(&args.columns, args.no_secrets)?;
    let target = Target::for_label(&args.encoding)
        .ok_or_else(|| Error::UnknownEncoding(args.encoding.clone()))?;
    let delimiter = super::delimiter(&args.delimiter)?;
    let path = std::path::Path::new(&args.output);
    let to_file = args.output != "-";
    if to_file {
        let out = crate::outfile::Output {
            flag: "--output",
            path,
        };
        super::refuse_clobber(ctx, None, &[out])?;
    }
    let store = ctx.store()?;
    crate::store::reference::Reference::load(&store)?.check_entity(args.entity)?;
    let wanted = !args.no_progress && !ctx.quiet && args.output != "-";
    let total = if wanted {
        store.count_users(args.entity).ok()
    } else {
        None
    };
    let opts = ExportOptions {
        entity: args.entity,
        columns,
        progress: crate::progress::Progress::new(wanted, total, false),
        excel_safe: args.excel_safe,
    };
    // A file is written beside its target and put in place only when complete.
    let file = to_file.then(|| AtomicFile::create(path)).transpose()?;
    let sink: Box<dyn Write> = match &file {
        None => Box::new(std::io::stdout().lock()),
        Some(f) => Box::new(f.writer()?),
    };
    let out_err = |source: std::io::Error| Error::Output {
        path: args.output.clone(),
        source,
    };
    let encoder = Encoder::new(
        std::io::BufWriter::with_capacity(1 << 16, sink),
        target,
        args.bom,
    )
    .map_err(out_err)?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(encoder);
    let written = export::write(&store, &opts, &mut writer).and_then(|n| {
        writer.flush().map_err(out_err)?;
        drop(writer);
        file.map_or(Ok(()), AtomicFile::commit)?;
        Ok(n)
    });
    match written {
        Ok(n) => {
            if to_file {
                ctx.say(&format!("export: wrote {n} users to {}\n", args.output));
            }
            Ok(0)
        }
        // A reader that stops early (`| head`) ends the export quietly.
        Err(Error::Output { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            Ok(0)
        }
        Err(Error::Output { source, .. }) => Err(out_err(source)),
        Err(e) => Err(e),
    }
}

/// The columns asked for (`--columns`, all when empty), checked against the registry.
pub fn columns_of(names: &[String], no_secrets: bool) -> Result<Vec<Col>> {
    crate::export::pick_columns(names, no_secrets).map_err(|e| match e {
        crate::export::ColumnsProblem::SecretLeftOut(c) => Error::Usage {
            message: format!(
                "--columns names the secret column '{}' but --no-secrets leaves secrets out",
                c.name()
            ),
            help: "drop one of the two".into(),
        },
        crate::export::ColumnsProblem::Unknown { name, closest } => Error::Usage {
            message: format!("--columns: '{name}' is not an exported column"),
            help: match closest {
                Some(c) => format!("did you mean '{c}'? (see `ucsv columns`)"),
                None => "see `ucsv columns`; password is never exported (password_hash is)".into(),
            },
        },
    })
}
