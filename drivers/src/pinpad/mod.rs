//! Encrypting PIN pad (密码键盘) over serial, ZT588-style command set.
//!
//! **Provenance.** No vendor protocol document for a Chinese EPP was found
//! in public material. The command subset here is the one the public
//! open-source kiosk driver for the Shenzhen Zhengtong (证通) ZT588 uses
//! (`smartkiosk/smartware`, Ruby). Points that driver leaves open are our
//! choice and marked so in `sim::pinpad`, which documents the wire format
//! in full; the driver accepts what the public driver accepts. Treat this
//! as "ZT588-style" until checked against a real pad.
//!
//! Frame: `STX LLL TEXT ETX CC` (LLL: text length in three decimal digits;
//! CC: XOR of LLL..ETX in two hex digits). Key presses arrive as single
//! bytes between frames, from the scancode table this driver loads.
//!
//! Selector: `serial:PATH?baud=9600` (8N1, no flow control).
//!
//! ## Invariants
//!
//! * The PIN never reaches the host: during entry the pad echoes the mask
//!   character (`*`), and the driver turns every digit byte into
//!   [`PinKey::Digit`] without keeping its value.
//! * PAN, keys and PIN blocks are never logged.
//! * A reply with a wrong checksum is asked for once more; twice is
//!   [`ErrorKind::Protocol`]. Status bytes `E0`–`EF` map to kinds (key
//!   errors → [`ErrorKind::SecureModule`], input time-out →
//!   [`ErrorKind::Timeout`], bad data → [`ErrorKind::Protocol`]).
//! * Every wait is bounded by the deadline; hang-up is
//!   [`ErrorKind::Disconnected`] and the health goes offline.

use crate::serial::{open_error, port_error};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use hal::pinpad::{
    PinBlock, PinBlockFormat, PinEntryProgress, PinEntryRequest, PinEntryState, PinKey, PinPad,
    pan_digits_for_iso0,
};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits, TTYPort};

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
/// Default line speed.
pub const DEFAULT_BAUD: u32 = 9600;
/// Scancode table loaded at open (keypad layout of the ZT588 as the
/// public driver loads it): digits, ESC cancel, BS clear, BEL blank key,
/// `.`, `#` for "00", CR enter, A–H function keys.
pub const SCANCODES: &[u8; 24] = b"123\x1b456\x08789\x07.0#\rACEGBDFH";
/// PIN echo character.
pub const MASK: u8 = b'*';
/// Index of the master key (TMK).
pub const TMK_INDEX: u8 = 0x00;
/// Key type of a PIN key (TPK).
const KEY_TYPE_TPK: u8 = 3;

/// Index of the PIN key of a working-key set.
pub fn tpk_index(key_set: u8) -> u8 {
    0x40 + 8 * (key_set & 7)
}

/// One request frame around `text`.
pub fn encode(text: &[u8]) -> Vec<u8> {
    let mut body = format!("{:03}", text.len()).into_bytes();
    body.extend_from_slice(text);
    body.push(ETX);
    let cc = body.iter().fold(0, |a, b| a ^ b);
    let mut out = Vec::with_capacity(body.len() + 3);
    out.push(STX);
    out.extend_from_slice(&body);
    out.extend_from_slice(format!("{cc:02X}").as_bytes());
    out
}

/// What came off the line.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Key(u8),
    Reply(Vec<u8>),
    BadChecksum,
}

