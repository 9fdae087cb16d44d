//! The resident's account on the portal: log in and out, register (person
//! or legal entity), bind a real name (实名认证), the list of one's cases,
//! and one case's page with its timeline, deadline, materials, the
//! correction upload (补正) and the withdrawal (撤回).
//!
//! Every state-changing form carries the session's CSRF token in a hidden
//! `csrf` field; the login and registration forms have no session yet.
//! A form with an error comes back with the message in Chinese and English
//! and what was typed kept — never a password.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use proto::{CaseStatus, Matter};
use serde::Deserialize;

use super::auth_api::{session_cookie, with_cookie};
use super::extract::{AccountAuth, ApiPath, ApiQuery, MaybeSession};
use super::html::{HtmlError, heading, html_escape, url_segment};
use super::portal::{
    Nav, PortalForm, cards_table, en, error_box, error_page, portal_page, require_account,
    safe_next,
};
use super::portal_apply::{
    FILES_LOST, UPLOAD_BODY_LIMIT, check_ecert, field_error, read_multipart, to_upload,
};
use crate::AppState;
use crate::error::ApiError;
use crate::service::apply::{self, EcertRef};
use crate::service::auth::{self, AccountPrincipal, Principal, Registration};
use crate::service::catalogue;
use crate::service::privacy::{mask_id, mask_name};
use crate::service::workflow::{self, ActionRequest, CaseLine, CaseView};

/// The account routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/register", get(register_page).post(register_submit))
        .route(
            "/account/real-name",
            get(real_name_page).post(real_name_submit),
        )
        .route("/logout", post(logout))
        .route("/my/cases", get(my_cases))
        .route("/my/cases/{number}", get(case_page))
        .route(
            "/my/cases/{number}/correction",
            post(correction_submit).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/my/cases/{number}/withdraw", post(withdraw_submit))
}

/// Where to go after logging in when no return path is given.
const HOME_AFTER_LOGIN: &str = "/my/cases";

/// `?next=` (and, for registration, `?kind=`).
#[derive(Debug, Clone, Default, Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

fn next_of(raw: Option<&str>) -> String {
    raw.and_then(safe_next)
        .unwrap_or(HOME_AFTER_LOGIN)
        .to_owned()
}

fn hidden_next(next: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"next\" value=\"{}\">",
        html_escape(next)
    )
}

fn text_input(
    id: &str,
    name: &str,
    label: &str,
    label_en: &str,
    value: &str,
    extra: &str,
) -> String {
    format!(
        "<label for=\"{id}\">{}{}</label><input type=\"text\" id=\"{id}\" name=\"{name}\" value=\"{}\"{extra}>",
        html_escape(label),
        en(label_en),
        html_escape(value),
    )
}

/// The field an error is about, on the account forms.
fn field_of(e: &ApiError) -> Option<&'static str> {
    match e {
        ApiError::InvalidField { field, .. } => Some(field),
        ApiError::WeakPassword { .. } => Some("password"),
        _ => None,
    }
}

fn error_for(field: &str, e: Option<&ApiError>) -> String {
    match e {
        Some(e) if field_of(e) == Some(field) => {
            field_error(&format!("err-{field}"), Some(&e.messages()))
        }
        _ => String::new(),
    }
}

// ---------------------------------------------------------------------------
// Log in and out.

/// The login form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
struct LoginForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_page(
    State(s): State<AppState>,
    session: MaybeSession,
    query: Result<ApiQuery<NextQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiQuery(q) = query?;
    Ok(render_login(
        &s.config,
        &Nav::of(&session),
        "",
        &next_of(q.next.as_deref()),
        None,
    ))
}

fn render_login(
    config: &crate::Config,
    nav: &Nav,
    phone: &str,
    next: &str,
    error: Option<&ApiError>,
) -> Html<String> {
    let mut body = heading(1, "登录", "Log in");
    if let Some(e) = error {
        body.push_str(&error_box(e));
    }
    let _ = write!(
        body,
        "<form class=\"stack\" id=\"login-form\" method=\"post\" action=\"/login\">{}\
         <fieldset><legend>个人或法人账户 <small class=\"en\" lang=\"en\">Resident or business account</small></legend>\
         <label for=\"login-phone\">手机号码{}</label>\
         <input type=\"tel\" id=\"login-phone\" name=\"phone\" value=\"{}\" autocomplete=\"username\" inputmode=\"numeric\" maxlength=\"11\" required>\
         <label for=\"login-password\">密码{}</label>\
         <input type=\"password\" id=\"login-password\" name=\"password\" autocomplete=\"current-password\" required>\
         <p class=\"hint\">连续输错5次将锁定15分钟。<small class=\"en\" lang=\"en\">5 failures in a row lock the account for 15 minutes.</small></p>\
         <p><button class=\"btn big\" type=\"submit\" id=\"login-submit\">登录 <small lang=\"en\">Log in</small></button></p>\
         </fieldset></form>\
         {}\
         <p>还没有账号？<a href=\"/register?next={}\" id=\"to-register\">立即注册</a> <small class=\"en\" lang=\"en\">No account? Register.</small></p>\
         <p class=\"muted\">工作人员请从 <a href=\"/clerk\">窗口办件</a> 登录。</p>",
        hidden_next(next),
        en("Mobile phone"),
        html_escape(phone),
        en("Password"),
        super::oidc::login_button(config, next),
        html_escape(&url_segment(next)),
    );
    portal_page("登录", nav, &body)
}

