//! What a code scanner sends: serial bytes through the driver's framer and
//! prefix/AIM parser, and HID key events through the key decoder.
#![no_main]

use std::time::{Duration, Instant};

use drivers::scanner::hid::KeyDecoder;
use drivers::scanner::serial::{Framer, Suffix, parse_frame};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let suffix = match mode % 4 {
        0 => Suffix::Cr,
        1 => Suffix::CrLf,
        2 => Suffix::Lf,
        _ => Suffix::None,
    };
    let start = Instant::now();
    let mut framer = Framer::new(suffix, Duration::from_millis(50));
    for (i, chunk) in rest.chunks(7).enumerate() {
        let now = start + Duration::from_millis(i as u64 * 20);
        framer.push(chunk, now);
        while let Some(frame) = framer.take(now) {
            let _ = frame;
        }
    }
    let _ = framer.take(start + Duration::from_secs(10));
    let _ = parse_frame(rest, b"", mode & 0x10 != 0);
    let _ = parse_frame(rest, b"SC", true);

    // Key events: pairs of (code, value) bytes.
    let mut keys = KeyDecoder::new(mode & 1 == 0, Duration::from_millis(50));
    for (i, pair) in rest.chunks(3).enumerate() {
        if let [hi, lo, v] = pair {
            let code = u16::from_be_bytes([*hi, *lo]);
            let value = i32::from(*v % 3);
            let _ = keys.key(code, value, start + Duration::from_millis(i as u64));
        }
    }
    let _ = keys.expire(start + Duration::from_secs(10));
});
