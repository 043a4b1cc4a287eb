//! Update (patch): a uuid-keyed plan. Each row, checked in the parallel stage
//! ([`record::Patch`]), is merged into the user's current record (as an export shows it,
//! read with the other users of its batch: [`Domain::read_ahead`]);
//! the merged record is planned like an import row (the stored values taken as stored, the
//! row's own checked), and what changed is written in place, keeping ids; resources the user
//! lacks are created as on import.

use super::{checks, Domain, Owner};
use crate::columns::{Col, Group, COLUMNS};
use crate::domain::port::{LineRow, StoredIncall, StoredUser, UserKey, UserRow, Write};
use crate::error::{Result, RowError};
use crate::record::{self, Given, Parsed, Patch};
use serde::Serialize;
use std::collections::HashMap;

/// What an update row changed: the report's entry.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Updated {
    /// 1-based data row index.
    pub row_number: u64,
    /// Physical line of the record.
    pub line: u64,
    /// The user's id.
    pub user_id: i64,
    /// The user's UUID.
    pub user_uuid: String,
    /// The columns whose values changed.
    pub changed: Vec<&'static str>,
    /// The resources created for the user (line, extension, incall, voicemail).
    pub created: Vec<&'static str>,
    /// The line's id.
    pub line_id: Option<i64>,
    /// The line's extension id.
    pub extension_id: Option<i64>,
    /// The voicemail box's id.
    pub voicemail_id: Option<i64>,
    /// The incoming calls' ids.
    pub incall_ids: Vec<i64>,
    /// The call permissions' ids.
    pub call_permission_ids: Vec<i64>,
    /// Whether the line was given a free existing extension (not created).
    #[serde(skip)]
    pub extension_reused: bool,
}

/// The outcome of one update row: `Ok(None)` when nothing changed.
pub type UpdateOutcome = std::result::Result<(Option<Updated>, Vec<RowError>), Vec<RowError>>;

/// Users read ahead for the rows of a batch (see [`Domain::read_ahead`]), by uuid. Each is
/// taken by the first row that names it; a later row of the same user reads it again, after
/// the first row's writes. A row changes no other user's record, but for a voicemail box's
/// settings, which every user of the box shows: those users are read again too.
#[derive(Default)]
pub(super) struct Ahead {
    /// The entity the users were looked up in.
    entity: Option<i64>,
    users: HashMap<String, StoredUser>,
    /// How many of the users held have each voicemail box.
    boxes: HashMap<i64, usize>,
}

impl Ahead {
    /// Takes the user with `uuid`, if it was read ahead (in the same entity).
    fn take(&mut self, uuid: &str, entity: Option<i64>) -> Option<StoredUser> {
        if self.entity != entity {
            return None;
        }
        let user = self.users.remove(uuid)?;
        if let Some(b) = user.voicemail_id {
            if let Some(n) = self.boxes.get_mut(&b) {
                *n = n.saturating_sub(1);
            }
        }
        Some(user)
    }

    /// Forgets the users of a voicemail box whose settings changed.
    fn forget_box(&mut self, voicemail_id: i64) {
        if self.boxes.remove(&voicemail_id).is_some_and(|n| n > 0) {
            self.users
                .retain(|_, u| u.voicemail_id != Some(voicemail_id));
        }
    }
}

/// What this run's writes made stale of a state read beside it (see
/// [`Domain::hold_read_beside`]): the users it wrote, and the voicemail boxes whose
/// settings it changed (every user of a box shows them).
#[derive(Default)]
pub(super) struct Stale {
    users: std::collections::HashSet<i64>,
    boxes: std::collections::HashSet<i64>,
}

/// The uuid an update row names, checked.
fn key(row: &Patch) -> std::result::Result<String, RowError> {
    // Checked in the parallel stage already, when it is valid.
    if let Some(u) = row.fields.value(Col::Uuid).and_then(record::Value::as_text) {
        return Ok(u.to_string());
    }
    match row.cell(Col::Uuid) {
        Given::Text(u) => {
            record::check(Col::Uuid, u).map(|v| v.as_text().unwrap_or_default().to_string())
        }
        _ => Err(RowError::new(
            Col::Uuid,
            "required",
            "uuid is required on update: it names the user to change",
        )),
    }
}