async fn login_submit(State(s): State<AppState>, PortalForm(f): PortalForm<LoginForm>) -> Response {
    let next = next_of(Some(&f.next));
    match auth::account_login(&s.store, &f.phone, &f.password, s.now()).await {
        Ok((token, _)) => with_cookie(
            Redirect::to(&next).into_response(),
            &session_cookie(&token, s.config.secure_cookies),
        ),
        Err(e) => {
            e.log();
            let page = render_login(&s.config, &Nav::default(), f.phone.trim(), &next, Some(&e));
            (e.status(), page).into_response()
        }
    }
}

/// A form that carries only the CSRF token.
#[derive(Debug, Clone, Default, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(s): State<AppState>,
    session: MaybeSession,
    PortalForm(f): PortalForm<CsrfForm>,
) -> Result<Response, HtmlError> {
    if let Some(session) = &session.0 {
        session.check_form_csrf(&f.csrf)?;
        auth::logout(&s.store, &session.auth, s.now()).await?;
    }
    Ok(with_cookie(
        Redirect::to("/").into_response(),
        &session_cookie("", s.config.secure_cookies),
    ))
}

// ---------------------------------------------------------------------------
// Registration and real-name binding.

/// The registration form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
    #[serde(default)]
    real_name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    entity_name: String,
    #[serde(default)]
    uscc: String,
    #[serde(default)]
    next: String,
}

async fn register_page(
    session: MaybeSession,
    query: Result<ApiQuery<NextQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiQuery(q) = query?;
    let form = RegisterForm {
        kind: q.kind.unwrap_or_default(),
        next: next_of(q.next.as_deref()),
        ..RegisterForm::default()
    };
    Ok(render_register(&Nav::of(&session), &form, None))
}

fn render_register(nav: &Nav, f: &RegisterForm, error: Option<&ApiError>) -> Html<String> {
    let entity = f.kind == "entity";
    let mut body = heading(1, "注册账号", "Register");
    let next = url_segment(&f.next);
    let _ = write!(
        body,
        "<p><a class=\"btn{}\" id=\"register-person\" href=\"/register?kind=person&amp;next={next}\">个人注册</a> \
         <a class=\"btn{}\" id=\"register-entity\" href=\"/register?kind=entity&amp;next={next}\">法人注册</a></p>",
        if entity { " secondary" } else { "" },
        if entity { "" } else { " secondary" },
    );
    if let Some(e) = error {
        body.push_str(&error_box(e));
    }
    let _ = write!(
        body,
        "<form class=\"stack\" id=\"register-form\" method=\"post\" action=\"/register\">{}\
         <input type=\"hidden\" name=\"kind\" value=\"{}\">",
        hidden_next(&f.next),
        if entity { "entity" } else { "person" },
    );
    if entity {
        let _ = write!(
            body,
            "<fieldset><legend>法人信息 <small class=\"en\" lang=\"en\">Legal entity</small></legend>{}{}{}{}</fieldset>",
            text_input(
                "reg-entity-name",
                "entity_name",
                "单位名称",
                "Name",
                &f.entity_name,
                " maxlength=\"100\" required"
            ),
            error_for("entity_name", error),
            text_input(
                "reg-uscc",
                "uscc",
                "统一社会信用代码",
                "Unified social credit code",
                &f.uscc,
                " maxlength=\"18\" pattern=\"[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}\" autocomplete=\"off\" required"
            ),
            error_for("uscc", error),
        );
    }
    let _ = write!(
        body,
        "<fieldset><legend>账号 <small class=\"en\" lang=\"en\">Account</small></legend>\
         <label for=\"reg-phone\">手机号码（登录名）{}</label>\
         <input type=\"tel\" id=\"reg-phone\" name=\"phone\" value=\"{}\" autocomplete=\"username\" inputmode=\"numeric\" maxlength=\"11\" required>{}\
         <label for=\"reg-password\">设置密码{}</label>\
         <input type=\"password\" id=\"reg-password\" name=\"password\" autocomplete=\"new-password\" required>\
         <p class=\"hint\">至少10位，含大写字母、小写字母、数字、符号中的三类。<small class=\"en\" lang=\"en\">At least 10 characters of three kinds.</small></p>{}\
         <label for=\"reg-password2\">再次输入密码{}</label>\
         <input type=\"password\" id=\"reg-password2\" name=\"password2\" autocomplete=\"new-password\" required>{}\
         </fieldset>",
        en("Mobile phone (login name)"),
        html_escape(&f.phone),
        error_for("phone", error),
        en("Password"),
        error_for("password", error),
        en("Password again"),
        error_for("password2", error),
    );
    if !entity {
        let _ = write!(
            body,
            "<fieldset><legend>实名认证（可稍后填写） <small class=\"en\" lang=\"en\">Real name (optional now; needed to apply)</small></legend>\
             {}{}{}{}</fieldset>",
            text_input(
                "reg-real-name",
                "real_name",
                "姓名",
                "Name as on the ID card",
                &f.real_name,
                " maxlength=\"64\" autocomplete=\"name\""
            ),
            error_for("real_name", error),
            text_input(
                "reg-id-number",
                "id_number",
                "居民身份证号码",
                "ID number",
                &f.id_number,
                " maxlength=\"18\" pattern=\"[0-9]{17}[0-9Xx]\" autocomplete=\"off\""
            ),
            error_for("id_number", error),
        );
    }
    body.push_str(
        "<p><button class=\"btn big\" type=\"submit\" id=\"register-submit\">注册 <small lang=\"en\">Register</small></button></p></form>\
         <p>已有账号？<a href=\"/login\">登录</a></p>",
    );
    portal_page("注册账号", nav, &body)
}

