//! Failed-login policy: free attempts, then growing delays, then a lock that
//! expires by itself (MLPS 8.1.4.1b; design note S1).
//!
//! Pure policy over a small per-account record ([`Attempts`]) that the
//! caller stores; the caller passes the current time in, so tests inject it.
//!
//! With [`Policy::default`]: failures 1–3 cost nothing; after the 4th the
//! next attempt must wait 5 s; the 5th failure locks the account for
//! 15 minutes. When the lock expires, or when no failure happened for
//! `lock_for`, the count starts again from zero. A success resets it.

use chrono::{DateTime, Duration, Utc};

/// Numbers of the policy. Construct with [`Policy::default`] and override fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed without any delay (default 3).
    pub free_failures: u32,
    /// Delay added for each failure beyond `free_failures` (default 5 s): after
    /// failure `n > free_failures` the next attempt waits `(n − free) × delay`
    /// from that failure.
    pub delay_per_failure: Duration,
    /// The failure that locks the account (default 5); `0` never locks.
    pub lock_after: u32,
    /// How long a lock lasts (default 15 min); also how long after the last
    /// failure the count is forgotten.
    pub lock_for: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            delay_per_failure: Duration::seconds(5),
            lock_after: 5,
            lock_for: Duration::minutes(15),
        }
    }
}

/// The failed-login record of one account, stored by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    /// Consecutive failures counted so far.
    pub failures: u32,
    /// When the last failure happened.
    pub last_failure: Option<DateTime<Utc>>,
    /// Until when the account is locked, if it was locked.
    pub locked_until: Option<DateTime<Utc>>,
}

/// Whether a login attempt may be evaluated now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Check the credentials.
    Open,
    /// Too soon after the last failure: refuse without checking, and say
    /// how long to wait (never longer than the delay that applies).
    Wait(Duration),
    /// Locked until the given time: refuse without checking.
    Locked(DateTime<Utc>),
}

impl Policy {
    /// Decides whether an attempt may be evaluated at `now`.
    #[must_use]
    pub fn gate(&self, attempts: &Attempts, now: DateTime<Utc>) -> Gate {
        if let Some(until) = attempts.locked_until
            && now < until
        {
            return Gate::Locked(until);
        }
        let current = self.current(attempts, now);
        let Some(last) = current.last_failure else {
            return Gate::Open;
        };
        let delay = self.delay_after(current.failures);
        let ready = last
            .checked_add_signed(delay)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if now < ready {
            // A clock set back must not make the wait longer than the delay.
            Gate::Wait((ready - now).min(delay))
        } else {
            Gate::Open
        }
    }

