//! Code scanners (devices.md section 7).
//!
//! | module | mode | selector |
//! | --- | --- | --- |
//! | [`serial`] | USB-CDC / RS-232 ("USB COM" mode): raw code bytes plus a configured prefix, AIM identifier and suffix | `serial:PATH?baud=9600&suffix=cr&prefix=TEXT&aim=1&dedup_ms=1000&gap_ms=100&trigger=honeywell` |
//! | [`hid`] | HID keyboard wedge through evdev, device grabbed (EVIOCGRAB) so keys never reach the UI | `input:/dev/input/eventN` or `input:name=SUBSTRING` |
//!
//! Both give [`hal::scanner::ScannedCode`]s with the payload bytes exact;
//! [`decode_text`] fills the text (UTF-8 first, then GB18030). Both drop
//! the same code seen again within `dedup_ms` (a resident holding a phone
//! under the scanner makes it read the same QR code many times a second).

pub mod hid;
pub mod serial;

use std::time::{Duration, Instant};

pub use hid::HidScanner;
pub use serial::SerialScanner;

/// Text of a code's bytes: UTF-8 when they are valid UTF-8, else GB18030
/// when they decode without error, else `None` (binary payload).
pub fn decode_text(data: &[u8]) -> Option<String> {
    if let Ok(s) = std::str::from_utf8(data) {
        return Some(s.to_string());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(data);
    (!had_errors).then(|| text.into_owned())
}

/// Drops a code equal to the last one seen within a window; the window
/// restarts with every repeat, so a code held under the scanner is
/// reported once.
#[derive(Debug)]
pub(crate) struct Dedup {
    window: Duration,
    last: Option<(Vec<u8>, Instant)>,
}

impl Dedup {
    pub(crate) fn new(window: Duration) -> Dedup {
        Dedup { window, last: None }
    }

    /// Whether `data` seen at `now` is new (to be reported).
    pub(crate) fn fresh(&mut self, data: &[u8], now: Instant) -> bool {
        let repeat = match &self.last {
            Some((d, at)) => d == data && now.saturating_duration_since(*at) < self.window,
            None => false,
        };
        self.last = Some((data.to_vec(), now));
        !repeat
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn text_is_utf8_first_then_gb18030_else_none() {
        assert_eq!(
            decode_text("办事指南".as_bytes()).as_deref(),
            Some("办事指南")
        );
        let (gb, _, _) = encoding_rs::GB18030.encode("办事指南 ABC");
        assert!(std::str::from_utf8(&gb).is_err());
        assert_eq!(decode_text(&gb).as_deref(), Some("办事指南 ABC"));
        assert_eq!(decode_text(&[0x81]), None, "a lone lead byte is binary");
        assert_eq!(decode_text(b"").as_deref(), Some(""));
    }

    #[test]
    fn dedup_window_restarts_on_every_repeat() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut d = Dedup::new(ms(1000));
        assert!(d.fresh(b"A", t0));
        assert!(!d.fresh(b"A", t0 + ms(600)));
        assert!(!d.fresh(b"A", t0 + ms(1500)), "held under the scanner");
        assert!(d.fresh(b"A", t0 + ms(2600)));
        assert!(d.fresh(b"B", t0 + ms(2700)));
        assert!(d.fresh(b"A", t0 + ms(2800)), "another code in between");
        let mut off = Dedup::new(Duration::ZERO);
        assert!(off.fresh(b"A", t0));
        assert!(off.fresh(b"A", t0));
    }
}
