//! Directory numbers: DN ranges (`6505550000..6505550099`) and the targets of `ucsv user`
//! (a range, or one user by uuid, `id:N`, username, e-mail or DN), resolved to users.

use super::Domain;
use crate::domain::port::UserKey;
use crate::error::Result;

/// The most numbers a range may hold.
pub const MAX_RANGE: u64 = 100_000;

/// An inclusive range of directory numbers of one digit count (leading zeros kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnRange {
    pub first: String,
    pub last: String,
}

impl DnRange {
    /// Parses `A..B` or a single `A`; the message says what is wrong.
    pub fn parse(text: &str) -> std::result::Result<DnRange, String> {
        let (first, last) = text.split_once("..").unwrap_or((text, text));
        let (first, last) = (first.trim(), last.trim());
        for n in [first, last] {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "'{text}' is not a number or a range of numbers: write e.g. 6505550000..6505550099"
                ));
            }
            if n.len() > 18 {
                return Err(format!("'{n}' has more than 18 digits"));
            }
        }
        if first.len() != last.len() {
            return Err(format!(
                "the range {first}..{last} mixes {} and {} digits: both ends have the same digit count (leading zeros count)",
                first.len(),
                last.len()
            ));
        }
        let range = DnRange {
            first: first.to_string(),
            last: last.to_string(),
        };
        if first > last {
            return Err(format!(
                "the range {first}..{last} goes backwards: write the lower number first"
            ));
        }
        if range.len() > MAX_RANGE {
            return Err(format!(
                "the range {first}..{last} holds {} numbers; at most {MAX_RANGE} at a time",
                range.len()
            ));
        }
        Ok(range)
    }

    fn value(n: &str) -> u64 {
        n.parse().unwrap_or(0)
    }

    /// How many numbers the range holds (never none).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u64 {
        Self::value(&self.last) - Self::value(&self.first) + 1
    }

    /// The `i`-th number of the range (from 0), with the range's digit count.
    pub fn nth(&self, i: u64) -> String {
        let width = self.first.len();
        format!("{:0width$}", Self::value(&self.first) + i)
    }

    /// Whether the range is one number.
    pub fn is_single(&self) -> bool {
        self.first == self.last
    }

    /// The numbers, in order, with the digit count of the range.
    pub fn numbers(&self) -> impl Iterator<Item = String> + '_ {
        let width = self.first.len();
        (Self::value(&self.first)..=Self::value(&self.last)).map(move |n| format!("{n:0width$}"))
    }
}

impl std::fmt::Display for DnRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}..{}", self.first, self.last)
        }
    }
}

/// Whom a `ucsv user` command acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The users whose line has an extension in the range.
    Dns(DnRange),
    /// One user by uuid.
    Uuid(String),
    /// One user by id (`id:N`).
    Id(i64),
    /// One user by username or e-mail address.
    Login(String),
}

impl Target {
    /// Reads a TARGET argument.
    pub fn parse(text: &str) -> std::result::Result<Target, String> {
        let text = text.trim();
        if let Some(id) = text.strip_prefix("id:") {
            return id
                .parse()
                .map(Target::Id)
                .map_err(|_| format!("'{text}': id: is followed by a number, e.g. id:42"));
        }
        if text.contains("..") || (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())) {
            return DnRange::parse(text).map(Target::Dns);
        }
        if uuid::Uuid::try_parse(text).is_ok() {
            return Ok(Target::Uuid(text.to_lowercase()));
        }
        if text.is_empty() {
            return Err("the target is empty: give a DN, a range, a uuid, id:N, a username or an e-mail address".into());
        }
        Ok(Target::Login(text.to_string()))
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Dns(r) => write!(f, "{r}"),
            Target::Uuid(u) => write!(f, "{u}"),
            Target::Id(id) => write!(f, "id:{id}"),
            Target::Login(l) => write!(f, "{l}"),
        }
    }
}

impl Domain<'_> {
    /// The internal context DNs belong to (see [`super::reference::Reference::dn_context`]).
    pub fn dn_context(
        &self,
        given: Option<&str>,
        entity: Option<i64>,
    ) -> std::result::Result<String, String> {
        self.reference
            .dn_context(given, entity.or(self.default_entity))
    }

    /// The users a target names, in id order (a range: in number order); an empty list when
    /// it names nobody.
    pub fn resolve(&self, target: &Target, context: &str) -> Result<Vec<UserKey>> {
        Ok(match target {
            Target::Dns(r) => self
                .tx
                .users_by_extens(context, &r.first, &r.last)?
                .into_iter()
                .map(UserKey::Id)
                .collect(),
            Target::Uuid(u) => self
                .tx
                .stored_user(&UserKey::Uuid(u.clone()), self.scope)?
                .map(|u| UserKey::Id(u.user_id))
                .into_iter()
                .collect(),
            Target::Id(id) => self
                .tx
                .stored_user(&UserKey::Id(*id), self.scope)?
                .map(|u| UserKey::Id(u.user_id))
                .into_iter()
                .collect(),
            Target::Login(l) => self
                .tx
                .users_by_login(l)?
                .into_iter()
                .map(UserKey::Id)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_keep_leading_zeros_and_refuse_what_is_wrong() {
        let r = DnRange::parse("0098..0101").unwrap();
        assert_eq!(
            r.numbers().collect::<Vec<_>>(),
            ["0098", "0099", "0100", "0101"]
        );
        assert_eq!(r.len(), 4);
        assert!(DnRange::parse("1010..1000")
            .unwrap_err()
            .contains("backwards"));
        assert!(DnRange::parse("999..1000")
            .unwrap_err()
            .contains("digit count"));
        assert!(DnRange::parse("100000..300000")
            .unwrap_err()
            .contains("at most 100000"));
        assert!(DnRange::parse("12a").unwrap_err().contains("not a number"));
        assert_eq!(DnRange::parse("100000..199999").unwrap().len(), 100_000);
    }

    #[test]
    fn targets_are_told_apart() {
        assert_eq!(Target::parse("id:7"), Ok(Target::Id(7)));
        assert!(matches!(Target::parse("1000"), Ok(Target::Dns(r)) if r.is_single()));
        assert!(matches!(Target::parse("1000..1009"), Ok(Target::Dns(_))));
        assert_eq!(
            Target::parse("0190A0A0-0000-7000-8000-000000000001"),
            Ok(Target::Uuid("0190a0a0-0000-7000-8000-000000000001".into()))
        );
        assert_eq!(
            Target::parse("ann@x.org"),
            Ok(Target::Login("ann@x.org".into()))
        );
        assert!(Target::parse("id:x").is_err());
    }
}
