//! Login through the provincial unified identity (统一身份认证): this
//! backend is an OpenID Connect relying party (authorization code flow with
//! PKCE S256, a confidential client).
//!
//! [`OidcClient::begin`] reads the provider's discovery document (cached for
//! an hour), stores a single-use `state` with its `nonce`, PKCE verifier,
//! return path and the SM3 of a browser-binding cookie, and answers the URL
//! of the authorization endpoint. [`OidcClient::finish`] takes that state
//! back (unknown, expired after 10 minutes, or from another browser: refused),
//! exchanges the code with the verifier at the token endpoint, validates the
//! ID token ([`validate_id_token`]: RS256/ES256 signature from the
//! provider's JWKS, `iss`, `aud`/`azp`, `exp`/`iat` with a minute of leeway,
//! `nonce`), reads the real-name claims (from the ID token, else from the
//! userinfo endpoint) and signs in ([`sign_in`]): the account linked to the
//! identity (issuer + subject); else the person account whose bound identity
//! number is the claimed one (then linked); else a new person account with
//! the claimed name and number and an unusable password. The session is an
//! ordinary portal session.
//!
//! The HTTP client is reqwest without TLS: enough for a provider on the
//! local network and for the tests; a production `https://` issuer needs
//! reqwest's rustls feature enabled first. Tokens, codes and claims are
//! never logged.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use sm3::Sm3;
use tokio::sync::Mutex;

use crate::config::{OidcConfig, TokenAuth};
use crate::service::privacy::{gb11643_valid, mask_id};
use crate::service::time::rfc3339_china;
use crate::store::{AuditRecord, OidcPendingRow, Store, StoreError};

/// How long a begun login may take before its state is refused (seconds).
pub const PENDING_TTL_SECS: i64 = 600;
/// Clock difference tolerated on `exp`, `iat` and `nbf` (seconds).
pub const LEEWAY_SECS: i64 = 60;
/// The oldest `iat` accepted: an ID token is fresh from the token endpoint.
const MAX_ID_TOKEN_AGE_SECS: i64 = 600;
/// How long discovery and keys are kept before they are read again.
const CACHE_SECS: i64 = 3600;
/// Largest answer read from the provider.
const MAX_BODY: usize = 256 * 1024;
/// Name of the cookie that binds a pending login to the browser that began it.
pub const BROWSER_COOKIE: &str = "wd_oidc";

/// Why a login through the unified identity failed. Each has a message in
/// Chinese and English for the resident ([`OidcError::messages`]); the
/// detail is for the log only.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The provider could not be reached or answered something unusable.
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    /// The `state` is unknown, used, expired, or from another browser.
    #[error("login state unknown, expired or not from this browser")]
    BadState,
    /// The provider sent the resident back with an error (e.g. consent refused).
    #[error("the provider refused the login: {0}")]
    Denied(String),
    /// The token endpoint refused the code (used, expired, wrong verifier).
    #[error("code exchange refused: {0}")]
    CodeRejected(String),
    /// The ID token failed a check.
    #[error("id token invalid: {0}")]
    IdTokenInvalid(&'static str),
    /// The provider gave no real name or no identity number.
    #[error("real-name claims missing")]
    ClaimsMissing,
    /// The claimed identity number fails the GB 11643 check.
    #[error("claimed identity number is malformed")]
    IdNumberInvalid,
    /// The claimed name differs from the name bound to the number's account.
    #[error("claimed name differs from the account bound to the number")]
    NameMismatch,
    /// The account is disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// Something that should not happen.
    #[error("internal: {0}")]
    Internal(String),
}

impl OidcError {
    /// A stable machine code, also written to the audit log.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "OIDC_PROVIDER_UNAVAILABLE",
            Self::BadState => "OIDC_BAD_STATE",
            Self::Denied(_) => "OIDC_DENIED",
            Self::CodeRejected(_) => "OIDC_CODE_REJECTED",
            Self::IdTokenInvalid(_) => "OIDC_ID_TOKEN_INVALID",
            Self::ClaimsMissing => "OIDC_CLAIMS_MISSING",
            Self::IdNumberInvalid => "OIDC_ID_NUMBER_INVALID",
            Self::NameMismatch => "OIDC_NAME_MISMATCH",
            Self::AccountDisabled => "OIDC_ACCOUNT_DISABLED",
            Self::Store(_) | Self::Internal(_) => "INTERNAL",
        }
    }

    /// The message for the resident, in Chinese and in English.
    #[must_use]
    pub fn messages(&self) -> (&'static str, &'static str) {
        match self {
            Self::Unavailable(_) => (
                "统一身份认证服务暂时无法访问，请稍后再试，或使用手机号码和密码登录。",
                "The provincial identity service cannot be reached. Try again later, or log in with your phone number and password.",
            ),
            Self::BadState => (
                "登录请求无效或已过期（超过10分钟、已使用或不是从本浏览器发起），请重新登录。",
                "The login request is unknown or has expired (over 10 minutes, already used, or begun in another browser). Please log in again.",
            ),
            Self::Denied(_) => (
                "统一身份认证未完成授权，您可以重新登录。",
                "The provincial identity service did not grant the login. You can try again.",
            ),
            Self::CodeRejected(_) => (
                "登录凭据无效或已被使用，请重新登录。",
                "The login code is invalid or was already used. Please log in again.",
            ),
            Self::IdTokenInvalid(_) => (
                "统一身份认证返回的身份凭证未通过校验，请重新登录。",
                "The identity token from the provincial service failed verification. Please log in again.",
            ),
            Self::ClaimsMissing => (
                "统一身份认证未提供姓名和身份证号码，无法登录。请在统一身份认证完成实名认证后再试。",
                "The provincial identity service gave no real name and ID number. Complete real-name verification there and try again.",
            ),
            Self::IdNumberInvalid => (
                "统一身份认证提供的身份证号码校验未通过，请联系12345热线。",
                "The ID number from the provincial identity service fails its check. Please call the 12345 hotline.",
            ),
            Self::NameMismatch => (
                "统一身份认证的姓名与本网站实名账户不一致，请使用手机号码登录或联系12345热线。",
                "The name from the provincial identity service differs from the real name bound here. Log in with your phone number or call 12345.",
            ),
            Self::AccountDisabled => (
                "该账户已停用，请联系12345热线。",
                "This account is disabled. Please call the 12345 hotline.",
            ),
            Self::Store(_) | Self::Internal(_) => (
                "服务器内部错误，请稍后再试。",
                "Internal server error. Please try again later.",
            ),
        }
    }
}

