//! Code scanner in HID keyboard mode, through Linux evdev.
//!
//! A keyboard-wedge scanner "types" each code as key presses followed by
//! Enter. The driver opens the input device, grabs it (EVIOCGRAB) so the
//! keystrokes never reach the kiosk UI, and turns the key events back
//! into text with a US layout and the shift keys ([`KeyDecoder`], a pure
//! state machine, unit-tested here because CI has no `/dev/input` or
//! `/dev/uinput`). The evdev layer around it is kept thin.
//!
//! Selector: `input:/dev/input/eventN` or `input:name=SUBSTRING` (the first
//! device whose name contains SUBSTRING), with options
//! `suffix=enter|none` (default `enter`), `dedup_ms` (1000) and `gap_ms`
//! (100: with `suffix=none` the silence that ends a code; with `enter`, a
//! code with no Enter after this long is dropped as incomplete).
//!
//! Limits of the mode (devices.md section 7): only what a US keyboard can
//! type comes through. Chinese text in a QR code cannot; configure such
//! scanners for serial mode. There is no symbology and no host trigger:
//! [`BarcodeScanner::set_enabled`] does nothing.

use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime};

use hal::scanner::{BarcodeScanner, ScannedCode};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};

use super::Dedup;

/// Linux key codes used here (`linux/input-event-codes.h`).
pub mod key {
    pub const KEY_ESC: u16 = 1;
    pub const KEY_1: u16 = 2;
    pub const KEY_0: u16 = 11;
    pub const KEY_MINUS: u16 = 12;
    pub const KEY_EQUAL: u16 = 13;
    pub const KEY_BACKSPACE: u16 = 14;
    pub const KEY_TAB: u16 = 15;
    pub const KEY_Q: u16 = 16;
    pub const KEY_LEFTBRACE: u16 = 26;
    pub const KEY_RIGHTBRACE: u16 = 27;
    pub const KEY_ENTER: u16 = 28;
    pub const KEY_LEFTCTRL: u16 = 29;
    pub const KEY_A: u16 = 30;
    pub const KEY_SEMICOLON: u16 = 39;
    pub const KEY_APOSTROPHE: u16 = 40;
    pub const KEY_GRAVE: u16 = 41;
    pub const KEY_LEFTSHIFT: u16 = 42;
    pub const KEY_BACKSLASH: u16 = 43;
    pub const KEY_Z: u16 = 44;
    pub const KEY_COMMA: u16 = 51;
    pub const KEY_DOT: u16 = 52;
    pub const KEY_SLASH: u16 = 53;
    pub const KEY_RIGHTSHIFT: u16 = 54;
    pub const KEY_KPASTERISK: u16 = 55;
    pub const KEY_LEFTALT: u16 = 56;
    pub const KEY_SPACE: u16 = 57;
    pub const KEY_CAPSLOCK: u16 = 58;
    pub const KEY_KP7: u16 = 71;
    pub const KEY_KPMINUS: u16 = 74;
    pub const KEY_KPPLUS: u16 = 78;
    pub const KEY_KPDOT: u16 = 83;
    pub const KEY_KPENTER: u16 = 96;
    pub const KEY_RIGHTCTRL: u16 = 97;
    pub const KEY_KPSLASH: u16 = 98;
    pub const KEY_RIGHTALT: u16 = 100;
}

/// The character a key gives on a US layout, without and with shift.
pub fn us_char(code: u16, shift: bool) -> Option<char> {
    use key::*;
    const DIGITS: &[u8; 10] = b"1234567890";
    const DIGITS_SHIFT: &[u8; 10] = b"!@#$%^&*()";
    const ROW_Q: &[u8; 10] = b"qwertyuiop";
    const ROW_A: &[u8; 9] = b"asdfghjkl";
    const ROW_Z: &[u8; 7] = b"zxcvbnm";
    let pick = |plain: u8, shifted: u8| Some(char::from(if shift { shifted } else { plain }));
    let letter = |c: u8| Some(char::from(if shift { c.to_ascii_uppercase() } else { c }));
    match code {
        KEY_1..=KEY_0 => {
            let i = usize::from(code - KEY_1);
            pick(*DIGITS.get(i)?, *DIGITS_SHIFT.get(i)?)
        }
        KEY_Q..=25 => letter(*ROW_Q.get(usize::from(code - KEY_Q))?),
        KEY_A..=38 => letter(*ROW_A.get(usize::from(code - KEY_A))?),
        KEY_Z..=50 => letter(*ROW_Z.get(usize::from(code - KEY_Z))?),
        KEY_MINUS => pick(b'-', b'_'),
        KEY_EQUAL => pick(b'=', b'+'),
        KEY_LEFTBRACE => pick(b'[', b'{'),
        KEY_RIGHTBRACE => pick(b']', b'}'),
        KEY_SEMICOLON => pick(b';', b':'),
        KEY_APOSTROPHE => pick(b'\'', b'"'),
        KEY_GRAVE => pick(b'`', b'~'),
        KEY_BACKSLASH => pick(b'\\', b'|'),
        KEY_COMMA => pick(b',', b'<'),
        KEY_DOT => pick(b'.', b'>'),
        KEY_SLASH => pick(b'/', b'?'),
        KEY_SPACE => Some(' '),
        KEY_TAB => Some('\t'),
        // Keypad, as scanners use it with NumLock on.
        KEY_KPASTERISK => Some('*'),
        KEY_KPMINUS => Some('-'),
        KEY_KPPLUS => Some('+'),
        KEY_KPDOT => Some('.'),
        KEY_KPSLASH => Some('/'),
        KEY_KP7..=KEY_KPDOT => {
            const KP: &[u8; 13] = b"789-456+1230.";
            KP.get(usize::from(code - KEY_KP7)).map(|&c| char::from(c))
        }
        _ => None,
    }
}

