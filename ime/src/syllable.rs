//! The pinyin syllable table and the reading of typed letters.
//!
//! Typed letters are read left to right. At each position the reader offers
//! every full syllable the letters start with (so `xian` is both `xian` and
//! `xi'an`); where no full syllable fits, the rest of the letters up to the
//! next separator as the start of a syllable (`do` → `dong`, `dou`); and
//! failing that, one initial as an abbreviation (`h`, `zh`, …), which matches
//! every syllable starting with it. An apostrophe `'` forces a boundary.

use std::sync::OnceLock;

/// The table, one group of syllables per line, `#` starts a comment.
const TABLE_TEXT: &str = include_str!("../../assets/ime/syllables.txt");

/// The longest syllables have six letters (`zhuang`, `chuang`, `shuang`).
const MAX_SYLLABLE_LEN: usize = 6;

/// Letters that begin a syllable and may stand alone as an abbreviation.
/// Vowels `a o e` are syllables themselves; `i u v` never begin one.
const INITIALS: &[u8] = b"bpmfdtnlgkhjqxrzcsyw";

/// Index of a syllable in the alphabetically sorted table. Syllables
/// sharing a prefix have consecutive ids.
pub(crate) type SyllableId = u16;

/// The sorted syllable table.
fn table() -> &'static [&'static str] {
    static TABLE: OnceLock<Vec<&'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut v: Vec<&str> = TABLE_TEXT
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(str::split_whitespace)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    })
}

/// Whether `s` is a pinyin syllable of the table (lower case, ü as `v`,
/// no tone), e.g. `zhuang` or `lve`.
pub fn is_syllable(s: &str) -> bool {
    table().binary_search(&s).is_ok()
}

/// The id of a full syllable.
pub(crate) fn id_of(s: &str) -> Option<SyllableId> {
    let i = table().binary_search(&s).ok()?;
    SyllableId::try_from(i).ok()
}

/// The first and last id of the syllables starting with `prefix`.
fn prefix_range(prefix: &str) -> Option<(SyllableId, SyllableId)> {
    let t = table();
    let lo = t.partition_point(|s| *s < prefix);
    let hi = t.partition_point(|s| *s < prefix || s.starts_with(prefix));
    if lo >= hi {
        return None;
    }
    Some((
        SyllableId::try_from(lo).ok()?,
        SyllableId::try_from(hi - 1).ok()?,
    ))
}

/// One reading of some typed letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// Lowest matching syllable id.
    pub lo: SyllableId,
    /// Highest matching syllable id (equal to `lo` for a full syllable).
    pub hi: SyllableId,
    /// Whether the letters are a whole syllable (not an abbreviation or a
    /// syllable still being typed).
    pub exact: bool,
    /// Letters the reading covers.
    pub letters: usize,
    /// Input position after the letters and any separators after them.
    pub end: usize,
}

/// All readings at every position of some typed input.
#[derive(Debug)]
pub(crate) struct Reading {
    /// Readings starting at each byte position (empty where none do).
    steps: Vec<Vec<Step>>,
    /// The first position after leading separators.
    pub start: usize,
    /// Input length in bytes.
    pub len: usize,
    /// For each position, whether the input up to it reads as full
    /// syllables only.
    exact_upto: Vec<bool>,
}

impl Reading {
    /// Reads `input`; bytes other than ASCII letters and `'` are dead ends.
    pub fn new(input: &[u8]) -> Reading {
        let len = input.len();
        let start = skip_separators(input, 0);
        let steps: Vec<Vec<Step>> = (0..len).map(|pos| steps_at(input, pos)).collect();
        let mut exact_upto = vec![false; len + 1];
        if let Some(first) = exact_upto.get_mut(start) {
            *first = true;
        }
        for pos in start..len {
            if exact_upto.get(pos) != Some(&true) {
                continue;
            }
            for s in steps.get(pos).into_iter().flatten().filter(|s| s.exact) {
                if let Some(slot) = exact_upto.get_mut(s.end) {
                    *slot = true;
                }
            }
        }
        Reading {
            steps,
            start,
            len,
            exact_upto,
        }
    }

