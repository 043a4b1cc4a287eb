//! Reading: bytes → decoded UTF-8 text → CSV records, in batches, with the header resolved
//! against the column registry.
//!
//! Decoding happens once, here, as a stream: a BOM selects UTF-8 or UTF-16, `--encoding`
//! names any other WHATWG encoding, and plain input is checked as UTF-8 record by record so
//! that a bad byte is reported with its line. Row numbers and lines are defined here and only
//! here: `row_number` counts data rows from 1 (blank rows skipped), `line` is the physical line
//! where the record starts (the header is line 1).

mod header;
mod lines;

pub use header::{Cell, Header};

use crate::error::{Error, Result};
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

/// One data row as read: its position and its raw cells.
#[derive(Clone, Debug)]
pub struct RawRow {
    /// 1-based index of the data row (header and blank rows not counted).
    pub row_number: u64,
    /// Physical line where the record starts (header = 1).
    pub line: u64,
    /// The cells, as written.
    pub record: csv::StringRecord,
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
    recent: Arc<Mutex<lines::Recent>>,
    /// Bytes read from the input so far (before decoding), for progress.
    pub bytes_read: Arc<AtomicU64>,
    /// The input's size, when known.
    pub size: Option<u64>,
    byte: csv::ByteRecord,
}

/// The delimiters sniffed from the header, in order of preference on a tie.
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

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

    /// Reads CSV from any byte stream.
    pub fn from_reader(
        name: String,
        raw: Box<dyn Read + Send>,
        opts: &InputOptions,
    ) -> Result<Source> {
        let bytes_read = Arc::new(AtomicU64::new(0));
        let counted = Box::new(crate::progress::Counting::new(raw, bytes_read.clone()));
        let decoded = decoder(counted, opts.encoding.as_deref())?;
        let mut buffered = BufReader::with_capacity(1 << 16, decoded);
        let mut first = Vec::new();
        buffered
            .read_until(b'\n', &mut first)
            .map_err(|source| Error::Input {
                path: name.clone(),
                source,
            })?;
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
        let fields = if read {
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
            recent,
            bytes_read,
            size: None,
            byte,
        })
    }

    /// The physical line where the record just read starts.
    fn line_of_record(&self) -> u64 {
        let (line, byte) = self
            .byte
            .position()
            .map_or((0, 0), |p| (p.line(), p.byte()));
        match self.recent.lock() {
            Ok(mut r) => r.first_line(line, byte),
            Err(_) => line,
        }
    }

    /// Reads up to `max` rows; an empty batch means the end of the input.
    pub fn next_batch(&mut self, max: usize) -> Result<Vec<RawRow>> {
        let mut batch = Vec::with_capacity(max.min(4096));
        while batch.len() < max {
            let more = self
                .reader
                .read_byte_record(&mut self.byte)
                .map_err(|e| csv_error(&self.name, e))?;
            if !more {
                break;
            }
            if self.byte.iter().all(<[u8]>::is_empty) {
                continue; // a blank row, e.g. a spreadsheet's trailing ",,,,"
            }
            let line = self.line_of_record();
            let record = csv::StringRecord::from_byte_record(std::mem::take(&mut self.byte))
                .map_err(|_| Error::Encoding {
                    path: self.name.clone(),
                    line,
                })?;
            self.rows += 1;
            batch.push(RawRow {
                row_number: self.rows,
                line,
                record,
            });
        }
        Ok(batch)
    }
}

/// Wraps the byte stream in a decoder that yields UTF-8.
fn decoder(raw: Box<dyn Read + Send>, label: Option<&str>) -> Result<Box<dyn Read + Send>> {
    let mut builder = encoding_rs_io::DecodeReaderBytesBuilder::new();
    builder.bom_override(true).strip_bom(true);
    match label {
        Some(label) => {
            let enc = encoding_rs::Encoding::for_label(label.trim().as_bytes())
                .ok_or_else(|| Error::UnknownEncoding(label.to_string()))?;
            builder.encoding(Some(enc));
        }
        // Without a label, text that is not announced by a BOM passes through untouched and
        // is checked as UTF-8 record by record, so the error can name the line.
        None => {
            builder.utf8_passthru(true);
        }
    }
    Ok(Box::new(builder.build(raw)))
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
        csv::ErrorKind::Io(source) => Error::Input {
            path: name.to_string(),
            source,
        },
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

    #[test]
    fn blank_rows_are_skipped_and_lines_are_physical() {
        let (_, b) = rows("firstname,lastname\nA,B\n\n,\n\"C\nD\",E\nF,G\n");
        let got: Vec<_> = b.iter().map(|r| (r.row_number, r.line)).collect();
        assert_eq!(got, vec![(1, 2), (2, 5), (3, 7)]);
    }

    #[test]
    fn lines_are_physical_with_crlf_and_blank_lines() {
        let (_, b) = rows("firstname,lastname\r\nA,B\r\n\r\nC,\"D\r\nE\"\r\nF,G");
        let got: Vec<_> = b.iter().map(|r| (r.row_number, r.line)).collect();
        assert_eq!(got, vec![(1, 2), (2, 4), (3, 6)]);
        let (_, b) = rows("firstname,lastname\n\n\nA,B\n\"C\nx\",D\n\nE,F\n");
        let got: Vec<_> = b.iter().map(|r| r.line).collect();
        assert_eq!(got, vec![4, 5, 8]);
    }

    #[test]
    fn bom_is_stripped_from_the_first_header() {
        let (s, _) = rows("\u{feff}firstname\nA\n");
        assert!(s.header.has(crate::columns::Col::Firstname));
    }
}
