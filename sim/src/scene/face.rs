//! Face scenes: what the face camera above the screen sees.
//!
//! [`face`] draws a cartoon person (head, hair, eyes, brows, nose, mouth,
//! ears, neck, jacket and collar) from simple shapes in front of a
//! service-hall wall; it is not, and is not made from, a picture of a
//! real person. [`face_box`] gives where the face is, for tests of a face
//! finder. [`background`] is the same wall with nobody in front of it.
//!
//! Proportions follow a resident about 60 cm from a 1280×720 camera: the
//! face is about 40 % of the frame's height. Everything scales with the
//! frame and is deterministic for a seed (which varies skin, hair and
//! jacket colours and where the person stands).

use image::{Rgb, RgbImage};
use rand::Rng;

use super::ops;

/// Where the face (forehead to chin, ear to ear) is in a frame:
/// `(x, y, width, height)` in pixels.
pub type FaceBox = (u32, u32, u32, u32);

/// The geometry of the person for a frame and seed.
#[derive(Debug, Clone, Copy)]
struct Person {
    cx: f64,
    cy: f64,
    /// Head half-width and half-height.
    rx: f64,
    ry: f64,
    skin: [u8; 3],
    hair: [u8; 3],
    jacket: [u8; 3],
}

fn person(width: u32, height: u32, seed: u64) -> Person {
    let mut r = ops::rng(seed ^ 0xface);
    let (w, h) = (f64::from(width), f64::from(height));
    let ry = h * 0.2;
    let skins = [
        [241, 198, 160],
        [226, 176, 135],
        [205, 150, 110],
        [248, 214, 182],
    ];
    let hairs = [[30, 26, 24], [52, 38, 30], [70, 70, 72], [20, 20, 28]];
    let jackets = [[32, 56, 110], [40, 40, 46], [96, 30, 40], [60, 84, 60]];
    let mut pick = |list: &[[u8; 3]]| {
        let i = r.random_range(0..list.len());
        list.get(i).copied().unwrap_or([128, 128, 128])
    };
    let (skin, hair, jacket) = (pick(&skins), pick(&hairs), pick(&jackets));
    Person {
        cx: w * (0.5 + r.random_range(-0.06..0.06)),
        cy: h * (0.43 + r.random_range(-0.03..0.03)),
        rx: ry * 0.78,
        ry,
        skin,
        hair,
        jacket,
    }
}

/// The service-hall wall: pale paint lit from above, a darker dado rail
/// and a clock, with nobody in front.
pub fn background(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut r = ops::rng(seed ^ 0xba11);
    let tint: f32 = r.random_range(-6.0..6.0);
    let (w, h) = (width as f32, height as f32);
    let rail = h * 0.72;
    let mut img = RgbImage::from_fn(width, height, |x, y| {
        let (xf, yf) = (x as f32, y as f32);
        let light = 1.0 - 0.18 * (yf / h) - 0.06 * ((xf / w) - 0.5).abs();
        let base = if yf > rail {
            [150.0, 160.0, 172.0]
        } else {
            [226.0 + tint, 228.0, 222.0 - tint]
        };
        Rgb(base.map(|c| (c * light).clamp(0.0, 255.0) as u8))
    });
    ops::fill_rect(
        &mut img,
        0,
        rail as i64 - (h * 0.01) as i64,
        width,
        (h * 0.012).max(1.0) as u32,
        Rgb([120, 110, 100]),
    );
    // A wall clock high on the right.
    let (ccx, ccy, cr) = (
        f64::from(w) * 0.86,
        f64::from(h) * 0.16,
        f64::from(h) * 0.07,
    );
    ellipse(&mut img, ccx, ccy, cr, cr, [250, 250, 248]);
    ring(&mut img, ccx, ccy, cr, cr * 0.1, [60, 60, 60]);
    stroke(
        &mut img,
        &[(ccx, ccy), (ccx, ccy - cr * 0.7)],
        cr * 0.06,
        [40, 40, 40],
    );
    stroke(
        &mut img,
        &[(ccx, ccy), (ccx + cr * 0.5, ccy + cr * 0.1)],
        cr * 0.08,
        [40, 40, 40],
    );
    img
}

