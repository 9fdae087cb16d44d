//! Kiosk alerts on the workbench: the open alerts panel (every kind on the
//! fleet page for maintenance staff; calls for staff on a window clerk's
//! inbox), the acknowledge button, and one kiosk's history (alerts with
//! maintenance entries, device state changes).

use std::fmt::Write as _;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::clerk::{Clerk, bar};
use super::extract::ApiPath;
use super::html::{HtmlError, heading, html_escape, page, url_segment};
use crate::AppState;
use crate::error::ApiError;
use crate::service::alerts::{self, FLEET_ROLES};
use crate::service::time::display_time;
use crate::store::AlertRow;

/// The alert routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clerk/alerts/{id}/ack", post(acknowledge))
        .route("/clerk/kiosks/{kiosk_id}", get(history_page))
}

/// Where the acknowledge form returns to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Back {
    /// The fleet page.
    Fleet,
    /// The window clerk's inbox.
    Inbox,
}

impl Back {
    const fn code(self) -> &'static str {
        match self {
            Self::Fleet => "fleet",
            Self::Inbox => "inbox",
        }
    }

    const fn href(self) -> &'static str {
        match self {
            Self::Fleet => "/clerk/kiosks",
            Self::Inbox => "/clerk/inbox/todo",
        }
    }
}

/// The open alerts with an acknowledge button each, newest first; an
/// empty string when there are none and `hide_empty`.
pub(super) fn panel(
    alerts: &[AlertRow],
    csrf: &str,
    back: Back,
    now: DateTime<Utc>,
    hide_empty: bool,
) -> String {
    if alerts.is_empty() && hide_empty {
        return String::new();
    }
    let mut out = String::from("<section id=\"kiosk-alerts\">");
    out.push_str(&heading(2, "终端提醒", "Kiosk alerts"));
    if alerts.is_empty() {
        out.push_str(
            "<p class=\"muted\">暂无待处理的提醒。<small class=\"en\" lang=\"en\">No open alert.</small></p></section>",
        );
        return out;
    }
    out.push_str(
        "<div class=\"scroll\"><table><thead><tr><th>时间</th><th>终端</th><th>类型</th><th>页面</th>\
         <th>说明</th><th>处理</th></tr></thead><tbody>",
    );
    for a in alerts {
        let (zh, en) = alerts::kind_names(&a.kind);
        let _ = write!(
            out,
            "<tr class=\"alert-{kind}\"><td>{age}<br><span class=\"muted\">{at}</span></td>\
             <td>{name}<br><span class=\"muted\">{location}</span></td>\
             <td><strong>{zh}</strong><small class=\"en\" lang=\"en\">{en}</small></td>\
             <td>{screen}</td><td>{detail}</td>\
             <td><form method=\"post\" action=\"/clerk/alerts/{id}/ack\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"back\" value=\"{back}\">\
             <button type=\"submit\" id=\"ack-{id}\">已处理 <small lang=\"en\">Done</small></button></form></td></tr>",
            kind = html_escape(&a.kind),
            age = html_escape(&alerts::age_zh(&a.at, now)),
            at = html_escape(&display_time(&a.at)),
            name = html_escape(&a.kiosk_name),
            location = html_escape(&a.location),
            screen = html_escape(&a.screen),
            detail = html_escape(&a.detail),
            id = a.id,
            csrf = html_escape(csrf),
            back = back.code(),
        );
    }
    out.push_str("</tbody></table></div></section>");
    out
}

#[derive(Debug, Deserialize)]
struct AckForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

async fn acknowledge(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<i64>, ApiError>,
    form: Result<Form<AckForm>, FormRejection>,
) -> Result<Response, HtmlError> {
    let ApiPath(id) = path?;
    let f = form
        .map(|Form(f)| f)
        .map_err(|r| ApiError::BadRequest(r.body_text()))?;
    clerk.session.check_form_csrf(&f.csrf)?;
    alerts::acknowledge(&s.store, &clerk.staff, id, s.now()).await?;
    let back = if f.back == Back::Inbox.code() {
        Back::Inbox
    } else {
        Back::Fleet
    };
    Ok(Redirect::to(back.href()).into_response())
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

async fn history_page(
    State(s): State<AppState>,
    clerk: Clerk,
    path: Result<ApiPath<String>, ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiPath(kiosk_id) = path?;
    if !clerk.staff.roles.iter().any(|r| FLEET_ROLES.contains(r)) {
        return Err(ApiError::Forbidden.into());
    }
    let h = alerts::history(&s.store, &kiosk_id).await?;
    let now = s.now();
    let mut body = bar(&clerk, &[], None);
    let _ = write!(
        body,
        "<p><a href=\"/clerk/kiosks\">终端设备状态</a> › {}</p>",
        html_escape(&h.name)
    );
    body.push_str(&heading(
        1,
        &format!("终端记录：{}", h.name),
        "Kiosk history",
    ));
    let _ = write!(
        body,
        "<p>{} <span class=\"muted\">{}</span></p>",
        html_escape(&h.location),
        html_escape(&kiosk_id)
    );
    body.push_str(&heading(
        2,
        "提醒与维护记录",
        "Alerts and maintenance entries",
    ));
    if h.alerts.is_empty() {
        body.push_str(
            "<p class=\"muted\">无记录。<small class=\"en\" lang=\"en\">None.</small></p>",
        );
    } else {
        body.push_str(
            "<div class=\"scroll\"><table id=\"alert-history\"><thead><tr><th>时间</th><th>类型</th><th>页面</th>\
             <th>说明</th><th>处理人</th><th>处理时间</th></tr></thead><tbody>",
        );
        for a in &h.alerts {
            let (zh, en) = alerts::kind_names(&a.kind);
            let _ = write!(
                body,
                "<tr><td>{}<br><span class=\"muted\">{}</span></td><td>{}<small class=\"en\" lang=\"en\">{}</small></td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&display_time(&a.at)),
                html_escape(&alerts::age_zh(&a.at, now)),
                html_escape(zh),
                html_escape(en),
                html_escape(&a.screen),
                html_escape(&a.detail),
                html_escape(a.acknowledged_by.as_deref().unwrap_or("待处理")),
                html_escape(
                    &a.acknowledged_at
                        .as_deref()
                        .map(display_time)
                        .unwrap_or_default()
                ),
            );
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str(&heading(2, "设备状态变化", "Device state changes"));
    if h.devices.is_empty() {
        body.push_str(
            "<p class=\"muted\">无记录。<small class=\"en\" lang=\"en\">None.</small></p>",
        );
    } else {
        body.push_str(
            "<div class=\"scroll\"><table id=\"device-history\"><thead><tr><th>时间</th><th>设备</th><th>变化</th>\
             <th>故障码</th><th>说明</th></tr></thead><tbody>",
        );
        for d in &h.devices {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&display_time(&d.received_at)),
                html_escape(&d.device),
                html_escape(d.state_from.as_deref().map_or("—", state_zh)),
                html_escape(state_zh(&d.state_to)),
                html_escape(d.fault_code.as_deref().unwrap_or("")),
                html_escape(&d.text_zh),
            );
        }
        body.push_str("</tbody></table></div>");
    }
    Ok(page("终端记录", &body))
}

/// The link to a kiosk's history page.
pub(super) fn history_href(kiosk_id: &str) -> String {
    format!("/clerk/kiosks/{}", url_segment(kiosk_id))
}
