//! Helpers shared by the outbox tests: temporary directories, valid
//! identity numbers, submissions for a seeded matter, and a real seeded
//! backend on 127.0.0.1:0.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use outbox::{Item, Label};
use proto::{Applicant, CaseSubmission, IdType, KioskCorrection, MaterialUpload};

/// 无犯罪记录证明: available at kiosks in the demo catalogue; its form asks
/// for `purpose` (a choice) and `receiver` (text).
pub const MATTER: &str = "20010100004001-410403000000-000-11410403416503015J-1-00";
/// Its name, for labels.
pub const MATTER_NAME: &str = "无犯罪记录证明";
/// A matter code that does not exist (the backend answers 422).
pub const NO_SUCH_MATTER: &str = "99999999999999-410403000000-000-000000000000000000-1-00";

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "outbox-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An 18-character resident identity number with a valid GB 11643 check
/// character: 410403 (卫东区), born 1990-01-01, sequence `n` (0..1000).
pub fn id_number(n: u32) -> String {
    id_number_born("19900101", n)
}

/// The same with another birth date (`YYYYMMDD`), for more distinct people.
pub fn id_number_born(birth: &str, n: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!("410403{birth}{:03}", n % 1000);
    let sum: u32 = body
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{body}{}", CHECK[(sum % 11) as usize])
}

/// A fake JPEG of `len` bytes (the backend sniffs the magic number).
pub fn jpeg(len: usize) -> String {
    use base64::Engine as _;
    let mut data: Vec<u8> = vec![0xFF, 0xD8, 0xFF, 0xE0];
    data.extend((4..len.max(4)).map(|i| (i * 31 % 251) as u8));
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A material as the kiosk's document camera would send it.
pub fn material(name: &str, len: usize) -> MaterialUpload {
    MaterialUpload {
        name: name.into(),
        file_name: format!("{name}.jpg"),
        mime: "image/jpeg".into(),
        pages: 1,
        data_base64: jpeg(len),
    }
}

/// A submission for [`MATTER`] by `name` / `id`, with the two materials
/// the matter requires: the ID card scan of `scan_bytes` bytes and a
/// 1 KB application form. The key is left empty.
pub fn submission(name: &str, id: &str, scan_bytes: usize) -> CaseSubmission {
    let mut form = serde_json::Map::new();
    form.insert("purpose".into(), "应聘".into());
    form.insert("receiver".into(), "平顶山市某科技有限公司".into());
    CaseSubmission {
        idempotency_key: String::new(),
        matter_code: MATTER.into(),
        applicant: Applicant {
            name: name.into(),
            id_type: IdType::ResidentId,
            id_number: id.into(),
            phone: Some("13903750000".into()),
            address: Some("河南省平顶山市卫东区建设路东段88号".into()),
        },
        form,
        agent: None,
        materials: vec![
            material("申请人居民身份证", scan_bytes.max(1024)),
            material("犯罪记录查询申请表", 1024),
        ],
        identity: None,
    }
}

/// The submission as an outbox item with its masked label.
pub fn item(name: &str, id: &str, material_bytes: usize) -> (Item, Label) {
    (
        Item::Submission(submission(name, id, material_bytes)),
        Label::masked(MATTER_NAME, name, id),
    )
}

/// A correction for `case_number` supplying `materials` (names).
pub fn correction(case_number: &str, id: &str, materials: &[String]) -> (Item, Label) {
    (
        Item::Correction(KioskCorrection {
            idempotency_key: String::new(),
            case_number: case_number.into(),
            id_number: id.into(),
            materials: materials.iter().map(|m| material(m, 4096)).collect(),
            note: "补交材料".into(),
        }),
        Label::masked("补正材料", "李秀英", id),
    )
}

/// A multi-thread tokio runtime.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A URL where nothing listens, and the port it names.
pub fn dead_url() -> (String, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    (format!("http://127.0.0.1:{port}"), port)
}

/// A seeded backend on a temporary database, served on `addr` (use
/// `127.0.0.1:0` for any port) by the runtime; send on (or drop) the
/// returned sender to stop it. Returns its URL.
pub async fn start_backend_on(
    dir: &Path,
    addr: &str,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let config = backend::Config {
        db: dir.join("backend.db"),
        enrolment_codes: vec!["WD-TEST-1".to_owned()],
        seed: true,
        ..backend::Config::default()
    };
    let state = backend::AppState::open(config, Arc::new(backend::SystemClock))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(backend::serve(listener, state, async {
        let _ = rx.await;
    }));
    (format!("http://{addr}"), tx)
}

/// Enrols a kiosk with the test code and returns its bearer token.
pub async fn enrol(base: &str) -> String {
    let reply: proto::EnrolResponse = reqwest::Client::new()
        .post(format!("{base}/api/v1/kiosks/enrol"))
        .json(&proto::EnrolRequest {
            enrolment_code: "WD-TEST-1".into(),
            kiosk_name: "卫东区政务服务中心大厅1号机".into(),
            location: "测试大厅".into(),
        })
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    reply.token
}

/// The backend's cases of the person with `id` (`POST /api/v1/cases/lookup`).
pub async fn lookup(base: &str, token: &str, id: &str) -> Vec<proto::CaseSummary> {
    let list: proto::CaseList = reqwest::Client::new()
        .post(format!("{base}/api/v1/cases/lookup"))
        .bearer_auth(token)
        .json(&proto::CaseLookup {
            id_number: id.into(),
        })
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    list.items
}

/// Waits (async) until `cond` holds, failing after `timeout`.
pub async fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `needle` occurs in the file at `path` (missing file: no).
pub fn file_contains(path: &Path, needle: &str) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let n = needle.as_bytes();
    bytes.windows(n.len()).any(|w| w == n)
}

/// Whether `needle` occurs in the database file or its WAL.
pub fn store_contains(db: &Path, needle: &str) -> bool {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    file_contains(db, needle) || file_contains(Path::new(&wal), needle)
}
