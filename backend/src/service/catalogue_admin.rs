//! Managing the catalogue: local changes through the review chain, and the
//! one-way import of the provincial matter library.
//!
//! A local change (登记 new, 变更 change, 下放 delegate, 拆分 split, 暂停
//! suspend, 取消 cancel) is registered by a catalogue administrator as a new
//! version at stage `registered`, then passes, in order:
//!
//! | stage               | who passes it                                   | next stage          |
//! |---------------------|-------------------------------------------------|---------------------|
//! | `registered`        | 审核: catalogue admin of 卫东区委机构编制委员会办公室 | `reviewed`          |
//! | `reviewed`          | 合法性审查: catalogue admin of 卫东区司法局           | `legal_checked`     |
//! | `legal_checked`     | 廉政风险审核: catalogue admin of 卫东区纪委监委        | `integrity_checked` |
//! | `integrity_checked` | 发布: catalogue admin of 卫东区委机构编制委员会办公室 | `published`         |
//!
//! Any of them may reject instead (`rejected`, final for that version).
//! Publishing makes the version current (the previous one becomes
//! `superseded`); a suspension or cancellation sets the matter's state so
//! it can no longer be applied for. Every decision is kept with who, when
//! and the opinion, and audited.
//!
//! The provincial library is authoritative: an import publishes at once
//! (`source = provincial`), a matter whose content changed becomes a new
//! version, and an unchanged one is left alone, so importing the same file
//! twice changes nothing. File format: `docs/CATALOGUE_IMPORT.md`.

use chrono::{DateTime, Utc};
use proto::{Matter, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::service::auth::StaffPrincipal;
use crate::service::time::rfc3339_china;
use crate::store::{AuditRecord, Store, StoreError, WriteTx, guide_digest};

/// The review chain: (stage a version waits at, department that decides
/// it, name of the step, stage after passing).
pub const REVIEW_CHAIN: [(&str, &str, &str, &str); 4] = [
    (
        "registered",
        "卫东区委机构编制委员会办公室",
        "审核",
        "reviewed",
    ),
    ("reviewed", "卫东区司法局", "合法性审查", "legal_checked"),
    (
        "legal_checked",
        "卫东区纪委监委",
        "廉政风险审核",
        "integrity_checked",
    ),
    (
        "integrity_checked",
        "卫东区委机构编制委员会办公室",
        "发布",
        "published",
    ),
];

/// Kinds of local change.
pub const CHANGE_KINDS: [(&str, &str); 6] = [
    ("new", "登记"),
    ("change", "变更"),
    ("delegate", "下放"),
    ("split", "拆分"),
    ("suspend", "暂停"),
    ("cancel", "取消"),
];

/// A local change to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ChangeRequest {
    /// `new`, `change`, `delegate`, `split`, `suspend` or `cancel`.
    pub change_kind: String,
    /// The guide as it should read after the change (its `version` is
    /// ignored: the next number is taken).
    pub guide: Matter,
    /// Why (登记说明).
    #[serde(default)]
    pub opinion: String,
}

/// A version in the review chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VersionLine {
    /// Matter code.
    pub code: String,
    /// Matter name in this version.
    pub name: String,
    /// Version.
    pub version: u32,
    /// Kind of change.
    pub change_kind: String,
    /// Stage.
    pub stage: String,
    /// `seed`, `provincial` or `local`.
    pub source: String,
    /// Registered at.
    pub created_at: String,
    /// Registered by.
    pub created_by: String,
    /// Decisions so far.
    pub reviews: Vec<ReviewLine>,
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewLine {
    /// Stage decided.
    pub stage: String,
    /// `register`, `pass`, `reject`, `publish`.
    pub decision: String,
    /// Who.
    pub actor: String,
    /// Opinion.
    pub opinion: String,
    /// When.
    pub at: String,
}

/// A review decision.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ReviewDecision {
    /// `pass` or `reject`.
    pub decision: String,
    /// Opinion (required).
    pub opinion: String,
}

