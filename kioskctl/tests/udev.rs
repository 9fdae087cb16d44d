//! `kioskctl udev-rules`: the committed `image/udev/70-kiosk-devices.rules`
//! is exactly what it prints, and the rules are valid udev syntax.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const STALE: &str = "image/udev/70-kiosk-devices.rules is stale: run cargo xtask udev";

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../image/udev/70-kiosk-devices.rules")
}

fn printed() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .arg("udev-rules")
        .output()
        .unwrap();
    assert!(out.status.success(), "kioskctl udev-rules: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_committed_rules_are_what_kioskctl_prints() {
    let path = committed_path();
    let committed = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{STALE} (cannot read {}: {e})", path.display()));
    let printed = printed();
    if committed != printed.as_bytes() {
        let committed = String::from_utf8_lossy(&committed);
        let line = committed
            .lines()
            .zip(printed.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "the files differ in length".to_string(),
                |n| format!("first difference at line {}", n + 1),
            );
        panic!("{STALE} ({line})");
    }
}

#[test]
fn the_qemu_test_devices_get_their_links() {
    let rules = printed();
    for (serial, link) in [
        ("KIOSK-IDCARD", "kiosk/idcard"),
        ("KIOSK-PRINTER", "kiosk/receipt_printer"),
    ] {
        let wanted = format!(
            "SUBSYSTEM==\"tty\", ATTRS{{idVendor}}==\"0403\", ATTRS{{idProduct}}==\"6001\", \
             ATTRS{{serial}}==\"{serial}*\", SYMLINK+=\"{link}\", GROUP=\"kiosk-dev\", MODE=\"0660\""
        );
        assert!(rules.lines().any(|l| l.starts_with(&wanted)), "{wanted}");
    }
}

#[test]
fn every_rule_line_passes_the_checker() {
    let rules = printed();
    check_file(&rules).unwrap_or_else(|e| panic!("{e}"));
    // The file has rules at all, not just comments.
    assert!(rules.lines().filter(|l| l.contains("SYMLINK+=")).count() >= 10);
}

