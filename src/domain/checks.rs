//! The plan of one row: references resolved against the reference data, numbers checked
//! against context ranges, uniqueness checked against the database and the file's earlier rows.

use super::reference::Context;
use super::Domain;
use crate::columns::Col;
use crate::domain::port::ExtensionState;
use crate::error::{Result, RowError};
use crate::record::{Parsed, Value};

/// Col values seen in rejected rows, kept as keyed 128-bit hashes: two different values
/// share one with a probability of about 10^-25 per pair, and a million rejected rows cost
/// tens of megabytes instead of hundreds.
#[derive(Debug, Default)]
pub struct Seen {
    keys: (std::hash::RandomState, std::hash::RandomState),
    values: std::collections::HashSet<u128>,
    /// The values remembered since the oldest [`Seen::mark`] not yet confirmed, to forget
    /// them again.
    since_mark: Vec<u128>,
    /// Where each mark not yet confirmed starts in `since_mark`, oldest first (a batch
    /// whose writes are not known to be kept yet, and the one after it).
    marks: std::collections::VecDeque<usize>,
}

impl Seen {
    fn hash(&self, u: Col, v: &str) -> u128 {
        use std::hash::BuildHasher;
        let key = u.def().unique_key(v);
        let a = self.keys.0.hash_one((u, &key));
        let b = self.keys.1.hash_one((u, &key));
        (u128::from(a) << 64) | u128::from(b)
    }

    /// Remembers a value.
    pub fn insert(&mut self, u: Col, v: &str) {
        let h = self.hash(u, v);
        if self.values.insert(h) {
            self.since_mark.push(h);
        }
    }

    /// Marks where a batch starts.
    pub fn mark(&mut self) {
        self.marks.push_back(self.since_mark.len());
    }

    /// Keeps what was remembered before the last `keep_last` marks for good.
    pub fn confirm(&mut self, keep_last: usize) {
        while self.marks.len() > keep_last {
            self.marks.pop_front();
        }
        let cut = self.marks.front().copied().unwrap_or(self.since_mark.len());
        self.since_mark.drain(..cut);
        for m in &mut self.marks {
            *m -= cut;
        }
    }

    /// Forgets the values remembered since the oldest mark not confirmed.
    pub fn forget_since_mark(&mut self) {
        let from = self.marks.front().copied().unwrap_or(self.since_mark.len());
        for h in self.since_mark.drain(from..) {
            self.values.remove(&h);
        }
        self.marks.clear();
    }

    /// Whether a value was remembered.
    pub fn contains(&self, u: Col, v: &str) -> bool {
        !self.values.is_empty() && self.values.contains(&self.hash(u, v))
    }
}

/// What the checks resolved, for the writes.
#[derive(Debug, Default)]
pub struct Plan {
    pub uuid: String,
    pub entity: i64,
    pub cti_profile: Option<i64>,
    pub sip_username: Option<String>,
    pub provisioning_code: Option<String>,
    /// A free existing extension to reuse for the line.
    pub exten_id: Option<i64>,
    /// For each incall, a free existing extension to reuse.
    pub incall_extens: Vec<Option<i64>>,
    /// An existing voicemail box to share.
    pub voicemail: Option<i64>,
    pub permissions: Vec<i64>,
}

/// How many times a generated value is drawn again when it is taken.
const DRAWS: usize = 1000;

impl Domain<'_> {
    /// Whether a unique value is taken, in the database or by a rejected earlier row.
    fn taken(&self, u: Col, v: &str) -> Result<bool> {
        if self.rejected.contains(u, v) {
            return Ok(true);
        }
        if !self.probe {
            return Ok(false);
        }
        self.tx.taken(u, v, self.owner_id())
    }

    fn check_unique(&self, u: Col, v: &str, errors: &mut Vec<RowError>) -> Result<()> {
        if !self.settled(u) && self.taken(u, v)? {
            let name = u.name();
            errors.push(RowError::new(
                u,
                "duplicate",
                format!(
                    "{name} {} is already used by another user (in the database or an earlier row)",
                    crate::record::shown(u, v)
                ),
            ));
        }
        Ok(())
    }

    /// The id and owner state of `exten@context`: `Ok(Some(id))` free existing (or the
    /// updated user's own), `Ok(None)` not existing, `Err(())` owned by another line or incall.
    fn extension_state(
        &self,
        exten: &str,
        context: &str,
    ) -> Result<std::result::Result<Option<i64>, ()>> {
        if !self.probe {
            return Ok(Ok(None));
        }
        Ok(
            match self.tx.extension_state(exten, context, self.owner_id())? {
                ExtensionState::Missing => Ok(None),
                ExtensionState::Free(id) => Ok(Some(id)),
                ExtensionState::Taken => Err(()),
            },
        )
    }
}

