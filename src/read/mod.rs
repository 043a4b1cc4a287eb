//! Reading: bytes → decoded UTF-8 text → CSV records, in batches, with the header resolved
//! against the column registry.
//!
//! Decoding happens once, here, as a stream (see [`decode`]): a BOM selects UTF-8 or
//! UTF-16, `--encoding` names any other WHATWG encoding, and plain input is checked as UTF-8
//! record by record so that a bad byte is reported with its line. Row numbers and lines are
//! defined here and only here: `row_number` counts the rows after the header from 1, as a
//! spreadsheet shows them (a blank line and a row whose cells are all empty are rows too,
//! marked [`RawRow::empty`] for the pipeline to skip with a warning), and `line` is the
//! physical line where the record starts (the header is line 1).
//!
//! The CSV reader is lenient where leniency loses data, so the raw text of each record is
//! checked too: NUL bytes in the header (a binary file, or UTF-16 without a BOM) and broken
//! quoting in the header are fatal; broken quoting in a row is a row error (see [`quotes`]);
//! a BOM inside the file (two exports joined together) is removed with a warning.

mod decode;
mod header;
mod lines;
mod quotes;

pub use header::{Cell, Header};

use crate::error::{Error, Result, RowError};
use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

/// How to read an input file (the INPUT OPTIONS of the command line).
#[derive(Clone, Debug, Default)]
pub struct InputOptions {
    /// A WHATWG encoding label; `None`: UTF-8 or a BOM-announced UTF-16.
    pub encoding: Option<String>,
    /// The field delimiter; `None`: sniffed from the header.
    pub delimiter: Option<u8>,
    /// Unknown columns are errors rather than warnings.
    pub strict: bool,
}

/// One row as read: its position, its raw cells, and what reading found wrong.
#[derive(Clone, Debug)]
pub struct RawRow {
    /// 1-based index of the row after the header, empty rows included (as a spreadsheet
    /// numbers them, less one).
    pub row_number: u64,
    /// Physical line where the record starts (header = 1).
    pub line: u64,
    /// The cells, as written (less any BOM, see `warnings`).
    pub record: csv::StringRecord,
    /// Errors found while reading (broken quoting): the cells cannot be trusted, so the row
    /// is rejected with these alone.
    pub errors: Vec<RowError>,
    /// Warnings found while reading (a BOM removed), reported with the row's own.
    pub warnings: Vec<RowError>,
    /// A row without data (a blank line, or every cell empty): not applied, only reported
    /// by its `row.empty` warning.
    pub empty: bool,
}

/// An open CSV input with its resolved header.
pub struct Source {
    /// The input's name for messages (`<stdin>` for `-`).
    pub name: String,
    /// The header, resolved against the registry.
    pub header: Header,
    /// The delimiter in use.
    pub delimiter: u8,
    reader: csv::Reader<Box<dyn Read + Send>>,
    rows: u64,
    /// The physical line after the last row read: lines between it and the next record
    /// are blank lines, which the CSV reader skips but which count as (empty) rows.
    next_line: u64,
    /// Blank lines still to be returned as empty rows: (first line, how many).
    blank: (u64, u64),
    /// A row read but not yet returned (it follows the pending blank lines).
    held: Option<RawRow>,
    recent: Arc<Mutex<lines::Recent>>,
    /// Bytes read from the input so far (before decoding), for progress.
    pub bytes_read: Arc<AtomicU64>,
    /// The SHA-256 of the bytes read so far (before decoding), for the history.
    pub digest: Arc<Mutex<sha2::Sha256>>,
    /// The input's size, when known.
    pub size: Option<u64>,
    byte: csv::ByteRecord,
}

/// The delimiters sniffed from the header, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The most of the first line read for sniffing the delimiter (the CSV reader reads the
/// header in full; this only bounds the look-ahead on a file without line breaks).
const SNIFF_LIMIT: u64 = 1 << 20;

/// The byte-order mark, as it appears in decoded text.
const BOM: char = '\u{feff}';

impl Source {
    /// Opens `path` (`-` for standard input), decodes it and reads the header.
    pub fn open(path: &str, opts: &InputOptions) -> Result<Source> {
        let (raw, size): (Box<dyn Read + Send>, _) = if path == "-" {
            (Box::new(std::io::stdin()), None)
        } else {
            let file = std::fs::File::open(path).map_err(|source| Error::Input {
                path: path.to_string(),
                source,
            })?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        };
        let name = if path == "-" { "<stdin>" } else { path }.to_string();
        let mut source = Self::from_reader(name, raw, opts)?;
        source.size = size;
        Ok(source)
    }

