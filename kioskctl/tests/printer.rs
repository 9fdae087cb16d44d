//! `kioskctl printer status|test` against the simulated printer on TCP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use sim::printer::{PrinterSim, SimPaper};

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

fn rig(tag: &str) -> (PrinterSim, PathBuf) {
    let dir = std::env::temp_dir().join(format!("kioskctl-printer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    (
        PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir).unwrap(),
        dir,
    )
}

#[test]
fn status_reports_paper_and_cover_as_json() {
    let (sim, dir) = rig("status");
    let addr = sim.addr().to_string();
    let (code, out, _) = kioskctl(&["printer", "status", "--addr", &addr]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["state"], "ok");
    assert_eq!(v["paper"], "ok");
    assert_eq!(v["cover"], "closed");
    assert_eq!(v["error"], Value::Null);

    sim.set_paper(SimPaper::NearEnd);
    let v: Value =
        serde_json::from_str(kioskctl(&["printer", "status", "--addr", &addr]).1.trim()).unwrap();
    assert_eq!(v["state"], "degraded");
    assert_eq!(v["paper"], "near_end");

    sim.set_paper(SimPaper::Out);
    sim.set_cover_open(true);
    let (code, out, _) = kioskctl(&["printer", "status", "--addr", &addr]);
    assert_eq!(code, 0, "the status was read, even though it is bad");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["state"], "fault");
    assert_eq!(v["paper"], "out");
    assert_eq!(v["cover"], "open");
    assert_eq!(v["online"], false);
    assert!(v["error"].as_str().unwrap().starts_with("打印机盖未关闭"));
    sim.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn test_prints_the_self_test_receipt() {
    let (sim, dir) = rig("test");
    let (code, out, err) = kioskctl(&["printer", "test", "--addr", &sim.addr().to_string()]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["bytes_sent"].as_u64().unwrap() > 100);
    let jobs = sim.wait_for_jobs(1, Duration::from_secs(5));
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].text.contains("打印机自检") && jobs[0].cut);

    sim.set_paper(SimPaper::Out);
    let (code, out, err) = kioskctl(&["printer", "test", "--addr", &sim.addr().to_string()]);
    assert_eq!(code, 6);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1);
    assert!(
        err.starts_with("打印机缺纸（printer out of paper）"),
        "{err}"
    );
    sim.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn no_printer_at_the_address_exits_2_with_a_chinese_message() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let (code, out, err) = kioskctl(&["printer", "status", "--addr", &addr]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with("设备已断开连接（device disconnected）"),
        "{err}"
    );
    let (code, _, err) = kioskctl(&["printer", "status", "--addr", "not an address"]);
    assert_eq!(code, 2);
    assert!(err.starts_with("设备配置错误"), "{err}");
}
