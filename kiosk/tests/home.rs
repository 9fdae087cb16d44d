//! The home screen: title, eight tiles with their Chinese labels, 即将开放
//! on the tiles that are not open yet, the language switch, and the
//! inactivity countdown that brings any other screen back home.
//!
//! One `#[test]` per binary: the Slint platform is set once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use kiosk::ui::{Activity, AppAdapter, Availability, Page};
use slint::ComponentHandle;

const TILES: [&str; 8] = [
    "我要办",
    "我要查",
    "我要取号 / 预约签到",
    "证照打印",
    "我要缴费",
    "我要评",
    "我要问",
    "办事指南",
];

#[test]
fn home_screen_tiles_language_and_inactivity() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("home");

    // A healthy reader on the simulator; no printer fitted.
    let sim = sim::idcard::IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
    let selector = format!("serial:{}?baud=115200", sim.path().display());
    let config = config(
        &dead_backend_url(),
        &dir.join("data"),
        &[("idcard", selector.clone())],
    );
    let reader: hal::actor::IdCardHandle =
        hal::actor::spawn("idcard", hal::DeviceKind::IdCardReader, move || {
            drivers::registry::open_id_card_reader(&selector.parse()?)
        })
        .unwrap();
    let devices = kiosk::Devices {
        idcard: Some(reader),
        receipt_printer: None,
        others: Vec::new(),
        ..Default::default()
    };
    let app = kiosk::App::new(config, devices, rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    wait_until("the reader to be open", Duration::from_secs(10), || {
        a.get_idcard() == Availability::Ok
    });

    // Title, clock and the eight tiles, found by their labels.
    assert_eq!(a.get_page(), Page::Home);
    assert!(shows(ui, "卫东区政务服务自助终端"));
    assert!(!a.get_time_text().is_empty() && a.get_date_text().contains('年'));
    for title in TILES {
        let tile = button(ui, title);
        assert!(
            tile.size().width >= 300.0 && tile.size().height >= 200.0,
            "{title} is a big touch target"
        );
    }
    // Journeys not built yet carry a visible 即将开放 badge; the open ones
    // describe themselves. (No printer is fitted here: 我要查 still opens,
    // its print button explains; see query_journey.rs.)
    assert_eq!(a.get_receipt_printer(), Availability::NotFitted);
    let open = ["我要查", "我要办", "办事指南"];
    for title in TILES.iter().filter(|t| !open.contains(*t)) {
        assert_eq!(
            button(ui, title).accessible_description().as_deref(),
            Some("即将开放"),
            "{title} says it is coming soon"
        );
    }
    assert_eq!(
        button(ui, "我要查").accessible_description().as_deref(),
        Some("刷身份证查询办件进度")
    );
    // 我要办 needs a document camera, which this kiosk lacks: it says so
    // and stays home.
    assert_eq!(
        button(ui, "我要办").accessible_description().as_deref(),
        Some("本机未配备高拍仪，暂停自助申请")
    );
    touch(ui, "我要办");
    assert_eq!(a.get_page(), Page::Home);
    assert!(a.get_toast().contains("高拍仪"));
    advance(Duration::from_secs(4));
    assert_eq!(
        button(ui, "办事指南").accessible_description().as_deref(),
        Some("事项目录 · 办理须知")
    );
    let shot = screenshot(ui, "home.png");
    eprintln!("home screen: {}", shot.display());
    for title in TILES {
        let at = button(ui, title).absolute_position();
        let size = button(ui, title).size();
        eprintln!(
            "tile {title}: centre ({}, {})",
            at.x + size.width / 2.0,
            at.y + size.height / 2.0
        );
    }

    // A tile that is not open yet says 即将开放 and stays home.
    touch(ui, "我要缴费");
    assert_eq!(a.get_page(), Page::Home);
    assert!(
        a.get_toast().contains("即将开放"),
        "toast: {}",
        a.get_toast()
    );
    assert!(shows(ui, "即将开放"));
    screenshot(ui, "home-coming-soon.png");
    advance(Duration::from_secs(4));
    assert_eq!(a.get_toast(), "", "the toast goes away by itself");

    // 中文 / English.
    touch(ui, "中文/English");
    assert_eq!(a.get_language(), "en");
    button(ui, "Track my cases");
    assert!(shows(ui, "Weidong District Self-Service Terminal"));
    screenshot(ui, "home-en.png");
    touch(ui, "中文/English");
    assert_eq!(a.get_language(), "zh");
    button(ui, "我要查");

    // 关怀模式 makes the type larger.
    let before = button(ui, "我要查").size();
    touch(ui, "关怀模式");
    let after = button(ui, "我要查").size();
    assert!(
        after.height >= before.height,
        "tiles do not shrink in 关怀模式"
    );
    touch(ui, "标准模式");

    // Inactivity: away from home, 60 s without a touch bring the
    // countdown, and its end brings the home screen.
    touch(ui, "我要查");
    assert_eq!(a.get_page(), Page::Query);
    wait_until("the card prompt", Duration::from_secs(5), || {
        shows(ui, "请将身份证放在感应区")
    });
    advance(Duration::from_secs(20));
    assert!(
        !shows(ui, "您还在使用吗？"),
        "no countdown while the resident is still in time"
    );
    // The card prompt has its own 30 s countdown: it goes home first.
    advance(Duration::from_secs(11));
    assert_eq!(
        a.get_page(),
        Page::Home,
        "the card prompt's countdown ends at home"
    );

    // The maintenance PIN screen has no countdown of its own.
    ui.global::<kiosk::ui::MaintenanceAdapter>().invoke_open();
    pump();
    assert_eq!(a.get_page(), Page::MaintenancePin);
    advance(Duration::from_secs(59));
    assert!(!shows(ui, "您还在使用吗？"));
    advance(Duration::from_secs(2));
    assert!(
        shows(ui, "您还在使用吗？"),
        "the inactivity countdown shows after 60 s"
    );
    screenshot(ui, "inactivity.png");
    // A touch keeps the session.
    touch(ui, "继续使用");
    assert_eq!(ui.global::<Activity>().get_idle_seconds(), 0);
    assert!(!shows(ui, "您还在使用吗？"));
    assert_eq!(a.get_page(), Page::MaintenancePin);
    // No touch: home after the countdown.
    advance(Duration::from_secs(61));
    assert!(shows(ui, "您还在使用吗？"));
    advance(Duration::from_secs(16));
    assert_eq!(
        a.get_page(),
        Page::Home,
        "home after the inactivity countdown"
    );
    assert!(!shows(ui, "您还在使用吗？"));

    drop(app);
    drop(sim);
    let _ = std::fs::remove_dir_all(dir);
}
