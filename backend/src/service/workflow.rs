//! The case engine at work: who may act on a case, the action itself (in
//! one transaction with its step record, clock change, event and audit
//! row), sub-cases of parallel approval, inboxes and the case view.
//!
//! The rules of the state machine live in `casework::engine`; this module
//! loads a case, asks the engine, and stores what it answers.

use casework::calendar::Calendar;
use casework::deadline::{self, DeadlineView, Pause};
use casework::engine::{self, Action, Actor, CaseState, ClockEffect, SubcaseTally};
use chrono::{DateTime, NaiveDate, Utc};
use proto::{CaseStatus, Role, WorkflowDef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::service::auth::{AccountPrincipal, Principal, StaffPrincipal};
use crate::service::privacy::{mask_id, mask_name};
use crate::service::time::{china_date, display_time, iso_date, rfc3339_china};
use crate::store::{
    AuditRecord, CaseCore, InboxQuery, NewCase, NewStep, Position, ReadTx, Store, StoreError,
    WriteTx,
};

/// The working-day calendar: the shipped years plus the holiday table.
///
/// # Errors
/// When SQLite fails.
pub fn calendar(tx: &ReadTx<'_>) -> Result<Calendar, StoreError> {
    // The shipped years are parsed once; the table's days go on top.
    static SHIPPED: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    let mut cal = SHIPPED.get_or_init(Calendar::shipped).clone();
    for (day, is_workday) in tx.holidays()? {
        if let Ok(d) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") {
            if is_workday {
                cal.insert_workday(d);
            } else {
                cal.insert_holiday(d, "节假日");
            }
        }
    }
    Ok(cal)
}

/// An action as a client asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionRequest {
    /// `start_pre_review`, `accept`, `not_accept`, `request_correction`,
    /// `resubmit`, `pass`, `return`, `suspend`, `resume`, `approve`,
    /// `deny`, `withdraw` or `void`.
    pub action: String,
    /// Opinion (审查意见); required for refusals, corrections, returns,
    /// suspensions, decisions and voiding.
    #[serde(default)]
    pub opinion: String,
    /// For `request_correction`: the materials missing (补正材料清单).
    #[serde(default)]
    pub items: Vec<String>,
}

/// The machine name of an action.
#[must_use]
pub const fn action_code(a: Action) -> &'static str {
    match a {
        Action::StartPreReview => "start_pre_review",
        Action::Accept => "accept",
        Action::NotAccept => "not_accept",
        Action::RequestCorrection => "request_correction",
        Action::Resubmit => "resubmit",
        Action::Pass => "pass",
        Action::Return => "return",
        Action::Suspend => "suspend",
        Action::Resume => "resume",
        Action::Approve => "approve",
        Action::Deny => "deny",
        Action::Withdraw => "withdraw",
        Action::Void => "void",
    }
}

/// Every action, for parsing.
pub const ACTIONS: [Action; 13] = [
    Action::StartPreReview,
    Action::Accept,
    Action::NotAccept,
    Action::RequestCorrection,
    Action::Resubmit,
    Action::Pass,
    Action::Return,
    Action::Suspend,
    Action::Resume,
    Action::Approve,
    Action::Deny,
    Action::Withdraw,
    Action::Void,
];

/// The label of an action on a button, Chinese and English.
#[must_use]
pub const fn action_label(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::StartPreReview => ("开始预审", "Start pre-review"),
        Action::Accept => ("受理", "Accept"),
        Action::NotAccept => ("不予受理", "Do not accept"),
        Action::RequestCorrection => ("一次性告知补正", "Request correction"),
        Action::Resubmit => ("提交补正材料", "Submit correction"),
        Action::Pass => ("审查通过，转下一环节", "Pass to next step"),
        Action::Return => ("退回上一环节", "Return to previous step"),
        Action::Suspend => ("启动特别程序", "Start special procedure"),
        Action::Resume => ("结束特别程序", "End special procedure"),
        Action::Approve => ("准予（办结）", "Approve (conclude)"),
        Action::Deny => ("不予许可（办结）", "Deny (conclude)"),
        Action::Withdraw => ("撤回申请", "Withdraw application"),
        Action::Void => ("作废", "Void"),
    }
}

fn parse_action(s: &str) -> Result<Action, ApiError> {
    ACTIONS
        .into_iter()
        .find(|a| action_code(*a) == s)
        .ok_or(ApiError::InvalidField {
            field: "action",
            reason_zh: "未知的办理动作",
            reason_en: "unknown action",
        })
}

fn refused(r: &engine::Refusal) -> ApiError {
    ApiError::CaseRefused {
        code: r.code(),
        zh: r.zh(),
        en: r.en(),
    }
}

pub(crate) fn workflow_of(core: &CaseCore) -> Result<WorkflowDef, StoreError> {
    if core.workflow_json.is_empty() {
        return Ok(WorkflowDef::standard());
    }
    Ok(serde_json::from_str(&core.workflow_json)?)
}

fn state_of(core: &CaseCore) -> CaseState {
    CaseState {
        status: core.status,
        step: core.step,
        resume_to: core.resume_to,
        department: core.department.clone(),
    }
}

