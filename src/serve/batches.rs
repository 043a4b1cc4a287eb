//! `/1.1/batches`: the history over HTTP (see [`crate::store::history`]). An account sees
//! the batches whose users are all in entities it may read (a sys_admin sees them all),
//! and takes one back (`POST /1.1/batches/{id}/undo`, `?dry_run`) with the role the batch
//! needed in every entity it changed: `user` for imports, updates and single writes,
//! `manager` for deletes and undos. The secrets a state before holds are shown only with
//! `?with_secrets`, to an account that may write in every entity of the batch.

use super::auth::Caller;
use super::params::{self, Query};
use super::{blocking, ApiError, AppState};
use crate::domain::accounts::Action;
use crate::domain::Domain;
use crate::store::history::{self, Batch};
use crate::store::reference::Reference;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Whether `caller` may see `batch`.
fn visible(caller: &Caller, batch: &Batch) -> bool {
    caller.account.role == "sys_admin"
        || (!batch.entities.is_empty()
            && batch
                .entities
                .iter()
                .all(|e| caller.account.may(Action::Read, *e)))
}

/// The role taking `batch` back needs.
fn needed(batch: &Batch) -> Action {
    match batch.kind.as_str() {
        "user delete" | "undo" => Action::Delete,
        _ => Action::Write,
    }
}

/// 403 unless `caller` may do `action` in every entity of `batch` (a batch that changed
/// no user: a sys_admin only).
fn allowed(caller: &Caller, batch: &Batch, action: Action) -> Result<(), ApiError> {
    if batch.entities.is_empty() {
        return caller.allow_in(action, None);
    }
    batch
        .entities
        .iter()
        .try_for_each(|e| caller.allow_in(action, Some(*e)))
}

/// The batch `id`, if `caller` may see it.
async fn find(app: &super::Shared, caller: &Caller, id: i64) -> Result<Batch, ApiError> {
    let a = app.clone();
    let batch = blocking(move || Ok(history::get(a.pool.get()?.db().as_ref(), id)?)).await?;
    batch
        .filter(|b| visible(caller, b))
        .ok_or_else(|| ApiError::not_found(format!("no batch {id} in the history")))
}

/// `GET /1.1/batches?limit`: the batches, newest first.
pub async fn list(
    State(app): AppState,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::BATCHES_LIST)?;
    let limit = q.number("limit").unwrap_or(20);
    let a = app.clone();
    let batches = blocking(move || Ok(history::list(a.pool.get()?.db().as_ref(), limit)?)).await?;
    let items: Vec<&Batch> = batches.iter().filter(|b| visible(&caller, b)).collect();
    Ok(Json(json!({ "total": items.len(), "items": items })).into_response())
}

/// `GET /1.1/batches/{id}?with_secrets`: a batch and its changes.
pub async fn show(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::BATCHES_SHOW)?;
    let batch = find(&app, &caller, id).await?;
    let secrets = q.flag("with_secrets");
    if secrets {
        allowed(&caller, &batch, Action::Write)?;
    }
    let a = app.clone();
    let changes = blocking(move || Ok(history::changes(a.pool.get()?.db().as_ref(), id)?)).await?;
    let items: Vec<Value> = changes
        .iter()
        .map(|c| {
            c.to_json(&batch.columns, |name| {
                secrets || !crate::columns::lookup(name).is_some_and(|col| col.def().is_secret())
            })
        })
        .collect();
    Ok(Json(json!({ "batch": batch, "changes": items })).into_response())
}

/// `POST /1.1/batches/{id}/undo?dry_run`: the batch taken back, in one transaction; 409
/// with the reason when it cannot be (later batches, already undone, users that cannot be
/// set back), and nothing written.
pub async fn undo(
    State(app): AppState,
    caller: Caller,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::BATCHES_UNDO)?;
    let dry_run = q.flag("dry_run");
    let batch = find(&app, &caller, id).await?;
    allowed(&caller, &batch, needed(&batch))?;
    let info = caller
        .origin(&format!("POST /1.1/batches/{id}/undo"))
        .batch("undo");
    let outcome = blocking(move || {
        let mut store = app.pool.get()?;
        // A dry run never holds the database's write lock (see `Store::snapshot`).
        let mut copy = dry_run.then(|| store.snapshot()).transpose()?;
        let target = copy.as_mut().unwrap_or(&mut store);
        let reference = Reference::load(target)?;
        let beside = target.beside();
        let mut domain = Domain::new(target.begin()?, &reference, None);
        if let Some(reader) = beside.and_then(|place| place.open().ok()) {
            domain.read_beside(reader);
        }
        let outcome = domain.undo(id, info)?;
        if outcome.is_ok() && !dry_run {
            domain.commit()?;
        }
        Ok(outcome)
    })
    .await?;
    match outcome {
        Ok(done) => {
            let mut body = serde_json::to_value(&done).unwrap_or_default();
            body["dry_run"] = dry_run.into();
            Ok(Json(body).into_response())
        }
        Err(refusal) => {
            let later: Vec<Value> = match &refusal {
                crate::domain::undo::Refusal::Later(l) => l
                    .iter()
                    .map(|(b, u)| json!({"batch": b, "user_id": u}))
                    .collect(),
                _ => Vec::new(),
            };
            let mut e = ApiError::new(StatusCode::CONFLICT, refusal.code(), refusal.to_string());
            if !later.is_empty() {
                e.body["errors"][0]["later"] = Value::from(later);
            }
            Err(e)
        }
    }
}