impl Domain<'_> {
    /// Reads the users that `rows` name (in `entity`, if given) in one question, before the
    /// rows are applied: [`Domain::update`] takes them from there instead of asking for each.
    pub fn read_ahead<'r>(
        &mut self,
        rows: impl IntoIterator<Item = &'r Patch>,
        entity: Option<i64>,
    ) -> Result<()> {
        let users = self.tx.stored_users(&Self::ahead_keys(rows), entity)?;
        self.hold(users, entity);
        Ok(())
    }

    /// The uuids [`Domain::read_ahead`] asks for: those checked in the parallel stage (a
    /// row without one is refused by update).
    pub fn ahead_keys<'r>(rows: impl IntoIterator<Item = &'r Patch>) -> Vec<&'r str> {
        rows.into_iter()
            .filter_map(|r| r.fields.value(Col::Uuid).and_then(record::Value::as_text))
            .collect()
    }

    /// Holds, for the rows of a batch, the users another connection read for them
    /// ([`Domain::ahead_keys`], in `entity`) from the database as this transaction found
    /// it, on another thread while this one wrote: a user that this run wrote since, or
    /// whose voicemail box's settings it changed, is left out and read again here.
    pub fn hold_read_beside(&mut self, mut users: Vec<StoredUser>, entity: Option<i64>) {
        let stale = &self.stale;
        if !stale.users.is_empty() {
            users.retain(|u| {
                !stale.users.contains(&u.user_id)
                    && u.voicemail_id.is_none_or(|b| !stale.boxes.contains(&b))
            });
        }
        self.hold(users, entity);
    }

    fn hold(&mut self, users: Vec<StoredUser>, entity: Option<i64>) {
        let mut ahead = Ahead {
            entity,
            users: HashMap::with_capacity(users.len()),
            boxes: HashMap::new(),
        };
        for user in users {
            if let Some(b) = user.voicemail_id {
                *ahead.boxes.entry(b).or_default() += 1;
            }
            ahead
                .users
                .insert(user.cells[Col::Uuid as usize].to_string(), user);
        }
        self.ahead = ahead;
    }

    /// Merges one row into its user's record, checks the result and writes what changed.
    pub fn update(&mut self, mut row: Patch, entity: Option<i64>) -> Result<UpdateOutcome> {
        let uuid = match key(&row) {
            Ok(u) => u,
            Err(e) => return Ok(Err(vec![e])),
        };
        let own = row.take_fields();
        let row = row;
        let hash = row.hash.as_deref();
        let cur = match self.ahead.take(&uuid, entity) {
            Some(u) => Some(u),
            None => self.tx.stored_user(&UserKey::Uuid(uuid.clone()), entity)?,
        };
        let Some(cur) = cur else {
            let scope = entity
                .map(|e| format!(" in entity {e}"))
                .unwrap_or_default();
            return Ok(Err(vec![RowError::new(
                Col::Uuid,
                "unknown",
                format!("no user has uuid {uuid}{scope}"),
            )]));
        };
        let mut errors = Vec::new();
        let renamed_box: String;
        let mut merged = merge(&row, &cur, hash, &mut errors);
        if let Some(name) = follow_name(&cur.cells, &merged) {
            renamed_box = name;
            merged[Col::VoicemailName as usize] = &renamed_box;
        }
        // Which columns the row changes, by registry index (a new password changes the hash).
        let mut mask = [false; crate::columns::N];
        for c in COLUMNS {
            let i = c.col as usize;
            mask[i] = if c.col == Col::Password {
                hash.is_some()
            } else {
                merged[i] != &cur.cells[i]
            };
        }
        let changed: Vec<&'static str> = COLUMNS
            .iter()
            .filter(|c| mask[c.col as usize])
            .map(|c| c.name)
            .collect();
        // A row that changes nothing is done: the stored values passed their checks when
        // they were written, so the merged record need not be parsed again.
        if changed.is_empty() && errors.is_empty() {
            return Ok(Ok((None, Vec::new())));
        }
        let fields = record::Fields::merged(own, |col| row.text(col), &merged);
        let parsed = record::build(fields, row.row_number, row.line);
        errors.extend(parsed.errors.iter().cloned());
        self.owner = Some(Owner {
            user_id: cur.user_id,
            voicemail_id: cur.voicemail_id,
            settled: mask.map(|m| !m),
        });
        // The row's own cells are the ones warned about: the merged record also holds the
        // stored values, warned about when they were written.
        let mut warnings: Vec<RowError> = COLUMNS
            .iter()
            .filter(|c| mask[c.col as usize])
            .filter_map(|c| row.text(c.col).map(|v| (c.col, v)))
            .filter_map(|(col, v)| record::bidi_warning(col, v))
            .collect();
        let planned = checks::plan(self, &parsed, &mut errors, &mut warnings);
        self.owner = None;
        let plan = planned?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let mut out = Updated {
            row_number: row.row_number,
            line: row.line,
            user_id: cur.user_id,
            user_uuid: uuid,
            changed,
            ..Updated::default()
        };
        // The state before keeps the cells the write may change: those the row changes, and
        // every cell of a group (other than the user's own fields, each written alone) that
        // the row touches, which the write may give new values (a line's SIP secret).
        self.note_changed_cells(super::port::history::Action::Updated, &cur, |col| {
            let group = col.def().group;
            mask[col as usize] || (group != Group::User && touched(&mask, group))
        })?;
        self.stale.users.insert(cur.user_id);
        self.write_update(&parsed, &plan, &cur, &mask, &mut out)?;
        Ok(Ok((Some(out), warnings)))
    }

    fn write_update(
        &mut self,
        p: &Parsed,
        plan: &checks::Plan,
        cur: &StoredUser,
        mask: &[bool; crate::columns::N],
        out: &mut Updated,
    ) -> Result<()> {
        let incalls = match &cur.incalls {
            Some(i) => i.clone(),
            None => self.tx.stored_incalls(cur.user_id)?,
        };
        let permissions = match &cur.permissions {
            Some(p) => p.clone(),
            None => self.tx.stored_permissions(cur.user_id)?,
        };
        let changed = |col: Col| mask[col as usize];
        let touched = |g: Group| touched(mask, g);
        let tx = &self.tx;
        if touched(Group::User) || touched(Group::Login) || touched(Group::Cti) {
            let login = p.login.as_ref();
            // A group's columns are written together: an emptied username takes the
            // password hash with it, a CTI change its profile.
            let columns: Vec<Col> = COLUMNS
                .iter()
                .filter(|c| {
                    changed(c.col)
                        || (matches!(c.group, Group::Login | Group::Cti) && touched(c.group))
                })
                .map(|c| c.col)
                .collect();
            tx.update_user(
                cur.user_id,
                &UserRow {
                    id: None,
                    uuid: &out.user_uuid,
                    entity: plan.entity,
                    username: login.map(|l| l.username.as_str()),
                    password_hash: login.and_then(|l| l.password_hash.as_deref()),
                    cti_profile_enabled: p.cti.as_ref().is_some_and(|c| c.enabled),
                    cti_profile: plan.cti_profile,
                    fields: &p.user.fields,
                },
                &columns,
            )?;
        }
        out.line_id = cur.line_id;
        out.extension_id = cur.extension_id;
        if let Some(line) = &p.phone {
            match cur.line_id {
                Some(id) if touched(Group::Line) => {
                    tx.update_line(
                        id,
                        &LineRow {
                            protocol: line.protocol.as_str(),
                            context: &line.context,
                            sip_username: plan.sip_username.as_deref(),
                            sip_secret: line.sip_secret.as_deref(),
                            provisioning_code: plan.provisioning_code.as_deref(),
                        },
                    )?;
                }
                Some(_) => {}
                None => {
                    out.line_id = Some(self.insert_line(cur.user_id, line, plan)?);
                    out.created.push("line");
                }
            }
            if let (Some(exten), Some(line_id)) = (&p.exten, out.line_id) {
                if changed(Col::Exten) || changed(Col::Context) || cur.extension_id.is_none() {
                    out.extension_id = Some(self.move_extension(
                        exten,
                        &line.context,
                        plan.exten_id,
                        cur.extension_id,
                        line_id,
                    )?);
                    if plan.exten_id.is_some() && plan.exten_id != cur.extension_id {
                        out.extension_reused = true;
                    } else if cur.extension_id.is_none() {
                        out.created.push("extension");
                    }
                }
            }
        }
        out.incall_ids = incalls.iter().map(|i| i.id).collect();
        if touched(Group::Incall) {
            out.incall_ids =
                self.replace_incalls(cur.user_id, &incalls, p, plan, &mut out.created)?;
        }
        out.voicemail_id = cur.voicemail_id;
        if let Some(vm) = p.voicemail.as_ref().filter(|_| touched(Group::Voicemail)) {
            match (cur.voicemail_id, plan.voicemail) {
                (Some(_), Some(shared)) => {
                    self.tx.relink_voicemail(cur.user_id, shared)?;
                    out.voicemail_id = Some(shared);
                }
                (Some(id), None) => {
                    self.tx.update_voicemail(id, vm)?;
                    self.ahead.forget_box(id);
                    self.stale.boxes.insert(id);
                }
                (None, shared) => {
                    let (id, created) = self.attach_voicemail(cur.user_id, vm, shared)?;
                    out.voicemail_id = Some(id);
                    if created {
                        out.created.push("voicemail");
                    }
                }
            }
        }
        out.call_permission_ids = permissions;
        if changed(Col::CallPermissions) {
            self.tx.clear_permissions(cur.user_id)?;
            for id in &plan.permissions {
                self.tx.link_permission(cur.user_id, *id)?;
            }
            out.call_permission_ids = plan.permissions.clone();
        }
        Ok(())
    }

    /// Gives the line the extension `exten@context`: a free existing one is claimed (the old
    /// one released), else the line's current extension is changed in place (keeping its id),
    /// else a new one is created.
    fn move_extension(
        &self,
        exten: &str,
        context: &str,
        target: Option<i64>,
        current: Option<i64>,
        line_id: i64,
    ) -> Write<i64> {
        match (target, current) {
            (Some(t), Some(c)) if t == c => Ok(c),
            (Some(_), Some(c)) => {
                self.tx.set_extension_line(c, None)?;
                self.claim_extension(exten, context, target, Some(line_id))
            }
            (None, Some(c)) => {
                self.tx.rename_extension(c, exten, context)?;
                Ok(c)
            }
            (_, None) => self.claim_extension(exten, context, target, Some(line_id)),
        }
    }

    /// Replaces the user's incoming numbers by the row's list; numbers kept keep their ids.
    fn replace_incalls(
        &self,
        user_id: i64,
        stored: &[StoredIncall],
        p: &Parsed,
        plan: &checks::Plan,
        created: &mut Vec<&'static str>,
    ) -> Write<Vec<i64>> {
        let tx = &self.tx;
        let same =
            |c: &StoredIncall, n: &record::Incall| c.exten == n.exten && c.context == n.context;
        let mut removed: Vec<&StoredIncall> = stored
            .iter()
            .filter(|c| !p.incalls.iter().any(|n| same(c, n)))
            .collect();
        let mut ids = Vec::new();
        for (n, target) in p.incalls.iter().zip(&plan.incall_extens) {
            if let Some(c) = stored.iter().find(|c| same(c, n)) {
                if c.ring_seconds != n.ring_seconds {
                    tx.set_incall_ring(c.id, n.ring_seconds)?;
                }
                ids.push(c.id);
            } else if !removed.is_empty() {
                // Reuse a removed incall for a new number, in place.
                let c = removed.remove(0);
                let ext = match target {
                    Some(t) => {
                        tx.delete_unused_extension(c.extension_id, Some(c.id))?;
                        *t
                    }
                    None => {
                        tx.rename_extension(c.extension_id, &n.exten, &n.context)?;
                        c.extension_id
                    }
                };
                tx.update_incall(c.id, ext, n.ring_seconds)?;
                ids.push(c.id);
            } else {
                let ext = self.claim_extension(&n.exten, &n.context, *target, None)?;
                ids.push(tx.insert_incall(user_id, ext, n.ring_seconds)?);
                created.push("incall");
            }
        }
        for c in removed {
            tx.delete_incall(c.id)?;
            tx.delete_unused_extension(c.extension_id, None)?;
        }
        Ok(ids)
    }
}

