//! The farm's control API (JSON over HTTP on loopback) and its web page.
//!
//! | method and path | effect |
//! | --- | --- |
//! | `GET /` | a page with the devices and buttons for every action |
//! | `GET /api/devices` | `[{"device","kind","address","selector","state"}]` |
//! | `GET /api/people` | demo persons: `[{"key","name","id_number_masked"}]` |
//! | `POST /api/devices/{name}/card` | lay a card: `{"person":"zhangwei"}` or `{"card":{…}}` |
//! | `DELETE /api/devices/{name}/card` | remove the card |
//! | `POST /api/devices/{name}/pull` | the card is pulled during the next read |
//! | `POST /api/devices/{name}/fault` | one-shot fault: `{"fault":"bad_checksum"}` |
//! | `POST /api/devices/{name}/paper` | `{"paper":"ok"\|"near_end"\|"out"}` |
//! | `POST /api/devices/{name}/cover` | `{"open":true}` |
//! | `POST /api/devices/{name}/unplug` / `replug` | take the device away / bring it back |
//! | `GET /api/jobs` | every printed job: `[{"device","id","text","qr_codes",…}]` |
//! | `GET /api/jobs/{device}/{id}/png` | the job rendered as PNG |
//! | `DELETE /api/jobs` | forget received jobs |
//!
//! Errors are `{"error": "…"}` with 400 (bad request), 404 (no such
//! device or job) or 409 (action does not fit the device class).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::farm::{Farm, SimDevice};
use crate::idcard::{IdFault, SimCard, demo_people};
use crate::printer::SimPaper;

type Shared = Arc<Farm>;

/// The control router over a running farm.
pub fn router(farm: Arc<Farm>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/devices", get(devices))
        .route("/api/people", get(people))
        .route(
            "/api/devices/{name}/card",
            post(lay_card).delete(remove_card),
        )
        .route("/api/devices/{name}/pull", post(pull))
        .route("/api/devices/{name}/fault", post(fault))
        .route("/api/devices/{name}/paper", post(paper))
        .route("/api/devices/{name}/cover", post(cover))
        .route("/api/devices/{name}/unplug", post(unplug))
        .route("/api/devices/{name}/replug", post(replug))
        .route("/api/jobs", get(jobs).delete(clear_jobs))
        .route("/api/jobs/{device}/{id}/png", get(job_png))
        .with_state(farm)
}

struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

fn device<'a>(farm: &'a Farm, name: &str) -> Result<&'a SimDevice, ApiError> {
    farm.get(name)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no device named {name:?}")))
}

fn idcard<'a>(farm: &'a Farm, name: &str) -> Result<&'a crate::idcard::IdCardSim, ApiError> {
    match device(farm, name)? {
        SimDevice::IdCard(s) => Ok(s),
        _ => Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not an ID card reader"),
        )),
    }
}

fn printer<'a>(farm: &'a Farm, name: &str) -> Result<&'a crate::printer::PrinterSim, ApiError> {
    match device(farm, name)? {
        SimDevice::ReceiptPrinter(s) => Ok(s),
        _ => Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not a printer"),
        )),
    }
}

fn bad(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, e.to_string())
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(bad)
}

async fn devices(State(farm): State<Shared>) -> Json<Value> {
    let list: Vec<Value> = farm
        .devices()
        .iter()
        .map(|(name, d)| {
            json!({
                "device": name,
                "kind": d.kind(),
                "address": d.address(),
                "selector": d.selector(),
                "state": d.state_json(),
            })
        })
        .collect();
    Json(Value::Array(list))
}

async fn people() -> Json<Value> {
    let list: Vec<Value> = demo_people()
        .into_iter()
        .map(|(key, card)| {
            json!({ "key": key, "name": card.name, "id_number_masked": hal_free_mask(&card.id_number) })
        })
        .collect();
    Json(Value::Array(list))
}

/// Masks an ID number (first 6, last 4) without depending on `hal`.
fn hal_free_mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len());
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LayCard {
    #[serde(default)]
    person: Option<String>,
    #[serde(default)]
    card: Option<SimCard>,
}

