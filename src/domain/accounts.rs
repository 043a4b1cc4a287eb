//! Accounts: who may use the server (SPEC §9, after Cloudify's user management). Roles
//! (`sys_admin` manages everything; `default` only what its tenant roles allow), tenant
//! roles per entity (`viewer` reads, `user` also writes, `manager` also deletes), active or
//! not, and the lock after five failed sign-ins in a row. A refused sign-in never says why.

use super::port::accounts::{AccountColumn, AccountRow, AccountStore};
use crate::error::{Error, Result};
use serde::Serialize;

/// Failed sign-ins in a row that lock an account.
pub const LOCK_AFTER: i64 = 5;

/// The roles of an account.
pub const ROLES: [&str; 2] = ["sys_admin", "default"];

/// The roles of an account in an entity, weakest first.
pub const TENANT_ROLES: [&str; 3] = ["viewer", "user", "manager"];

/// An account as shown (never its password hash).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Account {
    pub username: String,
    pub role: String,
    /// Entity id → tenant role.
    pub tenants: std::collections::BTreeMap<String, String>,
    pub active: bool,
    pub is_locked: bool,
    pub created_at: String,
    pub first_login_at: Option<String>,
    pub last_login_at: Option<String>,
}

impl From<AccountRow> for Account {
    fn from(a: AccountRow) -> Account {
        Account {
            username: a.username,
            role: a.role,
            tenants: a
                .tenants
                .into_iter()
                .map(|(e, r)| (e.to_string(), r))
                .collect(),
            active: a.active,
            is_locked: a.is_locked,
            created_at: a.created_at,
            first_login_at: a.first_login_at,
            last_login_at: a.last_login_at,
        }
    }
}

/// What a request wants to do in an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Read users (GET).
    Read,
    /// Create, change, import and export users.
    Write,
    /// Delete users.
    Delete,
}

impl Action {
    /// The weakest tenant role that may do it.
    fn needs(self) -> &'static str {
        match self {
            Action::Read => "viewer",
            Action::Write => "user",
            Action::Delete => "manager",
        }
    }
}

/// The time now, UTC, as RFC 3339 text to the second.
pub fn now() -> String {
    rfc3339(unix_now())
}

/// Seconds since 1970-01-01 UTC.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A time in seconds since 1970-01-01 UTC as RFC 3339 text to the second.
pub fn rfc3339(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn usage(message: String, help: &str) -> Error {
    Error::Usage {
        message,
        help: help.into(),
    }
}

/// Checks a password for an account: 8 to 128 characters.
pub fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(usage(
            format!("an account password has 8 to 128 characters, not {n}"),
            "choose a longer password",
        ));
    }
    Ok(())
}

/// Checks a role name.
pub fn check_role(role: &str) -> Result<()> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(usage(
            format!("role '{role}' does not exist"),
            "a role is sys_admin or default",
        ))
    }
}

/// Reads `ENTITY=ROLE` (`none` takes the entity away).
pub fn parse_tenant(text: &str) -> Result<(i64, Option<String>)> {
    let bad = || {
        usage(
            format!("'{text}' is not ENTITY=ROLE"),
            "e.g. --tenant 1=manager (a role is manager, user or viewer; none takes it away)",
        )
    };
    let (entity, role) = text.split_once('=').ok_or_else(bad)?;
    let entity: i64 = entity.trim().parse().map_err(|_| bad())?;
    match role.trim() {
        "none" => Ok((entity, None)),
        r if TENANT_ROLES.contains(&r) => Ok((entity, Some(r.to_string()))),
        _ => Err(bad()),
    }
}

/// The account operations, over a store.
pub struct Accounts<'s> {
    store: &'s dyn AccountStore,
}

impl<'s> Accounts<'s> {
    pub fn new(store: &'s dyn AccountStore) -> Self {
        Accounts { store }
    }

