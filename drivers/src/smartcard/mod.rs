//! Contact and contactless card readers through PC/SC (pcscd, `pcsc`
//! crate): the social-security card's basic application and a bank card's
//! PAN and expiry (devices.md 6.2, 6.3).
//!
//! Selector: `pcsc:` (the first reader pcscd knows) or `pcsc:NAME-PART`.
//!
//! * Social-security card: `SELECT` the SSSE application by DF name,
//!   `READ RECORD` EF05 records 05–07 by SFI 5, `SELECT EF06` and its
//!   records 08 (社会保障号码), 09 (name, GBK), 0A (sex). `69 82` on EF06
//!   means the card wants the regional PSAM: [`ErrorKind::SecureModule`].
//! * Bank card: `SELECT` PPSE (then PSE), the UnionPay AID (else the
//!   first), `GET PROCESSING OPTIONS` with zeros for the PDOL, `READ
//!   RECORD` per AFL; PAN from `5A` (or `57`), expiry from `5F24`. The PAN
//!   is masked before it leaves this module and its buffers are zeroed.
//! * Insertion and removal come from `SCardGetStatusChange` in
//!   [`Device::poll`]; pcscd's insertion/removal counter also reveals a
//!   card swapped between two polls (`CardRemoved` then `CardLaid`).
//! * Deadlines: checked before every APDU. One APDU in flight is bounded
//!   by pcscd and the reader driver, not by us: PC/SC offers no way to
//!   abandon a `SCardTransmit`.
//! * The diagnostic [`CardReader::transmit`] refuses the instructions
//!   whose answers carry cardholder data (READ BINARY/RECORD, GPO, GET
//!   DATA), so the full PAN cannot leave the driver that way either.
//! * Errors: status words other than `90 00` become
//!   [`ErrorKind::Protocol`] with the SW as device code (`6A 82` on the
//!   first SELECT means "not this application" and the next is tried);
//!   `69 82`/`69 83` is [`ErrorKind::SecureModule`]; a card pulled
//!   mid-read (empty answer, `SCARD_W_REMOVED_CARD`) is
//!   [`ErrorKind::CardRead`]; pcscd down is [`ErrorKind::Disconnected`],
//!   the reader gone [`ErrorKind::NotFound`].

use std::ffi::CString;
use std::time::{Duration, Instant};

use hal::card::{CardData, CardReader, SocialSecurityCard, mask_card_number};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};
use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};

const SSSE: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];
const PPSE: &[u8] = b"2PAY.SYS.DDF01";
const PSE: &[u8] = b"1PAY.SYS.DDF01";
const UNIONPAY_PREFIX: [u8; 5] = [0xA0, 0x00, 0x00, 0x03, 0x33];
/// Instructions the diagnostic [`CardReader::transmit`] refuses because
/// their answers carry cardholder data (a PAN, a name): READ BINARY,
/// READ RECORD, GET PROCESSING OPTIONS, GET DATA.
const CARDHOLDER_DATA_INS: [u8; 5] = [0xB0, 0xB2, 0xA8, 0xCA, 0xCB];

/// Maps a PC/SC error to a hal error.
fn pcsc_error(e: pcsc::Error, what: &str) -> DeviceError {
    use pcsc::Error as E;
    let kind = match e {
        E::NoSmartcard => ErrorKind::NoCard,
        E::RemovedCard | E::ResetCard | E::UnpoweredCard | E::UnresponsiveCard => {
            ErrorKind::CardRead
        }
        E::NoService | E::ServiceStopped => ErrorKind::Disconnected,
        E::NoReadersAvailable | E::UnknownReader | E::ReaderUnavailable => ErrorKind::NotFound,
        E::Timeout => ErrorKind::Timeout,
        E::SharingViolation => ErrorKind::Busy,
        _ => ErrorKind::Protocol,
    };
    DeviceError::new(kind, format!("{what}: {e}")).with_source(e)
}

/// One BER-TLV element, borrowed from the response it was found in (so
/// no copy of a PAN is made that the caller could not zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: &'a [u8],
    pub value: &'a [u8],
}

