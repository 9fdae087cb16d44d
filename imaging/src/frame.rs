//! Camera frames to pictures: decoding MJPEG and small previews for the
//! screen. (Code reading takes the grey plane only: `qr::frame_luma`.)

use hal::camera::{Frame, PixelFormat};
use image::{GrayImage, RgbImage};

/// A frame that cannot be turned into a picture.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("画面数据不完整 / the frame is incomplete ({0})")]
    Corrupt(String),
    #[error("画面尺寸不符 / the frame's size does not match its data")]
    Size,
}

/// Largest frame accepted, in pixels (a 12 MP still is 12e6): a corrupt
/// or hostile header must not make the kiosk allocate gigabytes.
pub const MAX_PIXELS: u64 = 50_000_000;

fn check(frame: &Frame, bytes_per_pixel: u64) -> Result<(), FrameError> {
    let px = u64::from(frame.width) * u64::from(frame.height);
    if px == 0 || px > MAX_PIXELS || frame.data.len() as u64 != px * bytes_per_pixel {
        return Err(FrameError::Size);
    }
    Ok(())
}

/// Whether a JPEG's end-of-image marker (`FF D9`) is in its last
/// kilobyte (some cameras pad or append a little after it). In
/// entropy-coded data `FF` is always followed by `00` or a restart
/// marker, so `FF D9` there is the real end, not a chance byte pair.
pub(crate) fn jpeg_complete(bytes: &[u8]) -> bool {
    let tail = bytes.get(bytes.len().saturating_sub(1024)..).unwrap_or(&[]);
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

fn decode_jpeg(data: &[u8]) -> Result<image::DynamicImage, FrameError> {
    if !jpeg_complete(data) {
        return Err(FrameError::Corrupt(
            "JPEG is truncated (no end-of-image marker)".into(),
        ));
    }
    let mut reader =
        image::ImageReader::with_format(std::io::Cursor::new(data), image::ImageFormat::Jpeg);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 3);
    reader.limits(limits);
    reader
        .decode()
        .map_err(|e| FrameError::Corrupt(e.to_string()))
}

/// The frame in colour.
pub fn rgb(frame: &Frame) -> Result<RgbImage, FrameError> {
    match frame.format {
        PixelFormat::Rgb8 => {
            check(frame, 3)?;
            RgbImage::from_raw(frame.width, frame.height, frame.data.clone())
                .ok_or(FrameError::Size)
        }
        PixelFormat::Luma8 => {
            check(frame, 1)?;
            let g = GrayImage::from_raw(frame.width, frame.height, frame.data.clone())
                .ok_or(FrameError::Size)?;
            Ok(image::DynamicImage::ImageLuma8(g).to_rgb8())
        }
        PixelFormat::Mjpeg => Ok(decode_jpeg(&frame.data)?.to_rgb8()),
    }
}

/// A copy no larger than `max_w` x `max_h`, keeping the aspect ratio:
/// each output pixel is the mean of the block it covers (cheap enough for
/// 30 previews a second of a 1280x720 frame).
pub fn preview(img: &RgbImage, max_w: u32, max_h: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 || (w <= max_w && h <= max_h) {
        return img.clone();
    }
    let scale = (f64::from(max_w) / f64::from(w)).min(f64::from(max_h) / f64::from(h));
    let ow = ((f64::from(w) * scale).round() as u32).max(1);
    let oh = ((f64::from(h) * scale).round() as u32).max(1);
    RgbImage::from_fn(ow, oh, |x, y| {
        let x0 = u64::from(x) * u64::from(w) / u64::from(ow);
        let x1 = (u64::from(x + 1) * u64::from(w) / u64::from(ow)).max(x0 + 1);
        let y0 = u64::from(y) * u64::from(h) / u64::from(oh);
        let y1 = (u64::from(y + 1) * u64::from(h) / u64::from(oh)).max(y0 + 1);
        let mut acc = [0u64; 3];
        for yy in y0..y1 {
            for xx in x0..x1 {
                let p = img.get_pixel(xx as u32, yy as u32);
                for (a, v) in acc.iter_mut().zip(p.0) {
                    *a += u64::from(v);
                }
            }
        }
        let n = (x1 - x0) * (y1 - y0);
        image::Rgb(acc.map(|a| (a / n) as u8))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn jpeg(img: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
        out
    }

    #[test]
    fn mjpeg_rgb_and_luma_frames_all_decode() {
        let img = RgbImage::from_fn(64, 48, |x, _| image::Rgb([(x * 4) as u8, 100, 50]));
        let mj = Frame {
            width: 64,
            height: 48,
            format: PixelFormat::Mjpeg,
            data: jpeg(&img),
        };
        assert_eq!(rgb(&mj).unwrap().dimensions(), (64, 48));
        let raw = Frame {
            width: 64,
            height: 48,
            format: PixelFormat::Rgb8,
            data: img.clone().into_raw(),
        };
        assert_eq!(rgb(&raw).unwrap(), img);
        let grey = Frame {
            width: 2,
            height: 1,
            format: PixelFormat::Luma8,
            data: vec![0, 255],
        };
        assert_eq!(rgb(&grey).unwrap().get_pixel(1, 0).0, [255, 255, 255]);
    }

    #[test]
    fn a_cut_off_jpeg_or_a_lying_size_is_an_error_not_a_panic() {
        let img = RgbImage::from_pixel(64, 48, image::Rgb([9, 9, 9]));
        let mut data = jpeg(&img);
        data.truncate(data.len() / 3);
        let cut = Frame {
            width: 64,
            height: 48,
            format: PixelFormat::Mjpeg,
            data,
        };
        assert!(matches!(rgb(&cut), Err(FrameError::Corrupt(_))));
        let lying = Frame {
            width: 100_000,
            height: 100_000,
            format: PixelFormat::Rgb8,
            data: vec![0; 30],
        };
        assert_eq!(rgb(&lying), Err(FrameError::Size));
        assert!(FrameError::Size.to_string().starts_with("画面尺寸不符"));
    }

    #[test]
    fn preview_keeps_the_aspect_and_averages() {
        let img = RgbImage::from_fn(1280, 720, |x, _| {
            image::Rgb([if x % 2 == 0 { 0 } else { 200 }; 3])
        });
        let p = preview(&img, 640, 640);
        assert_eq!(p.dimensions(), (640, 360));
        assert_eq!(p.get_pixel(10, 10).0, [100, 100, 100]);
        assert_eq!(preview(&img, 2000, 2000).dimensions(), (1280, 720));
    }
}
