//! Code scenes: what the kiosk's camera sees when a resident holds up a
//! code — a QR code printed on paper, on a thermal receipt or shown on a
//! phone screen, and 1D barcodes on paper — as 1280x720 frames with the
//! faults of real photos (rotation, perspective, blur, noise, JPEG, glare,
//! the moiré of a screen's pixel grid, dark mode, low contrast).
//!
//! Each scene is made from a [`Symbol`] (the dark/light modules), a
//! [`Medium`] it is shown on and a [`Shot`] (how the camera saw it), and
//! is deterministic for a seed. [`corpus`] lists the cases the QR bench
//! and tests use, each with the payload text a decoder must return.
//!
//! QR symbols come from the `qrcode` crate (with an ECI designator when
//! asked); 1D bars from [`crate::printer::symbols`]. Other 2D symbologies
//! (PDF417, Data Matrix) can be drawn from modules made elsewhere
//! ([`Symbol::from_rows`]); the simulator makes none itself.

use image::{Rgb, RgbImage};
use rand::Rng;
use rand::rngs::StdRng;

use super::ops;
use crate::printer::symbols;

/// Frame size of the simulated code camera.
pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 720;

/// A symbol that cannot be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SceneError {
    #[error("二维码生成失败 / cannot make the QR code: {0}")]
    Qr(String),
    #[error("条码数据无效 / not valid data for {0}")]
    Barcode(&'static str),
    #[error("符号为空 / the symbol has no modules")]
    Empty,
}

/// A symbol as modules: `dark[y * width + x]`, without the quiet zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub width: usize,
    pub height: usize,
    pub dark: Vec<bool>,
    /// Light modules to keep around it (4 for QR, 10 for 1D).
    pub quiet: usize,
}

impl Symbol {
    /// From rows of modules (all the same length; `true` = dark).
    pub fn from_rows(rows: &[Vec<bool>], quiet: usize) -> Result<Symbol, SceneError> {
        let width = rows.first().map_or(0, Vec::len);
        if width == 0 || rows.iter().any(|r| r.len() != width) {
            return Err(SceneError::Empty);
        }
        Ok(Symbol {
            width,
            height: rows.len(),
            dark: rows.concat(),
            quiet,
        })
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }
}

/// QR error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ec {
    L,
    M,
    Q,
    H,
}

impl Ec {
    pub const ALL: [Ec; 4] = [Ec::L, Ec::M, Ec::Q, Ec::H];

    fn level(self) -> qrcode::EcLevel {
        match self {
            Ec::L => qrcode::EcLevel::L,
            Ec::M => qrcode::EcLevel::M,
            Ec::Q => qrcode::EcLevel::Q,
            Ec::H => qrcode::EcLevel::H,
        }
    }

    pub fn as_char(self) -> char {
        match self {
            Ec::L => 'L',
            Ec::M => 'M',
            Ec::Q => 'Q',
            Ec::H => 'H',
        }
    }
}

/// A QR symbol for `bytes`: `version` 1–40 or the smallest that fits;
/// with `eci`, an ECI designator (26 = UTF-8, 32 = GB18030, …) and the
/// bytes in byte mode; without, the encoder's optimal segmentation.
pub fn qr(
    bytes: &[u8],
    version: Option<i16>,
    ec: Ec,
    eci: Option<u32>,
) -> Result<Symbol, SceneError> {
    let err = |e: qrcode::types::QrError| SceneError::Qr(format!("{e:?}"));
    let code = match eci {
        None => match version {
            Some(v) => qrcode::QrCode::with_version(bytes, qrcode::Version::Normal(v), ec.level()),
            None => qrcode::QrCode::with_error_correction_level(bytes, ec.level()),
        }
        .map_err(err)?,
        Some(eci) => {
            let versions: Vec<i16> = match version {
                Some(v) => vec![v],
                None => (1..=40).collect(),
            };
            let mut made = Err(SceneError::Qr("too long".into()));
            for v in versions {
                let mut bits = qrcode::bits::Bits::new(qrcode::Version::Normal(v));
                let ok = bits.push_eci_designator(eci).is_ok()
                    && bits.push_byte_data(bytes).is_ok()
                    && bits.push_terminator(ec.level()).is_ok();
                if ok {
                    made = qrcode::QrCode::with_bits(bits, ec.level()).map_err(err);
                    break;
                }
            }
            made?
        }
    };
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok(Symbol {
        width,
        height: width,
        dark,
        quiet: 4,
    })
}

