//! Notices (公告) for the kiosk's idle screen, published and withdrawn by
//! system admins, and what the kiosk downloads at start and on change:
//! every published guide with the notices in force.

use chrono::{DateTime, NaiveDate, Utc};
use proto::{Matter, Role};

use crate::error::ApiError;
use crate::service::auth::StaffPrincipal;
use crate::service::time::{china_date, china_offset, iso_date, rfc3339_china};
use crate::service::{check_text, check_text_allow_empty};
use crate::store::{AuditRecord, BulletinRow, NewBulletin, Store, StoreError, WriteTx};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 60;
/// Longest text, in characters.
pub const MAX_BODY_CHARS: usize = 1000;

/// Whether a notice is shown on `today`: not withdrawn, published, and not
/// past its last day.
#[must_use]
pub fn in_force(b: &BulletinRow, now: DateTime<Utc>) -> bool {
    let today = iso_date(china_date(now));
    let published =
        DateTime::parse_from_rfc3339(&b.published_at).is_ok_and(|t| t.with_timezone(&Utc) <= now);
    b.withdrawn_at.is_none() && published && b.until.as_deref().is_none_or(|u| u >= today.as_str())
}

/// What the kiosk catalogue is made of.
#[derive(Debug, Clone, PartialEq)]
pub struct KioskCatalogueParts {
    /// Every published guide, in catalogue order.
    pub matters: Vec<Matter>,
    /// The notices in force, newest first.
    pub notices: Vec<BulletinRow>,
    /// When the catalogue or the notices last changed (RFC 3339, China
    /// time): the same for the same content.
    pub changed_at: String,
}

fn start_of_day_after(day: &str) -> Option<DateTime<Utc>> {
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let next = d.succ_opt()?.and_hms_opt(0, 0, 0)?;
    next.and_local_timezone(china_offset())
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Every published guide and the notices in force, with the time they last
/// changed (a guide published, a notice published, withdrawn or expired).
///
/// # Errors
/// A storage failure.
pub async fn kiosk_catalogue(
    store: &Store,
    now: DateTime<Utc>,
) -> Result<KioskCatalogueParts, ApiError> {
    store
        .read(move |tx| {
            let matters = tx.published_guides()?;
            let all = tx.bulletins()?;
            let mut times: Vec<DateTime<Utc>> = tx
                .catalogue_change_times()?
                .iter()
                .chain(all.iter().map(|b| &b.published_at))
                .chain(all.iter().filter_map(|b| b.withdrawn_at.as_ref()))
                .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .filter(|t| *t <= now)
                .collect();
            times.extend(
                all.iter()
                    .filter_map(|b| b.until.as_deref().and_then(start_of_day_after))
                    .filter(|t| *t <= now),
            );
            let changed = times.into_iter().max().unwrap_or(DateTime::UNIX_EPOCH);
            let notices = all.into_iter().filter(|b| in_force(b, now)).collect();
            Ok::<_, ApiError>(KioskCatalogueParts {
                matters,
                notices,
                changed_at: rfc3339_china(changed),
            })
        })
        .await
}

/// Every notice, newest first, for the admin page.
///
/// # Errors
/// A storage failure.
pub async fn all(store: &Store) -> Result<Vec<BulletinRow>, ApiError> {
    store.read(|tx| Ok::<_, ApiError>(tx.bulletins()?)).await
}

fn require_admin(who: &StaffPrincipal) -> Result<(), ApiError> {
    if who.has(Role::SystemAdmin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A notice as a system admin types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulletinDraft {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Last day shown (YYYY-MM-DD), or empty for no end.
    pub until: String,
}

/// Publishes a notice now (system admins; audited).
///
/// # Errors
/// `FORBIDDEN`, `INVALID_FIELD`, or a storage failure.
pub async fn publish(
    store: &Store,
    who: &StaffPrincipal,
    draft: BulletinDraft,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    require_admin(who)?;
    check_text("title", &draft.title, 1, MAX_TITLE_CHARS)?;
    check_text_allow_empty("body", &draft.body, MAX_BODY_CHARS)?;
    if draft.body.trim().is_empty() {
        return Err(ApiError::InvalidField {
            field: "body",
            reason_zh: "不能为空",
            reason_en: "must not be empty",
        });
    }
    let until = draft.until.trim().to_owned();
    if !until.is_empty() {
        let ok = NaiveDate::parse_from_str(&until, "%Y-%m-%d")
            .is_ok_and(|d| d >= china_date(now) && until.len() == 10);
        if !ok {
            return Err(ApiError::InvalidField {
                field: "until",
                reason_zh: "截止日期应为今天或以后的 年-月-日",
                reason_en: "the last day must be a date YYYY-MM-DD, today or later",
            });
        }
    }
    let who = who.clone();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let actor = format!("staff:{}", who.username);
            let id = tx.add_bulletin(&NewBulletin {
                title: draft.title.trim(),
                body: draft.body.trim(),
                published_at: &at,
                until: (!until.is_empty()).then_some(until.as_str()),
                created_by: &actor,
            })?;
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor,
                role: who.role_codes(),
                action: "bulletin.published".to_owned(),
                object: format!("bulletin:{id}"),
                detail: format!("until={}", if until.is_empty() { "-" } else { &until }),
                ..AuditRecord::default()
            })?;
            Ok(id)
        })
        .await
}

