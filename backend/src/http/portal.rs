//! The public portal (政务服务网 / 网上办事大厅): the home page with entries by
//! audience, theme and department, the guide lists with search, and each
//! matter's full service guide. The account pages live in
//! [`super::portal_account`], the apply flow in [`super::portal_apply`];
//! this module holds the frame they share (navigation, styles, the form
//! extractor, the login redirect). Same services as the JSON API.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::{Form, FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use proto::{
    Audience, CaseType, FieldKind, FlowKind, Matter, MatterList, MatterQuery, MatterSummary,
    ServiceLevel,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::auth_api::me_of;
use super::extract::{ApiPath, ApiQuery, MaybeSession, SessionAuth};
use super::html::{HtmlError, heading, html_escape, url_segment};
use crate::AppState;
use crate::error::ApiError;
use crate::service::auth::{AccountPrincipal, Principal};
use crate::service::catalogue;

/// The portal's routes (the account and apply pages included).
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/guides", get(guides))
        .route("/matters/{code}", get(matter_page))
        .merge(super::portal_account::router())
        .merge(super::portal_apply::router())
        .merge(super::portal_track::router())
}

// ---------------------------------------------------------------------------
// The frame every portal page shares.

/// Who the navigation shows as logged in, and the token its logout form
/// carries.
#[derive(Debug, Clone, Default)]
pub(super) struct Nav {
    /// (display name, CSRF token) of the session, if any.
    who: Option<(String, String)>,
}

impl Nav {
    /// The navigation of an optional session.
    pub(super) fn of(session: &MaybeSession) -> Self {
        session.0.as_ref().map_or_else(Self::default, Self::session)
    }

    /// The navigation of a session.
    pub(super) fn session(session: &SessionAuth) -> Self {
        Self {
            who: Some((me_of(&session.auth.principal).name, session.csrf())),
        }
    }
}