fn tally(tx: &ReadTx<'_>, core: &CaseCore) -> Result<SubcaseTally, StoreError> {
    let c = tx.subcase_counts(core.id)?;
    Ok(SubcaseTally {
        open: c.open,
        approved: c.approved,
        denied: c.denied,
    })
}

/// Whether a portal account is the applicant of a case: its own account,
/// the bound identity number, or the legal entity it is an agent of.
fn account_owns(
    tx: &ReadTx<'_>,
    a: &AccountPrincipal,
    core: &CaseCore,
) -> Result<bool, StoreError> {
    if core.parent_id.is_some() {
        return Ok(false);
    }
    if core.account_id == Some(a.id) {
        return Ok(true);
    }
    if a.id_number.as_deref() == Some(core.applicant_id_number.as_str()) {
        return Ok(true);
    }
    if let Some(uscc) = &core.entity_uscc {
        if a.uscc.as_ref() == Some(uscc) {
            return Ok(true);
        }
        for e in tx.entities_of_agent(a.id)? {
            if e.uscc.as_ref() == Some(uscc) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Whether a member of staff may see a case: supervisors see all; others
/// the cases their department owns, acts on now, acted on before, or whose
/// lead case it is a co-department of.
fn staff_sees(tx: &ReadTx<'_>, s: &StaffPrincipal, core: &CaseCore) -> Result<bool, StoreError> {
    if s.has(Role::Supervisor) {
        return Ok(true);
    }
    let case_roles = [Role::WindowClerk, Role::Reviewer, Role::Approver];
    if !s.roles.iter().any(|r| case_roles.contains(r)) {
        return Ok(false);
    }
    if core.department == s.department
        || core.current_department.as_deref() == Some(s.department.as_str())
        || tx.department_touched(core.id, &s.department)?
    {
        return Ok(true);
    }
    let wf = workflow_of(core)?;
    if wf
        .steps
        .iter()
        .any(|st| st.department.as_deref() == Some(s.department.as_str()))
    {
        return Ok(true);
    }
    Ok(wf
        .co_departments
        .iter()
        .any(|c| c.department == s.department))
}

/// Whether `who` may see the case at all.
///
/// # Errors
/// When SQLite fails.
pub fn may_see(tx: &ReadTx<'_>, who: &Principal, core: &CaseCore) -> Result<bool, StoreError> {
    match who {
        Principal::Staff(s) => staff_sees(tx, s, core),
        Principal::Account(a) => account_owns(tx, a, core),
    }
}

fn next_position(wf: &WorkflowDef, state: &CaseState) -> Option<(String, String)> {
    if matches!(state.status, CaseStatus::CorrectionRequested) || is_terminal(state.status) {
        return None;
    }
    let step = wf.steps.get(state.step)?;
    Some((
        engine::step_department(wf, state, state.step).to_owned(),
        step.role.as_str().to_owned(),
    ))
}

/// Whether a status ends the case.
#[must_use]
pub const fn is_terminal(s: CaseStatus) -> bool {
    matches!(
        s,
        CaseStatus::NotAccepted
            | CaseStatus::Approved
            | CaseStatus::Denied
            | CaseStatus::Voided
            | CaseStatus::Withdrawn
    )
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn pauses_of(tx: &ReadTx<'_>, case_id: i64) -> Result<Vec<Pause>, StoreError> {
    Ok(tx
        .pauses(case_id)?
        .into_iter()
        .filter_map(|(from, to)| {
            Some(Pause {
                from: parse_day(&from)?,
                to: to.as_deref().and_then(parse_day),
            })
        })
        .collect())
}

/// The deadline of a case as of `today`.
///
/// # Errors
/// When SQLite fails.
pub fn deadline_view(
    tx: &ReadTx<'_>,
    cal: &Calendar,
    core: &CaseCore,
    today: NaiveDate,
) -> Result<Option<DeadlineView>, StoreError> {
    let (Some(started), Some(limit)) = (
        core.accepted_on.as_deref().and_then(parse_day),
        core.limit_days,
    ) else {
        return Ok(None);
    };
    let pauses = pauses_of(tx, core.id)?;
    let concluded = core
        .concluded_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| china_date(t.with_timezone(&Utc)));
    Ok(Some(deadline::assess(
        cal,
        today,
        started,
        limit,
        &pauses,
        concluded,
        tx.yellow_days(),
    )))
}

fn recompute_deadline(
    tx: &WriteTx<'_>,
    cal: &Calendar,
    core: &CaseCore,
    today: NaiveDate,
) -> Result<Option<String>, StoreError> {
    let started = core.accepted_on.as_deref().and_then(parse_day);
    let limit = core.limit_days.unwrap_or(0);
    Ok(match started {
        Some(start) => {
            deadline::due_date(cal, start, limit, &pauses_of(tx, core.id)?).map(iso_date)
        }
        // Not yet accepted: the date it would be if accepted today.
        None => Some(iso_date(cal.add_working_days(today, limit))),
    })
}

/// What an action did, for the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ActionOutcome {
    /// Case number.
    pub case_number: String,
    /// Status before.
    pub from: CaseStatus,
    /// Status after.
    pub to: CaseStatus,
    /// Status after, in Chinese.
    pub to_zh: String,
    /// Name of the step acted on.
    pub step_name: String,
    /// Promised conclusion date after the action (YYYY-MM-DD), if any.
    pub deadline: Option<String>,
}

struct Acting<'a> {
    actor: Actor<'a>,
    handler: String,
    department: String,
    staff_id: Option<i64>,
    audit_actor: String,
    audit_role: String,
}

fn acting<'a>(
    tx: &ReadTx<'_>,
    who: &'a Principal,
    core: &CaseCore,
) -> Result<Acting<'a>, ApiError> {
    match who {
        Principal::Staff(s) => {
            if !staff_sees(tx, s, core)? {
                return Err(ApiError::NotFound);
            }
            Ok(Acting {
                actor: Actor::Staff {
                    roles: &s.roles,
                    department: &s.department,
                },
                handler: s.display_name.clone(),
                department: s.department.clone(),
                staff_id: Some(s.id),
                audit_actor: format!("staff:{}", s.username),
                audit_role: s.role_codes(),
            })
        }
        Principal::Account(a) => {
            if !account_owns(tx, a, core)? {
                return Err(ApiError::NotFound);
            }
            Ok(Acting {
                actor: Actor::Applicant,
                handler: "申请人".to_owned(),
                department: core.department.clone(),
                staff_id: None,
                audit_actor: format!("account:{}", a.id),
                audit_role: format!("applicant:{}", a.kind),
            })
        }
    }
}