    /// Records a failed attempt at `now`. Returns the new record and whether
    /// this failure locked the account (the moment to write an audit event).
    ///
    /// A failure while the account is locked changes nothing: the lock is
    /// not extended (callers should not evaluate attempts while locked).
    #[must_use]
    pub fn on_failure(&self, attempts: Attempts, now: DateTime<Utc>) -> (Attempts, bool) {
        if attempts.locked_until.is_some_and(|until| now < until) {
            return (attempts, false);
        }
        let mut next = self.current(&attempts, now);
        next.failures = next.failures.saturating_add(1);
        next.last_failure = Some(now);
        let lock = self.lock_after != 0 && next.failures >= self.lock_after;
        if lock {
            next.locked_until = Some(
                now.checked_add_signed(self.lock_for)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC),
            );
        }
        (next, lock)
    }

    /// The record after a successful login: everything forgotten.
    #[must_use]
    pub fn on_success() -> Attempts {
        Attempts::default()
    }

    /// The record as it counts at `now`: a fresh one once a lock has
    /// expired or the last failure is `lock_for` old.
    fn current(&self, attempts: &Attempts, now: DateTime<Utc>) -> Attempts {
        let lock_expired = attempts.locked_until.is_some_and(|until| until <= now);
        let forgotten = attempts
            .last_failure
            .is_some_and(|last| now.signed_duration_since(last) >= self.lock_for);
        if lock_expired || forgotten {
            Attempts::default()
        } else {
            *attempts
        }
    }

    /// The wait required after `failures` consecutive failures.
    fn delay_after(&self, failures: u32) -> Duration {
        let extra = failures.saturating_sub(self.free_failures);
        i32::try_from(extra)
            .ok()
            .and_then(|n| self.delay_per_failure.checked_mul(n))
            .unwrap_or(Duration::MAX)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap()
    }

    fn secs(n: i64) -> Duration {
        Duration::seconds(n)
    }

    /// Fails `n` times, one second apart (waiting out any delay first).
    fn fail_times(policy: &Policy, n: u32) -> (Attempts, DateTime<Utc>, Vec<bool>) {
        let mut a = Attempts::default();
        let mut now = t0();
        let mut locked = Vec::new();
        for _ in 0..n {
            if let Gate::Wait(d) = policy.gate(&a, now) {
                now += d;
            }
            let (next, just_locked) = policy.on_failure(a, now);
            a = next;
            locked.push(just_locked);
            now += secs(1);
        }
        (a, now, locked)
    }

    #[test]
    fn first_three_failures_cost_nothing() {
        let p = Policy::default();
        let (a, now, locked) = fail_times(&p, 3);
        assert_eq!(a.failures, 3);
        assert_eq!(locked, [false, false, false]);
        assert_eq!(p.gate(&a, now - secs(1)), Gate::Open);
    }

    #[test]
    fn fourth_failure_imposes_a_delay_that_runs_out() {
        let p = Policy::default();
        let (a, _, _) = fail_times(&p, 4);
        let last = a.last_failure.unwrap();
        assert_eq!(p.gate(&a, last), Gate::Wait(secs(5)));
        assert_eq!(p.gate(&a, last + secs(2)), Gate::Wait(secs(3)));
        assert_eq!(p.gate(&a, last + secs(5)), Gate::Open);
    }

    #[test]
    fn delay_grows_with_each_failure_when_locking_is_later() {
        let p = Policy {
            lock_after: 10,
            ..Policy::default()
        };
        let (a, _, _) = fail_times(&p, 6);
        let last = a.last_failure.unwrap();
        assert_eq!(p.gate(&a, last), Gate::Wait(secs(15)));
    }

    #[test]
    fn fifth_failure_locks_for_fifteen_minutes_then_lock_expires() {
        let p = Policy::default();
        let (a, _, locked) = fail_times(&p, 5);
        assert_eq!(locked, [false, false, false, false, true]);
        let until = a.last_failure.unwrap() + Duration::minutes(15);
        assert_eq!(a.locked_until, Some(until));
        assert_eq!(p.gate(&a, until - secs(1)), Gate::Locked(until));
        assert_eq!(p.gate(&a, until), Gate::Open);
        // After expiry the count starts again: one more failure is free.
        let (after, just_locked) = p.on_failure(a, until + secs(1));
        assert!(!just_locked);
        assert_eq!(after.failures, 1);
        assert_eq!(after.locked_until, None);
        assert_eq!(p.gate(&after, until + secs(2)), Gate::Open);
    }

    #[test]
    fn failures_while_locked_do_not_extend_the_lock() {
        let p = Policy::default();
        let (a, now, _) = fail_times(&p, 5);
        let (b, just_locked) = p.on_failure(a, now + Duration::minutes(10));
        assert_eq!(b, a);
        assert!(!just_locked);
    }

    #[test]
    fn success_forgets_failures() {
        let p = Policy::default();
        let (a, now, _) = fail_times(&p, 4);
        assert_ne!(p.gate(&a, a.last_failure.unwrap()), Gate::Open);
        let fresh = Policy::on_success();
        assert_eq!(fresh, Attempts::default());
        assert_eq!(p.gate(&fresh, now), Gate::Open);
    }

    #[test]
    fn old_failures_are_forgotten_after_lock_for() {
        let p = Policy::default();
        let (a, _, _) = fail_times(&p, 4);
        let later = a.last_failure.unwrap() + Duration::minutes(15);
        let (b, just_locked) = p.on_failure(a, later);
        assert!(
            !just_locked,
            "the 5th failure a quarter hour later must not lock"
        );
        assert_eq!(b.failures, 1);
    }

    #[test]
    fn clock_set_back_never_waits_longer_than_the_delay() {
        let p = Policy::default();
        let (a, _, _) = fail_times(&p, 4);
        let before = a.last_failure.unwrap() - Duration::hours(2);
        assert_eq!(p.gate(&a, before), Gate::Wait(secs(5)));
    }

    #[test]
    fn lock_after_zero_never_locks() {
        let p = Policy {
            lock_after: 0,
            ..Policy::default()
        };
        let (a, _, locked) = fail_times(&p, 8);
        assert!(locked.iter().all(|l| !l));
        assert_eq!(a.locked_until, None);
        assert_eq!(a.failures, 8);
    }

    #[test]
    fn extreme_numbers_saturate_instead_of_overflowing() {
        let p = Policy {
            delay_per_failure: Duration::days(365 * 1000),
            lock_for: Duration::MAX,
            ..Policy::default()
        };
        let a = Attempts {
            failures: u32::MAX,
            last_failure: Some(t0()),
            locked_until: None,
        };
        assert!(matches!(p.gate(&a, t0()), Gate::Wait(_)));
        let (b, just_locked) = p.on_failure(a, t0());
        assert!(just_locked);
        assert_eq!(b.failures, u32::MAX);
        assert_eq!(b.locked_until, Some(DateTime::<Utc>::MAX_UTC));
    }
}
