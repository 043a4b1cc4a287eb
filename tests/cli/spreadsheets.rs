//! The checked-in fixtures that show how spreadsheets really arrive (Excel's UTF-8 with BOM
//! and CRLF, "Unicode Text" in UTF-16LE with TABs, UTF-16BE, Windows-1252 with `;`, other
//! delimiters, quoted newlines, header and row mistakes), imported through the binary and
//! checked both in the database and in the report; and `validate` as a CI gate.

use crate::workdir::{fixture, Run, Workdir};
use serde_json::Value;

/// The path of a fixture, as an argument for the binary.
fn path(relative: &str) -> String {
    fixture(relative)
        .to_str()
        .expect("a UTF-8 fixture path")
        .to_string()
}

/// Runs `import <fixture> --format json <extra>`.
fn import(wd: &Workdir, relative: &str, extra: &[&str]) -> Run {
    let file = path(relative);
    let mut args = vec!["import", file.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    wd.run(&args)
}

/// Every issue of a report list as `(row_number, line, column, code)`; the row number and
/// the column are `None` where the report has null.
fn issues(list: &Value) -> Vec<(Option<u64>, u64, Option<String>, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list of issues: {list}"))
        .iter()
        .map(|e| {
            (
                e["row_number"].as_u64(),
                e["line"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("no line in {e}")),
                e["column"].as_str().map(String::from),
                e["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// An expected issue, written compactly.
fn issue(
    row_number: u64,
    line: u64,
    column: &str,
    code: &str,
) -> (Option<u64>, u64, Option<String>, String) {
    (
        Some(row_number),
        line,
        Some(column.to_string()),
        code.to_string(),
    )
}

/// The `created` entries as `(row_number, line)`.
fn created_positions(report: &Value) -> Vec<(u64, u64)> {
    report["created"]
        .as_array()
        .unwrap_or_else(|| panic!("no created list in {report}"))
        .iter()
        .map(|c| {
            (
                c["row_number"].as_u64().unwrap_or_default(),
                c["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// The records of a CSV text, header included, every cell as a string.
fn records(text: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text)
        .records()
        .map(|r| r.expect("a CSV record").iter().map(String::from).collect())
        .collect()
}

/// Each user with its line and extension: firstname, lastname, protocol, context, exten.
fn users_with_lines(wd: &Workdir) -> Vec<Vec<String>> {
    wd.query_rows(
        "SELECT u.firstname, u.lastname, l.protocol, l.context, e.exten \
         FROM users u JOIN lines l ON l.user_id = u.id \
         JOIN extensions e ON e.line_id = l.id ORDER BY u.id",
    )
}

fn strings(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

// --- encodings -------------------------------------------------------------------------

#[test]
fn excel_utf8_bom_crlf_fixture_stores_accented_names_and_warns_about_no_column() {
    let wd = Workdir::with_db();
    let run = import(&wd, "encodings/excel_utf8_bom.csv", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(
        report["warnings"],
        serde_json::json!([]),
        "the BOM must not glue to 'firstname' and make it an unknown column"
    );
    assert_eq!(report["errors"], serde_json::json!([]));
    assert_eq!(report["delimiter"], ",");
    assert_eq!(report["rows"], 2);
    assert_eq!(report.created("users"), 2);
    assert_eq!(created_positions(&report), [(1, 2), (2, 3)]);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, email FROM users ORDER BY id"),
        strings(&[
            &["José", "Müller", "jose@example.com"],
            &["Zoë", "Ångström", "zoe@example.com"],
        ]),
        "names stored exactly: no BOM, no carriage return"
    );
}

#[test]
fn excel_unicode_text_utf16le_fixture_is_read_as_tab_separated() {
    let wd = Workdir::with_db();
    let run = import(&wd, "encodings/utf16le_bom_tab.txt", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["delimiter"], "\t");
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert_eq!(report["rows"], 2);
    assert_eq!(report.created("users"), 2);
    assert_eq!(created_positions(&report), [(1, 2), (2, 3)]);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users ORDER BY id"),
        strings(&[&["José", "Müller"], &["山田", "太郎"]])
    );
}

#[test]
fn excel_unicode_text_fixture_human_output_notes_the_tab_delimiter() {
    let wd = Workdir::with_db();
    let run = wd.run(&["import", &path("encodings/utf16le_bom_tab.txt")]);
    run.expect(0);
    assert!(
        run.stderr_mentions("utf16le_bom_tab.txt: fields are separated by 'TAB'"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.count("users"), 2);
}

#[test]
fn utf16be_bom_fixture_stores_one_user_with_accents() {
    let wd = Workdir::with_db();
    let run = import(&wd, "encodings/utf16be_bom.csv", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["delimiter"], ",");
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert_eq!(report.created("users"), 1);
    assert_eq!(created_positions(&report), [(1, 2)]);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users"),
        strings(&[&["José", "Müller"]])
    );
}

#[test]
fn windows1252_fixture_without_encoding_is_fatal_names_line_2_and_writes_nothing() {
    for extra in [&[][..], &["--keep-going"][..]] {
        let wd = Workdir::with_db();
        let before = wd.counts();
        let run = import(&wd, "encodings/windows1252_semicolon.csv", extra);
        run.expect(2);
        assert!(
            run.stderr_mentions("line 2"),
            "{extra:?}: names the first bad line: {}",
            run.stderr
        );
        assert!(
            run.stderr_mentions("--encoding windows-1252"),
            "{extra:?}: suggests the option: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{extra:?}: no report of a half-read file");
        assert_eq!(wd.counts(), before, "{extra:?}: nothing written");
    }
}

#[test]
fn windows1252_fixture_without_encoding_creates_no_database() {
    let wd = Workdir::new();
    let run = wd.run(&["import", &path("encodings/windows1252_semicolon.csv")]);
    run.expect(2);
    assert!(
        !wd.db().exists(),
        "exit 2 must write nothing, but {} was created; stderr: {}",
        wd.db().display(),
        run.stderr
    );
}

#[test]
fn windows1252_fixture_with_encoding_stores_every_character_exactly() {
    let wd = Workdir::with_db();
    let run = import(
        &wd,
        "encodings/windows1252_semicolon.csv",
        &["--encoding", "windows-1252"],
    );
    run.expect(0);
    let report = run.report();
    assert_eq!(report["delimiter"], ";");
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert_eq!(report.created("users"), 2);
    assert_eq!(created_positions(&report), [(1, 2), (2, 3)]);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, userfield FROM users ORDER BY id"),
        strings(&[
            &["François", "Lefèvre", "Œuvre à café"],
            &["José", "Müller", "€uro"],
        ])
    );
}

#[test]
fn windows1252_fixture_human_output_notes_the_semicolon_delimiter() {
    let wd = Workdir::with_db();
    let run = wd.run(&[
        "import",
        &path("encodings/windows1252_semicolon.csv"),
        "--encoding",
        "windows-1252",
    ]);
    run.expect(0);
    assert!(
        run.stderr_mentions("windows1252_semicolon.csv: fields are separated by ';'"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn iso_8859_15_label_is_accepted_and_decodes_with_that_encoding() {
    let wd = Workdir::with_db();
    let run = import(
        &wd,
        "encodings/windows1252_semicolon.csv",
        &["--encoding", "iso-8859-15"],
    );
    run.expect(0);
    assert_eq!(run.report()["delimiter"], ";");
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users ORDER BY id"),
        strings(&[&["François", "Lefèvre"], &["José", "Müller"]]),
        "the accented letters are the same in ISO-8859-15 and Windows-1252"
    );
    // 0x80 and 0x8C are not € and Œ in ISO-8859-15: the label is honoured, not mapped to
    // Windows-1252. What the cells hold, decoded here independently of ucsv:
    let bytes = std::fs::read(fixture("encodings/windows1252_semicolon.csv")).expect("read");
    let (text, _, _) = encoding_rs::ISO_8859_15.decode(&bytes);
    let expected: Vec<String> = records(text.as_bytes(), b';')
        .into_iter()
        .skip(1)
        .map(|r| r[2].clone())
        .collect();
    assert_eq!(
        wd.query_strings("SELECT userfield FROM users ORDER BY id"),
        expected
    );
    assert!(
        !expected.iter().any(|u| u.contains('€') || u.contains('Œ')),
        "{expected:?}"
    );
}

// --- delimiters, line endings, quoting ---------------------------------------------------

#[test]
fn semicolon_fixture_keeps_a_quoted_semicolon_inside_a_name() {
    let wd = Workdir::with_db();
    let run = import(&wd, "good/semicolon_separated.csv", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["delimiter"], ";");
    assert_eq!(report.created("users"), 2);
    assert_eq!(report.created("lines"), 2);
    assert_eq!(report.created("extensions"), 2);
    assert_eq!(created_positions(&report), [(1, 2), (2, 3)]);
    assert_eq!(
        users_with_lines(&wd),
        strings(&[
            &["Ann", "Lee", "sip", "default", "1001"],
            &["Bob; Jr", "Roe", "sccp", "default", "1002"],
        ])
    );
}

#[test]
fn tab_fixture_gives_the_user_the_listed_call_permissions() {
    let wd = Workdir::with_db();
    let run = import(&wd, "good/tab_separated.tsv", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["delimiter"], "\t");
    assert_eq!(report.created("users"), 1);
    assert_eq!(report.created("call_permissions"), 2);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users"),
        strings(&[&["Ann", "Lee"]])
    );
    assert_eq!(
        wd.query_strings(
            "SELECT cp.name FROM user_call_permissions ucp \
             JOIN call_permissions cp ON cp.id = ucp.call_permission_id ORDER BY cp.name"
        ),
        ["international", "mobile"]
    );
    let mut ids: Vec<String> = report.created_row(1)["call_permission_ids"]
        .as_array()
        .expect("call_permission_ids is a list")
        .iter()
        .map(|v| v.to_string())
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        wd.query_strings(
            "SELECT call_permission_id FROM user_call_permissions ORDER BY call_permission_id"
        ),
        "the report names the permissions given"
    );
}

#[test]
fn pipe_fixture_is_read_as_pipe_separated() {
    let wd = Workdir::with_db();
    let run = import(&wd, "good/pipe_separated.csv", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["delimiter"], "|");
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users"),
        strings(&[&["Ann", "Lee"]])
    );
}

#[test]
fn crlf_fixture_reports_physical_lines_and_stores_no_carriage_returns() {
    let wd = Workdir::with_db();
    let run = import(&wd, "good/crlf.csv", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["delimiter"], ",");
    assert_eq!(created_positions(&report), [(1, 2), (2, 3)]);
    assert_eq!(report.created("extensions"), 2);
    assert_eq!(
        users_with_lines(&wd),
        strings(&[
            &["Ann", "Lee", "sip", "default", "1001"],
            &["Bob", "Roe", "sip", "default", "1002"],
        ])
    );
}

#[test]
fn quoted_newlines_fixture_keeps_the_newline_and_counts_physical_lines() {
    let wd = Workdir::with_db();
    let run = import(&wd, "good/quoted_newlines.csv", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["rows"], 3);
    assert_eq!(
        created_positions(&report),
        [(1, 2), (2, 4), (3, 5)],
        "the row after the two-line record starts on line 4"
    );
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, userfield FROM users ORDER BY id"),
        strings(&[
            &["Ann", "Lee", "line one\nline two"],
            &["Bob \"the builder\"", "Roe", "a, b"],
            &["Cid", "Poe", "plain"],
        ])
    );
}

// --- header and row mistakes -------------------------------------------------------------

#[test]
fn ragged_row_fixture_reports_each_short_or_long_row_with_its_line() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = import(&wd, "bad/ragged_row.csv", &[]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report["committed"], false);
    assert_eq!(
        issues(&report["errors"]),
        [
            (Some(2), 3, None, "row.field_count".to_string()),
            (Some(3), 4, None, "row.field_count".to_string()),
        ]
    );
    for (i, n) in [(0, "2 fields"), (1, "4 fields")] {
        let message = report["errors"][i]["message"].as_str().unwrap_or_default();
        assert!(message.contains(n), "message: {message}");
    }
    assert_eq!(wd.counts(), before, "nothing written by default");
}

#[test]
fn ragged_row_fixture_with_keep_going_imports_the_rows_of_the_right_width() {
    let wd = Workdir::with_db();
    let run = import(&wd, "bad/ragged_row.csv", &["--keep-going"]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report["committed"], true);
    assert_eq!(report.rejected(), 2);
    assert_eq!(created_positions(&report), [(1, 2), (4, 5)]);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, language FROM users ORDER BY id"),
        strings(&[&["John", "Doe", "en_US"], &["Jill", "Moe", "de_DE"]])
    );
}

#[test]
fn ragged_row_fixture_rejects_file_keeps_the_rows_as_they_were() {
    let wd = Workdir::with_db();
    let run = import(
        &wd,
        "bad/ragged_row.csv",
        &["--keep-going", "--rejects", "rejects.csv"],
    );
    run.expect(1);
    let original = records(
        &std::fs::read(fixture("bad/ragged_row.csv")).expect("read"),
        b',',
    );
    let expected = vec![
        original[0].clone(),
        original[2].clone(),
        original[3].clone(),
    ];
    assert_eq!(records(&wd.read_bytes("rejects.csv"), b','), expected);
}

#[test]
fn duplicate_header_fixture_is_fatal_even_with_keep_going_and_in_validate() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let file = path("bad/duplicate_header.csv");
    for args in [
        &["import", file.as_str(), "--keep-going", "--format", "json"][..],
        &["validate", file.as_str(), "--format", "json"][..],
    ] {
        let run = wd.run(args);
        run.expect(2);
        assert!(
            run.stderr_mentions("column 'firstname' appears twice (fields 1 and 3)"),
            "{args:?}: 'FirstName' is the same column as 'firstname': {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}: no report");
    }
    assert_eq!(wd.counts(), before);
}

#[test]
fn misspelled_header_fixture_warns_with_a_suggestion_and_rejects_rows_without_firstname() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = import(&wd, "bad/misspelled_header.csv", &[]);
    run.expect(1);
    let report = run.report();
    assert_eq!(
        issues(&report["warnings"]),
        [(
            None,
            1,
            Some("fistname".to_string()),
            "header.unknown_column".to_string()
        )]
    );
    let message = report["warnings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("did you mean 'firstname'?"),
        "message: {message}"
    );
    assert_eq!(
        issues(&report["errors"]),
        [issue(1, 2, "firstname", "firstname.required")]
    );
    assert_eq!(report["committed"], false);
    assert_eq!(report.rejected(), 1);
    assert_eq!(wd.counts(), before);
}

#[test]
fn misspelled_header_fixture_with_strict_is_fatal() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = import(&wd, "bad/misspelled_header.csv", &["--strict"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("unknown column 'fistname'"),
        "stderr: {}",
        run.stderr
    );
    assert!(
        run.stderr_mentions("did you mean 'firstname'?"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.counts(), before);
}

/// The errors of `bad/good_and_bad_rows.csv`: rows 1 (Ann) and 4 (Dee) are good.
fn good_and_bad_rows_errors() -> Vec<(Option<u64>, u64, Option<String>, String)> {
    vec![
        issue(2, 3, "email", "email.invalid"),
        issue(2, 3, "ring_seconds", "ring_seconds.not_multiple_of_5"),
        issue(3, 4, "exten", "exten.outside_range"),
        issue(5, 6, "firstname", "firstname.required"),
    ]
}

#[test]
fn good_and_bad_rows_fixture_reports_every_error_and_writes_nothing() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = import(&wd, "bad/good_and_bad_rows.csv", &[]);
    run.expect(1);
    let report = run.report();
    assert_eq!(issues(&report["errors"]), good_and_bad_rows_errors());
    assert_eq!(report["committed"], false);
    assert_eq!(report["rows"], 5);
    assert_eq!(report.rejected(), 3);
    assert_eq!(wd.counts(), before, "one bad row: nothing written");
}

#[test]
fn good_and_bad_rows_fixture_with_keep_going_commits_the_good_rows_and_writes_the_rest() {
    let wd = Workdir::with_db();
    let run = import(
        &wd,
        "bad/good_and_bad_rows.csv",
        &["--keep-going", "--rejects", "r.csv", "--errors", "e.csv"],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(report["committed"], true);
    assert_eq!(report.rejected(), 3);
    assert_eq!(issues(&report["errors"]), good_and_bad_rows_errors());
    assert_eq!(created_positions(&report), [(1, 2), (4, 5)]);
    assert_eq!(
        wd.query_rows(
            "SELECT u.firstname, u.lastname, u.email, u.ring_seconds, l.protocol, e.exten \
             FROM users u JOIN lines l ON l.user_id = u.id \
             JOIN extensions e ON e.line_id = l.id ORDER BY u.id"
        ),
        strings(&[
            &["Ann", "Lee", "ann@example.com", "30", "sip", "1001"],
            &["Dee", "Fox", "dee@example.com", "45", "sccp", "1003"],
        ])
    );
    let reported: Vec<String> = [1, 4]
        .iter()
        .map(|&row| report.created_row(row)["user_id"].to_string())
        .collect();
    assert_eq!(
        reported,
        wd.query_strings("SELECT id FROM users ORDER BY id"),
        "the report's user ids are those in the database"
    );

    // The rejects: the original header and the rejected rows' cells, untouched.
    let original = records(
        &std::fs::read(fixture("bad/good_and_bad_rows.csv")).expect("read"),
        b',',
    );
    let rejected = records(&wd.read_bytes("r.csv"), b',');
    assert_eq!(
        rejected,
        vec![
            original[0].clone(),
            original[2].clone(),
            original[3].clone(),
            original[5].clone(),
        ]
    );

    // The errors: one CSV line per error.
    let text = wd.read("e.csv");
    assert_eq!(text.lines().count(), 1 + 4, "e.csv:\n{text}");
    let errors = records(text.as_bytes(), b',');
    assert_eq!(
        errors[0],
        ["row_number", "line", "column", "code", "message"]
    );
    let listed: Vec<Vec<String>> = errors[1..].iter().map(|r| r[..4].to_vec()).collect();
    assert_eq!(
        listed,
        strings(&[
            &["2", "3", "email", "email.invalid"],
            &["2", "3", "ring_seconds", "ring_seconds.not_multiple_of_5"],
            &["3", "4", "exten", "exten.outside_range"],
            &["5", "6", "firstname", "firstname.required"],
        ])
    );

    // Fixing the rejected cells and importing the file applies the rest.
    let column = |name: &str| {
        rejected[0]
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", rejected[0]))
    };
    let mut fixed = rejected.clone();
    fixed[1][column("email")] = "bob@example.com".into();
    fixed[1][column("ring_seconds")] = "30".into();
    fixed[2][column("exten")] = "1005".into();
    fixed[3][column("firstname")] = "Nemo".into();
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in &fixed {
        w.write_record(r).expect("write a record");
    }
    wd.write("fixed.csv", w.into_inner().expect("CSV bytes"));
    let run = wd.run(&["import", "fixed.csv", "--format", "json"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report.created("users"), 3);
    assert_eq!(created_positions(&report), [(1, 2), (2, 3), (3, 4)]);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, email FROM users ORDER BY id"),
        strings(&[
            &["Ann", "Lee", "ann@example.com"],
            &["Dee", "Fox", "dee@example.com"],
            &["Bob", "Roe", "bob@example.com"],
            &["Cid", "Poe", "cid@example.com"],
            &["Nemo", "Nameless", "NULL"],
        ])
    );
    assert_eq!(
        wd.query_strings("SELECT exten FROM extensions ORDER BY exten"),
        ["1001", "1002", "1003", "1005"]
    );
}

// --- validate in CI ----------------------------------------------------------------------

#[test]
fn validate_exits_0_for_a_good_fixture_and_writes_nothing() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = wd.run(&["validate", &path("good/crlf.csv")]);
    run.expect(0);
    assert!(run.stderr_mentions("nothing written"), "{}", run.stderr);
    assert_eq!(wd.counts(), before);
}

#[test]
fn validate_exits_1_for_good_and_bad_rows_and_writes_nothing() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = wd.run(&["validate", &path("bad/good_and_bad_rows.csv")]);
    run.expect(1);
    for at in ["row 2 (line 3)", "row 3 (line 4)", "row 5 (line 6)"] {
        assert!(run.stderr_mentions(at), "names {at}: {}", run.stderr);
    }
    assert_eq!(wd.counts(), before);
}

#[test]
fn validate_exits_2_for_a_file_that_cannot_be_read() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    std::fs::create_dir(wd.path("a-directory.csv")).expect("create a directory");
    for file in ["no-such-file.csv", "a-directory.csv"] {
        let run = wd.run(&["validate", file, "--format", "json"]);
        run.expect(2);
        assert!(run.stderr_mentions(file), "stderr: {}", run.stderr);
        assert_eq!(run.stdout, "", "{file}: no report");
    }
    assert_eq!(wd.counts(), before);
}

#[test]
fn validate_json_report_of_a_fixture_is_a_dry_run() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = wd.run(&[
        "validate",
        &path("bad/good_and_bad_rows.csv"),
        "--format",
        "json",
    ]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report["command"], "validate");
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["committed"], false);
    assert_eq!(report["rows"], 5);
    assert_eq!(report.rejected(), 3);
    assert_eq!(issues(&report["errors"]), good_and_bad_rows_errors());
    assert_eq!(wd.counts(), before);

    let run = wd.run(&["validate", &path("good/crlf.csv"), "--format", "json"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["committed"], false);
    assert_eq!(report.created("users"), 2, "what would be created");
    assert_eq!(report.created("extensions"), 2);
    assert_eq!(wd.counts(), before);
}
