//! Simulated encrypting PIN pad (密码键盘) on a pseudo-terminal.
//!
//! ## Which protocol, and how sure we are
//!
//! No vendor protocol document for a Chinese EPP could be found in public
//! material. What is public is an open-source kiosk driver for the
//! Shenzhen Zhengtong (证通, SZZT) **ZT588** pad (`smartkiosk/smartware`,
//! Ruby: `drivers/common/szzt_connection.rb`, `drivers/pin_pad/zt588.rb`).
//! This simulator implements the subset that driver shows, from the pad's
//! side; where the driver leaves something open, the choice made here is
//! marked **(ours)**. It is therefore "ZT588-style", not a verified clone.
//!
//! Frame, both directions: `STX LLL TEXT ETX CC` where `LLL` is the text
//! length as three ASCII decimal digits, `CC` the XOR of the bytes from
//! `LLL` through `ETX` as two upper-case hex digits. Key presses are single
//! bytes outside frames, from the scancode table the host loads.
//!
//! | command text | meaning | reply text |
//! | --- | --- | --- |
//! | `3` | user information | status + 146 bytes (user info 50, scancodes 48 hex, settings 20 hex, function code 8, model 6, hw 3, sw 3, date 4, serial 4) |
//! | `4` + hex(24 scancodes) | load the scancode table | status |
//! | `5` + param + hex(value) | control: `50`+hex(`2`/`3`) input off/on, `53`+hex(mask) PIN echo character | status |
//! | `2` + `UUKKTL` + hex(key) | load key KK (hex) encrypted under UU, type T, length L (1/2/3 × 8 bytes) | status + hex(check value) |
//! | `6` + `KKF0LL` + PAN12 | start PIN entry with PIN key KK, format F (`' '` = ISO 9564-0), LL digits | status |
//! | `7` | PIN value | status + track(2) + length(2) + hex(block) |
//!
//! Status: `0xE0`–`0xEF` are errors (the driver's table: E4 key not
//! found, E9 incorrect data, EB incorrect parameter, EE input timed out,
//! …); success is `'0'` **(ours)**, the public driver accepts any other
//! byte. The key check value is the first 4 bytes of the key encrypting
//! 8 zero bytes **(ours)**. During PIN entry each digit is echoed as the
//! mask character, Clear as `\b` (entry restarts), Cancel as ESC (entry
//! ends), Enter as CR; entry completes by itself at the requested length.
//! Master keys (TMK) are loaded at commissioning with the vendor's tool
//! and authentication (`:`) is not simulated: the simulator starts with a
//! configured TMK at index 00.
//!
//! The PIN exists in clear only inside [`State`] here, is never logged,
//! never in [`PinPadSimState`], and is wiped when the block is built,
//! on Clear, on Cancel and on drop.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, bail};
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{TdesEde2, TdesEde3};
use serde::{Deserialize, Serialize};

use crate::pty::LinkedPty;

const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const OK: u8 = b'0';

/// A one-shot fault for the next reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadFault {
    /// The reply's checksum is wrong.
    BadChecksum,
    /// The next command gets no reply.
    Silence,
}

/// What the control API shows (never a PIN, a key or a PAN).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinPadSimState {
    pub unplugged: bool,
    pub input_enabled: bool,
    /// PIN entry running: digits typed so far of how many.
    pub entering: Option<(u8, u8)>,
    pub complete: bool,
    /// Key indices loaded (hex), e.g. `["00", "40"]`.
    pub keys_loaded: Vec<String>,
    pub pin_blocks_issued: u64,
    pub mask: String,
    pub path: String,
}

struct Entry {
    key_index: u8,
    length: u8,
    pan12: Vec<u8>,
    digits: Vec<u8>,
}

impl Entry {
    fn wipe(&mut self) {
        self.digits.iter_mut().for_each(|d| *d = 0);
        self.digits.clear();
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.wipe();
    }
}

