//! Public JSON routes: health, the matter catalogue, the OpenAPI document.

use axum::Json;
use axum::extract::State;
use proto::{ApiErrorBody, Health, Matter, MatterList, MatterQuery};

use super::ApiRoute;
use super::extract::{ApiPath, ApiQuery};
use crate::AppState;
use crate::error::ApiError;
use crate::service::{catalogue, health as health_service};

/// The routes of this audience.
pub(super) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute::get("/api/v1/health", health),
        ApiRoute::get("/api/v1/matters", list_matters),
        ApiRoute::get("/api/v1/matters/{code}", get_matter),
        ApiRoute::get("/api/v1/openapi.json", openapi_json),
    ]
}

/// Liveness and database readiness.
#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "public",
    responses(
        (status = 200, description = "Service and database answer", body = Health),
        (status = 503, description = "Database unavailable", body = ApiErrorBody),
    )
)]
pub async fn health(State(s): State<AppState>) -> Result<Json<Health>, ApiError> {
    health_service::check(&s.store).await.map(Json)
}

/// Lists and searches the matter catalogue.
#[utoipa::path(
    get,
    path = "/api/v1/matters",
    tag = "public",
    params(MatterQuery),
    responses(
        (status = 200, description = "One page of matching matters", body = MatterList),
        (status = 400, description = "Malformed query", body = ApiErrorBody),
        (status = 422, description = "Unacceptable search text", body = ApiErrorBody),
    )
)]
pub async fn list_matters(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<MatterQuery>,
) -> Result<Json<MatterList>, ApiError> {
    catalogue::list(&s.store, q.q.as_deref(), q.limit, q.offset)
        .await
        .map(Json)
}

/// The full service guide of one matter.
#[utoipa::path(
    get,
    path = "/api/v1/matters/{code}",
    tag = "public",
    params(("code" = String, Path, description = "Matter implementation code")),
    responses(
        (status = 200, description = "The guide", body = Matter),
        (status = 404, description = "No such matter (`MATTER_NOT_FOUND`)", body = ApiErrorBody),
    )
)]
pub async fn get_matter(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<Matter>, ApiError> {
    catalogue::get(&s.store, &code).await.map(Json)
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "public",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(super::openapi::document())
}