/// A cartoon person in front of [`background`].
pub fn face(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut img = background(width, height, seed);
    let p = person(width, height, seed);
    let (cx, cy, rx, ry) = (p.cx, p.cy, p.rx, p.ry);
    let shade = |c: [u8; 3], f: f64| c.map(|v| (f64::from(v) * f).clamp(0.0, 255.0) as u8);

    // Shoulders and jacket, open at the collar over a white shirt.
    ellipse(&mut img, cx, cy + ry * 2.55, rx * 2.7, ry * 1.5, p.jacket);
    polygon(
        &mut img,
        &[
            (cx - rx * 0.55, cy + ry * 1.05),
            (cx + rx * 0.55, cy + ry * 1.05),
            (cx, cy + ry * 1.9),
        ],
        [245, 245, 245],
    );
    // Neck.
    polygon(
        &mut img,
        &[
            (cx - rx * 0.38, cy + ry * 0.6),
            (cx + rx * 0.38, cy + ry * 0.6),
            (cx + rx * 0.36, cy + ry * 1.2),
            (cx - rx * 0.36, cy + ry * 1.2),
        ],
        shade(p.skin, 0.88),
    );
    // Lapels.
    polygon(
        &mut img,
        &[
            (cx - rx * 0.55, cy + ry * 1.05),
            (cx - rx * 0.15, cy + ry * 1.75),
            (cx - rx * 0.9, cy + ry * 1.3),
        ],
        shade(p.jacket, 0.75),
    );
    polygon(
        &mut img,
        &[
            (cx + rx * 0.55, cy + ry * 1.05),
            (cx + rx * 0.15, cy + ry * 1.75),
            (cx + rx * 0.9, cy + ry * 1.3),
        ],
        shade(p.jacket, 0.75),
    );

    // Hair behind the head, ears, head.
    ellipse(&mut img, cx, cy - ry * 0.12, rx * 1.1, ry * 1.02, p.hair);
    ellipse(
        &mut img,
        cx - rx * 0.98,
        cy + ry * 0.05,
        rx * 0.16,
        ry * 0.2,
        shade(p.skin, 0.92),
    );
    ellipse(
        &mut img,
        cx + rx * 0.98,
        cy + ry * 0.05,
        rx * 0.16,
        ry * 0.2,
        shade(p.skin, 0.92),
    );
    ellipse(&mut img, cx, cy, rx, ry, p.skin);
    // Fringe over the forehead.
    polygon(
        &mut img,
        &[
            (cx - rx * 1.02, cy - ry * 0.2),
            (cx - rx * 0.9, cy - ry * 0.75),
            (cx - rx * 0.3, cy - ry * 1.05),
            (cx + rx * 0.5, cy - ry * 1.0),
            (cx + rx * 1.02, cy - ry * 0.55),
            (cx + rx * 1.02, cy - ry * 0.25),
            (cx + rx * 0.6, cy - ry * 0.5),
            (cx - rx * 0.2, cy - ry * 0.55),
            (cx - rx * 0.75, cy - ry * 0.4),
        ],
        p.hair,
    );

    // Eyes: white, iris, pupil, a catch-light.
    for side in [-1.0, 1.0] {
        let ex = cx + side * rx * 0.38;
        let ey = cy - ry * 0.08;
        ellipse(&mut img, ex, ey, rx * 0.2, ry * 0.085, [250, 250, 250]);
        ellipse(&mut img, ex, ey, rx * 0.095, ry * 0.08, [70, 48, 36]);
        ellipse(&mut img, ex, ey, rx * 0.045, ry * 0.04, [10, 10, 10]);
        ellipse(
            &mut img,
            ex + rx * 0.03,
            ey - ry * 0.025,
            rx * 0.02,
            ry * 0.015,
            [255, 255, 255],
        );
        // Brows.
        stroke(
            &mut img,
            &[
                (ex - side * rx * 0.2, ey - ry * 0.2),
                (ex, ey - ry * 0.26),
                (ex + side * rx * 0.22, ey - ry * 0.22),
            ],
            ry * 0.035,
            shade(p.hair, 1.1),
        );
        // Cheeks.
        ellipse(
            &mut img,
            cx + side * rx * 0.52,
            cy + ry * 0.28,
            rx * 0.14,
            ry * 0.07,
            shade(p.skin, 0.93),
        );
    }
    // Nose and mouth.
    stroke(
        &mut img,
        &[
            (cx + rx * 0.02, cy - ry * 0.02),
            (cx - rx * 0.07, cy + ry * 0.2),
            (cx + rx * 0.06, cy + ry * 0.24),
        ],
        ry * 0.022,
        shade(p.skin, 0.72),
    );
    let smile: Vec<(f64, f64)> = (0..=8)
        .map(|i| {
            let t = f64::from(i) / 8.0 * 2.0 - 1.0;
            (
                cx + t * rx * 0.32,
                cy + ry * 0.45 + (1.0 - t * t) * ry * 0.08,
            )
        })
        .collect();
    stroke(&mut img, &smile, ry * 0.03, [170, 60, 60]);
    img
}

