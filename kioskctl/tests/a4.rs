//! `kioskctl printer print|status --uri ipp://…` against the simulated A4
//! printer over IPP.
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
use sim::ipp::{IppSim, sample_pdf};

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

struct Rig {
    sim: IppSim,
    dir: PathBuf,
    pdf: PathBuf,
    uri: String,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("kioskctl-a4-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = IppSim::start("127.0.0.1:0".parse().unwrap(), &dir.join("jobs")).unwrap();
        let pdf = dir.join("证明.pdf");
        std::fs::write(&pdf, sample_pdf("KIOSKCTL A4")).unwrap();
        let uri = sim.uri();
        Rig { sim, dir, pdf, uri }
    }

    fn print(&self, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec![
            "printer",
            "print",
            self.pdf.to_str().unwrap(),
            "--uri",
            &self.uri,
        ];
        args.extend_from_slice(extra);
        kioskctl(&args)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a4_print_submits_waits_and_reports_the_job_as_json() {
    let rig = Rig::new("print");
    let (code, out, err) = rig.print(&["--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["state"], "completed");
    let id = v["job_id"].as_u64().unwrap();
    let jobs = rig.sim.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(u64::from(jobs[0].id), id);
    assert_eq!(jobs[0].name, "证明.pdf");
    assert_eq!(
        std::fs::read(jobs[0].path.as_ref().unwrap()).unwrap(),
        std::fs::read(&rig.pdf).unwrap()
    );

    let (code, out, _) = rig.print(&[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("已打印完成") && out.contains("completed"),
        "{out}"
    );
}

#[test]
fn a4_status_reports_state_reasons_and_toner_and_receipt_form_still_works() {
    let rig = Rig::new("status");
    let (code, out, err) = kioskctl(&["printer", "status", "--uri", &rig.uri]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["state"], "ok");
    assert_eq!(v["printer_state"], "idle");
    assert_eq!(v["accepting_jobs"], true);
    assert_eq!(v["supplies"][0]["name"], "Black Toner");
    assert_eq!(v["supplies"][0]["level"], 80);

    rig.sim.set_toner_level(5);
    let v: Value =
        serde_json::from_str(kioskctl(&["printer", "status", "--uri", &rig.uri]).1.trim()).unwrap();
    assert_eq!(v["state"], "degraded");
    assert_eq!(v["fault_code"], "TONER_LOW");
    assert_eq!(v["supplies"][0]["level"], 5);
    assert_eq!(v["reasons"][0], "toner-low-warning");

    rig.sim.set_media_empty(true);
    let (code, out, _) = kioskctl(&["printer", "status", "--uri", &rig.uri]);
    assert_eq!(code, 0, "the status was read, even though it is bad");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["state"], "fault");
    assert_eq!(v["fault_code"], "PAPER_OUT");
    assert_eq!(v["text_zh"], "打印机缺纸");
    assert_eq!(v["printer_state"], "stopped");

    // The receipt form is chosen by --addr; nothing listens there.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let (code, _, err) = kioskctl(&["printer", "status", "--addr", &dead]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a4_print_exit_codes_for_refused_stopped_unreachable_and_bad_files() {
    let rig = Rig::new("codes");
    rig.sim.set_media_empty(true);
    let (code, _, err) = rig.print(&["--json"]);
    assert_eq!(code, 6, "{err}");
    assert!(
        err.starts_with("打印机缺纸（printer out of paper）"),
        "{err}"
    );
    assert!(rig.sim.jobs().is_empty());
    rig.sim.set_media_empty(false);

    rig.sim.set_stopped(true);
    let (code, out, err) = rig.print(&["--json", "--timeout-ms", "1000"]);
    assert_eq!(code, 6, "a stopped printer holds the job: {err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["state"], "pending");
    assert_eq!(v["printer_status"]["printer_state"], "stopped");
    assert!(err.contains("A4打印机已暂停"), "{err}");
    rig.sim.set_stopped(false);

    rig.sim.set_job_time(Duration::from_secs(30));
    let (code, _, err) = rig.print(&["--json", "--timeout-ms", "800"]);
    assert_eq!(code, 4, "a slow job runs into the deadline: {err}");
    assert!(err.starts_with("设备响应超时"), "{err}");
    rig.sim.set_job_time(Duration::from_millis(300));

    rig.sim.set_unplugged(true);
    let (code, _, err) = rig.print(&["--json", "--timeout-ms", "2000"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("设备已断开连接"), "{err}");
    let (code, _, _) = kioskctl(&["printer", "status", "--uri", &rig.uri]);
    assert_eq!(code, 2);
    rig.sim.set_unplugged(false);

    let not_pdf = rig.dir.join("note.txt");
    std::fs::write(&not_pdf, "hello").unwrap();
    let (code, _, err) = kioskctl(&[
        "printer",
        "print",
        not_pdf.to_str().unwrap(),
        "--uri",
        &rig.uri,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.starts_with("设备配置错误"), "{err}");
}

#[test]
fn a4_garbage_from_the_printer_is_a_protocol_error() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("ipp://{}/ipp/print", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        // Read the whole request (the client sends it chunked) so that
        // closing does not reset the connection under the client.
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(b"0\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: 4\r\n\r\nJUNK",
        );
    });
    let (code, _, err) = kioskctl(&["printer", "status", "--uri", &uri]);
    assert_eq!(code, 5, "{err}");
    assert!(err.starts_with("设备通信错误"), "{err}");
    h.join().unwrap();
}
