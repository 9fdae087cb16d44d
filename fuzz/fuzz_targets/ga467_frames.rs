//! GA 467 reply bytes from a reader (or line noise) into the driver's
//! frame parser, split at fuzzer-chosen points, then every whole reply
//! through the read-reply splitter and the text-block decoder.
#![no_main]

use drivers::ga467::decode::{decode_text, split_read_reply};
use drivers::ga467::frame::{Parsed, Parser};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = usize::from(split).min(rest.len());
    let (a, b) = rest.split_at(cut);
    let mut parser = Parser::new();
    for chunk in [a, b] {
        parser.push(chunk);
        while let Some(parsed) = parser.next_frame() {
            if let Parsed::Reply(reply) = parsed {
                let _ = split_read_reply(&reply.data, true);
                let _ = split_read_reply(&reply.data, false);
                if reply.data.len() >= 256 {
                    let _ = decode_text(reply.data.get(..256).unwrap_or_default());
                }
            }
        }
    }
    let _ = decode_text(rest);
});
