//! The platform server for the Weidong District (卫东区) self-service
//! kiosks: the `/api/v1` JSON API (see `docs/API.md`), the public portal and
//! the clerk pages, on SQLite.
//!
//! Layers, one way only: [`http`] (routers per audience, thin handlers) →
//! [`service`] (domain rules; time passed in) → [`store`] (rusqlite, and
//! only there). [`app`] builds the router from an [`AppState`]; [`serve`]
//! runs it on a listener so tests can bind port 0.

pub mod backup;
pub mod clock;
pub mod config;
pub mod error;
pub mod http;
pub mod service;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use clock::{Clock, FixedClock, SystemClock};
pub use config::Config;
pub use error::ApiError;
pub use service::privacy::mask_id;
pub use store::Store;

/// Everything a request handler needs: configuration, storage, the clock.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Typed configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: Store,
    /// The one source of "now".
    pub clock: Arc<dyn Clock>,
    /// How case numbers are made (from the configuration).
    pub numbering: Arc<service::cases::CaseNumbering>,
}

impl AppState {
    /// Assembles a state from its parts.
    #[must_use]
    pub fn new(config: Config, store: Store, clock: Arc<dyn Clock>) -> Self {
        store.set_yellow_days(config.deadline_yellow_days);
        let numbering = Arc::new(numbering_of(&config));
        Self {
            config: Arc::new(config),
            store,
            clock,
            numbering,
        }
    }

    /// Opens (creating and migrating if needed) the database named in the
    /// config and, when `config.seed` is set and the catalogue is empty,
    /// seeds the demo catalogue and cases.
    ///
    /// # Errors
    /// When the database cannot be opened, migrated or seeded.
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let now = clock.now();
        let store = Store::open(config.db.clone(), now).await?;
        store.set_yellow_days(config.deadline_yellow_days);
        if config.seed {
            service::seed::seed_if_empty(&store, &numbering_of(&config), now)
                .await
                .map_err(|e| anyhow::anyhow!("seeding demo data: {e}"))?;
        }
        Ok(Self::new(config, store, clock))
    }

    /// The current time from the state's clock.
    #[must_use]
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// The case numbering of a configuration; a template that does not parse
/// (which `Config::validate` refuses) falls back to the default.
fn numbering_of(config: &Config) -> service::cases::CaseNumbering {
    let format =
        casework::ids::CaseNumberFormat::parse(&config.case_number_format).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "case_number_format invalid; using the default");
            casework::ids::CaseNumberFormat::DEFAULT
        });
    service::cases::CaseNumbering {
        district: config.district_code.clone(),
        format,
    }
}

/// The application router: `/api/v1`, the portal (`/`, `/matters/{code}`)
/// and the clerk pages (`/clerk`).
pub fn app(state: AppState) -> axum::Router {
    http::router(state)
}

/// Serves the application on `listener` until `shutdown` completes, then
/// lets requests in flight finish.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
