//! Applying online from the portal: the matter's form, its materials (one
//! file input each, or an e-certificate number where the guide names one),
//! the agent's choice of legal entity, and a check box (核对) of what will be
//! handed in. One POST validates and files the application
//! ([`apply::apply_web`]); a valid one answers with a redirect to the case
//! page, which confirms it (case number, materials received, projected
//! deadline). An invalid one re-renders the form with the message next to
//! the field and the values kept (files cannot be kept by a browser: the
//! page says so).
//!
//! Also the multipart reader the correction form shares.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use proto::{Audience, FieldKind, FormField, Matter};

use super::extract::{AccountAuth, ApiPath, MaybeSession};
use super::html::{HtmlError, heading, html_escape, url_segment};
use super::portal::{
    Nav, audience_zh, days_zh, en, error_box, error_page, material_form_zh, portal_page,
    require_account,
};
use crate::AppState;
use crate::error::ApiError;
use crate::service::apply::{self, EcertRef, MAX_MATERIAL_BYTES, Upload, WebApplication};
use crate::service::auth::AccountPrincipal;
use crate::service::catalogue;
use crate::service::privacy::{mask_id, mask_name};

/// Largest body of an upload form (the apply and correction forms): 25 MiB.
/// Each material is still held to [`MAX_MATERIAL_BYTES`].
pub(super) const UPLOAD_BODY_LIMIT: usize = 25 * 1024 * 1024;
/// Most parts in one multipart form.
const MAX_PARTS: usize = 120;
/// Longest text part kept, in bytes (longer ones fail the field's check).
const MAX_TEXT_BYTES: usize = 64 * 1024;
/// File types the file inputs offer.
const ACCEPT: &str =
    "image/jpeg,image/png,image/tiff,application/pdf,.jpg,.jpeg,.png,.tif,.tiff,.pdf";

/// The apply routes.
pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/apply/{code}",
        get(apply_page)
            .post(apply_submit)
            .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
    )
}

// ---------------------------------------------------------------------------
// Multipart forms.

/// One file of a multipart form.
#[derive(Debug, Clone)]
pub(super) struct PostedFile {
    /// File name as the browser sent it.
    pub filename: String,
    /// The bytes (at most [`MAX_MATERIAL_BYTES`] + 1: a longer file is cut
    /// there, so the size check refuses it).
    pub bytes: Vec<u8>,
}

/// A multipart form as read: text fields and chosen files by field name.
#[derive(Debug, Clone, Default)]
pub(super) struct Posted {
    texts: HashMap<String, String>,
    files: HashMap<String, PostedFile>,
}

impl Posted {
    /// A text field's value ("" when absent).
    pub(super) fn text(&self, name: &str) -> &str {
        self.texts.get(name).map_or("", String::as_str)
    }

    /// A file field, when a file was chosen.
    pub(super) fn file(&self, name: &str) -> Option<&PostedFile> {
        self.files.get(name)
    }
}

fn multipart_error(status: StatusCode, detail: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::BadRequest(detail)
    }
}

