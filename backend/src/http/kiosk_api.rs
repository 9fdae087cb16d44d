//! Kiosk JSON routes: enrolment, heartbeat, the catalogue with the idle
//! screen's notices, case submission (with materials), lookup, progress,
//! corrections and alerts. All but enrolment need
//! `Authorization: Bearer <token>`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proto::{
    AlertAck, ApiErrorBody, CaseCreated, CaseList, CaseLookup, CaseProgress, CaseSubmission,
    EnrolRequest, EnrolResponse, Heartbeat, HeartbeatAck, KioskAlert, KioskCorrection,
};

use super::ApiRoute;
use super::extract::{ApiJson, KioskAuth};
use crate::AppState;
use crate::error::ApiError;
use crate::service::{alerts, bulletin, cases, kiosks};

/// Body limit of the routes that carry materials: 12 MiB of files (see
/// [`crate::service::apply::KIOSK_MAX_TOTAL_BYTES`]) are 16 MiB of base64,
/// plus the form and the applicant.
pub const KIOSK_UPLOAD_BODY_LIMIT: usize = 17 * 1024 * 1024;

/// The routes of this audience.
pub(super) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::post("/api/v1/kiosks/enrol", enrol),
        ApiRoute::post("/api/v1/kiosks/heartbeat", heartbeat),
        ApiRoute::get("/api/v1/kiosks/catalogue", catalogue),
        ApiRoute::post("/api/v1/kiosks/alerts", raise_alert),
        ApiRoute::post("/api/v1/cases", submit_case).with_body_limit(KIOSK_UPLOAD_BODY_LIMIT),
        ApiRoute::post("/api/v1/cases/lookup", lookup_cases),
        ApiRoute::post("/api/v1/cases/progress", case_progress),
        ApiRoute::post("/api/v1/cases/correction", kiosk_correction)
            .with_body_limit(KIOSK_UPLOAD_BODY_LIMIT),
    ]
}

/// Enrols a kiosk with a one-time code and issues its bearer token.
#[utoipa::path(
    post,
    path = "/api/v1/kiosks/enrol",
    tag = "kiosk",
    request_body = EnrolRequest,
    responses(
        (status = 200, description = "Enrolled; the token is shown only now", body = EnrolResponse),
        (status = 400, description = "Malformed body", body = ApiErrorBody),
        (status = 403, description = "Unknown or used code (`ENROLMENT_CODE_INVALID`)", body = ApiErrorBody),
        (status = 422, description = "Invalid field", body = ApiErrorBody),
    )
)]
pub async fn enrol(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> Result<Json<EnrolResponse>, ApiError> {
    kiosks::enrol(&s.store, &s.config.enrolment_codes, req, s.now())
        .await
        .map(Json)
}

/// Reports the kiosk's software version and every device's health.
#[utoipa::path(
    post,
    path = "/api/v1/kiosks/heartbeat",
    tag = "kiosk",
    request_body = Heartbeat,
    security(("kiosk_token" = [])),
    responses(
        (status = 200, description = "Stored", body = HeartbeatAck),
        (status = 400, description = "Malformed body", body = ApiErrorBody),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
        (status = 422, description = "Invalid field", body = ApiErrorBody),
    )
)]
pub async fn heartbeat(
    State(s): State<AppState>,
    KioskAuth(kiosk): KioskAuth,
    ApiJson(hb): ApiJson<Heartbeat>,
) -> Result<Json<HeartbeatAck>, ApiError> {
    kiosks::heartbeat(&s.store, &kiosk, hb, s.now())
        .await
        .map(Json)
}

