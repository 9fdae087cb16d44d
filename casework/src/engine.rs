//! The case state machine (办件状态机).
//!
//! [`apply`] takes a workflow, the case's current state, the tally of its
//! parallel sub-cases, who acts and what they do, and either returns the
//! new state with a [`Transition`] to record, or a [`Refusal`]. It has no
//! side effects: the caller stores the new state, the step record and the
//! opinion, starts sub-cases and moves the deadline clock as the transition
//! says. [`allowed`] lists exactly the actions `apply` would accept, for
//! showing buttons.
//!
//! # Rules
//!
//! Step 0 of every workflow is acceptance (受理); the last step is the
//! decision (决定). "Step role/department" means the step's
//! [`StepDef::role`] and [`step_department`] (the step's own department or,
//! when it names none, the case owner's, [`CaseState::department`]).
//!
//! | action | who | from | to | step | clock |
//! | --- | --- | --- | --- | --- | --- |
//! | `StartPreReview` 预审 | step 0 role/dept | Submitted, Resubmitted | PreReview | 0 | – |
//! | `Accept` 受理 | step 0 role/dept | Submitted, PreReview, Resubmitted | Accepted | 1 (0 if one step) | Start |
//! | `NotAccept` 不予受理 | step 0 role/dept | Submitted, PreReview, Resubmitted | NotAccepted | 0 | – |
//! | `RequestCorrection` 补正 | step 0 role/dept | Submitted, PreReview, Resubmitted | CorrectionRequested (resume to Resubmitted) | 0 | – |
//! | `RequestCorrection` 补正 | current step role/dept | Accepted, InReview | CorrectionRequested (resume to InReview) | same | Stop |
//! | `Resubmit` 提交补正 | applicant | CorrectionRequested | its resume-to status | same | Restart if resuming review |
//! | `Pass` 通过 | current step role/dept, not the last step | Accepted, InReview, Returned | InReview | +1 | – |
//! | `Return` 退回 | current step role/dept, step ≥ 2 | Accepted, InReview | Returned | −1 | – |
//! | `Suspend` 特别程序 | current step role/dept, or any Supervisor | Accepted, InReview, Returned | Suspended (resume to the status before) | same | Stop |
//! | `Resume` 恢复 | current step role/dept, or any Supervisor | Suspended | its resume-to status | same | Restart |
//! | `Approve` 准予 | last step role/dept, step = last | Accepted, InReview, Returned | Approved | same | Finish |
//! | `Deny` 不予许可 | last step role/dept, step = last | Accepted, InReview, Returned | Denied | same | Finish |
//! | `Withdraw` 撤回 | applicant | any non-terminal | Withdrawn | same | Finish if started |
//! | `Void` 作废 | Supervisor of any department | any non-terminal | Voided | same | Finish if started |
//!
//! - A returned case (退回) goes back to the previous review step, whose
//!   role then passes it again (`Pass` from Returned).
//! - Parallel workflows ([`FlowKind::Parallel`]): accepting sets
//!   [`Transition::spawn_subcases`]; `Approve` needs every sub-case
//!   concluded and none denied, `Deny` needs every sub-case concluded
//!   ([`Refusal::SubcasesOpen`] otherwise).
//! - Staff act only on a step whose department equals theirs
//!   ([`Refusal::WrongDepartment`]) and whose role they hold
//!   ([`Refusal::WrongRole`]). A Supervisor has no special power on steps
//!   beyond suspending, resuming and voiding, which it may do in any
//!   department.
//! - Accepting makes the accepting department the case owner
//!   ([`CaseState::department`]).
//! - Terminal states (NotAccepted, Approved, Denied, Voided, Withdrawn)
//!   refuse everything ([`Refusal::Terminal`]).
//! - [`Actor::System`] may do nothing yet; it is reserved for timed jobs.
//! - [`Transition::needs_opinion`] is true for NotAccept,
//!   RequestCorrection, Return, Suspend, Approve, Deny and Void: the caller
//!   must record the handler's opinion (审核意见) with the step.
//!
//! Checks run in this order, so the first failing one is reported:
//! terminal state, the step exists ([`Refusal::UnknownStep`]; Withdraw and
//! Void need no step, so a broken case can still be closed), the status
//! (and step position) fits the action ([`Refusal::WrongState`]), the kind
//! of actor ([`Refusal::NotApplicant`], [`Refusal::WrongRole`]), the
//! department, the role, the sub-cases.
//!
//! # Sub-cases of parallel approval
//!
//! Each co-department works a sub-case with the two-step workflow of
//! [`subcase_workflow`] (审查, 决定), starting at Accepted on step 0
//! ([`subcase_initial_state`]); the same rules apply to it.

