//! Printable notices of a case as PDF: 受理通知书, 补正材料通知书
//! (一次性告知) and 准予/不予 决定书.
//!
//! A notice is laid out as lines of text ([`Block`]s → [`layout`]), drawn
//! with the bundled Noto Sans SC (a GB 2312 subset, see
//! `assets/fonts/subset-chars.txt`) onto a 1-bit A4 raster at 150 dpi
//! (1240×1754), and wrapped into a PDF 1.4 file whose page image is
//! run-length coded (`/RunLengthDecode`). A character outside the font is
//! drawn as an empty box, never dropped silently; [`missing_glyphs`] says
//! which those are.
//!
//! Only staff who handle the case (a case role in a department on the
//! case) may print its notices: a notice names the applicant in full.
//! Every print is audited.

use std::fmt::Write as _;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use chrono::{DateTime, NaiveDate, Utc};
use proto::{CaseStatus, FlowKind, Role};

use crate::error::ApiError;
use crate::service::auth::{Principal, StaffPrincipal};
use crate::service::time::{china_date, rfc3339_china, to_china};
use crate::service::workflow;
use crate::store::{AuditRecord, CaseCore, ReadTx, Store, WriteTx};

/// The font notices are set in (a GB 2312 subset of Noto Sans CJK SC).
static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular.otf");

/// Raster resolution in dots per inch.
pub const DPI: u32 = 150;
/// A4 at [`DPI`], pixels across.
pub const PAGE_W: u32 = 1240;
/// A4 at [`DPI`], pixels down.
pub const PAGE_H: u32 = 1754;
/// A4 in PDF points (1/72 inch), across and down.
pub const A4_PT: (f64, f64) = (595.28, 841.89);

const MARGIN_X: f32 = 165.0;
const MARGIN_TOP: f32 = 150.0;
const MARGIN_BOTTOM: f32 = 150.0;
/// Pixels per typographic point at [`DPI`].
const PX_PER_PT: f32 = DPI as f32 / 72.0;
/// Body text: 14 pt (四号).
const BODY_PT: f32 = 14.0;
/// Title: 22 pt (二号).
const TITLE_PT: f32 = 22.0;
/// Issuer line above the title: 16 pt (三号).
const ISSUER_PT: f32 = 16.0;
/// Small print (number line): 12 pt (小四).
const SMALL_PT: f32 = 12.0;
/// Line pitch as a multiple of the size.
const LEADING: f32 = 1.65;

/// Which notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// 受理通知书: the case was accepted.
    Acceptance,
    /// 补正材料通知书 (一次性告知): the latest correction notice.
    Correction,
    /// 准予/不予 决定书: the decision.
    Decision,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::Acceptance, Self::Correction, Self::Decision];

    /// Machine code (the file name without `.pdf`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Acceptance => "acceptance",
            Self::Correction => "correction",
            Self::Decision => "decision",
        }
    }

    /// Parses a machine code.
    #[must_use]
    pub fn from_code(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Name in Chinese (generic for decisions).
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Self::Acceptance => "受理通知书",
            Self::Correction => "补正材料通知书",
            Self::Decision => "决定书",
        }
    }

    /// Name in English.
    #[must_use]
    pub const fn en(self) -> &'static str {
        match self {
            Self::Acceptance => "Notice of acceptance",
            Self::Correction => "Notice to supply materials",
            Self::Decision => "Decision",
        }
    }
}

/// Failures of the rendering itself (never the caller's fault).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum NoticeError {
    /// The bundled font cannot be read.
    #[error("通知书字体无法读取 / the notice font cannot be read")]
    Font,
}

impl From<NoticeError> for ApiError {
    fn from(e: NoticeError) -> Self {
        Self::Internal(e.to_string())
    }
}

fn not_ready() -> ApiError {
    ApiError::CaseRefused {
        code: "NOTICE_NOT_READY",
        zh: "该办件尚未到出具此通知书的环节",
        en: "The case has not reached the point where this notice is issued",
    }
}

/// Whether a member of staff handles the case: a case role, and their
/// department owns it, acts on it now, or is named by one of its steps.
fn handles(s: &StaffPrincipal, core: &CaseCore) -> Result<bool, ApiError> {
    let case_role = s
        .roles
        .iter()
        .any(|r| matches!(r, Role::WindowClerk | Role::Reviewer | Role::Approver));
    if !case_role {
        return Ok(false);
    }
    if core.department == s.department
        || core.current_department.as_deref() == Some(s.department.as_str())
    {
        return Ok(true);
    }
    let wf = workflow::workflow_of(core)?;
    Ok(wf
        .steps
        .iter()
        .any(|st| st.department.as_deref() == Some(s.department.as_str())))
}

/// Loads a case its viewer handles; `NOT_FOUND` otherwise.
fn handled_core(
    tx: &ReadTx<'_>,
    who: &StaffPrincipal,
    case_number: &str,
) -> Result<CaseCore, ApiError> {
    let core = tx.case_core(case_number)?.ok_or(ApiError::NotFound)?;
    let principal = Principal::Staff(who.clone());
    if !workflow::may_see(tx, &principal, &core)? || !handles(who, &core)? {
        return Err(ApiError::NotFound);
    }
    Ok(core)
}