    /// Rows made by a program (a command's `--set` cells, a request's JSON object) read as
    /// an input: `header` names the columns, strictly (an unknown name is fatal), and each
    /// row gives their cells.
    pub fn from_rows(
        name: String,
        header: &[&str],
        rows: impl IntoIterator<Item = Vec<String>>,
    ) -> Result<Source> {
        let io = |e| Error::csv_output("<memory>", e);
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(header).map_err(io)?;
        for row in rows {
            csv.write_record(&row).map_err(io)?;
        }
        let bytes = csv.into_inner().map_err(|e| io(e.into_error().into()))?;
        let opts = InputOptions {
            encoding: None,
            delimiter: Some(b','),
            strict: true,
        };
        Self::from_reader(name, Box::new(Cursor::new(bytes)), &opts)
    }

    /// Reads CSV from any byte stream.
    pub fn from_reader(
        name: String,
        raw: Box<dyn Read + Send>,
        opts: &InputOptions,
    ) -> Result<Source> {
        let bytes_read = Arc::new(AtomicU64::new(0));
        let digest = Arc::new(Mutex::new(<sha2::Sha256 as sha2::Digest>::new()));
        let counted = Box::new(crate::progress::Counting::new(
            raw,
            bytes_read.clone(),
            digest.clone(),
        ));
        let decoded = decode::open(&name, counted, opts.encoding.as_deref())?;
        let mut buffered = BufReader::with_capacity(1 << 16, decoded);
        let mut first = Vec::new();
        (&mut buffered)
            .take(SNIFF_LIMIT)
            .read_until(b'\n', &mut first)
            .map_err(|e| decode::io_error(&name, e))?;
        let labelled = opts.encoding.is_some();
        if first.contains(&0) {
            // Refused before the CSV reader would read a whole binary file as the header.
            let text = HeaderText {
                path: &name,
                offset: 0,
                labelled,
                delimiter: b',',
            };
            return Err(text.nul_error(1, &first));
        }
        let delimiter = opts.delimiter.unwrap_or_else(|| sniff(&first));
        let (tap, recent) = lines::Tap::new(Cursor::new(first).chain(buffered));
        let chained: Box<dyn Read + Send> = Box::new(tap);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(chained);
        let mut byte = csv::ByteRecord::new();
        let read = reader
            .read_byte_record(&mut byte)
            .map_err(|e| csv_error(&name, e))?;
        let mut next_line = 1;
        let fields = if read {
            let text = HeaderText {
                path: &name,
                offset: byte.position().map_or(0, csv::Position::byte),
                labelled,
                delimiter,
            };
            let line = inspect(&recent, &byte, &reader, |line, raw| {
                text.check(line, raw).map(|()| line)
            })?;
            next_line = line + newlines(&byte) + 1;
            csv::StringRecord::from_byte_record(byte.clone())
                .map_err(|_| Error::Encoding {
                    path: name.clone(),
                    line: 1,
                })?
                .iter()
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        let header = Header::resolve(&name, fields, opts.strict)?;
        Ok(Source {
            name,
            header,
            delimiter,
            reader,
            rows: 0,
            next_line,
            blank: (0, 0),
            held: None,
            recent,
            bytes_read,
            digest,
            size: None,
            byte,
        })
    }

    /// Reads up to `max` rows; an empty batch means the end of the input. Rows without
    /// data come as [`RawRow::empty`] rows, in their place.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<RawRow>> {
        let mut batch = Vec::with_capacity(max.min(4096));
        while batch.len() < max {
            let row = if self.blank.1 > 0 {
                let line = self.blank.0;
                self.blank = (line + 1, self.blank.1 - 1);
                empty_row(line, "the line is blank")
            } else if let Some(row) = self.held.take() {
                row
            } else {
                let more = self
                    .reader
                    .read_byte_record(&mut self.byte)
                    .map_err(|e| csv_error(&self.name, e))?;
                if !more {
                    // Blank lines after the last record, up to the end of the input.
                    let end = self.reader.position().line();
                    self.blank = (self.next_line, end.saturating_sub(self.next_line));
                    self.next_line = end.max(self.next_line);
                    if self.blank.1 == 0 {
                        break;
                    }
                    continue;
                }
                let row = self.record()?;
                self.blank = (self.next_line, row.line.saturating_sub(self.next_line));
                self.next_line = row.line + newlines(row.record.as_byte_record()) + 1;
                self.held = Some(row);
                continue;
            };
            self.rows += 1;
            batch.push(RawRow {
                row_number: self.rows,
                ..row
            });
        }
        Ok(batch)
    }

