//! The report of a run: the JSON object of SPEC §5, the human rendering (miette diagnostics
//! with the row's text and the bad field underlined), the rejects CSV and the errors CSV.

use crate::apply::update::Updated;
use crate::apply::Created;
use crate::columns;
use crate::error::{Result, RowError};
use crate::outfile::AtomicFile;
use crate::read::Header;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Rows whose errors are printed in full by the human format; the rest are counted.
pub const MAX_ROWS_SHOWN: usize = 20;

/// One error or warning, placed in the file.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Issue {
    /// The data row, or `null` for the header.
    pub row_number: Option<u64>,
    /// The physical line.
    pub line: u64,
    /// The column at fault, if one is.
    pub column: Option<String>,
    /// Stable code.
    pub code: String,
    /// For people.
    pub message: String,
}

impl Issue {
    /// Places a row error.
    pub fn at(row_number: u64, line: u64, e: &RowError) -> Issue {
        Issue {
            row_number: Some(row_number),
            line,
            column: e.column.map(str::to_string),
            code: e.code.clone(),
            message: e.message.clone(),
        }
    }
}

/// Counts of created resources.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub users: u64,
    pub lines: u64,
    pub extensions: u64,
    pub incalls: u64,
    pub voicemails: u64,
    pub call_permissions: u64,
}

impl Counts {
    /// Adds what one row created.
    pub fn add(&mut self, c: &Created) {
        self.users += 1;
        self.lines += u64::from(c.line_id.is_some());
        self.extensions += u64::from(c.extension_id.is_some() && !c.extension_reused);
        self.incalls += c.incall_ids.len() as u64;
        self.voicemails += u64::from(c.voicemail_created);
        self.call_permissions += c.call_permission_ids.len() as u64;
    }
}

/// Counts of free existing resources that rows claimed instead of creating.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Reused {
    pub extensions: u64,
}

/// The summary block.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub created: Counts,
    pub reused: Reused,
    pub updated: BTreeMap<String, u64>,
    pub rejected: u64,
}

/// A rejected row, kept for the human rendering and the rejects file.
#[derive(Clone, Debug)]
pub struct Rejected {
    pub row_number: u64,
    pub line: u64,
    pub record: csv::StringRecord,
    pub errors: Vec<RowError>,
}

/// The outcome of an import, update or validate run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub command: &'static str,
    /// The field delimiter used (sniffed from the header unless given).
    pub delimiter: String,
    pub dry_run: bool,
    pub committed: bool,
    pub rows: u64,
    pub summary: Summary,
    pub created: Vec<Created>,
    pub updated: Vec<Updated>,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    /// The first rejected rows with their cells, for the human rendering.
    #[serde(skip)]
    pub rejected: Vec<Rejected>,
    /// The number of errors (the list is kept only for the JSON report).
    #[serde(skip)]
    pub error_count: u64,
    /// The number of warnings (the human report prints the first ones).
    #[serde(skip)]
    pub warning_count: u64,
    /// Whether the rows were updates (for the summary's wording).
    #[serde(skip)]
    pub is_update: bool,
    /// Whether every per-row entry is kept (only the JSON report lists them); otherwise
    /// memory stays bounded whatever the number of rows.
    #[serde(skip)]
    pub keep_created: bool,
    /// Where rejected rows and errors are written as they come.
    #[serde(skip)]
    pub outputs: Outputs,
}

/// The `--rejects` and `--errors` files, written row by row during the run into temporary
/// files that [`Outputs::finish`] puts in place.
#[derive(Default)]
pub struct Outputs {
    rejects: Option<OutputCsv>,
    errors: Option<OutputCsv>,
}

/// One output CSV: the writer and the file it is renamed to when complete.
struct OutputCsv {
    writer: csv::Writer<std::io::BufWriter<std::fs::File>>,
    file: AtomicFile,
}

impl OutputCsv {
    fn start(file: AtomicFile, builder: csv::WriterBuilder, header: &[&str]) -> Result<Self> {
        let writer = builder.from_writer(std::io::BufWriter::new(file.writer()?));
        let mut out = OutputCsv { writer, file };
        out.write(header)?;
        Ok(out)
    }

