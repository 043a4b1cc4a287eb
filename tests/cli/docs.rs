//! What the README and the checked-in examples promise: the column reference is the one the
//! registry prints, and the seed examples import as described.

use crate::workdir::{fixture, Workdir};

#[test]
fn readme_column_table_is_in_sync_with_the_registry() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("read README.md");
    let begin = "<!-- columns:begin -->";
    let end = "<!-- columns:end -->";
    let start = readme
        .find(begin)
        .expect("README has the columns:begin marker")
        + begin.len();
    let stop = readme.find(end).expect("README has the columns:end marker");
    let in_readme = readme[start..stop].trim();
    let wd = Workdir::new();
    let run = wd
        .bare_cmd(&["columns", "--format", "markdown"])
        .output()
        .expect("run ucsv");
    assert_eq!(run.status.code(), Some(0));
    let printed = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        in_readme,
        printed.trim(),
        "README.md's column table differs from `ucsv columns --format markdown`; \
         paste the command's output between the markers"
    );
    assert!(!wd.db().exists(), "`columns` needs no database");
}

#[test]
fn seed_examples_import_as_documented() {
    let wd = Workdir::new();
    let seed = fixture("good/seed_examples.csv");
    let run = wd.run(&[
        "import",
        seed.to_str().expect("a UTF-8 path"),
        "--format",
        "json",
    ]);
    run.expect(0);
    let report = run.report();
    for (what, n) in [
        ("users", 5),
        ("lines", 4),
        ("extensions", 4),
        ("incalls", 1),
        ("voicemails", 1),
        ("call_permissions", 0),
    ] {
        assert_eq!(report.created(what), n, "summary.created.{what}");
    }
    for (table, n) in [
        ("users", 5),
        ("lines", 4),
        ("extensions", 5),
        ("incalls", 1),
        ("voicemails", 1),
    ] {
        assert_eq!(wd.count(table), n, "rows in {table}");
    }
}

#[test]
fn import_and_validate_accept_no_progress() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "firstname\nJane\n");
    wd.run(&["import", "users.csv", "--no-progress"]).expect(0);
    wd.run(&["validate", "users.csv", "--no-progress"])
        .expect(0);
    assert_eq!(wd.count("users"), 1);
}
