//! # clock: is the kiosk's clock right? (reliability R8)
//!
//! The kiosk learns the platform's time from every heartbeat answer
//! (`HeartbeatAck::server_time`, RFC 3339, from the backend's own clock;
//! an HTTP `Date` header can stand in). A reading is kept with the
//! *monotonic* instant it was taken, so the platform's time "now" is
//! estimated as `server + (Instant::now() - at)`: a step of the local wall
//! clock (NTP arriving, a technician setting the date) shows at once, not
//! only at the next heartbeat.
//!
//! The clock is **off** when the local clock differs from the platform's
//! by more than [`MAX_SKEW`], or reads a year before [`YEAR_FLOOR`] (no
//! RTC battery and no NTP: the kiosk boots in 1970). An off clock stops
//! what would carry a wrong time: 我要办 is paused and 我要查 prints no
//! receipt. Before the first reading the clock counts as right unless its
//! year is implausible, so an offline kiosk keeps serving.
//!
//! Everything here is pure: the caller passes "now" in.

use std::time::Instant;

use chrono::{DateTime, Datelike, TimeDelta, Utc};

/// The largest difference from the platform's clock still accepted
/// (R8 in the design's reliability list: 2 minutes).
pub const MAX_SKEW: TimeDelta = TimeDelta::minutes(2);

/// A local clock before this year has never been set (the software was
/// built later).
pub const YEAR_FLOOR: i32 = 2026;

/// One reading of the platform's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerReading {
    /// The platform's time as it answered.
    pub server: DateTime<Utc>,
    /// The monotonic instant that time belongs to.
    pub at: Instant,
}

impl ServerReading {
    /// A reading from a request sent at `sent` and answered at `received`:
    /// the platform read its clock about half-way between.
    pub fn new(server: DateTime<Utc>, sent: Instant, received: Instant) -> ServerReading {
        let rtt = received.saturating_duration_since(sent);
        ServerReading {
            server,
            at: sent + rtt / 2,
        }
    }

    /// The platform's time at the monotonic instant `now`, estimated.
    pub fn server_now(&self, now: Instant) -> DateTime<Utc> {
        let elapsed =
            TimeDelta::from_std(now.saturating_duration_since(self.at)).unwrap_or(TimeDelta::MAX);
        self.server
            .checked_add_signed(elapsed)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// How far the local clock (`local_now`, read at monotonic `now`) is
    /// ahead of the platform's (negative: behind).
    pub fn skew(&self, local_now: DateTime<Utc>, now: Instant) -> TimeDelta {
        local_now.signed_duration_since(self.server_now(now))
    }
}

/// The verdict on the local clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Checked against the platform: within [`MAX_SKEW`].
    Ok {
        /// Local minus platform time.
        skew: TimeDelta,
    },
    /// Not checked yet (no heartbeat answered), and the year is plausible.
    Unchecked,
    /// Off by more than [`MAX_SKEW`].
    Skewed {
        /// Local minus platform time.
        skew: TimeDelta,
    },
    /// The local clock reads a year before [`YEAR_FLOOR`].
    BeforeFloor {
        /// The year it reads.
        year: i32,
    },
}

impl ClockState {
    /// Whether time-bearing documents may be issued.
    pub fn is_ok(&self) -> bool {
        matches!(self, ClockState::Ok { .. } | ClockState::Unchecked)
    }

    /// A stable name: `ok`, `unchecked`, `skewed` or `before-floor`.
    pub fn code(&self) -> &'static str {
        match self {
            ClockState::Ok { .. } => "ok",
            ClockState::Unchecked => "unchecked",
            ClockState::Skewed { .. } => "skewed",
            ClockState::BeforeFloor { .. } => "before-floor",
        }
    }

    /// The measured skew, if any.
    pub fn skew(&self) -> Option<TimeDelta> {
        match self {
            ClockState::Ok { skew } | ClockState::Skewed { skew } => Some(*skew),
            ClockState::Unchecked | ClockState::BeforeFloor { .. } => None,
        }
    }
}

/// Judges the local clock reading `local_now`, `skew` ahead of the
/// platform's (`None`: never measured).
pub fn judge(local_now: DateTime<Utc>, skew: Option<TimeDelta>) -> ClockState {
    let year = local_now.year();
    if year < YEAR_FLOOR {
        return ClockState::BeforeFloor { year };
    }
    match skew {
        None => ClockState::Unchecked,
        Some(skew) if skew.abs() > MAX_SKEW => ClockState::Skewed { skew },
        Some(skew) => ClockState::Ok { skew },
    }
}

/// Judges the local clock against the newest reading.
pub fn judge_reading(
    local_now: DateTime<Utc>,
    now: Instant,
    reading: Option<&ServerReading>,
) -> ClockState {
    judge(local_now, reading.map(|r| r.skew(local_now, now)))
}

