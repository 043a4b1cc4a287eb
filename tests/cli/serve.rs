//! `ucsv serve` (SPEC §8, §9): the real binary serving on a free port of 127.0.0.1, asked
//! by a real HTTP client, on the backend under test. Every route, its status codes and body
//! shapes, the role and tenant matrix, the lock-out, streamed bodies, the log and SIGTERM.

use crate::contexts::TWO_ENTITIES;
use crate::workdir::{fixture, Workdir};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The password of every account the tests make.
pub const PW: &str = "good password 1";

/// A server running on a free port, its stderr collected.
pub struct Server {
    child: Child,
    pub base: String,
    log: Arc<Mutex<String>>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: String,
    pub www_authenticate: Option<String>,
    pub disposition: Option<String>,
    pub location: Option<String>,
}

impl Answer {
    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.shown()))
    }

    /// Asserts the status, showing the body when it is not.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Answer {
        assert_eq!(self.status, status, "{}", self.shown());
        self
    }

    /// The body for a message (its start, if long).
    pub fn shown(&self) -> String {
        self.body.chars().take(2000).collect()
    }

    /// The first error's code.
    #[track_caller]
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Server {
    /// Starts `ucsv serve` on the workdir's database.
    pub fn start(wd: &Workdir, extra: &[&str]) -> Server {
        Server::start_with(wd, extra, &[])
    }

    /// [`Server::start`] with these environment variables.
    pub fn start_with(wd: &Workdir, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ucsv"))
            .current_dir(wd.dir())
            .env_remove("UCSV_DB")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .arg("--db")
            .arg(wd.db())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ucsv serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let collected = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // "serving http://ADDR/" or "serving https://ADDR/".
                if let Some(at) = line.find("serving http") {
                    let base = line[at + "serving ".len()..]
                        .split(' ')
                        .next()
                        .unwrap_or_default()
                        .trim_end_matches('/')
                        .to_string();
                    let _ = tx.send(base);
                }
                collected.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("the server did not start: {}", log.lock().unwrap()));
        Server { child, base, log }
    }

    /// What the server wrote on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// A request, signed in as `who` (name, password) if given.
    pub fn request(&self, method: &str, path: &str, who: Option<(&str, &str)>) -> ureq::Request {
        let mut req = ureq::request(method, &format!("{}{path}", self.base));
        if let Some((name, password)) = who {
            use base64::Engine;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{name}:{password}"));
            req = req.set("Authorization", &format!("Basic {token}"));
        }
        req
    }

    /// A request signed in as `name` with the tests' password, without a body.
    pub fn get(&self, method: &str, path: &str, name: &str) -> Answer {
        answer(self.request(method, path, Some((name, PW))).call())
    }

    /// A request signed in as `name` with a JSON body.
    pub fn json(&self, method: &str, path: &str, name: &str, body: &Value) -> Answer {
        answer(
            self.request(method, path, Some((name, PW)))
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
        )
    }

    /// A request signed in as `name` with a CSV body.
    pub fn csv(&self, method: &str, path: &str, name: &str, csv: &str) -> Answer {
        answer(
            self.request(method, path, Some((name, PW)))
                .set("Content-Type", "text/csv")
                .send_string(csv),
        )
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(mut self) -> (i32, String) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                std::thread::sleep(Duration::from_millis(100));
                return (status.code().unwrap_or(-1), self.log());
            }
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The answer of a request, whatever its status.
pub fn answer(result: Result<ureq::Response, ureq::Error>) -> Answer {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("the request failed: {e}"),
    };
    let status = response.status();
    let content_type = response.header("content-type").unwrap_or("").to_string();
    let www_authenticate = response.header("www-authenticate").map(str::to_string);
    let disposition = response.header("content-disposition").map(str::to_string);
    let location = response.header("location").map(str::to_string);
    let mut body = String::new();
    response
        .into_reader()
        .read_to_string(&mut body)
        .expect("read the body");
    Answer {
        status,
        body,
        content_type,
        www_authenticate,
        disposition,
        location,
    }
}

/// Adds an account with the tests' password.
pub fn account(wd: &Workdir, name: &str, args: &[&str]) {
    let mut all = vec!["account", "add", name];
    all.extend_from_slice(args);
    all.push("--password-stdin");
    wd.run_stdin(&all, format!("{PW}\n")).expect(0);
}

/// A database with a sys_admin `admin`, and a server on it.
pub fn admin_server() -> (Workdir, Server) {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &[]);
    (wd, server)
}

const THREE: &str = "firstname,lastname,exten,context,line_protocol,email,voicemail_name,voicemail_number,voicemail_context\n\
Ann,Alpha,1001,default,sip,ann@example.com,Ann Alpha,1001,default\n\
Bob,Beta,1002,default,sip,bob@example.com,,,\n\
Cid,Gamma,1003,default,sccp,,,,\n";

#[test]
fn every_route_refuses_a_request_without_good_credentials_with_401_and_never_says_why() {
    let (wd, server) = admin_server();
    account(&wd, "off", &["--role", "sys_admin"]);
    wd.run(&["account", "deactivate", "off"]).expect(0);
    let routes = [
        ("GET", "/1.1/users"),
        ("POST", "/1.1/users"),
        ("GET", "/1.1/users/1"),
        ("PUT", "/1.1/users/1"),
        ("DELETE", "/1.1/users/1"),
        ("POST", "/1.1/users/import"),
        ("PUT", "/1.1/users/import"),
        ("GET", "/1.1/users/export"),
        ("GET", "/1.1/me"),
        ("GET", "/1.1/accounts"),
        ("POST", "/1.1/accounts"),
        ("GET", "/1.1/accounts/admin"),
        ("POST", "/1.1/accounts/admin"),
        ("DELETE", "/1.1/accounts/admin"),
        ("POST", "/1.1/accounts/admin/unlock"),
        ("GET", "/1.1/batches"),
        ("GET", "/1.1/batches/1"),
        ("POST", "/1.1/batches/1/undo"),
    ];
    let mut bodies = std::collections::BTreeSet::new();
    for (method, path) in routes {
        for who in [
            None,
            Some(("admin", "wrong password")),
            Some(("nobody", PW)),
            Some(("off", PW)),
        ] {
            let a = answer(server.request(method, path, who).call());
            assert_eq!(a.status, 401, "{method} {path} as {who:?}: {}", a.body);
            assert!(
                a.www_authenticate
                    .as_deref()
                    .is_some_and(|w| w.starts_with("Basic")),
                "{a:?}"
            );
            assert_eq!(a.json()["errors"][0]["code"], "unauthorized");
            bodies.insert(a.body);
        }
    }
    assert_eq!(bodies.len(), 1, "one answer for every reason: {bodies:?}");
    // A malformed header is refused the same way.
    let a = answer(
        server
            .request("GET", "/1.1/users", None)
            .set("Authorization", "Basic !!!")
            .call(),
    );
    assert_eq!(a.status, 401);
    // Unknown routes and methods are JSON too.
    server.get("GET", "/nowhere", "admin").expect(404);
    let a = server.get("PATCH", "/1.1/users", "admin");
    assert_eq!(a.status, 405, "{}", a.body);
    assert!(a.json()["errors"][0]["message"].is_string());
}

