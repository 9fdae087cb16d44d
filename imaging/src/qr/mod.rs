//! Code reading from camera frames and image files.
//!
//! Residents hold a phone (payment code, appointment code) or a printed
//! receipt up to the kiosk's camera. This module finds and decodes QR
//! codes — and the 1D barcodes (Code 128, EAN-13, Code 39, …), PDF417
//! and Data Matrix the tender's scanner specification lists — in 8-bit
//! luma pictures with rxing, in pure Rust.
//!
//! * [`decode_luma`], [`decode_frame`], [`decode_file`]: one picture.
//! * [`LatestFrameDecoder`]: a background thread that always works on the
//!   newest preview frame and drops the ones it could not get to.
//! * [`charset`]: payload bytes → text (UTF-8 / GB18030 / ECI).
//!
//! Phone screens are harder than paper: glare, moiré from the screen's
//! pixel grid, dark mode (light modules on black) and low contrast; see
//! [`decode`] for the ladder of retries and its order.

pub mod charset;
pub mod decode;
pub mod preprocess;
pub mod worker;

use std::path::{Path, PathBuf};

use hal::camera::{Frame, PixelFormat};
use hal::scanner::Symbology;

pub use charset::Charset;
pub use decode::Formats;
pub use preprocess::Luma;
pub use worker::{DecodeResult, DecoderStats, LatestFrameDecoder};

/// The ladder rung that found a code (see [`decode`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pass {
    /// The frame as it came.
    Plain,
    /// The frame halved by 2x2 averaging.
    Downscaled,
    /// The frame's contrast stretched to the full range.
    Stretched,
    /// Local-mean threshold without a minimum contrast.
    Local,
    /// The exhaustive finder search.
    Harder,
}

impl Pass {
    /// A stable name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Pass::Plain => "plain",
            Pass::Downscaled => "downscaled",
            Pass::Stretched => "stretched",
            Pass::Local => "local",
            Pass::Harder => "harder",
        }
    }
}

/// One code found in a picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The payload as text (see [`charset`] for how bytes become text).
    pub text: String,
    /// The payload bytes as the symbol carries them (for QR: the data
    /// segments' bytes, ECI designators left out). For the other
    /// symbologies rxing gives no payload bytes, and these are the text's
    /// UTF-8 bytes.
    pub bytes: Vec<u8>,
    pub symbology: Symbology,
    /// How `bytes` became `text`.
    pub charset: Charset,
    /// Where the code lies, in pixels of the picture given: for QR the
    /// finder-pattern corners, for 1D codes the two ends of the scan line.
    pub corners: Vec<(f32, f32)>,
    /// The ladder rung that found it.
    pub pass: Pass,
    /// Found in the inverted picture (light modules on dark).
    pub inverted: bool,
    /// The AIM symbology identifier rxing reports (`]Q1`, `]C0`, …).
    pub aim: Option<String>,
}

impl Decoded {
    /// The code as the kiosk's scanner path carries it, so a code read
    /// by the camera and one read by the scanner look the same.
    pub fn to_scanned(&self) -> hal::scanner::ScannedCode {
        hal::scanner::ScannedCode {
            data: self.bytes.clone(),
            text: Some(self.text.clone()),
            symbology: Some(self.symbology),
        }
    }
}

/// Why a frame or a file could not be looked at. (Finding no code is not
/// an error: the list is empty.)
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("无法读取文件 {path} / cannot read file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("文件不是可读的图像 {path} / not a readable image {path}: {reason}")]
    Image { path: PathBuf, reason: String },
    #[error("相机帧无效 / bad camera frame: {0}")]
    Frame(String),
}

/// Every code found in a luma picture (`width * height` bytes, row-major),
/// looking for all the symbologies the kiosk reads. Empty when there is
/// none, or when `luma` is shorter than `width * height`.
pub fn decode_luma(luma: &[u8], width: u32, height: u32) -> Vec<Decoded> {
    decode_luma_with(luma, width, height, Formats::ALL)
}

/// [`decode_luma`] limited to `formats`.
pub fn decode_luma_with(luma: &[u8], width: u32, height: u32, formats: Formats) -> Vec<Decoded> {
    let mut found = decode::ladder(luma, width, height, formats);
    // The multi-symbol QR reader can meet the same symbol twice.
    let mut seen = std::collections::HashSet::new();
    found.retain(|d| seen.insert((d.symbology, d.bytes.clone())));
    found
}

/// The luma picture of a camera frame: RGB is converted, luma taken as it
/// is, MJPEG decoded to its Y plane only.
pub fn frame_luma(frame: &Frame) -> Result<Luma, QrError> {
    let px = u64::from(frame.width) * u64::from(frame.height);
    if px == 0 || px > crate::frame::MAX_PIXELS {
        return Err(QrError::Frame(format!("{}x{}", frame.width, frame.height)));
    }
    let n = px as usize;
    match frame.format {
        PixelFormat::Luma8 => {
            let data = frame.data.get(..n).ok_or_else(|| short(frame, n))?;
            Ok(Luma {
                width: frame.width,
                height: frame.height,
                data: data.to_vec(),
            })
        }
        PixelFormat::Rgb8 => preprocess::luma_from_rgb(&frame.data, frame.width, frame.height)
            .ok_or_else(|| short(frame, n.saturating_mul(3))),
        PixelFormat::Mjpeg => preprocess::luma_from_jpeg(&frame.data).map_err(QrError::Frame),
    }
}

fn short(frame: &Frame, want: usize) -> QrError {
    QrError::Frame(format!(
        "{}x{} {:?} 需要 {want} 字节，只有 {} / needs {want} bytes, has {}",
        frame.width,
        frame.height,
        frame.format,
        frame.data.len(),
        frame.data.len()
    ))
}

/// Every code in a camera frame.
pub fn decode_frame(frame: &Frame) -> Result<Vec<Decoded>, QrError> {
    let luma = frame_luma(frame)?;
    Ok(decode_luma(&luma.data, luma.width, luma.height))
}

/// The luma picture of an image file (PNG, JPEG, BMP, TIFF).
pub fn load_luma(path: &Path) -> Result<Luma, QrError> {
    let bytes = std::fs::read(path).map_err(|source| QrError::Read {
        path: path.to_owned(),
        source,
    })?;
    if bytes.starts_with(&[0xFF, 0xD8])
        && let Ok(luma) = preprocess::luma_from_jpeg(&bytes)
    {
        return Ok(luma);
    }
    let img = image::load_from_memory(&bytes).map_err(|e| QrError::Image {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let grey = img.into_luma8();
    Ok(Luma {
        width: grey.width(),
        height: grey.height(),
        data: grey.into_raw(),
    })
}

/// Every code in an image file.
pub fn decode_file(path: &Path) -> Result<Vec<Decoded>, QrError> {
    let luma = load_luma(path)?;
    Ok(decode_luma(&luma.data, luma.width, luma.height))
}