/// Parses one level of BER-TLV (constructed values are left as they are;
/// see [`find_tag`]). Skips `00`/`FF` padding between elements, reads
/// one- and multi-byte tags and the length forms `0x00..0x7F`, `81 nn`
/// and `82 nn nn`, and stops at the first malformed or truncated element.
pub fn parse_tlv(mut b: &[u8]) -> Vec<Tlv<'_>> {
    let mut out = Vec::new();
    while let Some(&first) = b.first() {
        if first == 0x00 || first == 0xFF {
            b = b.get(1..).unwrap_or_default();
            continue;
        }
        let mut tag_len = 1;
        if first & 0x1F == 0x1F {
            while b.get(tag_len).is_some_and(|t| t & 0x80 != 0) {
                tag_len += 1;
            }
            tag_len += 1;
        }
        let Some(tag) = b.get(..tag_len) else { break };
        let Some(&l0) = b.get(tag_len) else { break };
        let (len, hdr) = match l0 {
            0x00..=0x7F => (usize::from(l0), tag_len + 1),
            0x81 => match b.get(tag_len + 1) {
                Some(&l) => (usize::from(l), tag_len + 2),
                None => break,
            },
            0x82 => match (b.get(tag_len + 1), b.get(tag_len + 2)) {
                (Some(&h), Some(&l)) => (usize::from(h) << 8 | usize::from(l), tag_len + 3),
                _ => break,
            },
            _ => break,
        };
        let Some(value) = b.get(hdr..hdr + len) else {
            break;
        };
        out.push(Tlv { tag, value });
        b = b.get(hdr + len..).unwrap_or_default();
    }
    out
}

/// Finds the first `tag` in a TLV tree, depth first, descending into
/// constructed tags (bit 6 of the first tag byte set).
pub fn find_tag<'a>(b: &'a [u8], tag: &[u8]) -> Option<&'a [u8]> {
    for t in parse_tlv(b) {
        if t.tag == tag {
            return Some(t.value);
        }
        let constructed = t.tag.first().is_some_and(|f| f & 0x20 != 0);
        if constructed && let Some(v) = find_tag(t.value, tag) {
            return Some(v);
        }
    }
    None
}

/// All values of `tag` in a TLV tree.
fn find_all<'a>(b: &'a [u8], tag: &[u8], out: &mut Vec<&'a [u8]>) {
    for t in parse_tlv(b) {
        if t.tag == tag {
            out.push(t.value);
        } else if t.tag.first().is_some_and(|f| f & 0x20 != 0) {
            find_all(t.value, tag, out);
        }
    }
}

/// Digits of a BCD field, stopping at the `F` pad.
fn bcd_digits(b: &[u8]) -> String {
    let mut s = String::new();
    for byte in b {
        for nib in [byte >> 4, byte & 0x0F] {
            if nib > 9 {
                return s;
            }
            s.push(char::from(b'0' + nib));
        }
    }
    s
}