/// Reads a whole multipart form. Empty file inputs (no file chosen) are
/// left out.
///
/// # Errors
/// `PAYLOAD_TOO_LARGE` past the body limit, `BAD_REQUEST` for a malformed
/// body or too many parts.
pub(super) async fn read_multipart(
    mp: Result<Multipart, MultipartRejection>,
) -> Result<Posted, ApiError> {
    let mut mp = mp.map_err(|r| multipart_error(r.status(), r.body_text()))?;
    let mut out = Posted::default();
    let mut parts = 0usize;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| multipart_error(e.status(), e.body_text()))?
    {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::BadRequest("too many form parts".to_owned()));
        }
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let cap = if filename.is_some() {
            MAX_MATERIAL_BYTES + 1
        } else {
            MAX_TEXT_BYTES
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| multipart_error(e.status(), e.body_text()))?
        {
            let room = cap.saturating_sub(bytes.len());
            bytes.extend(chunk.iter().take(room));
            if bytes.len() >= cap {
                break;
            }
        }
        match filename {
            Some(filename) => {
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                out.files
                    .entry(name)
                    .or_insert(PostedFile { filename, bytes });
            }
            None => {
                out.texts
                    .entry(name)
                    .or_insert_with(|| String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    Ok(out)
}

/// A file name fit to store: the last path component, no control
/// characters, at most 120 characters; `fallback` when nothing is left.
pub(super) fn clean_filename(raw: &str, fallback: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    let name = name.trim();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name.to_owned()
    }
}

/// A chosen file as the upload of material `name`, its type sniffed from
/// its bytes.
///
/// # Errors
/// `INVALID_FIELD` for an empty, oversized or unaccepted file.
pub(super) fn to_upload(name: &str, file: &PostedFile) -> Result<Upload, ApiError> {
    let media_type = apply::sniff(&file.bytes)?.to_owned();
    Ok(Upload {
        name: name.to_owned(),
        filename: clean_filename(&file.filename, "material"),
        media_type,
        bytes: file.bytes.clone(),
    })
}

/// Checks an e-certificate number the way the service will (4 to 64
/// characters, no control characters).
pub(super) fn check_ecert(value: &str) -> Result<(), (String, String)> {
    let n = value.chars().count();
    if !(4..=64).contains(&n) || value.chars().any(char::is_control) {
        return Err((
            "电子证照编号应为4至64个字符".to_owned(),
            "An e-certificate number has 4 to 64 characters".to_owned(),
        ));
    }
    Ok(())
}

/// A message next to a field, Chinese and English.
pub(super) fn field_error(id: &str, msg: Option<&(String, String)>) -> String {
    msg.map_or_else(String::new, |(zh, en_msg)| {
        format!(
            "<p class=\"field-error\" id=\"{}\" role=\"alert\">{}{}</p>",
            html_escape(id),
            html_escape(zh),
            en(en_msg)
        )
    })
}

/// The note shown when a form with file inputs comes back with an error.
pub(super) const FILES_LOST: &str = "<p class=\"notice\" id=\"files-lost\">为保护您的信息，已选择的文件不会保留，\
请重新选择文件。<small class=\"en\" lang=\"en\">Files cannot be kept between submissions: please choose them again.</small></p>";

// ---------------------------------------------------------------------------
// The apply page.

/// What the resident entered, to show again after an error.
#[derive(Debug, Clone, Default)]
struct Entered {
    /// Form values by field key.
    form: HashMap<String, String>,
    /// E-certificate numbers by material index.
    ecerts: HashMap<usize, String>,
    /// Chosen legal entity (USCC), "" for oneself.
    for_entity: String,
    /// Whether the pledge was ticked.
    pledge: bool,
}

/// What went wrong, to show next to the fields.
#[derive(Debug, Default)]
struct Problems {
    /// The error of the whole form.
    banner: Option<ApiError>,
    /// By field key.
    fields: HashMap<String, (String, String)>,
    /// By material index.
    files: HashMap<usize, (String, String)>,
    /// The pledge was not ticked.
    pledge: Option<(String, String)>,
    /// Whether files were chosen and are now lost.
    resubmitted: bool,
}

impl Problems {
    fn any(&self) -> bool {
        self.banner.is_some()
            || !self.fields.is_empty()
            || !self.files.is_empty()
            || self.pledge.is_some()
    }
}

/// The legal entities an account may apply for as their agent: (name, USCC).
async fn entities_of(
    s: &AppState,
    who: &AccountPrincipal,
) -> Result<Vec<(String, String)>, ApiError> {
    if who.kind != "person" {
        return Ok(Vec::new());
    }
    let id = who.id;
    let rows = s
        .store
        .read(move |tx| Ok::<_, ApiError>(tx.entities_of_agent(id)?))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.entity_name.unwrap_or_default(), r.uscc?)))
        .collect())
}

