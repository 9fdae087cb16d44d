//! System administration: staff accounts and the holiday calendar. Only a
//! system administrator may do these; the audit administrator reads the
//! audit log and nothing else (三员分立).

use chrono::{DateTime, Utc};
use proto::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::service::auth::StaffPrincipal;
use crate::service::time::rfc3339_china;
use crate::store::{AuditRecord, AuditRow, AuditVerdict, NewStaff, Store};

fn require(who: &StaffPrincipal, role: Role) -> Result<(), ApiError> {
    if who.has(role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A new staff account.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewStaffRequest {
    /// Login name (letters, digits, `_`, 3–32).
    pub username: String,
    /// Name shown on case steps.
    pub display_name: String,
    /// Department (must exist).
    pub department: String,
    /// Role codes.
    pub roles: Vec<Role>,
    /// Initial password.
    pub password: String,
}

/// The created account and its second factor, shown once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffCreated {
    /// Account id.
    pub id: i64,
    /// The TOTP secret (base32), to enter into an authenticator app.
    pub totp_secret: String,
    /// The same as an `otpauth://` URI (for a QR code).
    pub otpauth_uri: String,
}

/// A staff account as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffLine {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name.
    pub display_name: String,
    /// Department.
    pub department: String,
    /// Role codes.
    pub roles: Vec<String>,
    /// Whether the account may log in.
    pub active: bool,
    /// Locked until (RFC 3339), if locked.
    pub locked_until: Option<String>,
}

/// Creates a staff account with a fresh TOTP secret.
///
/// # Errors
/// `FORBIDDEN` (not a system admin; a system admin may not grant the audit
/// role to themselves or create another system admin without a second
/// one — here: may not create audit or system admins at all, which the
/// district does by a signed change), `INVALID_FIELD`, `WEAK_PASSWORD`,
/// `ACCOUNT_EXISTS`, or a storage failure.
pub async fn create_staff(
    store: &Store,
    who: &StaffPrincipal,
    req: NewStaffRequest,
    now: DateTime<Utc>,
) -> Result<StaffCreated, ApiError> {
    require(who, Role::SystemAdmin)?;
    let ok_name = (3..=32).contains(&req.username.len())
        && req
            .username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok_name {
        return Err(ApiError::InvalidField {
            field: "username",
            reason_zh: "登录名应为3到32位字母、数字或下划线",
            reason_en: "3 to 32 letters, digits or underscores",
        });
    }
    crate::service::check_text("display_name", &req.display_name, 1, 32)?;
    if req.roles.is_empty() {
        return Err(ApiError::InvalidField {
            field: "roles",
            reason_zh: "至少选择一个岗位角色",
            reason_en: "choose at least one role",
        });
    }
    if req
        .roles
        .iter()
        .any(|r| matches!(r, Role::SystemAdmin | Role::AuditAdmin))
    {
        // 三员分立: administrators are not made by administrators.
        return Err(ApiError::Forbidden);
    }
    if let Err(weak) = auth::password::check_strength(&req.password) {
        return Err(ApiError::WeakPassword {
            zh: weak.zh().to_owned(),
            en: weak.en().to_owned(),
        });
    }
    let phc = auth::password::hash(&req.password).map_err(|e| ApiError::Internal(e.to_string()))?;
    let secret = auth::totp::Secret::generate();
    let b32 = secret.to_base32();
    let uri = auth::totp::otpauth_uri(&secret, &req.username, "卫东区政务服务");
    let roles: Vec<&str> = req.roles.iter().map(|r| r.as_str()).collect();
    let roles = roles.join(",");
    let at = rfc3339_china(now);
    let who = who.clone();
    let id = store
        .write(move |tx| {
            if !tx.departments()?.iter().any(|d| d.name == req.department) {
                return Err(ApiError::InvalidField {
                    field: "department",
                    reason_zh: "没有这个部门",
                    reason_en: "no such department",
                });
            }
            if tx.staff_by_username(&req.username)?.is_some() {
                return Err(ApiError::AccountExists);
            }
            let id = tx.insert_staff(&NewStaff {
                username: &req.username,
                display_name: &req.display_name,
                department: &req.department,
                roles: &roles,
                password_phc: &phc,
                totp_secret: &b32,
                at: &at,
            })?;
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor: format!("staff:{}", who.username),
                role: who.role_codes(),
                action: "staff.created".to_owned(),
                object: format!("staff:{}", req.username),
                after: serde_json::json!({"department": req.department, "roles": roles})
                    .to_string(),
                ..AuditRecord::default()
            })?;
            Ok::<_, ApiError>(id)
        })
        .await?;
    Ok(StaffCreated {
        id,
        totp_secret: secret.to_base32(),
        otpauth_uri: uri,
    })
}

