//! Window filing in the clerk workbench (窗口受理, 草稿箱), server-rendered,
//! no JavaScript: the clerk picks a matter their department accepts, types
//! the applicant (and the legal entity or the agent, 代办人, when there is
//! one), the matter's form and scans the materials; 保存草稿 keeps
//! everything but the files ([`window::save_draft`]), 受理登记 files the case
//! ([`window::file`]) and shows its number and projected deadline.
//!
//! Two buttons share one form: 受理登记 posts it as multipart (files
//! included, 25 MiB body) to `/clerk/window/{code}`; 保存草稿 posts it
//! URL-encoded (`formenctype`, so no file travels) to
//! `/clerk/window/{code}/draft` under the ordinary 1 MiB limit. A refused
//! filing shows the form again with the messages next to the fields and
//! the values kept; files must be chosen again and the page says so.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Multipart, State};
use axum::handler::Handler as _;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use proto::{Applicant, FieldKind, FormField, IdType, Matter, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use super::clerk::{Clerk, bar, case_href};
use super::extract::{ApiPath, ApiQuery};
use super::html::{HtmlError, heading, html_escape, page, url_segment};
use super::portal::{en, material_form_zh};
use super::portal_apply::{
    FILES_LOST, PostedFile, UPLOAD_BODY_LIMIT, check_ecert, field_error, read_multipart, to_upload,
};
use crate::AppState;
use crate::error::ApiError;
use crate::service::apply::{EcertRef, Upload};
use crate::service::auth::Principal;
use crate::service::notice::{self, NoticeKind};
use crate::service::privacy::gb11643_valid;
use crate::service::window::{self, AgentParty, DraftLine, EntityParty, WindowApplication};
use crate::service::{catalogue, workflow};

/// The drafts tab as the workbench bar shows it to window clerks; the
/// pages here put the count and the current-page mark on it.
pub(super) const DRAFTS_TAB: &str = "<a id=\"nav-drafts\" href=\"/clerk/drafts\">草稿\
<small class=\"en\" lang=\"en\">Drafts</small></a>";

/// The new-application link as the workbench bar shows it to window
/// clerks.
pub(super) const WINDOW_TAB: &str = "<a id=\"nav-window\" href=\"/clerk/window\">窗口受理\
<small class=\"en\" lang=\"en\">New application</small></a>";

/// File types the file inputs offer.
const ACCEPT: &str =
    "image/jpeg,image/png,image/tiff,application/pdf,.jpg,.jpeg,.png,.tif,.tiff,.pdf";

/// Identity document types a clerk may choose: code, Chinese, English.
const ID_TYPES: [(&str, &str, &str); 3] = [
    ("111", "居民身份证", "Resident ID card"),
    (
        "414",
        "外国人永久居留身份证",
        "Foreign permanent resident ID",
    ),
    (
        "516",
        "港澳台居民居住证",
        "HK/Macao/Taiwan residence permit",
    ),
];

/// The party fields of the form (input names), as the service names them
/// with `.` for `_`.
const PARTY_FIELDS: [&str; 9] = [
    "applicant_name",
    "applicant_id_type",
    "applicant_id_number",
    "applicant_phone",
    "applicant_address",
    "entity_name",
    "entity_uscc",
    "agent_name",
    "agent_id_number",
];

/// Styles of the filing form (added to the workbench styles).
const CSS: &str = "\
form.window{background:#fff;border:1px solid #d0d7de;padding:1rem;max-width:48rem}\
form.window fieldset{border:1px solid #d0d7de;margin:0 0 1rem;padding:.6rem 1rem;min-width:0}\
form.window legend{font-weight:bold}\
form.window label{display:block;margin:.7rem 0 .2rem}\
form.window input[type=text],form.window input[type=tel],form.window input[type=number],\
form.window input[type=date],form.window select,form.window textarea{font-size:1rem;padding:.5rem;\
width:100%;box-sizing:border-box;min-height:2.75rem}\
form.window input[type=file]{font-size:1rem;min-height:2.75rem;max-width:100%}\
form.window [aria-invalid=true]{border:2px solid #d33}\
.material{border-top:1px dashed #d0d7de;padding:.4rem 0}\
.field-error{color:#a50e0e;font-weight:bold;margin:.2rem 0}\
.hint{color:#555;font-size:.9em;margin:.2rem 0}\
.req{color:#a50e0e}\
.tag.must{background:#ffe3e3;color:#a50e0e}\
.notice{background:#fff3bf;border:1px solid #d4a800;padding:.6rem 1rem}\
.buttons{display:flex;flex-wrap:wrap;gap:.8rem;margin-top:1rem}\
form.search{margin:0 0 1rem}form.search input[type=search]{min-height:2.75rem;box-sizing:border-box}";

/// The window filing routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clerk/window", get(choose_page))
        .route(
            "/clerk/window/{code}",
            get(form_page).post(file_submit.layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT))),
        )
        .route("/clerk/window/{code}/draft", post(draft_submit))
        .route("/clerk/filed/{case_number}", get(filed_page))
        .route("/clerk/drafts", get(drafts_page))
}

// ----------------------------------------------------------------- frame

/// Which of this module's tabs is the current page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Window,
    Drafts,
}

