//! Delivery: the [`Courier`] trait the loop calls, and [`HttpCourier`],
//! the backend's JSON API over reqwest.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use proto::{ApiErrorBody, CaseCreated};
use serde::Serialize;

use crate::item::Item;

/// What the backend answered to a delivered item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// A submission: the case the backend created.
    Case {
        /// The backend's reply.
        reply: CaseCreated,
        /// `true` when the backend answered a replay (200): the case had
        /// been created by an earlier attempt whose reply was lost.
        replayed: bool,
    },
    /// A correction: accepted for this case.
    Correction {
        /// The case the materials belong to.
        case_number: String,
        /// `true` when the backend answered a replay.
        replayed: bool,
    },
}

/// Why an item was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Try again later: no connection, timeout, 5xx, 401/403 (the kiosk
    /// must enrol again), 408, 425, 429, or a 404 because the route does
    /// not exist on this backend.
    #[error("暂未送达，稍后自动重试（Not delivered yet; it will be retried）: {0}")]
    Retryable(String),
    /// The backend refused the item for good (another 4xx): it is kept,
    /// body included, for maintenance.
    #[error("平台拒收（Refused by the platform） {code}: {message}")]
    Rejected {
        /// The backend's machine code, e.g. `INVALID_FIELD`.
        code: String,
        /// The backend's message, Chinese（English）.
        message: String,
    },
}

/// Delivers one item to the backend. Used generically by
/// [`crate::Outbox::run`]; the future must be `Send` so the loop can run
/// on a multi-threaded runtime. Implementations write
/// `async fn deliver(&self, item: &Item) -> Result<Delivered, DeliveryError>`.
pub trait Courier: Send + Sync + 'static {
    /// Sends `item` once (the key inside it makes a repeat harmless).
    fn deliver(&self, item: &Item)
    -> impl Future<Output = Result<Delivered, DeliveryError>> + Send;
}

impl<C: Courier> Courier for Arc<C> {
    fn deliver(
        &self,
        item: &Item,
    ) -> impl Future<Output = Result<Delivered, DeliveryError>> + Send {
        (**self).deliver(item)
    }
}

/// Where [`HttpCourier`] gets the kiosk's bearer token: the kiosk owns
/// enrolment. Any `Fn() -> Option<String>` is one.
pub trait TokenSource: Send + Sync + 'static {
    /// The current token; `None` while the kiosk is not enrolled (the item
    /// waits, retryable).
    fn token(&self) -> Option<String>;

    /// The backend refused the token (401/403): the kiosk should enrol
    /// again. Does nothing by default.
    fn refused(&self) {}
}

impl<F> TokenSource for F
where
    F: Fn() -> Option<String> + Send + Sync + 'static,
{
    fn token(&self) -> Option<String> {
        self()
    }
}

/// Which route an item goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Cases,
    Correction,
}

impl Route {
    const fn path(self) -> &'static str {
        match self {
            Self::Cases => "/cases",
            Self::Correction => "/cases/correction",
        }
    }
}

/// The backend's kiosk API as a [`Courier`]: `POST /api/v1/cases` for
/// submissions, `POST /api/v1/cases/correction` for corrections, JSON,
/// `Authorization: Bearer`, a timeout on every request.
///
/// Status codes: 201 → delivered, 200 → delivered (replay); 401, 403 →
/// retryable (and [`TokenSource::refused`]); 408, 425, 429 and 5xx →
/// retryable; 404 with the generic `NOT_FOUND` code (or no API error
/// body) means the route is missing on this backend (e.g. corrections on
/// an older one) → retryable; any other 4xx → rejected with the backend's
/// code and message.
pub struct HttpCourier<T> {
    http: reqwest::Client,
    base: String,
    tokens: T,
}

impl<T> std::fmt::Debug for HttpCourier<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCourier")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl<T: TokenSource> HttpCourier<T> {
    /// Time allowed to open a connection.
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
    /// Time allowed for a whole request (materials are several hundred KB).
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// A courier to the backend at `base_url` (e.g. `http://10.0.0.5:8080`)
    /// with the default timeouts.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(base_url: &str, tokens: T) -> Result<Self, reqwest::Error> {
        Self::with_timeouts(
            base_url,
            tokens,
            Self::CONNECT_TIMEOUT,
            Self::REQUEST_TIMEOUT,
        )
    }

    /// The same with explicit timeouts.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn with_timeouts(
        base_url: &str,
        tokens: T,
        connect: Duration,
        request: Duration,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(request)
            .user_agent(concat!("weidong-kiosk-outbox/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            tokens,
        })
    }

    /// The token source.
    pub fn tokens(&self) -> &T {
        &self.tokens
    }

    async fn post<B: Serialize + Sync>(
        &self,
        route: Route,
        body: &B,
    ) -> Result<(u16, Vec<u8>), DeliveryError> {
        let token = self
            .tokens
            .token()
            .ok_or_else(|| DeliveryError::Retryable("NOT_ENROLLED".into()))?;
        let url = format!("{}{}{}", self.base, proto::API_PREFIX, route.path());
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport_error)?;
        Ok((status, bytes.to_vec()))
    }
}

