//! Time-based one-time passwords (RFC 6238) for the second login factor.
//!
//! Codes are **6 digits, 30-second steps, HMAC-SHA1** — the defaults every
//! authenticator app (Google Authenticator, Microsoft Authenticator, 阿里云
//! / 腾讯身份验证器, FreeOTP) supports. The caller stores the secret (base32)
//! and the last step accepted for each account; [`verify`] refuses that step
//! and every earlier one, so an observed code cannot be replayed (ASVS 6.5.1).
//! Time comes from the server clock, never from the client (ASVS 6.5.8).

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha1::Sha1;

use crate::{AuthError, constant_time_eq};

/// Seconds per time step (RFC 6238 `X`).
pub const STEP_SECONDS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes in a secret made by [`Secret::generate`] (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;
/// Fewest secret bytes accepted (RFC 4226 requires at least 128 bits).
pub const MIN_SECRET_LEN: usize = 16;
/// Most secret bytes accepted.
pub const MAX_SECRET_LEN: usize = 64;
/// Steps of clock difference accepted either side of the server's step.
pub const SKEW_STEPS: i64 = 1;

/// A shared TOTP secret. `Debug` does not print the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

impl Secret {
    /// A new secret of [`SECRET_LEN`] bytes from the operating system's
    /// cryptographic random source (through `rand`'s thread generator).
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; SECRET_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Wraps raw secret bytes.
    ///
    /// # Errors
    /// [`AuthError::SecretLength`] outside [`MIN_SECRET_LEN`]..=[`MAX_SECRET_LEN`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, AuthError> {
        if (MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&bytes.len()) {
            Ok(Self(bytes))
        } else {
            Err(AuthError::SecretLength {
                actual: bytes.len(),
                min: MIN_SECRET_LEN,
                max: MAX_SECRET_LEN,
            })
        }
    }

    /// The raw secret bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32, upper case, without `=` padding (32 characters for
    /// a generated secret) — the form authenticator apps accept for manual entry.
    #[must_use]
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// Parses base32 as typed or stored: case, spaces, hyphens and trailing
    /// `=` padding are ignored.
    ///
    /// # Errors
    /// [`AuthError::Base32`] for characters outside A–Z/2–7, an impossible
    /// length or non-zero trailing bits; [`AuthError::SecretLength`] when the
    /// decoded secret is too short or too long.
    pub fn from_base32(text: &str) -> Result<Self, AuthError> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let unpadded = cleaned.trim_end_matches('=');
        let bytes = BASE32_NOPAD
            .decode(unpadded.as_bytes())
            .map_err(|_| AuthError::Base32)?;
        Self::from_bytes(bytes)
    }
}

/// The RFC 6238 time step containing `unix_seconds` (`floor(t / 30)`).
#[must_use]
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// RFC 4226 HOTP value for one counter: HMAC-SHA1 and dynamic truncation
/// to 31 bits (before reduction to digits). `None` only if the HMAC cannot
/// be keyed, which HMAC never refuses.
fn hotp_value(key: &[u8], counter: u64) -> Option<u32> {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last()? & 0x0f);
    let window: [u8; 4] = digest.get(offset..offset + 4)?.try_into().ok()?;
    Some(u32::from_be_bytes(window) & 0x7fff_ffff)
}

/// The code of `digits` digits for time step `step`; empty for a negative
/// step (before 1970) so it never matches.
fn code_for_step(secret: &Secret, step: i64, digits: u32) -> String {
    let Ok(counter) = u64::try_from(step) else {
        return String::new();
    };
    let width = usize::try_from(digits).unwrap_or(0);
    match hotp_value(&secret.0, counter) {
        Some(value) => format!("{:0width$}", value % 10u32.pow(digits)),
        None => String::new(),
    }
}

/// The 6-digit code an authenticator shows at `unix_seconds`.
#[must_use]
pub fn code_at(secret: &Secret, unix_seconds: i64) -> String {
    code_for_step(secret, step_at(unix_seconds), DIGITS)
}

/// Checks a code typed by the user at server time `unix_seconds`.
///
/// Spaces inside the code are ignored ("123 456" as some apps show it);
/// anything other than exactly six ASCII digits is refused. Codes of the
/// previous, current and next step are accepted ([`SKEW_STEPS`]), except
/// steps at or before `last_used_step`. Returns the matching step, which the
/// caller must store as the account's new `last_used_step`.
#[must_use]
pub fn verify(
    secret: &Secret,
    code: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let six_digits = usize::try_from(DIGITS).is_ok_and(|n| code.len() == n)
        && code.bytes().all(|b| b.is_ascii_digit());
    if !six_digits {
        return None;
    }
    let now = step_at(unix_seconds);
    let mut accepted = None;
    // Every candidate is computed and compared, so the time taken does not
    // depend on which step (if any) matched.
    for step in (now - SKEW_STEPS)..=(now + SKEW_STEPS) {
        let fresh = last_used_step.is_none_or(|last| step > last);
        let matches = constant_time_eq(
            code_for_step(secret, step, DIGITS).as_bytes(),
            code.as_bytes(),
        );
        if fresh && matches && accepted.is_none() {
            accepted = Some(step);
        }
    }
    accepted
}

