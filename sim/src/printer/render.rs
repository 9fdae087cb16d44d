//! Renders a received job to a picture of the paper: 203 dpi, one dot a
//! pixel, the project's CJK font from `assets/`, QR codes drawn from the
//! data the job carried (so a decoder reading the PNG checks what the host
//! sent, not what the simulator thinks it should have been).
//!
//! Geometry follows a thermal head: half-width characters are 12 dots
//! wide and full-width (Chinese) 24, both 24 dots tall before `GS !`
//! magnification; lines are 30 dots apart at size 1.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{GrayImage, Luma};

use super::escpos::{Justify, Style};
use super::symbols;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular.otf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Bold.otf");

/// Top and bottom margin of the picture, dots.
const MARGIN: u32 = 24;
/// Base character cell height.
const CELL_H: u32 = 24;
/// Base half-width cell.
const CELL_W: u32 = 12;
/// Extra leading per line at size 1.
const LEADING: u32 = 6;

/// One thing on the paper, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Line {
        text: String,
        style: Style,
    },
    Space(u32),
    Qr {
        data: Vec<u8>,
        module: u8,
        level: char,
        justify: Justify,
    },
    Barcode {
        kind: &'static str,
        data: String,
        /// The command's data bytes as sent (CODE128 with its code sets).
        raw: Vec<u8>,
        height: u8,
        /// Dots per module (GS w).
        module: u8,
        justify: Justify,
    },
    Raster {
        width_bytes: usize,
        height: usize,
        bits: Vec<u8>,
        justify: Justify,
    },
    Cut {
        partial: bool,
    },
}

fn is_wide(c: char) -> bool {
    !c.is_ascii()
}

fn cell_width(c: char, style: &Style) -> u32 {
    let base = if is_wide(c) { CELL_W * 2 } else { CELL_W };
    base * u32::from(style.width.max(1))
}

/// Splits a line into the pieces the head prints on each row.
fn wrap(text: &str, style: &Style, paper: u32) -> Vec<String> {
    let mut rows = vec![String::new()];
    let mut used = 0;
    for c in text.chars() {
        let w = cell_width(c, style);
        if used + w > paper && used > 0 {
            rows.push(String::new());
            used = 0;
        }
        if let Some(r) = rows.last_mut() {
            r.push(c);
        }
        used += w;
    }
    rows
}

fn x_for(justify: Justify, width: u32, paper: u32) -> u32 {
    match justify {
        Justify::Left => 0,
        Justify::Centre => paper.saturating_sub(width) / 2,
        Justify::Right => paper.saturating_sub(width),
    }
}

fn qr_matrix(data: &[u8], level: char) -> Option<(usize, Vec<bool>)> {
    let ec = match level {
        'M' => qrcode::EcLevel::M,
        'Q' => qrcode::EcLevel::Q,
        'H' => qrcode::EcLevel::H,
        _ => qrcode::EcLevel::L,
    };
    let code = qrcode::QrCode::with_error_correction_level(data, ec).ok()?;
    let w = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((w, dark))
}

fn item_height(item: &Item, paper: u32) -> u32 {
    match item {
        Item::Line { text, style } => {
            let rows = wrap(text, style, paper).len() as u32;
            rows * (CELL_H * u32::from(style.height.max(1)) + LEADING)
        }
        Item::Space(d) => *d,
        Item::Qr {
            data,
            module,
            level,
            ..
        } => match qr_matrix(data, *level) {
            Some((w, _)) => (w as u32 + 8) * u32::from(*module),
            None => CELL_H + LEADING,
        },
        Item::Barcode { height, .. } => u32::from(*height) + CELL_H + LEADING + 4,
        Item::Raster { height, .. } => *height as u32,
        Item::Cut { .. } => 16,
    }
}

struct Canvas {
    img: GrayImage,
}

impl Canvas {
    fn dot(&mut self, x: u32, y: u32, ink: u8) {
        if x < self.img.width() && y < self.img.height() {
            let p = self.img.get_pixel_mut(x, y);
            // Darken only: overlapping glyph edges keep the darker value.
            p.0[0] = p.0[0].min(255 - ink);
        }
    }

