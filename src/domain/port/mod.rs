//! The seam between the domain and storage, owned by the domain: [`Tx`], the questions and
//! writes of one write transaction, and the plain types they exchange ([`history`] for the
//! history's). The rules (what to ask, what to write, in which order) live in
//! [`crate::domain`]; each backend in [`crate::store`] answers in its own SQL
//! (`store/sqlite_tx.rs`, `store/postgres/tx/`). Nothing here knows a backend.
//!
//! A write refused by a unique index or another constraint is a [`WriteError::Conflict`], so
//! that a caller may write optimistically and take the row back (see [`Tx::undo`]); whether
//! that fast path is worth it is the backend's call ([`Tx::optimistic`]). Any other failure
//! is fatal.

pub mod accounts;
pub mod history;

use crate::columns::Col;
use crate::error::{Error, Result};
use crate::record::{self, Value};
use history::{Batch, BatchInfo, Change, Counts, Pending};
use std::path::PathBuf;

/// A write that failed.
#[derive(Debug)]
pub enum WriteError {
    /// A unique index or another constraint refused it: the row conflicts with the database.
    Conflict,
    /// The database failed.
    Failed(Error),
}

impl From<WriteError> for Error {
    fn from(e: WriteError) -> Error {
        match e {
            WriteError::Failed(e) => e,
            WriteError::Conflict => Error::Database {
                path: PathBuf::new(),
                message: "a write was refused by a unique index after its checks passed".into(),
                help: "another writer stored the same value at the same time: run it again (if nothing else writes to the database, this is a bug in ucsv: please report it with the input)".into(),
            },
        }
    }
}

impl From<Error> for WriteError {
    fn from(e: Error) -> WriteError {
        WriteError::Failed(e)
    }
}

/// The result of a write.
pub type Write<T> = std::result::Result<T, WriteError>;

/// What a (number, context) pair is to a user: free to take, taken by someone else, or new.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionState {
    /// No such extension.
    Missing,
    /// It exists and no other user's line or incall uses it (or it is the user's own).
    Free(i64),
    /// Another user's line or incall uses it.
    Taken,
}

/// A table a row was inserted into, to take the row back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Users,
    Lines,
    Extensions,
    Incalls,
    Voicemails,
    /// The voicemail link of a user (keyed by user id).
    UserVoicemails,
    /// The call permissions of a user (keyed by user id).
    UserCallPermissions,
}

/// The fields of a user row as stored in `users`.
pub struct UserRow<'a> {
    /// The id to give a new user (an undo creating a deleted user again, with its own id
    /// when it is free); `None`: the next one.
    pub id: Option<i64>,
    pub uuid: &'a str,
    pub entity: i64,
    pub username: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub cti_profile_enabled: bool,
    pub cti_profile: Option<i64>,
    /// The values of [`record::user_fields`], in that order (`None`: the column's default).
    pub fields: &'a [Option<Value>],
}

/// The fields of a line as stored in `lines`.
pub struct LineRow<'a> {
    pub protocol: &'a str,
    pub context: &'a str,
    pub sip_username: Option<&'a str>,
    pub sip_secret: Option<&'a str>,
    pub provisioning_code: Option<&'a str>,
}

/// One incoming number a user has.
#[derive(Clone, Debug)]
pub struct StoredIncall {
    pub id: i64,
    pub extension_id: i64,
    pub exten: String,
    pub context: String,
    pub ring_seconds: Option<i64>,
}

/// Every registry column's text, in registry order, in one buffer: a user read for an update
/// costs one allocation, not one a cell (most cells are short, and a batch reads thousands
/// of users). `cells[i]` is the text of the column with registry index `i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cells {
    text: String,
    /// Where each cell ends in `text`; the cells pushed so far.
    ends: [usize; crate::columns::N],
    len: usize,
}

impl Default for Cells {
    fn default() -> Self {
        Cells {
            text: String::new(),
            ends: [0; crate::columns::N],
            len: 0,
        }
    }
}

impl Cells {
    /// No cells yet, with room for `bytes` of text.
    pub fn with_capacity(bytes: usize) -> Cells {
        Cells {
            text: String::with_capacity(bytes),
            ..Cells::default()
        }
    }

