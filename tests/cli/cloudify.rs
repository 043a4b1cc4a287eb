//! `ucsv serve`'s Cloudify dialect (`/api/v3.1/users`, `/api/v3.1/tenants`): the real
//! binary asked as Cloudify's client asks (HTTP Basic, a `Tenant` header and
//! `Content-type: application/json` on every request, bodies or not), on the backend under
//! test. The request examples of Cloudify's users documentation are replayed and their
//! answers compared with the documented ones field for field; then tenants, role refusals,
//! who may do what, the error shape, and that no answer ever carries a password or a hash.

use crate::serve::{account, admin_server, answer, Answer, Server, PW};
use crate::workdir::Workdir;
use serde_json::{json, Value};
use std::time::Duration;

/// The tenant of the default reference data (entity 1).
const DEFAULT: &str = "default";

/// A request as Cloudify's client sends it: signed in as `who`, with `Tenant` if given,
/// and `Content-type: application/json` even without a body.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    who: Option<(&str, &str)>,
    tenant: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let mut req = server
        .request(method, &format!("/api/v3.1{path}"), who)
        .set("Content-type", "application/json");
    if let Some(t) = tenant {
        req = req.set("Tenant", t);
    }
    answer(match body {
        Some(b) => req.send_string(&b.to_string()),
        None => req.call(),
    })
}

/// A request as `admin` in the default tenant.
fn admin(server: &Server, method: &str, path: &str, body: Option<&Value>) -> Answer {
    send(
        server,
        method,
        path,
        Some(("admin", PW)),
        Some(DEFAULT),
        body,
    )
}

/// Asserts an error in Cloudify's shape: exactly `message`, `error_code`,
/// `server_traceback` (null), with the status and code given.
#[track_caller]
fn cloudify_error(a: &Answer, status: u16, code: &str) -> String {
    assert_eq!(a.status, status, "{}", a.shown());
    let body = a.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["error_code", "message", "server_traceback"],
        "{body}"
    );
    assert_eq!(body["error_code"], code, "{body}");
    assert_eq!(body["server_traceback"], Value::Null, "{body}");
    let message = body["message"].as_str().unwrap_or_default().to_string();
    assert!(!message.is_empty(), "{body}");
    message
}

/// Whether `t` reads as an RFC 3339 time in UTC (`2021-12-20T16:17:13Z`, with or
/// without a fraction).
fn is_time(t: &Value) -> bool {
    t.as_str().is_some_and(|s| {
        let b = s.as_bytes();
        s.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && s.ends_with('Z')
    })
}

const TIMES: [&str; 3] = ["first_login_at", "last_login_at", "created_at"];

/// Compares `got` with the documented `seed` field for field: the same keys, plus
/// `created_at` where `extra` says (ucsv shows when an account was made), the same values
/// but for times (text in the seed: RFC 3339 text here) and the `differ` overrides.
#[track_caller]
fn same_as_seed(got: &Value, seed: &Value, extra: bool, differ: &[(&str, Value)]) {
    let mut expected = seed.clone();
    for (k, v) in differ {
        expected[*k] = v.clone();
    }
    let mut keys: Vec<&String> = expected.as_object().expect("seed object").keys().collect();
    let created = "created_at".to_string();
    if extra {
        keys.push(&created);
    }
    keys.sort();
    let mut got_keys: Vec<&String> = got.as_object().expect("an object").keys().collect();
    got_keys.sort();
    assert_eq!(got_keys, keys, "keys of {got}");
    for k in keys {
        if TIMES.contains(&k.as_str()) {
            assert!(is_time(&got[k]), "{k}: a time, got {}", got[k]);
        } else {
            assert_eq!(got[k], expected[k], "{k} of {got}");
        }
    }
}

