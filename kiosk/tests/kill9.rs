//! R1 at the kiosk: the kiosk process is killed with SIGKILL around
//! 确认提交 and restarted; every acknowledged application arrives exactly
//! once, and nothing half-written is left.
//!
//! The Slint testing platform lives in the process, so the kiosk that is
//! killed is this test binary run again as a child (`kill9_child`, ignored
//! unless the parent starts it with `KIOSK_KILL9_DATA` set): it runs the
//! app against a backend URL where nothing listens, with the data
//! directory the parent prepared (enrolled, catalogue cached, while the
//! backend was reachable), takes 张伟's application for 无犯罪记录证明 to
//! the review, prints `KILL9 SUBMITTING`, touches 确认提交, waits for the
//! done stage (queued), prints `KILL9 SUBMITTED <idempotency key>` and
//! sleeps.
//!
//! 1. The parent kills the child once it printed `SUBMITTED`: the entry
//!    is in the outbox, pending, body and all.
//! 2. A second child on the same data directory (itself a restart after a
//!    kill) is killed a random few milliseconds after `SUBMITTING`: its
//!    application is in the outbox whole, or not at all.
//!
//! Then a new app in the parent, on the same data directory with the live
//! backend as its `backend_url`: the outbox delivers; the backend holds
//! exactly one case per outbox entry (so the first application exactly
//! once, the second at most once), and `PRAGMA integrity_check` says ok
//! after every kill.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/journey.rs"]
mod journey;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use journey::*;
use kiosk::ui::{AppAdapter, ApplyAdapter, GuideAdapter, Page};
use slint::ComponentHandle;

/// The child's data directory; set only for the child.
const DATA_ENV: &str = "KIOSK_KILL9_DATA";
/// The dead backend URL the child uses.
const URL_ENV: &str = "KIOSK_KILL9_URL";
/// Where the child keeps its simulators' files.
const SIMS_ENV: &str = "KIOSK_KILL9_SIMS";
/// What `Child::kill` sends on Unix.
const SIGKILL: i32 = 9;
/// The child's line before 确认提交.
const SUBMITTING: &str = "KILL9 SUBMITTING";
/// The child's line once the done stage shows; the key follows.
const SUBMITTED: &str = "KILL9 SUBMITTED ";
/// How long the parent waits for a child's line.
const CHILD_WAIT: Duration = Duration::from_secs(90);
/// How long the restarted kiosk may take to deliver (the backoff the
/// killed kiosks persisted must run out first).
const REDELIVERY: Duration = Duration::from_secs(100);

/// A child kiosk; killed (SIGKILL) and reaped when dropped.
struct ChildKiosk {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl ChildKiosk {
    fn spawn(data: &Path, sims: &Path, dead_url: &str) -> ChildKiosk {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "kill9_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DATA_ENV, data)
            .env(URL_ENV, dead_url)
            .env(SIMS_ENV, sims)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildKiosk {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `marker`; returns what follows it.
    fn wait_for(&mut self, marker: &str) -> String {
        let deadline = Instant::now() + CHILD_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(i) = line.find(marker) {
                        return line[i + marker.len()..].trim().to_owned();
                    }
                }
                Err(e) => panic!(
                    "the child kiosk never said {marker:?} ({e}); it said {:?}",
                    self.seen
                ),
            }
        }
    }

    /// SIGKILL; then everything it printed before dying.
    fn kill(mut self) -> Vec<String> {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert_eq!(status.signal(), Some(SIGKILL), "killed: {status:?}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line);
        }
        std::mem::take(&mut self.seen)
    }
}

impl Drop for ChildKiosk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// After a kill: the outbox file is whole, and what it holds.
fn after_kill(data: &Path) -> Vec<outbox::Entry> {
    assert_eq!(integrity(&data.join("outbox.sqlite")), "ok");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(data)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".corrupt-"))
        .collect();
    assert!(leftovers.is_empty(), "nothing quarantined: {leftovers:?}");
    let view = outbox_view(data);
    let all = entries(&view);
    for e in &all {
        assert_eq!(e.state, outbox::State::Pending, "{e:?}");
        assert!(e.has_body, "a pending entry is whole: {e:?}");
        assert!(view.item(e.seq).unwrap().is_some(), "its body reads back");
    }
    all
}