const PORTAL_CSS: &str = "\
*{box-sizing:border-box}\
body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif;\
margin:0;color:#1f2328;background:#f6f7f9;line-height:1.6;font-size:16px}\
header.top{background:#b3261e;color:#fff}\
header.top .bar{max-width:72rem;margin:0 auto;padding:.4rem 1rem;display:flex;flex-wrap:wrap;\
align-items:center;gap:.2rem .6rem}\
header.top a{color:#fff;text-decoration:none}\
.brand{font-weight:bold;font-size:1.1rem;margin-right:auto;padding:.4rem 0}\
nav.main{display:flex;flex-wrap:wrap;align-items:center;gap:.2rem}\
nav.main a,nav.main button{display:inline-block;min-height:44px;padding:.55rem .75rem;color:#fff;\
background:transparent;border:1px solid transparent;border-radius:.3rem;font:inherit;cursor:pointer}\
nav.main a:hover,nav.main button:hover{border-color:#ffffff88}\
nav.main form{margin:0;display:inline}\
nav.main .who{padding:0 .4rem;opacity:.9}\
main{max-width:72rem;margin:1rem auto;padding:0 1rem}\
h1{font-size:1.45rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin:1.6rem 0 .6rem}\
small.en{color:#667;font-weight:normal;font-size:.78em;margin-left:.5em}\
header small.en{color:#ffe}\
a{color:#0b4a9e}\
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\
table{border-collapse:collapse;width:100%;background:#fff}\
th,td{border:1px solid #d0d7de;padding:.5rem .6rem;text-align:left;vertical-align:top}\
th{background:#eef1f4}\
form.search{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}\
form.search input[type=search]{flex:1 1 14rem;font-size:1.05rem;padding:.6rem;min-height:44px;\
border:1px solid #8c959f;border-radius:.3rem}\
dl.facts{display:grid;grid-template-columns:10rem 1fr;gap:.3rem 1rem;background:#fff;padding:1rem;\
border:1px solid #d0d7de;margin:0 0 1rem}\
dl.facts dt{color:#555}dl.facts dd{margin:0}\
.tag{display:inline-block;padding:0 .4rem;border-radius:.2rem;background:#e7f0ff;color:#0b4a9e;\
font-size:.85em;margin:0 .2rem .2rem 0}\
.tag.must{background:#fde7e5;color:#a40e26}\
.muted{color:#667}\
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(17rem,1fr));gap:1rem;margin:0 0 1rem}\
.tile{background:#fff;border:1px solid #d0d7de;border-radius:.4rem;padding:1rem}\
.tile h2{margin-top:0}\
.tile ul{margin:.3rem 0;padding-left:1.2rem}.tile li{margin:.3rem 0}\
details{background:#fff;border:1px solid #d0d7de;border-radius:.3rem;margin:.4rem 0;padding:.2rem .8rem}\
details summary{cursor:pointer;min-height:44px;padding:.55rem 0}\
.btn{display:inline-block;min-height:44px;padding:.6rem 1.3rem;font:inherit;font-size:1.05rem;\
border-radius:.3rem;border:1px solid #b3261e;background:#b3261e;color:#fff;text-decoration:none;\
cursor:pointer;margin:.2rem 0}\
.btn.secondary{background:#fff;color:#b3261e}\
.btn.big{font-size:1.2rem;padding:.8rem 2rem}\
form.stack fieldset{background:#fff;border:1px solid #d0d7de;border-radius:.4rem;margin:0 0 1rem;\
padding:.6rem 1rem 1rem}\
form.stack legend{font-weight:bold;padding:0 .3rem}\
form.stack label{display:block;font-weight:bold;margin-top:.9rem}\
form.stack label.inline{display:inline;font-weight:normal}\
form.stack input[type=text],form.stack input[type=password],form.stack input[type=tel],\
form.stack input[type=number],form.stack input[type=date],form.stack input[type=file],\
form.stack select,form.stack textarea{display:block;width:100%;max-width:34rem;font:inherit;\
padding:.55rem;min-height:44px;border:1px solid #8c959f;border-radius:.3rem;background:#fff}\
form.stack input[type=checkbox],form.stack input[type=radio]{width:1.3rem;height:1.3rem;\
vertical-align:middle}\
.req{color:#b3261e;font-weight:normal}\
.hint{color:#667;font-size:.9em;margin:.2rem 0}\
.field-error{color:#b3261e;margin:.2rem 0;font-weight:bold}\
.alert{border-left:4px solid #b3261e;background:#fff0ef;padding:.8rem 1rem;margin:1rem 0}\
.notice{border-left:4px solid #0b6bcb;background:#eef6ff;padding:.8rem 1rem;margin:1rem 0}\
.ok{border-left:4px solid #1a7f37;background:#eefbf1;padding:.8rem 1rem;margin:1rem 0}\
.check{border:2px solid #0b6bcb;background:#fff;border-radius:.4rem;padding:.8rem 1rem;margin:1rem 0}\
.material{border-top:1px dashed #d0d7de;padding:.6rem 0}.material:first-of-type{border-top:0}\
.warn{display:inline-block;padding:0 .5rem;border-radius:.2rem;font-size:.9em}\
.warn-normal{background:#e6f4ea;color:#1a7f37}.warn-yellow{background:#fff4ce;color:#7a5a00}\
.warn-red{background:#ffe2e0;color:#a40e26}.warn-stopped{background:#eceff1;color:#455a64}\
.warn-done{background:#e7f0ff;color:#0b4a9e}.warn-none{background:#f0f0f0;color:#555}\
ol.steps{display:flex;flex-wrap:wrap;gap:.4rem;list-style:none;padding:0;margin:0 0 1rem}\
ol.steps li{background:#fff;border:1px solid #d0d7de;border-radius:1rem;padding:.2rem .8rem}\
ol.steps li.current{background:#b3261e;color:#fff;border-color:#b3261e}\
ol.steps li.past{background:#eef1f4}\
footer{max-width:72rem;margin:2rem auto;padding:0 1rem;color:#667;font-size:.85rem}\
@media (max-width:40rem){dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.5rem}\
table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}\
table.cards thead{display:none}table.cards{background:transparent}\
table.cards tr{background:#fff;border:1px solid #d0d7de;border-radius:.4rem;margin:0 0 .7rem;padding:.3rem .2rem}\
table.cards td{border:0;padding:.25rem .6rem}\
table.cards td::before{content:attr(data-label) \"：\";color:#667;font-size:.9em}\
.brand{width:100%}h1{font-size:1.3rem}main{padding:0 .7rem}}";

