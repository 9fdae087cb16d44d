//! End to end: the real backend, simulator and kiosk binaries, talking
//! over their real transports (HTTP on loopback, a pseudo-terminal, TCP
//! 9100-style printing), driven the way a person would: by touching the
//! kiosk's screen (through its remote view) and laying a card on the
//! simulated reader.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use workspace_tests::{Proc, binary};

/// Where the 我要查 tile and the 打印回执 button sit on the 1920x1080
/// screen (see target/screens/home.png and query-2-results.png).
const TILE_QUERY: (f64, f64) = (QUERY_X, QUERY_Y);
const BUTTON_PRINT: (f64, f64) = (PRINT_X, PRINT_Y);
const QUERY_X: f64 = 732.0;
const QUERY_Y: f64 = 428.0;
const PRINT_X: f64 = 1665.0;
const PRINT_Y: f64 = 1009.0;

fn http(base: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    http_as(base, method, path, body, "")
}

/// `http` with a session token in `X-Session-Token` (empty: none).
fn http_as(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: &str,
) -> (u16, String) {
    let session = if token.is_empty() {
        String::new()
    } else {
        format!("X-Session-Token: {token}\r\n")
    };
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let payload = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\n{session}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        out
    } else {
        body.to_string()
    };
    (status, body)
}

