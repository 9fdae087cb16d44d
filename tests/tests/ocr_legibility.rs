//! Legibility of stored document images, judged by an OCR engine that is
//! not ours: tesseract (`-l chi_sim`).
//!
//! For each synthetic page the clean render is read first (the
//! "original"); then the page is photographed by the simulated 12 MP
//! document camera (perspective, shadow, uneven light, blur, noise,
//! JPEG), run through `imaging::doc` and stored as the kiosk stores it:
//! colour JPEG within 300 KB and black-and-white TIFF-G4 within 60 KB.
//! The stored files must keep at least 98 % of the characters the
//! original gives. Those are the characters tesseract reads correctly
//! from the clean page (its reading, as a multiset, intersected with the
//! page's true text): what it invents in a red stamp or along a form's
//! ruled lines is noise that differs from run to run, not text. They are
//! counted as a multiset, so a table's cells may come out in another
//! order without any character lost; the share in order (longest common
//! subsequence) is printed beside it. Characters are letters, digits and
//! ideographs; punctuation is left out.
//!
//! Tesseract's page segmentation is chosen per layout: the pages with
//! ruled tables or a stamp read most steadily as one column of text of
//! varied sizes (`--psm 4`); running text is segmented automatically
//! (`--psm 3`). Even so it cannot read every cell of a ruled form or the
//! line under a stamp from the clean page; the test prints how much of
//! the true text the original reading holds.
//!
//! The files are read by tesseract through leptonica and libtiff, and the
//! multi-page PDF through poppler's `pdftoppm`: readers that share no
//! code with our encoders.
//!
//! Needs `tesseract-ocr tesseract-ocr-chi-sim` and `poppler-utils`. A
//! missing tool fails the test unless `KIOSK_TESTS_ALLOW_SKIP` is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hal::camera::PaperSize;
use imaging::doc::{self, Format, Mode, Options, Processed};
use sim::scene::document::{self, Kind, Photo, PhotoParams};

/// The tender's legibility bar.
const KEEP: f64 = 0.98;

/// Whether tesseract with Simplified Chinese is here; without it the test
/// fails, unless `KIOSK_TESTS_ALLOW_SKIP` is set.
fn tesseract_ready() -> bool {
    let langs = Command::new("tesseract").arg("--list-langs").output();
    let ok = langs.is_ok_and(|o| {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        all.lines().any(|l| l.trim() == "chi_sim")
    });
    if !ok {
        assert!(
            std::env::var_os("KIOSK_TESTS_ALLOW_SKIP").is_some(),
            "tesseract with chi_sim is needed: apt-get install tesseract-ocr tesseract-ocr-chi-sim \
             (or set KIOSK_TESTS_ALLOW_SKIP=1 to skip)"
        );
        eprintln!("SKIP: tesseract/chi_sim missing and KIOSK_TESTS_ALLOW_SKIP is set");
    }
    ok
}

fn work_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ocr-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Tesseract's page segmentation mode for a layout.
fn psm(kind: Kind) -> &'static str {
    match kind {
        Kind::ApplicationForm | Kind::Certificate | Kind::HouseholdRegister => "4",
        Kind::Dense => "3",
    }
}

