//! The domain: the rules across rows and the database. Each parsed row is resolved against
//! the reference data and the database (which already holds the earlier rows of the file),
//! then written, from one thread, inside the command's transaction, through the questions
//! and writes of [`port`] (no SQL here).
//!
//! A row is checked completely before anything of it is written, so a rejected row leaves no
//! partial records behind, and all its errors are reported together.

pub mod accounts;
mod checks;
pub mod numbers;
pub mod ops;
pub mod port;
pub mod reference;
pub mod undo;
pub mod update;

use crate::columns::Col;
pub use crate::domain::port::BatchEnd;
use crate::domain::port::{LineRow, StoredUser, Table, Tx, UserRow, Write, WriteError};
use crate::error::{Result, RowError};
use crate::record::{self, Parsed};
use port::history;
use reference::Reference;
use serde::Serialize;

/// What one imported row created: the ids the report lists.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Created {
    /// 1-based data row index.
    pub row_number: u64,
    /// Physical line of the record.
    pub line: u64,
    /// The new user's id.
    pub user_id: i64,
    /// The new user's UUID.
    pub user_uuid: String,
    /// The line's id.
    pub line_id: Option<i64>,
    /// The line's extension id.
    pub extension_id: Option<i64>,
    /// The voicemail box's id (new or shared).
    pub voicemail_id: Option<i64>,
    /// The incoming calls' ids.
    pub incall_ids: Vec<i64>,
    /// The call permissions' ids.
    pub call_permission_ids: Vec<i64>,
    /// Whether the voicemail box was created (not shared).
    #[serde(skip)]
    pub voicemail_created: bool,
    /// Whether the line's extension existed free and was claimed (not created).
    #[serde(skip)]
    pub extension_reused: bool,
    /// The line's credentials as stored (generated when the row left them empty), for a
    /// door that hands them out once (`ucsv user add`); never in the report.
    #[serde(skip)]
    pub credentials: Option<Credentials>,
    /// The user's entity.
    #[serde(skip)]
    pub entity: i64,
}

/// A new line's credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    pub sip_username: Option<String>,
    pub sip_secret: Option<String>,
    pub provisioning_code: Option<String>,
}

/// The outcome of planning one row.
pub type RowOutcome = std::result::Result<(Created, Vec<RowError>), Vec<RowError>>;

/// The rules across rows and the database, over one transaction: create, patch, delete,
/// show and list (see [`ops`]), and the import and update rows of the pipeline.
pub struct Domain<'t> {
    tx: Box<dyn Tx + 't>,
    reference: &'t Reference,
    default_entity: Option<i64>,
    /// The entity the run is limited to (`--entity`), for looking users up.
    scope: Option<i64>,
    /// Unique values (lowercased where compared without case) of rejected rows, by their
    /// keyed 128-bit hash (memory stays small when a million rows are rejected): a later row
    /// repeating one is still "the second occurrence".
    rejected: checks::Seen,
    /// Rows naming another entity than `scope` are refused (see [`Domain::confine`]).
    confined: bool,
    /// Whether checks query the database (the slow path) or leave it to the unique indexes.
    probe: bool,
    /// On update: the user being changed (its own values are not "taken").
    owner: Option<Owner>,
    /// On update: the users of the batch being applied, read ahead.
    ahead: update::Ahead,
    /// On update: what the writes so far made stale of a state read beside them.
    stale: update::Stale,
    /// A reader beside this transaction (see [`Domain::read_beside`]).
    beside: Option<Box<dyn port::Beside>>,
    /// The batch of the history that this transaction's writes are recorded in.
    history: Option<Recorder>,
    /// The id the next user created takes (see [`UserRow::id`]).
    reuse_id: Option<i64>,
}

/// What a transaction's batch of the history holds so far (see [`Domain::record_history`]).
struct Recorder {
    batch: i64,
    undoes: Option<i64>,
    /// The users created, written at the commit.
    created: history::Created,
    /// Updated and deleted (created: see `created`).
    counts: history::Counts,
    entities: std::collections::BTreeSet<i64>,
    /// The digest of the source, once read.
    sha256: Option<String>,
    /// The states before not written yet (see [`history::record_all`]).
    pending: Vec<history::Pending>,
    /// The users whose state before is kept: the first one a batch meets is the one kept.
    kept: std::collections::HashSet<i64>,
}

/// The user an update row changes.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    /// The user's id.
    pub user_id: i64,
    /// Its current voicemail box.
    pub voicemail_id: Option<i64>,
    /// The columns whose value the row leaves as stored: nothing about them needs asking
    /// again (a stored unique value or number is the user's own).
    pub settled: [bool; crate::columns::N],
}