/// The number of payload bytes a QR symbol of `version` and `ec` holds in
/// byte mode (without ECI).
pub fn qr_byte_capacity(version: i16, ec: Ec) -> usize {
    let (mut lo, mut hi) = (1usize, 3000usize);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let probe = vec![b'a'; mid];
        if qrcode::QrCode::with_version(&probe, qrcode::Version::Normal(version), ec.level())
            .is_ok()
        {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// 1D symbologies the scenes draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Linear {
    Code128,
    Ean13,
    Code39,
}

/// A 1D symbol for `data`, `rows` modules tall.
pub fn linear(kind: Linear, data: &str, rows: usize) -> Result<Symbol, SceneError> {
    let bars = match kind {
        Linear::Code128 => {
            let mut body = b"{B".to_vec();
            body.extend(data.as_bytes());
            symbols::code128(&body).ok_or(SceneError::Barcode("Code 128"))?
        }
        Linear::Ean13 => symbols::ean13(data.as_bytes()).ok_or(SceneError::Barcode("EAN-13"))?,
        Linear::Code39 => symbols::code39(data.as_bytes()).ok_or(SceneError::Barcode("Code 39"))?,
    };
    let rows: Vec<Vec<bool>> = (0..rows.max(1)).map(|_| bars.clone()).collect();
    Symbol::from_rows(&rows, 10)
}

/// A phone screen's look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Screen {
    /// Light modules on a black screen (an app in dark mode).
    pub dark_mode: bool,
    /// A reflection of the ceiling lights on the glass.
    pub glare: bool,
    /// The screen's pixel grid, which the camera resamples into moiré.
    pub moire: bool,
}

/// What the code is shown on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Medium {
    /// A printed sheet (a letter, a form) lying on a desk.
    Paper,
    /// A thermal receipt: greyish paper, faded print with head streaks.
    Receipt,
    /// A phone held up to the camera.
    Screen(Screen),
}

/// How the camera saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shot {
    /// Frame pixels per module (before perspective).
    pub module_px: f64,
    /// In-plane rotation, degrees.
    pub rotation_deg: f64,
    /// Perspective: how much narrower the far edge is (0 = none, 0.4 =
    /// strongly tilted).
    pub tilt: f64,
    /// Direction of the tilt, degrees (0 = top edge far).
    pub tilt_dir_deg: f64,
    /// Gaussian blur sigma, frame pixels (defocus, hand shake).
    pub blur: f32,
    /// Sensor noise sigma, grey levels.
    pub noise: f32,
    /// JPEG quality of the camera's compression, when it compresses.
    pub jpeg: Option<u8>,
    /// 1 = full contrast; 0.2 = dark modules barely darker than light.
    pub contrast: f32,
}

impl Default for Shot {
    fn default() -> Self {
        Shot {
            module_px: 5.0,
            rotation_deg: 0.0,
            tilt: 0.0,
            tilt_dir_deg: 0.0,
            blur: 0.6,
            noise: 2.0,
            jpeg: Some(90),
            contrast: 1.0,
        }
    }
}

/// A made scene.
#[derive(Debug, Clone)]
pub struct CodeScene {
    pub image: RgbImage,
    /// The symbol's corners in the frame (top-left, top-right,
    /// bottom-right, bottom-left of the modules, quiet zone excluded).
    pub corners: [(f64, f64); 4],
}

/// Source pixels per module on paper and receipts.
const PRINT_PX: u32 = 4;
/// Screen pixels per module on a phone, and source pixels per screen
/// pixel (the pixel grid is drawn at this resolution).
const SCREEN_PX_PER_MODULE: u32 = 5;
const SUBPIXELS: u32 = 3;

