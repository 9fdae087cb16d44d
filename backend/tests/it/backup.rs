//! `backend backup`: consistent copies of a live database, rotation,
//! leftovers, the command line and restoring.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use backend::backup::{BackupError, LOCK_FILE, backup, backup_name};
use backend::store::AuditVerdict;
use backend::{AppState, Config, FixedClock, Store};
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;

use crate::{TestApp, config_for, temp_dir};

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, hour, 0, 0).unwrap()
}

/// An empty backend database (schema only) in a fresh directory.
fn fresh_db(tag: &str) -> (PathBuf, PathBuf, Store) {
    let dir = temp_dir(tag);
    let db = dir.join("backend.db");
    let store = Store::open_blocking(&db, at(0)).unwrap();
    let out = dir.join("backups");
    std::fs::create_dir(&out).unwrap();
    (dir, out, store)
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn a_backup_taken_during_writes_is_one_consistent_snapshot() {
    let (dir, out, _server) = fresh_db("backup-live");
    let db = dir.join("backend.db");
    {
        // ~1000 pages, so the copy takes several steps.
        let mut c = Connection::open(&db).unwrap();
        c.execute_batch("CREATE TABLE filler (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .unwrap();
        let tx = c.transaction().unwrap();
        for _ in 0..2000 {
            tx.execute("INSERT INTO filler (body) VALUES (zeroblob(2000))", [])
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let inserted = Arc::new(AtomicU64::new(0));
    let writer = {
        let (db, stop, inserted) = (db.clone(), stop.clone(), inserted.clone());
        std::thread::spawn(move || {
            let c = Connection::open(&db).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            while !stop.load(Ordering::Relaxed) {
                c.execute("INSERT INTO filler (body) VALUES (randomblob(500))", [])
                    .unwrap();
                inserted.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while inserted.load(Ordering::Relaxed) < 5 {
        std::thread::sleep(Duration::from_millis(1));
    }

    let before = count(&db, "SELECT COUNT(*) FROM filler");
    let report = backup(&db, &out, 3, at(10)).unwrap();
    let after = count(&db, "SELECT COUNT(*) FROM filler");
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();

    assert!(
        after > before,
        "the writer kept writing: {before} → {after}"
    );
    assert_eq!(report.integrity, "ok");
    assert_eq!(report.path, out.join("backend-20261127T100000Z.db"));
    assert_eq!(report.bytes, std::fs::metadata(&report.path).unwrap().len());
    assert!(report.pages > 1000, "{report:?}");
    let copied = count(&report.path, "SELECT COUNT(*) FROM filler");
    assert!(
        (before..=after).contains(&copied),
        "{before} <= {copied} <= {after}"
    );
    // Whole transactions only: ids 1..=n with no hole.
    assert_eq!(count(&report.path, "SELECT MAX(id) FROM filler"), copied);
    let check: String = Connection::open(&report.path)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // One self-contained file in rollback-journal mode (header bytes 18-19
    // are 1, not WAL's 2) and nothing else left behind.
    let bytes = std::fs::read(&report.path).unwrap();
    assert_eq!(bytes.get(18..20), Some(&[1u8, 1][..]));
    assert_eq!(
        names(&out),
        vec![
            LOCK_FILE.to_owned(),
            "backend-20261127T100000Z.db".to_owned()
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rotation_keeps_the_newest_n_and_leaves_other_files_alone() {
    let (dir, out, _server) = fresh_db("backup-rotate");
    let db = dir.join("backend.db");
    let foreign = [
        "notes.txt",
        "backend.db",
        "backend-20200101T000000Z.db.bak",
        "mybackend-20200101T000000Z.db",
        "backend-2020.db",
    ];
    for f in foreign {
        std::fs::write(out.join(f), f).unwrap();
    }
    // A directory named like a backup is not a backup.
    std::fs::create_dir(out.join("backend-20200101T000000Z.db")).unwrap();

    for hour in 1..=5 {
        let r = backup(&db, &out, 3, at(hour)).unwrap();
        if hour == 5 {
            assert_eq!(r.removed, vec![out.join(backup_name(at(2)))]);
        }
    }
    let mut expected: Vec<String> = foreign.iter().map(|f| (*f).to_owned()).collect();
    expected.extend([3, 4, 5].map(|h| backup_name(at(h))));
    expected.push("backend-20200101T000000Z.db".to_owned());
    expected.push(LOCK_FILE.to_owned());
    expected.sort();
    assert_eq!(names(&out), expected);
    for f in foreign {
        assert_eq!(std::fs::read_to_string(out.join(f)).unwrap(), f);
    }

    // A clock that went back: the backup just made is kept all the same.
    let early = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
    let r = backup(&db, &out, 2, early).unwrap();
    assert!(r.path.exists());
    assert_eq!(
        r.removed,
        vec![out.join(backup_name(at(3))), out.join(backup_name(at(4)))]
    );
    assert!(out.join(backup_name(at(5))).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn leftovers_of_a_killed_run_are_deleted_first() {
    let (dir, out, _server) = fresh_db("backup-partial");
    let db = dir.join("backend.db");
    let stale = [
        "backend-20261126T230000Z.db.partial",
        "backend-20261126T230000Z.db.partial-journal",
    ];
    for f in stale {
        std::fs::write(out.join(f), b"half a copy").unwrap();
    }
    std::fs::write(out.join("upload.partial"), b"someone else's").unwrap();

    let r = backup(&db, &out, 48, at(1)).unwrap();
    assert_eq!(r.leftovers, stale.map(|f| out.join(f)).to_vec());
    assert_eq!(
        names(&out),
        vec![
            LOCK_FILE.to_owned(),
            backup_name(at(1)),
            "upload.partial".to_owned()
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_backup_into_the_same_directory_waits_its_turn() {
    let (dir, out, _server) = fresh_db("backup-lock");
    let db = dir.join("backend.db");
    let running = std::fs::File::create(out.join(LOCK_FILE)).unwrap();
    running.lock().unwrap();
    let partial = out.join(format!("{}.partial", backup_name(at(1))));
    std::fs::write(&partial, b"in progress").unwrap();

    let err = backup(&db, &out, 3, at(2)).unwrap_err();
    assert!(matches!(err, BackupError::Busy(_)), "{err}");
    assert_eq!(err.exit_code(), 1);
    assert!(partial.exists(), "the running backup's copy is not touched");
    drop(running);
    assert!(backup(&db, &out, 3, at(2)).is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_database_gives_no_backup_and_keeps_the_old_ones() {
    let (dir, out, server) = fresh_db("backup-corrupt");
    let db = dir.join("backend.db");
    let good = backup(&db, &out, 1, at(1)).unwrap();
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
         CREATE INDEX filler_body ON filler (body);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
         INSERT INTO filler (body) SELECT printf('row %08d', i) FROM n;",
    )
    .unwrap();
    // The pages of the index, to change one entry there and not in the table.
    let index_pages: Vec<i64> = c
        .prepare("SELECT pageno FROM dbstat WHERE name = 'filler_body'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let page_size: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
    drop(c);
    drop(server); // last connection: the WAL is checkpointed into the file
    let mut bytes = std::fs::read(&db).unwrap();
    let needle = b"row 00001500";
    let at_index = bytes
        .windows(needle.len())
        .enumerate()
        .map(|(i, _)| i)
        .find(|&i| {
            bytes[i..].starts_with(needle)
                && index_pages.contains(&(i64::try_from(i).unwrap() / page_size + 1))
        })
        .unwrap();
    bytes[at_index + needle.len() - 1] = b'9';
    std::fs::write(&db, &bytes).unwrap();

    let err = backup(&db, &out, 1, at(2)).unwrap_err();
    assert!(matches!(err, BackupError::Integrity(_)), "{err}");
    assert_eq!(err.exit_code(), 1);
    assert!(err.to_string().contains("完整性"), "{err}");
    assert_eq!(
        names(&out),
        vec![LOCK_FILE.to_owned(), backup_name(at(1))],
        "no partial copy left and the good backup kept"
    );
    assert!(good.path.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_that_are_not_backend_databases_are_refused() {
    let dir = temp_dir("backup-foreign");
    let out = dir.join("backups");
    std::fs::create_dir(&out).unwrap();
    let empty = dir.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let err = backup(&empty, &out, 3, at(1)).unwrap_err();
    assert!(matches!(err, BackupError::NotBackend(_)), "{err}");
    let text = dir.join("text.db");
    std::fs::write(
        &text,
        "这不是数据库 / not a database at all, just some text",
    )
    .unwrap();
    let err = backup(&text, &out, 3, at(1)).unwrap_err();
    assert!(matches!(err, BackupError::Unreadable { .. }), "{err}");
    assert_eq!(err.exit_code(), 2);
    let err = backup(&text, &dir.join("not-mounted"), 3, at(1)).unwrap_err();
    assert!(matches!(err, BackupError::NoDirectory(_)), "{err}");
    assert!(names(&out).is_empty(), "nothing written: {:?}", names(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn run_cli(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_backend"))
        .arg("backup")
        .args(args)
        .env_remove("BACKEND_DB")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_command_prints_one_json_line_and_exits_by_outcome() {
    let t = TestApp::new().await;
    let db = t.state.store.path().to_owned();
    let out = t.dir.join("backups");
    std::fs::create_dir(&out).unwrap();

    let ok = run_cli(&[
        "--db".as_ref(),
        db.as_os_str(),
        "--to".as_ref(),
        out.as_os_str(),
        "--keep".as_ref(),
        "5".as_ref(),
    ]);
    let stdout = String::from_utf8(ok.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert_eq!(ok.status.code(), Some(0), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let path = PathBuf::from(v["path"].as_str().unwrap());
    assert_eq!(path.parent(), Some(out.as_path()));
    assert!(
        backend::backup::is_backup_name(path.file_name().unwrap().to_str().unwrap()),
        "{path:?}"
    );
    assert_eq!(
        v["bytes"].as_u64(),
        Some(std::fs::metadata(&path).unwrap().len())
    );
    assert!(v["pages"].as_u64().unwrap() > 10, "{v}");
    assert!(v["seconds"].as_f64().unwrap() >= 0.0, "{v}");
    assert_eq!(v["integrity"], "ok");
    assert_eq!(
        count(&path, "SELECT COUNT(*) FROM case_record"),
        count(&db, "SELECT COUNT(*) FROM case_record")
    );

    // The database path from a configuration file works the same.
    let config = t.dir.join("backend.toml");
    std::fs::write(&config, format!("db = {:?}\n", db.to_str().unwrap())).unwrap();
    let other = t.dir.join("other");
    std::fs::create_dir(&other).unwrap();
    let via_config = run_cli(&[
        "--config".as_ref(),
        config.as_os_str(),
        "--to".as_ref(),
        other.as_os_str(),
    ]);
    assert_eq!(
        via_config.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&via_config.stderr)
    );
    assert_eq!(names(&other).len(), 2, "{:?}", names(&other));

    // No database: exit 2, a bilingual message, nothing written.
    let missing = t.dir.join("missing.db");
    let bad = run_cli(&[
        "--db".as_ref(),
        missing.as_os_str(),
        "--to".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("数据库文件不存在") && stderr.contains("no database file"),
        "{stderr}"
    );
    assert!(bad.stdout.is_empty());
    assert!(!missing.exists(), "the command never creates a database");

    // --keep 0 is refused before anything happens.
    let zero = run_cli(&[
        "--db".as_ref(),
        db.as_os_str(),
        "--to".as_ref(),
        out.as_os_str(),
        "--keep".as_ref(),
        "0".as_ref(),
    ]);
    assert_eq!(zero.status.code(), Some(2));
    assert_eq!(names(&out).len(), 2, "{:?}", names(&out));
}

#[tokio::test]
async fn a_restored_backup_opens_with_the_backend_and_has_the_data() {
    let t = TestApp::new().await;
    let _ = t.staff("gaoj").await; // some audited activity
    let out = t.dir.join("backups");
    std::fs::create_dir(&out).unwrap();
    let original = t.get("/api/v1/matters?limit=200").await;
    let cases = count(t.state.store.path(), "SELECT COUNT(*) FROM case_record");
    assert!(cases > 0);
    let report = backup(t.state.store.path(), &out, 48, t.state.now()).unwrap();

    // Restore: copy the backup to the database path of a new installation.
    let dir = temp_dir("restored");
    std::fs::copy(&report.path, dir.join("backend.db")).unwrap();
    let config = Config {
        seed: false,
        ..config_for(&dir)
    };
    let clock = Arc::new(FixedClock::new(t.state.now()));
    let state = AppState::open(config, clock.clone()).await.unwrap();
    let restored = TestApp { state, clock, dir };

    assert_eq!(
        count(
            restored.state.store.path(),
            "SELECT COUNT(*) FROM case_record"
        ),
        cases
    );
    let matters = restored.get("/api/v1/matters?limit=200").await;
    assert_eq!(matters.status, StatusCode::OK);
    assert_eq!(matters.json["items"], original.json["items"]);
    let health = restored.get("/api/v1/health").await;
    assert_eq!(health.json["db"], "ok", "{}", health.text);
    let verdict = restored
        .state
        .store
        .read_blocking(|tx| tx.verify_audit())
        .unwrap();
    assert!(
        matches!(verdict, AuditVerdict::Intact { .. }),
        "{verdict:?}"
    );
    // And the restored installation can take the next backup itself.
    assert!(backup(restored.state.store.path(), &out, 48, at(23)).is_ok());
}
