//! The report for people, on stderr: the header's and rows' warnings, each error of a
//! rejected row as a miette diagnostic with the row's text and a marker under the bad field,
//! then a summary line. Only the first [`MAX_ROWS_SHOWN`] rejected rows and warnings are
//! kept and shown in full; the rest are counted, so memory stays bounded.

use super::Sink;
use crate::columns;
use crate::error::{Result, RowError};
use crate::escape::escape;
use crate::read::{Header, Source};
use crate::report::{Issue, Outcome, Rejected};
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, SourceCode, SourceSpan, SpanContents,
};
use std::fmt::Write as _;

/// Rows whose errors are printed in full by the human format; the rest are counted.
pub const MAX_ROWS_SHOWN: usize = 20;

/// The human report, written to `out` when the run is over.
pub struct Human<W> {
    out: W,
    /// The input's name, as messages show it.
    name: String,
    header: Header,
    delimiter: u8,
    color: bool,
    quiet: bool,
    /// The first warnings.
    warnings: Vec<Issue>,
    /// The first rejected rows, with their cells.
    rejected: Vec<Rejected>,
}

impl<W: std::io::Write> Human<W> {
    /// A report on the rows of `source`, without color and not quiet.
    pub fn new(out: W, source: &Source) -> Human<W> {
        Human {
            out,
            name: source.name.clone(),
            header: source.header.clone(),
            delimiter: source.delimiter,
            color: false,
            quiet: false,
            warnings: Vec::new(),
            rejected: Vec::new(),
        }
    }

    /// Colors the diagnostics (for a terminal).
    pub fn color(mut self, color: bool) -> Self {
        self.color = color;
        self
    }

    /// Prints nothing unless a row was rejected (then everything, errors first in mind).
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }

    /// The output, once the report has been written to it.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Renders the report: each error with its row, then a summary.
    pub fn render(&self, outcome: &Outcome) -> String {
        let source = &escape(&self.name);
        let delimiter = self.delimiter;
        let mut out = String::new();
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme);
        if delimiter != b',' {
            let shown = if delimiter == b'\t' {
                "TAB".to_string()
            } else {
                char::from(delimiter).to_string()
            };
            let _ = writeln!(out, "note: {source}: fields are separated by '{shown}'");
        }
        for w in &self.warnings {
            let at = match w.row_number {
                Some(r) => format!("row {r} (line {})", w.line),
                None => format!("line {}", w.line),
            };
            let _ = writeln!(
                out,
                "warning[{}]: {source}: {at}: {}",
                escape(&w.code),
                escape(&w.message)
            );
        }
        if outcome.warnings > MAX_ROWS_SHOWN as u64 {
            let _ = writeln!(
                out,
                "... and {} more warnings (all are in --format json)",
                outcome.warnings - MAX_ROWS_SHOWN as u64
            );
        }
        for row in &self.rejected {
            for e in &row.errors {
                let d = RowDiagnostic::new(source, &self.header, delimiter, row, e);
                let _ = handler.render_report(&mut out, &d);
            }
        }
        let shown_rows = self.rejected.len() as u64;
        if outcome.summary.rejected > shown_rows {
            let shown: u64 = self.rejected.iter().map(|r| r.errors.len() as u64).sum();
            let more = outcome.errors.saturating_sub(shown);
            let _ = writeln!(
                out,
                "... and {more} more errors in {} more rows (all are in --format json and --errors FILE)",
                outcome.summary.rejected - shown_rows
            );
        }
        out.push_str(&summary_line(outcome));
        out.push('\n');
        out
    }
}

impl<W: std::io::Write> Sink for Human<W> {
    fn warning(&mut self, warning: &Issue) -> Result<()> {
        if self.warnings.len() < MAX_ROWS_SHOWN {
            self.warnings.push(warning.clone());
        }
        Ok(())
    }

    fn rejected(&mut self, row: &Rejected) -> Result<()> {
        if self.rejected.len() < MAX_ROWS_SHOWN {
            self.rejected.push(row.clone());
        }
        Ok(())
    }

