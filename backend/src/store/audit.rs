//! The audit log: append-only (triggers refuse UPDATE and DELETE) and
//! hash-chained, so an edited, inserted or deleted row is found by
//! [`ReadTx::verify_audit`].
//!
//! Each row's `hash` is the SM3 of the previous row's hash followed by the
//! row's own fields, each written as its byte length (8 bytes, little
//! endian) and its UTF-8 bytes: `id, at, actor, role, action, object,
//! before, after, detail`. The first row's previous hash is 64 zeros. The
//! one-row `audit_head` table holds the count and the last hash, so a
//! deleted tail is noticed too.

use rusqlite::{OptionalExtension, params};
use sm3::{Digest, Sm3};

use super::{ReadTx, StoreError, WriteTx};

/// The previous hash of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event. Personal data in `before`, `after` and `detail` is
/// masked by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Who: `kiosk:<id>`, `system`, `staff:<username>`, `account:<id>`.
    pub actor: String,
    /// The role the actor acted in (`window_clerk`, `applicant`, `kiosk`, `system`…).
    pub role: String,
    /// What, e.g. `case.accept`.
    pub action: String,
    /// On what, e.g. `case:41040320261128000001`.
    pub object: String,
    /// State before (JSON, masked), or empty.
    pub before: String,
    /// State after (JSON, masked), or empty.
    pub after: String,
    /// Further detail without personal data.
    pub detail: String,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Position in the chain, from 1.
    pub id: i64,
    /// The event.
    pub record: AuditRecord,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

/// What [`ReadTx::verify_audit`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditVerdict {
    /// The chain is whole: `count` rows ending in `head`.
    Intact {
        /// Number of rows.
        count: i64,
        /// Hash of the last row.
        head: String,
    },
    /// The first row where the chain breaks, and why.
    Broken {
        /// Row id (or the expected id of a missing row).
        at_id: i64,
        /// What is wrong, in English.
        reason: String,
    },
}

/// The chained hash of `record` stored as row `id` after `prev_hash`.
#[must_use]
pub fn chain_hash(prev_hash: &str, id: i64, r: &AuditRecord) -> String {
    let mut h = Sm3::new();
    h.update(prev_hash.as_bytes());
    let id = id.to_string();
    for field in [
        id.as_str(),
        &r.at,
        &r.actor,
        &r.role,
        &r.action,
        &r.object,
        &r.before,
        &r.after,
        &r.detail,
    ] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        record: AuditRecord {
            at: r.get(1)?,
            actor: r.get(2)?,
            role: r.get(3)?,
            action: r.get(4)?,
            object: r.get(5)?,
            before: r.get(6)?,
            after: r.get(7)?,
            detail: r.get(8)?,
        },
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

const AUDIT_COLUMNS: &str =
    "id, at, actor, role, action, object, before, after, detail, prev_hash, hash";

impl ReadTx<'_> {
    /// Audit events about one object, oldest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn audit_events_for(&self, object: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE object = ?1 ORDER BY id"
        ))?;
        let rows = stmt
            .query_map(params![object], audit_row)?
            .map(|r| r.map(|row| row.record))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// A page of the audit log, newest first, optionally for one object
    /// prefix (e.g. `case:`).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn audit_page(
        &self,
        object_prefix: Option<&str>,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log \
             WHERE (?1 IS NULL OR substr(object, 1, length(?1)) = ?1) \
               AND (?2 IS NULL OR id < ?2) \
             ORDER BY id DESC LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(params![object_prefix, before_id, limit], audit_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Walks the whole chain and reports the first break, if any.
    ///
    /// # Errors
    /// When SQLite fails (a missing table counts as a failure, not a verdict).
    pub fn verify_audit(&self) -> Result<AuditVerdict, StoreError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut prev = GENESIS.to_owned();
        let mut expected_id = 1_i64;
        while let Some(r) = rows.next()? {
            let row = audit_row(r)?;
            if row.id != expected_id {
                return Ok(AuditVerdict::Broken {
                    at_id: expected_id,
                    reason: format!("row {expected_id} is missing (next row is {})", row.id),
                });
            }
            if row.prev_hash != prev {
                return Ok(AuditVerdict::Broken {
                    at_id: row.id,
                    reason: "previous-hash link does not match the row before".to_owned(),
                });
            }
            if chain_hash(&prev, row.id, &row.record) != row.hash {
                return Ok(AuditVerdict::Broken {
                    at_id: row.id,
                    reason: "row content does not match its hash (edited)".to_owned(),
                });
            }
            prev = row.hash;
            expected_id += 1;
        }
        let count = expected_id - 1;
        let head: Option<(i64, String)> = self
            .conn()
            .query_row(
                "SELECT count, hash FROM audit_head WHERE one = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match head {
            None if count == 0 => Ok(AuditVerdict::Intact { count, head: prev }),
            None => Ok(AuditVerdict::Broken {
                at_id: count,
                reason: "the head record is missing".to_owned(),
            }),
            Some((n, h)) if n == count && h == prev => {
                Ok(AuditVerdict::Intact { count, head: prev })
            }
            Some((n, _)) => Ok(AuditVerdict::Broken {
                at_id: count + 1,
                reason: format!("the head says {n} rows but the chain has {count} (tail deleted?)"),
            }),
        }
    }
}

impl WriteTx<'_> {
    /// Appends an audit event to the chain, in the same transaction as the
    /// action it records.
    ///
    /// # Errors
    /// When SQLite fails; the action then rolls back too (fail closed).
    pub fn audit(&self, e: &AuditRecord) -> Result<(), StoreError> {
        let head: Option<(i64, String)> = self
            .conn()
            .query_row(
                "SELECT count, hash FROM audit_head WHERE one = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (count, prev) = head.unwrap_or((0, GENESIS.to_owned()));
        let id = count + 1;
        let hash = chain_hash(&prev, id, e);
        self.conn().execute(
            "INSERT INTO audit_log (id, at, actor, role, action, object, before, after, detail, \
             prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id, e.at, e.actor, e.role, e.action, e.object, e.before, e.after, e.detail, prev,
                hash
            ],
        )?;
        self.conn().execute(
            "INSERT INTO audit_head (one, count, hash) VALUES (1, ?1, ?2) \
             ON CONFLICT (one) DO UPDATE SET count = excluded.count, hash = excluded.hash",
            params![id, hash],
        )?;
        Ok(())
    }

    /// Moves the rows of the old unchained `audit_event` table (migration 1)
    /// into the chain, once.
    ///
    /// # Errors
    /// When SQLite fails.
    pub(super) fn chain_legacy_audit(&self) -> Result<usize, StoreError> {
        let chained: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM audit_log", [], |r| r.get(0))?;
        if chained > 0 {
            return Ok(0);
        }
        let mut stmt = self
            .conn()
            .prepare("SELECT at, actor, action, object, detail FROM audit_event ORDER BY id")?;
        let old = stmt
            .query_map([], |r| {
                Ok(AuditRecord {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    role: "legacy".to_owned(),
                    action: r.get(2)?,
                    object: r.get(3)?,
                    before: String::new(),
                    after: String::new(),
                    detail: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        for e in &old {
            self.audit(e)?;
        }
        Ok(old.len())
    }
}
