//! `/admin/bulletins` (终端公告): the notices the kiosks show on their idle
//! screen, newest first with their state, a form to publish one and a
//! button to withdraw each. System admins only.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::admin::{DoneQuery, Note, Section, csrf_input, done_note, frame, guard, is_fatal};
use super::clerk::Clerk;
use super::extract::{ApiPath, ApiQuery};
use super::html::{HtmlError, html_escape};
use crate::AppState;
use crate::error::ApiError;
use crate::service::bulletin::{self, BulletinDraft, MAX_BODY_CHARS, MAX_TITLE_CHARS};
use crate::service::time::display_time;

/// The notice routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/bulletins", get(list_page).post(publish))
        .route("/admin/bulletins/{id}/withdraw", post(withdraw))
}

#[derive(Debug, Default, Deserialize)]
struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    until: String,
}

#[derive(Debug, Default, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn list_page(
    State(s): State<AppState>,
    clerk: Clerk,
    query: Result<ApiQuery<DoneQuery>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    guard(&clerk, Section::Bulletins)?;
    render(&s, &clerk, &done_note(query), &PublishForm::default()).await
}

async fn render(
    s: &AppState,
    clerk: &Clerk,
    note: &Note,
    typed: &PublishForm,
) -> Result<Html<String>, HtmlError> {
    let now = s.now();
    let rows = bulletin::all(&s.store).await?;
    let mut out = note.html();
    let _ = write!(
        out,
        "<form class=\"act\" id=\"bulletin-form\" method=\"post\" action=\"/admin/bulletins\">{}\
         <h2>发布公告<small class=\"en\" lang=\"en\">Publish a notice</small></h2>\
         <label for=\"b-title\">标题 <small class=\"en\" lang=\"en\">Title</small></label>\
         <input type=\"text\" id=\"b-title\" name=\"title\" maxlength=\"{MAX_TITLE_CHARS}\" required value=\"{}\">\
         <label for=\"b-body\">内容 <small class=\"en\" lang=\"en\">Text</small></label>\
         <textarea id=\"b-body\" name=\"body\" maxlength=\"{MAX_BODY_CHARS}\" required>{}</textarea>\
         <label for=\"b-until\">显示至（含当日，可不填） <small class=\"en\" lang=\"en\">Shown through (optional)</small></label>\
         <input type=\"date\" id=\"b-until\" name=\"until\" value=\"{}\">\
         <p><button type=\"submit\" id=\"bulletin-publish\">发布 <small lang=\"en\">Publish</small></button></p></form>",
        csrf_input(clerk),
        html_escape(&typed.title),
        html_escape(&typed.body),
        html_escape(&typed.until),
    );
    out.push_str(
        "<h2>全部公告<small class=\"en\" lang=\"en\">All notices</small></h2>\
         <div class=\"scroll\"><table id=\"bulletins\"><thead><tr><th>标题</th><th>内容</th><th>发布时间</th>\
         <th>显示至</th><th>状态</th><th>操作</th></tr></thead><tbody>",
    );
    for b in &rows {
        let (state, action) = if b.withdrawn_at.is_some() {
            ("已撤回", String::new())
        } else {
            let state = if bulletin::in_force(b, now) {
                "显示中"
            } else {
                "已过期"
            };
            let form = format!(
                "<form class=\"inline\" method=\"post\" action=\"/admin/bulletins/{}/withdraw\">{}\
                 <button type=\"submit\" class=\"danger\" id=\"withdraw-{}\">撤回 <small lang=\"en\">Withdraw</small></button></form>",
                b.id,
                csrf_input(clerk),
                b.id
            );
            (state, form)
        };
        let _ = write!(
            out,
            "<tr id=\"bulletin-{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            b.id,
            html_escape(&b.title),
            html_escape(&b.body),
            html_escape(&display_time(&b.published_at)),
            html_escape(b.until.as_deref().unwrap_or("—")),
            state,
            action,
        );
    }
    out.push_str("</tbody></table></div>");
    Ok(frame(
        clerk,
        Some(Section::Bulletins),
        ("终端公告", "Kiosk notices"),
        &out,
    ))
}

async fn publish(
    State(s): State<AppState>,
    clerk: Clerk,
    form: Result<Form<PublishForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    guard(&clerk, Section::Bulletins)?;
    let f = form
        .map(|Form(f)| f)
        .map_err(|r| ApiError::BadRequest(r.body_text()))?;
    clerk.session.check_form_csrf(&f.csrf)?;
    let draft = BulletinDraft {
        title: f.title.clone(),
        body: f.body.clone(),
        until: f.until.clone(),
    };
    match bulletin::publish(&s.store, &clerk.staff, draft, s.now()).await {
        Ok(_) => Ok(Redirect::to("/admin/bulletins?done=bulletin_published").into_response()),
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            let html = render(&s, &clerk, &Note::error(&e), &f).await?;
            Ok((e.status(), html).into_response())
        }
    }
}

async fn withdraw(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<i64>, ApiError>,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Result<Response, HtmlError> {
    guard(&clerk, Section::Bulletins)?;
    let ApiPath(id) = path?;
    let f = form
        .map(|Form(f)| f)
        .map_err(|r| ApiError::BadRequest(r.body_text()))?;
    clerk.session.check_form_csrf(&f.csrf)?;
    bulletin::withdraw(&s.store, &clerk.staff, id, s.now()).await?;
    Ok(Redirect::to("/admin/bulletins?done=bulletin_withdrawn").into_response())
}
