//! The server's log, with `tracing`, on stderr: a line per request (time, account, method,
//! route, status, duration, request id) and the server's own events (an import's start and
//! outcome, a certificate read again, the stop), as text or JSON lines (`--log-format`),
//! filtered as `RUST_LOG` says (default: `info`; e.g. `RUST_LOG=warn` keeps only problems,
//! `RUST_LOG=ucsv::request=off` drops the request lines).
//!
//! No secret is ever logged: a request is logged by its route (`/1.1/users/{key}`, never
//! the path or the query, which hold data) and its status; an event carries counts and
//! names, never a body.

use crate::error::{Error, Result};
use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The target of the request lines.
pub const REQUEST: &str = "ucsv::request";

/// How the lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// `TIME ACCOUNT METHOD ROUTE STATUS DURATIONms id=ID` for a request; `ucsv: ...`
    /// for an event.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, the fields).
    Json,
}

/// Starts the log: `RUST_LOG`, if set, must be a filter (`info`, `ucsv=debug,warn`...).
pub fn init(format: LogFormat) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::builder()
        .with_default_directive(tracing::level_filters::LevelFilter::INFO.into())
        .from_env()
        .map_err(|e| Error::Usage {
            message: format!("RUST_LOG is not a log filter: {e}"),
            help: "e.g. RUST_LOG=info, RUST_LOG=warn or RUST_LOG=ucsv::request=off".into(),
        })?;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(false);
    // A second start (the tests' servers run in their own processes) keeps the first.
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.event_format(Text).try_init(),
    };
    Ok(())
}

/// The text lines.
struct Text;

impl<S, N> FormatEvent<S, N> for Text
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let get = |name: &str| {
            fields
                .pairs
                .iter()
                .find(|(k, _)| k == name)
                .map_or("-", |(_, v)| v.as_str())
        };
        if event.metadata().target() == REQUEST {
            return writeln!(
                writer,
                "{} {} {} {} {} {}ms id={}",
                crate::domain::accounts::now(),
                get("account"),
                get("method"),
                get("route"),
                get("status"),
                get("duration_ms"),
                get("request_id"),
            );
        }
        let level = *event.metadata().level();
        let mut line = String::from("ucsv: ");
        if level <= tracing::Level::WARN {
            let _ = write!(line, "{}: ", level.as_str().to_lowercase());
        }
        line.push_str(&fields.message);
        for (k, v) in &fields.pairs {
            let _ = write!(line, " {k}={v}");
        }
        writeln!(writer, "{line}")
    }
}

/// An event's message and its other fields, in order.
#[derive(Default)]
struct Fields {
    message: String,
    pairs: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.pairs.push((
                field.name().to_string(),
                crate::escape::escape(value).into(),
            ));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.pairs.push((field.name().to_string(), text));
        }
    }
}

/// A request's id: the client's `X-Request-Id` when it is one (1 to 128 visible ASCII
/// characters, no space), else a new one.
pub fn request_id(headers: &axum::http::HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_the_clients_when_it_is_one_else_a_new_one() {
        let mut h = axum::http::HeaderMap::new();
        let new = request_id(&h);
        assert_eq!(new.len(), 32);
        assert_ne!(request_id(&h), new, "each is new");
        h.insert("x-request-id", "abc-123".parse().unwrap());
        assert_eq!(request_id(&h), "abc-123");
        for bad in ["a b", "", &"x".repeat(129)] {
            h.insert("x-request-id", bad.parse().unwrap());
            assert_ne!(request_id(&h), bad);
        }
    }
}
