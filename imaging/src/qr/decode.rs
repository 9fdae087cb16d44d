//! The decoding ladder: rxing over a luma picture, retried on cheap
//! transforms of it until a code comes out.
//!
//! Order (cheapest and most likely first; the ladder stops at the first
//! rung that finds anything):
//!
//! 1. [`Pass::Plain`]: local-threshold (hybrid) binarisation of the frame,
//!    QR codes; then the same bits inverted (dark-mode phone screens:
//!    light modules on black), which costs no new binarisation; then the
//!    1D symbologies, Data Matrix and PDF417 on the same bits.
//! 2. [`Pass::Downscaled`]: the frame halved by 2x2 averaging, QR normal
//!    and inverted: removes a phone screen's moiré and joins noisy or
//!    blurred modules; and Data Matrix with rxing's exhaustive search,
//!    affordable at a quarter of the pixels (it finds rotated symbols the
//!    quick search misses).
//! 3. [`Pass::Stretched`]: contrast stretched to the full range when the
//!    frame's range is narrow (dim screen, faded thermal print), QR
//!    normal and inverted.
//! 4. [`Pass::Local`]: local-mean threshold with no minimum contrast,
//!    for codes only a few grey levels darker than their ground.
//! 5. [`Pass::Harder`]: rxing's "try harder" finder search (every row)
//!    on the plain bits, QR normal and inverted; then 1D codes inverted.
//!
//! A frame with no code at all runs every rung: that is the common case
//! of a kiosk camera, so each rung is kept cheap (PDF417, the costliest
//! reader, runs once).
//!
//! The bench `qr_vs_zbar` prints which rung found each corpus frame.

use std::collections::HashSet;

use hal::scanner::Symbology;
use rxing::common::HybridBinarizer;
use rxing::multi::MultipleBarcodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, RXingResult,
    RXingResultMetadataType, RXingResultMetadataValue, Reader,
};

use super::charset::{self, Charset};
use super::preprocess;
use super::{Decoded, Pass};

/// A frame's range (1st to 99th percentile) narrower than this many grey
/// levels gets the stretched rung.
const NARROW_RANGE: u8 = 150;
/// Frames smaller than this on either side are not halved.
const MIN_HALVED_SIDE: u32 = 160;

/// Which symbologies a call looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub qr: bool,
    /// Code 128, EAN-13/8, Code 39, Code 93, ITF.
    pub linear: bool,
    pub data_matrix: bool,
    pub pdf417: bool,
}

impl Formats {
    /// Everything the kiosk's camera is asked to read.
    pub const ALL: Formats = Formats {
        qr: true,
        linear: true,
        data_matrix: true,
        pdf417: true,
    };
    /// QR codes only (the payment and appointment screens).
    pub const QR_ONLY: Formats = Formats {
        qr: true,
        linear: false,
        data_matrix: false,
        pdf417: false,
    };
}

impl Default for Formats {
    fn default() -> Self {
        Formats::ALL
    }
}

