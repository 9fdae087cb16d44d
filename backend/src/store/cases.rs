//! Cases, their step history, the daily case-number sequence and the
//! holiday calendar.

use proto::{Applicant, CaseStatus};
use rusqlite::{OptionalExtension, Row, params};

use super::{ReadTx, StoreError, WriteTx};

/// A stored case, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    /// Row id.
    pub id: i64,
    /// Unified case number.
    pub case_number: String,
    /// Matter code.
    pub matter_code: String,
    /// Matter name at submission.
    pub matter_name: String,
    /// Department at submission.
    pub department: String,
    /// Applicant's name.
    pub applicant_name: String,
    /// Applicant's identity document type code.
    pub applicant_id_type: String,
    /// Applicant's identity document number.
    pub applicant_id_number: String,
    /// Current status.
    pub status: CaseStatus,
    /// Submission time (RFC 3339).
    pub submitted_at: String,
    /// Promised conclusion date.
    pub deadline: Option<String>,
    /// `kiosk`, `window` or `web`.
    pub channel: String,
    /// Kiosk it came from, if any.
    pub kiosk_id: Option<String>,
}

/// A case to store.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    /// Unified case number.
    pub case_number: &'a str,
    /// Matter code.
    pub matter_code: &'a str,
    /// Matter guide version.
    pub matter_version: u32,
    /// Matter name.
    pub matter_name: &'a str,
    /// Department.
    pub department: &'a str,
    /// The applicant.
    pub applicant: &'a Applicant,
    /// Form data as a JSON object.
    pub form_json: &'a str,
    /// `kiosk`, `window` or `web`.
    pub channel: &'a str,
    /// Kiosk it came from.
    pub kiosk_id: Option<&'a str>,
    /// Idempotency key chosen by the kiosk.
    pub idempotency_key: Option<&'a str>,
    /// SM3 (hex) of the canonical submission, to spot a reused key.
    pub submission_sm3: Option<&'a str>,
    /// The reply sent the first time, replayed verbatim.
    pub created_reply_json: Option<&'a str>,
    /// Initial status.
    pub status: CaseStatus,
    /// Submission time (RFC 3339).
    pub submitted_at: &'a str,
    /// Promised conclusion date.
    pub deadline: Option<&'a str>,
    /// Track code of the receipt's QR; `None`: a fresh random one.
    pub track_code: Option<&'a str>,
}

/// What is kept of a kiosk submission to answer a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSubmission {
    /// Case number.
    pub case_number: String,
    /// SM3 of the original submission.
    pub submission_sm3: Option<String>,
    /// The original reply.
    pub created_reply_json: Option<String>,
}

/// One step of a case's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep<'a> {
    /// Status the case moved to.
    pub status: CaseStatus,
    /// Step name, e.g. 受理.
    pub step_name: &'a str,
    /// Who acted.
    pub handler: &'a str,
    /// Handler's department.
    pub department: &'a str,
    /// Opinion or note.
    pub opinion: &'a str,
    /// When (RFC 3339).
    pub at: &'a str,
}

/// A stored step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    /// Order within the case, from 1.
    pub seq: u32,
    /// Status the case moved to.
    pub status: CaseStatus,
    /// Step name.
    pub step_name: String,
    /// Who acted.
    pub handler: String,
    /// Handler's department.
    pub department: String,
    /// Opinion or note.
    pub opinion: String,
    /// When (RFC 3339).
    pub at: String,
}

const CASE_COLUMNS: &str = "id, case_number, matter_code, matter_name, department, \
     applicant_name, applicant_id_type, applicant_id_number, status, submitted_at, deadline, \
     channel, kiosk_id";

struct RawCase(CaseRow, String);

fn case_row(r: &Row<'_>) -> rusqlite::Result<RawCase> {
    let status: String = r.get(8)?;
    Ok(RawCase(
        CaseRow {
            id: r.get(0)?,
            case_number: r.get(1)?,
            matter_code: r.get(2)?,
            matter_name: r.get(3)?,
            department: r.get(4)?,
            applicant_name: r.get(5)?,
            applicant_id_type: r.get(6)?,
            applicant_id_number: r.get(7)?,
            status: CaseStatus::Submitted,
            submitted_at: r.get(9)?,
            deadline: r.get(10)?,
            channel: r.get(11)?,
            kiosk_id: r.get(12)?,
        },
        status,
    ))
}

fn finish(raw: RawCase) -> Result<CaseRow, StoreError> {
    let RawCase(mut row, status) = raw;
    row.status = CaseStatus::from_code(&status)
        .ok_or_else(|| StoreError::Corrupt(format!("case status {status:?}")))?;
    Ok(row)
}

