//! `POST /1.1/users/import` (create), `PUT /1.1/users/import` (update) and
//! `GET /1.1/users/export`: the batch commands over HTTP. The CSV body is read by the
//! pipeline as it arrives; the answer (Wazo's `{"created": [...]}` / `{"errors": [...]}`,
//! or with `Accept: application/vnd.ucsv.report+json` the report of SPEC §5) is spooled to
//! a temporary file as rows come, then sent: memory stays bounded whatever the file's size.
//! `report_limit=N` bounds the answer too ([`Capped`]): a client that shows it (the page)
//! asks for the entries of the first rows only, the counts still covering every row.

use super::auth::Caller;
use super::body;
use super::params::{self, Query};
use super::{blocking, ApiError, AppState};
use crate::columns;
use crate::domain::accounts::Action;
use crate::error::{Error, Result};
use crate::pipeline::{self, ApplyOptions, Mode};
use crate::read::{InputOptions, Source};
use crate::report::{Issue, Outcome, Rejected};
use crate::sink::{Json, Sink};
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::io::{BufWriter, Seek, Write};

/// The media type of the report of SPEC §5.
const REPORT: &str = "application/vnd.ucsv.report+json";

/// How often a long import over HTTP says in the log how far it is.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The command a mode runs.
fn command_of(mode: Mode) -> &'static str {
    if mode == Mode::Import {
        "import"
    } else {
        "update"
    }
}

/// `POST /1.1/users/import?dry_run&keep_going&report_limit`.
pub async fn import(
    state: AppState,
    caller: Caller,
    q: RawQuery,
    headers: HeaderMap,
    body: Body,
) -> std::result::Result<Response, ApiError> {
    run(state, caller, q, headers, body, Mode::Import).await
}

/// `PUT /1.1/users/import?dry_run&keep_going&report_limit`.
pub async fn update(
    state: AppState,
    caller: Caller,
    q: RawQuery,
    headers: HeaderMap,
    body: Body,
) -> std::result::Result<Response, ApiError> {
    run(state, caller, q, headers, body, Mode::Update).await
}

/// The encoding a `text/csv` body announces (`None`: UTF-8); 415 for another type.
fn csv_encoding(headers: &HeaderMap) -> std::result::Result<Option<String>, ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = value.split(';');
    if !parts
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
    {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "the body is a CSV file: send Content-Type: text/csv (with ; charset=... for another encoding than UTF-8)",
        ));
    }
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    });
    Ok(charset.filter(|c| !c.eq_ignore_ascii_case("utf-8") && !c.eq_ignore_ascii_case("utf8")))
}

