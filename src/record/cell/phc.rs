//! The PHC-format argon2id hash of a password hash column: its form, and its cost bounded
//! before the argon2 crate reads it.

use super::int::{parse_int, IntError};
use super::Value;
use crate::columns::Col;
use crate::error::RowError;

/// Checks a PHC-format argon2id hash and its cost parameters (see
/// [`Rule::PhcHash`](crate::columns::Rule::PhcHash)). The parameters are read and bounded
/// here before the argon2 crate sees them: its own checks accept up to 4 TiB of memory and
/// 2³² passes.
pub(super) fn check_phc(
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

#[cfg(test)]
mod tests {
    use super::super::check;
    use super::super::tests::code;
    use crate::columns::Col;

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
}