/// Splits the input into key bytes and reply frames.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    pub resyncs: u64,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    pub fn in_frame(&self) -> bool {
        self.buf.first() == Some(&STX)
    }

    pub fn next_incoming(&mut self) -> Option<Incoming> {
        loop {
            let first = *self.buf.first()?;
            if first != STX {
                self.buf.remove(0);
                return Some(Incoming::Key(first));
            }
            let digits = self.buf.get(1..4)?;
            let Some(len) = std::str::from_utf8(digits)
                .ok()
                .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<usize>().ok())
            else {
                // Not a frame start after all.
                self.buf.remove(0);
                self.resyncs += 1;
                continue;
            };
            let total = len + 7;
            if self.buf.len() < total {
                return None;
            }
            let frame: Vec<u8> = self.buf.drain(..total).collect();
            let body = frame.get(1..total - 2).unwrap_or_default();
            let cc = body.iter().fold(0u8, |a, b| a ^ b);
            let sent = frame
                .get(total - 2..)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if frame.get(total - 3) != Some(&ETX) || sent != Some(cc) {
                return Some(Incoming::BadChecksum);
            }
            return Some(Incoming::Reply(
                frame.get(4..total - 3).unwrap_or_default().to_vec(),
            ));
        }
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

/// The error for a status byte `E0`–`EF`, `None` for success.
pub fn status_error(status: u8, what: &str) -> Option<DeviceError> {
    let (kind, text) = match status {
        0xE0 => (ErrorKind::DeviceFault, "low battery"),
        0xE1 => (ErrorKind::SecureModule, "IMK required"),
        0xE2 => (ErrorKind::SecureModule, "TMK required"),
        0xE3 => (ErrorKind::SecureModule, "unexpected key size"),
        0xE4 => (ErrorKind::SecureModule, "key not found"),
        0xE5 => (ErrorKind::SecureModule, "key not found or not compatible"),
        0xE6 => (ErrorKind::SecureModule, "key parity check failed"),
        0xE7 => (ErrorKind::SecureModule, "key not valid"),
        0xE8 => (ErrorKind::Protocol, "unexpected command length"),
        0xE9 => (ErrorKind::Protocol, "incorrect data"),
        0xEB => (ErrorKind::Protocol, "incorrect parameter"),
        0xEC => (ErrorKind::SecureModule, "authorisation required"),
        0xED => (ErrorKind::SecureModule, "authorisation temporarily locked"),
        0xEE => (ErrorKind::Timeout, "input timed out on the pad"),
        0xEA | 0xEF => (ErrorKind::DeviceFault, "general error"),
        _ => return None,
    };
    Some(
        DeviceError::new(kind, format!("{what}: pad says {text} (0x{status:02X})"))
            .with_device_code(u32::from(status)),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// Entry as the driver tracks it from the echoes.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key_set: u8,
    length: u8,
    entered: u8,
    cancelled: bool,
}

/// A ZT588-style PIN pad on a serial port.
pub struct SerialPinPad {
    port: TTYPort,
    path: String,
    decoder: Decoder,
    keys: VecDeque<PinKey>,
    entry: Option<Entry>,
    health: Health,
    model: String,
}

/// Silence inside a started reply after which it is given up.
const REPLY_GAP: Duration = Duration::from_millis(500);

impl SerialPinPad {
    /// Opens the pad at `serial:PATH[?baud=N]`, asks its user information
    /// (model), loads the scancode table, sets the PIN echo to `*` and
    /// closes the keypad, all within `deadline`.
    pub fn open(selector: &Selector, deadline: Instant) -> Result<SerialPinPad, DeviceError> {
        let Selector::Serial { path, .. } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("PIN pad needs a serial selector, not {selector}"),
            ));
        };
        let baud = selector.option_u32("baud", DEFAULT_BAUD)?;
        if baud == 0 {
            return Err(DeviceError::new(ErrorKind::Config, "baud must not be 0"));
        }
        let port = serialport::new(path.as_str(), baud)
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
        for c in ["pin_blocks", "cancelled", "checksum_errors", "resyncs"] {
            health.counters.insert(c.to_string(), 0);
        }
        let mut pad = SerialPinPad {
            port,
            path: path.clone(),
            decoder: Decoder::default(),
            keys: VecDeque::new(),
            entry: None,
            health,
            model: String::new(),
        };
        pad.model = pad.user_information(deadline)?;
        pad.command(
            &[b"4", hex(SCANCODES).as_bytes()].concat(),
            "load scancodes",
            deadline,
        )?;
        pad.command(
            &[b"53", hex(&[MASK]).as_bytes()].concat(),
            "set PIN mask",
            deadline,
        )?;
        pad.command(b"5032", "close keypad", deadline)?;
        tracing::debug!(path = %pad.path, model = %pad.model, "PIN pad opened");
        Ok(pad)
    }

    /// Model name the pad reports.
    pub fn model(&self) -> &str {
        &self.model
    }

    fn user_information(&mut self, deadline: Instant) -> Result<String, DeviceError> {
        let info = self.command(b"3", "user information", deadline)?;
        // status(1) user(50) scancodes(48) settings(20) function(8) model(6)
        let model = info.get(127..133).ok_or_else(|| {
            DeviceError::protocol(format!(
                "user information is {} bytes, needs at least 133",
                info.len()
            ))
        })?;
        Ok(String::from_utf8_lossy(model).trim().to_string())
    }

    fn on_key(&mut self, byte: u8) {
        let key = match byte {
            b'0'..=b'9' | MASK | b'#' => PinKey::Digit,
            0x08 => PinKey::Clear,
            0x1B | 0x80 => PinKey::Cancel,
            b'\r' => PinKey::Enter,
            _ => PinKey::Other,
        };
        if let Some(e) = self.entry.as_mut().filter(|e| !e.cancelled) {
            match key {
                PinKey::Digit => e.entered = e.entered.saturating_add(1).min(e.length),
                PinKey::Clear => e.entered = 0,
                PinKey::Cancel => {
                    e.cancelled = true;
                    self.health.bump("cancelled");
                }
                _ => {}
            }
        }
        self.keys.push_back(key);
    }

    fn fail(&mut self, err: DeviceError) -> DeviceError {
        if err.kind() == ErrorKind::Disconnected {
            let k = err.kind();
            self.health.set(
                HealthState::Offline,
                Some(k.code()),
                k.message_zh(),
                k.message_en(),
            );
        }
        err
    }

    /// Reads until a reply frame (`want_reply`) or until `until`; key
    /// bytes on the way are taken as key presses.
    fn read_line(
        &mut self,
        until: Instant,
        want_reply: bool,
        what: &str,
    ) -> Result<Option<Incoming>, DeviceError> {
        let mut buf = [0u8; 512];
        let mut last = Instant::now();
        loop {
            while let Some(inc) = self.decoder.next_incoming() {
                match inc {
                    Incoming::Key(b) => self.on_key(b),
                    other if want_reply => return Ok(Some(other)),
                    _ => tracing::debug!(path = %self.path, "unsolicited frame ignored"),
                }
            }
            self.health
                .counters
                .insert("resyncs".into(), self.decoder.resyncs);
            let now = Instant::now();
            let mut wait = until.saturating_duration_since(now);
            if self.decoder.in_frame() {
                let gap = (last + REPLY_GAP).saturating_duration_since(now);
                if gap.is_zero() {
                    self.decoder.clear();
                    return Err(DeviceError::timeout(format!("{what}: reply broke off")));
                }
                wait = wait.min(gap);
            }
            if wait.is_zero() {
                return Ok(None);
            }
            self.port
                .set_timeout(wait)
                .map_err(|e| self.fail(port_error(e, what)))?;
            match self.port.read(&mut buf) {
                Ok(0) => return Err(self.fail(DeviceError::disconnected("PIN pad port closed"))),
                Ok(n) => {
                    self.decoder.push(buf.get(..n).unwrap_or_default());
                    last = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(self.fail(port_error(e, what))),
            }
        }
    }

    /// Sends one command and returns the reply text (status first), after
    /// checking the status. A bad checksum is retried once.
    fn command(
        &mut self,
        text: &[u8],
        what: &str,
        deadline: Instant,
    ) -> Result<Vec<u8>, DeviceError> {
        if deadline <= Instant::now() {
            return Err(DeviceError::timeout(format!("{what}: deadline passed")));
        }
        // Keys already on the line are kept, stale replies dropped.
        self.read_line(Instant::now(), false, what)?;
        let frame = encode(text);
        for _attempt in 0..2 {
            let left = deadline.saturating_duration_since(Instant::now());
            self.port
                .set_timeout(left.max(Duration::from_millis(1)))
                .map_err(|e| self.fail(port_error(e, what)))?;
            self.port.write_all(&frame).map_err(|e| match e.kind() {
                std::io::ErrorKind::TimedOut => DeviceError::timeout(format!("{what}: not sent")),
                _ => self.fail(port_error(e, what)),
            })?;
            match self.read_line(deadline, true, what)? {
                Some(Incoming::Reply(reply)) => {
                    let status = *reply
                        .first()
                        .ok_or_else(|| DeviceError::protocol(format!("{what}: empty reply")))?;
                    if let Some(err) = status_error(status, what) {
                        return Err(err);
                    }
                    if self.health.state != HealthState::Ok {
                        self.health.set(HealthState::Ok, None, "正常", "OK");
                    }
                    return Ok(reply);
                }
                Some(_) => {
                    self.health.bump("checksum_errors");
                }
                None => {
                    return Err(DeviceError::timeout(format!(
                        "{what}: no reply by the deadline"
                    )));
                }
            }
        }
        Err(DeviceError::protocol(format!(
            "{what}: reply checksum wrong twice"
        )))
    }
}

