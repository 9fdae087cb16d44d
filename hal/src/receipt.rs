//! Thermal receipt printers (80 mm / 58 mm) and the receipt document model.

use std::fmt;
use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

pub mod layout;

/// Paper roll width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperWidth {
    /// 80 mm roll: 576 dots at 203 dpi, 48 half-width characters a line.
    Mm80,
    /// 58 mm roll: 384 dots at 203 dpi, 32 half-width characters a line.
    Mm58,
}

impl PaperWidth {
    /// Printable dots across at 203 dpi.
    pub fn dots(self) -> u32 {
        match self {
            PaperWidth::Mm80 => 576,
            PaperWidth::Mm58 => 384,
        }
    }

    /// Half-width character columns in the normal font (12x24).
    pub fn columns(self) -> usize {
        match self {
            PaperWidth::Mm80 => 48,
            PaperWidth::Mm58 => 32,
        }
    }
}

/// Horizontal alignment of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    #[default]
    Left,
    Centre,
    Right,
}

/// Character magnification, 1..=8 in each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSize {
    pub width: u8,
    pub height: u8,
}

impl TextSize {
    pub const NORMAL: TextSize = TextSize {
        width: 1,
        height: 1,
    };
    pub const DOUBLE: TextSize = TextSize {
        width: 2,
        height: 2,
    };
    pub const TALL: TextSize = TextSize {
        width: 1,
        height: 2,
    };
}

impl Default for TextSize {
    fn default() -> Self {
        TextSize::NORMAL
    }
}

/// One line of text with its attributes. Text may hold Chinese; the driver
/// encodes it for the printer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextLine {
    pub text: String,
    pub align: Align,
    pub size: TextSize,
    pub bold: bool,
    pub underline: bool,
}

/// QR error-correction level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QrLevel {
    L,
    #[default]
    M,
    Q,
    H,
}

/// 1D barcode symbologies a receipt can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarcodeKind {
    Code128,
    Code39,
    Ean13,
    Itf,
}

/// One block of a receipt, printed top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Text(TextLine),
    /// A line of `-` across the paper.
    Rule,
    /// Blank lines.
    Feed(u8),
    /// A QR code, centred.
    Qr {
        data: String,
        module_size: u8,
        level: QrLevel,
    },
    /// A 1D barcode, centred, with its text below.
    Barcode {
        kind: BarcodeKind,
        data: String,
        height: u8,
    },
    /// A 1-bit raster (logo), `width` dots across, rows packed MSB first.
    Raster {
        width: u32,
        height: u32,
        bits: Vec<u8>,
    },
    /// Feed to the cutter and cut.
    Cut {
        partial: bool,
    },
}

/// A receipt: what the kiosk wants on paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub width: PaperWidth,
    pub blocks: Vec<Block>,
}

impl Receipt {
    /// An empty 80 mm receipt.
    pub fn new(width: PaperWidth) -> Self {
        Receipt {
            width,
            blocks: Vec::new(),
        }
    }

