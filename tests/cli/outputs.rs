//! Output files: no output may destroy the input or the database, whatever its spelling; a
//! failed run leaves an existing output as it was; files that hold secrets are owner-only.

use crate::workdir::{Run, Workdir};
use std::os::unix::fs::PermissionsExt;

const GOOD: &str = "firstname,lastname\nAnn,A\nBob,B\n";
const ONE_BAD: &str = "firstname,lastname,ring_seconds\nAnn,A,7\nBob,B,x\nCid,C,9\n";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Asserts a refusal: exit 2, both paths named, nothing of `input` changed.
#[track_caller]
fn assert_refused(run: &Run, flag: &str, output: &str, what: &str) {
    run.expect(2);
    assert!(
        run.stderr_mentions(&format!("{flag} {output} is {what}")),
        "the message names the option, the output and what it is:\n{}",
        run.stderr
    );
}

#[test]
fn rejects_file_that_is_the_input_is_refused_and_the_input_kept() {
    let wd = Workdir::with_db();
    wd.write("f.csv", ONE_BAD);
    let run = wd.run(&["import", "f.csv", "--keep-going", "--rejects", "f.csv"]);
    assert_refused(&run, "--rejects", "f.csv", "the input file f.csv");
    assert_eq!(wd.read("f.csv"), ONE_BAD, "the input is untouched");
    assert_eq!(wd.count("users"), 0, "nothing imported");
}

#[test]
fn outputs_that_are_the_input_under_another_spelling_or_a_link_are_refused() {
    let wd = Workdir::with_db();
    wd.write("f.csv", ONE_BAD);
    std::fs::create_dir(wd.path("sub")).unwrap();
    std::fs::hard_link(wd.path("f.csv"), wd.path("hard.csv")).unwrap();
    std::os::unix::fs::symlink(wd.path("f.csv"), wd.path("soft.csv")).unwrap();
    let absolute = wd.path("f.csv").display().to_string();
    for (flag, out) in [
        ("--errors", "./sub/../f.csv"),
        ("--errors", "hard.csv"),
        ("--rejects", "soft.csv"),
        ("--rejects", absolute.as_str()),
    ] {
        let run = wd.run(&["validate", "f.csv", flag, out]);
        assert_refused(&run, flag, out, "the input file f.csv");
        assert_eq!(
            wd.read("f.csv"),
            ONE_BAD,
            "{flag} {out}: the input is untouched"
        );
    }
}

#[test]
fn outputs_that_are_the_database_or_its_wal_files_are_refused() {
    let wd = Workdir::sqlite_with_db();
    wd.import_ok(GOOD);
    let before = wd.dump();
    let db = wd.db().display().to_string();
    for (suffix, what) in [
        ("", "the database"),
        ("-wal", "the database's WAL file"),
        ("-shm", "the database's shared-memory file"),
    ] {
        let out = format!("{db}{suffix}");
        let run = wd.run(&["export", "-o", &out]);
        assert_refused(&run, "--output", &out, what);
        let run = wd.run(&["validate", "input.csv", "--errors", &out]);
        assert_refused(&run, "--errors", &out, what);
    }
    // Another spelling of the database, relative to the working directory.
    let run = wd.run(&["export", "-o", "./ucsv.db"]);
    assert_refused(&run, "--output", "./ucsv.db", "the database");
    assert_eq!(wd.query_one("PRAGMA integrity_check"), "ok");
    assert_eq!(wd.dump(), before, "the database is as it was");
}

#[test]
fn two_outputs_on_one_file_are_refused() {
    let wd = Workdir::with_db();
    wd.write("f.csv", ONE_BAD);
    let run = wd.run(&[
        "validate",
        "f.csv",
        "--rejects",
        "out.csv",
        "--errors",
        "./out.csv",
    ]);
    run.expect(2);
    assert!(
        run.stderr_mentions("--rejects out.csv and --errors ./out.csv are the same file"),
        "{}",
        run.stderr
    );
    assert!(!wd.path("out.csv").exists(), "nothing written");
}