/// Whether the row changes a column of `group` (`mask`: the columns it changes).
fn touched(mask: &[bool; crate::columns::N], group: Group) -> bool {
    group.columns().any(|c| mask[c.col as usize])
}

/// The merged cells: the current record with the row's cells laid over it. An empty cell
/// unsets a field that may be unset; emptying any other field that holds a value is an error.
fn merge<'a>(
    row: &'a Patch,
    cur: &'a StoredUser,
    hash: Option<&'a str>,
    errors: &mut Vec<RowError>,
) -> Vec<&'a str> {
    let mut merged: Vec<&str> = cur.cells.iter().collect();
    for c in COLUMNS {
        let i = c.col as usize;
        match row.cell(c.col) {
            Given::Absent => {}
            Given::Empty if cur.cells[i].is_empty() || c.is_unsettable() => merged[i] = "",
            Given::Empty => errors.push(RowError::new(
                c.col,
                "cannot_unset",
                format!(
                    "{} cannot be emptied by an update; give a new value or leave the column out",
                    c.name
                ),
            )),
            Given::Text(v) => merged[i] = v,
        }
    }
    merged[Col::Uuid as usize] = &cur.cells[Col::Uuid as usize];
    // A password replaces the hash; an emptied password (without a password_hash column)
    // removes it.
    let password = row.cell(Col::Password);
    let hash_given = row.cell(Col::PasswordHash);
    if let (Given::Text(_), Given::Text(_)) = (password, hash_given) {
        errors.push(RowError::new(
            Col::PasswordHash,
            "exclusive",
            "give either password or password_hash, not both",
        ));
    } else if let Some(h) = hash {
        merged[Col::PasswordHash as usize] = h;
    } else if password == Given::Empty && hash_given == Given::Absent {
        merged[Col::PasswordHash as usize] = "";
    }
    if let Given::Text(p) = password {
        if let Err(e) = record::check(Col::Password, p) {
            errors.push(e);
        }
    }
    merged[Col::Password as usize] = "";
    let proto = Col::LineProtocol as usize;
    if !cur.cells[proto].is_empty() && merged[proto] != &cur.cells[proto] {
        errors.push(RowError::new(
            Col::LineProtocol,
            "immutable",
            format!(
                "the user's line is {}; its protocol cannot be changed by an update",
                &cur.cells[proto]
            ),
        ));
        merged[proto] = &cur.cells[proto];
    }
    // New incoming numbers without ring times: the old times cannot be aligned with them.
    let count = |i: usize| {
        if merged[i].is_empty() {
            0
        } else {
            merged[i].split(';').count()
        }
    };
    // The user's incoming numbers, as its stored cell lists them.
    let stored_incalls = match &cur.cells[Col::IncallExten as usize] {
        "" => 0,
        list => list.split(';').count(),
    };
    if !row.has(Col::IncallRingSeconds) && count(Col::IncallExten as usize) != stored_incalls {
        merged[Col::IncallRingSeconds as usize] = "";
    }
    if stored_incalls > 1 {
        for col in [Col::IncallExten, Col::IncallContext, Col::IncallRingSeconds] {
            if row.text(col).is_some_and(|v| !v.contains(';')) {
                errors.push(RowError::new(
                    col,
                    "several",
                    format!(
                        "the user has {} incoming numbers: give incall_exten, incall_context (and incall_ring_seconds) as ;-lists that replace them all",
                        stored_incalls
                    ),
                ));
            }
        }
    }
    merged
}

/// A voicemail box named after its user ("firstname lastname") follows the user's new name
/// when the row changes the name and not the box's (as XiVO does): the box's new name, from
/// the row merged with the `stored` cells (both by registry index).
fn follow_name(stored: &crate::domain::port::Cells, merged: &[&str]) -> Option<String> {
    let (f, l, v) = (
        Col::Firstname as usize,
        Col::Lastname as usize,
        Col::VoicemailName as usize,
    );
    let full = |first: &str, last: &str| {
        if last.is_empty() {
            first.to_string()
        } else {
            format!("{first} {last}")
        }
    };
    let renamed = merged[f] != &stored[f] || merged[l] != &stored[l];
    let box_as_stored = merged[v] == &stored[v] && !merged[v].is_empty();
    (renamed && box_as_stored && merged[v] == full(&stored[f], &stored[l]))
        .then(|| full(merged[f], merged[l]))
}
