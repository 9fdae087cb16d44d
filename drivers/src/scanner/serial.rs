//! Code scanner in serial mode (USB-CDC "USB COM" or RS-232).
//!
//! A scanner in this mode writes, for every code it reads,
//! `[prefix][AIM identifier][data][suffix]` and nothing else. There is no
//! request, no checksum and no length: the suffix is the only frame end,
//! so the driver frames by it, and by silence when the scanner is set to
//! send no suffix.
//!
//! Selector: `serial:PATH?baud=9600&suffix=cr|crlf|lf|none&prefix=TEXT&aim=1&dedup_ms=1000&gap_ms=100&trigger=honeywell`
//!
//! | option | default | meaning |
//! | --- | --- | --- |
//! | `baud` | 9600 | line speed (8N1, no flow control) |
//! | `suffix` | `cr` | frame end the scanner is programmed to send |
//! | `prefix` | none | text the scanner puts before every code; `%XX` escapes allowed (`%02` is STX) |
//! | `aim` | 0 | 1 when the scanner sends the AIM identifier (`]Q1`, `]d2`, `]C0`, …) |
//! | `dedup_ms` | 1000 | the same code again within this time is dropped; 0 turns it off |
//! | `gap_ms` | 100 | silence that ends a code with `suffix=none`; with a suffix, a partial code older than this is line noise and dropped |
//! | `trigger` | none | `honeywell`: [`BarcodeScanner::set_enabled`] sends Honeywell's serial trigger commands `SYN T CR` (16 54 0D, activate) and `SYN U CR` (16 55 0D, deactivate), which Honeywell scanners in serial-trigger mode accept |
//!
//! Without `trigger`, `set_enabled` is a documented no-op: host trigger
//! commands are vendor specific, and bytes a scanner does not understand
//! may be taken for configuration.
//!
//! ## Invariants
//!
//! * The payload bytes are kept exactly; only the configured prefix, the
//!   AIM identifier and the suffix are removed.
//! * A frame without the configured prefix (or without a valid AIM
//!   identifier when `aim=1`), and a partial frame left by line noise,
//!   is dropped and counted in `noise_discarded`; it never becomes a code.
//! * EIO / hang-up on the port is [`ErrorKind::Disconnected`] and the
//!   health goes offline, so the actor reopens the selector.
//! * Scanned content is never logged, only its length and symbology.

use crate::serial::{open_error, port_error};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use hal::scanner::{BarcodeScanner, ScannedCode, Symbology};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits, TTYPort};

use super::{Dedup, decode_text};

/// Baud rate when the selector names none.
pub const DEFAULT_BAUD: u32 = 9600;
/// Default de-duplication window.
pub const DEFAULT_DEDUP: Duration = Duration::from_millis(1000);
/// Default inter-byte gap.
pub const DEFAULT_GAP: Duration = Duration::from_millis(100);
/// How often the actor looks at the line.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Honeywell serial trigger: activate (`SYN T CR`).
pub const HONEYWELL_TRIGGER_ON: [u8; 3] = [0x16, 0x54, 0x0D];
/// Honeywell serial trigger: deactivate (`SYN U CR`).
pub const HONEYWELL_TRIGGER_OFF: [u8; 3] = [0x16, 0x55, 0x0D];

/// The frame end the scanner sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suffix {
    Cr,
    CrLf,
    Lf,
    /// No suffix: a code ends with silence on the line.
    None,
}

impl Suffix {
    fn bytes(self) -> &'static [u8] {
        match self {
            Suffix::Cr => b"\r",
            Suffix::CrLf => b"\r\n",
            Suffix::Lf => b"\n",
            Suffix::None => b"",
        }
    }

    fn parse(s: &str) -> Result<Suffix, DeviceError> {
        Ok(match s {
            "cr" => Suffix::Cr,
            "crlf" => Suffix::CrLf,
            "lf" => Suffix::Lf,
            "none" => Suffix::None,
            other => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("suffix={other} is not cr, crlf, lf or none"),
                ));
            }
        })
    }
}

/// How the scanner is programmed, from the selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialConfig {
    pub baud: u32,
    pub suffix: Suffix,
    pub prefix: Vec<u8>,
    pub aim: bool,
    pub dedup: Duration,
    pub gap: Duration,
    pub honeywell_trigger: bool,
}

