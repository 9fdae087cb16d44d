//! Benchmark: a document camera still (12 MP, 4000×3000) to the stored
//! images, per synthetic page: colour JPEG (cap 300 KB) and black and
//! white TIFF-G4 (cap 60 KB), with the time of every step and the bytes
//! against the caps. The photos are made before timing starts; the MJPEG
//! decode a real camera's still needs is timed on its own.
//!
//! Run: `cargo bench -p workspace-tests --bench doccam`. Figures go to
//! docs/PERFORMANCE.md; nothing here asserts a time.
#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::time::{Duration, Instant};

use hal::camera::PaperSize;
use imaging::doc::{self, Format, Mode, Options};
use sim::scene::document::{self, Kind, PhotoParams};

const ROUNDS: usize = 7;

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    println!(
        "document camera: 4000x3000 still -> stored page, median of {ROUNDS} runs, one thread"
    );
    println!(
        "{:<34} {:<7} {:>9} {:>9}  {:>8} {:>6} {:>5}  steps (ms)",
        "page", "output", "still->ms", "max ms", "bytes", "cap%", "q"
    );
    for (i, kind) in Kind::ALL.into_iter().enumerate() {
        let seed = 70 + i as u64;
        let page = document::render(kind, 200, seed);
        let shot = document::photo(&page, &PhotoParams::varied(4000, 3000, seed), seed);
        for (mode, format, cap, label) in [
            (Mode::Colour, Format::Jpeg, 300_000usize, "colour"),
            (Mode::Bw, Format::Tiff, 60_000, "bw-g4"),
        ] {
            let opts = Options {
                px_per_mm: Some(shot.px_per_mm),
                ..Options::new(mode, PaperSize::Auto)
            };
            let mut times = Vec::with_capacity(ROUNDS);
            let mut last = None;
            for _ in 0..ROUNDS {
                let t = Instant::now();
                let p = doc::process(&shot.image, &opts).unwrap();
                let e = doc::encode(&p, format).unwrap();
                times.push(t.elapsed());
                last = Some(e);
            }
            let e = last.unwrap();
            let r = &e.report;
            let max = *times.iter().max().unwrap();
            let steps: Vec<String> = r
                .steps
                .iter()
                .map(|s| format!("{} {:.0}", s.name, s.ms))
                .collect();
            println!(
                "{:<34} {:<7} {:>9.0} {:>9.0}  {:>8} {:>5.0}% {:>5}  {}x{} {} dpi{}; {}",
                format!("{} ({})", kind.name(), r.paper.name()),
                label,
                ms(median(&mut times)),
                ms(max),
                r.bytes,
                r.bytes as f64 * 100.0 / cap as f64,
                r.quality.map_or("-".to_owned(), |q| q.to_string()),
                r.width,
                r.height,
                r.dpi,
                if r.reduced {
                    " (reduced by the cap)"
                } else {
                    ""
                },
                steps.join(", ")
            );
        }
    }
    // A real camera delivers the still as MJPEG: its decode comes first.
    let page = document::render(Kind::Dense, 200, 70);
    let shot = document::photo(&page, &PhotoParams::camera_12mp(), 70);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&shot.image)
        .unwrap();
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            let img = doc::decode(&jpeg).unwrap();
            assert_eq!(img.width(), 4000);
            t.elapsed()
        })
        .collect();
    println!(
        "MJPEG still decode (4000x3000, {} KB): median {:.0} ms",
        jpeg.len() / 1000,
        ms(median(&mut times))
    );
}