    /// Adds a left-aligned normal line.
    pub fn line(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Text(TextLine {
            text: text.into(),
            ..TextLine::default()
        }));
        self
    }

    /// Adds a styled line.
    pub fn styled(
        mut self,
        text: impl Into<String>,
        align: Align,
        size: TextSize,
        bold: bool,
    ) -> Self {
        self.blocks.push(Block::Text(TextLine {
            text: text.into(),
            align,
            size,
            bold,
            underline: false,
        }));
        self
    }

    /// Adds a centred double-size bold title.
    pub fn title(self, text: impl Into<String>) -> Self {
        self.styled(text, Align::Centre, TextSize::DOUBLE, true)
    }

    /// Adds a rule.
    pub fn rule(mut self) -> Self {
        self.blocks.push(Block::Rule);
        self
    }

    /// Adds blank lines.
    pub fn feed(mut self, n: u8) -> Self {
        self.blocks.push(Block::Feed(n));
        self
    }

    /// Adds a QR code.
    pub fn qr(mut self, data: impl Into<String>) -> Self {
        self.blocks.push(Block::Qr {
            data: data.into(),
            module_size: 6,
            level: QrLevel::M,
        });
        self
    }

    /// Ends with a full cut.
    pub fn cut(mut self) -> Self {
        self.blocks.push(Block::Cut { partial: false });
        self
    }

    /// Adds a 1D barcode, centred, with its text below.
    pub fn barcode(mut self, kind: BarcodeKind, data: impl Into<String>) -> Self {
        self.blocks.push(Block::Barcode {
            kind,
            data: data.into(),
            height: 80,
        });
        self
    }

    /// Puts a logo (a [`Block::Raster`], see [`raster_from_gray`]) at the
    /// top of the receipt. Any other block is added at the top as it is.
    pub fn with_logo(mut self, logo: Block) -> Self {
        self.blocks.insert(0, logo);
        self
    }

    /// Adds `text` wrapped at the paper's right column (full-width
    /// characters take two columns, and `size.width` multiplies), one
    /// text block per printed row, so no row is wrapped by the printer.
    pub fn wrapped(mut self, text: &str, align: Align, size: TextSize, bold: bool) -> Self {
        let cols = self.width.columns() / usize::from(size.width.clamp(1, 8));
        for row in wrap_columns(text, cols) {
            self.blocks.push(Block::Text(TextLine {
                text: row,
                align,
                size,
                bold,
                underline: false,
            }));
        }
        self
    }

    /// Adds `label` and `value` on one row when they fit, the value on
    /// the right; otherwise the value wraps under the label's indent.
    pub fn pair(mut self, label: &str, value: &str) -> Self {
        let cols = self.width.columns();
        let lw = text_columns(label);
        let vw = text_columns(value);
        if lw + vw < cols {
            let pad = cols - lw - vw;
            self = self.line(format!("{label}{}{value}", " ".repeat(pad)));
        } else {
            let room = cols.saturating_sub(lw).max(cols / 2);
            let indent = cols - room;
            for (i, row) in wrap_columns(value, room).into_iter().enumerate() {
                let head = if i == 0 {
                    format!("{label}{}", " ".repeat(indent.saturating_sub(lw)))
                } else {
                    " ".repeat(indent)
                };
                self = self.line(format!("{head}{row}"));
            }
        }
        self
    }

    /// The receipt to print again after a failure, labelled 补打
    /// (reprint) at the top: the whole receipt (`from_block` `None` or
    /// `Some(0)`), or the rest from block `from_block` on (as reported by
    /// [`PrintInterrupted::printed_blocks`]).
    pub fn reprint(&self, from_block: Option<usize>) -> Receipt {
        let from = from_block.unwrap_or(0).min(self.blocks.len());
        let label = if from == 0 {
            "补打 REPRINT"
        } else {
            "补打（续） REPRINT (continued)"
        };
        let mut blocks = vec![Block::Text(TextLine {
            text: label.into(),
            align: Align::Centre,
            size: TextSize::NORMAL,
            bold: true,
            underline: false,
        })];
        blocks.extend(self.blocks.iter().skip(from).cloned());
        if !blocks.iter().any(|b| matches!(b, Block::Cut { .. })) {
            blocks.push(Block::Cut { partial: false });
        }
        Receipt {
            width: self.width,
            blocks,
        }
    }

    /// All text of the receipt, one line per text block (for logs of
    /// non-personal receipts and for tests).
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for b in &self.blocks {
            if let Block::Text(t) = b {
                out.push_str(&t.text);
                out.push('\n');
            }
        }
        out
    }
}

/// Columns one character takes on the printer in Chinese mode: ASCII is
/// half width (one column), everything else (Hanzi, full-width
/// punctuation, and any character sent as two GBK bytes) is full width.
pub fn char_columns(c: char) -> usize {
    if c.is_ascii() { 1 } else { 2 }
}

