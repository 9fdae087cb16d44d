//! Typing on the on-screen keyboard with the bundled dictionary, as a
//! resident would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ime::{Composer, DIGIT_KEYS, Dictionary, Edit, Key, MAX_BUFFER, Mode};

fn keyboard() -> Composer<'static> {
    Composer::new(Dictionary::builtin())
}

/// Types letters (and `'` as the separator key) into the keyboard.
fn type_in(k: &mut Composer<'_>, letters: &str) {
    for c in letters.chars() {
        let key = if c == '\'' {
            Key::Separator
        } else {
            Key::Letter(c)
        };
        assert_eq!(k.press(key), None, "typing {c} inserts nothing yet");
    }
}

fn page_texts(k: &Composer<'_>) -> Vec<String> {
    k.page().iter().map(|c| c.text.clone()).collect()
}

/// Every candidate of every page, paging forward from the first.
fn all_texts(k: &mut Composer<'_>) -> Vec<String> {
    let mut all = page_texts(k);
    while k.has_next_page() {
        k.press(Key::NextPage);
        all.extend(page_texts(k));
    }
    all
}

/// The field's text after applying edits.
fn apply(field: &mut String, edit: Option<Edit>) {
    match edit {
        Some(Edit::Insert(s)) => field.push_str(&s),
        Some(Edit::DeleteBack) => {
            field.pop();
        }
        Some(Edit::Enter) | None => {}
    }
}

#[test]
fn weidong_offers_weidong_first_and_space_types_it() {
    let mut k = keyboard();
    type_in(&mut k, "weidong");
    assert_eq!(k.preedit(), "wei'dong");
    assert_eq!(k.page()[0].text, "卫东");
    assert_eq!(k.press(Key::Space), Some(Edit::Insert("卫东".into())));
    assert_eq!(k.buffer(), "");
    assert!(k.page().is_empty());
}

#[test]
fn unfinished_and_mixed_abbreviations_still_find_weidong() {
    for letters in ["weid", "weido", "weidon", "wdong", "wd"] {
        let mut k = keyboard();
        type_in(&mut k, letters);
        assert_eq!(k.page()[0].text, "卫东", "{letters}");
        assert_eq!(k.page()[0].consumed, letters.len(), "{letters}");
    }
}

#[test]
fn initials_find_the_kiosk_terms() {
    for (letters, word) in [
        ("hkqy", "户口迁移"),
        ("yyzz", "营业执照"),
        ("sfz", "身份证"),
        ("pds", "平顶山"),
        ("gljt", "高龄津贴"),
        ("bszn", "办事指南"),
        ("wdq", "卫东区"),
    ] {
        let mut k = keyboard();
        type_in(&mut k, letters);
        assert_eq!(k.page()[0].text, word, "{letters}");
        assert_eq!(k.preedit().matches('\'').count(), letters.len() - 1);
    }
}

#[test]
fn local_terms_come_first_when_typed_in_full() {
    for (letters, word) in [
        ("weidongqu", "卫东区"),
        ("pingdingshan", "平顶山"),
        ("henan", "河南"),
        ("dibao", "低保"),
        ("shebao", "社保"),
        ("yibao", "医保"),
        ("buzheng", "补正"),
        ("gongjijin", "公积金"),
        ("budongchan", "不动产"),
        ("juzhuzheng", "居住证"),
        ("jianshelujiedao", "建设路街道"),
        ("donganlujiedao", "东安路街道"),
        ("wuyilujiedao", "五一路街道"),
    ] {
        let mut k = keyboard();
        type_in(&mut k, letters);
        assert_eq!(k.page()[0].text, word, "{letters}");
    }
}

#[test]
fn xian_offers_xian_characters_and_xi_an() {
    let mut k = keyboard();
    type_in(&mut k, "xian");
    assert_eq!(k.preedit(), "xian");
    let first = page_texts(&k);
    assert!(first.iter().any(|t| t == "先" || t == "线"), "{first:?}");
    // 西安 (xi'an) comes among the readings covering all four letters,
    // by frequency: within the first two pages.
    let mut two_pages = k.page().to_vec();
    k.press(Key::NextPage);
    two_pages.extend_from_slice(k.page());
    let xian = two_pages.iter().find(|c| c.text == "西安");
    assert_eq!(xian.expect("西安 on page 1 or 2").consumed, 4);
    // …and the separator chooses the xi'an reading.
    let mut k = keyboard();
    type_in(&mut k, "xi'an");
    assert_eq!(k.preedit(), "xi'an");
    assert_eq!(k.page()[0].text, "西安");
    assert!(!page_texts(&k).contains(&"先".to_string()));
}

