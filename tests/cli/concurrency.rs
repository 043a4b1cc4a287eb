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
