//! The history's statements (schemas/sqlite/0005_history.sql): a batch opened, its changes
//! recorded and its counts written in the write's own transaction; batches listed, read,
//! checked against the later ones, marked undone and pruned. Written once for both
//! backends ([`Db`]).
//!
//! The words it stores are the domain's ([`crate::domain::port::history`]).

use super::sql::{Cell, Db, Param};
pub use crate::domain::port::history::*;
use crate::error::Result;

/// Opens a batch; returns its id.
pub fn open(db: &dyn Db, info: &BatchInfo, at: &str) -> Result<i64> {
    let names: Vec<&str> = columns().map(|c| c.name()).collect();
    let rows = db.rows(
        "INSERT INTO batches (kind, at, who, door, source, sha256, columns, undoes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        &[
            info.kind.as_str().into(),
            at.into(),
            info.who.as_str().into(),
            info.door.into(),
            info.source.as_str().into(),
            info.sha256.as_deref().into(),
            names.join(",").as_str().into(),
            info.undoes.into(),
        ],
    )?;
    Ok(rows.first().and_then(|r| r.first()).map_or(0, Cell::int))
}

/// Records a change of batch `batch`; a user already recorded keeps its first change (its
/// state before the batch). Returns whether it was recorded (not already there).
pub fn record(
    db: &dyn Db,
    batch: i64,
    change: (i64, i64),
    action: Action,
    uuid: Option<&str>,
    before: Option<&str>,
) -> Result<bool> {
    let n = db.exec(
        "INSERT INTO batch_changes (batch_id, user_id, last_id, action, uuid, before)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        &[
            batch.into(),
            change.0.into(),
            change.1.into(),
            action.as_str().into(),
            uuid.into(),
            before.into(),
        ],
    )?;
    Ok(n > 0)
}

/// [`record`] of many changes, [`ROWS_PER_INSERT`] to a statement.
pub fn record_all(db: &dyn Db, batch: i64, rows: &[Pending]) -> Result<()> {
    use std::fmt::Write as _;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from(
            "INSERT INTO batch_changes (batch_id, user_id, last_id, action, uuid, before) VALUES ",
        );
        let mut params: Vec<Param<'_>> = Vec::with_capacity(1 + 4 * chunk.len());
        params.push(batch.into());
        for (i, p) in chunk.iter().enumerate() {
            let n = 2 + 4 * i;
            let sep = if i > 0 { ", " } else { "" };
            let _ = write!(
                sql,
                "{sep}(?1, ?{n}, ?{n}, ?{}, ?{}, ?{})",
                n + 1,
                n + 2,
                n + 3
            );
            params.extend::<[Param<'_>; 4]>([
                p.user_id.into(),
                p.action.as_str().into(),
                p.uuid.as_str().into(),
                p.before.as_str().into(),
            ]);
        }
        sql.push_str(" ON CONFLICT DO NOTHING");
        db.exec(&sql, &params)?;
    }
    Ok(())
}

/// Writes a batch's counts, entities and source digest, and marks the batch it undoes.
pub fn close(
    db: &dyn Db,
    batch: i64,
    counts: Counts,
    entities: &[i64],
    sha256: Option<&str>,
    undoes: Option<i64>,
) -> Result<()> {
    let entities: Vec<String> = entities.iter().map(i64::to_string).collect();
    let n = |v: u64| Param::Int(i64::try_from(v).unwrap_or(i64::MAX));
    db.exec(
        "UPDATE batches SET created = ?2, updated = ?3, deleted = ?4, entities = ?5,
             sha256 = coalesce(?6, sha256) WHERE id = ?1",
        &[
            batch.into(),
            n(counts.created),
            n(counts.updated),
            n(counts.deleted),
            entities.join(",").as_str().into(),
            sha256.into(),
        ],
    )?;
    if let Some(undone) = undoes {
        // The batch an undone undo had taken back is in effect again.
        db.exec(
            "UPDATE batches SET undone_by = NULL
             WHERE id = (SELECT undoes FROM batches WHERE id = ?1)",
            &[undone.into()],
        )?;
        db.exec(
            "UPDATE batches SET undone_by = ?2 WHERE id = ?1",
            &[undone.into(), batch.into()],
        )?;
    }
    Ok(())
}

const BATCH_COLUMNS: &str = "id, kind, at, who, door, source, sha256, created, updated, deleted,
    entities, undoes, undone_by, columns";

