//! `kioskctl card read`: reads the card in a PC/SC reader (through pcscd)
//! and prints it as JSON, masked as the kiosk would show it.
//!
//! Exit codes: 0 read; 2 no reader or pcscd not running; 3 no card;
//! 4 timeout; 5 protocol, unknown card or PSAM required.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use drivers::smartcard::{PcscReader, card_error_zh};
use hal::card::{CardData, CardReader, mask_card_number};
use hal::{DeviceError, ErrorKind, Selector};
use serde_json::json;

fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NoCard => 3,
        ErrorKind::Timeout => 4,
        ErrorKind::Disconnected
        | ErrorKind::NotFound
        | ErrorKind::PermissionDenied
        | ErrorKind::Busy
        | ErrorKind::Config => 2,
        _ => 5,
    }
}

fn fail(err: &DeviceError) -> ExitCode {
    eprintln!(
        "{}（{}）: {}",
        card_error_zh(err.kind()),
        err.kind().message_en(),
        err.detail()
    );
    ExitCode::from(exit_code(err.kind()))
}

/// `kioskctl card read`.
pub fn read(reader: Option<&str>, timeout_ms: u64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let selector = Selector::Pcsc {
        reader: reader.map(str::to_string),
    };
    let mut r = match PcscReader::open(&selector) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    match r.read_card(deadline) {
        Ok(CardData::SocialSecurity(c)) => {
            println!(
                "{}",
                json!({
                    "reader": r.reader_name(),
                    "card_type": "social_security",
                    "ss_number": mask_card_number(&c.ss_number),
                    "name": c.name,
                    "card_number": mask_card_number(&c.card_number),
                    "issued": c.issued,
                    "expires": c.expires,
                    "sex": c.sex,
                })
            );
            ExitCode::SUCCESS
        }
        Ok(CardData::Bank {
            pan_masked,
            expiry,
            aid,
        }) => {
            println!(
                "{}",
                json!({
                    "reader": r.reader_name(),
                    "card_type": "bank",
                    "pan": pan_masked,
                    "expiry": expiry,
                    "aid": aid,
                })
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
