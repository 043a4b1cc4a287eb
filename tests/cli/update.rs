//! `ucsv update`: uuid-keyed changes, unset rules, resources created and refused changes.

use crate::workdir::{Run, Table, Workdir};

/// A database with one user holding every resource; returns the workdir and the user's uuid.
fn one_full_user() -> (Workdir, String) {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        &Table::new(&[
            "firstname",
            "lastname",
            "email",
            "line_protocol",
            "context",
            "exten",
            "voicemail_name",
            "voicemail_number",
            "voicemail_context",
            "voicemail_email",
            "incall_exten",
            "incall_context",
            "call_permissions",
            "username",
        ])
        .row(&[
            ("firstname", "Ann"),
            ("lastname", "Lee"),
            ("email", "ann@example.com"),
            ("line_protocol", "sip"),
            ("context", "default"),
            ("exten", "1001"),
            ("voicemail_name", "Ann"),
            ("voicemail_number", "1001"),
            ("voicemail_context", "default"),
            ("voicemail_email", "ann@example.com"),
            ("incall_exten", "2001"),
            ("incall_context", "from-extern"),
            ("call_permissions", "international"),
            ("username", "ann"),
        ])
        .csv(),
    );
    let uuid = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    (wd, uuid)
}

fn update(wd: &Workdir, csv: &str, extra: &[&str]) -> Run {
    wd.write("update.csv", csv);
    let mut args = vec!["update", "update.csv", "--format", "json"];
    args.extend_from_slice(extra);
    wd.run(&args)
}

#[test]
fn update_changes_only_the_columns_in_the_header_and_keeps_ids() {
    let (wd, uuid) = one_full_user();
    let ids_before = wd.query_rows(
        "SELECT l.id, e.id, v.id FROM lines l, extensions e, voicemails v WHERE e.line_id = l.id",
    );
    let run = update(
        &wd,
        &format!("uuid,lastname,exten\n{uuid},Smith,1005\n"),
        &[],
    );
    run.expect(0);
    let report = run.report();
    let updated = &report["updated"][0];
    assert_eq!(updated["changed"], serde_json::json!(["lastname", "exten"]));
    assert_eq!(updated["user_uuid"], uuid.as_str());
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, email, username FROM users"),
        vec![vec!["Ann", "Smith", "ann@example.com", "ann"]]
    );
    assert_eq!(
        wd.query_one("SELECT exten FROM extensions WHERE line_id IS NOT NULL"),
        "1005"
    );
    assert_eq!(
        wd.query_rows("SELECT l.id, e.id, v.id FROM lines l, extensions e, voicemails v WHERE e.line_id = l.id"),
        ids_before,
        "records changed in place keep their ids"
    );
}

