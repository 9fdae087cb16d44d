//! Dates and times as the district counts them: China Standard Time (UTC+8,
//! no daylight saving), working days, case numbers.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, SecondsFormat, Utc, Weekday};

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

/// Working days: Monday to Friday, less public holidays, plus the weekend
/// days made working days in exchange (调休).
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    holidays: HashSet<NaiveDate>,
    extra_workdays: HashSet<NaiveDate>,
}

impl WorkCalendar {
    /// A calendar from `(YYYY-MM-DD, is_workday)` entries; malformed dates
    /// are skipped with a warning.
    #[must_use]
    pub fn from_entries(entries: &[(String, bool)]) -> Self {
        let mut cal = Self::default();
        for (day, is_workday) in entries {
            match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
                Ok(d) if *is_workday => {
                    cal.extra_workdays.insert(d);
                }
                Ok(d) => {
                    cal.holidays.insert(d);
                }
                Err(_) => tracing::warn!(day = %day, "ignoring malformed holiday date"),
            }
        }
        cal
    }

    /// Whether `d` is a working day.
    #[must_use]
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.extra_workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The date `days` working days after `start` (the day of submission
    /// does not count); `start` itself for 0 (即办件).
    #[must_use]
    pub fn add_working_days(&self, start: NaiveDate, days: u32) -> NaiveDate {
        let mut d = start;
        let mut left = days;
        while left > 0 {
            match d.succ_opt() {
                Some(next) => d = next,
                None => return d,
            }
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The date `days` working days before `end`; for dating demo history.
    #[must_use]
    pub fn sub_working_days(&self, end: NaiveDate, days: u32) -> NaiveDate {
        let mut d = end;
        let mut left = days;
        while left > 0 {
            match d.pred_opt() {
                Some(prev) => d = prev,
                None => return d,
            }
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }
}

/// The unified case number `{district 6}{yyyyMMdd}{sequence 6}`.
#[must_use]
pub fn format_case_number(district: &str, day: NaiveDate, seq: u32) -> String {
    format!("{district}{}{seq:06}", day.format("%Y%m%d"))
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
    fn case_number_has_district_date_and_six_digit_sequence() {
        let n = format_case_number("410403", d(2026, 11, 28), 1);
        assert_eq!(n, "41040320261128000001");
        assert_eq!(n.len(), 20);
        assert!(n.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(
            format_case_number("410403", d(2026, 1, 5), 123_456),
            "41040320260105123456"
        );
    }

    #[test]
    fn working_days_skip_weekends() {
        let cal = WorkCalendar::default();
        // 2026-11-27 is a Friday.
        assert_eq!(d(2026, 11, 27).weekday(), Weekday::Fri);
        assert_eq!(cal.add_working_days(d(2026, 11, 27), 0), d(2026, 11, 27));
        assert_eq!(cal.add_working_days(d(2026, 11, 27), 1), d(2026, 11, 30));
        assert_eq!(cal.add_working_days(d(2026, 11, 27), 5), d(2026, 12, 4));
        assert_eq!(cal.add_working_days(d(2026, 11, 27), 20), d(2026, 12, 25));
        // Submitted on a Saturday: the first working day is Monday.
        assert_eq!(cal.add_working_days(d(2026, 11, 28), 1), d(2026, 11, 30));
        assert_eq!(cal.sub_working_days(d(2026, 11, 30), 1), d(2026, 11, 27));
    }

    #[test]
    fn working_days_honour_holidays_and_exchanged_workdays() {
        let cal = WorkCalendar::from_entries(&[
            ("2026-10-01".to_owned(), false),
            ("2026-10-02".to_owned(), false),
            ("2026-10-10".to_owned(), true),
            ("garbage".to_owned(), false),
        ]);
        // Wednesday 2026-09-30 + 1: Thursday and Friday are holidays, so Monday.
        assert_eq!(cal.add_working_days(d(2026, 9, 30), 1), d(2026, 10, 5));
        // Friday 2026-10-09 + 1: Saturday 10-10 is an exchanged working day.
        assert_eq!(cal.add_working_days(d(2026, 10, 9), 1), d(2026, 10, 10));
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