    fn existing(&self, username: &str) -> Result<AccountRow> {
        self.store.account(username)?.ok_or_else(|| {
            usage(
                format!("no account is named '{username}'"),
                "see `ucsv account list`",
            )
        })
    }

    /// Adds an account with its tenant roles.
    pub fn add(
        &self,
        username: &str,
        password: &str,
        role: &str,
        tenants: &[(i64, Option<String>)],
    ) -> Result<Account> {
        let name_ok = (2..=128).contains(&username.chars().count())
            && username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
        if !name_ok {
            return Err(usage(
                format!("'{username}' is not an account name"),
                "2 to 128 letters, digits and . _ @ -",
            ));
        }
        check_role(role)?;
        check_password(password)?;
        self.check_entities(tenants)?;
        let hash = crate::record::hash_password(password);
        if !self.store.insert_account(username, &hash, role, &now())? {
            return Err(usage(
                format!("an account named '{username}' exists already"),
                "choose another name",
            ));
        }
        let account = self.existing(username)?;
        for (entity, role) in tenants {
            self.store
                .set_tenant(account.id, *entity, role.as_deref())?;
        }
        self.show(username)
    }

    fn check_entities(&self, tenants: &[(i64, Option<String>)]) -> Result<()> {
        let reference = self.store.reference()?;
        for (entity, _) in tenants {
            reference.check_entity(Some(*entity))?;
        }
        Ok(())
    }

    /// One account.
    pub fn show(&self, username: &str) -> Result<Account> {
        Ok(self.existing(username)?.into())
    }

    /// A page of the accounts, and how many there are.
    pub fn list(&self, offset: u64, size: Option<u64>) -> Result<(Vec<Account>, u64)> {
        let (rows, total) = self.store.accounts(offset, size)?;
        Ok((rows.into_iter().map(Account::from).collect(), total))
    }

    /// Deletes an account.
    pub fn delete(&self, username: &str) -> Result<()> {
        self.existing(username)?;
        self.store.delete_account(username)?;
        Ok(())
    }

    /// Sets the password.
    pub fn set_password(&self, username: &str, password: &str) -> Result<()> {
        self.existing(username)?;
        check_password(password)?;
        let hash = crate::record::hash_password(password);
        self.store
            .set_account(username, AccountColumn::PasswordHash, hash.as_str().into())?;
        Ok(())
    }

    /// Sets the role.
    pub fn set_role(&self, username: &str, role: &str) -> Result<()> {
        self.existing(username)?;
        check_role(role)?;
        self.store
            .set_account(username, AccountColumn::Role, role.into())?;
        Ok(())
    }

    /// Gives or takes a tenant role.
    pub fn set_tenant(&self, username: &str, tenant: (i64, Option<String>)) -> Result<()> {
        let account = self.existing(username)?;
        self.check_entities(std::slice::from_ref(&tenant))?;
        self.store
            .set_tenant(account.id, tenant.0, tenant.1.as_deref())
    }

    /// Activates or deactivates the account.
    pub fn set_active(&self, username: &str, active: bool) -> Result<()> {
        self.existing(username)?;
        self.store
            .set_account(username, AccountColumn::Active, i64::from(active).into())?;
        Ok(())
    }

    /// Unlocks a locked account (its count of failures starts again).
    pub fn unlock(&self, username: &str) -> Result<()> {
        self.existing(username)?;
        self.store
            .set_account(username, AccountColumn::IsLocked, 0.into())?;
        self.store
            .set_account(username, AccountColumn::FailedLogins, 0.into())?;
        Ok(())
    }

    /// Signs in: the account when the name and password are right and it is active and not
    /// locked; `None` otherwise, whatever the reason. A wrong password counts towards the
    /// lock. (The argon2 check runs even for an unknown name, so that the time taken does
    /// not tell one from the other.)
    pub fn sign_in(&self, username: &str, password: &str) -> Result<Option<Account>> {
        let Some(row) = self.check_sign_in(username, password)? else {
            return Ok(None);
        };
        self.record_sign_in(row.id)?;
        Ok(Some(self.existing(username)?.into()))
    }

