//! Users as `ucsv user show` and `list` print them, one at a time as they stream from the
//! store: a table (a block of `column: value` lines per user, or one line per user when
//! short), JSON (typed values; a list is `{"items": [...], "total": N}`) or CSV (the export
//! format, so that it goes back through `ucsv update`).

use crate::columns::Col;
use crate::error::{Error, Result};
use std::io::Write;

/// Output formats of `ucsv user`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum UserFormat {
    Table,
    Json,
    Csv,
}

/// The columns of `--short`, the last two joined as `exten@context` in tables.
pub const SHORT: [Col; 7] = [
    Col::Uuid,
    Col::Firstname,
    Col::Lastname,
    Col::Exten,
    Col::Context,
    Col::LineProtocol,
    Col::Username,
];

/// Prints users to a writer.
pub struct UserPrinter<W: Write> {
    format: UserFormat,
    cols: Vec<Col>,
    short: bool,
    /// Wrap the JSON in `{"items": ...}` (a list) rather than an array (show).
    listing: bool,
    out: Out<W>,
    count: u64,
}

/// The output: plain, or owned by the CSV writer.
enum Out<W: Write> {
    Plain(W),
    Csv(Box<csv::Writer<W>>),
}

fn io(e: std::io::Error) -> Error {
    Error::Output {
        path: "<stdout>".into(),
        source: e,
    }
}

impl<W: Write> UserPrinter<W> {
    /// A printer of `cols` (every exported column, or [`SHORT`]).
    pub fn new(out: W, format: UserFormat, cols: Vec<Col>, listing: bool) -> Self {
        let short = cols.as_slice() == SHORT;
        let out = if format == UserFormat::Csv {
            Out::Csv(Box::new(csv::WriterBuilder::new().from_writer(out)))
        } else {
            Out::Plain(out)
        };
        UserPrinter {
            format,
            cols,
            short,
            listing,
            out,
            count: 0,
        }
    }

