//! Simulated `EF 01` fingerprint module (ZFM/R30x/AS608 family) on a
//! pseudo-terminal.
//!
//! The module's side of devices.md section 2, written without the
//! driver's code: [`wire`] cuts host packets and builds answers, this
//! module holds the state (finger on the sensor, image buffer, two
//! character buffers, a library of 300 pages, password, address, system
//! parameters) and answers every instruction of devices.md 2.2 except the
//! image download (0x0B).
//!
//! ## Fingers and cards share templates
//!
//! A demo person's finger yields the first 512 bytes of the fingerprint
//! features their simulated ID card carries ([`finger_template`] uses
//! [`SimCard::fingerprint`] itself), so their finger matches their own card
//! and nobody else's. Card features are 1024 bytes: two 512-byte templates,
//! the laid finger being the first.
//!
//! ## Sensor states ([`FingerState`])
//!
//! | state | GenImg 0x01 | Img2Tz 0x02 |
//! | --- | --- | --- |
//! | `none` | 0x02 no finger | 0x15 (no image) |
//! | `{"finger":"zhangwei"}` | 0x00 | 0x00, the person's template |
//! | `unknown` | 0x00 | 0x00, a template on no card |
//! | `poor` (wet finger) | 0x00 | 0x06 image too messy |
//!
//! Match answers 0x00 and a score when both buffers hold equal templates,
//! else 0x08; search answers the first equal page or 0x09; RegModel merges
//! equal buffers or answers 0x0A.
//!
//! ## Password and address
//!
//! With a password other than 0 every instruction but VfyPwd answers 0x21
//! until the password is verified (0x13 for a wrong one); setting a new
//! password from the control API, and unplugging, end the session.
//! Packets to another address are ignored, as a module on a shared bus
//! does. A host packet with a wrong sum is answered 0x01.
//!
//! ## Faults ([`FpFault`])
//!
//! One-shot: `bad_checksum` (the next answer's sum is wrong), `garbage`
//! (noise with start-code look-alikes before the next answer), `silence`
//! (the next command gets no answer and is not carried out),
//! `{"status": N}` (the next command other than VfyPwd answers code N
//! and is not carried out). [`FingerprintSim::set_unplugged`] closes the
//! pseudo-terminal and removes the symlink; replugging makes a new one.
//!
//! Data packets carry at most 128 bytes (the packet-size code is 2):
//! pyfingerprint compares sums without truncating to 16 bits.

pub mod wire;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::idcard::{SimCard, demo_person};
use crate::pty::{LinkedPty, Pty};
use wire::{Decoder, HostPacket};

/// Library size.
pub const CAPACITY: u16 = 300;

/// Template size in bytes.
pub const TEMPLATE_LEN: usize = 512;

/// Default module address.
pub const DEFAULT_ADDRESS: u32 = 0xFFFF_FFFF;

const TICK: Duration = Duration::from_millis(20);
const PLUG_WAIT: Duration = Duration::from_secs(3);

/// Image upload (0x0A): 256 × 288 pixels, 4 bits each.
const IMAGE_BYTES: usize = 256 * 288 / 2;

/// What lies on the sensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FingerState {
    /// Nothing.
    #[default]
    None,
    /// A finger whose template is on no card.
    Unknown,
    /// A wet or smudged finger: an image, but no usable template.
    Poor,
    /// The finger of a demo person (`zhangwei`, …); another key gives a
    /// template of its own that is on no card.
    Finger(String),
}

/// A one-shot fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FpFault {
    /// The next answer's sum is wrong.
    BadChecksum,
    /// Noise before the next answer.
    Garbage,
    /// The next command gets no answer.
    Silence,
    /// The next command (other than VfyPwd) answers this confirmation code.
    Status(u8),
}

/// What the control API shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FingerprintSimState {
    pub finger: FingerState,
    pub unplugged: bool,
    pub password_set: bool,
    pub verified: bool,
    pub template_count: usize,
    /// Occupied library pages.
    pub pages: Vec<u16>,
    pub capacity: u16,
    pub security_level: u16,
    /// GenImg answered with an image.
    pub images: u64,
    /// GenImg answered "no finger".
    pub empty_reads: u64,
    /// Commands answered.
    pub commands: u64,
}

