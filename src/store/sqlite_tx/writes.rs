//! The writes of an SQLite transaction: the inserts (through the hot statements), the
//! updates, the deletes and the undo of inserted rows, and the cells as SQL values.

use super::SqliteTx;
use crate::columns::Col;
use crate::domain::port::{LineRow, Table, UserRow, Write};
use crate::record::{self, Value};
use rusqlite::params;
use rusqlite::types::Value as Sql;
use rusqlite::types::{Null, ToSqlOutput};

impl SqliteTx<'_> {
    pub(super) fn insert_user(&self, u: &UserRow<'_>) -> Write<i64> {
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

    pub(super) fn update_user(&self, id: i64, u: &UserRow<'_>, changed: &[Col]) -> Write<()> {
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
    pub(super) fn insert_line(&self, user_id: i64, l: &LineRow<'_>) -> Write<i64> {
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
    pub(super) fn update_line(&self, id: i64, l: &LineRow<'_>) -> Write<()> {
        self.exec(
            "UPDATE lines SET context = ?2, sip_username = ?3, sip_secret = ?4, provisioning_code = ?5 WHERE id = ?1",
            params![id, l.context, l.sip_username, l.sip_secret, l.provisioning_code],
        )
    }

    /// Inserts an extension (for a line, or for incalls when `line_id` is `None`).
    pub(super) fn insert_extension(
        &self,
        exten: &str,
        context: &str,
        line_id: Option<i64>,
    ) -> Write<i64> {
        self.insert(&self.hot.extension, params![exten, context, line_id])
    }

    /// Points an existing extension at a line (or at none).
    pub(super) fn set_extension_line(&self, id: i64, line_id: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE extensions SET line_id = ?2 WHERE id = ?1",
            params![id, line_id],
        )
    }

    /// Changes an extension's number and context in place (its id is kept).
    pub(super) fn rename_extension(&self, id: i64, exten: &str, context: &str) -> Write<()> {
        self.exec(
            "UPDATE extensions SET exten = ?2, context = ?3 WHERE id = ?1",
            params![id, exten, context],
        )
    }

    /// Deletes an extension that no line uses and no incall other than `except_incall` uses.
    pub(super) fn delete_unused_extension(&self, id: i64, except_incall: Option<i64>) -> Write<()> {
        self.exec(
            "DELETE FROM extensions WHERE id = ?1 AND line_id IS NULL AND NOT EXISTS (SELECT 1 FROM incalls WHERE extension_id = ?1 AND id IS NOT ?2)",
            params![id, except_incall],
        )
    }

    /// Inserts an incoming call; returns its id.
    pub(super) fn insert_incall(
        &self,
        user_id: i64,
        extension_id: i64,
        ring: Option<i64>,
    ) -> Write<i64> {
        self.insert(&self.hot.incall, params![user_id, extension_id, ring])
    }

    /// Repoints an incoming call at an extension with a ring time.
    pub(super) fn update_incall(&self, id: i64, extension_id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET extension_id = ?2, ring_seconds = ?3 WHERE id = ?1",
            params![id, extension_id, ring],
        )
    }

    /// Changes an incoming call's ring time.
    pub(super) fn set_incall_ring(&self, id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET ring_seconds = ?2 WHERE id = ?1",
            params![id, ring],
        )
    }

    /// Deletes an incoming call.
    pub(super) fn delete_incall(&self, id: i64) -> Write<()> {
        self.exec("DELETE FROM incalls WHERE id = ?1", [id])
    }

    /// Inserts a voicemail box; returns its id.
    pub(super) fn insert_voicemail(&self, vm: &record::Voicemail) -> Write<i64> {
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
    pub(super) fn update_voicemail(&self, id: i64, vm: &record::Voicemail) -> Write<()> {
        self.exec(
            "UPDATE voicemails SET name = ?2, number = ?3, context = ?4, password = ?5, email = ?6, attach_audio = ?7, delete_messages = ?8, ask_password = ?9 WHERE id = ?1",
            params![id, vm.name, vm.number, vm.context, vm.password, vm.email, vm.attach_audio, vm.delete_messages, vm.ask_password],
        )
    }

    /// Gives the user a voicemail box.
    pub(super) fn link_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.insert(&self.hot.user_voicemail, params![user_id, voicemail_id])
            .map(drop)
    }

    /// Moves the user to another voicemail box.
    pub(super) fn relink_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.exec(
            "UPDATE user_voicemails SET voicemail_id = ?2 WHERE user_id = ?1",
            params![user_id, voicemail_id],
        )
    }

    /// Grants the user a call permission.
    pub(super) fn link_permission(&self, user_id: i64, permission_id: i64) -> Write<()> {
        self.insert(&self.hot.permission, params![user_id, permission_id])
            .map(drop)
    }

    /// Takes every call permission from the user.
    pub(super) fn clear_permissions(&self, user_id: i64) -> Write<()> {
        self.exec(
            "DELETE FROM user_call_permissions WHERE user_id = ?1",
            [user_id],
        )
    }

    /// Takes back inserted rows, newest first.
    pub(super) fn undo(&self, rows: Vec<(Table, i64)>) -> crate::error::Result<()> {
        for (table, id) in rows.into_iter().rev() {
            self.exec(delete_sql(table), [id])?;
        }
        Ok(())
    }
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
