//! The reader's side of the GA 467 frame (devices.md 1.2), written
//! independently of the driver: it decodes host requests and encodes
//! replies.

/// Preamble of every frame.
pub const PREAMBLE: [u8; 5] = [0xAA, 0xAA, 0xAA, 0x96, 0x69];

/// Largest request `LEN` the reader accepts (the longest real request,
/// "set max RF frame bytes", has `LEN` = 4).
const MAX_REQUEST_LEN: usize = 64;

/// What arrived from the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// A well-formed command.
    Command { cmd: u8, para: u8, data: Vec<u8> },
    /// A whole frame whose checksum is wrong (answer SW3 0x10).
    BadChecksum,
    /// A header whose `LEN` cannot be a request (answer SW3 0x11).
    BadLength,
}

fn xor(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |a, b| a ^ b)
}

/// Encodes a reply: preamble, `LEN`, `00 00 SW3`, data, checksum.
pub fn reply(sw3: u8, data: &[u8]) -> Vec<u8> {
    let len = u16::try_from(data.len() + 4).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(data.len() + 11);
    out.extend_from_slice(&PREAMBLE);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&[0x00, 0x00, sw3]);
    out.extend_from_slice(data);
    let chk = xor(out.get(5..).unwrap_or_default());
    out.push(chk);
    out
}

/// Accumulates host bytes and cuts them into requests, skipping noise.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    buf: Vec<u8>,
}

impl RequestDecoder {
    /// Adds bytes read from the master side.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next request, if a whole one is buffered.
    pub fn next_request(&mut self) -> Option<Request> {
        match self.buf.windows(PREAMBLE.len()).position(|w| w == PREAMBLE) {
            Some(pos) => {
                self.buf.drain(..pos);
            }
            None => {
                // Keep at most a partial preamble.
                let keep = self.buf.len().min(PREAMBLE.len() - 1);
                self.buf.drain(..self.buf.len() - keep);
                return None;
            }
        }
        {
            let (Some(&hi), Some(&lo)) = (self.buf.get(5), self.buf.get(6)) else {
                return None;
            };
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if !(3..=MAX_REQUEST_LEN).contains(&len) {
                // Drop this preamble and report; the host resends.
                self.buf.drain(..PREAMBLE.len());
                return Some(Request::BadLength);
            }
            let total = 7 + len;
            if self.buf.len() < total {
                return None;
            }
            let frame: Vec<u8> = self.buf.drain(..total).collect();
            let body = frame.get(7..total - 1).unwrap_or_default();
            if frame.last().copied() != Some(xor(frame.get(5..total - 1).unwrap_or_default())) {
                return Some(Request::BadChecksum);
            }
            let (Some(&cmd), Some(&para)) = (body.first(), body.get(1)) else {
                return Some(Request::BadLength);
            };
            Some(Request::Command {
                cmd,
                para,
                data: body.get(2..).unwrap_or_default().to_vec(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decodes_requests_through_noise() {
        let mut d = RequestDecoder::default();
        d.push(&[
            0x00, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22, 0xAA, 0xAA,
        ]);
        assert_eq!(
            d.next_request(),
            Some(Request::Command {
                cmd: 0x20,
                para: 0x01,
                data: vec![]
            })
        );
        assert_eq!(d.next_request(), None);
        d.push(&[0xAA, 0x96, 0x69, 0x00, 0x04, 0x61, 0xFF, 0x50, 0xCA]);
        assert_eq!(
            d.next_request(),
            Some(Request::Command {
                cmd: 0x61,
                para: 0xFF,
                data: vec![0x50]
            })
        );
        d.push(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x23]);
        assert_eq!(d.next_request(), Some(Request::BadChecksum));
        d.push(&[0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x01, 0x20]);
        assert_eq!(d.next_request(), Some(Request::BadLength));
    }

    #[test]
    fn replies_match_the_observed_frames() {
        assert_eq!(
            reply(0x80, &[]),
            vec![
                0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x80, 0x84
            ]
        );
        assert_eq!(
            reply(0x9F, &[0, 0, 0, 0]),
            vec![
                0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x08, 0x00, 0x00, 0x9F, 0, 0, 0, 0, 0x97
            ]
        );
    }
}
