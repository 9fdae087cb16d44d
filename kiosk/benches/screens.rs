//! Kiosk figures for `docs/PERFORMANCE.md`: start → home screen, the
//! frame time of each screen change at 1920x1080 with the software
//! renderer, and the resident set size at rest and after 100 journeys
//! (ID card, 我要办 form through the pinyin keyboard, 办事指南 search,
//! back home), each against one 60 Hz frame (16.7 ms) in the same run.
//!
//! `cargo bench -p kiosk --bench screens` (release). A seeded backend and
//! the ID card simulator run in the same process, as in the UI tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::path::Path;
use std::time::{Duration, Instant};

use i_slint_backend_testing::{ElementHandle, TestingBackend, TestingBackendOptions};
use kiosk::ui::{AppAdapter, ApplyAdapter, ApplyStage, GuideAdapter, MainWindow, Page};
use slint::ComponentHandle;

const FRAME: Duration = Duration::from_micros(16_667);

fn pump() {
    slint::quit_event_loop().unwrap();
    slint::run_event_loop().unwrap();
    i_slint_backend_testing::mock_elapsed_time(Duration::ZERO);
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        pump();
        if cond() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::park_timeout(Duration::from_millis(5));
    }
}

fn touch(ui: &MainWindow, label: &str) {
    pump();
    let e: Vec<ElementHandle> = ElementHandle::find_by_accessible_label(ui, label)
        .filter(|e| e.accessible_role() == Some(i_slint_backend_testing::AccessibleRole::Button))
        .collect();
    e.last()
        .unwrap_or_else(|| panic!("no button {label}"))
        .mock_single_click(slint::platform::PointerEventButton::Left);
    pump();
}

/// Renders one full frame (what a screen change costs the renderer).
fn frame(ui: &MainWindow) -> Duration {
    pump();
    let t = Instant::now();
    let shot = ui.window().take_snapshot().unwrap();
    let d = t.elapsed();
    assert_eq!(shot.width(), 1920);
    d
}

fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: true,
        renderer_name: Some("software".into()),
    })))
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("kiosk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (backend_url, stop) = rt.block_on(async {
        let config = backend::Config {
            db: dir.join("backend.db"),
            enrolment_codes: vec!["WD-TEST-1".to_owned()],
            seed: true,
            ..backend::Config::default()
        };
        let state = backend::AppState::open(config, std::sync::Arc::new(backend::SystemClock))
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(backend::serve(listener, state, async {
            let _ = rx.await;
        }));
        (format!("http://{addr}"), tx)
    });
    let reader_sim = sim::idcard::IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
    let selector = format!("serial:{}?baud=115200", reader_sim.path().display());
    let config_text = format!(
        "kiosk_name = \"bench\"\nlocation = \"bench\"\nbackend_url = \"{backend_url}\"\nenrolment_code = \"WD-TEST-1\"\ndata_dir = \"{}\"\nmaintenance_pin = \"246810\"\naudio_device = \"none\"\n\n[devices]\nidcard = \"{selector}\"\n",
        dir.join("data").display()
    );
    let config = kiosk::Config::from_toml(&config_text, Path::new("bench.toml")).unwrap();
    let sel: hal::Selector = selector.parse().unwrap();
    let reader = hal::actor::spawn("idcard", hal::DeviceKind::IdCardReader, move || {
        drivers::registry::open_id_card_reader(&sel)
    })
    .unwrap();

    // Start → home screen on the display.
    let rss_before = rss_kib();
    let t = Instant::now();
    let app = kiosk::App::new(
        config,
        kiosk::Devices {
            idcard: Some(reader),
            ..Default::default()
        },
        rt.handle().clone(),
    )
    .unwrap();
    app.window()
        .window()
        .set_size(slint::PhysicalSize::new(1920, 1080));
    app.window().show().unwrap();
    let _ = app.window().window().take_snapshot().unwrap();
    let start = t.elapsed();
    let ui = app.window();
    wait_until("enrolment", || app.backend().is_enrolled());
    let g = ui.global::<GuideAdapter>();
    let a = ui.global::<ApplyAdapter>();

    println!("Kiosk, 1920x1080, Slint software renderer, release build");
    println!(
        "  start → home screen rendered: {}  (one 60 Hz frame: {})",
        ms(start),
        ms(FRAME)
    );

    // Frame time of each screen change.
    let mut rows: Vec<(&str, Duration)> = Vec::new();
    let mut measure = |name: &'static str, ui: &MainWindow| {
        let mut times: Vec<Duration> = (0..5).map(|_| frame(ui)).collect();
        times.sort();
        rows.push((name, times[2]));
    };
    measure("home", ui);
    touch(ui, "办事指南");
    wait_until("the catalogue", || g.get_total() > 0);
    measure("办事指南 list", ui);
    touch(ui, "搜索事项");
    measure("keyboard open", ui);
    for k in ["w", "e", "i", "d", "o", "n", "g"] {
        touch(ui, k);
    }
    measure("keyboard with candidates", ui);
    touch(ui, "取消");
    let first = g.get_matters().row_data_tracked(0).unwrap();
    touch(ui, first.name.as_str());
    measure("guide detail", ui);
    touch(ui, "返回首页");
    touch(ui, "我要查");
    measure("我要查 card prompt", ui);
    touch(ui, "返回首页");
    ui.global::<AppAdapter>().set_page(Page::MaintenancePin);
    measure("maintenance PIN", ui);
    app.go_home();
    println!("  frame time of a screen change (median of 5 full renders):");
    for (name, d) in &rows {
        println!(
            "    {name:<26} {}  ({:.0}% of a frame)",
            ms(*d),
            d.as_secs_f64() / FRAME.as_secs_f64() * 100.0
        );
    }

    // Memory at rest, then after 100 journeys.
    pump();
    let at_rest = rss_kib();
    let journeys = 100;
    let t = Instant::now();
    for i in 0..journeys {
        // 办事指南 with a search.
        touch(ui, "办事指南");
        wait_until("the list", || g.get_total() > 0);
        touch(ui, "搜索事项");
        for k in ["d", "i", "b", "a", "o"] {
            touch(ui, k);
        }
        touch(ui, "完成");
        touch(ui, "返回首页");
        // 我要办: card, form, keyboard, back home (wiped).
        touch(ui, "我要办");
        wait_until("the list", || g.get_total() > 0);
        let code = g.get_matters().row_data_tracked(0).unwrap().code;
        g.invoke_apply(code);
        pump();
        reader_sim.lay_card(sim::idcard::demo_person("wanghaoran").unwrap());
        wait_until("the form or the finger", || {
            matches!(
                a.get_stage(),
                ApplyStage::Form | ApplyStage::Fingerprint | ApplyStage::Error
            )
        });
        reader_sim.remove_card();
        if a.get_stage() == ApplyStage::Fingerprint {
            touch(ui, "不使用指纹，由窗口核验");
        }
        let text_field = a
            .get_fields()
            .iter()
            .position(|f| f.kind == "text" || f.kind == "textarea");
        if let Some(i) = text_field {
            a.invoke_edit_field(i32::try_from(i).unwrap());
            pump();
            for k in ["w", "e", "i", "d", "o", "n", "g"] {
                touch(ui, k);
            }
            touch(ui, "完成");
        }
        touch(ui, "返回首页");
        assert!(!app.holds_personal_data(), "journey {i} wiped");
    }
    let per = t.elapsed() / journeys;
    pump();
    let after = rss_kib();
    println!(
        "  memory (RSS): before start {} MiB, at rest {} MiB, after {journeys} journeys {} MiB (growth {} KiB); {} per journey",
        rss_before / 1024,
        at_rest / 1024,
        after / 1024,
        i128::from(after) - i128::from(at_rest),
        ms(per)
    );

    drop(app);
    let _ = stop.send(());
    let _ = std::fs::remove_dir_all(dir);
}

use slint::Model as _;

trait RowTracked {
    fn row_data_tracked(&self, i: usize) -> Option<kiosk::ui::MatterRow>;
}

impl RowTracked for slint::ModelRc<kiosk::ui::MatterRow> {
    fn row_data_tracked(&self, i: usize) -> Option<kiosk::ui::MatterRow> {
        self.row_data(i)
    }
}