    /// The record just read, as a row (numbered when it is returned).
    fn record(&mut self) -> Result<RawRow> {
        let delimiter = self.delimiter;
        let (line, quoting) = inspect(&self.recent, &self.byte, &self.reader, |line, raw| {
            (line, quotes::check(raw, delimiter))
        });
        if self.byte.iter().all(<[u8]>::is_empty) {
            // E.g. a spreadsheet's trailing ",,,,".
            return Ok(empty_row(line, "every cell of the row is empty"));
        }
        // 0xEF starts the UTF-8 form of U+FEFF: a cheap test before looking at cells.
        let maybe_bom = self.byte.as_slice().contains(&0xEF);
        let mut record = csv::StringRecord::from_byte_record(std::mem::take(&mut self.byte))
            .map_err(|_| Error::Encoding {
                path: self.name.clone(),
                line,
            })?;
        let mut warnings = Vec::new();
        if maybe_bom && record.iter().any(|cell| cell.contains(BOM)) {
            record = self.remove_boms(&record, &mut warnings);
            if record.iter().all(str::is_empty) {
                return Ok(empty_row(
                    line,
                    "the row holds nothing but a byte-order mark",
                ));
            }
        }
        let errors = quoting.map_or_else(Vec::new, |q| self.quote_errors(&q, line));
        Ok(RawRow {
            row_number: 0,
            line,
            record,
            errors,
            warnings,
            empty: false,
        })
    }

    /// The record without its BOMs, with a warning for each cell that had one.
    fn remove_boms(
        &self,
        record: &csv::StringRecord,
        warnings: &mut Vec<RowError>,
    ) -> csv::StringRecord {
        record
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if !cell.contains(BOM) {
                    return cell.to_string();
                }
                let column = self.header.col_at(i).map(crate::columns::Col::name);
                warnings.push(RowError::with_code(
                    column,
                    "row.bom",
                    format!(
                        "a byte-order mark (U+FEFF) was removed from {}: were two files \
                         joined together here?",
                        self.cell_name(i)
                    ),
                ));
                cell.replace(BOM, "")
            })
            .collect()
    }

    /// How a message names a cell: the report already names a registry column, so only
    /// other fields (unknown columns, cells past the header) are named here.
    fn cell_name(&self, field: usize) -> String {
        match self.header.col_at(field) {
            Some(_) => "the cell".into(),
            None => format!("the cell of {}", self.header.describe(field)),
        }
    }

    /// The row errors of a record's broken quoting, whose first line is `line`.
    fn quote_errors(&self, q: &quotes::Quoting, line: u64) -> Vec<RowError> {
        let column = |i| self.header.col_at(i).map(crate::columns::Col::name);
        let mut errors: Vec<RowError> = q
            .stray
            .iter()
            .map(|&i| {
                RowError::with_code(
                    column(i),
                    "row.bad_quote",
                    format!(
                        "{} has a quote but is not quoted as a whole, so it would be read \
                         changed",
                        self.cell_name(i)
                    ),
                )
                .help(
                    "quote the whole cell and double each quote inside it: \
                     \"Ja\"\"ne\" for Ja\"ne",
                )
            })
            .collect();
        if let Some(u) = q.unterminated {
            let opened = line + u.opened;
            let last = line + u.last;
            let span = if last > opened {
                format!("lines {opened}-{last}, to the end of the file, were")
            } else {
                format!("line {opened}, to the end of the file, was")
            };
            errors.push(
                RowError::with_code(
                    column(u.field),
                    "row.unterminated_quote",
                    format!(
                        "the quote that opens {} on line {opened} is never closed: {span} \
                         read into this one cell",
                        self.cell_name(u.field)
                    ),
                )
                .help(format!(
                    "close the quote on line {opened}, or double it (\"\") if it is part of \
                     the text; no row after it was read"
                )),
            );
        }
        errors
    }
}

/// A row without data on `line`, with its `row.empty` warning saying `what` it is.
fn empty_row(line: u64, what: &str) -> RawRow {
    RawRow {
        row_number: 0,
        line,
        record: csv::StringRecord::new(),
        errors: Vec::new(),
        warnings: vec![RowError::with_code(
            None,
            "row.empty",
            format!("{what}: the row is skipped (it still counts in row numbers)"),
        )],
        empty: true,
    }
}

/// The line breaks inside a record (in its quoted cells): its lines after the first.
fn newlines(record: &csv::ByteRecord) -> u64 {
    record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64
}

