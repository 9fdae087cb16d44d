//! Kiosk fleet: enrolment with a one-time code, bearer-token
//! authentication, heartbeats with every device's health.

use chrono::{DateTime, Utc};
use proto::{EnrolRequest, EnrolResponse, Heartbeat, HeartbeatAck};
use sm3::{Digest, Sm3};

use crate::error::ApiError;
use crate::service::time::rfc3339_china;
use crate::service::{check_text, check_time};
use crate::store::{AuditRecord, DeviceReport, NewKiosk, Store};

/// Most devices one heartbeat may report.
pub const MAX_DEVICES: usize = 64;

/// An authenticated kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskIdentity {
    /// Kiosk id.
    pub id: String,
    /// Human name.
    pub name: String,
}

impl KioskIdentity {
    /// The actor name in the audit trail.
    #[must_use]
    pub fn actor(&self) -> String {
        format!("kiosk:{}", self.id)
    }
}

/// Lower-case hex SM3 digest.
#[must_use]
pub fn sm3_hex(data: &[u8]) -> String {
    hex::encode(Sm3::digest(data))
}

enum EnrolOutcome {
    Enrolled(EnrolResponse),
    Refused,
}

/// Enrols a kiosk with a one-time code from `codes` (the configured ones).
///
/// # Errors
/// `ENROLMENT_CODE_INVALID` (403) for an unknown or used code,
/// `INVALID_FIELD` for bad names, or a storage failure.
pub async fn enrol(
    store: &Store,
    codes: &[String],
    req: EnrolRequest,
    now: DateTime<Utc>,
) -> Result<EnrolResponse, ApiError> {
    check_text("kiosk_name", &req.kiosk_name, 1, 100)?;
    check_text("location", &req.location, 1, 200)?;
    let code_sm3 = sm3_hex(req.enrolment_code.as_bytes());
    let known = codes.iter().any(|c| sm3_hex(c.as_bytes()) == code_sm3);
    let at = rfc3339_china(now);
    let token = hex::encode(rand::random::<[u8; 32]>());
    let token_sm3 = sm3_hex(token.as_bytes());
    let kiosk_id = format!("kiosk-{}", uuid::Uuid::new_v4().simple());
    let outcome = store
        .write(move |tx| {
            let refuse = |reason: &str| -> Result<EnrolOutcome, ApiError> {
                tx.audit(&AuditRecord {
                    at: at.clone(),
                    actor: "anonymous".to_owned(),
                    action: "kiosk.enrol_refused".to_owned(),
                    object: "kiosk".to_owned(),
                    detail: reason.to_owned(),
                    role: "anonymous".to_owned(),
                    ..AuditRecord::default()
                })?;
                Ok(EnrolOutcome::Refused)
            };
            if !known {
                return refuse("unknown enrolment code");
            }
            let enrolled = tx.enrol_kiosk(&NewKiosk {
                id: &kiosk_id,
                name: req.kiosk_name.trim(),
                location: req.location.trim(),
                token_sm3: &token_sm3,
                code_sm3: &code_sm3,
                at: &at,
            })?;
            if !enrolled {
                return refuse("enrolment code already used");
            }
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor: format!("kiosk:{kiosk_id}"),
                action: "kiosk.enrolled".to_owned(),
                object: format!("kiosk:{kiosk_id}"),
                detail: format!("name={}", req.kiosk_name.trim()),
                role: "kiosk".to_owned(),
                ..AuditRecord::default()
            })?;
            Ok(EnrolOutcome::Enrolled(EnrolResponse { kiosk_id, token }))
        })
        .await?;
    match outcome {
        EnrolOutcome::Enrolled(resp) => {
            tracing::info!(kiosk_id = %resp.kiosk_id, "kiosk enrolled");
            Ok(resp)
        }
        EnrolOutcome::Refused => {
            tracing::warn!("kiosk enrolment refused");
            Err(ApiError::EnrolmentCodeInvalid)
        }
    }
}

