//! `backend backup`: a consistent copy of the live database, taken while the
//! server keeps serving and writing.
//!
//! The copy is made with SQLite's online backup API from inside one read
//! transaction on the source, so every step reads the same snapshot: in WAL
//! mode the server's writers are never blocked and the copy never restarts.
//! Steps:
//!
//! 1. take an exclusive lock on `DIR/.backend-backup.lock` (one backup at a
//!    time) and delete `.partial` leftovers of a killed earlier run;
//! 2. copy into `DIR/backend-YYYYMMDDTHHMMSSZ.db.partial`, switch the copy to
//!    a rollback journal (one self-contained file), `PRAGMA integrity_check`
//!    (must answer `ok`);
//! 3. fsync the file, rename it to `.db`, fsync the directory;
//! 4. delete the oldest complete backups beyond `keep`, never the one just
//!    made and never a file whose name this module did not give.
//!
//! The database has no encryption key; of the store's open pragmas only
//! `busy_timeout` matters to a reader (`journal_mode=WAL` is recorded in the
//! file, the others affect writes). Restoring is copying a backup to the
//! database path while the server is stopped: the server switches it back to
//! WAL at open.

use std::ffi::c_int;
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::backup::Backup;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

/// How many complete backups `backend backup` keeps unless told otherwise
/// (two days of hourly backups).
pub const DEFAULT_KEEP: usize = 48;

/// Name of the lock file in the backup directory.
pub const LOCK_FILE: &str = ".backend-backup.lock";

const PREFIX: &str = "backend-";
const SUFFIX: &str = ".db";
const PARTIAL: &str = ".partial";
/// Files SQLite may leave next to an interrupted `.partial` copy.
const SIDECARS: [&str; 4] = ["", "-journal", "-wal", "-shm"];
const STAMP: &str = "%Y%m%dT%H%M%SZ";
const STAMP_LEN: usize = 16;
/// Pages copied per step (1 MiB at the default 4 KiB page size).
const PAGES_PER_STEP: c_int = 256;
/// Pause between steps, to leave the disk to the server.
const PAUSE: Duration = Duration::from_millis(1);
/// How long to wait for a lock on the source (as the store does).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Integrity problems quoted in an error, at most.
const MAX_PROBLEMS: usize = 5;

/// What one backup did; printed as one JSON line by `backend backup`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupReport {
    /// The complete backup file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Database pages copied.
    pub pages: u64,
    /// Wall time of the whole run, in seconds (millisecond precision).
    pub seconds: f64,
    /// The answer of `PRAGMA integrity_check` on the copy (always `ok`).
    pub integrity: String,
    /// Older backups deleted by rotation, oldest first.
    pub removed: Vec<PathBuf>,
    /// `.partial` leftovers of an interrupted earlier run, deleted at start.
    pub leftovers: Vec<PathBuf>,
}

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// `keep` was 0.
    #[error("保留份数至少为 1 / --keep must be at least 1")]
    InvalidKeep,
    /// The backup directory does not exist (a disk not mounted?).
    #[error("备份目录不存在 / backup directory does not exist: {}", .0.display())]
    NoDirectory(PathBuf),
    /// No database file at the path.
    #[error("数据库文件不存在 / no database file at {}", .0.display())]
    NoDatabase(PathBuf),
    /// The file could not be opened or read as a database.
    #[error("无法读取数据库 / cannot read the database {}: {source}", path.display())]
    Unreadable {
        /// The database path.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The file is an SQLite database but not one of this backend.
    #[error("不是本系统的数据库 / not a backend database (no schema_version table): {}", .0.display())]
    NotBackend(PathBuf),
    /// Another backup into the same directory is running.
    #[error("另一个备份正在进行 / another backup into {} is running", .0.display())]
    Busy(PathBuf),
    /// A backup with this timestamp already exists.
    #[error("同名备份已存在 / a backup named {} already exists", .0.display())]
    Exists(PathBuf),
    /// SQLite failed while copying or checking.
    #[error("备份复制失败 / copying the database failed: {0}")]
    Copy(#[from] rusqlite::Error),
    /// The copy failed `PRAGMA integrity_check`.
    #[error("备份完整性检查未通过 / the copy failed integrity_check: {0}")]
    Integrity(String),
    /// A file operation failed.
    #[error("备份文件操作失败 / {what} failed for {}: {source}", path.display())]
    Io {
        /// The operation.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The system error.
        source: io::Error,
    },
    /// The backup is complete but deleting an old one failed.
    #[error(
        "备份已完成（{}），但清理旧备份失败 / backup {} is complete, but removing old backups failed at {}: {source}",
        made.display(), made.display(), old.display()
    )]
    Rotate {
        /// The backup just made (complete and kept).
        made: PathBuf,
        /// The old backup (or the directory) where the clean-up failed.
        old: PathBuf,
        /// The system error.
        source: io::Error,
    },
}

