//! Resource groups: a complete group creates its resource, an empty one creates nothing, a
//! partly filled one is a row error naming each missing column; the rules between columns of
//! a group; generated credentials and password hashing.

use crate::workdir::{Table, Workdir};
use argon2::{PasswordHash, PasswordHasher, PasswordVerifier};

/// Every column of the optional groups.
const HEADER: &[&str] = &[
    "firstname",
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

/// A syntactically valid argon2id PHC string (not the hash of anything in particular).
const PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";

struct Case {
    cells: &'static [(&'static str, &'static str)],
    /// `(column, code)` pairs, in any order.
    expected: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        cells: &[("password", "s3cret-pw")],
        expected: &[("username", "login.incomplete")],
    },
    Case {
        cells: &[("password_hash", PHC)],
        expected: &[("username", "login.incomplete")],
    },
    Case {
        cells: &[("line_protocol", "sip")],
        expected: &[("context", "line.incomplete")],
    },
    Case {
        cells: &[("context", "default")],
        expected: &[("line_protocol", "line.incomplete")],
    },
    Case {
        cells: &[("sip_secret", "abc")],
        expected: &[
            ("line_protocol", "line.incomplete"),
            ("context", "line.incomplete"),
        ],
    },
    Case {
        cells: &[("provisioning_code", "123456")],
        expected: &[
            ("line_protocol", "line.incomplete"),
            ("context", "line.incomplete"),
        ],
    },
    Case {
        cells: &[("incall_exten", "2000")],
        expected: &[("incall_context", "incall.incomplete")],
    },
    Case {
        cells: &[("incall_context", "from-extern")],
        expected: &[("incall_exten", "incall.incomplete")],
    },
    Case {
        cells: &[("incall_ring_seconds", "20")],
        expected: &[
            ("incall_exten", "incall.incomplete"),
            ("incall_context", "incall.incomplete"),
        ],
    },
    Case {
        cells: &[("voicemail_name", "Box")],
        expected: &[
            ("voicemail_number", "voicemail.incomplete"),
            ("voicemail_context", "voicemail.incomplete"),
        ],
    },
    Case {
        cells: &[
            ("voicemail_number", "1100"),
            ("voicemail_context", "default"),
        ],
        expected: &[("voicemail_name", "voicemail.incomplete")],
    },
    Case {
        cells: &[("voicemail_email", "box@example.com")],
        expected: &[
            ("voicemail_name", "voicemail.incomplete"),
            ("voicemail_number", "voicemail.incomplete"),
            ("voicemail_context", "voicemail.incomplete"),
        ],
    },
    Case {
        cells: &[("exten", "1000")],
        expected: &[("exten", "exten.needs_line")],
    },
    Case {
        cells: &[("cti_profile_enabled", "1")],
        expected: &[
            ("cti_profile_name", "cti_profile.incomplete"),
            ("username", "cti_profile.incomplete"),
            ("password", "cti_profile.incomplete"),
        ],
    },
    Case {
        cells: &[
            ("cti_profile_enabled", "1"),
            ("cti_profile_name", "Client"),
            ("username", "cti-no-password"),
        ],
        expected: &[("password", "cti_profile.incomplete")],
    },
    Case {
        cells: &[
            ("username", "both-secrets"),
            ("password", "s3cret-pw"),
            ("password_hash", PHC),
        ],
        expected: &[("password_hash", "password_hash.exclusive")],
    },
    Case {
        cells: &[
            ("line_protocol", "sccp"),
            ("context", "default"),
            ("sip_username", "sccpuser"),
        ],
        expected: &[("sip_username", "sip_username.not_applicable")],
    },
    Case {
        cells: &[
            ("line_protocol", "sccp"),
            ("context", "default"),
            ("sip_secret", "abc"),
        ],
        expected: &[("sip_secret", "sip_secret.not_applicable")],
    },
    Case {
        cells: &[
            ("voicemail_name", "Box"),
            ("voicemail_number", "1101"),
            ("voicemail_context", "default"),
            ("voicemail_delete_messages", "1"),
        ],
        expected: &[("voicemail_email", "voicemail_email.required")],
    },
    Case {
        cells: &[
            ("incall_exten", "2000;2001"),
            ("incall_context", "from-extern"),
        ],
        expected: &[("incall_context", "incall_context.list_length")],
    },
    Case {
        cells: &[
            ("incall_exten", "2000;2001"),
            ("incall_context", "from-extern;from-extern"),
            ("incall_ring_seconds", "10;20;30"),
        ],
        expected: &[("incall_ring_seconds", "incall_ring_seconds.list_length")],
    },
];

