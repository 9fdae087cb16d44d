//! The resident portal driven as a browser would: form-encoded and
//! multipart bodies, the session cookie, the CSRF field, redirects.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use backend::app;
use backend::service::people_seed::DEMO_PASSWORD;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::workflow::{PNG, fill_form};
use crate::{TestApp, WANG_HAORAN};

const ZHANG_PHONE: &str = "13837512345";
const BOUNDARY: &str = "----portal-test-boundary-7MA4YWxkTrZu0gW";

/// A page as a browser gets it.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn set_cookie(&self) -> String {
        self.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .text
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field: {}", self.text))
            + marker.len();
        let end = self.text[start..].find('"').unwrap() + start;
        self.text[start..end].to_owned()
    }

    /// The text of the element with this id.
    fn by_id(&self, id: &str) -> String {
        let marker = format!("id=\"{id}\"");
        let at = self
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("no #{id}: {}", self.text));
        let open = self.text[at..].find('>').unwrap() + at + 1;
        let close = self.text[open..].find('<').unwrap() + open;
        self.text[open..close].to_owned()
    }
}

/// One part of a multipart body.
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn multipart_body(parts: &[Part<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match p {
            Part::Text(name, value) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(value.as_bytes());
            }
            Part::File(name, filename, bytes) => {
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(bytes);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

impl TestApp {
    async fn portal_send(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> Page {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        let body = match body {
            Some((ct, bytes)) => {
                b = b.header(header::CONTENT_TYPE, ct);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let resp = app(self.state.clone())
            .oneshot(b.body(body).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        Page {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn p_get(&self, uri: &str, cookie: Option<&str>) -> Page {
        self.portal_send(Method::GET, uri, cookie, None).await
    }

    async fn p_form(&self, uri: &str, cookie: Option<&str>, pairs: &[(&str, &str)]) -> Page {
        let body = form_body(pairs).into_bytes();
        self.portal_send(
            Method::POST,
            uri,
            cookie,
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }

    async fn p_multipart(&self, uri: &str, cookie: &str, parts: &[Part<'_>]) -> Page {
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        self.portal_send(
            Method::POST,
            uri,
            Some(cookie),
            Some((&ct, multipart_body(parts))),
        )
        .await
    }

    /// Logs in through the login form; returns the `Cookie` header value.
    async fn portal_login(&self, phone: &str) -> String {
        let r = self
            .p_form(
                "/login",
                None,
                &[("phone", phone), ("password", DEMO_PASSWORD), ("next", "")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        cookie_of(&r)
    }
}

fn cookie_of(r: &Page) -> String {
    let set = r.set_cookie();
    let pair = set.split(';').next().unwrap().trim().to_owned();
    assert!(pair.starts_with("wd_session=") && pair.len() > 20, "{set}");
    pair
}

/// The multipart parts of a filled-in application for `matter`: every form
/// field, a PNG for every required electronic material, the pledge.
fn application_parts(matter: &Value, csrf: &str, bytes: &'static [u8]) -> Vec<(String, PartValue)> {
    let mut parts = vec![("csrf".to_owned(), PartValue::Text(csrf.to_owned()))];
    for (k, v) in fill_form(matter).as_object().unwrap() {
        parts.push((
            format!("f_{k}"),
            PartValue::Text(v.as_str().unwrap().to_owned()),
        ));
    }
    for (i, m) in matter["materials"].as_array().unwrap().iter().enumerate() {
        if m["required"] == true && m["electronic"] != false {
            parts.push((format!("file_{i}"), PartValue::File("扫描件.png", bytes)));
        }
    }
    parts.push(("pledge".to_owned(), PartValue::Text("yes".to_owned())));
    parts
}

enum PartValue {
    Text(String),
    File(&'static str, &'static [u8]),
}

fn as_parts(list: &[(String, PartValue)]) -> Vec<Part<'_>> {
    list.iter()
        .map(|(name, v)| match v {
            PartValue::Text(t) => Part::Text(name, t),
            PartValue::File(f, b) => Part::File(name, f, b),
        })
        .collect()
}

/// Applies for `matter` through the apply page; returns the case number.
async fn apply(t: &TestApp, cookie: &str, matter: &Value) -> String {
    let code = matter["code"].as_str().unwrap();
    let form = t.p_get(&format!("/apply/{code}"), Some(cookie)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let parts = application_parts(matter, &form.csrf(), PNG);
    let r = t
        .p_multipart(&format!("/apply/{code}"), cookie, &as_parts(&parts))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let loc = r.location().to_owned();
    assert!(loc.ends_with("?notice=submitted"), "{loc}");
    loc.trim_start_matches("/my/cases/")
        .trim_end_matches("?notice=submitted")
        .to_owned()
}

#[tokio::test]
async fn login_sets_a_strict_http_only_cookie_and_a_failure_keeps_the_phone() {
    let t = TestApp::new().await;
    let bad = t
        .p_form(
            "/login",
            None,
            &[("phone", ZHANG_PHONE), ("password", "Wrong#Password1")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(
        bad.text.contains("用户名、密码或动态口令不正确"),
        "{}",
        bad.text
    );
    assert!(bad.text.contains("Wrong user name, password or code"));
    assert!(bad.text.contains(&format!("value=\"{ZHANG_PHONE}\"")));
    assert!(!bad.text.contains("Wrong#Password1"), "password echoed");
    assert!(bad.set_cookie().is_empty());

    let ok = t
        .p_form(
            "/login",
            None,
            &[
                ("phone", ZHANG_PHONE),
                ("password", DEMO_PASSWORD),
                ("next", "/apply/X-1"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/apply/X-1");
    let set = ok.set_cookie();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(set.contains(attr), "{attr} missing in {set}");
    }
    // The cookie logs in: the nav offers 退出 and names the resident, masked.
    let cookie = cookie_of(&ok);
    let home = t.p_get("/", Some(&cookie)).await;
    assert!(home.text.contains("id=\"logout\""), "{}", home.text);
    assert!(home.text.contains("张*") && !home.text.contains("张伟<"));

    // A return path to another site is ignored.
    let r = t
        .p_form(
            "/login",
            None,
            &[
                ("phone", ZHANG_PHONE),
                ("password", DEMO_PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.location(), "/my/cases");

    // Logging out ends the session and clears the cookie.
    let csrf = home.csrf();
    let out = t.p_form("/logout", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie().contains("Max-Age=0"));
    let after = t.p_get("/my/cases", Some(&cookie)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location(), "/login?next=%2Fmy%2Fcases");
}

#[tokio::test]
async fn posts_without_the_csrf_field_are_refused() {
    let t = TestApp::new().await;
    let cookie = t.portal_login(ZHANG_PHONE).await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap();

    let r = t.p_form("/logout", Some(&cookie), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text.contains("页面已过期"), "{}", r.text);
    let r = t
        .p_form("/logout", Some(&cookie), &[("csrf", "forged")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The apply form without its csrf part files nothing.
    let mut parts = application_parts(&matter, "", PNG);
    parts.remove(0);
    let r = t
        .p_multipart(&format!("/apply/{code}"), &cookie, &as_parts(&parts))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("<meta name=\"viewport\""));

    let r = t
        .p_form(
            "/account/real-name",
            Some(&cookie),
            &[("real_name", "王浩然"), ("id_number", WANG_HAORAN)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // The session survived all of it, and no case was filed.
    let mine = t.p_get("/my/cases", Some(&cookie)).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(!mine.text.contains("通过网上办事大厅提交申请"));
    let web_cases: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM case_record WHERE channel = 'web'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(web_cases, 0);
}

#[tokio::test]
async fn resident_applies_supplies_a_correction_and_withdraws_another_case() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap().to_owned();

    // The guide offers to log in first, then to apply.
    let guide = t.p_get(&format!("/matters/{code}"), None).await;
    assert!(guide.text.contains(&format!(
        "href=\"/login?next=%2Fapply%2F{}\"",
        urlencode(&code)
    )));
    let cookie = t.portal_login(ZHANG_PHONE).await;
    let guide = t.p_get(&format!("/matters/{code}"), Some(&cookie)).await;
    assert!(
        guide
            .text
            .contains(&format!("id=\"apply-online\" href=\"/apply/{code}\"")),
        "{}",
        guide.text
    );

    // The apply page: the check box, every field, a file input per material.
    let form = t.p_get(&format!("/apply/{code}"), Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("id=\"apply-check\""));
    assert!(form.text.contains("id=\"apply-submit\""));
    for f in matter["form"].as_array().unwrap() {
        let name = format!("name=\"f_{}\"", f["key"].as_str().unwrap());
        assert!(form.text.contains(&name), "{name}");
    }
    assert!(form.text.contains("name=\"file_0\""));
    assert!(form.text.contains("必交"));
    // 张伟 is the agent of a company: he may apply for it.
    assert!(form.text.contains("id=\"for-entity\""));
    assert!(form.text.contains("平顶山市卫东区鹰城味道餐饮有限公司"));

    let case = apply(&t, &cookie, &matter).await;
    let done = t
        .p_get(&format!("/my/cases/{case}?notice=submitted"), Some(&cookie))
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(done.by_id("case-status"), "已提交");
    assert_eq!(done.by_id("case-number"), case);
    assert!(done.text.contains("申请已提交"));
    assert!(done.text.contains("扫描件.png"));
    assert!(done.text.contains("预计办结日期"));
    let list = t.p_get("/my/cases", Some(&cookie)).await;
    assert!(list.text.contains(&case));

    // The window clerk asks for a correction through the JSON API.
    let first = matter["materials"][0]["name"].as_str().unwrap().to_owned();
    let clerk = t.staff("gaoj").await;
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &clerk,
            &json!({"action": "request_correction", "opinion": "照片不清晰，请重新上传", "items": [first]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let page = t.p_get(&format!("/my/cases/{case}"), Some(&cookie)).await;
    assert_eq!(page.by_id("case-status"), "待补正");
    assert!(page.text.contains("id=\"correction-items\""));
    assert!(page.text.contains(&format!("<li>{first}</li>")));
    assert_eq!(page.by_id("correction-note"), "照片不清晰，请重新上传");
    assert!(page.text.contains("id=\"correction-submit\""));

    // Sending nothing is refused, with the item marked.
    let csrf = page.csrf();
    let r = t
        .p_multipart(
            &format!("/my/cases/{case}/correction"),
            &cookie,
            &[Part::Text("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id=\"err-correction-0\""), "{}", r.text);
    assert!(r.text.contains("请重新选择文件"));

    let r = t
        .p_multipart(
            &format!("/my/cases/{case}/correction"),
            &cookie,
            &[
                Part::Text("csrf", &csrf),
                Part::File("file_0", "clear.png", PNG),
                Part::Text("note", "已重新拍照"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = t.p_get(r.location(), Some(&cookie)).await;
    assert_eq!(page.by_id("case-status"), "已补正，待受理");
    assert!(page.text.contains("id=\"correction-done\""));
    assert!(page.text.contains("第1次补正") && page.text.contains("clear.png"));
    assert!(
        page.text.contains("照片不清晰，请重新上传"),
        "timeline keeps the opinion"
    );

    // A second application, withdrawn: the box must be ticked.
    let other = apply(&t, &cookie, &matter).await;
    let page = t.p_get(&format!("/my/cases/{other}"), Some(&cookie)).await;
    assert!(page.text.contains("id=\"withdraw-submit\""));
    let csrf = page.csrf();
    let r = t
        .p_form(
            &format!("/my/cases/{other}/withdraw"),
            Some(&cookie),
            &[("csrf", &csrf), ("reason", "不再需要")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("确认撤回"));
    assert_eq!(
        t.p_get(&format!("/my/cases/{other}"), Some(&cookie))
            .await
            .by_id("case-status"),
        "已提交"
    );
    let r = t
        .p_form(
            &format!("/my/cases/{other}/withdraw"),
            Some(&cookie),
            &[("csrf", &csrf), ("confirm", "yes"), ("reason", "不再需要")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = t.p_get(r.location(), Some(&cookie)).await;
    assert_eq!(page.by_id("case-status"), "已撤回");
    assert!(!page.text.contains("id=\"withdraw-submit\""));
    // The first case, in correction review now, is untouched.
    let first_page = t.p_get(&format!("/my/cases/{case}"), Some(&cookie)).await;
    assert_eq!(first_page.by_id("case-status"), "已补正，待受理");
}

#[tokio::test]
async fn a_file_that_is_not_an_image_or_pdf_is_refused_and_the_values_kept() {
    let t = TestApp::new().await;
    let cookie = t.portal_login(ZHANG_PHONE).await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap();
    let csrf = t
        .p_get(&format!("/apply/{code}"), Some(&cookie))
        .await
        .csrf();
    static EXE: &[u8] = b"MZ\x90\x00 this is a program, not a scan";
    let parts = application_parts(&matter, &csrf, EXE);
    let r = t
        .p_multipart(&format!("/apply/{code}"), &cookie, &as_parts(&parts))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text
            .contains("材料只接受 JPEG、PNG、TIFF 图片或 PDF 文件"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("materials must be JPEG, PNG or TIFF images or PDF files")
    );
    assert!(r.text.contains("id=\"err-file-0\""));
    assert!(r.text.contains("请重新选择文件"));
    // What was typed is still there.
    let form = fill_form(&matter);
    let (key, value) = form.as_object().unwrap().iter().next().unwrap();
    let value = value.as_str().unwrap();
    assert!(
        r.text.contains(&format!("value=\"{value}\"")) || r.text.contains(&format!(">{value}<")),
        "{key}={value} lost"
    );

    // A missing required field is marked next to it.
    let first = matter["form"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["required"] == true)
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut parts = application_parts(&matter, &csrf, PNG);
    parts.retain(|(n, _)| n != &format!("f_{first}"));
    let r = t
        .p_multipart(&format!("/apply/{code}"), &cookie, &as_parts(&parts))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains(&format!("id=\"err-{first}\"")),
        "{}",
        r.text
    );
    assert!(r.text.contains("必填项未填写"));

    // Without the pledge nothing is filed either.
    let mut parts = application_parts(&matter, &csrf, PNG);
    parts.retain(|(n, _)| n != "pledge");
    let r = t
        .p_multipart(&format!("/apply/{code}"), &cookie, &as_parts(&parts))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("id=\"err-pledge\""));
}

#[tokio::test]
async fn uploads_over_one_mebibyte_pass_and_over_ten_are_refused() {
    let t = TestApp::new().await;
    let cookie = t.portal_login(ZHANG_PHONE).await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap();
    let csrf = t
        .p_get(&format!("/apply/{code}"), Some(&cookie))
        .await
        .csrf();

    // 3 MiB: over the JSON body limit, within the upload limit.
    let mut big = PNG.to_vec();
    big.resize(3 * 1024 * 1024, 0);
    let big: &'static [u8] = Box::leak(big.into_boxed_slice());
    let parts = application_parts(&matter, &csrf, big);
    let r = t
        .p_multipart(&format!("/apply/{code}"), &cookie, &as_parts(&parts))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);

    // 11 MiB for one material: refused with the size named.
    let mut huge = PNG.to_vec();
    huge.resize(11 * 1024 * 1024, 0);
    let huge: &'static [u8] = Box::leak(huge.into_boxed_slice());
    let mut parts = application_parts(&matter, &csrf, PNG);
    parts.push(("file_0".to_owned(), PartValue::File("huge.png", huge)));
    parts.retain(|(n, v)| !(n == "file_0" && matches!(v, PartValue::File(_, b) if b.len() < 100)));
    let r = t
        .p_multipart(&format!("/apply/{code}"), &cookie, &as_parts(&parts))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("单个材料不能超过10MB"), "{}", r.text);

    // Other forms keep the small limit.
    let filler = "x".repeat(2 * 1024 * 1024);
    let r = t
        .p_form(
            "/login",
            None,
            &[("phone", ZHANG_PHONE), ("password", &filler)],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn another_residents_case_is_not_found() {
    let t = TestApp::new().await;
    let zhang = t.portal_login(ZHANG_PHONE).await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let case = apply(&t, &zhang, &matter).await;

    // A new resident registers (with a real name) and is logged in at once.
    let r = t
        .p_form(
            "/register",
            None,
            &[
                ("kind", "person"),
                ("phone", "13700000009"),
                ("password", "Haoran#2026x"),
                ("password2", "Haoran#2026x"),
                ("real_name", "王浩然"),
                ("id_number", WANG_HAORAN),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), "/my/cases");
    let wang = cookie_of(&r);

    let page = t.p_get(&format!("/my/cases/{case}"), Some(&wang)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.text.contains("页面未找到"));
    assert!(!page.text.contains("410403198503150013"));
    let list = t.p_get("/my/cases", Some(&wang)).await;
    assert!(!list.text.contains(&case));
    // Nor can Wang act on it.
    let csrf = list.csrf();
    let r = t
        .p_form(
            &format!("/my/cases/{case}/withdraw"),
            Some(&wang),
            &[("csrf", &csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t
        .p_multipart(
            &format!("/my/cases/{case}/correction"),
            &wang,
            &[
                Part::Text("csrf", &csrf),
                Part::File("file_0", "a.png", PNG),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.p_get(&format!("/my/cases/{case}"), Some(&zhang))
            .await
            .by_id("case-status"),
        "已提交"
    );
}

#[tokio::test]
async fn registration_and_real_name_errors_keep_the_input_but_not_the_password() {
    let t = TestApp::new().await;
    let r = t
        .p_form(
            "/register",
            None,
            &[
                ("kind", "person"),
                ("phone", "13700000001"),
                ("password", "short"),
                ("password2", "short"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("密码强度不足"), "{}", r.text);
    assert!(r.text.contains("id=\"err-password\""));
    assert!(r.text.contains("value=\"13700000001\""));
    assert!(!r.text.contains("value=\"short\""));

    let r = t
        .p_form(
            "/register",
            None,
            &[
                ("kind", "entity"),
                ("phone", "13700000002"),
                ("password", "Company#2026x"),
                ("password2", "Company#2026x"),
                ("entity_name", "卫东区某某商贸有限公司"),
                ("uscc", "91410403MA9K8N2X4E"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("id=\"err-uscc\""), "{}", r.text);
    assert!(r.text.contains("统一社会信用代码应为18位且校验位正确"));
    assert!(r.text.contains("value=\"卫东区某某商贸有限公司\""));

    // A person without a real name is sent to bind one, then back.
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap();
    let next = format!("/apply/{code}");
    let r = t
        .p_form(
            "/register",
            None,
            &[
                ("kind", "person"),
                ("phone", "13700000003"),
                ("password", "Resident#2026"),
                ("password2", "Resident#2026"),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(
        r.location().starts_with("/account/real-name?next="),
        "{}",
        r.location()
    );
    let cookie = cookie_of(&r);
    // Applying is not offered before binding.
    let apply_page = t.p_get(&next, Some(&cookie)).await;
    assert!(apply_page.text.contains("请先完成实名认证"));
    assert!(!apply_page.text.contains("id=\"apply-submit\""));

    let page = t.p_get(r.location(), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.csrf();
    let bad = t
        .p_form(
            "/account/real-name",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("real_name", "王浩然"),
                ("id_number", "410403200109220037"),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("id=\"err-id_number\""));
    assert!(bad.text.contains("value=\"王浩然\""));
    let ok = t
        .p_form(
            "/account/real-name",
            Some(&cookie),
            &[
                ("csrf", &csrf),
                ("real_name", "王浩然"),
                ("id_number", WANG_HAORAN),
                ("next", &next),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    assert_eq!(ok.location(), next);
    let apply_page = t.p_get(&next, Some(&cookie)).await;
    assert!(apply_page.text.contains("id=\"apply-submit\""));
    assert!(apply_page.text.contains("王*"));
}

#[tokio::test]
async fn home_guides_and_guide_pages_show_entries_workflow_and_faq() {
    let t = TestApp::new().await;
    let home = t.p_get("/", None).await;
    for want in [
        "个人办事",
        "法人办事",
        "按主题",
        "按部门",
        "id=\"nav-login\"",
        "我的办件",
    ] {
        assert!(home.text.contains(want), "{want}");
    }
    let firms = t.p_get("/guides?audience=%E6%B3%95%E4%BA%BA", None).await; // 法人
    assert_eq!(firms.status, StatusCode::OK);
    assert!(firms.text.contains("个体工商户设立登记"));
    assert!(!firms.text.contains("居民身份证换领"));

    let matters = t.matters().await;
    let with_faq = matters
        .iter()
        .find(|m| !m["faq"].as_array().unwrap().is_empty())
        .expect("a matter with FAQ");
    let code = with_faq["code"].as_str().unwrap();
    let guide = t.p_get(&format!("/matters/{code}"), None).await;
    assert!(guide.text.contains("id=\"workflow\""));
    assert!(guide.text.contains("常见问题"));
    let q = with_faq["faq"][0]["q"].as_str().unwrap();
    assert!(guide.text.contains(q), "{q}");
    for step in with_faq["workflow"]["steps"].as_array().unwrap() {
        assert!(guide.text.contains(step["name"].as_str().unwrap()));
    }
    if let Some(first) = with_faq["form"].as_array().unwrap().first() {
        assert!(guide.text.contains(first["label"].as_str().unwrap()));
    }
    let with_ecert = matters
        .iter()
        .find(|m| {
            m["materials"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["e_certificate"].is_string())
        })
        .expect("a matter with an e-certificate");
    let guide = t
        .p_get(
            &format!("/matters/{}", with_ecert["code"].as_str().unwrap()),
            None,
        )
        .await;
    assert!(guide.text.contains("可用电子证照"), "{}", guide.text);
}

#[tokio::test]
async fn every_portal_page_has_the_viewport_meta_and_logins_are_asked_for() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap().to_owned();

    for uri in ["/my/cases", &format!("/apply/{code}"), "/account/real-name"] {
        let r = t.p_get(uri, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{uri}");
        assert!(
            r.location().starts_with("/login?next=%2F"),
            "{uri}: {}",
            r.location()
        );
    }

    let cookie = t.portal_login(ZHANG_PHONE).await;
    let case = apply(&t, &cookie, &matter).await;
    let pages = [
        "/".to_owned(),
        "/?q=%E4%BD%8E%E4%BF%9D".to_owned(),
        "/guides".to_owned(),
        format!("/matters/{code}"),
        "/login".to_owned(),
        "/register".to_owned(),
        "/register?kind=entity".to_owned(),
        "/account/real-name".to_owned(),
        "/my/cases".to_owned(),
        format!("/my/cases/{case}"),
        format!("/apply/{code}"),
        "/my/cases/41040320990101000000".to_owned(),
        "/no-such-page".to_owned(),
    ];
    for uri in &pages {
        let r = t.p_get(uri, Some(&cookie)).await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::NOT_FOUND,
            "{uri}: {}",
            r.status
        );
        assert!(
            r.text.contains("<meta name=\"viewport\""),
            "{uri} lacks the viewport meta"
        );
        assert!(r.text.contains("<html lang=\"zh-CN\">"), "{uri}");
    }
}
