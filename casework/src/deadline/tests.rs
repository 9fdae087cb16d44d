#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{Datelike, Weekday};

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn closed(from: NaiveDate, to: NaiveDate) -> Pause {
    Pause { from, to: Some(to) }
}

fn view(
    cal: &Calendar,
    today: NaiveDate,
    started: NaiveDate,
    limit: u32,
    pauses: &[Pause],
) -> DeadlineView {
    assess(
        cal,
        today,
        started,
        limit,
        pauses,
        None,
        DEFAULT_YELLOW_DAYS,
    )
}

#[test]
fn limits_cross_the_2026_spring_festival() {
    let cal = Calendar::shipped();
    // Accepted Thursday 2-12: Fri 2-13 (1), Sat 2-14 worked (2), festival
    // 2-15..2-23, then Tue 2-24 (3), 2-25 (4), 2-26 (5).
    assert_eq!(due_date(&cal, d(2026, 2, 12), 5, &[]), Some(d(2026, 2, 26)));
    // A weekends-only calendar would say Thursday 2-19.
    assert_eq!(
        due_date(&Calendar::new(), d(2026, 2, 12), 5, &[]),
        Some(d(2026, 2, 19))
    );
    // 2-27 (6), Saturday 2-28 worked (7), Monday 3-02 (8).
    assert_eq!(due_date(&cal, d(2026, 2, 12), 8, &[]), Some(d(2026, 3, 2)));
    assert_eq!(d(2026, 3, 2).weekday(), Weekday::Mon);
}

#[test]
fn limits_cross_national_day_2025() {
    let cal = Calendar::shipped();
    // Accepted Friday 9-26: Sunday 9-28 is worked (1), 9-29 (2), 9-30 (3).
    assert_eq!(due_date(&cal, d(2025, 9, 26), 3, &[]), Some(d(2025, 9, 30)));
    // Eight days off 10-01..10-08; 10-09 (4), 10-10 (5), Saturday 10-11 (6).
    assert_eq!(
        due_date(&cal, d(2025, 9, 26), 5, &[]),
        Some(d(2025, 10, 10))
    );
    assert_eq!(
        due_date(&cal, d(2025, 9, 26), 6, &[]),
        Some(d(2025, 10, 11))
    );
    // During the holiday a 3-day case accepted 9-30 shows 3 days left.
    let v = view(&cal, d(2025, 10, 5), d(2025, 9, 30), 3, &[]);
    assert_eq!(v.due, Some(d(2025, 10, 11)));
    assert_eq!(v.remaining_working_days, Some(3));
    assert_eq!(v.warning, Warning::Normal);
}

#[test]
fn same_day_cases_are_due_the_day_they_start() {
    let cal = Calendar::shipped();
    assert_eq!(due_date(&cal, d(2026, 2, 16), 0, &[]), Some(d(2026, 2, 16)));
}

#[test]
fn a_pause_spanning_the_festival_extends_by_its_working_days_only() {
    let cal = Calendar::shipped();
    let started = d(2026, 2, 9);
    assert_eq!(due_date(&cal, started, 10, &[]), Some(d(2026, 2, 28)));
    // Correction asked Thursday 2-12, supplied Wednesday 2-25: the clock is
    // stopped on 2-13, 2-14 (worked Saturday), 2-24 and 2-25 (4 working
    // days; the 9 festival days would not have counted anyway).
    let pause = closed(d(2026, 2, 12), d(2026, 2, 25));
    assert_eq!(due_date(&cal, started, 10, &[pause]), Some(d(2026, 3, 5)));
    assert_eq!(cal.add_working_days(d(2026, 2, 28), 4), d(2026, 3, 5));
}

#[test]
fn an_open_pause_has_no_due_date_and_shows_stopped() {
    let cal = Calendar::shipped();
    let started = d(2026, 2, 9);
    let open = Pause {
        from: d(2026, 2, 12),
        to: None,
    };
    assert_eq!(due_date(&cal, started, 10, &[open]), None);
    let v = view(&cal, d(2026, 2, 25), started, 10, &[open]);
    assert_eq!(v.warning, Warning::Stopped);
    assert_eq!(v.due, None);
    // Resumed on 2-25 the case would be due 3-05, 7 working days on.
    assert_eq!(v.remaining_working_days, Some(7));
    assert!(!v.late);
}

