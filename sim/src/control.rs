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
//! | `POST /api/devices/{name}/fault` | one-shot fault: `{"fault":"bad_checksum"}` (ID card reader: also `garbage_before_frame`, `split_writes`, `read_failure`, `sam_failure`, `silence`; fingerprint: `bad_checksum`, `garbage`, `silence`, `{"status":N}`; scanner: `split_writes`, `noise`; PIN pad: `bad_checksum`, `silence`; camera: `corrupt_frame`, `truncated_frame`, `stall`) |
//! | `POST /api/devices/{name}/finger` | fingerprint sensor: `{"finger":"zhangwei"}`, `"unknown"`, `"poor"`, `"none"` |
//! | `POST /api/devices/{name}/scan` | code scanner: `{"text":"…","symbology":"qr","encoding":"utf8"}` or `{"hex":"…"}` |
//! | `POST /api/devices/{name}/insert` / `DELETE …/insert` | card reader: insert `{"card":"ssc","person":"zhangwei"}` (`"needs_psam":true` for a card that wants the PSAM), `{"card":"bank","person":"…"}`, `{"card":"blank"}`; or take it out |
//! | `POST /api/devices/{name}/keys` | PIN pad: keys pressed, `{"keys":"123456e"}` (`c` clear, `x` cancel, `e` enter) |
//! | `POST /api/devices/{name}/paper` | receipt printer `{"paper":"ok"\|"near_end"\|"out"}`, optionally `"runs_out_after": LINES`; A4 printer `{"paper":"ok"\|"out"}` |
//! | `POST /api/devices/{name}/cover` | `{"open":true}` (either printer) |
//! | `POST /api/devices/{name}/toner` | A4 printer: `{"level":0..100}` (≤10 warns, 0 stops) |
//! | `POST /api/devices/{name}/stopped` | A4 printer: `{"stopped":true}` |
//! | `POST /api/devices/{name}/scene` | camera: what it sees, `{"scene":"face"}`, `{"scene":"document","doc":"form\|certificate\|household\|dense","seed":N}`, `{"scene":"qr_phone","payload":"…"}`, `{"scene":"qr_paper","payload":"…"}`, `{"scene":"file","path":"…"}` (PNG/JPEG), `{"scene":"empty"}` |
//! | `POST /api/devices/{name}/look` | camera: `{"brightness":0..100,"contrast":…,"sharpness":…,"light":…}` (fields optional), as a client's `param.cgi` update would |
//! | `GET /api/devices/{name}/snapshot` | camera: one 640x480 JPEG of what it sees now |
//! | `POST /api/devices/{name}/unplug` / `replug` | take the device away / bring it back |
//! | `GET /api/jobs` | every printed job: `[{"device","id","text","qr_codes",…}]` (A4 jobs: `"kind":"a4"` with name, format, bytes, state) |
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

use crate::camera::{CamFault, CameraSim, SceneRequest};
use crate::farm::{Farm, SimDevice};
use crate::fingerprint::{FingerState, FpFault};
use crate::idcard::{IdFault, SimCard, demo_people};
use crate::ipp::IppSim;
use crate::pinpad::PadFault;
use crate::printer::SimPaper;
use crate::scanner::{ScanFault, ScanRequest};
use crate::vpcd::{SimSmartCard, VirtualCardSim};

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
        .route("/api/devices/{name}/finger", post(finger))
        .route("/api/devices/{name}/scan", post(scan))
        .route("/api/devices/{name}/keys", post(keys))
        .route("/api/devices/{name}/insert", post(insert).delete(eject))
        .route("/api/devices/{name}/toner", post(toner))
        .route("/api/devices/{name}/stopped", post(stopped))
        .route("/api/devices/{name}/cover", post(cover))
        .route("/api/devices/{name}/scene", post(scene))
        .route("/api/devices/{name}/look", post(look))
        .route("/api/devices/{name}/snapshot", get(snapshot))
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
struct FaultReq<F> {
    fault: F,
}

