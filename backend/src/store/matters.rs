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

/// The filter shared by the count and the page query: `?1` is the search
/// text or NULL. `instr` rather than FTS so one- and two-character Chinese
/// queries (低保, 户口) match.
const FILTER: &str = "?1 IS NULL \
     OR instr(name, ?1) > 0 \
     OR instr(department, ?1) > 0 \
     OR instr(theme, ?1) > 0 \
     OR instr(matter_type, ?1) > 0 \
     OR instr(lower(code), lower(?1)) > 0";

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

    /// One page of the catalogue matching `q` (all when `None`), in
    /// catalogue order, and the number of matches over all pages.
    ///
    /// # Errors
    /// When SQLite fails or a stored value is corrupt.
    pub fn search_matters(
        &self,
        q: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<MatterSummary>, u64), StoreError> {
        let total: i64 = self.conn().query_row(
            &format!("SELECT COUNT(*) FROM matter WHERE {FILTER}"),
            params![q],
            |r| r.get(0),
        )?;
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM matter WHERE {FILTER} \
             ORDER BY sort_order, code LIMIT ?2 OFFSET ?3"
        ))?;
        let rows = stmt
            .query_map(params![q, limit, offset], summary_row)?
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
        Ok(())
    }
}
