//! 1D barcode symbols as the printer draws them: each function turns what
//! the host sent into a row of modules (`true` = bar), from the
//! symbologies' published tables (ISO/IEC 15417 CODE128, ISO/IEC 15420
//! EAN-13, ISO/IEC 16388 CODE39, ISO/IEC 16390 ITF). Wide elements of
//! CODE39 and ITF are three modules.
//!
//! Written for the simulator only; the driver computes nothing of this.

/// CODE128 bar/space widths of symbol values 0..=105.
const CODE128: [&str; 106] = [
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232",
];
const CODE128_STOP: &str = "2331112";

const CODE39_CHARS: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";
/// CODE39 modules of each character of [`CODE39_CHARS`].
const CODE39: [&str; 43] = [
    "101000111011101",
    "111010001010111",
    "101110001010111",
    "111011100010101",
    "101000111010111",
    "111010001110101",
    "101110001110101",
    "101000101110111",
    "111010001011101",
    "101110001011101",
    "111010100010111",
    "101110100010111",
    "111011101000101",
    "101011100010111",
    "111010111000101",
    "101110111000101",
    "101010001110111",
    "111010100011101",
    "101110100011101",
    "101011100011101",
    "111010101000111",
    "101110101000111",
    "111011101010001",
    "101011101000111",
    "111010111010001",
    "101110111010001",
    "101010111000111",
    "111010101110001",
    "101110101110001",
    "101011101110001",
    "111000101010111",
    "100011101010111",
    "111000111010101",
    "100010111010111",
    "111000101110101",
    "100011101110101",
    "100010101110111",
    "111000101011101",
    "100011101011101",
    "100010001000101",
    "100010001010001",
    "100010100010001",
    "101000100010001",
];
const CODE39_EDGE: &str = "100010111011101";

/// EAN-13 left-hand odd-parity (L) patterns; G is R reversed, R is L
/// inverted.
const EAN_L: [&str; 10] = [
    "0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011",
    "0110111", "0001011",
];
/// Parity of the six left digits for each first digit (0 = L, 1 = G).
const EAN_PARITY: [&str; 10] = [
    "000000", "001011", "001101", "001110", "010011", "011001", "011100", "010101", "010110",
    "011010",
];
/// ITF narrow/wide (0/1) of each digit's five elements.
const ITF: [&str; 10] = [
    "00110", "10001", "01001", "11000", "00101", "10100", "01100", "00011", "10010", "01010",
];

fn widths(out: &mut Vec<bool>, w: &str) {
    let mut bar = true;
    for c in w.bytes() {
        for _ in 0..(c - b'0') {
            out.push(bar);
        }
        bar = !bar;
    }
}

fn bits(out: &mut Vec<bool>, m: &str) {
    out.extend(m.bytes().map(|c| c == b'1'));
}

/// CODE128 from the body of `GS k 73 n body`: `{A`, `{B`, `{C` select
/// the code set (first one: the start code), `{S` shift, `{1`..`{4`
/// function codes, `{{` a brace; in code set C each byte is a value
/// 0..=99. Returns `None` for a body a printer would refuse.
pub fn code128(body: &[u8]) -> Option<Vec<bool>> {
    let mut values: Vec<u8> = Vec::new();
    let mut set = 0u8;
    let mut i = 0;
    while i < body.len() {
        let c = *body.get(i)?;
        if c == b'{' {
            let f = *body.get(i + 1)?;
            i += 2;
            let v = match (f, set) {
                (b'A', 0) => 103,
                (b'B', 0) => 104,
                (b'C', 0) => 105,
                (b'A', _) => 101,
                (b'B', _) => 100,
                (b'C', _) => 99,
                (b'S', b'A' | b'B') => 98,
                (b'1', _) => 102,
                (b'2', b'A' | b'B') => 97,
                (b'3', b'A' | b'B') => 96,
                (b'4', b'A') => 101,
                (b'4', b'B') => 100,
                (b'{', b'B') => b'{' - 32,
                _ => return None,
            };
            if matches!(f, b'A' | b'B' | b'C') {
                set = f;
            }
            values.push(v);
            continue;
        }
        i += 1;
        values.push(match set {
            b'A' if c < 32 => c + 64,
            b'A' | b'B' if (32..128).contains(&c) => c - 32,
            b'C' if c <= 99 => c,
            _ => return None,
        });
    }
    if values.len() < 2 {
        return None;
    }
    let check = values
        .iter()
        .enumerate()
        .map(|(i, v)| i.max(1) as u32 * u32::from(*v))
        .sum::<u32>()
        % 103;
    values.push(check as u8);
    let mut out = Vec::new();
    for v in values {
        widths(&mut out, CODE128.get(usize::from(v))?);
    }
    widths(&mut out, CODE128_STOP);
    Some(out)
}