#[test]
fn users_are_listed_shown_created_changed_and_deleted() {
    let (wd, server) = admin_server();
    server
        .csv("POST", "/1.1/users/import", "admin", THREE)
        .expect(201);
    // List: items and total; search, order, direction, limit, offset.
    let all = server.get("GET", "/1.1/users", "admin");
    all.expect(200);
    assert!(all.content_type.starts_with("application/json"));
    let all = all.json();
    assert_eq!(all["total"], 3);
    assert_eq!(all["items"][0]["firstname"], "Ann");
    assert_eq!(all["items"][0]["enabled"], true, "typed");
    assert_eq!(all["items"][0]["ring_seconds"], 30, "typed");
    assert_eq!(all["items"][0]["mobile_phone_number"], Value::Null);
    let page = server
        .get(
            "GET",
            "/1.1/users?order=firstname&direction=desc&limit=1&offset=1",
            "admin",
        )
        .json();
    assert_eq!(page["total"], 3);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["firstname"], "Bob");
    let found = server.get("GET", "/1.1/users?search=GAMMA", "admin").json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["exten"], "1003");
    assert_eq!(
        server.get("GET", "/1.1/users?order=nope", "admin").status,
        400
    );
    assert_eq!(
        server.get("GET", "/1.1/users?direction=up", "admin").status,
        400
    );
    assert_eq!(server.get("GET", "/1.1/users?limit=x", "admin").status, 400);
    // Show, by id and by uuid.
    let uuid = all["items"][1]["uuid"].as_str().unwrap().to_string();
    let by_uuid = server.get("GET", &format!("/1.1/users/{uuid}"), "admin");
    by_uuid.expect(200);
    assert_eq!(by_uuid.json()["firstname"], "Bob");
    let id = wd.query_one(&format!("SELECT id FROM users WHERE uuid = '{uuid}'"));
    let by_id = server.get("GET", &format!("/1.1/users/{id}"), "admin");
    assert_eq!(by_id.json(), by_uuid.json());
    server.get("GET", "/1.1/users/999999", "admin").expect(404);
    server
        .get("GET", "/1.1/users/not-a-uuid", "admin")
        .expect(404);
    server
        .get(
            "GET",
            "/1.1/users/01890000-0000-7000-8000-000000000000",
            "admin",
        )
        .expect(404);
    // Create: 201 with the user; errors name column, code and message.
    let created = server.json(
        "POST",
        "/1.1/users",
        "admin",
        &json!({"firstname": "Dee", "exten": "1004", "context": "default", "line_protocol": "sip",
                "enabled": false, "ring_seconds": 20, "email": "dee@example.com", "mobile_phone_number": null}),
    );
    created.expect(201);
    let dee = created.json();
    assert_eq!(
        created.location,
        Some(format!("/1.1/users/{}", dee["uuid"].as_str().unwrap()))
    );
    assert!(dee["id"].is_i64(), "{dee}");
    assert!(
        dee.get("sip_secret").is_none() && dee.get("password_hash").is_none(),
        "{dee}"
    );
    assert_eq!(dee["firstname"], "Dee");
    assert_eq!(dee["enabled"], false);
    assert_eq!(dee["ring_seconds"], 20);
    assert_eq!(dee["exten"], "1004");
    assert!(dee["sip_username"].is_string(), "generated: {dee}");
    let refused = server.json(
        "POST",
        "/1.1/users",
        "admin",
        &json!({"firstname": "Eve", "exten": "1004", "context": "default", "line_protocol": "sip", "email": "x"}),
    );
    refused.expect(400);
    let errors = refused.json()["errors"].clone();
    let codes: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"exten.in_use") && codes.contains(&"email.invalid"),
        "{errors}"
    );
    assert_eq!(
        errors[0]["column"].as_str().map(|c| c.is_empty()),
        Some(false)
    );
    let unknown = server.json("POST", "/1.1/users", "admin", &json!({"firstnam": "Eve"}));
    unknown.expect(400);
    assert_eq!(unknown.json()["errors"][0]["column"], "firstnam");
    assert!(unknown.body.contains("did you mean 'firstname'"));
    let not_json = answer(
        server
            .request("POST", "/1.1/users", Some(("admin", PW)))
            .set("Content-Type", "text/plain")
            .send_string("{}"),
    );
    not_json.expect(415);
    assert_eq!(not_json.code(), "content_type");
    let broken = answer(
        server
            .request("POST", "/1.1/users", Some(("admin", PW)))
            .set("Content-Type", "application/json")
            .send_string("{\"firstname\":"),
    );
    broken.expect(400);
    assert_eq!(broken.code(), "body.invalid");
    // Change: absent keys stay, null unsets; 204; errors 400; unknown 404.
    let dee_uuid = dee["uuid"].as_str().unwrap();
    server
        .json(
            "PUT",
            &format!("/1.1/users/{dee_uuid}"),
            "admin",
            &json!({"lastname": "Delta", "email": null}),
        )
        .expect(204);
    let after = server
        .get("GET", &format!("/1.1/users/{dee_uuid}"), "admin")
        .json();
    assert_eq!(after["lastname"], "Delta");
    assert_eq!(after["firstname"], "Dee", "unchanged");
    assert_eq!(after["email"], Value::Null, "unset");
    assert_eq!(after["ring_seconds"], 20, "unchanged");
    let bad = server.json(
        "PUT",
        &format!("/1.1/users/{dee_uuid}"),
        "admin",
        &json!({"exten": "1001"}),
    );
    bad.expect(400);
    assert_eq!(bad.json()["errors"][0]["code"], "exten.in_use");
    server
        .json(
            "PUT",
            &format!("/1.1/users/{dee_uuid}"),
            "admin",
            &json!({"uuid": uuid}),
        )
        .expect(400);
    server
        .json(
            "PUT",
            "/1.1/users/999999",
            "admin",
            &json!({"lastname": "X"}),
        )
        .expect(404);
    // Delete: 204, then 404.
    server
        .get("DELETE", &format!("/1.1/users/{dee_uuid}"), "admin")
        .expect(204);
    server
        .get("DELETE", &format!("/1.1/users/{dee_uuid}"), "admin")
        .expect(404);
    assert_eq!(server.get("GET", "/1.1/users", "admin").json()["total"], 3);
}

