//! Property tests of the case state machine: random workflows, random
//! actors and random (or allowed) actions, checked against an independent
//! model of the rules in the engine's module doc.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use casework::engine::{
    Action, Actor, CaseState, ClockEffect, Refusal, SubcaseTally, Transition, allowed, apply,
    is_terminal,
};
use proptest::prelude::*;
use proto::{CaseStatus, FlowKind, Role, StepDef, WorkflowDef};

const STEP_ROLES: [Role; 4] = [
    Role::WindowClerk,
    Role::Reviewer,
    Role::Approver,
    Role::Supervisor,
];
const STEP_DEPTS: [Option<&str>; 3] = [None, Some("甲局"), Some("乙局")];
const DEPTS: [&str; 3] = ["甲局", "乙局", "丙街道"];
const ROLE_SETS: [&[Role]; 7] = [
    &[Role::WindowClerk],
    &[Role::Reviewer],
    &[Role::Approver],
    &[Role::Supervisor],
    &[Role::WindowClerk, Role::Reviewer, Role::Approver],
    &[Role::Reviewer, Role::Supervisor],
    &[],
];

fn workflow() -> impl Strategy<Value = WorkflowDef> {
    let step = (0..STEP_ROLES.len(), 0..STEP_DEPTS.len(), 0..10u32);
    (0..3usize, prop::collection::vec(step, 1..=5)).prop_map(|(kind, steps)| WorkflowDef {
        kind: [FlowKind::General, FlowKind::Parallel, FlowKind::Linked][kind],
        steps: steps
            .into_iter()
            .enumerate()
            .map(|(i, (role, dept, days))| StepDef {
                key: format!("s{i}"),
                name: format!("环节{i}"),
                role: STEP_ROLES[role],
                department: STEP_DEPTS[dept].map(str::to_owned),
                days,
            })
            .collect(),
        co_departments: Vec::new(),
    })
}

/// One move of the random walk.
#[derive(Debug, Clone, Copy)]
struct Move {
    /// 0 applicant, 1 system, else staff with `roles` and `dept`.
    kind: usize,
    roles: usize,
    dept: usize,
    /// Index into [`Action::ALL`] (random mode) or into the allowed
    /// (actor, action) pairs (driven mode).
    pick: usize,
    /// Driven mode: pick one of the moves some actor is allowed to make,
    /// leaving out withdrawal and voiding so walks get deep.
    driven: bool,
    tally: SubcaseTally,
}

fn moves() -> impl Strategy<Value = Vec<Move>> {
    let one = (
        0..9usize,
        0..ROLE_SETS.len(),
        0..DEPTS.len(),
        0..1000usize,
        prop::bool::weighted(0.7),
        (0..3usize, 0..3usize, 0..3usize),
    )
        .prop_map(
            |(kind, roles, dept, pick, driven, (open, approved, denied))| Move {
                kind,
                roles,
                dept,
                pick,
                driven,
                tally: SubcaseTally {
                    open,
                    approved,
                    denied,
                },
            },
        );
    prop::collection::vec(one, 0..80)
}

/// Every actor the walk uses.
fn all_actors() -> impl Iterator<Item = Actor<'static>> {
    let staff = (0..ROLE_SETS.len()).flat_map(|r| (0..DEPTS.len()).map(move |d| actor(2, r, d)));
    [Actor::Applicant, Actor::System].into_iter().chain(staff)
}

/// The (actor, action) a move makes: in driven mode one of the allowed
/// pairs other than Withdraw and Void (none if there is none), else the
/// move's actor with a random action.
fn choose(wf: &WorkflowDef, state: &CaseState, m: &Move) -> Option<(Actor<'static>, Action)> {
    if !m.driven {
        return Some((
            actor(m.kind, m.roles, m.dept),
            Action::ALL[m.pick % Action::ALL.len()],
        ));
    }
    let pairs: Vec<_> = all_actors()
        .flat_map(|a| {
            allowed(wf, state, m.tally, a)
                .into_iter()
                .map(move |x| (a, x))
        })
        .filter(|(_, x)| !matches!(x, Action::Withdraw | Action::Void))
        .collect();
    pairs.get(m.pick % pairs.len().max(1)).copied()
}

fn actor(kind: usize, roles: usize, dept: usize) -> Actor<'static> {
    match kind {
        0 => Actor::Applicant,
        1 => Actor::System,
        _ => Actor::Staff {
            roles: ROLE_SETS[roles],
            department: DEPTS[dept],
        },
    }
}

