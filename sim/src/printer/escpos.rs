//! The printer's side of ESC/POS: a streaming parser that turns received
//! bytes into print actions and real-time status requests.
//!
//! Written from the command reference (Epson ESC/POS, as summarised in
//! devices.md section 5), not from the driver: the driver encodes with the
//! `escpos` crate and this decodes by hand, so a disagreement shows up as a
//! failing test rather than being shared by both sides.
//!
//! Bytes may arrive split anywhere; [`Parser::push`] keeps an incomplete
//! command until the rest comes. Unknown `ESC`/`GS`/`FS` commands are
//! skipped by their known lengths where possible; an unknown introducer
//! byte is dropped on its own so the stream resynchronises.

/// Horizontal alignment selected by `ESC a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Justify {
    #[default]
    Left,
    Centre,
    Right,
}

/// Text attributes in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub justify: Justify,
    pub width: u8,
    pub height: u8,
    pub bold: bool,
    pub underline: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            justify: Justify::Left,
            width: 1,
            height: 1,
            bold: false,
            underline: false,
        }
    }
}

/// What the printer was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Printable bytes (in the printer's code page, GB18030 here) with the
    /// style in force when they arrived.
    Text(Vec<u8>, Style),
    /// Line feed: print the buffered line.
    LineFeed,
    /// Feed `dots` of paper (ESC d counts lines, ESC J dots).
    FeedDots(u32),
    /// Feed `n` lines.
    FeedLines(u8),
    /// Print the stored QR symbol.
    PrintQr {
        data: Vec<u8>,
        module: u8,
        level: char,
        justify: Justify,
    },
    /// A 1D barcode with its data (for CODE128 with the code sets
    /// resolved) and the command's data bytes as sent (`raw`).
    Barcode {
        kind: &'static str,
        data: Vec<u8>,
        raw: Vec<u8>,
        height: u8,
        module: u8,
        justify: Justify,
    },
    /// A raster bit image (GS v 0), rows packed MSB first.
    Raster {
        width_bytes: usize,
        height: usize,
        bits: Vec<u8>,
        justify: Justify,
    },
    /// Cut (full or partial).
    Cut { partial: bool },
    /// ESC @: initialise (style back to default).
    Init,
    /// Style changed (already applied to [`Parser::style`]).
    Style,
    /// DLE EOT n: the host asks a real-time status byte.
    StatusRequest(u8),
    /// GS r n: transmit status.
    TransmitStatus(u8),
    /// GS I n: printer id.
    PrinterId(u8),
}

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const FS: u8 = 0x1C;
const DLE: u8 = 0x10;
const EOT: u8 = 0x04;
const LF: u8 = 0x0A;

/// The stateful parser of one connection.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    /// Style in force for text that follows.
    pub style: Style,
    qr_data: Vec<u8>,
    qr_module: u8,
    qr_level: char,
    barcode_height: u8,
    barcode_module: u8,
    /// Bytes skipped because they made no sense.
    pub skipped: u64,
}

enum Step {
    /// Need more bytes.
    More,
    /// Consumed `n` bytes, producing an action or not.
    Done(usize, Option<Action>),
}

fn get(b: &[u8], i: usize) -> Option<u8> {
    b.get(i).copied()
}

/// Byte `i`, which the caller has checked is there (0 otherwise).
fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// Bytes `from..to`, which the caller has checked are there.
fn sub(b: &[u8], from: usize, to: usize) -> &[u8] {
    b.get(from..to).unwrap_or_default()
}

impl Parser {
    /// A parser with printer defaults.
    pub fn new() -> Parser {
        Parser {
            qr_module: 3,
            qr_level: 'L',
            barcode_height: 162,
            barcode_module: 3,
            ..Parser::default()
        }
    }

