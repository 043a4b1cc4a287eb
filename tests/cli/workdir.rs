//! The harness of the CLI tests: a temporary directory to write input files into, the real
//! `ucsv` binary run inside it against its database, the JSON report parsed, and the
//! database queried directly.
//!
//! The database is `<dir>/ucsv.db` (SQLite), or, when `UCSV_TEST_POSTGRES` holds the URL of
//! a PostgreSQL server (any database of it, for creating others), a fresh PostgreSQL
//! database made for the test and dropped after it: the same tests then run on that
//! backend (`.ci/run` runs the suite both ways). Tests about SQLite files themselves ask for
//! [`Workdir::sqlite`].

use assert_cmd::Command;
use rusqlite::types::Value as Sql;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The tables of the storage contract (SPEC §6), reference data first.
pub const TABLES: [&str; 12] = [
    "entities",
    "contexts",
    "context_ranges",
    "call_permissions",
    "cti_profiles",
    "users",
    "lines",
    "extensions",
    "incalls",
    "voicemails",
    "user_voicemails",
    "user_call_permissions",
];

/// A temporary working directory holding the input files and the database.
pub struct Workdir {
    dir: tempfile::TempDir,
    /// The PostgreSQL database of the test, if it runs on PostgreSQL.
    pg: Option<PgDatabase>,
}

/// A PostgreSQL database made for one test, dropped with it.
pub struct PgDatabase {
    /// The server's URL the database was created through.
    admin: String,
    /// The database's name.
    name: String,
    /// The URL `--db` gets.
    pub url: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The PostgreSQL server the tests run against, if any (`UCSV_TEST_POSTGRES`).
pub fn postgres_server() -> Option<String> {
    std::env::var("UCSV_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

impl PgDatabase {
    /// A new, empty database on the server `admin` names.
    pub fn create(admin: &str) -> PgDatabase {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "ucsv_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut c = postgres::Client::connect(admin, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to UCSV_TEST_POSTGRES ({admin}): {e}"));
        // One statement a call: CREATE DATABASE cannot run in a transaction block.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            c.batch_execute(&sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        }
        let url = url_with_database(admin, &name);
        PgDatabase {
            admin: admin.to_string(),
            name,
            url,
        }
    }
}

/// The URL with its database name replaced.
fn url_with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        out = format!("{out}?{q}");
    }
    out
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// The exit status (-1 if killed by a signal).
    pub code: i32,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text.
    pub stderr: String,
}

impl Run {
    /// Asserts the exit status, showing both outputs when it differs.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "exit status: expected {code}, got {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// The `--format json` report printed on stdout.
    #[track_caller]
    pub fn report(&self) -> Report {
        match serde_json::from_str(&self.stdout) {
            Ok(v) => Report(v),
            Err(e) => panic!(
                "stdout is not a JSON report ({e})\n--- stdout ---\n{}\n--- stderr ---\n{}",
                self.stdout, self.stderr
            ),
        }
    }

    /// Standard error with miette's line wrapping undone: box-drawing gutters removed and
    /// runs of whitespace collapsed, so messages can be searched as one line.
    pub fn stderr_flat(&self) -> String {
        flatten(&self.stderr)
    }

    /// Whether stderr holds `text`, ignoring whitespace and miette's gutters (a wrapped
    /// message may break a line anywhere, even inside a word such as `1999-1000`).
    pub fn stderr_mentions(&self, text: &str) -> bool {
        let squeeze = |s: &str| flatten(s).replace(' ', "");
        squeeze(&self.stderr).contains(&squeeze(text))
    }
}