impl<'t> Domain<'t> {
    /// Prepares to apply rows in `tx`; `entity` is `--entity`.
    pub fn new(tx: Box<dyn Tx + 't>, reference: &'t Reference, entity: Option<i64>) -> Self {
        Domain {
            tx,
            reference,
            default_entity: reference.default_entity(entity),
            scope: entity,
            confined: false,
            rejected: checks::Seen::default(),
            probe: true,
            owner: None,
            ahead: update::Ahead::default(),
            stale: update::Stale::default(),
            beside: None,
            history: None,
            reuse_id: None,
        }
    }

    /// Gives the domain a reader beside its transaction: an undo reads the users it takes
    /// back there, a chunk ahead, on another thread.
    pub fn read_beside(&mut self, reader: Box<dyn port::Beside>) {
        self.beside = Some(reader);
    }

    /// Records this transaction's writes in the history, as a new batch (see
    /// [`port::history`]); returns its id. Created users are noted by the caller
    /// once their rows are kept ([`Domain::note_created`]); updated and deleted ones as
    /// they are written.
    pub fn record_history(&mut self, info: &history::BatchInfo) -> Result<i64> {
        let batch = self.tx.open_batch(info, &crate::domain::accounts::now())?;
        self.history = Some(Recorder {
            batch,
            undoes: info.undoes,
            created: history::Created::default(),
            counts: history::Counts::default(),
            entities: Default::default(),
            sha256: None,
            pending: Vec::new(),
            kept: Default::default(),
        });
        Ok(batch)
    }

    /// Notes a user this transaction created (for the history, if it is recorded).
    pub fn note_created(&mut self, created: &Created) {
        if let Some(h) = &mut self.history {
            h.created.push(created.user_id, created.entity);
        }
    }

    /// Notes users this transaction created, once their rows were kept (the import
    /// pipeline: a batch sent in bulk may be taken back and applied again).
    pub fn note_created_all(&mut self, created: history::Created) {
        if let Some(h) = &mut self.history {
            h.created.merge(created);
        }
    }

    /// The SHA-256 of the source the batch was read from, in hex.
    pub fn note_source_digest(&mut self, sha256: String) {
        if let Some(h) = &mut self.history {
            h.sha256 = Some(sha256);
        }
    }

    /// Records, before writing it, that a stored user is updated or deleted: its state
    /// before the batch.
    pub(crate) fn note_changed(
        &mut self,
        action: history::Action,
        user: &StoredUser,
    ) -> Result<()> {
        self.note_changed_cells(action, user, |_| true)
    }

    /// [`Domain::note_changed`] keeping only the cells `kept` names (the others as
    /// [`history::UNCHANGED`]): an update keeps the cells it may change.
    pub(crate) fn note_changed_cells(
        &mut self,
        action: history::Action,
        user: &StoredUser,
        kept: impl Fn(crate::columns::Col) -> bool,
    ) -> Result<()> {
        let Some(h) = &mut self.history else {
            return Ok(());
        };
        if !h.kept.insert(user.user_id) {
            return Ok(()); // its state before the batch is kept already
        }
        let mut before = String::new();
        for (i, col) in history::columns().enumerate() {
            if i > 0 {
                before.push(history::SEPARATOR);
            }
            before.push_str(if kept(col) {
                &user.cells[col as usize]
            } else {
                history::UNCHANGED
            });
        }
        h.pending.push(history::Pending {
            user_id: user.user_id,
            action,
            uuid: user.cells[Col::Uuid as usize].to_string(),
            before,
        });
        match action {
            history::Action::Updated => h.counts.updated += 1,
            _ => h.counts.deleted += 1,
        }
        if let Ok(e) = user.cells[Col::EntityId as usize].parse() {
            h.entities.insert(e);
        }
        if h.pending.len() >= history::ROWS_PER_INSERT {
            let rows = std::mem::take(&mut h.pending);
            self.tx.record_changes(h.batch, &rows)?;
        }
        Ok(())
    }

    /// Refuses rows that name an entity other than the one given to [`Domain::new`]
    /// (`entity_id.outside`): the server's accounts work in one entity at a time.
    pub fn confine(&mut self) {
        self.confined = true;
    }

    /// Starts a batch of rows (see [`Tx::begin_batch`]): `bulk` lets the store send the
    /// batch's inserts together.
    pub fn begin_batch(&mut self, bulk: bool) -> Result<()> {
        self.rejected.mark();
        self.tx.begin_batch(bulk)
    }

