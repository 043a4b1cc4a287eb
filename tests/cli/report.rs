//! The report: the JSON object's shape, row numbers and physical lines, header warnings, and
//! the human format on stderr.

use crate::workdir::Workdir;
use serde_json::Value;

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn json_report_has_the_documented_shape() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,fistname,line_protocol,context,exten,ring_seconds\nA,x,sip,default,1000,30\nB,y,sip,default,1001,31\n",
        &["--keep-going"],
    );
    run.expect(1);
    let r = run.report();
    let documented = [
        "command",
        "dry_run",
        "committed",
        "rows",
        "summary",
        "created",
        "updated",
        "errors",
        "warnings",
    ];
    let present = keys(&r);
    let missing: Vec<&&str> = documented
        .iter()
        .filter(|k| !present.iter().any(|p| p == *k))
        .collect();
    assert!(
        missing.is_empty(),
        "missing keys {missing:?} in {present:?}"
    );
    assert_eq!(r["command"], "import");
    assert_eq!(r["dry_run"], false);
    assert_eq!(r["committed"], true);
    assert_eq!(r["rows"], 2);
    assert_eq!(
        keys(&r["summary"]),
        sorted(&["created", "reused", "updated", "rejected"])
    );
    assert_eq!(
        r["summary"]["created"],
        serde_json::json!({"users": 1, "lines": 1, "extensions": 1, "incalls": 0,
                           "voicemails": 0, "call_permissions": 0})
    );
    assert_eq!(r["summary"]["reused"], serde_json::json!({"extensions": 0}));
    assert_eq!(r["summary"]["updated"], serde_json::json!({}));
    assert_eq!(r["summary"]["rejected"], 1);
    assert_eq!(r["updated"], serde_json::json!([]));
    let created = r["created"].as_array().expect("created is a list");
    assert_eq!(created.len(), 1);
    assert_eq!(
        keys(&created[0]),
        sorted(&[
            "row_number",
            "line",
            "user_id",
            "user_uuid",
            "line_id",
            "extension_id",
            "voicemail_id",
            "incall_ids",
            "call_permission_ids"
        ])
    );
    let errors = r["errors"].as_array().expect("errors is a list");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        keys(&errors[0]),
        sorted(&["row_number", "line", "column", "code", "message"])
    );
    assert_eq!(errors[0]["row_number"], 2);
    assert_eq!(errors[0]["line"], 3);
    assert_eq!(errors[0]["column"], "ring_seconds");
    assert_eq!(errors[0]["code"], "ring_seconds.not_multiple_of_5");
    assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    let warnings = r["warnings"].as_array().expect("warnings is a list");
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        keys(&warnings[0]),
        sorted(&["row_number", "line", "column", "code", "message"])
    );
}

#[test]
fn created_entries_name_the_records_in_the_database() {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        "firstname,line_protocol,context,exten,incall_exten,incall_context,voicemail_name,voicemail_number,voicemail_context,call_permissions\n\
         A,sip,default,1000,2000;2001,from-extern;from-extern,Box,1000,default,mobile;international\n",
    );
    let c = report.created_row(1);
    let user = c["user_id"].to_string();
    assert_eq!(c["row_number"], 1);
    assert_eq!(c["line"], 2);
    assert_eq!(
        wd.query_one(&format!("SELECT uuid FROM users WHERE id = {user}")),
        c["user_uuid"].as_str().unwrap_or_default()
    );
    assert_eq!(
        wd.query_one(&format!("SELECT id FROM lines WHERE user_id = {user}")),
        c["line_id"].to_string()
    );
    assert_eq!(
        wd.query_one(&format!(
            "SELECT e.id FROM extensions e JOIN lines l ON e.line_id = l.id WHERE l.user_id = {user}"
        )),
        c["extension_id"].to_string()
    );
    assert_eq!(
        wd.query_one(&format!(
            "SELECT voicemail_id FROM user_voicemails WHERE user_id = {user}"
        )),
        c["voicemail_id"].to_string()
    );
    let ids = |v: &Value| -> Vec<String> {
        let mut ids: Vec<String> = v
            .as_array()
            .expect("a list of ids")
            .iter()
            .map(Value::to_string)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(&c["incall_ids"]),
        wd.query_strings(&format!(
            "SELECT CAST(id AS TEXT) FROM incalls WHERE user_id = {user} ORDER BY CAST(id AS TEXT)"
        ))
    );
    assert_eq!(
        ids(&c["call_permission_ids"]),
        wd.query_strings(&format!(
            "SELECT CAST(call_permission_id AS TEXT) FROM user_call_permissions WHERE user_id = {user} ORDER BY 1"
        ))
    );
}

