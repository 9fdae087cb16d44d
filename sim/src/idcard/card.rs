//! Simulated cards: what a scenario lays on the reader, the demo people,
//! and the card's contents as the reader sends them (text block, photo,
//! fingerprint), built from devices.md 1.5–1.7.

use serde::{Deserialize, Serialize};

/// A card to lay on the simulated reader.
///
/// Dates are `YYYYMMDD`; `valid_to` may be `长期`. `card_type` is
/// `resident`, `foreign` (foreign permanent resident card, type letter
/// `I`) or `hmt` (Hong Kong/Macao/Taiwan residence permit, type letter
/// `J`). On a foreign card `name` is the Chinese name, `id_number` the
/// 15-character card number, `issuer` the 4-digit authority code, and
/// `nation`/`address` are not used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimCard {
    #[serde(default = "resident")]
    pub card_type: String,
    pub name: String,
    /// 男 or 女.
    pub sex: String,
    /// Nation name (汉, 回, …).
    #[serde(default)]
    pub nation: String,
    pub birth: String,
    #[serde(default)]
    pub address: String,
    pub id_number: String,
    pub issuer: String,
    pub valid_from: String,
    pub valid_to: String,
    /// Whether the card carries fingerprint features (1024 bytes).
    #[serde(default)]
    pub with_fingerprint: bool,
    /// Foreign card: English name.
    #[serde(default)]
    pub name_en: Option<String>,
    /// Foreign card: nationality, ISO 3166 alpha-3.
    #[serde(default)]
    pub nationality: Option<String>,
    /// HK/Macao/Taiwan permit: travel permit number.
    #[serde(default)]
    pub pass_number: Option<String>,
    /// HK/Macao/Taiwan permit: number of issues.
    #[serde(default)]
    pub issue_count: Option<u32>,
}

fn resident() -> String {
    "resident".into()
}

const NATIONS: [&str; 56] = [
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

/// GB 3304 code of a nation name; a two-digit code passes through, an
/// unknown name becomes 97 (其他).
fn nation_code(name: &str) -> String {
    if let Some(i) = NATIONS.iter().position(|n| *n == name) {
        return format!("{:02}", i + 1);
    }
    match name {
        "外国血统中国籍人士" => "98".into(),
        n if n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()) => n.into(),
        _ => "97".into(),
    }
}

fn sex_code(sex: &str) -> &'static str {
    match sex {
        "男" | "1" | "male" | "M" => "1",
        "女" | "2" | "female" | "F" => "2",
        "9" => "9",
        _ => "0",
    }
}

/// A space-padded UTF-16LE block being filled field by field.
struct Block(Vec<u16>);

impl Block {
    fn new() -> Self {
        Block(vec![0x0020; 128])
    }

    /// Writes `s` at unit offset `at`, cut to `width` units.
    fn put(&mut self, at: usize, width: usize, s: &str) {
        for (i, u) in s.encode_utf16().take(width).enumerate() {
            if let Some(slot) = self.0.get_mut(at + i) {
                *slot = u;
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|u| u.to_le_bytes()).collect()
    }
}

impl SimCard {
    /// The masked number for displays and logs: first 6, last 4.
    pub fn masked_id(&self) -> String {
        let chars: Vec<char> = self.id_number.chars().collect();
        if chars.len() < 12 {
            return "*".repeat(chars.len().max(4));
        }
        let head: String = chars.iter().take(6).collect();
        let tail: String = chars.iter().skip(chars.len() - 4).collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
    }

    /// The 256-byte text block (devices.md 1.6).
    pub fn text_block(&self) -> Vec<u8> {
        let mut b = Block::new();
        match self.card_type.as_str() {
            "foreign" => {
                b.put(0, 60, self.name_en.as_deref().unwrap_or_default());
                b.put(60, 1, sex_code(&self.sex));
                b.put(61, 15, &self.id_number);
                b.put(76, 3, self.nationality.as_deref().unwrap_or_default());
                b.put(79, 15, &self.name);
                b.put(94, 8, &self.valid_from);
                b.put(102, 8, &self.valid_to);
                b.put(110, 8, &self.birth);
                b.put(118, 2, "20");
                b.put(120, 4, &self.issuer);
                b.put(124, 1, "I");
            }
            kind => {
                b.put(0, 15, &self.name);
                b.put(15, 1, sex_code(&self.sex));
                if !(kind == "hmt" && self.nation.is_empty()) {
                    b.put(16, 2, &nation_code(&self.nation));
                }
                b.put(18, 8, &self.birth);
                b.put(26, 35, &self.address);
                b.put(61, 18, &self.id_number);
                b.put(79, 15, &self.issuer);
                b.put(94, 8, &self.valid_from);
                b.put(102, 8, &self.valid_to);
                if kind == "hmt" {
                    b.put(110, 9, self.pass_number.as_deref().unwrap_or_default());
                    if let Some(n) = self.issue_count {
                        b.put(119, 2, &format!("{n:02}"));
                    }
                    b.put(124, 1, "J");
                }
            }
        }
        b.bytes()
    }

    /// 1024 deterministic pseudo-WLT bytes derived from the ID number.
    pub fn photo(&self) -> Vec<u8> {
        noise(&self.id_number, "photo", 1024)
    }

