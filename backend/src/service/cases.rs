//! Cases (办件): idempotent submission from kiosks, lookup by the
//! applicant's identity number, the clerk's masked views.

use chrono::{DateTime, Utc};
use proto::{
    Applicant, CaseCreated, CaseList, CaseProgress, CaseStatus, CaseSubmission, CaseSummary,
    IdType, IdentityCheck, IdentityMethod, KioskCorrection,
};

use crate::error::ApiError;
use crate::service::check_text;
use crate::service::kiosks::{KioskIdentity, sm3_hex};
use crate::service::privacy::{gb11643_valid, mask_id};
use crate::service::time::{china_date, iso_date, rfc3339_china};
use crate::store::{AuditRecord, CaseRow, Store, StoreError, WriteTx, new_track_code};

/// Longest idempotency key accepted.
pub const MAX_KEY_CHARS: usize = 128;

/// What a submission produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitOutcome {
    /// `true` the first time (201), `false` on a replay (200).
    pub created: bool,
    /// The reply, identical on every replay.
    pub reply: CaseCreated,
}

/// Checks an identity document number against its type.
fn check_id_number(id_type: IdType, id: &str) -> Result<(), ApiError> {
    let invalid = |reason_zh, reason_en| ApiError::InvalidField {
        field: "applicant.id_number",
        reason_zh,
        reason_en,
    };
    match id_type {
        IdType::ResidentId | IdType::HkMoTwResidencePermit => {
            if gb11643_valid(id) {
                Ok(())
            } else {
                Err(invalid(
                    "证件号码应为18位且校验位正确",
                    "must be 18 characters with a valid check character",
                ))
            }
        }
        IdType::ForeignPermanentResident => {
            let ok = match id.len() {
                15 => id.bytes().all(|b| b.is_ascii_alphanumeric()),
                18 => gb11643_valid(id),
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(invalid(
                    "外国人永久居留身份证号码应为15位或18位",
                    "must be 15 or 18 characters",
                ))
            }
        }
    }
}

/// Upper-cases the check character `x`.
fn normalise_id(id: &str) -> String {
    id.trim().to_ascii_uppercase()
}

fn validate_applicant(a: &Applicant) -> Result<Applicant, ApiError> {
    check_text("applicant.name", &a.name, 1, 64)?;
    let id_number = normalise_id(&a.id_number);
    check_id_number(a.id_type, &id_number)?;
    if let Some(phone) = &a.phone {
        let ok = !phone.is_empty()
            && phone.len() <= 20
            && phone
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b' '));
        if !ok {
            return Err(ApiError::InvalidField {
                field: "applicant.phone",
                reason_zh: "联系电话格式不正确",
                reason_en: "must be digits, spaces, '-' or '+', at most 20",
            });
        }
    }
    if let Some(address) = &a.address {
        check_text("applicant.address", address, 1, 200)?;
    }
    Ok(Applicant {
        name: a.name.trim().to_owned(),
        id_type: a.id_type,
        id_number,
        phone: a.phone.clone(),
        address: a.address.as_ref().map(|s| s.trim().to_owned()),
    })
}

/// How case numbers are made: the district code and the configured
/// template (`case_number_format`, default `{district}{yyyyMMdd}{seq:6}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumbering {
    /// Administrative division code, six digits.
    pub district: String,
    /// The template.
    pub format: casework::ids::CaseNumberFormat,
}

impl CaseNumbering {
    /// The counter a number on `day` is taken from: the sequence restarts
    /// with the finest date part the template shows (every day for
    /// `{yyyyMMdd}` or `{dd}`, every month for `{MM}`, every year for
    /// `{yyyy}`), and never when it shows no date, so numbers never repeat.
    #[must_use]
    pub fn counter_key(&self, day: chrono::NaiveDate) -> String {
        let t = self.format.template();
        if t.contains("{yyyyMMdd}") || t.contains("{dd}") {
            iso_date(day)
        } else if t.contains("{MM}") {
            day.format("%Y-%m").to_string()
        } else if t.contains("{yyyy}") {
            day.format("%Y").to_string()
        } else {
            "all".to_owned()
        }
    }

    /// The default template for `district`.
    #[must_use]
    pub fn new(district: &str) -> Self {
        Self {
            district: district.to_owned(),
            format: casework::ids::CaseNumberFormat::DEFAULT,
        }
    }
}

/// Takes the next case number for `now`'s date.
///
/// # Errors
/// When SQLite fails, or the day's sequence outgrows the template's width.
pub(crate) fn next_case_number(
    tx: &WriteTx<'_>,
    numbering: &CaseNumbering,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let day = china_date(now);
    let seq = tx.next_case_seq(&numbering.counter_key(day))?;
    if seq > numbering.format.max_seq() {
        return Err(StoreError::Corrupt(format!(
            "case number sequence {seq} does not fit the template {}",
            numbering.format
        )));
    }
    Ok(numbering.format.format(&numbering.district, day, seq))
}