use std::fmt;

use proto::{CaseStatus, CoDepartment, FlowKind, Role, StepDef, WorkflowDef};

/// Who acts on a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// The applicant (at a kiosk, on the web, or through a window clerk on
    /// their behalf).
    Applicant,
    /// A staff member with their roles and department.
    Staff {
        /// The staff member's roles.
        roles: &'a [Role],
        /// The staff member's department.
        department: &'a str,
    },
    /// The system itself (timed jobs); reserved, may do nothing yet.
    System,
}

impl Actor<'_> {
    fn is_supervisor(self) -> bool {
        matches!(self, Actor::Staff { roles, .. } if roles.contains(&Role::Supervisor))
    }
}

/// What an actor does to a case (办理操作).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// 开始预审: a window clerk starts checking a submission.
    StartPreReview,
    /// 受理.
    Accept,
    /// 不予受理.
    NotAccept,
    /// 一次性告知补正.
    RequestCorrection,
    /// 补正提交: the applicant supplies what was missing.
    Resubmit,
    /// 通过, to the next step.
    Pass,
    /// 退回, to the previous review step.
    Return,
    /// 启动特别程序 (the clock stops).
    Suspend,
    /// 结束特别程序 (the clock runs again).
    Resume,
    /// 准予 (conclusion).
    Approve,
    /// 不予许可 (conclusion).
    Deny,
    /// 申请人撤回.
    Withdraw,
    /// 作废.
    Void,
}

impl Action {
    /// Every action.
    pub const ALL: [Self; 13] = [
        Self::StartPreReview,
        Self::Accept,
        Self::NotAccept,
        Self::RequestCorrection,
        Self::Resubmit,
        Self::Pass,
        Self::Return,
        Self::Suspend,
        Self::Resume,
        Self::Approve,
        Self::Deny,
        Self::Withdraw,
        Self::Void,
    ];

    /// The machine code, e.g. `request_correction`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::StartPreReview => "start_pre_review",
            Self::Accept => "accept",
            Self::NotAccept => "not_accept",
            Self::RequestCorrection => "request_correction",
            Self::Resubmit => "resubmit",
            Self::Pass => "pass",
            Self::Return => "return",
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Approve => "approve",
            Self::Deny => "deny",
            Self::Withdraw => "withdraw",
            Self::Void => "void",
        }
    }

    /// Parses a machine code; `None` for an unknown one.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == code)
    }

    /// The action's name in Chinese, as on a button.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Self::StartPreReview => "开始预审",
            Self::Accept => "受理",
            Self::NotAccept => "不予受理",
            Self::RequestCorrection => "补正告知",
            Self::Resubmit => "提交补正材料",
            Self::Pass => "通过",
            Self::Return => "退回",
            Self::Suspend => "启动特别程序",
            Self::Resume => "结束特别程序",
            Self::Approve => "准予许可",
            Self::Deny => "不予许可",
            Self::Withdraw => "撤回申请",
            Self::Void => "作废",
        }
    }

    /// The action's name in English.
    #[must_use]
    pub const fn en(self) -> &'static str {
        match self {
            Self::StartPreReview => "Start pre-review",
            Self::Accept => "Accept",
            Self::NotAccept => "Do not accept",
            Self::RequestCorrection => "Request correction",
            Self::Resubmit => "Submit corrections",
            Self::Pass => "Pass",
            Self::Return => "Return",
            Self::Suspend => "Start special procedure",
            Self::Resume => "End special procedure",
            Self::Approve => "Approve",
            Self::Deny => "Deny",
            Self::Withdraw => "Withdraw",
            Self::Void => "Void",
        }
    }

    /// Whether the handler must give an opinion (审核意见) with this action.
    #[must_use]
    pub const fn needs_opinion(self) -> bool {
        matches!(
            self,
            Self::NotAccept
                | Self::RequestCorrection
                | Self::Return
                | Self::Suspend
                | Self::Approve
                | Self::Deny
                | Self::Void
        )
    }
}

/// Where a case stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    /// The status.
    pub status: CaseStatus,
    /// Index of the current step in the workflow (0 = acceptance).
    pub step: usize,
    /// Where `Resubmit` (from CorrectionRequested) or `Resume` (from
    /// Suspended) goes; `None` otherwise.
    pub resume_to: Option<CaseStatus>,
    /// The department that accepted the case (case owner); before
    /// acceptance, the department the case was submitted to.
    pub department: String,
}

