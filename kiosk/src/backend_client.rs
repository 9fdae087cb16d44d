//! The kiosk's side of `/api/v1` (see `docs/API.md`), JSON with `proto`'s
//! types over reqwest.
//!
//! * Enrolment: on the first start the one-time code from the config is
//!   exchanged for a bearer token, kept in `data_dir/credentials.json`
//!   (mode 0600); later starts read it back.
//! * Heartbeat: every 30 s, and at once when a device's health changes,
//!   the health of every device goes to `POST /api/v1/kiosks/heartbeat`.
//!   Its answer carries the platform's time, kept as a
//!   [`ServerReading`](crate::clock::ServerReading) for the clock check
//!   (R8, see [`crate::clock`]); while the clock is off the heartbeat
//!   comes every [`CLOCK_RECHECK`] instead, so a corrected clock is
//!   noticed soon.
//! * Case lookup by ID number: `POST /api/v1/cases/lookup` (POST so the
//!   number never appears in a URL or an access log).
//!
//! Every request has a timeout; an unreachable backend is an error with a
//! Chinese and English message, never a hang.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hal::{DeviceKind, Health, HealthState};
use proto::{
    ApiErrorBody, CaseList, CaseLookup, DeviceHealth, DeviceState, EnrolRequest, EnrolResponse,
    Heartbeat, HeartbeatAck,
};
use tokio::sync::{Mutex as AsyncMutex, Notify, watch};

use crate::clock::{self, ClockState, ServerReading};
use crate::config::{Config, Credentials};

/// Time allowed to open a TCP connection to the backend.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time allowed for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);
/// How often the heartbeat goes out when nothing changes.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);
/// How often the heartbeat goes out while the kiosk's clock is off.
pub const CLOCK_RECHECK: Duration = Duration::from_secs(10);

/// What kind of failure, as the journey needs to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendErrorKind {
    /// No connection (refused, DNS, network down).
    Unreachable,
    /// No answer in time.
    Timeout,
    /// The kiosk has no token yet (enrolment has not succeeded).
    NotEnrolled,
    /// The backend refused the token, or the enrolment code.
    Unauthenticated,
    /// The backend answered with an error.
    Api,
    /// The answer could not be read.
    Protocol,
    /// The credentials file could not be read or written.
    Storage,
}

/// A failed call to the backend.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("backend unreachable: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("backend did not answer in time")]
    Timeout,
    #[error("the kiosk is not enrolled yet")]
    NotEnrolled,
    #[error("backend refused the kiosk: {}", .0.code)]
    Unauthenticated(ApiErrorBody),
    #[error("backend error {status}: {}", .body.code)]
    Api { status: u16, body: ApiErrorBody },
    #[error("unreadable answer from the backend")]
    Protocol(#[source] reqwest::Error),
    #[error("credentials file")]
    Storage(#[source] std::io::Error),
}

impl BackendError {
    /// The kind callers match on.
    pub fn kind(&self) -> BackendErrorKind {
        match self {
            BackendError::Unreachable(_) => BackendErrorKind::Unreachable,
            BackendError::Timeout => BackendErrorKind::Timeout,
            BackendError::NotEnrolled => BackendErrorKind::NotEnrolled,
            BackendError::Unauthenticated(_) => BackendErrorKind::Unauthenticated,
            BackendError::Api { .. } => BackendErrorKind::Api,
            BackendError::Protocol(_) => BackendErrorKind::Protocol,
            BackendError::Storage(_) => BackendErrorKind::Storage,
        }
    }

    /// A stable code for logs and the screen's detail line.
    pub fn code(&self) -> String {
        match self {
            BackendError::Unreachable(_) => "BACKEND_UNREACHABLE".into(),
            BackendError::Timeout => "BACKEND_TIMEOUT".into(),
            BackendError::NotEnrolled => "NOT_ENROLLED".into(),
            BackendError::Unauthenticated(b) | BackendError::Api { body: b, .. } => b.code.clone(),
            BackendError::Protocol(_) => "BACKEND_PROTOCOL".into(),
            BackendError::Storage(_) => "CREDENTIALS_STORAGE".into(),
        }
    }

    /// One line for a person: Chinese, then English.
    pub fn user_message(&self) -> String {
        match self {
            BackendError::Unreachable(_) => {
                "无法连接政务服务平台，请稍后再试（The service platform cannot be reached; please try again later）".into()
            }
            BackendError::Timeout => {
                "政务服务平台响应超时，请稍后再试（The service platform did not answer in time; please try again later）".into()
            }
            BackendError::NotEnrolled => {
                "本终端尚未在平台注册，请联系工作人员（This terminal is not registered with the platform; please ask staff）".into()
            }
            BackendError::Unauthenticated(_) => {
                "本终端的注册已失效，请联系工作人员（This terminal's registration is no longer valid; please ask staff）".into()
            }
            BackendError::Api { body, .. } => format!("{}（{}）", body.message_zh, body.message_en),
            BackendError::Protocol(_) => {
                "政务服务平台返回了无法识别的数据（The service platform sent an unreadable answer）".into()
            }
            BackendError::Storage(_) => {
                "终端无法保存注册信息，请联系工作人员（The terminal cannot store its registration; please ask staff）".into()
            }
        }
    }

    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            BackendError::Timeout
        } else if e.is_connect() || e.is_request() {
            BackendError::Unreachable(e)
        } else {
            BackendError::Protocol(e)
        }
    }
}

