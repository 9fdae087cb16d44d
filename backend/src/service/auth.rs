//! Logins and sessions for staff and portal accounts.
//!
//! Staff log in with a password and then a TOTP code: a session is created
//! at the `password` stage and grants nothing until the code is given
//! (`full`). Portal accounts log in with a phone number and a password.
//! Wrong passwords are counted per account ([`auth::lockout::Policy`]):
//! after three, each attempt waits; after five the account locks for 15
//! minutes. Every failure gets the same answer, whether or not the account
//! exists, and the unknown-account path costs as much as a real check.
//! Sessions expire when idle (staff 15 minutes, residents 30) and after an
//! absolute limit (8 and 12 hours); logging out or disabling an account ends
//! them on the server.

use chrono::{DateTime, Duration, Utc};
use proto::Role;

use crate::error::ApiError;
use crate::service::privacy::{gb11643_valid, mask_id};
use crate::service::time::rfc3339_china;
use crate::store::{AccountRow, AuditRecord, StaffRow, Store, StoreError, WriteTx};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "wd_session";

/// A logged-in member of staff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPrincipal {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Department name.
    pub department: String,
    /// Roles.
    pub roles: Vec<Role>,
}

impl StaffPrincipal {
    /// Whether the staff member holds `role`.
    #[must_use]
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The role codes, comma-separated, for the audit log.
    #[must_use]
    pub fn role_codes(&self) -> String {
        self.roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A logged-in portal account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPrincipal {
    /// Row id.
    pub id: i64,
    /// `person` or `entity`.
    pub kind: String,
    /// Mobile phone.
    pub phone: String,
    /// Bound real name.
    pub real_name: Option<String>,
    /// Bound identity number.
    pub id_number: Option<String>,
    /// Legal entity name.
    pub entity_name: Option<String>,
    /// Unified social credit code.
    pub uscc: Option<String>,
}

impl AccountPrincipal {
    fn from_row(a: AccountRow) -> Self {
        Self {
            id: a.id,
            kind: a.kind,
            phone: a.phone,
            real_name: a.real_name,
            id_number: a.id_number,
            entity_name: a.entity_name,
            uscc: a.uscc,
        }
    }
}

/// Who a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Staff with both factors given.
    Staff(StaffPrincipal),
    /// A portal account.
    Account(AccountPrincipal),
}

impl Principal {
    /// The audit actor, e.g. `staff:wangli`.
    #[must_use]
    pub fn actor(&self) -> String {
        match self {
            Self::Staff(s) => format!("staff:{}", s.username),
            Self::Account(a) => format!("account:{}", a.id),
        }
    }

    /// The audit role.
    #[must_use]
    pub fn role(&self) -> String {
        match self {
            Self::Staff(s) => s.role_codes(),
            Self::Account(a) => format!("applicant:{}", a.kind),
        }
    }
}

/// A session found by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// Who.
    pub principal: Principal,
    /// The raw token (for the CSRF check).
    pub token: String,
}

/// The answer to a correct staff password: the TOTP code is owed next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// Session token at the `password` stage.
    pub token: String,
}

/// Lockout policy: 3 free failures, then 1 s more per failure, lock after 5
/// for 15 minutes.
#[must_use]
pub fn policy() -> auth::lockout::Policy {
    auth::lockout::Policy {
        free_failures: 3,
        delay_per_failure: Duration::seconds(1),
        lock_after: 5,
        lock_for: Duration::minutes(15),
    }
}

/// Staff idle and absolute session limits.
#[must_use]
pub fn staff_timeouts() -> auth::session::Timeouts {
    auth::session::Timeouts {
        idle: Duration::minutes(15),
        absolute: Duration::hours(8),
    }
}

/// Portal idle and absolute session limits.
#[must_use]
pub fn account_timeouts() -> auth::session::Timeouts {
    auth::session::Timeouts {
        idle: Duration::minutes(30),
        absolute: Duration::hours(12),
    }
}

