//! The users' listing: the search's condition and its use of the indexes (SQLite's
//! trigram tables, PostgreSQL's trigram indexes), a page of users in an order, and the
//! totals, remembered while the database stays as it was.

use super::select::{expr, select_in, text, Dialect};
use crate::columns::{Col, Storage};

/// The condition of a listing on `u`: the entity (`?1`, null for all) and the search text
/// (`?2`, a LIKE pattern, null for none) in firstname, lastname, email, username or the
/// line's extension, without ASCII case. PostgreSQL folds in the C collation, whatever the
/// database's locale, so that both backends find the same users.
///
/// With `index` (a search, of three characters or more on SQLite: see [`search_index`]),
/// the candidates are first taken from the search indexes, then each is checked with the
/// condition: the same answers as a scan. On SQLite, `?index` is the indexes' query, and
/// the users and extensions they have not indexed yet are candidates too
/// (schemas/sqlite/0004_search.sql); on PostgreSQL, each column's condition is its own
/// query, which its trigram index answers.
fn listed(dialect: Dialect, index: Option<u8>) -> String {
    let fold = |col: &str| match dialect {
        Dialect::Sqlite => format!("lower({col})"),
        Dialect::Postgres => format!("lower({col} COLLATE \"C\")"),
    };
    format!(
        "(CAST(?1 AS BIGINT) IS NULL OR u.entity_id = ?1) AND (CAST(?2 AS TEXT) IS NULL
    OR {} LIKE ?2 ESCAPE '\\' OR {} LIKE ?2 ESCAPE '\\'
    OR {} LIKE ?2 ESCAPE '\\' OR {} LIKE ?2 ESCAPE '\\'
    OR EXISTS (SELECT 1 FROM lines sl JOIN extensions se ON se.line_id = sl.id
               WHERE sl.user_id = u.id AND se.exten LIKE ?2 ESCAPE '\\'))",
        fold("u.firstname"),
        fold("u.lastname"),
        fold("u.email"),
        fold("u.username")
    ) + &index.map_or(String::new(), |n| match dialect {
        Dialect::Sqlite => format!(
            " AND u.id IN (
    SELECT rowid FROM user_search WHERE user_search MATCH ?{n}
    UNION ALL SELECT user_id FROM user_search_dirty
    UNION ALL SELECT id FROM users WHERE id > (SELECT users_upto FROM search_state)
    UNION ALL SELECT cl.user_id FROM extensions ce JOIN lines cl ON cl.id = ce.line_id
        WHERE ce.id IN (SELECT rowid FROM extension_search WHERE extension_search MATCH ?{n}
                        UNION ALL SELECT extension_id FROM extension_search_dirty)
    UNION ALL SELECT cl.user_id FROM extensions ce JOIN lines cl ON cl.id = ce.line_id
        WHERE ce.id > (SELECT extensions_upto FROM search_state))"
        ),
        // Each column's own condition, which its trigram index answers
        // (schemas/postgres/0004_search.sql); one OR over them all would scan.
        Dialect::Postgres => {
            let by = |col: &str| {
                format!(
                    "SELECT id FROM users WHERE {} LIKE ?2 ESCAPE '\\'",
                    fold(col)
                )
            };
            format!(
                " AND u.id IN ({} UNION {} UNION {} UNION {}
    UNION SELECT cl.user_id FROM extensions ce JOIN lines cl ON cl.id = ce.line_id
        WHERE ce.exten LIKE ?2 ESCAPE '\\')",
                by("firstname"),
                by("lastname"),
                by("email"),
                by("username")
            )
        }
    })
}

/// How a search goes through the indexes, when it can: searches shorter than a trigram
/// scan.
enum Index {
    /// SQLite's query of its trigram tables (schemas/sqlite/0004_search.sql): the search's
    /// trigrams, all required (at most eight, spread over the text). The tables hold
    /// trigrams without their order (`detail = none`), folded in case: a row they give may
    /// not hold the text, and the listing's condition checks each; a row that holds the
    /// text has every trigram, so none is missed.
    Fts(String),
    /// PostgreSQL's trigram indexes, which take the LIKE pattern itself.
    Trigram,
}

