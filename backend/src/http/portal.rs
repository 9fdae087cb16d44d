//! The public portal: the matter catalogue with search, and each matter's
//! full service guide. Same services as the JSON API.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use proto::{Audience, CaseType, Matter, MatterList, MatterQuery, ServiceLevel};

use super::extract::{ApiPath, ApiQuery};
use super::html::{HtmlError, heading, html_escape, page, url_segment};
use crate::AppState;
use crate::service::catalogue;

/// The portal's routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/matters/{code}", get(matter_page))
}

async fn index(
    State(s): State<AppState>,
    query: Result<ApiQuery<MatterQuery>, crate::error::ApiError>,
) -> Result<Html<String>, HtmlError> {
    let ApiQuery(q) = query?;
    let list = catalogue::list(&s.store, q.q.as_deref(), Some(catalogue::MAX_LIMIT), None).await?;
    Ok(render_index(q.q.as_deref().unwrap_or("").trim(), &list))
}

async fn matter_page(
    State(s): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Html<String>, HtmlError> {
    let matter = catalogue::get(&s.store, &code).await?;
    Ok(render_matter(&matter))
}

fn audience_zh(a: Audience) -> &'static str {
    match a {
        Audience::Person => "个人",
        Audience::LegalEntity => "法人",
    }
}

fn level_zh(l: ServiceLevel) -> &'static str {
    match l {
        ServiceLevel::District => "区级",
        ServiceLevel::Street => "街道级",
    }
}

fn case_type_zh(t: CaseType) -> &'static str {
    match t {
        CaseType::Immediate => "即办件",
        CaseType::Promised => "承诺件",
    }
}

fn days_zh(days: u32) -> String {
    if days == 0 {
        "即办".to_owned()
    } else {
        format!("{days}个工作日")
    }
}

fn render_index(q: &str, list: &MatterList) -> Html<String> {
    let mut body = heading(1, "办事指南", "Service guides");
    let _ = write!(
        body,
        "<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">\
         <label for=\"q\">搜索事项 <small class=\"en\" lang=\"en\">Search</small></label> \
         <input type=\"search\" id=\"q\" name=\"q\" value=\"{}\" placeholder=\"如：低保、户口、身份证\" maxlength=\"50\"> \
         <button type=\"submit\">搜索</button></form>",
        html_escape(q)
    );
    if q.is_empty() {
        let _ = write!(body, "<p>共 {} 项事项。</p>", list.total);
    } else if list.total == 0 {
        let _ = write!(
            body,
            "<p>未找到与“{}”相关的事项。<a href=\"/\">查看全部事项</a></p>",
            html_escape(q)
        );
    } else {
        let _ = write!(
            body,
            "<p>与“{}”相关的事项共 {} 项。<a href=\"/\">查看全部事项</a></p>",
            html_escape(q),
            list.total
        );
    }
    if list.items.is_empty() {
        return page("办事指南", &body);
    }
    body.push_str(
        "<table><thead><tr><th>事项名称</th><th>实施部门</th><th>服务对象</th>\
         <th>承诺时限</th><th>收费</th><th>自助终端</th></tr></thead><tbody>",
    );
    for m in &list.items {
        let _ = write!(
            body,
            "<tr><td><a href=\"/matters/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            html_escape(&url_segment(&m.code)),
            html_escape(&m.name),
            html_escape(&m.department),
            audience_zh(m.audience),
            html_escape(&days_zh(m.promised_days)),
            if m.fee { "收费" } else { "不收费" },
            if m.kiosk_available { "可办" } else { "—" },
        );
    }
    body.push_str("</tbody></table>");
    page("办事指南", &body)
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

fn render_matter(m: &Matter) -> Html<String> {
    let mut body = format!(
        "<p><a href=\"/\">办事指南</a> › {}</p><h1>{}</h1>\
         <p><span class=\"tag\">{}</span> <span class=\"tag\">{}</span> \
         <span class=\"tag\">{}</span> <span class=\"tag\">{}</span></p>",
        html_escape(&m.name),
        html_escape(&m.name),
        html_escape(&m.matter_type),
        audience_zh(m.audience),
        level_zh(m.service_level),
        case_type_zh(m.case_type),
    );

    body.push_str(&heading(2, "申请材料", "Materials"));
    body.push_str(
        "<table><thead><tr><th>序号</th><th>材料名称</th><th>材料形式</th><th>份数</th>\
         <th>是否必需</th><th>说明</th></tr></thead><tbody>",
    );
    for (i, mat) in m.materials.iter().enumerate() {
        let form = match mat.form {
            proto::MaterialForm::Original => "原件",
            proto::MaterialForm::Copy => "复印件",
            proto::MaterialForm::OriginalAndCopy => "原件及复印件",
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            html_escape(&mat.name),
            form,
            mat.copies,
            if mat.required {
                "必需"
            } else {
                "按情形提供"
            },
            html_escape(&mat.note),
        );
    }
    body.push_str("</tbody></table>");

    body.push_str(&heading(2, "受理条件", "Conditions"));
    body.push_str(&list_items(&m.conditions, false));

    body.push_str(&heading(2, "办理流程", "Process"));
    body.push_str(&list_items(&m.process, true));

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

    body.push_str(&heading(2, "基本信息", "Basic information"));
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>事项编码</dt><dd>{}</dd><dt>事项类型</dt><dd>{}</dd>\
         <dt>实施主体</dt><dd>{}</dd><dt>承办机构</dt><dd>{}</dd><dt>主题分类</dt><dd>{}</dd>\
         <dt>设定依据</dt><dd>{}</dd><dt>网办深度</dt><dd>{}</dd><dt>自助终端办理</dt><dd>{}</dd>\
         <dt>办理结果</dt><dd>{}</dd><dt>指南版本</dt><dd>第 {} 版</dd></dl>",
        html_escape(&m.code),
        html_escape(&m.matter_type),
        html_escape(&m.implementing_body),
        html_escape(&m.department),
        html_escape(&m.theme),
        html_escape(&m.legal_basis),
        html_escape(&m.online_depth),
        if m.kiosk_available {
            "支持"
        } else {
            "不支持，请到窗口办理"
        },
        html_escape(&m.result_name),
        m.version,
    );
    page(&m.name, &body)
}
