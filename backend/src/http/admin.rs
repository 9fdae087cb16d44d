//! The administration pages (管理), server-rendered, no JavaScript, for
//! staff logged in through the clerk login (a cookie session):
//!
//! - `/admin`: the sections the user's roles allow;
//! - `/admin/matters…` (事项管理): the catalogue with versions and states,
//!   the review chain (登记 → 审核 → 合法性审查 → 廉政风险审核 → 发布) with a
//!   pass/reject form for the department deciding the current stage, the
//!   change form (guide as JSON) and the provincial library import;
//! - `/admin/staff` (部门与人员): departments, staff accounts, a new
//!   account's TOTP secret shown once with its QR code, enable/disable;
//! - `/admin/holidays` (节假日): the years loaded and a year file import;
//! - `/admin/bulletins` (终端公告): the notices of the kiosks' idle screen,
//!   published and withdrawn by system admins (see `admin_bulletin`);
//! - `/admin/audit` (审计日志): the audit log, newest first, with the
//!   verdict of its hash chain.
//!
//! The services decide who may do what; the pages only hide what a role
//! cannot use. Every form that changes something carries the session's
//! CSRF token in a hidden `csrf` field.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::Router;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use proto::{Matter, Role};
use serde::Deserialize;

use super::clerk::{CSS, Clerk};
use super::extract::{ApiPath, ApiQuery};
use super::html::{HtmlError, heading, html_escape, page, url_segment};
use crate::AppState;
use crate::error::ApiError;
use crate::service::auth::StaffPrincipal;
use crate::service::catalogue;
use crate::service::catalogue_admin::{
    self, CHANGE_KINDS, ChangeRequest, ImportReport, LibraryFile, REVIEW_CHAIN, ReviewDecision,
    VersionLine,
};
use crate::service::staff_admin::{self, NewStaffRequest, StaffCreated, StaffLine};
use crate::store::{AuditRow, AuditVerdict, DepartmentRow, Store, StoreError};

/// Largest provincial library file accepted by the import page: 20 MiB.
pub(super) const IMPORT_LIMIT: usize = 20 * 1024 * 1024;
/// Largest holiday year file: 64 KiB.
const HOLIDAY_LIMIT: usize = 64 * 1024;

/// The administration routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/matters", get(matters_page))
        .route("/admin/matters/new", get(new_form).post(new_post))
        .route(
            "/admin/matters/import",
            get(import_form)
                .post(import_post)
                .layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/admin/matters/{code}", get(matter_page))
        .route(
            "/admin/matters/{code}/change",
            get(change_form).post(change_post),
        )
        .route(
            "/admin/matters/{code}/versions/{version}/review",
            post(review_post),
        )
        .route("/admin/staff", get(staff_page).post(staff_create))
        .route("/admin/staff/{username}/active", post(staff_active))
        .route("/admin/holidays", get(holidays_page).post(holidays_post))
        .route("/admin/audit", get(audit_html))
        .merge(super::admin_bulletin::router())
}

// --------------------------------------------------------------- sections

/// One administration section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Matters,
    Staff,
    Holidays,
    Bulletins,
    Audit,
}

impl Section {
    const ALL: [Self; 5] = [
        Self::Matters,
        Self::Staff,
        Self::Holidays,
        Self::Bulletins,
        Self::Audit,
    ];

    const fn href(self) -> &'static str {
        match self {
            Self::Matters => "/admin/matters",
            Self::Staff => "/admin/staff",
            Self::Holidays => "/admin/holidays",
            Self::Bulletins => "/admin/bulletins",
            Self::Audit => "/admin/audit",
        }
    }

    const fn id(self) -> &'static str {
        match self {
            Self::Matters => "matters",
            Self::Staff => "staff",
            Self::Holidays => "holidays",
            Self::Bulletins => "bulletins",
            Self::Audit => "audit",
        }
    }

    const fn zh(self) -> &'static str {
        match self {
            Self::Matters => "事项管理",
            Self::Staff => "部门与人员",
            Self::Holidays => "节假日",
            Self::Bulletins => "终端公告",
            Self::Audit => "审计日志",
        }
    }

    const fn en(self) -> &'static str {
        match self {
            Self::Matters => "Matter catalogue",
            Self::Staff => "Departments and staff",
            Self::Holidays => "Holidays",
            Self::Bulletins => "Kiosk notices",
            Self::Audit => "Audit log",
        }
    }

    const fn about(self) -> (&'static str, &'static str) {
        match self {
            Self::Matters => (
                "事项目录、版本与审核流程，登记变更，省级事项库导入。",
                "Catalogue, versions and reviews, changes, provincial import.",
            ),
            Self::Staff => (
                "部门列表，工作人员账号的创建、启用与停用。",
                "Departments; create, enable and disable staff accounts.",
            ),
            Self::Holidays => (
                "法定节假日与调休上班日，用于计算办理时限。",
                "Public holidays and make-up working days for deadlines.",
            ),
            Self::Bulletins => (
                "自助终端待机屏显示的通知公告：发布与撤回。",
                "Notices on the kiosks' idle screen: publish and withdraw.",
            ),
            Self::Audit => (
                "全部操作的留痕记录及其完整性校验（只读）。",
                "Every recorded action and the chain check (read only).",
            ),
        }
    }

    /// Whether the section is of use to `s` (the services decide again).
    fn allowed(self, s: &StaffPrincipal) -> bool {
        match self {
            Self::Matters => s.has(Role::CatalogueAdmin) || s.has(Role::Supervisor),
            Self::Staff | Self::Holidays | Self::Bulletins => s.has(Role::SystemAdmin),
            Self::Audit => s.has(Role::AuditAdmin) || s.has(Role::Supervisor),
        }
    }
}