fn event_name(a: Action) -> &'static str {
    match a {
        Action::StartPreReview => "pre_review_started",
        Action::Accept => "accepted",
        Action::NotAccept => "not_accepted",
        Action::RequestCorrection => "correction_requested",
        Action::Resubmit => "corrected",
        Action::Pass => "passed",
        Action::Return => "returned",
        Action::Suspend => "special_procedure_started",
        Action::Resume => "special_procedure_ended",
        Action::Approve | Action::Deny => "concluded",
        Action::Withdraw => "withdrawn",
        Action::Void => "voided",
    }
}

/// Records a feed event for a case.
fn feed(
    tx: &WriteTx<'_>,
    core: &CaseCore,
    event: &str,
    status: CaseStatus,
    step_name: &str,
    at: &str,
) -> Result<(), StoreError> {
    let payload = serde_json::json!({
        "matter_code": core.matter_code,
        "matter_name": core.matter_name,
        "department": core.department,
        "step": step_name,
        "status": status.as_str(),
        "provincial_status": casework::export::provincial_status_code(status),
        "channel": core.channel,
        "applicant": mask_name(&core.applicant_name),
        "applicant_id": mask_id(&core.applicant_id_number),
        "parent": core.parent_id.is_some(),
    });
    tx.add_event(&core.case_number, event, status, at, &payload.to_string())
}