fn kinds_ready(tx: &ReadTx<'_>, core: &CaseCore) -> Result<Vec<NoticeKind>, ApiError> {
    let mut out = Vec::new();
    if core.accepted_on.is_some() {
        out.push(NoticeKind::Acceptance);
    }
    if !tx.corrections(core.id)?.is_empty() {
        out.push(NoticeKind::Correction);
    }
    if matches!(core.status, CaseStatus::Approved | CaseStatus::Denied) {
        out.push(NoticeKind::Decision);
    }
    Ok(out)
}

/// The notices `who` may print for a case now (none for staff who see the
/// case but do not handle it, such as supervisors).
///
/// # Errors
/// `NOT_FOUND` for a case the viewer may not see, or a storage failure.
pub async fn available(
    store: &Store,
    who: &StaffPrincipal,
    case_number: &str,
) -> Result<Vec<NoticeKind>, ApiError> {
    if case_number.len() > 40 {
        return Err(ApiError::NotFound);
    }
    let who = who.clone();
    let number = case_number.to_owned();
    store
        .read(move |tx| {
            let core = tx.case_core(&number)?.ok_or(ApiError::NotFound)?;
            let principal = Principal::Staff(who.clone());
            if !workflow::may_see(tx, &principal, &core)? {
                return Err(ApiError::NotFound);
            }
            if !handles(&who, &core)? {
                return Ok(Vec::new());
            }
            kinds_ready(tx, &core)
        })
        .await
}

/// The PDF of one notice of a case, for staff who handle it; the print is
/// audited (`case.notice_printed`).
///
/// # Errors
/// `NOT_FOUND` (no such case, or one the viewer does not handle),
/// `NOTICE_NOT_READY` (the case has not reached that point), or a storage
/// or font failure.
pub async fn notice_pdf(
    store: &Store,
    who: &StaffPrincipal,
    case_number: &str,
    kind: NoticeKind,
    now: DateTime<Utc>,
) -> Result<Vec<u8>, ApiError> {
    if case_number.len() > 40 {
        return Err(ApiError::NotFound);
    }
    let who = who.clone();
    let number = case_number.to_owned();
    let doc = store
        .write(move |tx| {
            let core = handled_core(tx, &who, &number)?;
            if !kinds_ready(tx, &core)?.contains(&kind) {
                return Err(not_ready());
            }
            let facts = facts(tx, &core, now)?;
            audit_print(tx, &who, &core, kind, now)?;
            Ok::<_, ApiError>(compose(kind, &facts))
        })
        .await?;
    // Rasterising takes some milliseconds of CPU: off the async threads.
    tokio::task::spawn_blocking(move || build_pdf(&doc, now))
        .await
        .map_err(|e| ApiError::Internal(format!("notice rendering: {e}")))?
        .map_err(ApiError::from)
}

/// Lays out, rasterises and wraps a notice into a PDF.
///
/// # Errors
/// When the font cannot be read.
pub fn build_pdf(doc: &NoticeDoc, now: DateTime<Utc>) -> Result<Vec<u8>, NoticeError> {
    let pages = layout(doc)?;
    let bitmaps = pages.iter().map(render).collect::<Result<Vec<_>, _>>()?;
    Ok(write_pdf(&bitmaps, &doc.title, now))
}

fn audit_print(
    tx: &WriteTx<'_>,
    who: &StaffPrincipal,
    core: &CaseCore,
    kind: NoticeKind,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    tx.audit(&AuditRecord {
        at: rfc3339_china(now),
        actor: format!("staff:{}", who.username),
        role: who.role_codes(),
        action: "case.notice_printed".to_owned(),
        object: format!("case:{}", core.case_number),
        detail: format!("notice={}", kind.as_str()),
        ..AuditRecord::default()
    })?;
    Ok(())
}

/// What a notice says about its case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeFacts {
    /// Case number.
    pub case_number: String,
    /// Applicant: the legal entity's name, else the person's whole name.
    pub applicant: String,
    /// Matter name.
    pub matter: String,
    /// Matter type (行政许可, 公共服务…), empty when unknown.
    pub matter_type: String,
    /// Department (the issuer).
    pub department: String,
    /// Channel code: `web`, `kiosk` or `window`.
    pub channel: String,
    /// Submitted.
    pub submitted: Option<NaiveDate>,
    /// Accepted (the clock started).
    pub accepted: Option<NaiveDate>,
    /// Promised limit in working days.
    pub limit_days: Option<u32>,
    /// Promised conclusion date.
    pub deadline: Option<NaiveDate>,
    /// Concluded.
    pub concluded: Option<NaiveDate>,
    /// Approved (true) or denied (false), once decided.
    pub approved: Option<bool>,
    /// The decision's opinion.
    pub opinion: String,
    /// The latest correction notice: materials asked for.
    pub items: Vec<String>,
    /// The latest correction notice: the clerk's note.
    pub note: String,
    /// The latest correction notice: when asked.
    pub correction_on: Option<NaiveDate>,
    /// Whether this is a parallel sub-case or a linked flow (for wording).
    pub flow: FlowKind,
    /// Date of issue.
    pub issued: NaiveDate,
}

