//! `/api/v3.1/users` and `/api/v3.1/tenants`: the accounts (SPEC §9) and the entities in
//! the dialect of Cloudify's REST API, so that Cloudify's own client
//! (`cloudify_rest_client`) manages ucsv's accounts. A thin door: every rule (account
//! names, passwords, roles, tenant roles, entity names, what may be deleted) is the
//! domain's or the reference data's; this module reads Cloudify's requests, calls the
//! same operations as `/1.1/accounts` and `/1.1/entities`, and words the answers in
//! Cloudify's shapes.
//!
//! - **Mapping.** A Cloudify user is an account (its system role `sys_admin` or
//!   `default`); a tenant is an entity, the tenant's name the entity's name; a user's role
//!   in a tenant is the account's tenant role there (`viewer`, `user`, `manager`).
//! - **Shapes** are those of Cloudify's documentation. A user carries the counts of its
//!   tenants and groups (`tenant_roles` null) unless `_get_data` asks for them in full.
//!   User groups do not exist here: always none (`0`, `[]`, `{}`). `password_hash` is
//!   always null (absent from a list's items without `_get_data`, as documented), and a
//!   password is never shown. Lists are `{"items", "metadata": {"pagination": {"offset",
//!   "size", "total"}, "filtered": null}}`, ordered by `_sort` (a field, `-` before it:
//!   descending), paged by `_offset` and `_size` (default 1000, Cloudify's), their items
//!   cut to the fields of `_include`.
//! - **Who may.** A sys_admin account, everything; any other signed-in account only reads
//!   itself (`GET /user`, `GET /users/{its name}`); anything else is 403.
//! - **The `Tenant` header**, which the client sends with every request once given a
//!   tenant, must name an existing entity (by name) and, for an account that is not a
//!   sys_admin, one it holds a role in: else 403 `forbidden_error`. Cloudify refuses a
//!   request made in a tenant the user cannot work in with 403; an unknown tenant is not a
//!   missing resource of the route, so it is not a 404 either. Without the header nothing
//!   is chosen (none of these routes works inside one entity).
//! - **Errors** are Cloudify's `{"message", "error_code", "server_traceback": null}`. Every
//!   answer of these routes with a status of 400 or more, whoever made it (the sign-in,
//!   the query parser, the domain, axum's own rejections, unknown routes and methods under
//!   `/api/v3.1`), is reworded once, on its way out ([`in_cloudify_shape`]), from ucsv's
//!   `{"errors": [{"code", "message"}]}`; the `error_code` follows the status.
//! - **Bodies.** The client sends `Content-type: application/json` on every request, even
//!   on a GET, a DELETE or `POST /users/unlock/{name}` without a body: a body is read only
//!   where one is expected, and `POST /tenants/{name}` takes none as well as Cloudify's
//!   `{"rabbitmq_password": ""}`. `DELETE /tenants/users` carries one.

use super::auth::{self, Signed};
use super::params::{self, NoParams, Query};
use super::users::object;
use super::{blocking, ApiError, AppState, Shared};
use crate::domain::accounts::{self, Account, Accounts, Action};
use crate::domain::port::accounts::AccountStore;
use crate::store::reference::{EntityProblem, Reference};
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;

/// The page size when `_size` is not given (Cloudify's default).
const PAGE: u64 = 1000;

/// The fields of a user, for `_sort` and `_include`.
const USER_FIELDS: &[&str] = &[
    "username",
    "role",
    "active",
    "is_locked",
    "created_at",
    "first_login_at",
    "last_login_at",
    "show_getting_started",
    "group_system_roles",
    "groups",
    "tenants",
    "tenant_roles",
    "password_hash",
];

/// The fields of a tenant, for `_sort` and `_include`.
const TENANT_FIELDS: &[&str] = &["name", "users", "groups", "user_roles"];

/// Tenant names Cloudify keeps for routes (`/tenants/users`, `/tenants/user-groups`).
const RESERVED: [&str; 2] = ["users", "user-groups"];

