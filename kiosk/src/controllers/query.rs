//! `QueryAdapter`: the 我要查 journey.
//!
//! Three ways in, from one first screen:
//!
//! * 刷身份证: (a) 请将身份证放在感应区 with a countdown, waiting for the
//!   reader's `CardLaid` (or a card already lying there); (b) the card is
//!   read through the hal handle; (c) the backend lists the holder's cases;
//!   (d) 打印回执 prints the receipt. Touching a case opens its timeline
//!   (asked with the card's last six characters).
//! * 扫回执二维码: the face camera's frames go to the code reader; the
//!   application receipt's `{public_url}/track?case=N&code=C` opens the
//!   case by its track code. The text is parsed, never opened: only the
//!   `case` and `code` parameters are accepted, anything else is refused.
//! * 输入办件编号: the 20-digit case number and the last six characters of
//!   the applicant's ID number (the last may be X) on the page's keypad.
//!
//! One case shows its steps, the deadline and the working days left, and
//! what to do next. A case in 待补正 lists what the notice asks for; the
//! applicant lays their card (checked against the case), captures the
//! materials with the document camera, and the correction goes into the
//! outbox before the screen says anything, then to the backend.
//!
//! Every call has a deadline; every failure shows what happened in Chinese
//! and English with 重试 and 返回首页. A wrong case number or last six is
//! one answer (未找到该办件), as the backend gives it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine as _;
use hal::actor::{DeviceEvent, IdCardHandle};
use hal::camera::{CameraHandle, DocumentCameraHandle, VideoMode};
use hal::idcard::{CardPresence, CardRead, mask_id_number};
use hal::{DeviceError, ErrorKind, Health};
use imaging::store::{ImageId, ImageKind};
use proto::{
    CaseProgress, CaseProgressQuery, CaseStatus, CaseSummary, KioskCorrection, MaterialUpload,
    ProgressStep,
};
use slint::{ComponentHandle, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel, Weak};
use tokio::sync::broadcast;

use crate::app::{RetryPoint, Shared, scrub};
use crate::backend_client::{BackendError, BackendErrorKind};
use crate::controllers::app::{HomeReason, go_home};
use crate::controllers::frames;
use crate::receipt::{self, QueryReceipt};
use crate::ui::{AppAdapter, CaseRow, MainWindow, Page, QueryAdapter, QueryError, QueryStage};

/// Seconds the QR scan waits (the countdown on screen).
const SCAN_SECONDS: i32 = 60;
/// The face camera's mode while scanning.
const FACE_MODE: VideoMode = VideoMode {
    width: 1280,
    height: 720,
    fps: 30,
};
/// The document camera's preview: 4:3, so a whole A4 page shows.
const DOC_MODE: VideoMode = VideoMode {
    width: 1600,
    height: 1200,
    fps: 30,
};
/// How long the correction waits for the backend before saying "kept".
const DELIVERY_WAIT: Duration = Duration::from_secs(8);
/// Digits of a unified case number (`{district 6}{yyyyMMdd}{sequence 6}`).
pub(crate) const CASE_NUMBER_LEN: usize = 20;
/// Characters of a receipt's track code.
pub(crate) const TRACK_CODE_LEN: usize = 10;
/// Longest QR text looked at.
const MAX_SCANNED_CHARS: usize = 300;

// ---------------------------------------------------------------------------
// The journey's state
// ---------------------------------------------------------------------------

/// How the resident asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Way {
    #[default]
    Card,
    Qr,
    Number,
}

impl Way {
    fn code(self) -> &'static str {
        match self {
            Way::Card => "card",
            Way::Qr => "qr",
            Way::Number => "number",
        }
    }
}

/// Where 重试 starts again, beyond the card's own points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Show the QR code again.
    Scan,
    /// Back to the keypad, the entry kept.
    Entry,
    /// Ask the backend for the case again.
    Open,
    /// Lay the applicant's card for the correction again.
    CorrectionCard,
    /// Back to the capture, the pages kept.
    Capture,
}

/// Which entry the keypad fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Field {
    #[default]
    Number,
    Last6,
}

/// The keypad's entry: the case number and the last six.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Entry {
    pub number: String,
    pub last6: String,
    pub field: Field,
}

impl Entry {
    /// One key: a digit, `X` (only as the sixth character of the last
    /// six), `back` or `clear`. A full case number moves on to the last
    /// six by itself.
    pub fn press(&mut self, key: &str) {
        match (key, self.field) {
            ("clear", Field::Number) => scrub(&mut self.number),
            ("clear", Field::Last6) => scrub(&mut self.last6),
            ("back", Field::Number) => {
                self.number.pop();
            }
            ("back", Field::Last6) => {
                self.last6.pop();
            }
            ("X" | "x", Field::Last6) if self.x_allowed() => self.last6.push('X'),
            (d, Field::Number) if is_digit(d) && self.number.len() < CASE_NUMBER_LEN => {
                self.number.push_str(d);
                if self.number.len() == CASE_NUMBER_LEN && self.last6.len() < 6 {
                    self.field = Field::Last6;
                }
            }
            (d, Field::Last6) if is_digit(d) && self.last6.len() < 6 => self.last6.push_str(d),
            _ => {}
        }
    }

    /// X may be typed now.
    pub fn x_allowed(&self) -> bool {
        self.field == Field::Last6 && self.last6.len() == 5
    }

    /// Both entries have their full length.
    pub fn complete(&self) -> bool {
        self.number.len() == CASE_NUMBER_LEN && self.last6.len() == 6
    }

    /// What is missing, as the page words it ("" when nothing).
    pub fn problem(&self) -> &'static str {
        if !is_case_number(&self.number) {
            "number-short"
        } else if !is_last6(&self.last6) {
            "last6-short"
        } else {
            ""
        }
    }

    fn wipe(&mut self) {
        scrub(&mut self.number);
        scrub(&mut self.last6);
        self.field = Field::Number;
    }
}

fn is_digit(key: &str) -> bool {
    key.len() == 1 && key.bytes().all(|b| b.is_ascii_digit())
}

/// A unified case number: 20 ASCII digits.
pub(crate) fn is_case_number(s: &str) -> bool {
    s.len() == CASE_NUMBER_LEN && s.bytes().all(|b| b.is_ascii_digit())
}

/// The last six characters of an ID number: five digits, then a digit or X.
pub(crate) fn is_last6(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6
        && b.iter().take(5).all(u8::is_ascii_digit)
        && b.get(5).is_some_and(|c| c.is_ascii_digit() || *c == b'X')
}

