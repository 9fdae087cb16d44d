//! The maintenance screens: five taps on the top-left corner within 3 s
//! open the PIN prompt; three wrong PINs lead home; the right PIN shows
//! every device's health, the backend link (reachable, kiosk id) and the
//! version; 自检 runs every device's self-test; 退出 goes home.
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
use kiosk::ui::{AppAdapter, Availability, MaintenanceAdapter, Page};
use sim::idcard::IdCardSim;
use slint::{ComponentHandle, Model};

fn corner_taps(ui: &kiosk::ui::MainWindow, n: usize) {
    for _ in 0..n {
        touch(ui, "终端维护入口");
    }
}

fn type_pin(ui: &kiosk::ui::MainWindow, pin: &str) {
    for d in pin.chars() {
        touch(ui, &d.to_string());
    }
    touch(ui, "确认");
}

#[test]
fn gesture_pin_health_and_self_test() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("maint");
    let (backend_url, stop_backend) = start_backend(&rt, &dir);
    let reader_sim = IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
    let idcard = format!("serial:{}?baud=115200", reader_sim.path().display());
    // A printer configured where nothing listens: offline.
    let dead_printer = format!("tcp:{}", dead_backend_url().trim_start_matches("http://"));
    let config = config(
        &backend_url,
        &dir.join("data"),
        &[
            ("idcard", idcard.clone()),
            ("receipt_printer", dead_printer.clone()),
        ],
    );
    let devices = kiosk::Devices {
        idcard: Some(reader(&idcard)),
        receipt_printer: Some(printer(&dead_printer)),
        others: Vec::new(),
        ..Default::default()
    };
    let app = kiosk::App::new(config, devices, rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    let m = ui.global::<MaintenanceAdapter>();
    wait_until("the reader", Duration::from_secs(10), || {
        a.get_idcard() == Availability::Ok
    });
    wait_until("enrolment", Duration::from_secs(30), || {
        app.backend().is_enrolled()
    });

    // Four taps do nothing; taps spread over more than 3 s do nothing.
    corner_taps(ui, 4);
    assert_eq!(a.get_page(), Page::Home);
    advance(Duration::from_secs(4));
    corner_taps(ui, 4);
    assert_eq!(a.get_page(), Page::Home);
    advance(Duration::from_secs(4));

    // Five quick taps: the PIN prompt. Three wrong PINs: home.
    corner_taps(ui, 5);
    assert_eq!(a.get_page(), Page::MaintenancePin);
    screenshot(ui, "maintenance-pin.png");
    type_pin(ui, "1111");
    assert!(m.get_pin_wrong());
    assert_eq!(m.get_attempts_left(), 2);
    assert!(shows(ui, "密码错误，还可尝试 2 次"));
    type_pin(ui, "2222");
    assert_eq!(a.get_page(), Page::MaintenancePin);
    type_pin(ui, "3333");
    assert_eq!(a.get_page(), Page::Home, "three wrong PINs lead home");
    assert!(a.get_toast().contains("维护密码错误次数过多"));
    advance(Duration::from_secs(4));
    assert_eq!(a.get_toast(), "");

    // The right PIN.
    corner_taps(ui, 5);
    assert_eq!(a.get_page(), Page::MaintenancePin);
    assert_eq!(m.get_pin_length(), 0);
    touch(ui, "9");
    touch(ui, "删除");
    assert_eq!(m.get_pin_length(), 0);
    type_pin(ui, "246810");
    assert_eq!(a.get_page(), Page::Maintenance);

    let rows: Vec<_> = m.get_devices().iter().collect();
    assert_eq!(rows.len(), 2);
    let idcard_row = rows.iter().find(|r| r.name == "idcard").unwrap();
    assert_eq!(idcard_row.kind_zh, "身份证阅读器");
    assert_eq!(idcard_row.state, "ok");
    let printer_row = rows.iter().find(|r| r.name == "receipt_printer").unwrap();
    assert_eq!(printer_row.kind_zh, "凭条打印机");
    assert_eq!(printer_row.state, "offline");
    assert!(!printer_row.fault_code.is_empty());
    wait_until("the backend status", Duration::from_secs(10), || {
        m.get_backend_reachable()
    });
    assert!(!m.get_kiosk_id().is_empty(), "the enrolled kiosk id shows");
    assert_eq!(m.get_version(), env!("CARGO_PKG_VERSION"));

    touch(ui, "自检");
    wait_until("the self-test", Duration::from_secs(30), || {
        !m.get_self_test_running() && !m.get_self_test_result().is_empty()
    });
    let result = m.get_self_test_result().to_string();
    assert!(
        result.contains("身份证阅读器") && result.contains("凭条打印机"),
        "{result}"
    );
    let idcard_row = m.get_devices().iter().find(|r| r.name == "idcard").unwrap();
    assert!(
        !idcard_row.last_self_test.is_empty(),
        "the self-test time shows"
    );
    screenshot(ui, "maintenance.png");

    // The report cannot print on a printer that is offline, and says so.
    touch(ui, "打印自检报告");
    wait_until("the report", Duration::from_secs(30), || {
        m.get_report_state() != "printing"
    });
    assert_eq!(m.get_report_state(), "failed");
    assert!(shows(ui, "自检报告未能打印"));

    // The outbox: nothing queued on this kiosk.
    touch(ui, "提交队列");
    assert_eq!(m.get_tab(), "outbox");
    wait_until("the outbox counts", Duration::from_secs(10), || {
        shows(ui, "队列为空")
    });
    assert_eq!(m.get_outbox_pending(), 0);
    touch(ui, "立即同步");
    screenshot(ui, "maintenance-outbox-empty.png");

    // The log: each device's health changes with the time.
    touch(ui, "运行日志");
    let history: Vec<_> = m.get_history().iter().collect();
    assert!(
        history
            .iter()
            .any(|h| h.device == "receipt_printer" && h.state == "offline"),
        "{history:?}"
    );
    assert!(
        history
            .iter()
            .any(|h| h.device == "idcard" && h.state == "ok")
    );
    screenshot(ui, "maintenance-log.png");
    touch(ui, "设备");

    // Every entry was reported to the platform.
    let db = rusqlite::Connection::open(dir.join("backend.db")).unwrap();
    wait_until("the entry alert", Duration::from_secs(10), || {
        db.query_row(
            "SELECT COUNT(*) FROM kiosk_alert WHERE kind = 'maintenance_entry'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
            == 1
    });

    touch(ui, "退出");
    assert_eq!(a.get_page(), Page::Home);

    drop(app);
    let _ = stop_backend.send(());
    drop(reader_sim);
    let _ = std::fs::remove_dir_all(dir);
}
