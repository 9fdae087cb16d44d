//! The clerk workbench (通用审批系统), server-rendered, no JavaScript:
//! login with password then TOTP (a cookie session), the inboxes 待办 /
//! 已办 / 办结 / 补正 / 全部在办, the case page (materials viewer, workflow,
//! timeline, one form per allowed action), printable notices as PDF, and
//! the kiosk fleet page for maintenance staff.
//!
//! Every form that changes something carries the session's CSRF token in
//! a hidden `csrf` field. Personal data are shown as the services return
//! them (masked unless the viewer handles the case).

use std::fmt::Write as _;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use proto::{Matter, Role};
use serde::Deserialize;

use super::auth_api::{session_cookie, with_cookie};
use super::extract::{ApiPath, ApiQuery, SessionAuth, StaffAuth};
use super::html::{HtmlError, heading, html_escape, page, url_segment};
use crate::AppState;
use crate::error::ApiError;
use crate::service::auth::{self, Principal, StaffPrincipal};
use crate::service::notice::{self, NoticeKind};
use crate::service::workflow::{self, CaseLine, CaseView, Inbox};
use crate::service::{catalogue, kiosks};

/// Where the login form is.
const LOGIN: &str = "/clerk/login";

/// The clerk's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clerk", get(index))
        .route("/clerk/login", get(login_page).post(login_password))
        .route("/clerk/login/totp", get(totp_get).post(login_totp))
        .route("/clerk/logout", post(logout))
        .route("/clerk/inbox/{inbox}", get(inbox_page))
        .route("/clerk/cases/{case_number}", get(case_page))
        .route("/clerk/cases/{case_number}/act", post(act))
        .route("/clerk/cases/{case_number}/materials/{id}", get(material))
        .route("/clerk/cases/{case_number}/notice/{file}", get(notice_pdf))
        .route("/clerk/kiosks", get(kiosks_page))
        .merge(super::clerk_alerts::router())
}

// ---------------------------------------------------------------- session

/// A logged-in member of staff on an HTML page: without a session the
/// browser is sent to the login form; other refusals are HTML pages.
pub(super) struct Clerk {
    pub(super) staff: StaffPrincipal,
    pub(super) session: SessionAuth,
}

impl FromRequestParts<AppState> for Clerk {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match StaffAuth::from_request_parts(parts, state).await {
            Ok(a) => Ok(Self {
                staff: a.staff,
                session: a.session,
            }),
            Err(ApiError::NotLoggedIn) => Err(Redirect::to(LOGIN).into_response()),
            Err(e) => Err(HtmlError(e).into_response()),
        }
    }
}

const CASE_ROLES: [Role; 4] = [
    Role::WindowClerk,
    Role::Reviewer,
    Role::Approver,
    Role::Supervisor,
];
const FLEET_ROLES: [Role; 3] = [Role::Maintenance, Role::Supervisor, Role::SystemAdmin];

fn any_role(s: &StaffPrincipal, roles: &[Role]) -> bool {
    s.roles.iter().any(|r| roles.contains(r))
}

async fn index(clerk: Clerk) -> Redirect {
    if !any_role(&clerk.staff, &CASE_ROLES) && any_role(&clerk.staff, &FLEET_ROLES) {
        Redirect::to("/clerk/kiosks")
    } else {
        Redirect::to("/clerk/inbox/todo")
    }
}

