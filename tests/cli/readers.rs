//! Dry runs (`validate`, `--dry-run`) never take the write lock: they run beside an import
//! and answer as that import would against the same committed snapshot.

use crate::workdir::Workdir;
use serde_json::Value;
use std::time::{Duration, Instant};

const EXISTING: &str = "firstname,email,line_protocol,context,exten,voicemail_name,voicemail_number,voicemail_context\n\
    Ann,ann@example.com,sip,default,1000,Ann,1100,default\n";

/// A file with something of everything: good rows, a number in use in the database, a
/// duplicate in the file, a shared voicemail box.
const FILE: &str = "firstname,email,line_protocol,context,exten,voicemail_name,voicemail_number,voicemail_context\n\
    Bob,bob@example.com,sip,default,1001,,,\n\
    Cid,cid@example.com,sccp,default,1000,,,\n\
    Dan,bob@example.com,sip,default,1002,,,\n\
    Eve,eve@example.com,sip,default,1003,Ann,1100,default\n\
    Fay,fay@example.com,,,,,,\n";

/// The parts of a report that a dry run and a real run share (UUIDs are random).
/// A report without what differs between a dry run and a real one: the command, the
/// flags, the generated uuids, and on PostgreSQL the new rows' ids (its sequences move on
/// in a dry run that is rolled back, as they do for any transaction).
fn answers(wd: &Workdir, report: &Value) -> Value {
    let mut r = report.clone();
    for key in ["command", "dry_run", "committed"] {
        r.as_object_mut().unwrap().remove(key);
    }
    for c in r["created"].as_array_mut().unwrap() {
        let c = c.as_object_mut().unwrap();
        c.remove("user_uuid");
        if wd.is_postgres() {
            for id in ["user_id", "line_id", "extension_id", "incall_ids"] {
                c.remove(id);
            }
        }
    }
    r
}

#[test]
fn validate_runs_beside_a_writer_holding_the_lock() {
    let wd = Workdir::sqlite_with_db();
    wd.import_ok(EXISTING);
    wd.write("f.csv", FILE);
    wd.run(&["export", "-o", "upd.csv"]).expect(0);
    let holder = wd.conn();
    holder
        .execute_batch(
            "BEGIN IMMEDIATE; UPDATE users SET firstname = 'Uncommitted' WHERE firstname = 'Ann';",
        )
        .unwrap();
    for (args, code) in [
        (&["validate", "f.csv", "--format", "json"][..], 1),
        (&["import", "f.csv", "--dry-run", "--format", "json"], 1),
        (&["validate", "--update", "upd.csv", "--format", "json"], 0),
    ] {
        let started = Instant::now();
        let run = wd.run(args);
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{args:?} did not wait for the lock ({:?})",
            started.elapsed()
        );
        assert!(!run.stderr.contains("locked"), "{args:?}: {}", run.stderr);
        run.expect(code);
    }
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(wd.count("users"), 1, "the dry runs wrote nothing");
}

#[test]
fn validate_gives_the_answers_of_the_import_against_the_same_snapshot() {
    let wd = Workdir::with_db();
    wd.import_ok(EXISTING);
    wd.write("f.csv", FILE);
    let validated = wd.run(&["validate", "f.csv", "--format", "json", "--keep-going"]);
    validated.expect(1);
    let imported = wd.run(&["import", "f.csv", "--format", "json", "--keep-going"]);
    imported.expect(1);
    let (v, i) = (validated.report(), imported.report());
    assert_eq!(
        v.codes(),
        ["exten.in_use", "email.duplicate"],
        "the file's conflicts are found: {}",
        v.0
    );
    assert_eq!(
        answers(&wd, &v),
        answers(&wd, &i),
        "same errors, warnings, counts and ids"
    );
    assert_eq!(v["dry_run"], true);
    assert_eq!(i["committed"], true);
}