/// Resolves a context name for a column: it must exist, belong to the entity and (if `kind`
/// is given) be of that type.
fn context<'r>(
    a: &'r Domain<'_>,
    col: Col,
    name: &str,
    entity: Option<i64>,
    kind: Option<&str>,
    errors: &mut Vec<RowError>,
) -> Option<&'r Context> {
    let c = col.name();
    let help = || contexts_help(a, entity, kind);
    let Some(ctx) = a.reference.contexts.get(name) else {
        let known: Vec<&str> = a
            .reference
            .contexts
            .iter()
            .filter(|(_, x)| {
                kind.is_none_or(|k| x.kind == k) && entity.is_none_or(|e| x.entity == e)
            })
            .map(|(n, _)| n.as_str())
            .collect();
        errors.push(
            RowError::new(
                col,
                "unknown",
                format!("{c} '{name}' does not exist (known: {})", sorted(known)),
            )
            .help(help()),
        );
        return None;
    };
    if let Some(k) = kind {
        if ctx.kind != k {
            errors.push(
                RowError::new(
                    col,
                    "wrong_type",
                    format!(
                        "{c} '{name}' is an {} context; an {k} context is needed",
                        ctx.kind
                    ),
                )
                .help(help()),
            );
            return None;
        }
    }
    if let Some(e) = entity {
        if ctx.entity != e {
            errors.push(
                RowError::new(
                    col,
                    "wrong_entity",
                    format!(
                        "{c} '{name}' belongs to entity {}, not to the user's entity {e}",
                        ctx.entity
                    ),
                )
                .help(help()),
            );
            return None;
        }
    }
    Some(ctx)
}

/// The contexts a column may name, with their types and ranges, for the help line.
fn contexts_help(a: &Domain<'_>, entity: Option<i64>, kind: Option<&str>) -> String {
    let mut usable: Vec<String> = a
        .reference
        .contexts
        .iter()
        .filter(|(_, x)| kind.is_none_or(|k| x.kind == k) && entity.is_none_or(|e| x.entity == e))
        .map(|(n, x)| {
            let ranges: Vec<String> = x.ranges.iter().map(ToString::to_string).collect();
            if ranges.is_empty() {
                format!("{n} ({})", x.kind)
            } else {
                format!("{n} ({}, {})", x.kind, ranges.join(", "))
            }
        })
        .collect();
    usable.sort_unstable();
    let whose = entity
        .map(|e| format!(" of entity {e}"))
        .unwrap_or_default();
    match usable.is_empty() {
        true => format!("there is no such context{whose}; see `ucsv reference show`"),
        false => format!("contexts{whose}: {}", usable.join("; ")),
    }
}

