//! The `--rejects` and `--errors` CSV files: each rejected row is written as it comes into a
//! temporary file beside its target ([`AtomicFile`]); both are put in place when every row
//! has been seen, before the run commits, so a failure to write them commits nothing.

use super::Sink;
use crate::error::Result;
use crate::outfile::AtomicFile;
use crate::read::Header;
use crate::report::Rejected;

/// The rejects file (the rejected rows with the input's header and delimiter, to fix and
/// re-run) and the errors file (one line per error); either may be absent.
#[derive(Default)]
pub struct Files {
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

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files")
            .field("rejects", &self.rejects.is_some())
            .field("errors", &self.errors.is_some())
            .finish()
    }
}

impl Files {
    /// Starts the files: the rejects file with the input's header and delimiter (ragged rows
    /// kept as they were), the errors file with its own header.
    pub fn new(
        rejects: Option<AtomicFile>,
        errors: Option<AtomicFile>,
        header: &Header,
        delimiter: u8,
    ) -> Result<Files> {
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
        Ok(Files { rejects, errors })
    }
}

impl Sink for Files {
    fn rejected(&mut self, row: &Rejected) -> Result<()> {
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
    fn rows_done(&mut self) -> Result<()> {
        for out in [self.rejects.take(), self.errors.take()]
            .into_iter()
            .flatten()
        {
            out.finish()?;
        }
        Ok(())
    }
}
