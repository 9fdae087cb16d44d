//! Cameras: the face camera and the document camera (高拍仪).
//!
//! A [`Camera`] streams a preview: [`Camera::start`] in one of its
//! [`Camera::modes`], then [`Camera::next_frame`] again and again, then
//! [`Camera::stop`]. A [`DocumentCamera`] also takes full-resolution
//! stills ([`DocumentCamera::capture_still`]).
//!
//! ## What a caller may rely on
//!
//! * [`Camera::next_frame`] returns the **newest** frame not yet returned;
//!   frames that arrived while the caller was busy are dropped, so a slow
//!   consumer (a preview that decodes, a QR reader) never lags behind the
//!   scene. Two calls never return the same frame.
//! * `next_frame` while not streaming starts the mode last started, or
//!   before any `start` the mode closest to 1280×720 at 30 fps
//!   ([`closest_mode`] with [`PREVIEW`]). A stream that failed (an error
//!   of kind [`ErrorKind::Protocol`], for example a part far too large)
//!   is started again this way by the next call.
//! * A camera that went away (unplugged, connection refused or reset, a
//!   stream silent for seconds) is [`ErrorKind::Disconnected`] and its
//!   health goes offline, so the actor opens it afresh.
//! * A frame the camera garbled (a corrupt JPEG part) is skipped, counted
//!   in the health counter `frames_corrupt`, and never handed out.
//! * Frames come as the camera sends them: [`PixelFormat::Mjpeg`] (one
//!   complete JPEG image per frame, the usual case for USB and network
//!   cameras) or already decoded [`PixelFormat::Rgb8`] /
//!   [`PixelFormat::Luma8`]. `width` and `height` are always the image's.
//! * Images of residents are personal data: [`Frame`]'s `Debug` prints
//!   only its size and format, and drivers never log or keep frames.
//!
//! [`ErrorKind::Disconnected`]: crate::ErrorKind::Disconnected
//! [`ErrorKind::Protocol`]: crate::ErrorKind::Protocol

use std::fmt;
use std::time::{Duration, Instant};

use crate::Device;
use crate::actor::Handle;
use crate::error::DeviceError;

/// Pixel layout of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 3 bytes per pixel, row after row, no padding.
    Rgb8,
    /// 1 byte per pixel, row after row, no padding.
    Luma8,
    /// One complete baseline/progressive JPEG image (`FF D8` … `FF D9`).
    Mjpeg,
}

impl PixelFormat {
    /// Stable machine name (`rgb8`, `luma8`, `mjpeg`), used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PixelFormat::Rgb8 => "rgb8",
            PixelFormat::Luma8 => "luma8",
            PixelFormat::Mjpeg => "mjpeg",
        }
    }
}

/// One frame.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    pub data: Vec<u8>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Frame {{ {}x{} {}, {} bytes }}",
            self.width,
            self.height,
            self.format.as_str(),
            self.data.len()
        )
    }
}

/// A video mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoMode {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl VideoMode {
    /// A mode of `width`×`height` at `fps`.
    pub const fn new(width: u32, height: u32, fps: u32) -> Self {
        VideoMode { width, height, fps }
    }

    /// Number of pixels in one frame.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

impl fmt::Display for VideoMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}@{}", self.width, self.height, self.fps)
    }
}

/// The preview mode the kiosk asks for: 1280×720 at 30 fps.
pub const PREVIEW: VideoMode = VideoMode::new(1280, 720, 30);

/// The offered mode closest to `want`: the same size if offered (highest
/// frame rate not above `want.fps`, else the lowest above it), otherwise
/// the smallest mode at least as large as `want`, otherwise the largest.
/// `None` only when `modes` is empty.
pub fn closest_mode(modes: &[VideoMode], want: VideoMode) -> Option<VideoMode> {
    let same: Vec<&VideoMode> = modes
        .iter()
        .filter(|m| m.width == want.width && m.height == want.height)
        .collect();
    if !same.is_empty() {
        let at_most = same
            .iter()
            .filter(|m| m.fps <= want.fps)
            .max_by_key(|m| m.fps);
        let above = same.iter().min_by_key(|m| m.fps);
        return at_most.or(above).map(|m| **m);
    }
    let rate = |m: &&VideoMode| (m.fps.min(want.fps), std::cmp::Reverse(m.fps));
    let larger = modes
        .iter()
        .filter(|m| m.width >= want.width && m.height >= want.height)
        .min_by_key(|m| (m.pixels(), std::cmp::Reverse(rate(m))));
    larger
        .or_else(|| modes.iter().max_by_key(|m| (m.pixels(), rate(m))))
        .copied()
}

