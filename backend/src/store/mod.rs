//! Storage: SQLite through rusqlite, and nowhere else.
//!
//! One writer connection and one reader connection, each behind a mutex and
//! used only inside `tokio::task::spawn_blocking`. Work happens in
//! transactions: [`Store::read`] hands a [`ReadTx`] (a deferred transaction,
//! so one consistent snapshot), [`Store::write`] a [`WriteTx`] (`BEGIN
//! IMMEDIATE`); the transaction commits when the closure returns `Ok` and
//! rolls back when it returns `Err` or unwinds.
//!
//! Pragmas at open: WAL, `synchronous=FULL` (an acknowledged submission
//! survives power loss), `busy_timeout`, `foreign_keys=ON`,
//! `secure_delete=ON` (deleted personal data is overwritten).

mod alerts;
mod audit;
mod bulletin;
mod cases;
mod drafts;
mod engine;
mod kiosks;
mod matters;
mod oidc;
mod people;
mod track;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use alerts::{AlertRow, DeviceChangeRow, NewAlert, StoredRequest};
pub use audit::{AuditRecord, AuditRow, AuditVerdict, GENESIS, chain_hash};
pub use bulletin::{BulletinRow, NewBulletin};
pub use cases::{CaseRow, NewCase, NewStep, StepRow, StoredSubmission};
pub use drafts::DraftRow;
pub use engine::{
    CaseCore, CorrectionRow, EventRow, InboxQuery, MaterialRow, NewMaterial, Position,
    SubcaseCounts,
};
pub use kiosks::{DeviceReport, FleetDeviceRow, KioskRow, NewKiosk};
pub use matters::{MatterReviewRow, MatterVersionRow, guide_digest};
pub use oidc::OidcPendingRow;
pub use people::{AccountRow, DepartmentRow, NewStaff, SessionRow, StaffRow};
pub use track::{TRACK_ALPHABET, TRACK_CODE_LEN, is_track_code, new_track_code};

/// Numbered migrations, applied in order, each in its own transaction and
/// recorded in `schema_version`. Never edit a published one: add the next.
pub const MIGRATIONS: &[(u32, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_case_engine.sql")),
    (3, include_str!("../../migrations/0003_oidc.sql")),
    (4, include_str!("../../migrations/0004_drafts.sql")),
    (5, include_str!("../../migrations/0005_kiosk_services.sql")),
];

/// Working days left at or below which a deadline shows yellow, unless
/// configured otherwise.
pub const DEFAULT_YELLOW_DAYS: u32 = 2;

/// How long a connection waits for a lock held by another before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A storage failure. Its detail is for the log, never for a client.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored JSON could not be encoded or decoded.
    #[error("stored json: {0}")]
    Json(#[from] serde_json::Error),
    /// A migration failed.
    #[error("migration {version} failed")]
    Migration {
        /// Migration number.
        version: u32,
        /// The error.
        #[source]
        source: rusqlite::Error,
    },
    /// The search index failed.
    #[error("search index: {0}")]
    Search(#[from] search::SearchError),
    /// A stored value is not one the code knows.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The blocking task died.
    #[error("storage task failed: {0}")]
    Task(String),
}

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    /// Working days left at or below which a deadline shows yellow.
    yellow_days: std::sync::atomic::AtomicU32,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

/// A read transaction: a consistent snapshot of the database.
#[derive(Debug)]
pub struct ReadTx<'c> {
    tx: Transaction<'c>,
    yellow_days: u32,
}

/// A write transaction; also offers every read through `Deref`.
#[derive(Debug)]
pub struct WriteTx<'c> {
    read: ReadTx<'c>,
}

impl<'c> Deref for WriteTx<'c> {
    type Target = ReadTx<'c>;
    fn deref(&self) -> &Self::Target {
        &self.read
    }
}

impl WriteTx<'_> {
    fn conn(&self) -> &Connection {
        &self.read.tx
    }
}