/// Performs an action on a case, checked by the engine, in one transaction
/// with its step record, clock change, feed event and audit row.
///
/// # Errors
/// `NOT_FOUND` (no such case, or one the principal may not see),
/// `INVALID_FIELD` (unknown action, missing opinion or items), a
/// `CASE_*` refusal, or a storage failure (then nothing changed).
pub async fn act(
    store: &Store,
    who: &Principal,
    case_number: &str,
    req: ActionRequest,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, ApiError> {
    let action = parse_action(&req.action)?;
    crate::service::check_text_allow_empty("opinion", &req.opinion, 1000)?;
    if req.items.len() > 50 {
        return Err(ApiError::InvalidField {
            field: "items",
            reason_zh: "补正材料过多",
            reason_en: "too many items",
        });
    }
    for item in &req.items {
        crate::service::check_text("items", item, 1, 100)?;
    }
    let who = who.clone();
    let case_number = case_number.to_owned();
    store
        .write(move |tx| {
            let core = tx.case_core(&case_number)?.ok_or(ApiError::NotFound)?;
            act_in(tx, &who, &core, action, &req, now)
        })
        .await
}

/// [`act`] inside a transaction (also used by the seed and the tests).
///
/// # Errors
/// As [`act`].
pub fn act_in(
    tx: &WriteTx<'_>,
    who: &Principal,
    core: &CaseCore,
    action: Action,
    req: &ActionRequest,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, ApiError> {
    let who_acts = acting(tx, who, core)?;
    act_as(tx, &who_acts, core, action, req, now)
}

/// [`act_in`] for the applicant at a kiosk, who proved who they are with
/// their ID card there (补正 at a kiosk): the step names the kiosk, the
/// audit trail the kiosk as actor with the role `applicant`. The caller
/// has checked the card against the case.
///
/// # Errors
/// As [`act`].
pub fn act_at_kiosk(
    tx: &WriteTx<'_>,
    kiosk: &crate::service::kiosks::KioskIdentity,
    core: &CaseCore,
    action: Action,
    req: &ActionRequest,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, ApiError> {
    let who_acts = Acting {
        actor: Actor::Applicant,
        handler: format!("申请人（自助终端 {}）", kiosk.name),
        department: core.department.clone(),
        staff_id: None,
        audit_actor: kiosk.actor(),
        audit_role: "applicant".to_owned(),
    };
    act_as(tx, &who_acts, core, action, req, now)
}

fn act_as(
    tx: &WriteTx<'_>,
    who_acts: &Acting<'_>,
    core: &CaseCore,
    action: Action,
    req: &ActionRequest,
    now: DateTime<Utc>,
) -> Result<ActionOutcome, ApiError> {
    let wf = workflow_of(core)?;
    let state = state_of(core);
    let subs = tally(tx, core)?;
    let (next, tr) =
        engine::apply(&wf, &state, subs, who_acts.actor, action).map_err(|r| refused(&r))?;
    if tr.needs_opinion && req.opinion.trim().is_empty() {
        return Err(ApiError::InvalidField {
            field: "opinion",
            reason_zh: "请填写办理意见",
            reason_en: "an opinion is required for this action",
        });
    }
    if action == Action::RequestCorrection && req.items.is_empty() {
        return Err(ApiError::InvalidField {
            field: "items",
            reason_zh: "请列出需要补正的材料",
            reason_en: "list the materials to be corrected",
        });
    }
    let at = rfc3339_china(now);
    let today = china_date(now);
    let cal = calendar(tx)?;
    match tr.clock {
        ClockEffect::Start => tx.set_accepted_on(core.id, &iso_date(today))?,
        ClockEffect::Stop => {
            if core.accepted_on.is_some() {
                tx.open_pause(core.id, &iso_date(today), action_code(action))?;
            }
        }
        ClockEffect::Restart => tx.close_pause(core.id, &iso_date(today))?,
        ClockEffect::Finish => tx.set_concluded_at(core.id, &at)?,
        ClockEffect::None => {}
    }
    if matches!(action, Action::NotAccept | Action::Withdraw | Action::Void) {
        tx.set_concluded_at(core.id, &at)?;
    }
    if action == Action::RequestCorrection {
        let items = serde_json::to_string(&req.items).map_err(StoreError::from)?;
        tx.add_correction(core.id, &items, req.opinion.trim(), &at)?;
    }
    if action == Action::Resubmit {
        tx.resolve_correction(core.id, &at)?;
    }
    // Reload for the clock columns just written, then compute the deadline.
    let fresh = tx.case_core_by_id(core.id)?.ok_or(ApiError::NotFound)?;
    let deadline = recompute_deadline(tx, &cal, &fresh, today)?;
    let next_actor = next_position(&wf, &next);
    tx.set_position(
        core.id,
        &Position {
            status: next.status,
            step: next.step,
            resume_to: next.resume_to,
            next: next_actor.as_ref().map(|(d, r)| (d.as_str(), r.as_str())),
            deadline: deadline.as_deref(),
        },
    )?;
    let opinion = if req.opinion.trim().is_empty() {
        action_label(action).0.to_owned()
    } else {
        req.opinion.trim().to_owned()
    };
    tx.add_case_step(
        core.id,
        &NewStep {
            status: next.status,
            step_name: &tr.step_name,
            handler: &who_acts.handler,
            department: &who_acts.department,
            opinion: &opinion,
            at: &at,
        },
    )?;
    tx.tag_last_step(core.id, who_acts.staff_id, action_code(action))?;
    feed(
        tx,
        core,
        event_name(action),
        next.status,
        &tr.step_name,
        &at,
    )?;
    tx.audit(&AuditRecord {
        at: at.clone(),
        actor: who_acts.audit_actor.clone(),
        role: who_acts.audit_role.clone(),
        action: format!("case.{}", action_code(action)),
        object: format!("case:{}", core.case_number),
        before: serde_json::json!({"status": core.status.as_str(), "step": core.step}).to_string(),
        after: serde_json::json!({"status": next.status.as_str(), "step": next.step, "deadline": deadline}).to_string(),
        detail: format!("step={}", tr.step_name),
    })?;
    if tr.spawn_subcases {
        spawn_subcases(tx, &wf, &fresh, &cal, today, &at)?;
    }
    let lead = match core.parent_id.filter(|_| is_terminal(next.status)) {
        Some(parent_id) => tx.case_core_by_id(parent_id)?,
        None => None,
    };
    if let Some(parent) = lead {
        feed(
            tx,
            &parent,
            "subcase_concluded",
            parent.status,
            &core.department,
            &at,
        )?;
    }
    Ok(ActionOutcome {
        case_number: core.case_number.clone(),
        from: core.status,
        to: next.status,
        to_zh: next.status.zh().to_owned(),
        step_name: tr.step_name,
        deadline,
    })
}

fn spawn_subcases(
    tx: &WriteTx<'_>,
    wf: &WorkflowDef,
    lead: &CaseCore,
    cal: &Calendar,
    today: NaiveDate,
    at: &str,
) -> Result<(), ApiError> {
    for (i, co) in wf.co_departments.iter().enumerate() {
        let sub_wf = engine::subcase_workflow(co);
        let state = engine::subcase_initial_state(co);
        let number = format!("{}-{:02}", lead.case_number, i + 1);
        let applicant = proto::Applicant {
            name: lead.applicant_name.clone(),
            id_type: proto::IdType::ResidentId,
            id_number: lead.applicant_id_number.clone(),
            phone: None,
            address: None,
        };
        let deadline = iso_date(cal.add_working_days(today, co.days));
        let id = tx.insert_case(&NewCase {
            case_number: &number,
            matter_code: &lead.matter_code,
            matter_version: 0,
            matter_name: &format!("{}（{}）", lead.matter_name, co.name),
            department: &co.department,
            applicant: &applicant,
            form_json: &lead.form_json,
            channel: &lead.channel,
            kiosk_id: None,
            idempotency_key: None,
            submission_sm3: None,
            created_reply_json: None,
            status: state.status,
            submitted_at: at,
            deadline: Some(&deadline),
            track_code: None,
        })?;
        let sub_json = serde_json::to_string(&sub_wf).map_err(StoreError::from)?;
        tx.set_case_engine(
            id,
            &sub_json,
            Some((lead.id, i)),
            None,
            co.days,
            co.days,
            "",
        )?;
        tx.set_accepted_on(id, &iso_date(today))?;
        let next = next_position(&sub_wf, &state);
        tx.set_position(
            id,
            &Position {
                status: state.status,
                step: state.step,
                resume_to: None,
                next: next.as_ref().map(|(d, r)| (d.as_str(), r.as_str())),
                deadline: Some(&deadline),
            },
        )?;
        tx.add_case_step(
            id,
            &NewStep {
                status: state.status,
                step_name: "并联分办",
                handler: "系统",
                department: &lead.department,
                opinion: &format!("由牵头部门{}分送{}", lead.department, co.department),
                at,
            },
        )?;
        if let Some(sub) = tx.case_core_by_id(id)? {
            feed(tx, &sub, "subcase_opened", state.status, "并联分办", at)?;
        }
        tx.audit(&AuditRecord {
            at: at.to_owned(),
            actor: "system".to_owned(),
            role: "system".to_owned(),
            action: "case.subcase_opened".to_owned(),
            object: format!("case:{number}"),
            after: serde_json::json!({"department": co.department, "days": co.days}).to_string(),
            detail: format!("lead={}", lead.case_number),
            ..AuditRecord::default()
        })?;
    }
    Ok(())
}

/// One line of an inbox or a case list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseLine {
    /// Case number.
    pub case_number: String,
    /// Matter name.
    pub matter_name: String,
    /// Owning department.
    pub department: String,
    /// Applicant, masked (张*).
    pub applicant: String,
    /// Status code.
    pub status: CaseStatus,
    /// Status in Chinese.
    pub status_zh: String,
    /// Name of the current step.
    pub step_name: String,
    /// Department that acts next.
    pub current_department: Option<String>,
    /// Submitted, `YYYY-MM-DD HH:MM`.
    pub submitted: String,
    /// Promised conclusion date.
    pub deadline: Option<String>,
    /// Working days left (negative: overdue).
    pub remaining_days: Option<i64>,
    /// `normal`, `yellow`, `red`, `stopped`, `done`, or `none` before acceptance.
    pub warning: String,
    /// Channel.
    pub channel: String,
    /// Whether this is a sub-case of a parallel case.
    pub subcase: bool,
}

pub(crate) fn line(
    tx: &ReadTx<'_>,
    cal: &Calendar,
    core: &CaseCore,
    today: NaiveDate,
) -> Result<CaseLine, StoreError> {
    let wf = workflow_of(core)?;
    let view = deadline_view(tx, cal, core, today)?;
    Ok(CaseLine {
        case_number: core.case_number.clone(),
        matter_name: core.matter_name.clone(),
        department: core.department.clone(),
        applicant: core
            .entity_name
            .clone()
            .unwrap_or_else(|| mask_name(&core.applicant_name)),
        status: core.status,
        status_zh: core.status.zh().to_owned(),
        step_name: wf
            .steps
            .get(core.step)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        current_department: core.current_department.clone(),
        submitted: display_time(&core.submitted_at),
        deadline: view
            .as_ref()
            .and_then(|v| v.due.map(iso_date))
            .or_else(|| core.deadline.clone()),
        remaining_days: view.as_ref().and_then(|v| v.remaining_working_days),
        warning: view.map_or("none", |v| v.warning.code()).to_owned(),
        channel: core.channel.clone(),
        subcase: core.parent_id.is_some(),
    })
}

/// The inboxes of the clerk workbench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Inbox {
    /// 待办: the next step is mine.
    Todo,
    /// 已办: I acted; now with someone else.
    Done,
    /// 办结: concluded.
    Concluded,
    /// 补正: waiting for or returning from the applicant's correction.
    Correction,
    /// 全部在办 (supervisors): every open case.
    All,
}

impl Inbox {
    /// Every inbox.
    pub const ALL: [Self; 5] = [
        Self::Todo,
        Self::Done,
        Self::Concluded,
        Self::Correction,
        Self::All,
    ];

    /// Machine code.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::Done => "done",
            Self::Concluded => "concluded",
            Self::Correction => "correction",
            Self::All => "all",
        }
    }

    /// Chinese name.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Self::Todo => "待办",
            Self::Done => "已办",
            Self::Concluded => "办结",
            Self::Correction => "补正",
            Self::All => "全部在办",
        }
    }

    /// Parses a code.
    #[must_use]
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// One inbox of a member of staff, deadline first.
///
/// # Errors
/// `FORBIDDEN` when the staff member has no case role (or asks for `all`
/// without being a supervisor), or a storage failure.
pub async fn inbox(
    store: &Store,
    who: &StaffPrincipal,
    which: Inbox,
    now: DateTime<Utc>,
) -> Result<Vec<CaseLine>, ApiError> {
    let case_roles = [
        Role::WindowClerk,
        Role::Reviewer,
        Role::Approver,
        Role::Supervisor,
    ];
    if !who.roles.iter().any(|r| case_roles.contains(r)) {
        return Err(ApiError::Forbidden);
    }
    if which == Inbox::All && !who.has(Role::Supervisor) {
        return Err(ApiError::Forbidden);
    }
    let who = who.clone();
    let today = china_date(now);
    store
        .read(move |tx| {
            let roles: Vec<String> = who.roles.iter().map(|r| r.as_str().to_owned()).collect();
            let q = match which {
                Inbox::Todo => InboxQuery::Todo {
                    department: &who.department,
                    roles: &roles,
                },
                Inbox::Done => InboxQuery::Done { staff_id: who.id },
                Inbox::Concluded => InboxQuery::Concluded {
                    department: &who.department,
                },
                Inbox::Correction => InboxQuery::Correction {
                    department: &who.department,
                },
                Inbox::All => InboxQuery::AllOpen,
            };
            let cal = calendar(tx)?;
            let cores = tx.inbox(q, 500)?;
            let mut out = Vec::with_capacity(cores.len());
            for c in &cores {
                out.push(line(tx, &cal, c, today)?);
            }
            Ok::<_, ApiError>(out)
        })
        .await
}