impl Index {
    fn of(dialect: Dialect, search: Option<&str>) -> Option<Index> {
        let chars: Vec<char> = search?.chars().collect();
        if chars.len() < 3 {
            return None;
        }
        if dialect == Dialect::Postgres {
            return Some(Index::Trigram);
        }
        let windows: Vec<String> = chars.windows(3).map(|w| w.iter().collect()).collect();
        let step = windows.len().div_ceil(8);
        let mut picked: Vec<&String> = windows.iter().step_by(step).collect();
        picked.push(&windows[windows.len() - 1]);
        picked.sort();
        picked.dedup();
        Some(Index::Fts(
            picked
                .iter()
                .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
                .collect::<Vec<_>>()
                .join(" AND "),
        ))
    }

    /// The query to bind as a parameter, if any.
    fn param(&self) -> Option<&str> {
        match self {
            Index::Fts(q) => Some(q),
            Index::Trigram => None,
        }
    }
}

/// The LIKE pattern finding `search` anywhere, without ASCII case: the database's
/// `lower()` folds ASCII letters only (SQLite always; PostgreSQL in the C locale), so the
/// text searched for is folded the same way, and a name is always found by its own
/// spelling (`Élodie` by `Élodie` and `ÉLODIE`; not by `élodie`).
fn pattern(search: Option<&str>) -> Option<String> {
    search.map(|s| {
        let escaped = s
            .to_ascii_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    })
}

/// The listing query over `cols` in a dialect: [`listed`], then the order (`order`'s
/// exported value, then id; nulls first going up, text byte-wise on both backends), then
/// `LIMIT ?3 OFFSET ?4`.
fn listing_sql(
    dialect: Dialect,
    cols: &[Col],
    order: crate::domain::port::Order,
    indexed: bool,
) -> String {
    let dir = if order.descending { "DESC" } else { "ASC" };
    let nulls = if order.descending {
        "NULLS LAST"
    } else {
        "NULLS FIRST"
    };
    let key = match order.col {
        Some(col) => {
            let numeric = matches!(
                col.def().rule,
                crate::columns::Rule::Int { .. } | crate::columns::Rule::Bool { .. }
            ) || matches!(col.def().storage, Storage::Nothing);
            let collate = if dialect == Dialect::Postgres && !numeric {
                " COLLATE \"C\""
            } else {
                ""
            };
            // The correlated form, which both dialects run: the order may name a column the
            // select list leaves out (PostgreSQL's lateral lists are joined only for those in it).
            format!(
                "({}){collate} {dir} {nulls}, u.id {dir}",
                expr(Dialect::Sqlite, col)
            )
        }
        None => format!("u.id {dir}"),
    };
    let select = select_in(dialect, cols, &[], &listed(dialect, indexed.then_some(5)));
    let unordered = select
        .strip_suffix(" ORDER BY u.id")
        .unwrap_or(&select)
        .to_string();
    format!("{unordered} ORDER BY {key} LIMIT ?3 OFFSET ?4")
}

/// How many users `filter` keeps.
fn count_listed(
    db: &dyn super::sql::Db,
    dialect: Dialect,
    filter: &crate::domain::port::Filter,
) -> crate::error::Result<u64> {
    let pattern = pattern(filter.search.as_deref());
    let index = Index::of(dialect, filter.search.as_deref());
    let sql = format!(
        "SELECT count(*) FROM users u WHERE {}",
        listed(dialect, index.as_ref().map(|_| 3))
    );
    let mut params = vec![filter.entity.into(), pattern.as_deref().into()];
    if let Some(q) = index.as_ref().and_then(Index::param) {
        params.push(q.into());
    }
    let rows = db.rows(&sql, &params)?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .map_or(0, |c| c.int().unsigned_abs()))
}

