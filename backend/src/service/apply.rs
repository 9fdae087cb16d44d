//! Applying: the form checked against the matter's form definition, the
//! materials against its guide, and a new case put at the start of the
//! matter's workflow — the same way for the web, the window and the kiosk.

use chrono::{DateTime, NaiveDate, Utc};
use proto::{Applicant, CaseStatus, FieldKind, FormField, IdType, Matter};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::service::auth::AccountPrincipal;
use crate::service::cases::{CaseNumbering, next_case_number};
use crate::service::privacy::{gb11643_valid, mask_id};
use crate::service::time::{china_date, iso_date, rfc3339_china};
use crate::service::workflow::calendar;
use crate::store::{
    AuditRecord, NewCase, NewMaterial, NewStep, Position, ReadTx, Store, StoreError, WriteTx,
};

/// Largest material accepted: 10 MiB.
pub const MAX_MATERIAL_BYTES: usize = 10 * 1024 * 1024;
/// Most materials in one submission.
pub const MAX_MATERIALS: usize = 20;
/// Media types accepted for uploads.
pub const ACCEPTED_TYPES: [&str; 4] = ["image/jpeg", "image/png", "application/pdf", "image/tiff"];

/// Most bytes of all materials of one kiosk request together (decoded):
/// 12 MiB, i.e. 16 MiB of base64 in the JSON body.
pub const KIOSK_MAX_TOTAL_BYTES: usize = 12 * 1024 * 1024;
/// Most pages one captured material may claim.
pub const MAX_PAGES: u32 = 200;

/// One uploaded material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Material name from the guide.
    pub name: String,
    /// File name as sent.
    pub filename: String,
    /// Media type as sniffed from the bytes.
    pub media_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// An e-certificate standing in for a material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EcertRef {
    /// Material name from the guide.
    pub name: String,
    /// Certificate identifier.
    pub certificate: String,
}

/// Checks a material's bytes: its real type (by magic number, not by name)
/// and its size.
///
/// # Errors
/// `INVALID_FIELD` for an empty, oversized or unaccepted file.
pub fn sniff(bytes: &[u8]) -> Result<&'static str, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::InvalidField {
            field: "materials",
            reason_zh: "上传的文件是空的",
            reason_en: "the uploaded file is empty",
        });
    }
    if bytes.len() > MAX_MATERIAL_BYTES {
        return Err(ApiError::InvalidField {
            field: "materials",
            reason_zh: "单个材料不能超过10MB",
            reason_en: "a material may not exceed 10 MB",
        });
    }
    let kind = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "image/tiff"
    } else {
        return Err(ApiError::InvalidField {
            field: "materials",
            reason_zh: "材料只接受 JPEG、PNG、TIFF 图片或 PDF 文件",
            reason_en: "materials must be JPEG, PNG or TIFF images or PDF files",
        });
    };
    Ok(kind)
}

fn too_large(field: &'static str) -> ApiError {
    ApiError::InvalidField {
        field,
        reason_zh: "单个材料不能超过10MB，全部材料合计不能超过12MB",
        reason_en: "a material may not exceed 10 MB, all materials together 12 MB",
    }
}

