//! Storage, the only place that speaks SQL: the seam the domain writes through ([`crate::domain::port::Tx`])
//! and its two backends, SQLite ([`sqlite`], [`sqlite_tx`]) and PostgreSQL ([`postgres`]);
//! opening (and creating) the database, the versioned schema, reference data, the export's
//! stream of users, and the settings that make a committed import durable.

pub mod accounts;
pub mod export;
pub mod history;
pub mod listing;
pub mod postgres;
pub mod reference;
pub mod select;
pub mod sql;
pub mod sqlite;
pub mod sqlite_tx;
/// The port the backends implement, under the path it had when the store owned it.
pub use crate::domain::port as tx;

/// The methods of [`crate::domain::port::Tx`] written once for both backends over [`sql::Db`] (the history's
/// statements and the range deletes), inside a backend's `impl Tx`, whose transaction has
/// an inherent `shared()`: the transaction as a [`sql::Db`], once its rows in flight are
/// written.
macro_rules! shared_tx_methods {
    () => {
        fn delete_users_between(&self, first: i64, last: i64) -> crate::error::Result<()> {
            crate::store::delete_users_between(self.shared()?.as_ref(), first, last)
        }

        fn strip_user(
            &self,
            user_id: i64,
            parts: crate::domain::port::Strip,
        ) -> crate::error::Result<()> {
            crate::store::strip_user(self.shared()?.as_ref(), user_id, parts)
        }

        fn open_batch(
            &self,
            info: &crate::domain::port::history::BatchInfo,
            at: &str,
        ) -> crate::error::Result<i64> {
            crate::store::history::open(self.shared()?.as_ref(), info, at)
        }

        fn record_changes(
            &self,
            batch: i64,
            rows: &[crate::domain::port::history::Pending],
        ) -> crate::error::Result<()> {
            crate::store::history::record_all(self.shared()?.as_ref(), batch, rows)
        }

        fn record_created(&self, batch: i64, first: i64, last: i64) -> crate::error::Result<()> {
            use crate::domain::port::history::Action;
            let db = self.shared()?;
            crate::store::history::record(
                db.as_ref(),
                batch,
                (first, last),
                Action::Created,
                None,
                None,
            )
            .map(drop)
        }

        fn close_batch(
            &self,
            batch: i64,
            counts: crate::domain::port::history::Counts,
            entities: &[i64],
            sha256: Option<&str>,
            undoes: Option<i64>,
        ) -> crate::error::Result<()> {
            let db = self.shared()?;
            crate::store::history::close(db.as_ref(), batch, counts, entities, sha256, undoes)
        }

        fn batch(
            &self,
            id: i64,
        ) -> crate::error::Result<Option<crate::domain::port::history::Batch>> {
            crate::store::history::get(self.shared()?.as_ref(), id)
        }

        fn later_batches(&self, id: i64) -> crate::error::Result<Vec<(i64, i64)>> {
            crate::store::history::later(self.shared()?.as_ref(), id)
        }

        fn batch_changes(
            &self,
            id: i64,
        ) -> crate::error::Result<Vec<crate::domain::port::history::Change>> {
            crate::store::history::changes(self.shared()?.as_ref(), id)
        }
    };
}
pub(crate) use shared_tx_methods;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// An open ucsv database.
pub struct Store {
    /// The database as messages name it: the file's path, or the URL without its password.
    pub path: PathBuf,
    backend: Backend,
    /// Listing totals counted while the database was as it is (see
    /// [`Store::count_listed`]); a server's stores share them.
    counts: listing::SharedCounts,
}

/// An SQLite file that a second connection may read beside the writer's (see
/// [`Store::beside`]).
pub struct Place {
    file: PathBuf,
    /// The database as messages name it.
    path: PathBuf,
}

impl Place {
    /// A connection that only reads the file: each of its reads sees the database as the
    /// writer's transaction found it (WAL: no writer blocks it, and none commits while the
    /// writer holds the write lock).
    pub fn open(self) -> Result<Box<dyn crate::domain::port::Beside>> {
        let conn = sqlite::open_reader(&self.file, &self.path)?;
        Ok(Box::new(Store::sqlite(conn, self.path)))
    }
}