fn require_catalogue_admin(who: &StaffPrincipal) -> Result<(), ApiError> {
    if who.has(Role::CatalogueAdmin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn check_guide(m: &Matter) -> Result<(), ApiError> {
    crate::service::check_text("guide.code", &m.code, 5, 128)?;
    crate::service::check_text("guide.name", &m.name, 2, 100)?;
    crate::service::check_text("guide.department", &m.department, 2, 100)?;
    if m.workflow.steps.is_empty() {
        return Err(ApiError::InvalidField {
            field: "guide.workflow",
            reason_zh: "办理流程至少需要一个受理环节",
            reason_en: "the workflow needs at least the acceptance step",
        });
    }
    if m.promised_days > m.legal_days {
        return Err(ApiError::InvalidField {
            field: "guide.promised_days",
            reason_zh: "承诺时限不能超过法定时限",
            reason_en: "the promised limit may not exceed the legal limit",
        });
    }
    Ok(())
}

fn next_version(tx: &WriteTx<'_>, code: &str) -> Result<u32, StoreError> {
    Ok(tx
        .matter_versions(code)?
        .first()
        .map_or(1, |v| v.version.saturating_add(1)))
}

/// Registers a local change as a new version at stage `registered`.
///
/// # Errors
/// `FORBIDDEN` without the catalogue-admin role, `INVALID_FIELD`, or a
/// storage failure.
pub async fn register_change(
    store: &Store,
    who: &StaffPrincipal,
    req: ChangeRequest,
    now: DateTime<Utc>,
) -> Result<VersionLine, ApiError> {
    require_catalogue_admin(who)?;
    if !CHANGE_KINDS.iter().any(|(k, _)| *k == req.change_kind) {
        return Err(ApiError::InvalidField {
            field: "change_kind",
            reason_zh: "变更类型应为登记、变更、下放、拆分、暂停或取消",
            reason_en: "must be new, change, delegate, split, suspend or cancel",
        });
    }
    check_guide(&req.guide)?;
    crate::service::check_text_allow_empty("opinion", &req.opinion, 500)?;
    let who = who.clone();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let exists = tx.matter(&req.guide.code)?.is_some();
            match (req.change_kind.as_str(), exists) {
                ("new" | "split", true) | ("change" | "delegate" | "suspend" | "cancel", false) => {
                    return Err(ApiError::InvalidField {
                        field: "change_kind",
                        reason_zh: "新事项的编码不能已存在；变更、下放、暂停、取消须针对已有事项",
                        reason_en: "new matters need a fresh code; other changes need an existing one",
                    });
                }
                _ => {}
            }
            let mut guide = req.guide.clone();
            guide.version = next_version(tx, &guide.code)?;
            let actor = format!("staff:{}", who.username);
            tx.add_matter_version(&guide, &req.change_kind, "registered", "local", &at, &actor)?;
            tx.add_matter_review(
                &guide.code,
                guide.version,
                "registered",
                "register",
                &actor,
                &who.role_codes(),
                req.opinion.trim(),
                &at,
            )?;
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor: actor.clone(),
                role: who.role_codes(),
                action: "matter.registered".to_owned(),
                object: format!("matter:{}", guide.code),
                after: serde_json::json!({"version": guide.version, "kind": req.change_kind, "stage": "registered"})
                    .to_string(),
                ..AuditRecord::default()
            })?;
            version_line(tx, &guide.code, guide.version)
        })
        .await
}

fn version_line(
    tx: &crate::store::ReadTx<'_>,
    code: &str,
    version: u32,
) -> Result<VersionLine, ApiError> {
    let v = tx
        .matter_versions(code)?
        .into_iter()
        .find(|v| v.version == version)
        .ok_or(ApiError::NotFound)?;
    let name = serde_json::from_str::<Matter>(&v.guide_json)
        .map(|m| m.name)
        .unwrap_or_default();
    let reviews = tx
        .matter_reviews(code, version)?
        .into_iter()
        .map(|r| ReviewLine {
            stage: r.stage,
            decision: r.decision,
            actor: r.actor,
            opinion: r.opinion,
            at: r.at,
        })
        .collect();
    Ok(VersionLine {
        code: v.code,
        name,
        version: v.version,
        change_kind: v.change_kind,
        stage: v.stage,
        source: v.source,
        created_at: v.created_at,
        created_by: v.created_by,
        reviews,
    })
}

