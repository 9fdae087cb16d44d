#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;

const OWNER: &str = "区民政局";
const OTHER: &str = "区市场监管局";
const CLERK: &[Role] = &[Role::WindowClerk];
const REVIEWER: &[Role] = &[Role::Reviewer];
const APPROVER: &[Role] = &[Role::Approver];
const SUPERVISOR: &[Role] = &[Role::Supervisor];

fn staff<'a>(roles: &'a [Role], department: &'a str) -> Actor<'a> {
    Actor::Staff { roles, department }
}

fn step(key: &str, name: &str, role: Role, department: Option<&str>) -> StepDef {
    StepDef {
        key: key.to_owned(),
        name: name.to_owned(),
        role,
        department: department.map(str::to_owned),
        days: 2,
    }
}

/// 受理 → 初审 → 复审 → 决定, all in the owner's department.
fn four_steps() -> WorkflowDef {
    WorkflowDef {
        kind: FlowKind::General,
        steps: vec![
            step("accept", "受理", Role::WindowClerk, None),
            step("review", "初审", Role::Reviewer, None),
            step("recheck", "复审", Role::Reviewer, None),
            step("decide", "决定", Role::Approver, None),
        ],
        co_departments: Vec::new(),
    }
}

fn at(status: CaseStatus, step: usize) -> CaseState {
    CaseState {
        status,
        step,
        resume_to: None,
        department: OWNER.to_owned(),
    }
}

fn ok(
    wf: &WorkflowDef,
    s: &CaseState,
    actor: Actor<'_>,
    action: Action,
) -> (CaseState, Transition) {
    apply(wf, s, SubcaseTally::default(), actor, action).unwrap()
}

fn refused(wf: &WorkflowDef, s: &CaseState, actor: Actor<'_>, action: Action) -> Refusal {
    apply(wf, s, SubcaseTally::default(), actor, action).unwrap_err()
}

#[test]
fn window_clerk_pre_reviews_then_accepts_and_the_clock_starts() {
    let wf = WorkflowDef::standard();
    let (s, t) = ok(
        &wf,
        &CaseState::submitted(OWNER),
        staff(CLERK, OWNER),
        Action::StartPreReview,
    );
    assert_eq!(s.status, CaseStatus::PreReview);
    assert_eq!(t.clock, ClockEffect::None);
    let (s, t) = ok(&wf, &s, staff(CLERK, OWNER), Action::Accept);
    assert_eq!((s.status, s.step), (CaseStatus::Accepted, 1));
    assert_eq!(
        (t.from, t.to),
        (CaseStatus::PreReview, CaseStatus::Accepted)
    );
    assert_eq!((t.step_before, t.step_after), (0, 1));
    assert_eq!(t.step_name, "受理");
    assert_eq!(t.clock, ClockEffect::Start);
    assert!(!t.spawn_subcases);
    assert!(!t.needs_opinion);
}

#[test]
fn pre_review_only_from_submitted_or_resubmitted() {
    let wf = WorkflowDef::standard();
    let (s, _) = ok(
        &wf,
        &at(CaseStatus::Resubmitted, 0),
        staff(CLERK, OWNER),
        Action::StartPreReview,
    );
    assert_eq!(s.status, CaseStatus::PreReview);
    assert_eq!(
        refused(
            &wf,
            &at(CaseStatus::PreReview, 0),
            staff(CLERK, OWNER),
            Action::StartPreReview
        ),
        Refusal::WrongState
    );
}

#[test]
fn one_step_workflow_is_accepted_and_decided_at_step_zero() {
    let wf = WorkflowDef {
        kind: FlowKind::General,
        steps: vec![step("accept", "受理", Role::WindowClerk, None)],
        co_departments: Vec::new(),
    };
    let (s, _) = ok(
        &wf,
        &CaseState::submitted(OWNER),
        staff(CLERK, OWNER),
        Action::Accept,
    );
    assert_eq!((s.status, s.step), (CaseStatus::Accepted, 0));
    assert_eq!(
        refused(&wf, &s, staff(CLERK, OWNER), Action::Pass),
        Refusal::WrongState
    );
    let (s, t) = ok(&wf, &s, staff(CLERK, OWNER), Action::Approve);
    assert_eq!(s.status, CaseStatus::Approved);
    assert_eq!(t.clock, ClockEffect::Finish);
}