/// Percent-encodes everything but RFC 3986 unreserved characters, byte by
/// byte over UTF-8 (so `卫` becomes `%E5%8D%AB` and a space `%20`).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The `otpauth://` URI to show as a QR code when enrolling an authenticator
/// (Google Authenticator "Key Uri Format").
///
/// The label is `issuer:account`; issuer and account are percent-encoded
/// as UTF-8 (a colon inside either becomes `%3A`). An empty issuer is left
/// out of the label and the parameters.
#[must_use]
pub fn otpauth_uri(secret: &Secret, account: &str, issuer: &str) -> String {
    let account = percent_encode(account);
    let secret = secret.to_base32();
    let common = format!("algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}");
    if issuer.is_empty() {
        format!("otpauth://totp/{account}?secret={secret}&{common}")
    } else {
        let issuer = percent_encode(issuer);
        format!("otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&{common}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 key is the ASCII string "12345678901234567890".
    fn rfc_secret() -> Secret {
        Secret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    /// (time, 8-digit code from RFC 6238 appendix B, its last six digits).
    const RFC_VECTORS: [(i64, &str, &str); 6] = [
        (59, "94287082", "287082"),
        (1_111_111_109, "07081804", "081804"),
        (1_111_111_111, "14050471", "050471"),
        (1_234_567_890, "89005924", "005924"),
        (2_000_000_000, "69279037", "279037"),
        (20_000_000_000, "65353130", "353130"),
    ];

    #[test]
    fn rfc6238_sha1_vectors_eight_digits() {
        let secret = rfc_secret();
        for (t, eight, _) in RFC_VECTORS {
            assert_eq!(code_for_step(&secret, step_at(t), 8), eight, "t = {t}");
        }
    }

    #[test]
    fn rfc6238_sha1_vectors_truncated_to_six_digits() {
        let secret = rfc_secret();
        for (t, eight, six) in RFC_VECTORS {
            assert_eq!(code_at(&secret, t), six, "t = {t}");
            assert!(eight.ends_with(six));
            assert_eq!(verify(&secret, six, t, None), Some(step_at(t)));
        }
    }

    #[test]
    fn generated_secrets_are_20_random_bytes_and_round_trip_base32() {
        let a = Secret::generate();
        let b = Secret::generate();
        assert_eq!(a.as_bytes().len(), SECRET_LEN);
        assert_ne!(a, b);
        let text = a.to_base32();
        assert_eq!(text.len(), 32);
        assert!(
            text.bytes()
                .all(|c| c.is_ascii_uppercase() || (b'2'..=b'7').contains(&c))
        );
        assert_eq!(Secret::from_base32(&text).unwrap(), a);
    }

    #[test]
    fn base32_matches_rfc4648_and_tolerates_typing() {
        let secret = rfc_secret();
        assert_eq!(secret.to_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for typed in [
            "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
            "GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ",
        ] {
            assert_eq!(Secret::from_base32(typed).unwrap(), secret, "{typed}");
        }
        // 16 bytes need padding in RFC 4648; both forms are accepted.
        let sixteen = Secret::from_bytes(vec![0xA5; 16]).unwrap();
        let text = sixteen.to_base32();
        assert_eq!(text, "UWS2LJNFUWS2LJNFUWS2LJNFUU");
        assert_eq!(
            Secret::from_base32(&format!("{text}======")).unwrap(),
            sixteen
        );
    }

    #[test]
    fn malformed_base32_is_refused() {
        for bad in [
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ1", // '1' is not in the alphabet
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ0",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJ!",
            "ＧＥＺＤGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", // full-width letters
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG",    // 33 characters: impossible length
            "UWS2LJNFUWS2LJNFUWS2LJNFUV",           // 16 bytes with non-zero trailing bits
        ] {
            assert_eq!(Secret::from_base32(bad), Err(AuthError::Base32), "{bad}");
        }
    }

    #[test]
    fn secrets_of_wrong_length_are_refused() {
        assert!(matches!(
            Secret::from_base32(""),
            Err(AuthError::SecretLength { actual: 0, .. })
        ));
        // 10 bytes (80 bits), the length some old apps used: below RFC 4226's minimum.
        assert!(matches!(
            Secret::from_base32("JBSWY3DPEHPK3PXP"),
            Err(AuthError::SecretLength { actual: 10, .. })
        ));
        assert!(Secret::from_bytes(vec![1; MAX_SECRET_LEN + 1]).is_err());
        assert!(Secret::from_bytes(vec![1; MAX_SECRET_LEN]).is_ok());
        let message = Secret::from_bytes(vec![1; 3]).unwrap_err().to_string();
        assert!(
            message.contains("动态口令密钥长度") && message.contains("got 3"),
            "{message}"
        );
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let shown = format!("{:?}", rfc_secret());
        assert_eq!(shown, "Secret(<20 bytes>)");
    }

    #[test]
    fn neighbouring_steps_are_accepted_and_farther_ones_refused() {
        let secret = Secret::generate();
        let now = 1_700_000_015;
        let step = step_at(now);
        let at_step = |s: i64| code_for_step(&secret, s, DIGITS);
        assert_eq!(
            verify(&secret, &at_step(step - 1), now, None),
            Some(step - 1)
        );
        assert_eq!(verify(&secret, &at_step(step), now, None), Some(step));
        assert_eq!(
            verify(&secret, &at_step(step + 1), now, None),
            Some(step + 1)
        );
        for far in [step - 3, step - 2, step + 2, step + 3] {
            let code = at_step(far);
            // A far code may by chance equal a near one (1 in a million); skip that case.
            if (step - 1..=step + 1).all(|s| at_step(s) != code) {
                assert_eq!(verify(&secret, &code, now, None), None, "step {far}");
            }
        }
    }

    #[test]
    fn a_used_code_cannot_be_replayed() {
        let secret = Secret::generate();
        let now = 1_700_000_000;
        let code = code_at(&secret, now);
        let used = verify(&secret, &code, now, None).unwrap();
        assert_eq!(verify(&secret, &code, now, Some(used)), None);
        assert_eq!(verify(&secret, &code, now + 20, Some(used)), None);
        // An older code is refused too once a newer step was used.
        let earlier = code_at(&secret, now - STEP_SECONDS);
        assert_eq!(verify(&secret, &earlier, now, Some(used)), None);
        // The next step's code works.
        let next = code_at(&secret, now + STEP_SECONDS);
        assert_eq!(
            verify(&secret, &next, now + STEP_SECONDS, Some(used)),
            Some(used + 1)
        );
    }

    #[test]
    fn codes_of_wrong_shape_are_refused() {
        let secret = rfc_secret();
        let t = 59;
        assert_eq!(verify(&secret, "287 082", t, None), Some(step_at(t)));
        for bad in [
            "",
            "28708",
            "2870820",
            "94287082",
            "28708a",
            "-87082",
            "+87082",
            "２８７０８２",
            "287082\0",
        ] {
            assert_eq!(verify(&secret, bad, t, None), None, "{bad:?}");
        }
    }

    #[test]
    fn codes_are_six_digits_with_leading_zeros() {
        let secret = rfc_secret();
        // RFC vector at t = 1111111109 is 07081804, six digits "081804".
        let code = code_at(&secret, 1_111_111_109);
        assert_eq!(code.len(), 6);
        assert!(code.starts_with('0'));
    }

    #[test]
    fn times_before_1970_never_match() {
        let secret = rfc_secret();
        assert_eq!(code_at(&secret, -1), "");
        assert_eq!(step_at(-1), -1);
        // At t = 0 the previous step (-1) is skipped; the current one still works.
        assert_eq!(verify(&secret, &code_at(&secret, 0), 0, None), Some(0));
    }

    #[test]
    fn otpauth_uri_percent_encodes_chinese_issuer_and_account() {
        let secret = rfc_secret();
        let uri = otpauth_uri(&secret, "zhang.san@卫东", "卫东区政务服务");
        assert_eq!(
            uri,
            "otpauth://totp/%E5%8D%AB%E4%B8%9C%E5%8C%BA%E6%94%BF%E5%8A%A1%E6%9C%8D%E5%8A%A1:\
             zhang.san%40%E5%8D%AB%E4%B8%9C?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=%E5%8D%AB%E4%B8%9C%E5%8C%BA%E6%94%BF%E5%8A%A1%E6%9C%8D%E5%8A%A1\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn otpauth_uri_escapes_separators_in_names() {
        let secret = rfc_secret();
        let uri = otpauth_uri(&secret, "a:b&c=d e/f?", "");
        assert_eq!(
            uri,
            "otpauth://totp/a%3Ab%26c%3Dd%20e%2Ff%3F?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
