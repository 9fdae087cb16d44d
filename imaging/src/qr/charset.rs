//! Payload bytes → text.
//!
//! A QR code carries bytes, not text. Chinese payment and appointment
//! codes come in two encodings: UTF-8 (most apps, web links) and GB18030
//! (older government and bank systems, and the QR "Hanzi" mode, which is
//! GB2312). Few codes carry an ECI designator saying which; zbar and
//! rxing then guess, and both get some Chinese payloads wrong. The rule
//! here is fixed and testable:
//!
//! 1. an ECI designator, when present and known, decides (ECI 26 =
//!    UTF-8, 29/31/32 = GB2312/GBK/GB18030, 3 or 1 = Latin-1, …), as long
//!    as the bytes are valid in it;
//! 2. otherwise bytes that are valid UTF-8 are UTF-8 (plain ASCII is
//!    valid UTF-8);
//! 3. otherwise bytes that decode as GB18030 without a single error are
//!    GB18030;
//! 4. otherwise Latin-1, the standard's default, which never fails.
//!
//! Step 3 before step 4 is deliberate: at a Chinese government counter a
//! non-UTF-8 payload is far more likely GB18030 than Western European
//! text, and GB18030 rejects most Latin-1 byte runs anyway.

use encoding_rs::Encoding;

/// How a payload's text was obtained from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// UTF-8 (which includes plain ASCII).
    Utf8,
    /// GB18030 (a superset of GB2312 and GBK).
    Gb18030,
    /// ISO-8859-1.
    Latin1,
    /// Another encoding named by an ECI designator (Shift_JIS, Big5,
    /// UTF-16, …): the WHATWG name of the decoder used.
    Other(&'static str),
}

impl Charset {
    /// A stable lower-case name (`utf-8`, `gb18030`, `iso-8859-1`, …).
    pub fn name(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Gb18030 => "gb18030",
            Charset::Latin1 => "iso-8859-1",
            Charset::Other(name) => name,
        }
    }
}

/// The text of a payload and how it was decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadText {
    pub text: String,
    pub charset: Charset,
}

/// The decoder an ECI designator names, when it names a character
/// encoding this crate can decode (AIM ECI assignments, 000000–000035).
pub fn eci_charset(eci: u32) -> Option<Charset> {
    let enc: &'static Encoding = match eci {
        1 | 3 => return Some(Charset::Latin1),
        26 => return Some(Charset::Utf8),
        29 | 31 | 32 => return Some(Charset::Gb18030),
        // ISO-8859-2 … -16 (ECI 4 … 18; 12 is unassigned).
        4 => encoding_rs::ISO_8859_2,
        5 => encoding_rs::ISO_8859_3,
        6 => encoding_rs::ISO_8859_4,
        7 => encoding_rs::ISO_8859_5,
        8 => encoding_rs::ISO_8859_6,
        9 => encoding_rs::ISO_8859_7,
        10 => encoding_rs::ISO_8859_8,
        11 => encoding_rs::WINDOWS_1254, // ISO-8859-9: WHATWG maps it here
        13 => encoding_rs::WINDOWS_874,  // ISO-8859-11 (Thai)
        15 => encoding_rs::ISO_8859_13,
        16 => encoding_rs::ISO_8859_14,
        17 => encoding_rs::ISO_8859_15,
        18 => encoding_rs::ISO_8859_16,
        20 => encoding_rs::SHIFT_JIS,
        21 => encoding_rs::WINDOWS_1250,
        22 => encoding_rs::WINDOWS_1251,
        23 => encoding_rs::WINDOWS_1252,
        24 => encoding_rs::WINDOWS_1256,
        25 => encoding_rs::UTF_16BE,
        27 | 170 => return Some(Charset::Utf8), // US-ASCII / ISO 646 ⊂ UTF-8
        28 => encoding_rs::BIG5,
        30 => encoding_rs::EUC_KR,
        33 => encoding_rs::UTF_16LE,
        _ => return None,
    };
    Some(Charset::Other(enc.name()))
}

