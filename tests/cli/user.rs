//! `ucsv user add|set|delete|show|list` (SPEC §7), through the real binary, on the backend
//! under test.

use crate::workdir::Workdir;
use serde_json::Value;

/// Parses CSV text into its rows (the header first).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| {
            r.expect("a CSV record")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn add_creates_a_user_per_number_and_prints_their_credentials_once() {
    let wd = Workdir::with_db();
    let run = wd.run(&[
        "user",
        "add",
        "1000..1002",
        "--set",
        "email={dn}@acme.example",
        "--set",
        "lastname=Office",
        "--format",
        "csv",
    ]);
    run.expect(0);
    let rows = csv_rows(&run.stdout);
    assert_eq!(
        rows[0],
        [
            "exten",
            "uuid",
            "sip_username",
            "sip_secret",
            "provisioning_code"
        ]
    );
    assert_eq!(rows.len(), 4, "{}", run.stdout);
    for (row, dn) in rows[1..].iter().zip(["1000", "1001", "1002"]) {
        assert_eq!(row[0], dn);
        assert_eq!(row[1].len(), 36, "a uuid: {row:?}");
        assert!(
            !row[2].is_empty() && !row[3].is_empty() && row[4].len() == 6,
            "{row:?}"
        );
    }
    assert_eq!(
        wd.query_rows(
            "SELECT u.firstname, u.lastname, u.email, e.exten, l.protocol FROM users u
             JOIN lines l ON l.user_id = u.id JOIN extensions e ON e.line_id = l.id ORDER BY e.exten"
        ),
        [
            ["1000", "Office", "1000@acme.example", "1000", "sip"],
            ["1001", "Office", "1001@acme.example", "1001", "sip"],
            ["1002", "Office", "1002@acme.example", "1002", "sip"],
        ]
    );
    // What is printed is what is stored.
    let stored = wd.query_rows(
        "SELECT e.exten, u.uuid, l.sip_username, l.sip_secret, l.provisioning_code FROM users u
         JOIN lines l ON l.user_id = u.id JOIN extensions e ON e.line_id = l.id ORDER BY e.exten",
    );
    assert_eq!(stored, rows[1..].to_vec());
    // The secret is printed by add only: show prints it from the database, never the log.
    assert!(!run.stderr.contains(&rows[1][3]), "{}", run.stderr);
}

#[test]
fn add_and_set_with_json_print_one_document_with_the_report_and_the_users() {
    let wd = Workdir::with_db();
    let run = wd.run(&["user", "add", "1000..1001", "--format", "json"]);
    run.expect(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["report"]["command"], "user add", "{doc}");
    assert_eq!(doc["report"]["committed"], true);
    assert_eq!(doc["report"]["summary"]["created"]["users"], 2);
    let users = doc["users"].as_array().expect("users");
    assert_eq!(users.len(), 2);
    assert_eq!(users[0]["exten"], "1000");
    let stored = wd.query_one("SELECT sip_secret FROM lines ORDER BY id LIMIT 1");
    assert_eq!(users[0]["sip_secret"], stored.as_str());
    // The human report is not printed beside it.
    assert!(!run.stderr.contains("created"), "{}", run.stderr);
    // A refused row: the report says why, no users, exit 1.
    let run = wd.run(&["user", "add", "1001", "--format", "json"]);
    run.expect(1);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["report"]["committed"], false);
    assert!(doc["report"]["errors"][0]["code"].is_string(), "{doc}");
    assert_eq!(doc["users"], serde_json::json!([]));
    let run = wd.run(&[
        "user",
        "set",
        "1000",
        "--set",
        "lastname=Moved",
        "--format",
        "json",
    ]);
    run.expect(0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(doc["report"]["summary"]["updated"]["users"], 1, "{doc}");
    assert_eq!(doc["users"][0]["lastname"], "Moved");
}

