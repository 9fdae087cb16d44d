//! Bytes from a fingerprint module (or line noise) into the driver's
//! `EF 01` packet parser, and bytes from a host into the simulator's
//! decoder, split at a fuzzer-chosen point.
#![no_main]

use drivers::fingerprint::packet::Parser;
use libfuzzer_sys::fuzz_target;
use sim::fingerprint::wire::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(split).min(rest.len());
    let (a, b) = rest.split_at(cut);
    let mut driver = Parser::new(0xFFFF_FFFF);
    let mut module = Decoder::default();
    for chunk in [a, b] {
        driver.push(chunk);
        while let Some(p) = driver.next_packet() {
            let _ = p;
        }
        module.push(chunk);
        while let Some(p) = module.next_packet() {
            let _ = p;
        }
    }
});
