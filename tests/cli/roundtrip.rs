//! Round trips, as properties over generated users with every group and awkward text:
//! import(export(db)) exports the same bytes; update(export(db)) changes nothing; changing
//! one cell of an export and updating changes exactly that field.

use crate::workdir::{Table, Workdir};
use proptest::prelude::*;
use std::sync::OnceLock;

/// Awkward text: quotes, commas, semicolons, newlines, non-ASCII, leading `+` and zeros.
/// Only multi-line columns (userfield) may hold line breaks.
fn awkward(min: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[a-zA-Z0-9 ,;\"'\\n\\r\\téüß漢字+#=-]{{{min},12}}"
    ))
    .expect("a valid regex")
}

/// Awkward text on one line, for the columns that refuse line breaks (names).
fn awkward_line(min: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 ,;\"'\\téüß漢字+#=-]{{{min},12}}"))
        .expect("a valid regex")
}

/// One generated user: cells by column.
#[derive(Clone, Debug)]
struct Spec(Vec<(&'static str, String)>);

/// A valid argon2id hash, computed once (hashing is the slow part of an import).
fn phc() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let salt = SaltString::from_b64("c2FsdHNhbHRzYWx0").unwrap();
        argon2::Argon2::default()
            .hash_password(b"roundtrip", &salt)
            .unwrap()
            .to_string()
    })
}

const BOOLS: [&str; 7] = [
    "enabled",
    "supervision_enabled",
    "call_transfer_enabled",
    "dtmf_hangup_enabled",
    "call_record_outgoing_external_enabled",
    "online_call_record_enabled",
    "voicemail_attach_audio",
];

const PERMISSIONS: [&str; 4] = ["international", "mobile", "premium-numbers", "local-only"];

fn user(i: usize) -> impl Strategy<Value = Spec> {
    (
        (
            awkward_line(1),
            proptest::option::of(awkward_line(0)),
            proptest::option::of(awkward(1)),
        ),
        (
            any::<bool>(),
            proptest::option::of("\\+?0[0-9]{1,8}"),
            proptest::option::of("[a-z]{2}_[A-Z]{2}"),
        ),
        (
            proptest::collection::vec(any::<bool>(), BOOLS.len()),
            0..2160i64,
            1..=20i64,
            0..=10i64,
        ),
        (0..4usize, any::<bool>(), proptest::option::of("[0-9]{6}")),
        (
            0..3usize,
            proptest::collection::vec(proptest::option::of(0..100i64), 3),
        ),
        (0..3usize, proptest::option::of("[0-9#]{1,6}")),
        (
            proptest::collection::vec(any::<bool>(), 4),
            any::<bool>(),
            0..3usize,
            proptest::option::of("[0-9*#]{1,8}"),
        ),
        (
            proptest::option::of(0..3usize),
            proptest::option::of(awkward_line(0)),
            proptest::option::of(awkward_line(1)),
        ),
    )
        .prop_map(
            move |(names, contact, flags, line, incall, vm, rest, settings)| {
                let (first, last, userfield) = names;
                let (email, mobile, language) = contact;
                let (bools, ring, simultaneous, subscription) = flags;
                let (protocol, with_exten, code) = line;
                let (n_incalls, rings) = incall;
                let (vm_kind, vm_password) = vm;
                let (perms, login, cti, cpp) = rest;
                let (timezone, description, music) = settings;
                let mut c: Vec<(&'static str, String)> = vec![("firstname", first)];
                let mut put = |k: &'static str, v: Option<String>| {
                    if let Some(v) = v {
                        c.push((k, v));
                    }
                };
                put("lastname", last);
                put("userfield", userfield);
                put("email", email.then(|| format!("user{i}@Example.com")));
                put("mobile_phone_number", mobile);
                put("language", language);
                put("call_permission_password", cpp);
                put(
                    "timezone",
                    timezone
                        .map(|z| ["Europe/Paris", "America/New_York", "Asia/Kolkata"][z].into()),
                );
                put("description", description);
                put("music_on_hold", music);
                for (name, b) in BOOLS.iter().zip(&bools) {
                    if *name != "voicemail_attach_audio" {
                        put(name, Some(u8::from(*b).to_string()));
                    }
                }
                put("ring_seconds", Some((ring * 5).to_string()));
                put("simultaneous_calls", Some(simultaneous.to_string()));
                put("subscription_type", Some(subscription.to_string()));
                if protocol > 0 {
                    put(
                        "line_protocol",
                        Some(["sip", "sccp", "webrtc"][protocol - 1].into()),
                    );
                    put("context", Some("default".into()));
                    put(
                        "provisioning_code",
                        code.map(|c| format!("{c}{i}")[..6].to_string()),
                    );
                    if with_exten {
                        put("exten", Some((1000 + i).to_string()));
                    }
                }
                if n_incalls > 0 {
                    let numbers: Vec<String> = (0..n_incalls)
                        .rev()
                        .map(|k| (2000 + i * 3 + k).to_string())
                        .collect();
                    put("incall_exten", Some(numbers.join(";")));
                    put(
                        "incall_context",
                        Some(vec!["from-extern"; n_incalls].join(";")),
                    );
                    let r: Vec<String> = rings[..n_incalls]
                        .iter()
                        .map(|r| r.map(|r| r.to_string()).unwrap_or_default())
                        .collect();
                    if r.iter().any(|x| !x.is_empty()) || n_incalls > 1 {
                        put("incall_ring_seconds", Some(r.join(";")));
                    }
                }
                if vm_kind > 0 {
                    // Kind 2 shares user 0's box (same number@context).
                    let number = if vm_kind == 2 {
                        "0100".to_string()
                    } else {
                        format!("0{}", 100 + i)
                    };
                    put("voicemail_name", Some(format!("Box {i}, \"main\"")));
                    put("voicemail_number", Some(number));
                    put("voicemail_context", Some("default".into()));
                    put("voicemail_password", vm_password);
                    put(
                        "voicemail_attach_audio",
                        Some(u8::from(bools[6]).to_string()),
                    );
                }
                let chosen: Vec<&str> = PERMISSIONS
                    .iter()
                    .zip(&perms)
                    .filter(|(_, b)| **b)
                    .map(|(p, _)| *p)
                    .collect();
                if !chosen.is_empty() {
                    put("call_permissions", Some(chosen.join(";")));
                }
                if login {
                    put("username", Some(format!("user.{i}")));
                    put("password_hash", Some(phc().to_string()));
                    if cti > 0 {
                        put("cti_profile_enabled", Some(u8::from(cti == 2).to_string()));
                        put("cti_profile_name", Some("Agent".into()));
                    }
                }
                Spec(c)
            },
        )
}