/// Draws `symbol` on `medium` as `shot` says, on a 1280x720 frame.
pub fn render(
    symbol: &Symbol,
    medium: &Medium,
    shot: &Shot,
    seed: u64,
) -> Result<CodeScene, SceneError> {
    if symbol.width == 0 || symbol.height == 0 {
        return Err(SceneError::Empty);
    }
    let mut rng = ops::rng(seed);
    let (card, code_rect, src_per_module) = match medium {
        Medium::Paper => paper_card(symbol, shot.contrast, &mut rng),
        Medium::Receipt => receipt_card(symbol, shot.contrast, &mut rng),
        Medium::Screen(s) => phone_card(symbol, s, shot.contrast),
    };
    let k = shot.module_px / f64::from(src_per_module);

    // Card corners around (0, 0), scaled, tilted, rotated.
    let (cw, ch) = (f64::from(card.width()), f64::from(card.height()));
    let to_frame = |x: f64, y: f64| -> (f64, f64) {
        let (mut u, mut v) = ((x - cw / 2.0) * k, (y - ch / 2.0) * k);
        // Tilt: shrink along the tilt direction's far side.
        let (td_s, td_c) = shot.tilt_dir_deg.to_radians().sin_cos();
        let along = -(u * td_s + v * td_c) / (ch.max(cw) * k / 2.0); // +1 at the far edge
        let f = 1.0 - shot.tilt * 0.5 * (along + 1.0);
        let f = f.max(0.2);
        u *= f;
        v *= f;
        let (s, c) = shot.rotation_deg.to_radians().sin_cos();
        (u * c - v * s, u * s + v * c)
    };
    let card_quad = [
        to_frame(0.0, 0.0),
        to_frame(cw, 0.0),
        to_frame(cw, ch),
        to_frame(0.0, ch),
    ];
    let (qx0, qy0, qx1, qy1) = code_rect;
    let q = symbol.quiet as f64 * f64::from(src_per_module);
    let code_quad = [
        to_frame(qx0, qy0),
        to_frame(qx1, qy0),
        to_frame(qx1, qy1),
        to_frame(qx0, qy1),
    ];
    let quiet_quad = [
        to_frame(qx0 - q, qy0 - q),
        to_frame(qx1 + q, qy0 - q),
        to_frame(qx1 + q, qy1 + q),
        to_frame(qx0 - q, qy1 + q),
    ];
    // Place so the code and its quiet zone are inside the frame, at a
    // random spot where there is room.
    let (minx, maxx) = span(quiet_quad.iter().map(|p| p.0));
    let (miny, maxy) = span(quiet_quad.iter().map(|p| p.1));
    let (fw, fh) = (f64::from(WIDTH), f64::from(HEIGHT));
    let room_x = (fw - (maxx - minx)).max(0.0);
    let room_y = (fh - (maxy - miny)).max(0.0);
    let ox = -minx + room_x * rng.random_range(0.2..0.8);
    let oy = -miny + room_y * rng.random_range(0.2..0.8);
    let shift = |p: (f64, f64)| (p.0 + ox, p.1 + oy);

    let mut frame = ops::desk(WIDTH, HEIGHT, seed ^ 0x5eed);
    if let Medium::Screen(_) = medium {
        // Exposure is set by the bright screen: the room looks dark.
        for p in frame.pixels_mut() {
            p.0 = p.0.map(|c| (f32::from(c) * 0.45) as u8);
        }
    } else {
        ops::shadow(
            &mut frame,
            &card_quad.map(shift).map(|(x, y)| (x + 18.0, y + 14.0)),
            0.35,
            12.0,
        );
    }
    ops::place(&mut frame, &card, card_quad.map(shift));
    let corners = code_quad.map(shift);

    match medium {
        Medium::Screen(s) if s.glare => {
            let c = (
                rng.random_range(corners[0].0.min(corners[2].0)..=corners[0].0.max(corners[2].0)),
                rng.random_range(corners[0].1.min(corners[2].1)..=corners[0].1.max(corners[2].1)),
            );
            let side = (maxx - minx).max(maxy - miny);
            ops::glare(
                &mut frame,
                c,
                side * rng.random_range(0.18..0.32),
                rng.random_range(0.55..0.8),
            );
        }
        Medium::Screen(_) => {}
        _ => {
            let a: f32 = rng.random_range(0.0..360.0);
            ops::light_gradient(&mut frame, rng.random_range(0.75..0.95), 1.05, a);
        }
    }
    let mut frame = ops::blur(&frame, shot.blur);
    ops::noise(&mut frame, shot.noise, &mut rng);
    if let Some(q) = shot.jpeg {
        frame = ops::jpeg_roundtrip(&frame, q);
    }
    Ok(CodeScene {
        image: frame,
        corners,
    })
}

fn span(it: impl Iterator<Item = f64>) -> (f64, f64) {
    it.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)))
}

fn mix(light: u8, dark: u8, contrast: f32) -> u8 {
    (f32::from(light) - (f32::from(light) - f32::from(dark)) * contrast.clamp(0.0, 1.0)).round()
        as u8
}