/// Submits a case with its materials, agent and identity check;
/// idempotent by `idempotency_key` per kiosk. The reply carries the track
/// code for the receipt's QR.
#[utoipa::path(
    post,
    path = "/api/v1/cases",
    tag = "kiosk",
    request_body = CaseSubmission,
    security(("kiosk_token" = [])),
    responses(
        (status = 201, description = "Case created", body = CaseCreated),
        (status = 200, description = "Replay of an earlier submission: the original reply", body = CaseCreated),
        (status = 400, description = "Malformed body", body = ApiErrorBody),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
        (status = 409, description = "Key reused for another submission (`IDEMPOTENCY_KEY_REUSED`)", body = ApiErrorBody),
        (status = 413, description = "Body over 17 MiB (`PAYLOAD_TOO_LARGE`)", body = ApiErrorBody),
        (status = 415, description = "Not JSON (`UNSUPPORTED_MEDIA_TYPE`)", body = ApiErrorBody),
        (status = 422, description = "Unknown matter (`MATTER_NOT_FOUND`), `MATTER_NOT_AT_KIOSK`, `FORM_FIELD`, \
            `MATERIAL_MISSING`, `FINGERPRINT_REQUIRED`, or `INVALID_FIELD` (bad base64, a file over 10 MiB or all over 12 MiB, \
            a type other than claimed, a material not in the guide, an agent equal to the applicant)", body = ApiErrorBody),
    )
)]
pub async fn submit_case(
    State(s): State<AppState>,
    KioskAuth(kiosk): KioskAuth,
    ApiJson(sub): ApiJson<CaseSubmission>,
) -> Result<(StatusCode, Json<CaseCreated>), ApiError> {
    let out = cases::submit(&s.store, &s.numbering, &kiosk, sub, s.now()).await?;
    let status = if out.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(out.reply)))
}

/// Lists an applicant's cases by identity number (POST, so the number never
/// appears in a URL or an access log).
#[utoipa::path(
    post,
    path = "/api/v1/cases/lookup",
    tag = "kiosk",
    request_body = CaseLookup,
    security(("kiosk_token" = [])),
    responses(
        (status = 200, description = "The applicant's cases, newest first", body = CaseList),
        (status = 400, description = "Malformed body", body = ApiErrorBody),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
        (status = 422, description = "Invalid field", body = ApiErrorBody),
    )
)]
pub async fn lookup_cases(
    State(s): State<AppState>,
    KioskAuth(kiosk): KioskAuth,
    ApiJson(q): ApiJson<CaseLookup>,
) -> Result<Json<CaseList>, ApiError> {
    cases::lookup(&s.store, &kiosk, &q.id_number, s.now())
        .await
        .map(Json)
}

/// One case's progress by case number and either the last six characters
/// of the applicant's identity number or the receipt QR's track code (查询
/// by receipt), with its steps and any open correction notice.
#[utoipa::path(
    post,
    path = "/api/v1/cases/progress",
    tag = "kiosk",
    request_body = proto::CaseProgressQuery,
    security(("kiosk_token" = [])),
    responses(
        (status = 200, description = "The case and its steps", body = proto::CaseProgress),
        (status = 400, description = "Malformed body", body = ApiErrorBody),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
        (status = 404, description = "No case with this number and ID ending or track code (one answer for both)", body = ApiErrorBody),
        (status = 415, description = "Not JSON (`UNSUPPORTED_MEDIA_TYPE`)", body = ApiErrorBody),
        (status = 422, description = "Invalid field (`case_number`, `id_last6`, `track_code`)", body = ApiErrorBody),
    )
)]
pub async fn case_progress(
    State(s): State<AppState>,
    KioskAuth(kiosk): KioskAuth,
    ApiJson(q): ApiJson<proto::CaseProgressQuery>,
) -> Result<Json<proto::CaseProgress>, ApiError> {
    crate::service::workflow::kiosk_progress(&s.store, &kiosk, q, s.now())
        .await
        .map(Json)
}

/// Reports something staff should know now: a resident touched 呼叫工作人员,
/// maintenance mode was entered, a print failed. At most 10 a minute per
/// kiosk.
#[utoipa::path(
    post,
    path = "/api/v1/kiosks/alerts",
    tag = "kiosk",
    request_body = KioskAlert,
    security(("kiosk_token" = [])),
    responses(
        (status = 201, description = "Stored; staff see it on the fleet page", body = AlertAck),
        (status = 400, description = "Malformed body", body = ApiErrorBody),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
        (status = 413, description = "Body over 1 MiB (`PAYLOAD_TOO_LARGE`)", body = ApiErrorBody),
        (status = 415, description = "Not JSON (`UNSUPPORTED_MEDIA_TYPE`)", body = ApiErrorBody),
        (status = 422, description = "Invalid field (`screen` 1–100 characters, `detail` at most 200)", body = ApiErrorBody),
        (status = 429, description = "More than 10 alerts in a minute from this kiosk (`RATE_LIMITED`)", body = ApiErrorBody),
    )
)]
pub async fn raise_alert(
    State(s): State<AppState>,
    KioskAuth(kiosk): KioskAuth,
    ApiJson(alert): ApiJson<KioskAlert>,
) -> Result<(StatusCode, Json<AlertAck>), ApiError> {
    let ack = alerts::raise(&s.store, &kiosk, alert, s.now()).await?;
    Ok((StatusCode::CREATED, Json(ack)))
}