/// The applicant's identity fields under another name (the agent's).
fn as_agent_error(e: ApiError) -> ApiError {
    match e {
        ApiError::InvalidField {
            field,
            reason_zh,
            reason_en,
        } => ApiError::InvalidField {
            field: match field {
                "applicant.name" => "agent.name",
                "applicant.id_number" => "agent.id_number",
                "applicant.phone" => "agent.phone",
                "applicant.address" => "agent.address",
                other => other,
            },
            reason_zh,
            reason_en,
        },
        other => other,
    }
}

/// Checks the agent (代办员), who must be someone else than the applicant.
fn validate_agent(agent: &Applicant, applicant: &Applicant) -> Result<Applicant, ApiError> {
    let agent = validate_applicant(agent).map_err(as_agent_error)?;
    if agent.id_number == applicant.id_number {
        return Err(ApiError::InvalidField {
            field: "agent.id_number",
            reason_zh: "代办员不能是申请人本人",
            reason_en: "the agent must be someone other than the applicant",
        });
    }
    Ok(agent)
}

/// The identity check as the clerk reads it, after checking it fits the
/// matter: a matter that asks for 人证核验 takes the ID card alone only
/// when the person declined biometrics.
///
/// # Errors
/// `INVALID_FIELD` for a contradictory check, `FINGERPRINT_REQUIRED`.
pub fn identity_text(
    identity: Option<&IdentityCheck>,
    fingerprint_matter: bool,
    by_agent: bool,
) -> Result<Option<String>, ApiError> {
    let contradictory = |reason_zh, reason_en| ApiError::InvalidField {
        field: "identity",
        reason_zh,
        reason_en,
    };
    let Some(id) = identity else {
        if fingerprint_matter {
            return Err(ApiError::FingerprintRequired);
        }
        return Ok(None);
    };
    let text = match id.method {
        IdentityMethod::IdCardFingerprint => {
            if id.biometric_declined {
                return Err(contradictory(
                    "已核验指纹时不能同时选择不使用指纹",
                    "a fingerprint check cannot also be declined",
                ));
            }
            match id.fingerprint_score {
                Some(score) => format!("身份证+指纹核验（比对分 {score}）"),
                None => "身份证+指纹核验".to_owned(),
            }
        }
        IdentityMethod::IdCard => {
            if id.fingerprint_score.is_some() {
                return Err(contradictory(
                    "未核验指纹时不应有比对分",
                    "a score needs a fingerprint check",
                ));
            }
            if id.biometric_declined {
                "身份证（本人选择不使用指纹，请受理时核验身份）".to_owned()
            } else if fingerprint_matter {
                return Err(ApiError::FingerprintRequired);
            } else {
                "身份证".to_owned()
            }
        }
    };
    Ok(Some(if by_agent {
        format!("代办员 {text}")
    } else {
        text
    }))
}

