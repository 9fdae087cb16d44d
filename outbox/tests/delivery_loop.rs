//! The delivery loop with scripted couriers: rejection keeps the body and
//! discard wipes it, backoff is persisted, a failing entry does not hold
//! up the others, enqueue and sync_now wake the loop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use common::*;
use outbox::{Backoff, Courier, Delivered, DeliveryError, Item, Outbox, OutboxError, State};

/// A courier whose answer is decided by `policy`; counts its calls.
struct Scripted<F> {
    calls: Arc<AtomicUsize>,
    policy: F,
}

impl<F> Courier for Scripted<F>
where
    F: Fn(&Item) -> Result<Delivered, DeliveryError> + Send + Sync + 'static,
{
    async fn deliver(&self, item: &Item) -> Result<Delivered, DeliveryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(2)).await;
        (self.policy)(item)
    }
}

fn scripted<F>(policy: F) -> (Scripted<F>, Arc<AtomicUsize>)
where
    F: Fn(&Item) -> Result<Delivered, DeliveryError> + Send + Sync + 'static,
{
    let calls = Arc::new(AtomicUsize::new(0));
    (
        Scripted {
            calls: Arc::clone(&calls),
            policy,
        },
        calls,
    )
}

fn created(item: &Item) -> Result<Delivered, DeliveryError> {
    Ok(Delivered::Case {
        reply: proto::CaseCreated {
            case_number: format!("4104032026112800{:04}", item.idempotency_key().len()),
            status: proto::CaseStatus::Submitted,
            submitted_at: "2026-11-28T10:00:00+08:00".into(),
            deadline: "2026-12-05".into(),
            track_code: String::new(),
        },
        replayed: false,
    })
}