    /// Feeds received bytes; returns the complete actions they held.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Action> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < self.buf.len() {
            let step = self.step(pos);
            match step {
                Step::More => break,
                Step::Done(n, action) => {
                    pos += n.max(1);
                    if let Some(a) = action {
                        out.push(a);
                    }
                }
            }
        }
        self.buf.drain(..pos.min(self.buf.len()));
        out
    }

    fn step(&mut self, pos: usize) -> Step {
        let b = self.buf.get(pos..).unwrap_or_default();
        let Some(&first) = b.first() else {
            return Step::More;
        };
        match first {
            LF => Step::Done(1, Some(Action::LineFeed)),
            ESC => self.esc(pos),
            GS => self.gs(pos),
            FS => self.fs(pos),
            DLE => match (get(b, 1), get(b, 2)) {
                (None, _) | (Some(EOT), None) => Step::More,
                (Some(EOT), Some(n)) => {
                    // n = 7, 8 and 18 carry one more byte.
                    if matches!(n, 7 | 8 | 18) {
                        match get(b, 3) {
                            None => Step::More,
                            Some(_) => Step::Done(4, Some(Action::StatusRequest(n))),
                        }
                    } else {
                        Step::Done(3, Some(Action::StatusRequest(n)))
                    }
                }
                // DLE ENQ n, DLE DC4 fn m t: real-time requests that need
                // no answer here.
                (Some(0x05), Some(_)) => Step::Done(3, None),
                (Some(0x05), None) => Step::More,
                (Some(0x14), _) => {
                    if b.len() < 5 {
                        Step::More
                    } else {
                        Step::Done(5, None)
                    }
                }
                (Some(_), _) => {
                    self.skipped += 1;
                    Step::Done(1, None)
                }
            },
            // CR, HT, NUL and other controls: nothing to print.
            c if c < 0x20 => Step::Done(1, None),
            _ => {
                let end = b.iter().position(|&c| c < 0x20).unwrap_or(b.len());
                Step::Done(end, Some(Action::Text(sub(b, 0, end).to_vec(), self.style)))
            }
        }
    }

    fn esc(&mut self, pos: usize) -> Step {
        let b = self.buf.get(pos..).unwrap_or_default();
        let Some(cmd) = get(b, 1) else {
            return Step::More;
        };
        // Commands with one parameter byte.
        let one = |s: &mut Parser, f: &dyn Fn(&mut Parser, u8) -> Option<Action>| -> Step {
            match get(s.buf.get(pos..).unwrap_or_default(), 2) {
                None => Step::More,
                Some(n) => {
                    let a = f(s, n);
                    Step::Done(3, a)
                }
            }
        };
        match cmd {
            b'@' => {
                self.style = Style::default();
                self.qr_module = 3;
                self.qr_level = 'L';
                Step::Done(2, Some(Action::Init))
            }
            b'!' => one(self, &|s, n| {
                s.style.bold = n & 0x08 != 0;
                s.style.height = if n & 0x10 != 0 { 2 } else { 1 };
                s.style.width = if n & 0x20 != 0 { 2 } else { 1 };
                s.style.underline = n & 0x80 != 0;
                Some(Action::Style)
            }),
            b'E' | b'G' => one(self, &|s, n| {
                s.style.bold = n & 1 != 0;
                Some(Action::Style)
            }),
            b'-' => one(self, &|s, n| {
                s.style.underline = matches!(n, 1 | 2 | b'1' | b'2');
                Some(Action::Style)
            }),
            b'a' => one(self, &|s, n| {
                s.style.justify = match n {
                    1 | b'1' => Justify::Centre,
                    2 | b'2' => Justify::Right,
                    _ => Justify::Left,
                };
                Some(Action::Style)
            }),
            b'd' => one(self, &|_, n| Some(Action::FeedLines(n))),
            b'J' => one(self, &|_, n| Some(Action::FeedDots(u32::from(n)))),
            // ESC t n, ESC R n, ESC M n, ESC 3 n, ESC SP n, ESC { n, ESC V n,
            // ESC c 5 n, ESC U n, ESC r n: settings with no effect on the
            // simulated paper.
            b't' | b'R' | b'M' | b'3' | b' ' | b'{' | b'V' | b'U' | b'r' | b'%' => {
                one(self, &|_, _| None)
            }
            b'2' => Step::Done(2, None),
            b'c' => {
                if b.len() < 4 {
                    Step::More
                } else {
                    Step::Done(4, None)
                }
            }
            b'$' | b'\\' => {
                if b.len() < 4 {
                    Step::More
                } else {
                    Step::Done(4, None)
                }
            }
            b'p' => {
                if b.len() < 5 {
                    Step::More
                } else {
                    Step::Done(5, None)
                }
            }
            b'*' => {
                // ESC * m nL nH d1..dk: column bit image.
                let (Some(m), Some(nl), Some(nh)) = (get(b, 2), get(b, 3), get(b, 4)) else {
                    return Step::More;
                };
                let cols = usize::from(nl) + 256 * usize::from(nh);
                let k = if m == 32 || m == 33 { cols * 3 } else { cols };
                if b.len() < 5 + k {
                    Step::More
                } else {
                    Step::Done(5 + k, None)
                }
            }
            _ => {
                self.skipped += 2;
                Step::Done(2, None)
            }
        }
    }

    fn fs(&mut self, pos: usize) -> Step {
        let b = self.buf.get(pos..).unwrap_or_default();
        let Some(cmd) = get(b, 1) else {
            return Step::More;
        };
        match cmd {
            // FS & (Chinese mode on), FS . (off): GB18030 is always on here.
            b'&' | b'.' => Step::Done(2, None),
            b'!' | b'-' | b'C' | b'W' => match get(b, 2) {
                None => Step::More,
                Some(n) => {
                    match cmd {
                        b'W' => {
                            let m = if n & 1 != 0 { 2 } else { 1 };
                            self.style.width = m;
                            self.style.height = m;
                        }
                        b'!' => {
                            self.style.width = if n & 0x04 != 0 { 2 } else { self.style.width };
                            self.style.height = if n & 0x08 != 0 { 2 } else { self.style.height };
                            self.style.underline = n & 0x80 != 0;
                        }
                        _ => {}
                    }
                    Step::Done(3, Some(Action::Style))
                }
            },
            b'S' => {
                if b.len() < 4 {
                    Step::More
                } else {
                    Step::Done(4, None)
                }
            }
            _ => {
                self.skipped += 2;
                Step::Done(2, None)
            }
        }
    }

    fn gs(&mut self, pos: usize) -> Step {
        let b = self.buf.get(pos..).unwrap_or_default();
        let Some(cmd) = get(b, 1) else {
            return Step::More;
        };
        match cmd {
            b'!' => match get(b, 2) {
                None => Step::More,
                Some(n) => {
                    self.style.width = ((n >> 4) & 0x07) + 1;
                    self.style.height = (n & 0x07) + 1;
                    Step::Done(3, Some(Action::Style))
                }
            },
            b'V' => match get(b, 2) {
                None => Step::More,
                Some(m @ (0 | 1 | b'0' | b'1')) => Step::Done(
                    3,
                    Some(Action::Cut {
                        partial: m & 1 == 1,
                    }),
                ),
                Some(m @ (65 | 66 | 97 | 98 | 103 | 104)) => match get(b, 3) {
                    None => Step::More,
                    Some(_) => Step::Done(
                        4,
                        Some(Action::Cut {
                            partial: m & 1 == 0,
                        }),
                    ),
                },
                Some(_) => {
                    self.skipped += 3;
                    Step::Done(3, None)
                }
            },
            b'h' | b'w' | b'H' | b'f' | b'B' | b'b' | b'a' | b'r' | b'I' | b'E' => {
                match get(b, 2) {
                    None => Step::More,
                    Some(n) => {
                        let action = match cmd {
                            b'h' => {
                                self.barcode_height = n.max(1);
                                None
                            }
                            b'w' => {
                                self.barcode_module = n.clamp(1, 6);
                                None
                            }
                            b'r' => Some(Action::TransmitStatus(n)),
                            b'I' => Some(Action::PrinterId(n)),
                            _ => None,
                        };
                        Step::Done(3, action)
                    }
                }
            }
            b'L' | b'W' | b'P' => {
                if b.len() < 4 {
                    Step::More
                } else {
                    Step::Done(4, None)
                }
            }
            b'k' => self.gs_k(pos),
            b'(' => self.gs_paren(pos),
            b'v' => {
                // GS v 0 m xL xH yL yH d1..dk
                if b.len() < 8 {
                    return Step::More;
                }
                let wb = usize::from(at(b, 4)) + 256 * usize::from(at(b, 5));
                let h = usize::from(at(b, 6)) + 256 * usize::from(at(b, 7));
                let k = wb * h;
                if b.len() < 8 + k {
                    return Step::More;
                }
                let bits = sub(b, 8, 8 + k).to_vec();
                Step::Done(
                    8 + k,
                    Some(Action::Raster {
                        width_bytes: wb,
                        height: h,
                        bits,
                        justify: self.style.justify,
                    }),
                )
            }
            b'8' => {
                // GS 8 L p1 p2 p3 p4 m fn ...: long graphics, skipped whole.
                if b.len() < 7 {
                    return Step::More;
                }
                let len = usize::from(at(b, 3))
                    | usize::from(at(b, 4)) << 8
                    | usize::from(at(b, 5)) << 16
                    | usize::from(at(b, 6)) << 24;
                if b.len() < 7 + len {
                    Step::More
                } else {
                    Step::Done(7 + len, None)
                }
            }
            _ => {
                self.skipped += 2;
                Step::Done(2, None)
            }
        }
    }

    /// GS k: barcodes, function A (m 0..6, NUL-terminated) and function B
    /// (m 65..79, length-prefixed).
    fn gs_k(&mut self, pos: usize) -> Step {
        let b = self.buf.get(pos..).unwrap_or_default();
        let Some(m) = get(b, 2) else {
            return Step::More;
        };
        let kind = |m: u8| -> &'static str {
            match m {
                0 | 65 => "UPC-A",
                1 | 66 => "UPC-E",
                2 | 67 => "EAN-13",
                3 | 68 => "EAN-8",
                4 | 69 => "CODE39",
                5 | 70 => "ITF",
                6 | 71 => "CODABAR",
                72 => "CODE93",
                73 => "CODE128",
                _ => "UNKNOWN",
            }
        };
        if m <= 6 {
            let Some(end) = sub(b, 3, b.len()).iter().position(|&c| c == 0) else {
                return Step::More;
            };
            let data = sub(b, 3, 3 + end).to_vec();
            let action = Action::Barcode {
                kind: kind(m),
                raw: data.clone(),
                data,
                height: self.barcode_height,
                module: self.barcode_module,
                justify: self.style.justify,
            };
            return Step::Done(3 + end + 1, Some(action));
        }
        let Some(n) = get(b, 3) else {
            return Step::More;
        };
        let n = usize::from(n);
        if b.len() < 4 + n {
            return Step::More;
        }
        let raw = sub(b, 4, 4 + n).to_vec();
        let data = if m == 73 {
            code128_payload(&raw)
        } else {
            raw.clone()
        };
        let action = Action::Barcode {
            kind: kind(m),
            data,
            raw,
            height: self.barcode_height,
            module: self.barcode_module,
            justify: self.style.justify,
        };
        Step::Done(4 + n, Some(action))
    }

    /// GS ( k pL pH cn fn ...: 2D symbols. QR (cn 49) is kept; others are
    /// skipped by their length.
    fn gs_paren(&mut self, pos: usize) -> Step {
        let b = self.buf.get(pos..).unwrap_or_default();
        let (Some(kind), Some(pl), Some(ph)) = (get(b, 2), get(b, 3), get(b, 4)) else {
            return Step::More;
        };
        let len = usize::from(pl) + 256 * usize::from(ph);
        if b.len() < 5 + len {
            return Step::More;
        }
        let body = sub(b, 5, 5 + len);
        let total = 5 + len;
        if kind != b'k' || body.len() < 2 || at(body, 0) != 49 {
            return Step::Done(total, None);
        }
        let fun = at(body, 1);
        let arg = body.get(2).copied().unwrap_or(0);
        let action = match fun {
            // 65: model, 67: module size, 69: error correction level.
            67 => {
                self.qr_module = arg.clamp(1, 16);
                None
            }
            69 => {
                self.qr_level = match arg {
                    49 => 'M',
                    50 => 'Q',
                    51 => 'H',
                    _ => 'L',
                };
                None
            }
            // 80: store data (after the byte m = 48).
            80 => {
                self.qr_data = body.get(3..).map(<[u8]>::to_vec).unwrap_or_default();
                None
            }
            // 81: print the stored symbol.
            81 => Some(Action::PrintQr {
                data: self.qr_data.clone(),
                module: self.qr_module,
                level: self.qr_level,
                justify: self.style.justify,
            }),
            _ => None,
        };
        Step::Done(total, action)
    }
}