/// Runs the ladder over one luma picture.
pub fn ladder(luma: &[u8], width: u32, height: u32, formats: Formats) -> Vec<Decoded> {
    let Some(n) = (width as usize).checked_mul(height as usize) else {
        return Vec::new();
    };
    let Some(luma) = luma.get(..n) else {
        return Vec::new();
    };
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let easy = hints(false);
    let harder = hints(true);

    // 1. Plain: every symbology once, QR also inverted.
    let Some(mut plain) = bitmap(luma, width, height) else {
        return Vec::new();
    };
    if formats.qr {
        let found = qr_both_ways(&mut plain, &easy, Pass::Plain, 1.0);
        if !found.is_empty() {
            return found;
        }
    }
    if formats.linear
        && let Some(d) = linear(&mut plain, &easy, Pass::Plain, false)
    {
        return vec![d];
    }
    if formats.data_matrix
        && let Some(d) = data_matrix(&mut plain, &easy, Pass::Plain, 1.0)
    {
        return vec![d];
    }
    if formats.pdf417
        && let Some(d) = pdf417(&mut plain, &easy, Pass::Plain)
    {
        return vec![d];
    }

    // 2. Halved: QR both ways; Data Matrix with the exhaustive search,
    //    which is cheap at a quarter of the pixels.
    let halve = width >= 2 * MIN_HALVED_SIDE && height >= 2 * MIN_HALVED_SIDE;
    if halve {
        let half = preprocess::downscale2(luma, width, height);
        if let Some(mut bm) = bitmap(&half.data, half.width, half.height) {
            if formats.qr {
                let found = qr_both_ways(&mut bm, &easy, Pass::Downscaled, 2.0);
                if !found.is_empty() {
                    return found;
                }
            }
            if formats.data_matrix
                && let Some(d) = data_matrix(&mut bm, &harder, Pass::Downscaled, 2.0)
            {
                return vec![d];
            }
        }
    }
    if formats.qr {
        // 3. Stretched.
        let (lo, hi) = preprocess::percentiles(luma);
        if hi - lo < NARROW_RANGE {
            let stretched = preprocess::stretch(luma, lo, hi);
            if let Some(mut bm) = bitmap(&stretched, width, height) {
                let found = qr_both_ways(&mut bm, &easy, Pass::Stretched, 1.0);
                if !found.is_empty() {
                    return found;
                }
            }
        }
        // 4. Local threshold, no minimum range (faint codes).
        let radius = (width.min(height) / 48).clamp(6, 24);
        let binary = preprocess::local_threshold(luma, width, height, radius, 2);
        if let Some(mut bm) = bitmap(&binary, width, height) {
            let found = qr_both_ways(&mut bm, &easy, Pass::Local, 1.0);
            if !found.is_empty() {
                return found;
            }
        }
        // 5. Harder.
        let found = qr_both_ways(&mut plain, &harder, Pass::Harder, 1.0);
        if !found.is_empty() {
            return found;
        }
    }
    // A small picture (a saved symbol, a crop) was not halved: the
    // exhaustive Data Matrix search on it as it is.
    if !halve
        && formats.data_matrix
        && let Some(d) = data_matrix(&mut plain, &harder, Pass::Harder, 1.0)
    {
        return vec![d];
    }
    // Light bars on dark: cheap for 1D. (Inverted Data Matrix and PDF417
    // are left out: they would double the cost of every frame without a
    // code, and no phone app shows them in dark mode.)
    if formats.linear {
        plain.invert();
        let found = linear(&mut plain, &easy, Pass::Harder, true);
        plain.invert();
        if let Some(d) = found {
            return vec![d];
        }
    }
    Vec::new()
}

type Bitmap = BinaryBitmap<HybridBinarizer<Luma8LuminanceSource>>;

fn bitmap(luma: &[u8], width: u32, height: u32) -> Option<Bitmap> {
    // An owned copy of the picture (about 0.1 ms for 1280x720): simpler
    // than threading the frame's lifetime through rxing's generics.
    let source = Luma8LuminanceSource::new(luma.to_vec(), width, height).ok()?;
    Some(BinaryBitmap::new(HybridBinarizer::new(source)))
}

fn hints(try_harder: bool) -> DecodeHints {
    DecodeHints {
        TryHarder: Some(try_harder),
        ..DecodeHints::default()
    }
}

/// QR codes in `bm`, then in `bm` inverted.
fn qr_both_ways(bm: &mut Bitmap, hints: &DecodeHints, pass: Pass, scale: f32) -> Vec<Decoded> {
    let qr_hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..hints.clone()
    };
    let found = qr_once(bm, &qr_hints, pass, false, scale);
    if !found.is_empty() {
        return found;
    }
    bm.invert();
    let found = qr_once(bm, &qr_hints, pass, true, scale);
    bm.invert();
    found
}

fn qr_once(
    bm: &mut Bitmap,
    hints: &DecodeHints,
    pass: Pass,
    inverted: bool,
    scale: f32,
) -> Vec<Decoded> {
    let results = QrReader
        .decode_multiple_with_hints(bm, hints)
        .unwrap_or_default();
    results
        .iter()
        .filter_map(|r| convert(r, pass, inverted, scale))
        .collect()
}

/// The 1D symbologies (Code 128, EAN-13/8, Code 39, Code 93, ITF).
fn linear(bm: &mut Bitmap, hints: &DecodeHints, pass: Pass, inverted: bool) -> Option<Decoded> {
    let linear = DecodeHints {
        PossibleFormats: Some(HashSet::from([
            BarcodeFormat::CODE_128,
            BarcodeFormat::EAN_13,
            BarcodeFormat::EAN_8,
            BarcodeFormat::CODE_39,
            BarcodeFormat::CODE_93,
            BarcodeFormat::ITF,
        ])),
        ..hints.clone()
    };
    let mut reader = rxing::oned::MultiFormatOneDReader::new(&linear);
    let r = reader.decode_with_hints(bm, &linear).ok()?;
    convert(&r, pass, inverted, 1.0)
}

fn data_matrix(bm: &mut Bitmap, hints: &DecodeHints, pass: Pass, scale: f32) -> Option<Decoded> {
    let r = rxing::datamatrix::DataMatrixReader
        .decode_with_hints(bm, hints)
        .ok()?;
    convert(&r, pass, false, scale)
}