/// Collapses whitespace and removes miette's gutter characters.
pub fn flatten(text: &str) -> String {
    text.replace(['│', '╭', '╰', '─', '·', '┬'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A parsed JSON report, with accessors for what tests look at most.
#[derive(Debug, Clone)]
pub struct Report(pub Value);

impl std::ops::Deref for Report {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

impl Report {
    /// Every error as `(row_number, column, code)`, in report order.
    pub fn errors(&self) -> Vec<(u64, String, String)> {
        issues(&self.0["errors"])
    }

    /// Every warning as `(row_number or 0, column, code)`, in report order.
    pub fn warnings(&self) -> Vec<(u64, String, String)> {
        issues(&self.0["warnings"])
    }

    /// The error codes of one data row, in report order.
    pub fn codes_of_row(&self, row: u64) -> Vec<String> {
        self.errors()
            .into_iter()
            .filter(|(r, _, _)| *r == row)
            .map(|(_, _, code)| code)
            .collect()
    }

    /// Every error code, in report order.
    pub fn codes(&self) -> Vec<String> {
        self.errors().into_iter().map(|(_, _, c)| c).collect()
    }

    /// `summary.created.<what>`.
    pub fn created(&self, what: &str) -> u64 {
        self.0["summary"]["created"][what]
            .as_u64()
            .unwrap_or_else(|| panic!("summary.created.{what} missing in {}", self.0))
    }

    /// `summary.rejected`.
    pub fn rejected(&self) -> u64 {
        self.0["summary"]["rejected"]
            .as_u64()
            .unwrap_or_else(|| panic!("summary.rejected missing in {}", self.0))
    }

    /// The `created` entry of a data row.
    pub fn created_row(&self, row: u64) -> &Value {
        self.0["created"]
            .as_array()
            .and_then(|a| a.iter().find(|c| c["row_number"] == row))
            .unwrap_or_else(|| panic!("no created entry for row {row} in {}", self.0))
    }
}

fn issues(list: &Value) -> Vec<(u64, String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list of issues: {list}"))
        .iter()
        .map(|e| {
            (
                e["row_number"].as_u64().unwrap_or(0),
                e["column"].as_str().unwrap_or("").to_string(),
                e["code"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// A checked-in file under `fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

impl Workdir {
    /// A fresh, empty directory, and a database on the backend under test that holds no
    /// ucsv tables yet.
    pub fn new() -> Workdir {
        let mut wd = Workdir::sqlite();
        wd.pg = postgres_server().map(|admin| PgDatabase::create(&admin));
        wd
    }

    /// A fresh, empty directory whose database is an SQLite file (not made yet), whatever
    /// the backend under test: for tests about the file itself.
    pub fn sqlite() -> Workdir {
        Workdir {
            dir: tempfile::Builder::new()
                .prefix("ucsv-test-")
                .tempdir()
                .expect("create a temporary directory"),
            pg: None,
        }
    }

    /// Whether the database is a PostgreSQL one.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// A directory whose SQLite database file was created by `ucsv init`, whatever the
    /// backend under test: for tests about the file or SQLite's locking.
    pub fn sqlite_with_db() -> Workdir {
        let wd = Workdir::sqlite();
        wd.run(&["init"]).expect(0);
        wd
    }

    /// Whether the database exists: the file, or ucsv's tables in the PostgreSQL database.
    pub fn has_database(&self) -> bool {
        if self.is_postgres() {
            self.query_one("SELECT to_regclass('ucsv_schema') IS NOT NULL") == "t"
        } else {
            self.db().exists()
        }
    }

    /// What the whole database holds, to tell whether anything changed: the file's bytes,
    /// or on PostgreSQL every row of every table of ucsv.
    pub fn fingerprint(&self) -> Vec<u8> {
        if self.is_postgres() {
            let mut all = format!("{:?}", self.dump());
            for t in &TABLES[..5] {
                all += &format!(
                    "{:?}",
                    self.query_rows(&format!("SELECT * FROM {t} ORDER BY 1"))
                );
            }
            all.into_bytes()
        } else {
            self.read_bytes("ucsv.db")
        }
    }

    /// A directory whose database was created by `ucsv init` (default reference data).
    pub fn with_db() -> Workdir {
        let wd = Workdir::new();
        wd.run(&["init"]).expect(0);
        wd
    }

    /// A directory whose database was created by `ucsv init --reference` with `toml`.
    pub fn with_reference(toml: &str) -> Workdir {
        let wd = Workdir::new();
        wd.write("reference.toml", toml);
        wd.run(&["init", "--reference", "reference.toml"]).expect(0);
        wd
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The database the commands use (`--db`): the file, or the PostgreSQL URL.
    pub fn db(&self) -> PathBuf {
        match &self.pg {
            Some(pg) => PathBuf::from(&pg.url),
            None => self.path("ucsv.db"),
        }
    }

    /// Writes a file into the directory.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {name}: {e}"));
        path
    }

    /// Reads a file of the directory as text.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// Reads a file of the directory as bytes.
    pub fn read_bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// The binary with `--db <dir>/ucsv.db`, run inside the directory, without `$UCSV_DB`.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.bare_cmd(&[]);
        cmd.arg("--db").arg(self.db()).args(args);
        cmd
    }

    /// The binary run inside the directory, without `$UCSV_DB` and without `--db`.
    pub fn bare_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ucsv"));
        cmd.current_dir(self.dir.path())
            .env_remove("UCSV_DB")
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    /// Runs the binary with `--db` and returns its status and outputs.
    pub fn run(&self, args: &[&str]) -> Run {
        capture(self.cmd(args))
    }

    /// Runs the binary with `--db`, feeding `input` on standard input.
    pub fn run_stdin(&self, args: &[&str], input: impl Into<Vec<u8>>) -> Run {
        let mut cmd = self.cmd(args);
        cmd.write_stdin(input);
        capture(cmd)
    }

    /// Writes `csv` to `input.csv` and runs `import input.csv --format json <extra>`.
    pub fn import(&self, csv: &str, extra: &[&str]) -> Run {
        self.write("input.csv", csv);
        let mut args = vec!["import", "input.csv", "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// Imports `csv` and asserts that every row was applied.
    #[track_caller]
    pub fn import_ok(&self, csv: &str) -> Report {
        let run = self.import(csv, &[]);
        run.expect(0);
        run.report()
    }

    /// A connection to the SQLite database (tests of SQLite itself: see [`Workdir::sqlite`]).
    #[track_caller]
    pub fn conn(&self) -> rusqlite::Connection {
        assert!(
            self.pg.is_none(),
            "an SQLite connection asked for on PostgreSQL: make this test's Workdir with Workdir::sqlite()"
        );
        rusqlite::Connection::open(self.db())
            .unwrap_or_else(|e| panic!("open {}: {e}", self.db().display()))
    }

    /// A connection to the PostgreSQL database.
    fn pg_client(&self, pg: &PgDatabase) -> postgres::Client {
        postgres::Client::connect(&pg.url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("connect to {}: {e}", pg.url))
    }

    /// Runs statements (no result) on the database, as another program would.
    pub fn execute(&self, sql: &str) {
        match &self.pg {
            Some(pg) => self
                .pg_client(pg)
                .batch_execute(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e:?}")),
            None => {
                let conn = self.conn();
                conn.execute_batch("PRAGMA foreign_keys = ON")
                    .expect("turn foreign keys on");
                conn.execute_batch(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
        }
    }

    /// Deletes users by firstname as another program would, with foreign keys on: their
    /// lines go, and their extensions stay, free (the schema sets `line_id` to NULL).
    pub fn delete_users(&self, firstnames: &[&str]) {
        for name in firstnames {
            assert!(!name.contains('\''), "a plain name");
            self.execute(&format!("DELETE FROM users WHERE firstname = '{name}'"));
        }
    }

    /// The rows of a query, each cell as text (`NULL` for null).
    pub fn query_rows(&self, sql: &str) -> Vec<Vec<String>> {
        if let Some(pg) = &self.pg {
            let mut client = self.pg_client(pg);
            let messages = client
                .simple_query(sql)
                .unwrap_or_else(|e| panic!("query {sql}: {e:?}"));
            return messages
                .into_iter()
                .filter_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(r) => Some(
                        (0..r.len())
                            .map(|i| r.get(i).unwrap_or("NULL").to_string())
                            .collect(),
                    ),
                    _ => None,
                })
                .collect();
        }
        let conn = self.conn();
        let mut st = conn
            .prepare(sql)
            .unwrap_or_else(|e| panic!("prepare {sql}: {e}"));
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, Sql>(i).map(sql_text))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap_or_else(|e| panic!("query {sql}: {e}"));
        rows.map(|r| r.unwrap_or_else(|e| panic!("row of {sql}: {e}")))
            .collect()
    }

    /// The first column of each row of a query, as text (`NULL` for null).
    pub fn query_strings(&self, sql: &str) -> Vec<String> {
        self.query_rows(sql)
            .into_iter()
            .map(|mut r| r.swap_remove(0))
            .collect()
    }

    /// The single value of a query, as text.
    #[track_caller]
    pub fn query_one(&self, sql: &str) -> String {
        let mut all = self.query_strings(sql);
        assert_eq!(all.len(), 1, "{sql} returned {all:?}");
        all.swap_remove(0)
    }

    /// The number of rows of a table.
    pub fn count(&self, table: &str) -> i64 {
        // Table names cannot be bound as parameters; these come from the tests themselves.
        self.query_one(&format!("SELECT count(*) FROM {table}"))
            .parse()
            .unwrap_or_else(|e| panic!("count {table}: {e}"))
    }

    /// The row count of every contract table, for before/after comparisons.
    pub fn counts(&self) -> Vec<(&'static str, i64)> {
        TABLES.iter().map(|t| (*t, self.count(t))).collect()
    }

    /// Every row of the user-related tables, to compare the database before and after.
    pub fn dump(&self) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for t in &TABLES[5..] {
            all.extend(self.query_rows(&format!("SELECT '{t}', * FROM {t} ORDER BY 2, 3")));
        }
        all
    }

    /// `reference show --format json`, parsed.
    pub fn reference(&self) -> Value {
        let run = self.run(&["reference", "show", "--format", "json"]);
        run.expect(0);
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("reference show is not JSON ({e}): {}", run.stdout))
    }
}

fn sql_text(v: Sql) -> String {
    match v {
        Sql::Null => "NULL".into(),
        Sql::Integer(i) => i.to_string(),
        Sql::Real(f) => f.to_string(),
        Sql::Text(s) => s,
        Sql::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
    }
}

fn capture(mut cmd: Command) -> Run {
    let out = cmd.output().expect("run the ucsv binary");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Builds CSV text: a header, then rows that fill some columns and leave the rest empty.
pub struct Table {
    columns: Vec<String>,
    text: String,
}

impl Table {
    /// A table with these columns (the header line is written at once).
    pub fn new(columns: &[&str]) -> Table {
        let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        let text = columns.join(",") + "\n";
        Table { columns, text }
    }

    /// Adds a row; columns not named are empty. Panics on a column not in the header.
    pub fn row(mut self, cells: &[(&str, &str)]) -> Table {
        for (name, _) in cells {
            assert!(
                self.columns.iter().any(|c| c == name),
                "column {name} is not in the table's header {:?}",
                self.columns
            );
        }
        let fields: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let v = cells
                    .iter()
                    .rev()
                    .find(|(n, _)| n == c)
                    .map_or("", |(_, v)| *v);
                quote(v)
            })
            .collect();
        let _ = writeln!(self.text, "{}", fields.join(","));
        self
    }

    /// The CSV text.
    pub fn csv(&self) -> String {
        self.text.clone()
    }
}

/// Quotes a CSV field when it needs it.
pub fn quote(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}