    /// 1024 deterministic feature bytes, or none.
    pub fn fingerprint(&self) -> Vec<u8> {
        if self.with_fingerprint {
            noise(&self.id_number, "fingerprint", 1024)
        } else {
            Vec::new()
        }
    }
}

/// `n` bytes of xorshift output seeded by FNV-1a of `seed` and `salt`.
fn noise(seed: &str, salt: &str, n: usize) -> Vec<u8> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes().chain(salt.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut x = h | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

#[allow(clippy::too_many_arguments)] // reason: one literal table row per demo person
fn resident_card(
    name: &str,
    sex: &str,
    nation: &str,
    birth: &str,
    house: &str,
    id: &str,
    from: &str,
    to: &str,
    with_fingerprint: bool,
) -> SimCard {
    SimCard {
        card_type: "resident".into(),
        name: name.into(),
        sex: sex.into(),
        nation: nation.into(),
        birth: birth.into(),
        address: format!("河南省平顶山市卫东区建设路东段{house}"),
        id_number: id.into(),
        issuer: "平顶山市公安局卫东分局".into(),
        valid_from: from.into(),
        valid_to: to.into(),
        with_fingerprint,
        name_en: None,
        nationality: None,
        pass_number: None,
        issue_count: None,
    }
}

/// The demo people: the four of docs/API.md, a foreigner (`I` card) and
/// a resident whose card expired in 2020.
pub fn demo_people() -> Vec<(&'static str, SimCard)> {
    vec![
        (
            "zhangwei",
            resident_card(
                "张伟",
                "男",
                "汉",
                "19850315",
                "12号",
                "410403198503150013",
                "20160410",
                "20360410",
                true,
            ),
        ),
        (
            "lixiuying",
            resident_card(
                "李秀英",
                "女",
                "回",
                "19620708",
                "36号",
                "410403196207080023",
                "20120815",
                "长期",
                false,
            ),
        ),
        (
            "wanghaoran",
            resident_card(
                "王浩然",
                "男",
                "汉",
                "20010922",
                "8号",
                "410403200109220036",
                "20190905",
                "20290905",
                true,
            ),
        ),
        (
            "zhaoguilan",
            resident_card(
                "赵桂兰",
                "女",
                "汉",
                "19450101",
                "101号",
                "410403194501010043",
                "20100301",
                "长期",
                false,
            ),
        ),
        (
            "foreigner",
            SimCard {
                card_type: "foreign".into(),
                name: "史密斯".into(),
                sex: "男".into(),
                nation: String::new(),
                birth: "19800704".into(),
                address: String::new(),
                id_number: "USA410080070401".into(),
                issuer: "1500".into(),
                valid_from: "20180601".into(),
                valid_to: "20280601".into(),
                with_fingerprint: false,
                name_en: Some("SMITH, JOHN".into()),
                nationality: Some("USA".into()),
                pass_number: None,
                issue_count: None,
            },
        ),
        (
            "expired",
            resident_card(
                "孙建国",
                "男",
                "汉",
                "19700520",
                "55号",
                "410403197005200052",
                "20000520",
                "20200520",
                false,
            ),
        ),
    ]
}

/// One demo person by key.
pub fn demo_person(key: &str) -> Option<SimCard> {
    demo_people()
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn units(b: &[u8], at: usize, len: usize) -> String {
        let u: Vec<u16> = b[2 * at..2 * (at + len)]
            .chunks(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16(&u).unwrap()
    }

    #[test]
    fn text_block_layout() {
        let c = demo_person("lixiuying").unwrap();
        let b = c.text_block();
        assert_eq!(b.len(), 256);
        assert_eq!(units(&b, 0, 15).trim_end(), "李秀英");
        assert_eq!(units(&b, 15, 1), "2");
        assert_eq!(units(&b, 16, 2), "03");
        assert_eq!(units(&b, 61, 18), "410403196207080023");
        assert_eq!(units(&b, 102, 8), "长期      ");
        assert_eq!(&b[248..250], &[0x20, 0x00], "resident: no type letter");
        let f = demo_person("foreigner").unwrap().text_block();
        assert_eq!(&f[248..250], b"I\0");
        assert_eq!(units(&f, 110, 8), "19800704");
    }

    #[test]
    fn demo_numbers_are_valid_and_match_birth() {
        const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        for (key, c) in demo_people()
            .into_iter()
            .filter(|(_, c)| c.card_type == "resident")
        {
            let digits: Vec<u32> = c
                .id_number
                .chars()
                .take(17)
                .map(|ch| ch.to_digit(10).unwrap())
                .collect();
            let s: u32 = digits.iter().zip(W).map(|(d, w)| d * w).sum();
            let check = b"10X98765432"[(s % 11) as usize] as char;
            assert_eq!(c.id_number.chars().last(), Some(check), "{key}");
            assert_eq!(&c.id_number[6..14], c.birth, "{key}");
        }
        assert_eq!(
            demo_person("zhangwei").unwrap().masked_id(),
            "410403********0013"
        );
        assert!(demo_person("nobody").is_none());
    }

    #[test]
    fn photo_and_fingerprint_are_deterministic() {
        let a = demo_person("zhangwei").unwrap();
        assert_eq!(a.photo(), a.photo());
        assert_eq!(a.photo().len(), 1024);
        assert_eq!(a.fingerprint().len(), 1024);
        assert_ne!(a.photo(), demo_person("wanghaoran").unwrap().photo());
        assert!(demo_person("lixiuying").unwrap().fingerprint().is_empty());
    }
}