/// ucsv's code for an `_include` field that does not exist (Cloudify has its own).
const NO_SUCH_FIELD: &str = "query.include";

/// The routes of the Cloudify dialect, every error of them in Cloudify's shape.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v3.1/users", get(users_list).put(user_create))
        .route("/api/v3.1/user", get(user_self))
        .route(
            "/api/v3.1/users/{username}",
            get(user_get).post(user_change).delete(user_delete),
        )
        .route("/api/v3.1/users/active/{username}", post(user_active))
        .route("/api/v3.1/users/unlock/{username}", post(user_unlock))
        .route("/api/v3.1/tenants", get(tenants_list))
        // `users` is a tenant name no tenant may take: the path is membership's.
        .route(
            "/api/v3.1/tenants/users",
            put(member_add)
                .patch(member_change)
                .delete(member_remove)
                .get(tenant_named_users)
                .post(reserved_create),
        )
        .route(
            "/api/v3.1/tenants/{name}",
            get(tenant_get).post(tenant_create).delete(tenant_delete),
        )
        .route("/api/v3.1/{*rest}", any(no_route))
        // Set here, before the layer, so that a 405 of these routes is reworded too (the
        // server's own fallback replaces only a default one).
        .method_not_allowed_fallback(no_method)
        .layer(axum::middleware::map_response(in_cloudify_shape))
}

async fn no_route() -> ApiError {
    ApiError::not_found("no such route in /api/v3.1: users, user, tenants")
}

async fn no_method() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not answer this method",
    )
}