/// A page of the users `filter` keeps, in id order, with every registry column, and how
/// many it keeps in all (see [`crate::domain::port::Tx::list_users`]), in a backend's dialect.
pub(crate) fn list_users(
    db: &dyn super::sql::Db,
    dialect: Dialect,
    filter: &crate::domain::port::Filter,
    page: crate::domain::port::Page,
) -> crate::error::Result<(Vec<crate::domain::port::UserView>, u64)> {
    use super::sql::Param;
    let total = count_listed(db, dialect, filter)?;
    let pattern = pattern(filter.search.as_deref());
    let index = Index::of(dialect, filter.search.as_deref());
    let all: Vec<Col> = crate::columns::COLUMNS.iter().map(|c| c.col).collect();
    let sql = listing_sql(
        dialect,
        &all,
        crate::domain::port::Order::default(),
        index.is_some(),
    );
    let limit = page.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    // No limit: -1 for SQLite, null for PostgreSQL.
    let limit = match dialect {
        Dialect::Sqlite => Param::Int(limit.unwrap_or(-1)),
        Dialect::Postgres => limit.into(),
    };
    let offset = Param::Int(i64::try_from(page.offset).unwrap_or(i64::MAX));
    let mut params = vec![
        filter.entity.into(),
        pattern.as_deref().into(),
        limit,
        offset,
    ];
    if let Some(q) = index.as_ref().and_then(Index::param) {
        params.push(q.into());
    }
    let rows = db.rows(&sql, &params)?;
    let users = rows
        .into_iter()
        .map(|r| {
            let mut cells = r.into_iter();
            crate::domain::port::UserView {
                id: cells.next().map_or(0, |c| c.int()),
                cells: cells.map(super::sql::Cell::text).collect(),
            }
        })
        .collect();
    Ok((users, total))
}

/// Listing totals, with the state of the database they were counted in: a page of a long
/// listing costs its rows, not a count of every user it keeps again, as long as nothing
/// changed. Shared by the stores of a server.
#[derive(Default)]
pub struct Counts {
    /// The state the totals hold for (see [`super::Store::data_version`]).
    version: Option<String>,
    totals: std::collections::HashMap<(Option<i64>, Option<String>), u64>,
}

/// [`Counts`] that several stores share.
pub type SharedCounts = std::sync::Arc<std::sync::Mutex<Counts>>;

/// The most users a page of a search reads in id order rather than through the indexes
/// (see [`super::Store::scan_is_cheaper`]).
const SCAN_ROWS: u64 = 5_000;

/// How many totals are kept at most (all are forgotten past that).
const COUNTS_KEPT: usize = 256;

impl super::Store {
    /// How many users `filter` keeps. Remembered while the database stays as it was: the
    /// same filter again costs one query of the database's state, not a count.
    pub fn count_listed(&self, filter: &crate::domain::port::Filter) -> crate::error::Result<u64> {
        let dialect = match self.backend() {
            super::Backend::Sqlite(_) => Dialect::Sqlite,
            super::Backend::Postgres(..) => Dialect::Postgres,
        };
        // Read before the count: a change committed in between gives a total newer than
        // the state it is kept for, which the next call sees changed and forgets.
        let version = self.data_version()?;
        let key = (filter.entity, filter.search.clone());
        {
            let mut counts = self
                .counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if counts.version.as_deref() != Some(version.as_str()) {
                counts.totals.clear();
                counts.version = Some(version.clone());
            } else if let Some(&n) = counts.totals.get(&key) {
                return Ok(n);
            }
        }
        let n = count_listed(self.db().as_ref(), dialect, filter)?;
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Kept only if no other store has seen a newer state meanwhile.
        if counts.version.as_deref() == Some(version.as_str()) {
            if counts.totals.len() >= COUNTS_KEPT {
                counts.totals.clear();
            }
            counts.totals.insert(key, n);
        }
        Ok(n)
    }

    /// Whether a page of a search is found sooner by reading the users in id order and
    /// stopping at the page's end than through the search indexes, which give every
    /// candidate before the first row: when the search keeps so many users that the page's
    /// end is within [`SCAN_ROWS`] users (estimated from the totals, counted once and
    /// remembered). The caller asks only for the id order: another order sorts every user
    /// kept anyway.
    fn scan_is_cheaper(
        &self,
        filter: &crate::domain::port::Filter,
        page: crate::domain::port::Page,
    ) -> crate::error::Result<bool> {
        let Some(limit) = page.limit else {
            return Ok(false);
        };
        if filter.search.is_none() {
            return Ok(false);
        }
        let kept = self.count_listed(filter)?;
        if kept == 0 {
            return Ok(false);
        }
        let all = self.count_listed(&crate::domain::port::Filter {
            entity: filter.entity,
            search: None,
        })?;
        let end = page.offset.saturating_add(limit);
        Ok(end.saturating_mul(all) / kept <= SCAN_ROWS)
    }

