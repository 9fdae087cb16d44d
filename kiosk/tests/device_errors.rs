//! The journey's ways out: with the reader unplugged, 我要查 shows the
//! device error (Chinese and English) with 重试 and 返回首页, and the home
//! tiles say why they are unavailable; once replugged, 重试 works; with
//! the backend unreachable the card is read but the lookup fails with a
//! message and a way out, never a hang.
//!
//! One `#[test]` per binary: the Slint platform is set once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use kiosk::ui::{AppAdapter, Availability, Page, QueryAdapter, QueryError, QueryStage};
use sim::idcard::{IdCardSim, demo_person};
use slint::{ComponentHandle, Model};

#[test]
fn unplugged_reader_and_unreachable_backend_have_a_way_out() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("errors");

    let reader_sim = IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
    reader_sim.set_unplugged(true);
    let idcard = format!("serial:{}?baud=115200", reader_sim.path().display());
    let config = config(
        &dead_backend_url(),
        &dir.join("data"),
        &[("idcard", idcard.clone())],
    );
    let devices = kiosk::Devices {
        idcard: Some(reader(&idcard)),
        receipt_printer: None,
        others: Vec::new(),
        ..Default::default()
    };
    let app = kiosk::App::new(config, devices, rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    let q = ui.global::<QueryAdapter>();

    // The home tiles that need the reader say why they cannot be used.
    wait_until(
        "the reader to show offline",
        Duration::from_secs(10),
        || a.get_idcard() == Availability::Offline,
    );
    assert_eq!(
        button(ui, "我要查").accessible_description().as_deref(),
        Some("身份证阅读器离线，暂停服务")
    );
    screenshot(ui, "errors-home-reader-offline.png");

    // 我要查 explains the device error and offers 重试 and 返回首页.
    touch(ui, "我要查");
    wait_until("the device error", Duration::from_secs(10), || {
        q.get_stage() == QueryStage::Error
    });
    assert_eq!(q.get_error(), QueryError::ReaderOffline);
    assert!(shows(ui, "身份证阅读器暂时无法使用"));
    let detail = q.get_error_detail().to_string();
    assert!(
        detail.contains("（") && detail.chars().any(|c| c.is_ascii_alphabetic()),
        "Chinese and English: {detail}"
    );
    button(ui, "重试");
    button(ui, "返回首页");
    screenshot(ui, "errors-reader-offline.png");

    // 返回首页 is a way out.
    touch(ui, "返回首页");
    assert_eq!(a.get_page(), Page::Home);

    // Replugged: 重试 from the error screen gets to the prompt.
    touch(ui, "我要查");
    wait_until("the device error again", Duration::from_secs(10), || {
        q.get_stage() == QueryStage::Error
    });
    reader_sim.set_unplugged(false);
    wait_until("the reader to come back", Duration::from_secs(15), || {
        a.get_idcard() == Availability::Ok
    });
    touch(ui, "重试");
    assert_eq!(q.get_stage(), QueryStage::WaitCard);
    assert!(shows(ui, "请将身份证放在感应区"));

    // The card is read, but the backend cannot be reached: a message and
    // a way out, well within the deadlines.
    let started = Instant::now();
    reader_sim.lay_card(demo_person("zhangwei").unwrap());
    wait_until("the backend error", Duration::from_secs(30), || {
        q.get_stage() == QueryStage::Error
    });
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "no hang on a dead backend"
    );
    assert_eq!(q.get_error(), QueryError::BackendUnreachable);
    assert!(shows(ui, "暂时无法连接政务服务平台"));
    assert!(
        q.get_error_detail().contains("cannot be reached"),
        "{}",
        q.get_error_detail()
    );
    button(ui, "重试");
    screenshot(ui, "errors-backend-unreachable.png");
    // 重试 asks the backend again with the card already read.
    touch(ui, "重试");
    wait_until("the backend error again", Duration::from_secs(30), || {
        q.get_stage() == QueryStage::Error
    });
    assert_eq!(q.get_error(), QueryError::BackendUnreachable);
    assert!(app.holds_personal_data(), "the card stays for the retry");

    touch(ui, "返回首页");
    assert_eq!(a.get_page(), Page::Home);
    assert!(!app.holds_personal_data(), "wiped on the way home");
    assert_eq!(q.get_cases().row_count(), 0);
    assert_eq!(q.get_holder_name(), "");
    assert!(!shows(ui, "张伟"));

    drop(app);
    drop(reader_sim);
    let _ = std::fs::remove_dir_all(dir);
}