/// Luhn check of a card number.
pub fn luhn_ok(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != number.len() || digits.len() < 12 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn zero(v: &mut [u8]) {
    for b in v.iter_mut() {
        *b = 0;
    }
    std::hint::black_box(v);
}

/// A PC/SC reader.
pub struct PcscReader {
    ctx: Context,
    reader: CString,
    present: Option<bool>,
    /// pcscd's insertion/removal counter at the last poll (the high 16
    /// bits of the reader's event state), to notice a card swapped
    /// between two polls.
    changes: Option<u32>,
    health: Health,
}

impl PcscReader {
    /// Opens the reader named by `pcsc:[NAME-PART]`.
    pub fn open(selector: &Selector) -> Result<PcscReader, DeviceError> {
        let Selector::Pcsc { reader } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("PC/SC reader needs a pcsc: selector, not {selector}"),
            ));
        };
        let ctx =
            Context::establish(Scope::User).map_err(|e| pcsc_error(e, "connecting to pcscd"))?;
        let readers = ctx
            .list_readers_owned()
            .map_err(|e| pcsc_error(e, "listing readers"))?;
        let chosen = readers
            .into_iter()
            .find(|r| {
                reader
                    .as_deref()
                    .is_none_or(|part| r.to_string_lossy().contains(part))
            })
            .ok_or_else(|| {
                DeviceError::new(
                    ErrorKind::NotFound,
                    format!(
                        "no PC/SC reader matching {:?}",
                        reader.as_deref().unwrap_or("")
                    ),
                )
            })?;
        let mut health = Health::ok();
        for c in ["reads", "read_errors", "cards_inserted"] {
            health.counters.insert(c.to_string(), 0);
        }
        tracing::debug!(reader = %chosen.to_string_lossy(), "PC/SC reader opened");
        Ok(PcscReader {
            ctx,
            reader: chosen,
            present: None,
            changes: None,
            health,
        })
    }

    /// The reader's name as pcscd gives it.
    pub fn reader_name(&self) -> String {
        self.reader.to_string_lossy().into_owned()
    }

    fn connect(&self) -> Result<pcsc::Card, DeviceError> {
        self.ctx
            .connect(&self.reader, ShareMode::Shared, Protocols::ANY)
            .map_err(|e| pcsc_error(e, "connecting to the card"))
    }

    fn gone(&mut self, e: &DeviceError) {
        if matches!(e.kind(), ErrorKind::Disconnected | ErrorKind::NotFound) {
            self.health.set(
                HealthState::Offline,
                Some(e.kind().code()),
                e.kind().message_zh(),
                e.kind().message_en(),
            );
        }
    }
}

/// Sends one APDU; returns (data, SW).
fn apdu(card: &pcsc::Card, cmd: &[u8], deadline: Instant) -> Result<(Vec<u8>, u16), DeviceError> {
    if Instant::now() >= deadline {
        return Err(DeviceError::new(
            ErrorKind::Timeout,
            "deadline passed between APDUs",
        ));
    }
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE];
    let resp = card
        .transmit(cmd, &mut buf)
        .map_err(|e| pcsc_error(e, "APDU"))?;
    let n = resp.len();
    if n == 0 {
        // The reader gave nothing back: the card left the field or the
        // slot in the middle of the command.
        return Err(DeviceError::new(
            ErrorKind::CardRead,
            "no answer from the card (taken out during the read?)",
        ));
    }
    if n < 2 {
        zero(&mut buf);
        return Err(DeviceError::new(
            ErrorKind::Protocol,
            "response shorter than a status word",
        ));
    }
    let sw = u16::from(resp.get(n - 2).copied().unwrap_or(0)) << 8
        | u16::from(resp.get(n - 1).copied().unwrap_or(0));
    let data = resp.get(..n - 2).unwrap_or_default().to_vec();
    zero(&mut buf);
    Ok((data, sw))
}

fn select_name(name: &[u8]) -> Vec<u8> {
    let mut c = vec![0x00, 0xA4, 0x04, 0x00, name.len() as u8];
    c.extend_from_slice(name);
    c.push(0x00);
    c
}

/// The total data length a DOL (tag, length pairs; no values) asks for.
fn dol_length(dol: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some(&first) = dol.get(i) {
        i += 1;
        if first & 0x1F == 0x1F {
            // Multi-byte tag: continuation bytes have bit 8 set.
            while dol.get(i).is_some_and(|b| b & 0x80 != 0) {
                i += 1;
            }
            i += 1;
        }
        let Some(&len) = dol.get(i) else { break };
        n += usize::from(len);
        i += 1;
    }
    n
}

/// `GET PROCESSING OPTIONS` with the PDOL data as zeros of the asked
/// length (no amount, no terminal data: we only identify the card).
fn gpo_command(pdol_len: usize) -> Result<Vec<u8>, DeviceError> {
    let (Ok(inner), Ok(lc)) = (u8::try_from(pdol_len), u8::try_from(pdol_len + 2)) else {
        return Err(DeviceError::protocol(format!(
            "the card's PDOL asks for {pdol_len} bytes"
        )));
    };
    let mut gpo = vec![0x80, 0xA8, 0x00, 0x00, lc, 0x83, inner];
    gpo.extend(std::iter::repeat_n(0u8, pdol_len));
    gpo.push(0x00);
    Ok(gpo)
}

