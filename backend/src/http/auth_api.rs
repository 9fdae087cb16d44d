//! Login, logout, registration and real-name binding as JSON.
//!
//! A successful login answers with the session token (for API clients,
//! which send it back in `X-Session-Token`) and sets it as an HttpOnly,
//! SameSite=Strict, Secure cookie (for browsers, which then send the CSRF
//! token with every state-changing request).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use proto::ApiErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiRoute;
use super::extract::{AccountAuth, ApiJson, SessionAuth};
use crate::AppState;
use crate::error::ApiError;
use crate::service::auth::{self, Principal, Registration, SESSION_COOKIE};

/// The routes of this audience.
pub(super) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::post("/api/v1/auth/staff/password", staff_password),
        ApiRoute::post("/api/v1/auth/staff/totp", staff_totp),
        ApiRoute::post("/api/v1/auth/login", account_login),
        ApiRoute::post("/api/v1/auth/logout", logout),
        ApiRoute::get("/api/v1/auth/me", me),
        ApiRoute::post("/api/v1/accounts", register),
        ApiRoute::post("/api/v1/accounts/me/real-name", bind_real_name),
    ]
}

/// The `Set-Cookie` value for a session token (empty token: delete it).
pub(crate) fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    if token.is_empty() {
        format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}")
    } else {
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
    }
}

pub(crate) fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Staff login, first factor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StaffPassword {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A session that still owes the TOTP code.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PendingToken {
    /// Send it with the code to `/api/v1/auth/staff/totp`.
    pub pending_token: String,
}

/// Staff login, second factor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StaffTotp {
    /// The token from the first step.
    pub pending_token: String,
    /// Six-digit code from the authenticator app.
    pub code: String,
}

/// A session.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionInfo {
    /// Session token (`X-Session-Token`).
    pub token: String,
    /// CSRF token for cookie-authenticated requests (`X-CSRF-Token`).
    pub csrf: String,
    /// Who is logged in.
    pub who: Me,
}

/// Who is logged in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    /// `staff` or `account`.
    pub kind: String,
    /// Display name (staff), masked real name or entity name (accounts).
    pub name: String,
    /// Staff: department.
    pub department: Option<String>,
    /// Staff: role codes.
    pub roles: Vec<String>,
    /// Accounts: `person` or `entity`.
    pub account_kind: Option<String>,
    /// Accounts: whether a real name is bound.
    pub real_name_bound: bool,
}

pub(crate) fn me_of(p: &Principal) -> Me {
    match p {
        Principal::Staff(s) => Me {
            kind: "staff".to_owned(),
            name: s.display_name.clone(),
            department: Some(s.department.clone()),
            roles: s.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            account_kind: None,
            real_name_bound: false,
        },
        Principal::Account(a) => Me {
            kind: "account".to_owned(),
            name: a
                .entity_name
                .clone()
                .or_else(|| {
                    a.real_name
                        .as_deref()
                        .map(crate::service::privacy::mask_name)
                })
                .unwrap_or_else(|| a.phone.chars().take(3).collect::<String>() + "********"),
            department: None,
            roles: Vec::new(),
            account_kind: Some(a.kind.clone()),
            real_name_bound: a.real_name.is_some(),
        },
    }
}

/// Staff login, step 1: user name and password.
#[utoipa::path(post, path = "/api/v1/auth/staff/password", tag = "auth",
    request_body = StaffPassword,
    responses(
        (status = 200, description = "Password right; the TOTP code is owed", body = PendingToken),
        (status = 401, description = "`LOGIN_FAILED` (same answer for every failure)", body = ApiErrorBody),
    ))]
pub async fn staff_password(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<StaffPassword>,
) -> Result<Json<PendingToken>, ApiError> {
    let p = auth::staff_password(&s.store, &req.username, &req.password, s.now()).await?;
    Ok(Json(PendingToken {
        pending_token: p.token,
    }))
}

/// Staff login, step 2: the TOTP code.
#[utoipa::path(post, path = "/api/v1/auth/staff/totp", tag = "auth",
    request_body = StaffTotp,
    responses(
        (status = 200, description = "Logged in; the cookie is set", body = SessionInfo),
        (status = 401, description = "`LOGIN_FAILED`", body = ApiErrorBody),
    ))]
