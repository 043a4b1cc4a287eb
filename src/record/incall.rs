//! Incoming numbers (DIDs): `;`-lists of equal length, one incall per item.

use super::Fields;
use crate::columns::{Col, Group};
use crate::error::RowError;

/// One incoming number routed to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incall {
    /// The number.
    pub exten: String,
    /// Its incall context.
    pub context: String,
    /// Ring time, if set.
    pub ring_seconds: Option<i64>,
}

impl Incall {
    /// Builds the incall group from aligned lists.
    pub fn build(f: &mut Fields) -> Vec<Incall> {
        if !f.group_filled(Group::Incall) || !f.require(Group::Incall) {
            return Vec::new();
        }
        let (Some(extens), Some(contexts)) = (
            f.take_list(Col::IncallExten),
            f.take_list(Col::IncallContext),
        ) else {
            return Vec::new();
        };
        let rings: Vec<String> = f.take_list(Col::IncallRingSeconds).unwrap_or_default();
        let n = extens.len();
        let mut errors = Vec::new();
        for (col, len) in [
            (Col::IncallContext, contexts.len()),
            (Col::IncallRingSeconds, rings.len()),
        ] {
            if len != n && !(col == Col::IncallRingSeconds && len == 0) {
                errors.push(RowError::new(
                    col,
                    "list_length",
                    format!(
                        "{} has {len} items but incall_exten has {n}: the lists must align",
                        col.name()
                    ),
                ));
            }
        }
        for (i, (e, c)) in extens.iter().zip(&contexts).enumerate() {
            if e.is_empty() || c.is_empty() {
                errors.push(RowError::new(
                    if e.is_empty() {
                        Col::IncallExten
                    } else {
                        Col::IncallContext
                    },
                    "empty_item",
                    format!("item {} of the incall lists is empty", i + 1),
                ));
            }
        }
        let incalls = extens
            .into_iter()
            .zip(contexts)
            .enumerate()
            .map(|(i, (exten, context))| Incall {
                exten,
                context,
                ring_seconds: rings.get(i).and_then(|r| super::parse_int(r).ok()),
            })
            .collect();
        if errors.is_empty() {
            incalls
        } else {
            f.errors.extend(errors);
            Vec::new()
        }
    }
}
