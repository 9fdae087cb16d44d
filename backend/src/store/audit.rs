//! The audit trail (append-only; triggers refuse UPDATE and DELETE).

use rusqlite::params;

use super::{ReadTx, StoreError, WriteTx};

/// One audit event. `detail` never holds personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// When (RFC 3339).
    pub at: String,
    /// Who: `kiosk:<id>`, `system`, `clerk:<id>`.
    pub actor: String,
    /// What, e.g. `case.created`.
    pub action: String,
    /// On what, e.g. `case:410403202611280001`.
    pub object: String,
    /// Further detail without personal data.
    pub detail: String,
}

impl ReadTx<'_> {
    /// Audit events about one object, oldest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn audit_events_for(&self, object: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT at, actor, action, object, detail FROM audit_event \
             WHERE object = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![object], |r| {
                Ok(AuditRecord {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    object: r.get(3)?,
                    detail: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

impl WriteTx<'_> {
    /// Appends an audit event, in the same transaction as the action it records.
    ///
    /// # Errors
    /// When SQLite fails; the action then rolls back too (fail closed).
    pub fn audit(&self, e: &AuditRecord) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO audit_event (at, actor, action, object, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![e.at, e.actor, e.action, e.object, e.detail],
        )?;
        Ok(())
    }
}
