//! `ucsv user add|set`: the numbers or targets become the rows of an import or an update
//! (the cells `--set` gives, `{dn}` replaced by each number), applied by the same pipeline
//! and domain, with the same rules, error codes and report; then the new users'
//! credentials (add) or the changed users (set) are printed.

use super::user_target::{targets, usage};
use super::Context;
use crate::cli::{Protocol, UserAddArgs, UserSetArgs};
use crate::columns::{self, Col};
use crate::domain::numbers::DnRange;
use crate::domain::port::UserKey;
use crate::domain::{Created, Domain};
use crate::error::{Error, Result};
use crate::pipeline::{self, ApplyOptions, Mode};
use crate::read::Source;
use crate::report::Outcome;
use crate::sink::{human::Human, json::Json, users::UserPrinter, Sink};
use crate::store::reference::Reference;
use std::io::IsTerminal;

/// The columns `user add` prints once for each new user.
const CREDENTIALS: [Col; 5] = [
    Col::Exten,
    Col::Uuid,
    Col::SipUsername,
    Col::SipSecret,
    Col::ProvisioningCode,
];

/// `--set COLUMN=VALUE` pairs, checked against the registry; `fixed` are the columns the
/// command sets itself.
fn sets(given: &[String], fixed: &[Col]) -> Result<Vec<(Col, String)>> {
    let mut out: Vec<(Col, String)> = Vec::new();
    for s in given {
        let Some((name, value)) = s.split_once('=') else {
            return Err(usage(
                format!("--set {s}: write COLUMN=VALUE"),
                "e.g. --set email={dn}@example.com",
            ));
        };
        let col = columns::lookup(name).ok_or_else(|| {
            usage(
                format!(
                    "--set {name}: no such column{}",
                    columns::closest(name)
                        .map_or(String::new(), |c| format!(" (did you mean '{c}'?)"))
                ),
                "any column of `ucsv columns`",
            )
        })?;
        if fixed.contains(&col) {
            return Err(usage(
                format!(
                    "--set {}: this command sets {} itself",
                    col.name(),
                    col.name()
                ),
                "the DN is the exten, --context its context, --protocol the line's protocol",
            ));
        }
        if out.iter().any(|(c, _)| *c == col) {
            return Err(usage(
                format!("--set {}: given twice", col.name()),
                "give each column once",
            ));
        }
        out.push((col, value.to_string()));
    }
    Ok(out)
}

/// Remembers the rows a run applied, beside the report.
#[derive(Default)]
struct Applied {
    /// (row number, user id) of each row created or changed.
    users: Vec<(u64, i64)>,
    /// (row number, uuid, credentials) of each user created.
    created: Vec<(u64, String, crate::domain::Credentials)>,
}

impl Sink for Applied {
    fn created(&mut self, created: &Created) -> Result<()> {
        self.users.push((created.row_number, created.user_id));
        self.created.push((
            created.row_number,
            created.user_uuid.clone(),
            created.credentials.clone().unwrap_or_default(),
        ));
        Ok(())
    }
    fn updated(&mut self, updated: &crate::domain::update::Updated) -> Result<()> {
        self.users.push((updated.row_number, updated.user_id));
        Ok(())
    }
}

/// What `user add` or `user set` asks of [`apply`].
struct Run<'a> {
    /// `user add` (created: import mode) or `user set` (update).
    command: &'static str,
    /// The numbers or the target, as given (the history's source).
    target: &'a str,
    keep_going: bool,
    entity: Option<i64>,
    /// The report as JSON, kept for the one document printed (`--format json`), instead
    /// of the human report on stderr.
    json: bool,
}