/// A complete portal page with the navigation (首页 / 办事指南 / 我的办件 /
/// 登录 or 退出). `body` must already be escaped HTML.
pub(super) fn portal_page(title_zh: &str, nav: &Nav, body: &str) -> Html<String> {
    let who = match &nav.who {
        Some((name, csrf)) => format!(
            "<span class=\"who\">{}</span>\
             <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" id=\"logout\">退出</button></form>",
            html_escape(name),
            html_escape(csrf),
        ),
        None => {
            "<a href=\"/login\" id=\"nav-login\">登录</a><a href=\"/register\">注册</a>".to_owned()
        }
    };
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{title} - 卫东区政务服务网</title>\n<style>{PORTAL_CSS}</style>\n</head>\n<body>\n\
<header class=\"top\"><div class=\"bar\"><a class=\"brand\" href=\"/\">平顶山市卫东区政务服务网\
<small class=\"en\" lang=\"en\">Weidong e-Government</small></a>\
<nav class=\"main\" aria-label=\"主导航\"><a href=\"/\">首页</a><a href=\"/guides\">办事指南</a>\
<a href=\"/track\">进度查询</a><a href=\"/my/cases\">我的办件</a>{who}</nav></div></header>\n\
<main>\n{body}\n</main>\n\
<footer>卫东区政务服务中心 · 政务服务便民热线 12345\
<small class=\"en\" lang=\"en\">Weidong District Government Service Centre · hotline 12345</small></footer>\n\
</body>\n</html>\n",
        title = html_escape(title_zh),
    ))
}

/// `<small class="en">` with escaped English text.
pub(super) fn en(text: &str) -> String {
    format!(
        "<small class=\"en\" lang=\"en\">{}</small>",
        html_escape(text)
    )
}

/// A table that turns into one card per row on a phone: each cell carries
/// its column name in `data-label`. Headers are plain text; cells must
/// already be escaped HTML.
pub(super) fn cards_table(id: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "<div class=\"scroll\"><table class=\"cards\" id=\"{}\"><thead><tr>",
        html_escape(id)
    );
    for h in headers {
        let _ = write!(out, "<th>{}</th>", html_escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let label = headers.get(i).copied().unwrap_or_default();
            let _ = write!(out, "<td data-label=\"{}\">{cell}</td>", html_escape(label));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A red box with an error's Chinese and English message.
pub(super) fn error_box(e: &ApiError) -> String {
    let (zh, en_msg) = e.messages();
    let extra = if matches!(e, ApiError::RealNameRequired) {
        " <a href=\"/account/real-name\">去实名认证</a>"
    } else {
        ""
    };
    format!(
        "<div class=\"alert\" role=\"alert\" id=\"form-error\"><p>{}{extra}</p>\
         <p class=\"muted\" lang=\"en\">{}</p></div>",
        html_escape(&zh),
        html_escape(&en_msg),
    )
}

/// A portal page for an error, with its HTTP status.
pub(super) fn error_page(nav: &Nav, e: &ApiError, back: Option<&str>) -> Response {
    e.log();
    let mut body = heading(1, "未能完成", "Not done");
    body.push_str(&error_box(e));
    if let Some(href) = back {
        let _ = write!(
            body,
            "<p><a class=\"btn secondary\" href=\"{}\">返回 <small lang=\"en\">Back</small></a></p>",
            html_escape(href)
        );
    }
    (e.status(), portal_page("未能完成", nav, &body)).into_response()
}

/// Whether `next` is a safe local return path: a path on this site (no
/// other host, no scheme), printable ASCII only (the portal's own links are
/// percent-encoded), so it always makes a valid `Location` header.
pub(super) fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 200
        && next.chars().all(|c| c.is_ascii_graphic());
    ok.then_some(next)
}

/// The URL of the login page that returns to `next` afterwards.
pub(super) fn login_url(next: &str) -> String {
    format!("/login?next={}", url_segment(next))
}

/// A `303 See Other` to the login page, returning to `next`.
pub(super) fn login_redirect(next: &str) -> Response {
    Redirect::to(&login_url(next)).into_response()
}

/// The portal account of a session, or the response to send instead: a
/// redirect to the login page (returning to `here`) when there is no
/// session, `FORBIDDEN` for a staff session.
pub(super) fn require_account(
    session: MaybeSession,
    here: &str,
) -> Result<(SessionAuth, AccountPrincipal), Box<Response>> {
    let Some(s) = session.0 else {
        return Err(Box::new(login_redirect(here)));
    };
    match &s.auth.principal {
        Principal::Account(a) => {
            let a = a.clone();
            Ok((s, a))
        }
        Principal::Staff(_) => Err(Box::new(HtmlError(ApiError::Forbidden).into_response())),
    }
}

/// An URL-encoded form whose rejection is an HTML error page.
#[derive(Debug, Clone)]
pub(super) struct PortalForm<T>(pub T);

impl<T, S> FromRequest<S> for PortalForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = HtmlError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(v)) => Ok(Self(v)),
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(HtmlError(ApiError::PayloadTooLarge))
            }
            Err(r) => Err(HtmlError(ApiError::BadRequest(r.body_text()))),
        }
    }
}

