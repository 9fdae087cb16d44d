//! Document scenes: what the document camera (高拍仪) sees.
//!
//! [`render`] draws a synthetic Chinese page at a known resolution: an
//! application form (申请表), a certificate (证明) with a red round stamp,
//! a household-register-like card (常住人口登记卡) on tinted paper, and a
//! dense page of about 2 000 characters (the worst case for file size).
//! Every name, number and address is made up. Each [`Page`] keeps the
//! text it shows, line by line, for OCR comparisons.
//!
//! [`photo`] lays the page on a desk under a fixed-mount camera and takes
//! the picture: rotation and a little keystone (perspective), the camera
//! arm's soft shadow, uneven light, a glare spot, lens blur, sensor noise
//! and the camera's own JPEG. The [`Photo`] keeps the page's true corners
//! in the photo and the camera's scale, so a page finder can be measured
//! against the truth (the tender's "distortion ≤ 1 %").
//!
//! All of it is deterministic for a seed.

use image::{Rgb, RgbImage};
use rand::Rng;
use rand::seq::SliceRandom;

use super::ops;

/// The kinds of page the simulator can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 政务服务事项申请表: A4 portrait, a ruled table, values in blue ink.
    ApplicationForm,
    /// 证明: A5 portrait, a short letter with a red round stamp over the
    /// issuer's name.
    Certificate,
    /// 常住人口登记卡: A6 landscape on pale tinted paper, a dense grid.
    HouseholdRegister,
    /// A4 portrait notice with about 2 000 characters of body text.
    Dense,
}

impl Kind {
    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 4] = [
        Kind::ApplicationForm,
        Kind::Certificate,
        Kind::HouseholdRegister,
        Kind::Dense,
    ];

    /// A short ASCII name (file names, test output).
    pub fn name(self) -> &'static str {
        match self {
            Kind::ApplicationForm => "application-form",
            Kind::Certificate => "certificate",
            Kind::HouseholdRegister => "household-register",
            Kind::Dense => "dense",
        }
    }

    /// Paper size in millimetres, width × height as laid.
    pub fn size_mm(self) -> (f64, f64) {
        match self {
            Kind::ApplicationForm | Kind::Dense => (210.0, 297.0),
            Kind::Certificate => (148.0, 210.0),
            Kind::HouseholdRegister => (148.0, 105.0),
        }
    }
}

/// A rendered page.
#[derive(Debug, Clone)]
pub struct Page {
    pub kind: Kind,
    pub image: RgbImage,
    pub dpi: u32,
    /// Width × height in millimetres.
    pub size_mm: (f64, f64),
    /// The text on the page, one printed line per line, in reading order.
    pub text: String,
}

const BLACK: Rgb<u8> = Rgb([20, 20, 24]);
const BLUE_INK: Rgb<u8> = Rgb([25, 45, 140]);
const STAMP_RED: Rgb<u8> = Rgb([220, 30, 40]);

/// A page being drawn, in millimetre coordinates.
struct Sheet {
    img: RgbImage,
    px_per_mm: f64,
    lines: Vec<String>,
}

impl Sheet {
    fn new(size_mm: (f64, f64), dpi: u32, paper: Rgb<u8>) -> Sheet {
        let px_per_mm = f64::from(dpi) / 25.4;
        let w = (size_mm.0 * px_per_mm).round() as u32;
        let h = (size_mm.1 * px_per_mm).round() as u32;
        Sheet {
            img: RgbImage::from_pixel(w, h, paper),
            px_per_mm,
            lines: Vec::new(),
        }
    }

    fn px(&self, mm: f64) -> f32 {
        (mm * self.px_per_mm) as f32
    }

    /// Draws `text` with its top-left at (x, y) mm, `size` mm per em;
    /// returns the advance in mm. Recorded as one line of the page's text.
    fn text(&mut self, x: f64, y: f64, size: f64, text: &str, colour: Rgb<u8>, bold: bool) -> f64 {
        self.lines.push(text.to_owned());
        self.draw(x, y, size, text, colour, bold)
    }

    /// Draws without recording (parts of a line already recorded).
    fn draw(&mut self, x: f64, y: f64, size: f64, text: &str, colour: Rgb<u8>, bold: bool) -> f64 {
        let (px, py, ps) = (self.px(x), self.px(y), self.px(size));
        let adv = ops::draw_text(&mut self.img, px, py, ps, text, colour, bold);
        f64::from(adv) / self.px_per_mm
    }

