//! Fuzz target: arbitrary bytes as a CSV file through the whole import path: read (decode,
//! sniff the delimiter, resolve the header) → record and check (the parallel stage) → apply
//! against a real SQLite file → every sink: the rejects and errors files, the human report
//! (miette) and the streamed JSON report.
//!
//! Each input runs as `ucsv validate` (a dry run), as `ucsv validate --update` when the header
//! has a uuid column, and as `ucsv import --keep-going --rejects --errors` (which commits the
//! good rows). The database is made once per process in a temporary directory, with the
//! default reference data and the users of two fixtures (so that duplicates and updates meet
//! real rows); a committing run is undone by copying the pristine file back, so every input
//! meets the same database and a crash reproduces from its input alone.
//!
//! A fatal error (bad bytes, a bad header...) is an expected outcome: it is rendered the way
//! `main` renders it, to find panics in that rendering too. A panic anywhere is a crash.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use ucsv::pipeline::{self, ApplyOptions, Mode};
use ucsv::read::{InputOptions, Source};
use ucsv::outfile::AtomicFile;
use ucsv::sink::{Discard, Files, Human, Json, Sink};
use ucsv::store::Store;

/// The database every input meets, and where its pristine copy is.
struct Db {
    store: Option<Store>,
    path: PathBuf,
    pristine: PathBuf,
    _dir: tempfile::TempDir,
}

static DB: OnceLock<Mutex<Db>> = OnceLock::new();

/// Users already in the database: the seed examples (extensions 1000-1003, a voicemail box,
/// an incoming number) and the Wazo export (fixed uuids, for update rows).
const FIXTURES: [&[u8]; 2] = [
    include_bytes!("../../fixtures/good/seed_examples.csv"),
    include_bytes!("../../fixtures/good/wazo_export.csv"),
];

fn db() -> &'static Mutex<Db> {
    DB.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("ucsv-fuzz-")
            .tempdir()
            .expect("temporary directory");
        let path = dir.path().join("ucsv.db");
        let pristine = dir.path().join("pristine.db");
        let (mut store, created) = Store::open_or_create(&path).expect("create the database");
        assert!(created, "a fresh temporary directory has no database");
        for csv in FIXTURES {
            let mut source = source(csv).expect("a fixture reads");
            let report = pipeline::run(
                &mut store,
                &mut source,
                &options(Mode::Import, false, false),
                &mut Discard,
            )
            .expect("a fixture imports");
            assert!(
                report.committed && report.summary.rejected == 0,
                "the fixtures import whole"
            );
        }
        // Closing the only connection checkpoints the WAL into the file: one file to copy.
        drop(store);
        std::fs::copy(&path, &pristine).expect("keep a pristine copy");
        let store = Store::open(&path).expect("reopen the database");
        Mutex::new(Db {
            store: Some(store),
            path,
            pristine,
            _dir: dir,
        })
    })
}

fn source(data: &[u8]) -> ucsv::error::Result<Source> {
    Source::from_reader(
        "fuzz.csv".to_string(),
        Box::new(Cursor::new(data.to_vec())),
        &InputOptions::default(),
    )
}

fn options(mode: Mode, dry_run: bool, keep_going: bool) -> ApplyOptions {
    ApplyOptions {
        confine: false,
        command: if dry_run { "validate" } else { "import" },
        mode,
        dry_run,
        keep_going,
        entity: None,
        progress: ucsv::progress::Progress::new(false, None, true),
    }
}

/// `--rejects` and `--errors` writing into /dev/null (a device is written in place, not
/// through a temporary file): their CSV writing still runs.
fn files(source: &Source) -> Files {
    let null = || AtomicFile::create(std::path::Path::new("/dev/null")).expect("open /dev/null");
    Files::new(Some(null()), Some(null()), &source.header, source.delimiter)
        .expect("writing to /dev/null cannot fail")
}

/// One run of `data` in `mode`; returns whether it committed anything.
fn one_run(store: &mut Store, data: &[u8], mode: Mode, dry_run: bool, keep_going: bool) -> bool {
    let mut source = match source(data) {
        Ok(s) => s,
        Err(e) => {
            render_fatal(e);
            return false;
        }
    };
    if mode == Mode::Update && !source.header.has(ucsv::columns::Col::Uuid) {
        return false; // refused before any row is read; checked once in the dry run
    }
    let opts = options(mode, dry_run, keep_going);
    // Every sink at once: the files, the JSON report (which meets every row) and the human
    // report, in both themes (one per run).
    let human = Human::new(Vec::new(), &source).color(keep_going);
    let mut sink = (files(&source), (Json::new(Vec::new(), "<memory>"), human));
    match pipeline::run(store, &mut source, &opts, &mut sink) {
        Ok(report) => {
            sink.finish(&report).expect("the reports are written to memory");
            let (_, (json, human)) = sink;
            assert!(
                !human.into_inner().is_empty(),
                "the human report always has a summary line"
            );
            let json = json.into_inner();
            serde_json::from_slice::<serde_json::Value>(&json)
                .expect("the JSON report is one valid JSON value");
            assert!(json.starts_with(b"{"));
            assert!(
                dry_run || !report.committed || keep_going || report.summary.rejected == 0,
                "a run with rejected rows commits only with --keep-going"
            );
            assert!(!(dry_run && report.committed), "a dry run never commits");
            report.committed && report.rows > report.summary.rejected
        }
        Err(e) => {
            render_fatal(e);
            false
        }
    }
}

/// Renders a fatal error as `main` does.
fn render_fatal(e: ucsv::error::Error) {
    let text = format!("{:?}", miette::Report::new(e));
    assert!(!text.is_empty());
}

/// Puts the pristine database back after a run that committed.
fn restore(db: &mut Db) {
    drop(db.store.take()); // close before replacing the file
    for suffix in ["-wal", "-shm"] {
        let mut p = db.path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(Path::new(&p));
    }
    std::fs::copy(&db.pristine, &db.path).expect("restore the pristine database");
    db.store = Some(Store::open(&db.path).expect("reopen the database"));
}

fuzz_target!(|data: &[u8]| {
    let mut db = db().lock().unwrap_or_else(|p| p.into_inner());
    let store = db.store.as_mut().expect("the database is open");
    one_run(store, data, Mode::Import, true, false);
    one_run(store, data, Mode::Update, true, false);
    if one_run(store, data, Mode::Import, false, true) {
        restore(&mut db);
    }
});