impl CaseState {
    /// A freshly submitted case for `department`: Submitted at step 0.
    #[must_use]
    pub fn submitted(department: &str) -> Self {
        Self {
            status: CaseStatus::Submitted,
            step: 0,
            resume_to: None,
            department: department.to_owned(),
        }
    }

    /// Whether the case is closed for good.
    #[must_use]
    pub fn is_terminal(&self) -> bool {
        is_terminal(self.status)
    }

    /// Whether the case has been accepted, i.e. its time limit has started.
    #[must_use]
    pub fn clock_started(&self) -> bool {
        match self.status {
            CaseStatus::Submitted | CaseStatus::PreReview | CaseStatus::Resubmitted => false,
            CaseStatus::CorrectionRequested => self.resume_to == Some(CaseStatus::InReview),
            _ => true,
        }
    }

    /// Whether the time limit is counting now (accepted, not stopped, not
    /// concluded).
    #[must_use]
    pub fn clock_running(&self) -> bool {
        matches!(
            self.status,
            CaseStatus::Accepted | CaseStatus::InReview | CaseStatus::Returned
        )
    }
}

/// How the parallel sub-cases of a case stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubcaseTally {
    /// Sub-cases not yet concluded.
    pub open: usize,
    /// Sub-cases concluded with approval.
    pub approved: usize,
    /// Sub-cases concluded with denial.
    pub denied: usize,
}

/// What a transition does to the case's deadline clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEffect {
    /// Nothing.
    None,
    /// The case was accepted: the time limit starts.
    Start,
    /// 补正 during review or a special procedure: the clock stops.
    Stop,
    /// Corrections supplied or the special procedure ended: the clock runs again.
    Restart,
    /// Concluded, withdrawn or voided after acceptance: the clock ends.
    Finish,
}

/// One accepted action, to record as a step of the case (办理环节记录).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// The action taken.
    pub action: Action,
    /// Status before.
    pub from: CaseStatus,
    /// Status after.
    pub to: CaseStatus,
    /// Step index before.
    pub step_before: usize,
    /// Step index after.
    pub step_after: usize,
    /// Name of the step acted on, from the workflow, e.g. 受理.
    pub step_name: String,
    /// What happens to the deadline clock.
    pub clock: ClockEffect,
    /// True when a parallel case is accepted: the caller opens one sub-case
    /// per co-department.
    pub spawn_subcases: bool,
    /// True when the handler must record an opinion.
    pub needs_opinion: bool,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// The case is closed (not accepted, concluded, voided or withdrawn).
    Terminal,
    /// The case's status (or step) does not allow the action.
    WrongState,
    /// The actor does not hold the step's role.
    WrongRole,
    /// The step belongs to another department.
    WrongDepartment,
    /// Parallel sub-cases are open (or, for approval, one was denied).
    SubcasesOpen,
    /// Only the applicant may do this.
    NotApplicant,
    /// The workflow has no such step.
    UnknownStep,
}

impl Refusal {
    /// The reason in Chinese.
    #[must_use]
    pub const fn zh(&self) -> &'static str {
        match self {
            Self::Terminal => "该办件已办结或已终止，不能再办理",
            Self::WrongState => "办件当前状态不允许此操作",
            Self::WrongRole => "您的岗位角色不能办理此环节",
            Self::WrongDepartment => "此环节由其他部门办理",
            Self::SubcasesOpen => "并联审批的分办件尚未全部办结（准予许可须全部准予）",
            Self::NotApplicant => "只有申请人本人可以进行此操作",
            Self::UnknownStep => "办理流程中没有该环节",
        }
    }

    /// The reason in English.
    #[must_use]
    pub const fn en(&self) -> &'static str {
        match self {
            Self::Terminal => "The case is closed; nothing more can be done on it",
            Self::WrongState => "The case's current status does not allow this action",
            Self::WrongRole => "Your role does not act on this step",
            Self::WrongDepartment => "This step belongs to another department",
            Self::SubcasesOpen => {
                "Sub-cases of the parallel approval are not all concluded (approval needs all approved)"
            }
            Self::NotApplicant => "Only the applicant can do this",
            Self::UnknownStep => "The workflow has no such step",
        }
    }

    /// The machine code, e.g. `CASE_WRONG_STATE`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Terminal => "CASE_TERMINAL",
            Self::WrongState => "CASE_WRONG_STATE",
            Self::WrongRole => "CASE_WRONG_ROLE",
            Self::WrongDepartment => "CASE_WRONG_DEPARTMENT",
            Self::SubcasesOpen => "CASE_SUBCASES_OPEN",
            Self::NotApplicant => "CASE_NOT_APPLICANT",
            Self::UnknownStep => "CASE_UNKNOWN_STEP",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {}", self.zh(), self.en())
    }
}

