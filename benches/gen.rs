//! Writes N realistic user rows for benchmarks, deterministic by seed (see data.rs). With
//! `--reference FILE` it also writes the reference data the rows need (ranges wide enough
//! for 10 million users).
//!
//! `cargo run --release --example gen -- --rows 1000000 --seed 1 -o target/bench/users.csv`
//! Options: `--offset K` numbers users from K (a second file that does not collide with the
//! first), `--passwords` writes plaintext passwords (hashed on import) instead of a PHC hash.

#[path = "data.rs"]
#[allow(dead_code)]
mod data;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut rows = 1000u64;
    let mut seed = 1u64;
    let mut offset = 0u64;
    let mut out = String::from("-");
    let mut reference = None;
    let mut passwords = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_default();
        match a.as_str() {
            "--rows" => rows = value().parse().unwrap_or(rows),
            "--seed" => seed = value().parse().unwrap_or(seed),
            "--offset" => offset = value().parse().unwrap_or(offset),
            "-o" | "--output" => out = value(),
            "--reference" => reference = Some(value()),
            "--passwords" => passwords = true,
            other => {
                eprintln!("gen: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    if let Some(path) = reference {
        std::fs::write(path, data::REFERENCE)?;
    }
    let sink: Box<dyn Write> = if out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&out)?)
    };
    let mut w = BufWriter::with_capacity(1 << 20, sink);
    data::write_rows(&mut w, rows, seed, offset, passwords)?;
    w.flush()
}