// ---------------------------------------------------------------------------
// Names of catalogue values.

pub(super) const fn audience_zh(a: Audience) -> &'static str {
    match a {
        Audience::Person => "个人",
        Audience::LegalEntity => "法人",
    }
}

const fn level_zh(l: ServiceLevel) -> &'static str {
    match l {
        ServiceLevel::District => "区级",
        ServiceLevel::Street => "街道级",
    }
}

const fn case_type_zh(t: CaseType) -> &'static str {
    match t {
        CaseType::Immediate => "即办件",
        CaseType::Promised => "承诺件",
    }
}

/// A time limit in working days (0: on the spot).
pub(super) fn days_zh(days: u32) -> String {
    if days == 0 {
        "即办".to_owned()
    } else {
        format!("{days}个工作日")
    }
}

const fn field_kind_zh(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "文字",
        FieldKind::Textarea => "多行文字",
        FieldKind::Number => "数字",
        FieldKind::Date => "日期",
        FieldKind::Phone => "电话号码",
        FieldKind::IdNumber => "身份证号码",
        FieldKind::Uscc => "统一社会信用代码",
        FieldKind::Choice => "选项",
    }
}

// ---------------------------------------------------------------------------
// Home and guide lists.

async fn index(
    State(s): State<AppState>,
    session: MaybeSession,
    query: Result<ApiQuery<MatterQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiQuery(q) = query?;
    let nav = Nav::of(&session);
    let text = q.q.as_deref().unwrap_or("").trim().to_owned();
    let list = catalogue::list(&s.store, Some(&text), Some(catalogue::MAX_LIMIT), None).await?;
    if text.is_empty() {
        Ok(render_home(&nav, &list))
    } else {
        Ok(render_search(&nav, &text, &list))
    }
}

fn search_form(q: &str) -> String {
    format!(
        "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">\
         <label for=\"q\" class=\"muted\">搜索事项 <small class=\"en\" lang=\"en\">Search</small></label>\
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\" placeholder=\"如：低保、户口、身份证\" maxlength=\"50\">\
         <button class=\"btn\" type=\"submit\" id=\"search-submit\">搜索</button></form>",
        html_escape(q)
    )
}

fn matter_link(m: &MatterSummary) -> String {
    format!(
        "<a href=\"/matters/{}\">{}</a>",
        html_escape(&url_segment(&m.code)),
        html_escape(&m.name)
    )
}

/// Groups summaries by a key, keeping the catalogue order of first sight.
fn group_by(
    items: &[MatterSummary],
    key: impl Fn(&MatterSummary) -> &str,
) -> Vec<(String, Vec<&MatterSummary>)> {
    let mut groups: Vec<(String, Vec<&MatterSummary>)> = Vec::new();
    for m in items {
        let k = key(m);
        match groups.iter_mut().find(|(g, _)| g == k) {
            Some((_, list)) => list.push(m),
            None => groups.push((k.to_owned(), vec![m])),
        }
    }
    groups
}