fn require_window_clerk(clerk: &Clerk) -> Result<(), ApiError> {
    if clerk.staff.has(Role::WindowClerk) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// A bar tab with its count and the current-page mark.
fn tab(base: &str, count: Option<usize>, current: bool) -> String {
    let mut out = if current {
        base.replacen("<a ", "<a aria-current=\"page\" ", 1)
    } else {
        base.to_owned()
    };
    if let Some(n) = count
        && let Some(open) = out.strip_suffix("</a>")
    {
        out = format!("{open}<span class=\"count\" id=\"drafts-count\">{n}</span></a>");
    }
    out
}

/// The workbench bar with the drafts count and the current tab.
fn with_tabs(bar_html: &str, drafts: usize, current: Option<Tab>) -> String {
    bar_html
        .replacen(
            DRAFTS_TAB,
            &tab(DRAFTS_TAB, Some(drafts), current == Some(Tab::Drafts)),
            1,
        )
        .replacen(
            WINDOW_TAB,
            &tab(WINDOW_TAB, None, current == Some(Tab::Window)),
            1,
        )
}

/// The bar and the styles of a page of this module.
async fn frame(s: &AppState, clerk: &Clerk, current: Option<Tab>) -> Result<String, ApiError> {
    let count = window::drafts(&s.store, &clerk.staff).await?.len();
    let mut out = with_tabs(&bar(clerk, &[], None), count, current);
    let _ = write!(out, "<style>{CSS}</style>");
    Ok(out)
}

/// The department that accepts a matter at its window: the first step's,
/// or the matter's own.
fn accepting_department(m: &Matter) -> &str {
    m.workflow
        .steps
        .first()
        .and_then(|s| s.department.as_deref())
        .unwrap_or(&m.department)
}

/// A matter the clerk's department accepts.
async fn accepted_matter(s: &AppState, clerk: &Clerk, code: &str) -> Result<Matter, ApiError> {
    let m = catalogue::get(&s.store, code).await?;
    if accepting_department(&m) == clerk.staff.department {
        Ok(m)
    } else {
        Err(ApiError::Forbidden)
    }
}

fn window_href(code: &str) -> String {
    format!("/clerk/window/{}", url_segment(code))
}

fn days_text(days: u32) -> String {
    if days == 0 {
        "即办".to_owned()
    } else {
        format!("{days}个工作日")
    }
}

// ---------------------------------------------------------- choose matter

#[derive(Debug, Deserialize)]
struct ChooseQuery {
    q: Option<String>,
}

/// Every published matter matching `q` that the department accepts.
async fn matters_accepted_by(
    s: &AppState,
    department: &str,
    q: Option<&str>,
) -> Result<Vec<Matter>, ApiError> {
    let mut codes = Vec::new();
    let mut offset = 0u32;
    loop {
        let list = catalogue::list(&s.store, q, Some(catalogue::MAX_LIMIT), Some(offset)).await?;
        let n = u32::try_from(list.items.len()).unwrap_or(u32::MAX);
        codes.extend(list.items.into_iter().map(|m| m.code));
        offset = offset.saturating_add(n);
        if n == 0 || u64::from(offset) >= list.total {
            break;
        }
    }
    let all = s
        .store
        .read(move |tx| {
            let mut out = Vec::new();
            for c in &codes {
                if let Some(m) = tx.matter(c)? {
                    out.push(m);
                }
            }
            Ok::<_, ApiError>(out)
        })
        .await?;
    Ok(all
        .into_iter()
        .filter(|m| accepting_department(m) == department)
        .collect())
}

async fn choose_page(
    State(s): State<AppState>,
    clerk: Clerk,
    query: Result<ApiQuery<ChooseQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    require_window_clerk(&clerk)?;
    let q = query
        .ok()
        .and_then(|ApiQuery(q)| q.q)
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    let mut body = frame(&s, &clerk, Some(Tab::Window)).await?;
    body.push_str(&heading(1, "窗口受理", "New application at the window"));
    let _ = write!(
        body,
        "<p>请选择本部门（{}）受理的事项。<small class=\"en\" lang=\"en\">Choose a matter your department accepts.</small></p>\
         <form class=\"search\" method=\"get\" action=\"/clerk/window\" role=\"search\">\
         <label for=\"window-q\">搜索事项 <small class=\"en\" lang=\"en\">Search</small></label> \
         <input type=\"search\" id=\"window-q\" name=\"q\" maxlength=\"{}\" value=\"{}\"> \
         <button type=\"submit\">搜索 <small class=\"en\" lang=\"en\">Search</small></button></form>",
        html_escape(&clerk.staff.department),
        catalogue::MAX_QUERY_CHARS,
        html_escape(q.as_deref().unwrap_or("")),
    );
    match matters_accepted_by(&s, &clerk.staff.department, q.as_deref()).await {
        Ok(list) => body.push_str(&matter_table(&list)),
        Err(e @ ApiError::InvalidField { .. }) => body.push_str(&error_box(&e)),
        Err(e) => return Err(e.into()),
    }
    Ok(page("窗口受理", &body))
}

fn matter_table(list: &[Matter]) -> String {
    if list.is_empty() {
        return "<p id=\"window-matters-empty\">没有本部门受理的事项。\
                <small class=\"en\" lang=\"en\">No matter your department accepts.</small></p>"
            .to_owned();
    }
    let mut out = String::from(
        "<div class=\"scroll\"><table id=\"window-matters\"><thead><tr><th>事项</th><th>承办部门</th>\
         <th>承诺时限</th><th>办理</th></tr></thead><tbody>",
    );
    for m in list {
        let _ = write!(
            out,
            "<tr data-code=\"{}\"><td>{}</td><td>{}</td><td>{}</td>\
             <td><a href=\"{}\">受理登记<small class=\"en\" lang=\"en\">File</small></a></td></tr>",
            html_escape(&m.code),
            html_escape(&m.name),
            html_escape(&m.department),
            html_escape(&days_text(m.promised_days)),
            html_escape(&window_href(&m.code)),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

// ------------------------------------------------------------ what typed

/// What the clerk typed, to show again or keep as a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Entered {
    applicant_name: String,
    id_type: String,
    id_number: String,
    phone: String,
    address: String,
    entity_name: String,
    entity_uscc: String,
    agent_name: String,
    agent_id_number: String,
    /// Form values by field key.
    form: HashMap<String, String>,
    /// E-certificate numbers by material index.
    ecerts: HashMap<usize, String>,
    /// The draft this continues.
    draft_id: Option<i64>,
}

impl Entered {
    /// A blank form (a resident ID card chosen).
    fn blank() -> Self {
        Self {
            id_type: "111".to_owned(),
            ..Self::default()
        }
    }

    /// Reads the posted fields by input name.
    fn from_fields(matter: &Matter, get: &dyn Fn(&str) -> String) -> Self {
        let mut e = Self {
            applicant_name: get("applicant_name"),
            id_type: get("applicant_id_type"),
            id_number: get("applicant_id_number"),
            phone: get("applicant_phone"),
            address: get("applicant_address"),
            entity_name: get("entity_name"),
            entity_uscc: get("entity_uscc"),
            agent_name: get("agent_name"),
            agent_id_number: get("agent_id_number"),
            draft_id: get("draft_id").trim().parse().ok(),
            ..Self::default()
        };
        for f in &matter.form {
            e.form.insert(f.key.clone(), get(&format!("f_{}", f.key)));
        }
        for (i, m) in matter.materials.iter().enumerate() {
            let cert = get(&format!("ecert_{i}")).trim().to_owned();
            if m.e_certificate.is_some() && !cert.is_empty() {
                e.ecerts.insert(i, cert);
            }
        }
        e
    }

    fn has_entity(&self) -> bool {
        !self.entity_name.trim().is_empty() || !self.entity_uscc.trim().is_empty()
    }

    fn has_agent(&self) -> bool {
        !self.agent_name.trim().is_empty() || !self.agent_id_number.trim().is_empty()
    }

    /// The draft body: the shape of the JSON window application, without
    /// files.
    fn to_draft(&self, matter: &Matter) -> Value {
        let form: serde_json::Map<String, Value> = matter
            .form
            .iter()
            .filter_map(|f| {
                let v = self.form.get(&f.key)?;
                Some((f.key.clone(), Value::String(v.clone())))
            })
            .collect();
        let ecerts: Vec<Value> = matter
            .materials
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let c = self.ecerts.get(&i)?;
                Some(json!({"name": m.name, "certificate": c}))
            })
            .collect();
        json!({
            "applicant": {
                "name": self.applicant_name,
                "id_type": self.id_type,
                "id_number": self.id_number,
                "phone": self.phone,
                "address": self.address,
            },
            "entity": if self.has_entity() {
                json!({"name": self.entity_name, "uscc": self.entity_uscc})
            } else {
                Value::Null
            },
            "agent": if self.has_agent() {
                json!({"name": self.agent_name, "id_number": self.agent_id_number})
            } else {
                Value::Null
            },
            "form": form,
            "ecerts": ecerts,
        })
    }

    /// A stored draft body, read leniently (missing parts stay empty).
    fn from_draft(matter: &Matter, body: &Value, id: i64) -> Self {
        let text = |ptr: &str| {
            body.pointer(ptr)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut e = Self {
            applicant_name: text("/applicant/name"),
            id_type: text("/applicant/id_type"),
            id_number: text("/applicant/id_number"),
            phone: text("/applicant/phone"),
            address: text("/applicant/address"),
            entity_name: text("/entity/name"),
            entity_uscc: text("/entity/uscc"),
            agent_name: text("/agent/name"),
            agent_id_number: text("/agent/id_number"),
            draft_id: Some(id),
            ..Self::default()
        };
        if e.id_type.is_empty() {
            e.id_type = "111".to_owned();
        }
        for f in &matter.form {
            let v = match body.get("form").and_then(|o| o.get(&f.key)) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            e.form.insert(f.key.clone(), v);
        }
        let certs = body
            .get("ecerts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for c in certs {
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            let cert = c
                .get("certificate")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(i) = matter.materials.iter().position(|m| m.name == name)
                && !cert.is_empty()
            {
                e.ecerts.insert(i, cert.to_owned());
            }
        }
        e
    }

    fn id_type(&self) -> Option<IdType> {
        match self.id_type.trim() {
            "111" => Some(IdType::ResidentId),
            "414" => Some(IdType::ForeignPermanentResident),
            "516" => Some(IdType::HkMoTwResidencePermit),
            _ => None,
        }
    }

    /// The application to file.
    fn application(
        &self,
        matter: &Matter,
        uploads: Vec<Upload>,
        ecerts: Vec<EcertRef>,
    ) -> WindowApplication {
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        WindowApplication {
            matter_code: matter.code.clone(),
            applicant: Applicant {
                name: self.applicant_name.trim().to_owned(),
                id_type: self.id_type().unwrap_or(IdType::ResidentId),
                id_number: self.id_number.trim().to_owned(),
                phone: opt(&self.phone),
                address: opt(&self.address),
            },
            entity: self.has_entity().then(|| EntityParty {
                name: self.entity_name.trim().to_owned(),
                uscc: self.entity_uscc.trim().to_owned(),
            }),
            agent: self.has_agent().then(|| AgentParty {
                name: self.agent_name.trim().to_owned(),
                id_number: self.agent_id_number.trim().to_owned(),
            }),
            form: self
                .form
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
            uploads,
            ecerts,
            draft_id: self.draft_id,
        }
    }
}

// -------------------------------------------------------------- problems

type Message = (String, String);

/// What went wrong, to show next to the fields.
#[derive(Debug, Default)]
struct Problems {
    /// The error of the whole form.
    banner: Option<ApiError>,
    /// By input name (`applicant_id_number`, `f_purpose`, `file_0`, …).
    fields: HashMap<String, Message>,
}

impl Problems {
    fn any(&self) -> bool {
        self.banner.is_some() || !self.fields.is_empty()
    }

    fn add(&mut self, name: &str, zh: &str, en_msg: &str) {
        self.fields
            .entry(name.to_owned())
            .or_insert_with(|| (zh.to_owned(), en_msg.to_owned()));
    }

    fn get(&self, name: &str) -> Option<&Message> {
        self.fields.get(name)
    }
}

fn bad_text(value: &str, min: usize, max: usize) -> Option<(&'static str, &'static str)> {
    let n = value.trim().chars().count();
    if n < min {
        Some(("必填项未填写", "required"))
    } else if n > max {
        Some(("内容过长", "too long"))
    } else if value.chars().any(char::is_control) {
        Some(("含有控制字符", "contains control characters"))
    } else {
        None
    }
}

fn valid_id(value: &str) -> bool {
    gb11643_valid(&value.trim().to_ascii_uppercase())
}

fn valid_phone(value: &str) -> bool {
    let v = value.trim();
    (7..=20).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
}

/// Checks the applicant, the entity and the agent; every problem found
/// goes next to its field.
fn check_parties(e: &Entered, p: &mut Problems) {
    if let Some((zh, en_msg)) = bad_text(&e.applicant_name, 1, 64) {
        p.add("applicant_name", zh, en_msg);
    }
    if e.id_type().is_none() {
        p.add(
            "applicant_id_type",
            "请选择证件类型",
            "choose the document type",
        );
    }
    if !valid_id(&e.id_number) {
        p.add(
            "applicant_id_number",
            "证件号码应为18位且校验位正确",
            "must be 18 characters with a valid check character",
        );
    }
    if !e.phone.trim().is_empty() && !valid_phone(&e.phone) {
        p.add(
            "applicant_phone",
            "电话号码格式不正确",
            "not a phone number",
        );
    }
    if let Some((zh, en_msg)) = bad_text(&e.address, 0, 200) {
        p.add("applicant_address", zh, en_msg);
    }
    if e.has_entity() {
        if let Some((zh, en_msg)) = bad_text(&e.entity_name, 2, 100) {
            p.add("entity_name", zh, en_msg);
        }
        if !casework::ids::uscc_valid(&e.entity_uscc.trim().to_ascii_uppercase()) {
            p.add(
                "entity_uscc",
                "统一社会信用代码不正确",
                "not a valid unified social credit code",
            );
        }
    }
    if e.has_agent() {
        if let Some((zh, en_msg)) = bad_text(&e.agent_name, 1, 64) {
            p.add("agent_name", zh, en_msg);
        }
        if !valid_id(&e.agent_id_number) {
            p.add(
                "agent_id_number",
                "代办人证件号码不正确",
                "the agent's ID number is not valid",
            );
        }
    }
}

/// The reason of an error, without the field name the service adds.
fn reason(e: &ApiError) -> Message {
    match e {
        ApiError::InvalidField {
            reason_zh,
            reason_en,
            ..
        } => ((*reason_zh).to_owned(), (*reason_en).to_owned()),
        other => other.messages(),
    }
}

/// The uploads and e-certificates of the posted form; problems go next to
/// their material.
fn gather_materials(
    matter: &Matter,
    entered: &Entered,
    file: &dyn Fn(usize) -> Option<PostedFile>,
    p: &mut Problems,
) -> (Vec<Upload>, Vec<EcertRef>) {
    let mut uploads = Vec::new();
    let mut ecerts = Vec::new();
    for (i, mat) in matter.materials.iter().enumerate() {
        if let Some(f) = file(i) {
            match to_upload(&mat.name, &f) {
                Ok(u) => uploads.push(u),
                Err(e) => {
                    let (zh, en_msg) = reason(&e);
                    p.add(&format!("file_{i}"), &zh, &en_msg);
                }
            }
        }
        if let Some(cert) = entered.ecerts.get(&i) {
            if let Err((zh, en_msg)) = check_ecert(cert) {
                p.add(&format!("ecert_{i}"), &zh, &en_msg);
            }
            ecerts.push(EcertRef {
                name: mat.name.clone(),
                certificate: cert.clone(),
            });
        }
    }
    (uploads, ecerts)
}

/// Puts a refusal of the service next to the field it is about, or at the
/// top of the form; errors that are not about the form come back.
fn place(matter: &Matter, e: ApiError, p: &mut Problems) -> Result<(), ApiError> {
    match e {
        ApiError::InvalidField {
            field,
            reason_zh,
            reason_en,
        } if PARTY_FIELDS.contains(&field.replace('.', "_").as_str()) => {
            p.add(&field.replace('.', "_"), reason_zh, reason_en);
        }
        ApiError::FormField { key, zh, en } if matter.form.iter().any(|f| f.key == key) => {
            p.add(&format!("f_{key}"), &zh, &en);
        }
        ApiError::MaterialMissing { name } => {
            if let Some(i) = matter.materials.iter().position(|m| m.name == name) {
                p.add(
                    &format!("file_{i}"),
                    "缺少此材料，请选择文件",
                    "This material is missing: choose a file",
                );
            }
            p.banner = Some(ApiError::MaterialMissing { name });
        }
        e @ (ApiError::Forbidden
        | ApiError::NotFound
        | ApiError::CsrfRejected
        | ApiError::Internal(_)
        | ApiError::Unavailable(_)) => return Err(e),
        other => p.banner = Some(other),
    }
    Ok(())
}

fn error_box(e: &ApiError) -> String {
    let (zh, en_msg) = e.messages();
    format!(
        "<div class=\"error\" role=\"alert\" id=\"form-error\"><p>{}<br>{}</p></div>",
        html_escape(&zh),
        en(&en_msg)
    )
}

// ------------------------------------------------------------ the form

#[derive(Debug, Deserialize)]
struct FormQuery {
    draft: Option<String>,
    saved: Option<String>,
}

/// The form page and what it shows.
struct FormPage<'a> {
    frame: String,
    csrf: String,
    matter: &'a Matter,
    entered: &'a Entered,
    problems: &'a Problems,
    /// Files were posted with a refused filing.
    files_lost: bool,
    /// The draft just saved.
    saved: Option<i64>,
}

impl FormPage<'_> {
    fn render(&self) -> Html<String> {
        let m = self.matter;
        let mut body = self.frame.clone();
        let _ = write!(
            body,
            "<p><a href=\"/clerk/window\">窗口受理</a> › {}</p>",
            html_escape(&m.name)
        );
        body.push_str(&heading(
            1,
            &format!("窗口受理：{}", m.name),
            "New application at the window",
        ));
        let _ = write!(
            body,
            "<dl class=\"facts\"><dt>承办部门</dt><dd>{}</dd><dt>承诺时限</dt><dd>{}</dd>\
             <dt>事项编码</dt><dd>{}</dd></dl>",
            html_escape(&m.department),
            html_escape(&days_text(m.promised_days)),
            html_escape(&m.code),
        );
        body.push_str(&self.flash());
        let _ = write!(
            body,
            "<form class=\"window\" id=\"window-form\" method=\"post\" enctype=\"multipart/form-data\" \
             action=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            html_escape(&window_href(&m.code)),
            html_escape(&self.csrf),
        );
        if let Some(id) = self.entered.draft_id {
            let _ = write!(
                body,
                "<input type=\"hidden\" name=\"draft_id\" value=\"{id}\">"
            );
        }
        body.push_str(&self.applicant_fieldset());
        body.push_str(&self.entity_fieldset());
        body.push_str(&self.agent_fieldset());
        body.push_str(&self.form_fieldset());
        body.push_str(&self.materials_fieldset());
        let _ = write!(
            body,
            "<div class=\"buttons\">\
             <button type=\"submit\" id=\"window-file\">受理登记 <small class=\"en\" lang=\"en\">File</small></button>\
             <button type=\"submit\" id=\"window-save-draft\" formaction=\"{}/draft\" \
             formenctype=\"application/x-www-form-urlencoded\" formnovalidate>保存草稿 \
             <small class=\"en\" lang=\"en\">Save draft</small></button></div>\
             <p class=\"hint\">草稿保存已填写的内容，不保存文件；受理登记时再选择材料文件。\
             <small class=\"en\" lang=\"en\">A draft keeps what is typed, not the files.</small></p></form>",
            html_escape(&window_href(&m.code)),
        );
        page(&format!("窗口受理：{}", m.name), &body)
    }

    fn flash(&self) -> String {
        let mut out = String::new();
        if let Some(id) = self.saved {
            let _ = write!(
                out,
                "<p class=\"ok\" role=\"status\" id=\"draft-saved\">已保存草稿（草稿编号 \
                 <strong id=\"draft-id\">{id}</strong>），可在“草稿”中继续办理。\
                 <small class=\"en\" lang=\"en\">Draft saved (no. {id}); continue it from Drafts.</small></p>"
            );
        }
        if let Some(e) = &self.problems.banner {
            out.push_str(&error_box(e));
        } else if self.problems.any() {
            out.push_str(
                "<div class=\"error\" role=\"alert\" id=\"form-error\"><p>请修改下面标出的项目。\
                 <small class=\"en\" lang=\"en\">Please correct the items marked below.</small></p></div>",
            );
        }
        if self.files_lost || (self.problems.any() && !self.matter.materials.is_empty()) {
            out.push_str(FILES_LOST);
        }
        out
    }

    fn err(&self, name: &str) -> String {
        field_error(
            &format!("err-{}", name.replace('_', "-")),
            self.problems.get(name),
        )
    }

    /// One line of text with its label, value and message.
    fn text_input(&self, name: &str, label: (&str, &str), value: &str, extra: &str) -> String {
        let id = name.replace('_', "-");
        let invalid = if self.problems.get(name).is_some() {
            " aria-invalid=\"true\""
        } else {
            ""
        };
        format!(
            "<label for=\"{id}\">{}{}</label><input type=\"text\" id=\"{id}\" name=\"{name}\" \
             value=\"{}\"{extra}{invalid}>{}",
            html_escape(label.0),
            en(label.1),
            html_escape(value),
            self.err(name),
        )
    }

    fn applicant_fieldset(&self) -> String {
        let e = self.entered;
        let mut out = String::from(
            "<fieldset id=\"applicant\"><legend>申请人 <small class=\"en\" lang=\"en\">Applicant</small></legend>",
        );
        out.push_str(&self.text_input(
            "applicant_name",
            ("姓名 *必填", "Name"),
            &e.applicant_name,
            " maxlength=\"64\" required autocomplete=\"off\"",
        ));
        out.push_str(
            "<label for=\"applicant-id-type\">证件类型<small class=\"en\" lang=\"en\">Document type</small></label>\
             <select id=\"applicant-id-type\" name=\"applicant_id_type\">",
        );
        for (code, zh, en_name) in ID_TYPES {
            let sel = if e.id_type == code { " selected" } else { "" };
            let _ = write!(
                out,
                "<option value=\"{code}\"{sel}>{code} {zh}（{en_name}）</option>"
            );
        }
        out.push_str("</select>");
        out.push_str(&self.err("applicant_id_type"));
        out.push_str(&self.text_input(
            "applicant_id_number",
            ("证件号码 *必填", "Document number"),
            &e.id_number,
            " maxlength=\"18\" required autocomplete=\"off\" pattern=\"[0-9]{17}[0-9Xx]\"",
        ));
        out.push_str(&self.text_input(
            "applicant_phone",
            ("联系电话", "Phone"),
            &e.phone,
            " maxlength=\"20\" inputmode=\"tel\" autocomplete=\"off\"",
        ));
        out.push_str(&self.text_input(
            "applicant_address",
            ("联系地址", "Address"),
            &e.address,
            " maxlength=\"200\" autocomplete=\"off\"",
        ));
        out.push_str("</fieldset>");
        out
    }

    fn entity_fieldset(&self) -> String {
        let e = self.entered;
        let mut out = String::from(
            "<fieldset id=\"entity\"><legend>申请单位（法人申请时填写） \
             <small class=\"en\" lang=\"en\">Legal entity (if one applies)</small></legend>",
        );
        out.push_str(&self.text_input(
            "entity_name",
            ("单位名称", "Name"),
            &e.entity_name,
            " maxlength=\"100\" autocomplete=\"off\"",
        ));
        out.push_str(&self.text_input(
            "entity_uscc",
            ("统一社会信用代码", "Unified social credit code"),
            &e.entity_uscc,
            " maxlength=\"18\" autocomplete=\"off\"",
        ));
        out.push_str("</fieldset>");
        out
    }

    fn agent_fieldset(&self) -> String {
        let e = self.entered;
        let mut out = String::from(
            "<fieldset id=\"agent\"><legend>代办人（他人代为办理时填写） \
             <small class=\"en\" lang=\"en\">Agent (if someone acts for the applicant)</small></legend>",
        );
        out.push_str(&self.text_input(
            "agent_name",
            ("代办人姓名", "Agent's name"),
            &e.agent_name,
            " maxlength=\"64\" autocomplete=\"off\"",
        ));
        out.push_str(&self.text_input(
            "agent_id_number",
            ("代办人身份证号码", "Agent's ID number"),
            &e.agent_id_number,
            " maxlength=\"18\" autocomplete=\"off\" pattern=\"[0-9]{17}[0-9Xx]\"",
        ));
        out.push_str("</fieldset>");
        out
    }

    fn form_fieldset(&self) -> String {
        let mut out = String::from(
            "<fieldset id=\"form-fields\"><legend>申请表 <small class=\"en\" lang=\"en\">Application form</small></legend>",
        );
        if self.matter.form.is_empty() {
            out.push_str(
                "<p>本事项无需填写申请表。<small class=\"en\" lang=\"en\">No form.</small></p>",
            );
        }
        for f in &self.matter.form {
            let value = self.entered.form.get(&f.key).map_or("", String::as_str);
            let error = self.problems.get(&format!("f_{}", f.key));
            out.push_str(&form_input(f, value, error));
        }
        out.push_str("</fieldset>");
        out
    }

    fn materials_fieldset(&self) -> String {
        let mut out = String::from(
            "<fieldset id=\"materials\"><legend>申请材料 <small class=\"en\" lang=\"en\">Materials</small></legend>\
             <p class=\"hint\">扫描件、照片或 PDF，每个文件不超过10MB，合计不超过25MB。\
             <small class=\"en\" lang=\"en\">Scans, photos or PDF; at most 10 MB each, 25 MB in all.</small></p>",
        );
        for (i, mat) in self.matter.materials.iter().enumerate() {
            let must = mat.required && mat.electronic;
            let mark = if must {
                "<span class=\"tag must\">必交</span>"
            } else if mat.required {
                ""
            } else {
                "<span class=\"tag\">按情形提供</span>"
            };
            let _ = write!(
                out,
                "<div class=\"material\" id=\"material-{i}\"><p><strong>{}</strong> {mark} \
                 <span class=\"tag\">{}</span></p>",
                html_escape(&mat.name),
                material_form_zh(mat.form),
            );
            if !mat.note.is_empty() {
                let _ = write!(out, "<p class=\"hint\">{}</p>", html_escape(&mat.note));
            }
            if mat.electronic {
                out.push_str(&self.material_inputs(i, mat, must));
            } else {
                out.push_str(
                    "<p class=\"hint\">纸质材料，当面核验。<small class=\"en\" lang=\"en\">Paper only: check it at the window.</small></p>",
                );
            }
            out.push_str(&self.err(&format!("file_{i}")));
            out.push_str(&self.err(&format!("ecert_{i}")));
            out.push_str("</div>");
        }
        out.push_str("</fieldset>");
        out
    }

    fn material_inputs(&self, i: usize, mat: &proto::Material, must: bool) -> String {
        let required = if must && mat.e_certificate.is_none() {
            " required"
        } else {
            ""
        };
        let mut out = format!(
            "<label for=\"file-{i}\">选择文件{}</label>\
             <input type=\"file\" id=\"file-{i}\" name=\"file_{i}\" accept=\"{ACCEPT}\"{required}>",
            en("Choose a file"),
        );
        if let Some(cert) = &mat.e_certificate {
            let _ = write!(
                out,
                "<label for=\"ecert-{i}\">或电子证照编号（{}）{}</label>\
                 <input type=\"text\" id=\"ecert-{i}\" name=\"ecert_{i}\" value=\"{}\" maxlength=\"64\" autocomplete=\"off\">",
                html_escape(cert),
                en("or the e-certificate number"),
                html_escape(self.entered.ecerts.get(&i).map_or("", String::as_str)),
            );
        }
        out
    }
}

