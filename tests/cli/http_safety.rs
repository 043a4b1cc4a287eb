//! `ucsv serve` is safe by default: no spelling of a parameter is misread (a dry run never
//! writes), no secret is in an answer unless asked for, and no client mistake is a 5xx or
//! changes the database. The real binary, a real HTTP client, the backend under test.

use crate::contexts::TWO_ENTITIES;
use crate::serve::{account, answer, Answer, Server, PW};
use crate::workdir::Workdir;
use proptest::prelude::*;
use serde_json::{json, Value};

/// A good row of entity 1.
const ROW: &str = "firstname,exten,context,line_protocol\nDry,1500,north-users,sip\n";

fn send(server: &Server, method: &str, path: &str, who: &str, kind: &str, body: &str) -> Answer {
    let req = server
        .request(method, path, Some((who, PW)))
        .set("Wazo-Tenant", "1");
    answer(if kind.is_empty() {
        req.call()
    } else {
        req.set("Content-Type", kind).send_string(body)
    })
}

fn two_entities() -> (Workdir, Server) {
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
    let server = Server::start(&wd, &[]);
    (wd, server)
}

#[test]
fn no_spelling_of_dry_run_ever_writes_and_unknown_parameters_are_refused() {
    let (wd, server) = two_entities();
    let before = wd.fingerprint();
    for method in ["POST", "PUT"] {
        let body = if method == "POST" {
            ROW.to_string()
        } else {
            "uuid,lastname\n01890000-0000-7000-8000-000000000000,X\n".to_string()
        };
        // Spellings of true: a dry run (200), nothing written.
        for q in [
            "dry_run",
            "dry_run=",
            "dry_run=true",
            "dry_run=TRUE",
            "dry_run=True",
            "dry_run=1",
            "dry_run=yes",
            "dry_run=YES",
            "dry_run=on",
            "dry_run=On",
            "keep_going&dry_run",
            "dry_run&keep_going=true",
        ] {
            let a = send(
                &server,
                method,
                &format!("/1.1/users/import?{q}"),
                "admin",
                "text/csv",
                &body,
            );
            assert!(a.status < 500, "{method} ?{q}: {}", a.body);
            if method == "POST" {
                assert_eq!(a.status, 200, "{method} ?{q}: a dry run: {}", a.body);
            }
            assert_eq!(wd.fingerprint(), before, "{method} ?{q} wrote");
        }
        // Anything else that is not a spelling of false: 400 naming the parameter.
        for q in [
            "dry_run=maybe",
            "dry_run=2",
            "dry_run=%20true",
            "dry_run=truee",
            "dryrun",
            "dry-run=true",
            "Dry_Run=true",
            "dry_run=true&dry_run=false",
            "dry_run=null",
            "dryrun=false",
            "report_limit=-1",
            "keep_going=sure",
        ] {
            let a = send(
                &server,
                method,
                &format!("/1.1/users/import?{q}"),
                "admin",
                "text/csv",
                &body,
            );
            assert_eq!(a.status, 400, "{method} ?{q}: {}", a.body);
            assert!(a.code().starts_with("query."), "{method} ?{q}: {}", a.body);
            assert!(a.json()["errors"][0]["parameter"].is_string(), "{}", a.body);
            assert_eq!(wd.fingerprint(), before, "{method} ?{q} wrote");
        }
    }
    // The spellings of false import for real.
    for (n, q) in ["dry_run=false", "dry_run=0", "dry_run=no", "dry_run=OFF"]
        .iter()
        .enumerate()
    {
        let row = format!(
            "firstname,exten,context,line_protocol\nReal{n},{},north-users,sip\n",
            1600 + n
        );
        send(
            &server,
            "POST",
            &format!("/1.1/users/import?{q}"),
            "admin",
            "text/csv",
            &row,
        )
        .expect(201);
    }
    assert_eq!(wd.query_one("SELECT count(*) FROM users"), "4");
    // Every other route refuses what it does not take, and reads its flags the same way.
    let before = wd.fingerprint();
    for path in [
        "/1.1/users?dryrun",
        "/1.1/users?limit=ten",
        "/1.1/users/1?with_secret",
        "/1.1/users/export?no_secret",
        "/1.1/users/export?no_secrets=perhaps",
        "/1.1/me?x=1",
        "/1.1/entities?all",
        "/1.1/accounts?_size=big",
        "/1.0/users?deleteVoicemail",
        "/sapi/users?locale=es",
    ] {
        let a = send(&server, "GET", path, "admin", "", "");
        assert_eq!(a.status, 400, "{path}: {}", a.body);
    }
    let id = wd.query_one("SELECT min(id) FROM users");
    for path in [
        format!("/1.1/users/{id}?delete_voicemails"),
        format!("/1.1/users/{id}?delete_voicemail=sure"),
        format!("/1.0/users/{id}?deletevoicemail"),
    ] {
        assert_eq!(
            send(&server, "DELETE", &path, "admin", "", "").status,
            400,
            "{path}"
        );
    }
    assert_eq!(wd.fingerprint(), before);
    // A flag alone is true: the seed's ?deleteVoicemail and ?delete_voicemail.
    let vm = "firstname,exten,context,line_protocol,voicemail_name,voicemail_number,voicemail_context\n\
              V1,1700,north-users,sip,V1,1700,north-users\nV2,1701,north-users,sip,V2,1701,north-users\n";
    send(
        &server,
        "POST",
        "/1.1/users/import",
        "admin",
        "text/csv",
        vm,
    )
    .expect(201);
    let v1 = wd.query_one("SELECT id FROM users WHERE firstname = 'V1'");
    let v2 = wd.query_one("SELECT id FROM users WHERE firstname = 'V2'");
    send(
        &server,
        "DELETE",
        &format!("/1.1/users/{v1}"),
        "admin",
        "",
        "",
    )
    .expect(412);
    send(
        &server,
        "DELETE",
        &format!("/1.1/users/{v1}?delete_voicemail"),
        "admin",
        "",
        "",
    )
    .expect(204);
    send(
        &server,
        "DELETE",
        &format!("/1.0/users/{v2}?deleteVoicemail"),
        "admin",
        "",
        "",
    )
    .expect(200);
    assert_eq!(wd.query_one("SELECT count(*) FROM voicemails"), "0");
    // Wazo's conventions: any case of direction, order=id, trailing slashes.
    let desc = send(
        &server,
        "GET",
        "/1.1/users/?order=id&direction=DESC",
        "admin",
        "",
        "",
    );
    desc.expect(200);
    let ids: Vec<i64> = desc.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");
    assert_eq!(ids.len(), 4);
}

