//! Security building blocks for staff login on the Weidong District
//! (卫东区) platform backend.
//!
//! Everything here is a pure function or plain data: the caller (the
//! backend) owns the clock, the database and the HTTP layer, so every
//! decision can be tested with injected times.
//!
//! - [`password`]: Argon2id hashes in PHC format, verification, a dummy
//!   verification for unknown user names, and strength rules.
//! - [`totp`]: RFC 6238 one-time codes (second factor) with replay refusal.
//! - [`lockout`]: progressive delays and a time-limited lock after failed logins.
//! - [`session`]: random session tokens (only their SM3 digest is stored) and
//!   idle/absolute timeouts.
//! - [`csrf`]: CSRF tokens derived from the session token.

pub mod csrf;
mod error;
pub mod lockout;
pub mod password;
pub mod session;
pub mod totp;

pub use error::AuthError;

/// Compares two byte strings in time that depends only on their lengths,
/// not on where they differ.
///
/// Returns `false` at once when the lengths differ (lengths of the values
/// compared here are public: hex digests and six-digit codes).
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equal_bytes_compare_equal() {
        assert!(constant_time_eq(b"abc123", b"abc123"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn any_difference_is_detected() {
        assert!(!constant_time_eq(b"abc123", b"abc124"));
        assert!(!constant_time_eq(b"xbc123", b"abc123"));
        assert!(!constant_time_eq(b"abc", b"abc123"));
        assert!(!constant_time_eq(b"abc123", b""));
    }
}