/// The parts of the provider's discovery document this client uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    /// The issuer; must equal the configured one.
    pub issuer: String,
    /// Where the browser is sent.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The signing keys.
    pub jwks_uri: String,
    /// Claims for an access token, when the ID token lacks them.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

#[derive(Debug)]
struct Cached {
    issuer: String,
    discovery: Discovery,
    keys: Vec<Jwk>,
    fetched_unix: i64,
}

/// The HTTP client towards the provider, with its discovery and key cache.
/// One per process; cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct OidcClient {
    http: reqwest::Client,
    cache: Mutex<Option<Cached>>,
}

/// A begun login: send the browser to `authorize_url` and set
/// [`BROWSER_COOKIE`] to `browser_token`.
#[derive(Clone)]
pub struct Begun {
    /// The authorization endpoint with every parameter.
    pub authorize_url: String,
    /// The value of the browser-binding cookie.
    pub browser_token: String,
}

impl std::fmt::Debug for Begun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Begun").finish_non_exhaustive()
    }
}

/// The query of the callback, as the provider sent it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// The state given at the start.
    #[serde(default)]
    pub state: Option<String>,
    /// The issuer (RFC 9207), when the provider sends it.
    #[serde(default)]
    pub iss: Option<String>,
    /// An error code instead of a code (e.g. `access_denied`).
    #[serde(default)]
    pub error: Option<String>,
}

/// A finished login: a portal session.
#[derive(Clone)]
pub struct Finished {
    /// The session token (the `wd_session` cookie).
    pub session_token: String,
    /// The account logged in to.
    pub account_id: i64,
    /// How the identity found its account.
    pub how: Mapping,
    /// The local path to go to next.
    pub next: String,
}

impl std::fmt::Debug for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Finished")
            .field("account_id", &self.account_id)
            .field("how", &self.how)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// How an identity of the provider found its portal account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Through an existing issuer + subject link.
    Linked,
    /// Through the bound identity number (the link is made now).
    ByIdNumber,
    /// A new person account was made.
    Created,
}

impl Mapping {
    /// The code written to the audit log.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Linked => "linked",
            Self::ByIdNumber => "id_number",
            Self::Created => "created",
        }
    }
}

/// What the ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The configured issuer (`iss`).
    pub issuer: &'a str,
    /// This client (`aud`, `azp`).
    pub client_id: &'a str,
    /// The nonce stored with the state.
    pub nonce: &'a str,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims of a validated ID token.
#[derive(Clone, Deserialize)]
pub struct IdClaims {
    /// Issuer.
    pub iss: String,
    /// Subject: the resident's stable id at the provider.
    pub sub: String,
    aud: Audience,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    /// Every other claim (names, numbers: personal data, never logged).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl std::fmt::Debug for IdClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdClaims")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .finish_non_exhaustive()
    }
}

/// The signing algorithms accepted (asymmetric only: a key from the JWKS
/// can never be used as an HMAC secret).
fn accepted(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::RS256 | Algorithm::ES256)
}

fn key_fits(k: &Jwk, alg: Algorithm) -> bool {
    if matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return false;
    }
    let declared_ok = match k.common.key_algorithm {
        None => true,
        Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
        Some(_) => false,
    };
    let family_ok = match (&k.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        _ => false,
    };
    declared_ok && family_ok
}

/// The key of `keys` that signed a token with `alg` and `kid`: the one
/// with that `kid`, or, without a `kid`, the only key that fits.
fn pick_key<'k>(keys: &'k [Jwk], alg: Algorithm, kid: Option<&str>) -> Option<&'k Jwk> {
    let mut fitting = keys
        .iter()
        .filter(|k| key_fits(k, alg))
        .filter(|k| match kid {
            Some(kid) => k.common.key_id.as_deref() == Some(kid),
            None => true,
        });
    let first = fitting.next()?;
    if kid.is_none() && fitting.next().is_some() {
        return None;
    }
    Some(first)
}

/// Validates an ID token: an accepted algorithm (RS256 or ES256), the
/// signature by a key of `keys`, `iss`, `aud` (and `azp` when there are
/// several audiences), `exp` and `nbf` with [`LEEWAY_SECS`], an `iat` not in
/// the future nor older than ten minutes, and the `nonce`.
///
/// # Errors
/// [`OidcError::IdTokenInvalid`] naming the failed check (`no matching key`
/// when no key of `keys` fits: the caller may read the JWKS again).
pub fn validate_id_token(
    token: &str,
    keys: &[Jwk],
    expected: &Expected<'_>,
    now: DateTime<Utc>,
) -> Result<IdClaims, OidcError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| OidcError::IdTokenInvalid("malformed"))?;
    if !accepted(header.alg) {
        return Err(OidcError::IdTokenInvalid("algorithm not accepted"));
    }
    let jwk = pick_key(keys, header.alg, header.kid.as_deref())
        .ok_or(OidcError::IdTokenInvalid("no matching key"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| OidcError::IdTokenInvalid("unusable key"))?;
    let mut v = Validation::new(header.alg);
    // Times are checked below against the `now` passed in.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_issuer(&[expected.issuer]);
    v.set_audience(&[expected.client_id]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = jsonwebtoken::decode::<IdClaims>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        OidcError::IdTokenInvalid(match e.kind() {
            ErrorKind::InvalidSignature => "signature",
            ErrorKind::InvalidIssuer => "iss",
            ErrorKind::InvalidAudience => "aud",
            ErrorKind::MissingRequiredClaim(_) => "claim missing",
            ErrorKind::InvalidAlgorithm => "algorithm",
            ErrorKind::Json(_) => "claims",
            _ => "malformed",
        })
    })?;
    let c = data.claims;
    check_claims(&c, expected, now.timestamp())?;
    Ok(c)
}

