//! Reading the input: standard input, delimiters, encodings, line endings, quoting, the
//! header, rows of the wrong width, and input errors that stop the command.

use crate::workdir::{fixture, Workdir};

#[test]
fn import_reads_standard_input_with_dash() {
    let wd = Workdir::with_db();
    let run = wd.run_stdin(
        &["import", "-", "--format", "json"],
        "firstname,lastname\nJane,Doe\nJohn,Roe\n",
    );
    run.expect(0);
    assert_eq!(run.report().created("users"), 2);
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["Jane", "John"]
    );
}

#[test]
fn import_sniffs_the_delimiter_from_the_header() {
    for (delimiter, name) in [
        (";", "semicolon"),
        ("\t", "tab"),
        ("|", "pipe"),
        (",", "comma"),
    ] {
        let wd = Workdir::with_db();
        let d = delimiter;
        let csv = format!("firstname{d}lastname{d}userfield\nJane{d}Doe{d}\"a,b;c|d\"\n");
        let run = wd.import(&csv, &[]);
        run.expect(0);
        assert_eq!(
            wd.query_rows("SELECT firstname, lastname, userfield FROM users"),
            vec![vec!["Jane", "Doe", "a,b;c|d"]],
            "{name}-separated input"
        );
        assert_eq!(
            run.report()["delimiter"],
            delimiter,
            "the report names the delimiter in use"
        );
    }
}

#[test]
fn import_uses_the_given_delimiter() {
    let wd = Workdir::with_db();
    // The header alone would be sniffed as comma-separated.
    let run = wd.import("firstname;user,field\nJane;x\n", &["--delimiter", ";"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report.warnings()[0].1, "user,field");
    let wd = Workdir::with_db();
    wd.import("firstname\tlastname\nJane\tDoe\n", &["--delimiter", "tab"])
        .expect(0);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users"),
        vec![vec!["Jane", "Doe"]]
    );
}

#[test]
fn import_refuses_a_bad_delimiter() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "firstname\nJane\n");
    for bad in [";;", "ab"] {
        let run = wd.run(&["import", "users.csv", "--delimiter", bad]);
        run.expect(2);
        assert!(run.stderr_mentions("--delimiter"), "stderr: {}", run.stderr);
    }
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn import_reads_quoted_fields_with_delimiters_quotes_and_newlines() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,lastname,userfield\n\"Doe, Jane\",\"O\"\"Hara\",\"line one\nline two\"\n",
    );
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, userfield FROM users"),
        vec![vec!["Doe, Jane", "O\"Hara", "line one\nline two"]]
    );
}

#[test]
fn import_reads_crlf_line_endings_without_keeping_carriage_returns() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,lastname\r\nJane,Doe\r\nJohn,Roe\r\n");
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users ORDER BY id"),
        vec![vec!["Jane", "Doe"], vec!["John", "Roe"]]
    );
}

#[test]
fn import_matches_header_names_trimmed_and_without_case() {
    let wd = Workdir::with_db();
    let run = wd.import(
        " FirstName ,LASTNAME,Line_Protocol,context\nJane,Doe,sip,default\n",
        &[],
    );
    run.expect(0);
    assert_eq!(run.report()["warnings"], serde_json::json!([]));
    assert_eq!(
        wd.query_rows("SELECT u.firstname, u.lastname, l.protocol FROM users u JOIN lines l ON l.user_id = u.id"),
        vec![vec!["Jane", "Doe", "sip"]]
    );
}

#[test]
fn import_reads_utf8_with_a_bom() {
    let wd = Workdir::with_db();
    wd.import_ok("\u{feff}firstname,lastname\nÉlodie,Ñúñez\n");
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users"),
        vec![vec!["Élodie", "Ñúñez"]]
    );
}

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut bytes = if little_endian {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for unit in text.encode_utf16() {
        let pair = if little_endian {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        bytes.extend_from_slice(&pair);
    }
    bytes
}

#[test]
fn import_reads_utf16_with_a_bom() {
    for little_endian in [true, false] {
        let wd = Workdir::with_db();
        wd.write(
            "users.csv",
            utf16("firstname;lastname\nÉlodie;Dürr\n", little_endian),
        );
        wd.run(&["import", "users.csv"]).expect(0);
        assert_eq!(
            wd.query_rows("SELECT firstname, lastname FROM users"),
            vec![vec!["Élodie", "Dürr"]],
            "UTF-16 {}",
            if little_endian { "LE" } else { "BE" }
        );
    }
}

#[test]
fn import_reads_a_legacy_encoding_with_encoding_option() {
    let wd = Workdir::with_db();
    let path = fixture("bad/invalid_utf8.csv");
    // What the file holds, decoded here independently of ucsv.
    let bytes = std::fs::read(&path).expect("read the fixture");
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    let expected: Vec<Vec<String>> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV record").iter().map(String::from).collect())
        .collect();
    assert!(
        expected.iter().flatten().any(|cell| !cell.is_ascii()),
        "the fixture has accented text: {expected:?}"
    );
    wd.run(&[
        "import",
        path.to_str().expect("a UTF-8 path"),
        "--encoding",
        "windows-1252",
    ])
    .expect(0);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users ORDER BY id"),
        expected
    );
}