async fn fault(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let d = device(&farm, &name)?;
    match d {
        SimDevice::IdCard(s) => s.inject(parse::<FaultReq<IdFault>>(&body)?.fault),
        SimDevice::Fingerprint(s) => s.inject(parse::<FaultReq<FpFault>>(&body)?.fault),
        SimDevice::Scanner(s) => s.inject(parse::<FaultReq<ScanFault>>(&body)?.fault),
        SimDevice::PinPad(s) => s.inject(parse::<FaultReq<PadFault>>(&body)?.fault),
        SimDevice::Camera(s) => s.inject(parse::<FaultReq<CamFault>>(&body)?.fault),
        _ => {
            return Err(ApiError(
                StatusCode::CONFLICT,
                format!("{name} takes no injected faults"),
            ));
        }
    }
    Ok(Json(d.state_json()))
}

async fn finger(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let SimDevice::Fingerprint(sim) = device(&farm, &name)? else {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not a fingerprint scanner"),
        ));
    };
    sim.set_finger(parse::<FingerState>(&body)?);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

async fn scan(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let SimDevice::Scanner(sim) = device(&farm, &name)? else {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not a code scanner"),
        ));
    };
    sim.scan_request(&parse::<ScanRequest>(&body)?)
        .map_err(bad)?;
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

fn card_slot<'a>(farm: &'a Farm, name: &str) -> Result<&'a VirtualCardSim, ApiError> {
    match device(farm, name)? {
        SimDevice::CardReader(s) => Ok(s),
        _ => Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not a card reader"),
        )),
    }
}

async fn insert(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = card_slot(&farm, &name)?;
    let card: SimSmartCard = parse(&body)?;
    if let SimSmartCard::Ssc { person, .. } | SimSmartCard::Bank { person } = &card
        && crate::idcard::demo_person(person).is_none()
    {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no demo person {person:?}"),
        ));
    }
    sim.insert(card);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

async fn eject(State(farm): State<Shared>, Path(name): Path<String>) -> ApiResult {
    let sim = card_slot(&farm, &name)?;
    sim.remove();
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysReq {
    keys: String,
}

async fn keys(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let SimDevice::PinPad(sim) = device(&farm, &name)? else {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not a PIN pad"),
        ));
    };
    sim.press_keys(&parse::<KeysReq>(&body)?.keys)
        .map_err(bad)?;
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

fn a4<'a>(farm: &'a Farm, name: &str) -> Result<&'a IppSim, ApiError> {
    match device(farm, name)? {
        SimDevice::A4Printer(s) => Ok(s),
        _ => Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not an A4 printer"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TonerReq {
    level: u8,
}

async fn toner(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = a4(&farm, &name)?;
    let req: TonerReq = parse(&body)?;
    if req.level > 100 {
        return Err(bad("level is a percentage, 0 to 100"));
    }
    sim.set_toner_level(req.level);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoppedReq {
    stopped: bool,
}

async fn stopped(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = a4(&farm, &name)?;
    sim.set_stopped(parse::<StoppedReq>(&body)?.stopped);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaperReq {
    paper: SimPaper,
    /// Receipt printer: the paper runs out after this many lines of the
    /// next jobs (`null` clears it).
    #[serde(default)]
    runs_out_after: Option<u32>,
}

async fn paper(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let req: PaperReq = parse(&body)?;
    match device(&farm, &name)? {
        SimDevice::ReceiptPrinter(sim) => {
            sim.set_paper(req.paper);
            sim.set_paper_runs_out_after(req.runs_out_after);
            Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
        }
        SimDevice::A4Printer(sim) => {
            sim.set_media_empty(req.paper == SimPaper::Out);
            Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
        }
        _ => Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not a printer"),
        )),
    }
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
    let req: CoverReq = parse(&body)?;
    match device(&farm, &name)? {
        SimDevice::ReceiptPrinter(sim) => sim.set_cover_open(req.open),
        SimDevice::A4Printer(sim) => sim.set_cover_open(req.open),
        _ => {
            return Err(ApiError(
                StatusCode::CONFLICT,
                format!("{name} is not a printer"),
            ));
        }
    }
    Ok(Json(device(&farm, &name)?.state_json()))
}

