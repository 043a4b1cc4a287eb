//! `ucsv serve`: opens (or creates) the database once, then serves until stopped.

use super::Context;
use crate::cli::ServeArgs;
use crate::error::Result;

/// Serves the API; returns the exit status once stopped.
pub fn run(ctx: &Context, args: &ServeArgs) -> Result<u8> {
    // Created (with the default reference data) and migrated now, not by the first request.
    drop(ctx.store()?);
    let opts = crate::serve::Options {
        listen: args.listen,
        db: ctx.db.to_path_buf(),
        max_body: args.max_body,
        body_timeout: std::time::Duration::from_secs(args.body_timeout),
        grace: std::time::Duration::from_secs(args.grace),
    };
    crate::serve::run(opts, |addr| {
        // Always said (even with -q): with --listen ...:0 it is how a client learns the port.
        eprintln!("ucsv: serving http://{addr}/ (stop with ctrl-C or SIGTERM)");
    })?;
    ctx.say("ucsv: stopped\n");
    Ok(0)
}
