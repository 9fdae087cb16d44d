//! Steps the fault tests share (offline.rs, kill9.rs, inactivity.rs):
//! a backend that can be stopped and started again on the same address
//! and database, the simulators 我要办 needs, 张伟's application for
//! 无犯罪记录证明 (no fingerprint step; purpose, receiving organisation and
//! two required materials), read-only looks at the kiosk's outbox and the
//! backend's database, and a log capture for the masking checks (P3).
//!
//! Included with `#[path = "common/journey.rs"] mod journey;` next to
//! `mod common;`.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk::ui::{
    AppAdapter, ApplyAdapter, ApplyStage, GuideAdapter, KeyboardAdapter, MainWindow, Page,
};
use sim::camera::{CameraModel, CameraSim, DocKind, SceneRequest};
use sim::idcard::IdCardSim;
use sim::printer::PrinterSim;
use slint::{ComponentHandle, Model};

use crate::common::*;

/// 张伟's ID number (demo card `zhangwei`).
pub const ZHANG_WEI_ID: &str = "410403198503150013";
/// The same as receipts and screens show it.
pub const ZHANG_WEI_MASKED: &str = "410403********0013";
/// The matter applied for: no 人证核验, a short form, two required materials.
pub const MATTER: &str = "无犯罪记录证明";
/// Pinyin initials that find it in the guide's search.
pub const MATTER_KEYS: &str = "wfzjl";
/// What the resident types as 证明使用单位.
pub const RECEIVER: &str = "中国银行";

/// A seeded backend on `dir/backend.db` that can be stopped and started
/// again on the same address and database.
pub struct Backend {
    pub addr: SocketAddr,
    pub url: String,
    pub db: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Backend {
    /// Serves the backend on `addr` (port 0: any free port). A fixed
    /// address is bound with retries for a few seconds, since the port of
    /// a backend just stopped may still be held.
    pub fn start(rt: &tokio::runtime::Runtime, dir: &Path, addr: SocketAddr) -> Backend {
        let db = dir.join("backend.db");
        let config = backend::Config {
            db: db.clone(),
            enrolment_codes: vec!["WD-TEST-1".to_owned()],
            seed: true,
            ..backend::Config::default()
        };
        rt.block_on(async move {
            let state = backend::AppState::open(config, Arc::new(backend::SystemClock))
                .await
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            let listener = loop {
                match tokio::net::TcpListener::bind(addr).await {
                    Ok(l) => break l,
                    Err(e) => {
                        assert!(Instant::now() < deadline, "cannot bind {addr}: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            };
            let addr = listener.local_addr().unwrap();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(backend::serve(listener, state, async {
                let _ = rx.await;
            }));
            Backend {
                addr,
                url: format!("http://{addr}"),
                db,
                stop: Some(tx),
                task: Some(task),
            }
        })
    }

    /// Stops serving, waits until every connection is closed and checks
    /// that nothing answers on the address any more.
    pub fn stop(&mut self, rt: &tokio::runtime::Runtime) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            rt.block_on(async { tokio::time::timeout(Duration::from_secs(15), task).await })
                .expect("the backend stops within 15 s")
                .unwrap()
                .unwrap();
        }
        match std::net::TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)) {
            Ok(_) => panic!(
                "the stopped backend still accepts connections on {}",
                self.addr
            ),
            Err(e) => assert_eq!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused,
                "connecting to the stopped backend: {e}"
            ),
        }
    }

    /// The backend's database (read while it runs: WAL).
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).unwrap()
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// The simulators behind 我要办's devices.
pub struct Sims {
    pub reader: IdCardSim,
    pub doc: CameraSim,
    pub printer: Option<PrinterSim>,
    /// `(name, selector)` for [`config`].
    pub selectors: Vec<(&'static str, String)>,
}

impl Sims {
    /// The ID card reader and document camera, and the receipt printer
    /// when `with_printer`.
    pub fn start(dir: &Path, with_printer: bool) -> Sims {
        let reader = IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
        let doc = CameraSim::start("127.0.0.1:0".parse().unwrap(), CameraModel::Document).unwrap();
        doc.set_scene(SceneRequest::Document {
            doc: DocKind::Form,
            seed: 4,
        })
        .unwrap();
        let printer = with_printer
            .then(|| PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir.join("jobs")).unwrap());
        let mut selectors = vec![
            (
                "idcard",
                format!("serial:{}?baud=115200", reader.path().display()),
            ),
            ("doc_camera", doc.url()),
        ];
        if let Some(p) = &printer {
            selectors.push(("receipt_printer", format!("tcp:{}", p.addr())));
        }
        Sims {
            reader,
            doc,
            printer,
            selectors,
        }
    }