/// Decodes the materials a kiosk captured (base64 in JSON): each within
/// [`MAX_MATERIAL_BYTES`], all within [`KIOSK_MAX_TOTAL_BYTES`], each of a
/// type [`sniff`] accepts and the one it claims (`mime`).
///
/// # Errors
/// `INVALID_FIELD` naming the first bad field.
pub fn decode_kiosk_materials(list: &[proto::MaterialUpload]) -> Result<Vec<Upload>, ApiError> {
    use base64::Engine as _;
    if list.len() > MAX_MATERIALS {
        return Err(ApiError::InvalidField {
            field: "materials",
            reason_zh: "材料数量过多",
            reason_en: "too many materials",
        });
    }
    let mut total = 0usize;
    let mut out = Vec::with_capacity(list.len());
    for m in list {
        crate::service::check_text("materials.name", &m.name, 1, 100)?;
        crate::service::check_text("materials.file_name", &m.file_name, 1, 120)?;
        if m.pages == 0 || m.pages > MAX_PAGES {
            return Err(ApiError::InvalidField {
                field: "materials.pages",
                reason_zh: "页数应为1至200",
                reason_en: "pages must be 1 to 200",
            });
        }
        // Refuse before decoding what cannot fit.
        if m.data_base64.len() / 4 * 3 > MAX_MATERIAL_BYTES + 3 {
            return Err(too_large("materials.data_base64"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(m.data_base64.as_bytes())
            .map_err(|_| ApiError::InvalidField {
                field: "materials.data_base64",
                reason_zh: "文件内容不是有效的 base64（标准字母表，带填充）",
                reason_en: "not valid base64 (standard alphabet, padded)",
            })?;
        total = total.saturating_add(bytes.len());
        if total > KIOSK_MAX_TOTAL_BYTES {
            return Err(too_large("materials"));
        }
        let media_type = sniff(&bytes)?;
        if !m.mime.trim().eq_ignore_ascii_case(media_type) {
            return Err(ApiError::InvalidField {
                field: "materials.mime",
                reason_zh: "声明的文件类型与文件内容不符",
                reason_en: "the declared type does not match the file's content",
            });
        }
        out.push(Upload {
            name: m.name.trim().to_owned(),
            filename: m.file_name.trim().to_owned(),
            media_type: media_type.to_owned(),
            bytes,
        });
    }
    Ok(out)
}

fn field_error(key: &str, zh: &str, en: &str) -> ApiError {
    ApiError::FormField {
        key: key.to_owned(),
        zh: zh.to_owned(),
        en: en.to_owned(),
    }
}

/// Checks form data against a matter's form definition: required fields
/// present, values of the right kind and length, no unknown fields. Returns
/// the cleaned data (strings trimmed).
///
/// # Errors
/// `FORM_FIELD` naming the first wrong field.
pub fn check_form(
    fields: &[FormField],
    form: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    if let Some(unknown) = form.keys().find(|k| !fields.iter().any(|f| &f.key == *k)) {
        return Err(field_error(
            unknown,
            "表单中没有这一项",
            "not a field of this form",
        ));
    }
    let mut out = serde_json::Map::new();
    for f in fields {
        let text = match form.get(&f.key) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.trim().to_owned(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(_) => return Err(field_error(&f.key, "应为文字", "must be text")),
        };
        if text.is_empty() {
            if f.required {
                return Err(field_error(&f.key, "必填项未填写", "required"));
            }
            continue;
        }
        let max = f.max_len.unwrap_or(match f.kind {
            FieldKind::Textarea => 2000,
            _ => 200,
        });
        if text.chars().count() > max as usize {
            return Err(field_error(&f.key, "内容过长", "too long"));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
        {
            return Err(field_error(
                &f.key,
                "含有控制字符",
                "contains control characters",
            ));
        }
        let ok = match f.kind {
            FieldKind::Text | FieldKind::Textarea => true,
            FieldKind::Number => text.parse::<f64>().is_ok_and(f64::is_finite),
            FieldKind::Date => NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_ok(),
            FieldKind::Phone => {
                (7..=20).contains(&text.len())
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
            }
            FieldKind::IdNumber => gb11643_valid(&text.to_ascii_uppercase()),
            FieldKind::Uscc => casework::ids::uscc_valid(&text.to_ascii_uppercase()),
            FieldKind::Choice => f.choices.contains(&text),
        };
        if !ok {
            let (zh, en) = match f.kind {
                FieldKind::Number => ("应为数字", "must be a number"),
                FieldKind::Date => ("日期格式应为 年-月-日", "must be a date YYYY-MM-DD"),
                FieldKind::Phone => ("电话号码格式不正确", "not a phone number"),
                FieldKind::IdNumber => ("身份证号码不正确", "not a valid ID number"),
                FieldKind::Uscc => ("统一社会信用代码不正确", "not a valid credit code"),
                FieldKind::Choice => ("请从选项中选择", "choose one of the options"),
                FieldKind::Text | FieldKind::Textarea => ("内容不正确", "invalid"),
            };
            return Err(field_error(&f.key, zh, en));
        }
        let text = match f.kind {
            FieldKind::IdNumber | FieldKind::Uscc => text.to_ascii_uppercase(),
            _ => text,
        };
        out.insert(f.key.clone(), serde_json::Value::String(text));
    }
    Ok(out)
}

/// Checks the materials against the guide: every name is one of the
/// matter's materials, and each required electronic material is given (as
/// an upload or an e-certificate).
///
/// # Errors
/// `INVALID_FIELD` or `MATERIAL_MISSING`.
pub fn check_materials(
    m: &Matter,
    uploads: &[Upload],
    ecerts: &[EcertRef],
) -> Result<(), ApiError> {
    if uploads.len() + ecerts.len() > MAX_MATERIALS {
        return Err(ApiError::InvalidField {
            field: "materials",
            reason_zh: "材料数量过多",
            reason_en: "too many materials",
        });
    }
    let known = |name: &str| m.materials.iter().any(|x| x.name == name);
    for name in uploads
        .iter()
        .map(|u| &u.name)
        .chain(ecerts.iter().map(|e| &e.name))
    {
        if !known(name) {
            return Err(ApiError::InvalidField {
                field: "materials",
                reason_zh: "材料名称不在办事指南的材料清单中",
                reason_en: "a material name is not in the guide's list",
            });
        }
    }
    for e in ecerts {
        let allowed = m
            .materials
            .iter()
            .any(|x| x.name == e.name && x.e_certificate.is_some());
        crate::service::check_text("certificate", &e.certificate, 4, 64)?;
        if !allowed {
            return Err(ApiError::InvalidField {
                field: "ecerts",
                reason_zh: "该材料不能以电子证照代替",
                reason_en: "this material cannot be replaced by an e-certificate",
            });
        }
    }
    for need in m.materials.iter().filter(|x| x.required && x.electronic) {
        let given = uploads.iter().any(|u| u.name == need.name)
            || ecerts.iter().any(|e| e.name == need.name);
        if !given {
            return Err(ApiError::MaterialMissing {
                name: need.name.clone(),
            });
        }
    }
    Ok(())
}

fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

/// A six-digit query code (查询密码) printed on the receipt.
fn query_code() -> String {
    format!("{:06}", rand::random::<u32>() % 1_000_000)
}

/// Who is applying, how.
#[derive(Debug, Clone)]
pub struct Filing<'a> {
    /// The matter (current version).
    pub matter: &'a Matter,
    /// The applicant.
    pub applicant: &'a Applicant,
    /// Legal entity applied for: (name, USCC).
    pub entity: Option<(&'a str, &'a str)>,
    /// Agent submitting on the applicant's behalf: (name, ID number).
    pub agent: Option<(&'a str, &'a str)>,
    /// Cleaned form data (JSON object).
    pub form_json: &'a str,
    /// `web`, `window` or `kiosk`.
    pub channel: &'a str,
    /// Kiosk it came from.
    pub kiosk_id: Option<&'a str>,
    /// Portal account that owns it.
    pub account_id: Option<i64>,
    /// Who filed it, for the first step (e.g. 申请人（网上办事大厅）).
    pub handler: &'a str,
    /// Kiosk idempotency: (key, SM3 of the submission, reply JSON).
    pub idempotency: Option<(&'a str, &'a str, &'a str)>,
    /// Audit actor and role.
    pub audit: (&'a str, &'a str),
    /// Track code for the receipt (the kiosk's, already in its reply);
    /// `None`: a fresh random one.
    pub track_code: Option<&'a str>,
    /// Identity check made at a kiosk, as the clerk reads it (e.g.
    /// 身份证+指纹核验（比对分 87）).
    pub identity: Option<&'a str>,
}

/// Creates a case at the start of its matter's workflow, with its first
/// step, feed event and audit row. Returns (row id, case number, projected
/// deadline).
///
/// # Errors
/// A storage failure (a duplicate idempotency key included).
pub fn file_case(
    tx: &WriteTx<'_>,
    numbering: &CaseNumbering,
    f: &Filing<'_>,
    number: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(i64, String, String), ApiError> {
    let at = rfc3339_china(now);
    let cal = calendar(tx)?;
    let deadline = iso_date(cal.add_working_days(china_date(now), f.matter.promised_days));
    let case_number = match number {
        Some(n) => n.to_owned(),
        None => next_case_number(tx, numbering, now)?,
    };
    let id = tx.insert_case(&NewCase {
        case_number: &case_number,
        matter_code: &f.matter.code,
        matter_version: f.matter.version,
        matter_name: &f.matter.name,
        department: &f.matter.department,
        applicant: f.applicant,
        form_json: f.form_json,
        channel: f.channel,
        kiosk_id: f.kiosk_id,
        idempotency_key: f.idempotency.map(|i| i.0),
        submission_sm3: f.idempotency.map(|i| i.1),
        created_reply_json: f.idempotency.map(|i| i.2),
        status: CaseStatus::Submitted,
        submitted_at: &at,
        deadline: Some(&deadline),
        track_code: f.track_code,
    })?;
    if let Some(identity) = f.identity {
        tx.set_identity_check(id, identity)?;
    }
    tx.bump_popularity(&f.matter.code)?;
    let wf = &f.matter.workflow;
    let wf_json = serde_json::to_string(wf).map_err(StoreError::from)?;
    tx.set_case_engine(
        id,
        &wf_json,
        None,
        f.account_id,
        f.matter.promised_days,
        f.matter.legal_days,
        &query_code(),
    )?;
    tx.set_case_parties(
        id,
        if f.entity.is_some() {
            "entity"
        } else {
            "person"
        },
        f.entity,
        f.agent,
    )?;
    let first = wf.steps.first();
    let next_dept = first
        .and_then(|s| s.department.clone())
        .unwrap_or_else(|| f.matter.department.clone());
    let next_role = first.map_or("window_clerk", |s| s.role.as_str());
    tx.set_position(
        id,
        &Position {
            status: CaseStatus::Submitted,
            step: 0,
            resume_to: None,
            next: Some((&next_dept, next_role)),
            deadline: Some(&deadline),
        },
    )?;
    let mut opinion = match (f.channel, f.agent) {
        ("kiosk", Some((name, _))) => format!(
            "由代办员{}通过自助终端代为提交",
            crate::service::privacy::mask_name(name)
        ),
        (_, Some((name, _))) => format!(
            "由代办员{}代为提交",
            crate::service::privacy::mask_name(name)
        ),
        ("web", None) => "通过网上办事大厅提交申请".to_owned(),
        ("kiosk", None) => "通过自助终端提交申请".to_owned(),
        _ => "窗口提交申请".to_owned(),
    };
    if let Some(identity) = f.identity {
        opinion.push_str("；身份核验：");
        opinion.push_str(identity);
    }
    tx.add_case_step(
        id,
        &NewStep {
            status: CaseStatus::Submitted,
            step_name: "申请",
            handler: f.handler,
            department: &f.matter.department,
            opinion: &opinion,
            at: &at,
        },
    )?;
    let payload = serde_json::json!({
        "matter_code": f.matter.code,
        "matter_name": f.matter.name,
        "department": f.matter.department,
        "step": "申请",
        "status": "submitted",
        "provincial_status": casework::export::provincial_status_code(CaseStatus::Submitted),
        "channel": f.channel,
        "applicant_id": mask_id(&f.applicant.id_number),
        "parent": false,
    });
    tx.add_event(
        &case_number,
        "submitted",
        CaseStatus::Submitted,
        &at,
        &payload.to_string(),
    )?;
    tx.audit(&AuditRecord {
        at,
        actor: f.audit.0.to_owned(),
        role: f.audit.1.to_owned(),
        action: "case.created".to_owned(),
        object: format!("case:{case_number}"),
        after: serde_json::json!({
            "status": "submitted",
            "matter": f.matter.code,
            "channel": f.channel,
            "applicant_id": mask_id(&f.applicant.id_number),
            "agent": f.agent.is_some(),
        })
        .to_string(),
        detail: format!("matter={} channel={}", f.matter.code, f.channel),
        ..AuditRecord::default()
    })?;
    Ok((id, case_number, deadline))
}

/// Stores materials of a case in `round`.
///
/// # Errors
/// A storage failure.
pub fn store_materials(
    tx: &WriteTx<'_>,
    case_id: i64,
    uploads: &[Upload],
    ecerts: &[EcertRef],
    round: i64,
    at: &str,
) -> Result<(), StoreError> {
    for u in uploads {
        tx.add_material(
            case_id,
            &NewMaterial {
                name: &u.name,
                source: "upload",
                filename: &u.filename,
                media_type: &u.media_type,
                content: Some(&u.bytes),
                sm3: &sm3_hex(&u.bytes),
                ecert_ref: None,
                round,
                at,
            },
        )?;
    }
    for e in ecerts {
        tx.add_material(
            case_id,
            &NewMaterial {
                name: &e.name,
                source: "e_certificate",
                filename: &e.certificate,
                media_type: "application/x-e-certificate",
                content: None,
                sm3: &sm3_hex(e.certificate.as_bytes()),
                ecert_ref: Some(&e.certificate),
                round,
                at,
            },
        )?;
    }
    Ok(())
}

/// A web application.
#[derive(Debug, Clone)]
pub struct WebApplication {
    /// Matter code.
    pub matter_code: String,
    /// Form data.
    pub form: serde_json::Map<String, serde_json::Value>,
    /// Uploads.
    pub uploads: Vec<Upload>,
    /// E-certificates.
    pub ecerts: Vec<EcertRef>,
    /// For an agent of a legal entity: the entity's USCC.
    pub for_entity: Option<String>,
}

/// Reply to a web application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Applied {
    /// Case number.
    pub case_number: String,
    /// Projected promised conclusion date.
    pub deadline: String,
}

/// Files a web application from a portal account.
///
/// # Errors
/// `REAL_NAME_REQUIRED` (a person must bind a real name first),
/// `MATTER_NOT_FOUND`, `FORM_FIELD`, `INVALID_FIELD`, `MATERIAL_MISSING`,
/// `FORBIDDEN` (not an agent of the entity), or a storage failure.
pub async fn apply_web(
    store: &Store,
    numbering: &CaseNumbering,
    who: &AccountPrincipal,
    app: WebApplication,
    now: DateTime<Utc>,
) -> Result<Applied, ApiError> {
    let who = who.clone();
    let numbering = numbering.clone();
    store
        .write(move |tx| {
            let matter = tx
                .published_matter(&app.matter_code)?
                .ok_or(ApiError::UnknownMatterInSubmission)?;
            let form = check_form(&matter.form, &app.form)?;
            check_materials(&matter, &app.uploads, &app.ecerts)?;
            let form_json = serde_json::Value::Object(form).to_string();
            // Who applies: the person, or the legal entity (itself or by an agent).
            let (applicant, entity, agent) = match (&who.kind[..], &app.for_entity) {
                ("person", None) => {
                    let (Some(name), Some(id)) = (&who.real_name, &who.id_number) else {
                        return Err(ApiError::RealNameRequired);
                    };
                    (person(name, id), None, None)
                }
                ("person", Some(uscc)) => {
                    let (Some(name), Some(id)) = (&who.real_name, &who.id_number) else {
                        return Err(ApiError::RealNameRequired);
                    };
                    let entity = tx
                        .entities_of_agent(who.id)?
                        .into_iter()
                        .find(|e| e.uscc.as_deref() == Some(uscc.as_str()))
                        .ok_or(ApiError::Forbidden)?;
                    let ename = entity.entity_name.unwrap_or_default();
                    (
                        person(name, id),
                        Some((ename, uscc.clone())),
                        Some((name.clone(), id.clone())),
                    )
                }
                ("entity", _) => {
                    let uscc = who.uscc.clone().unwrap_or_default();
                    let ename = who.entity_name.clone().unwrap_or_default();
                    // The legal person applies as itself; the credit code stands
                    // in for the identity number.
                    let applicant = Applicant {
                        name: ename.clone(),
                        id_type: IdType::ResidentId,
                        id_number: uscc.clone(),
                        phone: Some(who.phone.clone()),
                        address: None,
                    };
                    (applicant, Some((ename, uscc)), None)
                }
                _ => return Err(ApiError::Forbidden),
            };
            let actor = format!("account:{}", who.id);
            let (id, case_number, deadline) = file_case(
                tx,
                &numbering,
                &Filing {
                    matter: &matter,
                    applicant: &applicant,
                    entity: entity.as_ref().map(|(n, u)| (n.as_str(), u.as_str())),
                    agent: agent.as_ref().map(|(n, i)| (n.as_str(), i.as_str())),
                    form_json: &form_json,
                    channel: "web",
                    kiosk_id: None,
                    account_id: Some(who.id),
                    handler: "申请人（网上办事大厅）",
                    idempotency: None,
                    audit: (&actor, "applicant"),
                    track_code: None,
                    identity: None,
                },
                None,
                now,
            )?;
            store_materials(tx, id, &app.uploads, &app.ecerts, 0, &rfc3339_china(now))?;
            Ok(Applied {
                case_number,
                deadline,
            })
        })
        .await
}

fn person(name: &str, id: &str) -> Applicant {
    Applicant {
        name: name.to_owned(),
        id_type: IdType::ResidentId,
        id_number: id.to_owned(),
        phone: None,
        address: None,
    }
}

/// Checks the materials supplied for a case's open correction notice:
/// every item it asked for is given, and nothing else is uploaded.
///
/// # Errors
/// `MATERIAL_MISSING` or `INVALID_FIELD`, or a storage failure.
pub fn check_correction(
    tx: &ReadTx<'_>,
    case_id: i64,
    uploads: &[Upload],
    ecerts: &[EcertRef],
) -> Result<(), ApiError> {
    let asked: Vec<String> = tx
        .corrections(case_id)?
        .into_iter()
        .rev()
        .find(|c| c.resolved_at.is_none())
        .map(|c| serde_json::from_str(&c.items_json).unwrap_or_default())
        .unwrap_or_default();
    for item in &asked {
        let given =
            uploads.iter().any(|u| &u.name == item) || ecerts.iter().any(|e| &e.name == item);
        if !given {
            return Err(ApiError::MaterialMissing { name: item.clone() });
        }
    }
    if uploads.iter().any(|u| !asked.contains(&u.name)) {
        return Err(ApiError::InvalidField {
            field: "materials",
            reason_zh: "只需上传补正告知中列出的材料",
            reason_en: "upload only the materials the correction notice lists",
        });
    }
    Ok(())
}

/// Supplies the materials a correction notice asked for and resubmits the
/// case (补正), in one transaction.
///
/// # Errors
/// `NOT_FOUND`, `MATERIAL_MISSING` (an item asked for is not given),
/// `INVALID_FIELD`, a `CASE_*` refusal, or a storage failure.
pub async fn supply_correction(
    store: &Store,
    who: &crate::service::auth::Principal,
    case_number: &str,
    uploads: Vec<Upload>,
    ecerts: Vec<EcertRef>,
    note: String,
    now: DateTime<Utc>,
) -> Result<crate::service::workflow::ActionOutcome, ApiError> {
    let who = who.clone();
    let case_number = case_number.to_owned();
    crate::service::check_text_allow_empty("note", &note, 500)?;
    store
        .write(move |tx| {
            let core = tx.case_core(&case_number)?.ok_or(ApiError::NotFound)?;
            if !crate::service::workflow::may_see(tx, &who, &core)? {
                return Err(ApiError::NotFound);
            }
            check_correction(tx, core.id, &uploads, &ecerts)?;
            let round = tx.correction_round(core.id)?;
            let outcome = crate::service::workflow::act_in(
                tx,
                &who,
                &core,
                casework::engine::Action::Resubmit,
                &crate::service::workflow::ActionRequest {
                    action: "resubmit".to_owned(),
                    opinion: note,
                    items: Vec::new(),
                },
                now,
            )?;
            store_materials(tx, core.id, &uploads, &ecerts, round, &rfc3339_china(now))?;
            Ok(outcome)
        })
        .await
}

/// Today's date string (for tests and pages).
#[must_use]
pub fn today(now: DateTime<Utc>) -> String {
    iso_date(china_date(now))
}
