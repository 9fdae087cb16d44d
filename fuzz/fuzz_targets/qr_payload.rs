//! QR payload bytes → text (`imaging::qr::charset`): the first byte picks
//! an ECI designator (or none), the rest is the payload a code carried.
#![no_main]

use imaging::qr::charset::{self, Charset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    // 0..=35 and 170, 899 are ECI numbers; anything else means "no ECI".
    let eci = match sel {
        0..=35 => Some(u32::from(sel)),
        36 => Some(170),
        37 => Some(899),
        _ => None,
    };
    let p = charset::decode_payload(bytes, eci);
    match p.charset {
        // UTF-8 is only chosen for valid UTF-8, and then it is the bytes.
        Charset::Utf8 => assert_eq!(p.text.as_bytes(), bytes),
        // Latin-1 never fails and maps byte for character.
        Charset::Latin1 => assert_eq!(p.text.chars().count(), bytes.len()),
        Charset::Gb18030 => assert!(std::str::from_utf8(bytes).is_err() || eci.is_some()),
        Charset::Other(name) => assert!(eci.is_some(), "{name} without an ECI"),
    }
    // Without an ECI the choice is the rule's: UTF-8 first.
    if eci.is_none() && std::str::from_utf8(bytes).is_ok() {
        assert_eq!(p.charset, Charset::Utf8);
    }
    for cs in [
        Charset::Utf8,
        Charset::Gb18030,
        Charset::Latin1,
        Charset::Other("Shift_JIS"),
    ] {
        let _ = charset::decode_strict(bytes, cs);
    }
    let _ = charset::charset_matching(bytes, &p.text);
});