/// What the decoder made of the keys so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A complete code (Enter seen, or silence with `suffix=none`).
    Code(String),
    /// A code that never got its Enter; dropped.
    Incomplete(usize),
}

/// Turns key events into codes: a pure state machine fed with
/// `(code, value, time)` where value 1 is press, 0 release, 2 repeat.
#[derive(Debug)]
pub struct KeyDecoder {
    enter_ends: bool,
    gap: Duration,
    left_shift: bool,
    right_shift: bool,
    caps: bool,
    text: String,
    last_key: Option<Instant>,
    /// Keys that have no character (counted, otherwise ignored).
    pub unknown_keys: u64,
}

impl KeyDecoder {
    /// `enter_ends`: Enter ends a code (else silence of `gap` does).
    pub fn new(enter_ends: bool, gap: Duration) -> KeyDecoder {
        KeyDecoder {
            enter_ends,
            gap,
            left_shift: false,
            right_shift: false,
            caps: false,
            text: String::new(),
            last_key: None,
            unknown_keys: 0,
        }
    }

    /// Feeds one key event.
    pub fn key(&mut self, code: u16, value: i32, now: Instant) -> Option<Decoded> {
        use key::*;
        match code {
            KEY_LEFTSHIFT => {
                self.left_shift = value != 0;
                return None;
            }
            KEY_RIGHTSHIFT => {
                self.right_shift = value != 0;
                return None;
            }
            KEY_LEFTCTRL | KEY_RIGHTCTRL | KEY_LEFTALT | KEY_RIGHTALT => return None,
            _ => {}
        }
        if value != 1 {
            // Releases and auto-repeat carry no new character.
            return None;
        }
        // A code cut short by silence ends before this key starts a new one.
        let stale = self.expire(now);
        self.last_key = Some(now);
        match code {
            KEY_CAPSLOCK => self.caps = !self.caps,
            KEY_ENTER | KEY_KPENTER => {
                let text = std::mem::take(&mut self.text);
                self.last_key = None;
                if !text.is_empty() {
                    return Some(Decoded::Code(text));
                }
            }
            _ => {
                let shift = self.left_shift || self.right_shift;
                match us_char(code, shift) {
                    Some(c) if c.is_ascii_alphabetic() && self.caps => {
                        self.text.push(if shift {
                            c.to_ascii_lowercase()
                        } else {
                            c.to_ascii_uppercase()
                        });
                    }
                    Some(c) => self.text.push(c),
                    None => self.unknown_keys += 1,
                }
            }
        }
        stale
    }

    /// Time until the pending text times out.
    pub fn gap_left(&self, now: Instant) -> Option<Duration> {
        let last = self.last_key?;
        (!self.text.is_empty()).then(|| (last + self.gap).saturating_duration_since(now))
    }

    /// Ends the pending text when `gap` has passed since the last key: a
    /// code with `suffix=none`, an incomplete one with Enter expected.
    pub fn expire(&mut self, now: Instant) -> Option<Decoded> {
        if !self.gap_left(now).is_some_and(|d| d.is_zero()) {
            return None;
        }
        let text = std::mem::take(&mut self.text);
        self.last_key = None;
        Some(if self.enter_ends {
            Decoded::Incomplete(text.len())
        } else {
            Decoded::Code(text)
        })
    }
}