#[test]
fn not_accepted_is_final_and_needs_an_opinion() {
    let wf = WorkflowDef::standard();
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::PreReview, 0),
        staff(CLERK, OWNER),
        Action::NotAccept,
    );
    assert_eq!(s.status, CaseStatus::NotAccepted);
    assert!(t.needs_opinion);
    assert_eq!(t.clock, ClockEffect::None);
    for action in Action::ALL {
        assert_eq!(
            refused(&wf, &s, Actor::Applicant, action),
            Refusal::Terminal
        );
        assert_eq!(
            refused(&wf, &s, staff(SUPERVISOR, OWNER), action),
            Refusal::Terminal
        );
    }
}

#[test]
fn every_terminal_state_refuses_everything() {
    let wf = WorkflowDef::standard();
    let everyone = [
        Role::WindowClerk,
        Role::Reviewer,
        Role::Approver,
        Role::Supervisor,
    ];
    for status in CaseStatus::ALL.into_iter().filter(|s| is_terminal(*s)) {
        let s = at(status, 2);
        assert!(allowed(&wf, &s, SubcaseTally::default(), staff(&everyone, OWNER)).is_empty());
        assert!(allowed(&wf, &s, SubcaseTally::default(), Actor::Applicant).is_empty());
        assert_eq!(
            refused(&wf, &s, Actor::Applicant, Action::Withdraw),
            Refusal::Terminal
        );
    }
}

#[test]
fn correction_before_acceptance_returns_to_resubmitted_without_touching_the_clock() {
    let wf = WorkflowDef::standard();
    let (s, t) = ok(
        &wf,
        &CaseState::submitted(OWNER),
        staff(CLERK, OWNER),
        Action::RequestCorrection,
    );
    assert_eq!(s.status, CaseStatus::CorrectionRequested);
    assert_eq!(s.resume_to, Some(CaseStatus::Resubmitted));
    assert_eq!(t.clock, ClockEffect::None);
    assert!(t.needs_opinion);
    let (s, t) = ok(&wf, &s, Actor::Applicant, Action::Resubmit);
    assert_eq!((s.status, s.resume_to), (CaseStatus::Resubmitted, None));
    assert_eq!(t.clock, ClockEffect::None);
    let (s, _) = ok(&wf, &s, staff(CLERK, OWNER), Action::Accept);
    assert_eq!(s.status, CaseStatus::Accepted);
}

#[test]
fn correction_during_review_stops_the_clock_and_resubmission_restarts_it() {
    let wf = WorkflowDef::standard();
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::Accepted, 1),
        staff(REVIEWER, OWNER),
        Action::RequestCorrection,
    );
    assert_eq!((s.status, s.step), (CaseStatus::CorrectionRequested, 1));
    assert_eq!(s.resume_to, Some(CaseStatus::InReview));
    assert_eq!(t.clock, ClockEffect::Stop);
    assert_eq!(t.step_name, "审查");
    // The clerk cannot ask for corrections once the case is under review.
    assert_eq!(
        refused(
            &wf,
            &at(CaseStatus::InReview, 1),
            staff(CLERK, OWNER),
            Action::RequestCorrection
        ),
        Refusal::WrongRole
    );
    assert_eq!(
        refused(&wf, &s, staff(REVIEWER, OWNER), Action::Resubmit),
        Refusal::NotApplicant
    );
    let (s, t) = ok(&wf, &s, Actor::Applicant, Action::Resubmit);
    assert_eq!(
        (s.status, s.step, s.resume_to),
        (CaseStatus::InReview, 1, None)
    );
    assert_eq!(t.clock, ClockEffect::Restart);
}

#[test]
fn correction_is_not_requested_from_a_returned_or_suspended_case() {
    let wf = four_steps();
    for status in [CaseStatus::Returned, CaseStatus::Suspended] {
        let r = refused(
            &wf,
            &at(status, 1),
            staff(REVIEWER, OWNER),
            Action::RequestCorrection,
        );
        assert_eq!(r, Refusal::WrongState);
    }
}

#[test]
fn resubmit_only_while_correction_is_requested() {
    let wf = WorkflowDef::standard();
    let r = refused(
        &wf,
        &at(CaseStatus::InReview, 1),
        Actor::Applicant,
        Action::Resubmit,
    );
    assert_eq!(r, Refusal::WrongState);
    // A stored state without a resume target is refused, not guessed.
    let r = refused(
        &wf,
        &at(CaseStatus::CorrectionRequested, 1),
        Actor::Applicant,
        Action::Resubmit,
    );
    assert_eq!(r, Refusal::WrongState);
}

