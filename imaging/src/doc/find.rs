//! Finding the page in the photo.
//!
//! Paper is bright and grey (all three channels high); a desk or a
//! camera mat is darker or coloured. So the finder works on the smallest
//! of the three channels:
//!
//! 1. shrink the photo to about 800 px across (block average), split
//!    bright from dark with Otsu's threshold, keep the largest bright
//!    region;
//! 2. take its convex hull and the largest quadrilateral on the hull:
//!    the page corners to within a few shrunk pixels;
//! 3. refine each side at full resolution: along the side, look across
//!    it for the strongest bright-to-dark step, fit a straight line to
//!    those points (dropping outliers such as a shadow's edge), and
//!    intersect neighbouring lines for the corners.
//!
//! A shadow darkens paper and desk alike, so the step at the paper's
//! edge survives it; text and stamps only make holes inside the region,
//! which the hull ignores.

use image::RgbImage;

use super::DocError;
use super::geom::{self, Line, Point};

/// The page's corners in the photo: top-left, top-right, bottom-right,
/// bottom-left as the photo shows them, in photo pixels.
pub type Quad = [Point; 4];

/// Long side of the shrunk image the coarse search works on.
const COARSE: u32 = 800;

/// Finds the page; see the module comment.
pub fn find_page(img: &RgbImage) -> Result<Quad, DocError> {
    let (w, h) = img.dimensions();
    if w < 64 || h < 64 {
        return Err(DocError::NoPage);
    }
    let f = w.max(h).div_ceil(COARSE).max(1);
    let small = shrink_min_channel(img, f);
    let coarse = coarse_quad(&small)?;
    let scale = f64::from(f);
    let coarse = coarse.map(|(x, y)| (x * scale, y * scale));
    let refined = refine(img, &coarse, 3.0 * scale + 4.0);
    Ok(refined.unwrap_or(coarse))
}

/// A one-channel image.
pub(crate) struct Plane {
    pub(crate) w: usize,
    pub(crate) h: usize,
    pub(crate) data: Vec<u8>,
}

/// Block average of min(R, G, B) over `f`×`f` blocks.
fn shrink_min_channel(img: &RgbImage, f: u32) -> Plane {
    let (w, h) = img.dimensions();
    let (sw, sh) = ((w / f) as usize, (h / f) as usize);
    let f = f as usize;
    let mut acc = vec![0u32; sw];
    let mut data = Vec::with_capacity(sw * sh);
    let stride = w as usize * 3;
    let raw = img.as_raw();
    for (ry, row) in raw.chunks_exact(stride).take(sh * f).enumerate() {
        for (a, block) in acc.iter_mut().zip(row.chunks_exact(3 * f)) {
            *a += block
                .chunks_exact(3)
                .map(|p| u32::from(p.iter().copied().min().unwrap_or(0)))
                .sum::<u32>();
        }
        if ry % f == f - 1 {
            let n = (f * f) as u32;
            data.extend(acc.iter().map(|a| (a / n) as u8));
            acc.iter_mut().for_each(|a| *a = 0);
        }
    }
    Plane { w: sw, h: sh, data }
}

/// Otsu's threshold and the two class means.
fn otsu(data: &[u8]) -> (u8, f64, f64) {
    let mut hist = [0u64; 256];
    for &v in data {
        if let Some(c) = hist.get_mut(usize::from(v)) {
            *c += 1;
        }
    }
    let total = data.len() as f64;
    let sum: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0) = (0.0, 0.0);
    let mut best = (0.0, 0u8, 0.0, 0.0);
    for (t, &c) in hist.iter().enumerate().take(255) {
        w0 += c as f64;
        sum0 += t as f64 * c as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let (m0, m1) = (sum0 / w0, (sum - sum0) / w1);
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if between > best.0 {
            best = (between, t as u8, m0, m1);
        }
    }
    (best.1, best.2, best.3)
}

