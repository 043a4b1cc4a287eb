//! The server's errors: a status and a JSON body, `{"errors": [{"message", "code", ...}]}`,
//! for every failure (SPEC §8: every error body is JSON). A fatal [`Error`] of the core
//! maps to the status that says whose fault it is.

use crate::error::Error;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use miette::Diagnostic;
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

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let status = match &e {
            Error::Busy { .. } => StatusCode::CONFLICT,
            Error::Input { source, .. }
                if source
                    .get_ref()
                    .is_some_and(|inner| inner.is::<super::body::TooLarge>()) =>
            {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            Error::Input { source, .. }
                if source
                    .get_ref()
                    .is_some_and(|inner| inner.is::<super::body::Stalled>()) =>
            {
                StatusCode::REQUEST_TIMEOUT
            }
            Error::Input { .. }
            | Error::Csv { .. }
            | Error::Header { .. }
            | Error::Encoding { .. }
            | Error::Decode { .. }
            | Error::UnknownEncoding(_)
            | Error::Usage { .. }
            | Error::Reference { .. } => StatusCode::BAD_REQUEST,
            Error::Output { .. } | Error::Database { .. } | Error::DatabaseExists(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let code = e.code().map_or_else(|| "error".into(), |c| c.to_string());
        let mut item = json!({"code": code, "message": e.to_string()});
        if let Some(help) = e.help() {
            item["help"] = Value::String(help.to_string());
        }
        ApiError {
            status,
            body: json!({ "errors": [item] }),
        }
    }
}