impl std::error::Error for Refusal {}

/// Whether a status is terminal (NotAccepted, Approved, Denied, Voided, Withdrawn).
#[must_use]
pub const fn is_terminal(status: CaseStatus) -> bool {
    matches!(
        status,
        CaseStatus::NotAccepted
            | CaseStatus::Approved
            | CaseStatus::Denied
            | CaseStatus::Voided
            | CaseStatus::Withdrawn
    )
}

/// The department acting on `step`: the step's own department or, when it
/// names none, the case owner's. An unknown step gives the owner's.
#[must_use]
pub fn step_department<'a>(wf: &'a WorkflowDef, state: &'a CaseState, step: usize) -> &'a str {
    wf.steps
        .get(step)
        .and_then(|s| s.department.as_deref())
        .unwrap_or(&state.department)
}

/// Applies `action` by `actor` to a case; the new state and the transition
/// to record, or why not. See the module doc for the rules.
///
/// # Errors
///
/// A [`Refusal`] naming the first rule the action breaks.
pub fn apply(
    wf: &WorkflowDef,
    state: &CaseState,
    subcases: SubcaseTally,
    actor: Actor<'_>,
    action: Action,
) -> Result<(CaseState, Transition), Refusal> {
    if state.is_terminal() {
        return Err(Refusal::Terminal);
    }
    let ctx = Ctx { wf, state, actor };
    let out = match action {
        Action::StartPreReview => ctx.before_acceptance(CaseStatus::PreReview, &PRE_REVIEW_FROM),
        Action::Accept => ctx.accept(),
        Action::NotAccept => ctx.before_acceptance(CaseStatus::NotAccepted, &ACCEPT_FROM),
        Action::RequestCorrection => ctx.request_correction(),
        Action::Resubmit => ctx.resubmit(),
        Action::Pass => ctx.pass(),
        Action::Return => ctx.send_back(),
        Action::Suspend => ctx.suspend(),
        Action::Resume => ctx.resume(),
        Action::Approve => ctx.conclude(CaseStatus::Approved, subcases),
        Action::Deny => ctx.conclude(CaseStatus::Denied, subcases),
        Action::Withdraw => ctx.withdraw(),
        Action::Void => ctx.void(),
    }?;
    Ok(out.finish(wf, state, action))
}

/// Exactly the actions [`apply`] would accept from `actor` now, in
/// [`Action::ALL`] order.
#[must_use]
pub fn allowed(
    wf: &WorkflowDef,
    state: &CaseState,
    subcases: SubcaseTally,
    actor: Actor<'_>,
) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| apply(wf, state, subcases, actor, *a).is_ok())
        .collect()
}

/// The workflow of a co-department's sub-case in a parallel approval:
/// step 0 审查 (reviewer), step 1 决定 (approver), both in
/// `co.department`. The sub-case starts accepted, so there is no
/// acceptance step. Of `co.days`, the decision gets 1 day when there are at
/// least 2, the review the rest.
#[must_use]
pub fn subcase_workflow(co: &CoDepartment) -> WorkflowDef {
    let decide_days = u32::from(co.days >= 2);
    let step = |key: &str, name: &str, role, days| StepDef {
        key: key.to_owned(),
        name: name.to_owned(),
        role,
        department: Some(co.department.clone()),
        days,
    };
    WorkflowDef {
        kind: FlowKind::General,
        steps: vec![
            step("review", "审查", Role::Reviewer, co.days - decide_days),
            step("decide", "决定", Role::Approver, decide_days),
        ],
        co_departments: Vec::new(),
    }
}

/// The state a sub-case starts in: Accepted at step 0 (审查), owned by the
/// co-department. Its clock starts when it is created.
#[must_use]
pub fn subcase_initial_state(co: &CoDepartment) -> CaseState {
    CaseState {
        status: CaseStatus::Accepted,
        step: 0,
        resume_to: None,
        department: co.department.clone(),
    }
}

