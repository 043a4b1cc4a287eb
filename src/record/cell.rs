//! One cell checked against its column's rule: the typed value, or the row error saying why
//! not. Messages never echo the value of a secret column.
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

use crate::columns::{Col, Rule};
use crate::error::RowError;
use validator::ValidateEmail;

/// A checked cell value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Text, kept as written.
    Text(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A `;`-list of texts, each checked against the rule.
    List(Vec<String>),
}

impl Value {
    /// The text, for text values.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// Shows a value in a message, unless the column is a secret.
pub fn shown(col: Col, value: &str) -> String {
    if col.def().is_secret() {
        "(value not shown)".to_string()
    } else {
        format!("'{value}'")
    }
}

/// Checks one non-empty cell against the rule of its column.
pub fn check(col: Col, text: &str) -> Result<Value, RowError> {
    check_warn(col, text).0
}

/// Checks one non-empty cell, with the warning its text deserves (a bidirectional control).
pub fn check_warn(col: Col, text: &str) -> (Result<Value, RowError>, Option<RowError>) {
    let found = scan(text, col.def().is_multiline());
    let warning = found.bidi.map(|at| bidi_warning_at(col, text, at));
    match found.control {
        Some(at) => (Err(control_error(col, text, at)), warning),
        None => (check_rule(col, text), warning),
    }
}

/// The warning a cell deserves for a bidirectional control, if it holds one.
pub fn bidi_warning(col: Col, text: &str) -> Option<RowError> {
    scan(text, col.def().is_multiline())
        .bidi
        .map(|at| bidi_warning_at(col, text, at))
}

/// A character found in a cell: its byte offset and itself.
type Found = (usize, char);

/// What [`scan`] found: the first forbidden control character, and the first bidirectional
/// control before it.
struct Scan {
    control: Option<Found>,
    bidi: Option<Found>,
}

/// Finds the control characters of a cell in one pass over its bytes. Only the bytes that can
/// start one are looked at closely: ASCII controls (`< 0x20`, `0x7F`) and `0xE2` (the lead
/// byte of U+2000–U+2FFF, where the bidirectional controls are); everything else is skipped
/// at the cost of a comparison, so the scan is cheap next to the rule checks.
fn scan(text: &str, multiline: bool) -> Scan {
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

fn control_error(col: Col, text: &str, (at, c): Found) -> RowError {
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

fn bidi_warning_at(col: Col, text: &str, (at, c): Found) -> RowError {
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

/// Checks a cell free of forbidden control characters against its column's rule.
/// A stored value as the checks would have made it, without checking it again: it passed
/// its column's rule when it was written. A boolean or integer that does not read as one (a
/// database changed by hand) is checked after all, so that it is reported, not guessed.
pub fn stored(col: Col, text: &str) -> Result<Value, RowError> {
    let def = col.def();
    if def.is_list() {
        return Ok(Value::List(text.split(';').map(str::to_string).collect()));
    }
    match (def.rule, text) {
        (Rule::Bool { .. }, "0") => Ok(Value::Bool(false)),
        (Rule::Bool { .. }, "1") => Ok(Value::Bool(true)),
        (Rule::Bool { .. }, _) => check_rule(col, text),
        (Rule::Int { .. } | Rule::EntityId, _) => match text.parse() {
            Ok(n) => Ok(Value::Int(n)),
            Err(_) => check_rule(col, text),
        },
        _ => Ok(Value::Text(text.to_string())),
    }
}

fn check_rule(col: Col, text: &str) -> Result<Value, RowError> {
    let def = col.def();
    if def.is_list() {
        let items: Vec<&str> = text.split(';').collect();
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // An empty item is a null in the list (e.g. a ring time not set).
            if item.is_empty() {
                out.push(String::new());
                continue;
            }
            match check_one(col, &def.rule, item)? {
                Value::Text(s) => out.push(s),
                Value::Int(i) => out.push(i.to_string()),
                Value::Bool(b) => out.push(u8::from(b).to_string()),
                Value::List(_) => unreachable!("rules check single values"),
            }
        }
        return Ok(Value::List(out));
    }
    check_one(col, &def.rule, text)
}

fn check_one(col: Col, rule: &Rule, text: &str) -> Result<Value, RowError> {
    let name = col.name();
    let bad = |kind: &str, why: String| Err(RowError::new(col, kind, why));
    match *rule {
        Rule::Text { min, max } => {
            let n = text.chars().count();
            if n > max {
                bad(
                    "too_long",
                    format!("{name} is {n} characters long; at most {max} are allowed"),
                )
            } else if n < min {
                bad(
                    "too_short",
                    format!("{name} is {n} characters long; at least {min} are needed"),
                )
            } else {
                Ok(Value::Text(text.to_string()))
            }
        }
        Rule::Name { max } => {
            if text.chars().count() > max {
                bad(
                    "too_long",
                    format!("{name} is longer than {max} characters"),
                )
            } else {
                Ok(Value::Text(text.to_string()))
            }
        }
        Rule::Chars {
            class,
            min,
            max,
            plus,
        } => {
            let body = if plus {
                text.strip_prefix('+').unwrap_or(text)
            } else {
                text
            };
            let n = body.chars().count();
            if body.chars().all(|c| class.contains(c)) && (min..=max).contains(&n) {
                Ok(Value::Text(text.to_string()))
            } else {
                bad(
                    "invalid",
                    format!(
                        "{name} {} does not match {}",
                        shown(col, text),
                        rule.pattern().unwrap_or_default()
                    ),
                )
            }
        }
        Rule::Email { max } => {
            if text.chars().count() > max {
                bad(
                    "too_long",
                    format!("{name} is longer than {max} characters"),
                )
            } else if !text.validate_email() {
                bad(
                    "invalid",
                    format!("{name} {} is not a valid e-mail address", shown(col, text)),
                )
            } else {
                Ok(Value::Text(text.to_string()))
            }
        }
        Rule::Timezone => match text.parse::<chrono_tz::Tz>() {
            Ok(_) => Ok(Value::Text(text.to_string())),
            Err(_) => bad(
                "invalid",
                format!(
                    "{name} {} is not an IANA time zone name like Europe/Paris",
                    shown(col, text)
                ),
            ),
        },
        Rule::Language => {
            let b = text.as_bytes();
            let ok = b.len() == 5
                && b[..2].iter().all(u8::is_ascii_lowercase)
                && b[2] == b'_'
                && b[3..].iter().all(u8::is_ascii_uppercase);
            if ok {
                Ok(Value::Text(text.to_string()))
            } else {
                bad(
                    "invalid",
                    format!(
                        "{name} {} is not a language like en_US or fr_FR",
                        shown(col, text)
                    ),
                )
            }
        }
        Rule::Bool { .. } => match text {
            "0" => Ok(Value::Bool(false)),
            "1" => Ok(Value::Bool(true)),
            _ => bad(
                "not_bool",
                format!("{name} must be 0 or 1, not {}", shown(col, text)),
            ),
        },
        Rule::Int { min, max, step, .. } => {
            let n = match parse_int(text) {
                Ok(n) => n,
                Err(IntError::NotDigits) => {
                    return bad(
                        "not_int",
                        format!(
                            "{name} must be a whole number written with digits only, not {}",
                            shown(col, text)
                        ),
                    )
                }
                // Too large for any integer is outside the column's range too.
                Err(IntError::TooLarge) => {
                    return bad(
                        "out_of_range",
                        format!(
                            "{name} must be from {min} to {max}, not {}",
                            shown(col, text)
                        ),
                    )
                }
            };
            if !(min..=max).contains(&n) {
                bad(
                    "out_of_range",
                    format!("{name} must be from {min} to {max}, not {n}"),
                )
            } else if n % step != 0 {
                bad(
                    &format!("not_multiple_of_{step}"),
                    format!("{name} must be a multiple of {step}, not {n}"),
                )
            } else {
                Ok(Value::Int(n))
            }
        }
        Rule::EntityId => match parse_int(text) {
            Ok(n) => Ok(Value::Int(n)),
            Err(IntError::NotDigits) => bad(
                "not_int",
                format!(
                    "{name} must be an entity id (digits), not {}",
                    shown(col, text)
                ),
            ),
            // No entity has an id that large: the same error as for any id that names none.
            Err(IntError::TooLarge) => bad("unknown", format!("entity {text} does not exist")),
        },
        Rule::OneOf(words) => {
            if words.contains(&text) {
                Ok(Value::Text(text.to_string()))
            } else {
                bad(
                    "invalid",
                    format!(
                        "{name} must be one of {}, not {}",
                        words.join(", "),
                        shown(col, text)
                    ),
                )
            }
        }
        Rule::Uuid => match uuid::Uuid::try_parse(text) {
            Ok(u) => Ok(Value::Text(u.hyphenated().to_string())),
            Err(_) => bad(
                "invalid",
                format!("{name} {} is not a UUID", shown(col, text)),
            ),
        },
        Rule::PhcHash {
            max_m,
            max_t,
            max_p,
            max_work,
        } => check_phc(col, text, max_m, max_t, max_p, max_work),
    }
}

/// Checks a PHC-format argon2id hash and its cost parameters (see [`Rule::PhcHash`]). The
/// parameters are read and bounded here before the argon2 crate sees them: its own checks
/// accept up to 4 TiB of memory and 2³² passes.
fn check_phc(
    col: Col,
    text: &str,
    max_m: u32,
    max_t: u32,
    max_p: u32,
    max_work: u64,
) -> Result<Value, RowError> {
    let name = col.name();
    let invalid = || {
        RowError::new(
            col,
            "invalid",
            format!("{name} must be a PHC-format argon2id hash ($argon2id$v=19$...); the value is not shown"),
        )
    };
    let hash = match argon2::PasswordHash::new(text) {
        Ok(h) if h.algorithm.as_str() == "argon2id" && h.hash.is_some() => h,
        _ => return Err(invalid()),
    };
    // argon2 knows versions 16 and 19; a hash of another can never be checked.
    if let Some(v) = hash.version {
        if argon2::Version::try_from(v).is_err() {
            return Err(invalid());
        }
    }
    // A parameter left out takes argon2's default; one too large for any integer is
    // beyond every bound.
    let param = |key: &str, default: u32| -> Result<u64, RowError> {
        match hash.params.get_str(key) {
            None => Ok(u64::from(default)),
            Some(v) => match parse_int(v) {
                Ok(n) => Ok(n.unsigned_abs()),
                Err(IntError::TooLarge) => Ok(u64::MAX),
                Err(IntError::NotDigits) => Err(invalid()),
            },
        }
    };
    let m = param("m", argon2::Params::DEFAULT_M_COST)?;
    let t = param("t", argon2::Params::DEFAULT_T_COST)?;
    let p = param("p", argon2::Params::DEFAULT_P_COST)?;
    let cost = |why: String| {
        Err(RowError::new(
            col,
            "cost",
            format!("{name} {why}; the value is not shown"),
        ))
    };
    // The maxima first: they are what a hostile hash breaks, and with them checked the
    // products below cannot overflow.
    if m > u64::from(max_m) {
        return cost(format!("must use at most {max_m} KiB of memory (m)"));
    }
    if t > u64::from(max_t) {
        return cost(format!("must make at most {max_t} passes (t)"));
    }
    if p > u64::from(max_p) {
        return cost(format!("must have at most {max_p} lanes (p)"));
    }
    if m * t > max_work {
        return cost(format!(
            "must cost at most {max_work} KiB passes over memory (m × t)"
        ));
    }
    // The minima argon2 itself requires.
    if t < 1 || p < 1 {
        return cost("must make at least 1 pass (t) with at least 1 lane (p)".into());
    }
    if m < 8 * p {
        return cost("must use at least 8 KiB of memory per lane (m ≥ 8 × p)".into());
    }
    // Within the bounds, argon2 itself has the last word (output length, keyid, data,
    // unknown parameters).
    match argon2::Params::try_from(&hash) {
        Ok(_) => Ok(Value::Text(text.to_string())),
        Err(_) => Err(invalid()),
    }
}

/// Why a cell is not an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntError {
    /// Empty, or something else than ASCII digits.
    NotDigits,
    /// Digits only, but too many for a 64-bit integer.
    TooLarge,
}

/// Parses ASCII digits only (no sign, no spaces) into an integer. Digits that overflow are
/// told apart from other text, so that a huge number is reported out of range, not as
/// "digits only".
pub fn parse_int(text: &str) -> Result<i64, IntError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IntError::NotDigits);
    }
    // Digits only: parsing fails on overflow alone.
    text.parse().map_err(|_| IntError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(col: Col, text: &str) -> String {
        check(col, text).unwrap_err().code
    }

    #[test]
    fn ints_are_ascii_digits_in_range() {
        assert_eq!(check(Col::RingSeconds, "30"), Ok(Value::Int(30)));
        assert_eq!(
            code(Col::RingSeconds, "31"),
            "ring_seconds.not_multiple_of_5"
        );
        assert_eq!(code(Col::RingSeconds, "10805"), "ring_seconds.out_of_range");
        assert_eq!(code(Col::RingSeconds, "+30"), "ring_seconds.not_int");
        assert_eq!(code(Col::RingSeconds, " 30"), "ring_seconds.not_int");
        assert_eq!(
            code(Col::SimultaneousCalls, "0"),
            "simultaneous_calls.out_of_range"
        );
    }

    #[test]
    fn text_patterns() {
        assert!(check(Col::MobilePhoneNumber, "+33612*#").is_ok());
        assert_eq!(
            code(Col::MobilePhoneNumber, "06 12"),
            "mobile_phone_number.invalid"
        );
        assert_eq!(code(Col::Language, "en_us"), "language.invalid");
        assert!(check(Col::Language, "pt_BR").is_ok());
        assert_eq!(code(Col::Username, "a"), "username.invalid");
        assert_eq!(code(Col::Email, "not-an-email"), "email.invalid");
        assert_eq!(code(Col::Firstname, &"x".repeat(129)), "firstname.too_long");
        assert_eq!(code(Col::Password, "abc"), "password.too_short");
    }

    #[test]
    fn secret_values_are_not_echoed() {
        let e = check(Col::CallPermissionPassword, "hunter2x").unwrap_err();
        assert!(!e.message.contains("hunter2x"), "{}", e.message);
        let e = check(Col::PasswordHash, "plainpassword").unwrap_err();
        assert!(!e.message.contains("plainpassword"), "{}", e.message);
    }

    #[test]
    fn digits_that_overflow_are_too_large_not_other_text() {
        assert_eq!(parse_int("0000000000000000000042"), Ok(42));
        assert_eq!(parse_int("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_int("9223372036854775808"), Err(IntError::TooLarge));
        assert_eq!(parse_int("+1"), Err(IntError::NotDigits));
        assert_eq!(parse_int(""), Err(IntError::NotDigits));
        assert_eq!(
            code(Col::RingSeconds, "99999999999999999999"),
            "ring_seconds.out_of_range"
        );
        assert_eq!(
            code(Col::EntityId, "99999999999999999999"),
            "entity_id.unknown"
        );
    }

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

    #[test]
    fn password_hash_cost_is_bounded() {
        let phc = |params: &str| format!("$argon2id$v=19${params}$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo");
        for ok in [
            "m=19456,t=2,p=1",
            "m=1048576,t=4,p=16",
            "m=8,t=1,p=1",
            "t=2",
        ] {
            assert!(check(Col::PasswordHash, &phc(ok)).is_ok(), "{ok}");
        }
        for cost in [
            "m=4294967295,t=4294967295,p=1",
            "m=1048577,t=1,p=1",
            "m=65536,t=17,p=1",
            "m=65536,t=1,p=17",
            "m=1048576,t=5,p=1",
            "m=15,t=1,p=2",
            "m=65536,t=0,p=1",
            "m=99999999999999999999",
        ] {
            assert_eq!(
                code(Col::PasswordHash, &phc(cost)),
                "password_hash.cost",
                "{cost}"
            );
        }
        for invalid in ["m=x,t=1,p=1", "m=65536,t=1,p=1,y=2"] {
            assert_eq!(
                code(Col::PasswordHash, &phc(invalid)),
                "password_hash.invalid",
                "{invalid}"
            );
        }
        let v20 = "$argon2id$v=20$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
        assert_eq!(code(Col::PasswordHash, v20), "password_hash.invalid");
    }

    #[test]
    fn lists_check_each_item() {
        assert_eq!(
            check(Col::IncallExten, "2001;2002"),
            Ok(Value::List(vec!["2001".into(), "2002".into()]))
        );
        assert_eq!(code(Col::IncallExten, "2001;20a2"), "incall_exten.invalid");
    }
}
