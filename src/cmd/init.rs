//! `ucsv init`: create a database with the embedded default or a given reference file.

use super::Context;
use crate::error::Result;
use crate::store::{reference::ReferenceFile, Store};
use std::path::Path;

/// Creates the database; refuses an existing file.
pub fn run(ctx: &Context, reference: Option<&Path>) -> Result<u8> {
    let data = match reference {
        Some(path) => ReferenceFile::read(&path.display().to_string())?,
        None => ReferenceFile::embedded_default(),
    };
    let origin = reference.map_or("the embedded default".to_string(), |p| {
        p.display().to_string()
    });
    let store = Store::create(ctx.db, &data, &origin)?;
    ctx.say(&format!(
        "ucsv: created database {} with {} reference data\n",
        store.path.display(),
        reference.map_or("the default".to_string(), |p| format!(
            "the {}",
            p.display()
        ))
    ));
    Ok(0)
}