fn quick() -> Backoff {
    Backoff {
        initial: Duration::from_millis(200),
        max: Duration::from_millis(400),
        jitter: 0.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_entry_keeps_its_body_until_discarded() {
    let dir = temp_dir("reject");
    let db = dir.join("outbox.db");
    let ob = Arc::new(Outbox::open(&db).unwrap());
    let (courier, _) = scripted(|_: &Item| {
        Err(DeliveryError::Rejected {
            code: "MATTER_NOT_AT_KIOSK".into(),
            message: "该事项不能在自助终端办理（not at kiosks）".into(),
        })
    });
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, quick()));
    let id = id_number(20);
    let (it, label) = item("张伟", &id, 10_000);
    let q = ob.enqueue(it, label).unwrap();
    let (it2, label2) = item("李秀英", &id_number(21), 0);
    let q2 = ob.enqueue(it2, label2).unwrap();
    let mut status = ob.status();
    wait_for("two rejections", Duration::from_secs(10), || {
        status.borrow_and_update().rejected == 2
    })
    .await;
    runner.abort();

    let e = ob.get(q.seq).unwrap().unwrap();
    assert_eq!(e.state, State::Rejected);
    assert!(e.has_body, "maintenance must see what was refused");
    let r = e.rejection.unwrap();
    assert_eq!(r.code, "MATTER_NOT_AT_KIOSK");
    assert!(r.message.contains("自助终端"));
    assert_eq!(e.attempts, 1);
    assert!(ob.item(q.seq).unwrap().is_some());
    assert_eq!(ob.rejected().unwrap().len(), 2);
    ob.checkpoint().unwrap();
    assert!(store_contains(&db, &id));

    ob.discard(q.seq).unwrap();
    ob.checkpoint().unwrap();
    assert!(
        !store_contains(&db, &id),
        "discard left the ID number in the file"
    );
    let e = ob.get(q.seq).unwrap().unwrap();
    assert_eq!(e.state, State::Discarded);
    assert!(!e.has_body);
    assert_eq!(e.rejection.unwrap().code, "MATTER_NOT_AT_KIOSK");
    assert!(matches!(
        ob.discard(q.seq),
        Err(OutboxError::WrongState {
            state: "discarded",
            ..
        })
    ));

    // The other one goes back into the queue, and cannot be discarded while pending.
    ob.requeue(q2.seq).unwrap();
    assert_eq!(ob.get(q2.seq).unwrap().unwrap().state, State::Pending);
    assert!(matches!(
        ob.discard(q2.seq),
        Err(OutboxError::WrongState {
            state: "pending",
            ..
        })
    ));
    let c = ob.counts().unwrap();
    assert_eq!((c.pending, c.rejected, c.discarded), (1, 0, 1));

    // Rejected entries are purged, body and all, after their retention.
    let (it3, label3) = item("赵敏", &id_number(22), 0);
    let q3 = ob.enqueue(it3, label3).unwrap();
    let (courier, _) = scripted(|_: &Item| {
        Err(DeliveryError::Rejected {
            code: "INVALID_FIELD".into(),
            message: "x".into(),
        })
    });
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, quick()));
    wait_for("the third rejection", Duration::from_secs(10), || {
        ob.get(q3.seq).unwrap().unwrap().state == State::Rejected
    })
    .await;
    runner.abort();
    let p = ob
        .purge_at(Utc::now() + chrono::Duration::days(31))
        .unwrap();
    assert!(p.rejected >= 1);
    assert!(ob.get(q3.seq).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backoff_is_persisted_so_a_restart_does_not_hammer() {
    let dir = temp_dir("backoff");
    let db = dir.join("outbox.db");
    let slow = Backoff {
        initial: Duration::from_secs(3),
        max: Duration::from_secs(10),
        jitter: 0.0,
    };
    let ob = Arc::new(Outbox::open(&db).unwrap());
    let (it, label) = item("张伟", &id_number(30), 0);
    let q = ob.enqueue(it, label).unwrap();
    let (courier, calls) =
        scripted(|_: &Item| Err(DeliveryError::Retryable("UNREACHABLE: test".into())));
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, slow));
    wait_for("the first attempt", Duration::from_secs(5), || {
        ob.get(q.seq).unwrap().unwrap().attempts == 1
    })
    .await;
    let e = ob.get(q.seq).unwrap().unwrap();
    assert_eq!(e.state, State::Pending);
    assert_eq!(e.last_error.as_deref(), Some("UNREACHABLE: test"));
    let wait = e.next_attempt_at.unwrap() - Utc::now();
    assert!(
        wait > chrono::Duration::milliseconds(2000),
        "next attempt only {wait} away"
    );
    let status = ob.status().borrow().clone();
    assert_eq!(status.pending, 1);
    assert_eq!(status.last_error.as_deref(), Some("UNREACHABLE: test"));
    assert!(status.next_attempt_at.is_some());
    runner.abort();
    drop(ob);

    // Restart: the entry is not due yet, so nothing is sent.
    let ob = Arc::new(Outbox::open(&db).unwrap());
    let (courier, calls2) =
        scripted(|_: &Item| Err(DeliveryError::Retryable("UNREACHABLE: test".into())));
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, slow));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        calls2.load(Ordering::SeqCst),
        0,
        "the restart retried at once"
    );

    // "Send now" from the maintenance screen makes it due at once.
    ob.sync_now().unwrap();
    wait_for("the attempt after sync_now", Duration::from_secs(2), || {
        calls2.load(Ordering::SeqCst) == 1
    })
    .await;
    runner.abort();
    assert_eq!(ob.get(q.seq).unwrap().unwrap().attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_that_keeps_failing_does_not_hold_up_the_others() {
    let dir = temp_dir("starve");
    let ob = Arc::new(Outbox::open(dir.join("outbox.db")).unwrap());
    let (mut bad, label) = item("张伟", &id_number(40), 0);
    if let Item::Submission(s) = &mut bad {
        s.idempotency_key = "always-fails".into();
    }
    let bad = ob.enqueue(bad, label).unwrap();
    let mut good = Vec::new();
    for n in 41..45 {
        let (it, label) = item("李秀英", &id_number(n), 0);
        good.push(ob.enqueue(it, label).unwrap());
    }
    let (courier, _) = scripted(|item: &Item| {
        if item.idempotency_key() == "always-fails" {
            Err(DeliveryError::Retryable("404 NOT_FOUND".into()))
        } else {
            created(item)
        }
    });
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, quick()));
    wait_for("the four good entries", Duration::from_secs(10), || {
        ob.counts().unwrap().delivered == 4
    })
    .await;
    runner.abort();
    let e = ob.get(bad.seq).unwrap().unwrap();
    assert_eq!(e.state, State::Pending);
    assert!(e.attempts >= 1);
    for q in good {
        assert_eq!(ob.get(q.seq).unwrap().unwrap().state, State::Delivered);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_loop_wakes_on_enqueue_and_reports_success() {
    let dir = temp_dir("wake");
    let ob = Arc::new(Outbox::open(dir.join("outbox.db")).unwrap());
    let (courier, calls) = scripted(created);
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, Backoff::default()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let mut status = ob.status();
    assert!(status.borrow_and_update().last_success_at.is_none());

    let (it, label) = item("张伟", &id_number(50), 0);
    let q = ob.enqueue(it, label).unwrap();
    // The loop otherwise sleeps an hour: only the wake-up can deliver it.
    wait_for("delivery after enqueue", Duration::from_secs(2), || {
        ob.get(q.seq).unwrap().unwrap().state == State::Delivered
    })
    .await;
    wait_for("the status", Duration::from_secs(2), || {
        let s = status.borrow_and_update();
        s.pending == 0 && s.last_success_at.is_some() && !s.delivering
    })
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    runner.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_body_is_set_aside_instead_of_blocking_the_queue() {
    let dir = temp_dir("unreadable");
    let db = dir.join("outbox.db");
    let (first, second) = {
        let ob = Outbox::open(&db).unwrap();
        let (a, la) = item("张伟", &id_number(60), 0);
        let (b, lb) = item("李秀英", &id_number(61), 0);
        (ob.enqueue(a, la).unwrap(), ob.enqueue(b, lb).unwrap())
    };
    // As if written by a build whose wire type has since changed.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE outbox_body SET json = '{\"matter_code\": 7}' WHERE seq = ?1",
            [first.seq],
        )
        .unwrap();
    let ob = Arc::new(Outbox::open(&db).unwrap());
    let (courier, calls) = scripted(created);
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, quick()));
    wait_for("the queue to empty", Duration::from_secs(5), || {
        ob.counts().unwrap().pending == 0
    })
    .await;
    runner.abort();
    let e = ob.get(first.seq).unwrap().unwrap();
    assert_eq!(e.state, State::Rejected);
    assert_eq!(e.rejection.unwrap().code, outbox::BODY_UNREADABLE);
    assert!(e.has_body, "kept for maintenance");
    assert_eq!(ob.get(second.seq).unwrap().unwrap().state, State::Delivered);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
