//! The seed APIs' own dialects of `ucsv serve`: XiVO's `/1.0/users` (seed 002) and
//! Quobis' `/sapi/users` (seed 004), each seed's request examples replayed against the
//! real binary and the answers compared with the seed's, field for field. They run on the
//! backend under test like the rest of the CLI suite.

use crate::serve::{account, answer, Server, PW};
use crate::workdir::Workdir;
use serde_json::{json, Value};

/// The embedded default reference data with extensions 44000-44999 too (seed 002's line
/// number is 44500).
const XIVO_REFERENCE: &str = r#"
[[entity]]
id = 1
name = "default"

[[context]]
name = "default"
entity = 1
type = "internal"
ranges = ["1000-1999", "44000-44999"]

[[context]]
name = "from-extern"
entity = 1
type = "incall"
ranges = ["2000-2999"]

[[cti_profile]]
name = "Client"

[[cti_profile]]
name = "Agent"
"#;

fn xivo_server() -> (Workdir, Server) {
    let wd = Workdir::with_reference(XIVO_REFERENCE);
    account(&wd, "admin", &["--role", "sys_admin"]);
    let server = Server::start(&wd, &[]);
    (wd, server)
}

/// The seed's user properties, as a client sends them (the read-only id, voicemailid
/// and agentid included, as a client that sends a user back does).
fn seed_002_user() -> Value {
    json!({
       "id": 1,
       "firstname": "Jean",
       "lastname": "Dupond",
       "callerid": "Jean Dupond",
       "username": "1234",
       "password": "1234",
       "enableclient": 1,
       "musiconhold": "my_music",
       "outcallerid": "1234",
       "mobilephonenumber": "0611111111",
       "userfield": "",
       "timezone": "Europe/Paris",
       "language": "fr_FR",
       "description": "une description",
       "ctiprofileid": 1,
       "voicemailid": 1,
       "agentid": 1,
       "entityid": 1,
       "line": {"number": "44500"}
    })
}

