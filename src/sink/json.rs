//! The JSON report of SPEC §5, streamed: memory stays bounded whatever the number of rows.
//!
//! The object's leading keys (`committed`, `rows`, `summary`) are known only at the end, yet
//! come before the lists. So each list (`created`, `updated`, `errors`, `warnings`) is
//! spooled as rows come: every entry is serialized at once, as the pretty-printed fragment it
//! will be in the report, and appended to the list's own anonymous temporary file (created
//! owner-only in the system's temporary directory, `$TMPDIR`, and deleted by the system when
//! closed, even if the run is killed). At the end the object is written to the output: the
//! leading keys, then each list copied from its spool.
//!
//! The bytes are those `serde_json::to_writer_pretty` prints for the whole object (two-space
//! indentation, `[]` for an empty list), followed by a newline: an entry is pretty-printed
//! by serde_json and indented to its depth by inserting the indentation after each line
//! break, which is safe because serde_json escapes line breaks inside strings.

use super::Sink;
use crate::domain::update::Updated;
use crate::domain::Created;
use crate::error::{Error, Result};
use crate::report::{Issue, Outcome, Rejected};
use serde::Serialize;
use std::io::{BufWriter, Seek, SeekFrom, Write};

/// Indentation of the report's keys (depth 1).
const KEY_INDENT: &[u8] = b"  ";
/// Indentation of a list's entries (depth 2).
const ENTRY_INDENT: &[u8] = b"    ";

/// The JSON report, written to `out` when the run is over.
pub struct Json<W> {
    out: W,
    /// The output's name in messages (`<stdout>`).
    shown: String,
    created: Spool,
    updated: Spool,
    errors: Spool,
    warnings: Spool,
}

impl Json<std::io::Stdout> {
    /// The report on standard output.
    pub fn stdout() -> Self {
        Json::new(std::io::stdout(), "<stdout>")
    }
}

impl<W: Write> Json<W> {
    /// The report on `out`, named `shown` in messages. No temporary file is made until a
    /// list gets its first entry.
    pub fn new(out: W, shown: impl Into<String>) -> Self {
        Json {
            out,
            shown: shown.into(),
            created: Spool::default(),
            updated: Spool::default(),
            errors: Spool::default(),
            warnings: Spool::default(),
        }
    }

    /// The output, once the report has been written to it.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Writes the whole object: the leading keys, then the lists from their spools.
    fn write_report(&mut self, outcome: &Outcome) -> std::io::Result<()> {
        let Json {
            out,
            created,
            updated,
            errors,
            warnings,
            ..
        } = self;
        let mut out = BufWriter::with_capacity(1 << 16, out);
        out.write_all(b"{")?;
        let delimiter = char::from(outcome.delimiter).to_string();
        field(&mut out, "command", &outcome.command, true)?;
        field(&mut out, "delimiter", &delimiter, false)?;
        field(&mut out, "dry_run", &outcome.dry_run, false)?;
        field(&mut out, "committed", &outcome.committed, false)?;
        field(&mut out, "rows", &outcome.rows, false)?;
        field(&mut out, "summary", &outcome.summary, false)?;
        for (name, list) in [
            ("created", created),
            ("updated", updated),
            ("errors", errors),
            ("warnings", warnings),
        ] {
            key(&mut out, name, false)?;
            list.copy_to(&mut out)?;
        }
        out.write_all(b"\n}\n")?;
        out.flush()
    }
}

impl<W: Write> Sink for Json<W> {
    fn warning(&mut self, warning: &Issue) -> Result<()> {
        self.warnings.push(warning)
    }

    fn created(&mut self, created: &Created) -> Result<()> {
        self.created.push(created)
    }

    fn updated(&mut self, updated: &Updated) -> Result<()> {
        self.updated.push(updated)
    }

    fn rejected(&mut self, row: &Rejected) -> Result<()> {
        for e in &row.errors {
            self.errors.push(&Issue::at(row.row_number, row.line, e))?;
        }
        Ok(())
    }

    /// Writes the report; a closed pipe ends quietly.
    fn finish(&mut self, outcome: &Outcome) -> Result<()> {
        let shown = self.shown.clone();
        super::to_stream(&shown, || self.write_report(outcome))
    }
}

/// Starts a key of the report's object: `"name": ` on its own line at depth 1.
fn key(out: &mut impl Write, name: &str, first: bool) -> std::io::Result<()> {
    out.write_all(if first { b"\n" } else { b",\n" })?;
    out.write_all(KEY_INDENT)?;
    serde_json::to_writer(&mut *out, name)?;
    out.write_all(b": ")
}

/// A key of the report's object and its value, pretty-printed at depth 1.
fn field(
    out: &mut impl Write,
    name: &str,
    value: &impl Serialize,
    first: bool,
) -> std::io::Result<()> {
    key(out, name, first)?;
    serde_json::to_writer_pretty(Indent::new(out, KEY_INDENT), value)?;
    Ok(())
}

/// One list of the report, spooled: its entries, each preceded by its separator, in an
/// anonymous temporary file made on the first entry.
#[derive(Default)]
struct Spool {
    file: Option<BufWriter<std::fs::File>>,
}

impl Spool {
    /// Appends an entry, pretty-printed at depth 2.
    fn push(&mut self, entry: &impl Serialize) -> Result<()> {
        self.append(entry).map_err(|source| Error::Output {
            path: format!(
                "a temporary file of the JSON report in {}",
                std::env::temp_dir().display()
            ),
            source,
        })
    }

