//! `ucsv export`: column order, value formatting, lists, options and encodings.

use crate::workdir::{Table, Workdir};

/// The export columns of SPEC §3 "Export", in their order.
const SPEC_ORDER: [&str; 47] = [
    "uuid",
    "subscription_type",
    "firstname",
    "lastname",
    "email",
    "mobile_phone_number",
    "outgoing_caller_id",
    "language",
    "call_permission_password",
    "enabled",
    "ring_seconds",
    "simultaneous_calls",
    "supervision_enabled",
    "call_transfer_enabled",
    "dtmf_hangup_enabled",
    "call_record_outgoing_external_enabled",
    "call_record_outgoing_internal_enabled",
    "call_record_incoming_external_enabled",
    "call_record_incoming_internal_enabled",
    "online_call_record_enabled",
    "userfield",
    "voicemail_name",
    "voicemail_number",
    "voicemail_context",
    "voicemail_password",
    "voicemail_email",
    "voicemail_attach_audio",
    "voicemail_delete_messages",
    "voicemail_ask_password",
    "line_protocol",
    "provisioning_code",
    "context",
    "sip_username",
    "sip_secret",
    "exten",
    "incall_exten",
    "incall_context",
    "call_permissions",
    "username",
    "entity_id",
    "cti_profile_enabled",
    "cti_profile_name",
    "incall_ring_seconds",
    "password_hash",
    "timezone",
    "description",
    "music_on_hold",
];

/// Exports with extra arguments and parses stdout as CSV: (header, rows).
fn export(wd: &Workdir, extra: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut args = vec!["export"];
    args.extend_from_slice(extra);
    let run = wd.run(&args);
    run.expect(0);
    parse(run.stdout.as_bytes())
}

fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes);
    let mut rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| {
            rec.expect("export is valid CSV")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    assert!(!rows.is_empty(), "export wrote no header");
    let header = rows.remove(0);
    (header, rows)
}

/// The cell of `column` in `row`.
fn cell<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    let i = header
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    &row[i]
}

#[test]
fn export_writes_the_header_in_spec_order_even_without_users() {
    let wd = Workdir::with_db();
    let (header, rows) = export(&wd, &[]);
    assert_eq!(header, SPEC_ORDER.to_vec());
    assert!(rows.is_empty(), "no users, no rows: {rows:?}");
}

#[test]
fn export_writes_booleans_as_1_0_and_zero_never_blank() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,enabled,subscription_type,ring_seconds\nAnn,0,0,0\n");
    let (h, rows) = export(&wd, &[]);
    let r = &rows[0];
    assert_eq!(cell(&h, r, "enabled"), "0");
    assert_eq!(cell(&h, r, "subscription_type"), "0");
    assert_eq!(cell(&h, r, "ring_seconds"), "0");
    assert_eq!(cell(&h, r, "supervision_enabled"), "1", "default 1");
    assert_eq!(cell(&h, r, "call_transfer_enabled"), "0", "default 0");
    assert_eq!(cell(&h, r, "cti_profile_enabled"), "0");
    assert_eq!(cell(&h, r, "entity_id"), "1");
    assert_eq!(cell(&h, r, "lastname"), "", "null is an empty cell");
    assert_eq!(
        cell(&h, r, "voicemail_attach_audio"),
        "",
        "no voicemail: empty"
    );
}

#[test]
fn export_sorts_lists_and_keeps_incall_lists_aligned() {
    let wd = Workdir::with_db();
    wd.import_ok(
        &Table::new(&[
            "firstname",
            "incall_exten",
            "incall_context",
            "incall_ring_seconds",
            "call_permissions",
        ])
        .row(&[
            ("firstname", "Ann"),
            ("incall_exten", "2300;2001;2150"),
            ("incall_context", "from-extern;from-extern;from-extern"),
            ("incall_ring_seconds", "30;10;"),
            ("call_permissions", "mobile;international;local-only"),
        ])
        .csv(),
    );
    let (h, rows) = export(&wd, &[]);
    let r = &rows[0];
    assert_eq!(cell(&h, r, "incall_exten"), "2001;2150;2300");
    assert_eq!(
        cell(&h, r, "incall_context"),
        "from-extern;from-extern;from-extern"
    );
    assert_eq!(cell(&h, r, "incall_ring_seconds"), "10;;30");
    assert_eq!(
        cell(&h, r, "call_permissions"),
        "international;local-only;mobile"
    );
}