/// Every staff account.
///
/// # Errors
/// `FORBIDDEN`, or a storage failure.
pub async fn list_staff(store: &Store, who: &StaffPrincipal) -> Result<Vec<StaffLine>, ApiError> {
    require(who, Role::SystemAdmin)?;
    store
        .read(|tx| {
            Ok::<_, ApiError>(
                tx.staff_list()?
                    .into_iter()
                    .map(|s| StaffLine {
                        id: s.id,
                        username: s.username,
                        display_name: s.display_name,
                        department: s.department,
                        roles: s.roles.split(',').map(str::to_owned).collect(),
                        active: s.active,
                        locked_until: s.locked_until,
                    })
                    .collect(),
            )
        })
        .await
}

/// Enables or disables a staff account; disabling ends its sessions at once.
///
/// # Errors
/// `FORBIDDEN`, `NOT_FOUND`, or a storage failure.
pub async fn set_staff_active(
    store: &Store,
    who: &StaffPrincipal,
    username: &str,
    active: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    require(who, Role::SystemAdmin)?;
    let who = who.clone();
    let username = username.to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let s = tx.staff_by_username(&username)?.ok_or(ApiError::NotFound)?;
            if s.id == who.id {
                return Err(ApiError::Forbidden);
            }
            tx.set_staff_active(s.id, active)?;
            if active {
                tx.set_staff_failures(s.id, 0, None, None)?;
            }
            tx.audit(&AuditRecord {
                at,
                actor: format!("staff:{}", who.username),
                role: who.role_codes(),
                action: if active {
                    "staff.enabled"
                } else {
                    "staff.disabled"
                }
                .to_owned(),
                object: format!("staff:{username}"),
                ..AuditRecord::default()
            })?;
            Ok(())
        })
        .await
}

/// Loads a year's holiday file (the TOML format of `casework::calendar`)
/// into the holiday table, replacing that year's entries.
///
/// # Errors
/// `FORBIDDEN`, `INVALID_FIELD` with the line at fault, or a storage failure.
pub async fn import_holidays(
    store: &Store,
    who: &StaffPrincipal,
    toml_text: &str,
    now: DateTime<Utc>,
) -> Result<u32, ApiError> {
    require(who, Role::SystemAdmin)?;
    let mut cal = casework::calendar::Calendar::new();
    let info = cal
        .load_toml(toml_text)
        .map_err(|e| ApiError::HolidayFile {
            zh: e.to_string(),
            en: format!("{e:?}"),
        })?;
    let year = info.year;
    let mut entries = Vec::new();
    for h in &info.holidays {
        for d in &h.days {
            entries.push((d.format("%Y-%m-%d").to_string(), h.name.clone(), false));
        }
        for d in &h.workdays {
            entries.push((
                d.format("%Y-%m-%d").to_string(),
                format!("{}调休上班", h.name),
                true,
            ));
        }
    }
    let who = who.clone();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            tx.replace_holidays(year, &entries)?;
            tx.audit(&AuditRecord {
                at,
                actor: format!("staff:{}", who.username),
                role: who.role_codes(),
                action: "holidays.imported".to_owned(),
                object: format!("holidays:{year}"),
                after: serde_json::json!({"days": entries.len()}).to_string(),
                ..AuditRecord::default()
            })?;
            Ok::<_, ApiError>(u32::try_from(entries.len()).unwrap_or(u32::MAX))
        })
        .await
}

/// A page of the audit log, newest first (audit administrators and
/// supervisors; read only).
///
/// # Errors
/// `FORBIDDEN`, or a storage failure.
pub async fn audit_page(
    store: &Store,
    who: &StaffPrincipal,
    before_id: Option<i64>,
) -> Result<(Vec<AuditRow>, AuditVerdict), ApiError> {
    if !(who.has(Role::AuditAdmin) || who.has(Role::Supervisor)) {
        return Err(ApiError::Forbidden);
    }
    store
        .read(move |tx| {
            Ok::<_, ApiError>((tx.audit_page(None, before_id, 100)?, tx.verify_audit()?))
        })
        .await
}