/// The cases of a portal account (its own, its bound identity number's, and
/// its legal entities'), newest first.
///
/// # Errors
/// A storage failure.
pub async fn my_cases(
    store: &Store,
    who: &AccountPrincipal,
    now: DateTime<Utc>,
) -> Result<Vec<CaseLine>, ApiError> {
    let who = who.clone();
    let today = china_date(now);
    store
        .read(move |tx| {
            let cal = calendar(tx)?;
            let mut cores = tx.cases_of_account(who.id)?;
            if let Some(id) = &who.id_number {
                for c in tx.cores_by_id_number(id)? {
                    if !cores.iter().any(|k| k.id == c.id) {
                        cores.push(c);
                    }
                }
            }
            cores.sort_by(|a, b| b.submitted_at.cmp(&a.submitted_at).then(b.id.cmp(&a.id)));
            let mut out = Vec::with_capacity(cores.len());
            for c in &cores {
                out.push(line(tx, &cal, c, today)?);
            }
            Ok::<_, ApiError>(out)
        })
        .await
}

/// One step of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TimelineStep {
    /// Step name.
    pub step_name: String,
    /// Status reached.
    pub status: CaseStatus,
    /// Status in Chinese.
    pub status_zh: String,
    /// Who acted (a name for staff; 申请人 for the applicant).
    pub handler: String,
    /// Department.
    pub department: String,
    /// Opinion.
    pub opinion: String,
    /// When, `YYYY-MM-DD HH:MM`.
    pub at: String,
}

