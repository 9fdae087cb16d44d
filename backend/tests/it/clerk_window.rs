//! Window filing in the clerk workbench, in a browser's shoes: a draft is
//! saved URL-encoded (no files), listed under 草稿, continued prefilled,
//! then filed as multipart with the scans; the case comes out as a window
//! case with the agent masked. Other departments cannot file police
//! matters; a bad ID number comes back next to its field with the rest
//! kept.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use backend::app;
use serde_json::Value;
use tower::ServiceExt;

use crate::clerk::Page;
use crate::workflow::{PNG, fill_form};
use crate::{LI_XIUYING, TestApp, ZHANG_WEI};

const BOUNDARY: &str = "----clerk-window-test-boundary-Q3v9";

/// One part of a multipart body.
enum Part {
    Text(String, String),
    File(String, &'static str, Vec<u8>),
}

fn text(name: &str, value: &str) -> Part {
    Part::Text(name.to_owned(), value.to_owned())
}

fn multipart_body(parts: &[Part]) -> Vec<u8> {
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
    /// A multipart POST with the session cookie.
    async fn clerk_multipart(&self, uri: &str, cookie: &str, parts: &[Part]) -> Page {
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(multipart_body(parts)))
            .unwrap();
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Page {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }
}

/// The typed fields of 张伟's application with 李秀英 as agent.
fn typed(matter: &Value, csrf: &str, id_number: &str) -> Vec<(String, String)> {
    let mut out = vec![
        ("csrf".to_owned(), csrf.to_owned()),
        ("applicant_name".to_owned(), "张伟".to_owned()),
        ("applicant_id_type".to_owned(), "111".to_owned()),
        ("applicant_id_number".to_owned(), id_number.to_owned()),
        ("applicant_phone".to_owned(), "13837512345".to_owned()),
        (
            "applicant_address".to_owned(),
            "卫东区建设路东段12号".to_owned(),
        ),
        ("agent_name".to_owned(), "李秀英".to_owned()),
        ("agent_id_number".to_owned(), LI_XIUYING.to_owned()),
    ];
    for (k, v) in fill_form(matter).as_object().unwrap() {
        out.push((format!("f_{k}"), v.as_str().unwrap().to_owned()));
    }
    out
}

/// The typed fields as multipart parts, with a PNG for every required
/// electronic material.
fn parts_with_files(matter: &Value, fields: &[(String, String)]) -> Vec<Part> {
    let mut parts: Vec<Part> = fields.iter().map(|(k, v)| text(k, v)).collect();
    for (i, m) in matter["materials"].as_array().unwrap().iter().enumerate() {
        if m["required"] == true && m["electronic"] != false {
            parts.push(Part::File(format!("file_{i}"), "扫描件.png", PNG.to_vec()));
        }
    }
    parts
}

fn pairs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The text of the element with this id (up to the next tag).
fn by_id(page: &Page, id: &str) -> String {
    let key = format!("id=\"{id}\"");
    let at = page
        .text
        .find(&key)
        .unwrap_or_else(|| panic!("no #{id} in:\n{}", page.text));
    let open = page.text[at..].find('>').unwrap() + at + 1;
    let close = page.text[open..].find('<').unwrap() + open;
    page.text[open..close].to_owned()
}

#[tokio::test]
async fn a_draft_is_saved_continued_and_filed_at_the_window() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap().to_owned();
    let gaoj = t.clerk_login("gaoj").await;

