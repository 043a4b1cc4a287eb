//! The accounts of the server (SPEC §9) as stored: plain reads and writes in the SQL both
//! backends share. The rules (roles, lock-out, what a sign-in answers) are in
//! [`crate::domain::accounts`].

use super::sql::{Cell, Param};
use super::Store;
use crate::domain::port::accounts::{AccountColumn, AccountRow, AccountStore, AccountValue};
use crate::domain::reference::Reference;
use crate::error::Result;

const COLUMNS: &str = "id, username, password_hash, role, active, is_locked, failed_logins, created_at, first_login_at, last_login_at";

impl Store {
    fn account_rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<AccountRow>> {
        let db = self.db();
        let mut out = Vec::new();
        for row in db.rows(sql, params)? {
            let mut row = row.into_iter();
            let mut next = || row.next().unwrap_or(Cell::Null);
            let id = next().int();
            let mut account = AccountRow {
                id,
                username: next().text(),
                password_hash: next().text(),
                role: next().text(),
                active: next().int() != 0,
                is_locked: next().int() != 0,
                failed_logins: next().int(),
                created_at: next().text(),
                first_login_at: next().opt_text(),
                last_login_at: next().opt_text(),
                tenants: Vec::new(),
            };
            for t in db.rows(
                "SELECT entity_id, role FROM account_tenants WHERE account_id = ?1 ORDER BY entity_id",
                &[id.into()],
            )? {
                let mut t = t.into_iter();
                account.tenants.push((
                    t.next().map_or(0, |c| c.int()),
                    t.next().map(Cell::text).unwrap_or_default(),
                ));
            }
            out.push(account);
        }
        Ok(out)
    }
}

impl AccountStore for Store {
    fn account(&self, username: &str) -> Result<Option<AccountRow>> {
        Ok(self
            .account_rows(
                &format!("SELECT {COLUMNS} FROM accounts WHERE username = ?1"),
                &[username.into()],
            )?
            .into_iter()
            .next())
    }

    fn accounts(&self, offset: u64, size: Option<u64>) -> Result<(Vec<AccountRow>, u64)> {
        let total = self
            .db()
            .rows("SELECT count(*) FROM accounts", &[])?
            .first()
            .map_or(0, |r| r[0].int().unsigned_abs());
        let limit = size.map_or(i64::MAX, |s| i64::try_from(s).unwrap_or(i64::MAX));
        let rows = self.account_rows(
            &format!("SELECT {COLUMNS} FROM accounts ORDER BY username LIMIT ?1 OFFSET ?2"),
            &[
                limit.into(),
                i64::try_from(offset).unwrap_or(i64::MAX).into(),
            ],
        )?;
        Ok((rows, total))
    }

    fn insert_account(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        now: &str,
    ) -> Result<bool> {
        let n = self.db().exec(
            "INSERT INTO accounts (username, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            &[username.into(), password_hash.into(), role.into(), now.into()],
        )?;
        Ok(n == 1)
    }

    fn delete_account(&self, username: &str) -> Result<bool> {
        let db = self.db();
        db.exec(
            "DELETE FROM account_tenants WHERE account_id IN (SELECT id FROM accounts WHERE username = ?1)",
            &[username.into()],
        )?;
        Ok(db.exec(
            "DELETE FROM accounts WHERE username = ?1",
            &[username.into()],
        )? == 1)
    }

    fn set_account(
        &self,
        username: &str,
        column: AccountColumn,
        value: AccountValue<'_>,
    ) -> Result<bool> {
        let value = match value {
            AccountValue::Text(t) => Param::Text(t),
            AccountValue::Int(i) => Param::Int(i),
        };
        let sql = format!(
            "UPDATE accounts SET {} = ?2 WHERE username = ?1",
            column_name(column)
        );
        Ok(self.db().exec(&sql, &[username.into(), value])? == 1)
    }

    fn set_tenant(&self, account_id: i64, entity: i64, role: Option<&str>) -> Result<()> {
        let db = self.db();
        match role {
            Some(role) => db.exec(
                "INSERT INTO account_tenants (account_id, entity_id, role) VALUES (?1, ?2, ?3)
                 ON CONFLICT (account_id, entity_id) DO UPDATE SET role = excluded.role",
                &[account_id.into(), entity.into(), role.into()],
            )?,
            None => db.exec(
                "DELETE FROM account_tenants WHERE account_id = ?1 AND entity_id = ?2",
                &[account_id.into(), entity.into()],
            )?,
        };
        Ok(())
    }

    fn record_failed_sign_in(&self, id: i64, limit: i64) -> Result<bool> {
        let rows = self.db().rows(
            "UPDATE accounts SET failed_logins = failed_logins + 1,
                 is_locked = CASE WHEN failed_logins + 1 >= ?2 THEN 1 ELSE is_locked END
             WHERE id = ?1 RETURNING is_locked",
            &[id.into(), limit.into()],
        )?;
        Ok(rows.first().is_some_and(|r| r[0].int() != 0))
    }

    fn record_sign_in(&self, id: i64, now: &str) -> Result<()> {
        self.db().exec(
            "UPDATE accounts SET failed_logins = 0, last_login_at = ?2,
                 first_login_at = coalesce(first_login_at, ?2) WHERE id = ?1",
            &[id.into(), now.into()],
        )?;
        Ok(())
    }

    fn reference(&self) -> Result<Reference> {
        Reference::load(self)
    }
}

/// The column of an attribute.
fn column_name(column: AccountColumn) -> &'static str {
    match column {
        AccountColumn::PasswordHash => "password_hash",
        AccountColumn::Role => "role",
        AccountColumn::Active => "active",
        AccountColumn::IsLocked => "is_locked",
        AccountColumn::FailedLogins => "failed_logins",
    }
}
