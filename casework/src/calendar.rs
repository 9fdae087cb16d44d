//! Chinese working days (工作日).
//!
//! A day is a working day when it is Monday to Friday and not a public
//! holiday, or when it is a weekend day made a working day in exchange
//! (调休上班). Holidays and exchanged working days come from the State
//! Council's yearly notice, kept as one TOML file per year;
//! [`Calendar::shipped`] embeds the files in `assets/holidays/`. Years with
//! no file count weekends only ([`Calendar::covers_year`] tells).
//!
//! # Year file format
//!
//! ```toml
//! year = 2026
//! source = "国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）"
//!
//! [[holiday]]
//! name = "春节"
//! days = ["2026-02-15", "2026-02-16", "2026-02-17"]   # every day off, weekends included
//! workdays = ["2026-02-14", "2026-02-28"]             # 调休: weekend days that are worked
//! ```
//!
//! - `year` (integer, 1949–2199) and `source` (the notice, text) are required.
//! - Each `[[holiday]]` has a `name`, a non-empty `days` list and an
//!   optional `workdays` list, dates written `YYYY-MM-DD`.
//! - Every date lies in `year`; no day is listed twice; a holiday day is
//!   never also a workday; a workday falls on a Saturday or Sunday.
//!   Unknown keys are errors (to catch `workday =` typos).
//!
//! Loading a year again replaces what was loaded for it.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, NaiveDate, Weekday};
use serde::Deserialize;
use toml::Spanned;

/// The shipped year files: (year, TOML text).
pub const SHIPPED: [(i32, &str); 2] = [
    (2025, include_str!("../../assets/holidays/2025.toml")),
    (2026, include_str!("../../assets/holidays/2026.toml")),
];

/// One holiday of a year file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// Its name, e.g. 春节.
    pub name: String,
    /// Every day off, weekends included, in order.
    pub days: Vec<NaiveDate>,
    /// Weekend days worked in exchange (调休), in order.
    pub workdays: Vec<NaiveDate>,
}

/// What a year file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearInfo {
    /// The year.
    pub year: i32,
    /// The notice the schedule comes from.
    pub source: String,
    /// The holidays in file order.
    pub holidays: Vec<Holiday>,
}

impl YearInfo {
    /// How many Monday-to-Friday days are days off.
    #[must_use]
    pub fn non_working_weekdays(&self) -> usize {
        self.holidays
            .iter()
            .flat_map(|h| &h.days)
            .filter(|d| !is_weekend(**d))
            .count()
    }

    /// How many weekend days are worked in exchange.
    #[must_use]
    pub fn make_up_workdays(&self) -> usize {
        self.holidays.iter().map(|h| h.workdays.len()).sum()
    }
}

/// Why a year file was refused. Lines count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not valid TOML, a missing or unknown key, or a value of the wrong type.
    #[error("节假日文件第{line}行格式错误：{message} / holiday file line {line}: {message}")]
    Syntax {
        /// Line of the problem.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// `year` is outside 1949–2199.
    #[error(
        "节假日文件第{line}行：年份 {year} 超出范围 / holiday file line {line}: year {year} out of range"
    )]
    BadYear {
        /// Line of `year`.
        line: usize,
        /// The value given.
        year: i64,
    },
    /// A date is not `YYYY-MM-DD`.
    #[error(
        "节假日文件第{line}行 {field}：无法识别日期“{value}”（应为 YYYY-MM-DD） / holiday file line {line}, {field}: cannot read date \"{value}\" (expected YYYY-MM-DD)"
    )]
    BadDate {
        /// Line of the date.
        line: usize,
        /// Which list, e.g. `春节.days`.
        field: String,
        /// The text given.
        value: String,
    },
    /// A date outside the file's year.
    #[error(
        "节假日文件第{line}行 {field}：{date} 不在 {year} 年内 / holiday file line {line}, {field}: {date} is not in {year}"
    )]
    OutsideYear {
        /// Line of the date.
        line: usize,
        /// Which list.
        field: String,
        /// The date.
        date: NaiveDate,
        /// The file's year.
        year: i32,
    },
    /// A day listed twice.
    #[error(
        "节假日文件第{line}行 {field}：{date} 重复列出 / holiday file line {line}, {field}: {date} is listed twice"
    )]
    Duplicate {
        /// Line of the second mention.
        line: usize,
        /// Which list.
        field: String,
        /// The date.
        date: NaiveDate,
    },
    /// A day listed both as a holiday and as a workday.
    #[error(
        "节假日文件第{line}行 {field}：{date} 既是假日又是调休上班日 / holiday file line {line}, {field}: {date} is both a holiday and a workday"
    )]
    HolidayIsWorkday {
        /// Line of the second mention.
        line: usize,
        /// Which list.
        field: String,
        /// The date.
        date: NaiveDate,
    },
    /// A make-up workday that is not a Saturday or Sunday.
    #[error(
        "节假日文件第{line}行 {field}：调休上班日 {date} 不是周六或周日 / holiday file line {line}, {field}: make-up workday {date} is not a Saturday or Sunday"
    )]
    WorkdayNotWeekend {
        /// Line of the date.
        line: usize,
        /// Which list.
        field: String,
        /// The date.
        date: NaiveDate,
    },
    /// A holiday with no days.
    #[error(
        "节假日文件第{line}行：假日“{name}”没有日期 / holiday file line {line}: holiday \"{name}\" has no days"
    )]
    EmptyHoliday {
        /// Line of the holiday's name.
        line: usize,
        /// The holiday.
        name: String,
    },
}