/// Logs the demo maintenance engineer in (password, then TOTP code) and
/// returns the session token; the fleet page is for logged-in staff.
fn maintenance_token(base: &str) -> String {
    let (s, body) = http(
        base,
        "POST",
        "/api/v1/auth/staff/password",
        Some(&json!({"username": "yangp", "password": "Weidong@2026demo"})),
    );
    assert_eq!(s, 200, "{body}");
    let pending: Value = serde_json::from_str(&body).unwrap();
    let secret = auth::totp::Secret::from_base32("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let code = auth::totp::code_at(&secret, i64::try_from(now).unwrap());
    let (s, body) = http(
        base,
        "POST",
        "/api/v1/auth/staff/totp",
        Some(&json!({"pending_token": pending["pending_token"], "code": code})),
    );
    assert_eq!(s, 200, "{body}");
    let session: Value = serde_json::from_str(&body).unwrap();
    session["token"].as_str().unwrap().to_owned()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn touch(view: &str, (x, y): (f64, f64)) {
    for kind in ["down", "up"] {
        let (s, _) = http(
            view,
            "POST",
            "/input",
            Some(&json!({ "type": kind, "x": x, "y": y })),
        );
        assert!(s < 300, "remote view refused the touch");
    }
}

#[test]
fn card_to_receipt_across_backend_simulator_and_kiosk() {
    let dir = std::env::temp_dir().join(format!(
        "e2e-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();

    // Backend with a fresh, seeded database.
    let mut backend = Proc::start(
        "backend",
        Command::new(binary("backend").unwrap())
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(dir.join("backend.db")),
    )
    .unwrap();
    let backend_url = backend
        .wait_for(Duration::from_secs(30), |l| {
            l.split_once("listening on ")
                .map(|(_, u)| u.trim().to_string())
        })
        .unwrap();

    // Simulated devices on free ports.
    let farm = dir.join("farm.toml");
    std::fs::write(
        &farm,
        "control = \"127.0.0.1:0\"\n[[device]]\nname = \"idcard\"\nkind = \"idcard\"\n[[device]]\nname = \"receipt_printer\"\nkind = \"receipt_printer\"\naddress = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let mut sim = Proc::start(
        "sim",
        Command::new(binary("sim").unwrap())
            .args(["run", "--config"])
            .arg(&farm)
            .arg("--dir")
            .arg(dir.join("sim")),
    )
    .unwrap();
    let mut devices = String::new();
    let control = sim
        .wait_for(Duration::from_secs(30), |l| {
            let v: Value = serde_json::from_str(l).ok()?;
            if let (Some(d), Some(s)) = (v["device"].as_str(), v["selector"].as_str()) {
                devices.push_str(&format!("{d} = \"{s}\"\n"));
            }
            v["control"].as_str().map(str::to_string)
        })
        .unwrap();

    // The kiosk, off-screen, with its remote view.
    let config = dir.join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "kiosk_name = \"e2e\"\nlocation = \"test\"\nbackend_url = \"{backend_url}\"\nenrolment_code = \"WD-DEMO-ENROL\"\ndata_dir = \"{}\"\nmaintenance_pin = \"246810\"\ninactivity_seconds = 60\n\n[devices]\n{devices}",
            dir.join("kiosk").display()
        ),
    )
    .unwrap();
    let mut kiosk = Proc::start(
        "kiosk",
        Command::new(binary("kiosk").unwrap())
            .arg("--config")
            .arg(&config)
            .args(["--headless", "--remote-view", "127.0.0.1:0"]),
    )
    .unwrap();
    let mut view = String::new();
    kiosk
        .wait_for(Duration::from_secs(60), |l| {
            if let Some((_, url)) = l.split_once("remote view at ") {
                view = url.trim().trim_end_matches('/').to_string();
            }
            l.contains("kiosk ready").then_some(())
        })
        .unwrap();
    assert!(
        !view.is_empty(),
        "the kiosk printed its remote view address"
    );

    // The kiosk enrolled and reported its devices as healthy.
    let (s, _) = http(&backend_url, "GET", "/clerk/kiosks", None);
    assert_eq!(s, 303, "the fleet page wants a login");
    let token = maintenance_token(&backend_url);
    wait_until(
        "the kiosk's heartbeat with healthy devices",
        Duration::from_secs(40),
        || {
            let (_, page) = http_as(&backend_url, "GET", "/clerk/kiosks", None, &token);
            page.contains("身份证阅读器") && page.contains("凭条打印机") && !page.contains("离线")
        },
    );

    // 我要查 → lay Zhang Wei's card → his cases → 打印回执.
    touch(&view, TILE_QUERY);
    let (s, _) = http(
        &control,
        "POST",
        "/api/devices/idcard/card",
        Some(&json!({ "person": "zhangwei" })),
    );
    assert_eq!(s, 200);
    std::thread::sleep(Duration::from_millis(10));
    let mut jobs = Value::Null;
    wait_until("a printed receipt", Duration::from_secs(40), || {
        touch(&view, BUTTON_PRINT);
        let (_, body) = http(&control, "GET", "/api/jobs", None);
        jobs = serde_json::from_str(&body).unwrap_or(Value::Null);
        jobs.as_array().is_some_and(|a| !a.is_empty())
    });
    let job = &jobs[0];
    let text = job["text"].as_str().unwrap();
    assert!(
        text.contains("410403********0013"),
        "masked ID on the receipt: {text}"
    );
    assert!(
        !text.contains("410403198503150013"),
        "never the full ID number: {text}"
    );
    let qr = job["qr_codes"][0].as_str().unwrap();
    assert!(
        qr.starts_with("410403") && qr.len() == 20,
        "QR carries a case number: {qr}"
    );
    // The picture of the paper, read by an independent decoder (zbar):
    // the QR the resident would scan opens the same case number, and the
    // case exists in the backend.
    let png = job["png"].as_str().unwrap();
    let zbar = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", png])
        .output()
        .expect("zbarimg is installed by `cargo xtask test`");
    assert_eq!(String::from_utf8_lossy(&zbar.stdout).trim(), qr);
    assert!(
        text.contains(qr),
        "the case number is printed in text as well: {text}"
    );

    // Ctrl-C-like shutdown is clean for all three.
    assert!(
        kiosk.terminate(Duration::from_secs(10)),
        "kiosk stops on SIGTERM"
    );
    assert!(
        sim.terminate(Duration::from_secs(10)),
        "sim stops on SIGTERM"
    );
    assert!(
        backend.terminate(Duration::from_secs(10)),
        "backend stops on SIGTERM"
    );
}
