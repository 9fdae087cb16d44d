//! Domain rules. Services take the store and the time as parameters; they
//! never read the clock, the environment or a global.

pub mod alerts;
pub mod apply;
pub mod auth;
pub mod bulletin;
pub mod cases;
pub mod catalogue;
pub mod catalogue_admin;
pub mod health;
pub mod kiosks;
pub mod notice;
pub mod oidc;
pub mod people_seed;
pub mod privacy;
pub mod seed;
pub mod staff_admin;
pub mod time;
pub mod track;
pub mod window;
pub mod workflow;

use crate::error::ApiError;

/// Checks a text field: length in characters within `min..=max` after
/// trimming, and no control characters.
pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ApiError> {
    let n = value.trim().chars().count();
    if n < min {
        return Err(ApiError::InvalidField {
            field,
            reason_zh: "不能为空",
            reason_en: "must not be empty",
        });
    }
    if n > max {
        return Err(ApiError::InvalidField {
            field,
            reason_zh: "内容过长",
            reason_en: "too long",
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::InvalidField {
            field,
            reason_zh: "含有控制字符",
            reason_en: "contains control characters",
        });
    }
    Ok(())
}

/// Checks an optional text field: at most `max` characters, no control
/// characters other than line breaks.
pub(crate) fn check_text_allow_empty(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::InvalidField {
            field,
            reason_zh: "内容过长",
            reason_en: "too long",
        });
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err(ApiError::InvalidField {
            field,
            reason_zh: "含有控制字符",
            reason_en: "contains control characters",
        });
    }
    Ok(())
}

/// Checks an RFC 3339 time field.
pub(crate) fn check_time(field: &'static str, value: &str) -> Result<(), ApiError> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|_| ())
        .map_err(|_| ApiError::InvalidField {
            field,
            reason_zh: "时间格式应为 RFC 3339",
            reason_en: "must be an RFC 3339 time",
        })
}