impl crate::domain::port::Beside for Store {
    fn stored_users(
        &mut self,
        uuids: &[&str],
        entity: Option<i64>,
    ) -> Result<Vec<crate::domain::port::StoredUser>> {
        self.read()?.stored_users(uuids, entity)
    }

    fn stored_users_between(
        &mut self,
        first: i64,
        last: i64,
    ) -> Result<Vec<crate::domain::port::StoredUser>> {
        self.read()?.stored_users_between(first, last)
    }
}

/// The connection of a [`Store`]; one thread owns it.
pub(crate) enum Backend {
    /// An SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL database, with the URL it was reached by (for a dry run's own
    /// connection).
    Postgres(postgres::Conn, String),
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
        Ok(Store::sqlite(sqlite::open(db)?, db.to_path_buf()))
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
        let made = sqlite::create(db)
            .and_then(|conn| Store::sqlite(conn, db.to_path_buf()).populate(reference, origin));
        if made.is_err() {
            sqlite::remove(db);
        }
        made
    }

    fn pg(client: ::postgres::Client, url: String, path: PathBuf) -> Store {
        Store {
            path,
            backend: Backend::Postgres(postgres::Conn::new(client), url),
            counts: Default::default(),
        }
    }

    fn sqlite(conn: rusqlite::Connection, path: PathBuf) -> Store {
        Store {
            path,
            backend: Backend::Sqlite(conn),
            counts: Default::default(),
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
            Backend::Postgres(client, _) => Box::new(postgres::db::Postgres {
                client,
                path: &self.path,
            }),
        }
    }

    /// Asks the database the simplest question: whether it answers.
    pub fn ping(&self) -> Result<()> {
        self.db().rows("SELECT 1", &[]).map(|_| ())
    }

    /// Whether the connection can still be used (a PostgreSQL server may have closed it).
    pub fn usable(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(_) => true,
            Backend::Postgres(client, _) => !client.borrow_mut().is_closed(),
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
            Backend::Sqlite(conn) => Ok(Store::sqlite(
                sqlite::snapshot(conn, &self.path)?,
                self.path.clone(),
            )),
            Backend::Postgres(_, url) => {
                let client = postgres::connect(url, &self.path)?;
                Ok(Store::pg(client, url.clone(), self.path.clone()))
            }
        }
    }

    /// Where a second connection may read this database beside the run's writer (see
    /// [`Place::open`]): `None` on PostgreSQL and for a private copy (a dry run's).
    pub fn beside(&self) -> Option<Place> {
        match &self.backend {
            Backend::Sqlite(conn) => conn.path().filter(|p| !p.is_empty()).map(|p| Place {
                file: PathBuf::from(p.to_string()),
                path: self.path.clone(),
            }),
            Backend::Postgres(..) => None,
        }
    }

    /// The number of users (of `entity`, if given).
    pub fn count_users(&self, entity: Option<i64>) -> Result<u64> {
        self.count_listed(&crate::domain::port::Filter {
            entity,
            search: None,
        })
    }

    /// Begins the write transaction of a run.
    pub fn begin(&mut self) -> Result<Box<dyn crate::domain::port::Tx + '_>> {
        self.transaction(true)
    }

    /// Begins a transaction that only reads (it never waits for a writer; nothing it
    /// would write is kept).
    pub fn read(&mut self) -> Result<Box<dyn crate::domain::port::Tx + '_>> {
        self.transaction(false)
    }

    fn transaction(&mut self, write: bool) -> Result<Box<dyn crate::domain::port::Tx + '_>> {
        match &self.backend {
            Backend::Sqlite(conn) => Ok(Box::new(sqlite_tx::SqliteTx::begin(
                conn,
                self.path.clone(),
                write,
            )?)),
            Backend::Postgres(client, _) => Ok(Box::new(postgres::tx::PgTx::begin(
                client,
                self.path.clone(),
            )?)),
        }
    }

    /// Makes this store keep its listing totals in `counts`, which other stores of the same
    /// database share.
    pub fn share_counts(&mut self, counts: &listing::SharedCounts) {
        self.counts = counts.clone();
    }

    /// Gives back the memory of a connection a server keeps idle (SQLite: a smaller page
    /// cache; a write transaction takes the large one again).
    pub fn idle(&self) {
        if let Backend::Sqlite(conn) = &self.backend {
            // A cache size only: a failure changes nothing that matters.
            let _ = conn.execute_batch(sqlite::IDLE_CACHE);
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
            Backend::Postgres(client, _) => {
                if let Some(mut client) = client.into_inner() {
                    postgres::drop_tables(&mut client);
                }
            }
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

/// Deletes the user with its lines and their extensions, its incoming calls and their
/// numbers, its voicemail link (and its box, when no other user has it), its call
/// permissions and its login: [`delete_users_between`] of one user.
pub(crate) fn delete_user(db: &dyn sql::Db, user_id: i64) -> Result<()> {
    delete_users_between(db, user_id, user_id)
}

/// Deletes every user with an id from `first` to `last`, a statement per table for them
/// all (one user: [`delete_user`]; an undo taking back an import's users): their lines and
/// the lines' extensions, their incoming calls and the calls' numbers, their voicemail
/// links and the boxes no other user has, their call permissions.
pub(crate) fn delete_users_between(db: &dyn sql::Db, first: i64, last: i64) -> Result<()> {
    let range = [first.into(), last.into()];
    let ids = |sql: &str| -> Result<Vec<i64>> {
        Ok(db.rows(sql, &range)?.iter().map(|r| r[0].int()).collect())
    };
    let numbers = ids("SELECT extension_id FROM incalls WHERE user_id BETWEEN ?1 AND ?2")?;
    let boxes =
        ids("SELECT DISTINCT voicemail_id FROM user_voicemails WHERE user_id BETWEEN ?1 AND ?2")?;
    for sql in [
        "DELETE FROM incalls WHERE user_id BETWEEN ?1 AND ?2",
        "DELETE FROM extensions WHERE line_id IN
             (SELECT id FROM lines WHERE user_id BETWEEN ?1 AND ?2)",
        "DELETE FROM lines WHERE user_id BETWEEN ?1 AND ?2",
        "DELETE FROM user_voicemails WHERE user_id BETWEEN ?1 AND ?2",
        "DELETE FROM user_call_permissions WHERE user_id BETWEEN ?1 AND ?2",
        "DELETE FROM users WHERE id BETWEEN ?1 AND ?2",
    ] {
        db.exec(sql, &range)?;
    }
    exec_for_ids(
        db,
        "DELETE FROM extensions WHERE line_id IS NULL AND id IN ({ids})",
        &numbers,
    )?;
    exec_for_ids(
        db,
        "DELETE FROM voicemails WHERE id IN ({ids})
         AND NOT EXISTS (SELECT 1 FROM user_voicemails WHERE voicemail_id = voicemails.id)",
        &boxes,
    )
}

/// Runs `sql` for `ids`, [`IDS_AT_ONCE`] at a time in place of its `{ids}`.
fn exec_for_ids(db: &dyn sql::Db, sql: &str, ids: &[i64]) -> Result<()> {
    for chunk in ids.chunks(IDS_AT_ONCE) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
        let params: Vec<sql::Param<'_>> = chunk.iter().map(|&id| id.into()).collect();
        db.exec(&sql.replace("{ids}", &list.join(", ")), &params)?;
    }
    Ok(())
}

/// The ids [`exec_for_ids`] puts in one statement.
const IDS_AT_ONCE: usize = 500;

/// Takes from a user the resources an update cannot empty (an undo setting the user back
/// to before the batch that gave them): its line with its extensions (`line`), or only
/// the line's extensions (`exten`), its voicemail box (`voicemail`: the link, and the box
/// when no one else has it) and its incoming calls with their numbers (`incalls`).
pub(crate) fn strip_user(
    db: &dyn sql::Db,
    user_id: i64,
    crate::domain::port::Strip {
        line,
        exten,
        voicemail,
        incalls,
    }: crate::domain::port::Strip,
) -> Result<()> {
    let run = |sql: &str| db.exec(sql, &[user_id.into()]).map(drop);
    // Unlinks the user (`unlink`) from what `owned` selects, then deletes each of those
    // that `orphan` (with ?1 the id) finds no longer used.
    let free = |owned: &str, unlink: &str, orphan: &str| -> Result<()> {
        let ids: Vec<i64> = db
            .rows(owned, &[user_id.into()])?
            .iter()
            .map(|r| r[0].int())
            .collect();
        run(unlink)?;
        for id in ids {
            db.exec(orphan, &[id.into()])?;
        }
        Ok(())
    };
    if incalls {
        free(
            "SELECT extension_id FROM incalls WHERE user_id = ?1",
            "DELETE FROM incalls WHERE user_id = ?1",
            "DELETE FROM extensions WHERE id = ?1 AND line_id IS NULL",
        )?;
    }
    if line || exten {
        run("DELETE FROM extensions WHERE line_id IN (SELECT id FROM lines WHERE user_id = ?1)")?;
    }
    if line {
        run("DELETE FROM lines WHERE user_id = ?1")?;
    }
    if voicemail {
        free(
            "SELECT voicemail_id FROM user_voicemails WHERE user_id = ?1",
            "DELETE FROM user_voicemails WHERE user_id = ?1",
            "DELETE FROM voicemails WHERE id = ?1
             AND NOT EXISTS (SELECT 1 FROM user_voicemails WHERE voicemail_id = ?1)",
        )?;
    }
    Ok(())
}

/// The URL a `--db` value holds, and how messages show it.
fn url_of(db: &Path) -> (String, PathBuf) {
    let url = db.as_os_str().to_string_lossy().into_owned();
    let shown = PathBuf::from(postgres::shown(&url));
    (url, shown)
}

/// The queries telling whether a unique column's value (`?1`) belongs to another user than
/// `?2` (null for none), one per unique column, from the registry's storage binding; built
/// once per transaction. The e-mail address compares without case: on SQLite through the
/// column's NOCASE collation (and so its index), on PostgreSQL through its index on
/// `lower(email)`.
pub fn unique_probes(dialect: select::Dialect) -> Vec<(crate::columns::Col, String)> {
    use crate::columns::{Col, Storage};
    crate::columns::unique()
        .map(|col| {
            let (table, column, owner) = match col.def().storage {
                Storage::User => ("users", col.name(), "id"),
                Storage::Line(column) => ("lines", column, "user_id"),
                other => unreachable!("{} is unique but stored as {other:?}", col.name()),
            };
            let compared = match (dialect, col) {
                (select::Dialect::Postgres, Col::Email) => format!("lower({column}) = lower(?1)"),
                _ => format!("{column} = ?1"),
            };
            let sql = format!(
                "SELECT EXISTS(SELECT 1 FROM {table} WHERE {compared} AND {owner} IS DISTINCT FROM CAST(?2 AS BIGINT))"
            );
            (col, sql)
        })
        .collect()
}

/// The probe of `col` among `probes` (see [`unique_probes`]).
pub(crate) fn probe_of(probes: &[(crate::columns::Col, String)], col: crate::columns::Col) -> &str {
    probes
        .iter()
        .find(|(c, _)| *c == col)
        .map(|(_, sql)| sql.as_str())
        .unwrap_or_else(|| unreachable!("{} is not a unique column", col.name()))
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
        for (col, probe) in unique_probes(select::Dialect::Sqlite) {
            let taken: bool = conn
                .query_row(&probe, rusqlite::params!["x", None::<i64>], |r| r.get(0))
                .unwrap_or_else(|e| panic!("{}: {e}", col.name()));
            assert!(!taken, "{}", col.name());
        }
    }
}