impl ReadTx<'_> {
    fn conn(&self) -> &Connection {
        &self.tx
    }

    /// Working days left at or below which a deadline shows yellow.
    #[must_use]
    pub const fn yellow_days(&self) -> u32 {
        self.yellow_days
    }

    /// Answers a trivial query: the database is reachable.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    /// The highest migration applied.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )?)
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock unwound the transaction, which rolled
    // back on drop: the connection itself is still sound.
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!(
            "journal_mode WAL refused, got {mode}"
        )));
    }
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(conn)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn migrate(conn: &mut Connection, now: DateTime<Utc>) -> Result<u32, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             applied_at TEXT NOT NULL
         ) STRICT;",
    )?;
    let mut current: u32 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?;
    for &(version, sql) in MIGRATIONS {
        if version <= current {
            continue;
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)
            .map_err(|source| StoreError::Migration { version, source })?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
            rusqlite::params![version, rfc3339(now)],
        )?;
        let write = WriteTx {
            read: ReadTx {
                tx,
                yellow_days: DEFAULT_YELLOW_DAYS,
            },
        };
        if version == 2 {
            let moved = write.chain_legacy_audit()?;
            if moved > 0 {
                tracing::info!(rows = moved, "chained the audit events of migration 1");
            }
        }
        if version == 5 {
            let filled = write.fill_missing_track_codes()?;
            if filled > 0 {
                tracing::info!(rows = filled, "gave existing cases a track code");
            }
        }
        write.read.tx.commit()?;
        tracing::info!(version, "applied database migration");
        current = version;
    }
    Ok(current)
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    /// Blocking: call it before serving or inside `spawn_blocking`.
    ///
    /// # Errors
    /// When the file cannot be opened, a pragma is refused, the integrity
    /// check fails or a migration fails.
    pub fn open_blocking(path: &Path, now: DateTime<Utc>) -> Result<Self, StoreError> {
        let mut writer = open_connection(path)?;
        let check: String = writer.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError::Corrupt(format!("quick_check: {check}")));
        }
        let version = migrate(&mut writer, now)?;
        // The search index is derived data: its tables are created here and
        // filled by `put_matter` (and rebuilt when empty).
        search::create_schema(&writer)?;
        matters::reindex_if_empty(&writer)?;
        let reader = open_connection(path)?;
        tracing::info!(path = %path.display(), schema_version = version, "database open");
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                yellow_days: std::sync::atomic::AtomicU32::new(DEFAULT_YELLOW_DAYS),
                writer: Mutex::new(writer),
                reader: Mutex::new(reader),
            }),
        })
    }

    /// Opens the database from async code.
    ///
    /// # Errors
    /// As [`Store::open_blocking`].
    pub async fn open(path: PathBuf, now: DateTime<Utc>) -> Result<Self, StoreError> {
        tokio::task::spawn_blocking(move || Self::open_blocking(&path, now))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Sets how many working days left make a deadline yellow (from the
    /// configuration; default 2).
    pub fn set_yellow_days(&self, days: u32) {
        self.inner
            .yellow_days
            .store(days, std::sync::atomic::Ordering::Relaxed);
    }

    /// Working days left at or below which a deadline shows yellow.
    #[must_use]
    pub fn yellow_days(&self) -> u32 {
        self.inner
            .yellow_days
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Path of the database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in a read transaction on the blocking pool.
    ///
    /// # Errors
    /// Whatever `f` returns, or a storage failure.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&ReadTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.reader);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Deferred)
                .map_err(StoreError::from)?;
            let read = ReadTx {
                tx,
                yellow_days: inner.yellow_days.load(std::sync::atomic::Ordering::Relaxed),
            };
            // Nothing was written: dropping the transaction ends it.
            f(&read)
        })
        .await
        .map_err(|e| E::from(StoreError::Task(e.to_string())))?
    }

    /// Runs `f` in a read transaction on the calling thread (for command-line
    /// tools and tests outside a runtime).
    ///
    /// # Errors
    /// Whatever `f` returns, or a storage failure.
    pub fn read_blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&ReadTx<'_>) -> Result<T, E>,
        E: From<StoreError>,
    {
        let mut conn = lock(&self.inner.reader);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(StoreError::from)?;
        f(&ReadTx {
            tx,
            yellow_days: self.yellow_days(),
        })
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`) on the blocking
    /// pool; commits on `Ok`, rolls back on `Err`.
    ///
    /// # Errors
    /// Whatever `f` returns, or a storage failure (then nothing was written).
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = lock(&inner.writer);
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::from)?;
            let write = WriteTx {
                read: ReadTx {
                    tx,
                    yellow_days: inner.yellow_days.load(std::sync::atomic::Ordering::Relaxed),
                },
            };
            let out = f(&write)?;
            write.read.tx.commit().map_err(StoreError::from)?;
            Ok(out)
        })
        .await
        .map_err(|e| E::from(StoreError::Task(e.to_string())))?
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn pragmas_are_set_and_migrations_recorded() {
        let dir = std::env::temp_dir().join(format!("backend-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let store = Store::open_blocking(&path, Utc::now()).unwrap();
        let conn = lock(&store.inner.writer);
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let fk: i64 = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let sd: i64 = conn
            .query_row("PRAGMA secure_delete", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sd, 1);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(conn);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