#[test]
fn generated_user_uuids_are_version_7() {
    let wd = Workdir::with_db();
    let report = wd.import_ok("firstname\nA\nB\n");
    for row in [1, 2] {
        let uuid = report.created_row(row)["user_uuid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let parsed = uuid::Uuid::parse_str(&uuid)
            .unwrap_or_else(|e| panic!("user_uuid {uuid:?} is not a UUID: {e}"));
        assert_eq!(parsed.get_version_num(), 7, "version of {uuid}");
        assert_eq!(uuid.as_bytes()[14], b'7', "version nibble of {uuid}");
        assert_eq!(
            parsed.get_variant(),
            uuid::Variant::RFC4122,
            "variant of {uuid}"
        );
    }
    let stored = wd.query_strings("SELECT uuid FROM users ORDER BY id");
    assert!(
        stored[0] < stored[1],
        "v7 UUIDs are time-ordered: {stored:?}"
    );
}

#[test]
fn given_uuid_is_stored_for_the_user() {
    let wd = Workdir::with_db();
    let report = wd.import_ok("firstname,uuid\nA,0190a000-0000-7000-8000-0000000000c1\n");
    assert_eq!(
        report.created_row(1)["user_uuid"],
        "0190a000-0000-7000-8000-0000000000c1"
    );
    assert_eq!(
        wd.query_one("SELECT uuid FROM users"),
        "0190a000-0000-7000-8000-0000000000c1"
    );
}

/// `(row_number, line)` of every created and rejected row, in row order.
fn positions(r: &Value) -> Vec<(u64, u64)> {
    let mut all: Vec<(u64, u64)> = r["created"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(r["errors"].as_array().into_iter().flatten())
        .map(|e| {
            (
                e["row_number"].as_u64().unwrap_or(0),
                e["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    all.sort();
    all.dedup();
    all
}

#[test]
fn line_follows_a_quoted_field_with_a_newline() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,userfield,ring_seconds\nA,\"two\nlines\",30\nB,x,31\nC,y,30\n",
        &["--keep-going"],
    );
    run.expect(1);
    assert_eq!(positions(&run.report()), vec![(1, 2), (2, 4), (3, 5)]);
}

#[test]
fn blank_lines_are_counted_in_row_number() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname\nA\n\nB\n\n\nC\n", &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["rows"], 3);
    let rows: Vec<u64> = positions(&report).iter().map(|p| p.0).collect();
    assert_eq!(rows, [1, 3, 6]);
}

#[test]
fn line_counts_blank_lines() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,ring_seconds\nA,30\n\nB,31\n\n\nC,32\n", &[]);
    run.expect(1);
    assert_eq!(positions(&run.report()), vec![(1, 2), (3, 4), (6, 7)]);
}

#[test]
fn empty_rows_count_in_row_number_and_are_skipped_with_a_warning() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,ring_seconds\nA,30\n,\n\nB,31\n,,\nC,30\n\n",
        &["--keep-going", "--errors", "errors.csv"],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(
        report["rows"], 3,
        "rows counts the rows applied or rejected"
    );
    assert_eq!(positions(&report), vec![(1, 2), (4, 5), (6, 7)]);
    assert_eq!(report.codes(), ["ring_seconds.not_multiple_of_5"]);
    let warnings: Vec<Value> = report["warnings"]
        .as_array()
        .expect("warnings is a list")
        .iter()
        .map(|w| serde_json::json!([w["row_number"], w["line"], w["column"], w["code"]]))
        .collect();
    let empty = |row: u64, line: u64| serde_json::json!([row, line, null, "row.empty"]);
    assert_eq!(
        warnings,
        vec![empty(2, 3), empty(3, 4), empty(5, 6), empty(7, 8)],
        "a ',' row, a blank line, a ',,' row and the blank last line"
    );
    assert!(
        wd.read("errors.csv").contains("\n4,5,ring_seconds,"),
        "{}",
        wd.read("errors.csv")
    );
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["A", "C"]
    );

    wd.write("empty.csv", "firstname\nD\n,\n");
    let run = wd.run(&["import", "empty.csv"]);
    run.expect(0);
    assert!(
        run.stderr_mentions("warning[row.empty]: empty.csv: row 2 (line 3)"),
        "{}",
        run.stderr
    );
}

