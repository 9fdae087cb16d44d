//! Cameras: the face camera and the document camera (高拍仪).
//!
//! | module | camera | selector |
//! | --- | --- | --- |
//! | [`network`] | a network camera speaking Axis VAPIX-style HTTP: MJPEG stream from `/axis-cgi/mjpg/video.cgi`, stills from `/axis-cgi/jpg/image.cgi`, modes and controls from `/axis-cgi/param.cgi` (also the simulator's cameras) | `http://HOST:PORT/` |
//! | [`v4l`] | a USB (UVC) camera through V4L2 with `nokhwa` | `v4l:/dev/videoN`, `v4l:name=SUBSTRING`, `usb:VID:PID[:SERIAL]` |
//!
//! Both hand out the newest frame through one `FrameSlot` filled by a
//! reader thread, so a consumer slower than the camera never sees old
//! frames, and both give MJPEG frames as the camera sent them (decoding
//! is the consumer's choice: [`decode_rgb`]). [`check_jpeg`] is the one
//! test of "a complete JPEG image" both apply before a frame is handed
//! out.

pub mod network;
pub mod v4l;

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use hal::camera::{Frame, PixelFormat};
use hal::{DeviceError, ErrorKind};

pub use network::NetworkCamera;
pub use v4l::V4lCamera;

/// Largest JPEG accepted for a `width`×`height` image: never more than
/// the uncompressed RGB size plus headers (a JPEG that large is not a
/// camera's), at least 1 MiB, at most 64 MiB.
pub fn max_jpeg_bytes(width: u32, height: u32) -> usize {
    let raw = u64::from(width) * u64::from(height) * 3;
    let capped = raw.clamp(1 << 20, 64 << 20) + 64 * 1024;
    usize::try_from(capped).unwrap_or(64 << 20)
}

/// Why a byte string is not a complete JPEG image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JpegProblem {
    #[error("no JPEG start marker (FF D8)")]
    NoStart,
    #[error("no frame header (SOF) before the image data")]
    NoFrameHeader,
    #[error("the image is cut short (no FF D9 end marker)")]
    Truncated,
    #[error("the frame header gives a zero width or height")]
    ZeroSize,
}

/// Width and height of a complete JPEG image: `FF D8` first, a frame
/// header (SOF0..SOF15 other than DHT/JPG/DAC) before the scan, and an
/// `FF D9` end marker at the end (trailing CR/LF/NUL padding allowed, as
/// some cameras pad MJPEG parts). Reads only the headers, never the
/// entropy-coded data.
pub fn check_jpeg(data: &[u8]) -> Result<(u32, u32), JpegProblem> {
    if !data.starts_with(&[0xFF, 0xD8]) {
        return Err(JpegProblem::NoStart);
    }
    let end = data
        .iter()
        .rposition(|b| !matches!(b, b'\r' | b'\n' | 0))
        .unwrap_or(0);
    if end < 3 || data.get(end - 1..=end) != Some(&[0xFF, 0xD9][..]) {
        return Err(JpegProblem::Truncated);
    }
    let mut i = 2usize;
    loop {
        // Markers may be preceded by any number of FF fill bytes.
        while data.get(i) == Some(&0xFF) && data.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (data.get(i), data.get(i + 1)) else {
            return Err(JpegProblem::NoFrameHeader);
        };
        match marker {
            // Standalone markers without a length.
            0x01 | 0xD0..=0xD7 => {
                i += 2;
                continue;
            }
            // Start of scan or end of image before any frame header.
            0xDA | 0xD9 => return Err(JpegProblem::NoFrameHeader),
            _ => {}
        }
        let len = match (data.get(i + 2), data.get(i + 3)) {
            (Some(&h), Some(&l)) => usize::from(u16::from_be_bytes([h, l])),
            _ => return Err(JpegProblem::NoFrameHeader),
        };
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let be16 = |at: usize| match (data.get(at), data.get(at + 1)) {
                (Some(&a), Some(&b)) => Some(u32::from(u16::from_be_bytes([a, b]))),
                _ => None,
            };
            let height = be16(i + 5).ok_or(JpegProblem::NoFrameHeader)?;
            let width = be16(i + 7).ok_or(JpegProblem::NoFrameHeader)?;
            if width == 0 || height == 0 {
                return Err(JpegProblem::ZeroSize);
            }
            return Ok((width, height));
        }
        if len < 2 {
            return Err(JpegProblem::NoFrameHeader);
        }
        i += 2 + len;
    }
}

