//! `ucsv reference show|apply`.

use super::Context;
use crate::cli::{ReferenceCommand, ReferenceFormat};
use crate::error::{Error, Result};
use crate::store::reference::ReferenceFile;

/// Shows or applies reference data.
pub fn run(ctx: &Context, command: &ReferenceCommand) -> Result<u8> {
    let mut store = ctx.store()?;
    match command {
        ReferenceCommand::Show { format } => {
            let data = ReferenceFile::from_store(&store)?;
            let text = match format {
                ReferenceFormat::Toml => toml::to_string(&data).map_err(|e| Error::Reference {
                    path: store.path.display().to_string(),
                    message: e.to_string(),
                })?,
                ReferenceFormat::Json => {
                    serde_json::to_string_pretty(&data).map_err(|e| Error::Reference {
                        path: store.path.display().to_string(),
                        message: e.to_string(),
                    })? + "\n"
                }
            };
            super::stdout(text.as_bytes())?;
        }
        ReferenceCommand::Apply { file } => {
            let data = ReferenceFile::read(&file.display().to_string())?;
            data.apply(&mut store, &file.display().to_string())?;
            ctx.say(&format!(
                "ucsv: applied reference data from {}\n",
                file.display()
            ));
        }
    }
    Ok(0)
}