#[test]
fn update_skips_empty_rows_with_a_warning_and_keeps_their_numbers() {
    let wd = Workdir::with_db();
    let uuid = wd.import_ok("firstname\nA\n").created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    wd.write("update.csv", format!("uuid,lastname\n,\n\n{uuid},Lee\n"));
    let run = wd.run(&["update", "update.csv", "--format", "json"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["rows"], 1);
    assert_eq!(report["updated"][0]["row_number"], 3);
    assert_eq!(
        report.warnings(),
        vec![
            (1, String::new(), "row.empty".to_string()),
            (2, String::new(), "row.empty".to_string())
        ]
    );
    assert_eq!(wd.query_one("SELECT lastname FROM users"), "Lee");
}

#[test]
fn line_is_physical_with_crlf_line_endings() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,ring_seconds\r\nA,30\r\nB,31\r\n", &[]);
    run.expect(1);
    assert_eq!(positions(&run.report()), vec![(1, 2), (2, 3)]);
}

#[test]
fn line_is_physical_with_crlf_quoted_newlines_and_blank_lines() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,userfield,ring_seconds\r\n\r\nA,\"one\r\ntwo\",30\r\n\r\nB,x,31\r\n,,\r\nC,\"\n\n\",32\r\nD,y,30",
        &[],
    );
    run.expect(1);
    assert_eq!(
        positions(&run.report()),
        vec![(2, 3), (4, 6), (6, 8), (7, 11)]
    );
}

#[test]
fn unknown_column_is_a_warning_with_a_suggestion() {
    let wd = Workdir::with_db();
    let run = wd.import("fistname,firstname\nx,A\n", &[]);
    run.expect(0);
    let report = run.report();
    let w = &report["warnings"][0];
    assert_eq!(w["code"], "header.unknown_column");
    assert_eq!(w["column"], "fistname");
    assert_eq!(w["row_number"], Value::Null);
    assert_eq!(w["line"], 1);
    let message = w["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("did you mean 'firstname'?"),
        "message: {message}"
    );
    assert_eq!(wd.query_strings("SELECT firstname FROM users"), ["A"]);
}