fn some_text(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn register_submit(
    State(s): State<AppState>,
    PortalForm(mut f): PortalForm<RegisterForm>,
) -> Response {
    f.next = next_of(Some(&f.next));
    let entity = f.kind == "entity";
    let refused = |f: &RegisterForm, e: ApiError| {
        e.log();
        let mut f = f.clone();
        f.password.clear();
        f.password2.clear();
        (e.status(), render_register(&Nav::default(), &f, Some(&e))).into_response()
    };
    if f.password != f.password2 {
        return refused(
            &f,
            ApiError::InvalidField {
                field: "password2",
                reason_zh: "两次输入的密码不一致",
                reason_en: "the two passwords differ",
            },
        );
    }
    let reg = Registration {
        kind: if entity { "entity" } else { "person" }.to_owned(),
        phone: f.phone.clone(),
        password: f.password.clone(),
        real_name: if entity {
            None
        } else {
            some_text(&f.real_name)
        },
        id_number: if entity {
            None
        } else {
            some_text(&f.id_number)
        },
        entity_name: entity.then(|| f.entity_name.clone()),
        uscc: entity.then(|| f.uscc.clone()),
    };
    let bound = reg.real_name.is_some();
    if let Err(e) = auth::register(&s.store, reg, s.now()).await {
        return refused(&f, e);
    }
    // Registered: log in at once.
    match auth::account_login(&s.store, &f.phone, &f.password, s.now()).await {
        Ok((token, _)) => {
            let to = if entity || bound {
                f.next.clone()
            } else {
                format!("/account/real-name?next={}", url_segment(&f.next))
            };
            with_cookie(
                Redirect::to(&to).into_response(),
                &session_cookie(&token, s.config.secure_cookies),
            )
        }
        Err(e) => HtmlError(e).into_response(),
    }
}

/// The real-name form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
struct RealNameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    real_name: String,
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    next: String,
}

async fn real_name_page(
    session: MaybeSession,
    query: Result<ApiQuery<NextQuery>, ApiError>,
) -> Result<Response, HtmlError> {
    let ApiQuery(q) = query?;
    let next = next_of(q.next.as_deref());
    let here = format!("/account/real-name?next={}", url_segment(&next));
    let (session, who) = match require_account(session, &here) {
        Ok(v) => v,
        Err(resp) => return Ok(*resp),
    };
    let form = RealNameForm {
        csrf: session.csrf(),
        next,
        ..RealNameForm::default()
    };
    Ok(render_real_name(&Nav::session(&session), &who, &form, None).into_response())
}

