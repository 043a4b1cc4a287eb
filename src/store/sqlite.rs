//! The SQLite backend's connection: opening and creating the file (owner-only), the
//! connection settings that make a committed import durable, the versioned schema
//! (`PRAGMA user_version`), and the snapshot a dry run works on.

use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// One of the search indexes (schemas/sqlite/0004_search.sql): its `column` holds `text`
/// of each row of `rows`, indexed up to the mark `upto` of `search_state`; other programs'
/// changes are noted in `dirty` (its `dirty_id` column), the writer's own in `noted`
/// ([`NOTING`]).
struct SearchIndex {
    table: &'static str,
    column: &'static str,
    text: &'static str,
    rows: &'static str,
    upto: &'static str,
    dirty: &'static str,
    dirty_id: &'static str,
    noted: &'static str,
}

/// The users' index (names, e-mail, username) and the extensions' (numbers).
const SEARCH_INDEXES: [SearchIndex; 2] = [
    SearchIndex {
        table: "user_search",
        column: "text",
        text: "coalesce(firstname, '') || char(10) || coalesce(lastname, '') \
            || char(10) || coalesce(email, '') || char(10) || coalesce(username, '')",
        rows: "users",
        upto: "users_upto",
        dirty: "user_search_dirty",
        dirty_id: "user_id",
        noted: "noted_users",
    },
    SearchIndex {
        table: "extension_search",
        column: "exten",
        text: "exten",
        rows: "extensions",
        upto: "extensions_upto",
        dirty: "extension_search_dirty",
        dirty_id: "extension_id",
        noted: "noted_extensions",
    },
];

impl SearchIndex {
    /// Takes out and indexes again the rows whose ids the query `changed` gives (a row
    /// that no longer exists is only taken out), and indexes the rows above the mark (new
    /// ones). `None`: the index is emptied and filled again with every row instead
    /// (cheaper when most of its rows go).
    fn refill(&self, changed: Option<&str>) -> String {
        let SearchIndex {
            table,
            column,
            text,
            rows,
            upto,
            ..
        } = self;
        match changed {
            Some(changed) => format!(
                "DELETE FROM {table} WHERE rowid IN ({changed});
                INSERT INTO {table} (rowid, {column}) SELECT id, {text} FROM {rows}
                    WHERE id IN ({changed}) AND id <= (SELECT {upto} FROM search_state);
                INSERT INTO {table} (rowid, {column}) SELECT id, {text} FROM {rows}
                    WHERE id > (SELECT {upto} FROM search_state);"
            ),
            None => format!(
                "INSERT INTO {table} ({table}) VALUES ('delete-all');
                INSERT INTO {table} (rowid, {column}) SELECT id, {text} FROM {rows};"
            ),
        }
    }
}

/// Brings every search index up to date ([`SearchIndex::refill`] with the query `changed`
/// gives for it), moves the marks to the highest ids and the generation on, and empties
/// the `_dirty` tables.
fn reindex_search(changed: impl Fn(&SearchIndex) -> Option<String>) -> String {
    let mut sql = String::new();
    let mut marks = Vec::new();
    for index in &SEARCH_INDEXES {
        sql += &index.refill(changed(index).as_deref());
        marks.push(format!(
            "{} = (SELECT coalesce(max(id), 0) FROM {})",
            index.upto, index.rows
        ));
    }
    sql += &format!(
        "UPDATE search_state SET {}, generation = generation + 1;",
        marks.join(", ")
    );
    for index in &SEARCH_INDEXES {
        sql += &format!("DELETE FROM {};", index.dirty);
    }
    sql
}

