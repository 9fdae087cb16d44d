//! Helpers shared by the UI test binaries: the Slint testing platform with
//! the software renderer (one per process, so one `#[test]` per binary),
//! pumping the event loop without moving mock time, waiting on conditions
//! with a deadline, touching elements by accessible label, screenshots.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use kiosk::ui::MainWindow;
use slint::ComponentHandle;

/// Installs the testing platform: mock time, an event queue that other
/// threads can post to, and the software renderer for snapshots.
pub fn init_platform() {
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: true,
        renderer_name: Some("software".into()),
    })))
    .expect("the Slint platform is set once per test binary");
}

/// A multi-thread tokio runtime for the app's background work.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "kiosk-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The workspace's target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        })
}

/// A kiosk config for tests.
pub fn config(backend_url: &str, data_dir: &Path, devices: &[(&str, String)]) -> kiosk::Config {
    let mut text = format!(
        "kiosk_name = \"卫东区政务服务中心大厅1号机\"\nlocation = \"测试大厅\"\nbackend_url = \"{backend_url}\"\nenrolment_code = \"WD-TEST-1\"\ndata_dir = \"{}\"\nmaintenance_pin = \"246810\"\ninactivity_seconds = 60\naudio_device = \"none\"\n\n[devices]\n",
        data_dir.display()
    );
    for (name, selector) in devices {
        text.push_str(&format!("{name} = \"{selector}\"\n"));
    }
    kiosk::Config::from_toml(&text, Path::new("test.toml")).unwrap()
}

/// A URL where nothing listens.
pub fn dead_backend_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

/// Runs everything queued for the UI thread (results posted by the
/// app's tasks), runs change handlers and instantiates pending elements,
/// without moving mock time.
pub fn pump() {
    slint::quit_event_loop().unwrap();
    slint::run_event_loop().unwrap();
    i_slint_backend_testing::mock_elapsed_time(Duration::ZERO);
}

/// Moves mock time on (Slint timers: countdowns, inactivity, toasts).
pub fn advance(d: Duration) {
    pump();
    // In steps, so one-second timers fire once per second.
    let mut left = d;
    while !left.is_zero() {
        let step = left.min(Duration::from_millis(500));
        i_slint_backend_testing::mock_elapsed_time(step);
        left -= step;
        pump();
    }
}

/// Pumps until `cond` holds, or fails the test after `timeout` of real
/// time. Between pumps it parks until something is posted to the UI
/// thread (or 20 ms pass).
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        pump();
        if cond() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::park_timeout(Duration::from_millis(20));
    }
}

/// Elements with this accessible label.
pub fn find(ui: &MainWindow, label: &str) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(ui, label).collect()
}

