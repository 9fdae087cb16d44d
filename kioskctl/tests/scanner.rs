//! `kioskctl scanner listen` against the simulated serial scanner.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sim::scanner::{ScannerConfig, ScannerSim, SimSuffix, SimSymbology};

struct Rig {
    sim: ScannerSim,
    dir: PathBuf,
}

impl Rig {
    fn new(tag: &str, config: ScannerConfig) -> Rig {
        let dir =
            std::env::temp_dir().join(format!("kioskctl-scanner-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = ScannerSim::start(&dir, "scanner", config).unwrap();
        Rig { sim, dir }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn listen(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["scanner", "listen"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Scans once the listener has opened the port (retrying until it reads).
fn scan_until_read(rig: &Rig, codes: &[(&[u8], SimSymbology)]) {
    // The listener opens the port within a moment; scans written before
    // it opened are flushed at open, so wait a little first.
    std::thread::sleep(Duration::from_millis(500));
    for (data, sym) in codes {
        rig.sim.scan(data, Some(*sym)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn scanner_listen_prints_one_json_object_per_scan() {
    let rig = Rig::new(
        "ok",
        ScannerConfig {
            suffix: SimSuffix::Crlf,
            prefix: String::new(),
            aim: true,
        },
    );
    let port = rig.sim.path().display().to_string();
    let child = listen(&[
        "--port",
        &port,
        "--suffix",
        "crlf",
        "--aim",
        "--count",
        "2",
        "--timeout-ms",
        "8000",
        "--json",
    ]);
    // 办事指南 in GB18030.
    let gb: &[u8] = &[0xB0, 0xEC, 0xCA, 0xC2, 0xD6, 0xB8, 0xC4, 0xCF];
    scan_until_read(
        &rig,
        &[
            ("https://zwfw.example.gov.cn/a".as_bytes(), SimSymbology::Qr),
            (gb, SimSymbology::DataMatrix),
        ],
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "https://zwfw.example.gov.cn/a");
    assert_eq!(lines[0]["symbology"], "qr");
    assert_eq!(lines[1]["text"], "办事指南");
    assert_eq!(lines[1]["hex"], "b0eccac2d6b8c4cf");
    assert_eq!(lines[1]["symbology"], "data_matrix");
}

#[test]
fn scanner_listen_times_out_with_exit_4_and_a_bilingual_line() {
    let rig = Rig::new("timeout", ScannerConfig::default());
    let port = rig.sim.path().display().to_string();
    let out = listen(&["--port", &port, "--timeout-ms", "300"])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("设备响应超时（device timed out）"), "{err}");
}

#[test]
fn scanner_listen_cannot_open_is_exit_2() {
    let out = listen(&["--port", "/nonexistent/ttyACM9", "--timeout-ms", "300"])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = listen(&["--port", "/dev/null", "--suffix", "tab"])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