/// The secrets the test's users have: none may be in an answer that did not ask for it.
const SIP_SECRET: &str = "SipSecretXq7";
const VM_PASSWORD: &str = "8675309";
const PERMISSION_PASSWORD: &str = "4242421";
const LOGIN: &str = "login pass 77";

/// Whether a body holds a secret (or a password hash).
fn secrets_in(body: &str) -> Vec<&'static str> {
    [
        SIP_SECRET,
        VM_PASSWORD,
        PERMISSION_PASSWORD,
        LOGIN,
        "$argon2",
        "password_hash\": \"$",
    ]
    .into_iter()
    .filter(|s| body.contains(s))
    .collect()
}

#[test]
fn no_answer_carries_a_secret_that_was_not_asked_for_whatever_the_role() {
    let (wd, server) = two_entities();
    let csv = format!(
        "firstname,exten,context,line_protocol,sip_secret,voicemail_name,voicemail_number,voicemail_context,voicemail_password,call_permission_password,username,password,email\n\
         Sec,1800,north-users,sip,{SIP_SECRET},Sec,1800,north-users,{VM_PASSWORD},{PERMISSION_PASSWORD},sec.user,{LOGIN},sec@example.com\n"
    );
    // Even the answers of the writes that carry the secrets.
    for kind in ["application/json", "application/vnd.ucsv.report+json"] {
        let a = answer(
            server
                .request("POST", "/1.1/users/import", Some(("admin", PW)))
                .set("Wazo-Tenant", "1")
                .set("Content-Type", "text/csv")
                .set("Accept", kind)
                .send_string(&csv),
        );
        assert!(a.status < 500, "{}", a.body);
        assert_eq!(
            secrets_in(&a.body),
            Vec::<&str>::new(),
            "import ({kind}): {}",
            a.body
        );
    }
    let id = wd.query_one("SELECT id FROM users WHERE firstname = 'Sec'");
    let uuid = wd.query_one("SELECT uuid FROM users WHERE firstname = 'Sec'");
    let created = send(
        &server,
        "POST",
        "/1.1/users",
        "admin",
        "application/json",
        &json!({"firstname": "Made", "exten": "1801", "context": "north-users", "line_protocol": "sip",
                "sip_secret": SIP_SECRET, "username": "made.user", "password": LOGIN}).to_string(),
    );
    created.expect(201);
    assert_eq!(
        secrets_in(&created.body),
        Vec::<&str>::new(),
        "{}",
        created.body
    );
    let reads = [
        "/1.1/users".to_string(),
        "/1.1/users?search=sec".to_string(),
        format!("/1.1/users/{id}"),
        format!("/1.1/users/{uuid}"),
        "/1.0/users".to_string(),
        format!("/1.0/users/{id}"),
        "/sapi/users".to_string(),
        format!("/sapi/users/{uuid}"),
        "/1.1/me".to_string(),
        "/1.1/entities".to_string(),
        "/1.1/accounts".to_string(),
        "/1.1/accounts/admin".to_string(),
        "/1.1/users/export?no_secrets".to_string(),
    ];
    let mut read = 0;
    for who in ["admin", "viewer", "user", "manager", "both"] {
        for path in &reads {
            let a = send(&server, "GET", path, who, "", "");
            assert!(a.status < 500, "{who} {path}: {}", a.body);
            assert_eq!(
                secrets_in(&a.body),
                Vec::<&str>::new(),
                "{who} GET {path}: {}",
                a.body
            );
            read += u32::from(a.status == 200);
        }
    }
    assert!(read >= 40, "most reads answered: {read}");
    // Asked for, by an account that may write: the SIP secret, never the hash.
    for who in ["admin", "user", "manager"] {
        let a = send(
            &server,
            "GET",
            &format!("/1.1/users/{id}?with_secrets"),
            who,
            "",
            "",
        );
        a.expect(200);
        assert_eq!(a.json()["sip_secret"], SIP_SECRET, "{who}");
        assert_eq!(a.json()["voicemail_password"], VM_PASSWORD, "{who}");
        assert!(a.json().get("password_hash").is_none(), "{who}: {}", a.body);
        let listed = send(
            &server,
            "GET",
            "/1.1/users?with_secrets=true&search=sec",
            who,
            "",
            "",
        );
        assert_eq!(listed.json()["items"][0]["sip_secret"], SIP_SECRET, "{who}");
        assert!(!listed.body.contains("$argon2"));
    }
    // Asked for by an account that may only read: refused.
    for path in [
        format!("/1.1/users/{id}?with_secrets"),
        "/1.1/users?with_secrets".into(),
    ] {
        let a = send(&server, "GET", &path, "viewer", "", "");
        a.expect(403);
        assert_eq!(secrets_in(&a.body), Vec::<&str>::new());
    }
    let in_south = answer(
        server
            .request("GET", "/1.1/users?with_secrets", Some(("both", PW)))
            .set("Wazo-Tenant", "south")
            .call(),
    );
    in_south.expect(403);
    // The export keeps its rules: secrets unless no_secrets, for those who may export.
    let export = send(&server, "GET", "/1.1/users/export", "user", "", "");
    export.expect(200);
    assert!(export.body.contains(SIP_SECRET));
    send(&server, "GET", "/1.1/users/export", "viewer", "", "").expect(403);
}

