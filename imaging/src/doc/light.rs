//! Evening out the light: paper becomes white, ink keeps its colour.
//!
//! The paper's brightness is estimated on a grid of blocks about 4 mm
//! across: in each block, the mean colour of its brightest tenth (paper
//! shows between strokes in almost every block). Blocks far darker than
//! their neighbourhood (a photo or a solid fill on the page) take their
//! neighbours' value; the grid is smoothed and interpolated bilinearly,
//! and every pixel is divided by it. A tone curve then sends everything
//! within 12 % of the paper to pure white: the sensor's noise on blank
//! paper is what would otherwise fill the JPEG. The outermost half
//! millimetre is cleared to white: the photo's blur mixes the desk into
//! the paper's very edge, and a dark seam would cost bytes and look torn.

use image::{GrayImage, RgbImage};

/// Paper at or above this fraction of the local background is white.
const WHITE: f32 = 0.88;
/// Ink at or below this fraction becomes black.
const BLACK: f32 = 0.18;
/// Resolution of the ratio lookup table (entries per unit ratio).
const STEPS: usize = 1024;

/// The tone curve, indexed by ratio × `STEPS`, up to ratio 2.
fn curve() -> Vec<u8> {
    (0..=2 * STEPS)
        .map(|i| {
            let t = i as f32 / STEPS as f32;
            let v = ((t - BLACK) / (WHITE - BLACK)).clamp(0.0, 1.0);
            // A slight gamma keeps mid-tones (stamps, photos) from washing out.
            (v.powf(1.15) * 255.0).round() as u8
        })
        .collect()
}

/// Block edge in pixels for a raster at `dpi`.
fn block(dpi: u32) -> usize {
    ((dpi as f32 * 4.0 / 25.4).round() as usize).max(8)
}

/// Per-block background of `c` channels (`c` = 1 or 3) of an interleaved
/// image, after outlier repair and smoothing: `gw`×`gh` entries of `c`.
fn background(data: &[u8], w: usize, h: usize, c: usize, b: usize) -> (Vec<f32>, usize, usize) {
    let (gw, gh) = (w.div_ceil(b), h.div_ceil(b));
    let mut bg = vec![255f32; gw * gh * c];
    let mut lum = vec![255f32; gw * gh];
    let luma = |p: &[u8]| -> u32 {
        match p {
            [r, g, bb, ..] => (77 * u32::from(*r) + 150 * u32::from(*g) + 29 * u32::from(*bb)) >> 8,
            [v, ..] => u32::from(*v),
            [] => 0,
        }
    };
    for by in 0..gh {
        for bx in 0..gw {
            let (x0, y0) = (bx * b, by * b);
            let (x1, y1) = ((x0 + b).min(w), (y0 + b).min(h));
            let mut hist = [0u32; 256];
            for y in y0..y1 {
                let row = data.get((y * w + x0) * c..(y * w + x1) * c).unwrap_or(&[]);
                for p in row.chunks_exact(c) {
                    if let Some(hh) = hist.get_mut(luma(p) as usize) {
                        *hh += 1;
                    }
                }
            }
            let n: u32 = hist.iter().sum();
            let want = (n / 10).max(1);
            let mut seen = 0;
            let mut cut = 255usize;
            for (v, &k) in hist.iter().enumerate().rev() {
                seen += k;
                if seen >= want {
                    cut = v;
                    break;
                }
            }
            let mut sum = [0u64; 3];
            let mut k = 0u64;
            for y in y0..y1 {
                let row = data.get((y * w + x0) * c..(y * w + x1) * c).unwrap_or(&[]);
                for p in row.chunks_exact(c) {
                    if luma(p) as usize >= cut {
                        for (s, &v) in sum.iter_mut().zip(p) {
                            *s += u64::from(v);
                        }
                        k += 1;
                    }
                }
            }
            let g = by * gw + bx;
            for ch in 0..c {
                if let (Some(dst), Some(s)) = (bg.get_mut(g * c + ch), sum.get(ch)) {
                    *dst = (*s as f32 / k.max(1) as f32).max(16.0);
                }
            }
            if let Some(l) = lum.get_mut(g) {
                *l = (cut as f32).max(16.0);
            }
        }
    }
    // Repair blocks much darker than the median of their 5x5 neighbourhood.
    let orig = bg.clone();
    let mut near = Vec::with_capacity(25);
    for by in 0..gh {
        for bx in 0..gw {
            near.clear();
            for y in by.saturating_sub(2)..(by + 3).min(gh) {
                for x in bx.saturating_sub(2)..(bx + 3).min(gw) {
                    near.push((lum.get(y * gw + x).copied().unwrap_or(255.0), y * gw + x));
                }
            }
            near.sort_by(|a, b| a.0.total_cmp(&b.0));
            let Some(&(med, mi)) = near.get(near.len() / 2) else {
                continue;
            };
            let g = by * gw + bx;
            if lum.get(g).copied().unwrap_or(255.0) < 0.72 * med {
                for ch in 0..c {
                    let v = orig.get(mi * c + ch).copied().unwrap_or(255.0);
                    if let Some(d) = bg.get_mut(g * c + ch) {
                        *d = v;
                    }
                }
            }
        }
    }
    // 3x3 mean: the light varies slowly, block noise should not show.
    let rough = bg.clone();
    for by in 0..gh {
        for bx in 0..gw {
            for ch in 0..c {
                let (mut s, mut k) = (0.0, 0.0);
                for y in by.saturating_sub(1)..(by + 2).min(gh) {
                    for x in bx.saturating_sub(1)..(bx + 2).min(gw) {
                        s += rough.get((y * gw + x) * c + ch).copied().unwrap_or(255.0);
                        k += 1.0;
                    }
                }
                if let Some(d) = bg.get_mut((by * gw + bx) * c + ch) {
                    *d = s / k;
                }
            }
        }
    }
    (bg, gw, gh)
}

