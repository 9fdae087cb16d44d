//! Cases as JSON: apply online, my cases, the case view, actions, the
//! correction, materials, the clerk inboxes and the outbound event feed.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use proto::ApiErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiRoute;
use super::extract::{AccountAuth, ApiJson, ApiPath, ApiQuery, SessionAuth, StaffAuth};
use crate::AppState;
use crate::error::ApiError;
use crate::service::apply::{self, Applied, EcertRef, Upload, WebApplication};
use crate::service::workflow::{self, ActionOutcome, ActionRequest, CaseLine, CaseView, Inbox};

/// The routes of this audience.
pub(super) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::post("/api/v1/applications", apply_online),
        ApiRoute::get("/api/v1/my/cases", my_cases),
        ApiRoute::get("/api/v1/cases/{case_number}", case_view),
        ApiRoute::post("/api/v1/cases/{case_number}/actions", case_action),
        ApiRoute::post("/api/v1/cases/{case_number}/correction", correction),
        ApiRoute::get("/api/v1/cases/{case_number}/materials/{id}", material),
        ApiRoute::get("/api/v1/clerk/inbox/{inbox}", inbox),
        ApiRoute::post("/api/v1/clerk/applications", window_apply),
        ApiRoute::get("/api/v1/clerk/drafts", list_drafts),
        ApiRoute::post("/api/v1/clerk/drafts", save_draft),
        ApiRoute::get("/api/v1/feed/case-events", feed),
    ]
}

/// A material sent as base64 in JSON (the web and window routes; the
/// kiosk's is `proto::MaterialUpload`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WebMaterialUpload {
    /// Material name from the guide.
    pub name: String,
    /// File name.
    pub filename: String,
    /// The bytes, base64 (standard alphabet).
    pub content_base64: String,
}

fn decode_uploads(list: Vec<WebMaterialUpload>) -> Result<Vec<Upload>, ApiError> {
    list.into_iter()
        .map(|m| {
            crate::service::check_text("materials.filename", &m.filename, 1, 120)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(m.content_base64.as_bytes())
                .map_err(|_| ApiError::InvalidField {
                    field: "materials.content_base64",
                    reason_zh: "文件内容不是有效的 base64",
                    reason_en: "not valid base64",
                })?;
            let media_type = apply::sniff(&bytes)?.to_owned();
            Ok(Upload {
                name: m.name,
                filename: m.filename,
                media_type,
                bytes,
            })
        })
        .collect()
}

/// An online application.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Application {
    /// Matter code.
    pub matter_code: String,
    /// Form data by field key.
    #[schema(value_type = Object)]
    pub form: serde_json::Map<String, serde_json::Value>,
    /// Uploaded materials.
    #[serde(default)]
    pub materials: Vec<WebMaterialUpload>,
    /// E-certificates standing in for materials.
    #[serde(default)]
    pub ecerts: Vec<EcertRef>,
    /// An agent applying for a legal entity: its credit code.
    #[serde(default)]
    pub for_entity: Option<String>,
}

/// Applies online.
#[utoipa::path(post, path = "/api/v1/applications", tag = "cases",
    request_body = Application,
    responses(
        (status = 201, description = "Filed", body = Applied),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`REAL_NAME_REQUIRED`, `FORBIDDEN` or `CSRF_REJECTED`", body = ApiErrorBody),
        (status = 422, description = "`FORM_FIELD`, `MATERIAL_MISSING`, `INVALID_FIELD` or `MATTER_NOT_FOUND`", body = ApiErrorBody),
    ))]
pub async fn apply_online(
    State(s): State<AppState>,
    who: AccountAuth,
    ApiJson(req): ApiJson<Application>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    crate::service::check_text("matter_code", &req.matter_code, 1, 128)?;
    let uploads = decode_uploads(req.materials)?;
    let applied = apply::apply_web(
        &s.store,
        &s.numbering,
        &who.account,
        WebApplication {
            matter_code: req.matter_code,
            form: req.form,
            uploads,
            ecerts: req.ecerts,
            for_entity: req.for_entity,
        },
        s.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(applied)))
}

/// A list of cases.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseLines {
    /// The cases.
    pub items: Vec<CaseLine>,
}

/// The logged-in account's cases.
#[utoipa::path(get, path = "/api/v1/my/cases", tag = "cases",
    responses(
        (status = 200, description = "Newest first", body = CaseLines),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
    ))]
pub async fn my_cases(
    State(s): State<AppState>,
    who: AccountAuth,
) -> Result<Json<CaseLines>, ApiError> {
    let items = workflow::my_cases(&s.store, &who.account, s.now()).await?;
    Ok(Json(CaseLines { items }))
}

/// One case with its timeline, materials, corrections, sub-cases and the
/// actions the viewer may take.
#[utoipa::path(get, path = "/api/v1/cases/{case_number}", tag = "cases",
    params(("case_number" = String, Path, description = "Case number")),
    responses(
        (status = 200, description = "The case", body = CaseView),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 404, description = "No such case, or not the viewer's", body = ApiErrorBody),
    ))]