/// The routes a client may call, with a sample id and uuid filled in later.
const ROUTES: [(&str, &str); 20] = [
    ("GET", "/1.1/users"),
    ("POST", "/1.1/users"),
    ("GET", "/1.1/users/{id}"),
    ("PUT", "/1.1/users/{id}"),
    ("DELETE", "/1.1/users/{id}"),
    ("POST", "/1.1/users/import"),
    ("PUT", "/1.1/users/import"),
    ("GET", "/1.1/users/export"),
    ("GET", "/1.1/entities"),
    ("POST", "/1.1/entities"),
    ("PUT", "/1.1/entities/{entity}"),
    ("POST", "/1.1/accounts"),
    ("POST", "/1.1/accounts/{account}"),
    ("POST", "/1.0/users"),
    ("PUT", "/1.0/users/{id}"),
    ("DELETE", "/1.0/users/{id}"),
    ("POST", "/sapi/users"),
    ("PUT", "/sapi/users/{uuid}"),
    ("GET", "/sapi/users"),
    ("DELETE", "/sapi/users/{uuid}"),
];

/// Names a generated body or query draws from: real ones (so that requests get past the
/// first checks) and others.
const NAMES: [&str; 24] = [
    "firstname",
    "lastname",
    "exten",
    "context",
    "line_protocol",
    "email",
    "username",
    "password",
    "entity_id",
    "uuid",
    "id",
    "voicemail_number",
    "call_permissions",
    "ring_seconds",
    "name",
    "role",
    "tenants",
    "line",
    "domain",
    "locale",
    "dry_run",
    "keep_going",
    "limit",
    "\u{0}x\"",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        "[0-9]{1,6}".prop_map(Value::String),
        Just(json!("north-users")),
        Just(json!("sip")),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(&NAMES[..]), inner), 0..5).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A request: route, query, content type and body.