fn check_claims(c: &IdClaims, expected: &Expected<'_>, now: i64) -> Result<(), OidcError> {
    if c.iss != expected.issuer {
        return Err(OidcError::IdTokenInvalid("iss"));
    }
    let several = match &c.aud {
        Audience::One(a) => {
            if a != expected.client_id {
                return Err(OidcError::IdTokenInvalid("aud"));
            }
            false
        }
        Audience::Many(list) => {
            if !list.iter().any(|a| a == expected.client_id) {
                return Err(OidcError::IdTokenInvalid("aud"));
            }
            list.len() > 1
        }
    };
    match c.azp.as_deref() {
        Some(azp) if azp != expected.client_id => return Err(OidcError::IdTokenInvalid("azp")),
        None if several => return Err(OidcError::IdTokenInvalid("azp")),
        _ => {}
    }
    if c.exp.saturating_add(LEEWAY_SECS) < now {
        return Err(OidcError::IdTokenInvalid("expired"));
    }
    if c.iat.saturating_sub(LEEWAY_SECS) > now {
        return Err(OidcError::IdTokenInvalid("issued in the future"));
    }
    if c.iat.saturating_add(MAX_ID_TOKEN_AGE_SECS + LEEWAY_SECS) < now {
        return Err(OidcError::IdTokenInvalid("issued too long ago"));
    }
    if c.nbf
        .is_some_and(|nbf| nbf.saturating_sub(LEEWAY_SECS) > now)
    {
        return Err(OidcError::IdTokenInvalid("not yet valid"));
    }
    if c.nonce.as_deref() != Some(expected.nonce) {
        return Err(OidcError::IdTokenInvalid("nonce"));
    }
    if c.sub.is_empty() || c.sub.len() > 255 {
        return Err(OidcError::IdTokenInvalid("sub"));
    }
    Ok(())
}

/// The PKCE S256 challenge of a verifier (RFC 7636).
#[must_use]
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// 32 random bytes as unpadded base64url (43 characters).
fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

fn sm3_hex(s: &str) -> String {
    hex::encode(<Sm3 as sm3::Digest>::digest(s.as_bytes()))
}

/// `application/x-www-form-urlencoded` encoding of one value (RFC 6749
/// appendix B, as client_secret_basic requires before base64).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*') {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A string claim, trimmed, if present and not empty.
fn claim_str(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<Value>,
}

