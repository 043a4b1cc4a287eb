//! The history (every write a batch) and undo, on both backends: what each write records,
//! and that taking batches back gives the database before them, export for export.

use crate::workdir::Workdir;
use serde_json::Value;

const THREE: &str = "firstname,lastname,exten,context,line_protocol,email,voicemail_name,voicemail_number,voicemail_context,incall_exten,incall_context\n\
Ann,Alpha,1001,default,sip,ann@example.com,Ann Alpha,1001,default,2001,from-extern\n\
Bob,Beta,1002,default,sip,bob@example.com,,,,,\n\
Cid,Gamma,1003,default,sccp,,,,,,\n";

fn export(wd: &Workdir) -> String {
    let run = wd.run(&["export"]);
    run.expect(0);
    run.stdout.clone()
}

/// The users `ucsv user list --search` finds, each as `shown` gives it.
fn searched(wd: &Workdir, search: &str, shown: impl Fn(&Value) -> String) -> Vec<String> {
    let run = wd.run(&["user", "list", "--search", search, "--format", "json"]);
    run.expect(0);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    v["items"].as_array().unwrap().iter().map(shown).collect()
}

fn history(wd: &Workdir) -> Vec<Value> {
    let run = wd.run(&["history", "--format", "json"]);
    run.expect(0);
    let v: Value = serde_json::from_str(&run.stdout).expect("JSON");
    v["items"].as_array().unwrap().clone()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_write_is_a_batch_with_who_what_and_counts() {
    let wd = Workdir::with_db();
    wd.write("three.csv", THREE);
    wd.run(&["import", "three.csv"]).expect(0);
    wd.run(&["import", "three.csv", "--dry-run"]);
    let batches = history(&wd);
    assert_eq!(batches.len(), 1, "a dry run records nothing: {batches:?}");
    let b = &batches[0];
    assert_eq!(b["kind"], "import");
    assert_eq!(b["door"], "cli");
    assert_eq!(b["source"], "three.csv");
    assert_eq!(b["sha256"], sha256_hex(THREE.as_bytes()));
    assert_eq!(b["created"], 3);
    assert!(!b["who"].as_str().unwrap().is_empty());
    // user set (with a password: never kept in clear), user add, user delete, update.
    wd.run(&[
        "user",
        "set",
        "1002",
        "--set",
        "lastname=Bravo",
        "--set",
        "username=bob",
        "--set",
        "password=Sesame-Open-42",
    ])
    .expect(0);
    wd.run(&["user", "add", "1004..1005", "--set", "firstname=New"])
        .expect(0);
    wd.run(&["user", "delete", "1003"]).expect(0);
    let edited = export(&wd).replace("Alpha", "Alfa");
    wd.write("edited.csv", &edited);
    wd.run(&["update", "edited.csv"]).expect(0);
    let batches = history(&wd);
    let kinds: Vec<&str> = batches
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["update", "user delete", "user add", "user set", "import"]
    );
    let counts: Vec<(u64, u64, u64)> = batches
        .iter()
        .map(|b| {
            (
                b["created"].as_u64().unwrap(),
                b["updated"].as_u64().unwrap(),
                b["deleted"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [(0, 1, 0), (0, 0, 1), (2, 0, 0), (0, 1, 0), (3, 0, 0)]
    );
    assert_eq!(
        batches[3]["source"], "ucsv user set 1002",
        "targets, never values"
    );
    // The state before: the user set's batch keeps Bob as he was.
    let id = batches[3]["id"].to_string();
    let run = wd.run(&["history", "show", &id, "--format", "json"]);
    run.expect(0);
    let shown: Value = serde_json::from_str(&run.stdout).unwrap();
    let changes = shown["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["action"], "updated");
    assert_eq!(changes[0]["before"]["lastname"], "Beta");
    assert_eq!(changes[0]["before"]["username"], "");
    // The CSV form: a header of the columns, a row per change.
    let run = wd.run(&["history", "show", &id]);
    run.expect(0);
    assert!(
        run.stdout.starts_with("action,user_id,last_id,"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(",Beta,"), "{}", run.stdout);
    // No password in clear anywhere in the history.
    let all = wd.query_strings(
        "SELECT coalesce(before, '') || source FROM batch_changes JOIN batches ON batches.id = batch_id",
    );
    assert!(all.iter().all(|t| !t.contains("Sesame")), "{all:?}");
    let sources = wd.query_strings("SELECT source FROM batches");
    assert!(sources.iter().all(|t| !t.contains("Sesame")), "{sources:?}");
}

#[test]
fn a_wrong_import_is_taken_back_and_its_numbers_are_free_again() {
    let wd = Workdir::with_db();
    let before = export(&wd);
    wd.write("three.csv", THREE);
    wd.run(&["import", "three.csv"]).expect(0);
    let id = history(&wd)[0]["id"].to_string();
    // The dry run says what it would do and writes nothing.
    let dry = wd.run(&["undo", &id, "--dry-run"]);
    dry.expect(0);
    assert!(dry.stderr.contains("would take back"), "{}", dry.stderr);
    assert_eq!(history(&wd).len(), 1);
    let run = wd.run(&["undo", &id]);
    run.expect(0);
    assert!(run.stderr.contains("3 users deleted"), "{}", run.stderr);
    assert_eq!(export(&wd), before, "the database as before the import");
    let batches = history(&wd);
    assert_eq!(batches[0]["kind"], "undo");
    assert_eq!(batches[0]["undoes"].to_string(), id);
    assert_eq!(batches[1]["undone_by"], batches[0]["id"]);
    // Taken back once only.
    let again = wd.run(&["undo", &id]);
    again.expect(1);
    assert!(again.stderr.contains("[batch.undone]"), "{}", again.stderr);
    // The numbers are free: the same file imports again.
    wd.run(&["import", "three.csv"]).expect(0);
}

#[test]
fn undo_refuses_while_a_later_batch_changed_the_same_users_and_names_it() {
    let wd = Workdir::with_db();
    wd.write("three.csv", THREE);
    wd.run(&["import", "three.csv"]).expect(0);
    let import = history(&wd)[0]["id"].to_string();
    wd.run(&["user", "set", "1001", "--set", "lastname=Later"])
        .expect(0);
    let later = history(&wd)[0]["id"].to_string();
    let fingerprint = wd.fingerprint();
    let run = wd.run(&["undo", &import, "--format", "json"]);
    run.expect(1);
    let refused: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(refused["refused"], "batch.later");
    assert_eq!(refused["later"][0]["batch"].to_string(), later);
    assert!(
        run.stderr.contains(&format!("batch {later}")),
        "{}",
        run.stderr
    );
    assert_eq!(wd.fingerprint(), fingerprint, "nothing written");
    // Newest first, both go.
    wd.run(&["undo", &later]).expect(0);
    wd.run(&["undo", &import]).expect(0);
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "0");
}

#[test]
fn an_undo_is_a_batch_and_undoing_it_brings_the_users_back_as_they_were() {
    let wd = Workdir::with_db();
    wd.write("three.csv", THREE);
    wd.run(&["import", "three.csv"]).expect(0);
    wd.run(&[
        "user",
        "set",
        "1001",
        "--set",
        "username=ann",
        "--set",
        "password=Sesame-Open-42",
    ])
    .expect(0);
    let after = export(&wd);
    let set = history(&wd)[0]["id"].to_string();
    wd.run(&["user", "delete", "1001", "--delete-voicemail"])
        .expect(0);
    let deleted = history(&wd)[0]["id"].to_string();
    // The delete taken back: Ann again, with her uuid, numbers, box, incall and login.
    wd.run(&["undo", &deleted]).expect(0);
    assert_eq!(export(&wd), after);
    // A search finds her again (her id, chosen again, is below the search index's mark).
    let found = wd.run(&["user", "list", "--search", "Alpha", "--format", "csv"]);
    found.expect(0);
    assert!(found.stdout.contains(",Ann,Alpha,"), "{}", found.stdout);
    let undo = history(&wd)[0]["id"].to_string();
    // The undo taken back deletes her again; taken back in turn, she is back.
    wd.run(&["undo", &undo]).expect(0);
    assert_ne!(export(&wd), after);
    let undo2 = history(&wd)[0]["id"].to_string();
    wd.run(&["undo", &undo2]).expect(0);
    assert_eq!(export(&wd), after);
    // The user set is still in effect: a later batch (the last undo) changed Ann, and
    // its undo is not undone.
    let run = wd.run(&["undo", &set]);
    run.expect(1);
    assert!(run.stderr.contains("[batch.later]"), "{}", run.stderr);
}

/// For random sequences of imports, updates and deletes, taking back the last k batches,
/// newest first, gives the export taken before them, byte for byte.
#[test]
fn undoing_the_last_batches_in_reverse_gives_the_export_before_them() {
    let seeds: &[u64] = if std::env::var_os("UCSV_TEST_POSTGRES").is_some() {
        &[7, 11]
    } else {
        &[7, 11, 23, 42, 99, 123]
    };
    for &seed in seeds {
        let wd = Workdir::with_db();
        let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut exports = vec![export(&wd)];
        let mut dn = 1100;
        let steps = 8;
        for step in 0..steps {
            let list = wd.run(&["user", "list", "--format", "json"]);
            list.expect(0);
            let list: Value = serde_json::from_str(&list.stdout).unwrap();
            let live: Vec<String> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|u| {
                    u["exten"]
                        .as_str()
                        .filter(|e| !e.is_empty())
                        .map(str::to_string)
                })
                .collect();
            let kind = if live.is_empty() { 0 } else { next(4) };
            match kind {
                0 | 1 => {
                    let n = 1 + next(3);
                    let mut csv = String::from(
                        "firstname,lastname,exten,context,line_protocol,voicemail_name,voicemail_number,voicemail_context,username,password\n",
                    );
                    for i in 0..n {
                        dn += 1;
                        let vm = if next(2) == 0 {
                            format!("Box {dn},{dn},default")
                        } else {
                            ",,".to_string()
                        };
                        csv += &format!(
                            "U{seed}s{step}i{i},L{},{dn},default,{},{vm},u{seed}x{dn},Passw0rd-{dn}\n",
                            next(100),
                            ["sip", "sccp", "webrtc"][next(3) as usize]
                        );
                    }
                    let name = format!("s{step}.csv");
                    wd.write(&name, &csv);
                    wd.run(&["import", &name]).expect(0);
                }
                2 => {
                    let target = &live[next(live.len() as u64) as usize];
                    let vm_name = format!("voicemail_name=Box of {target}");
                    let vm_number = format!("voicemail_number={target}");
                    let sets: Vec<&str> = match next(4) {
                        0 => vec!["lastname=Changed", "username=", "password="],
                        1 => vec!["mobile_phone_number=0612345678"],
                        // A box given (or renamed): an update cannot take it away again,
                        // the undo must.
                        2 => vec![&vm_name, &vm_number, "voicemail_context=default"],
                        _ if live.iter().any(|d| d == "1999") => vec!["lastname=Other"],
                        _ => vec!["exten=1999"],
                    };
                    let mut args = vec!["user", "set", target];
                    for set in &sets {
                        args.extend(["--set", set]);
                    }
                    wd.run(&args).expect(0);
                }
                _ => {
                    let target = &live[next(live.len() as u64) as usize];
                    wd.run(&["user", "delete", target, "--delete-voicemail"])
                        .expect(0);
                }
            }
            exports.push(export(&wd));
        }
        let ids: Vec<String> = history(&wd).iter().map(|b| b["id"].to_string()).collect();
        assert_eq!(ids.len(), steps, "seed {seed}");
        // Every k at once: the export is checked after each batch taken back.
        for (i, id) in ids.iter().enumerate() {
            let run = wd.run(&["undo", id]);
            run.expect(0);
            assert_eq!(
                export(&wd),
                exports[steps - 1 - i],
                "seed {seed}: after taking back {} batches",
                i + 1
            );
        }
    }
}

/// Over HTTP: the batches an account may see, the states before without their secrets
/// unless asked, and an undo with the role the batch needed, its dry run writing nothing.
#[test]
fn batches_over_http_are_listed_shown_and_taken_back_with_the_batch_role() {
    use crate::serve::{account, admin_server};
    use serde_json::json;
    let (wd, server) = admin_server();
    account(&wd, "viewer", &["--tenant", "1=viewer"]);
    account(&wd, "user", &["--tenant", "1=user"]);
    server
        .csv("POST", "/1.1/users/import", "admin", THREE)
        .expect(201);
    let list = server.get("GET", "/1.1/batches", "viewer");
    list.expect(200);
    let list = list.json();
    assert_eq!(list["total"], 1);
    let b = &list["items"][0];
    assert_eq!(b["kind"], "import");
    assert_eq!(b["door"], "http");
    assert_eq!(b["who"], "admin");
    assert_eq!(b["source"], "POST /1.1/users/import");
    assert_eq!(b["sha256"], sha256_hex(THREE.as_bytes()));
    assert_eq!(b["entities"], json!([1]));
    let import = b["id"].as_i64().unwrap();
    // A change through the API, then its state before, secrets hidden unless asked.
    let ann = wd.query_one("SELECT uuid FROM users WHERE firstname = 'Ann'");
    server
        .json(
            "PUT",
            &format!("/1.1/users/{ann}"),
            "admin",
            &json!({"lastname": "Other", "sip_secret": "Another-Secret-42"}),
        )
        .expect(204);
    let set = server.get("GET", "/1.1/batches?limit=1", "admin").json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let shown = server.get("GET", &format!("/1.1/batches/{set}"), "viewer");
    shown.expect(200);
    let before = &shown.json()["changes"][0]["before"];
    assert_eq!(before["lastname"], "Alpha");
    assert!(before.get("sip_secret").is_none(), "{before}");
    // Only the cells the change could touch are kept: the line's, not the user's others.
    assert_eq!(
        before["sip_username"].as_str().map(str::is_empty),
        Some(false)
    );
    assert!(before.get("firstname").is_none(), "{before}");
    server
        .get("GET", &format!("/1.1/batches/{set}?with_secrets"), "viewer")
        .expect(403);
    let secret = server.get("GET", &format!("/1.1/batches/{set}?with_secrets"), "user");
    secret.expect(200);
    let kept = &secret.json()["changes"][0]["before"]["sip_secret"];
    assert!(kept
        .as_str()
        .is_some_and(|s| !s.is_empty() && s != "Another-Secret-42"));
    // The import cannot be taken back while the change stands: 409, nothing written.
    let fingerprint = wd.fingerprint();
    let refused = server.get("POST", &format!("/1.1/batches/{import}/undo"), "user");
    refused.expect(409);
    assert_eq!(refused.code(), "batch.later");
    assert_eq!(refused.json()["errors"][0]["later"][0]["batch"], set);
    // A viewer may not; a user may, newest first; a dry run writes nothing.
    server
        .get("POST", &format!("/1.1/batches/{set}/undo"), "viewer")
        .expect(403);
    let dry = server.get("POST", &format!("/1.1/batches/{set}/undo?dry_run"), "user");
    dry.expect(200);
    assert_eq!(dry.json()["restored"], 1);
    assert_eq!(dry.json()["dry_run"], true);
    assert_eq!(wd.fingerprint(), fingerprint);
    server
        .get("POST", &format!("/1.1/batches/{set}/undo"), "user")
        .expect(200);
    let done = server.get("POST", &format!("/1.1/batches/{import}/undo"), "user");
    done.expect(200);
    assert_eq!(done.json()["deleted"], 3);
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "0");
    // The undos are batches, taken back with the manager's role only.
    let undo = server.get("GET", "/1.1/batches?limit=1", "admin").json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    server
        .get("POST", &format!("/1.1/batches/{undo}/undo"), "user")
        .expect(403);
    server
        .get("POST", &format!("/1.1/batches/{undo}/undo"), "admin")
        .expect(200);
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "3");
    server.get("GET", "/1.1/batches/999", "admin").expect(404);
    // The file's name the client gives is the source; a name no log could show is refused.
    let fingerprint = wd.fingerprint();
    let bad = server.csv(
        "PUT",
        "/1.1/users/import?filename=a%0Ab.csv",
        "admin",
        "uuid,lastname\n",
    );
    bad.expect(400);
    assert_eq!(bad.json()["errors"][0]["parameter"], "filename");
    assert_eq!(wd.fingerprint(), fingerprint);
    server
        .csv(
            "POST",
            "/1.1/users/import?filename=new%20office.csv",
            "admin",
            "firstname\nZed\n",
        )
        .expect(201);
    let last = server.get("GET", "/1.1/batches?limit=1", "admin").json();
    assert_eq!(last["items"][0]["source"], "new office.csv");
}

/// An undo taking back more users and numbers than stay (the search indexes are then
/// emptied and filled again instead of losing their rows one by one) leaves searches that
/// find exactly the users that stay, by name and by number, and the users imported next.
#[test]
fn after_the_undo_of_a_large_import_searches_find_exactly_the_users_that_stay() {
    let wd = Workdir::with_reference(
        "[[entity]]\nid = 1\nname = \"default\"\n\n\
         [[context]]\nname = \"default\"\nentity = 1\ntype = \"internal\"\n\
         ranges = [\"1000-1999\", \"100000-199999\"]\n\n\
         [[context]]\nname = \"from-extern\"\nentity = 1\ntype = \"incall\"\n\
         ranges = [\"2000-2999\"]\n",
    );
    wd.write("three.csv", THREE);
    wd.run(&["import", "three.csv"]).expect(0);
    let mut many = String::from("firstname,lastname,exten,context,line_protocol\n");
    for i in 0..12_000 {
        many += &format!("Many{i},Alphamany,{},default,sip\n", 100_000 + i);
    }
    wd.write("many.csv", &many);
    wd.run(&["import", "many.csv", "--no-progress"]).expect(0);
    let found = |search: &str| {
        searched(&wd, search, |u| {
            u["firstname"].as_str().unwrap().to_string()
        })
    };
    assert_eq!(found("Many11999"), ["Many11999"]);
    assert_eq!(found("111999"), ["Many11999"]);
    let import = history(&wd)[0]["id"].to_string();
    wd.run(&["undo", &import]).expect(0);
    assert_eq!(found("Alpha"), ["Ann"]);
    assert_eq!(found("Many"), Vec::<String>::new());
    assert_eq!(found("1119"), Vec::<String>::new());
    assert_eq!(found("1002"), ["Bob"]);
    // Users imported after the undo are found too, by name and by number.
    wd.write(
        "one.csv",
        "firstname,lastname,exten,context,line_protocol\nDan,Delta,100007,default,sip\n",
    );
    wd.run(&["import", "one.csv"]).expect(0);
    assert_eq!(found("Delta"), ["Dan"]);
    assert_eq!(found("100007"), ["Dan"]);
    assert_eq!(found("a"), ["Ann", "Bob", "Cid", "Dan"]);
}

#[test]
fn an_import_of_many_chunks_taken_back_and_brought_back_exports_as_it_did() {
    let wd = Workdir::with_reference(
        "[[entity]]\nid = 1\nname = \"default\"\n\n\
         [[context]]\nname = \"default\"\nentity = 1\ntype = \"internal\"\n\
         ranges = [\"100000-199999\"]\n\n\
         [[context]]\nname = \"from-extern\"\nentity = 1\ntype = \"incall\"\n\
         ranges = [\"200000-299999\"]\n\n\
         [[call_permission]]\nname = \"international\"\nentity = 1\n",
    );
    // 2,500 users (three chunks of the undo's reads), every group filled; each pair of
    // users shares a voicemail box, one pair across the first chunks' boundary.
    let mut csv = String::from(
        "firstname,lastname,exten,context,line_protocol,incall_exten,incall_context,\
         voicemail_name,voicemail_number,voicemail_context,call_permissions\n",
    );
    for i in 0..2500 {
        let b = (i + 1) / 2;
        csv += &format!(
            "First{i},Last{i},{},default,sip,{},from-extern,Box{b},{},default,international\n",
            100_000 + i,
            200_000 + i,
            150_000 + b
        );
    }
    wd.write("many.csv", &csv);
    wd.run(&["import", "many.csv", "--no-progress"]).expect(0);
    let after = export(&wd);
    let import = history(&wd)[0]["id"].to_string();
    wd.run(&["undo", &import]).expect(0);
    assert_eq!(wd.count("users"), 0);
    assert_eq!(
        wd.count("voicemails"),
        0,
        "every box went with its last user"
    );
    assert_eq!(wd.count("extensions"), 0, "every number is free again");
    let undo = history(&wd)[0]["id"].to_string();
    wd.run(&["undo", &undo]).expect(0);
    assert_eq!(export(&wd), after, "the users as the import made them");
}

#[test]
fn after_an_update_of_most_users_searches_find_them_by_their_new_names() {
    let wd = Workdir::with_db();
    wd.write("three.csv", THREE);
    wd.run(&["import", "three.csv"]).expect(0);
    let mut many = String::from("firstname,lastname\n");
    for i in 0..12_000 {
        many += &format!("Many{i},Oldname\n");
    }
    wd.write("many.csv", &many);
    wd.run(&["import", "many.csv", "--no-progress"]).expect(0);
    // Every user of the import renamed: the index is filled again, the others kept.
    let edited = export(&wd).replace(",Oldname,", ",Newname,");
    wd.write("edited.csv", &edited);
    wd.run(&["update", "edited.csv", "--no-progress"]).expect(0);
    let found = |search: &str| {
        searched(&wd, search, |u| {
            format!("{} {}", u["firstname"], u["lastname"])
        })
    };
    assert_eq!(found("Many11999"), [r#""Many11999" "Newname""#]);
    assert_eq!(found("Oldname"), Vec::<String>::new());
    assert_eq!(found("Alpha"), [r#""Ann" "Alpha""#]);
    assert_eq!(found("Bob"), [r#""Bob" "Beta""#]);
}
