//! A4 document printers (IPP).

use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// A document to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintDocument {
    /// MIME type, `application/pdf`.
    pub format: String,
    pub title: String,
    pub copies: u32,
    pub duplex: bool,
    pub colour: bool,
    pub data: Vec<u8>,
}

/// State of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Pending,
    Processing,
    Stopped,
    Cancelled,
    Aborted,
    Completed,
}

/// One supply (toner, drum) level in percent; `None` when unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supply {
    pub name: String,
    pub level: Option<u8>,
}

/// Printer-level status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentPrinterStatus {
    pub accepting_jobs: bool,
    /// IPP `printer-state-reasons` keywords (`media-empty-error`, …).
    pub reasons: Vec<String>,
    pub supplies: Vec<Supply>,
}

/// An A4 printer.
pub trait DocumentPrinter: Device {
    /// Submits a document; returns the printer's job id.
    fn submit(&mut self, doc: &PrintDocument, deadline: Instant) -> Result<u32, DeviceError>;
    /// Asks a job's state.
    fn job_state(&mut self, job_id: u32, deadline: Instant) -> Result<JobState, DeviceError>;
    /// Asks the printer's state and supplies.
    fn status(&mut self, deadline: Instant) -> Result<DocumentPrinterStatus, DeviceError>;
}
