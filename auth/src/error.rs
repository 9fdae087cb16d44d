//! Errors of the auth building blocks.

use thiserror::Error;

/// What went wrong in a password or TOTP operation.
///
/// Messages are written for a clerk or administrator: Chinese first, English
/// after the slash. None of them carries a password, secret or code.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// Argon2 refused to hash (parameters or output rejected by the library).
    #[error("密码处理失败 / password hashing failed: {0}")]
    Hash(String),
    /// A TOTP secret was not valid base32 (RFC 4648 alphabet A–Z, 2–7).
    #[error("动态口令密钥格式错误 / the authenticator secret is not valid base32")]
    Base32,
    /// A TOTP secret decoded to too few or too many bytes.
    #[error(
        "动态口令密钥长度应为 {min}–{max} 字节，实际 {actual} 字节 / the authenticator secret must be {min}–{max} bytes, got {actual}"
    )]
    SecretLength {
        /// Bytes after decoding.
        actual: usize,
        /// Smallest accepted length (RFC 4226 asks for at least 128 bits).
        min: usize,
        /// Largest accepted length.
        max: usize,
    },
}