    /// Writes text (not in CSV format).
    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        match &mut self.out {
            Out::Plain(w) => w.write_all(bytes).map_err(io),
            Out::Csv(w) => {
                // Only the CSV writer writes in CSV format.
                w.write_record([bytes]).map_err(csv_err)
            }
        }
    }

    /// Writes a CSV record.
    fn record<I: AsRef<[u8]>>(&mut self, fields: impl IntoIterator<Item = I>) -> Result<()> {
        match &mut self.out {
            Out::Csv(w) => w.write_record(fields).map_err(csv_err),
            Out::Plain(_) => unreachable!("records are written in CSV format only"),
        }
    }

    /// The columns printed, in order.
    pub fn columns(&self) -> &[Col] {
        &self.cols
    }

    /// Starts the output.
    pub fn begin(&mut self) -> Result<()> {
        match self.format {
            UserFormat::Csv => {
                let names: Vec<&str> = self.cols.iter().map(|c| c.name()).collect();
                self.record(names)?;
            }
            UserFormat::Json => {
                let open: &[u8] = if self.listing { b"{\"items\": [" } else { b"[" };
                self.write(open)?;
            }
            UserFormat::Table if self.short => {
                let line = short_line(&[
                    "uuid",
                    "firstname",
                    "lastname",
                    "exten@context",
                    "protocol",
                    "username",
                ]);
                self.write(line.as_bytes())?;
            }
            UserFormat::Table if self.rows() => {
                let names: Vec<&str> = self.cols.iter().map(|c| c.name()).collect();
                let line = self.row_line(&names);
                self.write(line.as_bytes())?;
            }
            UserFormat::Table => {}
        }
        Ok(())
    }

    /// Prints one user: `cells` are the exported text of [`Self::columns`].
    pub fn user(&mut self, cells: &[impl AsRef<[u8]>]) -> Result<()> {
        self.user_at(None, cells)
    }

    /// Prints one user with its id first (JSON, as the server shows users).
    pub fn user_with_id(&mut self, id: i64, cells: &[impl AsRef<[u8]>]) -> Result<()> {
        self.user_at(Some(id), cells)
    }

    fn user_at(&mut self, id: Option<i64>, cells: &[impl AsRef<[u8]>]) -> Result<()> {
        let text = |i: usize| String::from_utf8_lossy(cells[i].as_ref()).into_owned();
        match self.format {
            UserFormat::Csv => {
                let record: Vec<&[u8]> = cells.iter().map(AsRef::as_ref).collect();
                self.record(record)?;
            }
            UserFormat::Json => {
                let mut object = String::from(if self.count > 0 { ",\n  " } else { "\n  " });
                object += &json_object(id, &self.cols, cells);
                self.write(object.as_bytes())?;
            }
            UserFormat::Table if self.short => {
                let at = match (text(3), text(4)) {
                    (e, _) if e.is_empty() => String::new(),
                    (e, c) => format!("{e}@{c}"),
                };
                let line = short_line(&[&text(0), &text(1), &text(2), &at, &text(5), &text(6)]);
                self.write(line.as_bytes())?;
            }
            UserFormat::Table if self.rows() => {
                let fields: Vec<String> = (0..self.cols.len()).map(text).collect();
                let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                let line = self.row_line(&fields);
                self.write(line.as_bytes())?;
            }
            UserFormat::Table => {
                let width = self.cols.iter().map(|c| c.name().len()).max().unwrap_or(0);
                let mut block = String::new();
                if self.count > 0 {
                    block.push('\n');
                }
                for (i, col) in self.cols.iter().enumerate() {
                    let value = text(i);
                    if !value.is_empty() {
                        block += &format!(
                            "{:<width$}  {}\n",
                            col.name(),
                            crate::escape::escape(&value)
                        );
                    }
                }
                self.write(block.as_bytes())?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Whether the table has a line per user (a few columns) rather than a block.
    fn rows(&self) -> bool {
        self.cols.len() <= SHORT.len()
    }

    /// A line of a few columns, aligned.
    fn row_line(&self, fields: &[&str]) -> String {
        let mut line = String::new();
        for (col, f) in self.cols.iter().zip(fields) {
            let width = match col {
                Col::Uuid => 36,
                c => c.name().len().max(10),
            };
            line += &format!("{:<width$} ", crate::escape::escape(f));
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
        line
    }

    /// Ends the output; `total` is a list's count of every match.
    pub fn end(mut self, total: Option<u64>) -> Result<()> {
        if self.format == UserFormat::Json {
            let close = match (self.listing, total) {
                (true, Some(n)) => format!("\n], \"total\": {n}}}\n"),
                _ => "\n]\n".to_string(),
            };
            self.write(close.as_bytes())?;
        }
        match &mut self.out {
            Out::Plain(w) => w.flush().map_err(io),
            Out::Csv(w) => w.flush().map_err(io),
        }
    }
}

fn csv_err(e: csv::Error) -> Error {
    Error::csv_output("<stdout>", e)
}

/// A short row, in aligned columns.
fn short_line(fields: &[&str]) -> String {
    let widths = [36, 16, 16, 22, 8, 0];
    let mut line = String::new();
    for (f, w) in fields.iter().zip(widths) {
        let shown = crate::escape::escape(f);
        line += &format!("{shown:<w$} ");
    }
    line.truncate(line.trim_end().len());
    line.push('\n');
    line
}

/// One user as a JSON object whose keys are `id` (if given) then `cols` in order (written
/// by hand to keep the registry's order), each cell typed.
pub fn json_object(id: Option<i64>, cols: &[Col], cells: &[impl AsRef<[u8]>]) -> String {
    let mut object = String::from("{");
    if let Some(id) = id {
        object += &format!("\"id\": {id}");
    }
    for (i, (col, cell)) in cols.iter().zip(cells).enumerate() {
        if i > 0 || id.is_some() {
            object.push_str(", ");
        }
        let value = typed(*col, &String::from_utf8_lossy(cell.as_ref()));
        object += &format!("\"{}\": {value}", col.name());
    }
    object.push('}');
    object
}

/// A cell as a typed JSON value: integers and booleans as such, empty as null.
fn typed(col: Col, text: &str) -> serde_json::Value {
    use serde_json::Value;
    if text.is_empty() {
        return Value::Null;
    }
    match col.def().rule.type_name() {
        "bool" => Value::Bool(text == "1"),
        "int" => text
            .parse::<i64>()
            .map_or_else(|_| Value::String(text.into()), Value::from),
        _ => Value::String(text.into()),
    }
}