/// What a camera says about itself, read at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// Product name as the device gives it (V4L2 card name, network
    /// camera's brand and model), for maintenance staff.
    pub name: String,
    /// Where it is: `/dev/video0 (usb-0000:00:14.0-1)`, `http://…/`.
    pub location: String,
    /// Largest image the sensor gives (the still size of a document
    /// camera), when known.
    pub sensor: Option<(u32, u32)>,
}

/// A camera setting a driver may offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlId {
    /// Exposure time (device units; V4L2: 100 µs steps). `Auto` allowed
    /// where the camera has automatic exposure.
    Exposure,
    /// Lens focus position. `Auto` allowed where the camera has autofocus.
    Focus,
    Brightness,
    Contrast,
    /// White balance as a colour temperature in kelvin. `Auto` allowed
    /// where the camera has automatic white balance.
    WhiteBalance,
    Gain,
    Sharpness,
    Zoom,
    /// A document camera's own fill light (补光灯), 0 = off.
    Light,
}

impl ControlId {
    /// Stable machine name (`exposure`, `focus`, …), used in JSON and on
    /// command lines.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlId::Exposure => "exposure",
            ControlId::Focus => "focus",
            ControlId::Brightness => "brightness",
            ControlId::Contrast => "contrast",
            ControlId::WhiteBalance => "white_balance",
            ControlId::Gain => "gain",
            ControlId::Sharpness => "sharpness",
            ControlId::Zoom => "zoom",
            ControlId::Light => "light",
        }
    }

    /// The control of a machine name.
    pub fn parse(s: &str) -> Option<ControlId> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Every control id.
    pub const ALL: [ControlId; 9] = [
        ControlId::Exposure,
        ControlId::Focus,
        ControlId::Brightness,
        ControlId::Contrast,
        ControlId::WhiteBalance,
        ControlId::Gain,
        ControlId::Sharpness,
        ControlId::Zoom,
        ControlId::Light,
    ];
}

/// One control as the camera offers it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub id: ControlId,
    /// The device's own name for it (`Exposure (Absolute)`), for staff.
    pub name: String,
    pub min: i64,
    pub max: i64,
    pub step: i64,
    pub default: i64,
    /// Current manual value.
    pub value: i64,
    /// `Some(true)` when the camera sets it itself now, `Some(false)` when
    /// the manual value applies, `None` when there is no automatic mode.
    pub auto: Option<bool>,
}

/// A value to give a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlValue {
    /// Let the camera set it (automatic exposure, autofocus, AWB).
    Auto,
    /// This value (within the control's `min..=max`).
    Manual(i64),
}

/// A camera giving a preview stream.
pub trait Camera: Device {
    /// Modes offered, read at open.
    fn modes(&self) -> Vec<VideoMode>;
    /// Starts streaming in `mode` (one of [`Camera::modes`]; another mode
    /// is [`crate::ErrorKind::Unsupported`]). Starting while streaming
    /// switches the mode.
    fn start(&mut self, mode: VideoMode, deadline: Instant) -> Result<(), DeviceError>;
    /// The newest frame not yet returned; waits for one until `deadline`.
    fn next_frame(&mut self, deadline: Instant) -> Result<Frame, DeviceError>;
    /// Stops streaming. Stopping a stopped camera does nothing.
    fn stop(&mut self) -> Result<(), DeviceError>;
    /// The mode streaming now, if any.
    fn current_mode(&self) -> Option<VideoMode> {
        None
    }
    /// Name and location, read at open.
    fn info(&self) -> CameraInfo;
    /// Controls offered (empty when the camera offers none).
    fn controls(&mut self, _deadline: Instant) -> Result<Vec<Control>, DeviceError> {
        Ok(Vec::new())
    }
    /// Sets one control. A control the camera does not offer, or `Auto`
    /// for one without an automatic mode, is
    /// [`crate::ErrorKind::Unsupported`]; a value out of range is
    /// [`crate::ErrorKind::Config`].
    fn set_control(
        &mut self,
        id: ControlId,
        _value: ControlValue,
        _deadline: Instant,
    ) -> Result<(), DeviceError> {
        Err(DeviceError::new(
            crate::ErrorKind::Unsupported,
            format!("this camera has no {} control", id.as_str()),
        ))
    }
}