/// Waits until the account's first and last sign-ins are recorded (after the answer).
fn signed_in_before(server: &Server, who: (&str, &str), tenant: &str) {
    for _ in 0..100 {
        let u = send(server, "GET", "/user", Some(who), Some(tenant), None).json();
        if is_time(&u["first_login_at"]) && is_time(&u["last_login_at"]) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{}'s sign-in times were never recorded", who.0);
}

// The response examples of Cloudify's users documentation (seed 003), verbatim.
const SEED_LIST: &str = r#"{"items": [{"active": true, "first_login_at": "2021-12-20T16:17:13.673Z",
  "group_system_roles": {}, "groups": 0, "is_locked": false,
  "last_login_at": "2021-12-21T13:05:47.533Z", "role": "sys_admin",
  "show_getting_started": false, "tenant_roles": null, "tenants": 1, "username": "admin"}],
  "metadata": {"filtered": null, "pagination": {"offset": 0, "size": 1000, "total": 1}}}"#;
const SEED_LIST_DATA: &str = r#"{"items": [{"active": true,
  "first_login_at": "2021-12-20T16:17:13.673Z", "group_system_roles": {}, "groups": [],
  "is_locked": false, "last_login_at": "2021-12-21T13:29:07.079Z", "password_hash": null,
  "role": "sys_admin", "show_getting_started": false,
  "tenant_roles": {"direct": {"default_tenant": "user"}, "groups": {}},
  "tenants": {"default_tenant": {"roles": ["user"], "tenant-role": "user"}},
  "username": "admin"}],
  "metadata": {"filtered": null, "pagination": {"offset": 0, "size": 1000, "total": 1}}}"#;
/// Get user; also the answer of create, set password and set role.
const SEED_USER: &str = r#"{"active": true, "first_login_at": "2021-12-20T16:17:13.673Z",
  "group_system_roles": {}, "groups": 0, "is_locked": false,
  "last_login_at": "2021-12-21T13:32:06.194Z", "password_hash": null, "role": "sys_admin",
  "show_getting_started": false, "tenant_roles": null, "tenants": 1, "username": "admin"}"#;
const SEED_USER_DATA: &str = r#"{"active": true,
  "first_login_at": "2021-12-20T16:17:13.673Z", "group_system_roles": {}, "groups": [],
  "is_locked": false, "last_login_at": "2021-12-21T15:48:25.067Z", "password_hash": null,
  "role": "sys_admin", "show_getting_started": false,
  "tenant_roles": {"direct": {"default_tenant": "user"}, "groups": {}},
  "tenants": {"default_tenant": {"roles": ["user"], "tenant-role": "user"}},
  "username": "admin"}"#;

fn seed(text: &str) -> Value {
    serde_json::from_str(text).expect("the seed's JSON")
}

/// Compares a list answer with a documented one: the metadata as is, each item by
/// [`same_as_seed`].
#[track_caller]
fn same_list_as_seed(got: &Value, documented: &Value, extra: bool) {
    assert_eq!(got["metadata"], documented["metadata"], "{got}");
    let (items, seeds) = (
        got["items"].as_array().expect("items"),
        documented["items"].as_array().expect("seed items"),
    );
    assert_eq!(items.len(), seeds.len(), "{got}");
    for (item, s) in items.iter().zip(seeds) {
        same_as_seed(item, s, extra, &[]);
    }
}

