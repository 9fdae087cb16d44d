//! Cases (办件): idempotent submission from kiosks, lookup by the
//! applicant's identity number, the clerk's masked views.

use chrono::{DateTime, Utc};
use proto::{Applicant, CaseCreated, CaseList, CaseStatus, CaseSubmission, CaseSummary, IdType};

use crate::error::ApiError;
use crate::service::check_text;
use crate::service::kiosks::{KioskIdentity, sm3_hex};
use crate::service::privacy::{gb11643_valid, mask_id};
use crate::service::time::{china_date, iso_date, rfc3339_china};
use crate::store::{AuditRecord, CaseRow, Store, StoreError, WriteTx};

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

/// Submits a case from a kiosk, idempotently: the first submission under a
/// key creates the case (and a `case.created` audit event); a replay returns
/// the original reply (and records `case.replayed`).
///
/// # Errors
/// `INVALID_FIELD`, `MATTER_NOT_FOUND` (422), `MATTER_NOT_AT_KIOSK`,
/// `IDEMPOTENCY_KEY_REUSED`, or a storage failure (nothing written).
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
    let fingerprint =
        sm3_hex(&serde_json::to_vec(&sub).map_err(|e| ApiError::Internal(e.to_string()))?);
    let numbering = numbering.clone();
    let kiosk = kiosk.clone();
    let at = rfc3339_china(now);
    let masked = mask_id(&applicant.id_number);

    let outcome = store
        .write(move |tx| {
            if let Some(stored) = tx.submission_by_key(&kiosk.id, &sub.idempotency_key)? {
                if stored.submission_sm3.as_deref() != Some(fingerprint.as_str()) {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                let reply: CaseCreated =
                    serde_json::from_str(stored.created_reply_json.as_deref().unwrap_or_default())
                        .map_err(StoreError::from)?;
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
            let form_json = serde_json::Value::Object(form).to_string();
            let deadline = crate::service::workflow::calendar(tx)?
                .add_working_days(china_date(now), matter.promised_days);
            let case_number = next_case_number(tx, &numbering, now)?;
            let reply = CaseCreated {
                case_number: case_number.clone(),
                status: CaseStatus::Submitted,
                submitted_at: at.clone(),
                deadline: iso_date(deadline),
                track_code: String::new(),
            };
            let reply_json = serde_json::to_string(&reply).map_err(StoreError::from)?;
            let handler = format!("自助终端 {}", kiosk.name);
            let actor = kiosk.actor();
            crate::service::apply::file_case(
                tx,
                &numbering,
                &crate::service::apply::Filing {
                    matter: &matter,
                    applicant: &applicant,
                    entity: None,
                    agent: None,
                    form_json: &form_json,
                    channel: "kiosk",
                    kiosk_id: Some(&kiosk.id),
                    account_id: None,
                    handler: &handler,
                    idempotency: Some((&sub.idempotency_key, &fingerprint, &reply_json)),
                    audit: (&actor, "kiosk"),
                },
                Some(&case_number),
                now,
            )?;
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