/// A keyboard-mode code scanner through evdev, grabbed for exclusive use.
pub struct HidScanner {
    device: evdev::Device,
    path: String,
    decoder: KeyDecoder,
    dedup: Dedup,
    pending: VecDeque<ScannedCode>,
    health: Health,
}

fn io_error(err: std::io::Error, what: &str) -> DeviceError {
    // ENODEV: the device was unplugged.
    if err.raw_os_error() == Some(19) {
        return DeviceError::disconnected(format!("{what}: input device gone")).with_source(err);
    }
    DeviceError::from_io(err, what)
}

fn find_by_name(part: &str) -> Result<(String, evdev::Device), DeviceError> {
    evdev::enumerate()
        .find(|(_, d)| d.name().is_some_and(|n| n.contains(part)))
        .map(|(p, d)| (p.display().to_string(), d))
        .ok_or_else(|| {
            DeviceError::new(
                ErrorKind::NotFound,
                format!("no input device whose name contains {part:?}"),
            )
        })
}

impl HidScanner {
    /// Opens and grabs the device named by an `input:` selector.
    pub fn open(selector: &Selector) -> Result<HidScanner, DeviceError> {
        let Selector::Input { path, .. } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("HID code scanner needs an input: selector, not {selector}"),
            ));
        };
        let enter_ends = match selector.option("suffix").unwrap_or("enter") {
            "enter" => true,
            "none" => false,
            other => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("suffix={other} is not enter or none"),
                ));
            }
        };
        let dedup = Duration::from_millis(u64::from(selector.option_u32("dedup_ms", 1000)?));
        let gap = Duration::from_millis(u64::from(selector.option_u32("gap_ms", 100)?));
        if gap.is_zero() {
            return Err(DeviceError::new(ErrorKind::Config, "gap_ms must not be 0"));
        }
        let (path, mut device) = match (path, selector.option("name")) {
            (Some(p), _) => (
                p.clone(),
                evdev::Device::open(p).map_err(|e| io_error(e, "opening the input device"))?,
            ),
            (None, Some(name)) => find_by_name(name)?,
            (None, None) => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    "input selector without path or name",
                ));
            }
        };
        device.grab().map_err(|e| {
            let kind = if e.raw_os_error() == Some(16) {
                ErrorKind::Busy
            } else {
                ErrorKind::PermissionDenied
            };
            DeviceError::new(kind, format!("cannot grab {path}")).with_source(e)
        })?;
        device
            .set_nonblocking(true)
            .map_err(|e| io_error(e, "setting the input device non-blocking"))?;
        let mut health = Health::ok();
        for counter in ["scans", "duplicates", "noise_discarded", "unknown_keys"] {
            health.counters.insert(counter.to_string(), 0);
        }
        tracing::debug!(path = %path, name = device.name().unwrap_or("?"), "HID code scanner grabbed");
        Ok(HidScanner {
            device,
            path,
            decoder: KeyDecoder::new(enter_ends, gap),
            dedup: Dedup::new(dedup),
            pending: VecDeque::new(),
            health,
        })
    }

    /// Waits for the next code until `deadline`.
    pub fn read_code(&mut self, deadline: Instant) -> Result<ScannedCode, DeviceError> {
        loop {
            if let Some(code) = self.pending.pop_front() {
                return Ok(code);
            }
            if Instant::now() >= deadline {
                return Err(DeviceError::timeout("no code scanned before the deadline"));
            }
            self.pump(deadline)?;
        }
    }

    fn accept(&mut self, decoded: Decoded, now: Instant) {
        match decoded {
            Decoded::Code(text) => {
                let data = text.into_bytes();
                if !self.dedup.fresh(&data, now) {
                    self.health.bump("duplicates");
                    return;
                }
                self.health.bump("scans");
                let text = String::from_utf8(data.clone()).ok();
                self.pending.push_back(ScannedCode {
                    data,
                    text,
                    symbology: None,
                });
            }
            Decoded::Incomplete(n) => {
                tracing::debug!(path = %self.path, chars = n, "code without Enter dropped");
                self.health.bump("noise_discarded");
            }
        }
    }

    /// Drains the device's pending events, waiting in small steps (the
    /// device is non-blocking) until a code is complete or `deadline`.
    fn pump(&mut self, deadline: Instant) -> Result<(), DeviceError> {
        loop {
            let now = Instant::now();
            if let Some(d) = self.decoder.expire(now) {
                self.accept(d, now);
            }
            let mut keys = Vec::new();
            match self.device.fetch_events() {
                Ok(events) => {
                    for ev in events {
                        if let evdev::EventSummary::Key(_, code, value) = ev.destructure() {
                            keys.push((code.code(), value));
                        }
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    let err = io_error(e, "reading the input device");
                    let kind = err.kind();
                    self.health.set(
                        HealthState::Offline,
                        Some(kind.code()),
                        kind.message_zh(),
                        kind.message_en(),
                    );
                    return Err(err);
                }
            }
            let now = Instant::now();
            for (code, value) in keys {
                if let Some(d) = self.decoder.key(code, value, now) {
                    self.accept(d, now);
                }
            }
            self.health
                .counters
                .insert("unknown_keys".into(), self.decoder.unknown_keys);
            if !self.pending.is_empty() || now >= deadline {
                return Ok(());
            }
            let step = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(10));
            std::thread::sleep(step);
        }
    }
}

