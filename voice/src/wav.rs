//! The prompts' audio format: RIFF WAV, PCM, mono, 16-bit, 16 kHz.

use crate::VoiceError;

/// Sample rate of every prompt (Hz).
pub const SAMPLE_RATE: u32 = 16_000;

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

fn bad(why: &str) -> VoiceError {
    VoiceError::Wav(why.to_string())
}

/// Checks a `fmt ` chunk body is PCM, mono, 16-bit, [`SAMPLE_RATE`].
fn check_fmt(body: &[u8]) -> Result<(), VoiceError> {
    let field16 = |at| le16(body, at).ok_or_else(|| bad("short fmt chunk"));
    let (format, channels, bits) = (field16(0)?, field16(2)?, field16(14)?);
    let rate = le32(body, 4).ok_or_else(|| bad("short fmt chunk"))?;
    if format != 1 {
        return Err(VoiceError::Wav(format!("format {format}, not PCM (1)")));
    }
    if channels != 1 || bits != 16 || rate != SAMPLE_RATE {
        return Err(VoiceError::Wav(format!(
            "{channels} channel(s), {bits} bit, {rate} Hz"
        )));
    }
    Ok(())
}

/// Decodes a WAV file's samples; anything but PCM, mono, 16-bit,
/// [`SAMPLE_RATE`] is an error.
pub fn decode_wav(bytes: &[u8]) -> Result<Vec<i16>, VoiceError> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(bad("no RIFF/WAVE header"));
    }
    let mut at = 12usize;
    let mut fmt_ok = false;
    while let (Some(tag), Some(len)) = (bytes.get(at..at + 4), le32(bytes, at + 4)) {
        let body_start = at + 8;
        let body_end = body_start
            .checked_add(len as usize)
            .filter(|end| *end <= bytes.len())
            .ok_or_else(|| bad("chunk runs past the end of the file"))?;
        let body = bytes.get(body_start..body_end).unwrap_or_default();
        match tag {
            b"fmt " => {
                check_fmt(body)?;
                fmt_ok = true;
            }
            b"data" if fmt_ok => {
                return Ok(body
                    .chunks_exact(2)
                    .map(|c| {
                        i16::from_le_bytes([
                            c.first().copied().unwrap_or(0),
                            c.get(1).copied().unwrap_or(0),
                        ])
                    })
                    .collect());
            }
            b"data" => return Err(bad("data chunk before fmt chunk")),
            _ => {}
        }
        // Chunks are padded to an even length.
        at = body_end + (body_end & 1);
    }
    Err(bad("no data chunk"))
}

/// Encodes samples as a canonical 44-byte-header WAV (PCM, mono, 16-bit,
/// [`SAMPLE_RATE`]), the layout `cargo xtask voice` writes.
pub fn encode_wav(samples: &[i16]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX - 36);
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    b.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // bytes per second
    b.extend_from_slice(&2u16.to_le_bytes()); // bytes per frame
    b.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
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
    fn round_trip_keeps_every_sample() {
        let samples: Vec<i16> = (0..1000).map(|i| (i * 37 % 65536 - 32768) as i16).collect();
        assert_eq!(decode_wav(&encode_wav(&samples)).unwrap(), samples);
    }

    #[test]
    fn skips_unknown_chunks_and_padding() {
        let mut b = encode_wav(&[1, 2, 3]);
        // Insert an odd-length LIST chunk (padded to even) after fmt.
        let list = [b"LIST".as_slice(), &3u32.to_le_bytes(), b"abc\0"].concat();
        b.splice(36..36, list);
        assert_eq!(decode_wav(&b).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn refuses_other_formats() {
        let mut stereo = encode_wav(&[0; 10]);
        stereo[22] = 2;
        assert!(matches!(decode_wav(&stereo), Err(VoiceError::Wav(_))));
        let mut fast = encode_wav(&[0; 10]);
        fast[24..28].copy_from_slice(&22_050u32.to_le_bytes());
        assert!(decode_wav(&fast).is_err());
        assert!(decode_wav(b"RIFF\0\0\0\0WAVE").is_err());
        assert!(decode_wav(b"not a wav").is_err());
    }

    #[test]
    fn refuses_truncated_data() {
        let b = encode_wav(&[5; 100]);
        assert!(decode_wav(&b[..100]).is_err());
    }
}
