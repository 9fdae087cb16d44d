//! Decoding of the read reply: the length words (devices.md 1.5) and the
//! 256-byte text block (devices.md 1.6).
//!
//! Decoding is all or nothing: a field that is not what the layout says
//! (bad UTF-16, a date that is no date, an unknown sex or nation code)
//! makes the whole block a [`ErrorKind::Protocol`] error, so a caller
//! never sees a half-filled identity. Error details name the field, never
//! its content, because the content is personal data.
//!
//! ## Card families
//!
//! The type letter sits in UTF-16 unit 124 (bytes 248–249):
//!
//! * blank: resident ID card (居民身份证), layout of devices.md 1.6;
//! * `I`: foreign permanent resident ID card (外国人永久居留身份证),
//!   English name @0 (120 bytes), sex @120, 15-character card number @122,
//!   nationality code @152, Chinese name @158, validity @188/@204, birth
//!   @220, card version @236, issuing authority code @240;
//! * `J`: Hong Kong / Macao / Taiwan residents' residence permit
//!   (港澳台居民居住证). **Assumption**, not confirmed by a real card or a
//!   vendor document: the resident layout, with the reserved area carrying
//!   the travel permit number (通行证号码, 9 characters @220) and the issue
//!   count (签发次数, 2 digits @238); the nation field is blank;
//! * any other letter: a card family this driver does not know, refused
//!   as [`ErrorKind::Unsupported`].

use hal::idcard::{self, CardDate, CardType, Identity, Sex, Validity};
use hal::{DeviceError, ErrorKind};

/// Size of the text block.
pub const TEXT_LEN: usize = 256;

/// The blocks of a read reply, sized on its length words.
#[derive(Debug)]
pub struct Blocks {
    pub text: Vec<u8>,
    pub photo: Vec<u8>,
    /// `None` when the reply carried no fingerprint length word.
    pub fingerprint: Option<Vec<u8>>,
}

fn word(data: &[u8], at: usize) -> Option<usize> {
    let b = data.get(at..at + 2)?;
    Some(usize::from(u16::from_be_bytes([*b.first()?, *b.get(1)?])))
}

fn blocks(data: &[u8], lens: &[usize]) -> Option<Vec<Vec<u8>>> {
    let mut at = 2 * lens.len();
    let mut out = Vec::with_capacity(lens.len());
    for &n in lens {
        out.push(data.get(at..at + n)?.to_vec());
        at += n;
    }
    (at == data.len()).then_some(out)
}

/// Splits the data of a read reply (everything after SW3) into text,
/// photo and fingerprint, trusting only the length words.
///
/// With `fingerprint_words` the reply of 0x30 0x10 is expected (three
/// length words); a reader that answered with the two-word layout anyway
/// is accepted when the sizes add up that way.
pub fn split_read_reply(data: &[u8], fingerprint_words: bool) -> Result<Blocks, DeviceError> {
    let (Some(text_len), Some(photo_len)) = (word(data, 0), word(data, 2)) else {
        return Err(DeviceError::protocol(format!(
            "read reply of {} bytes has no length words",
            data.len()
        )));
    };
    if fingerprint_words
        && let Some(fp_len) = word(data, 4)
        && let Some(mut b) = blocks(data, &[text_len, photo_len, fp_len])
    {
        let fp = b.pop().unwrap_or_default();
        let photo = b.pop().unwrap_or_default();
        let text = b.pop().unwrap_or_default();
        return check_text(Blocks {
            text,
            photo,
            fingerprint: Some(fp),
        });
    }
    match blocks(data, &[text_len, photo_len]) {
        Some(mut b) => {
            let photo = b.pop().unwrap_or_default();
            let text = b.pop().unwrap_or_default();
            check_text(Blocks {
                text,
                photo,
                fingerprint: None,
            })
        }
        None => Err(DeviceError::protocol(format!(
            "read reply of {} bytes does not match its length words (text {text_len}, photo {photo_len})",
            data.len()
        ))),
    }
}

fn check_text(b: Blocks) -> Result<Blocks, DeviceError> {
    if b.text.len() == TEXT_LEN {
        Ok(b)
    } else {
        Err(DeviceError::protocol(format!(
            "text block is {} bytes, not {TEXT_LEN}",
            b.text.len()
        )))
    }
}

