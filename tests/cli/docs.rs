//! What the README and the checked-in examples promise: the column reference is the one the
//! registry prints, and the seed examples import as described.

use crate::workdir::{fixture, Workdir};

#[test]
fn readme_column_table_is_in_sync_with_the_registry() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("read README.md");
    let begin = "<!-- columns:begin -->";
    let end = "<!-- columns:end -->";
    let start = readme
        .find(begin)
        .expect("README has the columns:begin marker")
        + begin.len();
    let stop = readme.find(end).expect("README has the columns:end marker");
    let in_readme = readme[start..stop].trim();
    let wd = Workdir::new();
    let run = wd
        .bare_cmd(&["columns", "--format", "markdown"])
        .output()
        .expect("run ucsv");
    assert_eq!(run.status.code(), Some(0));
    let printed = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        in_readme,
        printed.trim(),
        "README.md's column table differs from `ucsv columns --format markdown`; \
         paste the command's output between the markers"
    );
    assert!(!wd.db().exists(), "`columns` needs no database");
}

#[test]
fn seed_examples_import_as_documented() {
    let wd = Workdir::new();
    let seed = fixture("good/seed_examples.csv");
    let run = wd.run(&[
        "import",
        seed.to_str().expect("a UTF-8 path"),
        "--format",
        "json",
    ]);
    run.expect(0);
    let report = run.report();
    for (what, n) in [
        ("users", 5),
        ("lines", 4),
        ("extensions", 4),
        ("incalls", 1),
        ("voicemails", 1),
        ("call_permissions", 0),
    ] {
        assert_eq!(report.created(what), n, "summary.created.{what}");
    }
    for (table, n) in [
        ("users", 5),
        ("lines", 4),
        ("extensions", 5),
        ("incalls", 1),
        ("voicemails", 1),
    ] {
        assert_eq!(wd.count(table), n, "rows in {table}");
    }
}

#[test]
fn import_and_validate_accept_no_progress() {
    let wd = Workdir::with_db();
    wd.write("users.csv", "firstname\nJane\n");
    wd.run(&["import", "users.csv", "--no-progress"]).expect(0);
    wd.run(&["validate", "users.csv", "--no-progress"])
        .expect(0);
    assert_eq!(wd.count("users"), 1);
}

#[test]
fn table_schema_file_is_in_sync_with_columns_frictionless() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/users.schema.json");
    let in_repository = std::fs::read(&file).expect("read schemas/users.schema.json");
    let wd = Workdir::new();
    let run = wd
        .bare_cmd(&["columns", "--format", "frictionless"])
        .output()
        .expect("run ucsv");
    assert_eq!(run.status.code(), Some(0));
    assert!(
        in_repository == run.stdout,
        "schemas/users.schema.json differs from `ucsv columns --format frictionless`; \
         regenerate it with `ucsv columns --format frictionless > schemas/users.schema.json`"
    );
    let schema: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("the table schema is JSON");
    assert!(
        schema["fields"].is_array(),
        "a Frictionless Table Schema has fields: {schema}"
    );
    assert!(!wd.db().exists(), "`columns` needs no database");
}

#[test]
fn columns_json_lists_every_column_with_its_name_group_and_type() {
    // SPEC §3: the export columns in their order, then `password` (never exported), each
    // with its resource group and type.
    let expected: [(&str, &str, &str); 48] = [
        ("uuid", "user", "text"),
        ("subscription_type", "user", "int"),
        ("firstname", "user", "text"),
        ("lastname", "user", "text"),
        ("email", "user", "text"),
        ("mobile_phone_number", "user", "text"),
        ("outgoing_caller_id", "user", "text"),
        ("language", "user", "text"),
        ("call_permission_password", "user", "text"),
        ("enabled", "user", "bool"),
        ("ring_seconds", "user", "int"),
        ("simultaneous_calls", "user", "int"),
        ("supervision_enabled", "user", "bool"),
        ("call_transfer_enabled", "user", "bool"),
        ("dtmf_hangup_enabled", "user", "bool"),
        ("call_record_outgoing_external_enabled", "user", "bool"),
        ("call_record_outgoing_internal_enabled", "user", "bool"),
        ("call_record_incoming_external_enabled", "user", "bool"),
        ("call_record_incoming_internal_enabled", "user", "bool"),
        ("online_call_record_enabled", "user", "bool"),
        ("userfield", "user", "text"),
        ("voicemail_name", "voicemail", "text"),
        ("voicemail_number", "voicemail", "text"),
        ("voicemail_context", "voicemail", "text"),
        ("voicemail_password", "voicemail", "text"),
        ("voicemail_email", "voicemail", "text"),
        ("voicemail_attach_audio", "voicemail", "bool"),
        ("voicemail_delete_messages", "voicemail", "bool"),
        ("voicemail_ask_password", "voicemail", "bool"),
        ("line_protocol", "line", "text"),
        ("provisioning_code", "line", "text"),
        ("context", "line", "text"),
        ("sip_username", "line", "text"),
        ("sip_secret", "line", "text"),
        ("exten", "extension", "text"),
        ("incall_exten", "incall", "text"),
        ("incall_context", "incall", "text"),
        ("call_permissions", "call_permissions", "text"),
        ("username", "login", "text"),
        ("entity_id", "user", "int"),
        ("cti_profile_enabled", "cti_profile", "bool"),
        ("cti_profile_name", "cti_profile", "text"),
        ("incall_ring_seconds", "incall", "int"),
        ("password_hash", "login", "text"),
        ("timezone", "user", "text"),
        ("description", "user", "text"),
        ("music_on_hold", "user", "text"),
        ("password", "login", "text"),
    ];
    let wd = Workdir::new();
    let run = wd
        .bare_cmd(&["columns", "--format", "json"])
        .output()
        .expect("run ucsv");
    assert_eq!(run.status.code(), Some(0));
    let columns: Vec<serde_json::Value> =
        serde_json::from_slice(&run.stdout).expect("`columns --format json` prints a JSON list");
    let listed: Vec<(String, String, String)> = columns
        .iter()
        .map(|c| {
            let field = |k: &str| {
                c[k].as_str()
                    .unwrap_or_else(|| panic!("no text field {k} in {c}"))
                    .to_string()
            };
            (field("name"), field("group"), field("type"))
        })
        .collect();
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(n, g, t)| (n.to_string(), g.to_string(), t.to_string()))
        .collect();
    assert_eq!(listed, expected);
    let flagged = |flag: &str| -> Vec<&str> {
        columns
            .iter()
            .filter(|c| c[flag] == true)
            .filter_map(|c| c["name"].as_str())
            .collect()
    };
    assert_eq!(
        flagged("list"),
        [
            "incall_exten",
            "incall_context",
            "call_permissions",
            "incall_ring_seconds"
        ],
        "the `;`-list columns"
    );
    assert_eq!(
        flagged("secret"),
        [
            "call_permission_password",
            "voicemail_password",
            "sip_secret",
            "password_hash",
            "password"
        ],
        "the secret columns of SPEC §3"
    );
}

