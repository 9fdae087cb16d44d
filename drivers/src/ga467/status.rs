//! The SW3 status byte (devices.md 1.4) and the error kind each maps to.

use hal::{DeviceError, ErrorKind};

/// Success.
pub const OK: u8 = 0x90;
/// Find-card success.
pub const FOUND: u8 = 0x9F;
/// The card holds no such item (no fingerprint, no appended address).
pub const NO_ITEM: u8 = 0x91;
/// Find card failed: no card in the field.
pub const NO_CARD: u8 = 0x80;
/// Command error (bad command/parameter combination).
pub const BAD_COMMAND: u8 = 0x21;

/// Every status byte the protocol defines, with its meaning. The order is
/// the order of devices.md 1.4.
pub const TABLE: [(u8, &str); 18] = [
    (0x90, "success"),
    (0x9F, "find-card success"),
    (0x91, "the card holds no such item"),
    (0x10, "checksum error in host frame"),
    (0x11, "length error in host frame"),
    (0x21, "command error"),
    (0x23, "unauthorised operation"),
    (0x24, "unrecognised error"),
    (0x31, "card failed to authenticate SAM"),
    (0x32, "SAM failed to authenticate card"),
    (0x33, "information verification error"),
    (0x40, "unknown card type"),
    (0x41, "read-card operation failed"),
    (0x47, "random-number fetch failed"),
    (0x60, "SAM self-test failed"),
    (0x66, "SAM not authorised"),
    (0x80, "find card failed (no card in field)"),
    (0x81, "select card failed"),
];

/// The meaning of a status byte, or `None` for one outside the table.
pub fn meaning(sw3: u8) -> Option<&'static str> {
    TABLE.iter().find(|(c, _)| *c == sw3).map(|(_, m)| *m)
}

/// The error kind a failing status maps to; `None` for the success codes
/// 0x90 and 0x9F.
///
/// * 0x80: no card in the field.
/// * 0x81, 0x41, 0x33, 0x31, 0x32, 0x40, 0x47: the card could not be read
///   (moved, badly placed, damaged, not an ID card) — lay it again.
/// * 0x60, 0x66, 0x23: the reader's secure module (SAM) is at fault.
/// * 0x10, 0x11, 0x21, 0x24 and any code outside the table: we and the
///   reader disagree about the protocol.
/// * 0x91: the card has no such item; the caller decides (the driver falls
///   back to reading without fingerprint), otherwise it is `Unsupported`.
pub fn kind(sw3: u8) -> Option<ErrorKind> {
    match sw3 {
        OK | FOUND => None,
        NO_CARD => Some(ErrorKind::NoCard),
        0x81 | 0x41 | 0x33 | 0x31 | 0x32 | 0x40 | 0x47 => Some(ErrorKind::CardRead),
        0x60 | 0x66 | 0x23 => Some(ErrorKind::SecureModule),
        NO_ITEM => Some(ErrorKind::Unsupported),
        _ => Some(ErrorKind::Protocol),
    }
}

/// The error for a failing status of command `what`, carrying the SW3
/// byte as device code; `None` for success.
pub fn error(sw3: u8, what: &str) -> Option<DeviceError> {
    let kind = kind(sw3)?;
    let meaning = meaning(sw3).unwrap_or("status not in the GA 467 table");
    Some(
        DeviceError::new(kind, format!("{what}: SW3 0x{sw3:02X} ({meaning})"))
            .with_device_code(u32::from(sw3)),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_status_code_of_the_table_maps_to_a_kind() {
        let expect = [
            (0x90, None),
            (0x9F, None),
            (0x91, Some(ErrorKind::Unsupported)),
            (0x10, Some(ErrorKind::Protocol)),
            (0x11, Some(ErrorKind::Protocol)),
            (0x21, Some(ErrorKind::Protocol)),
            (0x23, Some(ErrorKind::SecureModule)),
            (0x24, Some(ErrorKind::Protocol)),
            (0x31, Some(ErrorKind::CardRead)),
            (0x32, Some(ErrorKind::CardRead)),
            (0x33, Some(ErrorKind::CardRead)),
            (0x40, Some(ErrorKind::CardRead)),
            (0x41, Some(ErrorKind::CardRead)),
            (0x47, Some(ErrorKind::CardRead)),
            (0x60, Some(ErrorKind::SecureModule)),
            (0x66, Some(ErrorKind::SecureModule)),
            (0x80, Some(ErrorKind::NoCard)),
            (0x81, Some(ErrorKind::CardRead)),
        ];
        assert_eq!(expect.len(), TABLE.len());
        for ((code, want), (table_code, _)) in expect.into_iter().zip(TABLE) {
            assert_eq!(code, table_code, "table order");
            assert_eq!(kind(code), want, "SW3 0x{code:02X}");
            match error(code, "cmd") {
                None => assert!(want.is_none()),
                Some(e) => {
                    assert_eq!(Some(e.kind()), want);
                    assert_eq!(e.device_code(), Some(u32::from(code)));
                    assert!(
                        e.detail().contains(&format!("0x{code:02X}")),
                        "{}",
                        e.detail()
                    );
                }
            }
        }
    }

    #[test]
    fn codes_outside_the_table_are_protocol_errors() {
        for code in [0x00, 0x01, 0x42, 0x92, 0xFF] {
            let e = error(code, "find").unwrap();
            assert_eq!(e.kind(), ErrorKind::Protocol);
            assert_eq!(e.device_code(), Some(u32::from(code)));
        }
    }
}
