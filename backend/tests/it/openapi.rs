//! The OpenAPI document covers every /api/v1 route, and the committed copy
//! in docs/openapi.json is fresh. `UPDATE_OPENAPI=1` rewrites the copy.

use std::path::PathBuf;

use axum::http::StatusCode;
use backend::http::{api_routes, openapi};

use crate::TestApp;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json")
}

#[test]
fn every_api_route_is_documented_and_nothing_else() {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    let routes = api_routes();
    for (method, path) in &routes {
        assert!(path.starts_with("/api/v1/"), "{path}");
        let op = &paths
            .get(*path)
            .unwrap_or_else(|| panic!("{method} {path} missing from the OpenAPI document"))
            [method.as_str().to_ascii_lowercase()];
        assert!(
            op.is_object(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            assert!(
                routes
                    .iter()
                    .any(|(m, p)| p == path && m.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} documented but not routed"
            );
        }
    }
}

#[test]
fn committed_openapi_document_is_fresh() {
    let generated = openapi::document_pretty().unwrap();
    let path = committed_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p backend --test it openapi`"
    );
}

#[tokio::test]
async fn served_document_equals_the_generated_one() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json, serde_json::to_value(openapi::document()).unwrap());
}