/// One input of the application form, by its kind, with its value and
/// message.
fn form_input(f: &FormField, value: &str, error: Option<&Message>) -> String {
    let id = format!("field-{}", f.key);
    let req = if f.required { " required" } else { "" };
    let star = if f.required {
        " <span class=\"req\">*必填</span>"
    } else {
        ""
    };
    let invalid = if error.is_some() {
        " aria-invalid=\"true\""
    } else {
        ""
    };
    let maxlen = f.max_len.unwrap_or(if f.kind == FieldKind::Textarea {
        2000
    } else {
        200
    });
    let attrs = format!(
        "id=\"{}\" name=\"f_{}\"{req}{invalid}",
        html_escape(&id),
        html_escape(&f.key)
    );
    let v = html_escape(value);
    let input = match f.kind {
        FieldKind::Text => {
            format!("<input type=\"text\" {attrs} value=\"{v}\" maxlength=\"{maxlen}\">")
        }
        FieldKind::Textarea => {
            format!("<textarea {attrs} rows=\"3\" maxlength=\"{maxlen}\">{v}</textarea>")
        }
        FieldKind::Number => format!(
            "<input type=\"number\" {attrs} value=\"{v}\" step=\"any\" inputmode=\"decimal\">"
        ),
        FieldKind::Date => format!("<input type=\"date\" {attrs} value=\"{v}\">"),
        FieldKind::Phone => {
            format!("<input type=\"tel\" {attrs} value=\"{v}\" maxlength=\"20\" inputmode=\"tel\">")
        }
        FieldKind::IdNumber => format!(
            "<input type=\"text\" {attrs} value=\"{v}\" maxlength=\"18\" pattern=\"[0-9]{{17}}[0-9Xx]\" autocomplete=\"off\">"
        ),
        FieldKind::Uscc => format!(
            "<input type=\"text\" {attrs} value=\"{v}\" maxlength=\"18\" autocomplete=\"off\">"
        ),
        FieldKind::Choice => {
            let mut s = format!("<select {attrs}><option value=\"\">请选择</option>");
            for c in &f.choices {
                let sel = if c == value { " selected" } else { "" };
                let _ = write!(
                    s,
                    "<option value=\"{c}\"{sel}>{c}</option>",
                    c = html_escape(c)
                );
            }
            s.push_str("</select>");
            s
        }
    };
    format!(
        "<label for=\"{}\">{}{}{star}</label>{input}{}",
        html_escape(&id),
        html_escape(&f.label),
        en(&f.label_en),
        field_error(&format!("err-{}", f.key), error),
    )
}