#[test]
fn update_of_an_unchanged_export_changes_nothing() {
    let (wd, _) = one_full_user();
    wd.run(&["export", "-o", "export.csv"]).expect(0);
    let before = wd.dump();
    let run = wd.run(&["update", "export.csv", "--format", "json"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["updated"], serde_json::json!([]));
    assert_eq!(report["summary"]["updated"]["unchanged"], 1);
    assert_eq!(wd.dump(), before);
}

#[test]
fn update_empty_cell_unsets_fields_that_may_be_unset() {
    let (wd, uuid) = one_full_user();
    update(
        &wd,
        &format!("uuid,lastname,email,call_permissions\n{uuid},,,\n"),
        &[],
    )
    .expect(0);
    assert_eq!(
        wd.query_rows("SELECT lastname, email FROM users"),
        vec![vec!["NULL", "NULL"]]
    );
    assert_eq!(
        wd.count("user_call_permissions"),
        0,
        "empty call_permissions removes all"
    );
}

#[test]
fn update_refuses_to_empty_a_required_field() {
    let (wd, uuid) = one_full_user();
    let before = wd.dump();
    let run = update(
        &wd,
        &format!("uuid,firstname,exten,lastname\n{uuid},,,New\n"),
        &[],
    );
    run.expect(1);
    let codes = run.report().codes();
    assert_eq!(codes, vec!["firstname.cannot_unset", "exten.cannot_unset"]);
    assert_eq!(wd.dump(), before, "nothing written");
}

#[test]
fn update_needs_a_uuid_column_and_a_known_uuid() {
    let (wd, uuid) = one_full_user();
    let run = update(&wd, "firstname\nBob\n", &[]);
    run.expect(2);
    assert!(run.stderr.contains("uuid column"), "{}", run.stderr);

    let run = update(
        &wd,
        "uuid,firstname\n0190aaaa-0000-7000-8000-000000000000,Bob\n,Cid\n",
        &[],
    );
    run.expect(1);
    assert_eq!(run.report().codes(), vec!["uuid.unknown", "uuid.required"]);

    // --entity scopes the uuid.
    let run = update(
        &wd,
        &format!("uuid,firstname\n{uuid},Bob\n"),
        &["--entity", "2"],
    );
    run.expect(1);
    assert_eq!(run.report().codes(), vec!["uuid.unknown"]);
}

#[test]
fn update_creates_missing_resources_and_associates_them() {
    let wd = Workdir::with_db();
    let report = wd.import_ok("firstname\nBob\n");
    let uuid = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let run = update(
        &wd,
        &format!(
            "uuid,line_protocol,context,exten,voicemail_name,voicemail_number,voicemail_context,incall_exten,incall_context\n{uuid},sip,default,1010,Bob,1010,default,2010,from-extern\n"
        ),
        &[],
    );
    run.expect(0);
    let report = run.report();
    let u = &report["updated"][0];
    assert_eq!(
        u["created"],
        serde_json::json!(["line", "extension", "incall", "voicemail"])
    );
    assert!(u["line_id"].is_i64() && u["extension_id"].is_i64() && u["voicemail_id"].is_i64());
    assert_eq!(report.created("lines"), 1);
    assert_eq!(
        wd.query_one(
            "SELECT count(*) FROM lines WHERE sip_username IS NOT NULL AND length(sip_secret) = 16"
        ),
        "1"
    );
    assert_eq!(
        wd.query_one("SELECT exten FROM extensions WHERE line_id IS NOT NULL"),
        "1010"
    );
    assert_eq!(wd.count("incalls"), 1);
    assert_eq!(wd.count("user_voicemails"), 1);
}

#[test]
fn update_counts_a_claimed_free_extension_as_reused_not_created() {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        "firstname,line_protocol,context,exten\nAnn,sip,default,1500\nBea,sip,default,1501\nCid,,,\nDan,sip,default,1001\n",
    );
    let uuid = |row: u64| {
        report.created_row(row)["user_uuid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (cid, dan) = (uuid(3), uuid(4));
    wd.delete_users(&["Ann", "Bea"]);
    // Cid gets a line on the free 1500; Dan's line moves from 1001 to the free 1501.
    let run = update(
        &wd,
        &format!(
            "uuid,line_protocol,context,exten\n{cid},sip,default,1500\n{dan},sip,default,1501\n"
        ),
        &[],
    );
    run.expect(0);
    let r = run.report();
    assert_eq!(r.created("lines"), 1);
    assert_eq!(r.created("extensions"), 0);
    assert_eq!(r["summary"]["reused"], serde_json::json!({"extensions": 2}));
    assert_eq!(
        r["updated"][0]["created"],
        serde_json::json!(["line"]),
        "the claimed extension is not listed as created"
    );
    assert_eq!(
        wd.query_rows(
            "SELECT e.exten, u.firstname FROM extensions e LEFT JOIN lines l ON l.id = e.line_id LEFT JOIN users u ON u.id = l.user_id ORDER BY e.exten"
        ),
        vec![
            vec!["1001".to_string(), "NULL".to_string()],
            vec!["1500".to_string(), "Cid".to_string()],
            vec!["1501".to_string(), "Dan".to_string()],
        ]
    );
}

#[test]
fn update_adds_an_extension_to_an_existing_line() {
    let wd = Workdir::with_db();
    let report = wd.import_ok("firstname,line_protocol,context\nBob,sccp,default\n");
    let uuid = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let line_id = wd.query_one("SELECT id FROM lines");
    update(&wd, &format!("uuid,exten\n{uuid},1020\n"), &[]).expect(0);
    assert_eq!(
        wd.query_rows("SELECT exten, line_id FROM extensions"),
        vec![vec!["1020".to_string(), line_id]]
    );
}

#[test]
fn update_replaces_call_permissions_as_a_set() {
    let (wd, uuid) = one_full_user();
    update(
        &wd,
        &format!("uuid,call_permissions\n{uuid},mobile;local-only\n"),
        &[],
    )
    .expect(0);
    assert_eq!(
        wd.query_strings("SELECT p.name FROM user_call_permissions u JOIN call_permissions p ON p.id = u.call_permission_id ORDER BY 1"),
        vec!["local-only", "mobile"]
    );
}

#[test]
fn update_refuses_a_change_of_line_protocol() {
    let (wd, uuid) = one_full_user();
    let run = update(&wd, &format!("uuid,line_protocol\n{uuid},sccp\n"), &[]);
    run.expect(1);
    assert_eq!(run.report().codes(), vec!["line_protocol.immutable"]);
    assert_eq!(wd.query_one("SELECT protocol FROM lines"), "sip");
}

#[test]
fn update_of_incalls_for_a_user_with_several_needs_lists_replacing_them_all() {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        "firstname,incall_exten,incall_context\nAnn,2001;2002,from-extern;from-extern\n",
    );
    let uuid = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let kept = wd.query_one("SELECT i.id FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE e.exten = '2001'");

    let run = update(
        &wd,
        &format!("uuid,incall_exten,incall_context\n{uuid},2003,from-extern\n"),
        &[],
    );
    run.expect(1);
    assert_eq!(
        run.report().codes(),
        vec!["incall_exten.several", "incall_context.several"]
    );

    update(
        &wd,
        &format!("uuid,incall_exten,incall_context,incall_ring_seconds\n{uuid},2001;2005;2006,from-extern;from-extern;from-extern,10;;20\n"),
        &[],
    )
    .expect(0);
    assert_eq!(
        wd.query_rows("SELECT e.exten, coalesce(CAST(i.ring_seconds AS TEXT), '') FROM incalls i JOIN extensions e ON e.id = i.extension_id ORDER BY e.exten"),
        vec![vec!["2001", "10"], vec!["2005", ""], vec!["2006", "20"]]
    );
    assert_eq!(
        wd.query_one("SELECT i.id FROM incalls i JOIN extensions e ON e.id = i.extension_id WHERE e.exten = '2001'"),
        kept,
        "a number kept keeps its incall id"
    );
    assert_eq!(
        wd.query_one("SELECT count(*) FROM extensions WHERE exten = '2002'"),
        "0",
        "the removed number is gone"
    );
}

#[test]
fn update_validates_the_merged_record() {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        "firstname,voicemail_name,voicemail_number,voicemail_context,voicemail_email,voicemail_delete_messages\nAnn,Ann,1001,default,ann@example.com,1\n",
    );
    let uuid = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let run = update(&wd, &format!("uuid,voicemail_email\n{uuid},\n"), &[]);
    run.expect(1);
    assert_eq!(run.report().codes(), vec!["voicemail_email.required"]);
    assert_eq!(
        wd.query_one("SELECT email FROM voicemails"),
        "ann@example.com"
    );
}