/// The frame as 8-bit RGB: MJPEG is decoded, luma is widened, RGB is
/// copied. A JPEG that does not decode is [`ErrorKind::Protocol`].
pub fn decode_rgb(frame: &Frame) -> Result<Frame, DeviceError> {
    let rgb = match frame.format {
        PixelFormat::Rgb8 => return Ok(frame.clone()),
        PixelFormat::Luma8 => frame.data.iter().flat_map(|&v| [v, v, v]).collect(),
        PixelFormat::Mjpeg => {
            image::load_from_memory_with_format(&frame.data, image::ImageFormat::Jpeg)
                .map_err(|e| DeviceError::protocol("frame is not a decodable JPEG").with_source(e))?
                .to_rgb8()
                .into_raw()
        }
    };
    let (width, height) = match frame.format {
        PixelFormat::Mjpeg => check_jpeg(&frame.data).unwrap_or((frame.width, frame.height)),
        _ => (frame.width, frame.height),
    };
    if rgb.len() as u64 != u64::from(width) * u64::from(height) * 3 {
        return Err(DeviceError::protocol(format!(
            "decoded frame has {} bytes, not {width}x{height} RGB",
            rgb.len()
        )));
    }
    Ok(Frame {
        width,
        height,
        format: PixelFormat::Rgb8,
        data: rgb,
    })
}

/// The frame as a JPEG file: MJPEG as it is, RGB and luma encoded at
/// `quality` (1..=100).
pub fn encode_jpeg(frame: &Frame, quality: u8) -> Result<Vec<u8>, DeviceError> {
    let color = match frame.format {
        PixelFormat::Mjpeg => return Ok(frame.data.clone()),
        PixelFormat::Rgb8 => image::ExtendedColorType::Rgb8,
        PixelFormat::Luma8 => image::ExtendedColorType::L8,
    };
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode(&frame.data, frame.width, frame.height, color)
        .map_err(|e| {
            DeviceError::new(ErrorKind::Config, "frame cannot be encoded as JPEG").with_source(e)
        })?;
    Ok(out)
}

/// How a stream ended, kept for the next caller.
#[derive(Debug, Clone)]
pub(crate) struct Ended {
    pub kind: ErrorKind,
    pub detail: String,
}

impl Ended {
    pub(crate) fn error(&self) -> DeviceError {
        DeviceError::new(self.kind, self.detail.clone())
    }
}

#[derive(Debug, Default)]
pub(crate) struct SlotState {
    /// Number of frames published so far.
    pub seq: u64,
    /// The newest frame not yet taken.
    pub frame: Option<Frame>,
    /// Set when the reader stopped; the stream gives nothing more.
    pub ended: Option<Ended>,
    /// `frames`, `frames_corrupt`, `frames_dropped`, `stills`, ….
    pub counters: BTreeMap<String, u64>,
}

impl SlotState {
    pub(crate) fn bump(&mut self, counter: &str) {
        *self.counters.entry(counter.to_string()).or_insert(0) += 1;
    }
}

/// The newest frame, handed from a reader thread to the driver. Frames
/// the driver did not take before a newer one came are dropped (counted
/// in `frames_dropped`).
#[derive(Debug, Default)]
pub(crate) struct FrameSlot {
    state: Mutex<SlotState>,
    ready: Condvar,
}

impl FrameSlot {
    pub(crate) fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes a new frame, replacing an untaken one.
    pub(crate) fn publish(&self, frame: Frame) {
        let mut s = self.lock();
        if s.frame.replace(frame).is_some() {
            s.bump("frames_dropped");
        }
        s.seq += 1;
        s.bump("frames");
        drop(s);
        self.ready.notify_all();
    }

    /// Marks the stream as ended (the first reason wins).
    pub(crate) fn end(&self, kind: ErrorKind, detail: impl Into<String>) {
        let mut s = self.lock();
        if s.ended.is_none() {
            s.ended = Some(Ended {
                kind,
                detail: detail.into(),
            });
        }
        drop(s);
        self.ready.notify_all();
    }