/// The clerk's draft `id` for this matter.
async fn load_draft(
    s: &AppState,
    clerk: &Clerk,
    code: &str,
    id: i64,
) -> Result<DraftLine, ApiError> {
    window::drafts(&s.store, &clerk.staff)
        .await?
        .into_iter()
        .find(|d| d.id == id && d.matter_code == code)
        .ok_or(ApiError::NotFound)
}

async fn form_page(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    query: Result<ApiQuery<FormQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    require_window_clerk(&clerk)?;
    let ApiPath(code) = path?;
    let matter = accepted_matter(&s, &clerk, &code).await?;
    let (draft, saved) = query
        .ok()
        .map(|ApiQuery(q)| (q.draft, q.saved.is_some()))
        .unwrap_or_default();
    let entered = match draft {
        Some(d) => {
            let id: i64 = d.trim().parse().map_err(|_| ApiError::NotFound)?;
            let line = load_draft(&s, &clerk, &matter.code, id).await?;
            Entered::from_draft(&matter, &line.body, id)
        }
        None => Entered::blank(),
    };
    let saved = if saved { entered.draft_id } else { None };
    let page = FormPage {
        frame: frame(&s, &clerk, Some(Tab::Window)).await?,
        csrf: clerk.session.csrf(),
        matter: &matter,
        entered: &entered,
        problems: &Problems::default(),
        files_lost: false,
        saved,
    };
    Ok(page.render())
}

