//! `ucsv serve`: the users REST API (SPEC §8) over the same domain, pipeline and store as
//! the command line, in the shape of Wazo's confd (`/1.1/users...`), with the accounts of
//! SPEC §9 (`/1.1/accounts...`).
//!
//! Every route is orchestration: the request is signed in ([`auth`]), its entity chosen,
//! its role checked, then the work runs on a blocking thread ([`blocking`]) with a store
//! from the [`pool::Pool`]: the domain and the stores are synchronous, and an import is as
//! long as its file. Bodies stream both ways: an uploaded CSV is read by the pipeline as it
//! arrives ([`body`]), and an export or a listing is sent as it is written
//! ([`body::streamed`]). Errors are JSON with the status of SPEC §8 ([`error`]). One line
//! per request goes to stderr ([`log`]), never a secret or a cell. The page of SPEC §8.1,
//! a client of these routes built into the binary, is served at `/` ([`page`]).

mod accounts;
mod auth;
mod batches;
mod body;
mod bulk;
mod cloudify;
mod entities;
mod error;
pub mod log;
pub mod metrics;
pub mod openapi;
mod page;
pub mod params;
mod pool;
mod sapi;
pub mod tls;
mod users;
mod xivo;

use crate::error::{Error, Result};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use error::ApiError;

/// What the server needs to start.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The database path or URL.
    pub db: PathBuf,
    /// The largest body accepted, in bytes.
    pub max_body: u64,
    /// How long an upload may stop arriving before it is given up.
    pub body_timeout: std::time::Duration,
    /// How long requests in flight may go on after SIGTERM before the server stops anyway
    /// (their writes then roll back).
    pub grace: std::time::Duration,
    /// HTTPS with these files (see [`tls`]); `None`: plain HTTP.
    pub tls: Option<Arc<tls::Tls>>,
}

/// What every request shares.
pub struct App {
    /// Stores ready for use.
    pool: pool::Pool,
    /// Sign-ins.
    auth: auth::Auth,
    /// The largest body accepted.
    max_body: u64,
    /// How long an upload may stop arriving.
    body_timeout: std::time::Duration,
    /// The threads that list users: on SQLite one core less than the machine has (at
    /// least one; on PostgreSQL twice the cores), at the lowest priority (nice 19). Lists past them wait their turn, and they get the
    /// CPU an import's writer and checks (nice 0 and 10) leave: many readers slow
    /// themselves down rather than an import.
    readers: Arc<rayon::ThreadPool>,
    /// The thread that reads one user by its key (a show: a lookup by index, cheap), also
    /// at the lowest priority, apart from the lists so that it never waits behind their
    /// scans.
    points: Arc<rayon::ThreadPool>,
    /// The figures of `/metrics`.
    pub metrics: metrics::Metrics,
}

impl App {
    /// Runs a list's `work` on a reader thread (see `readers`); a panic there is a 500.
    async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> std::result::Result<T, ApiError> + Send + 'static,
    ) -> std::result::Result<T, ApiError> {
        run_on(&self.readers, work).await
    }

    /// Runs the `work` of a read of one user on its own thread (see `points`).
    async fn read_one<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> std::result::Result<T, ApiError> + Send + 'static,
    ) -> std::result::Result<T, ApiError> {
        run_on(&self.points, work).await
    }
}

/// Runs `work` on a thread of `pool`; a panic there is a 500.
async fn run_on<T: Send + 'static>(
    pool: &rayon::ThreadPool,
    work: impl FnOnce() -> std::result::Result<T, ApiError> + Send + 'static,
) -> std::result::Result<T, ApiError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    pool.spawn(move || {
        let _ = tx.send(work());
    });
    rx.await.unwrap_or_else(|_| {
        Err(ApiError::internal(
            "the request's work stopped unexpectedly",
        ))
    })
}

/// The pool of reader threads (see [`App`]'s `readers`). On PostgreSQL a listing runs in
/// the server's processes and the thread mostly waits for it: twice the cores, so that the
/// server's processes have work on every core.
fn readers(postgres: bool) -> rayon::ThreadPool {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = if postgres {
        cores * 2
    } else {
        cores.saturating_sub(1).max(1)
    };
    crate::validate::niced_pool("ucsv-read", Some(threads), 19)
}

type Shared = Arc<App>;

