//! Server-rendered HTML: escaping, the page frame, and HTML error pages.
//! Every interpolated value goes through [`html_escape`].

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::error::ApiError;

/// Escapes text for HTML element content and quoted attribute values.
#[must_use]
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters stay).
#[must_use]
pub fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const CSS: &str = "\
body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\",\"Microsoft YaHei\",sans-serif;\
margin:0;color:#1f2328;background:#f6f7f9;line-height:1.6}\
header{background:#b3261e;color:#fff;padding:.8rem 1.5rem}\
header a{color:#fff;text-decoration:none;margin-right:1.2rem}\
header .brand{font-weight:bold;font-size:1.15rem}\
main{max-width:72rem;margin:1.5rem auto;padding:0 1.5rem}\
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin:1.6rem 0 .6rem}\
small.en{color:#667;font-weight:normal;font-size:.75em;margin-left:.5em}\
table{border-collapse:collapse;width:100%;background:#fff}\
th,td{border:1px solid #d0d7de;padding:.45rem .6rem;text-align:left;vertical-align:top}\
th{background:#eef1f4}\
form.search input[type=search]{font-size:1rem;padding:.4rem;width:20rem;max-width:70%}\
form.search button{font-size:1rem;padding:.4rem 1rem}\
dl.facts{display:grid;grid-template-columns:10rem 1fr;gap:.3rem 1rem;background:#fff;padding:1rem;\
border:1px solid #d0d7de}\
dl.facts dt{color:#555}dl.facts dd{margin:0}\
.tag{display:inline-block;padding:0 .4rem;border-radius:.2rem;background:#e7f0ff;color:#0b4a9e;\
font-size:.85em}\
.muted{color:#667}\
footer{max-width:72rem;margin:2rem auto;padding:0 1.5rem;color:#667;font-size:.85rem}";

/// A heading in Chinese with its English in small text; both escaped.
#[must_use]
pub fn heading(level: u8, zh: &str, en: &str) -> String {
    let level = level.clamp(1, 6);
    format!(
        "<h{level}>{}<small class=\"en\" lang=\"en\">{}</small></h{level}>",
        html_escape(zh),
        html_escape(en)
    )
}

/// A complete page. `body` must already be escaped HTML.
pub fn page(title_zh: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<title>{title} - 卫东区政务服务</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
<header><a class=\"brand\" href=\"/\">平顶山市卫东区政务服务网</a>\
<a href=\"/\">办事指南</a><a href=\"/clerk\">窗口办件</a></header>\n\
<main>\n{body}\n</main>\n\
<footer>卫东区政务服务中心 · 政务服务便民热线 12345\
<small class=\"en\" lang=\"en\">Weidong District Government Service Centre</small></footer>\n\
</body>\n</html>\n",
        title = html_escape(title_zh),
    ))
}

/// An [`ApiError`] shown as an HTML page.
#[derive(Debug)]
pub struct HtmlError(pub ApiError);

impl From<ApiError> for HtmlError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for HtmlError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.0.status();
        let (zh, en) = self.0.messages();
        let title = if status == StatusCode::NOT_FOUND {
            "页面未找到"
        } else {
            "出错了"
        };
        let body = format!(
            "{}<p>{}</p><p class=\"muted\" lang=\"en\">{}</p><p><a href=\"/\">返回首页</a></p>",
            heading(1, title, status.canonical_reason().unwrap_or("Error")),
            html_escape(&zh),
            html_escape(&en),
        );
        (status, page(title, &body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            html_escape("<script>alert('x&\"y')</script>"),
            "&lt;script&gt;alert(&#39;x&amp;&quot;y&#39;)&lt;/script&gt;"
        );
        assert_eq!(html_escape("低保"), "低保");
    }

    #[test]
    fn url_segment_encodes_non_ascii() {
        assert_eq!(url_segment("a-b_1"), "a-b_1");
        assert_eq!(url_segment("a/b"), "a%2Fb");
        assert_eq!(url_segment("低"), "%E4%BD%8E");
    }
}
