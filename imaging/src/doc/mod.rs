//! # The document pipeline (高拍仪)
//!
//! A still from the document camera becomes the stored image of one page:
//!
//! 1. [`find_page`]: the paper's four corners in the photo (bright, grey
//!    paper against a darker or coloured desk; robust to a soft shadow);
//! 2. perspective correction onto an exact paper raster (A4 at 150 dpi is
//!    1240×1754; A5 and A6 likewise; landscape when the page lies so);
//! 3. the light evened out: the paper's own brightness is estimated and
//!    divided out, so paper is white and the shadow is gone;
//! 4. the page in colour, grey, or black and white (adaptive threshold).
//!
//! [`encode`] then stores it as JPEG, PNG, BMP, TIFF or PDF, chosen by the
//! output file's extension ([`Format::from_path`]). The tender's caps
//! (colour ≤ 300 KB, black and white ≤ 60 KB; KB = 1000 bytes here, the
//! stricter reading) are met by measurement: JPEG quality is searched
//! from [`Options::quality_max`] down to [`Options::quality_min`], and only
//! when even that is too big is the resolution lowered (in steps of 10 %,
//! not below [`Options::min_dpi`]). The [`Report`] says when that
//! happened. Black-and-white TIFF is CCITT Group 4; colour and grey TIFF
//! hold the same size-capped JPEG (TIFF compression 7). PNG is lossless:
//! only a lower resolution can meet the cap. BMP is uncompressed by
//! definition and has no cap. [`pdf`] puts a whole material set in one
//! PDF, each page the size of its paper, without re-encoding.
//!
//! Everything is integer or `f32` per pixel; a 12 MP still takes well
//! under a second on one core in release builds (see
//! `tests/benches/doccam.rs`).

mod binarise;
mod codec;
mod find;
mod geom;
mod light;
mod pdf;
mod tiff;
mod warp;

use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;

use hal::camera::{Frame, PaperSize};
use image::{GrayImage, RgbImage};

pub use binarise::Bitmap;
pub use find::{Quad, find_page};
pub use geom::Point;

use codec::Pixels;

/// Errors of the document pipeline, Chinese first (shown to residents and
/// clerks), then English.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DocError {
    #[error("未找到页面,请把材料平放在拍摄区内 / no page found in the photo")]
    NoPage,
    #[error("材料超出拍摄区,请把整页放入框内 / the page runs off the edge of the photo")]
    PageCut,
    #[error("图像无法读取 / unreadable image: {0}")]
    Unreadable(String),
    #[error(
        "无法压缩到 {cap} 字节以内(最低分辨率下仍为 {bytes} 字节) / cannot meet the size cap of {cap} bytes ({bytes} bytes at the lowest resolution)"
    )]
    CapUnmet { cap: usize, bytes: usize },
    #[error("不支持的格式 / unsupported format: {0}")]
    UnsupportedFormat(String),
    #[error("没有可写入的页面 / no pages to write")]
    NoPages,
    #[error("编码失败 / encoding failed: {0}")]
    Encode(String),
}

/// What the stored image keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Colour,
    Grey,
    /// Black and white, 1 bit per pixel.
    Bw,
}

impl Mode {
    /// `colour`, `grey` or `bw`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Colour => "colour",
            Mode::Grey => "grey",
            Mode::Bw => "bw",
        }
    }
}

/// A stored file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Bmp,
    Tiff,
    Pdf,
}

impl Format {
    /// The format for a file name's extension (`.jpg`/`.jpeg`, `.png`,
    /// `.bmp`, `.tif`/`.tiff`, `.pdf`, any case).
    pub fn from_path(path: &Path) -> Result<Format, DocError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "jpg" | "jpeg" => Ok(Format::Jpeg),
            "png" => Ok(Format::Png),
            "bmp" => Ok(Format::Bmp),
            "tif" | "tiff" => Ok(Format::Tiff),
            "pdf" => Ok(Format::Pdf),
            "" => Err(DocError::UnsupportedFormat(format!(
                "{} (no extension; use .jpg .png .bmp .tif .pdf)",
                path.display()
            ))),
            other => Err(DocError::UnsupportedFormat(format!(
                ".{other} (use .jpg .png .bmp .tif .pdf)"
            ))),
        }
    }

    /// `jpeg`, `png`, `bmp`, `tiff` or `pdf`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Pdf => "pdf",
        }
    }
}

