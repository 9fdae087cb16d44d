//! Image operations the scenes are built from: placing a flat picture in
//! perspective, blur, noise, uneven light, shadows, glare, JPEG loss, a
//! desk to lay things on, and text in the project's font.
//!
//! All operations work on 8-bit RGB images and are deterministic for a
//! given seed, so a scene can be made again from its parameters.
// reason: the indexing here is into fixed-size arrays (3x3 matrices, the
// 8x9 linear system, RGB triples) by constants or loop-bounded indices.
#![allow(clippy::indexing_slicing)]

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular.otf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Bold.otf");

/// A seeded random generator: the same seed makes the same scene.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A plane-to-plane projective map (3x3 matrix, row-major, `m[8]` = 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography {
    m: [f64; 9],
}

impl Homography {
    /// The map taking each of the four `src` points to the matching `dst`
    /// point; `None` when three points are collinear.
    pub fn from_quads(src: [(f64, f64); 4], dst: [(f64, f64); 4]) -> Option<Self> {
        // Eight equations in h0..h7 (h8 = 1), solved by Gaussian elimination.
        let mut a = [[0.0f64; 9]; 8];
        for (i, ((x, y), (u, v))) in src.iter().zip(dst.iter()).enumerate() {
            a[2 * i] = [*x, *y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, *u];
            a[2 * i + 1] = [0.0, 0.0, 0.0, *x, *y, 1.0, -v * x, -v * y, *v];
        }
        let h = solve8(a)?;
        Some(Self {
            m: [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0],
        })
    }

    /// Maps one point.
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.m;
        let w = m[6] * x + m[7] * y + m[8];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        )
    }

    /// The inverse map; `None` when singular.
    pub fn inverse(&self) -> Option<Self> {
        let m = &self.m;
        let c00 = m[4] * m[8] - m[5] * m[7];
        let c01 = m[5] * m[6] - m[3] * m[8];
        let c02 = m[3] * m[7] - m[4] * m[6];
        let det = m[0] * c00 + m[1] * c01 + m[2] * c02;
        if det.abs() < 1e-12 {
            return None;
        }
        let inv = [
            c00,
            m[2] * m[7] - m[1] * m[8],
            m[1] * m[5] - m[2] * m[4],
            c01,
            m[0] * m[8] - m[2] * m[6],
            m[2] * m[3] - m[0] * m[5],
            c02,
            m[1] * m[6] - m[0] * m[7],
            m[0] * m[4] - m[1] * m[3],
        ];
        let s = inv[8];
        let s = if s.abs() < 1e-12 { det } else { s };
        Some(Self {
            m: inv.map(|v| v / s),
        })
    }
}

