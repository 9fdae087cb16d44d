//! Perspective correction: the page quadrilateral in the photo, resampled
//! onto an exact paper raster.
//!
//! For every output pixel the projective map gives a point in the photo,
//! read bilinearly in 8-bit fixed point (2×2 reads averaged when the
//! photo is much finer than the raster). The map's numerators and
//! denominator are linear along a row, so a row costs one division per
//! pixel and no transcendental work.

use image::{GrayImage, RgbImage};

use super::find::Quad;
use super::geom::{self, Homography};

/// The map from raster coordinates (`w`×`h`) to photo coordinates.
fn raster_to_photo(q: &Quad, w: u32, h: u32) -> Option<Homography> {
    let (w, h) = (f64::from(w), f64::from(h));
    Homography::from_quads([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], *q)
}

/// How many samples per raster pixel along each axis: when the photo has
/// more than 1.8 pixels for each raster pixel, one bilinear read per
/// pixel would skip photo pixels (aliasing: jagged strokes), so 2×2 reads
/// are averaged. Below that (a 12 MP still of an A4 page gives 1.4 at
/// 150 dpi) the single read is as legible to OCR, a few per cent larger
/// as a file, and four times faster.
fn taps(q: &Quad, w: u32, h: u32) -> u32 {
    let across = (geom::dist(q[0], q[1]) + geom::dist(q[3], q[2])) / 2.0 / f64::from(w.max(1));
    let down = (geom::dist(q[0], q[3]) + geom::dist(q[1], q[2])) / 2.0 / f64::from(h.max(1));
    if across.max(down) > 1.8 { 2 } else { 1 }
}

/// Calls `put(i, x0, y0, fx, fy)` for every raster pixel `i` (and every
/// sub-sample of it, `taps`² in all) with the photo pixel to its top-left
/// and 8-bit fractions towards the next one.
fn for_each_source(
    q: &Quad,
    (w, h): (u32, u32),
    (sw, sh): (u32, u32),
    taps: u32,
    mut put: impl FnMut(usize, u32, u32, u32, u32),
) -> Option<()> {
    let m = raster_to_photo(q, w, h)?.matrix();
    let (maxx, maxy) = (f64::from(sw) - 1.001, f64::from(sh) - 1.001);
    let step = 1.0 / f64::from(taps);
    // Sub-sample offsets within a pixel, along x and along y.
    let offs: Vec<f64> = (0..taps).map(|k| (f64::from(k) + 0.5) * step).collect();
    let mut rows: Vec<(f64, f64, f64)> = vec![(0.0, 0.0, 0.0); offs.len()];
    for y in 0..h {
        // Numerators and denominator at the row's first sub-sample column,
        // one triple per sub-sample row; each pixel steps them by m[0], m[3], m[6].
        for (r, dv) in rows.iter_mut().zip(&offs) {
            let v = f64::from(y) + dv;
            let du = offs.first().copied().unwrap_or(0.5);
            *r = (
                m[0] * du + m[1] * v + m[2],
                m[3] * du + m[4] * v + m[5],
                m[6] * du + m[7] * v + m[8],
            );
        }
        let row = (y * w) as usize;
        for x in 0..w as usize {
            // All sub-samples of a pixel together: they share cache lines.
            for r in rows.iter_mut() {
                for k in 0..taps {
                    let s = f64::from(k) * step;
                    let (nx, ny, dn) = (r.0 + s * m[0], r.1 + s * m[3], r.2 + s * m[6]);
                    let inv = 1.0 / dn;
                    // Photo pixel centres sit at +0.5.
                    let px = (nx * inv - 0.5).clamp(0.0, maxx);
                    let py = (ny * inv - 0.5).clamp(0.0, maxy);
                    let (x0, y0) = (px as u32, py as u32);
                    let fx = ((px - f64::from(x0)) * 256.0) as u32;
                    let fy = ((py - f64::from(y0)) * 256.0) as u32;
                    put(row + x, x0, y0, fx, fy);
                }
                r.0 += m[0];
                r.1 += m[3];
                r.2 += m[6];
            }
        }
    }
    Some(())
}

/// Averages the `taps`² sums into bytes.
fn average(acc: Vec<u16>, taps: u32) -> Vec<u8> {
    let n = (taps * taps).max(1);
    acc.into_iter()
        .map(|v| ((u32::from(v) + n / 2) / n) as u8)
        .collect()
}

/// The page in colour on a `w`×`h` raster.
#[allow(clippy::indexing_slicing)] // reason: `top`/`bottom` are 6-byte and `dst` 3-byte slices, `c` < 3
pub(crate) fn warp_rgb(img: &RgbImage, q: &Quad, w: u32, h: u32) -> Option<RgbImage> {
    let (sw, sh) = img.dimensions();
    if sw < 2 || sh < 2 {
        return None;
    }
    let src = img.as_raw();
    let stride = sw as usize * 3;
    let taps = taps(q, w, h);
    let mut acc = vec![0u16; w as usize * h as usize * 3];
    for_each_source(q, (w, h), (sw, sh), taps, |i, x0, y0, fx, fy| {
        let o = y0 as usize * stride + x0 as usize * 3;
        let (Some(top), Some(bottom), Some(dst)) = (
            src.get(o..o + 6),
            src.get(o + stride..o + stride + 6),
            acc.get_mut(i * 3..i * 3 + 3),
        ) else {
            return;
        };
        for c in 0..3 {
            let (a, b) = (u32::from(top[c]), u32::from(top[c + 3]));
            let (cc, d) = (u32::from(bottom[c]), u32::from(bottom[c + 3]));
            let t = a * (256 - fx) + b * fx;
            let u = cc * (256 - fx) + d * fx;
            dst[c] += ((t * (256 - fy) + u * fy + (1 << 15)) >> 16) as u16;
        }
    })?;
    let out = average(acc, taps);
    RgbImage::from_raw(w, h, out)
}

/// The page's luminance (BT.601 weights) on a `w`×`h` raster.
pub(crate) fn warp_luma(img: &RgbImage, q: &Quad, w: u32, h: u32) -> Option<GrayImage> {
    let (sw, sh) = img.dimensions();
    if sw < 2 || sh < 2 {
        return None;
    }
    let src = img.as_raw();
    let stride = sw as usize * 3;
    let luma = |p: &[u8]| -> u32 {
        match p {
            [r, g, b, ..] => (77 * u32::from(*r) + 150 * u32::from(*g) + 29 * u32::from(*b)) >> 8,
            _ => 0,
        }
    };
    let taps = taps(q, w, h);
    let mut acc = vec![0u16; w as usize * h as usize];
    for_each_source(q, (w, h), (sw, sh), taps, |i, x0, y0, fx, fy| {
        let o = y0 as usize * stride + x0 as usize * 3;
        let (Some(top), Some(bottom), Some(dst)) = (
            src.get(o..o + 6),
            src.get(o + stride..o + stride + 6),
            acc.get_mut(i),
        ) else {
            return;
        };
        let (a, b) = (luma(top), luma(top.get(3..).unwrap_or(&[])));
        let (c, d) = (luma(bottom), luma(bottom.get(3..).unwrap_or(&[])));
        let t = a * (256 - fx) + b * fx;
        let u = c * (256 - fx) + d * fx;
        *dst += ((t * (256 - fy) + u * fy + (1 << 15)) >> 16) as u16;
    })?;
    let out = average(acc, taps);
    GrayImage::from_raw(w, h, out)
}