fn read_ssc(
    card: &pcsc::Card,
    deadline: Instant,
) -> Result<Option<SocialSecurityCard>, DeviceError> {
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, SSSE.len() as u8];
    select.extend_from_slice(&SSSE);
    let (_, sw) = apdu(card, &select, deadline)?;
    if sw != 0x9000 {
        return Ok(None);
    }
    let record = |rec: u8, p2: u8, deadline: Instant| -> Result<Option<Vec<u8>>, DeviceError> {
        let (data, sw) = apdu(card, &[0x00, 0xB2, rec, p2, 0x00], deadline)?;
        match sw {
            0x9000 => {
                let value = find_tag(&data, &[rec]).map(<[u8]>::to_vec);
                let mut data = data;
                zero(&mut data);
                Ok(value)
            }
            0x6982 | 0x6983 => Err(DeviceError::new(
                ErrorKind::SecureModule,
                "the card's personal data needs the regional PSAM (69 82)",
            )
            .with_device_code(u32::from(sw))),
            0x6A82 | 0x6A83 => Ok(None),
            _ => Err(DeviceError::new(
                ErrorKind::Protocol,
                format!("READ RECORD {rec:02X}: SW {sw:04X}"),
            )
            .with_device_code(u32::from(sw))),
        }
    };
    let date = |v: Option<Vec<u8>>| {
        v.map(|b| bcd_digits(&b))
            .filter(|d| d.len() == 8)
            .map(|d| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]))
    };
    let card_number = record(0x07, 0x2C, deadline)?
        .map(|v| String::from_utf8_lossy(&v).trim().to_string())
        .ok_or_else(|| DeviceError::new(ErrorKind::Protocol, "no card number (EF05 record 07)"))?;
    let issued = date(record(0x05, 0x2C, deadline)?);
    let expires = date(record(0x06, 0x2C, deadline)?);
    let (_, sw) = apdu(card, &[0x00, 0xA4, 0x02, 0x00, 0x02, 0xEF, 0x06], deadline)?;
    if sw != 0x9000 {
        return Err(DeviceError::new(
            ErrorKind::Protocol,
            format!("SELECT EF06: SW {sw:04X}"),
        ));
    }
    let ss_number = record(0x08, 0x04, deadline)?
        .map(|v| String::from_utf8_lossy(&v).trim().to_string())
        .ok_or_else(|| {
            DeviceError::new(
                ErrorKind::Protocol,
                "no social-security number (EF06 record 08)",
            )
        })?;
    let name = record(0x09, 0x04, deadline)?
        .map(|mut v| {
            let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
            let s = encoding_rs::GBK
                .decode_without_bom_handling(v.get(..end).unwrap_or_default())
                .0
                .trim()
                .to_string();
            zero(&mut v);
            s
        })
        .unwrap_or_default();
    let sex = record(0x0A, 0x04, deadline)?.and_then(|v| match v.first() {
        Some(b'1') => Some("男".to_string()),
        Some(b'2') => Some("女".to_string()),
        _ => None,
    });
    Ok(Some(SocialSecurityCard {
        ss_number,
        name,
        card_number,
        issued,
        expires,
        sex,
    }))
}

