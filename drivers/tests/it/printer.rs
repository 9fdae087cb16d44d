//! The ESC/POS driver against the simulated printer over real TCP
//! loopback, and against hand-made misbehaving peers.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use drivers::receipt_printer::{EscPosPrinter, logo_from_png, self_test_receipt};
use hal::receipt::layout::{
    CaseReceipt, PaymentReceipt, QueueTicket, case_receipt, payment_receipt, queue_ticket,
};
use hal::receipt::{
    Align, Block, PaperLevel, PaperWidth, Receipt, ReceiptPrinter, TextSize, print_interrupted,
};
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

    /// The simulator on a pseudo-terminal, the driver on `serial:LINK`.
    fn serial(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("escpos-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = PrinterSim::start_serial(&dir, "printer").unwrap();
        Rig { sim, dir }
    }

    fn selector(&self) -> Selector {
        self.sim.selector().parse().unwrap()
    }

    fn selector_with(&self, query: &str) -> Selector {
        format!("{}?{query}", self.sim.selector()).parse().unwrap()
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

/// Every symbol zbar finds on the picture, as `TYPE:data`.
fn zbar_all(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--quiet"])
        .arg(png)
        .output()
        .expect("zbarimg is installed by `cargo xtask test` (Debian zbar-tools)");
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
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

// ---- transports -------------------------------------------------------

#[test]
fn serial_transport_prints_and_reads_status_over_a_pty() {
    let rig = Rig::serial("serial-print");
    let mut p = EscPosPrinter::open(&rig.selector_with("baud=115200")).unwrap();
    assert!(p.location().starts_with("serial:"));
    let case = "41040320261128000011";
    p.print(&receipt(case), within(5000)).unwrap();
    let job = rig.sim.wait_for_jobs(1, Duration::from_secs(5)).remove(0);
    assert!(job.complete && job.cut);
    assert!(job.text.contains("办件编号：41040320261128000011"));
    assert_eq!(zbar(job.png.as_ref().unwrap()), vec![case.to_string()]);
    rig.sim.set_paper(SimPaper::NearEnd);
    assert_eq!(p.poll(within(2000)), vec![DeviceEvent::PaperLow]);
    assert_eq!(p.health().state, HealthState::Degraded);
    rig.sim.set_cover_open(true);
    let e = p.print(&receipt(case), within(3000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::CoverOpen);
    assert_eq!(p.health().state, HealthState::Fault);
}

#[test]
fn serial_printer_unplugged_goes_offline_and_comes_back_on_the_same_path() {
    let rig = Rig::serial("serial-plug");
    let mut p = EscPosPrinter::open(&rig.selector()).unwrap();
    p.status(within(2000)).unwrap();
    rig.sim.set_unplugged(true);
    let end = Instant::now() + Duration::from_secs(2);
    loop {
        match p.status(within(300)) {
            Err(e) if matches!(e.kind(), ErrorKind::Disconnected | ErrorKind::NotFound) => break,
            other if Instant::now() >= end => panic!("still there after unplug: {other:?}"),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    assert_eq!(p.health().state, HealthState::Offline, "offline within 2 s");
    rig.sim.set_unplugged(false);
    let end = Instant::now() + Duration::from_secs(5);
    while p.status(within(500)).is_err() {
        assert!(Instant::now() < end, "not back within 5 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(p.health().state, HealthState::Ok);
    p.print(&receipt("41040320261128000012"), within(3000))
        .unwrap();
    assert!(rig.sim.wait_for_jobs(1, Duration::from_secs(5))[0].complete);
}

#[test]
fn a_usb_selector_for_an_absent_printer_fails_cleanly() {
    let sel: Selector = "usb:fffe:0001".parse().unwrap();
    let e = EscPosPrinter::open(&sel).err().unwrap();
    assert_ne!(e.kind(), ErrorKind::Config, "{e}");
    let sel: Selector = "usb:fffe:0001:?width=70".parse().unwrap();
    assert_eq!(
        EscPosPrinter::open(&sel).err().unwrap().kind(),
        ErrorKind::Config
    );
}

// ---- paper out mid-job ------------------------------------------------

fn long_receipt(width: PaperWidth) -> Receipt {
    let mut r = Receipt::new(width).title("办件清单");
    for i in 1..=10 {
        r = r.line(format!("第{i}项 事项名称"));
    }
    r.qr("LIST-0001").cut()
}

fn paper_out_mid_job_then_reprint(rig: &Rig) {
    let mut p = EscPosPrinter::open(&rig.selector()).unwrap();
    let r = long_receipt(PaperWidth::Mm80);
    // The title and three items print, then the paper ends.
    rig.sim.set_paper_runs_out_after(Some(4));
    let e = p.print(&r, within(5000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PaperOut, "{e}");
    let info = print_interrupted(&e).expect("says how far it got");
    assert_eq!(info.total, r.blocks.len());
    assert_eq!(info.printed_blocks, 4, "{e}");
    assert!(
        e.detail().contains("reprint from block 4"),
        "{}",
        e.detail()
    );
    let job = rig.sim.wait_for_jobs(1, Duration::from_secs(5)).remove(0);
    assert!(!job.complete && !job.cut, "the job on paper is incomplete");
    assert_eq!(
        job.text.lines().collect::<Vec<_>>(),
        vec![
            "办件清单",
            "第1项 事项名称",
            "第2项 事项名称",
            "第3项 事项名称"
        ]
    );
    assert!(job.qr_codes.is_empty());
    let s = p.status(within(2000)).unwrap();
    assert_eq!(
        s.paper,
        PaperLevel::Out,
        "the following status says paper out"
    );
    assert_eq!(p.health().state, HealthState::Fault);
    assert_eq!(p.poll(within(2000)), vec![DeviceEvent::PaperOut]);
    assert_eq!(p.health().counters["print_interrupted"], 1);

    // A reprint while still out is refused before a byte is sent.
    let e = p
        .reprint(&r, Some(info.printed_blocks), within(3000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PaperOut);
    assert!(print_interrupted(&e).is_none(), "nothing started");

    // Paper loaded: the rest, labelled 补打, from the block that failed.
    rig.sim.set_paper(SimPaper::Ok);
    p.reprint(&r, Some(info.printed_blocks), within(5000))
        .unwrap();
    let jobs = rig.sim.wait_for_jobs(2, Duration::from_secs(5));
    let rest = &jobs[1];
    assert!(rest.complete && rest.cut);
    let lines: Vec<&str> = rest.text.lines().collect();
    assert_eq!(lines[0], "补打（续） REPRINT (continued)");
    assert_eq!(lines[1], "第4项 事项名称");
    assert_eq!(lines.last(), Some(&"第10项 事项名称"));
    assert_eq!(rest.qr_codes, vec!["LIST-0001".to_string()]);

    // Or the whole receipt again.
    p.reprint(&r, None, within(5000)).unwrap();
    let whole = &rig.sim.wait_for_jobs(3, Duration::from_secs(5))[2];
    assert!(whole.complete);
    assert!(whole.text.starts_with("补打 REPRINT\n办件清单\n第1项"));
}

#[test]
fn paper_out_mid_job_over_tcp_stops_and_reprints_the_rest() {
    paper_out_mid_job_then_reprint(&Rig::new("midjob-tcp"));
}

#[test]
fn paper_out_mid_job_over_serial_stops_and_reprints_the_rest() {
    paper_out_mid_job_then_reprint(&Rig::serial("midjob-serial"));
}

#[test]
fn paper_near_end_still_prints_and_raises_a_maintenance_alert() {
    let rig = Rig::new("nearend");
    let mut p = rig.open();
    p.status(within(2000)).unwrap();
    rig.sim.set_paper(SimPaper::NearEnd);
    let out = p
        .print(&receipt("41040320261128000021"), within(5000))
        .unwrap();
    assert_eq!(out.status_after.paper, PaperLevel::NearEnd);
    assert!(rig.sim.wait_for_jobs(1, Duration::from_secs(5))[0].complete);
    assert_eq!(p.health().state, HealthState::Degraded);
    assert_eq!(p.health().fault_code.as_deref(), Some("PAPER_LOW"));
    // The event seen during the print is not lost.
    assert_eq!(p.poll(within(2000)), vec![DeviceEvent::PaperLow]);
}

#[test]
fn cover_opened_mid_job_interrupts_it() {
    let rig = Rig::new("cover-mid");
    let mut p = rig.open();
    let r = long_receipt(PaperWidth::Mm80);
    // A peer thread opens the cover as soon as the first lines are in.
    let sim = rig.sim.clone();
    rig.sim.set_paper_runs_out_after(None);
    let t = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(5);
        while sim.state().status_requests < 8 && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(1));
        }
        sim.set_cover_open(true);
    });
    match p.print(&r, within(5000)) {
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::CoverOpen, "{e}");
            let info = print_interrupted(&e).unwrap();
            assert!(info.printed_blocks < info.total);
        }
        // The job may have finished before the cover moved: then nothing
        // is to be reported, and the next job is refused.
        Ok(_) => {
            t.join().unwrap();
            let e = p.print(&r, within(2000)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::CoverOpen);
            return;
        }
    }
    t.join().unwrap();
}

#[test]
fn a_status_that_turns_to_garbage_mid_job_is_a_protocol_error_with_progress() {
    // A peer that answers good status to the first request and garbage
    // after the first block.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 4096];
        let mut asked = 0;
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            let reqs = buf[..n].windows(2).filter(|w| *w == [0x10, 0x04]).count();
            for _ in 0..reqs {
                asked += 1;
                let b = if asked <= 4 { 0x12 } else { 0x00 };
                let _ = s.write_all(&[b]);
            }
        }
    });
    let sel: Selector = format!("tcp:{addr}").parse().unwrap();
    let mut p = EscPosPrinter::open(&sel).unwrap();
    let e = p
        .print(&long_receipt(PaperWidth::Mm80), within(3000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert_eq!(print_interrupted(&e).unwrap().printed_blocks, 0);
    drop(p);
    h.join().unwrap();
}

// ---- documents --------------------------------------------------------

fn documents(width: PaperWidth) -> Vec<(&'static str, Receipt, Vec<String>)> {
    let centre = "卫东区政务服务中心".to_string();
    let time = "2026-11-28 09:30".to_string();
    vec![
        (
            "case",
            case_receipt(&CaseReceipt {
                width,
                centre: centre.clone(),
                case_number: "41040320261128000001".into(),
                item: "城乡居民最低生活保障申请（含低保边缘家庭认定）".into(),
                applicant: "李秀英".into(),
                status: "受理中".into(),
                time: time.clone(),
                query_url: "https://zwfw.example.gov.cn/c/41040320261128000001".into(),
            }),
            vec![
                "CODE-128:41040320261128000001".to_string(),
                "QR-Code:https://zwfw.example.gov.cn/c/41040320261128000001".to_string(),
            ],
        ),
        (
            "queue",
            queue_ticket(&QueueTicket {
                width,
                centre: centre.clone(),
                number: "A012".into(),
                service: "社会保障卡补换及个人权益记录查询打印".into(),
                waiting: 7,
                time: time.clone(),
                qr: "https://zwfw.example.gov.cn/q/A012".into(),
            }),
            vec!["QR-Code:https://zwfw.example.gov.cn/q/A012".to_string()],
        ),
        (
            "payment",
            payment_receipt(&PaymentReceipt {
                width,
                centre,
                item: "不动产登记费（住宅）".into(),
                amount_fen: 8000,
                payer: "张三丰".into(),
                channel: "微信支付".into(),
                order_number: "P2026112809300012".into(),
                time,
            }),
            vec![
                "CODE-128:P2026112809300012".to_string(),
                "QR-Code:P2026112809300012".to_string(),
            ],
        ),
    ]
}

fn every_document_prints_with_readable_codes(mm: u32, width: PaperWidth) {
    let rig = Rig::new(&format!("docs-{mm}"));
    rig.sim.set_paper_width_mm(mm);
    let mut p = EscPosPrinter::open(&rig.selector_with(&format!("width={mm}"))).unwrap();
    assert_eq!(p.width(), width);
    for (i, (name, r, codes)) in documents(width).into_iter().enumerate() {
        p.print(&r, within(5000)).unwrap();
        let job = rig
            .sim
            .wait_for_jobs(i + 1, Duration::from_secs(5))
            .remove(i);
        assert!(job.complete, "{name}");
        // Every row of text arrives as one line, no wider than the paper.
        let expected: Vec<String> = r
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text(t) => Some(t.text.clone()),
                Block::Rule => Some("-".repeat(width.columns())),
                _ => None,
            })
            .collect();
        assert_eq!(job.text.lines().collect::<Vec<_>>(), expected, "{name}");
        let png = job.png.as_ref().unwrap();
        assert_eq!(image::open(png).unwrap().width(), width.dots(), "{name}");
        let mut want = codes.clone();
        want.sort();
        assert_eq!(zbar_all(png), want, "{name} at {mm} mm: {}", png.display());
        for c in &codes {
            if let Some(d) = c.strip_prefix("CODE-128:") {
                assert_eq!(job.barcodes, vec![format!("CODE128:{d}")]);
            }
        }
    }
    let text = rig.sim.jobs()[2].text.clone();
    assert!(text.contains("80.00") && text.contains("张**") && !text.contains("张三丰"));
}

#[test]
fn documents_print_at_80mm_with_codes_zbar_reads() {
    every_document_prints_with_readable_codes(80, PaperWidth::Mm80);
}

#[test]
fn documents_print_at_58mm_with_codes_zbar_reads() {
    every_document_prints_with_readable_codes(58, PaperWidth::Mm58);
}

#[test]
fn ean13_code39_and_itf_are_drawn_as_bars_zbar_reads() {
    use hal::receipt::BarcodeKind;
    let rig = Rig::new("symbologies");
    let mut p = rig.open();
    let r = Receipt::new(PaperWidth::Mm80)
        .barcode(BarcodeKind::Ean13, "690123456789")
        .feed(2)
        .barcode(BarcodeKind::Code39, "CASE-2026")
        .feed(2)
        .barcode(BarcodeKind::Itf, "12345678")
        .cut();
    p.print(&r, within(5000)).unwrap();
    let job = rig.sim.wait_for_jobs(1, Duration::from_secs(5)).remove(0);
    assert_eq!(
        zbar_all(job.png.as_ref().unwrap()),
        vec![
            "CODE-39:CASE-2026".to_string(),
            "EAN-13:6901234567892".to_string(),
            "I2/5:12345678".to_string(),
        ]
    );
}

#[test]
fn a_logo_from_a_png_prints_as_a_raster_on_any_receipt() {
    // A black disc on white, 100 x 100, with grey edges.
    let mut img = image::GrayImage::from_pixel(100, 100, image::Luma([255]));
    for (x, y, px) in img.enumerate_pixels_mut() {
        let d = ((x as f32 - 50.0).powi(2) + (y as f32 - 50.0).powi(2)).sqrt();
        px.0[0] = if d < 35.0 {
            0
        } else if d < 45.0 {
            128
        } else {
            255
        };
    }
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let logo = logo_from_png(&png, 160, PaperWidth::Mm58).unwrap();
    let rig = Rig::new("logo");
    let mut p = rig.open();
    let r = receipt("41040320261128000031").with_logo(logo);
    p.print(&r, within(5000)).unwrap();
    let job = rig.sim.wait_for_jobs(1, Duration::from_secs(5)).remove(0);
    assert!(job.complete);
    let page = image::open(job.png.as_ref().unwrap()).unwrap().to_luma8();
    // The disc's centre is solid ink, its corner blank paper.
    let (cx, top) = ((576 - 160) / 2 + 80, 24 + 80);
    assert_eq!(page.get_pixel(cx, top).0[0], 0, "disc centre printed");
    assert_eq!(page.get_pixel((576 - 160) / 2 + 2, 24 + 2).0[0], 255);
    assert_eq!(
        zbar(job.png.as_ref().unwrap()),
        vec!["41040320261128000031".to_string()]
    );
}
