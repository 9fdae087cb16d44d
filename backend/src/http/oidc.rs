//! Login through the provincial unified identity (统一身份认证), the
//! OpenID Connect relying party's two routes:
//!
//! - `GET /login/oidc?next=/my/cases` begins a login: `302` to the
//!   provider's authorization endpoint, with a short-lived, `SameSite=Lax`
//!   cookie that binds the login to this browser (so nobody can push their
//!   own login into someone else's browser).
//! - `GET /login/oidc/callback?code&state` finishes it: sets the portal
//!   session cookie and sends the browser on to `next`.
//!
//! Both answer `404` while the `[oidc]` configuration is absent. Every
//! failure (provider down, bad or expired state, invalid token) ends on a
//! page in Chinese and English with a link back to `/login`.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;

use super::auth_api::{session_cookie, with_cookie};
use super::html::{HtmlError, heading, html_escape, url_segment};
use super::portal::{Nav, portal_page, safe_next};
use crate::AppState;
use crate::config::Config;
use crate::error::ApiError;
use crate::service::oidc::{BROWSER_COOKIE, Callback, OidcClient, OidcError, PENDING_TTL_SECS};

/// Where a login goes when `next` is missing or not a local path.
const DEFAULT_NEXT: &str = "/my/cases";

/// The client shared by the handlers (`None` if it could not be built).
type Client = Option<Arc<OidcClient>>;

/// The routes, with the provider client (and its discovery cache) attached.
pub(super) fn router() -> Router<AppState> {
    let client: Client = match OidcClient::new() {
        Ok(c) => Some(Arc::new(c)),
        Err(e) => {
            tracing::error!(error = %e, "building the unified-identity HTTP client");
            None
        }
    };
    Router::new()
        .route("/login/oidc", get(start))
        .route("/login/oidc/callback", get(callback))
        .layer(Extension(client))
}

/// The button for the login page: empty while the `[oidc]` table is absent.
pub(super) fn login_button(config: &Config, next: &str) -> String {
    if config.oidc.is_none() {
        return String::new();
    }
    format!(
        "<p><a class=\"btn big secondary\" id=\"login-oidc\" href=\"/login/oidc?next={}\">\
         统一身份认证登录 <small lang=\"en\">Log in with the provincial unified identity</small></a></p>",
        html_escape(&url_segment(next))
    )
}

/// `Set-Cookie` for the browser-binding cookie (empty value: delete it).
fn browser_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let max_age = if value.is_empty() {
        0
    } else {
        PENDING_TTL_SECS
    };
    format!(
        "{BROWSER_COOKIE}={value}; Path=/login/oidc; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    )
}

/// The value of cookie `name` in the request, if any.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn status_of(e: &OidcError) -> StatusCode {
    match e {
        OidcError::Unavailable(_) => StatusCode::BAD_GATEWAY,
        OidcError::BadState
        | OidcError::CodeRejected(_)
        | OidcError::IdTokenInvalid(_)
        | OidcError::ClaimsMissing
        | OidcError::IdNumberInvalid => StatusCode::BAD_REQUEST,
        OidcError::Denied(_) | OidcError::NameMismatch | OidcError::AccountDisabled => {
            StatusCode::FORBIDDEN
        }
        OidcError::Store(_) | OidcError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The page for a failed login: what happened, in Chinese and English,
/// and the way back to `/login`.
fn error_page(e: &OidcError) -> Response {
    let status = status_of(e);
    if status.is_server_error() {
        tracing::error!(code = e.code(), error = %e, "unified-identity login failed");
    } else {
        tracing::warn!(code = e.code(), error = %e, "unified-identity login failed");
    }
    let (zh, en) = e.messages();
    let mut body = heading(
        1,
        "统一身份认证登录未完成",
        "Login with the unified identity failed",
    );
    let _ = write!(
        body,
        "<div class=\"alert\" role=\"alert\" id=\"form-error\" data-code=\"{code}\"><p>{zh}</p>\
         <p class=\"muted\" lang=\"en\">{en}</p></div>\
         <p><a class=\"btn\" id=\"back-to-login\" href=\"/login\">返回登录页 \
         <small lang=\"en\">Back to log in</small></a></p>",
        code = html_escape(e.code()),
        zh = html_escape(zh),
        en = html_escape(en),
    );
    (status, portal_page("登录未完成", &Nav::default(), &body)).into_response()
}

/// The page after a login: it sends the browser on to `next` itself. (A
/// `302` would not do: the callback arrives from the provider's site, and
/// browsers keep the `SameSite=Strict` session cookie off every request of
/// that redirect chain, so `next` would open logged out.)
fn logged_in_page(next: &str) -> Response {
    let href = html_escape(next);
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta http-equiv=\"refresh\" content=\"0;url={href}\">\n\
<title>登录成功 - 卫东区政务服务网</title>\n</head>\n<body>\n\
<p>登录成功，正在跳转…… <a id=\"continue\" href=\"{href}\">继续</a></p>\n\
<p lang=\"en\"><small>Logged in. <a href=\"{href}\">Continue</a></small></p>\n\
</body>\n</html>\n"
    ))
    .into_response()
}