/// Divides an interleaved image (`c` channels) by its background and
/// applies the tone curve, in place.
fn level(data: &mut [u8], w: usize, h: usize, c: usize, dpi: u32) {
    let b = block(dpi);
    let (bg, gw, gh) = background(data, w, h, c, b);
    // Gains (STEPS / background) per block; interpolated between centres.
    let gain: Vec<f32> = bg.iter().map(|v| STEPS as f32 / v).collect();
    let lut = curve();
    let top = lut.len() - 1;
    // Per column: left block, right block, weight of the right one.
    let cols: Vec<(usize, usize, f32)> = (0..w)
        .map(|x| {
            let g = (x as f32 + 0.5) / b as f32 - 0.5;
            let g0 = g.floor().clamp(0.0, (gw - 1) as f32) as usize;
            let g1 = (g0 + 1).min(gw - 1);
            let t = (g - g0 as f32).clamp(0.0, 1.0);
            (g0, g1, t)
        })
        .collect();
    let edge = ((dpi as f32 * 0.5 / 25.4).round() as usize).max(1);
    let mut row_gain = vec![0f32; gw * c];
    for (y, row) in data.chunks_exact_mut(w * c).enumerate().take(h) {
        let g = (y as f32 + 0.5) / b as f32 - 0.5;
        let g0 = g.floor().clamp(0.0, (gh - 1) as f32) as usize;
        let g1 = (g0 + 1).min(gh - 1);
        let t = (g - g0 as f32).clamp(0.0, 1.0);
        for (i, rg) in row_gain.iter_mut().enumerate() {
            let a = gain.get(g0 * gw * c + i).copied().unwrap_or(4.0);
            let bb = gain.get(g1 * gw * c + i).copied().unwrap_or(4.0);
            *rg = a + (bb - a) * t;
        }
        if y < edge || y + edge >= h {
            row.fill(255);
            continue;
        }
        for (x, (px, &(g0, g1, t))) in row.chunks_exact_mut(c).zip(&cols).enumerate() {
            if x < edge || x + edge >= w {
                px.fill(255);
                continue;
            }
            for (ch, v) in px.iter_mut().enumerate() {
                let a = row_gain.get(g0 * c + ch).copied().unwrap_or(4.0);
                let bb = row_gain.get(g1 * c + ch).copied().unwrap_or(4.0);
                let idx = (f32::from(*v) * (a + (bb - a) * t)) as usize;
                *v = lut.get(idx.min(top)).copied().unwrap_or(255);
            }
        }
    }
}

/// Evens out the light of a colour page raster at `dpi`.
pub(crate) fn level_rgb(img: &mut RgbImage, dpi: u32) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return;
    }
    level(img, w, h, 3, dpi);
}

/// Evens out the light of a grey page raster at `dpi`.
pub(crate) fn level_grey(img: &mut GrayImage, dpi: u32) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return;
    }
    level(img, w, h, 1, dpi);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use image::Luma;

    #[test]
    fn a_shaded_page_becomes_white_and_its_ink_stays_dark() {
        // Paper from 120 (shadow) to 220, with a dark stroke in the shadow.
        let mut img = GrayImage::from_fn(300, 300, |x, _| Luma([120 + (x / 3) as u8]));
        for y in 100..200 {
            for x in 20..24 {
                img.put_pixel(x, y, Luma([40]));
            }
        }
        level_grey(&mut img, 150);
        assert_eq!(img.get_pixel(10, 150).0[0], 255, "shaded paper");
        assert_eq!(img.get_pixel(290, 150).0[0], 255, "lit paper");
        assert!(img.get_pixel(22, 150).0[0] < 100, "ink in the shadow");
    }
}
