//! What the kiosk's apply / track / guide / call-staff screens need: kiosk
//! submissions with materials, an agent and the identity check; receipt
//! track codes and the public track page; alerts staff acknowledge; the
//! correction supplied at a kiosk; the catalogue with the idle screen's
//! notices.

use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::workflow::{PNG, b64};
use crate::{LI_XIUYING, TestApp, WANG_HAORAN, ZHANG_WEI, ZHAO_GUILAN};

/// A minimal JPEG header (the magic number is what the backend checks).
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
];
/// A minimal PDF header.
const PDF: &[u8] = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj <<>> endobj\n%%EOF\n";

fn material(name: &str, mime: &str, bytes: &[u8]) -> Value {
    let ext = match mime {
        "image/jpeg" => "jpg",
        "application/pdf" => "pdf",
        _ => "png",
    };
    json!({"name": name, "file_name": format!("{name}.{ext}"), "mime": mime, "pages": 1, "data_base64": b64(bytes)})
}

/// 赵桂兰's 高龄津贴 (a matter that asks for 人证核验), filed by 张伟 as
/// her agent with a fingerprint check.
fn elderly_allowance(key: &str, code: &str) -> Value {
    json!({
        "idempotency_key": key,
        "matter_code": code,
        "applicant": {"name": "赵桂兰", "id_type": "111", "id_number": ZHAO_GUILAN, "phone": "13523756789"},
        "agent": {"name": "张伟", "id_type": "111", "id_number": ZHANG_WEI, "phone": "13837512345"},
        "form": {"bank": "中国邮政储蓄银行", "agent": "子女", "agent_phone": "13837512345"},
        "materials": [
            material("老年人居民身份证", "image/png", PNG),
            material("居民户口簿", "application/pdf", PDF),
            material("社会保障卡或本人银行账户", "image/jpeg", JPEG),
        ],
        "identity": {"method": "id_card_fingerprint", "fingerprint_score": 87}
    })
}

/// 无犯罪记录证明 by 王浩然 himself (no fingerprint asked).
fn no_record(key: &str, code: &str) -> Value {
    json!({
        "idempotency_key": key,
        "matter_code": code,
        "applicant": {"name": "王浩然", "id_type": "111", "id_number": WANG_HAORAN},
        "form": {"purpose": "应聘", "receiver": "平顶山市某科技有限公司"},
        "materials": [
            material("申请人居民身份证", "image/png", PNG),
            material("犯罪记录查询申请表", "image/jpeg", JPEG),
        ],
        "identity": {"method": "id_card"}
    })
}