async fn apply_page(
    State(s): State<AppState>,
    session: MaybeSession,
    ApiPath(code): ApiPath<String>,
) -> Result<Response, HtmlError> {
    let here = format!("/apply/{}", url_segment(&code));
    let (session, who) = match require_account(session, &here) {
        Ok(v) => v,
        Err(resp) => return Ok(*resp),
    };
    let matter = catalogue::get(&s.store, &code).await?;
    let entities = entities_of(&s, &who).await?;
    let mut entered = Entered::default();
    if matter.audience == Audience::LegalEntity
        && let Some((_, uscc)) = entities.first()
    {
        entered.for_entity.clone_from(uscc);
    }
    let page = ApplyPage {
        nav: &Nav::session(&session),
        csrf: &session.csrf(),
        who: &who,
        matter: &matter,
        entities: &entities,
        entered: &entered,
        problems: &Problems::default(),
    };
    Ok(page.render().into_response())
}

async fn apply_submit(
    State(s): State<AppState>,
    who: Result<AccountAuth, ApiError>,
    ApiPath(code): ApiPath<String>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(e) => return HtmlError(e).into_response(),
    };
    let nav = Nav::session(&who.session);
    let back = format!("/apply/{}", url_segment(&code));
    let posted = match read_multipart(mp).await {
        Ok(p) => p,
        Err(ApiError::PayloadTooLarge) => {
            let e = ApiError::InvalidField {
                field: "materials",
                reason_zh: "提交的文件合计过大：单个材料不超过10MB，全部材料合计不超过25MB",
                reason_en: "the files are too large together: at most 10 MB each and 25 MB in all",
            };
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                error_page(&nav, &e, Some(&back)),
            )
                .into_response();
        }
        Err(e) => return error_page(&nav, &e, Some(&back)),
    };
    if let Err(e) = who.session.check_form_csrf(posted.text("csrf")) {
        return error_page(&nav, &e, Some(&back));
    }
    let matter = match catalogue::get(&s.store, &code).await {
        Ok(m) => m,
        Err(e) => return HtmlError(e).into_response(),
    };
    let entities = match entities_of(&s, &who.account).await {
        Ok(v) => v,
        Err(e) => return HtmlError(e).into_response(),
    };
    let (entered, uploads, ecerts, mut problems) = gather(&matter, &posted);
    let status = if problems.any() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        let app = WebApplication {
            matter_code: matter.code.clone(),
            form: entered
                .form
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
            uploads,
            ecerts,
            for_entity: Some(entered.for_entity.clone()).filter(|u| !u.is_empty()),
        };
        match apply::apply_web(&s.store, &s.numbering, &who.account, app, s.now()).await {
            Ok(applied) => {
                return Redirect::to(&format!(
                    "/my/cases/{}?notice=submitted",
                    url_segment(&applied.case_number)
                ))
                .into_response();
            }
            Err(e) => {
                e.log();
                let status = e.status();
                place(&matter, e, &mut problems);
                status
            }
        }
    };
    let page = ApplyPage {
        nav: &nav,
        csrf: &who.session.csrf(),
        who: &who.account,
        matter: &matter,
        entities: &entities,
        entered: &entered,
        problems: &problems,
    };
    (status, page.render()).into_response()
}

/// Reads the posted form against the matter: the values entered, the
/// uploads and e-certificates, and the problems found before filing.
fn gather(matter: &Matter, posted: &Posted) -> (Entered, Vec<Upload>, Vec<EcertRef>, Problems) {
    let mut entered = Entered::default();
    let mut problems = Problems::default();
    for f in &matter.form {
        let v = posted.text(&format!("f_{}", f.key));
        entered.form.insert(f.key.clone(), v.to_owned());
    }
    entered.for_entity = posted.text("for_entity").trim().to_owned();
    entered.pledge = posted.text("pledge") == "yes";
    if !entered.pledge {
        problems.pledge = Some((
            "请阅读并勾选承诺".to_owned(),
            "Please read and tick the pledge".to_owned(),
        ));
    }
    let mut uploads = Vec::new();
    let mut ecerts = Vec::new();
    for (i, mat) in matter.materials.iter().enumerate() {
        if let Some(file) = posted.file(&format!("file_{i}")) {
            problems.resubmitted = true;
            match to_upload(&mat.name, file) {
                Ok(u) => uploads.push(u),
                Err(e) => {
                    problems.files.insert(i, e.messages());
                }
            }
        }
        let cert = posted.text(&format!("ecert_{i}")).trim().to_owned();
        if !cert.is_empty() && mat.e_certificate.is_some() {
            if let Err(msg) = check_ecert(&cert) {
                problems.files.insert(i, msg);
            }
            ecerts.push(EcertRef {
                name: mat.name.clone(),
                certificate: cert.clone(),
            });
            entered.ecerts.insert(i, cert);
        }
    }
    (entered, uploads, ecerts, problems)
}

