//! TIFF files written here: black-and-white pages as CCITT Group 4 (the
//! `fax` crate codes the lines) and colour or grey pages as JPEG-in-TIFF
//! (TIFF 6.0 compression 7, one strip holding a whole JPEG stream, as in
//! TIFF Technical Note 2). Baseline tags, little-endian, one strip.

use fax::{Color, VecWriter, encoder::Encoder};

use super::binarise::Bitmap;

/// The page coded as CCITT T.6 (Group 4), with the end-of-block code.
pub(crate) fn g4(bm: &Bitmap) -> Vec<u8> {
    let mut enc = Encoder::new(VecWriter::with_capacity(64 * 1024 * 8));
    for y in 0..bm.height {
        let pels = bm
            .row(y)
            .iter()
            .map(|&b| if b == 1 { Color::Black } else { Color::White });
        // VecWriter cannot fail.
        let _ = enc.encode_line(pels, bm.width);
    }
    match enc.finish() {
        Ok(mut w) => {
            w.pad();
            w.finish()
        }
        Err(never) => match never {},
    }
}

/// How the strip is coded.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Strip {
    /// CCITT Group 4, 1 bit, WhiteIsZero.
    G4,
    /// A JPEG stream of one component (grey, BlackIsZero).
    JpegGrey,
    /// A JPEG stream of YCbCr 4:2:0.
    JpegColour,
}

enum Value {
    Short(Vec<u16>),
    Long(u32),
    Rational(u32, u32),
    StripOffset,
}

/// Wraps one coded strip in a TIFF file of `w`×`h` pixels at `dpi`.
pub(crate) fn wrap(strip: &[u8], kind: Strip, w: u32, h: u32, dpi: u32) -> Vec<u8> {
    use Value::{Long, Rational, Short, StripOffset};
    let (bits, compression, photometric, samples) = match kind {
        Strip::G4 => (vec![1], 4, 0, 1),
        Strip::JpegGrey => (vec![8], 7, 1, 1),
        Strip::JpegColour => (vec![8, 8, 8], 7, 6, 3),
    };
    let mut tags: Vec<(u16, Value)> = vec![
        (254, Long(0)),                  // NewSubfileType
        (256, Long(w)),                  // ImageWidth
        (257, Long(h)),                  // ImageLength
        (258, Short(bits)),              // BitsPerSample
        (259, Short(vec![compression])), // Compression
        (262, Short(vec![photometric])), // PhotometricInterpretation
        (273, StripOffset),              // StripOffsets
        (277, Short(vec![samples])),     // SamplesPerPixel
        (278, Long(h)),                  // RowsPerStrip
        (279, Long(strip.len() as u32)), // StripByteCounts
        (282, Rational(dpi, 1)),         // XResolution
        (283, Rational(dpi, 1)),         // YResolution
        (284, Short(vec![1])),           // PlanarConfiguration: chunky
        (296, Short(vec![2])),           // ResolutionUnit: inch
    ];
    if let Strip::G4 = kind {
        tags.push((293, Long(0))); // T6Options: no uncompressed mode
    }
    if let Strip::JpegColour = kind {
        tags.push((530, Short(vec![2, 2]))); // YCbCrSubSampling
    }
    tags.sort_by_key(|t| t.0);
    let ifd_len = 2 + 12 * tags.len() + 4;
    // Values that do not fit in 4 bytes follow the IFD.
    let mut extra = Vec::new();
    let extra_start = 8 + ifd_len;
    let mut entries = Vec::new();
    let mut strip_entry = None;
    for (tag, value) in &tags {
        let (typ, count, field): (u16, u32, [u8; 4]) = match value {
            Short(v) if v.len() <= 2 => {
                let mut f = [0u8; 4];
                for (i, s) in v.iter().enumerate() {
                    if let Some(d) = f.get_mut(2 * i..2 * i + 2) {
                        d.copy_from_slice(&s.to_le_bytes());
                    }
                }
                (3, v.len() as u32, f)
            }
            Short(v) => {
                let at = (extra_start + extra.len()) as u32;
                for s in v {
                    extra.extend_from_slice(&s.to_le_bytes());
                }
                (3, v.len() as u32, at.to_le_bytes())
            }
            Long(v) => (4, 1, v.to_le_bytes()),
            Rational(n, d) => {
                let at = (extra_start + extra.len()) as u32;
                extra.extend_from_slice(&n.to_le_bytes());
                extra.extend_from_slice(&d.to_le_bytes());
                (5, 1, at.to_le_bytes())
            }
            StripOffset => {
                strip_entry = Some(entries.len());
                (4, 1, [0; 4])
            }
        };
        entries.push((*tag, typ, count, field));
    }
    if extra.len() % 2 == 1 {
        extra.push(0);
    }
    let data_at = (extra_start + extra.len()) as u32;
    if let Some(e) = strip_entry.and_then(|i| entries.get_mut(i)) {
        e.3 = data_at.to_le_bytes();
    }
    let mut out = Vec::with_capacity(data_at as usize + strip.len());
    out.extend_from_slice(b"II");
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&8u32.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, count, field) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&field);
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&extra);
    out.extend_from_slice(strip);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn g4_decodes_back_to_the_same_page() {
        let (w, h) = (203u32, 57u32);
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                u8::from((x / 7 + y / 5) % 3 == 0 || x == 0 || x == w - 1)
            })
            .collect();
        let bm = Bitmap {
            width: w,
            height: h,
            data,
        };
        let coded = g4(&bm);
        let mut rows = Vec::new();
        fax::decoder::decode_g4(coded.iter().copied(), w, Some(h), |t| {
            rows.push(
                fax::decoder::pels(t, w)
                    .map(|c| u8::from(c == Color::Black))
                    .collect::<Vec<_>>(),
            );
        })
        .unwrap();
        assert_eq!(rows.len(), h as usize);
        assert_eq!(rows.concat(), bm.data);
    }
}