/// A material as listed on the case view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaterialLine {
    /// Id (for download).
    pub id: i64,
    /// Material name.
    pub name: String,
    /// `upload`, `capture` or `e_certificate`.
    pub source: String,
    /// File name.
    pub filename: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
    /// 0: application; 1..: corrections.
    pub round: i64,
}

/// An open or past correction notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CorrectionNotice {
    /// Materials asked for.
    pub items: Vec<String>,
    /// The clerk's note.
    pub note: String,
    /// When asked, `YYYY-MM-DD HH:MM`.
    pub requested: String,
    /// Whether the applicant has supplied them.
    pub resolved: bool,
}

/// An action the viewer may take now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AllowedAction {
    /// Machine code for `POST …/actions`.
    pub action: String,
    /// Button label, Chinese.
    pub label_zh: String,
    /// Button label, English.
    pub label_en: String,
    /// Whether an opinion must be given.
    pub needs_opinion: bool,
}

/// A whole case as its viewer may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseView {
    /// Summary line.
    pub line: CaseLine,
    /// Matter code.
    pub matter_code: String,
    /// Applicant's name: whole for the applicant and for staff of a
    /// department on the case; masked otherwise.
    pub applicant_name: String,
    /// Applicant's identity number, masked unless the viewer handles the case.
    pub applicant_id: String,
    /// Legal entity, if any.
    pub entity_name: Option<String>,
    /// Agent who submitted on the applicant's behalf (代办), masked.
    pub agent: Option<String>,
    /// How the applicant (or agent) proved who they are at a kiosk, e.g.
    /// `身份证+指纹核验（比对分 87）`; `None` for other channels.
    pub identity_check: Option<String>,
    /// Form data.
    #[schema(value_type = Object)]
    pub form: serde_json::Value,
    /// Workflow steps by name, and which is current.
    pub steps: Vec<String>,
    /// Index of the current step.
    pub current_step: usize,
    /// History.
    pub timeline: Vec<TimelineStep>,
    /// Materials.
    pub materials: Vec<MaterialLine>,
    /// Correction notices.
    pub corrections: Vec<CorrectionNotice>,
    /// Sub-cases (parallel approval).
    pub subcases: Vec<CaseLine>,
    /// Lead case number of a sub-case.
    pub lead: Option<String>,
    /// What the viewer may do now.
    pub allowed: Vec<AllowedAction>,
    /// Workflow kind: general, parallel, linked.
    pub flow: String,
    /// The legal time limit's date (法定时限), counted like the promised one.
    pub legal_deadline: Option<String>,
    /// The joint fee notice (一次告知缴费): the matter's fee items and, for a
    /// parallel case, each co-department's, with who charges them.
    pub fees: Vec<FeeLine>,
}

