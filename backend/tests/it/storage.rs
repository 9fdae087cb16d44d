//! Storage: migrations, reopening, seeding switches.

use std::sync::Arc;

use backend::{AppState, Config, SystemClock};

use crate::{config_for, temp_dir};

fn count(state: &AppState, table: &str) -> i64 {
    rusqlite::Connection::open(state.store.path())
        .unwrap()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn migrations_are_idempotent_on_reopen() {
    let dir = temp_dir("reopen");
    let config = config_for(&dir);
    let first = AppState::open(config.clone(), Arc::new(SystemClock))
        .await
        .unwrap();
    let matters = count(&first, "matter");
    let cases = count(&first, "case_record");
    assert!(matters >= 15);
    assert_eq!(cases, 4);
    drop(first);

    let again = AppState::open(config, Arc::new(SystemClock)).await.unwrap();
    assert_eq!(
        count(&again, "schema_version"),
        backend::store::MIGRATIONS.len() as i64
    );
    assert_eq!(count(&again, "matter"), matters);
    assert_eq!(
        count(&again, "case_record"),
        cases,
        "seeding is not repeated"
    );
    let version = again.store.read(|tx| tx.schema_version()).await.unwrap();
    let newest = backend::store::MIGRATIONS
        .iter()
        .map(|m| m.0)
        .max()
        .unwrap();
    assert_eq!(version, newest);
    // Numbers only grow: a migration listed after a higher one would never run.
    assert!(
        backend::store::MIGRATIONS
            .windows(2)
            .all(|w| w[0].0 < w[1].0),
        "MIGRATIONS must be in increasing order"
    );
    drop(again);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn no_seed_leaves_the_catalogue_empty() {
    let dir = temp_dir("noseed");
    let config = Config {
        seed: false,
        ..config_for(&dir)
    };
    let state = AppState::open(config, Arc::new(SystemClock)).await.unwrap();
    assert_eq!(count(&state, "matter"), 0);
    assert_eq!(count(&state, "case_record"), 0);
    drop(state);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn audit_trail_is_append_only() {
    let dir = temp_dir("audit");
    let state = AppState::open(config_for(&dir), Arc::new(SystemClock))
        .await
        .unwrap();
    let db = rusqlite::Connection::open(state.store.path()).unwrap();
    assert!(db.execute("UPDATE audit_log SET detail = 'x'", []).is_err());
    assert!(db.execute("DELETE FROM audit_log", []).is_err());
    drop(state);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_case_number_template_is_configurable_and_checked() {
    let dir = temp_dir("numbering");
    let config = Config {
        case_number_format: "WD-{yyyy}-{seq:5}".to_owned(),
        ..config_for(&dir)
    };
    config.validate().unwrap();
    let state = AppState::open(config, Arc::new(SystemClock)).await.unwrap();
    let db = rusqlite::Connection::open(state.store.path()).unwrap();
    let numbers: Vec<String> = db
        .prepare("SELECT case_number FROM case_record ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!numbers.is_empty());
    for n in &numbers {
        assert!(n.starts_with("WD-20"), "{n}");
        assert_eq!(n.len(), "WD-2026-00001".len(), "{n}");
    }
    drop(state);
    let bad = Config {
        case_number_format: "{district}{nonsense}{seq:6}".to_owned(),
        ..config_for(&dir)
    };
    let err = bad.validate().unwrap_err().to_string();
    assert!(err.contains("case_number_format"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