impl OidcClient {
    /// A client with short timeouts that never follows redirects.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new() -> Result<Self, OidcError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("weidong-backend/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| OidcError::Internal(format!("http client: {e}")))?;
        Ok(Self {
            http,
            cache: Mutex::new(None),
        })
    }

    async fn read_body(resp: reqwest::Response, what: &str) -> Result<Vec<u8>, OidcError> {
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| OidcError::Unavailable(format!("{what}: {e}")))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err(OidcError::Unavailable(format!("{what}: answer too large")));
            }
        }
        Ok(body)
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        bearer: Option<&str>,
        what: &str,
    ) -> Result<T, OidcError> {
        let mut req = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| OidcError::Unavailable(format!("{what}: {e}")))?;
        let status = resp.status();
        let body = Self::read_body(resp, what).await?;
        if !status.is_success() {
            return Err(OidcError::Unavailable(format!("{what}: HTTP {status}")));
        }
        serde_json::from_slice(&body).map_err(|e| OidcError::Unavailable(format!("{what}: {e}")))
    }

    /// Discovery and keys, from the cache or read anew (`fresh_keys` forces
    /// the JWKS to be read again, for a key the cache does not have).
    async fn provider(
        &self,
        cfg: &OidcConfig,
        now: i64,
        fresh_keys: bool,
    ) -> Result<(Discovery, Vec<Jwk>), OidcError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && c.issuer == cfg.issuer
            && (0..CACHE_SECS).contains(&(now - c.fetched_unix))
            && !fresh_keys
        {
            return Ok((c.discovery.clone(), c.keys.clone()));
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            cfg.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url, None, "discovery").await?;
        if discovery.issuer != cfg.issuer {
            return Err(OidcError::Unavailable(format!(
                "discovery names issuer {:?}, configured {:?}",
                discovery.issuer, cfg.issuer
            )));
        }
        let jwks: JwksDoc = self.get_json(&discovery.jwks_uri, None, "jwks").await?;
        // Keys of a kind this crate does not know are skipped, not fatal.
        let keys: Vec<Jwk> = jwks
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value(k).ok())
            .collect();
        if keys.is_empty() {
            return Err(OidcError::Unavailable("jwks: no usable key".to_owned()));
        }
        *cache = Some(Cached {
            issuer: cfg.issuer.clone(),
            discovery: discovery.clone(),
            keys: keys.clone(),
            fetched_unix: now,
        });
        Ok((discovery, keys))
    }

    /// Begins a login: stores a fresh state, nonce and PKCE verifier (and
    /// drops those older than ten minutes) and answers where to send the
    /// browser. `next` must already be a safe local path.
    ///
    /// # Errors
    /// `Unavailable` when discovery fails; a storage failure.
    pub async fn begin(
        &self,
        store: &Store,
        cfg: &OidcConfig,
        next: &str,
        now: DateTime<Utc>,
    ) -> Result<Begun, OidcError> {
        let (discovery, _) = self.provider(cfg, now.timestamp(), false).await?;
        let mut url = reqwest::Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| OidcError::Unavailable(format!("authorization_endpoint: {e}")))?;
        let browser_token = random_token();
        let pending = OidcPendingRow {
            state: random_token(),
            nonce: random_token(),
            verifier: random_token(),
            browser_sm3: sm3_hex(&browser_token),
            next_path: next.to_owned(),
            created_unix: now.timestamp(),
        };
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &cfg.client_id)
            .append_pair("redirect_uri", &cfg.redirect_uri)
            .append_pair("scope", &cfg.scopes.join(" "))
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &pkce_challenge(&pending.verifier))
            .append_pair("code_challenge_method", "S256");
        store
            .write(move |tx| {
                tx.purge_oidc_pending(pending.created_unix - PENDING_TTL_SECS)?;
                tx.insert_oidc_pending(&pending)?;
                Ok::<_, OidcError>(())
            })
            .await?;
        Ok(Begun {
            authorize_url: url.into(),
            browser_token,
        })
    }

    /// Finishes a login at the callback: checks the state against the
    /// browser's cookie, exchanges the code, validates the ID token, finds
    /// or makes the account and opens a session. Failures (other than
    /// storage ones) are written to the audit log as `login.oidc_failed`.
    ///
    /// # Errors
    /// Any [`OidcError`].
    pub async fn finish(
        &self,
        store: &Store,
        cfg: &OidcConfig,
        callback: Callback,
        browser_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Finished, OidcError> {
        let result = self
            .finish_inner(store, cfg, callback, browser_token, now)
            .await;
        if let Err(e) = &result
            && !matches!(e, OidcError::Store(_))
        {
            let record = AuditRecord {
                at: rfc3339_china(now),
                actor: "anonymous".to_owned(),
                role: "anonymous".to_owned(),
                action: "login.oidc_failed".to_owned(),
                object: "account".to_owned(),
                detail: e.code().to_owned(),
                ..AuditRecord::default()
            };
            let audited = store
                .write(move |tx| tx.audit(&record).map_err(OidcError::from))
                .await;
            if let Err(a) = audited {
                tracing::error!(error = %a, "auditing a failed unified-identity login");
            }
        }
        result
    }

    async fn finish_inner(
        &self,
        store: &Store,
        cfg: &OidcConfig,
        callback: Callback,
        browser_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Finished, OidcError> {
        let state = callback
            .state
            .filter(|s| !s.is_empty() && s.len() <= 200)
            .ok_or(OidcError::BadState)?;
        let unix = now.timestamp();
        let pending = store
            .write(move |tx| {
                tx.purge_oidc_pending(unix - PENDING_TTL_SECS)?;
                tx.take_oidc_pending(&state).map_err(OidcError::from)
            })
            .await?
            .ok_or(OidcError::BadState)?;
        let same_browser = browser_token.is_some_and(|t| sm3_hex(t) == pending.browser_sm3);
        if !same_browser || unix - pending.created_unix > PENDING_TTL_SECS {
            return Err(OidcError::BadState);
        }
        if let Some(error) = callback.error {
            let code: String = error
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(40)
                .collect();
            return Err(OidcError::Denied(code));
        }
        if callback.iss.as_deref().is_some_and(|iss| iss != cfg.issuer) {
            return Err(OidcError::IdTokenInvalid(
                "iss of the authorization response",
            ));
        }
        let code = callback
            .code
            .filter(|c| !c.is_empty())
            .ok_or(OidcError::BadState)?;
        let (discovery, keys) = self.provider(cfg, unix, false).await?;
        let answer = self
            .exchange(&discovery, cfg, &code, &pending.verifier)
            .await?;
        let id_token = answer
            .id_token
            .ok_or(OidcError::IdTokenInvalid("no id_token in the answer"))?;
        let expected = Expected {
            issuer: &cfg.issuer,
            client_id: &cfg.client_id,
            nonce: &pending.nonce,
        };
        let claims = match validate_id_token(&id_token, &keys, &expected, now) {
            Err(OidcError::IdTokenInvalid("no matching key")) => {
                // The provider may have rotated its keys: read them once more.
                let (_, keys) = self.provider(cfg, unix, true).await?;
                validate_id_token(&id_token, &keys, &expected, now)?
            }
            other => other?,
        };
        let mut all = claims.other.clone();
        let missing = claim_str(&all, &cfg.name_claim).is_none()
            || claim_str(&all, &cfg.id_number_claim).is_none();
        if missing
            && let (Some(endpoint), Some(access)) = (
                discovery.userinfo_endpoint.as_deref(),
                answer.access_token.as_deref(),
            )
        {
            let info: Map<String, Value> =
                self.get_json(endpoint, Some(access), "userinfo").await?;
            if info.get("sub").and_then(Value::as_str) != Some(claims.sub.as_str()) {
                return Err(OidcError::IdTokenInvalid("userinfo sub"));
            }
            for (k, v) in info {
                all.entry(k).or_insert(v);
            }
        }
        let signed = sign_in(
            store,
            &cfg.issuer,
            &claims.sub,
            claim_str(&all, &cfg.name_claim),
            claim_str(&all, &cfg.id_number_claim),
            now,
        )
        .await?;
        Ok(Finished {
            session_token: signed.session_token,
            account_id: signed.account_id,
            how: signed.how,
            next: pending.next_path,
        })
    }

    /// Exchanges the code at the token endpoint with the PKCE verifier.
    async fn exchange(
        &self,
        discovery: &Discovery,
        cfg: &OidcConfig,
        code: &str,
        verifier: &str,
    ) -> Result<TokenAnswer, OidcError> {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", cfg.redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let mut req = self
            .http
            .post(&discovery.token_endpoint)
            .header(reqwest::header::ACCEPT, "application/json");
        match cfg.token_auth {
            TokenAuth::ClientSecretBasic => {
                let pair = format!(
                    "{}:{}",
                    form_encode(&cfg.client_id),
                    form_encode(&cfg.client_secret)
                );
                req = req.header(
                    reqwest::header::AUTHORIZATION,
                    format!("Basic {}", STANDARD.encode(pair)),
                );
            }
            TokenAuth::ClientSecretPost => {
                form.push(("client_id", cfg.client_id.as_str()));
                form.push(("client_secret", cfg.client_secret.as_str()));
            }
        }
        let resp = req
            .form(&form)
            .send()
            .await
            .map_err(|e| OidcError::Unavailable(format!("token endpoint: {e}")))?;
        let status = resp.status();
        let body = Self::read_body(resp, "token endpoint").await?;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| OidcError::Unavailable(format!("token endpoint: {e}")));
        }
        match serde_json::from_slice::<TokenRefusal>(&body) {
            Ok(r) if status.is_client_error() => {
                Err(OidcError::CodeRejected(r.error.chars().take(60).collect()))
            }
            _ => Err(OidcError::Unavailable(format!(
                "token endpoint: HTTP {status}"
            ))),
        }
    }
}

