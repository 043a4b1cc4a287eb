//! Every column rule of the SPEC table, with good and bad cells, and the defaults an import
//! stores for empty and absent cells.

use crate::workdir::{Table, Workdir};

/// Every column a case below may fill.
const HEADER: &[&str] = &[
    "uuid",
    "entity_id",
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
    "username",
    "password",
    "password_hash",
    "cti_profile_enabled",
    "cti_profile_name",
    "line_protocol",
    "context",
    "sip_username",
    "sip_secret",
    "provisioning_code",
    "exten",
    "incall_exten",
    "incall_context",
    "incall_ring_seconds",
    "voicemail_name",
    "voicemail_number",
    "voicemail_context",
    "voicemail_password",
    "voicemail_email",
    "voicemail_attach_audio",
    "voicemail_delete_messages",
    "voicemail_ask_password",
    "call_permissions",
];

const LINE: [(&str, &str); 2] = [("line_protocol", "sip"), ("context", "default")];
const INCALL: [(&str, &str); 2] = [("incall_exten", "2000"), ("incall_context", "from-extern")];
const VOICEMAIL: [(&str, &str); 3] = [
    ("voicemail_name", "Box"),
    ("voicemail_number", "1100"),
    ("voicemail_context", "default"),
];

/// One row: the cell under test, the cells that complete its group, the expected code.
struct Bad {
    cell: (&'static str, String),
    with: Vec<(&'static str, &'static str)>,
    code: &'static str,
}

fn bad(column: &'static str, value: impl Into<String>, code: &'static str) -> Bad {
    Bad {
        cell: (column, value.into()),
        with: Vec::new(),
        code,
    }
}

impl Bad {
    fn with(mut self, cells: &[(&'static str, &'static str)]) -> Bad {
        self.with.extend_from_slice(cells);
        self
    }
}

fn bad_cases() -> Vec<Bad> {
    let long = |n: usize| "x".repeat(n);
    let mut cases = vec![
        bad("uuid", "not-a-uuid", "uuid.invalid"),
        bad(
            "uuid",
            "0190a000-0000-7000-8000-00000000000",
            "uuid.invalid",
        ),
        bad("entity_id", "abc", "entity_id.not_int"),
        bad("entity_id", "99", "entity_id.unknown"),
        bad("subscription_type", "11", "subscription_type.out_of_range"),
        bad("subscription_type", "1.5", "subscription_type.not_int"),
        bad("firstname", long(129), "firstname.too_long"),
        bad("lastname", long(129), "lastname.too_long"),
        bad("email", "not-an-email", "email.invalid"),
        bad("email", "two@@example.com", "email.invalid"),
        bad(
            "email",
            format!("{}@example.com", "a".repeat(243)),
            "email.too_long",
        ),
        bad(
            "mobile_phone_number",
            "06 12 34",
            "mobile_phone_number.invalid",
        ),
        bad(
            "mobile_phone_number",
            "++3361",
            "mobile_phone_number.invalid",
        ),
        bad(
            "mobile_phone_number",
            format!("+{}", "1".repeat(81)),
            "mobile_phone_number.invalid",
        ),
        bad(
            "outgoing_caller_id",
            long(81),
            "outgoing_caller_id.too_long",
        ),
        bad("language", "en_us", "language.invalid"),
        bad("language", "EN_US", "language.invalid"),
        bad("language", "english", "language.invalid"),
        bad(
            "call_permission_password",
            "12ab",
            "call_permission_password.invalid",
        ),
        bad(
            "call_permission_password",
            "1".repeat(17),
            "call_permission_password.invalid",
        ),
        bad("ring_seconds", "31", "ring_seconds.not_multiple_of_5"),
        bad("ring_seconds", "10805", "ring_seconds.out_of_range"),
        bad("ring_seconds", "+30", "ring_seconds.not_int"),
        bad("ring_seconds", " 30", "ring_seconds.not_int"),
        bad("ring_seconds", "-5", "ring_seconds.not_int"),
        bad("simultaneous_calls", "0", "simultaneous_calls.out_of_range"),
        bad(
            "simultaneous_calls",
            "21",
            "simultaneous_calls.out_of_range",
        ),
        bad("simultaneous_calls", "+30", "simultaneous_calls.not_int"),
        bad("simultaneous_calls", "five", "simultaneous_calls.not_int"),
        bad("userfield", long(129), "userfield.too_long"),
        bad("username", "a", "username.invalid"),
        bad("username", "john doe", "username.invalid"),
        bad("password", "abc", "password.too_short").with(&[("username", "pw-short")]),
        bad("password", long(65), "password.too_long").with(&[("username", "pw-long")]),
        bad("password_hash", "not-a-phc-hash", "password_hash.invalid")
            .with(&[("username", "hash-plain")]),
        bad(
            "password_hash",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "password_hash.invalid",
        )
        .with(&[("username", "hash-bcrypt")]),
        bad(
            "password_hash",
            "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "password_hash.invalid",
        )
        .with(&[("username", "hash-argon2i")]),
        bad("cti_profile_enabled", "2", "cti_profile_enabled.not_bool"),
        bad("line_protocol", "iax", "line_protocol.invalid").with(&[("context", "default")]),
        bad("context", long(80), "context.too_long").with(&[("line_protocol", "sip")]),
        bad("provisioning_code", "12345", "provisioning_code.invalid").with(&LINE),
        bad("provisioning_code", "1234567", "provisioning_code.invalid").with(&LINE),
        bad("provisioning_code", "12345a", "provisioning_code.invalid").with(&LINE),
        bad("sip_username", "bad name", "sip_username.invalid").with(&LINE),
        bad("sip_username", "x".repeat(80), "sip_username.invalid").with(&LINE),
        bad("sip_secret", long(129), "sip_secret.too_long").with(&LINE),
        bad("exten", "10a0", "exten.invalid").with(&LINE),
        bad("exten", "+1000", "exten.invalid").with(&LINE),
        bad("incall_exten", "2001;20a2", "incall_exten.invalid")
            .with(&[("incall_context", "from-extern;from-extern")]),
        bad("incall_exten", "+2001", "incall_exten.invalid")
            .with(&[("incall_context", "from-extern")]),
        bad("incall_ring_seconds", "abc", "incall_ring_seconds.not_int").with(&INCALL),
        bad(
            "incall_ring_seconds",
            "10801",
            "incall_ring_seconds.out_of_range",
        )
        .with(&INCALL),
        bad("voicemail_name", long(81), "voicemail_name.too_long").with(&VOICEMAIL[1..]),
        bad("voicemail_number", "11a0", "voicemail_number.invalid")
            .with(&[VOICEMAIL[0], VOICEMAIL[2]]),
        bad("voicemail_password", "12ab", "voicemail_password.invalid").with(&VOICEMAIL),
        bad("voicemail_email", "nope", "voicemail_email.invalid").with(&VOICEMAIL),
        bad(
            "call_permissions",
            "no-such-permission",
            "call_permissions.unknown",
        ),
    ];
    let bools = [
        "enabled",
        "supervision_enabled",
        "call_transfer_enabled",
        "dtmf_hangup_enabled",
        "call_record_outgoing_external_enabled",
        "call_record_outgoing_internal_enabled",
        "call_record_incoming_external_enabled",
        "call_record_incoming_internal_enabled",
        "online_call_record_enabled",
    ];
    for column in bools {
        cases.push(Bad {
            cell: (column, "2".into()),
            with: Vec::new(),
            code: leak(format!("{column}.not_bool")),
        });
    }
    cases.push(bad("enabled", "true", "enabled.not_bool"));
    cases.push(bad(
        "supervision_enabled",
        "yes",
        "supervision_enabled.not_bool",
    ));
    for column in [
        "voicemail_attach_audio",
        "voicemail_delete_messages",
        "voicemail_ask_password",
    ] {
        cases.push(Bad {
            cell: (column, "2".into()),
            with: VOICEMAIL.to_vec(),
            code: leak(format!("{column}.not_bool")),
        });
    }
    cases
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn import_rejects_each_bad_cell_with_its_code() {
    let wd = Workdir::with_db();
    let cases = bad_cases();
    let mut table = Table::new(HEADER);
    for (i, case) in cases.iter().enumerate() {
        let name = format!("User{i}");
        let mut cells: Vec<(&str, &str)> = vec![("firstname", name.as_str())];
        cells.extend(case.with.iter().copied());
        cells.push((case.cell.0, case.cell.1.as_str()));
        table = table.row(&cells);
    }
    let run = wd.import(&table.csv(), &[]);
    run.expect(1);
    let report = run.report();
    let mut mismatches = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let row = i as u64 + 1;
        let got = report.codes_of_row(row);
        if got != [case.code] {
            mismatches.push(format!(
                "row {row}: {}={:?} (with {:?}): expected [{}], got {got:?}",
                case.cell.0, case.cell.1, case.with, case.code
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches.join("\n")
    );
    assert_eq!(report.rejected(), cases.len() as u64);
    assert_eq!(wd.count("users"), 0, "a rejected file writes nothing");
}

#[test]
fn import_reports_the_column_of_each_bad_cell() {
    let wd = Workdir::with_db();
    let csv = Table::new(&["firstname", "ring_seconds", "language"])
        .row(&[("firstname", "A"), ("ring_seconds", "31")])
        .row(&[("firstname", "B"), ("language", "en_us")])
        .csv();
    let run = wd.import(&csv, &[]);
    run.expect(1);
    assert_eq!(
        run.report().errors(),
        vec![
            (
                1,
                "ring_seconds".to_string(),
                "ring_seconds.not_multiple_of_5".to_string()
            ),
            (2, "language".to_string(), "language.invalid".to_string()),
        ]
    );
}

/// Good cells; the ones of `users` columns are read back as written.
fn good_cases() -> Vec<Vec<(&'static str, String)>> {
    let s = |v: &str| v.to_string();
    vec![
        vec![("uuid", s("0190a000-0000-7000-8000-0000000000a1"))],
        vec![("entity_id", s("1"))],
        vec![("subscription_type", s("10"))],
        vec![("subscription_type", s("0"))],
        vec![("firstname", "é".repeat(128))],
        vec![("lastname", "x".repeat(128))],
        vec![("email", s("jane.doe+pbx@example.com"))],
        vec![("mobile_phone_number", s("+33612*#"))],
        vec![("mobile_phone_number", s("0612345678"))],
        vec![("outgoing_caller_id", "\"Jane\" <1000>".repeat(5))],
        vec![("language", s("fr_CA"))],
        vec![("language", s("pt_BR"))],
        vec![("call_permission_password", s("12*#"))],
        vec![("enabled", s("0"))],
        vec![("ring_seconds", s("0"))],
        vec![("ring_seconds", s("10800"))],
        vec![("simultaneous_calls", s("1"))],
        vec![("simultaneous_calls", s("20"))],
        vec![("supervision_enabled", s("0"))],
        vec![("call_transfer_enabled", s("1"))],
        vec![("dtmf_hangup_enabled", s("1"))],
        vec![("call_record_outgoing_external_enabled", s("1"))],
        vec![("call_record_outgoing_internal_enabled", s("1"))],
        vec![("call_record_incoming_external_enabled", s("1"))],
        vec![("call_record_incoming_internal_enabled", s("1"))],
        vec![("online_call_record_enabled", s("1"))],
        vec![("userfield", "y".repeat(128))],
        vec![("username", s("john.doe_~+-@example.com"))],
        vec![("username", s("ab"))],
        vec![
            ("line_protocol", s("sccp")),
            ("context", s("default")),
            ("provisioning_code", s("012345")),
        ],
        vec![
            ("line_protocol", s("webrtc")),
            ("context", s("default")),
            ("sip_username", s("a-b_c.9")),
            ("sip_secret", "s".repeat(128)),
        ],
        vec![
            ("line_protocol", s("sip")),
            ("context", s("default")),
            ("exten", s("1999")),
        ],
        vec![
            ("incall_exten", s("2998;2999")),
            ("incall_context", s("from-extern;from-extern")),
            ("incall_ring_seconds", s("0;10800")),
        ],
        vec![
            ("voicemail_name", "v".repeat(80)),
            ("voicemail_number", s("0042")),
            ("voicemail_context", s("default")),
            ("voicemail_password", s("12#")),
            ("voicemail_email", s("box@example.com")),
            ("voicemail_attach_audio", s("1")),
            ("voicemail_delete_messages", s("1")),
            ("voicemail_ask_password", s("0")),
        ],
        vec![("call_permissions", s("international;mobile"))],
        vec![("cti_profile_enabled", s("0"))],
    ]
}

/// Columns stored under the same name in `users`.
const USER_COLUMNS: &[&str] = &[
    "uuid",
    "entity_id",
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
    "username",
];

#[test]
fn import_accepts_each_good_cell_and_stores_it_as_written() {
    let wd = Workdir::with_db();
    let cases = good_cases();
    let mut table = Table::new(HEADER);
    for (i, cells) in cases.iter().enumerate() {
        let name = format!("Good{i}");
        let mut row: Vec<(&str, &str)> = vec![("firstname", name.as_str())];
        row.extend(cells.iter().map(|(c, v)| (*c, v.as_str())));
        table = table.row(&row);
    }
    let run = wd.import(&table.csv(), &[]);
    run.expect(0);
    let report = run.report();
    assert_eq!(report.created("users"), cases.len() as u64);
    let mut mismatches = Vec::new();
    for (i, cells) in cases.iter().enumerate() {
        let user_id = &report.created_row(i as u64 + 1)["user_id"];
        for (column, value) in cells.iter().filter(|(c, _)| USER_COLUMNS.contains(c)) {
            let stored = wd.query_one(&format!("SELECT {column} FROM users WHERE id = {user_id}"));
            if &stored != value {
                mismatches.push(format!(
                    "row {}: {column}: expected {value:?}, stored {stored:?}",
                    i + 1
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn import_keeps_text_as_written_without_trimming() {
    let wd = Workdir::with_db();
    let csv = Table::new(&["firstname", "lastname", "mobile_phone_number", "userfield"])
        .row(&[
            ("firstname", "  Jane "),
            ("lastname", "007"),
            ("mobile_phone_number", "+0033612"),
            ("userfield", "a, \"quoted\" field"),
        ])
        .csv();
    wd.import_ok(&csv);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, mobile_phone_number, userfield FROM users"),
        vec![vec![
            "  Jane ".to_string(),
            "007".to_string(),
            "+0033612".to_string(),
            "a, \"quoted\" field".to_string()
        ]]
    );
}

const DEFAULTS_SQL: &str = "SELECT entity_id, enabled, supervision_enabled, ring_seconds, \
     simultaneous_calls, subscription_type, call_transfer_enabled, dtmf_hangup_enabled, \
     call_record_outgoing_external_enabled, call_record_outgoing_internal_enabled, \
     call_record_incoming_external_enabled, call_record_incoming_internal_enabled, \
     online_call_record_enabled, cti_profile_enabled, lastname, email, language, \
     mobile_phone_number, outgoing_caller_id, call_permission_password, userfield, username, \
     password_hash FROM users ORDER BY id";

fn expected_defaults() -> Vec<String> {
    [
        "1", "1", "1", "30", "5", "0", "0", "0", "0", "0", "0", "0", "0", "0", "NULL", "NULL",
        "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn import_stores_defaults_for_absent_columns() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname\nJane\n");
    assert_eq!(wd.query_rows(DEFAULTS_SQL), vec![expected_defaults()]);
}

#[test]
fn import_stores_defaults_for_empty_cells() {
    let wd = Workdir::with_db();
    let csv = Table::new(HEADER).row(&[("firstname", "Jane")]).csv();
    let report = wd.import_ok(&csv);
    assert_eq!(wd.query_rows(DEFAULTS_SQL), vec![expected_defaults()]);
    assert_eq!(report.created("lines"), 0);
    assert_eq!(report.created("voicemails"), 0);
}
