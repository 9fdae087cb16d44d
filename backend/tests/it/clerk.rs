//! The clerk workbench in a browser's shoes: cookie sessions, real
//! form-encoded bodies, redirects followed by hand. Login needs both
//! factors; every form needs its CSRF field; a web case goes from 待办 to
//! 办结 through the action forms; notices come out as one-page A4 PDFs;
//! other departments see nothing.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use backend::app;
use backend::service::people_seed::{DEMO_PASSWORD, DEMO_TOTP_SECRET};
use serde_json::json;
use tower::ServiceExt;

use crate::workflow::{fill_form, required_uploads};
use crate::{TestApp, ZHANG_WEI};

/// A reply with its headers and raw bytes.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Page {
    pub fn header(&self, name: header::HeaderName) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }

    pub fn location(&self) -> String {
        self.header(header::LOCATION)
    }

    /// The value of the first input named `name`.
    pub fn field(&self, name: &str) -> String {
        let key = format!("name=\"{name}\" value=\"");
        let start = self
            .text
            .find(&key)
            .unwrap_or_else(|| panic!("no field {name} in:\n{}", self.text))
            + key.len();
        let len = self.text[start..].find('"').unwrap();
        self.text[start..start + len].to_owned()
    }
}

/// `application/x-www-form-urlencoded`, every byte but the unreserved
/// ones percent-coded.
pub fn form_body(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl TestApp {
    /// A browser-like request: an optional cookie, an optional form.
    pub async fn clerk_send(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&str>,
        form: Option<&[(&str, &str)]>,
    ) -> Page {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        let body = match form {
            Some(pairs) => {
                b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(form_body(pairs))
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
            .unwrap()
            .to_vec();
        Page {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub async fn clerk_get(&self, uri: &str, cookie: &str) -> Page {
        self.clerk_send(Method::GET, uri, Some(cookie), None).await
    }

    pub async fn clerk_post(&self, uri: &str, cookie: &str, form: &[(&str, &str)]) -> Page {
        self.clerk_send(Method::POST, uri, Some(cookie), Some(form))
            .await
    }

    /// The current TOTP code of the demo staff.
    pub fn clerk_totp(&self) -> String {
        let secret = auth::totp::Secret::from_base32(DEMO_TOTP_SECRET).unwrap();
        auth::totp::code_at(&secret, self.state.now().timestamp())
    }

    /// Logs in through the two login forms; returns the `Cookie` header
    /// value (`wd_session=…`).
    pub async fn clerk_login(&self, username: &str) -> String {
        // A fresh 30 s step: a code is never a replay of the last one.
        self.clock.advance(chrono::Duration::seconds(31));
        let r = self
            .clerk_send(
                Method::POST,
                "/clerk/login",
                None,
                Some(&[("username", username), ("password", DEMO_PASSWORD)]),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{username}: {}", r.text);
        let pending = r.field("pending_token");
        let code = self.clerk_totp();
        let r = self
            .clerk_send(
                Method::POST,
                "/clerk/login/totp",
                None,
                Some(&[("pending_token", &pending), ("code", &code)]),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{username}: {}", r.text);
        let set = r.header(header::SET_COOKIE);
        assert!(set.contains("HttpOnly"), "{set}");
        set.split(';').next().unwrap().to_owned()
    }
}

/// 张伟 applies online for 无犯罪记录证明 through the JSON API.
async fn web_case(t: &TestApp) -> (String, serde_json::Value) {
    let matter = t.matter_named("无犯罪记录证明").await;
    let me = t.resident("13837512345").await;
    let r = t
        .s_post(
            "/api/v1/applications",
            &me,
            &json!({
                "matter_code": matter["code"],
                "form": fill_form(&matter),
                "materials": required_uploads(&matter),
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (r.json["case_number"].as_str().unwrap().to_owned(), matter)
}

fn lists(page: &Page, case: &str) -> bool {
    page.text.contains(&format!("data-case=\"{case}\""))
}

/// Posts an action with the page's CSRF token; returns the reply.
async fn act(t: &TestApp, cookie: &str, case: &str, action: &str, opinion: &str) -> Page {
    let page = t.clerk_get(&format!("/clerk/cases/{case}"), cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains(&format!("id=\"act-{action}\"")),
        "no {action} button: {}",
        page.text
    );
    let csrf = page.field("csrf");
    t.clerk_post(
        &format!("/clerk/cases/{case}/act"),
        cookie,
        &[("csrf", &csrf), ("action", action), ("opinion", opinion)],
    )
    .await
}

fn assert_a4_pdf(t: &TestApp, bytes: &[u8], name: &str) {
    assert!(bytes.starts_with(b"%PDF-"), "{name} is not a PDF");
    let text = String::from_utf8_lossy(bytes);
    assert!(text.contains("/Count 1 "), "{name}: one page");
    assert_eq!(text.matches("/Type /Page ").count(), 1, "{name}: one page");
    assert!(
        text.contains("/MediaBox [0 0 595.28 841.89]"),
        "{name}: A4 MediaBox"
    );
    assert!(text.trim_end().ends_with("%%EOF"));
    let Some(pdftoppm) = which("pdftoppm") else {
        println!("pdftoppm not on PATH: {name} not rendered");
        return;
    };
    let pdf = t.dir.join(format!("{name}.pdf"));
    std::fs::write(&pdf, bytes).unwrap();
    let out = t.dir.join(name);
    let status = std::process::Command::new(pdftoppm)
        .args(["-r", "50", "-gray", "-singlefile"])
        .arg(&pdf)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "pdftoppm failed on {name}");
    let pgm = std::fs::read(out.with_extension("pgm")).unwrap();
    // P5 <w> <h> 255\n then the pixels: an A4 page at 50 dpi, with ink.
    let header: Vec<&[u8]> = pgm.splitn(5, |b| b.is_ascii_whitespace()).collect();
    assert_eq!(header[0], b"P5");
    let w: usize = std::str::from_utf8(header[1]).unwrap().parse().unwrap();
    let h: usize = std::str::from_utf8(header[2]).unwrap().parse().unwrap();
    assert!(
        (412..=415).contains(&w) && (583..=586).contains(&h),
        "{w}×{h}"
    );
    let pixels = header[4];
    let dark = pixels.iter().filter(|&&p| p < 128).count();
    assert!(
        dark > 500 && dark < pixels.len() / 5,
        "{name}: {dark} dark pixels of {}",
        pixels.len()
    );
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

#[tokio::test]
async fn login_needs_the_password_and_the_code() {
    let t = TestApp::new().await;
    // No session: to the login form.
    let r = t
        .clerk_send(Method::GET, "/clerk/inbox/todo", None, None)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/clerk/login");
    let r = t.clerk_send(Method::GET, "/clerk/login", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("name=\"username\"") && r.text.contains("name=\"password\""));

    // A wrong password: the one generic message, no cookie.
    let r = t
        .clerk_send(
            Method::POST,
            "/clerk/login",
            None,
            Some(&[("username", "gaoj"), ("password", "wrong-password-1")]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.text.contains("用户名、密码或动态口令不正确"),
        "{}",
        r.text
    );
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    let unknown = t
        .clerk_send(
            Method::POST,
            "/clerk/login",
            None,
            Some(&[("username", "nobody"), ("password", DEMO_PASSWORD)]),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(unknown.text.contains("用户名、密码或动态口令不正确"));

    // The right password alone opens nothing.
    t.clock.advance(chrono::Duration::seconds(31));
    let r = t
        .clerk_send(
            Method::POST,
            "/clerk/login",
            None,
            Some(&[("username", "gaoj"), ("password", DEMO_PASSWORD)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    assert!(r.text.contains("name=\"code\""));
    let pending = r.field("pending_token");
    let half = format!("wd_session={pending}");
    let r = t.clerk_get("/clerk/inbox/todo", &half).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "password alone: {}",
        r.text
    );
    assert_eq!(r.location(), "/clerk/login");
    // The code form is not reachable by URL.
    let r = t
        .clerk_send(Method::GET, "/clerk/login/totp", None, None)
        .await;
    assert_eq!(r.location(), "/clerk/login");

    // A wrong code is refused with the same message.
    let right = t.clerk_totp();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = t
        .clerk_send(
            Method::POST,
            "/clerk/login/totp",
            None,
            Some(&[("pending_token", &pending), ("code", wrong)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("用户名、密码或动态口令不正确"));
    assert!(r.headers.get(header::SET_COOKIE).is_none());
    assert_eq!(
        t.clerk_get("/clerk/inbox/todo", &half).await.status,
        StatusCode::SEE_OTHER
    );

    // The right code: a cookie, and the workbench says who is in.
    let r = t
        .clerk_send(
            Method::POST,
            "/clerk/login/totp",
            None,
            Some(&[("pending_token", &pending), ("code", &right)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let set = r.header(header::SET_COOKIE);
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_owned();
    let r = t.clerk_get("/clerk", &cookie).await;
    assert_eq!(r.location(), "/clerk/inbox/todo");
    let r = t.clerk_get("/clerk/inbox/todo", &cookie).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for want in [
        "高静",
        "平顶山市公安局卫东分局",
        "窗口受理",
        "id=\"inbox-todo\"",
    ] {
        assert!(r.text.contains(want), "{want} missing");
    }

    // Logging out needs the form's CSRF token, then the cookie is dead.
    let csrf = r.field("csrf");
    let r = t.clerk_post("/clerk/logout", &cookie, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .clerk_post("/clerk/logout", &cookie, &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.header(header::SET_COOKIE).contains("Max-Age=0"));
    let r = t.clerk_get("/clerk/inbox/todo", &cookie).await;
    assert_eq!(r.location(), "/clerk/login");
}

#[tokio::test]
async fn a_web_case_goes_from_todo_to_concluded_through_the_forms() {
    let t = TestApp::new().await;
    let (case, _) = web_case(&t).await;
    let gaoj = t.clerk_login("gaoj").await;
    let liuy = t.clerk_login("liuy").await;
    let zhaom = t.clerk_login("zhaom").await;

    // In the window clerk's 待办, masked, with a deadline marker.
    let todo = t.clerk_get("/clerk/inbox/todo", &gaoj).await;
    assert_eq!(todo.status, StatusCode::OK);
    assert!(lists(&todo, &case), "{}", todo.text);
    assert!(todo.text.contains("张*") && !todo.text.contains("张伟"));
    assert!(todo.text.contains("无犯罪记录证明"));
    assert!(todo.text.contains("class=\"mark mark-"));
    assert!(!lists(
        &t.clerk_get("/clerk/inbox/todo", &liuy).await,
        &case
    ));

    // The case page: the accept button, the materials inline, no full ID.
    let page = t.clerk_get(&format!("/clerk/cases/{case}"), &gaoj).await;
    assert_eq!(page.status, StatusCode::OK);
    for want in [
        "id=\"act-accept\"",
        "受理",
        "id=\"case-status\"",
        "name=\"csrf\"",
        "name=\"opinion\"",
        "办理过程",
        "class=\"current\"",
    ] {
        assert!(page.text.contains(want), "{want} missing:\n{}", page.text);
    }
    assert!(!page.text.contains(ZHANG_WEI), "full ID number on the page");
    let img = format!("<img src=\"/clerk/cases/{case}/materials/");
    let at = page.text.find(&img).expect("an inline image") + img.len();
    let mid: String = page.text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let m = t
        .clerk_get(&format!("/clerk/cases/{case}/materials/{mid}"), &gaoj)
        .await;
    assert_eq!(m.status, StatusCode::OK);
    assert_eq!(m.header(header::CONTENT_TYPE), "image/png");
    assert!(m.bytes.starts_with(b"\x89PNG"));

    // Without the CSRF field nothing happens.
    let r = t
        .clerk_post(
            &format!("/clerk/cases/{case}/act"),
            &gaoj,
            &[("action", "accept"), ("opinion", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = act(&t, &gaoj, &case, "accept", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), format!("/clerk/cases/{case}?done=accept"));
    let after = t.clerk_get(&r.location(), &gaoj).await;
    assert!(after.text.contains("已办理：受理"), "{}", after.text);
    assert!(
        after.text.contains("id=\"case-status\">已受理<"),
        "{}",
        after.text
    );

    // 已办 for the clerk, 待办 for the reviewer.
    assert!(lists(&t.clerk_get("/clerk/inbox/done", &gaoj).await, &case));
    assert!(!lists(
        &t.clerk_get("/clerk/inbox/todo", &gaoj).await,
        &case
    ));
    assert!(lists(&t.clerk_get("/clerk/inbox/todo", &liuy).await, &case));
    let r = act(&t, &liuy, &case, "pass", "材料齐全，符合条件").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);

    // Deciding without an opinion is refused on the page, in both languages.
    let r = act(&t, &zhaom, &case, "approve", "  ").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("请填写办理意见"), "{}", r.text);
    assert!(r.text.contains("an opinion is required"));
    assert!(r.text.contains("id=\"act-approve\""));
    let r = act(&t, &zhaom, &case, "approve", "准予出具无犯罪记录证明").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let concluded = t.clerk_get("/clerk/inbox/concluded", &zhaom).await;
    assert!(lists(&concluded, &case));
    assert!(concluded.text.contains("已办结"));
    assert!(lists(
        &t.clerk_get("/clerk/inbox/concluded", &gaoj).await,
        &case
    ));
    let page = t.clerk_get(&format!("/clerk/cases/{case}"), &zhaom).await;
    assert!(page.text.contains("准予出具无犯罪记录证明"));
    assert!(page.text.contains("id=\"no-actions\""));

    // The notices: one-page A4 PDFs; none for a correction never asked.
    for kind in ["acceptance", "decision"] {
        let r = t
            .clerk_get(&format!("/clerk/cases/{case}/notice/{kind}.pdf"), &gaoj)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{kind}: {}", r.text);
        assert_eq!(r.header(header::CONTENT_TYPE), "application/pdf");
        assert_a4_pdf(&t, &r.bytes, kind);
    }
    let r = t
        .clerk_get(&format!("/clerk/cases/{case}/notice/correction.pdf"), &gaoj)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = t
        .clerk_get(&format!("/clerk/cases/{case}/notice/other.pdf"), &gaoj)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let printed: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'case.notice_printed' AND object = ?1",
            [format!("case:{case}")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(printed, 2);

    // Another department's clerk: not found, for the page, the material
    // and the notice alike. A supervisor sees the case but prints nothing.
    let wangl = t.clerk_login("wangl").await;
    for uri in [
        format!("/clerk/cases/{case}"),
        format!("/clerk/cases/{case}/materials/{mid}"),
        format!("/clerk/cases/{case}/notice/acceptance.pdf"),
    ] {
        let r = t.clerk_get(&uri, &wangl).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(!r.text.contains("张伟"));
    }
    let lind = t.clerk_login("lind").await;
    let r = t.clerk_get(&format!("/clerk/cases/{case}"), &lind).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains("/notice/"));
    let r = t
        .clerk_get(&format!("/clerk/cases/{case}/notice/decision.pdf"), &lind)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_correction_names_the_materials_once_and_prints() {
    let t = TestApp::new().await;
    let (case, matter) = web_case(&t).await;
    let gaoj = t.clerk_login("gaoj").await;
    let page = t.clerk_get(&format!("/clerk/cases/{case}"), &gaoj).await;
    let names: Vec<String> = matter["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    for (i, n) in names.iter().enumerate() {
        assert!(
            page.text
                .contains(&format!("name=\"items\" id=\"item-{i}\" value=\"{n}\"")),
            "{n} not offered as a checkbox"
        );
    }
    let csrf = page.field("csrf");
    let uri = format!("/clerk/cases/{case}/act");
    // A correction without any item is refused, and says so.
    let r = t
        .clerk_post(
            &uri,
            &gaoj,
            &[
                ("csrf", &csrf),
                ("action", "request_correction"),
                ("opinion", "请补充"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("请列出需要补正的材料"), "{}", r.text);
    assert!(r.text.contains("请补充"), "the typed note is kept");
    let r = t
        .clerk_post(
            &uri,
            &gaoj,
            &[
                ("csrf", &csrf),
                ("action", "request_correction"),
                ("items", &names[0]),
                ("item_other", "近期免冠照片"),
                ("opinion", "照片不清晰，请重新上传"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let inbox = t.clerk_get("/clerk/inbox/correction", &gaoj).await;
    assert!(lists(&inbox, &case));
    let page = t.clerk_get(&format!("/clerk/cases/{case}"), &gaoj).await;
    assert!(page.text.contains("补正记录"));
    assert!(page.text.contains("近期免冠照片"));
    assert!(page.text.contains("id=\"case-status\">待补正<"));
    let r = t
        .clerk_get(&format!("/clerk/cases/{case}/notice/correction.pdf"), &gaoj)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_a4_pdf(&t, &r.bytes, "correction");
    // Not accepted yet: no acceptance notice.
    let r = t
        .clerk_get(&format!("/clerk/cases/{case}/notice/acceptance.pdf"), &gaoj)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_all_open_tab_is_for_supervisors_only() {
    let t = TestApp::new().await;
    let gaoj = t.clerk_login("gaoj").await;
    let todo = t.clerk_get("/clerk/inbox/todo", &gaoj).await;
    assert!(todo.text.contains("id=\"inbox-correction\""));
    assert!(!todo.text.contains("id=\"inbox-all\""));
    let r = t.clerk_get("/clerk/inbox/all", &gaoj).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.content_type_is_html());
    let r = t.clerk_get("/clerk/inbox/nonsense", &gaoj).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let lind = t.clerk_login("lind").await;
    let all = t.clerk_get("/clerk/inbox/all", &lind).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert!(all.text.contains("id=\"inbox-all\""));
    assert!(all.text.contains("督查"));
    assert!(all.text.contains("data-case=\""), "the seeded open cases");
}

impl Page {
    fn content_type_is_html(&self) -> bool {
        self.header(header::CONTENT_TYPE).starts_with("text/html")
    }
}

#[tokio::test]
async fn a_parallel_case_links_to_its_sub_cases_and_back() {
    let t = TestApp::new().await;
    let matter = t.matter_named("企业开办一件事").await;
    let agent = t.resident("13837512345").await;
    let r = t
        .s_post(
            "/api/v1/applications",
            &agent,
            &json!({
                "matter_code": matter["code"],
                "form": fill_form(&matter),
                "materials": required_uploads(&matter),
                "for_entity": backend::service::people_seed::DEMO_USCC,
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let case = r.json["case_number"].as_str().unwrap().to_owned();
    let wangl = t.clerk_login("wangl").await;
    let r = act(&t, &wangl, &case, "accept", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);

    let lead = t.clerk_get(&format!("/clerk/cases/{case}"), &wangl).await;
    assert!(lead.text.contains("并联审批"), "{}", lead.text);
    assert!(lead.text.contains("id=\"subcases\""));
    assert!(lead.text.contains("平顶山市卫东区鹰城味道餐饮有限公司"));
    // The police sub-case: linked from the lead, and linking back.
    let police = t.staff("liuy").await;
    let view = t
        .s_get(&format!("/api/v1/cases/{case}"), &police)
        .await
        .json;
    let sub = view["subcases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["department"] == "平顶山市公安局卫东分局")
        .expect("a police sub-case")["case_number"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(lead.text.contains(&format!("href=\"/clerk/cases/{sub}\"")));
    let liuy = t.clerk_login("liuy").await;
    let page = t.clerk_get(&format!("/clerk/cases/{sub}"), &liuy).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"lead\""));
    assert!(page.text.contains(&format!("href=\"/clerk/cases/{case}\"")));
    assert!(lists(&t.clerk_get("/clerk/inbox/todo", &liuy).await, &sub));
}