/// The text block as UTF-16 units.
struct Text {
    units: Vec<u16>,
}

impl Text {
    fn new(bytes: &[u8]) -> Result<Text, DeviceError> {
        if bytes.len() != TEXT_LEN {
            return Err(DeviceError::protocol(format!(
                "text block is {} bytes, not {TEXT_LEN}",
                bytes.len()
            )));
        }
        let units = bytes
            .as_chunks::<2>()
            .0
            .iter()
            .map(|p| u16::from_le_bytes(*p))
            .collect();
        Ok(Text { units })
    }

    /// A field of `len` units at unit offset `at`, padding trimmed.
    fn field(&self, at: usize, len: usize, name: &str) -> Result<String, DeviceError> {
        let units = self.units.get(at..at + len).ok_or_else(|| {
            DeviceError::protocol(format!("{name} field lies outside the text block"))
        })?;
        let s: String = char::decode_utf16(units.iter().copied())
            .collect::<Result<_, _>>()
            .map_err(|e| {
                DeviceError::protocol(format!("{name} field is not valid UTF-16")).with_source(e)
            })?;
        Ok(
            s.trim_matches(|c: char| c == ' ' || c == '\0' || c == '\u{3000}')
                .to_string(),
        )
    }

    fn required(&self, at: usize, len: usize, name: &str) -> Result<String, DeviceError> {
        let s = self.field(at, len, name)?;
        if s.is_empty() {
            return Err(DeviceError::protocol(format!("{name} field is empty")));
        }
        Ok(s)
    }

    fn date(&self, at: usize, name: &str) -> Result<CardDate, DeviceError> {
        let s = self.field(at, 8, name)?;
        CardDate::parse_compact(&s)
            .ok_or_else(|| DeviceError::protocol(format!("{name} field is not a YYYYMMDD date")))
    }

    fn validity(&self, at: usize, name: &str) -> Result<Validity, DeviceError> {
        let s = self.field(at, 8, name)?;
        if s == "长期" {
            return Ok(Validity::LongTerm);
        }
        CardDate::parse_compact(&s)
            .map(Validity::Until)
            .ok_or_else(|| {
                DeviceError::protocol(format!("{name} field is neither a YYYYMMDD date nor 长期"))
            })
    }

    fn sex(&self, at: usize) -> Result<Sex, DeviceError> {
        let s = self.field(at, 1, "sex")?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Sex::from_code(c),
            _ => None,
        }
        .ok_or_else(|| DeviceError::protocol("sex field is not a GB/T 2261.1 code"))
    }
}

/// UTF-16 unit offsets shared by the resident card and the HK/Macao/Taiwan
/// permit.
mod resident {
    pub const NAME: (usize, usize) = (0, 15);
    pub const SEX: usize = 15;
    pub const NATION: (usize, usize) = (16, 2);
    pub const BIRTH: usize = 18;
    pub const ADDRESS: (usize, usize) = (26, 35);
    pub const ID: (usize, usize) = (61, 18);
    pub const ISSUER: (usize, usize) = (79, 15);
    pub const VALID_FROM: usize = 94;
    pub const VALID_TO: usize = 102;
    /// HK/Macao/Taiwan permit (assumed): pass number @ byte 220.
    pub const PASS_NUMBER: (usize, usize) = (110, 9);
    /// HK/Macao/Taiwan permit (assumed): issue count @ byte 238.
    pub const ISSUE_COUNT: (usize, usize) = (119, 2);
}

/// UTF-16 unit offsets of the foreign permanent resident card.
mod foreign {
    pub const NAME_EN: (usize, usize) = (0, 60);
    pub const SEX: usize = 60;
    pub const CARD_NO: (usize, usize) = (61, 15);
    pub const NATIONALITY: (usize, usize) = (76, 3);
    pub const NAME_ZH: (usize, usize) = (79, 15);
    pub const VALID_FROM: usize = 94;
    pub const VALID_TO: usize = 102;
    pub const BIRTH: usize = 110;
    pub const VERSION: (usize, usize) = (118, 2);
    pub const AUTHORITY: (usize, usize) = (120, 4);
}

