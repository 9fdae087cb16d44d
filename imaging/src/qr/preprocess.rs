//! Getting a grey (luma) picture out of a frame or a file, and the few
//! cheap transforms the decoding ladder tries when the plain picture
//! gives nothing.
//!
//! All buffers are 8-bit luma, row-major, `width * height` bytes.

/// An owned luma picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Luma {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

/// Luma of packed RGB (`3 * width * height` bytes) with the BT.601
/// weights in fixed point; `None` when the buffer is too short.
pub fn luma_from_rgb(rgb: &[u8], width: u32, height: u32) -> Option<Luma> {
    let n = (width as usize).checked_mul(height as usize)?;
    let rgb = rgb.get(..n.checked_mul(3)?)?;
    let data = rgb
        .chunks_exact(3)
        .map(|p| match p {
            [r, g, b] => {
                ((77 * u32::from(*r) + 150 * u32::from(*g) + 29 * u32::from(*b)) >> 8) as u8
            }
            _ => 0,
        })
        .collect();
    Some(Luma {
        width,
        height,
        data,
    })
}

/// Decodes a JPEG (or one MJPEG frame) straight to luma: the Y plane
/// only, chroma is never upsampled or converted, which is most of the
/// cost of a full decode.
pub fn luma_from_jpeg(jpeg: &[u8]) -> Result<Luma, String> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(jpeg), options);
    dec.decode_headers().map_err(|e| e.to_string())?;
    let (w, h) = dec.dimensions().ok_or("no JPEG header")?;
    if w as u64 * h as u64 > crate::frame::MAX_PIXELS {
        return Err(format!("{w}x{h} is too large"));
    }
    let data = dec.decode().map_err(|e| e.to_string())?;
    let (width, height) = (
        u32::try_from(w).map_err(|e| e.to_string())?,
        u32::try_from(h).map_err(|e| e.to_string())?,
    );
    if data.len() != w * h {
        return Err(format!(
            "{} luma bytes for {w}x{h} (not a greyscale output)",
            data.len()
        ));
    }
    Ok(Luma {
        width,
        height,
        data,
    })
}

/// Half size by 2x2 averaging. The box filter is what kills the moiré of
/// a phone screen's pixel grid (its period is near two camera pixels)
/// and joins the broken modules of a blurred, noisy code; it also makes
/// the finder patterns of a very large code small enough to be found.
pub fn downscale2(src: &[u8], width: u32, height: u32) -> Luma {
    let (w, h) = (width as usize / 2, height as usize / 2);
    let stride = width as usize;
    let mut data = Vec::with_capacity(w * h);
    for y in 0..h {
        let (r0, r1) = (
            src.get(2 * y * stride..(2 * y + 1) * stride),
            src.get((2 * y + 1) * stride..(2 * y + 2) * stride),
        );
        let (Some(r0), Some(r1)) = (r0, r1) else {
            break;
        };
        data.extend(
            r0.chunks_exact(2)
                .zip(r1.chunks_exact(2))
                .take(w)
                .map(|(a, b)| match (a, b) {
                    ([a0, a1], [b0, b1]) => {
                        ((u16::from(*a0) + u16::from(*a1) + u16::from(*b0) + u16::from(*b1) + 2)
                            / 4) as u8
                    }
                    _ => 0,
                }),
        );
    }
    Luma {
        width: w as u32,
        height: (data.len() / w.max(1)) as u32,
        data,
    }
}

/// The grey levels below which 1 % and above which 1 % of the pixels
/// lie: the picture's usable range, robust to a few specks and a glare
/// spot.
pub fn percentiles(src: &[u8]) -> (u8, u8) {
    let mut hist = [0usize; 256];
    // Every 4th pixel is plenty for a histogram and 4x cheaper.
    for v in src.iter().step_by(4) {
        if let Some(h) = hist.get_mut(usize::from(*v)) {
            *h += 1;
        }
    }
    let total: usize = hist.iter().sum();
    let cut = total / 100;
    let mut acc = 0;
    let mut lo = 0u8;
    for (i, n) in hist.iter().enumerate() {
        acc += n;
        if acc > cut {
            lo = i as u8;
            break;
        }
    }
    acc = 0;
    let mut hi = 255u8;
    for (i, n) in hist.iter().enumerate().rev() {
        acc += n;
        if acc > cut {
            hi = i as u8;
            break;
        }
    }
    (lo, hi.max(lo))
}

