//! Liveness and readiness.

use proto::Health;

use crate::error::ApiError;
use crate::store::Store;

/// The backend's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Checks that the database answers.
///
/// # Errors
/// `SERVICE_UNAVAILABLE` when it does not.
pub async fn check(store: &Store) -> Result<Health, ApiError> {
    store
        .read(|tx| tx.ping())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Health {
        status: "ok".to_owned(),
        version: VERSION.to_owned(),
        db: "ok".to_owned(),
    })
}
