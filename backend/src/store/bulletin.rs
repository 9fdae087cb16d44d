//! Notices (公告) for the kiosk's idle screen, and what the kiosk
//! catalogue needs: every published guide and the times the catalogue
//! last changed.

use proto::Matter;
use rusqlite::params;

use super::{ReadTx, StoreError, WriteTx};

/// A notice to publish.
#[derive(Debug, Clone)]
pub struct NewBulletin<'a> {
    /// Title.
    pub title: &'a str,
    /// Text.
    pub body: &'a str,
    /// Publication time (RFC 3339).
    pub published_at: &'a str,
    /// Last day shown (YYYY-MM-DD, inclusive), if any.
    pub until: Option<&'a str>,
    /// Who published it (audit actor).
    pub created_by: &'a str,
}

/// A stored notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulletinRow {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Publication time (RFC 3339).
    pub published_at: String,
    /// Last day shown (YYYY-MM-DD), if any.
    pub until: Option<String>,
    /// Who published it.
    pub created_by: String,
    /// When withdrawn (RFC 3339), if it was.
    pub withdrawn_at: Option<String>,
}

impl ReadTx<'_> {
    /// Every notice, newest first (withdrawn and expired ones included).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn bulletins(&self) -> Result<Vec<BulletinRow>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT id, title, body, published_at, until, created_by, withdrawn_at \
             FROM bulletin ORDER BY published_at DESC, id DESC",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(BulletinRow {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    body: r.get(2)?,
                    published_at: r.get(3)?,
                    until: r.get(4)?,
                    created_by: r.get(5)?,
                    withdrawn_at: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every published guide, in catalogue order.
    ///
    /// # Errors
    /// When SQLite fails or a stored guide is corrupt.
    pub fn published_guides(&self) -> Result<Vec<Matter>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT guide_json FROM matter WHERE state = 'published' ORDER BY sort_order, code",
        )?;
        let json: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        json.iter()
            .map(|j| serde_json::from_str(j).map_err(StoreError::from))
            .collect()
    }

    /// Times the catalogue changed: each matter version's registration and
    /// each review decision (RFC 3339 as stored).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn catalogue_change_times(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT MAX(created_at) FROM matter_version \
             UNION ALL SELECT MAX(at) FROM matter_review",
        )?;
        let times: Vec<Option<String>> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(times.into_iter().flatten().collect())
    }
}

impl WriteTx<'_> {
    /// Publishes a notice; returns its id.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_bulletin(&self, b: &NewBulletin<'_>) -> Result<i64, StoreError> {
        self.conn().execute(
            "INSERT INTO bulletin (title, body, published_at, until, created_by) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![b.title, b.body, b.published_at, b.until, b.created_by],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Withdraws a notice; `false` when there is none or it already was.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn withdraw_bulletin(&self, id: i64, by: &str, at: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE bulletin SET withdrawn_at = ?2, withdrawn_by = ?3 \
             WHERE id = ?1 AND withdrawn_at IS NULL",
            params![id, at, by],
        )?;
        Ok(n == 1)
    }
}