#[test]
fn import_rejects_partial_groups_and_broken_group_rules() {
    let wd = Workdir::with_db();
    let mut table = Table::new(HEADER);
    for (i, case) in CASES.iter().enumerate() {
        let name = format!("User{i}");
        let mut cells = vec![("firstname", name.as_str())];
        cells.extend_from_slice(case.cells);
        table = table.row(&cells);
    }
    let run = wd.import(&table.csv(), &[]);
    run.expect(1);
    let errors = run.report().errors();
    let mut mismatches = Vec::new();
    for (i, case) in CASES.iter().enumerate() {
        let row = i as u64 + 1;
        let mut got: Vec<(String, String)> = errors
            .iter()
            .filter(|(r, _, _)| *r == row)
            .map(|(_, col, code)| (col.clone(), code.clone()))
            .collect();
        got.sort();
        let mut expected: Vec<(String, String)> = case
            .expected
            .iter()
            .map(|(c, k)| (c.to_string(), k.to_string()))
            .collect();
        expected.sort();
        if got != expected {
            mismatches.push(format!(
                "row {row} {:?}:\n  expected {expected:?}\n  got      {got:?}",
                case.cells
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn incomplete_group_message_names_the_missing_column() {
    let wd = Workdir::with_db();
    let run = wd.import("firstname,line_protocol,context\nJane,sip,\n", &[]);
    run.expect(1);
    let report = run.report();
    let error = &report["errors"][0];
    assert_eq!(error["code"], "line.incomplete");
    assert_eq!(error["column"], "context");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("context"), "message: {message}");
}

#[test]
fn import_creates_nothing_for_empty_groups() {
    let wd = Workdir::with_db();
    let csv = Table::new(HEADER).row(&[("firstname", "Jane")]).csv();
    let report = wd.import_ok(&csv);
    assert_eq!(
        wd.counts()
            .into_iter()
            .filter(|(t, _)| [
                "users",
                "lines",
                "extensions",
                "incalls",
                "voicemails",
                "user_voicemails",
                "user_call_permissions"
            ]
            .contains(t))
            .collect::<Vec<_>>(),
        vec![
            ("users", 1),
            ("lines", 0),
            ("extensions", 0),
            ("incalls", 0),
            ("voicemails", 0),
            ("user_voicemails", 0),
            ("user_call_permissions", 0)
        ]
    );
    assert_eq!(
        wd.query_rows(
            "SELECT username, password_hash, cti_profile_enabled, cti_profile_id FROM users"
        ),
        vec![vec!["NULL", "NULL", "0", "NULL"]]
    );
    let created = report.created_row(1);
    assert_eq!(created["line_id"], serde_json::Value::Null);
    assert_eq!(created["voicemail_id"], serde_json::Value::Null);
    assert_eq!(created["incall_ids"], serde_json::json!([]));
}

#[test]
fn import_creates_every_complete_group_of_a_row() {
    let wd = Workdir::with_db();
    let csv = Table::new(HEADER)
        .row(&[
            ("firstname", "Jane"),
            ("username", "jane"),
            ("password", "s3cret-pw"),
            ("cti_profile_enabled", "1"),
            ("cti_profile_name", "Agent"),
            ("line_protocol", "sip"),
            ("context", "default"),
            ("exten", "1000"),
            ("incall_exten", "2000"),
            ("incall_context", "from-extern"),
            ("incall_ring_seconds", "25"),
            ("voicemail_name", "Jane's box"),
            ("voicemail_number", "1000"),
            ("voicemail_context", "default"),
            ("call_permissions", "international"),
        ])
        .csv();
    let report = wd.import_ok(&csv);
    for (what, n) in [
        ("users", 1),
        ("lines", 1),
        ("extensions", 1),
        ("incalls", 1),
        ("voicemails", 1),
        ("call_permissions", 1),
    ] {
        assert_eq!(report.created(what), n, "summary.created.{what}");
    }
    let c = report.created_row(1);
    let user = c["user_id"].to_string();
    assert_eq!(
        wd.query_rows(&format!(
            "SELECT l.id, l.protocol, l.context, e.id, e.exten, e.context FROM lines l \
             JOIN extensions e ON e.line_id = l.id WHERE l.user_id = {user}"
        )),
        vec![vec![
            c["line_id"].to_string(),
            "sip".into(),
            "default".into(),
            c["extension_id"].to_string(),
            "1000".into(),
            "default".into()
        ]]
    );
    assert_eq!(
        wd.query_rows(&format!(
            "SELECT i.id, e.exten, e.context, i.ring_seconds FROM incalls i \
             JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = {user}"
        )),
        vec![vec![
            c["incall_ids"][0].to_string(),
            "2000".into(),
            "from-extern".into(),
            "25".into()
        ]]
    );
    assert_eq!(
        wd.query_one(&format!(
            "SELECT voicemail_id FROM user_voicemails WHERE user_id = {user}"
        )),
        c["voicemail_id"].to_string()
    );
    assert_eq!(
        wd.query_rows(&format!(
            "SELECT u.cti_profile_enabled, p.name FROM users u JOIN cti_profiles p \
             ON p.id = u.cti_profile_id WHERE u.id = {user}"
        )),
        vec![vec!["1", "Agent"]]
    );
}

#[test]
fn import_generates_sip_credentials_and_provisioning_code_on_sip_and_webrtc_lines() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,line_protocol,context\nA,sip,default\nB,webrtc,default\nC,sip,default\n",
    );
    let rows = wd.query_rows(
        "SELECT protocol, sip_username, sip_secret, provisioning_code FROM lines ORDER BY id",
    );
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let (user, secret, code) = (&r[1], &r[2], &r[3]);
        assert!(
            user.len() >= 8
                && user
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "generated sip_username {user:?} on {}",
            r[0]
        );
        assert!(
            secret.chars().count() == 16 && secret.chars().all(|c| c.is_ascii_alphanumeric()),
            "generated sip_secret {secret:?} is not 16 random characters"
        );
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "generated provisioning_code {code:?}"
        );
    }
    let distinct = |i: usize| {
        let mut v: Vec<&String> = rows.iter().map(|r| &r[i]).collect();
        v.sort();
        v.dedup();
        v.len()
    };
    assert_eq!(
        (distinct(1), distinct(2), distinct(3)),
        (3, 3, 3),
        "generated values repeat: {rows:?}"
    );
}