/// Runs `f` on the record just read: its physical first line and its raw text.
fn inspect<T>(
    recent: &Mutex<lines::Recent>,
    record: &csv::ByteRecord,
    reader: &csv::Reader<Box<dyn Read + Send>>,
    f: impl FnOnce(u64, &[u8]) -> T,
) -> T {
    let (line, byte) = record.position().map_or((0, 0), |p| (p.line(), p.byte()));
    let end = reader.position().byte();
    match recent.lock() {
        Ok(mut r) => {
            let line = r.first_line(line, byte);
            f(line, r.text(end))
        }
        Err(_) => f(line, &[]),
    }
}

/// What the check of the header's raw text needs to know.
struct HeaderText<'a> {
    path: &'a str,
    /// The header's offset in the decoded stream (the parity of UTF-16 code units).
    offset: u64,
    /// `--encoding` was given.
    labelled: bool,
    delimiter: u8,
}

impl HeaderText<'_> {
    /// Refuses a header whose raw text holds NUL bytes (a binary file, or UTF-16 without a
    /// BOM) or broken quoting (the header would swallow or change column names).
    fn check(&self, line: u64, raw: &[u8]) -> Result<()> {
        if raw.contains(&0) {
            return Err(self.nul_error(line, raw));
        }
        let Some(q) = quotes::check(raw, self.delimiter) else {
            return Ok(());
        };
        let path = self.path.to_string();
        if let Some(u) = q.unterminated {
            let (opened, last) = (line + u.opened, line + u.last);
            return Err(Error::Csv {
                path,
                line: opened,
                message: format!(
                    "the quote that opens header field {} is never closed: lines \
                     {opened}-{last}, to the end of the file, were read as the header",
                    u.field + 1
                ),
                help: "close the quote (a column name needs no quotes)".into(),
            });
        }
        let field = q.stray.first().map_or(1, |i| i + 1);
        Err(Error::Csv {
            path,
            line,
            message: format!("header field {field} has a stray quote"),
            help: "a column name needs no quotes; a quoted one must be quoted as a whole, \
                   e.g. \"firstname\""
                .into(),
        })
    }

    /// The error of a header with NUL bytes, naming UTF-16 when the NULs say so.
    fn nul_error(&self, line: u64, raw: &[u8]) -> Error {
        // UTF-16 of mostly ASCII text has a NUL in every other byte: after the character
        // in little-endian (odd offsets), before it in big-endian (even offsets).
        let (mut even, mut odd) = (0usize, 0usize);
        for (i, _) in raw.iter().enumerate().filter(|(_, &b)| b == 0) {
            if (self.offset + i as u64) % 2 == 0 {
                even += 1;
            } else {
                odd += 1;
            }
        }
        let half = raw.len() / 2;
        let utf16 = |many: usize, few: usize| {
            !self.labelled && many > 0 && many * 4 >= half && few * 8 <= many
        };
        let (message, help) = if utf16(odd, even) || utf16(even, odd) {
            let label = if odd > even { "utf-16le" } else { "utf-16be" };
            (
                format!(
                    "the header holds NUL bytes: the file looks like {} without a \
                     byte-order mark",
                    label.to_uppercase()
                ),
                format!("give --encoding {label}"),
            )
        } else {
            (
                "the header holds NUL bytes: this is not CSV text".to_string(),
                "check that the file is a CSV export and not a spreadsheet (.xlsx, .ods) or \
                 another binary file; UTF-16 without a byte-order mark needs --encoding \
                 utf-16le or utf-16be"
                    .to_string(),
            )
        };
        Error::Decode {
            path: self.path.to_string(),
            line,
            message,
            help,
        }
    }
}

/// Picks the delimiter that occurs most in the header line, outside quotes.
fn sniff(header: &[u8]) -> u8 {
    let mut counts = [0usize; DELIMITERS.len()];
    let mut quoted = false;
    for &b in header {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(i) = DELIMITERS.iter().position(|&d| d == b) {
                counts[i] += 1;
            }
        }
    }
    let best = (0..DELIMITERS.len())
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        DELIMITERS[best]
    }
}