/// Finds the kiosk a bearer token belongs to.
///
/// # Errors
/// `UNAUTHENTICATED` for a malformed or unknown token, or a storage failure.
pub async fn authenticate(store: &Store, token: &str) -> Result<KioskIdentity, ApiError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::Unauthenticated);
    }
    let token_sm3 = sm3_hex(token.to_ascii_lowercase().as_bytes());
    store
        .read(move |tx| {
            tx.kiosk_by_token_sm3(&token_sm3)?
                .map(|k| KioskIdentity {
                    id: k.id,
                    name: k.name,
                })
                .ok_or(ApiError::Unauthenticated)
        })
        .await
}

fn validate_heartbeat(hb: &Heartbeat) -> Result<(), ApiError> {
    check_text("software_version", &hb.software_version, 1, 64)?;
    check_time("sent_at", &hb.sent_at)?;
    if hb.devices.len() > MAX_DEVICES {
        return Err(ApiError::InvalidField {
            field: "devices",
            reason_zh: "设备数量过多",
            reason_en: "too many devices",
        });
    }
    for d in &hb.devices {
        check_text("devices.device", &d.device, 1, 64)?;
        check_text("devices.text_zh", &d.text_zh, 0, 500)?;
        check_text("devices.text_en", &d.text_en, 0, 500)?;
        if let Some(code) = &d.fault_code {
            check_text("devices.fault_code", code, 1, 64)?;
        }
        if let Some(t) = &d.last_self_test {
            check_time("devices.last_self_test", t)?;
        }
        if d.counters.len() > 64 || d.counters.keys().any(|k| k.is_empty() || k.len() > 64) {
            return Err(ApiError::InvalidField {
                field: "devices.counters",
                reason_zh: "计数器不正确",
                reason_en: "too many counters or bad counter names",
            });
        }
    }
    let mut names: Vec<&str> = hb.devices.iter().map(|d| d.device.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w.first() == w.get(1)) {
        return Err(ApiError::InvalidField {
            field: "devices.device",
            reason_zh: "设备名称重复",
            reason_en: "duplicate device name",
        });
    }
    Ok(())
}

/// Stores a heartbeat: the latest health of every device, a history row and
/// an audit event for each device whose state changed.
///
/// # Errors
/// `INVALID_FIELD` for a malformed report, or a storage failure.
pub async fn heartbeat(
    store: &Store,
    kiosk: &KioskIdentity,
    hb: Heartbeat,
    now: DateTime<Utc>,
) -> Result<HeartbeatAck, ApiError> {
    validate_heartbeat(&hb)?;
    let received_at = rfc3339_china(now);
    let kiosk = kiosk.clone();
    let ack = HeartbeatAck {
        server_time: received_at.clone(),
    };
    let changes = store
        .write(move |tx| {
            tx.touch_kiosk(&kiosk.id, &received_at, &hb.software_version)?;
            let mut changes = Vec::new();
            for d in &hb.devices {
                let changed = tx.put_device_health(&DeviceReport {
                    kiosk_id: &kiosk.id,
                    health: d,
                    sent_at: &hb.sent_at,
                    received_at: &received_at,
                })?;
                if let Some(previous) = changed {
                    let from = previous.unwrap_or_else(|| "none".to_owned());
                    let detail = match &d.fault_code {
                        Some(code) => format!("{from} -> {} ({code})", d.state.as_str()),
                        None => format!("{from} -> {}", d.state.as_str()),
                    };
                    tx.audit(&AuditRecord {
                        at: received_at.clone(),
                        actor: kiosk.actor(),
                        action: "device.state_changed".to_owned(),
                        object: format!("kiosk:{}/device:{}", kiosk.id, d.device),
                        detail: detail.clone(),
                        role: "kiosk".to_owned(),
                        ..AuditRecord::default()
                    })?;
                    changes.push((d.device.clone(), detail));
                }
            }
            Ok::<_, ApiError>(changes)
        })
        .await?;
    for (device, detail) in changes {
        tracing::info!(device = %device, change = %detail, "kiosk device state changed");
    }
    Ok(ack)
}

/// Every enrolled kiosk with the last reported health of its devices,
/// for maintenance staff.
///
/// # Errors
/// A storage failure.
pub async fn fleet(store: &Store) -> Result<Vec<crate::store::FleetDeviceRow>, ApiError> {
    store.read(|tx| Ok::<_, ApiError>(tx.fleet()?)).await
}
