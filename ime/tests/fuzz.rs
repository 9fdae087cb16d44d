//! Random key sequences never panic and candidates stay within the input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ime::{Composer, Dictionary, Key, MAX_BUFFER, Mode, with_separators};

/// xorshift64: a fixed seed gives the same run every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random input: mostly pinyin-ish letters, sometimes separators, upper
/// case or characters that are no pinyin at all.
fn random_input(rng: &mut Rng) -> String {
    const COMMON: &[u8] = b"aeiouhngzsdxyjqlwbcmtkrpfv";
    let len = rng.below(40);
    (0..len)
        .map(|_| match rng.below(40) {
            0 => '\'',
            1 => 'Q',
            2 => ['1', ' ', '中', 'é', '\0', '-'][rng.below(6)],
            _ => char::from(COMMON[rng.below(COMMON.len())]),
        })
        .collect()
}

#[test]
fn random_strings_give_candidates_within_the_input() {
    let dict = Dictionary::builtin();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..1500 {
        let input = random_input(&mut rng);
        let shown = with_separators(&input);
        assert!(shown.len() <= input.len() * 2 + 1, "{input:?} → {shown:?}");
        let candidates = dict.candidates(&input);
        for c in &candidates {
            assert!(c.consumed <= input.len(), "{input:?}: {c:?}");
            assert!(c.consumed > 0, "{input:?}: {c:?}");
            assert!(!c.text.is_empty(), "{input:?}");
            assert!(input.is_char_boundary(c.consumed), "{input:?}: {c:?}");
        }
        let mut texts: Vec<&str> = candidates.iter().map(|c| c.text.as_str()).collect();
        texts.sort_unstable();
        let n = texts.len();
        texts.dedup();
        assert_eq!(texts.len(), n, "{input:?}: each word once");
    }
}

#[test]
fn random_key_presses_keep_the_keyboard_consistent() {
    let mut rng = Rng(42);
    let mut k = Composer::new(Dictionary::builtin());
    for _ in 0..4000 {
        let key = match rng.below(24) {
            0..=11 => Key::Letter(char::from(b'a' + rng.below(26) as u8)),
            12 => Key::Letter(['中', '1', 'A', ' '][rng.below(4)]),
            13 => Key::Digit(['1', '0', '@', 'x', '中'][rng.below(5)]),
            14 => Key::Separator,
            15 => Key::Backspace,
            16 => Key::Space,
            17 => Key::Pick(rng.below(12)),
            18 => Key::NextPage,
            19 => Key::PrevPage,
            20 => Key::Mode([Mode::Pinyin, Mode::Latin, Mode::Digits][rng.below(3)]),
            21 => Key::Shift,
            22 => Key::Clear,
            _ => Key::Enter,
        };
        k.press(key);
        assert!(k.buffer().len() <= MAX_BUFFER);
        assert!(k.page().len() <= k.page_size());
        assert!(k.page_index() < k.page_count().max(1));
        for c in k.page() {
            assert!(c.consumed <= k.buffer().len(), "{:?}: {c:?}", k.buffer());
        }
        if k.mode() != Mode::Pinyin {
            assert_eq!(k.buffer(), "");
        }
    }
}
