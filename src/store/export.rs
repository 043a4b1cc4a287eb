//! The export's stream of users: every user's exported text, a column at a time, in id
//! order (PostgreSQL's in [`super::postgres::each_user`]).

use super::select::{select, text};
use crate::columns::Col;
use rusqlite::types::ValueRef;

impl super::Store {
    /// Streams the users (of `entity`, if given) in id order: for each, the exported text of
    /// `cols`, one cell a column, handed to `each`. Memory stays constant whatever the number
    /// of users. Returns the number of users.
    pub fn each_user(
        &self,
        entity: Option<i64>,
        cols: &[Col],
        mut each: impl FnMut(&[Vec<u8>]) -> crate::error::Result<()>,
    ) -> crate::error::Result<u64> {
        let conn = match self.backend() {
            super::Backend::Sqlite(conn) => conn,
            super::Backend::Postgres(client, _) => {
                return super::postgres::each_user(client, &self.path, entity, cols, each)
            }
        };
        let sql = select(cols, "(?1 IS NULL OR u.entity_id = ?1)");
        let mut st = conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = st.query([entity]).map_err(|e| self.err(e))?;
        let mut cells: Vec<Vec<u8>> = vec![Vec::new(); cols.len()];
        let mut n = 0;
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            for (i, cell) in cells.iter_mut().enumerate() {
                cell.clear();
                match row.get_ref(i + 1).map_err(|e| self.err(e))? {
                    ValueRef::Text(t) => cell.extend_from_slice(t),
                    // Written in place: no string per number.
                    ValueRef::Integer(n) => {
                        let _ = std::io::Write::write_fmt(cell, format_args!("{n}"));
                    }
                    other => cell.extend_from_slice(text(other).as_bytes()),
                }
            }
            each(&cells)?;
            n += 1;
        }
        Ok(n)
    }
}
