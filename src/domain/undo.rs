//! Undo: a batch of the history taken back, in one transaction, through the same rules as
//! every write. The users it created are deleted (their numbers freed), the users it
//! updated are set back field by field from the states it kept, and the users it deleted
//! are created again with the same uuid, numbers and credentials. The undo is a batch of
//! the history itself, so it can be undone in turn.

use super::port::history::{Action, Batch, BatchInfo, Change};
use super::port::Strip;
use super::{update, Domain};
use crate::columns::Col;
use crate::domain::port::UserKey;
use crate::error::{Result, RowError};
use crate::record;

/// Why an undo wrote nothing.
#[derive(Debug)]
pub enum Refusal {
    /// No batch has that id.
    Unknown(i64),
    /// The batch was taken back already, by that batch.
    Undone { by: i64 },
    /// Later batches, still in effect, changed users of the batch: (batch, first user id
    /// they share).
    Later(Vec<(i64, i64)>),
    /// Users could not be set back: (uuid or user id, errors).
    Rows(Vec<(String, Vec<RowError>)>),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Unknown(id) => write!(f, "no batch {id} in the history"),
            Refusal::Undone { by } => write!(f, "the batch was taken back already, by batch {by}"),
            Refusal::Later(later) => {
                let list: Vec<String> = later
                    .iter()
                    .map(|(b, u)| format!("batch {b} (user id {u})"))
                    .collect();
                write!(
                    f,
                    "later batches changed the same users: {}; take them back first, newest first",
                    list.join(", ")
                )
            }
            Refusal::Rows(rows) => {
                let list: Vec<String> = rows
                    .iter()
                    .map(|(who, errors)| {
                        let e: Vec<String> = errors
                            .iter()
                            .map(|e| format!("{} [{}]", e.message, e.code))
                            .collect();
                        format!("{who}: {}", e.join("; "))
                    })
                    .collect();
                write!(f, "users could not be set back: {}", list.join(" | "))
            }
        }
    }
}

impl Refusal {
    /// The refusal's code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unknown(_) => "batch.unknown",
            Refusal::Undone { .. } => "batch.undone",
            Refusal::Later(_) => "batch.later",
            Refusal::Rows(_) => "batch.rows",
        }
    }
}

/// What an undo did (or, in a dry run, would do).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Undone {
    /// The batch taken back.
    pub batch: i64,
    /// The batch that records the undo.
    pub undo: i64,
    /// Users deleted (created by the batch).
    pub deleted: u64,
    /// Users set back.
    pub restored: u64,
    /// Users created again (deleted by the batch).
    pub recreated: u64,
}

