//! Drafts of window applications (草稿).

use rusqlite::{OptionalExtension, params};

use super::{ReadTx, StoreError, WriteTx};

/// A stored draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftRow {
    /// Id.
    pub id: i64,
    /// Matter code.
    pub matter_code: String,
    /// What the clerk typed (JSON object).
    pub body_json: String,
    /// Last saved (RFC 3339).
    pub updated_at: String,
}

impl ReadTx<'_> {
    /// A staff member's drafts, newest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn drafts_of(&self, staff_id: i64) -> Result<Vec<DraftRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, matter_code, body_json, updated_at FROM case_draft \
             WHERE staff_id = ?1 ORDER BY updated_at DESC, id DESC",
        )?;
        let rows = stmt
            .query_map(params![staff_id], |r| {
                Ok(DraftRow {
                    id: r.get(0)?,
                    matter_code: r.get(1)?,
                    body_json: r.get(2)?,
                    updated_at: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One draft of a staff member.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn draft(&self, staff_id: i64, id: i64) -> Result<Option<DraftRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, matter_code, body_json, updated_at FROM case_draft \
                 WHERE staff_id = ?1 AND id = ?2",
                params![staff_id, id],
                |r| {
                    Ok(DraftRow {
                        id: r.get(0)?,
                        matter_code: r.get(1)?,
                        body_json: r.get(2)?,
                        updated_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Saves a draft (new when `id` is `None`); returns its id, or `None`
    /// when `id` is not one of this staff member's drafts.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn save_draft(
        &self,
        staff_id: i64,
        id: Option<i64>,
        matter_code: &str,
        body_json: &str,
        at: &str,
    ) -> Result<Option<i64>, StoreError> {
        match id {
            None => {
                self.conn().execute(
                    "INSERT INTO case_draft (staff_id, matter_code, body_json, created_at, updated_at) \
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![staff_id, matter_code, body_json, at],
                )?;
                Ok(Some(self.conn().last_insert_rowid()))
            }
            Some(id) => {
                let n = self.conn().execute(
                    "UPDATE case_draft SET matter_code = ?3, body_json = ?4, updated_at = ?5 \
                     WHERE staff_id = ?1 AND id = ?2",
                    params![staff_id, id, matter_code, body_json, at],
                )?;
                Ok((n == 1).then_some(id))
            }
        }
    }

    /// Deletes a draft (filed or discarded).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn delete_draft(&self, staff_id: i64, id: i64) -> Result<bool, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM case_draft WHERE staff_id = ?1 AND id = ?2",
            params![staff_id, id],
        )? == 1)
    }
}