fn read_bank(card: &pcsc::Card, deadline: Instant) -> Result<Option<CardData>, DeviceError> {
    let mut fci = None;
    for dir in [PPSE, PSE] {
        let (data, sw) = apdu(card, &select_name(dir), deadline)?;
        if sw == 0x9000 {
            fci = Some(data);
            break;
        }
    }
    let Some(fci) = fci else { return Ok(None) };
    let mut aids = Vec::new();
    find_all(&fci, &[0x4F], &mut aids);
    let aid = aids
        .iter()
        .find(|a| a.starts_with(&UNIONPAY_PREFIX))
        .or_else(|| aids.first())
        .map(|a| a.to_vec())
        .ok_or_else(|| {
            DeviceError::new(
                ErrorKind::Unsupported,
                "the card lists no payment application",
            )
        })?;
    let (afci, sw) = apdu(card, &select_name(&aid), deadline)?;
    if sw != 0x9000 {
        return Err(DeviceError::new(
            ErrorKind::Protocol,
            format!("SELECT AID: SW {sw:04X}"),
        ));
    }
    let pdol_len = find_tag(&afci, &[0x9F, 0x38]).map_or(0, dol_length);
    let gpo = gpo_command(pdol_len)?;
    let (resp, sw) = apdu(card, &gpo, deadline)?;
    if sw != 0x9000 {
        return Err(DeviceError::new(
            ErrorKind::Protocol,
            format!("GET PROCESSING OPTIONS: SW {sw:04X}"),
        ));
    }
    let afl: Vec<u8> = match find_tag(&resp, &[0x94]) {
        Some(afl) => afl.to_vec(),
        // Format 1: 80 [AIP(2) AFL...]
        None => find_tag(&resp, &[0x80])
            .and_then(|v| v.get(2..).map(<[u8]>::to_vec))
            .unwrap_or_default(),
    };
    let (mut pan, mut expiry) = (None::<String>, None::<String>);
    for entry in afl.chunks(4) {
        let (Some(&sfi), Some(&first), Some(&last)) = (entry.first(), entry.get(1), entry.get(2))
        else {
            continue;
        };
        for rec in first..=last {
            let (mut data, sw) = apdu(
                card,
                &[0x00, 0xB2, rec, (sfi & 0xF8) | 0x04, 0x00],
                deadline,
            )?;
            if sw == 0x9000 {
                if pan.is_none() {
                    pan = find_tag(&data, &[0x5A]).map(bcd_digits).or_else(|| {
                        find_tag(&data, &[0x57]).map(|v| {
                            let d: String = v
                                .iter()
                                .flat_map(|b| [b >> 4, b & 0x0F])
                                .take_while(|&n| n <= 9)
                                .map(|n| char::from(b'0' + n))
                                .collect();
                            d
                        })
                    });
                }
                if expiry.is_none() {
                    expiry = find_tag(&data, &[0x5F, 0x24])
                        .map(bcd_digits)
                        .filter(|d| d.len() >= 4)
                        .map(|d| format!("20{}-{}", &d[..2], &d[2..4]));
                }
            }
            zero(&mut data);
        }
    }
    let mut pan =
        pan.ok_or_else(|| DeviceError::new(ErrorKind::Protocol, "the card gave no PAN"))?;
    if !luhn_ok(&pan) {
        tracing::warn!(pan = %mask_card_number(&pan), "PAN fails the Luhn check");
    }
    let masked = mask_card_number(&pan);
    // The full PAN is overwritten before it goes out of scope.
    let mut bytes = std::mem::take(&mut pan).into_bytes();
    zero(&mut bytes);
    let aid_hex: String = aid.iter().map(|b| format!("{b:02X}")).collect();
    Ok(Some(CardData::Bank {
        pan_masked: masked,
        expiry: expiry.unwrap_or_default(),
        aid: aid_hex,
    }))
}

