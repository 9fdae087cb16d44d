//! Fingerprint scanners (UART modules of the `EF 01` family).
//!
//! The module keeps two character buffers (1 and 2) and a library of
//! stored templates ("pages"). A live finger becomes an image with
//! [`FingerprintScanner::capture`], the image becomes a template in a
//! buffer with [`FingerprintScanner::image_to_template`], and templates are
//! compared 1:1 ([`FingerprintScanner::compare_buffers`]) or 1:N against
//! the library ([`FingerprintScanner::search`]).
//!
//! ## What a caller may rely on
//!
//! * Every method returns by its `deadline`. A module that does not answer
//!   is [`ErrorKind::Timeout`]; a vanished port is
//!   [`ErrorKind::Disconnected`] and the health goes offline (the actor
//!   then reopens the device).
//! * Whatever the person at the sensor can fix is **not an error**: it
//!   comes back as [`Capture::Retry`], [`CardMatch::Retry`] or
//!   [`Enrolment::Retry`] with a [`FingerGuidance`] to show. "Compared
//!   and different" is a result too ([`MatchResult::matched`] false,
//!   [`CardMatch::NoMatch`], `search` → `None`).
//! * The module's confirmation codes (devices.md 2.3) map as follows; the
//!   code is kept as [`DeviceError::device_code`]:
//!
//! | code | meaning | outcome |
//! | --- | --- | --- |
//! | 0x00 | OK | success |
//! | 0x02 | no finger | `Retry(PlaceFinger)` |
//! | 0x03 | image capture failed | `Retry(PoorImage)` |
//! | 0x06 | image too messy | `Retry(PoorImage)` |
//! | 0x07 | too few feature points | `Retry(CentreFinger)` |
//! | 0x15 | no valid image in the buffer | `Retry(PlaceFinger)` |
//! | 0x0A | merging two captures failed | `Enrolment::Retry(LiftAndPlaceAgain)` |
//! | 0x08 | no match | `MatchResult { matched: false }` / `CardMatch::NoMatch` |
//! | 0x09 | not found in the library | `search` → `Ok(None)` |
//! | 0x01, 0x0D, 0x0E, 0x0F | a packet was lost or garbled | [`ErrorKind::Protocol`] |
//! | 0x0B, 0x1A, 0x1C | page, register or notepad page out of range | [`ErrorKind::Config`] |
//! | 0x13, 0x21 | wrong password / password not verified | [`ErrorKind::Config`] |
//! | 0x20 | wrong module address | [`ErrorKind::Config`] |
//! | 0x0C | buffer or page holds no usable template | [`ErrorKind::DeviceFault`] |
//! | 0x10, 0x11, 0x18, 0x19, 0x1B, 0x1D | delete / clear / flash / internal failure | [`ErrorKind::DeviceFault`] |
//! | any other | — | [`ErrorKind::Protocol`] |
//!
//! * Templates are personal data: [`Template`] prints only its length and
//!   zeroes itself on drop; drivers never log template bytes.
//! * Comparing with the ID card's own features is the only biometric use
//!   the terminal makes (reliability.md): there is no resident 1:N
//!   database. The library operations exist for maintenance and for the
//!   module's own purposes.

use std::fmt;
use std::time::Instant;

use crate::Device;
use crate::actor::Handle;
use crate::error::DeviceError;

/// Something the person at the sensor can fix; not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

impl FingerGuidance {
    /// Stable machine name (`place_finger`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FingerGuidance::PlaceFinger => "place_finger",
            FingerGuidance::LiftAndPlaceAgain => "lift_and_place_again",
            FingerGuidance::PoorImage => "poor_image",
            FingerGuidance::CentreFinger => "centre_finger",
        }
    }

    /// What the person reads, in Chinese.
    pub fn message_zh(self) -> &'static str {
        match self {
            FingerGuidance::PlaceFinger => "请按压手指",
            FingerGuidance::LiftAndPlaceAgain => "请抬起手指后重新按压",
            FingerGuidance::PoorImage => "图像不清晰，请擦干手指后重试",
            FingerGuidance::CentreFinger => "请将手指放在中央并稍用力按压",
        }
    }

    /// The same in English.
    pub fn message_en(self) -> &'static str {
        match self {
            FingerGuidance::PlaceFinger => "please place your finger on the sensor",
            FingerGuidance::LiftAndPlaceAgain => "please lift your finger and place it again",
            FingerGuidance::PoorImage => "image unclear, please dry your finger and try again",
            FingerGuidance::CentreFinger => "please centre your finger and press a little harder",
        }
    }
}

