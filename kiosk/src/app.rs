//! The running app: the window, its controllers and the background tasks.
//!
//! Threads: Slint lives on the thread that creates [`App`] (the UI
//! thread). Device and backend calls run as tokio tasks on the runtime
//! handed in; they reach the UI only through
//! `slint::Weak::upgrade_in_event_loop`. Nothing blocking runs on the UI
//! thread.
//!
//! A journey is a *session*. Every return home ends it: the generation
//! number moves on (so results of calls still in flight are dropped), the
//! task in flight is aborted, the ID card read is wiped, and the models
//! and strings on screen are cleared.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hal::actor::{IdCardHandle, ReceiptPrinterHandle};
use hal::camera::{CameraHandle, DocumentCameraHandle};
use hal::fingerprint::FingerprintHandle;
use hal::idcard::CardRead;
use proto::CaseSummary;
use slint::ComponentHandle;

use crate::backend_client::{self, BackendClient, HealthSource};
use crate::config::Config;
use crate::controllers;
use crate::ui::MainWindow;

/// The opened devices, as actor handles. `None`: not fitted.
#[derive(Clone, Default)]
pub struct Devices {
    pub idcard: Option<IdCardHandle>,
    pub receipt_printer: Option<ReceiptPrinterHandle>,
    /// The face camera (人像摄像头).
    pub camera: Option<CameraHandle>,
    /// The document camera (高拍仪).
    pub document_camera: Option<DocumentCameraHandle>,
    /// The fingerprint scanner (人证核验).
    pub fingerprint: Option<FingerprintHandle>,
    /// The other configured devices (code scanner,
    /// card reader, PIN pad, A4 printer), supervised by their actors for
    /// health, heartbeat, self-test and hot-plug until a journey uses them.
    pub others: Vec<hal::actor::Handle<Box<dyn hal::Device>>>,
}

impl std::fmt::Debug for Devices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.each().iter().map(AnyHandle::name))
            .finish()
    }
}