/// One line of the joint fee notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FeeLine {
    /// Department that charges it.
    pub department: String,
    /// The item with its amount, e.g. `工本费 ￥20/证`.
    pub item: String,
}

fn handles(who: &Principal, core: &CaseCore, wf: &WorkflowDef) -> bool {
    match who {
        Principal::Account(_) => true,
        Principal::Staff(s) => {
            let case_role = s
                .roles
                .iter()
                .any(|r| matches!(r, Role::WindowClerk | Role::Reviewer | Role::Approver));
            case_role
                && (core.department == s.department
                    || core.current_department.as_deref() == Some(s.department.as_str())
                    || wf
                        .steps
                        .iter()
                        .any(|st| st.department.as_deref() == Some(s.department.as_str())))
        }
    }
}

/// The case view, or `NOT_FOUND` when the viewer may not see it.
///
/// # Errors
/// `NOT_FOUND`, or a storage failure.
pub fn view_in(
    tx: &ReadTx<'_>,
    who: &Principal,
    core: &CaseCore,
    now: DateTime<Utc>,
) -> Result<CaseView, ApiError> {
    if !may_see(tx, who, core)? {
        return Err(ApiError::NotFound);
    }
    let today = china_date(now);
    let cal = calendar(tx)?;
    let wf = workflow_of(core)?;
    let full = handles(who, core, &wf);
    let timeline = tx
        .case_steps(core.id)?
        .into_iter()
        .map(|s| TimelineStep {
            status_zh: s.status.zh().to_owned(),
            step_name: s.step_name,
            status: s.status,
            handler: s.handler,
            department: s.department,
            opinion: s.opinion,
            at: display_time(&s.at),
        })
        .collect();
    let materials = case_materials(tx, core)?
        .into_iter()
        .map(|m| MaterialLine {
            id: m.id,
            name: m.name,
            source: m.source,
            filename: m.filename,
            media_type: m.media_type,
            size: m.size,
            round: m.round,
        })
        .collect();
    let corrections = tx
        .corrections(core.id)?
        .into_iter()
        .map(|c| CorrectionNotice {
            items: serde_json::from_str(&c.items_json).unwrap_or_default(),
            note: c.note,
            requested: display_time(&c.requested_at),
            resolved: c.resolved_at.is_some(),
        })
        .collect();
    let mut subcases = Vec::new();
    for s in tx.subcases(core.id)? {
        subcases.push(line(tx, &cal, &s, today)?);
    }
    let lead = match core.parent_id {
        Some(p) => tx.case_core_by_id(p)?.map(|c| c.case_number),
        None => None,
    };
    let subs = tally(tx, core)?;
    let state = state_of(core);
    let actor = match who {
        Principal::Staff(s) => Actor::Staff {
            roles: &s.roles,
            department: &s.department,
        },
        Principal::Account(_) => Actor::Applicant,
    };
    let allowed = engine::allowed(&wf, &state, subs, actor)
        .into_iter()
        .map(|a| {
            let needs = matches!(
                a,
                Action::NotAccept
                    | Action::RequestCorrection
                    | Action::Return
                    | Action::Suspend
                    | Action::Approve
                    | Action::Deny
                    | Action::Void
            );
            let (zh, en) = action_label(a);
            AllowedAction {
                action: action_code(a).to_owned(),
                label_zh: zh.to_owned(),
                label_en: en.to_owned(),
                needs_opinion: needs,
            }
        })
        .collect();
    let form: serde_json::Value =
        serde_json::from_str(&core.form_json).unwrap_or(serde_json::Value::Null);
    Ok(CaseView {
        line: line(tx, &cal, core, today)?,
        matter_code: core.matter_code.clone(),
        applicant_name: if full {
            core.applicant_name.clone()
        } else {
            mask_name(&core.applicant_name)
        },
        applicant_id: if full && matches!(who, Principal::Account(_)) {
            core.applicant_id_number.clone()
        } else {
            mask_id(&core.applicant_id_number)
        },
        entity_name: core.entity_name.clone(),
        agent: core.agent_name.as_deref().map(mask_name),
        identity_check: tx.identity_check(core.id)?,
        form: if full { form } else { serde_json::Value::Null },
        steps: wf.steps.iter().map(|s| s.name.clone()).collect(),
        current_step: core.step,
        timeline,
        materials,
        corrections,
        subcases,
        lead,
        allowed,
        flow: match wf.kind {
            proto::FlowKind::General => "general",
            proto::FlowKind::Parallel => "parallel",
            proto::FlowKind::Linked => "linked",
        }
        .to_owned(),
        legal_deadline: legal_deadline(tx, &cal, core)?,
        fees: joint_fees(tx, core, &wf)?,
    })
}

