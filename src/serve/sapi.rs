//! `/sapi/users`: the Quobis users API of seed 004, as a thin door over the same users as
//! `/1.1` (`super::users`): this module renames fields and shapes answers; every rule is
//! the import's.
//!
//! Users are addressed by UUID (`id` in the answers). Fields: `domain` (an entity's name;
//! empty or absent: the account's only entity), `username`, `email`, `mobilePhone` (a list
//! of at most one number: `mobile_phone_number`), `currentTimezone` (`timezone`), `locale`
//! (`es-ES`, stored as the language `es_ES` and shown back as `es-ES`), `alias` (the user's
//! first name; a user created without one is named by its username), `role` (only `user`:
//! ucsv's users are telephony users, and those who administer are accounts) and
//! `capabilities` (only the empty list). A user created without `locale` or
//! `currentTimezone` gets its domain's defaults (the entity's `default_language` and
//! `default_timezone`). Answers: a list is a JSON array; create 201 with the user; change
//! 200 with the user; delete 204; errors are the `/1.1` errors.

use super::auth::Caller;
use super::params::{self, NoParams, Query};
use super::users::{self, object, Refusal, Stored};
use super::{blocking, ApiError, AppState};
use crate::columns::Col;
use crate::domain::accounts::Action;
use crate::domain::ops::DeleteOptions;
use crate::domain::port::{Filter, Order, Page, UserKey};
use crate::error::RowError;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The routes of `/sapi/users`.
pub fn routes() -> Router<super::Shared> {
    Router::new()
        .route("/sapi/users", get(list).post(create))
        .route("/sapi/users/{uuid}", get(show).put(change).delete(delete))
}

/// The fields of a Quobis user and the column each is; `domain` is the entity (by name),
/// `locale` the language (`es-ES` for `es_ES`), `mobilePhone` a list of at most one number.
const FIELDS: [(&str, Col); 7] = [
    ("domain", Col::EntityId),
    ("username", Col::Username),
    ("email", Col::Email),
    ("mobilePhone", Col::MobilePhoneNumber),
    ("currentTimezone", Col::Timezone),
    ("locale", Col::Language),
    ("alias", Col::Firstname),
];

/// The columns a Quobis user is read from.
const COLS: [Col; 8] = [
    Col::Uuid,
    Col::EntityId,
    Col::Username,
    Col::Email,
    Col::MobilePhoneNumber,
    Col::Timezone,
    Col::Language,
    Col::Firstname,
];

/// A language (`es_ES`) as a Quobis locale (`es-ES`).
fn locale_of(language: &str) -> Value {
    if language.is_empty() {
        Value::Null
    } else {
        Value::String(language.replacen('_', "-", 1))
    }
}

/// A Quobis locale (`es-ES`, or `es_ES`) as a language (`es_ES`).
fn language_of(locale: &str) -> String {
    locale.replacen('-', "_", 1)
}

fn opt(text: &str) -> Value {
    if text.is_empty() {
        Value::Null
    } else {
        Value::String(text.to_string())
    }
}

/// A user in Quobis' shape, from the text of [`COLS`].
fn shown(cells: &[&str], domains: &HashMap<i64, String>) -> Value {
    let entity: i64 = cells[1].parse().unwrap_or_default();
    let mobile: Vec<&str> = [cells[4]].into_iter().filter(|m| !m.is_empty()).collect();
    json!({
        "id": cells[0],
        "domain": domains.get(&entity),
        "username": opt(cells[2]),
        "email": opt(cells[3]),
        "role": "user",
        "capabilities": [],
        "mobilePhone": mobile,
        "currentTimezone": opt(cells[5]),
        "locale": locale_of(cells[6]),
        "alias": opt(cells[7]),
    })
}

fn shown_stored(user: &Stored, domains: &HashMap<i64, String>) -> Value {
    let cells: Vec<&str> = COLS.iter().map(|c| user.get(*c)).collect();
    shown(&cells, domains)
}

/// Entity id → name.
fn domains(store: &crate::store::Store) -> Result<HashMap<i64, String>, ApiError> {
    Ok(crate::store::reference::ReferenceFile::entities_of(store)?
        .into_iter()
        .map(|e| (e.id, e.name))
        .collect())
}