/// One of the module's two character buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharBuffer {
    One,
    Two,
}

impl CharBuffer {
    /// The buffer id on the wire (1 or 2).
    pub fn id(self) -> u8 {
        match self {
            CharBuffer::One => 1,
            CharBuffer::Two => 2,
        }
    }
}

/// Result of a capture or of turning an image into a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    /// A usable image (after `capture`) or template (after
    /// `image_to_template`); it stays inside the module.
    Captured,
    /// The person should do something and try again.
    Retry(FingerGuidance),
}

/// Result of a 1:1 comparison of the two buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchResult {
    pub matched: bool,
    /// The module's score (0 when not matched).
    pub score: u16,
}

/// A template found in the library by a 1:N search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchHit {
    pub page: u16,
    pub score: u16,
}

/// Result of comparing a live finger with the ID card's features (人证核验).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardMatch {
    /// The finger belongs to the card holder.
    Matched { score: u16 },
    /// A good image that does not match the card (neither template).
    NoMatch,
    /// No usable image before the deadline; tell the person what to do.
    Retry(FingerGuidance),
}

/// Result of an enrolment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// The merged template is stored at `page`.
    Stored { page: u16 },
    /// The person should do something and start again.
    Retry(FingerGuidance),
}

/// The module's system parameters (ReadSysPara).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemParameters {
    pub status_register: u16,
    pub system_id: u16,
    /// Library size in templates.
    pub capacity: u16,
    /// Matching strictness, 1 (lenient) to 5 (strict).
    pub security_level: u16,
    pub address: u32,
    /// Bytes per data packet (32, 64, 128 or 256).
    pub packet_size: u16,
    /// Serial speed in baud (9600 × N).
    pub baud: u32,
}

/// A fingerprint template (feature file) as bytes. Personal data: its
/// `Debug` shows only the length and it zeroes itself on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Template(Vec<u8>);

impl Template {
    /// Wraps template bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Template(bytes)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Zeroes and empties the template.
    pub fn wipe(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
        self.0.clear();
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({} bytes)", self.0.len())
    }
}

impl Drop for Template {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// A fingerprint scanner. See the module documentation for the outcome of
/// every confirmation code.
///
/// 1:1 comparison against the features read from an ID card is the only
/// biometric use; there is no resident 1:N database (reliability.md).
pub trait FingerprintScanner: Device {
    /// Verifies the configured password (VfyPwd). Drivers also do this by
    /// themselves before the first command of a session.
    fn verify_password(&mut self, deadline: Instant) -> Result<(), DeviceError>;

    /// Reads the module's system parameters.
    fn system_parameters(&mut self, deadline: Instant) -> Result<SystemParameters, DeviceError>;

    /// Captures one finger image into the module's image buffer. One
    /// attempt: no finger is `Retry(PlaceFinger)` at once.
    fn capture(&mut self, deadline: Instant) -> Result<Capture, DeviceError>;

    /// Turns the captured image into a template in `buffer`.
    fn image_to_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Capture, DeviceError>;

    /// Waits for a finger until `deadline` (polling the sensor), captures
    /// it and turns it into a template in `buffer`. `Retry(PlaceFinger)`
    /// when no finger came in time.
    fn capture_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Capture, DeviceError>;

    /// Compares buffer 1 with buffer 2.
    fn compare_buffers(&mut self, deadline: Instant) -> Result<MatchResult, DeviceError>;

    /// Searches the library pages `start..start + count` for the template
    /// in `buffer`; `None` when not found.
    fn search(
        &mut self,
        buffer: CharBuffer,
        start: u16,
        count: u16,
        deadline: Instant,
    ) -> Result<Option<SearchHit>, DeviceError>;

    /// Enrols a finger at `page`: waits for a finger, captures it, waits
    /// for it to be lifted and placed again, captures it again, merges
    /// both and stores the result.
    fn enrol(&mut self, page: u16, deadline: Instant) -> Result<Enrolment, DeviceError>;

    /// Stores the template in `buffer` at `page`.
    fn store(
        &mut self,
        buffer: CharBuffer,
        page: u16,
        deadline: Instant,
    ) -> Result<(), DeviceError>;

    /// Loads the template at `page` into `buffer`.
    fn load(&mut self, buffer: CharBuffer, page: u16, deadline: Instant)
    -> Result<(), DeviceError>;

    /// Reads the template in `buffer` out of the module (UpChar).
    fn upload_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Template, DeviceError>;

    /// Writes `template` into `buffer` (DownChar).
    fn download_template(
        &mut self,
        buffer: CharBuffer,
        template: &[u8],
        deadline: Instant,
    ) -> Result<(), DeviceError>;