/// Applies the rows made by the command (see [`Source::from_rows`]) through the pipeline,
/// with the human report on stderr (or kept as JSON); returns the outcome, what the rows
/// applied and the JSON report.
fn apply(
    ctx: &Context,
    store: &mut crate::store::Store,
    run: &Run<'_>,
    mut source: Source,
) -> Result<(Outcome, Applied, Option<serde_json::Value>)> {
    let command = run.command;
    let mode = if command == "user add" {
        Mode::Import
    } else {
        Mode::Update
    };
    let opts = ApplyOptions {
        confine: false,
        command,
        mode,
        history: Some(super::cli_batch(
            command,
            format!("ucsv {command} {}", run.target),
        )),
        dry_run: false,
        keep_going: run.keep_going,
        entity: run.entity,
        progress: crate::progress::Progress::new(!ctx.quiet && !run.json, None, true),
    };
    if run.json {
        let mut sink = (Applied::default(), Json::new(Vec::new(), "the report"));
        let outcome = pipeline::run(store, &mut source, &opts, &mut sink)?;
        sink.finish(&outcome)?;
        let report = serde_json::from_slice(&sink.1.into_inner()).map_err(|e| Error::Output {
            path: "<stdout>".into(),
            source: std::io::Error::other(e),
        })?;
        return Ok((outcome, sink.0, Some(report)));
    }
    let report = Human::new(std::io::stderr(), &source)
        .color(std::io::stderr().is_terminal())
        .quiet(ctx.quiet);
    let mut sink = (Applied::default(), report);
    let outcome = pipeline::run(store, &mut source, &opts, &mut sink)?;
    sink.finish(&outcome)?;
    Ok((outcome, sink.0, None))
}

/// Prints `{"report": .., "users": ..}` on stdout: the report of the run, and the users
/// `printed` wrote as a JSON array (none when the run wrote nothing).
fn print_document(report: serde_json::Value, printed: Option<Vec<u8>>) -> Result<()> {
    let users = match printed {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Output {
            path: "<stdout>".into(),
            source: std::io::Error::other(e),
        })?,
        None => serde_json::Value::Array(Vec::new()),
    };
    let mut text = serde_json::to_string_pretty(&serde_json::json!({
        "report": report,
        "users": users,
    }))
    .unwrap_or_default();
    text.push('\n');
    super::stdout(text.as_bytes())
}

/// Writes `cols` of the users applied (when the run committed) to `out`.
fn print(
    ctx: &Context,
    out: impl std::io::Write,
    users: &[(u64, i64)],
    cols: Vec<Col>,
    format: crate::cli::UserFormat,
) -> Result<()> {
    let mut store = ctx.store()?;
    let reference = Reference::load(&store)?;
    let domain = Domain::new(store.begin()?, &reference, None);
    let mut out = UserPrinter::new(out, format, cols, false);
    out.begin()?;
    for (_, id) in users {
        if let Some(user) = domain.show(&UserKey::Id(*id))? {
            let cells: Vec<&str> = out.columns().iter().map(|c| user.get(*c)).collect();
            out.user(&cells)?;
        }
    }
    out.end(None)
}

