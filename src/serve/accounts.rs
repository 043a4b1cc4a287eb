//! `/1.1/accounts`: the accounts of SPEC §9 over HTTP, for sys_admin accounts only, in
//! Cloudify's shapes (a page is `{"items", "metadata": {"pagination": {"offset", "size",
//! "total"}}}`; a password hash is never shown).

use super::auth::Signed;
use super::params::{self, NoParams, Query};
use super::users::object;
use super::{blocking, ApiError, AppState};
use crate::domain::accounts::{Account, Accounts};
use crate::domain::port::accounts::AccountStore;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

fn no_account(username: &str) -> ApiError {
    ApiError::not_found(format!("no account is named '{username}'"))
}

/// The account, or 404.
fn existing(accounts: &Accounts<'_>, username: &str) -> Result<Account, ApiError> {
    match accounts.show(username) {
        Ok(a) => Ok(a),
        Err(crate::error::Error::Usage { .. }) => Err(no_account(username)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /1.1/me`: the account signed in, with the entities it may choose (`Wazo-Tenant`)
/// and its role in each (every entity for a sys_admin), for a client to sign in and offer
/// the choice. Any account may ask.
pub async fn me(State(app): AppState, signed: Signed, _: NoParams) -> Result<Response, ApiError> {
    let entities = super::auth::entities(&app, &signed.account).await?;
    Ok(Json(json!({"account": signed.account, "entities": entities})).into_response())
}

/// `GET /1.1/accounts?offset&size` (also `_offset`, `_size`, as Cloudify writes them).
pub async fn list(
    State(app): AppState,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::ACCOUNTS_LIST)?;
    signed.admin()?;
    let offset = q.number("_offset").or(q.number("offset")).unwrap_or(0);
    let size = q.number("_size").or(q.number("size"));
    let (items, total) = blocking(move || {
        let store = app.pool.get()?;
        Ok(Accounts::new(&*store).list(offset, size)?)
    })
    .await?;
    let size = size.unwrap_or(total);
    Ok(Json(json!({
        "items": items,
        "metadata": {"pagination": {"offset": offset, "size": size, "total": total}},
    }))
    .into_response())
}

/// `GET /1.1/accounts/{username}`.
pub async fn show(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    signed.admin()?;
    let account = blocking(move || {
        let store = app.pool.get()?;
        existing(&Accounts::new(&*store), &username)
    })
    .await?;
    Ok(Json(account).into_response())
}

fn text<'v>(body: &'v Map<String, Value>, key: &str) -> Result<Option<&'v str>, ApiError> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::bad("body.invalid", format!("{key} is a string"))),
    }
}

/// `"tenants": {"1": "manager", "2": null}` as (entity, role) pairs (null takes it away).
fn tenants(body: &Map<String, Value>) -> Result<Vec<(i64, Option<String>)>, ApiError> {
    let bad = || {
        ApiError::bad(
            "body.invalid",
            "tenants is an object of entity id → manager, user, viewer or null",
        )
    };
    match body.get("tenants") {
        None => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(entity, role)| {
                let role = match role {
                    Value::Null => "none",
                    Value::String(r) => r.as_str(),
                    _ => return Err(bad()),
                };
                crate::domain::accounts::parse_tenant(&format!("{entity}={role}"))
                    .map_err(|_| bad())
            })
            .collect(),
        Some(_) => Err(bad()),
    }
}

/// `POST /1.1/accounts` with `{"username", "password", "role", "tenants"}`: 201.
pub async fn create(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    signed.admin()?;
    let body = object(&headers, body, app.max_body).await?;
    let username = text(&body, "username")?
        .ok_or_else(|| ApiError::bad("body.invalid", "username is required"))?
        .to_string();
    let password = text(&body, "password")?
        .ok_or_else(|| ApiError::bad("body.invalid", "password is required"))?
        .to_string();
    let role = text(&body, "role")?.unwrap_or("default").to_string();
    let tenants = tenants(&body)?;
    let account = blocking(move || {
        let store = app.pool.get()?;
        if store.account(&username)?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "account.exists",
                format!("an account named '{username}' exists already"),
            ));
        }
        Ok(Accounts::new(&*store).add(&username, &password, &role, &tenants)?)
    })
    .await?;
    let location = format!("/1.1/accounts/{}", account.username);
    let mut response = (StatusCode::CREATED, Json(account)).into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&location) {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, v);
    }
    Ok(response)
}

/// `POST /1.1/accounts/{username}` with `{"role"}`, `{"password"}` and/or `{"tenants"}`.
pub async fn change(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    Path(username): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    signed.admin()?;
    let body = object(&headers, body, app.max_body).await?;
    if let Some(key) = body
        .keys()
        .find(|k| !["role", "password", "tenants"].contains(&k.as_str()))
    {
        return Err(ApiError::bad(
            "body.invalid",
            format!("'{key}' cannot be changed: give role, password or tenants"),
        ));
    }
    let role = text(&body, "role")?.map(str::to_string);
    let password = text(&body, "password")?.map(str::to_string);
    let tenants = tenants(&body)?;
    let account = blocking(move || {
        let store = app.pool.get()?;
        let accounts = Accounts::new(&*store);
        existing(&accounts, &username)?;
        if let Some(r) = &role {
            accounts.set_role(&username, r)?;
        }
        if let Some(p) = &password {
            accounts.set_password(&username, p)?;
        }
        for t in tenants {
            accounts.set_tenant(&username, t)?;
        }
        existing(&accounts, &username)
    })
    .await?;
    Ok(Json(account).into_response())
}

/// `DELETE /1.1/accounts/{username}`: 204 (an account cannot delete itself).
pub async fn delete(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    Path(username): Path<String>,
) -> Result<Response, ApiError> {
    signed.admin()?;
    if username == signed.account.username {
        return Err(ApiError::bad(
            "account.self",
            "an account cannot delete itself",
        ));
    }
    blocking(move || {
        let store = app.pool.get()?;
        let accounts = Accounts::new(&*store);
        existing(&accounts, &username)?;
        Ok(accounts.delete(&username)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /1.1/accounts/{username}/activate|deactivate|unlock`: the account after.
pub async fn act(
    State(app): AppState,
    signed: Signed,
    _: NoParams,
    Path((username, action)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    signed.admin()?;
    if !["activate", "deactivate", "unlock"].contains(&action.as_str()) {
        return Err(ApiError::not_found(
            "no such route: activate, deactivate or unlock",
        ));
    }
    let account = blocking(move || {
        let store = app.pool.get()?;
        let accounts = Accounts::new(&*store);
        existing(&accounts, &username)?;
        match action.as_str() {
            "activate" => accounts.set_active(&username, true)?,
            "deactivate" => accounts.set_active(&username, false)?,
            _ => accounts.unlock(&username)?,
        }
        existing(&accounts, &username)
    })
    .await?;
    Ok(Json(account).into_response())
}
