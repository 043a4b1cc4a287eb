//! Storage, the only place that speaks SQL: the seam the domain writes through ([`tx::Tx`])
//! and its two backends, SQLite ([`sqlite`], [`sqlite_tx`]) and PostgreSQL ([`postgres`]);
//! opening (and creating) the database, the versioned schema, reference data, the export's
//! stream of users, and the settings that make a committed import durable.

pub mod accounts;
pub mod export;
pub mod postgres;
pub mod reference;
pub mod sql;
pub mod sqlite;
pub mod sqlite_tx;
pub mod tx;

use crate::error::{Error, Result};
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// An open ucsv database.
pub struct Store {
    /// The database as messages name it: the file's path, or the URL without its password.
    pub path: PathBuf,
    backend: Backend,
}

/// The connection of a [`Store`]; one thread owns it.
pub(crate) enum Backend {
    /// An SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL database, with the URL it was reached by (for a dry run's own
    /// connection).
    Postgres(Box<RefCell<::postgres::Client>>, String),
}

impl Store {
    /// Opens the database `db` names (a file, or a `postgres://` URL), creating it with the
    /// embedded default reference data if there is none (no file; no ucsv tables in the
    /// PostgreSQL database). Returns whether it was created.
    pub fn open_or_create(db: &Path) -> Result<(Store, bool)> {
        let reference = reference::ReferenceFile::embedded_default();
        if postgres::is_url(db) {
            let (url, path) = url_of(db);
            let mut client = postgres::connect(&url, &path)?;
            if postgres::exists(&mut client, &path)? {
                let created = postgres::migrate(&mut client, &path)?;
                let store = Store::pg(client, url, path);
                return Ok((store, created));
            }
            let store = Store::pg(client, url, path);
            return Ok((store.populate(&reference, "the embedded default")?, true));
        }
        if db.exists() {
            return Ok((Store::open(db)?, false));
        }
        Ok((Store::create(db, &reference, "the embedded default")?, true))
    }

    /// Opens an existing database and migrates it forward.
    pub fn open(db: &Path) -> Result<Store> {
        if postgres::is_url(db) {
            let (url, path) = url_of(db);
            let mut client = postgres::connect(&url, &path)?;
            postgres::migrate(&mut client, &path)?;
            return Ok(Store::pg(client, url, path));
        }
        Ok(Store {
            path: db.to_path_buf(),
            backend: Backend::Sqlite(sqlite::open(db)?),
        })
    }

    /// Creates a new database with the schema and the given reference data (`origin` names
    /// it in messages). Refuses an existing file, or a PostgreSQL database that already
    /// holds ucsv's tables. On failure, the half-made file (or tables) are removed.
    pub fn create(db: &Path, reference: &reference::ReferenceFile, origin: &str) -> Result<Store> {
        if postgres::is_url(db) {
            let (url, path) = url_of(db);
            let mut client = postgres::connect(&url, &path)?;
            if postgres::exists(&mut client, &path)? {
                return Err(Error::DatabaseExists(path));
            }
            return Store::pg(client, url, path).populate(reference, origin);
        }
        if db.exists() {
            return Err(Error::DatabaseExists(db.to_path_buf()));
        }
        let made = sqlite::create(db).and_then(|conn| {
            Store {
                path: db.to_path_buf(),
                backend: Backend::Sqlite(conn),
            }
            .populate(reference, origin)
        });
        if made.is_err() {
            sqlite::remove(db);
        }
        made
    }

    fn pg(client: ::postgres::Client, url: String, path: PathBuf) -> Store {
        Store {
            path,
            backend: Backend::Postgres(Box::new(RefCell::new(client)), url),
        }
    }

    /// Adds the schema (PostgreSQL) and the reference data to a new database; on failure,
    /// takes the PostgreSQL tables back (the caller removes an SQLite file).
    fn populate(mut self, reference: &reference::ReferenceFile, origin: &str) -> Result<Store> {
        if let Backend::Postgres(client, _) = &self.backend {
            postgres::migrate(&mut client.borrow_mut(), &self.path)?;
        }
        match reference.apply(&mut self, origin) {
            Ok(()) => Ok(self),
            Err(e) => {
                self.discard();
                Err(e)
            }
        }
    }