    fn width_mm(&self, size: f64, text: &str, bold: bool) -> f64 {
        f64::from(ops::text_width(self.px(size), text, bold)) / self.px_per_mm
    }

    /// Centred line.
    fn centred(&mut self, y: f64, size: f64, text: &str, colour: Rgb<u8>, bold: bool) {
        let page_w = f64::from(self.img.width()) / self.px_per_mm;
        let w = self.width_mm(size, text, bold);
        self.text((page_w - w) / 2.0, y, size, text, colour, bold);
    }

    /// A filled rectangle in mm.
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, colour: Rgb<u8>) {
        let p = self.px_per_mm;
        ops::fill_rect(
            &mut self.img,
            (x * p).round() as i64,
            (y * p).round() as i64,
            ((w * p).round() as u32).max(1),
            ((h * p).round() as u32).max(1),
            colour,
        );
    }

    fn hline(&mut self, x0: f64, x1: f64, y: f64, t: f64) {
        self.rect(x0, y - t / 2.0, x1 - x0, t, BLACK);
    }

    fn vline(&mut self, x: f64, y0: f64, y1: f64, t: f64) {
        self.rect(x - t / 2.0, y0, t, y1 - y0, BLACK);
    }

    /// Splits `text` into lines no wider than `width` mm.
    fn wrap(&self, text: &str, size: f64, width: f64) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut w = 0.0;
        for c in text.chars() {
            let cw = self.width_mm(size, c.encode_utf8(&mut [0; 4]), false);
            // Keep closing punctuation on the line it closes.
            let closing = "，。、；：！？）》”".contains(c);
            if w + cw > width && !line.is_empty() && !closing {
                lines.push(std::mem::take(&mut line));
                w = 0.0;
            }
            line.push(c);
            w += cw;
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// A wrapped paragraph from (x, y); the first line indented two
    /// characters. Returns the y below it.
    fn paragraph(
        &mut self,
        x: f64,
        mut y: f64,
        width: f64,
        size: f64,
        pitch: f64,
        text: &str,
    ) -> f64 {
        let indented = format!("\u{3000}\u{3000}{text}");
        for line in self.wrap(&indented, size, width) {
            let shown = line.trim_start_matches('\u{3000}');
            let lead = (line.chars().count() - shown.chars().count()) as f64 * size;
            self.text(x + lead, y, size, shown, BLACK, false);
            y += pitch;
        }
        y
    }

    /// Multiplies `colour` into the pixels within `r` mm of a circle of
    /// radius `radius` mm round (cx, cy): the ring of a stamp.
    fn ring(&mut self, cx: f64, cy: f64, radius: f64, width: f64, colour: Rgb<u8>) {
        let p = self.px_per_mm;
        let (cxp, cyp, rp, hw) = (cx * p, cy * p, radius * p, width * p / 2.0);
        self.multiply_where(
            colour,
            cxp - rp - hw,
            cyp - rp - hw,
            cxp + rp + hw,
            cyp + rp + hw,
            |x, y| {
                let d = ((x - cxp).powi(2) + (y - cyp).powi(2)).sqrt();
                (hw + 0.5 - (d - rp).abs()).clamp(0.0, 1.0)
            },
        );
    }

    /// A five-pointed star of outer radius `r` mm.
    fn star(&mut self, cx: f64, cy: f64, r: f64, colour: Rgb<u8>) {
        let p = self.px_per_mm;
        let pts: Vec<(f64, f64)> = (0..10)
            .map(|i| {
                let a = -std::f64::consts::FRAC_PI_2 + f64::from(i) * std::f64::consts::PI / 5.0;
                let rr = if i % 2 == 0 { r } else { r * 0.382 };
                ((cx + rr * a.cos()) * p, (cy + rr * a.sin()) * p)
            })
            .collect();
        let (x0, y0, x1, y1) = ((cx - r) * p, (cy - r) * p, (cx + r) * p, (cy + r) * p);
        self.multiply_where(colour, x0, y0, x1, y1, |x, y| {
            if inside(&pts, x, y) { 1.0 } else { 0.0 }
        });
    }

    /// Blends `colour` by multiplication into the box (x0, y0)–(x1, y1) px,
    /// with coverage from `cover(x, y)` at pixel centres (0..1).
    fn multiply_where(
        &mut self,
        colour: Rgb<u8>,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        cover: impl Fn(f64, f64) -> f64,
    ) {
        let (w, h) = (f64::from(self.img.width()), f64::from(self.img.height()));
        for y in y0.max(0.0) as u32..y1.min(h).max(0.0) as u32 {
            for x in x0.max(0.0) as u32..x1.min(w).max(0.0) as u32 {
                let a = cover(f64::from(x) + 0.5, f64::from(y) + 0.5) as f32;
                if a > 0.0 {
                    let px = self.img.get_pixel_mut(x, y);
                    for (d, s) in px.0.iter_mut().zip(colour.0) {
                        let m = f32::from(*d) * f32::from(s) / 255.0;
                        *d = (f32::from(*d) * (1.0 - a) + m * a).round() as u8;
                    }
                }
            }
        }
    }

    /// One character of `size` mm centred on (cx, cy) mm, turned by
    /// `angle` radians (0 = upright), blended by multiplication.
    fn glyph_turned(&mut self, cx: f64, cy: f64, size: f64, c: char, angle: f64, colour: Rgb<u8>) {
        let p = self.px_per_mm;
        let tile_px = (size * p * 1.3).ceil() as u32 + 2;
        let mut tile = RgbImage::from_pixel(tile_px, tile_px, Rgb([255, 255, 255]));
        let s = c.encode_utf8(&mut [0; 4]).to_owned();
        let adv = ops::text_width((size * p) as f32, &s, true);
        let off = (tile_px as f32 - adv) / 2.0;
        ops::draw_text(
            &mut tile,
            off,
            off,
            (size * p) as f32,
            &s,
            Rgb([0, 0, 0]),
            true,
        );
        let (cxp, cyp) = (cx * p, cy * p);
        let half = f64::from(tile_px) / 2.0;
        let reach = half * std::f64::consts::SQRT_2;
        let (sin, cos) = angle.sin_cos();
        self.multiply_where(
            colour,
            cxp - reach,
            cyp - reach,
            cxp + reach,
            cyp + reach,
            |x, y| {
                // Back into the tile: rotate by -angle about the centre.
                let (dx, dy) = (x - cxp, y - cyp);
                let tx = dx * cos + dy * sin + half;
                let ty = -dx * sin + dy * cos + half;
                if tx < 0.0 || ty < 0.0 || tx >= f64::from(tile_px) || ty >= f64::from(tile_px) {
                    return 0.0;
                }
                let v = tile.get_pixel(tx as u32, ty as u32).0[0];
                f64::from(255 - v) / 255.0
            },
        );
    }

    fn finish(self, kind: Kind, dpi: u32) -> Page {
        Page {
            kind,
            image: self.img,
            dpi,
            size_mm: kind.size_mm(),
            text: self.lines.join("\n"),
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

/// Renders a page of `kind` at `dpi` (200 is a good source for a 12 MP
/// photo; 150 matches the stored raster). `seed` varies the made-up
/// details (names, the order of the dense page's sentences).
pub fn render(kind: Kind, dpi: u32, seed: u64) -> Page {
    let mut rng = ops::rng(seed);
    match kind {
        Kind::ApplicationForm => application_form(dpi, &mut rng),
        Kind::Certificate => certificate(dpi, &mut rng),
        Kind::HouseholdRegister => household_register(dpi, &mut rng),
        Kind::Dense => dense(dpi, &mut rng),
    }
}

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: &[&str] = &[
    "小明", "建国", "秀英", "丽华", "志强", "晓燕", "海涛", "文静", "国庆", "春梅",
];

fn pick<'a>(rng: &mut impl Rng, from: &[&'a str]) -> &'a str {
    from.get(rng.random_range(0..from.len()))
        .copied()
        .unwrap_or("某")
}