#[test]
fn delete_answers_412_for_a_user_who_alone_has_a_voicemail_box_unless_delete_voicemail() {
    let (wd, server) = admin_server();
    server
        .csv("POST", "/1.1/users/import", "admin", THREE)
        .expect(201);
    let ann = wd.query_one("SELECT id FROM users WHERE firstname = 'Ann'");
    let refused = server.get("DELETE", &format!("/1.1/users/{ann}"), "admin");
    refused.expect(412);
    assert_eq!(
        refused.json()["errors"][0]["message"],
        "Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user."
    );
    assert_eq!(wd.query_one("SELECT count(*) FROM voicemails"), "1");
    server
        .get(
            "DELETE",
            &format!("/1.1/users/{ann}?delete_voicemail=true"),
            "admin",
        )
        .expect(204);
    assert_eq!(wd.query_one("SELECT count(*) FROM voicemails"), "0");
    assert_eq!(
        server
            .get("DELETE", "/1.1/users/1?delete_voicemail=maybe", "admin")
            .status,
        400
    );
}

#[test]
fn an_import_over_http_answers_wazo_shapes_and_writes_what_the_cli_writes() {
    let (wd, server) = admin_server();
    let csv = std::fs::read_to_string(fixture("bad/good_and_bad_rows.csv")).unwrap();
    // All or nothing: 400 with Wazo's errors, nothing written.
    let before = wd.fingerprint();
    let refused = server.csv("POST", "/1.1/users/import", "admin", &csv);
    refused.expect(400);
    let errors = refused.json()["errors"].clone();
    let first = &errors[0];
    assert!(
        first["message"].is_string() && first["timestamp"].is_f64(),
        "{first}"
    );
    assert!(first["details"]["row_number"].is_u64(), "{first}");
    assert!(first["details"]["row"].is_object(), "{first}");
    assert!(refused.json().get("created").is_none());
    assert_eq!(wd.fingerprint(), before, "nothing written");
    // Keep going over HTTP, and the same file through the CLI into another database.
    let kept = server.csv("POST", "/1.1/users/import?keep_going=true", "admin", &csv);
    kept.expect(201);
    let body = kept.json();
    let cli = Workdir::with_db();
    cli.write("f.csv", &csv);
    let run = cli.run(&["import", "f.csv", "--keep-going", "--format", "json"]);
    run.expect(1);
    let report = run.report();
    assert_eq!(
        body["created"].as_array().unwrap().len() as u64,
        report.created("users")
    );
    let rows = |v: &Value, key: &str, field: &str| -> Vec<Value> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e[field].clone())
            .collect()
    };
    assert_eq!(
        rows(&body, "created", "row_number"),
        rows(&report, "created", "row_number")
    );
    let codes = |v: &Value| -> Vec<(Value, Value)> {
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let row = e
                    .get("row_number")
                    .cloned()
                    .unwrap_or_else(|| e["details"]["row_number"].clone());
                (row, e["code"].clone())
            })
            .collect()
    };
    assert_eq!(codes(&body), codes(&report));
    // The same users: the exports agree but for what is generated at random.
    let cols = "columns=firstname,lastname,email,exten,context,line_protocol,voicemail_number,call_permissions,entity_id";
    let over_http = server.get("GET", &format!("/1.1/users/export?{cols}"), "admin");
    over_http.expect(200);
    assert_eq!(over_http.content_type, "text/csv; charset=utf-8");
    assert!(over_http
        .disposition
        .as_deref()
        .is_some_and(|d| d.starts_with("attachment")));
    let by_cli = cli.run(&["export", "--columns", cols.trim_start_matches("columns=")]);
    by_cli.expect(0);
    assert_eq!(over_http.body, by_cli.stdout);
    // With the report's media type: the report of SPEC §5, as the CLI writes it.
    let again = Workdir::with_db();
    account(&again, "admin", &["--role", "sys_admin"]);
    let other = Server::start(&again, &[]);
    let report_http = answer(
        other
            .request(
                "POST",
                "/1.1/users/import?keep_going=1",
                Some(("admin", PW)),
            )
            .set("Content-Type", "text/csv")
            .set("Accept", "application/vnd.ucsv.report+json")
            .send_string(&csv),
    );
    report_http.expect(201);
    assert_eq!(report_http.content_type, "application/vnd.ucsv.report+json");
    let mut a = report_http.json();
    let mut b = report.0.clone();
    // Generated values aside: the uuids, and the ids, which a batch that PostgreSQL took
    // back (a generated provisioning code drawn twice, say) draws again.
    for v in [&mut a, &mut b] {
        for c in v["created"].as_array_mut().unwrap() {
            for generated in ["user_uuid", "user_id", "line_id", "extension_id"] {
                c[generated] = Value::Null;
            }
        }
        v["file"] = Value::Null;
    }
    assert_eq!(a, b);
}

#[test]
fn secret_cells_are_masked_in_the_rows_an_import_answers_with() {
    let (_wd, server) = admin_server();
    let csv = "firstname,sip_secret,exten,context,line_protocol,my_pin\nAnn,Sup3rS3cret!!,9999,default,sip,1234\n";
    let refused = server.csv("POST", "/1.1/users/import", "admin", csv);
    refused.expect(400);
    assert!(!refused.body.contains("Sup3rS3cret"), "{}", refused.body);
    assert!(!refused.body.contains("1234"), "{}", refused.body);
    let row = &refused.json()["errors"][0]["details"]["row"];
    assert_eq!(row["sip_secret"], "********");
    assert_eq!(row["firstname"], "Ann");
}

#[test]
fn an_update_over_http_changes_the_users_of_an_edited_export() {
    let (wd, server) = admin_server();
    server
        .csv("POST", "/1.1/users/import", "admin", THREE)
        .expect(201);
    let export = server.get("GET", "/1.1/users/export", "admin");
    export.expect(200);
    let edited = export.body.replacen("Alpha", "Omega", 1);
    assert_ne!(edited, export.body);
    // A dry run changes nothing.
    let before = wd.fingerprint();
    let dry = server.csv("PUT", "/1.1/users/import?dry_run=true", "admin", &edited);
    dry.expect(200);
    assert_eq!(dry.json()["updated"].as_array().unwrap().len(), 1);
    assert_eq!(wd.fingerprint(), before);
    let done = server.csv("PUT", "/1.1/users/import", "admin", &edited);
    done.expect(200);
    let updated = done.json()["updated"].clone();
    assert_eq!(updated.as_array().unwrap().len(), 1, "{updated}");
    // The box named after the user follows the new name (XiVO).
    assert_eq!(updated[0]["changed"], json!(["lastname", "voicemail_name"]));
    assert_eq!(wd.query_one("SELECT name FROM voicemails"), "Ann Omega");
    assert_eq!(
        wd.query_one("SELECT lastname FROM users WHERE firstname = 'Ann'"),
        "Omega"
    );
    // An update needs its uuid column.
    let no_uuid = server.csv("PUT", "/1.1/users/import", "admin", "firstname\nX\n");
    no_uuid.expect(400);
    assert_eq!(no_uuid.code(), "body.header");
}