/// The platform's `server_time` (RFC 3339).
pub fn parse_server_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// An HTTP `Date` header in the preferred format of RFC 7231
/// (`Sun, 06 Nov 1994 08:49:37 GMT`); the obsolete RFC 850 and asctime
/// forms are not accepted.
pub fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if !text.ends_with(" GMT") {
        return None;
    }
    DateTime::parse_from_rfc2822(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A skew for the maintenance screen, language-neutral: `+00:00:03`,
/// `-01:00:00`, `+2d 03:04:05`.
pub fn format_skew(skew: TimeDelta) -> String {
    let secs = skew.num_seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let total = secs.unsigned_abs();
    let (days, rest) = (total / 86_400, total % 86_400);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 {
        format!("{sign}{days}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// A change of the verdict worth a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The clock became (or started) off.
    BecameOff,
    /// The clock is right again.
    BecameOk,
}

/// Remembers the last verdict, so an off clock is logged once, not every
/// second.
#[derive(Debug, Default)]
pub struct Transitions {
    last_ok: Option<bool>,
}

impl Transitions {
    /// Records `state`; says when it changed between right and off (the
    /// first verdict counts as a change only when it is off).
    pub fn observe(&mut self, state: &ClockState) -> Option<Change> {
        let ok = state.is_ok();
        let before = self.last_ok.replace(ok);
        match (before, ok) {
            (Some(true) | None, false) => Some(Change::BecameOff),
            (Some(false), true) => Some(Change::BecameOk),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::time::Duration;

    fn t(s: &str) -> DateTime<Utc> {
        parse_server_time(s).unwrap()
    }

    #[test]
    fn two_minutes_either_way_is_still_right() {
        let now = t("2026-11-29T10:00:00+08:00");
        assert_eq!(
            judge(now, Some(TimeDelta::minutes(2))),
            ClockState::Ok {
                skew: TimeDelta::minutes(2)
            }
        );
        assert!(judge(now, Some(-TimeDelta::minutes(2))).is_ok());
        let late = TimeDelta::minutes(2) + TimeDelta::seconds(1);
        assert_eq!(judge(now, Some(late)), ClockState::Skewed { skew: late });
        assert!(!judge(now, Some(-late)).is_ok());
        assert!(!judge(now, Some(TimeDelta::hours(1))).is_ok());
        assert!(!judge(now, Some(-TimeDelta::days(1))).is_ok());
    }

    #[test]
    fn a_clock_never_set_is_off_even_unchecked() {
        let epoch = t("1970-01-01T00:00:05Z");
        assert_eq!(judge(epoch, None), ClockState::BeforeFloor { year: 1970 });
        assert!(!judge(epoch, None).is_ok());
        // Even when the platform is just as wrong.
        assert!(!judge(t("2025-12-31T23:59:59Z"), Some(TimeDelta::zero())).is_ok());
        assert_eq!(
            judge(t("2026-01-01T00:00:00Z"), None),
            ClockState::Unchecked
        );
        assert!(judge(t("2026-01-01T00:00:00Z"), None).is_ok());
    }

    #[test]
    fn the_reading_ages_with_the_monotonic_clock() {
        let sent = Instant::now();
        let received = sent + Duration::from_millis(400);
        let server = t("2026-11-29T10:00:00Z");
        let r = ServerReading::new(server, sent, received);
        assert_eq!(r.at, sent + Duration::from_millis(200));
        // Ten seconds later the platform reads 10:00:10 (give or take the half round trip).
        let later = r.at + Duration::from_secs(10);
        assert_eq!(r.server_now(later), t("2026-11-29T10:00:10Z"));
        // A local clock one hour ahead at that moment.
        assert_eq!(
            r.skew(t("2026-11-29T11:00:10Z"), later),
            TimeDelta::hours(1)
        );
        // NTP steps the local clock back: right at once, without a new reading.
        let state = judge_reading(t("2026-11-29T10:00:12Z"), later, Some(&r));
        assert_eq!(
            state,
            ClockState::Ok {
                skew: TimeDelta::seconds(2)
            }
        );
        assert_eq!(
            judge_reading(t("2026-11-29T11:00:10Z"), later, Some(&r)).code(),
            "skewed"
        );
        assert_eq!(
            judge_reading(t("2026-11-29T11:00:10Z"), later, None),
            ClockState::Unchecked
        );
    }

    #[test]
    fn http_dates_in_the_rfc_7231_format() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(t("1994-11-06T08:49:37Z"))
        );
        assert_eq!(
            parse_http_date("Sun, 29 Nov 2026 02:00:00 GMT"),
            Some(t("2026-11-29T10:00:00+08:00"))
        );
        for bad in [
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 +0800",
            "2026-11-29T02:00:00Z",
            "",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn server_times_in_rfc_3339() {
        assert_eq!(
            parse_server_time("2026-11-29T10:00:00.123+08:00"),
            Some(t("2026-11-29T02:00:00.123Z"))
        );
        assert_eq!(parse_server_time("yesterday"), None);
        assert_eq!(parse_server_time("2026-11-29 10:00:00"), None);
    }

    #[test]
    fn skews_read_the_same_in_every_language() {
        assert_eq!(format_skew(TimeDelta::seconds(3)), "+00:00:03");
        assert_eq!(format_skew(-TimeDelta::hours(1)), "-01:00:00");
        assert_eq!(
            format_skew(TimeDelta::seconds(2 * 86_400 + 3 * 3600 + 4 * 60 + 5)),
            "+2d 03:04:05"
        );
        assert_eq!(format_skew(TimeDelta::milliseconds(-400)), "+00:00:00");
    }

    #[test]
    fn off_is_logged_once_and_so_is_the_recovery() {
        let mut tr = Transitions::default();
        let ok = ClockState::Ok {
            skew: TimeDelta::zero(),
        };
        let off = ClockState::Skewed {
            skew: TimeDelta::hours(1),
        };
        assert_eq!(tr.observe(&ClockState::Unchecked), None);
        assert_eq!(tr.observe(&ok), None);
        assert_eq!(tr.observe(&off), Some(Change::BecameOff));
        assert_eq!(tr.observe(&off), None);
        assert_eq!(tr.observe(&ClockState::BeforeFloor { year: 1970 }), None);
        assert_eq!(tr.observe(&ok), Some(Change::BecameOk));
        let mut fresh = Transitions::default();
        assert_eq!(fresh.observe(&off), Some(Change::BecameOff));
    }
}