/// The page shown when the multipart body is over the limit.
async fn too_large(s: &AppState, clerk: &Clerk, code: &str) -> Result<Response, HtmlError> {
    let e = ApiError::InvalidField {
        field: "materials",
        reason_zh: "提交的文件合计过大：单个材料不超过10MB，全部材料合计不超过25MB",
        reason_en: "the files are too large together: at most 10 MB each and 25 MB in all",
    };
    let mut body = frame(s, clerk, Some(Tab::Window)).await?;
    body.push_str(&heading(1, "未能受理登记", "Not filed"));
    body.push_str(&error_box(&e));
    let _ = write!(
        body,
        "<p><a href=\"{}\">返回受理页面 <small class=\"en\" lang=\"en\">Back to the form</small></a></p>",
        html_escape(&window_href(code))
    );
    Ok((StatusCode::PAYLOAD_TOO_LARGE, page("未能受理登记", &body)).into_response())
}

async fn file_submit(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Response, HtmlError> {
    require_window_clerk(&clerk)?;
    let ApiPath(code) = path?;
    let posted = match read_multipart(mp).await {
        Ok(p) => p,
        Err(ApiError::PayloadTooLarge) => return too_large(&s, &clerk, &code).await,
        Err(e) => return Err(e.into()),
    };
    clerk.session.check_form_csrf(posted.text("csrf"))?;
    let matter = accepted_matter(&s, &clerk, &code).await?;
    let entered = Entered::from_fields(&matter, &|name| posted.text(name).to_owned());
    let mut problems = Problems::default();
    check_parties(&entered, &mut problems);
    let file = |i: usize| posted.file(&format!("file_{i}")).cloned();
    let (uploads, ecerts) = gather_materials(&matter, &entered, &file, &mut problems);
    let files_lost =
        (0..matter.materials.len()).any(|i| posted.file(&format!("file_{i}")).is_some());
    let status = if problems.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        let app = entered.application(&matter, uploads, ecerts);
        match window::file(&s.store, &s.numbering, &clerk.staff, app, s.now()).await {
            Ok(applied) => {
                let to = format!("/clerk/filed/{}", url_segment(&applied.case_number));
                return Ok(Redirect::to(&to).into_response());
            }
            Err(e) => {
                e.log();
                let status = e.status();
                place(&matter, e, &mut problems)?;
                status
            }
        }
    };
    let page = FormPage {
        frame: frame(&s, &clerk, Some(Tab::Window)).await?,
        csrf: clerk.session.csrf(),
        matter: &matter,
        entered: &entered,
        problems: &problems,
        files_lost,
        saved: None,
    };
    Ok((status, page.render()).into_response())
}

