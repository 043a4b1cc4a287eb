//! The reference data as the domain uses it: entities, contexts with their number ranges,
//! call permissions and CTI profiles, in memory (it is small and imports never change it).
//! The store reads it from the database (`Reference::load`, in `store/reference.rs`), from
//! the TOML file the administrator keeps (`store::reference::ReferenceFile`).

use crate::error::{Error, Result};
use std::collections::{HashMap, HashSet};

/// A number range `A-B`: accepts n with A ≤ n ≤ B and as many digits as A.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    start: String,
    end: String,
}

impl Range {
    /// Parses `A-B` (digits, A ≤ B).
    pub fn parse(s: &str) -> Option<Range> {
        let (a, b) = s.trim().split_once('-')?;
        let digits =
            |x: &str| !x.is_empty() && x.len() <= 40 && x.bytes().all(|c| c.is_ascii_digit());
        let r = Range {
            start: a.to_string(),
            end: b.to_string(),
        };
        (digits(a)
            && digits(b)
            && r.end.len() >= r.start.len()
            && r.contains(a)
            && r.contains_upper(b))
        .then_some(r)
    }

    /// A range as stored: its bounds were checked by [`Range::parse`] when it was written.
    pub fn stored(start: String, end: String) -> Range {
        Range { start, end }
    }

    /// Whether the number (digits) lies inside the range.
    pub fn contains(&self, n: &str) -> bool {
        n.len() == self.start.len() && n >= self.start.as_str() && self.contains_upper(n)
    }

    fn contains_upper(&self, n: &str) -> bool {
        n.len() < self.end.len() || (n.len() == self.end.len() && n <= self.end.as_str())
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// A context as the plan needs it.
#[derive(Clone, Debug)]
pub struct Context {
    /// Its entity.
    pub entity: i64,
    /// internal, incall or outcall.
    pub kind: String,
    /// Its ranges.
    pub ranges: Vec<Range>,
}

/// All reference data, in memory (it is small and imports never change it).
#[derive(Clone, Debug, Default)]
pub struct Reference {
    /// Entity ids.
    pub entities: HashSet<i64>,
    /// The language and time zone each entity gives its new users, when it has them.
    pub entity_defaults: HashMap<i64, (Option<String>, Option<String>)>,
    /// Contexts by name.
    pub contexts: HashMap<String, Context>,
    /// Call permission ids by (entity, name).
    pub permissions: HashMap<(i64, String), i64>,
    /// CTI profile ids by name.
    pub cti_profiles: HashMap<String, i64>,
}

impl Reference {
    /// The internal context DNs belong to: `given`, or the entity's only internal context.
    /// The message names the choices when there is none or several.
    pub fn dn_context(
        &self,
        given: Option<&str>,
        entity: Option<i64>,
    ) -> std::result::Result<String, String> {
        let entity = entity.or(self.default_entity(None));
        let internal = |c: &Context| c.kind == "internal" && entity.is_none_or(|e| c.entity == e);
        if let Some(name) = given {
            return match self.contexts.get(name) {
                Some(c) if internal(c) => Ok(name.to_string()),
                Some(c) => Err(format!(
                    "context '{name}' is {} context{}: DNs are extensions of an internal context",
                    if c.kind == "internal" {
                        "another entity's"
                    } else {
                        "an"
                    },
                    if c.kind == "internal" {
                        String::new()
                    } else {
                        format!(" of type {}", c.kind)
                    },
                )),
                None => Err(format!("context '{name}' does not exist")),
            };
        }
        let mut names: Vec<&String> = self
            .contexts
            .iter()
            .filter(|(_, c)| internal(c))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        match names.as_slice() {
            [one] => Ok(one.to_string()),
            [] => Err("there is no internal context for DNs: add one to the reference data".into()),
            several => Err(format!(
                "several internal contexts could hold the DNs ({}): choose one (--context on the command line, the line's context over HTTP)",
                several
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// Checks an `--entity` that selects users (export): the entity must exist, with the
    /// wording of an import row's `entity_id.unknown`.
    pub fn check_entity(&self, given: Option<i64>) -> Result<()> {
        match given {
            Some(e) if !self.entities.contains(&e) => {
                let mut known: Vec<i64> = self.entities.iter().copied().collect();
                known.sort_unstable();
                let known: Vec<String> = known.iter().map(i64::to_string).collect();
                Err(Error::Usage {
                    message: format!("entity {e} does not exist"),
                    help: format!(
                        "--entity takes the id of an existing entity (known: {}); see `ucsv reference show`",
                        known.join(", ")
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// The entity rows without entity_id belong to: `--entity`, or the only entity.
    pub fn default_entity(&self, given: Option<i64>) -> Option<i64> {
        given.or_else(|| {
            (self.entities.len() == 1).then(|| *self.entities.iter().next().unwrap_or(&0))
        })
    }
}