impl Drop for SerialPinPad {
    fn drop(&mut self) {
        let _ = self.port.set_exclusive(false);
    }
}

impl Device for SerialPinPad {
    fn kind(&self) -> DeviceKind {
        DeviceKind::PinPad
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    /// Reads pending key bytes (kept for [`PinPad::poll_entry`]) so that an
    /// unplugged pad is noticed while idle. Key presses are not
    /// [`DeviceEvent`]s.
    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        let until = deadline.min(Instant::now() + Duration::from_millis(20));
        if let Err(e) = self.read_line(until, false, "poll") {
            tracing::debug!(path = %self.path, kind = e.kind().code(), "PIN pad poll failed");
        }
        Vec::new()
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_millis(50)
    }

    /// Asks the pad's user information.
    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        let result = self.user_information(deadline);
        self.health.last_self_test = Some(SystemTime::now());
        result.map(|_| self.health.clone())
    }
}

impl PinPad for SerialPinPad {
    fn load_pin_key(
        &mut self,
        key_set: u8,
        key_under_master: &[u8],
        deadline: Instant,
    ) -> Result<Vec<u8>, DeviceError> {
        let len_code = match key_under_master.len() {
            16 => 2,
            24 => 3,
            n => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("PIN key must be 16 or 24 bytes, not {n}"),
                ));
            }
        };
        if key_set > 7 {
            return Err(DeviceError::new(ErrorKind::Config, "key set must be 0-7"));
        }
        let mut text = format!(
            "2{TMK_INDEX:02X}{:02X}{KEY_TYPE_TPK}{len_code}",
            tpk_index(key_set)
        )
        .into_bytes();
        text.extend_from_slice(hex(key_under_master).as_bytes());
        let reply = self.command(&text, "load PIN key", deadline)?;
        unhex(reply.get(1..).unwrap_or_default())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| DeviceError::protocol("load PIN key: check value is not hex"))
    }

    fn start_pin_entry(
        &mut self,
        request: &PinEntryRequest,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        let PinBlockFormat::Iso0 = request.format;
        if !(4..=12).contains(&request.length) || request.key_set > 7 {
            return Err(DeviceError::new(
                ErrorKind::Config,
                "PIN length must be 4-12 and key set 0-7",
            ));
        }
        let pan12 = pan_digits_for_iso0(&request.pan).ok_or_else(|| {
            DeviceError::new(ErrorKind::Config, "PAN must be 13-19 digits for ISO 9564-0")
        })?;
        let text = format!(
            "6{:02X} 0{:02}{pan12}",
            tpk_index(request.key_set),
            request.length
        );
        self.keys.clear();
        self.command(text.as_bytes(), "start PIN entry", deadline)?;
        self.entry = Some(Entry {
            key_set: request.key_set,
            length: request.length,
            entered: 0,
            cancelled: false,
        });
        Ok(())
    }

    fn poll_entry(&mut self, deadline: Instant) -> Result<PinEntryProgress, DeviceError> {
        let until = deadline.min(Instant::now() + Duration::from_millis(50));
        self.read_line(until, false, "PIN entry")?;
        let state = match self.entry {
            None => PinEntryState::Idle,
            Some(e) if e.cancelled => PinEntryState::Cancelled,
            Some(e) if e.entered >= e.length => PinEntryState::Complete { entered: e.entered },
            Some(e) => PinEntryState::Entering { entered: e.entered },
        };
        Ok(PinEntryProgress {
            keys: self.keys.drain(..).collect(),
            state,
        })
    }

    fn read_pin_block(&mut self, deadline: Instant) -> Result<PinBlock, DeviceError> {
        let Some(entry) = self.entry.filter(|e| !e.cancelled && e.entered >= e.length) else {
            return Err(DeviceError::new(
                ErrorKind::Busy,
                "no complete PIN entry to read",
            ));
        };
        let reply = self.command(b"7", "read PIN block", deadline)?;
        let num = |r: std::ops::Range<usize>| {
            reply
                .get(r)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|s| s.parse::<u8>().ok())
        };
        let (Some(_track), Some(pin_length), Some(block)) =
            (num(1..3), num(3..5), reply.get(5..).and_then(unhex))
        else {
            return Err(DeviceError::protocol("PIN block reply malformed"));
        };
        if block.len() != 8 {
            return Err(DeviceError::protocol(format!(
                "PIN block is {} bytes, not 8",
                block.len()
            )));
        }
        self.entry = None;
        self.health.bump("pin_blocks");
        tracing::info!(key_set = entry.key_set, pin_length, "PIN block read");
        Ok(PinBlock {
            block,
            format: PinBlockFormat::Iso0,
            key_set: entry.key_set,
            pin_length,
        })
    }

    fn cancel(&mut self, deadline: Instant) -> Result<(), DeviceError> {
        self.entry = None;
        self.command(b"5032", "close keypad", deadline)?;
        self.keys.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn frames_keys_and_resync() {
        assert_eq!(encode(b"3"), b"\x020013\x0301".to_vec());
        let mut d = Decoder::default();
        d.push(b"**");
        d.push(&encode(b"0ABC"));
        d.push(b"\x08");
        let mut bad = encode(b"0");
        let last = bad.len() - 1;
        bad[last] = b'F';
        d.push(&bad);
        d.push(b"\x02x");
        d.push(&encode(b"0"));
        assert_eq!(d.next_incoming(), Some(Incoming::Key(b'*')));
        assert_eq!(d.next_incoming(), Some(Incoming::Key(b'*')));
        assert_eq!(d.next_incoming(), Some(Incoming::Reply(b"0ABC".to_vec())));
        assert_eq!(d.next_incoming(), Some(Incoming::Key(0x08)));
        assert_eq!(d.next_incoming(), Some(Incoming::BadChecksum));
        // The stray STX is dropped, then 'x' is a key byte.
        assert_eq!(d.next_incoming(), Some(Incoming::Key(b'x')));
        assert_eq!(d.resyncs, 1);
        assert_eq!(d.next_incoming(), Some(Incoming::Reply(b"0".to_vec())));
        assert_eq!(d.next_incoming(), None);
    }

    #[test]
    fn status_bytes_map_to_kinds() {
        assert!(status_error(b'0', "x").is_none());
        assert_eq!(
            status_error(0xE4, "x").unwrap().kind(),
            ErrorKind::SecureModule
        );
        assert_eq!(status_error(0xEE, "x").unwrap().kind(), ErrorKind::Timeout);
        assert_eq!(status_error(0xE9, "x").unwrap().kind(), ErrorKind::Protocol);
        assert_eq!(status_error(0xEA, "x").unwrap().device_code(), Some(0xEA));
        assert_eq!(tpk_index(0), 0x40);
        assert_eq!(tpk_index(7), 0x78);
    }
}