/// Rewords an error answer (400 and over) in Cloudify's shape: `message` from ucsv's
/// messages (and their help), `error_code` from the status.
async fn in_cloudify_shape(response: Response) -> Response {
    let status = response.status();
    if status.as_u16() < 400 {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let (code, message) = reworded(status, &bytes);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = json!({"message": message, "error_code": code, "server_traceback": null});
    Response::from_parts(parts, Body::from(body.to_string()))
}

/// Cloudify's `error_code` and message for an error answer of `status` with `bytes`.
fn reworded(status: StatusCode, bytes: &[u8]) -> (&'static str, String) {
    let errors = serde_json::from_slice::<Value>(bytes)
        .ok()
        .and_then(|v| v.get("errors").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let messages: Vec<String> = errors
        .iter()
        .filter_map(|e| {
            let message = e.get("message")?.as_str()?;
            Some(match e.get("help").and_then(Value::as_str) {
                Some(help) => format!("{message}; {help}"),
                None => message.to_string(),
            })
        })
        .collect();
    let message = if messages.is_empty() {
        // Not ucsv's JSON (an extractor's rejection of axum): its text, or the status.
        let text = String::from_utf8_lossy(bytes).trim().to_string();
        if text.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            text
        }
    } else {
        messages.join("; ")
    };
    let ucsv_code = errors.first().and_then(|e| e.get("code")?.as_str());
    let code = match (ucsv_code, status.as_u16()) {
        (Some(NO_SUCH_FIELD), _) => "no_such_include_field_error",
        (_, 401) => "unauthorized_error",
        (_, 403) => "forbidden_error",
        (_, 404) => "not_found_error",
        (_, 405) => "method_not_allowed_error",
        (_, 409) => "conflict_error",
        (_, 500..) => "internal_server_error",
        _ => "bad_parameters_error",
    };
    (code, message)
}

/// A request signed in, its `Tenant` header checked, with every entity (id, name) for the
/// shapes.
struct Cfy {
    signed: Signed,
    entities: Vec<(i64, String)>,
}

impl FromRequestParts<Shared> for Cfy {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, ApiError> {
        let signed = Signed::from_request_parts(parts, app).await?;
        let entities: Vec<(i64, String)> = auth::all_entities(app)
            .await?
            .into_iter()
            .map(|e| (e.id, e.name))
            .collect();
        if let Some(value) = parts.headers.get("tenant") {
            let name = header_text(value.as_bytes());
            let entity = entities.iter().find(|(_, n)| *n == name);
            let admin = signed.account.role == "sys_admin";
            match entity {
                Some((id, _)) if signed.account.may(Action::Read, *id) => {}
                None if admin => {
                    return Err(ApiError::forbidden(format!(
                        "the Tenant header names no tenant: no entity is named '{name}'"
                    )))
                }
                _ => {
                    return Err(ApiError::forbidden(format!(
                        "the account has no role in a tenant named '{name}' (the Tenant header)"
                    )))
                }
            }
        }
        Ok(Cfy { signed, entities })
    }
}

impl Cfy {
    /// 403 unless a sys_admin.
    fn admin(&self) -> Result<(), ApiError> {
        self.signed.admin_of("manage users and tenants")
    }

    /// The entity named `name`, or 404.
    fn tenant(&self, name: &str) -> Result<(i64, String), ApiError> {
        self.entities
            .iter()
            .find(|(_, n)| n == name)
            .cloned()
            .ok_or_else(|| {
                ApiError::not_found(format!("Requested `Tenant` with ID `{name}` was not found"))
            })
    }

    /// An entity's name from an account's tenant key (its id as text).
    fn name_of<'a>(&'a self, key: &'a str) -> &'a str {
        self.entities
            .iter()
            .find(|(id, _)| id.to_string() == key)
            .map_or(key, |(_, n)| n.as_str())
    }
}

/// A header's text: UTF-8, else Latin-1 (what Python's http.client sends for a name
/// outside ASCII), trimmed.
fn header_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.trim().to_string(),
        Err(_) => bytes
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

// --- shapes ---------------------------------------------------------------------------

/// A user in Cloudify's shape: counts, or with `data` its tenants in full.
fn user_shape(cfy: &Cfy, a: &Account, data: bool) -> Map<String, Value> {
    let mut u = Map::new();
    u.insert("username".into(), a.username.clone().into());
    u.insert("role".into(), a.role.clone().into());
    u.insert("active".into(), a.active.into());
    u.insert("is_locked".into(), a.is_locked.into());
    u.insert("created_at".into(), a.created_at.clone().into());
    u.insert("first_login_at".into(), a.first_login_at.clone().into());
    u.insert("last_login_at".into(), a.last_login_at.clone().into());
    u.insert("show_getting_started".into(), false.into());
    u.insert("group_system_roles".into(), json!({}));
    if data {
        let mut tenants = Map::new();
        let mut direct = Map::new();
        for (key, role) in &a.tenants {
            let name = cfy.name_of(key).to_string();
            tenants.insert(name.clone(), json!({"roles": [role], "tenant-role": role}));
            direct.insert(name, role.clone().into());
        }
        u.insert("groups".into(), json!([]));
        u.insert("tenants".into(), tenants.into());
        u.insert(
            "tenant_roles".into(),
            json!({"direct": direct, "groups": {}}),
        );
    } else {
        u.insert("groups".into(), 0.into());
        u.insert("tenants".into(), a.tenants.len().into());
        u.insert("tenant_roles".into(), Value::Null);
    }
    // Never a hash: the key is there because Cloudify's users carry it.
    u.insert("password_hash".into(), Value::Null);
    u
}

/// A tenant in Cloudify's shape: counts, or with `data` its users in full.
fn tenant_shape(id: i64, name: &str, accounts: &[Account], data: bool) -> Map<String, Value> {
    let key = id.to_string();
    let members: Vec<(&str, &str)> = accounts
        .iter()
        .filter_map(|a| Some((a.username.as_str(), a.tenants.get(&key)?.as_str())))
        .collect();
    let mut t = Map::new();
    t.insert("name".into(), name.into());
    if data {
        let mut users = Map::new();
        let mut direct = Map::new();
        for (username, role) in &members {
            users.insert(
                (*username).into(),
                json!({"tenant-role": role, "roles": [role]}),
            );
            direct.insert((*username).into(), (*role).into());
        }
        t.insert("users".into(), users.into());
        t.insert("groups".into(), json!({}));
        t.insert("user_roles".into(), json!({"direct": direct, "groups": {}}));
    } else {
        t.insert("users".into(), members.len().into());
        t.insert("groups".into(), 0.into());
        t.insert("user_roles".into(), Value::Null);
    }
    t
}

/// The fields `_include` names (none given: all), each one of `fields`, else 400.
fn included(q: &Query, fields: &[&str]) -> Result<Option<Vec<String>>, ApiError> {
    let Some(list) = q.filled("_include") else {
        return Ok(None);
    };
    let names: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = names.iter().find(|n| !fields.contains(&n.as_str())) {
        return Err(ApiError::bad(
            NO_SUCH_FIELD,
            format!(
                "_include names '{bad}', which is not a field: {}",
                fields.join(", ")
            ),
        ));
    }
    Ok(Some(names))
}

/// `item` cut to `include`'s fields.
fn cut(mut item: Map<String, Value>, include: Option<&[String]>) -> Value {
    if let Some(names) = include {
        item.retain(|k, _| names.contains(k));
    }
    item.into()
}

/// Orders two values of one field: null, then booleans, numbers, text; others as equal.
fn order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A list answer: `items` sorted by `_sort`, paged by `_offset` and `_size`, cut to
/// `_include`, with Cloudify's metadata.
fn page(mut items: Vec<Map<String, Value>>, q: &Query, fields: &[&str]) -> Result<Value, ApiError> {
    let include = included(q, fields)?;
    if let Some(sort) = q.filled("_sort") {
        let (field, descending) = match sort.strip_prefix('-') {
            Some(f) => (f, true),
            None => (sort.strip_prefix('+').unwrap_or(sort), false),
        };
        if !fields.contains(&field) {
            return Err(ApiError::bad_parameter(
                "query.invalid",
                "_sort",
                format!(
                    "_sort names '{field}', which is not a field: {} (- before it: descending)",
                    fields.join(", ")
                ),
            ));
        }
        items.sort_by(|a, b| {
            let o = order(
                a.get(field).unwrap_or(&Value::Null),
                b.get(field).unwrap_or(&Value::Null),
            );
            if descending {
                o.reverse()
            } else {
                o
            }
        });
    }
    let total = items.len();
    let offset = q.number("_offset").unwrap_or(0);
    let size = q.number("_size").unwrap_or(PAGE);
    let take = if q.flag("_get_all_results") {
        usize::MAX
    } else {
        usize::try_from(size).unwrap_or(usize::MAX)
    };
    let items: Vec<Value> = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(take)
        .map(|i| cut(i, include.as_deref()))
        .collect();
    Ok(json!({
        "items": items,
        "metadata": {
            "pagination": {"offset": offset, "size": size, "total": total},
            "filtered": null,
        },
    }))
}

// --- reading and writing --------------------------------------------------------------

fn no_user(username: &str) -> ApiError {
    ApiError::not_found(format!(
        "Requested `User` with ID `{username}` was not found"
    ))
}

/// Every account.
async fn all_accounts(app: &Shared) -> Result<Vec<Account>, ApiError> {
    let a = app.clone();
    blocking(move || Ok(Accounts::new(&*a.pool.get()?).list(0, None)?.0)).await
}

/// The account, or 404 in Cloudify's words.
fn existing(accounts: &Accounts<'_>, username: &str) -> Result<Account, ApiError> {
    match accounts.show(username) {
        Ok(a) => Ok(a),
        Err(crate::error::Error::Usage { .. }) => Err(no_user(username)),
        Err(e) => Err(e.into()),
    }
}

/// Runs `change` on the account `username` (404 if none) and answers it after, counts form.
async fn changed(
    app: Shared,
    cfy: &Cfy,
    username: String,
    change: impl FnOnce(&Accounts<'_>, &str) -> Result<(), ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let account = blocking(move || {
        let store = app.pool.get()?;
        let accounts = Accounts::new(&*store);
        existing(&accounts, &username)?;
        change(&accounts, &username)?;
        existing(&accounts, &username)
    })
    .await?;
    Ok(Json(user_shape(cfy, &account, false)).into_response())
}

