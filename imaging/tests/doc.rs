//! The document pipeline against the simulator's document photos: the
//! page finder against the true corners, the tender's size caps, formats
//! chosen by extension and read back by other decoders, multi-page PDF
//! read by poppler's `pdfinfo`, and the errors a resident can cause.
//!
//! The shipped sample photos in `assets/scenes/documents/` are made by
//! this file: `UPDATE_ASSETS=1 cargo test -p imaging --test doc` writes
//! them again; otherwise the test checks they decode and their pages are
//! found where the generator put them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hal::camera::PaperSize;
use image::{GrayImage, RgbImage};
use imaging::doc::{self, DocError, Format, Mode, Options, Processed};
use sim::scene::document::{self, Kind, Photo, PhotoParams, page_corners};

/// The page and a 12 MP photo of it, made once per test process.
fn photo_12mp(kind: Kind) -> &'static (document::Page, Photo) {
    static CELLS: [OnceLock<(document::Page, Photo)>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let i = Kind::ALL.iter().position(|k| *k == kind).unwrap();
    CELLS[i].get_or_init(|| {
        let page = document::render(kind, 200, i as u64 + 1);
        let params = PhotoParams::varied(4000, 3000, i as u64 + 1);
        let shot = document::photo(&page, &params, i as u64 + 1);
        (page, shot)
    })
}

fn diagonal(q: &[(f64, f64); 4]) -> f64 {
    ((q[0].0 - q[2].0).powi(2) + (q[0].1 - q[2].1).powi(2)).sqrt()
}

/// Largest corner error as a fraction of the page diagonal.
fn corner_error(found: &[(f64, f64); 4], truth: &[(f64, f64); 4]) -> f64 {
    let worst = found
        .iter()
        .zip(truth)
        .map(|(a, b)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt())
        .fold(0.0, f64::max);
    worst / diagonal(truth)
}

fn options(mode: Mode, paper: PaperSize, shot: &Photo) -> Options {
    Options {
        px_per_mm: Some(shot.px_per_mm),
        ..Options::new(mode, paper)
    }
}

/// Whether an outside tool runs; missing tools fail the test unless
/// `KIOSK_TESTS_ALLOW_SKIP` is set.
fn have_tool(name: &str, arg: &str) -> bool {
    let ok = Command::new(name).arg(arg).output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("KIOSK_TESTS_ALLOW_SKIP").is_some(),
            "{name} is not installed (apt-get install poppler-utils); set KIOSK_TESTS_ALLOW_SKIP=1 to skip"
        );
        eprintln!("SKIP: {name} is not installed and KIOSK_TESTS_ALLOW_SKIP is set");
    }
    ok
}

#[test]
fn page_corners_are_found_within_one_percent_of_the_diagonal() {
    let mut worst: f64 = 0.0;
    for kind in Kind::ALL {
        let (_, shot) = photo_12mp(kind);
        let found = doc::find_page(&shot.image).unwrap();
        let e = corner_error(&found, &shot.corners);
        println!(
            "{kind:?} at 4000x3000: worst corner {:.3} % of the diagonal",
            e * 100.0
        );
        worst = worst.max(e);
    }
    // Smaller frames and more placements, rotations and shadows.
    for seed in 10..22u64 {
        let kind = Kind::ALL[(seed % 4) as usize];
        let page = document::render(kind, 120, seed);
        let params = PhotoParams::varied(1600, 1200, seed);
        let shot = document::photo(&page, &params, seed);
        let found =
            doc::find_page(&shot.image).unwrap_or_else(|e| panic!("{kind:?} seed {seed}: {e}"));
        let e = corner_error(&found, &shot.corners);
        println!("{kind:?} seed {seed} at 1600x1200: {:.3} %", e * 100.0);
        worst = worst.max(e);
    }
    assert!(
        worst < 0.01,
        "tender: distortion ≤ 1 %; worst corner {:.3} %",
        worst * 100.0
    );
}

/// Ink as a mask (levelled grey below 128, or a bitmap's black).
fn ink(g: &GrayImage) -> Vec<bool> {
    g.pixels().map(|p| p.0[0] < 128).collect()
}

