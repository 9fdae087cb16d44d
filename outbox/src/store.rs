//! The SQLite store: opening (pragmas, integrity check, quarantine of a
//! corrupt file, migrations), the outbox's state transitions, the queries
//! of the maintenance screen, receipts and the offline cache.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior, params};
use tokio::sync::{Notify, watch};

use crate::courier::Delivered;
use crate::error::{OutboxError, Result};
use crate::item::{Item, ItemKind, Label};
use crate::runner::Status;
use crate::schema;

/// Settings of an [`Outbox`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long delivered (and discarded) entries stay for receipt reprint
    /// and the maintenance screen's history (default 7 days).
    pub delivered_retention: Duration,
    /// How long rejected entries keep their body for maintenance before
    /// they are purged (default 30 days).
    pub rejected_retention: Duration,
    /// How long a statement waits for a lock held by another connection
    /// (default 5 s).
    pub busy_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            delivered_retention: Duration::from_secs(7 * 24 * 3600),
            rejected_retention: Duration::from_secs(30 * 24 * 3600),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// The state of an entry. See the crate documentation for the transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for delivery; the body is kept.
    Pending,
    /// The backend accepted it; the body is gone, the reply is kept.
    Delivered,
    /// The backend refused it for good; the body is kept for maintenance.
    Rejected,
    /// A rejected entry that maintenance discarded; the body is gone.
    Discarded,
}

impl State {
    /// Machine code stored in the database.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Rejected => "rejected",
            Self::Discarded => "discarded",
        }
    }

    /// Parses a machine code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Delivered,
            Self::Rejected,
            Self::Discarded,
        ]
        .into_iter()
        .find(|s| s.as_str() == code)
    }

    /// The state for the maintenance screen, Chinese.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Self::Pending => "待发送",
            Self::Delivered => "已送达",
            Self::Rejected => "被拒收",
            Self::Discarded => "已清除",
        }
    }

    /// The state for the maintenance screen, English.
    #[must_use]
    pub const fn en(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Delivered => "Delivered",
            Self::Rejected => "Rejected",
            Self::Discarded => "Discarded",
        }
    }
}

/// What [`Outbox::enqueue`] committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The entry's sequence number (increasing, never reused).
    pub seq: i64,
    /// The idempotency key sent to the backend (assigned if the item had none).
    pub idempotency_key: String,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
}

/// The backend's reply to a delivered entry (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Unified case number.
    pub case_number: String,
    /// The receipt QR's track code (submissions, when the backend sent one).
    pub track_code: Option<String>,
    /// Promised conclusion date (submissions).
    pub deadline: Option<String>,
    /// The backend's submission time (submissions).
    pub submitted_at: Option<String>,
    /// The backend answered a replay (200): an earlier attempt had
    /// already created the case and its reply was lost.
    pub replayed: bool,
    /// When the kiosk recorded the delivery.
    pub delivered_at: DateTime<Utc>,
}

/// Why the backend refused an entry for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The backend's machine code, e.g. `MATTER_NOT_AT_KIOSK`.
    pub code: String,
    /// The backend's message.
    pub message: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// One entry as the maintenance screen sees it: key, label, state and
/// reply. No personal data (the body is only available through
/// [`Outbox::item`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Sequence number.
    pub seq: i64,
    /// Submission or correction.
    pub kind: ItemKind,
    /// Idempotency key.
    pub idempotency_key: String,
    /// State.
    pub state: State,
    /// Masked label.
    pub label: Label,
    /// When queued.
    pub queued_at: DateTime<Utc>,
    /// Delivery attempts made.
    pub attempts: u32,
    /// The last failure (retryable or not), if any.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending entries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The reply (delivered entries).
    pub reply: Option<Reply>,
    /// The refusal (rejected and discarded entries).
    pub rejection: Option<Rejection>,
    /// The receipt's printable facts, as set by [`Outbox::set_receipt`].
    pub receipt: Option<serde_json::Value>,
    /// How many times the receipt was printed (1 or more: a further print is a 补打).
    pub prints: u32,
    /// When the receipt was last printed.
    pub printed_at: Option<DateTime<Utc>>,
    /// Whether the personal body is still stored.
    pub has_body: bool,
}

