//! `ucsv history` (list, show, prune) and `ucsv undo`: the history of every write, read
//! and taken back (see [`crate::store::history`] and [`crate::domain::undo`]).

use super::Context;
use crate::cli::{HistoryArgs, HistoryCommand, HistoryFormat, HistoryShowFormat, UndoArgs};
use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::store::history::{self, Batch};
use crate::store::reference::Reference;

/// How long the history keeps a batch when `prune` is given no date.
pub const RETENTION_DAYS: u64 = 90;

/// `ucsv history [show ID | prune]`.
pub fn run(ctx: &Context, args: &HistoryArgs) -> Result<u8> {
    let store = ctx.store()?;
    let db = store.db();
    match &args.command {
        None => {
            let batches = history::list(db.as_ref(), args.limit)?;
            match args.format {
                HistoryFormat::Json => super::stdout(&json_line(&serde_json::json!({
                    "items": batches,
                    "total": batches.len(),
                }))?)?,
                HistoryFormat::Table => super::stdout(table(&batches).as_bytes())?,
            }
            Ok(0)
        }
        Some(HistoryCommand::Show { id, format }) => {
            let Some(batch) = history::get(db.as_ref(), *id)? else {
                return Err(unknown(*id));
            };
            let changes = history::changes(db.as_ref(), *id)?;
            match format {
                HistoryShowFormat::Json => {
                    let items: Vec<serde_json::Value> = changes
                        .iter()
                        .map(|c| c.to_json(&batch.columns, |_| true))
                        .collect();
                    super::stdout(&json_line(&serde_json::json!({
                        "batch": batch,
                        "changes": items,
                    }))?)?;
                }
                HistoryShowFormat::Csv => {
                    ctx.say(&format!("{}\n", summary(&batch)));
                    let mut out = csv::Writer::from_writer(Vec::new());
                    let io = |e: csv::Error| Error::csv_output("<stdout>", e);
                    let mut header = vec!["action", "user_id", "last_id"];
                    header.extend(batch.columns.iter().map(String::as_str));
                    out.write_record(&header).map_err(io)?;
                    for c in &changes {
                        let mut row = vec![
                            c.action.as_str().to_string(),
                            c.user_id.to_string(),
                            c.last_id.to_string(),
                        ];
                        match &c.before {
                            Some(cells) => {
                                row.extend(cells.iter().map(|v| v.clone().unwrap_or_default()))
                            }
                            None => row.extend(batch.columns.iter().map(|_| String::new())),
                        }
                        out.write_record(&row).map_err(io)?;
                    }
                    let bytes = out.into_inner().map_err(|e| io(e.into_error().into()))?;
                    super::stdout(&bytes)?;
                }
            }
            Ok(0)
        }
        Some(HistoryCommand::Prune { before }) => {
            let at = match before {
                Some(date) => cutoff(date)?,
                None => crate::domain::accounts::rfc3339(
                    crate::domain::accounts::unix_now().saturating_sub(RETENTION_DAYS * 86_400),
                ),
            };
            let n = history::prune(db.as_ref(), &at)?;
            ctx.say(&format!("ucsv: {n} batches recorded before {at} deleted\n"));
            Ok(0)
        }
    }
}