fn made_up_name(rng: &mut impl Rng) -> String {
    format!("{}{}", pick(rng, SURNAMES), pick(rng, GIVEN))
}

fn application_form(dpi: u32, rng: &mut impl Rng) -> Page {
    let mut s = Sheet::new(Kind::ApplicationForm.size_mm(), dpi, Rgb([252, 252, 250]));
    let name = made_up_name(rng);
    let number: u32 = rng.random_range(1000..9999);
    s.centred(22.0, 8.0, "政务服务事项申请表", BLACK, true);
    s.text(
        20.0,
        36.0,
        4.2,
        &format!("申请编号：WD2026{number}"),
        BLACK,
        false,
    );
    s.text(130.0, 36.0, 4.2, "受理窗口：综合受理区", BLACK, false);
    let (x0, x1, xm) = (20.0, 190.0, 58.0);
    let rows: [(&str, String); 9] = [
        ("申请人姓名", name.clone()),
        ("证件类型", "居民身份证".to_owned()),
        (
            "证件号码",
            format!(
                "41040319{:02}0{}0{:03}",
                rng.random_range(60..99),
                rng.random_range(1..9),
                rng.random_range(100..999)
            ),
        ),
        (
            "联系电话",
            format!("138{:08}", rng.random_range(10_000_000..99_999_999u32)),
        ),
        (
            "通讯地址",
            format!("河南省平顶山市卫东区建设路{}号", rng.random_range(1..200)),
        ),
        ("申请事项", "公共租赁住房资格申请".to_owned()),
        ("家庭人口", format!("{}人", rng.random_range(2..6))),
        ("工作单位", "平顶山市某某商贸有限公司".to_owned()),
        ("申请日期", "2026年11月21日".to_owned()),
    ];
    let mut y = 44.0;
    let row_h = 13.0;
    s.hline(x0, x1, y, 0.5);
    for (label, value) in &rows {
        s.text(x0 + 3.0, y + 4.0, 4.6, label, BLACK, false);
        s.text(xm + 4.0, y + 4.0, 5.0, value, BLUE_INK, false);
        y += row_h;
        s.hline(x0, x1, y, 0.4);
    }
    // Reasons: a tall cell with a paragraph.
    s.text(x0 + 3.0, y + 4.0, 4.6, "申请理由", BLACK, false);
    let reason = "本人家庭现无自有住房，长期租住在外，家庭收入较低，符合公共租赁住房申请条件，特此申请，请予审核。所填信息真实有效，如有虚假，愿意承担相应责任。";
    let mut ty = y + 4.0;
    for line in s.wrap(reason, 4.6, x1 - xm - 8.0) {
        s.text(xm + 4.0, ty, 4.6, &line, BLUE_INK, false);
        ty += 7.0;
    }
    let bottom = (ty + 4.0).max(y + 50.0);
    s.hline(x0, x1, bottom, 0.5);
    s.vline(x0, 44.0, bottom, 0.5);
    s.vline(xm, 44.0, bottom, 0.4);
    s.vline(x1, 44.0, bottom, 0.5);
    let mut y = bottom + 10.0;
    s.text(
        x0,
        y,
        4.6,
        "承诺：以上信息由申请人本人填写，内容真实准确。",
        BLACK,
        false,
    );
    y += 10.0;
    s.text(x0, y, 4.6, "申请人签字：", BLACK, false);
    s.draw(x0 + 28.0, y - 1.0, 6.0, &name, BLUE_INK, false);
    s.text(120.0, y, 4.6, "日期：2026年11月21日", BLACK, false);
    y += 16.0;
    s.hline(x0, x1, y, 0.3);
    y += 6.0;
    s.text(x0, y, 4.2, "以下由窗口工作人员填写", BLACK, true);
    y += 9.0;
    s.text(
        x0,
        y,
        4.2,
        "受理人：＿＿＿＿＿＿　　受理时间：＿＿＿＿年＿＿月＿＿日",
        BLACK,
        false,
    );
    y += 9.0;
    s.text(x0, y, 4.2, "审核意见：", BLACK, false);
    s.text(
        x0,
        280.0,
        3.6,
        "卫东区政务服务中心　监制　　咨询电话：0375-0000000",
        BLACK,
        false,
    );
    s.finish(Kind::ApplicationForm, dpi)
}