fn render_home(nav: &Nav, list: &MatterList) -> Html<String> {
    let mut body = heading(1, "网上办事大厅", "Online service hall");
    body.push_str(&search_form(""));
    body.push_str(
        "<p class=\"notice\" id=\"home-track\">已提交申请？凭办件编号和证件号码后六位，或扫描回执二维码，\
         <a href=\"/track\">查询办件进度</a>。<small class=\"en\" lang=\"en\">Applied already? \
         <a href=\"/track\">Track your case</a> with its number and your ID ending, or scan the receipt's QR code.</small></p>",
    );
    let _ = write!(
        body,
        "<p>共 {} 项政务服务事项，可在线申请、查询办件进度。<small class=\"en\" lang=\"en\">{} matters; apply online and follow your cases.</small></p>",
        list.total, list.total
    );
    body.push_str("<div class=\"tiles\">");
    for (aud, title, title_en, id) in [
        (Audience::Person, "个人办事", "For residents", "tile-person"),
        (
            Audience::LegalEntity,
            "法人办事",
            "For businesses and organisations",
            "tile-entity",
        ),
    ] {
        let _ = write!(
            body,
            "<section class=\"tile\" id=\"{id}\">{}<ul>",
            heading(2, title, title_en)
        );
        for m in list.items.iter().filter(|m| m.audience == aud) {
            let _ = write!(
                body,
                "<li>{} <span class=\"tag\">{}</span><span class=\"tag\">{}</span></li>",
                matter_link(m),
                html_escape(&days_zh(m.promised_days)),
                if m.fee { "收费" } else { "不收费" },
            );
        }
        let _ = write!(
            body,
            "</ul><p><a href=\"/guides?audience={}\">查看全部{}事项</a></p></section>",
            url_segment(audience_zh(aud)),
            audience_zh(aud)
        );
    }
    body.push_str("</div>");
    for (title, title_en, param, groups) in [
        (
            "按主题",
            "By theme",
            "theme",
            group_by(&list.items, |m| &m.theme),
        ),
        (
            "按部门",
            "By department",
            "department",
            group_by(&list.items, |m| &m.department),
        ),
    ] {
        body.push_str(&heading(2, title, title_en));
        for (name, items) in &groups {
            let _ = write!(
                body,
                "<details><summary>{} <span class=\"muted\">（{} 项）</span></summary><ul>",
                html_escape(name),
                items.len()
            );
            for m in items {
                let _ = write!(body, "<li>{}</li>", matter_link(m));
            }
            let _ = write!(
                body,
                "</ul><p><a href=\"/guides?{param}={}\">查看列表</a></p></details>",
                url_segment(name)
            );
        }
    }
    portal_page("网上办事大厅", nav, &body)
}

fn matter_table(items: &[&MatterSummary]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|m| {
            vec![
                matter_link(m),
                html_escape(&m.department),
                audience_zh(m.audience).to_owned(),
                html_escape(&days_zh(m.promised_days)),
                if m.fee { "收费" } else { "不收费" }.to_owned(),
                if m.kiosk_available { "可办" } else { "—" }.to_owned(),
            ]
        })
        .collect();
    cards_table(
        "matter-list",
        &[
            "事项名称",
            "实施部门",
            "服务对象",
            "承诺时限",
            "收费",
            "自助终端",
        ],
        &rows,
    )
}

fn render_search(nav: &Nav, q: &str, list: &MatterList) -> Html<String> {
    let mut body = heading(1, "搜索事项", "Search");
    body.push_str(&search_form(q));
    if list.total == 0 {
        let _ = write!(
            body,
            "<p>未找到与“{}”相关的事项。<a href=\"/guides\">查看全部事项</a>\
             <small class=\"en\" lang=\"en\">No matter found.</small></p>",
            html_escape(q)
        );
        return portal_page("搜索事项", nav, &body);
    }
    let _ = write!(
        body,
        "<p>与“{}”相关的事项共 {} 项。<a href=\"/guides\">查看全部事项</a></p>",
        html_escape(q),
        list.total
    );
    let items: Vec<&MatterSummary> = list.items.iter().collect();
    body.push_str(&matter_table(&items));
    portal_page("搜索事项", nav, &body)
}

/// Filters of the guide list.
#[derive(Debug, Clone, Default, Deserialize)]
struct GuideQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    theme: Option<String>,
    #[serde(default)]
    department: Option<String>,
}

fn non_empty(s: Option<&String>) -> Option<&str> {
    s.map(|s| s.trim()).filter(|s| !s.is_empty())
}