async fn draft_submit(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, HtmlError> {
    require_window_clerk(&clerk)?;
    let ApiPath(code) = path?;
    let pairs = form
        .map(|Form(p)| p)
        .map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    clerk.session.check_form_csrf(&get("csrf"))?;
    let matter = accepted_matter(&s, &clerk, &code).await?;
    let entered = Entered::from_fields(&matter, &get);
    let body = entered.to_draft(&matter);
    match window::save_draft(
        &s.store,
        &clerk.staff,
        entered.draft_id,
        &matter.code,
        body,
        s.now(),
    )
    .await
    {
        Ok(id) => {
            let to = format!("{}?draft={id}&saved=1", window_href(&matter.code));
            Ok(Redirect::to(&to).into_response())
        }
        Err(e @ ApiError::InvalidField { .. }) => {
            let status = e.status();
            let problems = Problems {
                banner: Some(e),
                ..Problems::default()
            };
            let page = FormPage {
                frame: frame(&s, &clerk, Some(Tab::Window)).await?,
                csrf: clerk.session.csrf(),
                matter: &matter,
                entered: &entered,
                problems: &problems,
                files_lost: false,
                saved: None,
            };
            Ok((status, page.render()).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// ----------------------------------------------------------------- filed

async fn filed_page(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    require_window_clerk(&clerk)?;
    let ApiPath(number) = path?;
    let principal = Principal::Staff(clerk.staff.clone());
    let view = workflow::view(&s.store, &principal, &number, s.now()).await?;
    let notices = notice::available(&s.store, &clerk.staff, &number).await?;
    let l = &view.line;
    let href = case_href(&l.case_number);
    let mut body = frame(&s, &clerk, Some(Tab::Window)).await?;
    body.push_str(&heading(1, "受理登记成功", "Filed"));
    let _ = write!(
        body,
        "<p class=\"ok\" role=\"status\" id=\"window-filed\">已登记办件，请到办件页面完成受理。\
         <small class=\"en\" lang=\"en\">The case is filed; accept it on the case page.</small></p>\
         <dl class=\"facts\"><dt>办件编号</dt><dd id=\"filed-case-number\">{num}</dd>\
         <dt>事项</dt><dd>{}</dd><dt>申请人</dt><dd>{}</dd><dt>状态</dt><dd>{}</dd>\
         <dt>承诺办结日期（预计）</dt><dd id=\"filed-deadline\">{}</dd></dl>\
         <ul class=\"notices\"><li><a id=\"filed-case-link\" href=\"{h}\">打开办件 {num}\
         <small class=\"en\" lang=\"en\">Open the case</small></a></li>",
        html_escape(&l.matter_name),
        html_escape(&view.applicant_name),
        html_escape(&l.status_zh),
        html_escape(l.deadline.as_deref().unwrap_or("—")),
        num = html_escape(&l.case_number),
        h = html_escape(&href),
    );
    let ready = notices.contains(&NoticeKind::Acceptance);
    let _ = write!(
        body,
        "<li><a id=\"filed-notice\" href=\"{}/notice/{}.pdf\">打印受理通知书（PDF）\
         <small class=\"en\" lang=\"en\">Print the acceptance notice</small></a>{}</li>\
         <li><a href=\"/clerk/window\">继续受理其他申请 <small class=\"en\" lang=\"en\">File another</small></a></li></ul>",
        html_escape(&href),
        NoticeKind::Acceptance.as_str(),
        if ready {
            ""
        } else {
            "<span class=\"muted\">（受理后可打印 <small class=\"en\" lang=\"en\">after acceptance</small>）</span>"
        },
    );
    Ok(page("受理登记成功", &body))
}

// ---------------------------------------------------------------- drafts

async fn drafts_page(State(s): State<AppState>, clerk: Clerk) -> Result<Html<String>, HtmlError> {
    require_window_clerk(&clerk)?;
    let drafts = window::drafts(&s.store, &clerk.staff).await?;
    let mut body = with_tabs(&bar(&clerk, &[], None), drafts.len(), Some(Tab::Drafts));
    body.push_str(&heading(1, "草稿箱", "Drafts"));
    body.push_str(&drafts_table(&drafts));
    Ok(page("草稿箱", &body))
}

fn drafts_table(drafts: &[DraftLine]) -> String {
    if drafts.is_empty() {
        return "<div id=\"drafts-list\"><p id=\"drafts-empty\">暂无草稿。\
                <small class=\"en\" lang=\"en\">No drafts.</small></p></div>"
            .to_owned();
    }
    let mut out = String::from(
        "<div class=\"scroll\" id=\"drafts-list\"><table><thead><tr><th>草稿编号</th><th>事项</th>\
         <th>申请人</th><th>保存时间</th><th>办理</th></tr></thead><tbody>",
    );
    for d in drafts {
        let href = format!("{}?draft={}", window_href(&d.matter_code), d.id);
        let _ = write!(
            out,
            "<tr data-draft=\"{id}\"><td>{id}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><a id=\"continue-{id}\" href=\"{}\">继续<small class=\"en\" lang=\"en\">Continue</small></a></td></tr>",
            html_escape(if d.matter_name.is_empty() {
                &d.matter_code
            } else {
                &d.matter_name
            }),
            html_escape(&d.applicant),
            html_escape(&d.updated),
            html_escape(&href),
            id = d.id,
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    /// 无犯罪记录证明 of the demo catalogue (a choice field `purpose`).
    fn matter() -> Matter {
        crate::service::seed::demo_matters()
            .unwrap()
            .into_iter()
            .find(|m| m.name == "无犯罪记录证明")
            .unwrap()
    }

    #[test]
    fn a_draft_comes_back_as_typed() {
        let m = matter();
        let mut e = Entered::blank();
        e.applicant_name = "张伟".to_owned();
        e.id_number = "410403198503150013".to_owned();
        e.agent_name = "李秀英".to_owned();
        e.agent_id_number = "410403196207080023".to_owned();
        e.form.insert("purpose".to_owned(), "入学".to_owned());
        e.form
            .insert("receiver".to_owned(), "平顶山学院".to_owned());
        e.ecerts.insert(0, "DZZZ-410403-0001".to_owned());
        let body = e.to_draft(&m);
        assert_eq!(body.pointer("/applicant/name"), Some(&json!("张伟")));
        assert_eq!(body.get("entity"), Some(&Value::Null));
        let back = Entered::from_draft(&m, &body, 7);
        assert_eq!(back.draft_id, Some(7));
        assert_eq!(
            Entered {
                draft_id: None,
                ..back
            },
            e
        );
    }

    #[test]
    fn parties_are_checked_each_next_to_its_field() {
        let mut e = Entered::blank();
        e.applicant_name = "张伟".to_owned();
        e.id_number = "410403198503150014".to_owned();
        e.agent_name = "李秀英".to_owned();
        e.phone = "abc".to_owned();
        let mut p = Problems::default();
        check_parties(&e, &mut p);
        assert!(p.get("applicant_id_number").is_some());
        assert!(p.get("applicant_phone").is_some());
        assert!(p.get("agent_id_number").is_some(), "an agent needs an ID");
        assert!(p.get("applicant_name").is_none());
        assert!(p.get("entity_uscc").is_none(), "no entity typed");
    }

    #[test]
    fn service_refusals_land_next_to_their_field() {
        let m = matter();
        let mut p = Problems::default();
        place(
            &m,
            ApiError::FormField {
                key: "purpose".to_owned(),
                zh: "请从选项中选择".to_owned(),
                en: "choose".to_owned(),
            },
            &mut p,
        )
        .unwrap();
        assert!(p.get("f_purpose").is_some());
        assert!(place(&m, ApiError::Forbidden, &mut p).is_err());
    }

    #[test]
    fn tabs_get_their_count_and_mark() {
        let bar_html = format!("<nav>{DRAFTS_TAB}{WINDOW_TAB}</nav>");
        let out = with_tabs(&bar_html, 2, Some(Tab::Drafts));
        assert!(
            out.contains("<a aria-current=\"page\" id=\"nav-drafts\""),
            "{out}"
        );
        assert!(out.contains("<span class=\"count\" id=\"drafts-count\">2</span></a>"));
        assert!(out.contains(WINDOW_TAB), "the other tab is unchanged");
    }

    #[test]
    fn form_inputs_escape_values() {
        let m = matter();
        let f = m.form.first().unwrap();
        let html = form_input(f, "入学", None);
        assert!(html.contains("name=\"f_purpose\" required"));
        assert!(html.contains("<option value=\"入学\" selected>"));
        let text = FormField {
            kind: FieldKind::Text,
            ..f.clone()
        };
        let html = form_input(&text, "\"><b>", Some(&("错".to_owned(), "bad".to_owned())));
        assert!(html.contains("value=\"&quot;&gt;&lt;b&gt;\""));
        assert!(html.contains("id=\"err-purpose\""));
    }
}
