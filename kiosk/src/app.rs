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

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use hal::actor::{IdCardHandle, ReceiptPrinterHandle};
use hal::camera::{CameraHandle, DocumentCameraHandle};
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
    /// The other configured devices (fingerprint scanner, code scanner,
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
    Other(&'a hal::actor::Handle<Box<dyn hal::Device>>),
}

impl AnyHandle<'_> {
    pub fn name(&self) -> &str {
        match self {
            AnyHandle::IdCard(h) => h.name(),
            AnyHandle::ReceiptPrinter(h) => h.name(),
            AnyHandle::Camera(h) => h.name(),
            AnyHandle::DocumentCamera(h) => h.name(),
            AnyHandle::Other(h) => h.name(),
        }
    }

    pub fn kind(&self) -> hal::DeviceKind {
        match self {
            AnyHandle::IdCard(h) => h.kind(),
            AnyHandle::ReceiptPrinter(h) => h.kind(),
            AnyHandle::Camera(h) => h.kind(),
            AnyHandle::DocumentCamera(h) => h.kind(),
            AnyHandle::Other(h) => h.kind(),
        }
    }

    pub fn watch_health(&self) -> tokio::sync::watch::Receiver<hal::Health> {
        match self {
            AnyHandle::IdCard(h) => h.watch_health(),
            AnyHandle::ReceiptPrinter(h) => h.watch_health(),
            AnyHandle::Camera(h) => h.watch_health(),
            AnyHandle::DocumentCamera(h) => h.watch_health(),
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
    session: Mutex<Session>,
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

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.session().generation
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
        let ui = MainWindow::new()?;
        let shared = Arc::new(Shared {
            config,
            devices,
            backend,
            rt,
            timeouts,
            session: Mutex::new(Session::default()),
        });

        let mut timers = Vec::new();
        timers.extend(controllers::app::install(&ui, &shared));
        controllers::home::install(&ui, &shared);
        controllers::query::install(&ui, &shared);
        controllers::maintenance::install(&ui, &shared);
        controllers::camera::install(&ui, &shared);

        let mut tasks = Vec::new();
        tasks.extend(controllers::app::watch_devices(&ui, &shared));
        tasks.push(controllers::maintenance::watch_backend(&ui, &shared));
        let heartbeat = shared.rt.spawn(backend_client::heartbeat_loop(
            Arc::clone(&shared.backend),
            shared.devices.health_sources(),
            backend_client::HEARTBEAT_EVERY,
        ));
        tasks.push(heartbeat.abort_handle());

        // Start clean: no sample data from the .slint files on screen.
        controllers::app::go_home(&ui, &shared, controllers::app::HomeReason::Start);
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
        let s = self.shared.session();
        s.card.is_some() || !s.cases.is_empty() || s.images.as_ref().is_some_and(|i| !i.is_empty())
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.tasks.iter().for_each(tokio::task::AbortHandle::abort);
        self.shared.session().end();
    }
}

/// Runs the kiosk until the event loop quits (window closed, or
/// `slint::quit_event_loop` from a signal handler). Prints `kiosk ready`
/// on stdout once the home screen is up.
pub fn run(config: Config, devices: Devices, rt: tokio::runtime::Handle) -> anyhow::Result<()> {
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
    slint::invoke_from_event_loop(|| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "kiosk ready");
        let _ = out.flush();
    })?;
    slint::run_event_loop_until_quit()?;
    app.window().hide()?;
    drop(app);
    Ok(())
}
