//! The kiosk's configuration: one TOML file, parsed once in `main` into a
//! typed [`Config`] and passed down. Nothing reads a global.
//!
//! ```toml
//! kiosk_name = "卫东区政务服务中心大厅1号机"
//! location = "卫东区政务服务中心一楼大厅"
//! backend_url = "http://127.0.0.1:8080"
//! enrolment_code = "WD-DEMO-ENROL"
//! data_dir = "/var/lib/kiosk"
//! maintenance_pin = "246810"
//! inactivity_seconds = 60
//! language = "zh"
//!
//! [devices]
//! idcard = "serial:/dev/ttyUSB0?baud=115200"
//! receipt_printer = "tcp:127.0.0.1:9100"
//! ```
//!
//! The local credentials file (`data_dir/credentials.json`) is also
//! described here, since it is a file of this kiosk and not a wire type.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hal::{DeviceKind, Selector};
use serde::{Deserialize, Serialize};

/// The language the screens start in (and return to on every return home).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Language {
    /// 简体中文, the source language of every string.
    #[default]
    #[serde(rename = "zh")]
    Chinese,
    /// English, from the bundled translation.
    #[serde(rename = "en")]
    English,
}

impl Language {
    /// The short code, `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Chinese => "zh",
            Language::English => "en",
        }
    }
}

/// Kiosk configuration.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Human name of the terminal, sent at enrolment.
    pub kiosk_name: String,
    /// Where it stands, sent at enrolment.
    pub location: String,
    /// Base URL of the backend, e.g. `http://127.0.0.1:8080`.
    pub backend_url: String,
    /// One-time enrolment code, used on the first start only.
    pub enrolment_code: String,
    /// Directory for the kiosk's own files (credentials).
    pub data_dir: PathBuf,
    /// PIN of the maintenance screen.
    pub maintenance_pin: String,
    /// Seconds without a touch before the countdown back home starts.
    #[serde(default = "default_inactivity")]
    pub inactivity_seconds: u32,
    /// Start-up language.
    #[serde(default)]
    pub language: Language,
    /// Consultation phone shown on screens and receipts.
    #[serde(default = "default_hotline")]
    pub hotline: String,
    /// Optional access token of the headless remote view.
    #[serde(default)]
    pub remote_view_token: Option<String>,
    /// Whether the on-screen window covers the whole screen (default true).
    #[serde(default = "default_true")]
    pub fullscreen: bool,
    /// ALSA device of the voice prompts (`default`; `none`: no speaker).
    #[serde(default = "default_audio")]
    pub audio_device: String,
    /// Whether prompts start muted (a resident can switch them on and off).
    #[serde(default)]
    pub voice_muted: bool,
    /// Directory of the prompt audio (`zh/`, `en/`); default: the one
    /// shipped in the source tree's `assets/voice`.
    #[serde(default)]
    pub voice_dir: Option<PathBuf>,
    /// Device name → selector string.
    #[serde(default)]
    pub devices: BTreeMap<String, String>,
}

fn default_audio() -> String {
    "default".to_string()
}

fn default_inactivity() -> u32 {
    60
}

fn default_hotline() -> String {
    "0375-12345".to_string()
}

fn default_true() -> bool {
    true
}

impl fmt::Debug for Config {
    /// Leaves the PIN, the enrolment code and the remote-view token out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("kiosk_name", &self.kiosk_name)
            .field("location", &self.location)
            .field("backend_url", &self.backend_url)
            .field("data_dir", &self.data_dir)
            .field("inactivity_seconds", &self.inactivity_seconds)
            .field("language", &self.language)
            .field("hotline", &self.hotline)
            .field("fullscreen", &self.fullscreen)
            .field("audio_device", &self.audio_device)
            .field("voice_muted", &self.voice_muted)
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML for [`Config`].
    #[error("invalid config file {path}")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A device selector does not parse.
    #[error("device {name}: invalid selector {selector:?}")]
    Selector {
        name: String,
        selector: String,
        #[source]
        source: hal::DeviceError,
    },
}

