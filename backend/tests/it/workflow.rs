//! The case engine through the JSON API: a resident applies online, a
//! clerk asks for a correction, the resident supplies it, the case is
//! accepted, reviewed and approved; a parallel case and a linked case run
//! to conclusion; wrong roles, departments and states are refused; the
//! feed and the audit chain record it all.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use backend::service::people_seed::{DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_USCC};
use serde_json::{Value, json};

use crate::{Reply, TestApp, ZHANG_WEI};

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0x50,
    0x0F, 0x00, 0x04, 0x85, 0x01, 0x80, 0x84, 0xA9, 0x8C, 0x21, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl TestApp {
    /// A request with a session token in `X-Session-Token`.
    pub async fn s_send(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Reply {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header("x-session-token", token);
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    pub async fn s_get(&self, uri: &str, token: &str) -> Reply {
        self.s_send(Method::GET, uri, token, None).await
    }

    pub async fn s_post(&self, uri: &str, token: &str, body: &Value) -> Reply {
        self.s_send(Method::POST, uri, token, Some(body)).await
    }

    /// Logs a demo staff member in with password and TOTP; returns the token.
    pub async fn staff(&self, username: &str) -> String {
        // A new 30 s step, so the code is never a replay of the last one.
        self.clock.advance(chrono::Duration::seconds(31));
        let r = self
            .post(
                "/api/v1/auth/staff/password",
                None,
                &json!({"username": username, "password": DEMO_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{username}: {}", r.text);
        let pending = r.json["pending_token"].as_str().unwrap().to_owned();
        let secret = auth::totp::Secret::from_base32(DEMO_TOTP_SECRET).unwrap();
        let code = auth::totp::code_at(&secret, self.state.now().timestamp());
        let r = self
            .post(
                "/api/v1/auth/staff/totp",
                None,
                &json!({"pending_token": pending, "code": code}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{username}: {}", r.text);
        r.json["token"].as_str().unwrap().to_owned()
    }

    /// Logs a portal account in; returns the token.
    pub async fn resident(&self, phone: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"phone": phone, "password": DEMO_PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{phone}: {}", r.text);
        r.json["token"].as_str().unwrap().to_owned()
    }

    /// The full guides of the catalogue.
    pub async fn matters(&self) -> Vec<Value> {
        let list = self.get("/api/v1/matters?limit=200").await;
        let mut out = Vec::new();
        for m in list.json["items"].as_array().unwrap() {
            let code = m["code"].as_str().unwrap();
            out.push(self.get(&format!("/api/v1/matters/{code}")).await.json);
        }
        out
    }

    pub async fn matter_named(&self, name: &str) -> Value {
        let code = self.matter_code(name).await;
        self.get(&format!("/api/v1/matters/{code}")).await.json
    }

    /// Files a web application for `matter` with a plausible form and every
    /// required material, and expects it filed; returns the case number.
    pub async fn apply(&self, token: &str, matter: &Value) -> String {
        let r = self
            .s_post(
                "/api/v1/applications",
                token,
                &json!({"matter_code": matter["code"], "form": fill_form(matter), "materials": required_uploads(matter)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json["case_number"].as_str().unwrap().to_owned()
    }

    /// Acts on a case and expects success.
    pub async fn act(&self, token: &str, case: &str, action: &str, opinion: &str) -> Reply {
        let r = self
            .s_post(
                &format!("/api/v1/cases/{case}/actions"),
                token,
                &json!({"action": action, "opinion": opinion}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{action} on {case}: {}", r.text);
        r
    }
}

/// A form filled in for a matter: a plausible value for each field.
pub fn fill_form(matter: &Value) -> Value {
    let mut form = serde_json::Map::new();
    for f in matter["form"].as_array().unwrap() {
        let v = match f["kind"].as_str().unwrap() {
            "choice" => f["choices"][0].clone(),
            "id_number" => json!(ZHANG_WEI),
            "uscc" => json!(DEMO_USCC),
            "date" => json!("2026-11-27"),
            "phone" => json!("13837512345"),
            "number" => json!("1"),
            _ => json!("卫东区建设路东段12号"),
        };
        form.insert(f["key"].as_str().unwrap().to_owned(), v);
    }
    Value::Object(form)
}

/// Uploads for every required electronic material.
pub fn required_uploads(matter: &Value) -> Vec<Value> {
    matter["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["required"] == true && m["electronic"] != false)
        .map(|m| json!({"name": m["name"], "filename": "page1.png", "content_base64": b64(PNG)}))
        .collect()
}

fn statuses(view: &Value) -> Vec<String> {
    view["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_owned())
        .collect()
}

fn allowed(view: &Value) -> Vec<String> {
    view["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap().to_owned())
        .collect()
}

fn inbox_has(r: &Reply, case: &str) -> bool {
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["case_number"] == case)
}

#[tokio::test]
async fn resident_applies_clerk_asks_correction_and_the_case_is_approved() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    assert_eq!(
        matter["workflow"]["steps"].as_array().unwrap().len(),
        3,
        "{matter}"
    );
    let me = t.resident("13837512345").await;

    // Missing form data and materials are refused with the field named.
    let r = t
        .s_post(
            "/api/v1/applications",
            &me,
            &json!({"matter_code": matter["code"], "form": {}, "materials": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.code(), "FORM_FIELD");
    let r = t
        .s_post(
            "/api/v1/applications",
            &me,
            &json!({"matter_code": matter["code"], "form": fill_form(&matter), "materials": []}),
        )
        .await;
    assert_eq!(r.code(), "MATERIAL_MISSING", "{}", r.text);
    // A file that is not an image or PDF is refused whatever its name says.
    let mut bad = required_uploads(&matter);
    bad[0]["content_base64"] = json!(b64(b"MZ\x90\x00 not really a png"));
    let r = t
        .s_post(
            "/api/v1/applications",
            &me,
            &json!({"matter_code": matter["code"], "form": fill_form(&matter), "materials": bad}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_FIELD", "{}", r.text);

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
    let case = r.json["case_number"].as_str().unwrap().to_owned();
    assert!(case.starts_with("41040320261127"), "{case}");

    // It is in the police window clerk's to-do inbox, not the reviewer's.
    let clerk = t.staff("gaoj").await;
    let reviewer = t.staff("liuy").await;
    let approver = t.staff("zhaom").await;
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/todo", &clerk).await,
        &case
    ));
    assert!(!inbox_has(
        &t.s_get("/api/v1/clerk/inbox/todo", &reviewer).await,
        &case
    ));
    // Another department's clerk cannot even see it.
    let other = t.staff("wangl").await;
    let r = t.s_get(&format!("/api/v1/cases/{case}"), &other).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The reviewer may not accept (no skipping the window).
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &reviewer,
            &json!({"action": "accept"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.code(), "CASE_WRONG_ROLE");

    // The clerk asks for a correction (一次性告知), naming the material.
    let first_material = matter["materials"][0]["name"].as_str().unwrap().to_owned();
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &clerk,
            &json!({"action": "request_correction", "opinion": "照片不清晰，请重新上传", "items": [first_material]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["to"], "correction_requested");
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/correction", &clerk).await,
        &case
    ));

    // The resident sees what is missing, and supplies it.
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &me).await.json;
    assert_eq!(view["line"]["status"], "correction_requested");
    assert_eq!(view["corrections"][0]["items"][0], first_material.as_str());
    assert_eq!(view["corrections"][0]["note"], "照片不清晰，请重新上传");
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/correction"),
            &me,
            &json!({"materials": []}),
        )
        .await;
    assert_eq!(r.code(), "MATERIAL_MISSING", "{}", r.text);
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/correction"),
            &me,
            &json!({"materials": [{"name": first_material, "filename": "clear.png", "content_base64": b64(PNG)}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["to"], "resubmitted");

    // Accept → review → approve.
    let r = t.act(&clerk, &case, "accept", "").await;
    assert_eq!(r.json["to"], "accepted");
    let deadline = r.json["deadline"].as_str().unwrap().to_owned();
    assert!(deadline.as_str() > "2026-11-27", "{deadline}");
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &reviewer,
            &json!({"action": "approve", "opinion": "同意"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a reviewer cannot decide: {}",
        r.text
    );
    t.act(&reviewer, &case, "pass", "材料齐全，符合条件").await;
    // Deciding needs an opinion.
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &approver,
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_FIELD", "{}", r.text);
    let r = t.act(&approver, &case, "approve", "准予出具证明").await;
    assert_eq!(r.json["to"], "approved");
    // Nothing more may happen to a concluded case.
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &me,
            &json!({"action": "withdraw"}),
        )
        .await;
    assert_eq!(r.code(), "CASE_TERMINAL", "{}", r.text);

    // The resident sees every step, in order.
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &me).await.json;
    assert_eq!(
        statuses(&view),
        [
            "submitted",
            "correction_requested",
            "resubmitted",
            "accepted",
            "in_review",
            "approved"
        ]
    );
    assert_eq!(view["line"]["warning"], "done");
    assert_eq!(
        view["materials"].as_array().unwrap().len(),
        required_uploads(&matter).len() + 1
    );
    let mine = t.s_get("/api/v1/my/cases", &me).await;
    assert!(inbox_has(&mine, &case));
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/concluded", &clerk).await,
        &case
    ));
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/concluded", &approver).await,
        &case
    ));

    // The clerk downloads the material; the read is audited.
    let mid = view["materials"][0]["id"].as_i64().unwrap();
    let r = t
        .s_get(&format!("/api/v1/cases/{case}/materials/{mid}"), &clerk)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "image/png");
    let r = t
        .s_get(&format!("/api/v1/cases/{case}/materials/{mid}"), &other)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let reads: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'case.material_read' AND object = ?1",
            [format!("case:{case}")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reads, 1);

    // The feed carries each event, with the provincial status code, and
    // needs its token.
    let r = t.get("/api/v1/feed/case-events").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = t
        .send(
            Request::get("/api/v1/feed/case-events?after=0&limit=1000")
                .header(header::AUTHORIZATION, "Bearer WD-DEMO-FEED")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let events: Vec<(String, u64)> = r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["case_number"] == case.as_str())
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["payload"]["provincial_status"].as_u64().unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "submitted",
            "correction_requested",
            "corrected",
            "accepted",
            "passed",
            "concluded"
        ]
    );
    assert_eq!(
        events.last().unwrap().1,
        11,
        "concluded is provincial code 11"
    );
    assert!(
        !r.text.contains(ZHANG_WEI),
        "the feed masks identity numbers"
    );
    let next = r.json["next"].as_i64().unwrap();
    let r = t
        .send(
            Request::get(format!("/api/v1/feed/case-events?after={next}"))
                .header(header::AUTHORIZATION, "Bearer WD-DEMO-FEED")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.json["events"].as_array().unwrap().is_empty());
    assert_eq!(r.json["next"].as_i64().unwrap(), next);

    // The audit chain is whole and names each actor.
    let verdict = t.state.store.read_blocking(|tx| tx.verify_audit()).unwrap();
    assert!(
        matches!(verdict, backend::store::AuditVerdict::Intact { .. }),
        "{verdict:?}"
    );
    let actors: Vec<String> = t
        .db()
        .prepare("SELECT actor || ' ' || action FROM audit_log WHERE object = ?1 ORDER BY id")
        .unwrap()
        .query_map([format!("case:{case}")], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        actors.contains(&"staff:gaoj case.accept".to_owned()),
        "{actors:?}"
    );
    assert!(
        actors.contains(&"staff:zhaom case.approve".to_owned()),
        "{actors:?}"
    );
    let audit_text: String = t
        .db()
        .query_row(
            "SELECT group_concat(before || after || detail, ' ') FROM audit_log",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        !audit_text.contains(ZHANG_WEI),
        "identity numbers are masked in the audit log"
    );
}

#[tokio::test]
async fn parallel_case_by_an_agent_runs_to_conclusion() {
    let t = TestApp::new().await;
    let matter = t.matter_named("企业开办一件事").await;
    assert_eq!(matter["workflow"]["kind"], "parallel");
    let co = matter["workflow"]["co_departments"]
        .as_array()
        .unwrap()
        .clone();
    assert!(co.len() >= 2);
    // 张伟 applies as the company's authorised agent (代办).
    let agent = t.resident("13837512345").await;
    let r = t
        .s_post(
            "/api/v1/applications",
            &agent,
            &json!({
                "matter_code": matter["code"],
                "form": fill_form(&matter),
                "materials": required_uploads(&matter),
                "for_entity": DEMO_USCC,
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let case = r.json["case_number"].as_str().unwrap().to_owned();
    // An account that is not the company's agent may not apply for it.
    let company = t.resident("13937500001").await;
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &company).await;
    assert_eq!(
        view.status,
        StatusCode::OK,
        "the company sees its own case: {}",
        view.text
    );
    assert_eq!(
        view.json["entity_name"],
        "平顶山市卫东区鹰城味道餐饮有限公司"
    );
    assert!(view.json["agent"].as_str().unwrap().starts_with('张'));

    let lead_clerk = t.staff("wangl").await;
    let lead_reviewer = t.staff("sunq").await;
    let lead_approver = t.staff("zhoul").await;
    t.act(&lead_clerk, &case, "accept", "").await;
    let view = t
        .s_get(&format!("/api/v1/cases/{case}"), &lead_reviewer)
        .await
        .json;
    let subs = view["subcases"].as_array().unwrap().clone();
    assert_eq!(subs.len(), co.len(), "one sub-case per co-department");
    t.act(&lead_reviewer, &case, "pass", "牵头部门审查通过")
        .await;
    // The lead cannot conclude while sub-cases are open.
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &lead_approver,
            &json!({"action": "approve", "opinion": "准予"}),
        )
        .await;
    assert_eq!(r.code(), "CASE_SUBCASES_OPEN", "{}", r.text);

    // Each co-department works its own sub-case; someone from another
    // department cannot touch it.
    let people = [
        ("平顶山市公安局卫东分局", "liuy", "zhaom"),
        ("国家税务总局平顶山市卫东区税务局", "hus", "hus"),
        ("卫东区人力资源和社会保障局", "mah", "mah"),
        ("卫东区医疗保障局", "zhuy", "zhuy"),
    ];
    let mut seen_materials = 0;
    for sub in &subs {
        let number = sub["case_number"].as_str().unwrap();
        let dept = sub["department"].as_str().unwrap();
        let (_, reviewer, approver) = people
            .iter()
            .find(|p| p.0 == dept)
            .unwrap_or_else(|| panic!("no demo staff for {dept}"));
        let r = t
            .s_post(
                &format!("/api/v1/cases/{number}/actions"),
                &lead_reviewer,
                &json!({"action": "pass"}),
            )
            .await;
        assert!(
            r.status == StatusCode::NOT_FOUND || r.code() == "CASE_WRONG_DEPARTMENT",
            "{}",
            r.text
        );
        let rv = t.staff(reviewer).await;
        assert!(inbox_has(
            &t.s_get("/api/v1/clerk/inbox/todo", &rv).await,
            number
        ));
        // The co-department sees the lead's materials it needs, and opens them.
        let sub_view = t.s_get(&format!("/api/v1/cases/{number}"), &rv).await.json;
        let needs: Vec<&str> = co.iter().find(|c| c["department"] == dept).unwrap()["materials"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect();
        for m in sub_view["materials"].as_array().unwrap() {
            let name = m["name"].as_str().unwrap();
            assert!(
                needs.is_empty() || needs.contains(&name),
                "{dept} sees {name}"
            );
            let r = t
                .s_get(
                    &format!("/api/v1/cases/{number}/materials/{}", m["id"]),
                    &rv,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{dept} opens {name}");
            seen_materials += 1;
        }
        t.act(&rv, number, "pass", "符合条件").await;
        let ap = t.staff(approver).await;
        let r = t.act(&ap, number, "approve", "准予登记").await;
        assert_eq!(r.json["to"], "approved");
    }
    assert!(
        seen_materials > 0,
        "co-departments work on the lead's materials"
    );
    let r = t
        .act(&lead_approver, &case, "approve", "各部门均已办结，准予")
        .await;
    assert_eq!(r.json["to"], "approved");
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &agent).await.json;
    assert_eq!(view["line"]["status"], "approved");
    // The legal limit's date is never before the promised one.
    let legal = view["legal_deadline"].as_str().unwrap();
    assert!(
        legal >= view["line"]["deadline"].as_str().unwrap(),
        "{view}"
    );
    assert!(
        view["subcases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "approved")
    );
}

#[tokio::test]
async fn linked_case_goes_up_from_the_street_and_the_result_comes_back() {
    let t = TestApp::new().await;
    let matter = t.matter_named("最低生活保障申请（低保）").await;
    assert_eq!(matter["workflow"]["kind"], "linked");
    assert_eq!(matter["department"], "卫东区建设路街道办事处");
    let me = t.resident("13837512345").await;
    let case = t.apply(&me, &matter).await;

    let street = t.staff("xuf").await;
    let district_reviewer = t.staff("chenj").await;
    // Before the street reports it up, the district has nothing to do.
    assert!(!inbox_has(
        &t.s_get("/api/v1/clerk/inbox/todo", &district_reviewer)
            .await,
        &case
    ));
    t.act(&street, &case, "accept", "").await;
    let steps = matter["workflow"]["steps"].as_array().unwrap();
    // The street does every step that names no department.
    for s in steps.iter().skip(1) {
        if !s["department"].is_null() {
            break;
        }
        t.act(&street, &case, "pass", "初审通过，上报区民政局")
            .await;
    }
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/todo", &district_reviewer)
            .await,
        &case
    ));
    // The street cannot decide for the district.
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &street,
            &json!({"action": "pass", "opinion": "x"}),
        )
        .await;
    assert_eq!(r.code(), "CASE_WRONG_DEPARTMENT", "{}", r.text);
    // District review may stop the clock for a household survey.
    t.act(
        &district_reviewer,
        &case,
        "suspend",
        "入户调查核实家庭经济状况",
    )
    .await;
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &me).await.json;
    assert_eq!(view["line"]["warning"], "stopped");
    t.clock.advance(chrono::Duration::days(3));
    // Three days idle: the session has expired; log in again.
    let r = t
        .s_get("/api/v1/clerk/inbox/todo", &district_reviewer)
        .await;
    assert_eq!(r.code(), "NOT_LOGGED_IN");
    let district_reviewer = t.staff("chenj").await;
    let district_approver = t.staff("huangw").await;
    t.act(&district_reviewer, &case, "resume", "").await;
    for s in steps.iter().skip(1) {
        if s["department"].is_null() || s["role"] != "reviewer" {
            continue;
        }
        let view = t
            .s_get(&format!("/api/v1/cases/{case}"), &district_reviewer)
            .await;
        assert_eq!(view.status, StatusCode::OK, "{}", view.text);
        if allowed(&view.json).contains(&"pass".to_owned()) {
            t.act(&district_reviewer, &case, "pass", "审查通过").await;
        }
    }
    let r = t
        .act(&district_approver, &case, "approve", "准予纳入最低生活保障")
        .await;
    assert_eq!(r.json["to"], "approved");
    // The result flows back: the street office finds it among its concluded cases.
    let street = t.staff("xuf").await;
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/concluded", &street).await,
        &case
    ));
    let me = t.resident("13837512345").await;
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &me).await.json;
    assert_eq!(view["flow"], "linked");
    assert_eq!(view["line"]["status"], "approved");
    let pauses: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM case_pause p JOIN case_record c ON c.id = p.case_id \
             WHERE c.case_number = ?1 AND p.to_day IS NOT NULL",
            [&case],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pauses, 1, "the special procedure stopped the clock once");
}

#[tokio::test]
async fn withdrawn_and_voided_cases_end_and_others_cannot_act() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let me = t.resident("13837512345").await;
    let apply = || async {
        let r = t
            .s_post(
                "/api/v1/applications",
                &me,
                &json!({"matter_code": matter["code"], "form": fill_form(&matter), "materials": required_uploads(&matter)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        r.json["case_number"].as_str().unwrap().to_owned()
    };
    let first = apply().await;
    let r = t.act(&me, &first, "withdraw", "").await;
    assert_eq!(r.json["to"], "withdrawn");
    let second = apply().await;
    // A window clerk may not void; a supervisor may, in any department.
    let clerk = t.staff("gaoj").await;
    let r = t
        .s_post(
            &format!("/api/v1/cases/{second}/actions"),
            &clerk,
            &json!({"action": "void", "opinion": "重复申请"}),
        )
        .await;
    assert_eq!(r.code(), "CASE_WRONG_ROLE", "{}", r.text);
    let supervisor = t.staff("lind").await;
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/all", &supervisor).await,
        &second
    ));
    assert_eq!(
        t.s_get("/api/v1/clerk/inbox/all", &clerk).await.status,
        StatusCode::FORBIDDEN
    );
    let r = t
        .act(&supervisor, &second, "void", "重复申请，予以作废")
        .await;
    assert_eq!(r.json["to"], "voided");
    // Unknown actions and states are refused cleanly.
    let third = apply().await;
    let r = t
        .s_post(
            &format!("/api/v1/cases/{third}/actions"),
            &clerk,
            &json!({"action": "approve_everything"}),
        )
        .await;
    assert_eq!(r.code(), "INVALID_FIELD");
    let r = t
        .s_post(
            &format!("/api/v1/cases/{third}/actions"),
            &clerk,
            &json!({"action": "resume"}),
        )
        .await;
    assert_eq!(r.code(), "CASE_WRONG_STATE", "{}", r.text);
    // Another resident neither sees nor acts on it.
    let r = t
        .post(
            "/api/v1/accounts",
            None,
            &json!({"kind": "person", "phone": "13600000001", "password": "Another#Pass2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let stranger = t.resident_with("13600000001", "Another#Pass2026").await;
    assert_eq!(
        t.s_get(&format!("/api/v1/cases/{third}"), &stranger)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = t
        .s_post(
            &format!("/api/v1/cases/{third}/actions"),
            &stranger,
            &json!({"action": "withdraw"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Without a real name, an account cannot apply.
    let r = t
        .s_post(
            "/api/v1/applications",
            &stranger,
            &json!({"matter_code": matter["code"], "form": fill_form(&matter), "materials": required_uploads(&matter)}),
        )
        .await;
    assert_eq!(r.code(), "REAL_NAME_REQUIRED", "{}", r.text);
}

impl TestApp {
    pub async fn resident_with(&self, phone: &str, password: &str) -> String {
        let r = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"phone": phone, "password": password}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        r.json["token"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn a_window_clerk_files_for_an_agent_from_a_draft() {
    let t = TestApp::new().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let clerk = t.staff("gaoj").await;
    let applicant =
        json!({"name": "张伟", "id_type": "111", "id_number": ZHANG_WEI, "phone": "13837512345"});
    // Saved as a draft first (草稿), then listed.
    let r = t
        .s_post(
            "/api/v1/clerk/drafts",
            &clerk,
            &json!({"matter_code": matter["code"], "body": {"applicant": applicant, "note": "材料待扫描"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let draft = r.json["id"].as_i64().unwrap();
    let drafts = t.s_get("/api/v1/clerk/drafts", &clerk).await;
    assert_eq!(drafts.json["items"][0]["id"], draft);
    assert_eq!(drafts.json["items"][0]["applicant"], "张*");
    // Another clerk sees none of it.
    let other = t.staff("wangl").await;
    let theirs = t.s_get("/api/v1/clerk/drafts", &other).await;
    assert!(theirs.json["items"].as_array().unwrap().is_empty());
    // A clerk of another department cannot file a police matter.
    let body = json!({
        "matter_code": matter["code"],
        "applicant": applicant,
        "agent": {"name": "李秀英", "id_number": crate::LI_XIUYING},
        "form": fill_form(&matter),
        "materials": required_uploads(&matter),
        "draft_id": draft,
    });
    let r = t.s_post("/api/v1/clerk/applications", &other, &body).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = t.s_post("/api/v1/clerk/applications", &clerk, &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let case = r.json["case_number"].as_str().unwrap().to_owned();
    // The draft is gone; the case waits in the clerk's to-do inbox.
    let drafts = t.s_get("/api/v1/clerk/drafts", &clerk).await;
    assert!(drafts.json["items"].as_array().unwrap().is_empty());
    assert!(inbox_has(
        &t.s_get("/api/v1/clerk/inbox/todo", &clerk).await,
        &case
    ));
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &clerk).await.json;
    assert_eq!(view["line"]["channel"], "window");
    assert_eq!(view["agent"], "李**");
    assert!(
        view["timeline"][0]["opinion"]
            .as_str()
            .unwrap()
            .contains("代办")
    );
    // The resident sees it among their cases too.
    let me = t.resident("13837512345").await;
    assert!(inbox_has(&t.s_get("/api/v1/my/cases", &me).await, &case));
}

#[tokio::test]
async fn a_kiosk_finds_a_case_by_number_and_id_ending_with_the_correction_asked() {
    let t = TestApp::new().await;
    let kiosk = t.enrol().await;
    let matter = t.matter_named("无犯罪记录证明").await;
    let me = t.resident("13837512345").await;
    let case = t.apply(&me, &matter).await;
    let clerk = t.staff("gaoj").await;
    let item = matter["materials"][0]["name"].as_str().unwrap();
    let r = t
        .s_post(
            &format!("/api/v1/cases/{case}/actions"),
            &clerk,
            &json!({"action": "request_correction", "opinion": "请补充原件扫描件", "items": [item]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let last6 = &ZHANG_WEI[ZHANG_WEI.len() - 6..];
    let r = t
        .post(
            "/api/v1/cases/progress",
            Some(&kiosk),
            &json!({"case_number": case, "id_last6": last6}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["case"]["status"], "correction_requested");
    assert_eq!(r.json["correction_items"][0], item);
    assert_eq!(r.json["correction_note"], "请补充原件扫描件");
    let steps: Vec<&str> = r.json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step_name"].as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert!(
        !r.text.contains(ZHANG_WEI),
        "no whole ID number in the reply"
    );
    // A wrong ending answers like an unknown case.
    let r = t
        .post(
            "/api/v1/cases/progress",
            Some(&kiosk),
            &json!({"case_number": case, "id_last6": "000000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t
        .post(
            "/api/v1/cases/progress",
            Some(&kiosk),
            &json!({"case_number": case, "id_last6": "12"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .post(
            "/api/v1/cases/progress",
            None,
            &json!({"case_number": case, "id_last6": last6}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_parallel_case_shows_one_joint_fee_notice() {
    let t = TestApp::new().await;
    let matter = t.matter_named("不动产转移登记（二手房买卖）").await;
    let me = t.resident("13837512345").await;
    let case = &t.apply(&me, &matter).await;
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &me).await.json;
    let fees = view["fees"].as_array().unwrap();
    let departments: std::collections::BTreeSet<&str> = fees
        .iter()
        .map(|f| f["department"].as_str().unwrap())
        .collect();
    assert!(
        departments.len() >= 2,
        "the lead's and a co-department's fees: {fees:?}"
    );
    assert!(
        fees.iter()
            .any(|f| f["item"].as_str().unwrap().contains('￥')),
        "{fees:?}"
    );
}

#[tokio::test]
async fn the_yellow_warning_threshold_comes_from_the_configuration() {
    let t = TestApp::new().await;
    let matter = t.matter_named("居民身份证换领").await;
    let me = t.resident("13837512345").await;
    let case = t.apply(&me, &matter).await;
    let clerk = t.staff("gaoj").await;
    t.act(&clerk, &case, "accept", "").await;
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &me).await.json;
    let left = view["line"]["remaining_days"].as_i64().unwrap();
    assert!(left > 2, "a fresh case has more than two days: {left}");
    assert_eq!(view["line"]["warning"], "normal");
    // The same case under a configuration that warns earlier.
    t.state.store.set_yellow_days(u32::try_from(left).unwrap());
    let view = t.s_get(&format!("/api/v1/cases/{case}"), &me).await.json;
    assert_eq!(view["line"]["warning"], "yellow");
    // And through the configuration file's key.
    let config = backend::Config {
        deadline_yellow_days: 31,
        ..crate::config_for(&t.dir)
    };
    assert!(config.validate().is_err(), "more than 30 days is refused");
}
