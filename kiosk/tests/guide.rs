//! 办事指南 against a real backend: the catalogue comes from
//! `GET /api/v1/kiosks/catalogue` (and is cached in the kiosk's store);
//! browsing by 个人/法人, theme and department; searching with the
//! on-screen keyboard by pinyin initials (`hkqy` → 户口迁移) and by
//! Chinese typed through pinyin (`weidong` offers 卫东 first); a guide
//! with its materials first and a QR code that a phone (here: the
//! project's own QR reader, on the rendered screen) opens as the portal's
//! guide page. Screens in Chinese, English and 关怀模式 go to
//! `target/screens/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use kiosk::ui::{AppAdapter, GuideAdapter, KeyboardAdapter, Page, Theme};
use slint::{ComponentHandle, Model};

#[test]
fn browse_search_with_pinyin_and_read_a_guide() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("guide");
    let (backend_url, stop_backend) = start_backend(&rt, &dir);
    let config = config(&backend_url, &dir.join("data"), &[]);
    let app = kiosk::App::new(config, kiosk::Devices::default(), rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    let g = ui.global::<GuideAdapter>();

    // The catalogue arrives from the backend.
    touch(ui, "办事指南");
    assert_eq!(a.get_page(), Page::Guide);
    wait_until("the catalogue", Duration::from_secs(60), || {
        !g.get_empty() && g.get_total() > 0
    });
    assert_eq!(g.get_total(), 36, "every guide for individuals");
    assert!(g.get_age_minutes() >= 0, "the catalogue's age shows");
    assert!(!g.get_offline());
    screenshot(ui, "guide-1-list.png");
    let first_page: Vec<_> = g.get_matters().iter().collect();
    assert_eq!(first_page.len(), 7, "seven to a page");
    touch(ui, "下一页");
    assert_eq!(g.get_page(), 1);
    assert_ne!(
        g.get_matters().row_data(0).unwrap().code,
        first_page[0].code
    );
    touch(ui, "上一页");

    // 法人, by department.
    touch(ui, "法人办事");
    assert_eq!(g.get_total(), 23);
    touch(ui, "按部门");
    let facets: Vec<_> = g.get_facets().iter().collect();
    assert!(facets.len() > 3);
    let market = facets
        .iter()
        .find(|f| f.label.contains("市场监督管理局"))
        .expect("a market regulation department");
    touch(ui, market.label.as_str());
    assert_eq!(g.get_total(), market.count);
    assert!(g.get_matters().iter().all(|m| m.department == market.label));
    screenshot(ui, "guide-2-entity-by-department.png");
    touch(ui, "个人办事");

    // Search by pinyin initials through the keyboard.
    touch(ui, "搜索事项");
    let k = ui.global::<KeyboardAdapter>();
    assert!(k.get_open());
    type_keys(ui, "hkqy");
    assert_eq!(k.get_composition(), "h'k'q'y");
    screenshot(ui, "guide-3-keyboard-initials.png");
    touch(ui, "完成");
    assert!(!k.get_open());
    assert_eq!(g.get_query(), "hkqy");
    let names: Vec<String> = g.get_matters().iter().map(|m| m.name.to_string()).collect();
    assert!(
        names.first().is_some_and(|n| n.contains("户口迁移")),
        "{names:?}"
    );
    screenshot(ui, "guide-4-search-results.png");
    touch(ui, "清除搜索");
    assert_eq!(g.get_total(), 36);

    // Chinese through pinyin: weidong offers 卫东 first.
    touch(ui, "搜索事项");
    type_keys(ui, "weidong");
    assert_eq!(k.get_composition(), "wei'dong");
    let candidates: Vec<String> = k.get_candidates().iter().map(|c| c.to_string()).collect();
    assert_eq!(
        candidates.first().map(String::as_str),
        Some("卫东"),
        "{candidates:?}"
    );
    screenshot(ui, "guide-5-pinyin-weidong.png");
    touch(ui, "卫东");
    assert_eq!(k.get_text(), "卫东");
    assert_eq!(k.get_composition(), "");
    // 取消 restores the search as it was.
    touch(ui, "取消");
    assert_eq!(g.get_query(), "");

    // Typing 低保 through pinyin and the candidate bar.
    touch(ui, "搜索事项");
    type_keys(ui, "dibao");
    let candidates: Vec<String> = k.get_candidates().iter().map(|c| c.to_string()).collect();
    assert!(candidates.iter().any(|c| c == "低保"), "{candidates:?}");
    touch(ui, "低保");
    touch(ui, "完成");
    let found = g.get_matters().row_data(0).expect("低保 finds a matter");
    assert!(found.name.contains("最低生活保障"), "{}", found.name);

    // One guide: materials first, the QR opens the portal's page.
    touch(ui, found.name.as_str());
    assert!(g.get_showing_detail());
    let detail = g.get_detail();
    assert_eq!(detail.code, found.code);
    assert!(g.get_materials().row_count() >= 3);
    assert!(shows(ui, "需要准备的材料"));
    let shot = screenshot(ui, "guide-6-detail.png");
    let codes = imaging::qr::decode_file(&shot).unwrap();
    let expected = format!("/matters/{}", found.code);
    assert!(
        codes.iter().any(|c| c.text.ends_with(&expected)),
        "QR on screen: {:?}",
        codes.iter().map(|c| &c.text).collect::<Vec<_>>()
    );
    assert!(detail.kiosk, "低保 can be applied for here");
    button(ui, "在本机申请");

    // English and 关怀模式.
    touch(ui, "中文/English");
    assert_eq!(a.get_language(), "en");
    assert!(shows(ui, "Materials to prepare"));
    screenshot(ui, "guide-6-detail-en.png");
    touch(ui, "Back to list");
    touch(ui, "Clear search");
    screenshot(ui, "guide-1-list-en.png");
    touch(ui, "中文/English");
    touch(ui, "关怀模式");
    assert!(ui.global::<Theme>().get_elderly());
    assert_eq!(g.get_matters().row_count(), 5, "fewer lines in 关怀模式");
    screenshot(ui, "guide-1-list-elderly.png");
    touch(ui, "搜索事项");
    type_keys(ui, "weidong");
    assert_eq!(
        k.get_candidates().row_count(),
        5,
        "fewer candidates in 关怀模式"
    );
    screenshot(ui, "guide-5-pinyin-elderly.png");
    touch(ui, "取消");

    // Home: the search is gone, the guide state starts afresh next time.
    touch(ui, "返回首页");
    assert_eq!(a.get_page(), Page::Home);
    assert!(!k.get_open());
    // The platform's notices show on the idle screen.
    let notices: Vec<String> = ui
        .global::<kiosk::ui::HomeAdapter>()
        .get_notices()
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert!(!notices.is_empty(), "notices from the backend");
    assert!(shows(ui, &notices[0]));
    // Voice prompts can be switched off by the resident.
    assert!(a.get_voice_on());
    touch(ui, "语音提示开关");
    assert!(!a.get_voice_on());
    screenshot(ui, "home-notices.png");

    // The catalogue was cached: with the backend gone, a new kiosk on the
    // same data directory still shows every guide, and says how old.
    drop(app);
    let _ = stop_backend.send(());
    let config = common::config(&dead_backend_url(), &dir.join("data"), &[]);
    let app = kiosk::App::new(config, kiosk::Devices::default(), rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let g = ui.global::<GuideAdapter>();
    touch(ui, "办事指南");
    assert_eq!(g.get_total(), 36, "the cached catalogue");
    wait_until("the failed refresh", Duration::from_secs(20), || {
        g.get_offline()
    });
    assert!(shows(ui, "网络中断"));
    screenshot(ui, "guide-7-offline.png");
    drop(app);
    let _ = std::fs::remove_dir_all(dir);
}
