//! Signing requests in (HTTP Basic, SPEC §9) and choosing their entity (`Wazo-Tenant`).
//!
//! An argon2 check costs tens of milliseconds of CPU, so it runs on a blocking thread, a few
//! at a time (as many as there are cores): a flood of wrong passwords waits in a queue and
//! does not take the threads that answer the others. Sign-ins that look like a flood (an
//! unknown name, an account that is locked, inactive or has just failed) wait in a queue
//! of their own, one at a time, so that the others' sign-ins never wait behind them. A password that matched is
//! remembered (as a keyed digest, never in clear) beside the hash it matched, so an
//! account's next requests skip argon2 until its password changes. The account's row is
//! still read on every request: a deactivated, locked or changed account takes effect at
//! once.

use super::{blocking, ApiError, Shared, Who};
use crate::domain::accounts::{Account, Accounts, Action, SignIn};
use crate::domain::port::accounts::AccountStore;
use crate::error::Error;
use crate::store::reference::{EntityDef, ReferenceFile};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use blake2::Digest;
use std::collections::HashMap;
use std::sync::Mutex;

/// The most passwords remembered (then the memory starts again).
const KNOWN: usize = 10_000;

/// The sign-in state of the server.
pub struct Auth {
    /// argon2 checks at a time.
    checks: tokio::sync::Semaphore,
    /// The queue of the sign-ins that look like a flood.
    suspect: tokio::sync::Semaphore,
    /// Username → (the hash that matched, the digest of the password that matched it).
    known: Mutex<HashMap<String, (String, [u8; 32])>>,
    /// The key of the digests, drawn at start.
    key: [u8; 32],
}

impl Auth {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Auth {
            checks: tokio::sync::Semaphore::new(cores),
            suspect: tokio::sync::Semaphore::new(1),
            known: Mutex::new(HashMap::new()),
            key: rand::random(),
        }
    }

    fn digest(&self, username: &str, password: &str) -> [u8; 32] {
        let full = blake2::Blake2b512::new()
            .chain_update(self.key)
            .chain_update((username.len() as u64).to_le_bytes())
            .chain_update(username)
            .chain_update(password)
            .finalize();
        let mut out = [0; 32];
        out.copy_from_slice(&full[..32]);
        out
    }

    fn remembered(&self, username: &str, hash: &str, digest: &[u8; 32]) -> bool {
        self.known.lock().is_ok_and(|known| {
            known
                .get(username)
                .is_some_and(|(h, d)| h == hash && d == digest)
        })
    }

    fn remember(&self, username: &str, hash: String, digest: [u8; 32]) {
        if let Ok(mut known) = self.known.lock() {
            if known.len() >= KNOWN {
                known.clear();
            }
            known.insert(username.to_string(), (hash, digest));
        }
    }
}

/// Name and password of an `Authorization: Basic` header.
fn basic(parts: &Parts) -> Option<(String, String)> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (name, password) = text.split_once(':')?;
    Some((name.to_string(), password.to_string()))
}