/// The button with this accessible label (the last one in the tree when
/// several do the same, e.g. 返回首页 in the header and on the page).
pub fn button(ui: &MainWindow, label: &str) -> ElementHandle {
    let buttons: Vec<ElementHandle> = find(ui, label)
        .into_iter()
        .filter(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .collect();
    assert!(
        !buttons.is_empty(),
        "no button labelled {label:?} on screen"
    );
    buttons.into_iter().last().unwrap()
}

/// Touches the button with this label (press, 50 ms of mock time, release).
pub fn touch(ui: &MainWindow, label: &str) {
    pump();
    button(ui, label).mock_single_click(slint::platform::PointerEventButton::Left);
    pump();
}

/// Touches a home tile until it opens `page`: a tile that needs devices
/// opens once they have reported in after start (as a resident would
/// touch it again).
pub fn open_tile(ui: &MainWindow, label: &str, page: kiosk::ui::Page) {
    let app = ui.global::<kiosk::ui::AppAdapter>();
    wait_until(&format!("{label} to open"), Duration::from_secs(30), || {
        if app.get_page() != page {
            touch(ui, label);
        }
        app.get_page() == page
    });
}

/// Every accessible label and value in the window (texts have their text
/// as label).
pub fn all_strings(ui: &MainWindow) -> Vec<String> {
    let mut out = Vec::new();
    for e in i_slint_backend_testing::ElementQuery::from_root(ui).find_all() {
        if let Some(l) = e.accessible_label() {
            out.push(l.to_string());
        }
        if let Some(v) = e.accessible_value() {
            out.push(v.to_string());
        }
        if let Some(d) = e.accessible_description() {
            out.push(d.to_string());
        }
    }
    out
}

/// Whether some text on screen contains `needle`.
pub fn shows(ui: &MainWindow, needle: &str) -> bool {
    all_strings(ui).iter().any(|s| s.contains(needle))
}

/// Renders the window and saves it as `target/screens/NAME`.
pub fn screenshot(ui: &MainWindow, name: &str) -> PathBuf {
    pump();
    let shot = ui.window().take_snapshot().unwrap();
    let dir = target_dir().join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    image::RgbaImage::from_raw(shot.width(), shot.height(), shot.as_bytes().to_vec())
        .unwrap()
        .save(&path)
        .unwrap();
    path
}

/// Creates the window at 1920x1080 and shows it.
pub fn show(app: &kiosk::App) {
    app.window()
        .window()
        .set_size(slint::PhysicalSize::new(1920, 1080));
    app.window().show().unwrap();
    pump();
}

/// A seeded backend on a temporary database, served on 127.0.0.1:0 by
/// the runtime; send on (or drop) the returned sender to stop it.
pub fn start_backend(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    start_backend_with_clock(rt, dir, std::sync::Arc::new(backend::SystemClock))
}

/// The same with the backend's clock given (its heartbeat answers carry
/// that clock's time).
pub fn start_backend_with_clock(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    clock: std::sync::Arc<dyn backend::Clock>,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    rt.block_on(async {
        let config = backend::Config {
            db: dir.join("backend.db"),
            enrolment_codes: vec!["WD-TEST-1".to_owned()],
            seed: true,
            ..backend::Config::default()
        };
        let state = backend::AppState::open(config, clock).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(backend::serve(listener, state, async {
            let _ = rx.await;
        }));
        (format!("http://{addr}"), tx)
    })
}

/// An ID card reader actor on `selector` through the real driver.
pub fn reader(selector: &str) -> hal::actor::IdCardHandle {
    let selector: hal::Selector = selector.parse().unwrap();
    hal::actor::spawn("idcard", hal::DeviceKind::IdCardReader, move || {
        drivers::registry::open_id_card_reader(&selector)
    })
    .unwrap()
}

/// A receipt printer actor on `selector` through the real driver.
pub fn printer(selector: &str) -> hal::actor::ReceiptPrinterHandle {
    let selector: hal::Selector = selector.parse().unwrap();
    hal::actor::spawn(
        "receipt_printer",
        hal::DeviceKind::ReceiptPrinter,
        move || drivers::registry::open_receipt_printer(&selector),
    )
    .unwrap()
}

/// A fingerprint scanner actor on `selector` through the real driver.
pub fn fingerprint(selector: &str) -> hal::fingerprint::FingerprintHandle {
    let selector: hal::Selector = selector.parse().unwrap();
    hal::actor::spawn(
        "fingerprint",
        hal::DeviceKind::FingerprintScanner,
        move || drivers::registry::open_fingerprint_scanner(&selector),
    )
    .unwrap()
}

/// A document camera actor on `selector` through the real driver.
pub fn document_camera(selector: &str) -> hal::camera::DocumentCameraHandle {
    let selector: hal::Selector = selector.parse().unwrap();
    hal::actor::spawn("doc_camera", hal::DeviceKind::DocumentCamera, move || {
        drivers::registry::open_document_camera(&selector)
    })
    .unwrap()
}

/// Types `keys` on the on-screen keyboard, one key label at a time.
pub fn type_keys(ui: &MainWindow, keys: &str) {
    for c in keys.chars() {
        touch(ui, &c.to_string());
    }
}

/// A matter of the demo catalogue by name.
pub fn demo_matter(name: &str) -> proto::Matter {
    for file in ["persons.json", "enterprises.json"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/demo/matters")
            .join(file);
        let list: Vec<proto::Matter> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        if let Some(m) = list.into_iter().find(|m| m.name == name) {
            return m;
        }
    }
    panic!("no demo matter {name}");
}
