//! The PostgreSQL backend of [`Tx`].
//!
//! A statement that fails aborts a PostgreSQL transaction, and every statement is a round
//! trip to the server, so this backend writes an import in two ways:
//!
//! * **Bulk** (between [`Tx::begin_batch`]`(true)` and [`Tx::end_batch`]): the rows of a batch
//!   are encoded into COPY buffers, one a table, with ids drawn ahead from the tables'
//!   sequences. When the batch ends, a worker thread sends them with `COPY ... FROM STDIN`
//!   while the caller plans the next batch ([`BatchEnd::Held`]): the server writes one batch
//!   while the next is checked, instead of waiting for it. Rows are sent sooner when another
//!   statement needs them (a probe of the slow path). The batch runs inside a savepoint: if a
//!   COPY is refused by a unique index (a duplicate in the file, a value already stored, a
//!   value another writer stored meanwhile), the batch is taken back to the savepoint, the
//!   rest of the batch being planned is discarded ("spoiled"), and the next
//!   [`Tx::end_batch`] (or [`Tx::settle`]) asks the caller to replay them carefully.
//! * **Careful** (otherwise): one statement a write, each insert `ON CONFLICT DO NOTHING
//!   RETURNING id`, so that a row refused by a unique index is a [`WriteError::Conflict`]
//!   that leaves the transaction usable, exactly as SQLite's refused insert is.
//!
//! Reads see the committed state of other writers (READ COMMITTED) and this run's writes.

use super::super::sql::{pg_cells, placeholders, Cell, Param};
use crate::columns::Col;
use crate::domain::port::{
    BatchEnd, ExtensionState, Filter, LineRow, Page, StoredIncall, StoredUser, Table, Tx, UserKey,
    UserRow, UserView, Write, WriteError,
};
use crate::error::{Error, Result};
use crate::record::{self, Value};
use postgres::{Client, Statement};
use std::borrow::Cow;
use std::cell::{Cell as Flag, RefCell};
use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;

/// At most how many ids are drawn from a sequence at a time. The first draw of a run takes
/// 16 and each next one twice as many, so that a small import leaves small gaps.
const ID_BLOCK: i64 = 2048;

/// The namespace of the advisory locks on ranges of provisioning codes (see
/// [`Codes`]).
const CODE_LOCKS: i32 = 0x7563_7376;

/// Provisioning codes per range claimed (codes 100000 to 999999: 900 ranges).
const CODE_RANGE: u32 = 1000;

/// Codes drawn per code of the ranges held, before another range is claimed: the ranges
/// held stay at most half used, so a draw rarely hits a code already stored.
const CODES_PER_RANGE: u64 = CODE_RANGE as u64 / 2;

/// The ranges of provisioning codes this writer draws from. Codes are random draws from a
/// small space (900,000), so two large imports at once would draw the same codes; each
/// would then wait on the other's uncommitted row and they could deadlock. Instead, each
/// writer claims ranges of a thousand codes with a session advisory lock taken without
/// waiting (a range another writer holds is not taken), and draws only from its own
/// ranges: generated codes of two writers never collide. One lock per range keeps the
/// server's lock table small whatever the size of the import. Session locks, not
/// transaction locks, so that rolling a batch back to its savepoint keeps them; they are
/// released when the transaction ends.
#[derive(Default)]
struct Codes {
    /// The ranges held (a range is its first code / [`CODE_RANGE`]).
    held: Vec<u32>,
    /// Codes drawn so far.
    drawn: u64,
    /// Codes drawn by the batch being planned.
    batch_drawn: u64,
}

/// After how many users written by COPY the commit analyzes the tables written: the planner
/// would otherwise plan the next queries (an export, the probes of the next import) on the
/// sizes the tables had before, until autovacuum gets to them, and a plan made for empty
/// tables can scan a whole table per user.
const ANALYZE_AFTER: u64 = 10_000;

/// The statement analyzing the tables of [`COPIED`].
const ANALYZE: &str =
    "ANALYZE users, lines, extensions, incalls, voicemails, user_voicemails, user_call_permissions";

/// The tables written by COPY, in the order their rows can be sent (referenced rows first).
const COPIED: [(Table, &str); 7] = [
    (Table::Users, ""),
    (Table::Lines, "COPY lines (id, user_id, protocol, context, sip_username, sip_secret, provisioning_code) FROM STDIN"),
    (Table::Extensions, "COPY extensions (id, exten, context, line_id) FROM STDIN"),
    (Table::Incalls, "COPY incalls (id, user_id, extension_id, ring_seconds) FROM STDIN"),
    (Table::Voicemails, "COPY voicemails (id, name, number, context, password, email, attach_audio, delete_messages, ask_password) FROM STDIN"),
    (Table::UserVoicemails, "COPY user_voicemails (user_id, voicemail_id) FROM STDIN"),
    (Table::UserCallPermissions, "COPY user_call_permissions (user_id, call_permission_id) FROM STDIN"),
];

/// The sequences ids are drawn from, by table.
fn sequence(table: Table) -> &'static str {
    match table {
        Table::Users => "users_id_seq",
        Table::Lines => "lines_id_seq",
        Table::Extensions => "extensions_id_seq",
        Table::Incalls => "incalls_id_seq",
        Table::Voicemails => "voicemails_id_seq",
        Table::UserVoicemails | Table::UserCallPermissions => unreachable!("keyed by user"),
    }
}

