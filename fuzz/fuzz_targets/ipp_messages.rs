//! IPP request bodies from any client into the simulated printer's
//! parser; whatever parses must encode and parse back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sim::ipp::wire::{encode, parse};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = parse(data) {
        let again = encode(&message);
        let back = parse(&again).expect("what we encode parses");
        assert_eq!(encode(&back), again, "encoding is stable");
    }
});