#[test]
fn imports_need_a_csv_body_and_refuse_bodies_over_max_body_with_413() {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &["--max-body", "2K"]);
    let wrong = answer(
        server
            .request("POST", "/1.1/users/import", Some(("admin", PW)))
            .set("Content-Type", "application/json")
            .send_string("{}"),
    );
    wrong.expect(415);
    let before = wd.fingerprint();
    let mut big = String::from("firstname,exten,context,line_protocol\n");
    for i in 0..100 {
        big += &format!("User{i},{},default,sip\n", 1100 + i);
    }
    assert!(big.len() > 2048);
    // Said up front by Content-Length.
    let said = server.csv("POST", "/1.1/users/import", "admin", &big);
    said.expect(413);
    assert_eq!(said.code(), "body.too_large");
    // Found while streaming (chunked, no length).
    let streamed = answer(
        server
            .request("POST", "/1.1/users/import", Some(("admin", PW)))
            .set("Content-Type", "text/csv")
            .send(std::io::Cursor::new(big.clone().into_bytes())),
    );
    streamed.expect(413);
    assert_eq!(wd.fingerprint(), before, "nothing written");
    // A JSON object over the limit too.
    let long = json!({"firstname": "x".repeat(4096)});
    server
        .json("POST", "/1.1/users", "admin", &long)
        .expect(413);
    // Within the limit, and in another encoding.
    let latin1: Vec<u8> = b"firstname,lastname\nRen\xe9,M\xfcller\n".to_vec();
    let ok = answer(
        server
            .request("POST", "/1.1/users/import", Some(("admin", PW)))
            .set("Content-Type", "text/csv; charset=windows-1252")
            .send_bytes(&latin1),
    );
    ok.expect(201);
    assert_eq!(
        wd.query_one("SELECT lastname FROM users WHERE firstname = 'René'"),
        "Müller"
    );
    let unknown = answer(
        server
            .request("POST", "/1.1/users/import", Some(("admin", PW)))
            .set("Content-Type", "text/csv; charset=klingon")
            .send_string("firstname\nX\n"),
    );
    unknown.expect(400);
    assert_eq!(unknown.code(), "content_type.charset");
}

/// The accounts of the role matrix, over two entities.
fn matrix() -> (Workdir, Server) {
    let wd = Workdir::with_reference(TWO_ENTITIES);
    account(&wd, "admin", &["--role", "sys_admin"]);
    account(&wd, "viewer", &["--tenant", "1=viewer"]);
    account(&wd, "user", &["--tenant", "1=user"]);
    account(&wd, "manager", &["--tenant", "1=manager"]);
    account(
        &wd,
        "both",
        &["--tenant", "1=manager", "--tenant", "2=viewer"],
    );
    account(&wd, "none", &[]);
    let server = Server::start(&wd, &[]);
    (wd, server)
}

#[test]
fn each_role_is_tried_on_each_route_and_gets_exactly_what_it_may() {
    let (wd, server) = matrix();
    let csv = |n: u32| {
        format!(
            "firstname,exten,context,line_protocol\nU{n},{},north-users,sip\n",
            1000 + n
        )
    };
    let mut n = 0;
    // (account, allowed: read, write, delete, accounts)
    let roles = [
        ("admin", [true, true, true, true]),
        ("viewer", [true, false, false, false]),
        ("user", [true, true, false, false]),
        ("manager", [true, true, true, false]),
        ("none", [false, false, false, false]),
    ];
    for (who, may) in roles {
        // Every request in entity 1 (the admin has two and must choose).
        let call = |method: &str, path: &str, body: Option<(&str, String)>| {
            let req = server
                .request(method, path, Some((who, PW)))
                .set("Wazo-Tenant", "1");
            answer(match body {
                None => req.call(),
                Some((kind, text)) => req.set("Content-Type", kind).send_string(&text),
            })
        };
        let status = |a: Answer, ok: u16, allowed: bool, what: &str| {
            let want = if allowed { ok } else { 403 };
            assert_eq!(a.status, want, "{who} {what}: {}", a.body);
            if !allowed {
                assert_eq!(a.code(), "forbidden", "{who} {what}");
            }
        };
        // A user to show, change and delete, made by the admin.
        n += 1;
        let made = answer(
            server
                .request("POST", "/1.1/users/import", Some(("admin", PW)))
                .set("Wazo-Tenant", "1")
                .set("Content-Type", "text/csv")
                .send_string(&csv(n)),
        );
        made.expect(201);
        let id = wd.query_one(&format!("SELECT id FROM users WHERE firstname = 'U{n}'"));
        status(call("GET", "/1.1/users", None), 200, may[0], "list");
        status(
            call("GET", &format!("/1.1/users/{id}"), None),
            200,
            may[0],
            "show",
        );
        n += 1;
        let user = json!({"firstname": format!("U{n}")}).to_string();
        status(
            call("POST", "/1.1/users", Some(("application/json", user))),
            201,
            may[1],
            "create",
        );
        let change = json!({"lastname": "Changed"}).to_string();
        status(
            call(
                "PUT",
                &format!("/1.1/users/{id}"),
                Some(("application/json", change)),
            ),
            204,
            may[1],
            "change",
        );
        n += 1;
        status(
            call("POST", "/1.1/users/import", Some(("text/csv", csv(n)))),
            201,
            may[1],
            "import",
        );
        let unknown = "uuid,lastname\n01890000-0000-7000-8000-000000000000,X\n".to_string();
        status(
            call("PUT", "/1.1/users/import", Some(("text/csv", unknown))),
            400,
            may[1],
            "update",
        );
        status(
            call("GET", "/1.1/users/export", None),
            200,
            may[1],
            "export",
        );
        status(
            call("DELETE", &format!("/1.1/users/{id}"), None),
            204,
            may[2],
            "delete",
        );
        status(call("GET", "/1.1/accounts", None), 200, may[3], "accounts");
        status(
            call("GET", "/1.1/accounts/viewer", None),
            200,
            may[3],
            "account",
        );
        // Every account may see itself.
        call("GET", "/1.1/me", None).expect(200);
    }
}