fn request() -> impl Strategy<Value = (usize, String, &'static str, String)> {
    let query = prop::collection::vec(
        (
            prop::sample::select(&NAMES[..]),
            prop::option::of("[a-zA-Z0-9%+-]{0,6}"),
        ),
        0..3,
    )
    .prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{}={v}", k.replace(['\u{0}', '"'], "")),
                None => k.replace(['\u{0}', '"'], ""),
            })
            .collect::<Vec<_>>()
            .join("&")
    });
    let csv = (
        prop::collection::vec(prop::sample::select(&NAMES[..]), 0..5),
        prop::collection::vec(prop::collection::vec("[^\u{0}]{0,8}", 0..6), 0..4),
    )
        .prop_map(|(header, rows)| {
            let mut text = header.join(",") + "\n";
            for r in rows {
                text += &(r.join(",") + "\n");
            }
            text
        });
    let body = prop_oneof![
        json_value().prop_map(|v| ("application/json", v.to_string())),
        csv.prop_map(|c| ("text/csv", c)),
        "\\PC{0,40}".prop_map(|t| ("application/json", t)),
        "\\PC{0,40}".prop_map(|t| ("text/csv; charset=utf-16le", t)),
        Just(("text/plain", "x".to_string())),
        Just(("", String::new())),
    ];
    (0..ROUTES.len(), query, body).prop_map(|(r, q, (kind, body))| (r, q, kind, body))
}