/// Draws the modules with their top-left at (`x0`, `y0`), `px` source
/// pixels each; `ink(x, y)` gives the colour of a dark module's pixel.
fn draw_modules(
    img: &mut RgbImage,
    symbol: &Symbol,
    x0: u32,
    y0: u32,
    px: u32,
    ink: impl Fn(u32, u32) -> Rgb<u8>,
) {
    for my in 0..symbol.height {
        for mx in 0..symbol.width {
            if !symbol.is_dark(mx, my) {
                continue;
            }
            for dy in 0..px {
                for dx in 0..px {
                    let (x, y) = (x0 + mx as u32 * px + dx, y0 + my as u32 * px + dy);
                    if x < img.width() && y < img.height() {
                        img.put_pixel(x, y, ink(x, y));
                    }
                }
            }
        }
    }
}

/// A1-ish sheet: a heading, a few text lines and the code.
/// Returns the card, the code's rectangle in it and source px per module.
fn paper_card(
    symbol: &Symbol,
    contrast: f32,
    rng: &mut StdRng,
) -> (RgbImage, (f64, f64, f64, f64), u32) {
    let px = PRINT_PX;
    let (sw, sh) = (symbol.width as u32 * px, symbol.height as u32 * px);
    let margin = (symbol.quiet as u32 + 6) * px;
    let text_h = 90;
    let w = (sw + 2 * margin).max(360);
    let h = sh + 2 * margin + text_h + 60;
    let paper = Rgb([250, 250, 246]);
    let mut img = RgbImage::from_pixel(w, h, paper);
    let ink = mix(250, 20, contrast);
    let ink = Rgb([ink, ink, ink.saturating_add(4)]);
    ops::draw_text(&mut img, 24.0, 18.0, 26.0, "朝阳区政务服务中心", ink, true);
    let lines = ["预约凭证 / 请在自助终端扫码", "办理事项：社保卡补办"];
    for (i, l) in lines.iter().enumerate() {
        ops::draw_text(&mut img, 24.0, 54.0 + 22.0 * i as f32, 16.0, l, ink, false);
    }
    let x0 = (w - sw) / 2;
    let y0 = text_h + 10 + margin;
    draw_modules(&mut img, symbol, x0, y0, px, |_, _| ink);
    let foot = format!("No. {:06}", rng.random_range(0..1_000_000));
    ops::draw_text(
        &mut img,
        24.0,
        (y0 + sh + margin / 2) as f32,
        16.0,
        &foot,
        ink,
        false,
    );
    let rect = (
        f64::from(x0),
        f64::from(y0),
        f64::from(x0 + sw),
        f64::from(y0 + sh),
    );
    (img, rect, px)
}

/// A strip of thermal paper: greyish, print not quite black, and lighter
/// columns where print-head dots are worn.
fn receipt_card(
    symbol: &Symbol,
    contrast: f32,
    rng: &mut StdRng,
) -> (RgbImage, (f64, f64, f64, f64), u32) {
    let px = PRINT_PX;
    let (sw, sh) = (symbol.width as u32 * px, symbol.height as u32 * px);
    let margin = (symbol.quiet as u32 + 3) * px;
    let w = (sw + 2 * margin).max(300);
    let h = sh + 2 * margin + 200;
    let mut img = RgbImage::from_pixel(w, h, Rgb([236, 235, 229]));
    let dark = mix(236, 52, contrast * rng.random_range(0.85..1.0));
    let worn: Vec<u32> = (0..3).map(|_| rng.random_range(0..w)).collect();
    let ink = move |x: u32, _y: u32| {
        let fade = if worn.iter().any(|c| x.abs_diff(*c) < 2) {
            70
        } else {
            0
        };
        let v = dark.saturating_add(fade);
        Rgb([v, v, v.saturating_add(6)])
    };
    let text_ink = Rgb([dark, dark, dark]);
    ops::draw_text(&mut img, 16.0, 14.0, 20.0, "业务受理回执", text_ink, true);
    ops::draw_text(
        &mut img,
        16.0,
        44.0,
        14.0,
        "受理编号 2025-0137",
        text_ink,
        false,
    );
    ops::draw_text(
        &mut img,
        16.0,
        64.0,
        14.0,
        "扫码查询办理进度",
        text_ink,
        false,
    );
    let x0 = (w - sw) / 2;
    let y0 = 90 + margin;
    draw_modules(&mut img, symbol, x0, y0, px, ink);
    ops::draw_text(
        &mut img,
        16.0,
        (y0 + sh + margin) as f32,
        14.0,
        "请妥善保管本回执",
        text_ink,
        false,
    );
    let rect = (
        f64::from(x0),
        f64::from(y0),
        f64::from(x0 + sw),
        f64::from(y0 + sh),
    );
    (img, rect, px)
}