/// Number of entries per state, for the maintenance screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting for delivery.
    pub pending: u64,
    /// Delivered (within the retention period).
    pub delivered: u64,
    /// Rejected, body kept.
    pub rejected: u64,
    /// Rejected and discarded.
    pub discarded: u64,
    /// Entries with a receipt that was never printed.
    pub unprinted: u64,
}

/// What [`Outbox::purge_at`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Delivered and discarded entries past `delivered_retention`.
    pub delivered: usize,
    /// Rejected entries (with their bodies) past `rejected_retention`.
    pub rejected: usize,
}

/// A cached value (catalogue, notices) with its age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cached {
    /// The bytes as stored.
    pub value: Vec<u8>,
    /// The server's entity tag, for a conditional request.
    pub etag: Option<String>,
    /// When it was fetched (or last confirmed unchanged).
    pub fetched_at: DateTime<Utc>,
    /// How old it is now (zero if the clock went back).
    pub age: Duration,
}

impl Cached {
    /// The value parsed as JSON.
    ///
    /// # Errors
    /// When the bytes are not that JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_slice(&self.value)
    }
}

/// Rejection code of an entry whose stored body no longer parses as its
/// item (set by the delivery loop, so the queue is not blocked).
pub const BODY_UNREADABLE: &str = "BODY_UNREADABLE";

/// What the delivery loop should do next (internal).
pub(crate) enum Step {
    /// Nothing pending.
    Idle,
    /// Nothing due before this time.
    Later(DateTime<Utc>),
    /// This entry's body could not be read back; it was set aside as
    /// rejected with [`BODY_UNREADABLE`].
    Unreadable(i64),
    /// This entry is due.
    Due {
        seq: i64,
        attempts: u32,
        label: Label,
        item: Box<Item>,
    },
}

/// The kiosk's durable outbox. Cheap to share behind an `Arc`; every
/// method takes `&self` and blocks on SQLite (a commit waits for fsync),
/// so async code calls them through `spawn_blocking` (the delivery loop
/// does).
pub struct Outbox {
    conn: Mutex<Connection>,
    path: PathBuf,
    config: Config,
    quarantined: Option<PathBuf>,
    pub(crate) wake: Notify,
    pub(crate) status: watch::Sender<Status>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("path", &self.path)
            .field("quarantined", &self.quarantined)
            .finish_non_exhaustive()
    }
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

fn u32_of(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

fn u64_of(v: i64) -> u64 {
    u64::try_from(v.max(0)).unwrap_or(0)
}

/// Why opening failed: a corrupt file (moved aside) or anything else.
enum OpenFailure {
    Corrupt(String),
    Other(OutboxError),
}

impl From<rusqlite::Error> for OpenFailure {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                Self::Corrupt(e.to_string())
            }
            _ => Self::Other(e.into()),
        }
    }
}

impl From<OutboxError> for OpenFailure {
    fn from(e: OutboxError) -> Self {
        match e {
            OutboxError::Db(db) => db.into(),
            other => Self::Other(other),
        }
    }
}

