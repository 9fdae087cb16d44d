//! R10 at the kiosk: the real `kiosk` binary under a stand-in for
//! systemd's notification socket (`Type=notify`, `WatchdogSec=2s`).
//!
//! It says `READY=1` once the home screen is up, then `WATCHDOG=1` about
//! every second (half of `WATCHDOG_USEC`). Stopped with SIGSTOP (a hung
//! event loop) it stays silent, which is what makes systemd restart it;
//! continued, it pings again; SIGTERM makes it say `STOPPING=1` and exit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `WATCHDOG_USEC` the test hands the kiosk.
const WATCHDOG: Duration = Duration::from_secs(2);
/// How long a debug build may take to show its home screen.
const START: Duration = Duration::from_secs(90);

/// The kiosk process; killed and reaped if the test fails.
struct Kiosk {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for Kiosk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Kiosk {
    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name}");
    }

    /// The process state letter from `/proc/PID/stat` (`T`: stopped).
    fn state(&self) -> char {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.chars().next().unwrap()
    }

    fn log(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }
}

/// The next datagram before `deadline`, or `None`.
fn next(sock: &UnixDatagram, deadline: Instant) -> Option<(String, Instant)> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return None;
    }
    sock.set_read_timeout(Some(left)).unwrap();
    let mut buf = [0_u8; 4096];
    match sock.recv(&mut buf) {
        Ok(n) => Some((
            String::from_utf8_lossy(&buf[..n]).into_owned(),
            Instant::now(),
        )),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        Err(e) => panic!("reading the notify socket: {e}"),
    }
}

/// Waits for a datagram equal to (or, for `READY=1`, starting with)
/// `want`, skipping others; fails after `within`.
fn expect(sock: &UnixDatagram, want: &str, within: Duration, kiosk: &Kiosk) -> (String, Instant) {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    loop {
        match next(sock, deadline) {
            Some((msg, at)) if msg.lines().any(|l| l == want) => return (msg, at),
            Some((msg, _)) => seen.push(msg),
            None => panic!(
                "no {want:?} within {within:?}; got {seen:?}; kiosk log:\n{}",
                kiosk.log().join("\n")
            ),
        }
    }
}

#[test]
fn the_watchdog_sees_a_hung_event_loop_and_systemd_hears_ready_and_stopping() {
    let dir = common::temp_dir("watchdog");
    let socket_path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&socket_path).unwrap();
    let config = dir.join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "kiosk_name = \"卫东区政务服务中心大厅1号机\"\nlocation = \"测试大厅\"\nbackend_url = \"{}\"\nenrolment_code = \"WD-TEST-1\"\ndata_dir = \"{}\"\nmaintenance_pin = \"246810\"\ninactivity_seconds = 60\naudio_device = \"none\"\n\n[devices]\n",
            common::dead_backend_url(),
            dir.join("data").display()
        ),
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("--config")
        .arg(&config)
        .args(["--headless", "--remote-view", "127.0.0.1:0"])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", WATCHDOG.as_micros().to_string())
        .env("RUST_LOG", "info")
        .env_remove("WATCHDOG_PID")
        .env_remove("SLINT_BACKEND")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    {
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        std::thread::spawn(move || for _ in BufReader::new(out).lines() {});
        let lines = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                lines.lock().unwrap().push(line);
            }
        });
    }
    let kiosk = Kiosk { child, stderr };

    // Up: READY=1 with a status line, and the log line the image's boot test waits for.
    let (ready, _) = expect(&sock, "READY=1", START, &kiosk);
    assert!(
        ready
            .lines()
            .any(|l| l.starts_with("STATUS=") && l.len() > 7),
        "{ready:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let ready_line = loop {
        if let Some(l) = kiosk.log().into_iter().find(|l| l.contains("kiosk ready")) {
            break l;
        }
        assert!(Instant::now() < deadline, "no `kiosk ready` log line");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        ready_line.contains("INFO") && ready_line.contains(env!("CARGO_PKG_VERSION")),
        "{ready_line}"
    );
    eprintln!("the kiosk logged: {ready_line}");

    // Pings at about half the timeout.
    let mut pings = Vec::new();
    for _ in 0..4 {
        pings.push(expect(&sock, "WATCHDOG=1", WATCHDOG * 5, &kiosk).1);
    }
    let gaps: Vec<Duration> = pings.windows(2).map(|w| w[1] - w[0]).collect();
    let mean = gaps.iter().sum::<Duration>() / u32::try_from(gaps.len()).unwrap();
    eprintln!("watchdog pings every {gaps:?}");
    assert!(
        mean >= WATCHDOG / 4 && mean <= WATCHDOG,
        "pings about every {:?}, not {mean:?}",
        WATCHDOG / 2
    );

    // Hung (SIGSTOP): silence well past the watchdog timeout.
    kiosk.signal("STOP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while kiosk.state() != 'T' {
        assert!(Instant::now() < deadline, "the kiosk did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    // What it sent before it stopped.
    sock.set_nonblocking(true).unwrap();
    let mut buf = [0_u8; 4096];
    while sock.recv(&mut buf).is_ok() {}
    sock.set_nonblocking(false).unwrap();
    let quiet_from = Instant::now();
    if let Some((msg, at)) = next(&sock, quiet_from + Duration::from_secs(3)) {
        panic!(
            "a stopped kiosk sent {msg:?} {:?} into the silence",
            at - quiet_from
        );
    }
    assert_eq!(kiosk.state(), 'T', "still stopped");

    // Continued: the pings resume.
    kiosk.signal("CONT");
    for _ in 0..2 {
        expect(&sock, "WATCHDOG=1", WATCHDOG * 5, &kiosk);
    }

    // SIGTERM: STOPPING=1, then the process exits on its own.
    kiosk.signal("TERM");
    expect(&sock, "STOPPING=1", Duration::from_secs(30), &kiosk);
    let mut kiosk = kiosk;
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = kiosk.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the kiosk did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}\n{}", kiosk.log().join("\n"));
    assert!(
        kiosk.log().iter().any(|l| l.contains("stopping")),
        "the SIGTERM was logged"
    );
    drop(kiosk);
    let _ = std::fs::remove_dir_all(dir);
}
