//! Criterion benchmarks of each stage of the pipeline on 10,000 generated rows:
//! parse+decode (CSV records out of bytes), validate (the parallel row checks), apply (a
//! whole import into a fresh SQLite file, all stages included) and export (10,000 users
//! written as CSV).

#[path = "data.rs"]
#[allow(dead_code)]
mod data;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::io::Cursor;
use ucsv::pipeline::{self, ApplyOptions, Mode};
use ucsv::read::{InputOptions, Source};
use ucsv::store::{reference::ReferenceFile, Store};

const ROWS: u64 = 10_000;

fn csv_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    data::write_rows(&mut out, ROWS, 1, 0, false).expect("generate rows");
    out
}

fn source(bytes: &[u8]) -> Source {
    Source::from_reader(
        "bench.csv".into(),
        Box::new(Cursor::new(bytes.to_vec())),
        &InputOptions::default(),
    )
    .expect("open the generated CSV")
}

fn reference() -> ReferenceFile {
    toml::from_str(data::REFERENCE).expect("the generated reference parses")
}

fn options() -> ApplyOptions {
    ApplyOptions {
        confine: false,
        command: "import",
        mode: Mode::Import,
        // Recorded as `ucsv import` records it: the history is part of an import's cost.
        history: Some(ucsv::store::history::BatchInfo {
            kind: "import".into(),
            who: "bench".into(),
            door: "cli",
            source: "bench.csv".into(),
            sha256: None,
            undoes: None,
        }),
        dry_run: false,
        keep_going: false,
        entity: None,
        progress: ucsv::progress::Progress::none(),
    }
}

/// A fresh database holding the generated rows.
fn imported(dir: &tempfile::TempDir, bytes: &[u8]) -> Store {
    let mut store = Store::create(&dir.path().join("b.db"), &reference(), "bench").expect("create");
    let report = pipeline::run(
        &mut store,
        &mut source(bytes),
        &options(),
        &mut ucsv::sink::Discard,
    )
    .expect("import");
    assert_eq!(report.summary.rejected, 0, "the generated rows are valid");
    store
}

fn stages(c: &mut Criterion) {
    let bytes = csv_bytes();
    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS));

    g.bench_function("parse_decode", |b| {
        b.iter(|| {
            let mut s = source(&bytes);
            let mut n = 0;
            loop {
                let batch = s.next_batch(8192).expect("read");
                if batch.is_empty() {
                    break n;
                }
                n += batch.len();
            }
        })
    });

    let mut s = source(&bytes);
    let rows = s.next_batch(ROWS as usize).expect("read");
    g.bench_function("validate", |b| {
        b.iter(|| ucsv::validate::import_batch(&s.header, &rows))
    });

    g.bench_function("apply", |b| {
        b.iter_batched(
            || tempfile::tempdir().expect("temp dir"),
            |dir| drop(imported(&dir, &bytes)),
            BatchSize::PerIteration,
        )
    });

    let dir = tempfile::tempdir().expect("temp dir");
    let store = imported(&dir, &bytes);
    g.bench_function("export", |b| {
        b.iter(|| {
            let opts = ucsv::export::ExportOptions {
                entity: None,
                columns: ucsv::columns::exported().collect(),
                progress: ucsv::progress::Progress::none(),
                excel_safe: false,
            };
            let mut w = csv::Writer::from_writer(std::io::sink());
            ucsv::export::write(&store, &opts, &mut w).expect("export")
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
