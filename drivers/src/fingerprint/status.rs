//! Confirmation codes (devices.md 2.3) and what each one means to a
//! caller (the table in `hal::fingerprint`).

use hal::fingerprint::FingerGuidance;
use hal::{DeviceError, ErrorKind};

pub const OK: u8 = 0x00;
pub const PACKET_ERROR: u8 = 0x01;
pub const NO_FINGER: u8 = 0x02;
pub const CAPTURE_FAILED: u8 = 0x03;
pub const TOO_MESSY: u8 = 0x06;
pub const TOO_FEW_FEATURES: u8 = 0x07;
pub const NO_MATCH: u8 = 0x08;
pub const NOT_FOUND: u8 = 0x09;
pub const MERGE_FAILED: u8 = 0x0A;
pub const NO_VALID_IMAGE: u8 = 0x15;
pub const NOT_VERIFIED: u8 = 0x21;

/// The guidance for a code the person at the sensor can fix.
pub fn guidance(code: u8) -> Option<FingerGuidance> {
    match code {
        NO_FINGER | NO_VALID_IMAGE => Some(FingerGuidance::PlaceFinger),
        CAPTURE_FAILED | TOO_MESSY => Some(FingerGuidance::PoorImage),
        TOO_FEW_FEATURES => Some(FingerGuidance::CentreFinger),
        MERGE_FAILED => Some(FingerGuidance::LiftAndPlaceAgain),
        _ => None,
    }
}

/// The module's own words for a code, for logs.
pub fn describe(code: u8) -> &'static str {
    match code {
        0x00 => "OK",
        0x01 => "packet receive error",
        0x02 => "no finger",
        0x03 => "image capture failed",
        0x06 => "image too messy",
        0x07 => "too few feature points",
        0x08 => "no match",
        0x09 => "not found in library",
        0x0A => "merge failed",
        0x0B => "page id out of range",
        0x0C => "bad or unloadable template",
        0x0D => "template upload error",
        0x0E => "cannot receive following data packets",
        0x0F => "image upload error",
        0x10 => "delete failed",
        0x11 => "clear failed",
        0x13 => "wrong password",
        0x15 => "no valid primary image",
        0x18 => "flash write error",
        0x19 => "undefined error",
        0x1A => "invalid register number",
        0x1B => "bad register configuration",
        0x1C => "wrong notepad page",
        0x1D => "port operation failed",
        0x20 => "address code error",
        0x21 => "password must be verified first",
        _ => "unknown confirmation code",
    }
}

/// The error kind of a code that is neither success nor person-fixable.
pub fn kind(code: u8) -> ErrorKind {
    match code {
        0x01 | 0x0D | 0x0E | 0x0F => ErrorKind::Protocol,
        0x0B | 0x13 | 0x1A | 0x1C | 0x20 | 0x21 => ErrorKind::Config,
        0x0C | 0x10 | 0x11 | 0x18 | 0x19 | 0x1B | 0x1D => ErrorKind::DeviceFault,
        _ => ErrorKind::Protocol,
    }
}

/// The error for `code` answered to `what`.
pub fn error(code: u8, what: &str) -> DeviceError {
    DeviceError::new(
        kind(code),
        format!("{what}: module answered 0x{code:02X} ({})", describe(code)),
    )
    .with_device_code(u32::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_devices_md_2_3_has_one_outcome() {
        let codes = [
            0x01, 0x02, 0x03, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
            0x11, 0x13, 0x15, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x20, 0x21,
        ];
        for c in codes {
            assert_ne!(describe(c), "unknown confirmation code", "{c:02X}");
            let person = guidance(c).is_some();
            let result = matches!(c, NO_MATCH | NOT_FOUND);
            let err = error(c, "x");
            assert_eq!(err.device_code(), Some(u32::from(c)));
            assert!(
                person || result || err.kind() != ErrorKind::Timeout,
                "{c:02X}"
            );
        }
        assert_eq!(kind(0x13), ErrorKind::Config);
        assert_eq!(kind(0x18), ErrorKind::DeviceFault);
        assert_eq!(kind(0x77), ErrorKind::Protocol);
    }
}
