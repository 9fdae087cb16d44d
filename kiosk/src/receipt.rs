//! The 办件查询回执 (case query receipt) as a hal [`Receipt`]: a pure
//! function of the query result and the time, so it is tested without a
//! printer.
//!
//! Personal data on paper is masked: the given name (`张*`) and the ID
//! number (`410403********0013`).

use chrono::{DateTime, FixedOffset};
use hal::idcard::mask_id_number;
use hal::receipt::{Align, PaperWidth, Receipt, TextSize};
use proto::CaseSummary;

/// The service centre printed under the title.
pub const SERVICE_CENTRE: &str = "卫东区政务服务中心";

/// Two-character surnames (复姓) that stay whole when a name is masked.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台", "闻人", "申屠",
    "太史", "拓跋", "赫连", "钟离", "万俟", "司空", "第五", "鲜于", "闾丘", "濮阳", "淳于", "单于",
    "公冶", "宗政", "仲孙", "亓官",
];

/// Masks the given name and keeps the surname: `张伟` → `张*`,
/// `李秀英` → `李**`, `欧阳娜娜` → `欧阳**`. A one-character name becomes
/// `*`; an empty name stays empty.
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= 1 {
        return "*".repeat(chars.len());
    }
    let surname_len = if chars.len() > 2 && COMPOUND_SURNAMES.iter().any(|s| name.starts_with(s)) {
        2
    } else {
        1
    };
    let surname: String = chars.iter().take(surname_len).collect();
    format!("{surname}{}", "*".repeat(chars.len() - surname_len))
}

/// The date part of an RFC 3339 time (`2026-11-20T09:30:00+08:00` →
/// `2026-11-20`), in the time's own offset.
pub fn date_of(rfc3339: &str) -> String {
    match DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.format("%Y-%m-%d").to_string(),
        Err(_) => rfc3339.chars().take(10).collect(),
    }
}

/// Columns a string takes on the printer: CJK and other wide characters
/// take two.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    if c.is_ascii() {
        1
    } else {
        match c as u32 {
            // Latin-1 and other narrow letters.
            0x00A0..=0x02FF => 1,
            _ => 2,
        }
    }
}

/// Wraps `text` after `label` to lines of at most `columns`, indenting
/// continuation lines to the label's width.
pub fn wrap_labelled(label: &str, text: &str, columns: usize) -> Vec<String> {
    let indent = display_width(label);
    let room = columns.saturating_sub(indent).max(8);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut width = 0;
    for c in text.chars() {
        let w = char_width(c);
        if width + w > room {
            lines.push(std::mem::take(&mut current));
            width = 0;
        }
        current.push(c);
        width += w;
    }
    lines.push(current);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{label}{l}")
            } else {
                format!("{}{l}", " ".repeat(indent))
            }
        })
        .collect()
}

/// What goes on a case query receipt.
#[derive(Debug, Clone, Copy)]
pub struct QueryReceipt<'a> {
    /// The applicant's name as read from the card (masked here).
    pub holder_name: &'a str,
    /// The applicant's ID number as read from the card (masked here).
    pub id_number: &'a str,
    /// The cases, as the backend listed them.
    pub cases: &'a [CaseSummary],
    /// When it is printed (local time of the kiosk).
    pub printed_at: DateTime<FixedOffset>,
    /// The kiosk's name.
    pub kiosk_name: &'a str,
    /// The consultation phone.
    pub hotline: &'a str,
}