    /// Ends a batch (see [`BatchEnd`]). When the store took batches back (a unique index
    /// refused their rows), what the domain learnt from them is forgotten too, and the
    /// caller applies them again in batches that are not bulk.
    pub fn end_batch(&mut self) -> Result<BatchEnd> {
        let end = self.tx.end_batch()?;
        match end {
            BatchEnd::Kept => self.rejected.confirm(0),
            BatchEnd::Held => self.rejected.confirm(1),
            BatchEnd::Refused { held_kept } => {
                if held_kept {
                    self.rejected.confirm(1);
                }
                self.rejected.forget_since_mark();
            }
        }
        Ok(end)
    }

    /// Waits for the batch still being written (see [`Tx::settle`]): `false` when it was
    /// taken back, and forgotten.
    pub fn settle(&mut self) -> Result<bool> {
        let kept = self.tx.settle()?;
        if kept {
            self.rejected.confirm(0);
        } else {
            self.rejected.forget_since_mark();
        }
        Ok(kept)
    }

    /// Commits every row applied, with the batch of the history if it is recorded.
    pub fn commit(self) -> Result<()> {
        if let Some(h) = &self.history {
            self.tx.record_changes(h.batch, &h.pending)?;
            for &(first, last) in &h.created.runs {
                self.tx.record_created(h.batch, first, last)?;
            }
            let entities: Vec<i64> = h.entities.union(&h.created.entities).copied().collect();
            let counts = history::Counts {
                created: h.created.count,
                ..h.counts
            };
            self.tx
                .close_batch(h.batch, counts, &entities, h.sha256.as_deref(), h.undoes)?;
        }
        self.tx.commit()
    }

    /// Whether the row being applied leaves `col` as stored (an update's unchanged column).
    fn settled(&self, col: crate::columns::Col) -> bool {
        self.owner.is_some_and(|o| o.settled[col as usize])
    }

    fn owner_id(&self) -> Option<i64> {
        self.owner.map(|o| o.user_id)
    }