async fn lay_card(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = idcard(&farm, &name)?;
    let req: LayCard = parse(&body)?;
    let card = match (req.person, req.card) {
        (Some(key), None) => crate::idcard::demo_person(&key)
            .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no demo person {key:?}")))?,
        (None, Some(card)) => card,
        _ => return Err(bad("give exactly one of \"person\" or \"card\"")),
    };
    sim.lay_card(card);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

async fn remove_card(State(farm): State<Shared>, Path(name): Path<String>) -> ApiResult {
    let sim = idcard(&farm, &name)?;
    sim.remove_card();
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

async fn pull(State(farm): State<Shared>, Path(name): Path<String>) -> ApiResult {
    let sim = idcard(&farm, &name)?;
    sim.pull_during_next_read();
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultReq {
    fault: IdFault,
}

async fn fault(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = idcard(&farm, &name)?;
    let req: FaultReq = parse(&body)?;
    sim.inject(req.fault);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaperReq {
    paper: SimPaper,
}

async fn paper(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = printer(&farm, &name)?;
    let req: PaperReq = parse(&body)?;
    sim.set_paper(req.paper);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoverReq {
    open: bool,
}

async fn cover(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = printer(&farm, &name)?;
    let req: CoverReq = parse(&body)?;
    sim.set_cover_open(req.open);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

fn set_plugged(farm: &Farm, name: &str, unplugged: bool) -> ApiResult {
    let d = device(farm, name)?;
    match d {
        SimDevice::IdCard(s) => s.set_unplugged(unplugged),
        SimDevice::ReceiptPrinter(s) => s.set_unplugged(unplugged),
    }
    Ok(Json(d.state_json()))
}

async fn unplug(State(farm): State<Shared>, Path(name): Path<String>) -> ApiResult {
    set_plugged(&farm, &name, true)
}

async fn replug(State(farm): State<Shared>, Path(name): Path<String>) -> ApiResult {
    set_plugged(&farm, &name, false)
}

async fn jobs(State(farm): State<Shared>) -> Json<Value> {
    let mut out = Vec::new();
    for (name, d) in farm.devices() {
        if let SimDevice::ReceiptPrinter(p) = d {
            for job in p.jobs() {
                let mut v = serde_json::to_value(&job).unwrap_or_default();
                if let Value::Object(m) = &mut v {
                    m.insert("device".into(), Value::String(name.clone()));
                }
                out.push(v);
            }
        }
    }
    Json(Value::Array(out))
}

async fn clear_jobs(State(farm): State<Shared>) -> Json<Value> {
    for (_, d) in farm.devices() {
        if let SimDevice::ReceiptPrinter(p) = d {
            p.clear_jobs();
        }
    }
    Json(json!({ "cleared": true }))
}

async fn job_png(
    State(farm): State<Shared>,
    Path((dev, id)): Path<(String, u64)>,
) -> Result<Response, ApiError> {
    let p = printer(&farm, &dev)?;
    let job = p
        .jobs()
        .into_iter()
        .find(|j| j.id == id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no job {id} on {dev}")))?;
    let path = job
        .png
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "job has no rendering".into()))?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, format!("rendering unavailable: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], bytes).into_response())
}

async fn page() -> Html<&'static str> {
    Html(include_str!("control_page.html"))
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use crate::farm::FarmConfig;

    fn farm() -> (Arc<Farm>, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("sim-ctl-{}-{}", std::process::id(), rand_suffix()));
        let mut cfg = FarmConfig::demo();
        for d in &mut cfg.devices {
            if d.address.is_some() {
                d.address = Some("127.0.0.1:0".parse().unwrap());
            }
        }
        (Arc::new(Farm::start(&cfg, &dir).unwrap()), dir)
    }

    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }

    async fn call(app: &Router, method: &str, uri: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn actions_change_device_state_and_errors_are_clear() {
        let (farm, _dir) = farm();
        let app = router(Arc::clone(&farm));

        let (s, v) = call(&app, "GET", "/api/devices", "").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v.as_array().unwrap().len(), 2);

        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/idcard/card",
            r#"{"person":"zhangwei"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["card_present"], true);
        assert_eq!(
            v["card"], "410403********0013",
            "the control API shows masked numbers only"
        );

        let (s, v) = call(&app, "DELETE", "/api/devices/idcard/card", "").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["card_present"], false);

        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/receipt_printer/paper",
            r#"{"paper":"out"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["paper"], "out");

        // Hostile and mistaken requests.
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/idcard/card",
            r#"{"person":"nobody"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert!(v["error"].as_str().unwrap().contains("nobody"));
        let (s, _) = call(&app, "POST", "/api/devices/idcard/card", "{not json").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = call(
            &app,
            "POST",
            "/api/devices/idcard/paper",
            r#"{"paper":"out"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, _) = call(&app, "POST", "/api/devices/ghost/unplug", "").await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        let (s, v) = call(&app, "GET", "/api/people", "").await;
        assert_eq!(s, StatusCode::OK);
        assert!(v.as_array().unwrap().iter().any(|p| p["name"] == "张伟"));
        assert!(!v.to_string().contains("410403198503150013"));
    }
}
