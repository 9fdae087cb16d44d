//! Following a case (查进度) without logging in: by case number and the last
//! six characters of the applicant's identity number, or by the track code
//! printed in the receipt's QR code — at a kiosk (`POST
//! /api/v1/cases/progress`) or on the public portal page `/track`.
//!
//! A wrong answer is `NOT_FOUND` exactly like an unknown case number, so
//! nothing can be probed; codes are compared in constant time; every query
//! is audited (never with the identity number). The public page also locks
//! a case number for an hour after [`MAX_PUBLIC_FAILURES`] wrong answers,
//! counted for any number asked, known or not.

use chrono::{DateTime, Duration, Utc};
use proto::{CaseProgress, CaseProgressQuery, CaseStatus, CaseSummary, ProgressStep};

use crate::error::ApiError;
use crate::service::kiosks::KioskIdentity;
use crate::service::time::{china_date, display_time, rfc3339_china};
use crate::service::workflow::{calendar, line};
use crate::store::{AuditRecord, CaseCore, ReadTx, Store, StoreError, WriteTx, is_track_code};

/// Wrong answers for one case number within [`LOCKOUT_WINDOW_MINUTES`]
/// after which the public page refuses that number (429) until they age out.
pub const MAX_PUBLIC_FAILURES: u32 = 10;
/// The window the public page counts wrong answers in.
pub const LOCKOUT_WINDOW_MINUTES: i64 = 60;

/// What proves the asker knows the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// Last six characters of the applicant's identity number.
    IdLast6(String),
    /// The receipt's track code.
    TrackCode(String),
}

/// A checked progress query: the case number and the proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackQuery {
    /// Case number, trimmed.
    pub case_number: String,
    /// How the asker proves they know the case.
    pub proof: Proof,
}

/// Checks the shape of a progress query: a case number, and either a track
/// code (preferred when given) or the last six characters of an ID number.
///
/// # Errors
/// `INVALID_FIELD` naming the malformed field.
pub fn parse_query(q: &CaseProgressQuery) -> Result<TrackQuery, ApiError> {
    let number = q.case_number.trim().to_owned();
    if number.is_empty()
        || number.len() > 40
        || !number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(ApiError::InvalidField {
            field: "case_number",
            reason_zh: "办件编号格式不正确",
            reason_en: "not a case number",
        });
    }
    let code = q
        .track_code
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    if let Some(code) = code {
        if !is_track_code(&code) {
            return Err(ApiError::InvalidField {
                field: "track_code",
                reason_zh: "查询码应为10位字母或数字",
                reason_en: "the track code has 10 letters or digits",
            });
        }
        return Ok(TrackQuery {
            case_number: number,
            proof: Proof::TrackCode(code),
        });
    }
    let last6 = q.id_last6.trim().to_ascii_uppercase();
    if last6.len() != 6 || !last6.bytes().all(|b| b.is_ascii_digit() || b == b'X') {
        return Err(ApiError::InvalidField {
            field: "id_last6",
            reason_zh: "请输入证件号码后六位",
            reason_en: "enter the last six characters of the ID number",
        });
    }
    Ok(TrackQuery {
        case_number: number,
        proof: Proof::IdLast6(last6),
    })
}

/// The case the query names, if the proof fits it (sub-cases are never
/// found: their lead case is what the applicant follows).
fn find(tx: &ReadTx<'_>, q: &TrackQuery) -> Result<Option<CaseCore>, StoreError> {
    let Some(core) = tx
        .case_core(&q.case_number)?
        .filter(|c| c.parent_id.is_none())
    else {
        return Ok(None);
    };
    let fits = match &q.proof {
        Proof::IdLast6(last6) => {
            let id = core.applicant_id_number.as_bytes();
            let tail = id.get(id.len().saturating_sub(6)..).unwrap_or_default();
            id.len() >= 6 && auth::constant_time_eq(tail, last6.as_bytes())
        }
        Proof::TrackCode(code) => tx
            .track_code(core.id)?
            .is_some_and(|stored| auth::constant_time_eq(stored.as_bytes(), code.as_bytes())),
    };
    Ok(fits.then_some(core))
}

/// A case's progress as the applicant reads it: its steps, deadline and any
/// open correction notice.
///
/// # Errors
/// A storage failure.
pub fn progress_of(
    tx: &ReadTx<'_>,
    core: &CaseCore,
    now: DateTime<Utc>,
) -> Result<CaseProgress, ApiError> {
    let cal = calendar(tx)?;
    let l = line(tx, &cal, core, china_date(now))?;
    let steps = tx
        .case_steps(core.id)?
        .into_iter()
        .map(|s| ProgressStep {
            status_zh: s.status.zh().to_owned(),
            step_name: s.step_name,
            status: s.status,
            department: s.department,
            opinion: s.opinion,
            at: display_time(&s.at),
        })
        .collect();
    let open = tx
        .corrections(core.id)?
        .into_iter()
        .rev()
        .find(|c| c.resolved_at.is_none());
    let (correction_items, correction_note) = match open {
        Some(c) if core.status == CaseStatus::CorrectionRequested => (
            serde_json::from_str(&c.items_json).unwrap_or_default(),
            Some(c.note),
        ),
        _ => (Vec::new(), None),
    };
    Ok(CaseProgress {
        case: CaseSummary {
            case_number: core.case_number.clone(),
            matter_code: core.matter_code.clone(),
            matter_name: core.matter_name.clone(),
            department: core.department.clone(),
            status: core.status,
            status_zh: core.status.zh().to_owned(),
            status_en: core.status.en().to_owned(),
            submitted_at: core.submitted_at.clone(),
            deadline: l.deadline.clone(),
            channel: core.channel.clone(),
        },
        steps,
        remaining_days: l.remaining_days,
        warning: l.warning,
        correction_items,
        correction_note,
    })
}

