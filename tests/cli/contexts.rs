//! References resolved against the reference data: contexts (existence, type, entity, number
//! ranges), CTI profiles, call permissions and entities.

use crate::workdir::{Table, Workdir};

/// Two entities, each with its own contexts and call permission.
pub const TWO_ENTITIES: &str = r#"
[[entity]]
id = 1
name = "north"

[[entity]]
id = 2
name = "south"

[[context]]
name = "north-users"
entity = 1
type = "internal"
ranges = ["1000-1999"]

[[context]]
name = "north-dids"
entity = 1
type = "incall"
ranges = ["2000-2999"]

[[context]]
name = "south-users"
entity = 2
type = "internal"
ranges = ["3000-3999", "0100-0199"]

[[context]]
name = "south-dids"
entity = 2
type = "incall"
ranges = ["5000-5999"]

[[call_permission]]
name = "north-intl"
entity = 1

[[call_permission]]
name = "south-intl"
entity = 2

[[cti_profile]]
name = "Client"
"#;

const HEADER: &[&str] = &[
    "firstname",
    "entity_id",
    "line_protocol",
    "context",
    "exten",
    "incall_exten",
    "incall_context",
    "voicemail_name",
    "voicemail_number",
    "voicemail_context",
    "cti_profile_enabled",
    "cti_profile_name",
    "call_permissions",
];

/// The cells of one row and the error codes expected for it.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);

/// Imports one bad row per case (exit 1) and checks each row's codes.
#[track_caller]
fn check_rows(wd: &Workdir, cases: &[Case]) {
    let mut table = Table::new(HEADER);
    for (i, (cells, _)) in cases.iter().enumerate() {
        let name = format!("User{i}");
        let mut row = vec![("firstname", name.as_str())];
        row.extend_from_slice(cells);
        table = table.row(&row);
    }
    let run = wd.import(&table.csv(), &[]);
    run.expect(1);
    let report = run.report();
    let mut mismatches = Vec::new();
    for (i, (cells, expected)) in cases.iter().enumerate() {
        let got = report.codes_of_row(i as u64 + 1);
        if got != *expected {
            mismatches.push(format!(
                "row {} {cells:?}: expected {expected:?}, got {got:?}",
                i + 1
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn import_rejects_unknown_contexts() {
    let wd = Workdir::with_db();
    check_rows(
        &wd,
        &[
            (
                &[("line_protocol", "sip"), ("context", "nowhere")],
                &["context.unknown"],
            ),
            (
                &[("incall_exten", "2000"), ("incall_context", "nowhere")],
                &["incall_context.unknown"],
            ),
            (
                &[
                    ("voicemail_name", "Box"),
                    ("voicemail_number", "1100"),
                    ("voicemail_context", "nowhere"),
                ],
                &["voicemail_context.unknown"],
            ),
        ],
    );
}

#[test]
fn import_rejects_context_of_the_wrong_type() {
    let wd = Workdir::with_db();
    check_rows(
        &wd,
        &[
            (
                &[("line_protocol", "sip"), ("context", "from-extern")],
                &["context.wrong_type"],
            ),
            (
                &[("incall_exten", "1000"), ("incall_context", "default")],
                &["incall_context.wrong_type"],
            ),
        ],
    );
}

#[test]
fn import_rejects_exten_outside_context_range() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,line_protocol,context,exten\nA,sip,default,2000\nB,sip,default,999\nC,sip,default,01000\n",
        &[],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(
        report.codes(),
        ["exten.outside_range"; 3],
        "errors: {}",
        report["errors"]
    );
    let message = report["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("1000-1999"),
        "the message names the context's range: {message}"
    );
}

#[test]
fn import_rejects_incall_exten_outside_context_range() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,incall_exten,incall_context\nA,3000,from-extern\nB,2000;1999,from-extern;from-extern\n",
        &[],
    );
    run.expect(1);
    assert_eq!(
        run.report().errors(),
        vec![
            (
                1,
                "incall_exten".to_string(),
                "incall_exten.outside_range".to_string()
            ),
            (
                2,
                "incall_exten".to_string(),
                "incall_exten.outside_range".to_string()
            ),
        ]
    );
}

#[test]
fn import_accepts_exten_at_range_bounds() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,line_protocol,context,exten,incall_exten,incall_context\n\
         A,sip,default,1000,2000,from-extern\nB,sip,default,1999,2999,from-extern\n",
    );
    assert_eq!(
        wd.query_strings("SELECT exten FROM extensions ORDER BY exten"),
        ["1000", "1999", "2000", "2999"]
    );
}

#[test]
fn import_rejects_unknown_cti_profile() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,username,password,cti_profile_enabled,cti_profile_name\nA,alice,s3cret-pw,1,Boss\n",
        &[],
    );
    run.expect(1);
    assert_eq!(run.report().codes(), ["cti_profile_name.unknown"]);
}

#[test]
fn import_rejects_unknown_call_permission() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,call_permissions\nA,international;teleport\n",
        &[],
    );
    run.expect(1);
    let report = run.report();
    assert_eq!(report.codes(), ["call_permissions.unknown"]);
    let message = report["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("teleport"), "message: {message}");
    assert_eq!(wd.count("user_call_permissions"), 0);
}

