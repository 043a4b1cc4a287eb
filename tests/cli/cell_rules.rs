//! Rules every cell obeys besides its column's own: no control characters (bar tab, and line
//! breaks in multi-line columns), a warning for bidirectional controls, integers too large
//! for any integer reported out of range, and password hashes whose argon2 cost is bounded.
//! On import and on update.

use crate::workdir::{quote, Report, Run, Table, Workdir};

/// The messages of the report's errors (or warnings), as `(code, message)`.
fn messages(report: &Report, list: &str) -> Vec<(String, String)> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} list in {}", report.0))
        .iter()
        .map(|e| {
            (
                e["code"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The message of the one issue of `list` with `code`.
#[track_caller]
fn message_of(report: &Report, list: &str, code: &str) -> String {
    let all = messages(report, list);
    let found: Vec<&String> = all
        .iter()
        .filter(|(c, _)| c == code)
        .map(|(_, m)| m)
        .collect();
    assert_eq!(found.len(), 1, "one {code} expected in {list}: {all:?}");
    found[0].clone()
}

/// Imports one user and returns the workdir and the user's uuid.
fn one_user() -> (Workdir, String) {
    let wd = Workdir::with_db();
    let report = wd.import_ok("firstname,lastname,username,password\nJane,Doe,jdoe,secret-1\n");
    let uuid = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap_or_else(|| panic!("no user_uuid in {}", report.0))
        .to_string();
    (wd, uuid)
}

fn update(wd: &Workdir, csv: &str) -> Run {
    wd.write("update.csv", csv);
    wd.run(&["update", "update.csv", "--format", "json"])
}

// --- control characters ------------------------------------------------------------------

#[test]
fn import_rejects_c0_control_characters_and_del_in_any_column() {
    let wd = Workdir::with_db();
    let cases: [(&str, &str, &str); 9] = [
        ("firstname", "Ja\u{1b}ne", "firstname.control_character"),
        ("lastname", "Doe\nSmith", "lastname.control_character"),
        ("lastname", "Doe\r", "lastname.control_character"),
        (
            "outgoing_caller_id",
            "\"Jane\" <1000>\r\nVia: x",
            "outgoing_caller_id.control_character",
        ),
        ("email", "jane\u{0}@example.com", "email.control_character"),
        ("userfield", "bell\u{7}", "userfield.control_character"),
        (
            "mobile_phone_number",
            "0612\u{7f}",
            "mobile_phone_number.control_character",
        ),
        ("ring_seconds", "3\u{1}0", "ring_seconds.control_character"),
        (
            "voicemail_name",
            "Box\u{c}",
            "voicemail_name.control_character",
        ),
    ];
    let mut table = Table::new(&[
        "firstname",
        "lastname",
        "outgoing_caller_id",
        "email",
        "userfield",
        "mobile_phone_number",
        "ring_seconds",
        "voicemail_name",
        "voicemail_number",
        "voicemail_context",
    ]);
    for (i, (column, value, _)) in cases.iter().enumerate() {
        let name = format!("User{i}");
        let mut cells = vec![("firstname", name.as_str())];
        if *column == "voicemail_name" {
            cells.extend([
                ("voicemail_number", "1100"),
                ("voicemail_context", "default"),
            ]);
        }
        cells.push((column, value));
        table = table.row(&cells);
    }
    let run = wd.import(&table.csv(), &[]);
    run.expect(1);
    let report = run.report();
    for (i, (column, value, code)) in cases.iter().enumerate() {
        assert_eq!(
            report.codes_of_row(i as u64 + 1),
            [*code],
            "{column}={value:?}"
        );
    }
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn control_character_message_names_the_character_and_its_position() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname\n\"Ja\u{1b}ne\"\n", &[]);
    run.expect(1);
    let message = message_of(&run.report(), "errors", "firstname.control_character");
    assert!(
        message.contains("the control character U+001B (ESC) at position 3"),
        "message: {message}"
    );
    assert!(
        !message.contains('\u{1b}'),
        "the character itself is not echoed: {message:?}"
    );
    let run = wd.import("firstname\n\"Del\u{7f}\"\n", &[]);
    run.expect(1);
    let message = message_of(&run.report(), "errors", "firstname.control_character");
    assert!(
        message.contains("U+007F (DEL) at position 4"),
        "message: {message}"
    );
}

#[test]
fn tab_is_accepted_everywhere_text_is_and_line_breaks_only_in_userfield() {
    let wd = Workdir::with_db();
    let csv = Table::new(&["firstname", "lastname", "userfield"])
        .row(&[
            ("firstname", "Jane\tMarie"),
            ("userfield", "line one\r\nline two\nthree\r"),
        ])
        .row(&[("firstname", "John"), ("lastname", "Doe\nSmith")])
        .csv();
    let run = wd.import(&csv, &["--keep-going"]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report.codes_of_row(1), Vec::<String>::new());
    assert_eq!(report.codes_of_row(2), ["lastname.control_character"]);
    let message = message_of(&report, "errors", "lastname.control_character");
    assert!(
        message.contains("U+000A (LF) at position 4"),
        "message: {message}"
    );
    assert_eq!(
        wd.query_rows("SELECT firstname, userfield FROM users"),
        [["Jane\tMarie", "line one\r\nline two\nthree\r"]],
        "tabs and the userfield's line breaks are stored as written"
    );
}

#[test]
fn control_character_in_a_secret_column_is_named_without_the_value_or_its_position() {
    let wd = Workdir::with_db();
    let csv = Table::new(&[
        "firstname",
        "line_protocol",
        "context",
        "sip_secret",
        "username",
        "password",
    ])
    .row(&[
        ("firstname", "A"),
        ("line_protocol", "sip"),
        ("context", "default"),
        ("sip_secret", "hunter\u{1b}[2Jtwo"),
    ])
    .row(&[
        ("firstname", "B"),
        ("username", "bee"),
        ("password", "xyzzy\u{0}plugh"),
    ])
    .csv();
    let run = wd.import(&csv, &[]);
    run.expect(1);
    let report = run.report();
    assert_eq!(report.codes_of_row(1), ["sip_secret.control_character"]);
    assert_eq!(report.codes_of_row(2), ["password.control_character"]);
    for (code, character) in [
        ("sip_secret.control_character", "U+001B (ESC)"),
        ("password.control_character", "U+0000 (NUL)"),
    ] {
        let message = message_of(&report, "errors", code);
        assert!(message.contains(character), "message: {message}");
        assert!(
            !message.contains("position"),
            "no position for a secret: {message}"
        );
        for part in ["hunter", "[2J", "two", "xyzzy", "plugh"] {
            assert!(!message.contains(part), "{part} echoed: {message}");
        }
    }
    for part in ["hunter", "xyzzy"] {
        assert!(!run.stdout.contains(part), "{part:?} echoed in the report");
        assert!(!run.stderr.contains(part), "{part:?} echoed on stderr");
    }
}

#[test]
fn bidi_control_is_a_warning_and_the_row_is_imported() {
    let wd = Workdir::with_db();
    let csv = Table::new(&["firstname", "lastname", "userfield"])
        .row(&[
            ("firstname", "abc\u{202e}fed"),
            ("lastname", "\u{2066}Doe\u{2069}"),
        ])
        .row(&[("firstname", "Plain"), ("userfield", "no controls")])
        .csv();
    let run = wd.import(&csv, &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(
        report.warnings(),
        vec![
            (
                1,
                "firstname".to_string(),
                "firstname.bidi_control".to_string()
            ),
            (
                1,
                "lastname".to_string(),
                "lastname.bidi_control".to_string()
            ),
        ]
    );
    let message = message_of(&report, "warnings", "firstname.bidi_control");
    assert!(
        message.contains("U+202E (RLO) at position 4"),
        "message: {message}"
    );
    let message = message_of(&report, "warnings", "lastname.bidi_control");
    assert!(
        message.contains("U+2066 (LRI) at position 1"),
        "message: {message}"
    );
    assert_eq!(
        wd.query_strings("SELECT firstname FROM users ORDER BY id"),
        ["abc\u{202e}fed", "Plain"],
        "the text is stored as written"
    );
}

#[test]
fn update_rejects_control_characters_and_warns_on_bidi_controls() {
    let (wd, uuid) = one_user();
    let before = wd.dump();

    let run = update(&wd, &format!("uuid,lastname\n{uuid},\"Doe\u{1b}[31m\"\n"));
    run.expect(1);
    let report = run.report();
    assert_eq!(report.codes(), ["lastname.control_character"]);
    let message = message_of(&report, "errors", "lastname.control_character");
    assert!(
        message.contains("U+001B (ESC) at position 4"),
        "message: {message}"
    );
    assert_eq!(wd.dump(), before, "a rejected update writes nothing");

    let run = update(&wd, &format!("uuid,password\n{uuid},\"new\rpassword\"\n"));
    run.expect(1);
    assert_eq!(run.report().codes(), ["password.control_character"]);
    assert_eq!(wd.dump(), before, "a rejected update writes nothing");

    let run = update(
        &wd,
        &format!("uuid,firstname,lastname\n{uuid},Jane,\"Doe\u{202d}x\"\n"),
    );
    run.expect(0);
    let report = run.report();
    assert_eq!(
        report.warnings(),
        [(
            1,
            "lastname".to_string(),
            "lastname.bidi_control".to_string()
        )],
        "the changed cell is warned about, the unchanged firstname is not"
    );
    assert_eq!(wd.query_one("SELECT lastname FROM users"), "Doe\u{202d}x");

    // A stored bidi control is not warned about again when another column changes.
    let run = update(&wd, &format!("uuid,userfield\n{uuid},note\n"));
    run.expect(0);
    assert_eq!(run.report().warnings(), Vec::new());
}

// --- integers ----------------------------------------------------------------------------

#[test]
fn integer_too_large_for_any_integer_is_out_of_range_not_digits_only() {
    let wd = Workdir::with_db();
    let huge = "99999999999999999999";
    let csv = Table::new(&[
        "firstname",
        "ring_seconds",
        "subscription_type",
        "simultaneous_calls",
        "incall_exten",
        "incall_context",
        "incall_ring_seconds",
        "entity_id",
    ])
    .row(&[("firstname", "A"), ("ring_seconds", huge)])
    .row(&[
        ("firstname", "B"),
        ("subscription_type", "9223372036854775808"),
    ])
    .row(&[("firstname", "C"), ("simultaneous_calls", &"9".repeat(400))])
    .row(&[
        ("firstname", "D"),
        ("incall_exten", "2000;2001"),
        ("incall_context", "from-extern;from-extern"),
        ("incall_ring_seconds", &format!("30;{huge}")),
    ])
    .row(&[("firstname", "E"), ("entity_id", huge)])
    .row(&[
        ("firstname", "F"),
        ("ring_seconds", "0000000000000000000030"),
    ])
    .csv();
    let run = wd.import(&csv, &["--keep-going"]);
    run.expect(1);
    let report = run.report();
    let expected = [
        (
            1,
            "ring_seconds.out_of_range",
            "ring_seconds must be from 0 to 10800",
        ),
        (
            2,
            "subscription_type.out_of_range",
            "subscription_type must be from 0 to 10",
        ),
        (
            3,
            "simultaneous_calls.out_of_range",
            "simultaneous_calls must be from 1 to 20",
        ),
        (
            4,
            "incall_ring_seconds.out_of_range",
            "incall_ring_seconds must be from 0 to 10800",
        ),
        (5, "entity_id.unknown", "does not exist"),
    ];
    let all = messages(&report, "errors");
    for (row, code, text) in expected {
        assert_eq!(report.codes_of_row(row), [code], "row {row}");
        assert!(
            all.iter()
                .any(|(c, m)| c == code && m.contains(text) && !m.contains("digits")),
            "{code}: a message with {text:?} expected in {all:?}"
        );
    }
    assert_eq!(
        report.codes_of_row(6),
        Vec::<String>::new(),
        "leading zeros are digits"
    );
    assert_eq!(wd.query_one("SELECT ring_seconds FROM users"), "30");
}

// --- password hashes ---------------------------------------------------------------------

/// A PHC argon2id string with these parameters (a valid salt and output).
fn phc(params: &str) -> String {
    format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")
}

#[test]
fn password_hash_with_an_argon2_cost_out_of_bounds_is_refused() {
    let wd = Workdir::with_db();
    let refused = [
        ("m=4294967295,t=4294967295,p=1", "password_hash.cost"),
        ("m=4294967295,t=2,p=1", "password_hash.cost"),
        ("m=99999999999999999999,t=2,p=1", "password_hash.cost"),
        ("m=2097152,t=1,p=1", "password_hash.cost"),
        ("m=65536,t=17,p=1", "password_hash.cost"),
        ("m=65536,t=2,p=17", "password_hash.cost"),
        ("m=65536,t=2,p=4294967295", "password_hash.cost"),
        ("m=1048576,t=5,p=1", "password_hash.cost"),
        ("m=15,t=2,p=2", "password_hash.cost"),
        ("m=65536,t=0,p=1", "password_hash.cost"),
        ("m=65536,t=2,p=0", "password_hash.cost"),
        ("m=65536,t=2,p=1,x=3", "password_hash.invalid"),
        ("m=abc,t=2,p=1", "password_hash.invalid"),
    ];
    let accepted = [
        "m=19456,t=2,p=1",
        "m=65536,t=3,p=4",
        "m=1048576,t=4,p=16",
        "m=262144,t=16,p=1",
        "m=8,t=1,p=1",
    ];
    let mut table = Table::new(&["firstname", "username", "password_hash"]);
    let mut hashes = Vec::new();
    for (i, params) in refused.iter().map(|(p, _)| *p).chain(accepted).enumerate() {
        hashes.push((format!("User{i}"), format!("user{i}"), phc(params)));
    }
    hashes.push((
        "Version".into(),
        "version".into(),
        "$argon2id$v=20$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".into(),
    ));
    for (first, user, hash) in &hashes {
        table = table.row(&[
            ("firstname", first),
            ("username", user),
            ("password_hash", hash),
        ]);
    }
    let run = wd.import(&table.csv(), &["--keep-going"]);
    run.expect(1);
    let report = run.report();
    let mut mismatches = Vec::new();
    for (i, (params, code)) in refused.iter().enumerate() {
        let got = report.codes_of_row(i as u64 + 1);
        if got != [*code] {
            mismatches.push(format!("{params}: expected [{code}], got {got:?}"));
        }
    }
    for (i, params) in accepted.iter().enumerate() {
        let got = report.codes_of_row((refused.len() + i) as u64 + 1);
        if !got.is_empty() {
            mismatches.push(format!("{params}: expected no error, got {got:?}"));
        }
    }
    let got = report.codes_of_row(hashes.len() as u64);
    if got != ["password_hash.invalid"] {
        mismatches.push(format!(
            "v=20: expected [password_hash.invalid], got {got:?}"
        ));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(wd.count("users"), accepted.len() as i64);
    for (code, message) in messages(&report, "errors") {
        assert!(
            !message.contains("4294967295") && !message.contains("c2FsdHNhbHQ"),
            "{code}: the hash is not echoed: {message}"
        );
    }
    let message = &messages(&report, "errors")[0].1;
    assert!(
        message.contains("at most 1048576 KiB of memory"),
        "the message says the bound: {message}"
    );
}

#[test]
fn update_refuses_a_password_hash_with_an_excessive_cost() {
    let (wd, uuid) = one_user();
    let before = wd.dump();
    let run = update(
        &wd,
        &format!(
            "uuid,password_hash\n{uuid},{}\n",
            quote(&phc("m=4294967295,t=4294967295,p=1"))
        ),
    );
    run.expect(1);
    assert_eq!(run.report().codes(), ["password_hash.cost"]);
    assert_eq!(wd.dump(), before);
}

#[test]
fn password_hash_bounds_are_in_the_column_reference() {
    let wd = Workdir::new();
    let out = wd
        .bare_cmd(&["columns", "--format", "json"])
        .output()
        .expect("run ucsv");
    assert_eq!(out.status.code(), Some(0));
    let columns: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rule = columns
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["name"] == "password_hash")
        .and_then(|c| c["rule"].as_str())
        .unwrap_or_default()
        .to_string();
    for bound in [
        "M ≤ 1048576",
        "T ≤ 16",
        "P ≤ 16",
        "8 × P ≤ M",
        "M × T ≤ 4194304",
    ] {
        assert!(
            rule.contains(bound),
            "{bound} missing from the rule: {rule}"
        );
    }
    let multiline: Vec<&str> = columns
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["multiline"] == true)
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        multiline,
        ["userfield"],
        "the columns that may hold line breaks"
    );
}
