//! The dictionary: words with their pinyin and frequency, and the candidate
//! lookup.
//!
//! Entries are kept in one vector sorted by their syllable ids, so all
//! words starting with the same syllables form one contiguous run, and a
//! run of words whose next syllable starts with some letters (`d` → da, dai,
//! …, duo) is contiguous too because ids follow the alphabet. A lookup walks
//! the typed letters' readings down these runs with binary searches: no
//! word outside the runs the input can reach is ever looked at.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::ops::Range;
use std::sync::OnceLock;

use crate::error::{ImeError, LineProblem};
use crate::syllable::{Reading, Step, SyllableId, id_of};

/// The bundled dictionary (see `assets/ime/README.md`).
const BUILTIN: &str = include_str!("../../assets/ime/pinyin.tsv");

/// The most syllables one dictionary word may have.
pub const MAX_WORD_SYLLABLES: usize = 32;

/// One word of the dictionary.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// Start of the word's syllable ids in `Dictionary::keys`.
    key_start: u32,
    /// Number of syllables (= characters).
    key_len: u8,
    /// Start of the word in `Dictionary::text`.
    text_start: u32,
    /// Length of the word in bytes.
    text_len: u32,
    /// How common the word is; larger is more common.
    freq: u32,
}

/// A pinyin dictionary: Chinese words, their readings and frequencies.
///
/// Load it once: [`Dictionary::builtin`] for the bundled one,
/// [`Dictionary::parse`] for another text in the same format.
#[derive(Debug)]
pub struct Dictionary {
    entries: Vec<Entry>,
    keys: Vec<SyllableId>,
    text: String,
    /// Natural log of the sum of all frequencies.
    ln_total: f64,
}

/// A word offered for the typed pinyin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The Chinese text to insert.
    pub text: String,
    /// How many bytes of the typed input (ASCII letters and separators) the
    /// word stands for, counted from the start. Less than the input's
    /// length when the word covers only its beginning: the rest stays to be
    /// chosen next (partial commit). Never more than the input's length.
    pub consumed: usize,
}

/// A word reached by the lookup, before ranking.
#[derive(Clone, Copy, Debug)]
struct Hit {
    entry: usize,
    consumed: usize,
    /// Abbreviated or unfinished syllables in the match.
    fuzzy: u8,
}

