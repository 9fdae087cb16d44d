//! Contact and contactless card readers (PC/SC): social-security cards and
//! bank cards. Insertion and removal arrive as
//! [`crate::DeviceEvent::CardLaid`] / [`crate::DeviceEvent::CardRemoved`].

use std::fmt;
use std::time::Instant;

use crate::Device;
use crate::error::DeviceError;

/// What a card reader read.
#[derive(Clone, PartialEq, Eq)]
pub enum CardData {
    /// 社会保障卡: social-security number, name, card number.
    SocialSecurity {
        ss_number: String,
        name: String,
        card_number: String,
    },
    /// Bank card; the PAN is masked at once by the driver (first 6, last 4).
    Bank { pan_masked: String, expiry: String },
}

impl fmt::Debug for CardData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardData::SocialSecurity { .. } => f.write_str("CardData::SocialSecurity(..)"),
            CardData::Bank { pan_masked, .. } => write!(f, "CardData::Bank({pan_masked})"),
        }
    }
}

/// A card reader.
pub trait CardReader: Device {
    /// Reads the inserted card.
    fn read_card(&mut self, deadline: Instant) -> Result<CardData, DeviceError>;
    /// Sends one APDU and returns the response (data + SW1 SW2).
    fn transmit(&mut self, apdu: &[u8], deadline: Instant) -> Result<Vec<u8>, DeviceError>;
}
