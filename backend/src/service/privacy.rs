//! Personal data: masking for logs and list views, and identity number checks.

/// Masks an identity document number: the first 6 and last 4 characters
/// stay, eight `*` stand between (whatever the length, so the mask does not
/// tell it). Numbers of 10 characters or fewer are masked whole.
///
/// `410403198503150013` → `410403********0013`.
#[must_use]
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    if n <= 10 {
        return "*".repeat(n.max(4));
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(n - 4).collect();
    format!("{head}********{tail}")
}

/// Masks a person's name: the first character (the surname, usually) stays,
/// each other character becomes `*`. `张伟` → `张*`, `李秀英` → `李**`.
#[must_use]
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// Whether `id` is a well-formed 18-character number with a valid GB 11643
/// check character (ISO 7064 MOD 11-2). Used for the resident identity card
/// and the Hong Kong, Macao and Taiwan residence permit.
#[must_use]
pub fn gb11643_valid(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return false;
    }
    let mut sum = 0u32;
    for (c, w) in chars.iter().zip(WEIGHTS) {
        match c.to_digit(10) {
            Some(v) => sum += v * w,
            None => return false,
        }
    }
    let expected = CHECK.get((sum % 11) as usize).copied();
    chars.last().map(char::to_ascii_uppercase) == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_id_keeps_first_six_and_last_four() {
        assert_eq!(mask_id("410403198503150013"), "410403********0013");
        assert_eq!(mask_id("41040319850315001X"), "410403********001X");
        assert_eq!(mask_id("ABC123456789012"), "ABC123********9012");
        assert_eq!(mask_id("12345"), "*****");
        assert_eq!(mask_id(""), "****");
        assert!(!mask_id("410403198503150013").contains("19850315"));
    }

    #[test]
    fn mask_name_keeps_the_surname() {
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("李秀英"), "李**");
        assert_eq!(mask_name("王"), "王*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn gb11643_check_character() {
        for id in [
            "410403198503150013",
            "410403196207080023",
            "410403200109220036",
            "410403194501010043",
        ] {
            assert!(gb11643_valid(id), "{id}");
        }
        assert!(!gb11643_valid("410403198503150014"));
        assert!(!gb11643_valid("41040319850315001"));
        assert!(!gb11643_valid("4104031985031500１3"));
    }
}
