//! `ucsv serve`: its settings (options, their environment variables, a TOML file), then the
//! database opened (or created) once, then served until stopped.

use super::Context;
use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::serve::log::LogFormat;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The keys of `--config` (each also an option of `ucsv serve` and an environment
/// variable `UCSV_<KEY>`; `database` is `--db`, `UCSV_DB`).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    database: Option<PathBuf>,
    listen: Option<SocketAddr>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    insecure_http: Option<bool>,
    #[serde(default, deserialize_with = "size")]
    max_body: Option<u64>,
    body_timeout: Option<u64>,
    grace: Option<u64>,
    log_format: Option<LogFormat>,
}

/// A size: a number of bytes, or a text with a K, M or G suffix.
fn size<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<u64>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match <Size as serde::Deserialize>::deserialize(d)? {
        Size::Bytes(n) => Ok(Some(n)),
        Size::Text(t) => crate::cli::parse_size(&t)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// What `ucsv serve` runs with: an option (or its environment variable) first, then the
/// file, then the default.
#[derive(Debug)]
pub struct Settings {
    pub database: PathBuf,
    pub listen: SocketAddr,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub insecure_http: bool,
    pub max_body: u64,
    pub body_timeout: u64,
    pub grace: u64,
    pub log_format: LogFormat,
}

impl Settings {
    /// Merges `args` (and `db`, the global `--db`) over the file `--config` names.
    pub fn resolve(args: &ServeArgs, db: Option<&Path>) -> Result<Settings> {
        let file = match &args.config {
            Some(path) => read(path)?,
            None => File::default(),
        };
        let named = |key: &str| match &args.config {
            Some(path) => format!("{key} (in {})", path.display()),
            None => key.to_string(),
        };
        let tls = match (
            args.tls_cert.clone().or(file.tls_cert),
            args.tls_key.clone().or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(usage(
                    format!("{} is given without --tls-key", named("--tls-cert")),
                    "give the certificate's key with --tls-key (or tls_key in the file)",
                ))
            }
            (None, Some(_)) => {
                return Err(usage(
                    format!("{} is given without --tls-cert", named("--tls-key")),
                    "give the certificate with --tls-cert (or tls_cert in the file)",
                ))
            }
        };
        let body_timeout = args.body_timeout.or(file.body_timeout).unwrap_or(60);
        if body_timeout == 0 {
            return Err(usage(
                format!("{} must be 1 or more seconds", named("body_timeout")),
                "e.g. body_timeout = 60",
            ));
        }
        Ok(Settings {
            database: db
                .map(Path::to_path_buf)
                .or(file.database)
                .unwrap_or_else(|| PathBuf::from(super::DEFAULT_DB)),
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9486))),
            tls,
            insecure_http: args.insecure_http || file.insecure_http.unwrap_or(false),
            max_body: args.max_body.or(file.max_body).unwrap_or(1 << 30),
            body_timeout,
            grace: args.grace.or(file.grace).unwrap_or(30),
            log_format: args
                .log_format
                .or(file.log_format)
                .unwrap_or(LogFormat::Text),
        })
    }
}

fn usage(message: String, help: &str) -> Error {
    Error::Usage {
        message,
        help: help.into(),
    }
}

/// Reads `--config`: a clear error naming the file, and the key and line at fault.
fn read(path: &Path) -> Result<File> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        usage(
            format!("--config {}: {e}", path.display()),
            "give a TOML file of serve's settings",
        )
    })?;
    let file: File = toml::from_str(&text).map_err(|e| {
        usage(
            format!("--config {}: {}", path.display(), e.to_string().trim_end()),
            "the keys are database, listen, tls_cert, tls_key, insecure_http, max_body, \
             body_timeout, grace and log_format",
        )
    })?;
    // A file holding a password is not read if anyone may read it.
    if file.database.as_deref().is_some_and(holds_password) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        if mode & 0o004 != 0 {
            return Err(usage(
                format!(
                    "--config {}: its database URL holds a password, and every user of this \
                     machine may read the file (mode {:o})",
                    path.display(),
                    mode & 0o777
                ),
                &format!("chmod o-r {} (or 600)", path.display()),
            ));
        }
    }
    Ok(file)
}

/// Whether a database URL holds a password (`postgres://user:password@...`).
fn holds_password(db: &Path) -> bool {
    let url = db.to_string_lossy();
    crate::store::postgres::is_url(db)
        && url
            .split_once("://")
            .and_then(|(_, rest)| rest.split(['/', '?']).next())
            .and_then(|authority| authority.rsplit_once('@'))
            .is_some_and(|(user, _)| user.contains(':'))
}

/// Serves the API; returns the exit status once stopped.
pub fn run(ctx: &Context, s: Settings) -> Result<u8> {
    let tls = match &s.tls {
        Some((cert, key)) => Some(std::sync::Arc::new(crate::serve::tls::Tls::load(
            cert, key,
        )?)),
        None => None,
    };
    if tls.is_none() && !s.listen.ip().is_loopback() && !s.insecure_http {
        return Err(Error::Usage {
            message: format!(
                "refusing to listen on {} without TLS: every request carries an account's \
                 password (HTTP Basic), which anyone on the network could read",
                s.listen
            ),
            help: "give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy; \
                   --insecure-http serves plain HTTP anyway"
                .into(),
        });
    }
    crate::serve::log::init(s.log_format)?;
    // Created (with the default reference data) and migrated now, not by the first request.
    drop(ctx.store()?);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let opts = crate::serve::Options {
        listen: s.listen,
        db: ctx.db.to_path_buf(),
        max_body: s.max_body,
        body_timeout: std::time::Duration::from_secs(s.body_timeout),
        grace: std::time::Duration::from_secs(s.grace),
        tls,
    };
    let format = s.log_format;
    crate::serve::run(opts, |addr| {
        // Always said (even with -q or RUST_LOG=warn): with --listen ...:0 it is how a
        // client learns the port.
        let message = format!("serving {scheme}://{addr}/ (stop with ctrl-C or SIGTERM)");
        match format {
            LogFormat::Text => eprintln!("ucsv: {message}"),
            LogFormat::Json => eprintln!(
                "{}",
                serde_json::json!({
                    "timestamp": crate::domain::accounts::now(),
                    "level": "INFO",
                    "target": "ucsv::serve",
                    "message": message,
                })
            ),
        }
    })?;
    ctx.say("ucsv: stopped\n");
    Ok(0)
}
