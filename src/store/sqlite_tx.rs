//! The SQLite backend of [`Tx`]: the transaction, its begin and end, the hot statements
//! of the row path prepared once per run, and the `impl Tx` (its questions in `reads.rs`,
//! its writes in `writes.rs`). The transaction is begun and ended with plain statements so
//! that the prepared statements can borrow the connection for the whole run.

mod reads;
mod writes;

pub(crate) use writes::delete_sql;

use crate::columns::Col;
use crate::domain::port::{
    ExtensionState, Filter, LineRow, Page, StoredIncall, StoredUser, Table, Tx, UserKey, UserRow,
    UserView, Write, WriteError,
};
use crate::error::Error;
use crate::record;
use rusqlite::{Connection, Statement};
use std::cell::RefCell;
use std::path::PathBuf;

/// The statements of the create path, prepared once per run.
struct Hot<'t> {
    user: RefCell<Statement<'t>>,
    line: RefCell<Statement<'t>>,
    extension: RefCell<Statement<'t>>,
    incall: RefCell<Statement<'t>>,
    voicemail: RefCell<Statement<'t>>,
    user_voicemail: RefCell<Statement<'t>>,
    permission: RefCell<Statement<'t>>,
}

/// One transaction's questions and writes.
pub struct SqliteTx<'t> {
    tx: &'t Connection,
    /// Whether COMMIT ran (else the drop rolls back).
    done: bool,
    path: PathBuf,
    hot: Hot<'t>,
    /// The export select of one user, by uuid and by id.
    user_by_uuid: String,
    /// The probe of each unique column.
    probes: Vec<(Col, String)>,
    user_by_id: String,
    /// The export select of the users named by a JSON array of uuids.
    users_by_uuid: String,
    /// The users of a range of ids (`stored_users_between`), without their lists.
    users_between: String,
}

impl<'t> SqliteTx<'t> {
    /// Begins the transaction and prepares the hot statements; `path` names the database
    /// in messages. A write transaction is IMMEDIATE: the write lock is taken now, waiting
    /// up to the busy timeout for another writer. A read transaction takes no lock: it
    /// reads one snapshot, beside any writer.
    pub fn begin(tx: &'t Connection, path: PathBuf, write: bool) -> crate::error::Result<Self> {
        let db = |e| Error::db(&path, e);
        tx.execute_batch(if write {
            "BEGIN IMMEDIATE"
        } else {
            "BEGIN DEFERRED"
        })
        .map_err(db)?;
        if write {
            tx.execute_batch(super::sqlite::WORK_CACHE).map_err(db)?;
            tx.execute_batch(super::sqlite::NOTING).map_err(db)?;
        }
        let fields: Vec<&str> = record::user_fields().map(Col::name).collect();
        let insert_user = format!(
            "INSERT INTO users (id, uuid, entity_id, username, password_hash, cti_profile_enabled, cti_profile_id, {}) VALUES ({})",
            fields.join(", "),
            vec!["?"; fields.len() + 7].join(", ")
        );
        let prepare = |sql: &str| tx.prepare(sql).map(RefCell::new).map_err(db);
        let hot = Hot {
            user: prepare(&insert_user)?,
            line: prepare("INSERT INTO lines (user_id, protocol, context, sip_username, sip_secret, provisioning_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?,
            extension: prepare("INSERT INTO extensions (exten, context, line_id) VALUES (?1, ?2, ?3)")?,
            incall: prepare("INSERT INTO incalls (user_id, extension_id, ring_seconds) VALUES (?1, ?2, ?3)")?,
            voicemail: prepare("INSERT INTO voicemails (name, number, context, password, email, attach_audio, delete_messages, ask_password) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?,
            user_voicemail: prepare("INSERT INTO user_voicemails (user_id, voicemail_id) VALUES (?1, ?2)")?,
            permission: prepare("INSERT INTO user_call_permissions (user_id, call_permission_id) VALUES (?1, ?2)")?,
        };
        let all: Vec<Col> = crate::columns::COLUMNS.iter().map(|c| c.col).collect();
        // The user's cells, then the ids of its line, the line's extension and its box.
        let ids = [
            "l.id",
            "(SELECT e.id FROM extensions e WHERE e.line_id = l.id ORDER BY e.id LIMIT 1)",
            "uv.voicemail_id",
        ];
        let user_by_uuid = super::select::select_with(
            &all,
            &ids,
            "u.uuid = ?1 AND (?2 IS NULL OR u.entity_id = ?2)",
        );
        let user_by_id = super::select::select_with(
            &all,
            &ids,
            "u.id = ?1 AND (?2 IS NULL OR u.entity_id = ?2)",
        );
        // The uuids as a JSON array: one statement whatever their number. The lists are
        // read apart, for all the users at once (see `stored_users`).
        let users_by_uuid = super::select::select_without_lists(
            &all,
            &ids,
            "u.uuid IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR u.entity_id = ?2)",
        );
        let users_between =
            super::select::select_without_lists(&all, &ids, "u.id BETWEEN ?1 AND ?2");
        Ok(SqliteTx {
            tx,
            done: false,
            path,
            hot,
            user_by_uuid,
            probes: super::unique_probes(super::select::Dialect::Sqlite),
            user_by_id,
            users_by_uuid,
            users_between,
        })
    }

    fn db(&self, e: rusqlite::Error) -> Error {
        Error::db(&self.path, e)
    }

    fn write_error(&self, e: rusqlite::Error) -> WriteError {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) {
            WriteError::Conflict
        } else {
            WriteError::Failed(self.db(e))
        }
    }

    /// Runs a statement of the row path (cached), as a write.
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> Write<()> {
        self.tx
            .prepare_cached(sql)
            .and_then(|mut st| st.execute(params))
            .map(drop)
            .map_err(|e| self.write_error(e))
    }

    /// Runs a hot insert; returns the new row's id.
    fn insert(&self, st: &RefCell<Statement<'t>>, params: impl rusqlite::Params) -> Write<i64> {
        st.borrow_mut()
            .execute(params)
            .map_err(|e| self.write_error(e))?;
        Ok(self.tx.last_insert_rowid())
    }
}

impl Drop for SqliteTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Nothing to report on a failure: the connection is being given up anyway.
            let _ = self.tx.execute_batch("ROLLBACK");
        }
    }
}