#[test]
fn import_reads_windows_1252_written_inline() {
    let wd = Workdir::with_db();
    wd.write("users.csv", b"firstname;lastname\nRen\xe9;L\xe9vesque\n");
    wd.run(&["import", "users.csv", "--encoding", "windows-1252"])
        .expect(0);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users"),
        vec![vec!["René", "Lévesque"]]
    );
}

#[test]
fn invalid_utf8_without_encoding_is_fatal_and_suggests_windows_1252() {
    let wd = Workdir::with_db();
    let run = wd.run(&[
        "import",
        fixture("bad/invalid_utf8.csv")
            .to_str()
            .expect("a UTF-8 path"),
    ]);
    run.expect(2);
    assert!(
        run.stderr_mentions("--encoding windows-1252"),
        "stderr: {}",
        run.stderr
    );
    assert!(
        run.stderr_mentions("line 3"),
        "names the line: {}",
        run.stderr
    );
    assert_eq!(
        wd.count("users"),
        0,
        "the good row before it is not written"
    );
}

#[test]
fn unknown_encoding_label_is_fatal() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "firstname\nJane\n");
    let run = wd.run(&["import", "users.csv", "--encoding", "klingon-8"]);
    run.expect(2);
    assert!(run.stderr_mentions("klingon-8"), "stderr: {}", run.stderr);
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn duplicate_header_column_is_fatal() {
    let wd = Workdir::with_db();
    let run = wd.run(&[
        "import",
        fixture("bad/duplicate_header.csv")
            .to_str()
            .expect("a UTF-8 path"),
    ]);
    run.expect(2);
    assert!(
        run.stderr_mentions("firstname") && run.stderr_mentions("twice"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn ragged_row_is_a_row_error_not_a_fatal_one() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,lastname,language\nJohn,Doe,en_US\nJane,Roe\nJack,Poe,fr_FR,extra\nJill,Moe,de_DE\n",
        &["--keep-going"],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(
        report.errors(),
        vec![
            (2, String::new(), "row.field_count".to_string()),
            (3, String::new(), "row.field_count".to_string()),
        ]
    );
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["John", "Jill"]
    );
}

#[test]
fn ragged_row_fixture_is_rejected_row_by_row() {
    let wd = Workdir::with_db();
    let run = wd.run(&[
        "import",
        fixture("bad/ragged_row.csv")
            .to_str()
            .expect("a UTF-8 path"),
        "--format",
        "json",
    ]);
    run.expect(1);
    let report = run.report();
    let codes = report.codes();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == "row.field_count"),
        "codes: {codes:?}"
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn missing_input_file_is_fatal() {
    let wd = Workdir::with_db();
    let before = wd.counts();
    let run = wd.run(&["import", "no-such-file.csv"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("no-such-file.csv"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.counts(), before);
}

#[test]
fn missing_input_file_creates_no_database() {
    let wd = Workdir::new();
    let run = wd.run(&["import", "no-such-file.csv"]);
    run.expect(2);
    assert!(
        !wd.db().exists(),
        "exit 2 must write nothing, but {} was created",
        wd.db().display()
    );
}

#[test]
fn empty_file_without_header_is_fatal() {
    let wd = Workdir::with_db();
    wd.write("empty.csv", "");
    let run = wd.run(&["import", "empty.csv"]);
    run.expect(2);
    assert!(run.stderr_mentions("header"), "stderr: {}", run.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let wd = Workdir::with_db();
    for args in [
        &["import"][..],
        &["frobnicate"][..],
        &["import", "users.csv", "--format", "xml"][..],
    ] {
        let run = wd.run(args);
        assert_eq!(run.code, 2, "{args:?}: stderr {}", run.stderr);
        assert!(!run.stderr.is_empty(), "{args:?} explains itself");
    }
    assert_eq!(wd.count("users"), 0);
}