fn date_of(rfc3339: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| china_date(t.with_timezone(&Utc)))
}

fn day_of(iso: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d").ok()
}

fn facts(tx: &ReadTx<'_>, core: &CaseCore, now: DateTime<Utc>) -> Result<NoticeFacts, ApiError> {
    let today = china_date(now);
    let cal = workflow::calendar(tx)?;
    let due = workflow::deadline_view(tx, &cal, core, today)?.and_then(|v| v.due);
    let matter_type = tx
        .matter(&core.matter_code)?
        .map(|m| m.matter_type)
        .unwrap_or_default();
    let decision = tx
        .case_steps(core.id)?
        .into_iter()
        .rev()
        .find(|s| matches!(s.status, CaseStatus::Approved | CaseStatus::Denied));
    let last_correction = tx.corrections(core.id)?.into_iter().next_back();
    let wf = workflow::workflow_of(core)?;
    Ok(NoticeFacts {
        case_number: core.case_number.clone(),
        applicant: core
            .entity_name
            .clone()
            .unwrap_or_else(|| core.applicant_name.clone()),
        matter: core.matter_name.clone(),
        matter_type,
        department: core.department.clone(),
        channel: core.channel.clone(),
        submitted: date_of(&core.submitted_at),
        accepted: core.accepted_on.as_deref().and_then(day_of),
        limit_days: core.limit_days,
        deadline: due.or_else(|| core.deadline.as_deref().and_then(day_of)),
        concluded: core.concluded_at.as_deref().and_then(date_of),
        approved: match core.status {
            CaseStatus::Approved => Some(true),
            CaseStatus::Denied => Some(false),
            _ => None,
        },
        opinion: decision.map(|s| s.opinion).unwrap_or_default(),
        items: last_correction
            .as_ref()
            .and_then(|c| serde_json::from_str(&c.items_json).ok())
            .unwrap_or_default(),
        note: last_correction
            .as_ref()
            .map(|c| c.note.clone())
            .unwrap_or_default(),
        correction_on: last_correction.and_then(|c| date_of(&c.requested_at)),
        flow: wf.kind,
        issued: today,
    })
}

/// A date the way a notice writes it: `2026年11月27日`.
#[must_use]
pub fn zh_date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

fn zh_date_opt(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "——".to_owned(), zh_date)
}

fn channel_zh(c: &str) -> &'static str {
    match c {
        "kiosk" => "自助终端",
        "window" => "窗口",
        _ => "卫东区政务服务网",
    }
}

/// One block of a notice.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A centred line in bold at a size in points.
    Centred {
        /// The text.
        text: String,
        /// Size in points.
        pt: f32,
        /// Drawn bold.
        bold: bool,
    },
    /// A right-aligned line of small print.
    Right(String),
    /// A paragraph of body text, wrapped; `indent` indents its first line
    /// by two characters.
    Para {
        /// The text.
        text: String,
        /// First-line indent.
        indent: bool,
    },
    /// A list item: `label` hangs, `text` wraps beside it.
    Item {
        /// E.g. `1.` or `办件编号：`.
        label: String,
        /// The text.
        text: String,
    },
    /// Vertical space in body lines.
    Gap(f32),
    /// The issuer and date, right-aligned at the foot of the text.
    Sign(Vec<String>),
}

/// A notice: its title (also the PDF's) and its blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeDoc {
    /// Title, e.g. 受理通知书.
    pub title: String,
    /// The text.
    pub blocks: Vec<Block>,
}

fn para(text: impl Into<String>) -> Block {
    Block::Para {
        text: text.into(),
        indent: true,
    }
}

fn item(label: &str, text: impl Into<String>) -> Block {
    Block::Item {
        label: label.to_owned(),
        text: text.into(),
    }
}

fn head(f: &NoticeFacts, title: &str) -> Vec<Block> {
    vec![
        Block::Centred {
            text: f.department.clone(),
            pt: ISSUER_PT,
            bold: true,
        },
        Block::Centred {
            text: title.to_owned(),
            pt: TITLE_PT,
            bold: true,
        },
        Block::Right(format!("办件编号：{}", f.case_number)),
        Block::Gap(0.5),
        Block::Para {
            text: format!("{}：", f.applicant),
            indent: false,
        },
    ]
}

fn foot(f: &NoticeFacts) -> Vec<Block> {
    vec![
        Block::Gap(0.5),
        para(
            "可凭办件编号通过卫东区政务服务网、自助终端查询办理进度，\
             或拨打政务服务便民热线12345咨询。",
        ),
        Block::Gap(1.5),
        Block::Sign(vec![
            f.department.clone(),
            "（印章）".to_owned(),
            zh_date(f.issued),
        ]),
    ]
}

/// The text of a notice from its facts.
#[must_use]
pub fn compose(kind: NoticeKind, f: &NoticeFacts) -> NoticeDoc {
    match kind {
        NoticeKind::Acceptance => acceptance(f),
        NoticeKind::Correction => correction(f),
        NoticeKind::Decision => decision(f),
    }
}