impl<'t> Tx for SqliteTx<'t> {
    /// SQLite writes optimistically: a refused insert is cheap to take back.
    fn optimistic(&self) -> bool {
        true
    }

    // The questions are answered in reads.rs and the writes in writes.rs, by SqliteTx's own
    // methods of the same names: `SqliteTx::taken` names the inherent method, not this one.
    fn taken(&self, col: Col, value: &str, owner: Option<i64>) -> crate::error::Result<bool> {
        SqliteTx::taken(self, col, value, owner)
    }

    fn extension_state(
        &self,
        exten: &str,
        context: &str,
        owner: Option<i64>,
    ) -> crate::error::Result<ExtensionState> {
        SqliteTx::extension_state(self, exten, context, owner)
    }

    fn voicemail_id(&self, number: &str, context: &str) -> crate::error::Result<Option<i64>> {
        SqliteTx::voicemail_id(self, number, context)
    }

    fn stored_user(
        &self,
        key: &UserKey,
        entity: Option<i64>,
    ) -> crate::error::Result<Option<StoredUser>> {
        SqliteTx::stored_user(self, key, entity)
    }

    fn stored_users(
        &self,
        uuids: &[&str],
        entity: Option<i64>,
    ) -> crate::error::Result<Vec<StoredUser>> {
        SqliteTx::stored_users(self, uuids, entity)
    }

    fn stored_users_between(&self, first: i64, last: i64) -> crate::error::Result<Vec<StoredUser>> {
        SqliteTx::stored_users_between(self, first, last)
    }

    fn stored_incalls(&self, user_id: i64) -> crate::error::Result<Vec<StoredIncall>> {
        SqliteTx::stored_incalls(self, user_id)
    }

    fn stored_permissions(&self, user_id: i64) -> crate::error::Result<Vec<i64>> {
        SqliteTx::stored_permissions(self, user_id)
    }

    fn users_by_extens(
        &self,
        context: &str,
        first: &str,
        last: &str,
    ) -> crate::error::Result<Vec<i64>> {
        SqliteTx::users_by_extens(self, context, first, last)
    }

    fn users_by_login(&self, login: &str) -> crate::error::Result<Vec<i64>> {
        SqliteTx::users_by_login(self, login)
    }

    fn voicemail_users(&self, voicemail_id: i64) -> crate::error::Result<u64> {
        SqliteTx::voicemail_users(self, voicemail_id)
    }