/// `GET /login/oidc` query.
#[derive(Debug, Clone, Default, Deserialize)]
struct StartQuery {
    #[serde(default)]
    next: Option<String>,
}

async fn start(
    State(s): State<AppState>,
    Extension(client): Extension<Client>,
    query: Result<Query<StartQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(cfg) = s.config.oidc.as_ref() else {
        return HtmlError(ApiError::NotFound).into_response();
    };
    let Some(client) = client else {
        return error_page(&OidcError::Internal("no HTTP client".to_owned()));
    };
    let next = query
        .ok()
        .and_then(|Query(q)| q.next)
        .filter(|n| safe_next(n).is_some())
        .unwrap_or_else(|| DEFAULT_NEXT.to_owned());
    match client.begin(&s.store, cfg, &next, s.now()).await {
        Ok(begun) => with_cookie(
            (StatusCode::FOUND, [(header::LOCATION, begun.authorize_url)]).into_response(),
            &browser_cookie(&begun.browser_token, s.config.secure_cookies),
        ),
        Err(e) => error_page(&e),
    }
}

async fn callback(
    State(s): State<AppState>,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(cfg) = s.config.oidc.as_ref() else {
        return HtmlError(ApiError::NotFound).into_response();
    };
    let Some(client) = client else {
        return error_page(&OidcError::Internal("no HTTP client".to_owned()));
    };
    // A malformed query has no usable state: it fails as a bad state.
    let params = query.map(|Query(q)| q).unwrap_or_default();
    let browser = cookie_value(&headers, BROWSER_COOKIE);
    let secure = s.config.secure_cookies;
    let done = client
        .finish(&s.store, cfg, params, browser.as_deref(), s.now())
        .await;
    let resp = match done {
        Ok(f) => {
            let next = safe_next(&f.next).unwrap_or(DEFAULT_NEXT).to_owned();
            with_cookie(
                logged_in_page(&next),
                &session_cookie(&f.session_token, secure),
            )
        }
        Err(e) => error_page(&e),
    };
    with_cookie(resp, &browser_cookie("", secure))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::config::{OidcConfig, TokenAuth};

    fn with_oidc() -> Config {
        Config {
            oidc: Some(OidcConfig {
                issuer: "https://id.example".to_owned(),
                client_id: "wd".to_owned(),
                client_secret: "s".to_owned(),
                redirect_uri: "https://wd.example/login/oidc/callback".to_owned(),
                scopes: vec!["openid".to_owned()],
                id_number_claim: "id_number".to_owned(),
                name_claim: "name".to_owned(),
                token_auth: TokenAuth::ClientSecretBasic,
            }),
            ..Config::default()
        }
    }

    #[test]
    fn the_login_button_shows_only_when_configured() {
        assert_eq!(login_button(&Config::default(), "/my/cases"), "");
        let b = login_button(&with_oidc(), "/my/cases");
        assert!(b.contains("href=\"/login/oidc?next=%2Fmy%2Fcases\""), "{b}");
        assert!(b.contains("统一身份认证登录"));
    }

    #[test]
    fn the_binding_cookie_is_lax_short_lived_and_scoped() {
        let c = browser_cookie("abc", true);
        assert!(c.starts_with("wd_oidc=abc; Path=/login/oidc; HttpOnly; SameSite=Lax"));
        assert!(c.contains("Max-Age=600") && c.ends_with("; Secure"));
        assert!(browser_cookie("", false).contains("Max-Age=0"));
    }

    #[tokio::test]
    async fn without_the_oidc_table_both_routes_are_not_found() {
        use tower::ServiceExt as _;
        let dir = std::env::temp_dir().join(format!("backend-oidc-off-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let now = chrono::Utc::now();
        let store = crate::Store::open(dir.join("t.db"), now).await.unwrap();
        let state = AppState::new(
            Config::default(),
            store,
            Arc::new(crate::FixedClock::new(now)),
        );
        for uri in [
            "/login/oidc?next=/my/cases",
            "/login/oidc/callback?code=a&state=b",
        ] {
            let req = axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap();
            let resp = crate::app(state.clone()).oneshot(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{uri}");
            assert!(resp.headers().get(header::SET_COOKIE).is_none(), "{uri}");
        }
        drop(state);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1; wd_oidc=xyz".parse().unwrap());
        h.append(header::COOKIE, "wd_session=t".parse().unwrap());
        assert_eq!(cookie_value(&h, "wd_oidc").as_deref(), Some("xyz"));
        assert_eq!(cookie_value(&h, "wd_session").as_deref(), Some("t"));
        assert_eq!(cookie_value(&h, "nope"), None);
    }
}
