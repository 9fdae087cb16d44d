//! The administration pages in a browser's shoes (cookie sessions, real
//! form bodies): a catalogue change through all four review stages, the
//! provincial import as an upload, staff accounts with their QR code shown
//! once, enabling and disabling, the holiday file, the audit log, and the
//! refusals of 三员分立.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use backend::app;
use backend::service::people_seed::DEMO_TOTP_SECRET;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::TestApp;
use crate::clerk::Page;

const BOUNDARY: &str = "----wd-admin-test-boundary";

/// One part of a multipart body: name, optional file name, content.
type PartSpec<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[PartSpec<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, content) in parts {
        out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = match filename {
            Some(f) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        out.extend_from_slice(disposition.as_bytes());
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The text of the textarea with this id.
fn textarea(page: &Page, id: &str) -> String {
    let key = format!("id=\"{id}\"");
    let at = page
        .text
        .find(&key)
        .unwrap_or_else(|| panic!("no textarea {id}:\n{}", page.text));
    let open = at + page.text[at..].find('>').unwrap() + 1;
    let close = open + page.text[open..].find("</textarea>").unwrap();
    unescape(&page.text[open..close])
}

/// The text of the element with this id (up to the next tag).
fn element_text(page: &Page, id: &str) -> String {
    let key = format!("id=\"{id}\"");
    let at = page
        .text
        .find(&key)
        .unwrap_or_else(|| panic!("no element {id}:\n{}", page.text));
    let at = at + page.text[at..].find('>').unwrap() + 1;
    let end = at + page.text[at..].find('<').unwrap();
    unescape(&page.text[at..end])
}

fn staff_form<'a>(
    csrf: &'a str,
    user: &'a str,
    role: &'a str,
    password: &'a str,
) -> [(&'a str, &'a str); 6] {
    [
        ("csrf", csrf),
        ("username", user),
        ("display_name", "李霞"),
        ("department", "卫东区民政局"),
        ("roles", role),
        ("password", password),
    ]
}

fn is_forbidden_page(p: &Page) -> bool {
    p.status == StatusCode::FORBIDDEN
        && p.text.contains("无权进行此操作")
        && p.text.contains("You are not allowed to do this")
}

impl TestApp {
    /// A multipart POST with a cookie.
    async fn admin_upload(&self, uri: &str, cookie: &str, parts: &[PartSpec<'_>]) -> Page {
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, cookie)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(multipart(parts)))
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

    /// Logs in through the clerk forms with any password and TOTP secret;
    /// `None` when the login is refused.
    async fn admin_login_with(
        &self,
        username: &str,
        password: &str,
        secret: &str,
    ) -> Option<String> {
        self.clock.advance(chrono::Duration::seconds(31));
        let r = self
            .clerk_send(
                Method::POST,
                "/clerk/login",
                None,
                Some(&[("username", username), ("password", password)]),
            )
            .await;
        if r.status != StatusCode::OK {
            return None;
        }
        let pending = r.field("pending_token");
        let code = auth::totp::code_at(
            &auth::totp::Secret::from_base32(secret).unwrap(),
            self.state.now().timestamp(),
        );
        let r = self
            .clerk_send(
                Method::POST,
                "/clerk/login/totp",
                None,
                Some(&[("pending_token", &pending), ("code", &code)]),
            )
            .await;
        (r.status == StatusCode::SEE_OTHER)
            .then(|| r.header(header::SET_COOKIE))
            .map(|c| c.split(';').next().unwrap().to_owned())
    }

    /// Decides the current stage of `code` through its admin page.
    async fn admin_review(&self, cookie: &str, code: &str, decision: &str, opinion: &str) -> Page {
        let page = self
            .clerk_get(&format!("/admin/matters/{code}"), cookie)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert!(
            page.text.contains("id=\"review-pass\"") && page.text.contains("id=\"review-reject\""),
            "no review form: {}",
            page.text
        );
        let action_key = "id=\"review-form\"";
        assert!(page.text.contains(action_key));
        let start = page.text.find("action=\"/admin/matters/").unwrap() + "action=\"".len();
        let len = page.text[start..].find('"').unwrap();
        let action = unescape(&page.text[start..start + len]);
        let csrf = page.field("csrf");
        self.clerk_post(
            &action,
            cookie,
            &[
                ("csrf", &csrf),
                ("decision", decision),
                ("opinion", opinion),
            ],
        )
        .await
    }
}

#[tokio::test]
async fn a_catalogue_change_passes_all_four_stages_through_the_pages() {
    let t = TestApp::new().await;
    let code = t.matter_code("无犯罪记录证明").await;
    let live: Value = t.get(&format!("/api/v1/matters/{code}")).await.json;
    let old_version = live["version"].as_u64().unwrap();

    let songc = t.clerk_login("songc").await;
    let form = t
        .clerk_get(&format!("/admin/matters/{code}/change"), &songc)
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let text = textarea(&form, "guide");
    let mut guide: Value = serde_json::from_str(&text).expect("the form holds the current guide");
    assert_eq!(guide["code"], code.as_str());
    assert!(text.contains("\n  \""), "pretty-printed: {text}");
    let csrf = form.field("csrf");

    // A broken guide comes back with the line at fault and the text kept.
    let broken = text.replacen("\"name\"", "\"name\" oops", 1);
    let r = t
        .clerk_post(
            &format!("/admin/matters/{code}/change"),
            &songc,
            &[
                ("csrf", &csrf),
                ("change_kind", "change"),
                ("guide", &broken),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains("行") && r.text.contains("列有误"),
        "{}",
        r.text
    );
    assert_eq!(textarea(&r, "guide"), broken);

    let hours = "周一至周六 上午8:30—12:00，下午14:30—17:30（周六上午延时服务）";
    guide["hours"] = json!(hours);
    let new_text = serde_json::to_string_pretty(&guide).unwrap();
    let r = t
        .clerk_post(
            &format!("/admin/matters/{code}/change"),
            &songc,
            &[
                ("csrf", &csrf),
                ("change_kind", "change"),
                ("guide", &new_text),
                ("opinion", "增加周六延时服务"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.location(),
        format!("/admin/matters/{code}?done=registered")
    );
    let version = old_version + 1;

    // 编办's pending list has it; the list shows it under review.
    let list = t.clerk_get("/admin/matters", &songc).await;
    assert!(
        list.text.contains("id=\"pending\"")
            && list.text.contains(&format!("data-code=\"{code}\"")),
        "{}",
        list.text
    );

    // Reviewers see what the version changes.
    let detail = t.clerk_get(&format!("/admin/matters/{code}"), &songc).await;
    assert!(
        detail
            .text
            .contains("与现行版本相比变更的字段：<strong>hours</strong>"),
        "{}",
        detail.text
    );

    let tangx = t.clerk_login("tangx").await;
    let fengy = t.clerk_login("fengy").await;
    // The legal review cannot go first: 司法局 sees no form yet.
    let early = t.clerk_get(&format!("/admin/matters/{code}"), &tangx).await;
    assert_eq!(early.status, StatusCode::OK);
    assert!(!early.text.contains("id=\"review-pass\""), "{}", early.text);
    // An empty opinion is refused with the form shown again.
    let r = t.admin_review(&songc, &code, "pass", "").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("id=\"review-pass\""));

    for (who, done) in [
        (&songc, "pass"),
        (&tangx, "pass"),
        (&fengy, "pass"),
        (&songc, "publish"),
    ] {
        // Not live before the last stage.
        let guide_page = t.get(&format!("/matters/{code}")).await;
        assert!(guide_page.text.contains(&format!("第 {old_version} 版")));
        let r = t.admin_review(who, &code, "pass", "经审核，同意").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert_eq!(r.location(), format!("/admin/matters/{code}?done={done}"));
    }

    // The public guide shows the new version and its content.
    let guide_page = t.get(&format!("/matters/{code}")).await;
    assert!(
        guide_page.text.contains(&format!("第 {version} 版")),
        "{}",
        guide_page.text
    );
    assert!(guide_page.text.contains("周六上午延时服务"));
    // The trail: every step with who and the opinion, and no form left.
    let page = t
        .clerk_get(&format!("/admin/matters/{code}?done=publish"), &songc)
        .await;
    assert!(page.text.contains("已发布，新版本现已生效"));
    assert!(!page.text.contains("id=\"review-pass\""));
    let block_start = page
        .text
        .find(&format!("id=\"version-{version}\""))
        .unwrap();
    let block = &page.text[block_start..];
    let block = &block[..block.find("</section>").unwrap()];
    for step in ["登记", "审核", "合法性审查", "廉政风险审核", "发布"] {
        assert!(
            block.contains(&format!("<td>{step}</td>")),
            "{step}: {block}"
        );
    }
    for who in ["songc", "tangx", "fengy"] {
        assert!(block.contains(&format!("<td>{who}</td>")), "{who}");
    }
    assert!(block.contains("增加周六延时服务") && block.contains("经审核，同意"));
    assert!(page.text.contains(&format!("第{old_version}版 · ")));
    assert!(page.text.contains("已被替代"));
}

#[tokio::test]
async fn a_clerk_is_refused_and_a_stranger_is_sent_to_the_login() {
    let t = TestApp::new().await;
    let code = t.matter_code("无犯罪记录证明").await;
    let r = t.clerk_send(Method::GET, "/admin/staff", None, None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/clerk/login");

    let gaoj = t.clerk_login("gaoj").await;
    for uri in [
        "/admin".to_owned(),
        "/admin/matters".to_owned(),
        "/admin/matters/new".to_owned(),
        "/admin/matters/import".to_owned(),
        format!("/admin/matters/{code}/change"),
        format!("/admin/matters/{code}"),
        "/admin/staff".to_owned(),
        "/admin/holidays".to_owned(),
        "/admin/audit".to_owned(),
    ] {
        let p = t.clerk_get(&uri, &gaoj).await;
        assert!(is_forbidden_page(&p), "{uri}: {} {}", p.status, p.text);
    }
    // Posting the change form with a valid token changes nothing.
    let inbox = t.clerk_get("/clerk/inbox/todo", &gaoj).await;
    let csrf = inbox.field("csrf");
    let guide = t.get(&format!("/api/v1/matters/{code}")).await.json;
    let p = t
        .clerk_post(
            &format!("/admin/matters/{code}/change"),
            &gaoj,
            &[
                ("csrf", &csrf),
                ("change_kind", "suspend"),
                ("guide", &guide.to_string()),
            ],
        )
        .await;
    assert!(is_forbidden_page(&p), "{}", p.text);
    let p = t
        .clerk_post(
            "/admin/staff",
            &gaoj,
            &[
                ("csrf", &csrf),
                ("username", "sneaky"),
                ("display_name", "某某"),
                ("department", "卫东区民政局"),
                ("roles", "reviewer"),
                ("password", "Minzheng#2026a"),
            ],
        )
        .await;
    assert!(is_forbidden_page(&p), "{}", p.text);
    let count: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM matter_version WHERE code = ?1",
            [&code],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 1);

    // A supervisor reads the catalogue but may not change it.
    let lind = t.clerk_login("lind").await;
    let p = t.clerk_get("/admin/matters", &lind).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(p.text.contains("id=\"read-only\"") && !p.text.contains("id=\"matter-new\""));
    assert!(p.text.contains(&format!("data-code=\"{code}\"")));
    let p = t.clerk_get(&format!("/admin/matters/{code}"), &lind).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(!p.text.contains("id=\"matter-change\""));
    let p = t
        .clerk_get(&format!("/admin/matters/{code}/change"), &lind)
        .await;
    assert!(is_forbidden_page(&p));
    let index = t.clerk_get("/admin", &lind).await;
    assert!(
        index.text.contains("id=\"section-matters\"")
            && index.text.contains("id=\"section-audit\"")
    );
    assert!(!index.text.contains("id=\"section-staff\""));
}

#[tokio::test]
async fn a_system_admin_creates_staff_sees_the_qr_once_and_disables_them() {
    let t = TestApp::new().await;
    let dengk = t.clerk_login("dengk").await;
    let index = t.clerk_get("/admin", &dengk).await;
    assert!(
        index.text.contains("id=\"section-staff\"")
            && index.text.contains("id=\"section-holidays\"")
    );
    assert!(!index.text.contains("id=\"section-audit\""), "三员分立");
    let page = t.clerk_get("/admin/staff", &dengk).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"staff-create\""));
    assert!(page.text.contains("<option value=\"卫东区民政局\""));
    assert!(page.text.contains("data-user=\"gaoj\"") && page.text.contains("窗口受理"));
    assert!(
        !page.text.contains("value=\"system_admin\"")
            && !page.text.contains("value=\"audit_admin\"")
    );
    let csrf = page.field("csrf");

    // 三员分立: an admin role cannot be granted here; the form comes back.
    let r = t
        .clerk_post(
            "/admin/staff",
            &dengk,
            &staff_form(&csrf, "boss", "audit_admin", "Minzheng#2026a"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("id=\"staff-create\"") && r.text.contains("value=\"boss\""));
    let r = t
        .clerk_post(
            "/admin/staff",
            &dengk,
            &staff_form(&csrf, "weak", "reviewer", "Password123"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("密码强度不足"));
    assert!(
        !r.text.contains("Password123"),
        "the password is never echoed"
    );

    let r = t
        .clerk_post(
            "/admin/staff",
            &dengk,
            &staff_form(&csrf, "lixia", "reviewer", "Minzheng#2026a"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("<svg id=\"totp-qr\""), "{}", r.text);
    assert!(r.text.contains("<path"), "the QR code has modules");
    assert!(!r.text.contains("<?xml"));
    let secret = element_text(&r, "totp-secret");
    assert_eq!(secret.len(), DEMO_TOTP_SECRET.len(), "{secret}");
    assert_ne!(secret, DEMO_TOTP_SECRET);
    let uri = element_text(&r, "otpauth-uri");
    assert!(
        uri.starts_with("otpauth://totp/") && uri.contains(&secret),
        "{uri}"
    );

    // The secret is not on the list page: it was shown once.
    let list = t.clerk_get("/admin/staff", &dengk).await;
    assert!(list.text.contains("data-user=\"lixia\""));
    assert!(!list.text.contains(&secret));

    // The new reviewer logs in with their own code.
    let lixia = t
        .admin_login_with("lixia", "Minzheng#2026a", &secret)
        .await
        .expect("the new account logs in");
    let r = t.clerk_get("/clerk/inbox/todo", &lixia).await;
    assert_eq!(r.status, StatusCode::OK);

    // Disabling ends the session and refuses the next login.
    let r = t
        .clerk_post(
            "/admin/staff/lixia/active",
            &dengk,
            &[("csrf", &csrf), ("active", "0")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), "/admin/staff?done=disabled");
    let list = t.clerk_get("/admin/staff?done=disabled", &dengk).await;
    assert!(list.text.contains("账号已停用"));
    let row_start = list.text.find("data-user=\"lixia\"").unwrap();
    let row = &list.text[row_start..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("停用") && row.contains("id=\"enable-lixia\""),
        "{row}"
    );
    let r = t.clerk_get("/clerk/inbox/todo", &lixia).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/clerk/login");
    assert!(
        t.admin_login_with("lixia", "Minzheng#2026a", &secret)
            .await
            .is_none()
    );
    // Without the form's token nothing happens.
    let r = t
        .clerk_post(
            "/admin/staff/lixia/active",
            &dengk,
            &[("csrf", "forged"), ("active", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Enabling again lets them in.
    let r = t
        .clerk_post(
            "/admin/staff/lixia/active",
            &dengk,
            &[("csrf", &csrf), ("active", "1")],
        )
        .await;
    assert_eq!(r.location(), "/admin/staff?done=enabled");
    assert!(
        t.admin_login_with("lixia", "Minzheng#2026a", &secret)
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_bad_holiday_file_names_its_line_and_a_good_one_is_listed() {
    let t = TestApp::new().await;
    let dengk = t.clerk_login("dengk").await;
    let page = t.clerk_get("/admin/holidays", &dengk).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(!page.text.contains("data-year=\"2027\""));
    assert!(
        page.text.contains("<td>2026</td><td>国务院办公厅"),
        "built-in years listed"
    );
    let csrf = page.field("csrf");

    let bad =
        "year = 2027\nsource = \"测试\"\n[[holiday]]\nname = \"元旦\"\ndays = [\"2026-01-01\"]\n";
    let r = t
        .admin_upload(
            "/admin/holidays",
            &dengk,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("toml", None, bad.as_bytes()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("第5行"), "{}", r.text);
    assert_eq!(textarea(&r, "holiday-toml"), bad, "the text is kept");

    let good = "year = 2027\nsource = \"测试\"\n[[holiday]]\nname = \"元旦\"\n\
                days = [\"2027-01-01\"]\nworkdays = [\"2027-01-09\"]\n";
    let r = t
        .admin_upload(
            "/admin/holidays",
            &dengk,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("2027.toml"), good.as_bytes()),
                ("toml", None, b""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("已导入，共 2 天"), "{}", r.text);
    assert!(
        r.text
            .contains("<tr data-year=\"2027\"><td>2027</td><td>1</td><td>1</td></tr>"),
        "{}",
        r.text
    );
    // Only the system administrator.
    let songc = t.clerk_login("songc").await;
    let r = t
        .admin_upload(
            "/admin/holidays",
            &songc,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("toml", None, good.as_bytes()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_page_is_for_the_audit_admin_and_shows_tampering() {
    let t = TestApp::new().await;
    let caon = t.clerk_login("caon").await;
    let p = t.clerk_get("/admin/audit", &caon).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let verdict = element_text(&p, "audit-verdict");
    assert!(verdict.starts_with("审计链完整"), "{verdict}");
    // caon's own login is the newest row.
    let first_row = &p.text[p.text.find("<tbody>").unwrap()..];
    assert!(first_row.contains("staff:caon"), "{first_row}");
    // Paging: ?before= shows older rows only.
    let p = t.clerk_get("/admin/audit?before=3", &caon).await;
    assert!(p.text.contains("data-id=\"2\"") && p.text.contains("data-id=\"1\""));
    assert!(!p.text.contains("data-id=\"3\""));
    assert!(p.text.contains("id=\"audit-newest\""));

    // 三员分立: the system administrator does not read the audit log.
    let dengk = t.clerk_login("dengk").await;
    let p = t.clerk_get("/admin/audit", &dengk).await;
    assert!(is_forbidden_page(&p), "{}", p.text);

    let conn = t.db();
    conn.execute_batch("DROP TRIGGER audit_log_no_update;")
        .unwrap();
    conn.execute(
        "UPDATE audit_log SET detail = detail || ' ' WHERE id = 2",
        [],
    )
    .unwrap();
    let p = t.clerk_get("/admin/audit", &caon).await;
    let verdict = element_text(&p, "audit-verdict");
    assert!(verdict.contains("已被篡改，第 2 条"), "{verdict}");
}

#[tokio::test]
async fn the_provincial_import_is_an_upload_larger_than_the_usual_limit() {
    let t = TestApp::new().await;
    let songc = t.clerk_login("songc").await;
    let page = t.clerk_get("/admin/matters/import", &songc).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("enctype=\"multipart/form-data\""));
    let csrf = page.field("csrf");
    let mut changed = t.matter_named("出生登记").await;
    changed["hours"] = json!("周一至周五 上午8:30—12:00，下午14:30—17:30（含延时服务）");
    let unchanged = t.matter_named("结婚登记").await;
    let file = json!({
        "format": "weidong-matter-library/1",
        "source": "河南省政务服务事项库",
        "exported_at": "2026-11-27T08:00:00+08:00",
        "matters": [changed, unchanged],
    });
    // Padded past the 1 MiB limit of other requests.
    let mut bytes = serde_json::to_vec_pretty(&file).unwrap();
    bytes.extend(std::iter::repeat_n(b' ', 1536 * 1024));
    let r = t
        .admin_upload(
            "/admin/matters/import",
            &songc,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("library.json"), &bytes),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(element_text(&r, "import-added"), "0");
    assert_eq!(element_text(&r, "import-changed"), "1");
    assert_eq!(element_text(&r, "import-unchanged"), "1");
    assert!(r.text.contains(changed["code"].as_str().unwrap()));

    // Not a library file: the message, and nothing imported.
    let r = t
        .admin_upload(
            "/admin/matters/import",
            &songc,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("x.json"), b"{\"format\": 1}"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("不是有效的事项库文件"));
    // Elsewhere the usual limit holds.
    let dengk = t.clerk_login("dengk").await;
    let r = t
        .admin_upload(
            "/admin/holidays",
            &dengk,
            &[
                ("csrf", None, csrf.as_bytes()),
                ("file", Some("big.toml"), &bytes),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
}