async fn run(
    State(app): AppState,
    caller: Caller,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Body,
    mode: Mode,
) -> std::result::Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::USERS_IMPORT)?;
    caller.allow(Action::Write)?;
    let encoding = csv_encoding(&headers)?;
    body::check_length(&headers, app.max_body)?;
    let dry_run = q.flag("dry_run");
    let keep_going = q.flag("keep_going");
    let limit = q.number("report_limit");
    let report = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(REPORT));
    let reader = body::reader(body, app.max_body, app.body_timeout);
    let entity = caller.entity;
    let mut origin = caller.origin(if mode == Mode::Import {
        "POST /1.1/users/import"
    } else {
        "PUT /1.1/users/import"
    });
    // The file's name, as the client gives it, is the history's source.
    if let Some(name) = q.text("filename") {
        if name.is_empty() || name.chars().count() > 255 || name.chars().any(char::is_control) {
            return Err(ApiError::bad_parameter(
                "query.invalid",
                "filename",
                "filename must be 1 to 255 characters, none of them a control character",
            ));
        }
        origin.route = name.to_string();
    }
    let who = caller.account.username.clone();
    tracing::info!(
        target: "ucsv::import",
        account = who.as_str(),
        dry_run,
        "{} started",
        command_of(mode),
    );
    let started = std::time::Instant::now();
    let counted = app.clone();
    let (status, file) = blocking(move || {
        let _in_flight = counted.metrics.import_started();
        let mut store = app.pool.get()?;
        let opts = InputOptions {
            encoding,
            delimiter: None,
            strict: false,
        };
        let mut source = Source::from_reader("the request body".into(), reader, &opts)?;
        // A dry run never holds the database's write lock (see `Store::snapshot`).
        let mut copy = dry_run.then(|| store.snapshot()).transpose()?;
        let target = copy.as_mut().unwrap_or(&mut store);
        let opts = ApplyOptions {
            command: command_of(mode),
            mode,
            history: (!dry_run).then(|| origin.batch(command_of(mode))),
            dry_run,
            keep_going,
            entity,
            confine: true,
            progress: crate::progress::Progress::logged(
                format!("{} by {who}", command_of(mode)),
                PROGRESS_EVERY,
            ),
        };
        let spool = || tempfile::tempfile().map_err(|e| spool_error(&e));
        let (outcome, mut file) = if report {
            let mut sink = Json::new(BufWriter::new(spool()?), "the response");
            let outcome = pipeline::run(
                target,
                &mut source,
                &opts,
                &mut Capped::new(&mut sink, limit),
            )?;
            sink.finish(&outcome)?;
            let file = sink
                .into_inner()
                .into_inner()
                .map_err(|e| spool_error(e.error()))?;
            (outcome, file)
        } else {
            let mut sink = Wazo::new(&source, spool()?, spool()?);
            let outcome = pipeline::run(
                target,
                &mut source,
                &opts,
                &mut Capped::new(&mut sink, limit),
            )?;
            let file = sink.into_body(&outcome, spool()?)?;
            (outcome, file)
        };
        file.rewind().map_err(|e| spool_error(&e))?;
        let updated = outcome.summary.updated.get("users").copied().unwrap_or(0);
        if !outcome.dry_run {
            let (created, changed) = if outcome.committed {
                (outcome.summary.created.users, updated)
            } else {
                (0, 0)
            };
            counted
                .metrics
                .rows(created, changed, outcome.summary.rejected);
        }
        tracing::info!(
            target: "ucsv::import",
            account = who.as_str(),
            command = outcome.command,
            dry_run = outcome.dry_run,
            rows = outcome.rows,
            created = outcome.summary.created.users,
            updated,
            rejected = outcome.summary.rejected,
            committed = outcome.committed,
            seconds = format!("{:.3}", started.elapsed().as_secs_f64()),
            "{} of {} rows {}",
            outcome.command,
            outcome.rows,
            if outcome.dry_run {
                "checked (dry run)"
            } else if outcome.committed {
                "committed"
            } else {
                "refused: nothing written"
            },
        );
        let status = if outcome.dry_run {
            StatusCode::OK
        } else if !outcome.committed {
            StatusCode::BAD_REQUEST
        } else if mode == Mode::Import {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok((status, file))
    })
    .await?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let kind = if report { REPORT } else { "application/json" };
    Ok((
        status,
        [(header::CONTENT_TYPE, kind)],
        Body::from_stream(stream),
    )
        .into_response())
}

fn spool_error(e: &std::io::Error) -> Error {
    Error::Output {
        path: "a temporary file of the response".into(),
        source: std::io::Error::new(e.kind(), e.to_string()),
    }
}

/// `report_limit=N`: the answer's lists keep the entries of their first `N` rows each
/// (created, updated, rejected with all of a row's errors, warnings of rows; the header's
/// warnings always), and the counts of the report still cover every row. A dry run of a
/// million good rows lists a million created users, hundreds of megabytes that a browser
/// would have to parse to show twenty of them; the page asks for what it can show and
/// learns from the counts that a list was cut.
struct Capped<'s> {
    inner: &'s mut dyn Sink,
    limit: Option<u64>,
    created: u64,
    updated: u64,
    rejected: u64,
    warned: u64,
}

impl<'s> Capped<'s> {
    fn new(inner: &'s mut dyn Sink, limit: Option<u64>) -> Self {
        Capped {
            inner,
            limit,
            created: 0,
            updated: 0,
            rejected: 0,
            warned: 0,
        }
    }
}

/// Counts one more entry; whether it is within `limit`.
fn within(count: &mut u64, limit: Option<u64>) -> bool {
    *count += 1;
    limit.is_none_or(|l| *count <= l)
}

