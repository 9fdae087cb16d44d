//! `kioskctl printer status|test`: asks an ESC/POS printer on TCP for its
//! real-time status, or prints the self-test receipt.
//!
//! `kioskctl printer status --uri ipp://…` and `kioskctl printer print
//! FILE.pdf --uri ipp://…` do the same for the A4 printer over IPP (see
//! [`a4_status`] and [`a4_print`]; exit codes 2 unreachable or bad
//! arguments, 4 timeout, 5 protocol, 6 refused / stopped / aborted).
//!
//! `status` prints one JSON object:
//! `{"state","online","paper","cover","cutter_error","error","ready"}` with
//! `state` one of `ok`, `degraded` (paper low), `fault`; `paper` one of
//! `ok`, `near_end`, `out`; `cover` `open` or `closed`; `error` the Chinese
//! and English reason when the printer cannot print, else null.
//! `test` prints the same object after the job.
//!
//! Exit codes: 0 done (also for a printer that reports a fault: the
//! status was read); 2 cannot connect or bad address; 4 timeout;
//! 5 protocol error; 6 the printer refused the self-test (paper out,
//! cover open, cutter, offline).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use std::path::Path;

use drivers::ipp_printer::{IppPrinter, health_of};
use drivers::receipt_printer::{EscPosPrinter, refusal, self_test_receipt};
use hal::docprinter::{
    DocumentPrinter, DocumentPrinterStatus, JobState, JobStatus, PrintDocument, PrinterState,
};
use hal::receipt::{PaperLevel, PrinterStatus, ReceiptPrinter};
use hal::{DeviceError, ErrorKind, Selector};
use serde_json::{Value, json};

fn open(addr: &str) -> Result<EscPosPrinter, DeviceError> {
    // A full selector (`tcp:`, `serial:`, `usb:`) is taken as it is; a
    // bare HOST:PORT means a network printer.
    let selector: Selector = if ["tcp:", "serial:", "usb:"]
        .iter()
        .any(|p| addr.starts_with(p))
    {
        addr.parse()?
    } else {
        format!("tcp:{addr}").parse()?
    };
    EscPosPrinter::open(&selector)
}

fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Timeout => 4,
        ErrorKind::Protocol => 5,
        ErrorKind::PaperOut
        | ErrorKind::CoverOpen
        | ErrorKind::CutterError
        | ErrorKind::DeviceFault => 6,
        _ => 2,
    }
}

fn fail(err: &DeviceError) -> ExitCode {
    eprintln!("{}: {}", err.user_message(), err.detail());
    ExitCode::from(exit_code(err.kind()))
}

/// The status as the JSON object described above.
pub fn status_json(s: &PrinterStatus) -> Value {
    let reason = refusal(s);
    let state = match (reason, s.paper) {
        (Some(_), _) => "fault",
        (None, PaperLevel::NearEnd) => "degraded",
        (None, _) => "ok",
    };
    json!({
        "state": state,
        "ready": s.ready(),
        "online": s.online,
        "paper": match s.paper {
            PaperLevel::Ok => "ok",
            PaperLevel::NearEnd => "near_end",
            PaperLevel::Out => "out",
        },
        "cover": if s.cover_open { "open" } else { "closed" },
        "cutter_error": s.cutter_error,
        "unrecoverable_error": s.unrecoverable_error,
        "error": reason.map(|k| format!("{}（{}）", k.message_zh(), k.message_en())),
    })
}

