//! `/1.1/users` and `/1.1/users/{id or uuid}`: list, show, create, change and delete one
//! user, through the same domain and pipeline as `ucsv user` (a created or changed user is
//! a one-row import or update, with the same rules and error codes).
//!
//! The functions below the routes ([`read_user`], [`create_user`], [`change_user`], [`remove`],
//! [`visible_columns`]) are what the other dialects (`/1.0/users`, `/sapi/users`) are
//! built on, so that a rule is never written twice: a dialect only renames fields and
//! shapes answers. A user shown over HTTP never carries `password_hash`, and carries the
//! other secret columns (`sip_secret`, ...) only when asked with `?with_secrets` by an
//! account that may write in the user's entity.

use super::auth::{Caller, Origin};
use super::body;
use super::params::{self, Query};
use super::{blocking, ApiError, AppState};
use crate::columns::{self, Col};
use crate::domain::accounts::Action;
use crate::domain::ops::DeleteOptions;
use crate::domain::port::{Filter, Order, Page, UserKey};
use crate::domain::Domain;
use crate::error::RowError;
use crate::pipeline::{self, ApplyOptions, Mode};
use crate::read::Source;
use crate::sink::users::{json_object, UserPrinter};
use crate::sink::Sink;
use crate::store::reference::Reference;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// The user a path names: an id (digits) or a uuid; anything else names nobody (404).
pub(super) fn user_key(text: &str) -> Result<UserKey, ApiError> {
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

/// Why a one-user operation was refused (each dialect words it in its own shape).
#[derive(Debug)]
pub enum Refusal {
    /// No user has the key in the entities the caller works in.
    NotFound,
    /// The row's errors (a one-row import or update refused).
    Rows(Vec<RowError>),
    /// A delete refused: the user alone has a voicemail box.
    OwnsVoicemail,
    /// Any other failure, already an answer.
    Api(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<crate::error::Error> for Refusal {
    fn from(e: crate::error::Error) -> Self {
        Refusal::Api(e.into())
    }
}

/// The message of a delete refused for a voicemail box (seed 002's words).
pub const OWNS_VOICEMAIL: &str =
    "Cannot remove a user with a voicemail. Delete the voicemail or dissociate it from the user.";

impl Refusal {
    /// The answer of the `/1.1` routes.
    pub fn wazo(self) -> ApiError {
        match self {
            Refusal::NotFound => nobody(),
            Refusal::Rows(errors) => rows_refused(&errors),
            Refusal::OwnsVoicemail => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "user.owns_voicemail",
                OWNS_VOICEMAIL,
            ),
            Refusal::Api(e) => e,
        }
    }
}

/// 400 with a row's errors, `{"errors": [{"column", "code", "message"}]}`.
fn rows_refused(errors: &[RowError]) -> ApiError {
    let errors: Vec<Value> = errors
        .iter()
        .map(|e| json!({"column": e.column, "code": e.code, "message": e.message}))
        .collect();
    ApiError::with_body(StatusCode::BAD_REQUEST, json!({ "errors": errors }))
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

/// Applies one row (import: create; update: the row's first cell is the uuid) in the
/// caller's entity (`None`: the row's own, a sys_admin's choice); the user's id (`None`:
/// an update that changed nothing).
fn apply(
    store: &mut crate::store::Store,
    mode: Mode,
    row: &[(Col, String)],
    entity: Option<i64>,
    origin: &Origin,
) -> Result<Option<i64>, Refusal> {
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
        history: Some(origin.batch(if mode == Mode::Import {
            "user add"
        } else {
            "user set"
        })),
        dry_run: false,
        keep_going: false,
        entity,
        confine: true,
        progress: crate::progress::Progress::new(false, None, false),
    };
    let mut sink = OneRow::default();
    pipeline::run(store, &mut source, &opts, &mut sink)?;
    if sink.errors.is_empty() {
        Ok(sink.user_id)
    } else {
        Err(Refusal::Rows(sink.errors))
    }
}

/// Creates a user from one import row in `entity` (`None`: the row's own); its id.
pub fn create_user(
    store: &mut crate::store::Store,
    row: &[(Col, String)],
    entity: Option<i64>,
    origin: &Origin,
) -> Result<i64, Refusal> {
    // A row whose cells are all empty creates nothing (`row.empty`).
    apply(store, Mode::Import, row, entity, origin)?.ok_or_else(|| {
        Refusal::Rows(vec![RowError::new(
            Col::Firstname,
            "required",
            "firstname is required: a user needs at least a first name",
        )])
    })
}

/// A user as the server reads it: its id, uuid, entity and every registry column's text.
pub struct Stored {
    pub id: i64,
    pub uuid: String,
    pub entity: i64,
    /// The id of its voicemail box, if it has one.
    pub voicemail_id: Option<i64>,
    view: crate::domain::port::UserView,
}

impl Stored {
    /// The exported text of a column.
    pub fn get(&self, col: Col) -> &str {
        self.view.get(col)
    }

    /// The user as typed JSON: `id`, then `cols`.
    pub fn json(&self, cols: &[Col]) -> String {
        let cells: Vec<&str> = cols.iter().map(|c| self.get(*c)).collect();
        json_object(Some(self.id), cols, &cells)
    }
}

/// The user `key` names, if it is in `entity` (`None`: any entity).
pub fn read_user(
    store: &mut crate::store::Store,
    key: &UserKey,
    entity: Option<i64>,
) -> Result<Option<Stored>, ApiError> {
    let reference = Reference::load(store)?;
    let domain = Domain::new(store.read()?, &reference, entity);
    let Some((view, voicemail_id)) = domain.show_with_voicemail(key)? else {
        return Ok(None);
    };
    Ok(Some(Stored {
        id: view.id,
        uuid: view.get(Col::Uuid).to_string(),
        entity: view.get(Col::EntityId).parse().unwrap_or_default(),
        voicemail_id,
        view,
    }))
}

/// Deletes the user `key` names in `entity` (`None`: any) with SPEC §7's rules.
pub fn remove(
    store: &mut crate::store::Store,
    key: &UserKey,
    entity: Option<i64>,
    opts: DeleteOptions,
    origin: &Origin,
) -> Result<(), Refusal> {
    let reference = Reference::load(store)?;
    let mut domain = Domain::new(store.begin()?, &reference, entity);
    domain.record_history(&origin.batch("user delete"))?;
    match domain.delete(key, opts)? {
        Ok(_) => {
            domain.commit()?;
            Ok(())
        }
        Err(e) if e.code == "user.owns_voicemail" => Err(Refusal::OwnsVoicemail),
        Err(_) => Err(Refusal::NotFound),
    }
}

/// Changes the user `key` names in `entity` (`None`: any) with the cells of `row` (update's
/// rules; a `uuid` in the row must be the user's own); the user's id.
pub fn change_user(
    store: &mut crate::store::Store,
    key: &UserKey,
    mut row: Vec<(Col, String)>,
    entity: Option<i64>,
    origin: &Origin,
) -> Result<i64, Refusal> {
    let user = read_user(store, key, entity)?.ok_or(Refusal::NotFound)?;
    match row.iter().position(|(c, _)| *c == Col::Uuid) {
        Some(i) if row[i].1.eq_ignore_ascii_case(&user.uuid) => {
            row.remove(i);
        }
        Some(_) => {
            return Err(Refusal::Rows(vec![RowError::new(
                Col::Uuid,
                "immutable",
                "a user's uuid cannot change",
            )]))
        }
        None => {}
    }
    row.insert(0, (Col::Uuid, user.uuid));
    apply(store, Mode::Update, &row, entity, origin)?;
    Ok(user.id)
}

/// The columns a user is shown with: every exported column but `password_hash`, and
/// without the other secret columns unless `with_secrets`.
pub fn visible_columns(with_secrets: bool) -> Vec<Col> {
    columns::exported()
        .filter(|c| *c != Col::PasswordHash)
        .filter(|c| with_secrets || !c.def().is_secret())
        .collect()
}

/// Whether the secrets were asked for (`?with_secrets`): 403 if asked by an account that
/// may not write in `entity` (`None`: every entity).
fn secrets_asked(caller: &Caller, q: &Query, entity: Option<i64>) -> Result<bool, ApiError> {
    if !q.flag("with_secrets") {
        return Ok(false);
    }
    caller.allow_in(Action::Write, entity).map_err(|_| {
        ApiError::forbidden(
            "with_secrets: only an account that may change the users of the entity (user or manager) may read their secrets",
        )
    })?;
    Ok(true)
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The order a list asks for (`order=id` or any exported column but a secret one,
/// `direction=asc|desc` in any case).
pub fn order_of(q: &Query) -> Result<Order, ApiError> {
    let col = match q.filled("order") {
        None => None,
        Some(name) if name.eq_ignore_ascii_case("id") => None,
        Some(name) => Some(
            columns::lookup(name)
                .filter(|c| c.def().is_exported() && !c.def().is_secret())
                .ok_or_else(|| {
                    ApiError::bad_parameter("query.invalid", "order", format!(
                        "order: '{name}' is not a column a list can be ordered by (id or a column of the users)"
                    ))
                })?,
        ),
    };
    let descending = match q
        .filled("direction")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            return Err(ApiError::bad_parameter(
                "query.invalid",
                "direction",
                "direction is asc or desc",
            ))
        }
    };
    Ok(Order { col, descending })
}

/// `GET /1.1/users?search&order&direction&limit&offset&entity&with_secrets`:
/// `{"items": [...], "total": N}`, streamed.
pub async fn list(
    State(app): AppState,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::USERS_LIST)?;
    let entity = match q.filled("entity") {
        Some(asked) => {
            let e = caller.choose(asked)?;
            if caller.entity.is_some_and(|c| c != e) {
                return Err(ApiError::bad_parameter(
                    "query.invalid",
                    "entity",
                    "entity names another entity than the Wazo-Tenant header",
                ));
            }
            Some(e)
        }
        None => caller.entity,
    };
    caller.allow_in(Action::Read, entity)?;
    let cols = visible_columns(secrets_asked(&caller, &q, entity)?);
    let order = order_of(&q)?;
    let page = Page {
        limit: q.number("limit"),
        offset: q.number("offset").unwrap_or(0),
    };
    let filter = Filter {
        entity,
        search: q.filled("search").map(str::to_string),
    };
    let readers = app.readers.clone();
    body::streamed("application/json", Some(readers), move |ready, out| {
        let store = app.pool.get()?;
        let total = store.count_listed(&filter)?;
        ready();
        let mut printer = UserPrinter::new(
            out,
            crate::sink::users::UserFormat::Json,
            cols.clone(),
            true,
        );
        printer.begin()?;
        store.each_listed(&filter, order, page, &cols, |id, cells| {
            printer.user_with_id(id, cells)
        })?;
        printer.end(Some(total))?;
        Ok(())
    })
    .await
}

/// `GET /1.1/users/{id or uuid}?with_secrets`.
pub async fn show(
    State(app): AppState,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::USERS_SHOW)?;
    caller.allow(Action::Read)?;
    let key = user_key(&key)?;
    let entity = caller.entity;
    let user = app
        .clone()
        .read_one(move || read_user(&mut *app.pool.get()?, &key, entity))
        .await?
        .ok_or_else(nobody)?;
    caller.allow_in(Action::Read, Some(user.entity))?;
    let cols = visible_columns(secrets_asked(&caller, &q, Some(user.entity))?);
    Ok(json_response(StatusCode::OK, user.json(&cols)))
}