/// The page's quadrilateral in shrunk pixels.
fn coarse_quad(p: &Plane) -> Result<Quad, DocError> {
    let (t, dark, bright) = otsu(&p.data);
    // A photo of a bare desk has no bright class standing apart.
    if bright - dark < 40.0 {
        return Err(DocError::NoPage);
    }
    let mask: Vec<bool> = p.data.iter().map(|&v| v > t).collect();
    let region = largest_region(&mask, p.w, p.h);
    let count = region.iter().filter(|&&r| r).count();
    let frame = (p.w * p.h) as f64;
    if (count as f64) < 0.04 * frame {
        return Err(DocError::NoPage);
    }
    // Outline: the leftmost and rightmost pixel of every row, by corners.
    let mut pts = Vec::new();
    for y in 0..p.h {
        let row = region.get(y * p.w..(y + 1) * p.w).unwrap_or(&[]);
        let first = row.iter().position(|&r| r);
        let last = row.iter().rposition(|&r| r);
        if let (Some(a), Some(b)) = (first, last) {
            let (y0, y1) = (y as f64, y as f64 + 1.0);
            let (x0, x1) = (a as f64, b as f64 + 1.0);
            pts.extend([(x0, y0), (x0, y1), (x1, y0), (x1, y1)]);
        }
    }
    let hull = geom::convex_hull(pts);
    let hull = thin(&hull, 300);
    let quad = geom::largest_quad(&hull).ok_or(DocError::NoPage)?;
    let hull_area = geom::area(&hull);
    let quad_area = geom::area(&quad);
    // A page is a quadrilateral: its hull is (almost) its largest inscribed
    // quadrilateral. A round or ragged bright blob is not; nor is a region
    // that is mostly holes, nor one filling the whole frame (a white desk).
    if quad_area < 0.93 * hull_area || (count as f64) < 0.3 * hull_area || quad_area > 0.95 * frame
    {
        return Err(DocError::NoPage);
    }
    // Paper along the frame's edge: part of the page is outside the photo.
    let edge = (0..p.w)
        .flat_map(|x| [x, (p.h - 1) * p.w + x])
        .chain((0..p.h).flat_map(|y| [y * p.w, y * p.w + p.w - 1]))
        .filter(|&i| region.get(i).copied().unwrap_or(false))
        .count();
    if edge > (p.w + p.h) / 100 {
        return Err(DocError::PageCut);
    }
    let quad = order(quad);
    if !plausible(&quad) {
        return Err(DocError::NoPage);
    }
    // The hull runs round the outside of the border pixels; the paper's
    // edge lies about half a blurred pixel inside.
    Ok(quad)
}

/// Keeps at most `max` hull points (evenly spaced), so the quadrilateral
/// search stays cheap on a jagged outline.
fn thin(hull: &[Point], max: usize) -> Vec<Point> {
    if hull.len() <= max {
        return hull.to_vec();
    }
    let step = hull.len() as f64 / max as f64;
    (0..max)
        .filter_map(|i| hull.get((i as f64 * step) as usize).copied())
        .collect()
}

