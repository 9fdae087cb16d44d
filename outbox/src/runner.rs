//! The delivery loop: one entry at a time, oldest due first, exponential
//! backoff with jitter while the backend is away, a status watch for the UI.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::courier::{Courier, Delivered, DeliveryError};
use crate::error::{OutboxError, Result};
use crate::store::{Outbox, Step};

/// How often the loop purges entries past their retention.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);
/// Pause after the store itself failed (disk full, I/O).
const STORE_RETRY: Duration = Duration::from_secs(5);

/// Retry timing. The n-th consecutive failure waits
/// `min(initial · 2^(n-1), max)`, multiplied by a random factor in
/// `[1 - jitter, 1 + jitter]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Pause after the first failure.
    pub initial: Duration,
    /// Longest pause.
    pub max: Duration,
    /// Relative spread, 0.0 to 1.0 (0.2 = ±20 %), so many kiosks coming
    /// back at once do not retry in step.
    pub jitter: f64,
}

impl Default for Backoff {
    /// 1 s doubling to 60 s, ±20 %.
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(60),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The pause after the `n`-th consecutive failure (`n` ≥ 1), jitter
    /// included.
    #[must_use]
    pub fn delay(&self, n: u32) -> Duration {
        let exp = n.saturating_sub(1).min(30);
        let base = self.initial.saturating_mul(1_u32 << exp).min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = 1.0 - jitter + 2.0 * jitter * rand::random::<f64>();
        base.mul_f64(factor).min(self.max.mul_f64(1.0 + jitter))
    }
}

