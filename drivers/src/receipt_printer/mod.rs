//! ESC/POS thermal receipt printer over TCP (a network printer's raw
//! port, 9100), a serial port or USB (printer class).
//!
//! The `escpos` crate encodes the job (text in GB18030 after `FS &`,
//! `GS ( k` QR codes, `GS V` cut); this module owns the transport
//! ([`transport`], [`usb`]) so that
//! every write and read has a deadline, and asks the printer's real-time
//! status itself with the four `DLE EOT n` requests (n = 1 printer,
//! 2 offline cause, 3 error cause, 4 roll paper sensor). Each answer byte
//! must have bits 1 and 4 set and bits 0 and 7 clear; anything else is a
//! protocol error (a printer that answers garbage is not trusted to print).
//!
//! A job is only sent when the status says the printer can print; paper
//! out, cover open, cutter error and offline are refused with their own
//! [`ErrorKind`] before a byte of the job goes out. Text from outside (case
//! data) is stripped of control characters so it cannot smuggle commands.
//!
//! A job is sent block by block (one [`Block`] of the receipt at a time)
//! with a real-time status request after each: printers answer `DLE EOT`
//! even while printing, so paper running out mid-job stops the sending at
//! once, and the error carries a [`PrintInterrupted`] with the number of
//! blocks that went out before it (reprint with
//! [`ReceiptPrinter::reprint`]).
//!
//! Selectors (80 mm paper unless `width=58`):
//! * `tcp:HOST:PORT[?width=80|58]`
//! * `serial:PATH[?baud=N&width=80|58]` (baud 9600 unless said)
//! * `usb:VID:PID[:SERIAL]`, 80 mm; `usb:VID:PID:SERIAL?width=58` or
//!   `usb:VID:PID:?width=58` for 58 mm paper.

pub mod logo;
pub mod transport;
pub mod usb;

use std::net::ToSocketAddrs;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use escpos::driver::Driver;
use escpos::errors::PrinterError;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption, UnderlineMode,
};

use hal::DeviceKind;
use hal::receipt::{
    Align, BarcodeKind, Block, PaperLevel, PaperWidth, PrintInterrupted, PrintOutcome,
    PrinterStatus, QrLevel, Receipt, ReceiptPrinter, TextLine, TextSize,
};

use hal::{Device, DeviceError, DeviceEvent, ErrorKind, Health, HealthState, Selector};
pub use logo::{LOGO_DOTS, logo_from_png};
use transport::{CONNECT_TIMEOUT, SerialTransport, TcpTransport, Transport};

const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;

/// How often the actor asks the status while idle.
const POLL_INTERVAL: Duration = Duration::from_millis(1000);

/// Real-time status requests sent together: printer, offline cause,
/// error cause, roll paper sensor.
const STATUS_REQUEST: [u8; 12] = [DLE, EOT, 1, DLE, EOT, 2, DLE, EOT, 3, DLE, EOT, 4];

/// Decodes the four status bytes (`DLE EOT 1..4`) into a status.
///
/// Returns `None` when a byte does not have the fixed bits of a status
/// answer.
pub fn decode_status(bytes: [u8; 4]) -> Option<PrinterStatus> {
    if bytes.iter().any(|b| b & 0x93 != 0x12) {
        return None;
    }
    let [printer, offline, error, paper] = bytes;
    let out = paper & 0x60 != 0 || offline & 0x20 != 0;
    Some(PrinterStatus {
        online: printer & 0x08 == 0,
        paper: if out {
            PaperLevel::Out
        } else if paper & 0x0C != 0 {
            PaperLevel::NearEnd
        } else {
            PaperLevel::Ok
        },
        cover_open: offline & 0x04 != 0,
        cutter_error: error & 0x08 != 0,
        unrecoverable_error: error & 0x20 != 0,
        auto_recoverable_error: error & 0x40 != 0 || offline & 0x40 != 0,
    })
}

/// Why a printer with this status cannot print, if it cannot.
pub fn refusal(status: &PrinterStatus) -> Option<ErrorKind> {
    if status.cover_open {
        Some(ErrorKind::CoverOpen)
    } else if status.paper == PaperLevel::Out {
        Some(ErrorKind::PaperOut)
    } else if status.cutter_error {
        Some(ErrorKind::CutterError)
    } else if !status.online || status.unrecoverable_error {
        Some(ErrorKind::DeviceFault)
    } else {
        None
    }
}