    // The window tab lists the police matters with a way in.
    let list = t.clerk_get("/clerk/window", &gaoj).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("id=\"window-matters\""));
    assert!(
        list.text
            .contains(&format!("href=\"/clerk/window/{code}\""))
    );
    assert!(
        list.text.contains("id=\"nav-drafts\""),
        "drafts tab in the bar"
    );
    let found = t.clerk_get("/clerk/window?q=无犯罪", &gaoj).await;
    assert!(found.text.contains("无犯罪记录证明"));
    assert!(!found.text.contains("居民身份证换领"), "the search narrows");

    // Save a draft (URL-encoded, as the 保存草稿 button posts it).
    let form = t.clerk_get(&format!("/clerk/window/{code}"), &gaoj).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("id=\"window-file\""));
    assert!(form.text.contains("id=\"window-save-draft\""));
    assert!(form.text.contains("enctype=\"multipart/form-data\""));
    assert!(form.text.contains("必交"));
    let csrf = form.field("csrf");
    let fields = typed(&matter, &csrf, ZHANG_WEI);
    let saved = t
        .clerk_post(
            &format!("/clerk/window/{code}/draft"),
            &gaoj,
            &pairs(&fields),
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let back = t.clerk_get(&saved.location(), &gaoj).await;
    assert!(back.text.contains("已保存草稿"), "{}", back.text);
    let draft_id = by_id(&back, "draft-id");
    assert_eq!(back.field("draft_id"), draft_id);

    // 草稿 lists it, applicant masked, with the count on the tab.
    let drafts = t.clerk_get("/clerk/drafts", &gaoj).await;
    assert_eq!(drafts.status, StatusCode::OK, "{}", drafts.text);
    assert!(drafts.text.contains("id=\"drafts-list\""));
    assert!(drafts.text.contains("无犯罪记录证明"));
    assert!(drafts.text.contains("张*"));
    assert!(!drafts.text.contains(ZHANG_WEI), "no full ID in the list");
    assert_eq!(by_id(&drafts, "drafts-count"), "1");
    let cont = format!("/clerk/window/{code}?draft={draft_id}");
    assert!(drafts.text.contains(&format!("href=\"{cont}\"")));

    // 继续 prefills every typed value.
    let again = t.clerk_get(&cont, &gaoj).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.field("applicant_name"), "张伟");
    assert_eq!(again.field("applicant_id_number"), ZHANG_WEI);
    assert_eq!(again.field("agent_name"), "李秀英");
    assert_eq!(again.field("agent_id_number"), LI_XIUYING);
    assert_eq!(again.field("draft_id"), draft_id);
    let purpose = fill_form(&matter)["purpose"].as_str().unwrap().to_owned();
    assert!(
        again
            .text
            .contains(&format!("<option value=\"{purpose}\" selected>"))
    );

    // 受理登记 with the scans.
    let mut fields = typed(&matter, &again.field("csrf"), ZHANG_WEI);
    fields.push(("draft_id".to_owned(), draft_id.clone()));
    let filed = t
        .clerk_multipart(
            &format!("/clerk/window/{code}"),
            &gaoj,
            &parts_with_files(&matter, &fields),
        )
        .await;
    assert_eq!(filed.status, StatusCode::SEE_OTHER, "{}", filed.text);
    let done = t.clerk_get(&filed.location(), &gaoj).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let number = by_id(&done, "filed-case-number");
    assert!(!number.is_empty());
    assert!(
        by_id(&done, "filed-deadline").starts_with("20"),
        "{}",
        done.text
    );
    assert!(
        done.text
            .contains(&format!("href=\"/clerk/cases/{number}\""))
    );
    assert!(
        done.text
            .contains(&format!("/clerk/cases/{number}/notice/acceptance.pdf"))
    );

    // The case is a window case for 张伟 with the agent masked.
    let case = t.clerk_get(&format!("/clerk/cases/{number}"), &gaoj).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.text);
    assert!(
        case.text.contains("<dt>渠道</dt><dd>窗口</dd>"),
        "{}",
        case.text
    );
    assert!(
        case.text.contains("<dt>代办人</dt><dd>李**</dd>"),
        "{}",
        case.text
    );
    assert!(!case.text.contains(LI_XIUYING));
    assert!(case.text.contains("id=\"act-accept\""), "{}", case.text);

    // Filing used the draft up.
    let drafts = t.clerk_get("/clerk/drafts", &gaoj).await;
    assert!(
        drafts.text.contains("id=\"drafts-empty\""),
        "{}",
        drafts.text
    );
    assert_eq!(by_id(&drafts, "drafts-count"), "0");
}