    /// Writes the report; when quiet, only if a row was rejected.
    fn finish(&mut self, outcome: &Outcome) -> Result<()> {
        if self.quiet && outcome.summary.rejected == 0 {
            return Ok(());
        }
        let text = self.render(outcome);
        super::to_stream("<stderr>", || {
            self.out.write_all(text.as_bytes())?;
            self.out.flush()
        })
    }
}

/// The last line: what was (or would be) written, or why nothing was.
fn summary_line(outcome: &Outcome) -> String {
    let c = &outcome.summary.created;
    let applied = outcome.rows.saturating_sub(outcome.summary.rejected);
    let (verb, would, what) = if outcome.is_update {
        let n = |k: &str| outcome.summary.updated.get(k).copied().unwrap_or(0);
        let what = format!(
            "{} users ({} unchanged; created {} lines, {} extensions, {} incoming numbers, {} voicemail boxes)",
            n("users"),
            n("unchanged"),
            c.lines,
            c.extensions,
            c.incalls,
            c.voicemails
        );
        ("updated", "would update", what)
    } else {
        let what = format!(
            "{} users ({} lines, {} extensions, {} incoming numbers, {} voicemail boxes, {} call permissions)",
            c.users, c.lines, c.extensions, c.incalls, c.voicemails, c.call_permissions
        );
        ("imported", "would create", what)
    };
    let what = match outcome.summary.reused.extensions {
        0 => what,
        n => format!("{what}, reusing {n} free extensions"),
    };
    let cmd = outcome.command;
    let (rejected, rows) = (outcome.summary.rejected, outcome.rows);
    match (rejected, outcome.committed) {
        (0, true) => format!("{cmd}: {verb} {what}"),
        (0, false) => {
            format!("{cmd}: all {rows} rows are valid; {would} {what}; nothing written (dry run)")
        }
        (_, true) => format!("{cmd}: {verb} {what}; {rejected} of {rows} rows rejected (--keep-going)"),
        (_, false) => format!(
            "{cmd}: {rejected} of {rows} rows rejected ({} errors); {applied} rows were valid; nothing written",
            outcome.errors
        ),
    }
}

/// A row's text as a miette source whose line numbers are the file's.
#[derive(Debug)]
struct RowSource {
    name: String,
    text: String,
    first_line: usize,
}

impl SourceCode for RowSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line - 1,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// One row error as a miette diagnostic.
#[derive(Debug)]
struct RowDiagnostic {
    message: String,
    code: String,
    help: Option<String>,
    src: RowSource,
    span: Option<SourceSpan>,
}

impl RowDiagnostic {
    fn new(source: &str, header: &Header, delimiter: u8, row: &Rejected, e: &RowError) -> Self {
        let col = e.column.and_then(columns::lookup);
        let (text, span) = row_text(
            header,
            delimiter,
            &row.record,
            col.and_then(|c| header.position(c)),
        );
        RowDiagnostic {
            message: format!(
                "row {} (line {}){}: {}",
                row.row_number,
                row.line,
                e.column
                    .map(|c| format!(", column {c}"))
                    .unwrap_or_default(),
                escape(&e.message)
            ),
            code: e.code.clone(),
            help: e
                .help
                .as_deref()
                .map(|h| escape(h).into_owned())
                .or_else(|| col.map(|c| format!("{}: {}", c.name(), c.def().rule.describe()))),
            src: RowSource {
                name: source.to_string(),
                text,
                first_line: row.line as usize,
            },
            span,
        }
    }
}

impl std::fmt::Display for RowDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RowDiagnostic {}

impl Diagnostic for RowDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.src)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some("here".into()), span),
        )))
    }
}

/// Fields shown on each side of the bad one; the rest of the row is elided.
const NEIGHBOURS: usize = 3;
/// Characters of a cell shown before it is elided with its length.
const CELL_SHOWN: usize = 40;