/// The paper the page was taken to be: an ISO A size and its orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paper {
    /// [`PaperSize::A4`], [`PaperSize::A5`] or [`PaperSize::A6`]; never `Auto`.
    pub size: PaperSize,
    pub landscape: bool,
}

impl Paper {
    /// Width and height in millimetres as laid (portrait: width < height).
    pub fn mm(self) -> (f64, f64) {
        let (short, long) = match self.size {
            PaperSize::A5 => (148.0, 210.0),
            PaperSize::A6 => (105.0, 148.0),
            PaperSize::A4 | PaperSize::Auto => (210.0, 297.0),
        };
        if self.landscape {
            (long, short)
        } else {
            (short, long)
        }
    }

    /// The raster at `dpi`: A4 portrait at 150 dpi is 1240×1754.
    pub fn pixels(self, dpi: u32) -> (u32, u32) {
        let (w, h) = self.mm();
        let px = |mm: f64| ((mm / 25.4 * f64::from(dpi)).round() as u32).max(1);
        (px(w), px(h))
    }

    /// `A4`, `A5` or `A6`, with ` landscape` when so.
    pub fn name(self) -> String {
        let s = match self.size {
            PaperSize::A5 => "A5",
            PaperSize::A6 => "A6",
            PaperSize::A4 | PaperSize::Auto => "A4",
        };
        if self.landscape {
            format!("{s} landscape")
        } else {
            s.to_owned()
        }
    }
}

/// How to process and store a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub mode: Mode,
    /// The paper raster to produce. `Auto` takes the orientation from the
    /// page and the size from [`Options::px_per_mm`]; all A sizes share
    /// one aspect ratio, so without a scale `Auto` means A4.
    pub paper: PaperSize,
    /// Raster resolution; 150 by default (kept within 50..=600).
    pub dpi: u32,
    /// The camera's scale on the desk, in photo pixels per millimetre
    /// (from the one-time calibration of the fixed-mount camera).
    pub px_per_mm: Option<f64>,
    /// Cap for colour and grey images in bytes; 300 000 by default.
    pub colour_cap: Option<usize>,
    /// Cap for black-and-white images in bytes; 60 000 by default.
    pub bw_cap: Option<usize>,
    /// JPEG quality tried first; 85 by default.
    pub quality_max: u8,
    /// Lowest JPEG quality before the resolution is lowered; 40 by default.
    pub quality_min: u8,
    /// Lowest resolution a cap may force; 100 by default.
    pub min_dpi: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::Colour,
            paper: PaperSize::A4,
            dpi: 150,
            px_per_mm: None,
            colour_cap: Some(300_000),
            bw_cap: Some(60_000),
            quality_max: 85,
            quality_min: 40,
            min_dpi: 100,
        }
    }
}

impl Options {
    /// Defaults with `mode` and `paper`.
    pub fn new(mode: Mode, paper: PaperSize) -> Self {
        Options {
            mode,
            paper,
            ..Options::default()
        }
    }
}

/// Time one step took.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// `find`, `warp`, `light`, `binarise` or `encode`.
    pub name: &'static str,
    pub ms: f64,
}

#[derive(Debug, Clone)]
enum Page {
    Colour(RgbImage),
    Grey(GrayImage),
    /// The levelled grey page is kept to threshold again at a lower
    /// resolution when a cap needs one.
    Bw {
        grey: GrayImage,
        bits: Bitmap,
    },
}

/// A corrected page, ready to encode.
#[derive(Debug, Clone)]
pub struct Processed {
    pub mode: Mode,
    pub paper: Paper,
    pub dpi: u32,
    /// Where the page was found in the photo.
    pub corners: Quad,
    /// Time per step so far.
    pub steps: Vec<Step>,
    page: Page,
    limits: Limits,
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    colour_cap: Option<usize>,
    bw_cap: Option<usize>,
    quality: (u8, u8),
    min_dpi: u32,
}