/// The 512-byte template of a finger: the first template of the card
/// features of the demo person `key` (whether or not their card carries
/// them), or of a card that exists nowhere for another key.
pub fn finger_template(key: &str) -> Vec<u8> {
    let mut card = demo_person(key).unwrap_or_else(|| nobody_card(key));
    card.with_fingerprint = true;
    let mut t = card.fingerprint();
    t.truncate(TEMPLATE_LEN);
    t
}

fn nobody_card(key: &str) -> SimCard {
    SimCard {
        card_type: "resident".into(),
        name: String::new(),
        sex: String::new(),
        nation: String::new(),
        birth: String::new(),
        address: String::new(),
        id_number: format!("finger-without-card:{key}"),
        issuer: String::new(),
        valid_from: String::new(),
        valid_to: String::new(),
        with_fingerprint: true,
        name_en: None,
        nationality: None,
        pass_number: None,
        issue_count: None,
    }
}

fn template_of(finger: &FingerState) -> Option<Vec<u8>> {
    match finger {
        FingerState::None | FingerState::Poor => None,
        FingerState::Unknown => Some(finger_template("unknown")),
        FingerState::Finger(key) => Some(finger_template(key)),
    }
}

fn score(t: &[u8]) -> u16 {
    60 + u16::from(t.first().copied().unwrap_or(0)) % 140
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Image {
    Good(Vec<u8>),
    Poor,
}

struct State {
    finger: FingerState,
    image: Option<Image>,
    bufs: [Option<Vec<u8>>; 2],
    library: BTreeMap<u16, Vec<u8>>,
    notepad: BTreeMap<u8, Vec<u8>>,
    password: u32,
    verified: bool,
    address: u32,
    security_level: u16,
    baud_n: u16,
    packet_code: u16,
    /// DownChar in progress: buffer index and the bytes so far.
    receiving: Option<(usize, Vec<u8>)>,
    faults: Vec<FpFault>,
    images: u64,
    empty_reads: u64,
    commands: u64,
    random: u32,
    want_unplugged: bool,
    unplugged: bool,
    pts: Option<PathBuf>,
    stop: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            finger: FingerState::None,
            image: None,
            bufs: [None, None],
            library: BTreeMap::new(),
            notepad: BTreeMap::new(),
            password: 0,
            verified: false,
            address: DEFAULT_ADDRESS,
            security_level: 3,
            baud_n: 6,
            packet_code: 2,
            receiving: None,
            faults: Vec::new(),
            images: 0,
            empty_reads: 0,
            commands: 0,
            random: 0x2545_F491,
            want_unplugged: false,
            unplugged: false,
            pts: None,
            stop: false,
        }
    }
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct Inner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    link: PathBuf,
}