#[test]
fn import_stores_no_sip_credentials_on_sccp_lines() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname,line_protocol,context\nA,sccp,default\n");
    let row = &wd
        .query_rows("SELECT protocol, sip_username, sip_secret, provisioning_code FROM lines")[0];
    assert_eq!(row[..3], ["sccp", "NULL", "NULL"]);
    assert!(
        row[3].len() == 6 && row[3].bytes().all(|b| b.is_ascii_digit()),
        "provisioning_code {:?}",
        row[3]
    );
}

#[test]
fn import_keeps_given_sip_credentials_and_provisioning_code() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,line_protocol,context,sip_username,sip_secret,provisioning_code\n\
         A,sip,default,alice-1,Given-Secret,000123\n",
    );
    assert_eq!(
        wd.query_rows("SELECT sip_username, sip_secret, provisioning_code FROM lines"),
        vec![vec!["alice-1", "Given-Secret", "000123"]]
    );
}

/// The bytes of the database and its journal files.
fn database_bytes(wd: &Workdir) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(wd.dir()).expect("list the work directory") {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.starts_with("ucsv.db") {
            all.extend(std::fs::read(&path).expect("read a database file"));
        }
    }
    all
}

#[test]
fn import_stores_password_only_as_an_argon2id_hash() {
    let wd = Workdir::with_db();
    let password = "Plain-Text-Pa55word";
    wd.import_ok(&format!(
        "firstname,username,password\nJane,jane,{password}\n"
    ));
    let stored = wd.query_one("SELECT password_hash FROM users");
    assert!(stored.starts_with("$argon2id$"), "stored: {stored}");
    let hash = PasswordHash::new(&stored).expect("a PHC string");
    assert!(
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        "the stored hash does not verify the password"
    );
    let bytes = database_bytes(&wd);
    assert!(
        !bytes
            .windows(password.len())
            .any(|w| w == password.as_bytes()),
        "the plaintext password is in the database file"
    );
}