/// Submits a case from a kiosk, idempotently: the first submission under a
/// key creates the case (and a `case.created` audit event) with its
/// materials, agent and identity check; a replay returns the original reply
/// (and records `case.replayed`).
///
/// Materials are checked like the web's: names from the guide, every
/// required electronic material given (`MATERIAL_MISSING`), each file's
/// real type the one it claims, sizes within the caps.
///
/// # Errors
/// `INVALID_FIELD`, `FORM_FIELD`, `MATERIAL_MISSING`, `FINGERPRINT_REQUIRED`,
/// `MATTER_NOT_FOUND` (422), `MATTER_NOT_AT_KIOSK`, `IDEMPOTENCY_KEY_REUSED`,
/// or a storage failure (nothing written).
pub async fn submit(
    store: &Store,
    numbering: &CaseNumbering,
    kiosk: &KioskIdentity,
    sub: CaseSubmission,
    now: DateTime<Utc>,
) -> Result<SubmitOutcome, ApiError> {
    check_text("idempotency_key", &sub.idempotency_key, 1, MAX_KEY_CHARS)?;
    check_text("matter_code", &sub.matter_code, 1, 128)?;
    let applicant = validate_applicant(&sub.applicant)?;
    let agent = sub
        .agent
        .as_ref()
        .map(|a| validate_agent(a, &applicant))
        .transpose()?;
    let fingerprint =
        sm3_hex(&serde_json::to_vec(&sub).map_err(|e| ApiError::Internal(e.to_string()))?);
    let uploads = crate::service::apply::decode_kiosk_materials(&sub.materials)?;
    let numbering = numbering.clone();
    let kiosk = kiosk.clone();
    let at = rfc3339_china(now);
    let masked = mask_id(&applicant.id_number);
    let track_code = new_track_code();

    let outcome = store
        .write(move |tx| {
            if let Some(stored) = tx.submission_by_key(&kiosk.id, &sub.idempotency_key)? {
                if stored.submission_sm3.as_deref() != Some(fingerprint.as_str()) {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                let mut reply: CaseCreated =
                    serde_json::from_str(stored.created_reply_json.as_deref().unwrap_or_default())
                        .map_err(StoreError::from)?;
                if reply.track_code.is_empty() {
                    // Submitted before track codes: the one migration 5 gave it.
                    if let Some(core) = tx.case_core(&stored.case_number)? {
                        reply.track_code = tx.track_code(core.id)?.unwrap_or_default();
                    }
                }
                tx.audit(&AuditRecord {
                    at: at.clone(),
                    actor: kiosk.actor(),
                    action: "case.replayed".to_owned(),
                    object: format!("case:{}", stored.case_number),
                    detail: format!("matter={}", sub.matter_code),
                    role: "kiosk".to_owned(),
                    ..AuditRecord::default()
                })?;
                return Ok(SubmitOutcome {
                    created: false,
                    reply,
                });
            }
            let matter = tx
                .matter(&sub.matter_code)?
                .ok_or(ApiError::UnknownMatterInSubmission)?;
            if !matter.kiosk_available {
                return Err(ApiError::MatterNotAtKiosk);
            }
            let form = crate::service::apply::check_form(&matter.form, &sub.form)?;
            crate::service::apply::check_materials(&matter, &uploads, &[])?;
            let identity = identity_text(
                sub.identity.as_ref(),
                matter.kiosk_fingerprint,
                agent.is_some(),
            )?;
            let form_json = serde_json::Value::Object(form).to_string();
            let deadline = crate::service::workflow::calendar(tx)?
                .add_working_days(china_date(now), matter.promised_days);
            let case_number = next_case_number(tx, &numbering, now)?;
            let reply = CaseCreated {
                case_number: case_number.clone(),
                status: CaseStatus::Submitted,
                submitted_at: at.clone(),
                deadline: iso_date(deadline),
                track_code: track_code.clone(),
            };
            let reply_json = serde_json::to_string(&reply).map_err(StoreError::from)?;
            let handler = format!("自助终端 {}", kiosk.name);
            let actor = kiosk.actor();
            let (case_id, _, _) = crate::service::apply::file_case(
                tx,
                &numbering,
                &crate::service::apply::Filing {
                    matter: &matter,
                    applicant: &applicant,
                    entity: None,
                    agent: agent
                        .as_ref()
                        .map(|a| (a.name.as_str(), a.id_number.as_str())),
                    form_json: &form_json,
                    channel: "kiosk",
                    kiosk_id: Some(&kiosk.id),
                    account_id: None,
                    handler: &handler,
                    idempotency: Some((&sub.idempotency_key, &fingerprint, &reply_json)),
                    audit: (&actor, "kiosk"),
                    track_code: Some(&track_code),
                    identity: identity.as_deref(),
                },
                Some(&case_number),
                now,
            )?;
            crate::service::apply::store_materials(tx, case_id, &uploads, &[], 0, &at)?;
            Ok(SubmitOutcome {
                created: true,
                reply,
            })
        })
        .await?;
    if outcome.created {
        tracing::info!(
            case_number = %outcome.reply.case_number,
            applicant = %masked,
            "case created"
        );
    } else {
        tracing::info!(case_number = %outcome.reply.case_number, "case submission replayed");
    }
    Ok(outcome)
}

/// Kind of the kept reply of a kiosk correction.
const CORRECTION_REQUEST: &str = "correction";

/// The missing materials of a case in 待补正, supplied at a kiosk by the
/// applicant, who laid their ID card: the case is resubmitted like the
/// portal's correction, the kiosk recorded as where the applicant acted.
/// Idempotent by key per kiosk: a replay returns the same progress.
///
/// # Errors
/// `NOT_FOUND` (unknown case, or the ID number is not the applicant's),
/// `CASE_NOT_IN_CORRECTION` (409), `IDEMPOTENCY_KEY_REUSED`,
/// `MATERIAL_MISSING`, `INVALID_FIELD`, or a storage failure.
pub async fn correct(
    store: &Store,
    kiosk: &KioskIdentity,
    req: KioskCorrection,
    now: DateTime<Utc>,
) -> Result<CaseProgress, ApiError> {
    check_text("idempotency_key", &req.idempotency_key, 1, MAX_KEY_CHARS)?;
    check_text("case_number", &req.case_number, 1, 40)?;
    check_text("id_number", &req.id_number, 1, 32)?;
    crate::service::check_text_allow_empty("note", &req.note, 500)?;
    if req.materials.is_empty() {
        return Err(ApiError::InvalidField {
            field: "materials",
            reason_zh: "请提交补正材料",
            reason_en: "supply the materials asked for",
        });
    }
    let request_sm3 =
        sm3_hex(&serde_json::to_vec(&req).map_err(|e| ApiError::Internal(e.to_string()))?);
    let uploads = crate::service::apply::decode_kiosk_materials(&req.materials)?;
    let id_number = normalise_id(&req.id_number);
    let kiosk = kiosk.clone();
    let at = rfc3339_china(now);
    let progress = store
        .write(move |tx| {
            if let Some(kept) =
                tx.kiosk_request(&kiosk.id, CORRECTION_REQUEST, &req.idempotency_key)?
            {
                if kept.request_sm3 != request_sm3 {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                let reply: CaseProgress =
                    serde_json::from_str(&kept.reply_json).map_err(StoreError::from)?;
                tx.audit(&AuditRecord {
                    at: at.clone(),
                    actor: kiosk.actor(),
                    role: "kiosk".to_owned(),
                    action: "case.correction_replayed".to_owned(),
                    object: format!("case:{}", reply.case.case_number),
                    ..AuditRecord::default()
                })?;
                return Ok(reply);
            }
            let core = tx
                .case_core(req.case_number.trim())?
                .filter(|c| {
                    c.parent_id.is_none()
                        && auth::constant_time_eq(
                            c.applicant_id_number.as_bytes(),
                            id_number.as_bytes(),
                        )
                })
                .ok_or(ApiError::NotFound)?;
            if core.status != CaseStatus::CorrectionRequested {
                return Err(ApiError::CaseRefused {
                    code: "CASE_NOT_IN_CORRECTION",
                    zh: "该办件当前不需要补正材料",
                    en: "This case is not waiting for a correction",
                });
            }
            crate::service::apply::check_correction(tx, core.id, &uploads, &[])?;
            let round = tx.correction_round(core.id)?;
            crate::service::workflow::act_at_kiosk(
                tx,
                &kiosk,
                &core,
                casework::engine::Action::Resubmit,
                &crate::service::workflow::ActionRequest {
                    action: "resubmit".to_owned(),
                    opinion: req.note.trim().to_owned(),
                    items: Vec::new(),
                },
                now,
            )?;
            crate::service::apply::store_materials(tx, core.id, &uploads, &[], round, &at)?;
            let fresh = tx.case_core_by_id(core.id)?.ok_or(ApiError::NotFound)?;
            let reply = crate::service::track::progress_of(tx, &fresh, now)?;
            let reply_json = serde_json::to_string(&reply).map_err(StoreError::from)?;
            tx.put_kiosk_request(
                &kiosk.id,
                CORRECTION_REQUEST,
                &req.idempotency_key,
                &request_sm3,
                &reply_json,
                &at,
            )?;
            Ok(reply)
        })
        .await?;
    tracing::info!(case_number = %progress.case.case_number, "correction supplied at a kiosk");
    Ok(progress)
}

fn summary(row: CaseRow) -> CaseSummary {
    CaseSummary {
        status_zh: row.status.zh().to_owned(),
        status_en: row.status.en().to_owned(),
        case_number: row.case_number,
        matter_code: row.matter_code,
        matter_name: row.matter_name,
        department: row.department,
        status: row.status,
        submitted_at: row.submitted_at,
        deadline: row.deadline,
        channel: row.channel,
    }
}

/// The cases of the applicant with this identity number, newest first. The
/// lookup is audited (who looked, how many results; not the number).
///
/// # Errors
/// `INVALID_FIELD` for an empty or overlong number, or a storage failure.
pub async fn lookup(
    store: &Store,
    kiosk: &KioskIdentity,
    id_number: &str,
    now: DateTime<Utc>,
) -> Result<CaseList, ApiError> {
    check_text("id_number", id_number, 1, 32)?;
    let id_number = normalise_id(id_number);
    let kiosk = kiosk.clone();
    let at = rfc3339_china(now);
    let masked = mask_id(&id_number);
    let items = store
        .write(move |tx| {
            let rows = tx.cases_by_id_number(&id_number)?;
            tx.audit(&AuditRecord {
                at,
                actor: kiosk.actor(),
                action: "case.lookup".to_owned(),
                object: "case".to_owned(),
                detail: format!("results={}", rows.len()),
                role: "kiosk".to_owned(),
                ..AuditRecord::default()
            })?;
            Ok::<_, ApiError>(rows.into_iter().map(summary).collect::<Vec<_>>())
        })
        .await?;
    tracing::info!(applicant = %masked, results = items.len(), "case lookup");
    Ok(CaseList { items })
}
