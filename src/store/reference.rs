//! Reference data: entities, contexts with their ranges, call permissions and CTI profiles.
//! Read from TOML, applied idempotently, shown back, and loaded into memory for the plan.

use super::sql::Cell;
use super::Store;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The embedded default reference data (schemas/reference.default.toml).
pub const DEFAULT_TOML: &str = include_str!("../../schemas/reference.default.toml");

/// Reference data as written in TOML.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReferenceFile {
    /// Entities (tenants).
    #[serde(default)]
    pub entity: Vec<EntityDef>,
    /// Contexts.
    #[serde(default)]
    pub context: Vec<ContextDef>,
    /// Call permissions.
    #[serde(default)]
    pub call_permission: Vec<PermissionDef>,
    /// CTI profiles.
    #[serde(default)]
    pub cti_profile: Vec<CtiProfileDef>,
}

/// An entity.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EntityDef {
    /// Its id, as rows give it in entity_id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The language its new users get when created without one (e.g. fr_FR).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_language: Option<String>,
    /// The time zone its new users get when created without one (e.g. Europe/Paris).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_timezone: Option<String>,
}

/// A context.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContextDef {
    /// Its name, unique.
    pub name: String,
    /// Its entity's id.
    pub entity: i64,
    /// internal, incall or outcall.
    #[serde(rename = "type")]
    pub kind: String,
    /// Number ranges `A-B`.
    #[serde(default)]
    pub ranges: Vec<String>,
}

/// A call permission.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PermissionDef {
    /// Its name, unique within the entity.
    pub name: String,
    /// Its entity's id.
    pub entity: i64,
}

/// A CTI profile.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CtiProfileDef {
    /// Its name, unique.
    pub name: String,
}

pub use crate::domain::reference::{Context, Range, Reference};

impl Reference {
    /// Loads the reference data from the database.
    pub fn load(store: &Store) -> Result<Reference> {
        let db = store.db();
        let mut r = Reference::default();
        for row in db.rows(
            "SELECT id, default_language, default_timezone FROM entities",
            &[],
        )? {
            let mut row = row.into_iter();
            let id = row.next().map_or(0, |c| c.int());
            let (language, timezone) = (
                row.next().and_then(Cell::opt_text),
                row.next().and_then(Cell::opt_text),
            );
            r.entities.insert(id);
            if language.is_some() || timezone.is_some() {
                r.entity_defaults.insert(id, (language, timezone));
            }
        }
        let rows = db.rows(
            "SELECT c.name, c.entity_id, c.type, r.start, r.\"end\" FROM contexts c LEFT JOIN context_ranges r ON r.context_id = c.id ORDER BY c.id, r.id",
            &[],
        )?;
        for row in rows {
            let mut row = row.into_iter();
            let mut next = || row.next().unwrap_or(Cell::Null);
            let (name, entity, kind, start, end) = (
                next().text(),
                next().int(),
                next().text(),
                next().opt_text(),
                next().opt_text(),
            );
            let ctx = r.contexts.entry(name).or_insert(Context {
                entity,
                kind,
                ranges: Vec::new(),
            });
            if let (Some(start), Some(end)) = (start, end) {
                ctx.ranges.push(Range::stored(start, end));
            }
        }
        for row in db.rows("SELECT id, entity_id, name FROM call_permissions", &[])? {
            let mut row = row.into_iter();
            let (id, entity, name) = (
                row.next().map_or(0, |c| c.int()),
                row.next().map_or(0, |c| c.int()),
                row.next().map(Cell::text).unwrap_or_default(),
            );
            r.permissions.insert((entity, name), id);
        }
        for row in db.rows("SELECT id, name FROM cti_profiles", &[])? {
            let mut row = row.into_iter();
            let id = row.next().map_or(0, |c| c.int());
            r.cti_profiles
                .insert(row.next().map(Cell::text).unwrap_or_default(), id);
        }
        Ok(r)
    }
}

impl ReferenceFile {
    /// The embedded default.
    pub fn embedded_default() -> ReferenceFile {
        // The embedded file is checked by a unit test; it always parses.
        toml::from_str(DEFAULT_TOML).unwrap_or_else(|e| unreachable!("embedded reference: {e}"))
    }