/// The path of a user, for `Location`.
fn location(prefix: &str, key: &str) -> (header::HeaderName, String) {
    (header::LOCATION, format!("{prefix}/{key}"))
}

/// `POST /1.1/users?with_secrets`: a JSON object whose keys are import columns; 201 with
/// the user (its generated secrets only when asked) and its `Location`.
pub async fn create(
    State(app): AppState,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::USERS_WRITE)?;
    caller.allow(Action::Write)?;
    let cols = visible_columns(secrets_asked(&caller, &q, caller.entity)?);
    let row = row_of(&object(&headers, body, app.max_body).await?)?;
    let entity = caller.entity;
    let origin = caller.origin("POST /1.1/users");
    let user = blocking(move || {
        let mut store = app.pool.get()?;
        let id = create_user(&mut store, &row, entity, &origin).map_err(Refusal::wazo)?;
        read_user(&mut store, &UserKey::Id(id), entity)
    })
    .await?
    .ok_or_else(|| ApiError::internal("the user created cannot be read back"))?;
    let mut response = json_response(StatusCode::CREATED, user.json(&cols));
    let (name, value) = location("/1.1/users", &user.uuid);
    if let Ok(v) = header::HeaderValue::from_str(&value) {
        response.headers_mut().insert(name, v);
    }
    Ok(response)
}

