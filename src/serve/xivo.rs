//! `/1.0/users`: the XiVO users REST API of seed 002, field for field and status for
//! status, as a thin door over the same users as `/1.1` (`super::users`): this module only
//! renames fields and shapes answers; every rule is the import's.
//!
//! Fields: `firstname`, `lastname`, `username`, `password` (written, never read),
//! `enableclient` (0/1: `cti_profile_enabled`), `musiconhold`, `outcallerid`,
//! `mobilephonenumber`, `userfield`, `timezone`, `language`, `description`,
//! `ctiprofileid` (the CTI profile's id), `entityid`, and `line` (`{"number": exten}`,
//! with an optional `context` when written; a user without a line shows `null`). Read only: `id`,
//! `callerid` (`"firstname lastname"`, as XiVO shows it), `voicemailid` and `agentid`
//! (ucsv has no agents: always null); they are accepted and ignored when a client sends a
//! user back. Answers: a list is `{"total", "items": [{"id", "firstname", "lastname"}]}`;
//! create 201 without a body (its `Location` names the user); change and delete 200
//! without a body; 404 with an empty body; 400 with XiVO's list of messages, the first
//! `Incorrect parameters sent: a, b`; 412 for a user who alone has a voicemail box, unless
//! `?deleteVoicemail` (no value needed).

use super::auth::Caller;
use super::params::{self, Query};
use super::users::{self, object, Refusal, Stored};
use super::{blocking, ApiError, AppState};
use crate::columns::Col;
use crate::domain::accounts::Action;
use crate::domain::ops::DeleteOptions;
use crate::domain::port::{Filter, Order, Page, UserKey};
use crate::error::RowError;
use crate::store::reference::Reference;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

/// The routes of `/1.0/users`.
pub fn routes() -> Router<super::Shared> {
    Router::new()
        .route("/1.0/users", get(list).post(create))
        .route("/1.0/users/{id}", get(show).put(change).delete(delete))
}

/// The text fields of seed 002 and the import column each is.
const FIELDS: [(&str, Col); 11] = [
    ("firstname", Col::Firstname),
    ("lastname", Col::Lastname),
    ("username", Col::Username),
    ("password", Col::Password),
    ("musiconhold", Col::MusicOnHold),
    ("outcallerid", Col::OutgoingCallerId),
    ("mobilephonenumber", Col::MobilePhoneNumber),
    ("userfield", Col::Userfield),
    ("timezone", Col::Timezone),
    ("language", Col::Language),
    ("description", Col::Description),
];

/// The read-only fields, ignored when a client sends a user back.
const READ_ONLY: [&str; 4] = ["id", "callerid", "voicemailid", "agentid"];

/// A refusal in XiVO's shape: a JSON list of messages.
fn messages(status: StatusCode, list: Vec<String>) -> Response {
    (status, axum::Json(list)).into_response()
}

/// 400: `Incorrect parameters sent: a, b`, then what is wrong with each.
fn incorrect(fields: &[String], details: Vec<String>) -> Response {
    let mut list = vec![format!("Incorrect parameters sent: {}", fields.join(", "))];
    list.extend(details);
    messages(StatusCode::BAD_REQUEST, list)
}

/// 404 with an empty body ("empty", seed 002).
fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// The XiVO field a column's error is about.
fn field_of(column: Option<&str>) -> String {
    let Some(column) = column else {
        return "user".into();
    };
    if let Some((f, _)) = FIELDS.iter().find(|(_, c)| c.name() == column) {
        return (*f).into();
    }
    match column {
        "cti_profile_enabled" => "enableclient",
        "cti_profile_name" => "ctiprofileid",
        "entity_id" => "entityid",
        "exten" | "context" | "line_protocol" | "sip_username" | "sip_secret"
        | "provisioning_code" => "line",
        other => other,
    }
    .into()
}

/// A refusal of the shared users code, in XiVO's shape.
fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::NotFound => not_found(),
        Refusal::Rows(errors) => rows(&errors),
        Refusal::OwnsVoicemail => messages(
            StatusCode::PRECONDITION_FAILED,
            vec![users::OWNS_VOICEMAIL.to_string()],
        ),
        Refusal::Api(e) => api(e),
    }
}

