//! The window (窗口): a clerk files an application for a resident who came
//! in person, or for an agent (代办员) acting for them; drafts (草稿) keep
//! what the clerk typed until it is filed.

use chrono::{DateTime, Utc};
use proto::{Applicant, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::service::apply::{self, Applied, EcertRef, Filing, Upload};
use crate::service::auth::StaffPrincipal;
use crate::service::privacy::{gb11643_valid, mask_name};
use crate::service::time::{display_time, rfc3339_china};
use crate::store::Store;

/// A legal entity applying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EntityParty {
    /// Name.
    pub name: String,
    /// Unified social credit code.
    pub uscc: String,
}

/// An agent acting for the applicant (代办 / 补办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgentParty {
    /// Agent's name.
    pub name: String,
    /// Agent's identity number.
    pub id_number: String,
}

/// A window application, as the clerk typed it.
#[derive(Debug, Clone)]
pub struct WindowApplication {
    /// Matter code.
    pub matter_code: String,
    /// The applicant (a person, or the legal representative of an entity).
    pub applicant: Applicant,
    /// The legal entity, if one applies.
    pub entity: Option<EntityParty>,
    /// The agent, if one acts for the applicant.
    pub agent: Option<AgentParty>,
    /// Form data.
    pub form: serde_json::Map<String, serde_json::Value>,
    /// Scanned materials.
    pub uploads: Vec<Upload>,
    /// E-certificates.
    pub ecerts: Vec<EcertRef>,
    /// The draft this comes from (deleted when filed).
    pub draft_id: Option<i64>,
}