fn transport_error(e: reqwest::Error) -> DeliveryError {
    let what = if e.is_timeout() {
        "TIMEOUT"
    } else if e.is_connect() {
        "UNREACHABLE"
    } else {
        "TRANSPORT"
    };
    // reqwest's message names the URL, never the body.
    DeliveryError::Retryable(format!("{what}: {e}"))
}

/// The outcome of a non-2xx status on `route`, from the status and body.
fn classify_failure(route: Route, status: u16, body: &[u8]) -> DeliveryError {
    let api: Option<ApiErrorBody> = serde_json::from_slice(body).ok();
    let code = api
        .as_ref()
        .map_or_else(|| format!("HTTP_{status}"), |b| b.code.clone());
    let message = api.as_ref().map_or_else(
        || format!("HTTP {status}"),
        |b| format!("{}（{}）", b.message_zh, b.message_en),
    );
    match status {
        401 | 403 | 408 | 425 | 429 => DeliveryError::Retryable(format!("{status} {code}")),
        404 if api.is_none() || code == "NOT_FOUND" => DeliveryError::Retryable(format!(
            "{status} {code}: route {} missing on this backend",
            route.path()
        )),
        400..=499 => DeliveryError::Rejected { code, message },
        _ => DeliveryError::Retryable(format!("{status} {code}")),
    }
}

impl<T: TokenSource> Courier for HttpCourier<T> {
    async fn deliver(&self, item: &Item) -> Result<Delivered, DeliveryError> {
        let (route, (status, body)) = match item {
            Item::Submission(s) => (Route::Cases, self.post(Route::Cases, s).await?),
            Item::Correction(c) => (Route::Correction, self.post(Route::Correction, c).await?),
        };
        if (200..300).contains(&status) {
            let replayed = status == 200;
            return match item {
                Item::Submission(_) => serde_json::from_slice::<CaseCreated>(&body)
                    .map(|reply| Delivered::Case { reply, replayed })
                    .map_err(|e| DeliveryError::Retryable(format!("unreadable reply: {e}"))),
                Item::Correction(c) => Ok(Delivered::Correction {
                    case_number: c.case_number.clone(),
                    replayed,
                }),
            };
        }
        if status == 401 || status == 403 {
            self.tokens.refused();
        }
        Err(classify_failure(route, status, &body))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn api(code: &str) -> Vec<u8> {
        serde_json::to_vec(&ApiErrorBody {
            code: code.into(),
            message_zh: "中文".into(),
            message_en: "english".into(),
        })
        .unwrap()
    }

    #[test]
    fn status_codes_map_to_retry_or_reject() {
        let retry = |route, status, body: &[u8]| {
            matches!(
                classify_failure(route, status, body),
                DeliveryError::Retryable(_)
            )
        };
        assert!(retry(Route::Cases, 401, &api("UNAUTHENTICATED")));
        assert!(retry(Route::Cases, 403, &api("FORBIDDEN")));
        assert!(retry(Route::Cases, 429, b""));
        assert!(retry(Route::Cases, 500, &api("INTERNAL")));
        assert!(retry(Route::Cases, 503, b"<html>"));
        assert!(retry(Route::Correction, 404, &api("NOT_FOUND")));
        assert!(retry(Route::Correction, 404, b""));
        assert_eq!(
            classify_failure(Route::Cases, 422, &api("MATTER_NOT_AT_KIOSK")),
            DeliveryError::Rejected {
                code: "MATTER_NOT_AT_KIOSK".into(),
                message: "中文（english）".into()
            }
        );
        assert!(!retry(Route::Cases, 409, &api("IDEMPOTENCY_KEY_REUSED")));
        assert!(!retry(Route::Correction, 404, &api("CASE_NOT_FOUND")));
        assert!(!retry(Route::Cases, 413, b""));
    }
}