impl Sink for Capped<'_> {
    fn warning(&mut self, warning: &Issue) -> Result<()> {
        if warning.row_number.is_none() || within(&mut self.warned, self.limit) {
            self.inner.warning(warning)?;
        }
        Ok(())
    }

    fn created(&mut self, created: &crate::domain::Created) -> Result<()> {
        if within(&mut self.created, self.limit) {
            self.inner.created(created)?;
        }
        Ok(())
    }

    fn updated(&mut self, updated: &crate::domain::update::Updated) -> Result<()> {
        if within(&mut self.updated, self.limit) {
            self.inner.updated(updated)?;
        }
        Ok(())
    }

    fn rejected(&mut self, row: &Rejected) -> Result<()> {
        if within(&mut self.rejected, self.limit) {
            self.inner.rejected(row)?;
        }
        Ok(())
    }

    fn rows_done(&mut self) -> Result<()> {
        self.inner.rows_done()
    }

    fn finish(&mut self, outcome: &Outcome) -> Result<()> {
        self.inner.finish(outcome)
    }
}

/// Wazo's answer, spooled: each created (or updated) row as it comes, each error of a
/// rejected row as Wazo shows it (`{"message", "timestamp", "details": {"row": {cells},
/// "row_number"}}`, with our `code` and `column` beside the message). Secret cells are
/// masked in `row`.
struct Wazo {
    /// The header's names, and whether each column's cells are secret.
    names: Vec<(String, bool)>,
    applied: Spool,
    errors: Spool,
    timestamp: f64,
}

/// A JSON list's entries, written to a temporary file as they come.
struct Spool {
    out: BufWriter<std::fs::File>,
    count: u64,
}

impl Spool {
    fn new(file: std::fs::File) -> Self {
        Spool {
            out: BufWriter::new(file),
            count: 0,
        }
    }

    fn push(&mut self, entry: &impl serde::Serialize) -> Result<()> {
        let sep: &[u8] = if self.count == 0 { b"" } else { b", " };
        self.out
            .write_all(sep)
            .map_err(|e| spool_error(&e))
            .and_then(|()| {
                serde_json::to_writer(&mut self.out, entry)
                    .map_err(|e| spool_error(&std::io::Error::other(e)))
            })?;
        self.count += 1;
        Ok(())
    }

    /// Copies the entries into `out`.
    fn copy_to(self, out: &mut impl Write) -> Result<()> {
        let mut file = self.out.into_inner().map_err(|e| spool_error(e.error()))?;
        file.rewind().map_err(|e| spool_error(&e))?;
        std::io::copy(&mut file, out).map_err(|e| spool_error(&e))?;
        Ok(())
    }
}

impl Wazo {
    fn new(source: &Source, applied: std::fs::File, errors: std::fs::File) -> Self {
        let names = source
            .header
            .names
            .iter()
            .map(|name| {
                let secret = columns::lookup(name)
                    .map_or_else(|| columns::looks_secret(name), |c| c.def().is_secret());
                (name.trim_start_matches('\u{feff}').to_string(), secret)
            })
            .collect();
        Wazo {
            names,
            applied: Spool::new(applied),
            errors: Spool::new(errors),
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }
    }

    /// The whole answer, in `out`.
    fn into_body(self, outcome: &Outcome, out: std::fs::File) -> Result<std::fs::File> {
        let mut out = BufWriter::new(out);
        let io = |e: std::io::Error| spool_error(&e);
        let key = if outcome.is_update {
            "updated"
        } else {
            "created"
        };
        out.write_all(b"{").map_err(io)?;
        let applied = outcome.committed || outcome.dry_run;
        if applied {
            write!(out, "\"{key}\": [").map_err(io)?;
            self.applied.copy_to(&mut out)?;
            out.write_all(b"]").map_err(io)?;
        }
        if self.errors.count > 0 || !applied {
            if applied {
                out.write_all(b", ").map_err(io)?;
            }
            out.write_all(b"\"errors\": [").map_err(io)?;
            self.errors.copy_to(&mut out)?;
            out.write_all(b"]").map_err(io)?;
        }
        out.write_all(b"}\n").map_err(io)?;
        out.into_inner().map_err(|e| spool_error(e.error()))
    }
}

impl Sink for Wazo {
    fn created(&mut self, created: &crate::domain::Created) -> Result<()> {
        self.applied.push(created)
    }

    fn updated(&mut self, updated: &crate::domain::update::Updated) -> Result<()> {
        self.applied.push(updated)
    }

    fn rejected(&mut self, row: &Rejected) -> Result<()> {
        let mut cells = serde_json::Map::new();
        for (i, (name, secret)) in self.names.iter().enumerate() {
            if name.trim().is_empty() {
                continue;
            }
            let cell = row.record.get(i).unwrap_or("");
            let shown = if *secret && !cell.is_empty() {
                "********"
            } else {
                cell
            };
            cells.insert(name.clone(), shown.into());
        }
        let cells = serde_json::Value::Object(cells);
        for e in &row.errors {
            self.errors.push(&serde_json::json!({
                "message": e.message,
                "code": e.code,
                "column": e.column,
                "timestamp": self.timestamp,
                "details": {"row": cells, "row_number": row.row_number},
            }))?;
        }
        Ok(())
    }
}

