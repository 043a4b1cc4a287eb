//! The SQLite backend's connection: opening and creating the file (owner-only), the
//! connection settings that make a committed import durable, the versioned schema
//! (`PRAGMA user_version`), and the snapshot a dry run works on.

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Brings the search indexes up to date (see schemas/sqlite/0004_search.sql): takes out
/// and indexes again the rows noted as changed, indexes the rows above the marks (new
/// ones), and moves the marks to the highest ids. Run by the writer before it commits,
/// and once by the migration that creates the indexes. A noted row that no longer exists
/// is only taken out.
pub(crate) const REINDEX_SEARCH: &str = "
    DELETE FROM user_search WHERE rowid IN (SELECT user_id FROM user_search_dirty);
    INSERT INTO user_search (rowid, text)
        SELECT id, coalesce(firstname, '') || char(10) || coalesce(lastname, '') || char(10)
            || coalesce(email, '') || char(10) || coalesce(username, '')
        FROM users WHERE id IN (SELECT user_id FROM user_search_dirty)
                      AND id <= (SELECT users_upto FROM search_state);
    INSERT INTO user_search (rowid, text)
        SELECT id, coalesce(firstname, '') || char(10) || coalesce(lastname, '') || char(10)
            || coalesce(email, '') || char(10) || coalesce(username, '')
        FROM users WHERE id > (SELECT users_upto FROM search_state);
    DELETE FROM extension_search WHERE rowid IN (SELECT extension_id FROM extension_search_dirty);
    INSERT INTO extension_search (rowid, exten)
        SELECT id, exten FROM extensions
        WHERE id IN (SELECT extension_id FROM extension_search_dirty)
          AND id <= (SELECT extensions_upto FROM search_state);
    INSERT INTO extension_search (rowid, exten)
        SELECT id, exten FROM extensions WHERE id > (SELECT extensions_upto FROM search_state);
    UPDATE search_state SET users_upto = (SELECT coalesce(max(id), 0) FROM users),
        extensions_upto = (SELECT coalesce(max(id), 0) FROM extensions),
        generation = generation + 1;
    DELETE FROM user_search_dirty;
    DELETE FROM extension_search_dirty;";

/// The schema migrations, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schemas/sqlite/0001_init.sql"),
    include_str!("../../schemas/sqlite/0002_user_settings.sql"),
    include_str!("../../schemas/sqlite/0003_accounts.sql"),
    include_str!("../../schemas/sqlite/0004_search.sql"),
    include_str!("../../schemas/sqlite/0005_history.sql"),
];

/// The migration that creates the search indexes, which are then filled.
const SEARCH_VERSION: usize = 4;

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

/// Opens an existing database file and migrates it forward.
pub fn open(path: &Path) -> Result<Connection> {
    configure_sqlite();
    // One thread owns the connection: no per-call mutex.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::db(path, e))?;
    configure(&conn, path)?;
    migrate(&conn, path)?;
    Ok(conn)
}

/// Creates a new database file (owner-only) with the schema; the caller adds the reference
/// data and removes the file on failure.
pub fn create(path: &Path) -> Result<Connection> {
    configure_sqlite();
    owner_only_file(path)?;
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::db(path, e))?;
    configure(&conn, path)?;
    migrate(&conn, path)?;
    Ok(conn)
}

fn configure(conn: &Connection, path: &Path) -> Result<()> {
    configure_session(conn, path)?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| Error::db(path, e))?;
    // WAL with full sync: a committed import survives a power loss; an interrupted one
    // leaves the database as it was.
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
        .map_err(|e| Error::db(path, e))
}

/// The page cache of a connection kept idle by a server (8 MB): a server keeps many
/// connections open, and the operating system caches the file for all of them.
pub(crate) const IDLE_CACHE: &str = "PRAGMA cache_size = -8192";
/// The page cache of a connection of a command, and of any connection while it writes
/// (64 MB): an import's indexes stay in it.
pub(crate) const WORK_CACHE: &str = "PRAGMA cache_size = -65536";

/// What every connection of a run needs, the database's or a snapshot's: every
/// statement of the row path stays prepared (the default cache holds 16), foreign keys
/// are enforced, and the page cache is [`WORK_CACHE`].
fn configure_session(conn: &Connection, path: &Path) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(128);
    conn.execute_batch(&format!(
        "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; {WORK_CACHE};"
    ))
    .map_err(|e| Error::db(path, e))
}

fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let db = |e: rusqlite::Error| Error::db(path, e);
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db)?;
    if version > MIGRATIONS.len() {
        return Err(Error::Database {
            path: path.to_path_buf(),
            message: format!("schema version {version} is newer than this ucsv knows"),
            help: "use a newer ucsv".into(),
        });
    }
    if version == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(db)?;
        if tables > 0 {
            return Err(Error::Database {
                path: path.to_path_buf(),
                message: "this SQLite file is not a ucsv database".into(),
                help: "choose another --db path".into(),
            });
        }
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let fill = if i + 1 == SEARCH_VERSION {
            REINDEX_SEARCH
        } else {
            ""
        };
        conn.execute_batch(&format!(
            "BEGIN; {sql}; {fill} PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            db(e)
        })?;
    }
    Ok(())
}

/// A private copy of the database as it is now (one consistent read snapshot), for dry
/// runs: they run exactly the code of a real run, writes included, on the copy, so they
/// never take the database's write lock (they run beside an import) and give the answers
/// a real run would give against the same snapshot. The copy is an unnamed temporary
/// file, deleted when closed.
pub fn snapshot(conn: &Connection, path: &Path) -> Result<Connection> {
    let db = |e: rusqlite::Error| Error::db(path, e);
    let mut copy = Connection::open_with_flags(
        "",
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    {
        // One step copies every page inside one read transaction: a consistent snapshot.
        use rusqlite::backup::{Backup, StepResult};
        let backup = Backup::new(conn, &mut copy).map_err(db)?;
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
    configure_session(&copy, path)?;
    // Nothing of the copy outlives the run: no syncing.
    copy.execute_batch("PRAGMA synchronous = OFF;")
        .map_err(db)?;
    Ok(copy)
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

/// Removes a database file and its WAL companions.
pub fn remove(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