#[test]
fn wazo_tenant_chooses_the_entity_and_an_account_works_only_in_its_own() {
    let (wd, server) = matrix();
    let north = "firstname,exten,context,line_protocol\nNora,1000,north-users,sip\n";
    let south = "firstname,exten,context,line_protocol,entity_id\nSam,3000,south-users,sip,2\n";
    // The admin works in every entity without the header: a row must then say its own.
    let choose = server.csv("POST", "/1.1/users/import", "admin", north);
    choose.expect(400);
    assert_eq!(choose.code(), "entity_id.required", "{}", choose.body);
    assert!(!choose.body.contains("--"), "HTTP words: {}", choose.body);
    let as_admin = |tenant: &str, csv: &str| {
        answer(
            server
                .request("POST", "/1.1/users/import", Some(("admin", PW)))
                .set("Wazo-Tenant", tenant)
                .set("Content-Type", "text/csv")
                .send_string(csv),
        )
    };
    as_admin("1", north).expect(201);
    // By name too.
    as_admin("south", south).expect(201);
    assert_eq!(as_admin("7", north).code(), "tenant.unknown");
    assert_eq!(as_admin("x", north).code(), "tenant.unknown");
    // Without the header, the admin lists every entity's users, each with its entity_id,
    // and filters with ?entity= (an id or a name).
    let every = server.get("GET", "/1.1/users", "admin").json();
    assert_eq!(every["total"], 2, "{every}");
    assert_eq!(every["items"][0]["entity_id"], 1);
    assert_eq!(every["items"][1]["entity_id"], 2);
    assert!(every["items"][0]["id"].is_i64(), "{every}");
    let south_only = server.get("GET", "/1.1/users?entity=south", "admin").json();
    assert_eq!(south_only["total"], 1);
    assert_eq!(south_only["items"][0]["firstname"], "Sam");
    assert_eq!(
        server.get("GET", "/1.1/users?entity=2", "admin").json()["total"],
        1
    );
    assert_eq!(
        server
            .get("GET", "/1.1/users?entity=nowhere", "admin")
            .code(),
        "tenant.unknown"
    );
    // GET /1.1/entities: names and defaults.
    let entities = server.get("GET", "/1.1/entities", "admin").json();
    assert_eq!(entities["total"], 2);
    assert_eq!(entities["items"][1]["name"], "south");
    // An account with one entity works in it without the header, and sees only it.
    let seen = server.get("GET", "/1.1/users", "manager").json();
    assert_eq!(seen["total"], 1);
    assert_eq!(seen["items"][0]["firstname"], "Nora");
    let sam = wd.query_one("SELECT id FROM users WHERE firstname = 'Sam'");
    server
        .get("GET", &format!("/1.1/users/{sam}"), "manager")
        .expect(404);
    server
        .get("DELETE", &format!("/1.1/users/{sam}"), "manager")
        .expect(404);
    let other = answer(
        server
            .request("GET", "/1.1/users", Some(("manager", PW)))
            .set("Wazo-Tenant", "2")
            .call(),
    );
    other.expect(403);
    // A row naming another entity is refused, nothing written.
    let before = wd.fingerprint();
    let outside = server.csv("POST", "/1.1/users/import", "manager", south);
    outside.expect(400);
    assert_eq!(outside.json()["errors"][0]["code"], "entity_id.outside");
    assert_eq!(wd.fingerprint(), before);
    // Several entities: choose; the role is the one in the chosen entity.
    assert_eq!(
        server.get("GET", "/1.1/users", "both").code(),
        "tenant.required"
    );
    let in_south = |method: &str, path: &str| {
        answer(
            server
                .request(method, path, Some(("both", PW)))
                .set("Wazo-Tenant", "2")
                .call(),
        )
    };
    assert_eq!(in_south("GET", "/1.1/users").json()["total"], 1);
    in_south("DELETE", &format!("/1.1/users/{sam}")).expect(403);
    // An account without entities may do nothing with users.
    server.get("GET", "/1.1/users", "none").expect(403);
    let me = server.get("GET", "/1.1/me", "both").json();
    assert_eq!(me["account"]["username"], "both");
    assert_eq!(
        me["entities"],
        json!([{"id": 1, "name": "north", "role": "manager"}, {"id": 2, "name": "south", "role": "viewer"}])
    );
    // An account sees the entities it works in, no others.
    let mine = server.get("GET", "/1.1/entities", "manager").json();
    assert_eq!(
        mine["items"],
        json!([{"id": 1, "name": "north", "default_language": null, "default_timezone": null}])
    );
    server
        .get("GET", "/1.1/entities/south", "manager")
        .expect(404);
    assert!(!server.get("GET", "/1.1/me", "both").body.contains("argon2"));
}