    /// Adds the next column's text, written by `write` into the buffer.
    ///
    /// # Panics
    /// If every column has its cell already.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.ends[self.len] = self.text.len();
        self.len += 1;
    }

    /// Adds the next column's text.
    pub fn push(&mut self, text: &str) {
        self.push_with(|t| t.push_str(text));
    }

    /// Replaces the text of cell `i`.
    pub fn set(&mut self, i: usize, text: &str) {
        let (start, end) = self.span(i);
        self.text.replace_range(start..end, text);
        for e in &mut self.ends[i..self.len] {
            // Each end is at least `end`.
            *e = *e - (end - start) + text.len();
        }
    }

    fn span(&self, i: usize) -> (usize, usize) {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        (start, self.ends[i])
    }

    /// The cells, in registry order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len).map(|i| &self[i])
    }

    /// The cells as strings of their own.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }
}

impl std::ops::Index<usize> for Cells {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        assert!(i < self.len, "cell {i} of {}", self.len);
        let (start, end) = self.span(i);
        &self.text[start..end]
    }
}

/// A user as stored: its export cells (every registry column, in registry order) and the
/// ids of its line, extension and voicemail box. Its incoming calls and call permissions
/// come with it when the backend read them together ([`Tx::stored_users`] may); otherwise
/// they are asked for apart ([`Tx::stored_incalls`], [`Tx::stored_permissions`]), when a
/// change needs them.
pub struct StoredUser {
    pub user_id: i64,
    pub cells: Cells,
    pub line_id: Option<i64>,
    pub extension_id: Option<i64>,
    pub voicemail_id: Option<i64>,
    /// Its incoming calls, as [`Tx::stored_incalls`] gives them, if read with it.
    pub incalls: Option<Vec<StoredIncall>>,
    /// Its call permission ids, as [`Tx::stored_permissions`] gives them, if read with it.
    pub permissions: Option<Vec<i64>>,
}

/// How a user is named: by its UUID or by its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserKey {
    /// `users.uuid` (compared without case).
    Uuid(String),
    /// `users.id`.
    Id(i64),
}

/// Which users a list shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only the users of this entity.
    pub entity: Option<i64>,
    /// Only users whose firstname, lastname, email, username or extension contains this
    /// text (ignoring ASCII case).
    pub search: Option<String>,
}

/// The order of a list: by a column's exported value (then id), or by id.
#[derive(Clone, Copy, Debug, Default)]
pub struct Order {
    /// The column (`None`: the id).
    pub col: Option<Col>,
    /// Highest first.
    pub descending: bool,
}

/// Which part of a list, in id order.
#[derive(Clone, Copy, Debug, Default)]
pub struct Page {
    /// At most this many users (all when `None`).
    pub limit: Option<u64>,
    /// After skipping this many.
    pub offset: u64,
}

/// A user as an export shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserView {
    /// `users.id`.
    pub id: i64,
    /// Every registry column's exported text, in registry order (`password` always empty).
    pub cells: Vec<String>,
}

impl UserView {
    /// The exported text of one column.
    pub fn get(&self, col: Col) -> &str {
        &self.cells[col as usize]
    }
}

/// What [`Tx::strip_user`] takes from a user: its line with its extensions (`line`), or
/// only the line's extensions (`exten`), its voicemail box (`voicemail`: the link, and the
/// box when no one else has it) and its incoming calls with their numbers (`incalls`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Strip {
    pub line: bool,
    pub exten: bool,
    pub voicemail: bool,
    pub incalls: bool,
}

/// What became of a batch at its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchEnd {
    /// Written and kept (and the batch held before it, if any).
    Kept,
    /// Being written while the caller goes on: what became of it is told by the next
    /// batch's end or by [`Tx::settle`]. The batch held before it, if any, was kept.
    Held,
    /// Taken back (a unique index refused its rows, or those of the batch held before it);
    /// the batch held before it, if any, was kept or taken back too.
    Refused { held_kept: bool },
}

/// Reads beside a write transaction, from another thread: a second connection that sees
/// the database as the writer's transaction found it, each call in a read transaction of
/// its own (no other writer commits while the writer holds its lock). The writer asks it
/// for what its own writes have not changed (see [`crate::domain::Domain::read_beside`]).
pub trait Beside: Send {
    /// As [`Tx::stored_users`].
    fn stored_users(&mut self, uuids: &[&str], entity: Option<i64>) -> Result<Vec<StoredUser>>;
    /// As [`Tx::stored_users_between`].
    fn stored_users_between(&mut self, first: i64, last: i64) -> Result<Vec<StoredUser>>;
}

/// The questions and writes the domain asks of one write transaction. One thread owns it;
/// methods take `&self` (a backend whose client needs `&mut` keeps it in a `RefCell`).
/// Dropped without [`Tx::commit`], it rolls back.
pub trait Tx {
    /// Whether to write a row before probing the database, taking it back when a unique
    /// index refuses it ([`WriteError::Conflict`]), rather than probing first.
    fn optimistic(&self) -> bool;

