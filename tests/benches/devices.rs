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

use drivers::fingerprint::FingerprintModule;
use drivers::ipp_printer::IppPrinter;
use drivers::pinpad::SerialPinPad;
use drivers::receipt_printer::{EscPosPrinter, encode};
use drivers::scanner::SerialScanner;
use hal::docprinter::{DocumentPrinter, JobState, PrintDocument};
use hal::fingerprint::{Capture, CardMatch, CharBuffer, FingerprintScanner};
use hal::pinpad::PinPad;
use hal::receipt::{Align, PaperWidth, Receipt, ReceiptPrinter, TextSize};
use hal::{Device, Selector};
use sim::fingerprint::{FingerState, FingerprintSim, finger_template};
use sim::ipp::{IppSim, sample_pdf};
use sim::pinpad::PinPadSim;
use sim::printer::PrinterSim;
use sim::scanner::{ScannerConfig, ScannerSim, SimSuffix};

const ROUNDS: usize = 20;

fn stats(v: &mut [Duration]) -> (Duration, Duration, Duration) {
    v.sort();
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    (p(0.5), p(0.9), v[v.len() - 1])
}

/// `p50 …  p90 …  max …` of a series.
fn summary(v: &mut [Duration]) -> String {
    let (p50, p90, max) = stats(v);
    format!("p50 {p50:.2?}  p90 {p90:.2?}  max {max:.2?}")
}

/// Time `bytes` need on a serial line at `baud`, 8N1 (10 bits a byte).
fn wire(bytes: usize, baud: u32) -> Duration {
    Duration::from_secs_f64((bytes * 10) as f64 / f64::from(baud))
}