pub async fn case_view(
    State(s): State<AppState>,
    who: SessionAuth,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<CaseView>, ApiError> {
    workflow::view(&s.store, &who.auth.principal, &number, s.now())
        .await
        .map(Json)
}

/// Acts on a case (accept, request correction, pass, approve, withdraw…).
#[utoipa::path(post, path = "/api/v1/cases/{case_number}/actions", tag = "cases",
    params(("case_number" = String, Path, description = "Case number")),
    request_body = ActionRequest,
    responses(
        (status = 200, description = "Done", body = ActionOutcome),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`CSRF_REJECTED`", body = ApiErrorBody),
        (status = 404, description = "No such case, or not the viewer's", body = ApiErrorBody),
        (status = 409, description = "`CASE_*`: refused in this state, role or department", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD`", body = ApiErrorBody),
    ))]
pub async fn case_action(
    State(s): State<AppState>,
    who: SessionAuth,
    ApiPath(number): ApiPath<String>,
    ApiJson(req): ApiJson<ActionRequest>,
) -> Result<Json<ActionOutcome>, ApiError> {
    workflow::act(&s.store, &who.auth.principal, &number, req, s.now())
        .await
        .map(Json)
}

/// The materials a correction notice asked for.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct Correction {
    /// Uploads, one per item asked for (or e-certificates).
    #[serde(default)]
    pub materials: Vec<WebMaterialUpload>,
    /// E-certificates.
    #[serde(default)]
    pub ecerts: Vec<EcertRef>,
    /// A note to the clerk.
    #[serde(default)]
    pub note: String,
}

/// Supplies the materials of the open correction notice and resubmits.
#[utoipa::path(post, path = "/api/v1/cases/{case_number}/correction", tag = "cases",
    params(("case_number" = String, Path, description = "Case number")),
    request_body = Correction,
    responses(
        (status = 200, description = "Resubmitted", body = ActionOutcome),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 404, description = "No such case, or not the viewer's", body = ApiErrorBody),
        (status = 409, description = "`CASE_*`: no correction is open", body = ApiErrorBody),
        (status = 422, description = "`MATERIAL_MISSING` or `INVALID_FIELD`", body = ApiErrorBody),
    ))]
pub async fn correction(
    State(s): State<AppState>,
    who: AccountAuth,
    ApiPath(number): ApiPath<String>,
    ApiJson(req): ApiJson<Correction>,
) -> Result<Json<ActionOutcome>, ApiError> {
    let uploads = decode_uploads(req.materials)?;
    apply::supply_correction(
        &s.store,
        &who.session.auth.principal,
        &number,
        uploads,
        req.ecerts,
        req.note,
        s.now(),
    )
    .await
    .map(Json)
}

/// One material's bytes (the read is audited).
#[utoipa::path(get, path = "/api/v1/cases/{case_number}/materials/{id}", tag = "cases",
    params(
        ("case_number" = String, Path, description = "Case number"),
        ("id" = i64, Path, description = "Material id"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 404, description = "No such material, or not the viewer's", body = ApiErrorBody),
    ))]
pub async fn material(
    State(s): State<AppState>,
    who: SessionAuth,
    ApiPath((number, id)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    let (filename, media_type, bytes) =
        workflow::material(&s.store, &who.auth.principal, &number, id, s.now()).await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{ascii}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// One inbox of the logged-in member of staff.
#[utoipa::path(get, path = "/api/v1/clerk/inbox/{inbox}", tag = "clerk",
    params(("inbox" = String, Path, description = "`todo`, `done`, `concluded`, `correction` or `all` (supervisors)")),
    responses(
        (status = 200, description = "Deadline first", body = CaseLines),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`: no case role", body = ApiErrorBody),
        (status = 404, description = "No such inbox", body = ApiErrorBody),
    ))]
pub async fn inbox(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiPath(which): ApiPath<String>,
) -> Result<Json<CaseLines>, ApiError> {
    let which = Inbox::from_code(&which).ok_or(ApiError::NotFound)?;
    let items = workflow::inbox(&s.store, &who.staff, which, s.now()).await?;
    Ok(Json(CaseLines { items }))
}

/// Cursor of the event feed.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Return events after this cursor (0: from the start).
    pub after: Option<i64>,
    /// Most events (default 100, at most 1000).
    pub limit: Option<u32>,
}

/// One event of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedEvent {
    /// Cursor of this event.
    pub cursor: i64,
    /// Case number.
    pub case_number: String,
    /// `submitted`, `accepted`, `correction_requested`, `concluded`…
    pub event: String,
    /// Status after the event.
    pub status: String,
    /// When (RFC 3339).
    pub at: String,
    /// Details (personal data masked).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedPage {
    /// Events, oldest first.
    pub events: Vec<FeedEvent>,
    /// Pass as `after` for the next page.
    pub next: i64,
}