impl Device for PcscReader {
    fn kind(&self) -> DeviceKind {
        DeviceKind::CardReader
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    fn poll(&mut self, _deadline: Instant) -> Vec<DeviceEvent> {
        let mut states = [ReaderState::new(self.reader.clone(), State::UNAWARE)];
        if let Err(e) = self
            .ctx
            .get_status_change(Duration::from_millis(0), &mut states)
        {
            if e != pcsc::Error::Timeout {
                let err = pcsc_error(e, "reader status");
                self.gone(&err);
            }
            return Vec::new();
        }
        let Some((st, changes)) = states.first().map(|s| (s.event_state(), s.event_count())) else {
            return Vec::new();
        };
        if st.intersects(State::UNKNOWN | State::UNAVAILABLE) {
            let err = DeviceError::new(ErrorKind::NotFound, "reader unavailable");
            self.gone(&err);
            return Vec::new();
        }
        if self.health.state == HealthState::Offline {
            self.health.set(HealthState::Ok, None, "正常", "OK");
        }
        let present = st.contains(State::PRESENT);
        let before = self.present.replace(present);
        let swapped = self.changes.replace(changes).is_some_and(|c| c != changes);
        match (before, present) {
            (Some(false) | None, true) => {
                self.health.bump("cards_inserted");
                vec![DeviceEvent::CardLaid]
            }
            (Some(true), false) => vec![DeviceEvent::CardRemoved],
            // Taken out and another put in since the last poll.
            (Some(true), true) if swapped => {
                self.health.bump("cards_inserted");
                vec![DeviceEvent::CardRemoved, DeviceEvent::CardLaid]
            }
            _ => Vec::new(),
        }
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_millis(250)
    }

    fn self_test(&mut self, _deadline: Instant) -> Result<Health, DeviceError> {
        let readers = self.ctx.list_readers_owned().map_err(|e| {
            let err = pcsc_error(e, "listing readers");
            self.gone(&err);
            err
        })?;
        if !readers.contains(&self.reader) {
            let err = DeviceError::new(ErrorKind::NotFound, "the reader is gone");
            self.gone(&err);
            return Err(err);
        }
        self.health.set(HealthState::Ok, None, "正常", "OK");
        self.health.last_self_test = Some(std::time::SystemTime::now());
        Ok(self.health.clone())
    }
}

impl CardReader for PcscReader {
    fn card_present(&mut self, _deadline: Instant) -> Result<bool, DeviceError> {
        let mut states = [ReaderState::new(self.reader.clone(), State::UNAWARE)];
        self.ctx
            .get_status_change(Duration::from_millis(0), &mut states)
            .map_err(|e| pcsc_error(e, "reader status"))?;
        Ok(states
            .first()
            .is_some_and(|s| s.event_state().contains(State::PRESENT)))
    }

    fn read_card(&mut self, deadline: Instant) -> Result<CardData, DeviceError> {
        let result = (|| {
            let card = self.connect()?;
            if let Some(ssc) = read_ssc(&card, deadline)? {
                return Ok(CardData::SocialSecurity(ssc));
            }
            if let Some(bank) = read_bank(&card, deadline)? {
                return Ok(bank);
            }
            Err(DeviceError::new(
                ErrorKind::Unsupported,
                "neither a social-security card nor a bank card",
            ))
        })();
        match &result {
            Ok(_) => self.health.bump("reads"),
            Err(e) => {
                self.health.bump("read_errors");
                self.gone(e);
            }
        }
        result
    }

