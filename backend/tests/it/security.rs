//! Access control and login security (reliability.md S1–S6): the role ×
//! endpoint × object matrix over every `/api/v1` route, lockout, two
//! factors, session expiry, CSRF, and the audit chain's tamper check.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use backend::service::people_seed::{DEMO_PASSWORD, DEMO_TOTP_SECRET};
use serde_json::{Value, json};

use crate::{TestApp, ZHANG_WEI};

/// The principals of the matrix, in column order.
const WHO: [&str; 10] = [
    "anonymous",
    "resident",
    "other_resident",
    "police_clerk",
    "market_reviewer",
    "supervisor",
    "catalogue_admin",
    "system_admin",
    "audit_admin",
    "maintenance",
];

/// Expected outcome per principal: `A` passes the access check (any status
/// other than 401, 403, 404), `U` 401, `F` 403, `N` 404 (the object is not
/// theirs to see).
struct Cell {
    method: Method,
    path: &'static str,
    expect: &'static str,
}

const fn cell(method: Method, path: &'static str, expect: &'static str) -> Cell {
    Cell {
        method,
        path,
        expect,
    }
}

fn matrix() -> Vec<Cell> {
    vec![
        cell(Method::GET, "/api/v1/health", "AAAAAAAAAA"),
        cell(Method::GET, "/api/v1/matters", "AAAAAAAAAA"),
        cell(Method::GET, "/api/v1/matters/{code}", "AAAAAAAAAA"),
        cell(Method::GET, "/api/v1/openapi.json", "AAAAAAAAAA"),
        // Kiosk routes take kiosk tokens only; a session is no kiosk.
        cell(Method::POST, "/api/v1/kiosks/enrol", "FFFFFFFFFF"),
        cell(Method::POST, "/api/v1/kiosks/heartbeat", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/cases", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/cases/lookup", "UUUUUUUUUU"),
        cell(Method::GET, "/api/v1/kiosks/catalogue", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/kiosks/alerts", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/cases/correction", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/auth/staff/password", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/auth/staff/totp", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/auth/login", "UUUUUUUUUU"),
        cell(Method::GET, "/api/v1/auth/me", "UAAAAAAAAA"),
        cell(Method::POST, "/api/v1/accounts", "AAAAAAAAAA"),
        cell(Method::POST, "/api/v1/accounts/me/real-name", "UAAFFFFFFF"),
        cell(Method::POST, "/api/v1/applications", "UAAFFFFFFF"),
        cell(Method::GET, "/api/v1/my/cases", "UAAFFFFFFF"),
        cell(Method::GET, "/api/v1/cases/{case_number}", "UANANANNNN"),
        cell(
            Method::POST,
            "/api/v1/cases/{case_number}/actions",
            "UANANANNNN",
        ),
        cell(
            Method::POST,
            "/api/v1/cases/{case_number}/correction",
            "UANFFFFFFF",
        ),
        cell(
            Method::GET,
            "/api/v1/cases/{case_number}/materials/{id}",
            "UANANANNNN",
        ),
        cell(Method::GET, "/api/v1/clerk/inbox/{inbox}", "UFFAAAFFFF"),
        cell(Method::GET, "/api/v1/feed/case-events", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/clerk/applications", "UFFAFFFFFF"),
        cell(Method::GET, "/api/v1/clerk/drafts", "UFFAFFFFFF"),
        cell(Method::POST, "/api/v1/clerk/drafts", "UFFAFFFFFF"),
        cell(Method::POST, "/api/v1/cases/progress", "UUUUUUUUUU"),
        cell(Method::POST, "/api/v1/admin/matters/changes", "UFFFFFAFFF"),
        cell(Method::GET, "/api/v1/admin/matters/reviews", "UFFFFFAFFF"),
        cell(
            Method::GET,
            "/api/v1/admin/matters/{code}/versions",
            "UFFFFAAFFF",
        ),
        cell(
            Method::POST,
            "/api/v1/admin/matters/{code}/versions/{version}/review",
            "UFFFFFAFFF",
        ),
        cell(Method::POST, "/api/v1/admin/catalogue/import", "UFFFFFAFFF"),
        cell(Method::GET, "/api/v1/admin/staff", "UFFFFFFAFF"),
        cell(Method::POST, "/api/v1/admin/staff", "UFFFFFFAFF"),
        cell(
            Method::POST,
            "/api/v1/admin/staff/{username}/active",
            "UFFFFFFAFF",
        ),
        cell(Method::POST, "/api/v1/admin/holidays", "UFFFFFFAFF"),
        cell(Method::GET, "/api/v1/admin/audit", "UFFFFAFFAF"),
        // Last: it ends the session it is called with.
        cell(Method::POST, "/api/v1/auth/logout", "UAAAAAAAAA"),
    ]
}

/// A harmless body for each POST: valid JSON that passes or fails
/// validation after the access check, without changing what later cells
/// rely on.
fn body_for(path: &str, matter: &Value) -> Value {
    match path {
        "/api/v1/kiosks/enrol" => {
            json!({"enrolment_code": "NOPE", "kiosk_name": "x", "location": "y"})
        }
        "/api/v1/auth/staff/password" => json!({"username": "nobody", "password": "wrong"}),
        "/api/v1/auth/staff/totp" => json!({"pending_token": "nope", "code": "000000"}),
        "/api/v1/auth/login" => json!({"phone": "13000000000", "password": "wrong"}),
        "/api/v1/accounts" => json!({"kind": "alien", "phone": "1", "password": "x"}),
        "/api/v1/accounts/me/real-name" => json!({"real_name": "张伟", "id_number": ZHANG_WEI}),
        "/api/v1/applications" => {
            json!({"matter_code": matter["code"], "form": {"no_such_field": "x"}})
        }
        "/api/v1/cases/{case_number}/actions" => json!({"action": "resume", "opinion": ""}),
        "/api/v1/cases/{case_number}/correction" => json!({"materials": []}),
        "/api/v1/admin/matters/changes" => json!({"change_kind": "nonsense", "guide": matter}),
        "/api/v1/admin/matters/{code}/versions/{version}/review" => {
            json!({"decision": "pass", "opinion": "同意"})
        }
        "/api/v1/admin/catalogue/import" => {
            json!({"format": "other/1", "source": "x", "exported_at": "2026-11-27T10:00:00+08:00", "matters": []})
        }
        "/api/v1/admin/staff" => {
            json!({"username": "newbie", "display_name": "新人", "department": "卫东区民政局", "roles": [], "password": "x"})
        }
        "/api/v1/admin/staff/{username}/active" => json!({"active": true}),
        "/api/v1/admin/holidays" => json!({"toml": "year = \"soon\""}),
        "/api/v1/clerk/applications" => {
            json!({"matter_code": matter["code"], "applicant": {"name": "张伟", "id_type": "111", "id_number": "1"}, "form": {}})
        }
        "/api/v1/clerk/drafts" => {
            json!({"matter_code": matter["code"], "body": {"applicant": {"name": "张伟"}}})
        }
        "/api/v1/cases/progress" => json!({"case_number": "1", "id_last6": "000000"}),
        _ => json!({}),
    }
}

fn outcome(status: StatusCode) -> char {
    match status {
        StatusCode::UNAUTHORIZED => 'U',
        StatusCode::FORBIDDEN => 'F',
        StatusCode::NOT_FOUND => 'N',
        _ => 'A',
    }
}

#[tokio::test]
async fn every_route_answers_each_role_as_the_matrix_says() {
    let t = TestApp::new().await;
    // The object: a police case of 张伟 with one material.
    let matter = t.matter_named("无犯罪记录证明").await;
    let resident = t.resident("13837512345").await;
    let case = t.apply(&resident, &matter).await;
    let view = t
        .s_get(&format!("/api/v1/cases/{case}"), &resident)
        .await
        .json;
    let material = view["materials"][0]["id"].as_i64().unwrap();
    let r = t
        .post(
            "/api/v1/accounts",
            None,
            &json!({"kind": "person", "phone": "13600000002", "password": "Another#Pass2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let other = t.resident_with("13600000002", "Another#Pass2026").await;
    let mut tokens = vec![String::new(), resident, other];
    for user in ["gaoj", "sunq", "lind", "songc", "dengk", "caon", "yangp"] {
        tokens.push(t.staff(user).await);
    }

    let table = matrix();
    // Every route is in the table, and nothing else.
    let routes = backend::http::api_routes();
    for (method, path) in &routes {
        assert!(
            table.iter().any(|c| c.method == *method && c.path == *path),
            "route {method} {path} is missing from the access matrix"
        );
    }
    assert_eq!(
        table.len(),
        routes.len(),
        "the matrix lists a route that does not exist"
    );

    let code = matter["code"].as_str().unwrap();
    let mut failures = Vec::new();
    for c in &table {
        let uri = c
            .path
            .replace("{code}", code)
            .replace("{case_number}", &case)
            .replace("{id}", &material.to_string())
            .replace("{inbox}", "todo")
            .replace("{version}", "1")
            .replace("{username}", "gaoj");
        for (i, token) in tokens.iter().enumerate() {
            let expected = c.expect.chars().nth(i).unwrap();
            let mut b = Request::builder().method(c.method.clone()).uri(&uri);
            if !token.is_empty() {
                b = b.header("x-session-token", token);
            }
            let body = if c.method == Method::POST {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(body_for(c.path, &matter).to_string())
            } else {
                Body::empty()
            };
            let r = t.send(b.body(body).unwrap()).await;
            let got = outcome(r.status);
            if got != expected {
                failures.push(format!(
                    "{} {} as {}: expected {expected}, got {got} ({} {})",
                    c.method, c.path, WHO[i], r.status, r.text
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Every refusal of a logged-in person is on record (三员分立): the
    // system admin reaching for the audit log, the audit admin for staff
    // accounts, a clerk for the catalogue.
    let denied = |actor: &str, path: &str| -> i64 {
        t.db()
            .query_row(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' \
                 AND actor = ?1 AND object = ?2",
                [actor, path],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert!(denied("staff:dengk", "/api/v1/admin/audit") >= 1);
    assert!(denied("staff:caon", "/api/v1/admin/staff") >= 1);
    assert!(denied("staff:gaoj", "/api/v1/admin/matters/changes") >= 1);
    let anonymous: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND actor = 'anonymous'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(anonymous, 0, "refusals without a session name nobody");
    let verdict = t.state.store.read_blocking(|tx| tx.verify_audit()).unwrap();
    assert!(
        matches!(verdict, backend::store::AuditVerdict::Intact { .. }),
        "{verdict:?}"
    );
}

async fn password_step(t: &TestApp, user: &str, password: &str) -> crate::Reply {
    t.post(
        "/api/v1/auth/staff/password",
        None,
        &json!({"username": user, "password": password}),
    )
    .await
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_with_one_answer_for_all() {
    let t = TestApp::new().await;
    let unknown = password_step(&t, "no_such_user", "whatever").await;
    let wrong = password_step(&t, "gaoj", "wrong-password").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.text, wrong.text, "no user enumeration");
    for _ in 0..4 {
        // Past three failures each attempt must wait; let the wait pass.
        t.clock.advance(chrono::Duration::seconds(10));
        let r = password_step(&t, "gaoj", "wrong-password").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with the same answer.
    t.clock.advance(chrono::Duration::seconds(10));
    let r = password_step(&t, "gaoj", DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.text, wrong.text);
    let locks: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'login.locked' AND object = 'staff:gaoj'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(locks, 1, "the lock is audited");
    // The lock lifts after 15 minutes.
    t.clock.advance(chrono::Duration::minutes(16));
    let r = password_step(&t, "gaoj", DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn a_password_alone_grants_nothing_and_codes_cannot_be_replayed() {
    let t = TestApp::new().await;
    let r = password_step(&t, "gaoj", DEMO_PASSWORD).await;
    let pending = r.json["pending_token"].as_str().unwrap().to_owned();
    // The half-logged-in session opens nothing.
    assert_eq!(
        t.s_get("/api/v1/auth/me", &pending).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        t.s_get("/api/v1/clerk/inbox/todo", &pending).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = t
        .post(
            "/api/v1/auth/staff/totp",
            None,
            &json!({"pending_token": pending, "code": "123456"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let secret = auth::totp::Secret::from_base32(DEMO_TOTP_SECRET).unwrap();
    let code = auth::totp::code_at(&secret, t.state.now().timestamp());
    let r = t
        .post(
            "/api/v1/auth/staff/totp",
            None,
            &json!({"pending_token": pending, "code": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // The same code again, for a second login in the same 30 s: refused.
    let r = password_step(&t, "gaoj", DEMO_PASSWORD).await;
    let again = r.json["pending_token"].as_str().unwrap().to_owned();
    let r = t
        .post(
            "/api/v1/auth/staff/totp",
            None,
            &json!({"pending_token": again, "code": code}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "a used code is not accepted twice"
    );
}

#[tokio::test]
async fn sessions_expire_end_on_logout_and_die_with_the_account() {
    let t = TestApp::new().await;
    let clerk = t.staff("gaoj").await;
    assert_eq!(
        t.s_get("/api/v1/auth/me", &clerk).await.status,
        StatusCode::OK
    );
    // Idle 16 minutes: gone.
    t.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        t.s_get("/api/v1/auth/me", &clerk).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Logout ends the session on the server.
    let clerk = t.staff("gaoj").await;
    let r = t.s_post("/api/v1/auth/logout", &clerk, &json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.s_get("/api/v1/auth/me", &clerk).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Disabling an account kills its sessions at once.
    let clerk = t.staff("gaoj").await;
    let admin = t.staff("dengk").await;
    let r = t
        .s_post(
            "/api/v1/admin/staff/gaoj/active",
            &admin,
            &json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(
        t.s_get("/api/v1/auth/me", &clerk).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = password_step(&t, "gaoj", DEMO_PASSWORD).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // A session never outlives the absolute limit, even when busy.
    let reviewer = t.staff("liuy").await;
    for _ in 0..40 {
        t.clock.advance(chrono::Duration::minutes(14));
        if t.s_get("/api/v1/auth/me", &reviewer).await.status != StatusCode::OK {
            break;
        }
    }
    assert_eq!(
        t.s_get("/api/v1/auth/me", &reviewer).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_for_changes() {
    let t = TestApp::new().await;
    let r = t
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"phone": "13837512345", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = r.json["token"].as_str().unwrap().to_owned();
    let csrf = r.json["csrf"].as_str().unwrap().to_owned();
    let body = json!({"real_name": "张伟", "id_number": ZHANG_WEI}).to_string();
    let send = |csrf: Option<String>| {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/accounts/me/real-name")
            .header(header::COOKIE, format!("wd_session={token}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        b.body(Body::from(body.clone())).unwrap()
    };
    let r = t.send(send(None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "CSRF_REJECTED");
    let r = t.send(send(Some("0".repeat(64)))).await;
    assert_eq!(r.code(), "CSRF_REJECTED");
    let r = t.send(send(Some(csrf))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    // Reading needs no token.
    let r = t
        .send(
            Request::get("/api/v1/my/cases")
                .header(header::COOKIE, format!("wd_session={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn the_login_cookie_is_httponly_strict_and_secure() {
    let t = TestApp::new().await;
    let resp = backend::app(t.state.clone())
        .oneshot_json(
            "/api/v1/auth/login",
            json!({"phone": "13837512345", "password": DEMO_PASSWORD}),
        )
        .await;
    let cookie = resp
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("wd_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing: {cookie}");
    }
}

trait OneshotJson {
    async fn oneshot_json(self, uri: &str, body: Value) -> axum::response::Response;
}

impl OneshotJson for axum::Router {
    async fn oneshot_json(self, uri: &str, body: Value) -> axum::response::Response {
        use tower::ServiceExt as _;
        self.oneshot(
            Request::post(uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap()
    }
}

#[tokio::test]
async fn audit_verify_passes_on_the_demo_database_and_fails_after_one_edit() {
    let t = TestApp::new().await;
    // Some activity first.
    let _ = t.staff("gaoj").await;
    let db = t.state.store.path().to_owned();
    let bin = env!("CARGO_BIN_EXE_backend");
    let run = || {
        std::process::Command::new(bin)
            .args(["audit", "verify", "--db"])
            .arg(&db)
            .output()
            .unwrap()
    };
    let ok = run();
    let text = String::from_utf8_lossy(&ok.stdout).into_owned();
    assert!(ok.status.success(), "{text}");
    assert!(text.contains("intact"), "{text}");

    // The application cannot change the log (triggers)…
    let conn = t.db();
    assert!(
        conn.execute("UPDATE audit_log SET detail = 'x' WHERE id = 3", [])
            .is_err()
    );
    assert!(
        conn.execute("DELETE FROM audit_log WHERE id = 3", [])
            .is_err()
    );
    // …but someone with the database file can, after dropping them.
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute(
        "UPDATE audit_log SET detail = detail || ' ' WHERE id = 3",
        [],
    )
    .unwrap();
    let bad = run();
    let text = String::from_utf8_lossy(&bad.stdout).into_owned();
    assert!(!bad.status.success(), "{text}");
    assert!(
        text.contains("record 3"),
        "names the first broken record: {text}"
    );

    // A deleted row in the middle is found as well (on a fresh database).
    let t2 = TestApp::new().await;
    let _ = t2.staff("gaoj").await;
    let conn = t2.db();
    conn.execute_batch("DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute("DELETE FROM audit_log WHERE id = 2", [])
        .unwrap();
    let verdict = t2
        .state
        .store
        .read_blocking(|tx| tx.verify_audit())
        .unwrap();
    assert!(
        matches!(
            verdict,
            backend::store::AuditVerdict::Broken { at_id: 2, .. }
        ),
        "{verdict:?}"
    );
    // And a deleted tail, through the head record.
    let t3 = TestApp::new().await;
    let _ = t3.staff("gaoj").await;
    let conn = t3.db();
    conn.execute_batch("DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute(
        "DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)",
        [],
    )
    .unwrap();
    let verdict = t3
        .state
        .store
        .read_blocking(|tx| tx.verify_audit())
        .unwrap();
    assert!(
        matches!(verdict, backend::store::AuditVerdict::Broken { .. }),
        "{verdict:?}"
    );
}