#[test]
fn pass_moves_to_the_next_step_until_the_last() {
    let wf = four_steps();
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::Accepted, 1),
        staff(REVIEWER, OWNER),
        Action::Pass,
    );
    assert_eq!((s.status, s.step), (CaseStatus::InReview, 2));
    assert_eq!(t.step_name, "初审");
    assert!(!t.needs_opinion);
    let (s, t) = ok(&wf, &s, staff(REVIEWER, OWNER), Action::Pass);
    assert_eq!((s.status, s.step), (CaseStatus::InReview, 3));
    assert_eq!(t.step_name, "复审");
    assert_eq!(
        refused(&wf, &s, staff(APPROVER, OWNER), Action::Pass),
        Refusal::WrongState
    );
}

#[test]
fn return_goes_back_one_review_step_whose_role_passes_again() {
    let wf = four_steps();
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::InReview, 3),
        staff(APPROVER, OWNER),
        Action::Return,
    );
    assert_eq!((s.status, s.step), (CaseStatus::Returned, 2));
    assert!(t.needs_opinion);
    assert_eq!(t.step_name, "决定");
    // The approver cannot act on the returned step.
    assert_eq!(
        refused(&wf, &s, staff(APPROVER, OWNER), Action::Pass),
        Refusal::WrongRole
    );
    let (s, _) = ok(&wf, &s, staff(REVIEWER, OWNER), Action::Pass);
    assert_eq!((s.status, s.step), (CaseStatus::InReview, 3));
}

#[test]
fn return_is_refused_on_the_first_review_step_and_from_returned() {
    let wf = four_steps();
    let r = refused(
        &wf,
        &at(CaseStatus::InReview, 1),
        staff(REVIEWER, OWNER),
        Action::Return,
    );
    assert_eq!(r, Refusal::WrongState);
    let r = refused(
        &wf,
        &at(CaseStatus::Returned, 2),
        staff(REVIEWER, OWNER),
        Action::Return,
    );
    assert_eq!(r, Refusal::WrongState);
}

#[test]
fn suspend_stops_the_clock_and_resume_goes_back_to_the_status_before() {
    let wf = four_steps();
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::Returned, 2),
        staff(REVIEWER, OWNER),
        Action::Suspend,
    );
    assert_eq!(s.status, CaseStatus::Suspended);
    assert_eq!(s.resume_to, Some(CaseStatus::Returned));
    assert_eq!(t.clock, ClockEffect::Stop);
    assert!(t.needs_opinion);
    assert_eq!(
        refused(&wf, &s, staff(REVIEWER, OWNER), Action::Suspend),
        Refusal::WrongState
    );
    assert_eq!(
        refused(&wf, &s, staff(REVIEWER, OWNER), Action::Pass),
        Refusal::WrongState
    );
    let (s, t) = ok(&wf, &s, staff(REVIEWER, OWNER), Action::Resume);
    assert_eq!(
        (s.status, s.step, s.resume_to),
        (CaseStatus::Returned, 2, None)
    );
    assert_eq!(t.clock, ClockEffect::Restart);
}

#[test]
fn a_supervisor_of_any_department_suspends_and_resumes() {
    let wf = four_steps();
    let (s, _) = ok(
        &wf,
        &at(CaseStatus::InReview, 2),
        staff(SUPERVISOR, OTHER),
        Action::Suspend,
    );
    assert_eq!(s.resume_to, Some(CaseStatus::InReview));
    let (s, _) = ok(&wf, &s, staff(SUPERVISOR, OTHER), Action::Resume);
    assert_eq!(s.status, CaseStatus::InReview);
    // ... but has no other power on the steps.
    assert_eq!(
        refused(&wf, &s, staff(SUPERVISOR, OWNER), Action::Pass),
        Refusal::WrongRole
    );
    assert_eq!(
        refused(&wf, &s, staff(SUPERVISOR, OTHER), Action::Pass),
        Refusal::WrongDepartment
    );
}

