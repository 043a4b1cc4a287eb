//! The import pipeline: read a batch → check it in parallel → plan and write each row in
//! order from this thread (on update, after reading the users the batch names in one
//! question: on SQLite, when the update has more than one batch, the reading thread asks
//! it on a second connection) → hand its outcome to the sink; commit at the end unless a
//! row failed or it is a dry run. Only counts are kept here ([`Outcome`]); what each row
//! did goes to the sink as it comes.

use crate::domain::{self, BatchEnd, Domain};
use crate::error::{Result, RowError};
use crate::read::Source;
use crate::report::{Issue, Outcome, Rejected};
use crate::sink::Sink;
use crate::store::{reference::Reference, Store};

/// Rows read and checked at a time.
pub const BATCH: usize = 2048;

/// How rows are applied (the APPLY OPTIONS).
#[derive(Clone)]
pub struct ApplyOptions {
    /// The command named in the report.
    pub command: &'static str,
    /// Import or update.
    pub mode: Mode,
    /// Roll back at the end, whatever happens.
    pub dry_run: bool,
    /// Commit the good rows even if some are rejected.
    pub keep_going: bool,
    /// The entity of rows without entity_id.
    pub entity: Option<i64>,
    /// Refuse rows that name another entity than `entity` (the server: an account works
    /// only in the entity it signed in to).
    pub confine: bool,
    /// Where to show progress.
    pub progress: crate::progress::Progress,
    /// The history's record of the run (who, from where, from what); `None` records
    /// nothing (a dry run's writes are never kept anyway).
    pub history: Option<crate::store::history::BatchInfo>,
}

/// Which plan the rows make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Create users.
    #[default]
    Import,
    /// Change users, keyed by uuid.
    Update,
}

/// Applies every row of `source` to `store` in one transaction, handing each row's outcome
/// to `sink` as it comes; the sink's [`Sink::rows_done`] runs before anything is committed.
/// Returns the counts, for the caller to hand to [`Sink::finish`].
pub fn run(
    store: &mut Store,
    source: &mut Source,
    opts: &ApplyOptions,
    sink: &mut dyn Sink,
) -> Result<Outcome> {
    if opts.mode == Mode::Update && !source.header.has(crate::columns::Col::Uuid) {
        return Err(crate::error::Error::Header {
            path: source.name.clone(),
            message: "update needs a uuid column: it names the user each row changes".into(),
            help: "start from `ucsv export`, which writes the uuid of every user".into(),
        });
    }
    let mut tally = Tally {
        outcome: Outcome::new(
            opts.command,
            source.delimiter,
            opts.dry_run,
            opts.mode == Mode::Update,
        ),
        sink,
        created: Default::default(),
    };
    for warning in Issue::unknown_columns(&source.header) {
        tally.warning(warning)?;
    }
    let reference = Reference::load(store)?;
    // An update of more than one batch reads the users of each batch on another
    // connection, on the reading thread, while this one writes (see `read_beside`).
    let beside = match opts.mode {
        Mode::Update => store.beside(),
        Mode::Import => None,
    };
    let mut domain = Domain::new(store.begin()?, &reference, opts.entity);
    if opts.confine {
        domain.confine();
    }
    if let Some(info) = &opts.history {
        domain.record_history(info)?;
    }
    let header = source.header.clone();
    let bytes_read = source.bytes_read.clone();
    let digest = source.digest.clone();
    let mode = opts.mode;
    // Two stages overlap: another thread reads and checks the next batch (on all cores),
    // and on update reads the users it names beside the writer, while this thread writes
    // the current one.
    let (sender, batches) = std::sync::mpsc::sync_channel::<Result<Batch>>(2);
    let entity = opts.entity;
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || {
            let mut next = Some(source.next_batch(BATCH));
            // Opened only when a second batch may follow: a short update reads as before.
            let mut reader = match (&next, beside) {
                (Some(Ok(b)), Some(place)) if b.len() == BATCH => place.open().ok(),
                _ => None,
            };
            loop {
                let batch = match next.take().unwrap_or_else(|| source.next_batch(BATCH)) {
                    Ok(b) if b.is_empty() => break,
                    Ok(b) => b,
                    Err(e) => {
                        let _ = sender.send(Err(e));
                        break;
                    }
                };
                let prepared = prepare(mode, &source.header, &batch);
                let users = read_beside(&mut reader, &prepared, entity);
                if sender.send(Ok((batch, prepared, users))).is_err() {
                    break; // the domain stopped on a fatal error
                }
            }
        });
        // An import batch may be sent in bulk, and written while the next one is planned
        // (`BatchEnd::Held`): its rows are reported once the store says it was kept. If the
        // store takes batches back (a unique index refused a row), they are applied again,
        // a row at a time.
        let mut held: Option<Done> = None;
        for received in batches {
            let (batch, mut prepared, users) = received?;
            match users {
                Some(users) => domain.hold_read_beside(users, opts.entity),
                None if mode == Mode::Update => {
                    domain.read_ahead(update_rows(&prepared), opts.entity)?
                }
                None => {}
            }
            domain.begin_batch(mode == Mode::Import)?;
            let outcomes = apply_batch(&mut domain, &header, &batch, &mut prepared, opts)?;
            let done = Done {
                batch,
                prepared,
                outcomes,
            };
            match domain.end_batch()? {
                BatchEnd::Kept => {
                    if let Some(h) = held.take() {
                        tally.batch(h)?;
                    }
                    tally.batch(done)?;
                }
                BatchEnd::Held => {
                    if let Some(h) = held.take() {
                        tally.batch(h)?;
                    }
                    held = Some(done);
                }
                BatchEnd::Refused { held_kept } => {
                    if let Some(h) = held.take() {
                        let h = if held_kept {
                            h
                        } else {
                            replay(&mut domain, &header, h, opts)?
                        };
                        tally.batch(h)?;
                    }
                    let d = replay(&mut domain, &header, done, opts)?;
                    tally.batch(d)?;
                }
            }
            opts.progress
                .set(bytes_read.load(std::sync::atomic::Ordering::Relaxed));
        }
        if let Some(h) = held.take() {
            let h = if domain.settle()? {
                h
            } else {
                replay(&mut domain, &header, h, opts)?
            };
            tally.batch(h)?;
        }
        Ok(())
    })?;
    opts.progress.finish();
    // A failure to put the rejects or errors file in place is fatal, before anything is
    // committed.
    tally.sink.rows_done()?;
    let mut outcome = std::mem::replace(
        &mut tally.outcome,
        Outcome::new(opts.command, b',', true, false),
    );
    let commit = !opts.dry_run && (outcome.summary.rejected == 0 || opts.keep_going);
    if commit {
        domain.note_created_all(std::mem::take(&mut tally.created));
        domain.note_source_digest(crate::progress::hex_digest(&digest));
        domain.commit()?;
        outcome.committed = true;
    }
    Ok(outcome)
}

