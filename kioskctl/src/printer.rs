//! `kioskctl printer status|test`: asks an ESC/POS printer on TCP for its
//! real-time status, or prints the self-test receipt.
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

use drivers::receipt_printer::{EscPosPrinter, refusal, self_test_receipt};
use hal::receipt::{PaperLevel, PrinterStatus, ReceiptPrinter};
use hal::{DeviceError, ErrorKind, Selector};
use serde_json::{Value, json};

fn open(addr: &str) -> Result<EscPosPrinter, DeviceError> {
    let selector: Selector = if addr.starts_with("tcp:") {
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
