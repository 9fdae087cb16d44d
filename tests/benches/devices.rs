//! Benchmark: each device's operations against the time the same bytes
//! need on the device's real link, through the real drivers and the
//! simulators over their real transports.
//!
//! Run: `cargo bench -p workspace-tests --bench devices`. Figures are
//! recorded in docs/PERFORMANCE.md; nothing here asserts a time.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::{Duration, Instant};

use drivers::receipt_printer::{EscPosPrinter, encode};
use hal::Selector;
use hal::receipt::{Align, PaperWidth, Receipt, ReceiptPrinter, TextSize};
use sim::printer::PrinterSim;

const ROUNDS: usize = 20;

fn stats(v: &mut [Duration]) -> (Duration, Duration, Duration) {
    v.sort();
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.9), v[v.len() - 1])
}

fn case_receipt(i: usize) -> Receipt {
    let mut r = Receipt::new(PaperWidth::Mm80)
        .title("办件查询回执")
        .styled("卫东区政务服务中心", Align::Centre, TextSize::NORMAL, true)
        .rule()
        .line("申请人：张*")
        .line("证件号码：410403********0013")
        .line("查询结果：共 2 件")
        .rule();
    for n in 1..=2 {
        r = r
            .line(format!("{n}. 办件编号：4104032026112{n}0000{i:02}"))
            .line("   事项：公共租赁住房申请")
            .line("   部门：卫东区住房和城乡建设局")
            .line("   状态：审查中");
    }
    r.rule()
        .qr(format!("41040320261121{i:06}"))
        .line("扫码查询办件进度")
        .rule()
        .line("打印时间：2026-11-29 10:00:00")
        .cut()
}

fn receipt_printer() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("bench-printer-{}", std::process::id()));
    let sim = PrinterSim::start("127.0.0.1:0".parse()?, &dir)?;
    let sel: Selector = format!("tcp:{}", sim.addr()).parse()?;
    let mut printer = EscPosPrinter::open(&sel)?;
    let (mut enc, mut call, mut at_sim) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for i in 0..ROUNDS {
        let receipt = case_receipt(i);
        let t0 = Instant::now();
        let b = encode(&receipt)?;
        enc.push(t0.elapsed());
        bytes = b.len();
        let t1 = Instant::now();
        printer.print(&receipt, Instant::now() + Duration::from_secs(5))?;
        call.push(t1.elapsed());
        let jobs = sim.wait_for_jobs(i + 1, Duration::from_secs(10));
        anyhow::ensure!(jobs.len() == i + 1, "job {i} did not arrive");
        at_sim.push(t1.elapsed());
    }
    // Paper length of the job from its rendering (8 dots per mm).
    let png = sim
        .jobs()
        .last()
        .and_then(|j| j.png.clone())
        .ok_or_else(|| anyhow::anyhow!("no rendering"))?;
    let height_dots = image::image_dimensions(&png)?.1;
    sim.stop();
    let _ = std::fs::remove_dir_all(&dir);

    let (e50, _, emax) = stats(&mut enc);
    let (c50, c90, cmax) = stats(&mut call);
    let (s50, s90, smax) = stats(&mut at_sim);
    let serial = Duration::from_secs_f64((bytes * 10) as f64 / 115_200.0);
    let paper_mm = f64::from(height_dots) / 8.0;
    let paper = Duration::from_secs_f64(paper_mm / 250.0);
    println!(
        "Receipt printer (ESC/POS over TCP loopback), case receipt of {bytes} bytes, {ROUNDS} rounds"
    );
    println!("  encode document → bytes:                p50 {e50:.2?}  max {emax:.2?}");
    println!(
        "  print() (status, job, last byte, status): p50 {c50:.2?}  p90 {c90:.2?}  max {cmax:.2?}"
    );
    println!(
        "  document → job parsed and rendered by the simulator: p50 {s50:.2?}  p90 {s90:.2?}  max {smax:.2?}"
    );
    println!(
        "  comparison: the same bytes over a 115200 baud serial line take {serial:.2?}; the paper ({paper_mm:.0} mm) takes {paper:.2?} at a 250 mm/s thermal head"
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    receipt_printer()?;
    Ok(())
}
