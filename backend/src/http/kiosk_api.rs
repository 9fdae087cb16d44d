//! Kiosk JSON routes: enrolment, heartbeat, case submission and lookup.
//! All but enrolment need `Authorization: Bearer <token>`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use proto::{
    ApiErrorBody, CaseCreated, CaseList, CaseLookup, CaseSubmission, EnrolRequest, EnrolResponse,
    Heartbeat, HeartbeatAck,
};

use super::ApiRoute;
use super::extract::{ApiJson, KioskAuth};
use crate::AppState;
use crate::error::ApiError;
use crate::service::{cases, kiosks};

/// The routes of this audience.
pub(super) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::post("/api/v1/kiosks/enrol", enrol),
        ApiRoute::post("/api/v1/kiosks/heartbeat", heartbeat),
        ApiRoute::post("/api/v1/cases", submit_case),
        ApiRoute::post("/api/v1/cases/lookup", lookup_cases),
        ApiRoute::post("/api/v1/cases/progress", case_progress),
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

/// Submits a case; idempotent by `idempotency_key` per kiosk.
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
        (status = 422, description = "Unknown matter (`MATTER_NOT_FOUND`), matter not at kiosks, or invalid field", body = ApiErrorBody),
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

/// One case's progress by case number and the last six characters of the
/// applicant's identity number (查询 by receipt), with its steps and any open
/// correction notice.
#[utoipa::path(
    post,
    path = "/api/v1/cases/progress",
    tag = "kiosk",
    request_body = proto::CaseProgressQuery,
    security(("kiosk_token" = [])),
    responses(
        (status = 200, description = "The case and its steps", body = proto::CaseProgress),
        (status = 401, description = "No valid token (`UNAUTHENTICATED`)", body = ApiErrorBody),
        (status = 404, description = "No case with this number and ID ending", body = ApiErrorBody),
        (status = 422, description = "Invalid field", body = ApiErrorBody),
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
