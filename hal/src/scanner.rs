//! Code scanners (1D/2D, serial or HID). Codes arrive as
//! [`crate::DeviceEvent::CodeScanned`] on the handle's event stream.

use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// Symbology, when the scanner tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbology {
    Qr,
    DataMatrix,
    Pdf417,
    Code128,
    Ean13,
    Other,
}

/// One scanned code: the raw bytes (a Chinese QR may be UTF-8 or GB18030)
/// and the text when the bytes decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedCode {
    pub data: Vec<u8>,
    pub text: Option<String>,
    pub symbology: Option<Symbology>,
}

/// A code scanner. Scans are events, not calls.
pub trait BarcodeScanner: Device {
    /// Turns the illumination/aimer on or off where the scanner allows it.
    fn set_enabled(&mut self, enabled: bool, deadline: Instant) -> Result<(), DeviceError>;
}
