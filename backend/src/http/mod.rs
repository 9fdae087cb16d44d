//! HTTP: one router per audience, thin handlers that call one service each,
//! and the middleware around them (body limit, security headers, access log).

mod admin;
mod admin_api;
mod admin_bulletin;
mod auth_api;
mod case_api;
mod clerk;
mod clerk_alerts;
mod clerk_window;
pub mod extract;
pub mod html;
mod kiosk_api;
mod oidc;
pub mod openapi;
mod portal;
mod portal_account;
mod portal_apply;
mod portal_track;
mod public_api;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::AppState;
use crate::error::ApiError;
use html::HtmlError;

/// Largest request body accepted (JSON included): 1 MiB.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// One JSON route under `/api/v1`: the table both the router and the
/// OpenAPI completeness test are built from.
pub(crate) struct ApiRoute {
    method: Method,
    path: &'static str,
    handler: MethodRouter<AppState>,
}

impl ApiRoute {
    fn get<H, T>(path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::GET,
            path,
            handler: get(handler),
        }
    }

    /// The same route with a larger body limit than [`BODY_LIMIT`] (routes
    /// that carry materials as base64).
    fn with_body_limit(mut self, limit: usize) -> Self {
        self.handler = self.handler.layer(DefaultBodyLimit::max(limit));
        self
    }

    fn post<H, T>(path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Self {
            method: Method::POST,
            path,
            handler: post(handler),
        }
    }
}

fn api_table() -> Vec<ApiRoute> {
    let mut routes = public_api::routes();
    routes.extend(kiosk_api::routes());
    routes.extend(auth_api::routes());
    routes.extend(case_api::routes());
    routes.extend(admin_api::routes());
    routes
}

/// Every `/api/v1` route the router serves, as `(method, path)`.
#[must_use]
pub fn api_routes() -> Vec<(Method, &'static str)> {
    api_table()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let api = api_table()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler));
    Router::new()
        .merge(api)
        .merge(portal::router())
        .merge(clerk::router())
        .merge(clerk_window::router())
        .merge(oidc::router())
        .merge(admin::router())
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(state.clone(), audit_denied))
        .layer(middleware::from_fn(headers_and_log))
        .with_state(state)
}

/// Records every refusal of a logged-in person (403: a role, department
/// or CSRF check said no) in the audit log, with who, the method and the
/// path (never the query or body), so attempts outside one's duties are
/// on record (三员分立, reliability.md S5).
async fn audit_denied(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let token = extract::session_token(&parts).map(|(t, _)| t);
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let resp = next.run(Request::from_parts(parts, body)).await;
    if resp.status() != axum::http::StatusCode::FORBIDDEN {
        return resp;
    }
    let Some(token) = token else {
        return resp;
    };
    let now = state.now();
    let who = match crate::service::auth::authenticate(&state.store, &token, now).await {
        Ok(Some(a)) => a.principal,
        Ok(None) => return resp,
        Err(e) => {
            tracing::warn!(error = %e, "cannot identify a refused request for the audit log");
            return resp;
        }
    };
    let record = crate::store::AuditRecord {
        at: crate::service::time::rfc3339_china(now),
        actor: who.actor(),
        role: who.role(),
        action: "access.denied".to_owned(),
        object: path.chars().take(200).collect(),
        detail: format!("method={method}"),
        ..crate::store::AuditRecord::default()
    };
    if let Err(e) = state.store.write(move |tx| tx.audit(&record)).await {
        tracing::error!(error = %e, "cannot record a refused request in the audit log");
    }
    resp
}

async fn fallback(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        ApiError::NotFound.into_response()
    } else {
        HtmlError(ApiError::NotFound).into_response()
    }
}

/// Security headers on every response, and one access-log line per request
/// (path only: never the query string, never a body).
async fn headers_and_log(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    tracing::info!(
        %method,
        path = %path,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_millis(),
        "request"
    );
    resp
}