fn slot(table: Table) -> usize {
    COPIED
        .iter()
        .position(|(t, _)| *t == table)
        .unwrap_or_default()
}

/// A value as written: to a COPY buffer or as a parameter.
#[derive(Clone, Debug)]
enum Val<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, str>),
}

impl<'a> Val<'a> {
    fn text(s: Option<&'a str>) -> Self {
        s.map_or(Val::Null, |s| Val::Text(Cow::Borrowed(s)))
    }

    fn int(i: Option<i64>) -> Self {
        i.map_or(Val::Null, Val::Int)
    }

    fn param(&self) -> Param<'_> {
        match self {
            Val::Null => Param::Null,
            Val::Int(i) => Param::Int(*i),
            Val::Text(s) => Param::Text(s),
        }
    }

    /// Appends the value in COPY's text format.
    fn copy(&self, buf: &mut Vec<u8>) {
        match self {
            Val::Null => buf.extend_from_slice(b"\\N"),
            Val::Int(i) => {
                let _ = write!(buf, "{i}");
            }
            Val::Text(s) => {
                for b in s.bytes() {
                    match b {
                        b'\\' => buf.extend_from_slice(b"\\\\"),
                        b'\t' => buf.extend_from_slice(b"\\t"),
                        b'\n' => buf.extend_from_slice(b"\\n"),
                        b'\r' => buf.extend_from_slice(b"\\r"),
                        _ => buf.push(b),
                    }
                }
            }
        }
    }
}

/// A checked cell as stored; an empty cell takes the column's default.
fn field(col: Col, v: Option<&Value>) -> Val<'_> {
    match v {
        Some(Value::Text(s)) => Val::Text(Cow::Borrowed(s)),
        Some(Value::Int(i)) => Val::Int(*i),
        Some(Value::Bool(b)) => Val::Int(i64::from(*b)),
        Some(Value::List(items)) => Val::Text(Cow::Owned(items.join(";"))),
        None => match col.def().rule {
            crate::columns::Rule::Bool { default: Some(b) } => Val::Int(i64::from(b)),
            crate::columns::Rule::Int {
                default: Some(d), ..
            } => Val::Int(d),
            _ => Val::Null,
        },
    }
}

/// The values of a user row after its id, in the order of [`user_columns`].
fn user_values<'a>(u: &'a UserRow<'a>) -> Vec<Val<'a>> {
    let mut values = vec![
        Val::Text(Cow::Borrowed(u.uuid)),
        Val::Int(u.entity),
        Val::text(u.username),
        Val::text(u.password_hash),
        Val::Int(i64::from(u.cti_profile_enabled)),
        Val::int(u.cti_profile),
    ];
    values.extend(
        record::user_fields()
            .zip(u.fields)
            .map(|(c, v)| field(c, v.as_ref())),
    );
    values
}

/// The columns of `users` a user row fills, after its id.
fn user_columns() -> Vec<&'static str> {
    let mut cols = vec![
        "uuid",
        "entity_id",
        "username",
        "password_hash",
        "cti_profile_enabled",
        "cti_profile_id",
    ];
    cols.extend(record::user_fields().map(Col::name));
    cols
}

fn line_values<'a>(user_id: i64, l: &'a LineRow<'a>) -> Vec<Val<'a>> {
    vec![
        Val::Int(user_id),
        Val::text(Some(l.protocol)),
        Val::text(Some(l.context)),
        Val::text(l.sip_username),
        Val::text(l.sip_secret),
        Val::text(l.provisioning_code),
    ]
}

fn voicemail_values(vm: &record::Voicemail) -> Vec<Val<'_>> {
    vec![
        Val::text(Some(&vm.name)),
        Val::text(Some(&vm.number)),
        Val::text(Some(&vm.context)),
        Val::text(vm.password.as_deref()),
        Val::text(vm.email.as_deref()),
        Val::Int(i64::from(vm.attach_audio)),
        Val::Int(i64::from(vm.delete_messages)),
        Val::Int(i64::from(vm.ask_password)),
    ]
}

/// Rows waiting to be sent, and ids drawn ahead.
#[derive(Default)]
struct Pending {
    /// COPY text per table of [`COPIED`].
    buffers: [Vec<u8>; 7],
    /// Whether any buffer holds a row.
    any: bool,
    /// Ids drawn from each sequence and not used yet (by [`slot`] of the table).
    ids: [Vec<i64>; 5],
    /// How many ids the next draw from each sequence takes.
    block: [i64; 5],
    /// Ids of each sequence used by the batch being planned.
    used: [usize; 5],
}

/// The COPY of a batch, for the worker.
struct Job {
    buffers: Vec<Vec<u8>>,
    /// Whether the batch's savepoint is open already (rows were sent sooner).
    open: bool,
}

