//! A cell free of forbidden control characters checked against its column's [`Rule`]: each
//! kind of rule, and a list's items one by one.

use super::int::{parse_int, IntError};
use super::phc::check_phc;
use super::{shown, Value};
use crate::columns::{Col, Rule};
use crate::error::RowError;
use validator::ValidateEmail;

/// Checks a cell free of forbidden control characters against its column's rule.
pub(super) fn check_rule(col: Col, text: &str) -> Result<Value, RowError> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::code;
    use super::super::{check, Value};
    use crate::columns::Col;

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
    fn lists_check_each_item() {
        assert_eq!(
            check(Col::IncallExten, "2001;2002"),
            Ok(Value::List(vec!["2001".into(), "2002".into()]))
        );
        assert_eq!(code(Col::IncallExten, "2001;20a2"), "incall_exten.invalid");
    }
}