/// Any one of the kiosk's device handles, for what every device offers:
/// its name, class, health and self-test.
#[derive(Clone, Copy)]
pub(crate) enum AnyHandle<'a> {
    IdCard(&'a IdCardHandle),
    ReceiptPrinter(&'a ReceiptPrinterHandle),
    Camera(&'a CameraHandle),
    DocumentCamera(&'a DocumentCameraHandle),
    Fingerprint(&'a FingerprintHandle),
    Other(&'a hal::actor::Handle<Box<dyn hal::Device>>),
}

impl AnyHandle<'_> {
    pub fn name(&self) -> &str {
        match self {
            AnyHandle::IdCard(h) => h.name(),
            AnyHandle::ReceiptPrinter(h) => h.name(),
            AnyHandle::Camera(h) => h.name(),
            AnyHandle::DocumentCamera(h) => h.name(),
            AnyHandle::Fingerprint(h) => h.name(),
            AnyHandle::Other(h) => h.name(),
        }
    }

    pub fn kind(&self) -> hal::DeviceKind {
        match self {
            AnyHandle::IdCard(h) => h.kind(),
            AnyHandle::ReceiptPrinter(h) => h.kind(),
            AnyHandle::Camera(h) => h.kind(),
            AnyHandle::DocumentCamera(h) => h.kind(),
            AnyHandle::Fingerprint(h) => h.kind(),
            AnyHandle::Other(h) => h.kind(),
        }
    }

    pub fn watch_health(&self) -> tokio::sync::watch::Receiver<hal::Health> {
        match self {
            AnyHandle::IdCard(h) => h.watch_health(),
            AnyHandle::ReceiptPrinter(h) => h.watch_health(),
            AnyHandle::Camera(h) => h.watch_health(),
            AnyHandle::DocumentCamera(h) => h.watch_health(),
            AnyHandle::Fingerprint(h) => h.watch_health(),
            AnyHandle::Other(h) => h.watch_health(),
        }
    }

    pub fn health(&self) -> hal::Health {
        self.watch_health().borrow().clone()
    }

    pub async fn self_test(&self, timeout: Duration) -> Result<hal::Health, hal::DeviceError> {
        match self {
            AnyHandle::IdCard(h) => h.self_test(timeout).await,
            AnyHandle::ReceiptPrinter(h) => h.self_test(timeout).await,
            AnyHandle::Camera(h) => h.self_test(timeout).await,
            AnyHandle::DocumentCamera(h) => h.self_test(timeout).await,
            AnyHandle::Fingerprint(h) => h.self_test(timeout).await,
            AnyHandle::Other(h) => h.self_test(timeout).await,
        }
    }
}

impl Devices {
    /// Every opened device, in a fixed order.
    pub(crate) fn each(&self) -> Vec<AnyHandle<'_>> {
        let mut out = Vec::new();
        out.extend(self.idcard.iter().map(AnyHandle::IdCard));
        out.extend(self.receipt_printer.iter().map(AnyHandle::ReceiptPrinter));
        out.extend(self.camera.iter().map(AnyHandle::Camera));
        out.extend(self.document_camera.iter().map(AnyHandle::DocumentCamera));
        out.extend(self.fingerprint.iter().map(AnyHandle::Fingerprint));
        out.extend(self.others.iter().map(AnyHandle::Other));
        out
    }

    /// Every device's health watch, for the heartbeat.
    pub fn health_sources(&self) -> Vec<HealthSource> {
        self.each()
            .iter()
            .map(|h| HealthSource {
                name: h.name().to_string(),
                kind: h.kind(),
                health: h.watch_health(),
            })
            .collect()
    }
}

/// Deadlines of the journey's calls.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// How long the prompt waits for a card (the countdown on screen).
    pub card_wait: Duration,
    /// One look for a card already on the reader.
    pub card_presence: Duration,
    /// Reading the card.
    pub card_read: Duration,
    /// Enrolment plus case lookup.
    pub lookup: Duration,
    /// Printing the receipt.
    pub print: Duration,
    /// How long "请取走回执" stays.
    pub printed: Duration,
    /// One device's self-test.
    pub self_test: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            card_wait: Duration::from_secs(30),
            card_presence: Duration::from_secs(2),
            card_read: Duration::from_secs(6),
            lookup: Duration::from_secs(15),
            print: Duration::from_secs(20),
            printed: Duration::from_secs(15),
            self_test: Duration::from_secs(10),
        }
    }
}

/// Where 重试 on the error screen starts again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RetryPoint {
    /// Lay the card again.
    #[default]
    Card,
    /// Ask the backend again with the card already read.
    Lookup,
}

/// The personal and transient state of one journey.
#[derive(Default)]
pub(crate) struct Session {
    /// Moves on at every return home.
    pub generation: u64,
    /// The card read in this journey.
    pub card: Option<CardRead>,
    /// The cases listed.
    pub cases: Vec<CaseSummary>,
    /// The call in flight.
    pub task: Option<tokio::task::AbortHandle>,
    pub retry: RetryPoint,
    /// Maintenance PIN digits typed so far.
    pub pin: String,
    /// Wrong PINs so far.
    pub pin_failures: u32,
    /// Images captured in this journey, sealed (see `imaging::store`).
    pub images: Option<imaging::store::ImageStore>,
    /// 我要办 in progress.
    pub apply: Option<crate::controllers::apply::ApplyJourney>,
    /// What the on-screen keyboard edits, and the text before it opened.
    pub keyboard: Option<crate::controllers::keyboard::Editing>,
}

impl Session {
    /// Ends the journey: drops results in flight and wipes personal data.
    pub fn end(&mut self) {
        self.generation += 1;
        if let Some(task) = self.task.take() {
            task.abort();
        }
        if let Some(mut card) = self.card.take() {
            card.wipe();
        }
        for case in &mut self.cases {
            scrub(&mut case.case_number);
            scrub(&mut case.matter_name);
        }
        self.cases.clear();
        scrub(&mut self.pin);
        self.pin_failures = 0;
        if let Some(mut images) = self.images.take() {
            images.wipe();
        }
        if let Some(mut apply) = self.apply.take() {
            apply.wipe();
        }
        if let Some(mut k) = self.keyboard.take() {
            k.wipe();
        }
        self.retry = RetryPoint::Card;
    }
}

