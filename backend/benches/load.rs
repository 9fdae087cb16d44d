//! Backend load figures, all measured in one run on one machine so they
//! can be compared:
//!
//! * kiosk case submissions per second and their latency under concurrent
//!   clients, against raw SQLite inserts with the same durability (WAL,
//!   `synchronous=FULL`, one transaction per insert) and against an empty
//!   HTTP handler on the same stack;
//! * progress queries (`POST /api/v1/cases/lookup`) p50/p99 under load;
//! * catalogue search p50/p99 through the API and the store, against a
//!   bare FTS5 `MATCH` on the same index.
//!
//! Run: `cargo bench -p backend --bench load` (add `-- --seconds N` to
//! measure longer). Figures go to stdout; `docs/PERFORMANCE.md` records
//! them with the command.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use backend::{AppState, Config, SystemClock};
use serde_json::json;

/// A 1×1 PNG: the one required material (居民户口簿) of the submissions.
const PNG_1X1_BASE64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

const CLIENTS: usize = 8;

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut lat: Vec<Duration>, wall: Duration) {
    lat.sort();
    let n = lat.len();
    println!(
        "{name:<44} n={n:>6}  {:>8.0}/s  p50={:>7.2} ms  p99={:>7.2} ms  max={:>7.2} ms",
        n as f64 / wall.as_secs_f64(),
        pct(&lat, 0.50).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

/// Runs `CLIENTS` workers for `dur`, each calling `op(worker, i)`.
async fn load<F, Fut>(dur: Duration, op: F) -> (Vec<Duration>, Duration)
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CLIENTS {
        let op = Arc::clone(&op);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0;
            while start.elapsed() < dur {
                let t = Instant::now();
                op(w, i).await;
                lat.push(t.elapsed());
                i += 1;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all, start.elapsed())
}

/// A valid resident ID number (GB 11643 check character) for `n`.
fn resident_id(n: usize) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let body = format!(
        "41040319{:02}{:02}{:02}{:03}",
        60 + n % 40,
        1 + n % 12,
        1 + n % 28,
        n % 1000
    );
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    format!("{body}{}", C[(sum % 11) as usize])
}

fn raw_sqlite(dir: &std::path::Path, dur: Duration) -> (Vec<Duration>, Duration) {
    let conn = rusqlite::Connection::open(dir.join("raw.db")).unwrap();
    let _: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    conn.execute_batch(
        "PRAGMA synchronous = FULL;
         CREATE TABLE c (id INTEGER PRIMARY KEY, number TEXT UNIQUE, body TEXT NOT NULL, at TEXT NOT NULL);",
    )
    .unwrap();
    let body = "x".repeat(600);
    let start = Instant::now();
    let mut lat = Vec::new();
    let mut i = 0u64;
    while start.elapsed() < dur {
        let t = Instant::now();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn.execute(
            "INSERT INTO c (number, body, at) VALUES (?1, ?2, ?3)",
            rusqlite::params![
                format!("41040320261127{i:06}"),
                body,
                "2026-11-27T10:00:00+08:00"
            ],
        )
        .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        lat.push(t.elapsed());
        i += 1;
    }
    (lat, start.elapsed())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs: u64 = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let dur = Duration::from_secs(secs);
    let dir = std::env::temp_dir().join(format!("backend-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = Config {
        db: dir.join("backend.db"),
        ..Config::default()
    };
    let state = AppState::open(config, Arc::new(SystemClock)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serve_state = state.clone();
    tokio::spawn(async move {
        backend::serve(listener, serve_state, std::future::pending())
            .await
            .unwrap();
    });
    // An empty handler on the same stack, for the HTTP floor.
    let empty = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let empty_addr = empty.local_addr().unwrap();
    tokio::spawn(async move {
        let app = axum::Router::new().route("/empty", axum::routing::post(|| async { "{}" }));
        axum::serve(empty, app).await.unwrap();
    });
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();

    let r: serde_json::Value = client
        .post(format!("{base}/api/v1/kiosks/enrol"))
        .json(&json!({"enrolment_code": "WD-DEMO-ENROL", "kiosk_name": "压测终端", "location": "机房"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["token"].as_str().unwrap().to_owned();
    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/matters?q=%E5%B1%85%E6%B0%91%E8%BA%AB%E4%BB%BD%E8%AF%81%E6%8D%A2%E9%A2%86"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = list["items"][0]["code"].as_str().unwrap().to_owned();

    println!(
        "backend load, {CLIENTS} concurrent clients, {secs} s per figure, one machine, one run"
    );
    let (lat, wall) = raw_sqlite(&dir, dur);
    report("raw SQLite insert (WAL, FULL, 1 tx each)", lat, wall);

    let c = client.clone();
    let url = format!("http://{empty_addr}/empty");
    let (lat, wall) = load(dur, move |_, _| {
        let c = c.clone();
        let url = url.clone();
        async move {
            let r = c.post(&url).body("{}").send().await.unwrap();
            assert!(r.status().is_success());
            let _ = r.bytes().await;
        }
    })
    .await;
    report("empty HTTP handler (axum, same client)", lat, wall);

    let c = client.clone();
    let url = format!("{base}/api/v1/cases");
    let tok = token.clone();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let (lat, wall) = load(dur, move |w, i| {
        let c = c.clone();
        let url = url.clone();
        let tok = tok.clone();
        let code = code.clone();
        let key = format!("{run}-{w}-{i}");
        async move {
            let r = c
                .post(&url)
                .bearer_auth(&tok)
                .json(&json!({
                    "idempotency_key": key,
                    "matter_code": code,
                    "applicant": {"name": "王浩然", "id_type": "111", "id_number": resident_id(w * 7919 + i)},
                    "form": {"change_reason": "有效期满", "receive_mode": "窗口领取"},
                    "materials": [{"name": "居民户口簿", "file_name": "居民户口簿.png", "mime": "image/png",
                                   "pages": 1, "data_base64": PNG_1X1_BASE64}]
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201, "{:?}", r.text().await);
        }
    })
    .await;
    report("case submission POST /api/v1/cases", lat, wall);

    let c = client.clone();
    let url = format!("{base}/api/v1/cases/lookup");
    let tok = token.clone();
    let ids = [
        "410403198503150013",
        "410403196207080023",
        "410403200109220036",
        "410403194501010043",
    ];
    let (lat, wall) = load(dur, move |w, i| {
        let c = c.clone();
        let url = url.clone();
        let tok = tok.clone();
        let id = ids[(w + i) % ids.len()];
        async move {
            let r = c
                .post(&url)
                .bearer_auth(&tok)
                .json(&json!({"id_number": id}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
            let _ = r.bytes().await;
        }
    })
    .await;
    report("progress query POST /api/v1/cases/lookup", lat, wall);

    // Search: the same queries through the API, the store, and bare FTS5.
    let queries: Vec<&str> = vec![
        "低保",
        "户口",
        "身份证",
        "营业执照",
        "hkqy",
        "db",
        "shenfenzheng",
        "户",
        "结婚登记",
        "无犯罪记录证明",
        "食品经营许可",
        "开饭店",
        "最低生活保障",
        "不动产登记",
        "社会保险",
        "公共租赁住房",
        "残疾人证",
        "退役军人",
        "出生医学证明",
        "医疗机构执业",
    ];
    let fts_terms: Vec<&str> = queries
        .iter()
        .copied()
        .filter(|q| q.chars().count() >= 3 && !q.is_ascii())
        .collect();
    let c = client.clone();
    let q2 = queries.clone();
    let (lat, wall) = load(dur, move |w, i| {
        let c = c.clone();
        let q = q2[(w * 7 + i) % q2.len()];
        let url = format!("{base}/api/v1/matters?q={}", urlenc(q));
        async move {
            let r = c.get(&url).send().await.unwrap();
            assert!(r.status().is_success());
            let _ = r.bytes().await;
        }
    })
    .await;
    report("search GET /api/v1/matters?q= (mixed)", lat, wall);

    let store = state.store.clone();
    let syn = backend::service::catalogue::synonyms();
    let mut lat = Vec::new();
    let start = Instant::now();
    for i in 0..2000 {
        let q = queries[i % queries.len()].to_owned();
        let t = Instant::now();
        store
            .read(move |tx| tx.search_catalogue(syn, &q, 20, 0).map(|_| ()))
            .await
            .unwrap();
        lat.push(t.elapsed());
    }
    report("search in the store (mixed, no HTTP)", lat, start.elapsed());

    let conn = rusqlite::Connection::open(state.store.path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 ORDER BY bm25(search_fts) LIMIT 20")
        .unwrap();
    let mut lat = Vec::new();
    let start = Instant::now();
    for i in 0..2000 {
        let q = format!("\"{}\"", fts_terms[i % fts_terms.len()]);
        let t = Instant::now();
        let n = stmt
            .query_map([&q], |r| r.get::<_, i64>(0))
            .unwrap()
            .count();
        std::hint::black_box(n);
        lat.push(t.elapsed());
    }
    report(
        "bare FTS5 MATCH (3+ character queries)",
        lat,
        start.elapsed(),
    );
    let mut lat = Vec::new();
    let start = Instant::now();
    for i in 0..2000 {
        let q = fts_terms[i % fts_terms.len()].to_owned();
        let t = Instant::now();
        store
            .read(move |tx| tx.search_catalogue(syn, &q, 20, 0).map(|_| ()))
            .await
            .unwrap();
        lat.push(t.elapsed());
    }
    report(
        "search in the store (same 3+ char queries)",
        lat,
        start.elapsed(),
    );

    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