impl Inner {
    fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A simulated fingerprint module. Clones share one device.
#[derive(Clone)]
pub struct FingerprintSim {
    inner: Arc<Inner>,
}

impl FingerprintSim {
    /// Opens a pseudo-terminal, points `link_dir/name` at it and starts
    /// serving. `link_dir` is created when missing.
    pub fn start(link_dir: &Path, name: &str) -> anyhow::Result<FingerprintSim> {
        let pty = LinkedPty::open(link_dir, name).with_context(|| {
            format!(
                "opening a pseudo-terminal linked at {}",
                link_dir.join(name).display()
            )
        })?;
        let link = pty.link_path().to_path_buf();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pts: pty.slave_path().map(Path::to_path_buf),
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name(format!("sim-{name}"))
            .spawn(move || serve(&thread_shared, pty))
            .context("starting the fingerprint simulator thread")?;
        tracing::info!(link = %link.display(), "fingerprint module simulator started");
        Ok(FingerprintSim {
            inner: Arc::new(Inner {
                shared,
                thread: Mutex::new(Some(handle)),
                link,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.shared.lock()
    }

    /// The stable symlink a driver is configured with.
    pub fn path(&self) -> PathBuf {
        self.inner.link.clone()
    }

    /// The current `/dev/pts/N` (empty while unplugged).
    pub fn pts_path(&self) -> PathBuf {
        self.lock().pts.clone().unwrap_or_default()
    }

    /// Puts a finger on the sensor (or takes it away with
    /// [`FingerState::None`]).
    pub fn set_finger(&self, finger: FingerState) {
        let mut st = self.lock();
        let label = match &finger {
            FingerState::None => "none",
            FingerState::Unknown => "unknown",
            FingerState::Poor => "poor",
            FingerState::Finger(_) => "person",
        };
        tracing::info!(finger = label, "finger state changed");
        st.finger = finger;
    }

    /// Stores the template of `finger` at `page` in the library, as an
    /// earlier enrolment would have. Returns false for a page beyond the
    /// capacity or a finger without a template.
    pub fn store_template(&self, page: u16, finger: &FingerState) -> bool {
        match template_of(finger) {
            Some(t) if page < CAPACITY => {
                self.lock().library.insert(page, t);
                true
            }
            _ => false,
        }
    }

    /// Empties the library.
    pub fn clear_library(&self) {
        self.lock().library.clear();
    }

    /// Sets the module password (0 = none) and ends the verified session.
    pub fn set_password(&self, password: u32) {
        let mut st = self.lock();
        st.password = password;
        st.verified = false;
    }

    /// Arms a one-shot fault.
    pub fn inject(&self, fault: FpFault) {
        self.lock().faults.push(fault);
    }

    /// Unplugs (closes the pseudo-terminal, removes the symlink) or
    /// replugs (a new one, the symlink moved). Returns once applied.
    pub fn set_unplugged(&self, unplugged: bool) {
        let shared = &self.inner.shared;
        let mut st = shared.lock();
        st.want_unplugged = unplugged;
        shared.changed.notify_all();
        let deadline = Instant::now() + PLUG_WAIT;
        while st.unplugged != unplugged && !st.stop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(unplugged, "simulator did not apply the plug change in time");
                break;
            }
            st = shared
                .changed
                .wait_timeout(st, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// A snapshot for the control API.
    pub fn state(&self) -> FingerprintSimState {
        let st = self.lock();
        FingerprintSimState {
            finger: st.finger.clone(),
            unplugged: st.unplugged,
            password_set: st.password != 0,
            verified: st.verified,
            template_count: st.library.len(),
            pages: st.library.keys().copied().collect(),
            capacity: CAPACITY,
            security_level: st.security_level,
            images: st.images,
            empty_reads: st.empty_reads,
            commands: st.commands,
        }
    }

    /// Stops serving and closes the pseudo-terminal. Idempotent.
    pub fn stop(&self) {
        self.inner.stop();
    }
}

fn serve(shared: &Shared, mut pty: LinkedPty) {
    let mut decoder = Decoder::default();
    let mut buf = [0u8; 512];
    loop {
        {
            let mut st = shared.lock();
            if st.stop {
                return;
            }
            if st.want_unplugged != st.unplugged {
                if st.want_unplugged {
                    pty.unplug();
                } else if let Err(e) = pty.replug() {
                    tracing::error!(error = %e, "cannot open a new pseudo-terminal");
                }
                decoder = Decoder::default();
                st.unplugged = pty.is_unplugged();
                st.pts = pty.slave_path().map(Path::to_path_buf);
                // Power lost: session, image and buffers are gone.
                st.verified = false;
                st.image = None;
                st.bufs = [None, None];
                st.receiving = None;
                shared.changed.notify_all();
            }
            if st.unplugged {
                let _ = shared.changed.wait_timeout(st, TICK);
                continue;
            }
        }
        let Some(line) = pty.pty() else { continue };
        let n = match line.read(&mut buf, TICK) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "pseudo-terminal read failed");
                std::thread::sleep(TICK);
                0
            }
        };
        decoder.push(buf.get(..n).unwrap_or_default());
        while let Some(pkt) = decoder.next_packet() {
            let out = respond(&mut shared.lock(), pkt);
            if let Some(bytes) = out {
                send(line, &bytes);
            }
        }
    }
}

fn send(line: &mut Pty, bytes: &[u8]) {
    if let Err(e) = line.write_all(bytes, Duration::from_secs(2)) {
        tracing::debug!(error = %e, "answer not delivered");
    }
}

/// Noise with start-code look-alikes (`EF 01` followed by an impossible
/// packet type or length, and a lone `EF`).
const GARBAGE: [u8; 16] = [
    0x00, 0xEF, 0x55, 0xEF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x33, 0x00, 0x03, 0xEF, 0x01, 0x12, 0xEF,
];

fn take_fault(st: &mut State, pick: impl Fn(&FpFault) -> bool) -> Option<FpFault> {
    let i = st.faults.iter().position(pick)?;
    Some(st.faults.remove(i))
}

/// The module's answer to one host packet, faults applied.
fn respond(st: &mut State, pkt: HostPacket) -> Option<Vec<u8>> {
    let (address, kind, payload) = match pkt {
        HostPacket::BadSum { address } => {
            if address != st.address {
                return None;
            }
            st.receiving = None;
            return Some(wire::ack(st.address, 0x01, &[]));
        }
        HostPacket::Good {
            address,
            kind,
            payload,
        } => (address, kind, payload),
    };
    if address != st.address {
        return None;
    }
    if kind != wire::COMMAND {
        receive_data(st, kind, &payload);
        return None;
    }
    st.receiving = None;
    let instruction = payload.first().copied().unwrap_or(0);
    if take_fault(st, |f| *f == FpFault::Silence).is_some() {
        return None;
    }
    st.commands += 1;
    let forced = if instruction == 0x13 {
        None
    } else {
        take_fault(st, |f| matches!(f, FpFault::Status(_)))
    };
    let mut packets = match forced {
        Some(FpFault::Status(code)) => vec![wire::ack(st.address, code, &[])],
        _ => execute(st, instruction, payload.get(1..).unwrap_or_default()),
    };
    if let Some(first) = packets.first_mut() {
        if take_fault(st, |f| *f == FpFault::BadChecksum).is_some()
            && let Some(last) = first.last_mut()
        {
            *last ^= 0x5A;
        }
        if take_fault(st, |f| *f == FpFault::Garbage).is_some() {
            let mut noisy = GARBAGE.to_vec();
            noisy.append(first);
            *first = noisy;
        }
    }
    Some(packets.concat())
}

fn receive_data(st: &mut State, kind: u8, payload: &[u8]) {
    let Some((_, data)) = st.receiving.as_mut() else {
        return;
    };
    data.extend_from_slice(payload);
    if data.len() > 4 * TEMPLATE_LEN {
        st.receiving = None;
        return;
    }
    if kind == wire::END_DATA
        && let Some((idx, data)) = st.receiving.take()
        && let Some(slot) = st.bufs.get_mut(idx)
    {
        *slot = Some(data);
    }
}

fn buffer_index(id: u8) -> Option<usize> {
    match id {
        1 => Some(0),
        2 => Some(1),
        _ => None,
    }
}

fn u16_at(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

fn packet_size(st: &State) -> usize {
    32usize << st.packet_code.min(3)
}

/// Data packets carrying `data`, the last one marked as such.
fn data_packets(st: &State, data: &[u8]) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = data.chunks(packet_size(st)).collect();
    let last = chunks.len().saturating_sub(1);
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let kind = if i == last {
                wire::END_DATA
            } else {
                wire::DATA
            };
            wire::packet(st.address, kind, c)
        })
        .collect()
}

/// Carries out one instruction; the first packet is the acknowledge.
fn execute(st: &mut State, instruction: u8, params: &[u8]) -> Vec<Vec<u8>> {
    let a = st.address;
    let ack = |code: u8| vec![wire::ack(a, code, &[])];
    let ack_data = |code: u8, data: &[u8]| vec![wire::ack(a, code, data)];
    if st.password != 0 && !st.verified && instruction != 0x13 {
        return ack(0x21);
    }
    let buf_param = || params.first().copied().and_then(buffer_index);
    match instruction {
        // GenImg
        0x01 => match &st.finger {
            FingerState::None => {
                st.empty_reads += 1;
                st.image = None;
                ack(0x02)
            }
            FingerState::Poor => {
                st.images += 1;
                st.image = Some(Image::Poor);
                ack(0x00)
            }
            finger => {
                st.images += 1;
                st.image = template_of(finger).map(Image::Good);
                ack(0x00)
            }
        },
        // Img2Tz
        0x02 => {
            let Some(idx) = buf_param() else {
                return ack(0x1A);
            };
            match st.image.clone() {
                None => ack(0x15),
                Some(Image::Poor) => ack(0x06),
                Some(Image::Good(t)) => {
                    if let Some(slot) = st.bufs.get_mut(idx) {
                        *slot = Some(t);
                    }
                    ack(0x00)
                }
            }
        }
        // Match
        0x03 => match (&st.bufs[0], &st.bufs[1]) {
            (Some(x), Some(y)) if x == y => ack_data(0x00, &score(x).to_be_bytes()),
            _ => ack_data(0x08, &[0, 0]),
        },
        // Search, HiSpeedSearch
        0x04 | 0x1B => {
            let (Some(idx), Some(start), Some(count)) =
                (buf_param(), u16_at(params, 1), u16_at(params, 3))
            else {
                return ack(0x01);
            };
            let Some(Some(t)) = st.bufs.get(idx) else {
                return ack(0x09);
            };
            let end = u32::from(start) + u32::from(count);
            let hit = st
                .library
                .iter()
                .find(|(p, v)| {
                    u32::from(**p) >= u32::from(start) && u32::from(**p) < end && *v == t
                })
                .map(|(p, _)| *p);
            match hit {
                Some(page) => {
                    let mut d = page.to_be_bytes().to_vec();
                    d.extend_from_slice(&score(t).to_be_bytes());
                    ack_data(0x00, &d)
                }
                None => ack_data(0x09, &[0, 0, 0, 0]),
            }
        }
        // RegModel
        0x05 => match (&st.bufs[0], &st.bufs[1]) {
            (Some(x), Some(y)) if x == y => {
                let merged = x.clone();
                st.bufs = [Some(merged.clone()), Some(merged)];
                ack(0x00)
            }
            _ => ack(0x0A),
        },
        // Store
        0x06 => {
            let (Some(idx), Some(page)) = (buf_param(), u16_at(params, 1)) else {
                return ack(0x01);
            };
            if page >= CAPACITY {
                return ack(0x0B);
            }
            match st.bufs.get(idx).cloned().flatten() {
                Some(t) => {
                    st.library.insert(page, t);
                    ack(0x00)
                }
                None => ack(0x0C),
            }
        }
        // LoadChar
        0x07 => {
            let (Some(idx), Some(page)) = (buf_param(), u16_at(params, 1)) else {
                return ack(0x01);
            };
            if page >= CAPACITY {
                return ack(0x0B);
            }
            match st.library.get(&page).cloned() {
                Some(t) => {
                    if let Some(slot) = st.bufs.get_mut(idx) {
                        *slot = Some(t);
                    }
                    ack(0x00)
                }
                None => ack(0x0C),
            }
        }
        // UpChar
        0x08 => {
            let Some(idx) = buf_param() else {
                return ack(0x1A);
            };
            match st.bufs.get(idx).cloned().flatten() {
                Some(t) => {
                    let mut out = ack(0x00);
                    out.extend(data_packets(st, &t));
                    out
                }
                None => ack(0x0D),
            }
        }
        // DownChar
        0x09 => {
            let Some(idx) = buf_param() else {
                return ack(0x1A);
            };
            st.receiving = Some((idx, Vec::new()));
            ack(0x00)
        }
        // UpImage
        0x0A => match &st.image {
            None => ack(0x15),
            Some(img) => {
                let seed = match img {
                    Image::Good(t) => t.first().copied().unwrap_or(0),
                    Image::Poor => 0x77,
                };
                let pixels: Vec<u8> = (0..IMAGE_BYTES)
                    .map(|i| ((i / 128) as u8).wrapping_add(seed) | 0x11)
                    .collect();
                let mut out = ack(0x00);
                out.extend(data_packets(st, &pixels));
                out
            }
        },
        // DeletChar
        0x0C => {
            let (Some(page), Some(count)) = (u16_at(params, 0), u16_at(params, 2)) else {
                return ack(0x01);
            };
            if u32::from(page) + u32::from(count) > u32::from(CAPACITY) {
                return ack(0x10);
            }
            for p in page..page.saturating_add(count) {
                st.library.remove(&p);
            }
            ack(0x00)
        }
        // Empty
        0x0D => {
            st.library.clear();
            ack(0x00)
        }
        // SetSysPara
        0x0E => {
            let (Some(reg), Some(value)) = (params.first(), params.get(1)) else {
                return ack(0x01);
            };
            let value = u16::from(*value);
            match reg {
                4 if (1..=12).contains(&value) => st.baud_n = value,
                5 if (1..=5).contains(&value) => st.security_level = value,
                6 if value <= 3 => st.packet_code = value,
                4..=6 => return ack(0x1B),
                _ => return ack(0x1A),
            }
            ack(0x00)
        }
        // ReadSysPara
        0x0F => {
            let mut d = Vec::with_capacity(16);
            d.extend_from_slice(&0x0004u16.to_be_bytes());
            d.extend_from_slice(&0x0009u16.to_be_bytes());
            d.extend_from_slice(&CAPACITY.to_be_bytes());
            d.extend_from_slice(&st.security_level.to_be_bytes());
            d.extend_from_slice(&st.address.to_be_bytes());
            d.extend_from_slice(&st.packet_code.to_be_bytes());
            d.extend_from_slice(&st.baud_n.to_be_bytes());
            ack_data(0x00, &d)
        }
        // SetPwd
        0x12 => match params.get(..4) {
            Some(&[p0, p1, p2, p3]) => {
                st.password = u32::from_be_bytes([p0, p1, p2, p3]);
                ack(0x00)
            }
            _ => ack(0x01),
        },
        // VfyPwd
        0x13 => match params.get(..4) {
            Some(&[p0, p1, p2, p3]) if u32::from_be_bytes([p0, p1, p2, p3]) == st.password => {
                st.verified = true;
                ack(0x00)
            }
            Some(_) => ack(0x13),
            None => ack(0x01),
        },
        // GetRandomCode
        0x14 => {
            let mut x = st.random;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            st.random = x;
            ack_data(0x00, &x.to_be_bytes())
        }
        // SetAdder: the answer already comes from the new address.
        0x15 => match params.get(..4) {
            Some(&[p0, p1, p2, p3]) => {
                st.address = u32::from_be_bytes([p0, p1, p2, p3]);
                vec![wire::ack(st.address, 0x00, &[])]
            }
            _ => ack(0x01),
        },
        // WriteNotepad
        0x18 => match (params.first(), params.get(1..33)) {
            (Some(&page), Some(data)) if page < 16 => {
                st.notepad.insert(page, data.to_vec());
                ack(0x00)
            }
            (Some(_), Some(_)) => ack(0x1C),
            _ => ack(0x01),
        },
        // ReadNotepad
        0x19 => match params.first() {
            Some(&page) if page < 16 => {
                let data = st
                    .notepad
                    .get(&page)
                    .cloned()
                    .unwrap_or_else(|| vec![0; 32]);
                ack_data(0x00, &data)
            }
            Some(_) => ack(0x1C),
            None => ack(0x01),
        },
        // TemplateNum
        0x1D => {
            let n = u16::try_from(st.library.len()).unwrap_or(u16::MAX);
            ack_data(0x00, &n.to_be_bytes())
        }
        // ReadIndexTable
        0x1F => match params.first() {
            Some(&page) if page < 4 => {
                let mut bits = [0u8; 32];
                for p in st.library.keys() {
                    let p = usize::from(*p);
                    if p / 256 == usize::from(page)
                        && let Some(byte) = bits.get_mut((p % 256) / 8)
                    {
                        *byte |= 1 << (p % 8);
                    }
                }
                ack_data(0x00, &bits)
            }
            Some(_) => ack(0x0B),
            None => ack(0x01),
        },
        _ => ack(0x19),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn cmd(ins: u8, params: &[u8]) -> HostPacket {
        let mut payload = vec![ins];
        payload.extend_from_slice(params);
        HostPacket::Good {
            address: DEFAULT_ADDRESS,
            kind: wire::COMMAND,
            payload,
        }
    }

    fn code(out: &Option<Vec<u8>>) -> u8 {
        out.as_ref().unwrap()[9]
    }

    #[test]
    fn fingers_match_their_own_card_only() {
        let zw = demo_person("zhangwei").unwrap();
        assert_eq!(finger_template("zhangwei"), zw.fingerprint()[..512]);
        let wh = demo_person("wanghaoran").unwrap();
        assert_ne!(finger_template("zhangwei"), wh.fingerprint()[..512]);
        assert_ne!(finger_template("unknown"), zw.fingerprint()[..512]);
        assert_eq!(finger_template("lixiuying").len(), 512);
    }

    #[test]
    fn capture_convert_match_and_password() {
        let mut st = State::default();
        assert_eq!(code(&respond(&mut st, cmd(0x01, &[]))), 0x02);
        assert_eq!(code(&respond(&mut st, cmd(0x02, &[1]))), 0x15);
        st.finger = FingerState::Poor;
        assert_eq!(code(&respond(&mut st, cmd(0x01, &[]))), 0x00);
        assert_eq!(code(&respond(&mut st, cmd(0x02, &[1]))), 0x06);
        st.finger = FingerState::Finger("zhangwei".into());
        respond(&mut st, cmd(0x01, &[]));
        assert_eq!(code(&respond(&mut st, cmd(0x02, &[1]))), 0x00);
        assert_eq!(code(&respond(&mut st, cmd(0x03, &[]))), 0x08);
        assert_eq!(code(&respond(&mut st, cmd(0x02, &[2]))), 0x00);
        assert_eq!(code(&respond(&mut st, cmd(0x03, &[]))), 0x00);
        st.password = 7;
        assert_eq!(code(&respond(&mut st, cmd(0x1D, &[]))), 0x21);
        assert_eq!(code(&respond(&mut st, cmd(0x13, &[0, 0, 0, 8]))), 0x13);
        assert_eq!(code(&respond(&mut st, cmd(0x13, &[0, 0, 0, 7]))), 0x00);
        assert_eq!(code(&respond(&mut st, cmd(0x1D, &[]))), 0x00);
        assert_eq!(code(&respond(&mut st, cmd(0x77, &[]))), 0x19);
    }

    #[test]
    fn control_api_names() {
        let f: FingerState = serde_json::from_str(r#"{"finger":"zhangwei"}"#).unwrap();
        assert_eq!(f, FingerState::Finger("zhangwei".into()));
        for (json, want) in [
            (r#""unknown""#, FingerState::Unknown),
            (r#""poor""#, FingerState::Poor),
            (r#""none""#, FingerState::None),
        ] {
            assert_eq!(serde_json::from_str::<FingerState>(json).unwrap(), want);
            assert_eq!(serde_json::to_string(&want).unwrap(), json);
        }
        let f: FpFault = serde_json::from_str(r#"{"status":24}"#).unwrap();
        assert_eq!(f, FpFault::Status(0x18));
        let f: FpFault = serde_json::from_str(r#""bad_checksum""#).unwrap();
        assert_eq!(f, FpFault::BadChecksum);
    }

    #[test]
    fn upchar_sends_128_byte_packets() {
        let mut st = State::default();
        st.bufs[0] = Some(vec![0xFF; 512]);
        let out = respond(&mut st, cmd(0x08, &[1])).unwrap();
        // Ack (12) + 4 × (11 + 128).
        assert_eq!(out.len(), 12 + 4 * 139);
        assert_eq!(out[12 + 3 * 139 + 6], wire::END_DATA);
    }
}