fn parse_time(s: Option<&str>) -> Option<DateTime<Utc>> {
    s.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn attempts(failures: u32, last: Option<&str>, locked: Option<&str>) -> auth::lockout::Attempts {
    auth::lockout::Attempts {
        failures,
        last_failure: parse_time(last),
        locked_until: parse_time(locked),
    }
}

fn staff_principal(s: &StaffRow) -> StaffPrincipal {
    StaffPrincipal {
        id: s.id,
        username: s.username.clone(),
        display_name: s.display_name.clone(),
        department: s.department.clone(),
        roles: s.roles.split(',').filter_map(Role::from_code).collect(),
    }
}

fn audit(
    actor: &str,
    role: &str,
    action: &str,
    object: &str,
    detail: &str,
    at: &str,
) -> AuditRecord {
    AuditRecord {
        at: at.to_owned(),
        actor: actor.to_owned(),
        role: role.to_owned(),
        action: action.to_owned(),
        object: object.to_owned(),
        detail: detail.to_owned(),
        ..AuditRecord::default()
    }
}

/// Outcome of checking a password against an account's failure state.
enum Check {
    Ok,
    Refused,
}

/// Applies the lockout gate and the password check, and records the
/// result; `Refused` covers wrong password, delay and lock alike.
fn gate_and_check(
    failures: u32,
    last: Option<&str>,
    locked: Option<&str>,
    phc: &str,
    password: &str,
    now: DateTime<Utc>,
) -> (Check, auth::lockout::Attempts, bool) {
    let p = policy();
    let state = attempts(failures, last, locked);
    match p.gate(&state, now) {
        auth::lockout::Gate::Open => {}
        auth::lockout::Gate::Wait(_) | auth::lockout::Gate::Locked(_) => {
            // Spend the same time as a real check, then refuse.
            auth::password::dummy_verify();
            return (Check::Refused, state, false);
        }
    }
    if auth::password::verify(password, phc) {
        (Check::Ok, auth::lockout::Policy::on_success(), false)
    } else {
        let (next, locked_now) = p.on_failure(state, now);
        (Check::Refused, next, locked_now)
    }
}

/// One account's stored login state, whichever kind it is.
struct Stored<'a> {
    actor: String,
    role: &'a str,
    failures: u32,
    last_failure_at: Option<&'a str>,
    locked_until: Option<&'a str>,
    phc: &'a str,
}

/// Checks a password through the lockout gate, stores the new failure
/// count with `save`, and audits a failure (and a lock). `true` when the
/// password was right and the gate open.
fn check_password(
    tx: &WriteTx<'_>,
    who: &Stored<'_>,
    password: &str,
    now: DateTime<Utc>,
    at: &str,
    save: impl FnOnce(&WriteTx<'_>, &auth::lockout::Attempts) -> Result<(), StoreError>,
) -> Result<bool, StoreError> {
    let (check, next, locked_now) = gate_and_check(
        who.failures,
        who.last_failure_at,
        who.locked_until,
        who.phc,
        password,
        now,
    );
    save(tx, &next)?;
    if matches!(check, Check::Ok) {
        return Ok(true);
    }
    tx.audit(&audit(
        &who.actor,
        who.role,
        "login.failed",
        &who.actor,
        &format!("failures={}", next.failures),
        at,
    ))?;
    if locked_now {
        tx.audit(&audit(
            "system",
            "system",
            "login.locked",
            &who.actor,
            "too many failures",
            at,
        ))?;
    }
    Ok(false)
}

/// Refuses a login for an unknown (or disabled) account at the cost of a
/// real check, and audits it without naming the account.
fn refuse_unknown(tx: &WriteTx<'_>, kind: &str, at: &str) -> Result<(), StoreError> {
    auth::password::dummy_verify();
    tx.audit(&audit(
        "anonymous",
        "anonymous",
        "login.failed",
        kind,
        "unknown account",
        at,
    ))
}

fn opt_time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(rfc3339_china)
}

