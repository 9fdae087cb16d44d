//! Password hashing (Argon2id) and password strength rules.
//!
//! # Parameters
//!
//! Hashes use **Argon2id, version 0x13, m = 19456 KiB (19 MiB), t = 2
//! passes, p = 1 lane, 32-byte output, 16-byte random salt** — the first
//! configuration in the OWASP Password Storage Cheat Sheet. One hash or
//! verification costs about 19 MiB of memory and tens of milliseconds of
//! one core in a release build. The parameters are stored inside each PHC
//! string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), so [`verify`]
//! keeps working for hashes made with older parameters; [`needs_rehash`]
//! tells the caller to replace such a hash after a successful login.
//!
//! # Strength rules
//!
//! [`check_strength`] follows MLPS (GB/T 22239) composition rules rather than
//! ASVS's length-only rule (deviation recorded in the design notes):
//! at least [`MIN_CHARS`] characters, at least three of four character
//! classes, and not one of a short list of commonly used passwords.

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use rand::RngCore;

use crate::AuthError;

/// Argon2 memory cost in KiB (19 MiB).
pub const M_COST_KIB: u32 = 19_456;
/// Argon2 passes over memory.
pub const T_COST: u32 = 2;
/// Argon2 lanes (degree of parallelism).
pub const P_COST: u32 = 1;
/// Length of the stored hash output in bytes.
pub const OUTPUT_LEN: usize = 32;
/// Length of the random salt in bytes.
pub const SALT_LEN: usize = 16;

/// Fewest characters (Unicode scalar values, so one Chinese character counts
/// as one) a new password must have.
pub const MIN_CHARS: usize = 10;
/// How many of the four classes (lower case, upper case, digit, other) a
/// new password must contain.
pub const MIN_CLASSES: u8 = 3;

/// A PHC string with exactly the parameters above (a test checks that) and
/// an all-zero salt and output, which no password produces. [`dummy_verify`]
/// runs the full Argon2id computation against it.
const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// Builds the Argon2id hasher with the parameters documented above.
fn hasher() -> Result<Argon2<'static>, AuthError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_LEN))
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with Argon2id and a fresh random salt; returns the PHC
/// string to store (about 97 ASCII characters).
///
/// # Errors
/// [`AuthError::Hash`] if the Argon2 library rejects the input (it does not
/// for any password shorter than 4 GiB).
pub fn hash(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    let phc = hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Ok(phc.to_string())
}

/// Checks `password` against a stored PHC string.
///
/// The hash comparison is constant-time (done by the `password-hash`
/// crate). Returns `false` for a wrong password and also for a PHC string
/// that does not parse or names another algorithm (bcrypt, PBKDF2, scrypt).
#[must_use]
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(argon2) = hasher() else {
        return false;
    };
    argon2.verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Spends the same time and memory as a [`verify`] of a real stored hash,
/// and grants nothing.
///
/// Call it when the user name is unknown (or the account has no password),
/// then answer with the same generic error as for a wrong password, so the
/// response time does not reveal which user names exist (ASVS 6.3.8).
pub fn dummy_verify() {
    let matched = verify("卫东区 dummy: no account has this password", DUMMY_PHC);
    std::hint::black_box(matched);
}

/// Whether a stored hash was made with other parameters than the current
/// ones (or is not an Argon2id hash at all) and should be replaced by
/// [`hash`] of the password just verified.
#[must_use]
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || parsed.version != Some(0x13)
        || params.m_cost() != M_COST_KIB
        || params.t_cost() != T_COST
        || params.p_cost() != P_COST
        || params.output_len() != Some(OUTPUT_LEN)
}

/// Why a new password was refused by [`check_strength`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Weak {
    /// Fewer than [`MIN_CHARS`] characters (the empty password included).
    TooShort {
        /// Characters given.
        chars: usize,
    },
    /// Fewer than [`MIN_CLASSES`] of: lower case, upper case, digit, other.
    TooFewClasses {
        /// Classes found.
        classes: u8,
    },
    /// On the list of commonly used passwords (compared ignoring case).
    Common,
}

