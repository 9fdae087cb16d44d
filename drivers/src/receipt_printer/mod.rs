//! ESC/POS thermal receipt printer over TCP (a network printer's raw
//! port, 9100).
//!
//! The `escpos` crate encodes the job (text in GB18030 after `FS &`,
//! `GS ( k` QR codes, `GS V` cut); this module owns the transport so that
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
//! Selector: `tcp:HOST:PORT[?width=80|58]` (80 mm paper unless said).

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
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
    Align, BarcodeKind, Block, PaperLevel, PaperWidth, PrintOutcome, PrinterStatus, QrLevel,
    Receipt, ReceiptPrinter, TextLine, TextSize,
};
use hal::{Device, DeviceError, DeviceEvent, ErrorKind, Health, HealthState, Selector};

const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;

/// How long a connection attempt may take at most.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

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
    let capture = Capture::default();
    let protocol = Protocol::new(Encoder::new(encoding_rs::GB18030));
    let columns = receipt.width.columns();
    let options = PrinterOptions::new(None, None, u8::try_from(columns).unwrap_or(48));
    let mut p = Printer::new(capture.clone(), protocol, Some(options));
    p.init().map_err(enc)?;
    // FS &: Chinese character mode, so multi-byte GB18030 prints as Hanzi.
    p.custom(&[FS, b'&']).map_err(enc)?;
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
            Block::Barcode { kind, data, height } => barcode(&mut p, *kind, data, *height)?,
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
    }
    p.print().map_err(enc)?;
    let bytes = capture.0.lock().map(|b| b.clone()).unwrap_or_default();
    Ok(bytes)
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
) -> Result<(), DeviceError> {
    if !data.is_ascii() || data.chars().any(|c| c.is_control()) || data.is_empty() {
        return Err(DeviceError::new(
            ErrorKind::Config,
            "barcode data must be printable ASCII",
        ));
    }
    p.justify(JustifyMode::CENTER).map_err(enc)?;
    // GS h n: bar height; GS H 2: human-readable text below.
    p.custom(&[GS, b'h', height.max(1), GS, b'H', 2])
        .map_err(enc)?;
    match kind {
        BarcodeKind::Code128 => {
            // GS k 73 n: CODE128 function B; "{B" selects code set B and a
            // literal '{' is written "{{".
            let body = format!("{{B{}", data.replace('{', "{{"));
            let n = u8::try_from(body.len()).map_err(|_| {
                DeviceError::new(ErrorKind::Config, "CODE128 data longer than 253 characters")
            })?;
            let mut cmd = vec![GS, b'k', 73, n];
            cmd.extend_from_slice(body.as_bytes());
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

/// An ESC/POS printer on a TCP socket.
pub struct EscPosPrinter {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    width: PaperWidth,
    health: Health,
    last: Option<PrinterStatus>,
}

fn io_error(e: std::io::Error, what: &str) -> DeviceError {
    let kind = match e.kind() {
        IoKind::TimedOut | IoKind::WouldBlock => ErrorKind::Timeout,
        IoKind::ConnectionRefused
        | IoKind::ConnectionReset
        | IoKind::ConnectionAborted
        | IoKind::BrokenPipe
        | IoKind::NotConnected
        | IoKind::UnexpectedEof => ErrorKind::Disconnected,
        _ => ErrorKind::Disconnected,
    };
    DeviceError::new(kind, format!("{what}: {e}")).with_source(e)
}

fn remaining(deadline: Instant) -> Result<Duration, DeviceError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(DeviceError::new(ErrorKind::Timeout, "deadline passed"))
    } else {
        Ok(left)
    }
}

impl EscPosPrinter {
    /// Connects to the printer named by `tcp:HOST:PORT[?width=80|58]`.
    pub fn open(selector: &Selector) -> Result<EscPosPrinter, DeviceError> {
        let Selector::Tcp { host, port, .. } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("ESC/POS printer needs a tcp selector, not {selector}"),
            ));
        };
        let width = match selector.option_u32("width", 80)? {
            80 => PaperWidth::Mm80,
            58 => PaperWidth::Mm58,
            w => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("paper width {w} mm is not 80 or 58"),
                ));
            }
        };
        let addr = (host.as_str(), *port)
            .to_socket_addrs()
            .map_err(|e| DeviceError::new(ErrorKind::NotFound, format!("resolving {host}: {e}")))?
            .next()
            .ok_or_else(|| {
                DeviceError::new(ErrorKind::NotFound, format!("{host} has no address"))
            })?;
        let mut health = Health::ok();
        for c in [
            "prints",
            "print_errors",
            "paper_low",
            "paper_out",
            "reconnects",
        ] {
            health.counters.insert(c.to_string(), 0);
        }
        let mut printer = EscPosPrinter {
            addr,
            stream: None,
            width,
            health,
            last: None,
        };
        printer.connect(Instant::now() + CONNECT_TIMEOUT)?;
        tracing::debug!(%addr, "ESC/POS printer connected");
        Ok(printer)
    }

    /// The printer's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Paper width from the selector.
    pub fn width(&self) -> PaperWidth {
        self.width
    }

    fn connect(&mut self, deadline: Instant) -> Result<&mut TcpStream, DeviceError> {
        if self.stream.is_none() {
            let t = remaining(deadline)?.min(CONNECT_TIMEOUT);
            let s =
                TcpStream::connect_timeout(&self.addr, t).map_err(|e| io_error(e, "connecting"))?;
            let _ = s.set_nodelay(true);
            self.stream = Some(s);
        }
        self.stream
            .as_mut()
            .ok_or_else(|| DeviceError::new(ErrorKind::Disconnected, "no connection"))
    }

    /// Runs `f` on the connection; a transport failure drops the
    /// connection (the next call reconnects once) and marks health.
    fn with_link<T>(
        &mut self,
        deadline: Instant,
        f: impl Fn(&mut TcpStream, Instant) -> Result<T, DeviceError>,
    ) -> Result<T, DeviceError> {
        let fresh = self.stream.is_none();
        let first = {
            let s = self.connect(deadline)?;
            f(s, deadline)
        };
        match first {
            Err(e) if e.kind() == ErrorKind::Disconnected && !fresh => {
                // A kept connection may have been closed by the printer
                // (power cycle, idle timeout): one new connection.
                self.stream = None;
                self.health.bump("reconnects");
                let s = self.connect(deadline)?;
                let r = f(s, deadline);
                if r.is_err() {
                    self.stream = None;
                }
                r
            }
            Err(e) => {
                if matches!(
                    e.kind(),
                    ErrorKind::Disconnected | ErrorKind::Timeout | ErrorKind::Protocol
                ) {
                    self.stream = None;
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
}

fn ask_status(s: &mut TcpStream, deadline: Instant) -> Result<PrinterStatus, DeviceError> {
    // Drop stale bytes (an answer that came after an earlier timeout) so
    // the answers line up with the questions.
    s.set_nonblocking(true)
        .map_err(|e| io_error(e, "draining"))?;
    let mut junk = [0u8; 64];
    loop {
        match s.read(&mut junk) {
            Ok(0) => {
                let _ = s.set_nonblocking(false);
                return Err(DeviceError::new(
                    ErrorKind::Disconnected,
                    "printer closed the connection",
                ));
            }
            Ok(_) => continue,
            Err(e) if e.kind() == IoKind::WouldBlock => break,
            Err(e) => {
                let _ = s.set_nonblocking(false);
                return Err(io_error(e, "draining"));
            }
        }
    }
    s.set_nonblocking(false)
        .map_err(|e| io_error(e, "draining"))?;
    s.set_write_timeout(Some(remaining(deadline)?))
        .map_err(|e| io_error(e, "status"))?;
    s.write_all(&STATUS_REQUEST)
        .map_err(|e| io_error(e, "sending status request"))?;
    let mut got = [0u8; 4];
    let mut n = 0;
    while n < got.len() {
        s.set_read_timeout(Some(remaining(deadline)?))
            .map_err(|e| io_error(e, "status"))?;
        match s.read(got.get_mut(n..).unwrap_or_default()) {
            Ok(0) => {
                return Err(DeviceError::new(
                    ErrorKind::Disconnected,
                    "printer closed the connection",
                ));
            }
            Ok(k) => n += k,
            Err(e) if e.kind() == IoKind::Interrupted => continue,
            Err(e) => {
                let mut err = io_error(e, "reading status");
                if err.kind() == ErrorKind::Timeout {
                    err = DeviceError::new(
                        ErrorKind::Timeout,
                        format!("status: {n} of 4 answer bytes before the deadline"),
                    );
                }
                return Err(err);
            }
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
                tracing::debug!(addr = %self.addr, kind = e.kind().code(), detail = e.detail(), "status poll failed");
                Vec::new()
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
        ReceiptPrinter::status(self, deadline)?;
        self.health.last_self_test = Some(SystemTime::now());
        Ok(self.health.clone())
    }
}

impl EscPosPrinter {
    /// Status with the events it caused.
    pub fn status_with_events(
        &mut self,
        deadline: Instant,
    ) -> Result<(PrinterStatus, Vec<DeviceEvent>), DeviceError> {
        match self.with_link(deadline, ask_status) {
            Ok(s) => {
                let events = self.observe(&s);
                Ok((s, events))
            }
            Err(e) => {
                self.went_offline(&e);
                Err(e)
            }
        }
    }
}

impl ReceiptPrinter for EscPosPrinter {
    fn print(&mut self, receipt: &Receipt, deadline: Instant) -> Result<PrintOutcome, DeviceError> {
        let bytes = encode(receipt)?;
        let before = ReceiptPrinter::status(self, deadline)?;
        if let Some(kind) = refusal(&before) {
            self.health.bump("print_errors");
            return Err(DeviceError::new(
                kind,
                "printer cannot print now; nothing was sent",
            ));
        }
        let sent = self.with_link(deadline, |s, deadline| {
            s.set_write_timeout(Some(remaining(deadline)?))
                .map_err(|e| io_error(e, "print"))?;
            s.write_all(&bytes)
                .map_err(|e| io_error(e, "sending job"))?;
            s.flush().map_err(|e| io_error(e, "sending job"))?;
            Ok(bytes.len())
        });
        let bytes_sent = match sent {
            Ok(n) => n,
            Err(e) => {
                self.health.bump("print_errors");
                self.went_offline(&e);
                return Err(e);
            }
        };
        let status_after = ReceiptPrinter::status(self, deadline)?;
        self.health.bump("prints");
        Ok(PrintOutcome {
            bytes_sent,
            status_after,
        })
    }

    fn status(&mut self, deadline: Instant) -> Result<PrinterStatus, DeviceError> {
        self.status_with_events(deadline).map(|(s, _)| s)
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