    /// Forgets the frame and the end of a previous stream (counters stay).
    pub(crate) fn reset(&self) {
        let mut s = self.lock();
        s.frame = None;
        s.ended = None;
    }

    /// Takes the newest frame, waiting until `deadline`. A stream that
    /// ended gives its reason once no frame is left.
    pub(crate) fn take(&self, deadline: Instant) -> Result<Frame, DeviceError> {
        let mut s = self.lock();
        loop {
            if let Some(f) = s.frame.take() {
                return Ok(f);
            }
            if let Some(e) = &s.ended {
                return Err(e.error());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DeviceError::timeout("no camera frame before the deadline"));
            }
            s = self
                .ready
                .wait_timeout(s, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn tiny_jpeg(w: u32, h: u32) -> Vec<u8> {
        let frame = Frame {
            width: w,
            height: h,
            format: PixelFormat::Rgb8,
            data: vec![128; (w * h * 3) as usize],
        };
        encode_jpeg(&frame, 80).unwrap()
    }

    #[test]
    fn jpeg_check_reads_the_size_and_refuses_broken_images() {
        let j = tiny_jpeg(64, 48);
        assert_eq!(check_jpeg(&j), Ok((64, 48)));
        let mut padded = j.clone();
        padded.extend_from_slice(b"\r\n");
        assert_eq!(check_jpeg(&padded), Ok((64, 48)), "CRLF after FF D9");
        assert_eq!(check_jpeg(&j[..j.len() / 2]), Err(JpegProblem::Truncated));
        assert_eq!(check_jpeg(b"GIF89a....\xFF\xD9"), Err(JpegProblem::NoStart));
        assert_eq!(
            check_jpeg(&[0xFF, 0xD8, 0xFF, 0xD9]),
            Err(JpegProblem::NoFrameHeader)
        );
        assert_eq!(check_jpeg(&[0xFF, 0xD8, 0xD9]), Err(JpegProblem::Truncated));
        assert_eq!(
            check_jpeg(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 1, 2, 0xFF, 0xD9]),
            Err(JpegProblem::NoFrameHeader)
        );
        // A segment length running past the end.
        assert_eq!(
            check_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xF0, 0xFF, 0xD9]),
            Err(JpegProblem::NoFrameHeader)
        );
        let frame = Frame {
            width: 64,
            height: 48,
            format: PixelFormat::Mjpeg,
            data: j,
        };
        let rgb = decode_rgb(&frame).unwrap();
        assert_eq!(
            (rgb.width, rgb.height, rgb.data.len()),
            (64, 48, 64 * 48 * 3)
        );
        assert!(rgb.data.iter().all(|&v| v.abs_diff(128) <= 2));
    }

    #[test]
    fn limits_follow_the_image_size() {
        assert_eq!(max_jpeg_bytes(16, 16), (1 << 20) + 65536);
        assert_eq!(max_jpeg_bytes(1280, 720), 1280 * 720 * 3 + 65536);
        assert_eq!(max_jpeg_bytes(60000, 60000), (64 << 20) + 65536);
    }

    #[test]
    fn slot_gives_the_newest_frame_once() {
        let slot = Arc::new(FrameSlot::default());
        let f = |n: u8| Frame {
            width: 1,
            height: 1,
            format: PixelFormat::Luma8,
            data: vec![n],
        };
        slot.publish(f(1));
        slot.publish(f(2));
        let soon = || Instant::now() + Duration::from_millis(50);
        assert_eq!(slot.take(soon()).unwrap().data, [2], "the newest");
        assert_eq!(
            slot.take(soon()).unwrap_err().kind(),
            ErrorKind::Timeout,
            "never the same frame twice"
        );
        let s2 = Arc::clone(&slot);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            s2.publish(f(3));
        });
        let got = slot.take(Instant::now() + Duration::from_secs(2)).unwrap();
        assert_eq!(got.data, [3], "a waiting caller wakes for a new frame");
        t.join().unwrap();
        slot.end(ErrorKind::Disconnected, "gone");
        assert_eq!(
            slot.take(soon()).unwrap_err().kind(),
            ErrorKind::Disconnected
        );
        assert_eq!(slot.lock().counters["frames_dropped"], 1);
    }
}
