//! What only PostgreSQL has: URLs that cannot be used (a clear one-line error, exit 2, no
//! secret shown), a database that is not there, tables of another program, and several
//! writers at once (SPEC §10). The tests that need a server run in the PostgreSQL pass of
//! the suite (`UCSV_TEST_POSTGRES` set, `-- --include-ignored`); those that need none run
//! always.

use crate::workdir::{postgres_server, PgDatabase, Workdir};

const NEEDS_SERVER: &str = "UCSV_TEST_POSTGRES names the PostgreSQL server these tests run on";

/// The test server's password, if its URL has one.
fn server_password() -> Option<String> {
    let admin = postgres_server().expect(NEEDS_SERVER);
    let config: postgres::Config = admin.parse().expect("a PostgreSQL URL");
    config
        .get_password()
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

/// A URL of the test server with another database name and user password.
fn url_on_server(database: &str, password: Option<&str>) -> String {
    let admin = postgres_server().expect(NEEDS_SERVER);
    let config: postgres::Config = admin.parse().expect("a PostgreSQL URL");
    let host = match &config.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let auth = password.map_or(String::new(), |p| format!(":{p}"));
    format!("postgres://{user}{auth}@{host}:{port}/{database}")
}

/// Runs `ucsv --db URL ARGS` in a fresh directory.
fn run_on(url: &str, args: &[&str]) -> (Workdir, crate::workdir::Run) {
    let wd = Workdir::sqlite();
    wd.write("users.csv", "firstname\nJane\n");
    let mut cmd = wd.bare_cmd(&["--db", url]);
    cmd.args(args);
    let out = cmd.output().expect("run ucsv");
    let run = crate::workdir::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (wd, run)
}

/// Asserts a fatal error: exit 2, one error line naming `what`, the secret nowhere.
#[track_caller]
fn assert_clear_failure(run: &crate::workdir::Run, what: &str, secret: &str) {
    run.expect(2);
    assert!(
        run.stderr_mentions(what),
        "stderr should mention {what:?}: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains(secret) && !run.stdout.contains(secret),
        "the password is shown: {}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("panicked"),
        "a panic instead of an error: {}",
        run.stderr
    );
}

#[test]
fn a_url_that_cannot_be_read_is_a_usage_error_without_its_password() {
    for url in [
        "postgres://jane:hunter2secret@localhost:notaport/db",
        "postgresql://jane:hunter2secret@localhost:5432/db?sslmode=bogus",
    ] {
        let (wd, run) = run_on(url, &["import", "users.csv"]);
        assert_clear_failure(&run, "not a usable PostgreSQL URL", "hunter2secret");
        assert!(run.stderr_mentions("postgres://USER"), "{}", run.stderr);
        assert!(!wd.path("ucsv.db").exists(), "no SQLite file made instead");
    }
    let (_, run) = run_on(
        "postgres://jane:hunter2secret@localhost/db?sslmode=require",
        &["export"],
    );
    assert_clear_failure(&run, "sslmode=require asks for TLS", "hunter2secret");
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // Nothing listens on port 1.
    let url = "postgres://jane:hunter2secret@127.0.0.1:1/ucsv";
    for args in [
        &["import", "users.csv"][..],
        &["export"][..],
        &["init"][..],
        &["validate", "users.csv"][..],
        &["reference", "show"][..],
    ] {
        let (_, run) = run_on(url, args);
        assert_clear_failure(&run, "127.0.0.1:1", "hunter2secret");
        assert!(
            run.stderr_mentions("check that the PostgreSQL server runs"),
            "{}",
            run.stderr
        );
    }
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn a_missing_database_is_a_clear_error_and_nothing_is_created() {
    let password = server_password().unwrap_or_else(|| "hunter2secret".into());
    let url = url_on_server("ucsv_no_such_database", Some(&password));
    let (_, run) = run_on(&url, &["import", "users.csv"]);
    assert_clear_failure(
        &run,
        "database \"ucsv_no_such_database\" does not exist",
        &password,
    );
    assert!(run.stderr_mentions("createdb"), "{}", run.stderr);
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn a_url_with_a_password_never_shows_it() {
    let pg = PgDatabase::create(&postgres_server().expect(NEEDS_SERVER));
    let name = pg
        .url
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_string();
    // The server's own password when it asks for one (a server that trusts 127.0.0.1
    // ignores it).
    let password = server_password().unwrap_or_else(|| "hunter2secret".into());
    let url = url_on_server(&name, Some(&password));
    let (wd, run) = run_on(&url, &["import", "users.csv"]);
    run.expect(0);
    assert!(
        run.stderr.contains("created database postgres://"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&password), "{}", run.stderr);
    // UCSV_DB works like --db.
    let mut cmd = wd.bare_cmd(&["export"]);
    cmd.env("UCSV_DB", &url);
    let out = cmd.output().expect("run ucsv");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Jane"));
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn tables_of_another_program_are_refused_and_left_alone() {
    let wd = Workdir::new();
    assert!(wd.is_postgres(), "{NEEDS_SERVER}");
    wd.execute(
        "CREATE TABLE users (id int PRIMARY KEY, login text); INSERT INTO users VALUES (1, 'x')",
    );
    wd.write("users.csv", "firstname\nJane\n");
    let run = wd.run(&["import", "users.csv"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("has a table named users that is not ucsv's"),
        "{}",
        run.stderr
    );
    assert_eq!(wd.query_strings("SELECT login FROM users"), ["x"]);
    assert_eq!(
        wd.query_one("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
        "1",
        "nothing else was created"
    );
}

/// The binary with `--db`, as a process to start.
fn ucsv(wd: &Workdir, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ucsv"));
    cmd.arg("--db")
        .arg(wd.db())
        .args(args)
        .current_dir(wd.dir())
        .env_remove("UCSV_DB");
    cmd
}

/// `n` rows of users named `<prefix>-<i>`, each with a line and an extension from `first`.
fn users(prefix: &str, first: u32, n: u32) -> String {
    let mut csv = String::from("firstname,username,line_protocol,context,exten\n");
    for i in 0..n {
        csv += &format!("{prefix},{prefix}-{i},sip,default,{}\n", first + i);
    }
    csv
}

/// Each import draws 9,000 provisioning codes: more than the server's lock table would
/// hold with a lock per code (64 per connection by default), so the claims must stay few.
#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn two_imports_of_disjoint_files_at_once_both_commit() {
    let wd = Workdir::with_reference(
        "[[entity]]\nid = 1\nname = \"default\"\n\n[[context]]\nname = \"default\"\nentity = 1\ntype = \"internal\"\nranges = [\"100000-199999\"]\n",
    );
    assert!(wd.is_postgres(), "{NEEDS_SERVER}");
    wd.write("a.csv", users("a", 100000, 9000));
    wd.write("b.csv", users("b", 150000, 9000));
    let spawn = |file: &str| {
        ucsv(&wd, &["import", file, "--format", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start ucsv")
    };
    let (a, b) = (spawn("a.csv"), spawn("b.csv"));
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait for ucsv");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(wd.count("users"), 18000);
    assert_eq!(wd.count("extensions"), 18000);
    assert_eq!(
        wd.query_one("SELECT count(DISTINCT provisioning_code) FROM lines"),
        "18000"
    );
    // The ranges of codes drawn from are released with the transactions (the locks of this
    // database: other tests run on the same server at the same time).
    assert_eq!(
        wd.query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        "0"
    );
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn a_value_another_writer_stores_meanwhile_is_a_row_error_not_a_duplicate() {
    let wd = Workdir::with_db();
    assert!(wd.is_postgres(), "{NEEDS_SERVER}");
    // Another writer has stored username "taken" but not committed yet.
    let mut other =
        postgres::Client::connect(&wd.db().display().to_string(), postgres::NoTls).unwrap();
    let mut tx = other.transaction().unwrap();
    tx.batch_execute(
        "INSERT INTO users (uuid, entity_id, subscription_type, firstname, enabled, ring_seconds,
            simultaneous_calls, supervision_enabled, call_transfer_enabled, dtmf_hangup_enabled,
            call_record_outgoing_external_enabled, call_record_outgoing_internal_enabled,
            call_record_incoming_external_enabled, call_record_incoming_internal_enabled,
            online_call_record_enabled, username)
         VALUES ('0190a0a0-0000-7000-8000-000000000001', 1, 0, 'Other', 1, 30, 5, 1, 0, 0, 0, 0, 0, 0, 0, 'taken');",
    )
    .unwrap();
    // ucsv imports three users; the second wants the same username. It waits for the other
    // writer, which commits.
    wd.write(
        "f.csv",
        "firstname,username,line_protocol,context,exten\nAnn,ann,sip,default,1000\nBob,taken,sip,default,1001\nCid,cid,sip,default,1002\n",
    );
    let child = ucsv(
        &wd,
        &["import", "f.csv", "--format", "json", "--keep-going"],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("start ucsv");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    tx.commit().unwrap();
    let out = child.wait_with_output().expect("wait for ucsv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    let codes: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row_number"].as_u64().unwrap(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [(2, "username.duplicate".to_string())],
        "the row loses the race and says why: {report}"
    );
    assert_eq!(report["summary"]["created"]["users"], 2);
    assert_eq!(
        wd.query_strings("SELECT username FROM users ORDER BY username"),
        ["ann", "cid", "taken"],
        "one user holds the value; nothing is duplicated"
    );
    assert_eq!(
        wd.query_strings("SELECT exten FROM extensions ORDER BY exten"),
        ["1000", "1002"],
        "the losing row's number is not kept"
    );
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn export_writes_the_same_bytes_as_on_sqlite() {
    let fixture = crate::workdir::fixture("good/wazo_export.csv");
    let fixture = fixture.to_str().expect("a UTF-8 path");
    let exports: Vec<Vec<u8>> = [Workdir::sqlite_with_db(), Workdir::with_db()]
        .iter()
        .map(|wd| {
            wd.run(&["import", fixture, "-q"]).expect(0);
            wd.run(&["export", "-o", "all.csv"]).expect(0);
            wd.read_bytes("all.csv")
        })
        .collect();
    assert!(exports[0].len() > 500, "the fixture exports its users");
    assert!(
        exports[0] == exports[1],
        "SQLite:\n{}\nPostgreSQL:\n{}",
        String::from_utf8_lossy(&exports[0]),
        String::from_utf8_lossy(&exports[1])
    );
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn wrong_credentials_are_a_clear_error() {
    let pg = PgDatabase::create(&postgres_server().expect(NEEDS_SERVER));
    let name = pg
        .url
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_string();
    let url = url_on_server(&name, Some("hunter2secret")).replacen(
        "postgres:hunter2secret@",
        "nobody_here:hunter2secret@",
        1,
    );
    let (_, run) = run_on(&url, &["import", "users.csv"]);
    // A server with password authentication refuses the password; one that trusts local
    // connections refuses the unknown role: either way, the credentials are named.
    run.expect(2);
    assert!(
        run.stderr_mentions("password authentication failed")
            || run.stderr_mentions("role \"nobody_here\" does not exist"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr_mentions("check the user name and password"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("hunter2secret"), "{}", run.stderr);
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn the_search_goes_through_the_trigram_indexes() {
    let wd = Workdir::with_db();
    assert!(wd.is_postgres(), "{NEEDS_SERVER}");
    let indexes = wd.query_strings(
        "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%search%' ORDER BY 1",
    );
    assert_eq!(
        indexes,
        [
            "extensions_search",
            "users_search_email",
            "users_search_firstname",
            "users_search_lastname",
            "users_search_username"
        ],
        "pg_trgm is installed (PostgreSQL's contrib), so the migration adds the indexes"
    );
    wd.write("users.csv", users("Searchable", 1000, 1000));
    wd.run(&["import", "users.csv"]).expect(0);
    wd.execute("ANALYZE users");
    let run = wd.run(&["user", "list", "--search", "able-234", "--format", "json"]);
    run.expect(0);
    let list: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(list["total"], 1, "{}", run.stdout);
    // The statistics of the ucsv process are flushed when it ends.
    let scans: i64 = wd
        .query_one(
            "SELECT sum(idx_scan) FROM pg_stat_user_indexes WHERE indexrelname LIKE 'users_search_%'",
        )
        .parse()
        .unwrap();
    assert!(scans > 0, "the search went through the trigram indexes");
}