/// The `--help` of the binary and of each command, concatenated.
fn all_help(wd: &Workdir, commands: &[&str]) -> String {
    let mut text = String::new();
    for args in std::iter::once(vec!["--help"]).chain(
        commands
            .iter()
            .map(|c| c.split(' ').chain(["--help"]).collect()),
    ) {
        let out = wd.bare_cmd(&args).output().expect("run ucsv --help");
        assert_eq!(out.status.code(), Some(0), "ucsv {args:?}");
        text.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    text
}

#[test]
fn readme_command_tour_names_only_commands_and_options_that_exist() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("read README.md");
    let start = readme
        .find("ucsv [--db PATH|URL]")
        .expect("README has the command tour");
    let tour = &readme[start..start + readme[start..].find("```").expect("end of the tour")];
    let commands = [
        "init",
        "reference show",
        "reference apply",
        "import",
        "update",
        "validate",
        "export",
        "user add",
        "user set",
        "user delete",
        "user show",
        "user list",
        "account add",
        "account list",
        "account set-password",
        "account activate",
        "serve",
        "columns",
        "history",
        "history show",
        "history prune",
        "undo",
        "completions",
        "man",
        "openapi",
    ];
    for c in commands {
        assert!(tour.contains(&format!("\n  {c} ")), "the tour shows `{c}`");
    }
    let wd = Workdir::new();
    let help = all_help(&wd, &commands);
    let options: std::collections::BTreeSet<&str> = tour
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .collect();
    assert!(options.len() > 15, "the tour lists options: {options:?}");
    for option in options {
        assert!(
            help.contains(option),
            "README's command tour names {option}, which no --help mentions"
        );
    }
}

/// The stdout of `ucsv ARGS` (which must succeed), with no database.
fn printed(wd: &Workdir, args: &[&str]) -> String {
    let out = wd.bare_cmd(args).output().expect("run ucsv");
    assert_eq!(
        out.status.code(),
        Some(0),
        "ucsv {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn bash_completion_is_valid_bash_and_completes_commands_and_options() {
    let wd = Workdir::new();
    let script = wd.path("ucsv.bash");
    std::fs::write(&script, printed(&wd, &["completions", "bash"])).unwrap();
    // What bash offers after `ucsv un` and after `ucsv undo 3 --dr`, from the script alone.
    let complete = |words: &str| {
        let probe = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _ucsv ucsv \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = std::process::Command::new("bash")
            .args(["--norc", "-c", &probe])
            .output()
            .expect("run bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("ucsv un").trim(), "undo");
    assert!(complete("ucsv hi").lines().any(|l| l == "history"));
    assert!(complete("ucsv undo 3 --dr")
        .lines()
        .any(|l| l == "--dry-run"));
    assert!(!wd.db().exists(), "`completions` needs no database");
}

#[test]
fn completions_of_every_shell_name_the_commands() {
    let wd = Workdir::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = printed(&wd, &["completions", shell]);
        for word in ["import", "undo", "history", "dry-run", "keep-going"] {
            assert!(script.contains(word), "{shell} completion names {word}");
        }
    }
    let out = wd.bare_cmd(&["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_pages_are_roff_for_ucsv_and_each_command() {
    let wd = Workdir::new();
    let page = printed(&wd, &["man"]);
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{}", &page[..80]);
    assert!(page.contains(".TH ucsv 1"), "{page}");
    assert!(
        page.contains("ucsv\\-import(1)"),
        "the page lists the commands"
    );
    let dir = wd.path("man");
    printed(&wd, &["man", "--dir", dir.to_str().unwrap()]);
    for name in ["ucsv.1", "ucsv-import.1", "ucsv-undo.1", "ucsv-user-add.1"] {
        let text = std::fs::read_to_string(dir.join(name)).expect(name);
        assert!(text.contains(".TH"), "{name}");
    }
    let import = std::fs::read_to_string(dir.join("ucsv-import.1")).unwrap();
    assert!(import.contains("keep\\-going"), "{import}");
    assert!(!wd.db().exists(), "`man` needs no database");
}
