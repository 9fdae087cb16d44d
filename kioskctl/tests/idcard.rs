//! `kioskctl idcard read` against the project simulator and against the
//! independent Python reader (`tests/peers/ga467_peer.py`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sim::idcard::{IdCardSim, IdFault, demo_person};

const KEYS: [&str; 13] = [
    "name",
    "sex",
    "nation",
    "birth",
    "address",
    "id_number",
    "id_number_valid",
    "issuer",
    "valid_from",
    "valid_to",
    "card_type",
    "photo_bytes",
    "fingerprint_bytes",
];

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

impl Outcome {
    fn json(&self) -> Value {
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "one JSON object on one line: {:?}",
            self.stdout
        );
        let v: Value = serde_json::from_str(lines[0]).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = KEYS.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want);
        v
    }
}

fn kioskctl(port: &Path, timeout_ms: u64) -> Outcome {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["idcard", "read", "--port"])
        .arg(port)
        .args(["--timeout-ms", &timeout_ms.to_string()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
        took: start.elapsed(),
    }
}

struct Sim {
    sim: IdCardSim,
    dir: PathBuf,
}

impl Sim {
    fn new(tag: &str) -> Sim {
        let dir =
            std::env::temp_dir().join(format!("kioskctl-idcard-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = IdCardSim::start(&dir, "idcard").unwrap();
        Sim { sim, dir }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn reads_a_resident_card_from_the_simulator() {
    let s = Sim::new("read");
    s.sim.lay_card(demo_person("zhangwei").unwrap());
    let out = kioskctl(&s.sim.path(), 5000);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let v = out.json();
    assert_eq!(v["name"], "张伟");
    assert_eq!(v["sex"], "男");
    assert_eq!(v["nation"], "汉");
    assert_eq!(v["birth"], "1985-03-15");
    assert_eq!(v["address"], "河南省平顶山市卫东区建设路东段12号");
    assert_eq!(v["id_number"], "410403198503150013");
    assert_eq!(v["id_number_valid"], true);
    assert_eq!(v["issuer"], "平顶山市公安局卫东分局");
    assert_eq!(v["valid_from"], "2016-04-10");
    assert_eq!(v["valid_to"], "2036-04-10");
    assert_eq!(v["card_type"], "resident");
    assert_eq!(v["photo_bytes"], 1024);
    assert_eq!(v["fingerprint_bytes"], 1024);

    // Read once: the reader will not find it again until it is laid again.
    let out = kioskctl(&s.sim.path(), 2000);
    assert_eq!(out.code, 3, "stderr: {}", out.stderr);
}

#[test]
fn long_term_card_without_fingerprint() {
    let s = Sim::new("longterm");
    s.sim.lay_card(demo_person("lixiuying").unwrap());
    let out = kioskctl(&s.sim.path(), 5000);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let v = out.json();
    assert_eq!(
        (v["name"].as_str(), v["sex"].as_str(), v["nation"].as_str()),
        (Some("李秀英"), Some("女"), Some("回"))
    );
    assert_eq!(v["valid_to"], "长期");
    assert_eq!(v["fingerprint_bytes"], 0);
}

#[test]
fn no_card_exits_3_with_one_line_in_two_languages() {
    let s = Sim::new("nocard");
    let out = kioskctl(&s.sim.path(), 2000);
    assert_eq!(out.code, 3);
    assert!(out.stdout.is_empty());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains('（') && out.stderr.contains("no card"),
        "{}",
        out.stderr
    );
}

#[test]
fn silence_exits_4_within_the_timeout() {
    let s = Sim::new("silence");
    s.sim.lay_card(demo_person("zhangwei").unwrap());
    s.sim.inject(IdFault::Silence);
    let out = kioskctl(&s.sim.path(), 800);
    assert_eq!(out.code, 4, "stderr: {}", out.stderr);
    assert!(out.took < Duration::from_secs(3), "{:?}", out.took);
}

#[test]
fn card_errors_exit_5_and_open_errors_exit_2() {
    let s = Sim::new("errors");
    s.sim.lay_card(demo_person("zhangwei").unwrap());
    s.sim.inject(IdFault::ReadFailure);
    let out = kioskctl(&s.sim.path(), 3000);
    assert_eq!(out.code, 5, "stderr: {}", out.stderr);
    let out = kioskctl(&s.dir.join("no-such-port"), 1000);
    assert_eq!(out.code, 2, "stderr: {}", out.stderr);
    assert!(out.stderr.contains("not found"), "{}", out.stderr);
}

/// The Python peer, killed on drop if it is still running.
struct Peer {
    child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn reads_from_the_independent_python_reader() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/ga467_peer.py");
    let mut peer = Peer {
        child: Command::new("python3")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs"),
    };
    let stdout = peer.child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let pts = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the peer prints its pty path");
    let pts = PathBuf::from(pts.trim());
    assert!(pts.starts_with("/dev/"), "{pts:?}");

    let out = kioskctl(&pts, 5000);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let v = out.json();
    assert_eq!(v["name"], "陈静");
    assert_eq!(v["sex"], "女");
    assert_eq!(v["nation"], "汉");
    assert_eq!(v["birth"], "1990-06-01");
    assert_eq!(v["address"], "河南省平顶山市卫东区优越路1号");
    assert_eq!(v["id_number"], "410403199006010022");
    assert_eq!(v["id_number_valid"], true);
    assert_eq!(v["issuer"], "平顶山市公安局卫东分局");
    assert_eq!(v["valid_from"], "2015-06-01");
    assert_eq!(v["valid_to"], "2035-06-01");
    assert_eq!(v["card_type"], "resident");
    assert_eq!(v["photo_bytes"], 1024);
    assert_eq!(v["fingerprint_bytes"], 512);

    // Closing its stdin ends the peer.
    drop(peer.child.stdin.take());
    let (tx, rx) = mpsc::channel();
    let mut child = std::mem::replace(&mut peer.child, Command::new("true").spawn().unwrap());
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the peer exits when stdin closes")
        .unwrap();
    assert!(status.success(), "{status}");
}