    fn transmit(&mut self, cmd: &[u8], deadline: Instant) -> Result<Vec<u8>, DeviceError> {
        if cmd.len() < 4 {
            return Err(DeviceError::new(
                ErrorKind::Config,
                "a command APDU has at least CLA INS P1 P2",
            ));
        }
        if let Some(&ins) = cmd.get(1)
            && CARDHOLDER_DATA_INS.contains(&ins)
        {
            return Err(DeviceError::new(
                ErrorKind::Unsupported,
                format!("INS {ins:02X} returns cardholder data; use read_card"),
            ));
        }
        let card = self.connect()?;
        let (mut data, sw) = apdu(&card, cmd, deadline)?;
        data.extend_from_slice(&sw.to_be_bytes());
        Ok(data)
    }
}

/// The user-facing text of a card error, in Chinese.
pub fn card_error_zh(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Unsupported => "无法识别的卡片，请插入社会保障卡或银行卡",
        ErrorKind::SecureModule => "读取个人信息需要安全模块（PSAM），请联系工作人员",
        other => other.message_zh(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn tlv_trees_are_searched_and_malformed_input_stops_cleanly() {
        let fci = [
            0x6F, 0x0C, 0xA5, 0x0A, 0xBF, 0x0C, 0x07, 0x61, 0x05, 0x4F, 0x03, 0xA0, 0x00, 0x03,
        ];
        assert_eq!(find_tag(&fci, &[0x4F]), Some(&[0xA0, 0x00, 0x03][..]));
        assert_eq!(find_tag(&fci, &[0x5A]), None);
        assert_eq!(
            find_tag(&[0x5F, 0x24, 0x03, 0x30, 0x12, 0x31], &[0x5F, 0x24]),
            Some(&[0x30, 0x12, 0x31][..])
        );
        // Padding between elements, and the 81 / 82 length forms.
        let mut long = vec![0x00, 0xFF, 0x70, 0x81, 0x83, 0x5A, 0x81, 0x80];
        long.extend(std::iter::repeat_n(0x11, 0x80));
        assert_eq!(find_tag(&long, &[0x5A]).map(<[u8]>::len), Some(0x80));
        let mut longer = vec![0x50, 0x82, 0x01, 0x00];
        longer.extend(std::iter::repeat_n(0x41, 0x100));
        assert_eq!(parse_tlv(&longer)[0].value.len(), 0x100);
        // A three-byte tag.
        assert_eq!(
            parse_tlv(&[0xDF, 0x81, 0x01, 0x01, 0x07])[0].tag,
            &[0xDF, 0x81, 0x01][..]
        );
        // Truncated or malformed: what came before is kept, nothing after.
        assert!(
            parse_tlv(&[0x5A, 0x20, 0x01]).is_empty(),
            "length beyond the data"
        );
        assert!(parse_tlv(&[0x9F]).is_empty());
        assert!(
            parse_tlv(&[0x5A, 0x84, 0, 0, 0, 1, 0]).is_empty(),
            "4-byte length"
        );
        let two = parse_tlv(&[0x50, 0x01, 0x41, 0x5A, 0x09, 0x01]);
        assert_eq!(two.len(), 1);
    }

    #[test]
    fn the_pdol_is_answered_with_zeros_of_its_length() {
        // 9F66 (4), 9F02 (6), 9F37 (4), 5F2A (2), 95 (5), DF8101 (3).
        let pdol = [
            0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x37, 0x04, 0x5F, 0x2A, 0x02, 0x95, 0x05,
            0xDF, 0x81, 0x01, 0x03,
        ];
        assert_eq!(dol_length(&pdol), 24);
        assert_eq!(dol_length(&[]), 0);
        assert_eq!(dol_length(&[0x9F, 0x66]), 0, "truncated");
        let gpo = gpo_command(4).unwrap();
        assert_eq!(
            gpo,
            [0x80, 0xA8, 0x00, 0x00, 0x06, 0x83, 0x04, 0, 0, 0, 0, 0x00]
        );
        assert_eq!(
            gpo_command(0).unwrap(),
            [0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00]
        );
        assert_eq!(gpo_command(300).unwrap_err().kind(), ErrorKind::Protocol);
    }

    #[test]
    fn bcd_luhn_and_masking() {
        assert_eq!(bcd_digits(&[0x62, 0x28, 0x48, 0x1F]), "6228481");
        assert_eq!(bcd_digits(&[0x30, 0x12, 0x31]), "301231");
        assert!(luhn_ok("4111111111111111"));
        assert!(luhn_ok("6228480402564890018"));
        assert!(!luhn_ok("4111111111111112"));
        assert!(!luhn_ok("41111x1111111111"));
        assert!(!luhn_ok("0"), "too short to be a PAN");
        assert_eq!(
            mask_card_number("6228480402564890018"),
            "622848*********0018"
        );
        assert_eq!(mask_card_number("4111111111111111"), "411111******1111");
    }

    #[test]
    fn pcsc_errors_map_to_what_a_person_can_fix() {
        use pcsc::Error as E;
        for (e, kind) in [
            (E::NoSmartcard, ErrorKind::NoCard),
            (E::RemovedCard, ErrorKind::CardRead),
            (E::ResetCard, ErrorKind::CardRead),
            (E::NoService, ErrorKind::Disconnected),
            (E::ServiceStopped, ErrorKind::Disconnected),
            (E::NoReadersAvailable, ErrorKind::NotFound),
            (E::UnknownReader, ErrorKind::NotFound),
            (E::Timeout, ErrorKind::Timeout),
            (E::SharingViolation, ErrorKind::Busy),
            (E::CommError, ErrorKind::Protocol),
        ] {
            assert_eq!(pcsc_error(e, "x").kind(), kind, "{e:?}");
        }
    }
}