fn is_track_code(s: &str) -> bool {
    s.len() == 10
        && s.bytes()
            .all(|b| b"23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(&b))
}

impl TestApp {
    fn one_i64(&self, sql: &str, p: &str) -> i64 {
        self.db().query_row(sql, [p], |r| r.get(0)).unwrap()
    }

    fn one_text(&self, sql: &str, p: &str) -> Option<String> {
        self.db().query_row(sql, [p], |r| r.get(0)).unwrap()
    }

    /// The seeded case of an applicant (their only one).
    fn seeded_case_of(&self, id_number: &str) -> (String, String) {
        self.db()
            .query_row(
                "SELECT case_number, track_code FROM case_record WHERE applicant_id_number = ?1",
                [id_number],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> crate::Reply {
        let mut b = Request::builder().method(Method::GET).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.send(b.body(axum::body::Body::empty()).unwrap()).await
    }
}

#[tokio::test]
async fn a_kiosk_files_materials_an_agent_and_the_fingerprint_check() {
    let t = TestApp::new().await;
    let token = t.enrol().await;
    let code = t.matter_code("高龄津贴申领").await;

    // The matter asks for 人证核验: the ID card alone is refused unless the
    // person chose not to use a fingerprint.
    let mut card_only = elderly_allowance("k-card", &code);
    card_only["identity"] = json!({"method": "id_card"});
    let r = t.post("/api/v1/cases", Some(&token), &card_only).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.code(), "FINGERPRINT_REQUIRED");
    assert!(r.json["message_zh"].as_str().unwrap().contains("指纹"));
    card_only.as_object_mut().unwrap().remove("identity");
    let r = t.post("/api/v1/cases", Some(&token), &card_only).await;
    assert_eq!(r.code(), "FINGERPRINT_REQUIRED");
    // The agent cannot be the applicant.
    let mut own_agent = elderly_allowance("k-self", &code);
    own_agent["agent"]["id_number"] = json!(ZHAO_GUILAN);
    let r = t.post("/api/v1/cases", Some(&token), &own_agent).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("agent.id_number"), "{}", r.text);

    let first = t
        .post(
            "/api/v1/cases",
            Some(&token),
            &elderly_allowance("k-1", &code),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let number = first.json["case_number"].as_str().unwrap().to_owned();
    let track = first.json["track_code"].as_str().unwrap().to_owned();
    assert!(is_track_code(&track), "{track}");
    // A replay answers the same track code.
    let replay = t
        .post(
            "/api/v1/cases",
            Some(&token),
            &elderly_allowance("k-1", &code),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json, first.json);
    // A declined fingerprint is accepted and recorded as such.
    let mut declined = elderly_allowance("k-2", &code);
    declined["identity"] = json!({"method": "id_card", "biometric_declined": true});
    let second = t.post("/api/v1/cases", Some(&token), &declined).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text);
    assert_ne!(second.json["track_code"], first.json["track_code"]);

    // Stored like web uploads, both identities recorded.
    let q = "SELECT COUNT(*) FROM case_material m JOIN case_record c ON c.id = m.case_id \
             WHERE c.case_number = ?1 AND m.round = 0 AND m.source = 'upload'";
    assert_eq!(t.one_i64(q, &number), 3);
    let types: Vec<String> = t
        .db()
        .prepare(
            "SELECT media_type FROM case_material m JOIN case_record c ON c.id = m.case_id \
             WHERE c.case_number = ?1 ORDER BY m.id",
        )
        .unwrap()
        .query_map([&number], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(types, ["image/png", "application/pdf", "image/jpeg"]);
    assert_eq!(
        t.one_text(
            "SELECT agent_id_number FROM case_record WHERE case_number = ?1",
            &number
        )
        .as_deref(),
        Some(ZHANG_WEI)
    );
    assert_eq!(
        t.one_text(
            "SELECT identity_check FROM case_record WHERE case_number = ?1",
            &number
        )
        .as_deref(),
        Some("代办员 身份证+指纹核验（比对分 87）")
    );

    // The clerk of the street sees the check, the agent masked, the materials.
    let xuf = t.clerk_login("xuf").await;
    let page = t.clerk_get(&format!("/clerk/cases/{number}"), &xuf).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text.contains(
            "<dt>身份核验</dt><dd id=\"case-identity\">代办员 身份证+指纹核验（比对分 87）</dd>"
        ),
        "{}",
        page.text
    );
    assert!(page.text.contains("<dt>代办人</dt><dd>张*</dd>"));
    assert!(page.text.contains("由代办员张*通过自助终端代为提交"));
    for name in ["老年人居民身份证", "居民户口簿", "社会保障卡或本人银行账户"]
    {
        assert!(page.text.contains(name), "{name}");
    }
    assert!(!page.text.contains(ZHANG_WEI));
    let n2 = second.json["case_number"].as_str().unwrap();
    let page = t.clerk_get(&format!("/clerk/cases/{n2}"), &xuf).await;
    assert!(
        page.text
            .contains("身份证（本人选择不使用指纹，请受理时核验身份）"),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn kiosk_materials_are_checked_like_the_web_ones() {
    let t = TestApp::new().await;
    let token = t.enrol().await;
    let code = t.matter_code("无犯罪记录证明").await;
    let refused = |r: &crate::Reply, code: &str, field: &str| {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.code(), code, "{}", r.text);
        assert!(r.text.contains(field), "{field}: {}", r.text);
    };

    let mut bad = no_record("a", &code);
    bad["materials"][0]["data_base64"] = json!("not base64!");
    let r = t.post("/api/v1/cases", Some(&token), &bad).await;
    refused(&r, "INVALID_FIELD", "materials.data_base64");
    assert!(r.json["message_zh"].as_str().unwrap().contains("base64"));

    let mut lying = no_record("b", &code);
    lying["materials"][0]["mime"] = json!("image/jpeg");
    let r = t.post("/api/v1/cases", Some(&token), &lying).await;
    refused(&r, "INVALID_FIELD", "materials.mime");

    let mut text = no_record("c", &code);
    text["materials"][0]["data_base64"] = json!(b64(b"just some text"));
    let r = t.post("/api/v1/cases", Some(&token), &text).await;
    refused(&r, "INVALID_FIELD", "materials");

    let mut stranger = no_record("d", &code);
    stranger["materials"][1]["name"] = json!("营业执照");
    let r = t.post("/api/v1/cases", Some(&token), &stranger).await;
    refused(&r, "INVALID_FIELD", "materials");

    let mut missing = no_record("e", &code);
    missing["materials"] = json!([]);
    let r = t.post("/api/v1/cases", Some(&token), &missing).await;
    refused(&r, "MATERIAL_MISSING", "申请人居民身份证");

    // One file over 10 MiB; three that together pass 12 MiB.
    let mut big = vec![0u8; 10 * 1024 * 1024 + 10];
    big[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
    let mut huge = no_record("f", &code);
    huge["materials"][1] = material("犯罪记录查询申请表", "image/jpeg", &big);
    let r = t.post("/api/v1/cases", Some(&token), &huge).await;
    refused(&r, "INVALID_FIELD", "materials.data_base64");
    big.truncate(4 * 1024 * 1024 + 100 * 1024);
    let mut many = no_record("g", &code);
    many["materials"] = json!([
        material("申请人居民身份证", "image/jpeg", &big),
        material("犯罪记录查询申请表", "image/jpeg", &big),
        material("授权委托书及受托人居民身份证", "image/jpeg", &big),
    ]);
    let r = t.post("/api/v1/cases", Some(&token), &many).await;
    refused(&r, "INVALID_FIELD", "materials");
    assert!(r.json["message_zh"].as_str().unwrap().contains("12MB"));

    // A body past 17 MiB is cut off before it is read.
    let oversized = format!(
        "{{\"idempotency_key\":\"h\",\"pad\":\"{}\"}}",
        "A".repeat(17 * 1024 * 1024 + 1)
    );
    let r = t
        .post_raw(
            "/api/v1/cases",
            Some(&token),
            Some("application/json"),
            oversized,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Nothing was filed; a 3 MiB capture (over the 1 MiB of other routes) is.
    let kiosk_cases = "SELECT COUNT(*) FROM case_record WHERE channel = ?1";
    assert_eq!(t.one_i64(kiosk_cases, "kiosk"), 3, "the seeded ones only");
    big.truncate(3 * 1024 * 1024);
    let mut ok = no_record("i", &code);
    ok["materials"][1] = material("犯罪记录查询申请表", "image/jpeg", &big);
    let r = t.post("/api/v1/cases", Some(&token), &ok).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let size = t.one_i64(
        "SELECT MAX(size) FROM case_material m JOIN case_record c ON c.id = m.case_id \
         WHERE c.case_number = ?1",
        r.json["case_number"].as_str().unwrap(),
    );
    assert_eq!(size, 3 * 1024 * 1024);
}

#[tokio::test]
async fn every_case_has_a_track_code_that_opens_its_progress() {
    let t = TestApp::new().await;
    // Seeded, web and window cases have one too, all different.
    let resident = t.resident("13837512345").await;
    let web = t
        .apply(&resident, &t.matter_named("无犯罪记录证明").await)
        .await;
    let codes: Vec<Option<String>> = t
        .db()
        .prepare("SELECT track_code FROM case_record")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(codes.len() >= 5);
    let mut seen = std::collections::HashSet::new();
    for c in &codes {
        let c = c.as_deref().unwrap_or("");
        assert!(is_track_code(c), "{c:?}");
        assert!(seen.insert(c.to_owned()), "duplicate {c}");
    }
    assert!(
        t.one_text(
            "SELECT track_code FROM case_record WHERE case_number = ?1",
            &web
        )
        .is_some()
    );
    // Rows without one (as before migration 5) get one.
    t.db()
        .execute("UPDATE case_record SET track_code = NULL", [])
        .unwrap();
    let filled = t
        .state
        .store
        .write(|tx| tx.fill_missing_track_codes())
        .await
        .unwrap();
    assert_eq!(filled, codes.len());
    let missing: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM case_record WHERE track_code IS NULL OR length(track_code) <> 10",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(missing, 0);

    let token = t.enrol().await;
    let code = t.matter_code("无犯罪记录证明").await;
    let created = t
        .post("/api/v1/cases", Some(&token), &no_record("t-1", &code))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let number = created.json["case_number"].as_str().unwrap();
    let track = created.json["track_code"].as_str().unwrap();
    assert_eq!(
        t.one_text(
            "SELECT track_code FROM case_record WHERE case_number = ?1",
            number
        )
        .as_deref(),
        Some(track)
    );
    let progress = |body: Value| {
        let t = &t;
        let token = token.clone();
        async move { t.post("/api/v1/cases/progress", Some(&token), &body).await }
    };
    let r =
        progress(json!({"case_number": number, "track_code": track.to_ascii_lowercase()})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["case"]["case_number"], number);
    assert_eq!(r.json["steps"][0]["step_name"], "申请");
    // A wrong code reads exactly like a wrong ID ending.
    let first_char = if track.starts_with('2') { "3" } else { "2" };
    let wrong_code = format!("{first_char}{}", &track[1..]);
    let a = progress(json!({"case_number": number, "track_code": wrong_code})).await;
    let b = progress(json!({"case_number": number, "id_last6": "000000"})).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.text, b.text);
    let r = progress(json!({"case_number": number, "track_code": "O0O0O0O0O0"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("track_code"));
    let r = progress(json!({"case_number": number, "id_last6": &WANG_HAORAN[12..]})).await;
    assert_eq!(r.status, StatusCode::OK);
    let audited = t.one_i64(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'case.progress' AND detail LIKE ?1",
        "%via=track_code",
    );
    assert_eq!(
        audited, 2,
        "the malformed query is refused before the lookup"
    );
}

#[tokio::test]
async fn the_public_track_page_opens_from_the_receipt_qr_and_locks_guessing() {
    let t = TestApp::new().await;
    let home = t.get("/").await;
    assert!(
        home.text.contains("href=\"/track\""),
        "the home page links it"
    );

    let form = t.get("/track").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("id=\"track-form\" method=\"post\""));
    assert!(form.text.contains("办件进度查询") && form.text.contains("Track a case"));
    assert!(!form.text.contains("<script"));

    // The QR link opens 李秀英's timeline with what she must supply.
    let (number, code) = t.seeded_case_of(LI_XIUYING);
    let r = t.get(&format!("/track?case={number}&code={code}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    for want in [
        "id=\"track-timeline\"",
        "待补正",
        "最低生活保障申请书",
        "通过自助终端提交申请",
        "办理过程",
    ] {
        assert!(r.text.contains(want), "{want}: {}", r.text);
    }
    assert!(!r.text.contains(LI_XIUYING) && !r.text.contains("李秀英"));
    // Prefilled form from a link without a code.
    let r = t.get(&format!("/track?case={number}")).await;
    assert!(r.text.contains(&format!("value=\"{number}\"")));

    // The form: case number and ID ending, by POST.
    let last6 = &LI_XIUYING[12..];
    let ok = t
        .clerk_send(
            Method::POST,
            "/track",
            None,
            Some(&[("case", &number), ("id_last6", last6)]),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.text.contains("id=\"track-timeline\""));
    let wrong = t
        .clerk_send(
            Method::POST,
            "/track",
            None,
            Some(&[("case", &number), ("id_last6", "999999")]),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    assert!(wrong.text.contains("id=\"track-form\""));
    let unknown = t
        .clerk_send(
            Method::POST,
            "/track",
            None,
            Some(&[("case", "41040320990101000001"), ("id_last6", "999999")]),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.text.replace("41040320990101000001", &number),
        wrong.text,
        "a wrong answer reads like an unknown case"
    );

    // Ten wrong answers lock the number for an hour, even for the right one.
    for _ in 0..9 {
        let r = t
            .get(&format!("/track?case={number}&code=23456789AB"))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let locked = t.get(&format!("/track?case={number}&code={code}")).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    assert!(locked.text.contains("操作过于频繁"));
    t.clock.advance(chrono::Duration::minutes(61));
    let again = t.get(&format!("/track?case={number}&code={code}")).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn alerts_reach_maintenance_and_window_clerks_who_acknowledge_them() {
    let t = TestApp::new().await;
    let token = t.enrol().await;
    let alert = |kind: &str, screen: &str| json!({"kind": kind, "screen": screen, "detail": "设备 receipt_printer"});
    let r = t
        .post("/api/v1/kiosks/alerts", None, &alert("call_staff", "home"))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = t
        .post(
            "/api/v1/kiosks/alerts",
            Some(&token),
            &alert("print_failed", "apply/receipt"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let printed = r.json["id"].as_i64().unwrap();
    assert_eq!(r.json["at"], "2026-11-27T10:00:00+08:00");
    t.clock.advance(chrono::Duration::seconds(5));
    t.post(
        "/api/v1/kiosks/alerts",
        Some(&token),
        &alert("maintenance_entry", "maintenance"),
    )
    .await;
    t.clock.advance(chrono::Duration::seconds(5));
    let r = t
        .post(
            "/api/v1/kiosks/alerts",
            Some(&token),
            &alert("call_staff", "apply/materials"),
        )
        .await;
    let call = r.json["id"].as_i64().unwrap();
    let mut long = alert("call_staff", "home");
    long["detail"] = json!("长".repeat(201));
    let r = t.post("/api/v1/kiosks/alerts", Some(&token), &long).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("detail"));
    assert_eq!(
        t.one_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = ?1",
            "kiosk.alert"
        ),
        3
    );

    // Maintenance sees all three, newest first, in Chinese, with their age.
    t.clock.advance(chrono::Duration::minutes(2));
    let yangp = t.clerk_login("yangp").await;
    let page = t.clerk_get("/clerk/kiosks", &yangp).await;
    assert_eq!(page.status, StatusCode::OK);
    let pos = |s: &str| {
        page.text
            .find(s)
            .unwrap_or_else(|| panic!("{s}: {}", page.text))
    };
    assert!(pos("呼叫工作人员") < pos("进入维护模式"));
    assert!(pos("进入维护模式") < pos("打印失败"));
    assert!(page.text.contains("apply/materials") && page.text.contains("分钟前"));
    assert!(page.text.contains("卫东区政务服务中心大厅1号机"));

    // A window clerk sees the call for staff only, on the inbox.
    let gaoj = t.clerk_login("gaoj").await;
    let inbox = t.clerk_get("/clerk/inbox/todo", &gaoj).await;
    assert!(inbox.text.contains("呼叫工作人员"), "{}", inbox.text);
    assert!(!inbox.text.contains("打印失败"));
    let csrf = inbox.field("csrf");
    let r = t
        .clerk_post(
            &format!("/clerk/alerts/{printed}/ack"),
            &gaoj,
            &[("csrf", &csrf), ("back", "inbox")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .clerk_post(
            &format!("/clerk/alerts/{call}/ack"),
            &gaoj,
            &[("back", "inbox")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token, no change");
    let r = t
        .clerk_post(
            &format!("/clerk/alerts/{call}/ack"),
            &gaoj,
            &[("csrf", &csrf), ("back", "inbox")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/clerk/inbox/todo");
    let inbox = t.clerk_get("/clerk/inbox/todo", &gaoj).await;
    assert!(!inbox.text.contains("呼叫工作人员"));
    assert_eq!(
        t.one_text(
            "SELECT acknowledged_by FROM kiosk_alert WHERE kind = ?1",
            "call_staff"
        )
        .as_deref(),
        Some("staff:gaoj")
    );

    // The kiosk's history keeps the maintenance entry and the call.
    let kiosk_id = t
        .one_text("SELECT id FROM kiosk WHERE name LIKE ?1", "%1号机")
        .unwrap();
    assert!(page.text.contains(&format!("/clerk/kiosks/{kiosk_id}")));
    let history = t
        .clerk_get(&format!("/clerk/kiosks/{kiosk_id}"), &yangp)
        .await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(history.text.contains("进入维护模式") && history.text.contains("staff:gaoj"));
    assert_eq!(
        t.clerk_get(&format!("/clerk/kiosks/{kiosk_id}"), &gaoj)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // At most ten a minute per kiosk.
    for _ in 0..10 {
        let r = t
            .post(
                "/api/v1/kiosks/alerts",
                Some(&token),
                &alert("call_staff", "home"),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let r = t
        .post(
            "/api/v1/kiosks/alerts",
            Some(&token),
            &alert("call_staff", "home"),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "RATE_LIMITED");
    t.clock.advance(chrono::Duration::seconds(61));
    let r = t
        .post(
            "/api/v1/kiosks/alerts",
            Some(&token),
            &alert("call_staff", "home"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_applicant_supplies_a_correction_at_a_kiosk() {
    let t = TestApp::new().await;
    let token = t.enrol().await;
    let (number, _) = t.seeded_case_of(LI_XIUYING);
    let body = |key: &str, id: &str, name: &str| {
        json!({
            "idempotency_key": key,
            "case_number": number,
            "id_number": id,
            "materials": [material(name, "image/png", PNG)],
            "note": "已补充申请书"
        })
    };
    let url = "/api/v1/cases/correction";
    let other = t
        .post(
            url,
            Some(&token),
            &body("c-0", ZHANG_WEI, "最低生活保障申请书"),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let mut unknown = body("c-0", LI_XIUYING, "最低生活保障申请书");
    unknown["case_number"] = json!("41040320990101000001");
    let r = t.post(url, Some(&token), &unknown).await;
    assert_eq!(r.text, other.text, "one answer for both");
    let r = t
        .post(url, Some(&token), &body("c-0", LI_XIUYING, "居民户口簿"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "MATERIAL_MISSING");

    let ok = t
        .post(
            url,
            Some(&token),
            &body("c-1", LI_XIUYING, "最低生活保障申请书"),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    assert_eq!(ok.json["case"]["status"], "resubmitted");
    assert!(ok.json["correction_items"].as_array().unwrap().is_empty());
    let last = ok.json["steps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["opinion"], "已补充申请书");
    let (handler, round): (String, i64) = t
        .db()
        .query_row(
            "SELECT s.handler, (SELECT MAX(round) FROM case_material m WHERE m.case_id = c.id) \
             FROM case_step s JOIN case_record c ON c.id = s.case_id \
             WHERE c.case_number = ?1 ORDER BY s.seq DESC LIMIT 1",
            [&number],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(handler, "申请人（自助终端 卫东区政务服务中心大厅1号机）");
    assert_eq!(round, 1);
    assert_eq!(
        t.one_text(
            "SELECT role FROM audit_log WHERE action = 'case.resubmit' AND object = ?1",
            &format!("case:{number}")
        )
        .as_deref(),
        Some("applicant")
    );

    // A replay answers the same; the key for something else is refused.
    let replay = t
        .post(
            url,
            Some(&token),
            &body("c-1", LI_XIUYING, "最低生活保障申请书"),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json, ok.json);
    let mut changed = body("c-1", LI_XIUYING, "最低生活保障申请书");
    changed["note"] = json!("另一份");
    let r = t.post(url, Some(&token), &changed).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "IDEMPOTENCY_KEY_REUSED");
    // Once resubmitted, there is nothing more to supply.
    let r = t
        .post(
            url,
            Some(&token),
            &body("c-2", LI_XIUYING, "最低生活保障申请书"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "CASE_NOT_IN_CORRECTION");
    assert!(r.json["message_zh"].as_str().unwrap().contains("补正"));
}

#[tokio::test]
async fn the_kiosk_catalogue_carries_guides_notices_and_a_strong_etag() {
    let t = TestApp::new().await;
    let url = "/api/v1/kiosks/catalogue";
    assert_eq!(t.get(url).await.status, StatusCode::UNAUTHORIZED);
    let token = t.enrol().await;
    let bearer = format!("Bearer {token}");
    let first = t.get_with(url, &[("authorization", &bearer)]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let etag = first.json["etag"].as_str().unwrap().to_owned();
    let resp = backend::app(t.state.clone())
        .oneshot(
            Request::get(url)
                .header("authorization", &bearer)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 66,
        "{etag}"
    );
    let total = t.get("/api/v1/matters?limit=200").await.json["total"].clone();
    assert_eq!(
        first.json["matters"].as_array().unwrap().len() as u64,
        total.as_u64().unwrap()
    );
    assert!(
        first.json["matters"][0]["workflow"].is_object(),
        "full guides"
    );
    let fingerprint = first.json["matters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kiosk_fingerprint"] == true)
        .count();
    assert!(fingerprint >= 3, "{fingerprint}");
    assert_eq!(first.json["public_url"], "http://127.0.0.1:8080");
    let titles: Vec<&str> = first.json["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 3, "{titles:?}");
    assert!(titles.iter().any(|t| t.contains("社会保障卡")));

    // Unchanged: the same tag, and 304 when the kiosk has it.
    t.clock.advance(chrono::Duration::minutes(5));
    let again = t.get_with(url, &[("authorization", &bearer)]).await;
    assert_eq!(again.json["etag"], first.json["etag"]);
    assert_eq!(again.text, first.text);
    for sent in [etag.clone(), format!("W/{etag}"), format!("\"x\", {etag}")] {
        let r = t
            .get_with(url, &[("authorization", &bearer), ("if-none-match", &sent)])
            .await;
        assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{sent}");
        assert!(r.text.is_empty());
    }
    let r = t
        .get_with(
            url,
            &[("authorization", &bearer), ("if-none-match", "\"old\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);

    // The system admin publishes a notice: it comes first, the tag changes.
    let gaoj = t.clerk_login("gaoj").await;
    assert_eq!(
        t.clerk_get("/admin/bulletins", &gaoj).await.status,
        StatusCode::FORBIDDEN
    );
    let dengk = t.clerk_login("dengk").await;
    let admin = t.clerk_get("/admin", &dengk).await;
    assert!(admin.text.contains("/admin/bulletins"), "{}", admin.text);
    let page = t.clerk_get("/admin/bulletins", &dengk).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.field("csrf");
    let r = t
        .clerk_post(
            "/admin/bulletins",
            &dengk,
            &[("csrf", &csrf), ("title", ""), ("body", "x"), ("until", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .clerk_post(
            "/admin/bulletins",
            &dengk,
            &[
                ("csrf", &csrf),
                ("title", "12月5日大厅线路检修"),
                ("body", "当日8:00至10:00自助终端暂停服务。"),
                ("until", "2026-12-05"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let after = t
        .get_with(url, &[("authorization", &bearer), ("if-none-match", &etag)])
        .await;
    assert_eq!(after.status, StatusCode::OK);
    assert_ne!(after.json["etag"], first.json["etag"]);
    assert_eq!(after.json["notices"][0]["title"], "12月5日大厅线路检修");
    assert_eq!(
        after.json["generated_at"],
        backend::service::time::rfc3339_china(t.state.now()),
        "the notice is the newest change"
    );
    let id = t.one_i64(
        "SELECT id FROM bulletin WHERE title = ?1",
        "12月5日大厅线路检修",
    );
    let r = t
        .clerk_post(
            &format!("/admin/bulletins/{id}/withdraw"),
            &dengk,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let withdrawn = t.get_with(url, &[("authorization", &bearer)]).await;
    assert_eq!(withdrawn.json["notices"].as_array().unwrap().len(), 3);
    assert_eq!(
        t.one_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE ?1",
            "bulletin.%"
        ),
        2
    );
}

#[test]
fn the_demo_catalogue_has_kiosk_matters_for_both_identity_checks() {
    let matters = backend::service::seed::demo_matters().unwrap();
    let fingerprint: Vec<_> = matters.iter().filter(|m| m.kiosk_fingerprint).collect();
    assert!((3..=5).contains(&fingerprint.len()));
    for m in &fingerprint {
        assert!(
            m.kiosk_available && m.audience == proto::Audience::Person,
            "{}",
            m.name
        );
    }
    for (name, fp) in [("高龄津贴申领", true), ("无犯罪记录证明", false)] {
        let m = matters.iter().find(|m| m.name == name).unwrap();
        assert!(m.kiosk_available);
        assert_eq!(m.kiosk_fingerprint, fp, "{name}");
        assert!(m.materials.len() >= 2 && m.form.len() <= 4, "{name}");
    }
}