fn render_real_name(
    nav: &Nav,
    who: &AccountPrincipal,
    f: &RealNameForm,
    error: Option<&ApiError>,
) -> Html<String> {
    let mut body = heading(1, "实名认证", "Real-name binding");
    if who.kind != "person" {
        body.push_str("<p class=\"notice\">法人账户以统一社会信用代码办事，无需实名认证。<small class=\"en\" lang=\"en\">Business accounts need no real-name binding.</small></p>");
        return portal_page("实名认证", nav, &body);
    }
    if let (Some(name), Some(id)) = (&who.real_name, &who.id_number) {
        let _ = write!(
            body,
            "<p class=\"ok\" id=\"real-name-bound\">已完成实名认证：{}（{}）<small class=\"en\" lang=\"en\">Real name bound.</small></p>\
             <p><a class=\"btn\" href=\"{}\">继续</a></p>",
            html_escape(&mask_name(name)),
            html_escape(&mask_id(id)),
            html_escape(&f.next),
        );
        return portal_page("实名认证", nav, &body);
    }
    body.push_str("<p>在线申请前，请绑定您的姓名和居民身份证号码。<small class=\"en\" lang=\"en\">Bind your name and ID number before applying online.</small></p>");
    if let Some(e) = error {
        body.push_str(&error_box(e));
    }
    let _ = write!(
        body,
        "<form class=\"stack\" id=\"real-name-form\" method=\"post\" action=\"/account/real-name\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">{}<fieldset><legend>身份信息 <small class=\"en\" lang=\"en\">Identity</small></legend>\
         {}{}{}{}</fieldset>\
         <p><button class=\"btn big\" type=\"submit\" id=\"real-name-submit\">确认绑定 <small lang=\"en\">Bind</small></button></p></form>",
        html_escape(&f.csrf),
        hidden_next(&f.next),
        text_input(
            "rn-real-name",
            "real_name",
            "姓名",
            "Name as on the ID card",
            &f.real_name,
            " maxlength=\"64\" autocomplete=\"name\" required"
        ),
        error_for("real_name", error),
        text_input(
            "rn-id-number",
            "id_number",
            "居民身份证号码",
            "ID number",
            &f.id_number,
            " maxlength=\"18\" pattern=\"[0-9]{17}[0-9Xx]\" autocomplete=\"off\" required"
        ),
        error_for("id_number", error),
    );
    portal_page("实名认证", nav, &body)
}

async fn real_name_submit(
    State(s): State<AppState>,
    who: Result<AccountAuth, ApiError>,
    PortalForm(mut f): PortalForm<RealNameForm>,
) -> Result<Response, HtmlError> {
    let who = who?;
    who.session.check_form_csrf(&f.csrf)?;
    f.next = next_of(Some(&f.next));
    match auth::bind_real_name(&s.store, &who.account, &f.real_name, &f.id_number, s.now()).await {
        Ok(()) => Ok(Redirect::to(&f.next).into_response()),
        Err(e) => {
            e.log();
            f.csrf = who.session.csrf();
            let page = render_real_name(&Nav::session(&who.session), &who.account, &f, Some(&e));
            Ok((e.status(), page).into_response())
        }
    }
}

// ---------------------------------------------------------------------------
// My cases.

fn warning_label(code: &str) -> (&'static str, &'static str) {
    match code {
        "normal" => ("正常", "On time"),
        "yellow" => ("即将到期", "Due soon"),
        "red" => ("已超期", "Overdue"),
        "stopped" => ("暂停计时", "Clock stopped"),
        "done" => ("已办结", "Concluded"),
        _ => ("待受理", "Not yet accepted"),
    }
}

fn warning_badge(line: &CaseLine) -> String {
    let (zh, en_label) = warning_label(&line.warning);
    format!(
        "<span class=\"warn warn-{}\" title=\"{}\">{}</span>",
        html_escape(&line.warning),
        html_escape(en_label),
        html_escape(zh)
    )
}

fn remaining_text(line: &CaseLine) -> String {
    match (line.warning.as_str(), line.remaining_days) {
        ("done", _) => String::new(),
        ("stopped", _) => "特别程序期间暂停计时".to_owned(),
        (_, Some(d)) if d >= 0 => format!("剩余 {d} 个工作日"),
        (_, Some(d)) => format!("已超期 {} 个工作日", d.unsigned_abs()),
        (_, None) => "（预计日期，自受理之日起计算）".to_owned(),
    }
}