    /// What changes whenever the users a listing counts change, the same for every
    /// connection to the database.
    ///
    /// SQLite: the generation that ucsv's writer moves at each commit, the last note of a
    /// user or extension that another program changed (triggers note its updates and
    /// deletes: schemas/sqlite/0004_search.sql and 0006), and the highest user and
    /// extension ids (inserts).
    /// PostgreSQL: the current snapshot (`xmin:xmax:in-progress`), which is the same only
    /// while the same transactions are committed.
    fn data_version(&self) -> crate::error::Result<String> {
        let sql = match self.backend() {
            super::Backend::Sqlite(_) => {
                "SELECT generation || ':'
                    || coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'user_search_dirty'), 0)
                    || ':' || coalesce((SELECT seq FROM sqlite_sequence
                                        WHERE name = 'extension_search_dirty'), 0)
                    || ':' || coalesce((SELECT max(id) FROM users), 0)
                    || ':' || coalesce((SELECT max(id) FROM extensions), 0)
                 FROM search_state"
            }
            super::Backend::Postgres(..) => "SELECT CAST(pg_current_snapshot() AS TEXT)",
        };
        let rows = self.db().rows(sql, &[])?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(|c| c.clone().text())
            .unwrap_or_default())
    }

    /// Streams the users `filter` keeps, in `order`, the `page` of them: for each, its id
    /// and the exported text of `cols`, handed to `each`. Memory stays constant whatever
    /// the number of users. Returns how many were handed.
    pub fn each_listed(
        &self,
        filter: &crate::domain::port::Filter,
        order: crate::domain::port::Order,
        page: crate::domain::port::Page,
        cols: &[Col],
        mut each: impl FnMut(i64, &[Vec<u8>]) -> crate::error::Result<()>,
    ) -> crate::error::Result<u64> {
        use super::sql::Param;
        let pattern = pattern(filter.search.as_deref());
        let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
        let limit = page.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
        let scan = order.col.is_none() && self.scan_is_cheaper(filter, page)?;
        match self.backend() {
            super::Backend::Sqlite(conn) => {
                let index = Index::of(Dialect::Sqlite, filter.search.as_deref()).filter(|_| !scan);
                let sql = listing_sql(Dialect::Sqlite, cols, order, index.is_some());
                let mut params = vec![
                    Param::from(filter.entity),
                    pattern.as_deref().into(),
                    Param::Int(limit.unwrap_or(-1)),
                    Param::Int(offset),
                ];
                if let Some(q) = index.as_ref().and_then(Index::param) {
                    params.push(q.into());
                }
                let mut st = conn.prepare(&sql).map_err(|e| self.err(e))?;
                let mut rows = st
                    .query(rusqlite::params_from_iter(params))
                    .map_err(|e| self.err(e))?;
                let mut cells: Vec<Vec<u8>> = vec![Vec::new(); cols.len()];
                let mut n = 0;
                while let Some(row) = rows.next().map_err(|e| self.err(e))? {
                    let id: i64 = row.get(0).map_err(|e| self.err(e))?;
                    for (i, cell) in cells.iter_mut().enumerate() {
                        cell.clear();
                        let v = row.get_ref(i + 1).map_err(|e| self.err(e))?;
                        cell.extend_from_slice(text(v).as_bytes());
                    }
                    each(id, &cells)?;
                    n += 1;
                }
                Ok(n)
            }
            super::Backend::Postgres(client, _) => {
                let index =
                    Index::of(Dialect::Postgres, filter.search.as_deref()).filter(|_| !scan);
                let sql = listing_sql(Dialect::Postgres, cols, order, index.is_some());
                let params = [
                    Param::from(filter.entity),
                    pattern.as_deref().into(),
                    limit.into(),
                    Param::Int(offset),
                ];
                super::postgres::each_row(
                    client,
                    &self.path,
                    &sql,
                    &params,
                    cols.len(),
                    |id, cells| each(id, cells),
                )
            }
        }
    }
}
