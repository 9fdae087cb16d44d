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

fn until_connected(sim: &VirtualCardSim, want: bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while sim.connected() != want {
        assert!(
            Instant::now() < end,
            "card attach state did not become {want}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // pcscd polls the virtual reader; give it a moment to see the change.
    std::thread::sleep(Duration::from_millis(600));
}

/// Takes any card out, then inserts `card` and waits until pcscd has it.
fn put(sim: &VirtualCardSim, card: SimSmartCard) {
    if sim.connected() {
        sim.remove();
        until_connected(sim, false);
    }
    sim.insert(card);
    until_connected(sim, true);
}

#[test]
fn card_read_prints_masked_json_and_exit_codes_follow_the_error() {
    let _lock = sim::vpcd::lock_slot().unwrap();
    sim::vpcd::ensure_pcscd().unwrap();
    let sim = VirtualCardSim::start(([127, 0, 0, 1], VPCD_PORT).into()).unwrap();
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

    put(&sim, SimSmartCard::Blank);
    let (code, _, err) = kioskctl(&args);
    assert_eq!(code, 5);
    assert!(err.starts_with("无法识别的卡片"), "{err}");

    sim.remove();
    until_connected(&sim, false);
    sim.stop();

    let (code, _, err) = kioskctl(&["card", "read", "--reader", "No Such Reader"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("未找到设备"), "{err}");
}
