//! `kioskctl fingerprint …` against the simulated module.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use sim::fingerprint::{FingerState, FingerprintSim, FpFault};
use sim::idcard::demo_person;

struct Rig {
    sim: FingerprintSim,
    dir: PathBuf,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("kioskctl-fp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = FingerprintSim::start(&dir, "fingerprint").unwrap();
        Rig { sim, dir }
    }

    fn finger(&self, key: &str) {
        self.sim.set_finger(FingerState::Finger(key.into()));
    }

    fn features_file(&self, key: &str) -> PathBuf {
        let mut card = demo_person(key).unwrap();
        card.with_fingerprint = true;
        let path = self.dir.join(format!("{key}.features"));
        std::fs::write(&path, card.fingerprint()).unwrap();
        path
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn json(&self) -> Value {
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "one JSON line: {:?}", self.stdout);
        serde_json::from_str(lines[0]).unwrap()
    }
}

fn kioskctl(args: &[&str], port: &Path, extra: &[&str]) -> Outcome {
    let out = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .arg("fingerprint")
        .args(args)
        .arg("--port")
        .arg(port)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn fingerprint_status_reports_library_and_security_level() {
    let rig = Rig::new("status");
    rig.sim
        .store_template(4, &FingerState::Finger("zhangwei".into()));
    rig.sim.store_template(9, &FingerState::Unknown);
    let o = kioskctl(&["status"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["template_count"], 2);
    assert_eq!(v["capacity"], 300);
    assert_eq!(v["security_level"], 3);

    let o = kioskctl(&["status"], &rig.sim.path(), &[]);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("指纹模板数（templates）: 2 / 300"),
        "{}",
        o.stdout
    );
}

#[test]
fn fingerprint_capture_with_and_without_a_finger() {
    let rig = Rig::new("capture");
    rig.finger("zhangwei");
    let o = kioskctl(&["capture"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json()["captured"], true);

    rig.sim.set_finger(FingerState::None);
    let o = kioskctl(
        &["capture"],
        &rig.sim.path(),
        &["--json", "--timeout-ms", "1000"],
    );
    assert_eq!(o.code, 3);
    assert_eq!(o.json()["guidance"], "place_finger");
    assert!(o.stderr.contains("请按压手指"), "{}", o.stderr);

    rig.sim.set_finger(FingerState::Poor);
    let o = kioskctl(&["capture"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 3);
    assert_eq!(o.json()["guidance"], "poor_image");
}

#[test]
fn fingerprint_search_found_and_not_found() {
    let rig = Rig::new("search");
    rig.sim
        .store_template(21, &FingerState::Finger("wanghaoran".into()));
    rig.finger("wanghaoran");
    let o = kioskctl(&["search"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(
        (v["found"].clone(), v["page"].clone()),
        (Value::Bool(true), 21.into())
    );
    rig.finger("zhangwei");
    let o = kioskctl(&["search"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.json()["found"], false);
}

#[test]
fn fingerprint_match_card_holder_and_someone_else() {
    let rig = Rig::new("card");
    let zhang = rig.features_file("zhangwei");
    rig.finger("zhangwei");
    let features = zhang.to_str().unwrap();
    let o = kioskctl(
        &["match-card", "--features", features],
        &rig.sim.path(),
        &["--json"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v = o.json();
    assert_eq!(v["matched"], true);
    assert!(v["score"].as_u64().unwrap() > 0);

    rig.finger("wanghaoran");
    let o = kioskctl(
        &["match-card", "--features", features],
        &rig.sim.path(),
        &["--json"],
    );
    assert_eq!(o.code, 1);
    assert_eq!(o.json()["matched"], false);

    let missing = rig.dir.join("none.features");
    let o = kioskctl(
        &["match-card", "--features", missing.to_str().unwrap()],
        &rig.sim.path(),
        &["--json"],
    );
    assert_eq!(o.code, 2);
    assert!(
        o.stderr
            .contains("设备配置错误（device configuration error）"),
        "{}",
        o.stderr
    );
}

#[test]
fn fingerprint_errors_have_their_exit_codes() {
    let rig = Rig::new("errors");
    // Cannot open.
    let o = kioskctl(&["status"], &rig.dir.join("nothing"), &["--json"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("未找到设备（device not found）"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.is_empty());
    // Wrong password.
    rig.sim.set_password(0x55);
    let o = kioskctl(&["status"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let o = kioskctl(
        &["status"],
        &rig.sim.path(),
        &["--json", "--password", "55"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    rig.sim.set_password(0);
    // Silence: timeout.
    rig.sim.inject(FpFault::Silence);
    let o = kioskctl(
        &["status"],
        &rig.sim.path(),
        &["--json", "--timeout-ms", "800"],
    );
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(
        o.stderr.contains("设备响应超时（device timed out）"),
        "{}",
        o.stderr
    );
    // A module fault.
    rig.sim.inject(FpFault::Status(0x18));
    let o = kioskctl(&["status"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 5, "{}", o.stderr);
    // Unplugged.
    rig.sim.set_unplugged(true);
    let o = kioskctl(&["status"], &rig.sim.path(), &["--json"]);
    assert_eq!(o.code, 2);
}
