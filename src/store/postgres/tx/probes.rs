//! The questions: whether a value is taken, an extension's state, a box's id, the stored
//! users with their incalls and permissions, the users of a range of extensions or of a
//! login, a page of users. A question first sends the rows of a bulk batch it must see.

use super::PgTx;
use crate::columns::Col;
use crate::domain::port::{
    ExtensionState, Filter, Page, StoredIncall, StoredUser, UserKey, UserView,
};
use crate::error::{Error, Result};
use crate::store::postgres::db::{pg_cells, pg_params};
use crate::store::sql::{Cell, Param};

impl PgTx<'_> {
    /// Runs a query after sending pending rows; returns its rows as cells.
    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>> {
        self.send_sooner()?;
        let st = self.statement(sql).map_err(|e| self.db(e))?;
        let params = pg_params(params);
        let rows = self
            .client
            .borrow_mut()
            .query(&st, &params)
            .map_err(|e| self.db(e))?;
        rows.iter()
            .map(pg_cells)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.db(e))
    }

    /// The first cell of the first row of a query.
    fn one(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Cell>> {
        Ok(self
            .rows(sql, params)?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next()))
    }

    pub(super) fn taken(&self, col: Col, value: &str, owner: Option<i64>) -> Result<bool> {
        let sql = crate::store::probe_of(&self.probes, col);
        Ok(self
            .one(sql, &[value.into(), owner.into()])?
            .is_some_and(|c| c.int() != 0))
    }

    pub(super) fn extension_state(
        &self,
        exten: &str,
        context: &str,
        owner: Option<i64>,
    ) -> Result<ExtensionState> {
        let rows = self.rows(
            "SELECT e.id,
                (e.line_id IS NOT NULL AND e.line_id NOT IN (SELECT id FROM lines WHERE user_id IS NOT DISTINCT FROM CAST($3 AS BIGINT)))
                OR EXISTS(SELECT 1 FROM incalls i WHERE i.extension_id = e.id AND i.user_id IS DISTINCT FROM CAST($3 AS BIGINT))
             FROM extensions e WHERE e.exten = $1 AND e.context = $2",
            &[exten.into(), context.into(), owner.into()],
        )?;
        Ok(match rows.first() {
            None => ExtensionState::Missing,
            Some(r) if r[1].int() != 0 => ExtensionState::Taken,
            Some(r) => ExtensionState::Free(r[0].int()),
        })
    }

    pub(super) fn voicemail_id(&self, number: &str, context: &str) -> Result<Option<i64>> {
        Ok(first_int(self.one(
            "SELECT id FROM voicemails WHERE number = $1 AND context = $2",
            &[number.into(), context.into()],
        )?))
    }

    pub(super) fn stored_user(
        &self,
        key: &UserKey,
        entity: Option<i64>,
    ) -> Result<Option<StoredUser>> {
        let n = crate::columns::N;
        let lowered;
        let (sql, key): (&str, Param<'_>) = match key {
            UserKey::Uuid(u) => {
                lowered = u.to_lowercase();
                (&self.user_by_uuid, Param::Text(&lowered))
            }
            UserKey::Id(id) => (&self.user_by_id, Param::Int(*id)),
        };
        let rows = self.rows(sql, &[key, entity.into()])?;
        Ok(rows.into_iter().next().map(|r| stored(r, n)))
    }

    /// One question for a batch's users: their uuids as a JSON array.
    pub(super) fn stored_users(
        &self,
        uuids: &[&str],
        entity: Option<i64>,
    ) -> Result<Vec<StoredUser>> {
        let keys: Vec<String> = uuids.iter().map(|u| u.to_lowercase()).collect();
        let keys = serde_json::to_string(&keys).map_err(|e| Error::db(&self.path, e))?;
        let rows = self.rows(&self.users_by_uuid, &[keys.as_str().into(), entity.into()])?;
        Ok(rows
            .into_iter()
            .map(|r| stored(r, crate::columns::N))
            .collect())
    }

    /// The users with an id from `first` to `last`.
    pub(super) fn stored_users_between(&self, first: i64, last: i64) -> Result<Vec<StoredUser>> {
        let rows = self.rows(&self.users_between, &[first.into(), last.into()])?;
        Ok(rows
            .into_iter()
            .map(|r| stored(r, crate::columns::N))
            .collect())
    }

    pub(super) fn users_by_extens(
        &self,
        context: &str,
        first: &str,
        last: &str,
    ) -> Result<Vec<i64>> {
        Ok(self
            .rows(
                crate::store::USERS_BY_EXTENS,
                &[context.into(), first.into(), last.into()],
            )?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    pub(super) fn users_by_login(&self, login: &str) -> Result<Vec<i64>> {
        Ok(self
            .rows(crate::store::USERS_BY_LOGIN_PG, &[login.into()])?
            .iter()
            .map(|r| r[0].int())
            .collect())
    }

    pub(super) fn stored_incalls(&self, user_id: i64) -> Result<Vec<StoredIncall>> {
        let rows = self.rows(
            concat!(
                "SELECT i.id, i.extension_id, e.exten, e.context, i.ring_seconds FROM incalls i
                     JOIN extensions e ON e.id = i.extension_id WHERE i.user_id = $1 ",
                crate::incall_order!()
            ),
            &[user_id.into()],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mut r = r.into_iter();
                let mut next = || r.next().unwrap_or(Cell::Null);
                StoredIncall {
                    id: next().int(),
                    extension_id: next().int(),
                    exten: next().text(),
                    context: next().text(),
                    ring_seconds: next().opt_int(),
                }
            })
            .collect())
    }

    pub(super) fn stored_permissions(&self, user_id: i64) -> Result<Vec<i64>> {
        let rows = self.rows(
            "SELECT call_permission_id FROM user_call_permissions WHERE user_id = $1 ORDER BY 1",
            &[user_id.into()],
        )?;
        Ok(rows.iter().map(|r| r[0].int()).collect())
    }

    pub(super) fn voicemail_users(&self, voicemail_id: i64) -> Result<u64> {
        Ok(self
            .one(
                "SELECT count(*) FROM user_voicemails WHERE voicemail_id = $1",
                &[voicemail_id.into()],
            )?
            .map_or(0, |c| c.int().unsigned_abs()))
    }

    pub(super) fn list_users(&self, filter: &Filter, page: Page) -> Result<(Vec<UserView>, u64)> {
        self.send_sooner()?;
        let db = crate::store::postgres::db::Postgres {
            client: self.client,
            path: &self.path,
        };
        crate::store::listing::list_users(
            &db,
            crate::store::select::Dialect::Postgres,
            filter,
            page,
        )
    }
}

fn first_int(cell: Option<Cell>) -> Option<i64> {
    cell.and_then(|c| c.opt_int())
}

/// A user read by the export query with its ids after the `n` cells.
fn stored(row: Vec<Cell>, n: usize) -> StoredUser {
    let mut cells = row.into_iter();
    let user_id = cells.next().map_or(0, |c| c.int());
    let mut texts = crate::domain::port::Cells::default();
    for c in cells.by_ref().take(n) {
        texts.push(&c.text());
    }
    let mut ids = cells.map(|c| c.opt_int());
    StoredUser {
        user_id,
        cells: texts,
        line_id: ids.next().flatten(),
        extension_id: ids.next().flatten(),
        voicemail_id: ids.next().flatten(),
        incalls: None,
        permissions: None,
    }
}