fn certificate(dpi: u32, rng: &mut impl Rng) -> Page {
    let mut s = Sheet::new(Kind::Certificate.size_mm(), dpi, Rgb([253, 253, 251]));
    let name = made_up_name(rng);
    let year = rng.random_range(2010..2024);
    s.centred(20.0, 9.0, "证　明", BLACK, true);
    let body = format!(
        "兹证明{name}同志，身份证号码41040319850612{:04}，自{year}年3月起在我单位工作至今，现任办公室科员，工作表现良好，无违法违纪记录。",
        rng.random_range(1000..9999)
    );
    let mut y = 40.0;
    s.text(14.0, y, 5.0, "卫东区住房保障中心：", BLACK, false);
    y += 9.0;
    y = s.paragraph(14.0, y, 120.0, 5.0, 8.5, &body);
    y = s.paragraph(14.0, y, 120.0, 5.0, 8.5, "特此证明。");
    let issuer = "卫东区建设路街道办事处";
    let iy = y + 22.0;
    let iw = s.width_mm(5.0, issuer, false);
    let ix = 134.0 - iw;
    s.text(ix, iy, 5.0, issuer, BLACK, false);
    s.text(
        134.0 - s.width_mm(5.0, "二〇二六年十一月二十日", false),
        iy + 9.0,
        5.0,
        "二〇二六年十一月二十日",
        BLACK,
        false,
    );
    // The stamp over the issuer's name, as signed papers have it.
    let (cx, cy, r) = (ix + iw / 2.0, iy + 4.0, 20.0);
    s.ring(cx, cy, r, 1.1, STAMP_RED);
    s.star(cx, cy, 6.0, STAMP_RED);
    let arc: Vec<char> = issuer.chars().collect();
    let n = arc.len() as f64;
    let span = 220f64.to_radians();
    for (i, c) in arc.iter().enumerate() {
        // Along the top, left to right, upright towards the centre.
        let a = -std::f64::consts::FRAC_PI_2 - span / 2.0 + span * (i as f64 + 0.5) / n;
        let rr = r - 4.6;
        s.glyph_turned(
            cx + rr * a.cos(),
            cy + rr * a.sin(),
            4.4,
            *c,
            a + std::f64::consts::FRAC_PI_2,
            STAMP_RED,
        );
    }
    let label = "证明专用章";
    let lw = 3.6 * label.chars().count() as f64;
    for (i, c) in label.chars().enumerate() {
        s.glyph_turned(
            cx - lw / 2.0 + 3.6 * (i as f64 + 0.5),
            cy + 11.0,
            3.4,
            c,
            0.0,
            STAMP_RED,
        );
    }
    s.text(14.0, 196.0, 3.6, "（本证明三十日内有效）", BLACK, false);
    s.finish(Kind::Certificate, dpi)
}