pub async fn staff_totp(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<StaffTotp>,
) -> Result<Response, ApiError> {
    let staff = auth::staff_totp(&s.store, &req.pending_token, &req.code, s.now()).await?;
    let info = SessionInfo {
        csrf: ::auth::csrf::token(&req.pending_token),
        who: me_of(&Principal::Staff(staff)),
        token: req.pending_token.clone(),
    };
    let cookie = session_cookie(&req.pending_token, s.config.secure_cookies);
    Ok(with_cookie(Json(info).into_response(), &cookie))
}

/// Portal login.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AccountLogin {
    /// Mobile phone.
    pub phone: String,
    /// Password.
    pub password: String,
}

/// Portal login with phone and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = AccountLogin,
    responses(
        (status = 200, description = "Logged in; the cookie is set", body = SessionInfo),
        (status = 401, description = "`LOGIN_FAILED`", body = ApiErrorBody),
    ))]
pub async fn account_login(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<AccountLogin>,
) -> Result<Response, ApiError> {
    let (token, account) =
        auth::account_login(&s.store, &req.phone, &req.password, s.now()).await?;
    let info = SessionInfo {
        csrf: ::auth::csrf::token(&token),
        who: me_of(&Principal::Account(account)),
        token: token.clone(),
    };
    let cookie = session_cookie(&token, s.config.secure_cookies);
    Ok(with_cookie(Json(info).into_response(), &cookie))
}

/// Ends the session on the server and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`CSRF_REJECTED`", body = ApiErrorBody),
    ))]
pub async fn logout(State(s): State<AppState>, session: SessionAuth) -> Result<Response, ApiError> {
    auth::logout(&s.store, &session.auth, s.now()).await?;
    let resp = axum::http::StatusCode::NO_CONTENT.into_response();
    Ok(with_cookie(
        resp,
        &session_cookie("", s.config.secure_cookies),
    ))
}

/// Who is logged in.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses(
        (status = 200, description = "The principal", body = Me),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
    ))]
pub async fn me(session: SessionAuth) -> Json<Me> {
    Json(me_of(&session.auth.principal))
}

/// A new portal account.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewAccount {
    /// `person` or `entity`.
    pub kind: String,
    /// 11-digit mobile number (the login name).
    pub phone: String,
    /// Password (at least 10 characters, three kinds of character).
    pub password: String,
    /// Person: real name (with `id_number`, binds at once).
    #[serde(default)]
    pub real_name: Option<String>,
    /// Person: identity number.
    #[serde(default)]
    pub id_number: Option<String>,
    /// Entity: name.
    #[serde(default)]
    pub entity_name: Option<String>,
    /// Entity: unified social credit code.
    #[serde(default)]
    pub uscc: Option<String>,
}

/// The id of a new account.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountCreated {
    /// Account id.
    pub id: i64,
}

/// Registers a person or legal-entity account.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "auth",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Registered", body = AccountCreated),
        (status = 409, description = "`ACCOUNT_EXISTS`", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD` or `WEAK_PASSWORD`", body = ApiErrorBody),
    ))]
pub async fn register(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<NewAccount>,
) -> Result<(axum::http::StatusCode, Json<AccountCreated>), ApiError> {
    let id = auth::register(
        &s.store,
        Registration {
            kind: req.kind,
            phone: req.phone,
            password: req.password,
            real_name: req.real_name,
            id_number: req.id_number,
            entity_name: req.entity_name,
            uscc: req.uscc,
        },
        s.now(),
    )
    .await?;
    Ok((axum::http::StatusCode::CREATED, Json(AccountCreated { id })))
}

/// Real-name binding.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RealName {
    /// Name as on the ID card.
    pub real_name: String,
    /// Identity number.
    pub id_number: String,
}

/// Binds a real name and identity number to the logged-in person (实名认证).
#[utoipa::path(post, path = "/api/v1/accounts/me/real-name", tag = "auth",
    request_body = RealName,
    responses(
        (status = 204, description = "Bound"),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 409, description = "`ACCOUNT_EXISTS`: the number is bound to another account", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD`", body = ApiErrorBody),
    ))]
pub async fn bind_real_name(
    State(s): State<AppState>,
    who: AccountAuth,
    ApiJson(req): ApiJson<RealName>,
) -> Result<axum::http::StatusCode, ApiError> {
    auth::bind_real_name(
        &s.store,
        &who.account,
        &req.real_name,
        &req.id_number,
        s.now(),
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
