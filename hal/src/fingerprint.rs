//! Fingerprint scanners (UART modules of the `EF 01` family).

use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// Something the person at the sensor can fix; not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FingerGuidance {
    /// 请按压手指.
    PlaceFinger,
    /// 请抬起手指后重新按压.
    LiftAndPlaceAgain,
    /// 图像不清晰，请擦干手指后重试 (wet, dry or smudged).
    PoorImage,
    /// 请将手指放在中央.
    CentreFinger,
}

/// Result of a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// A usable image; the template stays inside the module (buffer 1).
    Captured,
    /// The person should do something and try again.
    Retry(FingerGuidance),
}

/// Result of a 1:1 comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchResult {
    pub matched: bool,
    pub score: u16,
}

/// A fingerprint scanner.
///
/// 1:1 comparison against the features read from an ID card is the only
/// biometric use; there is no resident 1:N database (reliability.md).
pub trait FingerprintScanner: Device {
    /// Captures one finger image into the module's buffer.
    fn capture(&mut self, deadline: Instant) -> Result<Capture, DeviceError>;

    /// Compares the captured finger with card feature data (512 or 1024
    /// bytes from the ID card).
    fn match_card_features(
        &mut self,
        features: &[u8],
        deadline: Instant,
    ) -> Result<MatchResult, DeviceError>;
}
