//! The `ucsv` binary: parse the command line, run, render a fatal error once, exit.

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the rows and the users read beside the writer are allocated on the reading
/// threads and freed on the writing one, which glibc's allocator makes slow (an update's
/// writing thread spent a fifth of its time freeing, waiting on the other arena's lock).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's options: memory freed goes back to the system after 50 ms instead of a
/// second, so that a server's resident memory follows what it holds (with transparent huge
/// pages off for mimalloc, by the crate's `no_thp`).
fn configure_allocator() {
    // The index of `mi_option_purge_delay` in `mi_option_e` (mimalloc.h, version 3).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting an option is a plain store of a value that mimalloc reads each time
    // it purges; 15 is that option in the mimalloc this crate builds.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 50);
    }
}

fn main() -> ExitCode {
    configure_allocator();
    let cli = ucsv::cli::Cli::parse();
    match ucsv::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(2)
        }
    }
}
