//! The module's side of the `EF 01` packet (devices.md 2.1), written
//! independently of the driver: it cuts host bytes into packets and
//! builds acknowledge and data packets.

/// Start code of every packet.
pub const START: u16 = 0xEF01;

/// Packet types.
pub const COMMAND: u8 = 0x01;
pub const DATA: u8 = 0x02;
pub const ACK: u8 = 0x07;
pub const END_DATA: u8 = 0x08;

/// Longest host packet accepted (`LEN`): 256 data bytes and the sum.
const MAX_HOST_LEN: usize = 258;

/// What arrived from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPacket {
    /// A packet with a correct sum.
    Good {
        address: u32,
        kind: u8,
        payload: Vec<u8>,
    },
    /// A whole packet whose sum is wrong.
    BadSum { address: u32 },
}

/// Sum of the packet type, the two length bytes and the payload, kept to
/// 16 bits.
fn sum(kind: u8, len: u16, payload: &[u8]) -> u16 {
    let mut s = u32::from(kind) + u32::from(len >> 8) + u32::from(len & 0xFF);
    for b in payload {
        s += u32::from(*b);
    }
    (s & 0xFFFF) as u16
}

/// Builds one packet from `address`.
pub fn packet(address: u32, kind: u8, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() + 2) as u16;
    let mut out = Vec::with_capacity(11 + payload.len());
    out.extend_from_slice(&START.to_be_bytes());
    out.extend_from_slice(&address.to_be_bytes());
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&sum(kind, len, payload).to_be_bytes());
    out
}

/// An acknowledge with `code` and `data`.
pub fn ack(address: u32, code: u8, data: &[u8]) -> Vec<u8> {
    let mut payload = vec![code];
    payload.extend_from_slice(data);
    packet(address, ACK, &payload)
}

/// Cuts host bytes into packets, dropping noise.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    /// Adds bytes from the line.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole packet, if one is buffered.
    pub fn next_packet(&mut self) -> Option<HostPacket> {
        loop {
            let start = START.to_be_bytes();
            let at = self.buf.windows(2).position(|w| w == start);
            match at {
                Some(i) => {
                    self.buf.drain(..i);
                }
                None => {
                    let keep = usize::from(self.buf.last() == Some(&0xEF));
                    let cut = self.buf.len() - keep;
                    self.buf.drain(..cut);
                    return None;
                }
            }
            let head = |i: usize| self.buf.get(i).copied();
            let (Some(a0), Some(a1), Some(a2), Some(a3), Some(kind), Some(l0), Some(l1)) = (
                head(2),
                head(3),
                head(4),
                head(5),
                head(6),
                head(7),
                head(8),
            ) else {
                return None;
            };
            let address = u32::from_be_bytes([a0, a1, a2, a3]);
            let len = u16::from_be_bytes([l0, l1]);
            if !matches!(kind, COMMAND | DATA | END_DATA)
                || !(3..=MAX_HOST_LEN).contains(&usize::from(len))
            {
                // Not a real start: drop the start code and look again.
                self.buf.drain(..2);
                continue;
            }
            let total = 9 + usize::from(len);
            if self.buf.len() < total {
                return None;
            }
            let whole: Vec<u8> = self.buf.drain(..total).collect();
            let (body, tail) = whole.split_at(total - 2);
            let payload = body.get(9..).unwrap_or_default().to_vec();
            let got = match tail {
                [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                _ => return None,
            };
            if got != sum(kind, len, &payload) {
                return Some(HostPacket::BadSum { address });
            }
            return Some(HostPacket::Good {
                address,
                kind,
                payload,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_of_devices_md_2_1() {
        let genimg = [
            0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x03, 0x01, 0x00, 0x05,
        ];
        let mut d = Decoder::default();
        d.push(&[0x55, 0xEF]);
        d.push(&genimg);
        assert_eq!(
            d.next_packet(),
            Some(HostPacket::Good {
                address: 0xFFFF_FFFF,
                kind: COMMAND,
                payload: vec![0x01]
            })
        );
        assert_eq!(d.next_packet(), None);
        assert_eq!(
            ack(0xFFFF_FFFF, 0, &[]),
            vec![
                0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00, 0x03, 0x00, 0x00, 0x0A
            ]
        );
    }
}