/// Fraction of `a`'s ink that lies within `r` pixels of `b`'s ink.
fn ink_near(a: &[bool], b: &[bool], w: usize, h: usize, r: usize) -> f64 {
    let (mut total, mut near) = (0usize, 0usize);
    for y in 0..h {
        for x in 0..w {
            if !a[y * w + x] {
                continue;
            }
            total += 1;
            let hit = (y.saturating_sub(r)..(y + r + 1).min(h))
                .any(|yy| (x.saturating_sub(r)..(x + r + 1).min(w)).any(|xx| b[yy * w + xx]));
            near += usize::from(hit);
        }
    }
    near as f64 / total.max(1) as f64
}

#[test]
fn the_straightened_page_lies_on_the_original_within_half_a_millimetre() {
    let (page, shot) = photo_12mp(Kind::ApplicationForm);
    let p = doc::process(&shot.image, &options(Mode::Bw, PaperSize::A4, shot)).unwrap();
    let (w, h) = (p.width(), p.height());
    assert_eq!((w, h), (1240, 1754));
    let out = ink(&p.bitmap().unwrap().to_grey());
    let clean = image::imageops::resize(
        &image::DynamicImage::ImageRgb8(page.image.clone()).to_luma8(),
        w,
        h,
        image::imageops::FilterType::Triangle,
    );
    let truth = ink(&clean);
    // 3 px at 150 dpi = 0.5 mm; the page's diagonal is 364 mm.
    let (w, h) = (w as usize, h as usize);
    let kept = ink_near(&truth, &out, w, h, 3);
    let extra = ink_near(&out, &truth, w, h, 3);
    println!("original ink kept {kept:.4}, output ink on original ink {extra:.4}");
    assert!(kept > 0.97, "original ink found in the output: {kept:.4}");
    assert!(
        extra > 0.97,
        "output ink that belongs to the original: {extra:.4}"
    );
}

#[test]
fn every_mode_stays_under_its_cap_on_the_densest_page() {
    let (_, shot) = photo_12mp(Kind::Dense);
    for (mode, format, cap) in [
        (Mode::Colour, Format::Jpeg, 300_000),
        (Mode::Colour, Format::Tiff, 300_000),
        (Mode::Colour, Format::Pdf, 300_000),
        (Mode::Grey, Format::Jpeg, 300_000),
        (Mode::Bw, Format::Tiff, 60_000),
        (Mode::Bw, Format::Pdf, 60_000),
        (Mode::Bw, Format::Png, 60_000),
    ] {
        let p = doc::process(&shot.image, &options(mode, PaperSize::A4, shot)).unwrap();
        let e = doc::encode(&p, format).unwrap();
        let r = &e.report;
        println!(
            "{} {}: {} bytes, {}x{} at {} dpi, quality {:?}, reduced {}",
            mode.as_str(),
            format.as_str(),
            r.bytes,
            r.width,
            r.height,
            r.dpi,
            r.quality,
            r.reduced
        );
        assert_eq!(r.bytes, e.bytes.len());
        assert!(
            e.bytes.len() <= cap,
            "{mode:?} {format:?}: {} > {cap}",
            e.bytes.len()
        );
        assert_eq!(r.cap, Some(cap));
        if format != Format::Png {
            // The caps are met at the full A4 150 dpi raster.
            assert!(!r.reduced && (r.width, r.height) == (1240, 1754), "{r:?}");
        }
    }
}

#[test]
fn a_cap_that_quality_cannot_meet_lowers_the_resolution_and_says_so() {
    let (_, shot) = photo_12mp(Kind::Dense);
    let opts = Options {
        colour_cap: Some(200_000),
        ..options(Mode::Colour, PaperSize::A4, shot)
    };
    let p = doc::process(&shot.image, &opts).unwrap();
    let e = doc::encode(&p, Format::Jpeg).unwrap();
    assert!(e.bytes.len() <= 200_000);
    assert!(e.report.reduced && e.report.dpi < 150, "{:?}", e.report);
    assert!(
        e.report.quality.unwrap() >= opts.quality_min,
        "{:?}",
        e.report
    );
    let decoded = image::load_from_memory(&e.bytes).unwrap();
    assert_eq!(
        (decoded.width(), decoded.height()),
        (e.report.width, e.report.height)
    );

    let hopeless = Options {
        colour_cap: Some(8_000),
        ..opts
    };
    let p = doc::process(&shot.image, &hopeless).unwrap();
    match doc::encode(&p, Format::Jpeg) {
        Err(DocError::CapUnmet { cap, bytes }) => assert!(cap == 8_000 && bytes > cap),
        other => panic!("expected CapUnmet, got {other:?}"),
    }
}

