//! Status codes for the provincial exchange (省级政务服务平台办件数据交换).
//!
//! The provincial platform's list: 1 received, 3 accepted, 4 not accepted,
//! 6 correction started, 8 department handling, 9 special procedure started,
//! 10 special procedure ended, 11 concluded. Our thirteen states map to it
//! as follows; **12 and 13 are local extensions** (the provincial list has
//! no code for a withdrawn or voided case) and must be agreed with the
//! province, or filtered out, before they are sent.
//!
//! | our status | code | provincial meaning |
//! | --- | --- | --- |
//! | Submitted 已提交 | 1 | received |
//! | PreReview 预审中 | 1 | received |
//! | Resubmitted 已补正，待受理 | 1 | received |
//! | Accepted 已受理 | 3 | accepted |
//! | NotAccepted 不予受理 | 4 | not accepted |
//! | CorrectionRequested 待补正 | 6 | correction started |
//! | InReview 审查中 | 8 | department handling |
//! | Returned 已退回 | 8 | department handling |
//! | Suspended 特别程序 | 9 | special procedure started |
//! | Approved 办结（准予） | 11 | concluded |
//! | Denied 办结（不予许可） | 11 | concluded |
//! | Withdrawn 已撤回 | 12 | *local extension* |
//! | Voided 已作废 | 13 | *local extension* |
//!
//! Code 10 (special procedure ended) is an event, not a state we keep: a
//! resumed case is back in review. [`provincial_transition_code`] gives 10
//! for the `Resume` transition and the state's code for every other one.

use proto::CaseStatus;

use crate::engine::{Action, Transition};

/// Local extension: the applicant withdrew the case.
pub const WITHDRAWN_CODE: u8 = 12;
/// Local extension: a supervisor voided the case.
pub const VOIDED_CODE: u8 = 13;
/// Provincial code of a special procedure that ended.
pub const SPECIAL_PROCEDURE_ENDED_CODE: u8 = 10;

/// The provincial status code of a status (see the table in the module doc).
#[must_use]
pub const fn provincial_status_code(s: CaseStatus) -> u8 {
    match s {
        CaseStatus::Submitted | CaseStatus::PreReview | CaseStatus::Resubmitted => 1,
        CaseStatus::Accepted => 3,
        CaseStatus::NotAccepted => 4,
        CaseStatus::CorrectionRequested => 6,
        CaseStatus::InReview | CaseStatus::Returned => 8,
        CaseStatus::Suspended => 9,
        CaseStatus::Approved | CaseStatus::Denied => 11,
        CaseStatus::Withdrawn => WITHDRAWN_CODE,
        CaseStatus::Voided => VOIDED_CODE,
    }
}

/// The provincial code to report for a transition: 10 when a special
/// procedure ends, otherwise the code of the status reached.
#[must_use]
pub fn provincial_transition_code(t: &Transition) -> u8 {
    if t.action == Action::Resume {
        SPECIAL_PROCEDURE_ENDED_CODE
    } else {
        provincial_status_code(t.to)
    }
}

/// Whether `code` is one of the local extensions the province does not know.
#[must_use]
pub const fn is_local_extension(code: u8) -> bool {
    code == WITHDRAWN_CODE || code == VOIDED_CODE
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proto::{Role, WorkflowDef};

    use super::*;
    use crate::engine::{Actor, CaseState, SubcaseTally, apply};

    #[test]
    fn every_status_maps_to_the_documented_code() {
        let expected = [
            (CaseStatus::Submitted, 1),
            (CaseStatus::PreReview, 1),
            (CaseStatus::Resubmitted, 1),
            (CaseStatus::Accepted, 3),
            (CaseStatus::NotAccepted, 4),
            (CaseStatus::CorrectionRequested, 6),
            (CaseStatus::InReview, 8),
            (CaseStatus::Suspended, 9),
            (CaseStatus::Returned, 8),
            (CaseStatus::Approved, 11),
            (CaseStatus::Denied, 11),
            (CaseStatus::Voided, 13),
            (CaseStatus::Withdrawn, 12),
        ];
        assert_eq!(expected.len(), CaseStatus::ALL.len());
        for (status, code) in expected {
            assert_eq!(provincial_status_code(status), code, "{status:?}");
        }
    }

    #[test]
    fn only_withdrawn_and_voided_use_local_codes() {
        let provincial = [1, 3, 4, 6, 8, 9, 10, 11];
        for s in CaseStatus::ALL {
            let code = provincial_status_code(s);
            assert_eq!(
                is_local_extension(code),
                matches!(s, CaseStatus::Withdrawn | CaseStatus::Voided)
            );
            assert!(
                provincial.contains(&code) || is_local_extension(code),
                "{s:?}"
            );
        }
    }

    #[test]
    fn ending_a_special_procedure_reports_code_ten() {
        let wf = WorkflowDef::standard();
        let roles = [Role::Reviewer];
        let reviewer = Actor::Staff {
            roles: &roles,
            department: "区民政局",
        };
        let s = CaseState {
            status: CaseStatus::InReview,
            step: 1,
            resume_to: None,
            department: "区民政局".into(),
        };
        let (s, t) = apply(&wf, &s, SubcaseTally::default(), reviewer, Action::Suspend).unwrap();
        assert_eq!(provincial_transition_code(&t), 9);
        let (_, t) = apply(&wf, &s, SubcaseTally::default(), reviewer, Action::Resume).unwrap();
        assert_eq!(t.to, CaseStatus::InReview);
        assert_eq!(provincial_transition_code(&t), 10);
    }
}
