//! Rules across rows: unique values in the file and against the database, extensions and
//! incoming numbers already in use, shared voicemail boxes, rows seeing earlier rows, and a
//! row reporting all of its errors.

use crate::workdir::{Table, Workdir};

const UNIQUE_HEADER: &[&str] = &[
    "firstname",
    "uuid",
    "email",
    "username",
    "line_protocol",
    "context",
    "sip_username",
    "provisioning_code",
];

/// Two rows sharing a value of each unique column; rows 2, 4, .. repeat rows 1, 3, ...
fn pairs() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let line = [("line_protocol", "sip"), ("context", "default")];
    vec![
        (
            "uuid",
            vec![("uuid", "0190a000-0000-7000-8000-000000000001")],
        ),
        ("email", vec![("email", "jane@example.com")]),
        ("username", vec![("username", "jane")]),
        (
            "sip_username",
            vec![line[0], line[1], ("sip_username", "jane-sip")],
        ),
        (
            "provisioning_code",
            vec![line[0], line[1], ("provisioning_code", "123456")],
        ),
    ]
}

#[test]
fn import_rejects_the_second_occurrence_of_a_unique_value_in_the_file() {
    let wd = Workdir::with_db();
    let mut table = Table::new(UNIQUE_HEADER);
    for (_, cells) in pairs() {
        for name in ["First", "Second"] {
            let mut row = vec![("firstname", name)];
            row.extend_from_slice(&cells);
            table = table.row(&row);
        }
    }
    let run = wd.import(&table.csv(), &[]);
    run.expect(1);
    let expected: Vec<(u64, String, String)> = pairs()
        .iter()
        .enumerate()
        .map(|(i, (col, _))| {
            (
                2 * i as u64 + 2,
                col.to_string(),
                format!("{col}.duplicate"),
            )
        })
        .collect();
    assert_eq!(run.report().errors(), expected);
}

#[test]
fn import_rejects_unique_values_already_in_the_database() {
    let wd = Workdir::with_db();
    let mut table = Table::new(UNIQUE_HEADER);
    for (_, cells) in pairs() {
        let mut row = vec![("firstname", "First")];
        row.extend_from_slice(&cells);
        table = table.row(&row);
    }
    wd.import_ok(&table.csv());
    let before = wd.counts();
    let run = wd.import(&table.csv(), &[]);
    run.expect(1);
    let expected: Vec<(u64, String, String)> = pairs()
        .iter()
        .enumerate()
        .map(|(i, (col, _))| (i as u64 + 1, col.to_string(), format!("{col}.duplicate")))
        .collect();
    assert_eq!(run.report().errors(), expected);
    assert_eq!(wd.counts(), before);
}

#[test]
fn import_compares_emails_without_case() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,email\nA,jane.doe@example.com\n");
    let run = wd.import(
        "firstname,email\nB,Jane.Doe@Example.COM\nC,john@example.com\nD,JOHN@EXAMPLE.COM\n",
        &[],
    );
    run.expect(1);
    assert_eq!(
        run.report().errors(),
        vec![
            (1, "email".to_string(), "email.duplicate".to_string()),
            (3, "email".to_string(), "email.duplicate".to_string()),
        ]
    );
}

#[test]
fn import_compares_uuids_without_case() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,uuid\nA,0190A000-0000-7000-8000-0000000000AB\nB,0190a000-0000-7000-8000-0000000000ab\n",
        &[],
    );
    run.expect(1);
    assert_eq!(run.report().codes_of_row(2), ["uuid.duplicate"]);
}

#[test]
fn import_rejects_exten_used_by_an_earlier_row() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,line_protocol,context,exten\nA,sip,default,1000\nB,sip,default,1000\n",
        &[],
    );
    run.expect(1);
    assert_eq!(
        run.report().errors(),
        vec![(2, "exten".to_string(), "exten.in_use".to_string())]
    );
}

#[test]
fn import_rejects_exten_already_in_the_database() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,line_protocol,context,exten\nA,sip,default,1000\n");
    let run = wd.import(
        "firstname,line_protocol,context,exten\nB,sccp,default,1000\n",
        &[],
    );
    run.expect(1);
    assert_eq!(run.report().codes(), ["exten.in_use"]);
    assert_eq!(wd.count("lines"), 1);
}