fn require_clerk(who: &StaffPrincipal) -> Result<(), ApiError> {
    if who.has(Role::WindowClerk) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Files a window application; the clerk's department must be the one that
/// accepts the matter.
///
/// # Errors
/// `FORBIDDEN`, `MATTER_NOT_FOUND`, `FORM_FIELD`, `INVALID_FIELD`,
/// `MATERIAL_MISSING`, or a storage failure.
pub async fn file(
    store: &Store,
    numbering: &crate::service::cases::CaseNumbering,
    who: &StaffPrincipal,
    app: WindowApplication,
    now: DateTime<Utc>,
) -> Result<Applied, ApiError> {
    require_clerk(who)?;
    crate::service::check_text("applicant.name", &app.applicant.name, 1, 64)?;
    let id = app.applicant.id_number.trim().to_ascii_uppercase();
    if !gb11643_valid(&id) {
        return Err(ApiError::InvalidField {
            field: "applicant.id_number",
            reason_zh: "证件号码应为18位且校验位正确",
            reason_en: "must be 18 characters with a valid check character",
        });
    }
    if let Some(a) = &app.agent {
        crate::service::check_text("agent.name", &a.name, 1, 64)?;
        if !gb11643_valid(&a.id_number.trim().to_ascii_uppercase()) {
            return Err(ApiError::InvalidField {
                field: "agent.id_number",
                reason_zh: "代办人证件号码不正确",
                reason_en: "the agent's ID number is not valid",
            });
        }
    }
    if let Some(e) = &app.entity {
        crate::service::check_text("entity.name", &e.name, 2, 100)?;
        if !casework::ids::uscc_valid(&e.uscc.trim().to_ascii_uppercase()) {
            return Err(ApiError::InvalidField {
                field: "entity.uscc",
                reason_zh: "统一社会信用代码不正确",
                reason_en: "not a valid unified social credit code",
            });
        }
    }
    let who = who.clone();
    let numbering = numbering.clone();
    store
        .write(move |tx| {
            let matter = tx
                .published_matter(&app.matter_code)?
                .ok_or(ApiError::UnknownMatterInSubmission)?;
            let accepting = matter
                .workflow
                .steps
                .first()
                .and_then(|s| s.department.clone())
                .unwrap_or_else(|| matter.department.clone());
            if accepting != who.department {
                return Err(ApiError::Forbidden);
            }
            let form = apply::check_form(&matter.form, &app.form)?;
            apply::check_materials(&matter, &app.uploads, &app.ecerts)?;
            let form_json = serde_json::Value::Object(form).to_string();
            let applicant = Applicant {
                id_number: id.clone(),
                ..app.applicant.clone()
            };
            let agent = app.agent.as_ref().map(|a| {
                (
                    a.name.trim().to_owned(),
                    a.id_number.trim().to_ascii_uppercase(),
                )
            });
            let entity = app
                .entity
                .as_ref()
                .map(|e| (e.name.trim().to_owned(), e.uscc.trim().to_ascii_uppercase()));
            let handler = format!("{}（窗口）", who.display_name);
            let actor = format!("staff:{}", who.username);
            let roles = who.role_codes();
            let (case_id, case_number, deadline) = apply::file_case(
                tx,
                &numbering,
                &Filing {
                    matter: &matter,
                    applicant: &applicant,
                    entity: entity.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
                    agent: agent.as_ref().map(|(n, i)| (n.as_str(), i.as_str())),
                    form_json: &form_json,
                    channel: "window",
                    kiosk_id: None,
                    account_id: None,
                    handler: &handler,
                    idempotency: None,
                    audit: (&actor, &roles),
                    track_code: None,
                    identity: None,
                },
                None,
                now,
            )?;
            apply::store_materials(
                tx,
                case_id,
                &app.uploads,
                &app.ecerts,
                0,
                &rfc3339_china(now),
            )?;
            if let Some(d) = app.draft_id {
                tx.delete_draft(who.id, d)?;
            }
            Ok(Applied {
                case_number,
                deadline,
            })
        })
        .await
}

/// A draft as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DraftLine {
    /// Id.
    pub id: i64,
    /// Matter code.
    pub matter_code: String,
    /// Matter name.
    pub matter_name: String,
    /// Applicant, masked.
    pub applicant: String,
    /// Last saved, `YYYY-MM-DD HH:MM`.
    pub updated: String,
    /// What was typed.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

/// Saves a draft; returns its id.
///
/// # Errors
/// `FORBIDDEN`, `NOT_FOUND` (someone else's draft), `INVALID_FIELD` (too
/// large), or a storage failure.
pub async fn save_draft(
    store: &Store,
    who: &StaffPrincipal,
    id: Option<i64>,
    matter_code: &str,
    body: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    require_clerk(who)?;
    crate::service::check_text("matter_code", matter_code, 1, 128)?;
    let body = body.to_string();
    if body.len() > 64 * 1024 {
        return Err(ApiError::InvalidField {
            field: "body",
            reason_zh: "草稿过大（材料请在提交时上传）",
            reason_en: "draft too large (attach materials when filing)",
        });
    }
    let who = who.clone();
    let code = matter_code.to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            tx.save_draft(who.id, id, &code, &body, &at)?
                .ok_or(ApiError::NotFound)
        })
        .await
}

/// The clerk's drafts (草稿箱), newest first.
///
/// # Errors
/// `FORBIDDEN`, or a storage failure.
pub async fn drafts(store: &Store, who: &StaffPrincipal) -> Result<Vec<DraftLine>, ApiError> {
    require_clerk(who)?;
    let staff_id = who.id;
    store
        .read(move |tx| {
            let mut out = Vec::new();
            for d in tx.drafts_of(staff_id)? {
                let body: serde_json::Value =
                    serde_json::from_str(&d.body_json).unwrap_or(serde_json::Value::Null);
                let name = tx
                    .matter(&d.matter_code)?
                    .map(|m| m.name)
                    .unwrap_or_default();
                let applicant = body
                    .pointer("/applicant/name")
                    .and_then(serde_json::Value::as_str)
                    .map(mask_name)
                    .unwrap_or_default();
                out.push(DraftLine {
                    id: d.id,
                    matter_code: d.matter_code,
                    matter_name: name,
                    applicant,
                    updated: display_time(&d.updated_at),
                    body,
                });
            }
            Ok::<_, ApiError>(out)
        })
        .await
}