#[test]
fn xivo_1_0_users_answer_seed_002_field_for_field_and_status_for_status() {
    let (wd, server) = xivo_server();
    // Create User: POST /1.0/users/ → 201 without a body.
    let created = server.json("POST", "/1.0/users/", "admin", &seed_002_user());
    created.expect(201);
    assert_eq!(created.body, "", "201 Created without a body");
    let id = wd.query_one("SELECT id FROM users WHERE firstname = 'Jean'");
    assert_eq!(
        created.location.as_deref(),
        Some(format!("/1.0/users/{id}").as_str())
    );
    // Get User: every property of the seed, the password never shown, voicemailid and
    // agentid as the database has them (no box, and ucsv has no agents).
    let got = server.get("GET", &format!("/1.0/users/{id}"), "admin");
    got.expect(200);
    let mut expected = seed_002_user();
    let o = expected.as_object_mut().unwrap();
    o.insert("id".into(), json!(id.parse::<i64>().unwrap()));
    o.remove("password");
    o.insert("voicemailid".into(), Value::Null);
    o.insert("agentid".into(), Value::Null);
    assert_eq!(got.json(), expected, "{}", got.body);
    assert!(!got.body.contains("argon2"));
    // What the CLI sees: the same user, stored with the import's rules.
    assert_eq!(
        wd.query_one("SELECT music_on_hold FROM users WHERE firstname = 'Jean'"),
        "my_music"
    );
    // List Users: {"total", "items": [{"id", "firstname", "lastname"}]}.
    for (first, last) in [("John", "Doe"), ("Alice", "Houet")] {
        server
            .json(
                "POST",
                "/1.0/users/",
                "admin",
                &json!({"firstname": first, "lastname": last}),
            )
            .expect(201);
    }
    let list = server.get("GET", "/1.0/users/", "admin");
    list.expect(200);
    let list = list.json();
    assert_eq!(list["total"], 3);
    assert_eq!(list["items"][1]["firstname"], "John");
    assert_eq!(
        list["items"][2],
        json!({"id": list["items"][2]["id"], "firstname": "Alice", "lastname": "Houet"})
    );
    assert_eq!(list["items"][2].as_object().unwrap().len(), 3);
    // Get an unknown user: 404 with an empty body.
    let missing = server.get("GET", "/1.0/users/999999", "admin");
    missing.expect(404);
    assert_eq!(missing.body, "");
    // Create with incorrect parameters: 400, the parameters listed.
    let bad = server.json(
        "POST",
        "/1.0/users/",
        "admin",
        &json!({"firstname": "X", "parameter1": 1, "parameter2": 2}),
    );
    bad.expect(400);
    assert_eq!(
        bad.json()[0],
        "Incorrect parameters sent: parameter1, parameter2"
    );
    let invalid = server.json(
        "POST",
        "/1.0/users/",
        "admin",
        &json!({"firstname": "X", "language": "french", "line": {"number": "99"}}),
    );
    invalid.expect(400);
    assert_eq!(
        invalid.json()[0],
        "Incorrect parameters sent: language, line",
        "{}",
        invalid.body
    );
    // Update User: 200 without a body; a new name renames the box named after the user.
    let john = list["items"][1]["id"].as_i64().unwrap();
    let vm = "uuid,voicemail_name,voicemail_number,voicemail_context\n".to_string()
        + &wd.query_one(&format!("SELECT uuid FROM users WHERE id = {john}"))
        + ",John Doe,1500,default\n";
    server
        .csv("PUT", "/1.1/users/import", "admin", &vm)
        .expect(200);
    let updated = server.json(
        "PUT",
        &format!("/1.0/users/{john}"),
        "admin",
        &json!({"firstname": "Johnny", "lastname": "Doe"}),
    );
    updated.expect(200);
    assert_eq!(updated.body, "");
    assert_eq!(
        wd.query_one("SELECT name FROM voicemails WHERE number = '1500'"),
        "Johnny Doe"
    );
    let back = server
        .get("GET", &format!("/1.0/users/{john}"), "admin")
        .json();
    assert_eq!(back["firstname"], "Johnny");
    assert_eq!(back["callerid"], "Johnny Doe");
    assert!(back["voicemailid"].is_i64(), "{back}");
    server
        .json(
            "PUT",
            "/1.0/users/999999",
            "admin",
            &json!({"firstname": "X"}),
        )
        .expect(404);
    // A user sent back as it was read changes nothing.
    server
        .json("PUT", &format!("/1.0/users/{john}"), "admin", &back)
        .expect(200);
    assert_eq!(
        server
            .get("GET", &format!("/1.0/users/{john}"), "admin")
            .json(),
        back
    );
    // Delete User: 412 with the seed's message for a user with a voicemail box, unless
    // deleteVoicemail is present (no value); then 200, and 404.
    let refused = server.get("DELETE", &format!("/1.0/users/{john}"), "admin");
    refused.expect(412);
    assert_eq!(
        refused.json(),
        json!(["Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user."])
    );
    let deleted = server.get(
        "DELETE",
        &format!("/1.0/users/{john}?deleteVoicemail"),
        "admin",
    );
    deleted.expect(200);
    assert_eq!(wd.query_one("SELECT count(*) FROM voicemails"), "0");
    server
        .get("DELETE", &format!("/1.0/users/{john}"), "admin")
        .expect(404);
    // Credentials are needed, as everywhere.
    assert_eq!(
        answer(server.request("GET", "/1.0/users/", None).call()).status,
        401
    );
    assert_eq!(
        answer(
            server
                .request("GET", "/1.0/users/", Some(("admin", "wrong password")))
                .call()
        )
        .status,
        401
    );
}

/// A database whose entity `quobis` gives its new users es_ES and Europe/Madrid.
const QUOBIS_REFERENCE: &str = r#"
[[entity]]
id = 1
name = "quobis"
default_language = "es_ES"
default_timezone = "Europe/Madrid"

[[entity]]
id = 2
name = "other"

[[context]]
name = "default"
entity = 1
type = "internal"
ranges = ["1000-1999"]
"#;

