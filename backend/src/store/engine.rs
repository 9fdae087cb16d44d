//! The case engine's tables: workflow position, sub-cases, pauses of the
//! deadline clock, materials, correction notices and the outbound event
//! feed.

use proto::CaseStatus;
use rusqlite::{OptionalExtension, params};

use super::{ReadTx, StoreError, WriteTx};

/// What the engine needs of a case to decide a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseCore {
    /// Row id.
    pub id: i64,
    /// Unified case number.
    pub case_number: String,
    /// Matter code.
    pub matter_code: String,
    /// Matter name.
    pub matter_name: String,
    /// Department that accepted the case (its owner).
    pub department: String,
    /// Status.
    pub status: CaseStatus,
    /// Index of the current workflow step.
    pub step: usize,
    /// Status to return to after a correction or a suspension.
    pub resume_to: Option<CaseStatus>,
    /// The workflow (JSON of `proto::WorkflowDef`) fixed at submission.
    pub workflow_json: String,
    /// Lead case of a sub-case.
    pub parent_id: Option<i64>,
    /// Which co-department of the lead's workflow this sub-case serves.
    pub co_index: Option<usize>,
    /// Portal account that owns the case.
    pub account_id: Option<i64>,
    /// Applicant's identity number (for the applicant check; never shown whole).
    pub applicant_id_number: String,
    /// Applicant's name.
    pub applicant_name: String,
    /// `person` or `entity`.
    pub applicant_kind: String,
    /// Legal entity name.
    pub entity_name: Option<String>,
    /// Legal entity's unified social credit code.
    pub entity_uscc: Option<String>,
    /// Agent's name (代办).
    pub agent_name: Option<String>,
    /// Agent's identity number.
    pub agent_id_number: Option<String>,
    /// Channel.
    pub channel: String,
    /// Kiosk it came from.
    pub kiosk_id: Option<String>,
    /// Form data (JSON object).
    pub form_json: String,
    /// Submission time (RFC 3339).
    pub submitted_at: String,
    /// Date the clock started (YYYY-MM-DD).
    pub accepted_on: Option<String>,
    /// Promised limit in working days.
    pub limit_days: Option<u32>,
    /// Legal limit in working days.
    pub legal_days: Option<u32>,
    /// Conclusion time (RFC 3339).
    pub concluded_at: Option<String>,
    /// Promised conclusion date as last computed.
    pub deadline: Option<String>,
    /// Department that acts next.
    pub current_department: Option<String>,
    /// Role that acts next.
    pub current_role: Option<String>,
}

const CORE_COLUMNS: &str = "id, case_number, matter_code, matter_name, department, status, step, \
     resume_to, COALESCE(workflow_json, ''), parent_id, co_index, account_id, applicant_id_number, \
     applicant_name, applicant_kind, entity_name, entity_uscc, agent_name, agent_id_number, \
     channel, kiosk_id, form_json, submitted_at, accepted_on, limit_days, legal_days, \
     concluded_at, deadline, current_department, current_role";

fn status_of(s: &str) -> Result<CaseStatus, StoreError> {
    CaseStatus::from_code(s).ok_or_else(|| StoreError::Corrupt(format!("case status {s:?}")))
}

struct RawCore {
    core: CaseCore,
    status: String,
    resume_to: Option<String>,
    step: i64,
    co_index: Option<i64>,
}

fn core_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCore> {
    Ok(RawCore {
        core: CaseCore {
            id: r.get(0)?,
            case_number: r.get(1)?,
            matter_code: r.get(2)?,
            matter_name: r.get(3)?,
            department: r.get(4)?,
            status: CaseStatus::Submitted,
            step: 0,
            resume_to: None,
            workflow_json: r.get(8)?,
            parent_id: r.get(9)?,
            co_index: None,
            account_id: r.get(11)?,
            applicant_id_number: r.get(12)?,
            applicant_name: r.get(13)?,
            applicant_kind: r.get(14)?,
            entity_name: r.get(15)?,
            entity_uscc: r.get(16)?,
            agent_name: r.get(17)?,
            agent_id_number: r.get(18)?,
            channel: r.get(19)?,
            kiosk_id: r.get(20)?,
            form_json: r.get(21)?,
            submitted_at: r.get(22)?,
            accepted_on: r.get(23)?,
            limit_days: r.get(24)?,
            legal_days: r.get(25)?,
            concluded_at: r.get(26)?,
            deadline: r.get(27)?,
            current_department: r.get(28)?,
            current_role: r.get(29)?,
        },
        status: r.get(5)?,
        step: r.get(6)?,
        resume_to: r.get(7)?,
        co_index: r.get(10)?,
    })
}

