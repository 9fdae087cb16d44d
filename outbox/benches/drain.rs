//! Outbox figures, measured in one run on one machine against a real
//! seeded backend on loopback:
//!
//! * enqueue latency p50/p99 with `synchronous=FULL` (one fsynced
//!   transaction per item: the time before the receipt may print);
//! * draining N queued submissions after "reconnect" (the delivery loop
//!   started on a full queue), in items/s;
//! * the online path for comparison: the same number of submissions
//!   posted directly, one after another, with the same client.
//!
//! Two rounds: small submissions (form plus the matter's two required
//! materials at about 1 KB each: the backend refuses a submission without
//! them) and submissions with a 200 KB ID-card scan.
//!
//! Run: `cargo bench -p outbox --bench drain` (`-- --items N` to change
//! the count, default 1000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use outbox::{Backoff, Courier, HttpCourier, Item, Label, Outbox};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn person(i: usize) -> (String, String) {
    let births = ["19700101", "19800202", "19900303", "20000404"];
    let id = id_number_born(births[i / 1000 % births.len()], (i % 1000) as u32);
    ("张伟".to_owned(), id)
}

fn round(
    rt: &tokio::runtime::Runtime,
    base: &str,
    token: &str,
    items: usize,
    scan_bytes: usize,
    offset: usize,
) {
    let dir = temp_dir("bench");
    let db = dir.join("outbox.db");
    let ob = Arc::new(Outbox::open(&db).unwrap());
    let body_len = serde_json::to_string(&submission("张伟", &person(0).1, scan_bytes))
        .unwrap()
        .len();
    println!(
        "\n## round: {items} submissions, body ≈ {:.1} KB (ID-card scan {} KB)",
        body_len as f64 / 1024.0,
        scan_bytes / 1024
    );

    // Offline: enqueue everything, timing each durable commit.
    let mut lat = Vec::with_capacity(items);
    let t0 = Instant::now();
    for i in 0..items {
        let (name, id) = person(offset + i);
        let sub = submission(&name, &id, scan_bytes);
        let label = Label::masked(MATTER_NAME, &name, &id);
        let start = Instant::now();
        ob.enqueue(Item::Submission(sub), label).unwrap();
        lat.push(start.elapsed());
    }
    let enqueue_wall = t0.elapsed();
    lat.sort();
    println!(
        "enqueue (synchronous=FULL)     n={items:>5}  {:>7.0}/s  p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        items as f64 / enqueue_wall.as_secs_f64(),
        ms(pct(&lat, 0.50)),
        ms(pct(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or_default()),
    );
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.join("outbox.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "store on disk with the queue full: {:.1} MB",
        size as f64 / 1e6
    );

    // Reconnect: the loop starts on the full queue.
    let t = token.to_owned();
    let courier = Arc::new(HttpCourier::new(base, move || Some(t.clone())).unwrap());
    let drain = rt.block_on(async {
        let mut status = ob.status();
        let start = Instant::now();
        let runner = tokio::spawn(Arc::clone(&ob).run(Arc::clone(&courier), Backoff::default()));
        status
            .wait_for(|s| s.pending == 0 && !s.delivering)
            .await
            .unwrap();
        let took = start.elapsed();
        runner.abort();
        took
    });
    let counts = ob.counts().unwrap();
    assert_eq!(counts.delivered as usize, items, "{counts:?}");
    let drain_rate = items as f64 / drain.as_secs_f64();
    println!(
        "drain after reconnect          n={items:>5}  {drain_rate:>7.0}/s  total {:>7.2} s",
        drain.as_secs_f64()
    );

    // Online path: the same submissions (new keys) posted directly.
    let online = rt.block_on(async {
        let start = Instant::now();
        for i in 0..items {
            let (name, id) = person(offset + i);
            let mut sub = submission(&name, &id, scan_bytes);
            sub.idempotency_key = uuid::Uuid::now_v7().to_string();
            courier.deliver(&Item::Submission(sub)).await.unwrap();
        }
        start.elapsed()
    });
    let online_rate = items as f64 / online.as_secs_f64();
    println!(
        "online, posted directly        n={items:>5}  {online_rate:>7.0}/s  total {:>7.2} s",
        online.as_secs_f64()
    );
    println!(
        "drain / online: {:.2} (the drain adds a read and an fsynced delivery record per item)",
        drain_rate / online_rate
    );
    drop(ob);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let items = args
        .iter()
        .position(|a| a == "--items")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000_usize);
    let rt = runtime();
    let dir = temp_dir("bench-backend");
    let (base, stop) = rt.block_on(start_backend_on(&dir, "127.0.0.1:0"));
    let token = rt.block_on(enrol(&base));
    println!("# outbox drain benchmark (backend on {base}, 2 tokio workers)");
    round(&rt, &base, &token, items, 1024, 0);
    round(&rt, &base, &token, items, 200 * 1024, items);
    let _ = stop.send(());
    drop(rt);
    let _ = std::fs::remove_dir_all(&dir);
}