/// The device roles the kiosk knows, by their name in `[devices]`.
pub const KNOWN_DEVICES: &[(&str, DeviceKind)] = &[
    ("idcard", DeviceKind::IdCardReader),
    ("receipt_printer", DeviceKind::ReceiptPrinter),
    ("fingerprint", DeviceKind::FingerprintScanner),
    ("scanner", DeviceKind::BarcodeScanner),
    ("card_reader", DeviceKind::CardReader),
    ("pin_pad", DeviceKind::PinPad),
    ("a4_printer", DeviceKind::DocumentPrinter),
    ("face_camera", DeviceKind::Camera),
    ("doc_camera", DeviceKind::DocumentCamera),
];

/// One configured device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEntry {
    /// Name in `[devices]`.
    pub name: String,
    /// Its class.
    pub kind: DeviceKind,
    /// Where it is; [`Selector::None`] when not fitted.
    pub selector: Selector,
}

impl Config {
    /// Parses a configuration from TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: origin.to_owned(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Checks what the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.backend_url.starts_with("http://") || self.backend_url.starts_with("https://")) {
            return Err(ConfigError::Invalid(format!(
                "backend_url must start with http:// or https://, got {:?}",
                self.backend_url
            )));
        }
        if self.maintenance_pin.len() < 4
            || self.maintenance_pin.len() > 12
            || !self.maintenance_pin.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ConfigError::Invalid(
                "maintenance_pin must be 4 to 12 digits".into(),
            ));
        }
        if !(10..=3600).contains(&self.inactivity_seconds) {
            return Err(ConfigError::Invalid(
                "inactivity_seconds must be between 10 and 3600".into(),
            ));
        }
        if self.kiosk_name.trim().is_empty() {
            return Err(ConfigError::Invalid("kiosk_name must not be empty".into()));
        }
        for name in self.devices.keys() {
            if !KNOWN_DEVICES.iter().any(|(n, _)| n == name) {
                let known: Vec<&str> = KNOWN_DEVICES.iter().map(|(n, _)| *n).collect();
                return Err(ConfigError::Invalid(format!(
                    "unknown device {name:?} in [devices]; known devices: {}",
                    known.join(", ")
                )));
            }
        }
        self.device_entries().map(|_| ())
    }

    /// Every configured device with its parsed selector, in name order.
    pub fn device_entries(&self) -> Result<Vec<DeviceEntry>, ConfigError> {
        let mut out = Vec::new();
        for (name, text) in &self.devices {
            let Some((_, kind)) = KNOWN_DEVICES.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let selector: Selector = text.parse().map_err(|source| ConfigError::Selector {
                name: name.clone(),
                selector: text.clone(),
                source,
            })?;
            out.push(DeviceEntry {
                name: name.clone(),
                kind: *kind,
                selector,
            });
        }
        Ok(out)
    }

    /// The selector of the device named `name`, if configured and fitted.
    pub fn device(&self, name: &str) -> Result<Option<Selector>, ConfigError> {
        Ok(self
            .device_entries()?
            .into_iter()
            .find(|d| d.name == name)
            .map(|d| d.selector)
            .filter(|s| *s != Selector::None))
    }

    /// The inactivity limit as a duration.
    pub fn inactivity(&self) -> Duration {
        Duration::from_secs(u64::from(self.inactivity_seconds))
    }

    /// Where the enrolment credentials are kept.
    pub fn credentials_path(&self) -> PathBuf {
        self.data_dir.join("credentials.json")
    }
}

/// What enrolment gave this kiosk, kept in `data_dir/credentials.json`
/// with mode 0600.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The backend the kiosk enrolled with; a different `backend_url`
    /// means enrolling again.
    pub backend_url: String,
    /// Identifier the backend assigned.
    pub kiosk_id: String,
    /// Bearer token for every kiosk call.
    pub token: String,
}