async fn guides(
    State(s): State<AppState>,
    session: MaybeSession,
    query: Result<ApiQuery<GuideQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiQuery(g) = query?;
    let nav = Nav::of(&session);
    let all = catalogue::list(&s.store, None, Some(catalogue::MAX_LIMIT), None).await?;
    let found = match non_empty(g.q.as_ref()) {
        Some(q) => catalogue::list(&s.store, Some(q), Some(catalogue::MAX_LIMIT), None).await?,
        None => all.clone(),
    };
    Ok(render_guides(&nav, &g, &all, &found))
}

fn select(name: &str, label: &str, options: &[String], chosen: Option<&str>) -> String {
    let mut out = format!(
        "<label for=\"filter-{name}\">{}</label><select id=\"filter-{name}\" name=\"{name}\">\
         <option value=\"\">全部</option>",
        html_escape(label)
    );
    for o in options {
        let sel = if chosen == Some(o.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<option value=\"{}\"{sel}>{}</option>",
            html_escape(o),
            html_escape(o)
        );
    }
    out.push_str("</select>");
    out
}

fn render_guides(nav: &Nav, g: &GuideQuery, all: &MatterList, found: &MatterList) -> Html<String> {
    let audience = non_empty(g.audience.as_ref());
    let theme = non_empty(g.theme.as_ref());
    let department = non_empty(g.department.as_ref());
    let items: Vec<&MatterSummary> = found
        .items
        .iter()
        .filter(|m| audience.is_none_or(|a| audience_zh(m.audience) == a))
        .filter(|m| theme.is_none_or(|t| m.theme == t))
        .filter(|m| department.is_none_or(|d| m.department == d))
        .collect();
    let mut body = heading(1, "办事指南", "Service guides");
    let themes: Vec<String> = group_by(&all.items, |m| &m.theme)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let departments: Vec<String> = group_by(&all.items, |m| &m.department)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let _ = write!(
        body,
        "<form class=\"stack\" method=\"get\" action=\"/guides\"><fieldset><legend>筛选 <small class=\"en\" lang=\"en\">Filter</small></legend>\
         <label for=\"filter-q\">关键词</label><input type=\"text\" id=\"filter-q\" name=\"q\" value=\"{}\" maxlength=\"50\">{}{}{}\
         <p><button class=\"btn\" type=\"submit\" id=\"filter-submit\">筛选</button> <a href=\"/guides\">清除</a></p></fieldset></form>",
        html_escape(non_empty(g.q.as_ref()).unwrap_or("")),
        select(
            "audience",
            "服务对象",
            &["个人".to_owned(), "法人".to_owned()],
            audience
        ),
        select("theme", "主题", &themes, theme),
        select("department", "部门", &departments, department),
    );
    let _ = write!(
        body,
        "<p id=\"guide-count\">共 {} 项事项。<small class=\"en\" lang=\"en\">{} matters.</small></p>",
        items.len(),
        items.len()
    );
    if !items.is_empty() {
        body.push_str(&matter_table(&items));
    }
    portal_page("办事指南", nav, &body)
}

// ---------------------------------------------------------------------------
// One matter's guide.

async fn matter_page(
    State(s): State<AppState>,
    session: MaybeSession,
    ApiPath(code): ApiPath<String>,
) -> Result<Html<String>, HtmlError> {
    let matter = catalogue::get(&s.store, &code).await?;
    let logged_in = session
        .0
        .as_ref()
        .is_some_and(|s| matches!(s.auth.principal, Principal::Account(_)));
    Ok(render_matter(&Nav::of(&session), &matter, logged_in))
}

fn list_items(items: &[String], ordered: bool) -> String {
    let tag = if ordered { "ol" } else { "ul" };
    let mut out = format!("<{tag}>");
    for i in items {
        let _ = write!(out, "<li>{}</li>", html_escape(i));
    }
    let _ = write!(out, "</{tag}>");
    out
}

fn apply_button(m: &Matter, logged_in: bool, id: &str) -> String {
    let target = format!("/apply/{}", url_segment(&m.code));
    if logged_in {
        format!(
            "<p><a class=\"btn big\" id=\"{id}\" href=\"{}\">在线申请 <small lang=\"en\">Apply online</small></a></p>",
            html_escape(&target)
        )
    } else {
        format!(
            "<p><a class=\"btn big\" id=\"{id}\" href=\"{}\">登录后在线申请 <small lang=\"en\">Log in to apply online</small></a> \
             <span class=\"muted\">没有账号？<a href=\"/register?next={}\">注册</a></span></p>",
            html_escape(&login_url(&target)),
            html_escape(&url_segment(&target)),
        )
    }
}