    /// Whether the input up to `pos` reads as full syllables only (then a
    /// match there using abbreviations is noise: `zhang` is 张, not 战国).
    pub fn exact_upto(&self, pos: usize) -> bool {
        self.exact_upto.get(pos).copied().unwrap_or(false)
    }

    /// The readings starting at `pos`.
    pub fn at(&self, pos: usize) -> &[Step] {
        self.steps.get(pos).map_or(&[], Vec::as_slice)
    }
}

fn skip_separators(input: &[u8], mut pos: usize) -> usize {
    while input.get(pos) == Some(&b'\'') {
        pos += 1;
    }
    pos
}

/// The readings of the letters starting at `pos` (lower-case input).
fn steps_at(input: &[u8], pos: usize) -> Vec<Step> {
    let rest = input.get(pos..).unwrap_or_default();
    let run = rest.iter().take_while(|b| b.is_ascii_lowercase()).count();
    let Some(word) = rest.get(..run).and_then(|w| std::str::from_utf8(w).ok()) else {
        return Vec::new();
    };
    if word.is_empty() {
        return Vec::new();
    }
    let step = |lo, hi, exact, letters| Step {
        lo,
        hi,
        exact,
        letters,
        end: skip_separators(input, pos + letters),
    };
    let mut out = Vec::new();
    for n in 1..=MAX_SYLLABLE_LEN.min(word.len()) {
        let Some(head) = word.get(..n) else { break };
        // `lue` and `nue` are common spellings of lüe and nüe.
        let canonical = match head {
            "lue" => "lve",
            "nue" => "nve",
            h => h,
        };
        if let Some(id) = id_of(canonical) {
            out.push(step(id, id, true, n));
        }
    }
    if !out.is_empty() {
        return out;
    }
    if word.len() < MAX_SYLLABLE_LEN
        && let Some((lo, hi)) = prefix_range(word)
    {
        out.push(step(lo, hi, false, word.len()));
        return out;
    }
    let initial = match word.get(..2) {
        Some(two @ ("zh" | "ch" | "sh")) => two,
        _ => word.get(..1).unwrap_or_default(),
    };
    let known = initial
        .bytes()
        .next()
        .is_some_and(|b| INITIALS.contains(&b));
    if known && let Some((lo, hi)) = prefix_range(initial) {
        out.push(step(lo, hi, false, initial.len()));
    }
    out
}