const PRE_REVIEW_FROM: [CaseStatus; 2] = [CaseStatus::Submitted, CaseStatus::Resubmitted];
const ACCEPT_FROM: [CaseStatus; 3] = [
    CaseStatus::Submitted,
    CaseStatus::PreReview,
    CaseStatus::Resubmitted,
];
const REVIEW_STATES: [CaseStatus; 3] = [
    CaseStatus::Accepted,
    CaseStatus::InReview,
    CaseStatus::Returned,
];

/// What an action does, before it is turned into a state and a transition.
struct Outcome {
    to: CaseStatus,
    step: usize,
    resume_to: Option<CaseStatus>,
    owner: Option<String>,
    clock: ClockEffect,
    spawn_subcases: bool,
}

impl Outcome {
    fn to(to: CaseStatus, step: usize) -> Self {
        Self {
            to,
            step,
            resume_to: None,
            owner: None,
            clock: ClockEffect::None,
            spawn_subcases: false,
        }
    }

    fn clock(self, clock: ClockEffect) -> Self {
        Self { clock, ..self }
    }

    fn resume_to(self, resume_to: CaseStatus) -> Self {
        Self {
            resume_to: Some(resume_to),
            ..self
        }
    }

    fn finish(
        self,
        wf: &WorkflowDef,
        state: &CaseState,
        action: Action,
    ) -> (CaseState, Transition) {
        let step_name = wf
            .steps
            .get(state.step)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let next = CaseState {
            status: self.to,
            step: self.step,
            resume_to: self.resume_to,
            department: self.owner.unwrap_or_else(|| state.department.clone()),
        };
        let transition = Transition {
            action,
            from: state.status,
            to: self.to,
            step_before: state.step,
            step_after: self.step,
            step_name,
            clock: self.clock,
            spawn_subcases: self.spawn_subcases,
            needs_opinion: action.needs_opinion(),
        };
        (next, transition)
    }
}

/// The inputs every rule reads.
struct Ctx<'w, 's, 'a> {
    wf: &'w WorkflowDef,
    state: &'s CaseState,
    actor: Actor<'a>,
}