/// A phone: black body and bezel, the screen with the code on a card.
/// With `moire`, every screen pixel is drawn as a 3x3 cell with a darker
/// grid line, the structure a camera aliases into moiré.
fn phone_card(symbol: &Symbol, s: &Screen, contrast: f32) -> (RgbImage, (f64, f64, f64, f64), u32) {
    let spx = SCREEN_PX_PER_MODULE;
    let (sw, sh) = (symbol.width as u32 * spx, symbol.height as u32 * spx);
    let quiet = symbol.quiet as u32 * spx;
    let screen_w = sw + 2 * quiet + 40;
    let screen_h = sh + 2 * quiet + 260;
    let (bg, card_bg, fg) = if s.dark_mode {
        (16u8, 16u8, mix(16, 236, contrast))
    } else {
        (238u8, 252u8, mix(252, 12, contrast))
    };
    // The screen at its own resolution.
    let mut screen = RgbImage::from_pixel(screen_w, screen_h, Rgb([bg, bg, bg.saturating_add(2)]));
    let title = if s.dark_mode {
        Rgb([220, 220, 220])
    } else {
        Rgb([30, 30, 30])
    };
    ops::draw_text(&mut screen, 20.0, 24.0, 26.0, "付款码", title, true);
    ops::draw_text(
        &mut screen,
        20.0,
        62.0,
        15.0,
        "向商家出示 · 每分钟自动更新",
        title,
        false,
    );
    let (x0, y0) = ((screen_w - sw) / 2, 120 + quiet);
    ops::fill_rect(
        &mut screen,
        i64::from(x0 - quiet),
        i64::from(y0 - quiet),
        sw + 2 * quiet,
        sh + 2 * quiet,
        Rgb([card_bg, card_bg, card_bg]),
    );
    draw_modules(&mut screen, symbol, x0, y0, spx, |_, _| Rgb([fg, fg, fg]));

    // Cells: each screen pixel becomes SUBPIXELS² source pixels.
    let cell = if s.moire { SUBPIXELS } else { 1 };
    let bezel = 14 * cell;
    let body = 6 * cell;
    let (w, h) = (
        screen_w * cell + 2 * (bezel + body),
        screen_h * cell + 2 * (bezel + body) + 30 * cell,
    );
    let mut img = RgbImage::from_pixel(w, h, Rgb([34, 34, 38]));
    ops::fill_rect(
        &mut img,
        i64::from(body),
        i64::from(body),
        w - 2 * body,
        h - 2 * body,
        Rgb([8, 8, 10]),
    );
    let (ox, oy) = (body + bezel, body + bezel + 15 * cell);
    for y in 0..screen_h * cell {
        for x in 0..screen_w * cell {
            let p = screen.get_pixel(x / cell, y / cell).0;
            let grid = cell > 1 && (x % cell == cell - 1 || y % cell == cell - 1);
            let f = if grid { 0.62 } else { 1.0 };
            img.put_pixel(ox + x, oy + y, Rgb(p.map(|c| (f32::from(c) * f) as u8)));
        }
    }
    // A little optical smoothing of the grid, as the lens gives.
    let img = if cell > 1 { ops::blur(&img, 0.5) } else { img };
    let rect = (
        f64::from(ox + x0 * cell),
        f64::from(oy + y0 * cell),
        f64::from(ox + (x0 + sw) * cell),
        f64::from(oy + (y0 + sh) * cell),
    );
    (img, rect, spx * cell)
}

/// How a payload's text is put into the symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    Utf8,
    Gb18030,
}

/// The bytes of `text` in `enc`.
pub fn encode_text(text: &str, enc: TextEncoding) -> Vec<u8> {
    match enc {
        TextEncoding::Utf8 => text.as_bytes().to_vec(),
        TextEncoding::Gb18030 => encoding_rs::GB18030.encode(text).0.into_owned(),
    }
}

/// What a corpus case shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Qr {
        bytes: Vec<u8>,
        version: Option<i16>,
        ec: Ec,
        eci: Option<u32>,
    },
    Linear(Linear, String),
}

