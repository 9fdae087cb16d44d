//! The portal and clerk pages.

use axum::http::StatusCode;

use crate::{LI_XIUYING, TestApp, WANG_HAORAN, ZHANG_WEI, ZHAO_GUILAN};

#[tokio::test]
async fn portal_lists_matters_and_searches() {
    let t = TestApp::new().await;
    let r = t.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.content_type.starts_with("text/html"),
        "{}",
        r.content_type
    );
    assert!(r.text.contains("<html lang=\"zh-CN\">"));
    assert!(r.text.contains("<meta charset=\"utf-8\">"));
    for name in [
        "居民身份证换领",
        "最低生活保障申请（低保）",
        "个体工商户设立登记",
    ] {
        assert!(r.text.contains(name), "{name}");
    }
    assert!(r.text.contains("法人") && r.text.contains("个人"));
    assert!(r.text.contains("￥") || r.text.contains("收费"));

    let s = t.get("/?q=%E4%BD%8E%E4%BF%9D").await; // 低保
    assert!(s.text.contains("最低生活保障申请（低保）"));
    assert!(!s.text.contains("个体工商户设立登记"));
}

#[tokio::test]
async fn portal_escapes_the_search_query() {
    let t = TestApp::new().await;
    let r = t.get("/?q=%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains("<script>"), "{}", r.text);
    assert!(
        r.text
            .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
    );
}

#[tokio::test]
async fn matter_page_shows_the_full_guide_materials_first() {
    let t = TestApp::new().await;
    let code = t.matter_code("居民身份证换领").await;
    let r = t.get(&format!("/matters/{code}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let pos = |s: &str| {
        r.text
            .find(s)
            .unwrap_or_else(|| panic!("{s} missing from page"))
    };
    assert!(pos("申请材料") < pos("受理条件"));
    assert!(pos("受理条件") < pos("办理时限"));
    assert!(r.text.contains("￥20"));
    assert!(r.text.contains("卫东区政务服务中心"));
    assert!(r.text.contains("12345"));

    let nf = t.get("/matters/NO-SUCH").await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert!(nf.content_type.starts_with("text/html"));
}

#[tokio::test]
async fn clerk_pages_need_a_login_and_mask_identity_numbers() {
    let t = TestApp::new().await;
    // Without a session: the login form, never a case list.
    let r = t.get("/clerk/inbox/all").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!r.text.contains("张*"));

    // The supervisor's 全部在办 lists the open cases, names masked.
    let lind = t.clerk_login("lind").await;
    let r = t.clerk_get("/clerk/inbox/all", &lind).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("张*"));
    assert!(r.text.contains("审查中") && r.text.contains("待补正"));
    for id in [ZHANG_WEI, LI_XIUYING, ZHAO_GUILAN, WANG_HAORAN] {
        assert!(
            !r.text.contains(id),
            "full ID number {id} on the clerk page"
        );
    }
    assert!(!r.text.contains("张伟") && !r.text.contains("李秀英"));

    // The case page shows the timeline, the identity number masked.
    let start = r.text.find("/clerk/cases/").unwrap() + "/clerk/cases/".len();
    let number: String = r.text[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    let c = t.clerk_get(&format!("/clerk/cases/{number}"), &lind).await;
    assert_eq!(c.status, StatusCode::OK);
    assert!(c.text.contains("办理过程"));
    assert!(c.text.contains("410403********"), "{}", c.text);
    for id in [ZHANG_WEI, LI_XIUYING, ZHAO_GUILAN, WANG_HAORAN] {
        assert!(!c.text.contains(id));
    }
}

#[tokio::test]
async fn fleet_page_shows_each_kiosk_device_health_in_chinese() {
    let t = TestApp::new().await;
    // Maintenance staff only, behind the login.
    assert_eq!(t.get("/clerk/kiosks").await.status, StatusCode::SEE_OTHER);
    let gaoj = t.clerk_login("gaoj").await;
    assert_eq!(
        t.clerk_get("/clerk/kiosks", &gaoj).await.status,
        StatusCode::FORBIDDEN
    );
    let yangp = t.clerk_login("yangp").await;
    let empty = t.clerk_get("/clerk/kiosks", &yangp).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text.contains("暂无已注册终端"), "{}", empty.text);

    let token = t.enrol().await;
    let hb = serde_json::json!({
        "software_version": "0.1.0",
        "sent_at": "2026-11-27T10:00:00+08:00",
        "devices": [
            {"device": "idcard", "kind": "id_card_reader", "state": "ok", "fault_code": null,
             "text_zh": "正常", "text_en": "OK", "counters": {"reads": 3}, "last_self_test": null},
            {"device": "receipt_printer", "kind": "receipt_printer", "state": "fault",
             "fault_code": "PAPER_OUT", "text_zh": "打印机缺纸", "text_en": "printer out of paper",
             "counters": {"prints": 120}, "last_self_test": null}
        ]
    });
    let r = t.post("/api/v1/kiosks/heartbeat", Some(&token), &hb).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let page = t.clerk_get("/clerk/kiosks", &yangp).await;
    assert_eq!(page.status, StatusCode::OK);
    for want in [
        "身份证阅读器",
        "凭条打印机",
        "正常",
        "故障",
        "PAPER_OUT",
        "打印机缺纸",
        "0.1.0",
    ] {
        assert!(
            page.text.contains(want),
            "fleet page lacks {want}: {}",
            page.text
        );
    }
}
