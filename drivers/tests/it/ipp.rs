//! The IPP driver against the simulated A4 printer over HTTP on loopback,
//! the simulator against CUPS's own `ipptool`, hand-made misbehaving
//! peers, and the driver against a real private CUPS with cups-pdf.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use drivers::ipp_printer::IppPrinter;
use hal::docprinter::{DocumentPrinter, JobState, PrintDocument, PrinterState};
use hal::{Device, DeviceEvent, ErrorKind, HealthState, Selector};
use sim::ipp::{IppSim, sample_pdf};

use super::cups;

struct Rig {
    sim: IppSim,
    dir: PathBuf,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("ipp-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = IppSim::start("127.0.0.1:0".parse().unwrap(), &dir).unwrap();
        Rig { sim, dir }
    }

    fn selector(&self) -> Selector {
        self.sim.uri().parse().unwrap()
    }

    fn open(&self) -> IppPrinter {
        IppPrinter::open(&self.selector()).unwrap()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn within(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

fn doc(text: &str) -> PrintDocument {
    PrintDocument::pdf("办件回执 receipt", sample_pdf(text))
}

/// Polls `f` until it is true or `timeout` passes.
fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ipp_prints_a_pdf_and_the_job_completes() {
    let rig = Rig::new("print");
    let mut p = rig.open();
    assert_eq!(p.health().state, HealthState::Ok);
    let d = doc("KIOSK-IPP-PRINT 001");
    let id = p.submit(&d, within(5000)).unwrap();
    assert!(id > 0);
    let job = p.wait_job(id, within(5000)).unwrap();
    assert_eq!(job.state, JobState::Completed);
    assert!(
        job.reasons
            .contains(&"job-completed-successfully".to_string())
    );
    let jobs = rig.sim.jobs();
    assert_eq!(jobs.len(), 1);
    let j = &jobs[0];
    assert_eq!(j.id, id);
    assert_eq!(j.format, "application/pdf");
    assert_eq!(j.user, "kiosk");
    assert_eq!(j.name, "办件回执 receipt");
    assert_eq!(j.state, "completed");
    let stored = std::fs::read(j.path.as_ref().unwrap()).unwrap();
    assert_eq!(stored, d.data, "the printer got the PDF byte for byte");
    assert_eq!(p.health().counters["prints"], 1);
}

#[test]
fn ipp_job_goes_pending_processing_completed() {
    let rig = Rig::new("states");
    rig.sim.set_job_time(Duration::from_millis(1200));
    let mut p = rig.open();
    let id = p.submit(&doc("STATES"), within(5000)).unwrap();
    let mut seen = Vec::new();
    let done = eventually(Duration::from_secs(10), || {
        let s = p.job_state(id, within(2000)).unwrap();
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        s == JobState::Completed
    });
    assert!(done, "{seen:?}");
    assert_eq!(
        seen,
        vec![JobState::Pending, JobState::Processing, JobState::Completed]
    );
    let s = p.status(within(2000)).unwrap();
    assert_eq!(s.state, PrinterState::Idle);
    assert_eq!(s.queued_jobs, Some(0));
}

#[test]
fn ipp_media_empty_is_a_fault_and_nothing_is_sent() {
    let rig = Rig::new("media");
    let mut p = rig.open();
    assert!(p.poll(within(2000)).is_empty());
    rig.sim.set_media_empty(true);
    assert_eq!(p.poll(within(2000)), vec![DeviceEvent::PaperOut]);
    let h = p.health();
    assert_eq!(h.state, HealthState::Fault);
    assert_eq!(h.fault_code.as_deref(), Some("PAPER_OUT"));
    assert_eq!(h.text_zh, "打印机缺纸");
    let s = p.status(within(2000)).unwrap();
    assert_eq!(s.state, PrinterState::Stopped);
    assert!(s.reasons.contains(&"media-empty-error".to_string()));
    let e = p.submit(&doc("NO PAPER"), within(3000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PaperOut);
    assert!(e.user_message().starts_with("打印机缺纸"));
    assert!(rig.sim.jobs().is_empty(), "refused before sending");

    rig.sim.set_media_empty(false);
    assert_eq!(p.poll(within(2000)), vec![DeviceEvent::PaperOk]);
    assert_eq!(p.health().state, HealthState::Ok);
    let id = p.submit(&doc("PAPER BACK"), within(3000)).unwrap();
    assert_eq!(
        p.wait_job(id, within(5000)).unwrap().state,
        JobState::Completed
    );
}

#[test]
fn ipp_toner_low_is_degraded_with_levels_and_empty_is_a_fault() {
    let rig = Rig::new("toner");
    let mut p = rig.open();
    let s = p.status(within(2000)).unwrap();
    assert_eq!(s.supplies.len(), 1);
    assert_eq!(s.supplies[0].name, "Black Toner");
    assert_eq!(s.supplies[0].level, Some(80));
    assert_eq!(s.supplies[0].kind.as_deref(), Some("toner"));

    rig.sim.set_toner_level(7);
    let s = p.status(within(2000)).unwrap();
    assert!(s.has_reason("toner-low"));
    assert_eq!(s.supplies[0].level, Some(7));
    let h = p.health();
    assert_eq!(h.state, HealthState::Degraded);
    assert_eq!(h.fault_code.as_deref(), Some("TONER_LOW"));
    assert!(h.text_zh.contains("Black Toner 7%"), "{}", h.text_zh);
    assert_eq!(h.counters["supply:Black Toner"], 7);
    assert!(h.usable());
    let id = p
        .submit(&doc("LOW TONER STILL PRINTS"), within(3000))
        .unwrap();
    assert_eq!(
        p.wait_job(id, within(5000)).unwrap().state,
        JobState::Completed
    );

    rig.sim.set_toner_level(0);
    p.status(within(2000)).unwrap();
    assert_eq!(p.health().state, HealthState::Fault);
    assert_eq!(p.health().fault_code.as_deref(), Some("TONER_EMPTY"));
    let e = p.submit(&doc("NO TONER"), within(3000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeviceFault);
    assert_eq!(rig.sim.jobs().len(), 1);
}

#[test]
fn ipp_stopped_printer_holds_the_job_until_resumed() {
    let rig = Rig::new("stopped");
    let mut p = rig.open();
    rig.sim.set_stopped(true);
    let id = p.submit(&doc("HELD"), within(3000)).unwrap();
    assert_eq!(p.health().fault_code.as_deref(), Some("STOPPED"));
    let e = p.wait_job(id, within(1000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    let job = p.job(id, within(2000)).unwrap();
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.reasons, vec!["printer-stopped".to_string()]);
    assert_eq!(rig.sim.jobs()[0].state, "pending");

    rig.sim.set_stopped(false);
    let job = p.wait_job(id, within(5000)).unwrap();
    assert_eq!(job.state, JobState::Completed);
    p.status(within(2000)).unwrap();
    assert_eq!(p.health().state, HealthState::Ok);
}

#[test]
fn ipp_cancel_ends_a_waiting_job_and_only_once() {
    let rig = Rig::new("cancel");
    let mut p = rig.open();
    rig.sim.set_stopped(true);
    let id = p.submit(&doc("CANCEL ME"), within(3000)).unwrap();
    p.cancel(id, within(2000)).unwrap();
    let job = p.wait_job(id, within(2000)).unwrap();
    assert_eq!(job.state, JobState::Cancelled);
    assert_eq!(rig.sim.jobs()[0].state, "canceled");
    let again = p.cancel(id, within(2000)).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Unsupported, "{again}");
    assert_eq!(again.device_code(), Some(0x0404));
    let missing = p.job(9999, within(2000)).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    rig.sim.set_stopped(false);
    assert_eq!(
        p.job_state(id, within(2000)).unwrap(),
        JobState::Cancelled,
        "a cancelled job does not print after the printer resumes"
    );
}

#[test]
fn ipp_unplug_goes_offline_and_replug_comes_back() {
    let rig = Rig::new("unplug");
    let mut p = rig.open();
    rig.sim.set_unplugged(true);
    let started = Instant::now();
    let e = p.status(within(2000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Disconnected, "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(p.health().state, HealthState::Offline);
    let e = p.submit(&doc("GONE"), within(2000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Disconnected);
    assert!(
        IppPrinter::open(&rig.selector()).is_err(),
        "open fails while unplugged"
    );

    rig.sim.set_unplugged(false);
    assert!(
        eventually(Duration::from_secs(5), || p.status(within(1000)).is_ok()),
        "back within 5 s"
    );
    assert_eq!(p.health().state, HealthState::Ok);
    let id = p.submit(&doc("BACK"), within(3000)).unwrap();
    assert_eq!(
        p.wait_job(id, within(5000)).unwrap().state,
        JobState::Completed
    );

    // Pulled while a job waits: the wait ends with Disconnected, not at
    // the deadline; after replug the printer still has the job.
    rig.sim.set_stopped(true);
    let id = p.submit(&doc("MID-JOB"), within(3000)).unwrap();
    rig.sim.set_unplugged(true);
    let started = Instant::now();
    let e = p.wait_job(id, within(20_000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Disconnected, "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(p.health().state, HealthState::Offline);
    rig.sim.set_unplugged(false);
    rig.sim.set_stopped(false);
    assert!(eventually(Duration::from_secs(5), || p
        .job(id, within(1000))
        .is_ok_and(|j| j.state == JobState::Completed)));
}

#[test]
fn ipp_not_accepting_jobs_refuses_before_sending() {
    let rig = Rig::new("accepting");
    let mut p = rig.open();
    rig.sim.set_accepting(false);
    let e = p.submit(&doc("NOPE"), within(3000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::DeviceFault);
    assert_eq!(p.health().fault_code.as_deref(), Some("NOT_ACCEPTING"));
    assert!(rig.sim.jobs().is_empty());
}

/// A one-shot HTTP peer that answers every request with `reply` (or
/// never, for `None`).
fn fake_peer(reply: Option<Vec<u8>>) -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let uri = format!("ipp://{}/ipp/print", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        l.set_nonblocking(false).unwrap();
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
        match reply {
            Some(r) => {
                let _ = s.write_all(&r);
            }
            None => std::thread::sleep(Duration::from_secs(3)),
        }
    });
    (uri, h)
}

#[test]
fn ipp_garbage_silence_and_http_errors_map_to_kinds() {
    let garbage = b"HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: 5\r\n\r\n\x01\x01\x00".to_vec();
    let (uri, h) = fake_peer(Some(garbage));
    let mut p = IppPrinter::new(&uri.parse().unwrap()).unwrap();
    let e = p.status(within(2000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    h.join().unwrap();

    let (uri, h) = fake_peer(Some(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
    ));
    let mut p = IppPrinter::new(&uri.parse().unwrap()).unwrap();
    let e = p.status(within(2000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    h.join().unwrap();

    let (uri, h) = fake_peer(None);
    let mut p = IppPrinter::new(&uri.parse().unwrap()).unwrap();
    let started = Instant::now();
    let e = p.status(within(500)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the deadline bounds a silent printer"
    );
    assert_eq!(p.health().state, HealthState::Offline);
    h.join().unwrap();

    let sel: Selector = "ipp://no-such-host.invalid/printers/q".parse().unwrap();
    let e = IppPrinter::open(&sel).err().unwrap();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Disconnected),
        "{e}"
    );
}

fn ipptool(uri: &str, test: &str, file: Option<&std::path::Path>) -> (bool, String) {
    let mut cmd = Command::new("ipptool");
    cmd.arg("-tv").arg("-T").arg("10");
    if let Some(f) = file {
        cmd.arg("-f").arg(f);
    }
    let out = cmd
        .arg(uri)
        .arg(format!("/usr/share/cups/ipptool/{test}"))
        .output()
        .expect("ipptool is installed by `cargo xtask test` (Debian cups-ipp-utils)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn ipp_sim_passes_cups_ipptool() {
    let rig = Rig::new("ipptool");
    let (ok, text) = ipptool(&rig.sim.uri(), "get-printer-attributes.test", None);
    assert!(ok && text.contains("[PASS]"), "{text}");

    let pdf = rig.dir.join("ipptool-doc.pdf");
    std::fs::write(&pdf, sample_pdf("IPPTOOL")).unwrap();
    let (ok, text) = ipptool(&rig.sim.uri(), "print-job.test", Some(&pdf));
    assert!(ok && text.contains("[PASS]"), "{text}");
    let jobs = rig.sim.wait_for_jobs(1, Duration::from_secs(5));
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        std::fs::read(jobs[0].path.as_ref().unwrap()).unwrap(),
        std::fs::read(&pdf).unwrap()
    );

    // The whole IPP/1.1 conformance suite (RFC 8011 request checks,
    // Get-Jobs, Cancel-Job, Get-Job-Attributes).
    let (ok, text) = ipptool(&rig.sim.uri(), "ipp-1.1.test", Some(&pdf));
    assert!(ok && !text.contains("[FAIL]"), "{text}");
}

#[test]
fn ipp_real_cups_prints_through_cups_pdf() {
    if let Some(why) = cups::unavailable() {
        panic!("a private CUPS cannot run here: {why}");
    }
    let cups = cups::Cups::start("print");
    let sel: Selector = cups.uri().parse().unwrap();
    let mut p = IppPrinter::open(&sel).unwrap_or_else(|e| panic!("{e}\n{}", cups.error_log()));
    let s = p.status(within(5000)).unwrap();
    assert!(s.accepting_jobs, "{s:?}");
    assert_ne!(
        s.state,
        PrinterState::Stopped,
        "{s:?}\n{}",
        cups.error_log()
    );
    let marker = "KIOSK-CUPS-A4 41040320261128";
    let id = p
        .submit(
            &PrintDocument::pdf("kiosk cups test", sample_pdf(marker)),
            within(10_000),
        )
        .unwrap();
    let job = p
        .wait_job(id, within(60_000))
        .unwrap_or_else(|e| panic!("{e}\n{}", cups.error_log()));
    assert_eq!(
        job.state,
        JobState::Completed,
        "{job:?}\n{}",
        cups.error_log()
    );
    let pdf = cups
        .wait_for_pdf(Duration::from_secs(20))
        .unwrap_or_else(|| panic!("no PDF from cups-pdf\n{}", cups.error_log()));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{}", pdf.display());
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext is installed by `cargo xtask test` (Debian poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(marker), "pdftotext gave {text:?}");
}