#[test]
fn resume_needs_a_stored_review_status() {
    let wf = four_steps();
    let mut s = at(CaseStatus::Suspended, 2);
    assert_eq!(
        refused(&wf, &s, staff(REVIEWER, OWNER), Action::Resume),
        Refusal::WrongState
    );
    s.resume_to = Some(CaseStatus::Submitted);
    assert_eq!(
        refused(&wf, &s, staff(REVIEWER, OWNER), Action::Resume),
        Refusal::WrongState
    );
}

#[test]
fn approve_and_deny_only_on_the_last_step_by_its_role() {
    let wf = WorkflowDef::standard();
    let r = refused(
        &wf,
        &at(CaseStatus::InReview, 1),
        staff(REVIEWER, OWNER),
        Action::Approve,
    );
    assert_eq!(r, Refusal::WrongState);
    let r = refused(
        &wf,
        &at(CaseStatus::InReview, 2),
        staff(REVIEWER, OWNER),
        Action::Approve,
    );
    assert_eq!(r, Refusal::WrongRole);
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::InReview, 2),
        staff(APPROVER, OWNER),
        Action::Approve,
    );
    assert_eq!(s.status, CaseStatus::Approved);
    assert_eq!(
        (t.clock, t.needs_opinion, t.step_name.as_str()),
        (ClockEffect::Finish, true, "决定")
    );
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::InReview, 2),
        staff(APPROVER, OWNER),
        Action::Deny,
    );
    assert_eq!(s.status, CaseStatus::Denied);
    assert_eq!(t.clock, ClockEffect::Finish);
}

fn parallel() -> WorkflowDef {
    WorkflowDef {
        kind: FlowKind::Parallel,
        ..WorkflowDef::standard()
    }
}

#[test]
fn accepting_a_parallel_case_spawns_sub_cases() {
    let (_, t) = ok(
        &parallel(),
        &CaseState::submitted(OWNER),
        staff(CLERK, OWNER),
        Action::Accept,
    );
    assert!(t.spawn_subcases);
}

#[test]
fn parallel_approval_waits_for_every_sub_case_to_be_approved() {
    let wf = parallel();
    let s = at(CaseStatus::InReview, 2);
    let approve = |tally| {
        apply(&wf, &s, tally, staff(APPROVER, OWNER), Action::Approve).map(|(n, _)| n.status)
    };
    let deny =
        |tally| apply(&wf, &s, tally, staff(APPROVER, OWNER), Action::Deny).map(|(n, _)| n.status);
    let open = SubcaseTally {
        open: 1,
        approved: 2,
        denied: 0,
    };
    let one_denied = SubcaseTally {
        open: 0,
        approved: 2,
        denied: 1,
    };
    let all_approved = SubcaseTally {
        open: 0,
        approved: 3,
        denied: 0,
    };
    assert_eq!(approve(open), Err(Refusal::SubcasesOpen));
    assert_eq!(approve(one_denied), Err(Refusal::SubcasesOpen));
    assert_eq!(approve(all_approved), Ok(CaseStatus::Approved));
    assert_eq!(deny(open), Err(Refusal::SubcasesOpen));
    assert_eq!(deny(one_denied), Ok(CaseStatus::Denied));
    // General workflows ignore the tally.
    let general = WorkflowDef::standard();
    let r = apply(&general, &s, open, staff(APPROVER, OWNER), Action::Approve);
    assert_eq!(r.map(|(n, _)| n.status), Ok(CaseStatus::Approved));
}

#[test]
fn withdrawal_is_the_applicants_and_ends_a_started_clock() {
    let wf = WorkflowDef::standard();
    let (s, t) = ok(
        &wf,
        &CaseState::submitted(OWNER),
        Actor::Applicant,
        Action::Withdraw,
    );
    assert_eq!(s.status, CaseStatus::Withdrawn);
    assert_eq!(t.clock, ClockEffect::None);
    assert!(!t.needs_opinion);
    let mut suspended = at(CaseStatus::Suspended, 1);
    suspended.resume_to = Some(CaseStatus::InReview);
    let (_, t) = ok(&wf, &suspended, Actor::Applicant, Action::Withdraw);
    assert_eq!(t.clock, ClockEffect::Finish);
    let r = refused(
        &wf,
        &at(CaseStatus::InReview, 1),
        staff(SUPERVISOR, OWNER),
        Action::Withdraw,
    );
    assert_eq!(r, Refusal::NotApplicant);
}

