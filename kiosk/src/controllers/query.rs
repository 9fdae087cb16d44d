//! `QueryAdapter`: the 我要查 journey.
//!
//! (a) 请将身份证放在感应区 with a countdown, waiting for the reader's
//! `CardLaid` (or a card already lying there); (b) the card is read
//! through the hal handle; (c) the backend lists the holder's cases;
//! (d) 打印回执 prints the receipt; then back home. Every call has a
//! deadline; every failure shows what happened in Chinese and English
//! with 重试 and 返回首页.

use std::sync::Arc;

use hal::actor::{DeviceEvent, IdCardHandle};
use hal::idcard::{CardPresence, mask_id_number};
use hal::{DeviceError, ErrorKind, Health};
use proto::CaseSummary;
use slint::{ComponentHandle, ModelRc, VecModel, Weak};
use tokio::sync::broadcast;

use crate::app::{RetryPoint, Shared, scrub};
use crate::backend_client::{BackendError, BackendErrorKind};
use crate::controllers::app::{HomeReason, go_home};
use crate::receipt::{self, QueryReceipt};
use crate::ui::{AppAdapter, CaseRow, MainWindow, Page, QueryAdapter, QueryError, QueryStage};

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) {
    let q = ui.global::<QueryAdapter>();
    let home = |reason: HomeReason| {
        let (weak, shared) = (ui.as_weak(), Arc::clone(shared));
        move || {
            if let Some(ui) = weak.upgrade() {
                go_home(&ui, &shared, reason);
            }
        }
    };
    q.on_back(home(HomeReason::Back));
    q.on_done(home(HomeReason::Finished));
    q.on_countdown_expired(home(HomeReason::Timeout));

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    q.on_retry(move || {
        if let Some(ui) = weak.upgrade() {
            retry(&ui, &sh);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    q.on_print_receipt(move || {
        if let Some(ui) = weak.upgrade() {
            print(&ui, &sh);
        }
    });
}

/// Clears everything the journey put on screen.
pub(crate) fn clear(ui: &MainWindow, shared: &Shared) {
    let q = ui.global::<QueryAdapter>();
    q.set_stage(QueryStage::WaitCard);
    q.set_seconds_left(seconds(shared.timeouts.card_wait));
    q.set_holder_name("".into());
    q.set_masked_id("".into());
    q.set_cases(ModelRc::default());
    q.set_error(QueryError::None);
    q.set_print_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_can_retry(true);
    q.set_printer_available(shared.devices.receipt_printer.is_some());
}

fn seconds(d: std::time::Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Starts the journey from the home screen.
pub(crate) fn start(ui: &MainWindow, shared: &Arc<Shared>) {
    go_home(ui, shared, HomeReason::JourneyStart);
    ui.global::<AppAdapter>().set_page(Page::Query);
    wait_for_card(ui, shared);
}

/// Stage (a): the prompt, and a task waiting for the card.
fn wait_for_card(ui: &MainWindow, shared: &Arc<Shared>) {
    let generation = {
        let mut s = shared.session();
        if let Some(mut card) = s.card.take() {
            card.wipe();
        }
        s.retry = RetryPoint::Card;
        s.generation
    };
    let q = ui.global::<QueryAdapter>();
    q.set_stage(QueryStage::WaitCard);
    q.set_seconds_left(seconds(shared.timeouts.card_wait));
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    ui.global::<AppAdapter>().set_busy(false);
    let Some(reader) = shared.devices.idcard.clone() else {
        show_error(ui, QueryError::ReaderNotFitted, String::new(), false);
        return;
    };
    let task = read_card(Arc::clone(shared), ui.as_weak(), generation, reader);
    shared.spawn_for(generation, task);
}

/// Runs `f` on the UI thread if the session `generation` is still the
/// current one; results of an ended journey are dropped.
fn on_ui(
    shared: &Arc<Shared>,
    weak: &Weak<MainWindow>,
    generation: u64,
    f: impl FnOnce(&MainWindow) + Send + 'static,
) {
    let shared = Arc::clone(shared);
    let _ = weak.upgrade_in_event_loop(move |ui| {
        if shared.generation() == generation {
            f(&ui);
        }
    });
}

fn show_error(ui: &MainWindow, error: QueryError, detail: String, can_retry: bool) {
    let q = ui.global::<QueryAdapter>();
    q.set_error(error);
    q.set_error_detail(detail.into());
    q.set_can_retry(can_retry);
    q.set_stage(QueryStage::Error);
    ui.global::<AppAdapter>().set_busy(false);
}

pub(crate) fn device_detail(e: &DeviceError) -> String {
    format!("{} · {}", e.user_message(), e.kind().code())
}

pub(crate) fn health_detail(h: &Health) -> String {
    match &h.fault_code {
        Some(code) => format!("{}（{}） · {code}", h.text_zh, h.text_en),
        None => format!("{}（{}）", h.text_zh, h.text_en),
    }
}

fn backend_detail(e: &BackendError) -> String {
    format!("{} · {}", e.user_message(), e.code())
}

/// The reader's error as the journey explains it.
pub(crate) fn reader_error(kind: ErrorKind) -> QueryError {
    match kind {
        ErrorKind::Timeout => QueryError::ReaderTimeout,
        ErrorKind::NoCard | ErrorKind::CardRead | ErrorKind::Cancelled => {
            QueryError::CardReadFailed
        }
        ErrorKind::Disconnected
        | ErrorKind::NotFound
        | ErrorKind::PermissionDenied
        | ErrorKind::Config
        | ErrorKind::Unsupported => QueryError::ReaderOffline,
        _ => QueryError::ReaderFault,
    }
}

/// The printer's error as the journey explains it.
pub(crate) fn printer_error(kind: ErrorKind) -> QueryError {
    match kind {
        ErrorKind::PaperOut => QueryError::PrinterPaperOut,
        ErrorKind::CoverOpen => QueryError::PrinterCoverOpen,
        ErrorKind::Disconnected
        | ErrorKind::NotFound
        | ErrorKind::PermissionDenied
        | ErrorKind::Config
        | ErrorKind::Timeout => QueryError::PrinterOffline,
        _ => QueryError::PrinterFault,
    }
}

/// The backend's error as the journey explains it.
pub(crate) fn backend_error(kind: BackendErrorKind) -> QueryError {
    match kind {
        BackendErrorKind::Unreachable | BackendErrorKind::Timeout => QueryError::BackendUnreachable,
        BackendErrorKind::NotEnrolled
        | BackendErrorKind::Unauthenticated
        | BackendErrorKind::Storage => QueryError::BackendNotEnrolled,
        BackendErrorKind::Api | BackendErrorKind::Protocol => QueryError::BackendError,
    }
}

fn gone(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Disconnected | ErrorKind::NotFound | ErrorKind::PermissionDenied
    )
}

/// Waits until a card is on the reader: one already lying there, or the
/// `CardLaid` event. Subscribes before looking, so no card is missed.
pub(crate) async fn card_laid(
    reader: &IdCardHandle,
    events: &mut broadcast::Receiver<DeviceEvent>,
    presence_timeout: std::time::Duration,
) -> Result<(), DeviceError> {
    match reader
        .call(presence_timeout, |d, deadline| d.find_card(deadline))
        .await
    {
        Ok(CardPresence::Present) => return Ok(()),
        Ok(CardPresence::Absent) => {}
        Err(e) if gone(e.kind()) => return Err(e),
        Err(e) => tracing::debug!(
            kind = e.kind().code(),
            "looking for a card failed; waiting for the event"
        ),
    }
    loop {
        match events.recv().await {
            Ok(DeviceEvent::CardLaid) => return Ok(()),
            Ok(DeviceEvent::Detached) => {
                return Err(DeviceError::disconnected("the reader went away"));
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => {
                return Err(DeviceError::disconnected(
                    "the reader's event stream closed",
                ));
            }
        }
    }
}

/// Stages (a) to (b): wait for the card, read it, then look the cases up.
async fn read_card(
    shared: Arc<Shared>,
    weak: Weak<MainWindow>,
    generation: u64,
    reader: IdCardHandle,
) {
    let mut events = reader.events();
    // A reader that is down says so at once; one that is just being
    // (re)opened gets a moment.
    let mut health = reader.watch_health();
    if !health.borrow().usable() {
        let _ = tokio::time::timeout(
            shared.timeouts.card_presence,
            health.wait_for(Health::usable),
        )
        .await;
    }
    let now = health.borrow().clone();
    if !now.usable() {
        let error = match now.state {
            hal::HealthState::Fault => QueryError::ReaderFault,
            _ => QueryError::ReaderOffline,
        };
        let detail = health_detail(&now);
        on_ui(&shared, &weak, generation, move |ui| {
            show_error(ui, error, detail, true)
        });
        return;
    }
    // The countdown on screen ends the wait; this deadline only guards
    // against a window that stopped counting.
    let guard = shared.timeouts.card_wait + std::time::Duration::from_secs(5);
    match tokio::time::timeout(
        guard,
        card_laid(&reader, &mut events, shared.timeouts.card_presence),
    )
    .await
    {
        Err(_) => {
            let sh = Arc::clone(&shared);
            on_ui(&shared, &weak, generation, move |ui| {
                go_home(ui, &sh, HomeReason::Timeout)
            });
            return;
        }
        Ok(Err(e)) => {
            let detail = device_detail(&e);
            on_ui(&shared, &weak, generation, move |ui| {
                show_error(ui, reader_error(e.kind()), detail, true)
            });
            return;
        }
        Ok(Ok(())) => {}
    }
    on_ui(&shared, &weak, generation, |ui| {
        ui.global::<QueryAdapter>().set_stage(QueryStage::Reading);
        ui.global::<AppAdapter>().set_busy(true);
    });

    let card = match reader.read(false, shared.timeouts.card_read).await {
        Ok(card) => card,
        Err(e) => {
            let detail = device_detail(&e);
            on_ui(&shared, &weak, generation, move |ui| {
                show_error(ui, reader_error(e.kind()), detail, true)
            });
            return;
        }
    };
    if !card.identity.id_number_valid {
        tracing::warn!(identity = ?card.identity, "card with an invalid ID number");
        let detail =
            "证件号码校验未通过（the ID number fails its check digit） · ID_NUMBER_INVALID"
                .to_string();
        on_ui(&shared, &weak, generation, move |ui| {
            show_error(ui, QueryError::CardInvalid, detail, true)
        });
        return;
    }
    let name = card.identity.name.clone();
    let masked = mask_id_number(&card.identity.id_number);
    {
        let mut s = shared.session();
        if s.generation != generation {
            // The resident went home meanwhile; the card is wiped on drop.
            return;
        }
        s.card = Some(card);
        s.retry = RetryPoint::Lookup;
    }
    on_ui(&shared, &weak, generation, move |ui| {
        let q = ui.global::<QueryAdapter>();
        q.set_holder_name(name.into());
        q.set_masked_id(masked.into());
        q.set_stage(QueryStage::LookingUp);
    });
    lookup(shared, weak, generation).await;
}

/// Stage (c): the holder's cases from the backend.
async fn lookup(shared: Arc<Shared>, weak: Weak<MainWindow>, generation: u64) {
    let mut id_number = {
        let s = shared.session();
        match (&s.card, s.generation == generation) {
            (Some(card), true) => card.identity.id_number.clone(),
            _ => return,
        }
    };
    let backend = Arc::clone(&shared.backend);
    let result = tokio::time::timeout(shared.timeouts.lookup, async {
        backend.ensure_enrolled().await?;
        backend.lookup_cases(&id_number).await
    })
    .await
    .unwrap_or(Err(BackendError::Timeout));
    scrub(&mut id_number);

    let list = match result {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(code = %e.code(), "case lookup failed: {e}");
            let detail = backend_detail(&e);
            on_ui(&shared, &weak, generation, move |ui| {
                show_error(ui, backend_error(e.kind()), detail, true)
            });
            return;
        }
    };
    let rows: Vec<CaseRow> = list.items.iter().map(case_row).collect();
    {
        let mut s = shared.session();
        if s.generation != generation {
            return;
        }
        s.cases = list.items;
    }
    let printer_fitted = shared.devices.receipt_printer.is_some();
    on_ui(&shared, &weak, generation, move |ui| {
        let q = ui.global::<QueryAdapter>();
        q.set_cases(ModelRc::new(VecModel::from(rows)));
        q.set_printer_available(printer_fitted);
        q.set_print_error(if printer_fitted {
            QueryError::None
        } else {
            QueryError::PrinterNotFitted
        });
        q.set_error_detail("".into());
        q.set_stage(QueryStage::Results);
        ui.global::<AppAdapter>().set_busy(false);
    });
}

/// One case as the list shows it.
pub(crate) fn case_row(c: &CaseSummary) -> CaseRow {
    CaseRow {
        case_number: c.case_number.as_str().into(),
        matter_name: c.matter_name.as_str().into(),
        department: c.department.as_str().into(),
        status_code: c.status.as_str().into(),
        status_zh: c.status_zh.as_str().into(),
        status_en: c.status_en.as_str().into(),
        submitted: receipt::date_of(&c.submitted_at).into(),
        deadline: c.deadline.clone().unwrap_or_default().into(),
    }
}

fn retry(ui: &MainWindow, shared: &Arc<Shared>) {
    let (point, generation) = {
        let s = shared.session();
        (s.retry, s.generation)
    };
    match point {
        RetryPoint::Card => wait_for_card(ui, shared),
        RetryPoint::Lookup => {
            let q = ui.global::<QueryAdapter>();
            q.set_error(QueryError::None);
            q.set_error_detail("".into());
            q.set_stage(QueryStage::LookingUp);
            ui.global::<AppAdapter>().set_busy(true);
            shared.spawn_for(
                generation,
                lookup(Arc::clone(shared), ui.as_weak(), generation),
            );
        }
    }
}

/// Stage (d): prints the receipt; a failure keeps the list on screen and
/// says why.
fn print(ui: &MainWindow, shared: &Arc<Shared>) {
    let q = ui.global::<QueryAdapter>();
    let Some(printer) = shared.devices.receipt_printer.clone() else {
        q.set_print_error(QueryError::PrinterNotFitted);
        return;
    };
    let (generation, receipt) = {
        let s = shared.session();
        let Some(card) = s.card.as_ref() else { return };
        let receipt = receipt::case_query_receipt(&QueryReceipt {
            holder_name: &card.identity.name,
            id_number: &card.identity.id_number,
            cases: &s.cases,
            printed_at: chrono::Local::now().fixed_offset(),
            kiosk_name: &shared.config.kiosk_name,
            hotline: &shared.config.hotline,
        });
        (s.generation, receipt)
    };
    q.set_print_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_stage(QueryStage::Printing);
    ui.global::<AppAdapter>().set_busy(true);

    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    let timeout = shared.timeouts.print;
    let printed_for = seconds(shared.timeouts.printed);
    shared.spawn_for(generation, async move {
        let outcome = printer.print(receipt, timeout).await;
        on_ui(&sh, &weak, generation, move |ui| {
            let q = ui.global::<QueryAdapter>();
            match outcome {
                Ok(_) => {
                    q.set_seconds_left(printed_for);
                    q.set_stage(QueryStage::Printed);
                }
                Err(e) => {
                    tracing::warn!(
                        kind = e.kind().code(),
                        detail = e.detail(),
                        "receipt not printed"
                    );
                    q.set_print_error(printer_error(e.kind()));
                    q.set_error_detail(device_detail(&e).into());
                    q.set_stage(QueryStage::Results);
                }
            }
            ui.global::<AppAdapter>().set_busy(false);
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_errors_map_to_what_the_resident_reads() {
        assert_eq!(
            reader_error(ErrorKind::Disconnected),
            QueryError::ReaderOffline
        );
        assert_eq!(reader_error(ErrorKind::NotFound), QueryError::ReaderOffline);
        assert_eq!(reader_error(ErrorKind::Timeout), QueryError::ReaderTimeout);
        assert_eq!(
            reader_error(ErrorKind::CardRead),
            QueryError::CardReadFailed
        );
        assert_eq!(
            reader_error(ErrorKind::SecureModule),
            QueryError::ReaderFault
        );
        assert_eq!(
            printer_error(ErrorKind::PaperOut),
            QueryError::PrinterPaperOut
        );
        assert_eq!(
            printer_error(ErrorKind::CoverOpen),
            QueryError::PrinterCoverOpen
        );
        assert_eq!(
            printer_error(ErrorKind::Disconnected),
            QueryError::PrinterOffline
        );
        assert_eq!(
            printer_error(ErrorKind::CutterError),
            QueryError::PrinterFault
        );
        assert_eq!(
            backend_error(BackendErrorKind::Unreachable),
            QueryError::BackendUnreachable
        );
        assert_eq!(
            backend_error(BackendErrorKind::Timeout),
            QueryError::BackendUnreachable
        );
        assert_eq!(
            backend_error(BackendErrorKind::NotEnrolled),
            QueryError::BackendNotEnrolled
        );
        assert_eq!(
            backend_error(BackendErrorKind::Api),
            QueryError::BackendError
        );
    }

    #[test]
    fn a_case_row_shows_dates_not_times() {
        let c = CaseSummary {
            case_number: "41040320261120000001".into(),
            matter_code: "M".into(),
            matter_name: "居住证签注".into(),
            department: "卫东区公安分局".into(),
            status: proto::CaseStatus::InReview,
            status_zh: "审查中".into(),
            status_en: "In review".into(),
            submitted_at: "2026-11-20T09:30:00+08:00".into(),
            deadline: None,
            channel: "kiosk".into(),
        };
        let row = case_row(&c);
        assert_eq!(row.submitted, "2026-11-20");
        assert_eq!(row.deadline, "");
        assert_eq!(row.status_code, "in_review");
    }
}