#[test]
fn accounts_are_managed_over_http_by_a_sys_admin_only() {
    let (wd, server) = admin_server();
    let created = server.json(
        "POST",
        "/1.1/accounts",
        "admin",
        &json!({"username": "ops", "password": PW, "role": "default", "tenants": {"1": "user"}}),
    );
    created.expect(201);
    assert_eq!(created.location.as_deref(), Some("/1.1/accounts/ops"));
    assert_eq!(created.json()["tenants"]["1"], "user");
    assert_eq!(created.json()["first_login_at"], Value::Null);
    let dup = server.json(
        "POST",
        "/1.1/accounts",
        "admin",
        &json!({"username": "ops", "password": PW}),
    );
    dup.expect(409);
    server
        .json(
            "POST",
            "/1.1/accounts",
            "admin",
            &json!({"username": "x", "password": "short"}),
        )
        .expect(400);
    server
        .json(
            "POST",
            "/1.1/accounts",
            "admin",
            &json!({"username": "y", "password": PW, "role": "boss"}),
        )
        .expect(400);
    // Cloudify's page shape, never a hash.
    let list = server.get("GET", "/1.1/accounts?_size=1&_offset=1", "admin");
    list.expect(200);
    assert!(!list.body.contains("password"), "{}", list.body);
    let list = list.json();
    assert_eq!(
        list["metadata"]["pagination"],
        json!({"offset": 1, "size": 1, "total": 2})
    );
    assert_eq!(list["items"][0]["username"], "ops");
    // The new account signs in; its times are recorded.
    server.get("GET", "/1.1/users", "ops").expect(200);
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.get("GET", "/1.1/accounts/ops", "admin").json()["last_login_at"].is_null() {
        assert!(Instant::now() < deadline, "the sign-in time is recorded");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Not a sys_admin: 403 on every account route.
    for (method, path) in [
        ("GET", "/1.1/accounts"),
        ("GET", "/1.1/accounts/admin"),
        ("DELETE", "/1.1/accounts/admin"),
        ("POST", "/1.1/accounts/admin/unlock"),
    ] {
        assert_eq!(
            server.get(method, path, "ops").status,
            403,
            "{method} {path}"
        );
    }
    server
        .json(
            "POST",
            "/1.1/accounts",
            "ops",
            &json!({"username": "z", "password": PW}),
        )
        .expect(403);
    // Role, password and tenants change.
    let changed = server.json(
        "POST",
        "/1.1/accounts/ops",
        "admin",
        &json!({"role": "sys_admin", "tenants": {"1": null}}),
    );
    changed.expect(200);
    assert_eq!(changed.json()["role"], "sys_admin");
    assert_eq!(changed.json()["tenants"], json!({}));
    server.get("GET", "/1.1/accounts", "ops").expect(200);
    server
        .json(
            "POST",
            "/1.1/accounts/ops",
            "admin",
            &json!({"username": "new"}),
        )
        .expect(400);
    server
        .json(
            "POST",
            "/1.1/accounts/ops",
            "admin",
            &json!({"password": "another good one"}),
        )
        .expect(200);
    assert_eq!(
        server.get("GET", "/1.1/users", "ops").status,
        401,
        "old password"
    );
    let new_pw = answer(
        server
            .request("GET", "/1.1/accounts", Some(("ops", "another good one")))
            .call(),
    );
    new_pw.expect(200);
    // Deactivate and activate.
    server
        .get("POST", "/1.1/accounts/ops/deactivate", "admin")
        .expect(200);
    assert_eq!(
        answer(
            server
                .request("GET", "/1.1/accounts", Some(("ops", "another good one")))
                .call()
        )
        .status,
        401
    );
    let active = server.get("POST", "/1.1/accounts/ops/activate", "admin");
    assert_eq!(active.json()["active"], true);
    server
        .get("POST", "/1.1/accounts/ops/dance", "admin")
        .expect(404);
    server
        .get("GET", "/1.1/accounts/ghost", "admin")
        .expect(404);
    server
        .get("DELETE", "/1.1/accounts/ghost", "admin")
        .expect(404);
    // Delete: not oneself.
    server
        .get("DELETE", "/1.1/accounts/admin", "admin")
        .expect(400);
    server
        .get("DELETE", "/1.1/accounts/ops", "admin")
        .expect(204);
    assert_eq!(wd.query_one("SELECT count(*) FROM accounts"), "1");
}

#[test]
fn five_wrong_passwords_in_a_row_lock_an_account_until_a_sys_admin_unlocks_it() {
    let (wd, server) = admin_server();
    account(&wd, "ops", &["--tenant", "1=user"]);
    server.get("GET", "/1.1/users", "ops").expect(200);
    for _ in 0..5 {
        let a = answer(
            server
                .request("GET", "/1.1/users", Some(("ops", "wrong password")))
                .call(),
        );
        a.expect(401);
    }
    let locked = server.get("GET", "/1.1/users", "ops");
    locked.expect(401);
    let shown = server.get("GET", "/1.1/accounts/ops", "admin").json();
    assert_eq!(shown["is_locked"], true);
    // The answer is the one a wrong password gets.
    let wrong = answer(
        server
            .request("GET", "/1.1/users", Some(("ops", "wrong password")))
            .call(),
    );
    assert_eq!(locked.body, wrong.body);
    let unlocked = server.get("POST", "/1.1/accounts/ops/unlock", "admin");
    assert_eq!(unlocked.json()["is_locked"], false);
    server.get("GET", "/1.1/users", "ops").expect(200);
    // Four failures, a good sign-in, four more: not locked (in a row).
    for round in 0..2 {
        for _ in 0..4 {
            answer(
                server
                    .request("GET", "/1.1/users", Some(("ops", "wrong password")))
                    .call(),
            )
            .expect(401);
        }
        if round == 0 {
            server.get("GET", "/1.1/users", "ops").expect(200);
            // The reset is written after the answer.
            let deadline = Instant::now() + Duration::from_secs(10);
            while wd.query_one("SELECT failed_logins FROM accounts WHERE username = 'ops'") != "0" {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
    server.get("GET", "/1.1/users", "ops").expect(200);
}

#[test]
fn one_log_line_per_request_without_secrets_or_cells() {
    let (_wd, server) = admin_server();
    server
        .csv(
            "POST",
            "/1.1/users/import",
            "admin",
            "firstname,lastname,sip_secret,exten,context,line_protocol\nZelda,Secretname,TopS3cretValue,1005,default,sip\n",
        )
        .expect(201);
    answer(
        server
            .request(
                "GET",
                "/1.1/users?search=Zelda",
                Some(("admin", "the wrong one")),
            )
            .call(),
    )
    .expect(401);
    server
        .get("GET", "/1.1/users?search=Zelda", "admin")
        .expect(200);
    // The log line is written after the answer is sent.
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" /1.1/")).collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(
        lines[0].contains(" admin POST /1.1/users/import 201 "),
        "{log}"
    );
    assert!(lines[1].contains(" - GET /1.1/users 401 "), "{log}");
    assert!(lines[2].contains(" admin GET /1.1/users 200 "), "{log}");
    assert!(lines[2].contains("ms id="), "{log}");
    for secret in [PW, "the wrong one", "TopS3cretValue", "Zelda", "Secretname"] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

#[test]
fn json_log_lines_carry_the_request_id_and_no_secret_of_any_body() {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &["--log-format", "json"]);
    let secrets = [
        "Acc0unt-Pass-Word",
        "Us3r-Login-Pass",
        "S1p-Secret-Value",
        "Imp0rt-Pass-Word",
        "Imp0rtSipSecret",
        "wrong-Pass-9",
    ];
    server
        .json(
            "POST",
            "/1.1/accounts",
            "admin",
            &serde_json::json!({"username": "other", "role": "sys_admin", "password": secrets[0]}),
        )
        .expect(201);
    server
        .json(
            "POST",
            "/1.1/users",
            "admin",
            &serde_json::json!({"firstname": "Lee", "username": "lee", "password": secrets[1],
                "sip_secret": secrets[2], "exten": "1001", "context": "default",
                "line_protocol": "sip"}),
        )
        .expect(201);
    server
        .csv(
            "POST",
            "/1.1/users/import",
            "admin",
            &format!(
                "firstname,username,password,sip_secret,exten,context,line_protocol\n\
                 Kim,kim,{},{},1002,default,sip\n",
                secrets[3], secrets[4]
            ),
        )
        .expect(201);
    answer(
        server
            .request("GET", "/1.1/users", Some(("admin", secrets[5])))
            .call(),
    )
    .expect(401);
    let asked = server
        .request("GET", "/1.1/users/1", Some(("admin", PW)))
        .set("X-Request-Id", "trace-42")
        .call()
        .unwrap();
    assert_eq!(asked.header("x-request-id"), Some("trace-42"));
    let new = server.get("GET", "/healthz", "admin");
    new.expect(200);
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "ucsv::request")
        .collect();
    assert_eq!(requests.len(), 6, "{log}");
    assert_eq!(requests[1]["route"], "/1.1/users");
    assert_eq!(requests[1]["status"], 201);
    assert_eq!(requests[3]["account"], "-");
    assert_eq!(requests[3]["status"], 401);
    assert_eq!(requests[4]["route"], "/1.1/users/{key}");
    assert_eq!(requests[4]["request_id"], "trace-42");
    assert_eq!(requests[5]["request_id"].as_str().unwrap().len(), 32);
    let import = lines
        .iter()
        .find(|l| l["target"] == "ucsv::import" && l["committed"] == true)
        .unwrap_or_else(|| panic!("the import's outcome: {log}"));
    assert_eq!(import["created"], 1);
    assert_eq!(import["account"], "admin");
    for secret in secrets.iter().chain([&PW]) {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}

#[test]
fn metrics_are_prometheus_text_for_a_sys_admin_and_count_what_happened() {
    let (wd, server) = admin_server();
    account(&wd, "viewer", &["--tenant", "1=viewer"]);
    account(&wd, "victim", &["--tenant", "1=viewer"]);
    server
        .csv(
            "POST",
            "/1.1/users/import?keep_going",
            "admin",
            "firstname,email\nAnn,ann@example.com\nBob,not-an-email\nCid,\n",
        )
        .expect(201);
    for _ in 0..5 {
        answer(
            server
                .request("GET", "/1.1/users", Some(("victim", "wrong password")))
                .call(),
        )
        .expect(401);
    }
    server.get("GET", "/metrics", "viewer").expect(403);
    answer(server.request("GET", "/metrics", None).call()).expect(401);
    let scraped = server.get("GET", "/metrics", "admin");
    scraped.expect(200);
    assert!(scraped
        .content_type
        .starts_with("text/plain; version=0.0.4"));
    // Parsed as Prometheus reads it: `# HELP`/`# TYPE` lines, then `name{labels} value`.
    let mut samples = std::collections::BTreeMap::new();
    for line in scraped.body.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && name.starts_with("ucsv_"),
            "{line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line}"
            );
        }
        samples.insert(series.to_string(), value);
    }
    let at = |series: &str| {
        *samples
            .get(series)
            .unwrap_or_else(|| panic!("no {series} in {}", scraped.body))
    };
    assert_eq!(at("ucsv_rows_created_total"), 2.0);
    assert_eq!(at("ucsv_rows_rejected_total"), 1.0);
    assert_eq!(at("ucsv_imports_in_flight"), 0.0);
    assert_eq!(at("ucsv_sign_in_failures_total"), 5.0);
    assert_eq!(at("ucsv_accounts_locked"), 1.0);
    assert_eq!(
        at("ucsv_http_requests_total{route=\"/1.1/users/import\",method=\"POST\",status=\"201\"}"),
        1.0
    );
    assert_eq!(
        at("ucsv_http_requests_total{route=\"/1.1/users\",method=\"GET\",status=\"401\"}"),
        5.0
    );
    assert_eq!(
        at("ucsv_http_request_duration_seconds_count{route=\"/1.1/users\"}"),
        5.0
    );
    assert_eq!(
        at("ucsv_http_request_duration_seconds_bucket{route=\"/1.1/users\",le=\"+Inf\"}"),
        5.0
    );
}