impl CalendarError {
    /// The line the error is on (1-based).
    #[must_use]
    pub fn line(&self) -> usize {
        match self {
            Self::Syntax { line, .. }
            | Self::BadYear { line, .. }
            | Self::BadDate { line, .. }
            | Self::OutsideYear { line, .. }
            | Self::Duplicate { line, .. }
            | Self::HolidayIsWorkday { line, .. }
            | Self::WorkdayNotWeekend { line, .. }
            | Self::EmptyHoliday { line, .. } => *line,
        }
    }
}

/// Working days: weekends, holidays and exchanged working days.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    holidays: HashMap<NaiveDate, String>,
    workdays: HashSet<NaiveDate>,
    years: BTreeMap<i32, YearInfo>,
}

impl Calendar {
    /// A calendar of weekends only.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The calendar of the shipped year files (2025 and 2026).
    #[must_use]
    pub fn shipped() -> Self {
        let mut cal = Self::new();
        for (_, text) in SHIPPED {
            // The shipped files are checked by the tests; a bad one would
            // leave its year at weekends only rather than stop the service.
            let _ = cal.load_toml(text);
        }
        cal
    }

    /// Loads a year file (see the module doc), replacing that year's days.
    ///
    /// # Errors
    ///
    /// A [`CalendarError`] naming the line and field; nothing is changed then.
    pub fn load_toml(&mut self, text: &str) -> Result<YearInfo, CalendarError> {
        let info = parse_year(text)?;
        self.replace_year(&info);
        Ok(info)
    }

    fn replace_year(&mut self, info: &YearInfo) {
        self.holidays.retain(|d, _| d.year() != info.year);
        self.workdays.retain(|d| d.year() != info.year);
        for h in &info.holidays {
            for d in &h.days {
                self.holidays.insert(*d, h.name.clone());
            }
            self.workdays.extend(h.workdays.iter().copied());
        }
        self.years.insert(info.year, info.clone());
    }

    /// Marks one day off (e.g. a holiday an administrator adds).
    pub fn insert_holiday(&mut self, date: NaiveDate, name: &str) {
        self.workdays.remove(&date);
        self.holidays.insert(date, name.to_owned());
    }

    /// Marks one day worked (e.g. an exchanged Saturday an administrator adds).
    pub fn insert_workday(&mut self, date: NaiveDate) {
        self.holidays.remove(&date);
        self.workdays.insert(date);
    }

    /// Whether a year file for `year` is loaded.
    #[must_use]
    pub fn covers_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The loaded year files, by year.
    pub fn years(&self) -> impl Iterator<Item = &YearInfo> {
        self.years.values()
    }

    /// The holiday `date` belongs to, e.g. 春节.
    #[must_use]
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// Whether `date` is a weekend day worked in exchange (调休上班).
    #[must_use]
    pub fn is_make_up_workday(&self, date: NaiveDate) -> bool {
        self.workdays.contains(&date)
    }