/// The thread that sends batches while the next one is planned.
struct Worker {
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    results: std::sync::mpsc::Receiver<Result<bool>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends a batch's COPY buffers inside its savepoint (opened first unless `open`). Kept:
/// the savepoint is released when `release`, and `true`. Refused by a unique index (or a
/// deadlock with another writer): taken back to the savepoint, and `false`.
fn copy_batch(
    client: &mut Client,
    copy_users: &str,
    path: &std::path::Path,
    buffers: &[Vec<u8>],
    open: bool,
    release: bool,
) -> Result<bool> {
    let db = |e| super::error(path, e);
    if !open {
        client.batch_execute("SAVEPOINT ucsv_batch").map_err(db)?;
    }
    for ((_, copy), buf) in COPIED.iter().zip(buffers) {
        if buf.is_empty() {
            continue;
        }
        let copy = if copy.is_empty() { copy_users } else { *copy };
        let sent = (|| {
            let mut writer = client.copy_in(copy)?;
            writer
                .write_all(buf)
                .map_err(|e| std::io::Error::other(e.to_string()))
                .ok();
            writer.finish()
        })();
        if let Err(e) = sent {
            let code = e.as_db_error().map(|d| d.code().code().to_string());
            if matches!(code.as_deref(), Some("23505" | "40P01")) {
                client
                    .batch_execute("ROLLBACK TO SAVEPOINT ucsv_batch; RELEASE SAVEPOINT ucsv_batch")
                    .map_err(db)?;
                return Ok(false);
            }
            return Err(db(e));
        }
    }
    if release {
        client
            .batch_execute("RELEASE SAVEPOINT ucsv_batch")
            .map_err(db)?;
    }
    Ok(true)
}

/// One transaction's questions and writes.
pub struct PgTx<'t> {
    client: &'t super::Conn,
    path: PathBuf,
    /// Whether COMMIT ran (else the drop rolls back).
    done: bool,
    statements: RefCell<HashMap<String, Statement>>,
    /// Whether inserts go to the COPY buffers (a bulk batch).
    bulk: Flag<bool>,
    /// Whether the batch being planned was taken back: the rest of its pass is discarded.
    spoiled: Flag<bool>,
    /// Whether the batch held before the one being planned was taken back (found while
    /// sending rows sooner).
    held_refused: Flag<bool>,
    /// Whether the savepoint of the batch being planned is open (rows were sent sooner).
    open: Flag<bool>,
    /// The worker, once a batch was held.
    worker: RefCell<Option<Worker>>,
    /// Whether a batch is being sent by the worker.
    in_flight: Flag<bool>,
    /// Ids handed out in a spoiled pass (negative: never stored).
    fake: Flag<i64>,
    pending: RefCell<Pending>,
    /// The ranges of provisioning codes drawn from.
    codes: RefCell<Codes>,
    /// How many users went to the COPY buffers.
    copied: Flag<u64>,
    /// The COPY statement of `users`.
    copy_users: String,
    /// The careful insert of a user.
    insert_user: String,
    user_by_uuid: String,
    /// The probe of each unique column.
    probes: Vec<(Col, String)>,
    user_by_id: String,
    /// The export select of a batch of users, by a JSON array of uuids.
    users_by_uuid: String,
}

impl<'t> PgTx<'t> {
    /// Begins the write transaction (READ COMMITTED: each statement sees what other writers
    /// committed before it).
    pub fn begin(client: &'t super::Conn, path: PathBuf) -> Result<Self> {
        client
            .borrow_mut()
            .batch_execute("BEGIN")
            .map_err(|e| super::error(&path, e))?;
        let cols = user_columns();
        let copy_users = format!("COPY users (id, {}) FROM STDIN", cols.join(", "));
        let insert_user = format!(
            "INSERT INTO users ({}) VALUES ({}) ON CONFLICT DO NOTHING RETURNING id",
            cols.join(", "),
            (1..=cols.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let all: Vec<Col> = crate::columns::COLUMNS.iter().map(|c| c.col).collect();
        let ids = [
            "l.id",
            "(SELECT e.id FROM extensions e WHERE e.line_id = l.id ORDER BY e.id LIMIT 1)",
            "uv.voicemail_id",
        ];
        let dialect = super::super::select::Dialect::Postgres;
        let user_by_uuid = super::super::select::select_in(
            dialect,
            &all,
            &ids,
            "u.uuid = $1 AND (CAST($2 AS BIGINT) IS NULL OR u.entity_id = $2)",
        );
        let user_by_id = super::super::select::select_in(
            dialect,
            &all,
            &ids,
            "u.id = $1 AND (CAST($2 AS BIGINT) IS NULL OR u.entity_id = $2)",
        );
        let users_by_uuid = super::super::select::select_in(
            dialect,
            &all,
            &ids,
            "u.uuid IN (SELECT json_array_elements_text(CAST($1 AS JSON))) AND (CAST($2 AS BIGINT) IS NULL OR u.entity_id = $2)",
        );
        Ok(PgTx {
            client,
            path,
            done: false,
            statements: RefCell::default(),
            bulk: Flag::new(false),
            spoiled: Flag::new(false),
            held_refused: Flag::new(false),
            open: Flag::new(false),
            worker: RefCell::default(),
            in_flight: Flag::new(false),
            fake: Flag::new(0),
            pending: RefCell::default(),
            copied: Flag::new(0),
            codes: RefCell::default(),
            copy_users,
            insert_user,
            user_by_uuid,
            probes: super::super::unique_probes(dialect),
            user_by_id,
            users_by_uuid,
        })
    }

    fn db(&self, e: postgres::Error) -> Error {
        super::error(&self.path, e)
    }

    /// The prepared statement of `sql` (written with `?N` or `$N` placeholders).
    fn statement(&self, sql: &str) -> std::result::Result<Statement, postgres::Error> {
        if let Some(st) = self.statements.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = self
            .client
            .borrow_mut()
            .prepare(placeholders(sql).as_ref())?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), st.clone());
        Ok(st)
    }