/// A session opened by [`sign_in`].
#[derive(Clone)]
pub struct SignedIn {
    /// The session token.
    pub session_token: String,
    /// The account.
    pub account_id: i64,
    /// How the account was found.
    pub how: Mapping,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("account_id", &self.account_id)
            .field("how", &self.how)
            .finish_non_exhaustive()
    }
}

/// The real name and identity number claimed, checked.
fn real_name_claims(
    name: Option<&str>,
    id_number: Option<&str>,
) -> Result<(String, String), OidcError> {
    let (Some(name), Some(id)) = (name, id_number) else {
        return Err(OidcError::ClaimsMissing);
    };
    let id = id.trim().to_ascii_uppercase();
    if !gb11643_valid(&id) {
        return Err(OidcError::IdNumberInvalid);
    }
    let name = name.trim().to_owned();
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(OidcError::ClaimsMissing);
    }
    Ok((name, id))
}

/// Finds the portal account of an identity of `issuer` and opens a full
/// portal session for it: the linked account; else the person account whose
/// bound number is `id_number` (its bound name must be `name`), linked now;
/// else a new person account with that name and number, a placeholder login
/// name and an unusable password. Audits `login.oidc` with the masked number.
///
/// # Errors
/// `ClaimsMissing`, `IdNumberInvalid`, `NameMismatch`, `AccountDisabled`, or
/// a storage failure.
pub async fn sign_in(
    store: &Store,
    issuer: &str,
    subject: &str,
    name: Option<String>,
    id_number: Option<String>,
    now: DateTime<Utc>,
) -> Result<SignedIn, OidcError> {
    let issuer = issuer.to_owned();
    let subject = subject.to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let (account_id, how) = if let Some(id) = tx.identity_account(&issuer, &subject)? {
                tx.touch_identity(&issuer, &subject, &at)?;
                (id, Mapping::Linked)
            } else {
                let (name, number) = real_name_claims(name.as_deref(), id_number.as_deref())?;
                if let Some(id) = tx.person_by_id_number(&number)? {
                    let bound = tx.account_by_id(id)?.and_then(|a| a.real_name);
                    if bound.as_deref() != Some(name.as_str()) {
                        return Err(OidcError::NameMismatch);
                    }
                    tx.link_identity(&issuer, &subject, id, &at)?;
                    (id, Mapping::ByIdNumber)
                } else {
                    let id = create_person(tx, &issuer, &subject, &name, &number, &at)?;
                    tx.link_identity(&issuer, &subject, id, &at)?;
                    (id, Mapping::Created)
                }
            };
            let account = tx
                .account_by_id(account_id)?
                .ok_or_else(|| OidcError::Internal("linked account missing".to_owned()))?;
            if !account.active {
                return Err(OidcError::AccountDisabled);
            }
            let (token, digest) = auth::session::new_token();
            let actor = format!("account:{account_id}");
            tx.insert_session(&digest, &actor, "full", &at)?;
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor: actor.clone(),
                role: format!("applicant:{}", account.kind),
                action: "login.oidc".to_owned(),
                object: actor,
                after: serde_json::json!({
                    "id_number": account.id_number.as_deref().map(mask_id),
                    "issuer": issuer,
                })
                .to_string(),
                detail: how.as_str().to_owned(),
                ..AuditRecord::default()
            })?;
            Ok(SignedIn {
                session_token: token,
                account_id,
                how,
            })
        })
        .await
}

