//! Spoken prompts of the kiosk (语音提示): every step of a journey can be
//! spoken in 简体中文 or English, e.g. “请将身份证放在感应区”.
//!
//! * [`Prompts`] is the manifest `assets/voice/prompts.toml` (compiled in)
//!   with its audio, 16 kHz mono 16-bit WAV files made by espeak-ng at
//!   build time (`cargo xtask voice`) and loaded from a directory at run
//!   time. A missing or bad file is a logged warning and silence.
//! * [`Voice`] plays prompts through ALSA on a player thread:
//!   [`Voice::say`] returns at once, a newer prompt interrupts the one
//!   playing, and [`Voice::set_muted`] silences it. Without a sound card
//!   (or with a wrong device name) it logs once and stays silent; the kiosk
//!   never fails for lack of a speaker. [`Voice::status`] is for the
//!   maintenance screen.
//!
//! ```no_run
//! use voice::{Lang, Prompts, Voice};
//!
//! let voice = Voice::new("default", Prompts::builtin(), false);
//! voice.say("id-card-place", Lang::Zh);
//! assert!(voice.prompts().text("id-card-place", Lang::Zh).is_some());
//! ```

mod player;
mod prompts;
mod wav;

use std::fmt;
use std::path::PathBuf;

pub use player::{Status, Voice};
pub use prompts::Prompts;
pub use wav::{SAMPLE_RATE, decode_wav, encode_wav};

/// The language a prompt is spoken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// 简体中文 (Mandarin).
    Zh,
    /// English.
    En,
}

impl Lang {
    /// Both languages, Chinese first.
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The short code, which is also the audio directory's name: `zh`, `en`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What can go wrong with the prompts' manifest and audio files.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// The manifest is not valid TOML or breaks its rules.
    #[error("语音提示清单无效 / the prompt manifest is invalid: {0}")]
    Manifest(String),
    /// An audio file could not be read.
    #[error("无法读取语音文件 {path} / cannot read the voice file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An audio file is not a 16 kHz mono 16-bit PCM WAV.
    #[error("语音文件格式不符 / the voice file is not 16 kHz mono 16-bit PCM WAV: {0}")]
    Wav(String),
}
