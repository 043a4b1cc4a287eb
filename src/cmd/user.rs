//! `ucsv user show|list|delete`: targets resolved by the domain ([`super::user_target`]),
//! users printed by [`crate::sink::users`]. `add` and `set` are in [`super::user_write`].

use super::user_target::{targets, usage};
use super::Context;
use crate::cli::{Direction, UserCommand, UserDeleteArgs, UserListArgs, UserShowArgs};
use crate::columns::{self, Col};
use crate::domain::ops::DeleteOptions;
use crate::domain::port::{Filter, Order, Page};
use crate::domain::Domain;
use crate::error::Result;
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