/// `%XX` escapes to bytes; anything else is taken as it is.
fn percent_decode(s: &str) -> Result<Vec<u8>, DeviceError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    DeviceError::new(ErrorKind::Config, format!("bad %XX escape in {s:?}"))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Ok(out)
}

impl SerialConfig {
    /// Reads the options of a `serial:` selector.
    pub fn from_selector(selector: &Selector) -> Result<SerialConfig, DeviceError> {
        let baud = selector.option_u32("baud", DEFAULT_BAUD)?;
        if baud == 0 {
            return Err(DeviceError::new(ErrorKind::Config, "baud must not be 0"));
        }
        let suffix = Suffix::parse(selector.option("suffix").unwrap_or("cr"))?;
        let prefix = percent_decode(selector.option("prefix").unwrap_or(""))?;
        let aim = match selector.option("aim").unwrap_or("0") {
            "1" | "true" | "on" => true,
            "0" | "false" | "off" => false,
            other => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("aim={other} is not 0 or 1"),
                ));
            }
        };
        let dedup = Duration::from_millis(u64::from(
            selector.option_u32("dedup_ms", DEFAULT_DEDUP.as_millis() as u32)?,
        ));
        let gap = Duration::from_millis(u64::from(
            selector.option_u32("gap_ms", DEFAULT_GAP.as_millis() as u32)?,
        ));
        if gap.is_zero() {
            return Err(DeviceError::new(ErrorKind::Config, "gap_ms must not be 0"));
        }
        let honeywell_trigger = match selector.option("trigger").unwrap_or("none") {
            "honeywell" => true,
            "none" => false,
            other => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("trigger={other} is not honeywell or none"),
                ));
            }
        };
        Ok(SerialConfig {
            baud,
            suffix,
            prefix,
            aim,
            dedup,
            gap,
            honeywell_trigger,
        })
    }
}

/// Cuts the byte stream into frames by the suffix, or by silence.
#[derive(Debug)]
pub struct Framer {
    suffix: &'static [u8],
    gap: Duration,
    buf: Vec<u8>,
    last_byte: Option<Instant>,
}

/// What [`Framer::take`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Framed {
    /// A complete frame, suffix removed.
    Frame(Vec<u8>),
    /// A partial frame that went silent with no suffix (line noise).
    Stale(usize),
}

/// Longest frame kept; a scanner's largest code (QR version 40) is under
/// 3 KB, so anything longer is noise.
const MAX_FRAME: usize = 8192;

impl Framer {
    pub fn new(suffix: Suffix, gap: Duration) -> Framer {
        Framer {
            suffix: suffix.bytes(),
            gap,
            buf: Vec::new(),
            last_byte: None,
        }
    }

    pub fn push(&mut self, bytes: &[u8], now: Instant) {
        if !bytes.is_empty() {
            self.buf.extend_from_slice(bytes);
            self.last_byte = Some(now);
        }
    }

