//! Integration tests of the backend: the router driven with `oneshot`, on a
//! real SQLite file in a temporary directory, with a fixed clock.
// Tests index JSON replies freely: a missing key fails the test, as it should.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod admin;
mod admin_pages;
mod api;
mod backup;
mod clerk;
mod clerk_window;
mod engine_walk;
mod html;
mod kiosk;
mod openapi;
mod portal;
mod search;
mod security;
mod storage;
pub mod workflow;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use backend::{AppState, Config, FixedClock, app};
use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use tower::ServiceExt;

/// The demo identities of docs/API.md.
pub const ZHANG_WEI: &str = "410403198503150013";
pub const LI_XIUYING: &str = "410403196207080023";
pub const WANG_HAORAN: &str = "410403200109220036";
pub const ZHAO_GUILAN: &str = "410403194501010043";

/// A backend on its own database file, removed on drop.
pub struct TestApp {
    pub state: AppState,
    pub clock: Arc<FixedClock>,
    pub dir: PathBuf,
}

/// A reply: status, raw body, and the body as JSON when it is JSON.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub text: String,
    pub json: Value,
}

impl Reply {
    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "backend-it-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn config_for(dir: &std::path::Path) -> Config {
    Config {
        db: dir.join("backend.db"),
        enrolment_codes: vec!["WD-TEST-1".to_owned(), "WD-TEST-2".to_owned()],
        ..Config::default()
    }
}

impl TestApp {
    /// A seeded backend whose clock shows Friday 2026-11-27 10:00 in China.
    pub async fn new() -> Self {
        let dir = temp_dir("app");
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap(),
        ));
        let state = AppState::open(config_for(&dir), clock.clone())
            .await
            .unwrap();
        Self { state, clock, dir }
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.state.store.path()).unwrap()
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            content_type,
            text,
            json,
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_raw(
        &self,
        uri: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> Reply {
        let mut b = Request::builder().method(Method::POST).uri(uri);
        if let Some(ct) = content_type {
            b = b.header(header::CONTENT_TYPE, ct);
        }
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(body.into()).unwrap()).await
    }

    pub async fn post(&self, uri: &str, token: Option<&str>, body: &Value) -> Reply {
        self.post_raw(uri, token, Some("application/json"), body.to_string())
            .await
    }

    /// Enrols a kiosk with the first test code; returns its token.
    pub async fn enrol(&self) -> String {
        let r = self
            .post(
                "/api/v1/kiosks/enrol",
                None,
                &json!({
                    "enrolment_code": "WD-TEST-1",
                    "kiosk_name": "卫东区政务服务中心大厅1号机",
                    "location": "卫东区政务服务中心一楼大厅"
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json["token"].as_str().unwrap().to_owned()
    }

    /// The code of the catalogue matter with this name.
    pub async fn matter_code(&self, name: &str) -> String {
        let r = self.get("/api/v1/matters?limit=200").await;
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no matter {name}"))["code"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
