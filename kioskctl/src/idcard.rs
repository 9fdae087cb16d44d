//! `kioskctl idcard read`: reads the card on a GA 467 reader and prints it.
//!
//! This is a diagnostic for staff standing at the device, so it prints
//! the full identity on purpose (the kiosk itself never does). It opens
//! the driver directly, without the actor.
//!
//! Exit codes: 0 read; 2 cannot open (bad port, not found, permission,
//! busy, unplugged); 3 no card; 4 timeout; 5 protocol, card or secure
//! module error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use drivers::ga467::Ga467Reader;
use hal::idcard::{CardRead, IdCardReader};
use hal::{DeviceError, ErrorKind, Selector};
use serde_json::json;

/// Reads the card on the reader at `port` and prints one JSON object.
pub fn read(port: &str, baud: u32, timeout_ms: u64) -> ExitCode {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let selector = match format!("serial:{port}?baud={baud}").parse::<Selector>() {
        Ok(s) => s,
        Err(e) => return fail(&e, 2),
    };
    let mut reader = match Ga467Reader::open(&selector) {
        Ok(r) => r,
        Err(e) => return fail(&e, 2),
    };
    let with_fingerprint = reader.capabilities().reads_fingerprint;
    match reader.read(with_fingerprint, deadline) {
        Ok(card) => {
            println!("{}", to_json(&card));
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = exit_code(e.kind());
            fail(&e, code)
        }
    }
}

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

fn fail(err: &DeviceError, code: u8) -> ExitCode {
    eprintln!("{}: {}", err.user_message(), err.detail());
    ExitCode::from(code)
}

fn to_json(card: &CardRead) -> serde_json::Value {
    let id = &card.identity;
    json!({
        "name": id.name,
        "sex": id.sex.name_zh(),
        "nation": id.nation,
        "birth": id.birth.to_string(),
        "address": id.address,
        "id_number": id.id_number,
        "id_number_valid": id.id_number_valid,
        "issuer": id.issuer,
        "valid_from": id.valid_from.to_string(),
        "valid_to": id.valid_to.to_string(),
        "card_type": id.card_type.as_str(),
        "photo_bytes": card.photo_wlt.len(),
        "fingerprint_bytes": card.fingerprint.as_ref().map_or(0, Vec::len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_per_kind() {
        assert_eq!(exit_code(ErrorKind::NoCard), 3);
        assert_eq!(exit_code(ErrorKind::Timeout), 4);
        for k in [
            ErrorKind::Protocol,
            ErrorKind::CardRead,
            ErrorKind::SecureModule,
        ] {
            assert_eq!(exit_code(k), 5, "{k:?}");
        }
        for k in [
            ErrorKind::NotFound,
            ErrorKind::PermissionDenied,
            ErrorKind::Busy,
            ErrorKind::Config,
        ] {
            assert_eq!(exit_code(k), 2, "{k:?}");
        }
    }
}
