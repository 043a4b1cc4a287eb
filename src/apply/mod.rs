//! Plan and apply: each parsed row is resolved against the reference data and the database
//! (which already holds the earlier rows of the file), then written, from one thread, inside
//! the command's transaction.
//!
//! A row is checked completely before anything of it is written, so a rejected row leaves no
//! partial records behind, and all its errors are reported together.

mod checks;
pub mod run;
pub mod update;

use crate::columns::Col;
use crate::error::{Result, RowError};
use crate::record::{self, Parsed, Value};
use crate::store::reference::Reference;
use rusqlite::types::Value as Sql;
use rusqlite::types::{Null, ToSqlOutput};
use rusqlite::{params, Statement, Transaction};
use serde::Serialize;
use std::cell::RefCell;

pub use checks::Unique;

/// What one imported row created: the ids the report lists.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Created {
    /// 1-based data row index.
    pub row_number: u64,
    /// Physical line of the record.
    pub line: u64,
    /// The new user's id.
    pub user_id: i64,
    /// The new user's UUID.
    pub user_uuid: String,
    /// The line's id.
    pub line_id: Option<i64>,
    /// The line's extension id.
    pub extension_id: Option<i64>,
    /// The voicemail box's id (new or shared).
    pub voicemail_id: Option<i64>,
    /// The incoming calls' ids.
    pub incall_ids: Vec<i64>,
    /// The call permissions' ids.
    pub call_permission_ids: Vec<i64>,
    /// Whether the voicemail box was created (not shared).
    #[serde(skip)]
    pub voicemail_created: bool,
    /// Whether the line's extension existed free and was claimed (not created).
    #[serde(skip)]
    pub extension_reused: bool,
}

/// The outcome of planning one row.
pub type RowOutcome = std::result::Result<(Created, Vec<RowError>), Vec<RowError>>;

/// Applies rows to the database inside one transaction.
pub struct Applier<'t> {
    tx: &'t Transaction<'t>,
    reference: &'t Reference,
    default_entity: Option<i64>,
    /// Unique values (lowercased where compared without case) of rejected rows, by their
    /// keyed 128-bit hash (memory stays small when a million rows are rejected): a later row
    /// repeating one is still "the second occurrence".
    rejected: checks::Seen,
    /// The statements of the fast path, prepared once for the whole run.
    hot: Hot<'t>,
    update_user: String,
    /// Whether checks query the database (the slow path) or leave it to the unique indexes.
    probe: bool,
    /// On update: the user being changed (its own values are not "taken").
    owner: Option<Owner>,
}

/// The user an update row changes.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    /// The user's id.
    pub user_id: i64,
    /// Its current voicemail box.
    pub voicemail_id: Option<i64>,
}