fn finish(raw: RawCore) -> Result<CaseCore, StoreError> {
    let mut core = raw.core;
    core.status = status_of(&raw.status)?;
    core.resume_to = raw.resume_to.as_deref().map(status_of).transpose()?;
    core.step =
        usize::try_from(raw.step).map_err(|_| StoreError::Corrupt("negative step".into()))?;
    core.co_index = raw
        .co_index
        .map(usize::try_from)
        .transpose()
        .map_err(|_| StoreError::Corrupt("negative co_index".into()))?;
    Ok(core)
}

/// Counts of a lead case's sub-cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubcaseCounts {
    /// Not yet concluded.
    pub open: usize,
    /// Concluded approved.
    pub approved: usize,
    /// Concluded denied (or otherwise closed without approval).
    pub denied: usize,
}

/// A stored material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialRow {
    /// Row id.
    pub id: i64,
    /// Material name (from the guide).
    pub name: String,
    /// `upload`, `capture` or `e_certificate`.
    pub source: String,
    /// File name as handed in.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// SM3 of the bytes.
    pub sm3: String,
    /// E-certificate reference.
    pub ecert_ref: Option<String>,
    /// 0 for the application, 1.. for each correction.
    pub round: i64,
    /// When (RFC 3339).
    pub added_at: String,
}

/// A material to store.
#[derive(Debug, Clone)]
pub struct NewMaterial<'a> {
    /// Material name.
    pub name: &'a str,
    /// `upload`, `capture` or `e_certificate`.
    pub source: &'a str,
    /// File name.
    pub filename: &'a str,
    /// Media type.
    pub media_type: &'a str,
    /// The bytes (none for an e-certificate reference).
    pub content: Option<&'a [u8]>,
    /// SM3 of the bytes (or of the reference).
    pub sm3: &'a str,
    /// E-certificate reference.
    pub ecert_ref: Option<&'a str>,
    /// Round.
    pub round: i64,
    /// When.
    pub at: &'a str,
}

/// One event of the outbound feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Cursor.
    pub id: i64,
    /// Case number.
    pub case_number: String,
    /// Event name, e.g. `accepted`.
    pub event: String,
    /// Status after the event.
    pub status: String,
    /// When (RFC 3339).
    pub at: String,
    /// JSON payload (no personal data beyond masked values).
    pub payload: String,
}

/// A correction notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionRow {
    /// Row id.
    pub id: i64,
    /// Material names asked for (JSON array).
    pub items_json: String,
    /// The clerk's note.
    pub note: String,
    /// When asked.
    pub requested_at: String,
    /// When supplied.
    pub resolved_at: Option<String>,
}

/// Which inbox to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxQuery<'a> {
    /// Cases whose current step is this department's and one of these roles'.
    Todo {
        /// Department.
        department: &'a str,
        /// Role codes.
        roles: &'a [String],
    },
    /// Open cases this staff member acted on that are now with someone else.
    Done {
        /// Staff id.
        staff_id: i64,
    },
    /// Concluded cases of (or touched by) this department.
    Concluded {
        /// Department.
        department: &'a str,
    },
    /// Cases of this department waiting for the applicant's correction, or
    /// corrected and waiting for acceptance.
    Correction {
        /// Department.
        department: &'a str,
    },
    /// Every open case (supervisors).
    AllOpen,
}

const TERMINAL_SQL: &str = "('not_accepted', 'approved', 'denied', 'voided', 'withdrawn')";