/// One corpus frame: what to draw and the text a decoder must return.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// File stem, unique in the corpus (`clean-v03-M`).
    pub name: String,
    /// The variant (`clean`, `screen`, `gb18030-zh`, …).
    pub category: &'static str,
    pub expected: String,
    pub content: Content,
    pub medium: Medium,
    pub shot: Shot,
    pub seed: u64,
}

impl Case {
    /// Makes the frame.
    pub fn render(&self) -> Result<CodeScene, SceneError> {
        let symbol = match &self.content {
            Content::Qr {
                bytes,
                version,
                ec,
                eci,
            } => qr(bytes, *version, *ec, *eci)?,
            Content::Linear(kind, data) => linear(*kind, data, 50)?,
        };
        render(&symbol, &self.medium, &self.shot, self.seed)
    }
}

const ALNUM: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";

/// An ASCII payload of `len` bytes like a government service link.
pub fn ascii_payload(len: usize, rng: &mut StdRng) -> String {
    let mut s = String::from("https://zwfw.example.gov.cn/q?c=");
    while s.len() < len {
        let i = rng.random_range(0..ALNUM.len());
        s.push(char::from(ALNUM.get(i).copied().unwrap_or(b'x')));
    }
    s.truncate(len.max(1));
    s
}

const ZH: &[&str] = &[
    "缴费",
    "预约",
    "社保",
    "医保",
    "公积金",
    "户籍",
    "居住证",
    "不动产",
    "营业执照",
    "朝阳区",
    "海淀区",
    "政务服务中心",
    "窗口",
    "号",
    "业务编号",
    "办理",
    "进度",
    "：",
    "，",
    "。",
];

/// A Chinese payload whose encoding in `enc` is at most `max_bytes` long.
pub fn chinese_payload(max_bytes: usize, enc: TextEncoding, rng: &mut StdRng) -> String {
    let mut s = String::from("政务码");
    loop {
        let piece = if rng.random_bool(0.2) {
            format!("{}", rng.random_range(10..9999))
        } else {
            ZH.get(rng.random_range(0..ZH.len()))
                .copied()
                .unwrap_or("办")
                .to_string()
        };
        let next = format!("{s}{piece}");
        if encode_text(&next, enc).len() > max_bytes {
            return s;
        }
        s = next;
    }
}

