//! `ucsv export`'s format: the users as CSV in the import format, over the store's stream of
//! users ([`crate::store::Store::each_user`]), with the spreadsheet guard of `--excel-safe`.

use crate::columns::Col;
use crate::error::{Error, Result};

/// What to export.
#[derive(Clone)]
pub struct ExportOptions {
    /// Only users of this entity.
    pub entity: Option<i64>,
    /// The columns, in order.
    pub columns: Vec<Col>,
    /// Where to show progress (users written).
    pub progress: crate::progress::Progress,
    /// Prefix cells that a spreadsheet would run as a formula with `'`.
    pub excel_safe: bool,
}

/// Whether a spreadsheet would take the cell for a formula (OWASP's CSV injection list):
/// it starts with `=`, `@`, TAB or CR, or with `+` or `-` not followed by a plain number
/// (`+33123456789` and `-5` are numbers and stay as they are).
pub fn formula_like(cell: &[u8]) -> bool {
    match cell.first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !plain_number(&cell[1..]),
        _ => false,
    }
}

/// Digits, optionally with one decimal point between digits.
fn plain_number(s: &[u8]) -> bool {
    let mut parts = s.splitn(2, |&b| b == b'.');
    let digits = |p: &[u8]| !p.is_empty() && p.iter().all(u8::is_ascii_digit);
    parts.next().is_some_and(digits) && parts.next().is_none_or(digits)
}

/// Streams the users as CSV records (header first) into `out`; returns the number of users.
/// Memory stays constant whatever the number of users.
pub fn write<W: std::io::Write>(
    store: &crate::store::Store,
    opts: &ExportOptions,
    out: &mut csv::Writer<W>,
) -> Result<u64> {
    let io = |e| Error::csv_output("export", e);
    out.write_record(opts.columns.iter().map(|c| c.name()))
        .map_err(io)?;
    let mut n = 0u64;
    let mut guarded = Vec::new();
    store.each_user(opts.entity, &opts.columns, |cells| {
        if opts.excel_safe && cells.iter().any(|c| formula_like(c)) {
            guarded.clear();
            guarded.extend(cells.iter().map(|c| {
                if formula_like(c) {
                    [b"'", c.as_slice()].concat()
                } else {
                    c.clone()
                }
            }));
            out.write_record(&guarded).map_err(io)?;
        } else {
            out.write_record(cells).map_err(io)?;
        }
        n += 1;
        if n % 4096 == 0 {
            opts.progress.set(n);
        }
        Ok(())
    })?;
    opts.progress.finish();
    out.flush().map_err(|e| io(e.into()))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::formula_like;

    #[test]
    fn formula_like_cells_are_those_a_spreadsheet_would_run() {
        for cell in [
            "=1+1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "+",
            "-1.",
            "+.5",
        ] {
            assert!(formula_like(cell.as_bytes()), "{cell:?}");
        }
        for cell in ["+33123456789", "-5", "-1.25", "Ann", "a=b", "", "1000"] {
            assert!(!formula_like(cell.as_bytes()), "{cell:?}");
        }
    }
}

/// Why a list of columns cannot be exported.
#[derive(Debug, PartialEq, Eq)]
pub enum ColumnsProblem {
    /// A secret column named while secrets are left out.
    SecretLeftOut(Col),
    /// A name that is not an exported column, with the closest one (never `password`).
    Unknown {
        name: String,
        closest: Option<&'static str>,
    },
}

/// The columns of an export: `names` in their order (every exported column when empty),
/// without the secret ones when `no_secrets`.
pub fn pick_columns(
    names: &[String],
    no_secrets: bool,
) -> std::result::Result<Vec<Col>, ColumnsProblem> {
    if names.is_empty() {
        return Ok(crate::columns::exported()
            .filter(|c| !(no_secrets && c.def().is_secret()))
            .collect());
    }
    names
        .iter()
        .map(
            |name| match crate::columns::lookup(name).filter(|c| c.def().is_exported()) {
                Some(c) if no_secrets && c.def().is_secret() => {
                    Err(ColumnsProblem::SecretLeftOut(c))
                }
                Some(c) => Ok(c),
                None => Err(ColumnsProblem::Unknown {
                    name: name.clone(),
                    closest: crate::columns::closest(name).filter(|c| *c != Col::Password.name()),
                }),
            },
        )
        .collect()
}
