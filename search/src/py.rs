//! Pinyin keys for names and keywords, and matching typed pinyin against them.
//!
//! A phrase becomes a list of *slots*: one per Han character (its toneless readings, all of
//! them for a polyphonic character) and one per run of ASCII letters/digits (the run itself,
//! lowercased). Punctuation and other characters are dropped, so `户口迁移（迁入）` gives
//! `hu kou qian yi qian ru`.

use pinyin::ToPinyinMulti;

/// The pinyin keys stored for one phrase.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PhraseKeys {
    /// First readings concatenated: `hukouqianyi`.
    pub full: String,
    /// First letters of the first readings: `hkqy`.
    pub initials: String,
    /// Slots separated by spaces, readings within a slot by `/`: `yin xing/hang`.
    pub syllables: String,
}

/// Computes the keys of `phrase`.
pub(crate) fn keys(phrase: &str) -> PhraseKeys {
    let slots = slots(phrase);
    let mut out = PhraseKeys::default();
    for slot in &slots {
        if let Some(first) = slot.first() {
            out.full.push_str(first);
            out.initials.extend(first.chars().next());
        }
    }
    out.syllables = slots
        .iter()
        .map(|s| s.join("/"))
        .collect::<Vec<_>>()
        .join(" ");
    out
}

fn slots(phrase: &str) -> Vec<Vec<String>> {
    let mut slots = Vec::new();
    let mut run = String::new();
    for ch in phrase.chars() {
        if ch.is_ascii_alphanumeric() {
            run.push(ch.to_ascii_lowercase());
            continue;
        }
        if !run.is_empty() {
            slots.push(vec![std::mem::take(&mut run)]);
        }
        if let Some(multi) = ch.to_pinyin_multi() {
            let readings = readings(multi.into_iter().map(|p| p.plain()));
            if !readings.is_empty() {
                slots.push(readings);
            }
        }
    }
    if !run.is_empty() {
        slots.push(vec![run]);
    }
    slots
}

/// Toneless readings as a person types them: `ü` as `v` (and `u`), `ê` as `e`, other marks dropped.
fn readings<'a>(plain: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    for p in plain {
        let ascii = |u: char| -> String {
            p.chars()
                .filter_map(|c| match c {
                    'ü' => Some(u),
                    'ê' => Some('e'),
                    c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        };
        push(ascii('v'));
        if p.contains('ü') {
            push(ascii('u'));
        }
    }
    out
}

/// How typed pinyin matched a phrase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PyMatch {
    /// Whole syllables, the last one possibly cut short (`hukou`, `hukouq`).
    Full,
    /// One letter per character (`hkqy`).
    Initials,
}

/// Where and how `q` (lowercase ASCII letters, non-empty) matched the stored `syllables`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PyHit {
    /// How it matched.
    pub how: PyMatch,
    /// The first slot of the match (0: the phrase starts with it).
    pub start: usize,
}

/// Matches typed pinyin against a phrase's stored syllables (see [`PhraseKeys::syllables`]).
/// Full-syllable matches win over initials; the earliest start wins among the same kind.
/// Allocates nothing: this runs for every name and keyword on each pinyin query.
pub(crate) fn match_syllables(syllables: &str, q: &str) -> Option<PyHit> {
    let q = q.as_bytes();
    let first = *q.first()?;
    if q.len() >= MAX_PINYIN_LEN {
        return None;
    }
    let mut initials = None;
    for (start, rest) in slot_suffixes(syllables).enumerate() {
        let head = rest.split(' ').next().unwrap_or_default();
        if !head
            .split('/')
            .any(|r| r.as_bytes().first() == Some(&first))
        {
            continue;
        }
        if full_from(rest, q) {
            return Some(PyHit {
                how: PyMatch::Full,
                start,
            });
        }
        if initials.is_none() && initials_at(rest, q) {
            initials = Some(PyHit {
                how: PyMatch::Initials,
                start,
            });
        }
    }
    initials
}