/// The materials a case's viewer works with: a case's own; for a sub-case
/// of a parallel case, the lead case's materials that its co-department
/// needs (all of them when the workflow names none).
fn case_materials(
    tx: &ReadTx<'_>,
    core: &CaseCore,
) -> Result<Vec<crate::store::MaterialRow>, StoreError> {
    let Some(parent_id) = core.parent_id else {
        return tx.materials(core.id);
    };
    let Some(lead) = tx.case_core_by_id(parent_id)? else {
        return Ok(Vec::new());
    };
    let needed: Vec<String> = workflow_of(&lead)?
        .co_departments
        .get(core.co_index.unwrap_or(usize::MAX))
        .map(|co| co.materials.clone())
        .unwrap_or_default();
    Ok(tx
        .materials(lead.id)?
        .into_iter()
        .filter(|m| needed.is_empty() || needed.contains(&m.name))
        .collect())
}

fn legal_deadline(
    tx: &ReadTx<'_>,
    cal: &Calendar,
    core: &CaseCore,
) -> Result<Option<String>, StoreError> {
    let (Some(started), Some(limit)) = (
        core.accepted_on.as_deref().and_then(parse_day),
        core.legal_days,
    ) else {
        return Ok(None);
    };
    Ok(deadline::due_date(cal, started, limit, &pauses_of(tx, core.id)?).map(iso_date))
}

fn joint_fees(
    tx: &ReadTx<'_>,
    core: &CaseCore,
    wf: &WorkflowDef,
) -> Result<Vec<FeeLine>, StoreError> {
    let mut out = Vec::new();
    if core.parent_id.is_some() {
        return Ok(out);
    }
    if let Some(m) = tx.matter(&core.matter_code)?.filter(|m| m.fee.charged) {
        for item in m.fee.items {
            out.push(FeeLine {
                department: core.department.clone(),
                item,
            });
        }
    }
    for co in &wf.co_departments {
        for item in &co.fee_items {
            out.push(FeeLine {
                department: co.department.clone(),
                item: item.clone(),
            });
        }
    }
    Ok(out)
}

/// The case view through the store.
///
/// # Errors
/// As [`view_in`].
pub async fn view(
    store: &Store,
    who: &Principal,
    case_number: &str,
    now: DateTime<Utc>,
) -> Result<CaseView, ApiError> {
    if case_number.len() > 40 {
        return Err(ApiError::NotFound);
    }
    let who = who.clone();
    let case_number = case_number.to_owned();
    store
        .read(move |tx| {
            let core = tx.case_core(&case_number)?.ok_or(ApiError::NotFound)?;
            view_in(tx, &who, &core, now)
        })
        .await
}

/// The bytes of one material, for a viewer who may see the case.
///
/// # Errors
/// `NOT_FOUND`, or a storage failure.
pub async fn material(
    store: &Store,
    who: &Principal,
    case_number: &str,
    material_id: i64,
    now: DateTime<Utc>,
) -> Result<(String, String, Vec<u8>), ApiError> {
    let who = who.clone();
    let case_number = case_number.to_owned();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let core = tx.case_core(&case_number)?.ok_or(ApiError::NotFound)?;
            // A sub-case's department reads the lead case's materials.
            let owner = match core.parent_id {
                Some(p) => tx.case_core_by_id(p)?.ok_or(ApiError::NotFound)?,
                None => core.clone(),
            };
            if !may_see(tx, &who, &core)? {
                return Err(ApiError::NotFound);
            }
            let found = tx
                .material_content(owner.id, material_id)?
                .ok_or(ApiError::NotFound)?;
            tx.audit(&AuditRecord {
                at,
                actor: who.actor(),
                role: who.role(),
                action: "case.material_read".to_owned(),
                object: format!("case:{}", core.case_number),
                detail: format!("material={material_id}"),
                ..AuditRecord::default()
            })?;
            Ok(found)
        })
        .await
}

/// A case's progress for a kiosk, found by case number and the last six
/// characters of the applicant's identity number or the receipt's track
/// code (see [`crate::service::track`]). A wrong pair answers `NOT_FOUND`
/// like an unknown number, so the pair cannot be probed; each try is
/// audited.
///
/// # Errors
/// `NOT_FOUND`, `INVALID_FIELD` for malformed input, or a storage failure.
pub async fn kiosk_progress(
    store: &Store,
    kiosk: &crate::service::kiosks::KioskIdentity,
    q: proto::CaseProgressQuery,
    now: DateTime<Utc>,
) -> Result<proto::CaseProgress, ApiError> {
    crate::service::track::kiosk_progress(store, kiosk, q, now).await
}
