//! The JSON API of docs/API.md.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{LI_XIUYING, TestApp, WANG_HAORAN, ZHANG_WEI, ZHAO_GUILAN};

fn is_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn health_reports_ok() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/health").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["db"], "ok");
    assert!(r.json["version"].as_str().is_some_and(|v| !v.is_empty()));
}

#[tokio::test]
async fn matters_list_detail_and_not_found() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/matters?limit=200").await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json["items"].as_array().unwrap();
    assert!(items.len() >= 15, "{} matters", items.len());
    assert_eq!(r.json["total"].as_u64().unwrap(), items.len() as u64);
    for m in items {
        assert!(is_chinese(m["name"].as_str().unwrap()), "{m}");
        assert!(["个人", "法人"].contains(&m["audience"].as_str().unwrap()));
    }

    let code = items[0]["code"].as_str().unwrap();
    let d = t.get(&format!("/api/v1/matters/{code}")).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.json["code"], code);
    assert!(!d.json["materials"].as_array().unwrap().is_empty());
    assert_eq!(d.json["supervision_phone"], "12345");

    let paged = t.get("/api/v1/matters?limit=5&offset=5").await;
    assert_eq!(paged.json["items"].as_array().unwrap().len(), 5);
    assert_eq!(paged.json["items"][0]["code"], items[5]["code"]);
    assert_eq!(paged.json["total"], r.json["total"]);

    let nf = t.get("/api/v1/matters/NO-SUCH-MATTER").await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert_eq!(nf.code(), "MATTER_NOT_FOUND");
    assert!(is_chinese(nf.json["message_zh"].as_str().unwrap()));

    let bad = t.get("/api/v1/matters?limit=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "BAD_REQUEST");
}