    fn append(&mut self, entry: &impl Serialize) -> std::io::Result<()> {
        let (file, separator): (_, &[u8]) = match &mut self.file {
            Some(file) => (file, b",\n"),
            None => (
                self.file.insert(BufWriter::new(tempfile::tempfile()?)),
                b"\n",
            ),
        };
        file.write_all(separator)?;
        file.write_all(ENTRY_INDENT)?;
        serde_json::to_writer_pretty(Indent::new(file, ENTRY_INDENT), entry)?;
        Ok(())
    }

    /// Writes the list: `[]` when empty, else its entries between brackets, the closing one
    /// on its own line at depth 1. The spool is consumed.
    fn copy_to(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        let Some(file) = self.file.take() else {
            return out.write_all(b"[]");
        };
        let mut file = file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        out.write_all(b"[")?;
        std::io::copy(&mut file, out)?;
        out.write_all(b"\n")?;
        out.write_all(KEY_INDENT)?;
        out.write_all(b"]")
    }
}

/// A writer that indents every line after the first by `indent`: serde_json's pretty output
/// of a value nested at that depth.
struct Indent<'w, W: Write> {
    out: &'w mut W,
    indent: &'static [u8],
}

impl<'w, W: Write> Indent<'w, W> {
    fn new(out: &'w mut W, indent: &'static [u8]) -> Self {
        Indent { out, indent }
    }
}

impl<W: Write> Write for Indent<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            let (line, tail) = rest.split_at(i + 1);
            self.out.write_all(line)?;
            self.out.write_all(self.indent)?;
            rest = tail;
        }
        self.out.write_all(rest)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RowError;
    use crate::report::Summary;

    /// The report as one value, serialized the way the whole object was before streaming.
    #[derive(Serialize)]
    struct Whole {
        command: &'static str,
        delimiter: String,
        dry_run: bool,
        committed: bool,
        rows: u64,
        summary: Summary,
        created: Vec<Created>,
        updated: Vec<Updated>,
        errors: Vec<Issue>,
        warnings: Vec<Issue>,
    }

    fn streamed(outcome: &Outcome, feed: impl FnOnce(&mut Json<Vec<u8>>)) -> String {
        let mut json = Json::new(Vec::new(), "test");
        feed(&mut json);
        json.finish(outcome).expect("the report is written");
        String::from_utf8(json.into_inner()).expect("the report is UTF-8")
    }

    fn pretty(whole: &Whole) -> String {
        let mut text = serde_json::to_string_pretty(whole).expect("serializes");
        text.push('\n');
        text
    }

    #[test]
    fn streamed_report_is_byte_identical_to_the_whole_object_pretty_printed() {
        let created: Vec<Created> = (1..=3)
            .map(|i| Created {
                row_number: i,
                line: i + 1,
                user_id: i as i64,
                user_uuid: format!("uuid-{i}"),
                line_id: Some(i as i64),
                extension_id: None,
                voicemail_id: Some(7),
                incall_ids: vec![1, 2],
                call_permission_ids: vec![],
                voicemail_created: true,
                extension_reused: false,
                credentials: None,
                entity: 1,
            })
            .collect();
        let updated = vec![Updated {
            row_number: 5,
            line: 6,
            user_id: 9,
            user_uuid: "u".into(),
            changed: vec!["firstname", "lastname"],
            created: vec![],
            ..Updated::default()
        }];
        let bad = Rejected {
            row_number: 4,
            line: 5,
            record: csv::StringRecord::from(vec!["a"]),
            errors: vec![
                RowError {
                    column: Some("ring_seconds"),
                    code: "ring_seconds.not_multiple_of_5".into(),
                    message: "a \"quoted\"\nmessage\twith\u{2028}breaks".into(),
                    help: None,
                },
                RowError {
                    column: None,
                    code: "row.field_count".into(),
                    message: "é".into(),
                    help: Some("not in the report".into()),
                },
            ],
        };
        let warning = Issue {
            row_number: None,
            line: 1,
            column: Some("fistname".into()),
            code: "header.unknown_column".into(),
            message: "unknown".into(),
        };
        let mut outcome = Outcome::new("import", b';', false, false);
        outcome.rows = 5;
        outcome.committed = true;
        outcome.summary.updated.insert("users".into(), 1);
        let text = streamed(&outcome, |json| {
            json.warning(&warning).unwrap();
            for c in &created {
                json.created(c).unwrap();
            }
            json.updated(&updated[0]).unwrap();
            json.rejected(&bad).unwrap();
        });
        let whole = Whole {
            command: "import",
            delimiter: ";".into(),
            dry_run: false,
            committed: true,
            rows: 5,
            summary: outcome.summary.clone(),
            created,
            updated,
            errors: bad
                .errors
                .iter()
                .map(|e| Issue::at(bad.row_number, bad.line, e))
                .collect(),
            warnings: vec![warning],
        };
        assert_eq!(text, pretty(&whole));
    }

    #[test]
    fn empty_lists_print_as_empty_brackets() {
        let outcome = Outcome::new("validate", b'\t', true, true);
        let text = streamed(&outcome, |_| {});
        let whole = Whole {
            command: "validate",
            delimiter: "\t".into(),
            dry_run: true,
            committed: false,
            rows: 0,
            summary: Summary::default(),
            created: vec![],
            updated: vec![],
            errors: vec![],
            warnings: vec![],
        };
        assert_eq!(text, pretty(&whole));
        assert!(text.contains("\"created\": [],\n"), "{text}");
    }
}
