//! Plane geometry for the page: quadrilaterals, the projective map from
//! the paper raster to the photo, lines fitted to edge points.

/// A point in photo pixels; (0, 0) is the top-left corner of the top-left
/// pixel, so the centre of pixel (i, j) is (i + 0.5, j + 0.5).
pub type Point = (f64, f64);

/// A plane-to-plane projective map (3x3, row-major, last entry 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Homography {
    m: [f64; 9],
}

impl Homography {
    /// The map taking each `src` point to the matching `dst` point; `None`
    /// when three of the points are collinear.
    pub(crate) fn from_quads(src: [Point; 4], dst: [Point; 4]) -> Option<Self> {
        let mut a = [[0.0f64; 9]; 8];
        for (i, ((x, y), (u, v))) in src.iter().zip(dst.iter()).enumerate() {
            let (r0, r1) = (2 * i, 2 * i + 1);
            if let Some(row) = a.get_mut(r0) {
                *row = [*x, *y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, *u];
            }
            if let Some(row) = a.get_mut(r1) {
                *row = [0.0, 0.0, 0.0, *x, *y, 1.0, -v * x, -v * y, *v];
            }
        }
        let h = solve8(a)?;
        Some(Self {
            m: [h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1.0],
        })
    }

    /// The matrix, row-major.
    pub(crate) fn matrix(&self) -> [f64; 9] {
        self.m
    }

    /// Maps one point.
    #[cfg(test)]
    pub(crate) fn apply(&self, x: f64, y: f64) -> Point {
        let m = &self.m;
        let w = m[6] * x + m[7] * y + m[8];
        let w = if w.abs() < 1e-12 { 1e-12 } else { w };
        (
            (m[0] * x + m[1] * y + m[2]) / w,
            (m[3] * x + m[4] * y + m[5]) / w,
        )
    }
}

#[allow(clippy::indexing_slicing)] // reason: fixed 8x9 system; every index is bounded by the loops
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

/// Twice the signed area of triangle (a, b, c); positive when a→b→c turns
/// clockwise on screen (y down).
pub(crate) fn cross(a: Point, b: Point, c: Point) -> f64 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

/// Area of a simple polygon.
pub(crate) fn area(poly: &[Point]) -> f64 {
    let n = poly.len();
    let mut s = 0.0;
    for i in 0..n {
        if let (Some(a), Some(b)) = (poly.get(i), poly.get((i + 1) % n)) {
            s += a.0 * b.1 - b.0 * a.1;
        }
    }
    (s / 2.0).abs()
}

