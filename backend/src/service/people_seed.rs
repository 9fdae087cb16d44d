//! Demo departments, staff and portal accounts.
//!
//! Every demo staff member has the password [`DEMO_PASSWORD`] and the TOTP
//! secret [`DEMO_TOTP_SECRET`] (so `backend demo-totp` can print the
//! current code); one Argon2 hash is computed once and shared, which is
//! acceptable for demo data only. Real deployments create staff through the
//! admin pages, each with their own secret.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use proto::Matter;

use crate::error::ApiError;
use crate::service::time::rfc3339_china;
use crate::store::{AuditRecord, DepartmentRow, NewStaff, StoreError, WriteTx};

/// Password of every demo staff member and demo portal account.
pub const DEMO_PASSWORD: &str = "Weidong@2026demo";
/// TOTP secret (base32) of every demo staff member.
pub const DEMO_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The departments that review local catalogue changes (see
/// `service::catalogue_admin`), besides those named by matters.
pub const REVIEW_DEPARTMENTS: [&str; 3] = [
    "卫东区委机构编制委员会办公室",
    "卫东区司法局",
    "卫东区纪委监委",
];

/// A demo staff member: login, name, department, roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoStaff {
    /// Login name.
    pub username: &'static str,
    /// Display name.
    pub display_name: &'static str,
    /// Department.
    pub department: &'static str,
    /// Roles, comma-separated.
    pub roles: &'static str,
}

const fn staff(
    username: &'static str,
    display_name: &'static str,
    department: &'static str,
    roles: &'static str,
) -> DemoStaff {
    DemoStaff {
        username,
        display_name,
        department,
        roles,
    }
}

/// The demo staff. Names are invented.
pub const DEMO_STAFF: &[DemoStaff] = &[
    staff("gaoj", "高静", "平顶山市公安局卫东分局", "window_clerk"),
    staff("liuy", "刘洋", "平顶山市公安局卫东分局", "reviewer"),
    staff("zhaom", "赵敏", "平顶山市公安局卫东分局", "approver"),
    staff("wangl", "王丽", "卫东区市场监督管理局", "window_clerk"),
    staff("sunq", "孙强", "卫东区市场监督管理局", "reviewer"),
    staff("zhoul", "周磊", "卫东区市场监督管理局", "approver"),
    staff("chenj", "陈洁", "卫东区民政局", "reviewer"),
    staff("huangw", "黄伟", "卫东区民政局", "approver"),
    staff(
        "xuf",
        "许芳",
        "卫东区建设路街道办事处",
        "window_clerk,reviewer",
    ),
    staff(
        "mah",
        "马辉",
        "卫东区人力资源和社会保障局",
        "window_clerk,reviewer,approver",
    ),
    staff(
        "zhuy",
        "朱燕",
        "卫东区医疗保障局",
        "window_clerk,reviewer,approver",
    ),
    staff(
        "hus",
        "胡松",
        "国家税务总局平顶山市卫东区税务局",
        "window_clerk,reviewer,approver",
    ),
    staff(
        "guol",
        "郭亮",
        "卫东区城市管理局",
        "window_clerk,reviewer,approver",
    ),
    staff(
        "hej",
        "何军",
        "卫东区消防救援大队",
        "window_clerk,reviewer,approver",
    ),
    staff(
        "luoh",
        "罗红",
        "平顶山市生态环境局卫东分局",
        "window_clerk,reviewer,approver",
    ),
    staff("lind", "林东", "卫东区政务服务管理办公室", "supervisor"),
    staff(
        "songc",
        "宋超",
        "卫东区委机构编制委员会办公室",
        "catalogue_admin",
    ),
    staff("tangx", "唐鑫", "卫东区司法局", "catalogue_admin"),
    staff("fengy", "冯越", "卫东区纪委监委", "catalogue_admin"),
    staff("dengk", "邓凯", "卫东区政务服务管理办公室", "system_admin"),
    staff("caon", "曹宁", "卫东区政务服务管理办公室", "audit_admin"),
    staff("yangp", "杨鹏", "卫东区政务服务管理办公室", "maintenance"),
];

/// Every department a matter (or a workflow step, or a co-department)
/// names, plus the review departments and the administration office.
#[must_use]
pub fn department_names(matters: &[Matter]) -> Vec<String> {
    let mut names = BTreeSet::new();
    for m in matters {
        names.insert(m.department.clone());
        for s in &m.workflow.steps {
            if let Some(d) = &s.department {
                names.insert(d.clone());
            }
        }
        for c in &m.workflow.co_departments {
            names.insert(c.department.clone());
        }
    }
    for d in REVIEW_DEPARTMENTS {
        names.insert(d.to_owned());
    }
    names.insert("卫东区政务服务管理办公室".to_owned());
    for s in DEMO_STAFF {
        names.insert(s.department.to_owned());
    }
    // District departments first, streets after, each by name.
    let mut v: Vec<String> = names.into_iter().collect();
    v.sort_by_key(|n| (n.contains("街道"), n.clone()));
    v
}

/// Seeds departments, demo staff and demo portal accounts.
///
/// # Errors
/// When hashing or storage fails.
pub fn seed_people(
    tx: &WriteTx<'_>,
    matters: &[Matter],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let at = rfc3339_china(now);
    for (i, name) in department_names(matters).iter().enumerate() {
        let order = i64::try_from(i).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.put_department(
            &DepartmentRow {
                code: format!("D{:03}", i + 1),
                name: name.clone(),
                level: if name.contains("街道") {
                    "street"
                } else {
                    "district"
                }
                .to_owned(),
                phone: String::new(),
            },
            order,
        )?;
    }
    let phc = auth::password::hash(DEMO_PASSWORD).map_err(|e| ApiError::Internal(e.to_string()))?;
    for s in DEMO_STAFF {
        tx.insert_staff(&NewStaff {
            username: s.username,
            display_name: s.display_name,
            department: s.department,
            roles: s.roles,
            password_phc: &phc,
            totp_secret: DEMO_TOTP_SECRET,
            at: &at,
        })?;
    }
    // 张伟, the demo resident of the kiosk docs, with his real name bound.
    let person = tx.insert_account(
        "person",
        "13837512345",
        &phc,
        Some("张伟"),
        Some("410403198503150013"),
        None,
        &at,
    )?;
    // A restaurant company, and 张伟 as its authorised agent.
    let entity = tx.insert_account(
        "entity",
        "13937500001",
        &phc,
        None,
        None,
        Some(("平顶山市卫东区鹰城味道餐饮有限公司", DEMO_USCC)),
        &at,
    )?;
    if let (Some(p), Some(e)) = (person, entity) {
        tx.add_agent(e, p, &at)?;
    }
    tx.audit(&AuditRecord {
        at,
        actor: "system".to_owned(),
        role: "system".to_owned(),
        action: "people.seeded".to_owned(),
        object: "people".to_owned(),
        detail: format!("staff={} accounts=2", DEMO_STAFF.len()),
        ..AuditRecord::default()
    })?;
    Ok(())
}

/// Unified social credit code of the demo company (valid check character).
pub const DEMO_USCC: &str = "91410403MA9K8N2X4D";