    /// Reads a TOML reference file.
    pub fn read(path: &str) -> Result<ReferenceFile> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Input {
            path: path.to_string(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| Error::Reference {
            path: path.to_string(),
            message: e.message().to_string(),
        })
    }

    /// Checks the file on its own (types, ranges, repeated names).
    fn check(&self) -> std::result::Result<(), String> {
        use crate::columns::Col;
        for e in &self.entity {
            for (col, value) in [
                (Col::Language, &e.default_language),
                (Col::Timezone, &e.default_timezone),
            ] {
                if let Some(v) = value {
                    crate::record::check(col, v).map_err(|err| {
                        format!("entity {} '{}': default_{}", e.id, e.name, err.message)
                    })?;
                }
            }
        }
        let mut names = HashSet::new();
        for c in &self.context {
            if !matches!(c.kind.as_str(), "internal" | "incall" | "outcall") {
                return Err(format!(
                    "context '{}': type must be internal, incall or outcall, not '{}'",
                    c.name, c.kind
                ));
            }
            if c.name.trim().is_empty() {
                return Err("a context has an empty name".into());
            }
            if !names.insert(&c.name) {
                return Err(format!("context '{}' is defined twice", c.name));
            }
            for r in &c.ranges {
                if Range::parse(r).is_none() {
                    return Err(format!(
                        "context '{}': range '{r}' is not A-B with digits and A ≤ B",
                        c.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// Adds or updates this reference data in the database, in one transaction; `origin`
    /// names the data in messages (its file).
    pub fn apply(&self, store: &mut Store, origin: &str) -> Result<()> {
        let path = origin.to_string();
        let refuse = |message: String| Error::Reference {
            path: path.clone(),
            message,
        };
        self.check().map_err(refuse)?;
        let db = store.db();
        db.batch("BEGIN")?;
        let applied = (|| -> Result<()> {
            for ent in &self.entity {
                db.exec(
                    "INSERT INTO entities (id, name, default_language, default_timezone) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name,
                         default_language = excluded.default_language, default_timezone = excluded.default_timezone",
                    &[
                        ent.id.into(),
                        ent.name.as_str().into(),
                        ent.default_language.as_deref().into(),
                        ent.default_timezone.as_deref().into(),
                    ],
                )
                .map_err(|err| refuse(format!("entity {} '{}': {}", ent.id, ent.name, plain(err))))?;
            }
            let entity_exists = |id: i64| -> Result<bool> {
                Ok(!db
                    .rows("SELECT 1 FROM entities WHERE id = ?1", &[id.into()])?
                    .is_empty())
            };
            for c in &self.context {
                if !entity_exists(c.entity)? {
                    return Err(refuse(format!(
                        "context '{}': entity {} does not exist",
                        c.name, c.entity
                    )));
                }
                let id = db
                    .rows(
                        "INSERT INTO contexts (name, entity_id, type) VALUES (?1, ?2, ?3)
                         ON CONFLICT(name) DO UPDATE SET entity_id = excluded.entity_id, type = excluded.type
                         RETURNING id",
                        &[c.name.as_str().into(), c.entity.into(), c.kind.as_str().into()],
                    )?
                    .first()
                    .map_or(0, |r| r[0].int());
                db.exec(
                    "DELETE FROM context_ranges WHERE context_id = ?1",
                    &[id.into()],
                )?;
                for r in &c.ranges {
                    let (a, b) = r.trim().split_once('-').unwrap_or_default();
                    db.exec(
                        "INSERT INTO context_ranges (context_id, start, \"end\") VALUES (?1, ?2, ?3)",
                        &[id.into(), a.into(), b.into()],
                    )?;
                }
            }
            for p in &self.call_permission {
                if !entity_exists(p.entity)? {
                    return Err(refuse(format!(
                        "call permission '{}': entity {} does not exist",
                        p.name, p.entity
                    )));
                }
                db.exec(
                    "INSERT INTO call_permissions (name, entity_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    &[p.name.as_str().into(), p.entity.into()],
                )?;
            }
            for p in &self.cti_profile {
                db.exec(
                    "INSERT INTO cti_profiles (name) VALUES (?1) ON CONFLICT DO NOTHING",
                    &[p.name.as_str().into()],
                )?;
            }
            Ok(())
        })();
        match applied {
            Ok(()) => db.batch("COMMIT"),
            Err(e) => {
                // The transaction is given up; the first error is the one to report.
                let _ = db.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// The entities alone, by id (a server asks for them on every request: the rest of the
    /// reference data is not read).
    pub fn entities_of(store: &Store) -> Result<Vec<EntityDef>> {
        let rows = store.db().rows(
            "SELECT id, name, default_language, default_timezone FROM entities ORDER BY id",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or(Cell::Null);
                EntityDef {
                    id: next().int(),
                    name: next().text(),
                    default_language: next().opt_text(),
                    default_timezone: next().opt_text(),
                }
            })
            .collect())
    }

    /// Reads the reference data back from the database.
    pub fn from_store(store: &Store) -> Result<ReferenceFile> {
        let db = store.db();
        let mut out = ReferenceFile {
            entity: Self::entities_of(store)?,
            ..ReferenceFile::default()
        };
        let rows = db.rows(
            "SELECT c.name, c.entity_id, c.type, (SELECT string_agg(r.start || '-' || r.\"end\", ';' ORDER BY r.id) FROM context_ranges r WHERE r.context_id = c.id) FROM contexts c ORDER BY c.id",
            &[],
        )?;
        for row in rows {
            let mut row = row.into_iter();
            let mut next = || row.next().unwrap_or(Cell::Null);
            out.context.push(ContextDef {
                name: next().text(),
                entity: next().int(),
                kind: next().text(),
                ranges: next()
                    .opt_text()
                    .map(|s| s.split(';').map(str::to_string).collect())
                    .unwrap_or_default(),
            });
        }
        for row in db.rows(
            "SELECT name, entity_id FROM call_permissions ORDER BY id",
            &[],
        )? {
            let mut row = row.into_iter();
            out.call_permission.push(PermissionDef {
                name: row.next().map(Cell::text).unwrap_or_default(),
                entity: row.next().map_or(0, |c| c.int()),
            });
        }
        for row in db.rows("SELECT name FROM cti_profiles ORDER BY id", &[])? {
            out.cti_profile.push(CtiProfileDef {
                name: row.into_iter().next().map(Cell::text).unwrap_or_default(),
            });
        }
        Ok(out)
    }
}

/// Why an entity cannot be added, changed or deleted.
#[derive(Debug)]
pub enum EntityProblem {
    /// Another entity has the name.
    NameTaken(String),
    /// The name cannot be used (empty, too long, digits only, control characters).
    BadName(String),
    /// A default that its column's rule refuses.
    BadDefault(String),
    /// No entity has the id.
    Unknown(i64),
    /// Users, contexts, call permissions or accounts still refer to the entity.
    InUse(i64),
    /// The database failed.
    Failed(Error),
}

impl From<Error> for EntityProblem {
    fn from(e: Error) -> Self {
        EntityProblem::Failed(e)
    }
}

/// Checks an entity's name and defaults.
fn check_entity(def: &EntityDef) -> std::result::Result<(), EntityProblem> {
    let name = &def.name;
    let n = name.chars().count();
    if name.trim() != name || n == 0 || n > 128 {
        return Err(EntityProblem::BadName(
            "an entity's name has 1 to 128 characters, without spaces around it".into(),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(EntityProblem::BadName(
            "an entity's name has no control characters".into(),
        ));
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EntityProblem::BadName(
            "an entity's name is not digits only (digits name an entity by its id)".into(),
        ));
    }
    let file = ReferenceFile {
        entity: vec![def.clone()],
        ..ReferenceFile::default()
    };
    file.check().map_err(EntityProblem::BadDefault)
}

impl Reference {
    /// Adds an entity (its id: one more than the highest); its id.
    pub fn add_entity(
        store: &Store,
        name: &str,
        default_language: Option<String>,
        default_timezone: Option<String>,
    ) -> std::result::Result<i64, EntityProblem> {
        let def = EntityDef {
            id: 0,
            name: name.to_string(),
            default_language,
            default_timezone,
        };
        check_entity(&def)?;
        let db = store.db();
        if !db
            .rows("SELECT id FROM entities WHERE name = ?1", &[name.into()])?
            .is_empty()
        {
            return Err(EntityProblem::NameTaken(name.to_string()));
        }
        let id = db
            .rows(
                "INSERT INTO entities (id, name, default_language, default_timezone)
                 VALUES ((SELECT coalesce(max(id), 0) + 1 FROM entities), ?1, ?2, ?3) RETURNING id",
                &[
                    name.into(),
                    def.default_language.as_deref().into(),
                    def.default_timezone.as_deref().into(),
                ],
            )
            .map_err(|e| match e {
                Error::Database { ref message, .. }
                    if message.contains("UNIQUE") || message.contains("duplicate key") =>
                {
                    EntityProblem::NameTaken(name.to_string())
                }
                e => EntityProblem::Failed(e),
            })?
            .first()
            .map_or(0, |r| r[0].int());
        Ok(id)
    }

    /// Replaces an entity's name and defaults.
    pub fn change_entity(store: &Store, def: &EntityDef) -> std::result::Result<(), EntityProblem> {
        check_entity(def)?;
        let db = store.db();
        if !db
            .rows(
                "SELECT id FROM entities WHERE name = ?1 AND id <> ?2",
                &[def.name.as_str().into(), def.id.into()],
            )?
            .is_empty()
        {
            return Err(EntityProblem::NameTaken(def.name.clone()));
        }
        let changed = db.exec(
            "UPDATE entities SET name = ?1, default_language = ?2, default_timezone = ?3 WHERE id = ?4",
            &[
                def.name.as_str().into(),
                def.default_language.as_deref().into(),
                def.default_timezone.as_deref().into(),
                def.id.into(),
            ],
        )?;
        if changed == 0 {
            return Err(EntityProblem::Unknown(def.id));
        }
        Ok(())
    }

    /// Deletes an entity that nothing refers to.
    pub fn delete_entity(store: &Store, id: i64) -> std::result::Result<(), EntityProblem> {
        let db = store.db();
        let used = db.rows(
            "SELECT (SELECT count(*) FROM users WHERE entity_id = ?1)
                  + (SELECT count(*) FROM contexts WHERE entity_id = ?1)
                  + (SELECT count(*) FROM call_permissions WHERE entity_id = ?1)
                  + (SELECT count(*) FROM account_tenants WHERE entity_id = ?1)",
            &[id.into()],
        )?;
        if used.first().is_some_and(|r| r[0].int() > 0) {
            return Err(EntityProblem::InUse(id));
        }
        if db.exec("DELETE FROM entities WHERE id = ?1", &[id.into()])? == 0 {
            return Err(EntityProblem::Unknown(id));
        }
        Ok(())
    }
}

/// A database error's message alone (for reference data messages that name their item).
fn plain(e: Error) -> String {
    match e {
        Error::Database { message, .. } => message,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses_and_checks() {
        let r = ReferenceFile::embedded_default();
        assert_eq!(r.entity.len(), 1);
        assert_eq!(r.cti_profile.len(), 3);
        assert_eq!(r.call_permission.len(), 4);
        assert_eq!(r.check(), Ok(()));
    }

    #[test]
    fn ranges_compare_as_numbers_with_the_start_digit_count() {
        let r = Range::parse("1000-1999").unwrap();
        assert!(r.contains("1000") && r.contains("1999") && r.contains("1500"));
        assert!(!r.contains("999") && !r.contains("2000") && !r.contains("01500"));
        let r = Range::parse("0100-0199").unwrap();
        assert!(r.contains("0150") && !r.contains("150"));
        let r = Range::parse("900-1100").unwrap();
        assert!(r.contains("950") && !r.contains("1000"), "digit count of A");
        assert!(Range::parse("2000-1000").is_none());
        assert!(Range::parse("abc-def").is_none());
    }
}
