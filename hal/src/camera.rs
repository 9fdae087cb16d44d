//! Cameras: the face camera and the document camera (高拍仪).

use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// Pixel layout of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    Rgb8,
    Luma8,
    Mjpeg,
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    pub data: Vec<u8>,
}

/// A video mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoMode {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

/// A camera giving a preview stream.
pub trait Camera: Device {
    /// Modes offered, read at open.
    fn modes(&self) -> Vec<VideoMode>;
    /// Starts streaming in `mode`.
    fn start(&mut self, mode: VideoMode, deadline: Instant) -> Result<(), DeviceError>;
    /// Waits for the next frame.
    fn next_frame(&mut self, deadline: Instant) -> Result<Frame, DeviceError>;
    /// Stops streaming.
    fn stop(&mut self) -> Result<(), DeviceError>;
}

/// Paper size the document camera frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperSize {
    A4,
    A5,
    A6,
    Auto,
}

/// A document camera: a camera that also takes full-resolution stills.
pub trait DocumentCamera: Camera {
    /// Takes one full-resolution still (target ≤ 1 s).
    fn capture_still(&mut self, paper: PaperSize, deadline: Instant) -> Result<Frame, DeviceError>;
}