/// Makes a person account for an identity with no account yet.
fn create_person(
    tx: &crate::store::WriteTx<'_>,
    issuer: &str,
    subject: &str,
    name: &str,
    number: &str,
    at: &str,
) -> Result<i64, OidcError> {
    // Nobody knows this password: the account logs in through the provider
    // until the resident sets a phone and password of their own.
    let unusable = hex::encode(rand::random::<[u8; 32]>());
    let phc = auth::password::hash(&unusable).map_err(|e| OidcError::Internal(e.to_string()))?;
    // `phone` is the unique login name; this one can never be typed as a phone.
    let login: String = sm3_hex(&format!("{issuer}\n{subject}"))
        .chars()
        .take(20)
        .collect();
    let id = tx
        .insert_account(
            "person",
            &format!("oidc-{login}"),
            &phc,
            Some(name),
            Some(number),
            None,
            at,
        )?
        .ok_or_else(|| OidcError::Internal("account for the identity exists".to_owned()))?;
    let actor = format!("account:{id}");
    tx.audit(&AuditRecord {
        at: at.to_owned(),
        actor: actor.clone(),
        role: "applicant".to_owned(),
        action: "account.registered".to_owned(),
        object: actor,
        after: serde_json::json!({ "kind": "person", "id_number": mask_id(number), "via": "oidc" })
            .to_string(),
        ..AuditRecord::default()
    })?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use base64::engine::general_purpose::STANDARD;
    use chrono::TimeZone as _;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    use super::*;

    // Test-only keys, made for these tests and used nowhere else.
    const EC_A_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgY2Tmdl9PW1pjxil5exsbP/4nSjg2P+sTPTQCmatRI+GhRANCAAQSnL8Dsx3615LiSSLJQ/4Yfj8EuKg1h9ZkM0ztbW/KRsKuWm+/QP2tVfbAZHLKazI9Tcy/xIRF99zy81wRVVfZ";
    const EC_A_X: &str = "Epy_A7Md-teS4kkiyUP-GH4_BLioNYfWZDNM7W1vykY";
    const EC_A_Y: &str = "wq5ab79A_a1V9sBkcsprMj1NzL_EhEX33PLzXBFVV9k";
    const EC_B_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQHNXvC3PjkVTTrUWDV8KFHVWO+G/FdUyyMXgyHUrGHKhRANCAAR0vGTpQJ9UnjYRWO5DvSG3YeJEJCfx7a1YIN6ER+q4UGmcaHV+jlBmcLmgeK3jbdysQQu48ca2jx9vpnHedlJZ";
    const RSA_PKCS1: &str = "MIIEpAIBAAKCAQEAndvaBsxMt633/cWdAqff3siv5rm8EEMPEmyfseO40fZEo6RWh54ydDrOE3DC91UZAqWvMidXJVsmqGVtEJnd/9NMtGXq+PE/dH6pR8alevuApMM5C7Ht1J9wTjAE7hjYgc/jvBfkDMmiWgOpmK31+Zq6Z1yqO66yAUVYfT73hWFBhm0w+PMa5UnSVLB/MbMNEPFYaRyrSyTRtOGtO4qrDggQkk/W9X8+DdtPCE6IRH90p5JvTkIGcAzyf9DmONzPR0Y6frMp6gZU/i8TOKGu0Iz+x2ojZXf/JOWWd+eCdgnXHhhmesfAHW/YqNEIzLmP2R5qbNKBo9CTIwZMB/zaFwIDAQABAoIBAAWvcbEa/IxaUfssJH/Vp09xGjy3ZcQ5gLp2JQ5AGFufgKYFeNmrjepND+JNW7LoDV2LYBLwrcfPpPBzBAmRW8MnS1+X6Bg31W7kUkPJLhPkKPmbelt8eLIBXVxuMvnsSn0/t9ZXZJmSotaWboOW3awJXDtKxWrJhj8GI1i8wtIP5HLFQsHhII5nKsfQrd894JROngvvLnH+9C/w45APufhbts4H0+2n6p1MYNU3JvcFEY49FW1cKRznex8GivhbNm5to6yRz+iDTQ4YCKz1xhJkP09C1EFXZYIdHqqnL4j5W6AZ/ktUoK9rLGXBcTkTytDzVoJlD7PmeOYIcqXOmXkCgYEA2gETb7IYigT5Rv9nczkb1AOSBzmx2b8DFYucQbndUGhRBKUCQHJu8oWvzg/KO1yGIp4nuBcFrhhvO/nw7/BbkP4B7ZWZi+JLg50A0DwvjG/Y+NCbaVaIIQoqJnBkoVyaAyti7uEXwI4fE4wV3XnTJnKwKy1Jd6LhljndzDOT8isCgYEAuV80WgIjqAdtFdZpE3/d2WhGqJRnfMkK5wzYuazGxCtDOwama6d8lJLxwMn0B7DDtx+narQweMO4wLMHxF3jPb8ngu/O1kkJItyrhV0ki9rB8EDVgPRB849nAgEFC9Ci2OMrEP+4T9CNDp6Afr6090GusbzjcobA155Io03t/cUCgYEAmccKg864Gpu5j0hYG+Ib7Cj8mBYti3B+53LMrVxDbhW3mLQg638NHgwJYCypNchlYgP39pZezli0FjWPrGD65kMW7xWI8zCUnelhCoJ58/Ftts3H4r1EVzIJW4YKpfxhM30mU2T6UTyvVSWKwujNdiCOflZ6rWZ7BHIbL5DuenMCgYA1P94ABSFNAWUaos7oZRDLhSLXBlp8BBx3pr8TB0jJzUuwxwZDYods/pEnulu5YdO25Qbopf5Okpqd8E/I3teKQ0EMYerer3hKZW14D/uRmTOg2l76fi/70TPb5YMXk8VT3F3gsjS16Mi8bFepEQtXA601LXeAzKjUx4lCL/6vqQKBgQCGlBkkgzogrlQdZ7Zd85nSiQwxM3etr4o757yTlm3fzITlDXqvmXnRou3zsVPJULVHuv1ICCAD73phb/mHkFBYcsH/JnfHVlFSZdGuXwY5VaJMNffmA5gZyLJMh+Kcp2/pk2V5jD3IybJ8XROwS6QArlu4slAdmbBvq1FzHB07sg==";
    const RSA_N: &str = "ndvaBsxMt633_cWdAqff3siv5rm8EEMPEmyfseO40fZEo6RWh54ydDrOE3DC91UZAqWvMidXJVsmqGVtEJnd_9NMtGXq-PE_dH6pR8alevuApMM5C7Ht1J9wTjAE7hjYgc_jvBfkDMmiWgOpmK31-Zq6Z1yqO66yAUVYfT73hWFBhm0w-PMa5UnSVLB_MbMNEPFYaRyrSyTRtOGtO4qrDggQkk_W9X8-DdtPCE6IRH90p5JvTkIGcAzyf9DmONzPR0Y6frMp6gZU_i8TOKGu0Iz-x2ojZXf_JOWWd-eCdgnXHhhmesfAHW_YqNEIzLmP2R5qbNKBo9CTIwZMB_zaFw";

    const ISS: &str = "https://id.henan.example";
    const CLIENT: &str = "weidong-portal";
    const NONCE: &str = "n-0S6_WzA2Mj";
    const ZHANG_ID: &str = "410403198503150013";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap()
    }

    fn jwks() -> Vec<Jwk> {
        serde_json::from_value(json!([
            { "kty": "EC", "crv": "P-256", "x": EC_A_X, "y": EC_A_Y, "kid": "ec-a", "use": "sig", "alg": "ES256" },
            { "kty": "RSA", "n": RSA_N, "e": "AQAB", "kid": "rs-1", "use": "sig", "alg": "RS256" },
        ]))
        .unwrap()
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: ISS,
            client_id: CLIENT,
            nonce: NONCE,
        }
    }

    fn claims() -> Value {
        let t = now().timestamp();
        json!({
            "iss": ISS, "sub": "zhangwei", "aud": CLIENT, "exp": t + 300, "iat": t - 5,
            "nonce": NONCE, "name": "张伟", "id_number": ZHANG_ID,
        })
    }

    fn with(mut c: Value, key: &str, v: Value) -> Value {
        c[key] = v;
        c
    }

    fn sign_ec(pkcs8: &str, kid: &str, c: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(kid.to_owned());
        let key = EncodingKey::from_ec_der(&STANDARD.decode(pkcs8).unwrap());
        jsonwebtoken::encode(&h, c, &key).unwrap()
    }

    fn ec(c: &Value) -> String {
        sign_ec(EC_A_PKCS8, "ec-a", c)
    }

    fn failure(token: &str) -> &'static str {
        match validate_id_token(token, &jwks(), &expected(), now()) {
            Err(OidcError::IdTokenInvalid(why)) => why,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn a_good_es256_token_gives_its_claims() {
        let c = validate_id_token(&ec(&claims()), &jwks(), &expected(), now()).unwrap();
        assert_eq!(c.sub, "zhangwei");
        assert_eq!(claim_str(&c.other, "name").as_deref(), Some("张伟"));
        assert_eq!(claim_str(&c.other, "id_number").as_deref(), Some(ZHANG_ID));
    }

    #[test]
    fn a_good_rs256_token_passes() {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some("rs-1".to_owned());
        let key = EncodingKey::from_rsa_der(&STANDARD.decode(RSA_PKCS1).unwrap());
        let token = jsonwebtoken::encode(&h, &claims(), &key).unwrap();
        assert!(validate_id_token(&token, &jwks(), &expected(), now()).is_ok());
    }

    #[test]
    fn wrong_audience_or_issuer_is_refused() {
        assert_eq!(
            failure(&ec(&with(claims(), "aud", json!("other-app")))),
            "aud"
        );
        assert_eq!(
            failure(&ec(&with(claims(), "aud", json!(["other-app", "third"])))),
            "aud"
        );
        assert_eq!(
            failure(&ec(&with(claims(), "iss", json!("https://evil.example")))),
            "iss"
        );
        // Several audiences need `azp` naming this client.
        assert_eq!(
            failure(&ec(&with(claims(), "aud", json!([CLIENT, "other-app"])))),
            "azp"
        );
        let ok = with(
            with(claims(), "aud", json!([CLIENT, "other-app"])),
            "azp",
            json!(CLIENT),
        );
        assert!(validate_id_token(&ec(&ok), &jwks(), &expected(), now()).is_ok());
    }

    #[test]
    fn expiry_and_issue_time_have_a_minute_of_leeway() {
        let t = now().timestamp();
        assert_eq!(
            failure(&ec(&with(claims(), "exp", json!(t - 61)))),
            "expired"
        );
        let late_but_tolerated = with(claims(), "exp", json!(t - 30));
        assert!(validate_id_token(&ec(&late_but_tolerated), &jwks(), &expected(), now()).is_ok());
        assert_eq!(
            failure(&ec(&with(claims(), "iat", json!(t + 120)))),
            "issued in the future"
        );
        assert_eq!(
            failure(&ec(&with(claims(), "iat", json!(t - 3600)))),
            "issued too long ago"
        );
        assert_eq!(
            failure(&ec(&with(claims(), "nbf", json!(t + 300)))),
            "not yet valid"
        );
    }

    #[test]
    fn the_nonce_must_be_the_stored_one() {
        assert_eq!(
            failure(&ec(&with(claims(), "nonce", json!("replayed")))),
            "nonce"
        );
        let mut c = claims();
        c.as_object_mut().unwrap().remove("nonce");
        assert_eq!(failure(&ec(&c)), "nonce");
    }

    #[test]
    fn a_bad_signature_or_unknown_key_is_refused() {
        // Signed by another key under the provider's key id.
        assert_eq!(
            failure(&sign_ec(EC_B_PKCS8, "ec-a", &claims())),
            "signature"
        );
        // A token with one character of its payload changed.
        let good = ec(&claims());
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        let forged = String::from_utf8(payload)
            .unwrap()
            .replace("zhangwei", "zhangwai");
        parts[1] = URL_SAFE_NO_PAD.encode(forged);
        assert_eq!(failure(&parts.join(".")), "signature");
        assert_eq!(
            failure(&sign_ec(EC_A_PKCS8, "rotated", &claims())),
            "no matching key"
        );
    }

    #[test]
    fn symmetric_and_unsigned_tokens_are_refused() {
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(RSA_N.as_bytes()),
        )
        .unwrap();
        assert_eq!(failure(&hs), "algorithm not accepted");
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        assert_eq!(failure(&format!("{none_header}.{body}.")), "malformed");
        assert_eq!(failure("not-a-jwt"), "malformed");
    }

    #[test]
    fn pkce_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(random_token().len(), 43);
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn client_credentials_are_form_encoded_for_basic_auth() {
        assert_eq!(form_encode("weidong-portal"), "weidong-portal");
        assert_eq!(form_encode("a b:c/é"), "a+b%3Ac%2F%C3%A9");
    }

    struct TempStore {
        dir: std::path::PathBuf,
        store: Store,
    }

    impl Drop for TempStore {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// A fresh database with 张伟's account (number bound) and no other.
    async fn store_with_zhang() -> (TempStore, i64) {
        let dir = std::env::temp_dir().join(format!("backend-oidc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(dir.join("t.db"), now()).await.unwrap();
        let id = store
            .write(|tx| {
                tx.insert_account(
                    "person",
                    "13837512345",
                    "$argon2id$unused",
                    Some("张伟"),
                    Some(ZHANG_ID),
                    None,
                    "2026-11-27T10:00:00+08:00",
                )
            })
            .await
            .map_err(|e: StoreError| e)
            .unwrap()
            .unwrap();
        (TempStore { dir, store }, id)
    }

    async fn session_principal(store: &Store, token: &str) -> String {
        let digest = auth::session::token_digest(token);
        store
            .read(move |tx| tx.session(&digest))
            .await
            .map_err(|e: StoreError| e)
            .unwrap()
            .unwrap()
            .principal
    }

    #[tokio::test]
    async fn the_bound_number_finds_the_account_and_links_it() {
        let (t, zhang) = store_with_zhang().await;
        let first = sign_in(
            &t.store,
            ISS,
            "sub-1",
            Some("张伟".into()),
            Some(ZHANG_ID.into()),
            now(),
        )
        .await
        .unwrap();
        assert_eq!((first.account_id, first.how), (zhang, Mapping::ByIdNumber));
        assert_eq!(
            session_principal(&t.store, &first.session_token).await,
            format!("account:{zhang}")
        );
        // Next time the link alone is enough, claims or not.
        let again = sign_in(&t.store, ISS, "sub-1", None, None, now())
            .await
            .unwrap();
        assert_eq!((again.account_id, again.how), (zhang, Mapping::Linked));
        let object = format!("account:{zhang}");
        let events = t
            .store
            .read(move |tx| tx.audit_events_for(&object))
            .await
            .map_err(|e: StoreError| e)
            .unwrap();
        let logins: Vec<_> = events.iter().filter(|e| e.action == "login.oidc").collect();
        assert_eq!(logins.len(), 2);
        assert!(
            logins
                .iter()
                .all(|e| e.after.contains("410403********0013"))
        );
        assert!(events.iter().all(|e| !e.after.contains(ZHANG_ID)));
    }

    #[tokio::test]
    async fn a_new_identity_gets_a_new_bound_account() {
        let (t, zhang) = store_with_zhang().await;
        let li = "410403199001010015";
        assert!(gb11643_valid(li));
        let s = sign_in(
            &t.store,
            ISS,
            "sub-li",
            Some("李娜".into()),
            Some(li.into()),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(s.how, Mapping::Created);
        assert_ne!(s.account_id, zhang);
        let id = s.account_id;
        let acc = t
            .store
            .read(move |tx| tx.account_by_id(id))
            .await
            .map_err(|e: StoreError| e)
            .unwrap()
            .unwrap();
        assert_eq!(acc.kind, "person");
        assert_eq!(acc.real_name.as_deref(), Some("李娜"));
        assert_eq!(acc.id_number.as_deref(), Some(li));
        assert!(acc.phone.starts_with("oidc-"));
        assert!(!auth::password::verify("", &acc.password_phc));
        let again = sign_in(&t.store, ISS, "sub-li", None, None, now())
            .await
            .unwrap();
        assert_eq!((again.account_id, again.how), (id, Mapping::Linked));
    }

    #[tokio::test]
    async fn bad_or_missing_claims_and_a_different_name_are_refused() {
        let (t, _) = store_with_zhang().await;
        let name = || Some("张伟".to_owned());
        let r = sign_in(&t.store, ISS, "s", name(), None, now()).await;
        assert!(matches!(r, Err(OidcError::ClaimsMissing)), "{r:?}");
        let r = sign_in(
            &t.store,
            ISS,
            "s",
            name(),
            Some("410403198503150014".into()),
            now(),
        )
        .await;
        assert!(matches!(r, Err(OidcError::IdNumberInvalid)), "{r:?}");
        let r = sign_in(
            &t.store,
            ISS,
            "s",
            Some("张三".into()),
            Some(ZHANG_ID.into()),
            now(),
        )
        .await;
        assert!(matches!(r, Err(OidcError::NameMismatch)), "{r:?}");
        // Nothing was linked by the refusals.
        let linked = t
            .store
            .read(|tx| tx.identity_account(ISS, "s"))
            .await
            .map_err(|e: StoreError| e)
            .unwrap();
        assert_eq!(linked, None);
    }

    #[test]
    fn every_error_has_both_languages_and_no_personal_data() {
        let all = [
            OidcError::Unavailable("x".into()),
            OidcError::BadState,
            OidcError::Denied("access_denied".into()),
            OidcError::CodeRejected("invalid_grant".into()),
            OidcError::IdTokenInvalid("aud"),
            OidcError::ClaimsMissing,
            OidcError::IdNumberInvalid,
            OidcError::NameMismatch,
            OidcError::AccountDisabled,
            OidcError::Internal("x".into()),
        ];
        for e in &all {
            let (zh, en) = e.messages();
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{zh}"
            );
            assert!(en.is_ascii() && !en.is_empty(), "{en}");
            assert!(!e.code().is_empty());
        }
    }
}