    /// A new random provisioning code to try (the domain still checks that it is free). A
    /// backend that several writers share draws from codes no other writer draws at the
    /// same time, so that their generated codes never collide.
    fn provisioning_code(&self) -> crate::error::Result<String> {
        Ok(crate::record::generate_provisioning_code())
    }

    /// Starts a batch of rows. In a `bulk` batch a backend may hold its inserts back and
    /// send them together (PostgreSQL's COPY); the batch ends with [`Tx::end_batch`].
    /// SQLite writes each statement at once and has nothing to do here.
    fn begin_batch(&self, bulk: bool) -> crate::error::Result<()> {
        let _ = bulk;
        Ok(())
    }

    /// Ends a batch: sends what it held back, and says what became of it (see
    /// [`BatchEnd`]). A batch taken back is applied again by the caller, in a batch that is
    /// not bulk (each write at once, a refused one a [`WriteError::Conflict`]).
    fn end_batch(&self) -> crate::error::Result<BatchEnd> {
        Ok(BatchEnd::Kept)
    }

    /// Waits for the bulk batch still being written (after [`BatchEnd::Held`]): `true`
    /// when it was kept, `false` when it was taken back.
    fn settle(&self) -> crate::error::Result<bool> {
        Ok(true)
    }

    /// Whether a unique column's value belongs to another user than `owner`.
    fn taken(&self, col: Col, value: &str, owner: Option<i64>) -> crate::error::Result<bool>;

    /// What `exten@context` is to the user `owner` (its own line and incalls don't count).
    fn extension_state(
        &self,
        exten: &str,
        context: &str,
        owner: Option<i64>,
    ) -> crate::error::Result<ExtensionState>;

    /// The voicemail box `number@context`, if it exists.
    fn voicemail_id(&self, number: &str, context: &str) -> crate::error::Result<Option<i64>>;

    /// The user named by `key` (in `entity`, if given), as an export shows it, with its ids.
    fn stored_user(
        &self,
        key: &UserKey,
        entity: Option<i64>,
    ) -> crate::error::Result<Option<StoredUser>>;

    /// The users whose line has an extension of `context` from `first` to `last` (numbers of
    /// one digit count), in number order.
    fn users_by_extens(
        &self,
        context: &str,
        first: &str,
        last: &str,
    ) -> crate::error::Result<Vec<i64>>;

    /// The users whose username is `login`, or whose e-mail address is (without case).
    fn users_by_login(&self, login: &str) -> crate::error::Result<Vec<i64>>;

    /// The users named by `uuids` (in `entity`, if given) that exist, each as
    /// [`Tx::stored_user`] gives it, in any order: one question for a batch of update rows
    /// rather than one a row (a round trip each, on a server).
    fn stored_users(
        &self,
        uuids: &[&str],
        entity: Option<i64>,
    ) -> crate::error::Result<Vec<StoredUser>>;