/// The path of a sidecar file: `outbox.db-wal`, `outbox.db-shm`.
fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates the file with mode 0600 if missing, and sets 0600 on it and on
/// its WAL and shared-memory files when they exist.
fn restrict_mode(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if !path.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(path)?;
        }
        for p in [
            path.to_path_buf(),
            sidecar(path, "-wal"),
            sidecar(path, "-shm"),
        ] {
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens, sets the pragmas, checks integrity and migrates.
fn open_checked(path: &Path, config: &Config) -> Result<Connection, OpenFailure> {
    restrict_mode(path)?;
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(config.busy_timeout)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenFailure::Other(OutboxError::Db(
            rusqlite::Error::InvalidParameterName(format!("journal_mode is {mode}, not wal")),
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    let problems: Vec<String> = {
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        stmt.query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    if problems.len() != 1 || problems.first().map(String::as_str) != Some("ok") {
        return Err(OpenFailure::Corrupt(problems.join("; ")));
    }
    schema::migrate(&mut conn)?;
    restrict_mode(path)?;
    Ok(conn)
}

/// Moves a corrupt store (and its WAL) aside; returns the new path.
fn quarantine(path: &Path) -> Result<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3f");
    let aside = sidecar(path, &format!(".corrupt-{stamp}"));
    std::fs::rename(path, &aside)?;
    let wal = sidecar(path, "-wal");
    if wal.exists() {
        std::fs::rename(&wal, sidecar(&aside, "-wal"))?;
    }
    let shm = sidecar(path, "-shm");
    if shm.exists() {
        std::fs::remove_file(&shm)?;
    }
    Ok(aside)
}

const ENTRY_COLUMNS: &str = "seq, kind, idempotency_key, state, label_matter, label_applicant, \
     queued_at, attempts, last_error, next_attempt_at, case_number, track_code, deadline, \
     submitted_at, replayed, delivered_at, reject_code, reject_message, rejected_at, \
     receipt_json, prints, printed_at, \
     EXISTS (SELECT 1 FROM outbox_body b WHERE b.seq = outbox.seq)";

fn entry_of(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let kind: String = r.get(1)?;
    let state: String = r.get(3)?;
    let bad = |col: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            col,
            rusqlite::types::Type::Text,
            format!("unknown {what}").into(),
        )
    };
    let kind = ItemKind::from_code(&kind).ok_or_else(|| bad(1, "kind"))?;
    let state = State::from_code(&state).ok_or_else(|| bad(3, "state"))?;
    let delivered_at: Option<i64> = r.get(15)?;
    let case_number: Option<String> = r.get(10)?;
    let reply = match (state, case_number, delivered_at) {
        (State::Delivered, Some(case_number), Some(at)) => Some(Reply {
            case_number,
            track_code: r.get(11)?,
            deadline: r.get(12)?,
            submitted_at: r.get(13)?,
            replayed: r.get::<_, Option<bool>>(14)?.unwrap_or(false),
            delivered_at: from_ms(at),
        }),
        _ => None,
    };
    let reject_code: Option<String> = r.get(16)?;
    let rejection = match reject_code {
        Some(code) => Some(Rejection {
            code,
            message: r.get::<_, Option<String>>(17)?.unwrap_or_default(),
            at: from_ms(r.get::<_, Option<i64>>(18)?.unwrap_or_default()),
        }),
        None => None,
    };
    let receipt: Option<String> = r.get(19)?;
    let receipt = receipt.and_then(|s| serde_json::from_str(&s).ok());
    Ok(Entry {
        seq: r.get(0)?,
        kind,
        idempotency_key: r.get(2)?,
        state,
        label: Label {
            matter: r.get(4)?,
            applicant: r.get(5)?,
        },
        queued_at: from_ms(r.get(6)?),
        attempts: u32_of(r.get(7)?),
        last_error: r.get(8)?,
        next_attempt_at: (state == State::Pending)
            .then(|| r.get(9).map(from_ms))
            .transpose()?,
        reply,
        rejection,
        receipt,
        prints: u32_of(r.get(20)?),
        printed_at: r.get::<_, Option<i64>>(21)?.map(from_ms),
        has_body: r.get(22)?,
    })
}

/// Whether `text` contains one of `ids` in full.
fn leaks(text: &str, ids: &[&str]) -> bool {
    ids.iter().any(|id| {
        let id = id.trim();
        !id.is_empty() && (text.contains(id) || text.contains(&id.to_ascii_lowercase()))
    })
}

impl Outbox {
    /// Opens (or creates) the outbox at `path` with the default [`Config`].
    ///
    /// The file is created with mode 0600 (its `-wal` and `-shm` files get
    /// the same). The connection uses WAL, `synchronous=FULL` (a commit
    /// returns after fsync), `secure_delete=ON` (deleted personal data is
    /// overwritten with zeros) and a busy timeout. `PRAGMA integrity_check`
    /// runs at every open: a file that fails it, or is not a database, is
    /// **moved aside** as `<path>.corrupt-<time>` (with its WAL), an error
    /// is logged, and a fresh, empty store is opened in its place
    /// ([`Outbox::quarantined`] tells where the old file went; it still
    /// holds personal data and is for maintenance to inspect and delete).
    ///
    /// # Errors
    /// I/O and SQLite errors other than corruption (permissions, disk
    /// full), and [`OutboxError::SchemaTooNew`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, Config::default())
    }

    /// Opens with explicit settings; see [`Outbox::open`].
    ///
    /// # Errors
    /// As [`Outbox::open`].
    pub fn open_with(path: impl AsRef<Path>, config: Config) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let (conn, quarantined) = match open_checked(&path, &config) {
            Ok(conn) => (conn, None),
            Err(OpenFailure::Other(e)) => return Err(e),
            Err(OpenFailure::Corrupt(reason)) => {
                let aside = quarantine(&path)?;
                tracing::error!(
                    path = %path.display(),
                    moved_to = %aside.display(),
                    %reason,
                    "本机待发送队列文件损坏，已移至一旁并新建空队列，请维护人员检查 \
                     (outbox store corrupt: moved aside, a fresh store was opened; maintenance must inspect it)"
                );
                let conn = open_checked(&path, &config).map_err(|e| match e {
                    OpenFailure::Other(e) => e,
                    OpenFailure::Corrupt(r) => {
                        OutboxError::Task(format!("fresh store corrupt: {r}"))
                    }
                })?;
                (conn, Some(aside))
            }
        };
        let outbox = Self {
            conn: Mutex::new(conn),
            path,
            config,
            quarantined,
            wake: Notify::new(),
            status: watch::Sender::new(Status::default()),
        };
        outbox.refresh_status()?;
        Ok(outbox)
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where a corrupt store was moved at open, if it was.
    #[must_use]
    pub fn quarantined(&self) -> Option<&Path> {
        self.quarantined.as_deref()
    }

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        match self.conn.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Runs `PRAGMA integrity_check` now; `Ok(vec![])` when it reports ok,
    /// otherwise its messages.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("PRAGMA integrity_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(if rows == ["ok"] { Vec::new() } else { rows })
    }

    /// Copies the WAL into the database file and truncates the WAL
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), so wiped personal data no
    /// longer lingers in the WAL. The delivery loop does this whenever the
    /// queue has drained.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn checkpoint(&self) -> Result<()> {
        let conn = self.conn();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Commits `item` with its screen `label` and returns once the commit
    /// is durable (fsync done): only then may the kiosk say "submitted" and
    /// print the receipt. An empty idempotency key is replaced by a fresh
    /// UUIDv7. The body (materials included) is one JSON row, written in
    /// the same transaction as the entry: after a crash both exist or
    /// neither does. Wakes the delivery loop.
    ///
    /// # Errors
    /// [`OutboxError::NotMasked`] when the label contains a full ID number
    /// of the item, [`OutboxError::DuplicateKey`] when the caller's key is
    /// already queued, SQLite errors (disk full: nothing is written).
    pub fn enqueue(&self, item: Item, label: Label) -> Result<Queued> {
        let mut item = item;
        if leaks(&label.matter, &item.id_numbers()) || leaks(&label.applicant, &item.id_numbers()) {
            return Err(OutboxError::NotMasked);
        }
        if item.idempotency_key().trim().is_empty() {
            item.set_idempotency_key(uuid::Uuid::now_v7().to_string());
        }
        let key = item.idempotency_key().to_owned();
        let kind = item.kind();
        let body = item.body_json()?;
        drop(item);
        let now = Utc::now();
        let seq = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                "INSERT INTO outbox (kind, idempotency_key, state, label_matter, label_applicant, \
                 queued_at, next_attempt_at) VALUES (?1, ?2, 'pending', ?3, ?4, ?5, ?5)",
                params![kind.as_str(), key, label.matter, label.applicant, ms(now)],
            );
            match inserted {
                Ok(_) => {}
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                    return Err(OutboxError::DuplicateKey);
                }
                Err(e) => return Err(e.into()),
            }
            let seq = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO outbox_body (seq, json) VALUES (?1, ?2)",
                params![seq, body],
            )?;
            tx.commit()?;
            seq
        };
        tracing::info!(seq, key = %key, matter = %label.matter, applicant = %label.applicant, "queued in the outbox");
        self.wake.notify_one();
        self.refresh_status()?;
        Ok(Queued {
            seq,
            idempotency_key: key,
            queued_at: from_ms(ms(now)),
        })
    }

    /// The entry `seq`, without personal data.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn get(&self, seq: i64) -> Result<Option<Entry>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE seq = ?1"),
                [seq],
                entry_of,
            )
            .optional()?)
    }

    /// The personal body of entry `seq` (pending or rejected), for a
    /// maintenance view behind staff authentication; `None` once wiped.
    ///
    /// # Errors
    /// [`OutboxError::NotFound`], SQLite and JSON errors.
    pub fn item(&self, seq: i64) -> Result<Option<Item>> {
        let row: Option<(String, Option<String>)> = self
            .conn()
            .query_row(
                "SELECT kind, (SELECT json FROM outbox_body b WHERE b.seq = outbox.seq) \
                 FROM outbox WHERE seq = ?1",
                [seq],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (kind, body) = row.ok_or(OutboxError::NotFound(seq))?;
        let kind = ItemKind::from_code(&kind).ok_or(OutboxError::NotFound(seq))?;
        body.map(|b| Item::from_body(kind, &b).map_err(OutboxError::from))
            .transpose()
    }

    fn entries(&self, sql_tail: &str, args: impl rusqlite::Params) -> Result<Vec<Entry>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("SELECT {ENTRY_COLUMNS} FROM outbox {sql_tail}"))?;
        let rows = stmt
            .query_map(args, entry_of)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// Pending entries, oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn pending(&self) -> Result<Vec<Entry>> {
        self.entries("WHERE state = 'pending' ORDER BY seq", [])
    }

    /// Rejected entries (body kept), oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn rejected(&self) -> Result<Vec<Entry>> {
        self.entries("WHERE state = 'rejected' ORDER BY seq", [])
    }

    /// The `n` newest entries in any state, newest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn recent(&self, n: usize) -> Result<Vec<Entry>> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        self.entries("ORDER BY seq DESC LIMIT ?1", [n])
    }

    /// Entries whose receipt was set but never printed (paper out), oldest
    /// first, so maintenance can reprint them.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn unprinted(&self) -> Result<Vec<Entry>> {
        self.entries(
            "WHERE receipt_json IS NOT NULL AND prints = 0 ORDER BY seq",
            [],
        )
    }

    /// Number of entries per state.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn counts(&self) -> Result<Counts> {
        let conn = self.conn();
        let mut counts = Counts::default();
        let mut stmt = conn.prepare("SELECT state, count(*) FROM outbox GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            let n = u64_of(n);
            match State::from_code(&state) {
                Some(State::Pending) => counts.pending = n,
                Some(State::Delivered) => counts.delivered = n,
                Some(State::Rejected) => counts.rejected = n,
                Some(State::Discarded) => counts.discarded = n,
                None => {}
            }
        }
        counts.unprinted = u64_of(conn.query_row(
            "SELECT count(*) FROM outbox WHERE receipt_json IS NOT NULL AND prints = 0",
            [],
            |r| r.get(0),
        )?);
        Ok(counts)
    }

    pub(crate) fn refresh_status(&self) -> Result<()> {
        let counts = self.counts()?;
        self.status.send_if_modified(|s| {
            let changed = s.pending != counts.pending || s.rejected != counts.rejected;
            s.pending = counts.pending;
            s.rejected = counts.rejected;
            changed
        });
        Ok(())
    }

    fn state_of(&self, conn: &Connection, seq: i64) -> Result<State> {
        let state: Option<String> = conn
            .query_row("SELECT state FROM outbox WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .optional()?;
        state
            .as_deref()
            .and_then(State::from_code)
            .ok_or(OutboxError::NotFound(seq))
    }

    /// Records a delivery: state `delivered`, the reply kept, and the
    /// personal body deleted **in the same transaction** (by a trigger of
    /// the schema, so no code path can forget it). A no-op for an
    /// entry that is no longer pending.
    ///
    /// # Errors
    /// SQLite errors (the entry stays pending and is delivered again: the
    /// backend answers the replay with the same case).
    pub fn mark_delivered(&self, seq: i64, delivered: &Delivered) -> Result<()> {
        let now = ms(Utc::now());
        let (case_number, track_code, deadline, submitted_at, replayed) = match delivered {
            Delivered::Case { reply, replayed } => (
                reply.case_number.clone(),
                Some(reply.track_code.clone()).filter(|t| !t.is_empty()),
                Some(reply.deadline.clone()),
                Some(reply.submitted_at.clone()),
                *replayed,
            ),
            Delivered::Correction {
                case_number,
                replayed,
            } => (case_number.clone(), None, None, None, *replayed),
        };
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "UPDATE outbox SET state = 'delivered', case_number = ?2, \
                 track_code = ?3, deadline = ?4, submitted_at = ?5, replayed = ?6, \
                 delivered_at = ?7, last_attempt_at = ?7, attempts = attempts + 1, last_error = NULL \
                 WHERE seq = ?1 AND state = 'pending'",
                params![seq, case_number, track_code, deadline, submitted_at, replayed, now],
            )?;
            tx.commit()?;
        }
        self.refresh_status()
    }

    /// Records a failed attempt that will be retried at `next_attempt_at`.
    ///
    /// # Errors
    /// SQLite errors.
    pub(crate) fn mark_retry(
        &self,
        seq: i64,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, last_attempt_at = ?3, \
             next_attempt_at = ?4 WHERE seq = ?1 AND state = 'pending'",
            params![seq, error, ms(Utc::now()), ms(next_attempt_at)],
        )?;
        Ok(())
    }

    /// The backend is out of reach: entry `seq` records the failed
    /// attempt, and every pending entry waits until `next_attempt_at` (no
    /// entry is at fault, so none goes ahead of another and the queue keeps
    /// its order).
    ///
    /// # Errors
    /// SQLite errors.
    pub(crate) fn mark_link_down(
        &self,
        seq: i64,
        error: &str,
        next_attempt_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, last_attempt_at = ?3 \
             WHERE seq = ?1 AND state = 'pending'",
            params![seq, error, ms(Utc::now())],
        )?;
        tx.execute(
            "UPDATE outbox SET next_attempt_at = MAX(next_attempt_at, ?1) WHERE state = 'pending'",
            params![ms(next_attempt_at)],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records a permanent refusal: state `rejected`, body kept for
    /// maintenance, with the backend's code and message.
    ///
    /// # Errors
    /// SQLite errors.
    pub(crate) fn mark_rejected(&self, seq: i64, code: &str, message: &str) -> Result<()> {
        let now = ms(Utc::now());
        {
            let conn = self.conn();
            conn.execute(
                "UPDATE outbox SET state = 'rejected', attempts = attempts + 1, last_error = ?2, \
                 last_attempt_at = ?4, reject_code = ?2, reject_message = ?3, rejected_at = ?4 \
                 WHERE seq = ?1 AND state = 'pending'",
                params![seq, code, message, now],
            )?;
        }
        self.refresh_status()
    }

    /// Wipes the body of a rejected entry (state `discarded`); the key,
    /// label and refusal stay until the retention period ends.
    ///
    /// # Errors
    /// [`OutboxError::NotFound`], [`OutboxError::WrongState`] unless the
    /// entry is rejected, SQLite errors.
    pub fn discard(&self, seq: i64) -> Result<()> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let state = self.state_of(&tx, seq)?;
            if state != State::Rejected {
                return Err(OutboxError::WrongState {
                    seq,
                    state: state.as_str(),
                });
            }
            tx.execute(
                "UPDATE outbox SET state = 'discarded', discarded_at = ?2 WHERE seq = ?1",
                params![seq, ms(Utc::now())],
            )?;
            tx.commit()?;
        }
        tracing::info!(seq, "rejected outbox entry discarded");
        self.refresh_status()
    }

    /// Puts a rejected entry back in the queue (after maintenance fixed the
    /// cause, e.g. the matter was enabled for kiosks again), due now.
    ///
    /// # Errors
    /// [`OutboxError::NotFound`], [`OutboxError::WrongState`] unless the
    /// entry is rejected, SQLite errors.
    pub fn requeue(&self, seq: i64) -> Result<()> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let state = self.state_of(&tx, seq)?;
            if state != State::Rejected {
                return Err(OutboxError::WrongState {
                    seq,
                    state: state.as_str(),
                });
            }
            tx.execute(
                "UPDATE outbox SET state = 'pending', next_attempt_at = ?2, reject_code = NULL, \
                 reject_message = NULL, rejected_at = NULL WHERE seq = ?1",
                params![seq, ms(Utc::now())],
            )?;
            tx.commit()?;
        }
        self.wake.notify_one();
        self.refresh_status()
    }

    /// Makes every pending entry due now (the maintenance screen's
    /// "send now"), and wakes the delivery loop.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn sync_now(&self) -> Result<()> {
        let now = ms(Utc::now());
        self.conn().execute(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE state = 'pending' AND next_attempt_at > ?1",
            [now],
        )?;
        self.wake.notify_one();
        Ok(())
    }

    /// Removes what the retention periods allow at time `now`: delivered
    /// and discarded entries older than `delivered_retention` (counted
    /// from delivery or discard), rejected entries, bodies included, older
    /// than `rejected_retention` (counted from the refusal). Pending
    /// entries are never purged.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn purge_at(&self, now: DateTime<Utc>) -> Result<Purged> {
        let cutoff = |d: Duration| ms(now) - i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2);
        let purged = {
            let mut conn = self.conn();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let keep = cutoff(self.config.delivered_retention);
            let delivered = tx.execute(
                "DELETE FROM outbox WHERE (state = 'delivered' AND delivered_at < ?1) \
                 OR (state = 'discarded' AND discarded_at < ?1)",
                [keep],
            )?;
            let rejected = tx.execute(
                "DELETE FROM outbox WHERE state = 'rejected' AND rejected_at < ?1",
                [cutoff(self.config.rejected_retention)],
            )?;
            tx.commit()?;
            Purged {
                delivered,
                rejected,
            }
        };
        if purged != Purged::default() {
            tracing::info!(
                delivered = purged.delivered,
                rejected = purged.rejected,
                "outbox entries past retention purged"
            );
            self.refresh_status()?;
        }
        Ok(purged)
    }

    /// [`Outbox::purge_at`] now. The delivery loop calls it hourly.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn purge_expired(&self) -> Result<Purged> {
        self.purge_at(Utc::now())
    }

    /// Keeps the receipt's printable facts with entry `seq` (replacing
    /// earlier ones), for reprint after paper-out. They must be masked.
    ///
    /// # Errors
    /// [`OutboxError::NotMasked`] when the JSON contains a full ID number
    /// of the entry's body (checked while the body exists),
    /// [`OutboxError::NotFound`], SQLite errors.
    pub fn set_receipt(&self, seq: i64, receipt: &serde_json::Value) -> Result<()> {
        let text = serde_json::to_string(receipt)?;
        if let Some(item) = self.item(seq)?
            && leaks(&text, &item.id_numbers())
        {
            return Err(OutboxError::NotMasked);
        }
        let n = self.conn().execute(
            "UPDATE outbox SET receipt_json = ?2 WHERE seq = ?1",
            params![seq, text],
        )?;
        if n == 0 {
            return Err(OutboxError::NotFound(seq));
        }
        Ok(())
    }

    /// Records that the receipt of `seq` was printed (once more).
    ///
    /// # Errors
    /// [`OutboxError::NotFound`], SQLite errors.
    pub fn mark_printed(&self, seq: i64) -> Result<()> {
        let n = self.conn().execute(
            "UPDATE outbox SET prints = prints + 1, printed_at = ?2 WHERE seq = ?1",
            params![seq, ms(Utc::now())],
        )?;
        if n == 0 {
            return Err(OutboxError::NotFound(seq));
        }
        Ok(())
    }

    /// The next thing for the delivery loop: the oldest due pending entry
    /// (after `cursor` first, when the previous attempt failed, so one
    /// failing entry cannot starve the others), or when the next one is due.
    pub(crate) fn next_step(&self, now: DateTime<Utc>, cursor: Option<i64>) -> Result<Step> {
        let conn = self.conn();
        let due: Option<(i64, String, String, i64, String, String)> = conn
            .query_row(
                "SELECT o.seq, o.kind, b.json, o.attempts, o.label_matter, o.label_applicant \
                 FROM outbox o JOIN outbox_body b ON b.seq = o.seq \
                 WHERE o.state = 'pending' AND o.next_attempt_at <= ?1 \
                 ORDER BY (o.seq <= ?2), o.seq LIMIT 1",
                params![ms(now), cursor.unwrap_or(-1)],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()?;
        if let Some((seq, kind, body, attempts, matter, applicant)) = due {
            let kind = ItemKind::from_code(&kind).ok_or(OutboxError::NotFound(seq))?;
            let item = match Item::from_body(kind, &body) {
                Ok(item) => item,
                Err(e) => {
                    // E.g. written by an older build whose wire type has
                    // since changed: set aside for maintenance rather than
                    // block the queue. serde's message names the field and
                    // position, never the content.
                    conn.execute(
                        "UPDATE outbox SET state = 'rejected', reject_code = ?2, \
                         reject_message = ?3, rejected_at = ?4, last_error = ?2 WHERE seq = ?1",
                        params![seq, BODY_UNREADABLE, e.to_string(), ms(now)],
                    )?;
                    return Ok(Step::Unreadable(seq));
                }
            };
            return Ok(Step::Due {
                seq,
                attempts: u32_of(attempts),
                label: Label { matter, applicant },
                item: Box::new(item),
            });
        }
        let next: Option<i64> = conn.query_row(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?;
        Ok(next.map_or(Step::Idle, |t| Step::Later(from_ms(t))))
    }

    /// Consecutive failures before a restart, estimated from the store:
    /// the most attempts of a pending entry that failed.
    pub(crate) fn failure_streak(&self) -> Result<u32> {
        let n: i64 = self.conn().query_row(
            "SELECT coalesce(max(attempts), 0) FROM outbox WHERE state = 'pending' AND last_error IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(u32_of(n))
    }

    /// Stores `value` under `key` (catalogue, notices), replacing what was
    /// there, with the server's entity tag.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cache_put(&self, key: &str, value: &[u8], etag: Option<&str>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO cache (key, value, etag, fetched_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, etag = excluded.etag, \
             fetched_at = excluded.fetched_at",
            params![key, value, etag, ms(Utc::now())],
        )?;
        Ok(())
    }

    /// [`Outbox::cache_put`] of a value as JSON.
    ///
    /// # Errors
    /// JSON and SQLite errors.
    pub fn cache_put_json<T: serde::Serialize>(
        &self,
        key: &str,
        value: &T,
        etag: Option<&str>,
    ) -> Result<()> {
        self.cache_put(key, &serde_json::to_vec(value)?, etag)
    }

    /// Marks the cached `key` as confirmed fresh now (the server answered
    /// 304 Not Modified); `false` when nothing is cached under it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cache_touch(&self, key: &str) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE cache SET fetched_at = ?2 WHERE key = ?1",
            params![key, ms(Utc::now())],
        )?;
        Ok(n > 0)
    }

    /// The cached value under `key`, with its age.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn cache_get(&self, key: &str) -> Result<Option<Cached>> {
        let row: Option<(Vec<u8>, Option<String>, i64)> = self
            .conn()
            .query_row(
                "SELECT value, etag, fetched_at FROM cache WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(row.map(|(value, etag, at)| {
            let fetched_at = from_ms(at);
            Cached {
                value,
                etag,
                fetched_at,
                age: (Utc::now() - fetched_at).to_std().unwrap_or_default(),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn temp_db(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "outbox-unit-{tag}-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("outbox.db")
    }

    #[test]
    fn the_connection_is_durable_and_wipes_deleted_content() {
        let ob = Outbox::open(temp_db("pragmas")).unwrap();
        let conn = ob.conn();
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        let secure: i64 = conn
            .pragma_query_value(None, "secure_delete", |r| r.get(0))
            .unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous must be FULL");
        assert_eq!(secure, 1);
        assert_eq!(version, schema::SCHEMA_VERSION);
    }

    #[test]
    fn the_schema_itself_deletes_the_body_of_a_delivered_entry() {
        let ob = Outbox::open(temp_db("trigger")).unwrap();
        let conn = ob.conn();
        conn.execute_batch(
            "INSERT INTO outbox (seq, kind, idempotency_key, state, label_matter, label_applicant, \
             queued_at, next_attempt_at) VALUES (1, 'submission', 'k', 'pending', 'm', 'a', 0, 0);
             INSERT INTO outbox_body (seq, json) VALUES (1, '{}');
             UPDATE outbox SET state = 'delivered' WHERE seq = 1;",
        )
        .unwrap();
        let bodies: i64 = conn
            .query_row("SELECT count(*) FROM outbox_body", [], |r| r.get(0))
            .unwrap();
        assert_eq!(bodies, 0);
    }
}