impl<'t> Applier<'t> {
    /// Prepares to apply rows; `entity` is `--entity`.
    pub fn new(
        tx: &'t Transaction<'t>,
        reference: &'t Reference,
        entity: Option<i64>,
    ) -> rusqlite::Result<Self> {
        let fields: Vec<&str> = record::user_fields().map(Col::name).collect();
        let insert_user = format!(
            "INSERT INTO users (uuid, entity_id, username, password_hash, cti_profile_enabled, cti_profile_id, {}) VALUES ({})",
            fields.join(", "),
            vec!["?"; fields.len() + 6].join(", ")
        );
        let prepare = |sql: &str| tx.prepare(sql).map(RefCell::new);
        let hot = Hot {
            user: prepare(&insert_user)?,
            line: prepare("INSERT INTO lines (user_id, protocol, context, sip_username, sip_secret, provisioning_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?,
            extension: prepare("INSERT INTO extensions (exten, context, line_id) VALUES (?1, ?2, ?3)")?,
            incall: prepare("INSERT INTO incalls (user_id, extension_id, ring_seconds) VALUES (?1, ?2, ?3)")?,
            voicemail: prepare("INSERT INTO voicemails (name, number, context, password, email, attach_audio, delete_messages, ask_password) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?,
            user_voicemail: prepare("INSERT INTO user_voicemails (user_id, voicemail_id) VALUES (?1, ?2)")?,
            permission: prepare("INSERT INTO user_call_permissions (user_id, call_permission_id) VALUES (?1, ?2)")?,
        };
        let update_user = format!(
            "UPDATE users SET entity_id = ?, username = ?, password_hash = ?, cti_profile_enabled = ?, cti_profile_id = ?, {} WHERE id = ?",
            fields.iter().map(|f| format!("{f} = ?")).collect::<Vec<_>>().join(", ")
        );
        Ok(Applier {
            tx,
            reference,
            default_entity: reference.default_entity(entity),
            rejected: checks::Seen::default(),
            hot,
            update_user,
            probe: true,
            owner: None,
        })
    }

    /// Runs an insert of the fast path; returns the new row's id.
    fn insert(
        &self,
        st: &RefCell<Statement<'t>>,
        params: impl rusqlite::Params,
    ) -> rusqlite::Result<i64> {
        st.borrow_mut().execute(params)?;
        Ok(self.tx.last_insert_rowid())
    }

    fn owner_id(&self) -> Option<i64> {
        self.owner.map(|o| o.user_id)
    }

    /// A database error, with the database's path.
    fn db(&self, e: rusqlite::Error) -> crate::error::Error {
        crate::error::Error::db(std::path::Path::new(self.tx.path().unwrap_or("")), e)
    }

    /// Remembers the unique values of a rejected row, read from its raw cells.
    pub fn remember_rejected(&mut self, header: &crate::read::Header, record: &csv::StringRecord) {
        for u in checks::unique_columns() {
            if let Some(v) = header.cell(record, u).value() {
                self.rejected.insert(u, v);
            }
        }
    }

    /// Checks one parsed row against the database and writes it if it passes.
    ///
    /// A row without errors of its own first takes the fast path: it is checked against the
    /// reference data (in memory) and written without probing the database; the unique
    /// indexes refuse a duplicate, an existing number or a shared voicemail box. Such a row
    /// is taken back and replanned on the slow path, which probes every rule and reports
    /// every error (or, for a free number or a shared box, reuses it).
    pub fn import(&mut self, p: &Parsed) -> Result<RowOutcome> {
        if p.errors.is_empty() {
            let mut errors = Vec::new();
            let mut warnings = p.warnings.clone();
            self.probe = false;
            let planned = checks::plan(self, p, &mut errors, &mut warnings);
            self.probe = true;
            let plan = planned?;
            if errors.is_empty() {
                let mut undo = Vec::new();
                match self.write(p, plan, &mut undo) {
                    Ok(created) => return Ok(Ok((created, warnings))),
                    Err(e) if is_constraint(&e) => self.undo(undo).map_err(|e| self.db(e))?,
                    Err(e) => return Err(self.db(e)),
                }
            }
        }
        let mut errors = p.errors.clone();
        let mut warnings = p.warnings.clone();
        let plan = checks::plan(self, p, &mut errors, &mut warnings)?;
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let created = self
            .write(p, plan, &mut Vec::new())
            .map_err(|e| self.db(e))?;
        Ok(Ok((created, warnings)))
    }

    /// Writes a planned row. Each insert is recorded in `undo` so that a row the database
    /// refuses half-way (a unique index, on the fast path) can be taken back exactly.
    fn write(
        &mut self,
        p: &Parsed,
        plan: checks::Plan,
        undo: &mut Undo,
    ) -> rusqlite::Result<Created> {
        let login = p.login.as_ref();
        let mut values: Vec<ToSqlOutput<'_>> = vec![
            ToSqlOutput::from(plan.uuid.as_str()),
            ToSqlOutput::from(plan.entity),
            opt_ref(login.map(|l| l.username.as_str())),
            opt_ref(login.and_then(|l| l.password_hash.as_deref())),
            ToSqlOutput::from(i64::from(p.cti.as_ref().is_some_and(|c| c.enabled))),
            plan.cti_profile
                .map_or(ToSqlOutput::from(Null), ToSqlOutput::from),
        ];
        for (col, v) in record::user_fields().zip(&p.user.fields) {
            values.push(sql_ref(col, v.as_ref()));
        }
        let user_id = self.insert(&self.hot.user, rusqlite::params_from_iter(values))?;
        undo.push(("DELETE FROM users WHERE id = ?1", user_id));
        let mut created = Created {
            row_number: p.row_number,
            line: p.line,
            user_id,
            user_uuid: plan.uuid.clone(),
            ..Created::default()
        };
        if let Some(line) = &p.phone {
            let line_id = self.insert_line(user_id, line, &plan)?;
            undo.push(("DELETE FROM lines WHERE id = ?1", line_id));
            created.line_id = Some(line_id);
            if let Some(exten) = &p.exten {
                let id =
                    self.claim_extension(exten, &line.context, plan.exten_id, Some(line_id))?;
                if plan.exten_id.is_none() {
                    undo.push(("DELETE FROM extensions WHERE id = ?1", id));
                }
                created.extension_id = Some(id);
                created.extension_reused = plan.exten_id.is_some();
            }
        }
        for (incall, existing) in p.incalls.iter().zip(&plan.incall_extens) {
            let ext = self.claim_extension(&incall.exten, &incall.context, *existing, None)?;
            if existing.is_none() {
                undo.push(("DELETE FROM extensions WHERE id = ?1", ext));
            }
            let id = self.insert(&self.hot.incall, params![user_id, ext, incall.ring_seconds])?;
            undo.push(("DELETE FROM incalls WHERE id = ?1", id));
            created.incall_ids.push(id);
        }
        if let Some(vm) = &p.voicemail {
            let (id, new) = self.attach_voicemail(user_id, vm, plan.voicemail)?;
            if new {
                undo.push(("DELETE FROM voicemails WHERE id = ?1", id));
            }
            undo.push(("DELETE FROM user_voicemails WHERE user_id = ?1", user_id));
            created.voicemail_created = new;
            created.voicemail_id = Some(id);
        }
        for id in &plan.permissions {
            self.insert(&self.hot.permission, params![user_id, id])?;
            created.call_permission_ids.push(*id);
        }
        if !plan.permissions.is_empty() {
            undo.push((
                "DELETE FROM user_call_permissions WHERE user_id = ?1",
                user_id,
            ));
        }
        Ok(created)
    }

    /// Takes back a half-written row, newest write first.
    fn undo(&self, undo: Undo) -> rusqlite::Result<()> {
        for (sql, id) in undo.into_iter().rev() {
            self.tx.prepare_cached(sql)?.execute([id])?;
        }
        Ok(())
    }

    /// Creates the user's line with the planned credentials.
    fn insert_line(
        &self,
        user_id: i64,
        line: &record::Line,
        plan: &checks::Plan,
    ) -> rusqlite::Result<i64> {
        self.insert(
            &self.hot.line,
            params![
                user_id,
                line.protocol.as_str(),
                line.context,
                plan.sip_username,
                line.sip_secret,
                plan.provisioning_code
            ],
        )
    }

    /// Associates the user with a shared box, or creates the box; returns (id, created).
    fn attach_voicemail(
        &self,
        user_id: i64,
        vm: &record::Voicemail,
        shared: Option<i64>,
    ) -> rusqlite::Result<(i64, bool)> {
        let (id, created) = match shared {
            Some(id) => (id, false),
            None => {
                let id = self.insert(
                    &self.hot.voicemail,
                    params![
                        vm.name,
                        vm.number,
                        vm.context,
                        vm.password,
                        vm.email,
                        vm.attach_audio,
                        vm.delete_messages,
                        vm.ask_password
                    ],
                )?;
                (id, true)
            }
        };
        self.insert(&self.hot.user_voicemail, params![user_id, id])?;
        Ok((id, created))
    }

    /// Points a free existing extension at the line (or leaves it for an incall), or creates it.
    fn claim_extension(
        &self,
        exten: &str,
        context: &str,
        existing: Option<i64>,
        line_id: Option<i64>,
    ) -> rusqlite::Result<i64> {
        match existing {
            Some(id) => {
                self.tx
                    .prepare_cached("UPDATE extensions SET line_id = ?2 WHERE id = ?1")?
                    .execute(params![id, line_id])?;
                Ok(id)
            }
            None => self.insert(&self.hot.extension, params![exten, context, line_id]),
        }
    }
}

/// Writes to take back: a `DELETE ... WHERE ... = ?1` and its key.
type Undo = Vec<(&'static str, i64)>;

/// Whether the database refused a write for a constraint (a duplicate, on the fast path).
fn is_constraint(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)
}

fn opt_ref(s: Option<&str>) -> ToSqlOutput<'_> {
    s.map_or(ToSqlOutput::from(Null), ToSqlOutput::from)
}