/// An import row and the domain a body names.
type RowAndDomain = (Vec<(Col, String)>, Option<String>);

/// The import row a body makes, and the domain it names (if any). `creating`: a user
/// without `alias` is named by its username.
fn row_of(body: &Map<String, Value>, creating: bool) -> Result<RowAndDomain, ApiError> {
    let mut row = Vec::new();
    let mut domain = None;
    let text = |key: &str, v: &Value| -> Result<String, ApiError> {
        match v {
            Value::Null => Ok(String::new()),
            Value::String(s) => Ok(s.clone()),
            _ => Err(ApiError::bad_field(
                key,
                "invalid",
                format!("{key} is a string"),
            )),
        }
    };
    for (key, value) in body {
        match key.as_str() {
            "id" => {}
            "domain" => domain = Some(text(key, value)?).filter(|d| !d.is_empty()),
            "locale" => row.push((Col::Language, language_of(&text(key, value)?))),
            "username" | "email" | "currentTimezone" | "alias" => {
                if let Some((_, col)) = FIELDS.iter().find(|(f, _)| f == key) {
                    row.push((*col, text(key, value)?));
                }
            }
            "role" => match value {
                Value::String(r) if r == "user" => {}
                Value::Null => {}
                _ => {
                    return Err(ApiError::bad_field(
                        key, "invalid",
                        "role is user: those who administer are accounts (/1.1/accounts)",
                    ))
                }
            },
            "capabilities" => match value {
                Value::Array(a) if a.is_empty() => {}
                Value::Null => {}
                _ => return Err(ApiError::bad_field(key, "invalid", "capabilities are not kept: give []")),
            },
            "mobilePhone" => match value {
                Value::Array(a) if a.len() <= 1 => {
                    let number = match a.first() {
                        None => String::new(),
                        Some(Value::String(n)) => n.clone(),
                        Some(_) => return Err(ApiError::bad_field(key, "invalid", "mobilePhone is a list of strings")),
                    };
                    row.push((Col::MobilePhoneNumber, number));
                }
                Value::Null => row.push((Col::MobilePhoneNumber, String::new())),
                _ => {
                    return Err(ApiError::bad_field(
                        key, "invalid",
                        "mobilePhone is a list of one number (a user has one mobile number)",
                    ))
                }
            },
            other => {
                return Err(ApiError::bad_field(
                    other, "invalid",
                    format!("'{other}' is not a field of a user: domain, username, email, role, capabilities, mobilePhone, currentTimezone, locale, alias"),
                ))
            }
        }
    }
    if creating && !row.iter().any(|(c, _)| *c == Col::Firstname) {
        if let Some((_, name)) = row.iter().find(|(c, _)| *c == Col::Username) {
            let name = name.clone();
            row.push((Col::Firstname, name));
        }
    }
    Ok((row, domain))
}

/// The refusal of the shared users code, with the column names of this dialect.
fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Rows(errors) => {
            let renamed: Vec<RowError> = errors
                .into_iter()
                .map(|mut e| {
                    e.column = e.column.map(|c| {
                        FIELDS
                            .iter()
                            .find(|(_, col)| col.name() == c)
                            .map_or(c, |(f, _)| *f)
                    });
                    e
                })
                .collect();
            Refusal::Rows(renamed).wazo()
        }
        other => other.wazo(),
    }
}

fn key_of(uuid: &str) -> Result<UserKey, ApiError> {
    uuid::Uuid::parse_str(uuid)
        .map(|u| UserKey::Uuid(u.hyphenated().to_string()))
        .map_err(|_| ApiError::not_found("no user has this uuid in the domain"))
}

fn nobody() -> ApiError {
    ApiError::not_found("no user has this uuid in the domain")
}

