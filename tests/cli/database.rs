//! The database: created on first use with the default reference data, `init`, unusable
//! database files, and the reference data commands (`reference show`, `reference apply`).

use crate::contexts::TWO_ENTITIES;
use crate::workdir::Workdir;
use serde_json::json;

fn default_reference() -> serde_json::Value {
    json!({
        "entity": [{"id": 1, "name": "default"}],
        "context": [
            {"name": "default", "entity": 1, "type": "internal", "ranges": ["1000-1999"]},
            {"name": "from-extern", "entity": 1, "type": "incall", "ranges": ["2000-2999"]}
        ],
        "call_permission": [
            {"name": "international", "entity": 1},
            {"name": "mobile", "entity": 1},
            {"name": "premium-numbers", "entity": 1},
            {"name": "local-only", "entity": 1}
        ],
        "cti_profile": [{"name": "Client"}, {"name": "Agent"}, {"name": "Supervisor"}]
    })
}

#[test]
fn first_import_creates_the_database_with_default_reference_data() {
    let wd = Workdir::new();
    wd.write("users.csv", "firstname\nJane\n");
    let run = wd.run(&["import", "users.csv"]);
    run.expect(0);
    assert!(
        run.stderr.contains("created database") && run.stderr.contains("default reference data"),
        "stderr: {}",
        run.stderr
    );
    assert!(wd.has_database());
    assert_eq!(wd.reference(), default_reference());
    assert_eq!(wd.count("users"), 1);
}

#[test]
fn second_run_does_not_announce_a_new_database() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "firstname\nJane\n");
    let run = wd.run(&["import", "users.csv"]);
    run.expect(0);
    assert!(
        !run.stderr.contains("created database"),
        "stderr: {}",
        run.stderr
    );
}

#[test]
fn database_defaults_to_ucsv_db_env_then_the_current_directory() {
    let wd = Workdir::sqlite();
    wd.write("users.csv", "firstname\nJane\n");
    let mut cmd = wd.bare_cmd(&["import", "users.csv"]);
    cmd.env("UCSV_DB", wd.path("from-env.db"));
    assert_eq!(cmd.output().expect("run ucsv").status.code(), Some(0));
    assert!(wd.path("from-env.db").exists(), "$UCSV_DB is used");
    assert!(!wd.db().exists());
    let out = wd
        .bare_cmd(&["import", "users.csv"])
        .output()
        .expect("run ucsv");
    assert_eq!(out.status.code(), Some(0));
    assert!(wd.db().exists(), "./ucsv.db is the default");
}