struct State {
    pty: LinkedPty,
    keys: std::collections::BTreeMap<u8, Vec<u8>>,
    mask: u8,
    input_enabled: bool,
    entry: Option<Entry>,
    complete: bool,
    blocks: u64,
    faults: Vec<PadFault>,
    rx: Vec<u8>,
    stop: bool,
}

struct Inner {
    state: Mutex<State>,
    thread: Mutex<Option<JoinHandle<()>>>,
    link: PathBuf,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let mut st = self.lock();
        st.stop = true;
        st.keys
            .values_mut()
            .for_each(|k| k.iter_mut().for_each(|b| *b = 0));
    }
}

/// A simulated ZT588-style PIN pad. Clones share one device.
#[derive(Clone)]
pub struct PinPadSim {
    inner: Arc<Inner>,
}

const TICK: Duration = Duration::from_millis(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

/// 3DES-ECB over whole 8-byte blocks with a 16- or 24-byte key.
fn tdes(key: &[u8], data: &[u8], encrypt: bool) -> Option<Vec<u8>> {
    if !data.len().is_multiple_of(8) {
        return None;
    }
    let mut out = data.to_vec();
    match key.len() {
        16 => {
            let c = TdesEde2::new_from_slice(key).ok()?;
            for block in out.chunks_mut(8) {
                let b = GenericArray::from_mut_slice(block);
                if encrypt {
                    c.encrypt_block(b)
                } else {
                    c.decrypt_block(b)
                }
            }
        }
        24 => {
            let c = TdesEde3::new_from_slice(key).ok()?;
            for block in out.chunks_mut(8) {
                let b = GenericArray::from_mut_slice(block);
                if encrypt {
                    c.encrypt_block(b)
                } else {
                    c.decrypt_block(b)
                }
            }
        }
        _ => return None,
    }
    Some(out)
}

fn frame(text: &[u8], corrupt: bool) -> Vec<u8> {
    let mut body = format!("{:03}", text.len()).into_bytes();
    body.extend_from_slice(text);
    body.push(ETX);
    let mut cc = body.iter().fold(0u8, |a, b| a ^ b);
    if corrupt {
        cc ^= 0x5A;
    }
    let mut out = vec![STX];
    out.extend_from_slice(&body);
    out.extend_from_slice(format!("{cc:02X}").as_bytes());
    out
}

impl PinPadSim {
    /// Opens a pseudo-terminal linked at `link_dir/name` with master key
    /// `tmk` (16 or 24 bytes) at index 00.
    pub fn start(link_dir: &Path, name: &str, tmk: &[u8]) -> anyhow::Result<PinPadSim> {
        if !matches!(tmk.len(), 16 | 24) {
            bail!("master key must be 16 or 24 bytes");
        }
        let pty = LinkedPty::open(link_dir, name)
            .with_context(|| format!("opening a pseudo-terminal for {name}"))?;
        let link = pty.link_path().to_path_buf();
        let mut keys = std::collections::BTreeMap::new();
        keys.insert(0x00, tmk.to_vec());
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                pty,
                keys,
                mask: b'*',
                input_enabled: false,
                entry: None,
                complete: false,
                blocks: 0,
                faults: Vec::new(),
                rx: Vec::new(),
                stop: false,
            }),
            thread: Mutex::new(None),
            link,
        });
        let weak = Arc::downgrade(&inner);
        let handle = std::thread::Builder::new()
            .name(format!("sim-{name}"))
            .spawn(move || {
                while let Some(inner) = weak.upgrade() {
                    if !serve_once(&inner) {
                        return;
                    }
                    drop(inner);
                    std::thread::sleep(TICK);
                }
            })
            .context("starting the PIN pad simulator thread")?;
        *inner
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        Ok(PinPadSim { inner })
    }

    /// The stable symlink a driver is configured with.
    pub fn path(&self) -> PathBuf {
        self.inner.link.clone()
    }

    /// Arms a one-shot fault.
    pub fn inject(&self, fault: PadFault) {
        self.inner.lock().faults.push(fault);
    }

    /// Presses keys as a resident would: `0`–`9` digits, `c` Clear,
    /// `x` Cancel, `e` Enter; anything else is an unlabelled key. Keys
    /// are only sent while the keypad is open (PIN entry or input on).
    pub fn press_keys(&self, keys: &str) -> anyhow::Result<()> {
        for k in keys.chars() {
            let mut st = self.inner.lock();
            let out = press(&mut st, k);
            if let Some(b) = out {
                let Some(line) = st.pty.pty() else {
                    bail!("PIN pad is unplugged");
                };
                line.write_all(&[b], WRITE_TIMEOUT)?;
            }
            drop(st);
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    /// Unplugs (closes the pair, removes the link) or replugs. A pad that
    /// loses power drops a running entry and its PIN.
    pub fn set_unplugged(&self, unplugged: bool) -> anyhow::Result<()> {
        let mut st = self.inner.lock();
        if unplugged {
            st.pty.unplug();
        } else if st.pty.is_unplugged() {
            st.pty.replug().context("opening a new pseudo-terminal")?;
        }
        st.entry = None;
        st.complete = false;
        st.input_enabled = false;
        st.rx.clear();
        Ok(())
    }

    /// A snapshot for the control API.
    pub fn state(&self) -> PinPadSimState {
        let st = self.inner.lock();
        PinPadSimState {
            unplugged: st.pty.is_unplugged(),
            input_enabled: st.input_enabled,
            entering: st
                .entry
                .as_ref()
                .filter(|_| !st.complete)
                .map(|e| (u8::try_from(e.digits.len()).unwrap_or(u8::MAX), e.length)),
            complete: st.complete,
            keys_loaded: st.keys.keys().map(|k| format!("{k:02X}")).collect(),
            pin_blocks_issued: st.blocks,
            mask: char::from(st.mask).to_string(),
            path: self.inner.link.display().to_string(),
        }
    }

    /// Stops serving and closes the pseudo-terminal. Idempotent.
    pub fn stop(&self) {
        self.inner.lock().stop = true;
        let handle = self
            .inner
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        self.inner.lock().pty.unplug();
    }
}

/// The byte a key press puts on the line, with the state change.
fn press(st: &mut State, k: char) -> Option<u8> {
    if let Some(entry) = st.entry.as_mut().filter(|_| !st.complete) {
        match k {
            '0'..='9' => {
                entry.digits.push(k as u8 - b'0');
                if entry.digits.len() >= usize::from(entry.length) {
                    st.complete = true;
                }
                Some(st.mask)
            }
            'c' => {
                entry.wipe();
                Some(0x08)
            }
            'x' => {
                st.entry = None;
                Some(0x1B)
            }
            'e' => Some(b'\r'),
            _ => Some(b'A'),
        }
    } else if st.input_enabled {
        // Plain input: the resident types a number that is not secret.
        Some(match k {
            '0'..='9' => k as u8,
            'c' => 0x08,
            'x' => 0x1B,
            'e' => b'\r',
            _ => b'A',
        })
    } else {
        None
    }
}

fn take_fault(st: &mut State, f: PadFault) -> bool {
    match st.faults.iter().position(|x| *x == f) {
        Some(i) => {
            st.faults.remove(i);
            true
        }
        None => false,
    }
}

fn serve_once(inner: &Inner) -> bool {
    let mut st = inner.lock();
    if st.stop {
        return false;
    }
    let mut buf = [0u8; 512];
    let n = match st.pty.pty() {
        Some(line) => line.read(&mut buf, Duration::from_millis(1)).unwrap_or(0),
        None => 0,
    };
    st.rx.extend_from_slice(buf.get(..n).unwrap_or_default());
    while let Some(text) = next_command(&mut st.rx) {
        let reply = match text {
            Ok(t) => respond(&mut st, &t),
            Err(()) => Some(vec![0xE9]),
        };
        let Some(reply) = reply else { continue };
        if take_fault(&mut st, PadFault::Silence) {
            continue;
        }
        let corrupt = take_fault(&mut st, PadFault::BadChecksum);
        let bytes = frame(&reply, corrupt);
        if let Some(line) = st.pty.pty()
            && let Err(e) = line.write_all(&bytes, WRITE_TIMEOUT)
        {
            tracing::debug!(error = %e, "PIN pad reply not delivered");
        }
    }
    true
}

/// Cuts one command frame from `rx`: `Ok(text)`, or `Err(())` for a frame
/// with a bad checksum. Bytes before STX are dropped.
fn next_command(rx: &mut Vec<u8>) -> Option<Result<Vec<u8>, ()>> {
    loop {
        let start = rx.iter().position(|&b| b == STX)?;
        rx.drain(..start);
        let len = std::str::from_utf8(rx.get(1..4)?)
            .ok()
            .and_then(|s| s.parse::<usize>().ok());
        let Some(len) = len else {
            rx.remove(0);
            continue;
        };
        let total = len + 7;
        if rx.len() < total {
            return None;
        }
        let f: Vec<u8> = rx.drain(..total).collect();
        let body = f.get(1..total - 2)?;
        let cc = body.iter().fold(0u8, |a, b| a ^ b);
        let sent = std::str::from_utf8(f.get(total - 2..)?)
            .ok()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if f.get(total - 3) != Some(&ETX) || sent != Some(cc) {
            return Some(Err(()));
        }
        return Some(Ok(f.get(4..total - 3)?.to_vec()));
    }
}

fn respond(st: &mut State, text: &[u8]) -> Option<Vec<u8>> {
    let (&cmd, args) = text.split_first()?;
    let ok = |rest: &[u8]| {
        let mut v = vec![OK];
        v.extend_from_slice(rest);
        Some(v)
    };
    match cmd {
        b'3' => {
            let mut info = vec![b' '; 50];
            info.extend_from_slice(hex(b"123\x1b456\x08789\x07.0#\rACEGBDFH").as_bytes());
            let settings = [0x00, 0x00, 30, st.mask, 1, 16, 0x33, b'7', 10, 0];
            info.extend_from_slice(hex(&settings).as_bytes());
            info.extend_from_slice(b"00000000ZT588 1.01.02612SIM1");
            ok(&info)
        }
        b'4' => match unhex(args) {
            Some(table) if table.len() == 24 => ok(b""),
            _ => Some(vec![0xE9]),
        },
        b'5' => {
            let (&param, value) = args.split_first()?;
            let value = unhex(value)?;
            match (param, value.as_slice()) {
                (b'0', [b'2']) => {
                    st.input_enabled = false;
                    st.entry = None;
                    st.complete = false;
                }
                (b'0', [b'3']) => st.input_enabled = true,
                (b'3', [m]) => st.mask = *m,
                (b'0' | b'2' | b'4' | b'5' | b'8', [_]) => {}
                _ => return Some(vec![0xEB]),
            }
            ok(b"")
        }
        b'2' => load_key(st, args),
        b'6' => start_entry(st, args),
        b'7' => pin_block(st),
        _ => Some(vec![0xEB]),
    }
}

fn hex_u8(s: &[u8]) -> Option<u8> {
    u8::from_str_radix(std::str::from_utf8(s).ok()?, 16).ok()
}

fn load_key(st: &mut State, args: &[u8]) -> Option<Vec<u8>> {
    let under = hex_u8(args.get(0..2)?)?;
    let index = hex_u8(args.get(2..4)?)?;
    let len_code = args.get(5)?.checked_sub(b'0')?;
    let Some(data) = unhex(args.get(6..)?) else {
        return Some(vec![0xE9]);
    };
    if usize::from(len_code) * 8 != data.len() || !matches!(len_code, 2 | 3) {
        return Some(vec![0xE3]);
    }
    let Some(master) = st.keys.get(&under) else {
        return Some(vec![0xE4]);
    };
    let Some(clear) = tdes(master, &data, false) else {
        return Some(vec![0xE5]);
    };
    let Some(kcv) = tdes(&clear, &[0u8; 8], true) else {
        return Some(vec![0xE7]);
    };
    st.keys.insert(index, clear);
    let mut v = vec![OK];
    v.extend_from_slice(hex(kcv.get(..4)?).as_bytes());
    Some(v)
}

fn start_entry(st: &mut State, args: &[u8]) -> Option<Vec<u8>> {
    let key_index = hex_u8(args.get(0..2)?)?;
    let format = *args.get(2)?;
    let length: u8 = std::str::from_utf8(args.get(4..6)?).ok()?.parse().ok()?;
    let pan12 = args.get(6..)?.to_vec();
    if format != b' ' || !(4..=12).contains(&length) {
        return Some(vec![0xEB]);
    }
    if pan12.len() != 12 || !pan12.iter().all(u8::is_ascii_digit) {
        return Some(vec![0xE9]);
    }
    if !st.keys.contains_key(&key_index) || key_index == 0 {
        return Some(vec![0xE4]);
    }
    st.entry = Some(Entry {
        key_index,
        length,
        pan12,
        digits: Vec::new(),
    });
    st.complete = false;
    Some(vec![OK])
}

fn pin_block(st: &mut State) -> Option<Vec<u8>> {
    if !st.complete {
        return Some(vec![0xE9]);
    }
    let mut entry = st.entry.take()?;
    st.complete = false;
    let key = st.keys.get(&entry.key_index)?;
    // ISO 9564-1 format 0.
    let mut pin_field = [0xFFu8; 8];
    let n = entry.digits.len();
    let mut nibbles = vec![0u8, u8::try_from(n).ok()?];
    nibbles.extend_from_slice(&entry.digits);
    for (i, nib) in nibbles.iter().enumerate() {
        let byte = pin_field.get_mut(i / 2)?;
        if i % 2 == 0 {
            *byte = (nib << 4) | (*byte & 0x0F);
        } else {
            *byte = (*byte & 0xF0) | nib;
        }
    }
    let mut pan_field = [0u8; 8];
    for (i, d) in entry.pan12.iter().enumerate() {
        let nib = d - b'0';
        let byte = pan_field.get_mut(2 + i / 2)?;
        *byte |= if i % 2 == 0 { nib << 4 } else { nib };
    }
    let mut clear: Vec<u8> = pin_field
        .iter()
        .zip(pan_field.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    let block = tdes(key, &clear, true);
    clear.iter_mut().for_each(|b| *b = 0);
    pin_field.iter_mut().for_each(|b| *b = 0);
    entry.wipe();
    let block = block?;
    st.blocks += 1;
    let mut v = vec![OK];
    v.extend_from_slice(format!("02{n:02}").as_bytes());
    v.extend_from_slice(hex(&block).as_bytes());
    Some(v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn frames_round_trip_and_bad_checksums_are_told_apart() {
        let mut rx = vec![b'*', b'*'];
        rx.extend(frame(b"3", false));
        rx.extend(frame(b"7", true));
        assert_eq!(next_command(&mut rx), Some(Ok(b"3".to_vec())));
        assert_eq!(next_command(&mut rx), Some(Err(())));
        assert_eq!(next_command(&mut rx), None);
        // 02 "001" "3" 03 CC with CC = '0'^'0'^'1'^'3'^03
        assert_eq!(frame(b"3", false), b"\x020013\x0301".to_vec());
    }

    #[test]
    fn tdes_known_answer() {
        // 3DES with K1=K2=K3 is single DES: the classic FIPS 81 vector.
        let k = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF];
        let key: Vec<u8> = k.iter().chain(k.iter()).copied().collect();
        let ct = tdes(&key, b"Now is t", true).unwrap();
        assert_eq!(hex(&ct), "3FA40E8A984D4815");
        assert_eq!(tdes(&key, &ct, false).unwrap(), b"Now is t");
    }
}