/// The corpus: QR versions 1–10 × EC L/M/Q/H in the variants `clean`,
/// `rotated`, `perspective`, `blur`, `noise`, `inverted` (dark-mode
/// screen) and `screen` (glare and moiré); plus `low-contrast`, `small`
/// (2–2.6 px modules),
/// `utf8-zh`, `gb18030-zh`, `eci`, `receipt`, `code128`, `ean13` and
/// `code39` cases. Deterministic.
pub fn corpus() -> Vec<Case> {
    let mut out = Vec::new();
    let mut rng = ops::rng(2025);
    let mut seed = 1000u64;
    let mut next_seed = || {
        seed += 1;
        seed
    };
    const GRID: [&str; 7] = [
        "clean",
        "rotated",
        "perspective",
        "blur",
        "noise",
        "inverted",
        "screen",
    ];
    for category in GRID {
        for v in 1..=10i16 {
            for ec in Ec::ALL {
                let cap = qr_byte_capacity(v, ec);
                let len = rng.random_range(cap.div_ceil(2)..=cap);
                let text = ascii_payload(len, &mut rng);
                let mut shot = Shot {
                    module_px: rng.random_range(3.2..6.5),
                    rotation_deg: rng.random_range(-6.0..6.0),
                    ..Shot::default()
                };
                // Keep large versions inside the frame.
                let modules = f64::from(17 + 4 * v + 8);
                shot.module_px = shot.module_px.min(560.0 / modules);
                let mut medium = Medium::Paper;
                match category {
                    "rotated" => shot.rotation_deg = rng.random_range(15.0..345.0),
                    "perspective" => {
                        shot.tilt = rng.random_range(0.2..0.4);
                        shot.tilt_dir_deg = rng.random_range(0.0..360.0);
                    }
                    "blur" => shot.blur = (shot.module_px * rng.random_range(0.3..0.42)) as f32,
                    "noise" => {
                        shot.noise = rng.random_range(12.0..22.0);
                        shot.jpeg = Some(rng.random_range(40..70));
                    }
                    "inverted" => {
                        medium = Medium::Screen(Screen {
                            dark_mode: true,
                            glare: false,
                            moire: true,
                        })
                    }
                    "screen" => {
                        medium = Medium::Screen(Screen {
                            dark_mode: rng.random_bool(0.25),
                            glare: true,
                            moire: true,
                        })
                    }
                    _ => {}
                }
                out.push(Case {
                    name: format!("{category}-v{v:02}-{}", ec.as_char()),
                    category,
                    expected: text.clone(),
                    content: Content::Qr {
                        bytes: text.into_bytes(),
                        version: Some(v),
                        ec,
                        eci: None,
                    },
                    medium,
                    shot,
                    seed: next_seed(),
                });
            }
        }
    }
    // Single-variant cases, ten of each.
    for i in 0..10usize {
        let ec = Ec::ALL.get(i % 4).copied().unwrap_or(Ec::M);
        let v = 2 + i as i16 % 8;
        let text = ascii_payload(qr_byte_capacity(v, ec) * 3 / 4, &mut rng);
        out.push(Case {
            name: format!("low-contrast-{i:02}"),
            category: "low-contrast",
            expected: text.clone(),
            content: Content::Qr {
                bytes: text.into_bytes(),
                version: Some(v),
                ec,
                eci: None,
            },
            medium: Medium::Screen(Screen {
                dark_mode: false,
                glare: false,
                moire: false,
            }),
            shot: Shot {
                module_px: rng.random_range(3.5..6.0),
                contrast: rng.random_range(0.07..0.14),
                ..Shot::default()
            },
            seed: next_seed(),
        });
        let v = 1 + i as i16;
        let text = ascii_payload(qr_byte_capacity(v, ec) * 3 / 4, &mut rng);
        out.push(Case {
            name: format!("small-{i:02}"),
            category: "small",
            expected: text.clone(),
            content: Content::Qr {
                bytes: text.into_bytes(),
                version: Some(v),
                ec,
                eci: None,
            },
            medium: Medium::Paper,
            shot: Shot {
                module_px: rng.random_range(2.0..2.6),
                rotation_deg: rng.random_range(-10.0..10.0),
                blur: 0.5,
                ..Shot::default()
            },
            seed: next_seed(),
        });
        for (category, enc, eci) in [
            ("utf8-zh", TextEncoding::Utf8, None),
            ("gb18030-zh", TextEncoding::Gb18030, None),
            (
                "eci",
                if i % 2 == 0 {
                    TextEncoding::Utf8
                } else {
                    TextEncoding::Gb18030
                },
                Some(if i % 2 == 0 { 26 } else { 32 }),
            ),
        ] {
            let text = chinese_payload(20 + 14 * i, enc, &mut rng);
            out.push(Case {
                name: format!("{category}-{i:02}"),
                category,
                expected: text.clone(),
                content: Content::Qr {
                    bytes: encode_text(&text, enc),
                    version: None,
                    ec,
                    eci,
                },
                medium: if i % 3 == 2 {
                    Medium::Screen(Screen {
                        dark_mode: false,
                        glare: false,
                        moire: true,
                    })
                } else {
                    Medium::Paper
                },
                shot: Shot {
                    module_px: rng.random_range(3.5..6.0),
                    rotation_deg: rng.random_range(-20.0..20.0),
                    ..Shot::default()
                },
                seed: next_seed(),
            });
        }
        let text = format!(
            "https://zwfw.example.gov.cn/r/{:010}",
            rng.random_range(0..u32::MAX)
        );
        out.push(Case {
            name: format!("receipt-{i:02}"),
            category: "receipt",
            expected: text.clone(),
            content: Content::Qr {
                bytes: text.into_bytes(),
                version: None,
                ec: Ec::M,
                eci: None,
            },
            medium: Medium::Receipt,
            shot: Shot {
                module_px: rng.random_range(3.5..6.0),
                rotation_deg: rng.random_range(-25.0..25.0),
                tilt: rng.random_range(0.0..0.25),
                tilt_dir_deg: rng.random_range(0.0..360.0),
                blur: rng.random_range(0.5..1.2),
                noise: rng.random_range(3.0..8.0),
                jpeg: Some(75),
                ..Shot::default()
            },
            seed: next_seed(),
        });
    }
    for i in 0..6usize {
        let digits: String = (0..12)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        let ean = ean13_with_check(&digits);
        let c128 = format!("SB{:08}-{}", rng.random_range(0..100_000_000u32), i);
        let c39 = format!("ZW{:06}", rng.random_range(0..1_000_000u32));
        for (category, kind, data) in [
            ("code128", Linear::Code128, c128),
            ("ean13", Linear::Ean13, ean),
            ("code39", Linear::Code39, c39),
        ] {
            out.push(Case {
                name: format!("{category}-{i:02}"),
                category,
                expected: data.clone(),
                content: Content::Linear(kind, data),
                medium: Medium::Paper,
                shot: Shot {
                    module_px: rng.random_range(2.2..3.5),
                    rotation_deg: rng.random_range(-12.0..12.0),
                    tilt: rng.random_range(0.0..0.15),
                    noise: rng.random_range(2.0..6.0),
                    ..Shot::default()
                },
                seed: next_seed(),
            });
        }
    }
    out
}

