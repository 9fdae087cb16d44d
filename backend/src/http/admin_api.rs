//! Administration as JSON: catalogue changes and their review chain, the
//! provincial import, staff accounts, the holiday calendar, the audit log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use proto::ApiErrorBody;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ApiRoute;
use super::extract::{ApiJson, ApiPath, ApiQuery, StaffAuth};
use crate::AppState;
use crate::error::ApiError;
use crate::service::catalogue_admin::{
    self, ChangeRequest, ImportReport, LibraryFile, ReviewDecision, VersionLine,
};
use crate::service::staff_admin::{self, NewStaffRequest, StaffCreated, StaffLine};
use crate::store::AuditVerdict;

/// The routes of this audience.
pub(super) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::post("/api/v1/admin/matters/changes", register_change),
        ApiRoute::get("/api/v1/admin/matters/reviews", pending_reviews),
        ApiRoute::get("/api/v1/admin/matters/{code}/versions", versions),
        ApiRoute::post(
            "/api/v1/admin/matters/{code}/versions/{version}/review",
            review,
        ),
        ApiRoute::post("/api/v1/admin/catalogue/import", import),
        ApiRoute::get("/api/v1/admin/staff", list_staff),
        ApiRoute::post("/api/v1/admin/staff", create_staff),
        ApiRoute::post("/api/v1/admin/staff/{username}/active", set_active),
        ApiRoute::post("/api/v1/admin/holidays", import_holidays),
        ApiRoute::get("/api/v1/admin/audit", audit),
    ]
}

/// Versions in review or of one matter.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VersionList {
    /// The versions.
    pub items: Vec<VersionLine>,
}

/// Registers a local catalogue change (登记, 变更, 下放, 拆分, 暂停, 取消).
#[utoipa::path(post, path = "/api/v1/admin/matters/changes", tag = "admin",
    request_body = ChangeRequest,
    responses(
        (status = 201, description = "Registered; waits for 审核", body = VersionLine),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`: not a catalogue admin", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD`", body = ApiErrorBody),
    ))]
pub async fn register_change(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiJson(req): ApiJson<ChangeRequest>,
) -> Result<(StatusCode, Json<VersionLine>), ApiError> {
    let v = catalogue_admin::register_change(&s.store, &who.staff, req, s.now()).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Versions waiting for the caller's department in the review chain.
#[utoipa::path(get, path = "/api/v1/admin/matters/reviews", tag = "admin",
    responses(
        (status = 200, description = "Oldest first", body = VersionList),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
    ))]
pub async fn pending_reviews(
    State(s): State<AppState>,
    who: StaffAuth,
) -> Result<Json<VersionList>, ApiError> {
    let items = catalogue_admin::pending(&s.store, &who.staff).await?;
    Ok(Json(VersionList { items }))
}

/// Every version of a matter with its review trail.
#[utoipa::path(get, path = "/api/v1/admin/matters/{code}/versions", tag = "admin",
    params(("code" = String, Path, description = "Matter code")),
    responses(
        (status = 200, description = "Newest first", body = VersionList),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
        (status = 404, description = "No such matter", body = ApiErrorBody),
    ))]
pub async fn versions(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<VersionList>, ApiError> {
    let items = catalogue_admin::versions(&s.store, &who.staff, &code).await?;
    Ok(Json(VersionList { items }))
}

/// Passes or rejects a version at its stage (the last pass publishes).
#[utoipa::path(post, path = "/api/v1/admin/matters/{code}/versions/{version}/review", tag = "admin",
    params(
        ("code" = String, Path, description = "Matter code"),
        ("version" = u32, Path, description = "Version"),
    ),
    request_body = ReviewDecision,
    responses(
        (status = 200, description = "Decided", body = VersionLine),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`: not this stage's department", body = ApiErrorBody),
        (status = 404, description = "No such version", body = ApiErrorBody),
        (status = 409, description = "`MATTER_NOT_IN_REVIEW`", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD`", body = ApiErrorBody),
    ))]
pub async fn review(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiPath((code, version)): ApiPath<(String, u32)>,
    ApiJson(d): ApiJson<ReviewDecision>,
) -> Result<Json<VersionLine>, ApiError> {
    catalogue_admin::review(&s.store, &who.staff, &code, version, d, s.now())
        .await
        .map(Json)
}

/// Imports the provincial matter library (`weidong-matter-library/1`).
#[utoipa::path(post, path = "/api/v1/admin/catalogue/import", tag = "admin",
    request_body = LibraryFile,
    responses(
        (status = 200, description = "What changed", body = ImportReport),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`: not a catalogue admin", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD`", body = ApiErrorBody),
    ))]
pub async fn import(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiJson(file): ApiJson<LibraryFile>,
) -> Result<Json<ImportReport>, ApiError> {
    if !who.staff.has(proto::Role::CatalogueAdmin) {
        return Err(ApiError::Forbidden);
    }
    let actor = format!("staff:{}", who.staff.username);
    catalogue_admin::import(&s.store, &actor, file, s.now())
        .await
        .map(Json)
}

