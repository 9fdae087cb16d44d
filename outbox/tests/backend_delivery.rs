//! Delivery to a real seeded backend: offline then online, exactly once;
//! replays return the same case; a reply lost after the commit (R3) does
//! not make a second case; a refused submission is kept.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use common::*;
use outbox::{Backoff, Courier, Delivered, DeliveryError, HttpCourier, Item, Outbox, State};

/// The kiosk's token, set once enrolment succeeded.
#[derive(Clone, Default)]
struct Token(Arc<RwLock<Option<String>>>);

impl Token {
    fn set(&self, t: &str) {
        *self.0.write().unwrap() = Some(t.to_owned());
    }
}

impl outbox::TokenSource for Token {
    fn token(&self) -> Option<String> {
        self.0.read().unwrap().clone()
    }
}

fn quick() -> Backoff {
    Backoff {
        initial: Duration::from_millis(100),
        max: Duration::from_millis(500),
        jitter: 0.2,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_offline_then_delivered_exactly_once_when_the_backend_comes_back() {
    let dir = temp_dir("offline");
    let db = dir.join("outbox.db");
    let ob = Arc::new(Outbox::open(&db).unwrap());
    let (url, port) = dead_url();
    let token = Token::default();
    // A token the kiosk had from before: the backend is just not there.
    token.set("stale");
    let courier = HttpCourier::new(&url, token.clone()).unwrap();
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, quick()));

    let people: Vec<(String, String)> = ["张伟", "李秀英", "王建国", "赵敏", "刘洋"]
        .iter()
        .enumerate()
        .map(|(n, name)| ((*name).to_owned(), id_number_born("19851203", n as u32)))
        .collect();
    let mut queued = Vec::new();
    for (name, id) in &people {
        let (it, label) = item(name, id, 150_000);
        queued.push(ob.enqueue(it, label).unwrap());
    }
    ob.checkpoint().unwrap();
    assert!(store_contains(&db, &people[0].1));

    // Down: nothing is delivered; attempts back off.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let pending = ob.pending().unwrap();
    assert_eq!(pending.len(), 5);
    let tried: Vec<_> = pending.iter().filter(|e| e.attempts > 0).collect();
    assert!(!tried.is_empty());
    assert!(
        tried.iter().all(|e| e
            .last_error
            .as_deref()
            .unwrap_or("")
            .starts_with("UNREACHABLE")),
        "{:?}",
        tried.iter().map(|e| &e.last_error).collect::<Vec<_>>()
    );
    let total: u32 = pending.iter().map(|e| e.attempts).sum();
    assert!(
        total <= 8,
        "{total} attempts in 1.2 s: the loop hammers a dead backend"
    );
    assert!(ob.status().borrow().last_error.is_some());

    // Up, on the same address; the kiosk enrols again (a new backend).
    let (base, _stop) = start_backend_on(&dir, &format!("127.0.0.1:{port}")).await;
    token.set(&enrol(&base).await);
    wait_for("the queue to drain", Duration::from_secs(30), || {
        ob.counts().unwrap().pending == 0
    })
    .await;
    runner.abort();

    for ((_, id), q) in people.iter().zip(&queued) {
        let e = ob.get(q.seq).unwrap().unwrap();
        assert_eq!(e.state, State::Delivered, "{:?}", e.last_error);
        assert!(!e.has_body);
        let reply = e.reply.unwrap();
        let cases = lookup(&base, &current_token(&token), id).await;
        assert_eq!(
            cases.len(),
            1,
            "expected exactly one case for the applicant"
        );
        assert_eq!(cases[0].case_number, reply.case_number);
        assert_eq!(cases[0].channel, "kiosk");
        assert!(reply.deadline.is_some());
    }
    ob.checkpoint().unwrap();
    for (_, id) in &people {
        assert!(
            !store_contains(&db, id),
            "an ID number is still in the outbox file"
        );
    }
}

