//! Benchmark: our code reader (`imaging::qr`, rxing + a retry ladder)
//! against zbar 0.23 on one synthetic corpus of 1280x720 camera frames.
//!
//! Run: `cargo bench -p workspace-tests --bench qr_vs_zbar`.
//!
//! 1. The corpus (`sim::scene::qr::corpus`: QR versions 1–10 × EC L/M/Q/H
//!    in seven variants, low contrast, UTF-8/GB18030/ECI Chinese
//!    payloads, receipts, Code 128/EAN-13/Code 39), plus PDF417 and Data
//!    Matrix symbols made by `zint` when it is installed, plus frames with
//!    no code at all, is written to `target/qr-corpus/` as PNG (and PGM
//!    for libzbar).
//! 2. Ours: `decode_luma` on the in-memory luma (file loading excluded),
//!    three runs per frame, the median kept. A hit is the exact expected
//!    text.
//! 3. zbarimg: one `zbarimg --xml -q` process over every file; per-file
//!    results from the `<source href>` elements; its time is wall / N and
//!    includes PNG loading (ImageMagick).
//! 4. libzbar in-process (python3 + ctypes on libzbar.so.0): the scan of
//!    each in-memory luma timed alone, so it compares with ours.
//!
//! Nothing here asserts a time; the figures are printed.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use image::RgbImage;
use sim::scene::qr::{self, Medium, Shot, Symbol};

struct Item {
    name: String,
    category: String,
    /// `None`: a frame with no code, where any decode is a false read.
    expected: Option<String>,
    png: PathBuf,
    ours_ms: f64,
    ours_hit: bool,
    ours_pass: String,
    ours_false: bool,
}

fn corpus_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("qr-corpus")
}

fn write_pgm(path: &Path, luma: &imaging::qr::Luma) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(f, "P5\n{} {}\n255\n", luma.width, luma.height).unwrap();
    f.write_all(&luma.data).unwrap();
}

/// PDF417 and Data Matrix symbols from zint (one pixel per module), as
/// (category, payload, symbol); empty without zint.
fn zint_symbols(dir: &Path) -> Vec<(String, String, Symbol)> {
    let mut out = Vec::new();
    let payloads = [
        "ZWFW-2025-0137",
        "SB110105199001011234",
        "https://zwfw.example.gov.cn/r/8841",
        "受理编号 2025-0137 朝阳区",
        "DM-0042-缴费",
        "PDF417 TEST 0001",
    ];
    for (category, barcode, quiet) in [("pdf417", "55", 2), ("datamatrix", "71", 2)] {
        for (i, p) in payloads.iter().enumerate() {
            let file = dir.join(format!("zint-{category}-{i}.png"));
            let ok = Command::new("zint")
                .args([
                    "-b",
                    barcode,
                    "--scale=0.5",
                    "--whitesp=0",
                    "--vwhitesp=0",
                    "-d",
                    p,
                    "-o",
                ])
                .arg(&file)
                .output()
                .is_ok_and(|o| o.status.success());
            if !ok {
                continue;
            }
            let Ok(img) = image::open(&file) else {
                continue;
            };
            let g = img.into_luma8();
            let rows: Vec<Vec<bool>> = g
                .rows()
                .map(|r| r.map(|p| p.0[0] < 128).collect())
                .collect();
            if let Ok(sym) = Symbol::from_rows(&rows, quiet) {
                out.push((category.to_string(), (*p).to_string(), sym));
            }
        }
    }
    out
}

/// Frames without any code: a bare desk, a text sheet, a phone with a
/// blank screen.
fn empty_frames() -> Vec<(String, RgbImage)> {
    let mut out = Vec::new();
    for i in 0..12u64 {
        let mut img = sim::scene::ops::desk(qr::WIDTH, qr::HEIGHT, 77 + i);
        if i % 3 == 1 {
            let mut sheet = RgbImage::from_pixel(420, 300, image::Rgb([248, 248, 244]));
            for l in 0..8 {
                sim::scene::ops::draw_text(
                    &mut sheet,
                    20.0,
                    20.0 + 32.0 * l as f32,
                    20.0,
                    "朝阳区政务服务中心 业务受理回执 2025",
                    image::Rgb([30, 30, 30]),
                    false,
                );
            }
            sim::scene::ops::place(
                &mut img,
                &sheet,
                [
                    (300.0, 150.0),
                    (820.0, 170.0),
                    (800.0, 560.0),
                    (290.0, 540.0),
                ],
            );
        }
        if i % 3 == 2 {
            sim::scene::ops::fill_rect(&mut img, 500, 100, 260, 500, image::Rgb([10, 10, 12]));
            sim::scene::ops::fill_rect(&mut img, 515, 140, 230, 420, image::Rgb([235, 235, 235]));
        }
        let mut rng = sim::scene::ops::rng(i);
        sim::scene::ops::noise(&mut img, 4.0, &mut rng);
        out.push((
            format!("none-{i:02}"),
            sim::scene::ops::jpeg_roundtrip(&img, 85),
        ));
    }
    out
}

