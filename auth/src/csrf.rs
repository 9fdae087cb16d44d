//! CSRF tokens bound to the session.
//!
//! The token is HMAC-SM3 keyed with the session token over a fixed label,
//! as lower-case hex (64 characters). Only someone holding the session
//! token (the cookie, which scripts on other sites cannot read) can compute
//! it, and nothing needs to be stored: the server recomputes it from the
//! session token of the request. The token reveals nothing about the
//! session token, and it differs from the stored session digest (SM3 of
//! the token), so a copy of the session table does not yield CSRF tokens.
//! Embed it in forms or send it in a header; check it with [`verify`] on
//! every state-changing request.

use hmac::{Hmac, KeyInit, Mac};
use sm3::Sm3;

use crate::constant_time_eq;

/// Domain-separation label: the message authenticated under the session token.
const LABEL: &[u8] = b"weidong-410403 platform csrf token v1";

/// The CSRF token for a session. Empty when the session token is empty
/// (there is nothing to bind to).
#[must_use]
pub fn token(session_token: &str) -> String {
    if session_token.is_empty() {
        return String::new();
    }
    match <Hmac<Sm3> as KeyInit>::new_from_slice(session_token.as_bytes()) {
        Ok(mut mac) => {
            mac.update(LABEL);
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; this arm cannot be reached.
        Err(_) => String::new(),
    }
}

/// Whether `presented` is the CSRF token of `session_token`, compared in
/// constant time. Always `false` for an empty session token or token.
#[must_use]
pub fn verify(session_token: &str, presented: &str) -> bool {
    let expected = token(session_token);
    !expected.is_empty() && constant_time_eq(expected.as_bytes(), presented.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::session;

    #[test]
    fn token_of_the_session_verifies() {
        let (session_token, _) = session::new_token();
        let csrf = token(&session_token);
        assert_eq!(csrf.len(), 64);
        assert!(verify(&session_token, &csrf));
        assert_eq!(
            token(&session_token),
            csrf,
            "recomputing gives the same token"
        );
    }

    #[test]
    fn token_of_another_session_is_refused() {
        let (mine, _) = session::new_token();
        let (theirs, _) = session::new_token();
        assert!(!verify(&mine, &token(&theirs)));
    }

    #[test]
    fn altered_truncated_or_empty_tokens_are_refused() {
        let (session_token, digest) = session::new_token();
        let csrf = token(&session_token);
        let mut altered = csrf.clone().into_bytes();
        if let Some(first) = altered.first_mut() {
            *first = if *first == b'0' { b'1' } else { b'0' };
        }
        let altered = String::from_utf8(altered).unwrap();
        for bad in [
            altered.as_str(),
            csrf.get(..63).unwrap(),
            &format!("{csrf}0"),
            &csrf.to_uppercase(),
            "",
            session_token.as_str(),
            digest.as_str(),
        ] {
            assert!(!verify(&session_token, bad), "{bad:?}");
        }
    }

    #[test]
    fn empty_session_token_never_verifies() {
        assert_eq!(token(""), "");
        assert!(!verify("", ""));
        assert!(!verify("", &token("x")));
    }

    #[test]
    fn token_is_hmac_sm3_of_the_label() {
        // Independent computation of HMAC (RFC 2104) from plain SM3, key shorter than the block.
        use sm3::Digest;
        let key = b"0123456789abcdef";
        let mut k = [0u8; 64];
        k.get_mut(..key.len()).unwrap().copy_from_slice(key);
        let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
        let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
        let inner = Sm3::digest([ipad.as_slice(), LABEL].concat());
        let outer = Sm3::digest([opad.as_slice(), inner.as_slice()].concat());
        assert_eq!(token("0123456789abcdef"), hex::encode(outer));
    }
}
