//! Contact and contactless card readers (PC/SC): social-security cards and
//! bank cards. Insertion and removal arrive as
//! [`crate::DeviceEvent::CardLaid`] / [`crate::DeviceEvent::CardRemoved`]
//! from [`crate::Device::poll`].
//!
//! What a caller may rely on:
//! * a bank card's full PAN never leaves the driver: [`CardData::Bank`]
//!   carries it masked (first 6, last 4) and the driver zeroes its buffers;
//! * a social-security card's personal fields are carried for the journey
//!   and zeroed on drop; `Debug` shows only the masked card number;
//! * a card pulled during a read fails with [`crate::ErrorKind::CardRead`],
//!   no card with [`crate::ErrorKind::NoCard`], a card whose application
//!   needs the regional PSAM with [`crate::ErrorKind::SecureModule`], and a
//!   card that is neither kind with [`crate::ErrorKind::Unsupported`];
//! * pcscd or the reader gone is [`crate::ErrorKind::Disconnected`] /
//!   [`crate::ErrorKind::NotFound`], and the actor reopens the reader.

use std::fmt;
use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// 社会保障卡 basic data (devices.md 6.2: EF05 card data, EF06 personal data).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SocialSecurityCard {
    /// 社会保障号码 (the holder's citizen ID number).
    pub ss_number: String,
    /// 姓名.
    pub name: String,
    /// 卡号.
    pub card_number: String,
    /// 发卡日期 `YYYY-MM-DD`, when the card holds it.
    pub issued: Option<String>,
    /// 有效期至 `YYYY-MM-DD`, when the card holds it.
    pub expires: Option<String>,
    /// 性别 as on the card (`男`/`女`), when present.
    pub sex: Option<String>,
}

impl SocialSecurityCard {
    /// Overwrites every personal field.
    pub fn wipe(&mut self) {
        for s in [&mut self.ss_number, &mut self.name, &mut self.card_number] {
            wipe_string(s);
        }
        for s in [&mut self.issued, &mut self.expires, &mut self.sex]
            .into_iter()
            .flatten()
        {
            wipe_string(s);
        }
    }
}

impl Drop for SocialSecurityCard {
    fn drop(&mut self) {
        self.wipe();
    }
}

fn wipe_string(s: &mut String) {
    // Safe zeroing: replace the bytes by NULs through a Vec, then clear.
    let mut bytes = std::mem::take(s).into_bytes();
    for b in bytes.iter_mut() {
        *b = 0;
    }
    std::hint::black_box(&bytes);
}

/// Masks a card number for display: first 6 and last 4 kept, every
/// character between them shown as `*`; a number of 10 characters or
/// fewer is masked whole. The working copy of the number is zeroed.
pub fn mask_card_number(number: &str) -> String {
    let mut chars: Vec<char> = number.chars().collect();
    let n = chars.len();
    let masked = if n <= 10 {
        "*".repeat(n)
    } else {
        let head: String = chars.iter().take(6).collect();
        let tail: String = chars.iter().skip(n - 4).collect();
        format!("{head}{}{tail}", "*".repeat(n - 10))
    };
    for c in chars.iter_mut() {
        *c = '\0';
    }
    std::hint::black_box(&chars);
    masked
}

/// What a card reader read.
#[derive(Clone, PartialEq, Eq)]
pub enum CardData {
    /// 社会保障卡.
    SocialSecurity(SocialSecurityCard),
    /// Bank card; the PAN is masked at once by the driver (first 6, last 4).
    Bank {
        pan_masked: String,
        /// `YYYY-MM`.
        expiry: String,
        /// The application chosen (for example `A000000333010101`, UnionPay debit).
        aid: String,
    },
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardData::SocialSecurity(c) => {
                write!(
                    f,
                    "CardData::SocialSecurity({})",
                    mask_card_number(&c.card_number)
                )
            }
            CardData::Bank { pan_masked, .. } => write!(f, "CardData::Bank({pan_masked})"),
        }
    }
}

/// A card reader.
pub trait CardReader: Device {
    /// Whether a card is in the reader now (asks the reader; does not
    /// touch the card).
    fn card_present(&mut self, deadline: Instant) -> Result<bool, DeviceError>;

    /// Reads the inserted card: a social-security card's basic data, or a
    /// bank card's masked PAN and expiry. The social-security application
    /// is tried first, then the payment directory (PPSE, then PSE).
    ///
    /// Errors: [`crate::ErrorKind::NoCard`] with no card in the slot,
    /// [`crate::ErrorKind::CardRead`] when the card is pulled during the
    /// read, [`crate::ErrorKind::SecureModule`] when the personal data
    /// needs the regional PSAM (`69 82`), [`crate::ErrorKind::Unsupported`]
    /// for a card with neither application, [`crate::ErrorKind::Protocol`]
    /// for any other status word or malformed data (the status word is the
    /// error's device code), [`crate::ErrorKind::Timeout`] when `deadline`
    /// passes between two commands, and [`crate::ErrorKind::Disconnected`] /
    /// [`crate::ErrorKind::NotFound`] when pcscd or the reader is gone.
    fn read_card(&mut self, deadline: Instant) -> Result<CardData, DeviceError>;

    /// Sends one command APDU to the inserted card and returns the
    /// response APDU (data + SW1 SW2), for diagnostics (`kioskctl`, the
    /// self-test). Commands that return cardholder data (`READ RECORD`,
    /// `READ BINARY`, `GET PROCESSING OPTIONS`, `GET DATA`) are refused
    /// with [`crate::ErrorKind::Unsupported`], so a full PAN cannot leave
    /// the driver this way either. No card is [`crate::ErrorKind::NoCard`],
    /// a card pulled during the command [`crate::ErrorKind::CardRead`].
    fn transmit(&mut self, apdu: &[u8], deadline: Instant) -> Result<Vec<u8>, DeviceError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_masked_and_debug_never_shows_personal_data() {
        assert_eq!(
            mask_card_number("6228480012345678901"),
            "622848*********8901"
        );
        assert_eq!(mask_card_number("1234"), "****");
        let card = CardData::SocialSecurity(SocialSecurityCard {
            ss_number: "410403198503150013".into(),
            name: "张伟".into(),
            card_number: "D41040300001".into(),
            issued: None,
            expires: None,
            sex: None,
        });
        let dbg = format!("{card:?}");
        assert!(
            !dbg.contains("张伟")
                && !dbg.contains("410403198503150013")
                && !dbg.contains("D41040300001")
        );
    }

    #[test]
    fn wipe_clears_every_field() {
        let mut c = SocialSecurityCard {
            ss_number: "410403198503150013".into(),
            name: "张伟".into(),
            card_number: "D41040300001".into(),
            issued: Some("2020-01-01".into()),
            expires: None,
            sex: Some("男".into()),
        };
        c.wipe();
        assert!(c.ss_number.is_empty() && c.name.is_empty() && c.card_number.is_empty());
        assert_eq!(c.issued.as_deref(), Some(""));
    }
}