impl Ctx<'_, '_, '_> {
    fn step(&self, index: usize) -> Result<&StepDef, Refusal> {
        self.wf.steps.get(index).ok_or(Refusal::UnknownStep)
    }

    fn last_step(&self) -> Result<usize, Refusal> {
        self.wf
            .steps
            .len()
            .checked_sub(1)
            .ok_or(Refusal::UnknownStep)
    }

    fn require_status(&self, allowed: &[CaseStatus]) -> Result<(), Refusal> {
        if allowed.contains(&self.state.status) {
            Ok(())
        } else {
            Err(Refusal::WrongState)
        }
    }

    /// The actor is staff of the step's department holding its role.
    fn require_step_actor(&self, index: usize) -> Result<(), Refusal> {
        let step = self.step(index)?;
        let Actor::Staff { roles, department } = self.actor else {
            return Err(Refusal::WrongRole);
        };
        if department != step_department(self.wf, self.state, index) {
            return Err(Refusal::WrongDepartment);
        }
        if roles.contains(&step.role) {
            Ok(())
        } else {
            Err(Refusal::WrongRole)
        }
    }

    /// The current step's actor, or a Supervisor of any department.
    fn require_step_actor_or_supervisor(&self) -> Result<(), Refusal> {
        match self.require_step_actor(self.state.step) {
            Err(Refusal::WrongRole | Refusal::WrongDepartment) if self.actor.is_supervisor() => {
                Ok(())
            }
            other => other,
        }
    }

    fn require_applicant(&self) -> Result<(), Refusal> {
        if self.actor == Actor::Applicant {
            Ok(())
        } else {
            Err(Refusal::NotApplicant)
        }
    }

    /// StartPreReview and NotAccept: step 0, before acceptance.
    fn before_acceptance(&self, to: CaseStatus, from: &[CaseStatus]) -> Result<Outcome, Refusal> {
        self.step(0)?;
        self.require_status(from)?;
        self.require_step_actor(0)?;
        Ok(Outcome::to(to, 0))
    }

    fn accept(&self) -> Result<Outcome, Refusal> {
        let mut out = self.before_acceptance(CaseStatus::Accepted, &ACCEPT_FROM)?;
        out.step = usize::from(self.wf.steps.len() > 1);
        out.clock = ClockEffect::Start;
        out.spawn_subcases = self.wf.kind == FlowKind::Parallel;
        out.owner = Some(step_department(self.wf, self.state, 0).to_owned());
        Ok(out)
    }

    fn request_correction(&self) -> Result<Outcome, Refusal> {
        if ACCEPT_FROM.contains(&self.state.status) {
            let out = self.before_acceptance(CaseStatus::CorrectionRequested, &ACCEPT_FROM)?;
            return Ok(out.resume_to(CaseStatus::Resubmitted));
        }
        self.step(self.state.step)?;
        self.require_status(&[CaseStatus::Accepted, CaseStatus::InReview])?;
        self.require_step_actor(self.state.step)?;
        Ok(
            Outcome::to(CaseStatus::CorrectionRequested, self.state.step)
                .resume_to(CaseStatus::InReview)
                .clock(ClockEffect::Stop),
        )
    }

    fn resubmit(&self) -> Result<Outcome, Refusal> {
        self.step(self.state.step)?;
        self.require_status(&[CaseStatus::CorrectionRequested])?;
        let (to, clock) = match self.state.resume_to {
            Some(CaseStatus::Resubmitted) => (CaseStatus::Resubmitted, ClockEffect::None),
            Some(CaseStatus::InReview) => (CaseStatus::InReview, ClockEffect::Restart),
            _ => return Err(Refusal::WrongState),
        };
        self.require_applicant()?;
        Ok(Outcome::to(to, self.state.step).clock(clock))
    }

    fn pass(&self) -> Result<Outcome, Refusal> {
        self.step(self.state.step)?;
        self.require_status(&REVIEW_STATES)?;
        if self.state.step >= self.last_step()? {
            return Err(Refusal::WrongState);
        }
        self.require_step_actor(self.state.step)?;
        Ok(Outcome::to(CaseStatus::InReview, self.state.step + 1))
    }

    fn send_back(&self) -> Result<Outcome, Refusal> {
        self.step(self.state.step)?;
        self.require_status(&[CaseStatus::Accepted, CaseStatus::InReview])?;
        if self.state.step < 2 {
            return Err(Refusal::WrongState);
        }
        self.require_step_actor(self.state.step)?;
        Ok(Outcome::to(CaseStatus::Returned, self.state.step - 1))
    }

    fn suspend(&self) -> Result<Outcome, Refusal> {
        self.step(self.state.step)?;
        self.require_status(&REVIEW_STATES)?;
        self.require_step_actor_or_supervisor()?;
        Ok(Outcome::to(CaseStatus::Suspended, self.state.step)
            .resume_to(self.state.status)
            .clock(ClockEffect::Stop))
    }

    fn resume(&self) -> Result<Outcome, Refusal> {
        self.step(self.state.step)?;
        self.require_status(&[CaseStatus::Suspended])?;
        let to = match self.state.resume_to {
            Some(s) if REVIEW_STATES.contains(&s) => s,
            _ => return Err(Refusal::WrongState),
        };
        self.require_step_actor_or_supervisor()?;
        Ok(Outcome::to(to, self.state.step).clock(ClockEffect::Restart))
    }

    fn conclude(&self, to: CaseStatus, subcases: SubcaseTally) -> Result<Outcome, Refusal> {
        self.step(self.state.step)?;
        self.require_status(&REVIEW_STATES)?;
        if self.state.step != self.last_step()? {
            return Err(Refusal::WrongState);
        }
        self.require_step_actor(self.state.step)?;
        if self.wf.kind == FlowKind::Parallel {
            let blocked = subcases.open > 0 || (to == CaseStatus::Approved && subcases.denied > 0);
            if blocked {
                return Err(Refusal::SubcasesOpen);
            }
        }
        Ok(Outcome::to(to, self.state.step).clock(ClockEffect::Finish))
    }

    /// The clock effect of closing the case early.
    fn end_clock(&self) -> ClockEffect {
        if self.state.clock_started() {
            ClockEffect::Finish
        } else {
            ClockEffect::None
        }
    }

    fn withdraw(&self) -> Result<Outcome, Refusal> {
        self.require_applicant()?;
        Ok(Outcome::to(CaseStatus::Withdrawn, self.state.step).clock(self.end_clock()))
    }

    fn void(&self) -> Result<Outcome, Refusal> {
        if !self.actor.is_supervisor() {
            return Err(Refusal::WrongRole);
        }
        Ok(Outcome::to(CaseStatus::Voided, self.state.step).clock(self.end_clock()))
    }
}

#[cfg(test)]
mod tests;