#[test]
fn update_checks_uniqueness_against_other_users_only() {
    let wd = Workdir::with_db();
    let report = wd
        .import_ok("firstname,email,username\nAnn,ann@example.com,ann\nBob,bob@example.com,bob\n");
    let ann = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    // Ann keeping her own email is fine; taking Bob's is not.
    update(
        &wd,
        &format!("uuid,email,username\n{ann},ann@example.com,ann2\n"),
        &[],
    )
    .expect(0);
    let run = update(&wd, &format!("uuid,email\n{ann},BOB@example.com\n"), &[]);
    run.expect(1);
    assert_eq!(run.report().codes(), vec!["email.duplicate"]);
}

#[test]
fn update_password_replaces_the_hash() {
    let (wd, uuid) = one_full_user();
    update(&wd, &format!("uuid,password\n{uuid},n3w-passw0rd\n"), &[]).expect(0);
    let hash = wd.query_one("SELECT password_hash FROM users");
    use argon2::PasswordVerifier;
    let parsed = argon2::PasswordHash::new(&hash).expect("a PHC hash");
    assert!(argon2::Argon2::default()
        .verify_password(b"n3w-passw0rd", &parsed)
        .is_ok());
    let all = format!("{:?}", wd.dump());
    assert!(!all.contains("n3w-passw0rd"), "the plaintext is not stored");
}

