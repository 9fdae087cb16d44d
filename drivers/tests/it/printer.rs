//! The ESC/POS driver against the simulated printer over real TCP
//! loopback, and against hand-made misbehaving peers.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use drivers::receipt_printer::{EscPosPrinter, self_test_receipt};
use hal::receipt::{Align, PaperLevel, PaperWidth, Receipt, ReceiptPrinter, TextSize};
use hal::{Device, DeviceEvent, ErrorKind, HealthState, Selector};
use sim::printer::{PrinterSim, SimPaper};

struct Rig {
    sim: PrinterSim,
    dir: PathBuf,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("escpos-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir).unwrap();
        Rig { sim, dir }
    }

    fn selector(&self) -> Selector {
        format!("tcp:{}", self.sim.addr()).parse().unwrap()
    }

    fn open(&self) -> EscPosPrinter {
        EscPosPrinter::open(&self.selector()).unwrap()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn within(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

/// Every QR code zbar finds on the picture.
fn zbar(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .expect("zbarimg is installed by `cargo xtask test` (Debian zbar-tools)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn receipt(case: &str) -> Receipt {
    Receipt::new(PaperWidth::Mm80)
        .title("办件查询回执")
        .styled("Case receipt", Align::Centre, TextSize::NORMAL, false)
        .rule()
        .line(format!("办件编号：{case}"))
        .line("事项：城乡居民最低生活保障申请")
        .line("身份证号：410403********0013")
        .qr(case)
        .cut()
}

#[test]
fn a_receipt_arrives_as_chinese_text_with_a_qr_zbar_can_read() {
    let rig = Rig::new("print");
    let mut p = rig.open();
    let case = "41040320261128000001";
    let outcome = p.print(&receipt(case), within(5000)).unwrap();
    assert!(outcome.bytes_sent > 100);
    assert!(outcome.status_after.ready());
    let jobs = rig.sim.wait_for_jobs(1, Duration::from_secs(5));
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert!(job.complete && job.cut);
    assert_eq!(
        job.text.lines().collect::<Vec<_>>(),
        vec![
            "办件查询回执",
            "Case receipt",
            "------------------------------------------------",
            "办件编号：41040320261128000001",
            "事项：城乡居民最低生活保障申请",
            "身份证号：410403********0013",
        ]
    );
    assert_eq!(job.qr_codes, vec![case.to_string()]);
    let png = job.png.as_ref().unwrap();
    let img = image::open(png).unwrap();
    assert_eq!(img.width(), 576, "80 mm at 203 dpi");
    assert_eq!(
        zbar(png),
        vec![case.to_string()],
        "QR on the rendered paper decodes to the case number"
    );
    assert_eq!(p.health().counters["prints"], 1);
}

#[test]
fn self_test_receipt_prints_every_size_and_a_readable_qr() {
    let rig = Rig::new("selftest");
    let mut p = rig.open();
    p.print(&self_test_receipt(PaperWidth::Mm80), within(5000))
        .unwrap();
    let job = rig.sim.wait_for_jobs(1, Duration::from_secs(5)).remove(0);
    assert!(job.text.contains("打印机自检"));
    assert!(job.text.contains("倍宽倍高 DOUBLE"));
    let qr = job.qr_codes.first().unwrap();
    assert!(qr.starts_with("SELFTEST-"));
    assert_eq!(zbar(job.png.as_ref().unwrap()), vec![qr.clone()]);
}

#[test]
fn status_follows_paper_and_cover_and_health_follows_status() {
    let rig = Rig::new("status");
    let mut p = rig.open();
    let s = p.status(within(2000)).unwrap();
    assert!(s.ready());
    assert_eq!(p.health().state, HealthState::Ok);

    rig.sim.set_paper(SimPaper::NearEnd);
    let events = p.poll(within(2000));
    assert_eq!(events, vec![DeviceEvent::PaperLow]);
    assert_eq!(p.health().state, HealthState::Degraded);
    assert_eq!(p.health().fault_code.as_deref(), Some("PAPER_LOW"));

    rig.sim.set_paper(SimPaper::Out);
    assert_eq!(p.poll(within(2000)), vec![DeviceEvent::PaperOut]);
    assert_eq!(p.health().state, HealthState::Fault);
    assert_eq!(p.health().text_zh, "打印机缺纸");

    rig.sim.set_paper(SimPaper::Ok);
    rig.sim.set_cover_open(true);
    let events = p.poll(within(2000));
    assert!(
        events.contains(&DeviceEvent::PaperOk) && events.contains(&DeviceEvent::CoverOpened),
        "{events:?}"
    );
    let s = p.status(within(2000)).unwrap();
    assert!(s.cover_open && !s.online);
    rig.sim.set_cover_open(false);
    assert_eq!(p.poll(within(2000)), vec![DeviceEvent::CoverClosed]);
    assert_eq!(p.health().state, HealthState::Ok);
    assert_eq!(p.health().counters["paper_low"], 1);
    assert_eq!(p.health().counters["paper_out"], 1);
}

#[test]
fn paper_out_or_cover_open_refuses_the_job_before_sending_it() {
    let rig = Rig::new("refuse");
    let mut p = rig.open();
    rig.sim.set_paper(SimPaper::Out);
    let e = p
        .print(&receipt("41040320261128000002"), within(3000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PaperOut);
    assert_eq!(e.kind().message_zh(), "打印机缺纸");
    rig.sim.set_paper(SimPaper::Ok);
    rig.sim.set_cover_open(true);
    let e = p
        .print(&receipt("41040320261128000002"), within(3000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CoverOpen);
    std::thread::sleep(Duration::from_millis(200));
    assert!(rig.sim.jobs().is_empty(), "nothing reached the paper");
    assert_eq!(rig.sim.state().discarded_bytes, 0, "nothing was even sent");
    rig.sim.set_cover_open(false);
    p.print(&receipt("41040320261128000002"), within(3000))
        .unwrap();
    assert_eq!(
        rig.sim.wait_for_jobs(1, Duration::from_secs(5)).len(),
        1,
        "prints once the cover is shut"
    );
    assert_eq!(p.health().counters["print_errors"], 2);
}

#[test]
fn switched_off_printer_is_offline_and_comes_back_without_reopening() {
    let rig = Rig::new("plug");
    let mut p = rig.open();
    p.status(within(2000)).unwrap();
    rig.sim.set_unplugged(true);
    std::thread::sleep(Duration::from_millis(150));
    let e = p.status(within(2000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Disconnected, "{e}");
    assert_eq!(p.health().state, HealthState::Offline);
    let e = p
        .print(&receipt("41040320261128000003"), within(2000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Disconnected);

    rig.sim.set_unplugged(false);
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match p.status(within(1000)) {
            Ok(s) => {
                assert!(s.ready());
                break;
            }
            Err(e) if Instant::now() < end => {
                assert_eq!(e.kind(), ErrorKind::Disconnected);
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("printer did not come back: {e}"),
        }
    }
    assert_eq!(p.health().state, HealthState::Ok);
    p.print(&receipt("41040320261128000003"), within(3000))
        .unwrap();
    assert_eq!(rig.sim.wait_for_jobs(1, Duration::from_secs(5)).len(), 1);
}

#[test]
fn a_printer_that_is_not_there_cannot_be_opened() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let sel: Selector = format!("tcp:{addr}").parse().unwrap();
    let e = EscPosPrinter::open(&sel).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Disconnected);
}

/// A peer that accepts and then answers `reply` to anything (or nothing).
fn peer(reply: Option<u8>) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 64];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Some(b) = reply {
                let _ = s.write_all(&vec![b; n / 3]);
            }
        }
    });
    (addr, h)
}

#[test]
fn a_garbage_status_answer_is_a_protocol_error_and_nothing_is_printed() {
    let (addr, h) = peer(Some(0xFF));
    let sel: Selector = format!("tcp:{addr}").parse().unwrap();
    let mut p = EscPosPrinter::open(&sel).unwrap();
    let e = p
        .print(&receipt("41040320261128000004"), within(2000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    drop(p);
    h.join().unwrap();
}

#[test]
fn a_silent_printer_times_out_at_the_deadline() {
    let (addr, h) = peer(None);
    let sel: Selector = format!("tcp:{addr}").parse().unwrap();
    let mut p = EscPosPrinter::open(&sel).unwrap();
    let t = Instant::now();
    let e = p.status(within(400)).unwrap_err();
    let took = t.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        took < Duration::from_millis(1500),
        "kept to its deadline: {took:?}"
    );
    drop(p);
    h.join().unwrap();
}

#[test]
fn both_paper_widths_print_and_58mm_rules_are_32_columns() {
    let rig = Rig::new("width");
    let sel: Selector = format!("tcp:{}?width=58", rig.sim.addr()).parse().unwrap();
    let mut p = EscPosPrinter::open(&sel).unwrap();
    assert_eq!(p.width(), PaperWidth::Mm58);
    p.print(
        &Receipt::new(p.width()).line("排队号 A012").rule().cut(),
        within(3000),
    )
    .unwrap();
    let job = rig.sim.wait_for_jobs(1, Duration::from_secs(5)).remove(0);
    assert_eq!(job.text, format!("排队号 A012\n{}", "-".repeat(32)));
    let s = p.status(within(1000)).unwrap();
    assert_eq!(s.paper, PaperLevel::Ok);
}