#[test]
fn import_rejects_contexts_and_permissions_of_another_entity() {
    let wd = Workdir::with_reference(TWO_ENTITIES);
    check_rows(
        &wd,
        &[
            (
                &[
                    ("entity_id", "1"),
                    ("line_protocol", "sip"),
                    ("context", "south-users"),
                ],
                &["context.wrong_entity"],
            ),
            (
                &[
                    ("entity_id", "2"),
                    ("incall_exten", "2000"),
                    ("incall_context", "north-dids"),
                ],
                &["incall_context.wrong_entity"],
            ),
            (
                &[
                    ("entity_id", "2"),
                    ("voicemail_name", "Box"),
                    ("voicemail_number", "1100"),
                    ("voicemail_context", "north-users"),
                ],
                &["voicemail_context.wrong_entity"],
            ),
            (
                &[("entity_id", "1"), ("call_permissions", "south-intl")],
                &["call_permissions.unknown"],
            ),
        ],
    );
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn import_requires_entity_id_when_there_are_several_entities() {
    let wd = Workdir::with_reference(TWO_ENTITIES);
    let run = wd.import("firstname\nA\n", &[]);
    run.expect(1);
    assert_eq!(
        run.report().errors(),
        vec![(1, "entity_id".to_string(), "entity_id.required".to_string())]
    );
}

#[test]
fn import_uses_entity_option_for_rows_without_entity_id() {
    let wd = Workdir::with_reference(TWO_ENTITIES);
    wd.import("firstname,entity_id,line_protocol,context,exten\nA,,sip,south-users,3000\nB,1,sip,north-users,1000\n", &["--entity", "2"])
        .expect(0);
    assert_eq!(
        wd.query_rows(
            "SELECT u.firstname, u.entity_id, l.context FROM users u JOIN lines l ON l.user_id = u.id ORDER BY u.id"
        ),
        vec![vec!["A", "2", "south-users"], vec!["B", "1", "north-users"]]
    );
}

#[test]
fn import_rejects_unknown_entity_option() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname\nA\n", &["--entity", "7"]);
    run.expect(1);
    assert_eq!(run.report().codes(), ["entity_id.unknown"]);
}

#[test]
fn import_defaults_to_the_only_entity() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname\nA\n");
    assert_eq!(wd.query_one("SELECT entity_id FROM users"), "1");
}

#[test]
fn range_accepts_only_numbers_with_the_digit_count_of_its_start() {
    let wd = Workdir::with_reference(TWO_ENTITIES);
    let run = wd.import(
        "firstname,entity_id,line_protocol,context,exten\nA,2,sip,south-users,0150\nB,2,sip,south-users,150\n",
        &["--keep-going"],
    );
    run.expect(1);
    assert_eq!(
        run.report().errors(),
        vec![(2, "exten".to_string(), "exten.outside_range".to_string())]
    );
    assert_eq!(wd.query_strings("SELECT exten FROM extensions"), ["0150"]);
}

#[test]
fn import_reuses_a_free_existing_extension() {
    let wd = Workdir::with_db();
    wd.execute("INSERT INTO extensions (exten, context, line_id) VALUES ('1500', 'default', NULL)");
    let free_id = wd.query_one("SELECT id FROM extensions WHERE exten = '1500'");
    let report = wd.import_ok("firstname,line_protocol,context,exten\nA,sip,default,1500\n");
    let created = report.created_row(1);
    assert_eq!(created["extension_id"].to_string(), free_id);
    assert_eq!(wd.count("extensions"), 1, "no second 1500@default");
    assert_eq!(
        wd.query_one("SELECT line_id FROM extensions WHERE exten = '1500'"),
        created["line_id"].to_string()
    );
}

#[test]
fn a_reused_free_extension_is_counted_as_reused_not_created() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,line_protocol,context,exten\nAnn,sip,default,1500\n");
    wd.delete_users(&["Ann"]);
    assert_eq!(
        wd.query_rows("SELECT exten, line_id FROM extensions"),
        vec![vec!["1500".to_string(), "NULL".to_string()]],
        "the deleted user's extension is left free"
    );
    let csv = "firstname,line_protocol,context,exten\nBob,sip,default,1500\nCid,sip,default,1501\n";
    let r = wd.import_ok(csv);
    assert_eq!(r.created("lines"), 2);
    assert_eq!(r.created("extensions"), 1, "only 1501 was inserted");
    assert_eq!(r["summary"]["reused"], serde_json::json!({"extensions": 1}));
    assert_eq!(wd.count("extensions"), 2);

    let wd = Workdir::with_db();
    wd.import_ok("firstname,line_protocol,context,exten\nAnn,sip,default,1500\n");
    wd.delete_users(&["Ann"]);
    wd.write(
        "again.csv",
        "firstname,line_protocol,context,exten\nBob,sip,default,1500\n",
    );
    let run = wd.run(&["import", "again.csv"]);
    run.expect(0);
    assert!(
        run.stderr_mentions("0 extensions, 0 incoming numbers"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr_mentions("reusing 1 free extensions"),
        "{}",
        run.stderr
    );
}

#[test]
fn human_report_helps_with_the_contexts_and_ranges_of_the_entity() {
    let wd = Workdir::with_db();
    wd.write(
        "ctx.csv",
        "firstname,line_protocol,context,incall_exten,incall_context\nAnn,sip,nowhere,2001,default\n",
    );
    let run = wd.run(&["import", "ctx.csv"]);
    run.expect(1);
    let text = run.stderr_flat();
    assert!(
        text.contains("help: contexts of entity 1: default (internal, 1000-1999)"),
        "{text}"
    );
    assert!(
        text.contains("help: contexts of entity 1: from-extern (incall, 2000-2999)"),
        "{text}"
    );
}
