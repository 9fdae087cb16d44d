//! Independent peer: the PyPI `pyfingerprint` library, which nobody here
//! wrote, against the simulated fingerprint module over its
//! pseudo-terminal (`tests/peers/pyfingerprint_client.py`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use sim::fingerprint::{FingerState, FingerprintSim};
use workspace_tests::{python, workspace_root};

struct Rig {
    sim: FingerprintSim,
    dir: PathBuf,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("peer-pyfp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = FingerprintSim::start(&dir, "fingerprint").unwrap();
        Rig { sim, dir }
    }

    /// Runs the client; returns its exit code and the JSON it printed.
    fn client(&self, password: Option<&str>) -> (i32, Value) {
        let py = python();
        assert!(
            py.exists(),
            "{} missing: run `cargo xtask test` (it makes the venv with pyfingerprint)",
            py.display()
        );
        let script = workspace_root().join("tests/peers/pyfingerprint_client.py");
        let mut cmd = Command::new(py);
        cmd.arg(script).arg(self.sim.path());
        if let Some(p) = password {
            cmd.arg(p);
        }
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let line = stdout.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "no JSON from the client ({e}): {stdout:?} {:?}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn pyfingerprint_verifies_captures_and_finds_the_enrolled_finger() {
    let rig = Rig::new("find");
    let finger = FingerState::Finger("zhangwei".into());
    assert!(
        rig.sim
            .store_template(3, &FingerState::Finger("wanghaoran".into()))
    );
    assert!(rig.sim.store_template(17, &finger));
    rig.sim.set_finger(finger);

    let (code, v) = rig.client(None);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["password_ok"], true);
    assert_eq!(v["capacity"], 300);
    assert_eq!(v["security_level"], 3);
    assert_eq!(v["address"], "FFFFFFFF");
    assert_eq!(v["packet_size"], 128);
    assert_eq!(v["baud"], 57600);
    assert_eq!(v["template_count"], 2);
    assert_eq!(v["index_page0"], serde_json::json!([3, 17]));
    assert_eq!(v["image"], true);
    assert_eq!(v["search_page"], 17, "{v}");
    assert!(v["search_score"].as_i64().unwrap() > 0);
    assert!(v["compare_score"].as_i64().unwrap() > 0);
    assert_eq!(v["template_len"], 512);
    assert_eq!(v["upload_roundtrip"], true);
}

#[test]
fn pyfingerprint_search_misses_an_unknown_finger() {
    let rig = Rig::new("miss");
    assert!(
        rig.sim
            .store_template(0, &FingerState::Finger("zhangwei".into()))
    );
    rig.sim.set_finger(FingerState::Unknown);
    let (code, v) = rig.client(None);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["template_count"], 1);
    assert_eq!(v["search_page"], -1);
}

#[test]
fn pyfingerprint_with_password() {
    let rig = Rig::new("pwd");
    rig.sim.set_password(0x00C0_FFEE);
    rig.sim.set_finger(FingerState::Finger("zhangwei".into()));
    let (code, v) = rig.client(Some("00C0FFEE"));
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["password_ok"], true);
    let (code, v) = rig.client(Some("0"));
    assert_eq!(code, 1, "{v}");
    assert!(v["error"].as_str().unwrap().contains("password"), "{v}");
}
