//! Secrets (password, password_hash, sip_secret, voicemail_password,
//! call_permission_password) never appear in messages, in either format, nor in the errors
//! file; the human format masks them in the row's text.

use crate::workdir::{Run, Table, Workdir};

const MARK: &str = "zz-SECRET-zz";

const HEADER: &[&str] = &[
    "firstname",
    "ring_seconds",
    "username",
    "password",
    "password_hash",
    "line_protocol",
    "context",
    "sip_secret",
    "voicemail_name",
    "voicemail_number",
    "voicemail_context",
    "voicemail_password",
    "call_permission_password",
];

/// One row per secret column, each holding a value invalid for that column that contains
/// the marker.
fn bad_secrets_csv() -> String {
    let too_long_password = MARK.repeat(6); // 72 characters: more than 64
    let too_long_sip_secret = MARK.repeat(11); // 132 characters: more than 128
    Table::new(HEADER)
        .row(&[
            ("firstname", "A"),
            ("username", "user-a"),
            ("password", &too_long_password),
        ])
        .row(&[
            ("firstname", "B"),
            ("username", "user-b"),
            ("password_hash", MARK),
        ])
        .row(&[
            ("firstname", "C"),
            ("line_protocol", "sip"),
            ("context", "default"),
            ("sip_secret", &too_long_sip_secret),
        ])
        .row(&[
            ("firstname", "D"),
            ("voicemail_name", "Box"),
            ("voicemail_number", "1100"),
            ("voicemail_context", "default"),
            ("voicemail_password", MARK),
        ])
        .row(&[("firstname", "E"), ("call_permission_password", MARK)])
        .csv()
}

#[track_caller]
fn assert_not_echoed(run: &Run, secret: &str) {
    assert!(
        !run.stdout.contains(secret),
        "stdout shows the secret {secret:?}:\n{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(secret),
        "stderr shows the secret {secret:?}:\n{}",
        run.stderr
    );
}

#[test]
fn bad_secret_values_are_not_echoed_in_the_json_report() {
    let wd = Workdir::with_db();
    let run = wd.import(&bad_secrets_csv(), &["--errors", "errors.csv"]);
    run.expect(1);
    assert_eq!(
        run.report().codes(),
        [
            "password.too_long",
            "password_hash.invalid",
            "sip_secret.too_long",
            "voicemail_password.invalid",
            "call_permission_password.invalid"
        ]
    );
    assert_not_echoed(&run, MARK);
    let errors = wd.read("errors.csv");
    assert!(
        !errors.contains(MARK),
        "errors.csv shows a secret:\n{errors}"
    );
}

#[test]
fn bad_secret_values_are_not_echoed_in_the_human_report() {
    let wd = Workdir::with_db();
    wd.write("users.csv", bad_secrets_csv());
    let run = wd.run(&["import", "users.csv"]);
    run.expect(1);
    assert!(
        run.stderr.contains("password.too_long"),
        "stderr: {}",
        run.stderr
    );
    assert_not_echoed(&run, MARK);
}

#[test]
fn valid_secrets_of_a_rejected_row_are_masked_in_the_human_report() {
    let wd = Workdir::with_db();
    let csv = Table::new(HEADER)
        .row(&[
            ("firstname", "A"),
            ("ring_seconds", "31"),
            ("username", "user-a"),
            ("password", "Valid-Pa55-zz"),
            ("line_protocol", "sip"),
            ("context", "default"),
            ("sip_secret", "Valid-Sip-zz"),
            ("voicemail_name", "Box"),
            ("voicemail_number", "1100"),
            ("voicemail_context", "default"),
            ("voicemail_password", "987654321"),
            ("call_permission_password", "*4242#"),
        ])
        .csv();
    wd.write("users.csv", &csv);
    let human = wd.run(&["import", "users.csv"]);
    human.expect(1);
    let json = wd.run(&["import", "users.csv", "--format", "json"]);
    json.expect(1);
    for secret in ["Valid-Pa55-zz", "Valid-Sip-zz", "987654321", "*4242#"] {
        assert_not_echoed(&human, secret);
        assert_not_echoed(&json, secret);
    }
    assert!(
        human.stderr.contains("********"),
        "secrets are masked in the row's text:\n{}",
        human.stderr
    );
    assert!(
        human.stderr.contains("user-a"),
        "the row's other cells are shown:\n{}",
        human.stderr
    );
}

#[test]
fn valid_password_hash_of_a_rejected_row_is_not_echoed() {
    let wd = Workdir::with_db();
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
    let csv = Table::new(HEADER)
        .row(&[
            ("firstname", "A"),
            ("ring_seconds", "31"),
            ("username", "user-a"),
            ("password_hash", hash),
        ])
        .csv();
    wd.write("users.csv", &csv);
    let human = wd.run(&["import", "users.csv"]);
    human.expect(1);
    let json = wd.run(&["import", "users.csv", "--format", "json"]);
    json.expect(1);
    // The salt and hash parts are what must stay hidden.
    for part in ["c2FsdHNhbHRzYWx0", "aGFzaGhhc2hoYXNo"] {
        assert_not_echoed(&human, part);
        assert_not_echoed(&json, part);
    }
}

#[test]
fn secret_split_by_an_unquoted_delimiter_is_not_shown() {
    // A password holding the delimiter, not quoted: the row is ragged and the secret's
    // pieces land in other fields.
    let wd = Workdir::with_db();
    wd.write(
        "users.csv",
        "firstname,username,password,lastname\nJane,jane,Pass,word-zz,Doe\n",
    );
    let human = wd.run(&["import", "users.csv"]);
    human.expect(1);
    let json = wd.run(&["import", "users.csv", "--format", "json"]);
    json.expect(1);
    assert_eq!(json.report().codes(), ["row.field_count"]);
    for part in ["Pass", "word-zz"] {
        assert_not_echoed(&human, part);
        assert_not_echoed(&json, part);
    }
}