#[test]
fn rust_log_filters_the_log_and_a_bad_filter_is_a_usage_error() {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start_with(&wd, &[], &[("RUST_LOG", "warn")]);
    server.get("GET", "/1.1/users", "admin").expect(200);
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    assert!(
        log.contains("serving http://"),
        "the address is always said"
    );
    assert!(!log.contains("/1.1/users"), "{log}");
    let mut cmd = wd.cmd(&["serve", "--listen", "127.0.0.1:0"]);
    cmd.env("RUST_LOG", "ucsv=lots");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RUST_LOG is not a log filter"), "{stderr}");
}

#[test]
fn sigterm_lets_an_import_in_flight_finish_then_stops() {
    let (wd, server) = admin_server();
    // A body sent in two halves, the second after SIGTERM.
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    struct Halves {
        first: Option<Vec<u8>>,
        second: Option<Vec<u8>>,
        go: std::sync::mpsc::Receiver<()>,
    }
    impl Read for Halves {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let part = match self.first.take() {
                Some(p) => p,
                None => match self.second.take() {
                    Some(p) => {
                        let _ = self.go.recv();
                        p
                    }
                    None => return Ok(0),
                },
            };
            buf[..part.len()].copy_from_slice(&part);
            Ok(part.len())
        }
    }
    let body = Halves {
        first: Some(b"firstname,exten,context,line_protocol\nAnn,1001,default,sip\n".to_vec()),
        second: Some(b"Bob,1002,default,sip\n".to_vec()),
        go: go_rx,
    };
    let request = server
        .request("POST", "/1.1/users/import", Some(("admin", PW)))
        .set("Content-Type", "text/csv");
    let upload = std::thread::spawn(move || answer(request.send(body)));
    // The import is in flight once its first half has been read.
    std::thread::sleep(Duration::from_millis(500));
    let pid = server.pid() as i32;
    unsafe {
        libc::kill(pid, libc::SIGTERM);
    }
    std::thread::sleep(Duration::from_millis(300));
    go_tx.send(()).unwrap();
    let done = upload.join().unwrap();
    done.expect(201);
    let (code, log) = server.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("stopping"), "{log}");
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "2");
}

#[test]
fn concurrent_imports_both_commit() {
    let (wd, server) = admin_server();
    let file = |first: u32| {
        let mut csv = String::from("firstname,exten,context,line_protocol\n");
        for i in 0..300 {
            csv += &format!("P{},{},default,sip\n", first + i, first + i);
        }
        csv
    };
    let base = server.base.clone();
    let send = move |csv: String| {
        let base = base.clone();
        std::thread::spawn(move || {
            use base64::Engine;
            let token = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PW}"));
            answer(
                ureq::post(&format!("{base}/1.1/users/import"))
                    .set("Authorization", &format!("Basic {token}"))
                    .set("Content-Type", "text/csv")
                    .send_string(&csv),
            )
        })
    };
    let a = send(file(1000));
    let b = send(file(1500));
    a.join().unwrap().expect(201);
    b.join().unwrap().expect(201);
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "600");
}