impl ReadTx<'_> {
    fn query_cases(
        &self,
        sql_tail: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {CASE_COLUMNS} FROM case_record {sql_tail}"
        ))?;
        let raws = stmt
            .query_map(p, case_row)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(finish).collect()
    }

    /// The case a kiosk submitted under an idempotency key.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn submission_by_key(
        &self,
        kiosk_id: &str,
        key: &str,
    ) -> Result<Option<StoredSubmission>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT case_number, submission_sm3, created_reply_json FROM case_record \
                 WHERE kiosk_id = ?1 AND idempotency_key = ?2",
                params![kiosk_id, key],
                |r| {
                    Ok(StoredSubmission {
                        case_number: r.get(0)?,
                        submission_sm3: r.get(1)?,
                        created_reply_json: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every case of an applicant, newest first.
    ///
    /// # Errors
    /// When SQLite fails or a stored value is corrupt.
    pub fn cases_by_id_number(&self, id_number: &str) -> Result<Vec<CaseRow>, StoreError> {
        self.query_cases(
            // Sub-cases of a parallel case are the departments' business:
            // the applicant follows the lead case.
            "WHERE applicant_id_number = ?1 AND parent_id IS NULL \
             ORDER BY submitted_at DESC, id DESC",
            params![id_number],
        )
    }

    /// One case by number.
    ///
    /// # Errors
    /// When SQLite fails or a stored value is corrupt.
    pub fn case_by_number(&self, case_number: &str) -> Result<Option<CaseRow>, StoreError> {
        Ok(self
            .query_cases("WHERE case_number = ?1", params![case_number])?
            .into_iter()
            .next())
    }

    /// The step history of a case, oldest first.
    ///
    /// # Errors
    /// When SQLite fails or a stored value is corrupt.
    pub fn case_steps(&self, case_id: i64) -> Result<Vec<StepRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, status, step_name, handler, department, opinion, at FROM case_step \
             WHERE case_id = ?1 ORDER BY seq",
        )?;
        let raws = stmt
            .query_map(params![case_id], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter()
            .map(
                |(seq, status, step_name, handler, department, opinion, at)| {
                    Ok(StepRow {
                        seq,
                        status: CaseStatus::from_code(&status).ok_or_else(|| {
                            StoreError::Corrupt(format!("step status {status:?}"))
                        })?,
                        step_name,
                        handler,
                        department,
                        opinion,
                        at,
                    })
                },
            )
            .collect()
    }

    /// The holiday calendar: `(YYYY-MM-DD, is_workday)` pairs.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn holidays(&self) -> Result<Vec<(String, bool)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT day, is_workday FROM holiday ORDER BY day")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

impl WriteTx<'_> {
    /// Takes the next case sequence number of a day (from 1).
    ///
    /// # Errors
    /// When SQLite fails, including when the day's 999,999 numbers are used up.
    pub fn next_case_seq(&self, day: &str) -> Result<u32, StoreError> {
        Ok(self.conn().query_row(
            "INSERT INTO case_sequence (day, last_seq) VALUES (?1, 1) \
             ON CONFLICT (day) DO UPDATE SET last_seq = last_seq + 1 \
             RETURNING last_seq",
            params![day],
            |r| r.get(0),
        )?)
    }

    /// Stores a new case; returns its row id.
    ///
    /// # Errors
    /// When SQLite fails (a duplicate number or idempotency key included).
    pub fn insert_case(&self, c: &NewCase<'_>) -> Result<i64, StoreError> {
        self.conn().execute(
            "INSERT INTO case_record (case_number, matter_code, matter_version, matter_name, \
                 department, applicant_name, applicant_id_type, applicant_id_number, \
                 applicant_phone, applicant_address, form_json, channel, kiosk_id, \
                 idempotency_key, submission_sm3, created_reply_json, status, submitted_at, \
                 deadline, track_code) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18, ?19, ?20)",
            params![
                c.case_number,
                c.matter_code,
                c.matter_version,
                c.matter_name,
                c.department,
                c.applicant.name,
                c.applicant.id_type.as_str(),
                c.applicant.id_number,
                c.applicant.phone,
                c.applicant.address,
                c.form_json,
                c.channel,
                c.kiosk_id,
                c.idempotency_key,
                c.submission_sm3,
                c.created_reply_json,
                c.status.as_str(),
                c.submitted_at,
                c.deadline,
                c.track_code
                    .map_or_else(super::track::new_track_code, ToOwned::to_owned),
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Appends a step to a case's history.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_case_step(&self, case_id: i64, s: &NewStep<'_>) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO case_step (case_id, seq, status, step_name, handler, department, \
                 opinion, at) \
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM case_step WHERE case_id = ?1), \
                 ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                case_id,
                s.status.as_str(),
                s.step_name,
                s.handler,
                s.department,
                s.opinion,
                s.at
            ],
        )?;
        Ok(())
    }
}
