//! Two writers: the second waits a few seconds for the first, then fails with a clear
//! message, and the database stays whole. A writer killed mid-write leaves the database as
//! it was.

use crate::workdir::Workdir;

#[test]
fn a_second_writer_waits_then_fails_clearly_and_writes_nothing() {
    let wd = Workdir::sqlite_with_db();
    wd.import_ok("firstname\nAnn\n");
    // Another writer holds the write lock for longer than ucsv waits.
    let holder = wd.conn();
    holder
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO cti_profiles (name) VALUES ('held');")
        .unwrap();
    let started = std::time::Instant::now();
    let run = wd.run(&["import", "input.csv"]);
    run.expect(2);
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(4),
        "it waited for the lock"
    );
    assert!(run.stderr.contains("locked"), "{}", run.stderr);
    assert!(
        run.stderr.contains("another ucsv"),
        "the help says why: {}",
        run.stderr
    );
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(
        wd.count("users"),
        1,
        "nothing of the second import was written"
    );
    assert_eq!(
        wd.query_one("PRAGMA integrity_check"),
        "ok",
        "the database is whole"
    );
}

/// Polls `ready` every 10 ms until it holds, or panics with `what` after `limit`.
#[track_caller]
fn wait_for(what: &str, limit: std::time::Duration, mut ready: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !ready() {
        assert!(
            started.elapsed() < limit,
            "gave up after {limit:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn an_interrupted_import_leaves_the_database_as_it_was() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,lastname,exten,context,line_protocol\nAnn,Before,1000,default,sip\n");
    let before = wd.dump();
    let counts_before = wd.counts();
    // Every 50th row lacks its firstname. With --keep-going a finished run would commit the
    // other rows, so "nothing changed" can only come from the kill; and the rejected rows are
    // written to --errors as the single writer reaches them, inside its transaction: the
    // file growing is the positive sign that rows are being written (a sleep would kill at a
    // time that means nothing on a fast or a loaded machine).
    let rows = 200_000;
    let mut csv = String::from("firstname,lastname,email\n");
    for i in 0..rows {
        let first = if i % 50 == 49 {
            String::new()
        } else {
            format!("User {i}")
        };
        csv.push_str(&format!("{first},Last,user{i}@example.com\n"));
    }
    wd.write("big.csv", &csv);
    let stderr = std::fs::File::create(wd.path("stderr.txt")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ucsv"))
        .args(["--db", wd.db().to_str().unwrap(), "-q", "import", "big.csv"])
        .args(["--keep-going", "--errors", "errors.csv", "--no-progress"])
        .current_dir(wd.dir())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start ucsv");
    // The errors file is buffered (8 KiB) and written beside its target as `.ucsv-*.tmp`
    // until the run completes: 16 KiB there means about 200 rejected rows, so some 10,000
    // rows applied, with some 190,000 still to go before the commit.
    let growing = || {
        std::fs::read_dir(wd.dir())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".ucsv-"))
            .any(|e| e.metadata().is_ok_and(|m| m.len() >= 16 << 10))
    };
    let mut exited = None;
    wait_for(
        "the import to write 16 KiB of errors",
        std::time::Duration::from_secs(60),
        || {
            exited = child.try_wait().expect("poll ucsv");
            exited.is_some() || growing()
        },
    );
    assert!(
        exited.is_none(),
        "ucsv ended ({exited:?}) before it could be killed mid-write; stderr:\n{}",
        wd.read("stderr.txt")
    );
    child.kill().expect("SIGKILL ucsv"); // no chance to clean up or roll back
    let status = child.wait().expect("wait for ucsv");
    assert!(
        !status.success(),
        "the import finished before the kill landed ({status}); it must be killed mid-write"
    );
    assert_eq!(
        wd.counts(),
        counts_before,
        "a killed import wrote nothing: table counts are as before"
    );
    assert!(
        !wd.path("errors.csv").exists(),
        "a killed run puts no partial errors file in place"
    );
    assert_eq!(
        wd.dump(),
        before,
        "every user row is as it was before the import"
    );
    if !wd.is_postgres() {
        // PostgreSQL checks its foreign keys on every write and has no such pragmas.
        assert_eq!(wd.query_one("PRAGMA integrity_check"), "ok");
        assert_eq!(
            wd.query_strings("PRAGMA foreign_key_check"),
            Vec::<String>::new(),
            "no dangling reference"
        );
    }
    // The database is usable afterwards: an import and its rows are there.
    let report = wd.import_ok("firstname,exten,context,line_protocol\nBob,1001,default,sip\n");
    assert_eq!(report.created("users"), 1);
    assert_eq!(wd.count("users"), 2, "Ann from before and Bob from after");
}
