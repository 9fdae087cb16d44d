//! Typed configuration: a TOML file, then environment overrides, then
//! command-line flags. The `Config` lives in the app state; nothing reads a
//! global.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Environment variable that overrides [`Config::listen`].
pub const ENV_LISTEN: &str = "BACKEND_LISTEN";
/// Environment variable that overrides [`Config::db`].
pub const ENV_DB: &str = "BACKEND_DB";

/// Backend configuration.
///
/// Every field has a default, so an empty file (or none) is a valid
/// configuration for a demo on one machine.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// Path of the SQLite database file (default `backend.db`).
    pub db: PathBuf,
    /// Administrative division code used in case numbers (default `410403`, 卫东区).
    pub district_code: String,
    /// One-time kiosk enrolment codes; each can enrol one kiosk.
    pub enrolment_codes: Vec<String>,
    /// Whether a new, empty database is seeded with the demo catalogue and cases.
    pub seed: bool,
    /// Template of case numbers: `{district}`, `{yyyy}`, `{yyyyMMdd}`,
    /// `{MM}`, `{dd}`, `{seq:N}` and literal text (default
    /// `{district}{yyyyMMdd}{seq:6}`, e.g. `41040320261128000001`).
    pub case_number_format: String,
    /// Working days left at or below which a deadline shows yellow (临期;
    /// default 2, at most 30). Overdue is red.
    pub deadline_yellow_days: u32,
    /// Whether session cookies carry `Secure` (default true; browsers accept
    /// Secure cookies from `http://localhost` too).
    pub secure_cookies: bool,
    /// Bearer tokens of the city platform for the case event feed.
    pub feed_tokens: Vec<String>,
    /// Public base URL of the portal (default `http://127.0.0.1:8080`): a
    /// receipt's QR code carries `{public_url}/track?case=N&code=C`, and the
    /// kiosk catalogue hands it to the kiosks. No trailing slash.
    pub public_url: String,
    /// Login through the provincial unified identity (统一身份认证) as an
    /// OpenID Connect relying party; absent (the default) turns it off.
    pub oidc: Option<OidcConfig>,
}

/// How the backend authenticates itself at the provider's token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuth {
    /// HTTP Basic with the client id and secret (the OIDC default).
    #[default]
    ClientSecretBasic,
    /// The client id and secret as form fields of the token request.
    ClientSecretPost,
}

/// The `[oidc]` table: the provincial unified identity as an OpenID Connect
/// provider. Production issuers are `https://`; the backend's HTTP client is
/// built without TLS for now (plain `http://` works, e.g. the local test
/// provider), so an `https://` issuer needs reqwest's rustls feature first.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// Issuer URL exactly as the provider names itself (discovery is read
    /// from `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// Client id registered with the provider.
    pub client_id: String,
    /// Client secret registered with the provider.
    pub client_secret: String,
    /// This backend's callback, e.g. `https://zwfw.example/login/oidc/callback`.
    pub redirect_uri: String,
    /// Scopes asked for (default `openid profile`); must include `openid`.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Claim holding the resident identity card number (default `id_number`).
    #[serde(default = "default_id_number_claim")]
    pub id_number_claim: String,
    /// Claim holding the real name (default `name`).
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    /// Client authentication at the token endpoint (default
    /// `client_secret_basic`).
    #[serde(default)]
    pub token_auth: TokenAuth,
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("id_number_claim", &self.id_number_claim)
            .field("name_claim", &self.name_claim)
            .field("token_auth", &self.token_auth)
            .finish()
    }
}

fn default_scopes() -> Vec<String> {
    vec!["openid".to_owned(), "profile".to_owned()]
}

fn default_id_number_claim() -> String {
    "id_number".to_owned()
}

fn default_name_claim() -> String {
    "name".to_owned()
}

