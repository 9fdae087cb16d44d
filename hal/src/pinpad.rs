//! PIN pads (密码键盘, encrypting PIN pad / EPP).
//!
//! The resident types the PIN on the pad; the pad itself builds the PIN
//! block and encrypts it with a working key (PIN key, TPK) that was loaded
//! encrypted under the pad's master key. The host only ever sees
//! * one [`PinKey`] per key press, digits masked ([`PinKey::Digit`] carries
//!   no value; a screen shows `*`), and
//! * the encrypted [`PinBlock`] (ISO 9564 format 0), which it forwards to
//!   the bank or the host security module.
//!
//! **The PIN never exists in clear outside the pad**: no type here can
//! hold it, and drivers never log key values or PIN blocks.
//!
//! Entry is polled, not evented: [`PinPad::start_pin_entry`], then
//! [`PinPad::poll_entry`] until [`PinEntryState::Complete`] (then
//! [`PinPad::read_pin_block`]) or [`PinEntryState::Cancelled`].
//! [`PinPad::cancel`] stops entry from the host side (time-out of the
//! screen, resident pressed "back" on the touch screen).

use std::fmt;
use std::time::{Duration, Instant};

use crate::Device;
use crate::actor::Handle;
use crate::error::DeviceError;

/// One key press, as the pad reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKey {
    /// A digit; which one is never told (the pad sends `*`).
    Digit,
    /// 更正 / Clear: the digits typed so far are dropped.
    Clear,
    /// 确认 / Enter.
    Enter,
    /// 取消 / Cancel: the resident gives up.
    Cancel,
    /// A key without meaning during PIN entry (function keys, `.`).
    Other,
}

/// PIN block format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinBlockFormat {
    /// ISO 9564-1 format 0 (ANSI X9.8): PIN field XOR the 12 rightmost
    /// PAN digits without the check digit.
    Iso0,
}

/// What the host asks the pad for.
#[derive(Clone, PartialEq, Eq)]
pub struct PinEntryRequest {
    /// Working-key set (0–7) whose PIN key encrypts the block.
    pub key_set: u8,
    /// Number of digits (4–12); entry completes by itself at this length.
    pub length: u8,
    /// The account number (PAN), digits only. Personal data: masked in
    /// `Debug`, never logged.
    pub pan: String,
    pub format: PinBlockFormat,
}

impl fmt::Debug for PinEntryRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinEntryRequest")
            .field("key_set", &self.key_set)
            .field("length", &self.length)
            .field("pan", &mask_pan(&self.pan))
            .field("format", &self.format)
            .finish()
    }
}

/// A PAN for logs: first 6 and last 4 digits, the rest `*`.
pub fn mask_pan(pan: &str) -> String {
    let n = pan.chars().count();
    if n <= 10 {
        return "*".repeat(n);
    }
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= n - 4 { c } else { '*' })
        .collect()
}

/// The 12 PAN digits a format-0 block uses: the rightmost 12 without the
/// check digit. `None` when the PAN has fewer than 13 digits or a
/// non-digit.
pub fn pan_digits_for_iso0(pan: &str) -> Option<&str> {
    if pan.len() < 13 || !pan.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pan.get(pan.len() - 13..pan.len() - 1)
}

/// The encrypted PIN block. Its `Debug` shows no bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct PinBlock {
    /// Ciphertext, 8 bytes for 3DES.
    pub block: Vec<u8>,
    pub format: PinBlockFormat,
    pub key_set: u8,
    /// Digits entered, as the pad reports.
    pub pin_length: u8,
}

impl fmt::Debug for PinBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinBlock")
            .field("block", &format_args!("<{} bytes>", self.block.len()))
            .field("format", &self.format)
            .field("key_set", &self.key_set)
            .field("pin_length", &self.pin_length)
            .finish()
    }
}

/// Where a PIN entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinEntryState {
    /// No entry running.
    Idle,
    /// Digits being typed; `entered` of them so far.
    Entering { entered: u8 },
    /// All digits typed; fetch the block with [`PinPad::read_pin_block`].
    Complete { entered: u8 },
    /// The resident pressed Cancel (the pad has stopped the entry).
    Cancelled,
}

/// What [`PinPad::poll_entry`] saw since the last call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinEntryProgress {
    pub keys: Vec<PinKey>,
    pub state: PinEntryState,
}

/// An encrypting PIN pad.
pub trait PinPad: Device {
    /// Loads the PIN working key of `key_set`, given encrypted under the
    /// pad's master key (as the key-management system issues it). Returns
    /// the key check value the pad computed, for the caller to compare
    /// with the one the key-management system gave.
    fn load_pin_key(
        &mut self,
        key_set: u8,
        key_under_master: &[u8],
        deadline: Instant,
    ) -> Result<Vec<u8>, DeviceError>;

    /// Opens the keypad for PIN entry.
    fn start_pin_entry(
        &mut self,
        request: &PinEntryRequest,
        deadline: Instant,
    ) -> Result<(), DeviceError>;

    /// Key presses since the last call and the state of the entry.
    fn poll_entry(&mut self, deadline: Instant) -> Result<PinEntryProgress, DeviceError>;

    /// The encrypted PIN block of a complete entry.
    fn read_pin_block(&mut self, deadline: Instant) -> Result<PinBlock, DeviceError>;

    /// Closes the keypad; a running entry is dropped inside the pad.
    fn cancel(&mut self, deadline: Instant) -> Result<(), DeviceError>;
}

/// Handle to a PIN pad.
pub type PinPadHandle = Handle<Box<dyn PinPad>>;

impl Handle<Box<dyn PinPad>> {
    /// Opens the keypad for PIN entry.
    pub async fn start_pin_entry(
        &self,
        request: PinEntryRequest,
        timeout: Duration,
    ) -> Result<(), DeviceError> {
        self.call(timeout, move |d, deadline| {
            d.start_pin_entry(&request, deadline)
        })
        .await
    }

    /// Key presses and state since the last call.
    pub async fn poll_entry(&self, timeout: Duration) -> Result<PinEntryProgress, DeviceError> {
        self.call(timeout, |d, deadline| d.poll_entry(deadline))
            .await
    }

    /// The encrypted PIN block.
    pub async fn read_pin_block(&self, timeout: Duration) -> Result<PinBlock, DeviceError> {
        self.call(timeout, |d, deadline| d.read_pin_block(deadline))
            .await
    }

    /// Closes the keypad.
    pub async fn cancel(&self, timeout: Duration) -> Result<(), DeviceError> {
        self.call(timeout, |d, deadline| d.cancel(deadline)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pan_is_masked_and_cut_for_format_0() {
        assert_eq!(mask_pan("6222020200112233445"), "622202*********3445");
        assert_eq!(mask_pan("1234"), "****");
        assert_eq!(
            pan_digits_for_iso0("4000001234562000"),
            Some("000123456200")
        );
        assert_eq!(pan_digits_for_iso0("123456789012"), None);
        assert_eq!(pan_digits_for_iso0("40000012345620X0"), None);
        let req = PinEntryRequest {
            key_set: 0,
            length: 6,
            pan: "6222020200112233445".into(),
            format: PinBlockFormat::Iso0,
        };
        assert!(!format!("{req:?}").contains("0200112233"));
        let b = PinBlock {
            block: vec![0xAB; 8],
            format: PinBlockFormat::Iso0,
            key_set: 0,
            pin_length: 6,
        };
        assert!(!format!("{b:?}").contains("AB") && !format!("{b:?}").contains("171"));
    }
}