impl Processed {
    /// Raster width in pixels.
    pub fn width(&self) -> u32 {
        self.paper.pixels(self.dpi).0
    }

    /// Raster height in pixels.
    pub fn height(&self) -> u32 {
        self.paper.pixels(self.dpi).1
    }

    /// The page as it will be stored, as RGB (for a preview on screen).
    pub fn to_rgb(&self) -> RgbImage {
        match &self.page {
            Page::Colour(c) => c.clone(),
            Page::Grey(g) => image::DynamicImage::ImageLuma8(g.clone()).to_rgb8(),
            Page::Bw { bits, .. } => image::DynamicImage::ImageLuma8(bits.to_grey()).to_rgb8(),
        }
    }

    /// The black-and-white page, in `bw` mode.
    pub fn bitmap(&self) -> Option<&Bitmap> {
        match &self.page {
            Page::Bw { bits, .. } => Some(bits),
            _ => None,
        }
    }

    fn cap(&self) -> Option<usize> {
        match self.mode {
            Mode::Bw => self.limits.bw_cap,
            Mode::Colour | Mode::Grey => self.limits.colour_cap,
        }
    }

    /// The page's pixels at `dpi` (its own, or resampled lower).
    fn raster(&self, dpi: u32) -> Raster<'_> {
        if dpi == self.dpi {
            return match &self.page {
                Page::Colour(c) => Raster::Rgb(Cow::Borrowed(c)),
                Page::Grey(g) => Raster::Grey(Cow::Borrowed(g)),
                Page::Bw { bits, .. } => Raster::Bits(Cow::Borrowed(bits)),
            };
        }
        let (w, h) = self.paper.pixels(dpi);
        let filter = image::imageops::FilterType::Triangle;
        match &self.page {
            Page::Colour(c) => Raster::Rgb(Cow::Owned(image::imageops::resize(c, w, h, filter))),
            Page::Grey(g) => Raster::Grey(Cow::Owned(image::imageops::resize(g, w, h, filter))),
            Page::Bw { grey, .. } => {
                let g = image::imageops::resize(grey, w, h, filter);
                Raster::Bits(Cow::Owned(binarise::binarise(&g, dpi)))
            }
        }
    }

    /// Resolutions to try: the page's own, then 10 % lower each time,
    /// down to the floor.
    fn resolutions(&self) -> Vec<u32> {
        let mut v = vec![self.dpi];
        let mut d = f64::from(self.dpi);
        loop {
            d *= 0.9;
            let r = d.round() as u32;
            if r < self.limits.min_dpi || r == 0 {
                break;
            }
            v.push(r);
        }
        v
    }
}

enum Raster<'a> {
    Rgb(Cow<'a, RgbImage>),
    Grey(Cow<'a, GrayImage>),
    Bits(Cow<'a, Bitmap>),
}

impl Raster<'_> {
    fn pixels(&self) -> Pixels<'_> {
        match self {
            Raster::Rgb(c) => Pixels::Rgb(c.as_raw()),
            Raster::Grey(g) => Pixels::Grey(g.as_raw()),
            Raster::Bits(b) => Pixels::Bits(b),
        }
    }

    fn size(&self) -> (u32, u32) {
        match self {
            Raster::Rgb(c) => c.dimensions(),
            Raster::Grey(g) => g.dimensions(),
            Raster::Bits(b) => (b.width, b.height),
        }
    }
}

/// What [`encode`] did, for logs and `kioskctl doccam --json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub width: u32,
    pub height: u32,
    pub dpi: u32,
    pub bytes: usize,
    pub mode: Mode,
    pub format: Format,
    pub paper: Paper,
    /// JPEG quality, when JPEG coded the image.
    pub quality: Option<u8>,
    /// The cap that applied, if any.
    pub cap: Option<usize>,
    /// The cap forced a resolution below the one asked for.
    pub reduced: bool,
    /// Milliseconds per step, processing and encoding.
    pub steps: Vec<Step>,
}