/// A window of the row as CSV text around field `at` (the first fields when no field is at
/// fault), and the span of field `at` in it. Secret cells, and cells of unknown columns whose
/// name suggests a secret, are masked; long cells are elided with their length; control and
/// bidi characters are escaped, so the text is one short, inert line whatever the row holds.
fn row_text(
    header: &Header,
    delimiter: u8,
    record: &csv::StringRecord,
    at: Option<usize>,
) -> (String, Option<SourceSpan>) {
    let secret: Vec<usize> = columns::COLUMNS
        .iter()
        .filter(|c| c.is_secret())
        .filter_map(|c| header.position(c.col))
        .chain(
            header
                .unknown
                .iter()
                .filter(|(_, name, _)| columns::looks_secret(name))
                .map(|(i, _, _)| *i),
        )
        .collect();
    let n = record.len();
    let last_field = n.saturating_sub(1);
    let centre = at.unwrap_or(NEIGHBOURS).min(last_field);
    let first = centre.saturating_sub(NEIGHBOURS);
    let last = (centre + NEIGHBOURS).min(last_field);
    let sep = char::from(delimiter);
    let mut text = String::new();
    let mut span = None;
    if first > 0 {
        text.push('…');
    }
    for (i, field) in record.iter().enumerate().take(last + 1).skip(first) {
        if i > 0 {
            text.push(sep);
        }
        let shown = if secret.contains(&i) && !field.is_empty() {
            "********".to_string()
        } else {
            let short = elide(field);
            if field.contains([sep, '"', '\n', '\r']) {
                format!("\"{}\"", short.replace('"', "\"\""))
            } else {
                short
            }
        };
        if Some(i) == at {
            span = Some(SourceSpan::from((text.len(), shown.len().max(1))));
        }
        text.push_str(&shown);
    }
    if last < last_field {
        text.push(sep);
        text.push('…');
    }
    if span.is_some_and(|s| s.offset() >= text.len()) {
        text.push(' '); // an empty last field still gets its marker
    }
    (text, span)
}

/// A cell for the row text: escaped, and cut with its length when long.
fn elide(field: &str) -> String {
    let count = field.chars().count();
    if count <= CELL_SHOWN {
        return escape(field).into_owned();
    }
    let head: String = field.chars().take(CELL_SHOWN / 2).collect();
    format!("{}… ({count} characters)", escape(&head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(names: &[&str]) -> Header {
        Header::resolve("t", names.iter().map(|s| s.to_string()).collect(), false).unwrap()
    }

    #[test]
    fn escape_shows_control_and_bidi_characters() {
        assert_eq!(escape("plain é"), "plain é");
        assert_eq!(escape("\u{1b}]0;x\u{7}"), "\\u{1b}]0;x\\u{7}");
        assert_eq!(escape("a\tb\r\n"), "a\\tb\\r\\n");
        assert_eq!(escape("\u{202e}abc"), "\\u{202e}abc");
    }

    #[test]
    fn row_text_is_a_window_around_the_bad_field_with_long_cells_elided() {
        let h = header(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
        let long = "x".repeat(1_000_000);
        let record = csv::StringRecord::from(vec![
            "0",
            "1",
            "2",
            "3",
            "4",
            "5",
            long.as_str(),
            "7",
            "8",
            "9",
        ]);
        let (text, span) = row_text(&h, b',', &record, Some(6));
        assert_eq!(
            text,
            format!("…,3,4,5,{}… (1000000 characters),7,8,9", "x".repeat(20))
        );
        let span = span.unwrap();
        assert_eq!(
            &text[span.offset()..span.offset() + span.len()],
            format!("{}… (1000000 characters)", "x".repeat(20))
        );
        let (text, _) = row_text(&h, b',', &record, Some(0));
        assert_eq!(text, "0,1,2,3,…");
    }

    #[test]
    fn row_text_of_a_ragged_row_without_the_field_shows_its_last_fields() {
        let h = header(&["a", "b", "c", "d", "e", "f"]);
        let record = csv::StringRecord::from(vec!["0", "1", "2", "3", "4"]);
        let (text, span) = row_text(&h, b',', &record, Some(5));
        assert_eq!((text.as_str(), span), ("…,1,2,3,4", None));
    }

    #[test]
    fn unknown_columns_that_look_secret_are_masked() {
        let h = header(&["firstname", "passwd"]);
        let record = csv::StringRecord::from(vec!["Ann", "hunter2"]);
        let (text, _) = row_text(&h, b',', &record, Some(0));
        assert_eq!(text, "Ann,********");
    }
}