#[test]
fn on_sqlite_a_write_waiting_past_the_busy_timeout_answers_409_and_reads_go_on() {
    let wd = Workdir::sqlite_with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &[]);
    server.get("GET", "/1.1/users", "admin").expect(200);
    let conn = rusqlite::Connection::open(wd.db()).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let start = Instant::now();
    let busy = server.json("POST", "/1.1/users", "admin", &json!({"firstname": "Ann"}));
    busy.expect(409);
    assert!(start.elapsed() >= Duration::from_secs(4), "it waited first");
    assert_eq!(busy.code(), "database.busy");
    // Reads do not wait for the writer.
    let start = Instant::now();
    server.get("GET", "/1.1/users", "admin").expect(200);
    server.get("GET", "/1.1/users/export", "admin").expect(200);
    assert!(start.elapsed() < Duration::from_secs(4));
    conn.execute_batch("ROLLBACK").unwrap();
    server
        .json("POST", "/1.1/users", "admin", &json!({"firstname": "Ann"}))
        .expect(201);
}

/// A CSV body made on the fly: `rows` rows of about 1 KB, each rejected (entity 99 does not
/// exist), so that the server reads the whole body and answers every row.
struct Generated {
    rows: u64,
    next: u64,
    pending: Vec<u8>,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            if self.next > self.rows {
                return Ok(0);
            }
            self.pending = if self.next == 0 {
                b"firstname,lastname,description,entity_id\n".to_vec()
            } else {
                format!("F{0},L{0},{1},99\n", self.next, "d".repeat(1000)).into_bytes()
            };
            self.next += 1;
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// The peak resident memory of a process, in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn a_large_upload_is_read_as_it_arrives_in_bounded_memory() {
    let (_wd, server) = admin_server();
    let rows = 120_000; // about 125 MB
    let body = Generated {
        rows,
        next: 0,
        pending: Vec::new(),
    };
    let a = answer(
        server
            .request(
                "POST",
                "/1.1/users/import?keep_going=true",
                Some(("admin", PW)),
            )
            .set("Content-Type", "text/csv")
            .send(body),
    );
    // Kept going: committed, with nothing to create (every row is refused).
    a.expect(201);
    // The answer is spooled too: every row's error is in it.
    let errors = a.json()["errors"].as_array().unwrap().len() as u64;
    assert_eq!(errors, rows);
    let peak = peak_kib(server.pid());
    assert!(
        peak < 100 * 1024,
        "peak RSS {peak} KiB for a 125 MB body and a 150 MB answer"
    );
}

#[test]
fn requests_racing_for_one_username_leave_exactly_one_winner() {
    let (wd, server) = admin_server();
    let base = server.base.clone();
    let racers: Vec<_> = (0..6)
        .map(|i| {
            let base = base.clone();
            std::thread::spawn(move || {
                use base64::Engine;
                let token = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PW}"));
                answer(
                    ureq::post(&format!("{base}/1.1/users"))
                        .set("Authorization", &format!("Basic {token}"))
                        .set("Content-Type", "application/json")
                        .send_string(
                            &json!({"firstname": format!("R{i}"), "username": "racer",
                                    "exten": format!("{}", 1500 + i), "context": "default",
                                    "line_protocol": "sip"})
                            .to_string(),
                        ),
                )
            })
        })
        .collect();
    let answers: Vec<Answer> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    let won = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(won, 1, "{answers:?}");
    for lost in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(lost.status, 400, "{}", lost.shown());
        assert_eq!(lost.json()["errors"][0]["code"], "username.duplicate");
    }
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "1");
}

#[test]
fn an_upload_that_stops_arriving_is_given_up_with_408_and_nothing_written() {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &["--body-timeout", "1"]);
    let before = wd.fingerprint();
    // A raw connection: the first rows of a chunked body, then nothing (an HTTP client
    // would fail writing the rest instead of reading the early answer).
    use base64::Engine;
    use std::io::Write;
    let addr = server.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    let token = base64::engine::general_purpose::STANDARD.encode(format!("admin:{PW}"));
    let rows = "firstname,exten,context,line_protocol\nAnn,1001,default,sip\n";
    write!(
        conn,
        "POST /1.1/users/import HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {token}\r\n\
         Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{rows}\r\n",
        rows.len()
    )
    .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let start = Instant::now();
    let mut text = String::new();
    let _ = conn.read_to_string(&mut text);
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "answered after the timeout"
    );
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no answer: {text}"));
    let stalled = Answer {
        status,
        body: text
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string(),
        content_type: String::new(),
        www_authenticate: None,
        disposition: None,
        location: None,
    };
    stalled.expect(408);
    assert!(
        stalled.body.contains("stopped arriving"),
        "{}",
        stalled.body
    );
    assert_eq!(wd.fingerprint(), before);
}

/// Totals are remembered per connection while the database is unchanged: every change,
/// by the server or by another program, is seen by the next listing.
#[test]
fn a_listing_total_follows_every_change_whoever_makes_it() {
    let (wd, server) = admin_server();
    server
        .csv("POST", "/1.1/users/import", "admin", THREE)
        .expect(201);
    let total = |path: &str| -> Vec<Value> {
        // Several times: the server's reader connections each count and remember.
        (0..4)
            .map(|_| server.get("GET", path, "admin").json()["total"].clone())
            .collect()
    };
    assert_eq!(total("/1.1/users?search=amm"), [1, 1, 1, 1]);
    assert_eq!(total("/1.1/users"), [3, 3, 3, 3]);
    wd.execute("UPDATE users SET lastname = 'Hammer' WHERE firstname = 'Ann'");
    assert_eq!(
        total("/1.1/users?search=amm"),
        [2, 2, 2, 2],
        "another program's update"
    );
    let created = server.json(
        "POST",
        "/1.1/users",
        "admin",
        &json!({"firstname": "Zed", "lastname": "Gammon"}),
    );
    created.expect(201);
    assert_eq!(
        total("/1.1/users?search=amm"),
        [3, 3, 3, 3],
        "the server's create"
    );
    assert_eq!(total("/1.1/users"), [4, 4, 4, 4]);
    wd.delete_users(&["Bob"]);
    assert_eq!(
        total("/1.1/users"),
        [3, 3, 3, 3],
        "another program's delete"
    );
    let zed = created.json()["uuid"].as_str().unwrap().to_string();
    server
        .get("DELETE", &format!("/1.1/users/{zed}"), "admin")
        .expect(204);
    assert_eq!(
        total("/1.1/users?search=amm"),
        [2, 2, 2, 2],
        "the server's delete"
    );
    assert_eq!(total("/1.1/users"), [2, 2, 2, 2]);
}