/// Staff accounts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffList {
    /// The accounts.
    pub items: Vec<StaffLine>,
}

/// Every staff account (system administrators).
#[utoipa::path(get, path = "/api/v1/admin/staff", tag = "admin",
    responses(
        (status = 200, description = "By department", body = StaffList),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
    ))]
pub async fn list_staff(
    State(s): State<AppState>,
    who: StaffAuth,
) -> Result<Json<StaffList>, ApiError> {
    let items = staff_admin::list_staff(&s.store, &who.staff).await?;
    Ok(Json(StaffList { items }))
}

/// Creates a staff account with its own TOTP secret (shown once).
#[utoipa::path(post, path = "/api/v1/admin/staff", tag = "admin",
    request_body = NewStaffRequest,
    responses(
        (status = 201, description = "Created", body = StaffCreated),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
        (status = 409, description = "`ACCOUNT_EXISTS`", body = ApiErrorBody),
        (status = 422, description = "`INVALID_FIELD` or `WEAK_PASSWORD`", body = ApiErrorBody),
    ))]
pub async fn create_staff(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiJson(req): ApiJson<NewStaffRequest>,
) -> Result<(StatusCode, Json<StaffCreated>), ApiError> {
    let created = staff_admin::create_staff(&s.store, &who.staff, req, s.now()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Enable or disable.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ActiveFlag {
    /// Whether the account may log in.
    pub active: bool,
}

/// Enables or disables a staff account (disabling ends its sessions).
#[utoipa::path(post, path = "/api/v1/admin/staff/{username}/active", tag = "admin",
    params(("username" = String, Path, description = "Login name")),
    request_body = ActiveFlag,
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
        (status = 404, description = "No such account", body = ApiErrorBody),
    ))]
pub async fn set_active(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiPath(username): ApiPath<String>,
    ApiJson(flag): ApiJson<ActiveFlag>,
) -> Result<StatusCode, ApiError> {
    staff_admin::set_staff_active(&s.store, &who.staff, &username, flag.active, s.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A holiday file.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct HolidayFile {
    /// The year file in the TOML format of `assets/holidays/2026.toml`.
    pub toml: String,
}

/// How many days were loaded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HolidaysLoaded {
    /// Holiday and make-up days stored.
    pub days: u32,
}

/// Loads a year of holidays and make-up working days (调休).
#[utoipa::path(post, path = "/api/v1/admin/holidays", tag = "admin",
    request_body = HolidayFile,
    responses(
        (status = 200, description = "Loaded", body = HolidaysLoaded),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
        (status = 422, description = "`HOLIDAY_FILE_INVALID`", body = ApiErrorBody),
    ))]
pub async fn import_holidays(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiJson(f): ApiJson<HolidayFile>,
) -> Result<Json<HolidaysLoaded>, ApiError> {
    if f.toml.len() > 64 * 1024 {
        return Err(ApiError::PayloadTooLarge);
    }
    let days = staff_admin::import_holidays(&s.store, &who.staff, &f.toml, s.now()).await?;
    Ok(Json(HolidaysLoaded { days }))
}

/// Paging of the audit log.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Rows before this id (default: the newest).
    pub before: Option<i64>,
}

/// One audit row.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditLine {
    /// Position in the chain.
    pub id: i64,
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: String,
    /// What.
    pub action: String,
    /// On what.
    pub object: String,
    /// Before (masked JSON).
    pub before: String,
    /// After (masked JSON).
    pub after: String,
    /// Detail.
    pub detail: String,
    /// Chained hash.
    pub hash: String,
}

/// A page of the audit log and the chain's verdict.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub items: Vec<AuditLine>,
    /// Whether the whole chain verifies.
    pub intact: bool,
    /// The first broken row, if any.
    pub broken_at: Option<i64>,
}

/// The audit log (audit administrators, supervisors; read only).
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "Newest first", body = AuditPage),
        (status = 401, description = "`NOT_LOGGED_IN`", body = ApiErrorBody),
        (status = 403, description = "`FORBIDDEN`", body = ApiErrorBody),
    ))]
pub async fn audit(
    State(s): State<AppState>,
    who: StaffAuth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let (rows, verdict) = staff_admin::audit_page(&s.store, &who.staff, q.before).await?;
    let (intact, broken_at) = match verdict {
        AuditVerdict::Intact { .. } => (true, None),
        AuditVerdict::Broken { at_id, .. } => (false, Some(at_id)),
    };
    Ok(Json(AuditPage {
        items: rows
            .into_iter()
            .map(|r| AuditLine {
                id: r.id,
                at: r.record.at,
                actor: r.record.actor,
                role: r.record.role,
                action: r.record.action,
                object: r.record.object,
                before: r.record.before,
                after: r.record.after,
                detail: r.record.detail,
                hash: r.hash,
            })
            .collect(),
        intact,
        broken_at,
    }))
}