#[test]
fn only_a_supervisor_voids_in_any_department() {
    let wf = WorkflowDef::standard();
    let (s, t) = ok(
        &wf,
        &at(CaseStatus::Submitted, 0),
        staff(SUPERVISOR, OTHER),
        Action::Void,
    );
    assert_eq!(s.status, CaseStatus::Voided);
    assert_eq!(t.clock, ClockEffect::None);
    assert!(t.needs_opinion);
    let (_, t) = ok(
        &wf,
        &at(CaseStatus::InReview, 1),
        staff(SUPERVISOR, OTHER),
        Action::Void,
    );
    assert_eq!(t.clock, ClockEffect::Finish);
    let r = refused(
        &wf,
        &at(CaseStatus::InReview, 1),
        staff(APPROVER, OWNER),
        Action::Void,
    );
    assert_eq!(r, Refusal::WrongRole);
    assert_eq!(
        refused(
            &wf,
            &at(CaseStatus::InReview, 1),
            Actor::Applicant,
            Action::Void
        ),
        Refusal::WrongRole
    );
}

#[test]
fn the_system_may_do_nothing_yet() {
    let wf = four_steps();
    for status in CaseStatus::ALL {
        let mut s = at(status, 2);
        s.resume_to = Some(CaseStatus::InReview);
        assert!(allowed(&wf, &s, SubcaseTally::default(), Actor::System).is_empty());
    }
}

#[test]
fn staff_of_another_department_are_refused() {
    let wf = WorkflowDef::standard();
    let r = refused(
        &wf,
        &CaseState::submitted(OWNER),
        staff(CLERK, OTHER),
        Action::Accept,
    );
    assert_eq!(r, Refusal::WrongDepartment);
    let r = refused(
        &wf,
        &at(CaseStatus::InReview, 1),
        staff(REVIEWER, OTHER),
        Action::Pass,
    );
    assert_eq!(r, Refusal::WrongDepartment);
}

#[test]
fn staff_without_the_step_role_are_refused() {
    let wf = WorkflowDef::standard();
    let r = refused(
        &wf,
        &CaseState::submitted(OWNER),
        staff(REVIEWER, OWNER),
        Action::Accept,
    );
    assert_eq!(r, Refusal::WrongRole);
    let r = refused(
        &wf,
        &CaseState::submitted(OWNER),
        Actor::Applicant,
        Action::Accept,
    );
    assert_eq!(r, Refusal::WrongRole);
}

#[test]
fn linked_steps_are_decided_by_the_named_department() {
    let wf = WorkflowDef {
        kind: FlowKind::Linked,
        steps: vec![
            step("accept", "受理", Role::WindowClerk, None),
            step("decide", "决定", Role::Approver, Some(OTHER)),
        ],
        co_departments: Vec::new(),
    };
    let street = "东安路街道办事处";
    let (s, _) = ok(
        &wf,
        &CaseState::submitted(street),
        staff(CLERK, street),
        Action::Accept,
    );
    assert_eq!(step_department(&wf, &s, 0), street);
    assert_eq!(step_department(&wf, &s, 1), OTHER);
    assert_eq!(
        refused(&wf, &s, staff(APPROVER, street), Action::Approve),
        Refusal::WrongDepartment
    );
    let (s, _) = ok(&wf, &s, staff(APPROVER, OTHER), Action::Approve);
    assert_eq!(s.status, CaseStatus::Approved);
    assert_eq!(
        s.department, street,
        "the owner stays the accepting street office"
    );
}

#[test]
fn accepting_makes_the_acceptance_department_the_owner() {
    let wf = WorkflowDef {
        kind: FlowKind::General,
        steps: vec![
            step("accept", "受理", Role::WindowClerk, Some("区政务服务中心")),
            step("decide", "决定", Role::Approver, None),
        ],
        co_departments: Vec::new(),
    };
    let (s, _) = ok(
        &wf,
        &CaseState::submitted(OWNER),
        staff(CLERK, "区政务服务中心"),
        Action::Accept,
    );
    assert_eq!(s.department, "区政务服务中心");
    assert_eq!(step_department(&wf, &s, 1), "区政务服务中心");
}

