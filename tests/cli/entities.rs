//! `/1.1/entities` of `ucsv serve`: the entities (tenants) listed with their names and
//! defaults, added and changed by a sys_admin, and usable at once by name.

use crate::serve::{account, answer, Server, PW};
use crate::workdir::Workdir;
use serde_json::json;

#[test]
fn a_sys_admin_adds_and_changes_entities_that_work_at_once_by_name() {
    let wd = Workdir::with_db();
    account(&wd, "admin", &["--role", "sys_admin"]);
    account(&wd, "ops", &["--tenant", "1=manager"]);
    let server = Server::start(&wd, &[]);
    let listed = server.get("GET", "/1.1/entities/", "admin");
    listed.expect(200);
    assert_eq!(
        listed.json(),
        json!({"total": 1, "items": [{"id": 1, "name": "default", "default_language": null, "default_timezone": null}]})
    );
    // Added: 201 with its Location; the defaults are checked by the columns' rules.
    let lyon = server.json(
        "POST",
        "/1.1/entities",
        "admin",
        &json!({"name": "lyon", "default_language": "fr_FR", "default_timezone": "Europe/Paris"}),
    );
    lyon.expect(201);
    assert_eq!(lyon.json()["id"], 2);
    assert_eq!(lyon.location.as_deref(), Some("/1.1/entities/2"));
    for (body, code) in [
        (json!({"name": "lyon"}), 409),
        (json!({"name": "paris", "default_language": "french"}), 400),
        (
            json!({"name": "paris", "default_timezone": "Mars/Olympus"}),
            400,
        ),
        (json!({"name": ""}), 400),
        (json!({"name": "12"}), 400),
        (json!({"name": "paris", "colour": "blue"}), 400),
        (json!({}), 400),
        (json!({"name": 7}), 400),
    ] {
        let a = server.json("POST", "/1.1/entities", "admin", &body);
        assert_eq!(a.status, code, "{body}: {}", a.body);
    }
    assert_eq!(
        server
            .json("POST", "/1.1/entities", "ops", &json!({"name": "paris"}))
            .status,
        403
    );
    assert_eq!(wd.query_one("SELECT count(*) FROM entities"), "2");
    // Changed: the given keys, null unsets a default.
    let changed = server.json(
        "PUT",
        "/1.1/entities/lyon",
        "admin",
        &json!({"name": "lyon-part-dieu", "default_timezone": null}),
    );
    changed.expect(200);
    assert_eq!(
        changed.json(),
        json!({"id": 2, "name": "lyon-part-dieu", "default_language": "fr_FR", "default_timezone": null})
    );
    server
        .json(
            "PUT",
            "/1.1/entities/default",
            "admin",
            &json!({"name": "lyon-part-dieu"}),
        )
        .expect(409);
    server
        .json(
            "PUT",
            "/1.1/entities/nowhere",
            "admin",
            &json!({"name": "x"}),
        )
        .expect(404);
    server
        .json("PUT", "/1.1/entities/1", "ops", &json!({"name": "x"}))
        .expect(403);
    // Usable at once by name, and its default given to a new user.
    let a = answer(
        server
            .request("POST", "/1.1/users", Some(("admin", PW)))
            .set("Wazo-Tenant", "lyon-part-dieu")
            .set("Content-Type", "application/json")
            .send_string(&json!({"firstname": "Léa"}).to_string()),
    );
    a.expect(201);
    assert_eq!(a.json()["entity_id"], 2);
    assert_eq!(a.json()["language"], "fr_FR");
    // The manager of entity 1 sees only it.
    let mine = server.get("GET", "/1.1/entities", "ops").json();
    assert_eq!(mine["total"], 1);
    server
        .get("GET", "/1.1/entities/lyon-part-dieu", "ops")
        .expect(404);
    server.get("GET", "/1.1/entities/2", "admin").expect(200);
    // With two entities, a sys_admin without Wazo-Tenant sees both entities' users, and an
    // empty user is refused with a clear error, not a failure.
    let all = server.get("GET", "/1.1/users", "admin").json();
    assert_eq!(all["total"], 1);
    let empty = server.json("POST", "/1.1/users", "ops", &json!({}));
    empty.expect(400);
    assert_eq!(empty.code(), "firstname.required");
}
