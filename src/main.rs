//! The `ucsv` binary: parse the command line, run, render a fatal error once, exit.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = ucsv::cli::Cli::parse();
    match ucsv::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(2)
        }
    }
}
