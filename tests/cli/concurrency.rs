//! Two writers: the second waits a few seconds for the first, then fails with a clear
//! message, and the database stays whole.

use crate::workdir::Workdir;

#[test]
fn a_second_writer_waits_then_fails_clearly_and_writes_nothing() {
    let wd = Workdir::with_db();
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

#[test]
fn an_interrupted_import_leaves_the_database_as_it_was() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname\nAnn\n");
    let rows = 300_000;
    let mut csv = String::from("firstname,lastname,email\n");
    for i in 0..rows {
        csv.push_str(&format!("User {i},Last,user{i}@example.com\n"));
    }
    wd.write("big.csv", &csv);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ucsv"))
        .args(["--db", wd.db().to_str().unwrap(), "-q", "import", "big.csv"])
        .current_dir(wd.path("."))
        .spawn()
        .expect("start ucsv");
    std::thread::sleep(std::time::Duration::from_millis(700));
    let _ = child.kill(); // SIGKILL: no chance to clean up
    let status = child.wait().expect("wait for ucsv");
    let users = wd.count("users");
    if status.success() {
        assert_eq!(users, 1 + rows, "a finished import is all there");
    } else {
        assert_eq!(users, 1, "a killed import wrote nothing");
    }
    assert_eq!(wd.query_one("PRAGMA integrity_check"), "ok");
    // The database is usable afterwards.
    wd.import_ok("firstname\nBob\n");
    assert_eq!(wd.count("users"), users + 1);
}
