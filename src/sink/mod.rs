//! Where a run's outcome goes: the one place that renders it.
//!
//! The pipeline hands each row's outcome to a [`Sink`] as it comes (a warning, a created or
//! updated user, a rejected row with its errors), tells it when every row has been seen
//! (before the transaction commits), and the command hands it the final counts
//! ([`Outcome`]). A sink keeps only what it needs, so memory stays bounded whatever the
//! number of rows:
//! - [`json::Json`]: the JSON report of SPEC §5 on stdout, its lists spooled to temporary
//!   files as rows come;
//! - [`human::Human`]: miette diagnostics on stderr for the first rows, counts for the rest;
//! - [`files::Files`]: the `--rejects` and `--errors` CSV files, complete and in place before
//!   the commit.
//!
//! Sinks combine: a pair `(A, B)` is a sink that hands everything to both, in that order.

pub mod files;
pub mod human;
pub mod json;
pub mod users;

pub use files::Files;
pub use human::Human;
pub use json::Json;

use crate::domain::update::Updated;
use crate::domain::Created;
use crate::error::Result;
use crate::report::{Issue, Outcome, Rejected};

/// Receives a run's outcome row by row, then its counts.
///
/// Calls come in input order: the header's warnings first, then for each row its warnings
/// (only for a row that is applied) followed by its entry. Every method has a default that
/// ignores what it is given, so a sink implements only what it renders. An error from any
/// method is fatal to the run: before [`Sink::rows_done`] returns, nothing has been committed.
pub trait Sink {
    /// A warning: about the header (`row_number` is `None`) or about the row that follows.
    fn warning(&mut self, _warning: &Issue) -> Result<()> {
        Ok(())
    }

    /// An import row that was written (or would be, in a dry run).
    fn created(&mut self, _created: &Created) -> Result<()> {
        Ok(())
    }

    /// An update row that changed its user; an unchanged row is only counted.
    fn updated(&mut self, _updated: &Updated) -> Result<()> {
        Ok(())
    }

    /// A row rejected with its errors and its cells as read.
    fn rejected(&mut self, _row: &Rejected) -> Result<()> {
        Ok(())
    }

    /// Every row has been seen, and the run is about to commit (or roll back): output that
    /// must be complete before the database changes is put in place here.
    fn rows_done(&mut self) -> Result<()> {
        Ok(())
    }

    /// The run is over: the counts, and whether the run committed.
    fn finish(&mut self, _outcome: &Outcome) -> Result<()> {
        Ok(())
    }
}

/// A sink that keeps nothing (the counts are still in the [`Outcome`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl Sink for Discard {}

/// A sink behind a pointer is the sink it points to.
macro_rules! forward {
    ($($ty:ty),*) => {$(
        impl<S: Sink + ?Sized> Sink for $ty {
            fn warning(&mut self, warning: &Issue) -> Result<()> {
                (**self).warning(warning)
            }
            fn created(&mut self, created: &Created) -> Result<()> {
                (**self).created(created)
            }
            fn updated(&mut self, updated: &Updated) -> Result<()> {
                (**self).updated(updated)
            }
            fn rejected(&mut self, row: &Rejected) -> Result<()> {
                (**self).rejected(row)
            }
            fn rows_done(&mut self) -> Result<()> {
                (**self).rows_done()
            }
            fn finish(&mut self, outcome: &Outcome) -> Result<()> {
                (**self).finish(outcome)
            }
        }
    )*};
}

forward!(&mut S, Box<S>);

/// Both sinks, the first one first (e.g. the output files, then the report).
impl<A: Sink, B: Sink> Sink for (A, B) {
    fn warning(&mut self, warning: &Issue) -> Result<()> {
        self.0.warning(warning)?;
        self.1.warning(warning)
    }
    fn created(&mut self, created: &Created) -> Result<()> {
        self.0.created(created)?;
        self.1.created(created)
    }
    fn updated(&mut self, updated: &Updated) -> Result<()> {
        self.0.updated(updated)?;
        self.1.updated(updated)
    }
    fn rejected(&mut self, row: &Rejected) -> Result<()> {
        self.0.rejected(row)?;
        self.1.rejected(row)
    }
    fn rows_done(&mut self) -> Result<()> {
        self.0.rows_done()?;
        self.1.rows_done()
    }
    fn finish(&mut self, outcome: &Outcome) -> Result<()> {
        self.0.finish(outcome)?;
        self.1.finish(outcome)
    }
}

/// Writes to a standard stream: a closed pipe (the reader went away) ends quietly, any other
/// failure is an output error naming the stream.
fn to_stream(shown: &str, write: impl FnOnce() -> std::io::Result<()>) -> Result<()> {
    match write() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(crate::error::Error::Output {
            path: shown.to_string(),
            source: e,
        }),
        _ => Ok(()),
    }
}
