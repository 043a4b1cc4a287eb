//! `ucsv columns`: the column reference, printed from the registry.

use crate::cli::ColumnsFormat;
use crate::columns::COLUMNS;
use crate::error::Result;
use std::fmt::Write as _;

/// Prints the column reference.
pub fn run(format: ColumnsFormat) -> Result<u8> {
    let text = match format {
        ColumnsFormat::Table => {
            let mut s = String::new();
            let _ = writeln!(s, "{:<40} {:<17} {:<5} rule", "column", "group", "type");
            for c in COLUMNS {
                let _ = writeln!(
                    s,
                    "{:<40} {:<17} {:<5} {}{}{}",
                    c.name,
                    c.group.name(),
                    c.rule.type_name(),
                    if c.is_list() { "`;`-list; " } else { "" },
                    c.rule.describe(),
                    if c.is_secret() { " (secret)" } else { "" }
                );
            }
            s
        }
        ColumnsFormat::Markdown => markdown(),
        ColumnsFormat::Frictionless => {
            serde_json::to_string_pretty(&crate::columns::table_schema()).unwrap_or_default() + "\n"
        }
        ColumnsFormat::Json => {
            let list: Vec<_> = COLUMNS
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "name": c.name,
                        "group": c.group.name(),
                        "type": c.rule.type_name(),
                        "list": c.is_list(),
                        "required_in_group": c.is_required(),
                        "secret": c.is_secret(),
                        "multiline": c.is_multiline(),
                        "exported": c.is_exported(),
                        "unset_on_update": c.is_unsettable(),
                        "rule": c.rule.describe(),
                        "pattern": c.rule.pattern(),
                        "default": c.rule.default_text(),
                        "description": c.doc,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"
        }
    };
    super::stdout(text.as_bytes())?;
    Ok(0)
}

/// The column reference as a Markdown table (the README embeds it; a test keeps it in sync).
pub fn markdown() -> String {
    let mut s = String::from("| column | group | type | rule | notes |\n|---|---|---|---|---|\n");
    for c in COLUMNS {
        let mut notes = vec![c.doc.replace('|', "\\|")];
        if c.is_list() {
            notes.push("`;`-list".into());
        }
        if c.is_multiline() {
            notes.push("may hold line breaks".into());
        }
        if c.is_secret() {
            notes.push("secret: never echoed".into());
        }
        if !c.is_exported() {
            notes.push("never exported".into());
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            c.name,
            c.group.name(),
            c.rule.type_name(),
            c.rule.describe().replace('|', "\\|"),
            notes.join("; ")
        );
    }
    s
}