/// A text field of a body: `None` when absent or null.
fn text(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad("body.invalid", format!("{key} is a string"))),
    }
}

/// A required text field of a body.
fn required(body: &Map<String, Value>, key: &str) -> Result<String, ApiError> {
    text(body, key)?.ok_or_else(|| ApiError::bad("body.invalid", format!("{key} is required")))
}

/// 400 for a key of `body` not in `known`.
fn only(body: &Map<String, Value>, known: &[&str]) -> Result<(), ApiError> {
    match body.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad(
            "body.invalid",
            format!("'{k}' is not taken here: {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

// --- users ----------------------------------------------------------------------------

/// `GET /api/v3.1/users`: every account (sys_admin).
async fn users_list(
    State(app): AppState,
    cfy: Cfy,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::CLOUDIFY_READ)?;
    cfy.admin()?;
    let data = q.flag("_get_data");
    let items = all_accounts(&app)
        .await?
        .iter()
        .map(|a| {
            let mut u = user_shape(&cfy, a, data);
            if !data {
                // As Cloudify's documented list: its count-form items have no such key.
                u.remove("password_hash");
            }
            u
        })
        .collect();
    Ok(Json(page(items, &q, USER_FIELDS)?).into_response())
}

/// One user, in full with `_get_data`, cut to `_include`.
async fn show_user(
    app: Shared,
    cfy: Cfy,
    username: String,
    raw: Option<String>,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::CLOUDIFY_SHOW)?;
    if username != cfy.signed.account.username {
        cfy.admin()?;
    }
    let include = included(&q, USER_FIELDS)?;
    let name = username.clone();
    let account = blocking(move || existing(&Accounts::new(&*app.pool.get()?), &name)).await?;
    let shown = user_shape(&cfy, &account, q.flag("_get_data"));
    Ok(Json(cut(shown, include.as_deref())).into_response())
}

/// `GET /api/v3.1/users/{username}`: a sys_admin reads anyone, an account itself.
async fn user_get(
    State(app): AppState,
    cfy: Cfy,
    Path(username): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    show_user(app, cfy, username, raw).await
}

/// `GET /api/v3.1/user`: the account signed in.
async fn user_self(
    State(app): AppState,
    cfy: Cfy,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let username = cfy.signed.account.username.clone();
    show_user(app, cfy, username, raw).await
}

/// `PUT /api/v3.1/users` with `{"username", "password", "role"}`: 201 and the user.
async fn user_create(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    cfy.admin()?;
    let body = object(&headers, body, app.max_body).await?;
    only(
        &body,
        &[
            "username",
            "password",
            "role",
            "is_prehashed",
            "created_at",
            "first_login_at",
            "last_login_at",
        ],
    )?;
    if body
        .get("is_prehashed")
        .is_some_and(|v| v != &json!(false) && !v.is_null())
    {
        return Err(ApiError::bad(
            "body.invalid",
            "is_prehashed: a password is given in clear (it is hashed here)",
        ));
    }
    if let Some(k) = ["created_at", "first_login_at", "last_login_at"]
        .into_iter()
        .find(|k| body.get(*k).is_some_and(|v| !v.is_null()))
    {
        return Err(ApiError::bad(
            "body.invalid",
            format!("{k} is kept by the server and cannot be given"),
        ));
    }
    let username = required(&body, "username")?;
    let password = required(&body, "password")?;
    let role = text(&body, "role")?.unwrap_or_else(|| "default".into());
    let a = app.clone();
    let account = blocking(move || {
        let store = a.pool.get()?;
        if store.account(&username)?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "account.exists",
                format!("a user named '{username}' exists already"),
            ));
        }
        Ok(Accounts::new(&*store).add(&username, &password, &role, &[])?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(user_shape(&cfy, &account, false))).into_response())
}