/// `GET /sapi/users?domain&limit&offset&search`: a JSON array.
pub async fn list(
    State(app): AppState,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::SAPI_LIST)?;
    let entity = caller.named_or_chosen(q.filled("domain"))?;
    caller.allow_in(Action::Read, entity)?;
    let filter = Filter {
        entity,
        search: q.filled("search").map(str::to_string),
    };
    let page = Page {
        limit: q.number("limit"),
        offset: q.number("offset").unwrap_or(0),
    };
    let a = app.clone();
    let items = app
        .read(move || {
            let store = a.pool.get()?;
            let domains = domains(&store)?;
            let mut items = Vec::new();
            store.each_listed(&filter, Order::default(), page, &COLS, |_, cells| {
                let text: Vec<String> = cells
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                let text: Vec<&str> = text.iter().map(String::as_str).collect();
                items.push(shown(&text, &domains));
                Ok(())
            })?;
            Ok(items)
        })
        .await?;
    Ok(Json(items).into_response())
}

/// `GET /sapi/users/{uuid}`.
pub async fn show(
    State(app): AppState,
    caller: Caller,
    _: NoParams,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    caller.allow(Action::Read)?;
    let key = key_of(&uuid)?;
    let entity = caller.entity;
    let a = app.clone();
    let user = app
        .read_one(move || {
            let mut store = a.pool.get()?;
            let domains = domains(&store)?;
            Ok(users::read_user(&mut store, &key, entity)?.map(|u| shown_stored(&u, &domains)))
        })
        .await?
        .ok_or_else(nobody)?;
    Ok(Json(user).into_response())
}

/// `POST /sapi/users`: 201 with the user.
pub async fn create(
    State(app): AppState,
    caller: Caller,
    _: NoParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let (row, domain) = row_of(&object(&headers, body, app.max_body).await?, true)?;
    let entity = caller.named_or_chosen(domain.as_deref())?;
    let origin = caller.origin("POST /sapi/users");
    caller.allow_in(Action::Write, entity)?;
    let user = blocking(move || {
        let mut store = app.pool.get()?;
        let id = users::create_user(&mut store, &row, entity, &origin).map_err(refused)?;
        let domains = domains(&store)?;
        Ok(users::read_user(&mut store, &UserKey::Id(id), entity)?
            .map(|u| (u.uuid.clone(), shown_stored(&u, &domains))))
    })
    .await?
    .ok_or_else(|| ApiError::internal("the user created cannot be read back"))?;
    let mut response = (StatusCode::CREATED, Json(user.1)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/sapi/users/{}", user.0)) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `PUT /sapi/users/{uuid}`: the given fields change; 200 with the user.
pub async fn change(
    State(app): AppState,
    caller: Caller,
    _: NoParams,
    Path(uuid): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    caller.allow(Action::Write)?;
    let key = key_of(&uuid)?;
    let (mut row, domain) = row_of(&object(&headers, body, app.max_body).await?, false)?;
    let moved_to = domain.map(|d| caller.choose(&d)).transpose()?;
    let entity = caller.entity;
    let origin = caller.origin("PUT /sapi/users");
    let user = blocking(move || {
        let mut store = app.pool.get()?;
        let user = users::read_user(&mut store, &key, entity)?.ok_or_else(nobody)?;
        if let Some(e) = moved_to.filter(|e| *e != user.entity) {
            row.push((Col::EntityId, e.to_string()));
        }
        users::change_user(&mut store, &key, row, entity, &origin).map_err(refused)?;
        let domains = domains(&store)?;
        Ok(users::read_user(&mut store, &key, None)?.map(|u| shown_stored(&u, &domains)))
    })
    .await?
    .ok_or_else(nobody)?;
    Ok(Json(user).into_response())
}

/// `DELETE /sapi/users/{uuid}`: 204. The user goes with its line, numbers and
/// permissions; a user who alone has a voicemail box is refused with 412, as on `/1.1`
/// (where `?delete_voicemail` deletes the box too).
pub async fn delete(
    State(app): AppState,
    caller: Caller,
    _: NoParams,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    caller.allow(Action::Delete)?;
    let key = key_of(&uuid)?;
    let entity = caller.entity;
    let origin = caller.origin("DELETE /sapi/users");
    blocking(move || {
        users::remove(
            &mut *app.pool.get()?,
            &key,
            entity,
            DeleteOptions {
                delete_voicemail: false,
            },
            &origin,
        )
        .map_err(refused)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
