//! `kioskctl selftest` against the simulated reader and printer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use sim::idcard::IdCardSim;
use sim::printer::PrinterSim;

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

struct Farm {
    dir: PathBuf,
    reader: IdCardSim,
    printer: PrinterSim,
    config: PathBuf,
}

impl Farm {
    fn new(tag: &str) -> Farm {
        let dir =
            std::env::temp_dir().join(format!("kioskctl-selftest-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let reader = IdCardSim::start(&dir, "idcard").unwrap();
        let printer = PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir.join("jobs")).unwrap();
        let config = dir.join("kiosk.toml");
        std::fs::write(
            &config,
            format!(
                "kiosk_name = \"t\"\ndata_dir = \"{}\"\n[devices]\nidcard = \"serial:{}?baud=115200\"\nreceipt_printer = \"tcp:{}\"\n",
                dir.join("data").display(),
                reader.path().display(),
                printer.addr()
            ),
        )
        .unwrap();
        Farm {
            dir,
            reader,
            printer,
            config,
        }
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        self.reader.stop();
        self.printer.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn every_device_passes_the_report_prints_and_the_time_is_kept() {
    let farm = Farm::new("pass");
    let cfg = farm.config.to_str().unwrap();
    let (code, out, err) = kioskctl(&["selftest", "--config", cfg, "--json", "--print"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["passed"], true);
    assert_eq!(v["report_printed"], true);
    let devices = v["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 2);
    for d in devices {
        assert_eq!(d["passed"], true, "{d}");
        assert_eq!(d["state"], "ok");
        assert_eq!(d["last_tested_at"], Value::Null, "first test ever");
    }
    let jobs = farm.printer.wait_for_jobs(1, Duration::from_secs(5));
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].text.contains("设备自检报告"), "{}", jobs[0].text);
    assert!(
        jobs[0].text.contains("身份证阅读器 [通过]"),
        "{}",
        jobs[0].text
    );
    assert!(
        jobs[0].text.contains("结果：2/2 台设备通过"),
        "{}",
        jobs[0].text
    );

    // The second run shows when the first one was.
    let (code, out, _) = kioskctl(&["selftest", "--config", cfg]);
    assert_eq!(code, 0);
    assert!(out.contains("通过 PASS"), "{out}");
    assert!(out.contains("身份证阅读器 idcard"), "{out}");
    assert!(!out.contains("FAIL"), "{out}");
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(farm.dir.join("data/selftest.json")).unwrap(),
    )
    .unwrap();
    assert!(state["idcard"]["tested_at"].as_u64().unwrap() > 1_700_000_000);
    let (_, out, _) = kioskctl(&["selftest", "--config", cfg, "--json"]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        v["devices"][0]["last_tested_at"].as_u64().is_some(),
        "the last test time is kept: {v}"
    );
}

#[test]
fn a_device_that_is_off_fails_with_exit_6_and_says_why() {
    let farm = Farm::new("fail");
    farm.printer.set_unplugged(true);
    std::thread::sleep(Duration::from_millis(100));
    let (code, out, _) = kioskctl(&[
        "selftest",
        "--config",
        farm.config.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 6);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["passed"], false);
    let printer = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == "receipt_printer")
        .unwrap();
    assert_eq!(printer["passed"], false);
    assert_eq!(printer["state"], "offline");
    assert_eq!(printer["text_zh"], "设备已断开连接");
    let reader = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == "idcard")
        .unwrap();
    assert_eq!(
        reader["passed"], true,
        "one device down does not hide the others"
    );
}

#[test]
fn an_unreadable_configuration_exits_2() {
    let (code, out, err) = kioskctl(&["selftest", "--config", "/nonexistent/kiosk.toml"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.starts_with("配置文件无法读取（configuration cannot be read）"),
        "{err}"
    );
}