fn solve8(mut a: [[f64; 9]; 8]) -> Option<[f64; 8]> {
    for col in 0..8 {
        let pivot = (col..8).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..8 {
            if row != col {
                let f = a[row][col] / a[col][col];
                let pivot_row = a[col];
                for (v, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut x = [0.0; 8];
    for (i, xi) in x.iter_mut().enumerate() {
        *xi = a[i][8] / a[i][i];
    }
    Some(x)
}

fn sample(src: &RgbImage, x: f64, y: f64) -> Option<[f32; 3]> {
    let (w, h) = (f64::from(src.width()), f64::from(src.height()));
    if x < -0.5 || y < -0.5 || x > w - 0.5 || y > h - 0.5 {
        return None;
    }
    let x = x.clamp(0.0, w - 1.0);
    let y = y.clamp(0.0, h - 1.0);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
    let (x0, y0) = (x0 as u32, y0 as u32);
    let x1 = (x0 + 1).min(src.width() - 1);
    let y1 = (y0 + 1).min(src.height() - 1);
    let p = |x: u32, y: u32| src.get_pixel(x, y).0.map(f32::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    let mut out = [0.0; 3];
    for (i, o) in out.iter_mut().enumerate() {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bottom = c[i] + (d[i] - c[i]) * fx;
        *o = top + (bottom - top) * fy;
    }
    Some(out)
}

/// Draws `src` into `dst` so that its corners (top-left, top-right,
/// bottom-right, bottom-left) land on `corners`, with bilinear sampling.
/// Nothing is drawn when the corners are degenerate.
pub fn place(dst: &mut RgbImage, src: &RgbImage, corners: [(f64, f64); 4]) {
    if src.width() == 0 || src.height() == 0 {
        return;
    }
    let (w, h) = (f64::from(src.width()), f64::from(src.height()));
    let src_quad = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let Some(back) = Homography::from_quads(corners, src_quad) else {
        return;
    };
    let min_x = corners
        .iter()
        .map(|c| c.0)
        .fold(f64::MAX, f64::min)
        .floor()
        .max(0.0) as u32;
    let min_y = corners
        .iter()
        .map(|c| c.1)
        .fold(f64::MAX, f64::min)
        .floor()
        .max(0.0) as u32;
    let max_x = corners
        .iter()
        .map(|c| c.0)
        .fold(f64::MIN, f64::max)
        .ceil()
        .min(f64::from(dst.width())) as u32;
    let max_y = corners
        .iter()
        .map(|c| c.1)
        .fold(f64::MIN, f64::max)
        .ceil()
        .min(f64::from(dst.height())) as u32;
    for y in min_y..max_y {
        for x in min_x..max_x {
            let (sx, sy) = back.apply(f64::from(x) + 0.5, f64::from(y) + 0.5);
            if let Some(c) = sample(src, sx - 0.5, sy - 0.5) {
                dst.put_pixel(x, y, Rgb(c.map(|v| v.round().clamp(0.0, 255.0) as u8)));
            }
        }
    }
}

fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let radius = (sigma * 3.0).ceil().max(1.0) as i32;
    let mut k: Vec<f32> = (-radius..=radius)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    for v in &mut k {
        *v /= sum;
    }
    k
}

/// A separable Gaussian blur; `sigma` ≤ 0 returns a copy.
pub fn blur(img: &RgbImage, sigma: f32) -> RgbImage {
    if sigma <= 0.0 || img.width() == 0 || img.height() == 0 {
        return img.clone();
    }
    let k = gaussian_kernel(sigma);
    let r = (k.len() / 2) as i64;
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let src = img.as_raw();
    let mut tmp = vec![0f32; src.len()];
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0f32; 3];
            for (i, kv) in k.iter().enumerate() {
                let sx = (x + i as i64 - r).clamp(0, w - 1);
                let o = ((y * w + sx) * 3) as usize;
                for (c, a) in acc.iter_mut().enumerate() {
                    *a += kv * f32::from(src.get(o + c).copied().unwrap_or(0));
                }
            }
            let o = ((y * w + x) * 3) as usize;
            if let Some(t) = tmp.get_mut(o..o + 3) {
                t.copy_from_slice(&acc);
            }
        }
    }
    let mut out = RgbImage::new(img.width(), img.height());
    let dst: &mut [u8] = &mut out;
    for y in 0..h {
        for x in 0..w {
            let mut acc = [0f32; 3];
            for (i, kv) in k.iter().enumerate() {
                let sy = (y + i as i64 - r).clamp(0, h - 1);
                let o = ((sy * w + x) * 3) as usize;
                for (c, a) in acc.iter_mut().enumerate() {
                    *a += kv * tmp.get(o + c).copied().unwrap_or(0.0);
                }
            }
            let o = ((y * w + x) * 3) as usize;
            if let Some(d) = dst.get_mut(o..o + 3) {
                for (dv, a) in d.iter_mut().zip(acc) {
                    *dv = a.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    out
}

/// Adds Gaussian-like sensor noise of standard deviation `sigma` (in
/// grey levels), the same on all three channels plus a little colour.
pub fn noise(img: &mut RgbImage, sigma: f32, rng: &mut StdRng) {
    if sigma <= 0.0 {
        return;
    }
    for p in img.pixels_mut() {
        // Sum of uniforms: cheap and close enough to a normal distribution.
        let n: f32 = (0..4).map(|_| rng.random::<f32>() - 0.5).sum::<f32>() * sigma * 1.73;
        for c in &mut p.0 {
            let chroma = (rng.random::<f32>() - 0.5) * sigma * 0.3;
            *c = (f32::from(*c) + n + chroma).round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// Uneven light: multiplies every pixel by a factor that runs linearly
/// from `from` to `to` across the image in the direction `angle_deg`
/// (0 = left to right, 90 = top to bottom).
pub fn light_gradient(img: &mut RgbImage, from: f32, to: f32, angle_deg: f32) {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let (dx, dy) = (angle_deg.to_radians().cos(), angle_deg.to_radians().sin());
    // Projections of the four corners give the range to normalise over.
    let proj = |x: f32, y: f32| x * dx + y * dy;
    let ps = [proj(0.0, 0.0), proj(w, 0.0), proj(0.0, h), proj(w, h)];
    let lo = ps.iter().copied().fold(f32::MAX, f32::min);
    let hi = ps.iter().copied().fold(f32::MIN, f32::max);
    let span = (hi - lo).max(1.0);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let t = (proj(x as f32, y as f32) - lo) / span;
        let f = from + (to - from) * t;
        for c in &mut p.0 {
            *c = (f32::from(*c) * f).round().clamp(0.0, 255.0) as u8;
        }
    }
}

fn inside(poly: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut odd = false;
    let n = poly.len();
    for i in 0..n {
        let (Some(a), Some(b)) = (poly.get(i), poly.get((i + n - 1) % n)) else {
            continue;
        };
        if (a.1 > y) != (b.1 > y) && x < (b.0 - a.0) * (y - a.1) / (b.1 - a.1) + a.0 {
            odd = !odd;
        }
    }
    odd
}

fn distance_to_edges(poly: &[(f64, f64)], x: f64, y: f64) -> f64 {
    let n = poly.len();
    let mut best = f64::MAX;
    for i in 0..n {
        let (Some(a), Some(b)) = (poly.get(i), poly.get((i + 1) % n)) else {
            continue;
        };
        let (vx, vy) = (b.0 - a.0, b.1 - a.1);
        let len2 = vx * vx + vy * vy;
        let t = if len2 > 0.0 {
            (((x - a.0) * vx + (y - a.1) * vy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (px, py) = (a.0 + t * vx - x, a.1 + t * vy - y);
        best = best.min((px * px + py * py).sqrt());
    }
    best
}

/// Darkens the inside of `polygon` by `strength` (0..1), fading in over
/// `softness` pixels from its edge: the shadow of a hand or the camera arm.
pub fn shadow(img: &mut RgbImage, polygon: &[(f64, f64)], strength: f32, softness: f32) {
    if polygon.len() < 3 {
        return;
    }
    let soft = f64::from(softness.max(0.0));
    let min_x = polygon.iter().map(|p| p.0).fold(f64::MAX, f64::min) - soft;
    let max_x = polygon.iter().map(|p| p.0).fold(f64::MIN, f64::max) + soft;
    let min_y = polygon.iter().map(|p| p.1).fold(f64::MAX, f64::min) - soft;
    let max_y = polygon.iter().map(|p| p.1).fold(f64::MIN, f64::max) + soft;
    let x0 = min_x.max(0.0) as u32;
    let y0 = min_y.max(0.0) as u32;
    let x1 = (max_x.max(0.0) as u32).min(img.width());
    let y1 = (max_y.max(0.0) as u32).min(img.height());
    for y in y0..y1 {
        for x in x0..x1 {
            let (fx, fy) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
            let d = distance_to_edges(polygon, fx, fy);
            let signed = if inside(polygon, fx, fy) { d } else { -d };
            let t = if soft > 0.0 {
                ((signed + soft / 2.0) / soft).clamp(0.0, 1.0)
            } else if signed >= 0.0 {
                1.0
            } else {
                0.0
            };
            if t > 0.0 {
                let f = 1.0 - strength.clamp(0.0, 1.0) * t as f32;
                let p = img.get_pixel_mut(x, y);
                for c in &mut p.0 {
                    *c = (f32::from(*c) * f).round() as u8;
                }
            }
        }
    }
}

/// A bright reflection: adds white light falling off from `centre` over
/// `radius` pixels, `strength` 0..1 at the centre.
pub fn glare(img: &mut RgbImage, centre: (f64, f64), radius: f64, strength: f32) {
    if radius <= 0.0 {
        return;
    }
    let x0 = (centre.0 - radius).max(0.0) as u32;
    let y0 = (centre.1 - radius).max(0.0) as u32;
    let x1 = ((centre.0 + radius).max(0.0) as u32).min(img.width());
    let y1 = ((centre.1 + radius).max(0.0) as u32).min(img.height());
    for y in y0..y1 {
        for x in x0..x1 {
            let dx = f64::from(x) + 0.5 - centre.0;
            let dy = f64::from(y) + 0.5 - centre.1;
            let d = (dx * dx + dy * dy).sqrt() / radius;
            if d < 1.0 {
                let a = strength.clamp(0.0, 1.0) * (1.0 - d * d) as f32;
                let p = img.get_pixel_mut(x, y);
                for c in &mut p.0 {
                    *c = (f32::from(*c) + (255.0 - f32::from(*c)) * a).round() as u8;
                }
            }
        }
    }
}

/// The image after a round trip through JPEG at `quality` (1..=100): the
/// block artefacts a camera's own compression leaves.
pub fn jpeg_roundtrip(img: &RgbImage, quality: u8) -> RgbImage {
    let mut buf = Vec::new();
    let enc = JpegEncoder::new_with_quality(&mut buf, quality.clamp(1, 100));
    if img.write_with_encoder(enc).is_err() {
        return img.clone();
    }
    match image::load_from_memory_with_format(&buf, image::ImageFormat::Jpeg) {
        Ok(i) => i.to_rgb8(),
        Err(_) => img.clone(),
    }
}

/// A wooden desk top seen from above: warm brown with grain.
pub fn desk(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut r = rng(seed);
    let phase: f32 = r.random::<f32>() * std::f32::consts::TAU;
    let freq: f32 = 0.02 + r.random::<f32>() * 0.01;
    let tint: f32 = r.random::<f32>() * 20.0;
    RgbImage::from_fn(width, height, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let grain = (yf * freq + (xf * 0.003 + phase).sin() * 4.0).sin() * 0.5 + 0.5;
        let fine = ((yf * 0.31 + xf * 0.011).sin() * 0.5 + 0.5) * 0.3;
        let v = 0.75 + 0.2 * grain + 0.05 * fine;
        Rgb([
            (140.0 * v + tint).min(255.0) as u8,
            (98.0 * v + tint * 0.5).min(255.0) as u8,
            (62.0 * v) as u8,
        ])
    })
}

/// Fills a rectangle, clipped to the image.
pub fn fill_rect(img: &mut RgbImage, x: i64, y: i64, w: u32, h: u32, colour: Rgb<u8>) {
    let x0 = x.max(0) as u32;
    let y0 = y.max(0) as u32;
    let x1 = (x + i64::from(w)).clamp(0, i64::from(img.width())) as u32;
    let y1 = (y + i64::from(h)).clamp(0, i64::from(img.height())) as u32;
    for yy in y0..y1 {
        for xx in x0..x1 {
            img.put_pixel(xx, yy, colour);
        }
    }
}

fn font(bold: bool) -> Option<FontRef<'static>> {
    FontRef::try_from_slice(if bold { BOLD } else { REGULAR }).ok()
}

/// ab_glyph scales by the font's ascent-to-descent height; the scenes
/// speak of pixels per em, as typographers and printers do.
fn em_scale(f: &FontRef<'_>, px: f32) -> PxScale {
    let factor = f
        .units_per_em()
        .map(|u| f.height_unscaled() / u)
        .unwrap_or(1.0);
    PxScale::from(px * factor)
}

/// The width in pixels `text` takes at `px` pixels per em.
pub fn text_width(px: f32, text: &str, bold: bool) -> f32 {
    let Some(f) = font(bold) else {
        return 0.0;
    };
    let scaled = f.as_scaled(em_scale(&f, px));
    text.chars().map(|c| scaled.h_advance(f.glyph_id(c))).sum()
}

/// Draws one line of `text` with its top-left at (`x`, `y`), `px` pixels
/// per em, blended onto the image. Returns the advance width. Characters
/// outside the font (a GB2312 subset) are skipped with their advance.
pub fn draw_text(
    img: &mut RgbImage,
    x: f32,
    y: f32,
    px: f32,
    text: &str,
    colour: Rgb<u8>,
    bold: bool,
) -> f32 {
    let Some(f) = font(bold) else {
        return 0.0;
    };
    let scale = em_scale(&f, px);
    let scaled = f.as_scaled(scale);
    let baseline = y + scaled.ascent();
    let mut pen = x;
    let (w, h) = (img.width() as i64, img.height() as i64);
    for c in text.chars() {
        let gid = f.glyph_id(c);
        let glyph = gid.with_scale_and_position(scale, point(pen, baseline));
        if let Some(outlined) = f.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                let px_x = b.min.x as i64 + i64::from(gx);
                let px_y = b.min.y as i64 + i64::from(gy);
                if px_x >= 0 && px_y >= 0 && px_x < w && px_y < h {
                    let p = img.get_pixel_mut(px_x as u32, px_y as u32);
                    let a = cov.clamp(0.0, 1.0);
                    for (d, s) in p.0.iter_mut().zip(colour.0) {
                        *d = (f32::from(*d) * (1.0 - a) + f32::from(s) * a).round() as u8;
                    }
                }
            });
        }
        pen += scaled.h_advance(gid);
    }
    pen - x
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn homography_maps_corners_and_inverts() {
        let src = [(0.0, 0.0), (100.0, 0.0), (100.0, 50.0), (0.0, 50.0)];
        let dst = [(10.0, 20.0), (210.0, 5.0), (190.0, 140.0), (30.0, 120.0)];
        let h = Homography::from_quads(src, dst).unwrap();
        for (s, d) in src.iter().zip(dst) {
            let (x, y) = h.apply(s.0, s.1);
            assert!((x - d.0).abs() < 1e-6 && (y - d.1).abs() < 1e-6);
        }
        let inv = h.inverse().unwrap();
        let (x, y) = inv.apply(190.0, 140.0);
        assert!((x - 100.0).abs() < 1e-6 && (y - 50.0).abs() < 1e-6);
        let line = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)];
        assert!(Homography::from_quads(line, dst).is_none());
    }

    #[test]
    fn place_puts_the_picture_inside_its_corners_only() {
        let mut dst = RgbImage::from_pixel(200, 200, Rgb([0, 0, 0]));
        let src = RgbImage::from_pixel(50, 50, Rgb([255, 255, 255]));
        place(
            &mut dst,
            &src,
            [(50.0, 50.0), (150.0, 60.0), (140.0, 150.0), (60.0, 140.0)],
        );
        assert_eq!(dst.get_pixel(100, 100).0, [255, 255, 255]);
        assert_eq!(dst.get_pixel(10, 10).0, [0, 0, 0]);
        assert_eq!(dst.get_pixel(190, 190).0, [0, 0, 0]);
    }

    #[test]
    fn text_is_drawn_in_the_chinese_font() {
        let mut img = RgbImage::from_pixel(200, 60, Rgb([255, 255, 255]));
        let adv = draw_text(&mut img, 5.0, 5.0, 40.0, "政务服务", Rgb([0, 0, 0]), false);
        assert!(
            adv > 150.0,
            "four CJK glyphs at 40 px advance about 160 px, got {adv}"
        );
        let dark = img.pixels().filter(|p| p.0[0] < 128).count();
        assert!(dark > 300, "glyphs leave ink: {dark} dark pixels");
    }

    #[test]
    fn light_shadow_glare_and_blur_change_what_they_should() {
        let mut img = RgbImage::from_pixel(100, 100, Rgb([200, 200, 200]));
        light_gradient(&mut img, 0.5, 1.0, 0.0);
        assert!(img.get_pixel(0, 50).0[0] < img.get_pixel(99, 50).0[0]);
        let mut img = RgbImage::from_pixel(100, 100, Rgb([200, 200, 200]));
        shadow(
            &mut img,
            &[(20.0, 20.0), (80.0, 20.0), (80.0, 80.0), (20.0, 80.0)],
            0.5,
            4.0,
        );
        assert_eq!(img.get_pixel(50, 50).0[0], 100);
        assert_eq!(img.get_pixel(5, 5).0[0], 200);
        glare(&mut img, (50.0, 50.0), 10.0, 1.0);
        assert!(img.get_pixel(50, 50).0[0] > 240);
        let mut edge = RgbImage::from_pixel(40, 40, Rgb([0, 0, 0]));
        fill_rect(&mut edge, 20, 0, 20, 40, Rgb([255, 255, 255]));
        let b = blur(&edge, 2.0);
        let mid = b.get_pixel(20, 20).0[0];
        assert!(mid > 60 && mid < 200, "edge softened: {mid}");
        assert_eq!(b.get_pixel(2, 20).0[0], 0);
    }

    #[test]
    fn same_seed_same_desk_and_noise() {
        assert_eq!(desk(64, 64, 7), desk(64, 64, 7));
        let mut a = RgbImage::from_pixel(32, 32, Rgb([128, 128, 128]));
        let mut b = a.clone();
        noise(&mut a, 8.0, &mut rng(3));
        noise(&mut b, 8.0, &mut rng(3));
        assert_eq!(a, b);
        assert!(a.pixels().any(|p| p.0[0] != 128));
    }
}
