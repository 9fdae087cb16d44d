//! GA 467 frame codec: request frames and an incremental reply parser.
//!
//! Both directions use the same frame (devices.md 1.2):
//!
//! ```text
//! AA AA AA 96 69 | LEN (u16 BE) | body (LEN - 1 bytes) | CHK
//! ```
//!
//! `LEN` counts every byte after itself, the checksum included. `CHK` is
//! the XOR of every byte from the high `LEN` byte up to the byte before
//! `CHK`; the preamble is not part of it. A reply body is
//! `SW1 SW2 SW3 DATA…`.
//!
//! The parser is fed whatever the port delivered (partial frames, several
//! frames, line noise) and hands out whole frames. Bytes that cannot
//! start a frame are skipped up to the next preamble; every such skip is
//! counted as one resynchronisation so health can show a noisy line.

/// The five bytes that open every frame.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// Bytes before the body: preamble and the two length bytes.
pub const HEADER_LEN: usize = 7;

/// Smallest reply `LEN`: SW1, SW2, SW3 and CHK.
pub const MIN_REPLY_LEN: usize = 4;

/// Largest reply `LEN` accepted. The biggest real reply (text, photo and
/// 1024 bytes of fingerprint) has `LEN` = 2314; anything far beyond that
/// is a false preamble inside line noise.
pub const MAX_REPLY_LEN: usize = 4096;

/// XOR of `bytes`.
pub fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Builds a request frame for `cmd`/`para` with optional `data`.
pub fn request(cmd: u8, para: u8, data: &[u8]) -> Vec<u8> {
    // CMD + PARA + DATA + CHK; a request never comes near u16::MAX.
    let len = u16::try_from(data.len() + 3).unwrap_or(u16::MAX);
    let mut frame = Vec::with_capacity(HEADER_LEN + usize::from(len));
    frame.extend_from_slice(&PREAMBLE);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.push(cmd);
    frame.push(para);
    frame.extend_from_slice(data);
    let chk = xor(frame.get(PREAMBLE.len()..).unwrap_or_default());
    frame.push(chk);
    frame
}

/// One reply frame with a valid checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub sw1: u8,
    pub sw2: u8,
    /// The status byte (devices.md 1.4).
    pub sw3: u8,
    /// Everything between SW3 and CHK.
    pub data: Vec<u8>,
}

/// What the parser can hand out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole reply with a correct checksum.
    Reply(Reply),
    /// A whole frame whose checksum is wrong; its bytes were consumed.
    BadChecksum { expected: u8, found: u8 },
}

/// Incremental reply parser.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    resyncs: u64,
}

impl Parser {
    /// An empty parser.
    pub fn new() -> Self {
        Parser::default()
    }

    /// Appends bytes read from the port.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Forgets everything buffered (used before a new request).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// How many times bytes were skipped to find a preamble.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    /// Whether a frame has started (a preamble is buffered) but is not
    /// complete yet.
    pub fn in_frame(&self) -> bool {
        self.buf.starts_with(&PREAMBLE)
    }

    /// Bytes the frame in progress still needs, when its length is known.
    pub fn missing(&self) -> Option<usize> {
        let len = self.declared_len()?;
        Some((HEADER_LEN + len).saturating_sub(self.buf.len()))
    }

    fn declared_len(&self) -> Option<usize> {
        if !self.in_frame() {
            return None;
        }
        let hi = *self.buf.get(5)?;
        let lo = *self.buf.get(6)?;
        Some(usize::from(u16::from_be_bytes([hi, lo])))
    }

    /// Drops `n` leading bytes and counts one resynchronisation.
    fn skip(&mut self, n: usize) {
        if n > 0 {
            self.buf.drain(..n.min(self.buf.len()));
            self.resyncs += 1;
        }
    }