/// The outbound feed of case events for the city platform (办件信息汇聚),
/// polled with a cursor. Requires `Authorization: Bearer <feed token>`.
#[utoipa::path(get, path = "/api/v1/feed/case-events", tag = "feed",
    params(FeedQuery),
    responses(
        (status = 200, description = "Events after the cursor", body = FeedPage),
        (status = 401, description = "No valid feed token", body = ApiErrorBody),
    ))]
pub async fn feed(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Result<Json<FeedPage>, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    let known = s
        .config
        .feed_tokens
        .iter()
        .any(|t| ::auth::constant_time_eq(t.as_bytes(), token.as_bytes()));
    if token.is_empty() || !known {
        return Err(ApiError::Unauthenticated);
    }
    let after = q.after.unwrap_or(0).max(0);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = s
        .store
        .read(move |tx| tx.events_after(after, limit))
        .await
        .map_err(ApiError::from)?;
    let next = rows.last().map_or(after, |r| r.id);
    let events = rows
        .into_iter()
        .map(|r| FeedEvent {
            cursor: r.id,
            case_number: r.case_number,
            event: r.event,
            status: r.status,
            at: r.at,
            payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    Ok(Json(FeedPage { events, next }))
}

/// A window application.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct WindowApplicationBody {
    /// Matter code.
    pub matter_code: String,
    /// The applicant as on their identity card.
    pub applicant: proto::Applicant,
    /// The legal entity applying, if any.
    #[serde(default)]
    pub entity: Option<crate::service::window::EntityParty>,
    /// An agent acting for the applicant (代办), if any.
    #[serde(default)]
    pub agent: Option<crate::service::window::AgentParty>,
    /// Form data.
    #[schema(value_type = Object)]
    pub form: serde_json::Map<String, serde_json::Value>,
    /// Scanned materials.
    #[serde(default)]
    pub materials: Vec<WebMaterialUpload>,
    /// E-certificates.
    #[serde(default)]
    pub ecerts: Vec<EcertRef>,
    /// The draft it comes from (deleted when filed).
    #[serde(default)]
    pub draft_id: Option<i64>,
}

/// Files an application at the window (the clerk's department must accept
/// the matter); an agent may act for the applicant.
#[utoipa::path(post, path = "/api/v1/clerk/applications", tag = "clerk",
    request_body = WindowApplicationBody,
    responses(
        (status = 201, description = "Filed", body = Applied),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`: not a window clerk of the accepting department", body = ApiErrorBody),
        (status = 422, description = "`FORM_FIELD`, `MATERIAL_MISSING`, `INVALID_FIELD` or `MATTER_NOT_FOUND`", body = ApiErrorBody),
    ))]
pub async fn window_apply(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiJson(req): ApiJson<WindowApplicationBody>,
) -> Result<(StatusCode, Json<Applied>), ApiError> {
    crate::service::check_text("matter_code", &req.matter_code, 1, 128)?;
    let uploads = decode_uploads(req.materials)?;
    let applied = crate::service::window::file(
        &s.store,
        &s.numbering,
        &who.staff,
        crate::service::window::WindowApplication {
            matter_code: req.matter_code,
            applicant: req.applicant,
            entity: req.entity,
            agent: req.agent,
            form: req.form,
            uploads,
            ecerts: req.ecerts,
            draft_id: req.draft_id,
        },
        s.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(applied)))
}

/// The clerk's drafts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftList {
    /// Newest first.
    pub items: Vec<crate::service::window::DraftLine>,
}

/// The logged-in window clerk's drafts (草稿).
#[utoipa::path(get, path = "/api/v1/clerk/drafts", tag = "clerk",
    responses(
        (status = 200, description = "Newest first", body = DraftList),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`: not a window clerk", body = ApiErrorBody),
    ))]
pub async fn list_drafts(
    State(s): State<AppState>,
    who: StaffAuth,
) -> Result<Json<DraftList>, ApiError> {
    let items = crate::service::window::drafts(&s.store, &who.staff).await?;
    Ok(Json(DraftList { items }))
}

/// A draft to save.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DraftBody {
    /// The draft to update; none for a new one.
    #[serde(default)]
    pub id: Option<i64>,
    /// Matter code.
    pub matter_code: String,
    /// What was typed so far (any JSON object, up to 64 KiB).
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

/// A saved draft's id.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DraftSaved {
    /// Id.
    pub id: i64,
}

/// Saves a window application as a draft.
#[utoipa::path(post, path = "/api/v1/clerk/drafts", tag = "clerk",
    request_body = DraftBody,
    responses(
        (status = 200, description = "Saved", body = DraftSaved),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
        (status = 404, description = "Not one of the clerk's drafts", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD`", body = ApiErrorBody),
    ))]
pub async fn save_draft(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiJson(req): ApiJson<DraftBody>,
) -> Result<Json<DraftSaved>, ApiError> {
    let id = crate::service::window::save_draft(
        &s.store,
        &who.staff,
        req.id,
        &req.matter_code,
        req.body,
        s.now(),
    )
    .await?;
    Ok(Json(DraftSaved { id }))
}