/// Passes or rejects a version at its current stage; passing the last
/// stage publishes it.
///
/// # Errors
/// `FORBIDDEN` (not a catalogue admin of the stage's department),
/// `NOT_FOUND`, `CASE_WRONG_STATE` (already published or rejected),
/// `INVALID_FIELD`, or a storage failure.
pub async fn review(
    store: &Store,
    who: &StaffPrincipal,
    code: &str,
    version: u32,
    d: ReviewDecision,
    now: DateTime<Utc>,
) -> Result<VersionLine, ApiError> {
    require_catalogue_admin(who)?;
    let pass = match d.decision.as_str() {
        "pass" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::InvalidField {
                field: "decision",
                reason_zh: "审核结论应为通过或退回",
                reason_en: "must be pass or reject",
            });
        }
    };
    crate::service::check_text("opinion", &d.opinion, 1, 500)?;
    let who = who.clone();
    let code = code.to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let v = tx
                .matter_versions(&code)?
                .into_iter()
                .find(|v| v.version == version)
                .ok_or(ApiError::NotFound)?;
            let Some(&(stage, dept, step, next)) = REVIEW_CHAIN.iter().find(|c| c.0 == v.stage)
            else {
                return Err(ApiError::CaseRefused {
                    code: "MATTER_NOT_IN_REVIEW",
                    zh: "该版本不在审核流程中（已发布、已退回或已被替代）",
                    en: "This version is not under review (published, rejected or superseded)",
                });
            };
            if who.department != dept {
                return Err(ApiError::Forbidden);
            }
            let actor = format!("staff:{}", who.username);
            let decision = match (pass, next) {
                (false, _) => "reject",
                (true, "published") => "publish",
                (true, _) => "pass",
            };
            tx.add_matter_review(
                &code,
                version,
                stage,
                decision,
                &actor,
                &who.role_codes(),
                d.opinion.trim(),
                &at,
            )?;
            let new_stage = if pass { next } else { "rejected" };
            tx.set_version_stage(&code, version, new_stage)?;
            if new_stage == "published" {
                let guide: Matter =
                    serde_json::from_str(&v.guide_json).map_err(StoreError::from)?;
                publish(tx, &guide, &v.change_kind)?;
            }
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor,
                role: who.role_codes(),
                action: format!("matter.{decision}"),
                object: format!("matter:{code}"),
                before: serde_json::json!({"version": version, "stage": stage}).to_string(),
                after: serde_json::json!({"version": version, "stage": new_stage}).to_string(),
                detail: format!("step={step}"),
            })?;
            version_line(tx, &code, version)
        })
        .await
}

/// Makes a version current in the catalogue.
fn publish(tx: &WriteTx<'_>, guide: &Matter, change_kind: &str) -> Result<(), StoreError> {
    for old in tx.matter_versions(&guide.code)? {
        if old.version != guide.version && old.stage == "published" {
            tx.set_version_stage(&guide.code, old.version, "superseded")?;
        }
    }
    let order = tx
        .matter_sort_order(&guide.code)?
        .unwrap_or(i64::from(guide.version) + 10_000);
    tx.put_matter(guide, order)?;
    let state = match change_kind {
        "suspend" => "suspended",
        "cancel" => "cancelled",
        _ => "published",
    };
    tx.set_matter_state(&guide.code, state)?;
    Ok(())
}

/// Versions waiting for the caller's department, oldest first.
///
/// # Errors
/// `FORBIDDEN`, or a storage failure.
pub async fn pending(store: &Store, who: &StaffPrincipal) -> Result<Vec<VersionLine>, ApiError> {
    require_catalogue_admin(who)?;
    let dept = who.department.clone();
    store
        .read(move |tx| {
            let mut out = Vec::new();
            for (stage, d, _, _) in REVIEW_CHAIN {
                if d != dept {
                    continue;
                }
                for v in tx.matter_versions_at(stage)? {
                    out.push(version_line(tx, &v.code, v.version)?);
                }
            }
            Ok(out)
        })
        .await
}