#[test]
fn cloudify_seed_examples_are_answered_as_documented_field_for_field() {
    // The documented setting: the tenant default_tenant, where admin has the role user.
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin", "--tenant", "1=user"]);
    let server = Server::start(&wd, &[]);
    server
        .json(
            "PUT",
            "/1.1/entities/1",
            "admin",
            &json!({"name": "default_tenant"}),
        )
        .expect(200);
    let t = Some("default_tenant");
    let me = ("admin", PW);
    signed_in_before(&server, me, "default_tenant");

    // List users (tenants and user groups count).
    let a = send(&server, "GET", "/users", Some(me), t, None);
    a.expect(200);
    same_list_as_seed(&a.json(), &seed(SEED_LIST), true);
    // List users (tenants and user groups details); the client writes True.
    for flag in ["true", "True"] {
        let a = send(
            &server,
            "GET",
            &format!("/users?_get_data={flag}"),
            Some(me),
            t,
            None,
        );
        a.expect(200);
        same_list_as_seed(&a.json(), &seed(SEED_LIST_DATA), true);
    }
    // Get user, both ways.
    let a = send(&server, "GET", "/users/admin", Some(me), t, None);
    same_as_seed(&a.expect(200).json(), &seed(SEED_USER), true, &[]);
    let a = send(
        &server,
        "GET",
        "/users/admin?_get_data=true",
        Some(me),
        t,
        None,
    );
    same_as_seed(&a.expect(200).json(), &seed(SEED_USER_DATA), true, &[]);

    // Create user: 201 and the user (the documented answer shows an account holding a
    // tenant; a new one holds none, and was never signed in).
    let body = json!({"username": "bob", "password": "bob's password", "role": "sys_admin"});
    let a = send(&server, "PUT", "/users", Some(me), t, Some(&body));
    let created = a.expect(201).json();
    assert_eq!(created["first_login_at"], Value::Null, "{created}");
    assert_eq!(created["last_login_at"], Value::Null, "{created}");
    assert!(is_time(&created["created_at"]), "{created}");
    let (mut got, mut documented) = (created.clone(), seed(SEED_USER));
    for k in TIMES {
        got.as_object_mut().unwrap().remove(k);
        documented.as_object_mut().unwrap().remove(k);
    }
    same_as_seed(
        &got,
        &documented,
        false,
        &[("username", json!("bob")), ("tenants", json!(0))],
    );

    // Set user password: the user, and the new password signs in.
    let a = send(
        &server,
        "POST",
        "/users/admin",
        Some(me),
        t,
        Some(&json!({"password": "a new password"})),
    );
    same_as_seed(&a.expect(200).json(), &seed(SEED_USER), true, &[]);
    let old = send(&server, "GET", "/users", Some(me), t, None);
    cloudify_error(&old, 401, "unauthorized_error");
    let me = ("admin", "a new password");
    send(&server, "GET", "/users/admin", Some(me), t, None).expect(200);

    // Set user role (the seed's answer: sys_admin; bob goes to default and back).
    let a = send(
        &server,
        "POST",
        "/users/bob",
        Some(me),
        t,
        Some(&json!({"role": "default"})),
    );
    assert_eq!(a.expect(200).json()["role"], "default");
    let a = send(
        &server,
        "POST",
        "/users/admin",
        Some(me),
        t,
        Some(&json!({"role": "sys_admin"})),
    );
    same_as_seed(&a.expect(200).json(), &seed(SEED_USER), true, &[]);
    let shown = answer(server.request("GET", "/1.1/accounts/bob", Some(me)).call());
    assert_eq!(shown.json()["role"], "default");

    // Delete user: 204, no content; then 404 in Cloudify's shape.
    let a = send(&server, "DELETE", "/users/bob", Some(me), t, None);
    a.expect(204);
    assert!(a.body.is_empty(), "{}", a.body);
    let a = send(&server, "GET", "/users/bob", Some(me), t, None);
    let message = cloudify_error(&a, 404, "not_found_error");
    assert!(message.contains("bob"), "{message}");
}

