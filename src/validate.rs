//! The parallel stage: a batch of raw rows is parsed and checked on all cores (rayon), in
//! input order. Password hashing and credential generation happen here too.
//!
//! The checking threads run at a lower scheduling priority than the single writer: when
//! both have work, the writer (the bottleneck of an import) keeps its core; when the writer
//! waits, as with files full of passwords to hash, the checks still use every core.

use crate::error::RowError;
use crate::read::{Header, RawRow};
use crate::record::{self, Parsed};
use rayon::prelude::*;
use std::sync::OnceLock;

/// The pool of checking threads, one per core, at a lower priority than the writer.
fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| niced_pool("ucsv-check", None, 10))
}

/// A pool of `threads` threads (one per core when `None`) named `name-N`, each at the nice
/// value `nice`. A panic in work spawned on it ends that work, not the process.
pub fn niced_pool(name: &'static str, threads: Option<usize>, nice: i32) -> rayon::ThreadPool {
    let mut builder = rayon::ThreadPoolBuilder::new()
        .thread_name(move |i| format!("{name}-{i}"))
        .start_handler(move |_| lower_priority(nice))
        .panic_handler(|_| {});
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    builder
        .build()
        // Building a pool fails only if threads cannot be spawned: fall back to one.
        .unwrap_or_else(|_| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap_or_else(|e| unreachable!("{e}"))
        })
}

/// Lowers the calling thread's scheduling priority to a nice value of `nice`, where
/// supported (for good: raising it again needs a privilege).
pub fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's own id has no memory effects; a failure
    // only leaves the priority as it was.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, nice);
    }
}

/// The errors found while reading a row (broken quoting): its cells cannot be trusted, so
/// they are the row's only errors. An empty row is not checked at all: the pipeline skips it.
fn read_errors(raw: &RawRow) -> Option<Vec<RowError>> {
    (raw.empty || !raw.errors.is_empty()).then(|| raw.errors.clone())
}

/// Parses and checks a batch for import; the results keep the batch's order.
pub fn import_batch(header: &Header, batch: &[RawRow]) -> Vec<Result<Parsed, Vec<RowError>>> {
    pool().install(|| {
        batch
            .par_iter()
            .map(|raw| read_errors(raw).map_or_else(|| record::parse_import(header, raw), Err))
            .collect()
    })
}

/// The parallel part of a batch of update rows (shape checks and password hashes), in order.
pub fn update_batch(
    header: &Header,
    batch: &[RawRow],
) -> Vec<Result<crate::record::Patch, Vec<RowError>>> {
    pool().install(|| {
        batch
            .par_iter()
            .map(|raw| {
                read_errors(raw).map_or_else(|| crate::record::parse_update(header, raw), Err)
            })
            .collect()
    })
}
