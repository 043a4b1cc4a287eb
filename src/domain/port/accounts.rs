//! The accounts of the server (SPEC §9) as the domain asks the store for them
//! ([`AccountStore`]); the rules (roles, lock-out, what a sign-in answers) are in
//! [`crate::domain::accounts`].

use crate::domain::reference::Reference;
use crate::error::Result;

/// An account as stored (its password hash included: it never leaves the domain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub active: bool,
    pub is_locked: bool,
    pub failed_logins: i64,
    pub created_at: String,
    pub first_login_at: Option<String>,
    pub last_login_at: Option<String>,
    /// (entity, tenant role), by entity.
    pub tenants: Vec<(i64, String)>,
}

/// The attributes of an account that change one at a time.
#[derive(Clone, Copy, Debug)]
pub enum AccountColumn {
    PasswordHash,
    Role,
    Active,
    IsLocked,
    FailedLogins,
}

/// A value of an [`AccountColumn`].
#[derive(Clone, Copy, Debug)]
pub enum AccountValue<'a> {
    Text(&'a str),
    Int(i64),
}

impl<'a> From<&'a str> for AccountValue<'a> {
    fn from(t: &'a str) -> Self {
        AccountValue::Text(t)
    }
}

impl From<i64> for AccountValue<'_> {
    fn from(i: i64) -> Self {
        AccountValue::Int(i)
    }
}

/// Where the accounts are kept: plain reads and writes.
pub trait AccountStore {
    /// The account named `username`.
    fn account(&self, username: &str) -> Result<Option<AccountRow>>;

    /// A page of the accounts by username, and how many there are.
    fn accounts(&self, offset: u64, size: Option<u64>) -> Result<(Vec<AccountRow>, u64)>;

    /// Adds an account; `false` when the username is taken.
    fn insert_account(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
        now: &str,
    ) -> Result<bool>;

    /// Deletes an account; `false` when there is none of that name.
    fn delete_account(&self, username: &str) -> Result<bool>;

    /// Sets one attribute of an account.
    fn set_account(
        &self,
        username: &str,
        column: AccountColumn,
        value: AccountValue<'_>,
    ) -> Result<bool>;

    /// Gives the account a role in an entity, or takes it (`None`).
    fn set_tenant(&self, account_id: i64, entity: i64, role: Option<&str>) -> Result<()>;

    /// Records a failed sign-in: one more in a row, and the lock when it reaches `limit`.
    /// Returns whether the account is locked now.
    fn record_failed_sign_in(&self, id: i64, limit: i64) -> Result<bool>;

    /// Records a good sign-in: the count of failures starts again, and the times are kept.
    fn record_sign_in(&self, id: i64, now: &str) -> Result<()>;

    /// The reference data (the entities an account's roles name).
    fn reference(&self) -> Result<Reference>;
}