fn batch_of(row: Vec<Cell>) -> Batch {
    let mut c = row.into_iter();
    let mut next = || c.next().unwrap_or(Cell::Null);
    let opt = |c: Cell| match c {
        Cell::Null => None,
        other => Some(other),
    };
    let count = |c: Cell| c.int().unsigned_abs();
    Batch {
        id: next().int(),
        kind: next().text(),
        at: next().text(),
        who: next().text(),
        door: next().text(),
        source: next().text(),
        sha256: opt(next()).map(Cell::text),
        counts: Counts {
            created: count(next()),
            updated: count(next()),
            deleted: count(next()),
        },
        entities: next()
            .text()
            .split(',')
            .filter_map(|e| e.parse().ok())
            .collect(),
        undoes: opt(next()).map(|c| c.int()),
        undone_by: opt(next()).map(|c| c.int()),
        columns: next().text().split(',').map(str::to_string).collect(),
    }
}

/// The batches, newest first, at most `limit`.
pub fn list(db: &dyn Db, limit: u64) -> Result<Vec<Batch>> {
    let rows = db.rows(
        &format!("SELECT {BATCH_COLUMNS} FROM batches ORDER BY id DESC LIMIT ?1"),
        &[Param::Int(i64::try_from(limit).unwrap_or(i64::MAX))],
    )?;
    Ok(rows.into_iter().map(batch_of).collect())
}

/// The batch `id`.
pub fn get(db: &dyn Db, id: i64) -> Result<Option<Batch>> {
    let rows = db.rows(
        &format!("SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?1"),
        &[id.into()],
    )?;
    Ok(rows.into_iter().next().map(batch_of))
}

/// The changes of batch `id`, in user id order.
pub fn changes(db: &dyn Db, id: i64) -> Result<Vec<Change>> {
    let rows = db.rows(
        "SELECT user_id, last_id, action, uuid, before FROM batch_changes
         WHERE batch_id = ?1 ORDER BY user_id",
        &[id.into()],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut c = r.into_iter();
            let mut next = || c.next().unwrap_or(Cell::Null);
            let user_id = next().int();
            let last_id = next().int();
            let action = Action::parse(&next().text());
            let uuid = match next() {
                Cell::Null => None,
                other => Some(other.text()),
            };
            let before = match next() {
                Cell::Null => None,
                other => Some(
                    other
                        .text()
                        .split(SEPARATOR)
                        .map(|v| (v != UNCHANGED).then(|| v.to_string()))
                        .collect(),
                ),
            };
            Change {
                user_id,
                last_id,
                action,
                uuid,
                before,
            }
        })
        .collect())
}

/// The later batches still in effect (not undone, and not undos themselves, whose batch
/// is then undone too) that changed a user batch `id` changed, with the first such user
/// of each: an undo of `id` would take back their work too.
pub fn later(db: &dyn Db, id: i64) -> Result<Vec<(i64, i64)>> {
    let rows = db.rows(
        "SELECT b.id, min(CASE WHEN l.user_id > m.user_id THEN l.user_id ELSE m.user_id END)
         FROM batch_changes m
         JOIN batch_changes l ON l.batch_id > m.batch_id
              AND l.user_id <= m.last_id AND l.last_id >= m.user_id
         JOIN batches b ON b.id = l.batch_id
         WHERE m.batch_id = ?1 AND b.undone_by IS NULL AND b.undoes IS NULL
         GROUP BY b.id ORDER BY b.id",
        &[id.into()],
    )?;
    Ok(rows.iter().map(|r| (r[0].int(), r[1].int())).collect())
}

/// Deletes the batches recorded before `at` (RFC 3339), with their changes; returns how
/// many.
pub fn prune(db: &dyn Db, at: &str) -> Result<u64> {
    db.exec(
        "UPDATE batches SET undoes = NULL WHERE undoes IN (SELECT id FROM batches WHERE at < ?1)",
        &[at.into()],
    )?;
    db.exec(
        "UPDATE batches SET undone_by = NULL WHERE undone_by IN (SELECT id FROM batches WHERE at < ?1)",
        &[at.into()],
    )?;
    db.exec(
        "DELETE FROM batch_changes WHERE batch_id IN (SELECT id FROM batches WHERE at < ?1)",
        &[at.into()],
    )?;
    db.exec("DELETE FROM batches WHERE at < ?1", &[at.into()])
}