/// Withdraws a notice (system admins; audited).
///
/// # Errors
/// `FORBIDDEN`, `NOT_FOUND` (no such notice, or already withdrawn), or a
/// storage failure.
pub async fn withdraw(
    store: &Store,
    who: &StaffPrincipal,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    require_admin(who)?;
    let who = who.clone();
    let at = rfc3339_china(now);
    store
        .write(move |tx| {
            let actor = format!("staff:{}", who.username);
            if !tx.withdraw_bulletin(id, &actor, &at)? {
                return Err(ApiError::NotFound);
            }
            tx.audit(&AuditRecord {
                at: at.clone(),
                actor,
                role: who.role_codes(),
                action: "bulletin.withdrawn".to_owned(),
                object: format!("bulletin:{id}"),
                ..AuditRecord::default()
            })?;
            Ok(())
        })
        .await
}

/// The demo notices of a new database.
///
/// # Errors
/// A storage failure.
pub(crate) fn seed_demo(tx: &WriteTx<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
    let at = rfc3339_china(now);
    let demo: [(&str, &str); 3] = [
        (
            "元旦假期办事大厅开放时间",
            "2027年1月1日至3日元旦假期期间，区政务服务中心大厅暂停窗口服务，自助终端24小时可用；\
             1月4日（星期一）起恢复正常办公。咨询电话 0375-12345。",
        ),
        (
            "新版社会保障卡（第三代）开始申领",
            "第三代社会保障卡支持交通出行、文化旅游等功能。可在自助终端“我要办”中申请，\
             或携带居民身份证到人社窗口办理，制卡期间原卡可正常使用。",
        ),
        (
            "“一件事一次办”：新生儿出生联办",
            "新生儿出生医学证明、户口登记、医保参保、社保卡申领可一次申请、一次办好。\
             在自助终端或网上办事大厅选择“新生儿出生‘一件事’联办”即可。",
        ),
    ];
    for (title, body) in demo {
        tx.add_bulletin(&NewBulletin {
            title,
            body,
            published_at: &at,
            until: None,
            created_by: "system",
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::TimeZone;

    use super::*;

    fn row(until: Option<&str>, withdrawn: bool) -> BulletinRow {
        BulletinRow {
            id: 1,
            title: "t".to_owned(),
            body: "b".to_owned(),
            published_at: "2026-11-20T09:00:00+08:00".to_owned(),
            until: until.map(ToOwned::to_owned),
            created_by: "system".to_owned(),
            withdrawn_at: withdrawn.then(|| "2026-11-21T09:00:00+08:00".to_owned()),
        }
    }

    #[test]
    fn a_notice_shows_through_its_last_day_and_not_after_withdrawal() {
        let fri = Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap(); // 23:00 in China
        assert!(in_force(&row(None, false), fri));
        assert!(in_force(&row(Some("2026-11-27"), false), fri));
        assert!(!in_force(&row(Some("2026-11-26"), false), fri));
        assert!(!in_force(&row(None, true), fri));
        let before = Utc.with_ymd_and_hms(2026, 11, 19, 0, 0, 0).unwrap();
        assert!(!in_force(&row(None, false), before));
        assert_eq!(
            start_of_day_after("2026-11-26").map(rfc3339_china).unwrap(),
            "2026-11-27T00:00:00+08:00"
        );
    }
}