/// Supplies the missing materials of a case in 待补正 at the kiosk (the
/// applicant laid their ID card) and resubmits it; idempotent by
/// `idempotency_key` per kiosk.
#[utoipa::path(
    post,
    path = "/api/v1/cases/correction",
    tag = "kiosk",
    request_body = KioskCorrection,
    security(("kiosk_token" = [])),
    responses(
        (status = 200, description = "Resubmitted (or a replay): the case's progress after the change", body = CaseProgress),
        (status = 400, description = "Malformed body", body = ApiErrorBody),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
        (status = 404, description = "No such case, or the ID number is not its applicant's (one answer for both)", body = ApiErrorBody),
        (status = 409, description = "`CASE_NOT_IN_CORRECTION`, or `IDEMPOTENCY_KEY_REUSED` for another request", body = ApiErrorBody),
        (status = 413, description = "Body over 17 MiB (`PAYLOAD_TOO_LARGE`)", body = ApiErrorBody),
        (status = 415, description = "Not JSON (`UNSUPPORTED_MEDIA_TYPE`)", body = ApiErrorBody),
        (status = 422, description = "`MATERIAL_MISSING` (an item the notice asked for) or `INVALID_FIELD`", body = ApiErrorBody),
    )
)]
pub async fn kiosk_correction(
    State(s): State<AppState>,
    KioskAuth(kiosk): KioskAuth,
    ApiJson(req): ApiJson<KioskCorrection>,
) -> Result<Json<CaseProgress>, ApiError> {
    cases::correct(&s.store, &kiosk, req, s.now())
        .await
        .map(Json)
}

pub use proto::{Bulletin, KioskCatalogue};

/// Whether `If-None-Match` names `etag` (or is `*`); weak tags compare by
/// their opaque part.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

/// Every published matter in full, the notices for the idle screen and the
/// portal's public URL, with a strong `ETag`; `If-None-Match` with the
/// current tag answers 304.
#[utoipa::path(
    get,
    path = "/api/v1/kiosks/catalogue",
    tag = "kiosk",
    security(("kiosk_token" = [])),
    params(
        ("If-None-Match" = Option<String>, Header, description = "The `etag` of the copy the kiosk holds"),
    ),
    responses(
        (status = 200, description = "The catalogue", body = KioskCatalogue,
            headers(("ETag" = String, description = "Strong entity tag, as in the body"))),
        (status = 304, description = "Unchanged since the tag sent in `If-None-Match`",
            headers(("ETag" = String, description = "The current tag"))),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
    )
)]
pub async fn catalogue(
    State(s): State<AppState>,
    KioskAuth(_kiosk): KioskAuth,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let parts = bulletin::kiosk_catalogue(&s.store, s.now()).await?;
    let mut body = KioskCatalogue {
        etag: String::new(),
        generated_at: parts.changed_at,
        public_url: s.config.public_url.clone(),
        matters: parts.matters,
        notices: parts
            .notices
            .into_iter()
            .map(|b| Bulletin {
                title: b.title,
                body: b.body,
                published_at: b.published_at,
            })
            .collect(),
    };
    let content = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    body.etag = format!("\"{}\"", kiosks::sm3_hex(&content));
    let tag = HeaderValue::from_str(&body.etag).map_err(|e| ApiError::Internal(e.to_string()))?;
    if none_match(&headers, &body.etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response());
    }
    Ok(([(header::ETAG, tag)], Json(body)).into_response())
}
