//! The prompt manifest and the prompts' audio.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::{Lang, VoiceError, decode_wav};

/// The manifest compiled into the crate (`assets/voice/prompts.toml`).
const BUILTIN_MANIFEST: &str = include_str!("../../assets/voice/prompts.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    prompt: Vec<ManifestPrompt>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestPrompt {
    id: String,
    zh: String,
    en: String,
}

/// One prompt: its texts and its audio in both languages.
#[derive(Debug)]
struct Entry {
    id: String,
    zh: String,
    en: String,
    audio_zh: Arc<[i16]>,
    audio_en: Arc<[i16]>,
}

impl Entry {
    fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    fn audio(&self, lang: Lang) -> &Arc<[i16]> {
        match lang {
            Lang::Zh => &self.audio_zh,
            Lang::En => &self.audio_en,
        }
    }
}

/// The kiosk's spoken prompts: ids, texts and 16 kHz mono samples.
#[derive(Debug)]
pub struct Prompts {
    dir: PathBuf,
    entries: Vec<Entry>,
}

/// `abc-def-1`: lowercase ASCII letters and digits in words joined by `-`.
fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Parses and checks a manifest: kebab-case, unique ids; no empty text.
fn parse_manifest(text: &str) -> Result<Vec<ManifestPrompt>, VoiceError> {
    let manifest: Manifest =
        toml::from_str(text).map_err(|e| VoiceError::Manifest(e.to_string()))?;
    let mut seen = HashSet::new();
    for p in &manifest.prompt {
        if !is_kebab(&p.id) {
            return Err(VoiceError::Manifest(format!(
                "id {:?} is not kebab-case",
                p.id
            )));
        }
        if !seen.insert(p.id.as_str()) {
            return Err(VoiceError::Manifest(format!("id {:?} appears twice", p.id)));
        }
        if p.zh.trim().is_empty() || p.en.trim().is_empty() {
            return Err(VoiceError::Manifest(format!(
                "prompt {:?} lacks a text",
                p.id
            )));
        }
    }
    Ok(manifest.prompt)
}

/// Loads `dir/LANG/ID.wav`; a missing or bad file is a warning and
/// silence (no samples).
fn load_audio(dir: &Path, id: &str, lang: Lang) -> Arc<[i16]> {
    let path = dir.join(lang.code()).join(format!("{id}.wav"));
    let loaded = std::fs::read(&path)
        .map_err(|source| VoiceError::Io {
            path: path.clone(),
            source,
        })
        .and_then(|bytes| decode_wav(&bytes));
    match loaded {
        Ok(samples) => samples.into(),
        Err(e) => {
            tracing::warn!(prompt = id, %lang, "语音提示将静音 / prompt will be silent: {e}");
            Arc::from(Vec::new())
        }
    }
}

impl Prompts {
    /// The built-in manifest with audio from [`Prompts::default_dir`].
    pub fn builtin() -> Prompts {
        Prompts::load(&Prompts::default_dir())
    }

    /// The built-in manifest with audio from `dir` (holding `zh/` and
    /// `en/`), e.g. the installed kiosk's `/usr/share/…/voice`.
    pub fn load(dir: &Path) -> Prompts {
        match Prompts::from_manifest(BUILTIN_MANIFEST, dir) {
            Ok(p) => p,
            Err(e) => {
                // The crate's tests parse the built-in manifest, so this
                // is unreachable in a tested build; stay silent anyway.
                tracing::error!("{e}");
                Prompts {
                    dir: dir.to_path_buf(),
                    entries: Vec::new(),
                }
            }
        }
    }

    /// A manifest given as TOML text with audio from `dir`.
    pub fn from_manifest(manifest: &str, dir: &Path) -> Result<Prompts, VoiceError> {
        let entries = parse_manifest(manifest)?
            .into_iter()
            .map(|p| Entry {
                audio_zh: load_audio(dir, &p.id, Lang::Zh),
                audio_en: load_audio(dir, &p.id, Lang::En),
                id: p.id,
                zh: p.zh,
                en: p.en,
            })
            .collect();
        Ok(Prompts {
            dir: dir.to_path_buf(),
            entries,
        })
    }

    /// The repository's `assets/voice` (for development; the installed
    /// kiosk passes its own directory to [`Prompts::load`]).
    pub fn default_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/voice")
    }

    /// The directory the audio was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every prompt id, in manifest order.
    pub fn ids(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.id.as_str()).collect()
    }

    fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// What the prompt says, or `None` for an unknown id.
    pub fn text(&self, id: &str, lang: Lang) -> Option<&str> {
        self.entry(id).map(|e| e.text(lang))
    }

    /// The prompt's samples (16 kHz mono; empty when its file was missing),
    /// or `None` for an unknown id.
    pub fn samples(&self, id: &str, lang: Lang) -> Option<Arc<[i16]>> {
        self.entry(id).map(|e| Arc::clone(e.audio(lang)))
    }

    /// Prompts whose audio is missing or unreadable (they play as silence).
    pub fn missing(&self) -> Vec<(&str, Lang)> {
        self.entries
            .iter()
            .flat_map(|e| Lang::ALL.map(|l| (e, l)))
            .filter(|(e, l)| e.audio(*l).is_empty())
            .map(|(e, l)| (e.id.as_str(), l))
            .collect()
    }
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
    fn builtin_manifest_parses_with_unique_kebab_ids() {
        let prompts = parse_manifest(BUILTIN_MANIFEST).unwrap();
        assert!(prompts.len() >= 30, "only {} prompts", prompts.len());
        let ids: HashSet<&str> = prompts.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), prompts.len());
        for id in [
            "welcome",
            "id-card-place",
            "fingerprint-not-matched",
            "submitted-queued",
            "printer-failed",
            "still-there",
            "maintenance",
        ] {
            assert!(ids.contains(id), "{id} missing");
        }
    }

    #[test]
    fn chinese_texts_are_chinese() {
        for p in parse_manifest(BUILTIN_MANIFEST).unwrap() {
            assert!(
                p.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{}: {}",
                p.id,
                p.zh
            );
            assert!(p.en.is_ascii(), "{}: {}", p.id, p.en);
        }
    }

    #[test]
    fn manifest_rules_are_enforced() {
        let dup = "[[prompt]]\nid = \"a\"\nzh = \"一\"\nen = \"one\"\n[[prompt]]\nid = \"a\"\nzh = \"二\"\nen = \"two\"\n";
        assert!(matches!(parse_manifest(dup), Err(VoiceError::Manifest(m)) if m.contains("twice")));
        let snake = "[[prompt]]\nid = \"id_card\"\nzh = \"一\"\nen = \"one\"\n";
        assert!(parse_manifest(snake).is_err());
        let empty = "[[prompt]]\nid = \"a\"\nzh = \" \"\nen = \"one\"\n";
        assert!(parse_manifest(empty).is_err());
        let extra = "[[prompt]]\nid = \"a\"\nzh = \"一\"\nen = \"one\"\nfr = \"un\"\n";
        assert!(parse_manifest(extra).is_err());
        assert!(parse_manifest("not toml =").is_err());
    }

    #[test]
    fn kebab_case() {
        assert!(is_kebab("id-card-read-ok"));
        assert!(is_kebab("step2"));
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "身份证"] {
            assert!(!is_kebab(bad), "{bad}");
        }
    }
}
