//! Numbered schema migrations. `PRAGMA user_version` holds the number of
//! migrations applied; each runs in its own transaction together with the
//! version bump, so a crash leaves the store at one version or the next.
//! Append new migrations; never edit an applied one.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{OutboxError, Result};

/// The migrations, in order: index 0 brings version 0 to 1, and so on.
const MIGRATIONS: &[&str] = &[
    // 1: the outbox, its bodies and the offline cache. Bodies (personal,
    // several hundred KB) live in their own table so that scanning the
    // queue never walks their overflow pages; triggers delete a body in
    // the same transaction that makes its entry delivered or discarded,
    // or deletes the entry.
    "CREATE TABLE outbox (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        kind             TEXT    NOT NULL CHECK (kind IN ('submission', 'correction')),
        idempotency_key  TEXT    NOT NULL UNIQUE,
        state            TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'rejected', 'discarded')),
        label_matter     TEXT    NOT NULL,
        label_applicant  TEXT    NOT NULL,
        queued_at        INTEGER NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        last_error       TEXT,
        last_attempt_at  INTEGER,
        next_attempt_at  INTEGER NOT NULL,
        case_number      TEXT,
        track_code       TEXT,
        deadline         TEXT,
        submitted_at     TEXT,
        replayed         INTEGER,
        delivered_at     INTEGER,
        reject_code      TEXT,
        reject_message   TEXT,
        rejected_at      INTEGER,
        discarded_at     INTEGER,
        receipt_json     TEXT,
        prints           INTEGER NOT NULL DEFAULT 0,
        printed_at       INTEGER
    );
    CREATE INDEX outbox_by_state ON outbox (state, seq);
    CREATE TABLE outbox_body (
        seq   INTEGER PRIMARY KEY,
        json  TEXT    NOT NULL
    );
    CREATE TRIGGER outbox_wipe_body AFTER UPDATE OF state ON outbox
        WHEN NEW.state IN ('delivered', 'discarded')
        BEGIN DELETE FROM outbox_body WHERE seq = NEW.seq; END;
    CREATE TRIGGER outbox_delete_body AFTER DELETE ON outbox
        BEGIN DELETE FROM outbox_body WHERE seq = OLD.seq; END;
    CREATE TABLE cache (
        key        TEXT    PRIMARY KEY,
        value      BLOB    NOT NULL,
        etag       TEXT,
        fetched_at INTEGER NOT NULL
    );",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the store up to [`SCHEMA_VERSION`].
///
/// # Errors
/// [`OutboxError::SchemaTooNew`] for a store from newer software; SQLite
/// errors otherwise (nothing of a failed migration is kept).
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(OutboxError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (done, sql) in (0_i64..)
        .zip(MIGRATIONS.iter())
        .skip_while(|(i, _)| *i < found)
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", done + 1)?;
        tx.commit()?;
        tracing::info!(version = done + 1, "outbox schema migrated");
    }
    Ok(())
}
