//! The GA 467 driver against the simulated reader over a real
//! pseudo-terminal.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use drivers::ga467::Ga467Reader;
use hal::idcard::{CardPresence, CardRead, CardType, IdCardReader, Sex, Validity};
use hal::{Device, DeviceEvent, ErrorKind, HealthState, Selector};
use sim::idcard::{IdCardSim, IdFault, SimCard, demo_person};

/// One simulator in its own directory, stopped and cleaned up on drop.
struct Rig {
    sim: IdCardSim,
    dir: PathBuf,
    selector: Selector,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("ga467-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = IdCardSim::start(&dir, "idcard").unwrap();
        let selector = format!("serial:{}?baud=115200", sim.path().display())
            .parse()
            .unwrap();
        Rig { sim, dir, selector }
    }

    fn open(&self) -> Ga467Reader {
        Ga467Reader::open(&self.selector).unwrap()
    }

    fn lay(&self, key: &str) -> SimCard {
        let card = demo_person(key).unwrap();
        self.sim.lay_card(card.clone());
        card
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

fn counter(r: &Ga467Reader, name: &str) -> u64 {
    r.health().counters.get(name).copied().unwrap_or_default()
}

/// Compares every field of a read with the card the simulator was given.
fn check(read: &CardRead, card: &SimCard, with_fingerprint: bool) {
    let id = &read.identity;
    assert_eq!(id.card_type, CardType::Resident);
    assert_eq!(id.name, card.name);
    assert_eq!(id.sex.name_zh(), card.sex);
    assert_eq!(id.nation.as_deref(), Some(card.nation.as_str()));
    assert_eq!(id.birth.compact(), card.birth);
    assert_eq!(id.address, card.address);
    assert_eq!(id.id_number, card.id_number);
    assert!(id.id_number_valid, "{}", card.id_number);
    assert_eq!(id.issuer, card.issuer);
    assert_eq!(id.valid_from.compact(), card.valid_from);
    match id.valid_to {
        Validity::LongTerm => assert_eq!(card.valid_to, "长期"),
        Validity::Until(d) => assert_eq!(d.compact(), card.valid_to),
    }
    assert_eq!(read.photo_wlt, card.photo());
    let want_fp = (with_fingerprint && card.with_fingerprint).then(|| card.fingerprint());
    assert_eq!(read.fingerprint, want_fp, "{}", card.id_number);
}

#[test]
fn reads_every_demo_person_with_and_without_fingerprint() {
    let rig = Rig::new("demo");
    let mut r = rig.open();
    for key in [
        "zhangwei",
        "lixiuying",
        "wanghaoran",
        "zhaoguilan",
        "expired",
    ] {
        for with_fp in [true, false] {
            let card = rig.lay(key);
            let read = r.read(with_fp, within(3000)).unwrap();
            check(&read, &card, with_fp);
            assert_eq!(
                r.find_card(within(1000)).unwrap(),
                CardPresence::Absent,
                "read cards are not found again"
            );
        }
    }
    assert_eq!(counter(&r, "reads"), 10);
    assert_eq!(counter(&r, "read_errors"), 0);
    assert_eq!(rig.sim.state().reads, 10);

    // docs/API.md, independently of the simulator's table.
    let read = {
        rig.lay("zhangwei");
        r.read(true, within(3000)).unwrap()
    };
    let id = &read.identity;
    assert_eq!(
        (id.name.as_str(), id.sex, id.nation.as_deref()),
        ("张伟", Sex::Male, Some("汉"))
    );
    assert_eq!(id.birth.to_string(), "1985-03-15");
    assert_eq!(id.id_number, "410403198503150013");
    assert!(id.address.starts_with("河南省平顶山市卫东区建设路东段"));
    assert_eq!(id.issuer, "平顶山市公安局卫东分局");
    assert_eq!(read.photo_wlt.len(), 1024);
    assert_eq!(read.fingerprint.as_ref().map(Vec::len), Some(1024));
    let read = {
        rig.lay("lixiuying");
        r.read(true, within(3000)).unwrap()
    };
    assert_eq!(
        (read.identity.sex, read.identity.nation.as_deref()),
        (Sex::Female, Some("回"))
    );
    assert_eq!(read.identity.valid_to, Validity::LongTerm);
    assert_eq!(read.fingerprint, None, "card without fingerprint");
}

#[test]
fn expired_card_reads_with_its_past_validity() {
    let rig = Rig::new("expired");
    let mut r = rig.open();
    rig.lay("expired");
    let read = r.read(false, within(3000)).unwrap();
    match read.identity.valid_to {
        Validity::Until(d) => assert_eq!(d.year, 2020),
        Validity::LongTerm => panic!("expired card read as long-term"),
    }
}

#[test]
fn foreign_permanent_resident_card() {
    let rig = Rig::new("foreign");
    let mut r = rig.open();
    let card = rig.lay("foreigner");
    let read = r.read(true, within(3000)).unwrap();
    let id = &read.identity;
    assert_eq!(id.card_type, CardType::ForeignPermanentResident);
    assert_eq!(id.name, card.name);
    assert_eq!(id.name_en, card.name_en);
    assert_eq!(id.nationality, card.nationality);
    assert_eq!(id.nation, None);
    assert_eq!(id.id_number, card.id_number);
    assert!(id.id_number_valid);
    assert_eq!(id.birth.compact(), card.birth);
    assert_eq!(id.issuer, card.issuer);
    assert_eq!(id.sex, Sex::Male);
    assert_eq!(
        id.valid_to,
        Validity::Until(hal::idcard::CardDate::parse_compact(&card.valid_to).unwrap())
    );
    assert_eq!(read.fingerprint, None);
}

#[test]
fn hk_macao_taiwan_permit() {
    let rig = Rig::new("hmt");
    let mut r = rig.open();
    let mut card = demo_person("wanghaoran").unwrap();
    card.card_type = "hmt".into();
    card.nation = String::new();
    card.id_number = "81000020010922003X".into();
    card.pass_number = Some("H60123456".into());
    card.issue_count = Some(2);
    assert!(hal::idcard::id_number_valid(&card.id_number));
    rig.sim.lay_card(card);
    let read = r.read(false, within(3000)).unwrap();
    let id = &read.identity;
    assert_eq!(id.card_type, CardType::HkMacaoTaiwanPermit);
    assert_eq!(id.nation, None);
    assert_eq!(id.pass_number.as_deref(), Some("H60123456"));
    assert_eq!(id.issue_count, Some(2));
    assert!(id.id_number_valid);
}

#[test]
fn no_card_is_no_card_and_find_is_absent() {
    let rig = Rig::new("nocard");
    let mut r = rig.open();
    assert_eq!(r.find_card(within(1000)).unwrap(), CardPresence::Absent);
    let err = r.read(true, within(2000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoCard);
    assert_eq!(err.device_code(), Some(0x80));
    assert_eq!(counter(&r, "read_errors"), 1);
    assert_eq!(
        r.health().state,
        HealthState::Ok,
        "no card is not a device problem"
    );
}

#[test]
fn bad_checksum_is_retried_once() {
    let rig = Rig::new("chk");
    let mut r = rig.open();
    let card = rig.lay("zhangwei");
    rig.sim.inject(IdFault::BadChecksum);
    let read = r.read(true, within(3000)).unwrap();
    check(&read, &card, true);
    assert_eq!(counter(&r, "checksum_errors"), 1);

    // Two in a row: the retry fails too, and that is a protocol error.
    rig.lay("zhangwei");
    rig.sim.inject(IdFault::BadChecksum);
    rig.sim.inject(IdFault::BadChecksum);
    let err = r.read(true, within(3000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert_eq!(counter(&r, "checksum_errors"), 3);
}

#[test]
fn garbage_before_the_frame_is_skipped_and_counted() {
    let rig = Rig::new("garbage");
    let mut r = rig.open();
    let card = rig.lay("wanghaoran");
    assert_eq!(counter(&r, "resyncs"), 0);
    rig.sim.inject(IdFault::GarbageBeforeFrame);
    let read = r.read(true, within(3000)).unwrap();
    check(&read, &card, true);
    assert!(counter(&r, "resyncs") > 0);
}

#[test]
fn split_writes_are_reassembled() {
    let rig = Rig::new("split");
    let mut r = rig.open();
    let card = rig.lay("zhangwei");
    // Split each of find, select and read.
    for _ in 0..3 {
        rig.sim.inject(IdFault::SplitWrites);
    }
    let read = r.read(true, within(3000)).unwrap();
    check(&read, &card, true);
}

#[test]
fn read_failure_is_card_read_with_sw3() {
    let rig = Rig::new("readfail");
    let mut r = rig.open();
    rig.lay("zhangwei");
    rig.sim.inject(IdFault::ReadFailure);
    let err = r.read(true, within(3000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CardRead);
    assert_eq!(err.device_code(), Some(0x41));
}

#[test]
fn sam_failure_makes_self_test_report_a_fault() {
    let rig = Rig::new("sam");
    let mut r = rig.open();
    let h = r.self_test(within(2000)).unwrap();
    assert_eq!(h.state, HealthState::Ok);
    assert!(h.last_self_test.is_some());
    rig.sim.inject(IdFault::SamFailure);
    let h = r.self_test(within(2000)).unwrap();
    assert_eq!(h.state, HealthState::Fault);
    assert_eq!(
        h.fault_code.as_deref(),
        Some(ErrorKind::SecureModule.code())
    );
    assert_eq!(r.health().state, HealthState::Fault);
    let h = r.self_test(within(2000)).unwrap();
    assert_eq!(
        h.state,
        HealthState::Ok,
        "recovers when the SAM answers again"
    );
    assert_eq!(
        r.sam_id(within(2000)).unwrap(),
        "05.01-20101117-0014536826-2147484224"
    );
}

#[test]
fn card_pulled_mid_read_fails_in_time_and_the_next_read_works() {
    let rig = Rig::new("pull");
    let mut r = rig.open();
    rig.lay("zhangwei");
    rig.sim.pull_during_next_read();
    let start = Instant::now();
    let err = r.read(true, start + Duration::from_secs(3)).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::CardRead | ErrorKind::Timeout),
        "{err}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(!rig.sim.state().card_present);
    let err = r.read(true, within(2000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NoCard);

    let card = rig.lay("zhangwei");
    let read = r.read(true, within(3000)).unwrap();
    check(&read, &card, true);
}

#[test]
fn unplug_is_disconnected_and_replug_reopens_on_the_same_path() {
    let rig = Rig::new("unplug");
    let mut r = rig.open();
    assert_eq!(r.find_card(within(1000)).unwrap(), CardPresence::Absent);
    rig.sim.set_unplugged(true);
    assert!(rig.sim.state().unplugged);
    let start = Instant::now();
    let err = r.find_card(start + Duration::from_secs(3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected, "{err}");
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(r.health().state, HealthState::Offline);
    drop(r);

    let err = Ga467Reader::open(&rig.selector).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    rig.sim.set_unplugged(false);
    assert!(!rig.sim.state().unplugged);
    assert_eq!(
        std::fs::read_link(rig.sim.path()).unwrap(),
        rig.sim.pts_path()
    );
    let mut r = rig.open();
    let card = rig.lay("lixiuying");
    let read = r.read(true, within(3000)).unwrap();
    check(&read, &card, true);
}

#[test]
fn silence_times_out_within_the_deadline() {
    let rig = Rig::new("silence");
    let mut r = rig.open();
    rig.lay("zhangwei");
    rig.sim.inject(IdFault::Silence);
    let start = Instant::now();
    let deadline = start + Duration::from_millis(800);
    let err = r.read(true, deadline).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let late = Instant::now().saturating_duration_since(deadline);
    assert!(
        late < Duration::from_millis(200),
        "{late:?} past the deadline"
    );
    // The reader answers again afterwards.
    let card = demo_person("zhangwei").unwrap();
    let read = r.read(true, within(3000)).unwrap();
    check(&read, &card, true);
    assert_eq!(r.health().state, HealthState::Ok);
}

#[test]
fn a_deadline_already_passed_does_not_touch_the_wire() {
    let rig = Rig::new("past");
    let mut r = rig.open();
    let err = r.find_card(Instant::now()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(
        r.health().state,
        HealthState::Ok,
        "says nothing about the reader"
    );
}

#[test]
fn poll_reports_card_laid_and_removed() {
    let rig = Rig::new("poll");
    let mut r = rig.open();
    assert_eq!(r.poll_interval(), Duration::from_millis(300));
    assert_eq!(r.poll(within(300)), vec![]);
    rig.lay("zhangwei");
    assert_eq!(r.poll(within(300)), vec![DeviceEvent::CardLaid]);
    assert_eq!(r.poll(within(300)), vec![], "laid once, reported once");
    rig.sim.remove_card();
    assert_eq!(r.poll(within(300)), vec![DeviceEvent::CardRemoved]);
    rig.lay("zhangwei");
    assert_eq!(r.poll(within(300)), vec![DeviceEvent::CardLaid]);
    r.read(false, within(3000)).unwrap();
    assert_eq!(
        r.poll(within(300)),
        vec![],
        "a read card is not reported as removed"
    );
    rig.sim.remove_card();
    rig.lay("zhangwei");
    assert_eq!(r.poll(within(300)), vec![DeviceEvent::CardLaid]);
}

#[test]
fn open_errors_are_typed() {
    let rig = Rig::new("open");
    let held = rig.open();
    let err = Ga467Reader::open(&rig.selector).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");

    let missing: Selector = format!("serial:{}/nothing-here", rig.dir.display())
        .parse()
        .unwrap();
    assert_eq!(
        Ga467Reader::open(&missing).err().unwrap().kind(),
        ErrorKind::NotFound
    );
    let bad_baud: Selector = format!("serial:{}?baud=fast", rig.sim.path().display())
        .parse()
        .unwrap();
    assert_eq!(
        Ga467Reader::open(&bad_baud).err().unwrap().kind(),
        ErrorKind::Config
    );
    let tcp: Selector = "tcp:127.0.0.1:9100".parse().unwrap();
    assert_eq!(
        Ga467Reader::open(&tcp).err().unwrap().kind(),
        ErrorKind::Config
    );
    drop(held);
    rig.open();
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
async fn in_the_actor_card_laid_read_unplug_and_replug() {
    use hal::DeviceKind;
    use hal::actor::{IdCardHandle, spawn};

    let rig = Rig::new("actor");
    let sel = rig.selector.clone();
    let h: IdCardHandle = spawn("idcard", DeviceKind::IdCardReader, move || {
        Ga467Reader::open(&sel).map(|r| Box::new(r) as Box<dyn IdCardReader>)
    })
    .unwrap();
    let mut events = h.events();

    let card = rig.lay("zhangwei");
    wait_for(&mut events, DeviceEvent::CardLaid).await;
    let read = h.read(true, Duration::from_secs(3)).await.unwrap();
    check(&read, &card, true);

    rig.sim.set_unplugged(true);
    wait_for(&mut events, DeviceEvent::Detached).await;
    assert_eq!(h.health().state, HealthState::Offline);
    rig.sim.set_unplugged(false);
    wait_for(&mut events, DeviceEvent::Attached).await;

    let card = rig.lay("lixiuying");
    wait_for(&mut events, DeviceEvent::CardLaid).await;
    let read = h.read(true, Duration::from_secs(3)).await.unwrap();
    check(&read, &card, true);
}