impl Drop for HidScanner {
    fn drop(&mut self) {
        let _ = self.device.ungrab();
    }
}

impl Device for HidScanner {
    fn kind(&self) -> DeviceKind {
        DeviceKind::BarcodeScanner
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        let short = deadline.min(Instant::now() + Duration::from_millis(20));
        if let Err(e) = self.pump(short) {
            tracing::debug!(path = %self.path, kind = e.kind().code(), "HID scanner poll failed");
        }
        self.pending
            .drain(..)
            .map(DeviceEvent::CodeScanned)
            .collect()
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_millis(50)
    }

    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        let short = deadline.min(Instant::now() + Duration::from_millis(10));
        self.pump(short)?;
        self.health.last_self_test = Some(SystemTime::now());
        Ok(self.health.clone())
    }
}

impl BarcodeScanner for HidScanner {
    /// Keyboard mode has no host-to-scanner channel: does nothing.
    fn set_enabled(&mut self, enabled: bool, _deadline: Instant) -> Result<(), DeviceError> {
        tracing::debug!(path = %self.path, enabled, "HID scanner has no trigger command; set_enabled does nothing");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::key::*;
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Key events a US-layout wedge sends for `text` (press and release,
    /// shift held around shifted characters), then Enter.
    fn type_text(text: &str, enter: bool) -> Vec<(u16, i32)> {
        let mut ev = Vec::new();
        for c in text.chars() {
            let (code, shift) = (0u16..128)
                .find_map(|k| {
                    if us_char(k, false) == Some(c) {
                        Some((k, false))
                    } else if us_char(k, true) == Some(c) {
                        Some((k, true))
                    } else {
                        None
                    }
                })
                .unwrap_or_else(|| panic!("no key for {c:?}"));
            if shift {
                ev.push((KEY_LEFTSHIFT, 1));
            }
            ev.push((code, 1));
            ev.push((code, 0));
            if shift {
                ev.push((KEY_LEFTSHIFT, 0));
            }
        }
        if enter {
            ev.push((KEY_ENTER, 1));
            ev.push((KEY_ENTER, 0));
        }
        ev
    }

    fn run(d: &mut KeyDecoder, events: &[(u16, i32)], t: Instant) -> Vec<Decoded> {
        events.iter().filter_map(|&(c, v)| d.key(c, v, t)).collect()
    }

    #[test]
    fn key_codes_match_evdev() {
        assert_eq!(evdev::KeyCode::KEY_A.code(), KEY_A);
        assert_eq!(evdev::KeyCode::KEY_1.code(), KEY_1);
        assert_eq!(evdev::KeyCode::KEY_ENTER.code(), KEY_ENTER);
        assert_eq!(evdev::KeyCode::KEY_KPENTER.code(), KEY_KPENTER);
        assert_eq!(evdev::KeyCode::KEY_RIGHTSHIFT.code(), KEY_RIGHTSHIFT);
        assert_eq!(evdev::KeyCode::KEY_SLASH.code(), KEY_SLASH);
        assert_eq!(evdev::KeyCode::KEY_M.code(), 50);
        assert_eq!(evdev::KeyCode::KEY_KP0.code(), 82);
    }

    #[test]
    fn digits_letters_and_shift() {
        let t = Instant::now();
        let mut d = KeyDecoder::new(true, ms(100));
        let url = "https://zwfw.example.gov.cn/q?id=A1b2&x=_~!";
        assert_eq!(
            run(&mut d, &type_text(url, true), t),
            vec![Decoded::Code(url.into())]
        );
        assert_eq!(
            run(&mut d, &type_text("0123456789", true), t),
            vec![Decoded::Code("0123456789".into())]
        );
        // Right shift works too, and shift is released properly.
        let ev = [
            (KEY_RIGHTSHIFT, 1),
            (KEY_A, 1),
            (KEY_RIGHTSHIFT, 0),
            (KEY_A, 1),
            (KEY_ENTER, 1),
        ];
        assert_eq!(run(&mut d, &ev, t), vec![Decoded::Code("Aa".into())]);
    }

    #[test]
    fn every_printable_ascii_round_trips() {
        let t = Instant::now();
        let mut d = KeyDecoder::new(true, ms(100));
        let all: String = (0x20u8..0x7F).map(char::from).collect();
        assert_eq!(
            run(&mut d, &type_text(&all, true), t),
            vec![Decoded::Code(all)]
        );
    }

    #[test]
    fn punctuation_keypad_and_caps_lock() {
        let t = Instant::now();
        let mut d = KeyDecoder::new(true, ms(100));
        let kp: Vec<(u16, i32)> = [71u16, 72, 73, 75, 82, 83, KEY_KPSLASH, KEY_KPASTERISK]
            .iter()
            .map(|&k| (k, 1))
            .chain([(KEY_KPENTER, 1)])
            .collect();
        assert_eq!(run(&mut d, &kp, t), vec![Decoded::Code("78940./*".into())]);
        let ev = [
            (KEY_CAPSLOCK, 1),
            (KEY_A, 1),
            (KEY_LEFTSHIFT, 1),
            (KEY_A, 1),
            (KEY_1, 1),
            (KEY_LEFTSHIFT, 0),
            (KEY_CAPSLOCK, 1),
            (KEY_A, 1),
            (KEY_ENTER, 1),
        ];
        assert_eq!(run(&mut d, &ev, t), vec![Decoded::Code("Aa!a".into())]);
    }

    #[test]
    fn unknown_keys_repeats_and_releases_add_nothing() {
        let t = Instant::now();
        let mut d = KeyDecoder::new(true, ms(100));
        let ev = [
            (KEY_ESC, 1),
            (KEY_A, 1),
            (KEY_A, 2),
            (KEY_A, 0),
            (KEY_LEFTCTRL, 1),
            (KEY_LEFTCTRL, 0),
            (KEY_BACKSPACE, 1),
            (200, 1),
            (KEY_ENTER, 1),
        ];
        assert_eq!(run(&mut d, &ev, t), vec![Decoded::Code("a".into())]);
        assert_eq!(d.unknown_keys, 3);
        assert_eq!(run(&mut d, &[(KEY_ENTER, 1)], t), vec![], "empty Enter");
    }

    #[test]
    fn a_missing_enter_times_out_as_incomplete_and_the_next_code_is_clean() {
        let t = Instant::now();
        let mut d = KeyDecoder::new(true, ms(100));
        assert!(run(&mut d, &type_text("12345", false), t).is_empty());
        assert_eq!(d.gap_left(t + ms(40)), Some(ms(60)));
        assert_eq!(d.expire(t + ms(50)), None);
        assert_eq!(d.expire(t + ms(100)), Some(Decoded::Incomplete(5)));
        assert_eq!(d.expire(t + ms(500)), None);
        assert_eq!(
            run(&mut d, &type_text("678", true), t + ms(600)),
            vec![Decoded::Code("678".into())]
        );
        // A new key after the gap expires the old text itself.
        run(&mut d, &type_text("99", false), t + ms(700));
        let got = run(&mut d, &type_text("42", true), t + ms(900));
        assert_eq!(
            got,
            vec![Decoded::Incomplete(2), Decoded::Code("42".into())]
        );
    }

    #[test]
    fn without_enter_silence_ends_the_code() {
        let t = Instant::now();
        let mut d = KeyDecoder::new(false, ms(100));
        assert!(run(&mut d, &type_text("ABC", false), t).is_empty());
        assert_eq!(d.expire(t + ms(99)), None);
        assert_eq!(d.expire(t + ms(100)), Some(Decoded::Code("ABC".into())));
    }

    #[test]
    fn open_needs_an_input_selector_and_reports_missing_devices() {
        let s: Selector = "serial:/dev/ttyACM0".parse().unwrap();
        assert_eq!(
            HidScanner::open(&s).err().unwrap().kind(),
            ErrorKind::Config
        );
        let s: Selector = "input:/nonexistent/event99".parse().unwrap();
        assert_eq!(
            HidScanner::open(&s).err().unwrap().kind(),
            ErrorKind::NotFound
        );
        let s: Selector = "input:name=NoSuchScanner-xyz".parse().unwrap();
        assert_eq!(
            HidScanner::open(&s).err().unwrap().kind(),
            ErrorKind::NotFound
        );
        let s: Selector = "input:/dev/input/event0?suffix=tab".parse().unwrap();
        assert_eq!(
            HidScanner::open(&s).err().unwrap().kind(),
            ErrorKind::Config
        );
    }
}