fn set_plugged(farm: &Farm, name: &str, unplugged: bool) -> ApiResult {
    let d = device(farm, name)?;
    match d {
        SimDevice::IdCard(s) => s.set_unplugged(unplugged),
        SimDevice::ReceiptPrinter(s) => s.set_unplugged(unplugged),
        SimDevice::Fingerprint(s) => s.set_unplugged(unplugged),
        SimDevice::Scanner(s) => s.set_unplugged(unplugged).map_err(bad)?,
        SimDevice::PinPad(s) => s.set_unplugged(unplugged).map_err(bad)?,
        SimDevice::A4Printer(s) => s.set_unplugged(unplugged),
        SimDevice::CardReader(s) => s.set_unplugged(unplugged),
        SimDevice::Camera(s) => s.set_unplugged(unplugged),
    }
    Ok(Json(d.state_json()))
}

fn camera<'a>(farm: &'a Farm, name: &str) -> Result<&'a CameraSim, ApiError> {
    match device(farm, name)? {
        SimDevice::Camera(s) => Ok(s),
        _ => Err(ApiError(
            StatusCode::CONFLICT,
            format!("{name} is not a camera"),
        )),
    }
}

async fn scene(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = camera(&farm, &name)?.clone();
    let req: SceneRequest = parse(&body)?;
    // A file scene reads and decodes the image: off the async threads.
    tokio::task::spawn_blocking(move || {
        sim.set_scene(req)?;
        anyhow::Ok(sim.state())
    })
    .await
    .map_err(bad)?
    .map(|st| Json(serde_json::to_value(st).unwrap_or_default()))
    .map_err(|e| bad(format!("{e:#}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LookReq {
    brightness: Option<u8>,
    contrast: Option<u8>,
    sharpness: Option<u8>,
    light: Option<u8>,
}

async fn look(
    State(farm): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult {
    let sim = camera(&farm, &name)?;
    let req: LookReq = parse(&body)?;
    let mut l = sim.state().look;
    for (v, field) in [
        (req.brightness, &mut l.brightness),
        (req.contrast, &mut l.contrast),
        (req.sharpness, &mut l.sharpness),
        (req.light, &mut l.light),
    ] {
        if let Some(v) = v {
            if v > 100 {
                return Err(bad("camera settings are 0 to 100"));
            }
            *field = v;
        }
    }
    sim.set_look(l);
    Ok(Json(serde_json::to_value(sim.state()).unwrap_or_default()))
}

async fn snapshot(
    State(farm): State<Shared>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let sim = camera(&farm, &name)?.clone();
    let jpeg = tokio::task::spawn_blocking(move || sim.snapshot(640, 480))
        .await
        .map_err(bad)?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], jpeg.to_vec()).into_response())
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
        if let SimDevice::A4Printer(p) = d {
            for job in p.jobs() {
                let mut v = serde_json::to_value(&job).unwrap_or_default();
                if let Value::Object(m) = &mut v {
                    let text = format!(
                        "A4 《{}》 {} · {} bytes · {}",
                        m.get("name").and_then(Value::as_str).unwrap_or(""),
                        m.get("format").and_then(Value::as_str).unwrap_or(""),
                        m.get("bytes").and_then(Value::as_u64).unwrap_or(0),
                        m.get("state").and_then(Value::as_str).unwrap_or(""),
                    );
                    m.insert("device".into(), Value::String(name.clone()));
                    m.insert("kind".into(), Value::String("a4".into()));
                    m.insert("text".into(), Value::String(text));
                    m.insert("complete".into(), Value::Bool(true));
                }
                out.push(v);
            }
        }
    }
    Json(Value::Array(out))
}

