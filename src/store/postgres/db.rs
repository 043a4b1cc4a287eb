//! The PostgreSQL connection as a [`Db`]: [`Param`] and [`Cell`] as the client's types,
//! and the shared statements' `?N` placeholders as PostgreSQL's `$N`.

use super::super::sql::{Cell, Db, Param};
use crate::error::Result;
use postgres::types::{FromSql, IsNull, ToSql, Type};
use std::borrow::Cow;
use std::path::Path;

/// A PostgreSQL connection as a [`Db`].
pub struct Postgres<'a> {
    pub client: &'a super::Conn,
    pub path: &'a Path,
}

/// Turns SQLite's `?N` placeholders into PostgreSQL's `$N` (outside quoted text).
pub fn placeholders(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '?') => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    Cow::Owned(out)
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                _ => i.to_string().as_str().to_sql(&Type::TEXT, out),
            },
            Param::Text(s) => s.to_sql(&Type::TEXT, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Cell {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(match *ty {
            Type::INT8 => Cell::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Cell::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Cell::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Cell::Int(bool::from_sql(ty, raw)?.into()),
            _ => Cell::Text(String::from_utf8_lossy(raw).into_owned()),
        })
    }

    fn from_sql_null(
        _: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Cell::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The parameters as the PostgreSQL client takes them.
pub fn pg_params<'p>(params: &'p [Param<'_>]) -> Vec<&'p (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A PostgreSQL row as cells.
pub fn pg_cells(row: &postgres::Row) -> std::result::Result<Vec<Cell>, postgres::Error> {
    (0..row.len()).map(|i| row.try_get::<_, Cell>(i)).collect()
}

impl Db for Postgres<'_> {
    fn exec(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        self.client
            .borrow_mut()
            .execute(placeholders(sql).as_ref(), &pg_params(params))
            .map_err(|e| super::error(self.path, e))
    }

    fn rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Vec<Cell>>> {
        let rows = self
            .client
            .borrow_mut()
            .query(placeholders(sql).as_ref(), &pg_params(params))
            .map_err(|e| super::error(self.path, e))?;
        rows.iter()
            .map(pg_cells)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| super::error(self.path, e))
    }

    fn batch(&self, sql: &str) -> Result<()> {
        self.client
            .borrow_mut()
            .batch_execute(sql)
            .map_err(|e| super::error(self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            placeholders("SELECT '?1', \"a?\" FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1', \"a?\" FROM t WHERE a = $1 AND b = $12"
        );
        assert_eq!(placeholders("SELECT 1"), "SELECT 1");
    }
}