fn household_register(dpi: u32, rng: &mut impl Rng) -> Page {
    // Pale tinted security paper with a fine wave pattern.
    let mut s = Sheet::new(Kind::HouseholdRegister.size_mm(), dpi, Rgb([246, 236, 232]));
    let p = s.px_per_mm;
    for (x, y, px) in s.img.enumerate_pixels_mut() {
        let (xm, ym) = (f64::from(x) / p, f64::from(y) / p);
        let wave = ((ym * 2.2 + (xm * 0.35).sin() * 2.0).sin() * 0.5 + 0.5) * 10.0;
        px.0[1] = (236.0 - wave) as u8;
        px.0[2] = (232.0 - wave * 0.6) as u8;
    }
    let name = made_up_name(rng);
    s.centred(6.0, 6.0, "常住人口登记卡", BLACK, true);
    let (x0, x1) = (6.0, 142.0);
    let top = 16.0;
    let rh = 10.5;
    // Label, value, label, value.
    let cols = [x0, 24.0, 62.0, 93.0, x1];
    let rows: [[&str; 4]; 7] = [
        ["姓名", name.as_str(), "户主或与户主关系", "户主"],
        [
            "曾用名",
            "无",
            "性别",
            if rng.random_bool(0.5) { "男" } else { "女" },
        ],
        ["出生地", "河南省平顶山市", "民族", "汉"],
        ["籍贯", "河南省叶县", "出生日期", "1985年6月12日"],
        ["宗教信仰", "无", "文化程度", "大学本科"],
        ["婚姻状况", "已婚", "兵役状况", "未服兵役"],
        ["服务处所", "卫东区第一中学", "职业", "教师"],
    ];
    let mut y = top;
    s.hline(x0, x1, y, 0.35);
    for row in &rows {
        let line = row.join(" ");
        s.lines.push(line);
        let cells = [
            (0, 3.6, BLACK),
            (1, 3.8, BLUE_INK),
            (2, 3.6, BLACK),
            (3, 3.8, BLUE_INK),
        ];
        for (k, size, colour) in cells {
            let x = cols.get(k).copied().unwrap_or(x0) + 1.5;
            let text = row.get(k).copied().unwrap_or("");
            s.draw(x, y + 3.0, size, text, colour, false);
        }
        y += rh;
        s.hline(x0, x1, y, 0.3);
    }
    for x in cols {
        s.vline(x, top, y, 0.35);
    }
    s.text(
        x0,
        y + 4.0,
        3.4,
        "公民身份号码：410403198506120000",
        BLACK,
        false,
    );
    s.text(
        x0 + 80.0,
        y + 4.0,
        3.4,
        "登记日期：2026年11月",
        BLACK,
        false,
    );
    s.finish(Kind::HouseholdRegister, dpi)
}