// ------------------------------------------------------------------ login

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Deserialize)]
struct TotpForm {
    #[serde(default)]
    pending_token: String,
    #[serde(default)]
    code: String,
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn login_failed_box() -> String {
    let (zh, en) = ApiError::LoginFailed.messages();
    format!(
        "<p class=\"error\" role=\"alert\">{}<br><small class=\"en\" lang=\"en\">{}</small></p>",
        html_escape(&zh),
        html_escape(&en)
    )
}

fn render_login(failed: bool, username: &str) -> Html<String> {
    let mut body = format!("<style>{CSS}</style>");
    body.push_str(&heading(1, "窗口办件登录", "Clerk login"));
    if failed {
        body.push_str(&login_failed_box());
    }
    let _ = write!(
        body,
        "<form class=\"login\" method=\"post\" action=\"/clerk/login\" id=\"login-form\">\
         <label for=\"username\">用户名 <small class=\"en\" lang=\"en\">User name</small></label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required maxlength=\"64\" value=\"{}\">\
         <label for=\"password\">密码 <small class=\"en\" lang=\"en\">Password</small></label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required maxlength=\"128\">\
         <p><button type=\"submit\" id=\"login-submit\">下一步 <small class=\"en\" lang=\"en\">Next</small></button></p>\
         <p class=\"muted\">登录需要密码和动态口令两项验证。\
         <small class=\"en\" lang=\"en\">Login needs the password and an authenticator code.</small></p>\
         </form>",
        html_escape(username)
    );
    page("窗口办件登录", &body)
}

fn render_totp(pending: &str, failed: bool) -> Html<String> {
    let mut body = format!("<style>{CSS}</style>");
    body.push_str(&heading(1, "动态口令验证", "Authenticator code"));
    if failed {
        body.push_str(&login_failed_box());
    }
    let _ = write!(
        body,
        "<form class=\"login\" method=\"post\" action=\"/clerk/login/totp\" id=\"totp-form\">\
         <input type=\"hidden\" name=\"pending_token\" value=\"{}\">\
         <label for=\"code\">六位动态口令 <small class=\"en\" lang=\"en\">Six-digit code</small></label>\
         <input id=\"code\" name=\"code\" inputmode=\"numeric\" pattern=\"[0-9]{{6}}\" maxlength=\"6\" \
         autocomplete=\"one-time-code\" required autofocus>\
         <p><button type=\"submit\" id=\"totp-submit\">登录 <small class=\"en\" lang=\"en\">Log in</small></button></p>\
         <p><a href=\"/clerk/login\">重新输入用户名和密码 <small class=\"en\" lang=\"en\">Start again</small></a></p>\
         </form>",
        html_escape(pending)
    );
    page("动态口令验证", &body)
}

async fn login_page() -> Html<String> {
    render_login(false, "")
}

async fn totp_get() -> Redirect {
    // The code form follows the password form; the pending token travels
    // in its hidden field, never in a URL.
    Redirect::to(LOGIN)
}

async fn login_password(
    State(s): State<AppState>,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Ok(Form(f)) = form else {
        return Ok((StatusCode::UNAUTHORIZED, render_login(true, "")).into_response());
    };
    match auth::staff_password(&s.store, &f.username, &f.password, s.now()).await {
        Ok(p) => Ok(render_totp(&p.token, false).into_response()),
        Err(ApiError::LoginFailed) => {
            let name: String = f.username.trim().chars().take(64).collect();
            Ok((StatusCode::UNAUTHORIZED, render_login(true, &name)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn login_totp(
    State(s): State<AppState>,
    form: Result<Form<TotpForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let Ok(Form(f)) = form else {
        return Ok((StatusCode::UNAUTHORIZED, render_login(true, "")).into_response());
    };
    if f.pending_token.is_empty() || f.pending_token.len() > 128 {
        return Ok((StatusCode::UNAUTHORIZED, render_login(true, "")).into_response());
    }
    match auth::staff_totp(&s.store, &f.pending_token, &f.code, s.now()).await {
        Ok(_) => {
            let cookie = session_cookie(&f.pending_token, s.config.secure_cookies);
            Ok(with_cookie(Redirect::to("/clerk").into_response(), &cookie))
        }
        Err(ApiError::LoginFailed) => Ok((
            StatusCode::UNAUTHORIZED,
            render_totp(&f.pending_token, true),
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}

async fn logout(
    State(s): State<AppState>,
    clerk: Clerk,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let csrf = form.map(|Form(f)| f.csrf).unwrap_or_default();
    clerk.session.check_form_csrf(&csrf)?;
    auth::logout(&s.store, &clerk.session.auth, s.now()).await?;
    let cookie = session_cookie("", s.config.secure_cookies);
    Ok(with_cookie(Redirect::to(LOGIN).into_response(), &cookie))
}

// ----------------------------------------------------------------- frame

/// The workbench styles (the admin pages use them too).
pub(super) const CSS: &str = "\
.who{display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center;background:#fff;\
border:1px solid #d0d7de;padding:.6rem 1rem;margin-bottom:1rem}\
.who form{margin:0 0 0 auto}\
nav.tabs{display:flex;flex-wrap:wrap;gap:.4rem;margin:0 0 1rem}\
nav.tabs a{display:inline-block;padding:.6rem 1rem;min-height:2.75rem;box-sizing:border-box;\
border:1px solid #d0d7de;background:#fff;color:#0b4a9e;text-decoration:none;border-radius:.3rem}\
nav.tabs a[aria-current=page]{background:#b3261e;color:#fff;border-color:#b3261e}\
.count{font-weight:bold;margin-left:.3em}\
.scroll{overflow-x:auto}\
.mark{display:inline-block;padding:0 .4rem;border-radius:.2rem;white-space:nowrap}\
.mark-yellow{background:#fff3bf;color:#5c4300;border:1px solid #d4a800;font-weight:bold}\
.mark-red{background:#ffe3e3;color:#a50e0e;border:1px solid #d33;font-weight:bold}\
.mark-stopped{background:#e9ecef;color:#333;border:1px dashed #555;font-weight:bold}\
.mark-normal{color:#1a7f37}.mark-done,.mark-none{color:#555}\
ol.steps{display:flex;flex-wrap:wrap;gap:.4rem;list-style:none;padding:0;margin:.4rem 0}\
ol.steps li{padding:.4rem .8rem;border:1px solid #d0d7de;background:#fff;border-radius:.3rem}\
ol.steps li.past{background:#eef1f4;color:#555}\
ol.steps li.current{background:#b3261e;color:#fff;border-color:#b3261e;font-weight:bold}\
form.act{background:#fff;border:1px solid #d0d7de;padding:.8rem 1rem;margin:.8rem 0}\
form.act textarea{width:100%;min-height:5rem;font-size:1rem;box-sizing:border-box}\
form.act fieldset{border:1px solid #d0d7de;margin:.4rem 0}\
form.act label.check{display:block;padding:.35rem 0;min-height:2rem}\
form.act input[type=text]{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}\
button{font-size:1rem;padding:.6rem 1.2rem;min-height:2.75rem;cursor:pointer}\
button.danger{border:1px solid #a50e0e;color:#a50e0e;background:#fff}\
.error{background:#ffe3e3;border:1px solid #d33;padding:.8rem 1rem}\
.ok{background:#e6f4ea;border:1px solid #1a7f37;padding:.8rem 1rem}\
.materials{display:flex;flex-wrap:wrap;gap:1rem}\
.materials figure{margin:0;background:#fff;border:1px solid #d0d7de;padding:.5rem;max-width:100%}\
.materials img{display:block;max-width:100%;max-height:24rem}\
form.login{background:#fff;border:1px solid #d0d7de;padding:1.2rem;max-width:26rem}\
form.login label{display:block;margin:.6rem 0 .2rem}\
form.login input{font-size:1.1rem;padding:.5rem;width:100%;box-sizing:border-box}\
ul.notices li{margin:.4rem 0}\
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}main{padding:0 .6rem}}";

/// The workbench bar: who is logged in, the inbox tabs, logout.
pub(super) fn bar(clerk: &Clerk, counts: &[(Inbox, usize)], current: Option<Inbox>) -> String {
    let roles: Vec<&str> = clerk.staff.roles.iter().map(|r| r.zh()).collect();
    let mut out = format!("<style>{CSS}</style>");
    let _ = write!(
        out,
        "<div class=\"who\"><span id=\"staff-name\">{}</span><span id=\"staff-department\">{}</span>\
         <span id=\"staff-roles\">{}</span>",
        html_escape(&clerk.staff.display_name),
        html_escape(&clerk.staff.department),
        html_escape(&roles.join("、")),
    );
    if any_role(&clerk.staff, &FLEET_ROLES) {
        out.push_str("<a href=\"/clerk/kiosks\">终端设备状态</a>");
    }
    let admin_roles = [
        Role::CatalogueAdmin,
        Role::SystemAdmin,
        Role::AuditAdmin,
        Role::Supervisor,
    ];
    if any_role(&clerk.staff, &admin_roles) {
        out.push_str(
            "<a href=\"/admin\" id=\"nav-admin\">管理 <small class=\"en\" lang=\"en\">Admin</small></a>",
        );
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/clerk/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" id=\"logout\">退出登录 <small class=\"en\" lang=\"en\">Log out</small></button></form></div>",
        html_escape(&clerk.session.csrf())
    );
    if any_role(&clerk.staff, &CASE_ROLES) {
        out.push_str("<nav class=\"tabs\" aria-label=\"收件箱\">");
        for b in tabs_for(&clerk.staff) {
            let count = counts
                .iter()
                .find(|(k, _)| *k == b)
                .map(|(_, n)| format!("<span class=\"count\">{n}</span>"))
                .unwrap_or_default();
            let cur = if current == Some(b) {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(
                out,
                "<a id=\"inbox-{code}\" href=\"/clerk/inbox/{code}\"{cur}>{}\
                 <small class=\"en\" lang=\"en\">{}</small>{count}</a>",
                html_escape(b.zh()),
                inbox_en(b),
                code = b.as_str(),
            );
        }
        if clerk.staff.has(Role::WindowClerk) {
            out.push_str(super::clerk_window::DRAFTS_TAB);
            out.push_str(super::clerk_window::WINDOW_TAB);
        }
        out.push_str("</nav>");
    }
    out
}

fn tabs_for(s: &StaffPrincipal) -> Vec<Inbox> {
    Inbox::ALL
        .into_iter()
        .filter(|b| *b != Inbox::All || s.has(Role::Supervisor))
        .collect()
}

/// The deadline marker: a class for colour and always a word, so colour
/// is never the only sign.
fn marker(warning: &str) -> String {
    let (zh, en) = match warning {
        "yellow" => ("临期", "Due soon"),
        "red" => ("超期", "Overdue"),
        "stopped" => ("计时暂停", "Clock stopped"),
        "done" => ("已办结", "Concluded"),
        "normal" => ("正常", "On time"),
        _ => ("未开始计时", "Not started"),
    };
    let class = match warning {
        "yellow" | "red" | "stopped" | "done" | "normal" => warning,
        _ => "none",
    };
    format!(
        "<span class=\"mark mark-{class}\">{zh}<small class=\"en\" lang=\"en\">{en}</small></span>"
    )
}

fn remaining(days: Option<i64>) -> String {
    match days {
        Some(d) if d < 0 => format!("超期{}个工作日", -d),
        Some(d) => format!("剩余{d}个工作日"),
        None => "—".to_owned(),
    }
}

fn channel_zh(c: &str) -> &str {
    match c {
        "kiosk" => "自助终端",
        "window" => "窗口",
        "web" => "网上",
        other => other,
    }
}

pub(super) fn case_href(number: &str) -> String {
    format!("/clerk/cases/{}", url_segment(number))
}

// ----------------------------------------------------------------- inbox

async fn inbox_page(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiPath(which) = path?;
    let which = Inbox::from_code(&which).ok_or(ApiError::NotFound)?;
    if which == Inbox::All && !clerk.staff.has(Role::Supervisor) {
        return Err(ApiError::Forbidden.into());
    }
    let now = s.now();
    let mut counts = Vec::new();
    let mut lines = Vec::new();
    for b in tabs_for(&clerk.staff) {
        let list = workflow::inbox(&s.store, &clerk.staff, b, now).await?;
        counts.push((b, list.len()));
        if b == which {
            lines = list;
        }
    }
    let mut body = bar(&clerk, &counts, Some(which));
    if clerk.staff.has(Role::WindowClerk) {
        // Residents calling for staff at a kiosk (呼叫工作人员).
        let calls = crate::service::alerts::open_for(&s.store, &clerk.staff).await?;
        body.push_str(&super::clerk_alerts::panel(
            &calls,
            &clerk.session.csrf(),
            super::clerk_alerts::Back::Inbox,
            now,
            true,
        ));
    }
    body.push_str(&heading(1, which.zh(), inbox_en(which)));
    body.push_str(&inbox_table(&lines));
    Ok(page(which.zh(), &body))
}

const fn inbox_en(b: Inbox) -> &'static str {
    match b {
        Inbox::Todo => "To do",
        Inbox::Done => "Done by me",
        Inbox::Concluded => "Concluded",
        Inbox::Correction => "Awaiting correction",
        Inbox::All => "All open cases",
    }
}

fn inbox_table(lines: &[CaseLine]) -> String {
    if lines.is_empty() {
        return "<p id=\"inbox-empty\">暂无办件。<small class=\"en\" lang=\"en\">No cases.</small></p>"
            .to_owned();
    }
    let mut out = String::from(
        "<div class=\"scroll\"><table id=\"inbox-table\"><thead><tr><th>办件编号</th><th>事项</th>\
         <th>申请人</th><th>当前环节</th><th>当前部门</th><th>提交时间</th><th>办理期限</th>\
         <th>剩余工作日</th><th>时限状态</th></tr></thead><tbody>",
    );
    for c in lines {
        let sub = if c.subcase {
            " <span class=\"tag\">子件</span>"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<tr data-case=\"{num}\"><td><a href=\"{}\">{num}</a>{sub}</td><td>{}</td><td>{}</td>\
             <td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            html_escape(&case_href(&c.case_number)),
            html_escape(&c.matter_name),
            html_escape(&c.applicant),
            html_escape(&c.step_name),
            html_escape(&c.status_zh),
            html_escape(c.current_department.as_deref().unwrap_or("—")),
            html_escape(&c.submitted),
            html_escape(c.deadline.as_deref().unwrap_or("—")),
            html_escape(&if c.warning == "done" {
                "—".to_owned()
            } else {
                remaining(c.remaining_days)
            }),
            marker(&c.warning),
            num = html_escape(&c.case_number),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

// ------------------------------------------------------------------ case

#[derive(Debug, Deserialize)]
struct CaseQuery {
    done: Option<String>,
}

/// What to say above the case: an action done, or one refused.
enum Flash {
    None,
    Done(String),
    Refused {
        error: ApiError,
        action: String,
        opinion: String,
    },
}

async fn case_page(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<CaseQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiPath(number) = path?;
    let flash = query
        .ok()
        .and_then(|ApiQuery(q)| q.done)
        .map_or(Flash::None, Flash::Done);
    case_html(&s, &clerk, &number, flash).await
}

async fn case_html(
    s: &AppState,
    clerk: &Clerk,
    number: &str,
    flash: Flash,
) -> Result<Html<String>, HtmlError> {
    let principal = Principal::Staff(clerk.staff.clone());
    let view = workflow::view(&s.store, &principal, number, s.now()).await?;
    let matter = catalogue::get(&s.store, &view.matter_code).await.ok();
    let notices = notice::available(&s.store, &clerk.staff, number).await?;
    let mut body = bar(clerk, &[], None);
    body.push_str(&render_case(
        &view,
        matter.as_ref(),
        &notices,
        &flash,
        &clerk.session.csrf(),
    ));
    Ok(page(&format!("办件 {}", view.line.case_number), &body))
}

fn action_zh(code: &str) -> Option<&'static str> {
    workflow::ACTIONS
        .into_iter()
        .find(|a| workflow::action_code(*a) == code)
        .map(|a| workflow::action_label(a).0)
}

fn flash_html(flash: &Flash) -> String {
    match flash {
        Flash::None => String::new(),
        Flash::Done(code) => action_zh(code).map_or_else(String::new, |zh| {
            format!(
                "<p class=\"ok\" role=\"status\" id=\"flash\">已办理：{}<small class=\"en\" lang=\"en\">Done</small></p>",
                html_escape(zh)
            )
        }),
        Flash::Refused { error, .. } => {
            let (zh, en) = error.messages();
            format!(
                "<p class=\"error\" role=\"alert\" id=\"flash\">未能办理：{}<br>\
                 <small class=\"en\" lang=\"en\">Not done: {}</small></p>",
                html_escape(&zh),
                html_escape(&en)
            )
        }
    }
}

fn render_case(
    v: &CaseView,
    matter: Option<&Matter>,
    notices: &[NoticeKind],
    flash: &Flash,
    csrf: &str,
) -> String {
    let l = &v.line;
    let mut body = format!(
        "<p><a href=\"/clerk/inbox/todo\">待办</a> › {}</p>",
        html_escape(&l.case_number)
    );
    body.push_str(&heading(1, &format!("办件 {}", l.case_number), "Case"));
    body.push_str(&flash_html(flash));
    if let Some(lead) = &v.lead {
        let _ = write!(
            body,
            "<p class=\"tag\" id=\"lead\">并联审批子件，牵头办件：<a href=\"{}\">{}</a>\
             <small class=\"en\" lang=\"en\">Sub-case of a parallel approval</small></p>",
            html_escape(&case_href(lead)),
            html_escape(lead)
        );
    }
    body.push_str(&facts(v));
    body.push_str(&steps(v));
    body.push_str(&flow_note(v));
    body.push_str(&form_data(v, matter));
    body.push_str(&materials(v));
    body.push_str(&corrections(v));
    body.push_str(&actions(v, matter, flash, csrf));
    body.push_str(&timeline(v));
    body.push_str(&notice_links(&l.case_number, notices));
    body
}

fn facts(v: &CaseView) -> String {
    let l = &v.line;
    let mut out = String::from("<dl class=\"facts\">");
    let mut row = |dt: &str, dd: &str, id: &str| {
        let id = if id.is_empty() {
            String::new()
        } else {
            format!(" id=\"{id}\"")
        };
        let _ = write!(
            out,
            "<dt>{}</dt><dd{id}>{}</dd>",
            html_escape(dt),
            html_escape(dd)
        );
    };
    row("事项", &l.matter_name, "case-matter");
    row("承办部门", &l.department, "");
    row("申请人", &v.applicant_name, "case-applicant");
    row("证件号码", &v.applicant_id, "");
    if let Some(e) = &v.entity_name {
        row("申请单位", e, "");
    }
    if let Some(a) = &v.agent {
        row("代办人", a, "");
    }
    if let Some(i) = &v.identity_check {
        row("身份核验", i, "case-identity");
    }
    row("渠道", channel_zh(&l.channel), "");
    row("状态", &l.status_zh, "case-status");
    row("当前环节", &l.step_name, "");
    row(
        "当前部门",
        l.current_department.as_deref().unwrap_or("—"),
        "",
    );
    row("提交时间", &l.submitted, "");
    row(
        "承诺办结日期",
        l.deadline.as_deref().unwrap_or("—"),
        "case-deadline",
    );
    let left = if l.warning == "done" {
        "—".to_owned()
    } else {
        remaining(l.remaining_days)
    };
    row("剩余工作日", &left, "");
    let _ = write!(out, "<dt>时限状态</dt><dd>{}</dd></dl>", marker(&l.warning));
    out
}

fn steps(v: &CaseView) -> String {
    let mut out = heading(2, "办理环节", "Workflow");
    out.push_str("<ol class=\"steps\">");
    let ended = workflow::is_terminal(v.line.status);
    for (i, name) in v.steps.iter().enumerate() {
        let (class, cur) = if !ended && i == v.current_step {
            (" class=\"current\"", " aria-current=\"step\"")
        } else if ended || i < v.current_step {
            (" class=\"past\"", "")
        } else {
            ("", "")
        };
        let _ = write!(out, "<li{class}{cur}>{}. {}</li>", i + 1, html_escape(name));
    }
    out.push_str("</ol>");
    out
}

fn flow_note(v: &CaseView) -> String {
    let mut out = String::new();
    match v.flow.as_str() {
        "parallel" => {
            out.push_str(
                "<p>并联审批：牵头部门受理后分送协办部门同步办理子件，全部子件办结后由牵头部门作出决定。\
                 <small class=\"en\" lang=\"en\">Parallel approval: co-departments work sub-cases; \
                 the lead department decides once all are done.</small></p>",
            );
        }
        "linked" => {
            out.push_str(
                "<p>联动审批：由街道（或代办点）受理并初审后上报区级部门审查决定，决定结果回传受理窗口告知申请人。\
                 <small class=\"en\" lang=\"en\">Linked approval: the street office accepts and reports up; \
                 a district department decides; the result comes back to the window.</small></p>",
            );
        }
        _ => {}
    }
    if !v.subcases.is_empty() {
        out.push_str(&heading(2, "并联子件", "Sub-cases"));
        out.push_str(
            "<div class=\"scroll\"><table id=\"subcases\"><thead><tr><th>子件编号</th><th>事项</th>\
             <th>协办部门</th><th>状态</th><th>办理期限</th><th>时限状态</th></tr></thead><tbody>",
        );
        for c in &v.subcases {
            let _ = write!(
                out,
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&case_href(&c.case_number)),
                html_escape(&c.case_number),
                html_escape(&c.matter_name),
                html_escape(&c.department),
                html_escape(&c.status_zh),
                html_escape(c.deadline.as_deref().unwrap_or("—")),
                marker(&c.warning),
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn form_data(v: &CaseView, matter: Option<&Matter>) -> String {
    let Some(obj) = v.form.as_object() else {
        return String::new();
    };
    let mut out = heading(2, "申请表", "Application form");
    out.push_str("<dl class=\"facts\" id=\"form-data\">");
    let fields = matter.map(|m| m.form.as_slice()).unwrap_or_default();
    // The matter's order first, then anything else submitted.
    for f in fields {
        if let Some(val) = obj.get(&f.key) {
            let _ = write!(
                out,
                "<dt>{}</dt><dd>{}</dd>",
                html_escape(&f.label),
                html_escape(&value_text(val))
            );
        }
    }
    for (k, val) in obj {
        if !fields.iter().any(|f| &f.key == k) {
            let _ = write!(
                out,
                "<dt>{}</dt><dd>{}</dd>",
                html_escape(k),
                html_escape(&value_text(val))
            );
        }
    }
    out.push_str("</dl>");
    out
}

fn source_zh(s: &str) -> &str {
    match s {
        "upload" => "上传",
        "capture" => "高拍仪采集",
        "e_certificate" => "电子证照",
        other => other,
    }
}

fn materials(v: &CaseView) -> String {
    let mut out = heading(2, "申请材料", "Materials");
    if v.materials.is_empty() {
        out.push_str(
            "<p>无电子材料。<small class=\"en\" lang=\"en\">No electronic materials.</small></p>",
        );
        return out;
    }
    out.push_str("<div class=\"materials\">");
    for m in &v.materials {
        let href = format!("{}/materials/{}", case_href(&v.line.case_number), m.id);
        let round = if m.round > 0 {
            format!("（第{}次补正）", m.round)
        } else {
            String::new()
        };
        let _ = write!(
            out,
            "<figure id=\"material-{}\"><figcaption><strong>{}</strong>{} <span class=\"muted\">{} · {} · {} KB</span></figcaption>",
            m.id,
            html_escape(&m.name),
            html_escape(&round),
            html_escape(source_zh(&m.source)),
            html_escape(&m.filename),
            m.size.div_euclid(1024).max(1),
        );
        if m.media_type.starts_with("image/") {
            let _ = write!(
                out,
                "<a href=\"{h}\"><img src=\"{h}\" alt=\"{}\" loading=\"lazy\"></a>",
                html_escape(&m.name),
                h = html_escape(&href),
            );
        } else if m.media_type == "application/pdf" {
            let _ = write!(
                out,
                "<p><a href=\"{h}\">打开 PDF <small class=\"en\" lang=\"en\">Open PDF</small></a> · \
                 <a href=\"{h}?download=1\">下载 <small class=\"en\" lang=\"en\">Download</small></a></p>",
                h = html_escape(&href),
            );
        } else {
            let _ = write!(
                out,
                "<p><a href=\"{}?download=1\">下载 <small class=\"en\" lang=\"en\">Download</small></a></p>",
                html_escape(&href),
            );
        }
        out.push_str("</figure>");
    }
    out.push_str("</div>");
    out
}

fn corrections(v: &CaseView) -> String {
    if v.corrections.is_empty() {
        return String::new();
    }
    let mut out = heading(2, "补正记录", "Corrections");
    out.push_str(
        "<div class=\"scroll\"><table id=\"corrections\"><thead><tr><th>告知时间</th><th>补正材料</th>\
         <th>说明</th><th>状态</th></tr></thead><tbody>",
    );
    for c in &v.corrections {
        let items: Vec<String> = c.items.iter().map(|i| html_escape(i)).collect();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&c.requested),
            items.join("<br>"),
            html_escape(&c.note),
            if c.resolved { "已补正" } else { "待补正" },
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

fn timeline(v: &CaseView) -> String {
    let mut out = heading(2, "办理过程", "Timeline");
    out.push_str(
        "<div class=\"scroll\"><table id=\"timeline\"><thead><tr><th>时间</th><th>环节</th>\
         <th>状态</th><th>办理人</th><th>部门</th><th>意见</th></tr></thead><tbody>",
    );
    for s in &v.timeline {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&s.at),
            html_escape(&s.step_name),
            html_escape(&s.status_zh),
            html_escape(&s.handler),
            html_escape(&s.department),
            html_escape(&s.opinion),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

fn notice_links(number: &str, notices: &[NoticeKind]) -> String {
    if notices.is_empty() {
        return String::new();
    }
    let mut out = heading(2, "打印通知书", "Printable notices");
    out.push_str("<ul class=\"notices\">");
    for k in notices {
        let _ = write!(
            out,
            "<li><a id=\"notice-{code}\" href=\"{}/notice/{code}.pdf\">{}（PDF）</a>\
             <small class=\"en\" lang=\"en\">{}</small></li>",
            html_escape(&case_href(number)),
            html_escape(k.zh()),
            html_escape(k.en()),
            code = k.as_str(),
        );
    }
    out.push_str("</ul>");
    out
}

fn actions(v: &CaseView, matter: Option<&Matter>, flash: &Flash, csrf: &str) -> String {
    let mut out = heading(2, "办理", "Actions");
    if v.allowed.is_empty() {
        out.push_str(
            "<p id=\"no-actions\">当前无需您办理。<small class=\"en\" lang=\"en\">Nothing for you to do now.</small></p>",
        );
        return out;
    }
    let action_url = format!("{}/act", case_href(&v.line.case_number));
    for a in &v.allowed {
        let code = html_escape(&a.action);
        let typed = match flash {
            Flash::Refused {
                action, opinion, ..
            } if *action == a.action => opinion.as_str(),
            _ => "",
        };
        let _ = write!(
            out,
            "<form class=\"act\" method=\"post\" action=\"{}\" id=\"form-{code}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <input type=\"hidden\" name=\"action\" value=\"{code}\">",
            html_escape(&action_url),
            html_escape(csrf),
        );
        let (label_zh, label_en) = if a.action == "request_correction" {
            out.push_str(&correction_items(matter));
            ("补正说明（一次性告知内容）", "Note to the applicant")
        } else {
            ("办理意见", "Opinion")
        };
        let (req, mark) = if a.needs_opinion {
            (" required", "（必填）")
        } else {
            ("", "（选填）")
        };
        let _ = write!(
            out,
            "<label for=\"opinion-{code}\">{label_zh}{mark} <small class=\"en\" lang=\"en\">{label_en}</small></label>\
             <textarea id=\"opinion-{code}\" name=\"opinion\" maxlength=\"1000\"{req}>{}</textarea>",
            html_escape(typed),
        );
        let danger = if matches!(a.action.as_str(), "not_accept" | "deny" | "void") {
            " class=\"danger\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<p><button type=\"submit\" id=\"act-{code}\"{danger}>{}<small class=\"en\" lang=\"en\">{}</small></button></p></form>",
            html_escape(&a.label_zh),
            html_escape(&a.label_en),
        );
    }
    out
}

fn correction_items(matter: Option<&Matter>) -> String {
    let mut out = String::from(
        "<fieldset><legend>需补正的材料 <small class=\"en\" lang=\"en\">Materials to supply</small></legend>",
    );
    for (i, m) in matter
        .map(|m| m.materials.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let _ = write!(
            out,
            "<label class=\"check\"><input type=\"checkbox\" name=\"items\" id=\"item-{i}\" value=\"{n}\"> {n}</label>",
            n = html_escape(&m.name),
        );
    }
    out.push_str(
        "<label for=\"item-other\">其他材料 <small class=\"en\" lang=\"en\">Other</small></label>\
         <input type=\"text\" id=\"item-other\" name=\"item_other\" maxlength=\"100\"></fieldset>",
    );
    out
}

/// Posts one action. Success goes back to the case page (post, redirect,
/// get); a refusal shows the case page again with the reason.
async fn act(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    let ApiPath(number) = path?;
    let pairs = form.map(|Form(p)| p).unwrap_or_default();
    let field = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    clerk.session.check_form_csrf(field("csrf"))?;
    let mut items: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "items")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    let other = field("item_other").trim();
    if !other.is_empty() {
        items.push(other.to_owned());
    }
    let req = workflow::ActionRequest {
        action: field("action").to_owned(),
        opinion: field("opinion").to_owned(),
        items,
    };
    let principal = Principal::Staff(clerk.staff.clone());
    match workflow::act(&s.store, &principal, &number, req.clone(), s.now()).await {
        Ok(_) => {
            let to = format!("{}?done={}", case_href(&number), url_segment(&req.action));
            Ok(Redirect::to(&to).into_response())
        }
        Err(
            e @ (ApiError::NotFound
            | ApiError::Internal(_)
            | ApiError::Unavailable(_)
            | ApiError::Forbidden),
        ) => Err(e.into()),
        Err(error) => {
            let status = error.status();
            let flash = Flash::Refused {
                error,
                action: req.action,
                opinion: req.opinion,
            };
            let html = case_html(&s, &clerk, &number, flash).await?;
            Ok((status, html).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
struct MaterialQuery {
    download: Option<String>,
}

/// Media types shown in the browser; anything else is downloaded.
const INLINE_TYPES: [&str; 3] = ["image/png", "image/jpeg", "application/pdf"];

fn ascii_filename(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn file_response(bytes: Vec<u8>, media_type: &str, disposition: &str, filename: &str) -> Response {
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(media_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let value = format!(
        "{disposition}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_filename(filename),
        url_segment(filename)
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

async fn material(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<(String, i64)>, ApiError>,
    query: Result<ApiQuery<MaterialQuery>, ApiError>,
) -> Result<Response, HtmlError> {
    let ApiPath((number, id)) = path.map_err(|_| ApiError::NotFound)?;
    let download = query.ok().and_then(|ApiQuery(q)| q.download).is_some();
    let principal = Principal::Staff(clerk.staff);
    let (filename, media_type, bytes) =
        workflow::material(&s.store, &principal, &number, id, s.now()).await?;
    let inline = INLINE_TYPES.contains(&media_type.as_str());
    let media = if inline {
        media_type.as_str()
    } else {
        "application/octet-stream"
    };
    let disposition = if inline && !download {
        "inline"
    } else {
        "attachment"
    };
    Ok(file_response(bytes, media, disposition, &filename))
}

async fn notice_pdf(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<(String, String)>, ApiError>,
) -> Result<Response, HtmlError> {
    let ApiPath((number, file)) = path?;
    let kind = file
        .strip_suffix(".pdf")
        .and_then(NoticeKind::from_code)
        .ok_or(ApiError::NotFound)?;
    let bytes = notice::notice_pdf(&s.store, &clerk.staff, &number, kind, s.now()).await?;
    let name = format!("{}-{}.pdf", kind.as_str(), number);
    Ok(file_response(bytes, "application/pdf", "inline", &name))
}

// ----------------------------------------------------------------- fleet

async fn kiosks_page(State(s): State<AppState>, clerk: Clerk) -> Result<Html<String>, HtmlError> {
    if !any_role(&clerk.staff, &FLEET_ROLES) {
        return Err(ApiError::Forbidden.into());
    }
    let rows = kiosks::fleet(&s.store).await?;
    let open = crate::service::alerts::open_for(&s.store, &clerk.staff).await?;
    let mut body = bar(&clerk, &[], None);
    body.push_str(&heading(1, "终端设备状态", "Kiosk fleet"));
    body.push_str(&super::clerk_alerts::panel(
        &open,
        &clerk.session.csrf(),
        super::clerk_alerts::Back::Fleet,
        s.now(),
        false,
    ));
    body.push_str(&render_fleet(&rows));
    Ok(page("终端设备状态", &body))
}

fn kind_zh(kind: &str) -> &str {
    match kind {
        "id_card_reader" => "身份证阅读器",
        "fingerprint_scanner" => "指纹仪",
        "barcode_scanner" => "扫码器",
        "camera" => "摄像头",
        "document_camera" => "高拍仪",
        "receipt_printer" => "凭条打印机",
        "document_printer" => "A4打印机",
        "card_reader" => "读卡器",
        "pin_pad" => "密码键盘",
        other => other,
    }
}

fn state_zh(state: &str) -> &str {
    match state {
        "ok" => "正常",
        "degraded" => "需关注",
        "fault" => "故障",
        "offline" => "离线",
        other => other,
    }
}

fn render_fleet(rows: &[crate::store::FleetDeviceRow]) -> String {
    let mut body = heading(2, "设备", "Devices");
    if rows.is_empty() {
        body.push_str(
            "<p>暂无已注册终端。<small class=\"en\" lang=\"en\">No kiosk enrolled.</small></p>",
        );
        return body;
    }
    body.push_str(
        "<div class=\"scroll\"><table><thead><tr><th>终端</th><th>位置</th><th>最近心跳</th><th>版本</th><th>设备</th>\
         <th>类型</th><th>状态</th><th>故障码</th><th>说明</th><th>计数</th></tr></thead><tbody>",
    );
    for r in rows {
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a><br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"state-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&super::clerk_alerts::history_href(&r.kiosk_id)),
            html_escape(&r.kiosk_name),
            html_escape(&r.kiosk_id),
            html_escape(&r.location),
            html_escape(r.last_seen_at.as_deref().unwrap_or("—")),
            html_escape(r.software_version.as_deref().unwrap_or("—")),
            html_escape(r.device.as_deref().unwrap_or("—")),
            html_escape(kind_zh(r.kind.as_deref().unwrap_or("—"))),
            html_escape(r.state.as_deref().unwrap_or("none")),
            html_escape(state_zh(r.state.as_deref().unwrap_or("—"))),
            html_escape(r.fault_code.as_deref().unwrap_or("")),
            html_escape(r.text_zh.as_deref().unwrap_or("")),
            html_escape(r.counters_json.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</tbody></table></div>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_marker_has_words_not_only_colour() {
        for (w, zh) in [("yellow", "临期"), ("red", "超期"), ("stopped", "计时暂停")] {
            let m = marker(w);
            assert!(m.contains(&format!("mark-{w}")), "{m}");
            assert!(m.contains(zh), "{m}");
        }
        assert!(marker("<script>").contains("mark-none"));
    }

    #[test]
    fn remaining_days_say_overdue_when_negative() {
        assert_eq!(remaining(Some(-2)), "超期2个工作日");
        assert_eq!(remaining(Some(3)), "剩余3个工作日");
        assert_eq!(remaining(None), "—");
    }

    #[test]
    fn download_names_are_ascii_safe() {
        assert_eq!(ascii_filename("身份证 正面.png"), "______.png");
        assert_eq!(ascii_filename("a\"b\r\n.pdf"), "a_b__.pdf");
    }
}