/// Puts an error of the service next to the field it is about, or at the
/// top of the form.
fn place(matter: &Matter, e: ApiError, problems: &mut Problems) {
    match &e {
        ApiError::FormField { key, zh, en } if matter.form.iter().any(|f| &f.key == key) => {
            problems
                .fields
                .insert(key.clone(), (zh.clone(), en.clone()));
            problems.banner = Some(ApiError::FormField {
                key: label_of(matter, key),
                zh: zh.clone(),
                en: en.clone(),
            });
        }
        ApiError::MaterialMissing { name } => {
            if let Some(i) = matter.materials.iter().position(|m| &m.name == name) {
                problems.files.insert(
                    i,
                    (
                        "缺少此材料，请选择文件上传".to_owned(),
                        "This material is missing: choose a file".to_owned(),
                    ),
                );
            }
            problems.banner = Some(e);
        }
        _ => problems.banner = Some(e),
    }
}

fn label_of(matter: &Matter, key: &str) -> String {
    matter
        .form
        .iter()
        .find(|f| f.key == key)
        .map_or_else(|| key.to_owned(), |f| format!("“{}”", f.label))
}

/// The apply page and what it shows.
struct ApplyPage<'a> {
    nav: &'a Nav,
    csrf: &'a str,
    who: &'a AccountPrincipal,
    matter: &'a Matter,
    entities: &'a [(String, String)],
    entered: &'a Entered,
    problems: &'a Problems,
}