/// `digits` (12) with the EAN-13 check digit appended.
pub fn ean13_with_check(digits: &str) -> String {
    let sum: u32 = digits
        .bytes()
        .take(12)
        .enumerate()
        .map(|(i, c)| u32::from(c.wrapping_sub(b'0')) * if i % 2 == 1 { 3 } else { 1 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// A phone showing a QR code of `text` (UTF-8), for the simulated camera.
pub fn phone_showing(text: &str, dark_mode: bool, seed: u64) -> Result<CodeScene, SceneError> {
    let symbol = qr(text.as_bytes(), None, Ec::M, None)?;
    let mut rng = ops::rng(seed);
    let shot = Shot {
        module_px: (300.0 / symbol.width as f64).clamp(3.0, 9.0),
        rotation_deg: rng.random_range(-10.0..10.0),
        tilt: rng.random_range(0.0..0.15),
        tilt_dir_deg: rng.random_range(0.0..360.0),
        ..Shot::default()
    };
    let screen = Screen {
        dark_mode,
        glare: rng.random_bool(0.5),
        moire: true,
    };
    render(&symbol, &Medium::Screen(screen), &shot, seed)
}

/// A thermal receipt with a QR code of `text`, for the simulated camera.
pub fn receipt_showing(text: &str, seed: u64) -> Result<CodeScene, SceneError> {
    let symbol = qr(text.as_bytes(), None, Ec::M, None)?;
    let mut rng = ops::rng(seed);
    let shot = Shot {
        module_px: (260.0 / symbol.width as f64).clamp(3.0, 8.0),
        rotation_deg: rng.random_range(-15.0..15.0),
        ..Shot::default()
    };
    render(&symbol, &Medium::Receipt, &shot, seed)
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
    fn corpus_names_are_unique_and_cases_render() {
        let cases = corpus();
        let mut names: Vec<_> = cases.iter().map(|c| c.name.clone()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), cases.len());
        assert!(cases.len() > 300);
        // One of each category renders to a full frame, code inside it.
        let mut seen = std::collections::HashSet::new();
        for c in cases.iter().filter(|c| seen.insert(c.category)) {
            let s = c.render().unwrap();
            assert_eq!(s.image.dimensions(), (WIDTH, HEIGHT), "{}", c.name);
            for (x, y) in s.corners {
                assert!((0.0..=f64::from(WIDTH)).contains(&x), "{} x {x}", c.name);
                assert!((0.0..=f64::from(HEIGHT)).contains(&y), "{} y {y}", c.name);
            }
        }
    }

    #[test]
    fn qr_versions_and_eci_are_as_asked() {
        let s = qr(b"hello", Some(7), Ec::H, None).unwrap();
        assert_eq!(s.width, 17 + 4 * 7);
        let cap = qr_byte_capacity(1, Ec::L);
        assert_eq!(cap, 17, "version 1-L holds 17 bytes");
        assert!(qr(&vec![b'a'; cap + 1], Some(1), Ec::L, None).is_err());
        let e = qr("社保".as_bytes(), None, Ec::M, Some(26)).unwrap();
        assert_eq!(e.width, 21);
    }

    #[test]
    fn gb18030_payload_fits_its_byte_budget() {
        let mut r = ops::rng(1);
        let t = chinese_payload(40, TextEncoding::Gb18030, &mut r);
        let b = encode_text(&t, TextEncoding::Gb18030);
        assert!(b.len() <= 40 && b.len() > 20);
        assert!(std::str::from_utf8(&b).is_err());
    }

    #[test]
    fn ean_check_digit() {
        assert_eq!(ean13_with_check("400638133393"), "4006381333931");
    }
}