    /// Runs a query after sending pending rows; returns its rows as cells.
    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>> {
        self.send_sooner()?;
        let st = self.statement(sql).map_err(|e| self.db(e))?;
        let params = super::super::sql::pg_params(params);
        let rows = self
            .client
            .borrow_mut()
            .query(&st, &params)
            .map_err(|e| self.db(e))?;
        rows.iter()
            .map(pg_cells)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.db(e))
    }

    /// The first cell of the first row of a query.
    fn one(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Cell>> {
        Ok(self
            .rows(sql, params)?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next()))
    }

    /// Runs a write statement (not an insert) immediately; in a spoiled pass, nothing.
    fn exec(&self, sql: &str, params: &[Param<'_>]) -> Write<()> {
        if self.spoiled.get() {
            return Ok(());
        }
        self.send_sooner()?;
        let st = self.statement(sql).map_err(|e| self.db(e))?;
        let params = super::super::sql::pg_params(params);
        self.client
            .borrow_mut()
            .execute(&st, &params)
            .map(drop)
            .map_err(|e| WriteError::Failed(self.db(e)))
    }

    /// Inserts a row: into its COPY buffer in a bulk batch (with an id drawn ahead), else at
    /// once with `ON CONFLICT DO NOTHING RETURNING` (no row back: a conflict). Returns the
    /// row's id (for tables keyed by user, the user id given first).
    fn insert(&self, table: Table, careful_sql: &str, values: &[Val<'_>]) -> Write<i64> {
        if self.spoiled.get() {
            self.fake.set(self.fake.get() - 1);
            return Ok(self.fake.get());
        }
        let keyed_by_user = matches!(table, Table::UserVoicemails | Table::UserCallPermissions);
        if self.bulk.get() {
            let id = if keyed_by_user {
                None
            } else {
                Some(self.next_id(table)?)
            };
            if table == Table::Users {
                self.copied.set(self.copied.get() + 1);
            }
            let mut pending = self.pending.borrow_mut();
            pending.any = true;
            let buf = &mut pending.buffers[slot(table)];
            let mut first = true;
            for v in id.map(Val::Int).iter().chain(values) {
                if !first {
                    buf.push(b'\t');
                }
                first = false;
                v.copy(buf);
            }
            buf.push(b'\n');
            return Ok(id.unwrap_or_else(|| {
                values.first().map_or(0, |v| match v {
                    Val::Int(i) => *i,
                    _ => 0,
                })
            }));
        }
        let params: Vec<Param<'_>> = values.iter().map(Val::param).collect();
        let st = self.statement(careful_sql).map_err(|e| self.db(e))?;
        let params = super::super::sql::pg_params(&params);
        let rows = self
            .client
            .borrow_mut()
            .query(&st, &params)
            .map_err(|e| WriteError::Failed(self.db(e)))?;
        match rows.first() {
            None => Err(WriteError::Conflict),
            Some(row) => row
                .try_get::<_, i64>(0)
                .map_err(|e| WriteError::Failed(self.db(e))),
        }
    }

    /// An id drawn ahead from the table's sequence.
    fn next_id(&self, table: Table) -> Result<i64> {
        let i = slot(table);
        self.pending.borrow_mut().used[i] += 1;
        if self.pending.borrow().ids[i].is_empty() {
            let block = match self.pending.borrow().block[i] {
                0 => 16,
                b => b,
            };
            self.draw(i, block)?;
        }
        Ok(self.pending.borrow_mut().ids[i].pop().unwrap_or_default())
    }

    /// Draws `n` more ids from the sequence of slot `i` (the next draw takes twice as many,
    /// up to [`ID_BLOCK`]).
    fn draw(&self, i: usize, n: i64) -> Result<()> {
        let table = COPIED[i].0;
        let st = self
            .statement(&format!(
                "SELECT nextval('{}') FROM generate_series(1, CAST($1 AS BIGINT)) ORDER BY 1 DESC",
                sequence(table)
            ))
            .map_err(|e| self.db(e))?;
        {
            let mut pending = self.pending.borrow_mut();
            pending.block[i] = (n.max(pending.block[i]) * 2).min(ID_BLOCK);
        }
        let rows = self
            .client
            .borrow_mut()
            .query(&st, &[&n])
            .map_err(|e| self.db(e))?;
        // Largest first: ids are taken from the end, smallest first; the ids left from an
        // earlier draw are smaller still.
        let mut ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        let mut pending = self.pending.borrow_mut();
        ids.append(&mut pending.ids[i]);
        pending.ids[i] = ids;
        Ok(())
    }

    /// Before a batch is handed to the worker: as many ids and provisioning codes ready as
    /// the batch used, so that planning the next one rarely needs the connection (it would
    /// wait for the worker).
    fn ready_for_next(&self) -> Result<()> {
        for i in 0..5 {
            let (have, used) = {
                let p = self.pending.borrow();
                (p.ids[i].len(), p.used[i])
            };
            if have < used {
                self.draw(i, (used - have) as i64)?;
            }
        }
        self.pending.borrow_mut().used = [0; 5];
        let wanted = std::mem::take(&mut self.codes.borrow_mut().batch_drawn);
        while {
            let c = self.codes.borrow();
            (c.held.len() as u64 * CODES_PER_RANGE).saturating_sub(c.drawn) < wanted
        } {
            if !self.claim_range()? {
                break;
            }
        }
        Ok(())
    }

    /// Claims another range of provisioning codes (see [`Codes`]), trying random ranges
    /// until one is free; `false` when none was.
    fn claim_range(&self) -> Result<bool> {
        use rand::Rng;
        let st = self
            .statement("SELECT pg_try_advisory_lock($1, CAST($2 AS INTEGER))")
            .map_err(|e| self.db(e))?;
        for _ in 0..64 {
            let range: i32 = rand::thread_rng().gen_range(100..1000);
            if self.codes.borrow().held.contains(&(range as u32)) {
                continue;
            }
            let got: bool = self
                .client
                .borrow_mut()
                .query_one(&st, &[&CODE_LOCKS, &range])
                .map_err(|e| self.db(e))?
                .get(0);
            if got {
                self.codes.borrow_mut().held.push(range as u32);
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Releases the ranges of provisioning codes held (at the end of the transaction).
    fn release_ranges(&self) -> std::result::Result<(), postgres::Error> {
        let held: Vec<i32> = std::mem::take(&mut self.codes.borrow_mut().held)
            .into_iter()
            .map(|r| r as i32)
            .collect();
        if held.is_empty() {
            return Ok(());
        }
        self.client.borrow_mut().execute(
            "SELECT pg_advisory_unlock($1, r) FROM unnest(CAST($2 AS INTEGER[])) r",
            &[&CODE_LOCKS, &held],
        )?;
        Ok(())
    }

    /// What the worker made of the batch it was sending, if it was sending one: `true`
    /// kept, `false` taken back.
    fn wait(&self) -> Result<Option<bool>> {
        if !self.in_flight.get() {
            return Ok(None);
        }
        self.in_flight.set(false);
        let worker = self.worker.borrow();
        let result = worker
            .as_ref()
            .ok_or_else(|| self.db_message("the batch being sent was lost"))?
            .results
            .recv()
            .map_err(|_| self.db_message("the thread sending batches stopped"))?;
        result.map(Some)
    }

    fn db_message(&self, message: &str) -> Error {
        Error::Database {
            path: self.path.clone(),
            message: message.into(),
            help: "this is a bug in ucsv; please report it with the input".into(),
        }
    }

    /// The COPY buffers, emptied.
    fn take_buffers(&self) -> Vec<Vec<u8>> {
        let mut pending = self.pending.borrow_mut();
        pending.any = false;
        pending.buffers.iter_mut().map(std::mem::take).collect()
    }

    /// Sends the pending rows of a bulk batch now, because a statement is about to need
    /// them (a probe sees every row before it). The batch's savepoint stays open. If the
    /// batch held before was taken back, or these rows are refused, the rest of the pass
    /// is discarded and its end says so.
    fn send_sooner(&self) -> Result<()> {
        if !self.bulk.get() || self.spoiled.get() {
            return Ok(());
        }
        if self.wait()? == Some(false) {
            self.held_refused.set(true);
            self.spoiled.set(true);
            self.take_buffers();
            return Ok(());
        }
        if !self.pending.borrow().any {
            return Ok(());
        }
        let buffers = self.take_buffers();
        let kept = copy_batch(
            &mut self.client.borrow_mut(),
            &self.copy_users,
            &self.path,
            &buffers,
            self.open.get(),
            false,
        )?;
        self.open.set(kept);
        if !kept {
            self.spoiled.set(true);
        }
        Ok(())
    }

    /// Hands the batch to the worker (started on first use).
    fn hand_over(&self, job: Job) -> Result<()> {
        let mut worker = self.worker.borrow_mut();
        if worker.is_none() {
            let (jobs, inbox) = std::sync::mpsc::channel::<Job>();
            let (outbox, results) = std::sync::mpsc::channel();
            let conn = self.client.clone();
            let copy_users = self.copy_users.clone();
            let path = self.path.clone();
            let thread = std::thread::Builder::new()
                .name("ucsv-copy".into())
                .spawn(move || {
                    for job in inbox {
                        let result = copy_batch(
                            &mut conn.borrow_mut(),
                            &copy_users,
                            &path,
                            &job.buffers,
                            job.open,
                            true,
                        );
                        if outbox.send(result).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| self.db_message(&format!("cannot start a thread: {e}")))?;
            *worker = Some(Worker {
                jobs: Some(jobs),
                results,
                thread: Some(thread),
            });
        }
        worker
            .as_ref()
            .and_then(|w| w.jobs.as_ref())
            .ok_or_else(|| self.db_message("the thread sending batches stopped"))?
            .send(job)
            .map_err(|_| self.db_message("the thread sending batches stopped"))?;
        self.in_flight.set(true);
        Ok(())
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| self.db(e))
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        // The worker finishes the batch it is sending before the connection is used.
        self.worker.borrow_mut().take();
        if !self.done {
            // Nothing to report on a failure: the transaction is being given up anyway.
            let _ = self.client.borrow_mut().batch_execute("ROLLBACK");
        }
        // After the commit: another writer may draw the ranges' codes once ours are stored.
        // (A failure leaves them to the end of the session.)
        let _ = self.release_ranges();
    }
}

fn first_int(cell: Option<Cell>) -> Option<i64> {
    cell.and_then(|c| c.opt_int())
}

impl Tx for PgTx<'_> {
    /// Writes first and takes a refused row back: in a bulk batch, the batch; otherwise the
    /// row, refused by `ON CONFLICT DO NOTHING` without aborting the transaction.
    fn optimistic(&self) -> bool {
        true
    }

    fn provisioning_code(&self) -> Result<String> {
        use rand::Rng;
        let full = {
            let c = self.codes.borrow();
            c.drawn >= c.held.len() as u64 * CODES_PER_RANGE
        };
        if full && !self.claim_range()? && self.codes.borrow().held.is_empty() {
            // Every range is held by other writers: a code from anywhere (a collision is
            // then refused by the unique index, as for a given code).
            return Ok(crate::record::generate_provisioning_code());
        }
        let mut codes = self.codes.borrow_mut();
        codes.drawn += 1;
        codes.batch_drawn += 1;
        let mut rng = rand::thread_rng();
        let range = codes.held[rng.gen_range(0..codes.held.len())];
        Ok((range * CODE_RANGE + rng.gen_range(0..CODE_RANGE)).to_string())
    }

    fn begin_batch(&self, bulk: bool) -> Result<()> {
        self.spoiled.set(false);
        self.held_refused.set(false);
        self.open.set(false);
        self.bulk.set(bulk);
        if !bulk {
            // A careful batch writes at once: nothing may be in flight (the caller settles
            // a held batch first).
            if self.wait()? == Some(false) {
                return Err(self.db_message("a batch was taken back without being replayed"));
            }
            self.batch("SAVEPOINT ucsv_batch")?;
        }
        Ok(())
    }

    fn end_batch(&self) -> Result<BatchEnd> {
        if !self.bulk.get() {
            self.batch("RELEASE SAVEPOINT ucsv_batch")?;
            return Ok(BatchEnd::Kept);
        }
        self.bulk.set(false);
        if self.spoiled.get() {
            // Taken back while sending rows sooner (the savepoint is released).
            self.take_buffers();
            return Ok(BatchEnd::Refused {
                held_kept: !self.held_refused.get(),
            });
        }
        // (Rows sent sooner already waited for the held batch: none is in flight then.)
        if self.wait()? == Some(false) {
            self.take_buffers();
            return Ok(BatchEnd::Refused { held_kept: false });
        }
        if !self.pending.borrow().any && !self.open.get() {
            return Ok(BatchEnd::Kept);
        }
        let buffers = self.take_buffers();
        self.ready_for_next()?;
        self.hand_over(Job {
            buffers,
            open: self.open.get(),
        })?;
        Ok(BatchEnd::Held)
    }

    fn settle(&self) -> Result<bool> {
        Ok(self.wait()?.unwrap_or(true))
    }

    fn taken(&self, col: Col, value: &str, owner: Option<i64>) -> Result<bool> {
        let sql = super::super::probe_of(&self.probes, col);
        Ok(self
            .one(sql, &[value.into(), owner.into()])?
            .is_some_and(|c| c.int() != 0))
    }

    fn extension_state(
        &self,
        exten: &str,
        context: &str,
        owner: Option<i64>,
    ) -> Result<ExtensionState> {
        let rows = self.rows(
            "SELECT e.id,
                (e.line_id IS NOT NULL AND e.line_id NOT IN (SELECT id FROM lines WHERE user_id IS NOT DISTINCT FROM CAST($3 AS BIGINT)))
                OR EXISTS(SELECT 1 FROM incalls i WHERE i.extension_id = e.id AND i.user_id IS DISTINCT FROM CAST($3 AS BIGINT))
             FROM extensions e WHERE e.exten = $1 AND e.context = $2",
            &[exten.into(), context.into(), owner.into()],
        )?;
        Ok(match rows.first() {
            None => ExtensionState::Missing,
            Some(r) if r[1].int() != 0 => ExtensionState::Taken,
            Some(r) => ExtensionState::Free(r[0].int()),
        })
    }

    fn voicemail_id(&self, number: &str, context: &str) -> Result<Option<i64>> {
        Ok(first_int(self.one(
            "SELECT id FROM voicemails WHERE number = $1 AND context = $2",
            &[number.into(), context.into()],
        )?))
    }

    fn stored_user(&self, key: &UserKey, entity: Option<i64>) -> Result<Option<StoredUser>> {
        let n = crate::columns::N;
        let lowered;
        let (sql, key): (&str, Param<'_>) = match key {
            UserKey::Uuid(u) => {
                lowered = u.to_lowercase();
                (&self.user_by_uuid, Param::Text(&lowered))
            }
            UserKey::Id(id) => (&self.user_by_id, Param::Int(*id)),
        };
        let rows = self.rows(sql, &[key, entity.into()])?;
        Ok(rows.into_iter().next().map(|r| stored(r, n)))
    }

    /// One question for a batch's users: their uuids as a JSON array.
    fn stored_users(&self, uuids: &[&str], entity: Option<i64>) -> Result<Vec<StoredUser>> {
        let keys: Vec<String> = uuids.iter().map(|u| u.to_lowercase()).collect();
        let keys = serde_json::to_string(&keys).map_err(|e| Error::db(&self.path, e))?;
        let rows = self.rows(&self.users_by_uuid, &[keys.as_str().into(), entity.into()])?;
        Ok(rows
            .into_iter()
            .map(|r| stored(r, crate::columns::N))
            .collect())
    }

    fn users_by_extens(&self, context: &str, first: &str, last: &str) -> Result<Vec<i64>> {
        Ok(self
            .rows(
                super::super::USERS_BY_EXTENS,
                &[context.into(), first.into(), last.into()],
            )?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    fn users_by_login(&self, login: &str) -> Result<Vec<i64>> {
        Ok(self
            .rows(super::super::USERS_BY_LOGIN_PG, &[login.into()])?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    fn insert_user(&self, u: &UserRow<'_>) -> Write<i64> {
        let values = user_values(u);
        if let (Some(id), false) = (u.id, self.bulk.get()) {
            // An id given (an undo creating a deleted user again): a row at a time.
            let cols = user_columns();
            let sql = format!(
                "INSERT INTO users (id, {}) VALUES ({}) RETURNING id",
                cols.join(", "),
                (1..=cols.len() + 1)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut with_id = vec![Val::Int(id)];
            with_id.extend(values);
            return self.insert(Table::Users, &sql, &with_id);
        }
        let sql = self.insert_user.clone();
        self.insert(Table::Users, &sql, &values)
    }

    fn update_user(&self, id: i64, u: &UserRow<'_>, changed: &[Col]) -> Write<()> {
        let mut sets: Vec<String> = Vec::new();
        let mut values: Vec<Val<'static>> = Vec::new();
        let mut set = |column: &str, value: Val<'static>| {
            if !sets.iter().any(|s| s.starts_with(&format!("{column} ="))) {
                sets.push(format!("{column} = ${}", sets.len() + 1));
                values.push(value);
            }
        };
        // The values are borrowed from `u`; owned copies keep this simple.
        for col in changed {
            match col {
                Col::EntityId => set("entity_id", Val::Int(u.entity)),
                Col::Username => set("username", own(Val::text(u.username))),
                Col::Password | Col::PasswordHash => {
                    set("password_hash", own(Val::text(u.password_hash)))
                }
                Col::CtiProfileEnabled => set(
                    "cti_profile_enabled",
                    Val::Int(i64::from(u.cti_profile_enabled)),
                ),
                Col::CtiProfileName => set("cti_profile_id", Val::int(u.cti_profile)),
                _ => {
                    if let Some((c, v)) =
                        record::user_fields().zip(u.fields).find(|(c, _)| c == col)
                    {
                        let value = own(field(c, v.as_ref()));
                        set(c.name(), value);
                    }
                }
            }
        }
        if sets.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE users SET {} WHERE id = ${}",
            sets.join(", "),
            sets.len() + 1
        );
        values.push(Val::Int(id));
        let params: Vec<Param<'_>> = values.iter().map(Val::param).collect();
        self.exec(&sql, &params)
    }

    fn insert_line(&self, user_id: i64, l: &LineRow<'_>) -> Write<i64> {
        self.insert(
            Table::Lines,
            "INSERT INTO lines (user_id, protocol, context, sip_username, sip_secret, provisioning_code) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
            &line_values(user_id, l),
        )
    }

    fn update_line(&self, id: i64, l: &LineRow<'_>) -> Write<()> {
        self.exec(
            "UPDATE lines SET context = $2, sip_username = $3, sip_secret = $4, provisioning_code = $5 WHERE id = $1",
            &[id.into(), l.context.into(), l.sip_username.into(), l.sip_secret.into(), l.provisioning_code.into()],
        )
    }

    fn insert_extension(&self, exten: &str, context: &str, line_id: Option<i64>) -> Write<i64> {
        self.insert(
            Table::Extensions,
            "INSERT INTO extensions (exten, context, line_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
            &[Val::text(Some(exten)), Val::text(Some(context)), Val::int(line_id)],
        )
    }

    fn set_extension_line(&self, id: i64, line_id: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE extensions SET line_id = $2 WHERE id = $1",
            &[id.into(), line_id.into()],
        )
    }

    fn rename_extension(&self, id: i64, exten: &str, context: &str) -> Write<()> {
        self.exec(
            "UPDATE extensions SET exten = $2, context = $3 WHERE id = $1",
            &[id.into(), exten.into(), context.into()],
        )
    }

    fn delete_unused_extension(&self, id: i64, except_incall: Option<i64>) -> Write<()> {
        self.exec(
            "DELETE FROM extensions WHERE id = $1 AND line_id IS NULL AND NOT EXISTS (SELECT 1 FROM incalls WHERE extension_id = $1 AND id IS DISTINCT FROM CAST($2 AS BIGINT))",
            &[id.into(), except_incall.into()],
        )
    }

    fn insert_incall(&self, user_id: i64, extension_id: i64, ring: Option<i64>) -> Write<i64> {
        self.insert(
            Table::Incalls,
            "INSERT INTO incalls (user_id, extension_id, ring_seconds) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
            &[Val::Int(user_id), Val::Int(extension_id), Val::int(ring)],
        )
    }

    fn update_incall(&self, id: i64, extension_id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET extension_id = $2, ring_seconds = $3 WHERE id = $1",
            &[id.into(), extension_id.into(), ring.into()],
        )
    }

    fn set_incall_ring(&self, id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET ring_seconds = $2 WHERE id = $1",
            &[id.into(), ring.into()],
        )
    }

    fn delete_incall(&self, id: i64) -> Write<()> {
        self.exec("DELETE FROM incalls WHERE id = $1", &[id.into()])
    }

    fn insert_voicemail(&self, vm: &record::Voicemail) -> Write<i64> {
        self.insert(
            Table::Voicemails,
            "INSERT INTO voicemails (name, number, context, password, email, attach_audio, delete_messages, ask_password) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
            &voicemail_values(vm),
        )
    }

    fn update_voicemail(&self, id: i64, vm: &record::Voicemail) -> Write<()> {
        let mut values = vec![Val::Int(id)];
        values.extend(voicemail_values(vm));
        let params: Vec<Param<'_>> = values.iter().map(Val::param).collect();
        self.exec(
            "UPDATE voicemails SET name = $2, number = $3, context = $4, password = $5, email = $6, attach_audio = $7, delete_messages = $8, ask_password = $9 WHERE id = $1",
            &params,
        )
    }

    fn link_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.insert(
            Table::UserVoicemails,
            "INSERT INTO user_voicemails (user_id, voicemail_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING user_id",
            &[Val::Int(user_id), Val::Int(voicemail_id)],
        )
        .map(drop)
    }

    fn relink_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.exec(
            "UPDATE user_voicemails SET voicemail_id = $2 WHERE user_id = $1",
            &[user_id.into(), voicemail_id.into()],
        )
    }

    fn link_permission(&self, user_id: i64, permission_id: i64) -> Write<()> {
        self.insert(
            Table::UserCallPermissions,
            "INSERT INTO user_call_permissions (user_id, call_permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING user_id",
            &[Val::Int(user_id), Val::Int(permission_id)],
        )
        .map(drop)
    }

    fn clear_permissions(&self, user_id: i64) -> Write<()> {
        self.exec(
            "DELETE FROM user_call_permissions WHERE user_id = $1",
            &[user_id.into()],
        )
    }

    fn undo(&self, rows: Vec<(Table, i64)>) -> Result<()> {
        for (table, id) in rows.into_iter().rev() {
            self.exec(super::super::sqlite_tx::delete_sql(table), &[id.into()])?;
        }
        Ok(())
    }

    fn stored_incalls(&self, user_id: i64) -> Result<Vec<StoredIncall>> {
        let rows = self.rows(
            concat!(
                "SELECT i.id, i.extension_id, e.exten, e.context, i.ring_seconds FROM incalls i
                     JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = $1 ",
                crate::incall_order!()
            ),
            &[user_id.into()],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut r = r.into_iter();
                let mut next = || r.next().unwrap_or(Cell::Null);
                StoredIncall {
                    id: next().int(),
                    extension_id: next().int(),
                    exten: next().text(),
                    context: next().text(),
                    ring_seconds: next().opt_int(),
                }
            })
            .collect())
    }

    fn stored_permissions(&self, user_id: i64) -> Result<Vec<i64>> {
        let rows = self.rows(
            "SELECT call_permission_id FROM user_call_permissions WHERE user_id = $1 ORDER BY 1",
            &[user_id.into()],
        )?;
        Ok(rows.iter().map(|r| r[0].int()).collect())
    }

    fn voicemail_users(&self, voicemail_id: i64) -> Result<u64> {
        Ok(self
            .one(
                "SELECT count(*) FROM user_voicemails WHERE voicemail_id = $1",
                &[voicemail_id.into()],
            )?
            .map_or(0, |c| c.int().unsigned_abs()))
    }

    fn list_users(&self, filter: &Filter, page: Page) -> Result<(Vec<UserView>, u64)> {
        self.send_sooner()?;
        let db = super::super::sql::Postgres {
            client: self.client,
            path: &self.path,
        };
        super::super::listing::list_users(
            &db,
            super::super::select::Dialect::Postgres,
            filter,
            page,
        )
    }

    fn delete_user(&self, user_id: i64) -> Result<()> {
        self.send_sooner()?;
        let db = super::super::sql::Postgres {
            client: self.client,
            path: &self.path,
        };
        super::super::delete_user(&db, user_id)
    }

    super::super::shared_tx_methods!();

    fn commit(mut self: Box<Self>) -> Result<()> {
        if !self.settle()? || self.pending.borrow().any || self.spoiled.get() {
            return Err(
                self.db_message("rows of the last batch were refused by a unique index at commit")
            );
        }
        self.batch("COMMIT")?;
        self.done = true;
        if self.copied.get() >= ANALYZE_AFTER {
            // The rows are committed: a failure here (say, a role that does not own the
            // tables) leaves them to autovacuum, and is not the import's.
            let _ = self.client.borrow_mut().batch_execute(ANALYZE);
        }
        Ok(())
    }
}