/// `ucsv user add`.
pub fn add(ctx: &Context, args: &UserAddArgs) -> Result<u8> {
    let range = DnRange::parse(&args.dns).map_err(|m| usage(m, "e.g. 6505550000..6505550099"))?;
    let sets = sets(&args.set, &[Col::Exten, Col::Context, Col::LineProtocol])?;
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|source| Error::Input {
                path: "<stdin>".into(),
                source,
            })?;
        Some(line.trim_end_matches(['\r', '\n']).to_string())
    } else {
        args.password.clone()
    };
    if password.is_some()
        && sets
            .iter()
            .any(|(c, _)| matches!(c, Col::Password | Col::PasswordHash))
    {
        return Err(usage(
            "--password and --set password are both given".into(),
            "give the password once",
        ));
    }
    let mut store = ctx.store()?;
    let context = Reference::load(&store)?
        .dn_context(args.at.context.as_deref(), args.at.entity)
        .map_err(|m| usage(m, "give --context NAME"))?;
    // The rows: the DN, its context and protocol, the firstname (the DN unless set), the
    // --set cells and the password.
    // Without a line, the DN is only the default firstname (and `{dn}`).
    let line = args.protocol != Protocol::None;
    let mut header: Vec<&str> = if line {
        vec!["exten", "context", "line_protocol"]
    } else {
        Vec::new()
    };
    let named = sets.iter().any(|(c, _)| *c == Col::Firstname);
    if !named {
        header.push("firstname");
    }
    header.extend(sets.iter().map(|(c, _)| c.name()));
    if password.is_some() {
        header.push("password");
    }
    let protocol = match args.protocol {
        Protocol::Sip => "sip",
        Protocol::Sccp => "sccp",
        Protocol::Webrtc => "webrtc",
        Protocol::None => "",
    };
    let mut rows = Vec::new();
    for dn in range.numbers() {
        let mut row: Vec<String> = if line {
            vec![dn.clone(), context.clone(), protocol.into()]
        } else {
            Vec::new()
        };
        if !named {
            row.push(dn.clone());
        }
        row.extend(sets.iter().map(|(_, v)| v.replace("{dn}", &dn)));
        if let Some(p) = &password {
            row.push(p.clone());
        }
        rows.push(row);
    }
    let json = args.format == crate::cli::UserFormat::Json;
    let run = Run {
        command: "user add",
        target: &args.dns,
        keep_going: args.keep_going,
        entity: args.at.entity,
        json,
    };
    let source = Source::from_rows("ucsv user add".into(), &header, rows)?;
    let (outcome, applied, report) = apply(ctx, &mut store, &run, source)?;
    let mut printed = None;
    if outcome.committed && !applied.created.is_empty() {
        // Printed from what the run wrote: nothing is read back.
        let mut bytes = Vec::new();
        let mut out = UserPrinter::new(&mut bytes, args.format, CREDENTIALS.to_vec(), false);
        out.begin()?;
        for (row, uuid, c) in &applied.created {
            let dn = range.nth(row - 1);
            let cells = [
                dn.as_str(),
                uuid.as_str(),
                c.sip_username.as_deref().unwrap_or(""),
                c.sip_secret.as_deref().unwrap_or(""),
                c.provisioning_code.as_deref().unwrap_or(""),
            ];
            out.user(&cells)?;
        }
        out.end(None)?;
        printed = Some(bytes);
    }
    match report {
        Some(report) => print_document(report, printed)?,
        None => super::stdout(&printed.unwrap_or_default())?,
    }
    Ok(outcome.exit_code())
}

/// `ucsv user set`.
pub fn set(ctx: &Context, args: &UserSetArgs) -> Result<u8> {
    let sets = sets(&args.set, &[Col::Uuid])?;
    let mut store = ctx.store()?;
    let keys = {
        let reference = Reference::load(&store)?;
        reference.check_entity(args.at.entity)?;
        let domain = Domain::new(store.begin()?, &reference, args.at.entity);
        let (keys, _) = targets(&domain, &args.target, &args.at)?;
        let mut users = Vec::new();
        for key in keys {
            if let Some(u) = domain.show(&key)? {
                users.push((u.get(Col::Uuid).to_string(), u.get(Col::Exten).to_string()));
            }
        }
        users
    };
    let mut header = vec!["uuid"];
    header.extend(sets.iter().map(|(c, _)| c.name()));
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|(uuid, exten)| {
            let mut row = vec![uuid.clone()];
            row.extend(sets.iter().map(|(_, v)| v.replace("{dn}", exten)));
            row
        })
        .collect();
    let run = Run {
        command: "user set",
        target: &args.target,
        keep_going: args.keep_going,
        entity: args.at.entity,
        json: args.format == crate::cli::UserFormat::Json,
    };
    let source = Source::from_rows("ucsv user set".into(), &header, rows)?;
    let (outcome, applied, report) = apply(ctx, &mut store, &run, source)?;
    let mut printed = None;
    if outcome.committed && !applied.users.is_empty() {
        let mut bytes = Vec::new();
        print(
            ctx,
            &mut bytes,
            &applied.users,
            crate::sink::users::SHORT.to_vec(),
            args.format,
        )?;
        printed = Some(bytes);
    }
    match report {
        Some(report) => print_document(report, printed)?,
        None => super::stdout(&printed.unwrap_or_default())?,
    }
    Ok(outcome.exit_code())
}