impl BackupError {
    /// The process exit code of `backend backup` for this error: 2 for bad
    /// arguments or a database that cannot be read, 1 when the backup itself
    /// failed.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::InvalidKeep
            | Self::NoDirectory(_)
            | Self::NoDatabase(_)
            | Self::Unreadable { .. }
            | Self::NotBackend(_) => 2,
            Self::Busy(_)
            | Self::Exists(_)
            | Self::Copy(_)
            | Self::Integrity(_)
            | Self::Io { .. }
            | Self::Rotate { .. } => 1,
        }
    }
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BackupError {
    let path = path.to_owned();
    move |source| BackupError::Io { what, path, source }
}

/// Backs up the database at `db` into `dir` as
/// `backend-YYYYMMDDTHHMMSSZ.db` (the time is `now`), then keeps only the
/// `keep` newest complete backups there. Blocking.
///
/// # Errors
/// See [`BackupError`]; on any failure before the rename the `.partial`
/// file is deleted and no complete backup is removed.
pub fn backup(
    db: &Path,
    dir: &Path,
    keep: usize,
    now: DateTime<Utc>,
) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    if keep == 0 {
        return Err(BackupError::InvalidKeep);
    }
    if !dir.is_dir() {
        return Err(BackupError::NoDirectory(dir.to_owned()));
    }
    let source = open_source(db)?;
    // One read transaction for the whole copy: one snapshot, however many
    // steps and however much the server writes meanwhile.
    let snapshot = source
        .unchecked_transaction()
        .map_err(|e| unreadable(db, e))?;
    check_backend(&snapshot, db)?;

    let _lock = lock_dir(dir)?;
    let leftovers = remove_leftovers(dir)?;
    let name = backup_name(now);
    let path = dir.join(&name);
    if path.exists() {
        return Err(BackupError::Exists(path));
    }
    let partial = dir.join(format!("{name}{PARTIAL}"));
    let copied = copy_checked(&snapshot, &partial).and_then(|c| {
        publish(&partial, &path, dir)?;
        Ok(c)
    });
    drop(snapshot);
    let (pages, integrity) = match copied {
        Ok(c) => c,
        Err(e) => {
            remove_partial(&partial);
            return Err(e);
        }
    };
    let bytes = fs::metadata(&path)
        .map_err(io_err("reading the size", &path))?
        .len();
    let removed = rotate(dir, &path, keep)?;
    let seconds = (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    tracing::info!(path = %path.display(), bytes, pages, seconds, removed = removed.len(), "backup complete");
    Ok(BackupReport {
        path,
        bytes,
        pages,
        seconds,
        integrity,
        removed,
        leftovers,
    })
}

/// The file name of a backup taken at `now`.
#[must_use]
pub fn backup_name(now: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", now.format(STAMP))
}

/// Whether `name` is a complete backup made by [`backup`]
/// (`backend-YYYYMMDDTHHMMSSZ.db` with a real date and time).
#[must_use]
pub fn is_backup_name(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
        .is_some_and(|stamp| {
            stamp.len() == STAMP_LEN && NaiveDateTime::parse_from_str(stamp, STAMP).is_ok()
        })
}

/// Whether `name` is an unfinished copy of [`backup`] or a file SQLite
/// keeps next to one.
fn is_leftover_name(name: &str) -> bool {
    SIDECARS.iter().any(|sidecar| {
        name.strip_suffix(sidecar)
            .and_then(|n| n.strip_suffix(PARTIAL))
            .is_some_and(is_backup_name)
    })
}

fn unreadable(db: &Path, source: rusqlite::Error) -> BackupError {
    BackupError::Unreadable {
        path: db.to_owned(),
        source,
    }
}

/// Opens the live database for reading without ever creating it.
fn open_source(db: &Path) -> Result<Connection, BackupError> {
    if !db.is_file() {
        return Err(BackupError::NoDatabase(db.to_owned()));
    }
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unreadable(db, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| unreadable(db, e))?;
    Ok(conn)
}

/// Starts the read snapshot and refuses files that are not a backend
/// database (an empty file from a disk that was not mounted would otherwise
/// rotate the real backups away).
fn check_backend(conn: &Connection, db: &Path) -> Result<(), BackupError> {
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| unreadable(db, e))?;
    if tables == 0 {
        return Err(BackupError::NotBackend(db.to_owned()));
    }
    Ok(())
}

/// Holds the directory's backup lock until dropped.
fn lock_dir(dir: &Path) -> Result<File, BackupError> {
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("opening the lock file", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(BackupError::Busy(dir.to_owned())),
        Err(TryLockError::Error(e)) => Err(io_err("locking", &path)(e)),
    }
}

