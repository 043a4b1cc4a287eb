//! `ucsv completions` and `ucsv man`: the shell completion scripts and the manual pages,
//! made from the clap definitions of [`crate::cli`], so that they name exactly the commands
//! and options that exist.

use crate::cli::{Cli, Shell};
use crate::error::{Error, Result};
use clap::CommandFactory;
use std::path::Path;

/// `ucsv completions SHELL`: the script on stdout.
pub fn completions(shell: Shell) -> Result<u8> {
    use clap_complete::Shell as S;
    let shell = match shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
        Shell::Elvish => S::Elvish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ucsv", &mut script);
    super::stdout(&script)?;
    Ok(0)
}

/// `ucsv man [--dir DIR]`: the page of ucsv on stdout, or a page per command in `dir`.
pub fn man(dir: Option<&Path>) -> Result<u8> {
    let command = Cli::command();
    match dir {
        None => {
            let mut page = Vec::new();
            let io = |source| Error::Output {
                path: "<stdout>".into(),
                source,
            };
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(io)?;
            super::stdout(&page)?;
        }
        Some(dir) => {
            let io = |source| Error::Output {
                path: dir.display().to_string(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(io)?;
            clap_mangen::generate_to(command, dir).map_err(io)?;
        }
    }
    Ok(0)
}
