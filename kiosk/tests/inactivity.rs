//! Privacy when the resident walks away (P3, S8).
//!
//! 张伟 lays his card in 我要办 (无犯罪记录证明), fills the form and has
//! his first material photographed (a sealed page file lies in
//! `data/sealed`); then nobody touches the screen. After the inactivity
//! limit (60 s of Slint's mock time) "您还在使用吗？" counts down, and the
//! kiosk goes home by itself: the session holds nothing personal, no name,
//! ID number or form value is left in any string on screen, the sealed
//! page is deleted. The same in 关怀模式, where the limit is doubled: no
//! warning at 60 s, the warning at 120 s, this time with the on-screen
//! keyboard open on a half-typed field, which closes; 关怀模式 is off
//! again for the next person. No log line of the whole run carries the
//! full ID number.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/journey.rs"]
mod journey;

use std::path::Path;
use std::time::Duration;

use common::*;
use journey::*;
use kiosk::ui::{AppAdapter, ApplyAdapter, ApplyStage, KeyboardAdapter, MainWindow, Page, Theme};
use slint::{ComponentHandle, Model};

const WARNING: &str = "您还在使用吗？";

/// What must not be on screen once the kiosk went home.
fn personal(card: &sim::idcard::SimCard) -> Vec<String> {
    vec![
        card.name.clone(),
        card.id_number.clone(),
        card.masked_id(),
        card.address.clone(),
        RECEIVER.to_owned(),
        "中国".to_owned(),
        "zhongguo".to_owned(),
    ]
}

/// Nobody touches the screen: no warning at `quiet_until` nor 2 s before
/// `limit`, the warning by `limit + 1 s`, home after the 15 s countdown;
/// then nothing personal is left.
fn walk_away(app: &kiosk::App, ui: &MainWindow, data: &Path, limit: u64, quiet_until: u64) {
    let card = sim::idcard::demo_person("zhangwei").unwrap();
    advance(Duration::from_secs(quiet_until));
    assert!(
        !shows(ui, WARNING),
        "no warning after {quiet_until} s (the limit is {limit} s)"
    );
    assert_eq!(ui.global::<AppAdapter>().get_page(), Page::Apply);
    advance(Duration::from_secs(limit - 2 - quiet_until));
    assert!(!shows(ui, WARNING), "no warning 2 s before the limit");
    advance(Duration::from_secs(3));
    assert!(shows(ui, WARNING), "the warning after {limit} s");
    assert!(shows(ui, "剩余 15 秒") || shows(ui, "剩余 14 秒"));
    screenshot(ui, &format!("inactivity-warning-{limit}s.png"));
    advance(Duration::from_secs(16));
    assert_eq!(
        ui.global::<AppAdapter>().get_page(),
        Page::Home,
        "home by itself"
    );
    assert!(!shows(ui, WARNING));
    assert!(!app.holds_personal_data(), "the session is wiped");
    assert!(
        !ui.global::<KeyboardAdapter>().get_open(),
        "the keyboard is closed"
    );
    assert_eq!(ui.global::<KeyboardAdapter>().get_text(), "");
    assert!(!ui.global::<Theme>().get_elderly(), "关怀模式 is reset");
    let strings = all_strings(ui);
    for needle in personal(&card) {
        assert!(
            !strings.iter().any(|s| s.contains(&needle)),
            "{needle:?} still on screen"
        );
    }
    assert_eq!(sealed_files(data), 0, "no sealed page left");
    let a = ui.global::<ApplyAdapter>();
    assert_eq!(a.get_holder_name(), "", "the models are cleared");
    assert_eq!(a.get_masked_id(), "");
    assert_eq!(a.get_fields().row_count(), 0);
    assert_eq!(a.get_materials().row_count(), 0);
}

#[test]
fn an_abandoned_journey_is_wiped_after_the_inactivity_limit() {
    init_platform();
    let logs = Logs::capture();
    let rt = runtime();
    let dir = temp_dir("inactivity");
    let backend = Backend::start(&rt, &dir, "127.0.0.1:0".parse().unwrap());
    let sims = Sims::start(&dir, false);
    let data = dir.join("data");
    let app = kiosk::App::new(
        config(&backend.url, &data, &sims.selectors),
        sims.devices(),
        rt.handle().clone(),
    )
    .unwrap();
    show(&app);
    let ui = app.window();
    wait_until("enrolment", Duration::from_secs(30), || {
        app.backend().is_enrolled()
    });
    let card = sim::idcard::demo_person("zhangwei").unwrap();
    let baseline = all_strings(ui);
    for needle in personal(&card) {
        assert!(
            !baseline.iter().any(|s| s.contains(&needle)),
            "{needle:?} is on the home screen before any journey"
        );
    }

    // Standard mode: the form filled, the first page photographed.
    open_matter(ui);
    card_to_form(ui, &sims);
    fill_form(ui);
    first_page(ui);
    assert_eq!(sealed_files(&data), 1, "the page is sealed on disk");
    assert!(app.holds_personal_data());
    assert_eq!(ui.global::<ApplyAdapter>().get_holder_name(), card.name);
    walk_away(&app, ui, &data, 60, 55);

    // 关怀模式: the limit is doubled. The keyboard stays open on a
    // half-typed field.
    touch(ui, "关怀模式");
    assert!(ui.global::<Theme>().get_elderly());
    open_matter(ui);
    card_to_form(ui, &sims);
    start_form(ui);
    assert_eq!(stage(ui), ApplyStage::Form);
    assert!(ui.global::<KeyboardAdapter>().get_open());
    assert!(shows(ui, "中国"));
    walk_away(&app, ui, &data, 120, 65);

    let text = logs.text();
    assert!(text.contains("Expired"), "the log is captured");
    assert!(
        !text.contains(ZHANG_WEI_ID),
        "no full ID number in the log (P3)"
    );

    drop(app);
    drop(backend);
    let _ = std::fs::remove_dir_all(dir);
}
