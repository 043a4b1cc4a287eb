//! The page of SPEC §8.1 at `GET /`: the "Import a file" flow of XiVO in a browser, over the
//! API of this server and nothing else. Its files (`page/index.html`, `page/style.css`, the
//! icon, and the script as native JavaScript modules, `page/main.js` importing the others;
//! plain HTML, CSS and JavaScript with no build step) are built into the binary, so a server
//! is complete on its own: no CDN, no external font, nothing to deploy beside it.
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

/// The type of the script's modules.
const JS: &str = "text/javascript; charset=utf-8";

/// The files under `/assets/`: name, type and text. The script is native modules served as
/// they are: `index.html` loads `main.js`, which imports the others by relative paths
/// (`./api.js`), so from `/assets/` too.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("page/style.css"),
    ),
    // A browser asks for an icon; without one each visit logs a 404.
    ("icon.svg", "image/svg+xml", include_str!("page/icon.svg")),
    ("main.js", JS, include_str!("page/main.js")),
    ("session.js", JS, include_str!("page/session.js")),
    ("api.js", JS, include_str!("page/api.js")),
    ("state.js", JS, include_str!("page/state.js")),
    ("csv.js", JS, include_str!("page/csv.js")),
    ("importing.js", JS, include_str!("page/importing.js")),
    ("preview.js", JS, include_str!("page/preview.js")),
    ("result.js", JS, include_str!("page/result.js")),
    ("users.js", JS, include_str!("page/users.js")),
    ("batches.js", JS, include_str!("page/batches.js")),
    ("dom.js", JS, include_str!("page/dom.js")),
];

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

/// `GET /assets/{name}`: the style sheet, the icon and the script's modules; 404 for any
/// other name.
async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some(&(_, content_type, body)) => page(content_type, body),
        None => super::ApiError::not_found("no such asset").into_response(),
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
    use std::collections::BTreeSet;
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

    /// The script's modules: the assets whose name ends in `.js`.
    fn modules() -> impl Iterator<Item = (&'static str, &'static str)> {
        ASSETS
            .iter()
            .filter(|(name, _, _)| name.ends_with(".js"))
            .map(|&(name, _, text)| (name, text))
    }

    /// The assets the HTML links: `/assets/NAME"`.
    fn linked(html: &str) -> Vec<String> {
        html.split("/assets/")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap_or("").to_owned())
            .collect()
    }

    /// The modules a module imports (`import { .. } from './NAME';`), each a module beside
    /// it, so under `/assets/` on this origin.
    fn imported(from: &str, module: &str) -> Vec<String> {
        let mut names = Vec::new();
        for line in module.lines().filter(|l| l.starts_with("import ")) {
            let path = line
                .split(" from '")
                .nth(1)
                .and_then(|rest| rest.split('\'').next())
                .unwrap_or_else(|| panic!("{from}: an import without a path: {line}"));
            let name = path
                .strip_prefix("./")
                .filter(|name| !name.contains('/'))
                .unwrap_or_else(|| panic!("{from} imports '{path}', not a module beside it"));
            names.push(name.to_owned());
        }
        names
    }

    #[tokio::test]
    async fn every_asset_the_page_names_is_served_with_its_type() {
        assert!(
            INDEX.contains(r#"<script type="module" src="/assets/main.js">"#),
            "index.html loads main.js as a module"
        );
        let mut named: BTreeSet<String> = linked(INDEX).into_iter().collect();
        for (name, text) in modules() {
            assert!(text.starts_with("// "), "{name} opens with what it owns");
            named.extend(imported(name, text));
        }
        for name in &named {
            let kind = match name.rsplit('.').next() {
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                Some("svg") => "image/svg+xml",
                _ => panic!("an asset of an unknown type: {name}"),
            };
            let response = get(&format!("/assets/{name}"), &[]).await;
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert!(
                header_of(&response, "content-type").starts_with(kind),
                "{name}"
            );
            assert_eq!(header_of(&response, "x-content-type-options"), "nosniff");
            assert!(
                header_of(&response, "content-security-policy").contains("script-src 'self'"),
                "{name}"
            );
        }
        // And nothing is served that the page never loads.
        for (name, _, _) in ASSETS {
            assert!(named.contains(*name), "{name} is loaded by no one");
        }
        assert_eq!(
            get("/assets/other.js", &[]).await.status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn page_loads_nothing_from_another_origin() {
        let files = ASSETS
            .iter()
            // The icon's only URL is the SVG namespace, which is never fetched.
            .filter(|(name, _, _)| *name != "icon.svg")
            .map(|&(name, _, text)| (name, text));
        for (name, text) in std::iter::once(("index.html", INDEX)).chain(files) {
            for outside in ["http://", "https://", "//fonts.", "@import", "url(http"] {
                assert!(!text.contains(outside), "{name} holds '{outside}'");
            }
        }
        // The script keeps the credentials in memory only.
        for (name, text) in modules() {
            for storage in ["localStorage", "sessionStorage", "document.cookie"] {
                assert!(!text.contains(storage), "{name} uses {storage}");
            }
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