#[test]
fn update_dry_run_and_validate_write_nothing() {
    let (wd, uuid) = one_full_user();
    let before = wd.dump();
    let csv = format!("uuid,lastname\n{uuid},Changed\n");
    let run = update(&wd, &csv, &["--dry-run"]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report["committed"], false);
    assert_eq!(report["summary"]["updated"]["users"], 1);
    wd.write("v.csv", &csv);
    wd.run(&["validate", "--update", "v.csv"]).expect(0);
    assert_eq!(wd.dump(), before);
}

#[test]
fn update_keep_going_applies_the_good_rows() {
    let wd = Workdir::with_db();
    let report = wd.import_ok("firstname\nAnn\nBob\n");
    let ann = report.created_row(1)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = report.created_row(2)["user_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let run = update(
        &wd,
        &format!("uuid,lastname,ring_seconds\n{ann},Lee,30\n{bob},Roe,31\n"),
        &["--keep-going"],
    );
    run.expect(1);
    assert_eq!(
        wd.query_rows("SELECT firstname, coalesce(lastname, '') FROM users ORDER BY id"),
        vec![vec!["Ann", "Lee"], vec!["Bob", ""]]
    );
}

#[test]
fn stored_values_are_not_checked_again_against_rules_newer_than_their_data() {
    // A last name stored before line breaks were refused in it (written here directly).
    let (wd, uuid) = one_full_user();
    wd.execute("UPDATE users SET lastname = 'Two\nLines'");
    wd.run(&["export", "-o", "export.csv"]).expect(0);
    let run = wd.run(&["update", "export.csv", "--format", "json"]);
    run.expect(0);
    assert_eq!(run.report()["summary"]["updated"]["unchanged"], 1);
    // Another column of that user changes: the row's cells are checked, the stored last
    // name is kept as it is.
    let run = update(&wd, &format!("uuid,firstname\n{uuid},Anna\n"), &[]);
    run.expect(0);
    assert_eq!(wd.query_one("SELECT firstname FROM users"), "Anna");
    // A new value is checked against today's rules.
    let run = update(&wd, &format!("uuid,lastname\n{uuid},\"New\nLines\"\n"), &[]);
    run.expect(1);
    assert_eq!(run.report().codes(), ["lastname.control_character"]);
}

#[test]
fn a_later_row_of_the_same_user_sees_what_an_earlier_row_wrote() {
    let (wd, uuid) = one_full_user();
    let run = update(
        &wd,
        &format!("uuid,lastname\n{uuid},Smith\n{uuid},Smith\n{uuid},Lee\n"),
        &[],
    );
    run.expect(0);
    let report = run.report();
    let rows: Vec<(u64, serde_json::Value)> = report["updated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["row_number"].as_u64().unwrap(), u["changed"].clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (1, serde_json::json!(["lastname"])),
            (3, serde_json::json!(["lastname"]))
        ],
        "the second row finds the last name the first one wrote"
    );
    assert_eq!(wd.query_one("SELECT lastname FROM users"), "Lee");
}

