//! The public track page (办件进度查询), no login: a form for the case
//! number and the last six characters of the applicant's ID number, and
//! the link a receipt's QR code carries, `/track?case=N&code=C`, which
//! opens the timeline directly. Server-rendered, no JavaScript.
//!
//! A wrong answer reads exactly like an unknown case; a case number with
//! too many wrong answers is locked for an hour (see
//! [`crate::service::track`]). The ID ending is sent by POST so it never
//! appears in a URL.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use proto::{CaseProgress, CaseProgressQuery};
use serde::Deserialize;

use super::extract::{ApiQuery, MaybeSession};
use super::html::{HtmlError, heading, html_escape};
use super::portal::{Nav, PortalForm, cards_table, en, error_box, portal_page};
use crate::AppState;
use crate::error::ApiError;
use crate::service::track;

/// The track page's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/track", get(track_get).post(track_post))
}

/// `?case=…&code=…` from a receipt's QR (both optional).
#[derive(Debug, Default, Deserialize)]
struct TrackParams {
    #[serde(default)]
    case: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

/// The form: case number and the ID ending.
#[derive(Debug, Default, Deserialize)]
struct TrackForm {
    #[serde(default)]
    case: String,
    #[serde(default)]
    id_last6: String,
}

async fn track_get(
    State(s): State<AppState>,
    session: MaybeSession,
    params: Result<ApiQuery<TrackParams>, ApiError>,
) -> Result<Response, HtmlError> {
    let ApiQuery(p) = params?;
    let nav = Nav::of(&session);
    let case = p.case.unwrap_or_default();
    let Some(code) = p.code.filter(|c| !c.trim().is_empty()) else {
        return Ok(render(&nav, &case, None, None).into_response());
    };
    let q = CaseProgressQuery {
        case_number: case.clone(),
        id_last6: String::new(),
        track_code: Some(code),
    };
    Ok(answer(&s, &nav, &case, q).await)
}

async fn track_post(
    State(s): State<AppState>,
    session: MaybeSession,
    PortalForm(f): PortalForm<TrackForm>,
) -> Response {
    let nav = Nav::of(&session);
    let q = CaseProgressQuery {
        case_number: f.case.clone(),
        id_last6: f.id_last6,
        track_code: None,
    };
    answer(&s, &nav, &f.case, q).await
}

async fn answer(s: &AppState, nav: &Nav, case: &str, q: CaseProgressQuery) -> Response {
    match track::public_progress(&s.store, q, s.now()).await {
        Ok(p) => render(nav, case, Some(&p), None).into_response(),
        Err(e) => {
            e.log();
            let status = e.status();
            (status, render(nav, case, None, Some(&e))).into_response()
        }
    }
}

fn form(case: &str) -> String {
    format!(
        "<form class=\"stack\" id=\"track-form\" method=\"post\" action=\"/track\"><fieldset>\
         <legend>按办件编号查询 <small class=\"en\" lang=\"en\">By case number</small></legend>\
         <label for=\"track-case\">办件编号 <small class=\"en\" lang=\"en\">Case number</small></label>\
         <input type=\"text\" id=\"track-case\" name=\"case\" value=\"{}\" maxlength=\"40\" \
         autocomplete=\"off\" inputmode=\"numeric\" required>\
         <label for=\"track-last6\">申请人证件号码后六位 <small class=\"en\" lang=\"en\">Last six characters of the applicant's ID number</small></label>\
         <input type=\"text\" id=\"track-last6\" name=\"id_last6\" value=\"\" maxlength=\"6\" \
         autocomplete=\"off\" required>\
         <p class=\"hint\">办件编号印在受理回执上；扫描回执上的二维码可直接查看进度。\
         <small class=\"en\" lang=\"en\">The case number is on your receipt; scanning its QR code opens the progress directly.</small></p>\
         <button class=\"btn\" type=\"submit\" id=\"track-submit\">查询 <small lang=\"en\">Search</small></button>\
         </fieldset></form>",
        html_escape(case.trim())
    )
}

fn warning_words(code: &str) -> (&'static str, &'static str) {
    match code {
        "normal" => ("正常", "On time"),
        "yellow" => ("即将到期", "Due soon"),
        "red" => ("已超期", "Overdue"),
        "stopped" => ("暂停计时", "Clock stopped"),
        "done" => ("已办结", "Concluded"),
        _ => ("待受理", "Not yet accepted"),
    }
}

fn remaining_words(p: &CaseProgress) -> String {
    match (p.warning.as_str(), p.remaining_days) {
        ("done", _) => String::new(),
        ("stopped", _) => "补正或特别程序期间暂停计时".to_owned(),
        (_, Some(d)) if d >= 0 => format!("剩余 {d} 个工作日"),
        (_, Some(d)) => format!("已超期 {} 个工作日", d.unsigned_abs()),
        (_, None) => "受理后按承诺时限计算".to_owned(),
    }
}

fn progress_html(p: &CaseProgress) -> String {
    let c = &p.case;
    let (w_zh, w_en) = warning_words(&p.warning);
    let mut out = heading(2, &c.matter_name, "Case progress");
    let _ = write!(
        out,
        "<dl class=\"facts\" id=\"track-facts\"><dt>办件编号</dt><dd id=\"track-number\">{}</dd>\
         <dt>办理状态</dt><dd><strong id=\"track-status\">{}</strong>{}</dd>\
         <dt>办理部门</dt><dd>{}</dd><dt>提交时间</dt><dd>{}</dd>\
         <dt>承诺办结日期</dt><dd id=\"track-deadline\">{} <span class=\"warn warn-{}\" title=\"{}\">{}</span> {}</dd></dl>",
        html_escape(&c.case_number),
        html_escape(&c.status_zh),
        en(&c.status_en),
        html_escape(&c.department),
        html_escape(&crate::service::time::display_time(&c.submitted_at)),
        html_escape(c.deadline.as_deref().unwrap_or("—")),
        html_escape(&p.warning),
        html_escape(w_en),
        html_escape(w_zh),
        html_escape(&remaining_words(p)),
    );
    if !p.correction_items.is_empty() {
        let _ = write!(
            out,
            "<section class=\"alert\" id=\"track-correction\"><h3>请补正材料<small class=\"en\" lang=\"en\">Correction requested</small></h3>\
             <p>{}</p><ul>",
            html_escape(p.correction_note.as_deref().unwrap_or(""))
        );
        for item in &p.correction_items {
            let _ = write!(out, "<li>{}</li>", html_escape(item));
        }
        out.push_str(
            "</ul><p>可到自助终端“我要查”刷身份证补交材料，或登录网上办事大厅补正。\
             <small class=\"en\" lang=\"en\">Supply them at a kiosk with your ID card, or online after logging in.</small></p></section>",
        );
    }
    out.push_str(&heading(2, "办理过程", "Timeline"));
    let rows: Vec<Vec<String>> = p
        .steps
        .iter()
        .map(|s| {
            vec![
                html_escape(&s.at),
                html_escape(&s.step_name),
                html_escape(&s.status_zh),
                html_escape(&s.department),
                html_escape(&s.opinion),
            ]
        })
        .collect();
    out.push_str(&cards_table(
        "track-timeline",
        &["时间", "环节", "状态", "办理部门", "意见"],
        &rows,
    ));
    out
}

fn render(
    nav: &Nav,
    case: &str,
    progress: Option<&CaseProgress>,
    error: Option<&ApiError>,
) -> axum::response::Html<String> {
    let mut body = heading(1, "办件进度查询", "Track a case");
    if let Some(e) = error {
        body.push_str(&error_box(e));
        if matches!(e, ApiError::NotFound) {
            body.push_str(
                "<p class=\"hint\">请核对办件编号和证件号码后六位。\
                 <small class=\"en\" lang=\"en\">Check the case number and the ID ending.</small></p>",
            );
        }
    }
    match progress {
        Some(p) => {
            body.push_str(&progress_html(p));
            body.push_str(
                "<p><a class=\"btn secondary\" href=\"/track\">查询其他办件 <small lang=\"en\">Another case</small></a></p>",
            );
        }
        None => body.push_str(&form(case)),
    }
    portal_page("办件进度查询", nav, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_what_was_typed() {
        let f = form("\"><script>");
        assert!(!f.contains("<script>"));
        assert!(f.contains("&quot;&gt;&lt;script&gt;"));
    }
}