fn current_token(token: &Token) -> String {
    outbox::TokenSource::token(token).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivering_the_same_item_twice_returns_the_same_case() {
    let dir = temp_dir("replay");
    let (base, _stop) = start_backend_on(&dir, "127.0.0.1:0").await;
    let token = enrol(&base).await;
    let t = token.clone();
    let courier = HttpCourier::new(&base, move || Some(t.clone())).unwrap();
    let id = id_number_born("19770315", 1);
    let mut sub = submission("孙丽", &id, 0);
    sub.idempotency_key = uuid::Uuid::now_v7().to_string();
    let item = Item::Submission(sub);

    let Delivered::Case {
        reply: first,
        replayed,
    } = courier.deliver(&item).await.unwrap()
    else {
        panic!("not a case")
    };
    assert!(!replayed, "the first delivery creates the case (201)");
    // The reply was lost; the kiosk sends it again.
    let Delivered::Case {
        reply: again,
        replayed,
    } = courier.deliver(&item).await.unwrap()
    else {
        panic!("not a case")
    };
    assert!(replayed, "the second delivery is a replay (200)");
    assert_eq!(again, first);
    let cases = lookup(&base, &token, &id).await;
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].case_number, first.case_number);

    // The same key with another body is refused for good.
    let Item::Submission(mut other) = item else {
        unreachable!()
    };
    other.form.insert("receiver".into(), "另一家单位".into());
    let err = courier.deliver(&Item::Submission(other)).await.unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Rejected { code, .. } if code == "IDEMPOTENCY_KEY_REUSED"),
        "{err:?}"
    );
}

/// Delivers, then "loses" the first reply: the backend committed, the
/// kiosk sees a retryable error (R3).
struct LosesFirstReply<C> {
    inner: C,
    calls: AtomicUsize,
}