#[test]
fn add_keeps_leading_zeros_and_takes_the_protocol_and_a_password() {
    let wd = Workdir::with_reference(
        "[[entity]]\nid = 1\nname = \"default\"\n\n[[context]]\nname = \"office\"\nentity = 1\ntype = \"internal\"\nranges = [\"0100-0199\"]\n",
    );
    wd.run(&["user", "add", "0098..0101", "--protocol", "sccp"])
        .expect(1);
    assert_eq!(
        wd.count("users"),
        0,
        "0098 and 0099 are outside the range: nothing is written"
    );
    let run = wd.run(&[
        "user",
        "add",
        "0100..0101",
        "--protocol",
        "sccp",
        "--password",
        "Secret-pw-1",
        "--set",
        "username=u{dn}",
    ]);
    run.expect(0);
    assert!(!run.stdout.contains("Secret-pw-1") && !run.stderr.contains("Secret-pw-1"));
    assert_eq!(
        wd.query_rows("SELECT e.exten, e.context, l.protocol FROM extensions e JOIN lines l ON l.id = e.line_id ORDER BY 1"),
        [["0100", "office", "sccp"], ["0101", "office", "sccp"]]
    );
    let hashes = wd.query_strings("SELECT password_hash FROM users");
    assert!(
        hashes.iter().all(|h| h.starts_with("$argon2id$")),
        "{hashes:?}"
    );
}