/// The rules restated independently: the status and step an action leads
/// to, or `None` when it must be refused.
fn model(
    wf: &WorkflowDef,
    s: &CaseState,
    tally: SubcaseTally,
    actor: Actor<'_>,
    action: Action,
) -> Option<(CaseStatus, usize)> {
    use CaseStatus as S;
    if is_terminal(s.status) {
        return None;
    }
    let cur = s.step;
    let last = wf.steps.len() - 1;
    let holds = |i: usize| match actor {
        Actor::Staff { roles, department } => wf.steps.get(i).is_some_and(|st| {
            roles.contains(&st.role)
                && department == st.department.as_deref().unwrap_or(&s.department)
        }),
        _ => false,
    };
    let supervisor =
        matches!(actor, Actor::Staff { roles, .. } if roles.contains(&Role::Supervisor));
    let applicant = actor == Actor::Applicant;
    let before = matches!(s.status, S::Submitted | S::PreReview | S::Resubmitted);
    let review = matches!(s.status, S::Accepted | S::InReview | S::Returned);
    let parallel = wf.kind == FlowKind::Parallel;
    let ok = |cond: bool, to: S, step: usize| cond.then_some((to, step));
    match action {
        Action::StartPreReview => ok(
            matches!(s.status, S::Submitted | S::Resubmitted) && holds(0),
            S::PreReview,
            0,
        ),
        Action::Accept => ok(before && holds(0), S::Accepted, usize::from(last > 0)),
        Action::NotAccept => ok(before && holds(0), S::NotAccepted, 0),
        Action::RequestCorrection if before => ok(holds(0), S::CorrectionRequested, 0),
        Action::RequestCorrection => ok(
            matches!(s.status, S::Accepted | S::InReview) && holds(cur),
            S::CorrectionRequested,
            cur,
        ),
        Action::Resubmit => match (s.status, s.resume_to) {
            (S::CorrectionRequested, Some(to @ (S::Resubmitted | S::InReview))) => {
                ok(applicant, to, cur)
            }
            _ => None,
        },
        Action::Pass => ok(review && cur < last && holds(cur), S::InReview, cur + 1),
        Action::Return => ok(
            matches!(s.status, S::Accepted | S::InReview) && cur >= 2 && holds(cur),
            S::Returned,
            cur.saturating_sub(1),
        ),
        Action::Suspend => ok(review && (holds(cur) || supervisor), S::Suspended, cur),
        Action::Resume => match s.resume_to {
            Some(to @ (S::Accepted | S::InReview | S::Returned)) if s.status == S::Suspended => {
                ok(holds(cur) || supervisor, to, cur)
            }
            _ => None,
        },
        Action::Approve => ok(
            review
                && cur == last
                && holds(cur)
                && (!parallel || (tally.open == 0 && tally.denied == 0)),
            S::Approved,
            cur,
        ),
        Action::Deny => ok(
            review && cur == last && holds(cur) && (!parallel || tally.open == 0),
            S::Denied,
            cur,
        ),
        Action::Withdraw => ok(applicant, S::Withdrawn, cur),
        Action::Void => ok(supervisor, S::Voided, cur),
    }
}

/// Where the deadline clock is, as the transitions move it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    NotStarted,
    Running,
    Stopped,
    Finished,
}

impl Clock {
    fn after(self, effect: ClockEffect) -> Result<Self, String> {
        match (self, effect) {
            (c, ClockEffect::None) => Ok(c),
            (Self::NotStarted, ClockEffect::Start) => Ok(Self::Running),
            (Self::Running, ClockEffect::Stop) => Ok(Self::Stopped),
            (Self::Stopped, ClockEffect::Restart) => Ok(Self::Running),
            (Self::Running | Self::Stopped, ClockEffect::Finish) => Ok(Self::Finished),
            (c, e) => Err(format!("clock {c:?} cannot take {e:?}")),
        }
    }

    /// The clock a status implies.
    fn fits(self, s: &CaseState) -> bool {
        use CaseStatus as S;
        match s.status {
            S::Submitted | S::PreReview | S::Resubmitted | S::NotAccepted => {
                self == Self::NotStarted
            }
            S::Accepted | S::InReview | S::Returned => self == Self::Running,
            S::Suspended => self == Self::Stopped,
            S::CorrectionRequested if s.resume_to == Some(S::InReview) => self == Self::Stopped,
            S::CorrectionRequested => self == Self::NotStarted,
            S::Approved | S::Denied => self == Self::Finished,
            S::Withdrawn | S::Voided => matches!(self, Self::Finished | Self::NotStarted),
        }
    }
}

/// Drives one case, keeping the log of transitions as the backend would.
struct Driver {
    wf: WorkflowDef,
    state: CaseState,
    clock: Clock,
    log: Vec<Transition>,
    accepted: usize,
}