#[tokio::test]
async fn another_department_neither_sees_nor_files_police_matters() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap().to_owned();
    let wangl = t.clerk_login("wangl").await;

    let list = t.clerk_get("/clerk/window", &wangl).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("个体工商户设立登记"), "{}", list.text);
    assert!(!list.text.contains("无犯罪记录证明"));
    assert!(!list.text.contains(&code));

    let form = t.clerk_get(&format!("/clerk/window/{code}"), &wangl).await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    let csrf = list.field("csrf");
    let fields = typed(&matter, &csrf, ZHANG_WEI);
    let filed = t
        .clerk_multipart(
            &format!("/clerk/window/{code}"),
            &wangl,
            &parts_with_files(&matter, &fields),
        )
        .await;
    assert_eq!(filed.status, StatusCode::FORBIDDEN, "{}", filed.text);
    let draft = t
        .clerk_post(
            &format!("/clerk/window/{code}/draft"),
            &wangl,
            &pairs(&fields),
        )
        .await;
    assert_eq!(draft.status, StatusCode::FORBIDDEN);

    // Nothing was filed or kept.
    let n: i64 = t
        .db()
        .query_row("SELECT COUNT(*) FROM case_draft", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_bad_id_number_is_shown_next_to_its_field_with_the_rest_kept() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap().to_owned();
    let gaoj = t.clerk_login("gaoj").await;
    let form = t.clerk_get(&format!("/clerk/window/{code}"), &gaoj).await;
    let bad = "410403198503150014";
    let fields = typed(&matter, &form.field("csrf"), bad);
    let r = t
        .clerk_multipart(
            &format!("/clerk/window/{code}"),
            &gaoj,
            &parts_with_files(&matter, &fields),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    let msg = by_id(&r, "err-applicant-id-number");
    assert!(msg.contains("证件号码"), "{msg}");
    assert!(r.text.contains("aria-invalid=\"true\""));
    assert_eq!(r.field("applicant_id_number"), bad);
    assert_eq!(r.field("applicant_name"), "张伟");
    assert_eq!(r.field("agent_name"), "李秀英");
    assert_eq!(r.field("applicant_phone"), "13837512345");
    assert!(
        r.text.contains("id=\"files-lost\""),
        "files must be chosen again"
    );

    // A form without its CSRF field is refused.
    let no_csrf: Vec<(String, String)> = fields.into_iter().filter(|(k, _)| k != "csrf").collect();
    let r = t
        .clerk_multipart(
            &format!("/clerk/window/{code}"),
            &gaoj,
            &parts_with_files(&matter, &no_csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

/// A "PNG" of `len` bytes: the signature, then padding.
fn big_png(len: usize) -> Vec<u8> {
    let mut v = PNG.to_vec();
    v.resize(len, 0);
    v
}

#[tokio::test]
async fn scans_up_to_ten_megabytes_each_are_taken_and_wrong_files_are_named() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let code = matter["code"].as_str().unwrap().to_owned();
    let gaoj = t.clerk_login("gaoj").await;
    let form = t.clerk_get(&format!("/clerk/window/{code}"), &gaoj).await;
    let fields = typed(&matter, &form.field("csrf"), ZHANG_WEI);
    let uri = format!("/clerk/window/{code}");

    // Not an image or PDF, and one over 10 MB: each is named at its material.
    let mut parts: Vec<Part> = fields.iter().map(|(k, v)| text(k, v)).collect();
    parts.push(Part::File("file_0".to_owned(), "id.png", b"hello".to_vec()));
    parts.push(Part::File(
        "file_1".to_owned(),
        "form.png",
        big_png(10 * 1024 * 1024 + 1),
    ));
    let r = t.clerk_multipart(&uri, &gaoj, &parts).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        &r.text[..500.min(r.text.len())]
    );
    assert!(
        by_id(&r, "err-file-0").contains("JPEG、PNG、TIFF"),
        "{}",
        r.text
    );
    assert!(by_id(&r, "err-file-1").contains("10MB"), "{}", r.text);
    assert!(r.text.contains("id=\"files-lost\""));

    // Two 3 MB scans pass the 1 MB limit of other forms: the case is filed.
    let mut parts: Vec<Part> = fields.iter().map(|(k, v)| text(k, v)).collect();
    parts.push(Part::File(
        "file_0".to_owned(),
        "id.png",
        big_png(3 * 1024 * 1024),
    ));
    parts.push(Part::File(
        "file_1".to_owned(),
        "form.png",
        big_png(3 * 1024 * 1024),
    ));
    let r = t.clerk_multipart(&uri, &gaoj, &parts).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(r.location().starts_with("/clerk/filed/"));

    // Past 25 MB in all: a page says so.
    let mut parts: Vec<Part> = fields.iter().map(|(k, v)| text(k, v)).collect();
    for i in 0..3 {
        parts.push(Part::File(
            format!("file_{i}"),
            "x.png",
            big_png(9 * 1024 * 1024),
        ));
    }
    let r = t.clerk_multipart(&uri, &gaoj, &parts).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text.contains("25MB"), "{}", r.text);
}
