//! The serial code scanner driver against the simulated scanner over a
//! real pseudo-terminal.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use drivers::scanner::SerialScanner;
use hal::scanner::{BarcodeScanner, ScannedCode, Symbology};
use hal::{Device, DeviceEvent, ErrorKind, HealthState, Selector};
use sim::scanner::{ScanFault, ScanRequest, ScannerConfig, ScannerSim, SimSuffix, SimSymbology};

struct Rig {
    sim: ScannerSim,
    dir: PathBuf,
}

impl Rig {
    fn new(tag: &str, config: ScannerConfig) -> Rig {
        let dir = std::env::temp_dir().join(format!("scanner-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = ScannerSim::start(&dir, "scanner", config).unwrap();
        Rig { sim, dir }
    }

    fn selector(&self, options: &str) -> Selector {
        format!("serial:{}?baud=9600{options}", self.sim.path().display())
            .parse()
            .unwrap()
    }

    fn open(&self, options: &str) -> SerialScanner {
        SerialScanner::open(&self.selector(options)).unwrap()
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

fn cfg(suffix: SimSuffix, prefix: &str, aim: bool) -> ScannerConfig {
    ScannerConfig {
        suffix,
        prefix: prefix.into(),
        aim,
    }
}

fn counter(s: &SerialScanner, name: &str) -> u64 {
    s.health().counters.get(name).copied().unwrap_or_default()
}

#[test]
fn scanner_every_suffix_frames_codes() {
    for (suffix, opt) in [
        (SimSuffix::Cr, "cr"),
        (SimSuffix::Crlf, "crlf"),
        (SimSuffix::Lf, "lf"),
        (SimSuffix::None, "none"),
    ] {
        let rig = Rig::new(&format!("suffix-{opt}"), cfg(suffix, "", false));
        let mut s = rig.open(&format!("&suffix={opt}"));
        for code in ["6901234567892", "https://zwfw.example.gov.cn/q?id=42"] {
            rig.sim.scan(code.as_bytes(), None).unwrap();
            let got = s.read_code(within(2000)).unwrap();
            assert_eq!(got.data, code.as_bytes(), "{opt}");
            assert_eq!(got.text.as_deref(), Some(code));
            assert_eq!(got.symbology, None);
        }
        assert_eq!(counter(&s, "scans"), 2, "{opt}");
        assert_eq!(counter(&s, "noise_discarded"), 0, "{opt}");
    }
}

#[test]
fn scanner_prefix_is_stripped_and_frames_without_it_are_noise() {
    let rig = Rig::new("prefix", cfg(SimSuffix::Cr, "SCN:", false));
    let mut s = rig.open("&prefix=SCN:");
    rig.sim.scan(b"A-001", None).unwrap();
    assert_eq!(s.read_code(within(2000)).unwrap().data, b"A-001");
    // The scanner is reprogrammed without the prefix: its codes are not
    // taken for ours.
    rig.sim.set_config(cfg(SimSuffix::Cr, "", false));
    rig.sim.scan(b"B-002", None).unwrap();
    let err = s.read_code(within(500)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(counter(&s, "noise_discarded"), 1);
}

#[test]
fn scanner_aim_identifiers_give_the_symbology() {
    let rig = Rig::new("aim", cfg(SimSuffix::Crlf, "", true));
    let mut s = rig.open("&suffix=crlf&aim=1");
    for (sym, want, data) in [
        (SimSymbology::Qr, Symbology::Qr, "QR-1"),
        (SimSymbology::DataMatrix, Symbology::DataMatrix, "DM-2"),
        (SimSymbology::Pdf417, Symbology::Pdf417, "PDF-3"),
        (SimSymbology::Code128, Symbology::Code128, "C128-4"),
        (SimSymbology::Ean13, Symbology::Ean13, "6901234567892"),
        (SimSymbology::Ean8, Symbology::Ean8, "96385074"),
        (SimSymbology::Code39, Symbology::Code39, "C39"),
        (SimSymbology::Hanxin, Symbology::HanXin, "汉信"),
    ] {
        rig.sim.scan(data.as_bytes(), Some(sym)).unwrap();
        let got = s.read_code(within(2000)).unwrap();
        assert_eq!(got.symbology, Some(want), "{sym:?}");
        assert_eq!(got.data, data.as_bytes(), "{sym:?}");
    }
}

#[test]
fn scanner_chinese_payloads_in_utf8_and_gb18030_keep_their_bytes() {
    let rig = Rig::new("chinese", cfg(SimSuffix::Cr, "", true));
    let mut s = rig.open("&aim=1&dedup_ms=0");
    let text = "平顶山市卫东区政务服务中心 办件编号：2026-00042 𠀀";
    for enc in ["utf8", "gb18030"] {
        let req = ScanRequest {
            text: Some(text.into()),
            symbology: Some(SimSymbology::Qr),
            encoding: Some(enc.into()),
            ..ScanRequest::default()
        };
        let bytes = req.bytes().unwrap();
        rig.sim.scan_request(&req).unwrap();
        let got = s.read_code(within(2000)).unwrap();
        assert_eq!(got.data, bytes, "{enc}: bytes exact");
        assert_eq!(got.text.as_deref(), Some(text), "{enc}");
    }
    let (gb, _, _) = encoding_rs::GB18030.encode(text);
    assert_ne!(gb.as_ref(), text.as_bytes());
    // Binary payloads (every byte but the suffix) come through with no text.
    let binary: Vec<u8> = (0u8..=255).filter(|b| *b != b'\r').collect();
    rig.sim.scan(&binary, Some(SimSymbology::Qr)).unwrap();
    let got = s.read_code(within(2000)).unwrap();
    assert_eq!(got.data, binary);
    assert_eq!(got.text, None);
}

#[test]
fn scanner_dedup_drops_a_code_held_under_the_scanner() {
    let rig = Rig::new("dedup", cfg(SimSuffix::Cr, "", false));
    let mut s = rig.open("&dedup_ms=1000");
    for _ in 0..3 {
        rig.sim.scan(b"SAME", None).unwrap();
    }
    assert_eq!(s.read_code(within(2000)).unwrap().data, b"SAME");
    rig.sim.scan(b"OTHER", None).unwrap();
    assert_eq!(s.read_code(within(2000)).unwrap().data, b"OTHER");
    assert_eq!(counter(&s, "duplicates"), 2);
    // After the window, the same code is new again.
    std::thread::sleep(Duration::from_millis(1100));
    rig.sim.scan(b"OTHER", None).unwrap();
    assert_eq!(s.read_code(within(2000)).unwrap().data, b"OTHER");
    // dedup_ms=0 keeps every repeat.
    let mut s2 = {
        drop(s);
        rig.open("&dedup_ms=0")
    };
    rig.sim.scan(b"SAME", None).unwrap();
    rig.sim.scan(b"SAME", None).unwrap();
    assert_eq!(s2.read_code(within(2000)).unwrap().data, b"SAME");
    assert_eq!(s2.read_code(within(2000)).unwrap().data, b"SAME");
}

#[test]
fn scanner_split_writes_are_joined() {
    for (suffix, opt) in [(SimSuffix::Crlf, "crlf"), (SimSuffix::None, "none")] {
        let rig = Rig::new(&format!("split-{opt}"), cfg(suffix, "#", true));
        let mut s = rig.open(&format!("&suffix={opt}&prefix=%23&aim=1"));
        rig.sim.inject(ScanFault::SplitWrites);
        let code = "https://zwfw.example.gov.cn/verify?c=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        rig.sim
            .scan(code.as_bytes(), Some(SimSymbology::Qr))
            .unwrap();
        let got = s.read_code(within(3000)).unwrap();
        assert_eq!(got.text.as_deref(), Some(code), "{opt}");
        assert_eq!(got.symbology, Some(Symbology::Qr));
    }
}

#[test]
fn scanner_noise_is_dropped_and_the_next_code_is_clean() {
    let rig = Rig::new("noise", cfg(SimSuffix::Cr, "", true));
    let mut s = rig.open("&aim=1");
    rig.sim.inject(ScanFault::Noise);
    // The scanner writes while the driver is reading, as in the kiosk.
    let sim = rig.sim.clone();
    let writer = std::thread::spawn(move || {
        sim.scan(b"CLEAN", Some(SimSymbology::Code128)).unwrap();
    });
    let got = s.read_code(within(3000)).unwrap();
    writer.join().unwrap();
    assert_eq!(got.data, b"CLEAN");
    assert_eq!(got.symbology, Some(Symbology::Code128));
    assert_eq!(counter(&s, "noise_discarded"), 1);
    // Noise that happens to end in a suffix is still not a code: no AIM.
    rig.sim.noise().unwrap();
    rig.sim.set_config(cfg(SimSuffix::Cr, "", false));
    rig.sim.scan(b"", None).unwrap();
    assert_eq!(
        s.read_code(within(500)).unwrap_err().kind(),
        ErrorKind::Timeout
    );
    assert_eq!(counter(&s, "noise_discarded"), 2);
    assert_eq!(s.health().state, HealthState::Ok);
}

#[test]
fn scanner_no_scan_is_a_timeout_within_the_deadline() {
    let rig = Rig::new("timeout", ScannerConfig::default());
    let mut s = rig.open("");
    let deadline = within(300);
    let err = s.read_code(deadline).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(Instant::now() < deadline + Duration::from_millis(200));
}

#[test]
fn scanner_open_errors_are_typed() {
    let rig = Rig::new("open", ScannerConfig::default());
    let held = rig.open("");
    assert_eq!(
        SerialScanner::open(&rig.selector("")).err().unwrap().kind(),
        ErrorKind::Busy
    );
    drop(held);
    for bad in ["&suffix=tab", "&aim=2", "&dedup_ms=soon", "&prefix=%Z"] {
        assert_eq!(
            SerialScanner::open(&rig.selector(bad))
                .err()
                .unwrap()
                .kind(),
            ErrorKind::Config,
            "{bad}"
        );
    }
    let missing: Selector = format!("serial:{}/none", rig.dir.display())
        .parse()
        .unwrap();
    assert_eq!(
        SerialScanner::open(&missing).err().unwrap().kind(),
        ErrorKind::NotFound
    );
    let tcp: Selector = "tcp:127.0.0.1:9".parse().unwrap();
    assert_eq!(
        SerialScanner::open(&tcp).err().unwrap().kind(),
        ErrorKind::Config
    );
}

#[test]
fn scanner_honeywell_trigger_commands_reach_the_scanner() {
    let rig = Rig::new("trigger", ScannerConfig::default());
    let mut plain = rig.open("");
    plain.set_enabled(false, within(500)).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        rig.sim.state().trigger_active,
        None,
        "no-op without trigger="
    );
    drop(plain);
    let mut s = rig.open("&trigger=honeywell");
    s.set_enabled(true, within(500)).unwrap();
    wait_until(|| rig.sim.state().trigger_active == Some(true));
    s.set_enabled(false, within(500)).unwrap();
    wait_until(|| rig.sim.state().trigger_active == Some(false));
}

fn wait_until(f: impl Fn() -> bool) {
    let deadline = within(3000);
    while !f() {
        assert!(Instant::now() < deadline, "condition not met within 3 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn scanner_unplug_goes_offline_and_replug_reopens() {
    let rig = Rig::new("unplug", ScannerConfig::default());
    let mut s = rig.open("");
    rig.sim.set_unplugged(true).unwrap();
    assert!(rig.sim.state().unplugged);
    assert!(rig.sim.scan(b"X", None).is_err());
    let start = Instant::now();
    let err = s.read_code(within(3000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(s.health().state, HealthState::Offline);
    drop(s);
    assert_eq!(
        SerialScanner::open(&rig.selector("")).err().unwrap().kind(),
        ErrorKind::NotFound
    );
    rig.sim.set_unplugged(false).unwrap();
    let mut s = rig.open("");
    rig.sim.scan(b"BACK", None).unwrap();
    assert_eq!(s.read_code(within(2000)).unwrap().data, b"BACK");
}

async fn next_code(
    events: &mut tokio::sync::broadcast::Receiver<DeviceEvent>,
) -> Option<ScannedCode> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(DeviceEvent::CodeScanned(c))) => return Some(c),
            Ok(Ok(_)) => {}
            _ => return None,
        }
    }
}

async fn wait_for(events: &mut tokio::sync::broadcast::Receiver<DeviceEvent>, want: DeviceEvent) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(ev)) if ev == want => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("no {want:?} within 5 s: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scanner_in_the_actor_scans_unplug_and_replug() {
    use hal::DeviceKind;
    use hal::actor::{BarcodeScannerHandle, spawn};

    let rig = Rig::new("actor", cfg(SimSuffix::Cr, "", true));
    let sel = rig.selector("&aim=1");
    let h: BarcodeScannerHandle = spawn("scanner", DeviceKind::BarcodeScanner, move || {
        SerialScanner::open(&sel).map(|s| Box::new(s) as Box<dyn BarcodeScanner>)
    })
    .unwrap();
    let mut events = h.events();
    wait_for(&mut events, DeviceEvent::Attached).await;
    rig.sim
        .scan("办事指南".as_bytes(), Some(SimSymbology::Qr))
        .unwrap();
    let code = next_code(&mut events).await.unwrap();
    assert_eq!(code.text.as_deref(), Some("办事指南"));
    assert_eq!(code.symbology, Some(Symbology::Qr));

    let unplugged = Instant::now();
    rig.sim.set_unplugged(true).unwrap();
    wait_for(&mut events, DeviceEvent::Detached).await;
    assert!(
        unplugged.elapsed() < Duration::from_secs(2),
        "offline within 2 s"
    );
    assert_eq!(h.health().state, HealthState::Offline);
    let replugged = Instant::now();
    rig.sim.set_unplugged(false).unwrap();
    wait_for(&mut events, DeviceEvent::Attached).await;
    assert!(
        replugged.elapsed() < Duration::from_secs(5),
        "back within 5 s"
    );
    rig.sim.scan(b"AFTER", Some(SimSymbology::Code128)).unwrap();
    let code = next_code(&mut events).await.unwrap();
    assert_eq!(code.data, b"AFTER");
    assert_eq!(h.health().state, HealthState::Ok);
}
