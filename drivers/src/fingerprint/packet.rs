//! `EF 01` packet codec (devices.md 2.1): command packets out, an
//! incremental parser for acknowledge and data packets in.
//!
//! ```text
//! EF 01 | ADDR (u32 BE) | PID | LEN (u16 BE) | payload (LEN - 2) | SUM (u16 BE)
//! ```
//!
//! `SUM` is the low 16 bits of the arithmetic sum of PID, both length
//! bytes and every payload byte. The parser is fed whatever the port
//! delivered and hands out whole packets; bytes that cannot start a packet
//! (wrong header, another address, an unknown PID, an impossible length)
//! are skipped up to the next `EF 01`, and each skip counts as one
//! resynchronisation.

/// The two bytes that open every packet.
pub const HEADER: [u8; 2] = [0xEF, 0x01];

/// Bytes before the payload: header, address, PID, length.
pub const PREFIX_LEN: usize = 9;

/// Command packet (host → module).
pub const PID_COMMAND: u8 = 0x01;
/// Data packet, more follow.
pub const PID_DATA: u8 = 0x02;
/// Acknowledge packet (module → host).
pub const PID_ACK: u8 = 0x07;
/// Last data packet.
pub const PID_END_DATA: u8 = 0x08;

/// Largest `LEN` accepted: 256 data bytes plus the checksum, with room.
pub const MAX_LEN: usize = 300;

/// The checksum of a packet: PID, length bytes and payload, summed.
pub fn checksum(pid: u8, len: u16, payload: &[u8]) -> u16 {
    let [hi, lo] = len.to_be_bytes();
    payload
        .iter()
        .chain([pid, hi, lo].iter())
        .fold(0u16, |acc, b| acc.wrapping_add(u16::from(*b)))
}

/// Encodes one packet to `address`.
pub fn encode(address: u32, pid: u8, payload: &[u8]) -> Vec<u8> {
    // A host packet never comes near u16::MAX.
    let len = u16::try_from(payload.len() + 2).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(PREFIX_LEN + payload.len() + 2);
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(&address.to_be_bytes());
    out.push(pid);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&checksum(pid, len, payload).to_be_bytes());
    out
}

/// A command packet: instruction code and parameters.
pub fn command(address: u32, instruction: u8, params: &[u8]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(params.len() + 1);
    payload.push(instruction);
    payload.extend_from_slice(params);
    encode(address, PID_COMMAND, &payload)
}

/// One packet with a correct checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub pid: u8,
    pub payload: Vec<u8>,
}

impl Packet {
    /// The confirmation code of an acknowledge packet.
    pub fn code(&self) -> Option<u8> {
        self.payload.first().copied()
    }

    /// What follows the confirmation code.
    pub fn data(&self) -> &[u8] {
        self.payload.get(1..).unwrap_or_default()
    }
}

/// What the parser hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Packet(Packet),
    /// A whole packet whose checksum is wrong; its bytes were consumed.
    BadChecksum {
        expected: u16,
        found: u16,
    },
}

/// Incremental parser for packets from one module address.
#[derive(Debug)]
pub struct Parser {
    address: u32,
    buf: Vec<u8>,
    resyncs: u64,
}

impl Parser {
    /// A parser that accepts packets from `address` only.
    pub fn new(address: u32) -> Self {
        Parser {
            address,
            buf: Vec::new(),
            resyncs: 0,
        }
    }

    /// Appends bytes read from the port.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Forgets everything buffered.
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Skips so far.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    /// Whether a packet has started but is not complete.
    pub fn in_packet(&self) -> bool {
        self.buf.starts_with(&HEADER)
    }

    fn skip(&mut self, n: usize) {
        if n > 0 {
            self.buf.drain(..n.min(self.buf.len()));
            self.resyncs += 1;
        }
    }

    fn align(&mut self) {
        if self.buf.starts_with(&HEADER) {
            return;
        }
        match self.buf.windows(2).position(|w| w == HEADER) {
            Some(pos) => self.skip(pos),
            None => {
                let keep = usize::from(self.buf.last() == Some(&HEADER[0]));
                self.skip(self.buf.len() - keep);
            }
        }
    }