impl fmt::Debug for Credentials {
    /// Never prints the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("backend_url", &self.backend_url)
            .field("kiosk_id", &self.kiosk_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Reads credentials; `Ok(None)` when the file does not exist.
    pub fn load(path: &Path) -> std::io::Result<Option<Credentials>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes credentials atomically (temp file, then rename), readable
    /// by the owner only.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        #[cfg(unix)]
        use std::os::unix::fs::OpenOptionsExt;

        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&tmp)?;
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        file.write_all(&json)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const EXAMPLE: &str = include_str!("../kiosk.example.toml");

    #[test]
    fn the_example_file_parses() {
        let c = Config::from_toml(EXAMPLE, Path::new("kiosk.example.toml")).unwrap();
        assert_eq!(c.inactivity_seconds, 60);
        assert_eq!(c.language, Language::Chinese);
        let devices = c.device_entries().unwrap();
        assert_eq!(devices.len(), 5);
        assert_eq!(
            c.device("receipt_printer").unwrap().unwrap().to_string(),
            "tcp:127.0.0.1:9100"
        );
        assert!(matches!(
            c.device("face_camera").unwrap(),
            Some(Selector::V4l { .. })
        ));
        assert!(matches!(
            c.device("doc_camera").unwrap(),
            Some(Selector::Http { .. })
        ));
        assert!(matches!(
            c.device("idcard").unwrap(),
            Some(Selector::Serial { .. })
        ));
    }

    #[test]
    fn defaults_and_none_selectors() {
        let text = "kiosk_name = \"k\"\nlocation = \"l\"\nbackend_url = \"http://x\"\nenrolment_code = \"C\"\ndata_dir = \"/tmp/k\"\nmaintenance_pin = \"9876\"\n[devices]\nidcard = \"none\"\n";
        let c = Config::from_toml(text, Path::new("t")).unwrap();
        assert_eq!(c.inactivity_seconds, 60);
        assert!(c.fullscreen);
        assert_eq!(c.device("idcard").unwrap(), None);
        assert_eq!(c.device("receipt_printer").unwrap(), None);
        assert!(
            !format!("{c:?}").contains("9876"),
            "the PIN stays out of logs"
        );
    }

    #[test]
    fn bad_values_are_rejected() {
        let base =
            "kiosk_name = \"k\"\nlocation = \"l\"\nenrolment_code = \"C\"\ndata_dir = \"/tmp/k\"\n";
        let ok = format!("{base}backend_url = \"http://x\"\nmaintenance_pin = \"1234\"\n");
        assert!(Config::from_toml(&ok, Path::new("t")).is_ok());
        assert!(
            Config::from_toml(
                &format!("{base}backend_url = \"ftp://x\"\nmaintenance_pin = \"1234\"\n"),
                Path::new("t")
            )
            .is_err()
        );
        assert!(
            Config::from_toml(
                &format!("{base}backend_url = \"http://x\"\nmaintenance_pin = \"12a4\"\n"),
                Path::new("t")
            )
            .is_err()
        );
        assert!(Config::from_toml(&format!("{ok}surprise = 1\n"), Path::new("t")).is_err());
        assert!(Config::from_toml(&format!("{ok}language = \"fr\"\n"), Path::new("t")).is_err());
        assert!(
            Config::from_toml(
                &format!("{ok}[devices]\ncoffee_machine = \"serial:/dev/x\"\n"),
                Path::new("t")
            )
            .is_err()
        );
        assert!(
            Config::from_toml(
                &format!("{ok}[devices]\nidcard = \"bogus:/dev/x\"\n"),
                Path::new("t")
            )
            .is_err()
        );
    }

    #[test]
    fn credentials_round_trip_with_owner_only_mode() {
        let dir = std::env::temp_dir().join(format!(
            "kiosk-cred-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4()
        ));
        let path = dir.join("credentials.json");
        assert!(Credentials::load(&path).unwrap().is_none());
        let c = Credentials {
            backend_url: "http://x".into(),
            kiosk_id: "K1".into(),
            token: "secret".into(),
        };
        c.save(&path).unwrap();
        assert_eq!(Credentials::load(&path).unwrap(), Some(c.clone()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!format!("{c:?}").contains("secret"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
