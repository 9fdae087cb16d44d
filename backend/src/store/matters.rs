//! The matter catalogue.

use proto::{Matter, MatterSummary};
use rusqlite::{OptionalExtension, Row, params};
use serde::de::DeserializeOwned;

use super::{ReadTx, StoreError, WriteTx};

/// Parses an enum stored as its wire string.
pub(super) fn parse_wire<T: DeserializeOwned>(s: String) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.clone()))
        .map_err(|_| StoreError::Corrupt(format!("unknown stored value {s:?}")))
}

/// The wire string of an enum.
pub(super) fn wire_string<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    match serde_json::to_value(v)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Corrupt(format!("not a string enum: {other}"))),
    }
}

const SUMMARY_COLUMNS: &str = "code, name, department, theme, audience, service_level, \
     kiosk_available, fee_charged, promised_days";

struct SummaryRow {
    code: String,
    name: String,
    department: String,
    theme: String,
    audience: String,
    service_level: String,
    kiosk_available: bool,
    fee: bool,
    promised_days: u32,
}

fn summary_row(r: &Row<'_>) -> rusqlite::Result<SummaryRow> {
    Ok(SummaryRow {
        code: r.get(0)?,
        name: r.get(1)?,
        department: r.get(2)?,
        theme: r.get(3)?,
        audience: r.get(4)?,
        service_level: r.get(5)?,
        kiosk_available: r.get(6)?,
        fee: r.get(7)?,
        promised_days: r.get(8)?,
    })
}

impl SummaryRow {
    fn into_summary(self) -> Result<MatterSummary, StoreError> {
        Ok(MatterSummary {
            code: self.code,
            name: self.name,
            department: self.department,
            theme: self.theme,
            audience: parse_wire(self.audience)?,
            service_level: parse_wire(self.service_level)?,
            kiosk_available: self.kiosk_available,
            fee: self.fee,
            promised_days: self.promised_days,
        })
    }
}

impl ReadTx<'_> {
    /// Number of matters in the catalogue.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn matter_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM matter", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// One page of the published catalogue in catalogue order, and the
    /// number of published matters. (Searching is `search_catalogue`.)
    ///
    /// # Errors
    /// When SQLite fails or a stored value is corrupt.
    pub fn list_published(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<MatterSummary>, u64), StoreError> {
        let total: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM matter WHERE state = 'published'",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM matter WHERE state = 'published' \
             ORDER BY sort_order, code LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt
            .query_map(params![limit, offset], summary_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let items = rows
            .into_iter()
            .map(SummaryRow::into_summary)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, u64::try_from(total).unwrap_or(0)))
    }

    /// The full guide of one matter.
    ///
    /// # Errors
    /// When SQLite fails or the stored guide is corrupt.
    pub fn matter(&self, code: &str) -> Result<Option<Matter>, StoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT guide_json FROM matter WHERE code = ?1",
                params![code],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(StoreError::from))
            .transpose()
    }
}

impl WriteTx<'_> {
    /// Adds a matter to the catalogue (or replaces the guide with the same code).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn put_matter(&self, m: &Matter, sort_order: i64) -> Result<(), StoreError> {
        let guide = serde_json::to_string(m)?;
        self.conn().execute(
            "INSERT INTO matter (code, name, matter_type, department, theme, audience, \
                 service_level, kiosk_available, fee_charged, promised_days, version, \
                 sort_order, guide_json) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                 matter_type = excluded.matter_type, department = excluded.department, \
                 theme = excluded.theme, audience = excluded.audience, \
                 service_level = excluded.service_level, \
                 kiosk_available = excluded.kiosk_available, \
                 fee_charged = excluded.fee_charged, promised_days = excluded.promised_days, \
                 version = excluded.version, sort_order = excluded.sort_order, \
                 guide_json = excluded.guide_json",
            params![
                m.code,
                m.name,
                m.matter_type,
                m.department,
                m.theme,
                wire_string(&m.audience)?,
                wire_string(&m.service_level)?,
                m.kiosk_available,
                m.fee.charged,
                m.promised_days,
                m.version,
                sort_order,
                guide,
            ],
        )?;
        search::upsert(self.conn(), &search_doc(m))?;
        Ok(())
    }
}