/// Signs `username` in; 401 whatever the reason it is refused.
async fn sign_in(app: &Shared, username: String, password: String) -> Result<Account, ApiError> {
    let digest = app.auth.digest(&username, &password);
    let (a, name) = (app.clone(), username.clone());
    let row = blocking(move || Ok(a.pool.get()?.account(&name)?)).await?;
    let suspect = row
        .as_ref()
        .is_none_or(|r| r.is_locked || !r.active || r.failed_logins > 0);
    if let Some(row) = row {
        if row.active
            && !row.is_locked
            && app.auth.remembered(&username, &row.password_hash, &digest)
        {
            if row.failed_logins > 0 {
                // A good sign-in ends a run of failures.
                record(app, row.id);
            }
            return Ok(row.into());
        }
    }
    let queue = if suspect {
        &app.auth.suspect
    } else {
        &app.auth.checks
    };
    let _permit = queue
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the server is stopping"))?;
    let a = app.clone();
    let checked = blocking(move || {
        let store = a.pool.get()?;
        let verdict = Accounts::new(&*store).verify_sign_in(&username, &password)?;
        if let SignIn::Good(row) = &verdict {
            a.auth
                .remember(&username, row.password_hash.clone(), digest);
        }
        Ok(verdict)
    })
    .await?;
    // The argon2 turn is given back before a failure is counted: counting it writes, which
    // on SQLite waits for an import's write lock.
    drop(_permit);
    let row = match checked {
        SignIn::Good(row) => row,
        SignIn::Refused => return Err(ApiError::unauthorized()),
        SignIn::WrongPassword(id) => {
            app.metrics.sign_in_failed();
            let a = app.clone();
            blocking(move || {
                let store = a.pool.get()?;
                match Accounts::new(&*store).record_failure(id) {
                    // Not counted (SQLite stayed busy): refused all the same.
                    Ok(()) | Err(Error::Busy { .. }) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            })
            .await?;
            return Err(ApiError::unauthorized());
        }
    };
    record(app, row.id);
    Ok(row.into())
}

/// Records a good sign-in's time, after the answer (a busy SQLite database must not hold
/// the request up; the time is then not recorded).
fn record(app: &Shared, id: i64) {
    let app = app.clone();
    tokio::task::spawn_blocking(move || {
        if let Ok(store) = app.pool.get() {
            let _ = Accounts::new(&*store).record_sign_in(id);
        }
    });
}

/// A signed-in account (every route takes one).
pub struct Signed {
    pub account: Account,
}

impl FromRequestParts<Shared> for Signed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        let (name, password) = basic(parts).ok_or_else(ApiError::unauthorized)?;
        let account = sign_in(app, name, password).await?;
        if let Some(who) = parts.extensions.get::<Who>() {
            who.set(&account.username);
        }
        Ok(Signed { account })
    }
}

impl Signed {
    /// 403 unless the account is a sys_admin.
    pub fn admin(&self) -> Result<(), ApiError> {
        self.admin_of("manage accounts")
    }

    /// 403 unless the account is a sys_admin; the message says who may `what`.
    pub fn admin_of(&self, what: &str) -> Result<(), ApiError> {
        if self.account.role == "sys_admin" {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "only a sys_admin account may {what}"
            )))
        }
    }
}

/// An entity an account may work in, with its name and the account's role there.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EntityRole {
    pub id: i64,
    pub name: String,
    /// `sys_admin` for a sys_admin account, else its tenant role.
    pub role: String,
}

/// Every entity of the database, by id, with its name and defaults.
pub async fn all_entities(app: &Shared) -> Result<Vec<EntityDef>, ApiError> {
    let a = app.clone();
    blocking(move || Ok(ReferenceFile::entities_of(&*a.pool.get()?)?)).await
}

/// The entities an account may work in, by id, with their names and its role in each:
/// every entity for a sys_admin (role `sys_admin`), its tenants for the others.
pub async fn entities(app: &Shared, account: &Account) -> Result<Vec<EntityRole>, ApiError> {
    Ok(all_entities(app)
        .await?
        .into_iter()
        .filter_map(|e| {
            let role = if account.role == "sys_admin" {
                "sys_admin".to_string()
            } else {
                account.tenants.get(&e.id.to_string())?.clone()
            };
            Some(EntityRole {
                id: e.id,
                name: e.name,
                role,
            })
        })
        .collect())
}

/// A signed-in account working in one entity, or (a sys_admin who chose none, when there
/// are several) in all of them: the routes of users.
pub struct Caller {
    pub account: Account,
    /// The entity chosen; `None`: every entity (a sys_admin only).
    pub entity: Option<i64>,
    /// The entities the account may work in.
    pub entities: Vec<EntityRole>,
}

impl Caller {
    /// The history's record of a write this caller asks for by `route`.
    pub fn origin(&self, route: &str) -> Origin {
        Origin {
            who: self.account.username.clone(),
            route: route.to_string(),
        }
    }
}

/// Finds `asked` (an entity's id or its name) among `entities`.
pub fn find_entity<'e>(entities: &'e [EntityRole], asked: &str) -> Option<&'e EntityRole> {
    let asked = asked.trim();
    entities
        .iter()
        .find(|e| e.id.to_string() == asked)
        .or_else(|| entities.iter().find(|e| e.name == asked))
}

