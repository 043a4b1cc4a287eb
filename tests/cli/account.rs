//! `ucsv account ...` (SPEC §9) through the real binary, and sign-ins with the lock-out
//! through the library, on the backend under test.

use crate::workdir::Workdir;
use serde_json::Value;
use ucsv::domain::accounts::{Accounts, LOCK_AFTER};
use ucsv::store::Store;

fn add(wd: &Workdir, args: &[&str], password: &str) -> crate::workdir::Run {
    let mut all = vec!["account", "add"];
    all.extend_from_slice(args);
    all.push("--password-stdin");
    wd.run_stdin(&all, format!("{password}\n"))
}

#[test]
fn accounts_are_added_shown_listed_changed_and_deleted() {
    let wd = Workdir::with_db();
    add(
        &wd,
        &["admin", "--role", "sys_admin"],
        "correct horse battery",
    )
    .expect(0);
    add(&wd, &["ops", "--tenant", "1=manager"], "another good one").expect(0);
    let run = wd.run(&["account", "list", "--format", "json"]);
    run.expect(0);
    assert!(
        !run.stdout.contains("password"),
        "never the hash: {}",
        run.stdout
    );
    let list: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(list["metadata"]["pagination"]["total"], 2);
    assert_eq!(list["items"][0]["username"], "admin");
    assert_eq!(list["items"][1]["tenants"]["1"], "manager");
    assert_eq!(list["items"][1]["is_locked"], false);
    let hash = wd.query_one("SELECT password_hash FROM accounts WHERE username = 'ops'");
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    wd.run(&["account", "set-role", "ops", "sys_admin"])
        .expect(0);
    wd.run(&["account", "set-tenant", "ops", "1=none"])
        .expect(0);
    wd.run(&["account", "deactivate", "ops"]).expect(0);
    let run = wd.run(&["account", "show", "ops", "--format", "json"]);
    run.expect(0);
    let ops: Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(ops["role"], "sys_admin");
    assert_eq!(ops["active"], false);
    assert_eq!(ops["tenants"], serde_json::json!({}));
    wd.run(&["account", "delete", "ops"]).expect(0);
    assert_eq!(wd.count("accounts"), 1);
}

#[test]
fn bad_account_input_is_a_clear_error_and_changes_nothing() {
    let wd = Workdir::with_db();
    add(
        &wd,
        &["admin", "--role", "sys_admin"],
        "correct horse battery",
    )
    .expect(0);
    for (args, password, says) in [
        (&["admin"][..], "correct horse battery", "exists already"),
        (&["x y"][..], "correct horse battery", "not an account name"),
        (
            &["bob", "--role", "root"][..],
            "correct horse battery",
            "role 'root' does not exist",
        ),
        (&["bob"][..], "short", "8 to 128 characters"),
        (
            &["bob", "--tenant", "9=user"][..],
            "correct horse battery",
            "entity 9 does not exist",
        ),
        (
            &["bob", "--tenant", "1=boss"][..],
            "correct horse battery",
            "ENTITY=ROLE",
        ),
    ] {
        let run = add(&wd, args, password);
        run.expect(2);
        assert!(run.stderr_mentions(says), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains(password), "the password is echoed");
    }
    let run = wd.run(&["account", "add", "bob"]);
    run.expect(2);
    assert!(run.stderr_mentions("--password-stdin"), "{}", run.stderr);
    wd.run(&["account", "unlock", "nobody"]).expect(2);
    assert_eq!(wd.count("accounts"), 1);
}

#[test]
fn five_failed_sign_ins_in_a_row_lock_the_account_until_unlocked() {
    let wd = Workdir::with_db();
    add(&wd, &["ops", "--tenant", "1=user"], "the right password").expect(0);
    let store = Store::open(&wd.db()).expect("open the database");
    let accounts = Accounts::new(&store);
    // A good sign-in starts the count again and records the times.
    assert!(accounts
        .sign_in("ops", "the right password")
        .unwrap()
        .is_some());
    for _ in 0..LOCK_AFTER - 1 {
        assert!(accounts.sign_in("ops", "wrong").unwrap().is_none());
    }
    assert!(
        accounts
            .sign_in("ops", "the right password")
            .unwrap()
            .is_some(),
        "four failures do not lock"
    );
    for _ in 0..LOCK_AFTER {
        assert!(accounts.sign_in("ops", "wrong").unwrap().is_none());
    }
    assert!(
        accounts
            .sign_in("ops", "the right password")
            .unwrap()
            .is_none(),
        "locked: even the right password is refused"
    );
    let shown = accounts.show("ops").unwrap();
    assert!(shown.is_locked);
    assert!(shown.first_login_at.is_some() && shown.last_login_at.is_some());
    // Unknown names and deactivated accounts are refused the same way.
    assert!(accounts
        .sign_in("nobody", "the right password")
        .unwrap()
        .is_none());
    drop(store);
    wd.run(&["account", "unlock", "ops"]).expect(0);
    let store = Store::open(&wd.db()).expect("open the database");
    let accounts = Accounts::new(&store);
    assert!(accounts
        .sign_in("ops", "the right password")
        .unwrap()
        .is_some());
    accounts.set_active("ops", false).unwrap();
    assert!(accounts
        .sign_in("ops", "the right password")
        .unwrap()
        .is_none());
}