/// `POST /api/v3.1/users/{username}` with `{"password"}` and/or `{"role"}`.
async fn user_change(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    Path(username): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    cfy.admin()?;
    let body = object(&headers, body, app.max_body).await?;
    only(&body, &["password", "role", "show_getting_started"])?;
    // Not kept here: the modal of Cloudify's console is never shown, so only false holds.
    if body
        .get("show_getting_started")
        .is_some_and(|v| v != &json!(false) && !v.is_null())
    {
        return Err(ApiError::bad(
            "body.invalid",
            "show_getting_started is always false here (there is no such modal)",
        ));
    }
    let password = text(&body, "password")?;
    let role = text(&body, "role")?;
    if password.is_none() && role.is_none() && !body.contains_key("show_getting_started") {
        return Err(ApiError::bad("body.invalid", "give password or role"));
    }
    // Both checked before either is written: a refused request changes nothing.
    if let Some(r) = &role {
        accounts::check_role(r)?;
    }
    if let Some(p) = &password {
        accounts::check_password(p)?;
    }
    changed(app, &cfy, username, move |accounts, username| {
        if let Some(r) = &role {
            accounts.set_role(username, r)?;
        }
        if let Some(p) = &password {
            accounts.set_password(username, p)?;
        }
        Ok(())
    })
    .await
}