/// The last six characters of an ID number, upper case.
fn last6_of(id_number: &str) -> String {
    let id = id_number.trim();
    id.get(id.len().saturating_sub(6)..)
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// One page of a correction material, sealed in the image store.
#[derive(Debug, Clone)]
struct PageRef {
    id: ImageId,
    mime: &'static str,
}

/// What the 我要查 journey holds beyond the session's card and list;
/// wiped with the session on every return home.
#[derive(Default)]
pub(crate) struct QueryJourney {
    way: Way,
    /// `None`: 重试 follows the session's card points.
    retry: Option<Retry>,
    /// The question that opened the case (asked again by 重试).
    query: Option<CaseProgressQuery>,
    from_list: bool,
    progress: Option<CaseProgress>,
    /// The card in the session is the case's applicant's.
    verified: bool,
    /// Pages per item the correction notice asks for.
    pages: Vec<Vec<PageRef>>,
    current: usize,
    capturing: bool,
    /// Moves on to stop the QR scan.
    scan_run: u64,
    /// The last code refused (said once, not at every frame).
    refused: Option<String>,
    entry: Entry,
}

impl QueryJourney {
    /// Zeroes what the journey holds; the scan stops.
    fn wipe(&mut self) {
        if let Some(q) = self.query.as_mut() {
            scrub(&mut q.case_number);
            scrub(&mut q.id_last6);
            if let Some(code) = q.track_code.as_mut() {
                scrub(code);
            }
        }
        if let Some(r) = self.refused.as_mut() {
            scrub(r);
        }
        self.entry.wipe();
        let run = self.scan_run + 1;
        *self = QueryJourney {
            scan_run: run,
            ..QueryJourney::default()
        };
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Runs `f` on this app's journey (its own lock, never the session's).
fn with_journey<R>(shared: &Shared, f: impl FnOnce(&mut QueryJourney) -> R) -> R {
    f(&mut lock(&shared.query_journey))
}

/// Whether the journey holds anything about a person or a case.
pub(crate) fn holds_personal_data(shared: &Shared) -> bool {
    with_journey(shared, |j| {
        j.query.is_some()
            || j.progress.is_some()
            || j.verified
            || j.pages.iter().any(|p| !p.is_empty())
    })
}

// ---------------------------------------------------------------------------
// The receipt's QR code
// ---------------------------------------------------------------------------

/// What a code shown to the camera carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScannedCode {
    /// `{public_url}/track?case=N&code=C`: opens the case.
    Track {
        case_number: String,
        track_code: String,
    },
    /// A bare case number (the 办件查询回执's code): the last six are
    /// still needed.
    CaseNumber(String),
}

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScanError {
    /// Not a receipt's code at all (another URL, text, a payment code).
    #[error("这不是办件回执的二维码（not the code of an application receipt）")]
    NotReceipt,
    /// A track address carrying something besides one case number and
    /// one track code, or malformed ones.
    #[error(
        "二维码内容不符合要求，已拒绝（the code carries more than a case number and a track code）"
    )]
    BadContent,
}

impl ScanError {
    /// The page's code for the message.
    pub fn code(self) -> &'static str {
        match self {
            ScanError::NotReceipt => "not-receipt",
            ScanError::BadContent => "bad-content",
        }
    }
}

/// Reads a code's text without opening anything: a receipt's track
/// address with exactly the `case` and `code` parameters (each once, of
/// the right shape), or a bare 20-digit case number. Everything else —
/// other parameters, a fragment, credentials, other schemes — is refused.
pub(crate) fn parse_scanned(text: &str) -> Result<ScannedCode, ScanError> {
    let text = text.trim();
    if text.chars().count() > MAX_SCANNED_CHARS {
        return Err(ScanError::BadContent);
    }
    if is_case_number(text) {
        return Ok(ScannedCode::CaseNumber(text.to_owned()));
    }
    let url = reqwest::Url::parse(text).map_err(|_| ScanError::NotReceipt)?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(ScanError::NotReceipt);
    }
    if url.path_segments().and_then(|mut s| s.next_back()) != Some("track") {
        return Err(ScanError::NotReceipt);
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(ScanError::BadContent);
    }
    let (mut case, mut code) = (None, None);
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "case" => &mut case,
            "code" => &mut code,
            _ => return Err(ScanError::BadContent),
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(ScanError::BadContent);
        }
    }
    let (Some(case_number), Some(code)) = (case, code) else {
        return Err(ScanError::BadContent);
    };
    let track_code = code.to_ascii_uppercase();
    if !is_case_number(&case_number)
        || track_code.len() != TRACK_CODE_LEN
        || !track_code.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(ScanError::BadContent);
    }
    Ok(ScannedCode::Track {
        case_number,
        track_code,
    })
}

// ---------------------------------------------------------------------------
// Callbacks and the reset
// ---------------------------------------------------------------------------