#[test]
fn choosing_a_word_for_the_start_leaves_the_rest() {
    let mut field = String::new();
    let mut k = keyboard();
    type_in(&mut k, "weidongqu");
    assert_eq!(k.preedit(), "wei'dong'qu");
    let texts = page_texts(&k);
    let i = texts
        .iter()
        .position(|t| t == "卫东")
        .expect("卫东 on page 1");
    assert!(texts.iter().position(|t| t == "卫东区") < Some(i));
    apply(&mut field, k.press(Key::Pick(i)));
    assert_eq!(field, "卫东");
    assert_eq!(k.buffer(), "qu");
    let i = page_texts(&k)
        .iter()
        .position(|t| t == "区")
        .expect("区 for qu");
    apply(&mut field, k.press(Key::Pick(i)));
    assert_eq!(field, "卫东区");
    assert_eq!(k.buffer(), "");
}

#[test]
fn choosing_across_a_separator_drops_it() {
    let mut k = keyboard();
    type_in(&mut k, "xi'an");
    let i = k.page().iter().position(|c| c.text == "西").unwrap();
    assert_eq!(k.press(Key::Pick(i)), Some(Edit::Insert("西".into())));
    assert_eq!(k.buffer(), "an");
    assert_eq!(k.page()[0].consumed, 2);
}

#[test]
fn pages_go_forward_back_and_stop_at_the_last() {
    let mut k = keyboard();
    type_in(&mut k, "shi");
    assert_eq!(k.page_size(), 8);
    assert_eq!(k.page_index(), 0);
    assert!(!k.has_prev_page());
    assert!(k.has_next_page());
    let first = page_texts(&k);
    assert_eq!(first.len(), 8);
    assert_eq!(first[0], "是");
    k.press(Key::NextPage);
    assert_eq!(k.page_index(), 1);
    let second = page_texts(&k);
    assert!(
        second.iter().all(|t| !first.contains(t)),
        "pages do not overlap"
    );
    k.press(Key::PrevPage);
    assert_eq!(page_texts(&k), first);
    k.press(Key::PrevPage);
    assert_eq!(k.page_index(), 0, "no page before the first");

    let pages = k.page_count();
    for _ in 0..pages + 3 {
        k.press(Key::NextPage);
    }
    assert_eq!(k.page_index(), pages - 1, "stops at the last page");
    assert!(!k.has_next_page());
    assert!(!k.page().is_empty() && k.page().len() <= 8);
    // Picking on a later page picks from that page.
    let last = k.page()[0].text.clone();
    assert_eq!(k.press(Key::Pick(0)), Some(Edit::Insert(last)));
    // A pick beyond the page does nothing.
    type_in(&mut k, "shi");
    assert_eq!(k.press(Key::Pick(99)), None, "no such candidate");
    assert_eq!(k.buffer(), "shi");
}

#[test]
fn elderly_mode_shows_five_per_page_and_typing_resets_the_page() {
    let mut k = keyboard();
    k.set_page_size(5);
    type_in(&mut k, "de");
    let all = k.page_count();
    assert_eq!(k.page().len(), 5);
    k.press(Key::NextPage);
    assert_eq!(k.page_index(), 1);
    let before = page_texts(&k);
    type_in(&mut k, "ng");
    assert_eq!(k.page_index(), 0, "new letters show the first page again");
    assert_ne!(page_texts(&k), before);
    assert_ne!(k.page_count(), all);
    k.set_page_size(0);
    assert_eq!(k.page_size(), 1);
}

#[test]
fn backspace_edits_the_buffer_first_then_the_field() {
    let mut field = String::from("卫东");
    let mut k = keyboard();
    type_in(&mut k, "qu");
    assert_eq!(k.press(Key::Backspace), None);
    assert_eq!(k.buffer(), "q");
    assert!(!k.page().is_empty(), "candidates follow the shorter buffer");
    assert_eq!(k.press(Key::Backspace), None);
    assert_eq!(k.buffer(), "");
    assert!(k.page().is_empty());
    apply(&mut field, k.press(Key::Backspace));
    assert_eq!(field, "卫");
}

#[test]
fn enter_commits_letters_and_otherwise_is_passed_on() {
    let mut k = keyboard();
    type_in(&mut k, "xi'an");
    assert_eq!(k.press(Key::Enter), Some(Edit::Insert("xian".into())));
    assert_eq!(k.buffer(), "");
    assert_eq!(k.press(Key::Enter), Some(Edit::Enter));
    assert_eq!(k.press(Key::Space), Some(Edit::Insert(" ".into())));
}

#[test]
fn clear_empties_the_buffer_only() {
    let mut k = keyboard();
    type_in(&mut k, "weidong");
    assert_eq!(k.press(Key::Clear), None);
    assert_eq!(k.buffer(), "");
    assert!(k.page().is_empty());
    assert_eq!(k.press(Key::Backspace), Some(Edit::DeleteBack));
}