/// EAN-13 from 12 digits (the check digit is added) or 13 (checked).
pub fn ean13(data: &[u8]) -> Option<Vec<bool>> {
    if !(12..=13).contains(&data.len()) || !data.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let d: Vec<usize> = data.iter().map(|c| usize::from(c - b'0')).collect();
    let sum: usize = d
        .iter()
        .take(12)
        .enumerate()
        .map(|(i, v)| if i % 2 == 1 { 3 * v } else { *v })
        .sum();
    let check = (10 - sum % 10) % 10;
    if d.len() == 13 && d.get(12) != Some(&check) {
        return None;
    }
    let digits: Vec<usize> = d.iter().take(12).copied().chain([check]).collect();
    let parity = EAN_PARITY.get(*digits.first()?)?.as_bytes();
    let mut out = Vec::new();
    bits(&mut out, "101");
    for (k, v) in digits.iter().skip(1).take(6).enumerate() {
        let l = EAN_L.get(*v)?;
        let code: String = if parity.get(k) == Some(&b'1') {
            // G: R reversed = L inverted and reversed.
            l.chars()
                .rev()
                .map(|c| if c == '1' { '0' } else { '1' })
                .collect()
        } else {
            (*l).to_string()
        };
        bits(&mut out, &code);
    }
    bits(&mut out, "01010");
    for v in digits.iter().skip(7) {
        let r: String = EAN_L
            .get(*v)?
            .chars()
            .map(|c| if c == '1' { '0' } else { '1' })
            .collect();
        bits(&mut out, &r);
    }
    bits(&mut out, "101");
    Some(out)
}

/// CODE39 with the `*` start/stop added (a `*` in the data is refused).
pub fn code39(data: &[u8]) -> Option<Vec<bool>> {
    let data: Vec<u8> = data.iter().copied().filter(|c| *c != b'*').collect();
    if data.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    bits(&mut out, CODE39_EDGE);
    for c in data {
        let i = CODE39_CHARS
            .bytes()
            .position(|x| x == c.to_ascii_uppercase())?;
        out.push(false);
        bits(&mut out, CODE39.get(i)?);
    }
    out.push(false);
    bits(&mut out, CODE39_EDGE);
    Some(out)
}

/// Interleaved 2 of 5 from an even number of digits.
pub fn itf(data: &[u8]) -> Option<Vec<bool>> {
    if data.is_empty() || data.len() % 2 == 1 || !data.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let w = |narrow_wide: u8| if narrow_wide == b'1' { 3 } else { 1 };
    let mut out = Vec::new();
    bits(&mut out, "1010");
    for pair in data.chunks(2) {
        let a = ITF.get(usize::from(*pair.first()? - b'0'))?.as_bytes();
        let b = ITF.get(usize::from(*pair.get(1)? - b'0'))?.as_bytes();
        for k in 0..5 {
            out.extend(std::iter::repeat_n(true, w(*a.get(k)?)));
            out.extend(std::iter::repeat_n(false, w(*b.get(k)?)));
        }
    }
    out.extend([true, true, true, false, true]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_lengths_follow_the_standards() {
        // CODE128 "{BAB": start, 2 data, check = 4 x 11 + stop 13.
        assert_eq!(code128(b"{BAB").map(|m| m.len()), Some(57));
        assert_eq!(ean13(b"690123456789").map(|m| m.len()), Some(95));
        assert!(ean13(b"6901234567891").is_none(), "wrong check digit");
        assert_eq!(ean13(b"6901234567892").map(|m| m.len()), Some(95));
        // CODE39: (n + 2) characters of 15 modules and n + 1 gaps.
        assert_eq!(code39(b"AB1").map(|m| m.len()), Some(5 * 15 + 4));
        assert_eq!(itf(b"1234").map(|m| m.len()), Some(4 + 2 * 18 + 5));
        assert!(itf(b"123").is_none());
        assert!(code128(b"{X").is_none());
    }
}