/// What one row of a batch came to: `None` for a row that is not data (all cells empty).
type RowResult = Option<std::result::Result<Applied, Vec<RowError>>>;

/// Applies the rows of a batch in order through the domain. An import row is only
/// borrowed, so that a batch the store took back can be applied again; an update row is
/// taken (update batches are never taken back).
fn apply_batch(
    domain: &mut Domain<'_>,
    header: &crate::read::Header,
    batch: &[crate::read::RawRow],
    prepared: &mut [Prepared],
    opts: &ApplyOptions,
) -> Result<Vec<RowResult>> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for (raw, prepared) in batch.iter().zip(prepared.iter_mut()) {
        if raw.empty {
            outcomes.push(None);
            continue;
        }
        let outcome = match prepared {
            Prepared::Import(Ok(p)) => domain.import(p)?.map(|(c, w)| Applied::Created(c, w)),
            Prepared::Update(Ok(_)) => {
                let taken = std::mem::replace(prepared, Prepared::Update(Err(Vec::new())));
                let Prepared::Update(Ok(row)) = taken else {
                    unreachable!("matched above")
                };
                domain
                    .update(*row, opts.entity)?
                    .map(|(u, w)| Applied::Updated(u, w))
            }
            Prepared::Import(Err(e)) | Prepared::Update(Err(e)) => Err(e.clone()),
        };
        if outcome.is_err() {
            // Later rows repeating its unique values are "the second occurrence".
            domain.remember_rejected(|col| header.cell(&raw.record, col).value());
        }
        outcomes.push(Some(outcome));
    }
    Ok(outcomes)
}

/// The counts so far and the sink the rows go to.
struct Tally<'s> {
    outcome: Outcome,
    sink: &'s mut dyn Sink,
    /// The users created by the rows kept, for the history.
    created: crate::store::history::Created,
}

/// A batch applied, with the outcome of each of its rows.
struct Done {
    batch: Vec<crate::read::RawRow>,
    prepared: Vec<Prepared>,
    outcomes: Vec<RowResult>,
}

/// Applies a batch the store took back again, a row at a time.
fn replay(
    domain: &mut Domain<'_>,
    header: &crate::read::Header,
    mut done: Done,
    opts: &ApplyOptions,
) -> Result<Done> {
    domain.begin_batch(false)?;
    done.outcomes = apply_batch(domain, header, &done.batch, &mut done.prepared, opts)?;
    if domain.end_batch()? != BatchEnd::Kept {
        return Err(crate::error::Error::Database {
            path: std::path::PathBuf::new(),
            message: "a batch applied a row at a time was refused".into(),
            help: "this is a bug in ucsv; please report it with the input".into(),
        });
    }
    Ok(done)
}