impl Domain<'_> {
    /// Takes back batch `id` in this transaction, recorded as a new batch of `info`'s
    /// (its `undoes` set to `id`). `Ok(Err(..))`: refused, and the caller must not commit.
    pub fn undo(
        &mut self,
        id: i64,
        mut info: BatchInfo,
    ) -> Result<std::result::Result<Undone, Refusal>> {
        let Some(batch) = self.tx.batch(id)? else {
            return Ok(Err(Refusal::Unknown(id)));
        };
        if let Some(by) = batch.undone_by {
            return Ok(Err(Refusal::Undone { by }));
        }
        let later = self.tx.later_batches(id)?;
        if !later.is_empty() {
            return Ok(Err(Refusal::Later(later)));
        }
        let changes = self.tx.batch_changes(id)?;
        info.undoes = Some(id);
        let undo = self.record_history(&info)?;
        let mut done = Undone {
            batch: id,
            undo,
            deleted: 0,
            restored: 0,
            recreated: 0,
        };
        let mut refused = Vec::new();
        // First the users it created go (freeing their numbers), then the users it changed
        // are set back, then the users it deleted come back.
        // A chunk of ids at a time (a user deleted since, by another program, is not there
        // to read).
        let chunks: Vec<(i64, i64)> = changes
            .iter()
            .filter(|c| c.action == Action::Created)
            .flat_map(|c| chunks(c.user_id, c.last_id))
            .collect();
        match self.beside.take().filter(|_| chunks.len() > 1) {
            // Each chunk's users are read on another thread while the chunk before goes:
            // deleting a chunk changes nothing of the next one's users.
            Some(mut reader) => std::thread::scope(|scope| -> Result<()> {
                let (sender, read) = std::sync::mpsc::sync_channel(2);
                let ranges = &chunks;
                scope.spawn(move || {
                    for &(first, last) in ranges {
                        let users = reader.stored_users_between(first, last);
                        let failed = users.is_err();
                        if sender.send(users).is_err() || failed {
                            break;
                        }
                    }
                });
                for (&(first, last), users) in chunks.iter().zip(read) {
                    done.deleted += self.take_back(first, last, users?)?;
                }
                Ok(())
            })?,
            None => {
                for &(first, last) in &chunks {
                    let users = self.tx.stored_users_between(first, last)?;
                    done.deleted += self.take_back(first, last, users)?;
                }
            }
        }
        for c in changes.iter().filter(|c| c.action == Action::Updated) {
            match self.restore(&batch, c)? {
                Ok(()) => done.restored += 1,
                Err(errors) => refused.push((who(c), errors)),
            }
        }
        for c in changes.iter().filter(|c| c.action == Action::Deleted) {
            match self.recreate(&batch, c)? {
                Ok(()) => done.recreated += 1,
                Err(errors) => refused.push((who(c), errors)),
            }
        }
        if !refused.is_empty() {
            return Ok(Err(Refusal::Rows(refused)));
        }
        Ok(Ok(done))
    }

    /// Deletes the users created with ids from `first` to `last`, which are `users`: each
    /// state before is kept (the undo can be undone), then the chunk goes in a statement
    /// per table, as `ucsv user delete --delete-voicemail` would delete each of them.
    /// Returns how many went.
    fn take_back(
        &mut self,
        first: i64,
        last: i64,
        mut users: Vec<super::port::StoredUser>,
    ) -> Result<u64> {
        users.sort_by_key(|u| u.user_id);
        for user in &users {
            self.note_changed(Action::Deleted, user)?;
        }
        self.tx.delete_users_between(first, last)?;
        Ok(users.len() as u64)
    }

    /// Sets an updated user back to its state before the batch.
    fn restore(
        &mut self,
        batch: &Batch,
        c: &Change,
    ) -> Result<std::result::Result<(), Vec<RowError>>> {
        let cells = state(batch, c);
        let key = UserKey::Uuid(c.uuid.clone().unwrap_or_default());
        let Some(cur) = self.tx.stored_user(&key, None)? else {
            return Ok(Err(vec![RowError::with_code(
                None,
                "user.unknown",
                "the user is no longer in the database",
            )]));
        };
        // What the batch gave the user and an update cannot empty goes first (a cell the
        // batch did not change is not in `cells`: the user keeps it as it is).
        let gone = |col: Col| {
            cells.iter().any(|(c, v)| *c == col && v.is_empty())
                && !cur.cells[col as usize].is_empty()
        };
        let (line, exten) = (gone(Col::LineProtocol), gone(Col::Exten));
        let (voicemail, incalls) = (gone(Col::VoicemailName), gone(Col::IncallExten));
        if line || exten || voicemail || incalls {
            self.note_changed(Action::Updated, &cur)?;
            self.tx.strip_user(
                cur.user_id,
                Strip {
                    line,
                    exten,
                    voicemail,
                    incalls,
                },
            )?;
        }
        let (header, raw) = record::row_of(&cells, 1);
        let row = match record::parse_update(&header, &raw) {
            Ok(row) => row,
            Err(errors) => return Ok(Err(errors)),
        };
        let outcome: update::UpdateOutcome = self.update(row, None)?;
        Ok(outcome.map(drop))
    }

    /// Creates a deleted user again, as it was.
    fn recreate(
        &mut self,
        batch: &Batch,
        c: &Change,
    ) -> Result<std::result::Result<(), Vec<RowError>>> {
        let cells: Vec<(Col, &str)> = state(batch, c)
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let (header, raw) = record::row_of(&cells, 1);
        let parsed = match record::parse_import(&header, &raw) {
            Ok(p) => p,
            Err(errors) => return Ok(Err(errors)),
        };
        if !parsed.errors.is_empty() {
            return Ok(Err(parsed.errors));
        }
        // Its own id again when no one took it since: the export's order comes back too.
        if self
            .tx
            .stored_user(&UserKey::Id(c.user_id), None)?
            .is_none()
        {
            self.reuse_id = Some(c.user_id);
        }
        let created = self.create(&parsed);
        self.reuse_id = None;
        Ok(created?.map(drop))
    }
}

/// The (column, text) pairs of a change's state before the batch, in the batch's columns:
/// the cells it kept (a cell the batch did not change, or of a column this ucsv no longer
/// knows, is left out), and the user's uuid.
fn state<'c>(batch: &Batch, c: &'c Change) -> Vec<(Col, &'c str)> {
    let Some(before) = &c.before else {
        return Vec::new();
    };
    let mut cells: Vec<(Col, &str)> = batch
        .columns
        .iter()
        .zip(before)
        .filter_map(|(name, v)| Some((crate::columns::lookup(name)?, v.as_deref()?)))
        .collect();
    if let Some(uuid) = c.uuid.as_deref() {
        if !cells.iter().any(|(col, _)| *col == Col::Uuid) {
            cells.insert(0, (Col::Uuid, uuid));
        }
    }
    cells
}

/// The ids of created users read at a time.
const CHUNK: i64 = 1000;

/// The ids from `first` to `last`, [`CHUNK`] at a time: (first, last) of each chunk.
fn chunks(first: i64, last: i64) -> impl Iterator<Item = (i64, i64)> {
    let mut next = Some(first).filter(|f| *f <= last);
    std::iter::from_fn(move || {
        let first = next?;
        let end = last.min(first.saturating_add(CHUNK - 1));
        next = end.checked_add(1).filter(|n| *n <= last);
        Some((first, end))
    })
}

/// How a change's user is named in a refusal.
fn who(c: &Change) -> String {
    c.uuid
        .clone()
        .unwrap_or_else(|| format!("user id {}", c.user_id))
}

#[cfg(test)]
mod tests {
    use super::{chunks, CHUNK};

    #[test]
    fn chunks_cover_the_ids_once_in_order() {
        assert_eq!(chunks(5, 4).count(), 0);
        assert_eq!(chunks(7, 7).collect::<Vec<_>>(), [(7, 7)]);
        assert_eq!(
            chunks(1, 2 * CHUNK + 1).collect::<Vec<_>>(),
            [
                (1, CHUNK),
                (CHUNK + 1, 2 * CHUNK),
                (2 * CHUNK + 1, 2 * CHUNK + 1)
            ]
        );
        assert_eq!(
            chunks(i64::MAX - 1, i64::MAX).collect::<Vec<_>>(),
            [(i64::MAX - 1, i64::MAX)]
        );
    }
}
