//! Crash safety (R1, process part): a child process (this test binary,
//! re-executed with a filter and an environment variable) opens the
//! outbox, enqueues items and prints each seq once `enqueue` returned,
//! then aborts at a random moment. The parent reopens the store: every
//! printed seq is there exactly once, whole, and `integrity_check` is ok.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use outbox::{Outbox, State};

const DB_ENV: &str = "OUTBOX_KILL9_DB";
const AFTER_ENV: &str = "OUTBOX_KILL9_AFTER_US";

/// The child's body; does nothing unless started by the parent below.
#[test]
#[ignore = "child process of every_acknowledged_item_survives_abort"]
fn kill9_child() {
    let (Ok(db), Ok(after)) = (std::env::var(DB_ENV), std::env::var(AFTER_ENV)) else {
        return;
    };
    let after: u64 = after.parse().unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_micros(after));
        std::process::abort();
    });
    let ob = Outbox::open(&db).unwrap();
    for n in 0.. {
        let id = id_number_born("19750101", n % 1000);
        let (it, label) = item("张伟", &id, 5_000 + (n as usize % 7) * 20_000);
        let q = ob.enqueue(it, label).unwrap();
        // Acknowledged: this is the moment a receipt would print.
        println!("SEQ {} {}", q.seq, q.idempotency_key);
    }
}

/// Runs one child that aborts after `after`; returns the (seq, key)
/// pairs it acknowledged.
fn run_child(db: &Path, after: Duration) -> Vec<(i64, String)> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "kill9_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DB_ENV, db)
        .env(AFTER_ENV, after.as_micros().to_string())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the child was meant to abort: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.strip_prefix("SEQ ")?.split(' ');
            Some((parts.next()?.parse().ok()?, parts.next()?.to_owned()))
        })
        .collect()
}

#[test]
fn every_acknowledged_item_survives_abort() {
    let dir = temp_dir("kill9");
    let db = dir.join("outbox.db");
    let mut acknowledged: BTreeMap<i64, String> = BTreeMap::new();
    // The first rounds abort during open and the first migration.
    let mut delays = vec![Duration::from_micros(300), Duration::from_millis(3)];
    delays.extend((0..6).map(|_| Duration::from_millis(rand::random_range(20..400))));
    for (round, after) in delays.into_iter().enumerate() {
        let acked = run_child(&db, after);
        for (seq, key) in &acked {
            assert!(
                acknowledged.insert(*seq, key.clone()).is_none(),
                "seq {seq} acknowledged twice"
            );
        }
        let ob = Outbox::open(&db).unwrap();
        assert!(
            ob.quarantined().is_none(),
            "round {round}: the store was found corrupt"
        );
        assert!(ob.integrity_check().unwrap().is_empty());
        let pending = ob.pending().unwrap();
        let mut keys = std::collections::HashSet::new();
        for e in &pending {
            assert!(keys.insert(e.idempotency_key.clone()), "key stored twice");
            // Whole: the body parses back into the item it was.
            let item = ob.item(e.seq).unwrap().unwrap();
            assert_eq!(item.idempotency_key(), e.idempotency_key);
        }
        for (seq, key) in &acknowledged {
            let e = ob
                .get(*seq)
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged seq {seq} is missing"));
            assert_eq!(&e.idempotency_key, key);
            assert_eq!(e.state, State::Pending);
        }
        assert!(pending.len() >= acknowledged.len());
        eprintln!(
            "round {round}: abort after {after:?}, {} acknowledged, {} stored",
            acked.len(),
            pending.len()
        );
    }
    assert!(
        !acknowledged.is_empty(),
        "no child ever acknowledged an item"
    );
}