    /// Records a good sign-in's time (the first one's too).
    pub fn record_sign_in(&self, id: i64) -> Result<()> {
        self.store.record_sign_in(id, &now())
    }

    /// The checks of [`Accounts::sign_in`] without recording the good sign-in: the account
    /// row when the name and password are right and the account may sign in; a wrong
    /// password is counted towards the lock.
    pub fn check_sign_in(&self, username: &str, password: &str) -> Result<Option<AccountRow>> {
        match self.verify_sign_in(username, password)? {
            SignIn::Good(row) => Ok(Some(row)),
            SignIn::Refused => Ok(None),
            SignIn::WrongPassword(id) => {
                self.record_failure(id)?;
                Ok(None)
            }
        }
    }

    /// The password check alone (argon2, also for an unknown name), writing nothing.
    pub fn verify_sign_in(&self, username: &str, password: &str) -> Result<SignIn> {
        let row = self.store.account(username)?;
        let hash = row
            .as_ref()
            .map_or(DUMMY_HASH.as_str(), |a| a.password_hash.as_str());
        let good = verify(password, hash);
        Ok(match row {
            None => SignIn::Refused,
            Some(row) if row.is_locked || !row.active => SignIn::Refused,
            Some(row) if !good => SignIn::WrongPassword(row.id),
            Some(row) => SignIn::Good(row),
        })
    }

    /// Counts a wrong password towards the lock.
    pub fn record_failure(&self, id: i64) -> Result<()> {
        self.store.record_failed_sign_in(id, LOCK_AFTER)?;
        Ok(())
    }
}

/// What a password check found.
pub enum SignIn {
    /// The name and password are right, and the account may sign in.
    Good(AccountRow),
    /// The password is wrong for this account (to be counted towards its lock).
    WrongPassword(i64),
    /// Unknown name, locked or inactive account.
    Refused,
}

/// A hash no password matches, checked for unknown names.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::record::hash_password("no account has this password"));

/// Whether `password` matches the argon2id `hash`.
fn verify(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Account {
    /// Whether the account may do `action` in `entity`.
    pub fn may(&self, action: Action, entity: i64) -> bool {
        if self.role == "sys_admin" {
            return true;
        }
        let needed = TENANT_ROLES
            .iter()
            .position(|r| *r == action.needs())
            .unwrap_or(usize::MAX);
        self.tenants
            .get(&entity.to_string())
            .and_then(|r| TENANT_ROLES.iter().position(|t| t == r))
            .is_some_and(|has| has >= needed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_roles_grow_viewer_user_manager() {
        let mut a = Account {
            username: "a".into(),
            role: "default".into(),
            tenants: [("1".to_string(), "user".to_string())]
                .into_iter()
                .collect(),
            active: true,
            is_locked: false,
            created_at: now(),
            first_login_at: None,
            last_login_at: None,
        };
        assert!(a.may(Action::Read, 1) && a.may(Action::Write, 1));
        assert!(!a.may(Action::Delete, 1) && !a.may(Action::Read, 2));
        a.role = "sys_admin".into();
        assert!(a.may(Action::Delete, 2));
    }

    #[test]
    fn now_is_rfc3339_utc() {
        let t = now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(
            t.starts_with("20") && t.ends_with('Z') && t.as_bytes()[10] == b'T',
            "{t}"
        );
    }

    #[test]
    fn tenants_parse_with_their_roles() {
        assert_eq!(
            parse_tenant("2=manager").unwrap(),
            (2, Some("manager".into()))
        );
        assert_eq!(parse_tenant("2=none").unwrap(), (2, None));
        assert!(parse_tenant("x=user").is_err() && parse_tenant("1=boss").is_err());
    }
}