/// `DELETE /api/v3.1/users/{username}`: 204, by `/1.1/accounts`' own delete (an account
/// cannot delete itself).
async fn user_delete(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    cfy.admin()?;
    let (a, name) = (app.clone(), username.clone());
    blocking(move || existing(&Accounts::new(&*a.pool.get()?), &name).map(drop)).await?;
    super::accounts::delete(State(app), cfy.signed, NoParams, Path(username)).await
}

/// `POST /api/v3.1/users/active/{username}` with `{"action": "activate" | "deactivate"}`.
async fn user_active(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    Path(username): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    cfy.admin()?;
    let body = object(&headers, body, app.max_body).await?;
    only(&body, &["action"])?;
    let active = match required(&body, "action")?.as_str() {
        "activate" => true,
        "deactivate" => false,
        other => {
            return Err(ApiError::bad(
                "body.invalid",
                format!("action '{other}': activate or deactivate"),
            ))
        }
    };
    changed(app, &cfy, username, move |accounts, username| {
        Ok(accounts.set_active(username, active)?)
    })
    .await
}

/// `POST /api/v3.1/users/unlock/{username}` (no body).
async fn user_unlock(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    cfy.admin()?;
    changed(app, &cfy, username, |accounts, username| {
        Ok(accounts.unlock(username)?)
    })
    .await
}

// --- tenants --------------------------------------------------------------------------

/// `GET /api/v3.1/tenants`: every entity (sys_admin).
async fn tenants_list(
    State(app): AppState,
    cfy: Cfy,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::CLOUDIFY_READ)?;
    cfy.admin()?;
    let accounts = all_accounts(&app).await?;
    let data = q.flag("_get_data");
    let items = cfy
        .entities
        .iter()
        .map(|(id, name)| tenant_shape(*id, name, &accounts, data))
        .collect();
    Ok(Json(page(items, &q, TENANT_FIELDS)?).into_response())
}

/// One tenant, in full with `_get_data`, cut to `_include`.
async fn show_tenant(
    app: Shared,
    cfy: Cfy,
    name: &str,
    raw: Option<String>,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::CLOUDIFY_SHOW)?;
    cfy.admin()?;
    let include = included(&q, TENANT_FIELDS)?;
    let (id, name) = cfy.tenant(name)?;
    let accounts = all_accounts(&app).await?;
    let shown = tenant_shape(id, &name, &accounts, q.flag("_get_data"));
    Ok(Json(cut(shown, include.as_deref())).into_response())
}

/// `GET /api/v3.1/tenants/{name}`.
async fn tenant_get(
    State(app): AppState,
    cfy: Cfy,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    show_tenant(app, cfy, &name, raw).await
}