async fn my_cases(State(s): State<AppState>, session: MaybeSession) -> Result<Response, HtmlError> {
    let (session, who) = match require_account(session, "/my/cases") {
        Ok(v) => v,
        Err(resp) => return Ok(*resp),
    };
    let list = workflow::my_cases(&s.store, &who, s.now()).await?;
    let mut body = heading(1, "我的办件", "My cases");
    if list.is_empty() {
        body.push_str(
            "<p id=\"no-cases\">暂无办件。<a href=\"/guides\">查看办事指南，在线申请</a>\
             <small class=\"en\" lang=\"en\">No case yet.</small></p>",
        );
        return Ok(portal_page("我的办件", &Nav::session(&session), &body).into_response());
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                format!(
                    "<a href=\"/my/cases/{}\">{}</a>",
                    html_escape(&url_segment(&c.case_number)),
                    html_escape(&c.case_number)
                ),
                format!(
                    "{}<br><span class=\"muted\">{}</span>",
                    html_escape(&c.matter_name),
                    html_escape(&c.department)
                ),
                html_escape(&c.status_zh),
                html_escape(&c.submitted),
                html_escape(c.deadline.as_deref().unwrap_or("—")),
                format!(
                    "{} <span class=\"muted\">{}</span>",
                    warning_badge(c),
                    html_escape(&remaining_text(c))
                ),
            ]
        })
        .collect();
    body.push_str(&cards_table(
        "case-list",
        &["办件编号", "事项", "状态", "提交时间", "办理期限", "时限"],
        &rows,
    ));
    Ok(portal_page("我的办件", &Nav::session(&session), &body).into_response())
}

/// `?notice=` after an action on the case.
#[derive(Debug, Clone, Default, Deserialize)]
struct CaseQuery {
    #[serde(default)]
    notice: Option<String>,
}

/// The error of a form on the case page, to show in place.
#[derive(Debug, Default)]
struct CaseProblems {
    correction: Option<ApiError>,
    correction_files: Vec<(usize, (String, String))>,
    note: String,
    withdraw: Option<ApiError>,
}

async fn case_page(
    State(s): State<AppState>,
    session: MaybeSession,
    ApiPath(number): ApiPath<String>,
    query: Result<ApiQuery<CaseQuery>, ApiError>,
) -> Result<Response, HtmlError> {
    let ApiQuery(q) = query?;
    let here = format!("/my/cases/{}", url_segment(&number));
    let (session, who) = match require_account(session, &here) {
        Ok(v) => v,
        Err(resp) => return Ok(*resp),
    };
    let principal = Principal::Account(who);
    let view = workflow::view(&s.store, &principal, &number, s.now()).await?;
    let matter = catalogue::get(&s.store, &view.matter_code).await.ok();
    let page = CasePage {
        nav: &Nav::session(&session),
        csrf: &session.csrf(),
        view: &view,
        matter: matter.as_ref(),
        notice: q.notice.as_deref(),
        problems: &CaseProblems::default(),
    };
    Ok(page.render().into_response())
}

/// The open correction notice of a case, if it waits for the applicant.
fn open_correction(view: &CaseView) -> Option<&workflow::CorrectionNotice> {
    if view.line.status != CaseStatus::CorrectionRequested {
        return None;
    }
    view.corrections.iter().rev().find(|c| !c.resolved)
}

async fn correction_submit(
    State(s): State<AppState>,
    who: Result<AccountAuth, ApiError>,
    ApiPath(number): ApiPath<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(e) => return HtmlError(e).into_response(),
    };
    let nav = Nav::session(&who.session);
    let here = format!("/my/cases/{}", url_segment(&number));
    let posted = match read_multipart(mp).await {
        Ok(p) => p,
        Err(e) => return error_page(&nav, &e, Some(&here)),
    };
    if let Err(e) = who.session.check_form_csrf(posted.text("csrf")) {
        return error_page(&nav, &e, Some(&here));
    }
    let principal = Principal::Account(who.account.clone());
    let view = match workflow::view(&s.store, &principal, &number, s.now()).await {
        Ok(v) => v,
        Err(e) => return HtmlError(e).into_response(),
    };
    let matter = catalogue::get(&s.store, &view.matter_code).await.ok();
    let items = open_correction(&view)
        .map(|c| c.items.clone())
        .unwrap_or_default();
    let mut problems = CaseProblems {
        note: posted.text("note").trim().to_owned(),
        ..CaseProblems::default()
    };
    let mut uploads = Vec::new();
    let mut ecerts = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(file) = posted.file(&format!("file_{i}")) {
            match to_upload(item, file) {
                Ok(u) => uploads.push(u),
                Err(e) => problems.correction_files.push((i, e.messages())),
            }
        }
        let cert = posted.text(&format!("ecert_{i}")).trim().to_owned();
        if !cert.is_empty() {
            if let Err(msg) = check_ecert(&cert) {
                problems.correction_files.push((i, msg));
            }
            ecerts.push(EcertRef {
                name: item.clone(),
                certificate: cert,
            });
        }
    }
    let status = if problems.correction_files.is_empty() {
        match apply::supply_correction(
            &s.store,
            &principal,
            &number,
            uploads,
            ecerts,
            problems.note.clone(),
            s.now(),
        )
        .await
        {
            Ok(_) => {
                return Redirect::to(&format!("{here}?notice=corrected")).into_response();
            }
            Err(e) => {
                e.log();
                if let ApiError::MaterialMissing { name } = &e
                    && let Some(i) = items.iter().position(|x| x == name)
                {
                    problems.correction_files.push((
                        i,
                        (
                            "请选择此材料的文件".to_owned(),
                            "Choose a file for this material".to_owned(),
                        ),
                    ));
                }
                let status = e.status();
                problems.correction = Some(e);
                status
            }
        }
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if problems.correction.is_none() {
        problems.correction = Some(ApiError::InvalidField {
            field: "materials",
            reason_zh: "请修改下面标出的材料",
            reason_en: "correct the materials marked below",
        });
    }
    let page = CasePage {
        nav: &nav,
        csrf: &who.session.csrf(),
        view: &view,
        matter: matter.as_ref(),
        notice: None,
        problems: &problems,
    };
    (status, page.render()).into_response()
}

