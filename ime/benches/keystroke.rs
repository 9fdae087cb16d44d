//! Keystroke latency of the input method: `cargo bench -p ime`.
//!
//! Prints the time to parse the bundled dictionary, then types realistic
//! inputs letter by letter through a [`Composer`] (each letter recomputes
//! the candidates) and prints the per-keystroke p50, p99 and worst time
//! against one 60 Hz frame (16.7 ms).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use ime::{Composer, Dictionary, Key};

/// What residents type at the kiosk: names, places, matters, sentences,
/// abbreviations and a long run that fills the buffer.
const INPUTS: &[&str] = &[
    "weidongqu",
    "pingdingshanshi",
    "henansheng",
    "jianshelujiedao",
    "donganlujiedao",
    "hukouqianyi",
    "hkqy",
    "yingyezhizhao",
    "shenfenzheng",
    "sfz",
    "juzhuzheng",
    "gaolingjintie",
    "budongchandengji",
    "gongjijin",
    "banshizhinan",
    "zuidishenghuobaozhang",
    "zhangwei",
    "wangxiuying",
    "liuyang",
    "xian",
    "xi'an",
    "woxiangbanliyixiashebao",
    "qingwenzaina'erbanli",
    "lianxidianhua",
    "zhongguorenminyinhang",
    "shsh",
    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "xianxianxianxianxianxianxianxian",
];

fn main() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/ime/pinyin.tsv"
    ))
    .expect("reading assets/ime/pinyin.tsv");
    let start = Instant::now();
    let dict = Dictionary::parse(&text).expect("parsing the dictionary");
    let load = start.elapsed();
    println!(
        "dictionary load: {:.1} ms ({} words, {} bytes)",
        ms(load),
        dict.len(),
        text.len()
    );

    let mut times = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut candidates = 0usize;
    for _round in 0..5 {
        for input in INPUTS {
            let mut keyboard = Composer::new(&dict);
            for c in input.chars() {
                let key = if c == '\'' {
                    Key::Separator
                } else {
                    Key::Letter(c)
                };
                let t = Instant::now();
                keyboard.press(key);
                let took = t.elapsed();
                times.push(took);
                if took > slowest.0 {
                    slowest = (took, keyboard.buffer().to_string());
                }
                candidates += keyboard.page_count();
            }
        }
    }
    times.sort_unstable();
    println!(
        "slowest keystroke: {:.3} ms, buffer {:?}",
        ms(slowest.0),
        slowest.1
    );
    let at = |q: f64| {
        let i = ((times.len() as f64 - 1.0) * q).round() as usize;
        times.get(i).copied().unwrap_or_default()
    };
    let frame = Duration::from_micros(16_667);
    println!(
        "keystrokes: {} (candidate pages seen: {candidates})",
        times.len()
    );
    for (name, t) in [("p50", at(0.5)), ("p99", at(0.99)), ("max", at(1.0))] {
        println!(
            "per keystroke {name}: {:.3} ms = {:.1} % of one 60 Hz frame (16.7 ms)",
            ms(t),
            100.0 * t.as_secs_f64() / frame.as_secs_f64()
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
