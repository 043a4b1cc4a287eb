//! The parallel stage: a batch of raw rows is parsed and checked on all cores (rayon), in
//! input order. Password hashing and credential generation happen here too.

use crate::error::RowError;
use crate::read::{Header, RawRow};
use crate::record::{self, Parsed};
use rayon::prelude::*;

/// Parses and checks a batch for import; the results keep the batch's order.
pub fn import_batch(header: &Header, batch: &[RawRow]) -> Vec<Result<Parsed, Vec<RowError>>> {
    batch
        .par_iter()
        .map(|raw| record::parse_import(header, raw))
        .collect()
}

/// The parallel part of a batch of update rows (shape checks and password hashes), in order.
pub fn update_batch(
    header: &Header,
    batch: &[RawRow],
) -> Vec<Result<Option<String>, Vec<RowError>>> {
    batch
        .par_iter()
        .map(|raw| crate::apply::update::prepare(header, raw))
        .collect()
}
