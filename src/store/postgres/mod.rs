//! The PostgreSQL backend's connection: the URL, connecting (a clear one-line error for a
//! bad URL, an unreachable server, wrong credentials or a missing database), the versioned
//! schema kept in `ucsv_schema` and migrated forward on open, and dropping the tables a
//! failed first run created.

pub mod db;
pub mod tx;

/// A connection, shared between a transaction and the thread that sends its COPY batches
/// while the next batch is planned (see [`tx::PgTx`]). Taken one user at a time.
#[derive(Clone)]
pub struct Conn(std::sync::Arc<std::sync::Mutex<Client>>);

impl Conn {
    pub fn new(client: Client) -> Conn {
        Conn(std::sync::Arc::new(std::sync::Mutex::new(client)))
    }

    /// The connection, once whoever holds it is done (a holder that panicked leaves it as
    /// it was: the transaction rolls back anyway).
    pub fn borrow_mut(&self) -> std::sync::MutexGuard<'_, Client> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The connection, when nobody else holds a share of it.
    pub fn into_inner(self) -> Option<Client> {
        std::sync::Arc::try_unwrap(self.0).ok().map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
    }
}

use crate::error::{Error, Result};
use db::{pg_params, placeholders};
use postgres::{Client, Config, NoTls};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// The schema migrations, in order; `ucsv_schema.version` counts those applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../schemas/postgres/0001_init.sql"),
    include_str!("../../../schemas/postgres/0002_user_settings.sql"),
    include_str!("../../../schemas/postgres/0003_accounts.sql"),
    SEARCH_INDEXES,
    include_str!("../../../schemas/postgres/0005_history.sql"),
];

/// The migration that adds the search's trigram indexes, when pg_trgm can be had.
const SEARCH_INDEXES: &str = include_str!("../../../schemas/postgres/0004_search.sql");

/// ucsv's tables, in the order they can be dropped.
const TABLES: [&str; 17] = [
    "batch_changes",
    "batches",
    "account_tenants",
    "accounts",
    "user_call_permissions",
    "user_voicemails",
    "voicemails",
    "incalls",
    "extensions",
    "lines",
    "users",
    "cti_profiles",
    "call_permissions",
    "context_ranges",
    "contexts",
    "entities",
    "ucsv_schema",
];

/// A lock key that serializes ucsv's schema changes between processes.
const SCHEMA_LOCK: i64 = 0x7563_7376_0001;

/// Whether a `--db` value is a PostgreSQL URL rather than a file.
pub fn is_url(db: &Path) -> bool {
    let s = db.as_os_str().to_string_lossy();
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The URL as messages show it: without its password.
pub fn shown(url: &str) -> String {
    match Config::from_str(url) {
        Ok(c) => {
            let user = c.get_user().unwrap_or("");
            let hosts: Vec<String> = c
                .get_hosts()
                .iter()
                .zip(c.get_ports().iter().chain(std::iter::repeat(&5432)))
                .map(|(h, p)| match h {
                    postgres::config::Host::Tcp(h) => format!("{h}:{p}"),
                    postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .collect();
            format!(
                "postgres://{user}@{}/{}",
                hosts.join(","),
                c.get_dbname().unwrap_or("")
            )
        }
        Err(_) => "postgres://(unreadable URL)".into(),
    }
}

/// A PostgreSQL failure as a one-line database error with a remedy; a server that cannot
/// be reached or that ended the connection (class 08, an administrator's shutdown) is
/// [`Error::Unavailable`].
pub fn error(path: &Path, e: postgres::Error) -> Error {
    let gone = e.is_closed()
        || e.as_db_error().is_some_and(|db| {
            let code = db.code().code();
            code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
        })
        || (e.as_db_error().is_none()
            && std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()));
    if gone {
        let mut message = e.to_string();
        if let Some(source) = std::error::Error::source(&e) {
            let source = source.to_string();
            if !message.contains(&source) {
                message = format!("{message}: {source}");
            }
        }
        return Error::Unavailable {
            path: path.to_path_buf(),
            message: message.replace('\n', " "),
        };
    }
    let (message, help) = match e.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            let help = match code {
                "28P01" | "28000" => "check the user name and password in the URL",
                "3D000" => "create the database first (e.g. `createdb NAME`): ucsv creates its tables in it",
                "40P01" => "another writer holds values this run needs at the same time; run it again",
                "40001" => "another writer changed the same rows at the same time; run it again",
                "23505" => "another writer stored the same value at the same time; run it again",
                c if c.starts_with("42") => {
                    "the database's tables are not the ones this ucsv expects"
                }
                _ => "check the PostgreSQL server's log for the cause",
            };
            (db.message().to_string(), help)
        }
        None => {
            let mut text = e.to_string();
            if let Some(source) = std::error::Error::source(&e) {
                let source = source.to_string();
                if !text.contains(&source) {
                    text = format!("{text}: {source}");
                }
            }
            (
                text,
                "check that the PostgreSQL server runs at the URL's host and port and accepts connections",
            )
        }
    };
    Error::Database {
        path: path.to_path_buf(),
        message: message.replace('\n', " "),
        help: help.into(),
    }
}