fn bench_dir(tag: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn within(d: Duration) -> Instant {
    Instant::now() + d
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

/// One `EF 01` packet with `payload` bytes (instruction or confirmation
/// code included): header 2, address 4, PID 1, length 2, checksum 2
/// (devices.md 2.1).
fn fp_packet(payload: usize) -> usize {
    11 + payload
}

/// Command packet + acknowledge packet of one instruction.
fn fp_exchange(params: usize, ack_data: usize) -> usize {
    fp_packet(1 + params) + fp_packet(1 + ack_data)
}

/// Data packets carrying `len` bytes in packets of `size`.
fn fp_data(len: usize, size: usize) -> usize {
    len.div_ceil(size) * 11 + len
}

fn fingerprint() -> anyhow::Result<()> {
    const BAUD: u32 = 57_600;
    const PAGE: u16 = 7;
    let dir = bench_dir("fingerprint")?;
    let sim = FingerprintSim::start(&dir, "fingerprint")?;
    let sel: Selector = format!("serial:{}?baud={BAUD}", sim.path().display()).parse()?;
    let mut m = FingerprintModule::open(&sel)?;
    let finger = FingerState::Finger("zhangwei".into());
    anyhow::ensure!(sim.store_template(PAGE, &finger), "library page refused");
    sim.set_finger(finger);
    // The card features' first template of the same person (512 bytes).
    let features = finger_template("zhangwei");
    let step = Duration::from_secs(5);
    // Once per session, outside the rounds: VfyPwd and ReadSysPara (the
    // data packet size the downloads use).
    let packet_size = usize::from(m.system_parameters(within(step))?.packet_size);
    let capacity = m.system_parameters(within(step))?.capacity;

    let (mut cap, mut ident, mut card, mut upload) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut commands = [0u64; 4];
    let mut template_len = 0;
    for _ in 0..ROUNDS {
        let c0 = sim.state().commands;
        let t = Instant::now();
        let r = m.capture(within(step))?;
        cap.push(t.elapsed());
        anyhow::ensure!(r == Capture::Captured, "capture: {r:?}");
        let c1 = sim.state().commands;

        let t = Instant::now();
        let r = m.capture(within(step))?;
        anyhow::ensure!(r == Capture::Captured, "capture: {r:?}");
        let r = m.image_to_template(CharBuffer::One, within(step))?;
        anyhow::ensure!(r == Capture::Captured, "image to template: {r:?}");
        let hit = m.search(CharBuffer::One, 0, capacity, within(step))?;
        ident.push(t.elapsed());
        anyhow::ensure!(hit.map(|h| h.page) == Some(PAGE), "search: {hit:?}");
        let c2 = sim.state().commands;

        let t = Instant::now();
        let r = m.match_card_features(&features, within(step))?;
        card.push(t.elapsed());
        anyhow::ensure!(matches!(r, CardMatch::Matched { .. }), "card match: {r:?}");
        let c3 = sim.state().commands;

        // Buffer 1 holds the template of the capture just made.
        let t = Instant::now();
        let tpl = m.upload_template(CharBuffer::One, within(step))?;
        upload.push(t.elapsed());
        template_len = tpl.len();
        anyhow::ensure!(
            tpl.as_bytes() == features.as_slice(),
            "uploaded template differs"
        );
        let c4 = sim.state().commands;
        commands = [c1 - c0, c2 - c1, c3 - c2, c4 - c3];
    }
    sim.stop();
    let _ = std::fs::remove_dir_all(&dir);

    let gen_img = fp_exchange(0, 0);
    let img2tz = fp_exchange(1, 0);
    let search = fp_exchange(5, 4);
    let matching = fp_exchange(0, 2);
    let down = fp_exchange(1, 0) + fp_data(features.len(), packet_size);
    let up = fp_exchange(1, 0) + fp_data(template_len, packet_size);
    let image = fp_exchange(0, 0) + fp_data(256 * 288 / 2, packet_size);
    let bytes = [
        gen_img,
        gen_img + img2tz + search,
        down + gen_img + img2tz + matching,
        up,
    ];
    println!(
        "Fingerprint module (EF 01 protocol, simulated module on a pseudo-terminal), {BAUD} baud, data packets of {packet_size} bytes, {ROUNDS} rounds"
    );
    let rows = [
        ("capture (GenImg, finger on)", &mut cap),
        ("capture + Img2Tz + Search", &mut ident),
        (
            "match_card_features (DownChar 512 B + capture + Img2Tz + Match)",
            &mut card,
        ),
        ("template upload (UpChar, 512 B)", &mut upload),
    ];
    for (i, (label, v)) in rows.into_iter().enumerate() {
        println!(
            "  {label}: {}  | {} commands, {} bytes = {:.2?} at {BAUD} baud",
            summary(v),
            commands[i],
            bytes[i],
            wire(bytes[i], BAUD)
        );
    }
    println!(
        "  not measured: UpImage (36864 bytes of image in {image} bytes of packets) alone needs {:.2?} at {BAUD} baud",
        wire(image, BAUD)
    );
    Ok(())
}

/// A 20-digit case number, different in every round (the driver drops
/// the same code seen again within a second).
fn case_number(i: usize) -> Vec<u8> {
    format!("4104032026112900{i:04}").into_bytes()
}

/// A 200-byte QR payload, different in every round.
fn qr_payload(i: usize) -> Vec<u8> {
    let mut b = format!("https://zwfw.weidong.gov.cn/bjcx?round={i:04}&sign=").into_bytes();
    while b.len() < 200 {
        b.push(b'a' + (b.len() % 26) as u8);
    }
    b
}

/// Makes the payload of round `i`.
type Payload = fn(usize) -> Vec<u8>;

fn scanner() -> anyhow::Result<()> {
    const BAUD: u32 = 9600;
    println!(
        "Code scanner (serial mode, simulated scanner on a pseudo-terminal), {BAUD} baud, {ROUNDS} rounds each"
    );
    println!(
        "  measured: simulator starts writing the scan → read_code() returns it; the driver is already waiting in read_code()"
    );
    for (suffix, opt, framing) in [
        (SimSuffix::Cr, "cr", "frame ends at the CR suffix"),
        (
            SimSuffix::None,
            "none",
            "no suffix: frame ends after the driver's 100 ms inter-byte gap",
        ),
    ] {
        let dir = bench_dir(&format!("scanner-{opt}"))?;
        let sim = ScannerSim::start(
            &dir,
            "scanner",
            ScannerConfig {
                suffix,
                ..ScannerConfig::default()
            },
        )?;
        let sel: Selector = format!(
            "serial:{}?baud={BAUD}&suffix={opt}&gap_ms=100",
            sim.path().display()
        )
        .parse()?;
        let mut s = SerialScanner::open(&sel)?;
        let payloads: [(&str, Payload); 2] = [
            ("20-digit case number", case_number),
            ("200-byte QR payload", qr_payload),
        ];
        for (label, make) in payloads {
            let mut times = Vec::new();
            let mut len = 0;
            std::thread::scope(|scope| -> anyhow::Result<()> {
                let (tx, rx) = std::sync::mpsc::channel();
                let sim = &sim;
                let writer = scope.spawn(move || -> anyhow::Result<()> {
                    for i in 0..ROUNDS {
                        // Let the driver settle into its read first.
                        std::thread::sleep(Duration::from_millis(30));
                        let t0 = Instant::now();
                        sim.scan(&make(i), None)?;
                        let _ = tx.send(t0);
                        // The next scan only after the driver returned
                        // this one (the suffix-less frame needs silence).
                        std::thread::sleep(Duration::from_millis(150));
                    }
                    Ok(())
                });
                for i in 0..ROUNDS {
                    let code = s.read_code(within(Duration::from_secs(5)))?;
                    let t1 = Instant::now();
                    let t0 = rx.recv()?;
                    times.push(t1 - t0);
                    anyhow::ensure!(code.data == make(i), "scan {i} came back different");
                    len = code.data.len();
                }
                writer
                    .join()
                    .map_err(|_| anyhow::anyhow!("scan thread panicked"))??;
                Ok(())
            })?;
            let suffix_len = if opt == "cr" { 1 } else { 0 };
            let bytes = len + suffix_len;
            println!(
                "  {label}, {framing}: {}  | {bytes} bytes = {:.2?} at {BAUD} baud",
                summary(&mut times),
                wire(bytes, BAUD)
            );
        }
        drop(s);
        sim.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn pinpad() -> anyhow::Result<()> {
    const BAUD: u32 = 9600;
    const TMK: [u8; 16] = *b"\x11\x22\x33\x44\x55\x66\x77\x88\x99\xAA\xBB\xCC\xDD\xEE\xF0\x01";
    // STX LLL TEXT ETX CC: 7 bytes around the text (sim::pinpad docs).
    let frame = |text: usize| 7 + text;
    let user_info = frame(1) + frame(1 + 146);
    let short = frame(4) + frame(1);
    let open = user_info + frame(1 + 48) + frame(1) + 2 * short;
    let dir = bench_dir("pinpad")?;
    let sim = PinPadSim::start(&dir, "pinpad", &TMK)?;
    let sel: Selector = format!("serial:{}?baud={BAUD}", sim.path().display()).parse()?;
    let step = Duration::from_secs(5);
    let (mut opens, mut infos, mut closes) = (Vec::new(), Vec::new(), Vec::new());
    let mut model = String::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let mut pad = SerialPinPad::open(&sel, within(step))?;
        opens.push(t.elapsed());
        model = pad.model().to_string();
        let t = Instant::now();
        pad.self_test(within(step))?;
        infos.push(t.elapsed());
        let t = Instant::now();
        pad.cancel(within(step))?;
        closes.push(t.elapsed());
    }
    sim.stop();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "PIN pad (ZT588-style, simulated pad \"{model}\" on a pseudo-terminal), {BAUD} baud, {ROUNDS} rounds"
    );
    println!(
        "  user information / model (command 3, self_test): {}  | {user_info} bytes = {:.2?} at {BAUD} baud",
        summary(&mut infos),
        wire(user_info, BAUD)
    );
    println!(
        "  close keypad (command 5032, cancel):           {}  | {short} bytes = {:.2?} at {BAUD} baud",
        summary(&mut closes),
        wire(short, BAUD)
    );
    println!(
        "  open (model, scancodes, mask, close keypad):    {}  | {open} bytes = {:.2?} at {BAUD} baud",
        summary(&mut opens),
        wire(open, BAUD)
    );
    println!(
        "  the simulator sleeps 5 ms after each answer before it reads the line again, so a command sent right after the previous answer waits about 5 ms for it"
    );
    Ok(())
}

fn a4_printer() -> anyhow::Result<()> {
    let dir = bench_dir("ipp")?;
    let sim = IppSim::start("127.0.0.1:0".parse()?, &dir)?;
    let sel: Selector = sim.uri().parse()?;
    let mut p = IppPrinter::open(&sel)?;
    let pdf = sample_pdf("Weidong District Government Service Centre - case receipt");
    let step = Duration::from_secs(10);
    let (mut status, mut submit, mut done) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        let t = Instant::now();
        DocumentPrinter::status(&mut p, within(step))?;
        status.push(t.elapsed());

        let doc = PrintDocument::pdf(format!("bench {i}"), pdf.clone());
        let t = Instant::now();
        let id = p.submit(&doc, within(step))?;
        submit.push(t.elapsed());
        let job = p.wait_job(id, within(step))?;
        done.push(t.elapsed());
        anyhow::ensure!(job.state == JobState::Completed, "job {id}: {job:?}");
    }
    let jobs = sim.jobs();
    anyhow::ensure!(
        jobs.len() == ROUNDS && jobs.iter().all(|j| j.bytes == pdf.len()),
        "the simulator did not get every document whole"
    );
    sim.stop();
    let _ = std::fs::remove_dir_all(&dir);
    let ethernet = Duration::from_secs_f64((pdf.len() * 8) as f64 / 100e6);
    println!(
        "A4 printer (IPP over HTTP on loopback, simulated printer, 300 ms simulated print time), 1-page PDF of {} bytes, {ROUNDS} rounds",
        pdf.len()
    );
    println!(
        "  Get-Printer-Attributes (status round trip):       {}",
        summary(&mut status)
    );
    println!(
        "  submit (status check + Print-Job, job id back):   {}",
        summary(&mut submit)
    );
    println!(
        "  submit → completed (wait_job polls every 200 ms): {}",
        summary(&mut done)
    );
    println!(
        "  each request is a new connection, and the simulator accepts connections every 20 ms: about 20 ms of every request is that wait"
    );
    println!(
        "  comparison: the PDF's {} bytes over 100 Mbit/s Ethernet take {ethernet:.2?} (payload only, no IPP/HTTP/TCP overhead)",
        pdf.len()
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    receipt_printer()?;
    fingerprint()?;
    scanner()?;
    pinpad()?;
    a4_printer()?;
    Ok(())
}
