//! R2 at the kiosk: the backend goes away in the middle of 我要办.
//!
//! 张伟 starts 无犯罪记录证明 with the backend up (kiosk enrolled, catalogue
//! fetched); after his card is read the backend stops and nothing answers
//! on its address any more. He finishes and submits: the screen says the
//! application is saved and will be sent when the network is back, the
//! receipt says 已保存，待提交 with the kiosk's reference and no case
//! number, and the outbox holds it, body and all. A second application is
//! made while the backend is still away. Then the backend comes back on
//! the same address and database: without anyone touching the kiosk both
//! cases arrive exactly once, in the order they were made, with their
//! materials; the outbox entries become delivered and their personal
//! bodies are gone from the outbox's files. No log line carries the full
//! ID number (P3).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "common/journey.rs"]
mod journey;

use std::time::Duration;

use common::*;
use journey::*;
use kiosk::ui::{AppAdapter, ApplyAdapter, ApplyStage, Page};
use slint::ComponentHandle;

/// How long the test waits for the outbox to deliver after the backend is
/// back: the delivery loop's backoff (1 s doubling to 60 s, ±20 %) may
/// have to run out first.
const REDELIVERY: Duration = Duration::from_secs(100);

/// The done stage says queued; the receipt says 待提交 with the entry's
/// reference and no case number.
fn check_queued(ui: &kiosk::ui::MainWindow, sims: &Sims, jobs: usize, key: &str) {
    let a = ui.global::<ApplyAdapter>();
    assert!(
        a.get_queued(),
        "the backend is away: the screen says queued"
    );
    assert_eq!(a.get_case_number(), "", "no case number while queued");
    assert!(shows(ui, "申请已保存，网络恢复后自动提交"));
    assert!(!shows(ui, "申请已提交"));
    wait_until("the receipt", Duration::from_secs(30), || {
        a.get_print_state() != "printing"
    });
    assert_eq!(a.get_print_state(), "printed", "{}", a.get_print_message());
    let printer = sims.printer.as_ref().unwrap();
    let all = printer.wait_for_jobs(jobs, Duration::from_secs(10));
    assert_eq!(all.len(), jobs, "one receipt per application");
    let text = &all.last().unwrap().text;
    assert!(text.contains("状态：已保存，待提交"), "{text}");
    assert!(
        text.contains(&format!(
            "终端受理号：{}",
            kiosk::receipt::short_reference(key)
        )),
        "the receipt names the outbox entry: {text}"
    );
    assert!(!text.contains("办件编号："), "no case number yet: {text}");
    assert!(text.contains(ZHANG_WEI_MASKED) && !text.contains(ZHANG_WEI_ID));
    assert!(
        all.last().unwrap().qr_codes.is_empty(),
        "no track QR without a case"
    );
}

#[test]
fn the_backend_stops_mid_journey_and_the_queued_cases_arrive_once_in_order() {
    init_platform();
    let logs = Logs::capture();
    let rt = runtime();
    let dir = temp_dir("offline");
    let mut backend = Backend::start(&rt, &dir, "127.0.0.1:0".parse().unwrap());
    let sims = Sims::start(&dir, true);
    let data = dir.join("data");
    let app = kiosk::App::new(
        config(&backend.url, &data, &sims.selectors),
        sims.devices(),
        rt.handle().clone(),
    )
    .unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<ApplyAdapter>();
    wait_until("enrolment", Duration::from_secs(30), || {
        app.backend().is_enrolled()
    });
    let kiosk_id = app.backend().kiosk_id().unwrap();
    assert!(kiosk_cases(&backend.db(), &kiosk_id).is_empty());

    // Online: the guide from the fetched catalogue, the card read.
    open_matter(ui);
    card_to_form(ui, &sims);

    // The backend goes away mid-journey.
    backend.stop(&rt);

    // He finishes and submits.
    fill_form(ui);
    materials(ui);
    submit(ui);
    let view = outbox_view(&data);
    let pending = view.pending().unwrap();
    assert_eq!(pending.len(), 1, "one application waits: {pending:?}");
    let first = pending[0].clone();
    assert!(first.has_body, "its body is kept until delivery");
    assert_eq!(first.label.matter, MATTER);
    assert!(!first.label.applicant.contains(ZHANG_WEI_ID));
    assert!(first.attempts >= 1, "delivery was tried: {first:?}");
    check_queued(ui, &sims, 1, &first.idempotency_key);
    screenshot(ui, "apply-offline-done.png");
    touch(ui, "完成");
    assert_eq!(ui.global::<AppAdapter>().get_page(), Page::Home);
    assert!(!app.holds_personal_data());

    // A second application while the backend is still away.
    to_review(ui, &sims);
    submit(ui);
    let pending = view.pending().unwrap();
    assert_eq!(pending.len(), 2, "both wait: {pending:?}");
    let second = pending[1].clone();
    assert!(second.seq > first.seq);
    assert_ne!(second.idempotency_key, first.idempotency_key);
    check_queued(ui, &sims, 2, &second.idempotency_key);
    touch(ui, "完成");
    assert_eq!(a.get_stage(), ApplyStage::WaitCard, "the page is cleared");
    assert!(
        kiosk_cases(&rusqlite::Connection::open(&backend.db).unwrap(), &kiosk_id).is_empty(),
        "nothing reached the stopped backend"
    );

    // The backend comes back on the same address and database; nobody
    // touches the kiosk.
    let addr = backend.addr;
    drop(backend);
    let backend = Backend::start(&rt, &dir, addr);
    wait_until("both applications delivered", REDELIVERY, || {
        [first.seq, second.seq].iter().all(|&seq| {
            view.get(seq)
                .unwrap()
                .is_some_and(|e| e.state == outbox::State::Delivered)
        })
    });

    // Exactly once each, in order, with their materials.
    let cases = kiosk_cases(&backend.db(), &kiosk_id);
    assert_eq!(cases.len(), 2, "two cases, no more: {cases:?}");
    let mut ids = Vec::new();
    for entry in [&first, &second] {
        let mine: Vec<&BackendCase> = cases
            .iter()
            .filter(|c| c.idempotency_key == entry.idempotency_key)
            .collect();
        assert_eq!(mine.len(), 1, "exactly once: {entry:?} {cases:?}");
        assert_eq!(mine[0].materials, 2, "one page per required material");
        let delivered = view.get(entry.seq).unwrap().unwrap();
        assert!(!delivered.has_body, "the body is gone once delivered");
        assert!(view.item(entry.seq).unwrap().is_none());
        let reply = delivered.reply.unwrap();
        assert_eq!(reply.case_number, mine[0].case_number);
        ids.push(mine[0].id);
    }
    // While the backend was out of reach no entry was at fault: the
    // queue kept its order and the cases are filed in the order made.
    assert!(
        ids[0] < ids[1],
        "the first application is filed first: {ids:?}"
    );
    assert!(view.pending().unwrap().is_empty());
    assert_eq!(view.integrity_check().unwrap(), Vec::<String>::new());

    // Once the queue has drained the WAL is checkpointed: no copy of the
    // ID number is left in the outbox's files.
    wait_until("the outbox files wiped", Duration::from_secs(20), || {
        !outbox_files_hold(&data, ZHANG_WEI_ID)
    });
    let text = logs.text();
    assert!(
        text.contains("outbox entry delivered"),
        "the log is captured"
    );
    assert!(
        !text.contains(ZHANG_WEI_ID),
        "no full ID number in the log (P3)"
    );

    drop(view);
    drop(app);
    drop(backend);
    let _ = std::fs::remove_dir_all(dir);
}
