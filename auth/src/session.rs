//! Session tokens and timeouts.
//!
//! The client gets 32 random bytes as 64 hex characters (in a cookie); the
//! server stores only the SM3 digest of that text, so a copy of the session
//! table does not let anyone act as a logged-in user. Timeouts follow
//! ASVS 7.3: an idle limit and an absolute limit, checked on every request.

use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sm3::{Digest, Sm3};

/// Random bytes in a session token.
pub const TOKEN_BYTES: usize = 32;

/// Makes a new session token. Returns `(token, digest)`: give `token` to
/// the client, store `digest` (= [`token_digest`] of it).
#[must_use]
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let digest = token_digest(&token);
    (token, digest)
}

/// The stored form of a token presented by a client: lower-case hex of
/// SM3 over the token's UTF-8 text. Look the session up by this value.
#[must_use]
pub fn token_digest(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

/// Session time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest time without a request (15 minutes for staff).
    pub idle: Duration,
    /// Longest time since login, whatever the activity (8 hours).
    pub absolute: Duration,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No request within the idle limit.
    Idle,
    /// The absolute limit since login was reached.
    Absolute,
}

impl Expiry {
    /// What to tell the user, in Simplified Chinese.
    #[must_use]
    pub fn zh(self) -> &'static str {
        match self {
            Self::Idle => "长时间未操作，已自动退出登录，请重新登录。",
            Self::Absolute => "登录时间已达上限，请重新登录。",
        }
    }

    /// What to tell the user, in English.
    #[must_use]
    pub fn en(self) -> &'static str {
        match self {
            Self::Idle => "You were signed out after a period of inactivity. Please sign in again.",
            Self::Absolute => "Your sign-in has reached its time limit. Please sign in again.",
        }
    }
}

impl Default for Timeouts {
    /// The staff limits: [`Timeouts::staff`].
    fn default() -> Self {
        Self::staff()
    }
}

impl Timeouts {
    /// Limits for clerk and administrator sessions: 15 minutes idle, 8 hours absolute.
    #[must_use]
    pub fn staff() -> Self {
        Self {
            idle: Duration::minutes(15),
            absolute: Duration::hours(8),
        }
    }

    /// Whether a session created at `created` and last used at `last_seen`
    /// has ended at `now`. A limit is reached when the elapsed time equals
    /// it; the absolute limit is reported when both are reached.
    #[must_use]
    pub fn expired(
        &self,
        created: DateTime<Utc>,
        last_seen: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<Expiry> {
        if now.signed_duration_since(created) >= self.absolute {
            Some(Expiry::Absolute)
        } else if now.signed_duration_since(last_seen) >= self.idle {
            Some(Expiry::Idle)
        } else {
            None
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn new_tokens_are_64_hex_chars_unique_and_digest_matches() {
        let (token, digest) = new_token();
        let (other, _) = new_token();
        assert_eq!(token.len(), 64);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(token, other);
        assert_eq!(digest, token_digest(&token));
        assert_ne!(digest, token, "the stored value must not be the token");
        assert_eq!(digest.len(), 64);
    }

    #[test]
    fn digest_is_sm3_of_the_token_text() {
        // GB/T 32905 example 1: SM3("abc").
        assert_eq!(
            token_digest("abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_ne!(token_digest("abc"), token_digest("ABC"));
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, h, m, s).unwrap()
    }

    #[test]
    fn active_session_stays_valid() {
        let t = Timeouts::default();
        assert_eq!(t, Timeouts::staff());
        assert_eq!(t.expired(at(8, 0, 0), at(9, 0, 0), at(9, 14, 59)), None);
    }

    #[test]
    fn idle_limit_ends_the_session_at_fifteen_minutes() {
        let t = Timeouts::staff();
        assert_eq!(
            t.expired(at(8, 0, 0), at(9, 0, 0), at(9, 15, 0)),
            Some(Expiry::Idle)
        );
    }

    #[test]
    fn absolute_limit_ends_even_an_active_session() {
        let t = Timeouts::staff();
        assert_eq!(t.expired(at(8, 0, 0), at(15, 59, 0), at(15, 59, 59)), None);
        assert_eq!(
            t.expired(at(8, 0, 0), at(15, 59, 59), at(16, 0, 0)),
            Some(Expiry::Absolute)
        );
        // Both limits reached: absolute is reported.
        assert_eq!(
            t.expired(at(8, 0, 0), at(8, 0, 0), at(17, 0, 0)),
            Some(Expiry::Absolute)
        );
    }

    #[test]
    fn expiry_reasons_are_bilingual() {
        assert!(Expiry::Idle.zh().contains("未操作"));
        assert!(Expiry::Idle.en().contains("inactivity"));
        assert!(Expiry::Absolute.zh().contains("上限"));
        assert!(Expiry::Absolute.en().contains("time limit"));
    }
}
