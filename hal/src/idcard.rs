//! Second-generation ID card readers (二代居民身份证, GA 467 family) and
//! the other cards they read: the foreign permanent-resident ID card and
//! the Hong Kong / Macao / Taiwan residents' residence permit.

use std::fmt;
use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// A calendar date as printed on a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CardDate {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl CardDate {
    /// Parses `YYYYMMDD`; `None` when it is not a real date.
    pub fn parse_compact(s: &str) -> Option<CardDate> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: u16 = s.get(0..4)?.parse().ok()?;
        let month: u8 = s.get(4..6)?.parse().ok()?;
        let day: u8 = s.get(6..8)?.parse().ok()?;
        let d = CardDate { year, month, day };
        d.is_valid().then_some(d)
    }

    fn is_valid(&self) -> bool {
        let leap = (self.year.is_multiple_of(4) && !self.year.is_multiple_of(100))
            || self.year.is_multiple_of(400);
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        self.year >= 1800 && self.day >= 1 && self.day <= days
    }

    /// `YYYYMMDD`.
    pub fn compact(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for CardDate {
    /// ISO 8601, `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// End of validity: a date, or 长期 (long-term, no end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Until(CardDate),
    LongTerm,
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validity::Until(d) => d.fmt(f),
            Validity::LongTerm => f.write_str("长期"),
        }
    }
}

/// Sex as coded on the card (GB/T 2261.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Unknown,
    Male,
    Female,
    Unstated,
}

impl Sex {
    /// From the one-character code on the card ('0', '1', '2', '9').
    pub fn from_code(c: char) -> Option<Sex> {
        match c {
            '0' => Some(Sex::Unknown),
            '1' => Some(Sex::Male),
            '2' => Some(Sex::Female),
            '9' => Some(Sex::Unstated),
            _ => None,
        }
    }

    /// The code on the card.
    pub fn code(self) -> char {
        match self {
            Sex::Unknown => '0',
            Sex::Male => '1',
            Sex::Female => '2',
            Sex::Unstated => '9',
        }
    }

    /// 男 / 女 / 未知 / 未说明.
    pub fn name_zh(self) -> &'static str {
        match self {
            Sex::Unknown => "未知",
            Sex::Male => "男",
            Sex::Female => "女",
            Sex::Unstated => "未说明",
        }
    }
}

/// The 56 nations of GB 3304 in code order (01..56).
pub const NATIONS: [&str; 56] = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

/// Nation name for a GB 3304 code ("01" → 汉, "97" → 其他, "98" →
/// 外国血统中国籍人士); `None` for an unknown code.
pub fn nation_name(code: &str) -> Option<&'static str> {
    let n: usize = code.trim().parse().ok()?;
    match n {
        1..=56 => NATIONS.get(n - 1).copied(),
        97 => Some("其他"),
        98 => Some("外国血统中国籍人士"),
        _ => None,
    }
}

/// GB 3304 code for a nation name (inverse of [`nation_name`]).
pub fn nation_code(name: &str) -> Option<String> {
    if let Some(i) = NATIONS.iter().position(|n| *n == name) {
        return Some(format!("{:02}", i + 1));
    }
    match name {
        "其他" => Some("97".into()),
        "外国血统中国籍人士" => Some("98".into()),
        _ => None,
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// Check character (GB 11643, ISO 7064 MOD 11-2) for the first 17 digits.
pub fn id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += c.to_digit(10)? * w;
    }
    CHECK_CHARS.get((sum % 11) as usize).map(|b| *b as char)
}

/// Whether an 18-character citizen ID number has a valid check character
/// and a real birth date inside. Lowercase `x` is accepted.
pub fn id_number_valid(id: &str) -> bool {
    let id = id.to_ascii_uppercase();
    if id.len() != 18 {
        return false;
    }
    let (Some(first17), Some(last)) = (id.get(..17), id.chars().nth(17)) else {
        return false;
    };
    let Some(birth) = id.get(6..14) else {
        return false;
    };
    id_check_char(first17) == Some(last) && CardDate::parse_compact(birth).is_some()
}

