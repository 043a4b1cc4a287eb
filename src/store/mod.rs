//! Storage, the only place that speaks SQL: the seam the domain writes through ([`tx::Tx`])
//! and its SQLite backend ([`sqlite_tx`]); opening (and creating) the SQLite database, the
//! versioned schema, reference data, the export's stream of users, and the connection
//! settings that make a committed import durable.

pub mod export;
pub mod reference;
pub mod sqlite_tx;
pub mod tx;

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema migrations, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[include_str!("../../schemas/0001_init.sql")];

/// How long a writer waits for another one before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Turns off SQLite's global memory statistics before its first use: with them on, every
/// allocation SQLite makes takes a process-wide mutex (about a seventh of an update's time
/// in a profile), and ucsv never reads them. Called before any connection is opened;
/// once SQLite is initialized the call is refused and changes nothing.
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config is called before any other SQLite call of this process
        // (the Once runs before the first connection), with the int argument
        // SQLITE_CONFIG_MEMSTATUS takes; if SQLite is already initialized it returns
        // SQLITE_MISUSE and does nothing.
        unsafe {
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0);
        }
    });
}

/// An open ucsv database.
pub struct Store {
    /// The connection; one thread owns it.
    pub conn: Connection,
    /// The file's path, for messages.
    pub path: PathBuf,
}

impl Store {
    /// Opens the database at `path`, creating it with the embedded default reference data if
    /// there is no file. Returns whether it was created.
    pub fn open_or_create(path: &Path) -> Result<(Store, bool)> {
        configure_sqlite();
        if path.exists() {
            return Ok((Store::open(path)?, false));
        }
        let reference = reference::ReferenceFile::embedded_default();
        Ok((
            Store::create(path, &reference, "the embedded default")?,
            true,
        ))
    }

    /// Opens an existing database and migrates it forward.
    pub fn open(path: &Path) -> Result<Store> {
        configure_sqlite();
        // One thread owns the connection: no per-call mutex.
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::db(path, e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Creates a new database with the schema and the given reference data (`origin` names
    /// it in messages). Refuses an
    /// existing file. On failure, the half-made file is removed.
    pub fn create(
        path: &Path,
        reference: &reference::ReferenceFile,
        origin: &str,
    ) -> Result<Store> {
        if path.exists() {
            return Err(Error::DatabaseExists(path.to_path_buf()));
        }
        configure_sqlite();
        let made = (|| {
            owner_only_file(path)?;
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| Error::db(path, e))?;
            let mut store = Store {
                conn,
                path: path.to_path_buf(),
            };
            store.configure()?;
            store.migrate()?;
            reference.apply(&mut store, origin)?;
            Ok(store)
        })();
        if made.is_err() {
            remove(path);
        }
        made
    }

    fn configure(&mut self) -> Result<()> {
        self.configure_session()?;
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| Error::db(&self.path, e))?;
        // WAL with full sync: a committed import survives a power loss; an interrupted one
        // leaves the database as it was.
        self.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
            .map_err(|e| Error::db(&self.path, e))
    }

    /// What every connection of a run needs, the database's or a snapshot's: every
    /// statement of the row path stays prepared (the default cache holds 16), foreign keys
    /// are enforced, and the page cache is 64 MB.
    fn configure_session(&self) -> Result<()> {
        self.conn.set_prepared_statement_cache_capacity(128);
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;")
            .map_err(|e| Error::db(&self.path, e))
    }

    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let db = |e: rusqlite::Error| Error::db(&path, e);
        let version: usize = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version > MIGRATIONS.len() {
            return Err(Error::Database {
                path: path.clone(),
                message: format!("schema version {version} is newer than this ucsv knows"),
                help: "use a newer ucsv".into(),
            });
        }
        if version == 0 {
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(db)?;
            if tables > 0 {
                return Err(Error::Database {
                    path: path.clone(),
                    message: "this SQLite file is not a ucsv database".into(),
                    help: "choose another --db path".into(),
                });
            }
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = self.conn.transaction().map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", i + 1).map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(())
    }

    /// A private copy of the database as it is now (one consistent read snapshot), for dry
    /// runs: they run exactly the code of a real run, writes included, on the copy, so they
    /// never take the database's write lock (they run beside an import) and give the answers
    /// a real run would give against the same snapshot. The copy is an unnamed temporary
    /// file, deleted when closed.
    pub fn snapshot(&self) -> Result<Store> {
        let db = |e: rusqlite::Error| Error::db(&self.path, e);
        let mut conn = Connection::open_with_flags(
            "",
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        {
            // One step copies every page inside one read transaction: a consistent snapshot.
            use rusqlite::backup::{Backup, StepResult};
            let backup = Backup::new(&self.conn, &mut conn).map_err(db)?;
            let started = std::time::Instant::now();
            loop {
                match backup.step(-1).map_err(db)? {
                    StepResult::Done => break,
                    // WAL readers are not blocked by writers; a checkpoint may briefly be.
                    _ if started.elapsed() < BUSY_TIMEOUT => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    _ => {
                        return Err(db(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("the database stayed busy while it was being read".into()),
                        )))
                    }
                }
            }
        }
        let copy = Store {
            conn,
            path: self.path.clone(),
        };
        copy.configure_session()?;
        // Nothing of the copy outlives the run: no syncing.
        copy.conn
            .execute_batch("PRAGMA synchronous = OFF;")
            .map_err(db)?;
        Ok(copy)
    }

    /// The number of users (of `entity`, if given).
    pub fn count_users(&self, entity: Option<i64>) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM users WHERE ?1 IS NULL OR entity_id = ?1",
                [entity],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.unsigned_abs())
            .map_err(|e| self.err(e))
    }

    /// Begins the write transaction of a run (see [`sqlite_tx::SqliteTx::begin`]).
    pub fn begin(&mut self) -> Result<Box<dyn tx::Tx + '_>> {
        Ok(Box::new(sqlite_tx::SqliteTx::begin(
            &self.conn,
            self.path.clone(),
        )?))
    }

    /// Closes and deletes a database this command created, when the command failed: a
    /// fatal error leaves no new file behind.
    pub fn discard(self) {
        let path = self.path.clone();
        drop(self);
        remove(&path);
    }

    /// Wraps a database error with this store's path.
    pub fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::db(&self.path, e)
    }
}

/// Creates the empty database file readable and writable by its owner only (0600, whatever
/// the umask): it holds password hashes and SIP secrets. SQLite gives the -wal and -shm files
/// the database file's mode.
fn owner_only_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::db(path, e))?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(|e| Error::db(path, e))
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

/// Removes a database file and its WAL companions.
fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unique_column_has_a_probe_that_runs() {
        let dir = tempfile::tempdir().unwrap();
        let reference = reference::ReferenceFile::embedded_default();
        let store = Store::create(&dir.path().join("t.db"), &reference, "test").unwrap();
        let unique: Vec<_> = crate::columns::unique().collect();
        assert_eq!(
            unique.len(),
            5,
            "uuid, email, username, sip_username, provisioning_code"
        );
        for col in unique {
            let taken: bool = store
                .conn
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
