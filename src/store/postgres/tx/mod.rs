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
//!
//! The bulk path is in `copy`, the writes of a row (on either path) in `write`, the
//! questions in `probes`, the ranges of provisioning codes in `codes`, the values written
//! in `values`; here, the transaction, its statements, its end and the [`Tx`] it answers.
//!
//! [`WriteError::Conflict`]: crate::domain::port::WriteError::Conflict

mod codes;
mod copy;
mod probes;
mod values;
mod write;

use super::db::placeholders;
use crate::columns::Col;
use crate::domain::port::{
    BatchEnd, ExtensionState, Filter, LineRow, Page, StoredIncall, StoredUser, Table, Tx, UserKey,
    UserRow, UserView, Write,
};
use crate::error::{Error, Result};
use crate::record;
use codes::Codes;
use copy::{Pending, Worker};
use postgres::Statement;
use std::cell::{Cell as Flag, RefCell};
use std::collections::HashMap;
use std::path::PathBuf;
use values::user_columns;

/// After how many users written by COPY the commit analyzes the tables written: the planner
/// would otherwise plan the next queries (an export, the probes of the next import) on the
/// sizes the tables had before, until autovacuum gets to them, and a plan made for empty
/// tables can scan a whole table per user.
const ANALYZE_AFTER: u64 = 10_000;

/// The statement analyzing the tables of [`copy::COPIED`].
const ANALYZE: &str =
    "ANALYZE users, lines, extensions, incalls, voicemails, user_voicemails, user_call_permissions";

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
    /// The users of a range of ids (`stored_users_between`).
    users_between: String,
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
        let users_between =
            super::super::select::select_in(dialect, &all, &ids, "u.id BETWEEN $1 AND $2");
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
            users_between,
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

    fn db_message(&self, message: &str) -> Error {
        Error::Database {
            path: self.path.clone(),
            message: message.into(),
            help: "this is a bug in ucsv; please report it with the input".into(),
        }
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

// Each question and write is PgTx's own method of the same name (Rust looks a type's own
// methods up before a trait's), in the module of its kind.
impl Tx for PgTx<'_> {
    /// Writes first and takes a refused row back: in a bulk batch, the batch; otherwise the
    /// row, refused by `ON CONFLICT DO NOTHING` without aborting the transaction.
    fn optimistic(&self) -> bool {
        true
    }

    fn provisioning_code(&self) -> Result<String> {
        self.provisioning_code()
    }

    fn begin_batch(&self, bulk: bool) -> Result<()> {
        self.begin_batch(bulk)
    }

    fn end_batch(&self) -> Result<BatchEnd> {
        self.end_batch()
    }

    fn settle(&self) -> Result<bool> {
        self.settle()
    }

    fn taken(&self, col: Col, value: &str, owner: Option<i64>) -> Result<bool> {
        self.taken(col, value, owner)
    }

    fn extension_state(
        &self,
        exten: &str,
        context: &str,
        owner: Option<i64>,
    ) -> Result<ExtensionState> {
        self.extension_state(exten, context, owner)
    }

    fn voicemail_id(&self, number: &str, context: &str) -> Result<Option<i64>> {
        self.voicemail_id(number, context)
    }

    fn stored_user(&self, key: &UserKey, entity: Option<i64>) -> Result<Option<StoredUser>> {
        self.stored_user(key, entity)
    }

    fn stored_users(&self, uuids: &[&str], entity: Option<i64>) -> Result<Vec<StoredUser>> {
        self.stored_users(uuids, entity)
    }

    fn stored_users_between(&self, first: i64, last: i64) -> Result<Vec<StoredUser>> {
        self.stored_users_between(first, last)
    }

    fn users_by_extens(&self, context: &str, first: &str, last: &str) -> Result<Vec<i64>> {
        self.users_by_extens(context, first, last)
    }

    fn users_by_login(&self, login: &str) -> Result<Vec<i64>> {
        self.users_by_login(login)
    }

    fn insert_user(&self, u: &UserRow<'_>) -> Write<i64> {
        self.insert_user(u)
    }

    fn update_user(&self, id: i64, u: &UserRow<'_>, changed: &[Col]) -> Write<()> {
        self.update_user(id, u, changed)
    }

    fn insert_line(&self, user_id: i64, l: &LineRow<'_>) -> Write<i64> {
        self.insert_line(user_id, l)
    }

    fn update_line(&self, id: i64, l: &LineRow<'_>) -> Write<()> {
        self.update_line(id, l)
    }

    fn insert_extension(&self, exten: &str, context: &str, line_id: Option<i64>) -> Write<i64> {
        self.insert_extension(exten, context, line_id)
    }

    fn set_extension_line(&self, id: i64, line_id: Option<i64>) -> Write<()> {
        self.set_extension_line(id, line_id)
    }

    fn rename_extension(&self, id: i64, exten: &str, context: &str) -> Write<()> {
        self.rename_extension(id, exten, context)
    }

    fn delete_unused_extension(&self, id: i64, except_incall: Option<i64>) -> Write<()> {
        self.delete_unused_extension(id, except_incall)
    }

    fn insert_incall(&self, user_id: i64, extension_id: i64, ring: Option<i64>) -> Write<i64> {
        self.insert_incall(user_id, extension_id, ring)
    }

    fn update_incall(&self, id: i64, extension_id: i64, ring: Option<i64>) -> Write<()> {
        self.update_incall(id, extension_id, ring)
    }

    fn set_incall_ring(&self, id: i64, ring: Option<i64>) -> Write<()> {
        self.set_incall_ring(id, ring)
    }

    fn delete_incall(&self, id: i64) -> Write<()> {
        self.delete_incall(id)
    }

    fn insert_voicemail(&self, vm: &record::Voicemail) -> Write<i64> {
        self.insert_voicemail(vm)
    }

    fn update_voicemail(&self, id: i64, vm: &record::Voicemail) -> Write<()> {
        self.update_voicemail(id, vm)
    }

    fn link_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.link_voicemail(user_id, voicemail_id)
    }

    fn relink_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.relink_voicemail(user_id, voicemail_id)
    }

    fn link_permission(&self, user_id: i64, permission_id: i64) -> Write<()> {
        self.link_permission(user_id, permission_id)
    }

    fn clear_permissions(&self, user_id: i64) -> Write<()> {
        self.clear_permissions(user_id)
    }

    fn undo(&self, rows: Vec<(Table, i64)>) -> Result<()> {
        self.undo(rows)
    }

    fn stored_incalls(&self, user_id: i64) -> Result<Vec<StoredIncall>> {
        self.stored_incalls(user_id)
    }

    fn stored_permissions(&self, user_id: i64) -> Result<Vec<i64>> {
        self.stored_permissions(user_id)
    }

    fn voicemail_users(&self, voicemail_id: i64) -> Result<u64> {
        self.voicemail_users(voicemail_id)
    }

    fn list_users(&self, filter: &Filter, page: Page) -> Result<(Vec<UserView>, u64)> {
        self.list_users(filter, page)
    }

    fn delete_user(&self, user_id: i64) -> Result<()> {
        self.delete_user(user_id)
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

impl PgTx<'_> {
    /// The transaction as the statements both backends share (the history's), once the
    /// rows in flight are written.
    pub(crate) fn shared(&self) -> Result<Box<dyn super::super::sql::Db + '_>> {
        self.send_sooner()?;
        Ok(Box::new(super::db::Postgres {
            client: self.client,
            path: &self.path,
        }))
    }
}