/// How a material may be handed in, for the guide and the apply page.
pub(super) fn material_form_zh(f: proto::MaterialForm) -> &'static str {
    match f {
        proto::MaterialForm::Original => "原件",
        proto::MaterialForm::Copy => "复印件",
        proto::MaterialForm::OriginalAndCopy => "原件及复印件",
    }
}

fn render_materials(m: &Matter) -> String {
    let mut rows = Vec::new();
    for (i, mat) in m.materials.iter().enumerate() {
        let electronic = match (&mat.e_certificate, mat.electronic) {
            (Some(cert), _) => format!(
                "可上传；可用电子证照「{}」代替，免交纸质材料",
                html_escape(cert)
            ),
            (None, true) => "可上传扫描件或照片".to_owned(),
            (None, false) => "须提交纸质材料".to_owned(),
        };
        rows.push(vec![
            (i + 1).to_string(),
            html_escape(&mat.name),
            material_form_zh(mat.form).to_owned(),
            mat.copies.to_string(),
            if mat.required {
                "必需"
            } else {
                "按情形提供"
            }
            .to_owned(),
            electronic,
            html_escape(&mat.note),
        ]);
    }
    cards_table(
        "guide-materials",
        &[
            "序号",
            "材料名称",
            "材料形式",
            "份数",
            "是否必需",
            "电子材料",
            "说明",
        ],
        &rows,
    )
}

fn render_workflow(m: &Matter) -> String {
    let rows: Vec<Vec<String>> = m
        .workflow
        .steps
        .iter()
        .map(|st| {
            vec![
                html_escape(&st.name),
                st.role.zh().to_owned(),
                html_escape(st.department.as_deref().unwrap_or(&m.department)),
                html_escape(&days_zh(st.days)),
            ]
        })
        .collect();
    let mut body = cards_table(
        "workflow",
        &["环节", "办理岗位", "办理部门", "环节时限"],
        &rows,
    );
    match m.workflow.kind {
        FlowKind::General => {}
        FlowKind::Parallel => {
            body.push_str("<p>并联审批：受理后以下部门同时办理。<small class=\"en\" lang=\"en\">Parallel approval.</small></p><ul>");
            for c in &m.workflow.co_departments {
                let _ = write!(
                    body,
                    "<li>{}：{}（{}）</li>",
                    html_escape(&c.department),
                    html_escape(&c.name),
                    html_escape(&days_zh(c.days))
                );
            }
            body.push_str("</ul>");
        }
        FlowKind::Linked => body.push_str(
            "<p>联动审批：街道受理后报区级部门决定，结果反馈申请人。<small class=\"en\" lang=\"en\">Linked approval: street office accepts, district decides.</small></p>",
        ),
    }
    body
}

fn render_form_fields(m: &Matter) -> String {
    if m.form.is_empty() {
        return "<p>本事项无需填写申请表。</p>".to_owned();
    }
    let mut rows = Vec::new();
    for f in &m.form {
        let kind = if f.kind == FieldKind::Choice {
            format!("选项：{}", html_escape(&f.choices.join("、")))
        } else {
            field_kind_zh(f.kind).to_owned()
        };
        rows.push(vec![
            format!("{}{}", html_escape(&f.label), en(&f.label_en)),
            kind,
            if f.required { "必填" } else { "选填" }.to_owned(),
        ]);
    }
    cards_table("guide-form", &["填写项目", "类型", "是否必填"], &rows)
}

