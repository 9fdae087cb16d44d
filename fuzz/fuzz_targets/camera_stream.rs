//! Bytes from a network camera into the driver's MJPEG stream parser: the
//! first byte picks a Content-Type header to parse, the rest is the
//! multipart/x-mixed-replace body. Parts are bounded; every part handed
//! out is at most the limit; the parameter and resolution lists of
//! param.cgi never panic.
#![no_main]

use std::io::BufReader;

use drivers::camera::network::{
    Part, PartReader, boundary_of, parse_params, parse_resolutions,
};
use libfuzzer_sys::fuzz_target;

const MAX: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(body);
    let _ = parse_resolutions(&text);
    let _ = parse_params(&text);
    let content_type = match sel % 3 {
        0 => "multipart/x-mixed-replace; boundary=myboundary".to_string(),
        1 => "multipart/x-mixed-replace;boundary=\"--b\"".to_string(),
        _ => text.lines().next().unwrap_or_default().to_string(),
    };
    let Some(delimiter) = boundary_of(&content_type) else {
        return;
    };
    let mut reader = PartReader::new(&delimiter, MAX);
    let mut input = BufReader::new(body);
    for _ in 0..64 {
        match reader.next(&mut input) {
            Ok(Part::Body { data, .. }) => assert!(data.len() <= MAX),
            Ok(Part::End) | Err(_) => break,
        }
    }
});