fn processed(kind: Kind, mode: Mode) -> Processed {
    let (_, shot) = photo_12mp(kind);
    doc::process(&shot.image, &options(mode, PaperSize::Auto, shot)).unwrap()
}

#[test]
fn auto_paper_picks_size_and_orientation() {
    for (kind, raster, name) in [
        (Kind::ApplicationForm, (1240, 1754), "A4"),
        (Kind::Certificate, (874, 1240), "A5"),
        (Kind::HouseholdRegister, (874, 620), "A6 landscape"),
    ] {
        let p = processed(kind, Mode::Grey);
        assert_eq!((p.width(), p.height()), raster, "{kind:?}");
        assert_eq!(p.paper.name(), name);
    }
    // Without the camera's scale the sizes cannot be told apart: A4, but
    // still the orientation the page lies in.
    let (_, shot) = photo_12mp(Kind::HouseholdRegister);
    let p = doc::process(&shot.image, &Options::new(Mode::Grey, PaperSize::Auto)).unwrap();
    assert_eq!((p.width(), p.height()), (1754, 1240));
}

#[test]
fn the_extension_picks_the_format_and_other_decoders_read_it() {
    let colour = processed(Kind::Certificate, Mode::Colour);
    let grey = processed(Kind::Certificate, Mode::Grey);
    let bw = processed(Kind::Certificate, Mode::Bw);
    let bits = bw.bitmap().unwrap().to_grey();
    for (name, want) in [
        ("page.jpg", image::ImageFormat::Jpeg),
        ("page.JPEG", image::ImageFormat::Jpeg),
        ("page.png", image::ImageFormat::Png),
        ("page.bmp", image::ImageFormat::Bmp),
        ("page.tif", image::ImageFormat::Tiff),
        ("page.tiff", image::ImageFormat::Tiff),
    ] {
        let format = Format::from_path(Path::new(name)).unwrap();
        for p in [&colour, &grey, &bw] {
            let e = doc::encode(p, format).unwrap();
            assert_eq!(image::guess_format(&e.bytes).unwrap(), want, "{name}");
            if want == image::ImageFormat::Tiff && p.mode == Mode::Colour {
                // The image crate reads no YCbCr TIFF; check the container
                // here and the JPEG inside it (tesseract, through libtiff,
                // reads the file in tests/tests/ocr_legibility.rs).
                let (tags, strip) = tiff_strip(&e.bytes);
                assert_eq!(tags[&259], vec![7], "Compression JPEG");
                assert_eq!(tags[&262], vec![6], "Photometric YCbCr");
                assert_eq!(tags[&530], vec![2, 2], "YCbCrSubSampling");
                let img =
                    image::load_from_memory_with_format(strip, image::ImageFormat::Jpeg).unwrap();
                assert_eq!((img.width(), img.height()), (874, 1240));
                continue;
            }
            // The image crate's decoders (its TIFF reader has its own
            // Group 4 decoder) read every file back at the raster size.
            let img = image::load_from_memory_with_format(&e.bytes, want)
                .unwrap_or_else(|err| panic!("{name} {:?}: {err}", p.mode));
            assert_eq!((img.width(), img.height()), (874, 1240), "{name}");
            if p.mode == Mode::Bw && format != Format::Jpeg {
                // Lossless black and white: exactly the page's bits.
                assert_eq!(img.to_luma8(), bits, "{name} differs from the bitmap");
            }
        }
    }
    let pdf = doc::encode(&bw, Format::from_path(Path::new("x.pdf")).unwrap()).unwrap();
    assert!(pdf.bytes.starts_with(b"%PDF-1.4"));
    assert!(matches!(
        Format::from_path(Path::new("x.gif")),
        Err(DocError::UnsupportedFormat(_))
    ));
}

