//! Administration: a local catalogue change through 登记 → 审核 → 合法性审查
//! → 廉政风险审核 → 发布; suspension; the provincial import (idempotent);
//! staff accounts with their own second factor; the holiday calendar
//! feeding deadlines.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::TestApp;
use crate::workflow::{fill_form, required_uploads};

async fn review(
    t: &TestApp,
    token: &str,
    code: &str,
    version: u64,
    decision: &str,
) -> crate::Reply {
    t.s_post(
        &format!("/api/v1/admin/matters/{code}/versions/{version}/review"),
        token,
        &json!({"decision": decision, "opinion": "经审核，同意"}),
    )
    .await
}

#[tokio::test]
async fn a_local_change_is_published_only_after_every_review() {
    let t = TestApp::new().await;
    let mut guide = t.matter_named("无犯罪记录证明").await;
    let code = guide["code"].as_str().unwrap().to_owned();
    let old_version = guide["version"].as_u64().unwrap();
    let old_hours = guide["hours"].as_str().unwrap().to_owned();
    guide["hours"] = json!("周一至周六 上午8:30—12:00，下午14:30—17:30（周六上午延时服务）");

    let bianban = t.staff("songc").await;
    let fazhi = t.staff("tangx").await;
    let jiwei = t.staff("fengy").await;
    // A clerk cannot register changes.
    let clerk = t.staff("gaoj").await;
    let r = t
        .s_post(
            "/api/v1/admin/matters/changes",
            &clerk,
            &json!({"change_kind": "change", "guide": guide}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .s_post(
            "/api/v1/admin/matters/changes",
            &bianban,
            &json!({"change_kind": "change", "guide": guide, "opinion": "增加周六延时服务"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let version = r.json["version"].as_u64().unwrap();
    assert_eq!(version, old_version + 1);
    assert_eq!(r.json["stage"], "registered");

    // Out of order: the legal review cannot go first.
    let r = review(&t, &fazhi, &code, version, "pass").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let pending = t.s_get("/api/v1/admin/matters/reviews", &bianban).await;
    assert!(
        pending.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["code"] == code.as_str())
    );

    for (who, stage) in [
        (&bianban, "reviewed"),
        (&fazhi, "legal_checked"),
        (&jiwei, "integrity_checked"),
    ] {
        let r = review(&t, who, &code, version, "pass").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.json["stage"], stage);
        // Not yet in the catalogue.
        let live = t.get(&format!("/api/v1/matters/{code}")).await.json;
        assert_eq!(live["version"].as_u64().unwrap(), old_version);
    }
    let r = review(&t, &bianban, &code, version, "pass").await;
    assert_eq!(r.json["stage"], "published", "{}", r.text);
    let live = t.get(&format!("/api/v1/matters/{code}")).await.json;
    assert_eq!(live["version"].as_u64().unwrap(), version);
    assert_ne!(live["hours"].as_str().unwrap(), old_hours);
    assert_eq!(live["hours"], guide["hours"]);
    // The trail keeps every version and decision, with who and when.
    let r = t
        .s_get(&format!("/api/v1/admin/matters/{code}/versions"), &bianban)
        .await;
    let items = r.json["items"].as_array().unwrap();
    assert_eq!(items[0]["stage"], "published");
    assert_eq!(items[1]["stage"], "superseded");
    let decisions: Vec<&str> = items[0]["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["register", "pass", "pass", "pass", "publish"]);
    // A published version cannot be reviewed again.
    let r = review(&t, &bianban, &code, version, "pass").await;
    assert_eq!(r.code(), "MATTER_NOT_IN_REVIEW");
}

#[tokio::test]
async fn a_rejected_change_never_reaches_the_catalogue_and_a_suspension_stops_applications() {
    let t = TestApp::new().await;
    let guide = t.matter_named("无犯罪记录证明").await;
    let code = guide["code"].as_str().unwrap().to_owned();
    let bianban = t.staff("songc").await;
    let fazhi = t.staff("tangx").await;
    let jiwei = t.staff("fengy").await;
    let mut changed = guide.clone();
    changed["name"] = json!("无犯罪记录证明（试行）");
    let r = t
        .s_post(
            "/api/v1/admin/matters/changes",
            &bianban,
            &json!({"change_kind": "change", "guide": changed}),
        )
        .await;
    let v = r.json["version"].as_u64().unwrap();
    review(&t, &bianban, &code, v, "pass").await;
    let r = review(&t, &fazhi, &code, v, "reject").await;
    assert_eq!(r.json["stage"], "rejected");
    let live = t.get(&format!("/api/v1/matters/{code}")).await.json;
    assert_eq!(live["name"], "无犯罪记录证明");

    // 暂停: once published, the matter leaves the list and takes no applications.
    let r = t
        .s_post(
            "/api/v1/admin/matters/changes",
            &bianban,
            &json!({"change_kind": "suspend", "guide": guide, "opinion": "系统升级暂停受理"}),
        )
        .await;
    let v = r.json["version"].as_u64().unwrap();
    for who in [&bianban, &fazhi, &jiwei, &bianban] {
        let r = review(&t, who, &code, v, "pass").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let list = t.get("/api/v1/matters?limit=200").await;
    assert!(
        !list.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["code"] == code.as_str())
    );
    let found = t.get("/api/v1/matters?q=%E6%97%A0%E7%8A%AF%E7%BD%AA").await;
    assert!(
        !found.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["code"] == code.as_str())
    );
    let me = t.resident("13837512345").await;
    let r = t
        .s_post(
            "/api/v1/applications",
            &me,
            &json!({"matter_code": code, "form": fill_form(&guide), "materials": required_uploads(&guide)}),
        )
        .await;
    assert_eq!(r.code(), "MATTER_NOT_FOUND", "{}", r.text);
}

fn library(matters: Vec<Value>) -> Value {
    json!({
        "format": "weidong-matter-library/1",
        "source": "河南省政务服务事项库",
        "exported_at": "2026-11-27T08:00:00+08:00",
        "matters": matters,
    })
}

#[tokio::test]
async fn the_provincial_import_adds_and_versions_and_is_idempotent() {
    let t = TestApp::new().await;
    let admin = t.staff("songc").await;
    let mut changed = t.matter_named("出生登记").await;
    changed["hours"] = json!("周一至周五 上午8:30—12:00，下午14:30—17:30（含延时服务）");
    let mut new = changed.clone();
    new["code"] = json!("20010100009999-410403000000-000-11410403416503015J-1-99");
    new["name"] = json!("户口登记项目变更更正");
    new["keywords"] = json!(["改名字"]);
    let unchanged = t.matter_named("结婚登记").await;
    let file = library(vec![changed.clone(), new.clone(), unchanged]);
    let r = t
        .s_post("/api/v1/admin/catalogue/import", &admin, &file)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["added"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["changed"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["unchanged"], 1);
    let live = t
        .get(&format!(
            "/api/v1/matters/{}",
            changed["code"].as_str().unwrap()
        ))
        .await
        .json;
    assert_eq!(
        live["version"].as_u64().unwrap(),
        changed["version"].as_u64().unwrap() + 1
    );
    assert_eq!(live["hours"], changed["hours"]);
    // The new matter is searchable at once, by its keyword too.
    let found = t.get("/api/v1/matters?q=%E6%94%B9%E5%90%8D%E5%AD%97").await;
    assert!(
        found.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "户口登记项目变更更正")
    );
    // Again: nothing changes.
    let r = t
        .s_post("/api/v1/admin/catalogue/import", &admin, &file)
        .await;
    assert_eq!(r.json["added"].as_array().unwrap().len(), 0, "{}", r.text);
    assert_eq!(r.json["changed"].as_array().unwrap().len(), 0);
    assert_eq!(r.json["unchanged"], 3);
    // A wrong format imports nothing.
    let mut bad = file.clone();
    bad["format"] = json!("something/2");
    let r = t
        .s_post("/api/v1/admin/catalogue/import", &admin, &bad)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn staff_get_their_own_second_factor_and_administrators_are_not_made_by_administrators() {
    let t = TestApp::new().await;
    let admin = t.staff("dengk").await;
    let r = t
        .s_post(
            "/api/v1/admin/staff",
            &admin,
            &json!({"username": "lixia", "display_name": "李霞", "department": "卫东区民政局", "roles": ["reviewer"], "password": "Minzheng#2026a"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let secret = r.json["totp_secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, backend::service::people_seed::DEMO_TOTP_SECRET);
    assert!(
        r.json["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    // The new reviewer logs in with their own code.
    t.clock.advance(chrono::Duration::seconds(31));
    let r = t
        .post(
            "/api/v1/auth/staff/password",
            None,
            &json!({"username": "lixia", "password": "Minzheng#2026a"}),
        )
        .await;
    let pending = r.json["pending_token"].as_str().unwrap().to_owned();
    let code = auth::totp::code_at(
        &auth::totp::Secret::from_base32(&secret).unwrap(),
        t.state.now().timestamp(),
    );
    let r = t
        .post(
            "/api/v1/auth/staff/totp",
            None,
            &json!({"pending_token": pending, "code": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["who"]["department"], "卫东区民政局");
    // 三员分立: no admin roles from the admin, no weak passwords, no unknown departments.
    for (body, code) in [
        (
            json!({"username": "boss", "display_name": "甲", "department": "卫东区民政局", "roles": ["audit_admin"], "password": "Minzheng#2026a"}),
            "FORBIDDEN",
        ),
        (
            json!({"username": "weak", "display_name": "乙", "department": "卫东区民政局", "roles": ["reviewer"], "password": "Password123"}),
            "WEAK_PASSWORD",
        ),
        (
            json!({"username": "nodept", "display_name": "丙", "department": "火星局", "roles": ["reviewer"], "password": "Minzheng#2026a"}),
            "INVALID_FIELD",
        ),
        (
            json!({"username": "lixia", "display_name": "丁", "department": "卫东区民政局", "roles": ["reviewer"], "password": "Minzheng#2026a"}),
            "ACCOUNT_EXISTS",
        ),
    ] {
        let r = t.s_post("/api/v1/admin/staff", &admin, &body).await;
        assert_eq!(r.code(), code, "{}", r.text);
    }
}

#[tokio::test]
async fn an_imported_holiday_moves_the_deadline_and_a_bad_file_names_its_line() {
    let t = TestApp::new().await;
    let admin = t.staff("dengk").await;
    let r = t
        .s_post(
            "/api/v1/admin/holidays",
            &admin,
            &json!({"toml": "year = 2026\n[[holiday]]\nname = \"x\"\ndays = [\"2025-01-01\"]\n"}),
        )
        .await;
    assert_eq!(r.code(), "HOLIDAY_FILE_INVALID", "{}", r.text);

    // A case accepted on Friday 2026-11-27 with a 1-day step and a promised
    // limit: its deadline before and after a local holiday on Monday 11-30.
    let matter = t.matter_named("无犯罪记录证明").await;
    let me = t.resident("13837512345").await;
    let case = t.apply(&me, &matter).await;
    let toml = "year = 2026\nsource = \"卫东区临时调整（测试）\"\n[[holiday]]\nname = \"临时停止办公\"\ndays = [\"2026-11-30\"]\n";
    let r = t
        .s_post("/api/v1/admin/holidays", &admin, &json!({"toml": toml}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let clerk = t.staff("gaoj").await;
    let r = t.act(&clerk, &case, "accept", "").await;
    let with_holiday = r.json["deadline"].as_str().unwrap().to_owned();
    let days = matter["promised_days"].as_u64().unwrap() as u32;
    let cal = casework::calendar::Calendar::shipped();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let without = cal.add_working_days(start, days);
    let mut cal2 = cal.clone();
    cal2.insert_holiday(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        "临时停止办公",
    );
    let expected = cal2.add_working_days(start, days);
    assert_ne!(expected, without);
    assert_eq!(with_holiday, expected.format("%Y-%m-%d").to_string());
}