/// Paper size the document camera frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperSize {
    A4,
    A5,
    A6,
    Auto,
}

impl PaperSize {
    /// Stable machine name (`a4`, `a5`, `a6`, `auto`).
    pub fn as_str(self) -> &'static str {
        match self {
            PaperSize::A4 => "a4",
            PaperSize::A5 => "a5",
            PaperSize::A6 => "a6",
            PaperSize::Auto => "auto",
        }
    }

    /// The size of a machine name (case-insensitive).
    pub fn parse(s: &str) -> Option<PaperSize> {
        match s.to_ascii_lowercase().as_str() {
            "a4" => Some(PaperSize::A4),
            "a5" => Some(PaperSize::A5),
            "a6" => Some(PaperSize::A6),
            "auto" => Some(PaperSize::Auto),
            _ => None,
        }
    }

    /// Width and height in millimetres, portrait; `None` for `Auto`.
    pub fn millimetres(self) -> Option<(u32, u32)> {
        match self {
            PaperSize::A4 => Some((210, 297)),
            PaperSize::A5 => Some((148, 210)),
            PaperSize::A6 => Some((105, 148)),
            PaperSize::Auto => None,
        }
    }
}

/// A document camera: a camera that also takes full-resolution stills.
pub trait DocumentCamera: Camera {
    /// Takes one still at the sensor's full resolution (target ≤ 1 s).
    /// A preview running before is running again afterwards. `paper` is
    /// the sheet the resident laid down; a camera with a zoom or crop
    /// setting per paper size uses it, others take the whole field and
    /// leave finding the sheet to the image pipeline.
    fn capture_still(&mut self, paper: PaperSize, deadline: Instant) -> Result<Frame, DeviceError>;
}

impl<T: Camera + ?Sized> Camera for Box<T> {
    fn modes(&self) -> Vec<VideoMode> {
        (**self).modes()
    }
    fn start(&mut self, mode: VideoMode, deadline: Instant) -> Result<(), DeviceError> {
        (**self).start(mode, deadline)
    }
    fn next_frame(&mut self, deadline: Instant) -> Result<Frame, DeviceError> {
        (**self).next_frame(deadline)
    }
    fn stop(&mut self) -> Result<(), DeviceError> {
        (**self).stop()
    }
    fn current_mode(&self) -> Option<VideoMode> {
        (**self).current_mode()
    }
    fn info(&self) -> CameraInfo {
        (**self).info()
    }
    fn controls(&mut self, deadline: Instant) -> Result<Vec<Control>, DeviceError> {
        (**self).controls(deadline)
    }
    fn set_control(
        &mut self,
        id: ControlId,
        value: ControlValue,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        (**self).set_control(id, value, deadline)
    }
}

impl<T: DocumentCamera + ?Sized> DocumentCamera for Box<T> {
    fn capture_still(&mut self, paper: PaperSize, deadline: Instant) -> Result<Frame, DeviceError> {
        (**self).capture_still(paper, deadline)
    }
}

/// Handle to a face camera running on its actor.
pub type CameraHandle = Handle<Box<dyn Camera>>;
/// Handle to a document camera running on its actor.
pub type DocumentCameraHandle = Handle<Box<dyn DocumentCamera>>;

impl<D: Camera> Handle<D> {
    /// The modes the camera offers.
    pub async fn camera_modes(&self, timeout: Duration) -> Result<Vec<VideoMode>, DeviceError> {
        self.call(timeout, |d, _| Ok(d.modes())).await
    }