    /// The next whole packet, if the buffer holds one.
    pub fn next_packet(&mut self) -> Option<Parsed> {
        loop {
            self.align();
            let head = self.buf.get(..PREFIX_LEN)?;
            let addr =
                u32::from_be_bytes([*head.get(2)?, *head.get(3)?, *head.get(4)?, *head.get(5)?]);
            let pid = *head.get(6)?;
            let len = u16::from_be_bytes([*head.get(7)?, *head.get(8)?]);
            let plausible = addr == self.address
                && matches!(pid, PID_ACK | PID_DATA | PID_END_DATA)
                && (3..=MAX_LEN).contains(&usize::from(len));
            if !plausible {
                // A header look-alike inside noise.
                self.skip(1);
                continue;
            }
            let total = PREFIX_LEN + usize::from(len);
            if self.buf.len() < total {
                return None;
            }
            let packet: Vec<u8> = self.buf.drain(..total).collect();
            let payload = packet.get(PREFIX_LEN..total - 2).unwrap_or_default();
            let found = u16::from_be_bytes([
                packet.get(total - 2).copied().unwrap_or_default(),
                packet.get(total - 1).copied().unwrap_or_default(),
            ]);
            let expected = checksum(pid, len, payload);
            if found != expected {
                return Some(Parsed::BadChecksum { expected, found });
            }
            return Some(Parsed::Packet(Packet {
                pid,
                payload: payload.to_vec(),
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

    #[test]
    fn genimg_matches_devices_md_2_1() {
        assert_eq!(
            command(0xFFFF_FFFF, 0x01, &[]),
            hex("EF 01 FF FF FF FF 01 00 03 01 00 05")
        );
        assert_eq!(
            command(0xFFFF_FFFF, 0x13, &[0, 0, 0, 0]),
            hex("EF 01 FF FF FF FF 01 00 07 13 00 00 00 00 00 1B")
        );
    }

    #[test]
    fn parses_the_ok_ack_of_devices_md_2_1() {
        let mut p = Parser::new(0xFFFF_FFFF);
        p.push(&hex("EF 01 FF FF FF FF 07 00 03 00 00 0A"));
        assert_eq!(
            p.next_packet(),
            Some(Parsed::Packet(Packet {
                pid: PID_ACK,
                payload: vec![0]
            }))
        );
        assert_eq!(p.next_packet(), None);
        assert_eq!(p.resyncs(), 0);
    }

    #[test]
    fn byte_by_byte_garbage_and_bad_checksum() {
        let ack = encode(0xFFFF_FFFF, PID_ACK, &[0x00, 0x01, 0x2C]);
        let mut stream = vec![0x00, 0xEF, 0x02, 0xEF, 0x01, 0x12, 0x34, 0x56, 0x78, 0x07];
        stream.extend_from_slice(&[0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0xFF, 0xFF]);
        let mut bad = ack.clone();
        *bad.last_mut().unwrap() ^= 1;
        stream.extend_from_slice(&bad);
        stream.extend_from_slice(&ack);
        let mut p = Parser::new(0xFFFF_FFFF);
        let mut got = Vec::new();
        for b in stream {
            p.push(&[b]);
            while let Some(x) = p.next_packet() {
                got.push(x);
            }
        }
        assert!(matches!(got[0], Parsed::BadChecksum { .. }), "{got:?}");
        assert_eq!(
            got[1],
            Parsed::Packet(Packet {
                pid: PID_ACK,
                payload: vec![0x00, 0x01, 0x2C]
            })
        );
        assert_eq!(got.len(), 2);
        assert!(p.resyncs() >= 2);
    }

    #[test]
    fn checksum_truncates_to_16_bits() {
        let payload = vec![0xFF; 300];
        let len = 302u16;
        let sum: u32 = 0x02 + 1 + 46 + 300 * 0xFF;
        assert_eq!(u32::from(checksum(PID_DATA, len, &payload)), sum & 0xFFFF);
    }
}