/// The largest 4-connected region of `true` pixels.
fn largest_region(mask: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut label = vec![0u32; mask.len()];
    let mut best = (0usize, 0u32);
    let mut next = 0u32;
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if !mask.get(start).copied().unwrap_or(false) || label.get(start) != Some(&0) {
            continue;
        }
        next += 1;
        let mut size = 0usize;
        stack.push(start);
        if let Some(l) = label.get_mut(start) {
            *l = next;
        }
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = (i % w, i / w);
            let mut visit = |j: usize| {
                if mask.get(j).copied().unwrap_or(false)
                    && let Some(l) = label.get_mut(j)
                    && *l == 0
                {
                    *l = next;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if size > best.0 {
            best = (size, next);
        }
    }
    label.iter().map(|&l| l == best.1 && l != 0).collect()
}

/// Orders four corners clockwise on screen starting at the top-left: the
/// top side is the one whose middle is highest (the page lies within 45°
/// of upright).
pub(crate) fn order(q: Quad) -> Quad {
    let cx = q.iter().map(|p| p.0).sum::<f64>() / 4.0;
    let cy = q.iter().map(|p| p.1).sum::<f64>() / 4.0;
    let mut v = q.to_vec();
    // y points down, so increasing atan2 runs clockwise on screen.
    v.sort_by(|a, b| {
        (a.1 - cy)
            .atan2(a.0 - cx)
            .total_cmp(&(b.1 - cy).atan2(b.0 - cx))
    });
    let at = |i: usize| v.get(i % 4).copied().unwrap_or((0.0, 0.0));
    let top = (0..4)
        .min_by(|&i, &j| (at(i).1 + at(i + 1).1).total_cmp(&(at(j).1 + at(j + 1).1)))
        .unwrap_or(0);
    [at(top), at(top + 1), at(top + 2), at(top + 3)]
}

/// Convex, and every corner between 45° and 135°.
#[allow(clippy::indexing_slicing)] // reason: indices are taken modulo 4 into a 4-array
fn plausible(q: &Quad) -> bool {
    (0..4).all(|i| {
        let a = q[(i + 3) % 4];
        let b = q[i];
        let c = q[(i + 1) % 4];
        let (u, v) = ((a.0 - b.0, a.1 - b.1), (c.0 - b.0, c.1 - b.1));
        let (lu, lv) = (
            (u.0 * u.0 + u.1 * u.1).sqrt(),
            (v.0 * v.0 + v.1 * v.1).sqrt(),
        );
        if lu < 1.0 || lv < 1.0 {
            return false;
        }
        let cos = (u.0 * v.0 + u.1 * v.1) / (lu * lv);
        geom::cross(a, b, c) > 0.0 && cos.abs() < 0.7072
    })
}

/// min(R, G, B) at a point, bilinear between pixel centres.
fn sample(img: &RgbImage, x: f64, y: f64) -> Option<f64> {
    let (w, h) = img.dimensions();
    let (fx, fy) = (x - 0.5, y - 0.5);
    if fx < 0.0 || fy < 0.0 || fx >= f64::from(w - 1) || fy >= f64::from(h - 1) {
        return None;
    }
    let (x0, y0) = (fx as u32, fy as u32);
    let (ax, ay) = (fx - f64::from(x0), fy - f64::from(y0));
    let m = |x: u32, y: u32| f64::from(img.get_pixel(x, y).0.iter().copied().min().unwrap_or(0));
    let top = m(x0, y0) * (1.0 - ax) + m(x0 + 1, y0) * ax;
    let bottom = m(x0, y0 + 1) * (1.0 - ax) + m(x0 + 1, y0 + 1) * ax;
    Some(top * (1.0 - ay) + bottom * ay)
}

#[allow(clippy::indexing_slicing)] // reason: `q` indices are taken modulo 4; `w` is a 3-window
/// Moves each side of `q` onto the strongest bright-to-dark step within
/// `reach` pixels across it; `None` when a side finds too few steps.
fn refine(img: &RgbImage, q: &Quad, reach: f64) -> Option<Quad> {
    const SAMPLES: usize = 48;
    let r = reach.ceil() as i32;
    let mut lines = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let len = geom::dist(a, b);
        if len < 8.0 {
            return None;
        }
        let d = ((b.0 - a.0) / len, (b.1 - a.1) / len);
        // Outward normal of a clockwise (on screen) polygon.
        let n = (d.1, -d.0);
        let mut pts = Vec::with_capacity(SAMPLES);
        let mut strengths = Vec::with_capacity(SAMPLES);
        for k in 0..SAMPLES {
            let t = 0.08 + 0.84 * (k as f64 + 0.5) / SAMPLES as f64;
            let base = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            // Profile across the side, averaged over 5 px along it.
            let profile: Option<Vec<f64>> = (-r - 1..=r + 1)
                .map(|s| {
                    let s = f64::from(s);
                    let mut acc = 0.0;
                    for o in -2..=2 {
                        let o = f64::from(o);
                        acc += sample(img, base.0 + n.0 * s + d.0 * o, base.1 + n.1 * s + d.1 * o)?;
                    }
                    Some(acc / 5.0)
                })
                .collect();
            let Some(profile) = profile else { continue };
            // Step strength (inside minus outside) at each offset.
            let grad: Vec<f64> = profile.windows(3).map(|w| w[0] - w[2]).collect();
            let Some((j, &g)) = grad.iter().enumerate().max_by(|x, y| x.1.total_cmp(y.1)) else {
                continue;
            };
            if g < 12.0 {
                continue;
            }
            // Sub-pixel peak by a parabola through the neighbours.
            let gl = grad.get(j.wrapping_sub(1)).copied().unwrap_or(g);
            let gr = grad.get(j + 1).copied().unwrap_or(g);
            let denom = gl - 2.0 * g + gr;
            let off = if denom.abs() > 1e-9 {
                0.5 * (gl - gr) / denom
            } else {
                0.0
            };
            let s = j as f64 - f64::from(r) + off.clamp(-0.5, 0.5);
            pts.push((base.0 + n.0 * s, base.1 + n.1 * s));
            strengths.push(g);
        }
        if pts.len() < SAMPLES / 3 {
            return None;
        }
        // Weak steps are a shadow's edge or text, not the paper's edge.
        let mut sorted = strengths.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
        let mut pts: Vec<Point> = pts
            .into_iter()
            .zip(strengths)
            .filter(|(_, g)| *g >= 0.4 * median)
            .map(|(p, _)| p)
            .collect();
        let mut line = Line::fit(&pts)?;
        for tol in [3.0, 1.5] {
            pts.retain(|p| line.distance(*p).abs() <= tol);
            if pts.len() < SAMPLES / 4 {
                return None;
            }
            line = Line::fit(&pts)?;
        }
        lines.push(line);
    }
    let mut out = [(0.0, 0.0); 4];
    for (i, corner) in out.iter_mut().enumerate() {
        let prev = lines.get((i + 3) % 4)?;
        let cur = lines.get(i)?;
        *corner = prev.intersect(cur)?;
        if geom::dist(*corner, q[i]) > 2.0 * reach {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use image::Rgb;

    #[test]
    fn corners_are_ordered_from_the_top_left_clockwise() {
        let q = [(90.0, 95.0), (10.0, 12.0), (12.0, 90.0), (95.0, 8.0)];
        assert_eq!(
            order(q),
            [(10.0, 12.0), (95.0, 8.0), (90.0, 95.0), (12.0, 90.0)]
        );
    }

    #[test]
    fn a_white_rectangle_on_a_dark_ground_is_found_to_the_pixel() {
        let mut img = RgbImage::from_pixel(1000, 800, Rgb([60, 40, 30]));
        for y in 100..700 {
            for x in 200..650 {
                img.put_pixel(x, y, Rgb([230, 230, 225]));
            }
        }
        let q = find_page(&img).unwrap();
        let truth = [
            (200.0, 100.0),
            (650.0, 100.0),
            (650.0, 700.0),
            (200.0, 700.0),
        ];
        for (a, b) in q.iter().zip(truth) {
            assert!(geom::dist(*a, b) < 1.0, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn a_bare_ground_has_no_page() {
        let img = RgbImage::from_fn(900, 700, |x, y| {
            Rgb([100 + (x % 7) as u8, 70, (y % 5) as u8 + 40])
        });
        assert!(matches!(find_page(&img), Err(DocError::NoPage)));
    }
}
