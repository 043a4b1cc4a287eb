//! The import pipeline: read a batch → check it in parallel → plan and write each row in
//! order from this thread → report; commit at the end unless a row failed or it is a dry run.

use super::Applier;
use crate::error::Result;
use crate::read::Source;
use crate::report::{Rejected, Report};
use crate::store::{reference::Reference, Store};
use rusqlite::TransactionBehavior;

/// Rows read and checked at a time.
pub const BATCH: usize = 8192;

/// How rows are applied (the APPLY OPTIONS).
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// The command named in the report.
    pub command: &'static str,
    /// Roll back at the end, whatever happens.
    pub dry_run: bool,
    /// Commit the good rows even if some are rejected.
    pub keep_going: bool,
    /// The entity of rows without entity_id.
    pub entity: Option<i64>,
    /// Keep per-row entries for the JSON report.
    pub keep_created: bool,
}

/// Imports every row of `source` into `store` in one transaction.
pub fn import(store: &mut Store, source: &mut Source, opts: &ApplyOptions) -> Result<Report> {
    let mut report = Report::new(opts.command, opts.dry_run, opts.keep_created);
    report.header_warnings(&source.header);
    let reference = Reference::load(store)?;
    let path = store.path.clone();
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| crate::error::Error::db(&path, e))?;
    {
        let mut applier = Applier::new(&tx, &reference, opts.entity);
        loop {
            let batch = source.next_batch(BATCH)?;
            if batch.is_empty() {
                break;
            }
            let parsed = crate::validate::import_batch(&source.header, &batch);
            for (raw, result) in batch.into_iter().zip(parsed) {
                let outcome = match result {
                    Ok(p) => applier.import(&p)?,
                    Err(errors) => Err(errors),
                };
                match outcome {
                    Ok((created, warnings)) => report.created(created, warnings),
                    Err(errors) => {
                        applier.remember_rejected(&source.header, &raw.record);
                        report.rejected(Rejected {
                            row_number: raw.row_number,
                            line: raw.line,
                            record: raw.record,
                            errors,
                        });
                    }
                }
            }
        }
    }
    let commit = !opts.dry_run && (report.summary.rejected == 0 || opts.keep_going);
    if commit {
        tx.commit().map_err(|e| crate::error::Error::db(&path, e))?;
        report.committed = true;
    }
    Ok(report)
}