/// Shows typed pinyin with syllable separators, as the keyboard's
/// composition line does: `weidong` → `wei'dong`, `hkqy` → `h'k'q'y`,
/// `weid` → `wei'd`, `xian` → `xian` (the split with the fewest
/// abbreviations, then the fewest syllables). Letters that fit no
/// syllable are shown as typed; a separator typed last is kept.
pub fn with_separators(input: &str) -> String {
    let lower: Vec<u8> = input.bytes().map(|b| b.to_ascii_lowercase()).collect();
    let reading = Reading::new(&lower);
    let len = lower.len();
    // best[pos]: (unreadable bytes, abbreviations, pieces) from pos to the
    // end, and the first step (None: take one byte as typed).
    let mut best: Vec<((usize, usize, usize), Option<Step>)> = vec![((0, 0, 0), None); len + 1];
    for pos in (0..len).rev() {
        let raw_cost = best.get(pos + 1).map_or((0, 0, 0), |c| c.0);
        let mut choice = ((raw_cost.0 + 1, raw_cost.1, raw_cost.2 + 1), None);
        for s in reading.at(pos) {
            let after = best.get(s.end).map_or((0, 0, 0), |c| c.0);
            let cost = (after.0, after.1 + usize::from(!s.exact), after.2 + 1);
            if cost < choice.0 {
                choice = (cost, Some(*s));
            }
        }
        if let Some(slot) = best.get_mut(pos) {
            *slot = choice;
        }
    }
    let mut pieces: Vec<String> = Vec::new();
    let mut raw = String::new();
    let mut pos = reading.start;
    while pos < len {
        match best.get(pos).and_then(|b| b.1) {
            Some(s) => {
                if !raw.is_empty() {
                    pieces.push(std::mem::take(&mut raw));
                }
                let letters = input.get(pos..pos + s.letters).unwrap_or_default();
                pieces.push(letters.to_ascii_lowercase());
                pos = s.end;
            }
            None => {
                if let Some(c) = input.get(pos..).and_then(|r| r.chars().next()) {
                    if c != '\'' {
                        raw.push(c);
                    }
                    pos += c.len_utf8();
                } else {
                    pos += 1;
                }
            }
        }
    }
    if !raw.is_empty() {
        pieces.push(raw);
    }
    let mut shown = pieces.join("'");
    if input.ends_with('\'') && !shown.is_empty() {
        shown.push('\'');
    }
    shown
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_standard_syllables() {
        for s in ["a", "zhuang", "chuang", "shuang", "lve", "nv", "er", "shei"] {
            assert!(is_syllable(s), "{s}");
        }
        for s in ["", "ng", "zh", "xian'", "ü", "lue", "biang"] {
            assert!(!is_syllable(s), "{s}");
        }
        assert!(table().len() > 400);
    }

    #[test]
    fn prefix_ranges_cover_exactly_the_syllables_with_that_start() {
        let (lo, hi) = prefix_range("zh").unwrap();
        let names: Vec<&str> = table()[lo as usize..=hi as usize].to_vec();
        assert!(names.iter().all(|s| s.starts_with("zh")));
        assert_eq!(
            names.len(),
            table().iter().filter(|s| s.starts_with("zh")).count()
        );
        assert!(prefix_range("q").is_some());
        assert!(prefix_range("v").is_none());
        assert!(prefix_range("iu").is_none());
    }

    #[test]
    fn ambiguous_letters_get_every_full_syllable() {
        let r = Reading::new(b"xian");
        let lens: Vec<usize> = r.at(0).iter().map(|s| s.letters).collect();
        assert_eq!(lens, vec![2, 3, 4]); // xi, xia, xian
        assert!(r.at(0).iter().all(|s| s.exact));
    }

    #[test]
    fn unfinished_syllables_and_abbreviations_are_prefixes() {
        let r = Reading::new(b"weido");
        let s = r.at(3);
        assert_eq!(s.len(), 1);
        assert!(!s[0].exact);
        assert_eq!(s[0].letters, 2);
        let r = Reading::new(b"hkqy");
        assert_eq!(r.at(0)[0].letters, 1);
        assert!(!r.at(0)[0].exact);
        let r = Reading::new(b"zhgsh");
        assert_eq!(r.at(0)[0].letters, 2);
        assert!(Reading::new(b"iii").at(0).is_empty());
    }

    #[test]
    fn knows_where_the_input_reads_as_full_syllables() {
        let r = Reading::new(b"zhangwei");
        assert!(r.exact_upto(5) && r.exact_upto(8));
        assert!(r.exact_upto(4)); // zhan
        assert!(!r.exact_upto(7));
        assert!(!r.exact_upto(6));
        let r = Reading::new(b"hkqy");
        assert!(!r.exact_upto(4));
        assert!(r.exact_upto(0));
    }

    #[test]
    fn separators_end_a_syllable() {
        let r = Reading::new(b"xi'an");
        let s = r.at(0);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].letters, s[0].end), (2, 3));
    }

    #[test]
    fn display_splits_like_a_phone_keyboard() {
        assert_eq!(with_separators("weidong"), "wei'dong");
        assert_eq!(with_separators("weidongqu"), "wei'dong'qu");
        assert_eq!(with_separators("hkqy"), "h'k'q'y");
        assert_eq!(with_separators("weid"), "wei'd");
        assert_eq!(with_separators("xian"), "xian");
        assert_eq!(with_separators("xi'an"), "xi'an");
        assert_eq!(with_separators("xi'"), "xi'");
        assert_eq!(with_separators("zhuangq"), "zhuang'q");
        assert_eq!(with_separators("nue"), "nue");
        assert_eq!(with_separators("iii"), "iii");
        assert_eq!(with_separators("wo1中"), "wo'1中");
        assert_eq!(with_separators(""), "");
        assert_eq!(with_separators("'''"), "");
    }
}
