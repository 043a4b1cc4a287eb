//! The server's errors: a status and a JSON body, `{"errors": [{"message", "code", ...}]}`,
//! for every failure (SPEC §8: every error body is JSON). A fatal [`Error`] of the core
//! maps to the status that says whose fault it is.

use crate::error::Error;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A refused or failed request.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: Value,
}

impl ApiError {
    /// An error with one message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({"errors": [{"code": code, "message": message.into()}]}),
        }
    }

    /// 400.
    pub fn bad(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 400 about a query parameter, which the error names (`"parameter"`).
    pub fn bad_parameter(code: &str, parameter: &str, message: impl Into<String>) -> Self {
        let mut e = Self::bad(code, message);
        e.body["errors"][0]["parameter"] = parameter.into();
        e
    }

    /// 400 about a field of the body, which the error names (`"column"`); the code is
    /// `<field>.<kind>`.
    pub fn bad_field(field: &str, kind: &str, message: impl Into<String>) -> Self {
        let mut e = Self::bad(&format!("{field}.{kind}"), message);
        e.body["errors"][0]["column"] = field.into();
        e
    }

    /// 401: no credentials, or not good ones (never which).
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in with the name and password of an active account (HTTP Basic)",
        )
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500.
    pub fn internal(message: &str) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A body with the status.
    pub fn with_body(status: StatusCode, body: Value) -> Self {
        ApiError { status, body }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"ucsv\", charset=\"UTF-8\""),
            );
        }
        response
    }
}

/// A core error's help, if it speaks of the request rather than of the command line (no
/// flag, no command).
fn http_help(help: &str) -> Option<String> {
    (!help.contains("--") && !help.contains('`')).then(|| help.to_string())
}

impl From<Error> for ApiError {
    /// A failure of the core, worded for HTTP: a dotted code of the request's part at
    /// fault (`body.*`, `content_type.*`, `request.*`, `database.*`) and advice that names
    /// headers and parameters, never command-line flags.
    fn from(e: Error) -> Self {
        let charset =
            "declare the body's encoding in its Content-Type, e.g. text/csv; charset=windows-1252";
        let (status, code, help): (StatusCode, &str, Option<String>) = match &e {
            Error::Busy { .. } => (
                StatusCode::CONFLICT,
                "database.busy",
                Some("another writer holds the database; try again when it has finished".into()),
            ),
            Error::Input { source, .. }
                if source
                    .get_ref()
                    .is_some_and(|inner| inner.is::<super::body::TooLarge>()) =>
            {
                (StatusCode::PAYLOAD_TOO_LARGE, "body.too_large", None)
            }
            Error::Input { source, .. }
                if source
                    .get_ref()
                    .is_some_and(|inner| inner.is::<super::body::Stalled>()) =>
            {
                (StatusCode::REQUEST_TIMEOUT, "body.timeout", None)
            }
            Error::Input { .. } => (
                StatusCode::BAD_REQUEST,
                "body.unreadable",
                Some("send the body again".into()),
            ),
            Error::Csv { help, .. } => (
                StatusCode::BAD_REQUEST,
                "body.csv",
                Some(http_help(help).unwrap_or_else(|| {
                    "fix the CSV at that line (quotes are doubled inside a quoted cell)".into()
                })),
            ),
            Error::Header { help, .. } => (
                StatusCode::BAD_REQUEST,
                "body.header",
                Some(http_help(help).unwrap_or_else(|| {
                    "the first line of the CSV names its columns (the import columns of the README)"
                        .into()
                })),
            ),
            Error::Encoding { .. } => (
                StatusCode::BAD_REQUEST,
                "body.encoding",
                Some(charset.into()),
            ),
            Error::Decode { help, .. } => (
                StatusCode::BAD_REQUEST,
                "body.encoding",
                Some(http_help(help).unwrap_or_else(|| charset.into())),
            ),
            Error::UnknownEncoding(_) => (
                StatusCode::BAD_REQUEST,
                "content_type.charset",
                Some(
                    "use a WHATWG label such as utf-8, windows-1252, iso-8859-15, utf-16le".into(),
                ),
            ),
            Error::Usage { help, .. } => {
                (StatusCode::BAD_REQUEST, "request.invalid", http_help(help))
            }
            Error::Reference { .. } => (StatusCode::BAD_REQUEST, "request.invalid", None),
            Error::Full { .. } => (
                StatusCode::INSUFFICIENT_STORAGE,
                "database.full",
                Some("the disk holding the database is full: nothing was written".into()),
            ),
            Error::Unavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "database.unavailable",
                Some(
                    "nothing was written; send the request again when the database is back".into(),
                ),
            ),
            Error::Output { .. } | Error::Database { .. } | Error::DatabaseExists(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "database.error", None)
            }
        };
        let message = match &e {
            Error::UnknownEncoding(label) => {
                format!("the Content-Type's charset '{label}' is not an encoding")
            }
            other => other.to_string(),
        };
        let mut item = json!({"code": code, "message": message});
        if let Some(help) = help {
            item["help"] = Value::String(help);
        }
        ApiError {
            status,
            body: json!({ "errors": [item] }),
        }
    }
}
