#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn info(cal: &Calendar, year: i32) -> &YearInfo {
    cal.years().find(|y| y.year == year).unwrap()
}

#[test]
fn shipped_files_load_with_their_sources() {
    let cal = Calendar::shipped();
    assert!(cal.covers_year(2025) && cal.covers_year(2026));
    assert!(!cal.covers_year(2027));
    assert!(info(&cal, 2025).source.contains("国办发明电〔2024〕12号"));
    assert!(info(&cal, 2026).source.contains("国办发明电〔2025〕7号"));
    for (year, text) in SHIPPED {
        assert_eq!(Calendar::new().load_toml(text).unwrap().year, year);
    }
}

#[test]
fn shipped_2025_schedule_matches_the_notice() {
    let cal = Calendar::shipped();
    let y = info(&cal, 2025);
    let spans: Vec<_> = y
        .holidays
        .iter()
        .map(|h| {
            (
                h.name.as_str(),
                h.days[0],
                *h.days.last().unwrap(),
                h.days.len(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            ("元旦", d(2025, 1, 1), d(2025, 1, 1), 1),
            ("春节", d(2025, 1, 28), d(2025, 2, 4), 8),
            ("清明节", d(2025, 4, 4), d(2025, 4, 6), 3),
            ("劳动节", d(2025, 5, 1), d(2025, 5, 5), 5),
            ("端午节", d(2025, 5, 31), d(2025, 6, 2), 3),
            ("国庆节、中秋节", d(2025, 10, 1), d(2025, 10, 8), 8),
        ]
    );
    let workdays: Vec<_> = y.holidays.iter().flat_map(|h| h.workdays.clone()).collect();
    assert_eq!(
        workdays,
        vec![
            d(2025, 1, 26),
            d(2025, 2, 8),
            d(2025, 4, 27),
            d(2025, 9, 28),
            d(2025, 10, 11)
        ]
    );
    // Weekdays as chrono computes them (the notice names them too).
    assert_eq!(d(2025, 1, 26).weekday(), Weekday::Sun);
    assert_eq!(d(2025, 2, 8).weekday(), Weekday::Sat);
    assert_eq!(d(2025, 4, 27).weekday(), Weekday::Sun);
    assert_eq!(d(2025, 9, 28).weekday(), Weekday::Sun);
    assert_eq!(d(2025, 10, 11).weekday(), Weekday::Sat);
    assert_eq!(d(2025, 1, 28).weekday(), Weekday::Tue);
    assert_eq!(d(2025, 10, 8).weekday(), Weekday::Wed);
    assert_eq!(y.non_working_weekdays(), 18);
    assert_eq!(y.make_up_workdays(), 5);
}

#[test]
fn shipped_2026_schedule_matches_the_notice() {
    let cal = Calendar::shipped();
    let y = info(&cal, 2026);
    let spans: Vec<_> = y
        .holidays
        .iter()
        .map(|h| {
            (
                h.name.as_str(),
                h.days[0],
                *h.days.last().unwrap(),
                h.days.len(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        vec![
            ("元旦", d(2026, 1, 1), d(2026, 1, 3), 3),
            ("春节", d(2026, 2, 15), d(2026, 2, 23), 9),
            ("清明节", d(2026, 4, 4), d(2026, 4, 6), 3),
            ("劳动节", d(2026, 5, 1), d(2026, 5, 5), 5),
            ("端午节", d(2026, 6, 19), d(2026, 6, 21), 3),
            ("中秋节", d(2026, 9, 25), d(2026, 9, 27), 3),
            ("国庆节", d(2026, 10, 1), d(2026, 10, 7), 7),
        ]
    );
    let workdays: Vec<_> = y.holidays.iter().flat_map(|h| h.workdays.clone()).collect();
    assert_eq!(
        workdays,
        vec![
            d(2026, 1, 4),
            d(2026, 2, 14),
            d(2026, 2, 28),
            d(2026, 5, 9),
            d(2026, 9, 20),
            d(2026, 10, 10)
        ]
    );
    assert_eq!(d(2026, 1, 4).weekday(), Weekday::Sun);
    assert_eq!(d(2026, 2, 14).weekday(), Weekday::Sat);
    assert_eq!(d(2026, 2, 28).weekday(), Weekday::Sat);
    assert_eq!(d(2026, 5, 9).weekday(), Weekday::Sat);
    assert_eq!(d(2026, 9, 20).weekday(), Weekday::Sun);
    assert_eq!(d(2026, 10, 10).weekday(), Weekday::Sat);
    assert_eq!(d(2026, 2, 15).weekday(), Weekday::Sun);
    assert_eq!(d(2026, 2, 23).weekday(), Weekday::Mon);
    assert_eq!(y.non_working_weekdays(), 19);
    assert_eq!(y.make_up_workdays(), 6);
}

#[test]
fn every_shipped_holiday_is_a_run_of_consecutive_days() {
    let cal = Calendar::shipped();
    for y in cal.years() {
        for h in &y.holidays {
            for pair in h.days.windows(2) {
                assert_eq!(pair[0].succ_opt(), Some(pair[1]), "{} {}", y.year, h.name);
            }
        }
    }
}

#[test]
fn working_days_follow_the_shipped_schedule() {
    let cal = Calendar::shipped();
    assert!(cal.is_working_day(d(2026, 2, 13))); // Friday
    assert!(cal.is_working_day(d(2026, 2, 14))); // make-up Saturday
    assert!(!cal.is_working_day(d(2026, 2, 16))); // Spring Festival Monday
    assert!(!cal.is_working_day(d(2026, 2, 23))); // last day off, a Monday
    assert!(cal.is_working_day(d(2026, 2, 24)));
    assert!(!cal.is_working_day(d(2026, 3, 1))); // an ordinary Sunday
    assert!(cal.is_working_day(d(2027, 2, 8))); // no 2027 file: a Monday is worked
    assert_eq!(cal.holiday_name(d(2026, 2, 17)), Some("春节"));
    assert_eq!(cal.holiday_name(d(2026, 2, 24)), None);
    assert!(cal.is_make_up_workday(d(2026, 2, 28)));
}

#[test]
fn adding_working_days_crosses_the_2026_spring_festival() {
    let cal = Calendar::shipped();
    // Friday 2-13 + 1: Saturday 2-14 is worked.
    assert_eq!(cal.add_working_days(d(2026, 2, 13), 1), d(2026, 2, 14));
    // + 2: the festival runs to Monday 2-23, so Tuesday 2-24.
    assert_eq!(cal.add_working_days(d(2026, 2, 13), 2), d(2026, 2, 24));
    // Tuesday 2-24 .. Friday 2-27 are 3 more; Saturday 2-28 is worked.
    assert_eq!(cal.add_working_days(d(2026, 2, 13), 6), d(2026, 2, 28));
    assert_eq!(cal.add_working_days(d(2026, 2, 13), 7), d(2026, 3, 2));
    assert_eq!(cal.sub_working_days(d(2026, 2, 24), 2), d(2026, 2, 13));
    assert_eq!(cal.add_working_days(d(2026, 2, 16), 0), d(2026, 2, 16));
}

#[test]
fn adding_working_days_crosses_national_day_2025() {
    let cal = Calendar::shipped();
    // Saturday 9-27 + 1: Sunday 9-28 is worked.
    assert_eq!(cal.add_working_days(d(2025, 9, 27), 1), d(2025, 9, 28));
    // Tuesday 9-30 + 1: 10-01..10-08 are off, so Thursday 10-09.
    assert_eq!(cal.add_working_days(d(2025, 9, 30), 1), d(2025, 10, 9));
    // 10-09, 10-10, Saturday 10-11 (worked), then Monday 10-13.
    assert_eq!(cal.add_working_days(d(2025, 9, 30), 4), d(2025, 10, 13));
    assert_eq!(cal.sub_working_days(d(2025, 10, 9), 1), d(2025, 9, 30));
}

#[test]
fn working_days_between_counts_after_a_up_to_b_and_is_signed() {
    let cal = Calendar::shipped();
    assert_eq!(cal.working_days_between(d(2026, 2, 13), d(2026, 2, 13)), 0);
    assert_eq!(cal.working_days_between(d(2026, 2, 13), d(2026, 2, 24)), 2);
    assert_eq!(cal.working_days_between(d(2026, 2, 24), d(2026, 2, 13)), -2);
    // All of February 2026: 20 weekdays - 6 days off + 2 Saturdays.
    assert_eq!(cal.working_days_between(d(2026, 1, 31), d(2026, 2, 28)), 16);
    // A whole year: weekdays less days off plus make-up days.
    let weekdays_2026 = d(2025, 12, 31)
        .iter_days()
        .skip(1)
        .take_while(|x| x.year() == 2026)
        .filter(|x| !is_weekend(*x))
        .count();
    assert_eq!(weekdays_2026, 261);
    assert_eq!(
        cal.working_days_between(d(2025, 12, 31), d(2026, 12, 31)),
        261 - 19 + 6
    );
}

#[test]
fn working_days_between_agrees_with_adding() {
    let cal = Calendar::shipped();
    // From a working day, adding and subtracting are inverse.
    let start = d(2025, 12, 19);
    for n in 0..80 {
        let end = cal.add_working_days(start, n);
        assert_eq!(cal.working_days_between(start, end), i64::from(n));
        assert_eq!(cal.sub_working_days(end, n), start);
    }
}

#[test]
fn administrators_can_add_single_days() {
    let mut cal = Calendar::new();
    cal.insert_holiday(d(2027, 1, 1), "元旦");
    cal.insert_workday(d(2027, 1, 2));
    assert!(!cal.is_working_day(d(2027, 1, 1)));
    assert!(cal.is_working_day(d(2027, 1, 2)));
    cal.insert_holiday(d(2027, 1, 2), "调整");
    assert!(!cal.is_working_day(d(2027, 1, 2)));
}

#[test]
fn loading_a_year_again_replaces_it() {
    let mut cal = Calendar::shipped();
    let text =
        "year = 2026\nsource = \"test\"\n[[holiday]]\nname = \"X\"\ndays = [\"2026-03-02\"]\n";
    cal.load_toml(text).unwrap();
    assert!(
        cal.is_working_day(d(2026, 2, 16)),
        "the old Spring Festival is gone"
    );
    assert!(!cal.is_working_day(d(2026, 3, 2)));
    assert!(!cal.is_working_day(d(2025, 10, 2)), "2025 is untouched");
}

fn load_err(text: &str) -> CalendarError {
    let mut cal = Calendar::shipped();
    let err = cal.load_toml(text).unwrap_err();
    // Nothing changes on error.
    assert!(!cal.is_working_day(d(2026, 2, 16)));
    err
}

const HEAD: &str = "year = 2026\nsource = \"测试\"\n";

#[test]
fn bad_dates_name_their_line_and_field() {
    let err = load_err(&format!(
        "{HEAD}[[holiday]]\nname = \"春节\"\ndays = [\"2026-02-15\",\n  \"2026-02-30\"]\n"
    ));
    assert_eq!(err.line(), 6);
    assert!(
        matches!(&err, CalendarError::BadDate { field, value, .. } if field == "春节.days" && value == "2026-02-30")
    );
    let shown = err.to_string();
    assert!(
        shown.contains("第6行") && shown.contains("line 6"),
        "{shown}"
    );
}

#[test]
fn dates_outside_the_year_are_refused() {
    let err = load_err(&format!(
        "{HEAD}[[holiday]]\nname = \"元旦\"\ndays = [\"2027-01-01\"]\n"
    ));
    assert!(
        matches!(
            err,
            CalendarError::OutsideYear {
                line: 5,
                year: 2026,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_day_cannot_be_both_off_and_worked() {
    let text = format!(
        "{HEAD}[[holiday]]\nname = \"A\"\ndays = [\"2026-02-14\"]\n[[holiday]]\nname = \"B\"\ndays = [\"2026-02-16\"]\nworkdays = [\"2026-02-14\"]\n"
    );
    let err = load_err(&text);
    assert!(
        matches!(&err, CalendarError::HolidayIsWorkday { line: 9, field, .. } if field == "B.workdays"),
        "{err:?}"
    );
}

#[test]
fn a_workday_must_be_a_weekend_day() {
    // 2026-02-13 is a Friday.
    let err = load_err(&format!(
        "{HEAD}[[holiday]]\nname = \"春节\"\ndays = [\"2026-02-16\"]\nworkdays = [\"2026-02-13\"]\n"
    ));
    assert!(
        matches!(err, CalendarError::WorkdayNotWeekend { line: 6, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("不是周六或周日"));
}

#[test]
fn duplicates_and_empty_holidays_are_refused() {
    let err = load_err(&format!(
        "{HEAD}[[holiday]]\nname = \"A\"\ndays = [\"2026-02-16\", \"2026-02-16\"]\n"
    ));
    assert!(
        matches!(err, CalendarError::Duplicate { line: 5, .. }),
        "{err:?}"
    );
    let err = load_err(&format!("{HEAD}[[holiday]]\nname = \"A\"\ndays = []\n"));
    assert!(
        matches!(err, CalendarError::EmptyHoliday { line: 4, .. }),
        "{err:?}"
    );
}

#[test]
fn syntax_errors_and_unknown_keys_name_the_line() {
    let err = load_err(
        "year = 2026\nsource = \"x\"\n[[holiday]]\nname = \"A\"\nworkday = [\"2026-02-14\"]\ndays = [\"2026-02-16\"]\n",
    );
    assert!(
        matches!(&err, CalendarError::Syntax { line: 5, message } if message.contains("workday")),
        "{err:?}"
    );
    let err = load_err("year = 2026\nsource = \n");
    assert!(
        matches!(err, CalendarError::Syntax { line: 2, .. }),
        "{err:?}"
    );
    let err = load_err("year = 2026\n");
    assert!(
        matches!(&err, CalendarError::Syntax { message, .. } if message.contains("source")),
        "{err:?}"
    );
    let err = load_err("year = 99999\nsource = \"x\"\n");
    assert!(
        matches!(
            err,
            CalendarError::BadYear {
                line: 1,
                year: 99999
            }
        ),
        "{err:?}"
    );
}
