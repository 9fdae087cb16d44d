//! Browser journeys: a real Chromium, driven by Playwright (npm, pinned in
//! `tests/browser/package-lock.json`), through the real backend binary's
//! portal and clerk pages — a resident on a phone applying online and
//! answering a correction request, and three clerks on desktops taking a
//! case from 待办 to 办结. Screenshots of every step land in
//! `target/screens/web/`.
//!
//! `cargo xtask test` installs Chromium and the npm packages; a bare
//! `cargo test` without them skips these tests with a printed reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use workspace_tests::{Backend, workspace_root};

/// The browser Playwright launches.
const CHROMIUM: &str = "/usr/bin/chromium";

/// The directory with the journeys and their `node_modules`, or why the
/// tests are skipped.
fn node_dir() -> Result<PathBuf, String> {
    let dir = std::env::var_os("BROWSER_NODE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("tests/browser"));
    if !Path::new(CHROMIUM).exists() {
        return Err(format!("{CHROMIUM} is missing (run `cargo xtask test`)"));
    }
    if !dir.join("node_modules/playwright-core").is_dir() {
        return Err(format!(
            "{} has no node_modules (run `cargo xtask test`, or `npm ci` there)",
            dir.display()
        ));
    }
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        return Err("node is missing".to_owned());
    }
    Ok(dir)
}

fn screen_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("screens/web")
}

/// Starts the backend with a fresh seeded database, runs one journey
/// script against it and fails with the script's output unless it passed.
fn run_journey(script: &str) {
    let dir = match node_dir() {
        Ok(d) => d,
        Err(why) => {
            println!("skipped: {why}");
            return;
        }
    };
    let backend = Backend::start(&format!("browser-{script}"), &[]).unwrap();
    let base = backend.base.clone();

    let started = Instant::now();
    let out = Command::new("node")
        .arg(dir.join(format!("{script}.mjs")))
        .current_dir(&dir)
        .env("BASE_URL", &base)
        .env("SCREEN_DIR", screen_dir())
        .stdin(Stdio::null())
        .output()
        .expect("node starts");
    println!(
        "node {script}.mjs: {} in {:.1?}\n{}{}",
        out.status,
        started.elapsed(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    drop(backend);
    assert!(
        out.status.success(),
        "the {script} journey failed; see its output above and the screenshots in {}",
        screen_dir().display()
    );
}

#[test]
fn a_resident_applies_on_a_phone_and_answers_a_correction() {
    run_journey("resident");
}

#[test]
fn clerks_take_a_web_case_from_todo_to_a_decision() {
    run_journey("clerk");
}
