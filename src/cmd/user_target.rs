//! The users a `ucsv user` TARGET names, and the usage error about a target or an option:
//! what [`super::user`] and [`super::user_write`] share.

use crate::cli::DnArgs;
use crate::columns::Col;
use crate::domain::numbers::Target;
use crate::domain::port::UserKey;
use crate::domain::Domain;
use crate::error::{Error, Result};

/// A usage error about a target or an option.
pub fn usage(message: String, help: &str) -> Error {
    Error::Usage {
        message,
        help: help.into(),
    }
}

/// The users a TARGET names (in the entity, if given), each with its key: a target naming
/// nobody is an error. For a range, also the numbers that have no user.
pub fn targets(
    domain: &Domain<'_>,
    target: &str,
    at: &DnArgs,
) -> Result<(Vec<UserKey>, Vec<String>)> {
    let parsed = Target::parse(target).map_err(|m| usage(m, "see `ucsv user --help`"))?;
    let context = match &parsed {
        Target::Dns(_) => domain
            .dn_context(at.context.as_deref(), at.entity)
            .map_err(|m| usage(m, "give --context NAME"))?,
        _ => String::new(),
    };
    let keys = domain.resolve(&parsed, &context)?;
    if keys.is_empty() {
        return Err(usage(
            format!("no user matches {parsed}"),
            "a target is a DN or range (of --context), a uuid, id:N, a username or an e-mail address",
        ));
    }
    let mut missing = Vec::new();
    if let Target::Dns(range) = &parsed {
        if (keys.len() as u64) < range.len() {
            // Which numbers of the range have no user: at most the range's length to check.
            let found: std::collections::HashSet<String> = keys
                .iter()
                .filter_map(|k| domain.show(k).ok().flatten())
                .map(|u| u.get(Col::Exten).to_string())
                .collect();
            missing = range.numbers().filter(|n| !found.contains(n)).collect();
        }
    }
    Ok((keys, missing))
}