/// The statements of the fast path.
struct Hot<'t> {
    user: RefCell<Statement<'t>>,
    line: RefCell<Statement<'t>>,
    extension: RefCell<Statement<'t>>,
    incall: RefCell<Statement<'t>>,
    voicemail: RefCell<Statement<'t>>,
    user_voicemail: RefCell<Statement<'t>>,
    permission: RefCell<Statement<'t>>,
}

/// A checked cell as a borrowed SQL value; an empty cell takes the column's default.
fn sql_ref(col: Col, v: Option<&Value>) -> ToSqlOutput<'_> {
    match v {
        Some(Value::Text(s)) => ToSqlOutput::from(s.as_str()),
        Some(Value::Int(i)) => ToSqlOutput::from(*i),
        Some(Value::Bool(b)) => ToSqlOutput::from(i64::from(*b)),
        other => ToSqlOutput::Owned(sql_value(col, other)),
    }
}

/// A checked cell as an SQL value; an empty cell takes the column's default.
pub fn sql_value(col: Col, v: Option<&Value>) -> Sql {
    match v {
        Some(Value::Text(s)) => Sql::Text(s.clone()),
        Some(Value::Int(i)) => Sql::Integer(*i),
        Some(Value::Bool(b)) => Sql::Integer(i64::from(*b)),
        Some(Value::List(items)) => Sql::Text(items.join(";")),
        None => match col.def().rule {
            crate::columns::Rule::Bool { default: Some(b) } => Sql::Integer(i64::from(b)),
            crate::columns::Rule::Int {
                default: Some(d), ..
            } => Sql::Integer(d),
            _ => Sql::Null,
        },
    }
}
