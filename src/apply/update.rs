//! Update: a uuid-keyed plan. Each row is merged into the user's current record (as an export
//! shows it), the merged record is checked like an import row, and what changed is written in
//! place, keeping ids; resources the user lacks are created as on import.

use super::{checks, sql_value, Applier, Owner};
use crate::columns::{Col, Group, COLUMNS, N};
use crate::error::{Result, RowError};
use crate::read::{Cell, Header, RawRow};
use crate::record::{self, Parsed};
use crate::store::export;
use rusqlite::types::Value as Sql;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

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

/// One incoming number the user has.
#[derive(Clone, Debug)]
struct CurrentIncall {
    id: i64,
    extension_id: i64,
    exten: String,
    context: String,
    ring_seconds: Option<i64>,
}

/// A user as stored: its export cells and the ids of its resources.
struct Current {
    user_id: i64,
    cells: Vec<String>,
    line_id: Option<i64>,
    extension_id: Option<i64>,
    voicemail_id: Option<i64>,
    incalls: Vec<CurrentIncall>,
    permissions: Vec<i64>,
}

/// The header every merged record is read with: all columns, in registry order.
pub fn full_header() -> Header {
    let names = COLUMNS.iter().map(|c| c.name.to_string()).collect();
    // The registry has no duplicates, so resolving its own names cannot fail.
    Header::resolve("registry", names, true).unwrap_or_else(|e| unreachable!("{e}"))
}

/// The parallel part of an update row: the row's shape and its password's hash.
pub fn prepare(
    header: &Header,
    raw: &RawRow,
) -> std::result::Result<Option<String>, Vec<RowError>> {
    if raw.record.len() != header.width() {
        return Err(vec![record::field_count_error(
            raw.record.len(),
            header.width(),
        )]);
    }
    Ok(match header.cell(&raw.record, Col::Password) {
        Cell::Value(p) if record::check(Col::Password, p).is_ok() => Some(record::hash_password(p)),
        _ => None,
    })
}

