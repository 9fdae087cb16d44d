//! Thermal receipt printers (80 mm / 58 mm) and the receipt document model.

use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

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

/// A receipt printer.
///
/// A caller may rely on:
/// * [`ReceiptPrinter::print`] checks status first and refuses with
///   [`crate::ErrorKind::PaperOut`] / [`crate::ErrorKind::CoverOpen`]
///   before sending anything when the printer cannot print;
/// * text that the printer's code page cannot carry is replaced, never
///   sent as garbage;
/// * a job is sent whole or reported as failed with the kind of failure.
pub trait ReceiptPrinter: Device {
    /// Prints one receipt.
    fn print(&mut self, receipt: &Receipt, deadline: Instant) -> Result<PrintOutcome, DeviceError>;

    /// Asks the printer's real-time status.
    fn status(&mut self, deadline: Instant) -> Result<PrinterStatus, DeviceError>;
}