/// Run by the writer when its transaction begins (schemas/sqlite/0006_search_writes.sql):
/// the persistent triggers that note changed rows in the `_dirty` tables stay still
/// (`quiet`), and this connection's own temporary triggers note the same rows, in
/// memory, in `noted_users` and `noted_extensions`. (A temporary trigger names its
/// tables without a schema; `noted_*` are found in `temp` first, the rest in `main`.)
pub(crate) const NOTING: &str = "
    CREATE TEMP TABLE IF NOT EXISTS noted_users (id INTEGER PRIMARY KEY);
    CREATE TEMP TABLE IF NOT EXISTS noted_extensions (id INTEGER PRIMARY KEY);
    CREATE TEMP TRIGGER IF NOT EXISTS noting_users_update
        AFTER UPDATE OF id, entity_id, firstname, lastname, email, username ON main.users BEGIN
        INSERT OR IGNORE INTO noted_users (id) VALUES (new.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS noting_users_renumber
        AFTER UPDATE OF id ON main.users WHEN old.id <> new.id BEGIN
        INSERT OR IGNORE INTO noted_users (id) VALUES (old.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS noting_users_delete AFTER DELETE ON main.users BEGIN
        INSERT OR IGNORE INTO noted_users (id) VALUES (old.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS noting_extensions_update
        AFTER UPDATE OF id, exten, line_id ON main.extensions BEGIN
        INSERT OR IGNORE INTO noted_extensions (id) VALUES (old.id), (new.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS noting_extensions_delete
        AFTER DELETE ON main.extensions BEGIN
        INSERT OR IGNORE INTO noted_extensions (id) VALUES (old.id);
    END;
    CREATE TEMP TRIGGER IF NOT EXISTS noting_lines_update
        AFTER UPDATE OF id, user_id ON main.lines BEGIN
        INSERT OR IGNORE INTO noted_extensions (id)
            SELECT id FROM extensions WHERE line_id IN (old.id, new.id);
    END;
    UPDATE search_state SET quiet = 1;";

/// The search indexes brought up to date by the writer before it commits: the rows it
/// noted ([`NOTING`]) and those other programs noted in the `_dirty` tables; `quiet` set
/// back to 0 for every other program. An index of which most rows were noted (an undo of
/// a large import, an update of every user) is emptied and filled again instead: taking a
/// row out of FTS5 costs about what writing one does, so changing `n` rows in place costs
/// about `2n` writes, and filling again one a row (3 rows in 5 noted: from 1.2n writes).
pub(crate) fn writer_reindex(conn: &Connection) -> rusqlite::Result<()> {
    let count = |sql: String| conn.query_row(&sql, [], |r| r.get::<_, i64>(0));
    // The tables of the indexes to fill again, and the statements emptying the notes.
    let mut refilled = Vec::new();
    let mut cleared = String::new();
    for index in &SEARCH_INDEXES {
        let SearchIndex {
            table,
            rows,
            dirty,
            dirty_id,
            noted,
            ..
        } = index;
        conn.execute(
            &format!("INSERT OR IGNORE INTO {noted} (id) SELECT {dirty_id} FROM {dirty}"),
            [],
        )?;
        // Rows noted, against the rows the index would be filled with again (counted only
        // when many are noted: a count of a large table is not free).
        let many = count(format!("SELECT count(*) FROM {noted}"))?;
        if many >= REFILL_FROM && 5 * many >= 3 * count(format!("SELECT count(*) FROM {rows}"))? {
            refilled.push(*table);
        }
        cleared += &format!("DELETE FROM {noted};");
    }
    let sql = reindex_search(|index| {
        (!refilled.contains(&index.table)).then(|| format!("SELECT id FROM {}", index.noted))
    });
    conn.execute_batch(&format!(
        "{sql} UPDATE search_state SET quiet = 0; {cleared}"
    ))
}

/// The fewest noted rows for which [`writer_reindex`] weighs filling an index again.
const REFILL_FROM: i64 = 10_000;

/// The schema migrations, in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schemas/sqlite/0001_init.sql"),
    include_str!("../../schemas/sqlite/0002_user_settings.sql"),
    include_str!("../../schemas/sqlite/0003_accounts.sql"),
    include_str!("../../schemas/sqlite/0004_search.sql"),
    include_str!("../../schemas/sqlite/0005_history.sql"),
    include_str!("../../schemas/sqlite/0006_search_writes.sql"),
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

/// Opens a connection that only reads the database file `file` (already migrated by the
/// writer that asks for it); `path` names the database in messages.
pub fn open_reader(file: &Path, path: &Path) -> Result<Connection> {
    configure_sqlite();
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::db(path, e))?;
    configure_session(&conn, path)?;
    // Its reads go through the operating system's cache of the file, which the writer's
    // reads fill too: a small page cache of its own is enough.
    conn.execute_batch(IDLE_CACHE)
        .map_err(|e| Error::db(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| Error::db(path, e))?;
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
            reindex_search(|index| Some(format!("SELECT {} FROM {}", index.dirty_id, index.dirty)))
        } else {
            String::new()
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
