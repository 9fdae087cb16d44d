//! Demo data: the matter catalogue from `assets/demo/matters/*.json`
//! (embedded so the binary is self-contained), the departments named in it,
//! demo staff and portal accounts, and the cases of the demo identities of
//! `docs/API.md`, with dated step history.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use proto::{Applicant, CaseStatus, IdType, Matter};

use crate::error::ApiError;
use crate::service::cases::{CaseNumbering, next_case_number};
use casework::calendar::Calendar;

use crate::service::time::{china_date, china_offset, iso_date, rfc3339_china};
use crate::store::{AuditRecord, NewCase, NewStep, Store, StoreError, WriteTx};

/// The demo catalogue files, as shipped: (file name, JSON array of matters).
pub const DEMO_MATTER_FILES: [(&str, &str); 2] = [
    (
        "persons.json",
        include_str!("../../../assets/demo/matters/persons.json"),
    ),
    (
        "enterprises.json",
        include_str!("../../../assets/demo/matters/enterprises.json"),
    ),
];

/// Parses the demo catalogue, persons first.
///
/// # Errors
/// When an embedded file does not match the `Matter` type.
pub fn demo_matters() -> Result<Vec<Matter>, serde_json::Error> {
    let mut all = Vec::new();
    for (_, json) in DEMO_MATTER_FILES {
        let part: Vec<Matter> = serde_json::from_str(json)?;
        all.extend(part);
    }
    Ok(all)
}

/// A step of a demo case: working days before today, time of day, status
/// reached, step name, handler, opinion.
struct DemoStep {
    days_ago: u32,
    hm: (u32, u32),
    status: CaseStatus,
    step_name: &'static str,
    handler: &'static str,
    opinion: &'static str,
}

struct DemoCase {
    name: &'static str,
    id_number: &'static str,
    phone: &'static str,
    house: &'static str,
    matter_name: &'static str,
    channel: &'static str,
    form: &'static str,
    has_deadline: bool,
    steps: &'static [DemoStep],
}

const DEMO_CASES: &[DemoCase] = &[
    DemoCase {
        name: "张伟",
        id_number: "410403198503150013",
        phone: "13837512345",
        house: "12号",
        matter_name: "无犯罪记录证明",
        channel: "window",
        form: r#"{"purpose":"应聘","receiver":"平顶山市某科技有限公司"}"#,
        has_deadline: true,
        steps: &[
            DemoStep {
                days_ago: 24,
                hm: (9, 12),
                status: CaseStatus::Submitted,
                step_name: "申请",
                handler: "窗口 张伟（申请人）",
                opinion: "窗口提交申请",
            },
            DemoStep {
                days_ago: 24,
                hm: (9, 20),
                status: CaseStatus::Accepted,
                step_name: "受理",
                handler: "综合受理窗口 刘静",
                opinion: "材料齐全，予以受理",
            },
            DemoStep {
                days_ago: 24,
                hm: (14, 45),
                status: CaseStatus::InReview,
                step_name: "审核",
                handler: "卫东分局户政科 王磊",
                opinion: "经查询违法犯罪信息库，未发现犯罪记录",
            },
            DemoStep {
                days_ago: 23,
                hm: (10, 5),
                status: CaseStatus::Approved,
                step_name: "办结",
                handler: "卫东分局户政科 王磊",
                opinion: "准予出具无犯罪记录证明，已当面领取",
            },
        ],
    },
    DemoCase {
        name: "张伟",
        id_number: "410403198503150013",
        phone: "13837512345",
        house: "12号",
        matter_name: "公共租赁住房申请",
        channel: "kiosk",
        form: r#"{"household_size":3,"monthly_income_per_capita":1650,"current_housing":"租住"}"#,
        has_deadline: true,
        steps: &[
            DemoStep {
                days_ago: 6,
                hm: (10, 31),
                status: CaseStatus::Submitted,
                step_name: "申请",
                handler: "自助终端 卫东区政务服务中心大厅1号机",
                opinion: "通过自助终端提交申请",
            },
            DemoStep {
                days_ago: 5,
                hm: (9, 2),
                status: CaseStatus::Accepted,
                step_name: "受理",
                handler: "住房保障窗口 陈晓",
                opinion: "材料齐全，予以受理",
            },
            DemoStep {
                days_ago: 3,
                hm: (15, 40),
                status: CaseStatus::InReview,
                step_name: "审核",
                handler: "卫东区住房和城乡建设局住房保障股 周涛",
                opinion: "已转街道入户调查，家庭收入及住房情况核查中",
            },
        ],
    },
    DemoCase {
        name: "李秀英",
        id_number: "410403196207080023",
        phone: "13903752468",
        house: "45号",
        matter_name: "最低生活保障申请（低保）",
        channel: "kiosk",
        form: r#"{"household_size":2,"reason":"因病致贫","bank":"平顶山银行"}"#,
        has_deadline: false,
        steps: &[
            DemoStep {
                days_ago: 4,
                hm: (9, 48),
                status: CaseStatus::Submitted,
                step_name: "申请",
                handler: "自助终端 建设路街道便民服务中心1号机",
                opinion: "通过自助终端提交申请",
            },
            DemoStep {
                days_ago: 3,
                hm: (11, 15),
                status: CaseStatus::CorrectionRequested,
                step_name: "补正",
                handler: "建设路街道社会救助窗口 马丽",
                opinion: "请补充共同生活家庭成员近6个月收入证明及医疗费用票据",
            },
        ],
    },
    DemoCase {
        name: "赵桂兰",
        id_number: "410403194501010043",
        phone: "13523756789",
        house: "7号",
        matter_name: "高龄津贴申领",
        channel: "kiosk",
        form: r#"{"bank":"中国邮政储蓄银行","agent":"本人"}"#,
        has_deadline: true,
        steps: &[
            DemoStep {
                days_ago: 2,
                hm: (10, 3),
                status: CaseStatus::Submitted,
                step_name: "申请",
                handler: "自助终端 建设路街道便民服务中心1号机",
                opinion: "通过自助终端提交申请",
            },
            DemoStep {
                days_ago: 1,
                hm: (9, 30),
                status: CaseStatus::Accepted,
                step_name: "受理",
                handler: "建设路街道民政窗口 马丽",
                opinion: "材料齐全，予以受理",
            },
        ],
    },
];