/// What the kiosk knows about its link to the backend, for the
/// maintenance screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendStatus {
    /// `None` until the first call finished.
    pub reachable: Option<bool>,
    /// The id assigned at enrolment.
    pub kiosk_id: Option<String>,
    /// The last failure, as [`BackendError::user_message`] and code.
    pub last_error: Option<String>,
    /// Local time of the last successful call (`YYYY-MM-DD HH:MM:SS`).
    pub last_contact: Option<String>,
}

/// The enrolment data from the config.
#[derive(Clone)]
struct Enrolment {
    code: String,
    kiosk_name: String,
    location: String,
    credentials_path: std::path::PathBuf,
}

/// Client of the backend; cheap to share behind an `Arc`.
pub struct BackendClient {
    http: reqwest::Client,
    base: String,
    enrolment: Enrolment,
    credentials: RwLock<Option<Credentials>>,
    enrol_lock: AsyncMutex<()>,
    status: watch::Sender<BackendStatus>,
    /// The platform's clock as the last heartbeat answer read it.
    server_clock: watch::Sender<Option<ServerReading>>,
}

impl std::fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl BackendClient {
    /// A client for the backend named in `config`, with the default
    /// timeouts. Reads stored credentials if there are any for this
    /// backend; does no network I/O.
    pub fn new(config: &Config) -> Result<Self, BackendError> {
        Self::with_timeouts(config, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// The same with explicit timeouts.
    pub fn with_timeouts(
        config: &Config,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, BackendError> {
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            .user_agent(concat!("weidong-kiosk/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(BackendError::Protocol)?;
        let base = config.backend_url.trim_end_matches('/').to_string();
        let enrolment = Enrolment {
            code: config.enrolment_code.clone(),
            kiosk_name: config.kiosk_name.clone(),
            location: config.location.clone(),
            credentials_path: config.credentials_path(),
        };
        let stored =
            Credentials::load(&enrolment.credentials_path).map_err(BackendError::Storage)?;
        let stored = stored.filter(|c| c.backend_url.trim_end_matches('/') == base);
        let status = BackendStatus {
            kiosk_id: stored.as_ref().map(|c| c.kiosk_id.clone()),
            ..BackendStatus::default()
        };
        Ok(BackendClient {
            http,
            base,
            enrolment,
            credentials: RwLock::new(stored),
            enrol_lock: AsyncMutex::new(()),
            status: watch::Sender::new(status),
            server_clock: watch::Sender::new(None),
        })
    }

    /// The backend's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The id assigned at enrolment, if enrolled.
    pub fn kiosk_id(&self) -> Option<String> {
        self.read_credentials().map(|c| c.kiosk_id)
    }

    /// Whether the kiosk holds a token.
    pub fn is_enrolled(&self) -> bool {
        self.read_credentials().is_some()
    }

    /// A watch on the link status.
    pub fn status(&self) -> watch::Receiver<BackendStatus> {
        self.status.subscribe()
    }

    /// A watch on the newest reading of the platform's clock.
    pub fn server_clock(&self) -> watch::Receiver<Option<ServerReading>> {
        self.server_clock.subscribe()
    }

    /// The verdict on the local clock now, against the newest reading.
    pub fn clock_state(&self) -> ClockState {
        let reading = *self.server_clock.borrow();
        clock::judge_reading(chrono::Utc::now(), Instant::now(), reading.as_ref())
    }

    /// Keeps the platform's time of an answer: `server_time` (RFC 3339)
    /// or, failing that, the answer's `Date` header.
    fn note_server_time(
        &self,
        server_time: &str,
        date: Option<chrono::DateTime<chrono::Utc>>,
        sent: Instant,
        received: Instant,
    ) {
        match clock::parse_server_time(server_time).or(date) {
            Some(t) => {
                self.server_clock
                    .send_replace(Some(ServerReading::new(t, sent, received)));
            }
            None => tracing::warn!(
                server_time,
                "the heartbeat answer carries no readable time; clock not checked"
            ),
        }
    }

    fn read_credentials(&self) -> Option<Credentials> {
        match self.credentials.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn write_credentials(&self, value: Option<Credentials>) {
        match self.credentials.write() {
            Ok(mut c) => *c = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}{}", self.base, proto::API_PREFIX, path)
    }

    fn record<T>(&self, result: &Result<T, BackendError>) {
        self.status.send_modify(|s| match result {
            Ok(_) => {
                s.reachable = Some(true);
                s.last_error = None;
                s.last_contact = Some(chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string());
            }
            Err(e) => {
                let reached = !matches!(
                    e.kind(),
                    BackendErrorKind::Unreachable | BackendErrorKind::Timeout
                );
                s.reachable = Some(reached);
                s.last_error = Some(format!("{} [{}]", e.user_message(), e.code()));
            }
        });
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path))
    }

    /// Sends a request and reads a JSON answer or the API's error body.
    async fn send<R: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<R, BackendError> {
        self.send_dated(request).await.map(|(r, _)| r)
    }

    /// The same, with the answer's `Date` header (RFC 7231), if readable.
    async fn send_dated<R: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(R, Option<chrono::DateTime<chrono::Utc>>), BackendError> {
        let result = async {
            let response = request.send().await.map_err(BackendError::from_reqwest)?;
            let status = response.status();
            if status.is_success() {
                let date = response
                    .headers()
                    .get(reqwest::header::DATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(clock::parse_http_date);
                return response
                    .json::<R>()
                    .await
                    .map(|r| (r, date))
                    .map_err(BackendError::from_reqwest);
            }
            let body = response
                .json::<ApiErrorBody>()
                .await
                .unwrap_or_else(|_| ApiErrorBody {
                    code: format!("HTTP_{}", status.as_u16()),
                    message_zh: "政务服务平台返回错误".into(),
                    message_en: "the service platform returned an error".into(),
                });
            if status == reqwest::StatusCode::UNAUTHORIZED
                || status == reqwest::StatusCode::FORBIDDEN
            {
                Err(BackendError::Unauthenticated(body))
            } else {
                Err(BackendError::Api {
                    status: status.as_u16(),
                    body,
                })
            }
        }
        .await;
        self.record(&result);
        result
    }

    /// Asks the backend whether it is up (`GET /api/v1/health`).
    pub async fn health(&self) -> Result<proto::Health, BackendError> {
        let result = async {
            let response = self
                .http
                .get(self.url("/health"))
                .send()
                .await
                .map_err(BackendError::from_reqwest)?;
            let status = response.status();
            if !status.is_success() {
                return Err(BackendError::Api {
                    status: status.as_u16(),
                    body: ApiErrorBody {
                        code: format!("HTTP_{}", status.as_u16()),
                        message_zh: "政务服务平台状态异常".into(),
                        message_en: "the service platform reports a problem".into(),
                    },
                });
            }
            response
                .json::<proto::Health>()
                .await
                .map_err(BackendError::from_reqwest)
        }
        .await;
        self.record(&result);
        result
    }

    /// Returns the token, enrolling with the one-time code first when the
    /// kiosk holds none. Concurrent callers share one enrolment.
    pub async fn ensure_enrolled(&self) -> Result<Credentials, BackendError> {
        if let Some(c) = self.read_credentials() {
            return Ok(c);
        }
        let _guard = self.enrol_lock.lock().await;
        if let Some(c) = self.read_credentials() {
            return Ok(c);
        }
        let request = EnrolRequest {
            enrolment_code: self.enrolment.code.clone(),
            kiosk_name: self.enrolment.kiosk_name.clone(),
            location: self.enrolment.location.clone(),
        };
        let reply: EnrolResponse = self.send(self.post("/kiosks/enrol").json(&request)).await?;
        let credentials = Credentials {
            backend_url: self.base.clone(),
            kiosk_id: reply.kiosk_id,
            token: reply.token,
        };
        credentials
            .save(&self.enrolment.credentials_path)
            .map_err(BackendError::Storage)?;
        tracing::info!(kiosk_id = %credentials.kiosk_id, "enrolled with the backend");
        self.status
            .send_modify(|s| s.kiosk_id = Some(credentials.kiosk_id.clone()));
        self.write_credentials(Some(credentials.clone()));
        Ok(credentials)
    }

    /// Forgets the token (after the backend refused it), so the next call
    /// enrols again.
    fn forget_credentials(&self) {
        tracing::warn!("the backend refused the kiosk token; it will enrol again");
        self.write_credentials(None);
        let _ = std::fs::remove_file(&self.enrolment.credentials_path);
        self.status.send_modify(|s| s.kiosk_id = None);
    }

    /// Sends a request with the bearer token; a refused token is
    /// forgotten so the next call enrols again.
    async fn authed<R: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<R, BackendError> {
        self.authed_dated(request).await.map(|(r, _)| r)
    }

    /// The same, with the answer's `Date` header.
    async fn authed_dated<R: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(R, Option<chrono::DateTime<chrono::Utc>>), BackendError> {
        let credentials = self.read_credentials().ok_or(BackendError::NotEnrolled)?;
        let result = self
            .send_dated(request.bearer_auth(&credentials.token))
            .await;
        if let Err(BackendError::Unauthenticated(_)) = &result {
            self.forget_credentials();
        }
        result
    }

    /// Sends one heartbeat; the answer's time becomes the newest reading
    /// of the platform's clock.
    pub async fn heartbeat(
        &self,
        devices: Vec<DeviceHealth>,
    ) -> Result<HeartbeatAck, BackendError> {
        let body = Heartbeat {
            software_version: env!("CARGO_PKG_VERSION").to_string(),
            sent_at: chrono::Local::now().to_rfc3339(),
            devices,
        };
        let sent = Instant::now();
        let (ack, date) = self
            .authed_dated::<HeartbeatAck>(self.post("/kiosks/heartbeat").json(&body))
            .await?;
        self.note_server_time(&ack.server_time, date, sent, Instant::now());
        Ok(ack)
    }

    /// Tells staff something now (呼叫工作人员, maintenance entry, a failed
    /// print).
    pub async fn alert(&self, alert: &proto::KioskAlert) -> Result<proto::AlertAck, BackendError> {
        self.ensure_enrolled().await?;
        self.authed(self.post("/kiosks/alerts").json(alert)).await
    }

    /// The catalogue, unless it is still `etag` (`None`: not modified).
    pub async fn catalogue(
        &self,
        etag: Option<&str>,
    ) -> Result<Option<crate::catalogue::KioskCatalogue>, BackendError> {
        let credentials = self.ensure_enrolled().await?;
        let mut request = self
            .http
            .get(self.url("/kiosks/catalogue"))
            .bearer_auth(&credentials.token);
        if let Some(tag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let response = request.send().await.map_err(BackendError::from_reqwest);
        let result = match response {
            Ok(r) if r.status() == reqwest::StatusCode::NOT_MODIFIED => Ok(None),
            Ok(r) if r.status().is_success() => r
                .json::<crate::catalogue::KioskCatalogue>()
                .await
                .map(Some)
                .map_err(BackendError::from_reqwest),
            Ok(r) => {
                let status = r.status().as_u16();
                if status == 401 || status == 403 {
                    self.forget_credentials();
                }
                Err(BackendError::Api {
                    status,
                    body: ApiErrorBody {
                        code: format!("HTTP_{status}"),
                        message_zh: "事项目录暂时无法获取".into(),
                        message_en: "the catalogue is unavailable".into(),
                    },
                })
            }
            Err(e) => Err(e),
        };
        self.record(&result);
        result
    }

    /// The current token, if enrolled (for the outbox's courier).
    pub fn token(&self) -> Option<String> {
        self.read_credentials().map(|c| c.token)
    }

    /// The backend refused the token: enrol again at the next call.
    pub fn token_refused(&self) {
        self.forget_credentials();
    }

    /// The cases of the person with `id_number`, newest first.
    pub async fn lookup_cases(&self, id_number: &str) -> Result<CaseList, BackendError> {
        let body = CaseLookup {
            id_number: id_number.to_string(),
        };
        self.authed(self.post("/cases/lookup").json(&body)).await
    }

    /// One case's progress (`POST /api/v1/cases/progress`): by the case
    /// number and the last six characters of the applicant's ID number,
    /// or by the track code of the receipt's QR. A wrong pair is
    /// [`BackendError::Api`] with status 404, exactly like an unknown
    /// number; too many tries are status 429 with the backend's message.
    pub async fn case_progress(
        &self,
        query: &proto::CaseProgressQuery,
    ) -> Result<proto::CaseProgress, BackendError> {
        self.authed(self.post("/cases/progress").json(query)).await
    }
}

/// Maps the hal's device class to the wire's.
pub fn wire_kind(kind: DeviceKind) -> proto::DeviceKind {
    match kind {
        DeviceKind::IdCardReader => proto::DeviceKind::IdCardReader,
        DeviceKind::FingerprintScanner => proto::DeviceKind::FingerprintScanner,
        DeviceKind::BarcodeScanner => proto::DeviceKind::BarcodeScanner,
        DeviceKind::Camera => proto::DeviceKind::Camera,
        DeviceKind::DocumentCamera => proto::DeviceKind::DocumentCamera,
        DeviceKind::ReceiptPrinter => proto::DeviceKind::ReceiptPrinter,
        DeviceKind::DocumentPrinter => proto::DeviceKind::DocumentPrinter,
        DeviceKind::CardReader => proto::DeviceKind::CardReader,
        DeviceKind::PinPad => proto::DeviceKind::PinPad,
    }
}

/// Maps the hal's health state to the wire's.
pub fn wire_state(state: HealthState) -> DeviceState {
    match state {
        HealthState::Ok => DeviceState::Ok,
        HealthState::Degraded => DeviceState::Degraded,
        HealthState::Fault => DeviceState::Fault,
        HealthState::Offline => DeviceState::Offline,
    }
}

/// One device's health as the backend receives it.
pub fn device_health(name: &str, kind: DeviceKind, health: &Health) -> DeviceHealth {
    DeviceHealth {
        device: name.to_string(),
        kind: wire_kind(kind),
        state: wire_state(health.state),
        fault_code: health.fault_code.clone(),
        text_zh: health.text_zh.clone(),
        text_en: health.text_en.clone(),
        counters: health.counters.clone(),
        last_self_test: health
            .last_self_test
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339()),
    }
}

/// A device whose health the heartbeat reports.
#[derive(Clone)]
pub struct HealthSource {
    /// Name in the config.
    pub name: String,
    /// Its class.
    pub kind: DeviceKind,
    /// The actor's health watch.
    pub health: watch::Receiver<Health>,
}

impl std::fmt::Debug for HealthSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthSource")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish()
    }
}

/// Enrols (retrying with a growing pause while the backend cannot be
/// reached), then sends a heartbeat every `every` and at once when any
/// device's health changes. Runs until the task is aborted.
pub async fn heartbeat_loop(
    client: Arc<BackendClient>,
    sources: Vec<HealthSource>,
    every: Duration,
) {
    let changed = Arc::new(Notify::new());
    let mut watchers = Vec::new();
    for source in &sources {
        let mut rx = source.health.clone();
        let changed = Arc::clone(&changed);
        watchers.push(tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                changed.notify_one();
            }
        }));
    }
    struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.iter().for_each(tokio::task::JoinHandle::abort);
        }
    }
    let _watchers = AbortOnDrop(watchers);

    let mut retry = Duration::from_secs(2);
    loop {
        let sent = match client.ensure_enrolled().await {
            Ok(_) => {
                let devices: Vec<DeviceHealth> = sources
                    .iter()
                    .map(|s| {
                        let h = s.health.borrow().clone();
                        device_health(&s.name, s.kind, &h)
                    })
                    .collect();
                client.heartbeat(devices).await
            }
            Err(e) => Err(e),
        };
        let pause = match sent {
            Ok(_) => {
                retry = Duration::from_secs(2);
                if client.clock_state().is_ok() {
                    every
                } else {
                    every.min(CLOCK_RECHECK)
                }
            }
            Err(e) => {
                tracing::warn!(code = %e.code(), "heartbeat failed: {e}");
                let pause = retry.min(every);
                retry = (retry * 2).min(Duration::from_secs(60));
                pause
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = changed.notified() => {
                // Let a burst of changes settle into one report.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    #[test]
    fn health_maps_to_the_wire() {
        let mut h = Health::from_kind(HealthState::Fault, hal::ErrorKind::PaperOut);
        h.counters = BTreeMap::from([("prints".to_string(), 3)]);
        h.last_self_test = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
        let d = device_health("receipt_printer", DeviceKind::ReceiptPrinter, &h);
        assert_eq!(d.device, "receipt_printer");
        assert_eq!(d.kind, proto::DeviceKind::ReceiptPrinter);
        assert_eq!(d.state, DeviceState::Fault);
        assert_eq!(d.fault_code.as_deref(), Some("PAPER_OUT"));
        assert_eq!(d.text_zh, "打印机缺纸");
        assert_eq!(d.counters.get("prints"), Some(&3));
        assert_eq!(
            d.last_self_test.as_deref(),
            Some("2027-01-15T08:00:00+00:00")
        );

        let d = device_health(
            "idcard",
            DeviceKind::IdCardReader,
            &Health::offline(hal::ErrorKind::NotFound),
        );
        assert_eq!(d.state, DeviceState::Offline);
        assert_eq!(d.kind.as_str(), "id_card_reader");
        assert!(d.last_self_test.is_none());
    }

    fn config(url: &str, dir: &std::path::Path) -> Config {
        Config::from_toml(
            &format!(
                "kiosk_name = \"t\"\nlocation = \"l\"\nbackend_url = \"{url}\"\nenrolment_code = \"C\"\ndata_dir = \"{}\"\nmaintenance_pin = \"1234\"\n",
                dir.display()
            ),
            std::path::Path::new("t"),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn an_unreachable_backend_fails_fast_with_a_message() {
        // A port nobody listens on: bind, learn the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("kiosk-bc-{}", uuid::Uuid::new_v4()));
        let client =
            BackendClient::new(&config(&format!("http://127.0.0.1:{port}"), &dir)).unwrap();
        let started = std::time::Instant::now();
        let err = client.ensure_enrolled().await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(err.kind(), BackendErrorKind::Unreachable);
        assert!(err.user_message().contains("无法连接政务服务平台"));
        assert!(err.user_message().contains("cannot be reached"));
        assert_eq!(client.status().borrow().reachable, Some(false));
        let err = client.lookup_cases("410403198503150013").await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::NotEnrolled);
    }

    #[tokio::test]
    async fn a_silent_backend_times_out() {
        // Accepts connections and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let dir = std::env::temp_dir().join(format!("kiosk-bc-{}", uuid::Uuid::new_v4()));
        let client = BackendClient::with_timeouts(
            &config(&format!("http://{addr}"), &dir),
            Duration::from_secs(1),
            Duration::from_millis(400),
        )
        .unwrap();
        let err = client.health().await.unwrap_err();
        assert_eq!(err.kind(), BackendErrorKind::Timeout);
        assert!(err.user_message().contains("超时"));
        hold.abort();
    }
}
