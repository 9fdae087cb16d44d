//! Extractors whose rejections are [`ApiError`]s, so a malformed request
//! gets the same JSON error body as every other failure.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;
use crate::service::kiosks::{self, KioskIdentity};

/// A JSON body; rejections become `BAD_REQUEST`, `PAYLOAD_TOO_LARGE` or
/// `UNSUPPORTED_MEDIA_TYPE`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(r) => Err(json_rejection(&r)),
        }
    }
}

fn json_rejection(r: &JsonRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge;
    }
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
        other => ApiError::BadRequest(other.body_text()),
    }
}

/// Query parameters; a rejection becomes `BAD_REQUEST`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|r: QueryRejection| ApiError::BadRequest(r.body_text()))
    }
}

/// Path parameters; a rejection becomes `BAD_REQUEST`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|r: PathRejection| ApiError::BadRequest(r.body_text()))
    }
}

/// The kiosk named by a valid `Authorization: Bearer <token>` header.
#[derive(Debug, Clone)]
pub struct KioskAuth(pub KioskIdentity);

impl FromRequestParts<AppState> for KioskAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(ApiError::Unauthenticated)?;
        kiosks::authenticate(&state.store, token).await.map(Self)
    }
}

/// Header API clients send their session token in (instead of the cookie).
pub const SESSION_HEADER: &str = "x-session-token";
/// Header a cookie-authenticated request sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Where a session token came from: a cookie (so CSRF applies) or a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The `wd_session` cookie.
    Cookie,
    /// The `X-Session-Token` header.
    Header,
}

/// The session token of a request, if any.
#[must_use]
pub fn session_token(parts: &Parts) -> Option<(String, TokenSource)> {
    if let Some(t) = parts
        .headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some((t.to_owned(), TokenSource::Header));
    }
    let prefix = format!("{}=", crate::service::auth::SESSION_COOKIE);
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .find_map(|c| c.strip_prefix(prefix.as_str()))
        .filter(|t| !t.is_empty())
        .map(|t| (t.to_owned(), TokenSource::Cookie))
}

/// A logged-in principal (staff with both factors, or a portal account).
/// For cookie sessions, a state-changing request must carry the session's
/// CSRF token in `X-CSRF-Token` — except HTML forms, which carry it as a
/// field and are checked by their handler ([`SessionAuth::check_form_csrf`]).
#[derive(Debug, Clone)]
pub struct SessionAuth {
    /// Who.
    pub auth: crate::service::auth::Authenticated,
    /// Where the token came from.
    pub source: TokenSource,
}

impl SessionAuth {
    /// The CSRF token of this session (to put in forms).
    #[must_use]
    pub fn csrf(&self) -> String {
        auth::csrf::token(&self.auth.token)
    }

    /// Checks the CSRF field of a submitted HTML form.
    ///
    /// # Errors
    /// `CSRF_REJECTED` when it does not match.
    pub fn check_form_csrf(&self, presented: &str) -> Result<(), ApiError> {
        if auth::csrf::verify(&self.auth.token, presented) {
            Ok(())
        } else {
            Err(ApiError::CsrfRejected)
        }
    }
}

async fn session_of(parts: &Parts, state: &AppState) -> Result<Option<SessionAuth>, ApiError> {
    let Some((token, source)) = session_token(parts) else {
        return Ok(None);
    };
    let found = crate::service::auth::authenticate(&state.store, &token, state.now()).await?;
    Ok(found.map(|auth| SessionAuth { auth, source }))
}

fn is_unsafe(parts: &Parts) -> bool {
    !matches!(
        parts.method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    )
}

fn is_form(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/x-www-form-urlencoded")
                || v.starts_with("multipart/form-data")
        })
}

impl FromRequestParts<AppState> for SessionAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let s = session_of(parts, state)
            .await?
            .ok_or(ApiError::NotLoggedIn)?;
        if s.source == TokenSource::Cookie && is_unsafe(parts) && !is_form(parts) {
            let presented = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            s.check_form_csrf(presented)?;
        }
        Ok(s)
    }
}

/// An optional session (pages that show a login link when there is none).
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<SessionAuth>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(session_of(parts, state).await?))
    }
}

/// A logged-in member of staff.
#[derive(Debug, Clone)]
pub struct StaffAuth {
    /// The session.
    pub session: SessionAuth,
    /// The staff member.
    pub staff: crate::service::auth::StaffPrincipal,
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = SessionAuth::from_request_parts(parts, state).await?;
        match &session.auth.principal {
            crate::service::auth::Principal::Staff(s) => Ok(Self {
                staff: s.clone(),
                session,
            }),
            crate::service::auth::Principal::Account(_) => Err(ApiError::Forbidden),
        }
    }
}

/// A logged-in portal account.
#[derive(Debug, Clone)]
pub struct AccountAuth {
    /// The session.
    pub session: SessionAuth,
    /// The account.
    pub account: crate::service::auth::AccountPrincipal,
}

impl FromRequestParts<AppState> for AccountAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = SessionAuth::from_request_parts(parts, state).await?;
        match &session.auth.principal {
            crate::service::auth::Principal::Account(a) => Ok(Self {
                account: a.clone(),
                session,
            }),
            crate::service::auth::Principal::Staff(_) => Err(ApiError::Forbidden),
        }
    }
}