/// `GET /1.1/users/export?columns&no_secrets&entity`: the CSV of `ucsv export`, streamed.
pub async fn export(
    State(app): AppState,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> std::result::Result<Response, ApiError> {
    let q = Query::parse(raw.as_deref(), params::USERS_EXPORT)?;
    let entity = caller.named_or_chosen(q.filled("entity"))?;
    caller.allow_in(Action::Write, entity)?;
    let names: Vec<String> = q
        .text("columns")
        .map(|c| {
            c.split(',')
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let columns = crate::export::pick_columns(&names, q.flag("no_secrets")).map_err(|e| {
        let message = match e {
            crate::export::ColumnsProblem::SecretLeftOut(c) => format!(
                "columns names the secret column '{}' but no_secrets leaves secrets out",
                c.name()
            ),
            crate::export::ColumnsProblem::Unknown { name, closest } => {
                let mut m = format!("columns: '{name}' is not an exported column");
                if let Some(c) = closest {
                    m += &format!(" (did you mean '{c}'?)");
                }
                m
            }
        };
        ApiError::bad_parameter("query.invalid", "columns", message)
    })?;
    // No read turn: an export lasts as long as its client reads, and must not hold up the
    // short reads.
    let mut response = body::streamed("text/csv; charset=utf-8", None, move |ready, out| {
        let store = app.pool.get()?;
        ready();
        let opts = crate::export::ExportOptions {
            entity,
            columns,
            progress: crate::progress::Progress::new(false, None, false),
            excel_safe: false,
        };
        let mut writer = csv::Writer::from_writer(out);
        crate::export::write(&store, &opts, &mut writer)?;
        writer.flush().map_err(|e| Error::Output {
            path: "the response".into(),
            source: e,
        })?;
        Ok(())
    })
    .await?;
    response.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"users.csv\""),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RowError;

    /// What reached the sink behind the cap.
    #[derive(Default)]
    struct Seen {
        created: Vec<u64>,
        rejected: Vec<u64>,
        warnings: Vec<Option<u64>>,
    }

    impl Sink for Seen {
        fn warning(&mut self, w: &Issue) -> Result<()> {
            self.warnings.push(w.row_number);
            Ok(())
        }
        fn created(&mut self, c: &crate::domain::Created) -> Result<()> {
            self.created.push(c.row_number);
            Ok(())
        }
        fn rejected(&mut self, row: &Rejected) -> Result<()> {
            self.rejected.push(row.row_number);
            Ok(())
        }
    }

    fn feed(limit: Option<u64>) -> Seen {
        let mut seen = Seen::default();
        let mut capped = Capped::new(&mut seen, limit);
        let warning = |row_number| Issue {
            row_number,
            line: 1,
            column: None,
            code: "w".into(),
            message: "w".into(),
        };
        capped.warning(&warning(None)).expect("forwarded");
        for n in 1..=5 {
            capped.warning(&warning(Some(n))).expect("forwarded");
            let created = crate::domain::Created {
                row_number: n,
                ..Default::default()
            };
            capped.created(&created).expect("forwarded");
            let rejected = Rejected {
                row_number: 10 + n,
                line: 11 + n,
                record: csv::StringRecord::new(),
                errors: vec![RowError {
                    column: None,
                    code: "x".into(),
                    message: "x".into(),
                    help: None,
                }],
            };
            capped.rejected(&rejected).expect("forwarded");
        }
        seen
    }

    #[test]
    fn report_limit_keeps_the_first_rows_of_each_list_and_the_header_warnings() {
        let seen = feed(Some(2));
        assert_eq!(seen.created, [1, 2]);
        assert_eq!(seen.rejected, [11, 12]);
        assert_eq!(seen.warnings, [None, Some(1), Some(2)]);
    }

    #[test]
    fn without_report_limit_every_entry_passes() {
        let seen = feed(None);
        assert_eq!(seen.created, [1, 2, 3, 4, 5]);
        assert_eq!(seen.rejected, [11, 12, 13, 14, 15]);
        assert_eq!(seen.warnings.len(), 6);
    }
}