/// Sentences of a made-up notice; the dense page repeats them in a seeded
/// order until it is full.
const NOTICE: &[&str] = &[
    "为进一步优化政务服务，方便群众就近办理各类事项，区政务服务中心在各街道便民服务站设置了自助服务终端。",
    "群众可以持本人居民身份证在终端上查询办件进度，打印办件回执，提交申请材料，预约窗口办理时间。",
    "申请人应当如实填写申请信息，并对所提交材料的真实性负责，不得隐瞒有关情况或者提供虚假材料。",
    "提交的纸质材料应当清晰完整，拍摄时请将材料平放在高拍仪拍摄区内，不要遮挡材料的边缘和文字。",
    "材料齐全且符合法定形式的，受理部门应当当场受理，并出具受理通知书；材料不全的，应当一次性告知需要补正的全部内容。",
    "对于依法需要现场核查的事项，工作人员将在五个工作日内与申请人联系，确定核查的时间和地点。",
    "办件结果可以选择窗口领取，也可以选择邮寄送达，邮寄费用由政府承担，申请人无需另行支付。",
    "终端采集的个人信息仅用于办理本次事项，办结后按照有关规定保存，任何单位和个人不得用于其他用途。",
    "如对办理结果有异议，可以自收到结果之日起六十日内向本级人民政府申请行政复议，或者在六个月内依法提起行政诉讼。",
    "老年人和残疾人等有困难的群众，可以请工作人员协助操作，也可以拨打咨询电话预约上门服务。",
    "各便民服务站的开放时间为周一至周五上午九时至下午五时，法定节假日另行通知。",
    "本通知自发布之日起施行，由区政务服务中心负责解释，欢迎社会各界监督并提出意见和建议。",
];

fn dense(dpi: u32, rng: &mut impl Rng) -> Page {
    let mut s = Sheet::new(Kind::Dense.size_mm(), dpi, Rgb([253, 253, 252]));
    s.centred(
        14.0,
        6.5,
        "关于在全区推行政务服务自助办理的通知",
        BLACK,
        true,
    );
    s.text(18.0, 26.0, 4.2, "各街道办事处、区直各部门：", BLACK, false);
    let mut order: Vec<usize> = (0..NOTICE.len()).collect();
    let (size, pitch, width) = (3.7f64, 5.2f64, 176.0f64);
    let mut y = 33.0;
    // Paragraphs of four sentences in a seeded order until the page is full.
    let bottom = 268.0;
    'page: loop {
        order.shuffle(rng);
        for group in order.chunks(4) {
            let para: String = group
                .iter()
                .filter_map(|&i| NOTICE.get(i).copied())
                .collect();
            for line in s.wrap(&format!("\u{3000}\u{3000}{para}"), size, width) {
                if y + pitch > bottom {
                    break 'page;
                }
                let shown = line.trim_start_matches('\u{3000}');
                let lead = (line.chars().count() - shown.chars().count()) as f64 * size;
                s.text(17.0 + lead, y, size, shown, BLACK, false);
                y += pitch;
            }
        }
    }
    s.text(120.0, 274.0, 4.2, "卫东区政务服务中心", BLACK, false);
    s.text(120.0, 281.0, 4.2, "2026年11月20日", BLACK, false);
    s.finish(Kind::Dense, dpi)
}

/// How the camera takes the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoParams {
    pub width: u32,
    pub height: u32,
    /// Desk width the whole frame covers, mm (a fixed-mount camera's field).
    pub field_mm: f64,
    /// Page rotation on the desk, degrees clockwise.
    pub rotation_deg: f64,
    /// Page centre offset from the frame centre, as fractions of the frame.
    pub offset: (f64, f64),
    /// Keystone: how much narrower the far (top) edge of the frame is.
    pub keystone: f64,
    /// Darkening in the camera arm's shadow, 0..1.
    pub shadow: f32,
    /// Light falloff: factor at one side, at the other, direction (deg).
    pub light: (f32, f32, f32),
    /// Glare spot strength on the page, 0..1.
    pub glare: f32,
    /// Lens blur, Gaussian sigma in pixels.
    pub blur: f32,
    /// Sensor noise, grey levels.
    pub noise: f32,
    /// The camera's own JPEG quality.
    pub jpeg_quality: u8,
}

