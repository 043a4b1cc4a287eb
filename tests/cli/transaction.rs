//! All or nothing: one bad row writes nothing; dry runs write nothing; `--keep-going`
//! commits the good rows and leaves no trace of the bad ones; the rejects and errors files.

use crate::workdir::Workdir;

/// A header and `n` good rows, each with a sip line and an extension.
fn good_rows(n: usize, first_exten: usize) -> String {
    let mut csv = String::from("firstname,lastname,line_protocol,context,exten\n");
    for i in 0..n {
        csv.push_str(&format!("User{i},Good,sip,default,{}\n", first_exten + i));
    }
    csv
}

/// A database that already holds some users, so "unchanged" is not "empty".
fn seeded() -> Workdir {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,line_protocol,context,exten,incall_exten,incall_context,voicemail_name,voicemail_number,voicemail_context,call_permissions\n\
         Seed,sip,default,1900,2900,from-extern,Seed box,1900,default,mobile\n",
    );
    wd
}

#[test]
fn import_with_one_bad_row_among_fifty_writes_nothing() {
    let wd = seeded();
    let before = wd.counts();
    let mut csv = good_rows(25, 1000);
    csv.push_str("Bad,Row,sip,default,2500\n");
    csv.push_str(
        &good_rows(25, 1100)
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    csv.push('\n');
    let run = wd.import(&csv, &[]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report["committed"], false);
    assert_eq!(report["rows"], 51);
    assert_eq!(report.rejected(), 1);
    assert_eq!(
        report.errors(),
        vec![(26, "exten".to_string(), "exten.outside_range".to_string())]
    );
    assert_eq!(wd.counts(), before, "the database changed");
}

#[test]
fn import_of_good_rows_commits_them_all() {
    let wd = seeded();
    let run = wd.import(&good_rows(50, 1000), &[]);
    run.expect(0);
    assert_eq!(run.report()["committed"], true);
    assert_eq!(wd.count("users"), 51);
    assert_eq!(wd.count("lines"), 51);
}

#[test]
fn dry_run_writes_nothing_and_says_so() {
    let wd = seeded();
    let before = wd.counts();
    let run = wd.import(&good_rows(3, 1000), &["--dry-run"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(
        (&report["command"], &report["dry_run"], &report["committed"]),
        (
            &serde_json::json!("import"),
            &serde_json::json!(true),
            &serde_json::json!(false)
        )
    );
    assert_eq!(report.created("users"), 3, "what would be created");
    assert_eq!(wd.counts(), before);
}

#[test]
fn validate_writes_nothing_and_reports_a_dry_run() {
    let wd = seeded();
    let before = wd.counts();
    wd.write("users.csv", good_rows(3, 1000));
    let run = wd.run(&["validate", "users.csv", "--format", "json"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["command"], "validate");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["committed"], false);
    assert_eq!(report["rows"], 3);
    assert_eq!(wd.counts(), before);
}

#[test]
fn validate_exits_1_on_a_bad_row() {
    let wd = seeded();
    wd.write("users.csv", "firstname,ring_seconds\nA,31\n");
    let run = wd.run(&["validate", "users.csv", "--format", "json"]);
    run.expect(1);
    assert_eq!(run.report().codes(), ["ring_seconds.not_multiple_of_5"]);
}

#[test]
fn validate_sees_rows_of_the_file_in_order() {
    let wd = seeded();
    wd.write(
        "users.csv",
        good_rows(2, 1000) + "Again,Row,sip,default,1000\n",
    );
    let run = wd.run(&["validate", "users.csv", "--format", "json"]);
    run.expect(1);
    assert_eq!(run.report().codes_of_row(3), ["exten.in_use"]);
    assert_eq!(wd.count("users"), 1);
}

#[test]
fn keep_going_commits_good_rows_and_leaves_no_trace_of_bad_ones() {
    let wd = seeded();
    let csv = "firstname,line_protocol,context,exten,voicemail_name,voicemail_number,voicemail_context,incall_exten,incall_context\n\
               Good1,sip,default,1000,,,,,\n\
               Bad,sip,default,1001,Box,1001,no-such-context,2001,from-extern\n\
               Good2,sccp,default,1002,,,,,\n";
    let run = wd.import(csv, &["--keep-going"]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report["committed"], true);
    assert_eq!(report.rejected(), 1);
    assert_eq!(
        report.errors(),
        vec![(
            2,
            "voicemail_context".to_string(),
            "voicemail_context.unknown".to_string()
        )]
    );
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["Seed", "Good1", "Good2"]
    );
    assert_eq!(
        wd.query_strings("SELECT exten FROM extensions ORDER BY exten"),
        ["1000", "1002", "1900", "2900"],
        "no extension or incoming number of the bad row"
    );
    assert_eq!(wd.count("lines"), 3, "no line of the bad row");
    assert_eq!(wd.count("incalls"), 1);
    assert_eq!(wd.count("voicemails"), 1);
}

#[test]
fn rejects_file_holds_the_original_header_and_the_bad_rows_cells() {
    let wd = Workdir::with_db();
    let header = " FirstName ,lastname,ring_seconds,mobile_phone_number,userfield";
    let bad1 = vec!["Ann", "  spaced  ", "31", "+0033 1", "a, \"quoted\"\nvalue"];
    let bad2 = vec!["Bob", "", "07", "007", ""];
    let csv = format!(
        "{header}\nGood,One,30,,\n{}\n{}\n",
        bad1.iter()
            .map(|c| crate::workdir::quote(c))
            .collect::<Vec<_>>()
            .join(","),
        bad2.join(",")
    );
    let run = wd.import(&csv, &["--keep-going", "--rejects", "rejects.csv"]);
    run.expect(1);
    assert_eq!(run.report().rejected(), 2);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(wd.path("rejects.csv"))
        .expect("open rejects.csv");
    let records: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("a CSV record").iter().map(String::from).collect())
        .collect();
    let expected: Vec<Vec<String>> = [
        header.split(',').collect::<Vec<_>>(),
        bad1.clone(),
        bad2.clone(),
    ]
    .iter()
    .map(|r| r.iter().map(|c| c.to_string()).collect())
    .collect();
    assert_eq!(records, expected);
}

#[test]
fn rejects_file_can_be_fixed_and_imported() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,ring_seconds\nGood,30\nBad,31\n",
        &["--keep-going", "--rejects", "rejects.csv"],
    );
    run.expect(1);
    let fixed = wd.read("rejects.csv").replace("31", "35");
    wd.write("fixed.csv", fixed);
    wd.run(&["import", "fixed.csv"]).expect(0);
    assert_eq!(
        wd.query_rows("SELECT firstname, ring_seconds FROM users ORDER BY id"),
        vec![vec!["Good", "30"], vec!["Bad", "35"]]
    );
}

