//! The PC/SC driver through the real pcscd and its vsmartcard virtual
//! reader, with the simulator as the card (sim::vpcd).
//!
//! pcscd is started if it does not run (as root, as `cargo xtask test`
//! runs). The virtual reader has one card slot, so these tests (and
//! kioskctl's) take a file lock and run one at a time.

use std::fs::File;
use std::time::{Duration, Instant};

use drivers::smartcard::PcscReader;
use hal::card::{CardData, CardReader, mask_card_number};
use hal::{Device, DeviceEvent, ErrorKind, Selector};
use sim::vpcd::{SimSmartCard, VPCD_PORT, VirtualCardSim, demo_pan};

const READER: &str = "pcsc:Virtual PCD 00 00";

/// Holds the slot for one test.
struct Slot {
    _lock: File,
    sim: VirtualCardSim,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.sim.remove();
        // Let pcscd see the card go before the next test takes the slot.
        let end = Instant::now() + Duration::from_secs(3);
        while self.sim.connected() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.sim.stop();
    }
}

fn slot() -> Slot {
    let lock = sim::vpcd::lock_slot().unwrap();
    sim::vpcd::ensure_pcscd().unwrap();
    let sim = VirtualCardSim::start(([127, 0, 0, 1], VPCD_PORT).into()).unwrap();
    Slot { _lock: lock, sim }
}

fn open() -> PcscReader {
    PcscReader::open(&READER.parse::<Selector>().unwrap()).unwrap()
}

fn within(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

/// Polls until `want` comes or 5 s pass.
fn wait_event(r: &mut PcscReader, want: DeviceEvent) {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        if r.poll(within(500)).contains(&want) {
            return;
        }
        assert!(Instant::now() < end, "no {want:?} within 5 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn insert(slot: &Slot, r: &mut PcscReader, card: SimSmartCard) {
    let _ = r.poll(within(500));
    slot.sim.insert(card);
    wait_event(r, DeviceEvent::CardLaid);
}

#[test]
fn a_social_security_card_is_read_through_pcscd() {
    let slot = slot();
    let mut r = open();
    assert!(!r.card_present(within(1000)).unwrap());
    let e = r.read_card(within(3000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NoCard, "{e}");
    insert(
        &slot,
        &mut r,
        SimSmartCard::Ssc {
            person: "zhangwei".into(),
            needs_psam: false,
        },
    );
    let card = r.read_card(within(5000)).unwrap();
    let CardData::SocialSecurity(ssc) = &card else {
        panic!("not a social-security card: {card:?}")
    };
    assert_eq!(ssc.ss_number, "410403198503150013");
    assert_eq!(ssc.name, "张伟", "GBK name decoded");
    assert_eq!(ssc.card_number, "D41040319");
    assert_eq!(ssc.issued.as_deref(), Some("2020-03-15"));
    assert_eq!(ssc.expires.as_deref(), Some("2030-03-15"));
    assert_eq!(ssc.sex.as_deref(), Some("男"));
    let dbg = format!("{card:?}");
    assert!(
        !dbg.contains("张伟") && !dbg.contains("410403198503150013"),
        "{dbg}"
    );
    slot.sim.remove();
    wait_event(&mut r, DeviceEvent::CardRemoved);
    assert_eq!(r.health().counters["reads"], 1);
}

#[test]
fn a_bank_card_gives_only_the_masked_pan_and_expiry() {
    let slot = slot();
    let mut r = open();
    insert(
        &slot,
        &mut r,
        SimSmartCard::Bank {
            person: "lixiuying".into(),
        },
    );
    let card = r.read_card(within(5000)).unwrap();
    let pan = demo_pan("lixiuying");
    match &card {
        CardData::Bank {
            pan_masked,
            expiry,
            aid,
        } => {
            assert_eq!(pan_masked, &mask_card_number(&pan));
            assert!(pan_masked.starts_with("622848") && pan_masked.contains("*********"));
            assert_eq!(expiry, "2030-12");
            assert_eq!(aid, "A000000333010101");
        }
        other => panic!("not a bank card: {other:?}"),
    }
    assert!(
        !format!("{card:?}").contains(&pan),
        "the full PAN never leaves the driver"
    );
}

#[test]
fn psam_required_unknown_card_and_a_pulled_card_have_their_own_errors() {
    let slot = slot();
    let mut r = open();
    insert(
        &slot,
        &mut r,
        SimSmartCard::Ssc {
            person: "zhangwei".into(),
            needs_psam: true,
        },
    );
    let e = r.read_card(within(5000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SecureModule, "{e}");
    assert_eq!(
        drivers::smartcard::card_error_zh(e.kind()),
        "读取个人信息需要安全模块（PSAM），请联系工作人员"
    );

    slot.sim.remove();
    wait_event(&mut r, DeviceEvent::CardRemoved);
    insert(&slot, &mut r, SimSmartCard::Blank);
    let e = r.read_card(within(5000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");

    slot.sim.remove();
    wait_event(&mut r, DeviceEvent::CardRemoved);
    insert(
        &slot,
        &mut r,
        SimSmartCard::Ssc {
            person: "zhangwei".into(),
            needs_psam: false,
        },
    );
    slot.sim.pull_after(2);
    let e = r.read_card(within(5000)).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::CardRead | ErrorKind::NoCard),
        "pulled mid-read: {e}"
    );
    wait_event(&mut r, DeviceEvent::CardRemoved);
    assert!(r.health().counters["read_errors"] >= 3);
}

#[test]
fn a_reader_that_is_not_there_is_not_found() {
    let _slot = slot();
    let e = PcscReader::open(&"pcsc:No Such Reader".parse::<Selector>().unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = PcscReader::open(&"serial:/dev/null".parse::<Selector>().unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Config);
}