#[test]
fn export_writes_one_row_per_user_with_the_first_extension() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,line_protocol,context,exten\nAnn,sip,default,1001\nBob,sccp,default,1002\n",
    );
    // A secondary extension on Ann's line, as another tool could add it.
    wd.execute("INSERT INTO extensions (exten, context, line_id) VALUES ('1500', 'default', 1)");
    let (h, rows) = export(&wd, &[]);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(cell(&h, &rows[0], "exten"), "1001");
    assert_eq!(cell(&h, &rows[0], "firstname"), "Ann");
    assert_eq!(cell(&h, &rows[1], "firstname"), "Bob");
    assert_eq!(
        cell(&h, &rows[1], "sip_username"),
        "",
        "sccp has no SIP credentials"
    );
}

#[test]
fn export_never_writes_the_password_but_writes_its_hash() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,username,password\nAnn,ann,pa55word-x\n");
    let run = wd.run(&["export"]);
    run.expect(0);
    assert!(!run.stdout.contains("pa55word-x"));
    let (h, rows) = parse(run.stdout.as_bytes());
    assert!(!h.contains(&"password".to_string()));
    assert!(cell(&h, &rows[0], "password_hash").starts_with("$argon2id$"));
    let bad = wd.run(&["export", "--columns", "firstname,password"]);
    bad.expect(2);
    assert!(bad.stderr.contains("never exported"), "{}", bad.stderr);
}

#[test]
fn export_no_secrets_leaves_out_the_four_secret_columns() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,line_protocol,context,call_permission_password,username,password\nAnn,sip,default,1234,ann,pa55word\n",
    );
    let (h, rows) = export(&wd, &["--no-secrets"]);
    for secret in [
        "sip_secret",
        "voicemail_password",
        "call_permission_password",
        "password_hash",
    ] {
        assert!(!h.contains(&secret.to_string()), "{secret} in {h:?}");
    }
    assert_eq!(h.len(), 43);
    assert_eq!(cell(&h, &rows[0], "username"), "ann");
}

#[test]
fn export_columns_picks_and_orders_and_refuses_unknown_names() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,lastname,email\nAnn,Lee,ann@example.com\n");
    let (h, rows) = export(&wd, &["--columns", "email,firstname"]);
    assert_eq!(h, vec!["email", "firstname"]);
    assert_eq!(rows, vec![vec!["ann@example.com", "Ann"]]);
    let run = wd.run(&["export", "--columns", "firstname,emial"]);
    run.expect(2);
    assert!(
        run.stderr.contains("did you mean 'email'"),
        "{}",
        run.stderr
    );
}

#[test]
fn export_entity_filters_users() {
    let wd = Workdir::with_reference(
        "[[entity]]\nid = 1\nname = \"a\"\n[[entity]]\nid = 2\nname = \"b\"\n",
    );
    wd.import_ok("firstname,entity_id\nAnn,1\nBob,2\nCid,2\n");
    let (h, rows) = export(&wd, &["--entity", "2"]);
    let names: Vec<&str> = rows.iter().map(|r| cell(&h, r, "firstname")).collect();
    assert_eq!(names, vec!["Bob", "Cid"]);
}

#[test]
fn export_entity_that_does_not_exist_is_a_usage_error() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname\nAnn\n");
    let run = wd.run(&["export", "--entity", "42"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("entity 42 does not exist"),
        "{}",
        run.stderr
    );
    assert!(run.stderr_mentions("known: 1"), "{}", run.stderr);
    assert_eq!(run.stdout, "", "no header is written");
    let run = wd.run(&["export", "--entity", "42", "-o", "out.csv"]);
    run.expect(2);
    assert!(!wd.path("out.csv").exists(), "no file is written");
}