/// The characters a CODE128 command carries: `{A`/`{B`/`{C` switch code
/// sets (code C packs two digits a byte), `{{` is a literal brace, other
/// `{x` function codes carry no text.
fn code128_payload(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut set_c = false;
    let mut i = 0;
    while i < raw.len() {
        let c = at(raw, i);
        if c == b'{' {
            match raw.get(i + 1) {
                Some(b'C') => set_c = true,
                Some(b'A') | Some(b'B') => set_c = false,
                Some(b'{') => out.push(b'{'),
                _ => {}
            }
            i += 2;
            continue;
        }
        if set_c {
            out.extend_from_slice(format!("{c:02}").as_bytes());
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn text_qr_and_cut_in_one_stream() {
        let mut p = Parser::new();
        let mut stream = vec![ESC, b'@', ESC, b'a', 1, GS, b'!', 0x11];
        stream.extend_from_slice(&encoding_rs::GB18030.encode("回执").0);
        stream.push(LF);
        let data = b"41040320261128000001";
        stream.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, 6]);
        let n = data.len() + 3;
        stream.extend_from_slice(&[GS, b'(', b'k', n as u8, 0, 49, 80, 48]);
        stream.extend_from_slice(data);
        stream.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
        stream.extend_from_slice(&[GS, b'V', b'A', 0]);
        let actions = p.push(&stream);
        let title = Style {
            justify: Justify::Centre,
            width: 2,
            height: 2,
            ..Style::default()
        };
        assert!(actions.contains(&Action::Text(
            encoding_rs::GB18030.encode("回执").0.to_vec(),
            title
        )));
        assert!(actions.contains(&Action::PrintQr {
            data: data.to_vec(),
            module: 6,
            level: 'L',
            justify: Justify::Centre
        }));
        assert_eq!(actions.last(), Some(&Action::Cut { partial: false }));
        assert_eq!(p.style.width, 2);
        assert_eq!(p.style.justify, Justify::Centre);
    }

    #[test]
    fn a_command_split_across_reads_waits_for_its_rest() {
        let mut p = Parser::new();
        assert!(p.push(&[GS, b'(', b'k', 5]).is_empty());
        assert!(p.push(&[0, 49, 80, 48, b'A']).is_empty());
        let a = p.push(&[b'B', GS, b'(', b'k', 3, 0, 49, 81, 48]);
        assert_eq!(
            a,
            vec![Action::PrintQr {
                data: b"AB".to_vec(),
                module: 3,
                level: 'L',
                justify: Justify::Left
            }]
        );
        assert!(p.push(&[DLE]).is_empty());
        assert_eq!(p.push(&[EOT, 4]), vec![Action::StatusRequest(4)]);
    }

    #[test]
    fn escpos_crate_style_status_request_with_trailing_zero() {
        let mut p = Parser::new();
        let a = p.push(&[DLE, EOT, 1, 0, DLE, EOT, 18, 1]);
        assert_eq!(a, vec![Action::StatusRequest(1), Action::StatusRequest(18)]);
    }

    #[test]
    fn code128_payload_unpacks_code_sets() {
        assert_eq!(code128_payload(b"{BAB-1{C\x0c\x22"), b"AB-11234".to_vec());
        assert_eq!(code128_payload(b"{B{{x"), b"{x".to_vec());
    }

    #[test]
    fn unknown_commands_are_skipped_without_losing_text() {
        let mut p = Parser::new();
        let a = p.push(&[ESC, b'~', b'h', b'i', LF, GS, 0x7F, b'o', b'k', LF]);
        assert_eq!(
            a,
            vec![
                Action::Text(b"hi".to_vec(), Style::default()),
                Action::LineFeed,
                Action::Text(b"ok".to_vec(), Style::default()),
                Action::LineFeed
            ]
        );
        assert!(p.skipped >= 4);
    }
}
