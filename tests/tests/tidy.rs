//! Tidy checks over the workspace: dependency direction and where
//! concrete drivers may be named.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;
use workspace_tests::workspace_root;

/// Workspace crates each crate may depend on (normal and build
/// dependencies). Dev-dependencies may also reach the simulator and the
/// backend for tests; `workspace-tests` may depend on everything.
const ALLOWED: &[(&str, &[&str])] = &[
    ("hal", &[]),
    ("proto", &[]),
    ("drivers", &["hal"]),
    ("sim", &[]),
    ("backend", &["proto", "casework", "auth", "search"]),
    ("casework", &["proto"]),
    ("auth", &[]),
    ("search", &[]),
    ("imaging", &["hal"]),
    (
        "kiosk",
        &[
            "hal", "proto", "drivers", "imaging", "search", "ime", "outbox", "voice",
        ],
    ),
    ("kioskctl", &["hal", "drivers", "imaging"]),
    ("ime", &[]),
    ("outbox", &["proto"]),
    ("voice", &[]),
    ("xtask", &[]),
];

const ALLOWED_DEV: &[(&str, &[&str])] = &[
    ("hal", &[]),
    ("proto", &[]),
    ("drivers", &["sim"]),
    ("sim", &[]),
    ("backend", &["auth", "casework"]),
    ("casework", &[]),
    ("auth", &[]),
    ("search", &[]),
    ("imaging", &["sim"]),
    ("kiosk", &["sim", "backend"]),
    ("kioskctl", &["sim"]),
    ("ime", &[]),
    ("outbox", &["backend"]),
    ("voice", &[]),
    ("xtask", &[]),
];

/// External crates a workspace crate must never pull in.
const FORBIDDEN_EXTERNAL: &[(&str, &[&str])] = &[
    (
        "hal",
        &[
            "serde",
            "serialport",
            "slint",
            "axum",
            "rusqlite",
            "reqwest",
        ],
    ),
    (
        "proto",
        &["slint", "axum", "rusqlite", "tokio", "serialport"],
    ),
    ("backend", &["slint", "serialport", "escpos"]),
    ("drivers", &["slint", "axum", "rusqlite", "serde"]),
    ("sim", &["slint", "escpos"]),
    (
        "imaging",
        &["slint", "axum", "rusqlite", "tokio", "serialport"],
    ),
    ("kioskctl", &["slint"]),
    // Pure logic: no I/O stacks.
    (
        "casework",
        &["slint", "axum", "rusqlite", "tokio", "serialport"],
    ),
    (
        "auth",
        &["slint", "axum", "rusqlite", "tokio", "serialport"],
    ),
    ("search", &["slint", "axum", "tokio", "serialport"]),
    // The input method is pure: no I/O at all.
    (
        "ime",
        &[
            "slint",
            "axum",
            "rusqlite",
            "tokio",
            "serialport",
            "reqwest",
        ],
    ),
    // The outbox never draws or serves; voice only plays audio.
    ("outbox", &["slint", "axum", "serialport"]),
    ("voice", &["slint", "axum", "rusqlite", "tokio", "reqwest"]),
];

fn metadata() -> Value {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// crate → (kind, dependency name) for every dependency.
fn edges(meta: &Value) -> BTreeMap<String, Vec<(String, String)>> {
    let mut map = BTreeMap::new();
    for pkg in meta["packages"].as_array().unwrap() {
        let name = pkg["name"].as_str().unwrap().to_string();
        let deps = pkg["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["kind"].as_str().unwrap_or("normal").to_string(),
                    d["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        map.insert(name, deps);
    }
    map
}

fn check_edges(edges: &BTreeMap<String, Vec<(String, String)>>) -> Vec<String> {
    let members: BTreeSet<&str> = edges.keys().map(String::as_str).collect();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let allowed_dev: BTreeMap<&str, &[&str]> = ALLOWED_DEV.iter().copied().collect();
    let forbidden: BTreeMap<&str, &[&str]> = FORBIDDEN_EXTERNAL.iter().copied().collect();
    let mut problems = Vec::new();
    for (krate, deps) in edges {
        if krate == "workspace-tests" {
            continue;
        }
        let Some(ok) = allowed.get(krate.as_str()) else {
            problems.push(format!(
                "{krate} is not listed in the tidy dependency table"
            ));
            continue;
        };
        let ok_dev = allowed_dev.get(krate.as_str()).copied().unwrap_or(&[]);
        for (kind, dep) in deps {
            if members.contains(dep.as_str()) {
                let fine =
                    ok.contains(&dep.as_str()) || (kind == "dev" && ok_dev.contains(&dep.as_str()));
                if !fine {
                    problems.push(format!("forbidden edge {krate} -> {dep} ({kind})"));
                }
            } else if kind != "dev"
                && forbidden
                    .get(krate.as_str())
                    .is_some_and(|f| f.contains(&dep.as_str()))
            {
                problems.push(format!("{krate} must not depend on {dep}"));
            }
        }
    }
    problems
}

#[test]
fn dependencies_point_one_way() {
    let problems = check_edges(&edges(&metadata()));
    assert!(
        problems.is_empty(),
        "dependency rules broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_tidy_check_catches_a_forbidden_edge() {
    // The check itself must be able to fail: add the edges the design
    // forbids and expect each to be reported.
    let mut e = edges(&metadata());
    e.get_mut("backend")
        .unwrap()
        .push(("normal".into(), "hal".into()));
    e.get_mut("sim")
        .unwrap()
        .push(("normal".into(), "drivers".into()));
    e.get_mut("hal")
        .unwrap()
        .push(("normal".into(), "slint".into()));
    let problems = check_edges(&e);
    assert!(
        problems.iter().any(|p| p.contains("backend -> hal")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("sim -> drivers")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("hal must not depend on slint")),
        "{problems:?}"
    );
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_kiosk_composition_root_names_drivers() {
    let src = workspace_root().join("kiosk/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(!files.is_empty());
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| !p.ends_with("kiosk/src/main.rs"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains("drivers::")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "only kiosk/src/main.rs may name drivers: {offenders:?}"
    );
}

#[test]
fn serde_derives_for_the_wire_live_in_proto() {
    // The kiosk talks to the backend only through proto's types.
    let mut files = Vec::new();
    rust_files(&workspace_root().join("kiosk/src"), &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.contains("derive(") && text.contains("Serialize") && !p.ends_with("config.rs")
        })
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "wire types belong in proto: {offenders:?}"
    );
}