impl ReadTx<'_> {
    /// The engine's view of a case.
    ///
    /// # Errors
    /// When SQLite fails or a stored value is corrupt.
    pub fn case_core(&self, case_number: &str) -> Result<Option<CaseCore>, StoreError> {
        let raw = self
            .conn()
            .query_row(
                &format!("SELECT {CORE_COLUMNS} FROM case_record WHERE case_number = ?1"),
                params![case_number],
                core_row,
            )
            .optional()?;
        raw.map(finish).transpose()
    }

    /// The engine's view of a case by row id.
    ///
    /// # Errors
    /// When SQLite fails or a stored value is corrupt.
    pub fn case_core_by_id(&self, id: i64) -> Result<Option<CaseCore>, StoreError> {
        let raw = self
            .conn()
            .query_row(
                &format!("SELECT {CORE_COLUMNS} FROM case_record WHERE id = ?1"),
                params![id],
                core_row,
            )
            .optional()?;
        raw.map(finish).transpose()
    }

    fn cores(&self, tail: &str, p: impl rusqlite::Params) -> Result<Vec<CaseCore>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!("SELECT {CORE_COLUMNS} FROM case_record {tail}"))?;
        let raws = stmt
            .query_map(p, core_row)?
            .collect::<Result<Vec<_>, _>>()?;
        raws.into_iter().map(finish).collect()
    }

    /// The sub-cases of a lead case, in co-department order.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn subcases(&self, parent_id: i64) -> Result<Vec<CaseCore>, StoreError> {
        self.cores(
            "WHERE parent_id = ?1 ORDER BY co_index, id",
            params![parent_id],
        )
    }

    /// Tally of a lead case's sub-cases.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn subcase_counts(&self, parent_id: i64) -> Result<SubcaseCounts, StoreError> {
        let mut counts = SubcaseCounts::default();
        for sub in self.subcases(parent_id)? {
            match sub.status {
                CaseStatus::Approved => counts.approved += 1,
                CaseStatus::Denied
                | CaseStatus::Voided
                | CaseStatus::Withdrawn
                | CaseStatus::NotAccepted => counts.denied += 1,
                _ => counts.open += 1,
            }
        }
        Ok(counts)
    }

    /// Cases of one portal account, newest first (sub-cases excluded).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn cases_of_account(&self, account_id: i64) -> Result<Vec<CaseCore>, StoreError> {
        self.cores(
            "WHERE account_id = ?1 AND parent_id IS NULL ORDER BY submitted_at DESC, id DESC",
            params![account_id],
        )
    }

    /// Cases of an applicant by identity number, newest first (sub-cases excluded).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn cores_by_id_number(&self, id_number: &str) -> Result<Vec<CaseCore>, StoreError> {
        self.cores(
            "WHERE applicant_id_number = ?1 AND parent_id IS NULL \
             ORDER BY submitted_at DESC, id DESC",
            params![id_number],
        )
    }

    /// One inbox, oldest deadline first, at most `limit`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn inbox(&self, q: InboxQuery<'_>, limit: u32) -> Result<Vec<CaseCore>, StoreError> {
        match q {
            InboxQuery::Todo { department, roles } => {
                let roles = roles.join(",");
                self.cores(
                    &format!(
                        "WHERE current_department = ?1 \
                           AND instr(',' || ?2 || ',', ',' || current_role || ',') > 0 \
                           AND status NOT IN {TERMINAL_SQL} \
                           AND status <> 'correction_requested' \
                         ORDER BY deadline IS NULL, deadline, id LIMIT ?3"
                    ),
                    params![department, roles, limit],
                )
            }
            InboxQuery::Done { staff_id } => self.cores(
                &format!(
                    "WHERE id IN (SELECT case_id FROM case_step WHERE actor_staff_id = ?1) \
                       AND status NOT IN {TERMINAL_SQL} \
                     ORDER BY id DESC LIMIT ?2"
                ),
                params![staff_id, limit],
            ),
            InboxQuery::Concluded { department } => self.cores(
                &format!(
                    "WHERE (department = ?1 OR current_department = ?1 OR id IN \
                         (SELECT case_id FROM case_step WHERE department = ?1)) \
                       AND status IN {TERMINAL_SQL} \
                     ORDER BY concluded_at DESC, id DESC LIMIT ?2"
                ),
                params![department, limit],
            ),
            InboxQuery::Correction { department } => self.cores(
                "WHERE department = ?1 AND status IN ('correction_requested', 'resubmitted') \
                 ORDER BY id DESC LIMIT ?2",
                params![department, limit],
            ),
            InboxQuery::AllOpen => self.cores(
                &format!(
                    "WHERE status NOT IN {TERMINAL_SQL} \
                     ORDER BY deadline IS NULL, deadline, id LIMIT ?1"
                ),
                params![limit],
            ),
        }
    }

    /// Whether any step of the case was acted on by `department`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn department_touched(&self, case_id: i64, department: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM case_step WHERE case_id = ?1 AND department = ?2)",
            params![case_id, department],
            |r| r.get(0),
        )?)
    }

    /// Pauses of the deadline clock, oldest first, as `(from, to)`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn pauses(&self, case_id: i64) -> Result<Vec<(String, Option<String>)>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT from_day, to_day FROM case_pause WHERE case_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![case_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Materials of a case (without their bytes), in order.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn materials(&self, case_id: i64) -> Result<Vec<MaterialRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, name, source, filename, media_type, size, sm3, ecert_ref, round, added_at \
             FROM case_material WHERE case_id = ?1 ORDER BY round, id",
        )?;
        let rows = stmt
            .query_map(params![case_id], |r| {
                Ok(MaterialRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    source: r.get(2)?,
                    filename: r.get(3)?,
                    media_type: r.get(4)?,
                    size: r.get(5)?,
                    sm3: r.get(6)?,
                    ecert_ref: r.get(7)?,
                    round: r.get(8)?,
                    added_at: r.get(9)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The bytes and media type of one material of one case.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn material_content(
        &self,
        case_id: i64,
        material_id: i64,
    ) -> Result<Option<(String, String, Vec<u8>)>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT filename, media_type, content FROM case_material \
                 WHERE case_id = ?1 AND id = ?2 AND content IS NOT NULL",
                params![case_id, material_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
    }

    /// Correction notices of a case, oldest first.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn corrections(&self, case_id: i64) -> Result<Vec<CorrectionRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, items_json, note, requested_at, resolved_at FROM case_correction \
             WHERE case_id = ?1 ORDER BY id",
        )?;
        let rows = stmt
            .query_map(params![case_id], |r| {
                Ok(CorrectionRow {
                    id: r.get(0)?,
                    items_json: r.get(1)?,
                    note: r.get(2)?,
                    requested_at: r.get(3)?,
                    resolved_at: r.get(4)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Events after `cursor`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn events_after(&self, cursor: i64, limit: u32) -> Result<Vec<EventRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, case_number, event, status, at, payload FROM case_event \
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![cursor, limit], |r| {
                Ok(EventRow {
                    id: r.get(0)?,
                    case_number: r.get(1)?,
                    event: r.get(2)?,
                    status: r.get(3)?,
                    at: r.get(4)?,
                    payload: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// The position a transition leaves a case in.
#[derive(Debug, Clone)]
pub struct Position<'a> {
    /// New status.
    pub status: CaseStatus,
    /// New step.
    pub step: usize,
    /// New resume-to status.
    pub resume_to: Option<CaseStatus>,
    /// Who acts next (department, role), if staff.
    pub next: Option<(&'a str, &'a str)>,
    /// Promised conclusion date as now computed.
    pub deadline: Option<&'a str>,
}

impl WriteTx<'_> {
    /// Moves a case to a new position.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_position(&self, case_id: i64, p: &Position<'_>) -> Result<(), StoreError> {
        let step = i64::try_from(p.step).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn().execute(
            "UPDATE case_record SET status = ?2, step = ?3, resume_to = ?4, \
                 current_department = ?5, current_role = ?6, deadline = ?7 WHERE id = ?1",
            params![
                case_id,
                p.status.as_str(),
                step,
                p.resume_to.map(CaseStatus::as_str),
                p.next.map(|n| n.0),
                p.next.map(|n| n.1),
                p.deadline
            ],
        )?;
        Ok(())
    }

    /// Sets the engine columns of a freshly inserted case.
    ///
    /// # Errors
    /// When SQLite fails.
    #[allow(clippy::too_many_arguments)]
    pub fn set_case_engine(
        &self,
        case_id: i64,
        workflow_json: &str,
        parent: Option<(i64, usize)>,
        account_id: Option<i64>,
        limit_days: u32,
        legal_days: u32,
        query_code: &str,
    ) -> Result<(), StoreError> {
        let (parent_id, co_index) = match parent {
            Some((p, i)) => (
                Some(p),
                Some(i64::try_from(i).map_err(|e| StoreError::Corrupt(e.to_string()))?),
            ),
            None => (None, None),
        };
        self.conn().execute(
            "UPDATE case_record SET workflow_json = ?2, parent_id = ?3, co_index = ?4, \
                 account_id = ?5, limit_days = ?6, legal_days = ?7, query_code = ?8 \
             WHERE id = ?1",
            params![
                case_id,
                workflow_json,
                parent_id,
                co_index,
                account_id,
                limit_days,
                legal_days,
                query_code
            ],
        )?;
        Ok(())
    }

    /// Records who applies for a legal entity or through an agent.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_case_parties(
        &self,
        case_id: i64,
        applicant_kind: &str,
        entity: Option<(&str, &str)>,
        agent: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_record SET applicant_kind = ?2, entity_name = ?3, entity_uscc = ?4, \
                 agent_name = ?5, agent_id_number = ?6 WHERE id = ?1",
            params![
                case_id,
                applicant_kind,
                entity.map(|e| e.0),
                entity.map(|e| e.1),
                agent.map(|a| a.0),
                agent.map(|a| a.1)
            ],
        )?;
        Ok(())
    }

    /// Marks the day the clock started.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_accepted_on(&self, case_id: i64, day: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_record SET accepted_on = ?2 WHERE id = ?1",
            params![case_id, day],
        )?;
        Ok(())
    }

    /// Marks the conclusion time.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_concluded_at(&self, case_id: i64, at: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_record SET concluded_at = ?2 WHERE id = ?1",
            params![case_id, at],
        )?;
        Ok(())
    }

    /// Stops the deadline clock from `day`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn open_pause(&self, case_id: i64, day: &str, reason: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO case_pause (case_id, from_day, reason) VALUES (?1, ?2, ?3)",
            params![case_id, day, reason],
        )?;
        Ok(())
    }

    /// Restarts the deadline clock on `day`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn close_pause(&self, case_id: i64, day: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_pause SET to_day = ?2 WHERE case_id = ?1 AND to_day IS NULL",
            params![case_id, day],
        )?;
        Ok(())
    }

    /// Records the step just taken, with the acting staff member and action.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn tag_last_step(
        &self,
        case_id: i64,
        staff_id: Option<i64>,
        action: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_step SET actor_staff_id = ?2, action = ?3 \
             WHERE case_id = ?1 AND seq = (SELECT MAX(seq) FROM case_step WHERE case_id = ?1)",
            params![case_id, staff_id, action],
        )?;
        Ok(())
    }

    /// Stores a material; returns its id.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_material(&self, case_id: i64, m: &NewMaterial<'_>) -> Result<i64, StoreError> {
        let size = m.content.map_or(0, <[u8]>::len);
        let size = i64::try_from(size).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn().execute(
            "INSERT INTO case_material (case_id, name, source, filename, media_type, size, sm3, \
                 content, ecert_ref, round, added_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                case_id,
                m.name,
                m.source,
                m.filename,
                m.media_type,
                size,
                m.sm3,
                m.content,
                m.ecert_ref,
                m.round,
                m.at
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Files a correction notice.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_correction(
        &self,
        case_id: i64,
        items_json: &str,
        note: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO case_correction (case_id, items_json, note, requested_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![case_id, items_json, note, at],
        )?;
        Ok(())
    }

    /// Marks the open correction notice as supplied.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn resolve_correction(&self, case_id: i64, at: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_correction SET resolved_at = ?2 WHERE case_id = ?1 AND resolved_at IS NULL",
            params![case_id, at],
        )?;
        Ok(())
    }

    /// Appends an event to the outbound feed.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_event(
        &self,
        case_number: &str,
        event: &str,
        status: CaseStatus,
        at: &str,
        payload: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO case_event (case_number, event, status, at, payload) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![case_number, event, status.as_str(), at, payload],
        )?;
        Ok(())
    }

    /// The number of the current round of materials (corrections so far).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn correction_round(&self, case_id: i64) -> Result<i64, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM case_correction WHERE case_id = ?1",
            params![case_id],
            |r| r.get(0),
        )?)
    }
}