impl OidcConfig {
    /// Checks what the types cannot: URLs, a non-empty client, `openid`.
    ///
    /// # Errors
    /// The first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let is_url = |u: &str| {
            (u.starts_with("https://") || u.starts_with("http://"))
                && !u.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        if !is_url(&self.issuer) {
            return Err(ConfigError::Invalid(format!(
                "oidc.issuer must be an http(s) URL, got {:?}",
                self.issuer
            )));
        }
        if !is_url(&self.redirect_uri) {
            return Err(ConfigError::Invalid(format!(
                "oidc.redirect_uri must be an http(s) URL, got {:?}",
                self.redirect_uri
            )));
        }
        if self.client_id.trim().is_empty() || self.client_secret.is_empty() {
            return Err(ConfigError::Invalid(
                "oidc.client_id and oidc.client_secret must not be empty".to_owned(),
            ));
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(ConfigError::Invalid(
                "oidc.scopes must include \"openid\"".to_owned(),
            ));
        }
        if self.id_number_claim.is_empty() || self.name_claim.is_empty() {
            return Err(ConfigError::Invalid(
                "oidc.id_number_claim and oidc.name_claim must not be empty".to_owned(),
            ));
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: PathBuf::from("backend.db"),
            district_code: "410403".to_owned(),
            enrolment_codes: vec!["WD-DEMO-ENROL".to_owned()],
            seed: true,
            case_number_format: casework::ids::CaseNumberFormat::DEFAULT_TEMPLATE.to_owned(),
            deadline_yellow_days: crate::store::DEFAULT_YELLOW_DAYS,
            secure_cookies: true,
            feed_tokens: vec!["WD-DEMO-FEED".to_owned()],
            public_url: "http://127.0.0.1:8080".to_owned(),
            oidc: None,
        }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for [`Config`].
    #[error("invalid config file {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: toml::de::Error,
    },
    /// An environment override could not be parsed.
    #[error("invalid value of {name}: {value:?}")]
    Env {
        /// Variable name.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Parses a configuration from TOML text.
    ///
    /// # Errors
    /// When the text is not valid TOML or has unknown keys.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: origin.to_owned(),
            source,
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a configuration file.
    ///
    /// # Errors
    /// When the file cannot be read or parsed.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path)
    }

    /// Applies overrides from the environment, read through `lookup` so
    /// tests need not change the process environment.
    ///
    /// # Errors
    /// When `BACKEND_LISTEN` is not a socket address.
    pub fn apply_env(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        if let Some(value) = lookup(ENV_LISTEN) {
            self.listen = value.parse().map_err(|_| ConfigError::Env {
                name: ENV_LISTEN,
                value: value.clone(),
            })?;
        }
        if let Some(value) = lookup(ENV_DB) {
            if value.is_empty() {
                return Err(ConfigError::Env {
                    name: ENV_DB,
                    value,
                });
            }
            self.db = PathBuf::from(value);
        }
        Ok(())
    }

    /// Checks values a type cannot express.
    ///
    /// # Errors
    /// When the district code is not six digits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        casework::ids::CaseNumberFormat::parse(&self.case_number_format)
            .map_err(|e| ConfigError::Invalid(format!("case_number_format: {e}")))?;
        if self.deadline_yellow_days > 30 {
            return Err(ConfigError::Invalid(format!(
                "deadline_yellow_days must be 0 to 30, got {}",
                self.deadline_yellow_days
            )));
        }
        if self.district_code.len() != 6 || !self.district_code.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(ConfigError::Invalid(format!(
                "district_code must be six digits, got {:?}",
                self.district_code
            )));
        }
        if self.enrolment_codes.iter().any(|c| c.trim().is_empty()) {
            return Err(ConfigError::Invalid(
                "enrolment_codes must not contain empty codes".to_owned(),
            ));
        }
        let url_ok = (self.public_url.starts_with("https://")
            || self.public_url.starts_with("http://"))
            && !self.public_url.ends_with('/')
            && !self.public_url.contains(['?', '#'])
            && !self
                .public_url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control());
        if !url_ok {
            return Err(ConfigError::Invalid(format!(
                "public_url must be an http(s) URL without a trailing slash, query or fragment, got {:?}",
                self.public_url
            )));
        }
        if let Some(oidc) = &self.oidc {
            oidc.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let text = include_str!("../../backend.example.toml");
        let parsed: Config = toml::from_str(text).unwrap();
        parsed.validate().unwrap();
        assert_eq!(parsed, Config::default());
        // The commented [oidc] example parses too once uncommented.
        let uncommented: String = text
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|r| r.starts_with('[') || r.contains(" = "))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let with_oidc: Config = toml::from_str(&uncommented).unwrap();
        with_oidc.validate().unwrap();
        assert!(with_oidc.oidc.is_some());
    }

    #[test]
    fn empty_file_gives_defaults() {
        let c = Config::from_toml("", Path::new("x.toml")).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.district_code, "410403");
    }

    #[test]
    fn file_then_env_overrides() {
        let mut c = Config::from_toml(
            "listen = \"0.0.0.0:9000\"\ndb = \"/tmp/a.db\"\nenrolment_codes = [\"A\", \"B\"]\nseed = false\n",
            Path::new("x.toml"),
        )
        .unwrap();
        assert_eq!(c.enrolment_codes, ["A", "B"]);
        assert!(!c.seed);
        c.apply_env(|k| match k {
            ENV_LISTEN => Some("127.0.0.1:0".to_owned()),
            ENV_DB => Some("/tmp/b.db".to_owned()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.db, PathBuf::from("/tmp/b.db"));
    }

    #[test]
    fn oidc_table_is_optional_and_checked() {
        assert_eq!(Config::default().oidc, None);
        let c = Config::from_toml(
            "[oidc]\nissuer = \"https://id.example\"\nclient_id = \"wd\"\n\
             client_secret = \"s3cret\"\nredirect_uri = \"https://wd.example/login/oidc/callback\"\n",
            Path::new("x.toml"),
        )
        .unwrap();
        let o = c.oidc.unwrap();
        assert_eq!(o.scopes, ["openid", "profile"]);
        assert_eq!(o.id_number_claim, "id_number");
        assert_eq!(o.name_claim, "name");
        assert_eq!(o.token_auth, TokenAuth::ClientSecretBasic);
        assert!(
            !format!("{o:?}").contains("s3cret"),
            "the secret stays out of logs"
        );
        let no_openid = "[oidc]\nissuer = \"https://id.example\"\nclient_id = \"wd\"\n\
             client_secret = \"s\"\nredirect_uri = \"https://wd.example/cb\"\nscopes = [\"profile\"]\n";
        assert!(Config::from_toml(no_openid, Path::new("x")).is_err());
        let bad_issuer = "[oidc]\nissuer = \"id.example\"\nclient_id = \"wd\"\n\
             client_secret = \"s\"\nredirect_uri = \"https://wd.example/cb\"\n";
        assert!(Config::from_toml(bad_issuer, Path::new("x")).is_err());
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(Config::from_toml("nonsense = 1", Path::new("x")).is_err());
        assert!(Config::from_toml("district_code = \"41\"", Path::new("x")).is_err());
        assert!(Config::from_toml("public_url = \"zwfw.example\"", Path::new("x")).is_err());
        assert!(
            Config::from_toml("public_url = \"https://zwfw.example/\"", Path::new("x")).is_err()
        );
        let c = Config::from_toml(
            "public_url = \"https://zwfw.weidong.example\"",
            Path::new("x"),
        )
        .unwrap();
        assert_eq!(c.public_url, "https://zwfw.weidong.example");
        let mut c = Config::default();
        assert!(
            c.apply_env(|k| (k == ENV_LISTEN).then(|| "nope".to_owned()))
                .is_err()
        );
    }
}
