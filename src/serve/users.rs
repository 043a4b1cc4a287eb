//! `/1.1/users` and `/1.1/users/{id or uuid}`: list, show, create, change and delete one
//! user, through the same domain and pipeline as `ucsv user` (a created or changed user is
//! a one-row import or update, with the same rules and error codes).

use super::auth::Caller;
use super::body;
use super::{blocking, ApiError, AppState};
use crate::columns::{self, Col};
use crate::domain::accounts::Action;
use crate::domain::ops::DeleteOptions;
use crate::domain::Domain;
use crate::error::RowError;
use crate::pipeline::{self, ApplyOptions, Mode};
use crate::read::Source;
use crate::sink::users::{json_object, UserPrinter};
use crate::sink::Sink;
use crate::store::reference::Reference;
use crate::store::tx::{Filter, Order, Page, UserKey};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The query of a request.
pub type Params = Query<HashMap<String, String>>;

/// A true/false query parameter (absent: false).
pub fn flag(q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("" | "false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(_) => Err(ApiError::bad(
            "query.invalid",
            format!("{name} is true or false"),
        )),
    }
}

/// A whole-number query parameter.
pub fn number(q: &HashMap<String, String>, name: &str) -> Result<Option<u64>, ApiError> {
    q.get(name)
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad(
                    "query.invalid",
                    format!("{name} is a whole number, not '{v}'"),
                )
            })
        })
        .transpose()
}

/// The user a path names: an id (digits) or a uuid; anything else names nobody (404).
fn user_key(text: &str) -> Result<UserKey, ApiError> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(id) = text.parse() {
            return Ok(UserKey::Id(id));
        }
    }
    uuid::Uuid::parse_str(text)
        .map(|u| UserKey::Uuid(u.hyphenated().to_string()))
        .map_err(|_| nobody())
}

fn nobody() -> ApiError {
    ApiError::not_found("no user has this id or uuid in the entity")
}

/// 415 unless the body is JSON.
fn json_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "the body is a JSON object: send Content-Type: application/json",
        ))
    }
}

/// A JSON object body.
pub async fn object(
    headers: &HeaderMap,
    body: Body,
    max: u64,
) -> Result<Map<String, Value>, ApiError> {
    json_type(headers)?;
    let bytes = body::bytes(body, max).await?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad("body.invalid", "the body is a JSON object")),
        Err(e) => Err(ApiError::bad(
            "body.invalid",
            format!("the body is not JSON: {e}"),
        )),
    }
}

/// One row from a JSON object whose keys are import columns: text as is, numbers in
/// decimal, booleans as 1/0, null as an empty cell.
fn row_of(object: &Map<String, Value>) -> Result<Vec<(Col, String)>, ApiError> {
    let mut row = Vec::new();
    let mut errors = Vec::new();
    for (key, value) in object {
        let Some(col) = columns::lookup(key) else {
            let mut message = format!("'{key}' is not a column");
            if let Some(c) = columns::closest(key) {
                message += &format!(" (did you mean '{c}'?)");
            }
            errors.push(json!({"column": key, "code": "column.unknown", "message": message}));
            continue;
        };
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => u8::from(*b).to_string(),
            _ => {
                errors.push(
                    json!({"column": col.name(), "code": format!("{}.invalid", col.name()),
                    "message": format!("{} is text, a number, true/false or null", col.name())}),
                );
                continue;
            }
        };
        row.push((col, text));
    }
    if errors.is_empty() {
        Ok(row)
    } else {
        Err(ApiError::with_body(
            StatusCode::BAD_REQUEST,
            json!({ "errors": errors }),
        ))
    }
}

/// What a one-row run did.
#[derive(Default)]
struct OneRow {
    user_id: Option<i64>,
    errors: Vec<RowError>,
}

impl Sink for OneRow {
    fn created(&mut self, created: &crate::domain::Created) -> crate::error::Result<()> {
        self.user_id = Some(created.user_id);
        Ok(())
    }
    fn updated(&mut self, updated: &crate::domain::update::Updated) -> crate::error::Result<()> {
        self.user_id = Some(updated.user_id);
        Ok(())
    }
    fn rejected(&mut self, row: &crate::report::Rejected) -> crate::error::Result<()> {
        self.errors.extend(row.errors.iter().cloned());
        Ok(())
    }
}

/// Applies one row in the caller's entity; 400 with the row's errors if it is refused.
fn apply_row(
    store: &mut crate::store::Store,
    mode: Mode,
    row: &[(Col, String)],
    entity: i64,
) -> Result<Option<i64>, ApiError> {
    let names: Vec<&str> = row.iter().map(|(c, _)| c.name()).collect();
    let values: Vec<String> = row.iter().map(|(_, v)| v.clone()).collect();
    let mut source = Source::from_rows("request".into(), &names, [values])?;
    let opts = ApplyOptions {
        command: if mode == Mode::Import {
            "create"
        } else {
            "change"
        },
        mode,
        dry_run: false,
        keep_going: false,
        entity: Some(entity),
        confine: true,
        progress: crate::progress::Progress::new(false, None, false),
    };
    let mut sink = OneRow::default();
    pipeline::run(store, &mut source, &opts, &mut sink)?;
    if sink.errors.is_empty() {
        Ok(sink.user_id)
    } else {
        let errors: Vec<Value> = sink
            .errors
            .iter()
            .map(|e| json!({"column": e.column, "code": e.code, "message": e.message}))
            .collect();
        Err(ApiError::with_body(
            StatusCode::BAD_REQUEST,
            json!({ "errors": errors }),
        ))
    }
}

