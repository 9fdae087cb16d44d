#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::*;

/// Computed by hand (and with a separate script) from GB 32100-2015; the
/// first is the standard's published example.
const VALID: [&str; 6] = [
    "91350100M000100Y43",
    "91410403MA44XXXXX7",
    "12410403005012345H",
    "91110000100000000R",
    "52410403MA40ABCDE9",
    "914104030000000140", // sum ≡ 0 (mod 31): the check value 31 becomes 0
];

#[test]
fn known_codes_are_valid() {
    for code in VALID {
        assert!(uscc_valid(code), "{code}");
        assert_eq!(uscc_check_char(&code[..17]), code.chars().last(), "{code}");
    }
}

#[test]
fn every_single_character_corruption_is_caught() {
    let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    for code in VALID {
        for pos in 0..18 {
            for replacement in alphabet.chars() {
                let mut chars: Vec<char> = code.chars().collect();
                if chars[pos] == replacement {
                    continue;
                }
                chars[pos] = replacement;
                let corrupted: String = chars.into_iter().collect();
                assert!(!uscc_valid(&corrupted), "{corrupted} from {code}");
            }
        }
    }
}

#[test]
fn malformed_codes_are_invalid() {
    assert!(!uscc_valid(""));
    assert!(!uscc_valid("91350100M000100Y4"));
    assert!(!uscc_valid("91350100M000100Y433"));
    assert!(!uscc_valid("91350100m000100y43"), "lower case");
    assert!(
        !uscc_valid("91350100I000100Y43"),
        "I is not in the alphabet"
    );
    assert!(!uscc_valid("9135010０M000100Y43"), "full-width digit");
    assert!(!uscc_valid("91350100M000100Y4三"));
    assert_eq!(uscc_check_char("91350100M000100Y"), None);
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn the_default_format_gives_twenty_digit_numbers() {
    let f = CaseNumberFormat::DEFAULT;
    assert_eq!(
        f.format("410403", day(2026, 11, 28), 1),
        "41040320261128000001"
    );
    assert_eq!(
        f.format("410403", day(2026, 1, 5), 123_456),
        "41040320260105123456"
    );
    assert_eq!(f.max_seq(), 999_999);
    assert_eq!(
        CaseNumberFormat::parse(CaseNumberFormat::DEFAULT_TEMPLATE).unwrap(),
        f
    );
    assert_eq!(
        CaseNumberFormat::default().template(),
        CaseNumberFormat::DEFAULT_TEMPLATE
    );
    // Past the width the sequence is written in full.
    assert_eq!(
        f.format("410403", day(2026, 11, 28), 1_000_000),
        "410403202611281000000"
    );
}

#[test]
fn templates_mix_literals_and_placeholders() {
    let f: CaseNumberFormat = "WD-{yyyy}-{MM}{dd}-{seq:4}号".parse().unwrap();
    assert_eq!(
        f.format("410403", day(2026, 3, 7), 42),
        "WD-2026-0307-0042号"
    );
    assert_eq!(f.max_seq(), 9_999);
    assert_eq!(f.to_string(), "WD-{yyyy}-{MM}{dd}-{seq:4}号");
    let wide = CaseNumberFormat::parse("{seq:20}").unwrap();
    assert_eq!(wide.max_seq(), u32::MAX);
    assert_eq!(wide.format("", day(2026, 3, 7), 7).len(), 20);
}

#[test]
fn bad_templates_are_refused_with_a_reason() {
    let err = CaseNumberFormat::parse("{district}{yyyymmdd}{seq:6}").unwrap_err();
    assert_eq!(
        err,
        CaseNumberError::UnknownToken {
            token: "yyyymmdd".into()
        }
    );
    assert!(err.to_string().contains("{yyyymmdd}"), "{err}");
    assert_eq!(
        CaseNumberFormat::parse("{district{seq:6}").unwrap_err(),
        CaseNumberError::UnmatchedBrace { at: 1 }
    );
    assert_eq!(
        CaseNumberFormat::parse("{seq:6}}").unwrap_err(),
        CaseNumberError::UnmatchedBrace { at: 8 }
    );
    assert_eq!(
        CaseNumberFormat::parse("{district}{seq:6").unwrap_err(),
        CaseNumberError::UnmatchedBrace { at: 11 }
    );
    assert_eq!(
        CaseNumberFormat::parse("{seq:0}").unwrap_err(),
        CaseNumberError::BadWidth { width: "0".into() }
    );
    assert_eq!(
        CaseNumberFormat::parse("{seq:x}").unwrap_err(),
        CaseNumberError::BadWidth { width: "x".into() }
    );
    assert_eq!(
        CaseNumberFormat::parse("{district}{yyyyMMdd}").unwrap_err(),
        CaseNumberError::NoSequence
    );
    assert!(CaseNumberError::NoSequence.to_string().contains("流水号"));
}