    /// How many templates the library holds.
    fn template_count(&mut self, deadline: Instant) -> Result<u16, DeviceError>;

    /// Deletes `count` templates from `page` on.
    fn delete(&mut self, page: u16, count: u16, deadline: Instant) -> Result<(), DeviceError>;

    /// 人证核验: compares a live finger with the fingerprint features read
    /// from the ID card (512 bytes, or 1024 bytes holding two templates;
    /// either template may match). Waits for the finger until `deadline`.
    /// Features of another length are [`crate::ErrorKind::Unsupported`].
    fn match_card_features(
        &mut self,
        features: &[u8],
        deadline: Instant,
    ) -> Result<CardMatch, DeviceError>;
}

impl<T: FingerprintScanner + ?Sized> FingerprintScanner for Box<T> {
    fn verify_password(&mut self, deadline: Instant) -> Result<(), DeviceError> {
        (**self).verify_password(deadline)
    }
    fn system_parameters(&mut self, deadline: Instant) -> Result<SystemParameters, DeviceError> {
        (**self).system_parameters(deadline)
    }
    fn capture(&mut self, deadline: Instant) -> Result<Capture, DeviceError> {
        (**self).capture(deadline)
    }
    fn image_to_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Capture, DeviceError> {
        (**self).image_to_template(buffer, deadline)
    }
    fn capture_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Capture, DeviceError> {
        (**self).capture_template(buffer, deadline)
    }
    fn compare_buffers(&mut self, deadline: Instant) -> Result<MatchResult, DeviceError> {
        (**self).compare_buffers(deadline)
    }
    fn search(
        &mut self,
        buffer: CharBuffer,
        start: u16,
        count: u16,
        deadline: Instant,
    ) -> Result<Option<SearchHit>, DeviceError> {
        (**self).search(buffer, start, count, deadline)
    }
    fn enrol(&mut self, page: u16, deadline: Instant) -> Result<Enrolment, DeviceError> {
        (**self).enrol(page, deadline)
    }
    fn store(
        &mut self,
        buffer: CharBuffer,
        page: u16,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        (**self).store(buffer, page, deadline)
    }
    fn load(
        &mut self,
        buffer: CharBuffer,
        page: u16,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        (**self).load(buffer, page, deadline)
    }
    fn upload_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Template, DeviceError> {
        (**self).upload_template(buffer, deadline)
    }
    fn download_template(
        &mut self,
        buffer: CharBuffer,
        template: &[u8],
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        (**self).download_template(buffer, template, deadline)
    }
    fn template_count(&mut self, deadline: Instant) -> Result<u16, DeviceError> {
        (**self).template_count(deadline)
    }
    fn delete(&mut self, page: u16, count: u16, deadline: Instant) -> Result<(), DeviceError> {
        (**self).delete(page, count, deadline)
    }
    fn match_card_features(
        &mut self,
        features: &[u8],
        deadline: Instant,
    ) -> Result<CardMatch, DeviceError> {
        (**self).match_card_features(features, deadline)
    }
}

/// Handle to a fingerprint scanner running on its actor.
pub type FingerprintHandle = Handle<Box<dyn FingerprintScanner>>;

impl Handle<Box<dyn FingerprintScanner>> {
    /// 人证核验 on the device thread; see
    /// [`FingerprintScanner::match_card_features`]. The features are
    /// copied and zeroed again after use.
    pub async fn match_card_features(
        &self,
        features: &[u8],
        timeout: std::time::Duration,
    ) -> Result<CardMatch, DeviceError> {
        let features = Template::new(features.to_vec());
        self.call(timeout, move |d, deadline| {
            d.match_card_features(features.as_bytes(), deadline)
        })
        .await
    }

    /// Captures one image (one attempt).
    pub async fn capture(&self, timeout: std::time::Duration) -> Result<Capture, DeviceError> {
        self.call(timeout, |d, deadline| d.capture(deadline)).await
    }

    /// Reads the module's system parameters.
    pub async fn system_parameters(
        &self,
        timeout: std::time::Duration,
    ) -> Result<SystemParameters, DeviceError> {
        self.call(timeout, |d, deadline| d.system_parameters(deadline))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_debug_hides_bytes() {
        let t = Template::new(vec![0x41; 512]);
        assert_eq!(format!("{t:?}"), "Template(512 bytes)");
        assert_eq!(CharBuffer::Two.id(), 2);
        assert_eq!(FingerGuidance::PoorImage.as_str(), "poor_image");
    }
}
