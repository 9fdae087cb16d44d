//! Code reading as the kiosk uses it: frames from the simulated scenes
//! (paper, receipts, phone screens), Chinese payloads in both encodings,
//! files, bad input, the background decoder, and zbar as an independent
//! reader of the same frames.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use hal::camera::{Frame, PixelFormat};
use hal::scanner::Symbology;
use image::RgbImage;
use imaging::qr::{self, Charset, LatestFrameDecoder, QrError};
use sim::scene::qr::{self as scene, Ec, Medium, Screen, Shot, TextEncoding};

fn luma(img: &RgbImage) -> (Vec<u8>, u32, u32) {
    let g = image::DynamicImage::ImageRgb8(img.clone()).into_luma8();
    let (w, h) = g.dimensions();
    (g.into_raw(), w, h)
}

fn decode_img(img: &RgbImage) -> Vec<qr::Decoded> {
    let (l, w, h) = luma(img);
    qr::decode_luma(&l, w, h)
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("imaging-qr-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A clean printed QR of `bytes` (optionally with an ECI designator).
fn printed(bytes: &[u8], eci: Option<u32>, seed: u64) -> RgbImage {
    let sym = scene::qr(bytes, None, Ec::M, eci).unwrap();
    scene::render(&sym, &Medium::Paper, &Shot::default(), seed)
        .unwrap()
        .image
}

#[test]
fn every_corpus_category_decodes_to_the_exact_payload() {
    // Two cases of each category (the first and the last), all symbologies.
    let mut by_cat: BTreeMap<&str, Vec<scene::Case>> = BTreeMap::new();
    for c in scene::corpus() {
        by_cat.entry(c.category).or_default().push(c);
    }
    assert!(by_cat.len() >= 15, "{:?}", by_cat.keys());
    let mut failures = Vec::new();
    for (cat, cases) in &by_cat {
        for case in [cases.first().unwrap(), cases.last().unwrap()] {
            let img = case.render().unwrap().image;
            let found = decode_img(&img);
            if !found.iter().any(|d| d.text == case.expected) {
                failures.push(format!("{cat}/{}: {:?}", case.name, found));
            }
        }
    }
    assert!(failures.is_empty(), "not decoded: {failures:#?}");
}

#[test]
fn symbologies_are_named() {
    let mut seen = BTreeMap::new();
    for c in scene::corpus()
        .into_iter()
        .filter(|c| matches!(c.category, "clean" | "code128" | "ean13" | "code39"))
    {
        seen.entry(c.category).or_insert(c);
    }
    let want = [
        ("clean", Symbology::Qr),
        ("code128", Symbology::Code128),
        ("ean13", Symbology::Ean13),
        ("code39", Symbology::Code39),
    ];
    for (cat, sym) in want {
        let case = &seen[cat];
        let found = decode_img(&case.render().unwrap().image);
        let d = found.iter().find(|d| d.text == case.expected).unwrap();
        assert_eq!(d.symbology, sym, "{cat}");
    }
}

#[test]
fn chinese_payloads_come_out_right_in_utf8_and_gb18030() {
    let text = "朝阳区政务服务中心：社保卡补办 预约号 0231";
    let utf8 = text.as_bytes().to_vec();
    let gb = scene::encode_text(text, TextEncoding::Gb18030);
    assert!(std::str::from_utf8(&gb).is_err());

    for (bytes, eci, charset) in [
        (&utf8, None, Charset::Utf8),
        (&gb, None, Charset::Gb18030),
        (&utf8, Some(26), Charset::Utf8),
        (&gb, Some(32), Charset::Gb18030),
    ] {
        let found = decode_img(&printed(bytes, eci, 7));
        assert_eq!(found.len(), 1, "{eci:?} {charset:?}: {found:?}");
        let d = &found[0];
        assert_eq!(d.text, text, "{eci:?} {charset:?}");
        assert_eq!(&d.bytes, bytes);
        assert_eq!(d.charset, charset);
        // ]Q1 without, ]Q2 with an ECI designator.
        let aim = if eci.is_some() { "]Q2" } else { "]Q1" };
        assert_eq!(d.aim.as_deref(), Some(aim));
    }
}

#[test]
fn an_eci_designator_beats_the_guess() {
    // "Grüße" in Latin-1 is also valid GB18030; with ECI 3 it is Latin-1.
    let bytes = b"Gr\xfc\xdfe Stra\xdfe";
    let with = decode_img(&printed(bytes, Some(3), 3));
    assert_eq!(with[0].text, "Grüße Straße");
    assert_eq!(with[0].charset, Charset::Latin1);
    let without = decode_img(&printed(bytes, None, 3));
    assert_eq!(without[0].charset, Charset::Gb18030);
    assert_ne!(without[0].text, "Grüße Straße");
}

/// Runs `cmd`; `None` when the program is not installed.
fn run(cmd: &mut Command) -> Option<std::process::Output> {
    match cmd.output() {
        Ok(o) => Some(o),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn codes_from_independent_encoders_decode() {
    // qrencode (raw GB18030 bytes, no ECI) and zint (GB18030 with ECI 32,
    // UTF-8 with ECI 26): encoders that share nothing with ours.
    let dir = temp_dir("encoders");
    let text = "预约号：海淀区政务服务中心 A017";
    let gb = scene::encode_text(text, TextEncoding::Gb18030);

    let qre = dir.join("qrencode-gb.png");
    let mut child = Command::new("qrencode")
        .args(["-8", "-s", "6", "-o"])
        .arg(&qre)
        .stdin(Stdio::piped())
        .spawn()
        .expect("qrencode is installed (cargo xtask installs it)");
    child.stdin.take().unwrap().write_all(&gb).unwrap();
    assert!(child.wait().unwrap().success());
    let found = qr::decode_file(&qre).unwrap();
    assert_eq!(found[0].text, text);
    assert_eq!(found[0].charset, Charset::Gb18030);

    for (eci, charset) in [("32", Charset::Gb18030), ("26", Charset::Utf8)] {
        let out = dir.join(format!("zint-{eci}.png"));
        let made = run(Command::new("zint")
            .args(["-b", "58", "--scale=3", "--eci", eci, "-d", text, "-o"])
            .arg(&out))
        .expect("zint is installed (cargo xtask installs it)");
        assert!(made.status.success(), "{made:?}");
        let found = qr::decode_file(&out).unwrap();
        assert_eq!(found[0].text, text, "ECI {eci}");
        assert_eq!(found[0].charset, charset, "ECI {eci}");
    }

    // PDF417 and Data Matrix from zint.
    for (b, sym) in [("55", Symbology::Pdf417), ("71", Symbology::DataMatrix)] {
        let out = dir.join(format!("zint-{b}.png"));
        let made = run(Command::new("zint")
            .args(["-b", b, "--scale=2", "-d", "SB-2025-0137", "-o"])
            .arg(&out))
        .unwrap();
        assert!(made.status.success());
        let found = qr::decode_file(&out).unwrap();
        assert_eq!(found.len(), 1, "{sym:?}");
        assert_eq!(found[0].text, "SB-2025-0137");
        assert_eq!(found[0].symbology, sym);
    }
    // Chinese in Data Matrix and PDF417 (zint adds ECI 26 for UTF-8 by
    // itself): rxing's Data Matrix reader would give Latin-1 mojibake.
    for (b, eci, charset) in [
        ("71", None, Charset::Utf8),
        ("71", Some("32"), Charset::Gb18030),
        ("55", None, Charset::Utf8),
    ] {
        let out = dir.join(format!("zint-zh-{b}-{eci:?}.png"));
        let mut cmd = Command::new("zint");
        cmd.args(["-b", b, "--scale=2", "--quietzones", "-d", "DM-0042-缴费"]);
        if let Some(e) = eci {
            cmd.args(["--eci", e]);
        }
        let made = run(cmd.arg("-o").arg(&out)).unwrap();
        assert!(made.status.success());
        let found = qr::decode_file(&out).unwrap();
        assert_eq!(found[0].text, "DM-0042-缴费", "{b} {eci:?}");
        assert_eq!(found[0].charset, charset, "{b} {eci:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dark_mode_inverted_code_decodes() {
    let text = "https://zwfw.example.gov.cn/pay/7731";
    let sym = scene::qr(text.as_bytes(), None, Ec::M, None).unwrap();
    let medium = Medium::Screen(Screen {
        dark_mode: true,
        glare: false,
        moire: true,
    });
    let img = scene::render(&sym, &medium, &Shot::default(), 11)
        .unwrap()
        .image;
    let found = decode_img(&img);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].text, text);
    assert!(found[0].inverted);

    // And a plain printed code turned negative.
    let mut neg = printed(text.as_bytes(), None, 12);
    image::imageops::invert(&mut neg);
    let found = decode_img(&neg);
    assert_eq!(found[0].text, text);
    assert!(found[0].inverted);
}

#[test]
fn a_frame_without_a_code_gives_nothing() {
    let mut desk = sim::scene::ops::desk(1280, 720, 5);
    let mut rng = sim::scene::ops::rng(5);
    sim::scene::ops::noise(&mut desk, 6.0, &mut rng);
    assert!(decode_img(&desk).is_empty());
    assert!(qr::decode_luma(&[255; 64 * 64], 64, 64).is_empty());
    // Too short a buffer is nothing, not a panic.
    assert!(qr::decode_luma(&[0; 10], 1280, 720).is_empty());
}

#[test]
fn a_corrupt_or_missing_file_is_a_clear_error() {
    let dir = temp_dir("corrupt");
    let png = dir.join("broken.png");
    let good = printed(b"abc", None, 1);
    let mut bytes = Vec::new();
    good.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&png, &bytes).unwrap();
    let err = qr::decode_file(&png).unwrap_err();
    assert!(matches!(err, QrError::Image { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("文件不是可读的图像"), "{msg}");
    assert!(msg.contains("not a readable image"), "{msg}");
    assert!(msg.contains("broken.png"), "{msg}");

    let err = qr::decode_file(&dir.join("missing.png")).unwrap_err();
    assert!(matches!(err, QrError::Read { .. }));
    assert!(err.to_string().starts_with("无法读取文件"));
    let _ = std::fs::remove_dir_all(&dir);
}

fn frames_of(img: &RgbImage) -> [Frame; 3] {
    let (l, w, h) = luma(img);
    let mut jpeg = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut jpeg),
        image::ImageFormat::Jpeg,
    )
    .unwrap();
    [
        Frame {
            width: w,
            height: h,
            format: PixelFormat::Rgb8,
            data: img.as_raw().clone(),
        },
        Frame {
            width: w,
            height: h,
            format: PixelFormat::Luma8,
            data: l,
        },
        Frame {
            width: w,
            height: h,
            format: PixelFormat::Mjpeg,
            data: jpeg,
        },
    ]
}

#[test]
fn camera_frames_of_every_format_decode_and_bad_ones_are_errors() {
    let scene = scene::receipt_showing("https://zwfw.example.gov.cn/r/0000000042", 4).unwrap();
    for frame in frames_of(&scene.image) {
        let found = qr::decode_frame(&frame).unwrap();
        assert_eq!(found.len(), 1, "{:?}", frame.format);
        assert_eq!(found[0].text, "https://zwfw.example.gov.cn/r/0000000042");
        // The corners lie on the code drawn.
        let (cx, cy) = found[0]
            .corners
            .iter()
            .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        let n = found[0].corners.len() as f32;
        let (sx, sy) = scene
            .corners
            .iter()
            .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        assert!((cx / n - sx as f32 / 4.0).abs() < 20.0);
        assert!((cy / n - sy as f32 / 4.0).abs() < 20.0);
    }
    let short = Frame {
        width: 1280,
        height: 720,
        format: PixelFormat::Rgb8,
        data: vec![0; 100],
    };
    assert!(matches!(qr::decode_frame(&short), Err(QrError::Frame(_))));
    let cut = Frame {
        width: 1280,
        height: 720,
        format: PixelFormat::Mjpeg,
        data: vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16],
    };
    assert!(matches!(qr::decode_frame(&cut), Err(QrError::Frame(_))));
}

#[test]
fn the_background_decoder_drops_stale_frames_and_decodes_the_last() {
    let (decoder, results) = LatestFrameDecoder::new().unwrap();
    // 99 frames without a code (each takes the whole ladder), then one
    // with a code: submitted as fast as the loop goes.
    let desk = sim::scene::ops::desk(1280, 720, 9);
    let (blank, w, h) = luma(&desk);
    let last = scene::phone_showing("缴费码 LAST-100", false, 3)
        .unwrap()
        .image;
    let (code, _, _) = luma(&last);
    let mut frames: Vec<Frame> = (0..99)
        .map(|_| Frame {
            width: w,
            height: h,
            format: PixelFormat::Luma8,
            data: blank.clone(),
        })
        .collect();
    frames.push(Frame {
        width: w,
        height: h,
        format: PixelFormat::Luma8,
        data: code,
    });
    let mut seqs = Vec::new();
    for f in frames {
        seqs.push(decoder.submit(f));
    }
    assert_eq!(seqs, (1..=100).collect::<Vec<u64>>());

    let mut got = Vec::new();
    loop {
        let r = results.recv_timeout(Duration::from_secs(30)).unwrap();
        let done = r.frame_seq == 100;
        got.push(r);
        if done {
            break;
        }
    }
    let last = got.last().unwrap();
    assert_eq!(last.decoded.len(), 1);
    assert_eq!(last.decoded[0].text, "缴费码 LAST-100");
    assert!(last.ms > 0.0);
    // Results come in submission order, each frame at most once.
    assert!(got.windows(2).all(|w| w[0].frame_seq < w[1].frame_seq));
    let stats = decoder.stats();
    assert_eq!(stats.submitted, 100);
    assert_eq!(stats.decoded, got.len() as u64);
    assert_eq!(stats.decoded + stats.dropped, 100);
    assert!(
        stats.dropped >= 50,
        "most stale frames are dropped, not queued: {stats:?}"
    );
}

/// zbarimg's texts for `file` (`--raw`: data only, one per line).
fn zbarimg(file: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(file)
        .output()
        .expect("zbarimg is installed (zbar-tools; cargo xtask installs it)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn zbar_agrees_on_the_codes_it_reads() {
    // An independent implementation over the same files: wherever zbar
    // reads an ASCII code, we must read the same text; and zbar must read
    // most of them (else the scenes, not the decoders, are broken).
    let dir = temp_dir("zbar");
    let cases: Vec<_> = scene::corpus()
        .into_iter()
        .filter(|c| {
            matches!(
                c.category,
                "clean" | "rotated" | "receipt" | "code128" | "ean13"
            )
        })
        .step_by(5)
        .collect();
    assert!(cases.len() >= 15);
    let mut zbar_read = 0;
    for case in &cases {
        let img = case.render().unwrap().image;
        let file = dir.join(format!("{}.png", case.name));
        img.save(&file).unwrap();
        let ours = qr::decode_file(&file).unwrap();
        let theirs = zbarimg(&file);
        if theirs.is_empty() {
            continue;
        }
        zbar_read += 1;
        assert_eq!(theirs, vec![case.expected.clone()], "zbar on {}", case.name);
        let texts: Vec<_> = ours.iter().map(|d| d.text.clone()).collect();
        assert_eq!(texts, theirs, "{}", case.name);
    }
    assert!(
        zbar_read * 10 >= cases.len() * 7,
        "{zbar_read}/{}",
        cases.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