impl Dictionary {
    /// The dictionary bundled with the crate (about 90 000 words: jieba's
    /// most frequent words with pypinyin readings, common characters and
    /// the Weidong District lexicon), parsed on first use and kept for the
    /// life of the process. Takes some tens of milliseconds the first time
    /// in an optimised build; call it early (e.g. on a background thread at
    /// start) to keep that off the first keystroke.
    ///
    /// Malformed lines are skipped here rather than failing (the crate's
    /// tests check that the bundled file has none).
    pub fn builtin() -> &'static Dictionary {
        static DICT: OnceLock<Dictionary> = OnceLock::new();
        DICT.get_or_init(|| build(BUILTIN, false).unwrap_or_else(|_| Dictionary::empty()))
    }

    /// Parses a dictionary text: one word per line as
    /// `word<TAB>syllables separated by spaces<TAB>frequency`, e.g.
    /// `卫东\twei dong\t100000`. Syllables are toneless, lower case, ü written
    /// `v`, one per character; the frequency is a positive integer. Empty
    /// lines and lines starting with `#` are ignored. Lines need not be
    /// sorted.
    ///
    /// # Errors
    /// [`ImeError::BadLine`] for the first malformed line.
    pub fn parse(text: &str) -> Result<Dictionary, ImeError> {
        build(text, true)
    }

    /// The number of words (a word with two readings counts twice).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the dictionary has no words.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn empty() -> Dictionary {
        Dictionary {
            entries: Vec::new(),
            keys: Vec::new(),
            text: String::new(),
            ln_total: 0.0,
        }
    }

    /// The candidates for typed pinyin, best first, each word once:
    ///
    /// 1. words covering the whole input, those read as full syllables
    ///    first, then those needing fewer abbreviated or unfinished
    ///    syllables (`hkqy` → 户口迁移, `weid` → 卫东), each group by
    ///    frequency; after the full-syllable ones, a phrase: the likeliest
    ///    run of two or more words covering the input, when it beats every
    ///    single word (`banlishebaohehukouqianyi` → 办理社保和户口迁移; chosen
    ///    by word frequencies alone, so context can fool it);
    /// 2. words covering the start of the input, longest first, then by
    ///    frequency (`weidongqu…` → 卫东);
    /// 3. single characters of the first syllable (for every way to read
    ///    it: `xian…` gives 先 and, for `xi'an`, 西).
    ///
    /// The input is ASCII letters (either case) with `'` as an explicit
    /// syllable separator; any other character ends what can be matched.
    /// Returns nothing for empty input.
    pub fn candidates(&self, input: &str) -> Vec<Candidate> {
        let lower: Vec<u8> = input.bytes().map(|b| b.to_ascii_lowercase()).collect();
        let reading = Reading::new(&lower);
        let mut hits = Vec::new();
        if reading.start < reading.len {
            self.walk(
                0..self.entries.len(),
                0,
                reading.start,
                0,
                &reading,
                &mut hits,
            );
        }
        // Abbreviations only where full syllables cannot read the letters.
        hits.retain(|h| h.fuzzy == 0 || !reading.exact_upto(h.consumed));
        let sentence = self.sentence(&reading, &hits);
        let (mut ranked, exact_whole) = self.rank(hits, reading.len);
        if let Some(text) = sentence {
            ranked.retain(|c| c.text != text);
            let at = exact_whole.min(ranked.len());
            ranked.insert(
                at,
                Candidate {
                    text,
                    consumed: reading.len,
                },
            );
        }
        ranked
    }

    /// The likeliest sequence of two or more words covering the whole
    /// input (`banlishebao` → 办理社保), by word frequencies (a unigram
    /// model); None when one word or nothing covers it best.
    /// Abbreviated or unfinished syllables are allowed in the last word
    /// only. `first` are the hits from the start of the input.
    fn sentence(&self, reading: &Reading, first: &[Hit]) -> Option<String> {
        /// Cost of an abbreviated or unfinished syllable, in log frequency.
        const FUZZY_PENALTY: f64 = 3.0;
        let len = reading.len;
        // best[pos]: score of the best path to pos, where it came from and
        // the word that ends there.
        let mut best: Vec<Option<(f64, usize, usize)>> = vec![None; len + 1];
        *best.get_mut(reading.start)? = Some((0.0, reading.start, usize::MAX));
        let mut hits = Vec::new();
        for pos in reading.start..len {
            let Some((score, _, _)) = best.get(pos).copied().flatten() else {
                continue;
            };
            hits.clear();
            if pos == reading.start {
                hits.extend_from_slice(first);
            } else {
                self.walk(0..self.entries.len(), 0, pos, 0, reading, &mut hits);
            }
            for h in &hits {
                if h.consumed <= pos || (h.fuzzy > 0 && h.consumed < len) {
                    continue;
                }
                let Some(e) = self.entries.get(h.entry) else {
                    continue;
                };
                let s = score + f64::from(e.freq).ln()
                    - self.ln_total
                    - FUZZY_PENALTY * f64::from(h.fuzzy);
                if let Some(slot) = best.get_mut(h.consumed)
                    && slot.is_none_or(|(old, _, _)| s > old)
                {
                    *slot = Some((s, pos, h.entry));
                }
            }
        }
        let mut words = Vec::new();
        let mut pos = len;
        while pos > reading.start {
            let (_, from, entry) = best.get(pos).copied().flatten()?;
            words.push(self.word(self.entries.get(entry)?));
            pos = from;
        }
        if words.len() < 2 {
            return None;
        }
        words.reverse();
        Some(words.concat())
    }

    /// Collects the words in `range` (all sharing their first `depth`
    /// syllables, matched up to input position `pos`) that the input can
    /// reach from here.
    fn walk(
        &self,
        range: Range<usize>,
        depth: usize,
        pos: usize,
        fuzzy: u8,
        reading: &Reading,
        hits: &mut Vec<Hit>,
    ) {
        let mut range = range;
        if depth > 0 {
            // Words with exactly `depth` syllables sort first in the run.
            let ending = self.count_while(&range, |e| usize::from(e.key_len) == depth);
            hits.extend((range.start..range.start + ending).map(|entry| Hit {
                entry,
                consumed: pos,
                fuzzy,
            }));
            range.start += ending;
        }
        if range.is_empty() || depth >= MAX_WORD_SYLLABLES {
            return;
        }
        for step in reading.at(pos) {
            let fuzzy = fuzzy.saturating_add(u8::from(!step.exact));
            let mut run = self.narrow(&range, depth, step);
            // A prefix spans several syllables: keep each run one syllable
            // deep so the invariant of `walk` holds.
            while !run.is_empty() {
                let Some(id) = self.syllable(run.start, depth) else {
                    break;
                };
                let len = self.count_while(&run, |e| self.key(e).get(depth) == Some(&id));
                let group = run.start..run.start + len.max(1);
                run.start = group.end;
                self.walk(group, depth + 1, step.end, fuzzy, reading, hits);
            }
        }
    }

    /// The part of `range` whose syllable at `depth` lies in the step's
    /// id interval.
    fn narrow(&self, range: &Range<usize>, depth: usize, step: &Step) -> Range<usize> {
        let before = self.count_while(range, |e| {
            self.key(e).get(depth).is_none_or(|id| *id < step.lo)
        });
        let upto = self.count_while(range, |e| {
            self.key(e).get(depth).is_none_or(|id| *id <= step.hi)
        });
        range.start + before..range.start + upto
    }

    /// How many entries from the start of `range` satisfy `pred` (which
    /// must hold for a prefix of the range only).
    fn count_while(&self, range: &Range<usize>, pred: impl Fn(&Entry) -> bool) -> usize {
        self.entries
            .get(range.clone())
            .map_or(0, |run| run.partition_point(pred))
    }

    fn syllable(&self, entry: usize, depth: usize) -> Option<SyllableId> {
        self.entries
            .get(entry)
            .and_then(|e| self.key(e).get(depth).copied())
    }

    fn key(&self, e: &Entry) -> &[SyllableId] {
        key_of(&self.keys, e)
    }

    fn word(&self, e: &Entry) -> &str {
        let start = e.text_start as usize;
        self.text
            .get(start..start + e.text_len as usize)
            .unwrap_or_default()
    }

    /// Orders the hits (see [`Dictionary::candidates`]) and keeps the
    /// best of each word; also says how many lead that cover the whole
    /// input with full syllables.
    fn rank(&self, hits: Vec<Hit>, len: usize) -> (Vec<Candidate>, usize) {
        let mut scored: Vec<(_, &str, usize)> = hits
            .iter()
            .filter_map(|h| {
                let e = self.entries.get(h.entry)?;
                let group = if h.consumed >= len {
                    0u8
                } else if e.key_len > 1 {
                    1
                } else {
                    2
                };
                let word = self.word(e);
                let key = (group, Reverse(h.consumed), h.fuzzy, Reverse(e.freq));
                Some((key, word, h.consumed))
            })
            .collect();
        scored.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
        let mut seen = HashSet::new();
        scored.retain(|(_, word, _)| seen.insert(*word));
        let exact_whole = scored
            .iter()
            .take_while(|(key, _, _)| key.0 == 0 && key.2 == 0)
            .count();
        let ranked = scored
            .into_iter()
            .map(|(_, word, consumed)| Candidate {
                text: word.to_string(),
                consumed: consumed.min(len),
            })
            .collect();
        (ranked, exact_whole)
    }
}