/// The user as typed JSON (every exported column), if it is in the entity.
fn shown(
    store: &mut crate::store::Store,
    key: &UserKey,
    entity: i64,
) -> Result<Option<(String, String)>, ApiError> {
    let reference = Reference::load(store)?;
    let domain = Domain::new(store.read()?, &reference, Some(entity));
    let Some(user) = domain.show(key)? else {
        return Ok(None);
    };
    let cols: Vec<Col> = columns::exported().collect();
    let cells: Vec<&str> = cols.iter().map(|c| user.get(*c)).collect();
    Ok(Some((
        user.get(Col::Uuid).to_string(),
        json_object(&cols, &cells),
    )))
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `GET /1.1/users?search&order&direction&limit&offset`: `{"items": [...], "total": N}`,
/// streamed.
pub async fn list(
    State(app): AppState,
    caller: Caller,
    Query(q): Params,
) -> Result<Response, ApiError> {
    caller.allow(Action::Read)?;
    let order = match q.get("order").filter(|o| !o.is_empty()) {
        None => None,
        Some(name) => Some(
            columns::lookup(name)
                .filter(|c| c.def().is_exported())
                .ok_or_else(|| {
                    ApiError::bad("query.invalid", format!("order: '{name}' is not a column"))
                })?,
        ),
    };
    let descending = match q.get("direction").map(String::as_str) {
        None | Some("" | "asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::bad("query.invalid", "direction is asc or desc")),
    };
    let page = Page {
        limit: number(&q, "limit")?,
        offset: number(&q, "offset")?.unwrap_or(0),
    };
    let filter = Filter {
        entity: Some(caller.entity),
        search: q.get("search").filter(|s| !s.is_empty()).cloned(),
    };
    let readers = app.readers.clone();
    body::streamed("application/json", Some(readers), move |ready, out| {
        let store = app.pool.get()?;
        let total = store.count_listed(&filter)?;
        ready();
        let cols: Vec<Col> = columns::exported().collect();
        let mut printer = UserPrinter::new(out, crate::cli::UserFormat::Json, cols.clone(), true);
        printer.begin()?;
        store.each_listed(
            &filter,
            Order {
                col: order,
                descending,
            },
            page,
            &cols,
            |_, cells| printer.user(cells),
        )?;
        printer.end(Some(total))?;
        Ok(())
    })
    .await
}

/// `GET /1.1/users/{id or uuid}`.
pub async fn show(
    State(app): AppState,
    caller: Caller,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    caller.allow(Action::Read)?;
    let key = user_key(&key)?;
    let entity = caller.entity;
    let (_, user) = app
        .clone()
        .read(move || shown(&mut *app.pool.get()?, &key, entity))
        .await?
        .ok_or_else(nobody)?;
    Ok(json_response(StatusCode::OK, user))
}

/// `POST /1.1/users`: a JSON object whose keys are import columns; 201 with the user.
pub async fn create(
    State(app): AppState,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.allow(Action::Write)?;
    let row = row_of(&object(&headers, body, app.max_body).await?)?;
    let entity = caller.entity;
    let user = blocking(move || {
        let mut store = app.pool.get()?;
        let id = apply_row(&mut store, Mode::Import, &row, entity)?
            .ok_or_else(|| ApiError::internal("the user was not created"))?;
        shown(&mut store, &UserKey::Id(id), entity)
    })
    .await?
    .ok_or_else(|| ApiError::internal("the user created cannot be read back"))?;
    Ok(json_response(StatusCode::CREATED, user.1))
}

/// `PUT /1.1/users/{id or uuid}`: the given keys change (null unsets), the others stay.
pub async fn change(
    State(app): AppState,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.allow(Action::Write)?;
    let key = user_key(&key)?;
    let mut row = row_of(&object(&headers, body, app.max_body).await?)?;
    let entity = caller.entity;
    blocking(move || {
        let mut store = app.pool.get()?;
        let (uuid, _) = shown(&mut store, &key, entity)?.ok_or_else(nobody)?;
        match row.iter().position(|(c, _)| *c == Col::Uuid) {
            Some(i) if row[i].1 == uuid => {
                row.remove(i);
            }
            Some(_) => {
                return Err(ApiError::bad(
                    "uuid.immutable",
                    "a user's uuid cannot change",
                ))
            }
            None => {}
        }
        row.insert(0, (Col::Uuid, uuid));
        apply_row(&mut store, Mode::Update, &row, entity)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /1.1/users/{id or uuid}?delete_voicemail=true`: 412 for a user who alone has
/// a voicemail box, unless `delete_voicemail`.
pub async fn delete(
    State(app): AppState,
    caller: Caller,
    Path(key): Path<String>,
    Query(q): Params,
) -> Result<Response, ApiError> {
    caller.allow(Action::Delete)?;
    let key = user_key(&key)?;
    let opts = DeleteOptions {
        delete_voicemail: flag(&q, "delete_voicemail")?,
    };
    let entity = caller.entity;
    blocking(move || {
        let mut store = app.pool.get()?;
        let reference = Reference::load(&store)?;
        let mut domain = Domain::new(store.begin()?, &reference, Some(entity));
        match domain.delete(&key, opts)? {
            Ok(_) => {
                domain.commit()?;
                Ok(())
            }
            Err(e) if e.code == "user.owns_voicemail" => Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                &e.code,
                "Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user.",
            )),
            Err(_) => Err(nobody()),
        }
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