/// An encoded file and what it took.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub report: Report,
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// Paper size and orientation from the found quadrilateral.
fn resolve_paper(q: &Quad, opts: &Options) -> Paper {
    let across = (geom::dist(q[0], q[1]) + geom::dist(q[3], q[2])) / 2.0;
    let down = (geom::dist(q[0], q[3]) + geom::dist(q[1], q[2])) / 2.0;
    let landscape = across > down;
    let size = match (opts.paper, opts.px_per_mm) {
        (PaperSize::Auto, Some(scale)) if scale > 0.0 => {
            let long_mm = across.max(down) / scale;
            // Nearest on a log scale: neighbours differ by √2.
            [
                (PaperSize::A4, 297.0),
                (PaperSize::A5, 210.0),
                (PaperSize::A6, 148.0),
            ]
            .into_iter()
            .min_by(|a, b| {
                let da = (long_mm / a.1).ln().abs();
                let db = (long_mm / b.1).ln().abs();
                da.total_cmp(&db)
            })
            .map_or(PaperSize::A4, |p| p.0)
        }
        (PaperSize::Auto, _) => PaperSize::A4,
        (p, _) => p,
    };
    Paper { size, landscape }
}

/// Finds, straightens and levels the page in `photo`, in `opts.mode`.
pub fn process(photo: &RgbImage, opts: &Options) -> Result<Processed, DocError> {
    let mut steps = Vec::new();
    let t = Instant::now();
    let corners = find_page(photo)?;
    steps.push(Step {
        name: "find",
        ms: ms(t),
    });
    let paper = resolve_paper(&corners, opts);
    let dpi = opts.dpi.clamp(50, 600);
    let (w, h) = paper.pixels(dpi);
    let broken = || DocError::Encode("perspective map is singular".into());
    let page = match opts.mode {
        Mode::Colour => {
            let t = Instant::now();
            let mut img = warp::warp_rgb(photo, &corners, w, h).ok_or_else(broken)?;
            steps.push(Step {
                name: "warp",
                ms: ms(t),
            });
            let t = Instant::now();
            light::level_rgb(&mut img, dpi);
            steps.push(Step {
                name: "light",
                ms: ms(t),
            });
            Page::Colour(img)
        }
        Mode::Grey | Mode::Bw => {
            let t = Instant::now();
            let mut grey = warp::warp_luma(photo, &corners, w, h).ok_or_else(broken)?;
            steps.push(Step {
                name: "warp",
                ms: ms(t),
            });
            let t = Instant::now();
            light::level_grey(&mut grey, dpi);
            steps.push(Step {
                name: "light",
                ms: ms(t),
            });
            if opts.mode == Mode::Bw {
                let t = Instant::now();
                let bits = binarise::binarise(&grey, dpi);
                steps.push(Step {
                    name: "binarise",
                    ms: ms(t),
                });
                Page::Bw { grey, bits }
            } else {
                Page::Grey(grey)
            }
        }
    };
    Ok(Processed {
        mode: opts.mode,
        paper,
        dpi,
        corners,
        steps,
        page,
        limits: Limits {
            colour_cap: opts.colour_cap,
            bw_cap: opts.bw_cap,
            quality: (
                opts.quality_min.clamp(1, 100),
                opts.quality_max.clamp(opts.quality_min.clamp(1, 100), 100),
            ),
            min_dpi: opts.min_dpi.clamp(1, dpi),
        },
    })
}

/// How the image inside a file is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Jpeg,
    G4,
    Png,
    Bmp,
}

/// One coded image: bytes, dpi, pixels and quality.
struct Coded {
    data: Vec<u8>,
    dpi: u32,
    size: (u32, u32),
    quality: Option<u8>,
}