/// Checks a staff member's password; on success opens a session that still
/// owes the TOTP code.
///
/// # Errors
/// `LOGIN_FAILED` for any wrong or locked combination, or a storage failure.
pub async fn staff_password(
    store: &Store,
    username: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<PendingLogin, ApiError> {
    let username = username.trim().to_owned();
    let password = password.to_owned();
    let at = rfc3339_china(now);
    store
        .write(
            move |tx| -> Result<Result<PendingLogin, ApiError>, ApiError> {
                let Some(staff) = tx.staff_by_username(&username)?.filter(|s| s.active) else {
                    refuse_unknown(tx, "staff", &at)?;
                    return Ok(Err(ApiError::LoginFailed));
                };
                let actor = format!("staff:{}", staff.username);
                let stored = Stored {
                    actor: actor.clone(),
                    role: &staff.roles,
                    failures: staff.failures,
                    last_failure_at: staff.last_failure_at.as_deref(),
                    locked_until: staff.locked_until.as_deref(),
                    phc: &staff.password_phc,
                };
                let ok = check_password(tx, &stored, &password, now, &at, |tx, next| {
                    tx.set_staff_failures(
                        staff.id,
                        next.failures,
                        opt_time(next.last_failure).as_deref(),
                        opt_time(next.locked_until).as_deref(),
                    )
                })?;
                match ok {
                    // Commit the count, then refuse.
                    false => Ok(Err(ApiError::LoginFailed)),
                    true => {
                        let (token, digest) = auth::session::new_token();
                        tx.insert_session(
                            &digest,
                            &format!("staff:{}", staff.id),
                            "password",
                            &at,
                        )?;
                        tx.audit(&audit(
                            &actor,
                            &staff.roles,
                            "login.password_ok",
                            &actor,
                            "",
                            &at,
                        ))?;
                        Ok(Ok(PendingLogin { token }))
                    }
                }
            },
        )
        .await?
}

/// Checks the TOTP code of a session at the `password` stage and raises it
/// to `full`.
///
/// # Errors
/// `LOGIN_FAILED` for a wrong, replayed or late code, an unknown session or
/// a locked account; or a storage failure.
pub async fn staff_totp(
    store: &Store,
    token: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<StaffPrincipal, ApiError> {
    let digest = auth::session::token_digest(token);
    let code = code.trim().to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let session = tx.session(&digest)?.ok_or(ApiError::LoginFailed)?;
            let Some(id) = session
                .principal
                .strip_prefix("staff:")
                .and_then(|s| s.parse().ok())
            else {
                return Err(ApiError::LoginFailed);
            };
            if session.stage != "password" {
                return Err(ApiError::LoginFailed);
            }
            let staff = tx
                .staff_by_id(id)?
                .filter(|s| s.active)
                .ok_or(ApiError::LoginFailed)?;
            let p = policy();
            let state = attempts(
                staff.failures,
                staff.last_failure_at.as_deref(),
                staff.locked_until.as_deref(),
            );
            let actor = format!("staff:{}", staff.username);
            if !matches!(p.gate(&state, now), auth::lockout::Gate::Open) {
                return Ok(Err(ApiError::LoginFailed));
            }
            let secret = auth::totp::Secret::from_base32(&staff.totp_secret)
                .map_err(|e| ApiError::Internal(format!("stored TOTP secret: {e}")))?;
            match auth::totp::verify(&secret, &code, now.timestamp(), staff.totp_last_step) {
                Some(step) => {
                    tx.set_totp_step(staff.id, step)?;
                    tx.set_staff_failures(staff.id, 0, None, None)?;
                    tx.touch_session(&digest, "full", &at)?;
                    tx.audit(&audit(
                        &actor,
                        &staff.roles,
                        "login.ok",
                        &actor,
                        "password+totp",
                        &at,
                    ))?;
                    Ok(Ok(staff_principal(&staff)))
                }
                None => {
                    let (next, locked_now) = p.on_failure(state, now);
                    tx.set_staff_failures(
                        staff.id,
                        next.failures,
                        opt_time(next.last_failure).as_deref(),
                        opt_time(next.locked_until).as_deref(),
                    )?;
                    tx.audit(&audit(
                        &actor,
                        &staff.roles,
                        "login.totp_failed",
                        &actor,
                        &format!("failures={}", next.failures),
                        &at,
                    ))?;
                    if locked_now {
                        tx.end_sessions_of(&format!("staff:{}", staff.id))?;
                        tx.audit(&audit(
                            "system",
                            "system",
                            "login.locked",
                            &actor,
                            "too many failures",
                            &at,
                        ))?;
                    }
                    Ok(Err(ApiError::LoginFailed))
                }
            }
        })
        .await?
}

