//! The harness of the CLI tests: a temporary directory to write input files into, the real
//! `ucsv` binary run inside it against `<dir>/ucsv.db`, the JSON report parsed, and the
//! SQLite file queried directly.

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
    /// A fresh, empty directory (no database yet).
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::Builder::new()
                .prefix("ucsv-test-")
                .tempdir()
                .expect("create a temporary directory"),
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

    /// The database the commands use.
    pub fn db(&self) -> PathBuf {
        self.path("ucsv.db")
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

    /// A connection to the database.
    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db())
            .unwrap_or_else(|e| panic!("open {}: {e}", self.db().display()))
    }

    /// Deletes users by firstname as another program would, with SQLite's foreign keys on:
    /// their lines go, and their extensions stay, free (the schema sets `line_id` to NULL).
    pub fn delete_users(&self, firstnames: &[&str]) {
        let conn = self.conn();
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .expect("turn foreign keys on");
        for name in firstnames {
            conn.execute("DELETE FROM users WHERE firstname = ?1", [name])
                .unwrap_or_else(|e| panic!("delete user {name}: {e}"));
        }
    }

    /// The rows of a query, each cell as text (`NULL` for null).
    pub fn query_rows(&self, sql: &str) -> Vec<Vec<String>> {
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
        self.conn()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
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
