//! The user, its login and its CTI client profile.

use super::{Fields, Value};
use crate::columns::{Col, Group};
use crate::error::RowError;
use argon2::password_hash::{rand_core::OsRng, rand_core::RngCore, SaltString};

/// A user: its key, entity and plain fields (see [`super::user_fields`]).
#[derive(Clone, Debug)]
pub struct User {
    /// The UUID given in the file, if any.
    pub uuid: Option<String>,
    /// The entity given in the file, if any.
    pub entity_id: Option<i64>,
    /// The plain fields, aligned with [`super::user_fields`]; `None`: the default.
    pub fields: Vec<Option<Value>>,
}

impl User {
    /// Builds the user; firstname is required.
    pub fn build(f: &mut Fields) -> User {
        if !f.filled(Col::Firstname) {
            f.push(RowError::new(
                Col::Firstname,
                "required",
                "firstname is required: every row creates a user",
            ));
        }
        User {
            uuid: f.text(Col::Uuid),
            entity_id: f.int(Col::EntityId),
            // The plain fields are this record's alone: no other group reads them.
            fields: super::user_fields().map(|c| f.take(c)).collect(),
        }
    }
}

impl User {
    /// The checked value of one of the plain fields.
    pub fn get(&self, col: Col) -> Option<&Value> {
        super::user_fields()
            .position(|c| c == col)
            .and_then(|i| self.fields[i].as_ref())
    }
}

/// Login credentials.
#[derive(Clone, Debug)]
pub struct Login {
    /// The login name.
    pub username: String,
    /// A plaintext password to hash (cleared once hashed).
    password: Option<String>,
    /// The argon2id PHC hash, given or computed.
    pub password_hash: Option<String>,
}

impl Login {
    /// Builds the login group: username is required once a password is given; password and
    /// password_hash exclude each other.
    pub fn build(f: &mut Fields) -> Option<Login> {
        if !f.group_filled(Group::Login) || !f.require(Group::Login) {
            return None;
        }
        if f.filled(Col::Password) && f.filled(Col::PasswordHash) {
            f.push(RowError::new(
                Col::PasswordHash,
                "exclusive",
                "give either password or password_hash, not both",
            ));
            return None;
        }
        Some(Login {
            username: f.take_text(Col::Username)?,
            password: f.take_text(Col::Password),
            password_hash: f.take_text(Col::PasswordHash),
        })
    }

    /// Replaces a plaintext password by its argon2id hash (the costly part of a row).
    pub fn hashed(mut self) -> Login {
        if let Some(password) = self.password.take() {
            self.password_hash = Some(hash_password(&password));
        }
        self
    }
}

thread_local! {
    /// Each thread's argon2 working memory (19 MiB with the default parameters), allocated
    /// once: a fresh allocation per hash costs more than the hash and fragments the heap.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> =
        std::cell::RefCell::new(vec![argon2::Block::default(); argon2::Params::DEFAULT.block_count()]);
}

/// Hashes a password with argon2id (default parameters) and a random salt, in PHC format.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    OsRng.fill_bytes(&mut salt);
    let params = argon2::Params::DEFAULT;
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    BLOCKS
        .with(|blocks| {
            argon2::Argon2::default().hash_password_into_with_memory(
                password.as_bytes(),
                &salt,
                &mut out,
                blocks.borrow_mut().as_mut_slice(),
            )
        })
        // Default parameters, a 16-byte salt and a 4..64 char password are always accepted.
        .unwrap_or_else(|e| unreachable!("argon2 hashing failed: {e}"));
    let salt = SaltString::encode_b64(&salt).unwrap_or_else(|e| unreachable!("salt: {e}"));
    let out = argon2::password_hash::Output::new(&out).unwrap_or_else(|e| unreachable!("{e}"));
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        out
    )
}

/// A CTI client profile assignment.
#[derive(Clone, Debug)]
pub struct Cti {
    /// Whether the profile is enabled.
    pub enabled: bool,
    /// The profile's name.
    pub name: Option<String>,
}

impl Cti {
    /// Builds the CTI group: when enabled, a login (username and a password) and a profile
    /// name are required.
    pub fn build(f: &mut Fields) -> Option<Cti> {
        if !f.group_filled(Group::Cti) {
            return None;
        }
        let enabled = f.bool(Col::CtiProfileEnabled).unwrap_or(false);
        if enabled {
            let mut missing = Vec::new();
            if !f.filled(Col::CtiProfileName) {
                missing.push(Col::CtiProfileName);
            }
            if !f.filled(Col::Username) {
                missing.push(Col::Username);
            }
            if !f.filled(Col::Password) && !f.filled(Col::PasswordHash) {
                missing.push(Col::Password);
            }
            for m in &missing {
                f.push(RowError::with_code(
                    Some(m.name()),
                    "cti_profile.incomplete",
                    format!(
                        "{} is required when {} is 1",
                        m.name(),
                        Col::CtiProfileEnabled.name()
                    ),
                ));
            }
            if !missing.is_empty() {
                return None;
            }
        }
        Some(Cti {
            enabled,
            name: f.take_text(Col::CtiProfileName),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hashes_are_phc_argon2id_that_verify_and_are_salted() {
        let a = hash_password("correct horse");
        let b = hash_password("correct horse");
        assert_ne!(a, b, "a fresh salt each time");
        let parsed = PasswordHash::new(&a).expect("PHC format");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let argon = argon2::Argon2::default();
        assert!(argon.verify_password(b"correct horse", &parsed).is_ok());
        assert!(argon.verify_password(b"wrong horse", &parsed).is_err());
    }
}