#[test]
fn killed_around_submit_and_restarted_every_acknowledged_case_arrives_once() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("kill9");
    let backend = Backend::start(&rt, &dir, "127.0.0.1:0".parse().unwrap());
    let data = dir.join("data");
    let live = config(&backend.url, &data, &[]);

    // The kiosk was online once: enrolled, catalogue fetched and cached.
    let kiosk_id = {
        let app =
            kiosk::App::new(live.clone(), kiosk::Devices::default(), rt.handle().clone()).unwrap();
        show(&app);
        let ui = app.window();
        wait_until("enrolment", Duration::from_secs(30), || {
            app.backend().is_enrolled()
        });
        touch(ui, "办事指南");
        wait_until("the catalogue", Duration::from_secs(60), || {
            ui.global::<GuideAdapter>().get_total() > 0
        });
        app.go_home();
        app.backend().kiosk_id().unwrap()
    };
    let dead = dead_backend_url();

    // 1. Killed after the done stage said "saved".
    let mut child = ChildKiosk::spawn(&data, &dir.join("child-1"), &dead);
    child.wait_for(SUBMITTING);
    let touched = chrono::Utc::now();
    let key = child.wait_for(SUBMITTED);
    let said = child.kill();
    assert!(said.iter().any(|l| l.contains(SUBMITTING)), "{said:?}");
    let first = after_kill(&data);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].idempotency_key, key, "the acknowledged entry");
    eprintln!(
        "round 1: queued {} ms after SUBMITTING",
        (first[0].queued_at - touched).num_milliseconds()
    );

    // 2. Killed a random moment after 确认提交 was touched.
    let mut child = ChildKiosk::spawn(&data, &dir.join("child-2"), &dead);
    child.wait_for(SUBMITTING);
    let delay = Duration::from_millis(u64::try_from(uuid::Uuid::new_v4().as_u128() % 160).unwrap());
    std::thread::sleep(delay);
    let said = child.kill();
    let acknowledged: Vec<String> = said
        .iter()
        .filter_map(|l| {
            l.find(SUBMITTED)
                .map(|i| l[i + SUBMITTED.len()..].trim().to_owned())
        })
        .collect();
    let second = after_kill(&data);
    eprintln!(
        "killed {delay:?} after SUBMITTING: {} entries, acknowledged {acknowledged:?}",
        second.len()
    );
    assert!(
        (1..=2).contains(&second.len()),
        "the first entry stays, the second is whole or absent: {second:?}"
    );
    assert_eq!(second[0].idempotency_key, key);
    for k in &acknowledged {
        assert!(
            second.iter().any(|e| &e.idempotency_key == k),
            "an acknowledged application is in the outbox: {k}"
        );
    }

    // Restarted with the backend reachable: the outbox delivers.
    let app = kiosk::App::new(live, kiosk::Devices::default(), rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let view = outbox_view(&data);
    let restarted = Instant::now();
    wait_until("every entry delivered", REDELIVERY, || {
        entries(&view)
            .iter()
            .all(|e| e.state == outbox::State::Delivered)
    });
    let delivered = entries(&view);
    eprintln!("delivered {:?} after the restart", restarted.elapsed());
    assert_eq!(
        delivered.len(),
        second.len(),
        "no entry appeared or vanished"
    );
    let cases = kiosk_cases(&backend.db(), &kiosk_id);
    assert_eq!(
        cases.len(),
        delivered.len(),
        "one case per outbox entry: {cases:?}"
    );
    for e in &delivered {
        let mine: Vec<&BackendCase> = cases
            .iter()
            .filter(|c| c.idempotency_key == e.idempotency_key)
            .collect();
        assert_eq!(mine.len(), 1, "exactly once: {e:?} {cases:?}");
        assert_eq!(mine[0].materials, 2);
        assert!(!e.has_body);
        assert_eq!(
            e.reply.as_ref().map(|r| r.case_number.as_str()),
            Some(mine[0].case_number.as_str())
        );
    }
    assert_eq!(view.integrity_check().unwrap(), Vec::<String>::new());
    assert_eq!(
        ui.global::<AppAdapter>().get_page(),
        Page::Home,
        "the restarted kiosk starts at home"
    );
    assert!(!app.holds_personal_data());

    drop(view);
    drop(app);
    drop(backend);
    let _ = std::fs::remove_dir_all(dir);
}

/// The kiosk that gets killed (run by the parent above only).
#[test]
#[ignore = "the child process of killed_around_submit_and_restarted_every_acknowledged_case_arrives_once"]
fn kill9_child() {
    let (Some(data), Some(url), Some(dir)) = (
        std::env::var_os(DATA_ENV),
        std::env::var(URL_ENV).ok(),
        std::env::var_os(SIMS_ENV),
    ) else {
        return;
    };
    let (data, dir) = (PathBuf::from(data), PathBuf::from(dir));
    init_platform();
    let rt = runtime();
    let sims = Sims::start(&dir, false);
    let app = kiosk::App::new(
        config(&url, &data, &sims.selectors),
        sims.devices(),
        rt.handle().clone(),
    )
    .unwrap();
    show(&app);
    let ui = app.window();
    to_review(ui, &sims);
    say(SUBMITTING);
    submit(ui);
    assert!(ui.global::<ApplyAdapter>().get_queued(), "nothing listens");
    let view = outbox_view(&data);
    let newest = view.recent(1).unwrap().pop().expect("the entry");
    say(&format!("{SUBMITTED}{}", newest.idempotency_key));
    // Killed here; never exits on its own before the parent gives up.
    std::thread::sleep(CHILD_WAIT + Duration::from_secs(30));
    panic!("the parent never killed this child");
}

/// One line on stdout, at once.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}
