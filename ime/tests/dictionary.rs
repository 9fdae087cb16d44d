//! The bundled dictionary files are well formed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;

use ime::{Dictionary, is_syllable};

fn asset(name: &str) -> String {
    let path = format!("{}/../assets/ime/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The data lines of a dictionary file as (line number, word, syllables,
/// frequency), checking each is well formed.
fn rows(text: &str) -> Vec<(usize, String, String, u32)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "line {n}: {line:?}");
        let (word, syllables, freq) = (fields[0], fields[1], fields[2]);
        let freq: u32 = freq
            .parse()
            .unwrap_or_else(|_| panic!("line {n}: {line:?}"));
        assert!(freq > 0, "line {n}: frequency 0");
        let syl: Vec<&str> = syllables.split(' ').collect();
        assert!(syl.iter().all(|s| is_syllable(s)), "line {n}: {line:?}");
        assert_eq!(syl.len(), word.chars().count(), "line {n}: {line:?}");
        assert!(
            word.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "line {n}: only Han characters: {line:?}"
        );
        out.push((n, word.to_string(), syllables.to_string(), freq));
    }
    out
}

#[test]
fn the_bundled_dictionary_parses_strictly_and_every_line_is_well_formed() {
    let text = asset("pinyin.tsv");
    assert!(text.len() < 3 * 1024 * 1024, "under 3 MB: {}", text.len());
    let dict = Dictionary::parse(&text).expect("no malformed line");
    let rows = rows(&text);
    assert_eq!(dict.len(), rows.len());
    assert!(rows.len() > 80_000, "{}", rows.len());
    assert_eq!(Dictionary::builtin().len(), dict.len(), "nothing skipped");
}

#[test]
fn the_bundled_dictionary_is_sorted_without_duplicates() {
    let text = asset("pinyin.tsv");
    let rows = rows(&text);
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            (&a.2, &a.1) < (&b.2, &b.1),
            "line {} not after line {}: regenerate with `cargo xtask ime`",
            b.0,
            a.0
        );
    }
}

#[test]
fn the_header_names_sources_and_licences() {
    let text = asset("pinyin.tsv");
    let header: String = text.lines().take_while(|l| l.starts_with('#')).collect();
    for needle in [
        "jieba 0.42.1",
        "pypinyin 0.55.0",
        "MIT",
        "cargo xtask ime",
        "local.tsv",
    ] {
        assert!(header.contains(needle), "{needle}");
    }
    let readme = asset("README.md");
    assert!(readme.contains("MIT") && readme.contains("jieba") && readme.contains("pypinyin"));
}

#[test]
fn the_local_lexicon_is_well_formed_and_merged() {
    let local = rows(&asset("local.tsv"));
    assert!(local.len() >= 40);
    Dictionary::parse(&asset("local.tsv")).expect("local.tsv parses");
    let text = asset("pinyin.tsv");
    let merged: HashMap<(String, String), u32> = rows(&text)
        .into_iter()
        .map(|(_, w, s, f)| ((w, s), f))
        .collect();
    for (n, word, syl, freq) in local {
        let got = merged.get(&(word.clone(), syl.clone()));
        assert!(
            got.is_some_and(|f| *f >= freq),
            "local.tsv line {n} ({word}) is in pinyin.tsv: regenerate with `cargo xtask ime`"
        );
    }
    for place in ["卫东区", "平顶山", "建设路街道", "东安路街道", "五一路街道"]
    {
        assert!(merged.keys().any(|(w, _)| w == place), "{place}");
    }
}

#[test]
fn common_characters_and_polyphones_have_their_readings() {
    let text = asset("pinyin.tsv");
    let rows = rows(&text);
    let has = |word: &str, syl: &str| rows.iter().any(|r| r.1 == word && r.2 == syl);
    for (c, s) in [
        ("行", "xing"),
        ("行", "hang"),
        ("长", "zhang"),
        ("了", "liao"),
        ("女", "nv"),
        ("略", "lve"),
        ("区", "qu"),
        ("卫", "wei"),
        ("鹰", "ying"),
        ("蒲", "pu"),
    ] {
        assert!(has(c, s), "{c} {s}");
    }
    let chars = rows.iter().filter(|r| r.1.chars().count() == 1).count();
    assert!(chars > 6_500, "GB 2312 characters: {chars}");
}