async fn clear_jobs(State(farm): State<Shared>) -> Json<Value> {
    for (_, d) in farm.devices() {
        match d {
            SimDevice::ReceiptPrinter(p) => p.clear_jobs(),
            SimDevice::A4Printer(p) => p.clear_jobs(),
            _ => {}
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
        let kinds: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "id_card_reader",
                "receipt_printer",
                "fingerprint_scanner",
                "barcode_scanner",
                "pin_pad",
                "card_reader",
                "document_printer",
                "camera",
                "document_camera"
            ]
        );

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

    #[tokio::test]
    async fn the_other_devices_take_their_own_actions_only() {
        let (farm, _dir) = farm();
        let app = router(Arc::clone(&farm));

        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/fingerprint/finger",
            r#"{"finger":"zhangwei"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, _) = call(&app, "POST", "/api/devices/fingerprint/finger", r#""poor""#).await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = call(&app, "POST", "/api/devices/scanner/finger", r#""poor""#).await;
        assert_eq!(s, StatusCode::CONFLICT, "a scanner has no finger sensor");

        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/scanner/scan",
            r#"{"text":"41040320261128000001","symbology":"qr"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, _) = call(&app, "POST", "/api/devices/scanner/scan", r#"{"txt":"x"}"#).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/pin_pad/keys",
            r#"{"keys":"12"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(
            !v.to_string().contains("12\""),
            "the state never shows keys: {v}"
        );

        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/a4_printer/toner",
            r#"{"level":8}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["toner_level"], 8);
        let (s, _) = call(
            &app,
            "POST",
            "/api/devices/a4_printer/toner",
            r#"{"level":180}"#,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/a4_printer/paper",
            r#"{"paper":"out"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["media_empty"], true);
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/receipt_printer/paper",
            r#"{"paper":"ok","runs_out_after":5}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["paper_runs_out_after"], 5);

        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/card_reader/insert",
            r#"{"card":"bank","person":"zhangwei"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["card"], "bank:zhangwei");
        let (s, _) = call(
            &app,
            "POST",
            "/api/devices/card_reader/insert",
            r#"{"card":"ssc","person":"nobody"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, v) = call(&app, "DELETE", "/api/devices/card_reader/insert", "").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["card"], Value::Null);

        for d in [
            "fingerprint",
            "scanner",
            "pin_pad",
            "card_reader",
            "a4_printer",
            "face_camera",
        ] {
            let (s, v) = call(&app, "POST", &format!("/api/devices/{d}/unplug"), "").await;
            assert_eq!(s, StatusCode::OK, "{d}: {v}");
            assert_eq!(v["unplugged"], true, "{d}: {v}");
            let (s, _) = call(&app, "POST", &format!("/api/devices/{d}/replug"), "").await;
            assert_eq!(s, StatusCode::OK, "{d}");
        }
        farm.stop();
    }

    #[tokio::test]
    async fn cameras_take_scenes_looks_and_faults() {
        let (farm, _dir) = farm();
        let app = router(Arc::clone(&farm));
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/doc_camera/scene",
            r#"{"scene":"document","doc":"certificate","seed":4}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["scene"]["doc"], "certificate");
        assert_eq!(v["resolutions"][0], "4000x3000");
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/face_camera/scene",
            r#"{"scene":"qr_phone","payload":"41040320261128000001"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/face_camera/scene",
            r#"{"scene":"file","path":"/nonexistent/x.png"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().contains("x.png"), "{v}");
        let (s, _) = call(
            &app,
            "POST",
            "/api/devices/face_camera/scene",
            r#"{"scene":"moon"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = call(
            &app,
            "POST",
            "/api/devices/idcard/scene",
            r#"{"scene":"face"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::CONFLICT, "an ID card reader sees nothing");
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/doc_camera/look",
            r#"{"light":70}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["look"]["light"], 70);
        let (s, _) = call(
            &app,
            "POST",
            "/api/devices/doc_camera/look",
            r#"{"light":170}"#,
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, v) = call(
            &app,
            "POST",
            "/api/devices/face_camera/fault",
            r#"{"fault":"corrupt_frame"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["pending_faults"][0], "corrupt_frame");

        let (s, _) = call(
            &app,
            "POST",
            "/api/devices/face_camera/scene",
            r#"{"scene":"face"}"#,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let req = Request::builder()
            .uri("/api/devices/face_camera/snapshot")
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
            .await
            .unwrap();
        let img = image::load_from_memory(&bytes).unwrap();
        assert_eq!((img.width(), img.height()), (640, 480));
        farm.stop();
    }
}
