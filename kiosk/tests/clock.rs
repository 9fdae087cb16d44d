//! R8 at the kiosk: the platform's clock (the backend's injected clock,
//! which its heartbeat answers carry) is an hour ahead of the kiosk's.
//! The kiosk's clock is then "off": the 我要办 tile is paused with
//! 本机时间未校准 and does not open, 我要查 lists the cases but prints no
//! receipt, the maintenance screen shows the state and the skew, and the
//! change is logged once. When the platform's clock agrees again, 我要办
//! opens again (the heartbeat rechecks every 10 s while the clock is off).
//!
//! One `#[test]` per binary: the Slint platform is set once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/journey.rs"]
mod journey;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::*;
use journey::{Logs, Sims};
use kiosk::ui::{AppAdapter, Availability, MaintenanceAdapter, Page, QueryAdapter, QueryStage};
use slint::ComponentHandle;

/// The platform's clock: the system clock plus an offset the test sets.
#[derive(Debug, Default)]
struct OffsetClock {
    seconds: AtomicI64,
}

impl OffsetClock {
    fn set(&self, offset: TimeDelta) {
        self.seconds.store(offset.num_seconds(), Ordering::SeqCst);
    }
}

impl backend::Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + TimeDelta::seconds(self.seconds.load(Ordering::SeqCst))
    }
}

#[test]
fn an_off_clock_pauses_applications_and_receipts() {
    let logs = Logs::capture();
    init_platform();
    let rt = runtime();
    let dir = temp_dir("clock");
    let platform_clock = Arc::new(OffsetClock::default());
    platform_clock.set(TimeDelta::hours(1));
    let (url, _stop) = start_backend_with_clock(
        &rt,
        &dir,
        Arc::clone(&platform_clock) as Arc<dyn backend::Clock>,
    );
    let sims = Sims::start(&dir, true);
    let app = kiosk::App::new(
        config(&url, &dir.join("data"), &sims.selectors),
        sims.devices(),
        rt.handle().clone(),
    )
    .unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    wait_until("the devices", Duration::from_secs(30), || {
        a.get_idcard() == Availability::Ok
            && a.get_doc_camera() == Availability::Ok
            && a.get_receipt_printer() == Availability::Ok
    });

    // The first heartbeat answers an hour ahead: the clock is off.
    wait_until("the clock check", Duration::from_secs(60), || {
        !a.get_clock_ok()
    });
    assert_eq!(
        button(ui, "我要办").accessible_description().as_deref(),
        Some("本机时间未校准，暂停自助申请")
    );
    touch(ui, "我要办");
    assert_eq!(a.get_page(), Page::Home, "a paused 我要办 does not open");
    assert_eq!(a.get_toast(), "本机时间未校准，暂停自助申请");
    screenshot(ui, "clock-off-home.png");
    touch(ui, "中文/English");
    assert_eq!(
        button(ui, "Apply").accessible_description().as_deref(),
        Some("Clock not set: applying here is paused")
    );
    screenshot(ui, "clock-off-home-en.png");
    touch(ui, "中文/English");
    // The same paused tile asked from Rust (a stale screen) stays home too.
    ui.global::<kiosk::ui::HomeAdapter>()
        .invoke_tile_clicked("apply".into());
    pump();
    assert_eq!(a.get_page(), Page::Home);
    advance(Duration::from_secs(4));
    let log = logs.text();
    assert_eq!(
        log.matches("the kiosk's clock is off").count(),
        1,
        "logged once: {log}"
    );
    assert!(
        log.contains("skew=-01:00:0") || log.contains("skew=-00:59:5"),
        "about an hour behind: {log}"
    );

    // 我要查 still lists the cases, but prints no receipt.
    touch(ui, "我要查");
    assert_eq!(a.get_page(), Page::Query);
    let q = ui.global::<QueryAdapter>();
    sims.lay_zhang_wei();
    wait_until("the case list", Duration::from_secs(30), || {
        matches!(q.get_stage(), QueryStage::Results | QueryStage::Error)
    });
    assert_eq!(
        q.get_stage(),
        QueryStage::Results,
        "{}",
        q.get_error_detail()
    );
    touch(ui, "打印回执");
    assert_eq!(q.get_stage(), QueryStage::Results, "the list stays");
    assert!(
        a.get_toast().contains("本机时间未校准，暂不能打印回执"),
        "toast: {}",
        a.get_toast()
    );
    assert!(shows(ui, "本机时间未校准，暂不能打印回执"));
    screenshot(ui, "clock-off-query.png");
    let printer = sims.printer.as_ref().unwrap();
    assert!(
        printer.wait_for_jobs(1, Duration::from_secs(2)).is_empty(),
        "nothing printed"
    );
    app.go_home();
    sims.reader.remove_card();

    // The maintenance screen says why, with the skew.
    for _ in 0..5 {
        touch(ui, "终端维护入口");
    }
    assert_eq!(a.get_page(), Page::MaintenancePin);
    for d in "246810".chars() {
        touch(ui, &d.to_string());
    }
    touch(ui, "确认");
    assert_eq!(a.get_page(), Page::Maintenance);
    let m = ui.global::<MaintenanceAdapter>();
    assert_eq!(m.get_clock_state(), "skewed");
    let skew = m.get_clock_skew().to_string();
    assert!(
        skew.starts_with("-01:00:0") || skew.starts_with("-00:59:5"),
        "an hour behind the platform (server time has whole seconds): {skew}"
    );
    assert!(shows(ui, "本机时钟"));
    assert!(shows(ui, "未校准"));
    assert!(shows(ui, &format!("与平台相差：{skew}")));
    assert!(shows(ui, "相差超过2分钟：暂停自助申请，不打印回执"));
    screenshot(ui, "clock-off-maintenance.png");
    app.go_home();

    // The platform's clock agrees again: 我要办 opens once a heartbeat says so.
    platform_clock.set(TimeDelta::zero());
    wait_until(
        "the clock to be right again",
        Duration::from_secs(60),
        || a.get_clock_ok(),
    );
    assert_eq!(
        button(ui, "我要办").accessible_description().as_deref(),
        Some("事项申报 · 材料提交")
    );
    open_tile(ui, "我要办", Page::Guide);
    assert!(
        logs.text().contains("the kiosk's clock is right again"),
        "the recovery is logged"
    );
    app.go_home();
    assert_eq!(ui.global::<MaintenanceAdapter>().get_clock_state(), "ok");

    drop(app);
    let _ = std::fs::remove_dir_all(dir);
}
