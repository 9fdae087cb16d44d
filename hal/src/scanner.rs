//! Code scanners (1D/2D, serial or HID). Codes arrive as
//! [`crate::DeviceEvent::CodeScanned`] on the handle's event stream.
//!
//! The payload is kept byte-exact in [`ScannedCode::data`]: a Chinese QR
//! code may carry UTF-8 or GB18030, and only the bytes are the truth.
//! [`ScannedCode::text`] is a convenience filled by the driver when the
//! bytes decode (UTF-8 first, then GB18030).

use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// Symbology, when the scanner tells it (AIM identifier, ISO/IEC 15424).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbology {
    /// `]Q` QR Code.
    Qr,
    /// `]d` Data Matrix.
    DataMatrix,
    /// `]L` PDF417.
    Pdf417,
    /// `]C` Code 128.
    Code128,
    /// `]E0` EAN-13 (and UPC-A sent as EAN-13).
    Ean13,
    /// `]E4` EAN-8.
    Ean8,
    /// `]A` Code 39.
    Code39,
    /// `]G` Code 93.
    Code93,
    /// `]F` Codabar.
    Codabar,
    /// `]I` Interleaved 2 of 5.
    Itf,
    /// `]z` Aztec.
    Aztec,
    /// `]h` Han Xin Code (汉信码).
    HanXin,
    /// Any other AIM identifier.
    Other,
}

impl Symbology {
    /// Stable machine name (`qr`, `data_matrix`, …), used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Symbology::Qr => "qr",
            Symbology::DataMatrix => "data_matrix",
            Symbology::Pdf417 => "pdf417",
            Symbology::Code128 => "code128",
            Symbology::Ean13 => "ean13",
            Symbology::Ean8 => "ean8",
            Symbology::Code39 => "code39",
            Symbology::Code93 => "code93",
            Symbology::Codabar => "codabar",
            Symbology::Itf => "itf",
            Symbology::Aztec => "aztec",
            Symbology::HanXin => "hanxin",
            Symbology::Other => "other",
        }
    }

    /// The symbology of an AIM identifier's code character and modifier
    /// (`]Q1` → `'Q'`, `'1'`). `None` when `code` is not an AIM code
    /// character at all.
    pub fn from_aim(code: u8, modifier: u8) -> Option<Symbology> {
        if !modifier.is_ascii_alphanumeric() {
            return None;
        }
        Some(match code {
            b'Q' => Symbology::Qr,
            b'd' => Symbology::DataMatrix,
            b'L' => Symbology::Pdf417,
            b'C' => Symbology::Code128,
            b'E' if modifier == b'4' => Symbology::Ean8,
            b'E' => Symbology::Ean13,
            b'A' => Symbology::Code39,
            b'G' => Symbology::Code93,
            b'F' => Symbology::Codabar,
            b'I' => Symbology::Itf,
            b'z' => Symbology::Aztec,
            b'h' => Symbology::HanXin,
            c if c.is_ascii_alphabetic() => Symbology::Other,
            _ => return None,
        })
    }
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
    /// A scanner without a host trigger command accepts this and does
    /// nothing (the driver documents which it is).
    fn set_enabled(&mut self, enabled: bool, deadline: Instant) -> Result<(), DeviceError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aim_identifiers() {
        assert_eq!(Symbology::from_aim(b'Q', b'1'), Some(Symbology::Qr));
        assert_eq!(Symbology::from_aim(b'd', b'2'), Some(Symbology::DataMatrix));
        assert_eq!(Symbology::from_aim(b'L', b'0'), Some(Symbology::Pdf417));
        assert_eq!(Symbology::from_aim(b'C', b'0'), Some(Symbology::Code128));
        assert_eq!(Symbology::from_aim(b'E', b'0'), Some(Symbology::Ean13));
        assert_eq!(Symbology::from_aim(b'E', b'4'), Some(Symbology::Ean8));
        assert_eq!(Symbology::from_aim(b'X', b'0'), Some(Symbology::Other));
        assert_eq!(Symbology::from_aim(b'1', b'0'), None);
        assert_eq!(Symbology::from_aim(b'Q', b'\r'), None);
        assert_eq!(Symbology::Qr.as_str(), "qr");
    }
}