    /// Whether bytes of an unfinished frame are waiting.
    pub fn in_frame(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Time until the silence after the last byte ends the frame.
    pub fn gap_left(&self, now: Instant) -> Option<Duration> {
        let last = self.last_byte?;
        self.in_frame()
            .then(|| (last + self.gap).saturating_duration_since(now))
    }

    /// The next complete frame, or a stale partial one.
    pub fn take(&mut self, now: Instant) -> Option<Framed> {
        if !self.suffix.is_empty()
            && let Some(at) = self
                .buf
                .windows(self.suffix.len())
                .position(|w| w == self.suffix)
        {
            let frame: Vec<u8> = self.buf.drain(..at + self.suffix.len()).take(at).collect();
            return Some(Framed::Frame(frame));
        }
        let silent = self.gap_left(now).is_some_and(|d| d.is_zero());
        if silent || self.buf.len() > MAX_FRAME {
            let rest = std::mem::take(&mut self.buf);
            return Some(if self.suffix.is_empty() && rest.len() <= MAX_FRAME {
                Framed::Frame(rest)
            } else {
                Framed::Stale(rest.len())
            });
        }
        None
    }

    pub fn clear(&mut self) {
        self.buf.clear();
        self.last_byte = None;
    }
}

/// Why a frame is not a code.
#[derive(Debug, PartialEq, Eq)]
pub enum Reject {
    Empty,
    NoPrefix,
    NoAim,
}

/// Strips the prefix and the AIM identifier from one frame.
pub fn parse_frame(
    frame: &[u8],
    prefix: &[u8],
    aim: bool,
) -> Result<(Vec<u8>, Option<Symbology>), Reject> {
    let rest = frame.strip_prefix(prefix).ok_or(Reject::NoPrefix)?;
    if rest.is_empty() {
        return Err(Reject::Empty);
    }
    if !aim {
        return Ok((rest.to_vec(), None));
    }
    match rest {
        [b']', code, modifier, data @ ..] => match Symbology::from_aim(*code, *modifier) {
            Some(sym) if !data.is_empty() => Ok((data.to_vec(), Some(sym))),
            Some(_) => Err(Reject::Empty),
            None => Err(Reject::NoAim),
        },
        _ => Err(Reject::NoAim),
    }
}

/// A code scanner on a serial port.
pub struct SerialScanner {
    port: TTYPort,
    path: String,
    config: SerialConfig,
    framer: Framer,
    dedup: Dedup,
    pending: VecDeque<ScannedCode>,
    health: Health,
}

impl SerialScanner {
    /// Opens the scanner named by a `serial:` selector (see the module
    /// documentation for the options). Opening sends nothing.
    pub fn open(selector: &Selector) -> Result<SerialScanner, DeviceError> {
        let Selector::Serial { path, .. } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("serial code scanner needs a serial selector, not {selector}"),
            ));
        };
        let config = SerialConfig::from_selector(selector)?;
        let port = serialport::new(path.as_str(), config.baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(Duration::from_millis(50))
            .open_native()
            .map_err(|e| open_error(e, path))?;
        port.clear(ClearBuffer::All)
            .map_err(|e| port_error(e, "clearing buffers at open"))?;
        let mut health = Health::ok();
        for counter in ["scans", "duplicates", "noise_discarded"] {
            health.counters.insert(counter.to_string(), 0);
        }
        tracing::debug!(path = %path, baud = config.baud, "serial code scanner opened");
        Ok(SerialScanner {
            port,
            path: path.clone(),
            framer: Framer::new(config.suffix, config.gap),
            dedup: Dedup::new(config.dedup),
            config,
            pending: VecDeque::new(),
            health,
        })
    }

    /// The configuration read from the selector.
    pub fn config(&self) -> &SerialConfig {
        &self.config
    }

    /// Waits for the next code until `deadline`; [`ErrorKind::Timeout`]
    /// when none came.
    pub fn read_code(&mut self, deadline: Instant) -> Result<ScannedCode, DeviceError> {
        loop {
            if let Some(code) = self.pending.pop_front() {
                return Ok(code);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DeviceError::timeout("no code scanned before the deadline"));
            }
            let codes = self.pump(deadline, left)?;
            self.pending.extend(codes);
        }
    }

    fn go_offline(&mut self, err: &DeviceError) {
        let kind = err.kind();
        self.health.set(
            HealthState::Offline,
            Some(kind.code()),
            kind.message_zh(),
            kind.message_en(),
        );
    }

    /// Reads the line until `deadline`, or until `idle` passed with no
    /// frame in progress, or until at least one code is complete and no
    /// further frame is in progress.
    fn pump(&mut self, deadline: Instant, idle: Duration) -> Result<Vec<ScannedCode>, DeviceError> {
        let result = self.pump_inner(deadline, idle);
        if let Err(e) = &result {
            self.go_offline(e);
        }
        result
    }

    fn pump_inner(
        &mut self,
        deadline: Instant,
        idle: Duration,
    ) -> Result<Vec<ScannedCode>, DeviceError> {
        let start = Instant::now();
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            let now = Instant::now();
            while let Some(framed) = self.framer.take(now) {
                self.handle(framed, now, &mut out);
            }
            if !out.is_empty() && !self.framer.in_frame() {
                return Ok(out);
            }
            let mut wait = deadline.saturating_duration_since(now);
            match self.framer.gap_left(now) {
                Some(gap) => wait = wait.min(gap.max(Duration::from_millis(1))),
                None => wait = wait.min(idle.saturating_sub(now.saturating_duration_since(start))),
            }
            if wait.is_zero() {
                return Ok(out);
            }
            self.port
                .set_timeout(wait)
                .map_err(|e| port_error(e, "setting the read timeout"))?;
            match self.port.read(&mut buf) {
                Ok(0) => return Err(DeviceError::disconnected("scanner port closed")),
                Ok(n) => self
                    .framer
                    .push(buf.get(..n).unwrap_or_default(), Instant::now()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(port_error(e, "reading the scanner")),
            }
        }
    }

    fn handle(&mut self, framed: Framed, now: Instant, out: &mut Vec<ScannedCode>) {
        let frame = match framed {
            Framed::Frame(f) => f,
            Framed::Stale(n) => {
                tracing::debug!(path = %self.path, bytes = n, "partial code without suffix dropped as noise");
                self.health.bump("noise_discarded");
                return;
            }
        };
        match parse_frame(&frame, &self.config.prefix, self.config.aim) {
            Ok((data, symbology)) => {
                if !self.dedup.fresh(&data, now) {
                    self.health.bump("duplicates");
                    return;
                }
                self.health.bump("scans");
                tracing::debug!(
                    bytes = data.len(),
                    symbology = symbology.map_or("-", Symbology::as_str),
                    "code scanned"
                );
                let text = decode_text(&data);
                out.push(ScannedCode {
                    data,
                    text,
                    symbology,
                });
            }
            Err(Reject::Empty) => {}
            Err(why) => {
                tracing::debug!(path = %self.path, bytes = frame.len(), ?why, "frame dropped as noise");
                self.health.bump("noise_discarded");
            }
        }
    }
}