impl Session {
    /// The journey's image store, opened at first use. Document images
    /// may spill, sealed, to `data_dir/sealed`.
    pub fn images(&mut self, config: &Config) -> Result<&mut imaging::store::ImageStore, String> {
        if self.images.is_none() {
            let store = imaging::store::ImageStore::with_spill_dir(&sealed_dir(config))
                .map_err(|e| e.to_string())?;
            self.images = Some(store);
        }
        self.images
            .as_mut()
            .ok_or_else(|| "图像存储不可用 / image store unavailable".to_string())
    }
}

/// Where sealed document images may spill.
pub(crate) fn sealed_dir(config: &Config) -> std::path::PathBuf {
    config.data_dir.join("sealed")
}

/// Overwrites a string's bytes before clearing it.
pub(crate) fn scrub(s: &mut String) {
    let len = s.len();
    s.clear();
    s.extend(std::iter::repeat_n('0', len));
    s.clear();
}

/// What the controllers share with the background tasks.
pub(crate) struct Shared {
    pub config: Config,
    pub devices: Devices,
    pub backend: Arc<BackendClient>,
    pub rt: tokio::runtime::Handle,
    pub timeouts: Timeouts,
    /// The durable outbox (`None` only when it could not be opened: then
    /// 我要办 says so instead of accepting what it cannot keep).
    pub outbox: Option<Arc<outbox::Outbox>>,
    /// Voice prompts (`None`: no speaker configured).
    pub voice: Option<voice::Voice>,
    session: Mutex<Session>,
    catalogue: Mutex<Option<crate::catalogue::Catalogue>>,
    guide: Mutex<crate::controllers::guide::GuideState>,
    /// Moves on when a document camera preview should stop.
    preview_run: AtomicU64,
    /// Counts captures (the automatic capture waits for a new page).
    captures: AtomicU64,
    /// A catalogue fetch is running.
    pub(crate) fetching: AtomicBool,
    /// The language prompts are spoken in ("zh" or "en").
    pub(crate) voice_lang: Mutex<voice::Lang>,
    /// 我要查's own state (QR, case number, timeline, correction pages).
    pub(crate) query_journey: Mutex<crate::controllers::query::QueryJourney>,
    /// Changes of every device's health, newest last (maintenance).
    pub(crate) health_history:
        Mutex<std::collections::VecDeque<crate::controllers::maintenance::HealthChange>>,
    /// The clock check's last verdict, so a change is logged once.
    clock_transitions: Mutex<crate::clock::Transitions>,
}

impl Shared {
    /// The session, recovering from a poisoned lock (a panicking task
    /// must not lock the kiosk up).
    pub fn session(&self) -> MutexGuard<'_, Session> {
        match self.session.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The clock check's memory of its last verdict.
    pub fn clock_transitions(&self) -> MutexGuard<'_, crate::clock::Transitions> {
        match self.clock_transitions.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Whether the kiosk's clock may stamp documents now (R8).
    pub fn clock_ok(&self) -> bool {
        self.backend.clock_state().is_ok()
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.session().generation
    }