#[tokio::test]
async fn search_finds_two_character_chinese_queries() {
    let t = TestApp::new().await;
    let names = |r: &crate::Reply| -> Vec<String> {
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let dibao = t.get("/api/v1/matters?q=%E4%BD%8E%E4%BF%9D").await; // 低保
    assert_eq!(dibao.status, StatusCode::OK);
    assert!(names(&dibao).contains(&"最低生活保障申请（低保）".to_owned()));

    let hukou = t.get("/api/v1/matters?q=%E6%88%B7%E5%8F%A3").await; // 户口
    assert!(names(&hukou).iter().any(|n| n.contains("户口迁移")));

    let one = t.get("/api/v1/matters?q=%E8%AF%81").await; // 证, one character
    assert!(one.json["total"].as_u64().unwrap() >= 3);

    let none = t
        .get("/api/v1/matters?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E4%BA%8B%E9%A1%B9")
        .await;
    assert_eq!(none.json["total"], 0);
}

#[tokio::test]
async fn enrolment_code_is_one_time() {
    let t = TestApp::new().await;
    let token = t.enrol().await;
    assert_eq!(token.len(), 64);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));

    let again = t
        .post(
            "/api/v1/kiosks/enrol",
            None,
            &json!({"enrolment_code": "WD-TEST-1", "kiosk_name": "2号机", "location": "大厅"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert_eq!(again.code(), "ENROLMENT_CODE_INVALID");

    let unknown = t
        .post(
            "/api/v1/kiosks/enrol",
            None,
            &json!({"enrolment_code": "GUESS", "kiosk_name": "3号机", "location": "大厅"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::FORBIDDEN);

    // The token is stored only as its SM3 hash.
    let db = t.db();
    let stored: String = db
        .query_row("SELECT token_sm3 FROM kiosk", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);
    let refused: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'kiosk.enrol_refused'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refused, 2);
}

fn heartbeat(printer_state: &str) -> Value {
    json!({
        "software_version": "0.1.0",
        "sent_at": "2026-11-27T10:00:00+08:00",
        "devices": [
            {"device": "idcard", "kind": "id_card_reader", "state": "ok", "fault_code": null,
             "text_zh": "正常", "text_en": "OK", "counters": {"reads": 3}, "last_self_test": null},
            {"device": "receipt", "kind": "receipt_printer", "state": printer_state,
             "fault_code": "PAPER_LOW", "text_zh": "纸将尽", "text_en": "Paper low",
             "counters": {"prints": 120}, "last_self_test": "2026-11-27T08:00:00+08:00"}
        ]
    })
}

#[tokio::test]
async fn heartbeat_needs_a_token_and_is_stored() {
    let t = TestApp::new().await;
    let none = t
        .post("/api/v1/kiosks/heartbeat", None, &heartbeat("ok"))
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "UNAUTHENTICATED");
    let wrong = t
        .post(
            "/api/v1/kiosks/heartbeat",
            Some(&"0".repeat(64)),
            &heartbeat("ok"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    let token = t.enrol().await;
    let r = t
        .post(
            "/api/v1/kiosks/heartbeat",
            Some(&token),
            &heartbeat("degraded"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["server_time"], "2026-11-27T10:00:00+08:00");

    let count = |sql: &str| -> i64 { t.db().query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM device_health"), 2);
    assert_eq!(count("SELECT COUNT(*) FROM device_health_history"), 2);
    let state: String = t
        .db()
        .query_row(
            "SELECT state FROM device_health WHERE device = 'receipt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(state, "degraded");

    // Same states again: no new history. A change: one history row.
    t.post(
        "/api/v1/kiosks/heartbeat",
        Some(&token),
        &heartbeat("degraded"),
    )
    .await;
    assert_eq!(count("SELECT COUNT(*) FROM device_health_history"), 2);
    t.post(
        "/api/v1/kiosks/heartbeat",
        Some(&token),
        &heartbeat("fault"),
    )
    .await;
    assert_eq!(count("SELECT COUNT(*) FROM device_health_history"), 3);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM device_health_history \
             WHERE state_from = 'degraded' AND state_to = 'fault'"
        ),
        1
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'device.state_changed'"),
        3
    );

    let mut bad = heartbeat("ok");
    bad["sent_at"] = json!("yesterday");
    let r = t.post("/api/v1/kiosks/heartbeat", Some(&token), &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "INVALID_FIELD");
}

/// A kiosk submission for 居民身份证换领 with its one required electronic
/// material (居民户口簿) captured as a PNG.
pub fn submission(key: &str, matter_code: &str) -> Value {
    json!({
        "idempotency_key": key,
        "matter_code": matter_code,
        "applicant": {
            "name": "王浩然",
            "id_type": "111",
            "id_number": WANG_HAORAN,
            "phone": "13700000000",
            "address": "河南省平顶山市卫东区建设路东段30号"
        },
        "form": {"change_reason": "有效期满", "receive_mode": "窗口领取"},
        "materials": [{
            "name": "居民户口簿",
            "file_name": "居民户口簿.png",
            "mime": "image/png",
            "pages": 1,
            "data_base64": crate::workflow::b64(crate::workflow::PNG)
        }]
    })
}

#[tokio::test]
async fn case_submission_is_idempotent() {
    let t = TestApp::new().await;
    let token = t.enrol().await;
    let code = t.matter_code("居民身份证换领").await;
    let key = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    let first = t
        .post("/api/v1/cases", Some(&token), &submission(key, &code))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let number = first.json["case_number"].as_str().unwrap().to_owned();
    assert_eq!(number.len(), 20);
    assert!(number.starts_with("41040320261127"), "{number}");
    assert_eq!(first.json["status"], "submitted");
    assert_eq!(first.json["submitted_at"], "2026-11-27T10:00:00+08:00");
    // 20 working days from Friday 2026-11-27.
    assert_eq!(first.json["deadline"], "2026-12-25");

    // A replay, even later, returns the same body with 200.
    t.clock.advance(chrono::Duration::hours(3));
    let replay = t
        .post("/api/v1/cases", Some(&token), &submission(key, &code))
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json, first.json);

    let db = t.db();
    let rows: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM case_record WHERE idempotency_key = ?1",
            [key],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1);
    let object = format!("case:{number}");
    let actions: Vec<String> = db
        .prepare("SELECT action FROM audit_log WHERE object = ?1 ORDER BY id")
        .unwrap()
        .query_map([&object], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(actions, ["case.created", "case.replayed"]);
    let detail: String = db
        .query_row("SELECT group_concat(detail, ' ') FROM audit_log", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(!detail.contains(WANG_HAORAN) && !detail.contains("王浩然"));

    // The same key for another submission is refused.
    let mut other = submission(key, &code);
    other["form"]["change_reason"] = json!("证件严重损坏");
    let conflict = t.post("/api/v1/cases", Some(&token), &other).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.code(), "IDEMPOTENCY_KEY_REUSED");

    // A second case the same day takes the next number.
    let second = t
        .post("/api/v1/cases", Some(&token), &submission("k-2", &code))
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    let n2 = second.json["case_number"].as_str().unwrap();
    assert_eq!(&n2[..14], &number[..14]);
    assert_eq!(
        n2[14..].parse::<u32>().unwrap(),
        number[14..].parse::<u32>().unwrap() + 1
    );

    // The new case shows in the applicant's lookup.
    let found = t
        .post(
            "/api/v1/cases/lookup",
            Some(&token),
            &json!({"id_number": WANG_HAORAN}),
        )
        .await;
    assert_eq!(found.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(found.json["items"][0]["channel"], "kiosk");
    assert_eq!(found.json["items"][0]["status_zh"], "已提交");
}

#[tokio::test]
async fn case_submission_rejects_bad_input() {
    let t = TestApp::new().await;
    let token = t.enrol().await;
    let code = t.matter_code("居民身份证换领").await;

    let r = t
        .post("/api/v1/cases", Some(&token), &submission("a", "NO-SUCH"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "MATTER_NOT_FOUND");

    let window_only = t.matter_code("结婚登记").await;
    let r = t
        .post(
            "/api/v1/cases",
            Some(&token),
            &submission("b", &window_only),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "MATTER_NOT_AT_KIOSK");

    let mut bad_id = submission("c", &code);
    bad_id["applicant"]["id_number"] = json!("410403200109220037");
    let r = t.post("/api/v1/cases", Some(&token), &bad_id).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "INVALID_FIELD");

    let mut missing = submission("d", &code);
    missing.as_object_mut().unwrap().remove("applicant");
    let r = t.post("/api/v1/cases", Some(&token), &missing).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "BAD_REQUEST");

    let r = t
        .post_raw(
            "/api/v1/cases",
            Some(&token),
            Some("application/json"),
            "{\"idempotency_key\": ",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "BAD_REQUEST");
    assert!(!r.json["message_zh"].as_str().unwrap().is_empty());

    let mut bad_form = submission("e", &code);
    bad_form["form"] = json!([1, 2, 3]);
    let r = t.post("/api/v1/cases", Some(&token), &bad_form).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = t
        .post_raw(
            "/api/v1/cases",
            Some(&token),
            None,
            submission("f", &code).to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = t
        .post_raw(
            "/api/v1/cases",
            Some(&token),
            Some("application/json"),
            nested,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let count: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM case_record WHERE kiosk_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn oversized_bodies_are_rejected() {
    let t = TestApp::new().await;
    let huge = format!(
        "{{\"enrolment_code\":\"{}\",\"kiosk_name\":\"x\",\"location\":\"y\"}}",
        "A".repeat(2 * 1024 * 1024)
    );
    let r = t
        .post_raw("/api/v1/kiosks/enrol", None, Some("application/json"), huge)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn lookup_returns_seeded_cases_in_chinese() {
    let t = TestApp::new().await;
    let no_auth = t
        .post(
            "/api/v1/cases/lookup",
            None,
            &json!({"id_number": ZHANG_WEI}),
        )
        .await;
    assert_eq!(no_auth.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_auth.code(), "UNAUTHENTICATED");

    let token = t.enrol().await;
    let lookup = |id: &'static str| {
        let t = &t;
        let token = token.clone();
        async move {
            t.post(
                "/api/v1/cases/lookup",
                Some(&token),
                &json!({"id_number": id}),
            )
            .await
        }
    };

    let zhang = lookup(ZHANG_WEI).await;
    assert_eq!(zhang.status, StatusCode::OK);
    let items = zhang.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let statuses: Vec<&str> = items
        .iter()
        .map(|c| c["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["in_review", "approved"]);
    assert_eq!(items[0]["status_zh"], "审查中");
    assert_eq!(items[1]["status_zh"], "办结（准予）");
    assert_eq!(items[1]["status_en"], "Concluded: approved");
    for c in items {
        assert_eq!(c["case_number"].as_str().unwrap().len(), 20);
        assert!(c["submitted_at"].as_str().unwrap().ends_with("+08:00"));
        assert!(c["deadline"].is_string());
    }

    let li = lookup(LI_XIUYING).await;
    let items = li.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "correction_requested");
    assert_eq!(items[0]["status_zh"], "待补正");
    assert!(items[0]["deadline"].is_null());

    let zhao = lookup(ZHAO_GUILAN).await;
    assert_eq!(zhao.json["items"][0]["status_zh"], "已受理");
    assert_eq!(zhao.json["items"][0]["matter_name"], "高龄津贴申领");

    let wang = lookup(WANG_HAORAN).await;
    assert_eq!(wang.json["items"].as_array().unwrap().len(), 0);

    // Lookups are audited without the number.
    let details: String = t
        .db()
        .query_row(
            "SELECT group_concat(detail || object, ' ') FROM audit_log WHERE action = 'case.lookup'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!details.contains(ZHANG_WEI));
}

#[tokio::test]
async fn seeded_cases_have_a_dated_timeline() {
    let t = TestApp::new().await;
    let db = t.db();
    let steps: Vec<(String, String, String)> = db
        .prepare(
            "SELECT s.status, s.at, c.submitted_at FROM case_step s \
             JOIN case_record c ON c.id = s.case_id \
             WHERE c.applicant_id_number = ?1 AND c.matter_name = '无犯罪记录证明' ORDER BY s.seq",
        )
        .unwrap()
        .query_map([ZHANG_WEI], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let statuses: Vec<&str> = steps.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(statuses, ["submitted", "accepted", "in_review", "approved"]);
    assert_eq!(steps[0].1, steps[0].2, "first step at submission");
    assert!(
        steps.windows(2).all(|w| w[0].1 <= w[1].1),
        "steps in time order"
    );
}

#[tokio::test]
async fn unknown_api_route_is_a_json_404() {
    let t = TestApp::new().await;
    let r = t.get("/api/v1/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "NOT_FOUND");
}

/// A log sink for one test thread.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_never_hold_a_full_id_number() {
    let logs = LogBuffer::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let t = TestApp::new().await;
    let token = t.enrol().await;
    let code = t.matter_code("居民身份证换领").await;
    let r = t
        .post("/api/v1/cases", Some(&token), &submission("log-1", &code))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    t.post(
        "/api/v1/cases/lookup",
        Some(&token),
        &json!({"id_number": ZHANG_WEI}),
    )
    .await;
    // A malformed body that quotes the number in the parser's message.
    let mut bad = submission("log-2", &code);
    bad["applicant"]["id_number"] = json!(410_403_200_109_220_036_u64);
    let r = t.post("/api/v1/cases", Some(&token), &bad).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    t.get("/clerk").await;

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("410403********0036"),
        "masked number logged: {text}"
    );
    for id in [WANG_HAORAN, ZHANG_WEI] {
        assert!(
            !text.contains(id),
            "full ID number {id} in the log:\n{text}"
        );
    }
}