/// Unit offset of the card type letter (bytes 248–249).
const TYPE_LETTER: usize = 124;

/// Decodes a 256-byte text block into an identity.
pub fn decode_text(bytes: &[u8]) -> Result<Identity, DeviceError> {
    let text = Text::new(bytes)?;
    match text.field(TYPE_LETTER, 1, "card type")?.as_str() {
        "" => decode_resident(&text, CardType::Resident),
        "J" => decode_resident(&text, CardType::HkMacaoTaiwanPermit),
        "I" => decode_foreign(&text),
        _ => Err(DeviceError::new(
            ErrorKind::Unsupported,
            "card type letter of an unknown card family",
        )),
    }
}

fn decode_resident(text: &Text, card_type: CardType) -> Result<Identity, DeviceError> {
    use resident as r;
    let name = text.required(r::NAME.0, r::NAME.1, "name")?;
    let sex = text.sex(r::SEX)?;
    let nation_code = text.field(r::NATION.0, r::NATION.1, "nation")?;
    let nation = match (card_type, nation_code.is_empty()) {
        // The permit carries no nation (assumption, see the module doc).
        (CardType::HkMacaoTaiwanPermit, true) => None,
        _ => Some(
            idcard::nation_name(&nation_code)
                .ok_or_else(|| DeviceError::protocol("nation field is not a GB 3304 code"))?
                .to_string(),
        ),
    };
    let birth = text.date(r::BIRTH, "birth")?;
    let address = text.field(r::ADDRESS.0, r::ADDRESS.1, "address")?;
    let id_number = text
        .required(r::ID.0, r::ID.1, "ID number")?
        .to_ascii_uppercase();
    let issuer = text.field(r::ISSUER.0, r::ISSUER.1, "issuer")?;
    let valid_from = text.date(r::VALID_FROM, "valid-from")?;
    let valid_to = text.validity(r::VALID_TO, "valid-until")?;
    let id_number_valid = idcard::id_number_valid(&id_number)
        && id_number.get(6..14) == Some(birth.compact().as_str());
    let (pass_number, issue_count) = if card_type == CardType::HkMacaoTaiwanPermit {
        let pass = text.field(r::PASS_NUMBER.0, r::PASS_NUMBER.1, "pass number")?;
        let count = text.field(r::ISSUE_COUNT.0, r::ISSUE_COUNT.1, "issue count")?;
        let count = if count.is_empty() {
            None
        } else {
            Some(
                count
                    .parse::<u32>()
                    .map_err(|_| DeviceError::protocol("issue count field is not a number"))?,
            )
        };
        ((!pass.is_empty()).then_some(pass), count)
    } else {
        (None, None)
    };
    Ok(Identity {
        card_type,
        name,
        sex,
        nation,
        birth,
        address,
        id_number,
        id_number_valid,
        issuer,
        valid_from,
        valid_to,
        name_en: None,
        nationality: None,
        card_version: None,
        pass_number,
        issue_count,
    })
}

/// Shape of the 15-character number of the foreign permanent resident
/// card: three letters (the nationality) and twelve digits. Its check
/// character algorithm is not in our sources, so only the shape is checked.
fn foreign_number_plausible(n: &str) -> bool {
    n.len() == 15
        && n.bytes().take(3).all(|b| b.is_ascii_uppercase())
        && n.bytes().skip(3).all(|b| b.is_ascii_digit())
}