impl<C: Courier> Courier for LosesFirstReply<C> {
    async fn deliver(&self, item: &Item) -> Result<Delivered, DeliveryError> {
        let result = self.inner.deliver(item).await;
        if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
            assert!(result.is_ok(), "{result:?}");
            return Err(DeliveryError::Retryable(
                "TRANSPORT: connection reset".into(),
            ));
        }
        result
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_lost_after_the_commit_is_retried_into_the_same_case() {
    let dir = temp_dir("r3");
    let (base, _stop) = start_backend_on(&dir, "127.0.0.1:0").await;
    let token = enrol(&base).await;
    let t = token.clone();
    let courier = LosesFirstReply {
        inner: HttpCourier::new(&base, move || Some(t.clone())).unwrap(),
        calls: AtomicUsize::new(0),
    };
    let ob = Arc::new(Outbox::open(dir.join("outbox.db")).unwrap());
    let id = id_number_born("19680722", 2);
    let (it, label) = item("周强", &id, 20_000);
    let q = ob.enqueue(it, label).unwrap();
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, quick()));
    wait_for("delivery", Duration::from_secs(20), || {
        ob.get(q.seq).unwrap().unwrap().state == State::Delivered
    })
    .await;
    runner.abort();
    let e = ob.get(q.seq).unwrap().unwrap();
    assert_eq!(e.attempts, 2);
    let reply = e.reply.unwrap();
    assert!(
        reply.replayed,
        "the second attempt must be the backend's replay"
    );
    let cases = lookup(&base, &token, &id).await;
    assert_eq!(cases.len(), 1, "one case only");
    assert_eq!(cases[0].case_number, reply.case_number);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_the_backend_refuses_is_kept_with_its_reason() {
    let dir = temp_dir("refused");
    let (base, _stop) = start_backend_on(&dir, "127.0.0.1:0").await;
    let token = enrol(&base).await;
    let ob = Arc::new(Outbox::open(dir.join("outbox.db")).unwrap());
    let id = id_number_born("19920101", 3);
    let mut sub = submission("吴芳", &id, 0);
    sub.matter_code = NO_SUCH_MATTER.into();
    let bad = ob
        .enqueue(
            Item::Submission(sub),
            outbox::Label::masked("未知事项", "吴芳", &id),
        )
        .unwrap();
    let (it, label) = item("吴芳", &id, 0);
    let good = ob.enqueue(it, label).unwrap();
    let t = token.clone();
    let courier = HttpCourier::new(&base, move || Some(t.clone())).unwrap();
    let runner = tokio::spawn(Arc::clone(&ob).run(courier, quick()));
    wait_for("both handled", Duration::from_secs(20), || {
        let c = ob.counts().unwrap();
        c.pending == 0
    })
    .await;
    runner.abort();
    let e = ob.get(bad.seq).unwrap().unwrap();
    assert_eq!(e.state, State::Rejected);
    assert_eq!(e.rejection.unwrap().code, "MATTER_NOT_FOUND");
    assert!(e.has_body);
    assert_eq!(ob.get(good.seq).unwrap().unwrap().state, State::Delivered);
    assert_eq!(lookup(&base, &token, &id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_retried_and_reported() {
    let dir = temp_dir("token");
    let (base, _stop) = start_backend_on(&dir, "127.0.0.1:0").await;
    struct Refusals(Arc<AtomicUsize>);
    impl outbox::TokenSource for Refusals {
        fn token(&self) -> Option<String> {
            Some("not-a-token".into())
        }
        fn refused(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let refusals = Arc::new(AtomicUsize::new(0));
    let courier = HttpCourier::new(&base, Refusals(Arc::clone(&refusals))).unwrap();
    let (it, _) = item("郑华", &id_number_born("19800101", 4), 0);
    let err = courier.deliver(&it).await.unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Retryable(m) if m.contains("401")),
        "{err:?}"
    );
    assert_eq!(refusals.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_is_delivered_once_and_replays_the_same_answer() {
    // The seeded 李秀英 has a case waiting for a correction (待补正).
    const ID: &str = "410403196207080023";
    let dir = temp_dir("correction");
    let (base, _stop) = start_backend_on(&dir, "127.0.0.1:0").await;
    let token = enrol(&base).await;
    let case = lookup(&base, &token, ID)
        .await
        .into_iter()
        .find(|c| c.status == proto::CaseStatus::CorrectionRequested)
        .expect("the demo data has a case in 待补正");
    let progress: proto::CaseProgress = reqwest::Client::new()
        .post(format!("{base}/api/v1/cases/progress"))
        .bearer_auth(&token)
        .json(&proto::CaseProgressQuery {
            case_number: case.case_number.clone(),
            id_last6: ID[12..].into(),
            track_code: None,
        })
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!progress.correction_items.is_empty());

    let ob = Arc::new(Outbox::open(dir.join("outbox.db")).unwrap());
    let (mut it, label) = correction(&case.case_number, ID, &progress.correction_items);
    if let Item::Correction(c) = &mut it {
        c.idempotency_key = uuid::Uuid::now_v7().to_string();
    }
    let q = ob.enqueue(it.clone(), label).unwrap();
    let t = token.clone();
    let courier = Arc::new(HttpCourier::new(&base, move || Some(t.clone())).unwrap());
    let runner = tokio::spawn(Arc::clone(&ob).run(Arc::clone(&courier), quick()));
    wait_for("the correction", Duration::from_secs(20), || {
        ob.counts().unwrap().pending == 0
    })
    .await;
    runner.abort();
    let e = ob.get(q.seq).unwrap().unwrap();
    assert_eq!(
        e.state,
        State::Delivered,
        "{:?} {:?}",
        e.last_error,
        e.rejection
    );
    assert_eq!(e.reply.unwrap().case_number, case.case_number);
    let now = lookup(&base, &token, ID)
        .await
        .into_iter()
        .find(|c| c.case_number == case.case_number)
        .unwrap();
    assert_eq!(now.status, proto::CaseStatus::Resubmitted);
    // Sent again (the reply was lost): the backend replays, nothing changes.
    assert_eq!(
        courier.deliver(&it).await.unwrap(),
        Delivered::Correction {
            case_number: case.case_number.clone(),
            replayed: true
        }
    );
}