fn users() -> impl Strategy<Value = Vec<Spec>> {
    (1..5usize).prop_flat_map(|n| (0..n).map(user).collect::<Vec<_>>())
}

/// The columns the generated users may fill (a fixed header; unfilled cells stay empty).
const HEADER: [&str; 39] = [
    "firstname",
    "lastname",
    "userfield",
    "email",
    "mobile_phone_number",
    "language",
    "call_permission_password",
    "enabled",
    "supervision_enabled",
    "call_transfer_enabled",
    "dtmf_hangup_enabled",
    "call_record_outgoing_external_enabled",
    "online_call_record_enabled",
    "ring_seconds",
    "simultaneous_calls",
    "subscription_type",
    "line_protocol",
    "context",
    "provisioning_code",
    "exten",
    "incall_exten",
    "incall_context",
    "incall_ring_seconds",
    "voicemail_name",
    "voicemail_number",
    "voicemail_context",
    "voicemail_password",
    "voicemail_attach_audio",
    "call_permissions",
    "username",
    "password_hash",
    "cti_profile_enabled",
    "cti_profile_name",
    "voicemail_email",
    "voicemail_delete_messages",
    "voicemail_ask_password",
    "timezone",
    "description",
    "music_on_hold",
];

fn csv_of(specs: &[Spec]) -> String {
    let mut t = Table::new(&HEADER);
    for s in specs {
        let cells: Vec<(&str, &str)> = s.0.iter().map(|(k, v)| (*k, v.as_str())).collect();
        t = t.row(&cells);
    }
    t.csv()
}

fn export(wd: &Workdir) -> Vec<u8> {
    wd.run(&["export", "-o", "export.csv"]).expect(0);
    wd.read_bytes("export.csv")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn export_import_export_gives_the_same_bytes_and_update_changes_nothing(specs in users()) {
        let a = Workdir::with_db();
        let run = a.import(&csv_of(&specs), &[]);
        prop_assert_eq!(run.code, 0, "import failed: {}", run.stdout);
        let first = export(&a);

        let b = Workdir::with_db();
        b.write("export.csv", &first);
        let run = b.run(&["import", "export.csv"]);
        prop_assert_eq!(run.code, 0, "re-import failed: {}", run.stderr);
        let second = export(&b);
        prop_assert_eq!(String::from_utf8_lossy(&first), String::from_utf8_lossy(&second));

        let before = a.dump();
        let run = a.run(&["update", "export.csv", "--format", "json"]);
        prop_assert_eq!(run.code, 0, "update failed: {}", run.stdout);
        let report = run.report();
        prop_assert_eq!(&report["updated"], &serde_json::json!([]));
        prop_assert_eq!(a.dump(), before);
    }

    #[test]
    fn changing_one_cell_of_an_export_changes_exactly_that_field(
        specs in users(),
        pick in any::<prop::sample::Index>(),
        field in 0..4usize,
        value in awkward(1),
        line_value in awkward_line(1),
    ) {
        let wd = Workdir::with_db();
        let run = wd.import(&csv_of(&specs), &[]);
        prop_assert_eq!(run.code, 0, "import failed: {}", run.stdout);
        let original = export(&wd);
        let mut rows: Vec<csv::StringRecord> = csv::Reader::from_reader(&original[..]).records().map(Result::unwrap).collect();
        let header = csv::Reader::from_reader(&original[..]).headers().unwrap().clone();
        let row = pick.index(rows.len());
        let (column, new) = match field {
            0 => ("lastname", line_value),
            1 => ("userfield", format!("{value}!")),
            2 => ("ring_seconds", "10795".to_string()),
            _ => ("call_permissions", "premium-numbers".to_string()),
        };
        let col = header.iter().position(|h| h == column).unwrap();
        let mut cells: Vec<String> = rows[row].iter().map(str::to_string).collect();
        prop_assume!(cells[col] != new);
        cells[col] = new;
        rows[row] = csv::StringRecord::from(cells);
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&header).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        wd.write("edited.csv", w.into_inner().unwrap());

        let run = wd.run(&["update", "edited.csv", "--format", "json"]);
        prop_assert_eq!(run.code, 0, "update failed: {}", run.stdout);
        let report = run.report();
        prop_assert_eq!(&report["updated"][0]["changed"], &serde_json::json!([column]));
        prop_assert_eq!(report["updated"].as_array().unwrap().len(), 1);
        let after = export(&wd);
        prop_assert_eq!(String::from_utf8_lossy(&after), wd.read("edited.csv"));
    }
}
