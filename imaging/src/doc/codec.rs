//! Single-image encoders: JPEG (jpeg-encoder, optimised Huffman tables,
//! 4:2:0 chroma), PNG (the png crate, so 1-bit pages stay 1-bit) and BMP
//! (written here: 24-bit, 8-bit grey and 1-bit).

use jpeg_encoder::{ColorType, Encoder, PixelDensity, SamplingFactor};

use super::DocError;
use super::binarise::Bitmap;

/// Pixels to encode: interleaved RGB, 8-bit grey, or 1-bit.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pixels<'a> {
    Rgb(&'a [u8]),
    Grey(&'a [u8]),
    Bits(&'a Bitmap),
}

fn enc_err(e: impl std::fmt::Display) -> DocError {
    DocError::Encode(e.to_string())
}

/// Baseline JPEG at `quality`.
pub(crate) fn jpeg(
    px: Pixels<'_>,
    w: u32,
    h: u32,
    dpi: u32,
    quality: u8,
) -> Result<Vec<u8>, DocError> {
    let (w16, h16) = (
        u16::try_from(w).map_err(enc_err)?,
        u16::try_from(h).map_err(enc_err)?,
    );
    let mut out = Vec::with_capacity(256 * 1024);
    let mut enc = Encoder::new(&mut out, quality.clamp(1, 100));
    enc.set_optimized_huffman_tables(true);
    enc.set_density(PixelDensity::dpi(u16::try_from(dpi).unwrap_or(150)));
    match px {
        Pixels::Rgb(d) => {
            enc.set_sampling_factor(SamplingFactor::R_4_2_0);
            enc.encode(d, w16, h16, ColorType::Rgb).map_err(enc_err)?;
        }
        Pixels::Grey(d) => enc.encode(d, w16, h16, ColorType::Luma).map_err(enc_err)?,
        Pixels::Bits(b) => {
            let g = b.to_grey();
            enc.encode(g.as_raw(), w16, h16, ColorType::Luma)
                .map_err(enc_err)?;
        }
    }
    Ok(out)
}

/// The best JPEG quality in `min..=max` whose file is at most `cap` bytes:
/// `(bytes, quality)`, or `None` when even `min` is too big. Tries `max`
/// first (ordinary pages fit at once), then narrows the bracket, guessing
/// from the sizes seen (file size is close to exponential in quality),
/// and stops within two steps of the best or at 95 % of the cap: each
/// try of an A4 page costs tens of milliseconds.
pub(crate) fn jpeg_capped(
    px: Pixels<'_>,
    w: u32,
    h: u32,
    dpi: u32,
    (min, max): (u8, u8),
    cap: Option<usize>,
) -> Result<Option<(Vec<u8>, u8)>, DocError> {
    let first = jpeg(px, w, h, dpi, max)?;
    let Some(cap) = cap else {
        return Ok(Some((first, max)));
    };
    if first.len() <= cap {
        return Ok(Some((first, max)));
    }
    let low = jpeg(px, w, h, dpi, min)?;
    if low.len() > cap {
        return Ok(None);
    }
    // Invariant: `lo` fits (size `lo_size`), `hi` does not.
    let (mut lo, mut lo_bytes) = (min, low);
    let (mut hi, mut hi_size) = (max, first.len());
    // Close enough: within two quality steps, or using 95 % of the cap.
    while hi - lo > 2 && (lo_bytes.len() as f64) < 0.95 * cap as f64 {
        let (ls, hs) = ((lo_bytes.len() as f64).ln(), (hi_size as f64).ln());
        let target = (cap as f64 * 0.98).ln();
        let guess = f64::from(lo) + (target - ls) / (hs - ls).max(1e-6) * f64::from(hi - lo);
        let q = (guess.round() as u8).clamp(lo + 1, hi - 1);
        let b = jpeg(px, w, h, dpi, q)?;
        if b.len() <= cap {
            (lo, lo_bytes) = (q, b);
        } else {
            (hi, hi_size) = (q, b.len());
        }
    }
    Ok(Some((lo_bytes, lo)))
}

/// PNG: RGB, grey, or 1-bit grey (black 0, white 1), with the resolution.
pub(crate) fn png(px: Pixels<'_>, w: u32, h: u32, dpi: u32) -> Result<Vec<u8>, DocError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: ppm,
        yppu: ppm,
        unit: png::Unit::Meter,
    }));
    enc.set_compression(png::Compression::High);
    let packed;
    let data: &[u8] = match px {
        Pixels::Rgb(d) => {
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            d
        }
        Pixels::Grey(d) => {
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Eight);
            d
        }
        Pixels::Bits(b) => {
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::One);
            packed = b.packed(0);
            &packed
        }
    };
    let mut writer = enc.write_header().map_err(enc_err)?;
    writer.write_image_data(data).map_err(enc_err)?;
    writer.finish().map_err(enc_err)?;
    Ok(out)
}

/// Windows BMP (BITMAPINFOHEADER, bottom-up rows padded to 4 bytes):
/// 24-bit colour, 8-bit grey with a grey palette, or 1-bit black/white.
pub(crate) fn bmp(px: Pixels<'_>, w: u32, h: u32, dpi: u32) -> Result<Vec<u8>, DocError> {
    let (bits, palette): (u16, Vec<u8>) = match px {
        Pixels::Rgb(_) => (24, Vec::new()),
        Pixels::Grey(_) => (8, (0..=255u8).flat_map(|v| [v, v, v, 0]).collect()),
        Pixels::Bits(_) => (1, vec![0, 0, 0, 0, 255, 255, 255, 0]),
    };
    let row_bytes = (w as usize * usize::from(bits)).div_ceil(32) * 4;
    let image_size = row_bytes * h as usize;
    let offset = 14 + 40 + palette.len();
    let file_size = u32::try_from(offset + image_size).map_err(enc_err)?;
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    let mut out = Vec::with_capacity(offset + image_size);
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&file_size.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(offset as u32).to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(w as i32).to_le_bytes());
    out.extend_from_slice(&(h as i32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // BI_RGB
    out.extend_from_slice(&(image_size as u32).to_le_bytes());
    out.extend_from_slice(&ppm.to_le_bytes());
    out.extend_from_slice(&ppm.to_le_bytes());
    let colours = (palette.len() / 4) as u32;
    out.extend_from_slice(&colours.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&palette);
    let packed = match px {
        Pixels::Bits(b) => b.packed(0),
        _ => Vec::new(),
    };
    let (wu, pad) = (w as usize, row_bytes);
    for y in (0..h as usize).rev() {
        let start = out.len();
        match px {
            Pixels::Rgb(d) => {
                for p in d
                    .get(y * wu * 3..(y + 1) * wu * 3)
                    .unwrap_or(&[])
                    .chunks_exact(3)
                {
                    if let [r, g, b] = p {
                        out.extend_from_slice(&[*b, *g, *r]);
                    }
                }
            }
            Pixels::Grey(d) => out.extend_from_slice(d.get(y * wu..(y + 1) * wu).unwrap_or(&[])),
            Pixels::Bits(_) => {
                let rb = wu.div_ceil(8);
                out.extend_from_slice(packed.get(y * rb..(y + 1) * rb).unwrap_or(&[]));
            }
        }
        out.resize(start + pad, 0);
    }
    Ok(out)
}