    /// The statements both backends share.
    pub fn db(&self) -> Box<dyn sql::Db + '_> {
        match &self.backend {
            Backend::Sqlite(conn) => Box::new(sql::Sqlite {
                conn,
                path: &self.path,
            }),
            Backend::Postgres(client, _) => Box::new(sql::Postgres {
                client,
                path: &self.path,
            }),
        }
    }

    /// Whether the database is a PostgreSQL one.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(..))
    }

    /// The connection, for the store's own modules.
    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }

    /// A store for a dry run. On SQLite, a private copy of the database as it is now (one
    /// consistent snapshot, see [`sqlite::snapshot`]): the dry run runs exactly the code of a
    /// real run on it, without taking the database's write lock. On PostgreSQL, a second
    /// connection: writers do not lock each other out there, and the run is rolled back.
    pub fn snapshot(&self) -> Result<Store> {
        match &self.backend {
            Backend::Sqlite(conn) => Ok(Store {
                path: self.path.clone(),
                backend: Backend::Sqlite(sqlite::snapshot(conn, &self.path)?),
            }),
            Backend::Postgres(_, url) => {
                let client = postgres::connect(url, &self.path)?;
                Ok(Store::pg(client, url.clone(), self.path.clone()))
            }
        }
    }

    /// The number of users (of `entity`, if given).
    pub fn count_users(&self, entity: Option<i64>) -> Result<u64> {
        let rows = self.db().rows(
            "SELECT count(*) FROM users WHERE CAST(?1 AS BIGINT) IS NULL OR entity_id = ?1",
            &[entity.into()],
        )?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map_or(0, |c| c.int().unsigned_abs()))
    }

    /// Begins the write transaction of a run.
    pub fn begin(&mut self) -> Result<Box<dyn tx::Tx + '_>> {
        match &self.backend {
            Backend::Sqlite(conn) => Ok(Box::new(sqlite_tx::SqliteTx::begin(
                conn,
                self.path.clone(),
            )?)),
            Backend::Postgres(client, _) => Ok(Box::new(postgres::tx::PgTx::begin(
                client,
                self.path.clone(),
            )?)),
        }
    }

    /// Closes and deletes a database this command created, when the command failed: a
    /// fatal error leaves no new file (or PostgreSQL tables) behind.
    pub fn discard(self) {
        match self.backend {
            Backend::Sqlite(conn) => {
                drop(conn);
                sqlite::remove(&self.path);
            }
            Backend::Postgres(client, _) => postgres::drop_tables(&mut client.into_inner()),
        }
    }

    /// Wraps a database error with this store's path.
    pub fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::db(&self.path, e)
    }
}

/// The users whose line has an extension of context `?1` from `?2` to `?3` (one digit
/// count: text order is number order), in number order.
pub(crate) const USERS_BY_EXTENS: &str =
    "SELECT l.user_id FROM extensions e JOIN lines l ON l.id = e.line_id
     WHERE e.context = ?1 AND length(e.exten) = length(?2) AND e.exten >= ?2 AND e.exten <= ?3
     ORDER BY e.exten, l.user_id";

/// The users whose username is `?1`, or whose e-mail address is, without case (SQLite: the
/// column compares without case; PostgreSQL: through its index on lower(email)).
pub(crate) const USERS_BY_LOGIN: &str =
    "SELECT id FROM users WHERE username = ?1 OR email = ?1 ORDER BY id";
pub(crate) const USERS_BY_LOGIN_PG: &str =
    "SELECT id FROM users WHERE username = ?1 OR lower(email) = lower(?1) ORDER BY id";

/// The URL a `--db` value holds, and how messages show it.
fn url_of(db: &Path) -> (String, PathBuf) {
    let url = db.as_os_str().to_string_lossy().into_owned();
    let shown = PathBuf::from(postgres::shown(&url));
    (url, shown)
}

/// The query telling whether a unique column's value belongs to another user than `?2`
/// (null for none), from the registry's storage binding.
pub fn unique_probe(col: crate::columns::Col) -> String {
    use crate::columns::Storage;
    let (table, column, owner) = match col.def().storage {
        Storage::User => ("users", col.name(), "id"),
        Storage::Line(column) => ("lines", column, "user_id"),
        other => unreachable!("{} is unique but stored as {other:?}", col.name()),
    };
    format!("SELECT EXISTS(SELECT 1 FROM {table} WHERE {column} = ?1 AND {owner} IS NOT ?2)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unique_column_has_a_probe_that_runs() {
        let dir = tempfile::tempdir().unwrap();
        let reference = reference::ReferenceFile::embedded_default();
        let store = Store::create(&dir.path().join("t.db"), &reference, "test").unwrap();
        let Backend::Sqlite(conn) = store.backend() else {
            unreachable!()
        };
        let unique: Vec<_> = crate::columns::unique().collect();
        assert_eq!(
            unique.len(),
            5,
            "uuid, email, username, sip_username, provisioning_code"
        );
        for col in unique {
            let taken: bool = conn
                .query_row(
                    &unique_probe(col),
                    rusqlite::params!["x", None::<i64>],
                    |r| r.get(0),
                )
                .unwrap_or_else(|e| panic!("{}: {e}", col.name()));
            assert!(!taken, "{}", col.name());
        }
    }
}