/// Linear stretch of `lo..=hi` to the full `0..=255`. A washed-out code
/// (a dim phone screen, faded thermal print) has so little local range
/// that the binariser takes it for flat background; stretched, it does
/// not.
pub fn stretch(src: &[u8], lo: u8, hi: u8) -> Vec<u8> {
    let range = i32::from(hi.saturating_sub(lo)).max(1);
    let lut: Vec<u8> = (0..=255i32)
        .map(|v| (((v - i32::from(lo)) * 255 + range / 2) / range).clamp(0, 255) as u8)
        .collect();
    src.iter()
        .map(|v| lut.get(usize::from(*v)).copied().unwrap_or(0))
        .collect()
}

/// Local-mean binarisation to a 0/255 picture: a pixel is dark when it
/// is darker than the mean of the `2 * radius + 1` square around it by
/// more than `bias` grey levels. Unlike rxing's hybrid binariser it has no
/// minimum local range, so a code whose dark modules are only a dozen
/// grey levels below the light ones (a dim phone screen, a faded receipt)
/// still comes out; flat areas turn to speckle, which the finder-pattern
/// search ignores.
#[allow(
    clippy::indexing_slicing,
    reason = "all indices are below w*h or (w+1)*(h+1), checked at the top"
)]
pub fn local_threshold(src: &[u8], width: u32, height: u32, radius: u32, bias: u8) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || src.len() < w * h {
        return Vec::new();
    }
    // Integral image with a zero row and column in front.
    let iw = w + 1;
    let mut integral = vec![0u32; iw * (h + 1)];
    for y in 0..h {
        let row = &src[y * w..(y + 1) * w];
        let (above, below) = integral.split_at_mut((y + 1) * iw);
        let above = &above[y * iw..];
        let below = &mut below[..iw];
        let mut acc = 0u32;
        for x in 0..w {
            acc += u32::from(row[x]);
            below[x + 1] = above[x + 1] + acc;
        }
    }
    let r = radius as usize;
    let bias = u32::from(bias);
    let mut out = vec![255u8; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        let (top, bottom) = (
            &integral[y0 * iw..(y0 + 1) * iw],
            &integral[y1 * iw..(y1 + 1) * iw],
        );
        let rows = (y1 - y0) as u32;
        let src_row = &src[y * w..(y + 1) * w];
        let out_row = &mut out[y * w..(y + 1) * w];
        for x in 0..w {
            let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
            let sum = bottom[x1] + top[x0] - bottom[x0] - top[x1];
            let n = (x1 - x0) as u32 * rows;
            if (u32::from(src_row[x]) + bias) * n < sum {
                out_row[x] = 0;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    #[test]
    fn rgb_white_and_black() {
        let l = luma_from_rgb(&[255, 255, 255, 0, 0, 0], 2, 1).unwrap();
        assert_eq!(l.data, vec![255, 0]);
        assert!(luma_from_rgb(&[1, 2], 1, 1).is_none());
    }

    #[test]
    fn downscale_averages_blocks() {
        let src = [0, 255, 7, 9, 255, 0, 9, 7, 1, 1, 1, 1];
        let d = downscale2(&src, 4, 3);
        assert_eq!((d.width, d.height), (2, 1));
        assert_eq!(d.data, vec![128, 8]);
    }

    #[test]
    fn local_threshold_finds_faint_marks() {
        // A 10-level dark square on a 230 background.
        let (w, h) = (60u32, 60u32);
        let src: Vec<u8> = (0..w * h)
            .map(|i| {
                if (20..30).contains(&(i % w)) && (20..30).contains(&(i / w)) {
                    220
                } else {
                    230
                }
            })
            .collect();
        let b = local_threshold(&src, w, h, 12, 2);
        assert_eq!(b[(25 * w + 25) as usize], 0);
        assert_eq!(b[(5 * w + 5) as usize], 255);
    }

    #[test]
    fn stretch_spreads_a_narrow_range() {
        let src: Vec<u8> = (0..1000).map(|i| 100 + (i % 30) as u8).collect();
        let (lo, hi) = percentiles(&src);
        assert!(lo <= 101 && hi >= 128, "{lo} {hi}");
        let s = stretch(&src, lo, hi);
        assert_eq!(*s.iter().min().unwrap(), 0);
        assert_eq!(*s.iter().max().unwrap(), 255);
    }
}
