//! Independent peer: the PyPI `python-escpos` library, which nobody here
//! wrote, prints to the simulated receipt printer over TCP
//! (`tests/peers/escpos_client.py`). What the simulator recorded (text,
//! QR payload, barcode data) and what zbar reads on its rendering must be
//! what the script sent: the simulator understands a client we did not
//! write.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sim::printer::PrinterSim;
use workspace_tests::{python, workspace_root};

#[test]
fn python_escpos_prints_chinese_a_qr_and_a_barcode_the_simulator_records() {
    let dir = std::env::temp_dir().join(format!("peer-escpos-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sim = PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir).unwrap();
    let py = python();
    assert!(
        py.exists(),
        "{} missing: run `cargo xtask test` (it makes the venv with python-escpos)",
        py.display()
    );
    let out = Command::new(py)
        .arg(workspace_root().join("tests/peers/escpos_client.py"))
        .arg(sim.addr().ip().to_string())
        .arg(sim.addr().port().to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "client failed: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(
        sent["paper"], 2,
        "python-escpos reads the paper sensor as adequate"
    );

    let jobs = sim.wait_for_jobs(1, Duration::from_secs(10));
    assert_eq!(jobs.len(), 1, "one job");
    let job = &jobs[0];
    assert!(job.complete && job.cut, "ended with python-escpos's cut");
    let lines: Vec<String> = sent["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let got: Vec<&str> = job.text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(got, lines, "the text, Chinese included");
    assert_eq!(job.qr_codes, vec![sent["qr"].as_str().unwrap().to_string()]);
    let code = sent["barcode"].as_str().unwrap();
    assert_eq!(job.barcodes, vec![format!("CODE128:{code}")]);

    // And the picture of the paper carries both symbols, readable.
    let png = job.png.as_ref().unwrap();
    let z = Command::new("zbarimg")
        .arg("--quiet")
        .arg(png)
        .output()
        .expect("zbarimg (Debian zbar-tools)");
    let mut found: Vec<String> = String::from_utf8_lossy(&z.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            format!("CODE-128:{code}"),
            format!("QR-Code:{}", sent["qr"].as_str().unwrap()),
        ],
        "{}",
        png.display()
    );
    sim.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