/// Masks an ID number for display and logs: first 6, `********`, last 4
/// (`410403********0013`). Short or odd input is masked entirely.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len().max(4));
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// Which card was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardType {
    /// 居民身份证.
    Resident,
    /// 外国人永久居留身份证 (type letter `I`).
    ForeignPermanentResident,
    /// 港澳台居民居住证 (type letter `J`).
    HkMacaoTaiwanPermit,
}

impl CardType {
    /// Stable machine name.
    pub fn as_str(self) -> &'static str {
        match self {
            CardType::Resident => "resident",
            CardType::ForeignPermanentResident => "foreign_permanent_resident",
            CardType::HkMacaoTaiwanPermit => "hk_macao_taiwan_permit",
        }
    }

    /// ID type code used by the platform (GB/T 22117-style): 111, 414, 516.
    pub fn id_type_code(self) -> &'static str {
        match self {
            CardType::Resident => "111",
            CardType::ForeignPermanentResident => "414",
            CardType::HkMacaoTaiwanPermit => "516",
        }
    }
}

/// The text fields of a card. Every card carries the common fields; the
/// foreign and HK/Macao/Taiwan cards fill the `Option`s that apply.
#[derive(Clone, PartialEq)]
pub struct Identity {
    pub card_type: CardType,
    /// Chinese name (for foreigners: the Chinese name, may be empty).
    pub name: String,
    pub sex: Sex,
    /// Nation name (汉, 回, …); `None` on a foreigner's card.
    pub nation: Option<String>,
    pub birth: CardDate,
    /// Address; empty on a foreigner's card.
    pub address: String,
    /// Citizen ID number, or the card number on the other cards.
    pub id_number: String,
    /// Whether the number passed GB 11643 (and, on resident cards, agrees
    /// with the birth date field).
    pub id_number_valid: bool,
    /// 签发机关 (issuing authority; authority code on a foreigner's card).
    pub issuer: String,
    pub valid_from: CardDate,
    pub valid_to: Validity,
    /// Foreigner's card: English name.
    pub name_en: Option<String>,
    /// Foreigner's card: nationality code (ISO 3166 alpha-3).
    pub nationality: Option<String>,
    /// Foreigner's card: card version.
    pub card_version: Option<String>,
    /// HK/Macao/Taiwan permit: travel permit number (通行证号码).
    pub pass_number: Option<String>,
    /// HK/Macao/Taiwan permit: number of issues (签发次数).
    pub issue_count: Option<u32>,
}

impl fmt::Debug for Identity {
    /// Never prints personal data in clear: the number is masked and the
    /// name and address are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("card_type", &self.card_type)
            .field("id_number", &mask_id_number(&self.id_number))
            .field("id_number_valid", &self.id_number_valid)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// Overwrites every text field in place before the memory is dropped,
    /// so a core dump taken after a journey holds none of it (S8).
    pub fn wipe(&mut self) {
        fn clear(s: &mut String) {
            // SAFETY-free zeroing: overwrite the bytes with ASCII zeros,
            // which keeps the String valid UTF-8, then truncate.
            let len = s.len();
            s.clear();
            s.extend(std::iter::repeat_n('0', len));
            s.clear();
        }
        clear(&mut self.name);
        clear(&mut self.address);
        clear(&mut self.id_number);
        clear(&mut self.issuer);
        for s in [
            &mut self.name_en,
            &mut self.nationality,
            &mut self.pass_number,
            &mut self.nation,
        ] {
            if let Some(s) = s.as_mut() {
                clear(s);
            }
            *s = None;
        }
    }
}

/// Everything one read gives: the identity plus the opaque biometric
/// blobs. The photo is in the proprietary WLT format and can only be
/// decoded to a 102x126 image by the reader vendor's licensed library; it
/// is carried as bytes. The fingerprint features (0, 512 or 1024 bytes)
/// are likewise opaque and only useful to a fingerprint module that
/// compares against card features.
#[derive(Clone)]
pub struct CardRead {
    pub identity: Identity,
    pub photo_wlt: Vec<u8>,
    pub fingerprint: Option<Vec<u8>>,
}

