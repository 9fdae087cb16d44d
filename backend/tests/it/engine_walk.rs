//! Random walks over the stored case engine: many cases, random actions by
//! random people, through the real service and SQLite. Whatever happens,
//! no case reaches an invalid state, every accepted action leaves exactly
//! one step record, one feed event and one audit row, every refused one
//! leaves nothing, and the audit chain stays whole.

use backend::service::auth::{AccountPrincipal, Principal, StaffPrincipal};
use backend::service::workflow::{self, ActionRequest};
use proto::{CaseStatus, Role};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::TestApp;
use crate::workflow::{fill_form, required_uploads};

const ACTIONS: [&str; 13] = [
    "start_pre_review",
    "accept",
    "not_accept",
    "request_correction",
    "resubmit",
    "pass",
    "return",
    "suspend",
    "resume",
    "approve",
    "deny",
    "withdraw",
    "void",
];

fn staff(id: i64, username: &str, department: &str, roles: &[Role]) -> Principal {
    Principal::Staff(StaffPrincipal {
        id,
        username: username.to_owned(),
        display_name: username.to_owned(),
        department: department.to_owned(),
        roles: roles.to_vec(),
    })
}

fn count(t: &TestApp, sql: &str, case: &str) -> i64 {
    t.db().query_row(sql, [case], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn random_actions_never_corrupt_a_case_or_lose_a_record() {
    let t = TestApp::new().await;
    let me = t.resident("13837512345").await;
    let account = match backend::service::auth::authenticate(&t.state.store, &me, t.state.now())
        .await
        .unwrap()
        .unwrap()
        .principal
    {
        Principal::Account(a) => a,
        Principal::Staff(_) => unreachable!(),
    };
    let stranger = Principal::Account(AccountPrincipal {
        id: 9999,
        kind: "person".to_owned(),
        phone: "13000000000".to_owned(),
        real_name: Some("陌生人".to_owned()),
        id_number: Some("110101199001011237".to_owned()),
        entity_name: None,
        uscc: None,
    });
    let police = "平顶山市公安局卫东分局";
    let people = [
        Principal::Account(account),
        stranger,
        staff(1, "gaoj", police, &[Role::WindowClerk]),
        staff(2, "liuy", police, &[Role::Reviewer]),
        staff(3, "zhaom", police, &[Role::Approver]),
        staff(
            4,
            "sunq",
            "卫东区市场监督管理局",
            &[Role::Reviewer, Role::Approver],
        ),
        staff(5, "lind", "卫东区政务服务管理办公室", &[Role::Supervisor]),
    ];
    let matter = t.matter_named("无犯罪记录证明").await;
    let mut rng = StdRng::seed_from_u64(20261127);
    let mut cases = Vec::new();
    for _ in 0..30 {
        let r = t
            .s_post(
                "/api/v1/applications",
                &me,
                &json!({"matter_code": matter["code"], "form": fill_form(&matter), "materials": required_uploads(&matter)}),
            )
            .await;
        cases.push(r.json["case_number"].as_str().unwrap().to_owned());
    }
    let audit_before: i64 = t
        .db()
        .query_row("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'case.%' AND action <> 'case.created'", [], |r| r.get(0))
        .unwrap();
    let mut accepted = 0_i64;
    let mut refused = 0_i64;
    for step in 0..600 {
        let case = &cases[rng.random_range(0..cases.len())];
        // Mostly an action the engine offers someone now (so cases move all
        // the way), sometimes anyone doing anything (so refusals are tried).
        let mut offered = Vec::new();
        for (i, p) in people.iter().enumerate() {
            if let Ok(v) = workflow::view(&t.state.store, p, case, t.state.now()).await {
                for a in v.allowed {
                    offered.push((i, a.action));
                }
            }
        }
        let (who, action) = if !offered.is_empty() && rng.random_bool(0.6) {
            let (i, pick) = offered[rng.random_range(0..offered.len())].clone();
            (
                &people[i],
                ACTIONS.into_iter().find(|a| *a == pick).unwrap(),
            )
        } else {
            (
                &people[rng.random_range(0..people.len())],
                ACTIONS[rng.random_range(0..ACTIONS.len())],
            )
        };
        let steps_before = count(
            &t,
            "SELECT COUNT(*) FROM case_step s JOIN case_record c ON c.id = s.case_id WHERE c.case_number = ?1",
            case,
        );
        let req = ActionRequest {
            action: action.to_owned(),
            opinion: if rng.random_bool(0.8) {
                "随机意见".to_owned()
            } else {
                String::new()
            },
            items: if rng.random_bool(0.8) {
                vec!["身份证明".to_owned()]
            } else {
                Vec::new()
            },
        };
        // Every few steps let time pass, so clocks stop and restart on other days.
        if step % 25 == 0 {
            t.clock.advance(chrono::Duration::hours(20));
        }
        let result = workflow::act(&t.state.store, who, case, req, t.state.now()).await;
        let steps_after = count(
            &t,
            "SELECT COUNT(*) FROM case_step s JOIN case_record c ON c.id = s.case_id WHERE c.case_number = ?1",
            case,
        );
        match result {
            Ok(outcome) => {
                accepted += 1;
                assert_eq!(
                    steps_after,
                    steps_before + 1,
                    "{action} on {case} left no step"
                );
                assert_ne!(outcome.from, outcome.to, "{action} changed nothing?");
            }
            Err(_) => {
                refused += 1;
                assert_eq!(steps_after, steps_before, "a refused {action} left a step");
            }
        }
        // The stored state is always one the engine can stand on.
        let (status, stepno, resume, current): (String, i64, Option<String>, Option<String>) = t
            .db()
            .query_row(
                "SELECT status, step, resume_to, current_department FROM case_record WHERE case_number = ?1",
                [case],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        let status = CaseStatus::from_code(&status).expect("a known status");
        assert!(
            (0..3).contains(&stepno),
            "step {stepno} out of the workflow"
        );
        match status {
            CaseStatus::CorrectionRequested | CaseStatus::Suspended => {
                assert!(resume.is_some(), "{status:?} must know where to return")
            }
            _ => {}
        }
        if workflow::is_terminal(status) || status == CaseStatus::CorrectionRequested {
            assert!(current.is_none(), "nobody acts on a {status:?} case");
        } else {
            assert!(current.is_some(), "someone must act on a {status:?} case");
        }
        // A stopped clock is open exactly while the case is stopped after acceptance.
        let open_pauses = count(
            &t,
            "SELECT COUNT(*) FROM case_pause p JOIN case_record c ON c.id = p.case_id WHERE c.case_number = ?1 AND p.to_day IS NULL",
            case,
        );
        assert!(open_pauses <= 1, "two open pauses on {case}");
    }
    let ends: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(DISTINCT status) FROM case_record WHERE status IN \
             ('approved', 'denied', 'withdrawn', 'voided', 'not_accepted')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        ends >= 3,
        "the walk should reach several endings, reached {ends}"
    );
    assert!(
        accepted > 40,
        "the walk should move cases: {accepted} accepted, {refused} refused"
    );
    assert!(refused > 100, "and be refused often: {refused}");
    let audit_after: i64 = t
        .db()
        .query_row("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'case.%' AND action <> 'case.created'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        audit_after - audit_before,
        accepted,
        "one audit row per accepted action"
    );
    let events: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM case_event WHERE event <> 'submitted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(events, accepted, "one feed event per accepted action");
    let verdict = t.state.store.read_blocking(|tx| tx.verify_audit()).unwrap();
    assert!(
        matches!(verdict, backend::store::AuditVerdict::Intact { .. }),
        "{verdict:?}"
    );
}
