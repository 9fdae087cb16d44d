//! Catalogue search through `GET /api/v1/matters?q=`: Chinese text of any
//! length, pinyin and initials, synonyms, ranking, bad input.

use axum::http::StatusCode;

use crate::TestApp;

fn names(r: &crate::Reply) -> Vec<String> {
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(t: &TestApp, q: &str) -> crate::Reply {
    let enc: String = q
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    t.get(&format!("/api/v1/matters?q={enc}")).await
}

#[tokio::test]
async fn two_character_chinese_queries_find_matters() {
    let t = TestApp::new().await;
    // FTS5 trigrams cannot match two characters; 低保 must still work.
    let r = search(&t, "低保").await;
    assert_eq!(r.status, StatusCode::OK);
    let found = names(&r);
    assert!(
        found.first().is_some_and(|n| n.contains("低保")),
        "{found:?}"
    );
    assert_eq!(r.json["total"].as_u64().unwrap(), found.len() as u64);
    // One character too.
    let found = names(&search(&t, "户").await);
    assert!(found.iter().any(|n| n.starts_with("户口迁移")), "{found:?}");
    // Three and more go through the full-text index, guide text included.
    let found = names(&search(&t, "无犯罪记录").await);
    assert_eq!(
        found.first().map(String::as_str),
        Some("无犯罪记录证明"),
        "{found:?}"
    );
}

#[tokio::test]
async fn pinyin_initials_and_full_pinyin_find_matters() {
    let t = TestApp::new().await;
    let found = names(&search(&t, "hkqy").await);
    assert!(
        found.iter().any(|n| n.starts_with("户口迁移")),
        "hkqy: {found:?}"
    );
    let found = names(&search(&t, "HuKou").await);
    assert!(
        found.iter().any(|n| n.starts_with("户口迁移")),
        "hukou: {found:?}"
    );
    let found = names(&search(&t, "db").await);
    assert!(found.iter().any(|n| n.contains("低保")), "db: {found:?}");
}

#[tokio::test]
async fn synonyms_and_popular_names_find_the_official_matter() {
    let t = TestApp::new().await;
    let found = names(&search(&t, "开饭店").await);
    assert!(
        found
            .iter()
            .any(|n| n.contains("餐饮") || n.contains("食品经营")),
        "开饭店: {found:?}"
    );
    let found = names(&search(&t, "身份证").await);
    assert!(found.iter().any(|n| n.contains("居民身份证")), "{found:?}");
}

#[tokio::test]
async fn hostile_or_empty_queries_answer_cleanly() {
    let t = TestApp::new().await;
    for q in ["\"", "AND (", "*", "NEAR(", "^-:", "%_", "' OR 1=1 --"] {
        let r = search(&t, q).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
    }
    let r = search(&t, &"证".repeat(51)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // An empty query lists the catalogue.
    let r = t.get("/api/v1/matters?q=").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["total"].as_u64().unwrap() >= 40);
}