/// The characters tesseract reads in an image file (letters, digits,
/// ideographs).
fn ocr(path: &Path, kind: Kind) -> Vec<char> {
    let out = Command::new("tesseract")
        .arg(path)
        .args(["stdout", "-l", "chi_sim", "--psm", psm(kind)])
        // One thread each: the tests run side by side.
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tesseract {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// Length of the longest common subsequence.
fn lcs(a: &[char], b: &[char]) -> usize {
    let mut prev = vec![0u16; b.len() + 1];
    let mut cur = vec![0u16; b.len() + 1];
    for ca in a {
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = if ca == cb {
                prev[j] + 1
            } else {
                cur[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    usize::from(prev[b.len()])
}

/// The characters of `a` that `b` also has, as multisets, in `a`'s order.
fn common(a: &[char], b: &[char]) -> Vec<char> {
    let mut left: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for c in b {
        *left.entry(*c).or_default() += 1;
    }
    a.iter()
        .filter(|c| match left.get_mut(c) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .copied()
        .collect()
}

/// Share of the original's characters the other reading keeps, as a
/// multiset.
fn kept(original: &[char], other: &[char]) -> f64 {
    common(original, other).len() as f64 / original.len().max(1) as f64
}

/// The same share by longest common subsequence (order kept).
fn kept_in_order(original: &[char], other: &[char]) -> f64 {
    lcs(original, other) as f64 / original.len().max(1) as f64
}

struct Case {
    page: document::Page,
    shot: Photo,
    original: Vec<char>,
}

/// Renders `kind`, reads the clean page, and photographs it at 12 MP.
fn case(kind: Kind, dir: &Path) -> Case {
    let seed = 40 + Kind::ALL.iter().position(|k| *k == kind).unwrap() as u64;
    let page = document::render(kind, 200, seed);
    let clean = dir.join("original.png");
    page.image.save(&clean).unwrap();
    let truth: Vec<char> = page.text.chars().filter(|c| c.is_alphanumeric()).collect();
    let read = ocr(&clean, kind);
    let original = common(&read, &truth);
    let share = original.len() as f64 / truth.len().max(1) as f64;
    println!(
        "{kind:?}: page has {} characters; tesseract reads {} from the clean page, {} of them right ({:.1} % of the page)",
        truth.len(),
        read.len(),
        original.len(),
        share * 100.0
    );
    // Too little read right and the comparison would mean nothing.
    assert!(
        share > 0.6,
        "{kind:?}: tesseract reads the clean page poorly ({share:.3})"
    );
    let shot = document::photo(&page, &PhotoParams::varied(4000, 3000, seed), seed);
    Case {
        page,
        shot,
        original,
    }
}

fn process(c: &Case, mode: Mode) -> Processed {
    let opts = Options {
        px_per_mm: Some(c.shot.px_per_mm),
        ..Options::new(mode, PaperSize::Auto)
    };
    doc::process(&c.shot.image, &opts).unwrap()
}

/// Stores `p` as `name` (format by extension), OCRs it and checks the
/// share kept and the cap.
fn stored_keeps_the_text(c: &Case, p: &Processed, dir: &Path, name: &str, cap: usize) -> f64 {
    let path = dir.join(name);
    let e = doc::encode(p, Format::from_path(&path).unwrap()).unwrap();
    assert!(e.bytes.len() <= cap, "{name}: {} > {cap}", e.bytes.len());
    std::fs::write(&path, &e.bytes).unwrap();
    let read = ocr(&path, c.page.kind);
    let k = kept(&c.original, &read);
    println!(
        "{:?} {name}: {} bytes, {}x{} {} dpi, quality {:?}: keeps {:.2} % of the original's characters ({:.2} % in order)",
        c.page.kind,
        e.bytes.len(),
        e.report.width,
        e.report.height,
        e.report.dpi,
        e.report.quality,
        k * 100.0,
        kept_in_order(&c.original, &read) * 100.0
    );
    k
}

fn check(kind: Kind) {
    if !tesseract_ready() {
        return;
    }
    let dir = work_dir(kind.name());
    println!("{kind:?}: files in {}", dir.display());
    let c = case(kind, &dir);
    let colour = stored_keeps_the_text(&c, &process(&c, Mode::Colour), &dir, "colour.jpg", 300_000);
    let bw = stored_keeps_the_text(&c, &process(&c, Mode::Bw), &dir, "bw.tif", 60_000);
    assert!(colour >= KEEP, "{kind:?} colour JPEG keeps {colour:.4}");
    assert!(bw >= KEEP, "{kind:?} b/w TIFF-G4 keeps {bw:.4}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn application_form_stays_legible() {
    check(Kind::ApplicationForm);
}

#[test]
fn certificate_with_stamp_stays_legible() {
    check(Kind::Certificate);
}

#[test]
fn household_register_card_stays_legible() {
    check(Kind::HouseholdRegister);
}

#[test]
fn dense_page_stays_legible() {
    check(Kind::Dense);
}

/// Other readers: the colour TIFF (JPEG inside TIFF, through libtiff) and
/// the material set's PDF rendered by poppler (at 300 dpi, as for print)
/// are as legible.
#[test]
fn colour_tiff_and_pdf_pages_are_legible_to_other_readers() {
    if !tesseract_ready() {
        return;
    }
    let pdftoppm = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !pdftoppm {
        assert!(
            std::env::var_os("KIOSK_TESTS_ALLOW_SKIP").is_some(),
            "pdftoppm is needed: apt-get install poppler-utils (or set KIOSK_TESTS_ALLOW_SKIP=1)"
        );
        eprintln!("SKIP: pdftoppm missing and KIOSK_TESTS_ALLOW_SKIP is set");
        return;
    }
    let dir = work_dir("readers");
    let cert = case(Kind::Certificate, &dir);
    let k = stored_keeps_the_text(
        &cert,
        &process(&cert, Mode::Colour),
        &dir,
        "colour.tif",
        300_000,
    );
    assert!(k >= KEEP, "colour TIFF keeps {k:.4}");

    let dense = case(Kind::Dense, &dir);
    let pages = [process(&cert, Mode::Colour), process(&dense, Mode::Bw)];
    let pdf = dir.join("set.pdf");
    std::fs::write(&pdf, doc::pdf(&pages).unwrap()).unwrap();
    let out = Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-png"])
        .arg(&pdf)
        .arg(dir.join("page"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "pdftoppm: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (n, c) in [(1, &cert), (2, &dense)] {
        let png = dir.join(format!("page-{n}.png"));
        let k = kept(&c.original, &ocr(&png, c.page.kind));
        println!(
            "PDF page {n} ({:?}) through pdftoppm: keeps {:.2} %",
            c.page.kind,
            k * 100.0
        );
        assert!(k >= KEEP, "PDF page {n} keeps {k:.4}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
