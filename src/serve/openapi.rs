//! The OpenAPI 3.1 document of every route (`GET /1.1/openapi.json`, `ucsv openapi`),
//! made from the code: the routes and their query parameters are [`params::ROUTES`], which
//! the handlers read their queries with (a test holds the router to it); what each route
//! does is [`summary`], which a test requires for every route.

use super::params::{self, Kind};
use serde_json::{json, Map, Value};

/// The routes of the page (no account: the page signs in through the API).
pub const PAGE_ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/", "The import page"),
    (
        "GET",
        "/assets/{name}",
        "A file of the page (script, style, icon)",
    ),
];

/// The routes answered without an account.
const OPEN: &[&str] = &["/healthz", "/readyz"];

/// What a route does, in a line.
pub fn summary(method: &str, path: &str) -> Option<&'static str> {
    Some(match (method, path) {
        ("GET", "/1.1/users") => "List users (search, order, page), typed JSON",
        ("POST", "/1.1/users") => "Create a user from a JSON object of import columns",
        ("GET", "/1.1/users/{id}") => "Show a user, by id or uuid",
        ("PUT", "/1.1/users/{id}") => "Change the given columns of a user (null unsets)",
        ("DELETE", "/1.1/users/{id}") => "Delete a user with its line, numbers and box",
        ("POST", "/1.1/users/import") => "Import a CSV body: create a user per row, all or nothing",
        ("PUT", "/1.1/users/import") => "Update the users a CSV body names by uuid",
        ("GET", "/1.1/users/export") => "Export the users as CSV, in the import format",
        ("GET", "/1.1/batches") => "The history: batches, newest first",
        ("GET", "/1.1/batches/{id}") => "A batch and its changes (states before)",
        ("POST", "/1.1/batches/{id}/undo") => "Take a batch back in one transaction",
        ("GET", "/1.1/openapi.json") => "This document",
        ("GET", "/healthz") => "The process is up (no account)",
        ("GET", "/readyz") => "The database answers (no account)",
        ("GET", "/metrics") => "The server's figures, Prometheus' text format (sys_admin)",
        ("GET", "/1.1/me") => "The account signed in and its entities",
        ("GET", "/1.1/entities") => "The entities the account works in",
        ("POST", "/1.1/entities") => "Add an entity (sys_admin)",
        ("GET", "/1.1/entities/{id}") => "An entity, by id or name",
        ("PUT", "/1.1/entities/{id}") => "Change an entity (sys_admin)",
        ("GET", "/1.1/accounts") => "List the accounts (sys_admin)",
        ("POST", "/1.1/accounts") => "Add an account (sys_admin)",
        ("GET", "/1.1/accounts/{username}") => "An account (sys_admin)",
        ("POST", "/1.1/accounts/{username}") => "Change an account's role, password or tenants",
        ("DELETE", "/1.1/accounts/{username}") => "Delete an account (sys_admin)",
        ("POST", "/1.1/accounts/{username}/{action}") => {
            "Activate, deactivate or unlock an account"
        }
        ("GET", "/api/v3.1/users") => "Cloudify: list users",
        ("PUT", "/api/v3.1/users") => "Cloudify: create a user",
        ("GET", "/api/v3.1/user") => "Cloudify: the user signed in",
        ("GET", "/api/v3.1/users/{username}") => "Cloudify: a user",
        ("POST", "/api/v3.1/users/{username}") => "Cloudify: set a user's password or role",
        ("DELETE", "/api/v3.1/users/{username}") => "Cloudify: delete a user",
        ("POST", "/api/v3.1/users/active/{username}") => "Cloudify: activate or deactivate a user",
        ("POST", "/api/v3.1/users/unlock/{username}") => "Cloudify: unlock a user",
        ("GET", "/api/v3.1/tenants") => "Cloudify: list tenants (entities)",
        ("GET", "/api/v3.1/tenants/{name}") => "Cloudify: a tenant",
        ("POST", "/api/v3.1/tenants/{name}") => "Cloudify: create a tenant",
        ("DELETE", "/api/v3.1/tenants/{name}") => "Cloudify: delete a tenant",
        ("PUT", "/api/v3.1/tenants/users") => "Cloudify: add a user to a tenant",
        ("PATCH", "/api/v3.1/tenants/users") => "Cloudify: change a user's role in a tenant",
        ("DELETE", "/api/v3.1/tenants/users") => "Cloudify: remove a user from a tenant",
        ("GET", "/1.0/users") => "XiVO: list users",
        ("POST", "/1.0/users") => "XiVO: create a user",
        ("GET", "/1.0/users/{id}") => "XiVO: a user",
        ("PUT", "/1.0/users/{id}") => "XiVO: change a user",
        ("DELETE", "/1.0/users/{id}") => "XiVO: delete a user",
        ("GET", "/sapi/users") => "Quobis: list users",
        ("POST", "/sapi/users") => "Quobis: create a user",
        ("GET", "/sapi/users/{uuid}") => "Quobis: a user",
        ("PUT", "/sapi/users/{uuid}") => "Quobis: change a user",
        ("DELETE", "/sapi/users/{uuid}") => "Quobis: delete a user",
        _ => return None,
    })
}