fn pdf417(bm: &mut Bitmap, hints: &DecodeHints, pass: Pass) -> Option<Decoded> {
    let r = rxing::pdf417::PDF417Reader
        .decode_with_hints(bm, hints)
        .ok()?;
    convert(&r, pass, false, 1.0)
}

fn symbology(format: BarcodeFormat) -> Option<Symbology> {
    Some(match format {
        BarcodeFormat::QR_CODE
        | BarcodeFormat::MICRO_QR_CODE
        | BarcodeFormat::RECTANGULAR_MICRO_QR_CODE => Symbology::Qr,
        BarcodeFormat::DATA_MATRIX => Symbology::DataMatrix,
        BarcodeFormat::PDF_417 => Symbology::Pdf417,
        BarcodeFormat::CODE_128 => Symbology::Code128,
        BarcodeFormat::EAN_13 | BarcodeFormat::UPC_A => Symbology::Ean13,
        BarcodeFormat::EAN_8 => Symbology::Ean8,
        BarcodeFormat::CODE_39 => Symbology::Code39,
        BarcodeFormat::CODE_93 => Symbology::Code93,
        BarcodeFormat::ITF => Symbology::Itf,
        BarcodeFormat::CODABAR => Symbology::Codabar,
        BarcodeFormat::AZTEC => Symbology::Aztec,
        _ => return None,
    })
}

/// The AIM identifier rxing reports (`]Q1`), when any.
fn aim(r: &RXingResult) -> Option<String> {
    match r
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::SYMBOLOGY_IDENTIFIER)
    {
        Some(RXingResultMetadataValue::SymbologyIdentifier(s)) => Some(s.clone()),
        _ => None,
    }
}

fn convert(r: &RXingResult, pass: Pass, inverted: bool, scale: f32) -> Option<Decoded> {
    let format = *r.getBarcodeFormat();
    let symbology = symbology(format)?;
    let aim = aim(r);
    let (text, bytes, charset) = if symbology == Symbology::Qr {
        qr_text(r, aim.as_deref())
    } else if matches!(symbology, Symbology::DataMatrix | Symbology::Pdf417) {
        two_d_text(r.getText())
    } else {
        // rxing's other readers give codewords, not payload bytes, as
        // their raw bytes: their text is the payload.
        let text = r.getText().to_owned();
        (text.clone(), text.into_bytes(), Charset::Utf8)
    };
    let corners = r
        .getPoints()
        .iter()
        .map(|p| (p.x * scale, p.y * scale))
        .collect();
    Some(Decoded {
        text,
        bytes,
        symbology,
        charset,
        corners,
        pass,
        inverted,
        aim,
    })
}

/// Data Matrix and PDF417 text. rxing's Data Matrix reader ignores an
/// ECI designator and both readers give unmarked byte segments as
/// Latin-1 — UTF-8 or GB18030 Chinese then comes out as mojibake
/// ("ç¼´è´¹" for "缴费"). Text made only of U+0000–U+00FF with some
/// high characters is taken back to its bytes and decoded by this
/// crate's rule; any other text is rxing's.
fn two_d_text(text: &str) -> (String, Vec<u8>, Charset) {
    let latin1: Option<Vec<u8>> = text.chars().map(|c| u8::try_from(c).ok()).collect();
    match latin1 {
        Some(bytes) if bytes.iter().any(|b| *b >= 0x80) => {
            let p = charset::decode_payload(&bytes, None);
            (p.text, bytes, p.charset)
        }
        _ => (text.to_owned(), text.as_bytes().to_vec(), Charset::Utf8),
    }
}

/// QR text from the payload bytes by this crate's rule; rxing's own text
/// only when the symbol carried an ECI designator (rxing honoured it and
/// does not say which one it was, so the charset is matched back).
fn qr_text(r: &RXingResult, aim: Option<&str>) -> (String, Vec<u8>, Charset) {
    let bytes = r.getRawBytes().to_vec();
    // ]Q2, ]Q4, ]Q6: the ECI flavours of ]Q1, ]Q3, ]Q5.
    let has_eci = aim
        .and_then(|a| a.as_bytes().get(2).copied())
        .is_some_and(|m| matches!(m, b'2' | b'4' | b'6'));
    if has_eci && !r.getText().is_empty() {
        let text = r.getText().to_owned();
        let charset = charset::charset_matching(&bytes, &text).unwrap_or(Charset::Other("eci"));
        return (text, bytes, charset);
    }
    let p = charset::decode_payload(&bytes, None);
    (p.text, bytes, p.charset)
}
