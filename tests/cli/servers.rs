//! Several `ucsv serve` processes on one PostgreSQL database, clients spread over them:
//! what one server writes or decides holds on the others at once (numbers, codes and names
//! never duplicated, a lock-out, a deactivated account).

use crate::serve::{account, answer, Server, PW};
use crate::workdir::Workdir;

/// `n` users with extensions from `first`, usernames and e-mail addresses of the numbers.
fn rows(first: u32, n: u32) -> String {
    let mut csv = String::from("firstname,exten,context,line_protocol,username,email\n");
    for x in first..first + n {
        csv += &format!("U{x},{x},default,sip,user{x},user{x}@example.com\n");
    }
    csv
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn two_servers_on_one_database_never_duplicate_and_share_lock_outs_and_deactivations() {
    let wd = Workdir::with_db();
    assert!(wd.is_postgres(), "UCSV_TEST_POSTGRES names the server");
    account(&wd, "admin", &["--role", "sys_admin"]);
    account(&wd, "ops", &["--role", "sys_admin"]);
    let servers = [Server::start(&wd, &[]), Server::start(&wd, &[])];
    // Imports on both at once that want the same numbers, usernames and e-mails: each
    // value is stored once, the other import's row refused (keep going: the rest commits).
    let imports: Vec<_> = servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let request = s
                .request("POST", "/1.1/users/import?keep_going", Some(("admin", PW)))
                .set("Content-Type", "text/csv");
            // Server 0: 1000-1299; server 1: 1200-1499 (100 numbers wanted by both).
            let body = rows(1000 + 200 * i as u32, 300);
            std::thread::spawn(move || answer(request.send_string(&body)))
        })
        .collect();
    for import in imports {
        let a = import.join().expect("import");
        assert!(a.status == 201, "{}", a.body);
    }
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "500");
    for (table, column) in [
        ("extensions", "exten"),
        ("users", "username"),
        ("users", "email"),
        ("lines", "provisioning_code"),
        ("lines", "sip_username"),
    ] {
        assert_eq!(
            wd.query_one(&format!(
                "SELECT count(*) - count(DISTINCT {column}) FROM {table}"
            )),
            "0",
            "{table}.{column} duplicated"
        );
    }
    // A lock-out counted across the servers holds on all of them.
    for i in 0..5 {
        let a = answer(
            servers[i % 2]
                .request("GET", "/1.1/users", Some(("ops", "wrong password")))
                .call(),
        );
        assert_eq!(a.status, 401);
    }
    for s in &servers {
        assert_eq!(s.get("GET", "/1.1/users", "ops").status, 401, "locked");
    }
    assert_eq!(
        wd.query_one("SELECT is_locked FROM accounts WHERE username = 'ops'"),
        "1"
    );
    servers[1]
        .get("POST", "/1.1/accounts/ops/unlock", "admin")
        .expect(200);
    for s in &servers {
        s.get("GET", "/1.1/users?limit=1", "ops").expect(200);
    }
    // An account deactivated through one server is refused by all at once, though both
    // have just seen its password.
    servers[0]
        .get("POST", "/1.1/accounts/ops/deactivate", "admin")
        .expect(200);
    for s in &servers {
        assert_eq!(s.get("GET", "/1.1/users?limit=1", "ops").status, 401);
    }
}