/// Where [`face`] puts the face for this frame and seed: ear to ear,
/// hairline to chin.
pub fn face_box(width: u32, height: u32, seed: u64) -> FaceBox {
    let p = person(width, height, seed);
    let x0 = (p.cx - p.rx * 1.1).max(0.0);
    let y0 = (p.cy - p.ry * 1.14).max(0.0);
    let x1 = (p.cx + p.rx * 1.1).min(f64::from(width));
    let y1 = (p.cy + p.ry).min(f64::from(height));
    (x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32)
}

/// Blends `colour` into a pixel with coverage `a` (0..1).
fn blend(img: &mut RgbImage, x: u32, y: u32, colour: [u8; 3], a: f64) {
    if a <= 0.0 {
        return;
    }
    let a = a.min(1.0);
    let p = img.get_pixel_mut(x, y);
    for (d, s) in p.0.iter_mut().zip(colour) {
        *d = (f64::from(*d) * (1.0 - a) + f64::from(s) * a).round() as u8;
    }
}

/// The pixel rectangle covering `x0..x1`, `y0..y1`, clipped.
fn span(img: &RgbImage, x0: f64, y0: f64, x1: f64, y1: f64) -> (u32, u32, u32, u32) {
    let cl = |v: f64, max: u32| (v.max(0.0) as u32).min(max);
    (
        cl(x0.floor(), img.width()),
        cl(y0.floor(), img.height()),
        cl(x1.ceil(), img.width()),
        cl(y1.ceil(), img.height()),
    )
}

/// A filled ellipse with a one-pixel soft edge.
fn ellipse(img: &mut RgbImage, cx: f64, cy: f64, rx: f64, ry: f64, colour: [u8; 3]) {
    if rx <= 0.0 || ry <= 0.0 {
        return;
    }
    let (x0, y0, x1, y1) = span(
        img,
        cx - rx - 1.0,
        cy - ry - 1.0,
        cx + rx + 1.0,
        cy + ry + 1.0,
    );
    let r = rx.min(ry);
    for y in y0..y1 {
        for x in x0..x1 {
            let dx = (f64::from(x) + 0.5 - cx) / rx;
            let dy = (f64::from(y) + 0.5 - cy) / ry;
            let d = (dx * dx + dy * dy).sqrt();
            // Signed distance in pixels, approximately, at the edge.
            let edge = (1.0 - d) * r;
            blend(img, x, y, colour, edge + 0.5);
        }
    }
}

/// An ellipse outline of `thickness` pixels.
fn ring(img: &mut RgbImage, cx: f64, cy: f64, r: f64, thickness: f64, colour: [u8; 3]) {
    let (x0, y0, x1, y1) = span(img, cx - r - 1.0, cy - r - 1.0, cx + r + 1.0, cy + r + 1.0);
    for y in y0..y1 {
        for x in x0..x1 {
            let d = (f64::from(x) + 0.5 - cx).hypot(f64::from(y) + 0.5 - cy);
            let off = (d - (r - thickness / 2.0)).abs();
            blend(img, x, y, colour, thickness / 2.0 - off + 0.5);
        }
    }
}