#[test]
fn init_creates_the_database_and_says_so() {
    let wd = Workdir::new();
    let run = wd.run(&["init"]);
    run.expect(0);
    assert!(
        run.stderr.contains("created database"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(wd.reference(), default_reference());
    assert_eq!(wd.count("users"), 0);
}

#[test]
fn init_refuses_an_existing_database_and_leaves_it_unchanged() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname\nJane\n");
    let before = wd.fingerprint();
    let run = wd.run(&["init"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("already exists"),
        "stderr: {}",
        run.stderr
    );
    assert!(before == wd.fingerprint(), "the database changed");
    assert_eq!(wd.count("users"), 1);
}

#[test]
fn init_refuses_any_existing_file() {
    let wd = Workdir::sqlite();
    wd.write("ucsv.db", "not a database\n");
    wd.write("reference.toml", TWO_ENTITIES);
    let run = wd.run(&["init", "--reference", "reference.toml"]);
    run.expect(2);
    assert_eq!(wd.read("ucsv.db"), "not a database\n");
}

#[test]
fn non_sqlite_database_file_is_fatal_and_left_unchanged() {
    let wd = Workdir::sqlite();
    wd.write("ucsv.db", "firstname,lastname\nthis is a text file\n");
    wd.write("users.csv", "firstname\nJane\n");
    let run = wd.run(&["import", "users.csv"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("not a database"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(
        wd.read("ucsv.db"),
        "firstname,lastname\nthis is a text file\n"
    );
}

#[test]
fn sqlite_file_of_another_program_is_fatal() {
    let wd = Workdir::sqlite();
    wd.conn()
        .execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);")
        .expect("create a foreign SQLite database");
    wd.write("users.csv", "firstname\nJane\n");
    let run = wd.run(&["import", "users.csv"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("not a ucsv database"),
        "stderr: {}",
        run.stderr
    );
    assert_eq!(
        wd.query_strings("SELECT name FROM sqlite_master WHERE type = 'table'"),
        ["notes"]
    );
}

#[test]
fn reference_show_prints_toml_that_matches_the_json() {
    let wd = Workdir::with_db();
    let run = wd.run(&["reference", "show"]);
    run.expect(0);
    let from_toml: serde_json::Value =
        toml::from_str(&run.stdout).unwrap_or_else(|e| panic!("not TOML ({e}):\n{}", run.stdout));
    assert_eq!(from_toml, default_reference());
}

#[test]
fn init_with_a_reference_file_uses_it() {
    let wd = Workdir::with_reference(TWO_ENTITIES);
    let reference = wd.reference();
    let entities: Vec<&str> = reference["entity"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(entities, ["north", "south"]);
    assert_eq!(
        reference["context"][2],
        json!({"name": "south-users", "entity": 2, "type": "internal",
               "ranges": ["3000-3999", "0100-0199"]})
    );
    assert_eq!(wd.count("cti_profiles"), 1);
}

#[test]
fn reference_apply_is_idempotent() {
    let wd = Workdir::with_db();
    wd.write("more.toml", TWO_ENTITIES);
    wd.run(&["reference", "apply", "more.toml"]).expect(0);
    let once = wd.run(&["reference", "show", "--format", "json"]);
    let counts = wd.counts();
    wd.run(&["reference", "apply", "more.toml"]).expect(0);
    let twice = wd.run(&["reference", "show", "--format", "json"]);
    assert_eq!(once.stdout, twice.stdout);
    assert_eq!(wd.counts(), counts);
    let names: Vec<String> = wd.query_strings("SELECT name FROM contexts ORDER BY name");
    assert_eq!(
        names,
        [
            "default",
            "from-extern",
            "north-dids",
            "north-users",
            "south-dids",
            "south-users"
        ]
    );
}

#[test]
fn reference_apply_of_the_default_changes_nothing() {
    let wd = Workdir::with_db();
    let before = wd.run(&["reference", "show", "--format", "json"]).stdout;
    let default = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join("reference.default.toml");
    wd.run(&[
        "reference",
        "apply",
        default.to_str().expect("a UTF-8 path"),
    ])
    .expect(0);
    assert_eq!(
        wd.run(&["reference", "show", "--format", "json"]).stdout,
        before
    );
}

#[test]
fn reference_apply_adds_contexts_that_imports_can_use() {
    let wd = Workdir::with_db();
    wd.write(
        "sales.toml",
        "[[context]]\nname = \"sales\"\nentity = 1\ntype = \"internal\"\nranges = [\"4000-4099\"]\n",
    );
    wd.run(&["reference", "apply", "sales.toml"]).expect(0);
    wd.import_ok("firstname,line_protocol,context,exten\nJane,sip,sales,4000\n");
    assert_eq!(
        wd.query_rows("SELECT exten, context FROM extensions"),
        vec![vec!["4000", "sales"]]
    );
}

/// Reference files that must be refused, with a word the message must hold.
const INVALID_REFERENCES: &[(&str, &str, &str)] = &[
    (
        "bad range",
        "[[entity]]\nid = 1\nname = \"default\"\n[[context]]\nname = \"x\"\nentity = 1\ntype = \"internal\"\nranges = [\"1999-1000\"]\n",
        "1999-1000",
    ),
    (
        "range of letters",
        "[[entity]]\nid = 1\nname = \"default\"\n[[context]]\nname = \"x\"\nentity = 1\ntype = \"internal\"\nranges = [\"abc-def\"]\n",
        "abc-def",
    ),
    (
        "unknown type",
        "[[entity]]\nid = 1\nname = \"default\"\n[[context]]\nname = \"x\"\nentity = 1\ntype = \"external\"\nranges = [\"1000-1999\"]\n",
        "external",
    ),
    (
        "unknown key",
        "[[entity]]\nid = 1\nname = \"default\"\ncolour = \"red\"\n",
        "colour",
    ),
    (
        "unknown table",
        "[[tenant]]\nid = 1\nname = \"default\"\n",
        "tenant",
    ),
    (
        "not TOML",
        "[[entity]\nid = ",
        "reference",
    ),
    (
        "context of a missing entity",
        "[[context]]\nname = \"x\"\nentity = 9\ntype = \"internal\"\nranges = [\"1000-1999\"]\n",
        "entity 9",
    ),
];

#[test]
fn init_refuses_invalid_reference_data_and_creates_nothing() {
    let mut failures = Vec::new();
    for (what, toml, word) in INVALID_REFERENCES {
        let wd = Workdir::new();
        wd.write("reference.toml", toml);
        let run = wd.run(&["init", "--reference", "reference.toml"]);
        let err = run.stderr_flat();
        if run.code != 2 || !run.stderr_mentions(word) || wd.db().exists() {
            failures.push(format!(
                "{what}: exit {}, database created: {}, stderr: {err}",
                run.code,
                wd.db().exists()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reference_apply_refuses_invalid_reference_data_and_applies_nothing() {
    let wd = Workdir::with_db();
    wd.import_ok("firstname\nJane\n");
    let before = wd.run(&["reference", "show", "--format", "json"]).stdout;
    let counts = wd.counts();
    let mut failures = Vec::new();
    for (what, toml, word) in INVALID_REFERENCES {
        wd.write("bad.toml", toml);
        let run = wd.run(&["reference", "apply", "bad.toml"]);
        let err = run.stderr_flat();
        if run.code != 2 || !run.stderr_mentions(word) {
            failures.push(format!("{what}: exit {}, stderr: {err}", run.code));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        wd.run(&["reference", "show", "--format", "json"]).stdout,
        before
    );
    assert_eq!(wd.counts(), counts);
}

#[test]
fn reference_apply_failing_midway_applies_nothing() {
    let wd = Workdir::with_db();
    let before = wd.run(&["reference", "show", "--format", "json"]).stdout;
    wd.write(
        "partial.toml",
        "[[entity]]\nid = 2\nname = \"second\"\n\
         [[context]]\nname = \"new-one\"\nentity = 2\ntype = \"internal\"\nranges = [\"5000-5999\"]\n\
         [[call_permission]]\nname = \"orphan\"\nentity = 9\n",
    );
    let run = wd.run(&["reference", "apply", "partial.toml"]);
    run.expect(2);
    assert_eq!(
        wd.run(&["reference", "show", "--format", "json"]).stdout,
        before,
        "the entity and context before the bad permission were applied"
    );
}

#[test]
fn init_with_a_missing_reference_file_is_fatal() {
    let wd = Workdir::new();
    let run = wd.run(&["init", "--reference", "missing.toml"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("missing.toml"),
        "stderr: {}",
        run.stderr
    );
    assert!(!wd.db().exists());
}

#[test]
fn invalid_reference_message_names_the_reference_file() {
    let wd = Workdir::new();
    wd.write("my-reference.toml", INVALID_REFERENCES[0].1);
    let run = wd.run(&["init", "--reference", "my-reference.toml"]);
    run.expect(2);
    assert!(
        run.stderr_mentions("my-reference.toml"),
        "the message does not name the file at fault: {}",
        run.stderr
    );
}

#[test]
fn database_has_the_contract_tables_and_columns() {
    let wd = Workdir::with_db();
    let version: i64 = wd
        .query_one(if wd.is_postgres() {
            "SELECT max(version) FROM ucsv_schema"
        } else {
            "PRAGMA user_version"
        })
        .parse()
        .expect("an integer schema version");
    assert!(version >= 1, "schema version {version}");
    let required: &[(&str, &[&str])] = &[
        ("entities", &["id", "name"]),
        ("contexts", &["id", "name", "entity_id", "type"]),
        ("context_ranges", &["id", "context_id", "start", "end"]),
        ("call_permissions", &["id", "name", "entity_id"]),
        ("cti_profiles", &["id", "name"]),
        (
            "users",
            &[
                "id",
                "uuid",
                "entity_id",
                "firstname",
                "lastname",
                "email",
                "username",
            ],
        ),
        (
            "lines",
            &["id", "user_id", "protocol", "context", "sip_username"],
        ),
        ("extensions", &["id", "exten", "context"]),
        ("incalls", &["id", "user_id", "extension_id"]),
        ("voicemails", &["id", "number", "context"]),
        ("user_voicemails", &["user_id", "voicemail_id"]),
        ("user_call_permissions", &["user_id", "call_permission_id"]),
    ];
    let mut missing = Vec::new();
    for (table, columns) in required {
        let present = wd.query_strings(&if wd.is_postgres() {
            format!(
                "SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
            )
        } else {
            format!("SELECT name FROM pragma_table_info('{table}')")
        });
        for column in *columns {
            if !present.iter().any(|p| p == column) {
                missing.push(format!("{table}.{column}"));
            }
        }
    }
    assert!(missing.is_empty(), "missing: {missing:?}");
}

#[test]
fn quiet_init_says_nothing() {
    let wd = Workdir::new();
    let run = wd.run(&["-q", "init"]);
    run.expect(0);
    assert_eq!(run.stderr, "");
    assert!(wd.has_database());
}
