//! Dates and times as the district counts them: China Standard Time (UTC+8,
//! no daylight saving). Working days are `casework::calendar`; case
//! numbers `service::cases::CaseNumbering`.

use chrono::{DateTime, FixedOffset, NaiveDate, Offset, SecondsFormat, Utc};

/// China Standard Time.
#[must_use]
pub fn china_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// `t` in China Standard Time.
#[must_use]
pub fn to_china(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&china_offset())
}

/// RFC 3339 in China Standard Time, whole seconds, e.g. `2026-11-28T09:30:00+08:00`.
#[must_use]
pub fn rfc3339_china(t: DateTime<Utc>) -> String {
    to_china(t).to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The calendar date in China at `t`.
#[must_use]
pub fn china_date(t: DateTime<Utc>) -> NaiveDate {
    to_china(t).date_naive()
}

/// `YYYY-MM-DD`.
#[must_use]
pub fn iso_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Shows a stored RFC 3339 time as `YYYY-MM-DD HH:MM` in China time; an
/// unparsable value is shown as it is.
#[must_use]
pub fn display_time(rfc3339: &str) -> String {
    DateTime::parse_from_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |t| {
            t.with_timezone(&china_offset())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::TimeZone;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn china_time_is_utc_plus_eight() {
        let t = Utc.with_ymd_and_hms(2026, 11, 27, 17, 30, 0).unwrap();
        assert_eq!(rfc3339_china(t), "2026-11-28T01:30:00+08:00");
        assert_eq!(china_date(t), d(2026, 11, 28));
        assert_eq!(
            display_time("2026-11-28T01:30:00+08:00"),
            "2026-11-28 01:30"
        );
    }
}