#[test]
fn a_shared_voicemail_box_changed_by_one_row_is_seen_changed_by_the_next() {
    let wd = Workdir::with_db();
    let header = "firstname,voicemail_name,voicemail_number,voicemail_context";
    let report = wd.import_ok(&format!(
        "{header}\nAnn,Team,3000,default\nBob,Team,3000,default\n"
    ));
    let uuid = |row| {
        report.created_row(row)["user_uuid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ann, bob) = (uuid(1), uuid(2));
    assert_eq!(wd.count("voicemails"), 1, "Bob shares Ann's box");
    // Ann's row renames the box; Bob's row gives the new name, which his record now shows.
    let run = update(
        &wd,
        &format!("uuid,voicemail_name\n{ann},Sales\n{bob},Sales\n"),
        &[],
    );
    run.expect(0);
    let report = run.report();
    assert_eq!(report["summary"]["updated"]["unchanged"], 1);
    assert_eq!(report["updated"][0]["user_uuid"], ann.as_str());
    assert_eq!(wd.query_one("SELECT name FROM voicemails"), "Sales");
}

/// An update file whose first row is `first`, then `fillers` rows of `filler`, then `rest`
/// (under `header`): more rows than a batch, so that the users of the rows after the first
/// batch are read beside the writer, from the database as the update found it.
fn beyond_a_batch(header: &str, first: &str, filler: &str, rest: &[&str]) -> String {
    let mut csv = format!("{header}\n{first}\n");
    for _ in 0..2100 {
        csv += filler;
        csv.push('\n');
    }
    for row in rest {
        csv += row;
        csv.push('\n');
    }
    csv
}

/// The rows the report lists as updated, with the columns each changed.
fn changed_rows(report: &serde_json::Value) -> Vec<(u64, serde_json::Value)> {
    report["updated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["row_number"].as_u64().unwrap(), u["changed"].clone()))
        .collect()
}

#[test]
fn a_row_batches_after_another_of_the_same_user_sees_what_it_wrote() {
    let wd = Workdir::with_db();
    let report = wd.import_ok("firstname,lastname\nAnn,Lee\nFay,Doe\n");
    let uuid = |row| {
        report.created_row(row)["user_uuid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ann, fay) = (uuid(1), uuid(2));
    let csv = beyond_a_batch(
        "uuid,lastname",
        &format!("{ann},Smith"),
        &format!("{fay},Doe"),
        &[&format!("{ann},Smith"), &format!("{ann},Lee")],
    );
    let run = update(&wd, &csv, &[]);
    run.expect(0);
    assert_eq!(
        changed_rows(&run.report()),
        vec![
            (1, serde_json::json!(["lastname"])),
            (2103, serde_json::json!(["lastname"]))
        ],
        "row 2102 finds the last name row 1 wrote, two batches before"
    );
    assert_eq!(
        wd.query_one(&format!("SELECT lastname FROM users WHERE uuid = '{ann}'")),
        "Lee"
    );
}

#[test]
fn a_shared_box_changed_batches_before_is_seen_changed_by_its_other_user() {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        "firstname,voicemail_name,voicemail_number,voicemail_context\n\
         Ann,Team,3000,default\nBob,Team,3000,default\nFay,,,\n",
    );
    let uuid = |row| {
        report.created_row(row)["user_uuid"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ann, bob, fay) = (uuid(1), uuid(2), uuid(3));
    // Ann's row renames the box; Bob's row, batches later, changes only his first name.
    let csv = beyond_a_batch(
        "uuid,firstname,voicemail_name",
        &format!("{ann},Ann,Sales"),
        &format!("{fay},Fay,"),
        &[&format!("{bob},Bobby,Sales")],
    );
    let run = update(&wd, &csv, &[]);
    run.expect(0);
    assert_eq!(
        changed_rows(&run.report()),
        vec![
            (1, serde_json::json!(["voicemail_name"])),
            (2102, serde_json::json!(["firstname"]))
        ],
        "Bob's record shows the box as Ann's row left it"
    );
    assert_eq!(wd.query_one("SELECT name FROM voicemails"), "Sales");
}