    fn write<I, T>(&mut self, record: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(record)
            .map_err(|e| self.file.csv_error(e))
    }

    fn finish(mut self) -> Result<()> {
        self.writer.flush().map_err(|e| self.file.error(e))?;
        self.file.commit()
    }
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("rejects", &self.rejects.is_some())
            .field("errors", &self.errors.is_some())
            .finish()
    }
}

impl Outputs {
    /// Starts the files: the rejects file with the input's header and delimiter (ragged rows
    /// kept as they were), the errors file with its own header.
    pub fn new(
        rejects: Option<AtomicFile>,
        errors: Option<AtomicFile>,
        header: &Header,
        delimiter: u8,
    ) -> Result<Outputs> {
        let names: Vec<&str> = header.names.iter().map(String::as_str).collect();
        let rejects = rejects
            .map(|f| {
                let mut b = csv::WriterBuilder::new();
                b.delimiter(delimiter).flexible(true);
                OutputCsv::start(f, b, &names)
            })
            .transpose()?;
        let errors = errors
            .map(|f| {
                OutputCsv::start(
                    f,
                    csv::WriterBuilder::new(),
                    &["row_number", "line", "column", "code", "message"],
                )
            })
            .transpose()?;
        Ok(Outputs { rejects, errors })
    }

    fn write(&mut self, row: &Rejected) -> Result<()> {
        if let Some(out) = &mut self.rejects {
            out.write(&row.record)?;
        }
        if let Some(out) = &mut self.errors {
            for e in &row.errors {
                out.write([
                    row.row_number.to_string().as_str(),
                    &row.line.to_string(),
                    e.column.unwrap_or_default(),
                    &e.code,
                    &e.message,
                ])?;
            }
        }
        Ok(())
    }

    /// Completes both files and puts them in place (before the run commits).
    pub fn finish(&mut self) -> Result<()> {
        for out in [self.rejects.take(), self.errors.take()]
            .into_iter()
            .flatten()
        {
            out.finish()?;
        }
        Ok(())
    }
}

impl Report {
    /// An empty report for a command.
    pub fn new(command: &'static str, dry_run: bool, keep_created: bool) -> Report {
        Report {
            command,
            delimiter: ",".into(),
            dry_run,
            committed: false,
            rows: 0,
            summary: Summary::default(),
            created: Vec::new(),
            updated: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            rejected: Vec::new(),
            error_count: 0,
            warning_count: 0,
            is_update: false,
            keep_created,
            outputs: Outputs::default(),
        }
    }

    /// Keeps a warning (all of them for the JSON report, the first ones otherwise).
    fn warn(&mut self, w: Issue) {
        self.warning_count += 1;
        if self.keep_created || self.warnings.len() < MAX_ROWS_SHOWN {
            self.warnings.push(w);
        }
    }

    /// Adds the header's warnings (unknown columns).
    pub fn header_warnings(&mut self, header: &Header) {
        for (_, name, close) in &header.unknown {
            let hint = close.map_or_else(
                || " (see `ucsv columns`)".to_string(),
                |c| format!("; did you mean '{c}'?"),
            );
            self.warn(Issue {
                row_number: None,
                line: 1,
                column: Some(name.clone()),
                code: "header.unknown_column".into(),
                message: format!("unknown column '{name}' is ignored{hint}"),
            });
        }
    }

    /// Records a row skipped for holding no data: its warnings, not counted in `rows`.
    pub fn skipped(&mut self, row_number: u64, line: u64, warnings: &[RowError]) {
        for w in warnings {
            self.warn(Issue::at(row_number, line, w));
        }
    }

    /// Records a row that was applied.
    pub fn created(&mut self, c: Created, warnings: Vec<RowError>) {
        self.rows += 1;
        for w in &warnings {
            self.warn(Issue::at(c.row_number, c.line, w));
        }
        self.summary.created.add(&c);
        self.summary.reused.extensions += u64::from(c.extension_reused);
        if self.keep_created {
            self.created.push(c);
        }
    }