#[test]
fn cloudify_tenants_are_entities_created_listed_joined_left_and_deleted() {
    let (wd, server) = admin_server();
    account(&wd, "alice", &[]);
    // Create (Cloudify's client sends {"rabbitmq_password": ""}; older ones nothing).
    let a = admin(
        &server,
        "POST",
        "/tenants/lyon",
        Some(&json!({"rabbitmq_password": ""})),
    );
    assert_eq!(
        a.expect(201).json(),
        json!({"name": "lyon", "users": 0, "groups": 0, "user_roles": null})
    );
    admin(&server, "POST", "/tenants/paris", None).expect(201);
    // They are entities.
    let entities = server.get("GET", "/1.1/entities", "admin").json();
    let names: Vec<&str> = entities["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["default", "lyon", "paris"]);
    let lyon_id = entities["items"][1]["id"].as_i64().unwrap();
    // A name taken, a name kept for routes, a name the entities refuse.
    cloudify_error(
        &admin(&server, "POST", "/tenants/lyon", None),
        409,
        "conflict_error",
    );
    for reserved in ["users", "user-groups"] {
        let a = admin(&server, "POST", &format!("/tenants/{reserved}"), None);
        cloudify_error(&a, 400, "bad_parameters_error");
    }
    let a = admin(&server, "POST", "/tenants/1234", None);
    assert!(cloudify_error(&a, 400, "bad_parameters_error").contains("digits"));
    // List and get.
    let list = admin(&server, "GET", "/tenants", None).expect(200).json();
    assert_eq!(list["metadata"]["pagination"]["total"], 3);
    assert_eq!(list["items"][1]["name"], "lyon");
    let a = admin(&server, "GET", "/tenants/nowhere", None);
    assert!(cloudify_error(&a, 404, "not_found_error").contains("nowhere"));
    // Add a user with a role, see it both ways, change it, take it away.
    let join = json!({"username": "alice", "tenant_name": "lyon", "role": "manager"});
    let a = admin(&server, "PUT", "/tenants/users", Some(&join));
    assert_eq!(
        a.expect(200).json(),
        json!({"name": "lyon", "users": 1, "groups": 0, "user_roles": null})
    );
    cloudify_error(
        &admin(&server, "PUT", "/tenants/users", Some(&join)),
        409,
        "conflict_error",
    );
    let t = admin(&server, "GET", "/tenants/lyon?_get_data=True", None).json();
    assert_eq!(
        t,
        json!({"name": "lyon",
            "users": {"alice": {"tenant-role": "manager", "roles": ["manager"]}},
            "groups": {}, "user_roles": {"direct": {"alice": "manager"}, "groups": {}}})
    );
    let shown = server.get("GET", "/1.1/accounts/alice", "admin").json();
    assert_eq!(shown["tenants"][lyon_id.to_string()], "manager");
    let change = json!({"username": "alice", "tenant_name": "lyon", "role": "viewer"});
    admin(&server, "PATCH", "/tenants/users", Some(&change)).expect(200);
    let u = admin(&server, "GET", "/users/alice?_get_data=true", None).json();
    assert_eq!(
        u["tenants"],
        json!({"lyon": {"roles": ["viewer"], "tenant-role": "viewer"}})
    );
    assert_eq!(
        u["tenant_roles"],
        json!({"direct": {"lyon": "viewer"}, "groups": {}})
    );
    // In use: the tenant cannot go while alice is in it.
    let a = admin(&server, "DELETE", "/tenants/lyon", None);
    let message = cloudify_error(&a, 409, "conflict_error");
    assert!(message.contains("lyon"), "{message}");
    let leave = json!({"username": "alice", "tenant_name": "lyon"});
    let a = admin(&server, "DELETE", "/tenants/users", Some(&leave));
    a.expect(204);
    cloudify_error(
        &admin(&server, "DELETE", "/tenants/users", Some(&leave)),
        404,
        "not_found_error",
    );
    cloudify_error(
        &admin(&server, "PATCH", "/tenants/users", Some(&change)),
        404,
        "not_found_error",
    );
    assert_eq!(
        admin(&server, "GET", "/users/alice", None).json()["tenants"],
        0
    );
    // The default entity holds contexts: 409, and it stays.
    let a = admin(&server, "DELETE", "/tenants/default", None);
    cloudify_error(&a, 409, "conflict_error");
    // Delete: 204, then 404.
    admin(&server, "DELETE", "/tenants/lyon", None).expect(204);
    cloudify_error(
        &admin(&server, "GET", "/tenants/lyon", None),
        404,
        "not_found_error",
    );
    let list = admin(&server, "GET", "/tenants", None).json();
    assert_eq!(list["metadata"]["pagination"]["total"], 2);
}

#[test]
fn cloudify_roles_other_than_ucsvs_are_refused_with_400_naming_them() {
    let (wd, server) = admin_server();
    account(&wd, "alice", &[]);
    for role in ["admin", "none", "", "sys_admin", "Manager", "user=1"] {
        let body = json!({"username": "alice", "tenant_name": DEFAULT, "role": role});
        for method in ["PUT", "PATCH"] {
            let a = admin(&server, method, "/tenants/users", Some(&body));
            let message = cloudify_error(&a, 400, "bad_parameters_error");
            assert!(
                message.contains("viewer, user, manager"),
                "{method} {role:?}: {message}"
            );
        }
    }
    assert_eq!(
        server.get("GET", "/1.1/accounts/alice", "admin").json()["tenants"],
        json!({})
    );
    // System roles: sys_admin or default, as the domain says.
    let body = json!({"username": "bob", "password": "bob's password", "role": "admin"});
    let a = admin(&server, "PUT", "/users", Some(&body));
    assert!(cloudify_error(&a, 400, "bad_parameters_error").contains("sys_admin or default"));
    // A bad role with a good password changes neither.
    let body = json!({"role": "root", "password": "another password"});
    let a = admin(&server, "POST", "/users/alice", Some(&body));
    cloudify_error(&a, 400, "bad_parameters_error");
    send(&server, "GET", "/user", Some(("alice", PW)), None, None).expect(200);
    // A short password, the domain's rule too.
    let a = admin(
        &server,
        "POST",
        "/users/alice",
        Some(&json!({"password": "short"})),
    );
    assert!(cloudify_error(&a, 400, "bad_parameters_error").contains("8 to 128"));
}

#[test]
fn cloudify_401_is_one_answer_in_cloudifys_shape_whatever_the_reason() {
    let (wd, server) = admin_server();
    account(&wd, "off", &["--role", "sys_admin"]);
    wd.run(&["account", "deactivate", "off"]).expect(0);
    let mut bodies = std::collections::BTreeSet::new();
    for (method, path) in [
        ("GET", "/users"),
        ("PUT", "/users"),
        ("GET", "/user"),
        ("GET", "/users/admin"),
        ("POST", "/users/admin"),
        ("DELETE", "/users/admin"),
        ("POST", "/users/active/admin"),
        ("POST", "/users/unlock/admin"),
        ("GET", "/tenants"),
        ("GET", "/tenants/default"),
        ("POST", "/tenants/x"),
        ("DELETE", "/tenants/default"),
        ("PUT", "/tenants/users"),
        ("PATCH", "/tenants/users"),
        ("DELETE", "/tenants/users"),
    ] {
        for who in [
            None,
            Some(("admin", "wrong password")),
            Some(("nobody", PW)),
            Some(("off", PW)),
        ] {
            // The Tenant header names nothing: the sign-in answers first.
            let a = send(&server, method, path, who, Some("nowhere"), None);
            cloudify_error(&a, 401, "unauthorized_error");
            bodies.insert(a.body);
        }
    }
    assert_eq!(bodies.len(), 1, "{bodies:?}");
}

#[test]
fn cloudify_routes_are_for_sys_admins_but_anyone_reads_itself() {
    let (wd, server) = admin_server();
    account(&wd, "alice", &["--tenant", "1=manager"]);
    let alice = Some(("alice", PW));
    for path in ["/user", "/users/alice", "/users/alice?_get_data=true"] {
        let a = send(&server, "GET", path, alice, Some(DEFAULT), None);
        assert_eq!(a.expect(200).json()["username"], "alice", "{path}");
    }
    // Without a Tenant header too.
    send(&server, "GET", "/user", alice, None, None).expect(200);
    let body = json!({"username": "bob", "password": "bob's password", "role": "default"});
    for (method, path, body) in [
        ("GET", "/users", None),
        ("GET", "/users/admin", None),
        ("PUT", "/users", Some(&body)),
        ("POST", "/users/alice", Some(&json!({"role": "sys_admin"}))),
        ("DELETE", "/users/admin", None),
        ("POST", "/users/unlock/alice", None),
        ("GET", "/tenants", None),
        ("GET", "/tenants/default", None),
        ("POST", "/tenants/lyon", None),
    ] {
        let a = send(&server, method, path, alice, Some(DEFAULT), body);
        cloudify_error(&a, 403, "forbidden_error");
    }
    assert_eq!(
        admin(&server, "GET", "/users/alice", None).json()["role"],
        "default"
    );
    // The Tenant header names an existing tenant, one the account works in.
    admin(&server, "POST", "/tenants/lyon", None).expect(201);
    let a = send(&server, "GET", "/user", alice, Some("lyon"), None);
    cloudify_error(&a, 403, "forbidden_error");
    let a = send(&server, "GET", "/user", alice, Some("nowhere"), None);
    cloudify_error(&a, 403, "forbidden_error");
    let a = send(
        &server,
        "GET",
        "/users",
        Some(("admin", PW)),
        Some("nowhere"),
        None,
    );
    assert!(cloudify_error(&a, 403, "forbidden_error").contains("nowhere"));
    send(
        &server,
        "GET",
        "/users",
        Some(("admin", PW)),
        Some("lyon"),
        None,
    )
    .expect(200);
    // An account cannot delete itself (the rule of /1.1/accounts).
    let a = admin(&server, "DELETE", "/users/admin", None);
    cloudify_error(&a, 400, "bad_parameters_error");
}

#[test]
fn cloudify_users_are_activated_deactivated_locked_and_unlocked() {
    let (wd, server) = admin_server();
    account(&wd, "alice", &["--tenant", "1=user"]);
    let alice = Some(("alice", PW));
    let off = json!({"action": "deactivate"});
    let a = admin(&server, "POST", "/users/active/alice", Some(&off));
    assert_eq!(a.expect(200).json()["active"], false);
    cloudify_error(
        &send(&server, "GET", "/user", alice, Some(DEFAULT), None),
        401,
        "unauthorized_error",
    );
    let on = json!({"action": "activate"});
    assert_eq!(
        admin(&server, "POST", "/users/active/alice", Some(&on)).json()["active"],
        true
    );
    let a = admin(
        &server,
        "POST",
        "/users/active/alice",
        Some(&json!({"action": "suspend"})),
    );
    cloudify_error(&a, 400, "bad_parameters_error");
    for _ in 0..5 {
        let a = send(
            &server,
            "GET",
            "/user",
            Some(("alice", "wrong password")),
            None,
            None,
        );
        cloudify_error(&a, 401, "unauthorized_error");
    }
    assert_eq!(
        admin(&server, "GET", "/users/alice", None).json()["is_locked"],
        true
    );
    // Unlock has no body, yet says its body is JSON.
    let a = admin(&server, "POST", "/users/unlock/alice", None);
    assert_eq!(a.expect(200).json()["is_locked"], false);
    send(&server, "GET", "/user", alice, Some(DEFAULT), None).expect(200);
    cloudify_error(
        &admin(&server, "POST", "/users/unlock/nobody", None),
        404,
        "not_found_error",
    );
}

#[test]
fn cloudify_lists_sort_page_and_cut_to_the_fields_asked() {
    let (wd, server) = admin_server();
    for name in ["carol", "alice", "bob"] {
        account(&wd, name, &[]);
    }
    let names = |a: &Answer| -> Vec<String> {
        a.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_string())
            .collect()
    };
    let a = admin(&server, "GET", "/users?_sort=-username", None);
    assert_eq!(names(&a), ["carol", "bob", "alice", "admin"]);
    let a = admin(
        &server,
        "GET",
        "/users?_sort=username&_offset=1&_size=2",
        None,
    );
    assert_eq!(names(&a), ["alice", "bob"]);
    assert_eq!(
        a.json()["metadata"],
        json!({"filtered": null, "pagination": {"offset": 1, "size": 2, "total": 4}})
    );
    let a = admin(&server, "GET", "/users?_include=username%2Crole", None);
    for u in a.json()["items"].as_array().unwrap() {
        let mut keys: Vec<&String> = u.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["role", "username"], "{u}");
    }
    let a = admin(&server, "GET", "/users/bob?_include=username", None);
    assert_eq!(a.json(), json!({"username": "bob"}));
    let a = admin(
        &server,
        "GET",
        "/tenants?_include=name&_get_data=true",
        None,
    );
    assert_eq!(a.json()["items"], json!([{"name": "default"}]));
    let a = admin(&server, "GET", "/users?_include=username,secret", None);
    assert!(cloudify_error(&a, 400, "no_such_include_field_error").contains("secret"));
}