fn csv_error(name: &str, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(source) => decode::io_error(name, source),
        other => Error::Csv {
            path: name.to_string(),
            line,
            message: format!("{other:?}"),
            help: "check the quoting of this line".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_picks_the_most_frequent_delimiter_outside_quotes() {
        assert_eq!(sniff(b"a,b,c\n"), b',');
        assert_eq!(sniff(b"a;b;c\n"), b';');
        assert_eq!(sniff(b"\"a;b\",c\n"), b',');
        assert_eq!(sniff(b"a\tb\n"), b'\t');
        assert_eq!(sniff(b"a|b|c\n"), b'|');
        assert_eq!(sniff(b"firstname\n"), b',');
    }

    fn rows(text: &str) -> (Source, Vec<RawRow>) {
        let mut s = Source::from_reader(
            "t".into(),
            Box::new(Cursor::new(text.as_bytes().to_vec())),
            &InputOptions::default(),
        )
        .unwrap();
        let b = s.next_batch(100).unwrap();
        (s, b)
    }

    /// `(row_number, line)` of some rows.
    type Positions = Vec<(u64, u64)>;

    /// `(row_number, line)` of the data rows and of the empty rows of a batch.
    fn positions(b: &[RawRow]) -> (Positions, Positions) {
        let of = |empty: bool| {
            b.iter()
                .filter(|r| r.empty == empty)
                .map(|r| (r.row_number, r.line))
                .collect()
        };
        (of(false), of(true))
    }

    #[test]
    fn blank_rows_are_skipped_and_lines_are_physical() {
        let (_, b) = rows("firstname,lastname\nA,B\n\n,\n\"C\nD\",E\nF,G\n");
        let (data, empty) = positions(&b);
        assert_eq!(data, vec![(1, 2), (4, 5), (5, 7)]);
        assert_eq!(
            empty,
            vec![(2, 3), (3, 4)],
            "a blank line and ',' count as rows"
        );
    }

    #[test]
    fn lines_are_physical_with_crlf_and_blank_lines() {
        let (_, b) = rows("firstname,lastname\r\nA,B\r\n\r\nC,\"D\r\nE\"\r\nF,G");
        let (data, empty) = positions(&b);
        assert_eq!(data, vec![(1, 2), (3, 4), (4, 6)]);
        assert_eq!(empty, vec![(2, 3)]);
        let (_, b) = rows("firstname,lastname\n\n\nA,B\n\"C\nx\",D\n\nE,F\n");
        let got: Vec<_> = b.iter().filter(|r| !r.empty).map(|r| r.line).collect();
        assert_eq!(got, vec![4, 5, 8]);
    }

    #[test]
    fn empty_rows_carry_a_warning_and_no_cells() {
        let (_, b) = rows("firstname,lastname\nA,B\n,\n\n\u{feff},\nC,D\n");
        let (_, empty) = positions(&b);
        assert_eq!(empty, vec![(2, 3), (3, 4), (4, 5)]);
        for r in b.iter().filter(|r| r.empty) {
            let codes: Vec<_> = r
                .warnings
                .iter()
                .map(|w| (w.column, w.code.as_str()))
                .collect();
            assert_eq!(codes, vec![(None, "row.empty")], "row {}", r.row_number);
            assert!(r.record.is_empty() && r.errors.is_empty());
        }
    }

    #[test]
    fn blank_lines_at_the_end_are_empty_rows_and_a_final_line_break_is_not() {
        for (text, empty) in [
            ("firstname\nA\n", vec![]),
            ("firstname\nA", vec![]),
            ("firstname\r\nA\r\n", vec![]),
            ("firstname\nA\n\n", vec![(2, 3)]),
            ("firstname\r\nA\r\n\r\n\r\n", vec![(2, 3), (3, 4)]),
            ("firstname\n\n", vec![(1, 2)]),
            ("firstname\nA\n,\n\n", vec![(2, 3), (3, 4)]),
        ] {
            let (_, b) = rows(text);
            assert_eq!(positions(&b).1, empty, "{text:?}");
        }
    }

    #[test]
    fn batches_split_runs_of_blank_lines_and_keep_numbering() {
        let text = format!("firstname\nA\n{}B\n", "\n".repeat(5));
        let mut s = Source::from_reader(
            "t".into(),
            Box::new(Cursor::new(text.into_bytes())),
            &InputOptions::default(),
        )
        .unwrap();
        let mut all = Vec::new();
        loop {
            let b = s.next_batch(2).unwrap();
            if b.is_empty() {
                break;
            }
            assert!(b.len() <= 2);
            all.extend(b.into_iter().map(|r| (r.row_number, r.line, r.empty)));
        }
        let expected: Vec<_> = (1..=7).map(|n| (n, n + 1, !matches!(n, 1 | 7))).collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn bom_is_stripped_from_the_first_header() {
        let (s, _) = rows("\u{feff}firstname\nA\n");
        assert!(s.header.has(crate::columns::Col::Firstname));
    }
}
