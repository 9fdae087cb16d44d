//! A4 document printers (IPP, RFC 8011 model).
//!
//! The kiosk prints certificates and forms as PDF on an office laser
//! printer. The printer is a queue: a document is *submitted* and becomes
//! a job with an id; the job then moves through states until it reaches a
//! terminal one ([`JobState::is_terminal`]). A printer that is stopped
//! (paused, out of paper, toner empty) keeps the job waiting rather than
//! failing it, so a caller that needs the paper now waits with a deadline
//! ([`DocumentPrinter::wait_job`]) and, when it passes, tells the resident
//! to collect the document at the counter and cancels the job
//! ([`DocumentPrinter::cancel`]) if it should not come out later.
//!
//! Printer state follows IPP: [`PrinterState`] (`printer-state`), the
//! `printer-state-reasons` keywords (`media-empty-error`,
//! `toner-low-warning`, …, or `none`), `printer-is-accepting-jobs` and the
//! supplies (`marker-names` / `marker-levels` / `marker-types`, levels in
//! percent, negative levels meaning unknown).
//!
//! Every method takes a deadline and returns [`crate::ErrorKind::Timeout`]
//! rather than wait past it. An unreachable printer is
//! [`crate::ErrorKind::Disconnected`] (or `NotFound` for a name that does
//! not resolve); an answer that is not IPP is `Protocol`; a printer that
//! cannot take the job now is refused *before* the document is sent, with
//! `PaperOut`, `CoverOpen` or `DeviceFault`.

use std::time::{Duration, Instant};

use crate::Device;
use crate::error::{DeviceError, ErrorKind};

/// The document format every kiosk document uses.
pub const PDF: &str = "application/pdf";

/// A document to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintDocument {
    /// MIME type, [`PDF`].
    pub format: String,
    /// Job title the printer shows (never personal data).
    pub title: String,
    pub copies: u32,
    pub duplex: bool,
    pub colour: bool,
    pub data: Vec<u8>,
}

impl PrintDocument {
    /// One simplex, monochrome copy of a PDF.
    pub fn pdf(title: impl Into<String>, data: Vec<u8>) -> Self {
        PrintDocument {
            format: PDF.to_string(),
            title: title.into(),
            copies: 1,
            duplex: false,
            colour: false,
            data,
        }
    }
}

/// State of one job (IPP `job-state`, RFC 8011 5.3.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// 3: waiting to be processed (also while the printer is stopped).
    Pending,
    /// 4: held, not eligible for processing until released.
    Held,
    /// 5: being printed.
    Processing,
    /// 6: printing stopped part-way (the printer stopped).
    Stopped,
    /// 7: cancelled by a user or operator.
    Cancelled,
    /// 8: aborted by the printer (an error).
    Aborted,
    /// 9: printed.
    Completed,
}

impl JobState {
    /// From the IPP enum value; `None` for values outside 3..=9.
    pub fn from_ipp(v: i32) -> Option<JobState> {
        Some(match v {
            3 => JobState::Pending,
            4 => JobState::Held,
            5 => JobState::Processing,
            6 => JobState::Stopped,
            7 => JobState::Cancelled,
            8 => JobState::Aborted,
            9 => JobState::Completed,
            _ => return None,
        })
    }

    /// The IPP enum value.
    pub fn ipp(self) -> i32 {
        match self {
            JobState::Pending => 3,
            JobState::Held => 4,
            JobState::Processing => 5,
            JobState::Stopped => 6,
            JobState::Cancelled => 7,
            JobState::Aborted => 8,
            JobState::Completed => 9,
        }
    }

    /// Stable machine name (the IPP keyword).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Held => "pending-held",
            JobState::Processing => "processing",
            JobState::Stopped => "processing-stopped",
            JobState::Cancelled => "canceled",
            JobState::Aborted => "aborted",
            JobState::Completed => "completed",
        }
    }

    /// Whether the job will not change any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Cancelled | JobState::Aborted | JobState::Completed
        )
    }
}

/// A job as the printer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub id: u32,
    pub state: JobState,
    /// IPP `job-state-reasons` (`job-printing`, `printer-stopped`, …).
    pub reasons: Vec<String>,
}

/// Printer state (IPP `printer-state`, RFC 8011 5.4.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrinterState {
    /// 3: ready, nothing to do.
    Idle,
    /// 4: printing.
    Processing,
    /// 5: stopped (paused by an operator, or an error that stops printing).
    Stopped,
}

impl PrinterState {
    /// From the IPP enum value.
    pub fn from_ipp(v: i32) -> Option<PrinterState> {
        match v {
            3 => Some(PrinterState::Idle),
            4 => Some(PrinterState::Processing),
            5 => Some(PrinterState::Stopped),
            _ => None,
        }
    }

