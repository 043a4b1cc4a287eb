//! `/1.1/entities`: the entities (tenants) with their names and the defaults they give new
//! users. Every account lists the entities it may work in; a sys_admin lists them all and
//! may add and change them (name, default language, default time zone). The rules are the
//! reference data's own (`store::reference`): this module only reads requests and words
//! answers.

use super::auth::{self, Signed};
use super::params::NoParams;
use super::users::object;
use super::{blocking, ApiError, AppState};
use crate::store::reference::{EntityDef, EntityProblem, Reference};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

/// An entity as the API shows it.
pub fn shown(e: &EntityDef) -> Value {
    json!({
        "id": e.id,
        "name": e.name,
        "default_language": e.default_language,
        "default_timezone": e.default_timezone,
    })
}

/// The entities `signed` may see: all for a sys_admin, its tenants for the others.
async fn visible(app: &super::Shared, signed: &Signed) -> Result<Vec<EntityDef>, ApiError> {
    let account = &signed.account;
    Ok(auth::all_entities(app)
        .await?
        .into_iter()
        .filter(|e| account.role == "sys_admin" || account.tenants.contains_key(&e.id.to_string()))
        .collect())
}

/// The entity `key` (an id or a name) names among `entities`, or 404.
fn find(entities: Vec<EntityDef>, key: &str) -> Result<EntityDef, ApiError> {
    let by_id = entities.iter().position(|e| e.id.to_string() == key);
    let at = by_id.or_else(|| entities.iter().position(|e| e.name == key));
    at.map(|i| entities[i].clone())
        .ok_or_else(|| ApiError::not_found(format!("no entity has the id or name '{key}'")))
}

/// An entity's problem as an answer.
pub fn refused(problem: EntityProblem) -> ApiError {
    match problem {
        EntityProblem::NameTaken(name) => ApiError::new(
            StatusCode::CONFLICT,
            "entity.exists",
            format!("an entity is named '{name}' already"),
        ),
        EntityProblem::BadName(message) => ApiError::bad_field("name", "invalid", message),
        EntityProblem::BadDefault(message) => ApiError::bad_field("default", "invalid", message),
        EntityProblem::Unknown(id) => ApiError::not_found(format!("no entity has the id {id}")),
        EntityProblem::InUse(id) => ApiError::new(
            StatusCode::CONFLICT,
            "entity.in_use",
            format!(
                "entity {id} still has users, contexts, call permissions or accounts: it cannot be deleted"
            ),
        ),
        EntityProblem::Failed(e) => e.into(),
    }
}

/// A text field of a body: `Ok(None)` when absent, `Ok(Some(None))` when null.
fn text_field(body: &Map<String, Value>, key: &str) -> Result<Option<Option<String>>, ApiError> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(ApiError::bad_field(
            key,
            "invalid",
            format!("{key} is a string or null"),
        )),
    }
}

/// Refuses keys other than an entity's.
fn known_keys(body: &Map<String, Value>) -> Result<(), ApiError> {
    match body
        .keys()
        .find(|k| !["id", "name", "default_language", "default_timezone"].contains(&k.as_str()))
    {
        Some(k) => Err(ApiError::bad_field(
            k,
            "unknown",
            format!("'{k}' is not a field of an entity: name, default_language, default_timezone"),
        )),
        None => Ok(()),
    }
}

/// `GET /1.1/entities`: `{"items": [...], "total": N}`.
pub async fn list(State(app): AppState, signed: Signed, _: NoParams) -> Result<Response, ApiError> {
    let items: Vec<Value> = visible(&app, &signed).await?.iter().map(shown).collect();
    Ok(Json(json!({"total": items.len(), "items": items})).into_response())
}

/// `GET /1.1/entities/{id or name}`.
pub async fn show(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let entity = find(visible(&app, &signed).await?, &key)?;
    Ok(Json(shown(&entity)).into_response())
}

/// `POST /1.1/entities` with `{"name", "default_language", "default_timezone"}`: 201.
pub async fn create(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    signed.admin_of("add entities")?;
    let body = object(&headers, body, app.max_body).await?;
    known_keys(&body)?;
    if body.contains_key("id") {
        return Err(ApiError::bad_field(
            "id",
            "invalid",
            "an entity's id is given by the server",
        ));
    }
    let name = text_field(&body, "name")?
        .flatten()
        .ok_or_else(|| ApiError::bad_field("name", "required", "name is required"))?;
    let language = text_field(&body, "default_language")?.flatten();
    let timezone = text_field(&body, "default_timezone")?.flatten();
    let a = app.clone();
    let id = blocking(move || {
        Reference::add_entity(&*a.pool.get()?, &name, language, timezone).map_err(refused)
    })
    .await?;
    let entity = find(auth::all_entities(&app).await?, &id.to_string())?;
    let mut response = (StatusCode::CREATED, Json(shown(&entity))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/1.1/entities/{id}")) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// `PUT /1.1/entities/{id or name}`: the given keys change (null unsets a default).
pub async fn change(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    signed.admin_of("change entities")?;
    let body = object(&headers, body, app.max_body).await?;
    known_keys(&body)?;
    let mut entity = find(auth::all_entities(&app).await?, &key)?;
    if let Some(id) = body.get("id") {
        if id.as_i64() != Some(entity.id) {
            return Err(ApiError::bad_field(
                "id",
                "immutable",
                "an entity's id cannot change",
            ));
        }
    }
    if let Some(name) = text_field(&body, "name")? {
        entity.name =
            name.ok_or_else(|| ApiError::bad_field("name", "required", "name cannot be unset"))?;
    }
    if let Some(language) = text_field(&body, "default_language")? {
        entity.default_language = language;
    }
    if let Some(timezone) = text_field(&body, "default_timezone")? {
        entity.default_timezone = timezone;
    }
    let a = app.clone();
    let changed = entity.clone();
    blocking(move || Reference::change_entity(&*a.pool.get()?, &changed).map_err(refused)).await?;
    Ok(Json(shown(&entity)).into_response())
}