/// `GET /api/v3.1/tenants/users`: an entity may be named so through `/1.1/entities`.
async fn tenant_named_users(
    State(app): AppState,
    cfy: Cfy,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    show_tenant(app, cfy, "users", raw).await
}

fn reserved(name: &str) -> ApiError {
    ApiError::bad(
        "name.invalid",
        format!(
            "'{name}' cannot name a tenant: {} are routes",
            RESERVED.join(" and ")
        ),
    )
}

/// `POST /api/v3.1/tenants/users`: a name kept for a route.
async fn reserved_create(cfy: Cfy, _: NoParams) -> Result<Response, ApiError> {
    cfy.admin()?;
    Err(reserved("users"))
}

/// `POST /api/v3.1/tenants/{name}`: a new entity of that name; 201 and the tenant.
async fn tenant_create(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    cfy.admin()?;
    // Cloudify's client sends {"rabbitmq_password": ""}, older ones nothing.
    let bytes = super::body::bytes(body, app.max_body).await?;
    if !bytes.is_empty() {
        let body = object(&headers, Body::from(bytes), app.max_body).await?;
        only(&body, &["rabbitmq_password"])?;
        if text(&body, "rabbitmq_password")?.is_some_and(|p| !p.is_empty()) {
            return Err(ApiError::bad(
                "body.invalid",
                "rabbitmq_password: there is no message broker here; leave it empty",
            ));
        }
    }
    if RESERVED.contains(&name.as_str()) {
        return Err(reserved(&name));
    }
    let (a, n) = (app.clone(), name.clone());
    let id = blocking(move || {
        Reference::add_entity(&*a.pool.get()?, &n, None, None).map_err(super::entities::refused)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(tenant_shape(id, &name, &[], false)),
    )
        .into_response())
}

