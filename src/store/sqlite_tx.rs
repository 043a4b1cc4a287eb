//! The SQLite backend of [`Tx`]: the SQL of the row path, with the hot statements prepared
//! once per run. The transaction is begun and ended with plain statements so that the
//! prepared statements can borrow the connection for the whole run.

use super::export::{GroupConcat, IncallLists};
use crate::columns::Col;
use crate::domain::port::{
    Cells, ExtensionState, Filter, LineRow, Page, StoredIncall, StoredUser, Table, Tx, UserKey,
    UserRow, UserView, Write, WriteError,
};
use crate::error::Error;
use crate::record::{self, Value};
use rusqlite::types::Value as Sql;
use rusqlite::types::{Null, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Statement};
use std::cell::RefCell;
use std::collections::HashMap;
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
        let user_by_uuid = super::export::select_with(
            &all,
            &ids,
            "u.uuid = ?1 AND (?2 IS NULL OR u.entity_id = ?2)",
        );
        let user_by_id = super::export::select_with(
            &all,
            &ids,
            "u.id = ?1 AND (?2 IS NULL OR u.entity_id = ?2)",
        );
        // The uuids as a JSON array: one statement whatever their number. The lists are
        // read apart, for all the users at once (see `stored_users`).
        let users_by_uuid = super::export::select_without_lists(
            &all,
            &ids,
            "u.uuid IN (SELECT value FROM json_each(?1)) AND (?2 IS NULL OR u.entity_id = ?2)",
        );
        Ok(SqliteTx {
            tx,
            done: false,
            path,
            hot,
            user_by_uuid,
            probes: super::unique_probes(super::export::Dialect::Sqlite),
            user_by_id,
            users_by_uuid,
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

impl SqliteTx<'_> {
    /// The incall lists of `users` (whose ids `ids` holds as a JSON array, `at` gives their
    /// places) and their incalls: those of all the users in number order (so each user's
    /// too). Each field is read as the export's lists show it (SQL text) and as
    /// `stored_incalls` reads it; a value that does not read as the latter leaves the user's
    /// incalls to be asked for apart, where it fails as it always did.
    fn read_incalls(
        &self,
        ids: &str,
        at: &HashMap<i64, usize>,
        users: &mut [StoredUser],
    ) -> rusqlite::Result<()> {
        let n = users.len();
        let mut lists: Vec<IncallLists> = std::iter::repeat_with(IncallLists::default)
            .take(n)
            .collect();
        let mut incalls: Vec<Option<Vec<StoredIncall>>> = vec![Some(Vec::new()); n];
        let mut st = self.tx.prepare_cached(concat!(
            "SELECT i.user_id, CAST(e.exten AS TEXT), CAST(e.context AS TEXT),
                CAST(i.ring_seconds AS TEXT), i.id, i.extension_id, e.exten, e.context,
                i.ring_seconds
             FROM incalls i JOIN extensions e ON e.id = i.extension_id
             WHERE i.user_id IN (SELECT value FROM json_each(?1)) ",
            crate::incall_order!()
        ))?;
        let mut rows = st.query([ids])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
                continue;
            };
            lists[i].push(
                sql_text(r, 1)?.as_deref(),
                sql_text(r, 2)?.as_deref(),
                sql_text(r, 3)?.as_deref(),
            );
            let incall = (|| {
                Ok::<_, rusqlite::Error>(StoredIncall {
                    id: r.get(4)?,
                    extension_id: r.get(5)?,
                    exten: r.get(6)?,
                    context: r.get(7)?,
                    ring_seconds: r.get(8)?,
                })
            })();
            match (incall, &mut incalls[i]) {
                (Ok(c), Some(list)) => list.push(c),
                _ => incalls[i] = None,
            }
        }
        for ((user, lists), incalls) in users.iter_mut().zip(lists).zip(incalls) {
            let [exten, context, ring] = lists.cells();
            user.cells.set(Col::IncallExten as usize, &exten);
            user.cells.set(Col::IncallContext as usize, &context);
            user.cells.set(Col::IncallRingSeconds as usize, &ring);
            user.incalls = incalls;
        }
        Ok(())
    }

    /// The call permissions of `users` (see [`SqliteTx::read_incalls`]): the names in name
    /// order for the export's list, the ids in id order as `stored_permissions` reads them.
    fn read_permissions(
        &self,
        ids: &str,
        at: &HashMap<i64, usize>,
        users: &mut [StoredUser],
    ) -> rusqlite::Result<()> {
        let n = users.len();
        let mut names: Vec<GroupConcat> = std::iter::repeat_with(GroupConcat::default)
            .take(n)
            .collect();
        let mut permissions: Vec<Option<Vec<i64>>> = vec![Some(Vec::new()); n];
        let mut st = self.tx.prepare_cached(
            "SELECT up.user_id, CAST(p.name AS TEXT), up.call_permission_id
             FROM user_call_permissions up
             LEFT JOIN call_permissions p ON p.id = up.call_permission_id
             WHERE up.user_id IN (SELECT value FROM json_each(?1)) ORDER BY p.name",
        )?;
        let mut rows = st.query([ids])?;
        while let Some(r) = rows.next()? {
            let Some(&i) = at.get(&r.get::<_, i64>(0)?) else {
                continue;
            };
            names[i].push(sql_text(r, 1)?.as_deref());
            match (r.get::<_, i64>(2), &mut permissions[i]) {
                (Ok(id), Some(ids)) => ids.push(id),
                _ => permissions[i] = None,
            }
        }
        for ((user, names), permissions) in users.iter_mut().zip(names).zip(permissions) {
            user.cells
                .set(Col::CallPermissions as usize, &names.finish());
            user.permissions = permissions.map(|mut ids| {
                ids.sort_unstable();
                ids
            });
        }
        Ok(())
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

    /// Whether a unique column's value belongs to another user than `owner`.
    fn taken(&self, col: Col, value: &str, owner: Option<i64>) -> crate::error::Result<bool> {
        self.tx
            .prepare_cached(super::probe_of(&self.probes, col))
            .and_then(|mut st| st.query_row(params![value, owner], |r| r.get(0)))
            .map_err(|e| self.db(e))
    }

    /// What `exten@context` is to the user `owner` (its own line and incalls don't count).
    fn extension_state(
        &self,
        exten: &str,
        context: &str,
        owner: Option<i64>,
    ) -> crate::error::Result<ExtensionState> {
        let row: Option<(i64, bool)> = self
            .tx
            .prepare_cached(
                "SELECT e.id,
                    (e.line_id IS NOT NULL AND e.line_id NOT IN (SELECT id FROM lines WHERE user_id IS ?3))
                    OR EXISTS(SELECT 1 FROM incalls i WHERE i.extension_id = e.id AND i.user_id IS NOT ?3)
                 FROM extensions e WHERE e.exten = ?1 AND e.context = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![exten, context, owner], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.db(e))?;
        Ok(match row {
            None => ExtensionState::Missing,
            Some((_, true)) => ExtensionState::Taken,
            Some((id, false)) => ExtensionState::Free(id),
        })
    }

    /// The voicemail box `number@context`, if it exists.
    fn voicemail_id(&self, number: &str, context: &str) -> crate::error::Result<Option<i64>> {
        self.tx
            .prepare_cached("SELECT id FROM voicemails WHERE number = ?1 AND context = ?2")
            .and_then(|mut st| st.query_row([number, context], |r| r.get(0)).optional())
            .map_err(|e| self.db(e))
    }

    fn stored_user(
        &self,
        key: &UserKey,
        entity: Option<i64>,
    ) -> crate::error::Result<Option<StoredUser>> {
        let (sql, key): (&str, Sql) = match key {
            UserKey::Uuid(u) => (&self.user_by_uuid, Sql::Text(u.to_lowercase())),
            UserKey::Id(id) => (&self.user_by_id, Sql::Integer(*id)),
        };
        self.tx
            .prepare_cached(sql)
            .and_then(|mut st| st.query_row(params![key, entity], stored).optional())
            .map_err(|e| self.db(e))
    }

    fn stored_users(
        &self,
        uuids: &[&str],
        entity: Option<i64>,
    ) -> crate::error::Result<Vec<StoredUser>> {
        let keys: Vec<std::borrow::Cow<'_, str>> = uuids
            .iter()
            .map(
                |u| match u.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                    true => (*u).into(),
                    false => u.to_lowercase().into(),
                },
            )
            .collect();
        let keys = serde_json::to_string(&keys).map_err(|e| Error::db(&self.path, e))?;
        let db = |e| self.db(e);
        let mut users = Vec::with_capacity(uuids.len());
        let mut st = self.tx.prepare_cached(&self.users_by_uuid).map_err(db)?;
        let mut rows = st.query(params![keys, entity]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            users.push(stored(r).map_err(db)?);
        }
        drop(rows);
        if users.is_empty() {
            return Ok(users);
        }
        let at: HashMap<i64, usize> = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.user_id, i))
            .collect();
        let ids = serde_json::Value::from(users.iter().map(|u| u.user_id).collect::<Vec<_>>())
            .to_string();
        self.read_incalls(&ids, &at, &mut users).map_err(db)?;
        self.read_permissions(&ids, &at, &mut users).map_err(db)?;
        Ok(users)
    }

    fn stored_incalls(&self, user_id: i64) -> crate::error::Result<Vec<StoredIncall>> {
        self.tx
            .prepare_cached(concat!(
                "SELECT i.id, i.extension_id, e.exten, e.context, i.ring_seconds FROM incalls i
                     JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = ?1 ",
                crate::incall_order!()
            ))
            .and_then(|mut st| {
                st.query_map([user_id], |r| {
                    Ok(StoredIncall {
                        id: r.get(0)?,
                        extension_id: r.get(1)?,
                        exten: r.get(2)?,
                        context: r.get(3)?,
                        ring_seconds: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.db(e))
    }

    fn stored_permissions(&self, user_id: i64) -> crate::error::Result<Vec<i64>> {
        self.tx
            .prepare_cached("SELECT call_permission_id FROM user_call_permissions WHERE user_id = ?1 ORDER BY 1")
            .and_then(|mut st| st.query_map([user_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>())
            .map_err(|e| self.db(e))
    }

    fn users_by_extens(
        &self,
        context: &str,
        first: &str,
        last: &str,
    ) -> crate::error::Result<Vec<i64>> {
        let db = super::sql::Sqlite {
            conn: self.tx,
            path: &self.path,
        };
        use super::sql::Db;
        Ok(db
            .rows(
                super::USERS_BY_EXTENS,
                &[context.into(), first.into(), last.into()],
            )?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    fn users_by_login(&self, login: &str) -> crate::error::Result<Vec<i64>> {
        let db = super::sql::Sqlite {
            conn: self.tx,
            path: &self.path,
        };
        use super::sql::Db;
        Ok(db
            .rows(super::USERS_BY_LOGIN, &[login.into()])?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    fn insert_user(&self, u: &UserRow<'_>) -> Write<i64> {
        let mut values: Vec<ToSqlOutput<'_>> = vec![
            u.id.map_or(ToSqlOutput::from(Null), ToSqlOutput::from),
            ToSqlOutput::from(u.uuid),
            ToSqlOutput::from(u.entity),
            opt_ref(u.username),
            opt_ref(u.password_hash),
            ToSqlOutput::from(i64::from(u.cti_profile_enabled)),
            u.cti_profile
                .map_or(ToSqlOutput::from(Null), ToSqlOutput::from),
        ];
        for (col, v) in record::user_fields().zip(u.fields) {
            values.push(sql_ref(col, v.as_ref()));
        }
        let id = self.insert(&self.hot.user, rusqlite::params_from_iter(values))?;
        if u.id.is_some() {
            // An id chosen again (an undo re-creating a deleted user) may be below the
            // search's mark, where a new row is not taken as indexed yet: noted.
            self.exec(
                "INSERT OR IGNORE INTO noted_users (id) VALUES (?1)",
                params![id],
            )?;
        }
        Ok(id)
    }

    fn update_user(&self, id: i64, u: &UserRow<'_>, changed: &[Col]) -> Write<()> {
        // Only the changed columns are set: an index is rewritten only for its own column.
        let mut columns: Vec<&'static str> = Vec::with_capacity(changed.len());
        let mut values: Vec<ToSqlOutput<'_>> = Vec::with_capacity(changed.len() + 1);
        for col in changed {
            let (column, value) = match col {
                Col::EntityId => ("entity_id", ToSqlOutput::from(u.entity)),
                Col::Username => ("username", opt_ref(u.username)),
                Col::Password | Col::PasswordHash => ("password_hash", opt_ref(u.password_hash)),
                Col::CtiProfileEnabled => (
                    "cti_profile_enabled",
                    ToSqlOutput::from(i64::from(u.cti_profile_enabled)),
                ),
                Col::CtiProfileName => (
                    "cti_profile_id",
                    u.cti_profile
                        .map_or(ToSqlOutput::from(Null), ToSqlOutput::from),
                ),
                _ => match record::user_fields().zip(u.fields).find(|(c, _)| c == col) {
                    Some((c, v)) => (c.name(), sql_ref(c, v.as_ref())),
                    None => continue,
                },
            };
            if !columns.contains(&column) {
                columns.push(column);
                values.push(value);
            }
        }
        if columns.is_empty() {
            return Ok(());
        }
        values.push(ToSqlOutput::from(id));
        let mut sql = String::from("UPDATE users SET ");
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(column);
            sql.push_str(" = ?");
        }
        sql.push_str(" WHERE id = ?");
        self.exec(&sql, rusqlite::params_from_iter(values))
    }

    /// Inserts a line for the user; returns its id.
    fn insert_line(&self, user_id: i64, l: &LineRow<'_>) -> Write<i64> {
        self.insert(
            &self.hot.line,
            params![
                user_id,
                l.protocol,
                l.context,
                l.sip_username,
                l.sip_secret,
                l.provisioning_code
            ],
        )
    }

    /// Rewrites a line's settings (its protocol never changes).
    fn update_line(&self, id: i64, l: &LineRow<'_>) -> Write<()> {
        self.exec(
            "UPDATE lines SET context = ?2, sip_username = ?3, sip_secret = ?4, provisioning_code = ?5 WHERE id = ?1",
            params![id, l.context, l.sip_username, l.sip_secret, l.provisioning_code],
        )
    }

    /// Inserts an extension (for a line, or for incalls when `line_id` is `None`).
    fn insert_extension(&self, exten: &str, context: &str, line_id: Option<i64>) -> Write<i64> {
        self.insert(&self.hot.extension, params![exten, context, line_id])
    }

    /// Points an existing extension at a line (or at none).
    fn set_extension_line(&self, id: i64, line_id: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE extensions SET line_id = ?2 WHERE id = ?1",
            params![id, line_id],
        )
    }

    /// Changes an extension's number and context in place (its id is kept).
    fn rename_extension(&self, id: i64, exten: &str, context: &str) -> Write<()> {
        self.exec(
            "UPDATE extensions SET exten = ?2, context = ?3 WHERE id = ?1",
            params![id, exten, context],
        )
    }

    /// Deletes an extension that no line uses and no incall other than `except_incall` uses.
    fn delete_unused_extension(&self, id: i64, except_incall: Option<i64>) -> Write<()> {
        self.exec(
            "DELETE FROM extensions WHERE id = ?1 AND line_id IS NULL AND NOT EXISTS (SELECT 1 FROM incalls WHERE extension_id = ?1 AND id IS NOT ?2)",
            params![id, except_incall],
        )
    }

    /// Inserts an incoming call; returns its id.
    fn insert_incall(&self, user_id: i64, extension_id: i64, ring: Option<i64>) -> Write<i64> {
        self.insert(&self.hot.incall, params![user_id, extension_id, ring])
    }

    /// Repoints an incoming call at an extension with a ring time.
    fn update_incall(&self, id: i64, extension_id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET extension_id = ?2, ring_seconds = ?3 WHERE id = ?1",
            params![id, extension_id, ring],
        )
    }

    /// Changes an incoming call's ring time.
    fn set_incall_ring(&self, id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET ring_seconds = ?2 WHERE id = ?1",
            params![id, ring],
        )
    }

    /// Deletes an incoming call.
    fn delete_incall(&self, id: i64) -> Write<()> {
        self.exec("DELETE FROM incalls WHERE id = ?1", [id])
    }

    /// Inserts a voicemail box; returns its id.
    fn insert_voicemail(&self, vm: &record::Voicemail) -> Write<i64> {
        self.insert(
            &self.hot.voicemail,
            params![
                vm.name,
                vm.number,
                vm.context,
                vm.password,
                vm.email,
                vm.attach_audio,
                vm.delete_messages,
                vm.ask_password
            ],
        )
    }

    /// Rewrites a voicemail box's settings.
    fn update_voicemail(&self, id: i64, vm: &record::Voicemail) -> Write<()> {
        self.exec(
            "UPDATE voicemails SET name = ?2, number = ?3, context = ?4, password = ?5, email = ?6, attach_audio = ?7, delete_messages = ?8, ask_password = ?9 WHERE id = ?1",
            params![id, vm.name, vm.number, vm.context, vm.password, vm.email, vm.attach_audio, vm.delete_messages, vm.ask_password],
        )
    }

    /// Gives the user a voicemail box.
    fn link_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.insert(&self.hot.user_voicemail, params![user_id, voicemail_id])
            .map(drop)
    }

    /// Moves the user to another voicemail box.
    fn relink_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.exec(
            "UPDATE user_voicemails SET voicemail_id = ?2 WHERE user_id = ?1",
            params![user_id, voicemail_id],
        )
    }

    /// Grants the user a call permission.
    fn link_permission(&self, user_id: i64, permission_id: i64) -> Write<()> {
        self.insert(&self.hot.permission, params![user_id, permission_id])
            .map(drop)
    }

    /// Takes every call permission from the user.
    fn clear_permissions(&self, user_id: i64) -> Write<()> {
        self.exec(
            "DELETE FROM user_call_permissions WHERE user_id = ?1",
            [user_id],
        )
    }

    /// Takes back inserted rows, newest first.
    fn undo(&self, rows: Vec<(Table, i64)>) -> crate::error::Result<()> {
        for (table, id) in rows.into_iter().rev() {
            self.exec(delete_sql(table), [id])?;
        }
        Ok(())
    }

    fn voicemail_users(&self, voicemail_id: i64) -> crate::error::Result<u64> {
        self.tx
            .prepare_cached("SELECT count(*) FROM user_voicemails WHERE voicemail_id = ?1")
            .and_then(|mut st| st.query_row([voicemail_id], |r| r.get::<_, i64>(0)))
            .map(i64::unsigned_abs)
            .map_err(|e| self.db(e))
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
        super::export::list_users(&db, super::export::Dialect::Sqlite, filter, page)
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

/// A user as the export query over every registry column reads it, with the ids after the
/// cells (see [`SqliteTx::begin`]).
fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredUser> {
    let n = crate::columns::N;
    Ok(StoredUser {
        user_id: r.get(0)?,
        cells: stored_cells(r)?,
        line_id: r.get(n + 1)?,
        extension_id: r.get(n + 2)?,
        voicemail_id: r.get(n + 3)?,
        incalls: None,
        permissions: None,
    })
}

/// A column of a row as the export shows it, `NULL` as `None`.
fn sql_text<'r>(
    r: &'r rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<Option<std::borrow::Cow<'r, str>>> {
    Ok(match r.get_ref(i)? {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t)),
        v => Some(super::export::text(v).into()),
    })
}

/// [`export_cells`] in one buffer.
fn stored_cells(r: &rusqlite::Row<'_>) -> rusqlite::Result<Cells> {
    let mut cells = Cells::with_capacity(512);
    for i in 1..=crate::columns::N {
        let v = r.get_ref(i)?;
        cells.push_with(|text| match v {
            ValueRef::Null => {}
            ValueRef::Integer(n) => text.push_str(itoa::Buffer::new().format(n)),
            ValueRef::Text(t) => text.push_str(&String::from_utf8_lossy(t)),
            other => text.push_str(&super::export::text(other)),
        });
    }
    Ok(cells)
}

fn opt_ref(s: Option<&str>) -> ToSqlOutput<'_> {
    s.map_or(ToSqlOutput::from(Null), ToSqlOutput::from)
}

/// A checked cell as a borrowed SQL value; an empty cell takes the column's default.
fn sql_ref(col: Col, v: Option<&Value>) -> ToSqlOutput<'_> {
    match v {
        Some(Value::Text(s)) => ToSqlOutput::from(s.as_str()),
        Some(Value::Int(i)) => ToSqlOutput::from(*i),
        Some(Value::Bool(b)) => ToSqlOutput::from(i64::from(*b)),
        other => ToSqlOutput::Owned(sql_value(col, other)),
    }
}

/// A checked cell as an SQL value; an empty cell takes the column's default.
fn sql_value(col: Col, v: Option<&Value>) -> Sql {
    match v {
        Some(Value::Text(s)) => Sql::Text(s.clone()),
        Some(Value::Int(i)) => Sql::Integer(*i),
        Some(Value::Bool(b)) => Sql::Integer(i64::from(*b)),
        Some(Value::List(items)) => Sql::Text(items.join(";")),
        None => match col.def().rule {
            crate::columns::Rule::Bool { default: Some(b) } => Sql::Integer(i64::from(b)),
            crate::columns::Rule::Int {
                default: Some(d), ..
            } => Sql::Integer(d),
            _ => Sql::Null,
        },
    }
}

/// The statement deleting a row of `table` by its key.
pub(crate) fn delete_sql(table: Table) -> &'static str {
    match table {
        Table::Users => "DELETE FROM users WHERE id = ?1",
        Table::Lines => "DELETE FROM lines WHERE id = ?1",
        Table::Extensions => "DELETE FROM extensions WHERE id = ?1",
        Table::Incalls => "DELETE FROM incalls WHERE id = ?1",
        Table::Voicemails => "DELETE FROM voicemails WHERE id = ?1",
        Table::UserVoicemails => "DELETE FROM user_voicemails WHERE user_id = ?1",
        Table::UserCallPermissions => "DELETE FROM user_call_permissions WHERE user_id = ?1",
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch read gives each user exactly what the one-user read gives, lists included:
    /// users without incalls, with one (with and without a ring time), with several in
    /// number order with ring times unset here and there, with call permissions.
    #[test]
    fn stored_users_reads_each_user_as_stored_user_does() {
        let dir = tempfile::tempdir().unwrap();
        let reference = super::super::reference::ReferenceFile::embedded_default();
        let store =
            super::super::Store::create(&dir.path().join("t.db"), &reference, "test").unwrap();
        let super::super::Backend::Sqlite(conn) = store.backend() else {
            unreachable!("an SQLite store")
        };
        conn.execute_batch(
            "INSERT INTO users (id, uuid, entity_id, subscription_type, firstname, enabled,
                    ring_seconds, simultaneous_calls, supervision_enabled, call_transfer_enabled,
                    dtmf_hangup_enabled, call_record_outgoing_external_enabled,
                    call_record_outgoing_internal_enabled, call_record_incoming_external_enabled,
                    call_record_incoming_internal_enabled, online_call_record_enabled)
                 SELECT value, printf('00000000-0000-7000-8000-%012d', value), 1, 0, 'U' || value,
                    1, 30, 5, 1, 1, 0, 0, 0, 0, 0, 0
                 FROM json_each('[1,2,3,4,5,6]');
                 INSERT INTO lines (id, user_id, protocol, context, provisioning_code)
                    VALUES (1, 6, 'sip', 'default', '123456');
                 INSERT INTO extensions (id, exten, context, line_id) VALUES
                    (1, '2000', 'from-extern', NULL), (2, '2001', 'from-extern', NULL),
                    (3, '2100', 'from-extern', NULL), (4, '210', 'from-extern', NULL),
                    (5, '2002', 'from-extern', NULL), (6, '2003', 'from-extern', NULL),
                    (7, '1001', 'default', 1);
                 INSERT INTO incalls (user_id, extension_id, ring_seconds) VALUES
                    (2, 1, NULL), (3, 2, 25), (4, 3, NULL), (4, 4, 5), (4, 6, NULL),
                    (5, 5, NULL), (5, 7, NULL);
                 INSERT INTO user_call_permissions (user_id, call_permission_id)
                    SELECT 6, id FROM call_permissions WHERE name IN ('mobile', 'international');
                 INSERT INTO user_call_permissions (user_id, call_permission_id)
                    SELECT 4, id FROM call_permissions WHERE name = 'local-only';",
        )
        .unwrap();
        let tx = SqliteTx::begin(conn, store.path.clone(), true).unwrap();
        let uuid = |i: i64| format!("00000000-0000-7000-8000-{i:012}");
        let mut keys: Vec<String> = (1..=6).map(uuid).collect();
        keys.push(uuid(99));
        keys[2] = keys[2].to_uppercase();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let batch = tx.stored_users(&keys, None).unwrap();
        assert_eq!(batch.len(), 6, "the unknown uuid is left out");
        let incalls = |list: &[StoredIncall]| -> Vec<String> {
            list.iter().map(|c| format!("{c:?}")).collect()
        };
        for user in &batch {
            let one = tx
                .stored_user(&UserKey::Id(user.user_id), None)
                .unwrap()
                .unwrap();
            assert_eq!(
                user.cells.to_vec(),
                one.cells.to_vec(),
                "user {}",
                user.user_id
            );
            assert_eq!(
                (user.line_id, user.extension_id, user.voicemail_id),
                (one.line_id, one.extension_id, one.voicemail_id)
            );
            assert_eq!(
                incalls(user.incalls.as_deref().unwrap()),
                incalls(&tx.stored_incalls(user.user_id).unwrap())
            );
            assert_eq!(
                user.permissions.as_deref().unwrap(),
                tx.stored_permissions(user.user_id).unwrap()
            );
        }
        let cells = |id: i64| {
            let u = batch.iter().find(|u| u.user_id == id).unwrap();
            [
                Col::IncallExten,
                Col::IncallContext,
                Col::IncallRingSeconds,
                Col::CallPermissions,
            ]
            .map(|c| u.cells[c as usize].to_string())
        };
        assert_eq!(cells(1), ["", "", "", ""]);
        assert_eq!(cells(2), ["2000", "from-extern", "", ""]);
        assert_eq!(cells(3), ["2001", "from-extern", "25", ""]);
        assert_eq!(
            cells(4),
            [
                "210;2003;2100",
                "from-extern;from-extern;from-extern",
                "5;;",
                "local-only"
            ]
        );
        assert_eq!(cells(5), ["1001;2002", "default;from-extern", ";", ""]);
        assert_eq!(cells(6)[3], "international;mobile");
    }
}