impl PhotoParams {
    /// A 12 MP document camera (4000×3000) over a 480 mm wide field (an
    /// A4 page fills about 80 % of the frame's height).
    pub fn camera_12mp() -> Self {
        Self::camera(4000, 3000)
    }

    /// A typical shot at `width`×`height`: a little rotation and keystone,
    /// a soft shadow, light falling to 80 %, mild glare, blur, noise, JPEG.
    pub fn camera(width: u32, height: u32) -> Self {
        let scale = f64::from(width) / 4000.0;
        PhotoParams {
            width,
            height,
            field_mm: 480.0,
            rotation_deg: 4.0,
            offset: (0.02, 0.01),
            keystone: 0.03,
            shadow: 0.3,
            light: (1.0, 0.8, 30.0),
            glare: 0.15,
            blur: (1.0 * scale) as f32,
            noise: 3.0,
            jpeg_quality: 90,
        }
    }

    /// [`PhotoParams::camera`] with rotation, offset, keystone, shadow,
    /// light and glare drawn at random (within what a resident laying a
    /// page under a document camera does) for `seed`.
    pub fn varied(width: u32, height: u32, seed: u64) -> Self {
        let mut r = ops::rng(seed ^ 0x5eed_d0c5);
        PhotoParams {
            rotation_deg: r.random_range(-10.0..10.0),
            offset: (r.random_range(-0.06..0.06), r.random_range(-0.02..0.02)),
            keystone: r.random_range(0.0..0.05),
            shadow: r.random_range(0.15..0.4),
            light: (1.0, r.random_range(0.7..0.95), r.random_range(0.0..360.0)),
            glare: r.random_range(0.0..0.3),
            ..Self::camera(width, height)
        }
    }

    /// Photo pixels per millimetre on the desk (centre of the frame).
    pub fn px_per_mm(&self) -> f64 {
        f64::from(self.width) / self.field_mm
    }
}

/// A photo of a page and the truth about it.
#[derive(Debug, Clone)]
pub struct Photo {
    pub image: RgbImage,
    /// The page's corners in the photo (top-left, top-right, bottom-right,
    /// bottom-left of the page as printed), in pixels with (0, 0) at the
    /// top-left corner of the first pixel.
    pub corners: [(f64, f64); 4],
    /// Photo pixels per millimetre on the desk.
    pub px_per_mm: f64,
}

/// Maps frame coordinates through the camera's keystone: the top of the
/// frame sees a wider strip of desk, so desk points there move inwards.
fn keystone(p: &PhotoParams, x: f64, y: f64) -> (f64, f64) {
    let (w, h) = (f64::from(p.width), f64::from(p.height));
    let t = y / h; // 0 at the top, 1 at the bottom
    let squeeze = 1.0 - p.keystone * (1.0 - t);
    (w / 2.0 + (x - w / 2.0) * squeeze, y)
}

/// Where the page's corners land in the photo under `params`.
pub fn page_corners(size_mm: (f64, f64), params: &PhotoParams) -> [(f64, f64); 4] {
    let s = params.px_per_mm();
    let (w, h) = (f64::from(params.width), f64::from(params.height));
    let (cx, cy) = (w * (0.5 + params.offset.0), h * (0.5 + params.offset.1));
    let (hw, hh) = (size_mm.0 * s / 2.0, size_mm.1 * s / 2.0);
    let (sin, cos) = params.rotation_deg.to_radians().sin_cos();
    [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)].map(|(x, y)| {
        let (rx, ry) = (x * cos - y * sin, x * sin + y * cos);
        keystone(params, cx + rx, cy + ry)
    })
}