impl Weak {
    /// The reason in Simplified Chinese, for the person choosing the password.
    #[must_use]
    pub fn zh(&self) -> String {
        match self {
            Self::TooShort { chars } => {
                format!("密码太短：至少需要 {MIN_CHARS} 个字符，当前 {chars} 个。")
            }
            Self::TooFewClasses { classes } => format!(
                "密码过于简单：小写字母、大写字母、数字、其他符号四类中至少包含 {MIN_CLASSES} 类，当前 {classes} 类。"
            ),
            Self::Common => "该密码属于常用密码，容易被猜中，请换一个。".to_owned(),
        }
    }

    /// The reason in English.
    #[must_use]
    pub fn en(&self) -> String {
        match self {
            Self::TooShort { chars } => format!(
                "Password too short: at least {MIN_CHARS} characters are required, {chars} given."
            ),
            Self::TooFewClasses { classes } => format!(
                "Password too simple: use at least {MIN_CLASSES} of lower case, upper case, digits and other characters ({classes} used)."
            ),
            Self::Common => {
                "This is a commonly used password and easy to guess; choose another.".to_owned()
            }
        }
    }
}

impl std::fmt::Display for Weak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.zh(), self.en())
    }
}

impl std::error::Error for Weak {}

/// Commonly used passwords that satisfy the length and class rules (or
/// nearly do), compared ignoring case. Kept short on purpose: it catches
/// the habitual choices of Chinese office systems, not a cracking list.
const COMMON: &[&str] = &[
    "12345678aA!",
    "123456789Aa",
    "123456Aa",
    "Aa123456789",
    "Aa@123456789",
    "Abc@1234567",
    "Abcd@123456",
    "Admin@123",
    "Admin@12345",
    "Admin123456",
    "Admin@2024",
    "Admin@2025",
    "Admin@2026",
    "Password123",
    "Password@123",
    "P@ssw0rd123",
    "P@ssword123",
    "Passw0rd!23",
    "Qwerty@123",
    "Qq123456789",
    "Welcome@123",
    "Woaini@1314",
    "Woaini1314!",
    "Zxcvbnm@123",
    "1qaz@WSX3edc",
    "1qaz2wsx#EDC",
    "Huawei@123",
    "Root@123456",
    "Weidong@123",
];

/// Counts the character classes present: lower case, upper case, ASCII
/// digit, other (punctuation, spaces, Chinese characters…).
fn classes(password: &str) -> u8 {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in password.chars() {
        if c.is_ascii_digit() {
            digit = true;
        } else if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else {
            other = true;
        }
    }
    [lower, upper, digit, other].into_iter().map(u8::from).sum()
}