/// Columns a string takes (see [`char_columns`]).
pub fn text_columns(s: &str) -> usize {
    s.chars().map(char_columns).sum()
}

/// Splits `text` into rows of at most `columns` columns. Latin words are
/// kept whole when they fit on a row of their own; Chinese breaks between
/// any two characters; a full-width character never straddles the right
/// edge. An empty text gives one empty row.
pub fn wrap_columns(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(2);
    let mut rows: Vec<String> = Vec::new();
    let mut row = String::new();
    let mut used = 0;
    // Tokens: a run of ASCII non-space characters (a word), or one other
    // character.
    let mut tokens: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii() && !c.is_ascii_whitespace() {
            word.push(c);
        } else {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            tokens.push(c.to_string());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    for tok in tokens {
        let w = text_columns(&tok);
        if used + w <= columns {
            row.push_str(&tok);
            used += w;
            continue;
        }
        if tok.chars().all(|c| c.is_ascii_whitespace()) {
            // A space at the break disappears.
            rows.push(std::mem::take(&mut row));
            used = 0;
            continue;
        }
        if w <= columns {
            rows.push(std::mem::take(&mut row));
            row.push_str(&tok);
            used = w;
            continue;
        }
        // A word longer than a row: break it by characters.
        for c in tok.chars() {
            let cw = char_columns(c);
            if used + cw > columns {
                rows.push(std::mem::take(&mut row));
                used = 0;
            }
            row.push(c);
            used += cw;
        }
    }
    rows.push(row);
    // Trailing spaces at a break carry nothing.
    for r in &mut rows {
        let t = r.trim_end().len();
        r.truncate(t);
    }
    rows
}

/// Turns an 8-bit grey picture (`width` x `height`, 0 black, 255 white,
/// row by row) into a 1-bit [`Block::Raster`] `target_width` dots across
/// (rounded up to whole bytes), scaled by area averaging and dithered
/// with Floyd-Steinberg error diffusion so greys become dot densities.
pub fn raster_from_gray(width: u32, height: u32, gray: &[u8], target_width: u32) -> Block {
    let tw = target_width.max(8).div_ceil(8) * 8;
    let (w, h) = (width.max(1) as usize, height.max(1) as usize);
    let th = ((h as u64 * u64::from(tw)) / w as u64).max(1) as usize;
    let twu = tw as usize;
    let px = |x: usize, y: usize| -> f32 { f32::from(gray.get(y * w + x).copied().unwrap_or(255)) };
    // Area-average each target dot over its source box.
    let mut lum = vec![0f32; twu * th];
    for ty in 0..th {
        let y0 = ty * h / th;
        let y1 = ((ty + 1) * h / th).max(y0 + 1).min(h);
        for tx in 0..twu {
            let x0 = tx * w / twu;
            let x1 = ((tx + 1) * w / twu).max(x0 + 1).min(w);
            let mut sum = 0f32;
            let mut n = 0f32;
            for y in y0..y1 {
                for x in x0..x1 {
                    sum += px(x, y);
                    n += 1.0;
                }
            }
            if let Some(v) = lum.get_mut(ty * twu + tx) {
                *v = if n > 0.0 { sum / n } else { 255.0 };
            }
        }
    }
    let wb = twu / 8;
    let mut bits = vec![0u8; wb * th];
    let add = |lum: &mut Vec<f32>, x: isize, y: usize, e: f32| {
        if x >= 0
            && (x as usize) < twu
            && y < th
            && let Some(v) = lum.get_mut(y * twu + x as usize)
        {
            *v += e;
        }
    };
    for y in 0..th {
        for x in 0..twu {
            let old = lum.get(y * twu + x).copied().unwrap_or(255.0);
            let black = old < 128.0;
            let new = if black { 0.0 } else { 255.0 };
            if black && let Some(b) = bits.get_mut(y * wb + x / 8) {
                *b |= 0x80 >> (x % 8);
            }
            let e = old - new;
            let xi = x as isize;
            add(&mut lum, xi + 1, y, e * 7.0 / 16.0);
            add(&mut lum, xi - 1, y + 1, e * 3.0 / 16.0);
            add(&mut lum, xi, y + 1, e * 5.0 / 16.0);
            add(&mut lum, xi + 1, y + 1, e / 16.0);
        }
    }
    Block::Raster {
        width: tw,
        height: th as u32,
        bits,
    }
}

/// Paper sensor reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaperLevel {
    Ok,
    NearEnd,
    Out,
}