    fn selector(&self, name: &str) -> Option<&str> {
        self.selectors
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.as_str())
    }

    /// The device handles through the real drivers and actors.
    pub fn devices(&self) -> kiosk::Devices {
        kiosk::Devices {
            idcard: self.selector("idcard").map(reader),
            document_camera: self.selector("doc_camera").map(document_camera),
            receipt_printer: self.selector("receipt_printer").map(printer),
            ..Default::default()
        }
    }

    /// 张伟 lays his card on the reader (taking off what lies there).
    pub fn lay_zhang_wei(&self) {
        self.reader.remove_card();
        self.reader
            .lay_card(sim::idcard::demo_person("zhangwei").unwrap());
    }
}

/// The apply page's stage.
pub fn stage(ui: &MainWindow) -> ApplyStage {
    ui.global::<ApplyAdapter>().get_stage()
}

/// Waits (real time) for `want`, failing early on the error stage.
pub fn wait_stage(ui: &MainWindow, want: ApplyStage, what: &str, timeout: Duration) {
    let a = ui.global::<ApplyAdapter>();
    wait_until(what, timeout, || {
        stage(ui) == want || stage(ui) == ApplyStage::Error
    });
    assert_eq!(
        stage(ui),
        want,
        "{what}: error {} {}",
        a.get_error_kind(),
        a.get_error_detail()
    );
}

/// Pages taken of material `i`.
pub fn pages_of(ui: &MainWindow, i: usize) -> i32 {
    ui.global::<ApplyAdapter>()
        .get_materials()
        .row_data(i)
        .map_or(0, |m| m.pages)
}

/// From home: 我要办, search, the matter's guide, 在本机申请.
pub fn open_matter(ui: &MainWindow) {
    let g = ui.global::<GuideAdapter>();
    open_tile(ui, "我要办", Page::Guide);
    wait_until("the catalogue", Duration::from_secs(60), || {
        g.get_total() > 0
    });
    touch(ui, "搜索事项");
    type_keys(ui, MATTER_KEYS);
    touch(ui, "完成");
    touch(ui, MATTER);
    assert!(g.get_showing_detail(), "the guide of {MATTER}");
    touch(ui, "在本机申请");
    assert_eq!(ui.global::<AppAdapter>().get_page(), Page::Apply);
    assert_eq!(stage(ui), ApplyStage::WaitCard);
    assert!(
        !ui.global::<ApplyAdapter>().get_fingerprint_required(),
        "{MATTER} asks for no fingerprint"
    );
}

/// From the card prompt: the card is read and the form shows.
pub fn card_to_form(ui: &MainWindow, sims: &Sims) {
    sims.lay_zhang_wei();
    wait_stage(
        ui,
        ApplyStage::Form,
        "the form after the card",
        Duration::from_secs(30),
    );
    assert_eq!(
        ui.global::<ApplyAdapter>().get_masked_id(),
        ZHANG_WEI_MASKED
    );
}

/// The purpose chosen, the receiving organisation opened on the keyboard
/// and `中国` typed in pinyin: the keyboard stays open.
pub fn start_form(ui: &MainWindow) {
    let k = ui.global::<KeyboardAdapter>();
    touch(ui, "应聘");
    touch(ui, "证明使用单位");
    assert!(k.get_open(), "the keyboard opens for 证明使用单位");
    type_keys(ui, "zhongguo");
    touch(ui, "中国");
    assert_eq!(k.get_text(), "中国");
}

/// The whole form: 应聘, 中国银行; the keyboard closed again.
pub fn fill_form(ui: &MainWindow) {
    let k = ui.global::<KeyboardAdapter>();
    start_form(ui);
    type_keys(ui, "yinhang");
    touch(ui, "银行");
    assert_eq!(k.get_text(), RECEIVER);
    touch(ui, "完成");
    assert!(!k.get_open());
    let a = ui.global::<ApplyAdapter>();
    assert!(
        a.get_fields().iter().all(|f| f.error.is_empty()),
        "the form is complete"
    );
}

