//! `ucsv user show|list|delete`: targets resolved by the domain, users printed by
//! [`crate::sink::users`]. `add` and `set` are in [`super::user_write`].

use super::Context;
use crate::cli::{Direction, UserCommand, UserDeleteArgs, UserListArgs, UserShowArgs};
use crate::columns::{self, Col};
use crate::domain::numbers::Target;
use crate::domain::ops::DeleteOptions;
use crate::domain::port::{Filter, Order, Page, UserKey};
use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::sink::users::{UserPrinter, SHORT};
use crate::store::reference::Reference;
use crate::store::Store;

/// Runs a `ucsv user` command; returns the exit status.
pub fn run(ctx: &Context, command: &UserCommand) -> Result<u8> {
    match command {
        UserCommand::Add(a) => super::user_write::add(ctx, a),
        UserCommand::Set(a) => super::user_write::set(ctx, a),
        UserCommand::Delete(a) => delete(ctx, a),
        UserCommand::Show(a) => show(ctx, a),
        UserCommand::List(a) => list(ctx, a),
    }
}

/// A usage error about a target or an option.
pub fn usage(message: String, help: &str) -> Error {
    Error::Usage {
        message,
        help: help.into(),
    }
}

/// The users a TARGET names (in the entity, if given), each with its key: a target naming
/// nobody is an error. For a range, also the numbers that have no user.
pub fn targets(
    domain: &Domain<'_>,
    target: &str,
    at: &crate::cli::DnArgs,
) -> Result<(Vec<UserKey>, Vec<String>)> {
    let parsed = Target::parse(target).map_err(|m| usage(m, "see `ucsv user --help`"))?;
    let context = match &parsed {
        Target::Dns(_) => domain
            .dn_context(at.context.as_deref(), at.entity)
            .map_err(|m| usage(m, "give --context NAME"))?,
        _ => String::new(),
    };
    let keys = domain.resolve(&parsed, &context)?;
    if keys.is_empty() {
        return Err(usage(
            format!("no user matches {parsed}"),
            "a target is a DN or range (of --context), a uuid, id:N, a username or an e-mail address",
        ));
    }
    let mut missing = Vec::new();
    if let Target::Dns(range) = &parsed {
        if (keys.len() as u64) < range.len() {
            // Which numbers of the range have no user: at most the range's length to check.
            let found: std::collections::HashSet<String> = keys
                .iter()
                .filter_map(|k| domain.show(k).ok().flatten())
                .map(|u| u.get(Col::Exten).to_string())
                .collect();
            missing = range.numbers().filter(|n| !found.contains(n)).collect();
        }
    }
    Ok((keys, missing))
}

/// Opens the store and the reference data, checking `--entity`.
fn open(ctx: &Context, entity: Option<i64>) -> Result<(Store, Reference)> {
    let store = ctx.store()?;
    let reference = Reference::load(&store)?;
    reference.check_entity(entity)?;
    Ok((store, reference))
}

fn show(ctx: &Context, args: &UserShowArgs) -> Result<u8> {
    let (mut store, reference) = open(ctx, args.at.entity)?;
    let domain = Domain::new(store.read()?, &reference, args.at.entity);
    let (keys, missing) = targets(&domain, &args.target, &args.at)?;
    if !missing.is_empty() && !args.keep_going {
        // All or nothing, as for the other commands: the missing numbers, exit 1.
        for n in &missing {
            eprintln!("ucsv: no user has {n}");
        }
        eprintln!(
            "ucsv: nothing shown: no user has {} of {} (show the others with -k/--keep-going)",
            plural_numbers(&missing),
            args.target
        );
        return Ok(1);
    }
    let cols: Vec<Col> = if args.short {
        SHORT.to_vec()
    } else {
        columns::exported().collect()
    };
    let mut out = UserPrinter::new(std::io::stdout().lock(), args.format, cols, false);
    out.begin()?;
    for key in &keys {
        if let Some(user) = domain.show(key)? {
            let cells: Vec<&str> = out.columns().iter().map(|c| user.get(*c)).collect();
            out.user(&cells)?;
        }
    }
    out.end(None)?;
    for n in &missing {
        if !ctx.quiet {
            eprintln!("ucsv: no user has {n}");
        }
    }
    Ok(u8::from(!missing.is_empty()))
}

fn plural_numbers(numbers: &[String]) -> String {
    match numbers {
        [one] => format!("the number {one}"),
        [first, ..] => format!("{} numbers (the first: {first})", numbers.len()),
        [] => String::new(),
    }
}

fn list(ctx: &Context, args: &UserListArgs) -> Result<u8> {
    let (store, _) = open(ctx, args.entity)?;
    let order = match &args.order {
        None => None,
        Some(name) => Some(
            columns::lookup(name)
                .filter(|c| c.def().is_exported())
                .ok_or_else(|| {
                    usage(
                        format!(
                            "--order {name}: no such column{}",
                            columns::closest(name)
                                .map_or(String::new(), |c| format!(" (did you mean '{c}'?)"))
                        ),
                        "order by any column of `ucsv columns`",
                    )
                })?,
        ),
    };
    let filter = Filter {
        entity: args.entity,
        search: args.search.clone(),
    };
    let total = store.count_listed(&filter)?;
    let cols: Vec<Col> = match args.format {
        crate::cli::UserFormat::Table => SHORT.to_vec(),
        _ => columns::exported().collect(),
    };
    let mut out = UserPrinter::new(
        std::io::BufWriter::new(std::io::stdout().lock()),
        args.format,
        cols.clone(),
        true,
    );
    out.begin()?;
    store.each_listed(
        &filter,
        Order {
            col: order,
            descending: args.direction == Direction::Desc,
        },
        Page {
            limit: args.limit,
            offset: args.offset,
        },
        &cols,
        |_, cells| out.user(cells),
    )?;
    out.end(Some(total))?;
    Ok(0)
}

fn delete(ctx: &Context, args: &UserDeleteArgs) -> Result<u8> {
    let (mut store, reference) = open(ctx, args.at.entity)?;
    let mut domain = Domain::new(store.begin()?, &reference, args.at.entity);
    let (keys, _) = targets(&domain, &args.target, &args.at)?;
    domain.record_history(&super::cli_batch(
        "user delete",
        format!("ucsv user delete {}", args.target),
    ))?;
    let opts = DeleteOptions {
        delete_voicemail: args.delete_voicemail,
    };
    let mut deleted = Vec::new();
    let mut refused = Vec::new();
    for key in &keys {
        match domain.delete(key, opts)? {
            Ok(d) => deleted.push(d),
            Err(e) => refused.push(e),
        }
    }
    let commit = refused.is_empty() || args.force;
    for e in &refused {
        // Forced past, an error is silenced by -q; otherwise it is why nothing was deleted.
        if !(args.force && ctx.quiet) {
            eprintln!("ucsv: {} [{}]", e.message, e.code);
        }
    }
    if commit {
        domain.commit()?;
        for d in &deleted {
            ctx.say(&format!(
                "ucsv: deleted user {}{}\n",
                d.user_uuid,
                if d.voicemail_id.is_some() {
                    " and its voicemail box"
                } else {
                    ""
                }
            ));
        }
    } else {
        eprintln!(
            "ucsv: nothing deleted: {} of {} users refused (delete the others with -f/--force)",
            refused.len(),
            keys.len()
        );
    }
    Ok(u8::from(!refused.is_empty()))
}