fn acceptance(f: &NoticeFacts) -> NoticeDoc {
    let title = "受理通知书";
    let mut b = head(f, title);
    b.push(para(format!(
        "你（单位）于{}通过{}提交的“{}”申请，经审查，申请材料齐全、符合法定形式，\
         本机关决定予以受理。",
        zh_date_opt(f.submitted),
        channel_zh(&f.channel),
        f.matter
    )));
    let limit = f
        .limit_days
        .map_or_else(|| "——".to_owned(), |d| format!("{d}个工作日"));
    b.push(para(format!(
        "本机关将在{limit}内办结，承诺办结日期为{}（依法补正材料、特别程序等期间不计算在内）。",
        zh_date_opt(f.deadline)
    )));
    if f.flow == FlowKind::Parallel {
        b.push(para(
            "本事项实行并联审批，由本机关牵头，相关部门同步办理，办结后统一告知结果。",
        ));
    }
    b.push(Block::Gap(0.3));
    b.push(item("办件编号：", f.case_number.clone()));
    b.push(item("办理事项：", f.matter.clone()));
    b.push(item("受理部门：", f.department.clone()));
    b.push(item("受理日期：", zh_date_opt(f.accepted)));
    b.push(item("承诺时限：", limit));
    b.push(item("承诺办结日期：", zh_date_opt(f.deadline)));
    b.extend(foot(f));
    NoticeDoc {
        title: title.to_owned(),
        blocks: b,
    }
}

fn correction(f: &NoticeFacts) -> NoticeDoc {
    let title = "补正材料通知书";
    let mut b = head(f, title);
    b.insert(
        2,
        Block::Centred {
            text: "（一次性告知）".to_owned(),
            pt: BODY_PT,
            bold: false,
        },
    );
    b.push(para(format!(
        "你（单位）于{}提交的“{}”申请，经审查，申请材料不齐全或者不符合法定形式。\
         根据有关规定，现一次性告知你需要补正的全部材料如下：",
        zh_date_opt(f.submitted),
        f.matter
    )));
    for (i, it) in f.items.iter().enumerate() {
        b.push(item(&format!("{}.", i + 1), it.clone()));
    }
    if !f.note.trim().is_empty() {
        b.push(Block::Gap(0.3));
        b.push(item("补正说明：", f.note.trim().to_owned()));
    }
    b.push(Block::Gap(0.3));
    b.push(para(format!(
        "请按上述要求一次性补正后重新提交，可通过卫东区政务服务网、自助终端提交，\
         或到{}窗口提交。补正期间不计算在办理时限内。",
        f.department
    )));
    b.push(item("办件编号：", f.case_number.clone()));
    b.push(item("告知日期：", zh_date_opt(f.correction_on)));
    b.extend(foot(f));
    NoticeDoc {
        title: title.to_owned(),
        blocks: b,
    }
}

fn decision(f: &NoticeFacts) -> NoticeDoc {
    let licence = f.matter_type == "行政许可";
    let approved = f.approved.unwrap_or(false);
    let title = match (approved, licence) {
        (true, true) => "准予行政许可决定书",
        (true, false) => "准予办理决定书",
        (false, true) => "不予行政许可决定书",
        (false, false) => "不予办理决定书",
    };
    let mut b = head(f, title);
    let mut text = format!(
        "你（单位）于{}提出的“{}”申请，本机关于{}受理。经审查，",
        zh_date_opt(f.submitted),
        f.matter,
        zh_date_opt(f.accepted)
    );
    if approved {
        text.push_str("该申请符合规定条件，本机关决定准予。");
    } else if licence {
        text.push_str("该申请不符合规定条件，本机关决定不予行政许可。");
    } else {
        text.push_str("该申请不符合规定条件，本机关决定不予办理。");
    }
    b.push(para(text));
    let label = if approved {
        "审批意见："
    } else {
        "理由："
    };
    b.push(item(label, f.opinion.trim().to_owned()));
    b.push(item("办件编号：", f.case_number.clone()));
    b.push(item("办结日期：", zh_date_opt(f.concluded)));
    if !approved {
        b.push(Block::Gap(0.3));
        b.push(para(
            "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，\
             或者六个月内依法向人民法院提起行政诉讼。",
        ));
    }
    b.extend(foot(f));
    NoticeDoc {
        title: title.to_owned(),
        blocks: b,
    }
}

fn font() -> Result<FontRef<'static>, NoticeError> {
    FontRef::try_from_slice(FONT_BYTES).map_err(|_| NoticeError::Font)
}

