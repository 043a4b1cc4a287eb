//! The questions of an SQLite transaction: the unique probes, the state of a number, the
//! stored users (one, or a batch with their incalls and call permissions read apart),
//! the users of a range of numbers or of a login.

use super::super::select::{GroupConcat, IncallLists};
use super::SqliteTx;
use crate::columns::Col;
use crate::domain::port::{Cells, ExtensionState, StoredIncall, StoredUser, UserKey};
use crate::error::Error;
use rusqlite::types::Value as Sql;
use rusqlite::types::ValueRef;
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

impl SqliteTx<'_> {
    /// Whether a unique column's value belongs to another user than `owner`.
    pub(super) fn taken(
        &self,
        col: Col,
        value: &str,
        owner: Option<i64>,
    ) -> crate::error::Result<bool> {
        self.tx
            .prepare_cached(super::super::probe_of(&self.probes, col))
            .and_then(|mut st| st.query_row(params![value, owner], |r| r.get(0)))
            .map_err(|e| self.db(e))
    }

    /// What `exten@context` is to the user `owner` (its own line and incalls don't count).
    pub(super) fn extension_state(
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
    pub(super) fn voicemail_id(
        &self,
        number: &str,
        context: &str,
    ) -> crate::error::Result<Option<i64>> {
        self.tx
            .prepare_cached("SELECT id FROM voicemails WHERE number = ?1 AND context = ?2")
            .and_then(|mut st| st.query_row([number, context], |r| r.get(0)).optional())
            .map_err(|e| self.db(e))
    }

    pub(super) fn stored_user(
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

    pub(super) fn stored_users(
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
        self.stored_users_by(&self.users_by_uuid, params![keys, entity])
    }

    /// The users with an id from `first` to `last`, in id order.
    pub(super) fn stored_users_between(
        &self,
        first: i64,
        last: i64,
    ) -> crate::error::Result<Vec<StoredUser>> {
        self.stored_users_by(&self.users_between, params![first, last])
    }

    /// The users `sql` (over every registry column but the lists) finds, with their lists.
    fn stored_users_by(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> crate::error::Result<Vec<StoredUser>> {
        let db = |e| self.db(e);
        let mut users = Vec::new();
        let mut st = self.tx.prepare_cached(sql).map_err(db)?;
        let mut rows = st.query(params).map_err(db)?;
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

    pub(super) fn stored_incalls(&self, user_id: i64) -> crate::error::Result<Vec<StoredIncall>> {
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

    pub(super) fn stored_permissions(&self, user_id: i64) -> crate::error::Result<Vec<i64>> {
        self.tx
            .prepare_cached("SELECT call_permission_id FROM user_call_permissions WHERE user_id = ?1 ORDER BY 1")
            .and_then(|mut st| st.query_map([user_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>())
            .map_err(|e| self.db(e))
    }

    pub(super) fn users_by_extens(
        &self,
        context: &str,
        first: &str,
        last: &str,
    ) -> crate::error::Result<Vec<i64>> {
        let db = super::super::sql::Sqlite {
            conn: self.tx,
            path: &self.path,
        };
        use super::super::sql::Db;
        Ok(db
            .rows(
                super::super::USERS_BY_EXTENS,
                &[context.into(), first.into(), last.into()],
            )?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    pub(super) fn users_by_login(&self, login: &str) -> crate::error::Result<Vec<i64>> {
        let db = super::super::sql::Sqlite {
            conn: self.tx,
            path: &self.path,
        };
        use super::super::sql::Db;
        Ok(db
            .rows(super::super::USERS_BY_LOGIN, &[login.into()])?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    pub(super) fn voicemail_users(&self, voicemail_id: i64) -> crate::error::Result<u64> {
        self.tx
            .prepare_cached("SELECT count(*) FROM user_voicemails WHERE voicemail_id = ?1")
            .and_then(|mut st| st.query_row([voicemail_id], |r| r.get::<_, i64>(0)))
            .map(i64::unsigned_abs)
            .map_err(|e| self.db(e))
    }

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
        v => Some(super::super::select::text(v).into()),
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
            other => text.push_str(&super::super::select::text(other)),
        });
    }
    Ok(cells)
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
        let reference = super::super::super::reference::ReferenceFile::embedded_default();
        let store =
            super::super::super::Store::create(&dir.path().join("t.db"), &reference, "test")
                .unwrap();
        let super::super::super::Backend::Sqlite(conn) = store.backend() else {
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