/// Convex hull (Andrew's monotone chain), clockwise on screen, no
/// collinear points.
pub(crate) fn convex_hull(mut pts: Vec<Point>) -> Vec<Point> {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let mut lower: Vec<Point> = Vec::new();
    for &p in &pts {
        while let [.., a, b] = lower[..] {
            if cross(a, b, p) <= 0.0 {
                lower.pop();
            } else {
                break;
            }
        }
        lower.push(p);
    }
    let mut upper: Vec<Point> = Vec::new();
    for &p in pts.iter().rev() {
        while let [.., a, b] = upper[..] {
            if cross(a, b, p) <= 0.0 {
                upper.pop();
            } else {
                break;
            }
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// The four hull vertices spanning the largest quadrilateral, in hull
/// order. `O(n³)`; callers keep `n` in the low hundreds.
pub(crate) fn largest_quad(hull: &[Point]) -> Option<[Point; 4]> {
    let n = hull.len();
    if n < 4 {
        return None;
    }
    let at = |i: usize| hull.get(i % n).copied().unwrap_or((0.0, 0.0));
    let tri = |i: usize, j: usize, k: usize| cross(at(i), at(j), at(k)).abs();
    let mut best = (0.0, [0usize; 4]);
    for i in 0..n {
        for k in i + 2..n {
            // Best apex on each side of the diagonal i–k, chosen independently.
            let Some((j, aj)) = (i + 1..k)
                .map(|j| (j, tri(i, j, k)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
            else {
                continue;
            };
            let Some((l, al)) = (k + 1..n + i)
                .map(|l| (l, tri(i, k, l)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
            else {
                continue;
            };
            if aj + al > best.0 {
                best = (aj + al, [i, j, k, l % n]);
            }
        }
    }
    if best.0 <= 0.0 {
        return None;
    }
    Some(best.1.map(at))
}

/// A straight line `n·p = c` with unit normal `n`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    pub(crate) n: Point,
    pub(crate) c: f64,
}

impl Line {
    /// Signed distance of `p` from the line.
    pub(crate) fn distance(&self, p: Point) -> f64 {
        self.n.0 * p.0 + self.n.1 * p.1 - self.c
    }

    /// Total-least-squares fit; `None` for fewer than two distinct points.
    pub(crate) fn fit(pts: &[Point]) -> Option<Line> {
        if pts.len() < 2 {
            return None;
        }
        let k = pts.len() as f64;
        let mx = pts.iter().map(|p| p.0).sum::<f64>() / k;
        let my = pts.iter().map(|p| p.1).sum::<f64>() / k;
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for p in pts {
            let (dx, dy) = (p.0 - mx, p.1 - my);
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        if sxx + syy < 1e-9 {
            return None;
        }
        // Direction of largest spread; the normal is perpendicular to it.
        let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        let n = (-theta.sin(), theta.cos());
        Some(Line {
            n,
            c: n.0 * mx + n.1 * my,
        })
    }

    /// Where two lines cross; `None` when (nearly) parallel.
    pub(crate) fn intersect(&self, o: &Line) -> Option<Point> {
        let det = self.n.0 * o.n.1 - self.n.1 * o.n.0;
        if det.abs() < 1e-9 {
            return None;
        }
        Some((
            (self.c * o.n.1 - self.n.1 * o.c) / det,
            (self.n.0 * o.c - self.c * o.n.0) / det,
        ))
    }
}

pub(crate) fn dist(a: Point, b: Point) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn homography_maps_the_corners() {
        let src = [(0.0, 0.0), (100.0, 0.0), (100.0, 50.0), (0.0, 50.0)];
        let dst = [(10.0, 20.0), (210.0, 5.0), (190.0, 140.0), (30.0, 120.0)];
        let h = Homography::from_quads(src, dst).unwrap();
        for (s, d) in src.iter().zip(dst) {
            assert!(dist(h.apply(s.0, s.1), d) < 1e-6);
        }
        let line = [(0.0, 0.0), (1.0, 1.0), (2.0, 2.0), (3.0, 3.0)];
        assert!(Homography::from_quads(line, dst).is_none());
    }

    #[test]
    fn largest_quad_of_a_rounded_square_is_its_corners() {
        let mut pts = Vec::new();
        for i in 0..=100 {
            let t = f64::from(i);
            pts.extend([(t, 0.0), (t, 100.0), (0.0, t), (100.0, t)]);
        }
        pts.push((50.0, -0.5)); // a bump that must not win
        let hull = convex_hull(pts);
        let q = largest_quad(&hull).unwrap();
        let mut corners: Vec<_> = q.to_vec();
        corners.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(
            corners,
            vec![(0.0, 0.0), (0.0, 100.0), (100.0, 0.0), (100.0, 100.0)]
        );
    }

    #[test]
    fn lines_fit_and_cross() {
        let a = Line::fit(&[(0.0, 1.0), (5.0, 1.0), (10.0, 1.0)]).unwrap();
        let b = Line::fit(&[(3.0, -4.0), (3.0, 0.0), (3.0, 9.0)]).unwrap();
        let p = a.intersect(&b).unwrap();
        assert!(dist(p, (3.0, 1.0)) < 1e-9);
        assert!((a.distance((7.0, 4.0)).abs() - 3.0).abs() < 1e-9);
    }
}