    fn insert_user(&self, u: &UserRow<'_>) -> Write<i64> {
        SqliteTx::insert_user(self, u)
    }

    fn update_user(&self, id: i64, u: &UserRow<'_>, changed: &[Col]) -> Write<()> {
        SqliteTx::update_user(self, id, u, changed)
    }

    fn insert_line(&self, user_id: i64, l: &LineRow<'_>) -> Write<i64> {
        SqliteTx::insert_line(self, user_id, l)
    }

    fn update_line(&self, id: i64, l: &LineRow<'_>) -> Write<()> {
        SqliteTx::update_line(self, id, l)
    }

    fn insert_extension(&self, exten: &str, context: &str, line_id: Option<i64>) -> Write<i64> {
        SqliteTx::insert_extension(self, exten, context, line_id)
    }

    fn set_extension_line(&self, id: i64, line_id: Option<i64>) -> Write<()> {
        SqliteTx::set_extension_line(self, id, line_id)
    }

    fn rename_extension(&self, id: i64, exten: &str, context: &str) -> Write<()> {
        SqliteTx::rename_extension(self, id, exten, context)
    }

    fn delete_unused_extension(&self, id: i64, except_incall: Option<i64>) -> Write<()> {
        SqliteTx::delete_unused_extension(self, id, except_incall)
    }

    fn insert_incall(&self, user_id: i64, extension_id: i64, ring: Option<i64>) -> Write<i64> {
        SqliteTx::insert_incall(self, user_id, extension_id, ring)
    }

    fn update_incall(&self, id: i64, extension_id: i64, ring: Option<i64>) -> Write<()> {
        SqliteTx::update_incall(self, id, extension_id, ring)
    }

    fn set_incall_ring(&self, id: i64, ring: Option<i64>) -> Write<()> {
        SqliteTx::set_incall_ring(self, id, ring)
    }

    fn delete_incall(&self, id: i64) -> Write<()> {
        SqliteTx::delete_incall(self, id)
    }

    fn insert_voicemail(&self, vm: &record::Voicemail) -> Write<i64> {
        SqliteTx::insert_voicemail(self, vm)
    }

    fn update_voicemail(&self, id: i64, vm: &record::Voicemail) -> Write<()> {
        SqliteTx::update_voicemail(self, id, vm)
    }

    fn link_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        SqliteTx::link_voicemail(self, user_id, voicemail_id)
    }

    fn relink_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        SqliteTx::relink_voicemail(self, user_id, voicemail_id)
    }

    fn link_permission(&self, user_id: i64, permission_id: i64) -> Write<()> {
        SqliteTx::link_permission(self, user_id, permission_id)
    }

    fn clear_permissions(&self, user_id: i64) -> Write<()> {
        SqliteTx::clear_permissions(self, user_id)
    }

    fn undo(&self, rows: Vec<(Table, i64)>) -> crate::error::Result<()> {
        SqliteTx::undo(self, rows)
    }

    fn list_users(
        &self,
        filter: &Filter,
        page: Page,
    ) -> crate::error::Result<(Vec<UserView>, u64)> {
        let db = super::sql::Sqlite {
            conn: self.tx,
            path: &self.path,
        };
        super::listing::list_users(&db, super::select::Dialect::Sqlite, filter, page)
    }

    fn delete_user(&self, user_id: i64) -> crate::error::Result<()> {
        let db = super::sql::Sqlite {
            conn: self.tx,
            path: &self.path,
        };
        super::delete_user(&db, user_id)
    }

    super::shared_tx_methods!();

    fn commit(mut self: Box<Self>) -> crate::error::Result<()> {
        // The users this transaction changed are indexed again for the search, in it.
        super::sqlite::writer_reindex(self.tx).map_err(|e| Error::db(&self.path, e))?;
        self.tx
            .execute_batch("COMMIT")
            .map_err(|e| Error::db(&self.path, e))?;
        self.done = true;
        Ok(())
    }
}

impl SqliteTx<'_> {
    /// The transaction as the statements both backends share (the history's), once the
    /// rows in flight are written.
    pub(crate) fn shared(&self) -> crate::error::Result<Box<dyn super::sql::Db + '_>> {
        Ok(Box::new(super::sql::Sqlite {
            conn: self.tx,
            path: &self.path,
        }))
    }
}
