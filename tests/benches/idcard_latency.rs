//! Benchmark: ID card laid → identity available in the kiosk.
//!
//! Runs the real GA 467 driver inside the `hal` actor (as the kiosk does)
//! against the simulated reader on a pseudo-terminal, and prints, for a
//! number of rounds, the time from "card laid" to "identity in hand",
//! split into the wait for the reader's find poll and the read itself.
//! The comparison point, printed in the same run, is the time the same
//! bytes need on a real serial line at the configured baud rate (10 bits
//! a byte for 8N1). A pseudo-terminal has no baud rate, so the read
//! beating the wire time shows the driver's own overhead; on hardware
//! the wire time and the card's ~0.5–1.5 s of RF work add to it.
//!
//! Run: `cargo bench -p workspace-tests --bench idcard_latency`

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::{Duration, Instant};

use hal::actor::{IdCardHandle, spawn};
use hal::{DeviceEvent, DeviceKind, Selector};

const ROUNDS: usize = 20;
const BAUD: u32 = 115_200;

fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("bench-idcard-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sim = sim::idcard::IdCardSim::start(&dir, "idcard")?;
    let selector: Selector = format!("serial:{}?baud={BAUD}", sim.path().display()).parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let card = sim::idcard::demo_person("zhangwei")
        .ok_or_else(|| anyhow::anyhow!("demo person missing"))?;

    let (mut total, mut reads) = (Vec::new(), Vec::new());
    rt.block_on(async {
        let sel = selector.clone();
        let reader: IdCardHandle = spawn("idcard", DeviceKind::IdCardReader, move || {
            drivers::registry::open_id_card_reader(&sel)
        })?;
        let mut events = reader.events();
        for round in 0..ROUNDS {
            sim.remove_card();
            // A person lays the card at any moment of the poll cycle: step
            // the moment through the 300 ms cycle so the figures are not
            // phase-locked to the previous round's poll.
            tokio::time::sleep(Duration::from_millis((round as u64 * 53) % 300 + 5)).await;
            let laid = Instant::now();
            sim.lay_card(card.clone());
            loop {
                match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
                    Ok(Ok(DeviceEvent::CardLaid)) => break,
                    Ok(Ok(_)) => continue,
                    other => anyhow::bail!("no CardLaid event: {other:?}"),
                }
            }
            let start = Instant::now();
            let read = reader.read(true, Duration::from_secs(5)).await?;
            reads.push(start.elapsed());
            total.push(laid.elapsed());
            drop(read);
        }
        anyhow::Ok(())
    })?;
    sim.stop();

    // Bytes on the wire for one find + select + read-with-fingerprint.
    let request = 10; // every command frame is 10 bytes
    let find_reply = 15;
    let select_reply = 19;
    let read_reply = 2321; // text 256 + photo 1024 + fingerprint 1024 + headers
    let bytes = 3 * request + find_reply + select_reply + read_reply;
    let wire = Duration::from_secs_f64(f64::from(bytes * 10) / f64::from(BAUD));

    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
        (p(0.5), p(0.9), v[v.len() - 1])
    };
    let (r50, r90, rmax) = stats(&mut reads);
    let (t50, t90, tmax) = stats(&mut total);
    println!(
        "ID card latency, {ROUNDS} rounds, simulated reader on a pseudo-terminal, driver in the hal actor"
    );
    println!("  read (find+select+read+decode): p50 {r50:.2?}  p90 {r90:.2?}  max {rmax:.2?}");
    println!(
        "  card laid → identity in hand:   p50 {t50:.2?}  p90 {t90:.2?}  max {tmax:.2?}  (includes the 300 ms find poll)"
    );
    println!(
        "  comparison: the same {bytes} bytes at {BAUD} baud 8N1 take {wire:.2?} on a real serial line"
    );
    Ok(())
}