    /// Stable machine name (the IPP keyword).
    pub fn as_str(self) -> &'static str {
        match self {
            PrinterState::Idle => "idle",
            PrinterState::Processing => "processing",
            PrinterState::Stopped => "stopped",
        }
    }
}

/// One supply (toner, drum) from `marker-names` / `marker-levels` /
/// `marker-types`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supply {
    pub name: String,
    /// Level in percent; `None` when the printer does not know it.
    pub level: Option<u8>,
    /// `marker-types` keyword (`toner`, `ink`, `opc`, …), if given.
    pub kind: Option<String>,
}

/// Printer-level status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPrinterStatus {
    pub state: PrinterState,
    pub accepting_jobs: bool,
    /// IPP `printer-state-reasons` keywords (`media-empty-error`, …);
    /// empty for `none`.
    pub reasons: Vec<String>,
    pub supplies: Vec<Supply>,
    /// `queued-job-count`, when given.
    pub queued_jobs: Option<u32>,
    /// `printer-state-message`, when given (free text from the printer).
    pub message: Option<String>,
}

impl DocumentPrinterStatus {
    /// Whether a reason with this keyword is present, with or without its
    /// `-report` / `-warning` / `-error` suffix.
    pub fn has_reason(&self, keyword: &str) -> bool {
        self.reasons.iter().any(|r| reason_base(r) == keyword)
    }
}

/// A `printer-state-reasons` keyword without its severity suffix.
pub fn reason_base(reason: &str) -> &str {
    for suffix in ["-error", "-warning", "-report"] {
        if let Some(base) = reason.strip_suffix(suffix) {
            return base;
        }
    }
    reason
}

/// How often [`DocumentPrinter::wait_job`] asks the job's state.
pub const WAIT_POLL: Duration = Duration::from_millis(200);

/// An A4 printer.
pub trait DocumentPrinter: Device {
    /// Submits a document; returns the printer's job id. Refuses, before
    /// sending the document, a printer that cannot print now (paper out,
    /// toner empty, cover open, not accepting jobs).
    fn submit(&mut self, doc: &PrintDocument, deadline: Instant) -> Result<u32, DeviceError>;

    /// Asks a job's state and reasons. An unknown job id is `NotFound`.
    fn job(&mut self, job_id: u32, deadline: Instant) -> Result<JobStatus, DeviceError>;

    /// Cancels a job that has not finished. Cancelling a job that already
    /// reached a terminal state is `Unsupported` (IPP refuses it).
    fn cancel(&mut self, job_id: u32, deadline: Instant) -> Result<(), DeviceError>;

    /// Asks the printer's state, reasons and supplies.
    fn status(&mut self, deadline: Instant) -> Result<DocumentPrinterStatus, DeviceError>;

    /// Asks a job's state only.
    fn job_state(&mut self, job_id: u32, deadline: Instant) -> Result<JobState, DeviceError> {
        self.job(job_id, deadline).map(|j| j.state)
    }

    /// Asks the job's state every [`WAIT_POLL`] until it is terminal and
    /// returns it (completed, cancelled or aborted: the caller decides).
    /// A job still waiting at the deadline is `Timeout`, with the last
    /// state in the detail.
    fn wait_job(&mut self, job_id: u32, deadline: Instant) -> Result<JobStatus, DeviceError> {
        loop {
            let job = self.job(job_id, deadline)?;
            if job.state.is_terminal() {
                return Ok(job);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DeviceError::new(
                    ErrorKind::Timeout,
                    format!(
                        "job {job_id} still {} ({}) at the deadline",
                        job.state.as_str(),
                        job.reasons.join(",")
                    ),
                ));
            }
            std::thread::sleep(left.min(WAIT_POLL));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_states_round_trip_and_terminal_ones_are_known() {
        for v in 3..=9 {
            let s = JobState::from_ipp(v);
            assert_eq!(s.map(JobState::ipp), Some(v));
        }
        assert_eq!(JobState::from_ipp(2), None);
        assert!(JobState::Completed.is_terminal());
        assert!(!JobState::Stopped.is_terminal());
    }

    #[test]
    fn reasons_match_without_their_suffix() {
        let s = DocumentPrinterStatus {
            state: PrinterState::Stopped,
            accepting_jobs: true,
            reasons: vec!["media-empty-error".into(), "toner-low-warning".into()],
            supplies: Vec::new(),
            queued_jobs: None,
            message: None,
        };
        assert!(s.has_reason("media-empty"));
        assert!(s.has_reason("toner-low"));
        assert!(!s.has_reason("toner-empty"));
    }
}