/// Runs `work` on a blocking thread (the domain and the stores are synchronous); a panic
/// there is a 500, never a crash.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::result::Result<T, ApiError> + Send + 'static,
) -> std::result::Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|_| {
        Err(ApiError::internal(
            "the request's work stopped unexpectedly",
        ))
    })
}

/// The routes of SPEC §8 and §9, and the page (§8.1).
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/1.1/users", get(users::list).post(users::create))
        .route("/1.1/users/import", post(bulk::import).put(bulk::update))
        .route("/1.1/batches", get(batches::list))
        .route("/1.1/batches/{id}", get(batches::show))
        .route("/1.1/batches/{id}/undo", post(batches::undo))
        .route("/1.1/users/export", get(bulk::export))
        .route(
            "/1.1/users/{key}",
            get(users::show).put(users::change).delete(users::delete),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/1.1/openapi.json", get(openapi_json))
        .route("/readyz", get(readyz))
        .route("/1.1/me", get(accounts::me))
        .route("/1.1/entities", get(entities::list).post(entities::create))
        .route(
            "/1.1/entities/{key}",
            get(entities::show).put(entities::change),
        )
        .route("/1.1/accounts", get(accounts::list).post(accounts::create))
        .route(
            "/1.1/accounts/{username}",
            get(accounts::show)
                .post(accounts::change)
                .delete(accounts::delete),
        )
        .route("/1.1/accounts/{username}/{action}", post(accounts::act))
        .merge(xivo::routes())
        .merge(sapi::routes())
        .merge(cloudify::routes())
        .merge(page::routes())
        .route_layer(axum::middleware::from_fn(note_route))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(page::quiet_challenge))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            log_request,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(app)
}

/// `GET /1.1/openapi.json` (see [`openapi`]), for any account.
async fn openapi_json(_: auth::Signed, _: params::NoParams) -> Response {
    axum::Json(openapi::document()).into_response()
}

/// `GET /metrics` (see [`metrics`]), for a sys_admin.
async fn metrics_text(
    State(app): State<Shared>,
    signed: auth::Signed,
    _: params::NoParams,
) -> Result<Response, ApiError> {
    signed.admin_of("read the metrics")?;
    let a = app.clone();
    let locked = blocking(move || {
        let store = a.pool.get()?;
        let rows = store
            .db()
            .rows("SELECT count(*) FROM accounts WHERE is_locked <> 0", &[])?;
        Ok(rows.first().map_or(0, |r| r[0].int()))
    })
    .await?;
    let text = app.metrics.render(u64::try_from(locked).unwrap_or(0));
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// `GET /healthz`: the process is up (no credentials, no data), for a load balancer.
async fn healthz(_: params::NoParams) -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: the database answers (no credentials, no data): 200, or 503 while it does
/// not, for a load balancer to send requests elsewhere.
async fn readyz(State(app): State<Shared>, _: params::NoParams) -> Response {
    let ready = blocking(move || {
        app.pool.get()?.ping()?;
        Ok(())
    })
    .await;
    match ready {
        Ok(()) => axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(_) => ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database.unavailable",
            "the database does not answer",
        )
        .into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        "no such route",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not answer this method",
    )
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("the server failed on this request").into_response()
}

/// The account a request signed in as (filled by [`auth`]) and the route it took (filled
/// by [`note_route`]), for its log line.
#[derive(Clone, Default)]
pub struct Who(Arc<Mutex<(Option<String>, Option<String>)>>);

impl Who {
    fn set(&self, name: &str) {
        if let Ok(mut slot) = self.0.lock() {
            slot.0 = Some(name.to_string());
        }
    }
}

/// Notes the route a request took (its template, as `/1.1/users/{key}`: the path holds
/// data, the template does not).
async fn note_route(
    route: Option<axum::extract::MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    if let (Some(route), Some(who)) = (route, request.extensions().get::<Who>()) {
        if let Ok(mut slot) = who.0.lock() {
            slot.1 = Some(route.as_str().to_string());
        }
    }
    next.run(request).await
}

