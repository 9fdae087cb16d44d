//! Status answers from a printer into the ESC/POS driver's decoder.
#![no_main]

use drivers::receipt_printer::{decode_status, refusal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: [u8; 4]| {
    if let Some(status) = decode_status(data) {
        let _ = refusal(&status);
        let _ = status.ready();
    }
});
