//! `kioskctl qr decode`: output and exit codes on real image files.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kioskctl-qr-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn kioskctl(files: &[&PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["qr", "decode"])
        .args(files)
        .output()
        .unwrap()
}

#[test]
fn prints_each_code_on_its_own_line_and_nothing_else() {
    let d = dir("ok");
    let a = d.join("receipt.png");
    let b = d.join("phone.jpg");
    sim::scene::qr::receipt_showing("https://zwfw.example.gov.cn/r/0000000007", 1)
        .unwrap()
        .image
        .save(&a)
        .unwrap();
    sim::scene::qr::phone_showing("缴费码 2025-0042", false, 2)
        .unwrap()
        .image
        .save(&b)
        .unwrap();
    let out = kioskctl(&[&a, &b]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "https://zwfw.example.gov.cn/r/0000000007\n缴费码 2025-0042\n"
    );
    assert!(out.stderr.is_empty());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn exit_1_when_no_file_has_a_code() {
    let d = dir("none");
    let f = d.join("desk.png");
    sim::scene::ops::desk(640, 360, 1).save(&f).unwrap();
    let out = kioskctl(&[&f]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn exit_2_for_an_unreadable_file_after_reading_the_others() {
    let d = dir("bad");
    let good = d.join("good.png");
    sim::scene::qr::receipt_showing("RECEIPT-1", 3)
        .unwrap()
        .image
        .save(&good)
        .unwrap();
    let bad = d.join("not-an-image.png");
    std::fs::write(&bad, b"this is not a PNG").unwrap();
    let missing = d.join("missing.png");
    let out = kioskctl(&[&bad, &good, &missing]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "RECEIPT-1\n");
    let err = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with("文件不是可读的图像") && lines[0].contains("not a readable image")
    );
    assert!(lines[1].starts_with("无法读取文件") && lines[1].contains("cannot read file"));
    let _ = std::fs::remove_dir_all(&d);
}