#[test]
fn generated_bodies_and_parameters_never_get_a_5xx_and_refused_ones_change_nothing() {
    let (wd, server) = two_entities();
    let base = "firstname,lastname,exten,context,line_protocol,username,email\n\
                Ann,A,1001,north-users,sip,ann.a,ann@example.com\n\
                Bob,B,1002,north-users,sccp,bob.b,bob@example.com\n";
    send(
        &server,
        "POST",
        "/1.1/users/import",
        "admin",
        "text/csv",
        base,
    )
    .expect(201);
    let id = wd.query_one("SELECT min(id) FROM users");
    let uuid = wd.query_one(&format!("SELECT uuid FROM users WHERE id = {id}"));
    let cases: u32 = std::env::var("UCSV_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        // A PostgreSQL fingerprint runs an export: fewer cases there.
        .unwrap_or(if wd.is_postgres() { 60 } else { 200 });
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    });
    let seen = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    runner
        .run(&request(), |(route, query, kind, body)| {
            let (method, pattern) = ROUTES[route];
            let path = pattern
                .replace("{id}", &id)
                .replace("{uuid}", &uuid)
                .replace("{entity}", "north")
                .replace("{account}", "viewer");
            let path = if query.is_empty() {
                path
            } else {
                format!("{path}?{query}")
            };
            let before = wd.fingerprint();
            let a = send(&server, method, &path, "admin", kind, &body);
            *seen.borrow_mut().entry(a.status).or_default() += 1;
            prop_assert!(
                a.status < 500,
                "{} {} ({}) {:?}: {} {}",
                method,
                path,
                kind,
                body,
                a.status,
                a.body
            );
            if a.status >= 400 {
                prop_assert!(
                    serde_json::from_str::<Value>(&a.body).is_ok() || a.body.is_empty(),
                    "{}",
                    a.body
                );
                prop_assert!(
                    wd.fingerprint() == before,
                    "{} {} refused ({}) but wrote: {:?}",
                    method,
                    path,
                    a.status,
                    body
                );
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // The requests went past the first checks: some were applied, some refused.
    let seen = seen.into_inner();
    eprintln!("statuses: {seen:?}");
    assert!(seen.keys().any(|s| *s < 300), "{seen:?}");
    assert!(seen.keys().any(|s| *s == 400), "{seen:?}");
}

#[test]
fn every_route_reads_the_parameters_it_declares_and_refuses_the_others() {
    use ucsv::serve::params::{Kind, ROUTES};
    let (wd, server) = two_entities();
    send(
        &server,
        "POST",
        "/1.1/users/import",
        "admin",
        "text/csv",
        ROW,
    )
    .expect(201);
    let id = wd.query_one("SELECT min(id) FROM users");
    let uuid = wd.query_one(&format!("SELECT uuid FROM users WHERE id = {id}"));
    let before = wd.fingerprint();
    let mut checked = 0;
    for (method, pattern, params) in ROUTES {
        let path = pattern
            .replace("{id}", &id)
            .replace("{uuid}", &uuid)
            .replace("{key}", "1")
            .replace("{username}", "viewer")
            .replace("{name}", "north")
            .replace("{action}", "unlock");
        let mut tries = vec![("zz_unknown=1".to_string(), "zz_unknown")];
        for p in params.iter() {
            match p.kind {
                Kind::Flag => tries.push((format!("{}=maybe", p.name), p.name)),
                Kind::Number => tries.push((format!("{}=ten", p.name), p.name)),
                Kind::Text => {}
            }
        }
        for (query, name) in tries {
            let a = send(
                &server,
                method,
                &format!("{path}?{query}"),
                "admin",
                "application/json",
                "{}",
            );
            assert_eq!(a.status, 400, "{method} {path}?{query}: {}", a.body);
            assert!(
                a.body.contains(name),
                "{method} {path}?{query} names the parameter: {}",
                a.body
            );
            checked += 1;
        }
    }
    assert!(checked > ROUTES.len(), "{checked}");
    assert_eq!(wd.fingerprint(), before, "refused requests wrote");
}

#[test]
fn healthz_and_readyz_answer_without_credentials_and_without_data() {
    let (_wd, server) = two_entities();
    for (path, status) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let a = answer(server.request("GET", path, None).call());
        a.expect(200);
        assert_eq!(a.json(), json!({ "status": status }), "{path}");
    }
}

/// The (method, path) of every `.route(...)` in the server's source, path parameters as
/// `{}` (the catch-all `{*rest}` of a dialect left out: it answers that there is no route).
fn routes_in_the_source() -> std::collections::BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/serve");
    let mut out = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let Some(open) = rest.find('"') else { break };
            let after = &rest[open + 1..];
            let route = &after[..after.find('"').unwrap()];
            // The arguments, to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let end = rest
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map_or(rest.len(), |(i, _)| i);
            let args = &rest[..end];
            if route.contains("{*") {
                continue;
            }
            let normal = normalize(route);
            for method in ["get", "post", "put", "delete", "patch"] {
                let call = format!("{method}(");
                let found = args.match_indices(&call).any(|(i, _)| {
                    i == 0 || !args[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if found {
                    out.insert((method.to_uppercase(), normal.clone()));
                }
            }
        }
    }
    out
}

/// A path with its parameters as `{}`.
fn normalize(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn the_openapi_document_has_every_route_the_router_serves_and_no_other() {
    let (wd, server) = crate::serve::admin_server();
    answer(server.request("GET", "/1.1/openapi.json", None).call()).expect(401);
    let served = server.get("GET", "/1.1/openapi.json", "admin");
    served.expect(200);
    let doc = served.json();
    assert_eq!(doc["openapi"], "3.1.0");
    // The command prints the same document.
    let printed = wd.run(&["openapi"]);
    printed.expect(0);
    let cli: serde_json::Value = serde_json::from_str(&printed.stdout).unwrap();
    assert_eq!(cli, doc);
    let mut documented = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has no summary"
            );
            documented.insert((method.to_uppercase(), normalize(path)));
        }
    }
    let source = routes_in_the_source();
    assert!(source.len() > 40, "{source:?}");
    // A literal route is documented by a template that takes it (`/api/v3.1/tenants/users`
    // is Cloudify's tenant `users`, refused by name: `/api/v3.1/tenants/{name}`).
    let takes = |template: &str, path: &str| {
        let (t, p): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a == b || *a == "{}")
    };
    let undocumented: Vec<_> = source
        .iter()
        .filter(|(m, p)| !documented.iter().any(|(dm, dp)| dm == m && takes(dp, p)))
        .collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert_eq!(
        documented.difference(&source).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "documented but not served"
    );
    // Each documented route is answered by a route, not by the fallbacks (which say so).
    let fallback = |a: &Answer| {
        a.status == 405
            || (a.status == 404
                && (a.body.contains("\"no such route\"")
                    || a.body.contains("no such route in /api/v3.1")))
    };
    assert!(fallback(&server.get("GET", "/1.1/nothing", "admin")));
    assert!(fallback(&server.get("GET", "/api/v3.1/nothing", "admin")));
    assert!(fallback(&server.get("PATCH", "/1.1/users", "admin")));
    for (method, path) in &documented {
        let concrete = path.replace("{}", "x");
        let a = answer(
            server
                .request(method, &concrete, Some(("admin", PW)))
                .call(),
        );
        assert!(!fallback(&a), "{method} {path}: {}", a.shown());
    }
}
