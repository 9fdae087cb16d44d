//! Time limits (办理时限) in working days, with the clock stopped during
//! 补正 and special procedures (特别程序).
//!
//! The limit starts the day after acceptance: a case accepted on `started`
//! with a limit of `n` working days is due on the `n`-th working day after
//! `started` on which the clock ran (`started` itself for 0, 即办件).
//!
//! A [`Pause`] from `from` to `to` stops the clock on the days `d` with
//! `from < d ≤ to`: the day the clock stopped still counts, the day it
//! restarted does not. Working days in a pause push the due date back;
//! non-working days in a pause change nothing. Overlapping pauses count
//! once, and a pause that starts after the due date does not move it (the
//! case was already late).
//!
//! [`assess`] turns this into what a clerk or a supervisor sees:
//!
//! | warning | when |
//! | --- | --- |
//! | [`Warning::Done`] | concluded (see [`DeadlineView::late`] for late ones) |
//! | [`Warning::Stopped`] | a pause is open |
//! | [`Warning::Red`] | today is after the due date |
//! | [`Warning::Yellow`] | 0 ≤ working days left ≤ `yellow_days` (default [`DEFAULT_YELLOW_DAYS`]) |
//! | [`Warning::Normal`] | otherwise |

use chrono::NaiveDate;

use crate::calendar::Calendar;

/// The usual number of working days left from which a case shows yellow.
pub const DEFAULT_YELLOW_DAYS: u32 = 2;

/// A span during which the clock was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// The day the clock stopped (it still counts).
    pub from: NaiveDate,
    /// The day it restarted (it does not count); `None`: still stopped.
    pub to: Option<NaiveDate>,
}

impl Pause {
    /// Whether the clock is stopped on `day` (`from < day ≤ to`); an open
    /// pause stops it on every day after `from`.
    #[must_use]
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from < day && self.to.is_none_or(|to| day <= to)
    }
}

/// The due date of a case accepted on `started` with `limit_days` working
/// days; `None` while a pause is open (or past the last date chrono knows).
#[must_use]
pub fn due_date(
    cal: &Calendar,
    started: NaiveDate,
    limit_days: u32,
    pauses: &[Pause],
) -> Option<NaiveDate> {
    if pauses.iter().any(|p| p.to.is_none()) {
        return None;
    }
    walk(cal, started, limit_days, pauses)
}

/// The `limit_days`-th working day after `started` not covered by a pause.
fn walk(
    cal: &Calendar,
    started: NaiveDate,
    limit_days: u32,
    pauses: &[Pause],
) -> Option<NaiveDate> {
    let mut day = started;
    let mut left = limit_days;
    while left > 0 {
        day = day.succ_opt()?;
        if cal.is_working_day(day) && !pauses.iter().any(|p| p.covers(day)) {
            left -= 1;
        }
    }
    Some(day)
}

/// The pauses with every open one closed on `day`.
fn closed_on(pauses: &[Pause], day: NaiveDate) -> Vec<Pause> {
    pauses
        .iter()
        .map(|p| Pause {
            from: p.from,
            to: Some(p.to.unwrap_or(day)),
        })
        .collect()
}

/// How a case stands against its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Warning {
    /// Time enough.
    Normal,
    /// Due soon (黄灯).
    Yellow,
    /// Overdue (红灯).
    Red,
    /// The clock is stopped.
    Stopped,
    /// Concluded.
    Done,
}

impl Warning {
    /// The warning in Chinese.
    #[must_use]
    pub const fn zh(&self) -> &'static str {
        match self {
            Self::Normal => "正常",
            Self::Yellow => "即将到期",
            Self::Red => "已超期",
            Self::Stopped => "暂停计时",
            Self::Done => "已办结",
        }
    }

    /// The warning in English.
    #[must_use]
    pub const fn en(&self) -> &'static str {
        match self {
            Self::Normal => "On time",
            Self::Yellow => "Due soon",
            Self::Red => "Overdue",
            Self::Stopped => "Clock stopped",
            Self::Done => "Concluded",
        }
    }

    /// The machine code: `normal`, `yellow`, `red`, `stopped`, `done`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Yellow => "yellow",
            Self::Red => "red",
            Self::Stopped => "stopped",
            Self::Done => "done",
        }
    }
}

/// A case's deadline as shown to staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineView {
    /// The due date; `None` while the clock is stopped.
    pub due: Option<NaiveDate>,
    /// Working days from today to the due date (negative when overdue);
    /// while stopped, the days that would be left if the clock restarted
    /// today; once concluded, the days that were left at conclusion.
    pub remaining_working_days: Option<i64>,
    /// The warning.
    pub warning: Warning,
    /// Past the due date: today (open cases) or at conclusion (concluded ones).
    pub late: bool,
}

/// Where a case accepted on `started` stands on `today`. A case concluded
/// while a pause was open counts that pause as closed on `concluded_on`.
#[must_use]
pub fn assess(
    cal: &Calendar,
    today: NaiveDate,
    started: NaiveDate,
    limit_days: u32,
    pauses: &[Pause],
    concluded_on: Option<NaiveDate>,
    yellow_days: u32,
) -> DeadlineView {
    if let Some(end) = concluded_on {
        let due = walk(cal, started, limit_days, &closed_on(pauses, end));
        return DeadlineView {
            due,
            remaining_working_days: due.map(|d| cal.working_days_between(end, d)),
            warning: Warning::Done,
            late: due.is_some_and(|d| end > d),
        };
    }
    if pauses.iter().any(|p| p.to.is_none()) {
        let if_resumed = walk(cal, started, limit_days, &closed_on(pauses, today));
        return DeadlineView {
            due: None,
            remaining_working_days: if_resumed.map(|d| cal.working_days_between(today, d)),
            warning: Warning::Stopped,
            late: if_resumed.is_some_and(|d| today > d),
        };
    }
    let Some(due) = walk(cal, started, limit_days, pauses) else {
        return DeadlineView {
            due: None,
            remaining_working_days: None,
            warning: Warning::Normal,
            late: false,
        };
    };
    let remaining = cal.working_days_between(today, due);
    let late = today > due;
    let warning = if late {
        Warning::Red
    } else if remaining <= i64::from(yellow_days) {
        Warning::Yellow
    } else {
        Warning::Normal
    };
    DeadlineView {
        due: Some(due),
        remaining_working_days: Some(remaining),
        warning,
        late,
    }
}

#[cfg(test)]
mod tests;