    /// Records an update row: changed (`Some`) or unchanged (`None`).
    pub fn updated(
        &mut self,
        row_number: u64,
        line: u64,
        u: Option<Updated>,
        warnings: Vec<RowError>,
    ) {
        self.rows += 1;
        for w in &warnings {
            self.warn(Issue::at(row_number, line, w));
        }
        let Some(u) = u else {
            *self.summary.updated.entry("unchanged".into()).or_default() += 1;
            return;
        };
        *self.summary.updated.entry("users".into()).or_default() += 1;
        self.summary.reused.extensions += u64::from(u.extension_reused);
        for created in &u.created {
            let c = &mut self.summary.created;
            match *created {
                "line" => c.lines += 1,
                "extension" => c.extensions += 1,
                "incall" => c.incalls += 1,
                _ => c.voicemails += 1,
            }
        }
        if self.keep_created {
            self.updated.push(u);
        }
    }

    /// Records a rejected row, writing it to the rejects and errors files.
    pub fn rejected(&mut self, row: Rejected) -> crate::error::Result<()> {
        self.rows += 1;
        self.summary.rejected += 1;
        self.error_count += row.errors.len() as u64;
        self.outputs.write(&row)?;
        if self.keep_created {
            for e in &row.errors {
                self.errors.push(Issue::at(row.row_number, row.line, e));
            }
        }
        if self.rejected.len() < MAX_ROWS_SHOWN {
            self.rejected.push(row);
        }
        Ok(())
    }

    /// The exit status: 0 when every row was (or would be) applied, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.summary.rejected > 0)
    }

    /// Renders the report for people: each error with its row, then a summary.
    pub fn human(&self, source: &str, header: &Header, delimiter: u8, color: bool) -> String {
        let source = &escape(source);
        let mut out = String::new();
        let theme = if color {
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
        for w in self.warnings.iter().take(MAX_ROWS_SHOWN) {
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
        if self.warning_count > MAX_ROWS_SHOWN as u64 {
            let _ = writeln!(
                out,
                "... and {} more warnings (all are in --format json)",
                self.warning_count - MAX_ROWS_SHOWN as u64
            );
        }
        for row in self.rejected.iter().take(MAX_ROWS_SHOWN) {
            for e in &row.errors {
                let d = RowDiagnostic::new(source, header, delimiter, row, e);
                let _ = handler.render_report(&mut out, &d);
            }
        }
        let shown_rows = self.rejected.len() as u64;
        if self.summary.rejected > shown_rows {
            let shown: u64 = self.rejected.iter().map(|r| r.errors.len() as u64).sum();
            let more = self.error_count - shown;
            let _ = writeln!(
                out,
                "... and {more} more errors in {} more rows (all are in --format json and --errors FILE)",
                self.summary.rejected - shown_rows
            );
        }
        out.push_str(&self.summary_line());
        out.push('\n');
        out
    }

    fn summary_line(&self) -> String {
        let c = &self.summary.created;
        let applied = self.rows - self.summary.rejected;
        let (verb, would, what) = if self.is_update {
            let n = |k: &str| self.summary.updated.get(k).copied().unwrap_or(0);
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
        let what = match self.summary.reused.extensions {
            0 => what,
            n => format!("{what}, reusing {n} free extensions"),
        };
        let cmd = self.command;
        let (rejected, rows) = (self.summary.rejected, self.rows);
        match (rejected, self.committed) {
            (0, true) => format!("{cmd}: {verb} {what}"),
            (0, false) => {
                format!("{cmd}: all {rows} rows are valid; {would} {what}; nothing written (dry run)")
            }
            (_, true) => format!("{cmd}: {verb} {what}; {rejected} of {rows} rows rejected (--keep-going)"),
            (_, false) => format!(
                "{cmd}: {rejected} of {rows} rows rejected ({} errors); {applied} rows were valid; nothing written",
                self.error_count
            ),
        }
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

/// Text from the input made safe for a terminal: control characters (C0, DEL, C1), bidi
/// controls, line separators and the BOM are shown as escapes (`\t`, `\n`, `\u{1b}`), never
/// raw, so a cell cannot retitle, clear or reorder the terminal.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
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
