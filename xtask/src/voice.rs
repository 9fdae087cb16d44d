//! `cargo xtask voice [ID…]`: speaks every prompt of
//! `assets/voice/prompts.toml` with espeak-ng into
//! `assets/voice/{zh,en}/ID.wav` (16 kHz, mono, 16-bit PCM).
//!
//! espeak-ng writes 22 050 Hz WAV; this trims the silence at both ends,
//! low-passes below the new Nyquist frequency and resamples linearly, all
//! in integer arithmetic, so the same espeak-ng gives the same bytes.
//! Without IDs every prompt is made and WAV files of prompts no longer in
//! the manifest are removed; with IDs only those prompts are made.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Output sample rate of the kiosk's prompts.
const OUT_RATE: u32 = 16_000;
/// A sample at least this loud (of 32 767) counts as speech when trimming.
const SPEECH_LEVEL: i32 = 400;
/// Silence kept before the first and after the last speech sample (ms).
const PAD_BEFORE_MS: u32 = 40;
const PAD_AFTER_MS: u32 = 80;
/// Length of the fade-in and fade-out at the cut points (ms).
const FADE_MS: u32 = 5;
/// Low-pass filter: odd number of taps, cut-off in Hz (below 8 kHz).
const TAPS: usize = 31;
const CUTOFF_HZ: f64 = 7_200.0;

/// One language: directory name, espeak-ng voice, speed (words per minute).
struct Language {
    dir: &'static str,
    voice: &'static str,
    speed: u32,
}

/// Mandarin and English, slowish for elderly residents. The Mandarin voice
/// is `cmn-latn-pinyin`: espeak-ng 1.51's plain `cmn` ("latin as English")
/// turns Han characters into tone-numbered pinyin and then reads most of
/// it as English words ("qing three"), while this variant reads it as
/// Mandarin.
const LANGUAGES: [Language; 2] = [
    Language {
        dir: "zh",
        voice: "cmn-latn-pinyin",
        speed: 150,
    },
    Language {
        dir: "en",
        voice: "en",
        speed: 150,
    },
];

/// One `[[prompt]]` of the manifest.
#[derive(Debug, Default, Clone)]
struct Prompt {
    id: String,
    zh: String,
    en: String,
}

impl Prompt {
    fn text(&self, dir: &str) -> &str {
        if dir == "zh" { &self.zh } else { &self.en }
    }
}

pub fn voice(args: &[String]) -> Result<()> {
    crate::ensure_packages(&["espeak-ng"])?;
    let dir = crate::root().join("assets/voice");
    let manifest = std::fs::read_to_string(dir.join("prompts.toml"))
        .context("reading assets/voice/prompts.toml")?;
    let prompts = parse_manifest(&manifest)?;
    for id in args {
        if !prompts.iter().any(|p| &p.id == id) {
            bail!("no prompt {id:?} in prompts.toml");
        }
    }
    let scratch = crate::target_dir().join("voice");
    std::fs::create_dir_all(&scratch)?;
    for lang in &LANGUAGES {
        let out_dir = dir.join(lang.dir);
        std::fs::create_dir_all(&out_dir)?;
        for p in prompts
            .iter()
            .filter(|p| args.is_empty() || args.contains(&p.id))
        {
            let raw = speak(lang, p.text(lang.dir), &scratch)?;
            let samples = process(&raw).with_context(|| format!("{}/{}", lang.dir, p.id))?;
            let file = out_dir.join(format!("{}.wav", p.id));
            std::fs::write(&file, wav_bytes(&samples, OUT_RATE))
                .with_context(|| format!("writing {}", file.display()))?;
            eprintln!(
                "xtask: {}/{}.wav {:.2} s",
                lang.dir,
                p.id,
                samples.len() as f64 / f64::from(OUT_RATE)
            );
        }
        if args.is_empty() {
            remove_stale(&out_dir, &prompts)?;
        }
    }
    let total = dir_size(&dir)?;
    eprintln!(
        "xtask: assets/voice holds {:.2} MB for {} prompts",
        total as f64 / 1e6,
        prompts.len()
    );
    Ok(())
}