/// The characters of `text` the bundled font has no glyph for (each once,
/// in order; whitespace ignored). They print as empty boxes.
///
/// # Errors
/// When the font cannot be read.
pub fn missing_glyphs(text: &str) -> Result<Vec<char>, NoticeError> {
    let f = font()?;
    let mut out = Vec::new();
    for c in text.chars() {
        if !c.is_whitespace() && f.glyph_id(c).0 == 0 && !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

/// A run of text placed on a page: its left edge, baseline, size in pixels
/// per em, weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Left edge in pixels.
    pub x: f32,
    /// Baseline in pixels from the top.
    pub baseline: f32,
    /// Pixels per em.
    pub px: f32,
    /// Drawn bold.
    pub bold: bool,
    /// The text.
    pub text: String,
}

/// One page: the runs on it.
pub type PageRuns = Vec<Run>;

/// ab_glyph scales by the font's ascent-to-descent height; notices speak
/// of points per em.
fn em_scale(f: &FontRef<'_>, px: f32) -> PxScale {
    let factor = f.units_per_em().map_or(1.0, |u| f.height_unscaled() / u);
    PxScale::from(px * factor)
}

fn char_width(f: &FontRef<'_>, scale: PxScale, px: f32, c: char) -> f32 {
    let id = f.glyph_id(c);
    if id.0 == 0 && !c.is_whitespace() {
        return px;
    }
    f.as_scaled(scale).h_advance(id)
}

fn text_width(f: &FontRef<'_>, px: f32, text: &str) -> f32 {
    let scale = em_scale(f, px);
    text.chars().map(|c| char_width(f, scale, px, c)).sum()
}

/// Closing punctuation that may hang past the right margin rather than
/// start a line.
fn hangs(c: char) -> bool {
    "，。、；：？！）》」』”’,.;:?!)".contains(c)
}

/// Opening punctuation, which may not end a line.
fn opens(c: char) -> bool {
    "（《「『“‘(".contains(c)
}

/// Breaks `text` into lines at most `width` pixels wide: between any two
/// Han characters, ASCII words kept whole when they fit, closing
/// punctuation hanging.
fn wrap(f: &FontRef<'_>, px: f32, text: &str, first: f32, width: f32) -> Vec<String> {
    let scale = em_scale(f, px);
    // Tokens: one non-ASCII character, or a run of ASCII non-space.
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        let joins = c.is_ascii_graphic()
            && tokens
                .last()
                .is_some_and(|t| t.chars().all(|k| k.is_ascii_graphic()));
        match tokens.last_mut() {
            Some(t) if joins => t.push(c),
            _ => tokens.push(c.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0.0;
    let mut avail = width - first;
    for tok in tokens {
        let w: f32 = tok.chars().map(|c| char_width(f, scale, px, c)).sum();
        let single = tok.chars().count() == 1;
        if used + w <= avail {
            line.push_str(&tok);
            used += w;
            continue;
        }
        if single && tok.chars().all(hangs) && !line.is_empty() {
            line.push_str(&tok);
            used += w;
            continue;
        }
        if w > avail {
            // A word longer than a line: break it by characters.
            for c in tok.chars() {
                let cw = char_width(f, scale, px, c);
                if used + cw > avail && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    used = 0.0;
                    avail = width;
                }
                line.push(c);
                used += cw;
            }
            continue;
        }
        // Opening punctuation never ends a line: it moves down too.
        let carried = match line.chars().last() {
            Some(c) if opens(c) && line.chars().count() > 1 => {
                line.pop();
                c.to_string()
            }
            _ => String::new(),
        };
        lines.push(std::mem::take(&mut line));
        avail = width;
        line.push_str(&carried);
        line.push_str(tok.trim_start());
        used = text_width(f, px, &line);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

struct Cursor {
    pages: Vec<PageRuns>,
    y: f32,
}

impl Cursor {
    /// Reserves a line `pitch` high and returns its baseline, starting a
    /// new page when the line would run into the bottom margin.
    fn line(&mut self, px: f32, pitch: f32) -> f32 {
        if self.y + pitch > PAGE_H as f32 - MARGIN_BOTTOM && self.y > MARGIN_TOP {
            self.pages.push(Vec::new());
            self.y = MARGIN_TOP;
        }
        let baseline = self.y + px * 0.88 + (pitch - px) / 2.0;
        self.y += pitch;
        baseline
    }

    fn put(&mut self, run: Run) {
        if let Some(p) = self.pages.last_mut() {
            p.push(run);
        }
    }
}

/// Places the blocks of a notice on A4 pages.
///
/// # Errors
/// When the font cannot be read.
pub fn layout(doc: &NoticeDoc) -> Result<Vec<PageRuns>, NoticeError> {
    let f = font()?;
    let body = BODY_PT * PX_PER_PT;
    let pitch = body * LEADING;
    let width = PAGE_W as f32 - 2.0 * MARGIN_X;
    let mut cur = Cursor {
        pages: vec![Vec::new()],
        y: MARGIN_TOP,
    };
    for block in &doc.blocks {
        match block {
            Block::Centred { text, pt, bold } => {
                let px = pt * PX_PER_PT;
                for line in wrap(&f, px, text, 0.0, width) {
                    let baseline = cur.line(px, px * 1.5);
                    let w = text_width(&f, px, &line);
                    cur.put(Run {
                        x: (PAGE_W as f32 - w) / 2.0,
                        baseline,
                        px,
                        bold: *bold,
                        text: line,
                    });
                }
            }
            Block::Right(text) => {
                let px = SMALL_PT * PX_PER_PT;
                let baseline = cur.line(px, px * LEADING);
                let w = text_width(&f, px, text);
                cur.put(Run {
                    x: (PAGE_W as f32 - MARGIN_X - w).max(MARGIN_X),
                    baseline,
                    px,
                    bold: false,
                    text: text.clone(),
                });
            }
            Block::Para { text, indent } => {
                let first = if *indent { 2.0 * body } else { 0.0 };
                for (i, line) in wrap(&f, body, text, first, width).into_iter().enumerate() {
                    let baseline = cur.line(body, pitch);
                    cur.put(Run {
                        x: MARGIN_X + if i == 0 { first } else { 0.0 },
                        baseline,
                        px: body,
                        bold: false,
                        text: line,
                    });
                }
            }
            Block::Item { label, text } => {
                let lw = text_width(&f, body, label).max(2.0 * body);
                let indent = 2.0 * body;
                let lines = wrap(&f, body, text, 0.0, width - indent - lw);
                for (i, line) in lines.into_iter().enumerate() {
                    let baseline = cur.line(body, pitch);
                    if i == 0 {
                        cur.put(Run {
                            x: MARGIN_X + indent,
                            baseline,
                            px: body,
                            bold: false,
                            text: label.clone(),
                        });
                    }
                    cur.put(Run {
                        x: MARGIN_X + indent + lw,
                        baseline,
                        px: body,
                        bold: false,
                        text: line,
                    });
                }
            }
            Block::Gap(lines) => cur.y += pitch * lines,
            Block::Sign(lines) => {
                let widest = lines
                    .iter()
                    .map(|l| text_width(&f, body, l))
                    .fold(0.0_f32, f32::max);
                let right = PAGE_W as f32 - MARGIN_X - body;
                for l in lines {
                    let baseline = cur.line(body, pitch);
                    let w = text_width(&f, body, l);
                    // Centred on the widest line, the block flush right.
                    cur.put(Run {
                        x: right - widest + (widest - w) / 2.0,
                        baseline,
                        px: body,
                        bold: false,
                        text: l.clone(),
                    });
                }
            }
        }
    }
    Ok(cur.pages)
}

/// A 1-bit raster, rows padded to whole bytes, most significant bit
/// first, 1 = ink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Packed rows.
    pub data: Vec<u8>,
}

impl Bitmap {
    fn blank(width: u32, height: u32) -> Self {
        let stride = width.div_ceil(8) as usize;
        Self {
            width,
            height,
            data: vec![0; stride * height as usize],
        }
    }

    fn stride(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    fn set(&mut self, x: i64, y: i64) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let (x, y) = (x as usize, y as usize);
        let at = y * self.stride() + x / 8;
        if let Some(b) = self.data.get_mut(at) {
            *b |= 0x80 >> (x % 8);
        }
    }

    /// Whether the pixel at (`x`, `y`) is ink.
    #[must_use]
    pub fn ink(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let at = y as usize * self.stride() + x as usize / 8;
        self.data
            .get(at)
            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }

    /// How many pixels are ink.
    #[must_use]
    pub fn ink_count(&self) -> u64 {
        self.data.iter().map(|b| u64::from(b.count_ones())).sum()
    }
}

/// Draws one page's runs onto an A4 raster; coverage of half a pixel or
/// more is ink. Bold is drawn twice, a pixel apart.
///
/// # Errors
/// When the font cannot be read.
pub fn render(runs: &PageRuns) -> Result<Bitmap, NoticeError> {
    let f = font()?;
    let mut bm = Bitmap::blank(PAGE_W, PAGE_H);
    for run in runs {
        let scale = em_scale(&f, run.px);
        let offsets: &[f32] = if run.bold { &[0.0, 1.0] } else { &[0.0] };
        for dx in offsets {
            let mut pen = run.x + dx;
            for c in run.text.chars() {
                let id = f.glyph_id(c);
                if id.0 == 0 && !c.is_whitespace() {
                    missing_box(&mut bm, pen, run.baseline, run.px);
                    pen += run.px;
                    continue;
                }
                let glyph = id.with_scale_and_position(scale, point(pen, run.baseline));
                if let Some(outlined) = f.outline_glyph(glyph) {
                    let b = outlined.px_bounds();
                    outlined.draw(|gx, gy, cov| {
                        if cov >= 0.5 {
                            bm.set(
                                b.min.x as i64 + i64::from(gx),
                                b.min.y as i64 + i64::from(gy),
                            );
                        }
                    });
                }
                pen += f.as_scaled(scale).h_advance(id);
            }
        }
    }
    Ok(bm)
}

/// An empty box where a glyph is missing, so the gap is seen.
fn missing_box(bm: &mut Bitmap, x: f32, baseline: f32, px: f32) {
    let (x0, x1) = ((x + px * 0.1) as i64, (x + px * 0.9) as i64);
    let (y0, y1) = ((baseline - px * 0.8) as i64, (baseline + px * 0.05) as i64);
    for xx in x0..=x1 {
        bm.set(xx, y0);
        bm.set(xx, y1);
    }
    for yy in y0..=y1 {
        bm.set(x0, yy);
        bm.set(x1, yy);
    }
}

/// PDF `/RunLengthDecode` coding of `data`.
#[must_use]
pub fn run_length(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 8 + 2);
    let mut i = 0;
    let mut literal: Vec<u8> = Vec::new();
    let flush = |out: &mut Vec<u8>, literal: &mut Vec<u8>| {
        for chunk in literal.chunks(128) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
        literal.clear();
    };
    while let Some(&b) = data.get(i) {
        let run = data.get(i..).map_or(1, |rest| {
            rest.iter().take(128).take_while(|&&x| x == b).count()
        });
        if run >= 3 {
            flush(&mut out, &mut literal);
            out.push((257 - run) as u8);
            out.push(b);
            i += run;
        } else {
            literal.push(b);
            i += 1;
        }
    }
    flush(&mut out, &mut literal);
    out.push(128);
    out
}

/// A PDF text string in UTF-16BE with its byte-order mark, hex-coded.
fn pdf_text(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for u in s.encode_utf16() {
        let _ = write!(out, "{u:04X}");
    }
    out.push('>');
    out
}

/// A PDF 1.4 file of A4 pages, one 1-bit image filling each, with the
/// title and creation date in its information dictionary.
#[must_use]
pub fn write_pdf(pages: &[Bitmap], title: &str, now: DateTime<Utc>) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    // 1 catalog, 2 page tree, 3 info, then per page: page, content, image.
    let page_obj = |i: usize| 4 + 3 * i;
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    let kids: Vec<String> = (0..pages.len())
        .map(|i| format!("{} 0 R", page_obj(i)))
        .collect();
    obj(
        &mut out,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .as_bytes(),
    );
    let created = to_china(now).format("D:%Y%m%d%H%M%S+08'00'");
    obj(
        &mut out,
        format!(
            "<< /Title {} /Producer {} /CreationDate ({created}) >>",
            pdf_text(title),
            pdf_text("卫东区政务服务平台")
        )
        .as_bytes(),
    );
    let (pw, ph) = A4_PT;
    for (i, bm) in pages.iter().enumerate() {
        let (content, image) = (page_obj(i) + 1, page_obj(i) + 2);
        obj(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2} {ph:.2}] \
                 /Resources << /XObject << /Im{i} {image} 0 R >> >> /Contents {content} 0 R >>"
            )
            .as_bytes(),
        );
        let draw = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im{i} Do Q");
        obj(
            &mut out,
            format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).as_bytes(),
        );
        let coded = run_length(&bm.data);
        // /Decode [1 0]: a 1 bit is black.
        let mut body = format!(
            "<< /Type /XObject /Subtype /Image /Width {} /Height {} /ColorSpace /DeviceGray \
             /BitsPerComponent 1 /Decode [1 0] /Filter /RunLengthDecode /Length {} >>\nstream\n",
            bm.width,
            bm.height,
            coded.len()
        )
        .into_bytes();
        body.extend_from_slice(&coded);
        body.extend_from_slice(b"\nendstream");
        obj(&mut out, &body);
    }
    let xref_at = out.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        let _ = writeln!(xref, "{o:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(xref.as_bytes());
    out
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
    use crate::service::people_seed::DEMO_STAFF;

    fn sample() -> NoticeFacts {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        NoticeFacts {
            case_number: "41040320261127000001".to_owned(),
            applicant: "张伟".to_owned(),
            matter: "无犯罪记录证明".to_owned(),
            matter_type: "公共服务".to_owned(),
            department: "平顶山市公安局卫东分局".to_owned(),
            channel: "web".to_owned(),
            submitted: d("2026-11-27"),
            accepted: d("2026-11-27"),
            limit_days: Some(5),
            deadline: d("2026-12-04"),
            concluded: d("2026-12-01"),
            approved: Some(false),
            opinion: "申请人提交的材料与实际情况不符".to_owned(),
            items: vec!["申请人居民身份证".to_owned(), "近期免冠照片".to_owned()],
            note: "照片不清晰，请重新上传".to_owned(),
            correction_on: d("2026-11-27"),
            flow: FlowKind::General,
            issued: d("2026-12-01").unwrap(),
        }
    }

    fn text_of(doc: &NoticeDoc) -> String {
        let mut out = doc.title.clone();
        for b in &doc.blocks {
            match b {
                Block::Centred { text, .. } | Block::Right(text) | Block::Para { text, .. } => {
                    out.push_str(text);
                }
                Block::Item { label, text } => {
                    out.push_str(label);
                    out.push_str(text);
                }
                Block::Sign(lines) => out.push_str(&lines.concat()),
                Block::Gap(_) => {}
            }
        }
        out
    }

    #[test]
    fn every_notice_text_and_demo_department_is_in_the_font() {
        let mut f = sample();
        let mut all = String::new();
        for approved in [true, false] {
            for t in ["行政许可", "公共服务"] {
                f.approved = Some(approved);
                t.clone_into(&mut f.matter_type);
                for k in NoticeKind::ALL {
                    all.push_str(&text_of(&compose(k, &f)));
                }
            }
        }
        for s in DEMO_STAFF {
            all.push_str(s.department);
            all.push_str(s.display_name);
        }
        assert_eq!(missing_glyphs(&all).unwrap(), Vec::<char>::new());
        // A character outside GB 2312 is reported, once.
        assert_eq!(missing_glyphs("㐀张㐀").unwrap(), vec!['㐀']);
    }

    #[test]
    fn notices_say_what_the_applicant_must_know() {
        let f = sample();
        let c = text_of(&compose(NoticeKind::Correction, &f));
        assert!(c.contains("一次性告知"));
        assert!(
            c.contains("1.申请人居民身份证") && c.contains("2.近期免冠照片"),
            "{c}"
        );
        assert!(c.contains("照片不清晰"));
        let a = text_of(&compose(NoticeKind::Acceptance, &f));
        assert!(
            a.contains("2026年12月04日") && a.contains("5个工作日"),
            "{a}"
        );
        assert!(a.contains("张伟") && a.contains("平顶山市公安局卫东分局"));
        let d = compose(NoticeKind::Decision, &f);
        assert_eq!(d.title, "不予办理决定书");
        let dt = text_of(&d);
        assert!(dt.contains("行政复议") && dt.contains("申请人提交的材料与实际情况不符"));
        let mut lic = f.clone();
        lic.matter_type = "行政许可".to_owned();
        lic.approved = Some(true);
        let d = compose(NoticeKind::Decision, &lic);
        assert_eq!(d.title, "准予行政许可决定书");
        assert!(!text_of(&d).contains("行政复议"));
    }

    #[test]
    fn wrapping_keeps_punctuation_rules_and_the_width() {
        let f = font().unwrap();
        let px = BODY_PT * PX_PER_PT;
        let text = "你（单位）于2026年11月27日通过卫东区政务服务网提交的“无犯罪记录证明”申请，\
                    经审查，申请材料齐全、符合法定形式（见附件），本机关决定予以受理。";
        // Every width from 10 to 20 characters: each break falls somewhere else.
        for chars in 10..=20u8 {
            let width = f32::from(chars) * px;
            let lines = wrap(&f, px, text, 0.0, width);
            assert!(lines.len() > 2);
            assert_eq!(lines.concat(), text, "nothing lost or added");
            for l in &lines {
                let first = l.chars().next().unwrap();
                let last = l.chars().last().unwrap();
                assert!(!hangs(first), "line starts with {first}: {l}");
                assert!(!opens(last), "line ends with {last}: {l}");
                let trimmed: String = l.chars().filter(|c| !hangs(*c)).collect();
                assert!(text_width(&f, px, &trimmed) <= width + 0.5, "{l}");
            }
        }
        // The case number is never broken when it fits on a line.
        let lines = wrap(&f, px, "办件编号：41040320261127000001号", 0.0, 400.0);
        assert!(lines.iter().any(|l| l.contains("41040320261127000001")));
    }

    /// PDF `/RunLengthDecode`, for checking the coder.
    fn decode(mut data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some((&n, rest)) = data.split_first() {
            match n {
                128 => break,
                0..=127 => {
                    let len = usize::from(n) + 1;
                    out.extend_from_slice(&rest[..len]);
                    data = &rest[len..];
                }
                _ => {
                    out.extend(std::iter::repeat_n(rest[0], 257 - usize::from(n)));
                    data = &rest[1..];
                }
            }
        }
        out
    }

    #[test]
    fn run_length_round_trips_and_shrinks_blank_rows() {
        let mut data = vec![0u8; 155 * 40];
        data.extend((0..=255u8).cycle().take(700));
        data.extend([7, 7, 1, 7, 7, 7, 2]);
        let coded = run_length(&data);
        assert_eq!(coded.last(), Some(&128));
        assert_eq!(decode(&coded), data);
        assert!(coded.len() < 155 * 40 / 32 + 720, "{}", coded.len());
        assert_eq!(decode(&run_length(&[])), Vec::<u8>::new());
    }

    #[test]
    fn a_long_list_flows_onto_a_second_page_within_the_margins() {
        let mut f = sample();
        f.items = (1..=25).map(|i| format!("第{i}项补正材料")).collect();
        let doc = compose(NoticeKind::Correction, &f);
        let pages = layout(&doc).unwrap();
        assert_eq!(pages.len(), 2);
        let bm = render(pages.first().unwrap()).unwrap();
        assert!(bm.ink_count() > 10_000);
        let margin_ink = (0..PAGE_W)
            .flat_map(|x| (0..100).map(move |y| (x, y)))
            .chain((0..PAGE_W).flat_map(|x| (PAGE_H - 100..PAGE_H).map(move |y| (x, y))))
            .filter(|&(x, y)| bm.ink(x, y))
            .count();
        assert_eq!(margin_ink, 0, "ink in the top or bottom margin");
        let bitmaps: Vec<Bitmap> = pages.iter().map(|p| render(p).unwrap()).collect();
        let pdf = write_pdf(&bitmaps, &doc.title, Utc::now());
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Count 2 "));
        assert_eq!(text.matches("/MediaBox [0 0 595.28 841.89]").count(), 2);
    }
}
