//! Enrolled kiosks, their one-time codes and their device health.

use proto::DeviceHealth;
use rusqlite::{OptionalExtension, params};

use super::{ReadTx, StoreError, WriteTx};

/// An enrolled kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskRow {
    /// Kiosk id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// Where it stands.
    pub location: String,
}

/// A kiosk to enrol.
#[derive(Debug, Clone)]
pub struct NewKiosk<'a> {
    /// Kiosk id.
    pub id: &'a str,
    /// Human name.
    pub name: &'a str,
    /// Where it stands.
    pub location: &'a str,
    /// SM3 hash (hex) of its bearer token.
    pub token_sm3: &'a str,
    /// SM3 hash (hex) of the enrolment code it used.
    pub code_sm3: &'a str,
    /// Enrolment time (RFC 3339).
    pub at: &'a str,
}

/// One device's report within a heartbeat.
#[derive(Debug, Clone)]
pub struct DeviceReport<'a> {
    /// Kiosk id.
    pub kiosk_id: &'a str,
    /// The device's health as reported.
    pub health: &'a DeviceHealth,
    /// Kiosk's time of sending (RFC 3339).
    pub sent_at: &'a str,
    /// Server's time of receipt (RFC 3339).
    pub received_at: &'a str,
}

impl ReadTx<'_> {
    /// The kiosk whose token has this SM3 hash.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn kiosk_by_token_sm3(&self, token_sm3: &str) -> Result<Option<KioskRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, location FROM kiosk WHERE token_sm3 = ?1",
                params![token_sm3],
                |r| {
                    Ok(KioskRow {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        location: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Whether an enrolment code (by SM3 hash) has been used.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn enrolment_code_used(&self, code_sm3: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM enrolment_code_use WHERE code_sm3 = ?1",
                params![code_sm3],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// The stored state (wire name) of a kiosk's device, if it ever reported.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn device_state(&self, kiosk_id: &str, device: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT state FROM device_health WHERE kiosk_id = ?1 AND device = ?2",
                params![kiosk_id, device],
                |r| r.get(0),
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Enrols a kiosk and marks its enrolment code used.
    ///
    /// Returns `false` (and writes nothing the caller should commit) when
    /// the code was already used.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn enrol_kiosk(&self, k: &NewKiosk<'_>) -> Result<bool, StoreError> {
        if self.enrolment_code_used(k.code_sm3)? {
            return Ok(false);
        }
        self.conn().execute(
            "INSERT INTO kiosk (id, name, location, token_sm3, enrolled_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![k.id, k.name, k.location, k.token_sm3, k.at],
        )?;
        self.conn().execute(
            "INSERT INTO enrolment_code_use (code_sm3, kiosk_id, used_at) VALUES (?1, ?2, ?3)",
            params![k.code_sm3, k.id, k.at],
        )?;
        Ok(true)
    }

    /// Records that a kiosk was heard from.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn touch_kiosk(
        &self,
        kiosk_id: &str,
        at: &str,
        software_version: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE kiosk SET last_seen_at = ?2, software_version = ?3 WHERE id = ?1",
            params![kiosk_id, at, software_version],
        )?;
        Ok(())
    }

    /// Stores a device's latest health; when its state differs from the
    /// stored one (or it never reported), also adds a history row.
    /// Returns the previous state when the state changed, `Some(None)` for a
    /// first report and `None` when unchanged.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn put_device_health(
        &self,
        d: &DeviceReport<'_>,
    ) -> Result<Option<Option<String>>, StoreError> {
        let h = d.health;
        let previous = self.device_state(d.kiosk_id, &h.device)?;
        let state = h.state.as_str();
        let counters = serde_json::to_string(&h.counters)?;
        self.conn().execute(
            "INSERT INTO device_health (kiosk_id, device, kind, state, fault_code, text_zh, \
                 text_en, counters_json, last_self_test, sent_at, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (kiosk_id, device) DO UPDATE SET kind = excluded.kind, \
                 state = excluded.state, fault_code = excluded.fault_code, \
                 text_zh = excluded.text_zh, text_en = excluded.text_en, \
                 counters_json = excluded.counters_json, \
                 last_self_test = excluded.last_self_test, sent_at = excluded.sent_at, \
                 received_at = excluded.received_at",
            params![
                d.kiosk_id,
                h.device,
                h.kind.as_str(),
                state,
                h.fault_code,
                h.text_zh,
                h.text_en,
                counters,
                h.last_self_test,
                d.sent_at,
                d.received_at,
            ],
        )?;
        if previous.as_deref() == Some(state) {
            return Ok(None);
        }
        self.conn().execute(
            "INSERT INTO device_health_history (kiosk_id, device, kind, state_from, state_to, \
                 fault_code, text_zh, sent_at, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                d.kiosk_id,
                h.device,
                h.kind.as_str(),
                previous,
                state,
                h.fault_code,
                h.text_zh,
                d.sent_at,
                d.received_at,
            ],
        )?;
        Ok(Some(previous))
    }
}

/// One device of one kiosk as last reported, for the fleet page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetDeviceRow {
    /// Kiosk id.
    pub kiosk_id: String,
    /// Kiosk name.
    pub kiosk_name: String,
    /// Where it stands.
    pub location: String,
    /// Last heartbeat (RFC 3339), if any.
    pub last_seen_at: Option<String>,
    /// Software version the kiosk reported.
    pub software_version: Option<String>,
    /// Device name in the kiosk's configuration (`None` when the kiosk has
    /// never reported a device).
    pub device: Option<String>,
    /// Device class (`id_card_reader`, …).
    pub kind: Option<String>,
    /// `ok`, `degraded`, `fault` or `offline`.
    pub state: Option<String>,
    /// Fault code.
    pub fault_code: Option<String>,
    /// Chinese text.
    pub text_zh: Option<String>,
    /// Counters as JSON.
    pub counters_json: Option<String>,
}

impl ReadTx<'_> {
    /// Every kiosk with the latest health of each of its devices.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn fleet(&self) -> Result<Vec<FleetDeviceRow>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT k.id, k.name, k.location, k.last_seen_at, k.software_version, \
                    d.device, d.kind, d.state, d.fault_code, d.text_zh, d.counters_json \
             FROM kiosk k LEFT JOIN device_health d ON d.kiosk_id = k.id \
             ORDER BY k.name, k.id, d.device",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FleetDeviceRow {
                kiosk_id: r.get(0)?,
                kiosk_name: r.get(1)?,
                location: r.get(2)?,
                last_seen_at: r.get(3)?,
                software_version: r.get(4)?,
                device: r.get(5)?,
                kind: r.get(6)?,
                state: r.get(7)?,
                fault_code: r.get(8)?,
                text_zh: r.get(9)?,
                counters_json: r.get(10)?,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }
}