/// The parameters a path names (`{id}`), in order.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

fn operation(method: &str, path: &str, query: &[params::Param], summary: &str) -> Value {
    let mut parameters: Vec<Value> = path_parameters(path)
        .into_iter()
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect();
    parameters.extend(query.iter().map(|p| {
        let schema = match p.kind {
            Kind::Flag => json!({
                "type": "string",
                "enum": params::TRUE.iter().chain(params::FALSE.iter()).collect::<Vec<_>>(),
                "description": "true (or given alone) or false, in any case",
            }),
            Kind::Number => json!({"type": "integer", "minimum": 0}),
            Kind::Text => json!({"type": "string"}),
        };
        json!({"name": p.name, "in": "query", "required": false, "schema": schema})
    }));
    let mut op = Map::new();
    op.insert("summary".into(), summary.into());
    op.insert(
        "operationId".into(),
        format!("{} {}", method.to_lowercase(), path).into(),
    );
    op.insert("parameters".into(), parameters.into());
    if matches!(method, "POST" | "PUT" | "PATCH") {
        let content = if path.ends_with("/import") {
            json!({"text/csv": {"schema": {"type": "string"}}})
        } else {
            json!({"application/json": {"schema": {"type": "object"}}})
        };
        op.insert(
            "requestBody".into(),
            json!({"required": false, "content": content}),
        );
    }
    op.insert(
        "responses".into(),
        json!({
            "2XX": {"description": "Done: the route's answer (see the README)"},
            "default": {
                "description": "Refused: the reason, with a stable code",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
            },
        }),
    );
    if OPEN.contains(&path) || PAGE_ROUTES.iter().any(|(_, p, _)| *p == path) {
        op.insert("security".into(), json!([]));
    }
    Value::Object(op)
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    let routes = params::ROUTES
        .iter()
        .map(|(m, p, q)| (*m, *p, *q, summary(m, p).unwrap_or("")))
        .chain(
            PAGE_ROUTES
                .iter()
                .map(|(m, p, s)| (*m, *p, params::NONE, *s)),
        );
    for (method, path, query, summary) in routes {
        let item = paths
            .entry(path.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        item[method.to_lowercase()] = operation(method, path, query, summary);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ucsv",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Provision IPBX users: Wazo's confd users API (/1.1), the \
                XiVO (/1.0), Cloudify (/api/v3.1) and Quobis (/sapi) dialects, accounts, \
                the history. Every route but the health checks and the page signs in with \
                an account (HTTP Basic); the Wazo-Tenant header chooses the entity.",
        },
        "components": {
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}},
            "schemas": {
                "Errors": {
                    "type": "object",
                    "properties": {"errors": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "help": {"type": "string"},
                        },
                    }}},
                },
            },
        },
        "security": [{"basic": []}],
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_summary_and_its_path_parameters() {
        for (method, path, _) in params::ROUTES {
            assert!(
                summary(method, path).is_some(),
                "no summary for {method} {path}"
            );
        }
        let doc = document();
        let op = &doc["paths"]["/1.1/accounts/{username}/{action}"]["post"];
        let names: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["username", "action"]);
        assert_eq!(doc["paths"]["/healthz"]["get"]["security"], json!([]));
        assert!(doc["paths"]["/1.1/users"]["get"].get("security").is_none());
    }
}