impl ReadTx<'_> {
    /// The current guide of a matter that is published (not suspended or
    /// cancelled): what an application may be filed against.
    ///
    /// # Errors
    /// When SQLite fails or the stored guide is corrupt.
    pub fn published_matter(&self, code: &str) -> Result<Option<Matter>, StoreError> {
        let json: Option<String> = self
            .conn()
            .query_row(
                "SELECT guide_json FROM matter WHERE code = ?1 AND state = 'published'",
                params![code],
                |r| r.get(0),
            )
            .optional()?;
        json.map(|j| serde_json::from_str(&j).map_err(StoreError::from))
            .transpose()
    }
}

/// SM3 (hex) of a guide's JSON without its version number: equal for two
/// versions with the same content.
///
/// # Errors
/// When the guide cannot be encoded.
pub fn guide_digest(m: &Matter) -> Result<String, StoreError> {
    use sm3::Digest as _;
    let mut v = serde_json::to_value(m)?;
    if let Some(o) = v.as_object_mut() {
        o.remove("version");
    }
    Ok(hex::encode(sm3::Sm3::digest(v.to_string().as_bytes())))
}

/// One registered version of a matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterVersionRow {
    /// Code.
    pub code: String,
    /// Version.
    pub version: u32,
    /// `new`, `change`, `delegate`, `split`, `suspend`, `cancel`, `import`.
    pub change_kind: String,
    /// Review stage.
    pub stage: String,
    /// `seed`, `provincial` or `local`.
    pub source: String,
    /// The guide.
    pub guide_json: String,
    /// Digest of the guide without its version.
    pub guide_sm3: String,
    /// When registered.
    pub created_at: String,
    /// Who registered it.
    pub created_by: String,
}

/// One review decision on a matter version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterReviewRow {
    /// Stage decided.
    pub stage: String,
    /// `register`, `pass`, `reject` or `publish`.
    pub decision: String,
    /// Who.
    pub actor: String,
    /// Role.
    pub role: String,
    /// Opinion.
    pub opinion: String,
    /// When.
    pub at: String,
}

impl ReadTx<'_> {
    fn versions_where(
        &self,
        tail: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<MatterVersionRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT code, version, change_kind, stage, source, guide_json, guide_sm3, \
                 created_at, created_by FROM matter_version {tail}"
        ))?;
        let rows = stmt
            .query_map(p, |r| {
                Ok(MatterVersionRow {
                    code: r.get(0)?,
                    version: r.get(1)?,
                    change_kind: r.get(2)?,
                    stage: r.get(3)?,
                    source: r.get(4)?,
                    guide_json: r.get(5)?,
                    guide_sm3: r.get(6)?,
                    created_at: r.get(7)?,
                    created_by: r.get(8)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Every version of a matter, newest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn matter_versions(&self, code: &str) -> Result<Vec<MatterVersionRow>, StoreError> {
        self.versions_where("WHERE code = ?1 ORDER BY version DESC", params![code])
    }

    /// Versions waiting at a review stage, oldest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn matter_versions_at(&self, stage: &str) -> Result<Vec<MatterVersionRow>, StoreError> {
        self.versions_where("WHERE stage = ?1 ORDER BY created_at, code", params![stage])
    }

    /// The review trail of one version, oldest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn matter_reviews(
        &self,
        code: &str,
        version: u32,
    ) -> Result<Vec<MatterReviewRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT stage, decision, actor, role, opinion, at FROM matter_review \
             WHERE code = ?1 AND version = ?2 ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![code, version], |r| {
                Ok(MatterReviewRow {
                    stage: r.get(0)?,
                    decision: r.get(1)?,
                    actor: r.get(2)?,
                    role: r.get(3)?,
                    opinion: r.get(4)?,
                    at: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The publication state of a matter (`published`, `suspended`,
    /// `cancelled`), if it is in the catalogue.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn matter_state(&self, code: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT state FROM matter WHERE code = ?1",
                params![code],
                |r| r.get(0),
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Registers a version of a matter.
    ///
    /// # Errors
    /// When SQLite fails (a duplicate version included).
    pub fn add_matter_version(
        &self,
        m: &Matter,
        change_kind: &str,
        stage: &str,
        source: &str,
        at: &str,
        by: &str,
    ) -> Result<(), StoreError> {
        let guide = serde_json::to_string(m)?;
        self.conn().execute(
            "INSERT INTO matter_version (code, version, change_kind, stage, source, guide_json, \
                 guide_sm3, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                m.code,
                m.version,
                change_kind,
                stage,
                source,
                guide,
                guide_digest(m)?,
                at,
                by
            ],
        )?;
        Ok(())
    }

    /// Moves a version to a review stage.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_version_stage(
        &self,
        code: &str,
        version: u32,
        stage: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE matter_version SET stage = ?3 WHERE code = ?1 AND version = ?2",
            params![code, version, stage],
        )?;
        Ok(())
    }

    /// Records a review decision.
    ///
    /// # Errors
    /// When SQLite fails.
    #[allow(clippy::too_many_arguments)]
    pub fn add_matter_review(
        &self,
        code: &str,
        version: u32,
        stage: &str,
        decision: &str,
        actor: &str,
        role: &str,
        opinion: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO matter_review (code, version, stage, decision, actor, role, opinion, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![code, version, stage, decision, actor, role, opinion, at],
        )?;
        Ok(())
    }

    /// Sets the publication state of a matter in the catalogue.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_matter_state(&self, code: &str, state: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE matter SET state = ?2 WHERE code = ?1",
            params![code, state],
        )?;
        // Only published matters can be found.
        if state == "published" {
            if let Some(m) = self.matter(code)? {
                search::upsert(self.conn(), &search_doc(&m))?;
            }
        } else {
            search::remove(self.conn(), code)?;
        }
        Ok(())
    }

    /// Counts one more case of a matter (search ranks popular matters first).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn bump_popularity(&self, code: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE matter SET popularity = popularity + 1 WHERE code = ?1",
            params![code],
        )?;
        let n: Option<i64> = self
            .conn()
            .query_row(
                "SELECT popularity FROM matter WHERE code = ?1 AND state = 'published'",
                params![code],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(n) = n {
            search::set_popularity(self.conn(), code, u64::try_from(n).unwrap_or(0))?;
        }
        Ok(())
    }
}