fn via(proof: &Proof) -> &'static str {
    match proof {
        Proof::IdLast6(_) => "id_last6",
        Proof::TrackCode(_) => "track_code",
    }
}

fn audit_query(
    tx: &WriteTx<'_>,
    actor: (String, &str),
    found: Option<&CaseCore>,
    q: &TrackQuery,
    at: &str,
) -> Result<(), StoreError> {
    tx.audit(&AuditRecord {
        at: at.to_owned(),
        actor: actor.0,
        role: actor.1.to_owned(),
        action: "case.progress".to_owned(),
        object: found.map_or_else(|| "case".to_owned(), |c| format!("case:{}", c.case_number)),
        detail: format!("found={} via={}", found.is_some(), via(&q.proof)),
        ..AuditRecord::default()
    })
}

/// A case's progress for a kiosk (查询 by receipt): by case number and the
/// last six characters of the applicant's identity number, or the track
/// code of the receipt's QR. A wrong answer is `NOT_FOUND` like an unknown
/// number; each try is audited.
///
/// # Errors
/// `NOT_FOUND`, `INVALID_FIELD` for malformed input, or a storage failure.
pub async fn kiosk_progress(
    store: &Store,
    kiosk: &KioskIdentity,
    q: CaseProgressQuery,
    now: DateTime<Utc>,
) -> Result<CaseProgress, ApiError> {
    let q = parse_query(&q)?;
    let kiosk = kiosk.clone();
    let at = rfc3339_china(now);
    store
        .write(
            move |tx| -> Result<Result<CaseProgress, ApiError>, ApiError> {
                let found = find(tx, &q)?;
                audit_query(tx, (kiosk.actor(), "kiosk"), found.as_ref(), &q, &at)?;
                match found {
                    Some(core) => Ok(Ok(progress_of(tx, &core, now)?)),
                    // Committed with the audit row, then refused.
                    None => Ok(Err(ApiError::NotFound)),
                }
            },
        )
        .await?
}

/// A case's progress for the public track page (no login). Like
/// [`kiosk_progress`], and a case number with [`MAX_PUBLIC_FAILURES`] wrong
/// answers in the last hour is refused with `RATE_LIMITED` whatever is
/// answered, until they age out.
///
/// # Errors
/// `NOT_FOUND`, `RATE_LIMITED`, `INVALID_FIELD`, or a storage failure.
pub async fn public_progress(
    store: &Store,
    q: CaseProgressQuery,
    now: DateTime<Utc>,
) -> Result<CaseProgress, ApiError> {
    let mut q = parse_query(&q)?;
    q.case_number = q.case_number.to_ascii_uppercase();
    let at = rfc3339_china(now);
    let since = rfc3339_china(now - Duration::minutes(LOCKOUT_WINDOW_MINUTES));
    let prune = rfc3339_china(now - Duration::days(1));
    store
        .write(
            move |tx| -> Result<Result<CaseProgress, ApiError>, ApiError> {
                if tx.track_failures_since(&q.case_number, &since)? >= MAX_PUBLIC_FAILURES {
                    tx.audit(&AuditRecord {
                        at,
                        actor: "anonymous".to_owned(),
                        role: "anonymous".to_owned(),
                        action: "case.progress_locked".to_owned(),
                        object: "case".to_owned(),
                        detail: format!("via={}", via(&q.proof)),
                        ..AuditRecord::default()
                    })?;
                    return Ok(Err(ApiError::RateLimited));
                }
                let found = find(tx, &q)?;
                audit_query(
                    tx,
                    ("anonymous".to_owned(), "anonymous"),
                    found.as_ref(),
                    &q,
                    &at,
                )?;
                match found {
                    Some(core) => Ok(Ok(progress_of(tx, &core, now)?)),
                    None => {
                        tx.add_track_failure(&q.case_number, &at, &prune)?;
                        Ok(Err(ApiError::NotFound))
                    }
                }
            },
        )
        .await?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn q(number: &str, last6: &str, code: Option<&str>) -> CaseProgressQuery {
        CaseProgressQuery {
            case_number: number.to_owned(),
            id_last6: last6.to_owned(),
            track_code: code.map(ToOwned::to_owned),
        }
    }

    #[test]
    fn a_track_code_wins_over_an_empty_id_ending() {
        let t = parse_query(&q(" 41040320261127000001 ", "", Some("abcdefghjk"))).unwrap();
        assert_eq!(t.case_number, "41040320261127000001");
        assert_eq!(t.proof, Proof::TrackCode("ABCDEFGHJK".to_owned()));
        let t = parse_query(&q("1", "15001x", Some(""))).unwrap();
        assert_eq!(t.proof, Proof::IdLast6("15001X".to_owned()));
    }

    #[test]
    fn malformed_queries_name_their_field() {
        let field = |r: Result<TrackQuery, ApiError>| match r {
            Err(ApiError::InvalidField { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(parse_query(&q("", "150013", None))), "case_number");
        assert_eq!(field(parse_query(&q("1", "15", None))), "id_last6");
        assert_eq!(
            field(parse_query(&q("1", "", Some("O0O0O0O0O0")))),
            "track_code"
        );
    }
}