#[test]
fn udevadm_verify_accepts_the_rules_when_the_machine_has_it() {
    let Some(udevadm) = ["/usr/bin/udevadm", "/bin/udevadm"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("no udevadm here: the syntax is checked by every_rule_line_passes_the_checker");
        return;
    };
    // `udevadm verify` exists from systemd 253 on (Debian 12 has 252).
    let has_verify = Command::new(udevadm)
        .args(["verify", "--help"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_verify {
        eprintln!("{udevadm} has no verify subcommand: checked by the test's own checker");
        return;
    }
    let dir = std::env::temp_dir().join(format!("kioskctl-udev-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("70-kiosk-devices.rules");
    std::fs::write(&file, printed()).unwrap();
    // The kiosk-dev group exists on the image, not necessarily here.
    let out = Command::new(udevadm)
        .args(["verify", "--resolve-names=never"])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "udevadm verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_checker_rejects_broken_lines() {
    let good = [
        r#"SUBSYSTEM=="tty", ATTRS{idVendor}=="0403", SYMLINK+="kiosk/idcard", GROUP="kiosk-dev", MODE="0660""#,
        r#"ACTION=="remove", GOTO="end""#,
        r#"SUBSYSTEM=="usb", ENV{ID_USB_INTERFACES}=="", IMPORT{builtin}="usb_id""#,
        r#"ENV{ID_MODEL}!="*[Dd]ocument*", TAG+="systemd", ENV{ID_KIOSK_ROLE}="doc_camera""#,
        r#"LABEL="end""#,
    ];
    for line in good {
        check_line(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let bad = [
        (r#"SUBSYSTEM=="tty", SYMLINK+="kiosk/x","#, "trailing comma"),
        (r#"SUBSYSTEM=="tty" SYMLINK+="kiosk/x""#, "missing comma"),
        (
            r#"SUBSYSTEM="tty", SYMLINK+="kiosk/x""#,
            "assignment to a match key",
        ),
        (r#"GROUP=="kiosk-dev""#, "match on an assignment key"),
        (r#"SUBSYTEM=="tty""#, "unknown key"),
        (r#"SUBSYSTEM==tty"#, "unquoted value"),
        (r#"SUBSYSTEM=="tty"#, "unterminated quote"),
        (r#"ATTRS=="0403""#, "attribute missing"),
        (r#"SUBSYSTEM{x}=="tty""#, "attribute on a key without one"),
        (r#"IMPORT{magic}="usb_id""#, "unknown import type"),
        (r#"MODE="0x66""#, "mode not octal"),
        (r#"SUBSYSTEM=~"tty""#, "unknown operator"),
        (r#"SYMLINK+="kiosk/x", , MODE="0660""#, "empty element"),
    ];
    for (line, why) in bad {
        assert!(check_line(line).is_err(), "accepted ({why}): {line}");
    }
    // And on a whole file: a GOTO without its LABEL.
    assert!(check_file("ACTION==\"remove\", GOTO=\"nowhere\"\n").is_err());
    assert!(check_file("ACTION==\"remove\", GOTO=\"x\"\nLABEL=\"x\"\n").is_ok());
}

// ---------------------------------------------------------------------
// A small checker of the udev rules syntax (udev(7)): comma-separated
// KEY[{attr}] OP "value" elements, with the operators each key allows.

/// Operator sets.
const MATCH: &[&str] = &["==", "!="];
const ASSIGN: &[&str] = &["=", ":="];
const LIST: &[&str] = &["=", "+=", "-=", ":="];

/// Whether a key takes `{attribute}`.
#[derive(Clone, Copy, PartialEq)]
enum Attr {
    No,
    Required,
    Optional,
}

fn key_rule(key: &str) -> Option<(Attr, Vec<&'static str>)> {
    let ops = |sets: &[&[&'static str]]| {
        let mut v: Vec<&'static str> = sets.iter().flat_map(|s| s.iter().copied()).collect();
        v.sort();
        v.dedup();
        v
    };
    Some(match key {
        "ACTION" | "DEVPATH" | "KERNEL" | "SUBSYSTEM" | "DRIVER" | "KERNELS" | "SUBSYSTEMS"
        | "DRIVERS" | "TAGS" | "RESULT" | "PROGRAM" => (Attr::No, ops(&[MATCH])),
        "ATTRS" | "CONST" => (Attr::Required, ops(&[MATCH])),
        "ATTR" | "SYSCTL" => (Attr::Required, ops(&[MATCH, &["="]])),
        "TEST" => (Attr::Optional, ops(&[MATCH])),
        "ENV" => (Attr::Required, ops(&[MATCH, &["=", "+=", ":="]])),
        "NAME" => (Attr::No, ops(&[MATCH, ASSIGN])),
        "SYMLINK" | "TAG" => (Attr::No, ops(&[MATCH, LIST])),
        "OWNER" | "GROUP" | "MODE" => (Attr::No, ops(&[ASSIGN])),
        "SECLABEL" => (Attr::Required, ops(&[&["=", "+=", ":="]])),
        "OPTIONS" => (Attr::No, ops(&[&["=", "+=", ":="]])),
        "RUN" => (Attr::Optional, ops(&[LIST])),
        "IMPORT" => (Attr::Required, ops(&[MATCH, &["=", "+=", ":="]])),
        "LABEL" | "GOTO" => (Attr::No, vec!["="]),
        _ => return None,
    })
}

/// One parsed element.
struct Element {
    key: String,
    value: String,
}

/// Checks one rule line; returns its elements.
fn check_line(line: &str) -> Result<Vec<Element>, String> {
    let mut rest = line.trim_start();
    let mut elements = Vec::new();
    loop {
        let key_len = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c == '_'))
            .unwrap_or(rest.len());
        let (key, after) = rest.split_at(key_len);
        if key.is_empty() {
            return Err(format!("expected a key at {rest:?}"));
        }
        let (attr, after) = match after.strip_prefix('{') {
            Some(a) => {
                let close = a.find('}').ok_or("unclosed {")?;
                let name = &a[..close];
                if name.is_empty() || name.contains(['"', ' ', ',']) {
                    return Err(format!("bad attribute {{{name}}}"));
                }
                (Some(name.to_string()), &a[close + 1..])
            }
            None => (None, after),
        };
        let op = ["==", "!=", "+=", "-=", ":=", "="]
            .into_iter()
            .find(|op| after.starts_with(op))
            .ok_or_else(|| format!("expected an operator after {key}"))?;
        let after = &after[op.len()..];
        let body = after
            .strip_prefix('"')
            .ok_or_else(|| format!("value of {key} is not quoted"))?;
        let mut end = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| format!("unterminated value of {key}"))?;
        let value = body[..end].to_string();
        check_element(key, attr.as_deref(), op, &value)?;
        elements.push(Element {
            key: key.to_string(),
            value,
        });
        rest = body[end + 1..].trim_start();
        if rest.is_empty() {
            return Ok(elements);
        }
        rest = rest
            .strip_prefix(',')
            .ok_or_else(|| format!("expected a comma at {rest:?}"))?
            .trim_start();
        if rest.is_empty() {
            return Err("trailing comma".into());
        }
    }
}

fn check_element(key: &str, attr: Option<&str>, op: &str, value: &str) -> Result<(), String> {
    let (takes, ops) = key_rule(key).ok_or_else(|| format!("unknown key {key}"))?;
    match (takes, attr) {
        (Attr::No, Some(a)) => return Err(format!("{key} takes no {{{a}}}")),
        (Attr::Required, None) => return Err(format!("{key} needs {{attribute}}")),
        _ => {}
    }
    if !ops.contains(&op) {
        return Err(format!("{key} does not take {op}"));
    }
    if key == "IMPORT"
        && !matches!(
            attr,
            Some("program" | "builtin" | "file" | "db" | "cmdline" | "parent")
        )
    {
        return Err(format!("unknown import type {attr:?}"));
    }
    let octal = (3..=4).contains(&value.len()) && value.chars().all(|c| ('0'..='7').contains(&c));
    if key == "MODE" && !octal {
        return Err(format!("MODE {value:?} is not octal"));
    }
    if matches!(key, "GROUP" | "OWNER")
        && !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(format!("{key} {value:?} is not a plain name"));
    }
    Ok(())
}

/// Checks every line of a rules file, and that each GOTO has its LABEL.
fn check_file(text: &str) -> Result<(), String> {
    let mut labels = BTreeSet::new();
    let mut gotos = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line.ends_with('\\') {
            return Err(format!(
                "line {}: continuation lines are not used here",
                n + 1
            ));
        }
        let elements = check_line(line).map_err(|e| format!("line {}: {e}: {line}", n + 1))?;
        for e in elements {
            match e.key.as_str() {
                "LABEL" => {
                    labels.insert(e.value);
                }
                "GOTO" => {
                    gotos.insert(e.value);
                }
                _ => {}
            }
        }
    }
    match gotos.difference(&labels).next() {
        Some(missing) => Err(format!("GOTO {missing:?} has no LABEL")),
        None => Ok(()),
    }
}