/// Builds the 办件查询回执.
pub fn case_query_receipt(q: &QueryReceipt<'_>) -> Receipt {
    let width = PaperWidth::Mm80;
    let columns = width.columns();
    let mut r = Receipt::new(width)
        .title("办件查询回执")
        .styled(SERVICE_CENTRE, Align::Centre, TextSize::NORMAL, true)
        .rule()
        .line(format!("申请人：{}", mask_name(q.holder_name)))
        .line(format!("证件号码：{}", mask_id_number(q.id_number)))
        .line(format!("查询结果：共 {} 件", q.cases.len()))
        .rule();
    if q.cases.is_empty() {
        r = r.line("暂无办件记录").rule();
    }
    for (i, case) in q.cases.iter().enumerate() {
        r = r.styled(
            format!("{}. 办件编号：{}", i + 1, case.case_number),
            Align::Left,
            TextSize::NORMAL,
            true,
        );
        for line in wrap_labelled("   事项：", &case.matter_name, columns) {
            r = r.line(line);
        }
        for line in wrap_labelled("   部门：", &case.department, columns) {
            r = r.line(line);
        }
        r = r
            .line(format!("   状态：{}", case.status_zh))
            .line(format!("   提交日期：{}", date_of(&case.submitted_at)));
        if let Some(deadline) = &case.deadline {
            r = r.line(format!("   承诺办结：{deadline}"));
        }
        r = r.rule();
    }
    if let Some(first) = q.cases.first() {
        r = r
            .qr(first.case_number.clone())
            .styled("扫码查询办件进度", Align::Centre, TextSize::NORMAL, false)
            .rule();
    }
    r = r.line(format!(
        "打印时间：{}",
        q.printed_at.format("%Y-%m-%d %H:%M:%S")
    ));
    for line in wrap_labelled("打印终端：", q.kiosk_name, columns) {
        r = r.line(line);
    }
    r.line(format!("咨询电话：{}", q.hotline))
        .feed(1)
        .styled(
            "本回执仅供查询参考，请妥善保管",
            Align::Centre,
            TextSize::NORMAL,
            false,
        )
        .feed(2)
        .cut()
}

/// What goes on the 申请回执 of an application made at the kiosk. Holds
/// the applicant's full name and ID number until printing (they are masked
/// on paper); [`ApplicationReceipt::wipe`] zeroes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationReceipt {
    /// The backend's case number; `None` while the application waits in
    /// the outbox.
    pub case_number: Option<String>,
    /// The kiosk's own reference (the idempotency key), printed while
    /// queued so staff can find the entry.
    pub reference: String,
    pub matter: String,
    pub department: String,
    pub applicant_name: String,
    pub id_number: String,
    /// The agent (代办人), if any.
    pub agent_name: Option<String>,
    pub submitted_at: DateTime<FixedOffset>,
    /// Promised conclusion date from the backend.
    pub deadline: Option<String>,
    /// Promised working days (printed when the date is not known yet).
    pub promised_days: u32,
    /// Materials received with their page counts.
    pub materials: Vec<(String, usize)>,
    /// The QR's address (track page with the case's track code).
    pub track_url: Option<String>,
    pub window: String,
    pub phone: String,
    pub kiosk_name: String,
    /// A second print (补打) from maintenance mode.
    pub reprint: bool,
}

impl ApplicationReceipt {
    /// Zeroes the personal parts.
    pub fn wipe(&mut self) {
        crate::app::scrub(&mut self.applicant_name);
        crate::app::scrub(&mut self.id_number);
        if let Some(a) = self.agent_name.as_mut() {
            crate::app::scrub(a);
        }
    }

