//! The history's words (the store writes and reads them: `store/history.rs`): who wrote a
//! batch and from what, what it did to each user (a run of created users, or an updated or
//! deleted user's state before), and its counts. The domain records and reads them through
//! [`super::Tx`].
//!
//! A state before is the user's cells in the batch's `columns`, separated by U+001F; an
//! updated user's cells that the update could not change are U+001E ([`UNCHANGED`]): no
//! cell may hold a C0 control, so neither can be mistaken.

/// Who wrote a batch, from where and from what.
#[derive(Clone, Debug, Default)]
pub struct BatchInfo {
    /// `import`, `update`, `user add`, `user set`, `user delete`, `undo`.
    pub kind: String,
    /// The account (HTTP) or the operating system's user (CLI).
    pub who: String,
    /// `cli` or `http`.
    pub door: &'static str,
    /// The file's name, or the command.
    pub source: String,
    /// The SHA-256 of the file's bytes, in hex.
    pub sha256: Option<String>,
    /// The batch an undo takes back.
    pub undoes: Option<i64>,
}

/// What a batch did to a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Action {
        match s {
            "created" => Action::Created,
            "updated" => Action::Updated,
            _ => Action::Deleted,
        }
    }
}

/// How many users a batch created, updated and deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
}

/// A batch as the history shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Batch {
    pub id: i64,
    pub kind: String,
    pub at: String,
    pub who: String,
    pub door: String,
    pub source: String,
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// The entities whose users the batch changed.
    pub entities: Vec<i64>,
    pub undoes: Option<i64>,
    pub undone_by: Option<i64>,
    /// The columns of the states kept, in their order.
    #[serde(skip)]
    pub columns: Vec<String>,
}

/// One row of a batch's changes: a run of created users (`user_id..=last_id`), or one
/// updated or deleted user with its state before.
#[derive(Clone, Debug)]
pub struct Change {
    pub user_id: i64,
    pub last_id: i64,
    pub action: Action,
    pub uuid: Option<String>,
    /// The user's cells before the batch, in the batch's column order; `None` for a cell
    /// the batch did not change (an updated user keeps only those it changed).
    pub before: Option<Vec<Option<String>>>,
}

impl Change {
    /// The change as JSON, its state before as an object of the `columns` that `shown`
    /// keeps (the doors leave secrets out unless asked).
    pub fn to_json(&self, columns: &[String], shown: impl Fn(&str) -> bool) -> serde_json::Value {
        let before = self.before.as_ref().map(|cells| {
            columns
                .iter()
                .zip(cells)
                .filter_map(|(name, v)| Some((name, v.as_deref()?)))
                .filter(|(name, _)| shown(name))
                .map(|(k, v)| (k.clone(), serde_json::Value::from(v)))
                .collect::<serde_json::Map<_, _>>()
        });
        serde_json::json!({
            "action": self.action.as_str(),
            "user_id": self.user_id,
            "last_id": self.last_id,
            "uuid": self.uuid,
            "before": before,
        })
    }
}

/// The users a batch created, as runs of ids (ascending ids make one run).
#[derive(Clone, Debug, Default)]
pub struct Created {
    pub runs: Vec<(i64, i64)>,
    pub count: u64,
    pub entities: std::collections::BTreeSet<i64>,
}

impl Created {
    /// Notes the user `id`, of `entity`.
    pub fn push(&mut self, id: i64, entity: i64) {
        match self.runs.last_mut() {
            Some(run) if run.1 + 1 == id => run.1 = id,
            _ => self.runs.push((id, id)),
        }
        self.count += 1;
        self.entities.insert(entity);
    }

    /// Adds the users `other` noted.
    pub fn merge(&mut self, other: Created) {
        for (first, last) in other.runs {
            match self.runs.last_mut() {
                Some(run) if run.1 + 1 == first => run.1 = last,
                _ => self.runs.push((first, last)),
            }
        }
        self.count += other.count;
        self.entities.extend(other.entities);
    }
}

/// The separator of the cells of a state kept.
pub const SEPARATOR: char = '\u{1f}';

/// A cell of a state kept that the batch did not change (no cell may hold a C0 control).
pub const UNCHANGED: &str = "\u{1e}";

/// The registry columns whose cells a state keeps, in their order.
pub fn columns() -> impl Iterator<Item = crate::columns::Col> {
    crate::columns::COLUMNS
        .iter()
        .map(|c| c.col)
        .filter(|c| c.def().is_exported())
}

/// An updated or deleted user's state before a batch, waiting to be written with others
/// (see [`record_all`]).
#[derive(Clone, Debug)]
pub struct Pending {
    pub user_id: i64,
    pub action: Action,
    pub uuid: String,
    /// The cells, joined by [`SEPARATOR`] ([`UNCHANGED`] for a cell the batch did not
    /// change).
    pub before: String,
}

/// How many changes [`record_all`] writes in one statement.
pub const ROWS_PER_INSERT: usize = 200;