impl ApplyPage<'_> {
    fn render(&self) -> axum::response::Html<String> {
        let m = self.matter;
        let mut body = format!(
            "<p><a href=\"/guides\">办事指南</a> › <a href=\"/matters/{}\">{}</a> › 在线申请</p>",
            html_escape(&url_segment(&m.code)),
            html_escape(&m.name)
        );
        body.push_str(&heading(
            1,
            &format!("在线申请：{}", m.name),
            "Apply online",
        ));
        if self.who.kind == "person" && self.who.real_name.is_none() {
            body.push_str(&error_box(&ApiError::RealNameRequired));
            let _ = write!(
                body,
                "<p><a class=\"btn\" id=\"go-real-name\" href=\"/account/real-name?next={}\">去实名认证</a></p>",
                html_escape(&url_segment(&format!("/apply/{}", m.code)))
            );
            return portal_page("在线申请", self.nav, &body);
        }
        body.push_str(&self.check_box());
        if let Some(e) = &self.problems.banner {
            body.push_str(&error_box(e));
        } else if self.problems.any() {
            body.push_str(
                "<div class=\"alert\" role=\"alert\" id=\"form-error\"><p>请修改下面标出的项目。\
                 <small class=\"en\" lang=\"en\">Please correct the items marked below.</small></p></div>",
            );
        }
        if self.problems.resubmitted || self.problems.any() {
            body.push_str(FILES_LOST);
        }
        let _ = write!(
            body,
            "<form class=\"stack\" id=\"apply-form\" method=\"post\" enctype=\"multipart/form-data\" action=\"/apply/{}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            html_escape(&url_segment(&m.code)),
            html_escape(self.csrf)
        );
        body.push_str(&self.applicant_fieldset());
        body.push_str(&self.form_fieldset());
        body.push_str(&self.materials_fieldset());
        let _ = write!(
            body,
            "<fieldset><legend>承诺 <small class=\"en\" lang=\"en\">Pledge</small></legend>\
             <p><input type=\"checkbox\" id=\"apply-pledge\" name=\"pledge\" value=\"yes\"{} required> \
             <label class=\"inline\" for=\"apply-pledge\">本人承诺所填信息和所交材料真实、有效，如有虚假愿承担相应法律责任。\
             <small class=\"en\" lang=\"en\">I declare the information and materials true.</small></label></p>{}</fieldset>\
             <p><button class=\"btn big\" type=\"submit\" id=\"apply-submit\">提交申请 <small lang=\"en\">Submit</small></button>\
             <a class=\"btn secondary\" href=\"/matters/{}\">返回办事指南</a></p></form>",
            if self.entered.pledge { " checked" } else { "" },
            field_error("err-pledge", self.problems.pledge.as_ref()),
            html_escape(&url_segment(&m.code)),
        );
        portal_page("在线申请", self.nav, &body)
    }

    /// The 核对 box: what the resident must have ready and how it goes on.
    fn check_box(&self) -> String {
        let m = self.matter;
        let mut out = String::from(
            "<section class=\"check\" id=\"apply-check\"><h2>提交前请核对<small class=\"en\" lang=\"en\">Check before you submit</small></h2><ul>",
        );
        let _ = write!(
            out,
            "<li>办理部门：{}；服务对象：{}；承诺时限：{}（自受理之日起计算）</li>",
            html_escape(&m.department),
            audience_zh(m.audience),
            html_escape(&days_zh(m.promised_days)),
        );
        let required: Vec<&str> = m
            .materials
            .iter()
            .filter(|x| x.required && x.electronic)
            .map(|x| x.name.as_str())
            .collect();
        if required.is_empty() {
            out.push_str("<li>本事项无必须上传的材料。</li>");
        } else {
            let _ = write!(
                out,
                "<li>必须上传的材料（{} 项）：{}</li>",
                required.len(),
                html_escape(&required.join("、"))
            );
        }
        let paper: Vec<&str> = m
            .materials
            .iter()
            .filter(|x| !x.electronic)
            .map(|x| x.name.as_str())
            .collect();
        if !paper.is_empty() {
            let _ = write!(
                out,
                "<li>以下材料只收纸质件，如需提供请到窗口递交：{}</li>",
                html_escape(&paper.join("、"))
            );
        }
        let required_fields = m.form.iter().filter(|f| f.required).count();
        let _ = write!(
            out,
            "<li>申请表共 {} 项，其中必填 {} 项（标 <span class=\"req\">*</span>）。</li>\
             <li>每个文件不超过10MB，支持 JPEG、PNG、TIFF 图片或 PDF。</li>\
             <li>提交后可在“我的办件”查看进度；材料不全时将一次性告知需补正的材料。</li></ul>\
             <p class=\"muted\" lang=\"en\">Have the required materials ready; each file at most 10 MB (JPEG, PNG, TIFF or PDF). \
             Follow the case under “My cases”.</p></section>",
            m.form.len(),
            required_fields
        );
        out
    }

    fn applicant_fieldset(&self) -> String {
        let who = self.who;
        let mut out = String::from(
            "<fieldset id=\"applicant\"><legend>申请人 <small class=\"en\" lang=\"en\">Applicant</small></legend>",
        );
        if who.kind == "entity" {
            let _ = write!(
                out,
                "<p>以法人身份申请：<strong>{}</strong>（统一社会信用代码 {}）</p>",
                html_escape(who.entity_name.as_deref().unwrap_or("")),
                html_escape(&mask_id(who.uscc.as_deref().unwrap_or("")))
            );
        } else {
            let me = format!(
                "本人：{}（{}）",
                mask_name(who.real_name.as_deref().unwrap_or("")),
                mask_id(who.id_number.as_deref().unwrap_or(""))
            );
            if self.entities.is_empty() {
                let _ = write!(out, "<p>{}</p>", html_escape(&me));
            } else {
                let _ = write!(
                    out,
                    "<label for=\"for-entity\">申请主体 <small class=\"en\" lang=\"en\">Apply for</small></label>\
                     <select id=\"for-entity\" name=\"for_entity\"><option value=\"\">{}</option>",
                    html_escape(&me)
                );
                for (name, uscc) in self.entities {
                    let sel = if &self.entered.for_entity == uscc {
                        " selected"
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "<option value=\"{}\"{sel}>代 {} 申请（代办人）</option>",
                        html_escape(uscc),
                        html_escape(name)
                    );
                }
                out.push_str(
                    "</select><p class=\"hint\">您是以下法人的代办人，可代其申请。\
                     <small class=\"en\" lang=\"en\">You are an agent of these entities.</small></p>",
                );
            }
        }
        out.push_str("</fieldset>");
        out
    }

    fn form_fieldset(&self) -> String {
        let mut out = String::from(
            "<fieldset id=\"form-fields\"><legend>申请表 <small class=\"en\" lang=\"en\">Application form</small></legend>",
        );
        if self.matter.form.is_empty() {
            out.push_str("<p>本事项无需填写申请表。</p>");
        }
        for f in &self.matter.form {
            let value = self.entered.form.get(&f.key).map_or("", String::as_str);
            out.push_str(&form_input(f, value, self.problems.fields.get(&f.key)));
        }
        out.push_str("</fieldset>");
        out
    }

    fn materials_fieldset(&self) -> String {
        let mut out = String::from(
            "<fieldset id=\"materials\"><legend>申请材料 <small class=\"en\" lang=\"en\">Materials</small></legend>\
             <p class=\"hint\">请上传清晰的扫描件、照片或 PDF，每个文件不超过10MB。</p>",
        );
        for (i, mat) in self.matter.materials.iter().enumerate() {
            let must = mat.required && mat.electronic;
            let _ = write!(
                out,
                "<div class=\"material\" id=\"material-{i}\"><p><strong>{}</strong> {}\
                 <span class=\"tag\">{}</span></p>",
                html_escape(&mat.name),
                if must {
                    "<span class=\"tag must\">必交</span>"
                } else if mat.required {
                    ""
                } else {
                    "<span class=\"tag\">按情形提供</span>"
                },
                material_form_zh(mat.form),
            );
            if !mat.note.is_empty() {
                let _ = write!(out, "<p class=\"hint\">{}</p>", html_escape(&mat.note));
            }
            if mat.electronic {
                let required = if must && mat.e_certificate.is_none() {
                    " required"
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<label for=\"file-{i}\">选择文件{}</label>\
                     <input type=\"file\" id=\"file-{i}\" name=\"file_{i}\" accept=\"{ACCEPT}\"{required}>",
                    en("Choose a file"),
                );
                if let Some(cert) = &mat.e_certificate {
                    let _ = write!(
                        out,
                        "<label for=\"ecert-{i}\">或填写电子证照编号（{}）{}</label>\
                         <input type=\"text\" id=\"ecert-{i}\" name=\"ecert_{i}\" value=\"{}\" maxlength=\"64\" autocomplete=\"off\">\
                         <p class=\"hint\">填写电子证照编号可免传该材料。</p>",
                        html_escape(cert),
                        en("or the e-certificate number"),
                        html_escape(self.entered.ecerts.get(&i).map_or("", String::as_str)),
                    );
                }
            } else {
                out.push_str(
                    "<p class=\"hint\">此材料须提交纸质件，受理时到窗口核验。<small class=\"en\" lang=\"en\">Paper only: bring it to the window.</small></p>",
                );
            }
            out.push_str(&field_error(
                &format!("err-file-{i}"),
                self.problems.files.get(&i),
            ));
            out.push_str("</div>");
        }
        out.push_str("</fieldset>");
        out
    }
}

