//! The `EF 01` fingerprint driver against the simulated module over a
//! real pseudo-terminal.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use drivers::fingerprint::FingerprintModule;
use hal::fingerprint::{
    Capture, CardMatch, CharBuffer, Enrolment, FingerGuidance, FingerprintScanner, SearchHit,
};
use hal::{Device, DeviceEvent, ErrorKind, HealthState, Selector};
use sim::fingerprint::{FingerState, FingerprintSim, FpFault, finger_template};
use sim::idcard::demo_person;

struct Rig {
    sim: FingerprintSim,
    dir: PathBuf,
    selector: Selector,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        Rig::with_options(tag, "")
    }

    fn with_options(tag: &str, extra: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("fp-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = FingerprintSim::start(&dir, "fingerprint").unwrap();
        let selector = format!(
            "serial:{}?baud=57600&address=FFFFFFFF{extra}",
            sim.path().display()
        )
        .parse()
        .unwrap();
        Rig { sim, dir, selector }
    }

    fn open(&self) -> FingerprintModule {
        FingerprintModule::open(&self.selector).unwrap()
    }

    fn finger(&self, key: &str) {
        self.sim.set_finger(FingerState::Finger(key.into()));
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

fn counter(m: &FingerprintModule, name: &str) -> u64 {
    m.health().counters.get(name).copied().unwrap_or_default()
}

fn card_features(key: &str) -> Vec<u8> {
    let mut card = demo_person(key).unwrap();
    card.with_fingerprint = true;
    card.fingerprint()
}

#[test]
fn system_parameters_and_template_count() {
    let rig = Rig::new("params");
    let mut m = rig.open();
    let p = m.system_parameters(within(2000)).unwrap();
    assert_eq!(p.capacity, 300);
    assert_eq!(p.security_level, 3);
    assert_eq!(p.packet_size, 128);
    assert_eq!(p.baud, 57_600);
    assert_eq!(p.address, 0xFFFF_FFFF);
    assert_eq!(m.template_count(within(2000)).unwrap(), 0);
    rig.sim
        .store_template(7, &FingerState::Finger("zhangwei".into()));
    assert_eq!(m.template_count(within(2000)).unwrap(), 1);
    let h = m.self_test(within(2000)).unwrap();
    assert_eq!(h.state, HealthState::Ok);
    assert!(h.last_self_test.is_some());
}

#[test]
fn capture_with_a_finger_without_and_with_a_poor_image() {
    let rig = Rig::new("capture");
    let mut m = rig.open();
    assert_eq!(
        m.capture(within(2000)).unwrap(),
        Capture::Retry(FingerGuidance::PlaceFinger)
    );
    rig.finger("zhangwei");
    assert_eq!(m.capture(within(2000)).unwrap(), Capture::Captured);
    assert_eq!(
        m.image_to_template(CharBuffer::One, within(2000)).unwrap(),
        Capture::Captured
    );
    let t = m.upload_template(CharBuffer::One, within(2000)).unwrap();
    assert_eq!(t.as_bytes(), finger_template("zhangwei").as_slice());
    assert_eq!(format!("{t:?}"), "Template(512 bytes)");

    rig.sim.set_finger(FingerState::Poor);
    assert_eq!(m.capture(within(2000)).unwrap(), Capture::Captured);
    assert_eq!(
        m.image_to_template(CharBuffer::One, within(2000)).unwrap(),
        Capture::Retry(FingerGuidance::PoorImage)
    );
    assert_eq!(
        m.capture_template(CharBuffer::One, within(2000)).unwrap(),
        Capture::Retry(FingerGuidance::PoorImage)
    );

    // Waiting for a finger ends at the deadline with guidance, in time.
    rig.sim.set_finger(FingerState::None);
    let start = Instant::now();
    let deadline = start + Duration::from_millis(1200);
    assert_eq!(
        m.capture_template(CharBuffer::One, deadline).unwrap(),
        Capture::Retry(FingerGuidance::PlaceFinger)
    );
    assert!(Instant::now() <= deadline + Duration::from_millis(200));
    assert!(rig.sim.state().empty_reads >= 2, "it kept looking");
    assert_eq!(m.health().state, HealthState::Ok, "no finger is no fault");
    assert!(counter(&m, "captures") >= 2);
}

#[test]
fn enrol_then_search_finds_the_page() {
    let rig = Rig::new("enrol");
    let mut m = rig.open();
    rig.finger("wanghaoran");
    // The person lifts the finger after the first capture and lays it
    // again once the module has seen the empty sensor.
    let sim = rig.sim.clone();
    let person = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(5);
        while sim.state().images < 1 && Instant::now() < until {
            std::thread::yield_now();
        }
        sim.set_finger(FingerState::None);
        let seen = sim.state().empty_reads;
        while sim.state().empty_reads == seen && Instant::now() < until {
            std::thread::yield_now();
        }
        sim.set_finger(FingerState::Finger("wanghaoran".into()));
    });
    assert_eq!(
        m.enrol(12, within(5000)).unwrap(),
        Enrolment::Stored { page: 12 }
    );
    person.join().unwrap();
    assert_eq!(rig.sim.state().pages, vec![12]);
    assert_eq!(m.template_count(within(2000)).unwrap(), 1);

    assert_eq!(
        m.capture_template(CharBuffer::One, within(2000)).unwrap(),
        Capture::Captured
    );
    let hit = m
        .search(CharBuffer::One, 0, 300, within(2000))
        .unwrap()
        .unwrap();
    assert_eq!(hit.page, 12);
    assert!(hit.score > 0);

    rig.finger("zhangwei");
    m.capture_template(CharBuffer::One, within(2000)).unwrap();
    assert_eq!(
        m.search(CharBuffer::One, 0, 300, within(2000)).unwrap(),
        None
    );

    // Store, load, compare, delete.
    m.store(CharBuffer::One, 3, within(2000)).unwrap();
    m.load(CharBuffer::Two, 3, within(2000)).unwrap();
    let r = m.compare_buffers(within(2000)).unwrap();
    assert!(r.matched && r.score > 0);
    m.load(CharBuffer::Two, 12, within(2000)).unwrap();
    assert!(!m.compare_buffers(within(2000)).unwrap().matched);
    m.delete(3, 1, within(2000)).unwrap();
    assert_eq!(rig.sim.state().pages, vec![12]);
    assert_eq!(
        m.search(CharBuffer::One, 0, 300, within(2000)).unwrap(),
        None::<SearchHit>
    );
    assert!(counter(&m, "enrolments") == 1);
}