/// Decides whether a new password may be set.
///
/// # Errors
/// The first rule broken, in the order: length, classes, common list.
pub fn check_strength(password: &str) -> Result<(), Weak> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(Weak::TooShort { chars });
    }
    let classes = classes(password);
    if classes < MIN_CLASSES {
        return Err(Weak::TooFewClasses { classes });
    }
    if COMMON.iter().any(|c| c.eq_ignore_ascii_case(password)) {
        return Err(Weak::Common);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify_accepts_only_the_same_password() {
        let phc = hash("Rixin-卫东 2024!").unwrap();
        assert!(verify("Rixin-卫东 2024!", &phc));
        assert!(!verify("Rixin-卫东 2024?", &phc));
        assert!(!verify("", &phc));
    }

    #[test]
    fn hash_is_argon2id_with_documented_params_and_fresh_salt() {
        let a = hash("same password").unwrap();
        let b = hash("same password").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "two hashes of one password must differ by salt");
        assert!(!needs_rehash(&a));
    }

    #[test]
    fn empty_password_hashes_and_verifies_only_itself() {
        let phc = hash("").unwrap();
        assert!(verify("", &phc));
        assert!(!verify(" ", &phc));
    }

    #[test]
    fn malformed_or_foreign_phc_strings_never_verify() {
        let pw = "password";
        for phc in [
            "",
            "not a hash",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$!!!",
            // bcrypt is not PHC at all.
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            // PBKDF2 and scrypt are well-formed PHC strings of other algorithms.
            "$pbkdf2-sha256$i=600000$c2FsdHNhbHRzYWx0$Y3VoYnZ0d3V1eWJ2dHd1dXlidnR3dXV5YnZ0d3V1eWI",
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
        ] {
            assert!(!verify(pw, phc), "{phc:?} must not verify");
            assert!(needs_rehash(phc), "{phc:?} must be replaced");
        }
    }

    #[test]
    fn hashes_with_older_params_still_verify_but_need_rehash() {
        let params = Params::new(8 * 1024, 1, 1, Some(OUTPUT_LEN)).unwrap();
        let old = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_with_salt(b"old account", &[7u8; SALT_LEN])
            .unwrap()
            .to_string();
        assert!(verify("old account", &old));
        assert!(needs_rehash(&old));
    }

    #[test]
    fn dummy_hash_costs_exactly_what_a_real_hash_costs() {
        let parsed = PasswordHash::new(DUMMY_PHC).unwrap();
        let params = Params::try_from(&parsed).unwrap();
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert_eq!(parsed.version, Some(0x13));
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (M_COST_KIB, T_COST, P_COST)
        );
        assert_eq!(params.output_len(), Some(OUTPUT_LEN));
        assert_eq!(parsed.salt.map(|s| s.len()), Some(SALT_LEN));
        assert!(!needs_rehash(DUMMY_PHC));
        dummy_verify();
    }

    #[test]
    fn strong_passwords_pass() {
        for pw in [
            "Kq7#mPz2vL",
            "correct horse Battery",
            "卫东区政务服务Ab9",
            "zhangsan-2024-Q",
        ] {
            assert_eq!(check_strength(pw), Ok(()), "{pw}");
        }
    }

    #[test]
    fn short_passwords_are_refused_with_their_length() {
        assert_eq!(check_strength(""), Err(Weak::TooShort { chars: 0 }));
        assert_eq!(
            check_strength("Ab1!Ab1!a"),
            Err(Weak::TooShort { chars: 9 })
        );
        // Length counts characters, not bytes: 9 Chinese characters are 27 bytes.
        assert_eq!(
            check_strength("卫东区政务服务大厅"),
            Err(Weak::TooShort { chars: 9 })
        );
    }

    #[test]
    fn passwords_with_two_classes_are_refused() {
        assert_eq!(
            check_strength("abcdefghij12"),
            Err(Weak::TooFewClasses { classes: 2 })
        );
        assert_eq!(
            check_strength("aaaaaaaaaa"),
            Err(Weak::TooFewClasses { classes: 1 })
        );
        assert_eq!(
            check_strength("1234567890"),
            Err(Weak::TooFewClasses { classes: 1 })
        );
    }

    #[test]
    fn common_passwords_are_refused_ignoring_case() {
        for pw in [
            "12345678aA!",
            "Password123",
            "pASSWORD123",
            "Admin@12345",
            "Welcome@123",
        ] {
            assert_eq!(check_strength(pw), Err(Weak::Common), "{pw}");
        }
        // The short ones on the list are already refused for length.
        assert!(matches!(
            check_strength("Admin@123"),
            Err(Weak::TooShort { .. })
        ));
        assert!(matches!(
            check_strength("123456Aa"),
            Err(Weak::TooShort { .. })
        ));
    }

    #[test]
    fn reasons_are_given_in_chinese_and_english() {
        let weak = check_strength("abc").unwrap_err();
        assert!(weak.zh().contains("至少需要 10 个字符"), "{}", weak.zh());
        assert!(
            weak.en().contains("at least 10 characters"),
            "{}",
            weak.en()
        );
        let shown = weak.to_string();
        assert!(shown.starts_with("密码太短") && shown.contains(" / Password too short"));
        assert!(Weak::Common.zh().contains("常用密码"));
        assert!(Weak::TooFewClasses { classes: 2 }.en().contains("(2 used)"));
    }
}