fn median3(mut f: impl FnMut() -> f64) -> f64 {
    let mut t = [f(), f(), f()];
    t.sort_by(|a, b| a.total_cmp(b));
    t[1]
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

/// zbarimg's results per file: the data of every symbol it printed.
fn zbarimg(files: &[PathBuf]) -> Option<(HashMap<PathBuf, Vec<String>>, f64)> {
    let started = Instant::now();
    let out = Command::new("zbarimg")
        .args(["--xml", "-q"])
        .args(files)
        .output()
        .ok()?;
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    let xml = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut results: HashMap<PathBuf, Vec<String>> = HashMap::new();
    for source in xml.split("<source href=").skip(1) {
        let quote = source.chars().next()?;
        let href: String = source[1..].chars().take_while(|c| *c != quote).collect();
        let mut datas = Vec::new();
        for d in source.split("<data").skip(1) {
            let base64 = d.starts_with(" format='base64'") || d.starts_with(" format=\"base64\"");
            let Some(start) = d.find("<![CDATA[") else {
                continue;
            };
            let Some(end) = d.find("]]></data>") else {
                continue;
            };
            let raw = &d[start + 9..end];
            let text = if base64 {
                String::from_utf8_lossy(&b64(raw)).into_owned()
            } else {
                raw.to_string()
            };
            datas.push(text);
        }
        results.insert(PathBuf::from(href), datas);
    }
    Some((results, wall / files.len().max(1) as f64))
}

fn b64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let bits: Vec<u8> = s.bytes().filter_map(val).collect();
    let mut out = Vec::new();
    for chunk in bits.chunks(4) {
        let mut acc = 0u32;
        for (i, v) in chunk.iter().enumerate() {
            acc |= u32::from(*v) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    out
}

const LIBZBAR_PY: &str = r#"
import ctypes, sys, time
z = ctypes.CDLL("libzbar.so.0")
z.zbar_image_scanner_create.restype = ctypes.c_void_p
z.zbar_image_create.restype = ctypes.c_void_p
z.zbar_image_first_symbol.restype = ctypes.c_void_p
z.zbar_image_first_symbol.argtypes = [ctypes.c_void_p]
z.zbar_symbol_next.restype = ctypes.c_void_p
z.zbar_symbol_next.argtypes = [ctypes.c_void_p]
z.zbar_symbol_get_data.restype = ctypes.c_void_p
z.zbar_symbol_get_data.argtypes = [ctypes.c_void_p]
z.zbar_symbol_get_data_length.restype = ctypes.c_uint
z.zbar_symbol_get_data_length.argtypes = [ctypes.c_void_p]
z.zbar_image_scanner_set_config.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
z.zbar_image_set_format.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
z.zbar_image_set_size.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
z.zbar_image_set_data.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p]
z.zbar_scan_image.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
z.zbar_image_destroy.argtypes = [ctypes.c_void_p]
scanner = z.zbar_image_scanner_create()
z.zbar_image_scanner_set_config(scanner, 0, 0, 1)
fourcc = ord('Y') | ord('8') << 8 | ord('0') << 16 | ord('0') << 24
for path in sys.stdin.read().split("\n"):
    if not path:
        continue
    f = open(path, "rb").read()
    head, rest = f.split(b"\n", 1)
    dims, rest = rest.split(b"\n", 1)
    _, data = rest.split(b"\n", 1)
    w, h = map(int, dims.split())
    buf = ctypes.create_string_buffer(data, len(data))
    img = z.zbar_image_create()
    z.zbar_image_set_format(img, fourcc)
    z.zbar_image_set_size(img, w, h)
    z.zbar_image_set_data(img, buf, len(data), None)
    t = time.perf_counter()
    n = z.zbar_scan_image(scanner, img)
    ms = (time.perf_counter() - t) * 1000.0
    out = []
    s = z.zbar_image_first_symbol(img)
    while s:
        out.append(ctypes.string_at(z.zbar_symbol_get_data(s), z.zbar_symbol_get_data_length(s)).hex())
        s = z.zbar_symbol_next(s)
    z.zbar_image_destroy(img)
    print(path + "\t" + "%.3f" % ms + "\t" + ",".join(out))
"#;

/// libzbar in-process on the PGM files: (results per PGM, ms per frame).
fn libzbar(pgms: &[PathBuf]) -> Option<HashMap<PathBuf, (Vec<String>, f64)>> {
    let mut child = Command::new("python3")
        .args(["-c", LIBZBAR_PY])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    {
        let mut stdin = child.stdin.take()?;
        for p in pgms {
            writeln!(stdin, "{}", p.display()).ok()?;
        }
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        eprintln!(
            "libzbar via python3/ctypes failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let mut res = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut parts = line.split('\t');
        let (Some(p), Some(ms), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let datas = data
            .split(',')
            .filter(|d| !d.is_empty())
            .map(|h| String::from_utf8_lossy(&hex_bytes(h)).into_owned())
            .collect();
        res.insert(PathBuf::from(p), (datas, ms.parse().unwrap_or(f64::NAN)));
    }
    Some(res)
}

fn hex_bytes(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .filter_map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn main() {
    let dir = corpus_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    println!("corpus: {}", dir.display());

    // Frames: (name, category, expected, image).
    let mut frames: Vec<(String, String, Option<String>, RgbImage)> = Vec::new();
    let started = Instant::now();
    for case in qr::corpus() {
        let scene = case.render().unwrap();
        frames.push((
            case.name,
            case.category.to_string(),
            Some(case.expected),
            scene.image,
        ));
    }
    let zint = zint_symbols(&dir);
    if zint.is_empty() {
        println!("zint not installed: no PDF417 / Data Matrix frames");
    }
    for (i, (category, payload, symbol)) in zint.into_iter().enumerate() {
        let shot = Shot {
            module_px: if category == "pdf417" { 2.6 } else { 5.0 },
            rotation_deg: [-8.0, 4.0, 12.0, -3.0, 0.0, 7.0][i % 6],
            tilt: 0.1,
            ..Shot::default()
        };
        let scene = qr::render(&symbol, &Medium::Paper, &shot, 9000 + i as u64).unwrap();
        frames.push((
            format!("{category}-{i:02}"),
            category,
            Some(payload),
            scene.image,
        ));
    }
    for (name, img) in empty_frames() {
        frames.push((name, "none".into(), None, img));
    }
    println!(
        "{} frames made in {:.1} s",
        frames.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "public test images from Debian packages: none found (zbar-tools, libzbar0 and qrencode ship no sample images)"
    );

    // Ours, on in-memory luma; write PNG (for zbarimg) and PGM (libzbar).
    let mut items = Vec::new();
    let mut pgms = Vec::new();
    for (name, category, expected, img) in frames {
        let luma = imaging::qr::preprocess::luma_from_rgb(img.as_raw(), img.width(), img.height())
            .unwrap();
        let mut found = Vec::new();
        let ms = median3(|| {
            let t = Instant::now();
            found = imaging::qr::decode_luma(&luma.data, luma.width, luma.height);
            t.elapsed().as_secs_f64() * 1000.0
        });
        let hit = found.iter().find(|d| Some(&d.text) == expected.as_ref());
        let png = dir.join(format!("{name}.png"));
        img.save(&png).unwrap();
        let pgm = dir.join("pgm").join(format!("{name}.pgm"));
        std::fs::create_dir_all(pgm.parent().unwrap()).unwrap();
        write_pgm(&pgm, &luma);
        pgms.push(pgm);
        items.push(Item {
            name,
            category,
            ours_hit: hit.is_some(),
            ours_pass: hit
                .map(|d| {
                    format!(
                        "{}{}",
                        d.pass.as_str(),
                        if d.inverted { "+inverted" } else { "" }
                    )
                })
                .unwrap_or_default(),
            ours_false: found.iter().any(|d| Some(&d.text) != expected.as_ref()),
            expected,
            png,
            ours_ms: ms,
        });
    }

    let files: Vec<PathBuf> = items.iter().map(|i| i.png.clone()).collect();
    let zi = zbarimg(&files);
    if zi.is_none() {
        println!("zbarimg not found: install zbar-tools");
    }
    let lz = libzbar(&pgms);

    // Table.
    #[derive(Default)]
    struct Row {
        n: usize,
        ours: usize,
        zbarimg: usize,
        libzbar: usize,
        ours_ms: Vec<f64>,
        lz_ms: Vec<f64>,
        ours_false: usize,
        zbar_false: usize,
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut total = Row::default();
    let mut passes: BTreeMap<String, usize> = BTreeMap::new();
    let mut misses = Vec::new();
    for (k, item) in items.iter().enumerate() {
        let zi_datas = zi.as_ref().and_then(|(m, _)| m.get(&item.png));
        let lz_entry = lz.as_ref().and_then(|m| m.get(&pgms[k]));
        let is_hit = |datas: Option<&Vec<String>>| {
            item.expected
                .as_ref()
                .is_some_and(|e| datas.is_some_and(|d| d.contains(e)))
        };
        let zbar_false = match &item.expected {
            None => lz_entry.is_some_and(|(d, _)| !d.is_empty()),
            Some(e) => lz_entry.is_some_and(|(d, _)| d.iter().any(|x| x != e)),
        };
        for row in [rows.entry(item.category.clone()).or_default(), &mut total] {
            row.n += 1;
            row.ours += usize::from(item.ours_hit);
            row.zbarimg += usize::from(is_hit(zi_datas));
            row.libzbar += usize::from(is_hit(lz_entry.map(|(d, _)| d)));
            row.ours_ms.push(item.ours_ms);
            if let Some((_, ms)) = lz_entry {
                row.lz_ms.push(*ms);
            }
            row.ours_false += usize::from(item.ours_false);
            row.zbar_false += usize::from(zbar_false);
        }
        if item.ours_hit {
            *passes.entry(item.ours_pass.clone()).or_default() += 1;
        } else if item.expected.is_some() {
            misses.push(item.name.clone());
        }
    }
    println!();
    println!(
        "{:<13} {:>4} | {:>5} {:>8} {:>8} | {:>8} {:>8} | {:>8} {:>8} | {:>6} {:>6}",
        "category",
        "N",
        "ours",
        "zbarimg",
        "libzbar",
        "ours p50",
        "ours p95",
        "zbar p50",
        "zbar p95",
        "ours≠",
        "zbar≠"
    );
    let show = |name: &str, r: &mut Row| {
        let (o50, o95) = (pct(&mut r.ours_ms, 0.5), pct(&mut r.ours_ms, 0.95));
        let (z50, z95) = (pct(&mut r.lz_ms, 0.5), pct(&mut r.lz_ms, 0.95));
        let expected = if name == "none" { 0 } else { r.n };
        println!(
            "{:<13} {:>4} | {:>5} {:>8} {:>8} | {:>8.2} {:>8.2} | {:>8.2} {:>8.2} | {:>6} {:>6}",
            name,
            r.n,
            if expected == 0 {
                "-".into()
            } else {
                r.ours.to_string()
            },
            if expected == 0 {
                "-".into()
            } else {
                r.zbarimg.to_string()
            },
            if expected == 0 {
                "-".into()
            } else {
                r.libzbar.to_string()
            },
            o50,
            o95,
            z50,
            z95,
            r.ours_false,
            r.zbar_false
        );
    };
    for (name, r) in rows.iter_mut() {
        show(name, r);
    }
    println!("{}", "-".repeat(110));
    let ours_mean = total.ours_ms.iter().sum::<f64>() / total.ours_ms.len().max(1) as f64;
    let lz_mean = total.lz_ms.iter().sum::<f64>() / total.lz_ms.len().max(1) as f64;
    show("total", &mut total);
    println!();
    println!(
        "ms/frame, decode only (luma in memory), ours: mean {ours_mean:.2}; libzbar: mean {lz_mean:.2}"
    );
    if let Some((_, per)) = &zi {
        println!(
            "zbarimg: {per:.2} ms/frame (one process over all files, wall / N, PNG loading included)"
        );
    }
    println!(
        "frames/s on one core (1000 / mean ms): ours {:.0}, libzbar {:.0}",
        1000.0 / ours_mean,
        1000.0 / lz_mean
    );
    println!("ours, rung that found each hit: {passes:?}");
    println!("ours≠ / zbar≠: frames with a read other than the expected text (libzbar for zbar)");
    if !misses.is_empty() {
        println!("ours missed: {}", misses.join(" "));
    }
}