/// A user read by the export query with its ids after the `n` cells.
fn stored(row: Vec<Cell>, n: usize) -> StoredUser {
    let mut cells = row.into_iter();
    let user_id = cells.next().map_or(0, |c| c.int());
    let mut texts = crate::domain::port::Cells::default();
    for c in cells.by_ref().take(n) {
        texts.push(&c.text());
    }
    let mut ids = cells.map(|c| c.opt_int());
    StoredUser {
        user_id,
        cells: texts,
        line_id: ids.next().flatten(),
        extension_id: ids.next().flatten(),
        voicemail_id: ids.next().flatten(),
        incalls: None,
        permissions: None,
    }
}

/// A value that owns its text (for statements built from several borrowed rows).
fn own(v: Val<'_>) -> Val<'static> {
    match v {
        Val::Null => Val::Null,
        Val::Int(i) => Val::Int(i),
        Val::Text(s) => Val::Text(Cow::Owned(s.into_owned())),
    }
}

impl PgTx<'_> {
    /// The transaction as the statements both backends share (the history's), once the
    /// rows in flight are written.
    pub(crate) fn shared(&self) -> Result<Box<dyn super::super::sql::Db + '_>> {
        self.send_sooner()?;
        Ok(Box::new(super::super::sql::Postgres {
            client: self.client,
            path: &self.path,
        }))
    }
}