    /// The catalogue, if one was fetched or cached.
    pub fn catalogue(&self) -> MutexGuard<'_, Option<crate::catalogue::Catalogue>> {
        match self.catalogue.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// What the guide screens show.
    pub fn guide(&self) -> MutexGuard<'_, crate::controllers::guide::GuideState> {
        match self.guide.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Stops the document camera preview; returns the new run number.
    pub fn bump_preview(&self) -> u64 {
        self.preview_run.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The current preview run.
    pub fn preview_run(&self) -> u64 {
        self.preview_run.load(Ordering::SeqCst)
    }

    /// Captures made so far.
    pub fn captures(&self) -> u64 {
        self.captures.load(Ordering::SeqCst)
    }

    /// Counts one capture.
    pub fn count_capture(&self) {
        self.captures.fetch_add(1, Ordering::SeqCst);
    }

    /// Speaks prompt `id` in the screen's language (unless muted).
    pub fn say(&self, id: &str) {
        if let Some(v) = &self.voice {
            let lang = match self.voice_lang.lock() {
                Ok(g) => *g,
                Err(p) => *p.into_inner(),
            };
            v.say(id, lang);
        }
    }

    /// Sends an alert to the backend in the background (no personal data).
    pub fn alert(&self, kind: proto::AlertKind, screen: &str, detail: &str) {
        let backend = Arc::clone(&self.backend);
        let alert = proto::KioskAlert {
            kind,
            screen: screen.to_owned(),
            detail: detail.to_owned(),
        };
        self.rt.spawn(async move {
            if let Err(e) = backend.alert(&alert).await {
                tracing::warn!(kind = ?alert.kind, "alert not delivered: {}", e.code());
            }
        });
    }

    /// Runs `fut` on the runtime as the session's call in flight, unless
    /// the session `generation` has already ended.
    pub fn spawn_for<F>(&self, generation: u64, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = self.rt.spawn(fut);
        let mut s = self.session();
        if s.generation == generation {
            if let Some(old) = s.task.replace(handle.abort_handle()) {
                old.abort();
            }
        } else {
            handle.abort();
        }
    }
}

/// The app: one window, its controllers, and the background tasks.
pub struct App {
    ui: MainWindow,
    shared: Arc<Shared>,
    _timers: Vec<slint::Timer>,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.shared.config)
            .field("devices", &self.shared.devices)
            .finish()
    }
}

impl App {
    /// Creates the window and its controllers and starts the background
    /// tasks (enrolment and heartbeat, device watches) on `rt`. Must run
    /// on the UI thread after the Slint platform is chosen.
    pub fn new(
        config: Config,
        devices: Devices,
        rt: tokio::runtime::Handle,
    ) -> anyhow::Result<App> {
        Self::with_timeouts(config, devices, rt, Timeouts::default())
    }