    fn rect(&mut self, x: u32, y: u32, w: u32, h: u32) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.dot(xx, yy, 255);
            }
        }
    }

    fn glyph(
        &mut self,
        font: &FontRef<'_>,
        c: char,
        cell_x: u32,
        top: u32,
        cell_w: u32,
        style: &Style,
    ) {
        let size_h = (CELL_H * u32::from(style.height.max(1))) as f32;
        let size_w = (CELL_H * u32::from(style.width.max(1))) as f32;
        // ab_glyph scales by ascent-to-descent height; a printer's CJK cell
        // is one em, so scale the em to the cell.
        let em_factor = font
            .units_per_em()
            .map(|u| font.height_unscaled() / u)
            .unwrap_or(1.0);
        let mut scale = PxScale {
            x: size_w * em_factor,
            y: size_h * em_factor,
        };
        let gid = font.glyph_id(c);
        let mut advance = font.as_scaled(scale).h_advance(gid);
        if advance > cell_w as f32 {
            // Wide Latin letters (W, M) are narrowed to their cell, as a
            // printer's bitmap font is.
            scale.x *= cell_w as f32 / advance;
            advance = cell_w as f32;
        }
        // Ideographs sit in the em box with the baseline 0.88 em down.
        let baseline = top as f32 + size_h * 0.88;
        let x0 = cell_x as f32 + (cell_w as f32 - advance) / 2.0;
        let glyph = gid.with_scale_and_position(scale, point(x0, baseline));
        if let Some(outlined) = font.outline_glyph(glyph) {
            let bounds = outlined.px_bounds();
            outlined.draw(|gx, gy, cov| {
                let x = bounds.min.x as i64 + i64::from(gx);
                let y = bounds.min.y as i64 + i64::from(gy);
                if x >= 0 && y >= 0 {
                    let ink = (cov.clamp(0.0, 1.0) * 255.0) as u8;
                    self.dot(x as u32, y as u32, ink);
                }
            });
        }
    }
}