/// A one-strip little-endian TIFF's tags (SHORT and LONG values) and strip.
fn tiff_strip(b: &[u8]) -> (std::collections::BTreeMap<u16, Vec<u32>>, &[u8]) {
    assert_eq!(&b[..4], b"II*\0");
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
    let ifd = u32_at(4) as usize;
    let mut tags = std::collections::BTreeMap::new();
    for i in 0..usize::from(u16_at(ifd)) {
        let e = ifd + 2 + 12 * i;
        let (tag, typ, count) = (u16_at(e), u16_at(e + 2), u32_at(e + 4) as usize);
        let values: Vec<u32> = match (typ, count) {
            (3, 1 | 2) => (0..count)
                .map(|k| u32::from(u16_at(e + 8 + 2 * k)))
                .collect(),
            (3, _) => (0..count)
                .map(|k| u32::from(u16_at(u32_at(e + 8) as usize + 2 * k)))
                .collect(),
            (4, 1) => vec![u32_at(e + 8)],
            _ => vec![],
        };
        tags.insert(tag, values);
    }
    let (at, len) = (tags[&273][0] as usize, tags[&279][0] as usize);
    (tags, &b[at..at + len])
}

#[test]
fn bmp_has_no_cap_and_keeps_every_pixel() {
    let colour = processed(Kind::HouseholdRegister, Mode::Colour);
    let e = doc::encode(&colour, Format::Bmp).unwrap();
    assert_eq!(e.report.cap, None);
    // Headers, then 620 rows of 874 × 3 bytes padded to 2624.
    assert_eq!(e.bytes.len(), 54 + 2624 * 620);
    let back = image::load_from_memory(&e.bytes).unwrap().to_rgb8();
    assert_eq!(back, colour.to_rgb());
}