/// Decodes `bytes` strictly in `charset`; `None` when any byte sequence
/// is malformed in it.
pub fn decode_strict(bytes: &[u8], charset: Charset) -> Option<String> {
    match charset {
        Charset::Utf8 => std::str::from_utf8(bytes).ok().map(str::to_owned),
        Charset::Gb18030 => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|c| c.into_owned()),
        Charset::Latin1 => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        Charset::Other(name) => Encoding::for_label(name.as_bytes())?
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|c| c.into_owned()),
    }
}

/// The text of a payload by the rule in the module documentation:
/// `eci` is the designator the symbol carried, if any.
pub fn decode_payload(bytes: &[u8], eci: Option<u32>) -> PayloadText {
    if let Some(charset) = eci.and_then(eci_charset)
        && let Some(text) = decode_strict(bytes, charset)
    {
        return PayloadText { text, charset };
    }
    for charset in [Charset::Utf8, Charset::Gb18030] {
        if let Some(text) = decode_strict(bytes, charset) {
            return PayloadText { text, charset };
        }
    }
    PayloadText {
        text: bytes.iter().map(|b| char::from(*b)).collect(),
        charset: Charset::Latin1,
    }
}

/// The ECI charset that turns `bytes` into `text`, for a decoder that
/// honoured an ECI designator and gave the text but not the designator
/// (rxing): the usual ones are tried in turn.
pub fn charset_matching(bytes: &[u8], text: &str) -> Option<Charset> {
    const USUAL: [u32; 8] = [26, 32, 3, 20, 28, 25, 33, 30];
    USUAL
        .iter()
        .filter_map(|eci| eci_charset(*eci))
        .find(|cs| decode_strict(bytes, *cs).as_deref() == Some(text))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;

    #[test]
    fn utf8_chinese_is_utf8() {
        let p = decode_payload("缴费码：京A12345".as_bytes(), None);
        assert_eq!(p.text, "缴费码：京A12345");
        assert_eq!(p.charset, Charset::Utf8);
    }

    #[test]
    fn gb18030_chinese_is_gb18030() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("预约号：朝阳区政务服务中心 0231");
        assert!(std::str::from_utf8(&bytes).is_err());
        let p = decode_payload(&bytes, None);
        assert_eq!(p.text, "预约号：朝阳区政务服务中心 0231");
        assert_eq!(p.charset, Charset::Gb18030);
    }

    #[test]
    fn eci_decides_over_the_guess() {
        // "Grüße" in Latin-1 also decodes as GB18030 ("Gr" + a Hanzi + "e"):
        // the ECI 3 designator must win.
        let bytes = b"Gr\xfc\xdfe";
        assert_eq!(decode_payload(bytes, None).charset, Charset::Gb18030);
        let p = decode_payload(bytes, Some(3));
        assert_eq!(p.text, "Grüße");
        assert_eq!(p.charset, Charset::Latin1);
    }

    #[test]
    fn an_eci_the_bytes_break_falls_back_to_the_rule() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("社保卡");
        let p = decode_payload(&bytes, Some(26));
        assert_eq!(p.text, "社保卡");
        assert_eq!(p.charset, Charset::Gb18030);
    }

    #[test]
    fn latin1_when_nothing_else_fits() {
        let p = decode_payload(b"caf\xe9", None);
        assert_eq!(p.text, "café");
        assert_eq!(p.charset, Charset::Latin1);
    }

    #[test]
    fn matching_charset_names_the_eci_used() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("社保卡");
        assert_eq!(charset_matching(&bytes, "社保卡"), Some(Charset::Gb18030));
        assert_eq!(
            charset_matching("社保卡".as_bytes(), "社保卡"),
            Some(Charset::Utf8)
        );
        assert_eq!(charset_matching(b"abc", "xyz"), None);
    }
}
