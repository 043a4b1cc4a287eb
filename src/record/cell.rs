//! One cell checked against its column's rule: the typed value, or the row error saying why
//! not. Messages never echo the value of a secret column.

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
                bad("too_long", format!("{name} is {n} characters long; at most {max} are allowed"))
            } else if n < min {
                bad("too_short", format!("{name} is {n} characters long; at least {min} are needed"))
            } else {
                Ok(Value::Text(text.to_string()))
            }
        }
        Rule::Name { max } => {
            if text.chars().count() > max {
                bad("too_long", format!("{name} is longer than {max} characters"))
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
                bad("too_long", format!("{name} is longer than {max} characters"))
            } else if !text.validate_email() {
                bad("invalid", format!("{name} {} is not a valid e-mail address", shown(col, text)))
            } else {
                Ok(Value::Text(text.to_string()))
            }
        }
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
                    format!("{name} {} is not a language like en_US or fr_FR", shown(col, text)),
                )
            }
        }
        Rule::Bool { .. } => match text {
            "0" => Ok(Value::Bool(false)),
            "1" => Ok(Value::Bool(true)),
            _ => bad("not_bool", format!("{name} must be 0 or 1, not {}", shown(col, text))),
        },
        Rule::Int { min, max, step, .. } => {
            let n = parse_int(text).ok_or_else(|| {
                RowError::new(
                    col,
                    "not_int",
                    format!("{name} must be a whole number written with digits only, not {}", shown(col, text)),
                )
            })?;
            if !(min..=max).contains(&n) {
                bad("out_of_range", format!("{name} must be from {min} to {max}, not {n}"))
            } else if n % step != 0 {
                bad(
                    &format!("not_multiple_of_{step}"),
                    format!("{name} must be a multiple of {step}, not {n}"),
                )
            } else {
                Ok(Value::Int(n))
            }
        }
        Rule::EntityId => parse_int(text).map(Value::Int).ok_or_else(|| {
            RowError::new(
                col,
                "not_int",
                format!("{name} must be an entity id (digits), not {}", shown(col, text)),
            )
        }),
        Rule::OneOf(words) => {
            if words.contains(&text) {
                Ok(Value::Text(text.to_string()))
            } else {
                bad(
                    "invalid",
                    format!("{name} must be one of {}, not {}", words.join(", "), shown(col, text)),
                )
            }
        }
        Rule::Uuid => match uuid::Uuid::try_parse(text) {
            Ok(u) => Ok(Value::Text(u.hyphenated().to_string())),
            Err(_) => bad("invalid", format!("{name} {} is not a UUID", shown(col, text))),
        },
        Rule::PhcHash => match argon2::PasswordHash::new(text) {
            Ok(h) if h.algorithm.as_str() == "argon2id" && h.hash.is_some() => {
                Ok(Value::Text(text.to_string()))
            }
            _ => bad(
                "invalid",
                format!("{name} must be a PHC-format argon2id hash ($argon2id$v=19$...); the value is not shown"),
            ),
        },
    }
}

/// Parses ASCII digits only (no sign, no spaces) into an integer.
pub fn parse_int(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
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
    fn lists_check_each_item() {
        assert_eq!(
            check(Col::IncallExten, "2001;2002"),
            Ok(Value::List(vec!["2001".into(), "2002".into()]))
        );
        assert_eq!(code(Col::IncallExten, "2001;20a2"), "incall_exten.invalid");
    }
}