impl Drop for SerialScanner {
    fn drop(&mut self) {
        let _ = self.port.set_exclusive(false);
    }
}

impl Device for SerialScanner {
    fn kind(&self) -> DeviceKind {
        DeviceKind::BarcodeScanner
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    /// Reads what the scanner sent since the last poll; one
    /// [`DeviceEvent::CodeScanned`] per new code.
    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        let mut codes: Vec<ScannedCode> = self.pending.drain(..).collect();
        match self.pump(deadline, Duration::from_millis(20)) {
            Ok(more) => codes.extend(more),
            Err(e) => {
                tracing::debug!(path = %self.path, kind = e.kind().code(), detail = e.detail(), "scanner poll failed");
            }
        }
        codes.into_iter().map(DeviceEvent::CodeScanned).collect()
    }

    fn poll_interval(&self) -> Duration {
        POLL_INTERVAL
    }

    /// A serial scanner has no status query: the self-test checks that the
    /// port is still there (a vanished USB-CDC port fails the read).
    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        let codes = self.pump(deadline, Duration::from_millis(10))?;
        self.pending.extend(codes);
        self.health.last_self_test = Some(SystemTime::now());
        Ok(self.health.clone())
    }
}

impl BarcodeScanner for SerialScanner {
    /// With `trigger=honeywell`, sends `SYN T CR` / `SYN U CR`; otherwise
    /// does nothing (see the module documentation).
    fn set_enabled(&mut self, enabled: bool, deadline: Instant) -> Result<(), DeviceError> {
        if !self.config.honeywell_trigger {
            tracing::debug!(path = %self.path, enabled, "no trigger command configured; set_enabled does nothing");
            return Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(DeviceError::timeout("trigger: deadline passed"));
        }
        let cmd = if enabled {
            HONEYWELL_TRIGGER_ON
        } else {
            HONEYWELL_TRIGGER_OFF
        };
        let result = self
            .port
            .set_timeout(left)
            .map_err(|e| port_error(e, "trigger"))
            .and_then(|()| {
                self.port.write_all(&cmd).map_err(|e| match e.kind() {
                    std::io::ErrorKind::TimedOut => {
                        DeviceError::timeout("trigger command not accepted by the port")
                    }
                    _ => port_error(e, "trigger"),
                })
            });
        if let Err(e) = &result
            && e.kind() == ErrorKind::Disconnected
        {
            self.go_offline(e);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn frames_by_each_suffix() {
        let t = Instant::now();
        for (suffix, wire) in [
            (Suffix::Cr, &b"AB\rCD\r"[..]),
            (Suffix::CrLf, b"AB\r\nCD\r\n"),
            (Suffix::Lf, b"AB\nCD\n"),
        ] {
            let mut f = Framer::new(suffix, ms(100));
            f.push(wire, t);
            assert_eq!(f.take(t), Some(Framed::Frame(b"AB".to_vec())), "{suffix:?}");
            assert_eq!(f.take(t), Some(Framed::Frame(b"CD".to_vec())), "{suffix:?}");
            assert_eq!(f.take(t + ms(500)), None);
        }
    }

    #[test]
    fn crlf_split_between_reads_and_cr_inside_crlf_mode() {
        let t = Instant::now();
        let mut f = Framer::new(Suffix::CrLf, ms(100));
        f.push(b"A\rB\r", t);
        assert_eq!(f.take(t), None);
        f.push(b"\n", t + ms(10));
        assert_eq!(f.take(t + ms(10)), Some(Framed::Frame(b"A\rB".to_vec())));
    }

    #[test]
    fn silence_ends_a_frame_without_suffix_and_drops_a_stale_partial_with_one() {
        let t = Instant::now();
        let mut f = Framer::new(Suffix::None, ms(100));
        f.push(b"12", t);
        f.push(b"34", t + ms(50));
        assert_eq!(f.take(t + ms(120)), None, "gap counts from the last byte");
        assert_eq!(f.gap_left(t + ms(120)), Some(ms(30)));
        assert_eq!(f.take(t + ms(150)), Some(Framed::Frame(b"1234".to_vec())));
        assert!(!f.in_frame());

        let mut f = Framer::new(Suffix::Cr, ms(100));
        f.push(b"\x00\xffnoise", t);
        assert_eq!(f.take(t + ms(200)), Some(Framed::Stale(7)));
        f.push(b"OK\r", t + ms(300));
        assert_eq!(f.take(t + ms(300)), Some(Framed::Frame(b"OK".to_vec())));
    }

    #[test]
    fn prefix_and_aim_are_stripped_and_checked() {
        assert_eq!(
            parse_frame(b"#]Q1hello", b"#", true),
            Ok((b"hello".to_vec(), Some(Symbology::Qr)))
        );
        assert_eq!(
            parse_frame(b"]E09787111000000", b"", true),
            Ok((b"9787111000000".to_vec(), Some(Symbology::Ean13)))
        );
        assert_eq!(parse_frame(b"hello", b"#", false), Err(Reject::NoPrefix));
        assert_eq!(parse_frame(b"hello", b"", true), Err(Reject::NoAim));
        assert_eq!(parse_frame(b"]Q1", b"", true), Err(Reject::Empty));
        assert_eq!(parse_frame(b"", b"", false), Err(Reject::Empty));
        assert_eq!(
            parse_frame(b"]x", b"", false),
            Ok((b"]x".to_vec(), None)),
            "without aim=1 the bytes are data"
        );
    }

    #[test]
    fn config_from_selector() {
        let s: Selector =
            "serial:/dev/x?suffix=crlf&prefix=%02QR&aim=1&dedup_ms=0&trigger=honeywell"
                .parse()
                .unwrap();
        let c = SerialConfig::from_selector(&s).unwrap();
        assert_eq!(c.baud, 9600);
        assert_eq!(c.suffix, Suffix::CrLf);
        assert_eq!(c.prefix, b"\x02QR");
        assert!(c.aim && c.honeywell_trigger);
        assert_eq!(c.dedup, Duration::ZERO);
        for bad in [
            "serial:/dev/x?suffix=tab",
            "serial:/dev/x?aim=yes",
            "serial:/dev/x?prefix=%G1",
            "serial:/dev/x?gap_ms=0",
            "serial:/dev/x?baud=0",
            "serial:/dev/x?trigger=zebra",
        ] {
            let s: Selector = bad.parse().unwrap();
            assert_eq!(
                SerialConfig::from_selector(&s).unwrap_err().kind(),
                ErrorKind::Config,
                "{bad}"
            );
        }
    }
}