#[test]
fn unknown_steps_are_refused_but_the_case_can_still_be_closed() {
    let wf = WorkflowDef::standard();
    let broken = at(CaseStatus::InReview, 7);
    assert_eq!(
        refused(&wf, &broken, staff(REVIEWER, OWNER), Action::Pass),
        Refusal::UnknownStep
    );
    let empty = WorkflowDef {
        steps: Vec::new(),
        ..WorkflowDef::standard()
    };
    let s = CaseState::submitted(OWNER);
    assert_eq!(
        refused(&empty, &s, staff(CLERK, OWNER), Action::Accept),
        Refusal::UnknownStep
    );
    let (v, t) = ok(&wf, &broken, staff(SUPERVISOR, OTHER), Action::Void);
    assert_eq!(v.status, CaseStatus::Voided);
    assert_eq!(t.step_name, "");
    assert_eq!(step_department(&wf, &broken, 7), OWNER);
}

#[test]
fn allowed_lists_what_each_actor_can_do() {
    let wf = WorkflowDef::standard();
    let s = CaseState::submitted(OWNER);
    let none = SubcaseTally::default();
    assert_eq!(
        allowed(&wf, &s, none, staff(CLERK, OWNER)),
        vec![
            Action::StartPreReview,
            Action::Accept,
            Action::NotAccept,
            Action::RequestCorrection
        ]
    );
    assert_eq!(
        allowed(&wf, &s, none, Actor::Applicant),
        vec![Action::Withdraw]
    );
    assert_eq!(
        allowed(&wf, &s, none, staff(SUPERVISOR, OTHER)),
        vec![Action::Void]
    );
    let review = at(CaseStatus::InReview, 1);
    assert_eq!(
        allowed(&wf, &review, none, staff(REVIEWER, OWNER)),
        vec![Action::RequestCorrection, Action::Pass, Action::Suspend]
    );
}

#[test]
fn sub_cases_are_reviewed_then_decided_by_the_co_department() {
    let co = CoDepartment {
        department: OTHER.to_owned(),
        name: "食品经营许可".to_owned(),
        days: 5,
        materials: Vec::new(),
        fee_items: Vec::new(),
    };
    let wf = subcase_workflow(&co);
    let names: Vec<_> = wf
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.role, s.days))
        .collect();
    assert_eq!(
        names,
        vec![("审查", Role::Reviewer, 4), ("决定", Role::Approver, 1)]
    );
    assert!(
        wf.steps
            .iter()
            .all(|s| s.department.as_deref() == Some(OTHER))
    );
    let s = subcase_initial_state(&co);
    assert_eq!(
        (s.status, s.step, s.department.as_str()),
        (CaseStatus::Accepted, 0, OTHER)
    );
    assert_eq!(
        refused(&wf, &s, staff(REVIEWER, OWNER), Action::Pass),
        Refusal::WrongDepartment
    );
    let (s, _) = ok(&wf, &s, staff(REVIEWER, OTHER), Action::Pass);
    let (s, _) = ok(&wf, &s, staff(APPROVER, OTHER), Action::Approve);
    assert_eq!(s.status, CaseStatus::Approved);
    for (days, review, decide) in [(0, 0, 0), (1, 1, 0), (2, 1, 1), (20, 19, 1)] {
        let wf = subcase_workflow(&CoDepartment { days, ..co.clone() });
        assert_eq!(
            (wf.steps[0].days, wf.steps[1].days),
            (review, decide),
            "{days} days"
        );
    }
}

#[test]
fn refusals_have_distinct_codes_and_bilingual_messages() {
    let all = [
        Refusal::Terminal,
        Refusal::WrongState,
        Refusal::WrongRole,
        Refusal::WrongDepartment,
        Refusal::SubcasesOpen,
        Refusal::NotApplicant,
        Refusal::UnknownStep,
    ];
    let codes: std::collections::HashSet<_> = all.iter().map(Refusal::code).collect();
    assert_eq!(codes.len(), all.len());
    assert_eq!(Refusal::WrongState.code(), "CASE_WRONG_STATE");
    for r in all {
        let shown = r.to_string();
        assert!(shown.contains(r.zh()) && shown.contains(r.en()), "{shown}");
        assert!(r.code().starts_with("CASE_"));
    }
}

#[test]
fn action_codes_round_trip() {
    for a in Action::ALL {
        assert_eq!(Action::from_code(a.as_str()), Some(a));
    }
    assert_eq!(Action::from_code("approve_all"), None);
}