#[test]
fn a_failed_run_leaves_existing_output_files_as_they_were() {
    let wd = Workdir::with_db();
    wd.write("rejects.csv", "previous rejects\n");
    wd.write("errors.csv", "previous errors\n");
    // A bad row, then a byte that is not UTF-8 far down the file: a fatal error after the
    // rejects and errors files were started.
    let mut csv = String::from("firstname,ring_seconds\nBad,x\n");
    for i in 0..20_000 {
        csv.push_str(&format!("User {i},5\n"));
    }
    let mut bytes = csv.into_bytes();
    bytes.extend_from_slice(b"Caf\xe9,5\n");
    wd.write("late.csv", bytes);
    let run = wd.run(&[
        "import",
        "late.csv",
        "--keep-going",
        "--rejects",
        "rejects.csv",
        "--errors",
        "errors.csv",
    ]);
    run.expect(2);
    assert_eq!(wd.read("rejects.csv"), "previous rejects\n");
    assert_eq!(wd.read("errors.csv"), "previous errors\n");
    let leftovers: Vec<_> = std::fs::read_dir(wd.dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files removed: {leftovers:?}"
    );
}

#[test]
fn a_failed_export_leaves_the_previous_export_in_place() {
    let wd = Workdir::with_db();
    let mut csv = String::from("firstname,lastname\n");
    for i in 0..3000 {
        csv.push_str(&format!("User {i},Plain\n"));
    }
    csv.push_str("名,Last\n");
    wd.import_ok(&csv);
    wd.write("out.csv", "previous export\n");
    // windows-1252 cannot hold the last user's name: the export fails after thousands of rows.
    let run = wd.run(&["export", "-o", "out.csv", "--encoding", "windows-1252"]);
    run.expect(2);
    assert_eq!(wd.read("out.csv"), "previous export\n");
    wd.run(&["export", "-o", "out.csv"]).expect(0);
    assert!(
        wd.read("out.csv").contains("User 2999"),
        "a good export replaces it"
    );
}

#[test]
fn files_holding_secrets_are_created_owner_only_whatever_the_umask() {
    let wd = Workdir::sqlite();
    wd.write("f.csv", ONE_BAD);
    let ucsv = env!("CARGO_BIN_EXE_ucsv");
    let script = format!(
        "umask 000 && '{ucsv}' --db ucsv.db -q import f.csv --keep-going --rejects rejects.csv \
         --errors errors.csv; '{ucsv}' --db ucsv.db export -o export.csv"
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(wd.dir())
        .output()
        .expect("run sh");
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{out:?}"
    );
    for name in ["ucsv.db", "rejects.csv", "errors.csv", "export.csv"] {
        assert_eq!(mode(&wd.path(name)), 0o600, "{name} is owner-only");
    }
    // SQLite gives the WAL files the database's mode; hold them open to look at them.
    let conn = wd.conn();
    conn.query_row("SELECT count(*) FROM users", [], |r| r.get::<_, i64>(0))
        .unwrap();
    for name in ["ucsv.db-wal", "ucsv.db-shm"] {
        assert_eq!(mode(&wd.path(name)), 0o600, "{name} is owner-only");
    }
}

#[test]
fn existing_output_files_keep_their_mode() {
    let wd = Workdir::with_db();
    wd.import_ok(GOOD);
    for name in ["export.csv", "errors.csv"] {
        wd.write(name, "old\n");
        std::fs::set_permissions(wd.path(name), std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    wd.run(&["export", "-o", "export.csv"]).expect(0);
    wd.write("f.csv", ONE_BAD);
    wd.run(&["validate", "f.csv", "--errors", "errors.csv"])
        .expect(1);
    for name in ["export.csv", "errors.csv"] {
        assert_eq!(mode(&wd.path(name)), 0o640, "{name} kept its mode");
        assert_ne!(wd.read(name), "old\n", "{name} was rewritten");
    }
}

#[test]
fn an_output_through_a_symlink_replaces_the_file_and_keeps_the_link() {
    let wd = Workdir::with_db();
    wd.import_ok(GOOD);
    std::fs::create_dir(wd.path("real")).unwrap();
    wd.write("real/users.csv", "old\n");
    std::os::unix::fs::symlink(wd.path("real/users.csv"), wd.path("link.csv")).unwrap();
    wd.run(&["export", "-o", "link.csv"]).expect(0);
    assert!(
        std::fs::symlink_metadata(wd.path("link.csv"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is still a link"
    );
    assert!(
        wd.read("real/users.csv").contains("Ann"),
        "its target was written"
    );
}

#[test]
fn an_output_that_is_a_device_is_written_in_place() {
    let wd = Workdir::with_db();
    wd.write("f.csv", ONE_BAD);
    wd.run(&["validate", "f.csv", "--errors", "/dev/null"])
        .expect(1);
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(
        std::os::unix::fs::FileTypeExt::is_char_device(&meta.file_type()),
        "/dev/null is still a device"
    );
}
