//! Integers as cells write them: ASCII digits only, digits too many for 64 bits told apart
//! from other text.

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
    use super::super::tests::code;
    use super::*;
    use crate::columns::Col;

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
}