fn at(day: NaiveDate, (h, m): (u32, u32)) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default());
    china_offset()
        .from_local_datetime(&local)
        .single()
        .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc))
}

fn seed_case(
    tx: &WriteTx<'_>,
    numbering: &CaseNumbering,
    cal: &Calendar,
    today: NaiveDate,
    demo: &DemoCase,
    matters: &[Matter],
) -> Result<(), ApiError> {
    let matter = matters
        .iter()
        .find(|m| m.name == demo.matter_name)
        .ok_or_else(|| ApiError::Internal(format!("demo matter {} missing", demo.matter_name)))?;
    let first = demo
        .steps
        .first()
        .ok_or_else(|| ApiError::Internal("demo case without steps".to_owned()))?;
    let submitted_day = cal.sub_working_days(today, first.days_ago);
    let submitted = at(submitted_day, first.hm);
    let status = demo.steps.last().map_or(first.status, |s| s.status);
    let deadline = demo
        .has_deadline
        .then(|| iso_date(cal.add_working_days(submitted_day, matter.promised_days)));
    let case_number = next_case_number(tx, numbering, submitted)?;
    let applicant = Applicant {
        name: demo.name.to_owned(),
        id_type: IdType::ResidentId,
        id_number: demo.id_number.to_owned(),
        phone: Some(demo.phone.to_owned()),
        address: Some(format!("河南省平顶山市卫东区建设路东段{}", demo.house)),
    };
    let submitted_at = rfc3339_china(submitted);
    let case_id = tx.insert_case(&NewCase {
        case_number: &case_number,
        matter_code: &matter.code,
        matter_version: matter.version,
        matter_name: &matter.name,
        department: &matter.department,
        applicant: &applicant,
        form_json: demo.form,
        channel: demo.channel,
        kiosk_id: None,
        idempotency_key: None,
        submission_sm3: None,
        created_reply_json: None,
        status,
        submitted_at: &submitted_at,
        deadline: deadline.as_deref(),
        track_code: None,
    })?;
    for s in demo.steps {
        let when = rfc3339_china(at(cal.sub_working_days(today, s.days_ago), s.hm));
        tx.add_case_step(
            case_id,
            &NewStep {
                status: s.status,
                step_name: s.step_name,
                handler: s.handler,
                department: &matter.department,
                opinion: s.opinion,
                at: &when,
            },
        )?;
    }
    set_demo_position(tx, case_id, matter, demo, status, cal, today)?;
    tx.audit(&AuditRecord {
        at: submitted_at,
        actor: "system".to_owned(),
        action: "case.seeded".to_owned(),
        object: format!("case:{case_number}"),
        detail: format!("matter={} status={}", matter.code, status.as_str()),
        role: "system".to_owned(),
        ..AuditRecord::default()
    })?;
    Ok(())
}