/// `ucsv undo ID [--dry-run]`.
pub fn undo(ctx: &Context, args: &UndoArgs) -> Result<u8> {
    let mut store = ctx.store()?;
    // A dry run works on a snapshot (SQLite) or is rolled back (PostgreSQL).
    let mut copy = args.dry_run.then(|| store.snapshot()).transpose()?;
    let target = copy.as_mut().unwrap_or(&mut store);
    let reference = Reference::load(target)?;
    let beside = target.beside();
    let mut domain = Domain::new(target.begin()?, &reference, None);
    // The users to take back are read beside the transaction, on another thread.
    if let Some(reader) = beside.and_then(|place| place.open().ok()) {
        domain.read_beside(reader);
    }
    let info = super::cli_batch("undo", format!("ucsv undo {}", args.id));
    match domain.undo(args.id, info)? {
        Ok(done) => {
            if !args.dry_run {
                domain.commit()?;
            }
            match args.format {
                HistoryFormat::Json => {
                    let mut v = serde_json::to_value(&done).unwrap_or_default();
                    v["dry_run"] = args.dry_run.into();
                    super::stdout(&json_line(&v)?)?;
                }
                HistoryFormat::Table => ctx.say(&format!(
                    "ucsv: {} batch {}: {} users deleted, {} set back, {} created again{}\n",
                    if args.dry_run {
                        "would take back"
                    } else {
                        "took back"
                    },
                    done.batch,
                    done.deleted,
                    done.restored,
                    done.recreated,
                    if args.dry_run {
                        " (dry run: nothing written)".to_string()
                    } else {
                        format!(" (recorded as batch {})", done.undo)
                    }
                )),
            }
            Ok(0)
        }
        Err(refusal) => {
            match args.format {
                HistoryFormat::Json => super::stdout(&json_line(&serde_json::json!({
                    "batch": args.id,
                    "refused": refusal.code(),
                    "message": refusal.to_string(),
                    "later": match &refusal {
                        crate::domain::undo::Refusal::Later(l) => l
                            .iter()
                            .map(|(b, u)| serde_json::json!({"batch": b, "user_id": u}))
                            .collect(),
                        _ => Vec::new(),
                    },
                }))?)?,
                HistoryFormat::Table => {}
            }
            eprintln!(
                "ucsv: batch {} not taken back, nothing written: {refusal} [{}]",
                args.id,
                refusal.code()
            );
            Ok(1)
        }
    }
}

/// One line of a batch: when, what, who, from what, its counts.
fn summary(b: &Batch) -> String {
    let mut s = format!(
        "batch {}: {} at {} by {} ({}), from {}: {} created, {} updated, {} deleted",
        b.id,
        b.kind,
        b.at,
        b.who,
        b.door,
        b.source,
        b.counts.created,
        b.counts.updated,
        b.counts.deleted
    );
    if let Some(u) = b.undoes {
        s += &format!("; undoes batch {u}");
    }
    if let Some(u) = b.undone_by {
        s += &format!("; undone by batch {u}");
    }
    s
}

/// The batches as a table.
fn table(batches: &[Batch]) -> String {
    let rows: Vec<[String; 9]> = batches
        .iter()
        .map(|b| {
            [
                b.id.to_string(),
                b.at.clone(),
                b.kind.clone(),
                format!("{} ({})", b.who, b.door),
                b.source.clone(),
                b.counts.created.to_string(),
                b.counts.updated.to_string(),
                b.counts.deleted.to_string(),
                match (b.undoes, b.undone_by) {
                    (_, Some(by)) => format!("undone by {by}"),
                    (Some(u), None) => format!("undoes {u}"),
                    _ => String::new(),
                },
            ]
        })
        .collect();
    let head = [
        "id", "at", "kind", "who", "source", "created", "updated", "deleted", "",
    ];
    let mut widths: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            l.push_str(c);
            l.extend(std::iter::repeat_n(' ', w - c.chars().count()));
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(head.to_vec());
    for r in &rows {
        out += &line(r.iter().map(String::as_str).collect());
    }
    out
}

fn json_line(v: &serde_json::Value) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec(v).map_err(|e| Error::Usage {
        message: format!("the output cannot be written as JSON: {e}"),
        help: "this is a bug in ucsv; please report it".into(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn unknown(id: i64) -> Error {
    Error::Usage {
        message: format!("no batch {id} in the history"),
        help: "`ucsv history` lists the batches".into(),
    }
}

/// The RFC 3339 time a `--before` value names: a date (its midnight, UTC) or a time.
fn cutoff(value: &str) -> Result<String> {
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let date = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    let time = b.len() == 20
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    match (date, b.len()) {
        (true, 10) => Ok(format!("{value}T00:00:00Z")),
        (true, 20) if time => Ok(value.to_string()),
        _ => Err(Error::Usage {
            message: format!("--before {value}: not a date (YYYY-MM-DD) or a UTC time"),
            help: "give e.g. 2026-12-01 or 2026-12-01T08:00:00Z".into(),
        }),
    }
}