#[test]
fn overlapping_pauses_count_once_and_late_pauses_do_not_move_the_due_date() {
    let cal = Calendar::new();
    // Monday 2026-11-02 + 5 = Monday 11-09.
    let started = d(2026, 11, 2);
    assert_eq!(due_date(&cal, started, 5, &[]), Some(d(2026, 11, 9)));
    let a = closed(d(2026, 11, 3), d(2026, 11, 5)); // stops 11-04, 11-05
    let b = closed(d(2026, 11, 4), d(2026, 11, 6)); // stops 11-05, 11-06
    assert_eq!(due_date(&cal, started, 5, &[a, b]), Some(d(2026, 11, 12)));
    let after_due = closed(d(2026, 11, 10), d(2026, 11, 20));
    assert_eq!(
        due_date(&cal, started, 5, &[after_due]),
        Some(d(2026, 11, 9))
    );
}

#[test]
fn yellow_and_red_edges() {
    let cal = Calendar::new();
    // Accepted Monday 2026-11-02, 10 days: due Monday 11-16.
    let started = d(2026, 11, 2);
    let due = d(2026, 11, 16);
    let at = |today| view(&cal, today, started, 10, &[]);
    assert_eq!(at(d(2026, 11, 11)).warning, Warning::Normal); // Wed: 3 left
    assert_eq!(at(d(2026, 11, 11)).remaining_working_days, Some(3));
    assert_eq!(at(d(2026, 11, 12)).warning, Warning::Yellow); // Thu: 2 left
    assert_eq!(at(d(2026, 11, 14)).remaining_working_days, Some(1)); // Sat
    assert_eq!(at(due).warning, Warning::Yellow);
    assert_eq!(at(due).remaining_working_days, Some(0));
    assert!(!at(due).late);
    let tue = at(d(2026, 11, 17));
    assert_eq!(
        (tue.warning, tue.remaining_working_days, tue.late),
        (Warning::Red, Some(-1), true)
    );
    assert_eq!(tue.due, Some(due));
    // The caller sets the yellow threshold.
    let strict = assess(&cal, d(2026, 11, 13), started, 10, &[], None, 0);
    assert_eq!(strict.warning, Warning::Normal);
    let strict = assess(&cal, due, started, 10, &[], None, 0);
    assert_eq!(strict.warning, Warning::Yellow);
}

#[test]
fn a_weekend_right_after_the_due_date_is_already_red() {
    let cal = Calendar::new();
    // Accepted Monday 11-02, 4 days: due Friday 11-06.
    let v = view(&cal, d(2026, 11, 7), d(2026, 11, 2), 4, &[]);
    assert_eq!(v.due, Some(d(2026, 11, 6)));
    assert_eq!(
        (v.warning, v.remaining_working_days),
        (Warning::Red, Some(0))
    );
}

#[test]
fn concluded_cases_are_done_and_remember_lateness() {
    let cal = Calendar::new();
    let started = d(2026, 11, 2);
    let on_time = assess(
        &cal,
        d(2026, 12, 1),
        started,
        10,
        &[],
        Some(d(2026, 11, 13)),
        2,
    );
    assert_eq!((on_time.warning, on_time.late), (Warning::Done, false));
    assert_eq!(on_time.remaining_working_days, Some(1));
    let late = assess(
        &cal,
        d(2026, 12, 1),
        started,
        10,
        &[],
        Some(d(2026, 11, 18)),
        2,
    );
    assert_eq!((late.warning, late.late), (Warning::Done, true));
    assert_eq!(late.remaining_working_days, Some(-2));
    // Withdrawn during a special procedure: the pause ends with the case.
    let open = Pause {
        from: d(2026, 11, 4),
        to: None,
    };
    let v = assess(
        &cal,
        d(2026, 12, 1),
        started,
        10,
        &[open],
        Some(d(2026, 11, 20)),
        2,
    );
    assert_eq!(v.warning, Warning::Done);
    assert_eq!(v.due, Some(d(2026, 12, 2)));
    assert!(!v.late);
}

#[test]
fn warnings_have_codes_and_names() {
    let all = [
        Warning::Normal,
        Warning::Yellow,
        Warning::Red,
        Warning::Stopped,
        Warning::Done,
    ];
    let codes: std::collections::HashSet<_> = all.iter().map(Warning::code).collect();
    assert_eq!(codes.len(), 5);
    assert_eq!(Warning::Red.zh(), "已超期");
    assert_eq!(Warning::Yellow.en(), "Due soon");
}