    /// Moves the buffer start to the next preamble, keeping a tail that
    /// may be the beginning of one.
    fn align(&mut self) {
        if self.buf.starts_with(&PREAMBLE) {
            return;
        }
        match self.buf.windows(PREAMBLE.len()).position(|w| w == PREAMBLE) {
            Some(pos) => self.skip(pos),
            None => {
                // Keep the longest tail that is a prefix of the preamble.
                let keep = (1..PREAMBLE.len())
                    .rev()
                    .find(|&k| {
                        self.buf.len() >= k
                            && self.buf.ends_with(PREAMBLE.get(..k).unwrap_or_default())
                    })
                    .unwrap_or(0);
                self.skip(self.buf.len() - keep);
            }
        }
    }

    /// The next whole frame, if the buffer holds one.
    pub fn next_frame(&mut self) -> Option<Parsed> {
        loop {
            self.align();
            let len = self.declared_len()?;
            if !(MIN_REPLY_LEN..=MAX_REPLY_LEN).contains(&len) {
                // Not a real header: a preamble look-alike in the noise.
                self.skip(1);
                continue;
            }
            let total = HEADER_LEN + len;
            if self.buf.len() < total {
                return None;
            }
            let frame: Vec<u8> = self.buf.drain(..total).collect();
            let found = frame.last().copied().unwrap_or_default();
            let expected = xor(frame.get(PREAMBLE.len()..total - 1).unwrap_or_default());
            if found != expected {
                return Some(Parsed::BadChecksum { expected, found });
            }
            let body = frame.get(HEADER_LEN..total - 1).unwrap_or_default();
            let (sw, data) = body.split_at(3.min(body.len()));
            let [sw1, sw2, sw3] = <[u8; 3]>::try_from(sw).ok()?;
            return Some(Parsed::Reply(Reply {
                sw1,
                sw2,
                sw3,
                data: data.to_vec(),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    fn reply_frame(sw3: u8, data: &[u8]) -> Vec<u8> {
        let len = u16::try_from(data.len() + 4).unwrap();
        let mut f = PREAMBLE.to_vec();
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&[0, 0, sw3]);
        f.extend_from_slice(data);
        let chk = xor(&f[5..]);
        f.push(chk);
        f
    }

    fn replies(p: &mut Parser) -> Vec<Parsed> {
        std::iter::from_fn(|| p.next_frame()).collect()
    }

    #[test]
    fn request_frames_match_devices_md_1_3_byte_for_byte() {
        type Case<'a> = ((u8, u8, &'a [u8]), &'a str);
        let cases: [Case; 9] = [
            ((0x10, 0xFF, &[]), "AA AA AA 96 69 00 03 10 FF EC"),
            ((0x11, 0xFF, &[]), "AA AA AA 96 69 00 03 11 FF ED"),
            ((0x12, 0xFF, &[]), "AA AA AA 96 69 00 03 12 FF EE"),
            ((0x20, 0x01, &[]), "AA AA AA 96 69 00 03 20 01 22"),
            ((0x20, 0x02, &[]), "AA AA AA 96 69 00 03 20 02 21"),
            ((0x30, 0x01, &[]), "AA AA AA 96 69 00 03 30 01 32"),
            ((0x30, 0x03, &[]), "AA AA AA 96 69 00 03 30 03 30"),
            ((0x30, 0x10, &[]), "AA AA AA 96 69 00 03 30 10 23"),
            ((0x61, 0xFF, &[0x50]), "AA AA AA 96 69 00 04 61 FF 50 CA"),
        ];
        for ((cmd, para, data), want) in cases {
            assert_eq!(request(cmd, para, data), hex(want), "{cmd:02X} {para:02X}");
        }
    }

    #[test]
    fn parses_the_observed_replies_of_devices_md_1_3() {
        let cases = [
            ("AA AA AA 96 69 00 08 00 00 9F 00 00 00 00 97", 0x9F, 4),
            ("AA AA AA 96 69 00 04 00 00 80 84", 0x80, 0),
            (
                "AA AA AA 96 69 00 0C 00 00 90 00 00 00 00 00 00 00 00 9C",
                0x90,
                8,
            ),
            ("AA AA AA 96 69 00 04 00 00 90 94", 0x90, 0),
            ("AA AA AA 96 69 00 04 00 00 60 64", 0x60, 0),
            ("AA AA AA 96 69 00 04 00 00 81 85", 0x81, 0),
            ("AA AA AA 96 69 00 04 00 00 41 45", 0x41, 0),
        ];
        for (frame, sw3, n) in cases {
            let mut p = Parser::new();
            p.push(&hex(frame));
            match p.next_frame() {
                Some(Parsed::Reply(r)) => {
                    assert_eq!(
                        (r.sw1, r.sw2, r.sw3, r.data.len()),
                        (0, 0, sw3, n),
                        "{frame}"
                    );
                }
                other => panic!("{frame}: {other:?}"),
            }
            assert_eq!(p.next_frame(), None);
            assert_eq!(p.resyncs(), 0);
        }
    }

    #[test]
    fn byte_by_byte_and_several_frames_at_once() {
        let a = reply_frame(0x9F, &[0, 0, 0, 0]);
        let b = reply_frame(0x90, &[1; 8]);
        let mut p = Parser::new();
        for (i, byte) in a.iter().enumerate() {
            assert_eq!(p.next_frame(), None, "frame complete too early at {i}");
            p.push(&[*byte]);
        }
        assert!(matches!(p.next_frame(), Some(Parsed::Reply(r)) if r.sw3 == 0x9F));
        let mut both = b.clone();
        both.extend_from_slice(&a);
        p.push(&both);
        let got = replies(&mut p);
        assert_eq!(got.len(), 2);
        assert_eq!(p.resyncs(), 0);
    }

    #[test]
    fn a_full_read_reply_is_sized_on_len() {
        let data = vec![0x5A; 2 + 2 + 256 + 1024];
        let f = reply_frame(0x90, &data);
        assert_eq!(f.len(), 1295);
        let mut p = Parser::new();
        p.push(&f[..700]);
        assert!(p.in_frame());
        assert_eq!(p.missing(), Some(595));
        assert_eq!(p.next_frame(), None);
        p.push(&f[700..]);
        assert!(matches!(p.next_frame(), Some(Parsed::Reply(r)) if r.data == data));
    }

    #[test]
    fn garbage_is_skipped_and_counted() {
        let good = reply_frame(0x90, &[]);
        // Noise with preamble look-alikes: a short one, one broken at the
        // last byte, and one with an impossible length.
        let mut stream = vec![0x00, 0x13, 0xAA, 0xAA, 0x96, 0x69, 0x55];
        stream.extend_from_slice(&[0xAA, 0xAA, 0xAA, 0x96, 0x00]);
        stream.extend_from_slice(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0xFF, 0xFF, 0x01]);
        stream.extend_from_slice(&good);
        let mut p = Parser::new();
        p.push(&stream);
        let got = replies(&mut p);
        assert_eq!(
            got,
            vec![Parsed::Reply(Reply {
                sw1: 0,
                sw2: 0,
                sw3: 0x90,
                data: vec![]
            })]
        );
        assert!(p.resyncs() > 0);
    }

    #[test]
    fn a_preamble_split_across_reads_survives_the_skip() {
        let good = reply_frame(0x90, &[]);
        let mut p = Parser::new();
        p.push(&[0x01, 0x02, 0xAA, 0xAA]);
        assert_eq!(p.next_frame(), None);
        p.push(&good[2..]);
        assert!(matches!(p.next_frame(), Some(Parsed::Reply(_))));
        assert_eq!(p.resyncs(), 1);
    }

    #[test]
    fn bad_checksum_is_reported_and_the_next_frame_still_parses() {
        let mut bad = reply_frame(0x90, &[1, 2, 3]);
        let last = bad.len() - 1;
        bad[last] ^= 0xFF;
        let good = reply_frame(0x9F, &[0, 0, 0, 0]);
        let mut p = Parser::new();
        p.push(&bad);
        p.push(&good);
        assert!(matches!(p.next_frame(), Some(Parsed::BadChecksum { .. })));
        assert!(matches!(p.next_frame(), Some(Parsed::Reply(r)) if r.sw3 == 0x9F));
    }

    #[test]
    fn too_short_len_is_a_false_preamble() {
        let mut p = Parser::new();
        p.push(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x02, 0x00, 0x02]);
        assert_eq!(p.next_frame(), None);
        assert!(p.resyncs() >= 1);
        assert!(!p.in_frame());
    }
}
