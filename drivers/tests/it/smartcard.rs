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
        // The slot stays empty a moment, as between two people: pcscd
        // looks at the reader every 400 ms, and a card attached at once
        // after a pulled one can be taken for the old card still in.
        std::thread::sleep(Duration::from_millis(1000));
    }
}

fn slot() -> Slot {
    let lock = sim::vpcd::lock_slot().unwrap();
    sim::vpcd::ensure_pcscd().unwrap();
    let sim = VirtualCardSim::start(([127, 0, 0, 1], VPCD_PORT).into()).unwrap();
    // pcscd notices a card gone at its next look at the reader: wait until
    // the last test's card is out.
    let end = Instant::now() + Duration::from_secs(5);
    let mut r = open();
    while r.card_present(within(1000)).unwrap() {
        assert!(Instant::now() < end, "the last test's card is still in");
        std::thread::sleep(Duration::from_millis(50));
    }
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
    assert_eq!(e.kind(), ErrorKind::CardRead, "pulled mid-read: {e}");
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

/// A card swapped for another between two polls is seen as taken out
/// and put in (pcscd's event counter), and the new card is read.
#[test]
fn a_card_swapped_between_polls_is_removed_then_laid() {
    let slot = slot();
    let mut r = open();
    insert(
        &slot,
        &mut r,
        SimSmartCard::Bank {
            person: "zhangwei".into(),
        },
    );
    let attached = slot.sim.state().attachments;
    slot.sim.insert(SimSmartCard::Ssc {
        person: "wanghaoran".into(),
        needs_psam: false,
    });
    let end = Instant::now() + Duration::from_secs(5);
    while slot.sim.state().attachments == attached {
        assert!(Instant::now() < end, "the new card was never attached");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let pcscd finish powering the new card before looking.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        r.poll(within(500)),
        vec![DeviceEvent::CardRemoved, DeviceEvent::CardLaid]
    );
    let card = r.read_card(within(5000)).unwrap();
    assert!(matches!(card, CardData::SocialSecurity(_)), "{card:?}");
    assert!(r.poll(within(500)).is_empty(), "no event without a change");
}

/// The diagnostic APDU path answers what the card says but refuses the
/// commands whose answers carry cardholder data.
#[test]
fn diagnostic_apdus_pass_through_but_never_read_records() {
    let slot = slot();
    let mut r = open();
    let e = r
        .transmit(&[0x00, 0xA4, 0x04, 0x00, 0x00], within(2000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NoCard, "{e}");
    insert(
        &slot,
        &mut r,
        SimSmartCard::Bank {
            person: "zhangwei".into(),
        },
    );
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x0E];
    select.extend_from_slice(b"2PAY.SYS.DDF01");
    select.push(0x00);
    let resp = r.transmit(&select, within(3000)).unwrap();
    assert_eq!(&resp[resp.len() - 2..], &[0x90, 0x00]);
    assert_eq!(
        r.transmit(&[0x00, 0xB2, 0x01, 0x0C, 0x00], within(3000))
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    assert_eq!(
        r.transmit(&[0x00, 0xA4], within(3000)).unwrap_err().kind(),
        ErrorKind::Config
    );
}

const PRIVATE: &str = "KIOSK_TEST_PRIVATE_PCSCD";

/// pcscd itself goes away and comes back: the actor reports the reader
/// offline within 2 s and has it back within 5 s of pcscd's return, and
/// a card inserted then is read. A pcscd of the test's own is stopped
/// (sim::vpcd::PrivatePcscd, in a private mount namespace), never the
/// machine's; libpcsclite finds it through PCSCLITE_CSOCK_NAME, which must
/// be set before the process's first PC/SC call, so the test runs itself
/// again in a child process with it set.
#[test]
fn pcscd_gone_is_offline_and_the_reader_comes_back() {
    let Some(dir) = std::env::var_os(PRIVATE) else {
        let dir = std::env::temp_dir().join(format!("kiosk-pcscd-{}", std::process::id()));
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "smartcard::pcscd_gone_is_offline_and_the_reader_comes_back",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PRIVATE, &dir)
            .env("PCSCLITE_CSOCK_NAME", dir.join("run").join("pcscd.comm"))
            .output()
            .unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(
            text.contains("1 passed"),
            "the inner run ran no test: {text}"
        );
        return;
    };
    offline_and_back(std::path::Path::new(&dir));
}

fn offline_and_back(dir: &std::path::Path) {
    use hal::DeviceKind;
    use hal::HealthState;
    use hal::actor::{CardReaderHandle, spawn};

    // A port of this process's own, beside vpcd's 35963/35964.
    let port = 36_000 + (std::process::id() % 2_000) as u16 * 2;
    let mut pcscd = sim::vpcd::PrivatePcscd::start(dir, port).unwrap();
    let sim = VirtualCardSim::start(([127, 0, 0, 1], port).into()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let h: CardReaderHandle = spawn("card", DeviceKind::CardReader, || {
            PcscReader::open(&READER.parse::<Selector>().unwrap())
                .map(|r| Box::new(r) as Box<dyn CardReader>)
        })
        .unwrap();
        let mut events = h.events();
        // Attached may have gone out before the subscription: wait on health.
        let end = Instant::now() + Duration::from_secs(5);
        while !h.health().usable() {
            assert!(Instant::now() < end, "never opened: {:?}", h.health());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sim.insert(SimSmartCard::Bank {
            person: "zhangwei".into(),
        });
        wait_for(&mut events, DeviceEvent::CardLaid, 5).await;
        let card = h
            .call(Duration::from_secs(5), |d, dl| d.read_card(dl))
            .await
            .unwrap();
        assert!(matches!(card, CardData::Bank { .. }), "{card:?}");

        pcscd.stop();
        wait_for(&mut events, DeviceEvent::Detached, 2).await;
        assert_eq!(h.health().state, HealthState::Offline);
        let e = h
            .call(Duration::from_secs(2), |d, dl| d.read_card(dl))
            .await
            .unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Disconnected | ErrorKind::NotFound),
            "{e}"
        );

        pcscd.restart().unwrap();
        wait_for(&mut events, DeviceEvent::Attached, 5).await;
        assert!(h.health().usable(), "{:?}", h.health());
        // The card went with the old pcscd; it is inserted again.
        sim.insert(SimSmartCard::Ssc {
            person: "lixiuying".into(),
            needs_psam: false,
        });
        wait_for(&mut events, DeviceEvent::CardLaid, 5).await;
        let card = h
            .call(Duration::from_secs(5), |d, dl| d.read_card(dl))
            .await
            .unwrap();
        let CardData::SocialSecurity(ssc) = &card else {
            panic!("{card:?}")
        };
        assert_eq!(ssc.name, "李秀英");
    });
    sim.remove();
    sim.stop();
}

async fn wait_for(
    rx: &mut tokio::sync::broadcast::Receiver<DeviceEvent>,
    want: DeviceEvent,
    secs: u64,
) {
    let end = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(end, rx.recv()).await {
            Ok(Ok(ev)) if ev == want => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("no {want:?} within {secs} s: {other:?}"),
        }
    }
}
