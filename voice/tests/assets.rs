//! The committed audio in assets/voice matches the manifest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;

use voice::{Lang, Prompts, SAMPLE_RATE};

/// Reads the canonical header fields independently of the crate's decoder.
fn header(bytes: &[u8]) -> (u16, u16, u32, u16, usize) {
    let u16_at = |at: usize| u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    assert_eq!(&bytes[36..40], b"data");
    assert_eq!(u32_at(4) as usize, bytes.len() - 8, "RIFF size");
    assert_eq!(u32_at(40) as usize, bytes.len() - 44, "data size");
    (
        u16_at(20),
        u16_at(22),
        u32_at(24),
        u16_at(34),
        bytes.len() - 44,
    )
}

#[test]
fn every_prompt_has_both_wav_files_of_sensible_length() {
    let prompts = Prompts::builtin();
    let ids = prompts.ids();
    assert!(ids.len() >= 30);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "ids are unique"
    );
    for id in &ids {
        for lang in Lang::ALL {
            let path = Prompts::default_dir()
                .join(lang.code())
                .join(format!("{id}.wav"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let (format, channels, rate, bits, data) = header(&bytes);
            assert_eq!(
                (format, channels, rate, bits),
                (1, 1, SAMPLE_RATE, 16),
                "{}",
                path.display()
            );
            let seconds = data as f64 / 2.0 / f64::from(SAMPLE_RATE);
            assert!(
                (0.3..=12.0).contains(&seconds),
                "{}: {seconds:.2} s",
                path.display()
            );
            let samples = prompts.samples(id, lang).unwrap();
            assert_eq!(samples.len() * 2, data, "{id}/{lang} loaded whole");
            // Speech, not silence: some samples are loud.
            let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
            assert!(peak > 3000, "{id}/{lang} peak {peak}");
        }
    }
    assert!(prompts.missing().is_empty(), "{:?}", prompts.missing());
}

#[test]
fn no_stray_wav_files() {
    let prompts = Prompts::builtin();
    let ids: HashSet<&str> = prompts.ids().into_iter().collect();
    for lang in Lang::ALL {
        for entry in std::fs::read_dir(Prompts::default_dir().join(lang.code())).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            assert!(
                ids.contains(stem.as_str()),
                "{} is in no prompt",
                path.display()
            );
        }
    }
}

#[test]
fn assets_stay_small() {
    fn size(dir: &std::path::Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    size(&e.path())
                } else {
                    e.metadata().unwrap().len()
                }
            })
            .sum()
    }
    let total = size(&Prompts::default_dir());
    assert!(total < 10_500_000, "assets/voice is {total} bytes");
}

#[test]
fn texts_for_the_maintenance_screen() {
    let prompts = Prompts::builtin();
    assert_eq!(
        prompts.text("welcome", Lang::Zh),
        Some("欢迎使用卫东区政务服务自助终端，请点击屏幕选择您要办理的业务。")
    );
    assert!(
        prompts
            .text("id-card-place", Lang::En)
            .unwrap()
            .contains("ID card")
    );
    assert_eq!(prompts.text("no-such-prompt", Lang::Zh), None);
    assert!(prompts.samples("no-such-prompt", Lang::Zh).is_none());
}

#[test]
fn missing_files_are_silence_not_a_crash() {
    let empty = std::env::temp_dir().join(format!("voice-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let prompts = Prompts::load(&empty);
    assert_eq!(prompts.ids().len(), Prompts::builtin().ids().len());
    assert_eq!(prompts.missing().len(), 2 * prompts.ids().len());
    assert_eq!(prompts.samples("welcome", Lang::Zh).unwrap().len(), 0);
    assert!(prompts.text("welcome", Lang::En).is_some());
    std::fs::remove_dir_all(&empty).unwrap();
}