#[test]
fn digits_mode_types_form_characters_only() {
    let mut field = String::new();
    let mut k = keyboard();
    assert_eq!(k.press(Key::Mode(Mode::Digits)), None);
    assert_eq!(k.mode(), Mode::Digits);
    for c in "138-3751.2345@X".chars() {
        apply(&mut field, k.press(Key::Digit(c)));
    }
    assert_eq!(field, "138-3751.2345@X");
    assert_eq!(
        k.press(Key::Letter('a')),
        None,
        "no letters on the digit pad"
    );
    assert_eq!(k.press(Key::Digit('#')), None);
    assert_eq!(k.press(Key::Separator), None);
    assert_eq!(k.press(Key::Space), Some(Edit::Insert(" ".into())));
    assert_eq!(k.press(Key::Backspace), Some(Edit::DeleteBack));
    assert!(DIGIT_KEYS.len() >= 13);
}

#[test]
fn latin_mode_types_letters_with_shift_and_caps_lock() {
    let mut field = String::new();
    let mut k = keyboard();
    k.press(Key::Mode(Mode::Latin));
    k.press(Key::Shift);
    assert!(k.upper_case());
    for c in "zhang".chars() {
        apply(&mut field, k.press(Key::Letter(c)));
    }
    assert_eq!(field, "Zhang", "shift lasts one letter");
    assert_eq!(k.buffer(), "", "Latin letters skip the pinyin buffer");
    k.press(Key::CapsLock);
    apply(&mut field, k.press(Key::Letter('w')));
    k.press(Key::Shift);
    apply(&mut field, k.press(Key::Letter('E')));
    apply(&mut field, k.press(Key::Letter('i')));
    assert_eq!(
        field, "ZhangWeI",
        "shift under caps lock gives lower case once"
    );
    k.press(Key::CapsLock);
    assert!(!k.caps_lock());
    apply(&mut field, k.press(Key::Separator));
    apply(&mut field, k.press(Key::Digit('7')));
    assert_eq!(field, "ZhangWeI'7");
}

#[test]
fn switching_mode_commits_pending_letters() {
    let mut k = keyboard();
    type_in(&mut k, "abc");
    assert_eq!(
        k.press(Key::Mode(Mode::Latin)),
        Some(Edit::Insert("abc".into()))
    );
    assert_eq!(k.buffer(), "");
    assert_eq!(k.press(Key::Mode(Mode::Pinyin)), None);
    type_in(&mut k, "wo");
    assert_eq!(k.press(Key::Digit('2')), Some(Edit::Insert("wo2".into())));
}

#[test]
fn garbage_keys_are_ignored() {
    let mut k = keyboard();
    for c in ['1', '中', ' ', '\n', 'é', '\'', '\0'] {
        assert_eq!(k.press(Key::Letter(c)), None);
    }
    assert_eq!(k.buffer(), "");
    // A separator needs a letter before it, and one is enough.
    k.press(Key::Separator);
    assert_eq!(k.buffer(), "");
    type_in(&mut k, "xi");
    k.press(Key::Separator);
    k.press(Key::Separator);
    assert_eq!(k.buffer(), "xi'");
    // Letters that are no pinyin give no candidates; space commits them.
    k.press(Key::Clear);
    type_in(&mut k, "iiv");
    assert!(k.page().is_empty());
    assert_eq!(k.press(Key::Space), Some(Edit::Insert("iiv".into())));
}

#[test]
fn the_buffer_stops_at_its_limit() {
    let mut k = keyboard();
    for _ in 0..MAX_BUFFER + 20 {
        k.press(Key::Letter('a'));
    }
    assert_eq!(k.buffer().len(), MAX_BUFFER);
    assert!(k.is_full());
    k.press(Key::Separator);
    assert_eq!(k.buffer().len(), MAX_BUFFER);
    assert!(!k.page().is_empty());
    k.press(Key::Backspace);
    assert!(!k.is_full());
}

#[test]
fn a_phrase_is_offered_whole_or_chosen_piece_by_piece() {
    let letters = "banlishebaohehukouqianyi";
    let mut k = keyboard();
    type_in(&mut k, letters);
    assert_eq!(k.page()[0].text, "办理社保和户口迁移");
    assert_eq!(k.page()[0].consumed, letters.len());
    // Or choose 办理 first: the rest is offered as a phrase again.
    let mut field = String::new();
    let i = page_texts(&k).iter().position(|t| t == "办理").unwrap();
    apply(&mut field, k.press(Key::Pick(i)));
    assert_eq!(k.buffer(), "shebaohehukouqianyi");
    assert_eq!(k.preedit(), "she'bao'he'hu'kou'qian'yi");
    assert_eq!(k.page()[0].text, "社保和户口迁移");
    apply(&mut field, k.press(Key::Space));
    assert_eq!(k.buffer(), "");
    assert_eq!(field, "办理社保和户口迁移");
    assert!(field.ends_with("户口迁移"), "{field}");
}

#[test]
fn all_candidates_of_weidong_are_distinct() {
    let mut k = keyboard();
    type_in(&mut k, "weidong");
    let all = all_texts(&mut k);
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len());
    assert!(
        all.contains(&"为".to_string()),
        "single characters come last"
    );
}