fn sorted(mut names: Vec<&str>) -> String {
    names.sort_unstable();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Checks a number against the ranges of its context.
fn in_range(
    col: Col,
    exten: &str,
    ctx_name: &str,
    ctx: &Context,
    errors: &mut Vec<RowError>,
) -> bool {
    if ctx.ranges.iter().any(|r| r.contains(exten)) {
        return true;
    }
    let ranges: Vec<String> = ctx.ranges.iter().map(ToString::to_string).collect();
    let c = col.name();
    errors.push(RowError::new(
        col,
        "outside_range",
        format!(
            "{c} '{exten}' is outside the ranges of context '{ctx_name}' ({})",
            if ranges.is_empty() {
                "none".into()
            } else {
                ranges.join(", ")
            }
        ),
    ));
    false
}

/// Checks a row against the reference data and the database; fills `errors` and `warnings`.
pub fn plan(
    a: &mut Domain<'_>,
    p: &Parsed,
    errors: &mut Vec<RowError>,
    warnings: &mut Vec<RowError>,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let entity = match p.user.entity_id.or(a.default_entity) {
        None => {
            errors.push(RowError::new(
                Col::EntityId,
                "required",
                "entity_id is required: the database has several entities and none was chosen for the row",
            ));
            None
        }
        Some(e) if !a.reference.entities.contains(&e) => {
            errors.push(RowError::new(
                Col::EntityId,
                "unknown",
                format!("entity {e} does not exist"),
            ));
            None
        }
        Some(e) => match a.scope {
            Some(s) if a.confined && s != e => {
                errors.push(RowError::new(
                    Col::EntityId,
                    "outside",
                    format!("entity {e} is not the entity of this request ({s})"),
                ));
                None
            }
            _ => Some(e),
        },
    };
    plan.entity = entity.unwrap_or_default();

    match &p.user.uuid {
        Some(u) => {
            a.check_unique(Col::Uuid, u, errors)?;
            plan.uuid = u.clone();
        }
        None => plan.uuid = uuid::Uuid::now_v7().hyphenated().to_string(),
    }
    if let Some(email) = p.user.get(Col::Email).and_then(Value::as_text) {
        a.check_unique(Col::Email, email, errors)?;
    }
    if let Some(login) = &p.login {
        a.check_unique(Col::Username, &login.username, errors)?;
    }
    if let Some(name) = p.cti.as_ref().and_then(|c| c.name.as_ref()) {
        match a.reference.cti_profiles.get(name) {
            Some(id) => plan.cti_profile = Some(*id),
            None => {
                let known: Vec<&str> = a
                    .reference
                    .cti_profiles
                    .keys()
                    .map(String::as_str)
                    .collect();
                errors.push(RowError::new(
                    Col::CtiProfileName,
                    "unknown",
                    format!(
                        "CTI profile '{name}' does not exist (known: {})",
                        sorted(known)
                    ),
                ));
            }
        }
    }

    if let Some(line) = &p.phone {
        let ctx = context(
            a,
            Col::Context,
            &line.context,
            entity,
            Some("internal"),
            errors,
        );
        if let Some(sip) = &line.sip_username {
            if line.sip_username_generated {
                plan.sip_username = Some(draw(
                    a,
                    Col::SipUsername,
                    sip.clone(),
                    crate::record::generate_sip_username,
                )?);
            } else {
                a.check_unique(Col::SipUsername, sip, errors)?;
                plan.sip_username = Some(sip.clone());
            }
        }
        match &line.provisioning_code {
            Some(code) => {
                a.check_unique(Col::ProvisioningCode, code, errors)?;
                plan.provisioning_code = Some(code.clone());
            }
            None => {
                let mut code = a.tx.provisioning_code()?;
                for _ in 0..DRAWS {
                    if !a.taken(Col::ProvisioningCode, &code)? {
                        break;
                    }
                    code = a.tx.provisioning_code()?;
                }
                if a.taken(Col::ProvisioningCode, &code)? {
                    errors.push(RowError::new(
                        Col::ProvisioningCode,
                        "exhausted",
                        "no free provisioning code was found; give one in provisioning_code",
                    ));
                }
                plan.provisioning_code = Some(code);
            }
        }
        let line_settled = a.settled(Col::Exten) && a.settled(Col::Context);
        if let (Some(exten), Some(ctx)) = (&p.exten, ctx.filter(|_| !line_settled)) {
            if in_range(Col::Exten, exten, &line.context, ctx, errors) {
                match a.extension_state(exten, &line.context)? {
                    Ok(id) => plan.exten_id = id,
                    Err(()) => errors.push(RowError::new(
                        Col::Exten,
                        "in_use",
                        format!(
                            "extension {exten}@{} already belongs to another line or incall",
                            line.context
                        ),
                    )),
                }
            }
        }
    }

    let mut seen = std::collections::HashSet::new();
    let incalls_settled = [Col::IncallExten, Col::IncallContext, Col::IncallRingSeconds]
        .iter()
        .all(|c| a.settled(*c));
    for incall in p.incalls.iter().filter(|_| !incalls_settled) {
        let ctx = context(
            a,
            Col::IncallContext,
            &incall.context,
            entity,
            Some("incall"),
            errors,
        );
        let mut state = None;
        if let Some(ctx) = ctx {
            if in_range(
                Col::IncallExten,
                &incall.exten,
                &incall.context,
                ctx,
                errors,
            ) {
                let free = a.extension_state(&incall.exten, &incall.context)?;
                if free.is_err() || !seen.insert((&incall.exten, &incall.context)) {
                    errors.push(RowError::new(
                        Col::IncallExten,
                        "in_use",
                        format!(
                            "incoming number {}@{} already routes to someone",
                            incall.exten, incall.context
                        ),
                    ));
                }
                state = free.ok().flatten();
            }
        }
        plan.incall_extens.push(state);
    }

    if let Some(vm) = &p.voicemail {
        let box_settled = a.settled(Col::VoicemailNumber) && a.settled(Col::VoicemailContext);
        if context(a, Col::VoicemailContext, &vm.context, entity, None, errors).is_some()
            && a.probe
            && !box_settled
        {
            let existing = a.tx.voicemail_id(&vm.number, &vm.context)?;
            if let Some(id) =
                existing.filter(|id| a.owner.is_none_or(|o| o.voicemail_id != Some(*id)))
            {
                warnings.push(RowError::new(
                    Col::VoicemailNumber,
                    "shared",
                    format!(
                        "voicemail {}@{} already exists: the user shares it; its settings are not changed",
                        vm.number, vm.context
                    ),
                ));
                plan.voicemail = Some(id);
            }
        }
    }

    if let (Some(names), Some(entity)) = (&p.permissions, entity) {
        for name in names {
            match a.reference.permissions.get(&(entity, name.clone())) {
                Some(id) => plan.permissions.push(*id),
                None => {
                    let known: Vec<&str> = a
                        .reference
                        .permissions
                        .keys()
                        .filter(|(e, _)| *e == entity)
                        .map(|(_, n)| n.as_str())
                        .collect();
                    errors.push(RowError::new(
                        Col::CallPermissions,
                        "unknown",
                        format!("call permission '{name}' does not exist in entity {entity} (known: {})", sorted(known)),
                    ));
                }
            }
        }
    }
    Ok(plan)
}

/// Draws a generated value again until it is free (or the draws run out).
fn draw(a: &Domain<'_>, u: Col, first: String, gen: fn() -> String) -> Result<String> {
    let mut v = first;
    for _ in 0..DRAWS {
        if !a.taken(u, &v)? {
            break;
        }
        v = gen();
    }
    Ok(v)
}