/// A row's errors as XiVO's 400.
fn rows(errors: &[RowError]) -> Response {
    let mut fields: Vec<String> = Vec::new();
    for e in errors {
        let f = field_of(e.column);
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    let details = errors
        .iter()
        .map(|e| format!("{}: {}", field_of(e.column), e.message))
        .collect();
    incorrect(&fields, details)
}

/// Any other refusal: its status, its messages as XiVO's list.
fn api(e: ApiError) -> Response {
    if e.status == StatusCode::UNAUTHORIZED {
        return e.into_response();
    }
    let list = e.body["errors"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|i| i["message"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    messages(e.status, list)
}

/// A user's text in a field (empty: `""`, as XiVO shows an unset text).
fn text(user: &Stored, col: Col) -> Value {
    Value::String(user.get(col).to_string())
}

/// A user in seed 002's properties.
fn shown(user: &Stored, reference: &Reference) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), user.id.into());
    for (f, col) in FIELDS {
        if col != Col::Password {
            o.insert(f.into(), text(user, col));
        }
    }
    let names = [user.get(Col::Firstname), user.get(Col::Lastname)];
    let callerid = names
        .iter()
        .filter(|n| !n.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    o.insert("callerid".into(), callerid.into());
    o.insert(
        "enableclient".into(),
        u8::from(user.get(Col::CtiProfileEnabled) == "1").into(),
    );
    let profile = reference
        .cti_profiles
        .get(user.get(Col::CtiProfileName))
        .copied();
    o.insert("ctiprofileid".into(), profile.into());
    o.insert("voicemailid".into(), user.voicemail_id.into());
    o.insert("agentid".into(), Value::Null);
    o.insert("entityid".into(), user.entity.into());
    let line = match user.get(Col::Exten) {
        "" if user.get(Col::LineProtocol).is_empty() => Value::Null,
        exten => json!({"number": exten}),
    };
    o.insert("line".into(), line);
    Value::Object(o)
}

/// Incorrect parameters: the fields, and what is wrong with each.
struct Incorrect(Vec<String>, Vec<String>);

/// The import row a body makes. `user` is the user changed (none: a new one). Unknown
/// fields and values of the wrong type are XiVO's "incorrect parameters".
fn row_of(
    body: &Map<String, Value>,
    reference: &Reference,
    user: Option<&Stored>,
    entity: Option<i64>,
) -> Result<Vec<(Col, String)>, Incorrect> {
    let mut row = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    let mut details = Vec::new();
    let mut wrong = |field: &str, why: &str| {
        bad.push(field.to_string());
        details.push(format!("{field}: {why}"));
    };
    for (key, value) in body {
        if let Some((_, col)) = FIELDS.iter().find(|(f, _)| f == key) {
            match value {
                Value::Null => row.push((*col, String::new())),
                Value::String(s) => row.push((*col, s.clone())),
                Value::Number(n) if *col != Col::Password => row.push((*col, n.to_string())),
                _ => wrong(key, "is a string or null"),
            }
            continue;
        }
        match key.as_str() {
            k if READ_ONLY.contains(&k) => {}
            "enableclient" => match value {
                Value::Number(n) if n.as_u64().is_some_and(|n| n <= 1) => {
                    row.push((Col::CtiProfileEnabled, n.to_string()))
                }
                Value::Bool(b) => row.push((Col::CtiProfileEnabled, u8::from(*b).to_string())),
                Value::Null => row.push((Col::CtiProfileEnabled, String::new())),
                _ => wrong(key, "is 0 or 1"),
            },
            "entityid" => match value {
                Value::Number(n) if n.as_i64().is_some() => {
                    row.push((Col::EntityId, n.to_string()))
                }
                Value::Null => {}
                _ => wrong(key, "is the id of an entity"),
            },
            "ctiprofileid" => match value {
                Value::Null => row.push((Col::CtiProfileName, String::new())),
                Value::Number(n) => {
                    match reference
                        .cti_profiles
                        .iter()
                        .find(|(_, id)| Some(**id) == n.as_i64())
                    {
                        Some((name, _)) => row.push((Col::CtiProfileName, name.clone())),
                        None => wrong(key, "names no CTI profile"),
                    }
                }
                _ => wrong(key, "is the id of a CTI profile"),
            },
            "line" => match value {
                Value::Null if user.is_none_or(|u| u.get(Col::LineProtocol).is_empty()) => {}
                Value::Object(line) => {
                    let number = match line.get("number") {
                        Some(Value::String(n)) => Some(n.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        None => None,
                        _ => {
                            wrong(key, "line.number is the line's extension");
                            continue;
                        }
                    };
                    if line
                        .keys()
                        .any(|k| !["number", "context"].contains(&k.as_str()))
                    {
                        wrong(key, "a line is {\"number\": ..., \"context\": ...}");
                        continue;
                    }
                    let given = line.get("context").and_then(Value::as_str);
                    let has_line = user.is_some_and(|u| !u.get(Col::LineProtocol).is_empty());
                    if let Some(n) = number {
                        row.push((Col::Exten, n));
                    }
                    if let Some(c) = given {
                        row.push((Col::Context, c.to_string()));
                    } else if !has_line {
                        let entity = user.map(|u| u.entity).or(entity);
                        match reference.dn_context(None, entity) {
                            Ok(c) => row.push((Col::Context, c)),
                            Err(why) => wrong(key, &why),
                        }
                    }
                    if !has_line {
                        row.push((Col::LineProtocol, "sip".into()));
                    }
                }
                _ => wrong(
                    key,
                    "a line cannot be removed here; a line is {\"number\": ...}",
                ),
            },
            _ => wrong(key, "is not a field of a user"),
        }
    }
    if bad.is_empty() {
        Ok(row)
    } else {
        Err(Incorrect(bad, details))
    }
}

/// `GET /1.0/users/`: `{"total", "items": [{"id", "firstname", "lastname"}]}`.
pub async fn list(
    State(app): AppState,
    caller: Result<Caller, ApiError>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (caller, q) = match admitted(caller, raw.as_deref(), params::XIVO_LIST, Action::Read) {
        Ok(admitted) => admitted,
        Err(e) => return api(e),
    };
    let run = async {
        let filter = Filter {
            entity: caller.entity,
            search: q.filled("search").map(str::to_string),
        };
        let page = Page {
            limit: q.number("limit"),
            offset: q.number("offset").unwrap_or(0),
        };
        let a = app.clone();
        app.read(move || {
            let store = a.pool.get()?;
            let total = store.count_listed(&filter)?;
            let mut items = Vec::new();
            let cols = [Col::Firstname, Col::Lastname];
            store.each_listed(&filter, Order::default(), page, &cols, |id, cells| {
                let text = |i: usize| String::from_utf8_lossy(&cells[i]).into_owned();
                items.push(json!({"id": id, "firstname": text(0), "lastname": text(1)}));
                Ok(())
            })?;
            Ok(json!({"total": total, "items": items}))
        })
        .await
    };
    match run.await {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => api(e),
    }
}

/// The caller signed in, its query read against `params` and its role checked for
/// `action` (a refusal is worded in XiVO's shape by [`api`]).
fn admitted(
    caller: Result<Caller, ApiError>,
    raw: Option<&str>,
    params: &[params::Param],
    action: Action,
) -> Result<(Caller, Query), ApiError> {
    let caller = caller?;
    let q = Query::parse(raw, params)?;
    caller.allow(action)?;
    Ok((caller, q))
}

/// The user of a path: an id (or a uuid).
fn key_of(id: &str) -> Option<UserKey> {
    users::user_key(id).ok()
}

/// `GET /1.0/users/{id}`.
pub async fn show(
    State(app): AppState,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let caller = match admitted(caller, raw.as_deref(), params::NONE, Action::Read) {
        Ok((caller, _)) => caller,
        Err(e) => return api(e),
    };
    let Some(key) = key_of(&id) else {
        return not_found();
    };
    let entity = caller.entity;
    let a = app.clone();
    let read = app
        .read_one(move || {
            let mut store = a.pool.get()?;
            let reference = Reference::load(&store)?;
            Ok(users::read_user(&mut store, &key, entity)?.map(|u| shown(&u, &reference)))
        })
        .await;
    match read {
        Ok(Some(user)) => axum::Json(user).into_response(),
        Ok(None) => not_found(),
        Err(e) => api(e),
    }
}

/// `POST /1.0/users/`: 201 without a body; `Location` names the new user.
pub async fn create(
    State(app): AppState,
    caller: Result<Caller, ApiError>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match admitted(caller, raw.as_deref(), params::NONE, Action::Write) {
        Ok((caller, _)) => caller,
        Err(e) => return api(e),
    };
    let body = match object(&headers, body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return api(e),
    };
    let entity = caller.entity;
    let origin = caller.origin("POST /1.0/users");
    let made = blocking(move || {
        let mut store = app.pool.get()?;
        let reference = Reference::load(&store)?;
        let row = match row_of(&body, &reference, None, entity) {
            Ok(row) => row,
            Err(Incorrect(fields, details)) => return Ok(Err(incorrect(&fields, details))),
        };
        Ok(users::create_user(&mut store, &row, entity, &origin).map_err(refused))
    })
    .await;
    match made {
        Ok(Ok(id)) => {
            let mut response = StatusCode::CREATED.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("/1.0/users/{id}")) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            response
        }
        Ok(Err(response)) => response,
        Err(e) => api(e),
    }
}

/// `PUT /1.0/users/{id}`: the given fields change; 200 without a body. A changed name
/// renames the voicemail box named after the user (the update's rule).
pub async fn change(
    State(app): AppState,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match admitted(caller, raw.as_deref(), params::NONE, Action::Write) {
        Ok((caller, _)) => caller,
        Err(e) => return api(e),
    };
    let Some(key) = key_of(&id) else {
        return not_found();
    };
    let body = match object(&headers, body, app.max_body).await {
        Ok(b) => b,
        Err(e) => return api(e),
    };
    let entity = caller.entity;
    let origin = caller.origin("PUT /1.0/users");
    let changed = blocking(move || {
        let mut store = app.pool.get()?;
        let reference = Reference::load(&store)?;
        let Some(user) = users::read_user(&mut store, &key, entity)? else {
            return Ok(Err(not_found()));
        };
        let row = match row_of(&body, &reference, Some(&user), entity) {
            Ok(row) => row,
            Err(Incorrect(fields, details)) => return Ok(Err(incorrect(&fields, details))),
        };
        Ok(users::change_user(&mut store, &key, row, entity, &origin)
            .map(|_| ())
            .map_err(refused))
    })
    .await;
    match changed {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(response)) => response,
        Err(e) => api(e),
    }
}

/// `DELETE /1.0/users/{id}?deleteVoicemail`: 200; 412 for a user who alone has a
/// voicemail box, unless `deleteVoicemail` is present.
pub async fn delete(
    State(app): AppState,
    caller: Result<Caller, ApiError>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let (caller, q) = match admitted(caller, raw.as_deref(), params::XIVO_DELETE, Action::Delete) {
        Ok(admitted) => admitted,
        Err(e) => return api(e),
    };
    let Some(key) = key_of(&id) else {
        return not_found();
    };
    let opts = DeleteOptions {
        delete_voicemail: q.flag("deleteVoicemail"),
    };
    let entity = caller.entity;
    let origin = caller.origin("DELETE /1.0/users");
    let deleted = blocking(move || {
        Ok(users::remove(&mut *app.pool.get()?, &key, entity, opts, &origin).map_err(refused))
    })
    .await;
    match deleted {
        Ok(Ok(())) => StatusCode::OK.into_response(),
        Ok(Err(response)) => response,
        Err(e) => api(e),
    }
}
