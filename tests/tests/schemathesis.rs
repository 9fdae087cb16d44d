//! Independent tool: Schemathesis (PyPI), which nobody here wrote, reads
//! the real backend binary's own OpenAPI document and throws generated
//! requests, valid and invalid, at every `/api/v1` operation: anonymously,
//! as a resident, a supervisor, a system administrator and an enrolled
//! kiosk (one test each, each with its own fresh backend). No answer may
//! be a 5xx.
//!
//! It runs under `cargo xtask test`, which installs Schemathesis in a venv
//! and names its interpreter in `TEST_PYTHON`; a bare `cargo test` without
//! that venv skips it with a printed reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use workspace_tests::Backend;

/// Password of every demo account and staff member.
const DEMO_PASSWORD: &str = "Weidong@2026demo";
/// TOTP secret of every demo staff member.
const DEMO_TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
/// Generated cases per operation and phase: about 25 s a run on 2 cores.
const MAX_EXAMPLES: &str = "30";

/// The venv interpreter with Schemathesis, or why the test is skipped.
fn schemathesis_python() -> Result<PathBuf, String> {
    let python = std::env::var_os("TEST_PYTHON")
        .map(PathBuf::from)
        .ok_or("TEST_PYTHON is not set (run `cargo xtask test`)")?;
    let ok = Command::new(&python)
        .args(["-m", "schemathesis.cli", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(python)
    } else {
        Err(format!("{} has no schemathesis", python.display()))
    }
}

/// One JSON POST over a fresh connection; the answer must be 200.
fn post_json(base: &str, path: &str, body: &Value) -> Value {
    let hostport = base.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let payload = body.to_string();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "POST {path} answered {head}\n{body}"
    );
    serde_json::from_str(body).unwrap_or_else(|e| panic!("POST {path}: not JSON ({e}): {body}"))
}

fn token(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_string()
}

/// A staff session: password, then the current TOTP code.
fn staff_session(base: &str, username: &str) -> String {
    let pending = post_json(
        base,
        "/api/v1/auth/staff/password",
        &json!({ "username": username, "password": DEMO_PASSWORD }),
    );
    let secret = auth::totp::Secret::from_base32(DEMO_TOTP).unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let code = auth::totp::code_at(&secret, i64::try_from(now.as_secs()).unwrap());
    let session = post_json(
        base,
        "/api/v1/auth/staff/totp",
        &json!({ "pending_token": token(&pending, "pending_token"), "code": code }),
    );
    token(&session, "token")
}

/// Runs Schemathesis once with `header` (if any) on every request;
/// returns whether it passed and its output.
fn fuzz(python: &Path, dir: &Path, base: &str, header: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(python);
    cmd.args(["-m", "schemathesis.cli", "run"])
        .arg(format!("{base}/api/v1/openapi.json"))
        .args([
            "--checks",
            "not_a_server_error",
            "--max-examples",
            MAX_EXAMPLES,
            "--request-timeout",
            "20",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .current_dir(dir)
        .stdin(Stdio::null());
    if let Some(h) = header {
        // Logging out would end the session half-way through the run.
        cmd.args(["--header", h, "--exclude-path", "/api/v1/auth/logout"]);
    }
    let out = cmd.output().expect("schemathesis starts");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The part of the output worth printing when a run passed.
fn summary(output: &str) -> &str {
    output
        .find("SUMMARY")
        .and_then(|i| output[..i].rfind('\n').map(|n| &output[n + 1..]))
        .unwrap_or(output)
}

/// Whose credentials every generated request carries.
#[derive(Debug, Clone, Copy)]
enum Who {
    Anonymous,
    Resident,
    Staff(&'static str),
    Kiosk,
}

/// The request header that authenticates `who`, freshly obtained.
fn credential(base: &str, who: Who) -> Option<String> {
    match who {
        Who::Anonymous => None,
        Who::Resident => {
            let session = post_json(
                base,
                "/api/v1/auth/login",
                &json!({ "phone": "13837512345", "password": DEMO_PASSWORD }),
            );
            Some(format!("X-Session-Token: {}", token(&session, "token")))
        }
        Who::Staff(username) => Some(format!(
            "X-Session-Token: {}",
            staff_session(base, username)
        )),
        Who::Kiosk => {
            // The demo enrolment code works once per database.
            let kiosk = post_json(
                base,
                "/api/v1/kiosks/enrol",
                &json!({ "enrolment_code": "WD-DEMO-ENROL", "kiosk_name": "schemathesis", "location": "test" }),
            );
            Some(format!("Authorization: Bearer {}", token(&kiosk, "token")))
        }
    }
}

/// Starts the backend with a fresh seeded database, fuzzes it as `who`
/// and fails on any server error.
fn fuzz_as(who: Who) {
    let python = match schemathesis_python() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let backend = Backend::start(&format!("schemathesis-{who:?}"), &[]).unwrap();
    let base = backend.base.clone();
    let header = credential(&base, who);

    let started = Instant::now();
    let (ok, output) = fuzz(&python, &backend.dir, &base, header.as_deref());
    println!(
        "=== schemathesis as {who:?}: {} in {:.0?}",
        if ok { "passed" } else { "FAILED" },
        started.elapsed()
    );
    println!("{}", if ok { summary(&output) } else { &output });
    drop(backend);
    assert!(
        ok,
        "schemathesis found server errors (or could not run) as {who:?}; see its output above"
    );
}

#[test]
fn anonymous_requests_never_get_a_server_error() {
    fuzz_as(Who::Anonymous);
}

#[test]
fn a_residents_requests_never_get_a_server_error() {
    fuzz_as(Who::Resident);
}

#[test]
fn a_supervisors_requests_never_get_a_server_error() {
    fuzz_as(Who::Staff("lind"));
}

#[test]
fn a_system_admins_requests_never_get_a_server_error() {
    fuzz_as(Who::Staff("dengk"));
}

#[test]
fn a_kiosks_requests_never_get_a_server_error() {
    fuzz_as(Who::Kiosk);
}

/// A one-operation API whose only operation always fails with 500.
fn serve_a_broken_api() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let schema = json!({
        "openapi": "3.0.3",
        "info": { "title": "broken", "version": "1" },
        "paths": { "/api/v1/boom": { "get": {
            "parameters": [{ "name": "q", "in": "query", "schema": { "type": "string" } }],
            "responses": { "200": { "description": "never" } }
        } } }
    })
    .to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(&stream);
            let _ = reader.read_line(&mut request_line);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (status, body) = if request_line.contains("/openapi.json") {
                ("200 OK", schema.as_str())
            } else {
                ("500 Internal Server Error", "{}")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    base
}

#[test]
fn the_harness_fails_on_a_server_error() {
    // The check above must be able to fail: against an API that answers
    // 500, the same Schemathesis run reports a failure.
    let python = match schemathesis_python() {
        Ok(p) => p,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let dir = std::env::temp_dir().join(format!("schemathesis-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let base = serve_a_broken_api();
    let (ok, output) = fuzz(&python, &dir, &base, None);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !ok,
        "schemathesis passed an API that answers 500:\n{output}"
    );
    assert!(output.contains("Server error"), "{output}");
}
