//! Kiosk alerts (呼叫工作人员, maintenance entries, print failures) and the
//! replies of idempotent kiosk requests.

use rusqlite::{OptionalExtension, params};

use super::{ReadTx, StoreError, WriteTx};

/// An alert to store.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    /// Kiosk id.
    pub kiosk_id: &'a str,
    /// `call_staff`, `maintenance_entry` or `print_failed`.
    pub kind: &'a str,
    /// Screen the kiosk showed.
    pub screen: &'a str,
    /// Free text without personal data.
    pub detail: &'a str,
    /// When (RFC 3339).
    pub at: &'a str,
}

/// A stored alert with its kiosk's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    /// Alert id.
    pub id: i64,
    /// Kiosk id.
    pub kiosk_id: String,
    /// Kiosk name.
    pub kiosk_name: String,
    /// Where the kiosk stands.
    pub location: String,
    /// Kind (wire name).
    pub kind: String,
    /// Screen.
    pub screen: String,
    /// Detail.
    pub detail: String,
    /// When raised (RFC 3339).
    pub at: String,
    /// Who acknowledged it (audit actor), if anyone.
    pub acknowledged_by: Option<String>,
    /// When (RFC 3339).
    pub acknowledged_at: Option<String>,
}

/// One change of a device's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceChangeRow {
    /// Device name.
    pub device: String,
    /// Device class.
    pub kind: String,
    /// State before (`None` for the first report).
    pub state_from: Option<String>,
    /// State after.
    pub state_to: String,
    /// Fault code.
    pub fault_code: Option<String>,
    /// Chinese text.
    pub text_zh: String,
    /// When the backend heard it (RFC 3339).
    pub received_at: String,
}

/// The reply kept for an idempotent kiosk request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    /// SM3 of the request.
    pub request_sm3: String,
    /// The reply as sent (JSON).
    pub reply_json: String,
}

const ALERT_COLUMNS: &str = "a.id, a.kiosk_id, k.name, k.location, a.kind, a.screen, a.detail, \
     a.at, a.acknowledged_by, a.acknowledged_at";

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        kiosk_id: r.get(1)?,
        kiosk_name: r.get(2)?,
        location: r.get(3)?,
        kind: r.get(4)?,
        screen: r.get(5)?,
        detail: r.get(6)?,
        at: r.get(7)?,
        acknowledged_by: r.get(8)?,
        acknowledged_at: r.get(9)?,
    })
}

impl ReadTx<'_> {
    /// Alerts a kiosk raised at or after `since` (RFC 3339).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn alerts_since(&self, kiosk_id: &str, since: &str) -> Result<u32, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM kiosk_alert WHERE kiosk_id = ?1 AND at >= ?2",
            params![kiosk_id, since],
            |r| r.get(0),
        )?)
    }

    /// Alerts nobody has acknowledged yet, newest first; only `kinds` when
    /// given.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn open_alerts(&self, kinds: Option<&[&str]>) -> Result<Vec<AlertRow>, StoreError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {ALERT_COLUMNS} FROM kiosk_alert a JOIN kiosk k ON k.id = a.kiosk_id \
             WHERE a.acknowledged_at IS NULL ORDER BY a.at DESC, a.id DESC LIMIT 200"
        ))?;
        let rows = stmt
            .query_map([], alert_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter(|a| kinds.is_none_or(|k| k.contains(&a.kind.as_str())))
            .collect())
    }

    /// One kiosk's alerts, newest first (at most `limit`).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn kiosk_alerts(&self, kiosk_id: &str, limit: u32) -> Result<Vec<AlertRow>, StoreError> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {ALERT_COLUMNS} FROM kiosk_alert a JOIN kiosk k ON k.id = a.kiosk_id \
             WHERE a.kiosk_id = ?1 ORDER BY a.at DESC, a.id DESC LIMIT ?2"
        ))?;
        let rows = stmt
            .query_map(params![kiosk_id, limit], alert_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One alert.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn alert(&self, id: i64) -> Result<Option<AlertRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!(
                    "SELECT {ALERT_COLUMNS} FROM kiosk_alert a JOIN kiosk k ON k.id = a.kiosk_id \
                     WHERE a.id = ?1"
                ),
                params![id],
                alert_row,
            )
            .optional()?)
    }

    /// A kiosk's device state changes, newest first (at most `limit`).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn device_history(
        &self,
        kiosk_id: &str,
        limit: u32,
    ) -> Result<Vec<DeviceChangeRow>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT device, kind, state_from, state_to, fault_code, text_zh, received_at \
             FROM device_health_history WHERE kiosk_id = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![kiosk_id, limit], |r| {
                Ok(DeviceChangeRow {
                    device: r.get(0)?,
                    kind: r.get(1)?,
                    state_from: r.get(2)?,
                    state_to: r.get(3)?,
                    fault_code: r.get(4)?,
                    text_zh: r.get(5)?,
                    received_at: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The kept reply of an idempotent kiosk request.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn kiosk_request(
        &self,
        kiosk_id: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<StoredRequest>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT request_sm3, reply_json FROM kiosk_request \
                 WHERE kiosk_id = ?1 AND kind = ?2 AND idempotency_key = ?3",
                params![kiosk_id, kind, key],
                |r| {
                    Ok(StoredRequest {
                        request_sm3: r.get(0)?,
                        reply_json: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Stores an alert; returns its id.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_alert(&self, a: &NewAlert<'_>) -> Result<i64, StoreError> {
        self.conn().execute(
            "INSERT INTO kiosk_alert (kiosk_id, kind, screen, detail, at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![a.kiosk_id, a.kind, a.screen, a.detail, a.at],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Marks an open alert acknowledged; `false` when it was already.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn acknowledge_alert(&self, id: i64, by: &str, at: &str) -> Result<bool, StoreError> {
        let n = self.conn().execute(
            "UPDATE kiosk_alert SET acknowledged_by = ?2, acknowledged_at = ?3 \
             WHERE id = ?1 AND acknowledged_at IS NULL",
            params![id, by, at],
        )?;
        Ok(n == 1)
    }

    /// Keeps the reply of an idempotent kiosk request.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn put_kiosk_request(
        &self,
        kiosk_id: &str,
        kind: &str,
        key: &str,
        request_sm3: &str,
        reply_json: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO kiosk_request (kiosk_id, kind, idempotency_key, request_sm3, reply_json, at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![kiosk_id, kind, key, request_sm3, reply_json, at],
        )?;
        Ok(())
    }
}