/// Connects to the URL.
pub fn connect(url: &str, shown: &Path) -> Result<Client> {
    let mut config = Config::from_str(url).map_err(|e| Error::Usage {
        message: format!("--db {}: not a usable PostgreSQL URL: {e}", shown.display()),
        help: "write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE".into(),
    })?;
    if config.get_ssl_mode() == postgres::config::SslMode::Require {
        return Err(Error::Usage {
            message: format!(
                "--db {}: sslmode=require asks for TLS, which ucsv does not speak",
                shown.display()
            ),
            help: "connect to a local server or through its Unix socket (postgres://USER@%2Frun%2Fpostgresql/DB), or through an SSH tunnel".into(),
        });
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("ucsv");
    config.connect(NoTls).map_err(|e| error(shown, e))
}

/// The schema version applied, or `None` when ucsv's tables are not there.
fn version(client: &mut Client, path: &Path) -> Result<Option<i64>> {
    let db = |e| error(path, e);
    let present: bool = client
        .query_one("SELECT to_regclass('ucsv_schema') IS NOT NULL", &[])
        .map_err(db)?
        .get(0);
    if !present {
        return Ok(None);
    }
    let v: i64 = client
        .query_one("SELECT max(version) FROM ucsv_schema", &[])
        .map_err(db)?
        .get::<_, Option<i64>>(0)
        .unwrap_or(0);
    Ok(Some(v))
}

/// Whether ucsv's tables exist in the database.
pub fn exists(client: &mut Client, path: &Path) -> Result<bool> {
    Ok(version(client, path)?.is_some())
}

/// Creates or migrates the schema forward, in one transaction that holds ucsv's schema lock
/// (two first runs at once create it once). Refuses tables of the same names that are not
/// ucsv's. Returns whether the tables were created.
pub fn migrate(client: &mut Client, path: &Path) -> Result<bool> {
    let db = |e| error(path, e);
    let mut tx = client.transaction().map_err(db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(db)?;
    let version = {
        let present: bool = tx
            .query_one("SELECT to_regclass('ucsv_schema') IS NOT NULL", &[])
            .map_err(db)?
            .get(0);
        if present {
            tx.query_one("SELECT max(version) FROM ucsv_schema", &[])
                .map_err(db)?
                .get::<_, Option<i64>>(0)
                .unwrap_or(0)
        } else {
            for t in &TABLES[..TABLES.len() - 1] {
                let clash: bool = tx
                    .query_one("SELECT to_regclass($1) IS NOT NULL", &[t])
                    .map_err(db)?
                    .get(0);
                if clash {
                    return Err(Error::Database {
                        path: path.to_path_buf(),
                        message: format!("this database has a table named {t} that is not ucsv's"),
                        help: "use another database (or schema) for ucsv".into(),
                    });
                }
            }
            tx.batch_execute("CREATE TABLE ucsv_schema (version bigint NOT NULL)")
                .map_err(db)?;
            0
        }
    };
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(Error::Database {
            path: path.to_path_buf(),
            message: format!("schema version {version} is newer than this ucsv knows"),
            help: "use a newer ucsv".into(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        if std::ptr::eq(*sql, SEARCH_INDEXES) {
            // Without the extension (not installed, or not this role's to add) the
            // indexes are left out: the search scans, with the same answers.
            tx.batch_execute("SAVEPOINT trgm").map_err(db)?;
            if tx
                .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .is_err()
            {
                tx.batch_execute("ROLLBACK TO SAVEPOINT trgm").map_err(db)?;
            } else {
                tx.batch_execute(sql).map_err(db)?;
            }
        } else {
            tx.batch_execute(sql).map_err(db)?;
        }
        tx.execute(
            "INSERT INTO ucsv_schema (version) VALUES ($1)",
            &[&(i as i64 + 1)],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)?;
    Ok(version == 0)
}

/// Drops every table of ucsv (after a failed first run created them).
pub fn drop_tables(client: &mut Client) {
    let sql: String = TABLES
        .iter()
        .map(|t| format!("DROP TABLE IF EXISTS {t};"))
        .collect();
    // Nothing to report on a failure: the command is failing already.
    let _ = client.batch_execute(&sql);
}

/// Streams the users (of `entity`, if given) in id order (see [`each_row`] and
/// [`super::Store::each_user`]).
pub fn each_user(
    client: &Conn,
    path: &Path,
    entity: Option<i64>,
    cols: &[crate::columns::Col],
    mut each: impl FnMut(&[Vec<u8>]) -> Result<()>,
) -> Result<u64> {
    let sql = super::select::select_in(
        super::select::Dialect::Postgres,
        cols,
        &[],
        "(CAST(?1 AS BIGINT) IS NULL OR u.entity_id = ?1)",
    );
    each_row(
        client,
        path,
        &sql,
        &[entity.into()],
        cols.len(),
        |_, cells| each(cells),
    )
}

/// Streams the rows of a query whose first column is an id and the others text, in a
/// read-only snapshot: the server sends the rows without waiting for the client to ask for
/// the next block (a portal's blocks would leave the server idle while the client writes
/// each one), and memory stays constant whatever the number of rows, since the connection
/// reads only as fast as `each` takes them (the socket's buffers hold the rows the server
/// is ahead by).
pub fn each_row(
    client: &Conn,
    path: &Path,
    sql: &str,
    params: &[super::sql::Param<'_>],
    width: usize,
    mut each: impl FnMut(i64, &[Vec<u8>]) -> Result<()>,
) -> Result<u64> {
    use postgres::fallible_iterator::FallibleIterator;
    let db = |e| error(path, e);
    let mut client = client.borrow_mut();
    // A read-only snapshot: the users as they were when the query began.
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(db)?;
    let sql = placeholders(sql);
    let mut cells: Vec<Vec<u8>> = vec![Vec::new(); width];
    let mut n = 0;
    {
        let mut rows = tx.query_raw(sql.as_ref(), pg_params(params)).map_err(db)?;
        while let Some(row) = rows.next().map_err(db)? {
            let id: i64 = row.try_get(0).map_err(db)?;
            for (i, cell) in cells.iter_mut().enumerate() {
                cell.clear();
                if let Some(text) = row.try_get::<_, Option<&str>>(i + 1).map_err(db)? {
                    cell.extend_from_slice(text.as_bytes());
                }
            }
            each(id, &cells)?;
            n += 1;
        }
    }
    tx.commit().map_err(db)?;
    Ok(n)
}