    /// Inserts a user; returns its id.
    fn insert_user(&self, u: &UserRow<'_>) -> Write<i64>;

    /// Rewrites the `changed` columns of a user's row (those stored in it).
    fn update_user(&self, id: i64, u: &UserRow<'_>, changed: &[Col]) -> Write<()>;

    /// Inserts a line for the user; returns its id.
    fn insert_line(&self, user_id: i64, l: &LineRow<'_>) -> Write<i64>;

    /// Rewrites a line's settings (its protocol never changes).
    fn update_line(&self, id: i64, l: &LineRow<'_>) -> Write<()>;

    /// Inserts an extension (for a line, or for incalls when `line_id` is `None`).
    fn insert_extension(&self, exten: &str, context: &str, line_id: Option<i64>) -> Write<i64>;

    /// Points an existing extension at a line (or at none).
    fn set_extension_line(&self, id: i64, line_id: Option<i64>) -> Write<()>;

    /// Changes an extension's number and context in place (its id is kept).
    fn rename_extension(&self, id: i64, exten: &str, context: &str) -> Write<()>;

    /// Deletes an extension that no line uses and no incall other than `except_incall` uses.
    fn delete_unused_extension(&self, id: i64, except_incall: Option<i64>) -> Write<()>;

    /// Inserts an incoming call; returns its id.
    fn insert_incall(&self, user_id: i64, extension_id: i64, ring: Option<i64>) -> Write<i64>;

    /// Repoints an incoming call at an extension with a ring time.
    fn update_incall(&self, id: i64, extension_id: i64, ring: Option<i64>) -> Write<()>;

    /// Changes an incoming call's ring time.
    fn set_incall_ring(&self, id: i64, ring: Option<i64>) -> Write<()>;

    /// Deletes an incoming call.
    fn delete_incall(&self, id: i64) -> Write<()>;

    /// Inserts a voicemail box; returns its id.
    fn insert_voicemail(&self, vm: &record::Voicemail) -> Write<i64>;

    /// Rewrites a voicemail box's settings.
    fn update_voicemail(&self, id: i64, vm: &record::Voicemail) -> Write<()>;

    /// Gives the user a voicemail box.
    fn link_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()>;

    /// Moves the user to another voicemail box.
    fn relink_voicemail(&self, user_id: i64, voicemail_id: i64) -> Write<()>;

    /// Grants the user a call permission.
    fn link_permission(&self, user_id: i64, permission_id: i64) -> Write<()>;

    /// Takes every call permission from the user.
    fn clear_permissions(&self, user_id: i64) -> Write<()>;

    /// Takes back inserted rows, newest first.
    fn undo(&self, rows: Vec<(Table, i64)>) -> crate::error::Result<()>;

    /// The user's incoming calls, in number order.
    fn stored_incalls(&self, user_id: i64) -> crate::error::Result<Vec<StoredIncall>>;

    /// The user's call permission ids, ascending.
    fn stored_permissions(&self, user_id: i64) -> crate::error::Result<Vec<i64>>;

    /// How many users share the voicemail box.
    fn voicemail_users(&self, voicemail_id: i64) -> crate::error::Result<u64>;

    /// A page of the users that `filter` keeps, in id order, and how many it keeps in all.
    fn list_users(&self, filter: &Filter, page: Page)
        -> crate::error::Result<(Vec<UserView>, u64)>;

    /// Deletes the user with its lines and their extensions, its incoming calls and their
    /// numbers, its voicemail link (and its box, when no other user has it: the domain
    /// refuses first a box the user alone has unless it is to go), its call permissions and
    /// its login.
    fn delete_user(&self, user_id: i64) -> crate::error::Result<()>;

    /// The users with an id from `first` to `last`, as [`Tx::stored_users`] reads them,
    /// in id order.
    fn stored_users_between(&self, first: i64, last: i64) -> Result<Vec<StoredUser>>;

    /// Deletes every user with an id from `first` to `last`, as [`Tx::delete_user`] deletes
    /// one, a statement per table for them all.
    fn delete_users_between(&self, first: i64, last: i64) -> Result<()>;

    /// Takes from a user the resources an update cannot empty (an undo setting the user
    /// back to before the batch that gave them).
    fn strip_user(&self, user_id: i64, parts: Strip) -> Result<()>;

    /// Opens a batch of the history at `at` (RFC 3339); returns its id.
    fn open_batch(&self, info: &BatchInfo, at: &str) -> Result<i64>;

    /// Records updated or deleted users' states before the batch (a user recorded already
    /// keeps its first state).
    fn record_changes(&self, batch: i64, rows: &[Pending]) -> Result<()>;

    /// Records a run of users the batch created, `first..=last`.
    fn record_created(&self, batch: i64, first: i64, last: i64) -> Result<()>;

    /// Writes a batch's counts, entities and source digest, and marks the batch it undoes.
    fn close_batch(
        &self,
        batch: i64,
        counts: Counts,
        entities: &[i64],
        sha256: Option<&str>,
        undoes: Option<i64>,
    ) -> Result<()>;

    /// Batch `id`, if it is recorded.
    fn batch(&self, id: i64) -> Result<Option<Batch>>;

    /// The later batches still in effect that changed a user batch `id` changed, with the
    /// first such user of each.
    fn later_batches(&self, id: i64) -> Result<Vec<(i64, i64)>>;

    /// The changes of batch `id`, in user id order.
    fn batch_changes(&self, id: i64) -> Result<Vec<Change>>;

    /// Makes every write of the transaction durable.
    fn commit(self: Box<Self>) -> crate::error::Result<()>;
}

#[cfg(test)]
mod tests {
    use super::Cells;

    #[test]
    fn cells_keep_each_text_when_one_is_replaced() {
        let mut cells = Cells::default();
        for text in ["a", "", "ccc", "dd"] {
            cells.push(text);
        }
        cells.push_with(|t| t.push_str("42"));
        cells.set(1, "bbbb");
        assert_eq!(cells.to_vec(), ["a", "bbbb", "ccc", "dd", "42"]);
        cells.set(2, "");
        assert_eq!(cells.to_vec(), ["a", "bbbb", "", "dd", "42"]);
        cells.set(0, "é;x");
        assert_eq!(cells.to_vec(), ["é;x", "bbbb", "", "dd", "42"]);
        assert_eq!(&cells[4], "42");
    }
}