#[test]
fn import_stores_password_hash_as_given() {
    let wd = Workdir::with_db();
    let salt = argon2::password_hash::SaltString::encode_b64(b"fixed-test-salt!").expect("salt");
    let hash = argon2::Argon2::default()
        .hash_password(b"another password", &salt)
        .expect("hash")
        .to_string();
    wd.import_ok(&format!(
        "firstname,username,password_hash\nJane,jane,{}\n",
        crate::workdir::quote(&hash)
    ));
    assert_eq!(wd.query_one("SELECT password_hash FROM users"), hash);
}

#[test]
fn import_gives_the_user_exactly_the_listed_call_permissions() {
    let wd = Workdir::with_db();
    let report =
        wd.import_ok("firstname,call_permissions\nJane,mobile;international;mobile\nJohn,\n");
    assert_eq!(
        wd.query_rows(
            "SELECT u.firstname, p.name FROM user_call_permissions up \
             JOIN users u ON u.id = up.user_id \
             JOIN call_permissions p ON p.id = up.call_permission_id ORDER BY u.id, p.name"
        ),
        vec![vec!["Jane", "international"], vec!["Jane", "mobile"]]
    );
    assert_eq!(report.created("call_permissions"), 2);
    assert_eq!(
        report.created_row(1)["call_permission_ids"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn import_creates_one_incall_per_list_item() {
    let wd = Workdir::with_db();
    let report = wd.import_ok(
        "firstname,incall_exten,incall_context,incall_ring_seconds\n\
         Jane,2001;2002,from-extern;from-extern,15;\n",
    );
    assert_eq!(report.created("incalls"), 2);
    assert_eq!(
        wd.query_rows(
            "SELECT e.exten, e.context, e.line_id, i.ring_seconds FROM incalls i \
             JOIN extensions e ON e.id = i.extension_id ORDER BY e.exten"
        ),
        vec![
            vec!["2001", "from-extern", "NULL", "15"],
            vec!["2002", "from-extern", "NULL", "NULL"]
        ]
    );
}

#[test]
fn import_stores_voicemail_settings_with_defaults() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,voicemail_name,voicemail_number,voicemail_context,voicemail_password\n\
         Jane,Jane's box,1100,default,12#\n",
    );
    assert_eq!(
        wd.query_rows(
            "SELECT name, number, context, password, email, attach_audio, delete_messages, \
             ask_password FROM voicemails"
        ),
        vec![vec![
            "Jane's box",
            "1100",
            "default",
            "12#",
            "NULL",
            "0",
            "0",
            "1"
        ]]
    );
}

#[test]
fn import_assigns_cti_profile_by_name() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,username,password,cti_profile_enabled,cti_profile_name\n\
         Jane,jane,s3cret-pw,1,Supervisor\nJohn,,,0,Client\n",
    );
    assert_eq!(
        wd.query_rows(
            "SELECT u.firstname, u.cti_profile_enabled, p.name FROM users u \
             LEFT JOIN cti_profiles p ON p.id = u.cti_profile_id ORDER BY u.id"
        ),
        vec![vec!["Jane", "1", "Supervisor"], vec!["John", "0", "Client"]]
    );
}