fn render_matter(nav: &Nav, m: &Matter, logged_in: bool) -> Html<String> {
    let mut body = format!(
        "<p><a href=\"/guides\">办事指南</a> › {}</p><h1>{}</h1>\
         <p><span class=\"tag\">{}</span> <span class=\"tag\">{}</span> \
         <span class=\"tag\">{}</span> <span class=\"tag\">{}</span> <span class=\"tag\">{}</span></p>",
        html_escape(&m.name),
        html_escape(&m.name),
        html_escape(&m.matter_type),
        audience_zh(m.audience),
        level_zh(m.service_level),
        case_type_zh(m.case_type),
        html_escape(&m.online_depth),
    );
    body.push_str(&apply_button(m, logged_in, "apply-online"));

    body.push_str(&heading(2, "申请材料", "Materials"));
    body.push_str(&render_materials(m));

    body.push_str(&heading(2, "受理条件", "Conditions"));
    body.push_str(&list_items(&m.conditions, false));

    body.push_str(&heading(2, "办理流程", "Process"));
    body.push_str(&list_items(&m.process, true));
    body.push_str(&render_workflow(m));

    body.push_str(&heading(2, "申请表填写项目", "Application form"));
    body.push_str(&render_form_fields(m));

    body.push_str(&heading(2, "办理时限", "Time limit"));
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>法定办结时限</dt><dd>{}</dd><dt>承诺办结时限</dt><dd>{}</dd>\
         <dt>办件类型</dt><dd>{}</dd></dl>",
        html_escape(&days_zh(m.legal_days)),
        html_escape(&days_zh(m.promised_days)),
        case_type_zh(m.case_type),
    );

    body.push_str(&heading(2, "收费标准", "Fees"));
    if m.fee.charged {
        body.push_str(&list_items(&m.fee.items, false));
    } else {
        body.push_str("<p>不收费</p>");
    }
    let _ = write!(
        body,
        "<p class=\"muted\">收费依据：{}</p>",
        html_escape(&m.fee.basis)
    );

    body.push_str(&heading(2, "办理地点", "Where and when"));
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>办理窗口</dt><dd>{}</dd><dt>办理地址</dt><dd>{}</dd>\
         <dt>办理时间</dt><dd>{}</dd><dt>咨询电话</dt><dd>{}</dd><dt>监督投诉电话</dt><dd>{}</dd></dl>",
        html_escape(&m.windows),
        html_escape(&m.address),
        html_escape(&m.hours),
        html_escape(&m.phone),
        html_escape(&m.supervision_phone),
    );

    if !m.faq.is_empty() {
        body.push_str(&heading(2, "常见问题", "FAQ"));
        for f in &m.faq {
            let _ = write!(
                body,
                "<details class=\"faq\"><summary>{}</summary><p>{}</p></details>",
                html_escape(&f.q),
                html_escape(&f.a)
            );
        }
    }

    body.push_str(&heading(2, "基本信息", "Basic information"));
    let keywords = if m.keywords.is_empty() {
        "—".to_owned()
    } else {
        html_escape(&m.keywords.join("、"))
    };
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>事项编码</dt><dd>{}</dd><dt>事项类型</dt><dd>{}</dd>\
         <dt>实施主体</dt><dd>{}</dd><dt>承办机构</dt><dd>{}</dd><dt>主题分类</dt><dd>{}</dd>\
         <dt>又称（关键词）</dt><dd id=\"keywords\">{}</dd>\
         <dt>设定依据</dt><dd>{}</dd><dt>网办深度</dt><dd>{}</dd><dt>物流寄递</dt><dd>{}</dd>\
         <dt>自助终端办理</dt><dd>{}</dd>\
         <dt>办理结果</dt><dd>{}</dd><dt>指南版本</dt><dd>第 {} 版</dd></dl>",
        html_escape(&m.code),
        html_escape(&m.matter_type),
        html_escape(&m.implementing_body),
        html_escape(&m.department),
        html_escape(&m.theme),
        keywords,
        html_escape(&m.legal_basis),
        html_escape(&m.online_depth),
        if m.logistics {
            "支持邮寄送达"
        } else {
            "不支持，请到窗口领取"
        },
        if m.kiosk_available {
            "支持"
        } else {
            "不支持，请到窗口办理"
        },
        html_escape(&m.result_name),
        m.version,
    );
    body.push_str(&apply_button(m, logged_in, "apply-online-bottom"));
    portal_page(&m.name, nav, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_printable_return_paths_are_followed() {
        assert_eq!(safe_next("/my/cases"), Some("/my/cases"));
        assert_eq!(safe_next("/apply/A-1?x=1"), Some("/apply/A-1?x=1"));
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "/a b",
            "/社会保障",
            "/a\r\nSet-Cookie:x",
        ] {
            assert_eq!(safe_next(bad), None, "{bad}");
        }
        assert_eq!(login_url("/apply/A 1"), "/login?next=%2Fapply%2FA%201");
    }
}