/// Collects what the `escpos` crate encodes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Driver for Capture {
    fn name(&self) -> String {
        "capture".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0
            .lock()
            .map_err(|_| PrinterError::Io("capture buffer poisoned".into()))?
            .extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

fn enc(e: PrinterError) -> DeviceError {
    DeviceError::new(ErrorKind::Config, format!("receipt cannot be encoded: {e}"))
}

/// Text from outside the process, made safe to print: control characters
/// become spaces so they cannot act as printer commands.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Encodes a receipt as the ESC/POS byte stream the printer receives.
pub fn encode(receipt: &Receipt) -> Result<Vec<u8>, DeviceError> {
    let (mut bytes, blocks) = encode_parts(receipt)?;
    for b in blocks {
        bytes.extend_from_slice(&b);
    }
    Ok(bytes)
}

/// Encodes a receipt as a header (initialise, Chinese mode) and the bytes
/// of each block, in order, so a job can be sent block by block.
pub fn encode_parts(receipt: &Receipt) -> Result<(Vec<u8>, Vec<Vec<u8>>), DeviceError> {
    let capture = Capture::default();
    let take = |c: &Capture| -> Vec<u8> {
        c.0.lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    };
    let mut parts = Vec::with_capacity(receipt.blocks.len());
    let protocol = Protocol::new(Encoder::new(encoding_rs::GB18030));
    let columns = receipt.width.columns();
    let options = PrinterOptions::new(None, None, u8::try_from(columns).unwrap_or(48));
    let mut p = Printer::new(capture.clone(), protocol, Some(options));
    p.init().map_err(enc)?;
    // FS &: Chinese character mode, so multi-byte GB18030 prints as Hanzi.
    p.custom(&[FS, b'&']).map_err(enc)?;
    p.print().map_err(enc)?;
    let header = take(&capture);
    for block in &receipt.blocks {
        match block {
            Block::Text(line) => text_line(&mut p, line)?,
            Block::Rule => {
                p.justify(JustifyMode::LEFT).map_err(enc)?;
                p.writeln(&"-".repeat(columns)).map_err(enc)?;
            }
            Block::Feed(n) => {
                p.feeds(*n).map_err(enc)?;
            }
            Block::Qr {
                data,
                module_size,
                level,
            } => {
                let level = match level {
                    QrLevel::L => QRCodeCorrectionLevel::L,
                    QrLevel::M => QRCodeCorrectionLevel::M,
                    QrLevel::Q => QRCodeCorrectionLevel::Q,
                    QrLevel::H => QRCodeCorrectionLevel::H,
                };
                let option =
                    QRCodeOption::new(QRCodeModel::Model2, (*module_size).clamp(1, 16), level);
                p.justify(JustifyMode::CENTER).map_err(enc)?;
                p.qrcode_option(data, option).map_err(enc)?;
                p.feed().map_err(enc)?;
                p.justify(JustifyMode::LEFT).map_err(enc)?;
            }
            Block::Barcode { kind, data, height } => {
                barcode(&mut p, *kind, data, *height, receipt.width)?
            }
            Block::Raster {
                width,
                height,
                bits,
            } => {
                let wb = width.div_ceil(8);
                let need = wb as usize * *height as usize;
                if bits.len() < need || wb > 0xFFFF || *height > 0xFFFF {
                    return Err(DeviceError::new(
                        ErrorKind::Config,
                        "raster image data does not match its size",
                    ));
                }
                let mut cmd = vec![GS, b'v', b'0', 0, (wb & 0xFF) as u8, (wb >> 8) as u8];
                cmd.extend_from_slice(&[(*height & 0xFF) as u8, (*height >> 8) as u8]);
                cmd.extend_from_slice(bits.get(..need).unwrap_or_default());
                p.justify(JustifyMode::CENTER).map_err(enc)?;
                p.custom(&cmd).map_err(enc)?;
                p.justify(JustifyMode::LEFT).map_err(enc)?;
            }
            Block::Cut { partial } => {
                // Feed the last line past the head before the knife.
                p.feeds(3).map_err(enc)?;
                if *partial {
                    p.partial_cut().map_err(enc)?;
                } else {
                    p.cut().map_err(enc)?;
                }
            }
        }
        p.print().map_err(enc)?;
        parts.push(take(&capture));
    }
    Ok((header, parts))
}

/// The command body of a CODE128 symbol (`GS k 73 n body`): code set B,
/// with runs of four or more digits packed two a byte in code set C so
/// order numbers stay narrow enough for 58 mm paper. Also returns the
/// symbol's width in modules (start, data, switches, check, stop).
pub fn code128_body(data: &str) -> (Vec<u8>, usize) {
    let b = data.as_bytes();
    let mut out = Vec::new();
    let mut symbols = 0;
    let mut set: Option<u8> = None;
    let mut i = 0;
    while i < b.len() {
        let run = b
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if run >= 4 || (run >= 2 && run == b.len() - i && set != Some(b'B') && run % 2 == 0) {
            let mut n = run;
            if run % 2 == 1 {
                // Odd run: its first digit in B, the rest in C.
                if set != Some(b'B') {
                    out.extend_from_slice(b"{B");
                    symbols += usize::from(set.is_some());
                    set = Some(b'B');
                }
                out.push(b.get(i).copied().unwrap_or(b'0'));
                symbols += 1;
                i += 1;
                n -= 1;
            }
            out.extend_from_slice(b"{C");
            symbols += usize::from(set.is_some());
            set = Some(b'C');
            for pair in b.get(i..i + n).unwrap_or_default().chunks(2) {
                let v = pair.iter().fold(0u8, |a, d| a * 10 + (d - b'0'));
                out.push(v);
                symbols += 1;
            }
            i += n;
            continue;
        }
        if set != Some(b'B') {
            out.extend_from_slice(b"{B");
            symbols += usize::from(set.is_some());
            set = Some(b'B');
        }
        let c = b.get(i).copied().unwrap_or(b' ');
        if c == b'{' {
            out.extend_from_slice(b"{{");
        } else {
            out.push(c);
        }
        symbols += 1;
        i += 1;
    }
    // Start + data + check = 11 modules each; stop 13.
    (out, (symbols + 2) * 11 + 13)
}

fn text_line(p: &mut Printer<Capture>, line: &TextLine) -> Result<(), DeviceError> {
    let justify = match line.align {
        Align::Left => JustifyMode::LEFT,
        Align::Centre => JustifyMode::CENTER,
        Align::Right => JustifyMode::RIGHT,
    };
    let TextSize { width, height } = line.size;
    p.justify(justify).map_err(enc)?;
    p.size(width.clamp(1, 8), height.clamp(1, 8)).map_err(enc)?;
    if line.bold {
        p.bold(true).map_err(enc)?;
    }
    if line.underline {
        p.underline(UnderlineMode::Single).map_err(enc)?;
    }
    p.writeln(&printable(&line.text)).map_err(enc)?;
    if line.bold {
        p.bold(false).map_err(enc)?;
    }
    if line.underline {
        p.underline(UnderlineMode::None).map_err(enc)?;
    }
    p.reset_size().map_err(enc)?;
    p.justify(JustifyMode::LEFT).map_err(enc)?;
    Ok(())
}

fn barcode(
    p: &mut Printer<Capture>,
    kind: BarcodeKind,
    data: &str,
    height: u8,
    paper: PaperWidth,
) -> Result<(), DeviceError> {
    if !data.is_ascii() || data.chars().any(|c| c.is_control()) || data.is_empty() {
        return Err(DeviceError::new(
            ErrorKind::Config,
            "barcode data must be printable ASCII",
        ));
    }
    p.justify(JustifyMode::CENTER).map_err(enc)?;
    // GS h n: bar height; GS H 2: human-readable text below.
    // Modules of the symbol, quiet zones of ten modules included, so the
    // module width (GS w, 2 or 3 dots) can be chosen to fit the paper.
    let modules = match kind {
        BarcodeKind::Code128 => code128_body(data).1,
        BarcodeKind::Ean13 => 95,
        BarcodeKind::Code39 => (data.len() + 2) * 16,
        BarcodeKind::Itf => data.len() * 9 + 9,
    } + 20;
    let module = if modules * 3 <= paper.dots() as usize {
        3
    } else if modules * 2 <= paper.dots() as usize {
        2
    } else {
        return Err(DeviceError::new(
            ErrorKind::Config,
            format!(
                "barcode of {} characters is too wide for the paper",
                data.len()
            ),
        ));
    };
    p.custom(&[GS, b'h', height.max(1), GS, b'w', module, GS, b'H', 2])
        .map_err(enc)?;
    match kind {
        BarcodeKind::Code128 => {
            // GS k 73 n: CODE128 function B; "{B"/"{C" select code sets
            // and a literal '{' is written "{{".
            let body = code128_body(data).0;
            let n = u8::try_from(body.len()).map_err(|_| {
                DeviceError::new(ErrorKind::Config, "CODE128 data longer than 253 characters")
            })?;
            let mut cmd = vec![GS, b'k', 73, n];
            cmd.extend_from_slice(&body);
            p.custom(&cmd).map_err(enc)?;
        }
        BarcodeKind::Code39 => {
            p.code39(data).map_err(enc)?;
        }
        BarcodeKind::Ean13 => {
            p.ean13(data).map_err(enc)?;
        }
        BarcodeKind::Itf => {
            p.itf(data).map_err(enc)?;
        }
    }
    p.feed().map_err(enc)?;
    p.justify(JustifyMode::LEFT).map_err(enc)?;
    Ok(())
}

/// A self-test receipt: Chinese and English text, every size, a QR code
/// and a cut, so a person can judge the head, the font and the cutter.
pub fn self_test_receipt(width: PaperWidth) -> Receipt {
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Receipt::new(width)
        .title("打印机自检")
        .styled("Printer self-test", Align::Centre, TextSize::NORMAL, false)
        .rule()
        .line("中文字库：政务服务一网通办")
        .line("ASCII: 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        .styled("倍高 TALL", Align::Left, TextSize::TALL, false)
        .styled("倍宽倍高 DOUBLE", Align::Left, TextSize::DOUBLE, false)
        .styled(
            "居中粗体 Centre bold",
            Align::Centre,
            TextSize::NORMAL,
            true,
        )
        .styled("右对齐 Right", Align::Right, TextSize::NORMAL, false)
        .rule()
        .qr(format!("SELFTEST-{stamp}"))
        .line(format!("二维码内容 QR: SELFTEST-{stamp}"))
        .feed(1)
        .cut()
}

/// An ESC/POS printer on TCP, a serial port or USB.
pub struct EscPosPrinter {
    link: Box<dyn Transport>,
    width: PaperWidth,
    health: Health,
    last: Option<PrinterStatus>,
    /// Events noticed outside [`Device::poll`] (a status read by a print),
    /// handed out at the next poll so none is lost.
    pending: Vec<DeviceEvent>,
}

fn paper_width(mm: u32) -> Result<PaperWidth, DeviceError> {
    match mm {
        80 => Ok(PaperWidth::Mm80),
        58 => Ok(PaperWidth::Mm58),
        w => Err(DeviceError::new(
            ErrorKind::Config,
            format!("paper width {w} mm is not 80 or 58"),
        )),
    }
}

impl EscPosPrinter {
    /// Opens the printer named by the selector (see the module
    /// documentation) and, for TCP and serial, checks that it is there.
    pub fn open(selector: &Selector) -> Result<EscPosPrinter, DeviceError> {
        let (link, width): (Box<dyn Transport>, PaperWidth) = match selector {
            Selector::Tcp { host, port, .. } => {
                let width = paper_width(selector.option_u32("width", 80)?)?;
                let addr = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| {
                        DeviceError::new(ErrorKind::NotFound, format!("resolving {host}: {e}"))
                    })?
                    .next()
                    .ok_or_else(|| {
                        DeviceError::new(ErrorKind::NotFound, format!("{host} has no address"))
                    })?;
                (Box::new(TcpTransport::new(addr)), width)
            }
            Selector::Serial { path, .. } => {
                let width = paper_width(selector.option_u32("width", 80)?)?;
                let baud = selector.option_u32("baud", 9600)?;
                (Box::new(SerialTransport::new(path.clone(), baud)), width)
            }
            Selector::Usb {
                vendor,
                product,
                serial,
            } => {
                // `usb:VID:PID:SERIAL?width=58`: the selector keeps the
                // query in the serial part.
                let (serial, width) = match serial.as_deref().map(|s| s.split_once('?')) {
                    Some(Some((s, q))) => {
                        let mm = q
                            .split('&')
                            .find_map(|kv| kv.strip_prefix("width="))
                            .unwrap_or("80");
                        let mm = mm.parse().map_err(|_| {
                            DeviceError::new(
                                ErrorKind::Config,
                                format!("width={mm} is not a number"),
                            )
                        })?;
                        (
                            Some(s.to_string()).filter(|s| !s.is_empty()),
                            paper_width(mm)?,
                        )
                    }
                    _ => (serial.clone().filter(|s| !s.is_empty()), PaperWidth::Mm80),
                };
                (
                    Box::new(usb::UsbTransport::new(*vendor, *product, serial)),
                    width,
                )
            }
            other => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("ESC/POS printer needs a tcp, serial or usb selector, not {other}"),
                ));
            }
        };
        let mut health = Health::ok();
        for c in [
            "prints",
            "print_errors",
            "print_interrupted",
            "paper_low",
            "paper_out",
            "reconnects",
        ] {
            health.counters.insert(c.to_string(), 0);
        }
        let mut printer = EscPosPrinter {
            link,
            width,
            health,
            last: None,
            pending: Vec::new(),
        };
        printer.link.open(Instant::now() + CONNECT_TIMEOUT)?;
        tracing::debug!(link = %printer.link.describe(), "ESC/POS printer opened");
        Ok(printer)
    }

    /// Where the printer is (`tcp:…`, `serial:…`, `usb:…`).
    pub fn location(&self) -> String {
        self.link.describe()
    }

    /// Paper width from the selector.
    pub fn width(&self) -> PaperWidth {
        self.width
    }

    /// Runs `f` on the link; a transport failure closes the link (the
    /// next call opens it again) and a kept link that turned out dead is
    /// reopened once (printer power-cycled, cable replugged).
    fn with_link<T>(
        &mut self,
        deadline: Instant,
        f: impl Fn(&mut dyn Transport, Instant) -> Result<T, DeviceError>,
    ) -> Result<T, DeviceError> {
        let fresh = !self.link.is_open();
        self.link.open(deadline)?;
        match f(self.link.as_mut(), deadline) {
            Err(e) if e.kind() == ErrorKind::Disconnected && !fresh => {
                self.link.close();
                self.health.bump("reconnects");
                self.link.open(deadline)?;
                let r = f(self.link.as_mut(), deadline);
                if r.is_err() {
                    self.link.close();
                }
                r
            }
            Err(e) => {
                if matches!(
                    e.kind(),
                    ErrorKind::Disconnected | ErrorKind::Timeout | ErrorKind::Protocol
                ) {
                    self.link.close();
                }
                Err(e)
            }
            ok => ok,
        }
    }

    fn observe(&mut self, status: &PrinterStatus) -> Vec<DeviceEvent> {
        let mut events = Vec::new();
        let before = self.last;
        let was_paper = before.map(|s| s.paper);
        if was_paper != Some(status.paper) {
            match status.paper {
                PaperLevel::Out => {
                    self.health.bump("paper_out");
                    events.push(DeviceEvent::PaperOut);
                }
                PaperLevel::NearEnd => {
                    self.health.bump("paper_low");
                    events.push(DeviceEvent::PaperLow);
                }
                PaperLevel::Ok if was_paper.is_some() => events.push(DeviceEvent::PaperOk),
                PaperLevel::Ok => {}
            }
        }
        let was_open = before.map(|s| s.cover_open);
        if was_open != Some(status.cover_open) && (was_open.is_some() || status.cover_open) {
            events.push(if status.cover_open {
                DeviceEvent::CoverOpened
            } else {
                DeviceEvent::CoverClosed
            });
        }
        self.last = Some(*status);
        match refusal(status) {
            Some(kind) => {
                self.health.set(
                    HealthState::Fault,
                    Some(kind.code()),
                    kind.message_zh(),
                    kind.message_en(),
                );
            }
            None if status.paper == PaperLevel::NearEnd => {
                self.health.set(
                    HealthState::Degraded,
                    Some("PAPER_LOW"),
                    "打印纸将用尽，请及时更换",
                    "paper is running low",
                );
            }
            None => self.health.set(HealthState::Ok, None, "正常", "OK"),
        }
        events
    }

    fn went_offline(&mut self, e: &DeviceError) {
        if matches!(e.kind(), ErrorKind::Disconnected | ErrorKind::NotFound) {
            self.health.set(
                HealthState::Offline,
                Some(e.kind().code()),
                e.kind().message_zh(),
                e.kind().message_en(),
            );
            self.last = None;
        }
    }

    /// Status with the events it caused (and any noticed since the last
    /// call, for example during a print).
    pub fn status_with_events(
        &mut self,
        deadline: Instant,
    ) -> Result<(PrinterStatus, Vec<DeviceEvent>), DeviceError> {
        match self.with_link(deadline, ask_status) {
            Ok(s) => {
                let mut events = std::mem::take(&mut self.pending);
                events.extend(self.observe(&s));
                Ok((s, events))
            }
            Err(e) => {
                self.went_offline(&e);
                Err(e)
            }
        }
    }

    /// A status read that keeps its events for the next poll.
    fn status_keep_events(&mut self, deadline: Instant) -> Result<PrinterStatus, DeviceError> {
        let (s, events) = self.status_with_events(deadline)?;
        self.pending.extend(events);
        Ok(s)
    }

    /// Status between two blocks of a job: on the open link only (never
    /// a reconnect, which would lose the printer's place in the job).
    fn status_mid_job(&mut self, deadline: Instant) -> Result<PrinterStatus, DeviceError> {
        let r = ask_status(self.link.as_mut(), deadline);
        match r {
            Ok(s) => {
                let events = self.observe(&s);
                self.pending.extend(events);
                Ok(s)
            }
            Err(e) => {
                self.link.close();
                self.went_offline(&e);
                Err(e)
            }
        }
    }

    fn interrupted(&mut self, e: DeviceError, printed_blocks: usize, total: usize) -> DeviceError {
        self.health.bump("print_errors");
        self.health.bump("print_interrupted");
        let info = PrintInterrupted {
            printed_blocks,
            total,
        };
        tracing::warn!(
            link = %self.link.describe(),
            kind = e.kind().code(),
            printed_blocks,
            total,
            "print job interrupted"
        );
        DeviceError::new(
            e.kind(),
            format!(
                "{}; {info}; reprint from block {printed_blocks}",
                e.detail()
            ),
        )
        .with_source(info)
    }
}