/// A polyline `thickness` pixels wide with round joins and caps.
fn stroke(img: &mut RgbImage, points: &[(f64, f64)], thickness: f64, colour: [u8; 3]) {
    let r = thickness / 2.0;
    for pair in points.windows(2) {
        let (Some(&a), Some(&b)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let (x0, y0, x1, y1) = span(
            img,
            a.0.min(b.0) - r - 1.0,
            a.1.min(b.1) - r - 1.0,
            a.0.max(b.0) + r + 1.0,
            a.1.max(b.1) + r + 1.0,
        );
        let (vx, vy) = (b.0 - a.0, b.1 - a.1);
        let len2 = vx * vx + vy * vy;
        for y in y0..y1 {
            for x in x0..x1 {
                let (px, py) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
                let t = if len2 > 0.0 {
                    (((px - a.0) * vx + (py - a.1) * vy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let d = (px - a.0 - t * vx).hypot(py - a.1 - t * vy);
                let cover = r - d + 0.5;
                if cover > 0.0 {
                    // Overlapping segments must not darken their joins.
                    let p = img.get_pixel(x, y).0;
                    if p != colour {
                        blend(img, x, y, colour, cover);
                    }
                }
            }
        }
    }
}

/// A filled polygon (even-odd rule), sampled at pixel centres.
fn polygon(img: &mut RgbImage, poly: &[(f64, f64)], colour: [u8; 3]) {
    if poly.len() < 3 {
        return;
    }
    let min_x = poly.iter().map(|p| p.0).fold(f64::MAX, f64::min);
    let max_x = poly.iter().map(|p| p.0).fold(f64::MIN, f64::max);
    let min_y = poly.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let max_y = poly.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let (x0, y0, x1, y1) = span(img, min_x, min_y, max_x, max_y);
    let n = poly.len();
    for y in y0..y1 {
        let py = f64::from(y) + 0.5;
        for x in x0..x1 {
            let px = f64::from(x) + 0.5;
            let mut odd = false;
            for i in 0..n {
                let (Some(a), Some(b)) = (poly.get(i), poly.get((i + n - 1) % n)) else {
                    continue;
                };
                if (a.1 > py) != (b.1 > py) && px < (b.0 - a.0) * (py - a.1) / (b.1 - a.1) + a.0 {
                    odd = !odd;
                }
            }
            if odd {
                blend(img, x, y, colour, 1.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn is_skin(p: [u8; 3]) -> bool {
        let [r, g, b] = p.map(u16::from);
        r > 190 && r > b + 40 && g > b + 15
    }

    #[test]
    fn the_face_is_inside_its_box_and_the_wall_is_empty() {
        for seed in [1, 2, 3] {
            let img = face(640, 360, seed);
            let (x, y, w, h) = face_box(640, 360, seed);
            assert!(
                w > 80 && h > 120,
                "a face fills a good part of the frame: {w}x{h}"
            );
            let skin_in = (y..y + h)
                .flat_map(|yy| (x..x + w).map(move |xx| (xx, yy)))
                .filter(|&(xx, yy)| is_skin(img.get_pixel(xx, yy).0))
                .count();
            assert!(
                skin_in > (w * h / 4) as usize,
                "seed {seed}: skin {skin_in}"
            );
            // Eyes: dark pupils in the upper half of the face.
            let (cx, ey) = (x + w / 2, y + h * 45 / 100);
            let dark = (ey - h / 10..ey + h / 10)
                .flat_map(|yy| (cx - w / 3..cx + w / 3).map(move |xx| (xx, yy)))
                .filter(|&(xx, yy)| img.get_pixel(xx, yy).0.iter().all(|&c| c < 40))
                .count();
            assert!(dark > 20, "seed {seed}: pupils {dark}");
        }
        let wall = background(640, 360, 1);
        assert!(
            !wall.pixels().any(|p| is_skin(p.0)),
            "nobody in front of the wall"
        );
        assert_ne!(
            face(320, 180, 1),
            face(320, 180, 2),
            "seeds vary the person"
        );
        assert_eq!(face(320, 180, 5), face(320, 180, 5), "deterministic");
    }
}
