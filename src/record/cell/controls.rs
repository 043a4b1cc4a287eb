//! The scan of a cell for the control characters no column may hold, and the error or
//! warning naming the one found.
//!
//! Before its rule, every cell is scanned for characters no column may hold: C0 controls
//! (U+0000–U+001F) but tab, and DEL (U+007F). They are invisible in a spreadsheet, and
//! downstream they do harm: a line break in a name or caller id splits a SIP header, ESC
//! drives the terminal that shows a log, NUL truncates the value in C code. Line breaks are
//! allowed in the columns the registry marks multi-line. C1 controls (U+0080–U+009F) are
//! kept: they are what a Windows-1252 file read as ISO-8859-15 holds, and such a file is
//! imported as the user asked. Bidirectional overrides and isolates (U+202A–U+202E,
//! U+2066–U+2069) only make text display in a misleading order, and have uses in
//! right-to-left names: they are a warning.

use crate::columns::Col;
use crate::error::RowError;

/// A character found in a cell: its byte offset and itself.
type Found = (usize, char);

/// What [`scan`] found: the first forbidden control character, and the first bidirectional
/// control before it.
pub(super) struct Scan {
    pub(super) control: Option<Found>,
    pub(super) bidi: Option<Found>,
}

/// Finds the control characters of a cell in one pass over its bytes. Only the bytes that can
/// start one are looked at closely: ASCII controls (`< 0x20`, `0x7F`) and `0xE2` (the lead
/// byte of U+2000–U+2FFF, where the bidirectional controls are); everything else is skipped
/// at the cost of a comparison, so the scan is cheap next to the rule checks.
pub(super) fn scan(text: &str, multiline: bool) -> Scan {
    let bytes = text.as_bytes();
    let mut bidi = None;
    let mut from = 0;
    while let Some(off) = bytes.get(from..).and_then(|rest| {
        rest.iter()
            .position(|&b| b < 0x20 || b == 0x7F || b == 0xE2)
    }) {
        let at = from + off;
        // The bytes looked for never continue a UTF-8 sequence, so `at` starts a character.
        let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        from = at + c.len_utf8();
        let allowed = c == '\t' || (multiline && (c == '\n' || c == '\r'));
        if (c < ' ' || c == '\u{7F}') && !allowed {
            return Scan {
                control: Some((at, c)),
                bidi,
            };
        }
        if bidi.is_none() && is_bidi_control(c) {
            bidi = Some((at, c));
        }
    }
    Scan {
        control: None,
        bidi,
    }
}

/// Whether `c` is a bidirectional embedding, override or isolate (not the marks LRM/RLM,
/// which change no order beyond their neighbours').
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A control character as people look it up: `U+001B (ESC)`.
fn escaped(c: char) -> String {
    const C0: [&str; 32] = [
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT", "FF",
        "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM",
        "SUB", "ESC", "FS", "GS", "RS", "US",
    ];
    let code = u32::from(c);
    let name = match code {
        0x00..=0x1F => C0.get(code as usize).copied(),
        0x7F => Some("DEL"),
        0x202A => Some("LRE"),
        0x202B => Some("RLE"),
        0x202C => Some("PDF"),
        0x202D => Some("LRO"),
        0x202E => Some("RLO"),
        0x2066 => Some("LRI"),
        0x2067 => Some("RLI"),
        0x2068 => Some("FSI"),
        0x2069 => Some("PDI"),
        _ => None,
    };
    match name {
        Some(n) => format!("U+{code:04X} ({n})"),
        None => format!("U+{code:04X}"),
    }
}

/// Where a character is, for a message: its 1-based position in characters. A secret
/// column's message gives no position (with the character, it would tell part of the value).
fn position(col: Col, text: &str, at: usize) -> String {
    if col.def().is_secret() {
        String::new()
    } else {
        let n = text.get(..at).map_or(0, |s| s.chars().count()) + 1;
        format!(" at position {n}")
    }
}

pub(super) fn control_error(col: Col, text: &str, (at, c): Found) -> RowError {
    let allowed = if col.def().is_multiline() {
        "tab and line breaks are"
    } else {
        "tab is"
    };
    RowError::new(
        col,
        "control_character",
        format!(
            "{} contains the control character {}{}; of the control characters only {allowed} allowed",
            col.name(),
            escaped(c),
            position(col, text, at),
        ),
    )
}

pub(super) fn bidi_warning_at(col: Col, text: &str, (at, c): Found) -> RowError {
    RowError::new(
        col,
        "bidi_control",
        format!(
            "{} contains the bidirectional control character {}{}: the text may display in \
             another order than it is stored; check that it is intended",
            col.name(),
            escaped(c),
            position(col, text, at),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::code;
    use super::super::{bidi_warning, check, check_warn};
    use crate::columns::Col;

    #[test]
    fn control_characters_are_refused_but_tab_and_multiline_breaks() {
        assert_eq!(
            code(Col::Firstname, "a\u{1b}b"),
            "firstname.control_character"
        );
        assert_eq!(code(Col::Firstname, "a\nb"), "firstname.control_character");
        assert_eq!(
            code(Col::Firstname, "a\u{7f}"),
            "firstname.control_character"
        );
        assert_eq!(
            code(Col::RingSeconds, "3\u{0}0"),
            "ring_seconds.control_character"
        );
        assert!(check(Col::Firstname, "a\tb").is_ok());
        assert!(check(Col::Userfield, "a\r\nb").is_ok());
        assert_eq!(
            code(Col::Userfield, "a\u{8}"),
            "userfield.control_character"
        );
        // C1 controls are what a legacy file read in a neighbouring encoding holds.
        assert!(check(Col::Firstname, "a\u{80}b").is_ok());
        let e = check(Col::Lastname, "éé\u{1b}").unwrap_err();
        assert!(
            e.message.contains("U+001B (ESC) at position 3"),
            "{}",
            e.message
        );
        let e = check(Col::SipSecret, "xy\u{7}zw").unwrap_err();
        assert!(e.message.contains("U+0007 (BEL)"), "{}", e.message);
        assert!(
            !e.message.contains("position") && !e.message.contains("xy"),
            "{}",
            e.message
        );
    }

    #[test]
    fn bidi_controls_are_a_warning() {
        let (value, warning) = check_warn(Col::Firstname, "ab\u{202e}c");
        assert!(value.is_ok());
        let w = warning.expect("a warning");
        assert_eq!(w.code, "firstname.bidi_control");
        assert!(
            w.message.contains("U+202E (RLO) at position 3"),
            "{}",
            w.message
        );
        assert_eq!(
            bidi_warning(Col::Lastname, "\u{2069}").map(|w| w.code),
            Some("lastname.bidi_control".into())
        );
        // Other characters of the same lead byte are plain text.
        assert!(check_warn(Col::Firstname, "“quoted” – ok…").1.is_none());
        assert!(bidi_warning(Col::Firstname, "\u{200f}").is_none());
    }
}
