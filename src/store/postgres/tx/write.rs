//! The writes of a row, on either path: an insert goes to the COPY buffers in a bulk batch
//! and otherwise runs at once, `ON CONFLICT DO NOTHING RETURNING id` (no row back: a
//! conflict); the other writes run at once.

use super::values::{field, line_values, own, user_columns, user_values, voicemail_values, Val};
use super::PgTx;
use crate::columns::Col;
use crate::domain::port::{LineRow, Table, UserRow, Write, WriteError};
use crate::error::Result;
use crate::record;
use crate::store::postgres::db::pg_params;
use crate::store::sql::Param;

impl PgTx<'_> {
    /// Runs a write statement (not an insert) immediately; in a spoiled pass, nothing.
    pub(super) fn exec(&self, sql: &str, params: &[Param<'_>]) -> Write<()> {
        if self.spoiled.get() {
            return Ok(());
        }
        self.send_sooner()?;
        let st = self.statement(sql).map_err(|e| self.db(e))?;
        let params = pg_params(params);
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
        if self.bulk.get() {
            return self.copy_row(table, values).map_err(Into::into);
        }
        let params: Vec<Param<'_>> = values.iter().map(Val::param).collect();
        let st = self.statement(careful_sql).map_err(|e| self.db(e))?;
        let params = pg_params(&params);
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

    pub(super) fn insert_user(&self, u: &UserRow<'_>) -> Write<i64> {
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

    pub(super) fn update_user(&self, id: i64, u: &UserRow<'_>, changed: &[Col]) -> Write<()> {
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

    pub(super) fn insert_line(&self, user_id: i64, l: &LineRow<'_>) -> Write<i64> {
        self.insert(
            Table::Lines,
            "INSERT INTO lines (user_id, protocol, context, sip_username, sip_secret, provisioning_code) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
            &line_values(user_id, l),
        )
    }

    pub(super) fn update_line(&self, id: i64, l: &LineRow<'_>) -> Write<()> {
        self.exec(
            "UPDATE lines SET context = $2, sip_username = $3, sip_secret = $4, provisioning_code = $5 WHERE id = $1",
            &[id.into(), l.context.into(), l.sip_username.into(), l.sip_secret.into(), l.provisioning_code.into()],
        )
    }

    pub(super) fn insert_extension(
        &self,
        exten: &str,
        context: &str,
        line_id: Option<i64>,
    ) -> Write<i64> {
        self.insert(
            Table::Extensions,
            "INSERT INTO extensions (exten, context, line_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
            &[Val::text(Some(exten)), Val::text(Some(context)), Val::int(line_id)],
        )
    }

    pub(super) fn set_extension_line(&self, id: i64, line_id: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE extensions SET line_id = $2 WHERE id = $1",
            &[id.into(), line_id.into()],
        )
    }

    pub(super) fn rename_extension(&self, id: i64, exten: &str, context: &str) -> Write<()> {
        self.exec(
            "UPDATE extensions SET exten = $2, context = $3 WHERE id = $1",
            &[id.into(), exten.into(), context.into()],
        )
    }

    pub(super) fn delete_unused_extension(&self, id: i64, except_incall: Option<i64>) -> Write<()> {
        self.exec(
            "DELETE FROM extensions WHERE id = $1 AND line_id IS NULL AND NOT EXISTS (SELECT 1 FROM incalls WHERE extension_id = $1 AND id IS DISTINCT FROM CAST($2 AS BIGINT))",
            &[id.into(), except_incall.into()],
        )
    }

    pub(super) fn insert_incall(
        &self,
        user_id: i64,
        extension_id: i64,
        ring: Option<i64>,
    ) -> Write<i64> {
        self.insert(
            Table::Incalls,
            "INSERT INTO incalls (user_id, extension_id, ring_seconds) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
            &[Val::Int(user_id), Val::Int(extension_id), Val::int(ring)],
        )
    }

    pub(super) fn update_incall(&self, id: i64, extension_id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET extension_id = $2, ring_seconds = $3 WHERE id = $1",
            &[id.into(), extension_id.into(), ring.into()],
        )
    }

    pub(super) fn set_incall_ring(&self, id: i64, ring: Option<i64>) -> Write<()> {
        self.exec(
            "UPDATE incalls SET ring_seconds = $2 WHERE id = $1",
            &[id.into(), ring.into()],
        )
    }

    pub(super) fn delete_incall(&self, id: i64) -> Write<()> {
        self.exec("DELETE FROM incalls WHERE id = $1", &[id.into()])
    }

    pub(super) fn insert_voicemail(&self, vm: &record::Voicemail) -> Write<i64> {
        self.insert(
            Table::Voicemails,
            "INSERT INTO voicemails (name, number, context, password, email, attach_audio, delete_messages, ask_password) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
            &voicemail_values(vm),
        )
    }

    pub(super) fn update_voicemail(&self, id: i64, vm: &record::Voicemail) -> Write<()> {
        let mut values = vec![Val::Int(id)];
        values.extend(voicemail_values(vm));
        let params: Vec<Param<'_>> = values.iter().map(Val::param).collect();
        self.exec(
            "UPDATE voicemails SET name = $2, number = $3, context = $4, password = $5, email = $6, attach_audio = $7, delete_messages = $8, ask_password = $9 WHERE id = $1",
            &params,
        )
    }

    pub(super) fn link_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.insert(
            Table::UserVoicemails,
            "INSERT INTO user_voicemails (user_id, voicemail_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING user_id",
            &[Val::Int(user_id), Val::Int(voicemail_id)],
        )
        .map(drop)
    }

    pub(super) fn relink_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()> {
        self.exec(
            "UPDATE user_voicemails SET voicemail_id = $2 WHERE user_id = $1",
            &[user_id.into(), voicemail_id.into()],
        )
    }

    pub(super) fn link_permission(&self, user_id: i64, permission_id: i64) -> Write<()> {
        self.insert(
            Table::UserCallPermissions,
            "INSERT INTO user_call_permissions (user_id, call_permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING user_id",
            &[Val::Int(user_id), Val::Int(permission_id)],
        )
        .map(drop)
    }

    pub(super) fn clear_permissions(&self, user_id: i64) -> Write<()> {
        self.exec(
            "DELETE FROM user_call_permissions WHERE user_id = $1",
            &[user_id.into()],
        )
    }

    pub(super) fn undo(&self, rows: Vec<(Table, i64)>) -> Result<()> {
        for (table, id) in rows.into_iter().rev() {
            self.exec(crate::store::sqlite_tx::delete_sql(table), &[id.into()])?;
        }
        Ok(())
    }

    pub(super) fn delete_user(&self, user_id: i64) -> Result<()> {
        self.send_sooner()?;
        let db = crate::store::postgres::db::Postgres {
            client: self.client,
            path: &self.path,
        };
        crate::store::delete_user(&db, user_id)
    }
}