impl Tally<'_> {
    /// Counts the rows of a batch the store kept and hands them to the sink, in order.
    fn batch(&mut self, done: Done) -> Result<()> {
        for (mut raw, outcome) in done.batch.into_iter().zip(done.outcomes) {
            let Some(outcome) = outcome else {
                // Not a data row: only its warning is reported.
                self.row_warnings(raw.row_number, raw.line, &raw.warnings)?;
                continue;
            };
            // Warnings from reading the row (a BOM removed) come before the row's own.
            let read_warnings = std::mem::take(&mut raw.warnings);
            let warned = |warnings: Vec<_>| {
                if read_warnings.is_empty() {
                    warnings
                } else {
                    [read_warnings, warnings].concat()
                }
            };
            match outcome {
                Ok(Applied::Created(created, warnings)) => {
                    self.row_warnings(created.row_number, created.line, &warned(warnings))?;
                    self.outcome.created(&created);
                    self.created.push(created.user_id, created.entity);
                    self.sink.created(&created)?;
                }
                Ok(Applied::Updated(u, warnings)) => {
                    self.row_warnings(raw.row_number, raw.line, &warned(warnings))?;
                    self.outcome.updated(u.as_ref());
                    if let Some(u) = &u {
                        self.sink.updated(u)?;
                    }
                }
                Err(errors) => {
                    let row = Rejected {
                        row_number: raw.row_number,
                        line: raw.line,
                        record: raw.record,
                        errors,
                    };
                    self.outcome.rejected(&row);
                    self.sink.rejected(&row)?;
                }
            }
        }
        Ok(())
    }

    /// Counts a warning and hands it to the sink.
    fn warning(&mut self, warning: Issue) -> Result<()> {
        self.outcome.warned();
        self.sink.warning(&warning)
    }

    /// The warnings of an applied row, before its entry.
    fn row_warnings(&mut self, row_number: u64, line: u64, warnings: &[RowError]) -> Result<()> {
        for w in warnings {
            self.warning(Issue::at(row_number, line, w))?;
        }
        Ok(())
    }
}

/// A batch read, its parallel stage, and on update the users its rows name when they were
/// read beside the writer ([`read_beside`]).
type Batch = (
    Vec<crate::read::RawRow>,
    Vec<Prepared>,
    Option<Vec<crate::domain::port::StoredUser>>,
);

/// The update rows of a batch that passed the parallel stage.
fn update_rows(prepared: &[Prepared]) -> impl Iterator<Item = &crate::record::Patch> {
    prepared.iter().filter_map(|p| match p {
        Prepared::Update(Ok(row)) => Some(row.as_ref()),
        _ => None,
    })
}

/// Reads the users that a batch's update rows name through `reader`, which sees the
/// database as the writer's transaction found it ([`crate::domain::port::Beside`]): this
/// thread does it while the writer applies the batch before, and the writer reads again
/// only the users its own writes made stale ([`Domain::hold_read_beside`]). `None` (the
/// writer reads them itself) without a reader; if a read fails, the reader is given up,
/// and the writer's own reads give the answer, or the error.
fn read_beside(
    reader: &mut Option<Box<dyn crate::domain::port::Beside>>,
    prepared: &[Prepared],
    entity: Option<i64>,
) -> Option<Vec<crate::domain::port::StoredUser>> {
    let users = reader
        .as_mut()?
        .stored_users(&Domain::ahead_keys(update_rows(prepared)), entity);
    if users.is_err() {
        *reader = None;
    }
    users.ok()
}

/// The parallel stage of a batch, in input order.
fn prepare(
    mode: Mode,
    header: &crate::read::Header,
    batch: &[crate::read::RawRow],
) -> Vec<Prepared> {
    match mode {
        Mode::Import => crate::validate::import_batch(header, batch)
            .into_iter()
            .map(|p| Prepared::Import(p.map(Box::new)))
            .collect(),
        Mode::Update => crate::validate::update_batch(header, batch)
            .into_iter()
            .map(|p| Prepared::Update(p.map(Box::new)))
            .collect(),
    }
}

/// A row after the parallel stage.
enum Prepared {
    Import(std::result::Result<Box<crate::record::Parsed>, Vec<crate::error::RowError>>),
    Update(std::result::Result<Box<crate::record::Patch>, Vec<crate::error::RowError>>),
}

/// What an applied row did.
enum Applied {
    Created(domain::Created, Vec<crate::error::RowError>),
    Updated(Option<domain::update::Updated>, Vec<crate::error::RowError>),
}