    /// Name and location of the camera.
    pub async fn camera_info(&self, timeout: Duration) -> Result<CameraInfo, DeviceError> {
        self.call(timeout, |d, _| Ok(d.info())).await
    }

    /// Starts streaming in `mode`.
    pub async fn start_stream(
        &self,
        mode: VideoMode,
        timeout: Duration,
    ) -> Result<(), DeviceError> {
        self.call(timeout, move |d, deadline| d.start(mode, deadline))
            .await
    }

    /// The newest frame not yet returned (see [`Camera::next_frame`]).
    pub async fn next_frame(&self, timeout: Duration) -> Result<Frame, DeviceError> {
        self.call(timeout, |d, deadline| d.next_frame(deadline))
            .await
    }

    /// Stops streaming.
    pub async fn stop_stream(&self, timeout: Duration) -> Result<(), DeviceError> {
        self.call(timeout, |d, _| d.stop()).await
    }

    /// The controls the camera offers.
    pub async fn camera_controls(&self, timeout: Duration) -> Result<Vec<Control>, DeviceError> {
        self.call(timeout, |d, deadline| d.controls(deadline)).await
    }

    /// Sets one control.
    pub async fn set_camera_control(
        &self,
        id: ControlId,
        value: ControlValue,
        timeout: Duration,
    ) -> Result<(), DeviceError> {
        self.call(timeout, move |d, deadline| {
            d.set_control(id, value, deadline)
        })
        .await
    }
}

impl<D: DocumentCamera> Handle<D> {
    /// Takes one full-resolution still (see [`DocumentCamera::capture_still`]).
    pub async fn capture_still(
        &self,
        paper: PaperSize,
        timeout: Duration,
    ) -> Result<Frame, DeviceError> {
        self.call(timeout, move |d, deadline| d.capture_still(paper, deadline))
            .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn closest_mode_prefers_the_size_then_the_rate() {
        let modes = [
            VideoMode::new(4000, 3000, 5),
            VideoMode::new(1920, 1080, 30),
            VideoMode::new(1280, 720, 60),
            VideoMode::new(1280, 720, 30),
            VideoMode::new(1280, 720, 15),
            VideoMode::new(640, 480, 30),
        ];
        assert_eq!(closest_mode(&modes, PREVIEW), Some(PREVIEW));
        assert_eq!(
            closest_mode(&modes, VideoMode::new(1280, 720, 20)),
            Some(VideoMode::new(1280, 720, 15))
        );
        assert_eq!(
            closest_mode(&modes, VideoMode::new(1280, 720, 10)),
            Some(VideoMode::new(1280, 720, 15)),
            "nothing at or below 10 fps: the slowest above"
        );
        // No 1024x768: the smallest mode that is at least as large.
        assert_eq!(
            closest_mode(&modes, VideoMode::new(1024, 768, 30)),
            Some(VideoMode::new(1920, 1080, 30))
        );
        // Larger than anything: the largest.
        assert_eq!(
            closest_mode(&modes, VideoMode::new(8000, 6000, 5)),
            Some(VideoMode::new(4000, 3000, 5))
        );
        assert_eq!(closest_mode(&[], PREVIEW), None);
    }

    #[test]
    fn names_round_trip_and_frames_print_no_pixels() {
        for c in ControlId::ALL {
            assert_eq!(ControlId::parse(c.as_str()), Some(c));
        }
        assert_eq!(ControlId::parse("iso"), None);
        for p in [PaperSize::A4, PaperSize::A5, PaperSize::A6, PaperSize::Auto] {
            assert_eq!(PaperSize::parse(p.as_str()), Some(p));
        }
        assert_eq!(PaperSize::parse("A4"), Some(PaperSize::A4));
        assert_eq!(PaperSize::A5.millimetres(), Some((148, 210)));
        let f = Frame {
            width: 2,
            height: 1,
            format: PixelFormat::Rgb8,
            data: vec![0xAB; 6],
        };
        assert_eq!(format!("{f:?}"), "Frame { 2x1 rgb8, 6 bytes }");
    }
}