/// `PUT /1.1/users/{id or uuid}`: the given keys change (null unsets), the others stay.
pub async fn change(
    State(app): AppState,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    Query::parse(raw.as_deref(), params::USERS_WRITE)?;
    caller.allow(Action::Write)?;
    let key = user_key(&key)?;
    let mut object = object(&headers, body, app.max_body).await?;
    // A user read back and sent again carries its id: it must be the user's own.
    let id = object.remove("id");
    let row = row_of(&object)?;
    let entity = caller.entity;
    let origin = caller.origin("PUT /1.1/users");
    blocking(move || {
        let mut store = app.pool.get()?;
        if let Some(id) = id {
            let user = read_user(&mut store, &key, entity)?.ok_or_else(nobody)?;
            if id.as_i64() != Some(user.id) {
                return Err(rows_refused(&[RowError::with_code(
                    Some("id"),
                    "id.immutable",
                    "a user's id cannot change",
                )]));
            }
        }
        change_user(&mut store, &key, row, entity, &origin).map_err(Refusal::wazo)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /1.1/users/{id or uuid}?delete_voicemail`: 412 for a user who alone has a
/// voicemail box, unless `delete_voicemail`.
pub async fn delete(
    State(app): AppState,
    caller: Caller,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::USERS_DELETE)?;
    caller.allow(Action::Delete)?;
    let key = user_key(&key)?;
    let opts = DeleteOptions {
        delete_voicemail: q.flag("delete_voicemail"),
    };
    let entity = caller.entity;
    let origin = caller.origin("DELETE /1.1/users");
    blocking(move || {
        remove(&mut *app.pool.get()?, &key, entity, opts, &origin).map_err(Refusal::wazo)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