/// Renders `items` on paper `paper` dots wide.
pub fn render(items: &[Item], paper: u32) -> GrayImage {
    let height: u32 = MARGIN * 2 + items.iter().map(|i| item_height(i, paper)).sum::<u32>();
    let mut canvas = Canvas {
        img: GrayImage::from_pixel(paper, height.max(1), Luma([255])),
    };
    let regular = FontRef::try_from_slice(REGULAR).ok();
    let bold = FontRef::try_from_slice(BOLD).ok();
    let mut y = MARGIN;
    for item in items {
        let h = item_height(item, paper);
        match item {
            Item::Line { text, style } => {
                let font = if style.bold {
                    bold.as_ref().or(regular.as_ref())
                } else {
                    regular.as_ref()
                };
                let row_h = CELL_H * u32::from(style.height.max(1)) + LEADING;
                for (i, row) in wrap(text, style, paper).iter().enumerate() {
                    let width: u32 = row.chars().map(|c| cell_width(c, style)).sum();
                    let mut x = x_for(style.justify, width, paper);
                    let top = y + i as u32 * row_h;
                    for c in row.chars() {
                        let w = cell_width(c, style);
                        if let Some(f) = font {
                            canvas.glyph(f, c, x, top, w, style);
                        }
                        x += w;
                    }
                    if style.underline {
                        canvas.rect(
                            x_for(style.justify, width, paper),
                            top + row_h - LEADING,
                            width,
                            2,
                        );
                    }
                }
            }
            Item::Qr {
                data,
                module,
                level,
                justify,
            } => {
                if let Some((w, dark)) = qr_matrix(data, *level) {
                    let m = u32::from(*module);
                    let side = w as u32 * m;
                    let x0 = x_for(*justify, side, paper);
                    let y0 = y + 4 * m;
                    for (i, d) in dark.iter().enumerate() {
                        if *d {
                            let col = (i % w) as u32;
                            let row = (i / w) as u32;
                            canvas.rect(x0 + col * m, y0 + row * m, m, m);
                        }
                    }
                }
            }
            Item::Barcode {
                kind,
                data,
                raw,
                height,
                module,
                justify,
            } => {
                // The bars from the bytes the host sent, then the
                // human-readable text below (GS H 2). A symbol the
                // printer cannot make is printed as its text in a frame.
                let style = Style {
                    justify: *justify,
                    ..Style::default()
                };
                let bh = u32::from(*height);
                let mw = u32::from((*module).max(1));
                // A symbol wider than the paper is not printed by a
                // printer either: it gets the framed text instead.
                let modules = match *kind {
                    "CODE128" => symbols::code128(raw),
                    "EAN-13" => symbols::ean13(raw),
                    "CODE39" => symbols::code39(raw),
                    "ITF" => symbols::itf(raw),
                    _ => None,
                }
                .filter(|m| m.len() as u32 * mw <= paper);
                let label = match modules {
                    Some(m) => {
                        let width = m.len() as u32 * mw;
                        let x0 = x_for(*justify, width, paper);
                        for (i, bar) in m.iter().enumerate() {
                            if *bar {
                                canvas.rect(x0 + i as u32 * mw, y, mw, bh);
                            }
                        }
                        data.clone()
                    }
                    None => {
                        let label = format!("[{kind}] {data}");
                        let width: u32 = label
                            .chars()
                            .map(|c| cell_width(c, &style))
                            .sum::<u32>()
                            .min(paper);
                        let x0 = x_for(*justify, width, paper);
                        canvas.rect(x0, y, width, 2);
                        canvas.rect(x0, y + bh.saturating_sub(2), width, 2);
                        canvas.rect(x0, y, 2, bh);
                        canvas.rect(x0 + width.saturating_sub(2), y, 2, bh);
                        label
                    }
                };
                let width: u32 = label.chars().map(|c| cell_width(c, &style)).sum();
                let mut x = x_for(*justify, width, paper);
                if let Some(f) = regular.as_ref() {
                    for c in label.chars() {
                        let w = cell_width(c, &style);
                        canvas.glyph(f, c, x, y + bh + 4, w, &style);
                        x += w;
                    }
                }
            }
            Item::Raster {
                width_bytes,
                height,
                bits,
                justify,
            } => {
                let w = (*width_bytes * 8) as u32;
                let x0 = x_for(*justify, w, paper);
                for row in 0..*height {
                    for col in 0..*width_bytes * 8 {
                        let byte = bits.get(row * width_bytes + col / 8).copied().unwrap_or(0);
                        if byte & (0x80 >> (col % 8)) != 0 {
                            canvas.dot(x0 + col as u32, y + row as u32, 255);
                        }
                    }
                }
            }
            Item::Cut { partial } => {
                // A dashed line where the knife went.
                let step = if *partial { 12 } else { 6 };
                let mut x = 0;
                while x < paper {
                    canvas.rect(x, y + 7, step / 2, 1);
                    x += step;
                }
            }
            Item::Space(_) => {}
        }
        y += h;
    }
    canvas.img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_text_puts_ink_on_paper_and_wraps() {
        let style = Style::default();
        let long = "政务服务".repeat(10);
        assert_eq!(
            wrap(&long, &style, 576).len(),
            2,
            "40 full-width characters need two rows of 24"
        );
        let img = render(
            &[Item::Line {
                text: "办件查询回执".into(),
                style,
            }],
            576,
        );
        let ink = img.pixels().filter(|p| p.0[0] < 128).count();
        assert!(ink > 200, "glyphs drawn, got {ink} dark dots");
        assert_eq!(img.width(), 576);
    }

    #[test]
    fn qr_takes_module_size_into_account() {
        let small = item_height(
            &Item::Qr {
                data: b"x".to_vec(),
                module: 2,
                level: 'M',
                justify: Justify::Centre,
            },
            576,
        );
        let big = item_height(
            &Item::Qr {
                data: b"x".to_vec(),
                module: 6,
                level: 'M',
                justify: Justify::Centre,
            },
            576,
        );
        assert_eq!(big, small * 3);
    }
}