/// Connects the page's callbacks.
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

    // Callbacks that need only the window and the shared state.
    let on = |f: fn(&MainWindow, &Arc<Shared>)| {
        let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
        move || {
            if let Some(ui) = weak.upgrade() {
                f(&ui, &sh);
            }
        }
    };
    q.on_retry(on(retry));
    q.on_print_receipt(on(print));
    q.on_use_card(on(use_card));
    q.on_use_qr(on(use_qr));
    q.on_use_number(on(use_number));
    q.on_submit_number(on(submit_number));
    q.on_back_to_list(on(back_to_list));
    q.on_back_to_case(on(back_to_case));
    q.on_start_correction(on(start_correction));
    q.on_capture(on(capture));
    q.on_retake(on(retake));
    q.on_next_item(on(next_item));
    q.on_submit_correction(on(submit_correction));

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    q.on_keypad(move |key| {
        if let Some(ui) = weak.upgrade() {
            with_journey(&sh, |j| j.entry.press(key.as_str()));
            show_entry(&ui, &sh);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    q.on_pick_field(move |field| {
        if let Some(ui) = weak.upgrade() {
            with_journey(&sh, |j| {
                j.entry.field = if field == "last6" {
                    Field::Last6
                } else {
                    Field::Number
                };
            });
            show_entry(&ui, &sh);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    q.on_open_case(move |index| {
        if let Some(ui) = weak.upgrade() {
            open_from_list(&ui, &sh, usize::try_from(index).unwrap_or(usize::MAX));
        }
    });
}

/// Clears everything the journey put on screen, and its state.
pub(crate) fn clear(ui: &MainWindow, shared: &Shared) {
    with_journey(shared, QueryJourney::wipe);
    let q = ui.global::<QueryAdapter>();
    q.set_stage(QueryStage::WaitCard);
    q.set_way("card".into());
    q.set_seconds_left(seconds(shared.timeouts.card_wait));
    q.set_holder_name("".into());
    q.set_masked_id("".into());
    q.set_cases(ModelRc::default());
    q.set_error(QueryError::None);
    q.set_print_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_can_retry(true);
    q.set_printer_available(shared.devices.receipt_printer.is_some());
    q.set_camera_available(shared.devices.camera.is_some());
    q.set_scan_preview(slint::Image::default());
    q.set_scan_camera_ok(true);
    q.set_scan_problem("".into());
    q.set_entry_number("".into());
    q.set_entry_last6("".into());
    q.set_entry_field("number".into());
    q.set_entry_problem("".into());
    q.set_x_allowed(false);
    q.set_entry_complete(false);
    q.set_opened(CaseRow::default());
    q.set_from_list(false);
    q.set_steps(ModelRc::default());
    q.set_remaining_days(0);
    q.set_has_remaining(false);
    q.set_warning("".into());
    q.set_correction_items(ModelRc::default());
    q.set_correction_note("".into());
    q.set_correction_slots(ModelRc::default());
    q.set_correction_current(0);
    q.set_doc_preview(slint::Image::default());
    q.set_doc_camera_ok(true);
    q.set_last_page(slint::Image::default());
    q.set_capturing(false);
    q.set_capture_message("".into());
    q.set_correction_ready(false);
    q.set_correcting(false);
    q.set_corrected_queued(false);
}

fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Starts the journey from the home screen.
pub(crate) fn start(ui: &MainWindow, shared: &Arc<Shared>) {
    go_home(ui, shared, HomeReason::JourneyStart);
    ui.global::<AppAdapter>().set_page(Page::Query);
    wait_for_card(ui, shared);
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

/// Stops the session's call in flight (the card wait, a lookup).
fn stop_task(shared: &Shared) {
    if let Some(task) = shared.session().task.take() {
        task.abort();
    }
}

/// Stops the QR scan and the document camera preview.
fn stop_cameras(shared: &Shared) {
    with_journey(shared, |j| j.scan_run += 1);
    shared.bump_preview();
}

fn set_way(ui: &MainWindow, shared: &Shared, way: Way) {
    with_journey(shared, |j| j.way = way);
    ui.global::<QueryAdapter>().set_way(way.code().into());
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

/// A failed progress query as the journey explains it: a wrong pair is
/// one answer (404), too many tries carry the backend's message (429).
pub(crate) fn progress_error(e: &BackendError) -> QueryError {
    match e {
        BackendError::Api { status: 404, .. } => QueryError::CaseNotFound,
        BackendError::Api { status: 429, .. } => QueryError::RateLimited,
        BackendError::Api { status: 422, .. } => QueryError::EntryInvalid,
        other => backend_error(other.kind()),
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
    presence_timeout: Duration,
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

// ---------------------------------------------------------------------------
// 刷身份证: the card, the list, the receipt
// ---------------------------------------------------------------------------

/// Stage (a): the prompt (with the other ways beside it), and a task
/// waiting for the card.
fn wait_for_card(ui: &MainWindow, shared: &Arc<Shared>) {
    stop_cameras(shared);
    let generation = {
        let mut s = shared.session();
        if let Some(mut card) = s.card.take() {
            card.wipe();
        }
        s.retry = RetryPoint::Card;
        s.generation
    };
    with_journey(shared, |j| {
        j.retry = None;
        j.verified = false;
        j.from_list = false;
    });
    set_way(ui, shared, Way::Card);
    let q = ui.global::<QueryAdapter>();
    q.set_correcting(false);
    q.set_stage(QueryStage::WaitCard);
    q.set_seconds_left(seconds(shared.timeouts.card_wait));
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    ui.global::<AppAdapter>().set_busy(false);
    let Some(reader) = shared.devices.idcard.clone() else {
        show_error(ui, QueryError::ReaderNotFitted, String::new(), false);
        return;
    };
    shared.say("id-card-place");
    let task = read_card(Arc::clone(shared), ui.as_weak(), generation, reader);
    shared.spawn_for(generation, task);
}

/// Waits for a card and reads it, showing `reading` once it lies there.
/// `None` when the journey ended or an error is already on screen.
async fn take_card(
    shared: &Arc<Shared>,
    weak: &Weak<MainWindow>,
    generation: u64,
    reader: &IdCardHandle,
    reading: QueryStage,
) -> Option<CardRead> {
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
        on_ui(shared, weak, generation, move |ui| {
            show_error(ui, error, detail, true)
        });
        return None;
    }
    // The countdown on screen ends the wait; this deadline only guards
    // against a window that stopped counting.
    let guard = shared.timeouts.card_wait + Duration::from_secs(5);
    match tokio::time::timeout(
        guard,
        card_laid(reader, &mut events, shared.timeouts.card_presence),
    )
    .await
    {
        Err(_) => {
            let sh = Arc::clone(shared);
            on_ui(shared, weak, generation, move |ui| {
                go_home(ui, &sh, HomeReason::Timeout)
            });
            return None;
        }
        Ok(Err(e)) => {
            let detail = device_detail(&e);
            on_ui(shared, weak, generation, move |ui| {
                show_error(ui, reader_error(e.kind()), detail, true)
            });
            return None;
        }
        Ok(Ok(())) => {}
    }
    on_ui(shared, weak, generation, move |ui| {
        ui.global::<QueryAdapter>().set_stage(reading);
        ui.global::<AppAdapter>().set_busy(true);
    });

    let card = match reader.read(false, shared.timeouts.card_read).await {
        Ok(card) => card,
        Err(e) => {
            let detail = device_detail(&e);
            on_ui(shared, weak, generation, move |ui| {
                show_error(ui, reader_error(e.kind()), detail, true)
            });
            return None;
        }
    };
    if !card.identity.id_number_valid {
        tracing::warn!(identity = ?card.identity, "card with an invalid ID number");
        let detail =
            "证件号码校验未通过（the ID number fails its check digit） · ID_NUMBER_INVALID"
                .to_string();
        on_ui(shared, weak, generation, move |ui| {
            show_error(ui, QueryError::CardInvalid, detail, true)
        });
        return None;
    }
    Some(card)
}

/// Stages (a) to (b): wait for the card, read it, then look the cases up.
async fn read_card(
    shared: Arc<Shared>,
    weak: Weak<MainWindow>,
    generation: u64,
    reader: IdCardHandle,
) {
    let Some(card) = take_card(&shared, &weak, generation, &reader, QueryStage::Reading).await
    else {
        return;
    };
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
    // No personal data in this line: the image's boot test waits for it.
    tracing::info!(cases = rows.len(), "query: card read, cases listed");
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

/// 重试 on the error screen: where the journey left off.
fn retry(ui: &MainWindow, shared: &Arc<Shared>) {
    let (point, generation) = {
        let s = shared.session();
        (s.retry, s.generation)
    };
    let mine = with_journey(shared, |j| j.retry);
    let q = ui.global::<QueryAdapter>();
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    match mine {
        Some(Retry::Scan) => use_qr(ui, shared),
        Some(Retry::Entry) => show_entry(ui, shared),
        Some(Retry::Open) => {
            let query = with_journey(shared, |j| j.query.clone().map(|q| (q, j.from_list)));
            match query {
                Some((query, from_list)) => open_case(ui, shared, query, from_list),
                None => wait_for_card(ui, shared),
            }
        }
        Some(Retry::CorrectionCard) => wait_for_correction_card(ui, shared),
        Some(Retry::Capture) => show_capture(ui, shared),
        None => match point {
            RetryPoint::Card => wait_for_card(ui, shared),
            RetryPoint::Lookup => {
                q.set_stage(QueryStage::LookingUp);
                ui.global::<AppAdapter>().set_busy(true);
                shared.spawn_for(
                    generation,
                    lookup(Arc::clone(shared), ui.as_weak(), generation),
                );
            }
        },
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
    // A receipt carries the time it was printed: not with a clock that
    // disagrees with the platform's (R8). The list stays on screen.
    if !shared.clock_ok() {
        tracing::warn!("receipt not printed: the kiosk's clock is off");
        ui.global::<AppAdapter>()
            .invoke_notify("clock-off-print".into());
        return;
    }
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

/// 刷身份证查询 / 查询其他办件: back to the first screen.
fn use_card(ui: &MainWindow, shared: &Arc<Shared>) {
    wait_for_card(ui, shared);
}

/// A case of the card's list: its timeline, asked with the card's last six.
fn open_from_list(ui: &MainWindow, shared: &Arc<Shared>, index: usize) {
    let query = {
        let s = shared.session();
        match (s.cases.get(index), s.card.as_ref()) {
            (Some(case), Some(card)) => CaseProgressQuery {
                case_number: case.case_number.clone(),
                id_last6: last6_of(&card.identity.id_number),
                track_code: None,
            },
            _ => return,
        }
    };
    // The list is the card holder's own: the card is the applicant's.
    with_journey(shared, |j| j.verified = true);
    open_case(ui, shared, query, true);
}

/// 返回办件列表: the list is still there.
fn back_to_list(ui: &MainWindow, shared: &Arc<Shared>) {
    let has_list = {
        let s = shared.session();
        s.card.is_some()
    };
    if !has_list {
        wait_for_card(ui, shared);
        return;
    }
    stop_cameras(shared);
    with_journey(shared, |j| j.retry = None);
    let q = ui.global::<QueryAdapter>();
    q.set_correcting(false);
    q.set_error(QueryError::None);
    q.set_stage(QueryStage::Results);
}

// ---------------------------------------------------------------------------
// 扫回执二维码
// ---------------------------------------------------------------------------

/// The QR scan: the face camera's frames to the screen and to the code
/// reader, with a countdown.
fn use_qr(ui: &MainWindow, shared: &Arc<Shared>) {
    stop_task(shared);
    stop_cameras(shared);
    set_way(ui, shared, Way::Qr);
    let run = with_journey(shared, |j| {
        j.retry = Some(Retry::Scan);
        j.refused = None;
        j.scan_run
    });
    let q = ui.global::<QueryAdapter>();
    q.set_correcting(false);
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_scan_problem("".into());
    q.set_scan_preview(slint::Image::default());
    q.set_scan_camera_ok(true);
    ui.global::<AppAdapter>().set_busy(false);
    let Some(camera) = shared.devices.camera.clone() else {
        show_error(ui, QueryError::CameraNotFitted, String::new(), false);
        return;
    };
    let health = camera.watch_health().borrow().clone();
    if !health.usable() {
        show_error(ui, QueryError::CameraOffline, health_detail(&health), true);
        return;
    }
    q.set_seconds_left(SCAN_SECONDS);
    q.set_stage(QueryStage::ScanQr);
    shared.say("receipt-scan");
    let generation = shared.generation();
    shared.rt.spawn(scan_loop(
        Arc::clone(shared),
        ui.as_weak(),
        generation,
        run,
        camera,
    ));
}

/// Pulls frames while the scan runs: preview to the screen, frame to the
/// code reader (which decodes in its own thread and drops the frames it
/// had no time for). A camera that fails shows so and is asked again.
async fn scan_loop(
    shared: Arc<Shared>,
    weak: Weak<MainWindow>,
    generation: u64,
    run: u64,
    camera: CameraHandle,
) {
    let alive =
        || shared.generation() == generation && with_journey(&shared, |j| j.scan_run) == run;
    let codes = {
        let (sh, weak) = (Arc::clone(&shared), weak.clone());
        move |result: imaging::qr::DecodeResult| {
            let Some(code) = result.decoded.into_iter().next() else {
                return;
            };
            let sh2 = Arc::clone(&sh);
            on_ui(&sh, &weak, generation, move |ui| {
                scanned(ui, &sh2, run, code.text)
            });
        }
    };
    let decoder = match imaging::qr::LatestFrameDecoder::with_callback(
        imaging::qr::Formats::QR_ONLY,
        codes,
    ) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!("code reader thread cannot start: {e}");
            let detail = format!("{e} · QR_READER");
            on_ui(&shared, &weak, generation, move |ui| {
                show_error(ui, QueryError::CameraOffline, detail, true)
            });
            return;
        }
    };
    let mut started = false;
    while alive() {
        let Some(frame) =
            frames::next_frame(&camera, FACE_MODE, &mut started, "人像摄像头", &|ok| {
                scan_camera_ok(&shared, &weak, generation, ok)
            })
            .await
        else {
            continue;
        };
        decoder.submit(frame.clone());
        let preview = tokio::task::spawn_blocking(move || {
            imaging::frame::rgb(&frame).map(|img| imaging::frame::preview(&img, 960, 540))
        })
        .await;
        let Ok(Ok(preview)) = preview else {
            continue;
        };
        let (w, h) = preview.dimensions();
        let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(preview.as_raw(), w, h);
        on_ui(&shared, &weak, generation, move |ui| {
            let q = ui.global::<QueryAdapter>();
            if q.get_stage() == QueryStage::ScanQr {
                q.set_scan_preview(slint::Image::from_rgb8(buffer));
                q.set_scan_camera_ok(true);
            }
        });
    }
    drop(decoder);
    frames::stop(&camera, started).await;
}

fn scan_camera_ok(shared: &Arc<Shared>, weak: &Weak<MainWindow>, generation: u64, ok: bool) {
    on_ui(shared, weak, generation, move |ui| {
        ui.global::<QueryAdapter>().set_scan_camera_ok(ok);
    });
}

/// A code was read while scan `run` ran.
fn scanned(ui: &MainWindow, shared: &Arc<Shared>, run: u64, text: String) {
    let q = ui.global::<QueryAdapter>();
    if q.get_stage() != QueryStage::ScanQr || with_journey(shared, |j| j.scan_run) != run {
        return;
    }
    match parse_scanned(&text) {
        Ok(ScannedCode::Track {
            case_number,
            track_code,
        }) => {
            stop_cameras(shared);
            tracing::info!("a receipt's code was read");
            let query = CaseProgressQuery {
                case_number,
                id_last6: String::new(),
                track_code: Some(track_code),
            };
            open_case(ui, shared, query, false);
        }
        Ok(ScannedCode::CaseNumber(number)) => {
            stop_cameras(shared);
            with_journey(shared, |j| {
                j.entry.wipe();
                j.entry.number = number;
                j.entry.field = Field::Last6;
            });
            set_way(ui, shared, Way::Number);
            show_entry(ui, shared);
            q.set_entry_problem("scanned-number".into());
            shared.say("case-number-enter");
        }
        Err(e) => {
            let fresh = with_journey(shared, |j| {
                if j.refused.as_deref() == Some(text.as_str()) {
                    false
                } else {
                    if let Some(old) = j.refused.as_mut() {
                        scrub(old);
                    }
                    j.refused = Some(text);
                    true
                }
            });
            q.set_scan_problem(e.code().into());
            if fresh {
                // Never the text: it may carry anything.
                tracing::info!(reason = e.code(), "a code was refused: {e}");
                shared.say("scan-failed");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// 输入办件编号
// ---------------------------------------------------------------------------

/// The keypad, the entry empty.
fn use_number(ui: &MainWindow, shared: &Arc<Shared>) {
    stop_task(shared);
    stop_cameras(shared);
    set_way(ui, shared, Way::Number);
    with_journey(shared, |j| j.entry.wipe());
    ui.global::<QueryAdapter>().set_correcting(false);
    show_entry(ui, shared);
    shared.say("case-number-enter");
}

/// The keypad with the entry as typed so far.
fn show_entry(ui: &MainWindow, shared: &Arc<Shared>) {
    let entry = with_journey(shared, |j| {
        j.retry = Some(Retry::Entry);
        j.entry.clone()
    });
    let q = ui.global::<QueryAdapter>();
    q.set_entry_number(entry.number.as_str().into());
    q.set_entry_last6(entry.last6.as_str().into());
    q.set_entry_field(
        match entry.field {
            Field::Number => "number",
            Field::Last6 => "last6",
        }
        .into(),
    );
    q.set_x_allowed(entry.x_allowed());
    q.set_entry_complete(entry.complete());
    q.set_entry_problem("".into());
    q.set_error(QueryError::None);
    q.set_stage(QueryStage::EnterNumber);
    ui.global::<AppAdapter>().set_busy(false);
}

/// 查询进度: the entry checked, then the case asked for.
fn submit_number(ui: &MainWindow, shared: &Arc<Shared>) {
    let entry = with_journey(shared, |j| j.entry.clone());
    let problem = entry.problem();
    if !problem.is_empty() {
        ui.global::<QueryAdapter>()
            .set_entry_problem(problem.into());
        return;
    }
    let query = CaseProgressQuery {
        case_number: entry.number.clone(),
        id_last6: entry.last6.clone(),
        track_code: None,
    };
    open_case(ui, shared, query, false);
}

// ---------------------------------------------------------------------------
// One case's timeline
// ---------------------------------------------------------------------------

/// Asks the backend for one case.
fn open_case(ui: &MainWindow, shared: &Arc<Shared>, query: CaseProgressQuery, from_list: bool) {
    let generation = shared.generation();
    with_journey(shared, |j| {
        if let Some(old) = j.query.as_mut() {
            scrub(&mut old.id_last6);
        }
        j.query = Some(query);
        j.from_list = from_list;
        j.progress = None;
        j.retry = Some(Retry::Open);
    });
    let q = ui.global::<QueryAdapter>();
    q.set_correcting(false);
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_from_list(from_list);
    q.set_stage(QueryStage::Opening);
    ui.global::<AppAdapter>().set_busy(true);
    shared.spawn_for(
        generation,
        fetch_progress(Arc::clone(shared), ui.as_weak(), generation),
    );
}

async fn fetch_progress(shared: Arc<Shared>, weak: Weak<MainWindow>, generation: u64) {
    let Some(mut query) = with_journey(&shared, |j| j.query.clone()) else {
        return;
    };
    let backend = Arc::clone(&shared.backend);
    let result = tokio::time::timeout(shared.timeouts.lookup, async {
        backend.ensure_enrolled().await?;
        backend.case_progress(&query).await
    })
    .await
    .unwrap_or(Err(BackendError::Timeout));
    scrub(&mut query.id_last6);
    match result {
        Ok(progress) => {
            // Kept on the UI thread, where a return home wipes it.
            let sh = Arc::clone(&shared);
            on_ui(&shared, &weak, generation, move |ui| {
                with_journey(&sh, |j| j.progress = Some(progress));
                show_timeline(ui, &sh);
            });
        }
        Err(e) => {
            tracing::warn!(code = %e.code(), "case progress failed: {e}");
            let error = progress_error(&e);
            let detail = match error {
                QueryError::CaseNotFound => String::new(),
                _ => backend_detail(&e),
            };
            let sh = Arc::clone(&shared);
            on_ui(&shared, &weak, generation, move |ui| {
                case_error(ui, &sh, error, detail)
            });
        }
    }
}

/// A failed case query: a wrong entry goes back to where it was made.
fn case_error(ui: &MainWindow, shared: &Arc<Shared>, error: QueryError, detail: String) {
    let asked_again = matches!(
        error,
        QueryError::CaseNotFound | QueryError::RateLimited | QueryError::EntryInvalid
    );
    with_journey(shared, |j| {
        j.retry = Some(match (asked_again, j.way) {
            (true, Way::Number) => Retry::Entry,
            (true, Way::Qr) => Retry::Scan,
            _ => Retry::Open,
        });
    });
    if error == QueryError::CaseNotFound {
        shared.say("case-not-found");
    }
    show_error(ui, error, detail, true);
}

/// One step as the timeline shows it. Anonymous Slint structs are tuples
/// with the fields in alphabetical order: at, department, name, opinion,
/// status-code, status-en, status-zh.
type StepRow = (
    SharedString,
    SharedString,
    SharedString,
    SharedString,
    SharedString,
    SharedString,
    SharedString,
);

fn step_row(s: &ProgressStep) -> StepRow {
    (
        s.at.as_str().into(),
        s.department.as_str().into(),
        s.step_name.as_str().into(),
        s.opinion.as_str().into(),
        s.status.as_str().into(),
        s.status.en().into(),
        s.status_zh.as_str().into(),
    )
}

/// The case opened: steps, deadline, what to do next.
fn show_timeline(ui: &MainWindow, shared: &Arc<Shared>) {
    stop_cameras(shared);
    let Some((progress, from_list)) =
        with_journey(shared, |j| j.progress.clone().map(|p| (p, j.from_list)))
    else {
        return;
    };
    let q = ui.global::<QueryAdapter>();
    q.set_opened(case_row(&progress.case));
    q.set_from_list(from_list);
    let steps: Vec<StepRow> = progress.steps.iter().map(step_row).collect();
    q.set_steps(ModelRc::new(VecModel::from(steps)));
    q.set_has_remaining(progress.remaining_days.is_some());
    q.set_remaining_days(
        progress
            .remaining_days
            .and_then(|d| i32::try_from(d).ok())
            .unwrap_or(0),
    );
    q.set_warning(progress.warning.as_str().into());
    let correcting = progress.case.status == CaseStatus::CorrectionRequested
        && !progress.correction_items.is_empty();
    let items: Vec<SharedString> = if correcting {
        progress
            .correction_items
            .iter()
            .map(|i| i.as_str().into())
            .collect()
    } else {
        Vec::new()
    };
    q.set_correction_items(ModelRc::new(VecModel::from(items)));
    q.set_correction_note(progress.correction_note.clone().unwrap_or_default().into());
    q.set_correcting(false);
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_stage(QueryStage::Timeline);
    ui.global::<AppAdapter>().set_busy(false);
    if correcting {
        shared.say("correction-needed");
    }
}

/// 返回办理进度: from the correction back to the case.
fn back_to_case(ui: &MainWindow, shared: &Arc<Shared>) {
    stop_task(shared);
    show_timeline(ui, shared);
}

// ---------------------------------------------------------------------------
// 补正: card, capture, submission
// ---------------------------------------------------------------------------

/// 在本机补正材料: the document camera must be there; then the
/// applicant's card (unless already checked), then the capture.
fn start_correction(ui: &MainWindow, shared: &Arc<Shared>) {
    let Some(items) = with_journey(shared, |j| {
        let p = j.progress.as_ref()?;
        (p.case.status == CaseStatus::CorrectionRequested && !p.correction_items.is_empty())
            .then_some(p.correction_items.len())
    }) else {
        return;
    };
    let q = ui.global::<QueryAdapter>();
    q.set_correcting(true);
    if shared.devices.document_camera.is_none() {
        with_journey(shared, |j| j.retry = Some(Retry::Capture));
        show_error(ui, QueryError::DocCameraNotFitted, String::new(), false);
        return;
    }
    let verified = with_journey(shared, |j| {
        if j.pages.len() != items {
            j.pages = vec![Vec::new(); items];
            j.current = 0;
        }
        j.verified
    });
    if verified && shared.session().card.is_some() {
        show_capture(ui, shared);
    } else {
        wait_for_correction_card(ui, shared);
    }
}

/// Correction: the applicant's own card, checked against the case.
fn wait_for_correction_card(ui: &MainWindow, shared: &Arc<Shared>) {
    shared.bump_preview();
    let generation = {
        let mut s = shared.session();
        if let Some(mut card) = s.card.take() {
            card.wipe();
        }
        s.generation
    };
    with_journey(shared, |j| {
        j.verified = false;
        j.retry = Some(Retry::CorrectionCard);
    });
    let q = ui.global::<QueryAdapter>();
    q.set_correcting(true);
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_seconds_left(seconds(shared.timeouts.card_wait));
    q.set_stage(QueryStage::CorrectionCard);
    ui.global::<AppAdapter>().set_busy(false);
    let Some(reader) = shared.devices.idcard.clone() else {
        show_error(ui, QueryError::ReaderNotFitted, String::new(), false);
        return;
    };
    shared.say("id-card-place");
    let task = read_for_correction(Arc::clone(shared), ui.as_weak(), generation, reader);
    shared.spawn_for(generation, task);
}

/// Reads the card and checks that its holder is the case's applicant:
/// the case must be among the holder's own (the full number compared by
/// the backend, so the outbox never holds a correction it will refuse).
async fn read_for_correction(
    shared: Arc<Shared>,
    weak: Weak<MainWindow>,
    generation: u64,
    reader: IdCardHandle,
) {
    let Some(card) = take_card(&shared, &weak, generation, &reader, QueryStage::Verifying).await
    else {
        return;
    };
    let Some(case_number) = with_journey(&shared, |j| {
        j.progress.as_ref().map(|p| p.case.case_number.clone())
    }) else {
        return;
    };
    let backend = Arc::clone(&shared.backend);
    let mut id_number = card.identity.id_number.clone();
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
            tracing::warn!(code = %e.code(), "applicant check failed: {e}");
            let detail = backend_detail(&e);
            on_ui(&shared, &weak, generation, move |ui| {
                show_error(ui, backend_error(e.kind()), detail, true)
            });
            return;
        }
    };
    if !list.items.iter().any(|c| c.case_number == case_number) {
        tracing::info!("the card laid for a correction is not the applicant's");
        on_ui(&shared, &weak, generation, |ui| {
            show_error(ui, QueryError::CardMismatch, String::new(), true)
        });
        return;
    }
    {
        let mut s = shared.session();
        if s.generation != generation {
            return;
        }
        s.card = Some(card);
    }
    let sh = Arc::clone(&shared);
    on_ui(&shared, &weak, generation, move |ui| {
        with_journey(&sh, |j| j.verified = true);
        show_capture(ui, &sh);
    });
}

/// The capture stage: what is asked for, the live preview.
fn show_capture(ui: &MainWindow, shared: &Arc<Shared>) {
    with_journey(shared, |j| j.retry = Some(Retry::Capture));
    let q = ui.global::<QueryAdapter>();
    q.set_correcting(true);
    q.set_error(QueryError::None);
    q.set_error_detail("".into());
    q.set_capture_message("".into());
    q.set_last_page(slint::Image::default());
    q.set_stage(QueryStage::Correction);
    ui.global::<AppAdapter>().set_busy(false);
    refresh_slots(ui, shared);
    shared.say("document-place");
    let Some(camera) = shared.devices.document_camera.clone() else {
        q.set_doc_camera_ok(false);
        return;
    };
    q.set_doc_camera_ok(true);
    let generation = shared.generation();
    let run = shared.bump_preview();
    shared.rt.spawn(doc_preview_loop(
        Arc::clone(shared),
        ui.as_weak(),
        camera,
        generation,
        run,
    ));
}

/// One slot per item asked for. Anonymous Slint struct: (name, pages).
fn refresh_slots(ui: &MainWindow, shared: &Shared) {
    let (slots, current, ready) = with_journey(shared, |j| {
        let items = j
            .progress
            .as_ref()
            .map(|p| p.correction_items.clone())
            .unwrap_or_default();
        let slots: Vec<(SharedString, i32)> = items
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let pages = j.pages.get(i).map_or(0, Vec::len);
                (name.as_str().into(), i32::try_from(pages).unwrap_or(0))
            })
            .collect();
        let ready = !items.is_empty() && j.pages.iter().all(|p| !p.is_empty());
        (slots, j.current, ready)
    });
    let q = ui.global::<QueryAdapter>();
    q.set_correction_slots(ModelRc::new(VecModel::from(slots)));
    q.set_correction_current(i32::try_from(current).unwrap_or(0));
    q.set_correction_ready(ready);
}

/// The document camera's frames to the screen while the capture shows.
async fn doc_preview_loop(
    shared: Arc<Shared>,
    weak: Weak<MainWindow>,
    camera: DocumentCameraHandle,
    generation: u64,
    run: u64,
) {
    let mut started = false;
    while shared.generation() == generation && shared.preview_run() == run {
        let Some(frame) = frames::next_frame(&camera, DOC_MODE, &mut started, "高拍仪", &|ok| {
            doc_camera_ok(&shared, &weak, generation, ok)
        })
        .await
        else {
            continue;
        };
        let Ok(Ok(preview)) = tokio::task::spawn_blocking(move || {
            imaging::frame::rgb(&frame).map(|img| imaging::frame::preview(&img, 800, 600))
        })
        .await
        else {
            continue;
        };
        let (w, h) = preview.dimensions();
        let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(preview.as_raw(), w, h);
        on_ui(&shared, &weak, generation, move |ui| {
            let q = ui.global::<QueryAdapter>();
            if q.get_stage() == QueryStage::Correction {
                q.set_doc_camera_ok(true);
                q.set_doc_preview(slint::Image::from_rgb8(buffer));
            }
        });
    }
    frames::stop(&camera, started).await;
}

fn doc_camera_ok(shared: &Arc<Shared>, weak: &Weak<MainWindow>, generation: u64, ok: bool) {
    on_ui(shared, weak, generation, move |ui| {
        ui.global::<QueryAdapter>().set_doc_camera_ok(ok);
    });
}

/// 拍摄: a full-resolution still of the current item's next page.
fn capture(ui: &MainWindow, shared: &Arc<Shared>) {
    let q = ui.global::<QueryAdapter>();
    let Some(camera) = shared.devices.document_camera.clone() else {
        return;
    };
    let Some((index, label)) = with_journey(shared, |j| {
        if j.capturing {
            return None;
        }
        let i = j.current;
        let name = j
            .progress
            .as_ref()
            .and_then(|p| p.correction_items.get(i))
            .cloned()?;
        j.capturing = true;
        let n = j.pages.get(i).map_or(0, Vec::len) + 1;
        Some((i, format!("补正 {name} 第{n}页")))
    }) else {
        return;
    };
    shared.count_capture();
    q.set_capturing(true);
    q.set_capture_message("".into());
    let generation = shared.generation();
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    shared.rt.spawn(async move {
        let outcome = frames::capture_page(&camera, true).await;
        let stored = outcome.and_then(|(bytes, mime, preview)| {
            let id = {
                let mut s = sh.session();
                if s.generation != generation {
                    return Err(String::new());
                }
                s.images(&sh.config)?
                    .put(ImageKind::Document, &label, bytes)
                    .map_err(|e| e.to_string())?
            };
            with_journey(&sh, |j| {
                if let Some(p) = j.pages.get_mut(index) {
                    p.push(PageRef { id, mime });
                }
            });
            Ok(preview)
        });
        with_journey(&sh, |j| j.capturing = false);
        let sh2 = Arc::clone(&sh);
        on_ui(&sh, &weak, generation, move |ui| {
            let q = ui.global::<QueryAdapter>();
            q.set_capturing(false);
            match stored {
                Ok(preview) => {
                    let (w, h) = preview.dimensions();
                    let buffer =
                        SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(preview.as_raw(), w, h);
                    q.set_last_page(slint::Image::from_rgb8(buffer));
                    sh2.say("document-captured");
                }
                Err(message) => q.set_capture_message(message.into()),
            }
            refresh_slots(ui, &sh2);
        });
    });
}

/// 重拍: the last page of the current item is thrown away.
fn retake(ui: &MainWindow, shared: &Arc<Shared>) {
    let last = with_journey(shared, |j| {
        let i = j.current;
        j.pages.get_mut(i).and_then(Vec::pop)
    });
    if let Some(page) = last {
        let mut s = shared.session();
        if let Some(store) = s.images.as_mut()
            && let Err(e) = store.remove(page.id)
        {
            tracing::warn!("retake: {e}");
        }
    }
    ui.global::<QueryAdapter>()
        .set_last_page(slint::Image::default());
    shared.say("document-retake");
    refresh_slots(ui, shared);
}

/// 下一份材料: on to the next item asked for.
fn next_item(ui: &MainWindow, shared: &Arc<Shared>) {
    with_journey(shared, |j| {
        let has_pages = j.pages.get(j.current).is_some_and(|p| !p.is_empty());
        if has_pages && j.current + 1 < j.pages.len() {
            j.current += 1;
        }
    });
    ui.global::<QueryAdapter>()
        .set_last_page(slint::Image::default());
    shared.say("document-place");
    refresh_slots(ui, shared);
}

/// The correction as the backend wants it, from the journey and the card.
fn build_correction(shared: &Shared) -> Result<(KioskCorrection, outbox::Label), String> {
    let (case_number, matter, plan) = with_journey(shared, |j| {
        let p = j.progress.as_ref().ok_or("no case")?;
        if !j.verified {
            return Err("the card was not checked");
        }
        let mut plan = Vec::new();
        for (name, pages) in p.correction_items.iter().zip(&j.pages) {
            for (n, page) in pages.iter().enumerate() {
                plan.push((name.clone(), n + 1, page.clone()));
            }
        }
        Ok((p.case.case_number.clone(), p.case.matter_name.clone(), plan))
    })?;
    let mut s = shared.session();
    let card = s.card.as_ref().ok_or("身份证信息已清除 / identity gone")?;
    let id_number = card.identity.id_number.clone();
    let label = outbox::Label::masked(&matter, &card.identity.name, &id_number);
    let store = s.images.as_mut().ok_or("no images")?;
    let mut materials = Vec::new();
    for (name, n, page) in plan {
        let bytes = store.get(page.id).map_err(|e| e.to_string())?;
        materials.push(MaterialUpload {
            file_name: format!("{name}-补正-{n}.jpg"),
            name,
            mime: page.mime.to_owned(),
            pages: 1,
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes.as_slice()),
        });
    }
    Ok((
        KioskCorrection {
            idempotency_key: String::new(),
            case_number,
            id_number,
            materials,
            note: String::new(),
        },
        label,
    ))
}

/// 提交补正: into the outbox first, then the backend.
fn submit_correction(ui: &MainWindow, shared: &Arc<Shared>) {
    let q = ui.global::<QueryAdapter>();
    if q.get_stage() != QueryStage::Correction || !q.get_correction_ready() {
        return;
    }
    shared.bump_preview();
    q.set_stage(QueryStage::Submitting);
    ui.global::<AppAdapter>().set_busy(true);
    with_journey(shared, |j| j.retry = Some(Retry::Capture));
    let generation = shared.generation();
    let Some(outbox) = shared.outbox.clone() else {
        show_error(
            ui,
            QueryError::OutboxUnavailable,
            "OUTBOX_UNAVAILABLE".into(),
            false,
        );
        return;
    };
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    shared.spawn_for(generation, async move {
        let fail = |error: QueryError, detail: String, can_retry: bool| {
            on_ui(&sh, &weak, generation, move |ui| {
                show_error(ui, error, detail, can_retry)
            });
        };
        let (correction, label) = match build_correction(&sh) {
            Ok(x) => x,
            Err(e) => return fail(QueryError::OutboxUnavailable, e, true),
        };
        let mut status = outbox.status();
        let ob = Arc::clone(&outbox);
        let queued = tokio::task::spawn_blocking(move || {
            ob.enqueue(outbox::Item::Correction(correction), label)
        })
        .await;
        let queued = match queued {
            Ok(Ok(q)) => q,
            Ok(Err(e)) => {
                tracing::error!("the outbox refused a correction: {e}");
                return fail(
                    QueryError::OutboxUnavailable,
                    format!("{e} · OUTBOX_WRITE"),
                    true,
                );
            }
            Err(e) => {
                return fail(
                    QueryError::OutboxUnavailable,
                    format!("{e} · OUTBOX_TASK"),
                    true,
                );
            }
        };
        tracing::info!(seq = queued.seq, "correction saved in the outbox");
        // Kept: the same pages are never queued twice.
        with_journey(&sh, |j| j.pages.iter_mut().for_each(Vec::clear));
        let _ = outbox.sync_now();
        let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
        let delivered = loop {
            let ob = Arc::clone(&outbox);
            let seq = queued.seq;
            let entry = tokio::task::spawn_blocking(move || ob.get(seq))
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            match entry {
                Some(e) if e.reply.is_some() => break true,
                Some(e) if e.state == outbox::State::Rejected => {
                    let d = e
                        .rejection
                        .map(|r| format!("{} · {}", r.message, r.code))
                        .unwrap_or_default();
                    return fail(QueryError::CorrectionRejected, d, false);
                }
                _ => {}
            }
            if tokio::time::timeout_at(deadline, status.changed())
                .await
                .is_err()
            {
                break false;
            }
        };
        let sh2 = Arc::clone(&sh);
        on_ui(&sh, &weak, generation, move |ui| {
            corrected(ui, &sh2, !delivered)
        });
    });
}

/// The correction is with the backend, or kept to be sent.
fn corrected(ui: &MainWindow, shared: &Arc<Shared>, queued: bool) {
    with_journey(shared, |j| j.retry = None);
    let q = ui.global::<QueryAdapter>();
    q.set_corrected_queued(queued);
    q.set_seconds_left(seconds(shared.timeouts.printed));
    q.set_stage(QueryStage::Corrected);
    ui.global::<AppAdapter>().set_busy(false);
    shared.say(if queued {
        "submitted-queued"
    } else {
        "correction-submitted"
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
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

    fn api(status: u16, code: &str) -> BackendError {
        BackendError::Api {
            status,
            body: proto::ApiErrorBody {
                code: code.into(),
                message_zh: "查询过于频繁".into(),
                message_en: "too many tries".into(),
            },
        }
    }

    #[test]
    fn a_wrong_pair_is_not_found_and_too_many_tries_keep_the_message() {
        assert_eq!(
            progress_error(&api(404, "NOT_FOUND")),
            QueryError::CaseNotFound
        );
        let limited = api(429, "RATE_LIMITED");
        assert_eq!(progress_error(&limited), QueryError::RateLimited);
        assert!(backend_detail(&limited).contains("查询过于频繁"));
        assert!(backend_detail(&limited).contains("too many tries"));
        assert_eq!(
            progress_error(&api(422, "INVALID_FIELD")),
            QueryError::EntryInvalid
        );
        assert_eq!(
            progress_error(&api(500, "INTERNAL")),
            QueryError::BackendError
        );
        assert_eq!(
            progress_error(&BackendError::Timeout),
            QueryError::BackendUnreachable
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

    #[test]
    fn the_receipt_track_address_opens_the_case() {
        let got = parse_scanned(
            " https://zwfw.weidong.gov.cn/track?case=41040320261120000007&code=ab3k9xq2mz ",
        );
        assert_eq!(
            got,
            Ok(ScannedCode::Track {
                case_number: "41040320261120000007".into(),
                track_code: "AB3K9XQ2MZ".into(),
            })
        );
        // Parameters in either order, a portal under a path.
        assert!(matches!(
            parse_scanned(
                "http://127.0.0.1:8080/portal/track?code=AB3K9XQ2MZ&case=41040320261120000007"
            ),
            Ok(ScannedCode::Track { .. })
        ));
        assert_eq!(
            parse_scanned("41040320261120000007"),
            Ok(ScannedCode::CaseNumber("41040320261120000007".into()))
        );
    }

    #[test]
    fn anything_else_in_a_code_is_refused() {
        let base = "https://zwfw.weidong.gov.cn/track?case=41040320261120000007&code=AB3K9XQ2MZ";
        for (text, want) in [
            (
                format!("{base}&next=https://evil.example"),
                ScanError::BadContent,
            ),
            (
                format!("{base}&case=41040320261120000008"),
                ScanError::BadContent,
            ),
            (format!("{base}#x"), ScanError::BadContent),
            (
                "https://u:p@zwfw.weidong.gov.cn/track?case=41040320261120000007&code=AB3K9XQ2MZ"
                    .into(),
                ScanError::BadContent,
            ),
            (
                "https://zwfw.weidong.gov.cn/track?case=41040320261120000007".into(),
                ScanError::BadContent,
            ),
            (
                "https://zwfw.weidong.gov.cn/track?case=4104032026112000000&code=AB3K9XQ2MZ".into(),
                ScanError::BadContent,
            ),
            (
                "https://zwfw.weidong.gov.cn/track?case=41040320261120000007&code=AB3K9%27--"
                    .into(),
                ScanError::BadContent,
            ),
            (
                "https://zwfw.weidong.gov.cn/pay?case=41040320261120000007&code=AB3K9XQ2MZ".into(),
                ScanError::NotReceipt,
            ),
            (
                "javascript:alert(1)//track?case=41040320261120000007&code=AB3K9XQ2MZ".into(),
                ScanError::NotReceipt,
            ),
            (
                "weixin://wxpay/bizpayurl?pr=abc".into(),
                ScanError::NotReceipt,
            ),
            ("张伟 410403198503150013".into(), ScanError::NotReceipt),
            (
                format!("{base}&pad={}", "a".repeat(400)),
                ScanError::BadContent,
            ),
        ] {
            assert_eq!(parse_scanned(&text), Err(want), "{text}");
        }
    }

    #[test]
    fn the_keypad_fills_the_number_then_the_last_six_with_x_only_last() {
        let mut e = Entry::default();
        for d in "4104032026112000000".chars() {
            e.press(&d.to_string());
        }
        assert_eq!(e.field, Field::Number);
        assert_eq!(e.problem(), "number-short");
        e.press("X");
        assert_eq!(e.number.len(), 19, "no X in a case number");
        e.press("7");
        assert_eq!(e.field, Field::Last6, "a full number moves on");
        e.press("9");
        assert_eq!(e.number, "41040320261120000007", "no 21st digit");
        assert_eq!(e.last6, "9");
        e.press("X");
        assert_eq!(e.last6, "9", "X only as the sixth character");
        for d in ["0", "0", "1", "3"] {
            e.press(d);
        }
        assert!(e.x_allowed());
        e.press("X");
        assert_eq!(e.last6, "90013X");
        assert!(e.complete());
        assert_eq!(e.problem(), "");
        e.press("1");
        assert_eq!(e.last6, "90013X", "six at most");
        e.press("back");
        assert_eq!(e.last6, "90013");
        e.press("clear");
        assert_eq!(e.last6, "");
        assert_eq!(e.problem(), "last6-short");
        assert!(!e.complete());
    }

    #[test]
    fn last_six_and_case_numbers_have_their_shapes() {
        assert!(is_last6("15001X"));
        assert!(is_last6("150013"));
        assert!(!is_last6("X50013"));
        assert!(!is_last6("15001"));
        assert!(!is_last6("15001x"));
        assert_eq!(last6_of("41040319850315001x"), "15001X");
        assert_eq!(last6_of("410403198503150013"), "150013");
        assert!(is_case_number("41040320261120000001"));
        assert!(!is_case_number("4104032026112000000A"));
    }

    #[test]
    fn a_wiped_journey_keeps_nothing_and_stops_the_scan() {
        let mut j = QueryJourney {
            query: Some(CaseProgressQuery {
                case_number: "41040320261120000007".into(),
                id_last6: "150013".into(),
                track_code: Some("AB3K9XQ2MZ".into()),
            }),
            verified: true,
            scan_run: 4,
            entry: Entry {
                number: "41040320261120000007".into(),
                last6: "150013".into(),
                field: Field::Last6,
            },
            ..QueryJourney::default()
        };
        j.wipe();
        assert!(j.query.is_none() && !j.verified && j.progress.is_none());
        assert_eq!(j.entry, Entry::default());
        assert_eq!(j.scan_run, 5, "a scan in flight sees the change and stops");
    }
}