impl ReadTx<'_> {
    /// The catalogue position of a matter.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn matter_sort_order(&self, code: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT sort_order FROM matter WHERE code = ?1",
                params![code],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// The search document of a matter: its name, keywords, department, theme
/// and the text of its guide.
#[must_use]
pub fn search_doc(m: &Matter) -> search::Doc {
    let mut text = String::new();
    for part in [
        &m.matter_type,
        &m.implementing_body,
        &m.legal_basis,
        &m.result_name,
        &m.online_depth,
    ] {
        text.push_str(part);
        text.push('\n');
    }
    for c in &m.conditions {
        text.push_str(c);
        text.push('\n');
    }
    for mat in &m.materials {
        text.push_str(&mat.name);
        text.push('\n');
        text.push_str(&mat.note);
        text.push('\n');
    }
    for p in &m.process {
        text.push_str(p);
        text.push('\n');
    }
    for f in &m.faq {
        text.push_str(&f.q);
        text.push('\n');
        text.push_str(&f.a);
        text.push('\n');
    }
    search::Doc {
        code: m.code.clone(),
        name: m.name.clone(),
        department: m.department.clone(),
        theme: m.theme.clone(),
        text,
        keywords: m.keywords.clone(),
        popularity: 0,
    }
}

/// Fills the search index from the catalogue when the index is empty (a
/// database made before the index existed, or a deleted index).
///
/// # Errors
/// When SQLite fails or a stored guide is corrupt.
pub(super) fn reindex_if_empty(conn: &rusqlite::Connection) -> Result<(), StoreError> {
    let indexed: i64 = conn.query_row("SELECT COUNT(*) FROM search_doc", [], |r| r.get(0))?;
    if indexed > 0 {
        return Ok(());
    }
    let mut stmt =
        conn.prepare("SELECT guide_json, popularity FROM matter WHERE state = 'published'")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    for (json, popularity) in rows {
        let m: Matter = serde_json::from_str(&json)?;
        let mut doc = search_doc(&m);
        doc.popularity = u64::try_from(popularity).unwrap_or(0);
        search::upsert(conn, &doc)?;
    }
    Ok(())
}

impl ReadTx<'_> {
    /// Searches the published catalogue: a page of matters in relevance
    /// order and the number of matches.
    ///
    /// # Errors
    /// `Search` for an empty or overlong query; when SQLite fails.
    pub fn search_catalogue(
        &self,
        syn: &search::Synonyms,
        q: &str,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<MatterSummary>, u64), StoreError> {
        let (hits, total) = search::search(
            self.conn(),
            syn,
            q,
            usize::try_from(limit).unwrap_or(usize::MAX),
            usize::try_from(offset).unwrap_or(usize::MAX),
        )?;
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM matter WHERE code = ?1"
        ))?;
        let mut items = Vec::with_capacity(hits.len());
        for h in hits {
            if let Some(row) = stmt.query_row(params![h.code], summary_row).optional()? {
                items.push(row.into_summary()?);
            }
        }
        Ok((items, total))
    }
}
