//! Kiosk alerts: a resident touched 呼叫工作人员, maintenance mode was
//! entered, a print failed. Stored, audited, limited per kiosk, listed for
//! maintenance staff (every kind) and window clerks (calls for staff), who
//! acknowledge them.

use chrono::{DateTime, Duration, Utc};
use proto::{AlertAck, AlertKind, KioskAlert, Role};

use crate::error::ApiError;
use crate::service::auth::StaffPrincipal;
use crate::service::check_text;
use crate::service::kiosks::KioskIdentity;
use crate::service::time::rfc3339_china;
use crate::store::{AlertRow, AuditRecord, DeviceChangeRow, NewAlert, Store};

/// Most alerts one kiosk may raise in a minute; more are refused (429).
pub const MAX_ALERTS_PER_MINUTE: u32 = 10;
/// Longest `detail`, in characters.
pub const MAX_DETAIL_CHARS: usize = 200;
/// Longest `screen`, in characters.
pub const MAX_SCREEN_CHARS: usize = 100;

/// Roles that see and acknowledge every kind of alert.
pub const FLEET_ROLES: [Role; 3] = [Role::Maintenance, Role::Supervisor, Role::SystemAdmin];

/// The wire name of a kind.
#[must_use]
pub const fn kind_code(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::CallStaff => "call_staff",
        AlertKind::MaintenanceEntry => "maintenance_entry",
        AlertKind::PrintFailed => "print_failed",
    }
}

/// A kind's name in Chinese and English, from its wire name.
#[must_use]
pub fn kind_names(code: &str) -> (&'static str, &'static str) {
    match code {
        "call_staff" => ("呼叫工作人员", "Call for staff"),
        "maintenance_entry" => ("进入维护模式", "Maintenance mode entered"),
        "print_failed" => ("打印失败", "Print failed"),
        _ => ("其他", "Other"),
    }
}

/// Whether `who` may see and acknowledge alerts of `kind` (wire name):
/// maintenance staff, supervisors and system admins every kind, window
/// clerks calls for staff.
#[must_use]
pub fn may_handle(who: &StaffPrincipal, kind: &str) -> bool {
    who.roles.iter().any(|r| FLEET_ROLES.contains(r))
        || (kind == "call_staff" && who.has(Role::WindowClerk))
}

/// Stores an alert from a kiosk (audited), at most
/// [`MAX_ALERTS_PER_MINUTE`] a minute per kiosk.
///
/// # Errors
/// `INVALID_FIELD`, `RATE_LIMITED`, or a storage failure.
pub async fn raise(
    store: &Store,
    kiosk: &KioskIdentity,
    alert: KioskAlert,
    now: DateTime<Utc>,
) -> Result<AlertAck, ApiError> {
    check_text("screen", &alert.screen, 1, MAX_SCREEN_CHARS)?;
    check_text("detail", &alert.detail, 0, MAX_DETAIL_CHARS)?;
    let kiosk = kiosk.clone();
    let at = rfc3339_china(now);
    let since = rfc3339_china(now - Duration::minutes(1));
    let kind = kind_code(alert.kind);
    let ack = store
        .write(move |tx| -> Result<Result<AlertAck, ApiError>, ApiError> {
            if tx.alerts_since(&kiosk.id, &since)? >= MAX_ALERTS_PER_MINUTE {
                return Ok(Err(ApiError::RateLimited));
            }
            let id = tx.add_alert(&NewAlert {
                kiosk_id: &kiosk.id,
                kind,
                screen: alert.screen.trim(),
                detail: alert.detail.trim(),
                at: &at,
            })?;
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor: kiosk.actor(),
                role: "kiosk".to_owned(),
                action: "kiosk.alert".to_owned(),
                object: format!("kiosk:{}/alert:{id}", kiosk.id),
                detail: format!("kind={kind}"),
                ..AuditRecord::default()
            })?;
            Ok(Ok(AlertAck { id, at }))
        })
        .await??;
    tracing::info!(alert = ack.id, kind, "kiosk alert");
    Ok(ack)
}