/// Codes `p` in `coding` within `cap - overhead` bytes (quality first,
/// then resolution).
fn code(
    p: &Processed,
    coding: Coding,
    cap: Option<usize>,
    overhead: usize,
) -> Result<Coded, DocError> {
    let budget = cap.map(|c| c.saturating_sub(overhead));
    let mut smallest = usize::MAX;
    for dpi in p.resolutions() {
        let raster = p.raster(dpi);
        let (w, h) = raster.size();
        let px = raster.pixels();
        let (data, quality) = match coding {
            Coding::Jpeg => match codec::jpeg_capped(px, w, h, dpi, p.limits.quality, budget)? {
                Some((d, q)) => (d, Some(q)),
                None => {
                    smallest = smallest.min(codec::jpeg(px, w, h, dpi, p.limits.quality.0)?.len());
                    continue;
                }
            },
            Coding::G4 => match px {
                Pixels::Bits(b) => (tiff::g4(b), None),
                _ => return Err(DocError::Encode("G4 needs a black-and-white page".into())),
            },
            Coding::Png => (codec::png(px, w, h, dpi)?, None),
            Coding::Bmp => (codec::bmp(px, w, h, dpi)?, None),
        };
        match budget {
            Some(b) if data.len() > b && coding != Coding::Bmp => {
                smallest = smallest.min(data.len());
            }
            _ => {
                return Ok(Coded {
                    data,
                    dpi,
                    size: (w, h),
                    quality,
                });
            }
        }
    }
    Err(DocError::CapUnmet {
        cap: cap.unwrap_or(0),
        bytes: smallest.saturating_add(overhead),
    })
}

/// Space a container adds around the coded image (headers, tags, xref).
const TIFF_OVERHEAD: usize = 512;
const PDF_OVERHEAD: usize = 1024;

/// Stores the page in `format`, within its mode's cap.
pub fn encode(p: &Processed, format: Format) -> Result<Encoded, DocError> {
    let t = Instant::now();
    let cap = match format {
        Format::Bmp => None,
        _ => p.cap(),
    };
    let (bytes, coded) = match format {
        Format::Jpeg => {
            let c = code(p, Coding::Jpeg, cap, 0)?;
            (c.data.clone(), c)
        }
        Format::Png => {
            let c = code(p, Coding::Png, cap, 0)?;
            (c.data.clone(), c)
        }
        Format::Bmp => {
            let c = code(p, Coding::Bmp, None, 0)?;
            (c.data.clone(), c)
        }
        Format::Tiff => {
            let (coding, strip) = match p.mode {
                Mode::Bw => (Coding::G4, tiff::Strip::G4),
                Mode::Grey => (Coding::Jpeg, tiff::Strip::JpegGrey),
                Mode::Colour => (Coding::Jpeg, tiff::Strip::JpegColour),
            };
            let c = code(p, coding, cap, TIFF_OVERHEAD)?;
            (tiff::wrap(&c.data, strip, c.size.0, c.size.1, c.dpi), c)
        }
        Format::Pdf => {
            let (page, c) = pdf_page(p, PDF_OVERHEAD)?;
            (pdf::write(&[page]), c)
        }
    };
    let mut steps = p.steps.clone();
    steps.push(Step {
        name: "encode",
        ms: ms(t),
    });
    let report = Report {
        width: coded.size.0,
        height: coded.size.1,
        dpi: coded.dpi,
        bytes: bytes.len(),
        mode: p.mode,
        format,
        paper: p.paper,
        quality: coded.quality,
        cap,
        reduced: coded.dpi < p.dpi,
        steps,
    };
    Ok(Encoded { bytes, report })
}

/// One PDF page: JPEG for colour and grey, Group 4 for black and white.
fn pdf_page(p: &Processed, overhead: usize) -> Result<(pdf::PdfPage, Coded), DocError> {
    let (w_mm, h_mm) = p.paper.mm();
    let size_pt = (w_mm / 25.4 * 72.0, h_mm / 25.4 * 72.0);
    let (c, image) = match p.mode {
        Mode::Bw => {
            let c = code(p, Coding::G4, p.cap(), overhead)?;
            let img = pdf::PdfImage::G4(c.data.clone());
            (c, img)
        }
        Mode::Colour | Mode::Grey => {
            let c = code(p, Coding::Jpeg, p.cap(), overhead)?;
            let img = pdf::PdfImage::Jpeg {
                data: c.data.clone(),
                colour: p.mode == Mode::Colour,
            };
            (c, img)
        }
    };
    Ok((
        pdf::PdfPage {
            width: c.size.0,
            height: c.size.1,
            size_pt,
            image,
        },
        c,
    ))
}