/// `DELETE /api/v3.1/tenants/{name}`: 204; 409 while anything refers to the entity.
async fn tenant_delete(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    cfy.admin()?;
    let (id, name) = cfy.tenant(&name)?;
    blocking(move || {
        Reference::delete_entity(&*app.pool.get()?, id).map_err(|problem| match problem {
            EntityProblem::InUse(_) => ApiError::new(
                StatusCode::CONFLICT,
                "entity.in_use",
                format!(
                    "tenant '{name}' (entity {id}) still has users, contexts, call permissions \
                     or accounts: remove them before deleting it"
                ),
            ),
            other => super::entities::refused(other),
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What a membership request names: the account, the entity and its name, the role.
struct Member {
    username: String,
    entity: (i64, String),
    role: Option<String>,
}

/// Reads `{"username", "tenant_name"[, "role"]}`; the tenant must exist (404) and the
/// role be a tenant role (400 naming them).
async fn member(
    app: &Shared,
    cfy: &Cfy,
    headers: &HeaderMap,
    body: Body,
    with_role: bool,
) -> Result<Member, ApiError> {
    cfy.admin()?;
    let body = object(headers, body, app.max_body).await?;
    let keys: &[&str] = if with_role {
        &["username", "tenant_name", "role"]
    } else {
        &["username", "tenant_name"]
    };
    only(&body, keys)?;
    let username = required(&body, "username")?;
    let entity = cfy.tenant(&required(&body, "tenant_name")?)?;
    let role = if with_role {
        let role = required(&body, "role")?;
        // The domain reads tenant roles; `none` (take the role away) is not one to give.
        match accounts::parse_tenant(&format!("{}={role}", entity.0)) {
            Ok((_, Some(r))) => Some(r),
            _ => {
                return Err(ApiError::bad(
                    "role.invalid",
                    format!(
                        "'{role}' is not a tenant role: {}",
                        accounts::TENANT_ROLES.join(", ")
                    ),
                ))
            }
        }
    } else {
        None
    };
    Ok(Member {
        username,
        entity,
        role,
    })
}

/// Gives, changes or takes (`role` None) `m`'s tenant role; `was` says whether the
/// account must hold one already (409 or 404 otherwise). The tenant after, counts form.
async fn set_member(app: &Shared, m: Member, was: bool) -> Result<Map<String, Value>, ApiError> {
    let a = app.clone();
    let (id, name) = m.entity.clone();
    let tenant = name.clone();
    blocking(move || {
        let store = a.pool.get()?;
        let accounts = Accounts::new(&*store);
        let account = existing(&accounts, &m.username)?;
        let holds = account.tenants.contains_key(&id.to_string());
        if holds && !was {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "tenant.member",
                format!(
                    "user '{}' is already in tenant '{tenant}': change the role with PATCH",
                    m.username
                ),
            ));
        }
        if !holds && was {
            return Err(ApiError::not_found(format!(
                "user '{}' is not in tenant '{tenant}'",
                m.username
            )));
        }
        Ok(accounts.set_tenant(&m.username, (id, m.role))?)
    })
    .await?;
    let accounts = all_accounts(app).await?;
    Ok(tenant_shape(id, &name, &accounts, false))
}

/// `PUT /api/v3.1/tenants/users` with `{"username", "tenant_name", "role"}`: 200 and the
/// tenant; 409 if the user is in the tenant already.
async fn member_add(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let m = member(&app, &cfy, &headers, body, true).await?;
    Ok(Json(set_member(&app, m, false).await?).into_response())
}

/// `PATCH /api/v3.1/tenants/users` with `{"username", "tenant_name", "role"}`: 200 and
/// the tenant; 404 if the user is not in the tenant.
async fn member_change(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let m = member(&app, &cfy, &headers, body, true).await?;
    Ok(Json(set_member(&app, m, true).await?).into_response())
}

/// `DELETE /api/v3.1/tenants/users` with `{"username", "tenant_name"}`: 204; 404 if the
/// user is not in the tenant.
async fn member_remove(
    State(app): AppState,
    cfy: Cfy,
    _: NoParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let m = member(&app, &cfy, &headers, body, false).await?;
    set_member(&app, m, true).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_reworded_with_the_code_of_their_status() {
        let ucsv = |code: &str| {
            json!({"errors": [{"code": code, "message": "m", "help": "h"}]}).to_string()
        };
        for (status, code) in [
            (400, "bad_parameters_error"),
            (401, "unauthorized_error"),
            (403, "forbidden_error"),
            (404, "not_found_error"),
            (405, "method_not_allowed_error"),
            (409, "conflict_error"),
            (413, "bad_parameters_error"),
            (500, "internal_server_error"),
        ] {
            let status = StatusCode::from_u16(status).unwrap();
            let (got, message) = reworded(status, ucsv("x").as_bytes());
            assert_eq!(got, code, "{status}");
            assert_eq!(message, "m; h");
        }
        let (code, _) = reworded(StatusCode::BAD_REQUEST, ucsv(NO_SUCH_FIELD).as_bytes());
        assert_eq!(code, "no_such_include_field_error");
        // Not ucsv's JSON: the text, else the status's reason.
        assert_eq!(
            reworded(StatusCode::BAD_REQUEST, b"Invalid URL").1,
            "Invalid URL"
        );
        assert_eq!(reworded(StatusCode::NOT_FOUND, b"").1, "Not Found");
    }

    #[test]
    fn a_header_outside_utf8_is_read_as_latin1() {
        assert_eq!(header_text(b" lyon "), "lyon");
        assert_eq!(header_text("Génève".as_bytes()), "Génève");
        assert_eq!(header_text(b"G\xe9n\xe8ve"), "Génève");
    }

    #[test]
    fn values_order_null_first_then_by_kind() {
        assert_eq!(order(&json!(null), &json!("a")), Ordering::Less);
        assert_eq!(order(&json!("b"), &json!("a")), Ordering::Greater);
        assert_eq!(order(&json!(false), &json!(true)), Ordering::Less);
        assert_eq!(order(&json!(2), &json!(10)), Ordering::Less);
    }
}