/// Puts a demo case where its history leaves it in its matter's workflow.
fn set_demo_position(
    tx: &WriteTx<'_>,
    case_id: i64,
    matter: &Matter,
    demo: &DemoCase,
    status: CaseStatus,
    cal: &Calendar,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let wf = &matter.workflow;
    let last = wf.steps.len().saturating_sub(1);
    let passes = demo
        .steps
        .iter()
        .filter(|s| s.status == CaseStatus::InReview)
        .count();
    let (step, resume_to) = match status {
        CaseStatus::CorrectionRequested => (0, Some(CaseStatus::Resubmitted)),
        CaseStatus::Accepted => (1.min(last), None),
        CaseStatus::InReview => ((1 + passes).min(last), None),
        CaseStatus::Approved | CaseStatus::Denied => (last, None),
        _ => (0, None),
    };
    let accepted_on = demo
        .steps
        .iter()
        .find(|s| s.status == CaseStatus::Accepted)
        .map(|s| iso_date(cal.sub_working_days(today, s.days_ago)));
    let wf_json = serde_json::to_string(wf).map_err(StoreError::from)?;
    tx.set_case_engine(
        case_id,
        &wf_json,
        None,
        None,
        matter.promised_days,
        matter.legal_days,
        "000000",
    )?;
    if let Some(day) = &accepted_on {
        tx.set_accepted_on(case_id, day)?;
    }
    let next = if matches!(
        status,
        CaseStatus::CorrectionRequested | CaseStatus::Approved | CaseStatus::Denied
    ) {
        None
    } else {
        wf.steps.get(step).map(|s| {
            (
                s.department
                    .clone()
                    .unwrap_or_else(|| matter.department.clone()),
                s.role.as_str(),
            )
        })
    };
    let deadline = accepted_on
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| iso_date(cal.add_working_days(d, matter.promised_days)));
    tx.set_position(
        case_id,
        &crate::store::Position {
            status,
            step,
            resume_to,
            next: next.as_ref().map(|(d, r)| (d.as_str(), *r)),
            deadline: deadline.as_deref(),
        },
    )?;
    if status == CaseStatus::CorrectionRequested {
        let items: Vec<&str> = matter
            .materials
            .iter()
            .take(1)
            .map(|m| m.name.as_str())
            .collect();
        let items = serde_json::to_string(&items).map_err(StoreError::from)?;
        let note = demo.steps.last().map_or("请补正材料", |s| s.opinion);
        tx.add_correction(case_id, &items, note, &rfc3339_china(at(today, (9, 0))))?;
    }
    if let (CaseStatus::Approved | CaseStatus::Denied, Some(s)) = (status, demo.steps.last()) {
        let when = rfc3339_china(at(cal.sub_working_days(today, s.days_ago), s.hm));
        tx.set_concluded_at(case_id, &when)?;
    }
    Ok(())
}