    /// Remembers the unique values of a rejected row, read from its raw cells.
    /// `cell` gives the row's text of a column, if it has one.
    pub fn remember_rejected<'a>(&mut self, cell: impl Fn(crate::columns::Col) -> Option<&'a str>) {
        for u in crate::columns::unique() {
            if let Some(v) = cell(u) {
                self.rejected.insert(u, v);
            }
        }
    }

    /// Checks one parsed row against the database and writes it if it passes.
    ///
    /// A row without errors of its own first takes the fast path: it is checked against the
    /// reference data (in memory) and written without probing the database; the unique
    /// indexes refuse a duplicate, an existing number or a shared voicemail box. Such a row
    /// is taken back and replanned on the slow path, which probes every rule and reports
    /// every error (or, for a free number or a shared box, reuses it).
    pub fn import(&mut self, p: &Parsed) -> Result<RowOutcome> {
        if p.errors.is_empty() && self.tx.optimistic() {
            let mut errors = Vec::new();
            let mut warnings = p.warnings.clone();
            self.probe = false;
            let planned = checks::plan(self, p, &mut errors, &mut warnings);
            self.probe = true;
            let plan = planned?;
            if errors.is_empty() {
                let mut undo = Vec::new();
                match self.write(p, plan, &mut undo) {
                    Ok(created) => return Ok(Ok((created, warnings))),
                    Err(WriteError::Conflict) => self.tx.undo(undo)?,
                    Err(WriteError::Failed(e)) => return Err(e),
                }
            }
        }
        // The slow path. A write refused after every check passed means another writer
        // stored the same value meanwhile (or holds a generated one): the row is taken back
        // and checked again, and sees the other writer's value or draws another.
        let mut attempts = 0;
        loop {
            let mut errors = p.errors.clone();
            let mut warnings = p.warnings.clone();
            let plan = checks::plan(self, p, &mut errors, &mut warnings)?;
            if !errors.is_empty() {
                return Ok(Err(errors));
            }
            let mut undo = Vec::new();
            match self.write(p, plan, &mut undo) {
                Ok(created) => return Ok(Ok((created, warnings))),
                Err(WriteError::Conflict) if attempts < RETRIES => {
                    attempts += 1;
                    self.tx.undo(undo)?;
                    // Give the other writer time to commit what it holds.
                    std::thread::sleep(std::time::Duration::from_millis(20 << attempts));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Writes a planned row. Each insert is recorded in `undo` so that a row the database
    /// refuses half-way (a unique index, on the fast path) can be taken back exactly.
    fn write(&mut self, p: &Parsed, plan: checks::Plan, undo: &mut Undo) -> Write<Created> {
        let login = p.login.as_ref();
        let defaulted = self.entity_defaults(plan.entity, &p.user.fields);
        let user_id = self.tx.insert_user(&UserRow {
            id: self.reuse_id,
            uuid: &plan.uuid,
            entity: plan.entity,
            username: login.map(|l| l.username.as_str()),
            password_hash: login.and_then(|l| l.password_hash.as_deref()),
            cti_profile_enabled: p.cti.as_ref().is_some_and(|c| c.enabled),
            cti_profile: plan.cti_profile,
            fields: defaulted.as_deref().unwrap_or(&p.user.fields),
        })?;
        undo.push((Table::Users, user_id));
        let mut created = Created {
            row_number: p.row_number,
            line: p.line,
            user_id,
            user_uuid: plan.uuid.clone(),
            entity: plan.entity,
            ..Created::default()
        };
        if let Some(line) = &p.phone {
            let line_id = self.insert_line(user_id, line, &plan)?;
            undo.push((Table::Lines, line_id));
            created.line_id = Some(line_id);
            created.credentials = Some(Credentials {
                sip_username: plan.sip_username.clone(),
                sip_secret: line.sip_secret.clone(),
                provisioning_code: plan.provisioning_code.clone(),
            });
            if let Some(exten) = &p.exten {
                let id =
                    self.claim_extension(exten, &line.context, plan.exten_id, Some(line_id))?;
                if plan.exten_id.is_none() {
                    undo.push((Table::Extensions, id));
                }
                created.extension_id = Some(id);
                created.extension_reused = plan.exten_id.is_some();
            }
        }
        for (incall, existing) in p.incalls.iter().zip(&plan.incall_extens) {
            let ext = self.claim_extension(&incall.exten, &incall.context, *existing, None)?;
            if existing.is_none() {
                undo.push((Table::Extensions, ext));
            }
            let id = self.tx.insert_incall(user_id, ext, incall.ring_seconds)?;
            undo.push((Table::Incalls, id));
            created.incall_ids.push(id);
        }
        if let Some(vm) = &p.voicemail {
            let (id, new) = self.attach_voicemail(user_id, vm, plan.voicemail)?;
            if new {
                undo.push((Table::Voicemails, id));
            }
            undo.push((Table::UserVoicemails, user_id));
            created.voicemail_created = new;
            created.voicemail_id = Some(id);
        }
        for id in &plan.permissions {
            self.tx.link_permission(user_id, *id)?;
            created.call_permission_ids.push(*id);
        }
        if !plan.permissions.is_empty() {
            undo.push((Table::UserCallPermissions, user_id));
        }
        Ok(created)
    }

    /// A new user's fields with the entity's default language and time zone where the row
    /// gives none (`None`: nothing to add).
    fn entity_defaults(
        &self,
        entity: i64,
        fields: &[Option<record::Value>],
    ) -> Option<Vec<Option<record::Value>>> {
        let (language, timezone) = self.reference.entity_defaults.get(&entity)?;
        let mut out: Option<Vec<Option<record::Value>>> = None;
        for (col, default) in [
            (crate::columns::Col::Language, language),
            (crate::columns::Col::Timezone, timezone),
        ] {
            let (Some(default), Some(i)) = (default, record::user_fields().position(|c| c == col))
            else {
                continue;
            };
            if fields.get(i).is_some_and(Option::is_none) {
                out.get_or_insert_with(|| fields.to_vec())[i] =
                    Some(record::Value::Text(default.clone()));
            }
        }
        out
    }

    /// Creates the user's line with the planned credentials.
    fn insert_line(&self, user_id: i64, line: &record::Line, plan: &checks::Plan) -> Write<i64> {
        self.tx.insert_line(
            user_id,
            &LineRow {
                protocol: line.protocol.as_str(),
                context: &line.context,
                sip_username: plan.sip_username.as_deref(),
                sip_secret: line.sip_secret.as_deref(),
                provisioning_code: plan.provisioning_code.as_deref(),
            },
        )
    }

    /// Associates the user with a shared box, or creates the box; returns (id, created).
    fn attach_voicemail(
        &self,
        user_id: i64,
        vm: &record::Voicemail,
        shared: Option<i64>,
    ) -> Write<(i64, bool)> {
        let (id, created) = match shared {
            Some(id) => (id, false),
            None => (self.tx.insert_voicemail(vm)?, true),
        };
        self.tx.link_voicemail(user_id, id)?;
        Ok((id, created))
    }

    /// Points a free existing extension at the line (or leaves it for an incall), or creates it.
    fn claim_extension(
        &self,
        exten: &str,
        context: &str,
        existing: Option<i64>,
        line_id: Option<i64>,
    ) -> Write<i64> {
        match existing {
            Some(id) => {
                self.tx.set_extension_line(id, line_id)?;
                Ok(id)
            }
            None => self.tx.insert_extension(exten, context, line_id),
        }
    }
}

/// How many times the slow path checks and writes a row again when another writer stored a
/// value it needs meanwhile.
const RETRIES: u32 = 5;

/// Rows to take back: the table and the key of each insert.
type Undo = Vec<(Table, i64)>;