/// Real-time status of a receipt printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrinterStatus {
    pub online: bool,
    pub paper: PaperLevel,
    pub cover_open: bool,
    pub cutter_error: bool,
    pub unrecoverable_error: bool,
    pub auto_recoverable_error: bool,
}

impl PrinterStatus {
    /// Whether a job can start now.
    pub fn ready(&self) -> bool {
        self.online
            && self.paper != PaperLevel::Out
            && !self.cover_open
            && !self.cutter_error
            && !self.unrecoverable_error
    }
}

/// What came of a print job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintOutcome {
    /// Bytes sent to the printer.
    pub bytes_sent: usize,
    /// Status read after the job.
    pub status_after: PrinterStatus,
}

/// Why a job stopped part-way, carried as the [`std::error::Error::source`]
/// of the [`DeviceError`] (kind `PaperOut`, `CoverOpen`, … or the
/// transport's kind) that [`ReceiptPrinter::print`] returns. Read it with
/// [`print_interrupted`].
///
/// Blocks `0..printed_blocks` went out and the printer said it could
/// still print after them; block `printed_blocks` and later did not print
/// or not completely. `printed_blocks == 0` means nothing usable is on
/// the paper. Reprint with [`Receipt::reprint`] (`Some(printed_blocks)`
/// for the rest, `None` for all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintInterrupted {
    pub printed_blocks: usize,
    pub total: usize,
}

impl fmt::Display for PrintInterrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "job interrupted: {} of {} blocks printed",
            self.printed_blocks, self.total
        )
    }
}

impl std::error::Error for PrintInterrupted {}

/// The interruption detail of a failed print, if the job had started.
pub fn print_interrupted(err: &DeviceError) -> Option<PrintInterrupted> {
    std::error::Error::source(err)
        .and_then(|s| s.downcast_ref::<PrintInterrupted>())
        .copied()
}

/// A receipt printer.
///
/// A caller may rely on:
/// * [`ReceiptPrinter::print`] checks status first and refuses with
///   [`crate::ErrorKind::PaperOut`] / [`crate::ErrorKind::CoverOpen`]
///   before sending anything when the printer cannot print;
/// * text that the printer's code page cannot carry is replaced, never
///   sent as garbage;
/// * a job is sent whole or reported as failed with the kind of failure;
///   a job that stopped part-way (paper ran out mid-job) carries a
///   [`PrintInterrupted`] saying how far it got.
pub trait ReceiptPrinter: Device {
    /// Prints one receipt.
    fn print(&mut self, receipt: &Receipt, deadline: Instant) -> Result<PrintOutcome, DeviceError>;

    /// Prints a receipt again, labelled 补打: whole (`from_block` `None`)
    /// or from block `from_block` on (see [`Receipt::reprint`]).
    fn reprint(
        &mut self,
        receipt: &Receipt,
        from_block: Option<usize>,
        deadline: Instant,
    ) -> Result<PrintOutcome, DeviceError> {
        self.print(&receipt.reprint(from_block), deadline)
    }

    /// Asks the printer's real-time status.
    fn status(&mut self, deadline: Instant) -> Result<PrinterStatus, DeviceError>;
}