/// The withdrawal form as posted.
#[derive(Debug, Clone, Default, Deserialize)]
struct WithdrawForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    reason: String,
}

async fn withdraw_submit(
    State(s): State<AppState>,
    who: Result<AccountAuth, ApiError>,
    ApiPath(number): ApiPath<String>,
    PortalForm(f): PortalForm<WithdrawForm>,
) -> Result<Response, HtmlError> {
    let who = who?;
    who.session.check_form_csrf(&f.csrf)?;
    let principal = Principal::Account(who.account.clone());
    let here = format!("/my/cases/{}", url_segment(&number));
    let result = if f.confirm == "yes" {
        workflow::act(
            &s.store,
            &principal,
            &number,
            ActionRequest {
                action: "withdraw".to_owned(),
                opinion: f.reason.trim().to_owned(),
                items: Vec::new(),
            },
            s.now(),
        )
        .await
        .map(|_| ())
    } else {
        Err(ApiError::InvalidField {
            field: "confirm",
            reason_zh: "请勾选“确认撤回”后再提交",
            reason_en: "tick the confirmation box to withdraw",
        })
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("{here}?notice=withdrawn")).into_response()),
        Err(ApiError::NotFound) => Err(HtmlError(ApiError::NotFound)),
        Err(e) => {
            e.log();
            let status = e.status();
            let view = workflow::view(&s.store, &principal, &number, s.now()).await?;
            let matter = catalogue::get(&s.store, &view.matter_code).await.ok();
            let problems = CaseProblems {
                withdraw: Some(e),
                ..CaseProblems::default()
            };
            let page = CasePage {
                nav: &Nav::session(&who.session),
                csrf: &who.session.csrf(),
                view: &view,
                matter: matter.as_ref(),
                notice: None,
                problems: &problems,
            };
            Ok((status, page.render()).into_response())
        }
    }
}

/// One case as its applicant sees it.
struct CasePage<'a> {
    nav: &'a Nav,
    csrf: &'a str,
    view: &'a CaseView,
    matter: Option<&'a Matter>,
    notice: Option<&'a str>,
    problems: &'a CaseProblems,
}

fn round_zh(round: i64) -> String {
    if round == 0 {
        "申请时提交".to_owned()
    } else {
        format!("第{round}次补正")
    }
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", (bytes + 1023) / 1024)
    }
}

