//! The page of SPEC §8.1 at `GET /`: the "Import a file" flow of XiVO in a browser, over the
//! API of this server and nothing else. Its three files (`page/index.html`, `page/app.js`,
//! `page/style.css`, plain HTML, CSS and JavaScript with no build step) are built into the
//! binary, so a server is complete on its own: no CDN, no external font, nothing to deploy
//! beside it.
//!
//! The page is static and public (it holds no data); every call it makes to the API signs in
//! with the HTTP Basic credentials typed into it, which it keeps in memory only. Its answers
//! carry a Content-Security-Policy that allows this origin alone (no inline script, no
//! framing), so a cell of a CSV shown in the page cannot run or load anything.
//!
//! One change to the API's answers is made for it ([`quiet_challenge`]): a 401 to a request
//! marked `X-Requested-With: XMLHttpRequest` comes without `WWW-Authenticate`, so that a
//! browser shows the page's own message instead of its sign-in dialog.

use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// The page's HTML.
const INDEX: &str = include_str!("page/index.html");
/// The page's script.
const SCRIPT: &str = include_str!("page/app.js");
/// The page's style sheet.
const STYLE: &str = include_str!("page/style.css");
/// The page's icon (a browser asks for one; without it each visit logs a 404).
const ICON: &str = include_str!("page/icon.svg");

/// This origin only, no inline code; `frame-ancestors 'none'` (and `X-Frame-Options` for
/// older browsers) so no other site can frame the page and trick a click on "Import".
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's routes: `/` and its assets under `/assets/`.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
}

/// `GET /`.
async fn index() -> Response {
    page("text/html; charset=utf-8", INDEX)
}

/// `GET /assets/{name}`: the script, the style sheet and the icon; 404 for any other name.
async fn asset(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "app.js" => page("text/javascript; charset=utf-8", SCRIPT),
        "style.css" => page("text/css; charset=utf-8", STYLE),
        "icon.svg" => page("image/svg+xml", ICON),
        _ => super::ApiError::not_found("no such asset").into_response(),
    }
}

/// One of the page's files with its security headers. `no-cache`: the browser checks back
/// on each visit (the files are small), so a new ucsv never runs with an old script.
fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut headers = HeaderMap::new();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_TYPE, content_type);
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::CACHE_CONTROL, "no-cache");
    (StatusCode::OK, headers, body).into_response()
}

/// Drops `WWW-Authenticate` from a 401 answering a request marked `X-Requested-With:
/// XMLHttpRequest` (the page marks all of its own). A browser that sees a Basic challenge
/// on a script's request opens its own sign-in dialog, which keeps no message of ours and,
/// if the user types there, stores credentials the page can no longer forget. Without the
/// challenge the page gets the 401 and says what happened. Other clients (curl, scripts)
/// never send the marker and get the challenge as before.
pub async fn quiet_challenge(request: Request, next: Next) -> Response {
    let marked = request
        .headers()
        .get("x-requested-with")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    let mut response = next.run(request).await;
    if marked && response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use std::sync::Arc;
    use tower::ServiceExt;

    /// The whole router over a database that is never opened (the page needs none, and a
    /// request without credentials is refused before any is).
    fn app() -> Router {
        let dir = std::env::temp_dir().join("ucsv-page-test-never-opened.db");
        super::super::router(Arc::new(super::super::App {
            pool: super::super::pool::Pool::new(dir),
            auth: super::super::auth::Auth::new(),
            max_body: 1 << 20,
            body_timeout: std::time::Duration::from_secs(60),
            readers: Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .unwrap(),
            ),
            points: Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .build()
                    .unwrap(),
            ),
            metrics: Default::default(),
        }))
    }

    async fn get(path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::builder().uri(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        app()
            .oneshot(request.body(Body::empty()).expect("a request"))
            .await
            .expect("the router answers")
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
            .await
            .expect("a body");
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    }

    fn header_of<'r>(response: &'r Response, name: &str) -> &'r str {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[tokio::test]
    async fn page_is_served_without_sign_in_with_its_security_headers() {
        let response = get("/", &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header_of(&response, "content-type"),
            "text/html; charset=utf-8"
        );
        let csp = header_of(&response, "content-security-policy");
        assert!(csp.contains("default-src 'none'"), "CSP: {csp}");
        assert!(csp.contains("script-src 'self'"), "CSP: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "CSP: {csp}");
        assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
        assert!(text(response).await.contains("<title>ucsv"));
    }

    #[tokio::test]
    async fn every_asset_the_page_names_is_served_with_its_type() {
        for (name, kind) in [
            ("app.js", "text/javascript"),
            ("style.css", "text/css"),
            ("icon.svg", "image/svg+xml"),
        ] {
            assert!(
                INDEX.contains(&format!("/assets/{name}")),
                "index.html links /assets/{name}"
            );
            let response = get(&format!("/assets/{name}"), &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert!(
                header_of(&response, "content-type").starts_with(kind),
                "{name}"
            );
            assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
        }
        assert_eq!(
            get("/assets/other.js", &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn page_loads_nothing_from_another_origin() {
        for (name, text) in [
            ("index.html", INDEX),
            ("app.js", SCRIPT),
            ("style.css", STYLE),
        ] {
            for outside in ["http://", "https://", "//fonts.", "@import", "url(http"] {
                assert!(!text.contains(outside), "{name} holds '{outside}'");
            }
        }
        // The script keeps the credentials in memory only.
        for storage in ["localStorage", "sessionStorage", "document.cookie"] {
            assert!(!SCRIPT.contains(storage), "app.js uses {storage}");
        }
    }

    #[tokio::test]
    async fn a_401_to_the_page_has_no_challenge_but_other_clients_keep_it() {
        let marked = get("/1.1/me", &[("X-Requested-With", "XMLHttpRequest")]).await;
        assert_eq!(marked.status(), StatusCode::UNAUTHORIZED);
        assert!(marked.headers().get("www-authenticate").is_none());
        assert!(text(marked).await.contains("unauthorized"));
        let plain = get("/1.1/me", &[]).await;
        assert_eq!(plain.status(), StatusCode::UNAUTHORIZED);
        assert!(header_of(&plain, "www-authenticate").starts_with("Basic"));
    }
}