/// 下一步, then the first material taken by itself once the page lies
/// still.
pub fn first_page(ui: &MainWindow) {
    touch(ui, "下一步：提交材料");
    assert_eq!(stage(ui), ApplyStage::Materials);
    wait_until("the automatic capture", Duration::from_secs(40), || {
        pages_of(ui, 0) == 1
    });
}

/// The materials: the first by itself, the second with 拍摄, the optional
/// 授权委托书 skipped; the review shows.
pub fn materials(ui: &MainWindow) {
    first_page(ui);
    touch(ui, "本份材料拍完了");
    touch(ui, "拍摄");
    wait_until("the second material", Duration::from_secs(40), || {
        pages_of(ui, 1) == 1
    });
    touch(ui, "本份材料拍完了");
    touch(ui, "没有此材料");
    assert_eq!(stage(ui), ApplyStage::Review);
    assert!(shows(ui, RECEIVER));
}

/// Home → review: the matter, the card, the form, the materials.
pub fn to_review(ui: &MainWindow, sims: &Sims) {
    open_matter(ui);
    card_to_form(ui, sims);
    fill_form(ui);
    materials(ui);
}

/// 确认提交, and the done stage (the delivery wait is 8 s).
pub fn submit(ui: &MainWindow) {
    touch(ui, "确认提交");
    wait_stage(
        ui,
        ApplyStage::Done,
        "the done stage",
        Duration::from_secs(40),
    );
}

/// A second handle on the kiosk's outbox (`data/outbox.sqlite`). Safe
/// beside the app's own: the store is in WAL mode with a busy timeout, so
/// readers never block the writer and writes wait for each other.
pub fn outbox_view(data: &Path) -> outbox::Outbox {
    let view = outbox::Outbox::open(data.join("outbox.sqlite")).unwrap();
    assert!(view.quarantined().is_none(), "the outbox was not damaged");
    view
}

/// Every outbox entry, oldest first.
pub fn entries(view: &outbox::Outbox) -> Vec<outbox::Entry> {
    let mut all = view.recent(1000).unwrap();
    all.reverse();
    all
}

/// `PRAGMA integrity_check` on a file, through a plain connection (before
/// the outbox's own open, which would move a damaged file aside).
pub fn integrity(path: &Path) -> String {
    let db = rusqlite::Connection::open(path).unwrap();
    let rows: Vec<String> = db
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join("; ")
}

/// One case the backend holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendCase {
    pub id: i64,
    pub case_number: String,
    pub idempotency_key: String,
    pub materials: i64,
}

/// Every case kiosk `kiosk_id` filed, oldest first.
pub fn kiosk_cases(db: &rusqlite::Connection, kiosk_id: &str) -> Vec<BackendCase> {
    db.prepare(
        "SELECT c.id, c.case_number, COALESCE(c.idempotency_key, ''), \
         (SELECT COUNT(*) FROM case_material m WHERE m.case_id = c.id) \
         FROM case_record c WHERE c.channel = 'kiosk' AND c.kiosk_id = ?1 ORDER BY c.id",
    )
    .unwrap()
    .query_map([kiosk_id], |r| {
        Ok(BackendCase {
            id: r.get(0)?,
            case_number: r.get(1)?,
            idempotency_key: r.get(2)?,
            materials: r.get(3)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Sealed page files left in `data/sealed`.
pub fn sealed_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("sealed")).map_or(0, |d| {
        d.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "sealed"))
            .count()
    })
}

/// Whether some file of the outbox (database, WAL) holds `needle`.
pub fn outbox_files_hold(data: &Path, needle: &str) -> bool {
    ["outbox.sqlite", "outbox.sqlite-wal"].iter().any(|f| {
        std::fs::read(data.join(f))
            .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
}

/// Everything the process logs through `tracing`, kept in memory.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Installs the capture as the global subscriber (every level). Call
    /// first thing in the test.
    pub fn capture() -> Logs {
        let logs = Logs::default();
        tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .try_init()
            .expect("the first subscriber of this test binary");
        logs
    }

    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