impl CasePage<'_> {
    fn render(&self) -> Html<String> {
        let v = self.view;
        let l = &v.line;
        let mut body = format!(
            "<p><a href=\"/my/cases\">我的办件</a> › {}</p>",
            html_escape(&l.case_number)
        );
        body.push_str(&self.notice_box());
        body.push_str(&heading(1, &l.matter_name, "Case"));
        let _ = write!(
            body,
            "<dl class=\"facts\" id=\"case-facts\"><dt>办件编号</dt><dd id=\"case-number\">{}</dd>\
             <dt>办理状态</dt><dd><strong id=\"case-status\">{}</strong>{}</dd>\
             <dt>当前环节</dt><dd>{}</dd><dt>办理部门</dt><dd>{}</dd>\
             <dt>申请人</dt><dd>{}{}</dd><dt>证件号码</dt><dd>{}</dd>\
             <dt>提交时间</dt><dd>{}</dd>\
             <dt>办理期限</dt><dd id=\"case-deadline\">{} {} <span id=\"case-remaining\">{}</span></dd></dl>",
            html_escape(&l.case_number),
            html_escape(&l.status_zh),
            en(l.status.en()),
            html_escape(if l.step_name.is_empty() {
                "—"
            } else {
                &l.step_name
            }),
            html_escape(l.current_department.as_deref().unwrap_or(&l.department)),
            html_escape(v.entity_name.as_deref().unwrap_or(&v.applicant_name)),
            v.agent
                .as_deref()
                .map(|a| format!("（代办人 {}）", html_escape(a)))
                .unwrap_or_default(),
            html_escape(&mask_id(&v.applicant_id)),
            html_escape(&l.submitted),
            html_escape(l.deadline.as_deref().unwrap_or("—")),
            warning_badge(l),
            html_escape(&remaining_text(l)),
        );
        if !v.steps.is_empty() {
            body.push_str("<ol class=\"steps\" id=\"case-steps\" aria-label=\"办理环节\">");
            let done = workflow::is_terminal(l.status);
            for (i, name) in v.steps.iter().enumerate() {
                let class = if done || i < v.current_step {
                    "past"
                } else if i == v.current_step {
                    "current"
                } else {
                    ""
                };
                let _ = write!(body, "<li class=\"{class}\">{}</li>", html_escape(name));
            }
            body.push_str("</ol>");
        }
        body.push_str(&self.correction_box());
        body.push_str(&heading(2, "办理过程", "Timeline"));
        let rows: Vec<Vec<String>> = v
            .timeline
            .iter()
            .map(|t| {
                vec![
                    html_escape(&t.at),
                    html_escape(&t.step_name),
                    html_escape(&t.status_zh),
                    html_escape(&t.handler),
                    html_escape(&t.department),
                    html_escape(&t.opinion),
                ]
            })
            .collect();
        body.push_str(&cards_table(
            "case-timeline",
            &["时间", "环节", "状态", "办理人", "办理部门", "意见"],
            &rows,
        ));
        body.push_str(&self.form_data());
        body.push_str(&self.materials());
        body.push_str(&self.withdraw_box());
        portal_page(&format!("办件 {}", l.case_number), self.nav, &body)
    }

    fn notice_box(&self) -> String {
        let v = self.view;
        match self.notice {
            Some("submitted") => {
                let mut out = format!(
                    "<section class=\"ok\" id=\"apply-done\"><h2>申请已提交<small class=\"en\" lang=\"en\">Application filed</small></h2>\
                     <p>办件编号：<strong>{}</strong>（请牢记，可凭此查询进度）</p>\
                     <p>预计办结日期：<strong>{}</strong>（受理后按承诺时限计算，以受理时为准）</p><p>已收到材料：</p><ul>",
                    html_escape(&v.line.case_number),
                    html_escape(v.line.deadline.as_deref().unwrap_or("—")),
                );
                for m in v.materials.iter().filter(|m| m.round == 0) {
                    let _ = write!(
                        out,
                        "<li>{}：{}</li>",
                        html_escape(&m.name),
                        html_escape(&m.filename)
                    );
                }
                if v.materials.is_empty() {
                    out.push_str("<li>无</li>");
                }
                out.push_str("</ul></section>");
                out
            }
            Some("corrected") => "<p class=\"ok\" id=\"correction-done\">补正材料已提交，请等待窗口受理。<small class=\"en\" lang=\"en\">Correction submitted.</small></p>".to_owned(),
            Some("withdrawn") => "<p class=\"ok\" id=\"withdraw-done\">申请已撤回。<small class=\"en\" lang=\"en\">Application withdrawn.</small></p>".to_owned(),
            _ => String::new(),
        }
    }

    fn correction_box(&self) -> String {
        let Some(c) = open_correction(self.view) else {
            return String::new();
        };
        let number = url_segment(&self.view.line.case_number);
        let mut out = format!(
            "<section class=\"alert\" id=\"correction\"><h2>请补正材料<small class=\"en\" lang=\"en\">Correction requested</small></h2>\
             <p>告知时间：{}</p><p>窗口意见：<span id=\"correction-note\">{}</span></p><p>需补正的材料：</p><ul id=\"correction-items\">",
            html_escape(&c.requested),
            html_escape(&c.note),
        );
        for item in &c.items {
            let _ = write!(out, "<li>{}</li>", html_escape(item));
        }
        out.push_str("</ul></section>");
        if let Some(e) = &self.problems.correction {
            out.push_str(&error_box(e));
            out.push_str(FILES_LOST);
        }
        let _ = write!(
            out,
            "<form class=\"stack\" id=\"correction-form\" method=\"post\" enctype=\"multipart/form-data\" action=\"/my/cases/{}/correction\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><fieldset><legend>上传补正材料 <small class=\"en\" lang=\"en\">Upload</small></legend>",
            html_escape(&number),
            html_escape(self.csrf),
        );
        for (i, item) in c.items.iter().enumerate() {
            let cert = self
                .matter
                .and_then(|m| m.materials.iter().find(|x| &x.name == item))
                .and_then(|x| x.e_certificate.as_deref());
            let _ = write!(
                out,
                "<div class=\"material\" id=\"correction-item-{i}\"><label for=\"correction-file-{i}\">{} <span class=\"tag must\">必交</span></label>\
                 <input type=\"file\" id=\"correction-file-{i}\" name=\"file_{i}\" accept=\"image/jpeg,image/png,image/tiff,application/pdf\"{}>",
                html_escape(item),
                if cert.is_some() { "" } else { " required" },
            );
            if let Some(cert) = cert {
                let _ = write!(
                    out,
                    "<label for=\"correction-ecert-{i}\">或填写电子证照编号（{}）</label>\
                     <input type=\"text\" id=\"correction-ecert-{i}\" name=\"ecert_{i}\" maxlength=\"64\" autocomplete=\"off\">",
                    html_escape(cert)
                );
            }
            let msg = self
                .problems
                .correction_files
                .iter()
                .find(|(k, _)| *k == i)
                .map(|(_, m)| m);
            out.push_str(&field_error(&format!("err-correction-{i}"), msg));
            out.push_str("</div>");
        }
        let _ = write!(
            out,
            "<label for=\"correction-note-input\">补充说明（选填）{}</label>\
             <textarea id=\"correction-note-input\" name=\"note\" rows=\"3\" maxlength=\"500\">{}</textarea>\
             <p><button class=\"btn big\" type=\"submit\" id=\"correction-submit\">提交补正材料 <small lang=\"en\">Submit correction</small></button></p>\
             </fieldset></form>",
            en("Note (optional)"),
            html_escape(&self.problems.note),
        );
        out
    }

    fn form_data(&self) -> String {
        let Some(form) = self.view.form.as_object().filter(|f| !f.is_empty()) else {
            return String::new();
        };
        let mut out = heading(2, "申请表", "Application form");
        out.push_str("<dl class=\"facts\" id=\"case-form\">");
        let label = |key: &str| {
            self.matter
                .and_then(|m| m.form.iter().find(|f| f.key == key))
                .map_or_else(|| key.to_owned(), |f| f.label.clone())
        };
        for (k, v) in form {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(
                out,
                "<dt>{}</dt><dd>{}</dd>",
                html_escape(&label(k)),
                html_escape(&text)
            );
        }
        out.push_str("</dl>");
        out
    }

    fn materials(&self) -> String {
        let v = self.view;
        let mut out = heading(2, "已交材料", "Materials");
        if v.materials.is_empty() {
            out.push_str("<p>暂无电子材料。</p>");
            return out;
        }
        let mut rows = Vec::new();
        for m in &v.materials {
            let file = if m.source == "e_certificate" {
                format!("电子证照 {}", html_escape(&m.filename))
            } else {
                format!(
                    "<a href=\"/api/v1/cases/{}/materials/{}\">{}</a>",
                    html_escape(&url_segment(&v.line.case_number)),
                    m.id,
                    html_escape(&m.filename)
                )
            };
            rows.push(vec![
                html_escape(&m.name),
                file,
                html_escape(&round_zh(m.round)),
                if m.source == "e_certificate" {
                    "—".to_owned()
                } else {
                    size_text(m.size)
                },
            ]);
        }
        out.push_str(&cards_table(
            "case-materials",
            &["材料名称", "文件", "提交", "大小"],
            &rows,
        ));
        out
    }

    fn withdraw_box(&self) -> String {
        if !self.view.allowed.iter().any(|a| a.action == "withdraw") {
            return String::new();
        }
        let mut out = heading(2, "撤回申请", "Withdraw");
        if let Some(e) = &self.problems.withdraw {
            out.push_str(&error_box(e));
        }
        let _ = write!(
            out,
            "<form class=\"stack\" id=\"withdraw-form\" method=\"post\" action=\"/my/cases/{}/withdraw\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><fieldset>\
             <p>撤回后本次申请终止办理，如需办理须重新申请。<small class=\"en\" lang=\"en\">A withdrawn application ends; apply again if needed.</small></p>\
             <label for=\"withdraw-reason\">撤回原因（选填）{}</label>\
             <textarea id=\"withdraw-reason\" name=\"reason\" rows=\"2\" maxlength=\"500\"></textarea>\
             <p><input type=\"checkbox\" id=\"withdraw-confirm\" name=\"confirm\" value=\"yes\" required> \
             <label class=\"inline\" for=\"withdraw-confirm\">我确认撤回此申请 <small class=\"en\" lang=\"en\">I confirm</small></label></p>\
             <p><button class=\"btn secondary\" type=\"submit\" id=\"withdraw-submit\">撤回申请 <small lang=\"en\">Withdraw</small></button></p>\
             </fieldset></form>",
            html_escape(&url_segment(&self.view.line.case_number)),
            html_escape(self.csrf),
            en("Reason (optional)"),
        );
        out
    }
}