    /// The same with explicit journey deadlines.
    pub fn with_timeouts(
        config: Config,
        devices: Devices,
        rt: tokio::runtime::Handle,
        timeouts: Timeouts,
    ) -> anyhow::Result<App> {
        let backend = Arc::new(BackendClient::new(&config)?);
        // Sealed images a killed kiosk left behind are useless (their key
        // died with it) and are deleted now.
        if let Err(e) = imaging::store::ImageStore::with_spill_dir(&sealed_dir(&config)) {
            tracing::warn!("sealed image directory: {e}");
        }
        let outbox = open_outbox(&config);
        let voice = open_voice(&config);
        let ui = MainWindow::new()?;
        let voice_lang = crate::controllers::app::voice_lang(config.language);
        let shared = Arc::new(Shared {
            config,
            devices,
            backend,
            rt,
            timeouts,
            outbox,
            voice,
            session: Mutex::new(Session::default()),
            catalogue: Mutex::new(None),
            guide: Mutex::new(crate::controllers::guide::GuideState::default()),
            preview_run: AtomicU64::new(0),
            captures: AtomicU64::new(0),
            fetching: AtomicBool::new(false),
            voice_lang: Mutex::new(voice_lang),
            health_history: Mutex::new(std::collections::VecDeque::new()),
            query_journey: Mutex::new(crate::controllers::query::QueryJourney::default()),
            clock_transitions: Mutex::new(crate::clock::Transitions::default()),
        });
        controllers::app::load_cached_catalogue(&shared);

        let mut timers = Vec::new();
        timers.extend(controllers::app::install(&ui, &shared));
        controllers::home::install(&ui, &shared);
        controllers::query::install(&ui, &shared);
        controllers::maintenance::install(&ui, &shared);
        controllers::camera::install(&ui, &shared);
        controllers::guide::install(&ui, &shared);
        controllers::apply::install(&ui, &shared);
        controllers::keyboard::install(&ui, &shared);

        let mut tasks = Vec::new();
        tasks.extend(controllers::app::watch_devices(&ui, &shared));
        tasks.push(controllers::maintenance::watch_backend(&ui, &shared));
        tasks.push(controllers::app::watch_clock(&ui, &shared));
        tasks.extend(controllers::maintenance::watch_health_history(&shared));
        if let Some(t) = controllers::maintenance::watch_outbox(&ui, &shared) {
            tasks.push(t);
        }
        let heartbeat = shared.rt.spawn(backend_client::heartbeat_loop(
            Arc::clone(&shared.backend),
            shared.devices.health_sources(),
            backend_client::HEARTBEAT_EVERY,
        ));
        tasks.push(heartbeat.abort_handle());
        if let Some(outbox) = shared.outbox.clone() {
            let courier = outbox::HttpCourier::new(
                shared.backend.base_url(),
                KioskTokens(Arc::clone(&shared.backend)),
            )?;
            let delivery = shared
                .rt
                .spawn(Arc::clone(&outbox).run(courier, outbox::Backoff::default()));
            tasks.push(delivery.abort_handle());
            // The heartbeat reaching the backend again ends the delivery
            // loop's backoff at once.
            let mut link = shared.backend.status();
            let resume = shared.rt.spawn(async move {
                let mut was_up = link.borrow_and_update().reachable == Some(true);
                while link.changed().await.is_ok() {
                    let up = link.borrow_and_update().reachable == Some(true);
                    if up && !was_up {
                        let ob = Arc::clone(&outbox);
                        let _ = tokio::task::spawn_blocking(move || ob.sync_now()).await;
                    }
                    was_up = up;
                }
            });
            tasks.push(resume.abort_handle());
        }
        let catalogue = {
            let (sh, weak) = (Arc::clone(&shared), ui.as_weak());
            shared.rt.spawn(async move {
                let mut retry = controllers::app::CATALOGUE_RETRY;
                loop {
                    controllers::app::refresh_catalogue(&sh, weak.clone(), true);
                    // Wait for this fetch (or one a journey started) to end.
                    while sh.fetching.load(std::sync::atomic::Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    if controllers::app::catalogue_is_fresh(&sh) {
                        retry = controllers::app::CATALOGUE_RETRY;
                        tokio::time::sleep(controllers::app::CATALOGUE_EVERY).await;
                    } else {
                        // Failed: try again soon, backing off to the usual period.
                        tokio::time::sleep(retry).await;
                        retry = (retry * 2).min(controllers::app::CATALOGUE_EVERY);
                    }
                }
            })
        };
        tasks.push(catalogue.abort_handle());

        // Start clean: no sample data from the .slint files on screen.
        controllers::app::go_home(&ui, &shared, controllers::app::HomeReason::Start);
        controllers::app::show_notices(&ui, &shared);
        Ok(App {
            ui,
            shared,
            _timers: timers,
            tasks,
        })
    }

    /// The window.
    pub fn window(&self) -> &MainWindow {
        &self.ui
    }

    /// The backend client (enrolment state, status).
    pub fn backend(&self) -> Arc<BackendClient> {
        Arc::clone(&self.shared.backend)
    }

    /// Ends the journey and shows the home screen.
    pub fn go_home(&self) {
        controllers::app::go_home(&self.ui, &self.shared, controllers::app::HomeReason::Back);
    }

    /// Whether the journey holds an ID card read (for tests of the wipe).
    pub fn holds_personal_data(&self) -> bool {
        if controllers::query::holds_personal_data(&self.shared) {
            return true;
        }
        let s = self.shared.session();
        s.card.is_some()
            || !s.cases.is_empty()
            || s.images.as_ref().is_some_and(|i| !i.is_empty())
            || s.apply.is_some()
            || s.keyboard.is_some()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.tasks.iter().for_each(tokio::task::AbortHandle::abort);
        self.shared.session().end();
    }
}

/// The outbox in `data_dir/outbox.sqlite`; `None` (logged) when it cannot
/// be opened, so 我要办 refuses rather than accept what it cannot keep.
fn open_outbox(config: &Config) -> Option<Arc<outbox::Outbox>> {
    let path = config.data_dir.join("outbox.sqlite");
    if let Err(e) = std::fs::create_dir_all(&config.data_dir) {
        tracing::error!("data directory {}: {e}", config.data_dir.display());
    }
    match outbox::Outbox::open(&path) {
        Ok(o) => {
            if let Some(q) = o.quarantined() {
                tracing::error!("a damaged outbox was moved aside to {}", q.display());
            }
            Some(Arc::new(o))
        }
        Err(e) => {
            tracing::error!("outbox {}: {e}", path.display());
            None
        }
    }
}

/// The voice prompts; `None` when the kiosk has no speaker configured.
fn open_voice(config: &Config) -> Option<voice::Voice> {
    if config.audio_device == "none" {
        return None;
    }
    let prompts = match &config.voice_dir {
        Some(dir) => voice::Prompts::load(dir),
        None => voice::Prompts::builtin(),
    };
    Some(voice::Voice::new(
        &config.audio_device,
        prompts,
        config.voice_muted,
    ))
}

/// The kiosk's bearer token for the outbox's courier.
struct KioskTokens(Arc<BackendClient>);

impl outbox::TokenSource for KioskTokens {
    fn token(&self) -> Option<String> {
        self.0.token()
    }