/// Parses the manifest: `[[prompt]]` headers, `key = "basic string"`
/// lines, comments and blank lines (the subset of TOML prompts.toml uses;
/// the voice crate reads it with a full TOML parser and its tests check
/// every prompt has its WAV files).
fn parse_manifest(text: &str) -> Result<Vec<Prompt>> {
    let mut prompts: Vec<Prompt> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[prompt]]" {
            prompts.push(Prompt::default());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .with_context(|| format!("prompts.toml line {}: not `key = \"value\"`", n + 1))?;
        let value = unquote(value.trim())
            .with_context(|| format!("prompts.toml line {}: bad string", n + 1))?;
        let p = prompts
            .last_mut()
            .with_context(|| format!("prompts.toml line {}: key before [[prompt]]", n + 1))?;
        match key.trim() {
            "id" => p.id = value,
            "zh" => p.zh = value,
            "en" => p.en = value,
            k => bail!("prompts.toml line {}: unknown key {k}", n + 1),
        }
    }
    for p in &prompts {
        if p.id.is_empty() || p.zh.is_empty() || p.en.is_empty() {
            bail!("prompts.toml: a prompt lacks id, zh or en: {p:?}");
        }
    }
    Ok(prompts)
}

/// A one-line TOML basic string (with `\"`, `\\`, `\n`, `\t`, `\uXXXX`).
fn unquote(s: &str) -> Result<String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .context("not a double-quoted string")?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).context("bad \\u escape")?;
                out.push(char::from_u32(code).context("bad \\u escape")?);
            }
            other => bail!("unsupported escape \\{other:?}"),
        }
    }
    Ok(out)
}

/// Runs espeak-ng; returns the WAV it wrote.
fn speak(lang: &Language, text: &str, scratch: &Path) -> Result<Vec<u8>> {
    let wav = scratch.join(format!("espeak-{}.wav", lang.dir));
    let mut child = Command::new("espeak-ng")
        .args([
            "-v",
            lang.voice,
            "-s",
            &lang.speed.to_string(),
            "-z",
            "--stdin",
        ])
        .arg("-w")
        .arg(&wav)
        .stdin(Stdio::piped())
        .spawn()
        .context("starting espeak-ng")?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().context("espeak-ng stdin")?;
        stdin.write_all(text.as_bytes())?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("espeak-ng failed with {status} for {text:?}");
    }
    std::fs::read(&wav).with_context(|| format!("reading {}", wav.display()))
}

/// espeak-ng's WAV → trimmed, filtered 16 kHz samples.
fn process(wav: &[u8]) -> Result<Vec<i16>> {
    let (rate, samples) = read_wav(wav)?;
    let trimmed = trim(&samples, rate);
    if trimmed.is_empty() {
        bail!("espeak-ng produced only silence");
    }
    let filtered = low_pass(trimmed, rate);
    let mut out = resample(&filtered, rate, OUT_RATE);
    fade(&mut out, OUT_RATE);
    Ok(out)
}

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

/// A mono 16-bit PCM WAV: (sample rate, samples).
fn read_wav(b: &[u8]) -> Result<(u32, Vec<i16>)> {
    if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        bail!("espeak-ng output is not a WAV file");
    }
    let mut at = 12;
    let mut rate = None;
    while let (Some(tag), Some(len)) = (b.get(at..at + 4), le32(b, at + 4)) {
        let body = at + 8;
        // espeak-ng writing to a pipe leaves sizes at 0x7fffffff: clamp.
        let end = body.saturating_add(len as usize).min(b.len());
        match tag {
            b"fmt " => {
                let format = le16(b, body).context("short fmt chunk")?;
                let channels = le16(b, body + 2).context("short fmt chunk")?;
                let bits = le16(b, body + 14).context("short fmt chunk")?;
                if (format, channels, bits) != (1, 1, 16) {
                    bail!("espeak-ng WAV is not mono 16-bit PCM");
                }
                rate = Some(le32(b, body + 4).context("short fmt chunk")?);
            }
            b"data" => {
                let data = b.get(body..end).context("short data chunk")?;
                let samples = data
                    .chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect();
                return Ok((rate.context("data before fmt")?, samples));
            }
            _ => {}
        }
        at = end + (end & 1);
    }
    bail!("espeak-ng WAV has no data chunk")
}