/// The page lying on a desk, photographed as `params` says.
pub fn photo(page: &Page, params: &PhotoParams, seed: u64) -> Photo {
    let mut r = ops::rng(seed);
    let mut img = ops::desk(params.width, params.height, seed);
    let corners = page_corners(page.size_mm, params);
    ops::place(&mut img, &page.image, corners);
    let (w, h) = (f64::from(params.width), f64::from(params.height));
    if params.shadow > 0.0 {
        // The camera arm: a band from the top edge slanting down across
        // part of the page.
        let x0 = w * r.random_range(0.25..0.6);
        let band = w * 0.12;
        let slant = w * r.random_range(-0.15..0.15);
        let poly = [
            (x0, -10.0),
            (x0 + band, -10.0),
            (x0 + band + slant, h * 0.55),
            (x0 + slant, h * 0.55),
        ];
        ops::shadow(&mut img, &poly, params.shadow, (w * 0.03) as f32);
    }
    let (from, to, angle) = params.light;
    ops::light_gradient(&mut img, from, to, angle);
    if params.glare > 0.0 {
        let c = corners;
        let t: f64 = r.random_range(0.3..0.7);
        let u: f64 = r.random_range(0.3..0.7);
        let top = (
            c[0].0 + (c[1].0 - c[0].0) * t,
            c[0].1 + (c[1].1 - c[0].1) * t,
        );
        let bottom = (
            c[3].0 + (c[2].0 - c[3].0) * t,
            c[3].1 + (c[2].1 - c[3].1) * t,
        );
        let centre = (
            top.0 + (bottom.0 - top.0) * u,
            top.1 + (bottom.1 - top.1) * u,
        );
        ops::glare(&mut img, centre, w * 0.08, params.glare);
    }
    let mut img = ops::blur(&img, params.blur);
    ops::noise(&mut img, params.noise, &mut r);
    let image = ops::jpeg_roundtrip(&img, params.jpeg_quality);
    Photo {
        image,
        corners,
        px_per_mm: params.px_per_mm(),
    }
}

/// The desk with nothing on it, under the same light and camera.
pub fn empty_desk(params: &PhotoParams, seed: u64) -> RgbImage {
    let mut r = ops::rng(seed);
    let mut img = ops::desk(params.width, params.height, seed);
    let (from, to, angle) = params.light;
    ops::light_gradient(&mut img, from, to, angle);
    let mut img = ops::blur(&img, params.blur);
    ops::noise(&mut img, params.noise, &mut r);
    ops::jpeg_roundtrip(&img, params.jpeg_quality)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn pages_have_their_paper_size_and_text() {
        for kind in Kind::ALL {
            let page = render(kind, 100, 1);
            let (w, h) = kind.size_mm();
            assert_eq!(
                page.image.width(),
                (w * 100.0 / 25.4).round() as u32,
                "{kind:?}"
            );
            assert_eq!(
                page.image.height(),
                (h * 100.0 / 25.4).round() as u32,
                "{kind:?}"
            );
            assert!(page.text.chars().count() > 60, "{kind:?}: {}", page.text);
            let ink = page.image.pixels().filter(|p| p.0[0] < 128).count();
            assert!(ink > 1000, "{kind:?} shows text");
        }
        let dense = render(Kind::Dense, 100, 1);
        let cjk = dense.text.chars().filter(|c| *c > '\u{2e80}').count();
        assert!(
            (1800..2600).contains(&cjk),
            "the dense page holds about 2000 characters, got {cjk}"
        );
    }

    #[test]
    fn the_stamp_is_red() {
        let page = render(Kind::Certificate, 100, 1);
        let red = page
            .image
            .pixels()
            .filter(|p| p.0[0] > 150 && p.0[1] < 110 && p.0[2] < 110)
            .count();
        assert!(red > 500, "red stamp pixels: {red}");
    }

    #[test]
    fn photo_corners_frame_the_page() {
        let page = render(Kind::Certificate, 100, 2);
        let params = PhotoParams::camera(800, 600);
        let shot = photo(&page, &params, 3);
        let c = shot.corners;
        let centre = ((c[0].0 + c[2].0) / 2.0, (c[0].1 + c[2].1) / 2.0);
        // Paper at the centre, desk (brown: blue well below red) far outside.
        let p = shot.image.get_pixel(centre.0 as u32, centre.1 as u32).0;
        assert!(p[2] > 150, "paper at the centre: {p:?}");
        let d = shot.image.get_pixel(5, 5).0;
        assert!(d[2] + 40 < d[0], "desk at the edge: {d:?}");
        assert!(c[0].0 < c[1].0 && c[3].1 > c[0].1);
    }
}