impl Applier<'_> {
    fn current(&self, uuid: &str, entity: Option<i64>) -> Result<Option<Current>> {
        let cols: Vec<Col> = COLUMNS.iter().map(|c| c.col).collect();
        let sql = export::select(&cols, "u.uuid = ?1 AND (?2 IS NULL OR u.entity_id = ?2)");
        let row = self
            .tx
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.query_row(params![uuid, entity], |r| {
                    let mut cells = Vec::with_capacity(N);
                    for i in 0..N {
                        cells.push(export::text(r.get_ref(i + 1)?));
                    }
                    Ok((r.get::<_, i64>(0)?, cells))
                })
                .optional()
            })
            .map_err(|e| self.db(e))?;
        let Some((user_id, cells)) = row else {
            return Ok(None);
        };
        let (line_id, extension_id, voicemail_id) = self
            .tx
            .prepare_cached(
                "SELECT l.id, (SELECT e.id FROM extensions e WHERE e.line_id = l.id ORDER BY e.id LIMIT 1),
                        (SELECT voicemail_id FROM user_voicemails WHERE user_id = ?1)
                 FROM (SELECT ?1 AS uid) x LEFT JOIN lines l ON l.id = (SELECT min(id) FROM lines WHERE user_id = ?1)",
            )
            .and_then(|mut st| st.query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .map_err(|e| self.db(e))?;
        let incalls = self
            .tx
            .prepare_cached(concat!(
                "SELECT i.id, i.extension_id, e.exten, e.context, i.ring_seconds FROM incalls i
                     JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = ?1 ",
                crate::incall_order!()
            ))
            .and_then(|mut st| {
                st.query_map([user_id], |r| {
                    Ok(CurrentIncall {
                        id: r.get(0)?,
                        extension_id: r.get(1)?,
                        exten: r.get(2)?,
                        context: r.get(3)?,
                        ring_seconds: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.db(e))?;
        let permissions = self
            .tx
            .prepare_cached("SELECT call_permission_id FROM user_call_permissions WHERE user_id = ?1 ORDER BY 1")
            .and_then(|mut st| st.query_map([user_id], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>())
            .map_err(|e| self.db(e))?;
        Ok(Some(Current {
            user_id,
            cells,
            line_id,
            extension_id,
            voicemail_id,
            incalls,
            permissions,
        }))
    }

    /// Merges one row into its user's record, checks the result and writes what changed.
    pub fn update(
        &mut self,
        header: &Header,
        full: &Header,
        raw: &RawRow,
        hash: Option<String>,
        entity: Option<i64>,
    ) -> Result<UpdateOutcome> {
        let uuid = match header.cell(&raw.record, Col::Uuid) {
            Cell::Value(u) => match record::check(Col::Uuid, u) {
                Ok(v) => v.as_text().unwrap_or_default().to_string(),
                Err(e) => return Ok(Err(vec![e])),
            },
            _ => {
                return Ok(Err(vec![RowError::new(
                    Col::Uuid,
                    "required",
                    "uuid is required on update: it names the user to change",
                )]))
            }
        };
        let Some(cur) = self.current(&uuid, entity)? else {
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
        let merged = merge(header, &raw.record, &cur, hash.as_deref(), &mut errors);
        let merged_record = csv::StringRecord::from(merged.clone());
        let changed: Vec<&'static str> = COLUMNS
            .iter()
            .filter(|c| {
                c.col != Col::Password && merged[c.col as usize] != cur.cells[c.col as usize]
            })
            .map(|c| c.name)
            .chain(hash.as_ref().map(|_| Col::Password.name()))
            .collect();
        let parsed = record::parse_import(
            full,
            &RawRow {
                row_number: raw.row_number,
                line: raw.line,
                record: merged_record,
                errors: Vec::new(),
                warnings: Vec::new(),
                empty: false,
            },
        )
        .unwrap_or_else(|e| unreachable!("merged records have every field: {e:?}"));
        errors.extend(parsed.errors.iter().cloned());
        if changed.is_empty() && errors.is_empty() {
            return Ok(Ok((None, Vec::new())));
        }
        self.owner = Some(Owner {
            user_id: cur.user_id,
            voicemail_id: cur.voicemail_id,
        });
        // The row's own cells are the ones warned about: the merged record also holds the
        // stored values, warned about when they were written.
        let mut warnings: Vec<RowError> = COLUMNS
            .iter()
            .filter(|c| changed.contains(&c.name))
            .filter_map(|c| header.cell(&raw.record, c.col).value().map(|v| (c.col, v)))
            .filter_map(|(col, v)| record::bidi_warning(col, v))
            .collect();
        let planned = checks::plan(self, &parsed, &mut errors, &mut warnings);
        self.owner = None;
        let plan = planned?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let mut out = Updated {
            row_number: raw.row_number,
            line: raw.line,
            user_id: cur.user_id,
            user_uuid: uuid,
            changed,
            ..Updated::default()
        };
        self.write_update(&parsed, &plan, &cur, &mut out)?;
        Ok(Ok((Some(out), warnings)))
    }

    fn write_update(
        &mut self,
        p: &Parsed,
        plan: &checks::Plan,
        cur: &Current,
        out: &mut Updated,
    ) -> Result<()> {
        let names = out.changed.clone();
        let touched = |g: Group| {
            names
                .iter()
                .any(|c| crate::columns::lookup(c).is_some_and(|c| c.def().group == g))
        };
        let changed = |col: Col| names.contains(&col.name());
        let tx = self.tx;
        let db = |e: rusqlite::Error| self.db(e);
        if touched(Group::User) || touched(Group::Login) || touched(Group::Cti) {
            let mut values: Vec<Sql> = vec![
                Sql::Integer(plan.entity),
                p.login
                    .as_ref()
                    .map_or(Sql::Null, |l| Sql::Text(l.username.clone())),
                p.login
                    .as_ref()
                    .and_then(|l| l.password_hash.clone())
                    .map_or(Sql::Null, Sql::Text),
                Sql::Integer(i64::from(p.cti.as_ref().is_some_and(|c| c.enabled))),
                plan.cti_profile.map_or(Sql::Null, Sql::Integer),
            ];
            for (col, v) in record::user_fields().zip(&p.user.fields) {
                values.push(sql_value(col, v.as_ref()));
            }
            values.push(Sql::Integer(cur.user_id));
            tx.prepare_cached(&self.update_user)
                .and_then(|mut st| st.execute(rusqlite::params_from_iter(values)))
                .map_err(db)?;
        }
        out.line_id = cur.line_id;
        out.extension_id = cur.extension_id;
        if let Some(line) = &p.phone {
            match cur.line_id {
                Some(id) if touched(Group::Line) => {
                    tx.prepare_cached(
                        "UPDATE lines SET context = ?2, sip_username = ?3, sip_secret = ?4, provisioning_code = ?5 WHERE id = ?1",
                    )
                    .and_then(|mut st| {
                        st.execute(params![id, line.context, plan.sip_username, line.sip_secret, plan.provisioning_code])
                    })
                    .map_err(db)?;
                }
                Some(_) => {}
                None => {
                    out.line_id = Some(self.insert_line(cur.user_id, line, plan).map_err(db)?);
                    out.created.push("line");
                }
            }
            if let (Some(exten), Some(line_id)) = (&p.exten, out.line_id) {
                if changed(Col::Exten) || changed(Col::Context) || cur.extension_id.is_none() {
                    out.extension_id = Some(
                        self.move_extension(
                            exten,
                            &line.context,
                            plan.exten_id,
                            cur.extension_id,
                            line_id,
                        )
                        .map_err(db)?,
                    );
                    if plan.exten_id.is_some() && plan.exten_id != cur.extension_id {
                        out.extension_reused = true;
                    } else if cur.extension_id.is_none() {
                        out.created.push("extension");
                    }
                }
            }
        }
        out.incall_ids = cur.incalls.iter().map(|i| i.id).collect();
        if touched(Group::Incall) {
            out.incall_ids = self
                .replace_incalls(cur, p, plan, &mut out.created)
                .map_err(db)?;
        }
        out.voicemail_id = cur.voicemail_id;
        if let Some(vm) = p.voicemail.as_ref().filter(|_| touched(Group::Voicemail)) {
            match (cur.voicemail_id, plan.voicemail) {
                (Some(_), Some(shared)) => {
                    tx.prepare_cached(
                        "UPDATE user_voicemails SET voicemail_id = ?2 WHERE user_id = ?1",
                    )
                    .and_then(|mut st| st.execute(params![cur.user_id, shared]))
                    .map_err(db)?;
                    out.voicemail_id = Some(shared);
                }
                (Some(id), None) => {
                    tx.prepare_cached(
                        "UPDATE voicemails SET name = ?2, number = ?3, context = ?4, password = ?5, email = ?6, attach_audio = ?7, delete_messages = ?8, ask_password = ?9 WHERE id = ?1",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            id, vm.name, vm.number, vm.context, vm.password, vm.email, vm.attach_audio, vm.delete_messages, vm.ask_password
                        ])
                    })
                    .map_err(db)?;
                }
                (None, shared) => {
                    let (id, created) =
                        self.attach_voicemail(cur.user_id, vm, shared).map_err(db)?;
                    out.voicemail_id = Some(id);
                    if created {
                        out.created.push("voicemail");
                    }
                }
            }
        }
        out.call_permission_ids = cur.permissions.clone();
        if changed(Col::CallPermissions) {
            tx.prepare_cached("DELETE FROM user_call_permissions WHERE user_id = ?1")
                .and_then(|mut st| st.execute([cur.user_id]))
                .map_err(db)?;
            for id in &plan.permissions {
                tx.prepare_cached("INSERT INTO user_call_permissions (user_id, call_permission_id) VALUES (?1, ?2)")
                    .and_then(|mut st| st.execute(params![cur.user_id, id]))
                    .map_err(db)?;
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
    ) -> rusqlite::Result<i64> {
        match (target, current) {
            (Some(t), Some(c)) if t == c => Ok(c),
            (Some(_), Some(c)) => {
                self.tx
                    .prepare_cached("UPDATE extensions SET line_id = NULL WHERE id = ?1")?
                    .execute([c])?;
                self.claim_extension(exten, context, target, Some(line_id))
            }
            (None, Some(c)) => {
                self.tx
                    .prepare_cached("UPDATE extensions SET exten = ?2, context = ?3 WHERE id = ?1")?
                    .execute(params![c, exten, context])?;
                Ok(c)
            }
            (_, None) => self.claim_extension(exten, context, target, Some(line_id)),
        }
    }

    /// Replaces the user's incoming numbers by the row's list; numbers kept keep their ids.
    fn replace_incalls(
        &self,
        cur: &Current,
        p: &Parsed,
        plan: &checks::Plan,
        created: &mut Vec<&'static str>,
    ) -> rusqlite::Result<Vec<i64>> {
        let tx = self.tx;
        let same =
            |c: &CurrentIncall, n: &record::Incall| c.exten == n.exten && c.context == n.context;
        let mut removed: Vec<&CurrentIncall> = cur
            .incalls
            .iter()
            .filter(|c| !p.incalls.iter().any(|n| same(c, n)))
            .collect();
        let mut ids = Vec::new();
        for (n, target) in p.incalls.iter().zip(&plan.incall_extens) {
            if let Some(c) = cur.incalls.iter().find(|c| same(c, n)) {
                if c.ring_seconds != n.ring_seconds {
                    tx.prepare_cached("UPDATE incalls SET ring_seconds = ?2 WHERE id = ?1")?
                        .execute(params![c.id, n.ring_seconds])?;
                }
                ids.push(c.id);
            } else if !removed.is_empty() {
                // Reuse a removed incall for a new number, in place.
                let c = removed.remove(0);
                let ext = match target {
                    Some(t) => {
                        tx.prepare_cached("DELETE FROM extensions WHERE id = ?1 AND line_id IS NULL AND NOT EXISTS (SELECT 1 FROM incalls WHERE extension_id = ?1 AND id != ?2)")?
                            .execute(params![c.extension_id, c.id])
                            .map(|_| *t)
                    }
                    None => {
                        tx.prepare_cached("UPDATE extensions SET exten = ?2, context = ?3 WHERE id = ?1")?
                            .execute(params![c.extension_id, n.exten, n.context])?;
                        Ok(c.extension_id)
                    }
                };
                // The extension row must be repointed before the old one is dropped.
                let ext = ext?;
                tx.prepare_cached(
                    "UPDATE incalls SET extension_id = ?2, ring_seconds = ?3 WHERE id = ?1",
                )?
                .execute(params![c.id, ext, n.ring_seconds])?;
                ids.push(c.id);
            } else {
                let ext = self.claim_extension(&n.exten, &n.context, *target, None)?;
                tx.prepare_cached(
                    "INSERT INTO incalls (user_id, extension_id, ring_seconds) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![cur.user_id, ext, n.ring_seconds])?;
                ids.push(tx.last_insert_rowid());
                created.push("incall");
            }
        }
        for c in removed {
            tx.prepare_cached("DELETE FROM incalls WHERE id = ?1")?
                .execute([c.id])?;
            tx.prepare_cached("DELETE FROM extensions WHERE id = ?1 AND line_id IS NULL")?
                .execute([c.extension_id])?;
        }
        Ok(ids)
    }
}

/// The merged cells: the current record with the row's cells laid over it. An empty cell
/// unsets a field that may be unset; emptying any other field that holds a value is an error.
fn merge(
    header: &Header,
    record: &csv::StringRecord,
    cur: &Current,
    hash: Option<&str>,
    errors: &mut Vec<RowError>,
) -> Vec<String> {
    let mut merged = cur.cells.clone();
    for c in COLUMNS {
        let i = c.col as usize;
        match header.cell(record, c.col) {
            Cell::Absent => {}
            Cell::Empty if cur.cells[i].is_empty() || c.is_unsettable() => merged[i].clear(),
            Cell::Empty => errors.push(RowError::new(
                c.col,
                "cannot_unset",
                format!(
                    "{} cannot be emptied by an update; give a new value or leave the column out",
                    c.name
                ),
            )),
            Cell::Value(v) => merged[i] = v.to_string(),
        }
    }
    merged[Col::Uuid as usize] = cur.cells[Col::Uuid as usize].clone();
    // A password replaces the hash; an emptied password (without a password_hash column)
    // removes it.
    let password = header.cell(record, Col::Password);
    let hash_given = header.cell(record, Col::PasswordHash);
    if let (Cell::Value(_), Cell::Value(_)) = (password, hash_given) {
        errors.push(RowError::new(
            Col::PasswordHash,
            "exclusive",
            "give either password or password_hash, not both",
        ));
    } else if let Some(h) = hash {
        merged[Col::PasswordHash as usize] = h.to_string();
    } else if password == Cell::Empty && hash_given == Cell::Absent {
        merged[Col::PasswordHash as usize].clear();
    }
    if let Cell::Value(p) = password {
        if let Err(e) = record::check(Col::Password, p) {
            errors.push(e);
        }
    }
    merged[Col::Password as usize].clear();
    let proto = Col::LineProtocol as usize;
    if !cur.cells[proto].is_empty() && merged[proto] != cur.cells[proto] {
        errors.push(RowError::new(
            Col::LineProtocol,
            "immutable",
            format!(
                "the user's line is {}; its protocol cannot be changed by an update",
                cur.cells[proto]
            ),
        ));
        merged[proto] = cur.cells[proto].clone();
    }
    // New incoming numbers without ring times: the old times cannot be aligned with them.
    let count = |i: usize| {
        if merged[i].is_empty() {
            0
        } else {
            merged[i].split(';').count()
        }
    };
    if !header.has(Col::IncallRingSeconds) && count(Col::IncallExten as usize) != cur.incalls.len()
    {
        merged[Col::IncallRingSeconds as usize].clear();
    }
    if cur.incalls.len() > 1 {
        for col in [Col::IncallExten, Col::IncallContext, Col::IncallRingSeconds] {
            if header
                .cell(record, col)
                .value()
                .is_some_and(|v| !v.contains(';'))
            {
                errors.push(RowError::new(
                    col,
                    "several",
                    format!(
                        "the user has {} incoming numbers: give incall_exten, incall_context (and incall_ring_seconds) as ;-lists that replace them all",
                        cur.incalls.len()
                    ),
                ));
            }
        }
    }
    merged
}