/// One input of the application form, by its kind, with its value and
/// error.
fn form_input(f: &FormField, value: &str, error: Option<&(String, String)>) -> String {
    let id = format!("field-{}", f.key);
    let name = format!("f_{}", f.key);
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
    let mut out = format!(
        "<label for=\"{}\">{}{}{star}</label>",
        html_escape(&id),
        html_escape(&f.label),
        en(&f.label_en),
    );
    let attrs = format!(
        "id=\"{}\" name=\"{}\"{req}{invalid}",
        html_escape(&id),
        html_escape(&name)
    );
    let v = html_escape(value);
    let (input, hint) = match f.kind {
        FieldKind::Text => (
            format!("<input type=\"text\" {attrs} value=\"{v}\" maxlength=\"{maxlen}\">"),
            None,
        ),
        FieldKind::Textarea => (
            format!("<textarea {attrs} rows=\"4\" maxlength=\"{maxlen}\">{v}</textarea>"),
            None,
        ),
        FieldKind::Number => (
            format!(
                "<input type=\"number\" {attrs} value=\"{v}\" step=\"any\" inputmode=\"decimal\">"
            ),
            Some("请填写数字"),
        ),
        FieldKind::Date => (
            format!("<input type=\"date\" {attrs} value=\"{v}\" placeholder=\"2026-01-31\">"),
            Some("格式：年-月-日，如 2026-01-31"),
        ),
        FieldKind::Phone => (
            format!(
                "<input type=\"tel\" {attrs} value=\"{v}\" pattern=\"[0-9+\\-]{{7,20}}\" inputmode=\"tel\" maxlength=\"20\">"
            ),
            Some("手机或固定电话，如 13837512345 或 0375-1234567"),
        ),
        FieldKind::IdNumber => (
            format!(
                "<input type=\"text\" {attrs} value=\"{v}\" pattern=\"[0-9]{{17}}[0-9Xx]\" maxlength=\"18\" autocomplete=\"off\">"
            ),
            Some("18位居民身份证号码，末位可为X"),
        ),
        FieldKind::Uscc => (
            format!(
                "<input type=\"text\" {attrs} value=\"{v}\" pattern=\"[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{{18}}\" maxlength=\"18\" autocomplete=\"off\">"
            ),
            Some("18位统一社会信用代码"),
        ),
        FieldKind::Choice => {
            let mut s = format!("<select {attrs}><option value=\"\">请选择</option>");
            for c in &f.choices {
                let sel = if c == value { " selected" } else { "" };
                let _ = write!(
                    s,
                    "<option value=\"{}\"{sel}>{}</option>",
                    html_escape(c),
                    html_escape(c)
                );
            }
            s.push_str("</select>");
            (s, None)
        }
    };
    out.push_str(&input);
    if let Some(h) = hint {
        let _ = write!(out, "<p class=\"hint\">{}</p>", html_escape(h));
    }
    out.push_str(&field_error(&format!("err-{}", f.key), error));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        assert_eq!(
            clean_filename("C:\\Users\\zw\\户口本.png", "x"),
            "户口本.png"
        );
        assert_eq!(clean_filename("../../etc/passwd", "x"), "passwd");
        assert_eq!(clean_filename("a\u{0}b\n.pdf", "x"), "ab.pdf");
        assert_eq!(clean_filename("  ", "material"), "material");
        assert_eq!(clean_filename(&"长".repeat(300), "x").chars().count(), 120);
    }

    #[test]
    fn ecert_numbers_are_checked_like_the_service() {
        assert!(check_ecert("DZZZ-410403-0001").is_ok());
        assert!(check_ecert("abc").is_err());
        assert!(check_ecert(&"1".repeat(65)).is_err());
    }

    #[test]
    fn inputs_follow_the_field_kind_and_escape_values() {
        let f = FormField {
            key: "purpose".to_owned(),
            label: "用途".to_owned(),
            label_en: "Purpose".to_owned(),
            kind: FieldKind::Choice,
            required: true,
            max_len: None,
            choices: vec!["应聘".to_owned(), "出国".to_owned()],
        };
        let html = form_input(&f, "出国", None);
        assert!(html.contains("<select id=\"field-purpose\" name=\"f_purpose\" required>"));
        assert!(html.contains("<option value=\"出国\" selected>"));
        let id = FormField {
            kind: FieldKind::IdNumber,
            choices: Vec::new(),
            ..f
        };
        let html = form_input(
            &id,
            "\"><script>",
            Some(&("错".to_owned(), "wrong".to_owned())),
        );
        assert!(html.contains("pattern=\"[0-9]{17}[0-9Xx]\""));
        assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;\""));
        assert!(html.contains("aria-invalid=\"true\""));
        assert!(html.contains("id=\"err-purpose\""));
    }
}