/// What the UI shows about delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Entries waiting.
    pub pending: u64,
    /// Entries the backend refused (maintenance must look).
    pub rejected: u64,
    /// An attempt is in flight.
    pub delivering: bool,
    /// When the last delivery succeeded.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last failure (cleared by a success); no personal data.
    pub last_error: Option<String>,
    /// When the next attempt is due, while the loop waits.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl Outbox {
    /// A watch of the delivery [`Status`] for the UI.
    #[must_use]
    pub fn status(&self) -> tokio::sync::watch::Receiver<Status> {
        self.status.subscribe()
    }

    async fn db<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Self) -> Result<T> + Send + 'static,
    {
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&me))
            .await
            .map_err(|e| OutboxError::Task(e.to_string()))?
    }

    /// Waits until `deadline` or a wake-up (enqueue, [`Outbox::sync_now`]).
    async fn sleep_or_wake(&self, deadline: Instant) {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = self.wake.notified() => {}
        }
    }

    /// Delivers the queue through `courier`, forever (abort the task to
    /// stop; an attempt cut off mid-flight is simply repeated later with
    /// the same key).
    ///
    /// * One entry at a time, the oldest due first; after a success or a
    ///   rejection, straight on to the next.
    /// * After a retryable failure the entry is not due again before
    ///   `backoff.delay(its attempts)`, persisted as `next_attempt_at` so a
    ///   restart does not hammer the backend, and no other entry is tried
    ///   before `backoff.delay(consecutive failures)`; the entries after
    ///   the failed one go first, so one entry that keeps failing cannot
    ///   hold up the rest.
    /// * A new enqueue and [`Outbox::sync_now`] end a pause at once.
    /// * When the queue has drained, the WAL is checkpointed and truncated
    ///   (no wiped body lingers in it); entries past retention are purged
    ///   at start and hourly.
    pub async fn run<C: Courier>(self: Arc<Self>, courier: C, backoff: Backoff) {
        let mut streak = self.db(Self::failure_streak).await.unwrap_or(0);
        let mut cursor: Option<i64> = None;
        let mut gate: Option<Instant> = None;
        let mut dirty = false;
        let mut housekeeping = Instant::now();
        loop {
            if Instant::now() >= housekeeping {
                if let Err(e) = self.db(Self::purge_expired).await {
                    tracing::error!("outbox purge failed: {e}");
                }
                housekeeping = Instant::now() + HOUSEKEEPING_EVERY;
            }
            if let Some(until) = gate.take()
                && until > Instant::now()
            {
                self.show_next(Some(
                    Utc::now() + until.saturating_duration_since(Instant::now()),
                ));
                self.sleep_or_wake(until).await;
                continue;
            }
            let step = self.db(move |o| o.next_step(Utc::now(), cursor)).await;
            match step {
                Err(e) => {
                    tracing::error!("outbox store failed: {e}");
                    self.status
                        .send_modify(|s| s.last_error = Some(e.to_string()));
                    self.sleep_or_wake(Instant::now() + STORE_RETRY).await;
                }
                Ok(Step::Unreadable(seq)) => {
                    tracing::error!(
                        seq,
                        "outbox entry unreadable; set aside as rejected for maintenance"
                    );
                    let _ = self.db(Self::refresh_status).await;
                }
                Ok(Step::Idle) => {
                    dirty = self.checkpoint_if(dirty).await;
                    cursor = None;
                    self.show_next(None);
                    self.sleep_or_wake(housekeeping).await;
                }
                Ok(Step::Later(at)) => {
                    dirty = self.checkpoint_if(dirty).await;
                    cursor = None;
                    self.show_next(Some(at));
                    let wait = (at - Utc::now()).to_std().unwrap_or_default();
                    self.sleep_or_wake((Instant::now() + wait).min(housekeeping))
                        .await;
                }
                Ok(Step::Due {
                    seq,
                    attempts,
                    label,
                    item,
                }) => {
                    self.status.send_modify(|s| {
                        s.delivering = true;
                        s.next_attempt_at = None;
                    });
                    let result = courier.deliver(&item).await;
                    drop(item);
                    match result {
                        Ok(delivered) => {
                            self.on_delivered(seq, &label.matter, delivered).await;
                            streak = 0;
                            cursor = None;
                            dirty = true;
                        }
                        Err(DeliveryError::Retryable(reason)) => {
                            streak = streak.saturating_add(1);
                            // With the backend out of reach no entry is at
                            // fault: every pending entry waits the loop's
                            // pause and the queue keeps its order (oldest
                            // first when the link is back). Otherwise the
                            // entry waits its own backoff and the ones after
                            // it go first, so one bad entry blocks nobody.
                            let link_down = is_link_down(&reason);
                            let pause = backoff.delay(streak);
                            tracing::warn!(seq, attempts = attempts + 1, %reason, "outbox delivery failed; will retry");
                            let stored = reason.clone();
                            let recorded = if link_down {
                                let due = Utc::now()
                                    + chrono::Duration::from_std(pause)
                                        .unwrap_or(chrono::Duration::zero());
                                self.db(move |o| o.mark_link_down(seq, &stored, due)).await
                            } else {
                                let due = Utc::now() + backoff.delay(attempts.saturating_add(1));
                                self.db(move |o| o.mark_retry(seq, &stored, due)).await
                            };
                            if let Err(e) = recorded {
                                tracing::error!(seq, "outbox could not record the failure: {e}");
                            }
                            self.status.send_modify(|s| s.last_error = Some(reason));
                            gate = Some(Instant::now() + pause);
                            cursor = if link_down { None } else { Some(seq) };
                        }
                        Err(DeliveryError::Rejected { code, message }) => {
                            tracing::warn!(seq, %code, matter = %label.matter, applicant = %label.applicant, "outbox entry rejected by the backend; kept for maintenance");
                            let (c, m) = (code.clone(), message);
                            if let Err(e) = self.db(move |o| o.mark_rejected(seq, &c, &m)).await {
                                tracing::error!(seq, "outbox could not record the rejection: {e}");
                            }
                            self.status.send_modify(|s| {
                                s.last_error = Some(format!("{code} (seq {seq})"));
                            });
                            streak = 0;
                            cursor = None;
                        }
                    }
                    self.status.send_modify(|s| s.delivering = false);
                }
            }
        }
    }

    async fn on_delivered(self: &Arc<Self>, seq: i64, matter: &str, delivered: Delivered) {
        let case_number = match &delivered {
            Delivered::Case { reply, .. } => reply.case_number.clone(),
            Delivered::Correction { case_number, .. } => case_number.clone(),
        };
        let replayed = matches!(
            delivered,
            Delivered::Case { replayed: true, .. } | Delivered::Correction { replayed: true, .. }
        );
        tracing::info!(seq, %case_number, matter, replayed, "outbox entry delivered");
        if let Err(e) = self.db(move |o| o.mark_delivered(seq, &delivered)).await {
            // Stays pending: the next attempt replays and gets the same case.
            tracing::error!(seq, "outbox could not record the delivery: {e}");
        }
        self.status.send_modify(|s| {
            s.last_success_at = Some(Utc::now());
            s.last_error = None;
        });
    }

    async fn checkpoint_if(self: &Arc<Self>, dirty: bool) -> bool {
        if !dirty {
            return false;
        }
        match self.db(Self::checkpoint).await {
            Ok(()) => false,
            Err(e) => {
                tracing::warn!("outbox checkpoint failed: {e}");
                true
            }
        }
    }

    fn show_next(&self, at: Option<DateTime<Utc>>) {
        self.status.send_if_modified(|s| {
            let changed = s.next_attempt_at != at;
            s.next_attempt_at = at;
            changed
        });
    }
}

/// Whether a retryable failure says the backend is out of reach (no
/// connection, a timeout, or the kiosk not enrolled yet), rather than
/// something about the entry.
fn is_link_down(reason: &str) -> bool {
    ["UNREACHABLE", "TIMEOUT", "TRANSPORT", "NOT_ENROLLED"]
        .iter()
        .any(|c| reason.starts_with(c))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_link_down_is_told_from_a_bad_entry() {
        assert!(is_link_down("UNREACHABLE: error sending request"));
        assert!(is_link_down("TIMEOUT: operation timed out"));
        assert!(is_link_down("NOT_ENROLLED"));
        assert!(!is_link_down("503 SERVICE_UNAVAILABLE"));
        assert!(!is_link_down("401 UNAUTHORIZED"));
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_within_the_jitter() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
            jitter: 0.25,
        };
        for _ in 0..50 {
            let d1 = b.delay(1).as_secs_f64();
            assert!((0.075..=0.125).contains(&d1), "{d1}");
            let d3 = b.delay(3).as_secs_f64();
            assert!((0.3..=0.5).contains(&d3), "{d3}");
            let d40 = b.delay(40).as_secs_f64();
            assert!((1.5..=2.5).contains(&d40), "{d40}");
        }
        let exact = Backoff { jitter: 0.0, ..b };
        assert_eq!(exact.delay(2), Duration::from_millis(200));
        assert_eq!(exact.delay(0), Duration::from_millis(100));
    }
}
