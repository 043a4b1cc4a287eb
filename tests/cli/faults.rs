//! `ucsv serve` when things go wrong: each fault ends with the database as it was before
//! the request or as it is after it, never in between. The real binary, the backend under
//! test.

use crate::serve::{account, answer, Server, PW};
use crate::workdir::Workdir;
use std::io::Read;
use std::time::{Duration, Instant};

/// A CSV body whose first rows arrive at once and whose rest never does.
struct Endless {
    first: Option<Vec<u8>>,
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.first.take() {
            Some(part) => {
                buf[..part.len()].copy_from_slice(&part);
                Ok(part.len())
            }
            None => {
                std::thread::sleep(Duration::from_secs(600));
                Ok(0)
            }
        }
    }
}

#[test]
fn sigterm_past_the_grace_period_stops_the_server_and_rolls_the_import_back() {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &["--grace", "1"]);
    let before = wd.fingerprint();
    let request = server
        .request("POST", "/1.1/users/import", Some(("admin", PW)))
        .set("Content-Type", "text/csv");
    let body = Endless {
        first: Some(b"firstname,exten,context,line_protocol\nAnn,1001,default,sip\n".to_vec()),
    };
    std::thread::spawn(move || answer(request.send(body)));
    // The import is in flight once its first rows have been read.
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    let (code, log) = server.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "stopped after {:?}",
        start.elapsed()
    );
    assert!(log.contains("grace period (1 s) is over"), "{log}");
    assert_eq!(
        wd.fingerprint(),
        before,
        "the import in flight is rolled back"
    );
    // The database serves at once after a restart.
    let again = Server::start(&wd, &[]);
    again.get("GET", "/1.1/users", "admin").expect(200);
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "0");
}

/// A CSV body sent in two parts, the second when told.
struct TwoParts {
    parts: Vec<Vec<u8>>,
    go: std::sync::mpsc::Receiver<()>,
    sent: usize,
}

impl Read for TwoParts {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.sent >= self.parts.len() {
            return Ok(0);
        }
        if self.sent == 1 {
            let _ = self.go.recv();
        }
        let part = &self.parts[self.sent];
        buf[..part.len()].copy_from_slice(part);
        self.sent += 1;
        Ok(part.len())
    }
}

#[test]
#[ignore = "runs on PostgreSQL: set UCSV_TEST_POSTGRES and pass --include-ignored"]
fn postgresql_cutting_the_connections_during_an_import_answers_503_and_the_server_reconnects() {
    let wd = Workdir::with_db();
    assert!(wd.is_postgres(), "UCSV_TEST_POSTGRES names the server");
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &[]);
    server.get("GET", "/1.1/users", "admin").expect(200);
    let before = wd.fingerprint();
    let (go, wait) = std::sync::mpsc::channel();
    let body = TwoParts {
        parts: vec![
            b"firstname,exten,context,line_protocol\nAnn,1001,default,sip\n".to_vec(),
            b"Bob,1002,default,sip\n".to_vec(),
        ],
        go: wait,
        sent: 0,
    };
    let request = server
        .request("POST", "/1.1/users/import", Some(("admin", PW)))
        .set("Content-Type", "text/csv");
    let upload = std::thread::spawn(move || answer(request.send(body)));
    std::thread::sleep(Duration::from_millis(500));
    // Every connection of ucsv to its database is ended, as a restart of the server does.
    let url = wd.db().display().to_string();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let cut: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("terminate")
        .get(0);
    assert!(cut >= 1, "ucsv's connections: {cut}");
    go.send(()).expect("the upload waits");
    let refused = upload.join().expect("upload");
    refused.expect(503);
    assert_eq!(refused.code(), "database.unavailable", "{}", refused.body);
    drop(admin);
    assert_eq!(wd.fingerprint(), before, "nothing written");
    // The next requests succeed, without restarting ucsv.
    server.get("GET", "/1.1/users", "admin").expect(200);
    server
        .csv(
            "POST",
            "/1.1/users/import",
            "admin",
            "firstname,exten,context,line_protocol\nAnn,1001,default,sip\n",
        )
        .expect(201);
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "1");
}