#[test]
fn enrol_without_lifting_asks_to_lift() {
    let rig = Rig::new("nolift");
    let mut m = rig.open();
    rig.finger("zhangwei");
    assert_eq!(
        m.enrol(1, within(1500)).unwrap(),
        Enrolment::Retry(FingerGuidance::LiftAndPlaceAgain)
    );
    assert!(rig.sim.state().pages.is_empty());
}

#[test]
fn download_then_upload_round_trips() {
    let rig = Rig::new("updown");
    let mut m = rig.open();
    let t: Vec<u8> = (0..512u32).map(|i| (i * 7 % 251) as u8).collect();
    m.download_template(CharBuffer::Two, &t, within(2000))
        .unwrap();
    let back = m.upload_template(CharBuffer::Two, within(2000)).unwrap();
    assert_eq!(back.as_bytes(), t.as_slice());
}

#[test]
fn match_card_features_matches_the_holder_only() {
    let rig = Rig::new("card");
    let mut m = rig.open();
    let zhang = card_features("zhangwei");
    assert_eq!(zhang.len(), 1024);

    rig.finger("zhangwei");
    match m.match_card_features(&zhang, within(3000)).unwrap() {
        CardMatch::Matched { score } => assert!(score > 0),
        other => panic!("holder not matched: {other:?}"),
    }
    // One 512-byte template works as well.
    assert!(matches!(
        m.match_card_features(&zhang[..512], within(3000)).unwrap(),
        CardMatch::Matched { .. }
    ));

    // Someone else's finger on Zhang Wei's card, and his finger on
    // Wang Haoran's card.
    rig.finger("wanghaoran");
    assert_eq!(
        m.match_card_features(&zhang, within(3000)).unwrap(),
        CardMatch::NoMatch
    );
    rig.finger("zhangwei");
    assert_eq!(
        m.match_card_features(&card_features("wanghaoran"), within(3000))
            .unwrap(),
        CardMatch::NoMatch
    );
    rig.sim.set_finger(FingerState::Unknown);
    assert_eq!(
        m.match_card_features(&zhang, within(3000)).unwrap(),
        CardMatch::NoMatch
    );

    rig.sim.set_finger(FingerState::Poor);
    assert_eq!(
        m.match_card_features(&zhang, within(3000)).unwrap(),
        CardMatch::Retry(FingerGuidance::PoorImage)
    );
    rig.sim.set_finger(FingerState::None);
    assert_eq!(
        m.match_card_features(&zhang, within(1200)).unwrap(),
        CardMatch::Retry(FingerGuidance::PlaceFinger)
    );

    let err = m
        .match_card_features(&zhang[..100], within(1000))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    let err = m.match_card_features(&[], within(1000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(m.health().state, HealthState::Ok);
}

#[test]
fn the_card_from_the_id_reader_matches_the_finger() {
    // The same bytes the GA 467 simulator sends for the card.
    let card = demo_person("zhangwei").unwrap();
    assert!(card.with_fingerprint);
    let rig = Rig::new("idcard");
    let mut m = rig.open();
    rig.finger("zhangwei");
    assert!(matches!(
        m.match_card_features(&card.fingerprint(), within(3000))
            .unwrap(),
        CardMatch::Matched { .. }
    ));
}

#[test]
fn password_wrong_right_and_a_module_that_forgot_the_session() {
    let rig = Rig::with_options("pwd", "&password=0x1234ABCD");
    rig.sim.set_password(0x1234_ABCD);
    let mut m = rig.open();
    m.verify_password(within(2000)).unwrap();
    assert!(rig.sim.state().verified);
    assert_eq!(m.template_count(within(2000)).unwrap(), 0);

    // The module lost its session (0x21): the driver verifies again.
    rig.sim.set_password(0x1234_ABCD);
    assert!(!rig.sim.state().verified);
    assert_eq!(m.template_count(within(2000)).unwrap(), 0);
    assert!(rig.sim.state().verified);

    // A driver configured with the wrong password.
    let wrong: Selector = format!("serial:{}?password=0", rig.sim.path().display())
        .parse()
        .unwrap();
    drop(m);
    let mut m = FingerprintModule::open(&wrong).unwrap();
    let err = m.template_count(within(2000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(err.device_code(), Some(0x13));
    assert_eq!(m.health().state, HealthState::Fault);
    let h = m.self_test(within(2000)).unwrap();
    assert_eq!(h.state, HealthState::Fault);
    assert_eq!(h.fault_code.as_deref(), Some("CONFIG"));
}

#[test]
fn every_error_status_the_module_can_send() {
    let rig = Rig::new("status");
    let mut m = rig.open();
    rig.finger("zhangwei");
    m.template_count(within(2000)).unwrap();

    // Person-fixable codes on capture.
    for (code, want) in [
        (0x02, FingerGuidance::PlaceFinger),
        (0x03, FingerGuidance::PoorImage),
    ] {
        rig.sim.inject(FpFault::Status(code));
        assert_eq!(
            m.capture(within(2000)).unwrap(),
            Capture::Retry(want),
            "{code:02X}"
        );
    }
    for (code, want) in [
        (0x06, FingerGuidance::PoorImage),
        (0x07, FingerGuidance::CentreFinger),
        (0x15, FingerGuidance::PlaceFinger),
    ] {
        m.capture(within(2000)).unwrap();
        rig.sim.inject(FpFault::Status(code));
        assert_eq!(
            m.image_to_template(CharBuffer::One, within(2000)).unwrap(),
            Capture::Retry(want),
            "{code:02X}"
        );
    }
    // Results, not errors.
    rig.sim.inject(FpFault::Status(0x08));
    assert!(!m.compare_buffers(within(2000)).unwrap().matched);
    rig.sim.inject(FpFault::Status(0x09));
    assert_eq!(
        m.search(CharBuffer::One, 0, 300, within(2000)).unwrap(),
        None
    );
    // Errors, each with its kind and the module's code.
    let errors = [
        (0x0B, ErrorKind::Config),
        (0x0C, ErrorKind::DeviceFault),
        (0x0D, ErrorKind::Protocol),
        (0x0E, ErrorKind::Protocol),
        (0x0F, ErrorKind::Protocol),
        (0x10, ErrorKind::DeviceFault),
        (0x11, ErrorKind::DeviceFault),
        (0x18, ErrorKind::DeviceFault),
        (0x19, ErrorKind::DeviceFault),
        (0x1A, ErrorKind::Config),
        (0x1B, ErrorKind::DeviceFault),
        (0x1C, ErrorKind::Config),
        (0x1D, ErrorKind::DeviceFault),
        (0x20, ErrorKind::Config),
        (0x42, ErrorKind::Protocol),
    ];
    for (code, kind) in errors {
        rig.sim.inject(FpFault::Status(code));
        let err = m.store(CharBuffer::One, 5, within(2000)).unwrap_err();
        assert_eq!(err.kind(), kind, "{code:02X}: {err}");
        assert_eq!(err.device_code(), Some(u32::from(code)));
    }
    assert_eq!(m.health().state, HealthState::Degraded, "last was protocol");
    // 0x0A during enrolment means: lift and place again.
    m.capture_template(CharBuffer::One, within(2000)).unwrap();
    // 0x01 once is resent; twice is a protocol error.
    rig.sim.inject(FpFault::Status(0x01));
    assert_eq!(m.template_count(within(2000)).unwrap(), 0);
    rig.sim.inject(FpFault::Status(0x01));
    rig.sim.inject(FpFault::Status(0x01));
    let err = m.template_count(within(2000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    // The module works afterwards and the health recovers.
    assert_eq!(m.template_count(within(2000)).unwrap(), 0);
    assert_eq!(m.health().state, HealthState::Ok);
    // Real state errors of the simulator, not injected.
    let err = m.load(CharBuffer::One, 299, within(2000)).unwrap_err();
    assert_eq!(
        (err.kind(), err.device_code()),
        (ErrorKind::DeviceFault, Some(0x0C))
    );
    let err = m.store(CharBuffer::One, 300, within(2000)).unwrap_err();
    assert_eq!(
        (err.kind(), err.device_code()),
        (ErrorKind::Config, Some(0x0B))
    );
    let err = m.delete(299, 5, within(2000)).unwrap_err();
    assert_eq!(err.device_code(), Some(0x10));
}

#[test]
fn merge_failure_asks_to_lift_and_place_again() {
    let rig = Rig::new("merge");
    let mut m = rig.open();
    rig.finger("zhangwei");
    let sim = rig.sim.clone();
    let person = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(5);
        while sim.state().images < 1 && Instant::now() < until {
            std::thread::yield_now();
        }
        sim.set_finger(FingerState::None);
        let seen = sim.state().empty_reads;
        while sim.state().empty_reads == seen && Instant::now() < until {
            std::thread::yield_now();
        }
        // Another finger the second time: the module cannot merge.
        sim.set_finger(FingerState::Finger("wanghaoran".into()));
    });
    assert_eq!(
        m.enrol(4, within(5000)).unwrap(),
        Enrolment::Retry(FingerGuidance::LiftAndPlaceAgain)
    );
    person.join().unwrap();
    assert!(rig.sim.state().pages.is_empty());
}

#[test]
fn garbage_and_bad_checksums() {
    let rig = Rig::new("garbage");
    let mut m = rig.open();
    m.template_count(within(2000)).unwrap();
    let before = counter(&m, "resyncs");
    rig.sim.inject(FpFault::Garbage);
    assert_eq!(m.template_count(within(2000)).unwrap(), 0);
    assert!(counter(&m, "resyncs") > before);

    rig.sim.inject(FpFault::BadChecksum);
    let p = m.system_parameters(within(2000)).unwrap();
    assert_eq!(p.capacity, 300);
    assert_eq!(counter(&m, "checksum_errors"), 1);

    rig.sim.inject(FpFault::BadChecksum);
    rig.sim.inject(FpFault::BadChecksum);
    let err = m.system_parameters(within(2000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(counter(&m, "checksum_errors"), 3);
    assert_eq!(m.system_parameters(within(2000)).unwrap().capacity, 300);
}

#[test]
fn silence_times_out_within_the_deadline() {
    let rig = Rig::new("silence");
    let mut m = rig.open();
    m.template_count(within(2000)).unwrap();
    rig.sim.inject(FpFault::Silence);
    let start = Instant::now();
    let deadline = start + Duration::from_millis(800);
    let err = m.template_count(deadline).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(Instant::now().saturating_duration_since(deadline) < Duration::from_millis(200));
    assert_eq!(m.health().state, HealthState::Degraded);
    assert_eq!(m.template_count(within(2000)).unwrap(), 0);
    assert_eq!(m.health().state, HealthState::Ok);

    // A deadline already passed does not touch the wire.
    let before = rig.sim.state().commands;
    let err = m.capture(Instant::now()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(rig.sim.state().commands, before);
}

#[test]
fn unplug_is_disconnected_and_replug_reopens_on_the_same_path() {
    let rig = Rig::new("unplug");
    let mut m = rig.open();
    m.template_count(within(2000)).unwrap();
    rig.sim.set_unplugged(true);
    let start = Instant::now();
    let err = m
        .template_count(start + Duration::from_secs(3))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(m.health().state, HealthState::Offline);
    drop(m);
    let err = FingerprintModule::open(&rig.selector).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    rig.sim.set_unplugged(false);
    let mut m = rig.open();
    rig.finger("zhangwei");
    assert!(matches!(
        m.match_card_features(&card_features("zhangwei"), within(3000))
            .unwrap(),
        CardMatch::Matched { .. }
    ));
}

#[test]
fn poll_reports_finger_on_and_off() {
    let rig = Rig::new("poll");
    let mut m = rig.open();
    assert_eq!(m.poll(within(300)), vec![]);
    rig.finger("zhangwei");
    assert_eq!(m.poll(within(300)), vec![DeviceEvent::FingerOn]);
    assert_eq!(m.poll(within(300)), vec![]);
    rig.sim.set_finger(FingerState::None);
    assert_eq!(m.poll(within(300)), vec![DeviceEvent::FingerOff]);
    rig.sim.set_finger(FingerState::Poor);
    assert_eq!(m.poll(within(300)), vec![DeviceEvent::FingerOn]);
}

#[test]
fn open_errors_are_typed() {
    let rig = Rig::new("open");
    let held = rig.open();
    assert_eq!(
        FingerprintModule::open(&rig.selector).err().unwrap().kind(),
        ErrorKind::Busy
    );
    drop(held);
    let missing: Selector = format!("serial:{}/nothing", rig.dir.display())
        .parse()
        .unwrap();
    assert_eq!(
        FingerprintModule::open(&missing).err().unwrap().kind(),
        ErrorKind::NotFound
    );
    let other_address: Selector = format!("serial:{}?address=00000001", rig.sim.path().display())
        .parse()
        .unwrap();
    let mut m = FingerprintModule::open(&other_address).unwrap();
    let err = m.template_count(within(600)).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Timeout,
        "a module at another address stays silent"
    );
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
async fn in_the_actor_finger_on_match_unplug_and_replug() {
    use hal::DeviceKind;
    use hal::actor::spawn;
    use hal::fingerprint::FingerprintHandle;

    let rig = Rig::new("actor");
    let sel = rig.selector.clone();
    let h: FingerprintHandle = spawn("fingerprint", DeviceKind::FingerprintScanner, move || {
        FingerprintModule::open(&sel).map(|m| Box::new(m) as Box<dyn FingerprintScanner>)
    })
    .unwrap();
    let mut events = h.events();
    rig.finger("zhangwei");
    wait_for(&mut events, DeviceEvent::FingerOn).await;
    let r = h
        .match_card_features(&card_features("zhangwei"), Duration::from_secs(3))
        .await
        .unwrap();
    assert!(matches!(r, CardMatch::Matched { .. }), "{r:?}");

    let start = Instant::now();
    rig.sim.set_unplugged(true);
    wait_for(&mut events, DeviceEvent::Detached).await;
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "offline within 2 s"
    );
    assert_eq!(h.health().state, HealthState::Offline);
    let start = Instant::now();
    rig.sim.set_unplugged(false);
    wait_for(&mut events, DeviceEvent::Attached).await;
    assert!(start.elapsed() < Duration::from_secs(5), "back within 5 s");
    let p = h.system_parameters(Duration::from_secs(2)).await.unwrap();
    assert_eq!(p.capacity, 300);
}