#[test]
fn strict_makes_an_unknown_column_fatal() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "fistname,firstname\nx,A\n");
    let run = wd.run(&["import", "users.csv", "--strict"]);
    run.expect(2);
    assert!(run.stderr_mentions("fistname"), "stderr: {}", run.stderr);
    assert!(
        run.stderr_mentions("did you mean 'firstname'?"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn human_format_shows_each_error_with_its_row_line_and_column() {
    let wd = Workdir::with_db();
    wd.write(
        "users.csv",
        "firstname,ring_seconds,language\nGood,30,fr_FR\nBad,31,en_us\n",
    );
    let run = wd.run(&["import", "users.csv"]);
    run.expect(1);
    assert_eq!(run.stdout, "", "no JSON report on stdout in human mode");
    let err = run.stderr_flat();
    for expected in [
        "row 2 (line 3), column ring_seconds: ring_seconds must be a multiple of 5, not 31",
        "ring_seconds.not_multiple_of_5",
        "row 2 (line 3), column language:",
        "language.invalid",
        "Bad,31,en_us",
        "import: 1 of 2 rows rejected (2 errors)",
        "nothing written",
    ] {
        assert!(
            err.contains(expected),
            "stderr lacks {expected:?}:\n{}",
            run.stderr
        );
    }
}

#[test]
fn human_format_summarizes_a_successful_import() {
    let wd = Workdir::with_db();
    wd.write(
        "users.csv",
        "firstname,line_protocol,context,exten\nA,sip,default,1000\nB,,,\n",
    );
    let run = wd.run(&["import", "users.csv"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
    let err = run.stderr_flat();
    assert!(
        err.contains("imported 2 users (1 lines, 1 extensions"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn human_format_of_a_dry_run_says_nothing_was_written() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "firstname\nA\n");
    let run = wd.run(&["validate", "users.csv"]);
    run.expect(0);
    assert_eq!(run.stdout, "");
    let err = run.stderr_flat();
    assert!(
        err.contains("valid") && err.contains("nothing written"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn human_format_shows_header_warnings() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "fistname,firstname\nx,A\n");
    let run = wd.run(&["import", "users.csv"]);
    run.expect(0);
    let err = run.stderr_flat();
    assert!(
        err.contains("header.unknown_column") && err.contains("did you mean 'firstname'?"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn unknown_column_without_a_close_name_points_to_the_column_reference() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,zzzz\nA,x\n", &[]);
    run.expect(0);
    let report = run.report();
    let message = report["warnings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !message.contains("did you mean") && message.contains("zzzz"),
        "message: {message}"
    );
}

#[test]
fn json_format_prints_nothing_for_people() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,ring_seconds\nA,30\nB,31\n", &[]);
    run.expect(1);
    assert_eq!(run.stderr, "", "stderr in JSON mode");
    assert_eq!(run.report().rejected(), 1);
}

#[test]
fn quiet_prints_errors_only() {
    let wd = Workdir::with_db();
    wd.write("good.csv", "firstname\nA\n");
    let run = wd.run(&["-q", "import", "good.csv"]);
    run.expect(0);
    assert_eq!(run.stderr, "", "quiet run without errors");
    wd.write("bad.csv", "firstname,ring_seconds\nB,31\n");
    let run = wd.run(&["--quiet", "import", "bad.csv"]);
    run.expect(1);
    assert!(
        run.stderr_flat()
            .contains("row 1 (line 2), column ring_seconds"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn closed_stdout_pipe_ends_quietly() {
    let wd = Workdir::with_db();
    let mut csv = String::from("firstname\n");
    for i in 0..2000 {
        csv.push_str(&format!("User{i}\n"));
    }
    wd.write("users.csv", csv);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ucsv"))
        .current_dir(wd.dir())
        .env_remove("UCSV_DB")
        .arg("--db")
        .arg(wd.db())
        .args(["import", "users.csv", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start ucsv");
    // Close the reading end: the report (far more than a pipe's buffer) cannot be written.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for ucsv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.to_lowercase().contains("broken pipe"),
        "stderr: {stderr}"
    );
    assert_eq!(wd.count("users"), 2000, "the import itself is committed");
}

#[test]
fn human_report_prints_twenty_rows_in_full_then_counts_the_rest() {
    let wd = Workdir::with_db();
    let mut csv = String::from("firstname,ring_seconds\n");
    for i in 0..30 {
        csv.push_str(&format!("User{i},31\n"));
    }
    wd.write("many.csv", &csv);
    let run = wd.run(&["import", "many.csv", "--errors", "errors.csv"]);
    run.expect(1);
    let shown = run
        .stderr
        .matches("ring_seconds must be a multiple of 5")
        .count();
    assert_eq!(shown, 20, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("... and 10 more errors in 10 more rows"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("row 20 (line 21)"));
    assert!(!run.stderr.contains("row 21 (line 22)"));
    // Every error is still in the errors file and in the JSON report.
    assert_eq!(wd.read("errors.csv").lines().count(), 1 + 30);
    let json = wd.run(&["validate", "many.csv", "--format", "json"]);
    json.expect(1);
    assert_eq!(json.report().codes().len(), 30);
}

/// Runs the binary under a pseudo-terminal (util-linux `script`), so that stderr is a
/// terminal; returns everything it printed.
fn on_a_terminal(wd: &Workdir, args: &str) -> String {
    let command = format!(
        "{} --db {} {args}",
        env!("CARGO_BIN_EXE_ucsv"),
        wd.db().display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(wd.dir())
        .output()
        .expect("run `script` (util-linux) to get a terminal");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_shows_on_a_terminal_unless_turned_off() {
    let wd = Workdir::with_db();
    let mut csv = String::from("firstname,email\n");
    for i in 0..20_000 {
        csv.push_str(&format!("User {i},user{i}@example.com\n"));
    }
    wd.write("a.csv", &csv);
    wd.write("b.csv", csv.replace("@example.com", "@example.org"));
    let shown = on_a_terminal(&wd, "import a.csv");
    assert!(
        shown.contains(" KiB/") || shown.contains(" MiB/"),
        "no progress bar: {shown}"
    );
    assert!(shown.contains("import: imported 20000 users"), "{shown}");
    let quiet = on_a_terminal(&wd, "import b.csv --no-progress");
    assert!(
        !quiet.contains("KiB/") && !quiet.contains("MiB/"),
        "{quiet}"
    );
    assert!(quiet.contains("import: imported 20000 users"), "{quiet}");
}

#[test]
fn json_report_of_many_rows_lists_every_entry_in_row_order() {
    let wd = Workdir::with_db();
    let rows = 5_000u64;
    let rejected = |i: u64| i % 7 == 0;
    let warned = |i: u64| i % 10 == 0;
    let mut csv = String::from("firstname,fistname,ring_seconds\n");
    for i in 1..=rows {
        let name = if warned(i) {
            format!("User\u{202e}{i}")
        } else {
            format!("User{i}")
        };
        let ring = if rejected(i) { 31 } else { 30 };
        csv.push_str(&format!("{name},x,{ring}\n"));
    }
    let run = wd.import(&csv, &["--keep-going"]);
    run.expect(1);
    // The top-level keys come in the documented order.
    let at = |key: &str| {
        run.stdout
            .find(&format!("\n  \"{key}\": "))
            .unwrap_or_else(|| panic!("no key {key:?} at depth 1"))
    };
    let order = [
        "command",
        "delimiter",
        "dry_run",
        "committed",
        "rows",
        "summary",
        "created",
        "updated",
        "errors",
        "warnings",
    ];
    let positions: Vec<usize> = order.iter().map(|k| at(k)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {:?}",
        order.iter().zip(&positions).collect::<Vec<_>>()
    );
    let r = run.report();
    let all: Vec<u64> = (1..=rows).collect();
    let applied: Vec<u64> = all.iter().copied().filter(|&i| !rejected(i)).collect();
    let bad: Vec<u64> = all.iter().copied().filter(|&i| rejected(i)).collect();
    let row_warnings: Vec<u64> = applied.iter().copied().filter(|&i| warned(i)).collect();
    assert_eq!(r["rows"], rows);
    assert_eq!(r["committed"], true);
    assert_eq!(r["summary"]["created"]["users"], applied.len() as u64);
    assert_eq!(r["summary"]["rejected"], bad.len() as u64);
    let list = |key: &str| -> Vec<Value> {
        r[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is not a list"))
            .clone()
    };
    let field = |entries: &[Value], name: &str| -> Vec<u64> {
        entries
            .iter()
            .map(|e| e[name].as_u64().unwrap_or(0))
            .collect()
    };
    let created = list("created");
    assert_eq!(field(&created, "row_number"), applied);
    let lines: Vec<u64> = applied.iter().map(|i| i + 1).collect();
    assert_eq!(field(&created, "line"), lines);
    let user_ids = field(&created, "user_id");
    assert!(
        user_ids.windows(2).all(|w| w[0] < w[1]),
        "user ids in row order"
    );
    assert_eq!(list("updated"), Vec::<Value>::new());
    let errors = list("errors");
    assert_eq!(field(&errors, "row_number"), bad);
    assert!(
        errors
            .iter()
            .all(|e| e["code"] == "ring_seconds.not_multiple_of_5"),
        "error codes"
    );
    let warnings = list("warnings");
    assert_eq!(warnings.len(), 1 + row_warnings.len());
    assert_eq!(warnings[0]["code"], "header.unknown_column");
    assert_eq!(warnings[0]["row_number"], Value::Null);
    assert_eq!(field(&warnings[1..], "row_number"), row_warnings);
    assert!(
        warnings[1..]
            .iter()
            .all(|w| w["code"] == "firstname.bidi_control"),
        "row warning codes"
    );
    assert_eq!(wd.count("users"), applied.len() as i64);
}
