//! The clerk's pages: the case list and one case's timeline. Personal data
//! arrive already masked from the service.
//!
//! Not yet behind a login: the clerk login (MLPS S1–S3) is still to come,
//! so these pages show masked data only.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use super::extract::ApiPath;
use super::html::{HtmlError, heading, html_escape, page, url_segment};
use crate::AppState;
use crate::service::cases::{self, ClerkCase, ClerkStep};

/// Most cases on the list page.
const LIST_LIMIT: u32 = 200;

/// The clerk's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/clerk", get(index))
        .route("/clerk/cases/{case_number}", get(case_page))
        .route("/clerk/kiosks", get(kiosks_page))
}

async fn index(State(s): State<AppState>) -> Result<Html<String>, HtmlError> {
    let list = cases::clerk_list(&s.store, LIST_LIMIT).await?;
    Ok(render_list(&list))
}

async fn case_page(
    State(s): State<AppState>,
    ApiPath(number): ApiPath<String>,
) -> Result<Html<String>, HtmlError> {
    let (case, steps) = cases::clerk_detail(&s.store, &number).await?;
    Ok(render_case(&case, &steps))
}

async fn kiosks_page(State(s): State<AppState>) -> Result<Html<String>, HtmlError> {
    let rows = crate::service::kiosks::fleet(&s.store).await?;
    Ok(render_fleet(&rows))
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

fn render_fleet(rows: &[crate::store::FleetDeviceRow]) -> Html<String> {
    let mut body = heading(1, "终端设备状态", "Kiosk fleet");
    if rows.is_empty() {
        body.push_str(
            "<p>暂无已注册终端。<small class=\"en\" lang=\"en\">No kiosk enrolled.</small></p>",
        );
        return page("终端设备状态", &body);
    }
    body.push_str(
        "<table><thead><tr><th>终端</th><th>位置</th><th>最近心跳</th><th>版本</th><th>设备</th>\
         <th>类型</th><th>状态</th><th>故障码</th><th>说明</th><th>计数</th></tr></thead><tbody>",
    );
    for r in rows {
        let _ = write!(
            body,
            "<tr><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"state-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
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
    body.push_str("</tbody></table>");
    page("终端设备状态", &body)
}

fn channel_zh(c: &str) -> &str {
    match c {
        "kiosk" => "自助终端",
        "window" => "窗口",
        "web" => "网上",
        other => other,
    }
}

fn render_list(list: &[ClerkCase]) -> Html<String> {
    let mut body = heading(1, "办件列表", "Cases");
    body.push_str("<p><a href=\"/clerk/kiosks\">终端设备状态 <small class=\"en\" lang=\"en\">Kiosk fleet</small></a></p>");
    let _ = write!(
        body,
        "<p>最近 {} 件，按提交时间倒序。申请人信息已脱敏。\
         <small class=\"en\" lang=\"en\">Newest first; personal data masked.</small></p>",
        list.len()
    );
    if list.is_empty() {
        body.push_str("<p>暂无办件。</p>");
        return page("办件列表", &body);
    }
    body.push_str(
        "<table><thead><tr><th>办件编号</th><th>事项</th><th>申请人</th><th>证件号码</th>\
         <th>状态</th><th>提交时间</th><th>办理期限</th><th>渠道</th></tr></thead><tbody>",
    );
    for c in list {
        let _ = write!(
            body,
            "<tr><td><a href=\"/clerk/cases/{}\">{}</a></td><td>{}<br><span class=\"muted\">{}</span></td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&url_segment(&c.case_number)),
            html_escape(&c.case_number),
            html_escape(&c.matter_name),
            html_escape(&c.department),
            html_escape(&c.applicant_masked),
            html_escape(&c.id_masked),
            html_escape(c.status.zh()),
            html_escape(&c.submitted),
            html_escape(c.deadline.as_deref().unwrap_or("—")),
            html_escape(channel_zh(&c.channel)),
        );
    }
    body.push_str("</tbody></table>");
    page("办件列表", &body)
}

fn render_case(c: &ClerkCase, steps: &[ClerkStep]) -> Html<String> {
    let mut body = format!(
        "<p><a href=\"/clerk\">办件列表</a> › {}</p>",
        html_escape(&c.case_number)
    );
    body.push_str(&heading(1, &format!("办件 {}", c.case_number), "Case"));
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>事项</dt><dd>{}</dd><dt>承办部门</dt><dd>{}</dd>\
         <dt>申请人</dt><dd>{}</dd><dt>证件号码</dt><dd>{}</dd><dt>状态</dt><dd>{}</dd>\
         <dt>提交时间</dt><dd>{}</dd><dt>办理期限</dt><dd>{}</dd><dt>渠道</dt><dd>{}</dd></dl>",
        html_escape(&c.matter_name),
        html_escape(&c.department),
        html_escape(&c.applicant_masked),
        html_escape(&c.id_masked),
        html_escape(c.status.zh()),
        html_escape(&c.submitted),
        html_escape(c.deadline.as_deref().unwrap_or("—")),
        html_escape(channel_zh(&c.channel)),
    );
    body.push_str(&heading(2, "办理过程", "Timeline"));
    body.push_str(
        "<table><thead><tr><th>时间</th><th>环节</th><th>状态</th><th>办理人</th>\
         <th>意见</th></tr></thead><tbody>",
    );
    for s in steps {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&s.at),
            html_escape(&s.step_name),
            html_escape(s.status.zh()),
            html_escape(&s.handler),
            html_escape(&s.opinion),
        );
    }
    body.push_str("</tbody></table>");
    page(&format!("办件 {}", c.case_number), &body)
}