#[test]
fn export_output_file_bom_delimiter_and_encodings() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,lastname\nJosé,Müller\n");
    wd.run(&[
        "export",
        "-o",
        "out.csv",
        "--bom",
        "--columns",
        "firstname,lastname",
    ])
    .expect(0);
    assert_eq!(
        wd.read("out.csv"),
        "\u{feff}firstname,lastname\nJosé,Müller\n"
    );

    wd.run(&[
        "export",
        "-o",
        "semi.csv",
        "--delimiter",
        ";",
        "--columns",
        "firstname,lastname",
    ])
    .expect(0);
    assert_eq!(wd.read("semi.csv"), "firstname;lastname\nJosé;Müller\n");

    wd.run(&[
        "export",
        "-o",
        "latin.csv",
        "--encoding",
        "windows-1252",
        "--columns",
        "firstname",
    ])
    .expect(0);
    assert_eq!(wd.read_bytes("latin.csv"), b"firstname\nJos\xE9\n".to_vec());

    wd.run(&[
        "export",
        "-o",
        "u16.csv",
        "--encoding",
        "utf-16le",
        "--columns",
        "firstname",
    ])
    .expect(0);
    let expected: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "firstname\nJosé\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    assert_eq!(wd.read_bytes("u16.csv"), expected);
}

#[test]
fn export_refuses_characters_the_encoding_cannot_hold() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname\n山田\n");
    let run = wd.run(&["export", "-o", "x.csv", "--encoding", "windows-1252"]);
    run.expect(2);
    assert!(
        run.stderr.contains("cannot be written in windows-1252"),
        "{}",
        run.stderr
    );
}

#[test]
fn export_of_a_wazo_file_imported_with_entity_keeps_its_values() {
    let wd = Workdir::with_db();
    let run = wd.run(&[
        "import",
        crate::workdir::fixture("good/wazo_export.csv")
            .to_str()
            .unwrap(),
        "--entity",
        "1",
        "--format",
        "json",
    ]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report.created("users"), 2);
    let (h, rows) = export(&wd, &[]);
    assert_eq!(
        cell(&h, &rows[0], "uuid"),
        "a3c3a3e4-2d6f-4a5e-9a57-6d3c2b1a0f01"
    );
    assert_eq!(cell(&h, &rows[0], "sip_username"), "wazoann");
    assert_eq!(cell(&h, &rows[0], "provisioning_code"), "012345");
    assert_eq!(cell(&h, &rows[0], "exten"), "1042");
    assert_eq!(cell(&h, &rows[1], "voicemail_number"), "1043");
    assert_eq!(cell(&h, &rows[1], "line_protocol"), "sccp");
    assert_eq!(cell(&h, &rows[1], "entity_id"), "1");
}

#[test]
fn excel_safe_prefixes_formula_cells_and_leaves_phone_numbers_alone() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,lastname,mobile_phone_number,userfield,outgoing_caller_id\n\
         \"=HYPERLINK(\"\"http://x\"\")\",@SUM(A1),+33123456789,-2+3,+1 555\n\
         Ann,-5,+4412,plain,\"\ttabbed\"\n",
    );
    let plain = wd.run(&[
        "export",
        "--columns",
        "firstname,lastname,mobile_phone_number,userfield,outgoing_caller_id",
    ]);
    plain.expect(0);
    assert!(
        plain
            .stdout
            .contains("\"=HYPERLINK(\"\"http://x\"\")\",@SUM(A1),+33123456789,-2+3,+1 555"),
        "off by default, the round trip stays exact: {}",
        plain.stdout
    );
    let safe = wd.run(&[
        "export",
        "--excel-safe",
        "--columns",
        "firstname,lastname,mobile_phone_number,userfield,outgoing_caller_id",
    ]);
    safe.expect(0);
    assert!(
        safe.stdout
            .contains("\"'=HYPERLINK(\"\"http://x\"\")\",'@SUM(A1),+33123456789,'-2+3,'+1 555"),
        "{}",
        safe.stdout
    );
    assert!(
        safe.stdout.contains("Ann,-5,+4412,plain,'\ttabbed"),
        "{}",
        safe.stdout
    );
}