/// `kioskctl printer status`.
pub fn status(addr: &str, timeout_ms: u64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let result = open(addr).and_then(|mut p| p.status(deadline));
    match result {
        Ok(s) => {
            println!("{}", status_json(&s));
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// `kioskctl printer test`.
pub fn test(addr: &str, timeout_ms: u64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let result = open(addr).and_then(|mut p| {
        let receipt = self_test_receipt(p.width());
        p.print(&receipt, deadline)
    });
    match result {
        Ok(outcome) => {
            let mut v = status_json(&outcome.status_after);
            if let Value::Object(m) = &mut v {
                m.insert("bytes_sent".into(), json!(outcome.bytes_sent));
            }
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

// ---------------------------------------------------------------------------
// A4 printer (IPP)
// ---------------------------------------------------------------------------

/// Exit code for an A4 printer error: 2 unreachable or bad arguments,
/// 4 timeout, 5 protocol, 6 refused / stopped / aborted.
fn a4_exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Timeout => 4,
        ErrorKind::Protocol => 5,
        ErrorKind::PaperOut
        | ErrorKind::CoverOpen
        | ErrorKind::CutterError
        | ErrorKind::DeviceFault
        | ErrorKind::Busy
        | ErrorKind::Unsupported
        | ErrorKind::Cancelled
        | ErrorKind::PermissionDenied => 6,
        _ => 2,
    }
}

fn a4_fail(err: &DeviceError) -> ExitCode {
    eprintln!("{}: {}", err.user_message(), err.detail());
    ExitCode::from(a4_exit_code(err.kind()))
}

fn a4_open(uri: &str) -> Result<IppPrinter, DeviceError> {
    let selector: Selector = uri.parse()?;
    if !matches!(selector, Selector::Ipp { .. }) {
        return Err(DeviceError::new(
            ErrorKind::Config,
            format!("{uri} is not an ipp:// printer URI"),
        ));
    }
    IppPrinter::new(&selector)
}

/// The A4 printer's status as JSON: health (`state`, `fault_code`,
/// `text_zh`, `text_en`) and the IPP facts (`printer_state`,
/// `accepting_jobs`, `reasons`, `supplies`, `queued_jobs`, `message`).
pub fn a4_status_json(s: &DocumentPrinterStatus) -> Value {
    let (state, code, zh, en) = health_of(s);
    json!({
        "state": state.as_str(),
        "fault_code": code,
        "text_zh": zh,
        "text_en": en,
        "printer_state": s.state.as_str(),
        "accepting_jobs": s.accepting_jobs,
        "reasons": s.reasons,
        "supplies": s.supplies.iter().map(|x| json!({
            "name": x.name,
            "level": x.level,
            "type": x.kind,
        })).collect::<Vec<_>>(),
        "queued_jobs": s.queued_jobs,
        "message": s.message,
    })
}

/// `kioskctl printer status --uri ipp://…`.
pub fn a4_status(uri: &str, timeout_ms: u64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    match a4_open(uri).and_then(|mut p| DocumentPrinter::status(&mut p, deadline)) {
        Ok(s) => {
            println!("{}", a4_status_json(&s));
            ExitCode::SUCCESS
        }
        Err(e) => a4_fail(&e),
    }
}

fn job_json(uri: &str, job: &JobStatus, bytes: usize) -> Value {
    json!({
        "job_id": job.id,
        "state": job.state.as_str(),
        "reasons": job.reasons,
        "printer": uri,
        "bytes": bytes,
    })
}

fn report(json_out: bool, v: &Value, zh: &str, en: &str) {
    if json_out {
        println!("{v}");
    } else {
        println!("{zh}（{en}）");
    }
}

/// `kioskctl printer print FILE.pdf --uri ipp://… [--json]`: submits the
/// PDF, waits for the job to finish and prints
/// `{"job_id","state","reasons","printer","bytes"}` (with `--json`) or one
/// line. A job that ends cancelled or aborted, or is still held by a
/// stopped printer at the deadline, exits 6; still waiting otherwise, 4.
pub fn a4_print(file: &Path, uri: &str, json_out: bool, timeout_ms: u64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let data = match std::fs::read(file) {
        Ok(d) => d,
        Err(e) => {
            return a4_fail(&DeviceError::new(
                ErrorKind::Config,
                format!("cannot read {}: {e}", file.display()),
            ));
        }
    };
    if !data.starts_with(b"%PDF-") {
        return a4_fail(&DeviceError::new(
            ErrorKind::Config,
            format!("{} is not a PDF file", file.display()),
        ));
    }
    let bytes = data.len();
    let title = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "document.pdf".into());
    let mut p = match a4_open(uri) {
        Ok(p) => p,
        Err(e) => return a4_fail(&e),
    };
    let id = match p.submit(&PrintDocument::pdf(title, data), deadline) {
        Ok(id) => id,
        Err(e) => return a4_fail(&e),
    };
    match p.wait_job(id, deadline) {
        Ok(job) if job.state == JobState::Completed => {
            report(
                json_out,
                &job_json(uri, &job, bytes),
                &format!("作业 {id} 已打印完成"),
                &format!("job {id} completed"),
            );
            ExitCode::SUCCESS
        }
        Ok(job) => {
            report(
                json_out,
                &job_json(uri, &job, bytes),
                &format!("作业 {id} 未打印：{}", job.state.as_str()),
                &format!("job {id} not printed: {}", job.state.as_str()),
            );
            let kind = if job.state == JobState::Cancelled {
                ErrorKind::Cancelled
            } else {
                ErrorKind::DeviceFault
            };
            a4_fail(&DeviceError::new(
                kind,
                format!(
                    "job {id} ended {} ({})",
                    job.state.as_str(),
                    job.reasons.join(",")
                ),
            ))
        }
        Err(e) if e.kind() == ErrorKind::Timeout => {
            // Still waiting: say whether the printer is stopped (the job is
            // held) or just slow. One short extra question past the deadline.
            let grace = Instant::now() + Duration::from_millis(1500);
            let job = p.job(id, grace).ok();
            let status = DocumentPrinter::status(&mut p, grace).ok();
            if let Some(job) = &job {
                let mut v = job_json(uri, job, bytes);
                if let (Value::Object(m), Some(s)) = (&mut v, &status) {
                    m.insert("printer_status".into(), a4_status_json(s));
                }
                report(
                    json_out,
                    &v,
                    &format!("作业 {id} 仍在等待：{}", job.state.as_str()),
                    &format!("job {id} still {}", job.state.as_str()),
                );
            }
            match status {
                Some(s) if s.state == PrinterState::Stopped => {
                    let (_, code, zh, en) = health_of(&s);
                    eprintln!(
                        "{zh}（{en}）: job {id} held, printer stopped ({}); code {}",
                        s.reasons.join(","),
                        code.unwrap_or("STOPPED")
                    );
                    ExitCode::from(6)
                }
                _ => a4_fail(&e),
            }
        }
        Err(e) => a4_fail(&e),
    }
}