    /// Whether `date` is a working day.
    #[must_use]
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        !self.holidays.contains_key(&date) && !is_weekend(date)
    }

    /// The date `days` working days after `start` (`start` itself does not
    /// count); `start` for 0 (即办件). Stops at the last date chrono knows.
    #[must_use]
    pub fn add_working_days(&self, start: NaiveDate, days: u32) -> NaiveDate {
        let mut d = start;
        let mut left = days;
        while left > 0 {
            let Some(next) = d.succ_opt() else { return d };
            d = next;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The date `days` working days before `end`; `end` for 0. Stops at the
    /// first date chrono knows.
    #[must_use]
    pub fn sub_working_days(&self, end: NaiveDate, days: u32) -> NaiveDate {
        let mut d = end;
        let mut left = days;
        while left > 0 {
            let Some(prev) = d.pred_opt() else { return d };
            d = prev;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The number of working days `d` with `a < d ≤ b`; negative (the count
    /// of `b < d ≤ a`) when `b` is before `a`. From today to a due date it is
    /// the working days left.
    #[must_use]
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        let (lo, hi, sign) = if a <= b { (a, b, 1) } else { (b, a, -1) };
        let count = lo
            .iter_days()
            .skip(1)
            .take_while(|d| *d <= hi)
            .filter(|d| self.is_working_day(*d))
            .count();
        sign * i64::try_from(count).unwrap_or(i64::MAX)
    }
}

/// Saturday or Sunday.
#[must_use]
pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i64>,
    source: String,
    #[serde(default)]
    holiday: Vec<RawHoliday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: Spanned<String>,
    #[serde(default)]
    days: Vec<Spanned<String>>,
    #[serde(default)]
    workdays: Vec<Spanned<String>>,
}

/// 1-based line of byte offset `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()
        .iter()
        .take(at)
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn parse_year(text: &str) -> Result<YearInfo, CalendarError> {
    let raw: RawYear = toml::from_str(text).map_err(|e| CalendarError::Syntax {
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        message: e.message().trim().to_owned(),
    })?;
    let year_line = line_of(text, raw.year.span().start);
    let year = i32::try_from(*raw.year.get_ref())
        .ok()
        .filter(|y| (1949..=2199).contains(y))
        .ok_or(CalendarError::BadYear {
            line: year_line,
            year: *raw.year.get_ref(),
        })?;
    let mut check = DayCheck {
        text,
        year,
        seen_off: HashSet::new(),
        seen_worked: HashSet::new(),
    };
    let holidays = raw
        .holiday
        .iter()
        .map(|h| check.holiday(h))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(YearInfo {
        year,
        source: raw.source,
        holidays,
    })
}

/// Validates the dates of one file as they are read.
struct DayCheck<'t> {
    text: &'t str,
    year: i32,
    seen_off: HashSet<NaiveDate>,
    seen_worked: HashSet<NaiveDate>,
}

impl DayCheck<'_> {
    fn holiday(&mut self, raw: &RawHoliday) -> Result<Holiday, CalendarError> {
        let name = raw.name.get_ref().clone();
        if raw.days.is_empty() {
            return Err(CalendarError::EmptyHoliday {
                line: line_of(self.text, raw.name.span().start),
                name,
            });
        }
        let days_field = format!("{name}.days");
        let work_field = format!("{name}.workdays");
        let mut days = Vec::with_capacity(raw.days.len());
        for d in &raw.days {
            days.push(self.day(d, &days_field, false)?);
        }
        let mut workdays = Vec::with_capacity(raw.workdays.len());
        for d in &raw.workdays {
            workdays.push(self.day(d, &work_field, true)?);
        }
        days.sort_unstable();
        workdays.sort_unstable();
        Ok(Holiday {
            name,
            days,
            workdays,
        })
    }

    fn day(
        &mut self,
        raw: &Spanned<String>,
        field: &str,
        worked: bool,
    ) -> Result<NaiveDate, CalendarError> {
        let line = line_of(self.text, raw.span().start);
        let field = field.to_owned();
        let value = raw.get_ref().trim();
        let date =
            NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| CalendarError::BadDate {
                line,
                field: field.clone(),
                value: value.to_owned(),
            })?;
        if date.year() != self.year {
            return Err(CalendarError::OutsideYear {
                line,
                field,
                date,
                year: self.year,
            });
        }
        let (same, other) = if worked {
            (&mut self.seen_worked, &self.seen_off)
        } else {
            (&mut self.seen_off, &self.seen_worked)
        };
        if other.contains(&date) {
            return Err(CalendarError::HolidayIsWorkday { line, field, date });
        }
        if !same.insert(date) {
            return Err(CalendarError::Duplicate { line, field, date });
        }
        if worked && !is_weekend(date) {
            return Err(CalendarError::WorkdayNotWeekend { line, field, date });
        }
        Ok(date)
    }
}

#[cfg(test)]
mod tests;