impl Driver {
    fn new(wf: WorkflowDef, owner: &str) -> Self {
        Self {
            wf,
            state: CaseState::submitted(owner),
            clock: Clock::NotStarted,
            log: Vec::new(),
            accepted: 0,
        }
    }

    fn step(
        &mut self,
        actor: Actor<'_>,
        action: Action,
        tally: SubcaseTally,
    ) -> Result<(), TestCaseError> {
        let before = self.state.clone();
        let result = apply(&self.wf, &before, tally, actor, action);
        let expected = model(&self.wf, &before, tally, actor, action);
        let permitted: Vec<Action> = Action::ALL
            .into_iter()
            .filter(|a| apply(&self.wf, &before, tally, actor, *a).is_ok())
            .collect();
        prop_assert_eq!(allowed(&self.wf, &before, tally, actor), permitted);
        match result {
            Err(refusal) => {
                prop_assert!(
                    expected.is_none(),
                    "{action:?} by {actor:?} on {before:?} refused: {refusal:?}"
                );
                prop_assert_eq!(refusal == Refusal::Terminal, before.is_terminal());
            }
            Ok((next, t)) => {
                prop_assert!(!before.is_terminal(), "left terminal {before:?}");
                prop_assert_eq!(
                    expected,
                    Some((next.status, next.step)),
                    "{:?} on {:?}",
                    action,
                    before
                );
                prop_assert!(next.step < self.wf.steps.len());
                prop_assert_eq!((t.from, t.to), (before.status, next.status));
                prop_assert_eq!((t.step_before, t.step_after), (before.step, next.step));
                prop_assert_eq!(&t.step_name, &self.wf.steps[before.step].name);
                prop_assert_eq!(t.action, action);
                prop_assert_eq!(t.needs_opinion, action.needs_opinion());
                prop_assert_eq!(
                    t.spawn_subcases,
                    action == Action::Accept && self.wf.kind == FlowKind::Parallel
                );
                self.clock = self.clock.after(t.clock).map_err(TestCaseError::fail)?;
                prop_assert!(
                    self.clock.fits(&next),
                    "clock {:?} after {:?}",
                    self.clock,
                    t
                );
                self.accepted += 1;
                self.log.push(t);
                self.state = next;
            }
        }
        Ok(())
    }

    fn check_log(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.log.len(), self.accepted);
        let mut status = CaseStatus::Submitted;
        let mut step = 0;
        for t in &self.log {
            prop_assert_eq!((t.from, t.step_before), (status, step));
            status = t.to;
            step = t.step_after;
        }
        prop_assert_eq!((status, step), (self.state.status, self.state.step));
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_cases_follow_the_rules(wf in workflow(), owner in 0..DEPTS.len(), moves in moves()) {
        let mut driver = Driver::new(wf, DEPTS[owner]);
        for m in &moves {
            if let Some((actor, action)) = choose(&driver.wf, &driver.state, m) {
                driver.step(actor, action, m.tally)?;
            }
        }
        driver.check_log()?;
    }

    #[test]
    fn terminal_cases_stay_terminal(wf in workflow(), moves in moves()) {
        for status in CaseStatus::ALL.into_iter().filter(|s| is_terminal(*s)) {
            let state = CaseState { status, step: 0, resume_to: None, department: DEPTS[0].to_owned() };
            for m in &moves {
                let (actor, action) = (actor(m.kind, m.roles, m.dept), Action::ALL[m.pick % Action::ALL.len()]);
                let r = apply(&wf, &state, m.tally, actor, action);
                prop_assert_eq!(r, Err(Refusal::Terminal));
            }
        }
    }
}

/// The walk reaches every status; otherwise the properties above would
/// prove little.
#[test]
fn the_random_walk_reaches_every_status() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut seen = std::collections::HashSet::new();
    let mut runner = TestRunner::deterministic();
    for _ in 0..300 {
        let wf = workflow().new_tree(&mut runner).unwrap().current();
        let moves = moves().new_tree(&mut runner).unwrap().current();
        let mut driver = Driver::new(wf, DEPTS[0]);
        for m in &moves {
            if let Some((actor, action)) = choose(&driver.wf, &driver.state, m) {
                driver.step(actor, action, m.tally).unwrap();
                seen.insert(driver.state.status);
            }
        }
    }
    let missing: Vec<_> = CaseStatus::ALL
        .into_iter()
        .filter(|s| !seen.contains(s))
        .collect();
    assert!(missing.is_empty(), "never reached: {missing:?}");
}