impl fmt::Debug for CardRead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardRead")
            .field("identity", &self.identity)
            .field("photo_bytes", &self.photo_wlt.len())
            .field(
                "fingerprint_bytes",
                &self.fingerprint.as_ref().map_or(0, Vec::len),
            )
            .finish()
    }
}

impl CardRead {
    /// Zeroes the identity and the biometric bytes (see [`Identity::wipe`]).
    pub fn wipe(&mut self) {
        self.identity.wipe();
        self.photo_wlt.iter_mut().for_each(|b| *b = 0);
        self.photo_wlt.clear();
        if let Some(fp) = self.fingerprint.as_mut() {
            fp.iter_mut().for_each(|b| *b = 0);
        }
        self.fingerprint = None;
    }
}

impl Drop for CardRead {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Whether a card is in the reader's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardPresence {
    /// A card is there and has not been read since it was laid.
    Present,
    /// No card, or a card the reader has already read (a GA 467 reader
    /// will not find a card again until it is lifted and laid again).
    Absent,
}

/// What the reader can do, read once at open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdCardCapabilities {
    pub reads_fingerprint: bool,
    pub reads_foreign_cards: bool,
}

/// An ID card reader.
///
/// A caller may rely on:
/// * [`IdCardReader::find_card`] never blocks past `deadline` and returns
///   [`CardPresence::Absent`] (not an error) when no card is there;
/// * [`IdCardReader::read`] runs the whole find → select → read sequence,
///   returns a complete [`CardRead`] or an error, never a partial one: a
///   card pulled mid-read gives [`crate::ErrorKind::CardRead`] or
///   [`crate::ErrorKind::NoCard`]; a vanished port gives
///   [`crate::ErrorKind::Disconnected`]; garbage on the line is skipped
///   to the next frame and counted; a bad checksum is retried once;
/// * a read takes about 0.5–1.5 s on hardware; give it at least 3 s.
///
/// Cancellation: the reader finishes the frame in progress; callers
/// cancel by dropping the handle's future.
pub trait IdCardReader: Device {
    /// What this reader offers.
    fn capabilities(&self) -> IdCardCapabilities;

    /// Looks once for a card in the field.
    fn find_card(&mut self, deadline: Instant) -> Result<CardPresence, DeviceError>;

    /// Reads the card in the field, with fingerprint features when
    /// `with_fingerprint` and the card holds them.
    fn read(&mut self, with_fingerprint: bool, deadline: Instant) -> Result<CardRead, DeviceError>;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn gb11643_examples_from_the_standard() {
        assert!(id_number_valid("11010519491231002X"));
        assert!(id_number_valid("11010519491231002x"));
        assert!(id_number_valid("440524188001010014"));
        assert!(
            !id_number_valid("110101199003071234"),
            "check char should be 3"
        );
        assert!(id_number_valid("110101199003071233"));
        assert!(!id_number_valid("41040319850315001"), "17 chars");
        assert!(!id_number_valid("410403198513150013"), "month 13");
        assert_eq!(id_check_char("41040319850315001"), Some('3'));
    }

    #[test]
    fn nations_round_trip() {
        assert_eq!(nation_name("01"), Some("汉"));
        assert_eq!(nation_name("03"), Some("回"));
        assert_eq!(nation_name("56"), Some("基诺"));
        assert_eq!(nation_name("97"), Some("其他"));
        assert_eq!(nation_name("57"), None);
        assert_eq!(nation_name("xx"), None);
        for i in 1..=56 {
            let code = format!("{i:02}");
            assert_eq!(nation_code(nation_name(&code).unwrap()).unwrap(), code);
        }
    }

    #[test]
    fn masking_keeps_six_and_four() {
        assert_eq!(mask_id_number("410403198503150013"), "410403********0013");
        assert_eq!(mask_id_number("123"), "****");
    }

    #[test]
    fn dates() {
        assert_eq!(
            CardDate::parse_compact("20000229").unwrap().to_string(),
            "2000-02-29"
        );
        assert!(
            CardDate::parse_compact("19000229").is_none(),
            "1900 is no leap year"
        );
        assert!(CardDate::parse_compact("2024013 ").is_none());
        assert_eq!(Validity::LongTerm.to_string(), "长期");
    }
}