/// One PDF of a whole material set, a page per processed page, each page
/// within its mode's cap.
pub fn pdf(pages: &[Processed]) -> Result<Vec<u8>, DocError> {
    pdf_with_reports(pages).map(|(bytes, _)| bytes)
}

/// [`pdf`], with a report per page (`bytes` is the page image's share).
pub fn pdf_with_reports(pages: &[Processed]) -> Result<(Vec<u8>, Vec<Report>), DocError> {
    if pages.is_empty() {
        return Err(DocError::NoPages);
    }
    let mut out = Vec::with_capacity(pages.len());
    let mut reports = Vec::with_capacity(pages.len());
    for p in pages {
        let t = Instant::now();
        let (page, c) = pdf_page(p, 0)?;
        let mut steps = p.steps.clone();
        steps.push(Step {
            name: "encode",
            ms: ms(t),
        });
        reports.push(Report {
            width: c.size.0,
            height: c.size.1,
            dpi: c.dpi,
            bytes: c.data.len(),
            mode: p.mode,
            format: Format::Pdf,
            paper: p.paper,
            quality: c.quality,
            cap: p.cap(),
            reduced: c.dpi < p.dpi,
            steps,
        });
        out.push(page);
    }
    Ok((pdf::write(&out), reports))
}

/// Decodes a photo (JPEG, PNG, BMP, TIFF). A JPEG without its end marker
/// is refused as truncated rather than shown half grey.
pub fn decode(bytes: &[u8]) -> Result<RgbImage, DocError> {
    let format = image::guess_format(bytes).map_err(|e| DocError::Unreadable(e.to_string()))?;
    if format == image::ImageFormat::Jpeg && !crate::frame::jpeg_complete(bytes) {
        return Err(DocError::Unreadable(
            "JPEG is truncated (no end-of-image marker)".into(),
        ));
    }
    image::load_from_memory_with_format(bytes, format)
        .map(|i| i.to_rgb8())
        .map_err(|e| DocError::Unreadable(e.to_string()))
}

/// A camera frame as an RGB image (MJPEG frames are decoded; a cut-off
/// one is refused). The conversion is [`crate::frame::rgb`]'s.
pub fn from_frame(frame: &Frame) -> Result<RgbImage, DocError> {
    crate::frame::rgb(frame).map_err(|e| DocError::Unreadable(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn paper_rasters_are_the_iso_sizes() {
        let p = |size, landscape| Paper { size, landscape };
        assert_eq!(p(PaperSize::A4, false).pixels(150), (1240, 1754));
        assert_eq!(p(PaperSize::A4, true).pixels(150), (1754, 1240));
        assert_eq!(p(PaperSize::A5, false).pixels(150), (874, 1240));
        assert_eq!(p(PaperSize::A6, false).pixels(150), (620, 874));
    }

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(Format::from_path(Path::new("a/b.JPG")), Ok(Format::Jpeg));
        assert_eq!(Format::from_path(Path::new("x.tiff")), Ok(Format::Tiff));
        assert_eq!(Format::from_path(Path::new("x.pdf")), Ok(Format::Pdf));
        assert!(matches!(
            Format::from_path(Path::new("x.gif")),
            Err(DocError::UnsupportedFormat(_))
        ));
        assert!(Format::from_path(Path::new("noext")).is_err());
    }

    #[test]
    fn truncated_jpeg_is_detected() {
        assert!(crate::frame::jpeg_complete(&[
            0xFF, 0xD8, 1, 2, 0xFF, 0xD9, 0, 0
        ]));
        assert!(!crate::frame::jpeg_complete(&[0xFF, 0xD8, 1, 2, 3]));
    }
}