#[test]
fn errors_file_lists_every_error_as_csv() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,ring_seconds,language\nGood,30,fr_FR\nBad,31,en_us\n",
        &["--errors", "errors.csv"],
    );
    run.expect(1);
    let text = wd.read("errors.csv");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("row_number,line,column,code,message"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .take(4)
                .map(String::from)
                .collect()
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        vec![
            vec!["2", "3", "language", "language.invalid"],
            vec!["2", "3", "ring_seconds", "ring_seconds.not_multiple_of_5"],
        ]
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn header_only_file_imports_nothing_and_exits_0() {
    let wd = seeded();
    let before = wd.counts();
    let run = wd.import("firstname,lastname,line_protocol,context\n", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["rows"], 0);
    assert_eq!(report.created("users"), 0);
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(wd.counts(), before);
}

#[test]
fn rows_whose_cells_are_all_empty_are_skipped() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,lastname\nA,B\n,\n,\nC,D\n", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["rows"], 2);
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["A", "C"]
    );
}

#[test]
fn rejects_and_errors_files_hold_only_headers_when_all_rows_are_good() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname;lastname\nA;B\n",
        &["--rejects", "rejects.csv", "--errors", "errors.csv"],
    );
    run.expect(0);
    assert_eq!(wd.read("rejects.csv").trim_end(), "firstname;lastname");
    assert_eq!(
        wd.read("errors.csv").trim_end(),
        "row_number,line,column,code,message"
    );
}

/// Duplicates that only the database finds, in batches written while the next is planned
/// (batches of 2048 rows): one against a row of an earlier batch (row 3000: the batch held
/// is taken back with the one after it), and one inside a batch, before a row that must
/// query the database (rows 8300, 8400 and 8500: the rows before 8500 are sent sooner and
/// refused, while the batch held before them is kept). Every other row is created, on
/// both backends alike.
#[test]
fn duplicates_across_and_inside_later_batches_are_reported_like_any_other() {
    let wd = Workdir::with_db();
    let mut csv = String::from("firstname,username,email\n");
    for row in 1..=10000u32 {
        let username = match row {
            3000 => "user.10".to_string(),
            8400 => "user.8300".to_string(),
            r => format!("user.{r}"),
        };
        let email = if row == 4500 || row == 8500 {
            "not-an-email".to_string()
        } else {
            format!("u{row}@example.com")
        };
        csv += &format!("U{row},{username},{email}\n");
    }
    let run = wd.import(&csv, &["--keep-going"]);
    run.expect(1);
    let report = run.report();
    let mut errors: Vec<(u64, String)> = report
        .errors()
        .into_iter()
        .map(|(row, _, code)| (row, code))
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        vec![
            (3000, "username.duplicate".to_string()),
            (4500, "email.invalid".to_string()),
            (8400, "username.duplicate".to_string()),
            (8500, "email.invalid".to_string()),
        ]
    );
    assert_eq!(report.created("users"), 9996);
    assert_eq!(wd.count("users"), 9996);
    let created: Vec<u64> = report["created"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["row_number"].as_u64().unwrap())
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] < w[1]),
        "rows in input order"
    );
}