/// Asks the four real-time statuses and decodes them.
fn ask_status(link: &mut dyn Transport, deadline: Instant) -> Result<PrinterStatus, DeviceError> {
    // Drop stale bytes (an answer that came after an earlier timeout) so
    // the answers line up with the questions.
    link.discard_input()?;
    link.write_all(&STATUS_REQUEST, deadline)?;
    let mut got = [0u8; 4];
    let mut n = 0;
    while n < got.len() {
        match link.read(got.get_mut(n..).unwrap_or_default(), deadline) {
            Ok(k) => n += k,
            Err(e) if e.kind() == ErrorKind::Timeout => {
                return Err(DeviceError::new(
                    ErrorKind::Timeout,
                    format!("status: {n} of 4 answer bytes before the deadline"),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    decode_status(got).ok_or_else(|| {
        DeviceError::new(
            ErrorKind::Protocol,
            format!("status answer {got:02X?} is not an ESC/POS status"),
        )
    })
}

impl Device for EscPosPrinter {
    fn kind(&self) -> DeviceKind {
        DeviceKind::ReceiptPrinter
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    /// Asks the status; turns paper and cover changes into events.
    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        match self.status_with_events(deadline) {
            Ok((_, events)) => events,
            Err(e) => {
                tracing::debug!(link = %self.link.describe(), kind = e.kind().code(), detail = e.detail(), "status poll failed");
                std::mem::take(&mut self.pending)
            }
        }
    }

    fn poll_interval(&self) -> Duration {
        POLL_INTERVAL
    }

    /// Reads the status and returns the health it implies. A self-test
    /// page is printed only on request ([`self_test_receipt`]), never by
    /// a health check, so paper is not wasted.
    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        self.status_keep_events(deadline)?;
        self.health.last_self_test = Some(SystemTime::now());
        Ok(self.health.clone())
    }
}

impl ReceiptPrinter for EscPosPrinter {
    fn print(&mut self, receipt: &Receipt, deadline: Instant) -> Result<PrintOutcome, DeviceError> {
        let (header, blocks) = encode_parts(receipt)?;
        let before = self.status_keep_events(deadline)?;
        if let Some(kind) = refusal(&before) {
            self.health.bump("print_errors");
            return Err(DeviceError::new(
                kind,
                "printer cannot print now; nothing was sent",
            ));
        }
        let total = blocks.len();
        let mut bytes_sent = 0;
        if let Err(e) = self.link.write_all(&header, deadline) {
            self.link.close();
            self.went_offline(&e);
            return Err(self.interrupted(e, 0, total));
        }
        bytes_sent += header.len();
        let mut status_after = before;
        for (i, block) in blocks.iter().enumerate() {
            if let Err(e) = self.link.write_all(block, deadline) {
                self.link.close();
                self.went_offline(&e);
                return Err(self.interrupted(e, i, total));
            }
            bytes_sent += block.len();
            // The printer answers DLE EOT as soon as it has read the
            // request, that is after the block before it: paper running
            // out during block i shows here.
            let status = match self.status_mid_job(deadline) {
                Ok(s) => s,
                Err(e) => return Err(self.interrupted(e, i, total)),
            };
            if let Some(kind) = refusal(&status) {
                let e = DeviceError::new(kind, "printer stopped mid-job");
                return Err(self.interrupted(e, i, total));
            }
            status_after = status;
        }
        self.health.bump("prints");
        Ok(PrintOutcome {
            bytes_sent,
            status_after,
        })
    }

    fn status(&mut self, deadline: Instant) -> Result<PrinterStatus, DeviceError> {
        self.status_keep_events(deadline)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn status_bytes_decode_to_what_a_person_sees() {
        let ok = decode_status([0x12, 0x12, 0x12, 0x12]).unwrap();
        assert!(ok.ready() && ok.online && ok.paper == PaperLevel::Ok);
        let near = decode_status([0x12, 0x12, 0x12, 0x1E]).unwrap();
        assert_eq!(near.paper, PaperLevel::NearEnd);
        assert!(near.ready(), "near end still prints");
        let out = decode_status([0x1A, 0x32, 0x12, 0x72]).unwrap();
        assert_eq!(out.paper, PaperLevel::Out);
        assert_eq!(refusal(&out), Some(ErrorKind::PaperOut));
        let cover = decode_status([0x1A, 0x16, 0x12, 0x12]).unwrap();
        assert_eq!(refusal(&cover), Some(ErrorKind::CoverOpen));
        let cutter = decode_status([0x12, 0x12, 0x1A, 0x12]).unwrap();
        assert_eq!(refusal(&cutter), Some(ErrorKind::CutterError));
        assert!(
            decode_status([0x12, 0x12, 0x12, 0xFF]).is_none(),
            "not a status byte"
        );
        assert!(decode_status([0x00, 0x12, 0x12, 0x12]).is_none());
    }

    #[test]
    fn encoding_carries_gb18030_qr_and_cut() {
        let r = Receipt::new(PaperWidth::Mm80)
            .title("办件回执")
            .qr("41040320261128000001")
            .cut();
        let b = encode(&r).unwrap();
        let hanzi = encoding_rs::GB18030.encode("办件回执").0;
        assert!(b.windows(hanzi.len()).any(|w| w == &hanzi[..]));
        assert!(b.windows(2).any(|w| w == [FS, b'&']), "Chinese mode");
        assert!(b.windows(3).any(|w| w == [GS, b'(', b'k']), "QR");
        assert!(b.ends_with(&[GS, b'V', b'A', 0]), "ends with a cut");
    }

    #[test]
    fn control_characters_in_text_cannot_become_commands() {
        let r = Receipt::new(PaperWidth::Mm80).line("姓名\u{1b}@\u{1d}V\u{0}X");
        let b = encode(&r).unwrap();
        // Only the init (ESC @) at the start may appear.
        let escs = b.windows(2).filter(|w| *w == [0x1B, b'@']).count();
        assert_eq!(escs, 1);
        assert!(!b.windows(2).any(|w| w == [GS, b'V']));
    }

    #[test]
    fn a_width_other_than_80_or_58_is_a_config_error() {
        let sel: Selector = "tcp:127.0.0.1:1?width=70".parse().unwrap();
        let e = EscPosPrinter::open(&sel).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::Config);
    }
}
