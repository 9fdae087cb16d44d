//! Black and white: an adaptive threshold over the levelled grey page,
//! then single specks removed (each one costs a G4 code for nothing).

use image::GrayImage;

/// A 1-bit page: one byte per pixel, 1 = black (ink), 0 = white.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    pub width: u32,
    pub height: u32,
    /// Row-major, `width × height` bytes of 0 or 1.
    pub data: Vec<u8>,
}

impl Bitmap {
    /// Whether (x, y) is ink; outside the page is white.
    pub fn black(&self, x: u32, y: u32) -> bool {
        x < self.width
            && y < self.height
            && self.data.get(y as usize * self.width as usize + x as usize) == Some(&1)
    }

    /// One row of pixels.
    pub fn row(&self, y: u32) -> &[u8] {
        let w = self.width as usize;
        let y = y as usize;
        self.data.get(y * w..(y + 1) * w).unwrap_or(&[])
    }

    /// Rows packed MSB first, each padded to whole bytes; `ink` is the bit
    /// value for black (PNG/BMP with a black-first palette use 0).
    pub fn packed(&self, ink: u8) -> Vec<u8> {
        let w = self.width as usize;
        let mut out = Vec::with_capacity(w.div_ceil(8) * self.height as usize);
        for row in self.data.chunks_exact(w.max(1)).take(self.height as usize) {
            for chunk in row.chunks(8) {
                let mut byte = 0u8;
                for (i, &b) in chunk.iter().enumerate() {
                    let bit = if b == 1 { ink } else { 1 - ink };
                    byte |= bit << (7 - i);
                }
                // Padding bits are white.
                if ink == 0 {
                    byte |= (1u16 << (8 - chunk.len())) as u8 - 1;
                }
                out.push(byte);
            }
        }
        out
    }

    /// The page as grey (ink 0, paper 255).
    pub fn to_grey(&self) -> GrayImage {
        let data = self
            .data
            .iter()
            .map(|&b| if b == 1 { 0 } else { 255 })
            .collect();
        GrayImage::from_raw(self.width, self.height, data).unwrap_or_default()
    }
}

/// Always ink below this level of the levelled page.
const DARK: u32 = 96;
/// Never ink above this level.
const LIGHT: u32 = 200;

/// Thresholds a levelled grey page at `dpi`: a pixel is ink when it is
/// darker than 88 % of the mean of its neighbourhood (about 3 mm), and
/// always when very dark, never when nearly white.
pub(crate) fn binarise(grey: &GrayImage, dpi: u32) -> Bitmap {
    let (w, h) = (grey.width() as usize, grey.height() as usize);
    let r = ((dpi as f32 * 3.0 / 25.4 / 2.0).round() as usize).max(4);
    // Integral image with a zero row and column in front.
    let iw = w + 1;
    let mut integral = vec![0u32; iw * (h + 1)];
    let src = grey.as_raw();
    for y in 0..h {
        let mut run = 0u32;
        for x in 0..w {
            run += u32::from(src.get(y * w + x).copied().unwrap_or(255));
            let above = integral.get(y * iw + x + 1).copied().unwrap_or(0);
            if let Some(d) = integral.get_mut((y + 1) * iw + x + 1) {
                *d = above + run;
            }
        }
    }
    let at = |x: usize, y: usize| integral.get(y * iw + x).copied().unwrap_or(0);
    let mut data = vec![0u8; w * h];
    for y in 0..h {
        let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            let v = u32::from(src.get(y * w + x).copied().unwrap_or(255));
            let ink = if v < DARK {
                true
            } else if v > LIGHT {
                false
            } else {
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let sum = at(x1, y1) + at(x0, y0) - at(x0, y1) - at(x1, y0);
                let n = ((x1 - x0) * (y1 - y0)) as u32;
                // v < 0.88 × mean, in integers.
                v * n * 100 < sum * 88
            };
            if ink && let Some(d) = data.get_mut(y * w + x) {
                *d = 1;
            }
        }
    }
    let mut bm = Bitmap {
        width: w as u32,
        height: h as u32,
        data,
    };
    despeckle(&mut bm);
    bm
}

/// Removes black pixels with no black 8-neighbour and fills white pixels
/// whose four neighbours are all black.
fn despeckle(bm: &mut Bitmap) {
    let (w, h) = (bm.width as usize, bm.height as usize);
    if w < 3 || h < 3 {
        return;
    }
    let src = bm.data.clone();
    let get = |x: usize, y: usize| src.get(y * w + x).copied().unwrap_or(0);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = get(x, y);
            let four = get(x - 1, y) + get(x + 1, y) + get(x, y - 1) + get(x, y + 1);
            let new = if c == 1 {
                let diag =
                    get(x - 1, y - 1) + get(x + 1, y - 1) + get(x - 1, y + 1) + get(x + 1, y + 1);
                u8::from(four + diag > 0)
            } else {
                u8::from(four == 4)
            };
            if new != c
                && let Some(d) = bm.data.get_mut(y * w + x)
            {
                *d = new;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use image::Luma;

    #[test]
    fn strokes_become_ink_specks_and_paper_do_not() {
        let mut g = GrayImage::from_pixel(100, 100, Luma([255]));
        for y in 20..80 {
            for x in 40..43 {
                g.put_pixel(x, y, Luma([60]));
            }
        }
        g.put_pixel(10, 10, Luma([0])); // a lone speck
        g.put_pixel(70, 50, Luma([235])); // faint paper texture
        let bm = binarise(&g, 150);
        assert!(bm.black(41, 50));
        assert!(!bm.black(10, 10));
        assert!(!bm.black(70, 50));
        assert_eq!(bm.data.iter().filter(|&&b| b == 1).count(), 3 * 60);
    }

    #[test]
    fn packing_pads_rows_with_white() {
        let bm = Bitmap {
            width: 3,
            height: 1,
            data: vec![1, 0, 1],
        };
        assert_eq!(bm.packed(1), vec![0b1010_0000]);
        assert_eq!(bm.packed(0), vec![0b0101_1111]);
    }
}