/// Names of the regular files in `dir` (names that are not UTF-8 are not
/// ours and are skipped).
fn file_names(dir: &Path) -> Result<Vec<String>, BackupError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("listing", dir))? {
        let entry = entry.map_err(io_err("listing", dir))?;
        let is_file = entry.file_type().map_err(io_err("listing", dir))?.is_file();
        if let (true, Ok(name)) = (is_file, entry.file_name().into_string()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Deletes the `.partial` files (and their SQLite sidecars) of an earlier
/// run that was killed. Only called while holding the lock.
fn remove_leftovers(dir: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut removed = Vec::new();
    for name in file_names(dir)?.into_iter().filter(|n| is_leftover_name(n)) {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(io_err("deleting a leftover", &path))?;
        tracing::warn!(path = %path.display(), "deleted the leftover of an interrupted backup");
        removed.push(path);
    }
    Ok(removed)
}

/// Best effort: deletes a failed copy and its sidecars.
fn remove_partial(partial: &Path) {
    for sidecar in SIDECARS {
        let mut name = partial.as_os_str().to_owned();
        name.push(sidecar);
        match fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = ?name, error = %e, "cannot delete a failed backup copy")
            }
        }
    }
}

/// Copies the snapshot into `partial`, makes it a self-contained
/// rollback-journal file and checks it. Returns (pages, integrity answer).
fn copy_checked(source: &Connection, partial: &Path) -> Result<(u64, String), BackupError> {
    let mut copy = Connection::open(partial)?;
    // No journal while copying: a failed copy is deleted, a good one is
    // fsynced before it gets its final name.
    let _: String = copy.query_row("PRAGMA journal_mode = OFF", [], |r| r.get(0))?;
    copy.execute_batch("PRAGMA synchronous = OFF")?;
    {
        let backup = Backup::new(source, &mut copy)?;
        backup.run_to_completion(PAGES_PER_STEP, PAUSE, None)?;
    }
    // The copied header still says WAL: reading opens the copy in WAL mode,
    // and switching to DELETE checkpoints and rewrites the header, so the
    // backup is one file that also opens on read-only media.
    let _: i64 = copy.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get(0))?;
    let _: String = copy.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    let integrity = integrity_check(&copy)?;
    let pages: i64 = copy.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    copy.close().map_err(|(_, e)| e)?;
    Ok((u64::try_from(pages).unwrap_or(0), integrity))
}

/// Runs `PRAGMA integrity_check`; `Ok("ok")` or the first problems.
fn integrity_check(conn: &Connection) -> Result<String, BackupError> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let answers = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .take(MAX_PROBLEMS)
        .collect::<Result<Vec<_>, _>>()?;
    match answers.as_slice() {
        [ok] if ok == "ok" => Ok(ok.clone()),
        [] => Err(BackupError::Integrity("no answer".to_owned())),
        problems => Err(BackupError::Integrity(problems.join("; "))),
    }
}

/// fsync, rename to the final name, fsync the directory.
fn publish(partial: &Path, path: &Path, dir: &Path) -> Result<(), BackupError> {
    File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(io_err("syncing", partial))?;
    fs::rename(partial, path).map_err(io_err("renaming", partial))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing the directory", dir))?;
    Ok(())
}

/// Deletes the oldest complete backups so that `keep` remain, counting the
/// one just made (`made`), which is never deleted.
fn rotate(dir: &Path, made: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let failed = |old: &Path, source: io::Error| BackupError::Rotate {
        made: made.to_owned(),
        old: old.to_owned(),
        source,
    };
    let made_name = made.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let older: Vec<String> = file_names(dir)
        .map_err(|e| failed(dir, io::Error::other(e.to_string())))?
        .into_iter()
        .filter(|n| n != made_name && is_backup_name(n))
        .collect();
    // Names sort by time; the newest `keep - 1` others stay.
    let excess = older.len().saturating_sub(keep.saturating_sub(1));
    let mut removed = Vec::new();
    for name in older.into_iter().take(excess) {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(|e| failed(&path, e))?;
        removed.push(path);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn names_are_recognised_strictly() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 5).unwrap();
        let name = backup_name(now);
        assert_eq!(name, "backend-20261127T020005Z.db");
        assert!(is_backup_name(&name));
        assert!(!is_backup_name("backend-20261327T020005Z.db"), "month 13");
        assert!(!is_backup_name("backend-20261127T020005Z.db.bak"));
        assert!(!is_backup_name("backend.db"));
        assert!(!is_backup_name("mybackend-20261127T020005Z.db"));
        assert!(is_leftover_name("backend-20261127T020005Z.db.partial"));
        assert!(is_leftover_name(
            "backend-20261127T020005Z.db.partial-journal"
        ));
        assert!(!is_leftover_name("notes.partial"));
        assert!(!is_leftover_name("backend-20261127T020005Z.db"));
    }
}
