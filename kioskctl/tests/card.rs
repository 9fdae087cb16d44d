//! `kioskctl card read` through pcscd's virtual reader, the simulator
//! being the card.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use sim::vpcd::{SimSmartCard, VPCD_PORT, VirtualCardSim};

fn kioskctl(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Waits until pcscd itself reports the card in (or out): what a reader
/// of the slot sees, not just the simulator's socket.
fn until_present(sim: &VirtualCardSim, want: bool) {
    use hal::card::CardReader;
    let sel: hal::Selector = "pcsc:Virtual PCD 00 00".parse().unwrap();
    let mut r = drivers::smartcard::PcscReader::open(&sel).unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while r
        .card_present(Instant::now() + Duration::from_secs(1))
        .unwrap()
        != want
    {
        assert!(
            Instant::now() < end,
            "pcscd never saw the card {}: {:?}",
            if want { "in" } else { "out" },
            sim.state()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Takes any card out, then inserts `card` and waits until pcscd has it.
fn put(sim: &VirtualCardSim, card: SimSmartCard) {
    if sim.connected() {
        sim.remove();
        until_present(sim, false);
    }
    sim.insert(card);
    until_present(sim, true);
}

#[test]
fn card_read_prints_masked_json_and_exit_codes_follow_the_error() {
    let _lock = sim::vpcd::lock_slot().unwrap();
    sim::vpcd::ensure_pcscd().unwrap();
    let sim = VirtualCardSim::start(([127, 0, 0, 1], VPCD_PORT).into()).unwrap();
    // The last test's card may still be leaving pcscd's view.
    until_present(&sim, false);
    let args = ["card", "read", "--reader", "Virtual PCD 00 00", "--json"];

    let (code, out, err) = kioskctl(&args);
    assert_eq!(code, 3, "no card: {out}{err}");
    assert!(err.starts_with("未检测到卡片（no card）"), "{err}");

    put(
        &sim,
        SimSmartCard::Ssc {
            person: "zhangwei".into(),
            needs_psam: false,
        },
    );
    let (code, out, err) = kioskctl(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["card_type"], "social_security");
    assert_eq!(v["name"], "张伟");
    assert_eq!(v["ss_number"], "410403********0013");
    assert!(!out.contains("410403198503150013"));

    put(
        &sim,
        SimSmartCard::Bank {
            person: "zhangwei".into(),
        },
    );
    let (code, out, _) = kioskctl(&args);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["card_type"], "bank");
    assert!(v["pan"].as_str().unwrap().contains("*********"));
    assert_eq!(v["expiry"], "2030-12");

    // A deadline already over when the card answers: exit 4.
    let (code, _, err) = kioskctl(&[
        "card",
        "read",
        "--reader",
        "Virtual PCD 00 00",
        "--timeout-ms",
        "0",
    ]);
    assert_eq!(code, 4, "{err}");
    assert!(err.starts_with("设备响应超时（device timed out）"), "{err}");

    put(&sim, SimSmartCard::Blank);
    let (code, _, err) = kioskctl(&args);
    assert_eq!(code, 5);
    assert!(err.starts_with("无法识别的卡片"), "{err}");

    sim.remove();
    until_present(&sim, false);
    sim.stop();
    // The slot stays empty a moment before the next test takes it (see
    // drivers/tests/it/smartcard.rs, Slot).
    std::thread::sleep(Duration::from_millis(1000));

    let (code, _, err) = kioskctl(&["card", "read", "--reader", "No Such Reader"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("未找到设备"), "{err}");
}

/// pcscd not running (its socket absent): exit 2 with the Chinese and
/// English line, and nothing on stdout.
#[test]
fn card_read_without_pcscd_exits_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["card", "read", "--json"])
        .env(
            "PCSCLITE_CSOCK_NAME",
            std::env::temp_dir().join("kiosk-no-pcscd-here.comm"),
        )
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.starts_with("设备已断开连接（device disconnected）"),
        "{err}"
    );
}