/// Checks a portal account's phone and password and opens a session.
///
/// # Errors
/// `LOGIN_FAILED`, or a storage failure.
pub async fn account_login(
    store: &Store,
    phone: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<(String, AccountPrincipal), ApiError> {
    let phone = phone.trim().to_owned();
    let password = password.to_owned();
    let at = rfc3339_china(now);
    store
        .write(
            move |tx| -> Result<Result<(String, AccountPrincipal), ApiError>, ApiError> {
                let Some(acc) = tx.account_by_phone(&phone)?.filter(|a| a.active) else {
                    refuse_unknown(tx, "account", &at)?;
                    return Ok(Err(ApiError::LoginFailed));
                };
                let actor = format!("account:{}", acc.id);
                let stored = Stored {
                    actor: actor.clone(),
                    role: "applicant",
                    failures: acc.failures,
                    last_failure_at: acc.last_failure_at.as_deref(),
                    locked_until: acc.locked_until.as_deref(),
                    phc: &acc.password_phc,
                };
                let ok = check_password(tx, &stored, &password, now, &at, |tx, next| {
                    tx.set_account_failures(
                        acc.id,
                        next.failures,
                        opt_time(next.last_failure).as_deref(),
                        opt_time(next.locked_until).as_deref(),
                    )
                })?;
                match ok {
                    false => Ok(Err(ApiError::LoginFailed)),
                    true => {
                        let (token, digest) = auth::session::new_token();
                        tx.insert_session(&digest, &actor, "full", &at)?;
                        tx.audit(&audit(&actor, "applicant", "login.ok", &actor, "", &at))?;
                        Ok(Ok((token, AccountPrincipal::from_row(acc))))
                    }
                }
            },
        )
        .await?
}

/// The principal of a session token, if the session is whole and fresh;
/// marks it used. A `password`-stage staff session authenticates nobody.
///
/// # Errors
/// A storage failure.
pub async fn authenticate(
    store: &Store,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Authenticated>, ApiError> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    let digest = auth::session::token_digest(token);
    let token = token.to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let Some(session) = tx.session(&digest)? else {
                return Ok(None);
            };
            let (Some(created), Some(seen)) = (
                parse_time(Some(&session.created_at)),
                parse_time(Some(&session.last_seen_at)),
            ) else {
                tx.end_session(&digest)?;
                return Ok(None);
            };
            let principal = if let Some(id) = session.principal.strip_prefix("staff:") {
                if session.stage != "full" {
                    return Ok(None);
                }
                if staff_timeouts().expired(created, seen, now).is_some() {
                    tx.end_session(&digest)?;
                    return Ok(None);
                }
                let id: i64 = id
                    .parse()
                    .map_err(|_| StoreError::Corrupt("session principal".into()))?;
                match tx.staff_by_id(id)?.filter(|s| s.active) {
                    Some(s) => Principal::Staff(staff_principal(&s)),
                    None => {
                        tx.end_session(&digest)?;
                        return Ok(None);
                    }
                }
            } else if let Some(id) = session.principal.strip_prefix("account:") {
                if account_timeouts().expired(created, seen, now).is_some() {
                    tx.end_session(&digest)?;
                    return Ok(None);
                }
                let id: i64 = id
                    .parse()
                    .map_err(|_| StoreError::Corrupt("session principal".into()))?;
                match tx.account_by_id(id)?.filter(|a| a.active) {
                    Some(a) => Principal::Account(AccountPrincipal::from_row(a)),
                    None => {
                        tx.end_session(&digest)?;
                        return Ok(None);
                    }
                }
            } else {
                return Ok(None);
            };
            tx.touch_session(&digest, &session.stage, &at)?;
            Ok::<_, ApiError>(Some(Authenticated { principal, token }))
        })
        .await
}

/// Ends a session on the server.
///
/// # Errors
/// A storage failure.
pub async fn logout(
    store: &Store,
    auth: &Authenticated,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let digest = auth::session::token_digest(&auth.token);
    let actor = auth.principal.actor();
    let role = auth.principal.role();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            tx.end_session(&digest)?;
            tx.audit(&audit(&actor, &role, "logout", &actor, "", &at))?;
            Ok::<_, ApiError>(())
        })
        .await
}

/// What a new portal account gives.
#[derive(Debug, Clone)]
pub struct Registration {
    /// `person` or `entity`.
    pub kind: String,
    /// Mobile phone.
    pub phone: String,
    /// Password.
    pub password: String,
    /// Person: real name (bound at once when given with the number).
    pub real_name: Option<String>,
    /// Person: identity number.
    pub id_number: Option<String>,
    /// Entity: name.
    pub entity_name: Option<String>,
    /// Entity: USCC.
    pub uscc: Option<String>,
}

fn valid_phone(p: &str) -> bool {
    p.len() == 11 && p.starts_with('1') && p.bytes().all(|b| b.is_ascii_digit())
}