#[test]
fn sapi_users_answer_seed_004_by_uuid_with_domains_and_locales() {
    let wd = Workdir::with_reference(QUOBIS_REFERENCE);
    account(&wd, "admin", &["--role", "sys_admin"]);
    account(&wd, "quobis-admin", &["--tenant", "1=manager"]);
    let server = Server::start(&wd, &[]);
    // Adding users: the seed's body.
    let body = json!({
       "domain": "quobis",
       "username": "alice",
       "email": "alice@demo.quobis.com",
       "role": "user",
       "capabilities": [],
       "mobilePhone": ["987654321"],
       "currentTimezone": "Europe/Madrid",
       "locale": "es-ES"
    });
    let created = server.json("POST", "/sapi/users", "admin", &body);
    created.expect(201);
    let alice = created.json();
    let uuid = alice["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&uuid).is_ok(), "{alice}");
    let mut expected = body.clone();
    expected["id"] = json!(uuid);
    expected["alias"] = json!("alice");
    assert_eq!(alice, expected);
    assert_eq!(
        created.location.as_deref(),
        Some(format!("/sapi/users/{uuid}").as_str())
    );
    assert_eq!(
        wd.query_one("SELECT language FROM users WHERE username = 'alice'"),
        "es_ES",
        "es-ES is stored as es_ES"
    );
    // The domain's defaults, when the user gives none.
    let bob = server.json(
        "POST",
        "/sapi/users",
        "quobis-admin",
        &json!({"username": "bob", "email": "bob@demo.quobis.com"}),
    );
    bob.expect(201);
    assert_eq!(bob.json()["domain"], "quobis", "the account's only domain");
    assert_eq!(bob.json()["locale"], "es-ES");
    assert_eq!(bob.json()["currentTimezone"], "Europe/Madrid");
    // Check users: the list, and one by its UUID.
    let list = server.get("GET", "/sapi/users", "quobis-admin");
    list.expect(200);
    assert_eq!(list.json().as_array().unwrap().len(), 2);
    assert_eq!(list.json()[0], alice);
    server
        .get("GET", &format!("/sapi/users/{uuid}"), "admin")
        .expect(200);
    assert_eq!(
        server
            .get("GET", &format!("/sapi/users/{uuid}"), "admin")
            .json(),
        alice
    );
    // Editing users: the seed's body.
    let edit = json!({
       "domain": "quobis",
       "username": "alice",
       "email": "imalice@demo.quobis.com",
       "role": "user",
       "capabilities": [],
       "mobilePhone": ["1111111"],
       "alias": "masterOfTheUniverse"
    });
    let edited = server.json("PUT", &format!("/sapi/users/{uuid}"), "admin", &edit);
    edited.expect(200);
    let edited = edited.json();
    assert_eq!(edited["email"], "imalice@demo.quobis.com");
    assert_eq!(edited["mobilePhone"], json!(["1111111"]));
    assert_eq!(edited["alias"], "masterOfTheUniverse");
    assert_eq!(edited["locale"], "es-ES", "unchanged");
    // What is not kept is refused, never dropped.
    for (field, value) in [
        ("role", json!("admin")),
        ("capabilities", json!(["video"])),
        ("mobilePhone", json!(["1", "2"])),
        ("nickname", json!("x")),
    ] {
        let a = server.json(
            "PUT",
            &format!("/sapi/users/{uuid}"),
            "admin",
            &json!({ field: value }),
        );
        a.expect(400);
        assert_eq!(a.json()["errors"][0]["column"], field, "{}", a.body);
    }
    let bad_locale = server.json(
        "PUT",
        &format!("/sapi/users/{uuid}"),
        "admin",
        &json!({"locale": "spanish"}),
    );
    bad_locale.expect(400);
    assert_eq!(bad_locale.json()["errors"][0]["column"], "locale");
    // A domain the account has no role in.
    let outside = server.json(
        "POST",
        "/sapi/users",
        "quobis-admin",
        &json!({"domain": "other", "username": "carol"}),
    );
    outside.expect(403);
    // Delete users: 204, then 404.
    server
        .get("DELETE", &format!("/sapi/users/{uuid}"), "admin")
        .expect(204);
    server
        .get("GET", &format!("/sapi/users/{uuid}"), "admin")
        .expect(404);
    server
        .get("GET", "/sapi/users/not-a-uuid", "admin")
        .expect(404);
    assert_eq!(
        answer(
            server
                .request("GET", "/sapi/users", Some(("admin", PW)))
                .call()
        )
        .json()
        .as_array()
        .unwrap()
        .len(),
        1
    );
}