#[test]
fn add_refuses_bad_ranges_and_columns_and_writes_nothing() {
    let wd = Workdir::with_db();
    for (args, says) in [
        (&["user", "add", "1010..1000"][..], "goes backwards"),
        (&["user", "add", "999..1000"][..], "digit count"),
        (&["user", "add", "1000000..1200000"][..], "at most 100000"),
        (&["user", "add", "10a0"][..], "not a number"),
        (
            &["user", "add", "1000", "--set", "lastnme=X"][..],
            "did you mean 'lastname'",
        ),
        (
            &["user", "add", "1000", "--set", "exten=5"][..],
            "sets exten itself",
        ),
        (
            &["user", "add", "1000", "--set", "lastname"][..],
            "COLUMN=VALUE",
        ),
        (
            &["user", "add", "2000", "--context", "from-extern"][..],
            "internal context",
        ),
        (
            &["user", "add", "1000", "--context", "nowhere"][..],
            "does not exist",
        ),
    ] {
        let run = wd.run(args);
        run.expect(2);
        assert!(run.stderr_mentions(says), "{args:?}: {}", run.stderr);
    }
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn add_is_all_or_nothing_unless_keep_going() {
    let wd = Workdir::with_db();
    wd.run(&["user", "add", "1001"]).expect(0);
    let run = wd.run(&["user", "add", "1000..1002"]);
    run.expect(1);
    assert!(run.stderr_mentions("exten.in_use"), "{}", run.stderr);
    assert_eq!(wd.count("users"), 1, "nothing of the range is written");
    let run = wd.run(&["user", "add", "1000..1002", "-k", "--format", "csv"]);
    run.expect(1);
    assert_eq!(
        csv_rows(&run.stdout).len(),
        3,
        "two users created: {}",
        run.stdout
    );
    assert_eq!(wd.count("users"), 3);
}

#[test]
fn set_changes_the_columns_of_each_target_with_update_rules() {
    let wd = Workdir::with_db();
    wd.run(&[
        "user",
        "add",
        "1000..1002",
        "--set",
        "lastname=Before",
        "--set",
        "username=u{dn}",
    ])
    .expect(0);
    let run = wd.run(&[
        "user",
        "set",
        "1001..1002",
        "--set",
        "lastname=After",
        "--set",
        "email={dn}@x.example",
    ]);
    run.expect(0);
    assert_eq!(
        wd.query_rows("SELECT firstname, lastname, email FROM users ORDER BY firstname"),
        [
            ["1000", "Before", "NULL"],
            ["1001", "After", "1001@x.example"],
            ["1002", "After", "1002@x.example"],
        ]
    );
    // By username, an empty value unsets.
    wd.run(&["user", "set", "u1001", "--set", "email="])
        .expect(0);
    assert_eq!(
        wd.query_one("SELECT email FROM users WHERE firstname = '1001'"),
        "NULL"
    );
    // The update rules: a bad value rejects the user, nothing written.
    let run = wd.run(&["user", "set", "1000", "--set", "ring_seconds=7"]);
    run.expect(1);
    assert!(run.stderr_mentions("ring_seconds"), "{}", run.stderr);
    let run = wd.run(&["user", "set", "1500", "--set", "lastname=X"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("no user matches 1500"),
        "{}",
        run.stderr
    );
}

#[test]
fn delete_frees_the_numbers_and_guards_a_voicemail_box_owned_alone() {
    let wd = Workdir::with_db();
    for (dn, did) in [("1000", "2000"), ("1001", "2001")] {
        wd.run(&[
            "user",
            "add",
            dn,
            "--set",
            "voicemail_name=Box {dn}",
            "--set",
            "voicemail_number={dn}",
            "--set",
            "voicemail_context=default",
            "--set",
            &format!("incall_exten={did}"),
            "--set",
            "incall_context=from-extern",
        ])
        .expect(0);
    }
    // A third user shares 1000's box.
    wd.run(&[
        "user",
        "add",
        "1002",
        "--set",
        "voicemail_name=Box 1000",
        "--set",
        "voicemail_number=1000",
        "--set",
        "voicemail_context=default",
    ])
    .expect(0);
    let run = wd.run(&["user", "delete", "1001"]);
    run.expect(1);
    assert!(run.stderr_mentions("user.owns_voicemail"), "{}", run.stderr);
    assert_eq!(wd.count("users"), 3);
    wd.run(&["user", "delete", "1001", "--delete-voicemail"])
        .expect(0);
    // 1000 shares its box: deleted without the box.
    wd.run(&["user", "delete", "1000"]).expect(0);
    assert_eq!(wd.query_strings("SELECT number FROM voicemails"), ["1000"]);
    assert_eq!(wd.count("users"), 1);
    assert_eq!(wd.count("incalls"), 0);
    assert_eq!(wd.query_strings("SELECT exten FROM extensions"), ["1002"]);
    // The numbers are free again.
    for (dn, did) in [("1000", "2000"), ("1001", "2001")] {
        wd.run(&[
            "user",
            "add",
            dn,
            "--set",
            &format!("incall_exten={did}"),
            "--set",
            "incall_context=from-extern",
        ])
        .expect(0);
    }
    assert_eq!(wd.count("users"), 3);
}

#[test]
fn delete_of_a_range_is_all_or_nothing_unless_forced() {
    let wd = Workdir::with_db();
    wd.run(&["user", "add", "1000..1002"]).expect(0);
    wd.run(&[
        "user",
        "set",
        "1001",
        "--set",
        "voicemail_name=B",
        "--set",
        "voicemail_number=1001",
        "--set",
        "voicemail_context=default",
    ])
    .expect(0);
    wd.run(&["user", "delete", "1000..1002"]).expect(1);
    assert_eq!(wd.count("users"), 3, "nothing deleted");
    let run = wd.run(&["-q", "user", "delete", "1000..1002", "-f"]);
    run.expect(1);
    assert_eq!(run.stderr, "", "-q silences the forced errors");
    assert_eq!(wd.query_strings("SELECT firstname FROM users"), ["1001"]);
}

#[test]
fn show_finds_a_user_by_each_key_in_each_format() {
    let wd = Workdir::with_db();
    wd.run(&[
        "user",
        "add",
        "1000..1001",
        "--set",
        "username=ann{dn}",
        "--set",
        "email=Ann{dn}@x.example",
    ])
    .expect(0);
    let uuid = wd.query_one("SELECT uuid FROM users WHERE firstname = '1001'");
    let id = wd.query_one("SELECT id FROM users WHERE firstname = '1001'");
    for target in [
        "1001",
        "ann1001",
        "ann1001@X.EXAMPLE",
        &uuid,
        &format!("id:{id}"),
    ] {
        let run = wd.run(&["user", "show", target, "--format", "json"]);
        run.expect(0);
        let users: Value = serde_json::from_str(&run.stdout).expect("JSON");
        assert_eq!(users.as_array().map(Vec::len), Some(1), "{target}");
        let u = &users[0];
        assert_eq!(u["uuid"], uuid.as_str(), "{target}");
        assert_eq!(u["ring_seconds"], 30, "integers are typed");
        assert_eq!(u["enabled"], true, "booleans are typed");
        assert_eq!(u["lastname"], Value::Null);
    }
    let run = wd.run(&["user", "show", "1000..1001", "--short"]);
    run.expect(0);
    assert!(
        run.stdout.contains("1001@default") && run.stdout.contains("ann1000"),
        "{}",
        run.stdout
    );
    let run = wd.run(&["user", "show", "1000..1002"]);
    run.expect(1);
    assert_eq!(run.stdout, "", "all or nothing");
    assert!(run.stderr_mentions("no user has 1002"), "{}", run.stderr);
    let run = wd.run(&["user", "show", "1000..1002", "-k", "--format", "csv"]);
    run.expect(1);
    assert_eq!(csv_rows(&run.stdout).len(), 3);
    wd.run(&["user", "show", "nobody"]).expect(2);
}

#[test]
fn list_searches_orders_and_pages_with_the_total() {
    let wd = Workdir::with_db();
    wd.run(&["user", "add", "1000..1004", "--set", "lastname=Acme {dn}"])
        .expect(0);
    wd.run(&["user", "add", "1100", "--set", "lastname=Other"])
        .expect(0);
    let run = wd.run(&[
        "user",
        "list",
        "--search",
        "ACME",
        "--order",
        "exten",
        "--direction",
        "desc",
        "--limit",
        "2",
        "--offset",
        "1",
        "--format",
        "json",
    ]);
    run.expect(0);
    let list: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(list["total"], 5, "every match, whatever the limit");
    let extens: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["exten"].as_str().unwrap())
        .collect();
    assert_eq!(extens, ["1003", "1002"]);
    // Ordered by a column the table leaves out.
    wd.run(&[
        "user",
        "list",
        "--order",
        "incall_exten",
        "--direction",
        "desc",
    ])
    .expect(0);
    let run = wd.run(&["user", "list", "--order", "nosuch"]);
    run.expect(2);
    let run = wd.run(&["user", "list", "--format", "json", "--search", "zzz"]);
    run.expect(0);
    let list: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(list["total"], 0);
    assert_eq!(list["items"], Value::Array(Vec::new()));
}

#[test]
fn list_as_csv_feeds_update_unchanged() {
    let wd = Workdir::with_db();
    wd.run(&[
        "user",
        "add",
        "1000..1009",
        "--set",
        "email={dn}@acme.example",
    ])
    .expect(0);
    let run = wd.run(&["user", "list", "--search", "acme", "--format", "csv"]);
    run.expect(0);
    wd.write("f.csv", &run.stdout);
    let before = wd.dump();
    let run = wd.run(&["update", "f.csv", "--format", "json"]);
    run.expect(0);
    assert_eq!(run.report()["summary"]["updated"]["unchanged"], 10);
    assert_eq!(wd.dump(), before);
    // Edited, it changes the users.
    wd.write(
        "f.csv",
        run_replace(&wd.read("f.csv"), "@acme.example", "@new.example"),
    );
    wd.run(&["update", "f.csv"]).expect(0);
    assert_eq!(
        wd.query_one("SELECT count(*) FROM users WHERE email LIKE '%@new.example'"),
        "10"
    );
}

fn run_replace(text: &str, from: &str, to: &str) -> String {
    text.replace(from, to)
}

const DEFAULTS: &str = "[[entity]]\nid = 1\nname = \"paris\"\ndefault_language = \"fr_FR\"\ndefault_timezone = \"Europe/Paris\"\n\n[[entity]]\nid = 2\nname = \"plain\"\n\n[[context]]\nname = \"default\"\nentity = 1\ntype = \"internal\"\nranges = [\"1000-1999\"]\n";

#[test]
fn an_entity_gives_its_default_language_and_time_zone_to_new_users() {
    let wd = Workdir::with_reference(DEFAULTS);
    wd.import_ok(
        "firstname,entity_id,language,timezone\nAnn,1,,\nBob,1,en_US,America/New_York\nCid,2,,\n",
    );
    assert_eq!(
        wd.query_rows("SELECT firstname, language, timezone FROM users ORDER BY firstname"),
        [
            ["Ann", "fr_FR", "Europe/Paris"],
            ["Bob", "en_US", "America/New_York"],
            ["Cid", "NULL", "NULL"],
        ]
    );
    let shown = wd.run(&["reference", "show"]);
    shown.expect(0);
    assert!(
        shown.stdout.contains("default_language = \"fr_FR\"")
            && shown.stdout.contains("default_timezone = \"Europe/Paris\""),
        "{}",
        shown.stdout
    );
    // A default that is not a language or a zone is refused with the entity named.
    wd.write("bad.toml", DEFAULTS.replace("Europe/Paris", "Mars/Olympus"));
    let run = wd.run(&["reference", "apply", "bad.toml"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("entity 1 'paris': default_timezone"),
        "{}",
        run.stderr
    );
}

#[test]
fn timezone_description_and_music_on_hold_import_export_and_unset() {
    let wd = Workdir::with_db();
    let run = wd.import(
        "firstname,timezone,description,music_on_hold\nAnn,Europe/Paris,Front desk,jazz\nBob,Paris/Europe,,\n",
        &["--keep-going"],
    );
    run.expect(1);
    assert_eq!(run.report().codes(), ["timezone.invalid"]);
    wd.run(&["export", "-o", "all.csv"]).expect(0);
    let rows = csv_rows(&wd.read("all.csv"));
    let n = rows[0].len();
    assert_eq!(
        rows[0][n - 3..],
        ["timezone", "description", "music_on_hold"]
    );
    assert_eq!(rows[1][n - 3..], ["Europe/Paris", "Front desk", "jazz"]);
    let uuid = &rows[1][0];
    wd.write(
        "unset.csv",
        format!("uuid,timezone,music_on_hold\n{uuid},,\n"),
    );
    wd.run(&["update", "unset.csv"]).expect(0);
    assert_eq!(
        wd.query_rows("SELECT timezone, description, music_on_hold FROM users"),
        [["NULL", "Front desk", "NULL"]]
    );
}

#[test]
fn a_voicemail_box_named_after_its_user_follows_the_new_name() {
    let wd = Workdir::with_db();
    wd.import_ok(
        "firstname,lastname,voicemail_name,voicemail_number,voicemail_context\nAnn,Lee,Ann Lee,1100,default\nBob,Roe,Bob's box,1101,default\n",
    );
    // By `user set`, and by an edited export (whose voicemail_name cell is the old name).
    wd.run(&[
        "user",
        "set",
        &wd.query_one("SELECT uuid FROM users WHERE firstname = 'Ann'"),
        "--set",
        "firstname=Anne",
    ])
    .expect(0);
    wd.run(&["export", "-o", "e.csv"]).expect(0);
    wd.write(
        "e.csv",
        wd.read("e.csv")
            .replace(",Bob,Roe,", ",Robert,Roe,")
            .replace(",Anne,Lee,", ",Anne,Lee-Smith,"),
    );
    let run = wd.run(&["update", "e.csv", "--format", "json"]);
    run.expect(0);
    assert_eq!(
        wd.query_rows("SELECT name, number FROM voicemails ORDER BY number"),
        [["Anne Lee-Smith", "1100"], ["Bob's box", "1101"]],
        "a box named otherwise keeps its name"
    );
    let updated = run.report()["updated"].clone();
    assert!(
        updated[0]["changed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "voicemail_name"),
        "{updated}"
    );
}

#[test]
fn dns_need_a_context_when_the_entity_has_several_internal_ones() {
    let wd = Workdir::with_reference(
        "[[entity]]\nid = 1\nname = \"default\"\n\n[[context]]\nname = \"paris\"\nentity = 1\ntype = \"internal\"\nranges = [\"1000-1999\"]\n\n[[context]]\nname = \"lyon\"\nentity = 1\ntype = \"internal\"\nranges = [\"2000-2999\"]\n",
    );
    let run = wd.run(&["user", "add", "1000"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("several internal contexts could hold the DNs (lyon, paris)"),
        "{}",
        run.stderr
    );
    assert_eq!(wd.count("users"), 0);
    wd.run(&["user", "add", "2000", "--context", "lyon"])
        .expect(0);
    wd.run(&["user", "show", "2000", "--context", "lyon", "--short"])
        .expect(0);
    wd.run(&["user", "show", "2000"]).expect(2);
}

#[test]
fn list_search_folds_ascii_case_and_finds_a_name_by_its_own_spelling() {
    let wd = Workdir::with_db();
    wd.run(&[
        "user",
        "add",
        "1000",
        "--set",
        "firstname=Élodie",
        "--set",
        "lastname=Ñúñez",
    ])
    .expect(0);
    wd.run(&[
        "user",
        "add",
        "1001",
        "--set",
        "firstname=elodie",
        "--set",
        "lastname=Nunez",
    ])
    .expect(0);
    let found = |search: &str| -> Vec<String> {
        let run = wd.run(&["user", "list", "--format", "json", "--search", search]);
        run.expect(0);
        let list: Value = serde_json::from_str(&run.stdout).expect("JSON");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["exten"].as_str().unwrap().to_string())
            .collect()
    };
    // The same answers on both backends, whatever PostgreSQL's locale: ASCII letters match
    // in any case, other letters as written.
    assert_eq!(found("Élodie"), ["1000"]);
    assert_eq!(found("ÉLODIE"), ["1000"]);
    assert_eq!(found("lodie"), ["1000", "1001"]);
    assert_eq!(found("ELODIE"), ["1001"]);
    assert_eq!(found("élodie"), Vec::<String>::new());
    assert_eq!(found("Ñúñ"), ["1000"]);
    assert_eq!(found("ÑÚÑ"), Vec::<String>::new());
    assert_eq!(found("nunez"), ["1001"]);
}

/// Whether a user matches a search, as the listing defines it: the text in firstname,
/// lastname, email or username without ASCII case, or in the extension.
fn oracle_matches(fields: &[&str; 5], search: &str) -> bool {
    let folded = search.to_ascii_lowercase();
    fields[..4]
        .iter()
        .any(|f| f.to_ascii_lowercase().contains(&folded))
        || fields[4].contains(search)
}

#[test]
fn list_search_answers_exactly_as_a_scan_whatever_the_index_holds() {
    let wd = Workdir::with_db();
    // Users with names of ASCII and other letters, in several cases, some sharing parts.
    let parts = [
        "Ann", "ANNE", "élo", "Élo", "die", "DIE", "Ñú", "ñú", "x_%", "b\"q", "mar", "Mar",
    ];
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut users: Vec<[String; 5]> = Vec::new();
    let mut csv = String::from("firstname,lastname,email,username,exten,context,line_protocol\n");
    for i in 0..80 {
        let name = |next: &mut dyn FnMut(usize) -> usize| {
            format!("{}{}", parts[next(parts.len())], parts[next(parts.len())])
        };
        let first = name(&mut next);
        let last = name(&mut next);
        let user = format!("u{i}.{}", ["ann", "elo", "mar"][next(3)]);
        let email = format!("{user}@example.com");
        let exten = (1000 + i * 7).to_string();
        csv += &format!(
            "\"{}\",\"{}\",{email},{user},{exten},default,sip\n",
            first.replace('"', "\"\""),
            last.replace('"', "\"\"")
        );
        users.push([first, last, email, user, exten]);
    }
    wd.write("users.csv", &csv);
    wd.run(&["import", "users.csv"]).expect(0);
    let searches = [
        "Ann",
        "ann",
        "ANN",
        "nne",
        "élo",
        "ÉLO",
        "Élo",
        "lo",
        "die",
        "ñú",
        "Ñú",
        "ÑÚ",
        "x_%",
        "_%",
        "%",
        "b\"q",
        "\"q",
        "mar",
        "MARann",
        "u1",
        "u7.",
        "example",
        "@EXAMPLE.COM",
        "100",
        "1007",
        "10",
        "zzz",
        "élodie",
        "ÉlOdIe",
        "AnnDIE",
        "ñúmar",
        "771",
        "772",
        "881",
        "Annelodie",
    ];
    let check = |users: &[[String; 5]], when: &str| {
        for search in searches {
            let run = wd.run(&["user", "list", "--format", "json", "--search", search]);
            run.expect(0);
            let list: Value = serde_json::from_str(&run.stdout).expect("JSON");
            let got: Vec<&str> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["exten"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = users
                .iter()
                .filter(|u| {
                    let f = [&*u[0], &*u[1], &*u[2], &*u[3], &*u[4]];
                    oracle_matches(&f, search)
                })
                .map(|u| u[4].as_str())
                .collect();
            assert_eq!(got, want, "{when}: search {search:?}");
            assert_eq!(list["total"], want.len(), "{when}: total of {search:?}");
            // A page: read in id order up to its end rather than through the indexes
            // when the search keeps many users; the same rows either way.
            let run = wd.run(&[
                "user", "list", "--format", "json", "--search", search, "--limit", "3", "--offset",
                "1",
            ]);
            run.expect(0);
            let page: Value = serde_json::from_str(&run.stdout).expect("JSON");
            let got: Vec<&str> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u["exten"].as_str().unwrap())
                .collect();
            let paged: Vec<&str> = want.iter().skip(1).take(3).copied().collect();
            assert_eq!(got, paged, "{when}: page of {search:?}");
        }
    };
    check(&users, "after the import");
    // Changed by another program (the index learns it at ucsv's next write, and the search
    // is right meanwhile), then by ucsv.
    for u in users.iter_mut().take(10) {
        u[1] = "Élodie".to_string();
        wd.execute(&format!(
            "UPDATE users SET lastname = 'Élodie' WHERE username = '{}'",
            u[3]
        ));
    }
    check(&users, "after another program's update");
    users[20][0] = "Marianne".to_string();
    wd.run(&["user", "set", &users[20][3], "--set", "firstname=Marianne"])
        .expect(0);
    check(&users, "after ucsv's update");
    // Extensions changed by another program and by ucsv; users deleted, the last one
    // included, and a user added in its place.
    wd.execute(&format!(
        "UPDATE extensions SET exten = '7771' WHERE exten = '{}'",
        users[30][4]
    ));
    users[30][4] = "7771".to_string();
    wd.execute(&format!(
        "INSERT INTO extensions (exten, context, line_id)
             SELECT '1772', context, line_id FROM extensions WHERE exten = '{0}';
         DELETE FROM extensions WHERE exten = '{0}';",
        users[50][4]
    ));
    users[50][4] = "1772".to_string();
    check(&users, "after another program changed an extension");
    wd.run(&["user", "set", &users[31][3], "--set", "exten=1881"])
        .expect(0);
    users[31][4] = "1881".to_string();
    let last = users.pop().unwrap();
    wd.run(&["user", "delete", &last[4]]).expect(0);
    let gone = users.remove(40);
    wd.run(&["user", "delete", &gone[4]]).expect(0);
    check(
        &users,
        "after ucsv changed an extension and deleted two users",
    );
    wd.run(&[
        "user",
        "add",
        "1771",
        "--set",
        "firstname=Annelodie",
        "--set",
        "lastname=Mar",
        "--set",
        "username=u99.mar",
        "--set",
        "email=u99.mar@example.com",
    ])
    .expect(0);
    users.push(["Annelodie", "Mar", "u99.mar@example.com", "u99.mar", "1771"].map(str::to_string));
    check(&users, "after a user was added in the last one's place");
}