/// Seeds an empty catalogue with the demo matters and the demo cases.
/// Returns `false` (and changes nothing) when the catalogue is not empty.
///
/// # Errors
/// When the embedded catalogue is malformed or storage fails.
pub async fn seed_if_empty(
    store: &Store,
    numbering: &CaseNumbering,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    let matters = demo_matters().map_err(|e| ApiError::Internal(format!("demo catalogue: {e}")))?;
    let numbering = numbering.clone();
    let seeded = store
        .write(move |tx| {
            if tx.matter_count()? > 0 {
                return Ok(false);
            }
            for (i, m) in matters.iter().enumerate() {
                let order = i64::try_from(i).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                tx.put_matter(m, order)?;
                tx.add_matter_version(
                    m,
                    "new",
                    "published",
                    "seed",
                    &rfc3339_china(now),
                    "system",
                )?;
            }
            super::people_seed::seed_people(tx, &matters, now)?;
            super::bulletin::seed_demo(tx, now)?;
            let cal = crate::service::workflow::calendar(tx)?;
            let today = china_date(now);
            for demo in DEMO_CASES {
                seed_case(tx, &numbering, &cal, today, demo, &matters)?;
            }
            tx.audit(&AuditRecord {
                at: rfc3339_china(now),
                actor: "system".to_owned(),
                action: "catalogue.seeded".to_owned(),
                object: "catalogue".to_owned(),
                detail: format!("matters={} demo_cases={}", matters.len(), DEMO_CASES.len()),
                role: "system".to_owned(),
                ..AuditRecord::default()
            })?;
            Ok::<_, ApiError>(true)
        })
        .await?;
    if seeded {
        tracing::info!("seeded demo catalogue and cases");
    }
    Ok(seeded)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::collections::HashSet;

    use proto::{Audience, CaseType};

    use super::*;

    fn department_names_for_test(matters: &[Matter]) -> HashSet<String> {
        crate::service::people_seed::department_names(matters)
            .into_iter()
            .collect()
    }

    #[test]
    fn demo_catalogue_is_complete_and_consistent() {
        let matters = demo_matters().unwrap();
        assert!(matters.len() >= 15);
        let codes: HashSet<_> = matters.iter().map(|m| m.code.as_str()).collect();
        assert_eq!(codes.len(), matters.len(), "codes are unique");
        for m in &matters {
            assert!(m.code.contains("-410403000000-"), "{}", m.code);
            assert!(!m.materials.is_empty() && !m.conditions.is_empty() && !m.process.is_empty());
            assert!(m.promised_days <= m.legal_days, "{}", m.name);
            assert_eq!(
                m.case_type == CaseType::Immediate,
                m.promised_days == 0,
                "{}",
                m.name
            );
            assert_eq!(m.fee.charged, !m.fee.items.is_empty(), "{}", m.name);
            assert!(m.phone.starts_with("0375-"), "{}", m.name);
            assert_eq!(m.supervision_phone, "12345");
            assert!(m.address.starts_with("河南省平顶山市卫东区"), "{}", m.name);
        }
        assert!(matters.iter().any(|m| !m.kiosk_available));
        assert!(matters.iter().any(|m| m.audience == Audience::LegalEntity));
        // The issue's floor: ≥ 40 matters over ≥ 10 departments, with fees,
        // e-certificates, parallel bundles and street-level linked flows.
        assert!(matters.len() >= 40, "{} matters", matters.len());
        let departments: HashSet<_> = matters.iter().map(|m| m.department.as_str()).collect();
        assert!(departments.len() >= 10, "{} departments", departments.len());
        assert!(matters.iter().filter(|m| m.fee.charged).count() >= 4);
        assert!(
            matters
                .iter()
                .filter(|m| m.materials.iter().any(|x| x.e_certificate.is_some()))
                .count()
                >= 20
        );
        let parallel: Vec<_> = matters
            .iter()
            .filter(|m| m.workflow.kind == proto::FlowKind::Parallel)
            .collect();
        assert!(parallel.iter().any(|m| m.name.contains("企业开办")));
        let linked: Vec<_> = matters
            .iter()
            .filter(|m| m.workflow.kind == proto::FlowKind::Linked)
            .collect();
        assert!(!linked.is_empty());
        for m in &linked {
            assert_eq!(m.service_level, proto::ServiceLevel::Street, "{}", m.name);
            assert!(
                m.workflow.steps.iter().any(|s| s.department.is_some()),
                "{}",
                m.name
            );
        }
        for m in &parallel {
            assert!(m.workflow.co_departments.len() >= 2, "{}", m.name);
        }
        // Every workflow starts with acceptance at a window, every form key
        // is unique, and every department a step names has demo staff or at
        // least exists in the department table.
        let known = department_names_for_test(&matters);
        for m in &matters {
            let first = m.workflow.steps.first().unwrap();
            assert_eq!(first.role, proto::Role::WindowClerk, "{}", m.name);
            let keys: HashSet<_> = m.form.iter().map(|f| f.key.as_str()).collect();
            assert_eq!(keys.len(), m.form.len(), "{}", m.name);
            assert!(!m.form.is_empty(), "{}", m.name);
            for s in &m.workflow.steps {
                if let Some(d) = &s.department {
                    assert!(known.contains(d), "{}: {d}", m.name);
                }
            }
        }
        for demo in DEMO_CASES {
            assert!(matters.iter().any(|m| m.name == demo.matter_name));
        }
    }
}