/// One line per request (see [`log`]): account, method, route, status, duration, and its
/// id, echoed to the client as `X-Request-Id`.
async fn log_request(State(app): State<Shared>, mut request: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let who = Who::default();
    request.extensions_mut().insert(who.clone());
    let id = log::request_id(request.headers());
    let method = request.method().clone();
    let mut response = next.run(request).await;
    let (account, route) = who.0.lock().map(|s| s.clone()).unwrap_or_default();
    let elapsed = start.elapsed().as_secs_f64();
    app.metrics.request(
        route.as_deref().unwrap_or("-"),
        method.as_str(),
        response.status().as_u16(),
        elapsed,
    );
    tracing::info!(
        target: log::REQUEST,
        account = account.as_deref().unwrap_or("-"),
        method = method.as_str(),
        route = route.as_deref().unwrap_or("-"),
        status = response.status().as_u16(),
        duration_ms = format!("{:.1}", elapsed * 1000.0),
        request_id = id.as_str(),
    );
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Serves until SIGTERM or ctrl-C; `ready` is told the address once listening. New
/// connections are then refused and requests in flight finish (an import commits or rolls
/// back) before it returns, for at most `opts.grace`: past it, the server stops anyway and
/// the writes still running are rolled back (never half applied).
pub fn run(opts: Options, ready: impl FnOnce(SocketAddr)) -> Result<()> {
    let io = |source: std::io::Error| Error::Usage {
        message: format!("cannot listen on {}: {source}", opts.listen),
        help: "choose another --listen address or port".into(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io)?;
    let app = Arc::new(App {
        pool: pool::Pool::new(opts.db.clone()),
        auth: auth::Auth::new(),
        max_body: opts.max_body,
        body_timeout: opts.body_timeout,
        readers: Arc::new(readers(crate::store::postgres::is_url(&opts.db))),
        points: Arc::new(crate::validate::niced_pool("ucsv-read-one", Some(1), 19)),
        metrics: metrics::Metrics::default(),
    });
    let routes = router(app.clone());
    let grace = opts.grace;
    let (served, in_time) = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(io)?;
        ready(listener.local_addr().map_err(io)?);
        // Trailing slashes are trimmed before routing: `/1.1/users/` is `/1.1/users`.
        let routes = tower_http::normalize_path::NormalizePath::trim_trailing_slash(routes);
        let signalled = Arc::new(tokio::sync::Notify::new());
        let told = signalled.clone();
        let shutdown = async move {
            stopped().await;
            told.notify_one();
        };
        let service = axum::ServiceExt::<Request>::into_make_service(routes);
        let served = async move {
            match opts.tls {
                Some(tls) => {
                    tokio::spawn(reload_on_hangup(tls.clone()));
                    let listener = tls::Listener::new(listener, tls).map_err(io)?;
                    axum::serve(listener, service)
                        .with_graceful_shutdown(shutdown)
                        .await
                        .map_err(io)
                }
                None => axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown)
                    .await
                    .map_err(io),
            }
        };
        tokio::select! {
            served = served => Ok::<_, Error>((served, true)),
            () = async {
                signalled.notified().await;
                tokio::time::sleep(grace).await;
            } => Ok((Ok(()), false)),
        }
    })?;
    if !in_time {
        tracing::warn!(
            target: "ucsv::serve",
            "the grace period ({} s) is over: stopping; the writes still in flight are rolled back",
            grace.as_secs()
        );
        // The work still running is left behind: its transaction never commits, and ends
        // with the process.
        runtime.shutdown_background();
        std::mem::forget(app);
        return served;
    }
    // The pooled stores are closed here, outside the runtime: the PostgreSQL client runs
    // its own, which cannot be stopped from inside another.
    drop(runtime);
    drop(app);
    served
}

/// Reads the certificate and key again at each SIGHUP, saying so on stderr.
async fn reload_on_hangup(tls: Arc<tls::Tls>) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
    else {
        return;
    };
    while hangups.recv().await.is_some() {
        match tls.reload() {
            Ok(()) => tracing::info!(
                target: "ucsv::serve",
                "SIGHUP: the TLS certificate {} was read again",
                tls.cert().display()
            ),
            Err(e) => tracing::warn!(
                target: "ucsv::serve",
                "SIGHUP: {e}; the certificate in use is kept"
            ),
        }
    }
}

/// Resolves on SIGTERM or ctrl-C.
async fn stopped() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!(target: "ucsv::serve", "stopping: finishing the requests in flight");
}

/// The state of a route.
pub type AppState = State<Shared>;