/// Registers a portal account.
///
/// # Errors
/// `INVALID_FIELD` (phone, weak password, bad ID number or USCC),
/// `ACCOUNT_EXISTS`, or a storage failure.
pub async fn register(store: &Store, r: Registration, now: DateTime<Utc>) -> Result<i64, ApiError> {
    if !valid_phone(r.phone.trim()) {
        return Err(ApiError::InvalidField {
            field: "phone",
            reason_zh: "请输入11位手机号码",
            reason_en: "must be an 11-digit mobile number",
        });
    }
    if let Err(weak) = auth::password::check_strength(&r.password) {
        return Err(ApiError::WeakPassword {
            zh: weak.zh().to_owned(),
            en: weak.en().to_owned(),
        });
    }
    let (kind, real_name, id_number, entity) = match r.kind.as_str() {
        "person" => {
            let id = r
                .id_number
                .as_deref()
                .map(|s| s.trim().to_ascii_uppercase());
            if id.as_deref().is_some_and(|id| !gb11643_valid(id)) {
                return Err(ApiError::InvalidField {
                    field: "id_number",
                    reason_zh: "身份证号码应为18位且校验位正确",
                    reason_en: "must be 18 characters with a valid check character",
                });
            }
            let name = r
                .real_name
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
            if name.is_some() != id.is_some() {
                return Err(ApiError::InvalidField {
                    field: "real_name",
                    reason_zh: "实名认证需同时填写姓名和身份证号码",
                    reason_en: "real-name binding needs both the name and the ID number",
                });
            }
            ("person", name, id, None)
        }
        "entity" => {
            let uscc = r
                .uscc
                .map(|s| s.trim().to_ascii_uppercase())
                .unwrap_or_default();
            if !casework::ids::uscc_valid(&uscc) {
                return Err(ApiError::InvalidField {
                    field: "uscc",
                    reason_zh: "统一社会信用代码应为18位且校验位正确",
                    reason_en: "must be an 18-character unified social credit code with a valid check character",
                });
            }
            let name = r
                .entity_name
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            crate::service::check_text("entity_name", &name, 2, 100)?;
            ("entity", None, None, Some((name, uscc)))
        }
        _ => {
            return Err(ApiError::InvalidField {
                field: "kind",
                reason_zh: "账户类型应为个人或法人",
                reason_en: "must be person or entity",
            });
        }
    };
    let phc = auth::password::hash(&r.password).map_err(|e| ApiError::Internal(e.to_string()))?;
    let phone = r.phone.trim().to_owned();
    let at = rfc3339_china(now);
    let masked = id_number.as_deref().map(mask_id);
    store
        .write(move |tx| {
            let id = tx
                .insert_account(
                    kind,
                    &phone,
                    &phc,
                    real_name.as_deref(),
                    id_number.as_deref(),
                    entity.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
                    &at,
                )?
                .ok_or(ApiError::AccountExists)?;
            let actor = format!("account:{id}");
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor: actor.clone(),
                role: "applicant".to_owned(),
                action: "account.registered".to_owned(),
                object: actor,
                after: serde_json::json!({ "kind": kind, "id_number": masked }).to_string(),
                ..AuditRecord::default()
            })?;
            Ok::<_, ApiError>(id)
        })
        .await
}

/// Binds a real name and identity number to a person's account (实名认证).
///
/// # Errors
/// `INVALID_FIELD`, `ACCOUNT_EXISTS` (the number is bound elsewhere),
/// `FORBIDDEN` for an entity account, or a storage failure.
pub async fn bind_real_name(
    store: &Store,
    who: &AccountPrincipal,
    real_name: &str,
    id_number: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if who.kind != "person" {
        return Err(ApiError::Forbidden);
    }
    crate::service::check_text("real_name", real_name, 1, 64)?;
    let id = id_number.trim().to_ascii_uppercase();
    if !gb11643_valid(&id) {
        return Err(ApiError::InvalidField {
            field: "id_number",
            reason_zh: "身份证号码应为18位且校验位正确",
            reason_en: "must be 18 characters with a valid check character",
        });
    }
    let account = who.id;
    let name = real_name.trim().to_owned();
    let at = rfc3339_china(now);
    let masked = mask_id(&id);
    store
        .write(move |tx| {
            if !tx.bind_real_name(account, &name, &id)? {
                return Err(ApiError::AccountExists);
            }
            let actor = format!("account:{account}");
            tx.audit(&AuditRecord {
                at,
                actor: actor.clone(),
                role: "applicant".to_owned(),
                action: "account.real_name_bound".to_owned(),
                object: actor,
                after: serde_json::json!({ "id_number": masked }).to_string(),
                ..AuditRecord::default()
            })?;
            Ok(())
        })
        .await
}