fn decode_foreign(text: &Text) -> Result<Identity, DeviceError> {
    use foreign as f;
    let name_en = text.required(f::NAME_EN.0, f::NAME_EN.1, "English name")?;
    let sex = text.sex(f::SEX)?;
    let id_number = text
        .required(f::CARD_NO.0, f::CARD_NO.1, "card number")?
        .to_ascii_uppercase();
    let nationality = text.required(f::NATIONALITY.0, f::NATIONALITY.1, "nationality")?;
    let name = text.field(f::NAME_ZH.0, f::NAME_ZH.1, "Chinese name")?;
    let valid_from = text.date(f::VALID_FROM, "valid-from")?;
    let valid_to = text.validity(f::VALID_TO, "valid-until")?;
    let birth = text.date(f::BIRTH, "birth")?;
    let version = text.field(f::VERSION.0, f::VERSION.1, "card version")?;
    let issuer = text.field(f::AUTHORITY.0, f::AUTHORITY.1, "authority code")?;
    let id_number_valid = if id_number.len() == 18 {
        idcard::id_number_valid(&id_number)
    } else {
        foreign_number_plausible(&id_number)
    };
    Ok(Identity {
        card_type: CardType::ForeignPermanentResident,
        name,
        sex,
        nation: None,
        birth,
        address: String::new(),
        id_number,
        id_number_valid,
        issuer,
        valid_from,
        valid_to,
        name_en: Some(name_en),
        nationality: Some(nationality),
        card_version: (!version.is_empty()).then_some(version),
        pass_number: None,
        issue_count: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// Writes `s` at unit offset `at` of a space-padded block.
    fn put(block: &mut [u8], at: usize, s: &str) {
        for (i, u) in s.encode_utf16().enumerate() {
            block[2 * (at + i)..2 * (at + i) + 2].copy_from_slice(&u.to_le_bytes());
        }
    }

    fn blank() -> Vec<u8> {
        [0x20, 0x00].repeat(128)
    }

    fn zhang_wei() -> Vec<u8> {
        let mut b = blank();
        put(&mut b, 0, "张伟");
        put(&mut b, 15, "1");
        put(&mut b, 16, "01");
        put(&mut b, 18, "19850315");
        put(&mut b, 26, "河南省平顶山市卫东区建设路东段12号");
        put(&mut b, 61, "410403198503150013");
        put(&mut b, 79, "平顶山市公安局卫东分局");
        put(&mut b, 94, "20160410");
        put(&mut b, 102, "20360410");
        b
    }

    #[test]
    fn resident_card() {
        let id = decode_text(&zhang_wei()).unwrap();
        assert_eq!(id.card_type, CardType::Resident);
        assert_eq!(id.name, "张伟");
        assert_eq!(id.sex, Sex::Male);
        assert_eq!(id.nation.as_deref(), Some("汉"));
        assert_eq!(id.birth.to_string(), "1985-03-15");
        assert_eq!(id.address, "河南省平顶山市卫东区建设路东段12号");
        assert_eq!(id.id_number, "410403198503150013");
        assert!(id.id_number_valid);
        assert_eq!(id.issuer, "平顶山市公安局卫东分局");
        assert_eq!(id.valid_from.to_string(), "2016-04-10");
        assert_eq!(id.valid_to.to_string(), "2036-04-10");
    }

    #[test]
    fn long_term_validity_and_lowercase_x() {
        let mut b = zhang_wei();
        put(&mut b, 102, "长期      ");
        put(&mut b, 61, "11010519491231002x");
        put(&mut b, 18, "19491231");
        let id = decode_text(&b).unwrap();
        assert_eq!(id.valid_to, Validity::LongTerm);
        assert_eq!(id.id_number, "11010519491231002X");
        assert!(id.id_number_valid);
    }

    #[test]
    fn id_number_is_cross_checked_with_the_birth_field() {
        let mut b = zhang_wei();
        put(&mut b, 18, "19850316");
        let id = decode_text(&b).unwrap();
        assert!(!id.id_number_valid, "valid checksum but another birth date");
        let mut b = zhang_wei();
        put(&mut b, 61, "410403198503150014");
        assert!(!decode_text(&b).unwrap().id_number_valid);
    }

    #[test]
    fn broken_fields_are_protocol_errors_without_personal_data() {
        let cases: Vec<(usize, &str, &str)> = vec![
            (18, "19851315", "birth"),
            (94, "2016041 ", "valid-from"),
            (102, "forever ", "valid-until"),
            (15, "5", "sex"),
            (16, "77", "nation"),
            (0, "               ", "name"),
        ];
        for (at, value, field) in cases {
            let mut b = zhang_wei();
            put(&mut b, at, value);
            let e = decode_text(&b).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{field}");
            assert!(e.detail().contains(field), "{}", e.detail());
            assert!(
                !e.detail().contains("410403"),
                "no personal data in {}",
                e.detail()
            );
        }
        // A lone surrogate in the address.
        let mut b = zhang_wei();
        b[2 * 30..2 * 30 + 2].copy_from_slice(&0xD800u16.to_le_bytes());
        let e = decode_text(&b).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.detail().contains("address"));
        assert_eq!(
            decode_text(&b[..200]).unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn foreign_permanent_resident_card() {
        let mut b = blank();
        put(&mut b, 0, "SMITH JOHN");
        put(&mut b, 60, "1");
        put(&mut b, 61, "USA410085031512");
        put(&mut b, 76, "USA");
        put(&mut b, 79, "史密斯");
        put(&mut b, 94, "20180601");
        put(&mut b, 102, "20280601");
        put(&mut b, 110, "19850315");
        put(&mut b, 118, "20");
        put(&mut b, 120, "1500");
        put(&mut b, 124, "I");
        let id = decode_text(&b).unwrap();
        assert_eq!(id.card_type, CardType::ForeignPermanentResident);
        assert_eq!(id.name_en.as_deref(), Some("SMITH JOHN"));
        assert_eq!(id.name, "史密斯");
        assert_eq!(id.nation, None);
        assert_eq!(id.nationality.as_deref(), Some("USA"));
        assert_eq!(id.id_number, "USA410085031512");
        assert!(id.id_number_valid);
        assert_eq!(id.birth.to_string(), "1985-03-15");
        assert_eq!(id.card_version.as_deref(), Some("20"));
        assert_eq!(id.issuer, "1500");
        assert_eq!(id.valid_to.to_string(), "2028-06-01");
    }

    #[test]
    fn hk_macao_taiwan_permit_uses_the_reserved_area() {
        let mut b = zhang_wei();
        put(&mut b, 16, "  ");
        put(&mut b, 61, "810000199001010016");
        put(&mut b, 18, "19900101");
        put(&mut b, 110, "H12345678");
        put(&mut b, 119, "03");
        put(&mut b, 124, "J");
        let id = decode_text(&b).unwrap();
        assert_eq!(id.card_type, CardType::HkMacaoTaiwanPermit);
        assert_eq!(id.nation, None);
        assert_eq!(id.pass_number.as_deref(), Some("H12345678"));
        assert_eq!(id.issue_count, Some(3));
    }

    #[test]
    fn unknown_card_family_is_unsupported() {
        let mut b = zhang_wei();
        put(&mut b, 124, "Y");
        assert_eq!(decode_text(&b).unwrap_err().kind(), ErrorKind::Unsupported);
    }

    fn reply(words: &[u16], sizes: &[usize]) -> Vec<u8> {
        let mut d = Vec::new();
        for w in words {
            d.extend_from_slice(&w.to_be_bytes());
        }
        for (i, n) in sizes.iter().enumerate() {
            d.extend(std::iter::repeat_n(i as u8 + 1, *n));
        }
        d
    }

    #[test]
    fn read_reply_is_sized_on_the_length_words() {
        let b = split_read_reply(&reply(&[256, 1024], &[256, 1024]), false).unwrap();
        assert_eq!(
            (b.text.len(), b.photo.len(), b.fingerprint.is_none()),
            (256, 1024, true)
        );
        for fp in [1024usize, 512, 0] {
            let d = reply(&[256, 1024, fp as u16], &[256, 1024, fp]);
            // Frame size: header 7 + SW 3 + data + CHK 1.
            assert!([2321, 1809, 1297].contains(&(d.len() + 11)));
            let b = split_read_reply(&d, true).unwrap();
            assert_eq!(b.fingerprint.unwrap().len(), fp);
            assert!(b.photo.iter().all(|&x| x == 2));
        }
        // A reader answering 0x30 0x10 in the two-word layout.
        let b = split_read_reply(&reply(&[256, 1024], &[256, 1024]), true).unwrap();
        assert!(b.fingerprint.is_none());
        // Sizes that do not add up.
        let e = split_read_reply(&reply(&[256, 1024], &[256, 1000]), false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        let e = split_read_reply(&reply(&[200, 1024], &[200, 1024]), false).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert_eq!(
            split_read_reply(&[1], false).unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }
}