/// Every version of a matter, newest first, with its decisions.
///
/// # Errors
/// `FORBIDDEN` (neither catalogue admin nor supervisor), or a storage failure.
pub async fn versions(
    store: &Store,
    who: &StaffPrincipal,
    code: &str,
) -> Result<Vec<VersionLine>, ApiError> {
    if !(who.has(Role::CatalogueAdmin) || who.has(Role::Supervisor)) {
        return Err(ApiError::Forbidden);
    }
    let code = code.to_owned();
    store
        .read(move |tx| {
            let mut out = Vec::new();
            for v in tx.matter_versions(&code)? {
                out.push(version_line(tx, &code, v.version)?);
            }
            if out.is_empty() {
                return Err(ApiError::NotFound);
            }
            Ok(out)
        })
        .await
}

/// The provincial library file (format `weidong-matter-library/1`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LibraryFile {
    /// Must be `weidong-matter-library/1`.
    pub format: String,
    /// Where it came from, e.g. 河南省政务服务事项库.
    pub source: String,
    /// When the province exported it (RFC 3339).
    pub exported_at: String,
    /// The matters.
    pub matters: Vec<Matter>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ImportReport {
    /// New matters.
    pub added: Vec<String>,
    /// Matters whose content changed (each now a new version).
    pub changed: Vec<String>,
    /// Matters unchanged.
    pub unchanged: usize,
}

/// Imports the provincial library one way: new matters are added, changed
/// ones become a new published version, unchanged ones are left alone.
///
/// # Errors
/// `INVALID_FIELD` for a wrong format or a bad guide (nothing is imported
/// then), or a storage failure.
pub async fn import(
    store: &Store,
    actor: &str,
    file: LibraryFile,
    now: DateTime<Utc>,
) -> Result<ImportReport, ApiError> {
    if file.format != "weidong-matter-library/1" {
        return Err(ApiError::InvalidField {
            field: "format",
            reason_zh: "文件格式应为 weidong-matter-library/1",
            reason_en: "format must be weidong-matter-library/1",
        });
    }
    crate::service::check_text("source", &file.source, 1, 100)?;
    crate::service::check_time("exported_at", &file.exported_at)?;
    if file.matters.len() > 10_000 {
        return Err(ApiError::PayloadTooLarge);
    }
    for m in &file.matters {
        check_guide(m)?;
    }
    let actor = actor.to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let mut report = ImportReport::default();
            let base_order = i64::try_from(tx.matter_count()?).unwrap_or(0);
            for (i, m) in file.matters.iter().enumerate() {
                let current = tx.matter(&m.code)?;
                let same = match &current {
                    Some(cur) => guide_digest(cur)? == guide_digest(m)?,
                    None => false,
                };
                if same {
                    report.unchanged += 1;
                    continue;
                }
                let mut guide = m.clone();
                guide.version = next_version(tx, &m.code)?.max(m.version);
                tx.add_matter_version(&guide, "import", "published", "provincial", &at, &actor)?;
                tx.add_matter_review(
                    &guide.code,
                    guide.version,
                    "published",
                    "publish",
                    &actor,
                    "import",
                    &format!("省级事项库导入（{}，{}）", file.source, file.exported_at),
                    &at,
                )?;
                if current.is_none() {
                    let order = base_order + i64::try_from(i).unwrap_or(0);
                    tx.put_matter(&guide, order)?;
                    tx.set_matter_state(&guide.code, "published")?;
                    report.added.push(guide.code.clone());
                } else {
                    publish(tx, &guide, "import")?;
                    report.changed.push(guide.code.clone());
                }
                tx.audit(&AuditRecord {
                    at: at.clone(),
                    actor: actor.clone(),
                    role: "catalogue_import".to_owned(),
                    action: "matter.imported".to_owned(),
                    object: format!("matter:{}", guide.code),
                    after: serde_json::json!({"version": guide.version}).to_string(),
                    detail: format!("source={}", file.source),
                    ..AuditRecord::default()
                })?;
            }
            Ok(report)
        })
        .await
}