pub(super) fn guard(clerk: &Clerk, section: Section) -> Result<(), ApiError> {
    if section.allowed(&clerk.staff) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn guard_catalogue_admin(clerk: &Clerk) -> Result<(), ApiError> {
    if clerk.staff.has(Role::CatalogueAdmin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

// ------------------------------------------------------------------ frame

const ADMIN_CSS: &str = "\
.sections{display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));gap:1rem;padding:0;list-style:none}\
.sections li{background:#fff;border:1px solid #d0d7de;padding:1rem}\
.sections a{font-size:1.15rem;font-weight:bold;color:#0b4a9e}\
textarea.code{width:100%;min-height:28rem;font-family:monospace;font-size:.9rem;box-sizing:border-box}\
form.act select,form.act input[type=password],form.act input[type=file]{font-size:1rem;padding:.4rem;\
width:100%;box-sizing:border-box;min-height:2.75rem}\
form.act label{display:block;margin:.6rem 0 .2rem}\
form.inline{display:inline;margin:0}\
.qr svg{width:16rem;max-width:100%;height:auto;background:#fff;border:1px solid #d0d7de}\
code.wrap{word-break:break-all;white-space:pre-wrap}\
.secret{font-family:monospace;font-size:1.2rem;letter-spacing:.1em;word-break:break-all}\
.links{display:flex;flex-wrap:wrap;gap:.6rem}\
.links a{display:inline-block;padding:.6rem 1rem;min-height:2.75rem;box-sizing:border-box;\
border:1px solid #0b4a9e;background:#fff;color:#0b4a9e;text-decoration:none;border-radius:.3rem}\
details pre{overflow-x:auto;background:#fff;border:1px solid #d0d7de;padding:.6rem;max-height:30rem}";

/// The bar (who, logout), the admin navigation and the page heading.
pub(super) fn frame(
    clerk: &Clerk,
    current: Option<Section>,
    title: (&str, &str),
    content: &str,
) -> Html<String> {
    let roles: Vec<&str> = clerk.staff.roles.iter().map(|r| r.zh()).collect();
    let mut body = format!("<style>{CSS}{ADMIN_CSS}</style>");
    let _ = write!(
        body,
        "<div class=\"who\"><span id=\"staff-name\">{}</span><span id=\"staff-department\">{}</span>\
         <span id=\"staff-roles\">{}</span>\
         <form method=\"post\" action=\"/clerk/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" id=\"logout\">退出登录 <small class=\"en\" lang=\"en\">Log out</small></button></form></div>",
        html_escape(&clerk.staff.display_name),
        html_escape(&clerk.staff.department),
        html_escape(&roles.join("、")),
        html_escape(&clerk.session.csrf()),
    );
    body.push_str(
        "<nav class=\"tabs\" aria-label=\"管理\"><a id=\"nav-clerk\" href=\"/clerk\">办件\
         <small class=\"en\" lang=\"en\">Cases</small></a>",
    );
    let home = if current.is_none() {
        " aria-current=\"page\""
    } else {
        ""
    };
    let _ = write!(
        body,
        "<a id=\"nav-admin\" href=\"/admin\"{home}>管理首页<small class=\"en\" lang=\"en\">Admin</small></a>"
    );
    for s in Section::ALL.into_iter().filter(|s| s.allowed(&clerk.staff)) {
        let cur = if current == Some(s) {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(
            body,
            "<a id=\"nav-{}\" href=\"{}\"{cur}>{}<small class=\"en\" lang=\"en\">{}</small></a>",
            s.id(),
            s.href(),
            s.zh(),
            s.en(),
        );
    }
    body.push_str("</nav>");
    body.push_str(&heading(1, title.0, title.1));
    body.push_str(content);
    page(title.0, &body)
}

pub(super) fn csrf_input(clerk: &Clerk) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        html_escape(&clerk.session.csrf())
    )
}

/// A message above the content: something done, or refused.
pub(super) enum Note {
    None,
    Ok(String, String),
    Refused(String, String),
}

impl Note {
    pub(super) fn error(e: &ApiError) -> Self {
        let (zh, en) = e.messages();
        Self::Refused(zh, en)
    }

    /// The message for a `?done=` code after a redirect (known codes only:
    /// nothing from the URL is echoed).
    fn done(code: Option<&str>) -> Self {
        let (zh, en) = match code {
            Some("registered") => (
                "变更已登记，等待审核",
                "Change registered; it waits for review",
            ),
            Some("pass") => ("已审核通过，转下一环节", "Passed to the next stage"),
            Some("publish") => (
                "已发布，新版本现已生效",
                "Published; the new version is live",
            ),
            Some("reject") => ("已退回", "Rejected"),
            Some("enabled") => ("账号已启用", "Account enabled"),
            Some("disabled") => (
                "账号已停用，其登录会话已结束",
                "Account disabled; its sessions have ended",
            ),
            Some("bulletin_published") => (
                "公告已发布，自助终端下次更新目录时显示",
                "Notice published; kiosks show it at their next catalogue update",
            ),
            Some("bulletin_withdrawn") => ("公告已撤回", "Notice withdrawn"),
            _ => return Self::None,
        };
        Self::Ok(zh.to_owned(), en.to_owned())
    }

    pub(super) fn html(&self) -> String {
        match self {
            Self::None => String::new(),
            Self::Ok(zh, en) => format!(
                "<p class=\"ok\" role=\"status\" id=\"flash\">{}<br><small class=\"en\" lang=\"en\">{}</small></p>",
                html_escape(zh),
                html_escape(en)
            ),
            Self::Refused(zh, en) => format!(
                "<p class=\"error\" role=\"alert\" id=\"flash\">{}<br><small class=\"en\" lang=\"en\">{}</small></p>",
                html_escape(zh),
                html_escape(en)
            ),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct DoneQuery {
    done: Option<String>,
}

pub(super) fn done_note(query: Result<ApiQuery<DoneQuery>, ApiError>) -> Note {
    let done = query.ok().and_then(|ApiQuery(q)| q.done);
    Note::done(done.as_deref())
}

/// The fields of an url-encoded form.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn of(form: Result<Form<Vec<(String, String)>>, FormRejection>) -> Self {
        Self(form.map(|Form(p)| p).unwrap_or_default())
    }

    fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Errors that end the request with an error page rather than the form
/// shown again.
pub(super) const fn is_fatal(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Forbidden
            | ApiError::NotFound
            | ApiError::CsrfRejected
            | ApiError::Internal(_)
            | ApiError::Unavailable(_)
    )
}

// ------------------------------------------------------------------ index

async fn index(clerk: Clerk) -> Result<Html<String>, HtmlError> {
    let allowed: Vec<Section> = Section::ALL
        .into_iter()
        .filter(|s| s.allowed(&clerk.staff))
        .collect();
    if allowed.is_empty() {
        return Err(ApiError::Forbidden.into());
    }
    let mut out = String::from("<ul class=\"sections\" id=\"admin-sections\">");
    for s in allowed {
        let (zh, en) = s.about();
        let readonly = if s == Section::Matters && !clerk.staff.has(Role::CatalogueAdmin) {
            " <span class=\"tag\">只读 <small class=\"en\" lang=\"en\">read only</small></span>"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<li id=\"section-{}\"><a href=\"{}\">{}<small class=\"en\" lang=\"en\">{}</small></a>{readonly}\
             <p>{}<br><small class=\"en\" lang=\"en\">{}</small></p></li>",
            s.id(),
            s.href(),
            s.zh(),
            s.en(),
            html_escape(zh),
            html_escape(en),
        );
    }
    out.push_str("</ul>");
    Ok(frame(&clerk, None, ("管理", "Administration"), &out))
}

// ---------------------------------------------------------------- matters

fn stage_zh(stage: &str) -> &str {
    match stage {
        "registered" => "待审核",
        "reviewed" => "待合法性审查",
        "legal_checked" => "待廉政风险审核",
        "integrity_checked" => "待发布",
        "published" => "已发布",
        "rejected" => "已退回",
        "superseded" => "已被替代",
        other => other,
    }
}

fn state_zh(state: &str) -> &str {
    match state {
        "published" => "在用",
        "suspended" => "暂停",
        "cancelled" => "取消",
        other => other,
    }
}

fn kind_zh(kind: &str) -> &str {
    match kind {
        "import" => "省级导入",
        other => CHANGE_KINDS
            .iter()
            .find(|(k, _)| *k == other)
            .map_or(other, |(_, zh)| zh),
    }
}

fn decision_zh(decision: &str) -> &str {
    match decision {
        "register" => "登记",
        "pass" => "通过",
        "reject" => "退回",
        "publish" => "发布",
        other => other,
    }
}

fn source_zh(source: &str) -> &str {
    match source {
        "seed" => "初始目录",
        "provincial" => "省级事项库",
        "local" => "本级登记",
        other => other,
    }
}

/// The step a trail line records: 登记, or the review step of its stage.
fn step_zh(stage: &str, decision: &str) -> String {
    if decision == "register" {
        return "登记".to_owned();
    }
    REVIEW_CHAIN
        .iter()
        .find(|c| c.0 == stage)
        .map_or_else(|| decision_zh(decision).to_owned(), |c| c.2.to_owned())
}

fn actor_name(actor: &str) -> &str {
    actor.strip_prefix("staff:").unwrap_or(actor)
}

fn matter_href(code: &str) -> String {
    format!("/admin/matters/{}", url_segment(code))
}

/// One line of the catalogue overview.
struct CatalogueRow {
    code: String,
    name: String,
    department: String,
    version: u32,
    kind: String,
    /// The matter's state (current versions) or the version's stage.
    state: String,
}

#[derive(Deserialize)]
struct GuideHead {
    name: String,
    department: String,
}

fn catalogue_row(
    v: &crate::store::MatterVersionRow,
    state: String,
) -> Result<CatalogueRow, StoreError> {
    let head: GuideHead = serde_json::from_str(&v.guide_json)?;
    Ok(CatalogueRow {
        code: v.code.clone(),
        name: head.name,
        department: head.department,
        version: v.version,
        kind: v.change_kind.clone(),
        state,
    })
}

/// The catalogue with every matter's current version and state (published,
/// suspended or cancelled alike), in catalogue order, and every version
/// under review.
async fn catalogue_overview(
    store: &Store,
) -> Result<(Vec<CatalogueRow>, Vec<CatalogueRow>), ApiError> {
    store
        .read(|tx| {
            let mut current = Vec::new();
            for v in tx.matter_versions_at("published")? {
                let state = tx
                    .matter_state(&v.code)?
                    .unwrap_or_else(|| "published".to_owned());
                let order = tx.matter_sort_order(&v.code)?.unwrap_or(i64::MAX);
                current.push((order, catalogue_row(&v, state)?));
            }
            current.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
            let mut review = Vec::new();
            for (stage, ..) in REVIEW_CHAIN {
                for v in tx.matter_versions_at(stage)? {
                    review.push(catalogue_row(&v, stage.to_owned())?);
                }
            }
            Ok::<_, ApiError>((current.into_iter().map(|(_, r)| r).collect(), review))
        })
        .await
}

fn version_table(id: &str, lines: &[VersionLine]) -> String {
    let mut out = format!(
        "<div class=\"scroll\"><table id=\"{id}\"><thead><tr><th>事项编码</th><th>名称</th><th>版本</th>\
         <th>变更类型</th><th>环节</th><th>登记时间</th><th>登记人</th></tr></thead><tbody>"
    );
    for v in lines {
        let _ = write!(
            out,
            "<tr data-code=\"{code}\"><td><a href=\"{}\">{code}</a></td><td>{}</td><td>第{}版</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&matter_href(&v.code)),
            html_escape(&v.name),
            v.version,
            html_escape(kind_zh(&v.change_kind)),
            html_escape(stage_zh(&v.stage)),
            html_escape(&v.created_at),
            html_escape(actor_name(&v.created_by)),
            code = html_escape(&v.code),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

fn catalogue_table(id: &str, rows: &[CatalogueRow], stage_column: bool) -> String {
    let last = if stage_column { "环节" } else { "状态" };
    let mut out = format!(
        "<div class=\"scroll\"><table id=\"{id}\"><thead><tr><th>事项编码</th><th>名称</th><th>承办部门</th>\
         <th>版本</th><th>变更类型</th><th>{last}</th></tr></thead><tbody>"
    );
    for r in rows {
        let state = if stage_column {
            stage_zh(&r.state)
        } else {
            state_zh(&r.state)
        };
        let _ = write!(
            out,
            "<tr data-code=\"{code}\"><td><a href=\"{}\">{code}</a></td><td>{}</td><td>{}</td><td>第{}版</td>\
             <td>{}</td><td class=\"state-{}\">{}</td></tr>",
            html_escape(&matter_href(&r.code)),
            html_escape(&r.name),
            html_escape(&r.department),
            r.version,
            html_escape(kind_zh(&r.kind)),
            html_escape(&r.state),
            html_escape(state),
            code = html_escape(&r.code),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

async fn matters_page(
    State(s): State<AppState>,
    clerk: Clerk,
    query: Result<ApiQuery<DoneQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    guard(&clerk, Section::Matters)?;
    let admin = clerk.staff.has(Role::CatalogueAdmin);
    let mut out = done_note(query).html();
    if admin {
        out.push_str(
            "<p class=\"links\"><a id=\"matter-new\" href=\"/admin/matters/new\">登记新事项\
             <small class=\"en\" lang=\"en\">Register a new matter</small></a>\
             <a id=\"matter-import\" href=\"/admin/matters/import\">省级事项库导入\
             <small class=\"en\" lang=\"en\">Provincial import</small></a></p>",
        );
        let pending = catalogue_admin::pending(&s.store, &clerk.staff).await?;
        let _ = write!(
            out,
            "{}<p class=\"muted\">本部门（{}）需要审核的版本，按登记先后排列。\
             <small class=\"en\" lang=\"en\">Versions your department decides, oldest first.</small></p>",
            heading(2, "待审核", "Waiting for my department"),
            html_escape(&clerk.staff.department),
        );
        if pending.is_empty() {
            out.push_str(
                "<p id=\"pending-empty\">暂无待审核的版本。<small class=\"en\" lang=\"en\">Nothing to review.</small></p>",
            );
        } else {
            out.push_str(&version_table("pending", &pending));
        }
    } else {
        out.push_str(
            "<p class=\"tag\" id=\"read-only\">督查只读 <small class=\"en\" lang=\"en\">Read only</small></p>",
        );
    }
    let (current, review) = catalogue_overview(&s.store).await?;
    out.push_str(&heading(2, "审核中的版本", "Versions under review"));
    if review.is_empty() {
        out.push_str(
            "<p>暂无审核中的版本。<small class=\"en\" lang=\"en\">No version under review.</small></p>",
        );
    } else {
        out.push_str(&catalogue_table("in-review", &review, true));
    }
    out.push_str(&heading(2, "事项目录", "Catalogue"));
    let _ = write!(
        out,
        "<p class=\"muted\">共 {} 项 <small class=\"en\" lang=\"en\">matters</small></p>",
        current.len()
    );
    out.push_str(&catalogue_table("catalogue", &current, false));
    Ok(frame(
        &clerk,
        Some(Section::Matters),
        ("事项管理", "Matter catalogue"),
        &out,
    ))
}

async fn matter_page(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<DoneQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiPath(code) = path?;
    matter_html(&s, &clerk, &code, &done_note(query), "").await
}

/// The guide and the catalogue state of every version of a matter
/// (guides only for versions under review, to show what changes).
async fn matter_facts(
    store: &Store,
    code: &str,
) -> Result<(Option<String>, BTreeMap<u32, String>), ApiError> {
    let code = code.to_owned();
    store
        .read(move |tx| {
            let state = tx.matter_state(&code)?;
            let guides = tx
                .matter_versions(&code)?
                .into_iter()
                .filter(|v| REVIEW_CHAIN.iter().any(|c| c.0 == v.stage))
                .map(|v| (v.version, v.guide_json))
                .collect();
            Ok::<_, ApiError>((state, guides))
        })
        .await
}

/// The top-level fields of `proposed` that differ from `live` (version aside).
fn changed_fields(live: Option<&Matter>, proposed: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(new)) = serde_json::from_str::<serde_json::Value>(proposed)
    else {
        return Vec::new();
    };
    let old = live
        .and_then(|m| serde_json::to_value(m).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    new.iter()
        .filter(|(k, v)| k.as_str() != "version" && old.get(k.as_str()) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| json.to_owned())
}

/// The version the user's department decides now (the oldest one).
fn deciding<'a>(staff: &StaffPrincipal, versions: &'a [VersionLine]) -> Option<&'a VersionLine> {
    if !staff.has(Role::CatalogueAdmin) {
        return None;
    }
    versions.iter().rev().find(|v| {
        REVIEW_CHAIN
            .iter()
            .any(|c| c.0 == v.stage && c.1 == staff.department)
    })
}

fn review_form(clerk: &Clerk, v: &VersionLine, opinion: &str) -> String {
    let Some(&(_, dept, step, next)) = REVIEW_CHAIN.iter().find(|c| c.0 == v.stage) else {
        return String::new();
    };
    let (pass_zh, pass_en) = if next == "published" {
        ("发布", "Publish")
    } else {
        ("通过", "Pass")
    };
    let mut out = heading(2, &format!("审核：第{}版 · {step}", v.version), "Review");
    let _ = write!(
        out,
        "<form class=\"act\" method=\"post\" action=\"{}/versions/{}/review\" id=\"review-form\">{}\
         <p>当前环节：{}（{}）<small class=\"en\" lang=\"en\">Current stage</small></p>\
         <label for=\"opinion\">审核意见（必填） <small class=\"en\" lang=\"en\">Opinion (required)</small></label>\
         <textarea id=\"opinion\" name=\"opinion\" maxlength=\"500\" required>{}</textarea>\
         <p><button type=\"submit\" name=\"decision\" value=\"pass\" id=\"review-pass\">{pass_zh}\
         <small class=\"en\" lang=\"en\">{pass_en}</small></button> \
         <button type=\"submit\" name=\"decision\" value=\"reject\" id=\"review-reject\" class=\"danger\">退回\
         <small class=\"en\" lang=\"en\">Reject</small></button></p></form>",
        html_escape(&matter_href(&v.code)),
        v.version,
        csrf_input(clerk),
        html_escape(step),
        html_escape(dept),
        html_escape(opinion),
    );
    out
}

fn version_block(v: &VersionLine, live: Option<&Matter>, guide: Option<&String>) -> String {
    let mut out = format!(
        "<section id=\"version-{}\">{}",
        v.version,
        heading(
            2,
            &format!(
                "第{}版 · {} · {}",
                v.version,
                kind_zh(&v.change_kind),
                stage_zh(&v.stage)
            ),
            &format!("Version {}", v.version),
        )
    );
    let _ = write!(
        out,
        "<dl class=\"facts\"><dt>名称</dt><dd>{}</dd><dt>来源</dt><dd>{}</dd><dt>登记时间</dt><dd>{}</dd>\
         <dt>登记人</dt><dd>{}</dd></dl>",
        html_escape(&v.name),
        html_escape(source_zh(&v.source)),
        html_escape(&v.created_at),
        html_escape(actor_name(&v.created_by)),
    );
    if let Some(g) = guide {
        let changed = changed_fields(live, g);
        let list = if changed.is_empty() {
            "无（内容与现行版本相同）".to_owned()
        } else {
            changed.join("、")
        };
        let _ = write!(
            out,
            "<p class=\"changed\">与现行版本相比变更的字段：<strong>{}</strong>\
             <small class=\"en\" lang=\"en\">Fields changed from the live version</small></p>\
             <details><summary>查看本版办事指南（JSON） <small class=\"en\" lang=\"en\">Show the guide</small></summary>\
             <pre>{}</pre></details>",
            html_escape(&list),
            html_escape(&pretty(g)),
        );
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"trail\"><thead><tr><th>时间</th><th>环节</th><th>结论</th>\
         <th>办理人</th><th>意见</th></tr></thead><tbody>",
    );
    for r in &v.reviews {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"decision-{}\">{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&r.at),
            html_escape(&step_zh(&r.stage, &r.decision)),
            html_escape(&r.decision),
            html_escape(decision_zh(&r.decision)),
            html_escape(actor_name(&r.actor)),
            html_escape(&r.opinion),
        );
    }
    out.push_str("</tbody></table></div></section>");
    out
}

async fn matter_html(
    s: &AppState,
    clerk: &Clerk,
    code: &str,
    note: &Note,
    opinion: &str,
) -> Result<Html<String>, HtmlError> {
    let versions = catalogue_admin::versions(&s.store, &clerk.staff, code).await?;
    let live = catalogue::get(&s.store, code).await.ok();
    let (state, guides) = matter_facts(&s.store, code).await?;
    let name = live
        .as_ref()
        .map(|m| m.name.clone())
        .or_else(|| versions.first().map(|v| v.name.clone()))
        .unwrap_or_default();
    let mut out = format!(
        "<p><a href=\"/admin/matters\">事项管理</a> › {}</p>",
        html_escape(&name)
    );
    out.push_str(&note.html());
    let _ = write!(
        out,
        "<dl class=\"facts\"><dt>事项编码</dt><dd id=\"matter-code\">{}</dd><dt>现行版本</dt><dd id=\"matter-version\">{}</dd>\
         <dt>状态</dt><dd id=\"matter-state\">{}</dd><dt>承办部门</dt><dd>{}</dd></dl>",
        html_escape(code),
        live.as_ref()
            .map_or_else(|| "尚未发布".to_owned(), |m| format!("第{}版", m.version)),
        html_escape(state.as_deref().map_or("未入目录", state_zh)),
        html_escape(live.as_ref().map_or("—", |m| m.department.as_str())),
    );
    out.push_str("<p class=\"links\">");
    if state.as_deref() == Some("published") {
        let _ = write!(
            out,
            "<a href=\"/matters/{}\">查看门户办事指南 <small class=\"en\" lang=\"en\">Public guide</small></a>",
            url_segment(code)
        );
    }
    if clerk.staff.has(Role::CatalogueAdmin) && live.is_some() {
        let _ = write!(
            out,
            "<a id=\"matter-change\" href=\"{h}/change\">登记变更（变更、下放、暂停、取消）\
             <small class=\"en\" lang=\"en\">Register a change</small></a>\
             <a href=\"/admin/matters/new?from={}\">以此为模板登记或拆分新事项\
             <small class=\"en\" lang=\"en\">New or split matter from this one</small></a>",
            url_segment(code),
            h = html_escape(&matter_href(code)),
        );
    }
    out.push_str("</p>");
    if let Some(v) = deciding(&clerk.staff, &versions) {
        out.push_str(&review_form(clerk, v, opinion));
    }
    for v in &versions {
        out.push_str(&version_block(v, live.as_ref(), guides.get(&v.version)));
    }
    Ok(frame(
        clerk,
        Some(Section::Matters),
        (&name, "Matter"),
        &out,
    ))
}

async fn review_post(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<(String, u32)>, ApiError>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let ApiPath((code, version)) = path.map_err(|_| ApiError::NotFound)?;
    let f = Fields::of(form);
    clerk.session.check_form_csrf(f.get("csrf"))?;
    let d = ReviewDecision {
        decision: f.get("decision").to_owned(),
        opinion: f.get("opinion").to_owned(),
    };
    match catalogue_admin::review(&s.store, &clerk.staff, &code, version, d.clone(), s.now()).await
    {
        Ok(v) => {
            let done = if v.stage == "published" {
                "publish"
            } else if v.stage == "rejected" {
                "reject"
            } else {
                "pass"
            };
            let to = format!("{}?done={done}", matter_href(&code));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            let html = matter_html(&s, &clerk, &code, &Note::error(&e), &d.opinion).await?;
            Ok((e.status(), html).into_response())
        }
    }
}

// ---------------------------------------------------------- change forms

/// What a change form registers against.
enum Target {
    /// A matter in the catalogue (变更, 下放, 暂停, 取消).
    Existing(String),
    /// A new matter (登记, 拆分).
    New,
}

impl Target {
    fn kinds(&self) -> &'static [&'static str] {
        match self {
            Self::Existing(_) => &["change", "delegate", "suspend", "cancel"],
            Self::New => &["new", "split"],
        }
    }

    fn action(&self) -> String {
        match self {
            Self::Existing(code) => format!("{}/change", matter_href(code)),
            Self::New => "/admin/matters/new".to_owned(),
        }
    }
}

/// What the change form shows.
struct ChangeForm<'a> {
    target: &'a Target,
    kind: &'a str,
    guide: &'a str,
    opinion: &'a str,
    intro: String,
    problem: Note,
}

fn change_html(clerk: &Clerk, f: &ChangeForm<'_>) -> Html<String> {
    let (title_zh, title_en) = match f.target {
        Target::Existing(_) => ("登记变更", "Register a change"),
        Target::New => ("登记新事项", "Register a new matter"),
    };
    let mut out = String::from("<p><a href=\"/admin/matters\">事项管理</a>");
    if let Target::Existing(code) = f.target {
        let _ = write!(
            out,
            " › <a href=\"{}\">{}</a>",
            html_escape(&matter_href(code)),
            html_escape(code)
        );
    }
    out.push_str("</p>");
    out.push_str(&f.problem.html());
    out.push_str(&f.intro);
    let _ = write!(
        out,
        "<form class=\"act\" method=\"post\" action=\"{}\" id=\"change-form\">{}\
         <label for=\"change_kind\">变更类型 <small class=\"en\" lang=\"en\">Kind of change</small></label>\
         <select id=\"change_kind\" name=\"change_kind\">",
        html_escape(&f.target.action()),
        csrf_input(clerk),
    );
    for k in f.target.kinds() {
        let sel = if *k == f.kind { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{k}\"{sel}>{}（{k}）</option>",
            html_escape(kind_zh(k))
        );
    }
    let _ = write!(
        out,
        "</select>\
         <label for=\"guide\">办事指南（JSON，版本号自动递增） <small class=\"en\" lang=\"en\">Guide as JSON; the version is set automatically</small></label>\
         <textarea class=\"code\" id=\"guide\" name=\"guide\" spellcheck=\"false\" required>{}</textarea>\
         <label for=\"change-opinion\">登记说明 <small class=\"en\" lang=\"en\">Reason</small></label>\
         <textarea id=\"change-opinion\" name=\"opinion\" maxlength=\"500\">{}</textarea>\
         <p><button type=\"submit\" id=\"change-submit\">提交审核 <small class=\"en\" lang=\"en\">Submit for review</small></button></p>\
         </form>",
        html_escape(f.guide),
        html_escape(f.opinion),
    );
    frame(clerk, Some(Section::Matters), (title_zh, title_en), &out)
}

#[derive(Debug, Deserialize)]
struct FromQuery {
    from: Option<String>,
}

async fn change_form(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    guard_catalogue_admin(&clerk)?;
    let ApiPath(code) = path?;
    let live = catalogue::get(&s.store, &code).await?;
    let text =
        serde_json::to_string_pretty(&live).map_err(|e| ApiError::Internal(e.to_string()))?;
    let target = Target::Existing(code);
    let intro = format!(
        "<p>现行为第{}版《{}》。修改下方办事指南后提交，经审核、合法性审查、廉政风险审核后发布生效。\
         暂停、取消也须经同样的审核。<br><small class=\"en\" lang=\"en\">Edit the guide below; it takes effect \
         once reviewed, legally checked, integrity checked and published.</small></p>",
        live.version,
        html_escape(&live.name)
    );
    Ok(change_html(
        &clerk,
        &ChangeForm {
            target: &target,
            kind: "change",
            guide: &text,
            opinion: "",
            intro,
            problem: Note::None,
        },
    ))
}

async fn new_form(
    State(s): State<AppState>,
    clerk: Clerk,
    query: Result<ApiQuery<FromQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    guard_catalogue_admin(&clerk)?;
    let from = query.ok().and_then(|ApiQuery(q)| q.from);
    let template = match from {
        Some(code) => catalogue::get(&s.store, &code).await?,
        None => {
            let first = catalogue::list(&s.store, None, Some(1), None).await?;
            let code = first
                .items
                .first()
                .map(|m| m.code.clone())
                .ok_or(ApiError::MatterNotFound)?;
            catalogue::get(&s.store, &code).await?
        }
    };
    let intro = format!(
        "<p>已按现有事项《{}》预填，请填写新的事项编码、名称并修改其余内容。拆分时请逐一登记拆分出的新事项。\
         <br><small class=\"en\" lang=\"en\">Prefilled from an existing matter: give a new code and name, \
         and edit the rest. For a split, register each new matter.</small></p>",
        html_escape(&template.name)
    );
    let mut blank = template;
    blank.code = String::new();
    blank.name = String::new();
    blank.version = 1;
    let text =
        serde_json::to_string_pretty(&blank).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(change_html(
        &clerk,
        &ChangeForm {
            target: &Target::New,
            kind: "new",
            guide: &text,
            opinion: "",
            intro,
            problem: Note::None,
        },
    ))
}

async fn change_post(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let ApiPath(code) = path?;
    submit_change(&s, &clerk, &Target::Existing(code), &Fields::of(form)).await
}

async fn new_post(
    State(s): State<AppState>,
    clerk: Clerk,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    submit_change(&s, &clerk, &Target::New, &Fields::of(form)).await
}

/// Parses the guide text, pointing at the line and column at fault.
fn parse_guide(text: &str) -> Result<Matter, Note> {
    serde_json::from_str::<Matter>(text).map_err(|e| {
        Note::Refused(
            format!("办事指南 JSON 第{}行第{}列有误：{e}", e.line(), e.column()),
            format!(
                "The guide JSON is invalid at line {}, column {}",
                e.line(),
                e.column()
            ),
        )
    })
}

async fn submit_change(
    s: &AppState,
    clerk: &Clerk,
    target: &Target,
    f: &Fields,
) -> Result<Response, HtmlError> {
    clerk.session.check_form_csrf(f.get("csrf"))?;
    guard_catalogue_admin(clerk)?;
    let (kind, text, opinion) = (f.get("change_kind"), f.get("guide"), f.get("opinion"));
    let again = |problem: Note, status: StatusCode| {
        let html = change_html(
            clerk,
            &ChangeForm {
                target,
                kind,
                guide: text,
                opinion,
                intro: String::new(),
                problem,
            },
        );
        Ok((status, html).into_response())
    };
    let guide = match parse_guide(text) {
        Ok(g) => g,
        Err(problem) => return again(problem, StatusCode::UNPROCESSABLE_ENTITY),
    };
    if let Target::Existing(code) = target
        && guide.code != *code
    {
        return again(
            Note::Refused(
                "事项编码不能修改；新事项请通过“登记新事项”登记".to_owned(),
                "The code cannot change here; register a new matter instead".to_owned(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let req = ChangeRequest {
        change_kind: kind.to_owned(),
        guide,
        opinion: opinion.to_owned(),
    };
    match catalogue_admin::register_change(&s.store, &clerk.staff, req, s.now()).await {
        Ok(v) => {
            let to = format!("{}?done=registered", matter_href(&v.code));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => again(Note::error(&e), e.status()),
    }
}

// ----------------------------------------------------------------- import

/// A multipart form read whole: `(field name, bytes)`.
async fn read_multipart(
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    let mut mp = mp.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let mut out = Vec::new();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        if out.len() >= 8 {
            return Err(ApiError::BadRequest("too many form fields".to_owned()));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(multipart_error)?;
        out.push((name, bytes.to_vec()));
    }
    Ok(out)
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::BadRequest(e.body_text())
    }
}

fn part<'a>(parts: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    parts
        .iter()
        .find(|(n, _)| n == name)
        .map_or(&[], |(_, b)| b.as_slice())
}

fn import_html(clerk: &Clerk, problem: &Note, report: Option<&ImportReport>) -> Html<String> {
    let mut out = String::from("<p><a href=\"/admin/matters\">事项管理</a> › 省级事项库导入</p>");
    out.push_str(&problem.html());
    if let Some(r) = report {
        out.push_str(&report_html(r));
    }
    let _ = write!(
        out,
        "<p>上传从省级政务服务事项库导出的文件（格式 weidong-matter-library/1，JSON，不超过 20 MiB）。\
         省级事项库为准：新事项直接发布，内容有变化的事项生成新版本并发布，未变化的不动；重复导入同一文件不会产生变化。\
         <br><small class=\"en\" lang=\"en\">Upload the provincial library export (weidong-matter-library/1, JSON, \
         up to 20 MiB). New matters are published, changed ones get a new version, unchanged ones are left alone.</small></p>\
         <form class=\"act\" method=\"post\" action=\"/admin/matters/import\" enctype=\"multipart/form-data\" id=\"import-form\">{}\
         <label for=\"library-file\">事项库文件 <small class=\"en\" lang=\"en\">Library file</small></label>\
         <input type=\"file\" id=\"library-file\" name=\"file\" accept=\".json,application/json\" required>\
         <p><button type=\"submit\" id=\"import-submit\">导入 <small class=\"en\" lang=\"en\">Import</small></button></p></form>",
        csrf_input(clerk),
    );
    frame(
        clerk,
        Some(Section::Matters),
        ("省级事项库导入", "Provincial library import"),
        &out,
    )
}

fn code_list(codes: &[String]) -> String {
    if codes.is_empty() {
        return "<p>无 <small class=\"en\" lang=\"en\">None</small></p>".to_owned();
    }
    let mut out = String::from("<ul>");
    for c in codes {
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a></li>",
            html_escape(&matter_href(c)),
            html_escape(c)
        );
    }
    out.push_str("</ul>");
    out
}

fn report_html(r: &ImportReport) -> String {
    let mut out = format!(
        "<div class=\"ok\" role=\"status\" id=\"import-report\"><p>导入完成：新增 <strong id=\"import-added\">{}</strong> 项，\
         变更 <strong id=\"import-changed\">{}</strong> 项，未变化 <strong id=\"import-unchanged\">{}</strong> 项。\
         <br><small class=\"en\" lang=\"en\">Imported: added, changed, unchanged.</small></p>",
        r.added.len(),
        r.changed.len(),
        r.unchanged,
    );
    out.push_str(&heading(3, "新增事项", "Added"));
    out.push_str(&code_list(&r.added));
    out.push_str(&heading(3, "变更事项", "Changed"));
    out.push_str(&code_list(&r.changed));
    out.push_str("</div>");
    out
}

async fn import_form(clerk: Clerk) -> Result<Html<String>, HtmlError> {
    guard_catalogue_admin(&clerk)?;
    Ok(import_html(&clerk, &Note::None, None))
}

async fn import_post(
    State(s): State<AppState>,
    clerk: Clerk,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, HtmlError> {
    // The role first: nobody else's upload is even read.
    guard_catalogue_admin(&clerk)?;
    let parts = read_multipart(mp).await?;
    clerk
        .session
        .check_form_csrf(&String::from_utf8_lossy(part(&parts, "csrf")))?;
    let refused = |problem: Note, status: StatusCode| {
        Ok((status, import_html(&clerk, &problem, None)).into_response())
    };
    let file: LibraryFile = match serde_json::from_slice(part(&parts, "file")) {
        Ok(f) => f,
        Err(e) => {
            return refused(
                Note::Refused(
                    format!(
                        "文件不是有效的事项库文件（第{}行第{}列）：{e}",
                        e.line(),
                        e.column()
                    ),
                    format!(
                        "Not a valid library file (line {}, column {})",
                        e.line(),
                        e.column()
                    ),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    let actor = format!("staff:{}", clerk.staff.username);
    match catalogue_admin::import(&s.store, &actor, file, s.now()).await {
        Ok(report) => Ok(import_html(&clerk, &Note::None, Some(&report)).into_response()),
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => refused(Note::error(&e), e.status()),
    }
}

// ------------------------------------------------------------------ staff

/// What the create form keeps after a refusal (never the password).
#[derive(Default)]
struct StaffDraft {
    username: String,
    display_name: String,
    department: String,
    roles: Vec<Role>,
}

/// Roles a system administrator may grant (三员分立: not the admin roles).
fn grantable() -> impl Iterator<Item = Role> {
    Role::ALL
        .into_iter()
        .filter(|r| !matches!(r, Role::SystemAdmin | Role::AuditAdmin))
}

fn level_zh(level: &str) -> &str {
    match level {
        "district" => "区级部门",
        "street" => "街道",
        other => other,
    }
}

fn departments_table(depts: &[DepartmentRow]) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table id=\"departments\"><thead><tr><th>部门</th><th>代码</th><th>层级</th>\
         <th>电话</th></tr></thead><tbody>",
    );
    for d in depts {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&d.name),
            html_escape(&d.code),
            html_escape(level_zh(&d.level)),
            html_escape(&d.phone),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

fn locked_text(until: Option<&str>, now: DateTime<Utc>) -> String {
    let Some(until) = until else {
        return "—".to_owned();
    };
    match DateTime::parse_from_rfc3339(until) {
        Ok(t) if t.with_timezone(&Utc) <= now => "—".to_owned(),
        _ => format!("锁定至 {until}"),
    }
}

fn staff_table(clerk: &Clerk, staff: &[StaffLine], now: DateTime<Utc>) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table id=\"staff\"><thead><tr><th>登录名</th><th>姓名</th><th>部门</th>\
         <th>岗位角色</th><th>状态</th><th>锁定</th><th>操作</th></tr></thead><tbody>",
    );
    for st in staff {
        let roles: Vec<&str> = st
            .roles
            .iter()
            .map(|c| match Role::from_code(c) {
                Some(r) => r.zh(),
                None => c.as_str(),
            })
            .collect();
        let state = if st.active {
            "<span class=\"mark mark-normal\">启用<small class=\"en\" lang=\"en\">Active</small></span>"
        } else {
            "<span class=\"mark mark-stopped\">停用<small class=\"en\" lang=\"en\">Disabled</small></span>"
        };
        let action = if st.id == clerk.staff.id {
            "<span class=\"muted\">本人</span>".to_owned()
        } else {
            let (value, id, zh, en, class) = if st.active {
                ("0", "disable", "停用", "Disable", " class=\"danger\"")
            } else {
                ("1", "enable", "启用", "Enable", "")
            };
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/admin/staff/{}/active\">{}\
                 <input type=\"hidden\" name=\"active\" value=\"{value}\">\
                 <button type=\"submit\" id=\"{id}-{}\"{class}>{zh}<small class=\"en\" lang=\"en\">{en}</small></button></form>",
                url_segment(&st.username),
                csrf_input(clerk),
                html_escape(&st.username),
            )
        };
        let _ = write!(
            out,
            "<tr data-user=\"{u}\"><td>{u}</td><td>{}</td><td>{}</td><td>{}</td><td>{state}</td><td>{}</td><td>{action}</td></tr>",
            html_escape(&st.display_name),
            html_escape(&st.department),
            html_escape(&roles.join("、")),
            html_escape(&locked_text(st.locked_until.as_deref(), now)),
            u = html_escape(&st.username),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

fn create_form(clerk: &Clerk, depts: &[DepartmentRow], draft: &StaffDraft) -> String {
    let mut out = heading(2, "新建工作人员账号", "New staff account");
    let _ = write!(
        out,
        "<form class=\"act\" method=\"post\" action=\"/admin/staff\" id=\"staff-create\">{}\
         <label for=\"username\">登录名（3–32位字母、数字或下划线） <small class=\"en\" lang=\"en\">User name</small></label>\
         <input type=\"text\" id=\"username\" name=\"username\" required maxlength=\"32\" autocomplete=\"off\" value=\"{}\">\
         <label for=\"display_name\">姓名 <small class=\"en\" lang=\"en\">Name</small></label>\
         <input type=\"text\" id=\"display_name\" name=\"display_name\" required maxlength=\"32\" value=\"{}\">\
         <label for=\"department\">部门 <small class=\"en\" lang=\"en\">Department</small></label>\
         <select id=\"department\" name=\"department\" required>",
        csrf_input(clerk),
        html_escape(&draft.username),
        html_escape(&draft.display_name),
    );
    for d in depts {
        let sel = if d.name == draft.department {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<option value=\"{n}\"{sel}>{n}</option>",
            n = html_escape(&d.name)
        );
    }
    out.push_str(
        "</select><fieldset><legend>岗位角色（系统管理、审计管理不在此授予） \
         <small class=\"en\" lang=\"en\">Roles (not the administrator roles)</small></legend>",
    );
    for r in grantable() {
        let checked = if draft.roles.contains(&r) {
            " checked"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<label class=\"check\"><input type=\"checkbox\" name=\"roles\" id=\"role-{c}\" value=\"{c}\"{checked}> {}\
             <small class=\"en\" lang=\"en\">{}</small></label>",
            r.zh(),
            r.en(),
            c = r.as_str(),
        );
    }
    out.push_str(
        "</fieldset>\
         <label for=\"password\">初始密码（至少12位，含大小写字母、数字和符号） <small class=\"en\" lang=\"en\">Initial password</small></label>\
         <input type=\"password\" id=\"password\" name=\"password\" required maxlength=\"128\" autocomplete=\"new-password\">\
         <p><button type=\"submit\" id=\"staff-create-submit\">创建账号 <small class=\"en\" lang=\"en\">Create</small></button></p></form>",
    );
    out
}

async fn staff_html(
    s: &AppState,
    clerk: &Clerk,
    note: &Note,
    draft: &StaffDraft,
) -> Result<Html<String>, HtmlError> {
    let staff = staff_admin::list_staff(&s.store, &clerk.staff).await?;
    let depts = s
        .store
        .read(|tx| tx.departments())
        .await
        .map_err(ApiError::from)?;
    let mut out = note.html();
    out.push_str(&heading(2, "工作人员", "Staff"));
    out.push_str(&staff_table(clerk, &staff, s.now()));
    out.push_str(&create_form(clerk, &depts, draft));
    out.push_str(&heading(2, "部门", "Departments"));
    out.push_str(&departments_table(&depts));
    Ok(frame(
        clerk,
        Some(Section::Staff),
        ("部门与人员", "Departments and staff"),
        &out,
    ))
}

async fn staff_page(
    State(s): State<AppState>,
    clerk: Clerk,
    query: Result<ApiQuery<DoneQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    staff_html(&s, &clerk, &done_note(query), &StaffDraft::default()).await
}

/// The QR code of `text` as an inline `<svg>` element (no XML prolog).
fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    let start = svg.find("<svg")?;
    let element = svg.get(start + 4..)?;
    Some(format!(
        "<svg id=\"totp-qr\" role=\"img\" aria-label=\"动态口令二维码 TOTP QR code\"{element}"
    ))
}

fn created_html(clerk: &Clerk, username: &str, c: &StaffCreated) -> Html<String> {
    let qr = qr_svg(&c.otpauth_uri).unwrap_or_default();
    let out = format!(
        "<p class=\"ok\" role=\"status\" id=\"flash\">账号 <strong id=\"created-username\">{}</strong> 已创建。\
         <small class=\"en\" lang=\"en\">Account created.</small></p>\
         <p class=\"error\" role=\"alert\">动态口令密钥只显示这一次：请当面交给本人，用身份验证器应用扫描二维码或手工输入密钥。\
         离开本页后无法再次查看。<br><small class=\"en\" lang=\"en\">The authenticator secret is shown only once: \
         hand it to the person to scan or type in. It cannot be shown again.</small></p>\
         <div class=\"qr\">{qr}</div>\
         <dl class=\"facts\"><dt>密钥 <small class=\"en\" lang=\"en\">Secret</small></dt>\
         <dd><span class=\"secret\" id=\"totp-secret\">{}</span></dd>\
         <dt>otpauth 地址 <small class=\"en\" lang=\"en\">URI</small></dt>\
         <dd><code class=\"wrap\" id=\"otpauth-uri\">{}</code></dd></dl>\
         <p class=\"links\"><a href=\"/admin/staff\">返回部门与人员 <small class=\"en\" lang=\"en\">Back</small></a></p>",
        html_escape(username),
        html_escape(&c.totp_secret),
        html_escape(&c.otpauth_uri),
    );
    frame(
        clerk,
        Some(Section::Staff),
        ("账号已创建", "Account created"),
        &out,
    )
}

async fn staff_create(
    State(s): State<AppState>,
    clerk: Clerk,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let f = Fields::of(form);
    clerk.session.check_form_csrf(f.get("csrf"))?;
    let draft = StaffDraft {
        username: f.get("username").trim().to_owned(),
        display_name: f.get("display_name").trim().to_owned(),
        department: f.get("department").to_owned(),
        roles: f.all("roles").filter_map(Role::from_code).collect(),
    };
    if f.all("roles").any(|c| Role::from_code(c).is_none()) {
        let e = ApiError::InvalidField {
            field: "roles",
            reason_zh: "没有这个岗位角色",
            reason_en: "no such role",
        };
        let html = staff_html(&s, &clerk, &Note::error(&e), &draft).await?;
        return Ok((e.status(), html).into_response());
    }
    let req = NewStaffRequest {
        username: draft.username.clone(),
        display_name: draft.display_name.clone(),
        department: draft.department.clone(),
        roles: draft.roles.clone(),
        password: f.get("password").to_owned(),
    };
    match staff_admin::create_staff(&s.store, &clerk.staff, req, s.now()).await {
        Ok(created) => Ok(created_html(&clerk, &draft.username, &created).into_response()),
        // A system administrator refused (an admin role asked for) sees the
        // form again; anyone else gets the refusal page from the list.
        Err(e) if is_fatal(&e) && !matches!(e, ApiError::Forbidden) => Err(e.into()),
        Err(e) => {
            let html = staff_html(&s, &clerk, &Note::error(&e), &draft).await?;
            Ok((e.status(), html).into_response())
        }
    }
}

async fn staff_active(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let ApiPath(username) = path?;
    let f = Fields::of(form);
    clerk.session.check_form_csrf(f.get("csrf"))?;
    let active = match f.get("active") {
        "1" => true,
        "0" => false,
        _ => {
            return Err(ApiError::InvalidField {
                field: "active",
                reason_zh: "应为启用或停用",
                reason_en: "must be enable or disable",
            }
            .into());
        }
    };
    staff_admin::set_staff_active(&s.store, &clerk.staff, &username, active, s.now()).await?;
    let done = if active { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("/admin/staff?done={done}")).into_response())
}

// --------------------------------------------------------------- holidays

/// Per year: (holidays, make-up working days).
async fn holiday_years(store: &Store) -> Result<BTreeMap<String, (usize, usize)>, ApiError> {
    let days = store
        .read(|tx| tx.holidays())
        .await
        .map_err(ApiError::from)?;
    let mut years: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (day, workday) in days {
        let year = day.get(..4).unwrap_or("?").to_owned();
        let e = years.entry(year).or_default();
        if workday {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    Ok(years)
}

/// The year files built into the program (they apply unless a year is
/// imported over them).
fn shipped_years() -> String {
    let mut out = heading(2, "系统内置的年份", "Built-in years");
    out.push_str(
        "<p class=\"muted\">内置年份随系统发布；导入同一年份的文件后，以导入的条目为准补充。\
         <small class=\"en\" lang=\"en\">Shipped with the system; imported entries add to them.</small></p>\
         <div class=\"scroll\"><table id=\"holiday-shipped\"><thead><tr><th>年份</th><th>依据</th>\
         <th>放假的工作日</th><th>调休上班日</th></tr></thead><tbody>",
    );
    let cal = casework::calendar::Calendar::shipped();
    for y in cal.years() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            y.year,
            html_escape(&y.source),
            y.non_working_weekdays(),
            y.make_up_workdays(),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

async fn holidays_html(
    s: &AppState,
    clerk: &Clerk,
    note: &Note,
    text: &str,
) -> Result<Html<String>, HtmlError> {
    guard(clerk, Section::Holidays)?;
    let years = holiday_years(&s.store).await?;
    let mut out = note.html();
    out.push_str(&shipped_years());
    out.push_str(&heading(2, "已导入的年份", "Years imported"));
    if years.is_empty() {
        out.push_str(
            "<p id=\"holiday-none\">尚未导入。<small class=\"en\" lang=\"en\">None imported.</small></p>",
        );
    } else {
        out.push_str(
            "<div class=\"scroll\"><table id=\"holiday-years\"><thead><tr><th>年份</th><th>放假日</th>\
             <th>调休上班日</th></tr></thead><tbody>",
        );
        for (year, (off, on)) in years.iter().rev() {
            let _ = write!(
                out,
                "<tr data-year=\"{y}\"><td>{y}</td><td>{off}</td><td>{on}</td></tr>",
                y = html_escape(year)
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out.push_str(&heading(2, "导入年度节假日文件", "Import a year file"));
    let _ = write!(
        out,
        "<p>文件格式同 assets/holidays/2026.toml：year、source，以及每个节日的 name、days（放假日）和 workdays（调休上班日）。\
         导入会替换该年份的全部条目。<br><small class=\"en\" lang=\"en\">Same TOML format as assets/holidays/2026.toml; \
         importing replaces that year's entries.</small></p>\
         <form class=\"act\" method=\"post\" action=\"/admin/holidays\" enctype=\"multipart/form-data\" id=\"holiday-form\">{}\
         <label for=\"holiday-file\">上传文件 <small class=\"en\" lang=\"en\">Upload a file</small></label>\
         <input type=\"file\" id=\"holiday-file\" name=\"file\" accept=\".toml,text/plain\">\
         <label for=\"holiday-toml\">或粘贴文件内容 <small class=\"en\" lang=\"en\">or paste it</small></label>\
         <textarea class=\"code\" id=\"holiday-toml\" name=\"toml\" spellcheck=\"false\">{}</textarea>\
         <p><button type=\"submit\" id=\"holiday-submit\">导入 <small class=\"en\" lang=\"en\">Import</small></button></p></form>",
        csrf_input(clerk),
        html_escape(text),
    );
    Ok(frame(
        clerk,
        Some(Section::Holidays),
        ("节假日", "Holidays"),
        &out,
    ))
}

async fn holidays_page(State(s): State<AppState>, clerk: Clerk) -> Result<Html<String>, HtmlError> {
    holidays_html(&s, &clerk, &Note::None, "").await
}

async fn holidays_post(
    State(s): State<AppState>,
    clerk: Clerk,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, HtmlError> {
    let parts = read_multipart(mp).await?;
    clerk
        .session
        .check_form_csrf(&String::from_utf8_lossy(part(&parts, "csrf")))?;
    let file = part(&parts, "file");
    let bytes = if file.is_empty() {
        part(&parts, "toml")
    } else {
        file
    };
    if bytes.len() > HOLIDAY_LIMIT {
        return Err(ApiError::PayloadTooLarge.into());
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        let e = ApiError::InvalidField {
            field: "toml",
            reason_zh: "文件应为 UTF-8 编码的文本",
            reason_en: "the file must be UTF-8 text",
        };
        let html = holidays_html(&s, &clerk, &Note::error(&e), "").await?;
        return Ok((e.status(), html).into_response());
    };
    match staff_admin::import_holidays(&s.store, &clerk.staff, text, s.now()).await {
        Ok(days) => {
            let note = Note::Ok(
                format!("已导入，共 {days} 天（放假日与调休上班日）"),
                format!("Imported {days} days"),
            );
            Ok(holidays_html(&s, &clerk, &note, "").await?.into_response())
        }
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            let html = holidays_html(&s, &clerk, &Note::error(&e), text).await?;
            Ok((e.status(), html).into_response())
        }
    }
}

// ------------------------------------------------------------------ audit

#[derive(Debug, Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

fn verdict_html(v: &AuditVerdict) -> String {
    match v {
        AuditVerdict::Intact { count, .. } => format!(
            "<p class=\"ok\" role=\"status\" id=\"audit-verdict\" data-intact=\"true\">审计链完整（共 {count} 条）\
             <br><small class=\"en\" lang=\"en\">The chain is intact ({count} rows)</small></p>"
        ),
        AuditVerdict::Broken { at_id, .. } => format!(
            "<p class=\"error\" role=\"alert\" id=\"audit-verdict\" data-intact=\"false\">审计链已被篡改，第 {at_id} 条\
             <br><small class=\"en\" lang=\"en\">The chain has been tampered with at row {at_id}</small></p>"
        ),
    }
}

fn audit_table(rows: &[AuditRow]) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table id=\"audit\"><thead><tr><th>序号</th><th>时间</th><th>操作人</th>\
         <th>角色</th><th>操作</th><th>对象</th><th>操作前</th><th>操作后</th><th>说明</th></tr></thead><tbody>",
    );
    for r in rows {
        let e = &r.record;
        let _ = write!(
            out,
            "<tr data-id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><code class=\"wrap\">{}</code></td><td><code class=\"wrap\">{}</code></td><td>{}</td></tr>",
            r.id,
            r.id,
            html_escape(&e.at),
            html_escape(&e.actor),
            html_escape(&e.role),
            html_escape(&e.action),
            html_escape(&e.object),
            html_escape(&e.before),
            html_escape(&e.after),
            html_escape(&e.detail),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

async fn audit_html(
    State(s): State<AppState>,
    clerk: Clerk,
    query: Result<ApiQuery<AuditQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiQuery(q) = query?;
    let (rows, verdict) = staff_admin::audit_page(&s.store, &clerk.staff, q.before).await?;
    let mut out = verdict_html(&verdict);
    if rows.is_empty() {
        out.push_str("<p id=\"audit-empty\">没有更早的记录。<small class=\"en\" lang=\"en\">No older rows.</small></p>");
    } else {
        out.push_str(&audit_table(&rows));
    }
    out.push_str("<p class=\"links\">");
    if q.before.is_some() {
        out.push_str(
            "<a id=\"audit-newest\" href=\"/admin/audit\">最新记录 <small class=\"en\" lang=\"en\">Newest</small></a>",
        );
    }
    if let Some(oldest) = rows.last().map(|r| r.id).filter(|id| *id > 1) {
        let _ = write!(
            out,
            "<a id=\"audit-older\" href=\"/admin/audit?before={oldest}\">更早的记录 <small class=\"en\" lang=\"en\">Older</small></a>"
        );
    }
    out.push_str("</p>");
    Ok(frame(
        &clerk,
        Some(Section::Audit),
        ("审计日志", "Audit log"),
        &out,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_qr_code_is_an_inline_svg_element() {
        let svg = qr_svg("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap_or_default();
        assert!(svg.starts_with("<svg id=\"totp-qr\""), "{svg}");
        assert!(!svg.contains("<?xml"));
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn unknown_done_codes_say_nothing() {
        assert!(matches!(Note::done(Some("<script>")), Note::None));
        assert!(Note::done(Some("publish")).html().contains("已发布"));
    }

    #[test]
    fn a_changed_field_is_named() {
        let json = r#"{"name":"甲","hours":"9-17","version":3}"#;
        let mut changed = changed_fields(None, json);
        changed.sort();
        assert_eq!(changed, ["hours", "name"]);
    }

    #[test]
    fn administrator_roles_are_not_granted_here() {
        assert!(!grantable().any(|r| matches!(r, Role::SystemAdmin | Role::AuditAdmin)));
        assert_eq!(grantable().count(), Role::ALL.len() - 2);
    }

    #[test]
    fn an_expired_lock_is_not_shown() {
        let now = Utc::now();
        assert_eq!(locked_text(None, now), "—");
        assert_eq!(locked_text(Some("2000-01-01T00:00:00+08:00"), now), "—");
        assert!(locked_text(Some("2999-01-01T00:00:00+08:00"), now).contains("锁定至"));
    }
}