impl Caller {
    /// 403 unless the account's role in the entity (every entity: a sys_admin) allows
    /// `action`.
    pub fn allow(&self, action: Action) -> Result<(), ApiError> {
        self.allow_in(action, self.entity)
    }

    /// 403 unless the account's role in `entity` allows `action`.
    pub fn allow_in(&self, action: Action, entity: Option<i64>) -> Result<(), ApiError> {
        let allowed = match entity {
            Some(e) => self.account.may(action, e),
            None => self.account.role == "sys_admin",
        };
        if allowed {
            return Ok(());
        }
        let what = match action {
            Action::Read => "read users (viewer)",
            Action::Write => "create, change, import or export users (user)",
            Action::Delete => "delete users (manager)",
        };
        Err(ApiError::forbidden(format!(
            "the account's role in entity {} does not allow it to {what}",
            entity.map_or_else(|| "-".to_string(), |e| e.to_string())
        )))
    }

    /// The entity `asked` names (an id or a name) if the account may work in it: 403 if it
    /// may not (or no such entity exists, for an account that is not a sys_admin).
    pub fn choose(&self, asked: &str) -> Result<i64, ApiError> {
        match find_entity(&self.entities, asked) {
            Some(e) => Ok(e.id),
            None if self.account.role == "sys_admin" => Err(ApiError::bad(
                "tenant.unknown",
                format!("no entity has the id or name '{}'", asked.trim()),
            )),
            None => Err(ApiError::forbidden(format!(
                "the account has no role in an entity named '{}'",
                asked.trim()
            ))),
        }
    }

    /// The entity a request names (a query parameter, a body's field) if it names one and
    /// the account may work in it, else the one the caller works in.
    pub fn named_or_chosen(&self, asked: Option<&str>) -> Result<Option<i64>, ApiError> {
        asked.map_or(Ok(self.entity), |a| self.choose(a).map(Some))
    }

    /// Signs `account` in to the entity `asked` names (id or name), or to its only
    /// entity; a sys_admin who names none works in all of them.
    pub async fn resolve(
        app: &Shared,
        account: Account,
        asked: Option<&str>,
    ) -> Result<Caller, ApiError> {
        let entities = entities(app, &account).await?;
        let mut caller = Caller {
            account,
            entity: None,
            entities,
        };
        caller.entity = match (asked, caller.entities.as_slice()) {
            (Some(a), _) => Some(caller.choose(a)?),
            (None, [one]) => Some(one.id),
            (None, _) if caller.account.role == "sys_admin" => None,
            (None, []) => return Err(ApiError::forbidden("the account has no role in any entity")),
            (None, many) => {
                let list: Vec<String> = many
                    .iter()
                    .map(|e| format!("{} ({})", e.id, e.name))
                    .collect();
                return Err(ApiError::bad(
                    "tenant.required",
                    format!(
                        "the account works in several entities ({}): choose one with the Wazo-Tenant header (an id or a name)",
                        list.join(", ")
                    ),
                ));
            }
        };
        Ok(caller)
    }
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        let Signed { account } = Signed::from_request_parts(parts, app).await?;
        let asked = match parts.headers.get("wazo-tenant") {
            None => None,
            Some(v) => Some(
                std::str::from_utf8(v.as_bytes())
                    .ok()
                    .filter(|t| !t.trim().is_empty())
                    .ok_or_else(|| {
                        ApiError::bad(
                            "tenant.invalid",
                            "the Wazo-Tenant header is the id or the name of an entity",
                        )
                    })?
                    .to_string(),
            ),
        };
        Caller::resolve(app, account, asked.as_deref()).await
    }
}

/// Who asks for a write over HTTP, and by which route: the history's record of it.
#[derive(Clone, Debug)]
pub struct Origin {
    pub who: String,
    /// The route, or the file's name an import was given (`?filename`): the source.
    pub route: String,
}

impl Origin {
    /// The history's record of a write of `kind`.
    pub fn batch(&self, kind: &str) -> crate::store::history::BatchInfo {
        crate::store::history::BatchInfo {
            kind: kind.to_string(),
            who: self.who.clone(),
            door: "http",
            source: self.route.clone(),
            sha256: None,
            undoes: None,
        }
    }
}