#[test]
fn cloudify_bad_input_is_a_4xx_in_cloudifys_shape_never_a_5xx() {
    let (wd, server) = admin_server();
    account(&wd, "alice", &[]);
    let raw = |method: &str, path: &str, content_type: Option<&str>, body: &str| {
        let mut req = server
            .request(method, &format!("/api/v3.1{path}"), Some(("admin", PW)))
            .set("Tenant", DEFAULT);
        if let Some(t) = content_type {
            req = req.set("Content-Type", t);
        }
        answer(req.send_string(body))
    };
    let json_type = Some("application/json");
    let cases: Vec<(Answer, &str)> = vec![
        (raw("PUT", "/users", json_type, ""), "an empty body"),
        (raw("PUT", "/users", json_type, "{"), "not JSON"),
        (raw("PUT", "/users", json_type, "[]"), "an array"),
        (raw("PUT", "/users", None, "{}"), "no Content-Type"),
        (
            raw(
                "PUT",
                "/users",
                json_type,
                r#"{"username": 1, "password": "x"}"#,
            ),
            "a number for a name",
        ),
        (
            raw(
                "PUT",
                "/users",
                json_type,
                r#"{"username": "x y", "password": "long enough"}"#,
            ),
            "a name with a space",
        ),
        (
            raw(
                "PUT",
                "/users",
                json_type,
                &format!(
                    r#"{{"username": "{}", "password": "long enough"}}"#,
                    "a".repeat(300)
                ),
            ),
            "a name too long",
        ),
        (
            raw(
                "PUT",
                "/users",
                json_type,
                r#"{"username": "zed", "password": "long enough", "is_prehashed": true}"#,
            ),
            "a hash for a password",
        ),
        (
            raw(
                "PUT",
                "/users",
                json_type,
                r#"{"username": "zed", "password": "long enough", "tenants": {}}"#,
            ),
            "an unknown key",
        ),
        (
            raw("POST", "/users/alice", json_type, "{}"),
            "nothing to change",
        ),
        (
            raw(
                "POST",
                "/users/alice",
                json_type,
                r#"{"show_getting_started": true}"#,
            ),
            "show_getting_started",
        ),
        (
            raw(
                "POST",
                "/users/alice",
                json_type,
                r#"{"password": null, "role": 3}"#,
            ),
            "a number for a role",
        ),
        (
            raw("DELETE", "/tenants/users", json_type, ""),
            "remove_user without a body",
        ),
        (
            raw(
                "PUT",
                "/tenants/users",
                json_type,
                r#"{"username": "alice"}"#,
            ),
            "add_user without a tenant",
        ),
        (
            raw(
                "POST",
                "/tenants/lyon",
                json_type,
                r#"{"rabbitmq_password": "x"}"#,
            ),
            "a broker password",
        ),
        (
            raw("POST", "/tenants/%20lyon", json_type, ""),
            "a name with a space around it",
        ),
        (
            raw("GET", "/users?_size=ten", None, ""),
            "a size that is no number",
        ),
        (
            raw("GET", "/users?_get_data=maybe", None, ""),
            "a flag that is no flag",
        ),
        (
            raw("GET", "/users?username=alice", None, ""),
            "an unknown parameter",
        ),
        (
            raw("GET", "/users?_sort=password", None, ""),
            "a sort on no field",
        ),
        (
            raw("GET", "/users/alice?_sort=username", None, ""),
            "a list parameter on a get",
        ),
        (
            raw("POST", "/users/unlock/alice?x=1", None, ""),
            "a parameter on unlock",
        ),
        (
            raw("GET", "/users/%FF", None, ""),
            "a name that is not UTF-8",
        ),
        (raw("GET", "/nothing", None, ""), "an unknown route"),
        (
            raw("POST", "/users", json_type, "{}"),
            "a method the route has not",
        ),
        (raw("GET", "/tenants/users/x", None, ""), "a path too long"),
    ];
    for (a, what) in cases {
        assert!(
            (400..500).contains(&a.status),
            "{what}: {} {}",
            a.status,
            a.shown()
        );
        let code = match a.status {
            404 => "not_found_error",
            405 => "method_not_allowed_error",
            _ => "bad_parameters_error",
        };
        cloudify_error(&a, a.status, code);
    }
    // Nothing was made by them.
    let list = admin(&server, "GET", "/users", None).json();
    assert_eq!(list["metadata"]["pagination"]["total"], 2, "{list}");
    assert_eq!(
        admin(&server, "GET", "/tenants", None).json()["metadata"]["pagination"]["total"],
        1
    );
}