/// The open alerts `who` may handle, newest first.
///
/// # Errors
/// A storage failure.
pub async fn open_for(store: &Store, who: &StaffPrincipal) -> Result<Vec<AlertRow>, ApiError> {
    let who = who.clone();
    store
        .read(move |tx| {
            Ok::<_, ApiError>(
                tx.open_alerts(None)?
                    .into_iter()
                    .filter(|a| may_handle(&who, &a.kind))
                    .collect(),
            )
        })
        .await
}

/// Acknowledges an open alert (audited). Acknowledging one twice changes
/// nothing.
///
/// # Errors
/// `NOT_FOUND` (no such alert), `FORBIDDEN` (not one `who` handles), or a
/// storage failure.
pub async fn acknowledge(
    store: &Store,
    who: &StaffPrincipal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let who = who.clone();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let alert = tx.alert(id)?.ok_or(ApiError::NotFound)?;
            if !may_handle(&who, &alert.kind) {
                return Err(ApiError::Forbidden);
            }
            let actor = format!("staff:{}", who.username);
            if tx.acknowledge_alert(id, &actor, &at)? {
                tx.audit(&AuditRecord {
                    at,
                    actor,
                    role: who.role_codes(),
                    action: "kiosk.alert_acknowledged".to_owned(),
                    object: format!("kiosk:{}/alert:{id}", alert.kiosk_id),
                    detail: format!("kind={}", alert.kind),
                    ..AuditRecord::default()
                })?;
            }
            Ok(())
        })
        .await
}

/// One kiosk's history for maintenance staff: its alerts (maintenance
/// entries included, acknowledged or not) and its device state changes,
/// newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskHistory {
    /// Kiosk name.
    pub name: String,
    /// Where it stands.
    pub location: String,
    /// Alerts.
    pub alerts: Vec<AlertRow>,
    /// Device state changes.
    pub devices: Vec<DeviceChangeRow>,
}

/// A kiosk's history (the last 200 of each).
///
/// # Errors
/// `NOT_FOUND` for an unknown kiosk, or a storage failure.
pub async fn history(store: &Store, kiosk_id: &str) -> Result<KioskHistory, ApiError> {
    let kiosk_id = kiosk_id.to_owned();
    store
        .read(move |tx| {
            let row = tx
                .fleet()?
                .into_iter()
                .find(|r| r.kiosk_id == kiosk_id)
                .ok_or(ApiError::NotFound)?;
            Ok(KioskHistory {
                name: row.kiosk_name,
                location: row.location,
                alerts: tx.kiosk_alerts(&kiosk_id, 200)?,
                devices: tx.device_history(&kiosk_id, 200)?,
            })
        })
        .await
}

/// How long ago `at` (RFC 3339) was, in Chinese (刚刚, 5分钟前, 2小时前, 3天前).
#[must_use]
pub fn age_zh(at: &str, now: DateTime<Utc>) -> String {
    let Ok(t) = DateTime::parse_from_rfc3339(at) else {
        return at.to_owned();
    };
    let secs = (now - t.with_timezone(&Utc)).num_seconds().max(0);
    match secs {
        0..60 => "刚刚".to_owned(),
        60..3600 => format!("{}分钟前", secs / 60),
        3600..86_400 => format!("{}小时前", secs / 3600),
        _ => format!("{}天前", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn ages_read_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 2, 0, 0).unwrap();
        assert_eq!(age_zh("2026-11-27T10:00:00+08:00", now), "刚刚");
        assert_eq!(age_zh("2026-11-27T09:55:00+08:00", now), "5分钟前");
        assert_eq!(age_zh("2026-11-27T07:00:00+08:00", now), "3小时前");
        assert_eq!(age_zh("2026-11-25T10:00:00+08:00", now), "2天前");
    }

    #[test]
    fn every_kind_has_chinese_words() {
        for k in [
            AlertKind::CallStaff,
            AlertKind::MaintenanceEntry,
            AlertKind::PrintFailed,
        ] {
            assert_ne!(kind_names(kind_code(k)).0, "其他");
        }
        assert_eq!(kind_names("call_staff").0, "呼叫工作人员");
    }
}