/// Typed pinyin longer than this never matches (the reachable-offset set is a `u128`).
const MAX_PINYIN_LEN: usize = 128;

/// The stored syllables from each slot on: `"a b c"`, `"b c"`, `"c"`.
fn slot_suffixes(syllables: &str) -> impl Iterator<Item = &str> {
    std::iter::once(0)
        .chain(syllables.match_indices(' ').map(|(i, _)| i + 1))
        .filter_map(|i| syllables.get(i..))
        .filter(|rest| !rest.is_empty() && !rest.starts_with(' '))
}

/// Whether `q` is spelled by whole readings of the slots in `rest`, from its first slot on,
/// the last reading possibly cut short. Bit `i` of `reach` says offset `i` of `q` is reachable.
fn full_from(rest: &str, q: &[u8]) -> bool {
    let n = q.len();
    let mut reach: u128 = 1;
    for slot in rest.split(' ') {
        let mut next: u128 = 0;
        let mut offsets = reach;
        while offsets != 0 {
            let offset = offsets.trailing_zeros() as usize;
            offsets &= offsets - 1;
            let tail = q.get(offset..).unwrap_or_default();
            for reading in slot.split('/').map(str::as_bytes) {
                if tail.starts_with(reading) {
                    // offset + reading.len() <= n < 128.
                    next |= 1u128 << (offset + reading.len());
                } else if reading.starts_with(tail) {
                    return true;
                }
            }
        }
        if next & (1u128 << n) != 0 {
            return true;
        }
        if next == 0 {
            return false;
        }
        reach = next;
    }
    false
}

/// Whether each letter of `q` is the first letter of a reading of consecutive slots of `rest`.
fn initials_at(rest: &str, q: &[u8]) -> bool {
    let mut slots = rest.split(' ');
    q.iter().all(|letter| {
        slots.next().is_some_and(|slot| {
            slot.split('/')
                .any(|r| r.as_bytes().first() == Some(letter))
        })
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn keys_drop_punctuation_and_keep_ascii_runs() {
        let k = keys("户口迁移（迁入）");
        assert_eq!(k.full, "hukouqianyiqianru");
        assert_eq!(k.initials, "hkqyqr");
        // 移 also reads chí (rarely); every reading is kept.
        assert_eq!(k.syllables, "hu kou qian yi/chi qian ru");
        assert_eq!(keys("ICP备案").syllables, "icp bei an");
    }

    #[test]
    fn polyphonic_characters_keep_every_reading() {
        let k = keys("银行");
        assert!(k.syllables.contains("xing"), "{}", k.syllables);
        assert!(k.syllables.contains("hang"), "{}", k.syllables);
        let k = keys("长");
        assert!(k.syllables.contains("chang") && k.syllables.contains("zhang"));
        assert_eq!(keys("律师").syllables, "lv/lu shi");
    }

    #[test]
    fn full_pinyin_matches_whole_syllables_and_a_cut_last_one() {
        let s = keys("户口迁移").syllables;
        let hit = |q| match_syllables(&s, q);
        assert_eq!(hit("hukou").map(|h| h.how), Some(PyMatch::Full));
        assert_eq!(
            hit("hukouqia").map(|h| (h.how, h.start)),
            Some((PyMatch::Full, 0))
        );
        assert_eq!(hit("qianyi").map(|h| h.start), Some(2));
        assert_eq!(hit("hkqy").map(|h| h.how), Some(PyMatch::Initials));
        assert_eq!(hit("kqy").map(|h| h.start), Some(1));
        assert_eq!(hit("hukouxx"), None);
        assert_eq!(hit("hkqyz"), None);
        let bank = keys("银行开户").syllables;
        assert!(match_syllables(&bank, "yinhang").is_some());
        assert!(match_syllables(&bank, "yinxing").is_some());
        assert!(match_syllables(&bank, "yhkh").is_some());
    }
}
