//! Input that the CSV reader or the decoder would otherwise accept while losing or changing
//! data: broken quoting, NUL bytes, UTF-16 without a BOM, lone surrogates, and BOMs inside
//! the file. Each is a fatal error or a row error that says what is wrong and where.

use crate::workdir::Workdir;

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|unit| {
            if little_endian {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            }
        })
        .collect()
}

#[test]
fn unterminated_quote_in_the_header_is_fatal() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,\"lastname\nJane,Doe\nJohn,Roe\n", &[]);
    run.expect(2);
    assert!(
        run.stderr_mentions("never closed") && run.stderr_mentions("lines 1-3"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn stray_quote_in_the_header_is_fatal() {
    let wd = Workdir::with_db();
    // The CSV reader would read the second name as `lastname`.
    let run = wd.import("firstname,\"last\"name\nJane,Doe\n", &[]);
    run.expect(2);
    assert!(
        run.stderr_mentions("header field 2 has a stray quote"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn file_of_nul_bytes_is_fatal() {
    for (name, bytes) in [
        ("no line break", vec![0u8; 300]),
        (
            "line breaks",
            [vec![0u8; 40], b"\n".to_vec(), vec![0u8; 40]].concat(),
        ),
    ] {
        let wd = Workdir::with_db();
        wd.write("nul.csv", &bytes);
        let run = wd.run(&["import", "nul.csv"]);
        run.expect(2);
        assert!(
            run.stderr_mentions("NUL bytes") && run.stderr_mentions("not CSV text"),
            "{name}: stderr: {}",
            run.stderr
        );
        assert_eq!(wd.count("users"), 0);
    }
}

#[test]
fn unterminated_quote_in_a_row_is_a_row_error_naming_its_lines() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,lastname\nJane,Doe\nJohn,\"Roe\nJack,Poe\nJill,Moe\n",
        &["--keep-going"],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(
        report.errors(),
        vec![(
            2,
            "lastname".to_string(),
            "row.unterminated_quote".to_string()
        )]
    );
    assert_eq!(report["errors"][0]["line"], 3);
    let message = report["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("line 3") && message.contains("lines 3-5"),
        "the message names where the quote opened and what it swallowed: {message}"
    );
    assert_eq!(wd.query_strings("SELECT firstname FROM users"), ["Jane"]);
}

#[test]
fn unterminated_quote_on_the_last_line_names_that_line() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,lastname\nJane,Doe\nJohn,\"Roe", &[]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report.codes(), ["row.unterminated_quote"]);
    let message = report["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 3,"), "message: {message}");
    assert_eq!(wd.count("users"), 0, "nothing is committed");
}

#[test]
fn utf16_without_a_bom_is_fatal_and_names_the_encoding() {
    for (little_endian, label) in [(true, "utf-16le"), (false, "utf-16be")] {
        let wd = Workdir::with_db();
        wd.write("users.csv", utf16("firstname\nAnn\n", little_endian));
        let run = wd.run(&["import", "users.csv"]);
        run.expect(2);
        assert!(
            run.stderr_mentions(&format!("--encoding {label}")),
            "{label}: stderr: {}",
            run.stderr
        );
        assert_eq!(wd.count("users"), 0);
        // With the suggested option, the file imports.
        wd.run(&["import", "users.csv", "--encoding", label])
            .expect(0);
        assert_eq!(wd.query_strings("SELECT firstname FROM users"), ["Ann"]);
    }
}

#[test]
fn lone_surrogate_in_utf16_is_fatal_and_names_its_line() {
    let mut text = utf16("firstname\nAnn\nB", true);
    text.extend(0xD800u16.to_le_bytes()); // a high surrogate without its low half
    text.extend(utf16("ob\nCid\n", true));
    let with_bom = [vec![0xFF, 0xFE], text.clone()].concat();
    for (name, bytes, extra) in [
        ("with a BOM", with_bom, None),
        ("with --encoding", text, Some("utf-16le")),
    ] {
        let wd = Workdir::with_db();
        wd.write("users.csv", bytes);
        let mut args = vec!["import", "users.csv"];
        if let Some(label) = extra {
            args.extend(["--encoding", label]);
        }
        let run = wd.run(&args);
        run.expect(2);
        assert!(
            run.stderr_mentions("line 3") && run.stderr_mentions("not valid UTF-16LE"),
            "{name}: stderr: {}",
            run.stderr
        );
        assert_eq!(wd.count("users"), 0, "{name}: nothing is written");
    }
}

#[test]
fn bom_in_the_middle_of_the_file_is_removed_with_a_warning() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "\u{feff}firstname,lastname\nJane,Doe\n\u{feff}John,Roe\n",
        &[],
    );
    run.expect(0);
    let report = run.report();
    assert_eq!(
        report.warnings(),
        vec![(2, "firstname".to_string(), "row.bom".to_string())]
    );
    assert_eq!(report["warnings"][0]["line"], 3);
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["Jane", "John"],
        "the BOM is not stored"
    );
}

#[test]
fn bom_of_a_second_utf16_file_is_removed_with_a_warning() {
    let wd = Workdir::with_db();
    let bytes = [
        vec![0xFF, 0xFE],
        utf16("firstname\tlastname\nJane\tDoe\n", true),
        vec![0xFF, 0xFE],
        utf16("John\tRoe\n", true),
    ]
    .concat();
    wd.write("users.csv", bytes);
    let run = wd.run(&["import", "users.csv", "--format", "json"]);
    run.expect(0);
    assert_eq!(
        run.report().warnings(),
        vec![(2, "firstname".to_string(), "row.bom".to_string())]
    );
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["Jane", "John"]
    );
}

#[test]
fn stray_quote_in_an_unquoted_cell_is_a_row_error_naming_the_column() {
    let wd = Workdir::with_db();
    // `"Ja"ne` would be read as `Jane`, `Jo"hn` would keep its quote.
    let run = wd.import(
        "firstname,lastname\n\"Ja\"ne,Doe\nJo\"hn,Roe\nJill,\"O\"\"Hara\"\n",
        &["--keep-going"],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(
        report.errors(),
        vec![
            (1, "firstname".to_string(), "row.bad_quote".to_string()),
            (2, "firstname".to_string(), "row.bad_quote".to_string()),
        ]
    );
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname FROM users"),
        vec![vec!["Jill", "O\"Hara"]],
        "a correctly quoted cell is read as written"
    );
}

#[test]
fn stray_quote_is_named_in_the_human_report_with_its_remedy() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "firstname;lastname\nJane;Do\"e\n");
    let run = wd.run(&["import", "users.csv"]);
    run.expect(1);
    assert!(
        run.stderr_mentions("row.bad_quote") && run.stderr_mentions("lastname"),
        "stderr: {}",
        run.stderr
    );
    assert!(
        run.stderr_mentions("double each quote"),
        "the help line says how to fix it: {}",
        run.stderr
    );
    assert_eq!(wd.count("users"), 0);
}