#[test]
fn import_rejects_incoming_number_already_routed() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,incall_exten,incall_context\nA,2000,from-extern\n");
    let run = wd.import(
        "firstname,incall_exten,incall_context\nB,2000,from-extern\nC,2001,from-extern\nD,2001,from-extern\nE,2002;2002,from-extern;from-extern\n",
        &[],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(
        report.codes_of_row(1),
        ["incall_exten.in_use"],
        "routed in the database"
    );
    assert_eq!(report.codes_of_row(2), Vec::<String>::new());
    assert_eq!(
        report.codes_of_row(3),
        ["incall_exten.in_use"],
        "routed by row 2"
    );
    assert_eq!(
        report.codes_of_row(4),
        ["incall_exten.in_use"],
        "twice in one row"
    );
    assert_eq!(
        wd.query_rows(
            "SELECT i.user_id, e.exten FROM incalls i JOIN extensions e ON e.id = i.extension_id"
        ),
        vec![vec!["1", "2000"]],
        "the existing route is not re-pointed"
    );
}

#[test]
fn import_shares_an_existing_voicemail_box_within_the_file() {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        "firstname,voicemail_name,voicemail_number,voicemail_context,voicemail_password\n\
         A,Sales,1100,default,1234\nB,Other name,1100,default,9999\n",
    );
    let (a, b) = (report.created_row(1), report.created_row(2));
    assert_eq!(
        a["voicemail_id"], b["voicemail_id"],
        "same box for both users"
    );
    assert!(
        a["voicemail_id"].is_u64(),
        "a voicemail id: {}",
        a["voicemail_id"]
    );
    assert_eq!(report.created("voicemails"), 1);
    assert_eq!(
        report.warnings(),
        vec![(
            2,
            "voicemail_number".to_string(),
            "voicemail_number.shared".to_string()
        )]
    );
    assert_eq!(
        wd.query_rows("SELECT name, number, context, password FROM voicemails"),
        vec![vec!["Sales", "1100", "default", "1234"]],
        "the shared box is not modified"
    );
    assert_eq!(
        wd.query_strings("SELECT DISTINCT voicemail_id FROM user_voicemails"),
        [a["voicemail_id"].to_string()]
    );
    assert_eq!(wd.count("user_voicemails"), 2);
}

#[test]
fn import_shares_a_voicemail_box_already_in_the_database() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,voicemail_name,voicemail_number,voicemail_context\nA,Sales,1100,default\n",
    );
    let run = wd.import(
        "firstname,voicemail_name,voicemail_number,voicemail_context,voicemail_email\nB,Renamed,1100,default,b@example.com\n",
        &[],
    );
    run.expect(0);
    let report = run.report();
    assert_eq!(report.created("voicemails"), 0);
    assert_eq!(
        report
            .warnings()
            .iter()
            .map(|w| w.2.as_str())
            .collect::<Vec<_>>(),
        ["voicemail_number.shared"]
    );
    assert_eq!(
        wd.query_rows("SELECT name, email FROM voicemails"),
        vec![vec!["Sales", "NULL"]]
    );
    assert_eq!(
        wd.query_rows("SELECT count(DISTINCT voicemail_id), count(*) FROM user_voicemails"),
        vec![vec!["1", "2"]]
    );
}

#[test]
fn rejected_row_does_not_claim_its_extension() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,ring_seconds,line_protocol,context,exten\nA,31,sip,default,1000\nB,30,sip,default,1000\n",
        &["--keep-going"],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(report.codes(), ["ring_seconds.not_multiple_of_5"]);
    assert_eq!(
        wd.query_rows("SELECT u.firstname, e.exten FROM users u JOIN lines l ON l.user_id = u.id JOIN extensions e ON e.line_id = l.id"),
        vec![vec!["B", "1000"]]
    );
}

#[test]
fn unique_value_of_a_rejected_row_is_still_the_first_occurrence() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,ring_seconds,email\nA,31,jane@example.com\nB,30,jane@example.com\n",
        &["--keep-going"],
    );
    run.expect(1);
    assert_eq!(
        run.report().errors(),
        vec![
            (
                1,
                "ring_seconds".to_string(),
                "ring_seconds.not_multiple_of_5".to_string()
            ),
            (2, "email".to_string(), "email.duplicate".to_string()),
        ]
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn import_reports_all_errors_of_a_row() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,ring_seconds,language,email,line_protocol,context\nA,31,en_us,not-an-email,sip,nowhere\n",
        &[],
    );
    run.expect(1);
    let mut got = run.report().errors();
    got.sort();
    let expected: Vec<(u64, String, String)> = [
        ("context", "context.unknown"),
        ("email", "email.invalid"),
        ("language", "language.invalid"),
        ("ring_seconds", "ring_seconds.not_multiple_of_5"),
    ]
    .iter()
    .map(|(c, k)| (1, c.to_string(), k.to_string()))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn row_with_three_bad_cells_gets_three_errors() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,simultaneous_calls,enabled,mobile_phone_number\nA,0,2,06 12\n",
        &[],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(report.rejected(), 1);
    let mut codes = report.codes();
    codes.sort();
    assert_eq!(
        codes,
        [
            "enabled.not_bool",
            "mobile_phone_number.invalid",
            "simultaneous_calls.out_of_range"
        ]
    );
}
