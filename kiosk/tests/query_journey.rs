//! 我要查 end to end inside one process: the backend on 127.0.0.1:0 with a
//! seeded temporary database, the ID card reader and receipt printer
//! simulators behind the real drivers and actors, and the app's window on
//! the Slint testing platform. Touches go through accessible labels;
//! waits have deadlines and pump the event loop, never fixed sleeps.
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
use kiosk::ui::{AppAdapter, Availability, Page, QueryAdapter, QueryError, QueryStage};
use sim::idcard::{IdCardSim, demo_person};
use sim::printer::{PrinterSim, SimPaper};
use slint::{ComponentHandle, Model};

const ZHANG_WEI_ID: &str = "410403198503150013";
const ZHANG_WEI_MASKED: &str = "410403********0013";

#[test]
fn query_journey_from_card_to_receipt_and_back_home_wiped() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("query");
    let (backend_url, stop_backend) = start_backend(&rt, &dir);

    let reader_sim = IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
    let printer_sim = PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir.join("jobs")).unwrap();
    let idcard = format!("serial:{}?baud=115200", reader_sim.path().display());
    let receipt_printer = format!("tcp:{}", printer_sim.addr());
    let config = config(
        &backend_url,
        &dir.join("data"),
        &[
            ("idcard", idcard.clone()),
            ("receipt_printer", receipt_printer.clone()),
        ],
    );
    let devices = kiosk::Devices {
        idcard: Some(reader(&idcard)),
        receipt_printer: Some(printer(&receipt_printer)),
        others: Vec::new(),
        ..Default::default()
    };
    let app = kiosk::App::new(config, devices, rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    let q = ui.global::<QueryAdapter>();
    wait_until("both devices open", Duration::from_secs(10), || {
        a.get_idcard() == Availability::Ok && a.get_receipt_printer() == Availability::Ok
    });
    wait_until("enrolment", Duration::from_secs(30), || {
        app.backend().is_enrolled()
    });
    let credentials = std::fs::metadata(dir.join("data/credentials.json")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            credentials.permissions().mode() & 0o777,
            0o600,
            "credentials are the owner's only"
        );
    }

    // (a) The prompt.
    touch(ui, "我要查");
    assert_eq!(a.get_page(), Page::Query);
    assert_eq!(q.get_stage(), QueryStage::WaitCard);
    assert!(shows(ui, "请将身份证放在感应区"));
    button(ui, "返回");
    // The other ways sit beside the card prompt; without a face camera
    // the QR option says why.
    button(ui, "输入办件编号");
    assert_eq!(button(ui, "扫回执二维码").accessible_enabled(), Some(false));
    assert!(shows(ui, "本机未配备摄像头，暂不能扫码查询"));
    screenshot(ui, "query-1-prompt.png");

    // (b)+(c) Zhang Wei lays his card; his two cases show.
    reader_sim.lay_card(demo_person("zhangwei").unwrap());
    wait_until("the case list", Duration::from_secs(30), || {
        q.get_stage() == QueryStage::Results || q.get_stage() == QueryStage::Error
    });
    assert_eq!(
        q.get_stage(),
        QueryStage::Results,
        "error instead: {}",
        q.get_error_detail()
    );
    let cases: Vec<_> = q.get_cases().iter().collect();
    assert_eq!(cases.len(), 2);
    assert_eq!(q.get_masked_id(), ZHANG_WEI_MASKED);
    assert_eq!(q.get_holder_name(), "张伟");
    assert!(shows(ui, ZHANG_WEI_MASKED));
    assert!(!shows(ui, ZHANG_WEI_ID), "the full ID number never shows");
    for c in &cases {
        assert_eq!(c.case_number.len(), 20);
        assert!(shows(ui, &c.case_number));
        assert!(!c.matter_name.is_empty() && !c.department.is_empty() && !c.status_zh.is_empty());
        assert_eq!(c.submitted.len(), 10, "a date: {}", c.submitted);
    }
    screenshot(ui, "query-2-results.png");
    let at = button(ui, "打印回执").absolute_position();
    let size = button(ui, "打印回执").size();
    eprintln!(
        "打印回执: centre ({}, {})",
        at.x + size.width / 2.0,
        at.y + size.height / 2.0
    );

    // (d) Out of paper: the list stays and says why.
    printer_sim.set_paper(SimPaper::Out);
    touch(ui, "打印回执");
    wait_until("the print to fail", Duration::from_secs(30), || {
        q.get_stage() != QueryStage::Printing
    });
    assert_eq!(q.get_stage(), QueryStage::Results);
    assert_eq!(q.get_print_error(), QueryError::PrinterPaperOut);
    assert!(shows(ui, "凭条打印机缺纸"));
    assert_eq!(q.get_cases().row_count(), 2, "the list stays on screen");
    button(ui, "返回首页");
    screenshot(ui, "query-2b-paper-out.png");

    // Paper back: the receipt prints.
    printer_sim.set_paper(SimPaper::Ok);
    touch(ui, "打印回执");
    wait_until("the printed screen", Duration::from_secs(30), || {
        q.get_stage() != QueryStage::Printing
    });
    assert_eq!(
        q.get_stage(),
        QueryStage::Printed,
        "print failed: {}",
        q.get_error_detail()
    );
    assert!(shows(ui, "请取走回执"));
    screenshot(ui, "query-3-printed.png");

    let jobs = printer_sim.wait_for_jobs(1, Duration::from_secs(10));
    assert_eq!(jobs.len(), 1, "one receipt printed");
    let job = &jobs[0];
    assert!(job.text.contains("办件查询回执"), "{}", job.text);
    assert!(
        job.text.contains(ZHANG_WEI_MASKED),
        "masked ID on the receipt: {}",
        job.text
    );
    assert!(!job.text.contains(ZHANG_WEI_ID), "never the full ID number");
    assert!(
        job.text.contains("张*") && !job.text.contains("张伟"),
        "the given name is masked"
    );
    for c in &cases {
        assert!(
            job.text.contains(c.case_number.as_str()),
            "case {} on the receipt",
            c.case_number
        );
    }
    assert_eq!(
        job.qr_codes.first().map(String::as_str),
        Some(cases[0].case_number.as_str())
    );
    assert!(job.cut, "the receipt is cut");

    // Back home: nothing personal anywhere.
    touch(ui, "完成");
    assert_eq!(a.get_page(), Page::Home);
    assert_wiped(&app);

    // Wang Haoran has no cases; 返回首页 from the list wipes too.
    touch(ui, "我要查");
    reader_sim.remove_card();
    reader_sim.lay_card(demo_person("wanghaoran").unwrap());
    wait_until("the empty list", Duration::from_secs(30), || {
        q.get_stage() == QueryStage::Results || q.get_stage() == QueryStage::Error
    });
    assert_eq!(
        q.get_stage(),
        QueryStage::Results,
        "error instead: {}",
        q.get_error_detail()
    );
    assert_eq!(q.get_cases().row_count(), 0);
    assert!(shows(ui, "暂无办件记录"));
    screenshot(ui, "query-4-no-cases.png");
    touch(ui, "返回首页");
    assert_eq!(a.get_page(), Page::Home);
    assert_wiped(&app);

    drop(app);
    let _ = stop_backend.send(());
    drop(reader_sim);
    drop(printer_sim);
    let _ = std::fs::remove_dir_all(dir);
}

fn assert_wiped(app: &kiosk::App) {
    let ui = app.window();
    let q = ui.global::<QueryAdapter>();
    pump();
    assert!(
        !app.holds_personal_data(),
        "the card read and the cases are wiped"
    );
    assert_eq!(q.get_cases().row_count(), 0);
    assert_eq!(q.get_holder_name(), "");
    assert_eq!(q.get_masked_id(), "");
    assert_eq!(q.get_error_detail(), "");
    let strings = all_strings(ui);
    for needle in [
        "张伟",
        "王浩然",
        ZHANG_WEI_ID,
        ZHANG_WEI_MASKED,
        "0013",
        "410403200109220036",
    ] {
        assert!(
            !strings.iter().any(|s| s.contains(needle)),
            "{needle:?} still on screen"
        );
    }
}