    fn refused(&self) {
        self.0.token_refused();
    }
}

/// What `systemctl status` shows once the home screen is up.
const READY_STATUS: &str = "主页已显示，自助服务可用 / home screen up, self-service open";

/// Runs the kiosk until the event loop quits (window closed, or
/// `slint::quit_event_loop` from a signal handler). Once the home screen
/// is up it prints `kiosk ready` on stdout, logs `kiosk ready, version …`
/// and, under systemd (`notifier`), sends `READY=1`; from then on a Slint
/// timer on the UI event loop sends `WATCHDOG=1` at half the watchdog
/// timeout, so a hung event loop stops the pings and systemd restarts the
/// kiosk. `STOPPING=1` goes out when the event loop has ended.
pub fn run(
    config: Config,
    devices: Devices,
    rt: tokio::runtime::Handle,
    notifier: Option<crate::sdnotify::Notifier>,
) -> anyhow::Result<()> {
    let fullscreen = config.fullscreen;
    let app = App::new(config, devices, rt)?;
    if fullscreen {
        app.window().window().set_fullscreen(true);
    }
    app.window().window().on_close_requested(|| {
        let _ = slint::quit_event_loop();
        slint::CloseRequestResponse::HideWindow
    });
    app.window().show()?;
    let notifier = notifier.map(std::rc::Rc::new);
    let watchdog = slint::Timer::default();
    // The first turn of the event loop: the home screen is up.
    slint::Timer::single_shot(Duration::ZERO, {
        let notifier = notifier.clone();
        move || {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "kiosk ready");
            let _ = out.flush();
            tracing::info!("kiosk ready, version {}", env!("CARGO_PKG_VERSION"));
            if let Some(n) = &notifier {
                let _ = n.ready(READY_STATUS);
            }
        }
    });
    if let Some(n) = &notifier
        && let Some(every) = n.watchdog_interval()
    {
        tracing::info!(?every, "systemd watchdog pings from the UI event loop");
        let n = std::rc::Rc::clone(n);
        watchdog.start(slint::TimerMode::Repeated, every, move || {
            let _ = n.watchdog();
        });
    }
    slint::run_event_loop_until_quit()?;
    watchdog.stop();
    if let Some(n) = &notifier {
        let _ = n.stopping();
    }
    app.window().hide()?;
    drop(app);
    Ok(())
}
