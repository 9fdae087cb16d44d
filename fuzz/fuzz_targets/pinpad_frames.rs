//! Bytes from a PIN pad (key echoes and reply frames, or noise) into the
//! driver's decoder.
#![no_main]

use drivers::pinpad::Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(split).min(rest.len());
    let (a, b) = rest.split_at(cut);
    let mut d = Decoder::default();
    for chunk in [a, b] {
        d.push(chunk);
        while let Some(x) = d.next_incoming() {
            let _ = x;
        }
    }
});