fn pdfinfo(pdf: &[u8]) -> Option<String> {
    if !have_tool("pdfinfo", "-v") {
        return None;
    }
    let path = std::env::temp_dir().join(format!("doccam-{}.pdf", std::process::id()));
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfinfo")
        .args(["-f", "1", "-l", "99"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "pdfinfo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "pdfinfo complains: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

#[test]
fn a_material_set_is_one_pdf_with_a_page_per_material() {
    let pages = [
        processed(Kind::ApplicationForm, Mode::Colour),
        processed(Kind::Dense, Mode::Bw),
        processed(Kind::Certificate, Mode::Colour),
        processed(Kind::HouseholdRegister, Mode::Grey),
    ];
    let (bytes, reports) = doc::pdf_with_reports(&pages).unwrap();
    assert_eq!(reports.len(), 4);
    assert!(reports[1].bytes <= 60_000 && reports[0].bytes <= 300_000);
    assert_eq!(doc::pdf(&pages).unwrap(), bytes);
    let Some(info) = pdfinfo(&bytes) else { return };
    assert!(
        info.lines()
            .any(|l| l.split_whitespace().eq(["Pages:", "4"])),
        "{info}"
    );
    // Each page is its paper's size in points: A4, A4, A5, A6 landscape.
    let sizes: Vec<(f64, f64)> = info
        .lines()
        .filter(|l| l.starts_with("Page ") && l.contains(" size:"))
        .map(|l| {
            let v: Vec<&str> = l.split_whitespace().collect();
            (v[3].parse().unwrap(), v[5].parse().unwrap())
        })
        .collect();
    let want = [
        (595.28, 841.89),
        (595.28, 841.89),
        (419.53, 595.28),
        (419.53, 297.64),
    ];
    assert_eq!(sizes.len(), 4, "{info}");
    for (got, want) in sizes.iter().zip(want) {
        assert!(
            (got.0 - want.0).abs() < 0.02 && (got.1 - want.1).abs() < 0.02,
            "{got:?} vs {want:?}"
        );
    }
    assert!(matches!(doc::pdf(&[]), Err(DocError::NoPages)));
}

#[test]
fn a_desk_without_a_page_is_no_page() {
    for seed in [1, 2, 3] {
        let desk = document::empty_desk(&PhotoParams::varied(1600, 1200, seed), seed);
        let err = doc::process(&desk, &Options::default()).unwrap_err();
        assert_eq!(err, DocError::NoPage, "seed {seed}");
        assert!(err.to_string().starts_with("未找到页面"), "{err}");
    }
    // A grey card filling the frame is no page either.
    let blank = RgbImage::from_pixel(1600, 1200, image::Rgb([200, 200, 200]));
    assert!(doc::process(&blank, &Options::default()).is_err());
}

#[test]
fn a_page_running_off_the_frame_is_reported() {
    let page = document::render(Kind::ApplicationForm, 100, 3);
    let params = PhotoParams {
        offset: (0.0, 0.12),
        ..PhotoParams::camera(1600, 1200)
    };
    let shot = document::photo(&page, &params, 3);
    assert_eq!(doc::find_page(&shot.image), Err(DocError::PageCut));
}

#[test]
fn broken_input_is_a_clear_error_not_a_panic() {
    let (_, shot) = photo_12mp(Kind::Certificate);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&image::imageops::thumbnail(&shot.image, 1600, 1200))
        .unwrap();
    assert!(doc::decode(&jpeg).is_ok());
    for cut in [jpeg.len() / 2, jpeg.len() - 3, 600, 3] {
        match doc::decode(&jpeg[..cut]) {
            Err(e @ DocError::Unreadable(_)) => {
                assert!(
                    e.to_string().starts_with("图像无法读取 / unreadable image"),
                    "{e}"
                );
            }
            other => panic!(
                "cut at {cut}: expected Unreadable, got {:?}",
                other.map(|i| i.dimensions())
            ),
        }
    }
    assert!(matches!(
        doc::decode(b"not an image"),
        Err(DocError::Unreadable(_))
    ));
    assert!(matches!(doc::decode(&[]), Err(DocError::Unreadable(_))));
    // A camera frame shorter than its size.
    let frame = hal::camera::Frame {
        width: 100,
        height: 100,
        format: hal::camera::PixelFormat::Rgb8,
        data: vec![0; 10],
    };
    assert!(matches!(
        doc::from_frame(&frame),
        Err(DocError::Unreadable(_))
    ));
    let mjpeg = hal::camera::Frame {
        width: 1600,
        height: 1200,
        format: hal::camera::PixelFormat::Mjpeg,
        data: jpeg,
    };
    assert_eq!(doc::from_frame(&mjpeg).unwrap().dimensions(), (1600, 1200));
}

/// The sample photos shipped in `assets/scenes/documents/` (1600×1200
/// JPEG at quality 75, small enough to keep in the repository): kind, seed.
const ASSETS: [(Kind, u64); 4] = [
    (Kind::ApplicationForm, 101),
    (Kind::Certificate, 102),
    (Kind::HouseholdRegister, 103),
    (Kind::Dense, 104),
];

fn asset_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/scenes/documents")
}

#[test]
fn shipped_sample_photos_decode_and_their_pages_are_found() {
    let dir = asset_dir();
    let update = std::env::var_os("UPDATE_ASSETS").is_some();
    for (kind, seed) in ASSETS {
        let params = PhotoParams::varied(1600, 1200, seed);
        let path = dir.join(format!("{}.jpg", kind.name()));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            let page = document::render(kind, 200, seed);
            let shot = document::photo(&page, &params, seed);
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 75)
                .encode_image(&shot.image)
                .unwrap();
            std::fs::write(&path, &out).unwrap();
            println!("wrote {} ({} bytes)", path.display(), out.len());
        }
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run UPDATE_ASSETS=1 cargo test -p imaging --test doc",
                path.display()
            )
        });
        assert!(
            bytes.len() <= 400_000,
            "{}: keep samples small ({} bytes)",
            path.display(),
            bytes.len()
        );
        let img = doc::decode(&bytes).unwrap();
        assert_eq!(img.dimensions(), (1600, 1200));
        let truth = page_corners(kind.size_mm(), &params);
        let found = doc::find_page(&img).unwrap();
        assert!(corner_error(&found, &truth) < 0.01, "{kind:?}");
    }
}