#[test]
fn cloudify_answers_never_carry_a_password_or_a_hash() {
    let (wd, server) = admin_server();
    account(&wd, "alice", &["--tenant", "1=viewer"]);
    let body = json!({"username": "bob", "password": "bob's password", "role": "default"});
    let join = json!({"username": "bob", "tenant_name": DEFAULT, "role": "user"});
    let answers = vec![
        admin(&server, "PUT", "/users", Some(&body)),
        admin(
            &server,
            "POST",
            "/users/bob",
            Some(&json!({"password": "bob's password 2"})),
        ),
        admin(&server, "PUT", "/tenants/users", Some(&join)),
        admin(&server, "GET", "/users", None),
        admin(&server, "GET", "/users?_get_data=true", None),
        admin(
            &server,
            "GET",
            "/users?_get_data=true&_include=username,password_hash",
            None,
        ),
        admin(&server, "GET", "/users/bob", None),
        admin(&server, "GET", "/users/bob?_get_data=true", None),
        admin(&server, "GET", "/tenants?_get_data=true", None),
        admin(&server, "GET", "/tenants/default?_get_data=true", None),
        send(
            &server,
            "GET",
            "/user",
            Some(("alice", PW)),
            Some(DEFAULT),
            None,
        ),
    ];
    let hashes: Vec<String> = ["admin", "alice", "bob"]
        .iter()
        .map(|n| {
            wd.query_one(&format!(
                "SELECT password_hash FROM accounts WHERE username = '{n}'"
            ))
        })
        .collect();
    for a in answers {
        assert!((200..300).contains(&a.status), "{}", a.shown());
        assert!(!a.body.contains("$argon2"), "{}", a.body);
        assert!(!a.body.contains("bob's password"), "{}", a.body);
        for h in &hashes {
            assert!(!a.body.contains(h.as_str()), "{}", a.body);
        }
        fn scan(v: &Value) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        if k == "password" || k == "password_hash" {
                            assert_eq!(v, &Value::Null, "{k}");
                        }
                        scan(v);
                    }
                }
                Value::Array(items) => items.iter().for_each(scan),
                _ => {}
            }
        }
        scan(&a.json());
    }
}