    /// Back from [`ApplicationReceipt::facts`] (already masked), for a
    /// reprint; `None` when the facts are not a receipt's.
    pub fn from_facts(v: &serde_json::Value) -> Option<ApplicationReceipt> {
        let s = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let submitted_at = chrono::DateTime::parse_from_rfc3339(&s("submitted_at")?).ok()?;
        let materials = v
            .get("materials")
            .and_then(serde_json::Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|m| {
                        let name = m.get(0)?.as_str()?.to_owned();
                        let pages = usize::try_from(m.get(1)?.as_u64()?).ok()?;
                        Some((name, pages))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(ApplicationReceipt {
            case_number: s("case_number"),
            reference: s("reference").unwrap_or_default(),
            matter: s("matter")?,
            department: s("department").unwrap_or_default(),
            applicant_name: s("applicant").unwrap_or_default(),
            id_number: s("id_number").unwrap_or_default(),
            agent_name: s("agent"),
            submitted_at,
            deadline: s("deadline"),
            promised_days: v
                .get("promised_days")
                .and_then(serde_json::Value::as_u64)
                .and_then(|d| u32::try_from(d).ok())
                .unwrap_or(0),
            materials,
            track_url: s("track_url"),
            window: s("window").unwrap_or_default(),
            phone: s("phone").unwrap_or_default(),
            kiosk_name: s("kiosk_name").unwrap_or_default(),
            reprint: true,
        })
    }

    /// The printable facts, masked, for the outbox (reprint after paper
    /// out, from maintenance mode).
    pub fn facts(&self) -> serde_json::Value {
        serde_json::json!({
            "case_number": self.case_number,
            "reference": self.reference,
            "matter": self.matter,
            "department": self.department,
            "applicant": mask_name(&self.applicant_name),
            "id_number": mask_id_number(&self.id_number),
            "agent": self.agent_name.as_deref().map(mask_name),
            "submitted_at": self.submitted_at.to_rfc3339(),
            "deadline": self.deadline,
            "promised_days": self.promised_days,
            "materials": self.materials,
            "track_url": self.track_url,
            "window": self.window,
            "phone": self.phone,
            "kiosk_name": self.kiosk_name,
        })
    }
}

/// Builds the 申请回执: case number (or the queued reference), matter,
/// masked applicant, date, materials received, time limit, the QR to track
/// the case and what happens next.
pub fn application_receipt(a: &ApplicationReceipt) -> Receipt {
    let width = PaperWidth::Mm80;
    let columns = width.columns();
    let mut r = Receipt::new(width)
        .title(if a.reprint {
            "申请回执（补打）"
        } else {
            "申请回执"
        })
        .styled(SERVICE_CENTRE, Align::Centre, TextSize::NORMAL, true)
        .rule();
    match &a.case_number {
        Some(n) => {
            r = r.styled(
                format!("办件编号：{n}"),
                Align::Left,
                TextSize::NORMAL,
                true,
            );
        }
        None => {
            r = r
                .styled("状态：已保存，待提交", Align::Left, TextSize::NORMAL, true)
                .line(format!("终端受理号：{}", short_reference(&a.reference)));
        }
    }
    for line in wrap_labelled("事项：", &a.matter, columns) {
        r = r.line(line);
    }
    for line in wrap_labelled("部门：", &a.department, columns) {
        r = r.line(line);
    }
    r = r
        .line(format!("申请人：{}", mask_name(&a.applicant_name)))
        .line(format!("证件号码：{}", mask_id_number(&a.id_number)));
    if let Some(agent) = &a.agent_name {
        r = r.line(format!("代办人：{}", mask_name(agent)));
    }
    r = r.line(format!(
        "提交时间：{}",
        a.submitted_at.format("%Y-%m-%d %H:%M")
    ));
    r = match (&a.deadline, a.promised_days) {
        (Some(d), _) => r.line(format!("承诺办结：{d}")),
        (None, 0) => r.line("办理时限：即办"),
        (None, n) => r.line(format!("办理时限：受理后 {n} 个工作日")),
    };
    r = r
        .rule()
        .line(format!("已收材料：共 {} 份", a.materials.len()));
    for (name, pages) in &a.materials {
        for line in wrap_labelled("  · ", &format!("{name}（{pages} 页）"), columns) {
            r = r.line(line);
        }
    }
    r = r.rule();
    if let Some(url) = &a.track_url {
        r = r
            .qr(url.clone())
            .styled("扫码查询办理进度", Align::Centre, TextSize::NORMAL, false)
            .rule();
    }
    let next = if a.case_number.is_some() {
        "下一步：工作人员将在1个工作日内预审，结果以短信通知。可凭身份证在自助终端“我要查”查询。"
    } else {
        "下一步：网络恢复后本机自动提交，无需再次办理。提交后可凭身份证在“我要查”查询办件编号。"
    };
    for line in wrap_labelled("", next, columns) {
        r = r.line(line);
    }
    for line in wrap_labelled("办理窗口：", &a.window, columns) {
        r = r.line(line);
    }
    r = r.line(format!("咨询电话：{}", a.phone));
    for line in wrap_labelled("受理终端：", &a.kiosk_name, columns) {
        r = r.line(line);
    }
    r.feed(2).cut()
}

/// The last ten characters of a reference (the random part of a UUIDv7),
/// in capitals: easier to read out to staff.
pub fn short_reference(reference: &str) -> String {
    let chars: Vec<char> = reference.chars().filter(|c| *c != '-').collect();
    chars
        .iter()
        .skip(chars.len().saturating_sub(10))
        .map(char::to_ascii_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]
    use super::*;
    use hal::receipt::Block;
    use proto::CaseStatus;

    fn case(n: &str, matter: &str, status: CaseStatus, deadline: Option<&str>) -> CaseSummary {
        CaseSummary {
            case_number: n.into(),
            matter_code: "M1".into(),
            matter_name: matter.into(),
            department: "卫东区人力资源和社会保障局".into(),
            status,
            status_zh: status.zh().into(),
            status_en: status.en().into(),
            submitted_at: "2026-11-20T09:30:00+08:00".into(),
            deadline: deadline.map(str::to_string),
            channel: "kiosk".into(),
        }
    }

    fn printed_at() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-28T10:05:09+08:00").unwrap()
    }

    #[test]
    fn names_keep_only_the_surname() {
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("李秀英"), "李**");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳**");
        assert_eq!(
            mask_name("欧阳"),
            "欧*",
            "a two-character name keeps one character"
        );
        assert_eq!(mask_name("王"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name(" 赵桂兰 "), "赵**");
    }

    #[test]
    fn wrapping_counts_wide_characters_twice() {
        assert_eq!(display_width("事项：ab"), 8);
        let lines = wrap_labelled("   事项：", &"长".repeat(30), 48);
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| display_width(l) <= 48), "{lines:?}");
        assert!(lines[1].starts_with("         长"));
        assert_eq!(date_of("2026-11-20T09:30:00+08:00"), "2026-11-20");
        assert_eq!(date_of("2026-11-20"), "2026-11-20");
    }

    #[test]
    fn the_query_receipt_masks_and_lists_every_case() {
        let cases = [
            case(
                "41040320261120000001",
                "城乡居民基本养老保险参保登记",
                CaseStatus::InReview,
                Some("2026-12-04"),
            ),
            case(
                "41040320261015000007",
                "居住证签注",
                CaseStatus::Approved,
                None,
            ),
        ];
        let r = case_query_receipt(&QueryReceipt {
            holder_name: "张伟",
            id_number: "410403198503150013",
            cases: &cases,
            printed_at: printed_at(),
            kiosk_name: "大厅1号机",
            hotline: "0375-12345",
        });
        let text = r.plain_text();
        assert!(
            text.starts_with("办件查询回执\n卫东区政务服务中心\n"),
            "{text}"
        );
        assert!(text.contains("申请人：张*\n"));
        assert!(text.contains("证件号码：410403********0013\n"));
        assert!(!text.contains("410403198503150013"));
        assert!(!text.contains("张伟"));
        for c in &cases {
            assert!(text.contains(&c.case_number));
            assert!(text.contains(&c.matter_name));
        }
        assert!(text.contains("状态：审查中"));
        assert!(text.contains("状态：办结（准予）"));
        assert!(text.contains("提交日期：2026-11-20"));
        assert!(text.contains("承诺办结：2026-12-04"));
        assert!(text.contains("打印时间：2026-11-28 10:05:09"));
        assert!(text.contains("咨询电话：0375-12345"));
        let qrs: Vec<&str> = r
            .blocks
            .iter()
            .filter_map(|b| {
                if let Block::Qr { data, .. } = b {
                    Some(data.as_str())
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(qrs, ["41040320261120000001"]);
        assert_eq!(r.blocks.last(), Some(&Block::Cut { partial: false }));
        assert!(matches!(&r.blocks[0], Block::Text(t) if t.bold && t.align == Align::Centre));
        for b in &r.blocks {
            if let Block::Text(t) = b {
                assert!(
                    display_width(&t.text) * usize::from(t.size.width) <= 48,
                    "too wide: {}",
                    t.text
                );
            }
        }
    }

    #[test]
    fn no_cases_no_qr() {
        let r = case_query_receipt(&QueryReceipt {
            holder_name: "王浩然",
            id_number: "410403200109220036",
            cases: &[],
            printed_at: printed_at(),
            kiosk_name: "k",
            hotline: "12345",
        });
        assert!(r.plain_text().contains("暂无办件记录"));
        assert!(r.plain_text().contains("申请人：王**"));
        assert!(!r.blocks.iter().any(|b| matches!(b, Block::Qr { .. })));
    }
}