fn key_of<'k>(keys: &'k [SyllableId], e: &Entry) -> &'k [SyllableId] {
    let start = e.key_start as usize;
    keys.get(start..start + usize::from(e.key_len))
        .unwrap_or_default()
}

/// Parses `text`; `strict` stops at the first malformed line, otherwise
/// such lines are skipped.
fn build(text: &str, strict: bool) -> Result<Dictionary, ImeError> {
    let mut dict = Dictionary::empty();
    for (number, line) in text.lines().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(problem) = dict.push_line(line)
            && strict
        {
            return Err(ImeError::BadLine {
                line: number + 1,
                problem,
            });
        }
    }
    let keys = std::mem::take(&mut dict.keys);
    dict.entries.sort_by(|a, b| {
        key_of(&keys, a)
            .cmp(key_of(&keys, b))
            .then(b.freq.cmp(&a.freq))
    });
    dict.keys = keys;
    let total: f64 = dict.entries.iter().map(|e| f64::from(e.freq)).sum();
    dict.ln_total = total.max(1.0).ln();
    Ok(dict)
}

impl Dictionary {
    /// Adds one `word<TAB>syllables<TAB>frequency` line.
    fn push_line(&mut self, line: &str) -> Result<(), LineProblem> {
        let mut fields = line.split('\t');
        let (Some(word), Some(syllables), Some(freq), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(LineProblem::Fields);
        };
        if word.is_empty() || word.chars().any(char::is_whitespace) {
            return Err(LineProblem::Word);
        }
        let freq: u32 = freq
            .trim()
            .parse()
            .ok()
            .filter(|f| *f > 0)
            .ok_or_else(|| LineProblem::Frequency(freq.to_string()))?;
        let ids = syllables
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| id_of(s).ok_or_else(|| LineProblem::Syllable(s.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let chars = word.chars().count();
        if ids.len() != chars {
            return Err(LineProblem::Count {
                syllables: ids.len(),
                chars,
            });
        }
        if ids.len() > MAX_WORD_SYLLABLES {
            return Err(LineProblem::TooLong);
        }
        let too_big = |_| LineProblem::TooBig;
        let entry = Entry {
            key_start: u32::try_from(self.keys.len()).map_err(too_big)?,
            key_len: u8::try_from(ids.len()).map_err(too_big)?,
            text_start: u32::try_from(self.text.len()).map_err(too_big)?,
            text_len: u32::try_from(word.len()).map_err(too_big)?,
            freq,
        };
        self.keys.extend(ids);
        self.text.push_str(word);
        self.entries.push(entry);
        Ok(())
    }
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

    const SMALL: &str = "# test\n\
        卫东\twei dong\t100\n\
        未动\twei dong\t3\n\
        伟大\twei da\t50\n\
        卫东区\twei dong qu\t90\n\
        区\tqu\t40\n\
        去\tqu\t80\n\
        为\twei\t500\n\
        西安\txi an\t20\n\
        先\txian\t30\n\
        西\txi\t25\n\
        行\txing\t10\n\
        行\thang\t2\n\
        银行\tyin hang\t9\n";

    fn texts(d: &Dictionary, input: &str) -> Vec<String> {
        d.candidates(input).into_iter().map(|c| c.text).collect()
    }

    #[test]
    fn whole_input_words_come_first_by_frequency() {
        let d = Dictionary::parse(SMALL).unwrap();
        assert_eq!(d.len(), 13);
        let c = d.candidates("weidong");
        assert_eq!(c[0].text, "卫东");
        assert_eq!(c[0].consumed, 7);
        assert_eq!(c[1].text, "未动");
        // then the single characters of the first syllable
        assert_eq!(c[2].text, "为");
        assert_eq!(c[2].consumed, 3);
    }

    #[test]
    fn prefix_words_keep_the_rest_for_later() {
        let d = Dictionary::parse(SMALL).unwrap();
        let c = d.candidates("weidongqux");
        let t: Vec<&str> = c.iter().map(|c| c.text.as_str()).collect();
        // The phrase for all of it (x unfinished: 先), then the words for
        // the start, longest first.
        assert_eq!(t[..5], ["卫东区先", "卫东区", "卫东", "未动", "为"]);
        let consumed: Vec<usize> = c.iter().map(|c| c.consumed).collect();
        assert_eq!(consumed[..5], [10, 9, 7, 7, 3]);
    }

    #[test]
    fn abbreviations_and_unfinished_syllables_match() {
        let d = Dictionary::parse(SMALL).unwrap();
        assert_eq!(texts(&d, "wd")[0], "卫东");
        assert_eq!(texts(&d, "weid")[..2], ["卫东", "伟大"]);
        assert_eq!(texts(&d, "weido")[..2], ["卫东", "未动"]);
        assert_eq!(texts(&d, "wdq")[0], "卫东区");
        assert_eq!(texts(&d, "WeiDong")[0], "卫东");
    }

    #[test]
    fn ambiguous_splits_offer_both_readings() {
        let d = Dictionary::parse(SMALL).unwrap();
        let t = texts(&d, "xian");
        assert_eq!(t[..2], ["先", "西安"]);
        assert!(t.contains(&"西".to_string()));
        let t = texts(&d, "xi'an");
        assert_eq!(t[0], "西安");
        assert!(!t.contains(&"先".to_string()));
    }

    #[test]
    fn a_word_with_two_readings_is_offered_once() {
        let d = Dictionary::parse(SMALL).unwrap();
        assert_eq!(texts(&d, "h"), ["行"]);
        assert_eq!(texts(&d, "yinhang"), ["银行"]);
    }

    #[test]
    fn garbage_gives_no_or_prefix_candidates() {
        let d = Dictionary::parse(SMALL).unwrap();
        assert!(d.candidates("").is_empty());
        assert!(d.candidates("'''").is_empty());
        assert!(d.candidates("iii").is_empty());
        let c = d.candidates("wei1dong");
        assert_eq!(c[0].text, "为");
        assert_eq!(c[0].consumed, 3);
        assert!(d.candidates("卫东").is_empty());
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let bad = [
            ("卫东\twei dong", LineProblem::Fields),
            ("卫东\twei dong\t0", LineProblem::Frequency("0".into())),
            (
                "卫东\twei dong\tmany",
                LineProblem::Frequency("many".into()),
            ),
            ("卫东\twei dogn\t5", LineProblem::Syllable("dogn".into())),
            (
                "卫东\twei\t5",
                LineProblem::Count {
                    syllables: 1,
                    chars: 2,
                },
            ),
            ("\twei\t5", LineProblem::Word),
        ];
        for (line, problem) in bad {
            let text = format!("# header\n为\twei\t1\n{line}\n");
            assert_eq!(
                Dictionary::parse(&text).unwrap_err(),
                ImeError::BadLine { line: 3, problem },
                "{line}"
            );
        }
        let err = Dictionary::parse("x\twei dong\t1").unwrap_err().to_string();
        assert!(err.contains("第 1 行") && err.contains("line 1"), "{err}");
    }
}
