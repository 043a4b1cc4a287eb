//! `ucsv serve`: opens (or creates) the database once, then serves until stopped.

use super::Context;
use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::serve::log::LogFormat;

/// Serves the API; returns the exit status once stopped.
pub fn run(ctx: &Context, args: &ServeArgs) -> Result<u8> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(std::sync::Arc::new(crate::serve::tls::Tls::load(
            cert, key,
        )?)),
        _ => None,
    };
    if tls.is_none() && !args.listen.ip().is_loopback() && !args.insecure_http {
        return Err(Error::Usage {
            message: format!(
                "refusing to listen on {} without TLS: every request carries an account's \
                 password (HTTP Basic), which anyone on the network could read",
                args.listen
            ),
            help: "give --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy; \
                   --insecure-http serves plain HTTP anyway"
                .into(),
        });
    }
    crate::serve::log::init(args.log_format)?;
    // Created (with the default reference data) and migrated now, not by the first request.
    drop(ctx.store()?);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let opts = crate::serve::Options {
        listen: args.listen,
        db: ctx.db.to_path_buf(),
        max_body: args.max_body,
        body_timeout: std::time::Duration::from_secs(args.body_timeout),
        grace: std::time::Duration::from_secs(args.grace),
        tls,
    };
    crate::serve::run(opts, |addr| {
        // Always said (even with -q or RUST_LOG=warn): with --listen ...:0 it is how a
        // client learns the port.
        let message = format!("serving {scheme}://{addr}/ (stop with ctrl-C or SIGTERM)");
        match args.log_format {
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