/// Drops silence at both ends, keeping a short pad.
fn trim(s: &[i16], rate: u32) -> &[i16] {
    let loud = |x: &i16| i32::from(*x).abs() >= SPEECH_LEVEL;
    let (Some(first), Some(last)) = (s.iter().position(loud), s.iter().rposition(loud)) else {
        return &[];
    };
    let before = (rate * PAD_BEFORE_MS / 1000) as usize;
    let after = (rate * PAD_AFTER_MS / 1000) as usize;
    let start = first.saturating_sub(before);
    let end = (last + 1 + after).min(s.len());
    &s[start..end]
}

/// Windowed-sinc (Blackman) low-pass taps in Q15, summing to 32 768.
fn taps(rate: u32) -> Vec<i64> {
    let fc = CUTOFF_HZ / f64::from(rate);
    let mid = (TAPS / 2) as f64;
    let raw: Vec<f64> = (0..TAPS)
        .map(|i| {
            let x = i as f64 - mid;
            let sinc = if x == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * x).sin() / (std::f64::consts::PI * x)
            };
            let w = 2.0 * std::f64::consts::PI * i as f64 / (TAPS - 1) as f64;
            sinc * (0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos())
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    let mut q: Vec<i64> = raw
        .iter()
        .map(|t| (t / sum * 32_768.0).round() as i64)
        .collect();
    // Rounding may leave the sum off by a few: put the rest in the middle.
    let rest = 32_768 - q.iter().sum::<i64>();
    q[TAPS / 2] += rest;
    q
}

fn low_pass(s: &[i16], rate: u32) -> Vec<i16> {
    let h = taps(rate);
    let half = (TAPS / 2) as isize;
    (0..s.len() as isize)
        .map(|n| {
            let acc: i64 = h
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    let i = n + k as isize - half;
                    let x = if i < 0 {
                        0
                    } else {
                        s.get(i as usize).copied().unwrap_or(0)
                    };
                    t * i64::from(x)
                })
                .sum();
            clamp16((acc + (1 << 14)) >> 15)
        })
        .collect()
}

fn clamp16(v: i64) -> i16 {
    v.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

/// Linear interpolation from `from` Hz to `to` Hz (integer positions).
fn resample(s: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to {
        return s.to_vec();
    }
    let (from, to) = (u64::from(from), u64::from(to));
    let n_out = (s.len() as u64 * to / from) as usize;
    (0..n_out as u64)
        .map(|i| {
            let pos = i * from;
            let idx = (pos / to) as usize;
            let frac = (pos % to) as i64;
            let a = i64::from(s.get(idx).copied().unwrap_or(0));
            let b = i64::from(s.get(idx + 1).copied().unwrap_or(0));
            let to = to as i64;
            clamp16((a * (to - frac) + b * frac + to / 2) / to)
        })
        .collect()
}

/// Short linear fades so the cut points do not click.
fn fade(s: &mut [i16], rate: u32) {
    let n = ((rate * FADE_MS / 1000) as usize).min(s.len() / 2);
    let len = s.len();
    for i in 0..n {
        let g = |x: i16| (i64::from(x) * i as i64 / n as i64) as i16;
        s[i] = g(s[i]);
        s[len - 1 - i] = g(s[len - 1 - i]);
    }
}

/// A canonical 44-byte-header mono 16-bit PCM WAV.
fn wav_bytes(samples: &[i16], rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + samples.len() * 2);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    b.extend_from_slice(&2u16.to_le_bytes()); // block align
    b.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

fn remove_stale(dir: &Path, prompts: &[Prompt]) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path: PathBuf = entry?.path();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let is_wav = path.extension().is_some_and(|e| e == "wav");
        if is_wav && !prompts.iter().any(|p| p.id == stem) {
            eprintln!("xtask: removing stale {}", path.display());
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
